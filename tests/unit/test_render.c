/* render/: the call id parser (docs/output.md's "call-N"), the UTF-8 policy (RFC 3629 §4's
 * ill-formed sequences become U+FFFD, one per byte), and the one message renderer that the
 * document and the API share: its "sdp" from a body written here, its "error" from the
 * decoder's reason for an unterminated header block (the generator's truth for the same
 * case, tests/gen/decode_cases.py case_truncated), and "raw" only when asked. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "render/ids.h"
#include "render/json.h"
#include "render/message.h"

static bool seq_of(const char *id, uint64_t *seq)
{
    return render_call_seq(id, strlen(id), seq);
}

Test(render, call_ids_round_trip_and_nothing_else_is_one)
{
    uint64_t seq = 0;
    char buf[RENDER_ID_LEN];
    cr_expect_str_eq(render_call_id(42, buf), "call-42");
    cr_expect_str_eq(render_stream_id(7, buf), "stream-7");
    cr_expect(seq_of("call-1", &seq) && seq == 1);
    cr_expect(seq_of("call-18446744073709551615", &seq) && seq == UINT64_MAX);
    cr_expect(seq_of(render_call_id(UINT64_MAX - 1, buf), &seq) && seq == UINT64_MAX - 1);
    const char *bad[] = {"call-0",   "call-07", "call-",   "call-1x",
                         "Call-1",   "call--1", "call-+1", "call-18446744073709551616",
                         "stream-1", "a@b",     ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_not(seq_of(bad[i], &seq), "'%s' taken for a call id", bad[i]);
    cr_expect_not(render_call_seq("call-12", 6, &seq) && seq != 1, "length is the caller's");
}

static char *dump(json_t *j)
{
    char *t = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(j);
    return t;
}

Test(render, utf8_policy_replaces_each_bad_byte_and_keeps_the_rest)
{
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } cases[] = {
        {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},                           /* valid: kept */
        {"a\0b", 3, "\"a\\u0000b\""},                                    /* NUL is UTF-8 */
        {"\xc0\x80", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},                 /* overlong NUL */
        {"\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* a surrogate */
        {"x\xf4\x90\x80\x80", 5,
         "\"x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* past U+10FFFF */
        {"\xe2\x82", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},           /* cut short */
        {"ok\xff", 3, "\"ok\xef\xbf\xbd\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = dump(render_textn(cases[i].in, cases[i].n));
        cr_expect_str_eq(t, cases[i].want, "case %zu", i);
        free(t);
    }
    char *t = dump(render_str_or_null(NULL));
    cr_expect_str_eq(t, "null");
    free(t);
}

static const char invite[] =
    "INVITE sip:bob@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
    "From: <sip:alice@example.com>;tag=1928301774\r\n"
    "To: <sip:bob@example.com>\r\n"
    "Call-ID: a84b4c76e66710\r\n \t@pc33\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 139\r\n\r\n"
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n";

static json_t *render(const char *text, size_t n, unsigned flags, struct sip_msg *m,
                      struct sdp *sdp)
{
    cr_assert_eq(sip_parse(text, n, 0, m), SIP_OK);
    struct render_message rm = {.frame = 3,
                                .time = 1700000000.25,
                                .src = "192.0.2.1:5060",
                                .dst = "192.0.2.2:5060",
                                .transport = "udp",
                                .call_seq = 9,
                                .raw = text,
                                .raw_len = n};
    struct render_message_buf buf;
    render_message_from_sip(&rm, m, &buf);
    return render_message_json(&rm, flags, sdp);
}

Test(render, message_fields_sdp_error_and_raw_by_flags)
{
    struct sip_msg *m = malloc(sizeof *m);
    struct sdp *sdp = malloc(sizeof *sdp);
    cr_assert(m && sdp);
    json_t *o = render(invite, strlen(invite), RENDER_MSG_SDP, m, sdp);
    cr_expect_str_eq(json_string_value(json_object_get(o, "method")), "INVITE");
    cr_expect(json_is_null(json_object_get(o, "status")));
    /* RFC 3261 §7.3.1: the folded line joined by one space */
    cr_expect_str_eq(json_string_value(json_object_get(o, "call_id")), "a84b4c76e66710 @pc33");
    cr_expect_str_eq(json_string_value(json_object_get(o, "cseq")), "314159 INVITE");
    cr_expect_str_eq(json_string_value(json_object_get(o, "call")), "call-9");
    cr_expect(json_is_false(json_object_get(o, "malformed")));
    cr_expect(json_is_null(json_object_get(o, "error")));
    cr_expect_null(json_object_get(o, "raw"), "raw only when asked");
    json_t *md = json_array_get(json_object_get(json_object_get(o, "sdp"), "media"), 0);
    cr_assert_not_null(md);
    cr_expect_eq(json_integer_value(json_object_get(md, "port")), 49170);
    cr_expect_str_eq(json_string_value(json_object_get(md, "addr")), "192.0.2.1");
    cr_expect_str_eq(json_string_value(json_object_get(md, "direction")), "sendonly");
    char *codecs = dump(json_incref(json_object_get(md, "codecs")));
    cr_expect_str_eq(codecs, "[\"PCMA\",\"telephone-event\"]"); /* 8: RFC 3551's static type */
    free(codecs);
    json_decref(o);

    /* the header block never ends: malformed, and why (the generator's name for it) */
    size_t cut = strstr(invite, "CSeq:") - invite;
    o = render(invite, cut, RENDER_MSG_SDP | RENDER_MSG_RAW, m, sdp);
    cr_expect(json_is_true(json_object_get(o, "malformed")));
    cr_expect_str_eq(json_string_value(json_object_get(o, "error")), "sip_headers_unterminated");
    cr_expect(json_is_null(json_object_get(o, "sdp")));
    cr_expect_eq(json_string_length(json_object_get(o, "raw")), cut);
    json_decref(o);
    free(m);
    free(sdp);
}
