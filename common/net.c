/* net.c - listener addresses over getaddrinfo: IPv4 and IPv6 literals,
 * bracketed literals and host names, dual stack for "::". */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "net.h"

#define LISTEN_BACKLOG 512

/* "[::1]" as people copy it from a URL: the address inside the brackets. */
static void strip_brackets(const char *bind, char *host, size_t hostlen)
{
	size_t n = strlen(bind);
	if (n >= 2 && bind[0] == '[' && bind[n - 1] == ']')
		snprintf(host, hostlen, "%.*s", (int)(n - 2), bind + 1);
	else
		snprintf(host, hostlen, "%s", bind);
}

int net_resolve_bind(const char *bind, int port, struct sockaddr_storage *ss, socklen_t *len,
		     ctd_err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE};
	struct addrinfo *list = NULL;
	char host[256], service[16];
	if (port < 0 || port > 65535)
		return ctd_fail(err, CTD_EINVAL, "port %d out of range", port);
	strip_brackets(bind && *bind ? bind : "127.0.0.1", host, sizeof host);
	snprintf(service, sizeof service, "%d", port);
	int rc = getaddrinfo(host, service, &hints, &list);
	if (rc != 0)
		return ctd_fail(err, CTD_EINVAL, "bind address %s: %s", bind, gai_strerror(rc));
	const struct addrinfo *pick = list;
	for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
	}
	memset(ss, 0, sizeof *ss);
	memcpy(ss, pick->ai_addr, pick->ai_addrlen);
	if (len)
		*len = pick->ai_addrlen;
	freeaddrinfo(list);
	return 0;
}

int net_is_any6(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6
	       && IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* Socket options of a listener: reuse the port at once after a restart; an
 * IPv6 socket takes IPv4 too only on "::". */
static int listen_options(int fd, const struct sockaddr_storage *ss)
{
	int on = 1, v6only = !net_is_any6(ss);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0)
		return -1;
	if (ss->ss_family == AF_INET6
	    && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0)
		return -1;
	return 0;
}

static int local_port(int fd, ctd_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return ctd_fail(err, CTD_EIO, "getsockname: %s", strerror(errno));
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int net_listen(const char *bind_addr, int port, int *bound_port, ctd_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (net_resolve_bind(bind_addr, port, &ss, &len, err) != 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ctd_fail(err, CTD_EIO, "socket: %s", strerror(errno));
	if (listen_options(fd, &ss) != 0 || bind(fd, (struct sockaddr *)&ss, len) != 0
	    || listen(fd, LISTEN_BACKLOG) != 0) {
		ctd_fail(err, CTD_EIO, "cannot listen on %s:%d: %s", bind_addr, port,
			 strerror(errno));
		close(fd);
		return -1;
	}
	*bound_port = local_port(fd, err);
	if (*bound_port < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void net_addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
	const char *ok = NULL;
	if (sa && sa->sa_family == AF_INET) {
		ok = inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
			       (socklen_t)outlen);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		ok = IN6_IS_ADDR_V4MAPPED(a6)
			     ? inet_ntop(AF_INET, &a6->s6_addr[12], out, (socklen_t)outlen)
			     : inet_ntop(AF_INET6, a6, out, (socklen_t)outlen);
	}
	if (!ok && outlen)
		out[0] = '\0';
}
