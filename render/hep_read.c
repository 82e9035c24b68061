/* See hep_read.h. */
#include "hep_read.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A JSON integer in [lo, hi] (absent: *v untouched, true; present otherwise: false). */
static bool get_int(const json_t *o, const char *k, json_int_t lo, json_int_t hi, json_int_t *v)
{
    const json_t *j = json_object_get(o, k);
    if (!j || json_is_null(j)) return true;
    if (!json_is_integer(j) || json_integer_value(j) < lo || json_integer_value(j) > hi)
        return false;
    *v = json_integer_value(j);
    return true;
}

static bool get_u32(const json_t *o, const char *k, uint32_t *v)
{
    json_int_t x = *v;
    bool ok = get_int(o, k, 0, UINT32_MAX, &x);
    *v = (uint32_t)x;
    return ok;
}

static bool get_u8(const json_t *o, const char *k, uint8_t *v)
{
    json_int_t x = *v;
    bool ok = get_int(o, k, 0, UINT8_MAX, &x);
    *v = (uint8_t)x;
    return ok;
}

static bool get_u16(const json_t *o, const char *k, uint16_t *v)
{
    json_int_t x = *v;
    bool ok = get_int(o, k, 0, UINT16_MAX, &x);
    *v = (uint16_t)x;
    return ok;
}

/* A number (integer or real) in [lo, hi]; null or absent: *v untouched, *have false. */
static bool get_num(const json_t *o, const char *k, double lo, double hi, double *v, bool *have)
{
    const json_t *j = json_object_get(o, k);
    *have = false;
    if (!j || json_is_null(j)) return true;
    if (!json_is_number(j)) return false;
    double x = json_number_value(j);
    if (!isfinite(x) || x < lo || x > hi) return false;
    *v = x;
    *have = true;
    return true;
}

