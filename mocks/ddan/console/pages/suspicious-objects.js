// suspicious-objects.js - Virtual Analyzer > Suspicious Objects (seed STEP
// 2-1 and 4-2): the objects analysis generated, by type; tick objects, then
// Expire Now, Never Expire, Expire Normally (POST /api/suspicious_objects/
// {id}/{action}) or Add to Exceptions (POST /api/exceptions).
import { OBJECT_TYPES, objectType, riskBadge } from '../../shell/objects.js';

export default async function render(root, { api, ui, t, time, query, navigate, refresh }) {
  const type = query.get('type') || '';
  const list = await api.get(`/api/suspicious_objects${type ? `?type=${type}` : ''}`);
  const filter = ui.select([{ value: '', label: { en: 'All', ja: 'すべて' } },
    ...OBJECT_TYPES], type, { id: 'type-filter' });
  filter.addEventListener('change', () =>
    navigate(`/virtual-analyzer/suspicious-objects${filter.value ? `?type=${filter.value}` : ''}`));
  const ticked = () => list.suspicious_objects.filter((o) =>
    root.querySelector(`input.pick[value="${o.id}"]`)?.checked);
  const status = ui.el('div');
  const task = (fn) => async () => {
    const picked = ticked();
    if (!picked.length) {
      ui.mount(status, ui.message(t({ en: 'Select one or more objects first.',
        ja: '先にオブジェクトを選択してください。' }), 'error'));
      return;
    }
    for (const o of picked) await fn(o);
    refresh();
  };
  const action = (name) => task((o) => api.post(`/api/suspicious_objects/${o.id}/${name}`));
  const except = task((o) => api.post('/api/exceptions', { type: o.type, value: o.object }));
  root.append(ui.pageHeader({ en: 'Suspicious Objects', ja: '不審オブジェクト' },
    ui.button('Refresh', refresh)),
  ui.section(null, ui.formRow({ en: 'Type', ja: '種類' }, filter),
    ui.el('div', { class: 'toolbar', style: { display: 'flex', gap: '6px', margin: '8px 0' } },
      ui.button({ en: 'Expire Now', ja: '今すぐ期限切れにする' }, action('expire'), { id: 'so-expire' }),
      ui.button({ en: 'Never Expire', ja: '期限切れにしない' }, action('never_expire'), { id: 'so-never' }),
      ui.button({ en: 'Expire Normally', ja: '通常どおり期限切れにする' }, action('expire_normally'),
        { id: 'so-normal' }),
      ui.button({ en: 'Add to Exceptions', ja: '例外に追加' }, except, { id: 'so-except' })),
    status,
    ui.table({
      columns: [
        { key: 'id', label: '', render: (r) => ui.el('input', { type: 'checkbox', class: 'pick', value: r.id,
          'aria-label': r.object }) },
        { key: 'last_detected', label: { en: 'Last Detected', ja: '最終検出日時' }, time: true },
        { key: 'type', label: { en: 'Type', ja: '種類' }, render: (r) => t(objectType(r.type)) },
        { key: 'object', label: { en: 'Object', ja: 'オブジェクト' },
          render: (r) => ui.el('code', { class: 'so-object' }, r.object) },
        { key: 'risk', label: { en: 'Risk Level', ja: '危険度' }, render: (r) => riskBadge(r.risk) },
        { key: 'latest_related_sample', label: { en: 'Latest Related Sample', ja: '最新の関連サンプル' },
          render: (r) => ui.el('code', {}, r.latest_related_sample) },
        { key: 'related_submissions', label: { en: 'Related Submissions', ja: '関連サブミッション' },
          align: 'right' },
        { key: 'expiration', label: { en: 'Expiration', ja: '有効期限' },
          render: (r) => (r.never_expire ? t({ en: 'Never', ja: '無期限' }) : time.timeElement(r.expiration)) },
      ],
      rows: list.suspicious_objects,
    })));
}
