/* decode/sip: the parser against RFC 3261's grammar, with test vectors rewritten by us from
 * the cases of RFC 4475 (SIP torture tests). Each vector keeps the trick its RFC section
 * describes and states the outcome the RFC expects: valid messages parse with the right
 * fields; invalid ones come back flagged malformed (an analyzer reports them, it does not
 * drop them), with the fields that were readable. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "decode/sip.h"

static struct sip_msg m;

static enum sip_result parse(const char *s, unsigned flags)
{
    return sip_parse(s, strlen(s), flags, &m);
}

static struct sv hv(enum sip_hdr_id id)
{
    const struct sip_header *h = sip_hdr(&m, id);
    cr_assert_not_null(h, "header %d missing", id);
    return h->value;
}

#define expect_sv(v, s) cr_expect(sv_eq_cstr((v), (s)), "got '%.*s', want '%s'", (int)(v).n, (v).p, (s))

/* RFC 4475 §3.1.1.1 (wsinv): case-mixed and compact names, white space before colons,
 * folding inside Via, To, From, CSeq and Contact, unknown headers with odd values. */
static const char wsinv[] =
    "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\n"
    "TO :\r\n"
    " sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n"
    "from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n"
    "  ;\r\n"
    "  tag = 98asjd8\r\n"
    "MaX-fOrWaRdS: 0068\r\n"
    "Call-ID: wsinv.ndaksdj@192.0.2.1\r\n"
    "Content-Length   : 150\r\n"
    "cseq: 0009\r\n"
    "  INVITE\r\n"
    "Via  : SIP/2.0\r\n"
    "      /UDP\r\n"
    "    192.0.2.2;branch=390skdjuw\r\n"
    "s :\r\n"
    "NewFangledHeader:   newfangled value\r\n"
    " continued newfangled value\r\n"
    "UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n"
    "Content-Type: application/sdp\r\n"
    "Route:\r\n"
    " <sip:services.example.com;lr;unknownwith=value;unknown-no-value>\r\n"
    "v:  SIP/2.0/TCP spindle.example.com   ;\r\n"
    "  branch  =   z9hG4bK9ikj8  ,\r\n"
    " SIP/2.0/UDP  192.168.255.111   ; branch=\r\n"
    " z9hG4bK30239\r\n"
    "m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n"
    "      newvalue ;\r\n"
    "  secondparam ; q = 0.33\r\n"
    "\r\n"
    "v=0\r\n"
    "o=mhandley 29739 7272939 IN IP4 192.0.2.3\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.4\r\n"
    "t=0 0\r\n"
    "m=audio 49217 RTP/AVP 0 12\r\n"
    "m=video 3227 RTP/AVP 31\r\n"
    "a=rtpmap:31 LPC\r\n";

