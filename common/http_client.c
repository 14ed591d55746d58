/* http_client.c - blocking HTTP(S) requests over libcurl: raw or multipart
 * bodies, a whole-request timeout, TLS verification on or off (or against a
 * given CA file), and retries with exponential backoff when the peer cannot
 * be reached or answers 502/503/504.
 *
 * A final 1xx: DDAN answers get_report with a bare "102" while it analyses.
 * libcurl takes every 1xx as interim and waits for a final status; when the
 * exchange ends instead (the lab closes the connection after its 102, or
 * the timeout hits), http_fetch returns that 1xx as the response, with no
 * body, rather than an error.
 *
 * Kept connections (opts->keep_alive): each thread has one easy handle for
 * its life, and libcurl keeps the handle's connections open between
 * requests, so a poller that calls the same peer again skips the TCP and TLS
 * handshakes (a third of a lab's start-up CPU was handshakes). A kept
 * connection the peer has closed is noticed and replaced by libcurl. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include "fault.h"
#include "http_client.h"
#include "log.h"

#define DEFAULT_TIMEOUT_MS 10000L
#define DEFAULT_BACKOFF_MS 200L

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_handle_key;

static void thread_handle_free(void *c)
{
	curl_easy_cleanup(c);
}

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (pthread_key_create(&thread_handle_key, thread_handle_free) != 0)
		fatal("http.client", "pthread_key_create failed");
}

/* This thread's easy handle, made at its first kept-alive request; its
 * options are reset after every request, its connections are what is kept. */
static CURL *thread_handle(void)
{
	pthread_once(&curl_once, curl_init_once);
	CURL *c = pthread_getspecific(thread_handle_key);
	if (!c && (c = curl_easy_init()) && pthread_setspecific(thread_handle_key, c) != 0) {
		curl_easy_cleanup(c);
		c = NULL;
	}
	return c;
}

/* What the callbacks fill during one attempt. */
typedef struct fetch_state {
	http_response *resp;
	size_t cap;   /* of resp->header_name/value */
	long interim; /* last 1xx status line other than 100, 0 after a final one */
} fetch_state;

static void headers_clear(http_response *resp)
{
	for (int i = 0; i < resp->nheaders; i++) {
		free(resp->header_name[i]);
		free(resp->header_value[i]);
	}
	resp->nheaders = 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *cls)
{
	fetch_state *fs = cls;
	sbuf_append(&fs->resp->body, data, size * nmemb);
	return size * nmemb;
}

static void header_add(fetch_state *fs, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	if (!colon)
		return;
	const char *v = colon + 1, *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' ||
			   end[-1] == '\t'))
		end--;
	http_response *r = fs->resp;
	if ((size_t)r->nheaders == fs->cap) {
		fs->cap = fs->cap ? 2 * fs->cap : 16;
		r->header_name = xrealloc(r->header_name, fs->cap * sizeof *r->header_name);
		r->header_value = xrealloc(r->header_value, fs->cap * sizeof *r->header_value);
	}
	r->header_name[r->nheaders] = xstrndup(line, (size_t)(colon - line));
	r->header_value[r->nheaders++] = xstrndup(v, (size_t)(end - v));
}

/* Header lines in arrival order; a status line starts a new header block
 * (after "100 Continue" or a 1xx), so only the final one is kept. */
static size_t on_header(char *line, size_t size, size_t nmemb, void *cls)
{
	fetch_state *fs = cls;
	size_t len = size * nmemb;
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		headers_clear(fs->resp);
		const char *sp = memchr(line, ' ', len);
		long status = sp ? strtol(sp + 1, NULL, 10) : 0;
		fs->interim = status > 100 && status < 200 ? status : 0;
	} else {
		header_add(fs, line, len);
	}
	return len;
}

static void response_reset(http_response *resp)
{
	headers_clear(resp);
	resp->body.len = 0;
	if (resp->body.data)
		resp->body.data[0] = '\0';
	resp->status = 0;
}

static int retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return 1;
	default:
		return 0;
	}
}

static int retryable_status(long status)
{
	return status == 502 || status == 503 || status == 504;
}

static curl_mime *build_form(CURL *c, const http_request *req)
{
	curl_mime *mime = curl_mime_init(c);
	for (size_t i = 0; i < req->nform; i++) {
		const http_form_part *p = &req->form[i];
		curl_mimepart *part = curl_mime_addpart(mime);
		curl_mime_name(part, p->name);
		curl_mime_data(part, p->data ? p->data : "", p->data ? p->data_len : 0);
		if (p->filename)
			curl_mime_filename(part, p->filename);
		if (p->content_type)
			curl_mime_type(part, p->content_type);
	}
	return mime;
}

