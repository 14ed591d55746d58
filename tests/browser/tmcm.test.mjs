// tmcm.test.mjs - TMCM's console in a real lab, as the seed walks it (STEP
// 2-2/2-3, 3-2/3-3, 4-3): the objects DDAN made from the seed samples (sent
// with `dtascli -b`, outside the browser as in STEP 4-2) reach Administration
// > Suspicious Objects > Virtual Analyzer Objects; the type and source
// filters; tick → Set action → Block → Apply → Apply action, and the list
// shows Block; User-Defined Objects add / edit / delete, CSV export and
// import; Exceptions; Product Directory; Automation API key regenerate; the
// same screens in Japanese with the seed's labels.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { withPage } from './lib/browser.mjs';
import { URL_SO, openConsole, row, seededLab, until } from './lib/samples.mjs';

const VA = '#/administration/suspicious-objects/virtual-analyzer-objects';
const UDSO = '#/administration/suspicious-objects/user-defined-objects';

// Search the VA list by type and source; resolves once the table shows it.
async function search(page, type, source = '') {
  await page.locator('#va-type').selectOption(type);
  await page.locator('#va-source').selectOption(source);
  await page.locator('#va-search').click();
  const want = new URLSearchParams({ limit: 25, offset: 0 });
  if (type) want.set('type', type);
  if (source) want.set('source', source);
  await page.locator(`#va-table[data-query="/api/va-objects?${want}"]`).waitFor();
}

async function column(page, table, index) {
  return page.locator(`${table} tbody tr td:nth-child(${index})`).allTextContents();
}

const env = seededLab();

