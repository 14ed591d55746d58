// queues.js - Mail Areas & Queues > Virtual Analyzer Queue (messages waiting
// for DDAN's verdict, Release = go on with the next rule) and Delivery
// Queue (mail for the next hop: pending, sent, bounced).
import { api } from '../../shell/api.js';
import { timeElement } from '../../shell/time.js';
import { badge, button, el, mount, pageHeader, section, table } from '../../shell/ui.js';
import { act } from '../imsva_ui.js';

export async function renderVa(root) {
  const status = el('div');
  const r = await api.get('/api/va-queue');
  mount(root,
    pageHeader('Virtual Analyzer Queue', button('Refresh', () => renderVa(root))),
    status,
    section(null, table({
      columns: [
        { key: 'time', label: 'Received', time: true },
        { key: 'sender', label: 'Sender' },
        { key: 'recipients', label: 'Recipient', render: (m) => m.recipients.join(', ') },
        { key: 'subject', label: 'Subject' },
        { key: 'rule', label: 'Rule' },
        { key: 'attachments', label: 'Samples', render: (m) => m.attachments.map((x) => x.filename || x.sha1).join(', ') },
        { key: 'status', label: 'Status', render: (m) => badge(m.status === 'pending' ? 'waiting' : m.status, m.status) },
        { key: 'expiration', label: 'Expires', time: true },
        { key: 'ops', label: '', render: (m) => (m.status === 'pending' ? button('Release', () => act(status, async () => {
          await api.post(`/api/va-queue/${m.msg_id}/release`);
          await renderVa(root);
        })) : '') },
      ],
      rows: r.messages,
    })));
}

export async function renderDelivery(root) {
  const r = await api.get('/api/delivery-queue');
  mount(root,
    pageHeader('Delivery Queue', button('Refresh', () => renderDelivery(root))),
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
