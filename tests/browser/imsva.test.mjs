// imsva.test.mjs - IMSVA's console as a trainee walks the seed, in a real
// lab: STEP 1 done entirely in the console (plus SMTP for the mail): tick
// ATSE, add the rule at order 2 through the wizard, send the Sample SO, find
// the quarantine event by rule name in Log Query; the IMSVA parts of STEP 2
// (Control Manager Server page, the policy event of the TMCM rule) and STEP 4
// (the web reputation rule through the wizard, the policy event of the TMCM
// URL rule); and the Japanese console with the seed's labels. What the seed
// does on the other appliances (TMCM's Set action, SPS's Sync now) goes
// through their JSON APIs here; steps.test.mjs does it in their consoles.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'playwright-core';
import { startLab } from './lib/lab.mjs';
import { launchBrowser, logIn, openMenu, retry as until, withPage } from './lib/browser.mjs';
import { addTrueFileTypeRule, addWebReputationRule, queryLogs, sendMail } from './lib/imsva.mjs';
import { URL_SO } from './lib/samples.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const BINDIR = path.resolve(ROOT, process.env.CTDLAB_BINDIR || 'bin');
const STEP1_RULE = 'STEP1-2 Sample SO to DDAN';
const STEP4_RULE = 'STEP4-1 Web Reputation';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

// A JSON API session at another appliance (what its console would do).
async function applianceApi(consoleInfo) {
  const base = new URL('/', consoleInfo.url).href;
  const ctx = await request.newContext({ baseURL: base, ignoreHTTPSErrors: true });
  const r = await ctx.post('api/login', { data: { username: consoleInfo.user, password: consoleInfo.password } });
  assert.equal(r.status(), 200, await r.text());
  const { token } = await r.json();
  const call = async (method, p, data) => {
    const res = await ctx.fetch(p.replace(/^\//, ''), { method, data,
      headers: { Authorization: `Bearer ${token}` } });
    assert.ok(res.ok(), `${method} ${p}: ${res.status()} ${await res.text()}`);
    return res.json();
  };
  return { call, dispose: () => ctx.dispose() };
}

