/* The checks of a call's signaling, judged when it ends: its final answer (5xx, 6xx), its
 * codecs (488/606, offer and answer sharing none), an authentication loop, post-dial delay
 * and slow setup, retransmissions. Each check is a verdict (whether the call shows it, how
 * bad, the frames and figures that prove it) and the words that explain that verdict;
 * strings a finding names are borrowed from the call for the check's duration. */
#include "checks.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "builder.h"

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
    issue_frame(is, c->first_frame);
}

/* ---- server_error, global_failure: a 5xx or 6xx final answer ---- */

struct final_finding {
    int code;
    const char *reason;    /* "" none */
    bool retransmitted;    /* the INVITE was sent more than once */
};

static bool final_verdict(const struct call *c, struct issue *is, struct final_finding *f)
{
    int code = c->final_status;
    if (code < 500 || code >= 700 || code == 606)
        return false; /* 606 is a codec mismatch, judged there */
    bool global = code >= 600;
    enum issue_severity sev = global ? (code == 603 || code == 600 ? SEV_INFO : SEV_WARNING)
                                     : (code == 500 ? SEV_CRITICAL : SEV_WARNING);
    issue_init(is, global ? ISSUE_GLOBAL_FAILURE : ISSUE_SERVER_ERROR, sev,
               c->end_time ? c->end_time : c->invite_time);
    call_header(is, c);
    issue_frame(is, c->final_frame);
    char from[IP_ADDR_PORT_STRLEN], to[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&c->caller_ip, c->caller_port, from, sizeof from);
    ip_addr_port_str(&c->callee_ip, c->callee_port, to, sizeof to);
    issue_ev_num(is, "status", code);
    issue_ev_str(is, "reason", "%s", c->reason ? c->reason : "");
    issue_ev_str(is, "sent_to", "%s", from);
    issue_ev_str(is, "invite_to", "%s", to);
    issue_ev_num(is, "after_ms", issue_ms(c->invite_time, c->end_time ? c->end_time : c->last_time));
    f->code = code;
    f->reason = c->reason ? c->reason : "";
    f->retransmitted = c->retransmissions > 0;
    return true;
}

static void final_words(struct issue *is, const struct final_finding *f)
{
    issue_say(is->summary, sizeof is->summary, "INVITE answered %d %s", f->code, f->reason);
    issue_say(is->diagnosis, sizeof is->diagnosis, "%d: %s.", f->code, status_meaning(f->code));
    if (f->retransmitted && f->code == 503)
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   " The INVITE was retransmitted too: the server was slow before it gave up.");
}

