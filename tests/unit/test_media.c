/* The media endpoint table (correlate/media.c): SDP puts an endpoint (RTP port and RTCP,
 * RFC 3550 §11: the next port up) under the call that announced it; a second call naming
 * the same endpoint takes it and keeps the first as sharing it; a call's end takes its
 * endpoints out again, so that memory follows the calls in progress and later media at an
 * old address does not join a call long gone. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "correlate/correlate_int.h"
#include "decode/sdp.h"

static struct sdp sdp; /* large: not on the stack */

static void announce(struct media_table *t, const char *text, uint64_t call, struct media_keys *k)
{
    uint64_t evicted = 0;
    cr_assert(sdp_parse(text, strlen(text), &sdp));
    media_from_sdp(t, &sdp, call, k, &evicted);
    cr_assert_eq(evicted, 0);
}

static bool lookup(struct media_table *t, const char *ip, uint16_t port, struct media_match *m)
{
    struct ip_addr a;
    cr_assert(media_addr_parse((struct sv){ip, strlen(ip)}, 4, &a));
    return media_lookup(t, &a, port, m);
}

static const char offer[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
                            "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
static const char answer[] = "v=0\r\no=- 2 2 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\n"
                             "t=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

Test(media, a_calls_end_takes_its_endpoints_out)
{
    struct media_table *t = media_table_new(64, 1);
    struct media_keys k1 = {0};
    struct media_match m;
    announce(t, offer, 1, &k1);
    announce(t, answer, 1, &k1);
    /* RTCP on the next port up is told by the RTP entry, not kept apart (issue 21) */
    cr_assert_eq(k1.n, 2, "RTP of both sides: %u", k1.n);
    cr_assert(lookup(t, "192.0.2.1", 4000, &m) && m.call_seq == 1 && !m.rtcp);
    cr_assert(lookup(t, "192.0.2.2", 5001, &m) && m.call_seq == 1 && m.rtcp);
    media_forget(t, &k1, 1);
    cr_expect_eq(k1.n, 0);
    cr_expect_null(k1.more);
    cr_expect_not(lookup(t, "192.0.2.1", 4000, &m));
    cr_expect_not(lookup(t, "192.0.2.1", 4001, &m));
    cr_expect_not(lookup(t, "192.0.2.2", 5000, &m));
    cr_expect_not(lookup(t, "192.0.2.2", 5001, &m));
    media_table_free(t);
}

Test(media, a_shared_endpoint_stays_with_the_call_still_going)
{
    /* a media server's port in two calls: the newer announcement wins, the older call
     * shares it; whichever ends first, the endpoint leads to the other one */
    struct media_table *t = media_table_new(64, 1);
    struct media_keys k1 = {0}, k2 = {0}, k3 = {0};
    struct media_match m;
    announce(t, offer, 1, &k1);
    announce(t, offer, 2, &k2);
    cr_assert(lookup(t, "192.0.2.1", 4000, &m) && m.call_seq == 2 && m.shared[0] == 1);
    media_forget(t, &k2, 2); /* the newer ends first: back to the older */
    cr_assert(lookup(t, "192.0.2.1", 4000, &m));
    cr_expect_eq(m.call_seq, 1);
    cr_expect_eq(m.shared[0], 0);
    announce(t, offer, 3, &k3);
    media_forget(t, &k1, 1); /* the older ends first: the newer keeps it, alone */
    cr_assert(lookup(t, "192.0.2.1", 4000, &m));
    cr_expect_eq(m.call_seq, 3);
    cr_expect_eq(m.shared[0], 0);
    media_forget(t, &k3, 3);
    cr_expect_not(lookup(t, "192.0.2.1", 4000, &m));
    media_table_free(t);
}

Test(media, an_rtcp_port_of_its_own_is_an_entry_of_its_own)
{
    /* a=rtcp (RFC 3605) elsewhere than the next port: looked up there, and not at the next
     * port up, which is nobody's */
    static const char rtcp[] = "v=0\r\no=- 3 3 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.3\r\n"
                               "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtcp:7001\r\n";
    struct media_table *t = media_table_new(64, 1);
    struct media_keys k = {0};
    struct media_match m;
    announce(t, rtcp, 9, &k);
    cr_expect_eq(k.n, 2);
    cr_expect(lookup(t, "192.0.2.3", 7001, &m) && m.call_seq == 9 && m.rtcp);
    cr_expect(lookup(t, "192.0.2.3", 6000, &m) && m.call_seq == 9 && !m.rtcp);
    cr_expect_not(lookup(t, "192.0.2.3", 6001, &m));
    media_forget(t, &k, 9);
    cr_expect_not(lookup(t, "192.0.2.3", 7001, &m));
    media_table_free(t);
}

/* Review of issue 21: the table keeps each (encoding name, clock rate) pair once; pairs that
 * no endpoint names any more make room, so 300 calls each offering a codec of its own and
 * ending do not leave a later call's dynamic codec without its name and rate. */
Test(media, codec_names_of_ended_calls_make_room)
{
    struct media_table *t = media_table_new(64, 1);
    char text[256];
    struct media_match m;
    for (unsigned call = 1; call <= 300; call++) {
        struct media_keys k = {0};
        snprintf(text, sizeof text,
                 "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
                 "t=0 0\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 x%u/%u\r\n", call, 1000 + call);
        announce(t, text, call, &k);
        cr_assert(lookup(t, "192.0.2.1", 4000, &m) && m.call_seq == call);
        char want[16];
        snprintf(want, sizeof want, "x%u", call);
        cr_assert_str_eq(m.codec[0], want, "call %u: codec %s", call, m.codec[0]);
        cr_assert_eq(m.rate[0], 1000 + call, "call %u: rate %u", call, m.rate[0]);
        media_forget(t, &k, call);
    }
    /* and an endpoint whose SDP changes its codec gives the old pair back */
    struct media_keys k = {0};
    for (unsigned n = 0; n < 300; n++) {
        snprintf(text, sizeof text,
                 "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
                 "t=0 0\r\nm=audio 4000 RTP/AVP 97\r\na=rtpmap:97 y%u/8000\r\n", n);
        announce(t, text, 1000, &k);
    }
    cr_assert(lookup(t, "192.0.2.1", 4000, &m));
    cr_expect_str_eq(m.codec[0], "y299");
    cr_expect_eq(m.rate[0], 8000);
    media_forget(t, &k, 1000);
    media_table_free(t);
}
