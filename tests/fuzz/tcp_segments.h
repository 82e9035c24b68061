/* Shared by the TCP-borne harnesses (fuzz_tcp.c, fuzz_tls.c): the input's segments of one
 * connection, each as
 *   u8 flags: bit 0 direction (server to client), bit 1 SYN, bit 2 FIN, bit 3 RST
 *   i16 jump: signed big-endian sequence jump before this segment (holes, overlaps, rewinds)
 *   u8 time:  packet-time step in 100 ms units (so hole timeouts fire)
 *   u16 len:  payload length, then the payload
 * become real Ethernet/IPv4/TCP frames to or from `port`, fed to the decoder, so the
 * public path is exercised. Header-only: each harness is its own program. */
#ifndef SIPSCOPE_FUZZ_TCP_SEGMENTS_H
#define SIPSCOPE_FUZZ_TCP_SEGMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode.h"

static size_t tcp_frame(uint8_t *f, bool rev, uint16_t port, uint32_t seq, uint8_t flags,
                        const uint8_t *p, size_t n)
{
    static const uint8_t mac[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
    memcpy(f, mac, 12);
    f[12] = 0x08, f[13] = 0x00;
    uint8_t *ip = f + 14;
    size_t tl = 20 + 20 + n;
    memset(ip, 0, 20);
    ip[0] = 0x45, ip[2] = (uint8_t)(tl >> 8), ip[3] = (uint8_t)tl, ip[8] = 64, ip[9] = 6;
    uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 2};
    memcpy(ip + 12, rev ? b : a, 4);
    memcpy(ip + 16, rev ? a : b, 4);
    uint8_t *t = ip + 20;
    memset(t, 0, 20);
    uint16_t sp = rev ? port : 40000, dp = rev ? 40000 : port;
    t[0] = (uint8_t)(sp >> 8), t[1] = (uint8_t)sp, t[2] = (uint8_t)(dp >> 8), t[3] = (uint8_t)dp;
    t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16), t[6] = (uint8_t)(seq >> 8);
    t[7] = (uint8_t)seq;
    t[12] = 5 << 4;
    t[13] = (uint8_t)(0x10 | ((flags & 2) ? 0x02 : 0) | ((flags & 4) ? 0x01 : 0) |
                      ((flags & 8) ? 0x04 : 0));
    memcpy(t + 20, p, n);
    return 14 + tl;
}

/* Feeds every segment of data[0..size) to d; the caller finishes and frees d. */
static void tcp_feed_segments(struct decoder *d, uint16_t port, const uint8_t *data, size_t size)
{
    static uint8_t f[14 + 40 + 65536];
    uint32_t seq[2] = {1000, 90000};
    ptime_t now = 1700000000 * PTIME_SEC;
    size_t pos = 0;
    uint64_t fr = 0;
    while (pos + 6 <= size) {
        uint8_t flags = data[pos], step = data[pos + 3];
        int16_t jump = (int16_t)(uint16_t)(data[pos + 1] << 8 | data[pos + 2]);
        size_t len = (size_t)(data[pos + 4] << 8 | data[pos + 5]);
        pos += 6;
        if (len > size - pos)
            len = size - pos;
        bool rev = flags & 1;
        seq[rev] += (uint32_t)(int32_t)jump;
        now += step * 100 * PTIME_MS;
        size_t fl = tcp_frame(f, rev, port, seq[rev], flags, data + pos, len);
        struct packet pkt = {.frame = ++fr, .ts = now, .caplen = (uint32_t)fl,
                             .wirelen = (uint32_t)fl, .linktype = 1, .data = f};
        decoder_frame(d, &pkt);
        seq[rev] += (uint32_t)len + ((flags & 2) ? 1 : 0);
        pos += len;
    }
}

#endif
