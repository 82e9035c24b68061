/* HEP, the Homer encapsulation protocol: HEPv3 (chunks) and HEPv2/v1 (fixed header), as
 * Kamailio, OpenSIPS, FreeSWITCH, heplify and Homer speak it. A HEP packet carries one
 * captured payload (SIP, RTCP, logs, QoS reports) with the addresses, ports and time of
 * the original capture. Zero-copy: views into the HEP packet. */
#ifndef SIPSCOPE_HEP_H
#define SIPSCOPE_HEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ptime.h"
#include "common/sv.h"
#include "decode.h"

enum hep_payload_type {
    HEP_PT_SIP = 1,
    HEP_PT_RTCP = 5,
    HEP_PT_JSON_QOS = 0x22, /* Homer's "RTCP-XR/QoS as JSON" reports */
    HEP_PT_LOG = 100,
};

struct hep_msg {
    uint8_t version;         /* 1, 2 or 3 */
    uint8_t family;          /* 4 or 6 */
    uint8_t ip_proto;        /* 17, 6, 132... of the original packet */
    struct ip_addr src, dst;
    uint16_t sport, dport;
    bool has_time;
    ptime_t time;            /* of the original capture */
    uint8_t payload_type;    /* enum hep_payload_type; v1/v2 carry SIP only */
    uint32_t capture_id;
    struct sv auth_key;      /* v3 chunk 14, SV_NULL when absent */
    struct sv correlation;   /* v3 chunk 17, SV_NULL when absent */
    struct sv node;          /* v3 chunk 19 (the HEP3 spec's "group id", which heplify and
                              * heplify-server fill with the agent's node name); SV_NULL
                              * when absent */
    const uint8_t *payload;  /* borrowed */
    size_t len;
};

enum hep_result {
    HEP_OK,
    HEP_NOT_HEP,    /* does not start like HEP */
    HEP_INCOMPLETE, /* a v3 packet longer than the bytes given (streams: wait) */
    HEP_BAD,        /* starts like HEP, cannot be read: *why says why */
};

/* Parses one HEP packet at p. On HEP_OK *used is its length (v3: the header's length; v1
 * and v2: all of n). */
enum hep_result hep_parse(const uint8_t *p, size_t n, struct hep_msg *h, size_t *used,
                          enum decode_reason *why);

/* Cheap test for a datagram: "HEP3", or a v1/v2 header that is self-consistent. */
bool hep_looks_like(const uint8_t *p, size_t n);

/* The other way: h as one HEPv3 packet into buf (cap bytes), the chunks in the order
 * Homer's agents write them (family, protocol, addresses, ports, time, payload type,
 * capture id, auth key when not SV_NULL, payload, correlation id and node name when not
 * SV_NULL); the
 * time as seconds and microseconds, of h->time. Returns its length, 0 when it does not
 * fit in cap or in HEPv3's 16-bit length. Reads h->version as 3 whatever it says. */
size_t hep_encode(const struct hep_msg *h, uint8_t *buf, size_t cap);

#endif
