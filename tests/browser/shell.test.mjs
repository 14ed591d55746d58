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

// The label in loc of the first item of the console's own menu.
function firstMenuLabel(page, loc) {
  return page.evaluate(async (loc) => {
    const { default: product } = await import('/_console/app/appliance.js');
    return product.menu[0].label[loc];
  }, loc);
}

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

  it('a session ended elsewhere sends the page back to the login form', async (t) => {
    const c = lab.consoles.imsva;
    await withPage(browser, t, async (page) => {
      await logIn(page, c.url, c.user, c.password);
      const status = await page.evaluate(async () => {
        const { api } = await import('/_console/shell/api.js');
        const s = await api.get('/_console/session');
        // the session ends behind the page's back (another tab logged out)
        await fetch('/api/logout', { method: 'POST', headers: { 'X-CSRF-Token': s.csrf } });
        return api.get('/api/status').then(() => 200, (e) => e.status);
      });
      assert.equal(status, 401);
      await page.locator('input[name=password]').waitFor();
      assert.match(await page.locator('.login .msg').textContent(), /session has ended/);
    });
  });

  it('the menu tree opens branches and moves by keyboard', async (t) => {
    await withPage(browser, t, async (page) => {
      await page.goto(lab.consoles.sps.url);
      await page.evaluate(async () => {
        const { menuTree } = await import('/_console/shell/menu.js');
        const menu = [
          { id: 'dashboard', label: 'Dashboard', page: 'dashboard' },
          { id: 'policy', label: { en: 'Policy', ja: 'ポリシー' }, children: [
            { id: 'scan-engine', label: 'Scan Engine', page: 'x' },
            { id: 'list', label: 'Policy List', page: 'y' }] },
          { id: 'logs', label: 'Logs', children: [{ id: 'query', label: 'Log Query', page: 'z' }] },
          { id: 'detail', label: 'Detail', page: 'd', hidden: true },
        ];
        const nav = document.createElement('nav');
        nav.id = 'testmenu';
        nav.append(menuTree(menu, '/logs/query'));
        document.body.replaceChildren(nav);
      });
      const item = (p) => page.locator(`#testmenu [data-path="${p}"]`);
      assert.equal(await item('/detail').count(), 0);
      assert.equal(await item('/logs').getAttribute('aria-expanded'), 'true');
      assert.equal(await item('/logs/query').getAttribute('aria-current'), 'page');
      assert.equal(await item('/policy/list').isVisible(), false);
      await item('/dashboard').focus();
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowRight');
      assert.equal(await item('/policy').getAttribute('aria-expanded'), 'true');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowDown');
      assert.equal(await page.evaluate(() => document.activeElement.dataset.path), '/policy/list');
      await page.keyboard.press('ArrowLeft');
      assert.equal(await page.evaluate(() => document.activeElement.dataset.path), '/policy');
      await page.keyboard.press('ArrowLeft');
      assert.equal(await item('/policy/list').isVisible(), false);
      await page.keyboard.press('End');
      assert.equal(await page.evaluate(() => document.activeElement.dataset.path), '/logs/query');
      await item('/policy').click();
      assert.equal(await item('/policy/scan-engine').isVisible(), true);
    });
  });

  it('the UI pieces: a zebra table with an empty row, a label message, a dialog by keyboard', async (t) => {
    await withPage(browser, t, async (page) => {
      await page.goto(lab.consoles.sps.url);
      await page.evaluate(async () => {
        const ui = await import('/_console/shell/ui.js');
        const cols = [{ key: 'name', label: 'Name' }, { key: 'at', label: 'Time', time: true }];
        window.clicked = [];
        document.body.replaceChildren(
          ui.table({ columns: cols, rows: [{ name: 'a', at: 0 }, { name: 'b', at: '' }],
            onRowClick: (r) => window.clicked.push(r.name) }),
          ui.table({ columns: cols, rows: [] }),
          ui.message({ en: 'Saved.', ja: '保存しました。' }, 'ok'));
        window.answer = ui.dialog({ title: 'Delete', body: 'Sure?', buttons: [
          { label: 'Cancel', value: false }, { label: 'OK', value: 'yes', primary: true }] });
      });
      assert.equal(await page.locator('dialog[open]').count(), 1);
      await page.keyboard.press('Escape');
      assert.equal(await page.evaluate(() => window.answer), null);
      assert.equal(await page.locator('table.grid').first().locator('th').allTextContents()
        .then((h) => h.join('|')), 'Name|Time');
      assert.equal(await page.locator('table.grid tr.empty td').textContent(), 'No data');
      assert.equal(await page.locator('.msg-ok').textContent(), 'Saved.');
      await page.locator('table.grid tbody tr').nth(1).focus();
      await page.keyboard.press('Enter');
      assert.deepEqual(await page.evaluate(() => window.clicked), ['b']);
      const zebra = await page.locator('table.grid tbody tr').evaluateAll((rows) =>
        rows.slice(0, 2).map((r) => getComputedStyle(r).backgroundColor));
      assert.notEqual(zebra[0], zebra[1]);
    });
  });

  it('the language switch shows Japanese and is remembered', async (t) => {
    const c = lab.consoles.tmcm;
    await withPage(browser, t, async (page) => {
      await logIn(page, c.url, c.user, c.password);
      assert.equal(await page.locator('#logout').textContent(), 'Log Off');
      await page.locator('#lang').selectOption('ja');
      assert.equal(await page.locator('#logout').textContent(), 'ログアウト');
      assert.equal(await page.locator('#menu [role=treeitem]').first().textContent(),
        await firstMenuLabel(page, 'ja'));
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
        assert.equal(await page.locator('#menu [role=treeitem]').first().textContent(),
          await firstMenuLabel(page, 'ja'));
        assert.equal(await page.locator('#logout').textContent(), 'ログアウト');
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
