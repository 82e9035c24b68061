/* libFuzzer harness for SIP over TLS: the TLS record layer, the hellos, the key schedule
 * and the decryption (decode/tls.c), and the key log's lines (decode/tls_keylog.c). The
 * input is
 *   u16 n, then n bytes of NSS key log text (the secrets the records may be opened with)
 * then the segments of one connection to port 5061 as fuzz_tcp.c reads them:
 *   u8 flags (bit 0 server to client, bit 1 SYN, bit 2 FIN, bit 3 RST), i16 sequence jump,
 *   u8 time step (100 ms units), u16 len, the payload.
 * Seeds (make_tls_seeds.py) are real TLS 1.2 and 1.3 sessions of OpenSSL with their key
 * logs, so the mutations reach the records' decryption and the SIP reader behind it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "decode/decode.h"
#include "decode/decode_int.h"

static uint32_t g_sink;

static void on_sip(void *user, const struct sip_event *ev)
{
    for (size_t i = 0; i < ev->raw_len; i++)
        g_sink += (uint8_t)ev->raw[i];
    (void)user;
}

static size_t frame(uint8_t *f, bool rev, uint32_t seq, uint8_t flags, const uint8_t *p,
                    size_t n)
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
    uint16_t sp = rev ? 5061 : 40000, dp = rev ? 40000 : 5061;
    t[0] = (uint8_t)(sp >> 8), t[1] = (uint8_t)sp, t[2] = (uint8_t)(dp >> 8), t[3] = (uint8_t)dp;
    t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16), t[6] = (uint8_t)(seq >> 8);
    t[7] = (uint8_t)seq;
    t[12] = 5 << 4;
    t[13] = (uint8_t)(0x10 | ((flags & 2) ? 0x02 : 0) | ((flags & 4) ? 0x01 : 0) |
                      ((flags & 8) ? 0x04 : 0));
    memcpy(t + 20, p, n);
    return 14 + tl;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t f[14 + 40 + 65536];
    log_set_level(LOG_ERROR);
    if (size < 2)
        return 0;
    size_t kn = (size_t)(data[0] << 8 | data[1]);
    if (kn > size - 2)
        kn = size - 2;
    struct decode_config cfg;
    decode_config_default(&cfg);
    cfg.tcp_max_bytes = 1 << 20; /* small, so the limits are reached too */
    struct decode_handlers h = {.sip = on_sip};
    struct decoder *d = decoder_new(&cfg, &h);
    char err[128];
    if (!d)
        return 0;
    /* the key log from the input, not a file: the harness sets what decoder_new would */
    if (!(d->tls_keys = tls_keylog_new(NULL, 0, err, sizeof err))) {
        decoder_free(d);
        return 0;
    }
    tls_keylog_add_text(d->tls_keys, (const char *)data + 2, kn);
    uint32_t seq[2] = {1000, 90000};
    ptime_t now = 1700000000 * PTIME_SEC;
    size_t pos = 2 + kn;
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
        size_t fl = frame(f, rev, seq[rev], flags, data + pos, len);
        struct packet pkt = {.frame = ++fr, .ts = now, .caplen = (uint32_t)fl,
                             .wirelen = (uint32_t)fl, .linktype = 1, .data = f};
        decoder_frame(d, &pkt);
        seq[rev] += (uint32_t)len + ((flags & 2) ? 1 : 0);
        pos += len;
    }
    decoder_finish(d);
    decoder_free(d);
    return 0;
}
