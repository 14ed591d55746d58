// imsva_ui.js - small helpers IMSVA's pages share on top of the shell:
// running an action with its outcome shown in a status area, lists typed one
// per line, and the query form of Log Query and the quarantine (a date range
// and text filters).
import { button, el, formRow, input, mount, message } from '../shell/ui.js';

// Run fn; show okText (if any) or the error it threw in status.
export async function act(status, fn, okText) {
  try {
    const r = await fn();
    mount(status, okText ? message(okText, 'ok') : null);
    return r;
  } catch (e) {
    mount(status, message(e.message, 'error'));
    return undefined;
  }
}

// "a\n b ,c" -> ['a', 'b', 'c']
export function lines(text) {
  return String(text || '').split(/[\n,;]+/).map((s) => s.trim()).filter(Boolean);
}

// <input type="datetime-local"> value for a Date, in the browser's zone.
function localValue(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

const iso = (v) => (v ? new Date(v).toISOString() : '');

// A query form: `before` rows (a Type or Area select), Date range from
// `days` back to now, a text input per [name, label] of `filters`, and the
// submit button {label, id}. values() is the query for withQuery().
export function queryForm({ prefix, before = [], days, filters, submit, onSubmit }) {
  const from = input({ type: 'datetime-local', id: `${prefix}-from`,
    value: localValue(new Date(Date.now() - days * 24 * 3600 * 1000)) });
  const to = input({ type: 'datetime-local', id: `${prefix}-to` });
  const inputs = filters.map(([name]) => input({ id: `${prefix}-${name}` }));
  const form = el('form', { class: 'query', onsubmit: (ev) => { ev.preventDefault(); onSubmit(); } },
    before,
    formRow('Date range', el('span', { class: 'range' }, from, ' – ', to)),
    filters.map(([, label], i) => formRow(label, inputs[i])),
    el('div', { class: 'buttons' }, button(submit.label, null, { primary: true, submit: true, id: submit.id })));
  const values = () => Object.fromEntries([['from', iso(from.value)], ['to', iso(to.value)],
    ...filters.map(([name], i) => [name, inputs[i].value.trim()])]);
  return { form, values };
}
