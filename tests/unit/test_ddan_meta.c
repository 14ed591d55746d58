/* test_ddan_meta.c - unit tests of the upload_sample archive reader: the
 * .meta line (PHP and dd-py styles, %-encoding), tgz and zip archives,
 * several samples in one archive, and the refusals (broken archive, strange
 * members, missing meta). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>

#include "dtas.h"
#include "hash.h"
#include "util.h"
#include "../../mocks/ddan/ddan.h"
#include "testlib.h"

TEST(meta_values)
{
	const char *php = "SampleType=0&ClientUUID=1234567890&SourceID=10002&SampleFileSHA1=abc"
			  "&SampleFileExist=1&OrigFileName=a%26b%3Dc.txt&Archpassword=virus\n";
	char *v = ddan_meta_get(php, "OrigFileName");
	ck_assert_str_eq(v, "a&b=c.txt");
	free(v);
	v = ddan_meta_get(php, "archpassword"); /* keys match case-insensitively */
	ck_assert_str_eq(v, "virus");
	free(v);
	v = ddan_meta_get(php, "SampleFileExist");
	ck_assert_str_eq(v, "1");
	free(v);
	ck_assert_ptr_null(ddan_meta_get(php, "EventID"));
	ck_assert_ptr_null(ddan_meta_get(php, "Sample")); /* no prefix matches */
	v = ddan_meta_get("OrigFileName=my+file%2", "OrigFileName");
	ck_assert_str_eq(v, "my file%2"); /* a broken escape stays literal */
	free(v);
}

static la_ssize_t sb_write(struct archive *a, void *cls, const void *buf, size_t n)
{
	(void)a;
	sbuf_append(cls, buf, n);
	return (la_ssize_t)n;
}

static void zip_of(sbuf *out, const char *const *members)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_zip(a);
	archive_write_set_bytes_in_last_block(a, 1);
	archive_write_open(a, out, NULL, sb_write, NULL);
	for (size_t i = 0; members[i]; i += 2) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, members[i]);
		archive_entry_set_size(e, (la_int64_t)strlen(members[i + 1]));
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_write_header(a, e);
		archive_write_data(a, members[i + 1], strlen(members[i + 1]));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
}

TEST(tgz_from_the_shared_builder)
{
	dtas_client c = {.client_uuid = "C1", .source_id = "103"};
	const char *data = "payload bytes";
	sbuf tgz = {0};
	char sha1[41];
	ctd_err err;
	ck_assert_int_eq(dtas_build_sample_tgz(&c, data, strlen(data), "p.bin", 0, 0, &tgz, sha1, &err), 0);
	ddan_upload up;
	ck_assert_int_eq(ddan_upload_parse(tgz.data, tgz.len, 1 << 20, &up, &err), 0);
	ck_assert_uint_eq(up.n, 1);
	ck_assert_str_eq(up.items[0].sha1, sha1);
	ck_assert(up.items[0].has_dat);
	ck_assert_uint_eq(up.items[0].dat_len, strlen(data));
	ck_assert_int_eq(memcmp(up.items[0].dat, data, strlen(data)), 0);
	char *name = ddan_meta_get(up.items[0].meta, "OrigFileName");
	ck_assert_str_eq(name, "p.bin");
	free(name);
	ck_assert_str_eq(up.items[0].log, "Date=01/01/1970 00:00:00");
	ddan_upload_free(&up);
	sbuf_free(&tgz);
}

TEST(zip_with_two_samples_and_upper_case_names)
{
	const char *a = "first", *b = "second";
	char sa[41], sb[41];
	hash_hex(HASH_SHA1, a, strlen(a), sa);
	hash_hex(HASH_SHA1, b, strlen(b), sb);
	str_upper(sb); /* dd-py and PHP differ in case: both are accepted */
	char *names[6];
	names[0] = xasprintf("%s.meta", sa);
	names[1] = xasprintf("%s.dat", sa);
	names[2] = xasprintf("%s.meta", sb);
	names[3] = xasprintf("%s.dat", sb);
	names[4] = xasprintf("%s.log", sb);
	const char *members[] = {names[0], "SampleType=0", names[1], a, names[2], "SampleType=0&SampleFileExist=1",
				 names[3], b, names[4], "Date=02%2f27%2f2018", NULL};
	sbuf zip = {0};
	zip_of(&zip, members);
	ddan_upload up;
	ctd_err err;
	ck_assert_int_eq(ddan_upload_parse(zip.data, zip.len, 1 << 20, &up, &err), 0);
	ck_assert_uint_eq(up.n, 2);
	str_upper(sa);
	ck_assert_str_eq(up.items[0].sha1, sa);
	ck_assert_str_eq(up.items[1].sha1, sb);
	ck_assert_ptr_nonnull(up.items[1].log);
	ddan_upload_free(&up);
	sbuf_free(&zip);
	for (int i = 0; i < 5; i++)
		free(names[i]);
}

TEST(refusals)
{
	ddan_upload up;
	ctd_err err;
	ck_assert_int_eq(ddan_upload_parse("garbage", 7, 1 << 20, &up, &err), -1);
	ck_assert_int_eq(err.code, CTD_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "archive"));

	const char *odd[] = {"evil.sh", "rm -rf /", NULL};
	sbuf zip = {0};
	zip_of(&zip, odd);
	ck_assert_int_eq(ddan_upload_parse(zip.data, zip.len, 1 << 20, &up, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "unexpected archive member"));
	sbuf_free(&zip);

	char sha1[41];
	hash_hex(HASH_SHA1, "x", 1, sha1);
	char *dat = xasprintf("%s.dat", sha1);
	const char *no_meta[] = {dat, "x", NULL};
	zip_of(&zip, no_meta);
	ck_assert_int_eq(ddan_upload_parse(zip.data, zip.len, 1 << 20, &up, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, ".meta is missing"));
	sbuf_free(&zip);

	char *meta = xasprintf("%s.meta", sha1);
	const char *big[] = {meta, "SampleType=0", dat, "0123456789abcdef", NULL};
	zip_of(&zip, big);
	ck_assert_int_eq(ddan_upload_parse(zip.data, zip.len, 8, &up, &err), -1);
	ck_assert_int_eq(err.code, CTD_ETOOBIG);
	sbuf_free(&zip);
	free(dat);
	free(meta);
}

TEST(sha1_normalisation)
{
	char out[41];
	ck_assert_int_eq(ddan_sha1_norm(" 2492a18532745251fbc5daf7160daa49b90dbbe1\n", out), 0);
	ck_assert_str_eq(out, "2492A18532745251FBC5DAF7160DAA49B90DBBE1");
	ck_assert_int_eq(ddan_sha1_norm("2492a18532745251fbc5daf7160daa49b90dbbe", out), -1);
	ck_assert_int_eq(ddan_sha1_norm("2492a18532745251fbc5daf7160daa49b90dbbe1x", out), -1);
	ck_assert_int_eq(ddan_sha1_norm("", out), -1);
}
