/* See stream.h. */
#include "stream.h"

#include <stdio.h>

#include "ids.h"
#include "json.h"

static const char *const jb_names[JB__COUNT] = {"fixed_50", "fixed_200", "adaptive"};

/* The three simulated jitter buffers: what each played and the E-model's verdict on it. */
static json_t *jb_json(const struct rtp_stream *st)
{
    json_t *o = json_object();
    for (int k = 0; k < JB__COUNT; k++) {
        const struct stream_jb_score *b = &st->jbs[k];
        json_t *j = json_object();
        render_set_u64(j, "played", st->jb[k].played);
        render_set_u64(j, "discarded", st->jb[k].discarded);
        json_object_set_new(j, "lost_pct", render_round(b->lost_pct, 0.001));
        json_object_set_new(j, "burst_ratio", render_round(b->burst_ratio, 0.001));
        json_object_set_new(j, "mean_delay_ms", render_round(b->mean_delay_ms, 0.001));
        json_object_set_new(j, "r_factor",
                            b->r_factor >= 0 ? render_round(b->r_factor, 0.01) : json_null());
        json_object_set_new(j, "mos", b->mos >= 0 ? render_round(b->mos, 0.01) : json_null());
        json_object_set_new(o, jb_names[k], j);
    }
    return o;
}

/* RFC 3611 §4.7 fields; 127 (R, MOS) and 0 (jitter buffer) are "unavailable". */
static json_t *xr_json(const struct rtcp_voip_metrics *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "loss_pct", render_round(m->loss_rate * 100.0 / 256, 0.01));
    json_object_set_new(o, "discard_pct", render_round(m->discard_rate * 100.0 / 256, 0.01));
    json_object_set_new(o, "burst_density_pct", render_round(m->burst_density * 100.0 / 256, 0.01));
    json_object_set_new(o, "gap_density_pct", render_round(m->gap_density * 100.0 / 256, 0.01));
    render_set_u64(o, "burst_duration_ms", m->burst_duration);
    render_set_u64(o, "gap_duration_ms", m->gap_duration);
    render_set_u64(o, "round_trip_delay_ms", m->round_trip_delay);
    render_set_u64(o, "end_system_delay_ms", m->end_system_delay);
    json_object_set_new(o, "r_factor",
                        m->r_factor == 127 ? json_null() : json_integer(m->r_factor));
    json_object_set_new(o, "mos_lq", m->mos_lq == 127 ? json_null() : json_real(m->mos_lq / 10.0));
    json_object_set_new(o, "mos_cq", m->mos_cq == 127 ? json_null() : json_real(m->mos_cq / 10.0));
    json_object_set_new(o, "jb_nominal_ms",
                        m->jb_nominal ? json_integer(m->jb_nominal) : json_null());
    json_object_set_new(o, "jb_max_ms", m->jb_maximum ? json_integer(m->jb_maximum) : json_null());
    json_object_set_new(o, "jb_abs_max_ms",
                        m->jb_abs_max ? json_integer(m->jb_abs_max) : json_null());
    return o;
}

static json_t *rtcp_json(const struct rtp_stream *st)
{
    const struct stream_rtcp *r = &st->rtcp;
    if (!r->packets) return json_null();
    json_t *o = json_object();
    render_set_u64(o, "packets", r->packets);
    bool rr = r->receiver_reports > 0;
    json_object_set_new(o, "reported_lost", rr ? json_integer(r->reported_lost) : json_null());
    json_object_set_new(o, "reported_jitter_ms",
                        rr && st->clock_rate ? render_round(r->reported_jitter_ms, 0.001)
                                             : json_null());
    json_object_set_new(o, "rtt_ms", r->rtt_n ? render_round(r->rtt_ms, 0.001) : json_null());
    /* added */
    json_object_set_new(o, "max_rtt_ms",
                        r->rtt_n ? render_round(r->max_rtt_ms, 0.001) : json_null());
    render_set_u64(o, "sender_reports", r->sender_reports);
    render_set_u64(o, "receiver_reports", r->receiver_reports);
    json_object_set_new(o, "max_fraction_lost_pct",
                        rr ? render_round(r->max_fraction_lost_pct, 0.01) : json_null());
    json_object_set_new(o, "xr", r->have_xr ? xr_json(&r->xr) : json_null());
    return o;
}

