// imsva_ui.js - small helpers IMSVA's pages share on top of the shell:
// running an action with its outcome shown in a status area, and lists
// typed one per line.
import { mount, message } from '../shell/ui.js';

// Run fn; show okText (if any) or the error it threw in status.
export async function act(status, fn, okText) {
  try {
    const r = await fn();
    mount(status, okText ? message(okText, 'ok') : null);
    return r;
  } catch (e) {
    mount(status, message(e.message, 'error'));
    return undefined;
  }
}

// "a\n b ,c" -> ['a', 'b', 'c']
export function lines(text) {
  return String(text || '').split(/[\n,;]+/).map((s) => s.trim()).filter(Boolean);
}
