/* ctdlab_send.c - `ctdlab send`: a small swaks for the lab. Builds a MIME
 * message with GMime (body, URLs, attachments) and sends it over SMTP with
 * libcurl to IMSVA (or any server). */
#include <curl/curl.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctdlab.h"
#include "util.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: ctdlab send --to ADDR [--to ADDR...] [--from ADDR] [--subject TEXT]\n"
		"                   [--body TEXT] [--url URL...] [--attach FILE...] [--server HOST:PORT]\n"
		"  --server defaults to the lab's IMSVA SMTP listener\n");
}

static int add_item(const char **list, int *n, const char *v)
{
	if (*n >= LAB_MAIL_MAX)
		return -1;
	list[(*n)++] = v;
	return 0;
}

static int parse_args(int argc, char **argv, lab_mail *o)
{
	for (int i = 0; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;
		if (!v)
			return -1;
		if (strcmp(k, "--to") == 0)
			rc = add_item(o->to, &o->nto, v);
		else if (strcmp(k, "--url") == 0)
			rc = add_item(o->urls, &o->nurls, v);
		else if (strcmp(k, "--attach") == 0)
			rc = add_item(o->attach, &o->nattach, v);
		else if (strcmp(k, "--from") == 0)
			o->from = v;
		else if (strcmp(k, "--subject") == 0)
			o->subject = v;
		else if (strcmp(k, "--body") == 0)
			o->body = v;
		else if (strcmp(k, "--server") == 0)
			o->server = v;
		else
			return -1;
		if (rc != 0)
			return -1;
	}
	return o->nto > 0 ? 0 : -1;
}

static GMimeObject *text_part(const lab_mail *o)
{
	sbuf text = {0};
	sbuf_printf(&text, "%s\n", o->body);
	for (int i = 0; i < o->nurls; i++)
		sbuf_printf(&text, "%s\n", o->urls[i]);
	GMimeTextPart *part = g_mime_text_part_new_with_subtype("plain");
	g_mime_text_part_set_text(part, text.data);
	sbuf_free(&text);
	return GMIME_OBJECT(part);
}

static GMimeObject *attachment(const char *path, char **err)
{
	char *data;
	size_t len;
	if (file_read(path, &data, &len, NULL) != 0) {
		*err = xasprintf("cannot read %s", path);
		return NULL;
	}
	GMimePart *part = g_mime_part_new_with_type("application", "octet-stream");
	const char *base = strrchr(path, '/');
	g_mime_part_set_filename(part, base ? base + 1 : path);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeDataWrapper *content = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, content);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	g_object_unref(content);
	g_object_unref(stream);
	free(data);
	return GMIME_OBJECT(part);
}

/* The whole message as RFC 5322 text, or NULL with *err set. */
static char *build_message(const lab_mail *o, char **err)
{
	GMimeMessage *msg = g_mime_message_new(TRUE);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, NULL, o->from);
	for (int i = 0; i < o->nto; i++)
		g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL, o->to[i]);
	g_mime_message_set_subject(msg, o->subject, NULL);
	GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
	GMimeObject *body = text_part(o);
	g_mime_multipart_add(mixed, body);
	g_object_unref(body);
	char *out = NULL;
	for (int i = 0; i < o->nattach; i++) {
		GMimeObject *part = attachment(o->attach[i], err);
		if (!part)
			goto done;
		g_mime_multipart_add(mixed, part);
		g_object_unref(part);
	}
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));
	GMimeFormatOptions *fmt = g_mime_format_options_clone(NULL);
	g_mime_format_options_set_newline_format(fmt, GMIME_NEWLINE_FORMAT_DOS);
	char *text = g_mime_object_to_string(GMIME_OBJECT(msg), fmt);
	out = xstrdup(text);
	g_free(text);
	g_mime_format_options_free(fmt);
done:
	g_object_unref(mixed);
	g_object_unref(msg);
	return out;
}

typedef struct upload {
	const char *data;
	size_t len, off;
} upload;

static size_t read_upload(char *buf, size_t size, size_t n, void *cls)
{
	upload *u = cls;
	size_t want = size * n, left = u->len - u->off;
	size_t take = want < left ? want : left;
	memcpy(buf, u->data + u->off, take);
	u->off += take;
	return take;
}

static int smtp_send(const lab_mail *o, const char *message, char *errbuf)
{
	CURL *c = curl_easy_init();
	struct curl_slist *rcpts = NULL;
	upload u = {message, strlen(message), 0};
	char *url = xasprintf("smtp://%s", o->server);
	for (int i = 0; i < o->nto; i++)
		rcpts = curl_slist_append(rcpts, o->to[i]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, o->from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	errbuf[0] = '\0';
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK && !errbuf[0])
		snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(c);
	free(url);
	return rc == CURLE_OK ? 0 : -1;
}

char *lab_smtp_server(const lab *l)
{
	json_t *ready = lab_ready(l, &lab_appliances[lab_nappliances - 1]);
	const char *url = json_string_value(json_object_get(json_object_get(ready, "listeners"), "smtp"));
	char *server = xstrdup(url && strncmp(url, "smtp://", 7) == 0 ? url + 7 : "127.0.0.1:2525");
	json_decref(ready);
	return server;
}

long lab_mail_send(const lab_mail *m, char **err)
{
	char errbuf[CURL_ERROR_SIZE];
	long size = -1;
	char *message = build_message(m, err);
	if (message && smtp_send(m, message, errbuf) != 0)
		*err = xasprintf("sending to %s failed: %s", m->server, errbuf);
	else if (message)
		size = (long)strlen(message);
	free(message);
	return size;
}

int cmd_send(const lab *l, int argc, char **argv)
{
	lab_mail o = {.from = "sender@ctdlab.test", .subject = "ctdlab test message",
		       .body = "This is a test message sent by ctdlab send."};
	char *err = NULL;
	if (parse_args(argc, argv, &o) != 0) {
		usage();
		return 2;
	}
	char *server = o.server ? NULL : lab_smtp_server(l);
	if (server)
		o.server = server;
	g_mime_init();
	long size = lab_mail_send(&o, &err);
	g_mime_shutdown();
	if (size < 0)
		fprintf(stderr, "ctdlab: %s\n", err);
	else
		printf("ctdlab: sent to %s (%ld bytes, %d attachment(s))\n", o.server, size,
		       o.nattach);
	free(err);
	free(server);
	return size < 0 ? 1 : 0;
}
