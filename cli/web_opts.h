/* The web server's options, one set for `serve` and for `--serve` (analyze, capture):
 * --threads, --token-file, --user-file, --cert, --key, --show-credentials, parsed and
 * checked in one place, and the secrets read from files or the environment (never the
 * command line: any user can read it in ps). Whether a secret guards anything is
 * web_start's to decide, for every caller (web/server.h). */
#ifndef SIPSCOPE_WEB_OPTS_H
#define SIPSCOPE_WEB_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "web/server.h"

enum {
    WEB_OPT_THREADS = 0x700,
    WEB_OPT_TOKEN_FILE,
    WEB_OPT_USER_FILE,
    WEB_OPT_CERT,
    WEB_OPT_KEY,
    WEB_OPT_SHOW_CREDENTIALS,
};

/* The getopt_long entries of the web options, for a command's table. */
#define WEB_OPTS_LONG                                                                          \
    {"threads", required_argument, NULL, WEB_OPT_THREADS},                                     \
        {"token-file", required_argument, NULL, WEB_OPT_TOKEN_FILE},                           \
        {"user-file", required_argument, NULL, WEB_OPT_USER_FILE},                             \
        {"cert", required_argument, NULL, WEB_OPT_CERT},                                       \
        {"key", required_argument, NULL, WEB_OPT_KEY},                                         \
        {"show-credentials", no_argument, NULL, WEB_OPT_SHOW_CREDENTIALS}

struct web_opts {
    struct web_config cfg; /* .db and .listen are the command's to set */
    const char *token_file, *user_file;
    char *token, *user; /* owned: the files' first lines */
    bool given;         /* any web option was given */
};

/* Takes option id (a WEB_OPT_*) with its argument: 1 taken, 0 not a web option, -1 a bad
 * value (err says why: a usage error). */
int web_opts_take(struct web_opts *w, int id, const char *arg, char *err, size_t errlen);
/* Reads the secrets (--token-file, --user-file; else SIPSCOPE_TOKEN, SIPSCOPE_USER) and
 * starts the server. NULL with err set when it cannot. */
struct web_server *web_opts_start(struct web_opts *w, char *err, size_t errlen);
/* Frees the secrets web_opts_start read: after web_stop, the server borrows them. */
void web_opts_free(struct web_opts *w);

#endif
