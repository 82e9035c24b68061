/* See server.h. */
#include "server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "api.h"
#include "assets.h"
#include "metrics.h"
#include "store/query.h"
#include "common/log.h"
#include "common/sockaddr.h"
#include "store/store.h"

/* Applied to every answer (docs/design.md: nothing attacker-controlled reaches the
 * browser unescaped; these make sure a mistake there still runs no script). */
static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                          "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

#define WEB_MAX_CONNECTIONS 64
#define WEB_MAX_PER_CLIENT 16
#define SSE_POLL_MS 500
#define SSE_KEEPALIVE_S 15

struct web_server {
    struct MHD_Daemon *d;
    atomic_int stopping;        /* event streams end when set */
    struct web_config cfg;
    char *cert_pem, *key_pem;   /* owned: HTTPS */
    unsigned port;
    /* a pool of read-only connections, one per thread at most */
    pthread_mutex_t mu;
    pthread_cond_t freed;
    struct store **pool;
    bool *busy;
    unsigned npool;
    /* the analysis's published metrics (web_publish), copied whole under mu */
    struct web_metrics metrics;
    bool have_metrics;
};

/* ---- database connections ---- */

static struct store *borrow(struct web_server *w, unsigned *slot)
{
    pthread_mutex_lock(&w->mu);
    for (;;) {
        for (unsigned i = 0; i < w->npool; i++) {
            if (!w->busy[i]) {
                w->busy[i] = true;
                *slot = i;
                pthread_mutex_unlock(&w->mu);
                if (!w->pool[i]) { /* opened on first use: a writer may create the file later */
                    char err[256];
                    if (!(w->pool[i] = store_open_reader(w->cfg.db, err, sizeof err)))
                        log_warn("web: %s", err);
                }
                return w->pool[i];
            }
        }
        pthread_cond_wait(&w->freed, &w->mu);
    }
}

static void give_back(struct web_server *w, unsigned slot)
{
    pthread_mutex_lock(&w->mu);
    w->busy[slot] = false;
    pthread_cond_signal(&w->freed);
    pthread_mutex_unlock(&w->mu);
}

/* ---- auth ---- */

/* Whether the offered credential a equals the secret b, in a time that depends on the
 * secret's length only (fixed for a server), not on where the bytes differ nor on how long
 * the guess is: a timing attack learns nothing it can use. */
static bool same(const char *a, const char *secret)
{
    size_t na = strlen(a), nb = strlen(secret);
    volatile unsigned char diff = na != nb;
    for (size_t i = 0; i < nb; i++)
        diff |= (unsigned char)((i < na ? a[i] : 0) ^ secret[i]);
    return diff == 0;
}

static bool authorized(struct web_server *w, struct MHD_Connection *c)
{
    if (!w->cfg.token && !w->cfg.basic)
        return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h && w->cfg.token && !strncmp(h, "Bearer ", 7) && same(h + 7, w->cfg.token))
        return true;
    if (!w->cfg.basic)
        return false;
    char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
    bool ok = false;
    if (user && pass) {
        size_t nu = strlen(user), np = strlen(pass);
        char *both = malloc(nu + np + 2);
        if (both) {
            memcpy(both, user, nu);
            both[nu] = ':';
            memcpy(both + nu + 1, pass, np + 1);
            ok = same(both, w->cfg.basic);
            free(both);
        }
    }
    MHD_free(user);
    MHD_free(pass);
    return ok;
}

/* ---- answering ---- */

struct args_ctx {
    struct MHD_Connection *c;
};

static const char *get_arg(void *ctx, const char *key)
{
    return MHD_lookup_connection_value(((struct args_ctx *)ctx)->c, MHD_GET_ARGUMENT_KIND, key);
}

struct each_ctx {
    bool (*fn)(void *user, const char *key);
    void *user;
    bool ok;
};

