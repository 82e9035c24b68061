/* Live capture: one libpcap handle and one thread per interface, feeding a
 * bounded ring of bytes that the analysis reads through capture_next(). The capture
 * threads only copy; when the analysis falls behind and the ring is full, the packet is
 * dropped and counted (ring_dropped) rather than left to fill the kernel's buffer, whose
 * own drops pcap_stats() reports (dropped). */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "ringrec.h"

struct iface {
    struct live *lv;
    pcap_t *p;
    unsigned index;
    pthread_t thread;
    bool started;
    int linktype;
};

struct live {
    struct iface *ifs;
    size_t nifs;
    pthread_mutex_t mu;
    pthread_cond_t more;
    unsigned char *ring;
    size_t cap;
    uint64_t head, tail;   /* bytes ever written and ever read */
    atomic_bool stop;
    uint64_t ring_dropped; /* under mu */
    unsigned char *cur;    /* the packet handed out last (valid until the next) */
    size_t cur_cap;
    struct capture_stats st;
    unsigned running;      /* capture threads still reading; under mu */
    bool waiting;          /* the reader sleeps on `more`; under mu */
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct iface *ifc = (struct iface *)user;
    struct live *lv = ifc->lv;
    /* nanoseconds when the handle gave them (pcap_set_tstamp_precision), else micro */
    struct packet p = {
        .ts = (ptime_t)h->ts.tv_sec * PTIME_SEC + (ptime_t)h->ts.tv_usec *
              (pcap_get_tstamp_precision(ifc->p) == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000),
        .caplen = h->caplen, .wirelen = h->len, .linktype = ifc->linktype, .input = ifc->index,
        .data = bytes};
    pthread_mutex_lock(&lv->mu);
    if ((size_t)(lv->head - lv->tail) + ring_rec_claim(lv->cap, lv->head, ring_rec_need(h->caplen)) >
        lv->cap) {
        lv->ring_dropped++;
        pthread_mutex_unlock(&lv->mu);
        return;
    }
    lv->head = ring_rec_put(lv->ring, lv->cap, lv->head, &p, 0);
    if (lv->waiting) /* a wake-up costs a system call: only when the reader sleeps */
        pthread_cond_signal(&lv->more);
    pthread_mutex_unlock(&lv->mu);
}

static void *capture_main(void *arg)
{
    struct iface *ifc = arg;
    struct live *lv = ifc->lv;
    while (!atomic_load(&lv->stop)) {
        int n = pcap_dispatch(ifc->p, -1, on_packet, (u_char *)ifc);
        if (n == PCAP_ERROR) {
            log_error("capture: %s: %s", pcap_datalink_val_to_name(ifc->linktype),
                      pcap_geterr(ifc->p));
            break;
        }
        if (n == PCAP_ERROR_BREAK)
            break;
    }
    pthread_mutex_lock(&lv->mu);
    lv->running--;
    pthread_cond_signal(&lv->more);
    pthread_mutex_unlock(&lv->mu);
    return NULL;
}

static enum capture_status live_next(void *self, struct packet *out)
{
    struct live *lv = self;
    pthread_mutex_lock(&lv->mu);
    for (;;) {
        if (lv->head != lv->tail) {
            const struct ring_rec *r = ring_rec_at(lv->ring, lv->cap, &lv->tail);
            if (!r)
                continue;
            if (r->caplen > lv->cur_cap) {
                unsigned char *nb = realloc(lv->cur, r->caplen);
                if (!nb) { /* not handed out: counted with the ring's drops */
                    lv->ring_dropped++;
                    lv->tail += r->size;
                    continue;
                }
                lv->cur = nb;
                lv->cur_cap = r->caplen;
            }
            /* [tail, head) is the reader's alone (writers only add at the head): the
             * copy is made without the lock */
            pthread_mutex_unlock(&lv->mu);
            memcpy(lv->cur, r + 1, r->caplen);
            ring_rec_packet(r, lv->cur, out);
            pthread_mutex_lock(&lv->mu);
            lv->tail += r->size;
            pthread_mutex_unlock(&lv->mu);
            capture_count(&lv->st, out);
            return CAPTURE_OK;
        }
        if (!lv->running) {
            pthread_mutex_unlock(&lv->mu);
            return CAPTURE_EOF;
        }
        /* nothing for 200 ms: the caller may run its timers */
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 200000000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        lv->waiting = true;
        int rc = pthread_cond_timedwait(&lv->more, &lv->mu, &t);
        lv->waiting = false;
        if (rc == ETIMEDOUT && lv->head == lv->tail) {
            pthread_mutex_unlock(&lv->mu);
            return CAPTURE_IDLE;
        }
    }
}

