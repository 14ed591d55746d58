// submission.js - one submission's detail (GET /api/samples/{sha1}): the
// sample, its verdict, what the analysis found, and the report download
// (GET /api/samples/{sha1}/report).
import { word, riskBadge } from '../../shell/objects.js';
import { RISK_BY_LEVEL, STATUS } from '../labels.js';

function fields(ui, t, time, s) {
  const rows = [
    [{ en: 'File name / URL', ja: 'ファイル名 / URL' }, s.orig_name],
    [{ en: 'SHA-1', ja: 'SHA-1' }, ui.el('code', { id: 'detail-sha1' }, s.sha1)],
    [{ en: 'SHA-256', ja: 'SHA-256' }, ui.el('code', {}, s.sha256)],
    [{ en: 'MD5', ja: 'MD5' }, ui.el('code', {}, s.md5)],
    [{ en: 'Size (bytes)', ja: 'サイズ (バイト)' }, s.size],
    [{ en: 'True file type', ja: '実ファイルタイプ' }, s.true_type],
    [{ en: 'Source', ja: '送信元' }, s.source_name],
    [{ en: 'Submitted', ja: '送信日時' }, time.timeElement(s.submitted_ms)],
    [{ en: 'Completed', ja: '完了日時' }, s.completed_ms ? time.timeElement(s.completed_ms) : ''],
    [{ en: 'Status', ja: 'ステータス' }, t(word(STATUS, s.status_name))],
    [{ en: 'Risk level', ja: '危険度' }, riskBadge(s.risk_name)],
    [{ en: 'Threat', ja: '脅威' }, s.virus_name],
  ];
  return ui.fields(rows);
}

export default async function render(root, { api, ui, t, time, query, navigate }) {
  const sha1 = query.get('sha1') || '';
  const s = await api.get(`/api/samples/${encodeURIComponent(sha1)}`);
  const done = s.status_name === 'Done';
  const report = ui.button({ en: 'Download report', ja: 'レポートのダウンロード' }, () => {
    ui.el('a', { href: `/api/samples/${s.sha1}/report`, download: `${s.sha1}_report.xml` }).click();
  }, { id: 'report-download', disabled: !done,
    title: done ? null : { en: 'The analysis has not finished', ja: '解析が完了していません' } });
  const result = s.result || {};
  root.append(ui.pageHeader({ en: 'Submission details', ja: 'サブミッションの詳細' },
    ui.button({ en: 'Back', ja: '戻る' }, () => navigate('/virtual-analyzer/submissions')), report),
  ui.section({ en: 'Sample', ja: 'サンプル' }, fields(ui, t, time, s)),
  ui.section({ en: 'Notable characteristics', ja: '注目すべき特性' },
    ui.table({
      columns: [{ key: 'event', label: { en: 'Event', ja: 'イベント' } },
        { key: 'details', label: { en: 'Details', ja: '詳細' } }],
      rows: result.events || [],
    })),
  ui.section({ en: 'URLs found', ja: '検出された URL' },
    ui.table({
      columns: [{ key: 'url', label: { en: 'URL', ja: 'URL' } },
        { key: 'risk', label: { en: 'Risk level', ja: '危険度' },
          render: (u) => riskBadge(RISK_BY_LEVEL[u.risk]) }],
      rows: result.urls || [],
    })));
}
