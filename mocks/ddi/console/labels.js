// labels.js - DDI's words and views shared by several pages: risk levels,
// object types, the capture state, and name/value tables.
export const RISK = {
  High: { en: 'High', ja: '高' },
  Medium: { en: 'Medium', ja: '中' },
  Low: { en: 'Low', ja: '低' },
  'No risk': { en: 'No risk', ja: '危険度なし' },
};

export const TYPE = {
  FILE: { en: 'File', ja: 'ファイル' },
  URL: { en: 'URL', ja: 'URL' },
  DOMAIN: { en: 'Domain', ja: 'ドメイン' },
  IP: { en: 'IP address', ja: 'IP アドレス' },
};

export const CAPTURE_STATE = {
  running: { en: 'Capturing', ja: 'キャプチャ中' },
  off: { en: 'Off', ja: 'オフ' },
  unavailable: { en: 'Unavailable', ja: '利用不可' },
  failed: { en: 'Failed', ja: '失敗' },
};

export function label(table, key) {
  return table[key] || { en: key ?? '', ja: key ?? '' };
}

export function riskBadge(ui, name) {
  if (!name) return '';
  const kind = name === 'High' ? 'error' : name === 'Medium' ? 'warning' : 'ok';
  return ui.badge(kind, label(RISK, name));
}

export function captureBadge(ui, state) {
  return ui.badge(state === 'running' ? 'ok' : 'error', label(CAPTURE_STATE, state));
}

// Name/value rows ([[label, value], ...]) as a two-column table.
export function fieldTable(ui, t, rows) {
  return ui.table({
    columns: [{ key: 0, label: { en: 'Item', ja: '項目' }, render: (r) => t(r[0]) },
      { key: 1, label: { en: 'Value', ja: '値' }, render: (r) => r[1] ?? '' }],
    rows,
  });
}

// What happened to the downloads of the STEP 3-1 site, when DDI cannot
// capture them live: the site hands DDI a capture of each.
export function handoffNote(ui, t, capture) {
  if (capture.state === 'running') return null;
  return ui.message(t({
    en: 'Live capture is not available here ({why}). The lab\'s download site hands DDI a capture '
      + 'of each download it serves, as a mirror port would: see Administration > Monitoring / Capture.',
    ja: 'ここではライブキャプチャを利用できません ({why})。ラボのダウンロードサイトは、ミラーポートと同様に、'
      + '配信した各ダウンロードのキャプチャを DDI に渡します。[管理] > [監視 / キャプチャ] を参照してください。',
  }, { why: capture.reason || capture.state }), 'info');
}
