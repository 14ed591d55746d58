// va-queue.js - Mail Areas & Queues > Virtual Analyzer Queue: messages
// waiting for DDAN's verdict (GET /api/va-queue); Release lets a message go
// on with the next rule.
import { api } from '../../shell/api.js';
import { badge, button, el, mount, pageHeader, section, table } from '../../shell/ui.js';
import { act } from '../imsva_ui.js';

export default async function render(root) {
  const status = el('div');
  const r = await api.get('/api/va-queue');
  mount(root,
    pageHeader('Virtual Analyzer Queue', button('Refresh', () => render(root))),
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
          await render(root);
        })) : '') },
      ],
      rows: r.messages,
    })));
}
