/* test_console_embed.c - the embedded console files (tools/embed_console.sh output
 * linked into libctd and lib<x>): lookup by relative path, content types by
 * extension, and the bytes kept exactly. */
#include <check.h>
#include <string.h>
#include "console.h"
#include "testlib.h"
#include "util.h"

TEST(shell_files_are_embedded_with_their_relative_paths)
{
	const char *want[] = {"index.html", "main.js", "api.js", "i18n.js", "time.js", "ui.js",
			      "shell.css"};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_msg(console_file_find(&console_shell_files, want[i]) != NULL, "%s", want[i]);
	ck_assert_ptr_null(console_file_find(&console_shell_files, "nope.js"));
	ck_assert_ptr_null(console_file_find(&console_shell_files, "/index.html"));
	ck_assert_ptr_null(console_file_find(&console_shell_files, NULL));
	ck_assert_ptr_nonnull(console_file_find(&ddan_console_files, "pages/dashboard.js"));
	ck_assert_ptr_nonnull(console_file_find(&imsva_console_files, "appliance.js"));
}

TEST(embedded_bytes_match_the_source_file)
{
	const console_file *f = console_file_find(&console_shell_files, "shell.css");
	char *text;
	size_t len;
	ck_assert_int_eq(file_read("common/console/shell.css", &text, &len, NULL), 0);
	ck_assert_uint_eq(f->len, len);
	ck_assert_int_eq(memcmp(f->data, text, len), 0);
	free(text);
}

TEST(content_types_come_from_the_extension)
{
	ck_assert_str_eq(console_content_type("index.html"), "text/html; charset=utf-8");
	ck_assert_str_eq(console_content_type("pages/a.js"), "text/javascript; charset=utf-8");
	ck_assert_str_eq(console_content_type("shell.CSS"), "text/css; charset=utf-8");
	ck_assert_str_eq(console_content_type("logo.svg"), "image/svg+xml");
	ck_assert_str_eq(console_content_type("README"), "application/octet-stream");
	ck_assert_str_eq(console_content_type("x.js.bak"), "application/octet-stream");
}
