// labels.js - words the SPS pages share: object types, ratings and the
// subscription's status, in English and Japanese.
export const SO_TYPES = [
  { value: 'URL', label: { en: 'URL', ja: 'URL' } },
  { value: 'DOMAIN', label: { en: 'Domain', ja: 'ドメイン' } },
  { value: 'IP', label: { en: 'IP address', ja: 'IPアドレス' } },
  { value: 'FILE', label: { en: 'File', ja: 'ファイル' } },
];

export const RATINGS = {
  Dangerous: { en: 'Dangerous', ja: '危険' },
  'Highly Suspicious': { en: 'Highly Suspicious', ja: '極めて不審' },
  Suspicious: { en: 'Suspicious', ja: '不審' },
  Safe: { en: 'Safe', ja: '安全' },
  Unrated: { en: 'Unrated', ja: '未評価' },
};

const RATING_TONE = { Dangerous: 'error', 'Highly Suspicious': 'error', Suspicious: 'warning', Safe: 'ok' };
export function ratingBadge(ui, rating) {
  return ui.badge(RATING_TONE[rating] || 'info', RATINGS[rating] || { en: rating });
}

export const SUBSCRIPTION = {
  ok: { en: 'Connected', ja: '接続済み' },
  error: { en: 'Error', ja: 'エラー' },
  waiting: { en: 'Waiting for the first synchronization', ja: '初回同期待ち' },
  not_configured: { en: 'Not configured', ja: '未設定' },
};

export const SOURCES = {
  tmcm: { en: 'Control Manager', ja: 'Control Manager' },
  ddan: { en: 'Deep Discovery Analyzer', ja: 'Deep Discovery Analyzer' },
};

export function subscriptionBadge(ui, status) {
  const tone = { ok: 'ok', error: 'error', waiting: 'pending' }[status] || 'info';
  return ui.badge(tone, SUBSCRIPTION[status] || { en: status });
}

export function typeLabel(value) {
  const found = SO_TYPES.find((x) => x.value === value);
  return found ? found.label : { en: value };
}

export const ACTIONS = {
  log: { en: 'Log', ja: 'ログ' },
  block: { en: 'Block', ja: 'ブロック' },
  quarantine: { en: 'Quarantine', ja: '隔離' },
  '': { en: '(none)', ja: '(なし)' },
};

export const RISKS = {
  High: { en: 'High', ja: '高' },
  Medium: { en: 'Medium', ja: '中' },
  Low: { en: 'Low', ja: '低' },
};
