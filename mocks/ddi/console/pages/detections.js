// detections.js - Detections > All Detections: every file DDI judged risky,
// with where it came from (GET /api/detections).
import { riskBadge } from '../../shell/objects.js';

export default async function render(root, { api, ui, refresh }) {
  const d = await api.get('/api/detections?limit=500');
  root.append(ui.pageHeader({ en: 'All Detections', ja: 'すべての検出' }, ui.button('Refresh', refresh)),
    ui.section(null, ui.table({
      columns: [
        { key: 'ts', label: { en: 'Detected', ja: '検出日時' }, time: true },
        { key: 'risk_level', label: { en: 'Risk level', ja: '危険度' }, render: (r) => riskBadge(r.risk_level) },
        { key: 'threat', label: { en: 'Threat', ja: '脅威' } },
        { key: 'detected_by', label: { en: 'Detected by', ja: '検出方法' } },
        { key: 'proto', label: { en: 'Protocol', ja: 'プロトコル' } },
        { key: 'file_name', label: { en: 'File name', ja: 'ファイル名' } },
        { key: 'sha1', label: { en: 'SHA-1', ja: 'SHA-1' }, render: (r) => ui.el('code', {}, r.sha1) },
        { key: 'url', label: { en: 'URL', ja: 'URL' } },
        { key: 'client_ip', label: { en: 'Source', ja: '送信元' }, render: (r) => `${r.client_ip}:${r.client_port}` },
        { key: 'server_ip', label: { en: 'Destination', ja: '宛先' }, render: (r) => `${r.server_ip}:${r.server_port}` },
      ],
      rows: d.detections,
    })));
}