void check_final(struct issue_engine *e, const struct call *c)
{
    struct issue is;
    struct final_finding f;
    if (!final_verdict(c, &is, &f))
        return;
    final_words(&is, &f);
    issue_emit(e, &is);
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

bool check_codecs_disjoint(const struct call_side *o, const struct call_side *a)
{
    return o->have_sdp && a->have_sdp && o->codecs && a->codecs && o->codecs[0] &&
           a->codecs[0] && !codec_common(o->codecs, a->codecs);
}

/* A side's payload types as a JSON list. */
void check_pts_json(const struct call_side *s, char *buf, size_t n)
{
    snprintf(buf, n, "[");
    for (unsigned i = 0; s->have_sdp && i < s->npts; i++)
        issue_more(buf, n, "%s%u", i ? "," : "", s->pts[i]);
    issue_more(buf, n, "]");
}

/* ---- codec_mismatch when the call ends: 488/606, or offer and answer sharing no codec ---- */

struct codecs_finding {
    bool rejected;         /* 488/606; else the lists share no codec */
    int status;
    const char *reason;    /* NULL none */
    const char *offer, *answer; /* the codec lists, "" none */
    bool offer_sdp;
};

/* media_later: a call whose media is judged has its disjoint lists judged there, in
 * check_codecs_media, where the RTP tells how bad that is. */
static bool codecs_verdict(const struct call *c, bool media_later, struct issue *is,
                           struct codecs_finding *f)
{
    const struct call_side *o = call_side(c, 0), *a = call_side(c, 1);
    bool rejected = c->final_status == 488 || c->final_status == 606;
    bool disjoint = check_codecs_disjoint(o, a);
    if (!rejected && (!disjoint || media_later))
        return false;
    issue_init(is, ISSUE_CODEC_MISMATCH, rejected ? SEV_WARNING : SEV_CRITICAL,
               rejected && c->end_time ? c->end_time : a->sdp_time ? a->sdp_time : c->invite_time);
    call_header(is, c);
    issue_frame(is, o->sdp_frame);
    issue_frame(is, a->sdp_frame);
    if (rejected)
        issue_frame(is, c->final_frame);
    f->rejected = rejected;
    f->status = c->final_status;
    f->reason = c->reason;
    f->offer = o->have_sdp && o->codecs ? o->codecs : "";
    f->answer = a->have_sdp && a->codecs ? a->codecs : "";
    f->offer_sdp = o->have_sdp;
    issue_ev_str(is, "caller_codecs", "%s", f->offer);
    issue_ev_str(is, "callee_codecs", "%s", f->answer);
    if (rejected)
        issue_ev_num(is, "status", c->final_status);
    char pts[112];
    check_pts_json(o, pts, sizeof pts);
    issue_ev_json(is, "offer_payload_types", "%s", pts);
    if (!rejected) {
        check_pts_json(a, pts, sizeof pts);
        issue_ev_json(is, "answer_payload_types", "%s", pts);
    }
    return true;
}

static void codecs_words(struct issue *is, const struct codecs_finding *f)
{
    if (f->rejected) {
        issue_say(is->summary, sizeof is->summary,
                  "%d %s: the callee did not accept the offered media", f->status,
                  f->reason ? f->reason : "Not Acceptable");
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "The offer listed [%s]. The far end (or a gateway on the way) accepts none of "
                  "these or rejects another part of the SDP (SRTP required or refused, ptime, a "
                  "video or fax m-line). Compare the codec lists configured on both ends and on "
                  "any SBC between them; enable a common codec (G.711 is the usual fallback) or "
                  "transcoding.",
                  f->offer_sdp ? f->offer : "no SDP in the INVITE");
        return;
    }
    say_codecs_disjoint(is, f->offer, f->answer);
}

void check_codecs(struct issue_engine *e, const struct call *c, bool media_later)
{
    struct issue is;
    struct codecs_finding f;
    if (!codecs_verdict(c, media_later, &is, &f))
        return;
    codecs_words(&is, &f);
    issue_emit(e, &is);
}

/* ---- auth_loop: an INVITE challenged again and again (registrations: check_registration.c) */

void check_auth_evidence(struct issue *is, const struct auth_track *a)
{
    issue_ev_num(is, "challenges", a->run);
    issue_ev_num(is, "with_credentials", a->with_creds + a->forbidden);
    issue_ev_num(is, "forbidden", a->forbidden);
    issue_ev_str(is, "realm", "%s", a->realm);
    issue_ev_num(is, "realm_changes", a->realm_changes);
    issue_ev_num(is, "nonce_changes", a->nonce_changes);
    if (a->user[0])
        issue_ev_str(is, "username", "%s", a->user);
    for (unsigned i = 0; i < a->nframes; i++)
        issue_frame(is, a->frames[i]);
}

