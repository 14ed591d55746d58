// ui.js - the small pieces console pages use again and again, in plain DOM:
// el(), a page header, sections, tables with columns, form rows, buttons,
// status badges, messages and a modal dialog. Labels go through t().
import { t } from './i18n.js';
import { timeElement } from './time.js';

// el('button', {class: 'primary', onclick: fn}, 'text', child...): attributes
// starting with "on" are listeners, `dataset`/`style` objects are merged,
// other values set as attributes (true: present, false/null: absent).
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'dataset' || k === 'style') Object.assign(node[k], v);
    else if (k === 'value' || k === 'checked') node[k] = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Empty node and fill it with children.
export function mount(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// The page's title (an h1) and, beside it, optional actions.
export function pageHeader(title, ...actions) {
  return el('div', { class: 'page-header' }, el('h1', {}, t(title)),
    el('div', { class: 'actions' }, actions));
}

export function section(title, ...children) {
  return el('section', { class: 'panel' }, title ? el('h2', {}, t(title)) : null, children);
}

// button('Save', fn, {primary: true}); the handler may be async: the button
// is disabled while it runs.
export function button(label, onClick, opts = {}) {
  const b = el('button', { type: opts.submit ? 'submit' : 'button',
    class: opts.primary ? 'primary' : opts.danger ? 'danger' : null, id: opts.id,
    title: opts.title ? t(opts.title) : null, disabled: opts.disabled }, t(label));
  if (onClick) {
    b.addEventListener('click', async (ev) => {
      b.disabled = true;
      try {
        await onClick(ev);
      } finally {
        b.disabled = false;
      }
    });
  }
  return b;
}

// A status word as a coloured badge: ok/online/enabled green, warning
// amber, error/offline/disabled red, anything else grey.
const BADGE = {
  ok: 'ok', online: 'ok', connected: 'ok', enabled: 'ok', success: 'ok', normal: 'ok', yes: 'ok',
  true: 'ok', running: 'ok', capturing: 'ok', warning: 'warn', pending: 'warn', waiting: 'warn',
  error: 'bad', failed: 'bad', offline: 'bad', disconnected: 'bad', disabled: 'bad', no: 'bad',
  false: 'bad', stopped: 'bad',
};
export function badge(status, label) {
  const key = String(status ?? '').toLowerCase();
  return el('span', { class: `badge badge-${BADGE[key] || 'info'}` },
    label !== undefined ? t(label) : String(status ?? ''));
}

// table({columns: [{key, label, render?, time?, align?}], rows, onRowClick?,
// empty?}): a zebra table; render(row) returns text or a node, time: true
// shows the value with timeElement. Rows with onRowClick are reachable by
// keyboard (Enter).
export function table({ columns, rows, onRowClick, empty = 'No data', caption }) {
  const head = el('tr', {}, columns.map((c) =>
    el('th', { scope: 'col', class: c.align ? `al-${c.align}` : null }, t(c.label))));
  const body = el('tbody');
  for (const row of rows || []) {
    const tr = el('tr', {}, columns.map((c) => {
      const v = c.render ? c.render(row) : c.time ? timeElement(row[c.key]) : row[c.key];
      return el('td', { class: c.align ? `al-${c.align}` : null }, v ?? '');
    }));
    if (onRowClick) {
      tr.classList.add('clickable');
      tr.tabIndex = 0;
      tr.addEventListener('click', (ev) => {
        if (!ev.target.closest('button, input, a, select')) onRowClick(row);
      });
      tr.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' && ev.target === tr) onRowClick(row);
      });
    }
    body.append(tr);
  }
  if (!rows || rows.length === 0)
    body.append(el('tr', { class: 'empty' }, el('td', { colspan: columns.length }, t(empty))));
  return el('table', { class: 'grid' }, caption ? el('caption', {}, t(caption)) : null,
    el('thead', {}, head), body);
}

// Name/value rows ([[label, value], ...]) as a two-column table.
export function fields(rows) {
  return table({
    columns: [{ key: 0, label: { en: 'Item', ja: '項目' }, render: (r) => t(r[0]) },
      { key: 1, label: { en: 'Value', ja: '値' }, render: (r) => r[1] ?? '' }],
    rows,
  });
}

let fieldSeq = 0;
// A labelled form row: formRow('Rule name', inputNode, 'hint'). The label
// is tied to the control for screen readers and clicks.
export function formRow(label, control, hint) {
  if (!control.id) control.id = `f${++fieldSeq}`;
  return el('div', { class: 'form-row' },
    el('label', { for: control.id }, t(label)),
    el('div', { class: 'control' }, control, hint ? el('div', { class: 'hint' }, t(hint)) : null));
}

// Inputs: input({name, type, value, ...attrs}), checkbox(label, checked),
// select(options [{value, label}], value).
export function input(attrs = {}) {
  return el('input', { type: 'text', ...attrs });
}

export function checkbox(label, checked, attrs = {}) {
  const box = el('input', { type: 'checkbox', checked: !!checked, ...attrs });
  return el('label', { class: 'check' }, box, ' ', t(label));
}

export function select(options, value, attrs = {}) {
  return el('select', attrs, options.map((o) =>
    el('option', { value: o.value, selected: String(o.value) === String(value) }, t(o.label))));
}

// A message in the page (a label, or a node): kind 'error' | 'ok' | 'info'.
export function message(text, kind = 'info') {
  return el('div', { class: `msg msg-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    text instanceof Node ? text : t(text));
}

// A modal dialog; resolves to the value of the button pressed (Escape and
// the close button: null). dialog({title, body, buttons: [{label, value,
// primary}]}).
export function dialog({ title, body, buttons = [{ label: 'OK', value: true, primary: true }] }) {
  return new Promise((resolve) => {
    const dlg = el('dialog', { class: 'dialog', 'aria-label': t(title) });
    const close = (v) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    dlg.append(
      el('header', {}, el('h2', {}, t(title)),
        el('button', { type: 'button', class: 'close', 'aria-label': t('Close'),
          onclick: () => close(null) }, '×')),
      el('div', { class: 'dialog-body' }, body),
      el('footer', {}, buttons.map((b) => button(b.label, () => close(b.value), b))));
    dlg.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      close(null);
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

// Ask yes/no; resolves true or false.
export async function confirmDialog(title, text) {
  const v = await dialog({ title, body: el('p', {}, t(text)), buttons: [
    { label: 'Cancel', value: false }, { label: 'OK', value: true, primary: true }] });
  return v === true;
}
