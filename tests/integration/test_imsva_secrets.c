/* test_imsva_secrets.c - imsvad's pinned-or-generated secrets (store_secret):
 * the admin password is generated once and kept across restarts, a pinned
 * one is used as is and never stored (un-pinning brings the generated one
 * back), and the DDAN client UUID stays the same across restarts. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"
#include "util.h"

/* Run imsvad once in home; returns the ready file's info.`key` (malloc'd). */
static char *ready_value(const char *home, const char *pinned_pw, const char *key)
{
	char *stale = xasprintf("%s/run/imsva.json", home);
	unlink(stale);
	free(stale);
	const char *args[12] = {"--port", "0", "--smtp_port", "0", "--ddan_url",
				"https://127.0.0.1:9", NULL};
	if (pinned_pw) {
		args[6] = "--admin_password";
		args[7] = pinned_pw;
	}
	pid_t pid = tl_spawn_daemon("imsvad", home, args);
	json_t *ready = tl_wait_ready(home, "imsva", TL_START_MS);
	ck_assert_msg(ready != NULL, "imsvad did not become ready (see %s/imsvad.log)", home);
	const char *v = json_string_value(json_object_get(json_object_get(ready, "info"), key));
	ck_assert_ptr_nonnull(v);
	char *out = xstrdup(v);
	json_decref(ready);
	ck_assert_int_eq(tl_stop(pid, 10000), 0);
	return out;
}

TEST(admin_password_generated_pinned_unpinned)
{
	char *home = tl_tmpdir("imsva-secrets");
	char *generated = ready_value(home, NULL, "admin_password");
	ck_assert_int_eq(strlen(generated), 18);
	char *again = ready_value(home, NULL, "admin_password");
	ck_assert_str_eq(again, generated);
	char *pinned = ready_value(home, "pinned-pw", "admin_password");
	ck_assert_str_eq(pinned, "pinned-pw");
	char *unpinned = ready_value(home, NULL, "admin_password");
	ck_assert_str_eq(unpinned, generated);
	free(generated);
	free(again);
	free(pinned);
	free(unpinned);
	tl_rmrf(home);
	free(home);
}

TEST(ddan_client_uuid_kept)
{
	char *home = tl_tmpdir("imsva-secrets");
	char *first = ready_value(home, NULL, "ddan_client_uuid");
	ck_assert_int_eq(strlen(first), 36);
	char *second = ready_value(home, NULL, "ddan_client_uuid");
	ck_assert_str_eq(second, first);
	free(first);
	free(second);
	tl_rmrf(home);
	free(home);
}

TL_SUITE(.timeout = 120);
