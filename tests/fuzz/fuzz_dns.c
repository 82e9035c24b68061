/* libFuzzer harness for the DNS message parser (decode/dns.c): the input is one message
 * as UDP carries it, then the same bytes as a TCP stream of length-prefixed messages
 * (RFC 1035 §4.2.2). Every name it keeps must be printable text ending in a NUL. Then the
 * same bytes go to the decoder's DNS-over-TCP reassembly (decode/dnstcp.c) as segments of
 * two directions, of lengths the bytes choose, some with holes before them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "decode/decode_int.h"
#include "decode/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct dns_msg *m)
{
    if (strnlen(m->qname, DNS_NAME_MAX) == DNS_NAME_MAX)
        __builtin_trap();
    for (unsigned i = 0; i < m->nanswers; i++)
        if (strnlen(m->answers[i].name, DNS_NAME_MAX) == DNS_NAME_MAX ||
            strnlen(m->answers[i].target, DNS_NAME_MAX) == DNS_NAME_MAX)
            __builtin_trap();
}

static void feed_tcp(const uint8_t *buf, size_t size)
{
    struct decoder *d = decoder_new(NULL, NULL);
    if (!d)
        return;
    struct packet pkt = {.ts = 1, .frame = 1};
    struct l4_packet l4 = {.pkt = &pkt, .proto = 6, .dport = 53};
    l4.src.family = l4.dst.family = 4;
    uint32_t seq[2] = {1000, 0xfffffff0u}; /* one direction wraps around */
    for (size_t off = 0, i = 0; off < size; i++) {
        uint8_t b = buf[off];
        size_t n = 1 + b % 97;
        if (n > size - off)
            n = size - off;
        int dir = b & 1;
        l4.sport = (uint16_t)(40000 + dir);
        l4.payload = buf + off;
        l4.len = (uint32_t)n;
        l4.tcp_seq = seq[dir];
        seq[dir] += (uint32_t)n + ((b & 0x80) && i % 7 == 3 ? 5u : 0u);
        decode_dns_tcp(d, &l4);
        pkt.frame++;
        off += n;
    }
    decoder_finish(d);
    decoder_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dns_msg m;
    uint8_t *buf = malloc(size ? size : 1); /* exact size: a read past the end is caught */
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    if (dns_parse(buf, size, &m) == DR__COUNT)
        check(&m);
    for (size_t off = 0; off + 2 <= size;) {
        size_t n = (size_t)buf[off] << 8 | buf[off + 1];
        if (n > size - off - 2)
            break;
        if (dns_parse(buf + off + 2, n, &m) == DR__COUNT)
            check(&m);
        off += 2 + n;
    }
    feed_tcp(buf, size);
    free(buf);
    return 0;
}
