/* The issue catalogue; see issues.h. Each check reads the facts the correlator and the
 * stream tracker kept, decides against a threshold of struct issue_config, and writes the
 * frames and figures that prove it, a summary and a diagnosis in words an engineer on
 * call can act on. */
#include "issues.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/vec.h"
#include "decode/dns.h"
#include "decode/sdp.h"

/* ---- names and thresholds ---- */

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

/* OUTPUT.md's defaults and the seed thresholds of the quality bands: MOS good above 4.0,
 * poor below 3.5; loss 1 % / 3 %; jitter 20 / 50 ms; one-way delay 150 / 300 ms (ITU-T
 * G.114's planning limits). */
void issue_config_default(struct issue_config *c)
{
    *c = (struct issue_config){
        .pdd_warn_ms = 5000, .pdd_crit_ms = 10000,
        .setup_warn_ms = 5000, .setup_crit_ms = 10000,
        .loss_warn_pct = 1, .loss_crit_pct = 3,
        .jitter_warn_ms = 20, .jitter_crit_ms = 50,
        .mos_warn = 4.0, .mos_crit = 3.5,
        .latency_warn_ms = 150, .latency_crit_ms = 300,
        .auth_loop_challenges = 3,
        .retrans_warn = 3,
        .audio_min_s = 2,
        .one_way_ratio = 0.2,
        .ringback_silence_ms = 2000,
        .rtp_after_bye_ms = 2000,
        .min_packets = 50,
        .capture_end_s = 5,
        .dns_slow_warn_ms = 500, .dns_slow_crit_ms = 2000,
        .hop_hold_warn_ms = 1000, .hop_hold_crit_ms = 5000,
        .hop_timeout_ms = 30000,
        .hold_media_s = 2,
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
    KNOB(retrans_warn, 2, 1e6, "retransmissions warning: one message sent this often (fewer: info)"),
    KNOB(audio_min_s, 0, 1e6, "one_way_audio/no_audio: answered calls shorter are not judged, s"),
    KNOB(one_way_ratio, 0, 1, "one_way_audio: a direction covering less of the call than this"),
    KNOB(ringback_silence_ms, 0, 1e7, "ringback_silence: early media offered, none for this long, ms"),
    KNOB(rtp_after_bye_ms, 0, 1e7, "rtp_after_bye: media still flowing this long after BYE, ms"),
    KNOB(min_packets, 1, 1e9, "streams with fewer packets are not judged for quality"),
    KNOB(capture_end_s, 0, 1e7, "unfinished_call: activity this close to the end is a cut capture, s"),
    KNOB(dns_slow_warn_ms, 0, 1e7, "dns_slow warning: a DNS look-up for the call took longer, ms"),
    KNOB(dns_slow_crit_ms, 0, 1e7, "dns_slow critical, ms"),
    KNOB(hop_hold_warn_ms, 0, 1e7, "slow_hop warning: a hop held the INVITE longer before forwarding, ms"),
    KNOB(hop_hold_crit_ms, 0, 1e7, "slow_hop critical, ms"),
    KNOB(hop_timeout_ms, 0, 1e7, "slow_hop: a hop's 408/503 this long after it forwarded the INVITE, ms"),
    KNOB(hold_media_s, 0, 1e6, "media_during_hold: RTP this long where the hold said none, s"),
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

bool issue_addr_private(const struct ip_addr *a)
{
    const uint8_t *b = a->b;
    if (a->family == 4)
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
               (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xc0) == 64) ||
               (b[0] == 169 && b[1] == 254);
    return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

/* ---- building one issue ---- */

static void issue_init(struct issue *is, enum issue_kind k, enum issue_severity s, ptime_t t)
{
    memset(is, 0, sizeof *is);
    is->kind = k;
    is->severity = s;
    is->time = t;
}

static void add_frame(struct issue *is, uint64_t f)
{
    if (!f || is->nframes == ISSUE_MAX_FRAMES)
        return;
    for (unsigned i = 0; i < is->nframes; i++)
        if (is->frames[i] == f)
            return;
    is->frames[is->nframes++] = f;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void ev_num(struct issue *is, const char *key, double v)
{
    if (is->nev == ISSUE_MAX_EVIDENCE)
        return;
    struct issue_evidence *e = &is->ev[is->nev++];
    e->key = key;
    e->has_num = true;
    e->num = v;
}

__attribute__((format(printf, 3, 4))) static void ev_str(struct issue *is, const char *key,
                                                         const char *fmt, ...)
{
    if (is->nev == ISSUE_MAX_EVIDENCE)
        return;
    struct issue_evidence *e = &is->ev[is->nev++];
    e->key = key;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->str, sizeof e->str, fmt, ap);
    va_end(ap);
}

/* A JSON value (a list, an object of figures) written as text; one that does not fit is
 * left out rather than cut into invalid JSON. */
__attribute__((format(printf, 3, 4))) static void ev_json(struct issue *is, const char *key,
                                                          const char *fmt, ...)
{
    if (is->nev == ISSUE_MAX_EVIDENCE)
        return;
    struct issue_evidence *e = &is->ev[is->nev];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->str, sizeof e->str, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof e->str)
        return;
    e->key = key;
    e->has_num = false;
    e->json = true;
    is->nev++;
}

__attribute__((format(printf, 3, 4))) static void say(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

/* Appends to a text already started. */
__attribute__((format(printf, 3, 4))) static void more(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

static const char *ipstr(const struct ip_addr *a, char *buf, size_t n)
{
    if (!inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->b, buf, (socklen_t)n))
        snprintf(buf, n, "?");
    return buf;
}

static double ms_between(ptime_t a, ptime_t b)
{
    return (double)(b - a) / 1e6;
}

static enum issue_severity band(double v, double warn, double crit)
{
    return v > crit ? SEV_CRITICAL : v > warn ? SEV_WARNING : SEV_INFO;
}

/* ---- the engine ---- */

/* A stretch of a stream with packets, gaps under HELD_RUN_GAP_S inside it: where a stream
 * paused (a hold) and where it did not, to within a second of its timeline. */
struct held_run {
    ptime_t from, to;
    uint64_t packets;
};
#define HELD_RUNS 6        /* kept per stream; past them the closest runs merge */
#define HELD_RUN_GAP_S 2   /* seconds without a packet that end a run */

/* What the media checks need of a stream of a call. */
struct held_stream {
    uint64_t call_seq, seq;
    struct ip_addr src, dst;
    uint16_t sport, dport;
    ptime_t first, last;
    uint64_t first_frame, last_frame, packets;
    bool src_ann, dst_ann;
    uint8_t nruns;
    struct held_run runs[HELD_RUNS];
    uint64_t pt_seen[2];       /* payload types it carried (struct rtp_stream's) */
    /* its RTCP: on its RTP ports, and apart from them (the first of those) */
    uint64_t rtcp_muxed, rtcp_apart, rtcp_apart_frame;
    ptime_t rtcp_apart_last;
    struct ip_addr rtcp_src, rtcp_dst;
    uint16_t rtcp_sport, rtcp_dport;
};

/* What the media checks need of a call (answered, or offered early media). */
struct held_call {
    uint64_t seq;
    enum call_state state;
    ptime_t invite_time, answer_time, end_time, early_time, last_time;
    uint64_t first_frame, answer_frame, end_frame, early_frame, last_frame;
    int early_status;
    uint8_t nlegs;
    uint8_t leg_prov[CALL_MAX_LEGS];
    bool session_expired, bye;
    struct ip_addr caller_ip, callee_ip;
    uint16_t caller_port, callee_port;
    struct call_side side[2];  /* its codecs and eps NULL: the call's go with the call ... */
    struct call_media_ep eps[2][CALL_MAX_MEDIA_EPS]; /* ... so its eps are copied here */
    char codecs[2][64];        /* ... so copied, cut, for codec_mismatch's text */
    struct call_hold holds[CALL_MAX_HOLDS];
    uint8_t nholds;
    bool codec_disjoint;       /* offer and answer share no codec: the media decides how bad */
};

struct issue_engine {
    struct issue_config cfg;
    issue_fn fn;
    void *user;
    struct held_call *calls; /* owned */
    size_t ncalls, capcalls;
    struct held_stream *streams; /* owned */
    size_t nstreams, capstreams;
    uint64_t streams_seen;   /* every stream handed in, orphans too: 0, a capture of SIP only */
    bool announced_live;     /* a tick saw an announced stream still going (handed in later) */
    issue_judged_fn judged;  /* NULL: not asked */
    uint64_t *quiet;         /* owned: calls without media checks, waiting for their streams */
    size_t nquiet, capquiet;
    /* calls done with (handed in and not held, or judged): a bit per call number after
     * done_base, which moves up past the run of done calls at the start (owned) */
    uint64_t *done;
    size_t done_words;
    uint64_t done_base;
    bool done_started;
};

struct issue_engine *issues_new(const struct issue_config *cfg, issue_fn fn, void *user)
{
    struct issue_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    if (cfg)
        e->cfg = *cfg;
    else
        issue_config_default(&e->cfg);
    e->fn = fn;
    e->user = user;
    return e;
}

void issues_free(struct issue_engine *e)
{
    if (!e)
        return;
    free(e->calls);
    free(e->streams);
    free(e->done);
    free(e->quiet);
    free(e);
}

static void emit(struct issue_engine *e, struct issue *is)
{
    qsort(is->frames, is->nframes, sizeof is->frames[0], cmp_u64);
    if (e->fn)
        e->fn(e->user, is);
}

/* ---- calls: signaling ---- */

static const char *status_meaning(int code)
{
    switch (code) {
    case 500: return "the server failed internally: look in its log at this time for this Call-ID";
    case 501: return "the server does not implement the request method";
    case 502: return "a gateway or proxy got an invalid answer from the next hop: check that hop";
    case 503: return "the server is overloaded, in maintenance, or has no route/trunk left for "
                     "this call (a Retry-After header says for how long): check its capacity "
                     "and the health of the trunks behind it";
    case 504: return "a gateway or proxy timed out waiting for the next hop (or a DNS look-up): "
                     "check the route and reachability of the next hop";
    case 505: return "the server does not support this SIP version";
    case 513: return "the message was too large for the server: fragmented UDP or an oversized "
                     "SDP; consider TCP";
    case 580: return "the server could not meet the session's preconditions (QoS resources)";
    case 600: return "the callee is busy everywhere";
    case 603: return "the callee (or a service acting for it) declined the call: usually a user "
                     "action, or a call-screening/anti-spam rule";
    case 604: return "the number does not exist anywhere: check the dialled number and the "
                     "routing/number-translation tables";
    case 606: return "the callee cannot accept the session as offered (codecs, media types)";
    case 607: return "the callee marked the call as unwanted (RFC 8197)";
    case 608: return "an intermediary rejected the call (RFC 8688), e.g. an analytics or "
                     "robocall filter";
    }
    return code >= 500 && code < 600 ? "the server (not the callee) failed to complete the call: "
                                       "check its log and its next hop"
                                     : "a definitive answer for every destination of the call";
}

static void call_header(struct issue *is, const struct call *c)
{
    is->call_seq = c->seq;
    add_frame(is, c->first_frame);
}

static void check_final(struct issue_engine *e, const struct call *c)
{
    int code = c->final_status;
    if (code < 500 || code >= 700 || code == 606)
        return; /* 606 is a codec mismatch, judged there */
    struct issue is;
    bool global = code >= 600;
    enum issue_severity sev = global ? (code == 603 || code == 600 ? SEV_INFO : SEV_WARNING)
                                     : (code == 500 ? SEV_CRITICAL : SEV_WARNING);
    issue_init(&is, global ? ISSUE_GLOBAL_FAILURE : ISSUE_SERVER_ERROR, sev,
               c->end_time ? c->end_time : c->invite_time);
    call_header(&is, c);
    add_frame(&is, c->final_frame);
    char from[IP_ADDR_PORT_STRLEN], to[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&c->caller_ip, c->caller_port, from, sizeof from);
    ip_addr_port_str(&c->callee_ip, c->callee_port, to, sizeof to);
    ev_num(&is, "status", code);
    ev_str(&is, "reason", "%s", c->reason ? c->reason : "");
    ev_str(&is, "sent_to", "%s", from);
    ev_str(&is, "invite_to", "%s", to);
    ev_num(&is, "after_ms", ms_between(c->invite_time, c->end_time ? c->end_time : c->last_time));
    say(is.summary, sizeof is.summary, "INVITE answered %d %s", code, c->reason ? c->reason : "");
    say(is.diagnosis, sizeof is.diagnosis, "%d: %s.", code, status_meaning(code));
    if (c->retransmissions && code == 503)
        more(is.diagnosis, sizeof is.diagnosis,
             " The INVITE was retransmitted too: the server was slow before it gave up.");
    emit(e, &is);
}

/* Codec names of a comma-separated list, without telephone-event and comfort noise. */
static bool codec_common(const char *a, const char *b)
{
    char x[64], y[64];
    snprintf(x, sizeof x, "%s", a);
    bool any_a = false;
    for (char *sa, *ta = strtok_r(x, ",", &sa); ta; ta = strtok_r(NULL, ",", &sa)) {
        if (!strcasecmp(ta, "telephone-event") || !strcasecmp(ta, "CN") || !strcmp(ta, "13"))
            continue;
        any_a = true;
        snprintf(y, sizeof y, "%s", b);
        for (char *sb, *tb = strtok_r(y, ",", &sb); tb; tb = strtok_r(NULL, ",", &sb))
            if (!strcasecmp(ta, tb))
                return true;
    }
    return !any_a; /* nothing but events offered: no codec to disagree on */
}

static bool codecs_disjoint(const struct call_side *o, const struct call_side *a)
{
    return o->have_sdp && a->have_sdp && o->codecs && a->codecs && o->codecs[0] &&
           a->codecs[0] && !codec_common(o->codecs, a->codecs);
}

/* A side's payload types as a JSON list. */
static void pts_json(const struct call_side *s, char *buf, size_t n)
{
    snprintf(buf, n, "[");
    for (unsigned i = 0; s->have_sdp && i < s->npts; i++)
        more(buf, n, "%s%u", i ? "," : "", s->pts[i]);
    more(buf, n, "]");
}

/* 488/606; and offer and answer sharing no codec, for a call whose media is not judged
 * (media_later: it is, in check_codecs_media, where the RTP tells how bad that is). */
static void check_codecs(struct issue_engine *e, const struct call *c, bool media_later)
{
    const struct call_side *o = call_side(c, 0), *a = call_side(c, 1);
    const char *oc = o->have_sdp && o->codecs ? o->codecs : "";
    const char *ac = a->have_sdp && a->codecs ? a->codecs : "";
    bool rejected = c->final_status == 488 || c->final_status == 606;
    bool disjoint = codecs_disjoint(o, a);
    if (!rejected && (!disjoint || media_later))
        return;
    struct issue is;
    issue_init(&is, ISSUE_CODEC_MISMATCH, rejected ? SEV_WARNING : SEV_CRITICAL,
               rejected && c->end_time ? c->end_time : a->sdp_time ? a->sdp_time : c->invite_time);
    call_header(&is, c);
    add_frame(&is, o->sdp_frame);
    add_frame(&is, a->sdp_frame);
    if (rejected)
        add_frame(&is, c->final_frame);
    ev_str(&is, "caller_codecs", "%s", oc);
    ev_str(&is, "callee_codecs", "%s", ac);
    if (rejected)
        ev_num(&is, "status", c->final_status);
    char pts[112];
    pts_json(o, pts, sizeof pts);
    ev_json(&is, "offer_payload_types", "%s", pts);
    if (!rejected) {
        pts_json(a, pts, sizeof pts);
        ev_json(&is, "answer_payload_types", "%s", pts);
    }
    if (rejected) {
        say(is.summary, sizeof is.summary, "%d %s: the callee did not accept the offered media",
            c->final_status, c->reason ? c->reason : "Not Acceptable");
        say(is.diagnosis, sizeof is.diagnosis,
            "The offer listed [%s]. The far end (or a gateway on the way) accepts none of these "
            "or rejects another part of the SDP (SRTP required or refused, ptime, a video or "
            "fax m-line). Compare the codec lists configured on both ends and on any SBC "
            "between them; enable a common codec (G.711 is the usual fallback) or transcoding.",
            o->have_sdp ? oc : "no SDP in the INVITE");
    } else {
        say(is.summary, sizeof is.summary, "offer [%s] and answer [%s] share no codec", oc,
            ac);
        say(is.diagnosis, sizeof is.diagnosis,
            "The answer names only codecs the offer did not list, which RFC 3264 forbids: the "
            "answerer (or an SBC rewriting SDP) is misconfigured, and the two sides will not "
            "decode each other's audio. Check the codec policy of the answering device and of "
            "any SBC/B2BUA that rewrites SDP.");
    }
    emit(e, &is);
}

static void auth_evidence(struct issue *is, const struct auth_track *a)
{
    ev_num(is, "challenges", a->run);
    ev_num(is, "with_credentials", a->with_creds + a->forbidden);
    ev_num(is, "forbidden", a->forbidden);
    ev_str(is, "realm", "%s", a->realm);
    ev_num(is, "realm_changes", a->realm_changes);
    ev_num(is, "nonce_changes", a->nonce_changes);
    if (a->user[0])
        ev_str(is, "username", "%s", a->user);
    for (unsigned i = 0; i < a->nframes; i++)
        add_frame(is, a->frames[i]);
}

static void auth_diagnosis(struct issue *is, const struct auth_track *a, const char *what)
{
    if (a->with_creds == 0 && a->forbidden == 0)
        say(is->diagnosis, sizeof is->diagnosis,
            "The %s never carried credentials after the challenges: the client has no account "
            "configured for realm \"%s\" (or does not support digest). Configure the "
            "username/password for that realm on the client.", what, a->realm);
    else if (a->realm_changes)
        say(is->diagnosis, sizeof is->diagnosis,
            "The realm changed between challenges (last \"%s\"): two servers (a proxy and a "
            "registrar, or two nodes of a cluster) challenge in turn and the client answers "
            "only one of them. Check that the proxy does not re-challenge what the registrar "
            "authorised, and that the client keeps credentials for both realms.", a->realm);
    else if (a->stale)
        say(is->diagnosis, sizeof is->diagnosis,
            "The server flagged the nonce stale: credentials were right but computed over an "
            "expired nonce, again and again. Check the clocks and the nonce lifetime on the "
            "server, and that the client uses the newest nonce.");
    else if (a->nonce_changes || a->forbidden)
        say(is->diagnosis, sizeof is->diagnosis,
            "Credentials%s%s%s were sent %u time%s and refused every time (%u with a fresh "
            "challenge, %u with 403 Forbidden): the password (or the authentication username) "
            "is wrong for realm \"%s\", or the account is locked. Check the credentials "
            "configured on the client against the server's user database.",
            a->user[0] ? " for user \"" : "", a->user, a->user[0] ? "\"" : "",
            a->with_creds + a->forbidden, a->with_creds + a->forbidden == 1 ? "" : "s",
            a->with_creds, a->forbidden, a->realm);
    else
        say(is->diagnosis, sizeof is->diagnosis,
            "The server challenged every %s with the same nonce and credentials were sent: the "
            "response digest does not match (wrong password, or a mangled URI/method between "
            "client and server, e.g. an ALG rewriting the request). Check the password and "
            "whether anything on the path rewrites the request line.", what);
}

static void check_auth_call(struct issue_engine *e, const struct call *c)
{
    const struct auth_track *a = c->auth;
    if (!a || a->run < e->cfg.auth_loop_challenges || c->answer_time)
        return;
    struct issue is;
    issue_init(&is, ISSUE_AUTH_LOOP, SEV_WARNING, a->first_time);
    call_header(&is, c);
    auth_evidence(&is, a);
    say(is.summary, sizeof is.summary, "INVITE challenged %u times without success", a->run);
    auth_diagnosis(&is, a, "INVITE");
    emit(e, &is);
}

static void check_timing(struct issue_engine *e, const struct call *c)
{
    char from[IP_ADDR_PORT_STRLEN], to[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&c->caller_ip, c->caller_port, from, sizeof from);
    ip_addr_port_str(&c->callee_ip, c->callee_port, to, sizeof to);
    struct issue is;
    /* after a 401/407, the clock starts again at the INVITE with credentials: the time a
     * person took to type a password is not delay of the network */
    ptime_t start = c->attempt_time ? c->attempt_time : c->invite_time;
    if (c->ringing_time) {
        double pdd = ms_between(start, c->ringing_time);
        if (pdd <= e->cfg.pdd_warn_ms)
            return;
        issue_init(&is, ISSUE_LONG_POST_DIAL_DELAY, band(pdd, e->cfg.pdd_warn_ms, e->cfg.pdd_crit_ms),
                   start);
        call_header(&is, c);
        add_frame(&is, c->ringing_frame);
        ev_num(&is, "pdd_ms", pdd);
        ev_num(&is, "threshold_ms", e->cfg.pdd_warn_ms);
        ev_str(&is, "invite_to", "%s", to);
        say(is.summary, sizeof is.summary, "%.1f s from INVITE to the first ringing response",
            pdd / 1000);
        say(is.diagnosis, sizeof is.diagnosis,
            "The caller waited %.1f s in silence before ringing. The usual causes are a slow "
            "DNS (NAPTR/SRV/A) look-up by a proxy, a proxy that tries a dead next hop until its "
            "timer fires before failing over, slow number translation or database (LNP, CNAM) "
            "dips, or an overloaded server. Look at where the delay appears on the ladder: "
            "between which hop's INVITE and the next hop's 100/18x.",
            pdd / 1000);
        if (c->retransmissions)
            more(is.diagnosis, sizeof is.diagnosis,
                 " The INVITE was retransmitted: a hop answered late or not at all.");
        emit(e, &is);
        return;
    }
    bool timeout = c->state == CALL_FAILED && !c->final_status; /* Timer B: nothing answered */
    ptime_t until = c->answer_time ? c->answer_time
                    : (c->final_status || timeout) && c->end_time ? c->end_time : 0;
    if (!until)
        return;
    double ms = ms_between(start, until);
    if (ms <= e->cfg.setup_warn_ms)
        return;
    issue_init(&is, ISSUE_SLOW_SETUP, band(ms, e->cfg.setup_warn_ms, e->cfg.setup_crit_ms),
               start);
    call_header(&is, c);
    add_frame(&is, c->answer_time ? c->answer_frame : c->final_frame);
    ev_num(&is, "setup_ms", ms);
    ev_num(&is, "threshold_ms", e->cfg.setup_warn_ms);
    ev_num(&is, "final_status", c->final_status);
    ev_str(&is, "invite_to", "%s", to);
    say(is.summary, sizeof is.summary, "%.1f s from INVITE to the %s, with no ringing response",
        ms / 1000, c->answer_time ? "answer" : timeout ? "transaction timeout" : "final response");
    if (timeout) {
        say(is.diagnosis, sizeof is.diagnosis,
            "Nothing answered the INVITE to %s, not even 100 Trying, until the client gave up "
            "(RFC 3261 Timer B, 64*T1 = 32 s): the destination is down or unreachable, a "
            "firewall drops SIP towards it, or the request goes to a wrong address or port. "
            "Check that %s is up and listening, and the route to it.", to, to);
        emit(e, &is);
        return;
    }
    say(is.diagnosis, sizeof is.diagnosis,
        "No 180/183 came for %.1f s, so the caller heard nothing while the call was set up. "
        "If a 100 Trying came, the next hop accepted the INVITE but forwarded it slowly or "
        "waited on a dead destination; if none came, the INVITE itself went unanswered "
        "(retransmissions tell). Check the route from %s and the response times of each hop.",
        ms / 1000, to);
    emit(e, &is);
}

static void check_retrans(struct issue_engine *e, const struct call *c)
{
    if (!c->nretrans)
        return;
    const struct call_retrans *w = &c->retrans[0];
    for (unsigned i = 1; i < c->nretrans; i++)
        if (c->retrans[i].copies > w->copies)
            w = &c->retrans[i];
    struct issue is;
    issue_init(&is, ISSUE_RETRANSMISSIONS,
               w->copies + 1 >= e->cfg.retrans_warn ? SEV_WARNING : SEV_INFO, w->first_time);
    is.call_seq = c->seq;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN], hops[112] = "";
    for (unsigned i = 0; i < c->nretrans; i++) {
        const struct call_retrans *r = &c->retrans[i];
        add_frame(&is, r->first_frame);
        add_frame(&is, r->last_frame);
        ip_addr_port_str(&r->src, r->sport, src, sizeof src);
        ip_addr_port_str(&r->dst, r->dport, dst, sizeof dst);
        more(hops, sizeof hops, "%s%s %s>%s x%u", i ? "; " : "", r->what, src, dst, r->copies + 1);
    }
    ip_addr_port_str(&w->src, w->sport, src, sizeof src);
    ip_addr_port_str(&w->dst, w->dport, dst, sizeof dst);
    ev_num(&is, "retransmissions", c->retransmissions);
    ev_str(&is, "message", "%s", w->what);
    ev_str(&is, "from", "%s", src);
    ev_str(&is, "to", "%s", dst);
    ev_num(&is, "copies", w->copies + 1);
    ev_num(&is, "span_ms", ms_between(w->first_time, w->last_time));
    ev_str(&is, "hops", "%s", hops);
    if (c->retrans_dropped)
        ev_num(&is, "messages_not_listed", c->retrans_dropped);
    say(is.summary, sizeof is.summary, "%s sent %u times from %s to %s over %.1f s", w->what,
        w->copies + 1, src, dst, ms_between(w->first_time, w->last_time) / 1000);
    bool request = w->what[0] < '0' || w->what[0] > '9';
    bool ok_invite = !request && w->what[0] == '2' && strstr(w->what, "INVITE");
    if (request)
        say(is.diagnosis, sizeof is.diagnosis,
            "%s kept re-sending its %s because no response reached it in time (RFC 3261 timer "
            "A/E doubling from 500 ms): the slow hop is %s -> %s. Either the request was lost "
            "on the way, its response was lost on the way back, or %s answered slowly "
            "(overload, a slow look-up before even a 100 Trying). Check loss on that path and "
            "the load of %s.",
            src, w->what, src, dst, dst, dst);
    else if (ok_invite)
        say(is.diagnosis, sizeof is.diagnosis,
            "%s re-sent its 200 OK because no ACK reached it (RFC 3261 §13.3.1.4): the ACK was "
            "lost or went elsewhere, on the path %s -> %s. Typical causes: a wrong Contact or "
            "Record-Route (often a NAT or an ALG rewriting it) so the caller sends the ACK to "
            "an unreachable address. Without the ACK the callee drops the call after 32 s.",
            src, dst, src);
    else if (w->what[0] == '1')
        say(is.diagnosis, sizeof is.diagnosis,
            "%s re-sent its reliable provisional %s (RFC 3262) because no PRACK acknowledged it "
            "in time: the PRACK from %s was late or lost on the way back. Harmless when it "
            "stops after one or two copies; if it goes on, the call fails after 32 s — check "
            "the PRACK path and 100rel support on %s.",
            src, w->what, dst, dst);
    else
        say(is.diagnosis, sizeof is.diagnosis,
            "%s re-sent its %s because the request was sent again (its response was lost on "
            "the way from %s to %s, or arrived late). Check loss on that path.",
            src, w->what, src, dst);
    emit(e, &is);
}

/* ---- calls: the path and its DNS (issue 12) ---- */

static const char *qtype_str(uint16_t t)
{
    const char *n = dns_type_name(t);
    return n ? n : "?";
}

#define MAX_PATH_ISSUES 3 /* of each kind per call: one cause seldom needs more */

static void check_dns_slow(struct issue_engine *e, const struct call *c)
{
    unsigned emitted = 0;
    for (unsigned i = 0; i < c->ndns && emitted < MAX_PATH_ISSUES; i++) {
        const struct call_dns *d = &c->dns[i];
        if (!d->answer_time)
            continue;
        double took = ms_between(d->query_time, d->answer_time);
        if (took <= e->cfg.dns_slow_warn_ms)
            continue;
        char host[64], server[64], rc[16];
        ipstr(&d->host, host, sizeof host);
        ipstr(&d->server, server, sizeof server);
        struct issue is;
        issue_init(&is, ISSUE_DNS_SLOW, band(took, e->cfg.dns_slow_warn_ms, e->cfg.dns_slow_crit_ms),
                   d->query_time);
        is.call_seq = c->seq;
        add_frame(&is, d->query_frame);
        add_frame(&is, d->answer_frame);
        add_frame(&is, d->next_frame);
        ev_str(&is, "host", "%s", host);
        ev_str(&is, "server", "%s", server);
        ev_str(&is, "name", "%s", d->qname);
        ev_str(&is, "type", "%s", qtype_str(d->qtype));
        ev_str(&is, "rcode", "%s", dns_rcode_name((uint8_t)d->rcode, rc, sizeof rc));
        ev_num(&is, "duration_ms", took);
        ev_num(&is, "tries", d->tries);
        ev_num(&is, "threshold_ms", e->cfg.dns_slow_warn_ms);
        if (d->next_time)
            ev_num(&is, "wait_ms", ms_between(d->query_time, d->next_time));
        bool invite = false; /* what waited: an INVITE it sent next, or its answer */
        for (unsigned k = 0; k < c->nsegs && d->next_frame; k++)
            invite |= c->segs[k].frame == d->next_frame;
        say(is.summary, sizeof is.summary, "%s's %s look-up of %s took %.1f s%s", host,
            qtype_str(d->qtype), d->qname, took / 1000,
            !d->next_time ? ""
            : invite      ? (d->by_receiver ? " before it forwarded the INVITE" : " before its INVITE went out")
                          : " before it answered the INVITE");
        if (d->tries > 1)
            say(is.diagnosis, sizeof is.diagnosis,
                "%s asked %u times before %s answered: the first query went unanswered and its "
                "resolver waited for its timeout before retrying. The call stood still for "
                "those %.1f s. Check the DNS servers %s is configured with (the first one is not "
                "answering, or a firewall drops its UDP port 53), and shorten the resolver's "
                "timeout or put a caching resolver next to %s.",
                host, d->tries, server, took / 1000, host, host);
        else
            say(is.diagnosis, sizeof is.diagnosis,
                "The DNS server %s took %.1f s to answer %s's %s query for %s, and the call "
                "waited for it. A server this slow is usually recursing to a distant or "
                "struggling authoritative server, or is overloaded. Check %s's response times; "
                "a caching resolver near %s, or static records for the SIP domain, take the "
                "look-up off the call's path.",
                server, took / 1000, host, qtype_str(d->qtype), d->qname, server, host);
        emit(e, &is);
        emitted++;
    }
}

/* A host of the path could not resolve what it needed: each of its look-ups for the call
 * failed (NXDOMAIN, SERVFAIL, an empty answer or none at all) and none gave a record. A
 * failure beside a success is RFC 3263's fallback at work (no NAPTR, then SRV, then A). */
static void check_dns_failure(struct issue_engine *e, const struct call *c)
{
    unsigned emitted = 0;
    for (unsigned i = 0; i < c->ndns && emitted < MAX_PATH_ISSUES; i++) {
        const struct call_dns *d = &c->dns[i];
        bool first = true, ok = false, concluded = false;
        for (unsigned k = 0; k < c->ndns; k++) {
            const struct call_dns *o = &c->dns[k];
            if (!ip_addr_eq(&o->host, &d->host))
                continue;
            if (k < i)
                first = false;
            ok |= o->rcode == DNS_NOERROR && o->answers > 0;
            concluded |= o->rcode >= 0 || o->timed_out;
        }
        if (!first || ok || !concluded)
            continue;
        char host[64], server[64], rc[16], list[112] = "";
        ipstr(&d->host, host, sizeof host);
        ipstr(&d->server, server, sizeof server);
        /* did the host send the INVITE on all the same (a cached address, a fallback)? */
        const struct call_seg *sent = NULL;
        for (unsigned k = 0; k < c->nsegs && !sent; k++)
            if (ip_addr_eq(&c->segs[k].src, &d->host) && c->segs[k].time >= d->query_time)
                sent = &c->segs[k];
        struct issue is;
        issue_init(&is, ISSUE_DNS_FAILURE, sent ? SEV_WARNING : SEV_CRITICAL, d->query_time);
        is.call_seq = c->seq;
        int worst = -2; /* what the answers said: NXDOMAIN over SERVFAIL over none */
        unsigned n = 0;
        for (unsigned k = i; k < c->ndns; k++) {
            const struct call_dns *o = &c->dns[k];
            if (!ip_addr_eq(&o->host, &d->host))
                continue;
            add_frame(&is, o->answer_frame ? o->answer_frame : o->query_frame);
            char tries[24] = "";
            if (o->tries > 1)
                snprintf(tries, sizeof tries, " (%u tries)", o->tries);
            more(list, sizeof list, "%s%s %s%s", n++ ? ", " : "", qtype_str(o->qtype),
                 o->rcode >= 0 ? (o->rcode == 0 ? "NODATA" : dns_rcode_name((uint8_t)o->rcode, rc, sizeof rc))
                               : "no answer", o->rcode >= 0 ? "" : tries);
            if (o->rcode == DNS_NXDOMAIN || (o->rcode > worst && worst != DNS_NXDOMAIN))
                worst = o->rcode;
        }
        const struct call_seg *s = d->seg >= 0 && d->seg < c->nsegs ? &c->segs[d->seg] : NULL;
        add_frame(&is, s ? s->frame : c->first_frame);
        add_frame(&is, c->final_frame);
        ev_str(&is, "host", "%s", host);
        ev_str(&is, "server", "%s", server);
        ev_str(&is, "name", "%s", d->qname);
        ev_str(&is, "answers", "%s", list);
        ev_num(&is, "lookups", n);
        if (c->final_status)
            ev_num(&is, "final_status", c->final_status);
        if (sent) {
            add_frame(&is, sent->frame);
            ev_num(&is, "invite_after_ms", ms_between(d->query_time, sent->time));
        }
        say(is.summary, sizeof is.summary, "%s could not resolve %s: %s", host, d->qname, list);
        if (sent)
            more(is.summary, sizeof is.summary, "; its INVITE went out %.1f s after the first query",
                 ms_between(d->query_time, sent->time) / 1000);
        if (worst == DNS_NXDOMAIN)
            say(is.diagnosis, sizeof is.diagnosis,
                "DNS says %s does not exist (NXDOMAIN from %s), so %s had nowhere to send the "
                "INVITE. Usually a typo in the dialled URI or in a routing rule that builds it, "
                "a SIP domain whose zone or records are missing, or a split-horizon DNS whose "
                "view for %s lacks the internal names. Check the Request-URI and the records "
                "of the domain as %s's resolver sees them.",
                d->qname, server, host, host, host);
        else if (worst == DNS_SERVFAIL)
            say(is.diagnosis, sizeof is.diagnosis,
                "The DNS server %s failed to answer %s's questions (SERVFAIL): it could not "
                "reach the domain's authoritative servers, or DNSSEC validation failed. The "
                "domain may exist; the resolver is what is broken. Check %s's logs and its path "
                "to the internet, or point %s at another resolver.",
                server, host, server, host);
        else if (worst == -1)
            say(is.diagnosis, sizeof is.diagnosis,
                "No DNS server answered %s (last asked: %s): the resolver is down or a firewall "
                "drops port 53 between them. The call could not be routed while DNS was "
                "silent. Check that %s reaches its resolvers over UDP and TCP port 53.",
                host, server, host);
        else
            say(is.diagnosis, sizeof is.diagnosis,
                "The domain exists but holds none of the records a SIP client looks for (RFC "
                "3263: NAPTR, SRV for _sip._udp/_sip._tcp/_sips._tcp, then A/AAAA), so %s "
                "found no address for it. Add the SRV (or A) records of the SIP service, or "
                "route the call by address.",
                host);
        if (sent)
            more(is.diagnosis, sizeof is.diagnosis,
                 " %s sent the INVITE %.1f s after its first query all the same (an address it "
                 "had cached, or a fallback to the A record or an outbound proxy): the caller "
                 "waited that long for a look-up that could not succeed.",
                 host, ms_between(d->query_time, sent->time) / 1000);
        else if (c->final_status && !c->answer_time)
            more(is.diagnosis, sizeof is.diagnosis, " The call ended %d.", c->final_status);
        emit(e, &is);
        emitted++;
    }
}

/* The time the look-ups of a host took within [from, to]: a hold they explain is theirs. */
static double dns_within(const struct call *c, const struct ip_addr *host, ptime_t from, ptime_t to)
{
    double ms = 0;
    for (unsigned i = 0; i < c->ndns; i++) {
        const struct call_dns *d = &c->dns[i];
        if (ip_addr_eq(&d->host, host) && d->query_time >= from && d->query_time <= to)
            ms += ms_between(d->query_time, d->answer_time ? d->answer_time : to);
    }
    return ms;
}

static void check_hops(struct issue_engine *e, const struct call *c)
{
    unsigned held = 0, timers = 0;
    for (unsigned i = 0; i < c->nsegs; i++) {
        const struct call_seg *out = &c->segs[i];
        if (out->parent < 0 || held == MAX_PATH_ISSUES)
            continue;
        const struct call_seg *in = &c->segs[out->parent];
        double ms = ms_between(in->time, out->time);
        if (ms <= e->cfg.hop_hold_warn_ms ||
            ms - dns_within(c, &in->dst, in->time, out->time) <= e->cfg.hop_hold_warn_ms)
            continue; /* fast, or waiting on DNS: dns_slow says so */
        char host[IP_ADDR_PORT_STRLEN], from[IP_ADDR_PORT_STRLEN], to[IP_ADDR_PORT_STRLEN];
        ip_addr_port_str(&in->dst, in->dport, host, sizeof host);
        ip_addr_port_str(&in->src, in->sport, from, sizeof from);
        ip_addr_port_str(&out->dst, out->dport, to, sizeof to);
        struct issue is;
        issue_init(&is, ISSUE_SLOW_HOP, band(ms, e->cfg.hop_hold_warn_ms, e->cfg.hop_hold_crit_ms),
                   in->time);
        is.call_seq = c->seq;
        add_frame(&is, in->frame);
        add_frame(&is, in->trying_frame);
        add_frame(&is, out->frame);
        ev_str(&is, "host", "%s", host);
        ev_str(&is, "from", "%s", from);
        ev_str(&is, "to", "%s", to);
        ev_num(&is, "held_ms", ms);
        ev_num(&is, "threshold_ms", e->cfg.hop_hold_warn_ms);
        if (in->trying_time)
            ev_num(&is, "trying_ms", ms_between(in->time, in->trying_time));
        say(is.summary, sizeof is.summary, "%s held the INVITE %.1f s before forwarding it to %s",
            host, ms / 1000, to);
        say(is.diagnosis, sizeof is.diagnosis,
            "%s received the INVITE from %s (frame %llu) and sent it on to %s only %.1f s later "
            "(frame %llu)%s. A hop that holds a request this long is waiting on something "
            "before it routes: a DNS look-up this capture does not show (it may use a resolver "
            "on another path), a database or number-portability dip, a slow routing script, or "
            "overload. Check %s's logs and load at that time.",
            host, from, (unsigned long long)in->frame, to, ms / 1000,
            (unsigned long long)out->frame,
            in->trying_time ? ", though it answered 100 Trying at once" : "", host);
        emit(e, &is);
        held++;
    }
    /* a hop that answered 408/503 once its transaction timer fired: it forwarded the
     * INVITE, the next hop never answered, and the caller waited the whole timer */
    for (unsigned i = 0; i < c->nsegs && timers < MAX_PATH_ISSUES; i++) {
        const struct call_seg *s = &c->segs[i];
        if ((s->final_status != 408 && s->final_status != 503) || !s->final_time)
            continue;
        const struct call_seg *out = NULL;
        for (unsigned k = i + 1; k < c->nsegs && !out; k++)
            if (c->segs[k].parent == (int8_t)i)
                out = &c->segs[k];
        ptime_t since = out ? out->time : s->time;
        double ms = ms_between(since, s->final_time);
        if (ms < e->cfg.hop_timeout_ms)
            continue;
        char host[IP_ADDR_PORT_STRLEN], to[IP_ADDR_PORT_STRLEN] = "";
        ip_addr_port_str(&s->dst, s->dport, host, sizeof host);
        if (out)
            ip_addr_port_str(&out->dst, out->dport, to, sizeof to);
        struct issue is;
        issue_init(&is, ISSUE_SLOW_HOP, SEV_CRITICAL, s->time);
        is.call_seq = c->seq;
        add_frame(&is, s->frame);
        add_frame(&is, out ? out->frame : 0);
        add_frame(&is, s->final_frame);
        ev_str(&is, "host", "%s", host);
        ev_num(&is, "status", s->final_status);
        ev_num(&is, "after_ms", ms);
        ev_num(&is, "threshold_ms", e->cfg.hop_timeout_ms);
        if (out) {
            ev_str(&is, "to", "%s", to);
            ev_num(&is, "forwarded_copies", out->copies + 1);
            ev_str(&is, "downstream_answer", "%s",
                   out->final_status ? "final" : out->prov_time ? "provisional"
                                                 : out->trying_time ? "100 Trying" : "none");
        }
        say(is.summary, sizeof is.summary, "%s answered %d after %.1f s%s%s%s", host,
            s->final_status, ms / 1000, out ? ": " : "", out ? to : "",
            out ? (out->trying_time || out->prov_time ? " answered too late" : " never answered")
                : "");
        if (out)
            say(is.diagnosis, sizeof is.diagnosis,
                "%s forwarded the INVITE to %s (frame %llu, sent %u times) and got %s back, so "
                "it waited for its transaction timer (RFC 3261 Timer B/C, 64*T1 = 32 s) before "
                "giving up with %d. The caller waited the whole time. %s is down, unreachable "
                "or dropping SIP. Check it, and have %s fail over sooner: a shorter INVITE "
                "timer (fr_timer), a backup route, or a destination marked dead by OPTIONS "
                "probing.",
                host, to, (unsigned long long)out->frame, out->copies + 1,
                out->trying_time || out->prov_time ? "no final answer" : "nothing", s->final_status,
                to, host);
        else
            say(is.diagnosis, sizeof is.diagnosis,
                "%s answered %d %.1f s after the INVITE reached it: a transaction timer fired "
                "on its way on (RFC 3261 Timer B/C, 64*T1 = 32 s). Where it forwarded the "
                "INVITE is not in this capture: capture on %s's far side too, and check the "
                "next hop it routes to and how soon it fails over.",
                host, s->final_status, ms / 1000, host);
        emit(e, &is);
        timers++;
    }
}

/* ---- calls: media ---- */

static bool ep_match(const struct held_call *c, int side, const struct ip_addr *a, uint16_t port)
{
    const struct call_media_ep *eps = c->eps[side];
    for (unsigned i = 0; i < c->side[side].neps; i++)
        if (eps[i].port == port && !memcmp(&eps[i].addr, a, sizeof *a))
            return true;
    return false;
}

/* Which way a stream of the call flows: 1 towards the callee, 2 towards the caller, 0 not
 * known. By the SDP endpoints first (a stream's destination, or its source for symmetric
 * RTP), then by the signaling addresses. */
static int stream_dir(const struct held_call *c, const struct held_stream *s)
{
    if (ep_match(c, 1, &s->dst, s->dport) || ep_match(c, 0, &s->src, s->sport))
        return 1;
    if (ep_match(c, 0, &s->dst, s->dport) || ep_match(c, 1, &s->src, s->sport))
        return 2;
    if (!memcmp(&s->src, &c->caller_ip, sizeof s->src) || !memcmp(&s->dst, &c->callee_ip, sizeof s->dst))
        return 1;
    if (!memcmp(&s->src, &c->callee_ip, sizeof s->src) || !memcmp(&s->dst, &c->caller_ip, sizeof s->dst))
        return 2;
    return 0;
}

static ptime_t overlap(ptime_t a0, ptime_t a1, ptime_t b0, ptime_t b1)
{
    ptime_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi > lo ? hi - lo : 0;
}

/* Media of one direction of a call over a period. */
struct dir_media {
    uint64_t packets, streams;
    ptime_t covered;           /* summed spans of its streams inside the period */
    ptime_t first;             /* first packet inside the period, 0 none */
    uint64_t first_frame, last_frame;
};

static void dir_media(const struct held_call *c, const struct held_stream *ss, size_t n, int dir,
                      ptime_t from, ptime_t to, struct dir_media *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const struct held_stream *s = &ss[i];
        if (stream_dir(c, s) != dir || s->last < from || s->first > to)
            continue;
        out->streams++;
        out->packets += s->packets;
        out->covered += overlap(s->first, s->last, from, to);
        ptime_t f = s->first > from ? s->first : from;
        if (!out->first || f < out->first) {
            out->first = f;
            out->first_frame = s->first_frame;
        }
        out->last_frame = s->last_frame;
    }
}

