// appliance.js - what the console shell needs to know about DDAN's console:
// its product name, header colour and menu tree (EN and JA labels; each
// leaf names its page module under pages/).
export default {
  product: { en: 'Deep Discovery Analyzer', ja: 'Deep Discovery Analyzer' },
  short: 'DDAN',
  color: '#6a2c70',
  menu: [
    { id: 'dashboard', label: { en: 'Dashboard', ja: 'ダッシュボード' }, page: 'dashboard' },
  ],
};
