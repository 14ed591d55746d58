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