static bool promised(uint8_t sender_dir, uint8_t receiver_dir)
{
    return (sender_dir == SDP_SENDRECV || sender_dir == SDP_SENDONLY) &&
           (receiver_dir == SDP_SENDRECV || receiver_dir == SDP_RECVONLY);
}

static ptime_t held_time(const struct held_call *c, ptime_t from, ptime_t to)
{
    ptime_t t = 0;
    for (unsigned i = 0; i < c->nholds; i++)
        t += overlap(c->holds[i].start, c->holds[i].end ? c->holds[i].end : to, from, to);
    return t;
}

static void side_desc(const struct held_call *c, int side, char *buf, size_t n)
{
    const struct call_side *s = &c->side[side];
    char a[64];
    if (!s->neps) {
        snprintf(buf, n, "none");
        return;
    }
    snprintf(buf, n, "%s:%u", ipstr(&c->eps[side][0].addr, a, sizeof a), c->eps[side][0].port);
}

static void check_audio(struct issue_engine *e, const struct held_call *c,
                        const struct held_stream *ss, size_t n, ptime_t end)
{
    if (!c->answer_time || (!c->side[0].have_sdp && !c->side[1].have_sdp))
        return; /* no audio was negotiated that we saw */
    ptime_t to = c->end_time ? c->end_time : end;
    if (to <= c->answer_time)
        return;
    ptime_t span = to - c->answer_time;
    ptime_t held = held_time(c, c->answer_time, to);
    ptime_t judged = span > held ? span - held : 0;
    if ((double)judged / 1e9 < e->cfg.audio_min_s)
        return;
    uint8_t d0 = c->side[0].have_sdp ? c->side[0].dir : SDP_SENDRECV;
    uint8_t d1 = c->side[1].have_sdp ? c->side[1].dir : SDP_SENDRECV;
    bool want[3] = {false, promised(d0, d1), promised(d1, d0)};
    struct dir_media m[3];
    dir_media(c, ss, n, 1, c->answer_time, to, &m[1]);
    dir_media(c, ss, n, 2, c->answer_time, to, &m[2]);
    double cov[3] = {0, (double)m[1].covered / (double)judged, (double)m[2].covered / (double)judged};
    struct issue is;
    char caller_sdp[80], callee_sdp[80], a[64];
    side_desc(c, 0, caller_sdp, sizeof caller_sdp);
    side_desc(c, 1, callee_sdp, sizeof callee_sdp);
    if (want[1] && want[2] && !m[1].packets && !m[2].packets) {
        issue_init(&is, ISSUE_NO_AUDIO, SEV_CRITICAL, c->answer_time);
        is.call_seq = c->seq;
        add_frame(&is, c->first_frame);
        add_frame(&is, c->answer_frame);
        add_frame(&is, c->side[0].sdp_frame);
        add_frame(&is, c->side[1].sdp_frame);
        ev_num(&is, "answered_s", (double)span / 1e9);
        ev_str(&is, "caller_sdp", "%s", caller_sdp);
        ev_str(&is, "callee_sdp", "%s", callee_sdp);
        say(is.summary, sizeof is.summary, "answered for %.1f s, no RTP seen in either direction",
            (double)span / 1e9);
        say(is.diagnosis, sizeof is.diagnosis,
            "The SDP promised audio both ways (caller %s, callee %s) but no RTP to or from those "
            "addresses passed the capture point. Either the media takes another path than the "
            "signaling (check that the capture sees the media network, or an SBC/media relay "
            "that anchors it), or a firewall blocks the RTP port range on both sides, or the "
            "media is encrypted in a way we do not recognise.",
            caller_sdp, callee_sdp);
        emit(e, &is);
        return;
    }
    for (int dir = 1; dir <= 2; dir++) {
        int other = 3 - dir;
        if (!want[dir] || !m[other].packets)
            continue;
        bool none = m[dir].packets == 0;
        bool mostly = !none && cov[dir] < e->cfg.one_way_ratio && cov[other] >= 0.8;
        if (!none && !mostly)
            continue;
        int sender = dir == 1 ? 0 : 1; /* the side that should send this direction */
        const struct call_side *snd = &c->side[sender], *rcv = &c->side[1 - sender];
        const char *who = sender == 0 ? "caller" : "callee";
        const char *whom = sender == 0 ? "callee" : "caller";
        issue_init(&is, ISSUE_ONE_WAY_AUDIO, none ? SEV_CRITICAL : SEV_WARNING, c->answer_time);
        is.call_seq = c->seq;
        add_frame(&is, c->answer_frame);
        add_frame(&is, snd->sdp_frame);
        add_frame(&is, rcv->sdp_frame);
        add_frame(&is, m[other].first_frame);
        if (!none)
            add_frame(&is, m[dir].first_frame);
        ev_str(&is, "silent", "%s_to_%s", who, whom);
        ev_num(&is, "answered_s", (double)span / 1e9);
        ev_num(&is, "on_hold_s", (double)held / 1e9);
        ev_num(&is, "packets_silent_direction", (double)m[dir].packets);
        ev_num(&is, "packets_other_direction", (double)m[other].packets);
        ev_num(&is, "silent_coverage_pct", round(cov[dir] * 1000) / 10);
        ev_str(&is, "caller_sdp", "%s", caller_sdp);
        ev_str(&is, "callee_sdp", "%s", callee_sdp);
        const struct call_media_ep *snd_ep = c->eps[sender], *rcv_ep = c->eps[1 - sender];
        bool snd_private = snd->neps && issue_addr_private(&snd_ep[0].addr) &&
                           !issue_addr_private(&snd->sig_addr);
        bool rcv_private = rcv->neps && issue_addr_private(&rcv_ep[0].addr) &&
                           !issue_addr_private(&rcv->sig_addr);
        ev_str(&is, "silent_side_sdp_private", "%s", snd_private ? "yes" : "no");
        if (none)
            say(is.summary, sizeof is.summary,
                "one-way audio: no RTP from the %s, the %s hears nothing (%.1f s answered)", who,
                whom, (double)judged / 1e9);
        else
            say(is.summary, sizeof is.summary,
                "one-way audio: RTP from the %s covered only %.0f %% of the call", who,
                cov[dir] * 100);
        if (snd_private)
            say(is.diagnosis, sizeof is.diagnosis,
                "The %s announced the private address %s while its signaling came from the "
                "public %s: it is behind NAT and nobody fixed its SDP. Its RTP either leaves "
                "from another address/port than announced or is dropped on the way. Check the "
                "NAT/SIP ALG (turn the ALG off, or enable STUN/ICE on the device) and whether "
                "the proxy or SBC should anchor the media (comedia/latching).",
                who, ipstr(&snd_ep[0].addr, a, sizeof a),
                ipstr(&snd->sig_addr, (char[64]){0}, 64));
        else if (rcv_private)
            say(is.diagnosis, sizeof is.diagnosis,
                "The %s announced the private address %s while its signaling came from a public "
                "one: the %s's RTP is sent to an address that does not route to it, so it "
                "never reaches the %s. Fix the NAT traversal of the %s (ALG off, STUN/ICE, or "
                "media anchored on an SBC).",
                whom, ipstr(&rcv_ep[0].addr, a, sizeof a), who, whom, whom);
        else if (none)
            say(is.diagnosis, sizeof is.diagnosis,
                "The %s received RTP (%llu packets) but sent none that passed the capture "
                "point, although its SDP (%s) promised to send. Likely: a firewall blocks its "
                "outbound RTP, it sends to another address than the %s announced (%s), the "
                "device is muted with silence suppression and no comfort noise, or its media "
                "leaves on another path. Check the %s's network and the route to %s.",
                who, (unsigned long long)m[other].packets, sender == 0 ? caller_sdp : callee_sdp,
                whom, sender == 0 ? callee_sdp : caller_sdp, who,
                sender == 0 ? callee_sdp : caller_sdp);
        else
            say(is.diagnosis, sizeof is.diagnosis,
                "RTP from the %s stopped early or came only in short bursts, while the other "
                "direction flowed for most of the call. Likely: the %s's media path changed "
                "mid-call (a re-INVITE to a new address, a NAT binding that timed out), or the "
                "device muted with silence suppression. Check the streams' timelines for when "
                "it stopped.",
                who, who);
        emit(e, &is);
    }
}

