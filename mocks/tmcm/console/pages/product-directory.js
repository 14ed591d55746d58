// product-directory.js - Directories > Product Directory: the managed
// products — the DDAN and DDIs TMCM pulls suspicious objects from, and the
// IMSVA and SPS that pull TMCM's list — with their status, last heartbeat,
// last feed pull and the change number reached. API: GET /api/directory.
import { statusBadge } from '../labels.js';

const L = {
  title: { en: 'Product Directory', ja: '製品ディレクトリ' },
  name: { en: 'Name', ja: '名前' },
  product: { en: 'Product', ja: '製品' },
  role: { en: 'Role', ja: '役割' },
  address: { en: 'Address', ja: 'アドレス' },
  status: { en: 'Status', ja: 'ステータス' },
  heartbeat: { en: 'Last heartbeat', ja: '最終ハートビート' },
  pull: { en: 'Last feed pull', ja: '最終フィード取得' },
  change: { en: 'Change number', ja: '変更番号' },
  error: { en: 'Last error', ja: '最後のエラー' },
  source: { en: 'Suspicious object source', ja: '不審オブジェクトの送信元' },
  subscriber: { en: 'Subscriber (receives the list)', ja: '配信先 (リストを受信)' },
  refresh: { en: 'Refresh', ja: '更新' },
};

export default async function render(root, ctx) {
  const { api, ui, t } = ctx;
  const body = ui.el('div', { id: 'dir-body' });
  root.append(ui.pageHeader(L.title, ui.button(L.refresh, () => load(), { id: 'dir-refresh' })), body);

  async function load() {
    const d = await api.get('/api/directory');
    if (!ctx.active()) return;
    const table = ui.table({
      columns: [
        { key: 'name', label: L.name },
        { key: 'product', label: L.product },
        { key: 'role', label: L.role, render: (r) => t(L[r.role] || { en: r.role }) },
        { key: 'address', label: L.address, render: (r) => ui.el('span', { class: 'mono' }, r.address) },
        { key: 'status', label: L.status, render: (r) => statusBadge(ui, r.status) },
        { key: 'last_heartbeat', label: L.heartbeat, time: true },
        { key: 'last_feed_pull', label: L.pull, time: true },
        { key: 'change_id', label: L.change, align: 'right' },
        { key: 'last_error', label: L.error },
      ],
      rows: d.items,
    });
    table.id = 'dir-table';
    ui.mount(body, table);
  }

  await load();
}
