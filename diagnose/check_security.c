/* The checks of the security watch (security.c): a scan, password guessing, a hijacked
 * binding and a toll-fraud pattern. Each is a verdict over the watch's figures and the words
 * that say what happened and what to do; the evidence is the episode's (its first to last
 * message): addresses, User-Agent, targets, counts, time span and the answers given. */
#include <stdio.h>
#include <string.h>

#include "builder.h"
#include "security.h"

static uint32_t win_ood(const struct sec_source *s)
{
    return s->half[0].ood + s->half[1].ood;
}

/* ---- verdicts ---- */

/* RFC 3261 §8.2.2.1 / §10.3: an unknown extension answers 404, a known one 401/407 and
 * 403; a source whose out-of-dialog requests are mostly so answered (or never answered)
 * while it works through many extensions or many methods is looking for a way in. A tool
 * that says what it is in its User-Agent is one at its first request. */
bool sec_scan_verdict(const struct issue_config *cfg, const struct sec_source *s)
{
    if (s->known_scanner) return true;
    uint32_t ood = win_ood(s), ok = s->half[0].ok + s->half[1].ok;
    if (!ood || 1.0 - (double)ok / ood < cfg->scan_fail_ratio) return false;
    struct sec_bits t;
    for (int i = 0; i < 8; i++)
        t.w[i] = s->half[0].targets.w[i] | s->half[1].targets.w[i];
    unsigned methods = (unsigned)__builtin_popcount(s->half[0].methods | s->half[1].methods);
    return sec_bits_count(&t) + 0.5 >= cfg->scan_targets || methods >= cfg->scan_methods;
}

/* RFC 2617 §3.2.2 credentials answered by another challenge or 403: a wrong password. */
bool sec_brute_verdict(const struct issue_config *cfg, const struct sec_source *s)
{
    return s->half[0].auth_failed + s->half[1].auth_failed >= cfg->auth_fail;
}

/* Many calls at once from an account that usually holds one or two is the other shape of
 * fraud; a trunk or a call centre's account that always holds twenty is not. The limit is
 * conc_factor times what the account usually holds (at its answers up to two minutes ago:
 * security.h; learnt once it has conc_learn_s and
 * conc_learn_calls of history), never under the toll_concurrent floor; an account not yet
 * learnt (new, or first seen mid-flight) is held to conc_factor times the floor. */
double sec_conc_limit(const struct issue_config *cfg, const struct sec_account *a, ptime_t now)
{
    bool learnt = a->conc_calls >= cfg->conc_learn_calls &&
                  now - a->conc_since >= (ptime_t)(cfg->conc_learn_s * (double)PTIME_SEC);
    double lim = cfg->conc_factor * (learnt ? (double)a->conc_usual : cfg->toll_concurrent);
    return lim > cfg->toll_concurrent ? lim : cfg->toll_concurrent;
}

/* The same guessing spread over many networks against one account, each network perhaps
 * under auth_fail: what a botnet does so that no source crosses a per-source limit. */
bool sec_spread_verdict(const struct issue_config *cfg, const struct sec_account *a)
{
    struct sec_bits n;
    for (int i = 0; i < 8; i++)
        n.w[i] = a->guess_half[0].nets.w[i] | a->guess_half[1].nets.w[i];
    return a->guess_half[0].failed + a->guess_half[1].failed >= cfg->auth_fail &&
           sec_bits_count(&n) + 0.5 >= cfg->auth_networks;
}

/* Concurrency as it is now: an account judged on the most it ever held would be a fraud
 * forever after one busy hour, once its learnt habit lowered the limit under that peak. */
bool sec_fraud_verdict(const struct issue_config *cfg, const struct sec_account *a, ptime_t now)
{
    return a->toll_half[0] + a->toll_half[1] >= cfg->toll_calls ||
           a->nactive >= sec_conc_limit(cfg, a, now);
}

/* ---- shared evidence ---- */

static void ev_list(struct issue *is, const char *key, const char (*list)[SEC_SAMPLE_LEN],
                    unsigned n)
{
    char buf[112];
    size_t k = 0;
    buf[k++] = '[';
    for (unsigned i = 0; i < n; i++) { /* samples hold no " or \ (security.c) */
        size_t len = strlen(list[i]) + 3 + (i > 0);
        if (k + len + 1 >= sizeof buf)
            break; /* the list is a sample: fewer names rather than a cut one */
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s\"%s\"", i ? "," : "", list[i]);
    }
    issue_ev_json(is, key, "%.*s]", (int)k, buf);
}

