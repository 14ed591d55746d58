// samples.mjs - a lab with objects in it for the console tests: the seed
// samples submitted to DDAN with `dtascli -b` (outside the browser, as STEP
// 4-2 does), one browser and one such lab per test file, logging in to a
// console page, and a bounded wait that presses a page's refresh button until
// a condition holds (the lab's syncs run every few seconds in the fast profile).
import { after, before } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { startLab } from './lab.mjs';
import { launchBrowser, logIn } from './browser.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const BINDIR = path.resolve(ROOT, process.env.CTDLAB_BINDIR || 'bin');
const WAIT_MS = 60000;

// The URL the seed's URL test file links to: DDAN makes URL and DOMAIN SOs of it.
export const URL_SO = 'http://malicious.ctdlab.test/payload';

export function readyFile(lab, appliance) {
  return JSON.parse(readFileSync(path.join(lab.dir, 'run', `${appliance}.json`), 'utf8'));
}

// Sample SO, Sample SO2 and the URL test file into DDAN with `dtascli -b`
// (config.ini's ApiKey: apiKey, as read in DDAN's Help > About, else DDAN's
// own); returns dtascli's output once every verdict is in.
export function submitSeedSamples(lab, apiKey) {
  const ddan = readyFile(lab, 'ddan');
  const dir = path.join(lab.dir, 'dtascli');
  const indir = path.join(dir, 'work', 'indir');
  mkdirSync(indir, { recursive: true });
  writeFileSync(path.join(dir, 'config.ini'),
    `[DTAS]\nHost = ${ddan.listeners.https}\nApiKey = ${apiKey || ddan.info.api_key}\nVerifyTLS = no\nTimeout = 60\n`);
  const dtascli = path.join(BINDIR, 'dtascli');
  execFileSync(dtascli, ['--make-samples', indir]);
  return execFileSync(dtascli, ['-c', path.join(dir, 'config.ini'), '-b'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// Click the `refresh` selector until done() resolves true, at most WAIT_MS.
export async function until(page, refresh, done, what) {
  const end = Date.now() + WAIT_MS;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/api/')),
      page.locator(refresh).click()]);
  }
}

// The rows of a table (a CSS selector) that contain text.
export function row(page, table, text) {
  return page.locator(`${table} tbody tr`, { hasText: text });
}

// Before the file's tests: chromium and a fresh lab, then prepare(lab);
// after them, both stopped. Returns {browser, lab}, filled in then.
export function browserLab(prepare = () => {}) {
  const env = {};
  before(async () => {
    env.browser = await launchBrowser();
    env.lab = startLab();
    prepare(env.lab);
  });
  after(async () => {
    await env.browser?.close();
    env.lab?.stop();
  });
  return env;
}

// The same with a lab holding the seed samples' objects.
export function seededLab() {
  return browserLab(submitSeedSamples);
}

// Log in to appliance's console and open the page at hash (e.g. "#/dashboard").
export async function openConsole(page, lab, appliance, hash) {
  const c = lab.consoles[appliance];
  await logIn(page, c.url, c.user, c.password);
  await page.goto(`${c.url}${hash}`);
  return c;
}
