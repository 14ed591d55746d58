/* store_answer.c - read answers kept per store connection and served again
 * while the connection's data version and the clock say they still hold
 * (store_answer.h). */
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "store_answer.h"

/* A few calls a connection serves over and over; a larger answer (a page of
 * thousands of rows) is not worth the memory it would pin. */
#define ANSWER_SLOTS 8
#define ANSWER_MAX_BYTES (512 * 1024)

typedef struct kept_answer {
	char *key; /* NULL: a free slot */
	uint64_t hash;
	unsigned version;
	int64_t from_ms, until_ms;
	sbuf body;
	uint64_t used; /* the cache's tick when last served: the oldest goes first */
} kept_answer;

struct answer_cache {
	kept_answer slot[ANSWER_SLOTS];
	uint64_t tick;
	store_answer_counts counts;
};

static const metric_def answers_metric = {
	"ctdlab_store_answers_total",
	"Read answers served again while the store was unchanged (reused) or built from it",
	METRIC_COUNTER, {"outcome", NULL}, NULL, 0};

void answer_key_str(sbuf *key, const char *s)
{
	if (!s) {
		sbuf_puts(key, "-;");
		return;
	}
	size_t len = strlen(s);
	sbuf_put_int(key, (int64_t)len);
	sbuf_puts(key, ":");
	sbuf_append(key, s, len);
}

void answer_key_int(sbuf *key, int64_t v)
{
	sbuf_put_int(key, v);
	sbuf_puts(key, ";");
}

void answer_cache_free(answer_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < ANSWER_SLOTS; i++) {
		free(c->slot[i].key);
		sbuf_free(&c->slot[i].body);
	}
	free(c);
}

store_answer_counts store_answer_counts_of(store *st)
{
	answer_cache *c = *store_answers(st);
	return c ? c->counts : (store_answer_counts){0};
}

/* A cached statement run to its end (BEGIN, the first read, COMMIT). */
static int step_once(store *st, const char *sql)
{
	sqlite3_stmt *s = store_stmt(st, sql, NULL);
	if (!s)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Open a read transaction and read the data version it sees. A read is what
 * starts it (BEGIN alone takes no snapshot), and the version is refreshed
 * only when one starts. */
static int read_begin(store *st, unsigned *version)
{
	if (step_once(st, "BEGIN") < 0)
		return -1;
	if (step_once(st, "PRAGMA main.schema_version") < 0 ||
	    sqlite3_file_control(store_db(st), "main", SQLITE_FCNTL_DATA_VERSION, version) !=
		    SQLITE_OK) {
		step_once(st, "ROLLBACK");
		return -1;
	}
	return 0;
}

static kept_answer *find(answer_cache *c, const char *key, uint64_t hash)
{
	for (int i = 0; i < ANSWER_SLOTS; i++)
		if (c->slot[i].key && c->slot[i].hash == hash && !strcmp(c->slot[i].key, key))
			return &c->slot[i];
	return NULL;
}

static kept_answer *oldest(answer_cache *c)
{
	kept_answer *o = &c->slot[0];
	for (int i = 1; i < ANSWER_SLOTS && o->key; i++)
		if (!c->slot[i].key || c->slot[i].used < o->used)
			o = &c->slot[i];
	return o;
}

static void keep(answer_cache *c, kept_answer *k, const char *key, uint64_t hash,
		 unsigned version, int64_t from_ms, int64_t until_ms, const char *body,
		 size_t len)
{
	if (!k) {
		k = oldest(c);
		free(k->key);
		k->key = xstrdup(key);
		k->hash = hash;
	}
	k->version = version;
	k->from_ms = from_ms;
	k->until_ms = until_ms;
	k->body.len = 0;
	sbuf_append(&k->body, body, len);
	k->used = ++c->tick;
}

static void count(answer_cache *c, int reused)
{
	if (reused)
		c->counts.reused++;
	else
		c->counts.built++;
	METRIC_INC(answers_metric, reused ? "reused" : "built");
}

int store_answer(store *st, const char *key, int64_t now_ms, answer_build_fn build, void *arg,
		 sbuf *out, ctd_err *err)
{
	int64_t until_ms = INT64_MAX;
	unsigned version;
	/* inside the caller's own transaction, or when no snapshot could be
	 * taken, there is no version to trust: build */
	if (!sqlite3_get_autocommit(store_db(st)) || read_begin(st, &version) < 0)
		return build(st, arg, now_ms, out, &until_ms, err);
	answer_cache **cp = store_answers(st);
	if (!*cp)
		*cp = xcalloc(1, sizeof **cp);
	answer_cache *c = *cp;
	uint64_t hash = str_hash(key);
	kept_answer *k = find(c, key, hash);
	int rc = 0;
	if (k && k->version == version && k->from_ms <= now_ms && now_ms < k->until_ms) {
		sbuf_append(out, k->body.data, k->body.len);
		k->used = ++c->tick;
		count(c, 1);
	} else {
		size_t start = out->len;
		rc = build(st, arg, now_ms, out, &until_ms, err);
		if (rc == 0 && out->len - start <= ANSWER_MAX_BYTES)
			keep(c, k, key, hash, version, now_ms, until_ms, out->data + start,
			     out->len - start);
		if (rc != 0) {
			out->len = start;
			if (out->data)
				out->data[start] = '\0';
		}
		count(c, 0);
	}
	/* a read transaction: COMMIT only ends it */
	if (step_once(st, "COMMIT") < 0)
		step_once(st, "ROLLBACK");
	return rc;
}
