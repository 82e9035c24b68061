/* RTCP compound packets (RFC 3550 §6) and XR VoIP Metrics (RFC 3611 §4.7), built here
 * byte by byte from the RFCs' diagrams, and RFC 4733 telephone events. */
#include <criterion/criterion.h>
#include <string.h>

#include "decode/rtcp.h"
#include "decode/rtp.h"

struct buf {
    uint8_t b[512];
    size_t n;
};

static void u8(struct buf *b, unsigned v) { b->b[b->n++] = (uint8_t)v; }
static void u16(struct buf *b, unsigned v) { u8(b, v >> 8); u8(b, v); }
static void u32(struct buf *b, uint32_t v) { u16(b, v >> 16); u16(b, v & 0xffff); }

/* the common header: V=2, P, count, PT, length in 32-bit words minus one */
static void hdr(struct buf *b, bool pad, unsigned count, unsigned pt, unsigned words)
{
    u8(b, 0x80 | (pad ? 0x20 : 0) | count);
    u8(b, pt);
    u16(b, words);
}

static void report_block(struct buf *b, uint32_t ssrc, unsigned frac, int32_t cum, uint32_t jit,
                         uint32_t lsr, uint32_t dlsr)
{
    u32(b, ssrc);
    u32(b, (uint32_t)frac << 24 | ((uint32_t)cum & 0xffffff));
    u32(b, 0x0001f00d); /* extended highest sequence number */
    u32(b, jit);
    u32(b, lsr);
    u32(b, dlsr);
}

Test(rtcp, sr_with_block_and_sdes)
{
    struct buf b = {0};
    hdr(&b, false, 1, 200, 12); /* SR: 6 words of sender info + 6 of one block */
    u32(&b, 0x11111111);
    u32(&b, 0xe0000001); u32(&b, 0x80000000); /* NTP */
    u32(&b, 160000); u32(&b, 500); u32(&b, 80000);
    report_block(&b, 0x22222222, 64, 12, 80, 0x00011234, 0x00008000);
    hdr(&b, false, 1, 202, 3); /* SDES: SSRC, CNAME "ab@x" (2+4), end, pad to 12 octets */
    u32(&b, 0x11111111);
    u8(&b, 1); u8(&b, 4); memcpy(b.b + b.n, "ab@x", 4); b.n += 4;
    u8(&b, 0); u8(&b, 0);
    struct rtcp_info in;
    cr_assert_eq(rtcp_parse(b.b, b.n, &in), RTCP_OK);
    cr_assert_eq(in.packets, 2);
    cr_assert(in.has_sr);
    cr_assert_eq(in.sr_ssrc, 0x11111111);
    cr_assert_eq(in.sr_ntp_msw, 0xe0000001);
    cr_assert_eq(in.sr_packets, 500);
    cr_assert_eq(in.sr_octets, 80000);
    cr_assert_eq(in.nreports, 1);
    cr_assert_eq(in.reports[0].reporter, 0x11111111);
    cr_assert_eq(in.reports[0].ssrc, 0x22222222);
    cr_assert_eq(in.reports[0].fraction_lost, 64);
    cr_assert_eq(in.reports[0].cumulative_lost, 12);
    cr_assert_eq(in.reports[0].jitter, 80);
    cr_assert_eq(in.reports[0].lsr, 0x00011234);
    cr_assert_eq(in.reports[0].dlsr, 0x00008000);
    cr_assert_eq(in.cname.n, 4);
    cr_assert(memcmp(in.cname.p, "ab@x", 4) == 0);
    cr_assert_eq(in.cname_ssrc, 0x11111111);
}

Test(rtcp, negative_cumulative_loss_is_24_bit_signed)
{
    struct buf b = {0};
    hdr(&b, false, 1, 201, 7);
    u32(&b, 0x33333333);
    report_block(&b, 0x44444444, 0, -3, 0, 0, 0);
    struct rtcp_info in;
    cr_assert_eq(rtcp_parse(b.b, b.n, &in), RTCP_OK);
    cr_assert_eq(in.reports[0].cumulative_lost, -3);
}

Test(rtcp, rr_bye_app_and_padding)
{
    struct buf b = {0};
    hdr(&b, false, 0, 201, 1); /* empty RR */
    u32(&b, 0x55555555);
    hdr(&b, false, 0, 204, 2); /* APP: SSRC, name */
    u32(&b, 0x55555555);
    memcpy(b.b + b.n, "TEST", 4); b.n += 4;
    hdr(&b, true, 2, 203, 3); /* BYE of two SSRCs, padded by 4 octets */
    u32(&b, 0x55555555);
    u32(&b, 0x66666666);
    u8(&b, 0); u8(&b, 0); u8(&b, 0); u8(&b, 4);
    struct rtcp_info in;
    cr_assert_eq(rtcp_parse(b.b, b.n, &in), RTCP_OK);
    cr_assert_eq(in.packets, 3);
    cr_assert_eq(in.nreports, 0);
    cr_assert_eq(in.app_packets, 1);
    cr_assert_eq(in.bye_ssrcs, 2);
    cr_assert_eq(in.bye_ssrc, 0x55555555);
}

