/* `sipscope serve --db FILE`: the JSON API over HTTP until SIGINT or SIGTERM. Secrets
 * never come on the command line (any user can read it in ps): a token or credentials
 * are read from a file or from the environment. */
#include <getopt.h>
#include <signal.h>
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

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},   {"listen", required_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},    {"help", no_argument, NULL, 'h'},
        WEB_OPTS_LONG,                          {NULL, 0, NULL, 0},
    };
    struct web_opts wo = {.cfg = {0}};
    char err[512];
    int ch, verbose = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:l:vh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': wo.cfg.db = optarg; break;
        case 'l': wo.cfg.listen = optarg; break;
        case 'v': verbose++; break;
        case 'h': fputs(serve_usage, stdout); return 0;
        default: {
            int took = web_opts_take(&wo, ch, optarg, err, sizeof err);
            if (took < 0)
                fprintf(stderr, "sipscope serve: %s\n", err);
            else if (!took)
                fputs(serve_usage, stderr);
            if (took <= 0)
                return 2;
        }
        }
    }
    if (!wo.cfg.db || optind != argc) {
        fputs(serve_usage, stderr);
        return 2;
    }
    log_set_level(verbose >= 2 ? LOG_DEBUG : verbose ? LOG_INFO : LOG_WARN);
    /* caught before the server's threads start, whichever of them the signal then reaches */
    stop_catch();
    int rc = 1;
    struct web_server *w = web_opts_start(&wo, err, sizeof err);
    if (!w) {
        fprintf(stderr, "sipscope serve: %s\n", err);
    } else {
        fprintf(stderr, "sipscope serve: %s on port %u\n", wo.cfg.cert ? "https" : "http",
                web_port(w));
        int sig = stop_wait();
        log_info("serve: %s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
        web_stop(w);
        rc = 0;
    }
    web_opts_free(&wo);
    return rc;
}
