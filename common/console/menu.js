// menu.js - the console's menu tree: branches open and close, leaves are
// links to their hash path (#/policy/scan-engine), the current page's
// branch is open and its leaf marked. Keyboard as in a tree view: Up/Down
// move between the visible items, Right opens a branch (or enters it),
// Left closes it (or goes to its parent), Home/End the first/last item.
import { t } from './i18n.js';
import { el } from './ui.js';

function branch(item, path, activePath, openPaths) {
  const inPath = activePath === path || activePath.startsWith(`${path}/`);
  const sub = tree(item.children, path, activePath, openPaths, 'group');
  sub.hidden = !(inPath || item.open || openPaths.has(path));
  const toggle = el('button', { type: 'button', class: 'branch', role: 'treeitem',
    'aria-expanded': String(!sub.hidden), dataset: { path } }, t(item.label));
  toggle.addEventListener('click', () => setOpen(toggle, sub.hidden));
  return el('li', { role: 'none' }, toggle, sub);
}

function tree(items, prefix, activePath, openPaths, role) {
  return el('ul', { role }, items.filter((i) => !i.hidden).map((item) => {
    const path = `${prefix}/${item.id}`;
    if (item.children) return branch(item, path, activePath, openPaths);
    const current = activePath === path;
    return el('li', { role: 'none' }, el('a', { role: 'treeitem', href: `#${path}`,
      class: current ? 'active' : null, 'aria-current': current ? 'page' : null,
      dataset: { path } }, t(item.label)));
  }));
}

function setOpen(toggle, open) {
  toggle.nextElementSibling.hidden = !open;
  toggle.setAttribute('aria-expanded', String(open));
}

function visibleItems(root) {
  return [...root.querySelectorAll('[role=treeitem]')].filter((n) => n.offsetParent !== null);
}

function onKey(ev) {
  const item = ev.target.closest('[role=treeitem]');
  if (!item) return;
  const root = ev.currentTarget;
  const items = visibleItems(root);
  const i = items.indexOf(item);
  const isBranch = item.classList.contains('branch');
  const open = isBranch && item.getAttribute('aria-expanded') === 'true';
  let next = null;
  switch (ev.key) {
    case 'ArrowDown': next = items[i + 1]; break;
    case 'ArrowUp': next = items[i - 1]; break;
    case 'Home': next = items[0]; break;
    case 'End': next = items[items.length - 1]; break;
    case 'ArrowRight':
      if (isBranch && !open) setOpen(item, true);
      else if (open) next = items[i + 1];
      break;
    case 'ArrowLeft':
      if (open) setOpen(item, false);
      else next = item.closest('ul[role=group]')?.previousElementSibling;
      break;
    default: return;
  }
  ev.preventDefault();
  next?.focus();
}

// The menu tree of a descriptor's items, with the item at activePath marked
// and its branches open, as are the branches at openPaths (a Set).
export function menuTree(items, activePath, openPaths = new Set()) {
  const root = tree(items, '', activePath, openPaths, 'tree');
  root.addEventListener('keydown', onKey);
  return root;
}

// The paths of the open branches under root (to keep them open on a redraw).
export function openBranches(root) {
  return new Set([...root.querySelectorAll('.branch[aria-expanded=true]')]
    .map((b) => b.dataset.path));
}
