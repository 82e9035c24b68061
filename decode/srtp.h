/* SRTP/SRTCP from SDES keys (RFC 4568): the a=crypto line's parser and a bounded table of
 * master keys by the media endpoint they protect, whose packets libsrtp2 unprotects. The keys
 * stay in decode/ (docs/design.md): nothing here hands key bytes out, and a key's bytes are
 * zeroed when its entry is dropped or the table freed. */
#ifndef SIPSCOPE_SRTP_H
#define SIPSCOPE_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* The suites we unprotect: RFC 4568 §6.2 (AES-CM with HMAC-SHA1) and RFC 7714 §14.2
 * (AEAD AES-GCM). Names as they appear on the a=crypto line. */
#define SDES_SUITES(X)                                                                             \
    X(AES_CM_128_HMAC_SHA1_80, "AES_CM_128_HMAC_SHA1_80", 16, 14)                                  \
    X(AES_CM_128_HMAC_SHA1_32, "AES_CM_128_HMAC_SHA1_32", 16, 14)                                  \
    X(AEAD_AES_128_GCM, "AEAD_AES_128_GCM", 16, 12)                                                \
    X(AEAD_AES_256_GCM, "AEAD_AES_256_GCM", 32, 12)

enum sdes_suite {
#define SDES_SUITE_ENUM(id, name, key, salt) SDES_##id,
    SDES_SUITES(SDES_SUITE_ENUM)
#undef SDES_SUITE_ENUM
        SDES__COUNT
};
const char *sdes_suite_name(enum sdes_suite s);

/* Why an a=crypto line gives no usable key. */
#define SDES_STATUSES(X)                                                                           \
    X(OK, "ok")                                                                                    \
    X(BAD, "bad")                 /* not "tag suite inline:..." */                                 \
    X(SUITE, "suite_unsupported") /* a suite not in SDES_SUITES */                                 \
    X(KEY_METHOD, "key_method")   /* a key method other than inline: */                            \
    X(BASE64, "bad_base64")                                                                        \
    X(KEY_LENGTH, "key_length")       /* key||salt not the suite's length */                       \
    X(MKI, "mki_unsupported")         /* an MKI: streams would carry it in every packet */         \
    X(SESSION_PARAM, "session_param") /* KDR, UNENCRYPTED_* and the like change the policy */

enum sdes_status {
#define SDES_STATUS_ENUM(id, name) SDES_ST_##id,
    SDES_STATUSES(SDES_STATUS_ENUM)
#undef SDES_STATUS_ENUM
        SDES_ST__COUNT
};
const char *sdes_status_name(enum sdes_status s);

#define SDES_MASTER_MAX 44 /* AES-256 key and a 12-byte salt */

/* One a=crypto line's key. Holds key material: zero it (sdes_key_wipe) when done. */
struct sdes_key {
    uint32_t tag;
    enum sdes_suite suite;
    uint8_t len; /* bytes of master */
    uint8_t master[SDES_MASTER_MAX];
};

/* The value of an a=crypto attribute (after "a=crypto:", RFC 4568 §9.1): tag, suite, the
 * first inline key-param (its lifetime ignored), and no session parameter but WSH. */
enum sdes_status sdes_parse(const char *p, size_t n, struct sdes_key *out);
void sdes_key_wipe(struct sdes_key *k);

/* What became of a packet given to srtp_table_unprotect. */
#define SRTP_RESULTS(X)                                                                            \
    X(OK, "ok")               /* decrypted and authenticated: out holds the plain packet */        \
    X(NO_KEY, "no_key")       /* no SRTP known for its destination */                              \
    X(KEYLESS, "keyless")     /* SRTP by its SDP, no usable key: measured from its header */       \
    X(AUTH_FAIL, "auth_fail") /* the authentication tag (or GCM tag) does not match */             \
    X(REPLAY, "replay")       /* a packet index already seen (or too old) */                       \
    X(BAD, "bad")             /* too short, too long, or libsrtp2 refused it otherwise */          \
    X(LIMIT, "limit")         /* no session could be made: the table's limit, or memory */

enum srtp_result {
#define SRTP_RESULT_ENUM(id, name) SRTP_##id,
    SRTP_RESULTS(SRTP_RESULT_ENUM)
#undef SRTP_RESULT_ENUM
        SRTP__COUNT
};
const char *srtp_result_name(enum srtp_result r);

#define SRTP_PACKET_MAX 2048 /* the largest packet unprotected (its scratch buffer) */

struct srtp_table;

/* At most max endpoints keyed; NULL when memory runs out. */
struct srtp_table *srtp_table_new(size_t max, uint64_t seed);
/* libsrtp2's process-wide crypto kernel, started once, on first use (the table starts it
 * with its first session); false when it would not start. Code that calls libsrtp2 itself
 * beside a table calls this first. */
bool srtp_kernel(void);
/* Zeroes every key and frees the libsrtp2 sessions. */
void srtp_table_free(struct srtp_table *t);
/* The key a sender uses for packets to addr:port (RFC 4568 §6.1: each side's a=crypto is
 * the key it sends with; its packets go to the other side's SDP endpoint). A new key for
 * an endpoint replaces the old one (a re-INVITE's); the oldest endpoint is dropped when
 * the table is full (counted). The key is copied; the caller wipes its own. */
bool srtp_table_add(struct srtp_table *t, const struct ip_addr *addr, uint16_t port,
                    const struct sdes_key *k);
/* Packets to addr:port are SRTP (its SDP said so) but no key opens them; a key already
 * kept stays. */
bool srtp_table_mark(struct srtp_table *t, const struct ip_addr *addr, uint16_t port);
/* Whether packets to addr:port have a key. */
bool srtp_table_has(const struct srtp_table *t, const struct ip_addr *addr, uint16_t port);
/* Unprotects an SRTP (rtcp false) or SRTCP packet sent to addr:port into the table's
 * scratch buffer: *out and *out_len are valid until the next call. The libsrtp2 session
 * is made on the endpoint's first packet and kept; nothing is allocated per packet after. */
enum srtp_result srtp_table_unprotect(struct srtp_table *t, const struct ip_addr *addr,
                                      uint16_t port, bool rtcp, const uint8_t *in, size_t len,
                                      const uint8_t **out, size_t *out_len);

struct srtp_stats {
    uint64_t keys;    /* endpoints keyed now */
    uint64_t evicted; /* endpoints dropped for the limit */
    uint64_t results[SRTP__COUNT];
};
void srtp_table_stats(const struct srtp_table *t, struct srtp_stats *out);
size_t srtp_table_bytes(const struct srtp_table *t);

/* Offers waiting for their answers (decode/srtp_sdp.c), to key the table from SIP. */
struct srtp_offers;
struct sip_msg;
struct srtp_offers *srtp_offers_new(size_t max, uint64_t seed);
void srtp_offers_free(struct srtp_offers *o);
/* A SIP message: its SDP's a=crypto lines, kept as an offer or paired with the offer it
 * answers, whose endpoints then get their keys in t (or are marked keyless). */
void srtp_offers_sip(struct srtp_offers *o, struct srtp_table *t, const struct sip_msg *msg);
/* a=crypto lines read, by what became of them */
void srtp_offers_errors(const struct srtp_offers *o, uint64_t out[SDES_ST__COUNT]);
size_t srtp_offers_bytes(const struct srtp_offers *o);

#endif
