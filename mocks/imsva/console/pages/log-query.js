// log-query.js - Logs > Log Query: Type (message tracking, policy events,
// quarantine events, ...), date range, sender / recipient / subject / rule
// filters (IMSVA's syntax: * wildcards, ; between alternatives), Show logs;
// the product's columns; a row opens its detail (GET /api/logs/{id}).
import { api, withQuery } from '../../shell/api.js';
import { t } from '../../shell/i18n.js';
import { timeElement } from '../../shell/time.js';
import { dialog, el, formRow, mount, pageHeader, section, select, table } from '../../shell/ui.js';
import { act, queryForm } from '../imsva_ui.js';

const COLUMNS = [
  { key: 'time', label: 'Timestamp', time: true },
  { key: 'sender', label: 'Sender' },
  { key: 'recipients', label: 'Recipient' },
  { key: 'subject', label: 'Subject' },
  { key: 'message_size', label: 'Message size', align: 'right' },
  { key: 'violating', label: 'Violating attachments' },
  { key: 'rule_type', label: 'Rule type', render: (r) => (r.rule_type ? t(r.rule_type) : '') },
  { key: 'rule', label: 'Rule' },
  { key: 'final_action', label: 'Final action', render: (r) => t(r.final_action || r.action || '') },
  { key: 'message_id', label: 'Message ID' },
  { key: 'internal_id', label: 'Internal ID' },
  { key: 'scanner', label: 'Scanner' },
];

// A row's detail; typeLabel: the Type list's label of full.type.
async function showDetail(row, typeLabel) {
  const full = await api.get(`/api/logs/${row.id}`);
  const fields = [
    ['Timestamp', timeElement(full.time)], ['Type', typeLabel(full.type)], ['Sender', full.sender],
    ['Recipient', full.recipients], ['Subject', full.subject], ['Rule', full.rule],
    ['Rule type', full.rule_type], ['Action', full.action && t(full.action)], ['Reason', full.reason],
    ['Violating attachments', full.violating], ['Final action', full.final_action && t(full.final_action)],
    ['Message size', full.message_size], ['Message ID', full.message_id],
    ['Internal ID', full.internal_id], ['Scanner', full.scanner],
  ].filter(([, v]) => v !== undefined && v !== null && v !== '');
  await dialog({ title: 'Log detail', body: el('div', {},
    el('dl', { class: 'detail' }, fields.map(([k, v]) => [el('dt', {}, t(k)), el('dd', {}, v)])),
    full.detail ? el('pre', { class: 'json' }, JSON.stringify(full.detail, null, 2)) : null) });
}

export default async function render(root) {
  const { types } = await api.get('/api/logs/types');
  const labelOf = (type) => {
    const ty = types.find((x) => x.type === type);
    return ty ? t({ en: ty.label, ja: ty.label_ja }) : type;
  };
  const typeSel = select(types.map((ty) => ({ value: ty.type, label: { en: ty.label, ja: ty.label_ja } })),
    'message_tracking', { id: 'log-type' });
  const status = el('div');
  const results = el('div', { id: 'log-results' });
  const query = queryForm({ prefix: 'log', days: 1, before: formRow('Type', typeSel),
    filters: [['sender', 'Sender'], ['recipient', 'Recipient'], ['subject', 'Subject'], ['rule', 'Rule']],
    submit: { label: 'Show logs', id: 'show-logs' }, onSubmit: () => show() });
  const show = () => act(status, async () => {
    const r = await api.get(withQuery('/api/logs', { type: typeSel.value, ...query.values() }));
    mount(results, el('p', { class: 'count' }, t('{n} logs', { n: r.count })),
      el('div', { class: 'table-scroll' }, table({ columns: COLUMNS, rows: r.logs,
        onRowClick: (row) => showDetail(row, labelOf) })));
  });
  mount(root,
    pageHeader('Log Query'),
    section(null, query.form),
    status, results);
}