static json_t *load(const char *text, size_t n)
{
    json_error_t e;
    json_t *o = json_loadb(text, n, JSON_REJECT_DUPLICATES, &e);
    if (o && !json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* RFC 3550 §6.4.1 report block under Homer's names; cumulative loss is 24-bit signed. */
static bool read_block(const json_t *b, uint32_t reporter, struct rtcp_report *r)
{
    json_int_t lost = 0;
    memset(r, 0, sizeof *r);
    r->reporter = reporter;
    return json_is_object(b) && get_u32(b, "source_ssrc", &r->ssrc) &&
           get_u8(b, "fraction_lost", &r->fraction_lost) &&
           get_int(b, "packets_lost", -8388608, 8388607, &lost) &&
           get_u32(b, "highest_seq_no", &r->ext_max_seq) && get_u32(b, "ia_jitter", &r->jitter) &&
           get_u32(b, "lsr", &r->lsr) && get_u32(b, "dlsr", &r->dlsr) &&
           (r->cumulative_lost = (int32_t)lost, true);
}

/* RFC 3611 §4.7 VoIP Metrics under Homer's names; 127 (levels, R, MOS) is "unavailable". */
static bool read_xr(const json_t *x, uint32_t reporter, struct rtcp_voip_metrics *v)
{
    json_int_t sig = 127, noise = 127;
    memset(v, 0, sizeof *v);
    v->reporter = reporter;
    v->r_factor = v->ext_r_factor = v->mos_lq = v->mos_cq = 127;
    return json_is_object(x) && get_u32(x, "id", &v->ssrc) &&
           get_u8(x, "fraction_lost", &v->loss_rate) &&
           get_u8(x, "fraction_discard", &v->discard_rate) &&
           get_u8(x, "burst_density", &v->burst_density) &&
           get_u8(x, "gap_density", &v->gap_density) &&
           get_u16(x, "burst_duration", &v->burst_duration) &&
           get_u16(x, "gap_duration", &v->gap_duration) &&
           get_u16(x, "round_trip_delay", &v->round_trip_delay) &&
           get_u16(x, "end_system_delay", &v->end_system_delay) &&
           get_int(x, "signal_level", INT8_MIN, INT8_MAX, &sig) &&
           get_int(x, "noise_level", INT8_MIN, INT8_MAX, &noise) && get_u8(x, "rerl", &v->rerl) &&
           get_u8(x, "gmin", &v->gmin) && get_u8(x, "r_factor", &v->r_factor) &&
           get_u8(x, "ext_r_factor", &v->ext_r_factor) && get_u8(x, "mos_lq", &v->mos_lq) &&
           get_u8(x, "mos_cq", &v->mos_cq) && get_u8(x, "rx_config", &v->rx_config) &&
           get_u16(x, "jb_nominal", &v->jb_nominal) && get_u16(x, "jb_maximum", &v->jb_maximum) &&
           get_u16(x, "jb_abs_max", &v->jb_abs_max) &&
           (v->signal_level = (int8_t)sig, v->noise_level = (int8_t)noise, true);
}

static bool read_sender(const json_t *si, uint32_t ssrc, struct rtcp_info *out)
{
    if (!si || json_is_null(si)) return true;
    out->has_sr = true;
    out->sr_ssrc = ssrc;
    return json_is_object(si) && get_u32(si, "ntp_timestamp_sec", &out->sr_ntp_msw) &&
           get_u32(si, "ntp_timestamp_usec", &out->sr_ntp_lsw) &&
           get_u32(si, "rtp_timestamp", &out->sr_rtp_ts) &&
           get_u32(si, "packets", &out->sr_packets) && get_u32(si, "octets", &out->sr_octets);
}

static bool read_rtcp(const json_t *o, struct rtcp_info *out)
{
    uint32_t ssrc = 0;
    json_int_t type = 0;
    if (!get_u32(o, "ssrc", &ssrc) || !json_is_integer(json_object_get(o, "ssrc")) ||
        !get_int(o, "type", 192, 223, &type)) /* RFC 3550 §12.1 and RFC 5760: RTCP types */
        return false;
    if (!read_sender(json_object_get(o, "sender_information"), ssrc, out)) return false;
    const json_t *rbs = json_object_get(o, "report_blocks");
    if (rbs && !json_is_null(rbs)) {
        if (!json_is_array(rbs)) return false;
        size_t i;
        const json_t *b;
        json_array_foreach(rbs, i, b)
        {
            if (out->nreports == RTCP_MAX_REPORTS) { /* as rtcp_parse: counted, not kept */
                out->reports_dropped++;
                continue;
            }
            if (!read_block(b, ssrc, &out->reports[out->nreports++])) return false;
        }
    }
    const json_t *xr = json_object_get(o, "report_blocks_xr");
    if (xr && !json_is_null(xr)) {
        if (!read_xr(xr, ssrc, &out->voip[0])) return false;
        out->nvoip = 1;
        out->xr_blocks = 1;
    }
    out->packets = 1 + (out->nvoip ? 1 : 0);
    return out->has_sr || out->nreports || out->nvoip;
}

bool render_hep_read_rtcp(const char *text, size_t n, struct rtcp_info *out)
{
    memset(out, 0, sizeof *out);
    out->cname = SV_NULL;
    json_t *o = load(text, n);
    bool ok = o && read_rtcp(o, out);
    json_decref(o);
    return ok;
}

/* "0x1234abcd" (ours, hepipe's) or a number. */
static bool read_ssrc(const json_t *o, uint32_t *ssrc)
{
    const json_t *j = json_object_get(o, "SSRC");
    if (!j || json_is_null(j)) return true;
    if (json_is_integer(j)) return get_u32(o, "SSRC", ssrc);
    const char *s = json_string_value(j);
    if (!s || json_string_length(j) > 10) return false;
    char *end;
    unsigned long v = strtoul(s, &end, 16); /* accepts the 0x prefix */
    if (end == s || *end || v > UINT32_MAX) return false;
    *ssrc = (uint32_t)v;
    return true;
}

static bool read_addr(const json_t *o, const char *ipk, const char *portk, struct ip_addr *a,
                      uint16_t *port)
{
    const char *ip = json_string_value(json_object_get(o, ipk));
    if (!get_u16(o, portk, port)) return false;
    if (!ip) return true; /* the HEP header's addresses stay */
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, ip, a->b) == 1)
        a->family = 4;
    else if (inet_pton(AF_INET6, ip, a->b) == 1)
        a->family = 6;
    else
        return false;
    return true;
}

