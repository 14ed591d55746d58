// dashboard.js - SPS's Dashboard.
import { systemStatus } from '/_console/shell/status.js';

export default async function render(root, { ui }) {
  root.append(ui.pageHeader({ en: 'Dashboard', ja: 'ダッシュボード' }), await systemStatus());
}
