/* The HTTP server (libmicrohttpd): the JSON API of api.h, with the limits and the headers
 * a service on an operator's network needs.
 * - Binds 127.0.0.1 unless told otherwise, and refuses any other address without auth
 *   (a bearer token or HTTP basic credentials), checked in constant time.
 * - A thread pool; each thread borrows a read-only database connection from a pool of
 *   its own (SQLite connections are not shared between threads).
 * - Limits: connections in all and per client address, per-connection memory (which
 *   bounds the request line and headers), an idle timeout; request bodies are refused.
 * - Every answer carries a Content-Security-Policy without inline script, nosniff,
 *   frame-ancestors 'none' and no-referrer.
 * - HTTPS when given a certificate and key (libmicrohttpd with GnuTLS). */
#ifndef SIPSCOPE_WEB_SERVER_H
#define SIPSCOPE_WEB_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct web_config {
    const char *db;           /* database path, opened read-only per thread */
    const char *listen;       /* "host:port", "[v6]:port" or ":port"; NULL: 127.0.0.1:8080 */
    unsigned threads;         /* 0: 4 */
    const char *token;        /* bearer token; NULL, empty or blank: none */
    const char *basic;        /* "user:password"; NULL, or an empty password: none */
    const char *cert, *key;   /* PEM files: HTTPS; NULL: HTTP */
    bool show_credentials;    /* SIP Authorization credentials unmasked (web/api.h) */
};

struct web_server;

/* NULL with err set when it cannot start (bad address, port taken, no auth on a
 * non-loopback address, unreadable certificate, the database not readable). */
struct web_server *web_start(const struct web_config *cfg, char *err, size_t errlen);
/* The port it listens on (useful when asked for port 0). */
unsigned web_port(const struct web_server *w);
/* The analysis publishes its metrics (web/metrics.h) for /metrics: copied whole. */
struct web_metrics;
void web_publish(struct web_server *w, const struct web_metrics *m);
/* Stops accepting, finishes what is in flight, frees everything. */
void web_stop(struct web_server *w);

#endif
