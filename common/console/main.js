// main.js - the console shell: reads the lab's console settings
// (/_console/config) and the appliance's descriptor (/_console/app/
// appliance.js), then shows the login form or the console: a header bar in
// the product's colour, the menu tree, the current user, Logout, the
// language switch, and the page area where the page module of the selected
// menu item renders (hash routing: #/policy/scan-engine).
import { api, ApiError, setCsrf, setUnauthorizedHandler } from './api.js';
import { t, addMessages, initLocale, setLocale, locale, LOCALES } from './i18n.js';
import { initTimeZone, timeZone } from './time.js';
import * as ui from './ui.js';
import * as time from './time.js';
import { el, mount, message } from './ui.js';
import { menuTree, openBranches } from './menu.js';

addMessages({
  en: { 'lang.en': 'English', 'lang.ja': '日本語' },
  ja: {
    'lang.en': 'English', 'lang.ja': '日本語', 'Log On': 'ログイン', 'Log Off': 'ログアウト',
    'User name': 'ユーザ名', Password: 'パスワード', Language: '言語', Menu: 'メニュー',
    'Invalid user name or password.': 'ユーザ名またはパスワードが正しくありません。',
    'Loading…': '読み込み中…', 'No data': 'データがありません', Close: '閉じる',
    Cancel: 'キャンセル', Save: '保存', Refresh: '更新', Apply: '適用', Delete: '削除',
    Add: '追加', Edit: '編集', Next: '次へ', Back: '戻る', Finish: '完了',
    'Page not found': 'ページが見つかりません', 'Time zone': 'タイムゾーン',
    'The console could not start': 'コンソールを開始できませんでした',
    'Your session has ended. Log on again.': 'セッションが終了しました。再度ログインしてください。',
  },
});

const root = document.getElementById('app');
let config = null;   // /_console/config
let product = null;  // the appliance's descriptor module
let user = '';
let renderSeq = 0;   // the page render that is current (older ones stop drawing)

// Every menu item with a page, in menu order, with its hash path.
function routes(items = product.menu, prefix = '') {
  return items.flatMap((item) => {
    const path = `${prefix}/${item.id}`;
    const own = item.page ? [{ ...item, path }] : [];
    return own.concat(item.children ? routes(item.children, path) : []);
  });
}

function currentRoute() {
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const all = routes();
  const route = path ? all.find((r) => r.path === path) : all.find((r) => !r.hidden);
  return { path, route, query: new URLSearchParams(query) };
}

function languageSwitch(redraw) {
  const sel = ui.select(LOCALES.map((l) => ({ value: l, label: `lang.${l}` })), locale(),
    { class: 'lang', 'aria-label': t('Language'), id: 'lang' });
  sel.addEventListener('change', () => {
    setLocale(sel.value);
    redraw();
  });
  return sel;
}

function productName() {
  return t(product.product);
}

// --- login -------------------------------------------------------------

