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
#include "tcp_segments.h"

static uint32_t g_sink;

static void on_sip(void *user, const struct sip_event *ev)
{
    for (size_t i = 0; i < ev->raw_len; i++)
        g_sink += (uint8_t)ev->raw[i];
    (void)user;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
    tcp_feed_segments(d, 5061, data + 2 + kn, size - 2 - kn);
    decoder_finish(d);
    decoder_free(d);
    return 0;
}