Test(sip_torture, wsinv_short_tortuous_invite)
{
    cr_assert_eq(parse(wsinv, 0), SIP_OK);
    cr_expect_not(m.malformed, "reason %d", m.error);
    cr_expect(m.is_request);
    expect_sv(m.method, "INVITE");
    expect_sv(m.uri, "sip:vivekg@chair-dnrc.example.com;unknownparam");
    expect_sv(hv(SIP_H_CALL_ID), "wsinv.ndaksdj@192.0.2.1");
    uint32_t num;
    struct sv meth;
    cr_assert(sip_cseq_parse(hv(SIP_H_CSEQ), &num, &meth), "CSeq folded over two lines");
    cr_expect_eq(num, 9);
    expect_sv(meth, "INVITE");
    uint64_t mf;
    cr_assert(sip_uint_parse(hv(SIP_H_MAX_FORWARDS), 255, &mf));
    cr_expect_eq(mf, 68);
    cr_expect_eq(m.content_length, 150);
    cr_expect_eq(m.body.n, 150);

    struct sip_nameaddr na;
    cr_assert(sip_nameaddr_parse(hv(SIP_H_TO), &na));
    expect_sv(na.uri, "sip:vivekg@chair-dnrc.example.com");
    bool found;
    expect_sv(sip_param(na.params, "tag", &found), "1918181833n");
    cr_assert(sip_nameaddr_parse(hv(SIP_H_FROM), &na));
    expect_sv(na.uri, "sip:jdrosen@example.com");
    expect_sv(sip_param(na.params, "tag", &found), "98asjd8");

    /* the first Via is folded across three lines; the compact 'v' holds two via-parms */
    struct sip_via via;
    cr_assert(sip_via_parse(hv(SIP_H_VIA), &via));
    expect_sv(via.transport, "UDP");
    expect_sv(via.host, "192.0.2.2");
    expect_sv(sip_param(via.params, "branch", &found), "390skdjuw");
    const struct sip_header *v2 = sip_hdr_next(&m, sip_hdr(&m, SIP_H_VIA));
    cr_assert_not_null(v2, "compact v: is a Via");
    struct sv rest = v2->value, item;
    cr_assert(sip_list_next(&rest, &item));
    cr_assert(sip_via_parse(item, &via));
    expect_sv(via.transport, "TCP");
    expect_sv(via.host, "spindle.example.com");
    expect_sv(sip_param(via.params, "branch", &found), "z9hG4bK9ikj8");
    cr_assert(sip_list_next(&rest, &item));
    cr_assert(sip_via_parse(item, &via));
    expect_sv(via.host, "192.168.255.111");
    expect_sv(sip_param(via.params, "branch", &found), "z9hG4bK30239");
    cr_expect_not(sip_list_next(&rest, &item));

    cr_assert(sip_nameaddr_parse(hv(SIP_H_CONTACT), &na), "compact m: is Contact");
    expect_sv(na.uri, "sip:jdrosen@example.com");
    expect_sv(sip_param(na.params, "q", &found), "0.33");
    sip_param(na.params, "secondparam", &found);
    cr_expect(found);

    cr_expect_not_null(sip_hdr(&m, SIP_H_SUBJECT), "compact s: with an empty value");
    const struct sip_header *nf = sip_hdr_by_name(&m, sv_cstr("newfangledheader"));
    cr_assert_not_null(nf);
    char buf[128];
    size_t n = sip_unfold(nf->value, buf, sizeof buf);
    cr_expect_eq(n, strlen("newfangled value continued newfangled value"));
    cr_expect(!memcmp(buf, "newfangled value continued newfangled value", n));
}

