// steps.test.mjs - the seed's four STEPs end to end in ONE lab, in order, as
// a class walks them (docs/training.md, shared/seed/walkthrough.md): every
// console action is done in its console by the words on the screen; only the
// mails (SMTP, `ctdlab send`) and `dtascli -b` happen outside the browser.
// STEP 2 builds on STEP 1's mail (IMSVA sent the Sample SO to DDAN), STEP 3
// downloads Sample SO2 from DDI's download site (the capture hand-off: no
// capture privileges needed), STEP 4 reads DDAN's API key for dtascli. A
// second lab with `[lab] locale = ja` walks STEP 1 and STEP 2 again by the
// seed's Japanese labels.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startLab } from './lib/lab.mjs';
import { escapeRegExp, followMenu, inLanguage, launchBrowser, logIn, retry, screenshot, withPage } from './lib/browser.mjs';
import { addTrueFileTypeRule, addWebReputationRule, queryLogs, sendMail } from './lib/imsva.mjs';
import { URL_SO, readyFile, row, submitSeedSamples, until } from './lib/samples.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const BINDIR = path.resolve(ROOT, process.env.CTDLAB_BINDIR || 'bin');

// What the trainee reads and clicks, [English, Japanese]: the menu paths
// and words of docs/training.md (the Japanese as the seed words it).
const WORDS = {
  scanEngine: [['Policy', 'Scan Engine'], ['ポリシー', '検索エンジン']],
  policyList: [['Policy', 'Policy List'], ['ポリシー', 'ポリシーリスト']],
  logQuery: [['Logs', 'Log Query'], ['ログ', 'ログクエリ']],
  connections: [['Administration', 'IMSVA Configuration', 'Connections'], ['管理', 'IMSVA 設定', '接続']],
  ddanObjects: [['Virtual Analyzer', 'Suspicious Objects'], ['仮想アナライザ', '不審オブジェクト']],
  ddanAbout: [['Help', 'About'], ['ヘルプ', 'バージョン']],
  tmcmObjects: [['Administration', 'Suspicious Objects', 'Virtual Analyzer Objects'],
    ['運用管理', '不審オブジェクト', '仮想アナライザオブジェクト']],
  ddiObjects: [['Detections', 'Suspicious Objects'], ['検出', '不審オブジェクト']],
  spsObjects: [['Smart Protection', 'Suspicious Objects'], ['Smart Protection', '不審オブジェクト']],
  atse: ['Enable Advanced Threat Scan Engine (ATSE)', '高度な脅威検索エンジン (ATSE) を有効にする'],
  save: ['Save', '保存'],
  quarantineEvents: ['Quarantine events', '隔離イベント'],
  policyEvents: ['Policy events', 'ポリシーイベント'],
  showLogs: ['Show logs', 'ログ表示'],
  refresh: ['Refresh', '更新'],
  controlManagerServer: ['Control Manager Server', 'Control Manager サーバ'],
  imsvaSyncNow: ['Sync now', '今すぐ同期'],
  spsSyncNow: ['Sync Now', '今すぐ同期'],
  setAction: ['Set action', '処理を設定'],
  block: ['Block', 'ブロック'],
  apply: ['Apply', '適用'],
  applyAction: ['Apply action', '処理を適用'],
  change: [/\(change (\d+)\)/, /\(変更番号 (\d+)\)/],
  fileRule: ['TMCM_Suspicious File detection rule', 'TMCM_不審ファイル検出ルール'],
  urlRule: ['TMCM_Suspicious URL detection rule', 'TMCM_不審URL検出ルール'],
  step1Rule: ['STEP1-2 Sample SO to DDAN', 'STEP1-2 サンプルSOをDDANへ'],
  step4Rule: ['STEP4-1 Web Reputation', 'STEP4-1 Webレピュテーション'],
};
const words = (lang) => ({ lang, ...inLanguage(WORDS, lang) });

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

function sha1Of(file) {
  return createHash('sha1').update(readFileSync(file)).digest('hex');
}

