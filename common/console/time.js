// time.js - times as the lab shows them: in the lab's time zone (the
// `timezone` option; empty: the browser's), with the UTC value on hover.
import { locale } from './i18n.js';

let zone; // undefined: the browser's own

// Use the lab's zone when this browser knows it.
export function initTimeZone(name) {
  zone = undefined;
  if (!name) return;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    zone = name;
  } catch {
    console.warn(`time zone ${name} is unknown to this browser; showing local time`);
  }
}

export function timeZone() {
  return zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

// A Date from an ISO 8601 string, epoch seconds (< 1e11) or milliseconds.
export function toDate(value) {
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value < 1e11 ? value * 1000 : value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return toDate(Number(value));
  return new Date(value);
}

// "2026-12-07 17:22:54" in the lab's zone; '' when value is empty or bad.
export function formatTime(value) {
  if (value === null || value === undefined || value === '') return '';
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timeZone(), year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(d);
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

// A <time> element: the lab-zone text, the UTC value as its tooltip.
export function timeElement(value) {
  const el = document.createElement('time');
  const d = toDate(value);
  el.textContent = formatTime(value);
  if (value !== null && value !== undefined && value !== '' && !Number.isNaN(d.getTime())) {
    el.dateTime = d.toISOString();
    el.title = `${d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')} (UTC)`;
  }
  el.lang = locale();
  return el;
}