/* §3.1.1.2 (intmeth): every token character in a method name and in header names. */
Test(sip_torture, intmeth_unusual_token_characters)
{
    const char *s =
        "!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+"
        "it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\r\n"
        "To: \"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,"
        "/;;*@example.com>\r\n"
        "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="
        "\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8\xd0\xb9\""
        ";tag=_token~1'+`*%!-.\r\n"
        "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\r\n"
        "CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~\r\n"
        "Max-Forwards: 255\r\n"
        "extensionHeader-!.%*+_`'~:\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb\r\n"
        "Content-Length: 0\r\n\r\n";
    /* the To display name holds NUL: feed the exact length */
    size_t len = 0;
    while (memcmp(s + len, "\r\n\r\n", 4) != 0)
        len++;
    len += 4;
    cr_assert_eq(sip_parse(s, len, 0, &m), SIP_OK);
    cr_expect_not(m.malformed, "reason %d", m.error);
    expect_sv(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
    expect_sv(hv(SIP_H_CALL_ID), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    cr_expect_not_null(sip_hdr_by_name(&m, sv_cstr("EXTENSIONHEADER-!.%*+_`'~")));
}

/* §3.1.1.6 (lwsdisp): no white space between display name and '<'. */
Test(sip_torture, lwsdisp_no_space_before_angle)
{
    struct sip_nameaddr na;
    cr_assert(sip_nameaddr_parse(sv_cstr("caller<sip:caller@example.com>;tag=323"), &na));
    expect_sv(na.display, "caller");
    expect_sv(na.uri, "sip:caller@example.com");
    bool f;
    expect_sv(sip_param(na.params, "tag", &f), "323");
}

/* §3.1.1.8 (dblreq): a datagram holding a second message after Content-Length's end:
 * the extra octets are not part of the message (RFC 3261 §18.3). */
Test(sip_torture, dblreq_extra_octets_after_body)
{
    const char *s = "REGISTER sip:example.com SIP/2.0\r\n"
                    "To: sip:j.user@example.com\r\nFrom: sip:j.user@example.com;tag=43251j3j324\r\n"
                    "Max-Forwards: 8\r\nI: dblreq.0ha0isnda977644900765@192.0.2.15\r\n"
                    "CSeq: 8 REGISTER\r\nVia: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234\r\n"
                    "Content-Length: 0\r\n\r\n"
                    "INVITE sip:joe@example.com SIP/2.0\r\nt: sip:joe@example.com\r\n"
                    "From: sip:caller@example.net;tag=141334\r\nMax-Forwards: 8\r\n"
                    "Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15\r\nCSeq: 8 INVITE\r\n"
                    "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234\r\n"
                    "Content-Type: application/sdp\r\n\r\nv=0\r\n";
    cr_assert_eq(parse(s, 0), SIP_OK);
    cr_expect_not(m.malformed);
    expect_sv(m.method, "REGISTER");
    cr_expect_eq(m.body.n, 0, "the INVITE behind is not the REGISTER's body");
    expect_sv(hv(SIP_H_CALL_ID), "dblreq.0ha0isnda977644900765@192.0.2.15");
}

/* §3.1.1.9 (semiuri): ';' inside the user part of a URI. */
Test(sip_torture, semiuri_semicolon_in_user)
{
    struct sip_uri u;
    cr_assert(sip_uri_parse(sv_cstr("sip:user;par=u%40example.net@example.com"), &u));
    expect_sv(u.user, "user;par=u%40example.net");
    expect_sv(u.host, "example.com");
}

/* §3.1.1.10 (transports): unknown and varied transports in Via. */
Test(sip_torture, transports_in_via)
{
    struct sip_via v;
    cr_assert(sip_via_parse(sv_cstr("SIP/2.0/SCTP t3.example.com;branch=z9hG4bKkdjuw"), &v));
    expect_sv(v.transport, "SCTP");
    cr_assert(sip_via_parse(sv_cstr("SIP/2.0/TLS t4.example.com:5061;branch=z9hG4bKkdjuw"), &v));
    expect_sv(v.transport, "TLS");
    cr_expect_eq(v.port, 5061);
    cr_assert(sip_via_parse(sv_cstr("SIP/2.0/UNKNOWN t5.example.com;branch=z9hG4bKkdjuw"), &v));
    expect_sv(v.transport, "UNKNOWN");
    cr_assert(sip_via_parse(sv_cstr("SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bKas3-111"), &v));
    expect_sv(v.host, "2001:db8::9:1");
    cr_expect_eq(v.port, 5070);
}

/* §3.1.1.12 (unreason) and §3.1.1.13 (noreason): UTF-8 reason phrase, empty reason. */
Test(sip_torture, reason_phrases)
{
    const char *tail = "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923\r\n"
                       "Call-ID: unreason.1234ksdfak3j2erwedfsASdf\r\nCSeq: 35 INVITE\r\n"
                       "From: sip:user@example.com;tag=11141343\r\nTo: sip:user@example.edu;tag=2229\r\n"
                       "Content-Length: 0\r\n\r\n";
    char buf[1024];
    snprintf(buf, sizeof buf, "SIP/2.0 200 = 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\xd0\xbe\r\n%s", tail);
    cr_assert_eq(parse(buf, 0), SIP_OK);
    cr_expect_not(m.malformed);
    cr_expect_eq(m.status, 200);
    expect_sv(m.reason, "= 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\xd0\xbe");
    snprintf(buf, sizeof buf, "SIP/2.0 100 \r\n%s", tail);
    cr_assert_eq(parse(buf, 0), SIP_OK);
    cr_expect_not(m.malformed);
    cr_expect_eq(m.status, 100);
    cr_expect_eq(m.reason.n, 0);
}

/* A message for the invalid cases: everything right but what the case breaks. */
static const char *msg_with(const char *start, const char *extra, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "%s\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1\r\nTo: <sip:a@example.com>\r\n"
             "From: <sip:b@example.com>;tag=1\r\nCall-ID: inv.case@192.0.2.2\r\n%s\r\n",
             start, extra);
    return buf;
}

static void expect_malformed(const char *start, const char *extra, enum decode_reason why)
{
    char buf[2048];
    cr_assert_eq(parse(msg_with(start, extra, buf, sizeof buf), 0), SIP_OK, "%s", start);
    cr_expect(m.malformed, "%s / %s: not flagged", start, extra);
    cr_expect_eq(m.error, why, "%s / %s: reason %d, want %d", start, extra, m.error, why);
    /* the readable parts are still there for the report */
    expect_sv(hv(SIP_H_CALL_ID), "inv.case@192.0.2.2");
}

/* §3.1.2.2 (clerr): Content-Length larger than the datagram. */
Test(sip_torture_invalid, clerr_content_length_too_large)
{
    expect_malformed("INVITE sip:user@example.com SIP/2.0", "CSeq: 1 INVITE\r\nContent-Length: 9999\r\n",
                     DR_SIP_BODY_TRUNCATED);
}

/* §3.1.2.3 (ncl): negative Content-Length. */
Test(sip_torture_invalid, ncl_negative_content_length)
{
    expect_malformed("INVITE sip:user@example.com SIP/2.0", "CSeq: 1 INVITE\r\nContent-Length: -999\r\n",
                     DR_SIP_BAD_CONTENT_LENGTH);
}

/* §3.1.2.4 (scalar02): CSeq past 2**32. */
Test(sip_torture_invalid, scalar02_overlarge_cseq)
{
    expect_malformed("REGISTER sip:example.com SIP/2.0", "CSeq: 36893488147419103232 REGISTER\r\n",
                     DR_SIP_BAD_CSEQ);
}

/* §3.1.2.5 (scalarlg): a status code of ten digits. */
Test(sip_torture_invalid, scalarlg_overlarge_status)
{
    expect_malformed("SIP/2.0 4294967301 better not break the receiver", "CSeq: 1 INVITE\r\n",
                     DR_SIP_BAD_START_LINE);
}

/* §3.1.2.6 (quotbal): unterminated quote in a display name. */
Test(sip_torture_invalid, quotbal_unbalanced_quote)
{
    struct sip_nameaddr na;
    cr_expect_not(sip_nameaddr_parse(sv_cstr("\"Mr. J. User <sip:j.user@example.com>"), &na));
}

/* §3.1.2.7 (ltgtruri): <> around the Request-URI. */
Test(sip_torture_invalid, ltgtruri_angle_brackets)
{
    expect_malformed("INVITE <sip:user@example.com> SIP/2.0", "CSeq: 1 INVITE\r\n",
                     DR_SIP_BAD_START_LINE);
}

/* §3.1.2.8 (lwsruri): white space inside the Request-URI. */
Test(sip_torture_invalid, lwsruri_space_in_uri)
{
    expect_malformed("INVITE sip:user@example.com; lr SIP/2.0", "CSeq: 1 INVITE\r\n",
                     DR_SIP_BAD_START_LINE);
}

/* §3.1.2.9 (lwsstart): several SP between Request-Line elements. */
Test(sip_torture_invalid, lwsstart_double_spaces)
{
    expect_malformed("INVITE  sip:user@example.com  SIP/2.0", "CSeq: 1 INVITE\r\n",
                     DR_SIP_BAD_START_LINE);
}

/* §3.1.2.10 (trws): white space after the SIP-Version. */
Test(sip_torture_invalid, trws_trailing_space)
{
    expect_malformed("OPTIONS sip:remote-target@example.com SIP/2.0  ", "CSeq: 1 OPTIONS\r\n",
                     DR_SIP_BAD_START_LINE);
}

/* §3.1.2.15 (mismatch01): Request-Line method and CSeq method differ. */
Test(sip_torture_invalid, mismatch01_cseq_method)
{
    expect_malformed("OPTIONS sip:user@example.com SIP/2.0", "CSeq: 8 INVITE\r\n",
                     DR_SIP_BAD_CSEQ);
}

/* §3.1.2.12 (insuf): required header fields missing. */
Test(sip_torture_invalid, insuf_missing_headers)
{
    const char *s = "INVITE sip:user@example.com SIP/2.0\r\nCSeq: 193942 INVITE\r\n"
                    "Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\n"
                    "Content-Length: 0\r\n\r\n";
    cr_assert_eq(parse(s, 0), SIP_OK);
    cr_expect(m.malformed);
    cr_expect_eq(m.error, DR_SIP_MISSING_HEADER);
    expect_sv(m.method, "INVITE");
}

/* §3.1.2.13 (badvers): an unknown SIP version is SIP, with its version visible (a UAS
 * answers 505); the parser does not pretend it is 2.0. */
Test(sip_torture_invalid, badvers_unknown_version)
{
    char buf[2048];
    cr_assert_eq(parse(msg_with("OPTIONS sip:t.watson@example.org SIP/7.0", "CSeq: 1 OPTIONS\r\n",
                                buf, sizeof buf),
                       0),
                 SIP_OK);
    expect_sv(m.version, "SIP/7.0");
}

/* ---- beyond RFC 4475 ------------------------------------------------------------------ */

Test(sip, not_sip_is_not_sip)
{
    cr_expect_eq(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0), SIP_NOT_SIP);
    cr_expect_eq(parse("\x80\x08\x12\x34 binary rtp", 0), SIP_NOT_SIP);
    cr_expect_eq(parse("", 0), SIP_NOT_SIP);
    cr_expect_not(sip_looks_like("HTTP/1.1 200 OK\r\n", 17));
    cr_expect(sip_looks_like("SIP/2.0 180 Ringing\r\n", 21));
    cr_expect(sip_looks_like("BYE sip:a@b SIP/2.0\r\n", 21));
}

