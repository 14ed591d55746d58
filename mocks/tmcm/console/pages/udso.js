// udso.js - Administration > Suspicious Objects > User-Defined Objects: the
// objects an administrator adds by hand (add, edit, delete) and the CSV
// Import / Export of the list. API: GET/POST/DELETE /api/udso,
// POST /api/udso/import, GET /api/udso/export.
import { withQuery } from '../../shell/api.js';
import { ACTIONS, objectType } from '../../shell/objects.js';
import { UDSO_TYPES, dateOnly } from '../labels.js';

const L = {
  title: { en: 'User-Defined Objects', ja: 'ユーザ定義オブジェクト' },
  add: { en: 'Add', ja: '追加' },
  import: { en: 'Import CSV', ja: 'CSVのインポート' },
  export: { en: 'Export CSV', ja: 'CSVのエクスポート' },
  type: { en: 'Type', ja: '種類' },
  object: { en: 'Object', ja: 'オブジェクト' },
  action: { en: 'Action', ja: '検出時の処理' },
  expiration: { en: 'Expiration (UTC)', ja: '有効期限 (UTC)' },
  notes: { en: 'Notes', ja: 'メモ' },
  never: { en: 'Never', ja: 'なし' },
  edit: { en: 'Edit', ja: '編集' },
  del: { en: 'Delete', ja: '削除' },
  addTitle: { en: 'Add User-Defined Object', ja: 'ユーザ定義オブジェクトの追加' },
  editTitle: { en: 'Edit User-Defined Object', ja: 'ユーザ定義オブジェクトの編集' },
  expiryHint: { en: 'Empty: never expires.', ja: '空欄: 無期限' },
  confirmDelete: { en: 'Delete {v}?', ja: '{v} を削除しますか?' },
  saved: { en: 'Saved {v}.', ja: '{v} を保存しました。' },
  deleted: { en: 'Deleted {v}.', ja: '{v} を削除しました。' },
  csvFile: { en: 'CSV file', ja: 'CSVファイル' },
  csvHint: { en: 'Columns: Type, Object, Action, Expiration (UTC), Notes — the format Export writes.', ja: '列: 種類, オブジェクト, 処理, 有効期限 (UTC), メモ (エクスポートと同じ形式)' },
  imported: { en: 'Imported {n} object(s); {f} line(s) failed.', ja: '{n} 件をインポートしました。失敗した行: {f} 件' },
  line: { en: 'Line {n}: {m}', ja: '{n} 行目: {m}' },
  noFile: { en: 'Choose a CSV file.', ja: 'CSVファイルを選択してください。' },
};

// The browser saves what url answers (the session cookie goes with it).
function download(url, name) {
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

export default async function render(root, ctx) {
  const { api, ui, t } = ctx;
  const { el } = ui;
  const notice = el('div', { id: 'udso-notice' });
  const body = el('div', { id: 'udso-body' });
  root.append(ui.pageHeader(L.title,
    ui.button(L.add, () => edit(null), { primary: true, id: 'udso-add' }),
    ui.button(L.import, () => importCsv(), { id: 'udso-import' }),
    ui.button(L.export, () => download('/api/udso/export', 'user_defined_objects.csv'),
      { id: 'udso-export' })),
  notice, body);

  async function load() {
    const list = await api.get('/api/udso');
    if (!ctx.active()) return;
    const table = ui.table({
      columns: [
        { key: 'content', label: L.object, render: (r) => el('span', { class: 'mono' }, r.content) },
        { key: 'type', label: L.type, render: (r) => t(objectType(r.type, UDSO_TYPES)) },
        { key: 'scan_action', label: L.action, render: (r) => t(ACTIONS[r.scan_action] || { en: r.scan_action }) },
        { key: 'expiration_utc_date', label: L.expiration,
          render: (r) => (r.expiration_utc_date ? ctx.time.timeElement(`${r.expiration_utc_date}Z`) : t(L.never)) },
        { key: 'notes', label: L.notes },
        { key: 'ops', label: { en: '' }, render: (r) => el('span', { class: 'row-actions' },
          ui.button(L.edit, () => edit(r), { id: `udso-edit-${r.content}` }),
          ui.button(L.del, () => remove(r), { danger: true, id: `udso-del-${r.content}` })) },
      ],
      rows: list,
    });
    table.id = 'udso-table';
    ui.mount(body, table);
  }

  async function edit(row) {
    const type = ui.select(UDSO_TYPES, row ? row.type : 'url', { id: 'udso-type' });
    const content = ui.input({ id: 'udso-content', value: row ? row.content : '' });
    const action = ui.select(Object.entries(ACTIONS).map(([value, label]) => ({ value, label })),
      row ? row.scan_action : 'block', { id: 'udso-action' });
    const expires = ui.input({ type: 'date', id: 'udso-expires', value: row ? dateOnly(row.expiration_utc_date) : '' });
    const notes = ui.input({ id: 'udso-notes', value: row ? row.notes : '' });
    const ok = await ui.dialog({
      title: row ? L.editTitle : L.addTitle,
      body: el('div', {}, ui.formRow(L.type, type), ui.formRow(L.object, content),
        ui.formRow(L.action, action), ui.formRow(L.expiration, expires, L.expiryHint),
        ui.formRow(L.notes, notes)),
      buttons: [{ label: 'Cancel', value: false }, { label: 'Save', value: true, primary: true, id: 'udso-save' }],
    });
    if (!ok) return;
    const renamed = row && (row.type !== type.value || row.content !== content.value);
    const saved = await api.post('/api/udso', { type: type.value, content: content.value,
      scan_action: action.value, expiration_utc_date: expires.value, notes: notes.value });
    if (renamed) await api.del(withQuery('/api/udso', { type: row.type, content: row.content }));
    await load();
    ui.mount(notice, ui.message(t(L.saved, { v: saved.content }), 'ok'));
  }

  async function remove(row) {
    if (!(await ui.confirmDialog(L.del, t(L.confirmDelete, { v: row.content })))) return;
    await api.del(withQuery('/api/udso', { type: row.type, content: row.content }));
    await load();
    ui.mount(notice, ui.message(t(L.deleted, { v: row.content }), 'ok'));
  }

  async function importCsv() {
    const file = el('input', { type: 'file', accept: '.csv,text/csv', id: 'udso-csv' });
    const ok = await ui.dialog({ title: L.import, body: ui.formRow(L.csvFile, file, L.csvHint),
      buttons: [{ label: 'Cancel', value: false }, { label: L.import, value: true, primary: true, id: 'udso-import-go' }] });
    if (!ok) return;
    if (!file.files.length) {
      ui.mount(notice, ui.message(t(L.noFile), 'error'));
      return;
    }
    const form = new FormData();
    form.append('file', file.files[0]);
    const r = await api.post('/api/udso/import', form);
    await load();
    ui.mount(notice, ui.message(el('div', {}, t(L.imported, { n: r.imported, f: r.failed }),
      el('ul', {}, r.errors.map((e) => el('li', {}, t(L.line, { n: e.line, m: e.message }))))),
    r.failed ? 'error' : 'ok'));
  }

  await load();
}
