// exceptions.js - Virtual Analyzer > Exceptions: objects that analysis
// never turns into suspicious objects (GET/POST /api/exceptions, DELETE
// /api/exceptions/{id}).
import { OBJECT_TYPES, objectType } from '../../shell/objects.js';

export default async function render(root, { api, ui, t, refresh }) {
  const list = await api.get('/api/exceptions');
  const type = ui.select(OBJECT_TYPES, 'URL',
    { id: 'exception-type' });
  const value = ui.input({ id: 'exception-value', size: 60 });
  const note = ui.input({ id: 'exception-note', size: 40 });
  const status = ui.el('div');
  const add = ui.button('Add', async () => {
    try {
      await api.post('/api/exceptions', { type: type.value, value: value.value, note: note.value });
      refresh();
    } catch (e) {
      ui.mount(status, ui.message(e.message, 'error'));
    }
  }, { primary: true, id: 'exception-add' });
  const remove = (r) => async () => {
    await api.del(`/api/exceptions/${r.id}`);
    refresh();
  };
  root.append(ui.pageHeader({ en: 'Exceptions', ja: '例外' }),
    ui.section({ en: 'Add an exception', ja: '例外の追加' },
      ui.formRow({ en: 'Type', ja: '種類' }, type),
      ui.formRow({ en: 'Object', ja: 'オブジェクト' }, value,
        { en: 'A SHA-1 for a file, or the URL, domain or IP address',
          ja: 'ファイルの場合は SHA-1、または URL、ドメイン、IP アドレス' }),
      ui.formRow({ en: 'Notes', ja: 'メモ' }, note), status,
      ui.el('div', { class: 'form-actions' }, add)),
    ui.section(null, ui.table({
      columns: [
        { key: 'created', label: { en: 'Added', ja: '追加日時' }, time: true },
        { key: 'type', label: { en: 'Type', ja: '種類' }, render: (r) => t(objectType(r.type)) },
        { key: 'value', label: { en: 'Object', ja: 'オブジェクト' }, render: (r) => ui.el('code', {}, r.value) },
        { key: 'note', label: { en: 'Notes', ja: 'メモ' } },
        { key: 'id', label: { en: 'Tasks', ja: 'タスク' },
          render: (r) => ui.button('Delete', remove(r), { danger: true, id: `delete-${r.id}` }) },
      ],
      rows: list.exceptions,
    })));
}
