// appliance.js - what the console shell needs to know about IMSVA's console:
// its product name, header colour and menu tree (EN and JA labels; each
// leaf names its page module under pages/).
export default {
  product: { en: 'InterScan Messaging Security Virtual Appliance', ja: 'InterScan Messaging Security Virtual Appliance' },
  short: 'IMSVA',
  color: '#b3122b',
  menu: [
    { id: 'dashboard', label: { en: 'Dashboard', ja: 'ダッシュボード' }, page: 'dashboard' },
  ],
};
