// labels.js - words the TMCM pages share beyond the shell's objects.js (object
// types, risks, the seed's ログ / ブロック actions): user-defined object types,
// statuses and the seed's note on Set action, in English and Japanese.
export const UDSO_TYPES = [
  { value: 'file_sha1', label: { en: 'File SHA-1', ja: 'ファイルSHA-1' } },
  { value: 'url', label: { en: 'URL', ja: 'URL' } },
  { value: 'domain', label: { en: 'Domain', ja: 'ドメイン' } },
  { value: 'ip', label: { en: 'IP address', ja: 'IPアドレス' } },
];

export const STATUS = {
  active: { en: 'Active', ja: '有効' },
  expired: { en: 'Expired', ja: '期限切れ' },
  excepted: { en: 'Excepted', ja: '例外' },
  online: { en: 'Online', ja: 'オンライン' },
  abnormal: { en: 'Abnormal', ja: '異常' },
  connecting: { en: 'Connecting', ja: '接続中' },
};

// The seed's note beside "Set action" (STEP 2-3): what IMSVA does with each.
export const ACTION_NOTE = {
  en: 'Note: Log — IMSVA does not quarantine the message (it leaves it alone); Block — IMSVA quarantines it.',
  ja: 'ご注意! ログ: IMSVA 上で隔離せず放置します / ブロック: IMSVA 上で隔離します',
};

// The date part of an ISO time, for <input type="date">.
export function dateOnly(iso) {
  return iso ? String(iso).slice(0, 10) : '';
}

// A product's or source's status as a coloured badge.
const TONE = { online: 'ok', abnormal: 'error', connecting: 'pending' };
export function statusBadge(ui, status) {
  return ui.badge(TONE[status] || status, STATUS[status] || { en: status });
}
