// policy-wizard.js - Policy List > Add (and Edit) as the product's wizard:
// Step 1 Recipients and Senders, Step 2 Scanning conditions (true file type
// with its tree and "Submit to Virtual Analyzer", Web Reputation with the
// spam detection link, attachment names, size, keywords, viruses), Step 3
// Actions (quarantine to an area, delete, deliver, change recipient,
// notification, tag subject), Step 4 Enable, rule name and order number.
// The form edits a plain state object; Finish sends the rule JSON of
// docs/imsva.md (POST /api/policies, or PUT for an existing rule).
import { api } from '../../shell/api.js';
import { t } from '../../shell/i18n.js';
import { button, checkbox, dialog, el, formRow, message, mount, pageHeader, section,
  select } from '../../shell/ui.js';
import { lines } from '../imsva_ui.js';

const LEVELS = [{ value: 'high', label: 'High' }, { value: 'medium', label: 'Medium' },
  { value: 'low', label: 'Low' }];

// The rule JSON as the wizard's state.
function stateOf(rule) {
  const c = rule.conditions || {};
  const a = rule.actions || {};
  const i = a.intercept || {};
  const spam = c.spam || {};
  return {
    id: rule.id, type: rule.type || 'other', notes: rule.notes,
    recipients: rule.route?.recipients || [], senders: rule.route?.senders || [],
    match: c.match || 'any',
    tft: new Set(c.true_file_types || []), submitVa: !!a.submit_va,
    tftOn: (c.true_file_types || []).length > 0,
    wrsOn: !!c.web_reputation?.enabled, sensitivity: c.web_reputation?.sensitivity || 'medium',
    spamOn: !!c.spam && spam.enabled !== false, spamSetLevel: !!spam.level,
    spamLevel: spam.level || 'medium',
    namesOn: (c.attachment_names || []).length > 0, names: (c.attachment_names || []).join('\n'),
    sizeOn: !!c.attachment_size, sizeMin: c.attachment_size?.min ?? '',
    sizeMax: c.attachment_size?.max ?? '',
    kwOn: !!c.keywords, kwSubject: (c.keywords?.subject || []).join('\n'),
    kwBody: (c.keywords?.body || []).join('\n'),
    virus: !!c.virus, atse: !!c.atse, so: c.suspicious_object,
    intercept: i.action || 'deliver', area: i.area || 'Default',
    newRcpts: (i.recipients || []).join('\n'),
    notifyOn: !!a.notify, notifyTo: (a.notify?.to || []).join('\n'),
    tagOn: !!a.tag_subject, tag: a.tag_subject || '',
    keep: { x_header: a.x_header, stamp: a.stamp, bcc: a.bcc, handoff: i.action === 'handoff' ? i : null },
    enabled: rule.enabled !== false, name: rule.name || '', order: rule.order || '',
  };
}

const num = (v) => (v === '' || v === null || v === undefined ? undefined : Number(v));

// The wizard's state as rule JSON.
function ruleOf(s) {
  const cond = { match: s.match };
  if (s.tftOn) cond.true_file_types = [...s.tft];
  if (s.wrsOn) cond.web_reputation = { enabled: true, sensitivity: s.sensitivity };
  // "Set the spam detection level" unticked turns spam detection off (seed
  // 4-1); said explicitly, else the API ticks it with web reputation
  if (s.spamOn && s.spamSetLevel) cond.spam = { enabled: true, level: s.spamLevel };
  else if (s.wrsOn) cond.spam = { enabled: false };
  if (s.namesOn) cond.attachment_names = lines(s.names);
  if (s.sizeOn) cond.attachment_size = { min: num(s.sizeMin), max: num(s.sizeMax) };
  if (s.kwOn) cond.keywords = { subject: lines(s.kwSubject), body: lines(s.kwBody) };
  if (s.virus) cond.virus = true;
  if (s.atse) cond.atse = true;
  if (s.so) cond.suspicious_object = s.so;
  const intercept = { action: s.intercept };
  if (s.intercept === 'quarantine') intercept.area = s.area || 'Default';
  if (s.intercept === 'change_recipient') intercept.recipients = lines(s.newRcpts);
  const actions = { intercept: s.keep.handoff && s.intercept === 'handoff' ? s.keep.handoff : intercept };
  if (s.tftOn && s.submitVa) actions.submit_va = true;
  if (s.notifyOn) actions.notify = { to: lines(s.notifyTo) };
  if (s.tagOn && s.tag) actions.tag_subject = s.tag;
  for (const k of ['x_header', 'stamp', 'bcc']) if (s.keep[k]) actions[k] = s.keep[k];
  const rule = { name: s.name.trim(), enabled: s.enabled, type: s.type,
    route: { senders: s.senders, recipients: s.recipients }, conditions: cond, actions };
  if (s.order !== '') rule.order = Number(s.order);
  if (s.notes) rule.notes = s.notes;
  return rule;
}