static bool leg_saw(const struct held_call *c, uint8_t flag)
{
    for (unsigned i = 1; i <= c->nlegs && i < CALL_MAX_LEGS; i++)
        if (c->leg_prov[i] & flag)
            return true;
    return false;
}

static void check_ringback(struct issue_engine *e, const struct held_call *c,
                           const struct held_stream *ss, size_t n, ptime_t end)
{
    if (!c->early_time)
        return;
    ptime_t until = c->answer_time ? c->answer_time : c->end_time ? c->end_time : end;
    if (until <= c->early_time)
        return;
    struct dir_media m;
    dir_media(c, ss, n, 2, c->early_time, until, &m);
    ptime_t silent_until = m.packets ? m.first : until;
    double gap = ms_between(c->early_time, silent_until);
    if (gap < e->cfg.ringback_silence_ms)
        return;
    struct issue is;
    issue_init(&is, ISSUE_RINGBACK_SILENCE, SEV_WARNING, c->early_time);
    is.call_seq = c->seq;
    add_frame(&is, c->first_frame);
    add_frame(&is, c->early_frame);
    add_frame(&is, c->answer_frame);
    add_frame(&is, m.first_frame);
    char callee_sdp[80];
    side_desc(c, 1, callee_sdp, sizeof callee_sdp);
    ev_num(&is, "early_status", c->early_status);
    ev_num(&is, "silence_ms", gap);
    ev_num(&is, "early_rtp_packets", (double)m.packets);
    ev_str(&is, "outcome", "%s", c->answer_time ? "answered" : "not answered");
    ev_str(&is, "callee_sdp", "%s", callee_sdp);
    bool rewrite = c->nlegs && leg_saw(c, LEG_SAW_180) && !leg_saw(c, LEG_SAW_18X_SDP);
    ev_str(&is, "b2bua_turned_180_into_183", "%s", rewrite ? "yes" : "no");
    say(is.summary, sizeof is.summary,
        "%d with SDP, then %.1f s with no RTP to the caller%s: the caller heard silence, not "
        "ringback", c->early_status, gap / 1000, m.packets ? " before early media began" : "");
    say(is.diagnosis, sizeof is.diagnosis,
        "A %d with SDP tells the caller's phone to stop its own ringback and play the early "
        "media that the far end will send (RFC 3960); none reached the caller for %.1f s, so "
        "the caller heard dead air and may hang up thinking the call failed.",
        c->early_status, gap / 1000);
    if (rewrite)
        more(is.diagnosis, sizeof is.diagnosis,
             " The far leg of this call only sent 180 Ringing without SDP: the B2BUA in the "
             "middle turned that 180 into a %d with SDP and then sent no ringback tone itself. "
             "Configure it to pass 180 through, or to generate ringback when it sends 183.",
             c->early_status);
    else
        more(is.diagnosis, sizeof is.diagnosis,
             " Check the device that sent the %d (the callee side, %s): it should send 180 "
             "without SDP if it has no tone to play, or actually stream the ringback/announcement; "
             "also check that early RTP is not blocked towards the caller (firewall or NAT "
             "pinhole not yet open before the answer).",
             c->early_status, callee_sdp);
    emit(e, &is);
}

