// policy-list.js - Policy > Policy List: the rules in evaluation order
// (order number, name, type, enabled), Add > Other / Antivirus (the wizard),
// Edit, Copy, Delete and reorder. The built-in "TMCM_Suspicious File/URL
// detection rule" are listed and cannot be deleted (the API refuses too).
import { api } from '../../shell/api.js';
import { t } from '../../shell/i18n.js';
import { button, confirmDialog, el, mount, pageHeader, section, table } from '../../shell/ui.js';
import { act } from '../imsva_ui.js';
import { openWizard } from './policy-wizard.js';

function actionOf(rule) {
  const i = rule.actions?.intercept || {};
  if (i.action === 'quarantine') return `${t('Quarantine to')}: ${i.area || 'Default'}`;
  if (i.action === 'delete') return t('Delete the entire message');
  if (i.action === 'change_recipient') return t('Change recipient');
  return t('Do not intercept messages (deliver)');
}

// A reorder button: an arrow, named for screen readers and on hover.
function arrow(symbol, label, onClick, disabled) {
  const b = button(symbol, onClick, { title: label, disabled });
  b.setAttribute('aria-label', t(label));
  return b;
}

export default async function render(root) {
  const status = el('div', { id: 'policy-status' });
  const rules = await api.get('/api/policies');
  const reload = () => render(root);
  const ordinary = rules.filter((r) => !r.builtin);
  const move = (rule, delta) => act(status, async () => {
    await api.patch(`/api/policies/${rule.id}`, { order: rule.order + delta });
    await reload();
  });
  const addMenu = el('div', { class: 'add-menu', hidden: true },
    button('Other', () => openWizard(root, { type: 'other' }, reload), { id: 'add-other' }),
    button('Antivirus', () => openWizard(root, { type: 'antivirus' }, reload),
      { id: 'add-antivirus' }));
  const add = button('Add', () => { addMenu.hidden = !addMenu.hidden; }, { id: 'add-rule' });
  mount(root,
    pageHeader('Policy List', add, addMenu),
    status,
    section(null, table({
      columns: [
        { key: 'order', label: 'Order', align: 'right', render: (r) => (r.builtin ? '-' : r.order) },
        { key: 'name', label: 'Rule name', render: (r) => el('span', { class: 'rule-name' }, r.name) },
        { key: 'type', label: 'Type', render: (r) => t(r.type === 'antivirus' ? 'Antivirus' : 'Other') },
        { key: 'enabled', label: 'Enabled', render: (r) => el('input', {
          type: 'checkbox', checked: r.enabled, 'aria-label': `${t('Enabled')}: ${r.name}`,
          onchange: (ev) => act(status, () => api.patch(`/api/policies/${r.id}`,
            { enabled: ev.target.checked })),
        }) },
        { key: 'action', label: 'Action', render: actionOf },
        { key: 'ops', label: '', render: (r) => el('span', { class: 'row-actions' },
          button('Edit', () => openWizard(root, r, reload)),
          button('Copy', () => act(status, async () => {
            await api.post(`/api/policies/${r.id}/copy`);
            await reload();
          })),
          button('Delete', () => act(status, async () => {
            if (!await confirmDialog('Delete rule', t('Delete the rule "{name}"?', { name: r.name })))
              return;
            await api.del(`/api/policies/${r.id}`);
            await reload();
          }), { danger: true, disabled: !!r.builtin,
            title: r.builtin ? 'Built-in rule: it cannot be deleted.' : null }),
          r.builtin ? null : arrow('▲', 'Move up', () => move(r, -1), r.order <= 1),
          r.builtin ? null : arrow('▼', 'Move down', () => move(r, +1),
            r.order >= ordinary.length)) },
      ],
      rows: rules,
    })));
}
