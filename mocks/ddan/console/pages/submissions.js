// submissions.js - Virtual Analyzer > Submissions: every submitted sample
// with its status and risk (GET /api/samples); a row opens its detail.
import { word, riskBadge } from '../../shell/objects.js';
import { STATUS } from '../labels.js';

export default async function render(root, { api, ui, t, navigate, query, refresh }) {
  const status = query.get('status') || '';
  const list = await api.get(`/api/samples${status ? `?status=${status}` : ''}`);
  const filter = ui.select([{ value: '', label: { en: 'All', ja: 'すべて' } },
    ...Object.keys(STATUS).map((k) => ({ value: k, label: STATUS[k] }))], status,
  { id: 'status-filter' });
  filter.addEventListener('change', () =>
    navigate(`/virtual-analyzer/submissions${filter.value ? `?status=${filter.value}` : ''}`));
  root.append(ui.pageHeader({ en: 'Submissions', ja: 'サブミッション' },
    ui.button('Refresh', refresh)),
  ui.section(null, ui.formRow({ en: 'Status', ja: 'ステータス' }, filter),
    ui.table({
      columns: [
        { key: 'submitted_ms', label: { en: 'Submitted', ja: '送信日時' }, time: true },
        { key: 'id', label: { en: 'ID', ja: 'ID' }, align: 'right' },
        { key: 'orig_name', label: { en: 'File name / URL', ja: 'ファイル名 / URL' } },
        { key: 'sha1', label: { en: 'SHA-1', ja: 'SHA-1' }, render: (r) => ui.el('code', {}, r.sha1) },
        { key: 'true_type', label: { en: 'Type', ja: '種類' } },
        { key: 'source_name', label: { en: 'Source', ja: '送信元' } },
        { key: 'status_name', label: { en: 'Status', ja: 'ステータス' },
          render: (r) => t(word(STATUS, r.status_name)) },
        { key: 'risk_name', label: { en: 'Risk level', ja: '危険度' },
          render: (r) => riskBadge(r.risk_name) },
      ],
      rows: list.samples,
      onRowClick: (r) => navigate(`/virtual-analyzer/submission?sha1=${r.sha1}`),
    })));
}