static enum MHD_Result visit(void *cls, enum MHD_ValueKind kind, const char *key,
                             const char *value)
{
    (void)kind;
    (void)value;
    struct each_ctx *e = cls;
    if (!e->fn(e->user, key)) {
        e->ok = false;
        return MHD_NO;
    }
    return MHD_YES;
}

static bool each_arg(void *ctx, bool (*fn)(void *user, const char *key), void *user)
{
    struct each_ctx e = {fn, user, true};
    MHD_get_connection_values(((struct args_ctx *)ctx)->c, MHD_GET_ARGUMENT_KIND, visit, &e);
    return e.ok;
}

static void add_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

/* One byte range of a body of len bytes (RFC 9110 §14.1.2: "bytes=first-last",
 * "bytes=first-", "bytes=-suffix"): 1 and [*from, *to] inclusive; -1 when it cannot be
 * satisfied (416); 0 when there is none or it is one we ignore (several ranges, another
 * unit: the whole body is sent, as §14.2 allows). */
static int byte_range(const char *h, size_t len, size_t *from, size_t *to)
{
    static const char unit[] = "bytes=";
    if (!h || strncmp(h, unit, sizeof unit - 1) || strchr(h, ',')) return 0;
    const char *p = h + sizeof unit - 1;
    char *end;
    bool suffix = *p == '-';
    if (!suffix && !isdigit((unsigned char)*p)) return 0;
    unsigned long long a = suffix ? 0 : strtoull(p, &end, 10), b;
    if (suffix) end = (char *)p;
    if (*end != '-') return 0;
    p = end + 1;
    bool open_end = !*p;
    if (!open_end && !isdigit((unsigned char)*p)) return 0;
    b = open_end ? 0 : strtoull(p, &end, 10);
    if (!open_end && *end) return 0;
    if (suffix) { /* the last b bytes */
        if (open_end || !b || !len) return open_end ? 0 : -1;
        *from = b >= len ? 0 : len - (size_t)b;
        *to = len - 1;
        return 1;
    }
    if (a >= len || (!open_end && b < a)) return -1;
    *from = (size_t)a;
    *to = open_end || b >= len ? len - 1 : (size_t)b;
    return 1;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct api_reply *r, bool auth_fail)
{
    char content_range[64] = "";
    if (r->ranges && r->status == 200) {
        size_t from = 0, to = 0;
        int k = byte_range(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE),
                           r->len, &from, &to);
        if (k > 0) {
            snprintf(content_range, sizeof content_range, "bytes %zu-%zu/%zu", from, to, r->len);
            memmove(r->body, r->body + from, to - from + 1);
            r->len = to - from + 1;
            r->status = 206;
        } else if (k < 0) {
            snprintf(content_range, sizeof content_range, "bytes */%zu", r->len);
            r->len = 0;
            r->status = 416;
        }
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->len, r->body ? r->body : (void *)"", 
                                        r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(r->body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->type);
    add_headers(resp);
    if (r->disposition[0])
        MHD_add_response_header(resp, "Content-Disposition", r->disposition);
    if (r->ranges) MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    if (content_range[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
    if (auth_fail)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"sipscope\", Bearer realm=\"sipscope\"");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void plain_error(struct api_reply *r, int status, const char *json)
{
    memset(r, 0, sizeof *r);
    r->status = status;
    r->type = "application/json";
    r->body = strdup(json);
    r->len = r->body ? strlen(r->body) : 0;
}

/* ---- /metrics ---- */

void web_publish(struct web_server *w, const struct web_metrics *m)
{
    pthread_mutex_lock(&w->mu);
    w->metrics = *m;
    w->have_metrics = true;
    pthread_mutex_unlock(&w->mu);
}

static enum MHD_Result serve_metrics(struct web_server *w, struct MHD_Connection *c,
                                     const char *method)
{
    struct api_reply r;
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        plain_error(&r, 405, "{\"error\":\"only GET\"}");
        return send_reply(c, &r, false);
    }
    struct web_metrics *m = malloc(sizeof *m);
    bool have = false;
    if (m) {
        pthread_mutex_lock(&w->mu);
        have = w->have_metrics;
        if (have)
            *m = w->metrics;
        pthread_mutex_unlock(&w->mu);
    }
    unsigned slot;
    struct store *s = borrow(w, &slot);
    char *stats = NULL;
    if (s)
        store_stats(s, api_keep_json, &stats);
    give_back(w, slot);
    memset(&r, 0, sizeof r);
    FILE *f = open_memstream(&r.body, &r.len);
    if (!f) {
        free(m);
        free(stats);
        plain_error(&r, 500, "{\"error\":\"out of memory\"}");
        return send_reply(c, &r, false);
    }
    web_metrics_render(f, have ? m : NULL);
    web_metrics_render_store(f, stats);
    fclose(f);
    free(m);
    free(stats);
    r.status = 200;
    r.type = "text/plain; version=0.0.4; charset=utf-8";
    return send_reply(c, &r, false);
}

/* ---- the UI's files ---- */

const struct web_asset *web_asset_find(const char *name)
{
    for (size_t i = 0; i < web_nassets; i++)
        if (!strcmp(web_assets[i].name, name))
            return &web_assets[i];
    return NULL;
}

/* "/" is the UI's page, "/ui/NAME" one of its files; nothing else is a file. */
static enum MHD_Result serve_asset(struct MHD_Connection *c, const char *url, const char *method)
{
    struct api_reply r;
    const struct web_asset *a = !strcmp(url, "/")            ? web_asset_find("index.html")
                                : !strncmp(url, "/ui/", 4)   ? web_asset_find(url + 4)
                                                             : NULL;
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        plain_error(&r, 405, "{\"error\":\"only GET\"}");
        return send_reply(c, &r, false);
    }
    if (!a) {
        plain_error(&r, 404, "{\"error\":\"no such page\"}");
        return send_reply(c, &r, false);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
    add_headers(resp);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- /api/v1/events: Server-Sent Events, one "call" event per new or changed call ---- */

struct sse {
    struct web_server *w;
    uint64_t rev;      /* the last revision sent */
    char *buf;         /* owned: events not yet sent */
    size_t len, off;
    int idle_ms;       /* since the last bytes went out */
};

static bool sse_add(void *user, uint64_t rev, const char *json)
{
    struct sse *e = user;
    char *more = NULL;
    int n = asprintf(&more, "id: %llu\nevent: call\ndata: %s\n\n", (unsigned long long)rev,
                     json ? json : "null");
    if (n < 0)
        return false;
    char *nb = realloc(e->buf, e->len + (size_t)n);
    if (!nb) {
        free(more);
        return false;
    }
    memcpy(nb + e->len, more, (size_t)n);
    free(more);
    e->buf = nb;
    e->len += (size_t)n;
    e->rev = rev;
    return true;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    struct sse *e = cls;
    while (e->off == e->len) {
        e->off = e->len = 0;
        if (e->w->stopping)
            return MHD_CONTENT_READER_END_OF_STREAM;
        unsigned slot;
        struct store *s = borrow(e->w, &slot);
        uint64_t last;
        enum store_qstatus st = s ? store_calls_since(s, e->rev, 100, sse_add, e, &last)
                                  : STORE_Q_ERROR;
        give_back(e->w, slot);
        if (st != STORE_Q_OK)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (e->len)
            break;
        if (e->idle_ms >= SSE_KEEPALIVE_S * 1000) { /* a comment keeps proxies from closing it */
            e->idle_ms = 0;
            size_t n = strlen(": keepalive\n\n");
            memcpy(out, ": keepalive\n\n", n < max ? n : max);
            return (ssize_t)(n < max ? n : max);
        }
        struct timespec t = {0, SSE_POLL_MS * 1000000L};
        nanosleep(&t, NULL);
        e->idle_ms += SSE_POLL_MS;
    }
    size_t n = e->len - e->off < max ? e->len - e->off : max;
    memcpy(out, e->buf + e->off, n);
    e->off += n;
    e->idle_ms = 0;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    struct sse *e = cls;
    free(e->buf);
    free(e);
}

static bool ignore_row(void *user, uint64_t rev, const char *json)
{
    (void)user;
    (void)rev;
    (void)json;
    return false;
}

/* Starts after the Last-Event-ID the browser resends on reconnecting, else from now. */
static enum MHD_Result start_events(struct web_server *w, struct MHD_Connection *c)
{
    struct sse *e = calloc(1, sizeof *e);
    struct api_reply r;
    if (!e) {
        plain_error(&r, 500, "{\"error\":\"out of memory\"}");
        return send_reply(c, &r, false);
    }
    e->w = w;
    const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    char *end;
    unsigned long long v = last ? strtoull(last, &end, 10) : 0;
    if (last && !*end && *last >= '0' && *last <= '9') {
        e->rev = v;
    } else {
        unsigned slot;
        struct store *s = borrow(w, &slot);
        uint64_t now = 0;
        if (s)
            store_calls_since(s, 0, 1, ignore_row, NULL, &now);
        give_back(w, slot);
        e->rev = now;
    }
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
                                                                  sse_read, e, sse_free);
    if (!resp) {
        sse_free(e);
        return MHD_NO;
    }
    add_headers(resp);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    (void)version;
    (void)upload_data;
    /* markers of where a request is (their addresses only): the first call announces the
     * headers; a body, if one comes, is skipped and then refused */
    static const char headers_seen, body_seen;
    struct web_server *w = cls;
    struct api_reply r;
    if (!*state) {
        *state = (void *)&headers_seen;
        return MHD_YES;
    }
    if (*upload_size) { /* GET only: a body is not read */
        *upload_size = 0;
        *state = (void *)&body_seen;
        return MHD_YES;
    }
    if (*state == &body_seen) {
        plain_error(&r, strcmp(method, "GET") && strcmp(method, "HEAD") ? 405 : 413,
                    "{\"error\":\"only GET, without a body\"}");
        return send_reply(c, &r, false);
    }
    if (!authorized(w, c)) {
        plain_error(&r, 401, "{\"error\":\"authorization required\"}");
        return send_reply(c, &r, true);
    }
    if (!strcmp(url, "/metrics"))
        return serve_metrics(w, c, method);
    if (strncmp(url, "/api/", 5))
        return serve_asset(c, url, method);
    unsigned slot;
    struct store *s = borrow(w, &slot);
    if (!s) {
        give_back(w, slot);
        plain_error(&r, 503, "{\"error\":\"the database cannot be read\"}");
        return send_reply(c, &r, false);
    }
    if (!strcmp(url, "/api/v1/events") && !strcmp(method, "GET")) {
        give_back(w, slot);
        return start_events(w, c);
    }
    struct args_ctx ctx = {c};
    struct api_args a = {get_arg, each_arg, &ctx};
    struct api_options opts = {.show_credentials = w->cfg.show_credentials};
    api_handle(s, method, url, &a, &opts, &r);
    give_back(w, slot);
    if (!r.body && r.status != 200)
        plain_error(&r, 500, "{\"error\":\"out of memory\"}");
    return send_reply(c, &r, false);
}

/* ---- starting and stopping ---- */

static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    if (f) {
        FILE *m = open_memstream(&buf, &n);
        char chunk[4096];
        size_t k;
        while (m && (k = fread(chunk, 1, sizeof chunk, f)) > 0 && n < (1u << 20))
            fwrite(chunk, 1, k, m);
        if (m)
            fclose(m);
        fclose(f);
    }
    if (!buf)
        snprintf(err, errlen, "cannot read %s", path);
    return buf;
}

