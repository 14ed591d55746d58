/* ddan_exceptions.c - Virtual Analyzer > Suspicious Objects > Exceptions:
 * objects (file SHA-1, URL, domain, IP) that analysis never turns into a
 * suspicious object; also as the DTAS get_exception_list /
 * upload_exception_list XML (element names ours: REPORT{ID, TYPE, VALUE,
 * NOTE, CREATED}, the public QA client reads REPORT/ID). Adding one retires the matching object at once (a new
 * change id, so SO feed consumers drop it); removing one lets the next
 * analysis list the object again. */
#include "ddan.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "dtas.h"
#include "log.h"

static const char *const types[] = {"FILE", "URL", "DOMAIN", "IP"};

/* The type's canonical name, or NULL. */
static const char *exception_type(const char *type)
{
	for (size_t i = 0; type && i < sizeof types / sizeof types[0]; i++)
		if (!strcasecmp(type, types[i]))
			return types[i];
	return NULL;
}

/* The value as ddan_so stores it: SHA-1 and domains in their one case. */
static int normalize(const char *type, const char *value, char **out, ctd_err *err)
{
	char sha1[41];
	if (!value || !*value)
		return ctd_fail(err, CTD_EINVAL, "value must not be empty");
	if (!strcmp(type, "FILE")) {
		if (ddan_sha1_norm(value, sha1) != 0)
			return ctd_fail(err, CTD_EINVAL, "a FILE exception is a SHA-1 (40 hex digits)");
		*out = xstrdup(sha1);
		return 0;
	}
	*out = xstrdup(value);
	if (!strcmp(type, "DOMAIN"))
		str_lower(*out);
	return 0;
}

int ddan_exception_match(store *st, const char *type, const char *value, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT 1 FROM ddan_so_exceptions WHERE type = ?1 AND value = ?2",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	int hit = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return hit;
}

/* The active suspicious object with this type and value: its id, or 0. */
static int64_t active_so(store *st, const char *type, const char *value, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id FROM ddan_so WHERE type = ?1 AND value = ?2 AND removed = 0",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	int64_t id = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return id;
}

json_t *ddan_exception_add(store *st, const char *type_in, const char *value_in, const char *note,
			   int64_t expiry_ms, ctd_err *err)
{
	const char *type = exception_type(type_in);
	char *value = NULL;
	if (!type) {
		ctd_fail(err, CTD_EINVAL, "type must be FILE, URL, DOMAIN or IP");
		return NULL;
	}
	if (normalize(type, value_in, &value, err) != 0)
		return NULL;
	sqlite3_stmt *s = store_stmt(st,
				     "INSERT INTO ddan_so_exceptions (type, value, note, created_ms) "
				     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
				     err);
	json_t *row = NULL;
	if (s) {
		sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, note ? note : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, time_now_ms());
	}
	if (s && store_step_done(st, s, err) == 0) {
		if (sqlite3_changes(store_db(st)) == 0)
			ctd_fail(err, CTD_ECONFLICT, "%s %s is already an exception", type, value);
		else
			row = json_pack("{s:I, s:s, s:s, s:s}", "id",
					(json_int_t)sqlite3_last_insert_rowid(store_db(st)), "type", type,
					"value", value, "note", note ? note : "");
	}
	int64_t so = row ? active_so(st, type, value, err) : 0;
	if (so > 0 && ddan_so_action(st, so, "expire", expiry_ms, err) != 0)
		log_warn("so.exception", "id=%lld error=\"%s\"", (long long)so, err->msg);
	if (row)
		log_info("so.exception.added", "type=%s value=\"%s\" retired_so=%lld", type, value,
			 (long long)(so > 0 ? so : 0));
	free(value);
	return row;
}

int ddan_exception_delete(store *st, int64_t id, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM ddan_so_exceptions WHERE id = ?1", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (store_step_changed(st, s, err, "no exception with id %lld", (long long)id) != 0)
		return -1;
	log_info("so.exception.deleted", "id=%lld", (long long)id);
	return 0;
}

