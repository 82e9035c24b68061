/* "ADDR:PORT" as the command line writes it ("192.0.2.1:5060", "[2001:db8::1]:9060",
 * ":8080" for a default host) into a socket address: the one parser the web listener,
 * HEP in and HEP out share. Addresses only, never names (no DNS from a monitor). */
#ifndef SIPSCOPE_SOCKADDR_H
#define SIPSCOPE_SOCKADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* default_host: used for ":PORT" (NULL: an empty host is refused). port 0 is allowed
 * only when allow_zero. *len gets the size connect()/bind() want. */
bool sockaddr_parse(const char *s, const char *default_host, bool allow_zero,
                    struct sockaddr_storage *ss, socklen_t *len);
/* Whether it is 127.0.0.0/8 or ::1. */
bool sockaddr_is_loopback(const struct sockaddr_storage *ss);

#endif
