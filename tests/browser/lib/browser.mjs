// browser.mjs - Debian's chromium, headless, driven by playwright-core, and
// a page fixture that records the page's console and JavaScript errors and,
// when the test fails, keeps a screenshot and that log under
// $CTDLAB_BROWSER_ARTIFACTS (default build/browser-artifacts/).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const ARTIFACTS = path.resolve(ROOT,
  process.env.CTDLAB_BROWSER_ARTIFACTS || 'build/browser-artifacts');
const CHROMIUM = process.env.CTDLAB_CHROMIUM || '/usr/bin/chromium';

// A missing or broken chromium fails the tests: it never skips them.
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // root in containers and CI: chromium's sandbox needs user namespaces
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

function slug(name) {
  return name.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 80);
}

// Run fn(page, log) in a fresh context (no cookies, no storage) of browser.
// log.errors collects uncaught JavaScript errors; a test that ends with any
// fails. On failure the screenshot and the console log are kept.
export async function withPage(browser, t, fn, contextOpts = {}) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 }, ...contextOpts });
  const page = await context.newPage();
  const log = { lines: [], errors: [] };
  page.on('console', (m) => log.lines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => {
    log.errors.push(e);
    log.lines.push(`[pageerror] ${e.stack || e.message}`);
  });
  try {
    await fn(page, log, context);
    if (log.errors.length) throw new Error(`JavaScript errors: ${log.errors.map((e) => e.message).join('; ')}`);
  } catch (e) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const base = path.join(ARTIFACTS, slug(t.fullName || t.name));
    await page.screenshot({ path: `${base}.png`, fullPage: true }).catch(() => {});
    writeFileSync(`${base}.log`, `${page.url()}\n${log.lines.join('\n')}\n`);
    e.message += `\n(screenshot ${base}.png, console log ${base}.log)`;
    throw e;
  } finally {
    await context.close();
  }
}

// Log in on the console page at url with user name and password; resolves
// when the console (its menu) is shown.
export async function logIn(page, url, user, password) {
  await page.goto(url);
  await page.locator('input[name=username]').fill(user);
  await page.locator('input[name=password]').fill(password);
  await page.locator('#logon').click();
  await page.locator('#menu a, #menu .branch').first().waitFor();
}

// Show the console page at url#hashPath, freshly drawn: a hash-only change
// would keep the old page's heading until the new one renders, so reload.
export async function openPage(page, url, hashPath) {
  await page.goto(`${url}#${hashPath}`);
  await page.reload();
  await page.locator('#page h1').first().waitFor();
}

// Every menu leaf's hash path, opening branches on the way.
export async function menuPaths(page) {
  return page.locator('#menu a[data-path]').evaluateAll((links) =>
    links.map((a) => a.dataset.path));
}

// With $CTDLAB_SCREENSHOTS set, keep a full-page screenshot of page as
// <dir>/<name>.png (to look at what a person sees); otherwise nothing.
export async function screenshot(page, name) {
  const dir = process.env.CTDLAB_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${slug(name)}.png`), fullPage: true });
}

// Follow the menu tree by data paths: open each branch, click the leaf;
// resolves once the leaf's page (its heading is the menu label) has drawn.
export async function openMenu(page, leafPath) {
  const parts = leafPath.split('/').filter(Boolean);
  for (let i = 1; i < parts.length; i++) {
    const branch = page.locator(`#menu button.branch[data-path="/${parts.slice(0, i).join('/')}"]`);
    if (await branch.getAttribute('aria-expanded') !== 'true') await branch.click();
  }
  const leaf = page.locator(`#menu a[data-path="${leafPath}"]`);
  const label = await leaf.textContent();
  await leaf.click();
  await page.locator('#page h1', { hasText: label }).first().waitFor();
}

// Follow the menu tree by the words a person reads (["Policy", "Scan
// Engine"], or the Japanese of the seed): open each branch, click the leaf;
// resolves once the page's heading shows the leaf's words.
export async function followMenu(page, labels) {
  let scope = page.locator('#menu');
  for (const label of labels.slice(0, -1)) {
    const branch = scope.locator('button.branch', { hasText: new RegExp(`^${escapeRegExp(label)}$`) });
    if (await branch.getAttribute('aria-expanded') !== 'true') await branch.click();
    scope = branch.locator('xpath=following-sibling::ul[1]');
  }
  const leafLabel = labels[labels.length - 1];
  await scope.locator('a', { hasText: new RegExp(`^${escapeRegExp(leafLabel)}$`) }).click();
  await page.locator('#page h1', { hasText: leafLabel }).first().waitFor();
}

export function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Repeat `attempt` (an action in the page) until check() holds; a bounded
// wait on the lab's asynchronous work, never a timing assertion.
export async function retry(page, attempt, check, what) {
  for (let i = 0; i < 240; i++) {
    await attempt();
    if (await check()) return;
    await page.waitForTimeout(250);
  }
  throw new Error(`gave up waiting for ${what}`);
}

// The words of table ({key: [en, ja]}) in lang ("en" | "ja").
export function inLanguage(table, lang) {
  const i = lang === 'ja' ? 1 : 0;
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v[i]]));
}