static json_t *dtmf_json(const struct rtp_stream *st)
{
    json_t *a = json_array();
    uint32_t rate = st->te_rate ? st->te_rate : 8000;
    for (unsigned i = 0; i < st->ndtmf; i++) {
        const struct stream_dtmf *d = &st->dtmf[i];
        json_t *o = json_object();
        json_object_set_new(o, "time", render_time(true, d->time));
        json_object_set_new(o, "digit", render_textn(&d->digit, 1));
        json_object_set_new(o, "duration_ms", render_round(d->duration * 1000.0 / rate, 0.001));
        render_set_u64(o, "frame", d->frame);
        json_object_set_new(o, "ended", json_boolean(d->ended));
        json_array_append_new(a, o);
    }
    return a;
}

/* What was heard in the payload (issue 24): docs/output.md's `stream.audio`. */
static json_t *audio_json(const struct rtp_stream *st)
{
    const struct audio_summary *a = &st->audio_sum;
    if (!st->audio_done || a->unavailable) return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "codec", json_string(audio_codec_name(a->codec)));
    /* a library codec past its first seconds: one second in this many was decoded */
    json_object_set_new(o, "sampled_every_s",
                        st->audio_sampled ? json_integer(STREAM_AUDIO_SAMPLE_EVERY) : json_null());
    json_object_set_new(o, "heard_s", render_round(a->heard_s, 0.001));
    json_object_set_new(o, "active_s", render_round(a->active_s, 0.001));
    json_object_set_new(o, "active_pct",
                        a->heard_s > 0 ? render_round(100.0 * a->active_s / a->heard_s, 0.1)
                                       : json_null());
    json_object_set_new(o, "silence_s", render_round(a->silence_s, 0.001));
    render_set_u64(o, "silent_seconds", a->silent_seconds);
    json_object_set_new(o, "level_dbov",
                        a->heard_s > 0 ? render_round(a->level_dbov, 0.1) : json_null());
    json_object_set_new(o, "speech_level_dbov",
                        a->active_s > 0 ? render_round(a->speech_level_dbov, 0.1) : json_null());
    render_set_u64(o, "clipped_samples", a->clipped);
    render_set_u64(o, "clipped_runs", a->clip_runs); /* added: the runs those samples make */
    json_object_set_new(o, "tonal_s", render_round(a->tonal_s, 0.001));
    json_t *tones = json_array();
    for (unsigned i = 0; i < a->ndet && st->audio_plan; i++) {
        const struct audio_detection *d = &a->det[i];
        const struct audio_tone *t = &st->audio_plan->tones[d->tone];
        json_t *x = json_object();
        json_object_set_new(x, "kind", json_string(audio_tone_kind_name(t->kind)));
        json_object_set_new(x, "region", render_str_or_null(t->region));
        json_object_set_new(x, "start",
                            render_time(true, st->first_time + (ptime_t)d->start_ms * PTIME_MS));
        json_object_set_new(x, "end",
                            render_time(true, st->first_time + (ptime_t)d->end_ms * PTIME_MS));
        render_set_u64(x, "cycles", d->cycles);
        json_array_append_new(tones, x);
    }
    json_object_set_new(o, "tones", tones);
    render_set_u64(o, "tones_dropped", a->dropped_detections);
    json_t *dig = json_array();
    for (unsigned i = 0; i < a->ndigits; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "digit", render_textn(&a->digits[i], 1));
        json_object_set_new(x, "time",
                            render_time(true, st->first_time + (ptime_t)a->digit_ms[i] * PTIME_MS));
        json_array_append_new(dig, x);
    }
    json_object_set_new(o, "inband_dtmf", dig);
    render_set_u64(o, "inband_dtmf_dropped", a->digits_dropped);
    render_set_u64(o, "comfort_noise_packets", a->cn_packets);
    render_set_u64(o, "event_packets", a->event_packets);
    json_t *err = json_object();
    for (int e = 1; e < AUDIO_ERR_COUNT; e++)
        if (a->errors[e]) render_set_u64(err, audio_err_name((enum audio_err)e), a->errors[e]);
    json_object_set_new(o, "decode_errors", err);
    return o;
}

