/* The SDES key parser and the SRTP table (decode/srtp.c), against RFC 4568's own example
 * line and against libsrtp2 as the sender: packets protected by libsrtp2 from raw key bytes
 * (not through our parser) must come back byte for byte, for every suite, RTP and RTCP; a
 * wrong key must be an authentication failure. The base64 strings were written by Python's
 * base64 module from the same key bytes as key_bytes() makes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "decode/sip.h"
#include "decode/srtp.h"

#define B64_30       "CzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8"
#define B64_28       "CzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8g=="
#define B64_44       "CzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYar0PUaP2SJrtP4HUI="
#define B64_30_WRONG "DDFWe6DF6g80WX6jyO0SN1yBpsvwFTpfhKnO8xg9" /* (i*37+12) & 255 */

static void key_bytes(uint8_t *k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        k[i] = (uint8_t)(i * 37 + 11);
}

static enum sdes_status parse(const char *s, struct sdes_key *k)
{
    return sdes_parse(s, strlen(s), k);
}

/* RFC 4568 §4's example, whose key||salt Python's base64 decodes to these 30 bytes */
Test(sdes, rfc4568_example)
{
    static const uint8_t want[30] = {61,  45,  110, 64, 37, 94,  120, 33,  66, 106,
                                     117, 102, 114, 57, 41, 63,  44,  35,  53, 104,
                                     92,  96,  61,  38, 93, 123, 113, 105, 80, 81};
    struct sdes_key k;
    cr_assert_eq(
        parse("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20", &k),
        SDES_ST_OK);
    cr_assert_eq(k.tag, 1);
    cr_assert_eq(k.suite, SDES_AES_CM_128_HMAC_SHA1_80);
    cr_assert_eq(k.len, 30);
    cr_assert_arr_eq(k.master, want, 30);
    /* the same line as RFC 4568 §4 prints it, with its MKI: refused */
    cr_assert_eq(
        parse("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
              &k),
        SDES_ST_MKI);
    cr_assert_eq(k.len, 0, "a refused line leaves no key");
}

Test(sdes, suites_and_refusals)
{
    struct sdes_key k;
    cr_assert_eq(parse("2 AES_CM_128_HMAC_SHA1_32 inline:" B64_30, &k), SDES_ST_OK);
    cr_assert_eq(k.suite, SDES_AES_CM_128_HMAC_SHA1_32);
    cr_assert_eq(k.tag, 2);
    cr_assert_eq(parse("3 AEAD_AES_128_GCM inline:" B64_28, &k), SDES_ST_OK);
    cr_assert_eq(k.len, 28);
    cr_assert_eq(parse("4 AEAD_AES_256_GCM inline:" B64_44 " WSH=64", &k), SDES_ST_OK);
    cr_assert_eq(k.len, 44);
    uint8_t want[44];
    key_bytes(want, 44);
    cr_assert_arr_eq(k.master, want, 44);
    cr_assert_eq(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" B64_28, &k), SDES_ST_KEY_LENGTH);
    cr_assert_eq(parse("1 AEAD_AES_256_GCM inline:" B64_30, &k), SDES_ST_KEY_LENGTH);
    cr_assert_eq(parse("1 F8_128_HMAC_SHA1_80 inline:" B64_30, &k), SDES_ST_SUITE);
    cr_assert_eq(parse("1 AES_CM_128_HMAC_SHA1_80 uri:http://x" B64_30, &k), SDES_ST_KEY_METHOD);
    cr_assert_eq(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" B64_30 " KDR=1", &k),
                 SDES_ST_SESSION_PARAM);
    cr_assert_eq(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" B64_30 " UNENCRYPTED_SRTP", &k),
                 SDES_ST_SESSION_PARAM);
    cr_assert_eq(
        parse("1 AES_CM_128_HMAC_SHA1_80 inline:CzBV*p/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8", &k),
        SDES_ST_BASE64);
    cr_assert_eq(parse("x AES_CM_128_HMAC_SHA1_80 inline:" B64_30, &k), SDES_ST_BAD);
    cr_assert_eq(parse("1234567890 AES_CM_128_HMAC_SHA1_80 inline:" B64_30, &k), SDES_ST_BAD);
    cr_assert_eq(parse("1 AES_CM_128_HMAC_SHA1_80", &k), SDES_ST_BAD);
}

/* libsrtp2 as the sender: a session for sending from the raw key bytes (after a table is
 * made, which started libsrtp2) */
static srtp_t sender(enum sdes_suite s, size_t key_len)
{
    static uint8_t key[44];
    key_bytes(key, key_len);
    srtp_policy_t p;
    memset(&p, 0, sizeof p);
    switch (s) {
    case SDES_AES_CM_128_HMAC_SHA1_32:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
        break;
    case SDES_AEAD_AES_128_GCM:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
        break;
    case SDES_AEAD_AES_256_GCM:
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtcp);
        break;
    default:
        srtp_crypto_policy_set_rtp_default(&p.rtp);
        srtp_crypto_policy_set_rtcp_default(&p.rtcp);
    }
    p.ssrc.type = ssrc_any_outbound;
    p.key = key;
    srtp_t out = NULL;
    cr_assert(srtp_kernel());
    cr_assert_eq(srtp_create(&out, &p), srtp_err_status_ok);
    return out;
}

