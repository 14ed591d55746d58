// web-reputation.js - Smart Protection > Web Reputation: the latest queries
// web reputation clients (IMSVA among them) sent, newest first, with the
// rating each got and what decided it (the URL lists, a suspicious object,
// Trend's test pages, or nothing: Unrated). API: GET /api/wrs/log.
import { ACTIONS } from '../../shell/objects.js';
import { ratingBadge } from '../labels.js';

const L = {
  title: { en: 'Web Reputation', ja: 'Webレピュテーション' },
  log: { en: 'Recent queries', ja: '最近のクエリ' },
  time: { en: 'Time', ja: '日時' },
  client: { en: 'Client', ja: 'クライアント' },
  query: { en: 'URL / SHA-1', ja: 'URL / SHA-1' },
  rating: { en: 'Rating', ja: '評価' },
  score: { en: 'Score', ja: 'スコア' },
  category: { en: 'Category', ja: 'カテゴリ' },
  source: { en: 'Decided by', ja: '判定元' },
  action: { en: 'Suspicious object action', ja: '不審オブジェクトの処理' },
  refresh: { en: 'Refresh', ja: '更新' },
  total: { en: '{n} queries since the server started (the latest {k} are kept).', ja: 'サーバ起動後のクエリ数: {n} 件 (最新 {k} 件を保持)' },
  blocked_list: { en: 'Blocked URL list', ja: 'ブロックするURL' },
  approved_list: { en: 'Approved URL list', ja: '承認するURL' },
  suspicious_object: { en: 'Suspicious object', ja: '不審オブジェクト' },
  builtin: { en: 'Test page', ja: 'テストページ' },
  none: { en: 'Not rated', ja: '未評価' },
};

export default async function render(root, ctx) {
  const { api, ui, t } = ctx;
  const body = ui.el('div', { id: 'wrs-body' });
  root.append(ui.pageHeader(L.title, ui.button(L.refresh, () => load(), { id: 'wrs-refresh' })),
    ui.section(L.log, body));

  async function load() {
    const log = await api.get('/api/wrs/log');
    if (!ctx.active()) return;
    const table = ui.table({
      columns: [
        { key: 'time', label: L.time, time: true },
        { key: 'client', label: L.client },
        { key: 'query', label: L.query, render: (r) => ui.el('span', { class: 'mono' }, r.query) },
        { key: 'rating', label: L.rating, render: (r) => ratingBadge(ui, r.rating) },
        { key: 'score', label: L.score, align: 'right' },
        { key: 'category', label: L.category },
        { key: 'source', label: L.source, render: (r) => t(L[r.source] || { en: r.source }) },
        { key: 'action', label: L.action, render: (r) => (r.action ? t(ACTIONS[r.action] || { en: r.action }) : '') },
      ],
      rows: log.items,
    });
    table.id = 'wrs-table';
    ui.mount(body, ui.el('p', { class: 'hint' }, t(L.total, { n: log.total, k: log.items.length })), table);
  }

  await load();
}
