/* libFuzzer harness for SIP over TCP and WebSocket (and HEP over TCP): the input is a
 * list of segments of one connection to port 5060, in tcp_segments.h's format, built into
 * real Ethernet/IPv4/TCP frames and decoded, so the public path is exercised. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "decode/decode.h"
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
    struct decode_config cfg;
    decode_config_default(&cfg);
    cfg.tcp_max_bytes = 1 << 20; /* small, so the limits are reached too */
    struct decode_handlers h = {.sip = on_sip};
    struct decoder *d = decoder_new(&cfg, &h);
    if (!d)
        return 0;
    tcp_feed_segments(d, 5060, data, size);
    decoder_finish(d);
    decoder_free(d);
    return 0;
}
