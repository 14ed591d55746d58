// imsva.mjs - what a trainee does in IMSVA's console for the seed, shared by
// the IMSVA console tests and the STEP walks: the policy wizard's two rules
// (STEP 1-2: true file type to the Virtual Analyzer, quarantine; STEP 4-1:
// web reputation with spam detection off, quarantine), a Log Query that waits
// for its event, and the mail sent to IMSVA's SMTP listener (the one action
// of the seed outside the browser besides `dtascli -b`).
import assert from 'node:assert/strict';
import { ctdlab } from './lab.mjs';
import { inLanguage, retry } from './browser.mjs';

// Mail to IMSVA (`ctdlab send`): args as `--subject S --attach FILE`.
export function sendMail(lab, ...args) {
  ctdlab(lab.dir, ['send', '--to', 'victim@lab.test', ...args], { config: lab.config });
}

// On Logs > Log Query: the type (its value, or {label} as shown) and the
// rule; Show logs until a row contains `expect`; resolves to the rows' texts.
export async function queryLogs(page, type, rule, expect) {
  await page.locator('#log-type').selectOption(type);
  await page.locator('#log-rule').fill(rule);
  const rows = page.locator('#log-results tbody tr:not(.empty)');
  await retry(page, async () => {
    await page.locator('#show-logs').click();
    await page.locator('#log-results table').waitFor();
  }, async () => (await rows.allTextContents()).some((r) => r.includes(expect)),
  `a log naming "${expect}"`);
  return rows.allTextContents();
}

// The policy wizard's words as the console shows them, [English, the
// seed's Japanese].
const WIZARD = {
  add: ['Add', '追加'],
  other: ['Other', 'その他'],
  recipient: ['Recipient', '受信者'],
  sender: ['Sender', '送信者'],
  allUsers: ['All users', 'すべてのユーザ'],
  save: ['Save', '保存'],
  next: ['Next', '次へ'],
  trueFileType: ['True file type', '実ファイルタイプ'],
  executable: ['Executable', '実行可能ファイル'],
  submitToVA: ['Submit to Virtual Analyzer', '仮想アナライザに送信する'],
  webReputation: ['Web Reputation settings', 'Webレピュテーション設定'],
  spam: ['Spam detection settings', 'スパムメール検出設定'],
  spamLevel: ['Set the spam detection level', 'スパムメールの検出レベルを設定する'],
  quarantineTo: ['Quarantine to', '次の場所に隔離'],
  enable: ['Enable', '有効にする'],
  ruleName: ['Rule name', 'ルール名'],
  order: ['Order number', 'ルールの照会順序番号'],
  finish: ['Finish', '完了'],
};

// The wizard in lang on Policy > Policy List, clicked by the words on the
// screen: `conditions(wizard)` ticks Step 2's conditions between Step 1
// (Add > Other; Recipient and Sender: All users) and Steps 3-4 (Quarantine
// to; Enable, the rule name and order number; Finish). Resolves once the
// Policy List shows the rule.
async function addOtherRule(page, lang, name, order, conditions) {
  const w = inLanguage(WIZARD, lang);
  const button = (label) => page.getByRole('button', { name: label, exact: true });
  const dialog = page.locator('dialog[open]');
  const wizard = {
    w, dialog,
    tick: (label) => page.getByRole('checkbox', { name: label, exact: true }).check(),
    open: (label) => page.getByRole('link', { name: label, exact: true }).click(),
    save: () => dialog.getByRole('button', { name: w.save, exact: true }).click(),
  };
  await button(w.add).click();
  await button(w.other).click();
  for (const who of [w.recipient, w.sender]) {
    await wizard.open(who);
    await dialog.getByLabel(w.allUsers, { exact: true }).check();
    await wizard.save();
  }
  await button(w.next).click();
  await conditions(wizard);
  await button(w.next).click();
  await page.getByLabel(w.quarantineTo, { exact: true }).check();
  await button(w.next).click();
  assert.equal(await page.getByLabel(w.enable, { exact: true }).isChecked(), true);
  await page.getByLabel(w.ruleName).fill(name);
  await page.getByLabel(w.order).fill(String(order));
  await button(w.finish).click();
  await page.locator('#page tr', { hasText: name }).first().waitFor();
}

// STEP 1-2: True file type, Executable, Submit to Virtual Analyzer.
export function addTrueFileTypeRule(page, lang, name, order) {
  return addOtherRule(page, lang, name, order, async ({ w, dialog, tick, open, save }) => {
    await tick(w.trueFileType);
    await open(w.trueFileType);
    await dialog.getByLabel(w.executable, { exact: true }).check();
    await dialog.getByLabel(w.submitToVA, { exact: true }).check();
    await save();
  });
}

// STEP 4-1: Web Reputation settings (spam detection comes ticked with it,
// its level too: 4-1.8 unticks the level).
export function addWebReputationRule(page, lang, name, order) {
  return addOtherRule(page, lang, name, order, async ({ w, dialog, tick, open, save }) => {
    await tick(w.webReputation);
    assert.equal(await page.getByRole('checkbox', { name: w.spam, exact: true }).isChecked(), true);
    await open(w.spam);
    const level = dialog.getByLabel(w.spamLevel, { exact: true });
    assert.equal(await level.isChecked(), true);
    await level.uncheck();
    await save();
  });
}