static void set_method(CURL *c, const http_request *req, int has_body)
{
	const char *m = req->method;
	if (!m)
		return; /* GET, or POST via the body options */
	if (strcasecmp(m, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcasecmp(m, "GET") == 0 && !has_body)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (!(strcasecmp(m, "POST") == 0 && has_body))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
}

static void setup(CURL *c, const http_client_opts *opts, const http_request *req,
		  struct curl_slist *headers, curl_mime *mime, fetch_state *fs, char *errbuf)
{
	long timeout = opts && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	int verify = opts && opts->verify_tls;
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* lab peers on loopback never go through an http_proxy from the env */
	curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ctdlab");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	if (verify && opts->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, opts->ca_file);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, fs);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, fs);
	if (headers)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	if (mime) {
		curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	} else if (req->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
	}
	set_method(c, req, mime || req->body);
}

/* A fault rule on calls to peers (fault.h): 0 when none applies (or only a
 * delay), 1 with the made-up answer in resp, -1 with the connection error. */
static int peer_fault(const char *method, const http_request *req, http_response *resp,
		      ctd_err *err)
{
	fault_hit hit;
	if (!fault_check(&(fault_request){.point = FAULT_PEER, .method = method,
					  .target = req->url},
			 &hit))
		return 0;
	if (hit.delay_ms)
		sleep_ms(hit.delay_ms);
	if (hit.action == FAULT_DROP || hit.action == FAULT_RESET)
		return ctd_fail(err, CTD_EIO, "%s %s: %s (%s)", method, req->url,
				hit.action == FAULT_RESET ? "Connection reset by peer"
							  : "Empty reply from server",
				hit.message);
	if (hit.action == FAULT_RESPOND && !hit.status)
		return 0;
	resp->status = hit.status;
	char *body = hit.action == FAULT_MALFORMED ? fault_malformed_body(&hit)
						   : fault_error_body(&hit);
	sbuf_puts(&resp->body, body);
	free(body);
	return 1;
}

int http_fetch(const http_client_opts *opts, const http_request *req, http_response *resp,
	       ctd_err *err)
{
	*resp = (http_response){0};
	if (!req->url)
		return ctd_fail(err, CTD_EINVAL, "http_fetch without a URL");
	const char *verb = req->method ? req->method : (req->body || req->form) ? "POST" : "GET";
	int faulted = peer_fault(verb, req, resp, err);
	if (faulted)
		return faulted < 0 ? -1 : 0;
	int keep = opts && opts->keep_alive;
	if (!keep)
		pthread_once(&curl_once, curl_init_once);
	CURL *c = keep ? thread_handle() : curl_easy_init();
	if (!c)
		return ctd_fail(err, CTD_EINTERNAL, "curl_easy_init failed");
	struct curl_slist *headers = NULL;
	for (const char *const *h = req->headers; h && *h; h++)
		headers = curl_slist_append(headers, *h);
	curl_mime *mime = req->form ? build_form(c, req) : NULL;
	char errbuf[CURL_ERROR_SIZE];
	fetch_state fs = {resp, 0, 0};
	setup(c, opts, req, headers, mime, &fs, errbuf);

	int retries = opts && opts->retries > 0 ? opts->retries : 0;
	long backoff = opts && opts->backoff_ms > 0 ? opts->backoff_ms : DEFAULT_BACKOFF_MS;
	const char *method = req->method ? req->method : (req->body || mime) ? "POST" : "GET";
	CURLcode rc;
	for (int attempt = 0;; attempt++) {
		response_reset(resp);
		fs.interim = 0;
		errbuf[0] = '\0';
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		else if (fs.interim) {
			/* the exchange ended on a 1xx: that was the answer */
			resp->status = fs.interim;
			rc = CURLE_OK;
		}
		int again = rc == CURLE_OK ? retryable_status(resp->status) : retryable_curl(rc);
		if (!again || attempt >= retries)
			break;
		log_debug("http.retry", "method=%s url=%s attempt=%d status=%ld error=\"%s\"",
			  method, req->url, attempt + 1, resp->status,
			  rc == CURLE_OK ? "" : curl_easy_strerror(rc));
		sleep_ms(backoff);
		backoff *= 2;
	}
	int ret = 0;
	if (rc != CURLE_OK) {
		ret = ctd_fail(err, CTD_EIO, "%s %s: %s", method, req->url,
			       errbuf[0] ? errbuf : curl_easy_strerror(rc));
		http_response_free(resp);
	}
	/* reset or free the handle before what its options point at */
	if (keep)
		curl_easy_reset(c);
	else
		curl_easy_cleanup(c);
	curl_mime_free(mime);
	curl_slist_free_all(headers);
	return ret;
}

const char *http_response_header(const http_response *resp, const char *name)
{
	for (int i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->header_name[i], name) == 0)
			return resp->header_value[i];
	return NULL;
}

void http_response_free(http_response *resp)
{
	headers_clear(resp);
	free(resp->header_name);
	free(resp->header_value);
	sbuf_free(&resp->body);
	*resp = (http_response){0};
}