static void check_private(struct issue_engine *e, const struct held_call *c,
                          const struct held_stream *ss, size_t n)
{
    for (int side = 0; side < 2; side++) {
        const struct call_side *s = &c->side[side];
        const char *who = side == 0 ? "caller" : "callee";
        const struct call_media_ep *eps = c->eps[side];
        bool priv =
            s->neps && issue_addr_private(&eps[0].addr) && !issue_addr_private(&s->sig_addr);
        /* media this side sent from another address than it announced */
        const struct held_stream *moved = NULL;
        for (size_t i = 0; i < n && s->neps; i++) {
            int d = stream_dir(c, &ss[i]);
            if (d == (side == 0 ? 1 : 2) && ss[i].dst_ann && !ss[i].src_ann &&
                !ep_match(c, side, &ss[i].src, ss[i].sport)) {
                moved = &ss[i];
                break;
            }
        }
        if (!priv && !moved)
            continue;
        struct issue is;
        issue_init(&is, ISSUE_SDP_PRIVATE_ADDRESS, priv && !moved ? SEV_WARNING : SEV_INFO,
                   s->sdp_time);
        is.call_seq = c->seq;
        add_frame(&is, s->sdp_frame);
        char a[64], b[64], m[IP_ADDR_PORT_STRLEN];
        ev_str(&is, "side", "%s", who);
        ev_str(&is, "sdp_address", "%s:%u", ipstr(&eps[0].addr, a, sizeof a), eps[0].port);
        ev_str(&is, "signaling_source", "%s", ipstr(&s->sig_addr, b, sizeof b));
        if (moved) {
            add_frame(&is, moved->first_frame);
            ev_str(&is, "media_source", "%s", ip_addr_port_str(&moved->src, moved->sport, m, sizeof m));
        }
        if (priv)
            say(is.summary, sizeof is.summary, "the %s's SDP announces private %s; its signaling "
                "comes from public %s", who, a, b);
        else
            say(is.summary, sizeof is.summary, "the %s's RTP comes from %s, not from the %s:%u "
                "its SDP announced", who, m, a, eps[0].port);
        if (moved)
            say(is.diagnosis, sizeof is.diagnosis,
                "The %s is behind NAT: its media really leaves from %s. Here the far end "
                "answered to that address (symmetric RTP / latching), so audio can work; if "
                "it breaks, it will be one-way towards the %s. Fixing the SDP at the source "
                "(STUN/ICE, an SBC with NAT traversal, no SIP ALG) removes the guesswork.",
                who, m, who);
        else
            say(is.diagnosis, sizeof is.diagnosis,
                "The %s sent its private address %s in SDP from the public address %s: a NAT "
                "is in between and nothing rewrote the SDP. Unless a media relay latches onto "
                "the real source, the far end sends RTP to an unroutable address and the %s "
                "hears nothing. Check for a SIP ALG on the NAT (turn it off), enable STUN/ICE "
                "or NAT traversal on the proxy/SBC.",
                who, a, b, who);
        emit(e, &is);
    }
}

