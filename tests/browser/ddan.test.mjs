// ddan.test.mjs - DDAN's console in a real lab, as the seed uses it: Help >
// About gives the API key for dtascli's config.ini (STEP 4-2), `dtascli -b`
// submits the seed samples, Virtual Analyzer > Submissions lists them (the
// detail page downloads the report), Suspicious Objects shows the URL SO
// (STEP 2-1 / 4-2) with Never Expire and Expire Now, Exceptions add and
// delete; and the Japanese menu words of the seed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { logIn, openPage, screenshot, withPage } from './lib/browser.mjs';
import { URL_SO as SEED_URL, browserLab, readyFile, row as tableRow, submitSeedSamples } from './lib/samples.mjs';

const env = browserLab();

// The row of the table in #page whose text contains text.
const row = (page, text) => tableRow(page, '#page table.grid', text);
const open = (page, hashPath) => openPage(page, env.lab.consoles.ddan.url, hashPath);

describe('DDAN console', () => {
  it('walks About, Submissions, the report, Suspicious Objects and Exceptions', { timeout: 60000 }, async (t) => {
    const c = env.lab.consoles.ddan;
    await withPage(env.browser, t, async (page) => {
      await logIn(page, c.url, c.user, c.password);
      await screenshot(page, 'ddan-dashboard');

      await open(page, '/help/about');
      const key = (await page.locator('#api-key').textContent()).trim();
      assert.equal(key, readyFile(env.lab, 'ddan').info.api_key);
      await screenshot(page, 'ddan-about');
      const out = submitSeedSamples(env.lab, key);
      assert.match(out, /url_test\.html/);

      await open(page, '/virtual-analyzer/submissions');
      await row(page, 'url_test.html').waitFor();
      assert.match(await row(page, 'url_test.html').textContent(), /Done.*High/);
      await screenshot(page, 'ddan-submissions');
      await row(page, 'url_test.html').click();
      await page.locator('#detail-sha1').waitFor();
      await screenshot(page, 'ddan-submission');
      const sha1 = (await page.locator('#detail-sha1').textContent()).trim();
      const [download] = await Promise.all([page.waitForEvent('download'),
        page.locator('#report-download').click()]);
      assert.equal(download.suggestedFilename(), `${sha1}_report.xml`);
      const report = readFileSync(await download.path(), 'utf8');
      assert.match(report, /<REPORTS/);

      await open(page, '/virtual-analyzer/suspicious-objects');
      const urlRow = row(page, SEED_URL);
      await urlRow.waitFor();
      assert.match(await urlRow.textContent(), /High/);
      await screenshot(page, 'ddan-suspicious-objects');
      const task = async (text, id) => {
        await row(page, text).locator('input.pick').check();
        await page.locator(id).click();
      };
      await task(SEED_URL, '#so-never');
      await row(page, SEED_URL).filter({ hasText: 'Never' }).waitFor();
      await task(SEED_URL, '#so-expire');
      await row(page, SEED_URL).waitFor({ state: 'detached' });

      const domainRow = row(page, 'malicious.ctdlab.test').filter({ hasText: 'Domain' });
      await domainRow.locator('input.pick').check();
      await page.locator('#so-except').click();
      await domainRow.waitFor({ state: 'detached' });
      await open(page, '/virtual-analyzer/exceptions');
      const exception = row(page, 'malicious.ctdlab.test');
      await exception.waitFor();
      await screenshot(page, 'ddan-exceptions');
      await exception.locator('button', { hasText: 'Delete' }).click();
      await exception.waitFor({ state: 'detached' });

      await open(page, '/dashboard');
      await screenshot(page, 'ddan-dashboard-after');
    });
  });

  it('shows the seed\'s Japanese menu words', { timeout: 60000 }, async (t) => {
    const c = env.lab.consoles.ddan;
    await withPage(env.browser, t, async (page) => {
      await logIn(page, c.url, c.user, c.password);
      await page.locator('#lang').selectOption('ja');
      const menu = page.locator('#menu');
      for (const word of ['仮想アナライザ', 'ヘルプ']) await menu.locator('.branch', { hasText: word }).click();
      assert.equal(await menu.locator('a[data-path="/virtual-analyzer/suspicious-objects"]').textContent(),
        '不審オブジェクト');
      assert.equal(await menu.locator('a[data-path="/help/about"]').textContent(), 'バージョン');
      await open(page, '/virtual-analyzer/suspicious-objects');
      assert.equal(await page.locator('#page h1').textContent(), '不審オブジェクト');
      await screenshot(page, 'ddan-suspicious-objects-ja');
      await open(page, '/help/about');
      assert.match(await page.locator('#page').textContent(), /API キー:/);
    });
  });
});
