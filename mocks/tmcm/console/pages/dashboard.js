// dashboard.js - TMCM's Dashboard: what the appliance is and how long it
// has been up (GET /healthz).
export default async function render(root, { api, ui, t }) {
  const health = await api.get('/healthz');
  root.append(ui.pageHeader({ en: 'Dashboard', ja: 'ダッシュボード' }),
    ui.section({ en: 'System status', ja: 'システムステータス' },
      ui.table({
        columns: [
          { key: 'appliance', label: { en: 'Appliance', ja: 'アプライアンス' } },
          { key: 'version', label: { en: 'Version', ja: 'バージョン' } },
          { key: 'store', label: { en: 'Database', ja: 'データベース' }, render: (r) => ui.badge(r.store) },
          { key: 'uptime', label: { en: 'Uptime', ja: '稼働時間' },
            render: (r) => t({ en: '{s} s', ja: '{s} 秒' }, { s: Math.round(r.uptime_ms / 1000) }) },
        ],
        rows: [health],
      })));
}
