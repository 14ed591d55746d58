/* net.h - listener addresses, IPv4 and IPv6 alike: resolve a --bind value
 * (127.0.0.1, ::1, [::1], ::, 0.0.0.0, a host name), open a listening
 * socket on it, and print a peer's address. Every listener goes through
 * here, so `--bind ::1` works for HTTP(S) and SMTP the same way. */
#ifndef CTD_NET_H
#define CTD_NET_H

#include <stddef.h>
#include <sys/socket.h>
#include "err.h"

/* The socket address to listen on for bind (NULL or "": 127.0.0.1) and
 * port. A host name that resolves to both families binds its IPv4 address
 * (the one every client tries). len may be NULL. */
int net_resolve_bind(const char *bind, int port, struct sockaddr_storage *ss, socklen_t *len,
		     ctd_err *err);
/* 1 for the IPv6 wildcard "::", which listens on IPv4 too (dual stack). */
int net_is_any6(const struct sockaddr_storage *ss);
/* A non-blocking TCP socket bound to bind:port and listening, its port in
 * *bound_port (the one picked for port 0); -1 with err. */
int net_listen(const char *bind, int port, int *bound_port, ctd_err *err);
/* The IP of sa as text: "127.0.0.1", "::1"; IPv4 clients of a dual-stack
 * listener ("::ffff:127.0.0.1") as plain IPv4. "" when not an IP address. */
void net_addr_text(const struct sockaddr *sa, char *out, size_t outlen);

#endif
