/* The issue kinds' and severities' names, and the thresholds of struct issue_config: their
 * defaults, and setting and describing them by name (flags and the config file). */
#include "issues.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

const char *issue_kind_name(enum issue_kind k)
{
    static const char *const names[] = {
#define ISSUE_NAME(id, name) name,
        ISSUE_KINDS(ISSUE_NAME)
#undef ISSUE_NAME
    };
    return (unsigned)k < ISSUE__COUNT ? names[k] : "unknown";
}

const char *issue_severity_name(enum issue_severity s)
{
    static const char *const names[] = {
#define ISSUE_SEV_NAME(id, name) name,
        ISSUE_SEVERITIES(ISSUE_SEV_NAME)
#undef ISSUE_SEV_NAME
    };
    return (unsigned)s < SEV__COUNT ? names[s] : "info";
}

/* docs/output.md's defaults and the seed thresholds of the quality bands: MOS good above 4.0,
 * poor below 3.5; loss 1 % / 3 %; jitter 20 / 50 ms; one-way delay 150 / 300 ms (ITU-T
 * G.114's planning limits). */
void issue_config_default(struct issue_config *c)
{
    *c = (struct issue_config){
        .pdd_warn_ms = 5000,
        .pdd_crit_ms = 10000,
        .setup_warn_ms = 5000,
        .setup_crit_ms = 10000,
        .loss_warn_pct = 1,
        .loss_crit_pct = 3,
        .jitter_warn_ms = 20,
        .jitter_crit_ms = 50,
        .mos_warn = 4.0,
        .mos_crit = 3.5,
        .latency_warn_ms = 150,
        .latency_crit_ms = 300,
        .auth_loop_challenges = 3,
        .retrans_warn = 3,
        .audio_min_s = 2,
        .one_way_ratio = 0.2,
        .ringback_silence_ms = 2000,
        .one_way_active_pct = 5,
        .speech_active_pct = 20,
        .one_way_silent_min_s = 8,
        .silent_call_s = 5,
        .false_answer_ms = 500,
        .false_answer_start_ms = 9000,
        .clipping_pct = 0.5,
        .clipping_runs = 10,
        .audio_level_min_s = 3,
        .audio_quiet_dbov = -40,
        .audio_loud_dbov = -6,
        .rtp_after_bye_ms = 2000,
        .min_packets = 50,
        .capture_end_s = 5,
        .dns_slow_warn_ms = 500,
        .dns_slow_crit_ms = 2000,
        .hop_hold_warn_ms = 1000,
        .hop_hold_crit_ms = 5000,
        .hop_timeout_ms = 30000,
        .hold_media_s = 2,
        .sec_window_s = 60,
        .scan_targets = 20,
        .scan_methods = 6,
        .scan_fail_ratio = 0.8,
        .auth_fail = 10,
        .auth_networks = 3,
        .hijack_moves = 3,
        .toll_window_s = 300,
        .toll_calls = 5,
        .toll_concurrent = 10,
        .conc_factor = 3,
        .conc_learn_s = 600,
        .conc_learn_calls = 10,
    };
}

struct knob {
    const char *name;
    size_t off;
    double lo, hi;
    const char *help;
};