/* Why `audio` is null: the codec's reason, or analysis off; null when there is audio. */
static json_t *audio_unavailable_json(const struct rtp_stream *st)
{
    if (st->audio_done && st->audio_sum.unavailable) return json_string(st->audio_sum.unavailable);
    if (st->audio_done) return json_null();
    if (st->audio_unavailable) return json_string(st->audio_unavailable);
    return json_string(st->events ? "telephone-event stream: not audio" : "audio analysis off");
}

json_t *render_timeline_json(const struct rtp_stream *st)
{
    json_t *o = json_object(), *pk = json_array(), *lost = json_array(), *jit = json_array(),
           *mos = json_array(), *level = json_array(), *active = json_array();
    bool timed = st->clock_rate && !st->events;
    for (uint32_t i = 0; i < st->nsec; i++) {
        const struct stream_second *x = &st->timeline[i];
        json_array_append_new(pk, json_integer(x->packets));
        json_array_append_new(lost, json_integer(x->lost));
        json_array_append_new(jit,
                              timed && x->packets ? json_real(x->jitter_cms / 100.0) : json_null());
        json_array_append_new(mos, x->mos_c ? json_real(x->mos_c / 100.0) : json_null());
        /* issue 24: null where no audio was decoded in the second */
        json_array_append_new(level, x->level_cdb ? json_real(x->level_cdb / 100.0) : json_null());
        json_array_append_new(active, x->level_cdb ? json_integer(x->active_ms) : json_null());
    }
    json_object_set_new(o, "start", render_time(true, st->first_time));
    json_object_set_new(o, "interval_s", json_integer(1));
    json_object_set_new(o, "packets", pk);
    json_object_set_new(o, "lost", lost);
    json_object_set_new(o, "max_jitter_ms", jit);
    json_object_set_new(o, "mos", mos);
    json_object_set_new(o, "level_dbov", level);
    json_object_set_new(o, "active_ms", active);
    json_object_set_new(o, "truncated", json_boolean(st->timeline_truncated));
    return o;
}

/* Who measured a stream a HEP agent reported: null for one measured here. */
static json_t *reported_json(const struct stream_reporter *w)
{
    if (!w) return json_null();
    json_t *o = json_object(), *via = json_array();
    render_set_u64(o, "agent_id", w->agent_id);
    json_object_set_new(o, "node", w->node_len ? render_textn(w->node, w->node_len) : json_null());
    json_object_set_new(o, "correlation_id",
                        w->corr_len ? render_textn(w->correlation, w->corr_len) : json_null());
    if (w->qos) json_array_append_new(via, json_string("qos"));
    if (w->rtcp) json_array_append_new(via, json_string("rtcp"));
    json_object_set_new(o, "reports", via);
    json_object_set_new(o, "clock_assumed", json_boolean(w->clock_assumed));
    return o;
}

