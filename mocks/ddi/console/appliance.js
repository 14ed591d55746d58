// appliance.js - what the console shell needs to know about DDI's console:
// its product name, header colour and menu tree (EN and JA labels; the
// seed's STEP 3-1 is 検出 > 不審オブジェクト; each leaf names its page module
// under pages/).
export default {
  product: { en: 'Deep Discovery Inspector', ja: 'Deep Discovery Inspector' },
  short: 'DDI',
  color: '#a84300',
  menu: [
    { id: 'dashboard', label: { en: 'Dashboard', ja: 'ダッシュボード' }, page: 'dashboard' },
    {
      id: 'detections', label: { en: 'Detections', ja: '検出' },
      children: [
        { id: 'all', label: { en: 'All Detections', ja: 'すべての検出' }, page: 'detections' },
        { id: 'suspicious-objects', label: { en: 'Suspicious Objects', ja: '不審オブジェクト' },
          page: 'suspicious-objects' },
      ],
    },
    {
      id: 'administration', label: { en: 'Administration', ja: '管理' },
      children: [
        { id: 'monitoring', label: { en: 'Monitoring / Capture', ja: '監視 / キャプチャ' },
          page: 'monitoring' },
        { id: 'virtual-analyzer', label: { en: 'Virtual Analyzer', ja: '仮想アナライザ' },
          page: 'virtual-analyzer' },
      ],
    },
  ],
};
