/* DNS messages (RFC 1035 §4.1), for look-ups beside SIP: a call's wait before
 * ringing is often a slow SRV/NAPTR/A look-up (RFC 3263) that signaling tools cannot see.
 * dns_parse reads the header, the first question and the answers a SIP path needs: A,
 * AAAA, CNAME, SRV (RFC 2782) and NAPTR (RFC 3403). Names are decoded to dotted text,
 * following compression pointers (RFC 1035 §4.1.4) only backwards, so a pointer loop ends;
 * every byte is read through the bounded cursor. Over TCP a message has a two-byte length
 * in front (RFC 1035 §4.2.2); dns_parse takes the message after it. */
#ifndef SIPSCOPE_DNS_H
#define SIPSCOPE_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

#define DNS_NAME_MAX 256   /* dotted text, NUL included (RFC 1035: 255 octets on the wire) */
#define DNS_MAX_ANSWERS 16 /* kept per message; more are counted in nanswers_seen */

enum dns_type {
    DNS_A = 1, DNS_CNAME = 5, DNS_AAAA = 28, DNS_SRV = 33, DNS_NAPTR = 35
};

enum dns_rcode { DNS_NOERROR = 0, DNS_FORMERR = 1, DNS_SERVFAIL = 2, DNS_NXDOMAIN = 3 };

struct dns_rr {
    char name[DNS_NAME_MAX];
    uint16_t type, rclass;
    uint32_t ttl;
    struct ip_addr addr;         /* A, AAAA */
    char target[DNS_NAME_MAX];   /* CNAME; SRV target; NAPTR replacement */
    uint16_t priority, weight, port;   /* SRV */
    uint16_t order, preference;        /* NAPTR */
    char flags[16], service[64];       /* NAPTR ("S", "SIP+D2U"), cut to fit */
};

struct dns_msg {
    uint16_t id;
    bool response, truncated;
    uint8_t opcode, rcode;
    uint16_t qdcount, ancount, nscount, arcount;
    bool have_question;
    char qname[DNS_NAME_MAX];
    uint16_t qtype, qclass;
    struct dns_rr answers[DNS_MAX_ANSWERS];
    uint8_t nanswers;            /* kept, of the types above */
    uint16_t nanswers_seen;      /* answer records read, any type */
};

/* DR__COUNT when the message was read (answers of other types are skipped), else why not:
 * DR_DNS_TRUNCATED (it ends inside a record) or DR_DNS_BAD_NAME (a label or pointer that
 * breaks the rules). out is filled as far as it was read. */
enum decode_reason dns_parse(const uint8_t *p, size_t n, struct dns_msg *out);

/* "A", "SRV"... for the types above, NULL for others. */
const char *dns_type_name(uint16_t type);
/* The same, and "TYPE<n>" (RFC 3597) for the others, written into buf. */
const char *dns_type_label(uint16_t type, char *buf, size_t n);
/* "NOERROR", "NXDOMAIN"... (RFC 1035 §4.1.1, RFC 6895), "RCODE<n>" past the known. */
const char *dns_rcode_name(uint8_t rcode, char *buf, size_t n);

#endif
