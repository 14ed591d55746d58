// connections.js - Administration > IMSVA Configuration > Connections, with
// the product's tabs: Control Manager Server (status, last heartbeat,
// synchronisation time, the last sync that brought changes and its change
// number, object counts, Sync now: seed STEP 2-4), Smart Protection (SPS
// address, status, Test connection) and Virtual Analyzer (DDAN address, API
// key, Test connection).
import { api } from '../../shell/api.js';
import { t } from '../../shell/i18n.js';
import { timeElement } from '../../shell/time.js';
import { badge, button, el, mount, pageHeader, section } from '../../shell/ui.js';
import { act } from '../imsva_ui.js';

// A definition list of [label, value] with stable ids for tests.
function fields(rows) {
  return el('dl', { class: 'detail' }, rows.map(([label, value, id]) =>
    [el('dt', {}, t(label)), el('dd', { id }, value ?? t('Never'))]));
}

const when = (v) => (v ? timeElement(v) : null);

async function controlManager(body, status) {
  const c = await api.get('/api/connections/tmcm');
  const counts = Object.entries(c.objects_by_type || {}).map(([k, n]) => `${k}: ${n}`).join(', ');
  return section('Control Manager Server',
    fields([
      ['Server', c.server || t('Not configured'), 'tmcm-server'],
      ['Status', badge(c.status, c.status), 'tmcm-status'],
      ['Last heartbeat', when(c.last_heartbeat), 'tmcm-heartbeat'],
      ['Synchronization time', when(c.last_sync), 'tmcm-last-sync'],
      ['Last synchronization that brought changes', when(c.last_change), 'tmcm-last-change'],
      ['Change number', c.change_number ?? null, 'tmcm-change-number'],
      ['Suspicious objects', `${c.objects}${counts ? ` (${counts})` : ''}`, 'tmcm-objects'],
      ['Last error', c.last_error || '-', 'tmcm-error'],
    ]),
    el('div', { class: 'buttons' },
      button('Sync now', () => act(status, () => api.post('/api/connections/tmcm/sync'),
        'Synchronisation started'), { primary: true, id: 'tmcm-sync', disabled: !c.enabled }),
      button('Refresh', () => show(body, status, 'tmcm'), { id: 'tmcm-refresh' })));
}

// "Test connection" of peer (sps | ddan); the tab is redrawn with the new
// status whatever the outcome, the outcome itself shown above it.
function testButton(body, status, peer, enabled) {
  return el('div', { class: 'buttons' }, button('Test connection', () => act(status, async () => {
    try {
      await api.post(`/api/connections/${peer}/test`);
    } finally {
      await show(body, status, peer);
    }
  }, 'Connection succeeded'), { primary: true, id: `${peer}-test`, disabled: !enabled }));
}

async function smartProtection(body, status) {
  const c = await api.get('/api/connections/sps');
  return section('Smart Protection',
    fields([
      ['SPS address', c.server || t('Not configured'), 'sps-server'],
      ['Status', badge(c.status, c.status), 'sps-status'],
      ['Last error', c.last_error || '-', 'sps-error'],
    ]),
    testButton(body, status, 'sps', c.enabled));
}

async function virtualAnalyzer(body, status) {
  const c = await api.get('/api/connections/ddan');
  return section('Virtual Analyzer',
    fields([
      ['DDAN address', c.server || t('Not configured'), 'ddan-server'],
      ['API key', c.api_key ? el('code', {}, c.api_key) : '-', 'ddan-api-key'],
      ['Security level', t(c.security_level ? c.security_level[0].toUpperCase() + c.security_level.slice(1) : ''), 'ddan-level'],
      ['Status', badge(c.status, c.status), 'ddan-status'],
      ['Last error', c.last_error || '-', 'ddan-error'],
    ]),
    testButton(body, status, 'ddan', c.enabled));
}

const TABS = [
  { id: 'tmcm', label: 'Control Manager Server', draw: controlManager },
  { id: 'sps', label: 'Smart Protection', draw: smartProtection },
  { id: 'ddan', label: 'Virtual Analyzer', draw: virtualAnalyzer },
];

let tabs = null;

async function show(body, status, id) {
  for (const b of tabs.children) b.setAttribute('aria-selected', String(b.dataset.tab === id));
  const tab = TABS.find((x) => x.id === id);
  mount(body, await tab.draw(body, status));
}

export default async function render(root) {
  const status = el('div', { id: 'conn-status' });
  const body = el('div', { role: 'tabpanel' });
  tabs = el('div', { role: 'tablist', class: 'tabs' }, TABS.map((x) => el('button', {
    type: 'button', role: 'tab', id: `tab-${x.id}`, dataset: { tab: x.id },
    onclick: () => act(status, () => show(body, status, x.id)),
  }, t(x.label))));
  await show(body, status, 'tmcm'); // drawn before the page shows: no half page
  mount(root, pageHeader('Connections'), tabs, status, body);
}
