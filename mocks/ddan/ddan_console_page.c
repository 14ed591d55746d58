/* ddan_console_page.c - a one-page browser console for training labs
 * (`/pages/login.php`, as the walkthrough opens it): log in, Help → About
 * (the API key), Virtual Analyzer → Submissions and → Suspicious Objects with
 * Expire Now / Never Expire. It only calls the console JSON API. */
#include "ddan.h"

static const char page[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
	"<title>Deep Discovery Analyzer (ctdlab)</title>\n<style>\n"
	"body{font-family:sans-serif;margin:0;background:#f4f4f4}\n"
	"header{background:#c8102e;color:#fff;padding:10px 16px;font-size:18px}\n"
	"main{padding:16px}section{background:#fff;margin:0 0 16px;padding:12px;border:1px solid #ddd}\n"
	"table{border-collapse:collapse;width:100%;font-size:13px}\n"
	"td,th{border:1px solid #ddd;padding:4px 6px;text-align:left}th{background:#eee}\n"
	"button{margin:0 2px}.hidden{display:none}code{background:#eee;padding:2px 4px}\n"
	"</style></head><body>\n"
	"<header>Deep Discovery Analyzer &mdash; ctdlab</header><main>\n"
	"<section id=\"login\"><h3>Log on</h3>\n"
	"<input id=\"pw\" type=\"password\" placeholder=\"console password\">\n"
	"<button onclick=\"login()\">Log On</button> <span id=\"msg\"></span></section>\n"
	"<div id=\"app\" class=\"hidden\">\n"
	"<section><h3>Help &rarr; About</h3><div id=\"about\"></div></section>\n"
	"<section><h3>Virtual Analyzer &rarr; Suspicious Objects</h3>\n"
	"<button onclick=\"loadSO()\">Refresh</button>\n"
	"<table><thead><tr><th>Last Detected</th><th>Expiration</th><th>Risk Level</th><th>Type</th>"
	"<th>Object</th><th>Latest Related Sample</th><th>Related Submissions</th><th></th></tr>"
	"</thead><tbody id=\"so\"></tbody></table></section>\n"
	"<section><h3>Virtual Analyzer &rarr; Submissions</h3>\n"
	"<button onclick=\"loadSamples()\">Refresh</button>\n"
	"<table><thead><tr><th>Submitted</th><th>Status</th><th>Risk Level</th><th>SHA-1</th>"
	"<th>File Name / URL</th><th>Type</th><th>Submitter</th></tr></thead>"
	"<tbody id=\"samples\"></tbody></table></section></div></main>\n"
	"<script>\n"
	"let token=sessionStorage.getItem('ddan_token');\n"
	"const esc=s=>String(s==null?'':s).replace(/[&<>\"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','\"':'&quot;'}[c]));\n"
	"const ts=ms=>ms?new Date(ms).toISOString().replace('T',' ').slice(0,19):'';\n"
	"async function api(m,p,b){const r=await fetch(p,{method:m,headers:{'Authorization':'Bearer '+token,"
	"'Content-Type':'application/json'},body:b?JSON.stringify(b):undefined});"
	"if(r.status==401){show(false);throw new Error('session ended')}return r.json()}\n"
	"function show(on){document.getElementById('login').classList.toggle('hidden',on);"
	"document.getElementById('app').classList.toggle('hidden',!on)}\n"
	"async function login(){const r=await fetch('/api/login',{method:'POST',"
	"body:JSON.stringify({password:document.getElementById('pw').value})});const j=await r.json();"
	"if(!j.token){document.getElementById('msg').textContent=j.error?j.error.message:'failed';return}"
	"token=j.token;sessionStorage.setItem('ddan_token',token);start()}\n"
	"async function loadAbout(){const a=await api('GET','/api/about');"
	"document.getElementById('about').innerHTML='Product: '+esc(a.product)+' '+esc(a.version)+"
	"'<br>API key: <code>'+esc(a.api_key)+'</code><br>Service URL: '+esc(location.origin+a.service_url)}\n"
	"async function loadSO(){const j=await api('GET','/api/suspicious_objects');"
	"document.getElementById('so').innerHTML=j.suspicious_objects.map(o=>'<tr><td>'+esc(o.last_detected)+"
	"'</td><td>'+esc(o.expiration)+'</td><td>'+esc(o.risk)+'</td><td>'+esc(o.type)+'</td><td>'+esc(o.object)+"
	"'</td><td>'+esc(o.latest_related_sample)+'</td><td>'+esc(o.related_submissions)+"
	"'</td><td><button onclick=\"act('+o.id+',\\'expire\\')\">Expire Now</button>'+"
	"'<button onclick=\"act('+o.id+',\\'never_expire\\')\">Never Expire</button></td></tr>').join('')}\n"
	"async function act(id,a){await api('POST','/api/suspicious_objects/'+id+'/'+a,{});loadSO()}\n"
	"async function loadSamples(){const j=await api('GET','/api/samples?limit=200');"
	"document.getElementById('samples').innerHTML=j.samples.map(s=>'<tr><td>'+ts(s.submitted_ms)+"
	"'</td><td>'+esc(s.status_name)+'</td><td>'+esc(s.risk_name)+'</td><td>'+esc(s.sha1)+'</td><td>'+"
	"esc(s.orig_name)+'</td><td>'+esc(s.true_type)+'</td><td>'+esc(s.source_name)+'</td></tr>').join('')}\n"
	"function start(){show(true);loadAbout();loadSO();loadSamples()}\n"
	"if(token)start();\n"
	"</script></body></html>\n";

void ddan_console_page(http_req *req, http_resp *resp)
{
	(void)req;
	http_resp_bytes(resp, 200, "text/html; charset=utf-8", page, sizeof page - 1);
}
