/* test_filetype.c - unit tests of common/filetype.c: descriptions and MIME
 * types from the pool of libmagic handles, from more threads at once than
 * the pool has handles. */
#include <check.h>
#include <pthread.h>
#include <string.h>
#include "filetype.h"
#include "testlib.h"

static const char pdf[] = "%PDF-1.4\n1 0 obj\n<<>>\nendobj\n";
static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03";

TEST(test_description_and_mime)
{
	char out[256];
	ctd_err err;
	ck_assert_msg(filetype_init(&err) == 0, "%s", err.msg);
	ck_assert_int_eq(filetype_of(pdf, sizeof pdf - 1, FILETYPE_DESCRIPTION, out, sizeof out,
				     &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "PDF document"));
	ck_assert_int_eq(filetype_of(pdf, sizeof pdf - 1, FILETYPE_MIME, out, sizeof out, &err), 0);
	ck_assert_str_eq(out, "application/pdf");
	ck_assert_int_eq(filetype_of(gz, sizeof gz - 1, FILETYPE_MIME, out, sizeof out, &err), 0);
	ck_assert_str_eq(out, "application/gzip");
	ck_assert_int_eq(filetype_of("", 0, FILETYPE_MIME, out, sizeof out, &err), 0);
	ck_assert_str_eq(out, "application/x-empty");
}

static void *classify_many(void *arg)
{
	char out[256];
	ctd_err err;
	for (int i = 0; i < 200; i++) {
		int mime = i % 2;
		if (filetype_of(pdf, sizeof pdf - 1, mime ? FILETYPE_MIME : FILETYPE_DESCRIPTION, out,
				sizeof out, &err) != 0 ||
		    strstr(out, mime ? "application/pdf" : "PDF document") == NULL)
			return (void *)1;
	}
	return NULL;
}

TEST(test_threads_share_the_pool)
{
	pthread_t t[10];
	for (int i = 0; i < 10; i++)
		pthread_create(&t[i], NULL, classify_many, NULL);
	for (int i = 0; i < 10; i++) {
		void *bad;
		pthread_join(t[i], &bad);
		ck_assert_ptr_null(bad);
	}
}