/* Found by fuzz_tcp: an empty WebSocket message reached the parser as (NULL, 0). */
Test(sip, empty_input_without_a_buffer)
{
    cr_expect_eq(sip_parse(NULL, 0, 0, &m), SIP_NOT_SIP);
    cr_expect_eq(sip_parse(NULL, 0, SIP_FRAME_STREAM, &m), SIP_INCOMPLETE);
    cr_expect_eq(m.len, 0);
}

/* Found by fuzz_sip: helpers met views with no pointer ("Contact: *" has no parameters)
 * and did NULL + 0. Each must answer "nothing" instead. */
Test(sip, helpers_accept_null_views)
{
    static const char crash[] = "SIP/2.0 2VO0\n\0\0RRt\x1d: *\r\n\r\n";
    cr_assert_eq(sip_parse(crash, sizeof crash - 1, 0, &m), SIP_OK);
    struct sip_nameaddr na;
    cr_assert(sip_nameaddr_parse(sv_cstr("*"), &na));
    cr_expect(na.star);
    bool f = true;
    cr_expect(sv_is_null(sip_param(na.params, "tag", &f)) && !f);
    struct sip_uri u;
    struct sip_via v;
    uint32_t num;
    uint64_t x;
    struct sv meth, rest = SV_NULL, item;
    cr_expect_not(sip_uri_parse(SV_NULL, &u));
    cr_expect_not(sip_via_parse(SV_NULL, &v));
    cr_expect_not(sip_nameaddr_parse(SV_NULL, &na));
    cr_expect_not(sip_cseq_parse(SV_NULL, &num, &meth));
    cr_expect_not(sip_uint_parse(SV_NULL, 10, &x));
    cr_expect_not(sip_list_next(&rest, &item));
    cr_expect(sv_is_null(sip_param(SV_NULL, "x", &f)) && !f);
    cr_expect(sv_is_null(sip_auth_param(SV_NULL, "realm", &f)) && !f);
    char buf[4];
    cr_expect_eq(sip_unfold(SV_NULL, buf, sizeof buf), 0);
}

