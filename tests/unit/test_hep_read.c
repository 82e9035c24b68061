/* Reading a HEP agent's JSON reports (render/hep_read.c): Homer's RTCP JSON (as rtpengine
 * and heplify send it: the RFC 3550 §6.4 fields under Homer's names, raw units) and the
 * quality report's keys, each field from text written here by hand; and the refusals
 * that keep hostile text from becoming figures. */
#include <criterion/criterion.h>
#include <string.h>

#include "render/hep_read.h"

#define READ_RTCP(text, info) render_hep_read_rtcp(text, strlen(text), info)
#define READ_QOS(text, st)    render_hep_read_stream(text, strlen(text), st)

Test(hep_read, homer_rtcp_sender_report_with_a_block_and_voip_metrics)
{
    const char *t = "{\"type\":200,\"ssrc\":3735928559,\"report_count\":1,"
                    "\"sender_information\":{\"ntp_timestamp_sec\":3900000000,"
                    "\"ntp_timestamp_usec\":42,\"rtp_timestamp\":160,\"packets\":250,"
                    "\"octets\":40000},"
                    "\"report_blocks\":[{\"source_ssrc\":4660,\"fraction_lost\":25,"
                    "\"packets_lost\":-3,\"highest_seq_no\":70000,\"ia_jitter\":400,"
                    "\"lsr\":7,\"dlsr\":65536}],"
                    "\"report_blocks_xr\":{\"type\":7,\"id\":4660,\"fraction_lost\":8,"
                    "\"signal_level\":-20,\"mos_lq\":38,\"r_factor\":80}}";
    struct rtcp_info i;
    cr_assert(READ_RTCP(t, &i));
    cr_expect(i.has_sr);
    cr_expect_eq(i.sr_ssrc, 0xdeadbeefu);
    cr_expect_eq(i.sr_ntp_msw, 3900000000u);
    cr_expect_eq(i.sr_packets, 250);
    cr_expect_eq(i.sr_octets, 40000);
    cr_assert_eq(i.nreports, 1);
    cr_expect_eq(i.reports[0].reporter, 0xdeadbeefu);
    cr_expect_eq(i.reports[0].ssrc, 4660);
    cr_expect_eq(i.reports[0].fraction_lost, 25);
    cr_expect_eq(i.reports[0].cumulative_lost, -3); /* 24-bit signed (RFC 3550 §6.4.1) */
    cr_expect_eq(i.reports[0].ext_max_seq, 70000);
    cr_expect_eq(i.reports[0].jitter, 400);
    cr_expect_eq(i.reports[0].dlsr, 65536);
    cr_assert_eq(i.nvoip, 1);
    cr_expect_eq(i.voip[0].ssrc, 4660);
    cr_expect_eq(i.voip[0].mos_lq, 38);
    cr_expect_eq(i.voip[0].r_factor, 80);
    cr_expect_eq(i.voip[0].signal_level, -20);
    cr_expect_eq(i.voip[0].mos_cq, 127); /* not given: RFC 3611's "unavailable" */
}

Test(hep_read, homer_rtcp_refusals)
{
    struct rtcp_info i;
    cr_expect_not(READ_RTCP("[1]", &i), "not an object");
    cr_expect_not(READ_RTCP("{\"ssrc\":1,\"sender_information\":null}", &i), "says nothing");
    cr_expect_not(READ_RTCP("{\"ssrc\":\"1\",\"report_blocks\":[{\"source_ssrc\":2}]}", &i),
                  "ssrc a string");
    cr_expect_not(READ_RTCP("{\"ssrc\":4294967296,\"report_blocks\":[{\"source_ssrc\":2}]}", &i),
                  "ssrc beyond 32 bits");
    cr_expect_not(READ_RTCP("{\"ssrc\":1,\"report_blocks\":[{\"source_ssrc\":2,"
                            "\"packets_lost\":8388608}]}",
                            &i),
                  "cumulative loss beyond 24 bits");
    cr_expect_not(READ_RTCP("{\"ssrc\":1,\"report_blocks\":[{\"source_ssrc\":2,"
                            "\"fraction_lost\":256}]}",
                            &i),
                  "fraction beyond 8 bits");
    cr_expect_not(READ_RTCP("{\"ssrc\":1,\"type\":5,\"report_blocks\":[]}", &i), "not RTCP");
    cr_expect_not(READ_RTCP("{\"ssrc\":1,\"ssrc\":2,\"report_blocks\":[{\"source_ssrc\":2}]}", &i),
                  "a key twice");
}

