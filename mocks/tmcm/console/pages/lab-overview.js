// lab-overview.js - the lab's own page, what the instructor projects while
// the class works (GET /lab opens it): the five appliances as boxes with
// the links between them (detect → analyse → manage → distribute →
// respond) coloured by state, each STEP's progress from the evidence on the
// shared timeline, and the timeline itself arriving live. API: GET
// /api/lab/overview (every 5 s) and /api/lab/events?after=<id> (every 2 s:
// a short poll, so no HTTP thread of TMCM waits on a projector).
const OVERVIEW_MS = 5000;
const EVENTS_MS = 2000;
const TIMELINE_ROWS = 200;
const SVG = 'http://www.w3.org/2000/svg';

const L = {
  title: { en: 'Lab overview', ja: 'ラボ全体の状況' },
  appliances: { en: 'Appliances and links', ja: 'アプライアンスと連携' },
  steps: { en: 'STEP progress', ja: 'STEP の進捗' },
  timeline: { en: 'Timeline (live)', ja: 'タイムライン（ライブ）' },
  time: { en: 'Time', ja: '日時' },
  appliance: { en: 'Appliance', ja: 'アプライアンス' },
  kind: { en: 'Event', ja: 'イベント' },
  ref: { en: 'Object', ja: '対象' },
  summary: { en: 'Details', ja: '詳細' },
  healthy: { en: 'running', ja: '稼働中' },
  down: { en: 'not answering', ja: '応答なし' },
  never: { en: 'nothing yet', ja: 'まだなし' },
  legend: { en: 'up: carried something in the last {m} min · stale: nothing carried lately · down: failing or an end not answering',
    ja: '正常: {m} 分以内に連携あり · 停滞: 最近の連携なし · 停止: 失敗中または両端のどちらかが応答なし' },
  role: {
    'detect, respond': { en: 'detect · respond', ja: '検出 · 対処' },
    detect: { en: 'detect', ja: '検出' },
    analyse: { en: 'analyse', ja: '解析' },
    manage: { en: 'manage', ja: '管理' },
    distribute: { en: 'distribute', ja: '配信' },
  },
  state: {
    up: { en: 'up', ja: '正常' }, stale: { en: 'stale', ja: '停滞' }, down: { en: 'down', ja: '停止' },
  },
};

const SHORT = { imsva: 'IMSVA', ddi: 'DDI', ddan: 'DDAN', tmcm: 'TMCM', sps: 'SPS' };
const BOX_W = 210;
const BOX_H = 92;
// Detection on the left, analysis and management along the bottom,
// distribution at the top right: the objects flow round the diagram.
const BOX_AT = {
  imsva: [20, 30], sps: [750, 30], ddi: [20, 270], ddan: [385, 270], tmcm: [750, 270],
};
// Each link's path between its boxes and where its two-line label (what
// it carries, then its state) starts.
const LINK_PATH = {
  'imsva-ddan': { d: 'M125,122 L470,270', label: [318, 190] },
  'ddi-ddan': { d: 'M230,316 L385,316', label: [307, 292] },
  'ddan-tmcm': { d: 'M595,316 L750,316', label: [672, 292] },
  'ddi-tmcm': { d: 'M125,362 C125,450 855,450 855,362', label: [490, 416] },
  'tmcm-imsva': { d: 'M775,270 L230,100', label: [560, 176] },
  'tmcm-sps': { d: 'M855,270 L855,122', label: [865, 192], anchor: 'start' },
  'sps-imsva': { d: 'M750,62 L230,62', label: [490, 36] },
};
const STATE_COLOUR = { up: '#2e7d32', stale: '#b26a00', down: '#c62828' };

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function markers() {
  return svg('defs', {}, ...Object.entries(STATE_COLOUR).map(([state, colour]) =>
    svg('marker', { id: `arrow-${state}`, viewBox: '0 0 10 10', refX: 9, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
    svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: colour }))));
}