void check_auth_words(struct issue *is, const struct auth_track *a, const char *what)
{
    if (a->with_creds == 0 && a->forbidden == 0)
        issue_say(is->diagnosis, sizeof is->diagnosis,
            "The %s never carried credentials after the challenges: the client has no account "
            "configured for realm \"%s\" (or does not support digest). Configure the "
            "username/password for that realm on the client.", what, a->realm);
    else if (a->realm_changes)
        issue_say(is->diagnosis, sizeof is->diagnosis,
            "The realm changed between challenges (last \"%s\"): two servers (a proxy and a "
            "registrar, or two nodes of a cluster) challenge in turn and the client answers "
            "only one of them. Check that the proxy does not re-challenge what the registrar "
            "authorised, and that the client keeps credentials for both realms.", a->realm);
    else if (a->stale)
        issue_say(is->diagnosis, sizeof is->diagnosis,
            "The server flagged the nonce stale: credentials were right but computed over an "
            "expired nonce, again and again. Check the clocks and the nonce lifetime on the "
            "server, and that the client uses the newest nonce.");
    else if (a->nonce_changes || a->forbidden)
        issue_say(is->diagnosis, sizeof is->diagnosis,
            "Credentials%s%s%s were sent %u time%s and refused every time (%u with a fresh "
            "challenge, %u with 403 Forbidden): the password (or the authentication username) "
            "is wrong for realm \"%s\", or the account is locked. Check the credentials "
            "configured on the client against the server's user database.",
            a->user[0] ? " for user \"" : "", a->user, a->user[0] ? "\"" : "",
            a->with_creds + a->forbidden, a->with_creds + a->forbidden == 1 ? "" : "s",
            a->with_creds, a->forbidden, a->realm);
    else
        issue_say(is->diagnosis, sizeof is->diagnosis,
            "The server challenged every %s with the same nonce and credentials were sent: the "
            "response digest does not match (wrong password, or a mangled URI/method between "
            "client and server, e.g. an ALG rewriting the request). Check the password and "
            "whether anything on the path rewrites the request line.", what);
}

static bool auth_verdict(const struct issue_config *cfg, const struct call *c, struct issue *is)
{
    const struct auth_track *a = c->auth;
    if (!a || a->run < cfg->auth_loop_challenges || c->answer_time)
        return false;
    issue_init(is, ISSUE_AUTH_LOOP, SEV_WARNING, a->first_time);
    call_header(is, c);
    check_auth_evidence(is, a);
    return true;
}

void check_auth_call(struct issue_engine *e, const struct call *c)
{
    struct issue is;
    if (!auth_verdict(&e->cfg, c, &is))
        return;
    issue_say(is.summary, sizeof is.summary, "INVITE challenged %u times without success",
              c->auth->run);
    check_auth_words(&is, c->auth, "INVITE");
    issue_emit(e, &is);
}

/* ---- long_post_dial_delay, slow_setup ---- */

struct timing_finding {
    double ms;             /* post-dial delay, or setup time */
    char to[IP_ADDR_PORT_STRLEN]; /* where the INVITE went */
    bool retransmitted;
    bool answered, timeout; /* slow_setup: how it ended */
};

/* After a 401/407 the clock starts again at the INVITE with credentials: the time a person
 * took to type a password is not delay of the network. */
static ptime_t timing_start(const struct call *c)
{
    return c->attempt_time ? c->attempt_time : c->invite_time;
}

/* RFC 6076 §4.1: post-dial delay, to the first ringing response. */
static bool pdd_verdict(const struct issue_config *cfg, const struct call *c, struct issue *is,
                        struct timing_finding *f)
{
    ptime_t start = timing_start(c);
    double pdd = issue_ms(start, c->ringing_time);
    if (pdd <= cfg->pdd_warn_ms)
        return false;
    issue_init(is, ISSUE_LONG_POST_DIAL_DELAY, issue_band(pdd, cfg->pdd_warn_ms, cfg->pdd_crit_ms),
               start);
    call_header(is, c);
    issue_frame(is, c->ringing_frame);
    ip_addr_port_str(&c->callee_ip, c->callee_port, f->to, sizeof f->to);
    issue_ev_num(is, "pdd_ms", pdd);
    issue_ev_num(is, "threshold_ms", cfg->pdd_warn_ms);
    issue_ev_str(is, "invite_to", "%s", f->to);
    f->ms = pdd;
    f->retransmitted = c->retransmissions > 0;
    return true;
}