static void free_server(struct web_server *w)
{
    for (unsigned i = 0; i < w->npool; i++)
        store_close(w->pool[i]);
    free(w->pool);
    free(w->busy);
    free(w->cert_pem);
    free(w->key_pem);
    pthread_cond_destroy(&w->freed);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    log_info("web: %s", line);
}

/* A secret that guards nothing counts as none: an empty or blank token would
 * let "Authorization: Bearer " in, and basic credentials without a password let in anyone
 * who knows the user's name. Deciding it here, where every caller's settings meet, is what
 * keeps a non-loopback bind from being opened by a variable set but left empty. */
static const char *secret_or_null(const char *s, bool basic)
{
    if (!s)
        return NULL;
    if (basic) {
        const char *colon = strchr(s, ':');
        if (colon)
            s = colon + 1; /* the password */
    }
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return s;
    return NULL;
}

struct web_server *web_start(const struct web_config *cfg_in, char *err, size_t errlen)
{
    struct web_config norm = *cfg_in;
    if (!secret_or_null(norm.token, false))
        norm.token = NULL;
    if (!secret_or_null(norm.basic, true))
        norm.basic = NULL;
    const struct web_config *cfg = &norm;
    struct sockaddr_storage ss;
    socklen_t sl;
    const char *listen = cfg->listen ? cfg->listen : "127.0.0.1:8080";
    if (!sockaddr_parse(listen, "127.0.0.1", true, &ss, &sl)) {
        snprintf(err, errlen, "--listen %s: want HOST:PORT, [IPv6]:PORT or :PORT (an address, "
                              "not a name)", listen);
        return NULL;
    }
    bool v6 = ss.ss_family == AF_INET6;
    if (!sockaddr_is_loopback(&ss) && !cfg->token && !cfg->basic) {
        snprintf(err, errlen, "--listen %s is not a loopback address: give --token-file or --user-file "
                              "(or SIPSCOPE_TOKEN, SIPSCOPE_USER) so that the API is not open to the network", listen);
        return NULL;
    }
    if (cfg->basic && !strchr(cfg->basic, ':')) {
        snprintf(err, errlen, "--user wants USER:PASSWORD");
        return NULL;
    }
    if (!cfg->cert != !cfg->key) {
        snprintf(err, errlen, "HTTPS needs both --cert and --key");
        return NULL;
    }
    char perr[256];
    struct store *probe = store_open_reader(cfg->db, perr, sizeof perr);
    if (!probe) {
        snprintf(err, errlen, "%s", perr);
        return NULL;
    }
    struct web_server *w = calloc(1, sizeof *w);
    if (!w) {
        store_close(probe);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->cfg = *cfg;
    w->npool = cfg->threads ? cfg->threads : 4;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->freed, NULL);
    w->pool = calloc(w->npool, sizeof *w->pool);
    w->busy = calloc(w->npool, sizeof *w->busy);
    if (!w->pool || !w->busy) {
        store_close(probe);
        free_server(w);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->pool[0] = probe;
    /* a thread per connection: an event stream waits in its own thread, not in one the
     * other requests need; how many read the database at once is the pool's size */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC | (v6 ? MHD_USE_IPv6 : 0);
    if (cfg->cert) {
        if (!(w->cert_pem = read_file(cfg->cert, err, errlen)) ||
            !(w->key_pem = read_file(cfg->key, err, errlen))) {
            free_server(w);
            return NULL;
        }
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem tls[] = {
        {cfg->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, w->cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, w->key_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    w->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, /* first: its rule */
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_MAX_CONNECTIONS,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)WEB_MAX_PER_CLIENT,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                            MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (!w->d) {
        snprintf(err, errlen, "cannot listen on %s (in use, or not an address of this host%s)",
                 listen, cfg->cert ? ", or the certificate and key do not fit" : "");
        free_server(w);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
    w->port = info ? info->port : 0;
    return w;
}

unsigned web_port(const struct web_server *w)
{
    return w->port;
}

void web_stop(struct web_server *w)
{
    if (!w)
        return;
    w->stopping = 1;          /* event streams end at their next poll */
    MHD_quiesce_daemon(w->d); /* no new connections */
    MHD_stop_daemon(w->d);    /* joins the threads once their requests are answered */
    free_server(w);
}
