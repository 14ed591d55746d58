// appliance.js - what the console shell needs to know about TMCM's console:
// its product name, header colour and menu tree (EN and JA labels; each
// leaf names its page module under pages/).
export default {
  product: { en: 'Control Manager', ja: 'Control Manager' },
  short: 'TMCM',
  color: '#1f4e79',
  menu: [
    { id: 'dashboard', label: { en: 'Dashboard', ja: 'ダッシュボード' }, page: 'dashboard' },
  ],
};
