// labels.js - words the SPS pages share beyond the shell's objects.js: web
// reputation ratings, the subscription's status and its sources, in English
// and Japanese.
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