Test(sip, stream_framing_by_content_length)
{
    const char *two = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
                      "To: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\nCall-ID: one\r\nCSeq: 1 OPTIONS\r\n"
                      "Content-Length: 4\r\n\r\nbody"
                      "OPTIONS sip:a@b SIP/2.0\r\n";
    size_t len = strlen(two);
    cr_assert_eq(sip_parse(two, len, SIP_FRAME_STREAM, &m), SIP_OK);
    cr_expect_eq(m.len, len - strlen("OPTIONS sip:a@b SIP/2.0\r\n"));
    expect_sv(m.body, "body");
    /* the second message has only begun */
    cr_expect_eq(sip_parse(two + m.len, len - m.len, SIP_FRAME_STREAM, &m), SIP_INCOMPLETE);
    /* a body not all there yet */
    cr_expect_eq(sip_parse(two, len - strlen("OPTIONS sip:a@b SIP/2.0\r\n") - 2,
                           SIP_FRAME_STREAM, &m),
                 SIP_INCOMPLETE);
}

Test(sip, bare_lf_line_ends_and_leading_crlf)
{
    const char *s = "\r\n\r\nSIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:a@b>;tag=9\n"
                    "From: <sip:c@d>;tag=1\nCall-ID: lf\nCSeq: 2 BYE\nContent-Length: 0\n\n";
    cr_assert_eq(parse(s, 0), SIP_OK);
    cr_expect_not(m.malformed);
    cr_expect_eq(m.status, 200);
    expect_sv(hv(SIP_H_CALL_ID), "lf");
}

