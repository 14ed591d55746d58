// appliance.js - what the console shell needs to know about SPS's console:
// its product name, header colour and menu tree (EN and JA labels; each
// leaf names its page module under pages/).
export default {
  product: { en: 'Smart Protection Server', ja: 'Smart Protection Server' },
  short: 'SPS',
  color: '#2e6b30',
  menu: [
    { id: 'dashboard', label: { en: 'Dashboard', ja: 'ダッシュボード' }, page: 'dashboard' },
  ],
};
