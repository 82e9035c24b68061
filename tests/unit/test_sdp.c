/* decode/sdp: session descriptions shaped like the examples of RFC 4566 §5 and RFC 3264
 * §10 (rewritten by us), the cases a monitor meets (hold, RTCP port and mux, SRTP, T.38,
 * rejected streams, IPv6), malformed lines, and SDP found inside multipart bodies. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "decode/sdp.h"
#include "decode/sip.h"

static struct sdp s;

#define expect_sv(v, str) \
    cr_expect(sv_eq_cstr((v), (str)), "got '%.*s', want '%s'", (int)(v).n, (v).p, (str))

static bool parse(const char *text) { return sdp_parse(text, strlen(text), &s); }

/* RFC 4566 §5's example: session-level c= with a TTL and session-level recvonly. */
Test(sdp, rfc4566_example_shape)
{
    cr_assert(parse("v=0\r\n"
                    "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n"
                    "s=SDP Seminar\r\ni=A Seminar on the session description protocol\r\n"
                    "u=http://www.example.com/seminars/sdp.pdf\r\ne=j.doe@example.com (Jane Doe)\r\n"
                    "c=IN IP4 224.2.17.12/127\r\nt=2873397496 2873404696\r\na=recvonly\r\n"
                    "m=audio 49170 RTP/AVP 0\r\nm=video 51372 RTP/AVP 99\r\n"
                    "a=rtpmap:99 h263-1998/90000\r\n"));
    cr_expect_not(s.malformed);
    expect_sv(s.origin_user, "jdoe");
    cr_expect_eq(s.sess_id, 2890844526ULL);
    cr_expect_eq(s.sess_version, 2890842807ULL);
    expect_sv(s.origin_addr, "10.47.16.5");
    cr_assert_eq(s.nmedia, 2);
    expect_sv(s.media[0].addr, "224.2.17.12"); /* the TTL is not part of the address */
    cr_expect_eq(s.media[0].family, 4);
    cr_expect_eq(s.media[0].port, 49170);
    cr_expect_eq(s.media[0].dir, SDP_RECVONLY, "session direction applies");
    cr_expect_eq(s.media[1].dir, SDP_RECVONLY);
    cr_assert_eq(s.media[0].nfmt, 1);
    expect_sv(s.media[0].fmt[0].encoding, "PCMU"); /* static type 0, RFC 3551 */
    cr_expect_eq(s.media[0].fmt[0].clock_rate, 8000);
    expect_sv(s.media[1].fmt[0].encoding, "h263-1998");
    cr_expect_eq(s.media[1].fmt[0].clock_rate, 90000);
}