static void ev_network(struct issue *is, const struct sec_source *s, char *addr, size_t n)
{
    issue_ip(&s->addr, addr, n);
    struct ip_addr net = {.family = s->addr.family};
    memcpy(net.b, s->addr.b, s->addr.family == 6 ? 8 : 3);
    char nb[64];
    issue_ev_str(is, "source", "%s", addr);
    issue_ev_str(is, "network", "%s/%d", issue_ip(&net, nb, sizeof nb),
                 s->addr.family == 6 ? 64 : 24);
    issue_ev_num(is, "addresses", (double)(long)(sec_bits_count(&s->addrs) + 0.5));
    if (s->ua[0]) issue_ev_str(is, "user_agent", "%s", s->ua);
}

static void ev_answers(struct issue *is, const struct sec_source *s)
{
    uint32_t answered = 0;
    for (int i = 0; i < SEC_ANS__COUNT; i++)
        answered += s->ans[i];
    issue_ev_json(is, "answers",
                  "{\"2xx\":%u,\"401/407\":%u,\"403\":%u,\"404\":%u,\"other\":%u,\"none\":%u}",
                  s->ans[SEC_ANS_OK], s->ans[SEC_ANS_CHALLENGE], s->ans[SEC_ANS_FORBIDDEN],
                  s->ans[SEC_ANS_NOT_FOUND], s->ans[SEC_ANS_OTHER],
                  s->ood > answered ? s->ood - answered : 0);
    issue_ev_num(is, "span_s", (double)(s->last - s->first) / PTIME_SEC);
}

static const char edge_advice[] =
    "Block the source at the edge (firewall or SBC access list), rate-limit out-of-dialog "
    "requests and failed authentications per source (fail2ban on the registrar's log, "
    "Kamailio's pike and htable, Asterisk's security log), and keep SIP closed to networks "
    "the phones are not on.";

/* ---- sip_scan ---- */

struct scan_finding {
    char addr[64];
    double targets;
    uint32_t requests, ok;
    char methods[96];
    const char *ua;
    bool tool;
};

static void scan_verdict_report(const struct sec_source *s, struct issue *is,
                                struct scan_finding *f)
{
    issue_init(is, ISSUE_SIP_SCAN, s->ans[SEC_ANS_OK] ? SEV_CRITICAL : SEV_WARNING, s->first);
    issue_frame(is, s->first_frame);
    issue_frame(is, s->last_frame);
    ev_network(is, s, f->addr, sizeof f->addr);
    issue_ev_num(is, "known_scanner", s->known_scanner);
    issue_ev_num(is, "requests", s->ood);
    f->targets = (double)(long)(sec_bits_count(&s->targets) + 0.5);
    issue_ev_num(is, "targets", f->targets);
    ev_list(is, "targets_sample", s->target, s->ntargets);
    size_t k = 0;
    f->methods[0] = 0;
    for (unsigned b = 0; b < 16 && k < sizeof f->methods - 12; b++)
        if (s->methods >> b & 1)
            k += (size_t)snprintf(f->methods + k, sizeof f->methods - k, "%s%s", k ? "," : "",
                                  sec_method_name(b));
    issue_ev_str(is, "methods", "%s", f->methods);
    ev_answers(is, s);
    f->requests = s->ood;
    f->ok = s->ans[SEC_ANS_OK];
    f->ua = s->ua[0] ? s->ua : NULL;
    f->tool = s->known_scanner;
}

static void scan_words(struct issue *is, const struct scan_finding *f)
{
    issue_say(is->summary, sizeof is->summary,
              "SIP scan from %s%s%s%s: %u requests (%s) to %.0f extensions", f->addr,
              f->ua ? " (" : "", f->ua ? f->ua : "", f->ua ? ")" : "", f->requests, f->methods,
              f->targets);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "%s is probing the SIP service for extensions and open doors%s: most of its "
              "requests were refused (404/401/403) or not answered. %s",
              f->addr, f->tool ? ", and names itself a scanner in its User-Agent" : "",
              edge_advice);
    if (f->ok)
        issue_more(is->diagnosis, sizeof is->diagnosis,
                   " %u of its requests were answered 2xx: check what they reached; an INVITE "
                   "accepted without authentication dials out for anyone, so disable the "
                   "guest or anonymous context.",
                   f->ok);
}