Test(hep_read, quality_report_keys)
{
    const char *t = "{\"CORRELATION_ID\":\"abc\",\"SRC_IP\":\"2001:db8::1\",\"SRC_PORT\":4000,"
                    "\"DST_IP\":\"192.0.2.7\",\"DST_PORT\":5000,\"SSRC\":\"0x0000BEEF\","
                    "\"CODEC_PT\":8,\"CODEC_NAME\":\"PCMA\",\"CLOCK\":8000,\"TOTAL_PK\":500,"
                    "\"EXPECTED_PK\":503,\"PACKET_LOSS\":3,\"DUPLICATES\":1,\"OUT_OF_ORDER\":2,"
                    "\"DELTA\":61.5,\"JITTER\":1.5,\"MAX_JITTER\":4.25,\"MOS\":4.1,"
                    "\"R_FACTOR\":82.3,\"START_TS\":1700000000000000,"
                    "\"REPORT_TS\":1700000010500000}";
    struct rtp_stream st;
    memset(&st, 0, sizeof st);
    cr_assert(READ_QOS(t, &st));
    cr_expect_eq(st.src.family, 6);
    cr_expect_eq(st.sport, 4000);
    cr_expect_eq(st.dst.family, 4);
    cr_expect_eq(st.dst.b[3], 7);
    cr_expect_eq(st.ssrc, 0xbeef);
    cr_expect_eq(st.pt, 8);
    cr_expect_str_eq(st.codec, "PCMA");
    cr_expect_eq(st.clock_rate, 8000);
    cr_expect_eq(st.packets, 500);
    cr_expect_eq(st.expected, 503);
    cr_expect_eq(st.lost, 3);
    cr_expect_eq(st.duplicates, 1);
    cr_expect_eq(st.out_of_order, 2);
    cr_expect_float_eq(st.max_delta_ms, 61.5, 1e-9);
    cr_expect_float_eq(st.mean_jitter_ms, 1.5, 1e-9);
    cr_expect_float_eq(st.max_jitter_ms, 4.25, 1e-9);
    cr_expect_float_eq(st.mos, 4.1, 1e-9);
    cr_expect_float_eq(st.r_factor, 82.3, 1e-9);
    cr_expect_not(st.events);
    cr_expect_eq(st.first_time, 1700000000LL * PTIME_SEC);
    cr_expect_eq(st.last_time, 1700000010LL * PTIME_SEC + 500 * PTIME_MS);
}

Test(hep_read, quality_report_without_jitter_or_mos)
{
    struct rtp_stream st;
    memset(&st, 0, sizeof st);
    cr_assert(READ_QOS("{\"TOTAL_PK\":10,\"PACKET_LOSS\":2,\"JITTER\":null,\"MOS\":null}", &st));
    cr_expect_eq(st.expected, 12); /* RFC 3550 A.3: received + lost when not given */
    cr_expect(st.events, "no jitter: shown as null");
    cr_expect_lt(st.mos, 0);
    cr_expect_lt(st.r_factor, 0);
}

Test(hep_read, quality_report_refusals)
{
    struct rtp_stream st;
    memset(&st, 0, sizeof st);
    cr_expect_not(READ_QOS("{\"PACKET_LOSS\":2}", &st), "TOTAL_PK is required");
    cr_expect_not(READ_QOS("{\"TOTAL_PK\":-1}", &st), "negative packets");
    cr_expect_not(READ_QOS("{\"TOTAL_PK\":1e3}", &st), "packets not an integer");
    cr_expect_not(READ_QOS("{\"TOTAL_PK\":281474976710657}", &st), "beyond 2^48");
    cr_expect_not(READ_QOS("{\"TOTAL_PK\":1,\"MOS\":5.5}", &st), "MOS beyond 5");
    cr_expect_not(READ_QOS("{\"TOTAL_PK\":1,\"SRC_IP\":\"not an address\"}", &st), "bad address");
    cr_expect_not(READ_QOS("{\"TOTAL_PK\":1,\"SSRC\":\"1ffffffff\"}", &st),
                  "SSRC beyond 32 bits");
    cr_expect_not(READ_QOS("{\"TOTAL_PK\":1,\"CODEC_PT\":128}", &st), "payload type beyond 7 bits");
    cr_expect_not(READ_QOS("{\"TOTAL_PK\":1,\"CODEC_NAME\":\"a codec name far too long\"}", &st),
                  "codec name beyond its room");
    cr_expect_not(READ_QOS("{\"TOTAL_PK\":1", &st), "not JSON");
}
