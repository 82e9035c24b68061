/* libFuzzer harness for the SRTP path: the input's first line is an a=crypto value
 * (sdes_parse), the whole input a SIP message whose SDP keys endpoints (srtp_offers_sip,
 * twice: as an offer, then as its own answer), and the rest after the first line a series
 * of packets (2-byte length each) unprotected as SRTP and SRTCP at endpoints that hold a key
 * (the first line's, a fixed one) or none. Nothing may crash or leak whatever the bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/sip.h"
#include "decode/srtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed[] = "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sip_msg m;
    struct srtp_table *t = srtp_table_new(4, 1);
    struct srtp_offers *o = srtp_offers_new(2, 1);
    char *buf = malloc(size ? size : 1); /* exact size: over-reads are ASan reports */
    if (!t || !o || !buf)
        abort();
    memcpy(buf, data, size);
    struct ip_addr lo = {.family = 4, .b = {127, 0, 0, 1}};
    struct sdes_key k;
    const char *nl = memchr(buf, '\n', size);
    size_t first = nl ? (size_t)(nl - buf) : size;
    if (sdes_parse(buf, first, &k) == SDES_ST_OK)
        srtp_table_add(t, &lo, 4000, &k);
    sdes_key_wipe(&k);
    if (sdes_parse(fixed, sizeof fixed - 1, &k) == SDES_ST_OK)
        srtp_table_add(t, &lo, 5000, &k);
    sdes_key_wipe(&k);
    srtp_table_mark(t, &lo, 6000);

    if (sip_parse(buf, size, 0, &m) == SIP_OK) {
        srtp_offers_sip(o, t, &m);
        m.is_request = false; /* the same description as the answer to itself */
        srtp_offers_sip(o, t, &m);
    }

    size_t at = nl ? first + 1 : size;
    static const uint16_t ports[] = {4000, 4001, 5000, 5001, 6000, 7000};
    for (unsigned i = 0; at + 3 <= size; i++) {
        size_t n = (size_t)data[at] << 8 | data[at + 1];
        uint8_t sel = data[at + 2];
        at += 3;
        if (n > size - at)
            n = size - at;
        uint8_t *pkt = malloc(n ? n : 1);
        if (!pkt)
            abort();
        memcpy(pkt, data + at, n);
        const uint8_t *out;
        size_t out_len;
        uint16_t port = ports[sel % 6];
        if (srtp_table_unprotect(t, &lo, port, sel & 0x80, pkt, n, &out, &out_len) == SRTP_OK &&
            out_len > SRTP_PACKET_MAX)
            abort();
        free(pkt);
        at += n;
    }
    free(buf);
    srtp_offers_free(o);
    srtp_table_free(t);
    return 0;
}