// A checkbox bound to s[key]; onChange(checked) after the state changed.
function bound(s, key, label, attrs = {}, onChange) {
  const box = checkbox(label, s[key], attrs);
  box.querySelector('input').addEventListener('change', (ev) => {
    s[key] = ev.target.checked;
    if (onChange) onChange(ev.target.checked);
  });
  return box;
}

function boundInput(s, key, attrs = {}) {
  const tag = attrs.multiline ? 'textarea' : 'input';
  const node = el(tag, { ...attrs, multiline: null, value: s[key] });
  node.addEventListener('input', () => { s[key] = node.value; });
  return node;
}

function boundSelect(s, key, options, attrs = {}) {
  const node = select(options, s[key], attrs);
  node.addEventListener('change', () => { s[key] = node.value; });
  return node;
}

function addressSummary(list) {
  return list.length === 0 ? t('All users') : list.join(', ');
}

// Recipient / Sender: "All users" or addresses, in a dialog with Save.
async function editAddresses(s, key, title) {
  const all = checkbox('All users', s[key].length === 0, { id: 'all-users' });
  const text = el('textarea', { id: 'addresses', rows: 4, 'aria-label': t('Addresses (one per line, * wildcards)') },
    s[key].join('\n'));
  const v = await dialog({ title, body: el('div', {}, all,
    formRow('Addresses (one per line, * wildcards)', text)),
  buttons: [{ label: 'Cancel', value: null }, { label: 'Save', value: 'save', primary: true, id: 'dialog-save' }] });
  if (v !== 'save') return;
  s[key] = all.querySelector('input').checked ? [] : lines(text.value);
}

function stepRoute(s, redraw) {
  const link = (key, label) => el('a', { href: '#', class: 'wizard-link', id: `edit-${key}`,
    onclick: async (ev) => {
      ev.preventDefault();
      await editAddresses(s, key, label);
      redraw();
    } }, t(label));
  return section('Step 1: Recipients and Senders',
    el('dl', { class: 'route' },
      el('dt', {}, link('recipients', 'Recipient')), el('dd', { id: 'recipients-summary' }, addressSummary(s.recipients)),
      el('dt', {}, link('senders', 'Sender')), el('dd', { id: 'senders-summary' }, addressSummary(s.senders))));
}

let fileTypeTree = null;

// The true file type tree and "Submit to Virtual Analyzer", Save.
async function editFileTypes(s) {
  fileTypeTree = fileTypeTree || (await api.get('/api/file-types')).classes;
  const chosen = new Set(s.tft);
  const box = (id, label, cls) => {
    const b = checkbox(label, chosen.has(id), { value: id, 'data-tft': id, class: cls });
    b.querySelector('input').addEventListener('change', (ev) => {
      if (ev.target.checked) chosen.add(id); else chosen.delete(id);
    });
    return b;
  };
  const tree = el('ul', { class: 'tree' }, fileTypeTree.map((c) => el('li', {},
    box(c.id, c.label, 'tft-class'),
    el('ul', {}, c.types.map((ty) => el('li', {}, box(ty.id, ty.label)))))));
  const va = checkbox('Submit to Virtual Analyzer', s.submitVa, { id: 'submit-va' });
  const v = await dialog({ title: 'True file type', body: el('div', {},
    el('p', {}, t('Select the file types')), el('div', { class: 'tree-scroll' }, tree), va),
  buttons: [{ label: 'Cancel', value: null }, { label: 'Save', value: 'save', primary: true, id: 'dialog-save' }] });
  if (v !== 'save') return;
  s.tft = chosen;
  s.submitVa = va.querySelector('input').checked;
  s.tftOn = chosen.size > 0;
}

