// imsva.mjs - what a trainee does in IMSVA's console for the seed, shared by
// the IMSVA console tests and the STEP walks: the policy wizard's two rules
// (STEP 1-2: true file type to the Virtual Analyzer, quarantine; STEP 4-1:
// web reputation with spam detection off, quarantine), a Log Query that waits
// for its event, and the mail sent to IMSVA's SMTP listener (the one action
// of the seed outside the browser besides `dtascli -b`).
import assert from 'node:assert/strict';
import { ctdlab } from './lab.mjs';
import { retry } from './browser.mjs';

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

// The wizard's Step 1 with "All users" as recipients, then Next.
async function recipientsAllUsers(page) {
  await page.locator('#edit-recipients').click();
  await page.locator('#all-users').check();
  await page.locator('#dialog-save').click();
  await page.locator('#recipients-summary').waitFor();
  await page.locator('#wizard-next').click();
}

// The wizard's last steps: Quarantine to, Next, the name and order, Finish;
// resolves once the Policy List shows the rule.
async function quarantineAndFinish(page, name, order) {
  await page.locator('#intercept-quarantine').check();
  await page.locator('#wizard-next').click();
  assert.equal(await page.locator('#enable').isChecked(), true);
  await page.locator('#rule-name').fill(name);
  await page.locator('#order').fill(String(order));
  await page.locator('#wizard-finish').click();
  await page.locator('#page tr', { hasText: name }).first().waitFor();
}

// On Policy > Policy List: Add > Other (STEP 1-2): all users, True file type
// with Executable submitted to the Virtual Analyzer, Quarantine to.
export async function addTrueFileTypeRule(page, name, order) {
  await page.locator('#add-rule').click();
  await page.locator('#add-other').click();
  await recipientsAllUsers(page);
  await page.locator('#open-tft').click();
  await page.locator('input[data-tft="executable"]').check();
  await page.locator('#submit-va').check();
  await page.locator('#dialog-save').click();
  assert.equal(await page.locator('#cond-tft').isChecked(), true);
  await page.locator('#wizard-next').click();
  await quarantineAndFinish(page, name, order);
}

// On Policy > Policy List: Add > Other (STEP 4-1): all users, Web Reputation
// settings (spam detection comes ticked with it: its level unset), Quarantine to.
export async function addWebReputationRule(page, name, order) {
  await page.locator('#add-rule').click();
  await page.locator('#add-other').click();
  await recipientsAllUsers(page);
  await page.locator('#cond-wrs').check();
  assert.equal(await page.locator('#cond-spam').isChecked(), true);
  await page.locator('#open-spam').click();
  await page.locator('#spam-set-level').uncheck();
  await page.locator('#dialog-save').click();
  await page.locator('#wizard-next').click();
  await quarantineAndFinish(page, name, order);
}