Test(rtcp, xr_voip_metrics)
{
    struct buf b = {0};
    hdr(&b, false, 0, 207, 1 + 3 + 9); /* XR: SSRC, a 3-word RRT-like block, VoIP Metrics */
    u32(&b, 0x77777777);
    u8(&b, 4); u8(&b, 0); u16(&b, 2); u32(&b, 1); u32(&b, 2); /* RRT (skipped) */
    u8(&b, 7); u8(&b, 0); u16(&b, 8);
    u32(&b, 0x88888888);
    u8(&b, 13); u8(&b, 26); u8(&b, 128); u8(&b, 3); /* loss, discard, densities */
    u16(&b, 120); u16(&b, 4000);                    /* burst, gap durations */
    u16(&b, 85); u16(&b, 60);                       /* round trip, end system delay */
    u8(&b, 0xec); u8(&b, 0xb0); u8(&b, 127); u8(&b, 16); /* -20 dBm0, -80 dBm0, RERL, Gmin */
    u8(&b, 88); u8(&b, 127); u8(&b, 41); u8(&b, 40);     /* R, ext R, MOS-LQ, MOS-CQ */
    u8(&b, 0x80); u8(&b, 0); u16(&b, 40);                /* RX config, reserved, JB nominal */
    u16(&b, 80); u16(&b, 240);
    struct rtcp_info in;
    cr_assert_eq(rtcp_parse(b.b, b.n, &in), RTCP_OK);
    cr_assert_eq(in.xr_blocks, 2);
    cr_assert_eq(in.nvoip, 1);
    const struct rtcp_voip_metrics *m = &in.voip[0];
    cr_assert_eq(m->reporter, 0x77777777);
    cr_assert_eq(m->ssrc, 0x88888888);
    cr_assert_eq(m->loss_rate, 13);
    cr_assert_eq(m->discard_rate, 26);
    cr_assert_eq(m->burst_duration, 120);
    cr_assert_eq(m->gap_duration, 4000);
    cr_assert_eq(m->round_trip_delay, 85);
    cr_assert_eq(m->end_system_delay, 60);
    cr_assert_eq(m->signal_level, -20);
    cr_assert_eq(m->noise_level, -80);
    cr_assert_eq(m->r_factor, 88);
    cr_assert_eq(m->ext_r_factor, 127);
    cr_assert_eq(m->mos_lq, 41);
    cr_assert_eq(m->mos_cq, 40);
    cr_assert_eq(m->jb_nominal, 40);
    cr_assert_eq(m->jb_maximum, 80);
    cr_assert_eq(m->jb_abs_max, 240);
}

Test(rtcp, rejections_say_why)
{
    struct buf b = {0};
    hdr(&b, false, 1, 201, 7);
    u32(&b, 1);
    report_block(&b, 2, 0, 0, 0, 0, 0);
    struct rtcp_info in;
    cr_assert_eq(rtcp_parse(b.b, b.n - 1, &in), RTCP_TRUNCATED); /* length past the end */
    cr_assert_eq(rtcp_parse(b.b, 3, &in), RTCP_TRUNCATED);
    b.b[1] = 201;
    b.b[0] = 0x80 | 2; /* two blocks claimed, room for one */
    cr_assert_eq(rtcp_parse(b.b, b.n, &in), RTCP_BAD_LENGTH);
    b.b[0] = 0x40 | 1; /* version 1 */
    cr_assert_eq(rtcp_parse(b.b, b.n, &in), RTCP_BAD_VERSION);
    b.b[0] = 0xa0 | 1; /* padded, with a padding count of 0 */
    b.b[b.n - 1] = 0;
    cr_assert_eq(rtcp_parse(b.b, b.n, &in), RTCP_BAD_PADDING);
    b.b[b.n - 1] = 200; /* more padding than the packet */
    cr_assert_eq(rtcp_parse(b.b, b.n, &in), RTCP_BAD_PADDING);
    cr_assert_str_eq(rtcp_status_name(RTCP_BAD_PADDING), "rtcp_bad_padding");
}

Test(rtcp, many_blocks_are_counted_not_kept)
{
    struct buf b = {0};
    hdr(&b, false, 20, 201, 1 + 6 * 20);
    u32(&b, 1);
    static uint8_t big[4 + 4 + 24 * 20];
    memcpy(big, b.b, b.n);
    size_t n = b.n;
    for (int i = 0; i < 20; i++) {
        struct buf rb = {0};
        report_block(&rb, (uint32_t)i, 0, 0, 0, 0, 0);
        memcpy(big + n, rb.b, rb.n);
        n += rb.n;
    }
    struct rtcp_info in;
    cr_assert_eq(rtcp_parse(big, n, &in), RTCP_OK);
    cr_assert_eq(in.nreports, RTCP_MAX_REPORTS);
    cr_assert_eq(in.reports_dropped, 20 - RTCP_MAX_REPORTS);
}

Test(rtp_event, rfc4733_payload)
{
    /* RFC 4733 §2.3: event 5, E set, volume 10, duration 800 */
    const uint8_t p[] = {5, 0x80 | 10, 0x03, 0x20};
    struct rtp_event ev;
    cr_assert(rtp_event_parse(p, sizeof p, &ev));
    cr_assert_eq(ev.event, 5);
    cr_assert(ev.end);
    cr_assert_eq(ev.volume, 10);
    cr_assert_eq(ev.duration, 800);
    cr_assert_not(rtp_event_parse(p, 3, &ev));
    cr_assert_eq(rtp_event_digit(0), '0');
    cr_assert_eq(rtp_event_digit(10), '*');
    cr_assert_eq(rtp_event_digit(11), '#');
    cr_assert_eq(rtp_event_digit(15), 'D');
    cr_assert_eq(rtp_event_digit(16), 'F');
    cr_assert_eq(rtp_event_digit(17), 0);
}
