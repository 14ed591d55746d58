// dashboard.js - DDI's Dashboard: the shell's system status, then capture
// and analysis at a glance with the totals (GET /api/status) and the latest
// detections (GET /api/detections).
import { systemStatus } from '/_console/shell/status.js';
import { riskBadge } from '../../shell/objects.js';
import { captureBadge, handoffNote } from '../labels.js';

export default async function render(root, { api, ui, t, navigate }) {
  const [s, d] = await Promise.all([api.get('/api/status'), api.get('/api/detections?limit=5')]);
  const c = s.capture, a = s.analysis, n = s.totals;
  root.append(ui.pageHeader({ en: 'Dashboard', ja: 'ダッシュボード' }),
    handoffNote(ui, t, c) || '', await systemStatus(),
    ui.section({ en: 'Sensor', ja: 'センサー' }, ui.fields([
      [{ en: 'Monitored interface', ja: '監視インターフェース' }, c.interface],
      [{ en: 'Capture', ja: 'キャプチャ' }, captureBadge(ui, c.state)],
      [{ en: 'Virtual Analyzer', ja: '仮想アナライザ' }, a.mode === 'ddan'
        ? `DDAN ${a.ddan_url}` : t({ en: 'Internal', ja: '内蔵' })],
      [{ en: 'Detections', ja: '検出' }, n.detections],
      [{ en: 'Suspicious objects', ja: '不審オブジェクト' }, n.suspicious_objects],
      [{ en: 'Files carved', ja: '抽出されたファイル' }, n.files],
    ])),
    ui.section({ en: 'Latest detections', ja: '最近の検出' }, ui.table({
      columns: [
        { key: 'ts', label: { en: 'Detected', ja: '検出日時' }, time: true },
        { key: 'file_name', label: { en: 'File name', ja: 'ファイル名' } },
        { key: 'risk_level', label: { en: 'Risk level', ja: '危険度' }, render: (r) => riskBadge(r.risk_level) },
        { key: 'url', label: { en: 'URL', ja: 'URL' } },
      ],
      rows: d.detections,
      onRowClick: () => navigate('/detections/all'),
    })));
}
