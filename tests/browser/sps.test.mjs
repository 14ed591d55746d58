// sps.test.mjs - SPS's console in a real lab (seed STEP 4-4): Smart
// Protection > Suspicious Objects shows the source (Control Manager), its
// status, counts by type and the synchronized time, "Sync Now" brings DDAN's
// URL object over TMCM and moves the time, "Test Connection"; the
// Approved/Blocked URL list with Test URL; Web Reputation's log of the
// queries clients made with their rating; Summary; the seed's Japanese labels.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withPage } from './lib/browser.mjs';
import { URL_SO, openConsole, readyFile, row, seededLab, until } from './lib/samples.mjs';

const SO = '#/smart-protection/suspicious-objects';

const env = seededLab();

describe('SPS console', () => {
  it('Suspicious Objects: source, status, counts by type; Sync Now moves the time; Test Connection', async (t) => {
    await withPage(env.browser, t, async (page) => {
      const c = await openConsole(page, env.lab, 'sps', SO);
      await page.locator('#so-counts').waitFor();
      assert.equal(await page.locator('#so-source').textContent(), 'Control Manager');
      assert.match(await page.locator('#so-url').textContent(), /^https:\/\//);
      await until(page, '#sync-now', async () => (await row(page, '#so-table', URL_SO).count()) > 0,
        'the URL SO from TMCM');
      assert.equal(await page.locator('#so-status').textContent(), 'Connected');
      const urlCount = await row(page, '#so-counts', 'URL').locator('td:nth-child(2)').textContent();
      assert.ok(Number(urlCount) >= 1, `URL objects: ${urlCount}`);
      assert.ok(Number(await row(page, '#so-counts', 'Total').locator('td:nth-child(2)').textContent()) >= 3);

      // the time shown moves to this sync (it has one-second precision)
      const clicked = Math.floor(Date.now() / 1000) * 1000;
      await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/so/sync')),
        page.locator('#sync-now').click()]);
      await page.waitForFunction((since) => {
        const shown = document.querySelector('#so-last-sync time');
        return shown && Date.parse(shown.dateTime) >= since;
      }, clicked);

      await page.locator('#test-connection').click();
      await page.locator('#so-notice .msg-ok', { hasText: 'Connection successful' }).waitFor();
    });
  });

  it('Approved/Blocked URLs: add a block rule, Test URL rates it Dangerous, delete it', async (t) => {
    await withPage(env.browser, t, async (page) => {
      const c = await openConsole(page, env.lab, 'sps', '#/smart-protection/approved-blocked-urls');
      await page.locator('#rule-add').click();
      await page.locator('#rule-pattern').fill('blocked.example.lab');
      await page.locator('#rule-action').selectOption('block');
      await page.locator('#rule-save').click();
      await row(page, '#rules-table', 'blocked.example.lab').waitFor();
      await page.locator('#test-url').fill('http://www.blocked.example.lab/page');
      await page.locator('#test-go').click();
      await page.locator('#test-rating', { hasText: 'Dangerous' }).waitFor();
      await row(page, '#rules-table', 'blocked.example.lab').getByRole('button', { name: 'Delete' }).click();
      await page.locator('dialog button', { hasText: 'OK' }).click();
      await page.locator('#rules-table tr.empty').waitFor();
    });
  });

  it('Web Reputation: the queries clients made, with their rating', async (t) => {
    const wrs = readyFile(env.lab, 'sps').listeners.wrs;
    const rated = await (await fetch(`${wrs}/wrs/v1/query?url=${encodeURIComponent(URL_SO)}`)).json();
    assert.equal(rated.source, 'suspicious_object');
    await withPage(env.browser, t, async (page) => {
      const c = await openConsole(page, env.lab, 'sps', '#/smart-protection/web-reputation');
      const entry = row(page, '#wrs-table', URL_SO).first();
      await entry.waitFor();
      assert.equal(await entry.locator('td:nth-child(2)').textContent(), '127.0.0.1');
      assert.equal(await entry.locator('td:nth-child(4)').textContent(), rated.rating);
      assert.equal(await entry.locator('td:nth-child(7)').textContent(), 'Suspicious object');

      await page.goto(`${c.url}#/dashboard`);
      await page.locator('#sum-status').waitFor();
      assert.equal(await page.locator('#sum-product').textContent(), 'Smart Protection Server');
      assert.ok(Number(await page.locator('#sum-queries').textContent()) >= 1);
    });
  });

  it('in Japanese: [Smart Protection] > [不審オブジェクト], 同期された時刻, 今すぐ同期', async (t) => {
    await withPage(env.browser, t, async (page) => {
      const c = await openConsole(page, env.lab, 'sps', '#/dashboard');
      await page.locator('#lang').selectOption('ja');
      assert.equal(await page.locator('#menu [data-path="/smart-protection"]').textContent(), 'Smart Protection');
      assert.equal(await page.locator('#menu [data-path="/smart-protection/suspicious-objects"]').textContent(),
        '不審オブジェクト');
      await page.goto(`${c.url}${SO}`);
      await page.locator('#so-counts').waitFor();
      assert.equal(await page.locator('#sync-now').textContent(), '今すぐ同期');
      assert.ok((await page.locator('#so-body label').allTextContents()).includes('同期された時刻'));
    });
  });
});
