// appliance.js - what the console shell needs to know about DDI's console:
// its product name, header colour and menu tree (EN and JA labels; each
// leaf names its page module under pages/).
export default {
  product: { en: 'Deep Discovery Inspector', ja: 'Deep Discovery Inspector' },
  short: 'DDI',
  color: '#a84300',
  menu: [
    { id: 'dashboard', label: { en: 'Dashboard', ja: 'ダッシュボード' }, page: 'dashboard' },
  ],
};
