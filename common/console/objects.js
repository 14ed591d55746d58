// objects.js - the words of suspicious objects that every console shows:
// object types, risk levels and the actions TMCM sets (the seed's ログ /
// ブロック), in English and Japanese, with their badges. One table, so the
// DDAN, DDI, TMCM and SPS screens name an object the same way.
import { badge } from './ui.js';

export const OBJECT_TYPES = [
  { value: 'FILE', label: { en: 'File', ja: 'ファイル' } },
  { value: 'URL', label: { en: 'URL', ja: 'URL' } },
  { value: 'DOMAIN', label: { en: 'Domain', ja: 'ドメイン' } },
  { value: 'IP', label: { en: 'IP address', ja: 'IPアドレス' } },
];

export const RISKS = {
  High: { en: 'High', ja: '高' },
  Medium: { en: 'Medium', ja: '中' },
  Low: { en: 'Low', ja: '低' },
  'No risk': { en: 'No risk', ja: '危険度なし' },
  Unsupported: { en: 'Unsupported', ja: '未サポート' },
};

export const ACTIONS = {
  log: { en: 'Log', ja: 'ログ' },
  block: { en: 'Block', ja: 'ブロック' },
  quarantine: { en: 'Quarantine', ja: '隔離' },
};

// table[key], or the key itself in both languages when the table lacks it.
export function word(table, key) {
  return table[key] || { en: key ?? '', ja: key ?? '' };
}

// An object type's label from a [{value, label}] list (OBJECT_TYPES by default).
export function objectType(value, list = OBJECT_TYPES) {
  const found = list.find((x) => x.value === value);
  return found ? found.label : word({}, value);
}

// A risk name as a badge coloured by severity.
export function riskBadge(name) {
  if (!name) return '';
  const tone = name === 'High' ? 'error' : name === 'Medium' ? 'warning' : 'ok';
  return badge(tone, word(RISKS, name));
}
