/* test_net.c - listener addresses: IPv4 and IPv6 literals, brackets, the
 * wildcards, host names, dual stack on "::", peer addresses as text. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>
#include "net.h"
#include "testlib.h"

/* The address bind resolves to, as text, and its family. */
static int resolved(const char *bind, char *text, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	ctd_err err;
	ck_assert_msg(net_resolve_bind(bind, 8080, &ss, &sslen, &err) == 0, "%s: %s", bind,
		      err.msg);
	net_addr_text((struct sockaddr *)&ss, text, len);
	int port = ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					    : ((struct sockaddr_in *)&ss)->sin_port;
	ck_assert_int_eq(ntohs((uint16_t)port), 8080);
	ck_assert_uint_eq(sslen, ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							   : sizeof(struct sockaddr_in));
	return ss.ss_family;
}

TEST(test_resolve_bind_addresses)
{
	static const struct {
		const char *bind, *text;
		int family;
	} cases[] = {
		{"127.0.0.1", "127.0.0.1", AF_INET}, {"0.0.0.0", "0.0.0.0", AF_INET},
		{"::1", "::1", AF_INET6},             {"[::1]", "::1", AF_INET6},
		{"::", "::", AF_INET6},               {"localhost", "127.0.0.1", AF_INET},
		{"", "127.0.0.1", AF_INET},           {NULL, "127.0.0.1", AF_INET},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[64];
		ck_assert_int_eq(resolved(cases[i].bind, text, sizeof text), cases[i].family);
		ck_assert_str_eq(text, cases[i].text);
	}
	struct sockaddr_storage ss;
	ctd_err err;
	ck_assert_int_eq(net_resolve_bind("127.0.0.1", 70000, &ss, NULL, &err), -1);
	ck_assert_int_eq(err.code, CTD_EINVAL);
}

TEST(test_any6_only_for_the_wildcard)
{
	struct sockaddr_storage ss;
	ck_assert_int_eq(net_resolve_bind("::", 0, &ss, NULL, NULL), 0);
	ck_assert(net_is_any6(&ss));
	ck_assert_int_eq(net_resolve_bind("::1", 0, &ss, NULL, NULL), 0);
	ck_assert(!net_is_any6(&ss));
	ck_assert_int_eq(net_resolve_bind("0.0.0.0", 0, &ss, NULL, NULL), 0);
	ck_assert(!net_is_any6(&ss));
}

TEST(test_addr_text)
{
	char text[64];
	struct sockaddr_in6 mapped = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &mapped.sin6_addr);
	net_addr_text((struct sockaddr *)&mapped, text, sizeof text);
	ck_assert_str_eq(text, "192.0.2.7");
	inet_pton(AF_INET6, "2001:db8::1", &mapped.sin6_addr);
	net_addr_text((struct sockaddr *)&mapped, text, sizeof text);
	ck_assert_str_eq(text, "2001:db8::1");
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	net_addr_text((struct sockaddr *)&un, text, sizeof text);
	ck_assert_str_eq(text, "");
	net_addr_text(NULL, text, sizeof text);
	ck_assert_str_eq(text, "");
}

static int connects(int family, const char *ip, int port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, ip, &a->sin6_addr);
		len = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &a->sin_addr);
		len = sizeof *a;
	}
	int fd = socket(family, SOCK_STREAM, 0);
	int ok = connect(fd, (struct sockaddr *)&ss, len) == 0;
	close(fd);
	return ok;
}

/* "::" takes IPv4 clients too; a port in use is an I/O error. */
TEST(test_listen_dual_stack)
{
	if (!tl_ipv6_loopback())
		return;
	ctd_err err;
	int port, fd = net_listen("::", 0, &port, &err);
	ck_assert_msg(fd >= 0, "%s", err.msg);
	ck_assert_int_gt(port, 0);
	ck_assert(connects(AF_INET6, "::1", port));
	ck_assert(connects(AF_INET, "127.0.0.1", port));
	close(fd);

	fd = net_listen("::1", 0, &port, &err);
	ck_assert_msg(fd >= 0, "%s", err.msg);
	ck_assert(connects(AF_INET6, "::1", port));
	int again = net_listen("::1", port, &port, &err);
	ck_assert_int_eq(again, -1);
	ck_assert_int_eq(err.code, CTD_EIO);
	close(fd);
}