static size_t rtp_packet(uint8_t *b, uint16_t seq)
{
    static const uint8_t hdr[12] = {0x80, 0x00, 0, 0, 0, 0, 0x01, 0x40, 0x12, 0x34, 0x56, 0x78};
    memcpy(b, hdr, 12);
    b[2] = (uint8_t)(seq >> 8), b[3] = (uint8_t)seq;
    for (int i = 0; i < 160; i++)
        b[12 + i] = (uint8_t)(0xd5 ^ i ^ seq);
    return 172;
}

static void round_trip(const char *line, enum sdes_suite suite, size_t key_len)
{
    struct sdes_key k;
    cr_assert_eq(parse(line, &k), SDES_ST_OK);
    struct srtp_table *t = srtp_table_new(4, 1);
    cr_assert(t);
    struct ip_addr a = {.family = 4, .b = {127, 0, 0, 1}},
                   other = {.family = 4, .b = {127, 0, 0, 2}};
    cr_assert(srtp_table_add(t, &a, 40000, &k));
    sdes_key_wipe(&k);
    srtp_t tx = sender(suite, key_len);
    for (uint16_t seq = 100; seq < 110; seq++) {
        uint8_t plain[256], wire[256];
        size_t n = rtp_packet(plain, seq);
        memcpy(wire, plain, n);
        int len = (int)n;
        cr_assert_eq(srtp_protect(tx, wire, &len), srtp_err_status_ok);
        cr_assert_gt((size_t)len, n, "libsrtp2 added its tag");
        const uint8_t *out;
        size_t out_len;
        cr_assert_eq(
            srtp_table_unprotect(t, &other, 40000, false, wire, (size_t)len, &out, &out_len),
            SRTP_NO_KEY);
        cr_assert_eq(srtp_table_unprotect(t, &a, 40000, false, wire, (size_t)len, &out, &out_len),
                     SRTP_OK, "%s seq %u", sdes_suite_name(suite), seq);
        cr_assert_eq(out_len, n);
        cr_assert_arr_eq(out, plain, n);
        /* the same packet again is a replay, not a second packet */
        cr_assert_eq(srtp_table_unprotect(t, &a, 40000, false, wire, (size_t)len, &out, &out_len),
                     SRTP_REPLAY);
    }
    /* SRTCP: a receiver report from the same SSRC to the RTP port + 1 */
    uint8_t rr[64] = {0x80, 201, 0, 1, 0x12, 0x34, 0x56, 0x78}, wire[128];
    memcpy(wire, rr, 8);
    int len = 8;
    cr_assert_eq(srtp_protect_rtcp(tx, wire, &len), srtp_err_status_ok);
    const uint8_t *out;
    size_t out_len;
    cr_assert_eq(srtp_table_unprotect(t, &a, 40001, true, wire, (size_t)len, &out, &out_len),
                 SRTP_OK);
    cr_assert_eq(out_len, 8);
    cr_assert_arr_eq(out, rr, 8);
    struct srtp_stats st;
    srtp_table_stats(t, &st);
    cr_assert_eq(st.results[SRTP_OK], 11);
    cr_assert_eq(st.results[SRTP_REPLAY], 10);
    cr_assert_eq(st.keys, 1);
    srtp_dealloc(tx);
    srtp_table_free(t);
}