static void check_after_bye(struct issue_engine *e, const struct held_call *c,
                            const struct held_stream *ss, size_t n)
{
    if (!c->bye || !c->end_time)
        return;
    const struct held_stream *w = NULL;
    for (size_t i = 0; i < n; i++)
        if (ss[i].last > c->end_time && (!w || ss[i].last > w->last))
            w = &ss[i];
    if (!w || ms_between(c->end_time, w->last) < e->cfg.rtp_after_bye_ms)
        return;
    double after = ms_between(c->end_time, w->last);
    struct issue is;
    issue_init(&is, ISSUE_RTP_AFTER_BYE, SEV_WARNING, c->end_time);
    is.call_seq = c->seq;
    is.stream_seq = w->seq;
    add_frame(&is, c->end_frame);
    add_frame(&is, w->last_frame);
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&w->src, w->sport, src, sizeof src);
    ip_addr_port_str(&w->dst, w->dport, dst, sizeof dst);
    ev_num(&is, "after_bye_ms", after);
    ev_str(&is, "media_from", "%s", src);
    ev_str(&is, "media_to", "%s", dst);
    say(is.summary, sizeof is.summary, "RTP from %s kept flowing %.1f s after the BYE", src,
        after / 1000);
    say(is.diagnosis, sizeof is.diagnosis,
        "The dialog ended with the BYE in frame %llu, but %s kept sending media to %s. The "
        "sender did not tear its session down: it never got the BYE (check that the BYE and "
        "its 200 OK crossed every hop), or a media server/SBC leg was not released (a leaked "
        "session that keeps ports and licences, and can bill the call longer).",
        (unsigned long long)c->end_frame, src, dst);
    emit(e, &is);
}

static void check_unfinished(struct issue_engine *e, const struct held_call *c,
                             const struct held_stream *ss, size_t n, ptime_t end, bool media)
{
    if (c->state != CALL_UNFINISHED)
        return;
    ptime_t last = c->last_time;
    bool had_media = false;
    for (size_t i = 0; i < n; i++) {
        had_media = true;
        if (ss[i].last > last)
            last = ss[i].last;
    }
    double quiet_s = (double)(end - last) / 1e9;
    /* a zombie is a call whose media stopped long before the end with no BYE, or whose
     * session timer ran out; without media to look at, a quiet call may simply be a long
     * one still talking */
    bool cut = !c->session_expired && (quiet_s <= e->cfg.capture_end_s || !media || !had_media);
    struct issue is;
    issue_init(&is, ISSUE_UNFINISHED_CALL, cut ? SEV_INFO : SEV_WARNING, c->answer_time);
    is.call_seq = c->seq;
    add_frame(&is, c->answer_frame);
    add_frame(&is, c->last_frame);
    ev_num(&is, "answered_s", (double)(end - c->answer_time) / 1e9);
    ev_num(&is, "quiet_before_end_s", quiet_s);
    ev_str(&is, "session_timer_expired", "%s", c->session_expired ? "yes" : "no");
    if (cut && quiet_s <= e->cfg.capture_end_s) {
        say(is.summary, sizeof is.summary, "still in progress when the capture ended");
        say(is.diagnosis, sizeof is.diagnosis,
            "Signaling or media was active up to %.1f s before the end of the capture: the "
            "capture stopped during the call, nothing is wrong with it. Capture longer to see "
            "how it ends.", quiet_s);
    } else if (cut) {
        say(is.summary, sizeof is.summary, "answered, no BYE before the capture ended");
        say(is.diagnosis, sizeof is.diagnosis,
            "No BYE was seen, and the capture holds no media of this call to tell a call still "
            "in progress from a zombie whose BYE was lost. Capture the media too, or longer, to "
            "see how it ends.");
    } else if (c->session_expired) {
        say(is.summary, sizeof is.summary, "zombie call: the session timer expired without a "
            "refresh or a BYE");
        say(is.diagnosis, sizeof is.diagnosis,
            "The 2xx set a session timer (RFC 4028) and no re-INVITE/UPDATE refreshed it, and "
            "no BYE came: one side lost the call without telling the other (crash, network "
            "loss, a BYE dropped by NAT/firewall). Check the refresher's logs and whether a "
            "BYE was sent on another path.");
    } else {
        say(is.summary, sizeof is.summary, "zombie call: answered, no BYE, silent for %.0f s "
            "before the capture ended", quiet_s);
        say(is.diagnosis, sizeof is.diagnosis,
            "The call was answered and its media stopped %.0f s before the end of the capture, "
            "but no BYE was seen. Either the BYE took a path the capture does not see, or it "
            "was lost (NAT binding expired, firewall) and the call stays up on a server that "
            "may bill it and hold its resources. Check the endpoints' view of the call and "
            "enable session timers (RFC 4028) to clean such calls up.", quiet_s);
    }
    emit(e, &is);
}

/* ---- calls: where the media confirms or contradicts the SDP (issue 21) ---- */

/* Which side's SDP was the offer: the caller's, unless the callee's came first (a late
 * offer: an INVITE without SDP, the offer in the 200, the answer in the ACK). */
static int offer_side(const struct held_call *c)
{
    const struct call_side *s = c->side;
    return s[0].have_sdp && s[1].have_sdp && s[1].sdp_time < s[0].sdp_time;
}

static const char *dir_name(int dir)
{
    return dir == 1 ? "caller_to_callee" : "callee_to_caller";
}

/* The payload types a side's SDP listed: whether pt is one, and whether it names a voice
 * codec (not telephone-event, RFC 4733, nor comfort noise, RFC 3389). */
static bool side_has_pt(const struct call_side *s, uint8_t pt, bool *audio)
{
    for (unsigned i = 0; s->have_sdp && i < s->npts; i++)
        if (s->pts[i] == pt) {
            *audio = s->pts_audio >> i & 1;
            return true;
        }
    return false;
}

/* Payload types a direction's RTP carried, as a JSON list (the first 8: RTP with more is
 * not a call's audio). buf: 40 bytes at least. */
static void seen_json(const uint64_t seen[2], char *buf, size_t n)
{
    snprintf(buf, n, "[");
    unsigned listed = 0;
    for (unsigned pt = 0; pt < 128 && listed < 8; pt++)
        if (seen[pt >> 6] >> (pt & 63) & 1)
            more(buf, n, "%s%u", listed++ ? "," : "", pt);
    more(buf, n, "]");
}

/* Offer and answer share no codec (RFC 3264 §6.1 forbids the answer that), and the RTP
 * says what came of it. When both directions flowed, each only in payload types the offer
 * listed, with one of its audio codecs among them, the media proves the two ends decoded
 * each other in the offer's codec: the answer's SDP is wrong, the call was not. Anything
 * else (no RTP, one direction, a type the offer did not list) is the mismatch it looks. */
static void check_codecs_media(struct issue_engine *e, const struct held_call *c,
                               const struct held_stream *ss, size_t n, bool media)
{
    if (!c->codec_disjoint)
        return;
    int off = offer_side(c);
    const struct call_side *o = &c->side[off], *a = &c->side[1 - off];
    uint64_t seen[3][2] = {{0}};
    for (size_t i = 0; i < n; i++) {
        int d = stream_dir(c, &ss[i]);
        if (d) {
            seen[d][0] |= ss[i].pt_seen[0];
            seen[d][1] |= ss[i].pt_seen[1];
        }
    }
    bool flowed = media;
    for (int d = 1; d <= 2 && flowed; d++) {
        bool any = false, audio_pt = false;
        for (unsigned pt = 0; pt < 128 && flowed; pt++) {
            if (!(seen[d][pt >> 6] >> (pt & 63) & 1))
                continue;
            bool audio = false;
            any = true;
            flowed = side_has_pt(o, (uint8_t)pt, &audio);
            audio_pt |= audio;
        }
        flowed = flowed && any && audio_pt;
    }
    char rtp[2][64], pts[112], offer_pts[112];
    seen_json(seen[1], rtp[0], sizeof rtp[0]);
    seen_json(seen[2], rtp[1], sizeof rtp[1]);
    struct issue is;
    issue_init(&is, ISSUE_CODEC_MISMATCH, flowed ? SEV_WARNING : SEV_CRITICAL,
               a->sdp_time ? a->sdp_time : c->invite_time);
    is.call_seq = c->seq;
    add_frame(&is, c->first_frame);
    add_frame(&is, o->sdp_frame);
    add_frame(&is, a->sdp_frame);
    const char *oc = c->codecs[off], *ac = c->codecs[1 - off];
    ev_str(&is, "caller_codecs", "%s", c->codecs[0]);
    ev_str(&is, "callee_codecs", "%s", c->codecs[1]);
    pts_json(o, offer_pts, sizeof offer_pts);
    ev_json(&is, "offer_payload_types", "%s", offer_pts);
    pts_json(a, pts, sizeof pts);
    ev_json(&is, "answer_payload_types", "%s", pts);
    ev_str(&is, "offer_by", "%s", off ? "callee" : "caller");
    if (media)
        ev_json(&is, "rtp_payload_types", "{\"caller_to_callee\":%s,\"callee_to_caller\":%s}",
                rtp[0], rtp[1]);
    ev_str(&is, "media_confirms_offer", "%s", flowed ? "yes" : "no");
    if (flowed) {
        for (size_t i = 0; i < n; i++)
            if (stream_dir(c, &ss[i])) {
                add_frame(&is, ss[i].first_frame);
                break;
            }
        say(is.summary, sizeof is.summary,
            "answer [%s] names no codec of the offer [%s], yet RTP flowed both ways in the "
            "offer's payload types (%s from the caller, %s from the callee)", ac, oc, rtp[0],
            rtp[1]);
        say(is.diagnosis, sizeof is.diagnosis,
            "The answer's SDP is wrong: it lists only codecs the offer did not (RFC 3264 §6.1 "
            "forbids that), but the media flowed in the offer's codec in both directions, so "
            "the two ends did decode each other and the audio of this call worked. The %s (or "
            "an SBC/B2BUA rewriting its SDP) answers with a canned or misconfigured codec list "
            "that does not describe what it sends; test tools answering a fixed SDP do this. "
            "Fix the answer's codec list: an endpoint or SBC that trusts the SDP (transcoding, "
            "recording, lawful intercept, a stricter peer) would decode this call wrongly.",
            off ? "caller" : "callee");
    } else {
        say(is.summary, sizeof is.summary, "offer [%s] and answer [%s] share no codec", oc, ac);
        say(is.diagnosis, sizeof is.diagnosis,
            "The answer names only codecs the offer did not list, which RFC 3264 forbids: the "
            "answerer (or an SBC rewriting SDP) is misconfigured, and the two sides will not "
            "decode each other's audio. Check the codec policy of the answering device and of "
            "any SBC/B2BUA that rewrites SDP.");
        if (media)
            more(is.diagnosis, sizeof is.diagnosis,
                 " The RTP seen does not prove otherwise: payload types %s from the caller, "
                 "%s from the callee, against the offer's %s.", rtp[0], rtp[1], offer_pts);
    }
    emit(e, &is);
}

/* The RTP of a direction of the call inside [from, to]: seconds it covered and packets in
 * them (spread evenly over a run, so to within a second's worth). */
struct dir_flow {
    double packets;
    ptime_t covered;
    uint64_t frame;            /* the first packet of a stream that flowed in it */
};

static void dir_flow(const struct held_call *c, const struct held_stream *ss, size_t n, int dir,
                     ptime_t from, ptime_t to, struct dir_flow *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const struct held_stream *s = &ss[i];
        if (stream_dir(c, s) != dir || s->last < from || s->first > to)
            continue;
        for (unsigned r = 0; r < s->nruns; r++) {
            const struct held_run *u = &s->runs[r];
            ptime_t o = overlap(u->from, u->to, from, to);
            if (!o)
                continue;
            out->covered += o;
            out->packets += (double)u->packets * (double)o / (double)(u->to - u->from);
            if (!out->frame)
                out->frame = s->first_frame;
        }
    }
}

#define HOLD_SETTLE (1 * PTIME_SEC) /* after the answer, for the media to stop */

static const char *party(enum call_party p)
{
    return p == PARTY_CALLER ? "caller" : "callee";
}

/* RTP during a hold that the hold's SDP ruled out (RFC 3264 §8.4): the held party sending
 * to a holder that said sendonly (it answered recvonly), or anybody sending when a side
 * said inactive. Music on hold from a holder that said sendonly is what sendonly is for. */