static void pdd_words(struct issue *is, const struct timing_finding *f)
{
    issue_say(is->summary, sizeof is->summary, "%.1f s from INVITE to the first ringing response",
              f->ms / 1000);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "The caller waited %.1f s in silence before ringing. The usual causes are a slow "
              "DNS (NAPTR/SRV/A) look-up by a proxy, a proxy that tries a dead next hop until "
              "its timer fires before failing over, slow number translation or database (LNP, "
              "CNAM) dips, or an overloaded server. Look at where the delay appears on the "
              "ladder: between which hop's INVITE and the next hop's 100/18x.",
              f->ms / 1000);
    if (f->retransmitted)
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   " The INVITE was retransmitted: a hop answered late or not at all.");
}

/* No ringing response came: the time to the answer, the final response or the timeout. */
static bool setup_verdict(const struct issue_config *cfg, const struct call *c, struct issue *is,
                          struct timing_finding *f)
{
    ptime_t start = timing_start(c);
    bool timeout = c->state == CALL_FAILED && !c->final_status; /* Timer B: nothing answered */
    ptime_t until = c->answer_time                                 ? c->answer_time
                    : (c->final_status || timeout) && c->end_time ? c->end_time
                                                                   : 0;
    if (!until)
        return false;
    double ms = issue_ms(start, until);
    if (ms <= cfg->setup_warn_ms)
        return false;
    issue_init(is, ISSUE_SLOW_SETUP, issue_band(ms, cfg->setup_warn_ms, cfg->setup_crit_ms), start);
    call_header(is, c);
    issue_frame(is, c->answer_time ? c->answer_frame : c->final_frame);
    ip_addr_port_str(&c->callee_ip, c->callee_port, f->to, sizeof f->to);
    issue_ev_num(is, "setup_ms", ms);
    issue_ev_num(is, "threshold_ms", cfg->setup_warn_ms);
    issue_ev_num(is, "final_status", c->final_status);
    issue_ev_str(is, "invite_to", "%s", f->to);
    f->ms = ms;
    f->answered = c->answer_time != 0;
    f->timeout = timeout;
    return true;
}

static void setup_words(struct issue *is, const struct timing_finding *f)
{
    issue_say(is->summary, sizeof is->summary,
              "%.1f s from INVITE to the %s, with no ringing response", f->ms / 1000,
              f->answered  ? "answer"
              : f->timeout ? "transaction timeout"
                           : "final response");
    if (f->timeout)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "Nothing answered the INVITE to %s, not even 100 Trying, until the client gave "
                  "up (RFC 3261 Timer B, 64*T1 = 32 s): the destination is down or unreachable, "
                  "a firewall drops SIP towards it, or the request goes to a wrong address or "
                  "port. Check that %s is up and listening, and the route to it.",
                  f->to, f->to);
    else
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "No 180/183 came for %.1f s, so the caller heard nothing while the call was "
                  "set up. If a 100 Trying came, the next hop accepted the INVITE but forwarded "
                  "it slowly or waited on a dead destination; if none came, the INVITE itself "
                  "went unanswered (retransmissions tell). Check the route from %s and the "
                  "response times of each hop.",
                  f->ms / 1000, f->to);
}

void check_timing(struct issue_engine *e, const struct call *c)
{
    struct issue is;
    struct timing_finding f;
    bool found = c->ringing_time ? pdd_verdict(&e->cfg, c, &is, &f)
                                 : setup_verdict(&e->cfg, c, &is, &f);
    if (!found)
        return;
    if (c->ringing_time)
        pdd_words(&is, &f);
    else
        setup_words(&is, &f);
    issue_emit(e, &is);
}

/* ---- retransmissions: the message sent most often ---- */

struct retrans_finding {
    const char *what;      /* "INVITE", "200 INVITE"... */
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    unsigned copies;       /* sent in all */
    double span_ms;
};