static bool read_codec(const json_t *o, struct rtp_stream *st)
{
    uint8_t pt = 0;
    uint32_t clock = 0;
    if (!get_u8(o, "CODEC_PT", &pt) || pt > 127 || !get_u32(o, "CLOCK", &clock)) return false;
    st->pt = pt;
    st->clock_rate = clock;
    const json_t *name = json_object_get(o, "CODEC_NAME");
    if (json_is_string(name) && json_string_length(name) < sizeof st->codec &&
        !memchr(json_string_value(name), 0, json_string_length(name)))
        memcpy(st->codec, json_string_value(name), json_string_length(name) + 1);
    else if (name && !json_is_null(name))
        return false;
    return true;
}

/* µs since the epoch into packet time; 0 stays unknown. */
static bool read_time(const json_t *o, const char *k, ptime_t *t)
{
    json_int_t us = 0;
    if (!get_int(o, k, 0, INT64_MAX / PTIME_US, &us)) return false;
    if (us) *t = (ptime_t)us * PTIME_US;
    return true;
}

static bool read_figures(const json_t *o, struct rtp_stream *st)
{
    json_int_t pk = -1, exp = 0, lost = 0, dup = 0, ooo = 0;
    bool have_jit, have_max, have_delta, have_mos, have_r;
    double jit = 0, maxj = 0, delta = 0, mos = -1, r = -1;
    /* counts up to 2^48 (years of packets at any rate): their sums cannot overflow */
    const json_int_t most = (json_int_t)1 << 48;
    if (!get_int(o, "TOTAL_PK", 0, most, &pk) || pk < 0 ||
        !get_int(o, "EXPECTED_PK", -most, most, &exp) ||
        !get_int(o, "PACKET_LOSS", -most, most, &lost) || !get_int(o, "DUPLICATES", 0, most, &dup) ||
        !get_int(o, "OUT_OF_ORDER", 0, most, &ooo) ||
        !get_num(o, "JITTER", 0, 1e7, &jit, &have_jit) ||
        !get_num(o, "MAX_JITTER", 0, 1e7, &maxj, &have_max) ||
        !get_num(o, "DELTA", 0, 1e9, &delta, &have_delta) ||
        !get_num(o, "MOS", 1, 5, &mos, &have_mos) || !get_num(o, "R_FACTOR", 0, 150, &r, &have_r))
        return false;
    st->packets = (uint64_t)pk;
    st->lost = lost;
    /* RFC 3550 A.3: expected = received + lost, when the report leaves it out */
    st->expected = json_object_get(o, "EXPECTED_PK") ? exp : (int64_t)pk + lost;
    st->duplicates = (uint64_t)dup;
    st->out_of_order = (uint64_t)ooo;
    st->max_delta_ms = delta;
    st->mean_jitter_ms = jit;
    st->max_jitter_ms = have_max ? maxj : jit;
    st->mos = have_mos ? mos : -1;
    st->r_factor = have_r ? r : -1;
    if (!have_jit) /* no jitter reported: shown as null, as for a stream of events */
        st->events = true;
    return true;
}

bool render_hep_read_stream(const char *text, size_t n, struct rtp_stream *st)
{
    json_t *o = load(text, n);
    bool ok = o && read_ssrc(o, &st->ssrc) &&
              read_addr(o, "SRC_IP", "SRC_PORT", &st->src, &st->sport) &&
              read_addr(o, "DST_IP", "DST_PORT", &st->dst, &st->dport) && read_codec(o, st) &&
              read_time(o, "START_TS", &st->first_time) &&
              read_time(o, "REPORT_TS", &st->last_time) && read_figures(o, st);
    json_decref(o);
    return ok;
}
