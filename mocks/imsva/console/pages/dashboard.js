// dashboard.js - IMSVA's Dashboard: the connections to DDAN, TMCM and SPS
// with their status, and the queue and quarantine counts (GET /api/dashboard).
import { api } from '../../shell/api.js';
import { t } from '../../shell/i18n.js';
import { badge, el, mount, pageHeader, section, table } from '../../shell/ui.js';

const CONNECTIONS = [
  { key: 'ddan', label: 'Virtual Analyzer' },
  { key: 'tmcm', label: 'Control Manager Server' },
  { key: 'sps', label: 'Smart Protection' },
];

export default async function render(root) {
  const d = await api.get('/api/dashboard');
  const rows = CONNECTIONS.map((c) => ({ ...d.connections[c.key], label: c.label }));
  mount(root,
    pageHeader('Dashboard'),
    section('Connections status', table({
      columns: [
        { key: 'label', label: 'Connection', render: (r) => t(r.label) },
        { key: 'server', label: 'Server', render: (r) => r.server || t('Not configured') },
        { key: 'status', label: 'Status', render: (r) => badge(r.status, r.status) },
        { key: 'last_error', label: 'Details' },
      ],
      rows,
    })),
    section('Queues and quarantine', el('dl', { class: 'counts' },
      count('Quarantined messages', d.quarantined, 'quarantined'),
      count('Waiting for Virtual Analyzer', d.va_queue, 'va-queue'),
      count('Waiting for delivery', d.delivery_queue, 'delivery-queue'),
      count('Messages processed', d.messages.messages, 'messages'))));
}

function count(label, n, id) {
  return [el('dt', {}, t(label)), el('dd', { id: `count-${id}` }, String(n ?? 0))];
}
