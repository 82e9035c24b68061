/* See hep_report.h. */
#include "hep_report.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>

static void set_u(json_t *o, const char *k, uint64_t v)
{
    json_object_set_new(o, k, json_integer((json_int_t)v));
}

/* o (consumed) as compact text; NULL: no memory. */
static char *dump(json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(o);
    return text;
}

/* RFC 3550 §6.4 and RFC 3611 §4.7 fields under the names Homer's RTCP JSON uses: the raw
 * values as sent (fraction of 256, jitter in timestamp units, LSR/DLSR as NTP words). */
char *render_hep_report_rtcp(const struct rtcp_info *info)
{
    json_t *o = json_object();
    uint32_t sender = info->has_sr ? info->sr_ssrc
                      : info->nreports ? info->reports[0].reporter
                                       : info->voip[0].reporter;
    set_u(o, "type", info->has_sr ? 200 : info->nreports ? 201 : 207);
    set_u(o, "ssrc", sender);
    set_u(o, "report_count", info->nreports);
    if (info->has_sr) {
        json_t *si = json_object();
        set_u(si, "ntp_timestamp_sec", info->sr_ntp_msw);
        set_u(si, "ntp_timestamp_usec", info->sr_ntp_lsw);
        set_u(si, "rtp_timestamp", info->sr_rtp_ts);
        set_u(si, "packets", info->sr_packets);
        set_u(si, "octets", info->sr_octets);
        json_object_set_new(o, "sender_information", si);
    } else {
        json_object_set_new(o, "sender_information", json_null());
    }
    json_t *rbs = json_array();
    for (unsigned i = 0; i < info->nreports; i++) {
        const struct rtcp_report *r = &info->reports[i];
        json_t *rb = json_object();
        set_u(rb, "source_ssrc", r->ssrc);
        set_u(rb, "fraction_lost", r->fraction_lost);
        json_object_set_new(rb, "packets_lost", json_integer(r->cumulative_lost));
        set_u(rb, "highest_seq_no", r->ext_max_seq);
        set_u(rb, "ia_jitter", r->jitter);
        set_u(rb, "lsr", r->lsr);
        set_u(rb, "dlsr", r->dlsr);
        json_array_append_new(rbs, rb);
    }
    json_object_set_new(o, "report_blocks", rbs);
    if (info->nvoip) {
        const struct rtcp_voip_metrics *v = &info->voip[0];
        json_t *xr = json_object();
        set_u(xr, "type", 7); /* RFC 3611 block type 7: VoIP Metrics */
        set_u(xr, "id", v->ssrc);
        set_u(xr, "fraction_lost", v->loss_rate);
        set_u(xr, "fraction_discard", v->discard_rate);
        set_u(xr, "burst_density", v->burst_density);
        set_u(xr, "gap_density", v->gap_density);
        set_u(xr, "burst_duration", v->burst_duration);
        set_u(xr, "gap_duration", v->gap_duration);
        set_u(xr, "round_trip_delay", v->round_trip_delay);
        set_u(xr, "end_system_delay", v->end_system_delay);
        json_object_set_new(xr, "signal_level", json_integer(v->signal_level));
        json_object_set_new(xr, "noise_level", json_integer(v->noise_level));
        set_u(xr, "rerl", v->rerl);
        set_u(xr, "gmin", v->gmin);
        set_u(xr, "r_factor", v->r_factor);
        set_u(xr, "ext_r_factor", v->ext_r_factor);
        set_u(xr, "mos_lq", v->mos_lq);
        set_u(xr, "mos_cq", v->mos_cq);
        set_u(xr, "rx_config", v->rx_config);
        set_u(xr, "jb_nominal", v->jb_nominal);
        set_u(xr, "jb_maximum", v->jb_maximum);
        set_u(xr, "jb_abs_max", v->jb_abs_max);
        json_object_set_new(o, "report_blocks_xr", xr);
    }
    return dump(o);
}

static json_t *real_or_null(bool have, double v, double unit)
{
    return have ? json_real(round(v / unit) * unit) : json_null();
}

/* The quality report of one stream, at its end: Homer's QoS report names (the upper-case
 * keys FreeSWITCH's hepipe sends and heplify-server reads: JITTER, PACKET_LOSS, MOS,
 * DELTA...) with our figures in our units: milliseconds, packets, MOS 1-5. */
char *render_hep_report_stream(const struct rtp_stream *st, const char *corr)
{
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], ssrc[16];
    bool timed = st->clock_rate && !st->events;
    inet_ntop(st->src.family == 6 ? AF_INET6 : AF_INET, st->src.b, src, sizeof src);
    inet_ntop(st->dst.family == 6 ? AF_INET6 : AF_INET, st->dst.b, dst, sizeof dst);
    snprintf(ssrc, sizeof ssrc, "0x%08x", st->ssrc);
    json_t *o = json_object();
    json_object_set_new(o, "CORRELATION_ID", corr ? json_string(corr) : json_null());
    json_object_set_new(o, "RTP_SIP_CALL_ID", corr ? json_string(corr) : json_null());
    json_object_set_new(o, "TYPE", json_string("HANGUP")); /* the stream's final report */
    set_u(o, "REPORT_TS", (uint64_t)(st->last_time / 1000)); /* µs since the epoch */
    json_object_set_new(o, "SRC_IP", json_string(src));
    set_u(o, "SRC_PORT", st->sport);
    json_object_set_new(o, "DST_IP", json_string(dst));
    set_u(o, "DST_PORT", st->dport);
    json_object_set_new(o, "SSRC", json_string(ssrc));
    set_u(o, "CODEC_PT", st->pt);
    json_object_set_new(o, "CODEC_NAME", st->codec[0] ? json_string(st->codec) : json_null());
    json_object_set_new(o, "CLOCK", st->clock_rate ? json_integer(st->clock_rate) : json_null());
    json_object_set_new(o, "PTIME", st->clock_rate && st->ptime_ts
                                        ? json_integer(st->ptime_ts * 1000 / st->clock_rate)
                                        : json_null());
    set_u(o, "START_TS", (uint64_t)(st->first_time / 1000));
    set_u(o, "TOTAL_PK", st->packets);
    json_object_set_new(o, "EXPECTED_PK", json_integer(st->expected));
    json_object_set_new(o, "PACKET_LOSS", json_integer(st->lost));
    set_u(o, "DUPLICATES", st->duplicates);
    set_u(o, "OUT_OF_ORDER", st->out_of_order);
    json_object_set_new(o, "DELTA", real_or_null(true, st->max_delta_ms, 0.001));
    json_object_set_new(o, "JITTER", real_or_null(timed, st->mean_jitter_ms, 0.001));
    json_object_set_new(o, "MAX_JITTER", real_or_null(timed, st->max_jitter_ms, 0.001));
    json_object_set_new(o, "MOS", real_or_null(st->mos >= 0, st->mos, 0.01));
    json_object_set_new(o, "R_FACTOR", real_or_null(st->r_factor >= 0, st->r_factor, 0.01));
    return dump(o);
}