/* RFC 3264 §10.1: an offer of two media, several codecs each, answered with one. */
Test(sdp, rfc3264_offer_and_answer_shape)
{
    cr_assert(parse("v=0\r\no=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\r\n"
                    "s=\r\nc=IN IP4 host.atlanta.example.com\r\nt=0 0\r\n"
                    "m=audio 49170 RTP/AVP 0 8 97\r\na=rtpmap:0 PCMU/8000\r\n"
                    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:97 iLBC/8000\r\n"
                    "m=video 51372 RTP/AVP 31 32\r\na=rtpmap:31 H261/90000\r\n"
                    "a=rtpmap:32 MPV/90000\r\n"));
    cr_expect_not(s.malformed);
    cr_assert_eq(s.nmedia, 2);
    cr_assert_eq(s.media[0].nfmt, 3);
    cr_expect_eq(s.media[0].fmt[2].pt, 97);
    expect_sv(s.media[0].fmt[2].encoding, "iLBC");
    expect_sv(s.media[0].addr, "host.atlanta.example.com");
    cr_expect_eq(s.media[0].dir, SDP_SENDRECV, "the default");
    cr_assert(parse("v=0\r\no=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com\r\n"
                    "s=\r\nc=IN IP4 host.biloxi.example.com\r\nt=0 0\r\n"
                    "m=audio 49174 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                    "m=video 0 RTP/AVP 31\r\n"));
    cr_expect_eq(s.media[0].port, 49174);
    cr_expect_eq(s.media[1].port, 0, "port 0: the stream is declined (RFC 3264 §6)");
}

/* Hold (RFC 3264 §8.4): media-level direction overrides session-level; c=0.0.0.0 as old
 * RFC 2543 hold still parses; a=rtcp (RFC 3605) and rtcp-mux (RFC 5761); ptime; fmtp;
 * telephone-event. */
Test(sdp, hold_rtcp_ptime_fmtp)
{
    cr_assert(parse("v=0\no=- 1 2 IN IP4 198.51.100.1\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\n"
                    "a=sendrecv\n"
                    "m=audio 4000 RTP/AVP 18 101\nc=IN IP4 198.51.100.7\na=sendonly\n"
                    "a=rtpmap:18 G729/8000\na=fmtp:18 annexb=no\n"
                    "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\na=ptime:30\n"
                    "a=rtcp:4005 IN IP4 198.51.100.8\n"
                    "m=audio 4010 RTP/AVP 0\na=rtcp-mux\na=inactive\n"));
    cr_expect_not(s.malformed, "LF-only line ends are read too");
    cr_assert_eq(s.nmedia, 2);
    struct sdp_media *a = &s.media[0], *b = &s.media[1];
    expect_sv(a->addr, "198.51.100.7");
    expect_sv(b->addr, "0.0.0.0");
    cr_expect_eq(a->dir, SDP_SENDONLY);
    cr_expect_eq(b->dir, SDP_INACTIVE);
    expect_sv(a->fmt[0].encoding, "G729");
    expect_sv(a->fmt[0].fmtp, "annexb=no");
    expect_sv(a->fmt[1].encoding, "telephone-event");
    expect_sv(a->fmt[1].fmtp, "0-16");
    cr_expect_eq(a->ptime, 30);
    cr_expect_eq(a->rtcp_port, 4005);
    expect_sv(a->rtcp_addr, "198.51.100.8");
    cr_expect(b->rtcp_mux);
    cr_expect_eq(b->rtcp_port, 0);
}

Test(sdp, srtp_t38_ipv6_and_opus)
{
    cr_assert(parse("v=0\r\no=- 7 7 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::2\r\nt=0 0\r\n"
                    "m=audio 5004 RTP/SAVP 111\r\na=rtpmap:111 opus/48000/2\r\n"
                    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"
                    "m=image 6000 udptl t38\r\na=T38FaxVersion:0\r\n"
                    "m=audio 5006 RTP/AVP 0\r\n"));
    cr_expect_not(s.malformed);
    cr_assert_eq(s.nmedia, 3);
    cr_expect_eq(s.media[0].family, 6);
    expect_sv(s.media[0].addr, "2001:db8::2");
    cr_expect(s.media[0].srtp);
    expect_sv(s.media[0].fmt[0].encoding, "opus");
    cr_expect_eq(s.media[0].fmt[0].clock_rate, 48000);
    cr_expect_eq(s.media[0].fmt[0].channels, 2);
    expect_sv(s.media[1].media, "image");
    expect_sv(s.media[1].proto, "udptl");
    expect_sv(s.media[1].formats, "t38");
    cr_expect_eq(s.media[1].nfmt, 0, "no RTP payload types in a udptl line");
    cr_expect_not(s.media[2].srtp);
}

Test(sdp, not_sdp_and_malformed)
{
    cr_expect_not(parse("hello"));
    cr_expect_not(parse(""));
    cr_expect_not(parse("o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n"), "v=0 must come first");
    cr_assert(parse("v=0\r\nthis is not a line\r\nm=audio 9 RTP/AVP 0\r\n"));
    cr_expect(s.malformed);
    cr_expect_eq(s.error, DR_SDP_BAD_LINE);
    cr_expect_eq(s.nmedia, 1, "what can be read is read");
    cr_assert(parse("v=0\r\nm=audio 70000 RTP/AVP 0\r\n"));
    cr_expect_eq(s.error, DR_SDP_BAD_MEDIA);
    cr_assert(parse("v=0\r\nm=audio 9 RTP/AVP 300\r\n"));
    cr_expect_eq(s.error, DR_SDP_BAD_MEDIA, "payload type past 127");
    cr_assert(parse("v=0\r\nc=IN IPX nowhere\r\n"));
    cr_expect_eq(s.error, DR_SDP_BAD_CONNECTION);
}

Test(sdp, too_many_media_lines_are_counted)
{
    static char buf[64 * 40];
    size_t o = (size_t)snprintf(buf, sizeof buf, "v=0\r\nc=IN IP4 192.0.2.1\r\n");
    for (int i = 0; i < SDP_MAX_MEDIA + 5; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "m=audio %d RTP/AVP 0\r\na=sendonly\r\n",
                              10000 + 2 * i);
    cr_assert(parse(buf));
    cr_expect_eq(s.nmedia, SDP_MAX_MEDIA);
    cr_expect_eq(s.extra_media, 5);
    cr_expect_eq(s.error, DR_SDP_TOO_MANY_MEDIA);
    cr_expect_eq(s.media[SDP_MAX_MEDIA - 1].port, 10000 + 2 * (SDP_MAX_MEDIA - 1));
}

static struct sip_msg m;

static const char *with_body(const char *ctype, const char *body, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "INVITE sip:+4930123@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
             "From: <sip:a@example.net>;tag=1\r\nTo: <sip:b@example.net>\r\nCall-ID: mp@1\r\n"
             "CSeq: 1 INVITE\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
             ctype, strlen(body), body);
    return buf;
}

/* A SIP-I INVITE (ISUP IAM beside SDP, multipart/mixed, RFC 3204 style). */
Test(sdp_body, multipart_mixed_with_isup)
{
    static char buf[4096];
    const char *body = "--unique-boundary-1\r\n"
                       "Content-Type: application/sdp\r\n\r\n"
                       "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
                       "m=audio 20000 RTP/AVP 8\r\n"
                       "\r\n--unique-boundary-1\r\n"
                       "Content-Type: application/ISUP;version=itu-t92+\r\n"
                       "Content-Disposition: signal;handling=optional\r\n\r\n"
                       "\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00\x00\x03\r\n"
                       "--unique-boundary-1--\r\n";
    with_body("multipart/mixed;boundary=unique-boundary-1", body, buf, sizeof buf);
    cr_assert_eq(sip_parse(buf, strlen(buf), 0, &m), SIP_OK);
    struct sv sdp;
    cr_assert(sip_body_sdp(&m, &sdp, NULL));
    cr_assert(sdp_parse(sdp.p, sdp.n, &s));
    cr_expect_eq(s.media[0].port, 20000);
    cr_expect(sdp.p[sdp.n - 1] == '\n' && sdp.p[sdp.n - 2] == '\r' && sdp.p[sdp.n - 3] == '8',
              "the CRLF before the delimiter belongs to the delimiter");
}

Test(sdp_body, quoted_boundary_nested_and_absent)
{
    static char buf[4096];
    const char *body = "preamble\r\n--outer\r\nContent-Type: multipart/alternative; boundary=\"in ner\"\r\n\r\n"
                       "--in ner\r\nContent-Type: text/plain\r\n\r\nno sdp here\r\n"
                       "--in ner\r\ncontent-type: Application/SDP\r\n\r\nv=0\r\nm=audio 3456 RTP/AVP 0\r\n"
                       "--in ner--\r\n--outer--\r\n";
    with_body("multipart/mixed; boundary=\"outer\"", body, buf, sizeof buf);
    cr_assert_eq(sip_parse(buf, strlen(buf), 0, &m), SIP_OK);
    struct sv sdp;
    cr_assert(sip_body_sdp(&m, &sdp, NULL), "nested multipart, quoted boundary with a space");
    cr_assert(sdp_parse(sdp.p, sdp.n, &s));
    cr_expect_eq(s.media[0].port, 3456);

    with_body("application/sdp", "v=0\r\nm=audio 1234 RTP/AVP 0\r\n", buf, sizeof buf);
    cr_assert_eq(sip_parse(buf, strlen(buf), 0, &m), SIP_OK);
    cr_assert(sip_body_sdp(&m, &sdp, NULL));

    with_body("application/isup", "\x01\x02", buf, sizeof buf);
    cr_assert_eq(sip_parse(buf, strlen(buf), 0, &m), SIP_OK);
    cr_expect_not(sip_body_sdp(&m, &sdp, NULL));

    with_body("multipart/mixed;boundary=x", "--x\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n", buf,
              sizeof buf);
    cr_assert_eq(sip_parse(buf, strlen(buf), 0, &m), SIP_OK);
    cr_expect(sip_body_sdp(&m, &sdp, NULL), "an unclosed last part still counts");
}

Test(sdp, static_payload_table)
{
    const char *name;
    uint32_t rate;
    cr_assert(sdp_static_payload(9, &name, &rate));
    cr_expect_str_eq(name, "G722");
    cr_expect_eq(rate, 8000, "RFC 3551 §4.5.2: G.722 uses 8000 though it samples at 16 kHz");
    cr_assert(sdp_static_payload(18, &name, &rate));
    cr_expect_str_eq(name, "G729");
    cr_expect_not(sdp_static_payload(96, &name, &rate), "dynamic");
    cr_expect_not(sdp_static_payload(2, &name, &rate), "unassigned since RFC 3551");
}

/* Multipart bodies are opened MULTIPART_MAX_DEPTH (4) deep: SIP-I nests two. Deeper, the
 * SDP is not looked for, and the reason says why (a thousand levels is an attack). */
Test(sdp, multipart_depth_limit_says_why)
{
    static char body[2048], nested[4096], buf[8192];
    struct sv sdp;
    enum decode_reason why;
    for (int depth = 1; depth <= 6; depth++) {
        snprintf(body, sizeof body, "v=0\r\nm=audio 1234 RTP/AVP 0\r\n");
        const char *ctype = "application/sdp";
        char types[8][64];
        for (int d = 0; d < depth; d++) {
            snprintf(nested, sizeof nested, "--b%d\r\nContent-Type: %s\r\n\r\n%s\r\n--b%d--\r\n", d,
                     ctype, body, d);
            cr_assert_lt(strlen(nested), sizeof body);
            memcpy(body, nested, strlen(nested) + 1);
            snprintf(types[d], sizeof types[d], "multipart/mixed;boundary=b%d", d);
            ctype = types[d];
        }
        with_body(ctype, body, buf, sizeof buf);
        cr_assert_eq(sip_parse(buf, strlen(buf), 0, &m), SIP_OK);
        bool found = sip_body_sdp(&m, &sdp, &why);
        cr_expect_eq(found, depth <= 4, "depth %d", depth);
        cr_expect_eq(why, depth <= 4 ? DR__COUNT : DR_SIP_MULTIPART_TOO_DEEP, "depth %d", depth);
    }
}