Test(sip, too_many_headers_keeps_what_fits)
{
    static char buf[SIP_MAX_HEADERS * 16 + 1024];
    size_t o = (size_t)snprintf(buf, sizeof buf,
                                "INVITE sip:a@b SIP/2.0\r\nCall-ID: many\r\nCSeq: 1 INVITE\r\n"
                                "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n"
                                "From: <sip:c@d>;tag=1\r\n");
    for (int i = 0; i < SIP_MAX_HEADERS + 10; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "X-H%d: %d\r\n", i, i);
    snprintf(buf + o, sizeof buf - o, "\r\n");
    cr_assert_eq(parse(buf, 0), SIP_OK);
    cr_expect(m.malformed);
    cr_expect_eq(m.error, DR_SIP_TOO_MANY_HEADERS);
    cr_expect_eq(m.nhdrs, SIP_MAX_HEADERS);
    cr_expect_eq(m.extra_hdrs, 15);
    expect_sv(hv(SIP_H_CALL_ID), "many");
}

Test(sip, uri_parts)
{
    struct sip_uri u;
    cr_assert(sip_uri_parse(sv_cstr("sips:alice:secret@[2001:db8::1]:5061;transport=tls?x=y"), &u));
    expect_sv(u.scheme, "sips");
    expect_sv(u.user, "alice");
    expect_sv(u.host, "2001:db8::1");
    cr_expect_eq(u.port, 5061);
    bool f;
    expect_sv(sip_param(u.params, "transport", &f), "tls");
    cr_assert(sip_uri_parse(sv_cstr("sip:example.com"), &u));
    cr_expect(sv_is_null(u.user));
    cr_assert(sip_uri_parse(sv_cstr("tel:+1-201-555-0123;phone-context=x"), &u));
    expect_sv(u.user, "+1-201-555-0123");
    cr_expect_not(sip_uri_parse(sv_cstr("sip:user@host:99999"), &u), "port past 65535");
}

Test(sip, params)
{
    bool f;
    struct sv p = sv_cstr(";lr;Tag=ab12 ; received=10.0.0.1;rport;q=\"0.5\"");
    expect_sv(sip_param(p, "tag", &f), "ab12");
    cr_expect(f);
    sip_param(p, "lr", &f);
    cr_expect(f);
    struct sv v = sip_param(p, "rport", &f);
    cr_expect(f && v.n == 0);
    expect_sv(sip_param(p, "received", &f), "10.0.0.1");
    expect_sv(sip_param(p, "q", &f), "0.5");
    cr_expect(sv_is_null(sip_param(p, "branch", &f)) && !f);
}

