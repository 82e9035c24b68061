/* SDP (RFC 4566) as SIP offers and answers use it (RFC 3264): origin, connection data at
 * session and media level (media overrides session), media lines with ports and formats,
 * rtpmap/fmtp/ptime/rtcp/rtcp-mux, direction attributes at both levels, and the marks
 * of SRTP (a=crypto, a=fingerprint, SAVP profiles). Zero-copy: views into the body.
 * Also finds the SDP inside a SIP body, multipart ones included (RFC 2046, as SIP-I
 * and SIP-T carry ISUP beside SDP). */
#ifndef SIPSCOPE_SDP_H
#define SIPSCOPE_SDP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/sv.h"
#include "decode.h"

#define SDP_MAX_MEDIA   16
#define SDP_MAX_FORMATS 24

enum sdp_direction { SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };
const char *sdp_direction_name(enum sdp_direction d);

struct sdp_format {
    uint8_t pt;
    struct sv encoding;  /* from a=rtpmap, else the RFC 3551 static name; SV_NULL unknown */
    uint32_t clock_rate; /* 0 unknown */
    uint8_t channels;
    struct sv fmtp;      /* a=fmtp parameters, SV_NULL when none */
};

struct sdp_media {
    struct sv media;         /* audio, video, image, application... */
    uint16_t port;           /* 0: the stream is rejected / disabled (RFC 3264 §6) */
    uint16_t nports;         /* "m=audio 49170/2": 2; else 1 */
    struct sv proto;         /* RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVPF, udptl... */
    struct sv formats;       /* the raw format list (T.38 "t38", etc.) */
    uint8_t nfmt;
    struct sv addr;          /* effective connection address (media c=, else session c=) */
    uint8_t family;          /* 4 or 6; 0 when no c= applies */
    uint16_t rtcp_port;      /* a=rtcp (RFC 3605); 0: port + 1 */
    struct sv rtcp_addr;     /* a=rtcp's address, SV_NULL when none */
    bool rtcp_mux;           /* RFC 5761 */
    uint16_t ptime;          /* ms, 0 when absent */
    enum sdp_direction dir;  /* effective: media attribute, else session, else sendrecv */
    bool srtp;               /* SAVP profile, a=crypto or a=fingerprint */
    /* last, and not cleared beyond nfmt: a description is parsed per message, and
     * clearing all of it (20 KB) was a fifth of an INVITE storm's time */
    struct sdp_format fmt[SDP_MAX_FORMATS]; /* RTP payload types in offer order */
};

struct sdp {
    struct sv origin_user;
    uint64_t sess_id, sess_version;
    struct sv origin_addr;
    struct sv addr;          /* session-level c= */
    uint8_t family;
    enum sdp_direction dir;  /* session-level direction (default sendrecv) */
    uint8_t nmedia;
    uint16_t extra_media;    /* m= lines past SDP_MAX_MEDIA, counted not kept */
    bool malformed;
    enum decode_reason error;
    struct sdp_media media[SDP_MAX_MEDIA]; /* last; entries past nmedia are not cleared */
};

/* Parses a session description. False when it is not SDP at all (no v=0 first); a
 * description with broken lines parses what it can and sets malformed. */
bool sdp_parse(const char *p, size_t n, struct sdp *out);

/* RFC 3551 static payload types: name and clock rate; false for dynamic or unassigned. */
bool sdp_static_payload(uint8_t pt, const char **name, uint32_t *clock_rate);

struct sip_msg;
/* The application/sdp part of a SIP body: the body itself, or a part of a multipart body
 * (nested up to a few levels). False when there is none; then *why (NULL: not asked) is
 * DR_SIP_MULTIPART_TOO_DEEP when a multipart went deeper than that, else DR__COUNT. */
bool sip_body_sdp(const struct sip_msg *m, struct sv *sdp, enum decode_reason *why);

#endif
