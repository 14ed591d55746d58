// appliance.js - what the console shell needs to know about DDAN's console:
// its product name, header colour and menu tree (EN and JA labels from the
// seed: [仮想アナライザ] > [不審オブジェクト], [ヘルプ] > [バージョン]; each
// leaf names its page module under pages/).
export default {
  product: { en: 'Deep Discovery Analyzer', ja: 'Deep Discovery Analyzer' },
  short: 'DDAN',
  color: '#6a2c70',
  menu: [
    { id: 'dashboard', label: { en: 'Dashboard', ja: 'ダッシュボード' }, page: 'dashboard' },
    {
      id: 'virtual-analyzer', label: { en: 'Virtual Analyzer', ja: '仮想アナライザ' },
      children: [
        { id: 'submissions', label: { en: 'Submissions', ja: 'サブミッション' }, page: 'submissions' },
        { id: 'submission', label: { en: 'Submission', ja: 'サブミッション' }, page: 'submission',
          hidden: true },
        { id: 'suspicious-objects', label: { en: 'Suspicious Objects', ja: '不審オブジェクト' },
          page: 'suspicious-objects' },
        { id: 'exceptions', label: { en: 'Exceptions', ja: '例外' }, page: 'exceptions' },
      ],
    },
    {
      id: 'help', label: { en: 'Help', ja: 'ヘルプ' },
      children: [{ id: 'about', label: { en: 'About', ja: 'バージョン' }, page: 'about' }],
    },
  ],
};
