// scan-engine.js - Policy > Scan Engine: the Advanced Threat Scan Engine
// checkbox and Save (seed STEP 1-1; GET/PUT /api/scan-engine).
import { api } from '../../shell/api.js';
import { t } from '../../shell/i18n.js';
import { button, checkbox, el, message, mount, pageHeader, section } from '../../shell/ui.js';

export default async function render(root) {
  const cur = await api.get('/api/scan-engine');
  const box = checkbox('Enable Advanced Threat Scan Engine (ATSE)', cur.atse_enabled,
    { id: 'atse', name: 'atse' });
  const status = el('div');
  mount(root,
    pageHeader('Scan Engine'),
    section('Advanced Threat Scan Engine',
      el('p', {}, t('ATSE detects unknown threats in files by their behaviour and structure.')),
      box,
      el('div', { class: 'buttons' }, button('Save', async () => {
        const on = box.querySelector('input').checked;
        await api.put('/api/scan-engine', { atse_enabled: on });
        mount(status, message('Saved', 'ok'));
      }, { primary: true, id: 'save' })),
      status));
}