// Spam detection settings: "Set the spam detection level" and the level.
async function editSpam(s) {
  const setLevel = checkbox('Set the spam detection level', s.spamSetLevel, { id: 'spam-set-level' });
  const level = select(LEVELS, s.spamLevel, { id: 'spam-level' });
  const v = await dialog({ title: 'Spam detection settings', body: el('div', {}, setLevel,
    formRow('Detection level', level)),
  buttons: [{ label: 'Cancel', value: null }, { label: 'Save', value: 'save', primary: true, id: 'dialog-save' }] });
  if (v !== 'save') return;
  s.spamSetLevel = setLevel.querySelector('input').checked;
  s.spamLevel = level.value;
}

function stepConditions(s, redraw) {
  const link = (id, label, fn) => el('a', { href: '#', class: 'wizard-link', id,
    onclick: async (ev) => {
      ev.preventDefault();
      await fn(s);
      redraw();
    } }, t(label));
  const tftSummary = s.tftOn ? `${[...s.tft].join(', ')}${s.submitVa ? ` (${t('Submit to Virtual Analyzer')})` : ''}` : '';
  // a condition: its checkbox (and settings link) first, its settings after
  const row = (head, ...settings) => el('div', { class: 'condition' },
    el('span', { class: 'condition-head' }, head), el('span', {}, settings));
  const spamLevel = s.spamOn && s.spamSetLevel
    ? `${t('Detection level')}: ${t(LEVELS.find((l) => l.value === s.spamLevel).label)}` : '';
  return section('Step 2: Scanning Conditions',
    formRow('Take action when', boundSelect(s, 'match', [
      { value: 'any', label: 'any condition matches' },
      { value: 'all', label: 'all conditions match' }], { id: 'match' })),
    row([bound(s, 'tftOn', '', { id: 'cond-tft', 'aria-label': t('True file type') }),
      link('open-tft', 'True file type', editFileTypes)], el('span', { class: 'hint' }, tftSummary)),
    row(bound(s, 'wrsOn', 'Web Reputation settings', { id: 'cond-wrs' }, (on) => {
      // the product ticks spam detection and its level with it (seed 4-1.8
      // unticks the level)
      if (on && !s.spamOn) Object.assign(s, { spamOn: true, spamSetLevel: true });
      redraw();
    }), t('Sensitivity'), ' ',
    boundSelect(s, 'sensitivity', LEVELS, { id: 'wrs-sensitivity', 'aria-label': t('Sensitivity') })),
    row([bound(s, 'spamOn', '', { id: 'cond-spam', 'aria-label': t('Spam detection settings') }),
      link('open-spam', 'Spam detection settings', editSpam)], el('span', { class: 'hint' }, spamLevel)),
    row(bound(s, 'namesOn', 'Attachment names', { id: 'cond-names' }),
      boundInput(s, 'names', { multiline: true, rows: 2, id: 'names', 'aria-label': t('Attachment names'), placeholder: t('one per line') })),
    row(bound(s, 'sizeOn', 'Attachment size', { id: 'cond-size' }),
      boundInput(s, 'sizeMin', { type: 'number', min: 0, id: 'size-min', 'aria-label': t('Minimum (bytes)'), placeholder: t('Minimum (bytes)') }), ' ',
      boundInput(s, 'sizeMax', { type: 'number', min: 0, id: 'size-max', 'aria-label': t('Maximum (bytes)'), placeholder: t('Maximum (bytes)') })),
    row(bound(s, 'kwOn', 'Keywords', { id: 'cond-keywords' }),
      boundInput(s, 'kwSubject', { multiline: true, rows: 2, id: 'kw-subject', 'aria-label': t('Subject keywords'), placeholder: t('Subject keywords') }),
      boundInput(s, 'kwBody', { multiline: true, rows: 2, id: 'kw-body', 'aria-label': t('Body keywords'), placeholder: t('Body keywords') })),
    row(t('Viruses'),
      bound(s, 'virus', 'Virus detected', { id: 'cond-virus' }), ' ',
      bound(s, 'atse', 'ATSE detection', { id: 'cond-atse' })));
}