function box(a, ctx) {
  const [x, y] = BOX_AT[a.name];
  const ok = a.healthy;
  const g = svg('g', { class: 'lab-box', id: `box-${a.name}`, 'data-healthy': ok ? 'yes' : 'no' },
    svg('rect', { x, y, width: BOX_W, height: BOX_H, rx: 6, fill: '#fff',
      stroke: ok ? '#1f4e79' : '#c62828', 'stroke-width': 2 }),
    svg('rect', { x, y, width: BOX_W, height: 30, rx: 6, fill: ok ? '#1f4e79' : '#c62828' }),
    svg('text', { x: x + 12, y: y + 21, fill: '#fff', 'font-size': 17, 'font-weight': 700 },
      SHORT[a.name]),
    svg('text', { x: x + BOX_W - 12, y: y + 21, fill: '#fff', 'font-size': 13,
      'text-anchor': 'end' }, ctx.t(L.role[a.role] || a.role)),
    svg('text', { x: x + 12, y: y + 52, fill: '#222', 'font-size': 11 }, a.product),
    svg('text', { x: x + 12, y: y + 76, fill: ok ? '#2e7d32' : '#c62828', 'font-size': 14,
      'font-weight': 600 }, `● ${ctx.t(ok ? L.healthy : L.down)}`));
  return a.console ? svg('a', { href: a.console, target: '_blank', rel: 'noopener' }, g) : g;
}

function linkLine(l, ctx) {
  const at = LINK_PATH[l.id];
  const colour = STATE_COLOUR[l.state] || '#666';
  const when = l.last_carried ? ctx.time.formatTime(l.last_carried) : ctx.t(L.never);
  const title = [ctx.t(l.label), ctx.t(L.state[l.state]), when, l.error].filter(Boolean).join(' — ');
  return svg('g', { class: 'lab-link', id: `link-${l.id}`, 'data-state': l.state },
    svg('title', {}, title),
    svg('path', { d: at.d, fill: 'none', stroke: colour, 'stroke-width': l.state === 'up' ? 4 : 3,
      'stroke-dasharray': l.state === 'up' ? '' : l.state === 'stale' ? '8 6' : '3 5',
      'marker-end': `url(#arrow-${l.state})` }),
    svg('text', { x: at.label[0], y: at.label[1], 'text-anchor': at.anchor || 'middle',
      'font-size': 13, fill: colour, 'font-weight': 600, stroke: '#fff', 'stroke-width': 4,
      'paint-order': 'stroke' }, ctx.t(l.label),
    svg('tspan', { x: at.label[0], dy: 16, class: 'lab-link-state' }, ctx.t(L.state[l.state]))));
}

function diagram(o, ctx) {
  return svg('svg', { id: 'lab-diagram', viewBox: '0 0 1000 460', role: 'img',
    'aria-label': ctx.t(L.appliances), style: 'width:100%;max-width:1100px;display:block' },
  markers(), ...o.links.map((l) => linkLine(l, ctx)), ...o.appliances.map((a) => box(a, ctx)));
}

function stepList(o, ctx) {
  const { el } = ctx.ui;
  return el('ol', { id: 'lab-steps', style: { listStyle: 'none', padding: 0, margin: 0, display: 'grid',
    gridTemplateColumns: 'repeat(auto-fit, minmax(230px, 1fr))', gap: '12px' } },
    o.steps.map((s) => el('li', { id: `step-${s.id}`, 'data-done': `${s.done}/${s.total}` },
    el('div', { style: { fontWeight: 700, fontSize: '15px' } },
      `STEP ${s.id} — ${ctx.t(s.title)} `,
      ctx.ui.badge(s.done === s.total ? 'ok' : s.done ? 'pending' : 'info', `${s.done} / ${s.total}`)),
    el('ul', { style: { listStyle: 'none', paddingLeft: '14px', margin: '4px 0' } },
      s.checks.map((c) => el('li', { class: 'lab-check', 'data-check': c.id,
        'data-done': c.done ? 'yes' : 'no', style: { color: c.done ? '#1e7b34' : '#666' } },
      `${c.done ? '✔' : '○'} ${c.id} ${ctx.t(c.label)} `,
      c.done ? ctx.time.timeElement(c.at) : null))))));
}

