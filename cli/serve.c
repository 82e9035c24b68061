/* `sipscope serve --db FILE`: the JSON API over HTTP until SIGINT or SIGTERM. Secrets
 * never come on the command line (any user can read it in ps): a token or credentials
 * are read from a file or from the environment. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "common/log.h"
#include "common/stop.h"
#include "web_opts.h"

static const char serve_usage[] =
    "Usage: sipscope serve --db FILE [OPTIONS]\n"
    "\n"
    "Serves the JSON API (/api/v1/...) of the database FILE, read-only; an analysis or a\n"
    "capture may be writing it meanwhile.\n"
    "\n"
    "  -d, --db FILE        the database (sipscope analyze --db FILE writes one)\n"
    "  -l, --listen ADDR:PORT\n"
    "                       where to listen (default 127.0.0.1:8080; [::1]:8080 for IPv6;\n"
    "                       port 0 takes a free one). Any address but loopback needs auth\n"
    "      --threads N      requests answered at once (default 4)\n"
    "      --token-file F   require \"Authorization: Bearer TOKEN\", TOKEN the first line\n"
    "                       of F (or the environment variable SIPSCOPE_TOKEN)\n"
    "      --user-file F    require HTTP basic auth, USER:PASSWORD the first line of F (or\n"
    "                       SIPSCOPE_USER)\n"
    "      --cert F --key F serve HTTPS with this PEM certificate and key\n"
    "      --show-credentials  show the credentials of SIP Authorization and\n"
    "                       Proxy-Authorization fields in messages and pcap exports\n"
    "                       (by default a Digest response, or a Basic password, is\n"
    "                       masked with '*', its length kept)\n"
    "  -v, --verbose        log more\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 stopped by a signal, 1 could not start, 2 bad usage.\n";

struct serve_opts {
    struct web_opts web;
    int verbose;
};

/* clang-format off */
static const struct opt_def serve_opts[] = {
    {"db", 'd', "FILE", NULL, OPT_SET, opt_string, offsetof(struct serve_opts, web.cfg.db), 0, 0,
     NULL, NULL},
    {"listen", 'l', "ADDR:PORT", NULL, OPT_SET, opt_string,
     offsetof(struct serve_opts, web.cfg.listen), 0, 0, NULL, NULL},
    {"verbose", 'v', NULL, NULL, OPT_SET, opt_count, offsetof(struct serve_opts, verbose), 0, 0,
     NULL, NULL},
    {"help", 'h', NULL, NULL, OPT_HELP, NULL, 0, 0, 0, NULL, NULL},
    WEB_OPT_ROWS(struct serve_opts, web, NULL),
};
/* clang-format on */

int cmd_serve(int argc, char **argv)
{
    struct serve_opts o = {.verbose = 0};
    char err[512];
    int first;
    switch (opts_parse(serve_opts, sizeof serve_opts / sizeof *serve_opts, "serve", &o, argc, argv,
                       &first, err, sizeof err)) {
    case OPTS_HELP:
        fputs(serve_usage, stdout);
        return 0;
    case OPTS_BAD:
        if (*err)
            fprintf(stderr, "sipscope serve: %s\n", err);
        else
            fputs(serve_usage, stderr);
        return 2;
    case OPTS_OK:
        break;
    }
    if (!o.web.cfg.db || first != argc) {
        fputs(serve_usage, stderr);
        return 2;
    }
    log_set_level(o.verbose >= 2 ? LOG_DEBUG : o.verbose ? LOG_INFO : LOG_WARN);
    /* caught before the server's threads start, whichever of them the signal then reaches */
    stop_catch();
    int rc = 1;
    struct web_server *w = web_opts_start(&o.web, err, sizeof err);
    if (!w) {
        fprintf(stderr, "sipscope serve: %s\n", err);
    } else {
        fprintf(stderr, "sipscope serve: %s on port %u\n", o.web.cfg.cert ? "https" : "http",
                web_port(w));
        int sig = stop_wait();
        log_info("serve: %s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
        web_stop(w);
        rc = 0;
    }
    web_opts_free(&o.web);
    return rc;
}