static void live_stats(const void *self, struct capture_stats *out)
{
    const struct live *lv = self;
    *out = lv->st;
    out->dropped = 0;
    for (size_t i = 0; i < lv->nifs; i++) {
        struct pcap_stat ps;
        if (lv->ifs[i].p && pcap_stats(lv->ifs[i].p, &ps) == 0)
            out->dropped += (uint64_t)ps.ps_drop + ps.ps_ifdrop;
    }
    pthread_mutex_lock((pthread_mutex_t *)&lv->mu);
    out->ring_dropped = lv->ring_dropped;
    pthread_mutex_unlock((pthread_mutex_t *)&lv->mu);
    out->live = true;
}

static void live_stop(void *self)
{
    struct live *lv = self;
    atomic_store(&lv->stop, true);
    for (size_t i = 0; i < lv->nifs; i++)
        if (lv->ifs[i].p && lv->ifs[i].started)
            pcap_breakloop(lv->ifs[i].p);
}

static void live_close(void *self)
{
    struct live *lv = self;
    live_stop(lv);
    for (size_t i = 0; i < lv->nifs; i++)
        if (lv->ifs[i].started)
            pthread_join(lv->ifs[i].thread, NULL);
    for (size_t i = 0; i < lv->nifs; i++)
        if (lv->ifs[i].p)
            pcap_close(lv->ifs[i].p);
    pthread_cond_destroy(&lv->more);
    pthread_mutex_destroy(&lv->mu);
    free(lv->ifs);
    free(lv->ring);
    free(lv->cur);
    free(lv);
}

static const struct capture_ops live_ops = {live_next, live_stats, live_close, live_stop};

/* Opens and activates one interface with the configured options and filter. */
static pcap_t *open_iface(const char *name, const struct live_config *cfg, char *err, size_t errlen)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(name, eb);
    if (!p) {
        snprintf(err, errlen, "%s: %s", name, eb);
        return NULL;
    }
    pcap_set_snaplen(p, cfg->snaplen ? cfg->snaplen : 262144);
    pcap_set_promisc(p, cfg->promisc);
    pcap_set_buffer_size(p, (cfg->buffer_mb ? cfg->buffer_mb : 64) << 20);
    /* A short timeout, not immediate mode: on Linux immediate mode means TPACKET_V2,
     * whose ring has a slot of snaplen bytes per packet (256 KiB each at the default:
     * a 64 MiB buffer held 256 packets and dropped at 90k packets/s), while TPACKET_V3
     * packs packets into blocks and hands a block on at the timeout at the latest. */
    if (cfg->timeout_ms < 0)
        pcap_set_immediate_mode(p, 1);
    else
        pcap_set_timeout(p, cfg->timeout_ms ? cfg->timeout_ms : 50);
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO); /* micro where refused */
    int rc = pcap_activate(p);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", name, rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc));
        pcap_close(p);
        return NULL;
    }
    if (rc > 0)
        log_warn("capture: %s: %s", name, pcap_statustostr(rc));
    if (cfg->filter && *cfg->filter) {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, cfg->filter, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
            pcap_setfilter(p, &prog) < 0) {
            snprintf(err, errlen, "%s: filter \"%s\": %s", name, cfg->filter, pcap_geterr(p));
            pcap_close(p);
            return NULL;
        }
        pcap_freecode(&prog);
    }
    return p;
}

bool capture_open_live(struct capture_source *src, const char *const *ifaces, size_t n,
                       const struct live_config *cfg, char *err, size_t errlen)
{
    struct live *lv = calloc(1, sizeof *lv);
    if (!lv || !(lv->ifs = calloc(n, sizeof *lv->ifs))) {
        free(lv);
        snprintf(err, errlen, "out of memory");
        return false;
    }
    lv->nifs = n;
    lv->cap = ring_rec_cap(cfg->ring_bytes ? cfg->ring_bytes : (size_t)64 << 20);
    pthread_mutex_init(&lv->mu, NULL);
    pthread_cond_init(&lv->more, NULL);
    if (!(lv->ring = malloc(lv->cap))) {
        snprintf(err, errlen, "out of memory for a ring of %zu bytes", lv->cap);
        live_close(lv);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        struct iface *ifc = &lv->ifs[i];
        ifc->lv = lv;
        ifc->index = (unsigned)i;
        if (!(ifc->p = open_iface(ifaces[i], cfg, err, errlen))) {
            live_close(lv);
            return false;
        }
        ifc->linktype = pcap_datalink(ifc->p);
    }
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&lv->mu);
        lv->running++; /* before the thread, which may end at once */
        pthread_mutex_unlock(&lv->mu);
        int rc = pthread_create(&lv->ifs[i].thread, NULL, capture_main, &lv->ifs[i]);
        if (rc) {
            snprintf(err, errlen, "starting a capture thread: %s", strerror(rc));
            live_close(lv);
            return false;
        }
        lv->ifs[i].started = true;
    }
    src->ops = &live_ops;
    src->self = lv;
    return true;
}
