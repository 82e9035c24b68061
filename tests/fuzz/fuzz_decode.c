/* libFuzzer harness for decode/: link layers, IPv4/IPv6, extension headers, tunnels,
 * fragment reassembly, UDP and TCP; and decode_peek_udp, held to what the decoder read.
 * Input: one byte choosing the link type, then frames, each as a 2-byte big-endian length
 * and that many bytes (a short last frame is taken as it is). Every frame of an input
 * goes through one decoder, so reassembly across frames is exercised; a frame's second
 * length byte's top bit marks it snaplen-cut (wirelen > caplen). */
#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "decode/decode.h"

static const int linktypes[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
                                DLT_NULL,   DLT_LOOP,      DLT_IPV4,       DLT_IPV6};

/* The frame's first datagram delivered, to hold decode_peek_udp to. */
static struct {
    uint64_t frame;
    bool have;
    struct l4_packet l4;
} first;

static void sink(void *user, const struct l4_packet *l4)
{
    /* touch every byte handed out: ASan proves they are inside a live buffer */
    volatile uint8_t x = 0;
    for (uint32_t i = 0; i < l4->len; i++)
        x ^= l4->payload[i];
    (void)user;
    (void)x;
    if (!first.have && l4->pkt->frame == first.frame) {
        first.have = true;
        first.l4 = *l4;
    }
}

/* decode_peek_udp (the read-ahead's stateless look, issue 10) reads the frame as the
 * decoder does: where both read a datagram outside any tunnel, it is the same one. */
static void check_peek(const struct packet *pkt)
{
    struct udp_peek u;
    if (!decode_peek_udp(pkt, &u))
        return;
    volatile uint8_t x = 0;
    for (uint32_t i = 0; i < u.len; i++) /* inside the frame */
        x ^= u.payload[i];
    (void)x;
    const struct l4_packet *l4 = &first.l4;
    if (!first.have || l4->proto != 17 || l4->tunnels || l4->reassembled ||
        u.dport == 4789 || u.dport == 8472 || u.dport == 37008)
        return;
    if (!ip_addr_eq(&u.src, &l4->src) || !ip_addr_eq(&u.dst, &l4->dst) || u.sport != l4->sport ||
        u.dport != l4->dport || u.payload != l4->payload || u.len != l4->len)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct decode_config cfg;
    decode_config_default(&cfg);
    cfg.frag_max_datagrams = 8; /* small limits so eviction paths run too */
    cfg.frag_max_bytes = 16384;
    log_set_level(LOG_ERROR); /* limits are hit on purpose here */
    struct decode_handlers h = {.udp = sink, .tcp = sink};
    struct decoder *d = decoder_new(&cfg, &h);
    if (!d)
        return 0;

    int lt = linktypes[data[0] % (sizeof linktypes / sizeof linktypes[0])];
    size_t pos = 1;
    uint64_t frame = 0;
    while (pos < size) {
        size_t len = size - pos;
        bool cut = false;
        if (len >= 2) {
            size_t want = (size_t)(data[pos] << 8 | (data[pos + 1] & 0x7f));
            cut = data[pos + 1] & 0x80;
            pos += 2;
            len = size - pos < want ? size - pos : want;
        } else {
            pos = size - len;
        }
        struct packet pkt = {
            .frame = ++frame,
            .ts = (ptime_t)frame * 7 * PTIME_SEC, /* pieces can also time out */
            .caplen = (uint32_t)len,
            .wirelen = (uint32_t)len + (cut ? 100 : 0),
            .linktype = lt,
            .data = data + pos,
        };
        first.frame = pkt.frame;
        first.have = false;
        decoder_frame(d, &pkt);
        check_peek(&pkt);
        pos += len;
    }
    decoder_finish(d);
    decoder_free(d);
    return 0;
}