Test(sip, list_split_honours_quotes_and_angles)
{
    struct sv rest = sv_cstr("\"a, b\" <sip:x@y;p=1,2>;q=1 , <sip:z@w>,sip:v@u"), it;
    cr_assert(sip_list_next(&rest, &it));
    expect_sv(it, "\"a, b\" <sip:x@y;p=1,2>;q=1");
    cr_assert(sip_list_next(&rest, &it));
    expect_sv(it, "<sip:z@w>");
    cr_assert(sip_list_next(&rest, &it));
    expect_sv(it, "sip:v@u");
    cr_expect_not(sip_list_next(&rest, &it));
}

/* Challenge and credentials shaped like RFC 3261 §22 / RFC 2617 §3.5's examples. */
Test(sip, digest_challenge_and_credentials)
{
    struct sv ch = sv_cstr("Digest realm=\"atlanta.example.com\", qop=\"auth\",\r\n"
                           "  nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", opaque=\"\",\r\n"
                           "  stale=FALSE, algorithm=MD5");
    bool f;
    expect_sv(sip_auth_scheme(ch), "Digest");
    expect_sv(sip_auth_param(ch, "realm", &f), "atlanta.example.com");
    expect_sv(sip_auth_param(ch, "nonce", &f), "ea9c8e88df84f1cec4341ae6cbe5a359");
    expect_sv(sip_auth_param(ch, "STALE", &f), "FALSE");
    expect_sv(sip_auth_param(ch, "algorithm", &f), "MD5");
    struct sv op = sip_auth_param(ch, "opaque", &f);
    cr_expect(f && op.n == 0, "present but empty");
    cr_expect(sv_is_null(sip_auth_param(ch, "username", &f)) && !f);
    struct sv cr = sv_cstr("Digest username=\"bob\", realm=\"biloxi.example.com\", "
                           "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:bob@biloxi.example.com\", "
                           "qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
                           "response=\"6629fae49393a05397450978507c4ef1\"");
    expect_sv(sip_auth_param(cr, "username", &f), "bob");
    expect_sv(sip_auth_param(cr, "uri", &f), "sip:bob@biloxi.example.com");
    expect_sv(sip_auth_param(cr, "nc", &f), "00000001");
    expect_sv(sip_auth_param(cr, "response", &f), "6629fae49393a05397450978507c4ef1");
}

