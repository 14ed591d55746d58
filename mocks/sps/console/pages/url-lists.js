// url-lists.js - Smart Protection > Approved/Blocked URLs: the rules that
// rate a URL before anything else (block wins over approve), add / edit /
// delete, and "Test URL" to see the rating a client would get. API: GET/POST
// /api/lists, PUT/DELETE /api/lists/{id}, GET /api/test-url.
import { ratingBadge } from '../labels.js';

const L = {
  title: { en: 'Approved/Blocked URLs', ja: '承認/ブロックするURL' },
  add: { en: 'Add', ja: '追加' },
  pattern: { en: 'URL or keyword', ja: 'URLまたはキーワード' },
  type: { en: 'Match', ja: '照合方法' },
  url: { en: 'URL', ja: 'URL' },
  keyword: { en: 'URL keyword (regular expression)', ja: 'URLキーワード (正規表現)' },
  scope: { en: 'Scope', ja: '範囲' },
  subsites: { en: 'The URL and its subsites', ja: 'URLとそのサブサイト' },
  page: { en: 'This page only', ja: 'このページのみ' },
  action: { en: 'Action', ja: '処理' },
  approve: { en: 'Approve', ja: '承認' },
  block: { en: 'Block', ja: 'ブロック' },
  enabled: { en: 'Enabled', ja: '有効' },
  yes: { en: 'Yes', ja: 'はい' },
  no: { en: 'No', ja: 'いいえ' },
  note: { en: 'Note', ja: 'メモ' },
  edit: { en: 'Edit', ja: '編集' },
  del: { en: 'Delete', ja: '削除' },
  addTitle: { en: 'Add a rule', ja: 'ルールの追加' },
  editTitle: { en: 'Edit the rule', ja: 'ルールの編集' },
  confirmDelete: { en: 'Delete the rule {v}?', ja: 'ルール {v} を削除しますか?' },
  test: { en: 'Test URL', ja: 'URLのテスト' },
  testGo: { en: 'Test', ja: 'テスト' },
  rating: { en: 'Rating', ja: '評価' },
  score: { en: 'Score', ja: 'スコア' },
  decidedBy: { en: 'Decided by', ja: '判定元' },
};

export default async function render(root, ctx) {
  const { api, ui, t } = ctx;
  const { el } = ui;
  const body = el('div', { id: 'rules-body' });
  const testUrl = ui.input({ id: 'test-url', placeholder: 'http://example.com/' });
  const testOut = el('div', { id: 'test-result' });
  const testForm = el('form', { class: 'inline-form', id: 'test-form' }, ui.formRow(L.test, testUrl),
    el('div', { class: 'form-actions' }, ui.button(L.testGo, null, { submit: true, id: 'test-go' })));
  testForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await api.get(`/api/test-url?${new URLSearchParams({ url: testUrl.value })}`);
    ui.mount(testOut,
      ui.formRow(L.rating, el('output', { id: 'test-rating' }, ratingBadge(ui, r.rating))),
      ui.formRow(L.score, el('output', { id: 'test-score' }, String(r.score))),
      ui.formRow(L.decidedBy, el('output', { id: 'test-source' },
        `${r.source}${r.rule ? ` (${r.rule.pattern})` : ''}`)));
  });
  root.append(ui.pageHeader(L.title, ui.button(L.add, () => edit(null), { primary: true, id: 'rule-add' })),
    ui.section(null, body), ui.section(L.test, testForm, testOut));

  async function load() {
    const rules = await api.get('/api/lists');
    if (!ctx.active()) return;
    const table = ui.table({
      columns: [
        { key: 'pattern', label: L.pattern, render: (r) => el('span', { class: 'mono' }, r.pattern) },
        { key: 'type', label: L.type, render: (r) => t(L[r.type]) },
        { key: 'scope', label: L.scope, render: (r) => (r.type === 'url' ? t(L[r.scope]) : '') },
        { key: 'action', label: L.action, render: (r) => ui.badge(r.action === 'block' ? 'error' : 'ok', L[r.action]) },
        { key: 'enabled', label: L.enabled, render: (r) => t(r.enabled ? L.yes : L.no) },
        { key: 'note', label: L.note },
        { key: 'ops', label: { en: '' }, render: (r) => el('span', { class: 'row-actions' },
          ui.button(L.edit, () => edit(r)),
          ui.button(L.del, async () => {
            if (!(await ui.confirmDialog(L.del, t(L.confirmDelete, { v: r.pattern })))) return;
            await api.del(`/api/lists/${r.id}`);
            await load();
          }, { danger: true })) },
      ],
      rows: rules,
    });
    table.id = 'rules-table';
    ui.mount(body, table);
  }

  async function edit(rule) {
    const pattern = ui.input({ id: 'rule-pattern', value: rule ? rule.pattern : '' });
    const type = ui.select([{ value: 'url', label: L.url }, { value: 'keyword', label: L.keyword }],
      rule ? rule.type : 'url', { id: 'rule-type' });
    const scope = ui.select([{ value: 'subsites', label: L.subsites }, { value: 'page', label: L.page }],
      rule ? rule.scope : 'subsites', { id: 'rule-scope' });
    const action = ui.select([{ value: 'block', label: L.block }, { value: 'approve', label: L.approve }],
      rule ? rule.action : 'block', { id: 'rule-action' });
    const enabled = ui.checkbox(L.enabled, rule ? rule.enabled : true, { id: 'rule-enabled' });
    const note = ui.input({ id: 'rule-note', value: rule ? rule.note : '' });
    const ok = await ui.dialog({
      title: rule ? L.editTitle : L.addTitle,
      body: el('div', {}, ui.formRow(L.pattern, pattern), ui.formRow(L.type, type),
        ui.formRow(L.scope, scope), ui.formRow(L.action, action), enabled, ui.formRow(L.note, note)),
      buttons: [{ label: 'Cancel', value: false }, { label: 'Save', value: true, primary: true, id: 'rule-save' }],
    });
    if (!ok) return;
    const fields = { pattern: pattern.value, type: type.value, scope: scope.value, action: action.value,
      enabled: enabled.querySelector('input').checked, note: note.value };
    if (rule) await api.put(`/api/lists/${rule.id}`, fields);
    else await api.post('/api/lists', fields);
    await load();
  }

  await load();
}
