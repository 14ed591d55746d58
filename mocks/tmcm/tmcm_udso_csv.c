/* tmcm_udso_csv.c - User-Defined Objects as CSV, the console's Export and
 * Import: one object a line, `Type,Object,Action,Expiration (UTC),Notes`
 * (RFC 4180 quoting), so an exported file imports unchanged. An import takes
 * every valid line and reports the others by line number. No library in the
 * project's set reads CSV, hence the small reader below. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "util.h"
#include "tmcm.h"

#define CSV_HEADER "Type,Object,Action,Expiration (UTC),Notes\r\n"
#define CSV_FIELDS 5

/* ---- writing ---------------------------------------------------------------- */

static void csv_field(sbuf *out, const char *v, const char *sep)
{
	if (!strpbrk(v, ",\"\r\n")) {
		sbuf_puts(out, v);
	} else {
		sbuf_puts(out, "\"");
		for (const char *q; (q = strchr(v, '"')); v = q + 1) {
			sbuf_append(out, v, (size_t)(q - v));
			sbuf_puts(out, "\"\"");
		}
		sbuf_puts(out, v);
		sbuf_puts(out, "\"");
	}
	sbuf_puts(out, sep);
}

char *tmcm_udso_csv_export(store *st, ctd_err *err)
{
	json_t *list = tmcm_udso_list(st, NULL, NULL, err);
	if (!list)
		return NULL;
	sbuf out = {0};
	sbuf_puts(&out, CSV_HEADER);
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o) {
		const char *exp = json_string_value(json_object_get(o, "expiration_utc_date"));
		csv_field(&out, json_string_value(json_object_get(o, "type")), ",");
		csv_field(&out, json_string_value(json_object_get(o, "content")), ",");
		csv_field(&out, json_string_value(json_object_get(o, "scan_action")), ",");
		csv_field(&out, exp ? exp : "", ",");
		csv_field(&out, json_string_value(json_object_get(o, "notes")), "\r\n");
	}
	json_decref(list);
	return sbuf_detach(&out);
}

/* ---- reading ---------------------------------------------------------------- */

typedef struct csv_reader {
	const char *p, *end;
	long line; /* of the record being read */
	long next_line;
} csv_reader;

/* One field into f; returns the character that ended it (',', '\n' or 0 at
 * the end of input), or -1 for a quote that never closes. */
static int csv_read_field(csv_reader *r, sbuf *f)
{
	int quoted = r->p < r->end && *r->p == '"';
	if (quoted)
		r->p++;
	while (r->p < r->end) {
		char c = *r->p++;
		if (quoted && c == '"') {
			if (r->p < r->end && *r->p == '"') {
				sbuf_append(f, "\"", 1);
				r->p++;
				continue;
			}
			quoted = 0;
			continue;
		}
		if (c == '\n')
			r->next_line++;
		if (!quoted && (c == ',' || c == '\n'))
			return c;
		if (!quoted && c == '\r' && r->p < r->end && *r->p == '\n')
			continue;
		sbuf_append(f, &c, 1);
	}
	return quoted ? -1 : 0;
}

/* The next record's fields (malloc'd, up to CSV_FIELDS kept); returns the
 * number of fields, 0 at the end, -1 on a broken quote. */
static int csv_read_record(csv_reader *r, char *fields[CSV_FIELDS])
{
	if (r->p >= r->end)
		return 0;
	r->line = r->next_line;
	int n = 0, end;
	do {
		sbuf f = {0};
		end = csv_read_field(r, &f);
		char *v = sbuf_detach(&f);
		if (n < CSV_FIELDS)
			fields[n] = v;
		else
			free(v);
		n++;
	} while (end == ',');
	if (end >= 0)
		return n;
	for (int i = 0; i < n && i < CSV_FIELDS; i++)
		free(fields[i]);
	return -1;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	size_t lead = strspn(s, " \t");
	memmove(s, s + lead, n - lead + 1);
}

/* One record as a user-defined object; 0 stored, -1 with err. */
static int import_record(store *st, char *f[CSV_FIELDS], int n, long long max, ctd_err *err)
{
	if (n < 2)
		return ctd_fail(err, CTD_EINVAL, "expected Type,Object[,Action,Expiration,Notes]");
	for (int i = 0; i < n && i < CSV_FIELDS; i++)
		trim(f[i]);
	str_lower(f[0]);
	char *action = xstrdup(n > 2 && f[2][0] ? f[2] : "log"), *canon = NULL;
	str_lower(action);
	int64_t expires = 0;
	int rc = tmcm_udso_check(f[0], f[1], action, &canon, err);
	if (rc == 0 && tmcm_parse_utc(n > 3 ? f[3] : NULL, &expires) < 0)
		rc = ctd_fail(err, CTD_EINVAL, "expiration: not an ISO 8601 time");
	if (rc == 0)
		rc = tmcm_udso_put(st, &(tmcm_udso){.type = f[0], .content = canon,
						    .scan_action = action,
						    .notes = n > 4 ? f[4] : "", .expires_ms = expires},
				   max, err);
	free(canon);
	free(action);
	return rc;
}

/* An empty line, or the header line. */
static int skipped(const csv_reader *r, char *f[CSV_FIELDS], int n)
{
	return (n == 1 && !f[0][0]) || (r->line == 1 && strcasecmp(f[0], "type") == 0);
}

json_t *tmcm_udso_csv_import(store *st, const char *csv, size_t len, long long max,
			     ctd_err *err)
{
	csv_reader r = {.p = csv, .end = csv + len, .next_line = 1};
	json_t *errors = json_array();
	long imported = 0;
	int n;
	char *f[CSV_FIELDS];
	while ((n = csv_read_record(&r, f)) != 0) {
		ctd_err line_err = {0};
		int rc = 0;
		if (n < 0) {
			rc = ctd_fail(&line_err, CTD_EINVAL, "a quoted field never closes");
		} else {
			if (!skipped(&r, f, n) && (rc = import_record(st, f, n, max, &line_err)) == 0)
				imported++;
			for (int i = 0; i < n && i < CSV_FIELDS; i++)
				free(f[i]);
		}
		if (rc == 0)
			continue;
		if (line_err.code == CTD_ESTORE) {
			*err = line_err;
			json_decref(errors);
			return NULL;
		}
		json_array_append_new(errors, json_pack("{s:I, s:s}", "line", (json_int_t)r.line,
							"message", line_err.msg));
		if (n < 0 || line_err.code == CTD_ETOOBIG)
			break; /* nothing after it can be read or stored */
	}
	return json_pack("{s:I, s:I, s:o}", "imported", (json_int_t)imported, "failed",
			 (json_int_t)json_array_size(errors), "errors", errors);
}