/* ---- auth_brute_force ---- */

static void brute_report(struct issue_engine *e, const struct sec_source *s)
{
    struct issue is;
    char addr[64];
    issue_init(&is, ISSUE_AUTH_BRUTE_FORCE, s->auth_ok ? SEV_CRITICAL : SEV_WARNING, s->first);
    issue_frame(&is, s->brute_frame);
    issue_frame(&is, s->last_frame);
    ev_network(&is, s, addr, sizeof addr);
    issue_ev_num(&is, "attempts", s->auth_tries);
    issue_ev_num(&is, "failed", s->auth_failed);
    issue_ev_num(&is, "succeeded", s->auth_ok);
    issue_ev_num(&is, "accounts", (double)(long)(sec_bits_count(&s->accounts) + 0.5));
    ev_list(&is, "accounts_sample", s->account, s->naccounts);
    ev_answers(&is, s);
    issue_say(is.summary, sizeof is.summary,
              "password guessing from %s against %s%s: %u failed digest attempts", addr,
              s->naccounts ? s->account[0] : "?", s->naccounts > 1 ? " and others" : "",
              s->auth_failed);
    issue_say(is.diagnosis, sizeof is.diagnosis,
              "%s sent credentials %u times and was refused %u times (another 401/407 or 403): "
              "someone is guessing passwords. Use long random SIP passwords (never the "
              "extension number), lock or slow down an account after repeated failures, and "
              "accept registrations only from the phones' networks. %s",
              addr, s->auth_tries, s->auth_failed, edge_advice);
    if (s->auth_ok)
        issue_more(is.diagnosis, sizeof is.diagnosis,
                   " %u attempts succeeded: change the passwords of the accounts tried now and "
                   "check their registrations and calls.",
                   s->auth_ok);
    issue_emit(e, &is);
}

void sec_report_source(struct issue_engine *e, const struct sec_source *s)
{
    if (s->scan) {
        struct issue is;
        struct scan_finding f;
        scan_verdict_report(s, &is, &f);
        scan_words(&is, &f);
        issue_emit(e, &is);
    }
    if (s->brute) brute_report(e, s);
}

void sec_report_guess(struct issue_engine *e, const struct sec_account *a)
{
    struct issue is;
    double nets = (double)(long)(sec_bits_count(&a->guess_nets) + 0.5);
    issue_init(&is, ISSUE_AUTH_BRUTE_FORCE, SEV_WARNING, a->guess_first);
    is.registration = a->name;
    issue_frame(&is, a->guess_frame);
    issue_ev_str(&is, "account", "%s", a->name);
    issue_ev_num(&is, "failed", a->guess_failed);
    issue_ev_num(&is, "networks", nets);
    ev_list(&is, "networks_sample", a->guess_net, a->nguess_nets);
    issue_ev_num(&is, "span_s", (double)(a->guess_last - a->guess_first) / PTIME_SEC);
    issue_say(is.summary, sizeof is.summary,
              "password guessing against %s from %.0f networks: %u failed digest attempts", a->name,
              nets, a->guess_failed);
    issue_say(is.diagnosis, sizeof is.diagnosis,
              "Digest credentials for %s were refused %u times (another 401/407 or 403) from "
              "%.0f different networks: someone is guessing its password from many addresses "
              "at once, so that no single source looks busy. Per-source limits do not stop "
              "this: use a long random password, lock or slow down the account after repeated "
              "failures whatever their source, and accept its registrations only from the "
              "networks its phones use.",
              a->name, a->guess_failed, nets);
    issue_emit(e, &is);
}

/* ---- registration_hijack ---- */

