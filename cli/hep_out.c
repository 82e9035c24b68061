/* See hep_out.h. HEPv3 (the HEP3 draft, as Homer documents it): "HEP3", the total length,
 * then chunks of vendor 0: type, length (6-byte chunk header included), value; all
 * big-endian. */
#include "hep_out.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/sockaddr.h"
#include "decode/hep.h"

/* Call-IDs by call number, so RTCP and stream reports can carry them. Calls are numbered
 * in order. Live, a ring indexed by number holds the newest CALL_RING calls: bounded
 * memory, and a stream of a call that many calls older goes without a correlation id.
 * Offline, streams end with the input, after every call, so all are kept (the analysis
 * keeps every call for its output anyway). */
#define CALL_RING 65536

struct call_name {
    uint64_t seq; /* 0 empty */
    char *call_id; /* owned */
};

struct hep_out {
    int fd;
    uint32_t capture_id;
    char *key; /* owned, NULL none */
    struct hep_out_counts n;
    struct call_name *calls; /* owned, ncalls */
    size_t ncalls;
    bool ring;               /* live: calls[seq % ncalls]; else calls[seq - base] */
    uint64_t base;
    unsigned char buf[65535];
};

struct hep_out *hep_out_open(const char *to, uint32_t capture_id, const char *auth_key, bool live,
                             char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (!sockaddr_parse(to, NULL, false, &ss, &sl)) {
        snprintf(err, errlen, "--hep-out %s: want ADDR:PORT (an address, not a name)", to);
        return NULL;
    }
    struct hep_out *h = calloc(1, sizeof *h);
    size_t n = live ? CALL_RING : 1024;
    if (!h || !(h->calls = calloc(n, sizeof *h->calls)) ||
        (auth_key && !(h->key = strdup(auth_key)))) {
        if (h)
            free(h->calls);
        free(h);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->capture_id = capture_id;
    h->ncalls = n;
    h->ring = live;
    /* connected: send() then needs no address, and errors come back */
    if ((h->fd = socket(ss.ss_family, SOCK_DGRAM, 0)) < 0 ||
        connect(h->fd, (struct sockaddr *)&ss, sl) != 0) {
        snprintf(err, errlen, "--hep-out %s: %s", to, strerror(errno));
        if (h->fd >= 0)
            close(h->fd);
        free(h->key);
        free(h->calls);
        free(h);
        return NULL;
    }
    return h;
}

static size_t chunk(unsigned char *p, size_t at, size_t cap, uint16_t type, const void *v, size_t n)
{
    if (at > cap || at + 6 + n > cap)
        return cap + 1; /* too long: the caller drops the message */
    p[at] = 0;
    p[at + 1] = 0;
    p[at + 2] = (unsigned char)(type >> 8);
    p[at + 3] = (unsigned char)type;
    p[at + 4] = (unsigned char)((6 + n) >> 8);
    p[at + 5] = (unsigned char)(6 + n);
    memcpy(p + at + 6, v, n);
    return at + 6 + n;
}

/* The chunks every packet carries, up to the payload. Returns the length so far. */
static size_t header(struct hep_out *h, const struct ip_addr *src, const struct ip_addr *dst,
                     uint16_t sport, uint16_t dport, uint8_t proto, ptime_t t, uint8_t ptype)
{
    unsigned char *b = h->buf;
    const size_t cap = sizeof h->buf;
    bool v6 = src->family == 6;
    uint8_t family = v6 ? 10 : 2;
    uint16_t sp = htons(sport), dp = htons(dport);
    uint32_t sec = htonl((uint32_t)(t / PTIME_SEC)), usec = htonl((uint32_t)(t % PTIME_SEC / 1000));
    uint32_t id = htonl(h->capture_id);
    size_t at = 6;
    memcpy(b, "HEP3", 4);
    at = chunk(b, at, cap, 1, &family, 1);
    at = chunk(b, at, cap, 2, &proto, 1);
    at = chunk(b, at, cap, v6 ? 5 : 3, src->b, v6 ? 16 : 4);
    at = chunk(b, at, cap, v6 ? 6 : 4, dst->b, v6 ? 16 : 4);
    at = chunk(b, at, cap, 7, &sp, 2);
    at = chunk(b, at, cap, 8, &dp, 2);
    at = chunk(b, at, cap, 9, &sec, 4);
    at = chunk(b, at, cap, 10, &usec, 4);
    at = chunk(b, at, cap, 11, &ptype, 1);
    at = chunk(b, at, cap, 12, &id, 4);
    if (h->key)
        at = chunk(b, at, cap, 14, h->key, strlen(h->key));
    return at;
}

/* Adds the payload (and the correlation id, when known) and sends. */
static void finish(struct hep_out *h, size_t at, const void *payload, size_t n, const char *corr,
                   enum hep_out_kind kind)
{
    unsigned char *b = h->buf;
    const size_t cap = sizeof h->buf;
    at = chunk(b, at, cap, 15, payload, n);
    if (corr)
        at = chunk(b, at, cap, 17, corr, strlen(corr));
    if (at > cap) {
        h->n.failed[kind]++;
        return;
    }
    b[4] = (unsigned char)(at >> 8);
    b[5] = (unsigned char)at;
    if (send(h->fd, b, at, 0) == (ssize_t)at)
        h->n.sent[kind]++;
    else
        h->n.failed[kind]++;
}

/* The slot of call seq; NULL: none (older than the first, or no room). grow: make room. */
static struct call_name *slot(struct hep_out *h, uint64_t seq, bool grow)
{
    if (!seq)
        return NULL;
    if (h->ring)
        return &h->calls[seq % h->ncalls];
    if (!h->base)
        h->base = seq;
    if (seq < h->base)
        return NULL;
    uint64_t i = seq - h->base;
    if (i >= h->ncalls) {
        size_t n = h->ncalls;
        while (n <= i)
            n *= 2;
        struct call_name *v = grow ? realloc(h->calls, n * sizeof *v) : NULL;
        if (!v)
            return NULL;
        memset(v + h->ncalls, 0, (n - h->ncalls) * sizeof *v);
        h->calls = v;
        h->ncalls = n;
    }
    return &h->calls[i];
}

static const char *call_name(struct hep_out *h, uint64_t seq)
{
    const struct call_name *c = slot(h, seq, false);
    return c && c->seq == seq ? c->call_id : NULL;
}

static void remember_call(struct hep_out *h, uint64_t seq, const struct sip_msg *m)
{
    struct call_name *c = slot(h, seq, true);
    const struct sip_header *cid = sip_hdr(m, SIP_H_CALL_ID);
    if (!c || c->seq == seq || !cid || !cid->value.n)
        return;
    char *s = malloc(cid->value.n + 1);
    if (!s)
        return; /* the call's RTCP goes without a correlation id */
    memcpy(s, cid->value.p, cid->value.n);
    s[cid->value.n] = 0;
    free(c->call_id);
    c->call_id = s;
    c->seq = seq;
}

void hep_out_sip(struct hep_out *h, const struct sip_event *ev, uint64_t call_seq)
{
    const struct l4_packet *l4 = ev->l4;
    uint8_t proto = ev->transport == SIP_TRANSPORT_UDP    ? 17
                    : ev->transport == SIP_TRANSPORT_SCTP ? 132
                                                          : 6;
    remember_call(h, call_seq, ev->msg);
    size_t at = header(h, &l4->src, &l4->dst, l4->sport, l4->dport, proto, l4->pkt->ts, HEP_PT_SIP);
    finish(h, at, ev->raw, ev->raw_len, NULL, HEP_OUT_SIP);
}

static void set_u(json_t *o, const char *k, uint64_t v)
{
    json_object_set_new(o, k, json_integer((json_int_t)v));
}

/* Dumps o (consumed), then sends it. */
static void send_json(struct hep_out *h, size_t at, json_t *o, const char *corr,
                      enum hep_out_kind kind)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(o);
    if (!text) {
        h->n.failed[kind]++;
        return;
    }
    finish(h, at, text, strlen(text), corr, kind);
    free(text);
}

