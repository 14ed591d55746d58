/* store_answer.h - a read call's answer served again while the store is
 * byte-for-byte what it was when the answer was built.
 *
 * Each store connection keeps a few answers, each with the connection's data
 * version (SQLITE_FCNTL_DATA_VERSION) read inside the read transaction that
 * built it. A later call opens a read transaction, reads the version again
 * and serves the kept bytes only when it is unchanged: any commit to the
 * file, by this connection, another one in the process or another process,
 * changes it. An answer that also depends on the clock gives the span of
 * time it holds for. Errors are never kept. */
#ifndef CTD_STORE_ANSWER_H
#define CTD_STORE_ANSWER_H

#include <stdint.h>
#include "err.h"
#include "store.h"
#include "util.h"

/* The key names everything an answer depends on besides the store and the
 * clock: the call and its parsed parameters, one part after the other. */
void answer_key_str(sbuf *key, const char *s); /* NULL and "" differ */
void answer_key_int(sbuf *key, int64_t v);

/* Appends the answer to out. It is built (at now_ms) from what the store
 * holds; *until_ms starts at INT64_MAX and a build whose answer changes when
 * the clock reaches some time lowers it to that time. */
typedef int (*answer_build_fn)(store *st, void *arg, int64_t now_ms, sbuf *out,
			       int64_t *until_ms, ctd_err *err);

/* Append the answer for key to out: the kept one when the store has not
 * changed since it was built and now_ms lies between its build time and its
 * until_ms, else build(), keeping its answer when it succeeds. On failure out
 * is as it was and err is filled by build(). */
int store_answer(store *st, const char *key, int64_t now_ms, answer_build_fn build, void *arg,
		 sbuf *out, ctd_err *err);

/* How often the connection served a kept answer and built one (tests,
 * callgrind runs); the process's totals are the metric
 * ctdlab_store_answers_total{outcome}. */
typedef struct store_answer_counts {
	uint64_t reused, built;
} store_answer_counts;
store_answer_counts store_answer_counts_of(store *st);

/* The connection's kept answers: held by the store (store.c), freed by
 * store_close. */
typedef struct answer_cache answer_cache;
answer_cache **store_answers(store *st);
void answer_cache_free(answer_cache *c);

#endif
