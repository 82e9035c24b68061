/* libFuzzer harness for RTP, RTCP (XR included) and RFC 4733 events, alone and through
 * the stream tracker. The input is a run of records: length (1 octet), arrival step in
 * ms (1 octet), flags (bit 0: RTCP, bit 1: reverse direction), then the datagram. Each
 * input gets a fresh table, so leaks and stale state show up in the sanitizers. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/rtcp.h"
#include "decode/rtp.h"
#include "metrics/stream.h"
#include "tests/support/media_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct fixture_pt pts[] = {
    {0, 8000, "PCMU"}, {101, 8000, "telephone-event"}, {111, 48000, "opus"}, {0, 0, NULL}};

static void done(void *user, const struct rtp_stream *s)
{
    /* touch what the output reads */
    size_t *sum = user;
    *sum += s->ndtmf + s->nsec + (size_t)s->rtcp.packets;
    for (unsigned i = 0; i < s->ndtmf; i++)
        *sum += (size_t)s->dtmf[i].digit;
    for (unsigned i = 0; i < s->nsec; i++)
        *sum += s->timeline[i].mos_c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t sum = 0;
    struct stream_table *t = stream_table_new(16, 1, done, &sum, NULL);
    if (!t)
        return 0;
    ptime_t now = 1700000000LL * PTIME_SEC;
    uint64_t frame = 0;
    while (size >= 3) {
        size_t n = data[0];
        now += (ptime_t)data[1] * 1000000;
        uint8_t flags = data[2];
        data += 3;
        size -= 3;
        if (n > size)
            n = size;
        uint8_t *p = malloc(n ? n : 1); /* exact size: over-reads are ASan reports */
        if (!p)
            break;
        memcpy(p, data, n);
        struct packet pkt = {.frame = ++frame, .ts = now};
        struct l4_packet l4 = {.pkt = &pkt, .proto = 17, .payload = p, .len = (uint32_t)n};
        l4.src.family = l4.dst.family = 4;
        l4.src.b[0] = l4.dst.b[0] = 10;
        l4.src.b[3] = 1;
        l4.dst.b[3] = 2;
        l4.sport = 4000;
        l4.dport = 5000;
        if (flags & 2) {
            struct ip_addr a = l4.src;
            l4.src = l4.dst;
            l4.dst = a;
            l4.sport = 5000;
            l4.dport = 4000;
        }
        struct rtcp_info info;
        struct rtp_hdr h;
        struct rtp_event ev;
        if (flags & 1) {
            l4.sport++;
            l4.dport++;
            if (rtcp_parse(p, n, &info) == RTCP_OK)
                stream_rtcp(t, &l4, &info);
        } else if (rtp_parse(p, n, &h)) {
            if (rtp_event_parse(p + h.header_len, h.payload_len, &ev))
                sum += (size_t)rtp_event_digit(ev.event);
            stream_rtp(t, &l4, &h, fixture_announced, (void *)pts);
        }
        free(p);
        data += n;
        size -= n;
    }
    stream_finish(t);
    stream_table_free(t);
    return sum == (size_t)-1;
}
