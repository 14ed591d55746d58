// delivery-queue.js - Mail Areas & Queues > Delivery Queue: mail for the
// next hop or a handoff host (pending with its next attempt, sent, bounced;
// GET /api/delivery-queue).
import { api } from '../../shell/api.js';
import { timeElement } from '../../shell/time.js';
import { badge, button, mount, pageHeader, section, table } from '../../shell/ui.js';

export default async function render(root) {
  const r = await api.get('/api/delivery-queue');
  mount(root,
    pageHeader('Delivery Queue', button('Refresh', () => render(root))),
    section(null, table({
      columns: [
        { key: 'created_ms', label: 'Received', time: true },
        { key: 'sender', label: 'Sender' },
        { key: 'rcpts', label: 'Recipient', render: (m) => m.rcpts.join(', ') },
        { key: 'host', label: 'Host', render: (m) => `${m.host}:${m.port}` },
        { key: 'state', label: 'Status', render: (m) => badge(m.state, m.state) },
        { key: 'attempts', label: 'Attempts', align: 'right' },
        { key: 'next_ms', label: 'Next attempt', render: (m) => (m.state === 'pending' ? timeElement(m.next_ms) : '') },
        { key: 'last_error', label: 'Last error' },
      ],
      rows: r.messages,
    })));
}
