/* libFuzzer harness for the SDP parser and the SIP body search (multipart included): the
 * input is parsed as a session description, and as the body of a SIP message whose
 * Content-Type is taken from the input's first line. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/sdp.h"
#include "decode/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sdp s;
    static struct sip_msg m;
    char *buf = malloc(size ? size : 1); /* exact size: over-reads are ASan reports */
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    sdp_parse(buf, size, &s);

    /* first line: a Content-Type; the rest: the body */
    const char *nl = memchr(buf, '\n', size);
    size_t tlen = nl ? (size_t)(nl - buf) : 0;
    if (nl && tlen < 200 && !memchr(buf, '\r', tlen) && !memchr(buf, '\0', tlen)) {
        size_t blen = size - tlen - 1;
        size_t cap = 400 + tlen + blen;
        char *msg = malloc(cap);
        if (msg) {
            int h = snprintf(msg, cap,
                             "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                             "From: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: f\r\n"
                             "CSeq: 1 INVITE\r\nContent-Type: %.*s\r\n\r\n",
                             (int)tlen, buf);
            memcpy(msg + h, nl + 1, blen);
            struct sv body;
            if (sip_parse(msg, (size_t)h + blen, 0, &m) == SIP_OK && sip_body_sdp(&m, &body, NULL))
                sdp_parse(body.p, body.n, &s);
            free(msg);
        }
    }
    free(buf);
    return 0;
}
