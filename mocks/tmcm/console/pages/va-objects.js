// va-objects.js - Administration > Suspicious Objects > Virtual Analyzer
// Objects (seed STEP 2-2/2-3, 3-2/3-3, 4-3): the objects DDAN and DDI
// reported (Source: the one that saw it first, the others after it),
// filtered by type and source (any that reported it), a page at a time; tick objects,
// "Set action" → Log / Block (and the expiry) → Apply, then "Apply action"
// on the confirmation screen; the list then shows the new action.
// API: GET /api/va-objects, GET /api/sources, POST /api/va-objects/action,
// POST /api/sync.
import { withQuery } from '../../shell/api.js';
import { OBJECT_TYPES, RISKS, ACTIONS, objectType } from '../../shell/objects.js';
import { STATUS, ACTION_NOTE } from '../labels.js';

const PAGE_SIZE = 25;

const L = {
  title: { en: 'Virtual Analyzer Objects', ja: '仮想アナライザオブジェクト' },
  type: { en: 'Type', ja: '種類' },
  source: { en: 'Source', ja: '送信元' },
  alsoFrom: { en: 'also reported by {s}', ja: '{s} からも報告' },
  all: { en: 'All', ja: 'すべて' },
  search: { en: 'Object contains', ja: 'オブジェクトに含む文字列' },
  showExpired: { en: 'Show expired objects', ja: '期限切れのオブジェクトを表示' },
  filter: { en: 'Search', ja: '検索' },
  setAction: { en: 'Set action', ja: '処理を設定' },
  syncNow: { en: 'Sync Now', ja: '今すぐ同期' },
  object: { en: 'Object', ja: 'オブジェクト' },
  risk: { en: 'Risk level', ja: 'リスクレベル' },
  action: { en: 'Action', ja: '検出時の処理' },
  expiration: { en: 'Expiration', ja: '有効期限' },
  lastSynced: { en: 'Last synchronized', ja: '最終同期日時' },
  status: { en: 'Status', ja: 'ステータス' },
  never: { en: 'Never', ja: 'なし' },
  selectAll: { en: 'Select all', ja: 'すべて選択' },
  select: { en: 'Select {v}', ja: '{v} を選択' },
  range: { en: '{from}–{to} of {total}', ja: '{total} 件中 {from}–{to} 件' },
  prev: { en: 'Previous', ja: '前へ' },
  next: { en: 'Next', ja: '次へ' },
  noneTicked: { en: 'Tick the objects first.', ja: '対象のオブジェクトをチェックしてください。' },
  keepExpiry: { en: 'Keep the current expiration', ja: '現在の有効期限を維持' },
  neverExpire: { en: 'Never expires', ja: '無期限' },
  onDate: { en: 'Expires on (UTC)', ja: '有効期限 (UTC)' },
  expiryLabel: { en: 'Expiration', ja: '有効期限' },
  quarantineFiles: { en: 'Quarantine applies to file objects only.', ja: '隔離はファイルオブジェクトのみに適用できます。' },
  confirmTitle: { en: 'Apply action', ja: '処理を適用' },
  confirmText: { en: 'The action below will be applied to {n} object(s) and distributed to the managed products.', ja: '次の処理を {n} 件のオブジェクトに適用し、管理対象製品に配信します。' },
  newAction: { en: 'New action', ja: '新しい処理' },
  applied: { en: 'The action was applied to {n} object(s) (change {c}).', ja: '{n} 件のオブジェクトに処理を適用しました (変更番号 {c})。' },
  syncRequested: { en: 'Synchronization requested.', ja: '同期を要求しました。' },
  pickDate: { en: 'Choose the expiration date.', ja: '有効期限の日付を選択してください。' },
};

