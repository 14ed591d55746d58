// summary.js - SPS's Summary: the shell's system status, the product and
// its web reputation port, the suspicious-object subscription at a glance and
// how many queries were answered. API: GET /api/about, /api/so/status,
// /api/wrs/log.
import { systemStatus } from '/_console/shell/status.js';
import { SOURCES, subscriptionBadge } from '../labels.js';

const L = {
  title: { en: 'Summary', ja: 'サマリ' },
  product: { en: 'Product', ja: '製品' },
  version: { en: 'Version', ja: 'バージョン' },
  wrsPort: { en: 'Web reputation port (HTTP)', ja: 'Webレピュテーションポート (HTTP)' },
  subscription: { en: 'Suspicious objects', ja: '不審オブジェクト' },
  source: { en: 'Source', ja: '取得元' },
  status: { en: 'Status', ja: 'ステータス' },
  lastSync: { en: 'Last synchronized', ja: '同期された時刻' },
  lastChange: { en: 'Last synchronization that brought changes', ja: '変更を取得した最後の同期' },
  objects: { en: 'Objects', ja: 'オブジェクト数' },
  queries: { en: 'Web reputation queries answered', ja: '応答したWebレピュテーションクエリ' },
  none: { en: '—', ja: '—' },
};

export default async function render(root, ctx) {
  const { api, ui, t } = ctx;
  const { el } = ui;
  const [system, about, so, log] = await Promise.all([systemStatus(), api.get('/api/about'),
    api.get('/api/so/status'), api.get('/api/wrs/log?limit=1')]);
  if (!ctx.active()) return;
  // label: value rows laid out as the shell lays out its forms
  const dl = (rows) => rows.map(([k, v, id]) => ui.formRow(k, el('output', { id }, v ?? t(L.none))));
  root.append(ui.pageHeader(L.title), system,
    ui.section(null, dl([
      [L.product, about.product, 'sum-product'],
      [L.version, about.version, 'sum-version'],
      [L.wrsPort, String(about.wrs_port), 'sum-wrs-port'],
      [L.queries, String(log.total), 'sum-queries'],
    ])),
    ui.section(L.subscription, dl([
      [L.source, t(SOURCES[so.source] || { en: so.source }), 'sum-source'],
      [L.status, subscriptionBadge(ui, so.status), 'sum-status'],
      [L.lastSync, so.last_sync ? ctx.time.timeElement(so.last_sync) : null, 'sum-last-sync'],
      [L.lastChange, so.last_change ? ctx.time.timeElement(so.last_change) : null, 'sum-last-change'],
      [L.objects, String(so.object_count), 'sum-objects'],
    ])));
}
