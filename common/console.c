/* console.c - serving the web console: the embedded shell and appliance
 * files, the entry page, the redirect from "/", and the small public JSON
 * the shell starts from (see console.h). */
#include <string.h>
#include <strings.h>
#include "console.h"
#include "session.h"
#include "util.h"

/* One console per process (console_routes): the handlers read it here. */
static console_site site;

const console_file *console_file_find(const console_files *files, const char *path)
{
	for (size_t i = 0; files && path && i < files->count; i++)
		if (strcmp(files->files[i].path, path) == 0)
			return &files->files[i];
	return NULL;
}

const char *console_content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
		{".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
		{".json", "application/json"},          {".svg", "image/svg+xml"},
		{".png", "image/png"},                  {".ico", "image/x-icon"},
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static void send_file(http_resp *resp, const console_file *f)
{
	http_resp_bytes(resp, 200, console_content_type(f->path), f->data, f->len);
	/* a rebuilt daemon serves new files under the same names */
	http_resp_header(resp, "Cache-Control", "no-cache");
	http_resp_header(resp, "X-Content-Type-Options", "nosniff");
}

static void serve_from(const console_files *files, http_req *req, http_resp *resp)
{
	const char *rest = http_req_param(req, "*");
	const console_file *f = console_file_find(files, rest);
	if (!f) {
		http_resp_error(resp, 404, "not_found", "no console file %.200s", rest ? rest : "");
		return;
	}
	send_file(resp, f);
}

static void shell_file(http_req *req, http_resp *resp)
{
	serve_from(&console_shell_files, req, resp);
}

static void app_file(http_req *req, http_resp *resp)
{
	serve_from(site.files, req, resp);
}

static void entry_page(http_req *req, http_resp *resp)
{
	send_file(resp, console_file_find(&console_shell_files, "index.html"));
	/* the shell loads only its own modules; nothing from elsewhere */
	http_resp_header(resp, "Content-Security-Policy",
			 "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
			 "frame-ancestors 'none'");
}

static void to_entry(http_req *req, http_resp *resp)
{
	http_resp_header(resp, "Location", site.entry);
	http_resp_text(resp, 302, "text/plain; charset=utf-8", "the console is at the entry path\n");
}

static void config(http_req *req, http_resp *resp)
{
	http_resp_json(resp, 200,
		       json_pack("{s:s, s:s, s:s, s:s, s:s}", "appliance", site.appliance, "entry",
				 site.entry, "user", SESSION_DEFAULT_USER, "locale", site.locale,
				 "timezone", site.timezone));
}

size_t console_routes(const console_site *s, http_route *out)
{
	site = *s;
	size_t n = 0;
	out[n++] = (http_route){"GET", site.entry, entry_page, HTTP_PUBLIC};
	if (strcmp(site.entry, "/") != 0)
		out[n++] = (http_route){"GET", "/", to_entry, HTTP_PUBLIC};
	out[n++] = (http_route){"GET", "/_console/shell/*", shell_file, HTTP_PUBLIC};
	out[n++] = (http_route){"GET", "/_console/app/*", app_file, HTTP_PUBLIC};
	out[n++] = (http_route){"GET", "/_console/config", config, HTTP_PUBLIC};
	out[n++] = (http_route){"GET", "/_console/session", session_current_handler, HTTP_PUBLIC};
	return n;
}