export default async function render(root, ctx) {
  const { api, ui, t, query } = ctx;
  const { el } = ui;
  const state = {
    type: query.get('type') || '', source: query.get('source') || '', q: query.get('q') || '',
    all: query.get('all') === '1', offset: Number(query.get('offset') || 0),
  };
  const sources = await api.get('/api/sources');
  if (!ctx.active()) return;
  const notice = el('div', { id: 'va-notice' });
  const body = el('div', { id: 'va-body' });

  const typeSel = ui.select([{ value: '', label: L.all }, ...OBJECT_TYPES], state.type, { id: 'va-type' });
  const sourceSel = ui.select([{ value: '', label: L.all },
    ...sources.map((s) => ({ value: s.name, label: { en: s.name } }))], state.source,
  { id: 'va-source' });
  const search = ui.input({ id: 'va-q', value: state.q });
  const expired = ui.checkbox(L.showExpired, state.all, { id: 'va-all' });
  const filters = el('form', { class: 'filters', id: 'va-filters' },
    ui.formRow(L.type, typeSel), ui.formRow(L.source, sourceSel), ui.formRow(L.search, search),
    expired, el('div', { class: 'form-actions' }, ui.button(L.filter, null, { submit: true, id: 'va-search' })));
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    Object.assign(state, { type: typeSel.value, source: sourceSel.value, q: search.value,
      all: expired.querySelector('input').checked, offset: 0 });
    load();
  });

  const setAction = ui.button(L.setAction, () => openSetAction(), { primary: true, id: 'set-action' });
  const syncNow = ui.button(L.syncNow, async () => {
    await api.post('/api/sync');
    ui.mount(notice, ui.message(t(L.syncRequested), 'ok'));
  }, { id: 'sync-now' });
  root.append(ui.pageHeader(L.title, syncNow), notice, ui.section(null, filters),
    el('div', { class: 'toolbar' }, setAction), body);

  let rows = [];
  const ticked = new Set();

  async function load() {
    const path = withFilters();
    const list = await api.get(path);
    if (!ctx.active()) return;
    rows = list.items;
    ticked.clear();
    const table = grid();
    table.dataset.query = path; // which search the table shows (tests wait on it)
    ui.mount(body, table, pager(list.total));
  }

  function withFilters() {
    return withQuery('/api/va-objects', { limit: PAGE_SIZE, offset: state.offset, type: state.type,
      source: state.source, q: state.q, all: state.all ? '1' : '' });
  }

  function tickBox(row) {
    const box = el('input', { type: 'checkbox', class: 'tick', 'aria-label': t(L.select, { v: row.value }),
      dataset: { id: row.id, value: row.value } });
    box.addEventListener('change', () => (box.checked ? ticked.add(row.id) : ticked.delete(row.id)));
    return box;
  }

  // the source that saw the object first (seed STEP 3-2: DDI), then the
  // others that reported it too
  function sourceCell(row) {
    const others = (row.sources || []).filter((s) => s !== row.source);
    return el('span', { class: 'source' }, el('span', { class: 'first-source' }, row.source),
      others.length ? el('span', { class: 'hint also-from' }, ` (${t(L.alsoFrom, { s: others.join(', ') })})`) : null);
  }

  function grid() {
    const all = el('input', { type: 'checkbox', id: 'va-tick-all', 'aria-label': t(L.selectAll) });
    all.addEventListener('change', () => {
      for (const box of body.querySelectorAll('input.tick')) {
        box.checked = all.checked;
        box.dispatchEvent(new Event('change'));
      }
    });
    const table = ui.table({
      columns: [
        { key: 'tick', label: { en: '' }, render: tickBox },
        { key: 'value', label: L.object, render: (r) => el('span', { class: 'mono object' }, r.value) },
        { key: 'type', label: L.type, render: (r) => t(objectType(r.type)) },
        { key: 'source', label: L.source, render: sourceCell },
        { key: 'risk', label: L.risk, render: (r) => t(RISKS[r.risk] || { en: r.risk }) },
        { key: 'action', label: L.action,
          render: (r) => el('span', { class: `action action-${r.action}` }, t(ACTIONS[r.action] || { en: r.action })) },
        { key: 'expires', label: L.expiration,
          render: (r) => (r.expires ? ctx.time.timeElement(r.expires) : t(L.never)) },
        { key: 'last_synced', label: L.lastSynced, time: true },
        { key: 'status', label: L.status,
          render: (r) => ui.badge(r.status === 'active' ? 'ok' : 'warning', STATUS[r.status] || { en: r.status }) },
      ],
      rows,
    });
    table.id = 'va-table';
    table.querySelector('thead th').append(all);
    return table;
  }

  function pager(total) {
    const from = total ? state.offset + 1 : 0;
    const to = Math.min(state.offset + PAGE_SIZE, total);
    const go = (offset) => () => {
      state.offset = offset;
      return load();
    };
    return el('div', { class: 'pager' },
      ui.button(L.prev, go(Math.max(0, state.offset - PAGE_SIZE)), { disabled: state.offset === 0 }),
      el('span', { class: 'range' }, t(L.range, { from, to, total })),
      ui.button(L.next, go(state.offset + PAGE_SIZE), { disabled: to >= total }));
  }

  // "Set action": the dialog of the seed's second screenshot.
  async function openSetAction() {
    const chosen = rows.filter((r) => ticked.has(r.id));
    if (chosen.length === 0) {
      ui.mount(notice, ui.message(t(L.noneTicked), 'error'));
      return;
    }
    const onlyFiles = chosen.every((r) => r.type === 'FILE');
    const radios = Object.entries(ACTIONS)
      .filter(([v]) => v !== 'quarantine' || onlyFiles)
      .map(([v, label]) => el('label', { class: 'check' },
        el('input', { type: 'radio', name: 'va-action', value: v, checked: v === 'log' }),
        ' ', t(label)));
    const expiry = ui.select([{ value: 'keep', label: L.keepExpiry }, { value: 'never', label: L.neverExpire },
      { value: 'date', label: L.onDate }], 'keep', { id: 'va-expiry' });
    const date = ui.input({ type: 'date', id: 'va-expiry-date', disabled: true });
    expiry.addEventListener('change', () => { date.disabled = expiry.value !== 'date'; });
    const form = el('div', { class: 'set-action' },
      el('fieldset', { id: 'va-actions' }, el('legend', {}, t(L.action)), radios),
      onlyFiles ? null : el('p', { class: 'hint' }, t(L.quarantineFiles)),
      ui.formRow(L.expiryLabel, expiry), ui.formRow(L.onDate, date),
      ui.message(t(ACTION_NOTE), 'info'));
    const ok = await ui.dialog({ title: L.setAction, body: form, buttons: [
      { label: 'Cancel', value: false }, { label: 'Apply', value: true, primary: true, id: 'set-action-apply' }] });
    if (!ok) return;
    const action = form.querySelector('input[name="va-action"]:checked').value;
    const request = { ids: chosen.map((r) => r.id), action };
    if (expiry.value === 'never') request.expiration_utc_date = null;
    if (expiry.value === 'date') {
      if (!date.value) {
        ui.mount(notice, ui.message(t(L.pickDate), 'error'));
        return;
      }
      request.expiration_utc_date = date.value;
    }
    confirmScreen(chosen, request);
  }

  // The seed's next screen: the selection and its new action, "Apply action".
  function confirmScreen(chosen, request) {
    const back = ui.button('Back', () => ui.mount(root, ...saved), { id: 'apply-back' });
    const apply = ui.button(L.confirmTitle, async () => {
      const r = await api.post('/api/va-objects/action', request);
      ui.mount(root, ...saved);
      await load();
      ui.mount(notice, ui.message(t(L.applied, { n: r.updated, c: r.change_id }), 'ok'));
    }, { primary: true, id: 'apply-action' });
    const saved = [...root.childNodes];
    ui.mount(root, ui.pageHeader(L.confirmTitle),
      ui.message(t(L.confirmText, { n: chosen.length }), 'info'),
      ui.table({
        columns: [
          { key: 'value', label: L.object, render: (r) => el('span', { class: 'mono' }, r.value) },
          { key: 'type', label: L.type, render: (r) => t(objectType(r.type)) },
          { key: 'action', label: L.action, render: (r) => t(ACTIONS[r.action] || { en: r.action }) },
          { key: 'new', label: L.newAction, render: () => el('strong', {}, t(ACTIONS[request.action])) },
        ],
        rows: chosen,
      }),
      el('div', { class: 'form-actions' }, back, apply));
  }

  await load();
}
