// appliance.js - what the console shell needs to know about IMSVA's console:
// its product name, header colour and menu tree (EN and JA labels, the
// Japanese from the seed; each leaf names its page module under pages/).
import './labels.js';

// IMSVA's own styles, beside the shell's.
document.head.append(Object.assign(document.createElement('link'),
  { rel: 'stylesheet', href: '/_console/app/imsva.css' }));

const L = (en, ja) => ({ en, ja });

export default {
  product: L('InterScan Messaging Security Virtual Appliance',
    'InterScan Messaging Security Virtual Appliance'),
  short: 'IMSVA',
  color: '#b3122b',
  menu: [
    { id: 'dashboard', label: L('Dashboard', 'ダッシュボード'), page: 'dashboard' },
    { id: 'policy', label: L('Policy', 'ポリシー'), children: [
      { id: 'policy-list', label: L('Policy List', 'ポリシーリスト'), page: 'policy-list' },
      { id: 'scan-engine', label: L('Scan Engine', '検索エンジン'), page: 'scan-engine' },
    ] },
    { id: 'mail-areas', label: L('Mail Areas & Queues', 'メールエリアとキュー'), children: [
      { id: 'quarantine', label: L('Quarantine', '隔離'), page: 'quarantine' },
      { id: 'va-queue', label: L('Virtual Analyzer Queue', '仮想アナライザキュー'), page: 'va-queue' },
      { id: 'delivery-queue', label: L('Delivery Queue', '配信キュー'), page: 'delivery-queue' },
    ] },
    { id: 'logs', label: L('Logs', 'ログ'), children: [
      { id: 'log-query', label: L('Log Query', 'ログクエリ'), page: 'log-query' },
    ] },
    { id: 'administration', label: L('Administration', '管理'), children: [
      { id: 'imsva-configuration', label: L('IMSVA Configuration', 'IMSVA 設定'), children: [
        { id: 'connections', label: L('Connections', '接続'), page: 'connections' },
      ] },
    ] },
  ],
};
