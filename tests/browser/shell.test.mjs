// shell.test.mjs - the console shell in every appliance, in a real lab:
// login, header and menu, every menu page without JavaScript errors, logout
// ends the session, a cookie request without the CSRF token is refused, the
// Japanese locale and the language switch, and the [lab] password, locale
// and timezone options.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { APPLIANCES, startLab } from './lib/lab.mjs';
import { launchBrowser, logIn, menuPaths, withPage } from './lib/browser.mjs';

const PRODUCTS = {
  imsva: 'InterScan Messaging Security Virtual Appliance', ddan: 'Deep Discovery Analyzer',
  tmcm: 'Control Manager', sps: 'Smart Protection Server', ddi: 'Deep Discovery Inspector',
};

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe('a default lab', () => {
  let lab;
  before(() => {
    lab = startLab();
  });
  after(() => lab?.stop());

  for (const a of APPLIANCES) {
    it(`${a}: login, header, menu, and every menu page without JavaScript errors`, async (t) => {
      const c = lab.consoles[a];
      await withPage(browser, t, async (page) => {
        await page.goto(c.url);
        assert.equal(await page.locator('input[name=username]').inputValue(), 'admin');
        await logIn(page, c.url, c.user, c.password);
        assert.equal(await page.locator('.topbar .product').textContent(), PRODUCTS[a]);
        assert.equal(await page.locator('#current-user').textContent(), 'admin');
        const paths = await menuPaths(page);
        assert.ok(paths.includes('/dashboard'), `menu: ${paths}`);
        for (const p of paths) {
          await page.goto(`${c.url}#${p}`);
          await page.locator('#page h1').first().waitFor();
          assert.equal(await page.locator('#page .msg-error').count(), 0,
            `${p}: ${await page.locator('#page').textContent()}`);
        }
      });
    });
  }

  it('the root path leads to the console where the entry path is elsewhere', async (t) => {
    await withPage(browser, t, async (page) => {
      const c = lab.consoles.imsva;
      await page.goto(new URL('/', c.url).href);
      assert.equal(new URL(page.url()).pathname, '/console.imss');
      await page.locator('input[name=password]').waitFor();
    });
  });

  it('a reload keeps the session; logout ends it for the old cookie too', async (t) => {
    const c = lab.consoles.imsva;
    await withPage(browser, t, async (page, log, context) => {
      await logIn(page, c.url, c.user, c.password);
      await page.reload();
      await page.locator('#logout').waitFor();
      const cookies = await context.cookies();
      const status = () => page.evaluate(async () => (await fetch('/api/status')).status);
      assert.equal(await status(), 200);
      await page.locator('#logout').click();
      await page.locator('input[name=password]').waitFor();
      assert.equal(await status(), 401);
      // the cookie from before the logout no longer opens anything
      await context.addCookies(cookies);
      assert.equal(await status(), 401);
      await page.reload();
      await page.locator('input[name=password]').waitFor();
    });
  });

  it('a state-changing request with the cookie but without the CSRF token is refused', async (t) => {
    const c = lab.consoles.imsva;
    await withPage(browser, t, async (page) => {
      await logIn(page, c.url, c.user, c.password);
      const send = (withToken) => page.evaluate(async (withToken) => {
        const headers = { 'Content-Type': 'application/json' };
        if (withToken) {
          const s = await (await fetch('/_console/session')).json();
          headers['X-CSRF-Token'] = s.csrf;
        }
        const get = await (await fetch('/api/scan-engine')).json();
        const res = await fetch('/api/scan-engine', { method: 'PUT', headers,
          body: JSON.stringify({ atse_enabled: get.atse_enabled }) });
        return res.status;
      }, withToken);
      assert.equal(await send(false), 403);
      assert.equal(await send(true), 200);
    });
  });

  it('a wrong password is refused on the login form', async (t) => {
    const c = lab.consoles.ddan;
    await withPage(browser, t, async (page) => {
      await page.goto(c.url);
      await page.locator('input[name=password]').fill('not-the-password');
      await page.locator('#logon').click();
      await page.locator('.login .msg-error').waitFor();
      assert.match(await page.locator('.login .msg-error').textContent(), /Invalid user name or password/);
    });
  });

  it('the language switch shows Japanese and is remembered', async (t) => {
    const c = lab.consoles.tmcm;
    await withPage(browser, t, async (page) => {
      await logIn(page, c.url, c.user, c.password);
      assert.equal(await page.locator('#logout').textContent(), 'Log Off');
      await page.locator('#lang').selectOption('ja');
      assert.equal(await page.locator('#logout').textContent(), 'ログアウト');
      assert.equal(await page.locator('#menu a[data-path="/dashboard"]').textContent(), 'ダッシュボード');
      await page.reload();
      await page.locator('#logout').waitFor();
      assert.equal(await page.locator('#logout').textContent(), 'ログアウト');
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'ja');
    });
  });
});

describe('a lab with [lab] password, locale ja and timezone', () => {
  let lab;
  before(() => {
    lab = startLab({ password: 'class-pass-1', locale: 'ja', timezone: 'Asia/Tokyo' });
  });
  after(() => lab?.stop());

  it('every console logs in with the class password and speaks Japanese', async (t) => {
    for (const a of APPLIANCES) {
      assert.equal(lab.consoles[a].password, 'class-pass-1', a);
      await withPage(browser, t, async (page) => {
        await page.goto(lab.consoles[a].url);
        assert.equal(await page.locator('#logon').textContent(), 'ログイン');
        assert.equal(await page.locator('label[for] >> nth=0').textContent(), 'ユーザ名');
        await logIn(page, lab.consoles[a].url, 'admin', 'class-pass-1');
        assert.equal(await page.locator('#menu a[data-path="/dashboard"]').textContent(), 'ダッシュボード');
        assert.equal(await page.locator('.topbar .tz').textContent(), 'Asia/Tokyo');
      });
    }
  });

  it('times show in the lab time zone with the UTC value on hover', async (t) => {
    await withPage(browser, t, async (page) => {
      await logIn(page, lab.consoles.sps.url, 'admin', 'class-pass-1');
      const shown = await page.evaluate(async () => {
        const time = await import('/_console/shell/time.js');
        const el = time.timeElement('2026-01-02T03:04:05Z');
        return { text: el.textContent, title: el.title };
      });
      assert.deepEqual(shown, { text: '2026-01-02 12:04:05', title: '2026-01-02 03:04:05Z (UTC)' });
    });
  });

  it('ctdlab status shows each console URL and its login', () => {
    const out = lab.status();
    for (const a of APPLIANCES) assert.ok(out.includes(lab.consoles[a].url), `${a}: ${out}`);
    assert.match(out, /log in as admin \/ class-pass-1/);
  });
});
