// quarantine.js - Mail Areas & Queues > Quarantine: query a quarantine area
// by dates, sender, recipient and subject; view a message; Release
// (deliver it) or Delete (GET /api/quarantine, /api/quarantine/{id}).
import { api, withQuery } from '../../shell/api.js';
import { t } from '../../shell/i18n.js';
import { timeElement } from '../../shell/time.js';
import { button, confirmDialog, dialog, el, formRow, mount, pageHeader, section, select,
  table } from '../../shell/ui.js';
import { act, queryForm } from '../imsva_ui.js';

async function view(row) {
  const m = await api.get(`/api/quarantine/${row.id}`);
  await dialog({ title: 'Quarantined message', body: el('div', {},
    el('dl', { class: 'detail' },
      el('dt', {}, t('Received')), el('dd', {}, timeElement(m.time)),
      el('dt', {}, t('Area')), el('dd', {}, m.area),
      el('dt', {}, t('Rule')), el('dd', {}, m.rule),
      el('dt', {}, t('Reason')), el('dd', {}, m.reason)),
    el('pre', { class: 'message-source', id: 'message-source' }, m.data ?? '')) });
}

export default async function render(root) {
  const areas = await api.get('/api/quarantine/areas');
  const area = select([{ value: '', label: 'All areas' },
    ...areas.map((a) => ({ value: a.name, label: `${a.name} (${a.count})` }))], '', { id: 'q-area' });
  const status = el('div');
  const results = el('div', { id: 'q-results' });
  const query = queryForm({ prefix: 'q', days: 7, before: formRow('Area', area),
    filters: [['sender', 'Sender'], ['recipient', 'Recipient'], ['subject', 'Subject']],
    submit: { label: 'Search', id: 'q-search' }, onSubmit: () => search() });
  const search = () => act(status, async () => {
    const r = await api.get(withQuery('/api/quarantine', { area: area.value, ...query.values() }));
    mount(results, table({
      columns: [
        { key: 'time', label: 'Received', time: true },
        { key: 'area', label: 'Area' },
        { key: 'sender', label: 'Sender' },
        { key: 'recipients', label: 'Recipient', render: (m) => m.recipients.join(', ') },
        { key: 'subject', label: 'Subject' },
        { key: 'rule', label: 'Rule' },
        { key: 'size', label: 'Size', align: 'right' },
        { key: 'ops', label: '', render: (m) => el('span', { class: 'row-actions' },
          button('View', () => view(m)),
          button('Release', () => act(status, async () => {
            if (!await confirmDialog('Release', 'Release the message?')) return;
            await api.post(`/api/quarantine/${m.id}/release`);
            await search();
          })),
          button('Delete', () => act(status, async () => {
            if (!await confirmDialog('Delete', 'Delete the message?')) return;
            await api.del(`/api/quarantine/${m.id}`);
            await search();
          }), { danger: true })) },
      ],
      rows: r.messages,
      onRowClick: view,
    }));
  });
  await search(); // the current quarantine, before the page shows
  mount(root,
    pageHeader('Quarantine'),
    section('Quarantine query', query.form),
    status, results);
}