function stepActions(s) {
  const radio = (value, label, ...extra) => {
    const r = el('input', { type: 'radio', name: 'intercept', value, id: `intercept-${value}`,
      checked: s.intercept === value, onchange: () => { s.intercept = value; } });
    return el('div', { class: 'choice' }, el('label', { class: 'check' }, r, ' ', t(label)),
      el('span', {}, extra));
  };
  return section('Step 3: Actions',
    el('fieldset', {}, el('legend', {}, t('Intercept')),
      radio('deliver', 'Do not intercept messages (deliver)'),
      radio('delete', 'Delete the entire message'),
      radio('quarantine', 'Quarantine to', boundInput(s, 'area', { id: 'area', 'aria-label': t('Area') })),
      radio('change_recipient', 'Change recipient',
        boundInput(s, 'newRcpts', { multiline: true, rows: 2, id: 'new-rcpts', 'aria-label': t('Change recipient') }))),
    el('fieldset', {}, el('legend', {}, t('Monitor')),
      el('div', { class: 'choice' }, bound(s, 'notifyOn', 'Send notification', { id: 'act-notify' }),
        boundInput(s, 'notifyTo', { multiline: true, rows: 2, id: 'notify-to',
          'aria-label': t('Notify (addresses; empty: the administrator)'),
          placeholder: t('Notify (addresses; empty: the administrator)') })),
      el('div', { class: 'choice' }, bound(s, 'tagOn', 'Tag subject', { id: 'act-tag' }),
        boundInput(s, 'tag', { id: 'tag', 'aria-label': t('Tag subject') }))));
}

function stepName(s) {
  return section('Step 4: Name and Order',
    bound(s, 'enabled', 'Enable', { id: 'enable' }),
    formRow('Rule name', boundInput(s, 'name', { id: 'rule-name', required: true, maxlength: 128 })),
    formRow(s.id ? 'Order number' : 'Order number (empty: last)',
      boundInput(s, 'order', { id: 'order', type: 'number', min: 1 })));
}

const STEPS = [stepRoute, stepConditions, stepActions, stepName];

// Show the wizard in root for rule (a stored rule, or {type} for a new
// one); done() runs after Finish or Cancel (it redraws the list).
export function openWizard(root, rule, done) {
  const s = stateOf(rule);
  let step = 0;
  const status = el('div', { id: 'wizard-status' });
  const body = el('div', { class: 'wizard-step' });
  const nav = el('div', { class: 'buttons wizard-nav' });
  const finish = async () => {
    try {
      const r = ruleOf(s);
      if (s.id) await api.put(`/api/policies/${s.id}`, r);
      else await api.post('/api/policies', r);
      await done();
    } catch (e) {
      mount(status, message(e.message, 'error'));
    }
  };
  const draw = () => {
    mount(body, STEPS[step](s, draw));
    mount(nav,
      button('Cancel', done, { id: 'wizard-cancel' }),
      step > 0 ? button('Back', () => { step--; draw(); }, { id: 'wizard-back' }) : null,
      step < STEPS.length - 1
        ? button('Next', () => { step++; draw(); }, { primary: true, id: 'wizard-next' })
        : button('Finish', finish, { primary: true, id: 'wizard-finish' }));
  };
  draw();
  const title = s.id ? 'Edit Policy' : s.type === 'antivirus' ? 'Add Policy: Antivirus' : 'Add Policy: Other';
  mount(root, pageHeader(title), status, body, nav);
}
