// appliance.js - TMCM's console for the shell: product name, header colour
// and the menu tree of Control Manager 6.0 as the seed walks it (STEP 2-2,
// 2-3, 3-2, 3-3, 4-3: [運用管理] > [不審オブジェクト] > [仮想アナライザオブジェクト]),
// EN and JA labels; each leaf names its page module under pages/.
export default {
  product: { en: 'Control Manager', ja: 'Control Manager' },
  short: 'TMCM',
  color: '#1f4e79',
  menu: [
    { id: 'dashboard', label: { en: 'Dashboard', ja: 'ダッシュボード' }, page: 'dashboard' },
    {
      id: 'directories', label: { en: 'Directories', ja: 'ディレクトリ' },
      children: [
        { id: 'product-directory', label: { en: 'Product Directory', ja: '製品ディレクトリ' },
          page: 'product-directory' },
      ],
    },
    {
      id: 'administration', label: { en: 'Administration', ja: '運用管理' }, open: true,
      children: [
        {
          id: 'suspicious-objects', label: { en: 'Suspicious Objects', ja: '不審オブジェクト' },
          open: true,
          children: [
            { id: 'virtual-analyzer-objects',
              label: { en: 'Virtual Analyzer Objects', ja: '仮想アナライザオブジェクト' },
              page: 'va-objects' },
            { id: 'user-defined-objects',
              label: { en: 'User-Defined Objects', ja: 'ユーザ定義オブジェクト' }, page: 'udso' },
            { id: 'exceptions', label: { en: 'Exceptions', ja: '例外' }, page: 'exceptions' },
          ],
        },
        {
          id: 'settings', label: { en: 'Settings', ja: '設定' },
          children: [
            { id: 'automation-api-access-settings',
              label: { en: 'Automation API Access Settings', ja: 'Automation API アクセス設定' },
              page: 'automation-api' },
          ],
        },
      ],
    },
    // the lab's own page, beyond this appliance (GET /lab opens it)
    { id: 'lab-overview', label: { en: 'Lab overview', ja: 'ラボ全体の状況' }, page: 'lab-overview' },
  ],
};