json_t *ddan_exception_list(store *st, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT id, type, value, note, created_ms FROM ddan_so_exceptions "
				     "ORDER BY id DESC",
				     err);
	if (!s)
		return NULL;
	json_t *arr = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		char created[32];
		time_iso8601(sqlite3_column_int64(s, 4), created, sizeof created);
		json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s}", "id",
						     (json_int_t)sqlite3_column_int64(s, 0), "type",
						     sqlite3_column_text(s, 1), "value",
						     sqlite3_column_text(s, 2), "note",
						     sqlite3_column_text(s, 3), "created", created));
	}
	sqlite3_reset(s);
	return arr;
}

/* ---- DTAS exception list XML -------------------------------------------- */

static void xml_child(xmlNode *parent, const char *name, const char *text)
{
	xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text);
}

int ddan_exception_list_xml(store *st, sbuf *out, ctd_err *err)
{
	json_t *rows = ddan_exception_list(st, err);
	if (!rows)
		return -1;
	dtas_xml_init();
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *root = xmlNewNode(NULL, BAD_CAST "EXCEPTIONS");
	xmlDocSetRootElement(doc, root);
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		xmlNode *rep = xmlNewChild(root, NULL, BAD_CAST "REPORT", NULL);
		char id[24];
		snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(r, "id")));
		xml_child(rep, "ID", id);
		xml_child(rep, "TYPE", json_string_value(json_object_get(r, "type")));
		xml_child(rep, "VALUE", json_string_value(json_object_get(r, "value")));
		xml_child(rep, "NOTE", json_string_value(json_object_get(r, "note")));
		xml_child(rep, "CREATED", json_string_value(json_object_get(r, "created")));
	}
	json_decref(rows);
	xmlChar *mem = NULL;
	int n = 0;
	xmlDocDumpFormatMemoryEnc(doc, &mem, &n, "UTF-8", 1);
	sbuf_append(out, mem, (size_t)n);
	xmlFree(mem);
	xmlFreeDoc(doc);
	return 0;
}

/* The text of rep's child element name, or NULL (caller frees with xmlFree). */
static xmlChar *child_text(xmlNode *rep, const char *name)
{
	for (xmlNode *c = rep->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcasecmp((const char *)c->name, name))
			return xmlNodeGetContent(c);
	return NULL;
}

static int is_report(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE && !strcasecmp((const char *)n->name, "REPORT");
}

/* Check every REPORT (type known, value valid) before adding any. */
static int check_reports(xmlNode *root, ctd_err *err)
{
	int n = 0;
	for (xmlNode *rep = root->children; rep; rep = rep->next) {
		if (!is_report(rep))
			continue;
		xmlChar *type = child_text(rep, "TYPE"), *value = child_text(rep, "VALUE");
		const char *t = exception_type((const char *)type);
		char *norm = NULL;
		int rc = t ? normalize(t, (const char *)value, &norm, err)
			   : ctd_fail(err, CTD_EINVAL, "REPORT %d: TYPE must be FILE, URL, DOMAIN or IP",
				      n + 1);
		free(norm);
		xmlFree(type);
		xmlFree(value);
		if (rc != 0)
			return -1;
		n++;
	}
	return 0;
}

int ddan_exception_upload_xml(store *st, const char *xml, size_t len, int64_t expiry_ms,
			      ctd_err *err)
{
	dtas_xml_init();
	xmlDoc *doc = len ? xmlReadMemory(xml, (int)len, NULL, NULL,
					  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
			  : NULL;
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	int rc = root ? check_reports(root, err)
		      : ctd_fail(err, CTD_EINVAL, "the body is not an XML exception list");
	for (xmlNode *rep = rc == 0 ? root->children : NULL; rc == 0 && rep; rep = rep->next) {
		if (!is_report(rep))
			continue;
		xmlChar *type = child_text(rep, "TYPE"), *value = child_text(rep, "VALUE");
		xmlChar *note = child_text(rep, "NOTE");
		ctd_err e = {0};
		json_t *row = ddan_exception_add(st, (const char *)type, (const char *)value,
						 (const char *)note, expiry_ms, &e);
		if (!row && e.code != CTD_ECONFLICT)
			rc = ctd_fail(err, e.code, "%s", e.msg);
		json_decref(row);
		xmlFree(type);
		xmlFree(value);
		xmlFree(note);
	}
	xmlFreeDoc(doc);
	return rc;
}