/* RFC 3550 §6.4 and RFC 3611 §4.7 fields under the names Homer's RTCP JSON uses: the raw
 * values as sent (fraction of 256, jitter in timestamp units, LSR/DLSR as NTP words). */
void hep_out_rtcp(struct hep_out *h, const struct l4_packet *l4, const struct rtcp_info *info,
                  uint64_t call_seq)
{
    if (!info->has_sr && !info->nreports && !info->nvoip)
        return;
    json_t *o = json_object();
    uint32_t sender = info->has_sr ? info->sr_ssrc
                      : info->nreports ? info->reports[0].reporter
                                       : info->voip[0].reporter;
    set_u(o, "type", info->has_sr ? 200 : info->nreports ? 201 : 207);
    set_u(o, "ssrc", sender);
    set_u(o, "report_count", info->nreports);
    if (info->has_sr) {
        json_t *si = json_object();
        set_u(si, "ntp_timestamp_sec", info->sr_ntp_msw);
        set_u(si, "ntp_timestamp_usec", info->sr_ntp_lsw);
        set_u(si, "rtp_timestamp", info->sr_rtp_ts);
        set_u(si, "packets", info->sr_packets);
        set_u(si, "octets", info->sr_octets);
        json_object_set_new(o, "sender_information", si);
    } else {
        json_object_set_new(o, "sender_information", json_null());
    }
    json_t *rbs = json_array();
    for (unsigned i = 0; i < info->nreports; i++) {
        const struct rtcp_report *r = &info->reports[i];
        json_t *rb = json_object();
        set_u(rb, "source_ssrc", r->ssrc);
        set_u(rb, "fraction_lost", r->fraction_lost);
        json_object_set_new(rb, "packets_lost", json_integer(r->cumulative_lost));
        set_u(rb, "highest_seq_no", r->ext_max_seq);
        set_u(rb, "ia_jitter", r->jitter);
        set_u(rb, "lsr", r->lsr);
        set_u(rb, "dlsr", r->dlsr);
        json_array_append_new(rbs, rb);
    }
    json_object_set_new(o, "report_blocks", rbs);
    if (info->nvoip) {
        const struct rtcp_voip_metrics *v = &info->voip[0];
        json_t *xr = json_object();
        set_u(xr, "type", 7); /* RFC 3611 block type 7: VoIP Metrics */
        set_u(xr, "id", v->ssrc);
        set_u(xr, "fraction_lost", v->loss_rate);
        set_u(xr, "fraction_discard", v->discard_rate);
        set_u(xr, "burst_density", v->burst_density);
        set_u(xr, "gap_density", v->gap_density);
        set_u(xr, "burst_duration", v->burst_duration);
        set_u(xr, "gap_duration", v->gap_duration);
        set_u(xr, "round_trip_delay", v->round_trip_delay);
        set_u(xr, "end_system_delay", v->end_system_delay);
        json_object_set_new(xr, "signal_level", json_integer(v->signal_level));
        json_object_set_new(xr, "noise_level", json_integer(v->noise_level));
        set_u(xr, "rerl", v->rerl);
        set_u(xr, "gmin", v->gmin);
        set_u(xr, "r_factor", v->r_factor);
        set_u(xr, "ext_r_factor", v->ext_r_factor);
        set_u(xr, "mos_lq", v->mos_lq);
        set_u(xr, "mos_cq", v->mos_cq);
        set_u(xr, "rx_config", v->rx_config);
        set_u(xr, "jb_nominal", v->jb_nominal);
        set_u(xr, "jb_maximum", v->jb_maximum);
        set_u(xr, "jb_abs_max", v->jb_abs_max);
        json_object_set_new(o, "report_blocks_xr", xr);
    }
    size_t at = header(h, &l4->src, &l4->dst, l4->sport, l4->dport, 17, l4->pkt->ts, HEP_PT_RTCP);
    send_json(h, at, o, call_name(h, call_seq), HEP_OUT_RTCP);
}

