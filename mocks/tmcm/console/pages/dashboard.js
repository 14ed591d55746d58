// dashboard.js - TMCM's Dashboard: the shell's system status, the
// suspicious-object counts, the last change number distributed, the pull
// from DDAN/DDI and the managed products at a glance. API: GET /api/status,
// /api/sync, /api/directory.
import { systemStatus } from '/_console/shell/status.js';
import { statusBadge } from '../labels.js';

const L = {
  title: { en: 'Dashboard', ja: 'ダッシュボード' },
  objects: { en: 'Suspicious objects', ja: '不審オブジェクト' },
  va: { en: 'Virtual Analyzer objects', ja: '仮想アナライザオブジェクト' },
  udso: { en: 'User-defined objects', ja: 'ユーザ定義オブジェクト' },
  exceptions: { en: 'Exceptions', ja: '例外' },
  distributed: { en: 'Distributed to products', ja: '製品に配信中' },
  change: { en: 'Last change number', ja: '最新の変更番号' },
  sync: { en: 'Synchronization with DDAN / DDI', ja: 'DDAN / DDI との同期' },
  lastRun: { en: 'Last synchronization', ja: '最終同期' },
  interval: { en: 'Interval', ja: '間隔' },
  seconds: { en: '{s} s', ja: '{s} 秒' },
  products: { en: 'Managed products', ja: '管理対象製品' },
  name: { en: 'Name', ja: '名前' },
  status: { en: 'Status', ja: 'ステータス' },
  heartbeat: { en: 'Last heartbeat', ja: '最終ハートビート' },
};

export default async function render(root, ctx) {
  const { api, ui, t } = ctx;
  const { el } = ui;
  const [system, status, sync, dir] = await Promise.all([systemStatus(), api.get('/api/status'),
    api.get('/api/sync'), api.get('/api/directory')]);
  if (!ctx.active()) return;
  root.append(ui.pageHeader(L.title), system,
    ui.section(L.objects, Object.assign(ui.table({
      columns: [
        { key: 'va_objects', label: L.va, align: 'right' },
        { key: 'udso', label: L.udso, align: 'right' },
        { key: 'exceptions', label: L.exceptions, align: 'right' },
        { key: 'distributed', label: L.distributed, align: 'right' },
        { key: 'last_change_id', label: L.change, align: 'right' },
      ],
      rows: [status],
    }), { id: 'dash-counts' })),
    ui.section(L.sync,
      ui.formRow(L.lastRun, el('output', { id: 'dash-last-sync' }, ctx.time.timeElement(sync.last_run))),
      ui.formRow(L.interval, el('output', { id: 'dash-interval' },
        t(L.seconds, { s: Math.round(sync.interval_ms / 1000) })))),
    ui.section(L.products, ui.table({
      columns: [
        { key: 'name', label: L.name },
        { key: 'status', label: L.status, render: (r) => statusBadge(ui, r.status) },
        { key: 'last_heartbeat', label: L.heartbeat, time: true },
      ],
      rows: dir.items,
    })));
}
