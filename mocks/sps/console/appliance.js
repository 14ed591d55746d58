// appliance.js - SPS's console for the shell: product name, header colour and
// the menu tree of Smart Protection Server 3.x as the seed walks it (STEP 4-4:
// [Smart Protection] > [不審オブジェクト]), EN and JA labels; each leaf names
// its page module under pages/.
export default {
  product: { en: 'Smart Protection Server', ja: 'Smart Protection Server' },
  short: 'SPS',
  color: '#2e6b30',
  menu: [
    { id: 'dashboard', label: { en: 'Summary', ja: 'サマリ' }, page: 'summary' },
    {
      id: 'smart-protection', label: { en: 'Smart Protection', ja: 'Smart Protection' }, open: true,
      children: [
        { id: 'suspicious-objects', label: { en: 'Suspicious Objects', ja: '不審オブジェクト' },
          page: 'suspicious-objects' },
        { id: 'approved-blocked-urls',
          label: { en: 'Approved/Blocked URLs', ja: '承認/ブロックするURL' }, page: 'url-lists' },
        { id: 'web-reputation', label: { en: 'Web Reputation', ja: 'Webレピュテーション' },
          page: 'web-reputation' },
      ],
    },
  ],
};