static json_t *real_or_null(bool have, double v, double unit)
{
    return have ? json_real(round(v / unit) * unit) : json_null();
}

/* The quality report of one stream, at its end: Homer's QoS report names (the upper-case
 * keys FreeSWITCH's hepipe sends and heplify-server reads: JITTER, PACKET_LOSS, MOS,
 * DELTA...) with our figures in our units: milliseconds, packets, MOS 1-5. */
void hep_out_stream(struct hep_out *h, const struct rtp_stream *st)
{
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], ssrc[16];
    const char *corr = call_name(h, st->call_seq);
    bool timed = st->clock_rate && !st->events;
    inet_ntop(st->src.family == 6 ? AF_INET6 : AF_INET, st->src.b, src, sizeof src);
    inet_ntop(st->dst.family == 6 ? AF_INET6 : AF_INET, st->dst.b, dst, sizeof dst);
    snprintf(ssrc, sizeof ssrc, "0x%08x", st->ssrc);
    json_t *o = json_object();
    json_object_set_new(o, "CORRELATION_ID", corr ? json_string(corr) : json_null());
    json_object_set_new(o, "RTP_SIP_CALL_ID", corr ? json_string(corr) : json_null());
    json_object_set_new(o, "TYPE", json_string("HANGUP")); /* the stream's final report */
    set_u(o, "REPORT_TS", (uint64_t)(st->last_time / 1000)); /* µs since the epoch */
    json_object_set_new(o, "SRC_IP", json_string(src));
    set_u(o, "SRC_PORT", st->sport);
    json_object_set_new(o, "DST_IP", json_string(dst));
    set_u(o, "DST_PORT", st->dport);
    json_object_set_new(o, "SSRC", json_string(ssrc));
    set_u(o, "CODEC_PT", st->pt);
    json_object_set_new(o, "CODEC_NAME", st->codec[0] ? json_string(st->codec) : json_null());
    json_object_set_new(o, "CLOCK", st->clock_rate ? json_integer(st->clock_rate) : json_null());
    json_object_set_new(o, "PTIME", st->clock_rate && st->ptime_ts
                                        ? json_integer(st->ptime_ts * 1000 / st->clock_rate)
                                        : json_null());
    set_u(o, "START_TS", (uint64_t)(st->first_time / 1000));
    set_u(o, "TOTAL_PK", st->packets);
    json_object_set_new(o, "EXPECTED_PK", json_integer(st->expected));
    json_object_set_new(o, "PACKET_LOSS", json_integer(st->lost));
    set_u(o, "DUPLICATES", st->duplicates);
    set_u(o, "OUT_OF_ORDER", st->out_of_order);
    json_object_set_new(o, "DELTA", real_or_null(true, st->max_delta_ms, 0.001));
    json_object_set_new(o, "JITTER", real_or_null(timed, st->mean_jitter_ms, 0.001));
    json_object_set_new(o, "MAX_JITTER", real_or_null(timed, st->max_jitter_ms, 0.001));
    json_object_set_new(o, "MOS", real_or_null(st->mos >= 0, st->mos, 0.01));
    json_object_set_new(o, "R_FACTOR", real_or_null(st->r_factor >= 0, st->r_factor, 0.01));
    size_t at = header(h, &st->src, &st->dst, st->sport, st->dport, 17, st->last_time,
                       HEP_PT_JSON_QOS);
    send_json(h, at, o, corr, HEP_OUT_REPORT);
}

void hep_out_close(struct hep_out *h, struct hep_out_counts *counts)
{
    if (!h)
        return;
    if (counts)
        *counts = h->n;
    close(h->fd);
    for (size_t i = 0; i < h->ncalls; i++)
        free(h->calls[i].call_id);
    free(h->calls);
    free(h->key);
    free(h);
}
