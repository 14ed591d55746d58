// automation-api.js - Administration > Settings > Automation API Access
// Settings: the Application ID and API key SOAR tools sign their JWTs with,
// the communication time-out, and Regenerate (the old key stops working at
// once). API: GET /api/settings, POST /api/settings/api-key.
const L = {
  title: { en: 'Automation API Access Settings', ja: 'Automation API アクセス設定' },
  appId: { en: 'Application ID', ja: 'アプリケーションID' },
  apiKey: { en: 'API key', ja: 'APIキー' },
  timeout: { en: 'Communication time-out', ja: '通信タイムアウト' },
  seconds: { en: '{s} seconds', ja: '{s} 秒' },
  regenerate: { en: 'Regenerate', ja: '再生成' },
  pinned: { en: 'The lab configuration pins this key ([tmcm] api_key): change it there.', ja: 'このキーはラボの設定 ([tmcm] api_key) で固定されています。設定で変更してください。' },
  confirm: { en: 'Regenerate the API key? Applications using the current key stop working until they get the new one.', ja: 'APIキーを再生成しますか? 現在のキーを使用しているアプリケーションは新しいキーを設定するまで動作しなくなります。' },
  done: { en: 'A new API key was generated.', ja: '新しいAPIキーを生成しました。' },
  feed: { en: 'Suspicious object distribution', ja: '不審オブジェクトの配信' },
  feedKey: { en: 'API key for {p}', ja: '{p} 用APIキー' },
};

export default async function render(root, ctx) {
  const { api, ui, t } = ctx;
  const { el } = ui;
  const notice = el('div', { id: 'auto-notice' });
  const body = el('div', { id: 'auto-body' });
  root.append(ui.pageHeader(L.title), notice, body);

  // label: value rows laid out as the shell lays out its forms
  const kv = (rows) => rows.map(([k, v, id]) => ui.formRow(k, el('output', { id }, v)));

  async function load() {
    const s = await api.get('/api/settings');
    if (!ctx.active()) return;
    const a = s.automation_api;
    const regenerate = ui.button(L.regenerate, async () => {
      if (!(await ui.confirmDialog(L.regenerate, L.confirm))) return;
      await api.post('/api/settings/api-key');
      await load();
      ui.mount(notice, ui.message(t(L.done), 'ok'));
    }, { danger: true, id: 'regenerate', disabled: a.pinned });
    ui.mount(body,
      ui.section(null, kv([
        [L.appId, el('span', { class: 'mono' }, a.application_id), 'app-id'],
        [L.apiKey, el('span', { class: 'mono' }, a.api_key), 'api-key'],
        [L.timeout, t(L.seconds, { s: Math.round(a.communication_timeout_ms / 1000) }), 'timeout'],
      ]), el('div', { class: 'form-actions' }, regenerate),
      a.pinned ? ui.message(t(L.pinned), 'info') : null),
      ui.section(L.feed, kv([
        ...Object.entries(s.feed_keys).map(([p, key]) =>
          [{ en: t(L.feedKey, { p: p.toUpperCase() }) }, el('span', { class: 'mono' }, key), `feed-key-${p}`]),
      ])));
  }

  await load();
}
