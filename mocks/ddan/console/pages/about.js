// about.js - Help > About (seed STEP 4-2: [ヘルプ] > [バージョン] > [API キー:]):
// the product, its version and the API key dtascli's config.ini needs
// (GET /api/about).

export default async function render(root, { api, ui, t }) {
  const a = await api.get('/api/about');
  const rows = [
    [{ en: 'Product', ja: '製品' }, a.product],
    [{ en: 'Version', ja: 'バージョン' }, a.version],
    [{ en: 'API key:', ja: 'API キー:' }, ui.el('code', { id: 'api-key' }, a.api_key)],
    [{ en: 'Web service URL', ja: 'Web サービス URL' }, ui.el('code', {}, a.service_url)],
    [{ en: 'Analysis rules', ja: '解析ルール' }, a.rules],
  ];
  root.append(ui.pageHeader({ en: 'About', ja: 'バージョン' }),
    ui.section(null, ui.fields(rows)),
    ui.message(t({ en: 'Use this API key in dtascli\'s config.ini: [DTAS] ApiKey = …',
      ja: 'この API キーを dtascli の config.ini の [DTAS] ApiKey に設定します' })));
}
