// monitoring.js - Administration > Monitoring / Capture: the monitored
// interface, its filter, the capture state and why, packet drops, capture
// files, and what the STEP 3-1 download site served and how DDI saw each
// download (GET /api/status, GET /api/downloads).
import { captureBadge, handoffNote } from '../labels.js';

export default async function render(root, { api, ui, t, refresh }) {
  const [s, dl] = await Promise.all([api.get('/api/status'), api.get('/api/downloads')]);
  const c = s.capture, live = c.live, files = c.files;
  const site = dl.url ? ui.el('a', { href: dl.url, target: '_blank', id: 'download-site' }, dl.url)
    : t({ en: 'Off', ja: 'オフ' });
  root.append(ui.pageHeader({ en: 'Monitoring / Capture', ja: '監視 / キャプチャ' }, ui.button('Refresh', refresh)),
    handoffNote(ui, t, c) || '',
    ui.section({ en: 'Capture', ja: 'キャプチャ' }, ui.fields([
      [{ en: 'Interface', ja: 'インターフェース' }, c.interface],
      [{ en: 'Filter (BPF)', ja: 'フィルタ (BPF)' }, ui.el('code', {}, c.bpf || t({ en: '(everything)', ja: '(すべて)' }))],
      [{ en: 'State', ja: '状態' }, ui.el('span', { id: 'capture-state' }, captureBadge(ui, c.state))],
      [{ en: 'Reason', ja: '理由' }, c.reason || ''],
      [{ en: 'Packets received', ja: '受信パケット' }, live.received],
      [{ en: 'Dropped by the kernel', ja: 'カーネルで破棄' }, live.kernel_dropped],
      [{ en: 'Dropped by the queue', ja: 'キューで破棄' }, live.queue_dropped],
      [{ en: 'Active flows', ja: 'アクティブなフロー' }, live.flows_active],
      [{ en: 'Files carved', ja: '抽出されたファイル' }, live.files_carved],
      [{ en: 'Capture file folder', ja: 'キャプチャファイルのフォルダ' }, ui.el('code', {}, files.pcap_dir)],
      [{ en: 'Capture files read', ja: '読み込んだキャプチャファイル' }, files.read],
    ])),
    ui.section({ en: 'Download site (STEP 3-1)', ja: 'ダウンロードサイト (STEP 3-1)' },
      ui.fields([[{ en: 'URL', ja: 'URL' }, site]]),
      ui.table({
        columns: [
          { key: 'ts', label: { en: 'Time', ja: '日時' }, time: true },
          { key: 'title', label: { en: 'Sample', ja: 'サンプル' } },
          { key: 'client', label: { en: 'Client', ja: 'クライアント' } },
          { key: 'mode', label: { en: 'How DDI saw it', ja: 'DDI での取得方法' },
            render: (r) => (r.mode === 'live capture' ? t({ en: 'Live capture', ja: 'ライブキャプチャ' })
              : t({ en: 'Capture hand-off (as a mirror port would)', ja: 'キャプチャの受け渡し (ミラーポート相当)' })) },
          { key: 'reason', label: { en: 'Reason', ja: '理由' } },
          { key: 'capture_file', label: { en: 'Capture file', ja: 'キャプチャファイル' },
            render: (r) => (r.capture_file ? ui.el('code', {}, r.capture_file) : '') },
        ],
        rows: dl.downloads,
        empty: { en: 'No downloads yet', ja: 'ダウンロードはまだありません' },
      })));
}
