// status.js - the system status panel every Dashboard starts with: which
// appliance, its version, its database and how long it has been up
// (GET /healthz).
import { api } from './api.js';
import { t } from './i18n.js';
import { badge, section, table } from './ui.js';

export async function systemStatus() {
  const health = await api.get('/healthz');
  return section({ en: 'System status', ja: 'システムステータス' }, table({
    columns: [
      { key: 'appliance', label: { en: 'Appliance', ja: 'アプライアンス' } },
      { key: 'version', label: { en: 'Version', ja: 'バージョン' } },
      { key: 'store', label: { en: 'Database', ja: 'データベース' }, render: (r) => badge(r.store) },
      { key: 'uptime', label: { en: 'Uptime', ja: '稼働時間' },
        render: (r) => t({ en: '{s} s', ja: '{s} 秒' }, { s: Math.round(r.uptime_ms / 1000) }) },
    ],
    rows: [health],
  }));
}
