// exceptions.js - Administration > Suspicious Objects > Exceptions: Virtual
// Analyzer objects never distributed (a value may hold * and ? wildcards).
// API: GET/POST /api/exceptions, DELETE /api/exceptions/{id}.
import { OBJECT_TYPES, objectType } from '../../shell/objects.js';

const L = {
  title: { en: 'Exceptions', ja: '例外' },
  add: { en: 'Add', ja: '追加' },
  type: { en: 'Type', ja: '種類' },
  value: { en: 'Object', ja: 'オブジェクト' },
  valueHint: { en: 'Wildcards: * and ?', ja: 'ワイルドカード: * と ?' },
  notes: { en: 'Notes', ja: 'メモ' },
  created: { en: 'Added', ja: '追加日時' },
  del: { en: 'Delete', ja: '削除' },
  confirmDelete: { en: 'Delete the exception {v}?', ja: '例外 {v} を削除しますか?' },
  added: { en: 'Added the exception {v}.', ja: '例外 {v} を追加しました。' },
};

export default async function render(root, ctx) {
  const { api, ui, t } = ctx;
  const { el } = ui;
  const notice = el('div', { id: 'exc-notice' });
  const body = el('div', { id: 'exc-body' });
  const type = ui.select(OBJECT_TYPES, 'URL', { id: 'exc-type' });
  const value = ui.input({ id: 'exc-value', required: true });
  const notes = ui.input({ id: 'exc-notes' });
  const form = el('form', { class: 'inline-form', id: 'exc-form' }, ui.formRow(L.type, type),
    ui.formRow(L.value, value, L.valueHint), ui.formRow(L.notes, notes),
    el('div', { class: 'form-actions' }, ui.button(L.add, null, { primary: true, submit: true, id: 'exc-add' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    await api.post('/api/exceptions', { type: type.value, value: value.value, notes: notes.value });
    await load();
    ui.mount(notice, ui.message(t(L.added, { v: value.value }), 'ok'));
    form.reset();
  });
  root.append(ui.pageHeader(L.title), notice, ui.section(null, form), body);

  async function load() {
    const list = await api.get('/api/exceptions');
    if (!ctx.active()) return;
    const table = ui.table({
      columns: [
        { key: 'value', label: L.value, render: (r) => el('span', { class: 'mono' }, r.value) },
        { key: 'type', label: L.type, render: (r) => t(objectType(r.type)) },
        { key: 'notes', label: L.notes },
        { key: 'created', label: L.created, time: true },
        { key: 'ops', label: { en: '' }, render: (r) => ui.button(L.del, async () => {
          if (!(await ui.confirmDialog(L.del, t(L.confirmDelete, { v: r.value })))) return;
          await api.del(`/api/exceptions/${r.id}`);
          await load();
        }, { danger: true }) },
      ],
      rows: list,
    });
    table.id = 'exc-table';
    ui.mount(body, table);
  }

  await load();
}
