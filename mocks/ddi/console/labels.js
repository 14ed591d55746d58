// labels.js - DDI's own words and views shared by several pages: the capture
// state and the download site's hand-off note (object types and risk names
// are the shell's objects.js).
import { word } from '../shell/objects.js';

export const CAPTURE_STATE = {
  running: { en: 'Capturing', ja: 'キャプチャ中' },
  off: { en: 'Off', ja: 'オフ' },
  unavailable: { en: 'Unavailable', ja: '利用不可' },
  failed: { en: 'Failed', ja: '失敗' },
};

export function captureBadge(ui, state) {
  return ui.badge(state === 'running' ? 'ok' : 'error', word(CAPTURE_STATE, state));
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
