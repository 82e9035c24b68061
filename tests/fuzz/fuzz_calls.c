/* libFuzzer harness for what sits on top of the parsers: SIP messages and RTP through the
 * correlator (transactions, calls, registrations, SDP media, digest challenge runs), the
 * stream tracker, and the issue catalogue that judges them all at the end.
 *
 * Input: records of [flags][len hi][len lo][len bytes]. flags bits 0-1 and 2-3 pick the
 * source and destination among four hosts (two private, two public), bit 4 makes the
 * record RTP instead of SIP, bits 5-7 advance packet time (by up to 7 * 300 ms; 7 also
 * runs the issue engine's tick). SIP goes through the security watch too. An input that
 * starts with '#' is instead the security watch's two lists (scanner agents, toll prefixes). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/correlate.h"
#include "decode/rtp.h"
#include "decode/sip.h"
#include "diagnose/issues.h"
#include "metrics/stream.h"

struct run {
    struct correlator *corr;
    struct stream_table *streams;
    struct issue_engine *eng;
    uint64_t issues;
};

static void on_issue(void *user, const struct issue *is)
{
    struct run *r = user;
    r->issues += is->nframes + is->nev + strlen(is->summary) + strlen(is->diagnosis);
}

static void on_call(void *user, const struct call *c)
{
    issues_call(((struct run *)user)->eng, c);
}

static void on_reg(void *user, const struct registration *reg)
{
    issues_registration(((struct run *)user)->eng, reg);
}

static void on_stream(void *user, const struct rtp_stream *s)
{
    issues_stream(((struct run *)user)->eng, s);
}

static enum stream_origin resolve(void *ctx, const struct l4_packet *l4, struct media_match *mm,
                                  bool *src_ann, bool *dst_ann)
{
    const struct run *r = ctx;
    return correlate_media_flow(r->corr, l4, mm, src_ann, dst_ann) && mm->rtp && !mm->rtcp
               ? STREAM_ANNOUNCED
               : STREAM_IGNORE;
}

static void host(struct ip_addr *a, unsigned i)
{
    static const uint8_t hosts[4][4] = {{10, 0, 0, 1}, {192, 168, 1, 9}, {198, 51, 100, 7},
                                        {203, 0, 113, 9}};
    memset(a, 0, sizeof *a);
    a->family = 4;
    memcpy(a->b, hosts[i & 3], 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run r = {0};
    struct correlate_config cfg;
    correlate_config_default(&cfg);
    cfg.max_calls = 8; /* small tables: eviction paths run too */
    cfg.max_transactions = 16;
    cfg.max_registrations = 4;
    r.corr = correlate_new(&cfg, on_call, &r);
    r.streams = stream_table_new(8, 1, on_stream, &r, NULL);
    r.eng = issues_new(NULL, on_issue, &r);
    static struct sip_msg m;
    if (!r.corr || !r.streams || !r.eng)
        goto out;
    correlate_on_registration(r.corr, on_reg);
    issues_security_memory(r.eng, 16 * 1024); /* small tables: eviction paths run too */
    if (size > 1 && data[0] == '#') { /* the security watch's lists, as --scanner-agents reads */
        char *text = malloc(size);
        char err[160];
        if (text) {
            memcpy(text, data + 1, size - 1);
            text[size - 1] = 0;
            issues_security_lists(r.eng, text, text, err, sizeof err);
            free(text);
        }
        goto out;
    }
    ptime_t now = 1700000000 * PTIME_SEC;
    uint64_t frame = 0;
    size_t off = 0;
    while (off + 3 <= size) {
        uint8_t flags = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        /* an exact-size copy, so reading past the record is caught by ASan */
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf)
            break;
        memcpy(buf, data + off, len);
        off += len;
        now += (ptime_t)(flags >> 5) * 300 * (PTIME_SEC / 1000);
        struct packet pkt = {.frame = ++frame, .ts = now};
        struct l4_packet l4 = {.pkt = &pkt, .proto = 17, .payload = buf, .len = (uint32_t)len};
        host(&l4.src, flags);
        host(&l4.dst, flags >> 2);
        l4.sport = 5060;
        l4.dport = 5060;
        if (flags & 0x10) {
            struct rtp_hdr h;
            l4.sport = 4000;
            l4.dport = 5000;
            if (rtp_parse(buf, len, &h))
                stream_rtp(r.streams, &l4, &h, resolve, &r);
        } else if (sip_parse((const char *)buf, len, 0, &m) == SIP_OK) {
            struct sip_event ev = {.msg = &m, .l4 = &l4, .transport = SIP_TRANSPORT_UDP,
                                   .raw = (const char *)buf, .raw_len = len};
            struct msg_verdict v;
            correlate_sip(r.corr, &ev, &v);
            issues_sip(r.eng, &ev, &v);
        }
        if (flags >> 5 == 7) /* the security watch's tick: quiet sources reported, freed */
            issues_tick(r.eng, now, r.streams);
        free(buf);
    }
    correlate_finish(r.corr);
    stream_finish(r.streams);
    issues_finish(r.eng, now);
out:
    stream_table_free(r.streams);
    correlate_free(r.corr);
    issues_free(r.eng);
    return 0;
}
