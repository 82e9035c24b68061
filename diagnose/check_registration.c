/* The checks of a registration: an authentication loop, or one that failed (refused, or a
 * binding that expired without a refresh). Each is a verdict (the frames and figures that
 * prove it) and the words that explain it. */
#include "checks.h"

#include "builder.h"

/* Its two ends, as every registration finding names them. */
struct reg_ends {
    char src[IP_ADDR_PORT_STRLEN], reg[IP_ADDR_PORT_STRLEN];
};

static void reg_header(struct issue *is, const struct registration *r, struct reg_ends *w)
{
    is->registration = r->aor;
    ip_addr_port_str(&r->source, r->source_port, w->src, sizeof w->src);
    ip_addr_port_str(&r->registrar, r->registrar_port, w->reg, sizeof w->reg);
}

/* ---- auth_loop ---- */

static bool reg_auth_verdict(const struct issue_config *cfg, const struct registration *r,
                             struct issue *is)
{
    if (r->auth.run < cfg->auth_loop_challenges || r->state == REG_REGISTERED)
        return false;
    struct reg_ends w;
    issue_init(is, ISSUE_AUTH_LOOP, SEV_WARNING, r->auth.first_time);
    reg_header(is, r, &w);
    check_auth_evidence(is, &r->auth);
    issue_ev_str(is, "source", "%s", w.src);
    issue_ev_str(is, "registrar", "%s", w.reg);
    return true;
}

static void reg_auth_words(struct issue *is, const struct registration *r)
{
    issue_say(is->summary, sizeof is->summary, "REGISTER for %s challenged %u times without success",
              r->aor, r->auth.run);
    check_auth_words(is, &r->auth, "REGISTER");
}

/* ---- registration_failure ---- */

struct reg_failure_finding {
    struct reg_ends w;
    const char *aor;       /* borrowed from the registration */
    bool refused;          /* a final error; else the binding expired */
    int status;
    long long expires_s;
};

static bool reg_failure_verdict(const struct registration *r, struct issue *is,
                                struct reg_failure_finding *f)
{
    if (r->state != REG_FAILED && !r->expired)
        return false;
    issue_init(is, ISSUE_REGISTRATION_FAILURE,
               r->state == REG_FAILED && r->final_status == 403 ? SEV_CRITICAL : SEV_WARNING,
               r->last_time);
    reg_header(is, r, &f->w);
    issue_frame(is, r->final_frame);
    issue_ev_str(is, "source", "%s", f->w.src);
    issue_ev_str(is, "registrar", "%s", f->w.reg);
    issue_ev_num(is, "final_status", r->final_status);
    issue_ev_num(is, "attempts", r->attempts);
    issue_ev_num(is, "challenges", r->challenges);
    if (r->state != REG_FAILED)
        issue_ev_num(is, "expires_s", (double)r->expires_s);
    f->aor = r->aor;
    f->refused = r->state == REG_FAILED;
    f->status = r->final_status;
    f->expires_s = (long long)r->expires_s;
    return true;
}

static const char *reg_status_meaning(int status)
{
    return status == 403 ? "forbidden — the account is disabled, the user is not allowed from "
                           "this address, or the credentials belong to another user. Check the "
                           "account on the registrar."
           : status == 404 ? "the AoR is unknown to the registrar: check the username and domain "
                             "configured on the device."
           : status == 423 ? "the expiry asked for is too short (Min-Expires): raise the device's "
                             "registration interval."
           : status >= 500 ? "the registrar failed or is overloaded: check its health and its "
                             "database."
                           : "the registration was refused: check the device's account settings "
                             "against the registrar.";
}

static void reg_failure_words(struct issue *is, const struct reg_failure_finding *f)
{
    if (f->refused) {
        issue_say(is->summary, sizeof is->summary, "REGISTER for %s refused with %d", f->aor,
                  f->status);
        issue_say(is->diagnosis, sizeof is->diagnosis, "The registrar %s answered %d: %s", f->w.reg,
                  f->status, reg_status_meaning(f->status));
        return;
    }
    issue_say(is->summary, sizeof is->summary, "binding of %s expired without a refresh", f->aor);
    issue_say(is->diagnosis, sizeof is->diagnosis,
              "The registrar granted %lld s and no refreshing REGISTER came before it ran out: "
              "the device went offline, lost its network, or its refreshes are lost on the way "
              "(NAT binding timed out, firewall). Calls to %s fail until it registers again.",
              f->expires_s, f->aor);
}

void issues_registration(struct issue_engine *e, const struct registration *r)
{
    struct issue is;
    if (reg_auth_verdict(&e->cfg, r, &is)) {
        reg_auth_words(&is, r);
        issue_emit(e, &is);
        return; /* the failure is this loop; one finding says it */
    }
    struct reg_failure_finding f;
    if (!reg_failure_verdict(r, &is, &f))
        return;
    reg_failure_words(&is, &f);
    issue_emit(e, &is);
}