json_t *render_stream_json(const struct rtp_stream *st, bool timeline)
{
    char id[RENDER_ID_LEN], call[RENDER_ID_LEN], src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN],
        ssrc[16];
    render_stream_id(st->seq, id);
    render_call_id(st->call_seq, call);
    snprintf(ssrc, sizeof ssrc, "0x%08x", st->ssrc);
    ip_addr_port_str(&st->src, st->sport, src, sizeof src);
    ip_addr_port_str(&st->dst, st->dport, dst, sizeof dst);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "call", st->call_seq ? json_string(call) : json_null());
    json_object_set_new(o, "src", json_string(src));
    json_object_set_new(o, "dst", json_string(dst));
    json_object_set_new(o, "ssrc", json_string(ssrc));
    /* RTCP alone does not say the payload type */
    bool rtcp_only = st->reported && !st->reported->qos;
    json_object_set_new(o, "payload_type", rtcp_only ? json_null() : json_integer(st->pt));
    json_object_set_new(o, "codec", st->codec[0] ? render_str_or_null(st->codec) : json_null());
    json_object_set_new(o, "clock_rate",
                        st->clock_rate ? json_integer(st->clock_rate) : json_null());
    json_object_set_new(o, "first_time", render_time(true, st->first_time));
    json_object_set_new(o, "last_time", render_time(true, st->last_time));
    render_set_u64(o, "packets", st->packets);
    json_object_set_new(o, "expected", json_integer(st->expected));
    json_object_set_new(o, "lost", json_integer(st->lost));
    json_object_set_new(
        o, "lost_pct",
        json_real(st->expected > 0 ? 100.0 * (double)st->lost / (double)st->expected : 0));
    render_set_u64(o, "duplicates", st->duplicates);
    render_set_u64(o, "out_of_order", st->out_of_order);
    render_set_u64(o, "seq_errors", st->seq_errors);
    /* SRTP: encrypted when packets came that no SDES key opened (their payload was never
     * read); decrypted when keys opened them */
    json_object_set_new(o, "encrypted", json_boolean(st->srtp_encrypted > 0));
    json_object_set_new(o, "srtp_decrypted", json_boolean(st->srtp_decrypted > 0));
    render_set_u64(o, "srtp_auth_failures", st->srtp_auth_failures);
    json_object_set_new(o, "max_delta_ms", json_real(st->max_delta_ms));
    bool timed = st->clock_rate && !st->events; /* else jitter means nothing: null */
    json_object_set_new(o, "max_jitter_ms", timed ? json_real(st->max_jitter_ms) : json_null());
    json_object_set_new(o, "mean_jitter_ms", timed ? json_real(st->mean_jitter_ms) : json_null());
    /* added: which ends an SDP announced; one unannounced end of a bound stream is NAT */
    json_object_set_new(o, "src_announced", json_boolean(st->src_announced));
    json_object_set_new(o, "dst_announced", json_boolean(st->dst_announced));
    /* added: the loss pattern */
    render_set_u64(o, "loss_bursts", st->loss_bursts);
    render_set_u64(o, "longest_loss_burst", st->longest_burst);
    render_set_u64(o, "markers", st->markers);
    json_object_set_new(o, "r_factor",
                        st->r_factor >= 0 ? render_round(st->r_factor, 0.01) : json_null());
    json_object_set_new(o, "mos", st->mos >= 0 ? render_round(st->mos, 0.01) : json_null());
    /* added: which G.113 row scored it, and the three buffers behind the figures */
    json_object_set_new(o, "mos_basis", st->emodel ? json_string(st->emodel->basis) : json_null());
    json_object_set_new(o, "jitter_buffers", timed && st->timed ? jb_json(st) : json_null());
    json_object_set_new(o, "rtcp", rtcp_json(st));
    json_object_set_new(o, "dtmf", dtmf_json(st));
    if (st->dtmf_dropped) render_set_u64(o, "dtmf_dropped", st->dtmf_dropped);
    /* added: a stream a HEP agent measured and reported (null: measured here) */
    json_object_set_new(o, "reported_by", reported_json(st->reported));
    json_object_set_new(o, "audio", audio_json(st));
    json_object_set_new(o, "audio_unavailable", audio_unavailable_json(st));
    if (timeline) json_object_set_new(o, "timeline", render_timeline_json(st));
    return o;
}