void sec_report_hijack(struct issue_engine *e, const struct sec_account *a,
                       const struct sec_source *by)
{
    struct issue is;
    char now[64], before[64];
    issue_init(&is, ISSUE_REGISTRATION_HIJACK, SEV_CRITICAL,
               a->moved_first ? a->moved_first : a->last);
    is.registration = a->name;
    for (unsigned i = 0; i < (a->moves ? a->moves : 1) && i < 4; i++) /* 0 frames are skipped */
        issue_frame(&is, a->move_frames[i]);
    issue_ev_str(&is, "account", "%s", a->name);
    issue_ev_str(&is, "holder", "%s", issue_ip(&a->bind, now, sizeof now));
    if (a->bind_ua[0]) issue_ev_str(&is, "user_agent", "%s", a->bind_ua);
    if (a->moves) {
        issue_ev_str(&is, "previous", "%s", issue_ip(&a->prev, before, sizeof before));
        if (a->prev_ua[0]) issue_ev_str(&is, "previous_user_agent", "%s", a->prev_ua);
    }
    issue_ev_num(&is, "moves", a->moves);
    issue_ev_num(&is, "by_password_guesser", by != NULL);
    if (by)
        issue_say(is.summary, sizeof is.summary,
                  "binding of %s taken by %s, a source that was guessing passwords", a->name, now);
    else
        issue_say(is.summary, sizeof is.summary,
                  "binding of %s moved %u times between %s and %s while still registered", a->name,
                  a->moves, before, now);
    issue_say(is.diagnosis, sizeof is.diagnosis, "%s",
              by ? "A source that failed many digest attempts then registered the account: a "
                   "guessed password is in use. Calls to it now ring the intruder and calls "
                   "from it cost you."
                 : "Two devices hold the account's registration in turns, each replacing the "
                   "other while its binding was still valid: the old device is alive, so the "
                   "account's credentials are in a second, unknown device. A phone flapping "
                   "between two networks (Wi-Fi and mobile data) looks the same: check the "
                   "addresses.");
    issue_more(is.diagnosis, sizeof is.diagnosis,
               " Change the account's password, check its recent calls, limit it to one "
               "binding and accept its registrations only from the networks its phones use.");
    issue_emit(e, &is);
}

/* ---- toll_fraud_pattern ---- */

void sec_report_fraud(struct issue_engine *e, const struct sec_account *a)
{
    struct issue is;
    char src[64];
    issue_init(&is, ISSUE_TOLL_FRAUD_PATTERN, SEV_CRITICAL,
               a->toll_first ? a->toll_first : a->last);
    is.registration = a->name;
    issue_frame(&is, a->toll_frame);
    issue_ev_str(&is, "account", "%s", a->name);
    if (a->toll) issue_ev_str(&is, "source", "%s", issue_ip(&a->toll_src, src, sizeof src));
    issue_ev_num(&is, "listed_calls", a->toll);
    if (a->toll) {
        issue_ev_str(&is, "destination_kind", "%s", a->dest_kind);
        ev_list(&is, "destinations_sample", a->dest, a->ndests);
    }
    issue_ev_num(&is, "peak_concurrent", a->peak);
    if (a->fraud_concurrent) {
        issue_ev_num(&is, "usual_concurrent", (double)(long)(a->conc_was * 10 + 0.5) / 10);
        issue_ev_num(&is, "concurrent_limit", (double)a->conc_limit);
    }
    issue_ev_num(&is, "window_s", e->cfg.toll_window_s);
    if (!a->fraud_concurrent)
        issue_say(is.summary, sizeof is.summary,
                  "%u calls from %s to %s destinations (%s...) in a burst", a->toll, a->name,
                  a->dest_kind, a->ndests ? a->dest[0] : "?");
    else
        issue_say(is.summary, sizeof is.summary,
                  "%u calls of %s in progress at once (it usually holds %.1f)", a->peak, a->name,
                  (double)a->conc_was);
    issue_say(is.diagnosis, sizeof is.diagnosis,
              "Many calls to international or premium numbers in a short time, or many calls of "
              "one account at once, is the shape of toll fraud: the account's password is "
              "known to someone else, or a dial plan lets strangers call out. Block "
              "international and premium destinations for accounts that do not need them, "
              "set per-account limits on concurrent calls and spend, change the account's "
              "password, and disable the guest or anonymous context so that unauthenticated "
              "INVITEs cannot reach the outside.");
    issue_emit(e, &is);
}
