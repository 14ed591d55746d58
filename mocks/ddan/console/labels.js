// labels.js - DDAN's words shared by several pages: risk levels, sample
// status and object types, in English and Japanese.
export const RISK = {
  High: { en: 'High', ja: '高' },
  Medium: { en: 'Medium', ja: '中' },
  Low: { en: 'Low', ja: '低' },
  'No risk': { en: 'No risk', ja: '危険度なし' },
  Unsupported: { en: 'Unsupported', ja: '未サポート' },
};

// DDAN's risk numbers (RiskLevel) by name; -1 is unsupported.
export const RISK_BY_LEVEL = { '-1': 'Unsupported', 0: 'No risk', 1: 'Low', 2: 'Medium', 3: 'High' };

export const STATUS = {
  Arrived: { en: 'Arrived', ja: '受信済み' },
  Processing: { en: 'Processing', ja: '処理中' },
  Done: { en: 'Done', ja: '完了' },
  Error: { en: 'Error', ja: 'エラー' },
  Timeout: { en: 'Timeout', ja: 'タイムアウト' },
};

export const TYPE = {
  FILE: { en: 'File', ja: 'ファイル' },
  URL: { en: 'URL', ja: 'URL' },
  DOMAIN: { en: 'Domain', ja: 'ドメイン' },
  IP: { en: 'IP address', ja: 'IP アドレス' },
};

// A risk name as a badge coloured by severity.
export function riskBadge(ui, name) {
  if (!name) return '';
  const kind = name === 'High' ? 'error' : name === 'Medium' ? 'warning' : 'ok';
  return ui.badge(kind, RISK[name] || { en: name, ja: name });
}

export function label(table, key) {
  return table[key] || { en: key ?? '', ja: key ?? '' };
}

// Name/value rows ([[label, value], ...]) as a two-column table.
export function fieldTable(ui, t, rows) {
  return ui.table({
    columns: [{ key: 0, label: { en: 'Item', ja: '項目' }, render: (r) => t(r[0]) },
      { key: 1, label: { en: 'Value', ja: '値' }, render: (r) => r[1] ?? '' }],
    rows,
  });
}