// A lab for one class: started before its STEPs, the seed's samples made
// (`dtascli --make-samples`), stopped after. Returns {lab, samples}, filled in then.
function classLab(settings) {
  const env = {};
  before(() => {
    env.lab = startLab(settings);
    env.samples = path.join(env.lab.dir, 'samples');
    execFileSync(path.join(BINDIR, 'dtascli'), ['--make-samples', env.samples]);
  });
  after(() => env.lab?.stop());
  return env;
}

// Open appliance's console, logging in unless this STEP already has.
async function logInTo(page, lab, appliance) {
  const c = lab.consoles[appliance];
  await page.goto(c.url);
  await page.locator('input[name=username], #menu a').first().waitFor();
  if (await page.locator('input[name=username]').count()) await logIn(page, c.url, c.user, c.password);
}

function button(page, name) {
  return page.getByRole('button', { name, exact: true });
}

// Logs > Log Query: the type as the console names it, the date range (today
// and tomorrow, in the browser's time zone: the class's day), Show logs until
// the row of the mail with `subject` is there; resolves to that row's text.
async function logQuery(page, w, type, rule, subject) {
  await followMenu(page, w.logQuery);
  const [from, to] = await page.evaluate(() => {
    const at = (days, hh, mm) => {
      const d = new Date();
      d.setDate(d.getDate() + days);
      d.setHours(hh, mm, 0, 0);
      const p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(hh)}:${p(mm)}`;
    };
    return [at(0, 0, 0), at(1, 23, 59)];
  });
  await page.locator('#log-from').fill(from);
  await page.locator('#log-to').fill(to);
  assert.equal(await page.locator('#show-logs').textContent(), w.showLogs);
  const rows = await queryLogs(page, { label: type }, rule, subject);
  return rows.find((r) => r.includes(subject));
}

// STEP 1 in IMSVA's console: 1-1 ATSE, 1-2 the rule at order 2, 1-3 the
// Sample SO mailed, its quarantine event found by the rule's name.
async function step1(page, env, w) {
  await logInTo(page, env.lab, 'imsva');
  await followMenu(page, w.scanEngine);
  await page.getByLabel(w.atse, { exact: true }).check();
  await button(page, w.save).click();
  await page.locator('#page .msg-ok').waitFor();
  await screenshot(page, `step1-1-scan-engine-${w.lang}`);
  await followMenu(page, w.policyList);
  await addTrueFileTypeRule(page, w.lang, w.step1Rule, 2);
  const rule = page.locator('#page tr', { hasText: w.step1Rule });
  assert.equal((await rule.locator('td').first().textContent()).trim(), '2');
  sendMail(env.lab, '--subject', 'STEP1 Sample SO', '--attach', path.join(env.samples, 'sample_so.exe'));
  const event = await logQuery(page, w, w.quarantineEvents, w.step1Rule, 'STEP1 Sample SO');
  assert.ok(event.includes(w.step1Rule), event);
  await screenshot(page, `step1-3-quarantine-event-${w.lang}`);
}

// A Suspicious Objects row of DDAN's or DDI's console whose object is value.
function objectRow(page, value) {
  return page.locator('#page table.grid tbody tr',
    { has: page.locator('code.so-object', { hasText: new RegExp(`^${escapeRegExp(value)}$`, 'i') }) });
}

// In DDAN's (or DDI's) console, Suspicious Objects: press Refresh until the
// object is listed; its row's text.
async function generatedObject(page, w, menu, value) {
  await followMenu(page, menu);
  const so = objectRow(page, value);
  await retry(page, async () => {
    await button(page, w.refresh).click(); // the old table goes at once
    await page.locator('#page table.grid').waitFor();
  }, async () => (await so.count()) > 0, `${value} in the Suspicious Objects`);
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true,
    'the list fits the window (no sideways scrolling)');
  return so.textContent();
}

// TMCM > Virtual Analyzer Objects: find the object synchronised from source
// (filters Source and "Object contains"), then, with every source shown
// again (its Source column names the source that saw it first: DDI for
// Sample SO2, which DDAN reports too), tick it, Set action → Block → Apply, then Apply
// action; the list shows Block. Resolves to {change, applied}: the change
// number the message gives, when Apply action was clicked.
async function blockInTmcm(page, lab, w, value, source) {
  await logInTo(page, lab, 'tmcm');
  await followMenu(page, w.tmcmObjects);
  await page.locator('#va-q').fill(value);
  await page.locator('#va-source').selectOption(source);
  await page.locator('#va-search').click();
  await page.locator(`#va-table[data-query*="source=${source}"]`).waitFor();
  const so = row(page, '#va-table', value);
  await until(page, '#va-search', async () => (await so.count()) > 0, `${value} from ${source} at TMCM`);
  await screenshot(page, `tmcm-synchronised-${source}-${w.lang}`);
  await page.locator('#va-source').selectOption('');
  await page.locator('#va-search').click();
  await page.locator('#va-table:not([data-query*="source="])').waitFor();
  assert.equal(await so.locator('.first-source').textContent(), source);
  await so.locator('input.tick').check();
  await button(page, w.setAction).click();
  await page.locator('dialog label', { hasText: w.block }).click();
  await screenshot(page, `tmcm-set-action-${source}-${w.lang}`);
  await page.locator('dialog').getByRole('button', { name: w.apply, exact: true }).click();
  await page.locator('#page h1', { hasText: w.applyAction }).waitFor();
  const applied = Math.floor(Date.now() / 1000) * 1000;
  await button(page, w.applyAction).click();
  const notice = await page.locator('#va-notice .msg-ok').textContent();
  assert.match(notice, w.change);
  assert.equal(await so.locator('td:nth-child(6)').textContent(), w.block);
  await screenshot(page, `tmcm-blocked-${source}-${w.lang}`);
  return { change: Number(notice.match(w.change)[1]), applied };
}

// IMSVA > ... > Connections > Control Manager Server: Sync now, then read
// the last synchronisation that brought changes until it is later than
// TMCM's change and its change number has reached it (the synchronisation
// time alone moves on every poll).
async function imsvaSynced(page, lab, w, { change, applied }) {
  await logInTo(page, lab, 'imsva');
  await followMenu(page, w.connections);
  await page.locator('#page [id^=tab-]', { hasText: w.controlManagerServer }).click();
  await button(page, w.imsvaSyncNow).click();
  await retry(page, () => page.locator('#tmcm-refresh').click(), async () => {
    const synced = await page.locator('#tmcm-last-change time').getAttribute('datetime').catch(() => null);
    return synced !== null && Date.parse(synced) >= applied &&
      Number(await page.locator('#tmcm-change-number').textContent()) >= change;
  }, `IMSVA's synchronisation after TMCM's change ${change}`);
  await screenshot(page, `imsva-control-manager-${change}-${w.lang}`);
}

// STEP 2: 2-1 DDAN made the SO of STEP 1's Sample SO, 2-2/2-3 TMCM has it
// from DDAN and blocks it, 2-4 IMSVA synchronised, 2-5 the Sample SO again:
// quarantined by the TMCM suspicious file rule.
async function step2(page, env, w) {
  const sha1 = sha1Of(path.join(env.samples, 'sample_so.exe'));
  await logInTo(page, env.lab, 'ddan');
  const so = await generatedObject(page, w, w.ddanObjects, sha1);
  assert.match(so, /High|高/);
  await screenshot(page, `step2-1-ddan-objects-${w.lang}`);
  const blocked = await blockInTmcm(page, env.lab, w, sha1, 'DDAN');
  await imsvaSynced(page, env.lab, w, blocked);
  sendMail(env.lab, '--subject', 'STEP2 Sample SO again', '--attach', path.join(env.samples, 'sample_so.exe'));
  const event = await logQuery(page, w, w.policyEvents, '', 'STEP2 Sample SO again');
  assert.ok(event.includes(w.fileRule), event);
  await screenshot(page, `step2-5-policy-event-${w.lang}`);
}

// STEP 3: 3-1 a browser downloads Sample SO2 from the download site (DDI
// gets the capture hand-off) and DDI > Suspicious Objects lists it, 3-2/3-3
// TMCM has it from DDI and blocks it, 3-4 IMSVA synchronised, 3-5 the
// downloaded sample mailed: quarantined by the TMCM suspicious file rule.
async function step3(page, env, w) {
  await page.goto(readyFile(env.lab, 'ddi').listeners.downloads);
  assert.match(await page.locator('#mode').textContent(), /hands DDI a capture of each download/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a#sample_so2').click()]);
  const dir = path.join(env.lab.dir, 'downloads');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, download.suggestedFilename());
  await download.saveAs(file);
  assert.equal(sha1Of(file), sha1Of(path.join(env.samples, 'sample_so2.exe')));
  const sha1 = sha1Of(file);
  await logInTo(page, env.lab, 'ddi');
  const so = await generatedObject(page, w, w.ddiObjects, sha1);
  assert.match(so, /File.*High/);
  await screenshot(page, 'step3-1-ddi-objects');
  const blocked = await blockInTmcm(page, env.lab, w, sha1, 'DDI');
  await imsvaSynced(page, env.lab, w, blocked);
  sendMail(env.lab, '--subject', 'STEP3 Sample SO2', '--attach', file);
  const event = await logQuery(page, w, w.policyEvents, '', 'STEP3 Sample SO2');
  assert.ok(event.includes(w.fileRule), event);
}

// STEP 4: 4-1 IMSVA's web reputation rule, 4-2 DDAN's API key from Help >
// About into dtascli's config.ini, `dtascli -b`, DDAN lists the URL SO,
// 4-3 TMCM blocks it, 4-4 SPS > Suspicious Objects: Sync Now until the URL
// is there as Block, 4-5 a mail with the URL: quarantined by the TMCM
// suspicious URL rule.
async function step4(page, env, w) {
  await logInTo(page, env.lab, 'imsva');
  await followMenu(page, w.policyList);
  await addWebReputationRule(page, w.lang, w.step4Rule, 3);
  await logInTo(page, env.lab, 'ddan');
  await followMenu(page, w.ddanAbout);
  submitSeedSamples(env.lab, (await page.locator('#api-key').textContent()).trim());
  const so = await generatedObject(page, w, w.ddanObjects, URL_SO);
  assert.match(so, /URL.*High/);
  await screenshot(page, 'step4-2-ddan-url-object');
  const blocked = await blockInTmcm(page, env.lab, w, URL_SO, 'DDAN');
  await logInTo(page, env.lab, 'sps');
  await followMenu(page, w.spsObjects);
  assert.equal(await page.locator('#sync-now').textContent(), w.spsSyncNow);
  const spsRow = row(page, '#so-table', URL_SO);
  await until(page, '#sync-now', async () =>
    (await spsRow.count()) > 0 && (await spsRow.locator('td:nth-child(4)').textContent()) === w.block,
  'the URL SO as Block at SPS');
  assert.ok(Date.parse(await page.locator('#so-last-sync time').getAttribute('datetime')) >= blocked.applied);
  await screenshot(page, 'step4-4-sps-objects');
  await logInTo(page, env.lab, 'imsva');
  sendMail(env.lab, '--subject', 'STEP4 URL SO', '--url', URL_SO);
  const event = await logQuery(page, w, w.policyEvents, '', 'STEP4 URL SO');
  assert.ok(event.includes(w.urlRule), event);
  await screenshot(page, 'step4-5-policy-event');
}

describe('the seed\'s four STEPs in one lab', () => {
  const env = classLab({});
  const w = words('en');
  it('STEP 1: IMSVA and DDAN detect and quarantine the Sample SO', async (t) => {
    await withPage(browser, t, (page) => step1(page, env, w));
  });
  it('STEP 2: the SO DDAN made from it, blocked at TMCM, quarantines the Sample SO', async (t) => {
    await withPage(browser, t, (page) => step2(page, env, w));
  });
  it('STEP 3: the SO DDI made from a browser download of Sample SO2 quarantines it', async (t) => {
    await withPage(browser, t, (page) => step3(page, env, w));
  });
  it('STEP 4: the URL SO, through TMCM and SPS, quarantines a mail carrying the URL', async (t) => {
    await withPage(browser, t, (page) => step4(page, env, w));
  });
});

describe('STEP 1 and STEP 2 in Japanese ([lab] locale = ja)', () => {
  const env = classLab({ locale: 'ja' });
  const w = words('ja');
  it('STEP 1 by the seed\'s Japanese labels', async (t) => {
    await withPage(browser, t, (page) => step1(page, env, w));
  });
  it('STEP 2 by the seed\'s Japanese labels', async (t) => {
    await withPage(browser, t, (page) => step2(page, env, w));
  });
});