static void check_hold_media(struct issue_engine *e, const struct held_call *c,
                             const struct held_stream *ss, size_t n, ptime_t end)
{
    for (unsigned i = 0; i < c->nholds; i++) {
        const struct call_hold *h = &c->holds[i];
        ptime_t to = h->end ? h->end : c->end_time ? c->end_time : end;
        ptime_t from = (h->answered ? h->answered : h->start) + HOLD_SETTLE;
        if (to <= from || (double)(to - from) / 1e9 < e->cfg.hold_media_s)
            continue;
        /* caller to callee (1) and back (2), as RFC 3264 §6.1 reads the two directions */
        bool may[3] = {false, promised(h->dir[0], h->dir[1]), promised(h->dir[1], h->dir[0])};
        struct dir_flow f[3];
        bool against[3] = {false, false, false};
        for (int d = 1; d <= 2; d++) {
            dir_flow(c, ss, n, d, from, to, &f[d]);
            against[d] = !may[d] && (double)f[d].covered / 1e9 >= e->cfg.hold_media_s;
        }
        if (!against[1] && !against[2])
            continue;
        int holder = h->by == PARTY_CALLER ? 1 : 2; /* the direction the holder sends in */
        int held = 3 - holder;
        const char *who = party(h->by), *other = party(h->by == PARTY_CALLER ? PARTY_CALLEE
                                                                             : PARTY_CALLER);
        const char *hdir = sdp_direction_name(h->dir[h->by == PARTY_CALLER ? 0 : 1]);
        const char *odir = sdp_direction_name(h->dir[h->by == PARTY_CALLER ? 1 : 0]);
        struct issue is;
        issue_init(&is, ISSUE_MEDIA_DURING_HOLD, SEV_WARNING, h->start);
        is.call_seq = c->seq;
        add_frame(&is, h->frame);
        add_frame(&is, h->answer_frame);
        for (int d = 1; d <= 2; d++)
            if (against[d])
                add_frame(&is, f[d].frame);
        ev_str(&is, "held_by", "%s", who);
        ev_str(&is, "caller_direction", "%s", sdp_direction_name(h->dir[0]));
        ev_str(&is, "callee_direction", "%s", sdp_direction_name(h->dir[1]));
        ev_str(&is, "answer_seen", "%s", h->answered ? "yes" : "no");
        ev_num(&is, "hold_start", ptime_to_epoch_s(h->start));
        ev_num(&is, "hold_end", ptime_to_epoch_s(to));
        ev_num(&is, "judged_from", ptime_to_epoch_s(from));
        for (int d = 1; d <= 2; d++)
            ev_json(&is, d == 1 ? "caller_to_callee" : "callee_to_caller",
                    "{\"packets\":%.0f,\"seconds\":%.1f,\"allowed\":%s}", f[d].packets,
                    (double)f[d].covered / 1e9, may[d] ? "true" : "false");
        ev_str(&is, "contradicted", "%s",
               against[1] && against[2] ? "both" : dir_name(against[1] ? 1 : 2));
        double secs = (double)(to - h->start) / 1e9;
        int d = against[held] ? held : holder; /* the direction named, when one */
        if (against[1] && against[2])
            say(is.summary, sizeof is.summary,
                "on hold (%s %s, %s %s) for %.1f s, yet RTP flowed both ways during it", who,
                hdir, other, odir, secs);
        else
            say(is.summary, sizeof is.summary,
                "on hold (%s %s, %s %s) for %.1f s, yet the %s sent RTP for %.1f s of it "
                "(about %.0f packets)", who, hdir, other, odir, secs, d == held ? other : who,
                (double)f[d].covered / 1e9, f[d].packets);
        say(is.diagnosis, sizeof is.diagnosis,
            "The %s put the call on hold (frame %llu: %s) and the media went on against its "
            "SDP (RFC 3264 §8.4).", who, (unsigned long long)h->frame, hdir);
        if (against[held])
            more(is.diagnosis, sizeof is.diagnosis,
                 " The %s%s kept sending: its phone ignores the direction attribute, or a "
                 "B2BUA/SBC on the way answered the re-INVITE on its behalf and the phone behind "
                 "it never learnt of the hold (that SDP is not what the phone does). The %s may "
                 "still hear the %s, who thinks the call is on hold. Check whether a PBX or SBC "
                 "handles hold itself without passing it on, and the %s's firmware.",
                 other, h->answered ? " answered the hold, yet" : "", who, other, other);
        if (against[holder])
            more(is.diagnosis, sizeof is.diagnosis,
                 " The %s itself kept sending although the SDP said %s: the %s may hear the "
                 "%s's microphone while on hold (a privacy leak), or its music on hold is "
                 "sent under a direction that forbids it (music on hold needs sendonly).",
                 who, h->dir[0] == SDP_INACTIVE || h->dir[1] == SDP_INACTIVE ? "inactive" : hdir,
                 other, who);
        else if (may[holder])
            more(is.diagnosis, sizeof is.diagnosis,
                 " RTP from the %s during the hold is music on hold, which %s allows.", who, hdir);
        emit(e, &is);
    }
}

static void ep_str(const struct ip_addr *a, uint16_t port, char *buf)
{
    ip_addr_port_str(a, port, buf, IP_ADDR_PORT_STRLEN);
}

/* Which side sent RTCP from src:sport: the one whose SDP put its RTP (or a=rtcp) there or
 * one port below; -1 neither (NAT). */
static int rtcp_sender(const struct held_call *c, const struct ip_addr *src, uint16_t sport)
{
    for (int side = 0; side < 2; side++)
        for (unsigned q = 0; q < c->side[side].neps; q++) {
            const struct call_media_ep *ep = &c->eps[side][q];
            if (ip_addr_eq(&ep->addr, src) &&
                (ep->port == sport || ep->port + 1 == sport || c->side[side].rtcp_port == sport))
                return side;
        }
    return -1;
}

/* An answer with a=rtcp-mux (RFC 5761 §5.1.1) commits both ends to RTCP on the RTP ports;
 * RTCP seen on other ports (RTP + 1, or a=rtcp) after it says an end did not multiplex.
 * Before the answer the offerer may not know yet (§5.1.3): RTCP apart then is fine. */
static void check_rtcp_mux(struct issue_engine *e, const struct held_call *c,
                           const struct held_stream *ss, size_t n)
{
    int off = offer_side(c);
    const struct call_side *o = &c->side[off], *a = &c->side[1 - off];
    if (!a->have_sdp || !a->rtcp_mux)
        return;
    uint64_t muxed = 0, apart = 0;
    const struct held_stream *w = NULL;
    bool sent[3] = {false, false, false}; /* by the caller, the callee, an address neither named */
    for (size_t i = 0; i < n; i++) {
        muxed += ss[i].rtcp_muxed;
        apart += ss[i].rtcp_apart;
        if (!ss[i].rtcp_apart || ss[i].rtcp_apart_last <= a->sdp_time)
            continue;
        int by = rtcp_sender(c, &ss[i].rtcp_src, ss[i].rtcp_sport);
        sent[by < 0 ? 2 : by] = true;
        if (!w || ss[i].rtcp_apart_frame < w->rtcp_apart_frame)
            w = &ss[i];
    }
    if (!w)
        return;
    char rtcp_src[IP_ADDR_PORT_STRLEN], rtcp_dst[IP_ADDR_PORT_STRLEN];
    char rtp_src[IP_ADDR_PORT_STRLEN], rtp_dst[IP_ADDR_PORT_STRLEN];
    ep_str(&w->rtcp_src, w->rtcp_sport, rtcp_src);
    ep_str(&w->rtcp_dst, w->rtcp_dport, rtcp_dst);
    ep_str(&w->src, w->sport, rtp_src);
    ep_str(&w->dst, w->dport, rtp_dst);
    const char *who = sent[0] && sent[1] ? "the caller and the callee"
                      : sent[0]          ? "the caller"
                      : sent[1]          ? "the callee"
                                         : NULL;
    struct issue is;
    issue_init(&is, ISSUE_RTCP_NOT_MUXED, SEV_WARNING, a->sdp_time);
    is.call_seq = c->seq;
    is.stream_seq = w->seq;
    add_frame(&is, o->sdp_frame);
    add_frame(&is, a->sdp_frame);
    add_frame(&is, w->rtcp_apart_frame);
    ev_str(&is, "offer_rtcp_mux", "%s", o->rtcp_mux ? "yes" : "no");
    ev_str(&is, "answer_rtcp_mux", "%s", "yes");
    ev_str(&is, "rtp", "%s -> %s", rtp_src, rtp_dst);
    ev_str(&is, "rtcp", "%s -> %s", rtcp_src, rtcp_dst);
    ev_str(&is, "rtcp_sent_by", "%s",
           sent[0] && sent[1] ? "both" : sent[0] ? "caller" : sent[1] ? "callee" : "unknown");
    ev_num(&is, "rtcp_packets_apart", (double)apart);
    ev_num(&is, "rtcp_packets_muxed", (double)muxed);
    say(is.summary, sizeof is.summary,
        "the answer said a=rtcp-mux, yet RTCP went %s -> %s, not over the RTP ports (%s -> %s)",
        rtcp_src, rtcp_dst, rtp_src, rtp_dst);
    say(is.diagnosis, sizeof is.diagnosis,
        "With a=rtcp-mux in the answer both ends agreed to send RTCP on their RTP ports (RFC "
        "5761), and stop listening on the others; %s sent %llu RTCP packet%s on separate ports "
        "all the same (%llu on the RTP ports): %s not multiplex. The far end may drop those "
        "reports, and a NAT or firewall that opened only the RTP ports does, so loss, jitter "
        "and round-trip feedback are lost, and an end that watches RTCP to tell media is alive "
        "may hang up.", who ? who : "an end (behind NAT: not the announced address)",
        (unsigned long long)apart, apart == 1 ? "" : "s", (unsigned long long)muxed,
        sent[0] && sent[1] ? "they did" : "it did");
    if (!o->rtcp_mux)
        more(is.diagnosis, sizeof is.diagnosis,
             " The offer did not offer a=rtcp-mux, so the answer must not have it (RFC 5761 "
             "§5.1.1): the %s's SDP is wrong, not its media.", off ? "caller" : "callee");
    else
        more(is.diagnosis, sizeof is.diagnosis,
             " Check that the device supports RTCP multiplexing before it offers or accepts "
             "a=rtcp-mux, and whether an SBC added or kept the attribute in SDP it rewrote "
             "without muxing the media it relays.");
    emit(e, &is);
}

/* Whether the media checks can say anything: the capture held RTP at all (a capture of
 * SIP only, or a HEP feed of signaling, cannot tell silence from media it did not see),
 * and the call negotiated RTP audio, not a fax relay (T.38 travels as UDPTL). other_leg: none of
 * the media is this call's, but another call naming the same endpoint had some at the time:
 * two legs of one B2BUA/SBC that the signaling did not join, whose media was bound to (and
 * is judged on) the other. */
static void judge_media(struct issue_engine *e, const struct held_call *c,
                        const struct held_stream *ss, size_t n, ptime_t end, bool other_leg)
{
    bool media = (e->streams_seen > 0 || e->announced_live) && !c->side[0].fax && !c->side[1].fax;
    check_codecs_media(e, c, ss, n, media && !other_leg);
    if (media && !other_leg) {
        check_audio(e, c, ss, n, end);
        check_ringback(e, c, ss, n, end);
        check_after_bye(e, c, ss, n);
        check_hold_media(e, c, ss, n, end);
        check_rtcp_mux(e, c, ss, n);
    }
    check_private(e, c, ss, n);
    check_unfinished(e, c, ss, n, end, media);
}

/* The bitmap of calls done with. Calls are handed in roughly in the order of their numbers,
 * so the bits in use span the calls of the longest call's lifetime, not the capture. */
#define DONE_MAX_WORDS (1u << 20) /* 64 M calls in flight: past that the oldest count as done */

static bool is_done(const struct issue_engine *e, uint64_t seq)
{
    if (!e->done_started || seq <= e->done_base)
        return e->done_started;
    uint64_t i = seq - e->done_base - 1;
    return i / 64 < e->done_words && (e->done[i / 64] >> (i % 64) & 1);
}

static void mark_done(struct issue_engine *e, uint64_t seq)
{
    if (!e->done_started) { /* numbering may start anywhere (after a database's calls) */
        e->done_started = true;
        e->done_base = seq ? (seq - 1) / 64 * 64 : 0;
    }
    if (seq <= e->done_base)
        return;
    uint64_t i = seq - e->done_base - 1;
    while (i / 64 >= e->done_words) {
        size_t start = 0; /* slide past leading words of done calls, or the oldest at the cap */
        while (start < e->done_words && e->done[start] == UINT64_MAX)
            start++;
        if (!start && e->done_words >= DONE_MAX_WORDS)
            start = 1;
        if (start) {
            memmove(e->done, e->done + start, (e->done_words - start) * sizeof *e->done);
            memset(e->done + e->done_words - start, 0, start * sizeof *e->done);
            e->done_base += 64 * (uint64_t)start;
            if (seq <= e->done_base)
                return;
            i = seq - e->done_base - 1;
            continue;
        }
        size_t n = e->done_words ? e->done_words * 2 : 16;
        uint64_t *v = realloc(e->done, n * sizeof *v);
        if (!v)
            return; /* its streams are then kept until the end: memory, not correctness */
        memset(v + e->done_words, 0, (n - e->done_words) * sizeof *v);
        e->done = v;
        e->done_words = n;
    }
    e->done[i / 64] |= (uint64_t)1 << (i % 64);
}

static void hold_fill(struct held_call *h, const struct call *c);

void issues_call(struct issue_engine *e, const struct call *c)
{
    /* calls answered or offered early media are held until their media is over; so is a
     * caller's private SDP, unless nothing can have moved it (see below) */
    bool priv = c->caller_side.neps && issue_addr_private(&c->caller_side.eps[0].addr);
    bool priv_now = !c->answer_time && !c->early_time && priv && !call_side(c, 1)->neps;
    bool held = c->answer_time || c->early_time || (priv && !priv_now);
    check_final(e, c);
    check_codecs(e, c, held);
    check_auth_call(e, c);
    check_timing(e, c);
    check_retrans(e, c);
    check_dns_slow(e, c);
    check_dns_failure(e, c);
    check_hops(e, c);
    if (priv_now) {
        /* Judged now, not held for its streams: unanswered, without early media and without
         * an endpoint of the callee's, no stream of it can have moved (check_private) and the
         * other media checks want an answer or early media; what is left is the caller's
         * private SDP. Holding them kept a flood's INVITEs, 700 bytes each, until the next
         * settle (issue 21). */
        struct held_call h;
        hold_fill(&h, c);
        check_private(e, &h, NULL, 0);
    }
    if (!held) {
        mark_done(e, c->seq);
        /* no media checks; its issues are all out once the streams bound to it end */
        if (e->judged && !vec_grow((void **)&e->quiet, &e->capquiet, e->nquiet, sizeof *e->quiet, 64))
            e->judged(e->user, c->seq); /* no memory to wait: now */
        else if (e->judged)
            e->quiet[e->nquiet++] = c->seq;
        return;
    }
    if (!vec_grow((void **)&e->calls, &e->capcalls, e->ncalls, sizeof *e->calls, 64)) {
        log_error("out of memory: the media checks of call %llu are lost",
                  (unsigned long long)c->seq);
        return;
    }
    hold_fill(&e->calls[e->ncalls++], c);
}

