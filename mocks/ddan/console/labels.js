// labels.js - DDAN's own words shared by several pages: the sample status and
// DDAN's risk numbers (object types and risk names are the shell's objects.js).

// DDAN's risk numbers (RiskLevel) by name; -1 is unsupported.
export const RISK_BY_LEVEL = { '-1': 'Unsupported', 0: 'No risk', 1: 'Low', 2: 'Medium', 3: 'High' };

export const STATUS = {
  Arrived: { en: 'Arrived', ja: '受信済み' },
  Processing: { en: 'Processing', ja: '処理中' },
  Done: { en: 'Done', ja: '完了' },
  Error: { en: 'Error', ja: 'エラー' },
  Timeout: { en: 'Timeout', ja: 'タイムアウト' },
};