describe('TMCM console', () => {
  it('Virtual Analyzer Objects: synced from DDAN, filters, Set action → Block → Apply action', async (t) => {
    await withPage(env.browser, t, async (page) => {
      const c = await openConsole(page, env.lab, 'tmcm', VA);
      await page.locator('#va-table').waitFor();
      await until(page, '#va-search', async () => (await row(page, '#va-table', URL_SO).count()) > 0,
        'the URL SO from DDAN');
      assert.equal(await row(page, '#va-table', URL_SO).locator('td:nth-child(4)').textContent(), 'DDAN');
      assert.equal(await row(page, '#va-table', URL_SO).locator('td:nth-child(6)').textContent(), 'Log');

      await search(page, 'URL');
      assert.deepEqual([...new Set(await column(page, '#va-table', 3))], ['URL']);
      await search(page, 'FILE', 'DDAN');
      assert.deepEqual([...new Set(await column(page, '#va-table', 3))], ['File']);
      assert.deepEqual([...new Set(await column(page, '#va-table', 4))], ['DDAN']);
      await search(page, '');

      // the seed's screens: tick, Set action, Block, Apply, then Apply action
      await row(page, '#va-table', URL_SO).locator('input.tick').check();
      await page.locator('#set-action').click();
      await page.locator('dialog input[name=va-action][value=block]').check();
      assert.match(await page.locator('dialog').textContent(), /IMSVA quarantines/);
      await page.locator('#va-expiry').selectOption('never');
      await page.locator('#set-action-apply').click();
      await page.locator('#page h1', { hasText: 'Apply action' }).waitFor();
      assert.equal(await row(page, '#page table', URL_SO).locator('td:nth-child(4)').textContent(), 'Block');
      await page.locator('#apply-action').click();
      await page.locator('#va-notice .msg-ok').waitFor();
      assert.equal(await row(page, '#va-table', URL_SO).locator('td:nth-child(6)').textContent(), 'Block');
      assert.equal(await row(page, '#va-table', URL_SO).locator('td:nth-child(7)').textContent(), 'Never');
      const api = await page.evaluate(async (v) =>
        (await (await fetch(`/api/va-objects?q=${encodeURIComponent(v)}&type=URL`)).json()).items[0], URL_SO);
      assert.equal(api.action, 'block');
      assert.equal(api.expires, null);
    });
  });

  it('User-Defined Objects: add, edit, CSV export and import, delete', async (t) => {
    await withPage(env.browser, t, async (page) => {
      const c = await openConsole(page, env.lab, 'tmcm', UDSO);
      await page.locator('#udso-table').waitFor();
      await page.locator('#udso-add').click();
      await page.locator('#udso-type').selectOption('domain');
      await page.locator('#udso-content').fill('evil-udso.lab');
      await page.locator('#udso-action').selectOption('block');
      await page.locator('#udso-notes').fill('by hand');
      await page.locator('#udso-save').click();
      await row(page, '#udso-table', 'evil-udso.lab').waitFor();
      assert.equal(await row(page, '#udso-table', 'evil-udso.lab').locator('td:nth-child(3)').textContent(), 'Block');

      await row(page, '#udso-table', 'evil-udso.lab').getByRole('button', { name: 'Edit' }).click();
      await page.locator('#udso-action').selectOption('log');
      await page.locator('#udso-save').click();
      await row(page, '#udso-table', 'evil-udso.lab').locator('td:nth-child(3)', { hasText: 'Log' }).waitFor();

      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#udso-export').click()]);
      const csv = readFileSync(await download.path(), 'utf8');
      assert.match(csv, /^Type,Object,Action,Expiration \(UTC\),Notes\r\n/);
      assert.match(csv, /domain,evil-udso\.lab,log,,by hand\r\n/);

      await page.locator('#udso-import').click();
      await page.locator('#udso-csv').setInputFiles({ name: 'objects.csv', mimeType: 'text/csv',
        buffer: Buffer.from('Type,Object,Action,Expiration (UTC),Notes\nip,10.9.8.7,block,,from csv\nip,not-an-ip,log\n') });
      await page.locator('#udso-import-go').click();
      await page.locator('#udso-notice .msg', { hasText: 'Imported' }).waitFor();
      assert.match(await page.locator('#udso-notice').textContent(), /Imported 1 object\(s\); 1 line\(s\) failed\.Line 3/);
      await row(page, '#udso-table', '10.9.8.7').waitFor();

      await row(page, '#udso-table', 'evil-udso.lab').getByRole('button', { name: 'Delete' }).click();
      await page.locator('dialog button', { hasText: 'OK' }).click();
      await page.locator('#udso-notice .msg-ok', { hasText: 'Deleted evil-udso.lab' }).waitFor();
      assert.equal(await row(page, '#udso-table', 'evil-udso.lab').count(), 0);
    });
  });

  it('Exceptions, Product Directory and Automation API Access Settings', async (t) => {
    await withPage(env.browser, t, async (page) => {
      const c = await openConsole(page, env.lab, 'tmcm', '#/administration/suspicious-objects/exceptions');
      await page.locator('#exc-type').selectOption('DOMAIN');
      await page.locator('#exc-value').fill('*.trusted.lab');
      await page.locator('#exc-add').click();
      await row(page, '#exc-table', '*.trusted.lab').waitFor();
      await row(page, '#exc-table', '*.trusted.lab').getByRole('button', { name: 'Delete' }).click();
      await page.locator('dialog button', { hasText: 'OK' }).click();
      await page.locator('#exc-table tr.empty').waitFor();

      await page.goto(`${c.url}#/directories/product-directory`);
      await page.locator('#dir-table').waitFor();
      await until(page, '#dir-refresh', async () => (await row(page, '#dir-table', 'IMSVA').count()) > 0 &&
        (await row(page, '#dir-table', 'SPS').count()) > 0, 'IMSVA and SPS in the Product Directory');
      assert.equal(await row(page, '#dir-table', 'Deep Discovery Analyzer').locator('td:nth-child(5)').textContent(), 'Online');
      assert.equal(await row(page, '#dir-table', 'Deep Discovery Inspector').count(), 1);
      assert.match(await row(page, '#dir-table', 'IMSVA').locator('td:nth-child(3)').textContent(), /Subscriber/);

      await page.goto(`${c.url}#/administration/settings/automation-api-access-settings`);
      const before = await page.locator('#api-key').textContent();
      assert.match(before, /^[0-9A-F-]{36}$/);
      await page.locator('#regenerate').click();
      await page.locator('dialog button', { hasText: 'OK' }).click();
      await page.locator('#auto-notice .msg-ok').waitFor();
      const fresh = await page.locator('#api-key').textContent();
      assert.match(fresh, /^[0-9A-F-]{36}$/);
      assert.notEqual(fresh, before);
    });
  });

  it('in Japanese: the seed\'s menu path and labels (運用管理 > 不審オブジェクト > 仮想アナライザオブジェクト)', async (t) => {
    await withPage(env.browser, t, async (page) => {
      const c = await openConsole(page, env.lab, 'tmcm', '#/dashboard');
      await page.locator('#lang').selectOption('ja');
      const menu = (p) => page.locator(`#menu [data-path="${p}"]`).textContent();
      assert.equal(await menu('/administration'), '運用管理');
      assert.equal(await menu('/administration/suspicious-objects'), '不審オブジェクト');
      assert.equal(await menu('/administration/suspicious-objects/virtual-analyzer-objects'), '仮想アナライザオブジェクト');
      await page.goto(`${c.url}${VA}`);
      await page.locator('#va-table').waitFor();
      assert.equal(await page.locator('#set-action').textContent(), '処理を設定');
      assert.ok((await page.locator('#va-table thead th').allTextContents()).includes('検出時の処理'));
      assert.equal(await row(page, '#va-table', URL_SO).locator('td:nth-child(6)').textContent(), 'ブロック');
      await row(page, '#va-table', URL_SO).locator('input.tick').check();
      await page.locator('#set-action').click();
      assert.match(await page.locator('dialog').textContent(), /ブロック: IMSVA 上で隔離します/);
      await page.locator('#set-action-apply').click();
      assert.equal(await page.locator('#apply-action').textContent(), '処理を適用');
      await page.locator('#apply-back').click();
    });
  });
});