/* What the media checks need of a call, copied (the call is freed once handed in). */
static void hold_fill(struct held_call *h, const struct call *c)
{
    memset(h, 0, sizeof *h);
    h->seq = c->seq;
    h->state = c->state;
    h->invite_time = c->invite_time;
    h->answer_time = c->answer_time;
    h->end_time = c->end_time;
    h->early_time = c->early_time;
    h->last_time = c->last_time;
    h->first_frame = c->first_frame;
    h->answer_frame = c->answer_frame;
    h->end_frame = c->end_frame;
    h->early_frame = c->early_frame;
    h->last_frame = c->last_frame;
    h->early_status = c->early_status;
    h->nlegs = c->nlegs;
    for (unsigned i = 1; i <= c->nlegs && i < CALL_MAX_LEGS; i++)
        h->leg_prov[i] = c->legs[i].provisionals;
    h->session_expired = c->session_expired;
    h->bye = c->state == CALL_COMPLETED;
    h->caller_ip = c->caller_ip;
    h->callee_ip = c->callee_ip;
    h->caller_port = c->caller_port;
    h->callee_port = c->callee_port;
    for (int i = 0; i < 2; i++) {
        const struct call_side *s = call_side(c, i);
        h->side[i] = *s;
        h->side[i].codecs = NULL; /* the call's, freed with it */
        h->side[i].eps = NULL;
        if (s->neps)
            memcpy(h->eps[i], s->eps, s->neps * sizeof *s->eps);
        snprintf(h->codecs[i], sizeof h->codecs[i], "%s",
                 s->have_sdp && s->codecs ? s->codecs : "");
    }
    if (c->nholds)
        memcpy(h->holds, c->holds, c->nholds * sizeof *h->holds);
    h->nholds = c->nholds;
    /* a 488/606 already said it (check_codecs) */
    h->codec_disjoint =
        codecs_disjoint(call_side(c, 0), call_side(c, 1)) && c->final_status != 488 &&
        c->final_status != 606;
}

/* ---- streams ---- */

static void stream_header(struct issue *is, const struct rtp_stream *s, char *src, char *dst)
{
    is->call_seq = s->call_seq;
    is->stream_seq = s->seq;
    add_frame(is, s->first_frame);
    ip_addr_port_str(&s->src, s->sport, src, IP_ADDR_PORT_STRLEN);
    ip_addr_port_str(&s->dst, s->dport, dst, IP_ADDR_PORT_STRLEN);
    ev_str(is, "src", "%s", src);
    ev_str(is, "dst", "%s", dst);
    ev_str(is, "ssrc", "0x%08x", s->ssrc);
    ev_str(is, "codec", "%s", s->codec[0] ? s->codec : "");
    ev_num(is, "packets", (double)s->packets);
}

static void check_loss(struct issue_engine *e, const struct rtp_stream *s)
{
    double pct = s->expected > 0 ? 100.0 * (double)s->lost / (double)s->expected : 0;
    if (pct <= e->cfg.loss_warn_pct)
        return;
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    issue_init(&is, ISSUE_PACKET_LOSS, band(pct, e->cfg.loss_warn_pct, e->cfg.loss_crit_pct),
               s->first_time);
    stream_header(&is, s, src, dst);
    ev_num(&is, "lost", (double)s->lost);
    ev_num(&is, "expected", (double)s->expected);
    ev_num(&is, "lost_pct", round(pct * 1000) / 1000);
    ev_num(&is, "loss_bursts", (double)s->loss_bursts);
    ev_num(&is, "longest_loss_burst", (double)s->longest_burst);
    double ptime_ms = stream_ptime_ms(s);
    say(is.summary, sizeof is.summary, "%.2f %% of RTP lost from %s to %s (%lld of %lld)", pct,
        src, dst, (long long)s->lost, (long long)s->expected);
    say(is.diagnosis, sizeof is.diagnosis,
        "Packets went missing between the sender %s and the capture point. ", src);
    if (s->longest_burst >= 5)
        more(is.diagnosis, sizeof is.diagnosis,
             "They were lost in bursts (longest %llu packets, %.0f ms of audio gone at once): "
             "congestion on a link, a Wi-Fi or radio drop-out, or a route change. Check "
             "interface drops and queueing (QoS/DSCP marking for voice) on that path.",
             (unsigned long long)s->longest_burst, (double)s->longest_burst * ptime_ms);
    else
        more(is.diagnosis, sizeof is.diagnosis,
             "They were lost one or two at a time, scattered: a link with errors (duplex "
             "mismatch, bad cable, Wi-Fi) or a policer dropping above a rate. Check interface "
             "error counters and policing on that path.");
    if (s->rtcp.receiver_reports)
        more(is.diagnosis, sizeof is.diagnosis,
             " The receiver's RTCP reports %d packets lost in all: %s.", s->rtcp.reported_lost,
             s->rtcp.reported_lost > s->lost ? "more than we saw, so the path after the "
                                               "capture point loses too"
                                             : "no more than we saw");
    emit(e, &is);
}

static void check_jitter(struct issue_engine *e, const struct rtp_stream *s)
{
    if (!s->clock_rate || s->events)
        return;
    enum issue_severity sev = band(s->mean_jitter_ms, e->cfg.jitter_warn_ms, e->cfg.jitter_crit_ms);
    /* a low mean can hide bad stretches: count the seconds past the critical level. One
     * spike (a pause in the media, a clock jump) decays within a second or two of A.8's
     * 1/16 smoothing and is not a jitter problem; several seconds of it are. */
    uint32_t bad = 0;
    for (uint32_t i = 0; i < s->nsec; i++)
        bad += s->timeline[i].jitter_cms > e->cfg.jitter_crit_ms * 100;
    bool peak = sev == SEV_INFO && bad >= 3 && bad * 20 >= s->nsec;
    if (sev == SEV_INFO && !peak)
        return;
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    issue_init(&is, ISSUE_HIGH_JITTER, peak ? SEV_WARNING : sev, s->first_time);
    stream_header(&is, s, src, dst);
    ev_num(&is, "mean_jitter_ms", round(s->mean_jitter_ms * 1000) / 1000);
    ev_num(&is, "max_jitter_ms", round(s->max_jitter_ms * 1000) / 1000);
    ev_num(&is, "max_delta_ms", round(s->max_delta_ms * 1000) / 1000);
    ev_num(&is, "seconds_above_critical", bad);
    ev_num(&is, "adaptive_buffer_discarded", (double)s->jb[JB_ADAPTIVE].discarded);
    say(is.summary, sizeof is.summary, "jitter %s %.1f ms (max %.1f ms) from %s to %s",
        peak ? "peaked; mean" : "mean", s->mean_jitter_ms, s->max_jitter_ms, src, dst);
    say(is.diagnosis, sizeof is.diagnosis,
        "Packets from %s arrived unevenly (RFC 3550 interarrival jitter). A jitter buffer "
        "absorbs this only by adding delay, or discards late packets (here %llu by an adaptive "
        "buffer). Usual causes: congested links without voice priority (check DSCP EF "
        "marking and queueing), Wi-Fi, a busy host or VM sending the RTP, or a transcoder "
        "under load. Check the path from %s%s.",
        src, (unsigned long long)s->jb[JB_ADAPTIVE].discarded, src,
        peak ? "; the peaks suggest bursts of congestion rather than a steady problem" : "");
    emit(e, &is);
}

static void check_mos(struct issue_engine *e, const struct rtp_stream *s)
{
    if (s->mos < 0 || s->mos >= e->cfg.mos_warn || !s->emodel)
        return;
    const struct stream_jb_score *b = &s->jbs[JB_ADAPTIVE];
    /* the best the codec can do: no loss, and no delay beyond its own packet and look-ahead */
    struct emodel_params p;
    emodel_defaults(&p);
    p.ie = s->emodel->ie;
    p.bpl = s->emodel->bpl;
    p.ta = p.t = stream_ptime_ms(s) + s->emodel->lookahead_ms;
    p.tr = 2 * p.ta;
    double ceiling = emodel_mos(emodel_r(&p));
    double delay = stream_delay_ms(s);
    bool codec_bound = s->mos >= ceiling - 0.1;
    enum issue_severity sev = codec_bound ? SEV_INFO
                              : s->mos < e->cfg.mos_crit ? SEV_CRITICAL : SEV_WARNING;
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    issue_init(&is, ISSUE_LOW_MOS, sev, s->first_time);
    stream_header(&is, s, src, dst);
    ev_num(&is, "mos", round(s->mos * 100) / 100);
    ev_num(&is, "r_factor", round(s->r_factor * 100) / 100);
    ev_num(&is, "codec_best_mos", round(ceiling * 100) / 100);
    ev_num(&is, "buffer_lost_pct", round(b->lost_pct * 1000) / 1000);
    ev_num(&is, "burst_ratio", round(b->burst_ratio * 1000) / 1000);
    ev_num(&is, "delay_ms", round(delay * 10) / 10);
    say(is.summary, sizeof is.summary, "MOS %.2f (R %.1f) from %s to %s", s->mos, s->r_factor,
        src, dst);
    if (codec_bound)
        say(is.diagnosis, sizeof is.diagnosis,
            "The codec %s itself caps the E-model score near %.2f (G.113 equipment impairment "
            "%.0f); the network added little. Use a better codec (G.711, G.722, Opus) if this "
            "quality is not enough.", s->codec, ceiling, s->emodel->ie);
    else if (delay > e->cfg.latency_warn_ms && b->lost_pct < e->cfg.loss_warn_pct)
        say(is.diagnosis, sizeof is.diagnosis,
            "The E-model (ITU-T G.107) scores this stream %.2f, against %.2f that %s could "
            "reach, and little was lost (%.2f %%): the delay is to blame, about %.0f ms mouth "
            "to ear. See this stream's high_latency finding.",
            s->mos, ceiling, s->codec, b->lost_pct, delay);
    else
        say(is.diagnosis, sizeof is.diagnosis,
            "The E-model (ITU-T G.107) scores this stream %.2f, against %.2f that %s could "
            "reach: %.2f %% of the audio was lost or came too late for a jitter buffer "
            "(burst ratio %.2f), with %.0f ms mouth-to-ear delay. See this stream's "
            "packet_loss and high_jitter findings for where it went wrong.",
            s->mos, ceiling, s->codec, b->lost_pct, b->burst_ratio, delay);
    emit(e, &is);
}

static void check_latency(struct issue_engine *e, const struct rtp_stream *s)
{
    if (!s->rtcp.rtt_n || !s->clock_rate)
        return;
    double d = stream_delay_ms(s);
    if (d <= e->cfg.latency_warn_ms)
        return;
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    issue_init(&is, ISSUE_HIGH_LATENCY, band(d, e->cfg.latency_warn_ms, e->cfg.latency_crit_ms),
               s->first_time);
    stream_header(&is, s, src, dst);
    ev_num(&is, "one_way_ms", round(d * 10) / 10);
    ev_num(&is, "rtt_ms", round(s->rtcp.rtt_ms * 1000) / 1000);
    ev_num(&is, "buffer_ms", round(s->jbs[JB_ADAPTIVE].mean_delay_ms * 10) / 10);
    say(is.summary, sizeof is.summary, "about %.0f ms mouth-to-ear delay from %s to %s", d, src, dst);
    say(is.diagnosis, sizeof is.diagnosis,
        "Half the RTCP round trip (%.0f ms), the packet time, the codec's look-ahead and the "
        "jitter buffer add up to %.0f ms one way; past 150 ms (ITU-T G.114) people talk over "
        "each other. Check the route length (satellite, transcontinental hairpin through a "
        "far SBC) and oversized jitter buffers.", s->rtcp.rtt_ms / 2, d);
    emit(e, &is);
}

static void check_orphan(struct issue_engine *e, const struct rtp_stream *s)
{
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    issue_init(&is, ISSUE_ORPHAN_MEDIA, SEV_INFO, s->first_time);
    stream_header(&is, s, src, dst);
    add_frame(&is, s->last_frame);
    ev_num(&is, "duration_s", (double)(s->last_time - s->first_time) / 1e9);
    say(is.summary, sizeof is.summary, "RTP from %s to %s that no SDP announced", src, dst);
    say(is.diagnosis, sizeof is.diagnosis,
        "No SDP seen in this capture named these addresses and ports. The signaling went "
        "another way (another interface, SIP over TLS, a port we do not decode), began before "
        "the capture did, or a NAT/SBC rewrote the media addresses. Capture the signaling of "
        "%s and %s, or check for calls whose SDP names nearby ports.", src, dst);
    emit(e, &is);
}

/* The stretches of a stream with packets, from its per-second timeline. A run that starts
 * after a pause had its first second's packets at that second's end, and one that stops
 * had its last second's at its start: at the stream's packet interval, that places the
 * edges of a pause to within a packet or two, not to a whole second. */
static void held_runs(struct held_stream *h, const struct rtp_stream *s)
{
    ptime_t step = (ptime_t)(stream_ptime_ms(s) * 1e6);
    uint32_t gap = HELD_RUN_GAP_S, last_p = 0;
    ptime_t last_t0 = 0;
    for (uint32_t i = 0; i < s->nsec && s->timeline; i++) {
        uint64_t p = s->timeline[i].packets;
        if (!p) {
            ptime_t stopped = last_t0 + (ptime_t)last_p * step; /* the run's last packets */
            if (h->nruns && gap++ == 0 && stopped < h->runs[h->nruns - 1].to)
                h->runs[h->nruns - 1].to = stopped;
            continue;
        }
        ptime_t t0 = s->first_time + (ptime_t)i * PTIME_SEC, t1 = t0 + PTIME_SEC;
        if (t1 > s->last_time)
            t1 = s->last_time;
        last_t0 = t0;
        last_p = (uint32_t)p;
        if (h->nruns && gap < HELD_RUN_GAP_S) {
            h->runs[h->nruns - 1].to = t1;
            h->runs[h->nruns - 1].packets += p;
        } else {
            if (h->nruns == HELD_RUNS) { /* full: the two runs closest together become one */
                unsigned k = 0;
                for (unsigned j = 1; j + 1 < HELD_RUNS; j++)
                    if (h->runs[j + 1].from - h->runs[j].to < h->runs[k + 1].from - h->runs[k].to)
                        k = j;
                h->runs[k].to = h->runs[k + 1].to;
                h->runs[k].packets += h->runs[k + 1].packets;
                memmove(&h->runs[k + 1], &h->runs[k + 2], (HELD_RUNS - k - 2) * sizeof h->runs[0]);
                h->nruns--;
            }
            ptime_t from = i && t1 - t0 > (ptime_t)p * step ? t1 - (ptime_t)p * step : t0;
            h->runs[h->nruns++] = (struct held_run){from, t1, p}; /* it (re)started */
        }
        gap = 0;
    }
    uint64_t counted = 0;
    for (unsigned i = 0; i < h->nruns; i++)
        counted += h->runs[i].packets;
    if (!h->nruns) /* no timeline (memory ran out): one run, the stream's span */
        h->runs[h->nruns++] = (struct held_run){s->first_time, s->last_time, s->packets};
    else if (counted < s->packets) { /* a timeline cut short: the rest in the last run */
        h->runs[h->nruns - 1].to = s->last_time;
        h->runs[h->nruns - 1].packets += s->packets - counted;
    }
}