static bool retrans_verdict(const struct issue_config *cfg, const struct call *c,
                            struct issue *is, struct retrans_finding *f)
{
    if (!c->nretrans)
        return false;
    const struct call_retrans *w = &c->retrans[0];
    for (unsigned i = 1; i < c->nretrans; i++)
        if (c->retrans[i].copies > w->copies)
            w = &c->retrans[i];
    issue_init(is, ISSUE_RETRANSMISSIONS,
               w->copies + 1 >= cfg->retrans_warn ? SEV_WARNING : SEV_INFO, w->first_time);
    is->call_seq = c->seq;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN], hops[112] = "";
    for (unsigned i = 0; i < c->nretrans; i++) {
        const struct call_retrans *r = &c->retrans[i];
        issue_frame(is, r->first_frame);
        issue_frame(is, r->last_frame);
        ip_addr_port_str(&r->src, r->sport, src, sizeof src);
        ip_addr_port_str(&r->dst, r->dport, dst, sizeof dst);
        issue_more(hops, sizeof hops, "%s%s %s>%s x%u", i ? "; " : "", r->what, src, dst,
                   r->copies + 1);
    }
    f->what = w->what;
    ip_addr_port_str(&w->src, w->sport, f->src, sizeof f->src);
    ip_addr_port_str(&w->dst, w->dport, f->dst, sizeof f->dst);
    f->copies = w->copies + 1;
    f->span_ms = issue_ms(w->first_time, w->last_time);
    issue_ev_num(is, "retransmissions", c->retransmissions);
    issue_ev_str(is, "message", "%s", w->what);
    issue_ev_str(is, "from", "%s", f->src);
    issue_ev_str(is, "to", "%s", f->dst);
    issue_ev_num(is, "copies", f->copies);
    issue_ev_num(is, "span_ms", f->span_ms);
    issue_ev_str(is, "hops", "%s", hops);
    if (c->retrans_dropped)
        issue_ev_num(is, "messages_not_listed", c->retrans_dropped);
    return true;
}

static void retrans_words(struct issue *is, const struct retrans_finding *f)
{
    const char *src = f->src, *dst = f->dst, *what = f->what;
    issue_say(is->summary, sizeof is->summary, "%s sent %u times from %s to %s over %.1f s", what,
              f->copies, src, dst, f->span_ms / 1000);
    bool request = what[0] < '0' || what[0] > '9';
    bool ok_invite = !request && what[0] == '2' && strstr(what, "INVITE");
    if (request)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "%s kept re-sending its %s because no response reached it in time (RFC 3261 "
                  "timer A/E doubling from 500 ms): the slow hop is %s -> %s. Either the request "
                  "was lost on the way, its response was lost on the way back, or %s answered "
                  "slowly (overload, a slow look-up before even a 100 Trying). Check loss on "
                  "that path and the load of %s.",
                  src, what, src, dst, dst, dst);
    else if (ok_invite)
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "%s re-sent its 200 OK because no ACK reached it (RFC 3261 §13.3.1.4): the ACK "
                  "was lost or went elsewhere, on the path %s -> %s. Typical causes: a wrong "
                  "Contact or Record-Route (often a NAT or an ALG rewriting it) so the caller "
                  "sends the ACK to an unreachable address. Without the ACK the callee drops the "
                  "call after 32 s.",
                  src, dst, src);
    else if (what[0] == '1')
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "%s re-sent its reliable provisional %s (RFC 3262) because no PRACK "
                  "acknowledged it in time: the PRACK from %s was late or lost on the way back. "
                  "Harmless when it stops after one or two copies; if it goes on, the call fails "
                  "after 32 s — check the PRACK path and 100rel support on %s.",
                  src, what, dst, dst);
    else
        issue_say(is->diagnosis, sizeof is->diagnosis,
                  "%s re-sent its %s because the request was sent again (its response was lost "
                  "on the way from %s to %s, or arrived late). Check loss on that path.",
                  src, what, src, dst);
}

void check_retrans(struct issue_engine *e, const struct call *c)
{
    struct issue is;
    struct retrans_finding f;
    if (!retrans_verdict(&e->cfg, c, &is, &f))
        return;
    retrans_words(&is, &f);
    issue_emit(e, &is);
}
