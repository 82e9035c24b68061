/* RTP and RTCP headers (RFC 3550 §5.1, §6.4): bounds-checked, zero-copy. */
#ifndef SIPSCOPE_RTP_H
#define SIPSCOPE_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rtp_hdr {
    bool marker, padding, extension;
    uint8_t pt;          /* payload type */
    uint8_t csrc_count;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    size_t header_len;   /* fixed header, CSRC list and extension */
    size_t payload_len;  /* without padding */
};

/* RTP version 2 with a payload type outside RTCP's range (RFC 5761 §4: 72-76 clash with
 * RTCP 200-204 on a muxed port) and lengths that hold together. */
bool rtp_parse(const uint8_t *p, size_t n, struct rtp_hdr *h);

/* Version 2 and a packet type 200-207 (SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR). */
bool rtcp_looks_like(const uint8_t *p, size_t n);

/* RFC 4733 §2.3 telephone-event payload. */
struct rtp_event {
    uint8_t event;              /* 0-9, 10 '*', 11 '#', 12-15 A-D, 16 flash, ... */
    bool end;
    uint8_t volume;             /* -dBm0 */
    uint16_t duration;          /* timestamp units since the event began */
};
bool rtp_event_parse(const uint8_t *p, size_t n, struct rtp_event *out);
/* The digit of a DTMF event ('0'-'9', '*', '#', 'A'-'D', 'F' for flash), or 0. */
char rtp_event_digit(uint8_t event);

#endif