void issues_stream(struct issue_engine *e, const struct rtp_stream *s)
{
    e->streams_seen++;
    if (!s->call_seq)
        check_orphan(e, s);
    if ((double)s->packets >= e->cfg.min_packets && !s->events) {
        check_loss(e, s);
        check_jitter(e, s);
        check_mos(e, s);
        check_latency(e, s);
    }
    if (!vec_grow((void **)&e->streams, &e->capstreams, e->nstreams, sizeof *e->streams, 64)) {
        log_error("out of memory: stream %llu is left out of its call's media checks",
                  (unsigned long long)s->seq);
        return;
    }
    struct held_stream *h = &e->streams[e->nstreams++];
    *h = (struct held_stream){
        .call_seq = s->call_seq, .seq = s->seq, .src = s->src, .dst = s->dst,
        .sport = s->sport, .dport = s->dport, .first = s->first_time, .last = s->last_time,
        .first_frame = s->first_frame, .last_frame = s->last_frame, .packets = s->packets,
        .src_ann = s->src_announced, .dst_ann = s->dst_announced,
        .pt_seen = {s->pt_seen[0], s->pt_seen[1]}, .rtcp_muxed = s->rtcp.muxed,
        .rtcp_apart = s->rtcp.apart, .rtcp_apart_frame = s->rtcp.apart_frame,
        .rtcp_apart_last = s->rtcp.apart_last,
        .rtcp_src = s->rtcp.apart_src, .rtcp_dst = s->rtcp.apart_dst,
        .rtcp_sport = s->rtcp.apart_sport, .rtcp_dport = s->rtcp.apart_dport};
    held_runs(h, s);
}

/* ---- registrations ---- */

void issues_registration(struct issue_engine *e, const struct registration *r)
{
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN], reg[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&r->source, r->source_port, src, sizeof src);
    ip_addr_port_str(&r->registrar, r->registrar_port, reg, sizeof reg);
    if (r->auth.run >= e->cfg.auth_loop_challenges && r->state != REG_REGISTERED) {
        issue_init(&is, ISSUE_AUTH_LOOP, SEV_WARNING, r->auth.first_time);
        is.registration = r->aor;
        auth_evidence(&is, &r->auth);
        ev_str(&is, "source", "%s", src);
        ev_str(&is, "registrar", "%s", reg);
        say(is.summary, sizeof is.summary, "REGISTER for %s challenged %u times without success",
            r->aor, r->auth.run);
        auth_diagnosis(&is, &r->auth, "REGISTER");
        emit(e, &is);
        return; /* the failure is this loop; one finding says it */
    }
    if (r->state != REG_FAILED && !r->expired)
        return;
    issue_init(&is, ISSUE_REGISTRATION_FAILURE,
               r->state == REG_FAILED && r->final_status == 403 ? SEV_CRITICAL : SEV_WARNING,
               r->last_time);
    is.registration = r->aor;
    add_frame(&is, r->final_frame);
    ev_str(&is, "source", "%s", src);
    ev_str(&is, "registrar", "%s", reg);
    ev_num(&is, "final_status", r->final_status);
    ev_num(&is, "attempts", r->attempts);
    ev_num(&is, "challenges", r->challenges);
    if (r->state == REG_FAILED) {
        say(is.summary, sizeof is.summary, "REGISTER for %s refused with %d", r->aor,
            r->final_status);
        say(is.diagnosis, sizeof is.diagnosis, "The registrar %s answered %d: %s", reg,
            r->final_status,
            r->final_status == 403 ? "forbidden — the account is disabled, the user is not "
                                     "allowed from this address, or the credentials belong to "
                                     "another user. Check the account on the registrar."
            : r->final_status == 404 ? "the AoR is unknown to the registrar: check the "
                                       "username and domain configured on the device."
            : r->final_status == 423 ? "the expiry asked for is too short (Min-Expires): "
                                       "raise the device's registration interval."
            : r->final_status >= 500 ? "the registrar failed or is overloaded: check its "
                                       "health and its database."
                                     : "the registration was refused: check the device's "
                                       "account settings against the registrar.");
    } else {
        ev_num(&is, "expires_s", (double)r->expires_s);
        say(is.summary, sizeof is.summary, "binding of %s expired without a refresh", r->aor);
        say(is.diagnosis, sizeof is.diagnosis,
            "The registrar granted %lld s and no refreshing REGISTER came before it ran out: "
            "the device went offline, lost its network, or its refreshes are lost on the way "
            "(NAT binding timed out, firewall). Calls to %s fail until it registers again.",
            (long long)r->expires_s, r->aor);
    }
    emit(e, &is);
}

/* ---- the end ---- */

static int by_call_seq(const void *a, const void *b)
{
    const struct held_stream *x = a, *y = b;
    return x->call_seq != y->call_seq ? (x->call_seq < y->call_seq ? -1 : 1)
                                      : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

static int by_seq(const void *a, const void *b)
{
    const struct held_call *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Streams by endpoint: a call's media is what flowed to or from the addresses its SDP
 * named during the call, whichever call the stream tracker bound it to (two legs of an SBC
 * that the signaling does not join share one media endpoint). */
struct ep_ref {
    uint8_t key[19]; /* family, address, port (big-endian) */
    size_t idx;
};

static void ep_key(uint8_t k[19], const struct ip_addr *a, uint16_t port)
{
    k[0] = a->family;
    memcpy(k + 1, a->b, 16);
    k[17] = (uint8_t)(port >> 8);
    k[18] = (uint8_t)port;
}

/* Orders by the 19-byte endpoint key that struct ep_ref and struct live_ep start with (a
 * pointer to either is one to its key), and compares such a key with a bare one. */
static int ep_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 19);
}

/* The first of the n refs (sorted by ep_cmp, of `size` bytes each, the key first) with this
 * key, NULL none. */
static const void *ep_first(const void *refs, size_t n, size_t size, const uint8_t key[19])
{
    const char *hit = n ? bsearch(key, refs, n, size, ep_cmp) : NULL;
    while (hit && hit > (const char *)refs && ep_cmp(hit - size, key) == 0)
        hit -= size;
    return hit;
}

/* The held streams sorted by call, and the index of their endpoints (owned; NULL when
 * there are none or memory ran out: calls are then judged on their own streams). */
static struct ep_ref *index_streams(struct issue_engine *e, size_t *nrefs)
{
    *nrefs = 0;
    if (!e->nstreams)
        return NULL;
    qsort(e->streams, e->nstreams, sizeof *e->streams, by_call_seq);
    struct ep_ref *refs = malloc(2 * e->nstreams * sizeof *refs);
    for (size_t i = 0; refs && i < e->nstreams; i++) {
        ep_key(refs[*nrefs].key, &e->streams[i].src, e->streams[i].sport);
        refs[(*nrefs)++].idx = i;
        ep_key(refs[*nrefs].key, &e->streams[i].dst, e->streams[i].dport);
        refs[(*nrefs)++].idx = i;
    }
    if (*nrefs)
        qsort(refs, *nrefs, sizeof *refs, ep_cmp);
    return refs;
}

/* Judges one held call on the held streams (sorted and indexed by index_streams): its own,
 * and the others that flowed at its endpoints during the call. mine: scratch. */
static void judge_held(struct issue_engine *e, const struct held_call *c, const struct ep_ref *refs,
                       size_t nrefs, struct held_stream **mine, size_t *cap, ptime_t end)
{
    size_t lo = 0, hi = e->nstreams; /* the first stream of this call */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->streams[mid].call_seq < c->seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t n = 0, m = 0;
    while (lo + n < e->nstreams && e->streams[lo + n].call_seq == c->seq)
        n++;
    for (size_t j = 0; j < n; j++) {
        if (!vec_grow((void **)mine, cap, m, sizeof **mine, 16))
            break;
        (*mine)[m++] = e->streams[lo + j];
    }
    ptime_t to = c->end_time ? c->end_time : end;
    bool shared = false;
    for (int side = 0; side < 2; side++)
        for (unsigned q = 0; q < c->side[side].neps; q++) {
            uint8_t key[19];
            ep_key(key, &c->eps[side][q].addr, c->eps[side][q].port);
            const struct ep_ref *hit = ep_first(refs, nrefs, sizeof *refs, key);
            for (; hit && hit < refs + nrefs && ep_cmp(hit, key) == 0; hit++) {
                const struct held_stream *s = &e->streams[hit->idx];
                if (s->call_seq == c->seq || s->last < c->invite_time || s->first > to)
                    continue;
                if (s->call_seq) { /* bound to another call that names the same endpoint */
                    shared = true;
                    continue;
                }
                bool dup = false; /* an orphan at our endpoint: media NAT moved */
                for (size_t j = n; j < m && !dup; j++)
                    dup = (*mine)[j].seq == s->seq;
                if (!dup && vec_grow((void **)mine, cap, m, sizeof **mine, 16))
                    (*mine)[m++] = *s;
            }
        }
    judge_media(e, c, *mine, m, end, shared && m == 0);
}

/* What the streams still followed say: which endpoints are busy since when, and which calls
 * still have media going. */
struct live_ep {
    uint8_t key[19]; /* first, for ep_cmp */
    ptime_t first, last;
};

struct live_set {
    struct live_ep *eps;
    size_t neps, capeps;
    uint64_t *calls;
    size_t ncalls, capcalls;
    size_t announced; /* streams an SDP announced: reported when they end */
    bool short_of_memory;
};

static void collect_live(void *user, const struct rtp_stream *s)
{
    struct live_set *l = user;
    if (!vec_grow((void **)&l->eps, &l->capeps, l->neps + 1, sizeof *l->eps, 256) ||
        (s->call_seq && !vec_grow((void **)&l->calls, &l->capcalls, l->ncalls, sizeof *l->calls, 128))) {
        l->short_of_memory = true;
        return;
    }
    struct live_ep *a = &l->eps[l->neps++], *b = &l->eps[l->neps++];
    ep_key(a->key, &s->src, s->sport);
    ep_key(b->key, &s->dst, s->dport);
    a->first = b->first = s->first_time;
    a->last = b->last = s->last_time;
    if (s->call_seq)
        l->calls[l->ncalls++] = s->call_seq;
    l->announced += s->announced;
}

static int cmp_u64_key(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether a call must wait for media still flowing: a stream bound to it, or one at one of
 * its endpoints during the call, is still followed. */
static bool waits_for_media(const struct held_call *c, const struct live_set *l)
{
    if (l->ncalls && bsearch(&c->seq, l->calls, l->ncalls, sizeof *l->calls, cmp_u64_key))
        return true;
    for (int side = 0; side < 2; side++)
        for (unsigned q = 0; q < c->side[side].neps; q++) {
            uint8_t key[19];
            ep_key(key, &c->eps[side][q].addr, c->eps[side][q].port);
            const struct live_ep *hit = ep_first(l->eps, l->neps, sizeof *l->eps, key);
            for (; hit && hit < l->eps + l->neps && ep_cmp(hit, key) == 0; hit++)
                if (hit->first <= c->end_time && hit->last >= c->invite_time)
                    return true;
        }
    return false;
}

void issues_tick(struct issue_engine *e, ptime_t now, const struct stream_table *t)
{
    /* which held calls can be judged now: ended (an unfinished call is judged against the
     * end of the input), with no media of theirs still going; in a capture without any RTP
     * so far, after ISSUE_STREAM_KEEP (it may be a capture of signaling alone) */
    bool ready = false;
    for (size_t i = 0; i < e->ncalls && !ready; i++)
        ready = e->calls[i].state != CALL_UNFINISHED && e->calls[i].end_time;
    struct live_set l = {0};
    if (ready || e->nquiet) {
        stream_each(t, collect_live, &l);
        if (l.neps)
            qsort(l.eps, l.neps, sizeof *l.eps, ep_cmp);
        if (l.ncalls)
            qsort(l.calls, l.ncalls, sizeof *l.calls, cmp_u64_key);
        ready = ready && !l.short_of_memory;
        size_t kept = 0; /* calls without media checks: done when no stream of theirs goes on */
        for (size_t i = 0; i < e->nquiet; i++) {
            if (l.short_of_memory ||
                (l.ncalls && bsearch(&e->quiet[i], l.calls, l.ncalls, sizeof *l.calls, cmp_u64_key)))
                e->quiet[kept++] = e->quiet[i];
            else
                e->judged(e->user, e->quiet[i]);
        }
        e->nquiet = kept;
    }
    e->announced_live |= l.announced > 0;
    /* whether the capture holds RTP at all (judge_media) is still open while the only
     * streams are unannounced flows nDPI has not judged to the end */
    bool no_media_yet = !e->streams_seen && !e->announced_live;
    if (ready && no_media_yet && l.neps)
        ready = false;
    if (ready) {
        size_t nrefs;
        struct ep_ref *refs = index_streams(e, &nrefs);
        struct held_stream *mine = NULL;
        size_t cap = 0, kept = 0;
        for (size_t i = 0; i < e->ncalls; i++) {
            const struct held_call *c = &e->calls[i];
            bool judge = c->state != CALL_UNFINISHED && c->end_time &&
                         (no_media_yet ? now - c->end_time > ISSUE_STREAM_KEEP
                                       : !waits_for_media(c, &l));
            if (!judge) {
                e->calls[kept++] = *c;
                continue;
            }
            judge_held(e, c, refs, nrefs, &mine, &cap, now);
            mark_done(e, c->seq);
            if (e->judged)
                e->judged(e->user, c->seq);
        }
        e->ncalls = kept;
        free(mine);
        free(refs);
    }
    free(l.eps);
    free(l.calls);
    /* streams no call waits for: of calls done with, or of none, and over for a while (a
     * call still to come may have had them at its endpoints) */
    size_t kept = 0;
    for (size_t i = 0; i < e->nstreams; i++) {
        const struct held_stream *s = &e->streams[i];
        if (now - s->last > ISSUE_STREAM_KEEP && (!s->call_seq || is_done(e, s->call_seq)))
            continue;
        e->streams[kept++] = *s;
    }
    e->nstreams = kept;
}

void issues_finish(struct issue_engine *e, ptime_t end)
{
    if (e->ncalls)
        qsort(e->calls, e->ncalls, sizeof *e->calls, by_seq);
    size_t nrefs;
    struct ep_ref *refs = index_streams(e, &nrefs);
    struct held_stream *mine = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < e->ncalls; i++) {
        judge_held(e, &e->calls[i], refs, nrefs, &mine, &cap, end);
        if (e->judged)
            e->judged(e->user, e->calls[i].seq);
    }
    for (size_t i = 0; i < e->nquiet; i++)
        e->judged(e->user, e->quiet[i]);
    free(mine);
    free(refs);
    e->ncalls = e->nstreams = e->nquiet = 0;
}

void issues_on_judged(struct issue_engine *e, issue_judged_fn fn)
{
    e->judged = fn;
}
