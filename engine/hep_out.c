/* See hep_out.h. The packets are decode/hep.h's hep_encode(), the socket capture/hep_io.h's
 * sender, the JSON render/hep_report.h's; here: which call a packet belongs to, and what
 * each kind of packet carries. */
#include "hep_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/hep_io.h"
#include "decode/hep.h"
#include "decode/sip.h"
#include "render/hep_report.h"

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
    struct hep_sender *tx; /* owned */
    uint32_t capture_id;
    char *key; /* owned, NULL none */
    char node[65]; /* the host's name, sent as the node name (chunk 19); "" none */
    struct hep_out_counts n;
    struct call_name *calls; /* owned, ncalls */
    size_t ncalls;
    bool ring;               /* live: calls[seq % ncalls]; else calls[seq - base] */
    uint64_t base;
    uint8_t buf[65535];
};

struct hep_out *hep_out_open(const char *to, uint32_t capture_id, const char *auth_key, bool live,
                             char *err, size_t errlen)
{
    struct hep_out *h = calloc(1, sizeof *h);
    size_t n = live ? CALL_RING : 1024;
    if (!h || !(h->calls = calloc(n, sizeof *h->calls)) ||
        (auth_key && !(h->key = strdup(auth_key)))) {
        hep_out_close(h, NULL);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->capture_id = capture_id;
    /* a collector says which probe reported a stream by it, beside the agent id */
    if (gethostname(h->node, sizeof h->node - 1) != 0) h->node[0] = '\0';
    h->ncalls = n;
    h->ring = live;
    char why[256];
    if (!(h->tx = hep_sender_open(to, why, sizeof why))) {
        snprintf(err, errlen, "--hep-out %s: %s", to, why);
        hep_out_close(h, NULL);
        return NULL;
    }
    return h;
}

/* One packet of kind: what every packet carries (addresses, ports, time, our capture id
 * and key), the payload and, when known, the call's Call-ID as correlation id. A packet
 * too long for HEP, or a send that fails, is counted. */
static void send_packet(struct hep_out *h, const struct ip_addr *src, const struct ip_addr *dst,
                        uint16_t sport, uint16_t dport, uint8_t proto, ptime_t t, uint8_t ptype,
                        const void *payload, size_t len, const char *corr, enum hep_out_kind kind)
{
    struct hep_msg m = {
        .version = 3,
        .family = src->family == 6 ? 6 : 4,
        .ip_proto = proto,
        .src = *src,
        .dst = *dst,
        .sport = sport,
        .dport = dport,
        .has_time = true,
        .time = t,
        .payload_type = ptype,
        .capture_id = h->capture_id,
        .auth_key = h->key ? sv_cstr(h->key) : SV_NULL,
        .correlation = corr ? sv_cstr(corr) : SV_NULL,
        .node = h->node[0] ? sv_cstr(h->node) : SV_NULL,
        .payload = payload,
        .len = len,
    };
    size_t n = hep_encode(&m, h->buf, sizeof h->buf);
    if (n && ptype == HEP_PT_SIP) /* SDES keys do not leave with the copy */
        sip_mask_sdes((char *)h->buf, n);
    if (n && hep_sender_send(h->tx, h->buf, n))
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
    send_packet(h, &l4->src, &l4->dst, l4->sport, l4->dport, proto, l4->pkt->ts, HEP_PT_SIP,
                ev->raw, ev->raw_len, NULL, HEP_OUT_SIP);
}

void hep_out_rtcp(struct hep_out *h, const struct l4_packet *l4, const struct rtcp_info *info,
                  uint64_t call_seq)
{
    if (!info->has_sr && !info->nreports && !info->nvoip)
        return;
    char *text = render_hep_report_rtcp(info);
    if (!text) {
        h->n.failed[HEP_OUT_RTCP]++;
        return;
    }
    send_packet(h, &l4->src, &l4->dst, l4->sport, l4->dport, 17, l4->pkt->ts, HEP_PT_RTCP, text,
                strlen(text), call_name(h, call_seq), HEP_OUT_RTCP);
    free(text);
}

void hep_out_stream(struct hep_out *h, const struct rtp_stream *st)
{
    const char *corr = call_name(h, st->call_seq);
    char *text = render_hep_report_stream(st, corr);
    if (!text) {
        h->n.failed[HEP_OUT_REPORT]++;
        return;
    }
    send_packet(h, &st->src, &st->dst, st->sport, st->dport, 17, st->last_time, HEP_PT_JSON_QOS,
                text, strlen(text), corr, HEP_OUT_REPORT);
    free(text);
}

void hep_out_close(struct hep_out *h, struct hep_out_counts *counts)
{
    if (!h)
        return;
    if (counts)
        *counts = h->n;
    hep_sender_close(h->tx);
    for (size_t i = 0; h->calls && i < h->ncalls; i++)
        free(h->calls[i].call_id);
    free(h->calls);
    free(h->key);
    free(h);
}
