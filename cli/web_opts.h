/* The web server's options, one set for `serve` and for `--serve` (analyze, capture):
 * --threads, --token-file, --user-file, --cert, --key, --show-credentials, as rows of a
 * command's option table (options.h), and the secrets read from files or the environment
 * (never the command line: any user can read it in ps). Whether a secret guards anything
 * is web_start's to decide, for every caller (web/server.h). */
#ifndef SIPSCOPE_WEB_OPTS_H
#define SIPSCOPE_WEB_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "web/server.h"

struct web_opts {
    struct web_config cfg; /* .db and .listen are the command's to set */
    uint64_t threads;      /* 0: the server's default */
    const char *token_file, *user_file;
    char *token, *user; /* owned: the files' first lines */
};

/* The rows of the web options for the table of a command whose settings (type T) hold a
 * struct web_opts in field w; creds_help: --show-credentials' help lines. */
/* clang-format off */
#define WEB_OPT_ROWS(T, w, creds_help)                                                      \
    {"threads", 0, "N", NULL, OPT_SET, opt_uint, offsetof(T, w.threads), 1, 256,           \
     "1 to 256", NULL},                                                                     \
    {"token-file", 0, "F", NULL, OPT_SET, opt_string, offsetof(T, w.token_file), 0, 0,      \
     NULL, NULL},                                                                           \
    {"user-file", 0, "F", NULL, OPT_SET, opt_string, offsetof(T, w.user_file), 0, 0,        \
     NULL, NULL},                                                                           \
    {"cert", 0, "F", NULL, OPT_SET, opt_string, offsetof(T, w.cfg.cert), 0, 0, NULL, NULL}, \
    {"key", 0, "F", NULL, OPT_SET, opt_string, offsetof(T, w.cfg.key), 0, 0, NULL, NULL},   \
    {"show-credentials", 0, NULL, NULL, OPT_SET, opt_flag,                                  \
     offsetof(T, w.cfg.show_credentials), 0, 0, NULL, creds_help}
/* clang-format on */

/* Whether any web option was given (they go with a server). */
bool web_opts_given(const struct web_opts *w);
/* Reads the secrets (--token-file, --user-file; else SIPSCOPE_TOKEN, SIPSCOPE_USER) and
 * starts the server. NULL with err set when it cannot. */
struct web_server *web_opts_start(struct web_opts *w, char *err, size_t errlen);
/* Frees the secrets web_opts_start read: after web_stop, the server borrows them. */
void web_opts_free(struct web_opts *w);

#endif
