// ddi.test.mjs - seed STEP 3-1 in a browser, in a lab where DDI cannot
// capture live (the browser tests' labs never do): the trainee opens the
// lab's download site, which says it hands DDI a capture of each download,
// downloads Sample SO2, and finds it in DDI's console under Detections >
// Suspicious Objects; Administration > Monitoring / Capture says how DDI saw
// the download. Every DDI page is visited, and the Japanese menu words.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { logIn, openPage, retry, screenshot, withPage } from './lib/browser.mjs';
import { browserLab, readyFile, row as tableRow } from './lib/samples.mjs';

let site; // the download site's URL (DDI's `downloads` listener)
const env = browserLab((lab) => { site = readyFile(lab, 'ddi').listeners.downloads; });

const row = (page, text) => tableRow(page, '#page table.grid', text);
const open = (page, hashPath) => openPage(page, env.lab.consoles.ddi.url, hashPath);

// The Suspicious Objects row whose object is value.
function objectRow(page, value) {
  return page.locator('#page table.grid tbody tr',
    { has: page.locator('code.so-object', { hasText: value }) });
}

describe('DDI console and the STEP 3-1 download site', () => {
  it('a browser download of Sample SO2 ends in DDI\'s Suspicious Objects', { timeout: 60000 }, async (t) => {
    const c = env.lab.consoles.ddi;
    await withPage(env.browser, t, async (page) => {
      await page.goto(site);
      assert.match(await page.locator('#mode').textContent(), /hands DDI a capture of each download/);
      await screenshot(page, 'ddi-download-site');
      const [download] = await Promise.all([page.waitForEvent('download'),
        page.locator('a#sample_so2').click()]);
      assert.equal(download.suggestedFilename(), 'sample_so2.exe');
      const sha1 = createHash('sha1').update(readFileSync(await download.path())).digest('hex')
        .toUpperCase();
      await page.reload();
      assert.match(await page.locator('#served').textContent(), /Sample SO2.*capture hand-off/);
      await screenshot(page, 'ddi-download-site-after');

      await logIn(page, c.url, c.user, c.password);
      // the analysis runs in the background: reload until the object is listed
      const so = objectRow(page, sha1);
      await retry(page, () => open(page, '/detections/suspicious-objects'), async () => (await so.count()) > 0,
        `${sha1} in the Suspicious Objects`);
      assert.match(await so.textContent(), /File.*High/);
      assert.match(await page.locator('#page .msg').first().textContent(), /hands DDI a capture/);
      await screenshot(page, 'ddi-suspicious-objects');

      await open(page, '/detections/all');
      assert.match(await row(page, 'sample_so2.exe').textContent(), new RegExp(sha1));
      await screenshot(page, 'ddi-detections');
      await open(page, '/administration/monitoring');
      assert.match(await page.locator('#capture-state').textContent(), /Off/);
      assert.match(await row(page, 'Sample SO2').textContent(), /Capture hand-off/);
      await screenshot(page, 'ddi-monitoring');
      await open(page, '/administration/virtual-analyzer');
      await screenshot(page, 'ddi-virtual-analyzer');
      await open(page, '/dashboard');
      await screenshot(page, 'ddi-dashboard');
    });
  });

  it('shows the seed\'s Japanese menu words', { timeout: 60000 }, async (t) => {
    const c = env.lab.consoles.ddi;
    await withPage(env.browser, t, async (page) => {
      await logIn(page, c.url, c.user, c.password);
      await page.locator('#lang').selectOption('ja');
      await page.locator('#menu .branch', { hasText: '検出' }).click();
      assert.equal(await page.locator('#menu a[data-path="/detections/suspicious-objects"]').textContent(),
        '不審オブジェクト');
      await open(page, '/detections/suspicious-objects');
      assert.equal(await page.locator('#page h1').textContent(), '不審オブジェクト');
      await screenshot(page, 'ddi-suspicious-objects-ja');
    });
  });
});