Test(sip, compact_forms_map_to_full_names)
{
    const char pairs[][2][20] = {{"i", "call-id"}, {"f", "from"}, {"t", "to"}, {"v", "via"},
                                 {"m", "contact"}, {"l", "content-length"}, {"c", "content-type"},
                                 {"k", "supported"}, {"s", "subject"}, {"o", "event"},
                                 {"e", "content-encoding"}, {"u", "allow-events"},
                                 {"x", "session-expires"}, {"r", "refer-to"}, {"b", "referred-by"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        enum sip_hdr_id a = sip_hdr_lookup(sv_cstr(pairs[i][0]));
        cr_expect_neq(a, SIP_H_OTHER, "%s", pairs[i][0]);
        cr_expect_eq(a, sip_hdr_lookup(sv_cstr(pairs[i][1])), "%s", pairs[i][0]);
    }
    cr_expect_eq(sip_hdr_lookup(sv_cstr("CALL-ID")), SIP_H_CALL_ID);
    cr_expect_eq(sip_hdr_lookup(sv_cstr("z")), SIP_H_OTHER);
}

/* Credentials are masked in place, lengths kept: the Digest response (RFC 2617 §3.5's
 * example values), any other scheme's credentials whole, folded lines too; challenges,
 * other fields and bodies stay as they were. */
Test(sip, credentials_masked_in_place)
{
    char msg[] = "REGISTER sip:biloxi.example.com SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds7\r\n"
                 "Authorization: Digest username=\"bob\", realm=\"biloxi.example.com\",\r\n"
                 " nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:biloxi.example.com\",\r\n"
                 " response=\"6629fae49393a05397450978507c4ef1\", qop=auth, nc=00000001\r\n"
                 "proxy-authorization : digest username=bob, response=0a4f113b, realm=x\r\n"
                 "WWW-Authenticate: Digest realm=\"x\", nonce=\"abc\"\r\n"
                 "Authorization-Info: nextnonce=\"47364c23432d2e131a5fb210812c\"\r\n"
                 "Content-Length: 31\r\n"
                 "\r\n"
                 "Authorization: Basic Ym9iOnNlY3JldA==";
    char want[] = "REGISTER sip:biloxi.example.com SIP/2.0\r\n"
                  "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds7\r\n"
                  "Authorization: Digest username=\"bob\", realm=\"biloxi.example.com\",\r\n"
                  " nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:biloxi.example.com\",\r\n"
                  " response=\"********************************\", qop=auth, nc=00000001\r\n"
                  "proxy-authorization : digest username=bob, response=********, realm=x\r\n"
                  "WWW-Authenticate: Digest realm=\"x\", nonce=\"abc\"\r\n"
                  "Authorization-Info: nextnonce=\"47364c23432d2e131a5fb210812c\"\r\n"
                  "Content-Length: 31\r\n"
                  "\r\n"
                  "Authorization: Basic Ym9iOnNlY3JldA==";
    cr_expect_eq(sip_mask_credentials(msg, strlen(msg)), 2);
    cr_expect_str_eq(msg, want);

    char basic[] = "SIP/2.0 200 OK\r\nAuthorization: Basic Ym9iOnNlY3JldA==\r\n\r\n";
    cr_expect_eq(sip_mask_credentials(basic, strlen(basic)), 1);
    cr_expect_str_eq(basic, "SIP/2.0 200 OK\r\nAuthorization: Basic ****************\r\n\r\n");
}

/* In a frame: binary headers before the text (here with line breaks and a blank line of
 * their own), and two messages in one TCP segment. */
Test(sip, credentials_masked_in_a_frame)
{
    char frame[] = "\x45\n\r\n\r\n\x11\x22"
                   "INVITE sip:a@b SIP/2.0\r\nProxy-Authorization: Digest response=\"abcd\"\r\n\r\n"
                   "ACK sip:a@b SIP/2.0\r\nAuthorization: Bearer eyJhbGciOi\r\n\r\n";
    size_t n = sizeof frame - 1;
    cr_expect_eq(sip_mask_credentials(frame, n), 2);
    cr_expect(memmem(frame, n, "response=\"****\"", 15) != NULL);
    cr_expect(memmem(frame, n, "Authorization: Bearer **********\r\n", 34) != NULL);
    cr_expect_eq(memcmp(frame, "\x45\n\r\n\r\n\x11\x22", 8), 0);
}

/* SDES keys (RFC 4568 §4's example offer): the key and salt of each inline: parameter are
 * masked, the lifetime and MKI kept, lengths kept; an "a=crypto:" that does not open a
 * line is not an attribute and stays; --show-credentials aside, the API and HEP copies
 * call this. */
Test(sip, sdes_keys_masked)
{
    char body[] = "INVITE sip:bob@example.com SIP/2.0\r\nContent-Length: 999\r\n\r\n"
                  "v=0\r\nm=audio 49170 RTP/SAVP 0\r\n"
                  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
                  "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n"
                  "a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
                  "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32;"
                  "inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJDREUw\r\n"
                  "s=see a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:KEEPTHIS\r\n";
    char want[] = "INVITE sip:bob@example.com SIP/2.0\r\nContent-Length: 999\r\n\r\n"
                  "v=0\r\nm=audio 49170 RTP/SAVP 0\r\n"
                  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
                  "inline:****************************************|2^20|1:32\r\n"
                  "a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
                  "inline:****************************************|2^20|1:32;"
                  "inline:****************************************\r\n"
                  "s=see a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:KEEPTHIS\r\n";
    cr_expect_eq(sip_mask_sdes(body, strlen(body)), 3);
    cr_expect_str_eq(body, want);
    char again[] = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
    cr_expect_eq(sip_mask_credentials(again, strlen(again)), 1);
    cr_expect(strstr(again, "PS1u") == NULL);
}