#define KNOB(f, lo, hi, help) {#f, offsetof(struct issue_config, f), lo, hi, help}
static const struct knob knobs[] = {
    KNOB(pdd_warn_ms, 0, 1e7, "long_post_dial_delay warning: INVITE to first 180/183, ms"),
    KNOB(pdd_crit_ms, 0, 1e7, "long_post_dial_delay critical, ms"),
    KNOB(setup_warn_ms, 0, 1e7, "slow_setup warning: INVITE to final answer with no 18x, ms"),
    KNOB(setup_crit_ms, 0, 1e7, "slow_setup critical, ms"),
    KNOB(loss_warn_pct, 0, 100, "packet_loss warning: stream loss above, %"),
    KNOB(loss_crit_pct, 0, 100, "packet_loss critical, %"),
    KNOB(jitter_warn_ms, 0, 1e5, "high_jitter warning: mean interarrival jitter above, ms"),
    KNOB(jitter_crit_ms, 0, 1e5, "high_jitter critical, ms"),
    KNOB(mos_warn, 1, 5, "low_mos warning: stream MOS below"),
    KNOB(mos_crit, 1, 5, "low_mos critical: stream MOS below"),
    KNOB(latency_warn_ms, 0, 1e5, "high_latency warning: one-way delay above, ms (needs RTCP)"),
    KNOB(latency_crit_ms, 0, 1e5, "high_latency critical, ms"),
    KNOB(auth_loop_challenges, 2, 1e6, "auth_loop: 401/407 in a row without success"),
    KNOB(retrans_warn, 2, 1e6,
         "retransmissions warning: one message sent this often (fewer: info)"),
    KNOB(audio_min_s, 0, 1e6, "one_way_audio/no_audio: answered calls shorter are not judged, s"),
    KNOB(one_way_ratio, 0, 1, "one_way_audio: a direction covering less of the call than this"),
    KNOB(ringback_silence_ms, 0, 1e7,
         "ringback_silence: early media offered, none (or neither tone nor speech in it) for this "
         "long, ms"),
    KNOB(one_way_active_pct, 0, 100,
         "one_way_audio: RTP that is speech in fewer answered seconds than this, %, is silence"),
    KNOB(speech_active_pct, 0, 100,
         "one_way_audio: ... while the other direction is speech in at least this %"),
    KNOB(one_way_silent_min_s, 0, 1e6,
         "one_way_audio: ... over at least this many answered seconds of its RTP"),
    KNOB(silent_call_s, 0, 1e6,
         "silent_call: RTP both ways with no speech and no tone over at least this many "
         "answered seconds each way"),
    KNOB(false_answer_ms, 0, 1e7,
         "false_answer: a ringback tone from the callee heard this long after its 200 OK, ms"),
    KNOB(false_answer_start_ms, 0, 1e7,
         "false_answer: ... that began at most this long after the 200 OK (a slow cadence's "
         "cycle and a late first packet; a ringback later in the call is a transfer's or a "
         "hold's), ms"),
    KNOB(clipping_pct, 0, 100,
         "clipping: samples at full scale (runs of 3 or more), % of a direction's speech"),
    KNOB(clipping_runs, 1, 1e9, "clipping: ... in at least this many runs"),
    KNOB(audio_level_min_s, 0, 1e6,
         "audio_level: a direction with fewer speech-active seconds is not judged"),
    KNOB(audio_quiet_dbov, -99, 0, "audio_level: speech quieter than this is too quiet, dBov"),
    KNOB(audio_loud_dbov, -99, 0, "audio_level: speech louder than this is too loud, dBov"),
    KNOB(rtp_after_bye_ms, 0, 1e7, "rtp_after_bye: media still flowing this long after BYE, ms"),
    KNOB(min_packets, 1, 1e9, "streams with fewer packets are not judged for quality"),
    KNOB(capture_end_s, 0, 1e7,
         "unfinished_call: activity this close to the end is a cut capture, s"),
    KNOB(dns_slow_warn_ms, 0, 1e7, "dns_slow warning: a DNS look-up for the call took longer, ms"),
    KNOB(dns_slow_crit_ms, 0, 1e7, "dns_slow critical, ms"),
    KNOB(hop_hold_warn_ms, 0, 1e7,
         "slow_hop warning: a hop held the INVITE longer before forwarding, ms"),
    KNOB(hop_hold_crit_ms, 0, 1e7, "slow_hop critical, ms"),
    KNOB(hop_timeout_ms, 0, 1e7,
         "slow_hop: a hop's 408/503 this long after it forwarded the INVITE, ms"),
    KNOB(hold_media_s, 0, 1e6, "media_during_hold: RTP this long where the hold said none, s"),
    KNOB(sec_window_s, 1, 86400, "sip_scan/auth_brute_force: the sliding window, s"),
    KNOB(scan_targets, 2, 1e6, "sip_scan: distinct extensions one source probed in the window"),
    KNOB(scan_methods, 2, 15, "sip_scan: or distinct request methods it tried in the window"),
    KNOB(scan_fail_ratio, 0, 1, "sip_scan: share of its out-of-dialog requests not answered 2xx"),
    KNOB(auth_fail, 2, 1e6,
         "auth_brute_force: failed digest attempts from one source in the window"),
    KNOB(auth_networks, 2, 1e6,
         "auth_brute_force: or auth_fail of them against one account from this many networks"),
    KNOB(hijack_moves, 1, 1e6,
         "registration_hijack: a held binding taken by another address, times"),
    KNOB(toll_window_s, 1, 86400, "toll_fraud_pattern: the sliding window, s"),
    KNOB(toll_calls, 1, 1e6, "toll_fraud_pattern: calls to listed prefixes from one account in it"),
    KNOB(toll_concurrent, 2, 1e6,
         "toll_fraud_pattern: or answered calls of one account at once (floor)"),
    KNOB(conc_factor, 1, 1e3,
         "toll_fraud_pattern: times the account's usual concurrency (the floor's until learnt)"),
    KNOB(conc_learn_s, 0, 1e7,
         "toll_fraud_pattern: history before an account's usual concurrency counts, s"),
    KNOB(conc_learn_calls, 1, 1e6, "toll_fraud_pattern: and answered calls in that history"),
};

bool issue_config_set(struct issue_config *cfg, const char *name, const char *value,
                      const char **why)
{
    for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++) {
        if (strcmp(knobs[i].name, name) != 0)
            continue;
        char *end;
        double v = strtod(value, &end);
        while (*end == ' ' || *end == '\t')
            end++;
        if (end == value || *end || !isfinite(v) || v < knobs[i].lo || v > knobs[i].hi) {
            *why = "not a number in range";
            return false;
        }
        *(double *)((char *)cfg + knobs[i].off) = v;
        return true;
    }
    *why = "no such threshold";
    return false;
}

bool issue_config_describe(const struct issue_config *cfg, size_t i, const char **name,
                           const char **help, double *value)
{
    if (i >= sizeof knobs / sizeof knobs[0])
        return false;
    *name = knobs[i].name;
    *help = knobs[i].help;
    *value = *(const double *)((const char *)cfg + knobs[i].off);
    return true;
}
