// virtual-analyzer.js - Administration > Virtual Analyzer: where files go
// for analysis (DDAN or the internal analyzer), its health and counters,
// and the file submission rules in force (GET /api/status, GET /api/rules).

export default async function render(root, { api, ui, t, refresh }) {
  const [s, r] = await Promise.all([api.get('/api/status'), api.get('/api/rules')]);
  const a = s.analysis;
  const ddan = a.mode === 'ddan';
  root.append(ui.pageHeader({ en: 'Virtual Analyzer', ja: '仮想アナライザ' }, ui.button('Refresh', refresh)),
    ui.section({ en: 'Settings', ja: '設定' }, ui.fields([
      [{ en: 'Analyzer', ja: 'アナライザ' }, ddan
        ? t({ en: 'External (Deep Discovery Analyzer)', ja: '外部 (Deep Discovery Analyzer)' })
        : t({ en: 'Internal Virtual Analyzer', ja: '内蔵仮想アナライザ' })],
      [{ en: 'Server address', ja: 'サーバアドレス' }, ddan ? ui.el('code', {}, a.ddan_url) : ''],
      [{ en: 'Status', ja: 'ステータス' }, ddan ? ui.badge(a.ddan_down ? 'error' : 'ok',
        a.ddan_down ? { en: 'Unreachable', ja: '接続できません' } : { en: 'Connected', ja: '接続済み' }) : ''],
      [{ en: 'Last error', ja: '最後のエラー' }, a.last_error || ''],
      [{ en: 'Submission rules', ja: 'ファイル送信ルール' }, r.ruleset],
    ])),
    ui.section({ en: 'Counters', ja: 'カウンタ' }, ui.fields([
      [{ en: 'Files carved', ja: '抽出されたファイル' }, a.carved],
      [{ en: 'Queued for analysis', ja: '解析待ち' }, a.queued],
      [{ en: 'Not submitted (rules)', ja: '送信対象外 (ルール)' }, a.not_submitted],
      [{ en: 'Uploaded to DDAN', ja: 'DDAN へアップロード' }, a.uploaded],
      [{ en: 'Verdicts', ja: '判定' }, a.verdicts],
      [{ en: 'Dropped', ja: '破棄' }, a.dropped],
    ])),
    ui.section({ en: 'File submission rules', ja: 'ファイル送信ルール' }, ui.table({
      columns: [
        { key: 'priority', label: { en: 'Priority', ja: '優先度' }, align: 'right' },
        { key: 'name', label: { en: 'Rule', ja: 'ルール' } },
        { key: 'criteria', label: { en: 'Criteria', ja: '条件' },
          render: (x) => Object.entries(x.criteria).map(([k, v]) => `${k}: ${[].concat(v).join(', ')}`).join('; ') },
        { key: 'action', label: { en: 'Action', ja: '処理' } },
      ],
      rows: r.rules,
    })));
}
