// suspicious-objects.js - Detections > Suspicious Objects (seed STEP 3-1:
// 検出 > 不審オブジェクト): the objects DDI made from risky files, which TMCM
// pulls (GET /api/detections/suspicious_objects).
import { OBJECT_TYPES, objectType, riskBadge } from '../../shell/objects.js';
import { handoffNote } from '../labels.js';

export default async function render(root, { api, ui, t, time, query, navigate, refresh }) {
  const type = query.get('type') || '';
  const [list, s] = await Promise.all([
    api.get(`/api/detections/suspicious_objects${type ? `?type=${type}` : ''}`), api.get('/api/status')]);
  const filter = ui.select([{ value: '', label: { en: 'All', ja: 'すべて' } },
    ...OBJECT_TYPES], type, { id: 'type-filter' });
  filter.addEventListener('change', () =>
    navigate(`/detections/suspicious-objects${filter.value ? `?type=${filter.value}` : ''}`));
  root.append(ui.pageHeader({ en: 'Suspicious Objects', ja: '不審オブジェクト' }, ui.button('Refresh', refresh)),
    handoffNote(ui, t, s.capture) || '',
    ui.section(null, ui.formRow({ en: 'Type', ja: '種類' }, filter), ui.table({
      columns: [
        { key: 'last_seen', label: { en: 'Last Detected', ja: '最終検出日時' }, time: true },
        { key: 'type', label: { en: 'Type', ja: '種類' }, render: (r) => t(objectType(r.type)) },
        { key: 'value', label: { en: 'Object', ja: 'オブジェクト' },
          render: (r) => ui.el('code', { class: 'so-object' }, r.value) },
        { key: 'risk', label: { en: 'Risk Level', ja: '危険度' }, render: (r) => riskBadge(r.risk) },
        { key: 'related_sha1', label: { en: 'Latest Related Sample', ja: '最新の関連サンプル' },
          render: (r) => ui.el('code', {}, r.related_sha1) },
        { key: 'expires', label: { en: 'Expiration', ja: '有効期限' },
          render: (r) => (r.expires ? time.timeElement(r.expires) : t({ en: 'Never', ja: '無期限' })) },
      ],
      rows: list.suspicious_objects,
    })));
}
