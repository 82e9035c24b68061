/* RTP/RTCP headers; see rtp.h. */
#include "rtp.h"

#include "common/cursor.h"

bool rtp_parse(const uint8_t *p, size_t n, struct rtp_hdr *h)
{
    struct cursor c = cursor_make(p, n);
    uint8_t b0, b1;
    uint16_t xlen;
    if (!cursor_u8(&c, &b0) || !cursor_u8(&c, &b1) || !cursor_u16be(&c, &h->seq) ||
        !cursor_u32be(&c, &h->ts) || !cursor_u32be(&c, &h->ssrc))
        return false;
    if (b0 >> 6 != 2)
        return false;
    h->padding = b0 & 0x20;
    h->extension = b0 & 0x10;
    h->csrc_count = b0 & 0x0f;
    h->marker = b1 & 0x80;
    h->pt = b1 & 0x7f;
    if (h->pt >= 72 && h->pt <= 76) /* RTCP SR..APP with the marker bit read as RTP */
        return false;
    if (!cursor_skip(&c, 4u * h->csrc_count))
        return false;
    if (h->extension && (!cursor_skip(&c, 2) || !cursor_u16be(&c, &xlen) || !cursor_skip(&c, 4u * xlen)))
        return false;
    h->header_len = n - cursor_left(&c);
    size_t pad = 0;
    if (h->padding) { /* RFC 3550 §5.1: the last octet counts the padding, itself included */
        pad = p[n - 1];
        if (pad == 0 || pad > cursor_left(&c))
            return false;
    }
    h->payload_len = cursor_left(&c) - pad;
    return true;
}

bool rtcp_looks_like(const uint8_t *p, size_t n)
{
    return n >= 8 && p[0] >> 6 == 2 && p[1] >= 200 && p[1] <= 207;
}

bool rtp_event_parse(const uint8_t *p, size_t n, struct rtp_event *out)
{
    struct cursor c = cursor_make(p, n);
    uint8_t flags;
    if (!cursor_u8(&c, &out->event) || !cursor_u8(&c, &flags) || !cursor_u16be(&c, &out->duration))
        return false;
    out->end = flags & 0x80;
    out->volume = flags & 0x3f;
    return true;
}

char rtp_event_digit(uint8_t event)
{
    static const char digits[] = "0123456789*#ABCDF"; /* RFC 4733 §3.2, 16 is flash */
    return event < sizeof digits - 1 ? digits[event] : 0;
}
