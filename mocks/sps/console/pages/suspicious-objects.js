// suspicious-objects.js - Smart Protection > Suspicious Objects (seed STEP
// 4-4): where the list comes from, the subscription's status, the time of
// the last synchronization (同期された時刻), the last one that brought changes
// and its change number, counts by type, "Sync Now" (今すぐ
// 同期), "Test Connection", and the objects themselves. API: GET
// /api/so/status, POST /api/so/sync, POST /api/so/test, GET /api/so/objects.
import { OBJECT_TYPES, RISKS, ACTIONS, objectType } from '../../shell/objects.js';
import { SOURCES, subscriptionBadge } from '../labels.js';

const L = {
  title: { en: 'Suspicious Objects', ja: '不審オブジェクト' },
  settings: { en: 'Suspicious object source', ja: '不審オブジェクトの取得元' },
  source: { en: 'Source', ja: '取得元' },
  server: { en: 'Server address', ja: 'サーバアドレス' },
  status: { en: 'Status', ja: 'ステータス' },
  lastSync: { en: 'Last synchronized', ja: '同期された時刻' },
  lastSuccess: { en: 'Last successful synchronization', ja: '最後に成功した同期' },
  lastError: { en: 'Last error', ja: '最後のエラー' },
  interval: { en: 'Synchronization interval', ja: '同期間隔' },
  seconds: { en: '{s} seconds', ja: '{s} 秒' },
  changes: { en: 'Changes in the last synchronization', ja: '前回の同期での変更' },
  lastChange: { en: 'Last synchronization that brought changes', ja: '変更を取得した最後の同期' },
  changeNumber: { en: 'Change number', ja: '変更番号' },
  syncNow: { en: 'Sync Now', ja: '今すぐ同期' },
  test: { en: 'Test Connection', ja: '接続テスト' },
  counts: { en: 'Objects by type', ja: '種類別のオブジェクト数' },
  type: { en: 'Type', ja: '種類' },
  count: { en: 'Objects', ja: 'オブジェクト数' },
  total: { en: 'Total', ja: '合計' },
  objects: { en: 'Objects', ja: 'オブジェクト' },
  object: { en: 'Object', ja: 'オブジェクト' },
  risk: { en: 'Risk level', ja: 'リスクレベル' },
  action: { en: 'Action', ja: '処理' },
  from: { en: 'Reported by', ja: '検出元' },
  synced: { en: 'Synchronized: {n} change(s).', ja: '同期しました: 変更 {n} 件' },
  testOk: { en: 'Connection successful: {n} change(s) waiting.', ja: '接続に成功しました: 未取得の変更 {n} 件' },
  none: { en: '—', ja: '—' },
};

export default async function render(root, ctx) {
  const { api, ui, t } = ctx;
  const { el } = ui;
  const notice = el('div', { id: 'so-notice' });
  const body = el('div', { id: 'so-body' });
  const syncNow = ui.button(L.syncNow, async () => {
    const s = await api.post('/api/so/sync');
    show(s);
    ui.mount(notice, ui.message(s.last_error || t(L.synced, { n: s.last_changes }), s.last_error ? 'error' : 'ok'));
    await loadObjects();
  }, { primary: true, id: 'sync-now' });
  const test = ui.button(L.test, async () => {
    const r = await api.post('/api/so/test');
    ui.mount(notice, ui.message(t(L.testOk, { n: r.pending }), 'ok'));
  }, { id: 'test-connection' });
  const objects = el('div', { id: 'so-objects' });
  root.append(ui.pageHeader(L.title, syncNow, test), notice, body, objects);

  // label: value rows laid out as the shell lays out its forms
  const dl = (rows) => rows.map(([k, v, id]) => ui.formRow(k, el('output', { id }, v ?? t(L.none))));

  function show(s) {
    syncNow.disabled = test.disabled = !s.subscribed;
    const counts = OBJECT_TYPES.map((x) => ({ type: x.value, n: s.objects[x.value] || 0 }));
    counts.push({ type: 'total', n: s.object_count });
    ui.mount(body,
      ui.section(L.settings, dl([
        [L.source, t(SOURCES[s.source] || { en: s.source }), 'so-source'],
        [L.server, el('span', { class: 'mono' }, s.url), 'so-url'],
        [L.status, subscriptionBadge(ui, s.status), 'so-status'],
        [L.lastSync, s.last_sync ? ctx.time.timeElement(s.last_sync) : null, 'so-last-sync'],
        [L.lastSuccess, s.last_success ? ctx.time.timeElement(s.last_success) : null, 'so-last-success'],
        [L.lastError, s.last_error || null, 'so-last-error'],
        [L.changes, String(s.last_changes), 'so-changes'],
        [L.lastChange, s.last_change ? ctx.time.timeElement(s.last_change) : null, 'so-last-change'],
        [L.changeNumber, s.last_change ? String(s.change_number) : null, 'so-change-number'],
        [L.interval, t(L.seconds, { s: s.interval_s }), 'so-interval'],
      ])),
      ui.section(L.counts, Object.assign(ui.table({
        columns: [
          { key: 'type', label: L.type, render: (r) => t(r.type === 'total' ? L.total : objectType(r.type)) },
          { key: 'n', label: L.count, align: 'right' },
        ],
        rows: counts,
      }), { id: 'so-counts' })));
  }

  async function loadObjects() {
    const list = await api.get('/api/so/objects?limit=200');
    if (!ctx.active()) return;
    ui.mount(objects, ui.section(L.objects, Object.assign(ui.table({
      columns: [
        { key: 'value', label: L.object, render: (r) => el('span', { class: 'mono' }, r.raw_value) },
        { key: 'type', label: L.type, render: (r) => t(objectType(r.type)) },
        { key: 'risk', label: L.risk, render: (r) => t(RISKS[r.risk] || { en: r.risk }) },
        { key: 'action', label: L.action, render: (r) => t(ACTIONS[r.action] || { en: r.action }) },
        { key: 'source', label: L.from },
      ],
      rows: list,
    }), { id: 'so-table' })));
  }

  show(await api.get('/api/so/status'));
  await loadObjects();
}