describe('IMSVA console: the seed in a browser', () => {
  let lab;
  let samples;
  let imsva;
  before(() => {
    lab = startLab();
    imsva = lab.consoles.imsva;
    samples = path.join(lab.dir, 'samples');
    execFileSync(path.join(BINDIR, 'dtascli'), ['--make-samples', samples]);
  });
  after(() => lab?.stop());

  const send = (...args) => sendMail(lab, ...args);

  it('STEP 1: ATSE, the rule at order 2 through the wizard, the quarantine event', async (t) => {
    await withPage(browser, t, async (page) => {
      await logIn(page, imsva.url, imsva.user, imsva.password);
      // 1-1 Policy > Scan Engine
      await openMenu(page, '/policy/scan-engine');
      await page.locator('#atse').check();
      await page.locator('#save').click();
      await page.locator('#page .msg-ok').waitFor();
      await page.reload();
      await page.locator('#atse').waitFor();
      assert.equal(await page.locator('#atse').isChecked(), true);
      // 1-2 Policy > Policy List > Add > Other
      await openMenu(page, '/policy/policy-list');
      await addTrueFileTypeRule(page, 'en', STEP1_RULE, 2);
      const row = page.locator('#page tr', { hasText: STEP1_RULE });
      assert.equal((await row.locator('td').first().textContent()).trim(), '2');
      // 1-3 send the Sample SO; Logs > Log Query: quarantine events by rule name
      send('--subject', 'STEP1 Sample SO', '--attach', path.join(samples, 'sample_so.exe'));
      await openMenu(page, '/logs/log-query');
      const rows = await queryLogs(page, 'quarantine', STEP1_RULE, STEP1_RULE);
      assert.ok(rows.some((r) => r.includes('STEP1 Sample SO')), rows.join('\n'));
      // a row opens its detail
      await page.locator('#log-results tbody tr', { hasText: STEP1_RULE }).first().click();
      const detail = page.locator('dialog.dialog');
      await detail.waitFor();
      assert.match(await detail.textContent(), /Analyzed advanced threat|Probable advanced threat/);
      await page.keyboard.press('Escape');
    });
  });

  it('STEP 2: the Control Manager Server page and the TMCM rule\'s policy event', async (t) => {
    const sha1 = createHash('sha1').update(readFileSync(path.join(samples, 'sample_so.exe')))
      .digest('hex').toUpperCase();
    // 2-1..2-3 outside IMSVA: TMCM has the SO from DDAN; Set action -> Block
    const tmcm = await applianceApi(lab.consoles.tmcm);
    let so;
    for (let i = 0; i < 120 && !so; i++) {
      await tmcm.call('POST', '/api/sync');
      const list = await tmcm.call('GET', `/api/va-objects?q=${sha1}`);
      so = list.items.find((x) => x.value.toUpperCase() === sha1);
      if (!so) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(so, 'TMCM never listed the Sample SO from DDAN');
    const { change_id: blockChange } = await tmcm.call('POST', '/api/va-objects/action',
      { ids: [so.id], action: 'block' });
    await tmcm.dispose();
    await withPage(browser, t, async (page) => {
      await logIn(page, imsva.url, imsva.user, imsva.password);
      // 2-4 Administration > IMSVA Configuration > Connections > Control Manager Server
      await openMenu(page, '/administration/imsva-configuration/connections');
      await page.locator('#tab-tmcm').click();
      assert.equal(await page.locator('#tmcm-server').textContent(), new URL(lab.consoles.tmcm.url).origin);
      await page.locator('#tmcm-sync').click();
      await until(page, () => page.locator('#tmcm-refresh').click(), async () =>
        Number(await page.locator('#tmcm-change-number').textContent()) >= blockChange,
      `IMSVA's change number to reach ${blockChange}`);
      assert.notEqual(await page.locator('#tmcm-last-sync').textContent(), 'Never');
      assert.match(await page.locator('#tmcm-objects').textContent(), /FILE: [1-9]/);
      // 2-5 the sample again: quarantined by the TMCM rule (policy events)
      send('--subject', 'STEP2 Sample SO again', '--attach', path.join(samples, 'sample_so.exe'));
      await openMenu(page, '/logs/log-query');
      const rows = await queryLogs(page, 'policy', '', 'STEP2 Sample SO again');
      const hit = rows.find((r) => r.includes('STEP2 Sample SO again'));
      assert.match(hit, /TMCM_Suspicious File detection rule/);
      assert.match(hit, /quarantined/);
    });
  });

  it('STEP 4: the web reputation rule through the wizard and the TMCM URL rule\'s policy event', async (t) => {
    await withPage(browser, t, async (page) => {
      await logIn(page, imsva.url, imsva.user, imsva.password);
      // 4-1 Add > Other: all users; Web Reputation (spam and its level ticked with it; 4-1.8 unticks the level)
      await openMenu(page, '/policy/policy-list');
      await addWebReputationRule(page, 'en', STEP4_RULE, 3);
      const rules = await (await page.request.get(new URL('/api/policies', imsva.url).href)).json();
      const rule = rules.find((r) => r.name === STEP4_RULE);
      assert.equal(rule.order, 3);
      assert.deepEqual(rule.route.recipients, []);
      assert.equal(rule.conditions.web_reputation.enabled, true);
      assert.notEqual(rule.conditions.spam?.enabled, true, 'spam detection stays off');
      assert.equal(rule.actions.intercept.action, 'quarantine');
      // 4-2..4-4 outside IMSVA: the URL is a Block SO at TMCM; SPS syncs it
      const tmcm = await applianceApi(lab.consoles.tmcm);
      await tmcm.call('POST', '/api/udso', { type: 'url', content: URL_SO, scan_action: 'block' });
      await tmcm.dispose();
      const sps = await applianceApi(lab.consoles.sps);
      for (let i = 0; i < 120; i++) {
        const st = await sps.call('POST', '/api/so/sync');
        if (st.objects?.url > 0 || st.objects?.URL > 0) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      await sps.dispose();
      // 4-5 a mail with the URL: quarantined by the TMCM URL rule
      send('--subject', 'STEP4 URL SO', '--url', URL_SO);
      await openMenu(page, '/logs/log-query');
      const rows = await queryLogs(page, 'policy', '', 'STEP4 URL SO');
      assert.match(rows.find((r) => r.includes('STEP4 URL SO')), /TMCM_Suspicious URL detection rule/);
    });
  });

  it('pages: dashboard, quarantine view and release, rule copy/reorder/edit/delete, queues, test connection', async (t) => {
    await withPage(browser, t, async (page) => {
      await logIn(page, imsva.url, imsva.user, imsva.password);
      await openMenu(page, '/dashboard');
      assert.notEqual(await page.locator('#count-quarantined').textContent(), '0');
      await openMenu(page, '/mail-areas/quarantine');
      const row = page.locator('#q-results tbody tr', { hasText: 'STEP1 Sample SO' });
      await row.getByRole('button', { name: 'View' }).click();
      assert.match(await page.locator('#message-source').textContent(), /Subject: STEP1 Sample SO/);
      await page.keyboard.press('Escape');
      // Release delivers it: it leaves the quarantine
      const released = page.locator('#q-results tbody tr', { hasText: 'STEP4 URL SO' });
      await released.getByRole('button', { name: 'Release' }).click();
      await page.locator('dialog.dialog').getByRole('button', { name: 'OK' }).click();
      await released.waitFor({ state: 'detached' });
      // Policy List: Copy, reorder, Edit (the wizard keeps the rule), Delete;
      // the built-in TMCM rules cannot be deleted
      await openMenu(page, '/policy/policy-list');
      const builtin = page.locator('#page tr', { hasText: 'TMCM_Suspicious File detection rule' });
      assert.equal(await builtin.getByRole('button', { name: 'Delete' }).isDisabled(), true);
      await page.locator('#page tr', { hasText: STEP4_RULE }).first()
        .getByRole('button', { name: 'Copy' }).click();
      const copy = page.locator('#page tr', { hasText: `Copy of ${STEP4_RULE}` });
      await copy.waitFor();
      const last = Number(await copy.locator('td').first().textContent());
      await copy.getByRole('button', { name: 'Move up' }).click();
      await until(page, async () => {}, async () =>
        Number(await copy.locator('td').first().textContent()) === last - 1, 'the copy one up');
      await copy.getByRole('button', { name: 'Edit' }).click();
      assert.equal(await page.locator('#recipients-summary').textContent(), 'All users');
      await page.locator('#wizard-next').click();
      assert.equal(await page.locator('#cond-wrs').isChecked(), true);
      await page.locator('#wizard-next').click();
      assert.equal(await page.locator('#intercept-quarantine').isChecked(), true);
      await page.locator('#wizard-next').click();
      assert.equal(await page.locator('#rule-name').inputValue(), `Copy of ${STEP4_RULE}`);
      await page.locator('#rule-name').fill('Edited copy');
      await page.locator('#wizard-finish').click();
      const edited = page.locator('#page tr', { hasText: 'Edited copy' });
      await edited.getByRole('button', { name: 'Delete' }).click();
      await page.locator('dialog.dialog').getByRole('button', { name: 'OK' }).click();
      await edited.waitFor({ state: 'detached' });
      await openMenu(page, '/mail-areas/va-queue');
      await openMenu(page, '/mail-areas/delivery-queue');
      await openMenu(page, '/administration/imsva-configuration/connections');
      for (const peer of ['sps', 'ddan']) {
        await page.locator(`#tab-${peer}`).click();
        await page.locator(`#${peer}-test`).click();
        await page.locator('#conn-status .msg-ok').waitFor();
        assert.equal(await page.locator(`#${peer}-status`).textContent(), 'online');
      }
      assert.notEqual(await page.locator('#ddan-api-key').textContent(), '-');
    });
  });
});

describe('IMSVA console in Japanese', () => {
  let lab;
  before(() => {
    lab = startLab({ locale: 'ja' });
  });
  after(() => lab?.stop());

  it('shows the seed\'s labels: menus, Log Query types, the wizard, built-in rules', async (t) => {
    const c = lab.consoles.imsva;
    await withPage(browser, t, async (page) => {
      await logIn(page, c.url, c.user, c.password);
      const menu = await page.locator('#menu').textContent();
      for (const label of ['ポリシー', 'ログ', '管理'])
        assert.ok(menu.includes(label), `menu: ${menu}`);
      await openMenu(page, '/policy/scan-engine');
      assert.equal(await page.locator('#page h1').textContent(), '検索エンジン');
      await openMenu(page, '/logs/log-query');
      const types = await page.locator('#log-type option').allTextContents();
      assert.ok(types.includes('隔離イベント') && types.includes('ポリシーイベント'), types.join());
      assert.equal(await page.locator('#show-logs').textContent(), 'ログ表示');
      await openMenu(page, '/policy/policy-list');
      assert.equal(await page.locator('#page h1').textContent(), 'ポリシーリスト');
      assert.ok((await page.locator('#page table').textContent()).includes('TMCM_不審ファイル検出ルール'));
      await page.locator('#add-rule').click();
      assert.equal(await page.locator('#add-other').textContent(), 'その他');
      await page.locator('#add-other').click();
      assert.equal(await page.locator('#edit-recipients').textContent(), '受信者');
      await page.locator('#wizard-next').click();
      assert.equal(await page.locator('#open-tft').textContent(), '実ファイルタイプ');
      assert.ok((await page.locator('#page').textContent()).includes('Webレピュテーション設定'));
      await page.locator('#wizard-next').click();
      assert.ok((await page.locator('#page').textContent()).includes('次の場所に隔離'));
      await page.locator('#wizard-next').click();
      assert.ok((await page.locator('#page').textContent()).includes('ルールの照会順序番号'));
      assert.equal(await page.locator('#wizard-finish').textContent(), '完了');
      await page.locator('#wizard-cancel').click();
      await openMenu(page, '/administration/imsva-configuration/connections');
      assert.equal(await page.locator('#tab-tmcm').textContent(), 'Control Manager サーバ');
      assert.ok((await page.locator('#page').textContent()).includes('同期時刻'));
    });
  });
});
