// i18n.js - English and Japanese labels: t() picks the current locale's
// text of a label ({en, ja} object, or a key of a registered dictionary);
// the locale is the lab's default until the person switches, then
// remembered in this browser.
const STORAGE_KEY = 'ctdlab.locale';
export const LOCALES = ['en', 'ja'];
let current = 'en';
const messages = { en: {}, ja: {} };

// Add a dictionary: { en: { key: 'text' }, ja: { key: 'テキスト' } }.
export function addMessages(dict) {
  for (const loc of LOCALES) Object.assign(messages[loc], dict[loc] || {});
}

// The text of label in the current locale; {name} placeholders filled from
// vars. A label missing in Japanese falls back to English, then to the key.
export function t(label, vars) {
  let text;
  if (label && typeof label === 'object') text = label[current] ?? label.en ?? '';
  else text = messages[current][label] ?? messages.en[label] ?? String(label ?? '');
  if (vars) text = text.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return text;
}

export function locale() {
  return current;
}

// Start from the lab's default unless this browser chose before.
export function initLocale(labDefault) {
  let saved = null;
  try {
    saved = localStorage.getItem(STORAGE_KEY);
  } catch {
    // storage off: the lab's default only
  }
  current = LOCALES.includes(saved) ? saved : LOCALES.includes(labDefault) ? labDefault : 'en';
  document.documentElement.lang = current;
}

export function setLocale(loc) {
  if (!LOCALES.includes(loc)) return;
  current = loc;
  document.documentElement.lang = loc;
  try {
    localStorage.setItem(STORAGE_KEY, loc);
  } catch {
    // storage off: this page only
  }
}
