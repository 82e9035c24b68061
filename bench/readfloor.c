/* The read floors that sipscope's speed is reported against, measured in the same run on
 * the same file:
 *   readfloor FILE         pcap_next_ex and nothing else: the cheapest pass over a capture;
 *   readfloor FILE parse   the same plus an Ethernet/IPv4/UDP parse, an RTP header read and
 *                          one hash lookup per packet (a per-stream packet count): the floor
 *                          for any stream tracker, and the one the targets are stated against.
 * Prints "packets bytes streams checksum". */
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    uint32_t src, dst, ssrc;
    uint16_t sport, dport;
    uint64_t packets; /* 0: empty */
};

#define SLOTS (1u << 14) /* 4x the streams of the largest workload, and small enough to
                          * stay in cache: a floor must not be slowed by its own table */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static uint32_t be32(const u_char *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint16_t be16(const u_char *p) { return (uint16_t)(p[0] << 8 | p[1]); }

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "parse"))) {
        fprintf(stderr, "usage: readfloor FILE [parse]\n");
        return 2;
    }
    bool parse = argc == 3;
    pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) {
        fprintf(stderr, "readfloor: %s\n", err);
        return 1;
    }
    struct slot *tab = parse ? calloc(SLOTS, sizeof *tab) : NULL;
    if (parse && !tab)
        return 1;
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned long long n = 0, bytes = 0, streams = 0;
    unsigned x = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        n++;
        bytes += h->caplen;
        x += d[0]; /* touch the frame, as any reader must */
        if (!parse || h->caplen < 14 + 20 + 8 + 12 || be16(d + 12) != 0x0800)
            continue;
        const u_char *ip = d + 14;
        unsigned ihl = (ip[0] & 15) * 4u;
        if (ip[0] >> 4 != 4 || ip[9] != 17 || ihl < 20 || h->caplen < 14 + ihl + 8 + 12)
            continue;
        const u_char *udp = ip + ihl, *rtp = udp + 8;
        if (rtp[0] >> 6 != 2 || (rtp[1] >= 200 && rtp[1] <= 204)) /* RTCP: RFC 5761 §4 */
            continue;
        struct slot k = {be32(ip + 12), be32(ip + 16), be32(rtp + 8), be16(udp), be16(udp + 2), 0};
        uint64_t hv = mix(((uint64_t)k.src << 32 | k.dst) ^ mix((uint64_t)k.ssrc << 32 |
                                                               (uint32_t)k.sport << 16 | k.dport));
        for (size_t i = hv & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
            struct slot *s = &tab[i];
            if (!s->packets) {
                if (streams >= SLOTS / 2) /* full enough: count no new stream */
                    break;
                *s = k;
                streams++;
            } else if (s->src != k.src || s->dst != k.dst || s->ssrc != k.ssrc ||
                       s->sport != k.sport || s->dport != k.dport) {
                continue;
            }
            s->packets++;
            x += be16(rtp + 2); /* the sequence number, read as a tracker must */
            break;
        }
    }
    pcap_close(p);
    free(tab);
    printf("%llu %llu %llu %u\n", n, bytes, streams, x & 1);
    return 0;
}
