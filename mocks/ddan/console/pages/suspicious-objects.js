// suspicious-objects.js - Virtual Analyzer > Suspicious Objects (seed STEP
// 2-1 and 4-2): the objects analysis generated, by type, with Expire Now
// and Never Expire (POST /api/suspicious_objects/{id}/{action}) and Add to
// Exceptions (POST /api/exceptions).
import { riskBadge, TYPE, label } from '../labels.js';

export default async function render(root, ctx) {
  const { api, ui, t, query, navigate, refresh } = ctx;
  const type = query.get('type') || '';
  const list = await api.get(`/api/suspicious_objects${type ? `?type=${type}` : ''}`);
  const filter = ui.select([{ value: '', label: { en: 'All', ja: 'すべて' } },
    ...Object.keys(TYPE).map((k) => ({ value: k, label: TYPE[k] }))], type, { id: 'type-filter' });
  filter.addEventListener('change', () =>
    navigate(`/virtual-analyzer/suspicious-objects${filter.value ? `?type=${filter.value}` : ''}`));
  const act = (o, action) => async () => {
    await api.post(`/api/suspicious_objects/${o.id}/${action}`);
    refresh();
  };
  const except = (o) => async () => {
    if (!await ui.confirmDialog({ en: 'Add to Exceptions', ja: '例外に追加' },
      { en: `${o.object} will no longer be a suspicious object.`,
        ja: `${o.object} は不審オブジェクトではなくなります。` })) return;
    await api.post('/api/exceptions', { type: o.type, value: o.object });
    refresh();
  };
  root.append(ui.pageHeader({ en: 'Suspicious Objects', ja: '不審オブジェクト' },
    ui.button('Refresh', refresh)),
  ui.section(null, ui.formRow({ en: 'Type', ja: '種類' }, filter),
    ui.table({
      columns: [
        { key: 'last_detected', label: { en: 'Last Detected', ja: '最終検出日時' }, time: true },
        { key: 'type', label: { en: 'Type', ja: '種類' }, render: (r) => t(label(TYPE, r.type)) },
        { key: 'object', label: { en: 'Object', ja: 'オブジェクト' },
          render: (r) => ui.el('code', { class: 'so-object' }, r.object) },
        { key: 'risk', label: { en: 'Risk Level', ja: '危険度' }, render: (r) => riskBadge(ui, r.risk) },
        { key: 'latest_related_sample', label: { en: 'Latest Related Sample', ja: '最新の関連サンプル' },
          render: (r) => ui.el('code', {}, r.latest_related_sample) },
        { key: 'related_submissions', label: { en: 'Related Submissions', ja: '関連サブミッション' },
          align: 'right' },
        { key: 'expiration', label: { en: 'Expiration', ja: '有効期限' },
          render: (r) => (r.never_expire ? t({ en: 'Never', ja: '無期限' }) : ctx.time.timeElement(r.expiration)) },
        { key: 'id', label: { en: 'Tasks', ja: 'タスク' },
          render: (r) => ui.el('span', { class: 'row-actions' },
            ui.button({ en: 'Expire Now', ja: '今すぐ期限切れにする' }, act(r, 'expire'),
              { id: `expire-${r.id}` }),
            r.never_expire
              ? ui.button({ en: 'Expire Normally', ja: '通常どおり期限切れにする' }, act(r, 'expire_normally'),
                { id: `normal-${r.id}` })
              : ui.button({ en: 'Never Expire', ja: '期限切れにしない' }, act(r, 'never_expire'),
                { id: `never-${r.id}` }),
            ui.button({ en: 'Add to Exceptions', ja: '例外に追加' }, except(r), { id: `except-${r.id}` })) },
      ],
      rows: list.suspicious_objects,
    })));
}
