/* `sipscope serve --db FILE`: the JSON API over HTTP until SIGINT or SIGTERM. Secrets
 * never come on the command line (any user can read it in ps): a token or credentials
 * are read from a file or from the environment. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/log.h"
#include "web/server.h"

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

/* The first line of a file, or NULL. */
static char *first_line(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    if (n <= 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},       {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 'T'},  {"token-file", required_argument, NULL, 'k'},
        {"user-file", required_argument, NULL, 'u'}, {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'K'},      {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},           {"show-credentials", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    struct web_config cfg = {0};
    const char *token_file = NULL, *user_file = NULL;
    int ch, verbose = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:l:vh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': cfg.db = optarg; break;
        case 'l': cfg.listen = optarg; break;
        case 'T': {
            char *end;
            unsigned long n = strtoul(optarg, &end, 10);
            if (*end || !n || n > 256 || *optarg == '-') {
                fputs("sipscope serve: --threads wants 1 to 256\n", stderr);
                return 2;
            }
            cfg.threads = (unsigned)n;
            break;
        }
        case 'k': token_file = optarg; break;
        case 'u': user_file = optarg; break;
        case 'c': cfg.cert = optarg; break;
        case 'K': cfg.key = optarg; break;
        case 'S': cfg.show_credentials = true; break;
        case 'v': verbose++; break;
        case 'h': fputs(serve_usage, stdout); return 0;
        default: fputs(serve_usage, stderr); return 2;
        }
    }
    if (!cfg.db || optind != argc) {
        fputs(serve_usage, stderr);
        return 2;
    }
    log_set_level(verbose >= 2 ? LOG_DEBUG : verbose ? LOG_INFO : LOG_WARN);
    char *token = token_file ? first_line(token_file) : NULL, *user = user_file ? first_line(user_file) : NULL;
    if ((token_file && !token) || (user_file && !user)) {
        fprintf(stderr, "sipscope serve: cannot read %s\n", token_file && !token ? token_file : user_file);
        free(token);
        free(user);
        return 1;
    }
    cfg.token = token ? token : getenv("SIPSCOPE_TOKEN");
    cfg.basic = user ? user : getenv("SIPSCOPE_USER");
    /* an empty token or password counts as none: web_start decides, for every caller */
    /* the server's threads inherit this mask, so the signals come to sigwait() below */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    char err[512];
    struct web_server *w = web_start(&cfg, err, sizeof err);
    if (!w) {
        fprintf(stderr, "sipscope serve: %s\n", err);
        free(token);
        free(user);
        return 1;
    }
    fprintf(stderr, "sipscope serve: %s on port %u\n", cfg.cert ? "https" : "http", web_port(w));
    int sig;
    sigwait(&stop, &sig);
    log_info("serve: %s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    web_stop(w);
    free(token);
    free(user);
    return 0;
}