// The few fields of an event's detail a person reads; the action only
// when the kind does not already end with it (IMSVA's "system.tmcm_online").
function summaryOf(ev) {
  const d = ev.detail || {};
  const action = ev.kind.endsWith(`.${d.action}`) ? null : d.action;
  return [d.subject, d.rule, d.reason, action, d.error, d.type && d.value && `${d.type} ${d.value}`]
    .filter((x) => typeof x === 'string' && x).join(' · ');
}

function timelineRow(ev, ctx) {
  const { el } = ctx.ui;
  return el('tr', { 'data-id': ev.id },
    el('td', { style: { whiteSpace: 'nowrap' } }, ctx.time.timeElement(ev.time || ev.ts)),
    el('td', {}, SHORT[ev.appliance] || ev.appliance),
    el('td', {}, ev.kind),
    el('td', { style: { overflowWrap: 'anywhere' } }, ev.ref || ''),
    el('td', { style: { overflowWrap: 'anywhere' } }, summaryOf(ev)));
}

function timelineTable(ctx) {
  const { ui: { el }, t } = ctx;
  const body = el('tbody', { id: 'lab-timeline-rows' });
  const table = el('table', { class: 'grid', id: 'lab-timeline' },
    el('thead', {}, el('tr', {}, [L.time, L.appliance, L.kind, L.ref, L.summary]
      .map((c) => el('th', { scope: 'col' }, t(c))))), body);
  return { table, body };
}

// Newest first; the oldest rows drop off so a long class stays light.
function addEvents(body, events, ctx) {
  for (const ev of events) body.prepend(timelineRow(ev, ctx));
  while (body.rows.length > TIMELINE_ROWS) body.lastElementChild.remove();
}

// Run step every ms while the page is shown. A failed step tries again on
// the next tick; a lost session (401: the shell shows the login form) ends
// the loop, or it would keep calling the form back.
function every(ms, ctx, step) {
  const tick = async () => {
    if (!ctx.active()) return;
    try {
      await step();
    } catch (e) {
      if (e.status === 401) return;
      console.warn(`lab overview: ${e.message}`);
    }
    setTimeout(tick, ms);
  };
  setTimeout(tick, ms);
}

export default async function render(root, ctx) {
  const { api, ui, t } = ctx;
  const { el } = ui;
  const [overview, recent] = await Promise.all([api.get('/api/lab/overview'),
    api.get('/api/lab/events')]);
  if (!ctx.active()) return;
  const picture = el('div', { id: 'lab-picture' }, diagram(overview, ctx));
  const steps = el('div', {}, stepList(overview, ctx));
  const legend = el('p', { class: 'hint', style: { color: '#666', margin: '4px 0 0' } },
    t(L.legend, { m: Math.round(overview.stale_after_ms / 60000) }));
  const timeline = timelineTable(ctx);
  addEvents(timeline.body, recent.events, ctx);
  let lastId = recent.last_id;
  root.append(ui.pageHeader(L.title),
    ui.section(L.appliances, picture, legend),
    ui.section(L.steps, steps),
    ui.section(L.timeline, el('div', { style: { maxHeight: '420px', overflow: 'auto' } },
      timeline.table)));

  every(EVENTS_MS, ctx, async () => {
    const next = await api.get(`/api/lab/events?after=${lastId}`);
    if (!ctx.active()) return;
    addEvents(timeline.body, next.events, ctx);
    lastId = next.last_id;
  });
  every(OVERVIEW_MS, ctx, async () => {
    const o = await api.get('/api/lab/overview');
    if (!ctx.active()) return;
    ui.mount(picture, diagram(o, ctx));
    ui.mount(steps, stepList(o, ctx));
  });
}
