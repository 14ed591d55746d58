// dashboard.js - DDAN's Dashboard: the shell's system status, then
// submissions by state and risk, active suspicious objects, exceptions and
// submitters (GET /api/dashboard), and the latest submissions (GET
// /api/samples).
import { systemStatus } from '/_console/shell/status.js';
import { word, riskBadge } from '../../shell/objects.js';
import { STATUS } from '../labels.js';

export default async function render(root, { api, ui, t, navigate }) {
  const [d, latest] = await Promise.all([api.get('/api/dashboard'),
    api.get('/api/samples?limit=5')]);
  const s = d.samples;
  const counts = [
    [{ en: 'Submissions', ja: 'サブミッション' }, s.total],
    [{ en: 'Being analyzed', ja: '解析中' }, s.in_progress],
    [{ en: 'High risk', ja: '危険度: 高' }, s.high],
    [{ en: 'Medium risk', ja: '危険度: 中' }, s.medium],
    [{ en: 'Low risk', ja: '危険度: 低' }, s.low],
    [{ en: 'No risk', ja: '危険度なし' }, s.no_risk],
    [{ en: 'Suspicious objects', ja: '不審オブジェクト' }, d.suspicious_objects],
    [{ en: 'Exceptions', ja: '例外' }, d.exceptions],
    [{ en: 'Submitters', ja: '送信元' }, d.submitters],
  ];
  root.append(ui.pageHeader({ en: 'Dashboard', ja: 'ダッシュボード' }), await systemStatus(),
    ui.section({ en: 'Virtual Analyzer summary', ja: '仮想アナライザの概要' },
      ui.table({
        columns: [{ key: 0, label: { en: 'Item', ja: '項目' }, render: (r) => t(r[0]) },
          { key: 1, label: { en: 'Count', ja: '件数' }, align: 'right' }],
        rows: counts,
      })),
    ui.section({ en: 'Latest submissions', ja: '最近のサブミッション' },
      ui.table({
        columns: [
          { key: 'submitted_ms', label: { en: 'Submitted', ja: '送信日時' }, time: true },
          { key: 'orig_name', label: { en: 'File name', ja: 'ファイル名' } },
          { key: 'status_name', label: { en: 'Status', ja: 'ステータス' },
            render: (r) => t(word(STATUS, r.status_name)) },
          { key: 'risk_name', label: { en: 'Risk level', ja: '危険度' },
            render: (r) => riskBadge(r.risk_name) },
        ],
        rows: latest.samples,
        onRowClick: (r) => navigate(`/virtual-analyzer/submission?sha1=${r.sha1}`),
      })));
}
