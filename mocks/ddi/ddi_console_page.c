/* ddi_console_page.c - a one-page browser console for training labs (STEP
 * 3-1: "DDI console -> Detections -> Suspicious Objects"): sign in with the
 * DDI API key, then the sensor's status (capture state and why it is not
 * capturing), Detections, Suspicious Objects and the carved files. It only
 * calls the console JSON API. */
#include "ddi_sensor.h"

static const char page[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
	"<title>Deep Discovery Inspector (ctdlab)</title>\n<style>\n"
	"body{font-family:sans-serif;margin:0;background:#f4f4f4}\n"
	"header{background:#c8102e;color:#fff;padding:10px 16px;font-size:18px}\n"
	"main{padding:16px}section{background:#fff;margin:0 0 16px;padding:12px;border:1px solid #ddd}\n"
	"table{border-collapse:collapse;width:100%;font-size:13px}\n"
	"td,th{border:1px solid #ddd;padding:4px 6px;text-align:left}th{background:#eee}\n"
	".hidden{display:none}.bad{color:#c8102e}\n"
	"</style></head><body>\n"
	"<header>Deep Discovery Inspector &mdash; ctdlab</header><main>\n"
	"<section id=\"login\"><h3>Log on</h3>\n"
	"<input id=\"key\" type=\"password\" placeholder=\"DDI API key (ctdlab status)\" size=\"40\">\n"
	"<button onclick=\"login()\">Log On</button> <span id=\"msg\"></span></section>\n"
	"<div id=\"app\" class=\"hidden\">\n"
	"<section><h3>Dashboard</h3><button onclick=\"load()\">Refresh</button>"
	"<div id=\"status\"></div></section>\n"
	"<section><h3>Detections</h3>\n"
	"<table><thead><tr><th>Detected</th><th>Risk</th><th>Threat</th><th>Detected by</th>"
	"<th>File</th><th>SHA-1</th><th>URL</th><th>Source</th><th>Destination</th></tr></thead>"
	"<tbody id=\"det\"></tbody></table></section>\n"
	"<section><h3>Detections &rarr; Suspicious Objects</h3>\n"
	"<table><thead><tr><th>Last Detected</th><th>Expiration</th><th>Risk Level</th><th>Type</th>"
	"<th>Object</th><th>Latest Related Sample</th></tr></thead><tbody id=\"so\"></tbody>"
	"</table></section>\n"
	"<section><h3>Carved files</h3>\n"
	"<table><thead><tr><th>Seen</th><th>Protocol</th><th>File</th><th>True type</th>"
	"<th>Rule</th><th>State</th><th>Risk</th><th>URL / sender</th></tr></thead>"
	"<tbody id=\"files\"></tbody></table></section></div></main>\n"
	"<script>\n"
	"let key=sessionStorage.getItem('ddi_key');\n"
	"const esc=s=>String(s==null?'':s).replace(/[&<>\"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','\"':'&quot;'}[c]));\n"
	"const risk=['No risk','Low','Medium','High'];\n"
	"async function api(p){const r=await fetch(p,{headers:{'X-Api-Key':key}});"
	"if(r.status==401){show(false);throw new Error('wrong API key')}return r.json()}\n"
	"function show(on){document.getElementById('login').classList.toggle('hidden',on);"
	"document.getElementById('app').classList.toggle('hidden',!on)}\n"
	"function rows(id,list,f){document.getElementById(id).innerHTML=list.map(o=>'<tr>'+f(o).map("
	"v=>'<td>'+esc(v)+'</td>').join('')+'</tr>').join('')}\n"
	"async function load(){const s=await api('/api/status');const c=s.capture,a=s.analysis;"
	"document.getElementById('status').innerHTML='<p>Capture on <b>'+esc(c.interface)+'</b> ('+"
	"esc(c.bpf)+'): <b class=\"'+(c.state=='running'?'':'bad')+'\">'+esc(c.state)+'</b> '+"
	"esc(c.reason||'')+'</p><p>Analysis: '+esc(a.mode)+(a.mode=='ddan'?' '+esc(a.ddan_url)+"
	"(a.ddan_down?' <b class=bad>DDAN unreachable</b>':''):'')+' &mdash; carved '+a.carved+"
	"', verdicts '+a.verdicts+'</p>';\n"
	"const d=await api('/api/detections');rows('det',d.detections,o=>[o.ts,o.risk_level,o.threat,"
	"o.detected_by,o.file_name,o.sha1,o.url,o.client_ip+':'+o.client_port,o.server_ip+':'+o.server_port]);\n"
	"const so=await api('/api/detections/suspicious_objects');rows('so',so.suspicious_objects,o=>["
	"o.last_seen,o.expires||'never',o.risk,o.type,o.value,o.related_sha1]);\n"
	"const f=await api('/api/files');rows('files',f.files,o=>[o.ts,o.proto,o.file_name,o.true_type,"
	"o.rule,o.state,o.risk==null?'':risk[o.risk],o.url||o.mail_from])}\n"
	"async function login(){key=document.getElementById('key').value;"
	"try{await load();sessionStorage.setItem('ddi_key',key);show(true)}"
	"catch(e){document.getElementById('msg').textContent=e.message}}\n"
	"if(key)load().then(()=>show(true)).catch(()=>show(false));\n"
	"</script></body></html>\n";

void ddi_console_page(http_req *req, http_resp *resp)
{
	http_resp_text(resp, 200, "text/html; charset=utf-8", page);
}