Test(srtp, aes_cm_80)
{
    round_trip("1 AES_CM_128_HMAC_SHA1_80 inline:" B64_30 "|2^31", SDES_AES_CM_128_HMAC_SHA1_80,
               30);
}
Test(srtp, aes_cm_32)
{
    round_trip("1 AES_CM_128_HMAC_SHA1_32 inline:" B64_30, SDES_AES_CM_128_HMAC_SHA1_32, 30);
}
Test(srtp, gcm_128)
{
    round_trip("1 AEAD_AES_128_GCM inline:" B64_28, SDES_AEAD_AES_128_GCM, 28);
}
Test(srtp, gcm_256)
{
    round_trip("1 AEAD_AES_256_GCM inline:" B64_44, SDES_AEAD_AES_256_GCM, 44);
}

/* A key that is not the sender's: every packet an authentication failure, nothing handed out */
Test(srtp, wrong_key_fails_authentication)
{
    struct sdes_key k;
    cr_assert_eq(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" B64_30_WRONG, &k), SDES_ST_OK);
    struct srtp_table *t = srtp_table_new(4, 1);
    struct ip_addr a = {.family = 4, .b = {127, 0, 0, 1}};
    cr_assert(srtp_table_add(t, &a, 40000, &k));
    srtp_t tx = sender(SDES_AES_CM_128_HMAC_SHA1_80, 30);
    for (uint16_t seq = 1; seq <= 5; seq++) {
        uint8_t wire[256];
        int len = (int)rtp_packet(wire, seq);
        cr_assert_eq(srtp_protect(tx, wire, &len), srtp_err_status_ok);
        const uint8_t *out;
        size_t out_len = 99;
        cr_assert_eq(srtp_table_unprotect(t, &a, 40000, false, wire, (size_t)len, &out, &out_len),
                     SRTP_AUTH_FAIL);
        cr_assert_eq(out_len, 0);
    }
    struct srtp_stats st;
    srtp_table_stats(t, &st);
    cr_assert_eq(st.results[SRTP_AUTH_FAIL], 5);
    srtp_dealloc(tx);
    srtp_table_free(t);
}

/* The same key announced again (the 200 repeating the 183's answer) keeps the session: a
 * packet seen before is still a replay, not opened twice */
Test(srtp, same_key_again_keeps_session)
{
    struct sdes_key k;
    cr_assert_eq(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" B64_30, &k), SDES_ST_OK);
    struct srtp_table *t = srtp_table_new(4, 1);
    struct ip_addr a = {.family = 4, .b = {127, 0, 0, 1}};
    cr_assert(srtp_table_add(t, &a, 40000, &k));
    srtp_t tx = sender(SDES_AES_CM_128_HMAC_SHA1_80, 30);
    uint8_t wire[256];
    int len = (int)rtp_packet(wire, 7);
    cr_assert_eq(srtp_protect(tx, wire, &len), srtp_err_status_ok);
    const uint8_t *out;
    size_t out_len;
    cr_assert_eq(srtp_table_unprotect(t, &a, 40000, false, wire, (size_t)len, &out, &out_len),
                 SRTP_OK);
    cr_assert(srtp_table_add(t, &a, 40000, &k));
    cr_assert_eq(srtp_table_unprotect(t, &a, 40000, false, wire, (size_t)len, &out, &out_len),
                 SRTP_REPLAY);
    srtp_dealloc(tx);
    srtp_table_free(t);
}

/* The table is bounded: a third endpoint in a table of two drops the oldest */
Test(srtp, table_bounded)
{
    struct sdes_key k;
    cr_assert_eq(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" B64_30, &k), SDES_ST_OK);
    struct srtp_table *t = srtp_table_new(2, 1);
    struct ip_addr a = {.family = 4, .b = {127, 0, 0, 1}};
    cr_assert(srtp_table_add(t, &a, 1000, &k));
    cr_assert(srtp_table_add(t, &a, 1002, &k));
    cr_assert(srtp_table_add(t, &a, 1002, &k)); /* a re-key replaces, takes no slot */
    cr_assert(srtp_table_add(t, &a, 1004, &k));
    cr_assert_not(srtp_table_has(t, &a, 1000));
    cr_assert(srtp_table_has(t, &a, 1002));
    cr_assert(srtp_table_has(t, &a, 1004));
    struct srtp_stats st;
    srtp_table_stats(t, &st);
    cr_assert_eq(st.keys, 2);
    cr_assert_eq(st.evicted, 1);
    srtp_table_free(t);
}

/* Offer and answer through SIP (RFC 3264 with RFC 4568 §6.1): the offerer's key keys the
 * answerer's endpoint, the answerer's the offerer's; an answer whose line has an MKI leaves
 * both SRTP endpoints keyless, and packets to them are so reported */
static void sip_sdp(struct sip_msg *m, char *buf, size_t cap, const char *start, const char *ip,
                    int port, const char *crypto)
{
    char body[512];
    int bn = snprintf(body, sizeof body,
                      "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
                      "m=audio %d RTP/SAVP 0\r\na=crypto:%s\r\n",
                      ip, ip, port, crypto);
    int n = snprintf(buf, cap,
                     "%s\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
                     "To: <sip:b@x>\r\nCall-ID: srtp-test\r\nCSeq: 1 INVITE\r\n"
                     "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
                     start, bn, body);
    cr_assert_eq(sip_parse(buf, (size_t)n, 0, m), SIP_OK);
}

Test(srtp, offer_answer_keys_the_other_side)
{
    static struct sip_msg m;
    static char buf[1024];
    struct srtp_table *t = srtp_table_new(8, 1);
    struct srtp_offers *o = srtp_offers_new(4, 1);
    cr_assert(t && o);
    struct ip_addr a = {.family = 4, .b = {127, 0, 0, 11}}, b = {.family = 4, .b = {127, 0, 0, 12}};
    /* the offer lists two lines; the answer takes tag 2 */
    sip_sdp(&m, buf, sizeof buf, "INVITE sip:b@x SIP/2.0", "127.0.0.11", 30000,
            "1 AEAD_AES_128_GCM inline:" B64_28
            "\r\na=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" B64_30);
    srtp_offers_sip(o, t, &m);
    cr_assert_not(srtp_table_has(t, &a, 30000), "an offer alone keys nothing");
    sip_sdp(&m, buf, sizeof buf, "SIP/2.0 200 OK", "127.0.0.12", 40000,
            "2 AES_CM_128_HMAC_SHA1_80 inline:" B64_30_WRONG);
    srtp_offers_sip(o, t, &m);
    cr_assert(srtp_table_has(t, &a, 30000) && srtp_table_has(t, &b, 40000));
    /* the offerer (a) sends with its tag-2 key (B64_30) to b:40000 */
    srtp_t tx = sender(SDES_AES_CM_128_HMAC_SHA1_80, 30);
    uint8_t wire[256];
    int len = (int)rtp_packet(wire, 1);
    cr_assert_eq(srtp_protect(tx, wire, &len), srtp_err_status_ok);
    const uint8_t *out;
    size_t out_len;
    cr_assert_eq(srtp_table_unprotect(t, &b, 40000, false, wire, (size_t)len, &out, &out_len),
                 SRTP_OK);
    cr_assert_eq(srtp_table_unprotect(t, &a, 30000, false, wire, (size_t)len, &out, &out_len),
                 SRTP_AUTH_FAIL, "a:30000 holds the answerer's key, not the offerer's");
    srtp_dealloc(tx);

    /* a second call whose answer carries an MKI: both ends SRTP, neither keyed */
    struct ip_addr c = {.family = 4, .b = {127, 0, 0, 13}}, d = {.family = 4, .b = {127, 0, 0, 14}};
    sip_sdp(&m, buf, sizeof buf, "INVITE sip:b@x SIP/2.0", "127.0.0.13", 30000,
            "1 AES_CM_128_HMAC_SHA1_80 inline:" B64_30);
    memcpy(strstr(buf, "srtp-test"), "srtp-tesu", 9); /* another Call-ID */
    cr_assert_eq(sip_parse(buf, strlen(buf), 0, &m), SIP_OK);
    srtp_offers_sip(o, t, &m);
    sip_sdp(&m, buf, sizeof buf, "SIP/2.0 200 OK", "127.0.0.14", 40000,
            "1 AES_CM_128_HMAC_SHA1_80 inline:" B64_30 "|2^20|1:4");
    memcpy(strstr(buf, "srtp-test"), "srtp-tesu", 9);
    cr_assert_eq(sip_parse(buf, strlen(buf), 0, &m), SIP_OK);
    srtp_offers_sip(o, t, &m);
    cr_assert_not(srtp_table_has(t, &c, 30000));
    cr_assert_eq(srtp_table_unprotect(t, &c, 30000, false, wire, (size_t)len, &out, &out_len),
                 SRTP_KEYLESS);
    cr_assert_eq(srtp_table_unprotect(t, &d, 40001, true, wire, (size_t)len, &out, &out_len),
                 SRTP_KEYLESS, "its RTCP port too");
    uint64_t errs[SDES_ST__COUNT];
    srtp_offers_errors(o, errs);
    cr_assert_eq(errs[SDES_ST_MKI], 1);
    srtp_offers_free(o);
    srtp_table_free(t);
}
