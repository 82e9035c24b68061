/* See alert_hook.h. A slow or absent webhook must not hold up the packets: the payloads
 * wait in a bounded queue and one thread of ours POSTs them in order. */
#include "alert_hook.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/ptime.h"
#include "render/ids.h"

#define HOOK_QUEUE     64
#define HOOK_TIMEOUT_S 5L

struct alert_hook {
    char url[ALERT_URL_MAX];
    char base[160]; /* "http://host:port" of our API for the links; "" relative */
    pthread_t thread;
    bool started, stopping;
    pthread_mutex_t mu;
    pthread_cond_t more;
    char *queue[HOOK_QUEUE]; /* owned payloads */
    unsigned head, count;
    uint64_t sent, failed, refused;
};

static size_t discard(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    (void)user;
    return size * n;
}

static void post(struct alert_hook *h, CURL *c, const char *body)
{
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, h->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, HOOK_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    if (rc == CURLE_OK && status >= 200 && status < 300) {
        h->sent++;
        return;
    }
    h->failed++;
    log_warn("alert webhook %s: %s", h->url,
             rc != CURLE_OK ? curl_easy_strerror(rc) : "answered other than 2xx");
}

static void *worker(void *arg)
{
    struct alert_hook *h = arg;
    CURL *c = curl_easy_init();
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->count && !h->stopping)
            pthread_cond_wait(&h->more, &h->mu);
        if (!h->count) break; /* stopping, and every payload sent */
        char *body = h->queue[h->head];
        h->head = (h->head + 1) % HOOK_QUEUE;
        h->count--;
        pthread_mutex_unlock(&h->mu);
        if (c) post(h, c, body);
        free(body);
        pthread_mutex_lock(&h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    if (c) curl_easy_cleanup(c);
    return NULL;
}

struct alert_hook *alert_hook_new(const char *url, const char *base)
{
    struct alert_hook *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    snprintf(h->url, sizeof h->url, "%s", url ? url : "");
    snprintf(h->base, sizeof h->base, "%s", base ? base : "");
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->more, NULL);
    if (h->url[0]) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        h->started = pthread_create(&h->thread, NULL, worker, h) == 0;
        if (!h->started) log_warn("alert webhook: no thread to send from; log lines only");
    }
    return h;
}

/* An offender of the payload: a callee of bad calls, or the source or account of findings
 * of no call with the link to its newest one's issue. The list route's from and to (from
 * inclusive, to not) bracket the issue's time by a millisecond: that issue, and at most
 * what else of its kind started in the same millisecond. */
static json_t *offender_json(const struct alert_hook *h, const struct alert_offender *o)
{
    if (!o->who[0])
        return json_pack("{s:s, s:I}", "callee", o->callee, "calls", (json_int_t)o->calls);
    char link[320];
    double t = ptime_to_epoch_s(o->issue_ns);
    snprintf(link, sizeof link, "%s/api/v1/issues?kind=%s&from=%.6f&to=%.6f", h->base,
             issue_kind_name(o->kind), t - 0.001, t + 0.001);
    return json_pack("{s:s, s:I, s:s, s:f, s:s}", o->account ? "account" : "source", o->who,
                     "issues", (json_int_t)o->issues, "kind", issue_kind_name(o->kind), "time", t,
                     "link", link);
}

/* The payload: rule, state, value, window, top offenders, example calls with links. */
static char *payload(const struct alert_hook *h, const struct alert_event *ev)
{
    char metric[64];
    alert_metric_name(ev->rule, metric, sizeof metric);
    double end = ptime_to_epoch_s(ev->window_end_ns);
    double secs = (double)ev->rule->window_ns / 1e9;
    json_t *top = json_array(), *ex = json_array();
    for (unsigned i = 0; i < ev->ntop; i++)
        json_array_append_new(top, offender_json(h, &ev->top[i]));
    for (unsigned i = 0; i < ev->nexamples; i++) {
        char id[32], link[256];
        snprintf(id, sizeof id, RENDER_CALL_FMT, (unsigned long long)ev->examples[i]);
        snprintf(link, sizeof link, "%s/api/v1/calls/%s", h->base, id);
        json_array_append_new(ex, json_pack("{s:s, s:s}", "call", id, "link", link));
    }
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:I, s:{s:f, s:f, s:f}, s:o, s:o}", "rule",
                  ev->rule->name, "state", ev->firing ? "firing" : "resolved", "metric", metric,
                  "operator", ev->rule->below ? "<" : ">", "threshold", ev->rule->threshold,
                  "value", ev->value, "calls", (json_int_t)ev->calls, "window", "seconds", secs,
                  "start", end - secs, "end", end, "top_offenders", top, "examples", ex);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(o);
    return text;
}

void alert_hook_event(struct alert_hook *h, const struct alert_event *ev)
{
    char metric[64];
    alert_metric_name(ev->rule, metric, sizeof metric);
    log_warn("alert %s %s: %s %.2f (%s %g) over %.0f s, %u %s", ev->rule->name,
             ev->firing ? "firing" : "resolved", metric, ev->value, ev->rule->below ? "<" : ">",
             ev->rule->threshold, (double)ev->rule->window_ns / 1e9, ev->calls,
             ev->rule->metric >= ALERT_RATE ? "issues" : "calls");
    if (!h || !h->started) return;
    char *body = payload(h, ev);
    pthread_mutex_lock(&h->mu);
    if (body && h->count < HOOK_QUEUE) {
        h->queue[(h->head + h->count++) % HOOK_QUEUE] = body;
        body = NULL;
        pthread_cond_signal(&h->more);
    } else {
        h->refused++;
    }
    pthread_mutex_unlock(&h->mu);
    if (body) log_warn("alert webhook: %d payloads wait already; this one dropped", HOOK_QUEUE);
    free(body);
}

void alert_hook_free(struct alert_hook *h)
{
    if (!h) return;
    if (h->started) {
        pthread_mutex_lock(&h->mu);
        h->stopping = true;
        pthread_cond_signal(&h->more);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->thread, NULL); /* what waits is sent, each within its timeout */
        log_info("alert webhook: %llu sent, %llu failed, %llu dropped", (unsigned long long)h->sent,
                 (unsigned long long)h->failed, (unsigned long long)h->refused);
        curl_global_cleanup();
    }
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->more);
    free(h);
}