function showLogin(notice) {
  setCsrf('');
  user = '';
  document.title = `${productName()} — ${t('Log On')}`;
  const name = ui.input({ name: 'username', value: config.user, autocomplete: 'username' });
  const pass = ui.input({ name: 'password', type: 'password', autocomplete: 'current-password' });
  const status = el('div', { class: 'login-status' }, notice ? message(notice, 'info') : null);
  const form = el('form', { class: 'login-form', 'aria-label': t('Log On') },
    ui.formRow('User name', name), ui.formRow('Password', pass), status,
    el('div', { class: 'form-actions' }, ui.button('Log On', null, { primary: true, submit: true, id: 'logon' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const s = await api.post('/api/login', { username: name.value, password: pass.value },
        { noRedirect: true });
      setCsrf(s.csrf);
      user = s.user;
      showConsole();
    } catch (e) {
      pass.value = '';
      mount(status, message(e.status === 401 ? 'Invalid user name or password.' : e.message, 'error'));
      pass.focus();
    }
  });
  mount(root, el('div', { class: 'login' },
    el('div', { class: 'login-box' },
      el('div', { class: 'login-head' }, el('span', { class: 'brand' }, 'TREND MICRO'),
        el('h1', {}, productName())),
      form,
      el('div', { class: 'login-foot' }, languageSwitch(() => showLogin(notice))))));
  (name.value ? pass : name).focus();
}

// --- the console -------------------------------------------------------

function showConsole() {
  document.documentElement.style.setProperty('--product', product.color || '#c8102e');
  const logout = ui.button('Log Off', async () => {
    try {
      await api.post('/api/logout', {}, { noRedirect: true });
    } finally {
      showLogin();
    }
  }, { id: 'logout' });
  mount(root,
    el('header', { class: 'topbar' },
      el('span', { class: 'brand' }, 'TREND MICRO'),
      el('span', { class: 'product' }, productName()),
      el('span', { class: 'spacer' }),
      el('span', { class: 'tz', title: t('Time zone') }, timeZone()),
      languageSwitch(showConsole),
      el('span', { class: 'user', id: 'current-user' }, user),
      logout),
    el('div', { class: 'layout' },
      el('nav', { class: 'menu', id: 'menu', 'aria-label': t('Menu') }),
      el('main', { class: 'page', id: 'page', tabindex: '-1' })));
  renderPage();
}

async function renderPage() {
  const page = document.getElementById('page');
  const menu = document.getElementById('menu');
  if (!page) return;
  const { path, route, query } = currentRoute();
  const menuFocused = menu.contains(document.activeElement);
  mount(menu, menuTree(product.menu, route ? route.path : path, openBranches(menu)));
  if (menuFocused) menu.querySelector('[aria-current=page], [role=treeitem]')?.focus();
  const seq = ++renderSeq;
  if (!route) {
    document.title = productName();
    mount(page, ui.pageHeader('Page not found'), message(path, 'error'));
    return;
  }
  document.title = `${t(route.label)} — ${productName()}`;
  mount(page, message('Loading…'));
  const ctx = {
    api, t, ui, time, query, path: route.path, item: route, config, user, locale: locale(),
    active: () => seq === renderSeq,
    navigate: (to) => { location.hash = `#${to}`; },
    refresh: () => renderPage(),
  };
  try {
    const mod = await import(`/_console/app/pages/${route.page}.js`);
    if (seq !== renderSeq) return;
    const render = typeof mod.default === 'function' ? mod.default : mod.default.render;
    mount(page);
    await render(page, ctx);
  } catch (e) {
    if (seq !== renderSeq || (e instanceof ApiError && e.status === 401)) return;
    mount(page, ui.pageHeader(route.label), message(e.message || String(e), 'error'));
    if (!(e instanceof ApiError)) throw e; // a page bug: let it show as one
  }
}

// A page's ApiError that nobody caught (a button handler): shown in the page.
window.addEventListener('unhandledrejection', (ev) => {
  const e = ev.reason;
  if (!(e instanceof ApiError)) return;
  ev.preventDefault();
  if (e.status === 401) return;
  const page = document.getElementById('page');
  if (page) page.prepend(message(e.message, 'error'));
});

async function boot() {
  try {
    config = await api.get('/_console/config');
    product = (await import('/_console/app/appliance.js')).default;
  } catch (e) {
    mount(root, message(`${t('The console could not start')}: ${e.message}`, 'error'));
    throw e;
  }
  initLocale(config.locale);
  initTimeZone(config.timezone);
  document.documentElement.style.setProperty('--product', product.color || '#c8102e');
  setUnauthorizedHandler(() => showLogin('Your session has ended. Log on again.'));
  window.addEventListener('hashchange', renderPage);
  try {
    const s = await api.get('/_console/session', { noRedirect: true });
    setCsrf(s.csrf);
    user = s.user;
    showConsole();
  } catch {
    showLogin();
  }
}

boot();
