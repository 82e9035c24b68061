/* The check of a registration: one that failed, or went round an authentication loop. */
#include "issues.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "decode/dns.h"
#include "decode/sdp.h"

#include "builder.h"
#include "checks.h"
#include "engine.h"

void issues_registration(struct issue_engine *e, const struct registration *r)
{
    struct issue is;
    char src[IP_ADDR_PORT_STRLEN], reg[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&r->source, r->source_port, src, sizeof src);
    ip_addr_port_str(&r->registrar, r->registrar_port, reg, sizeof reg);
    if (r->auth.run >= e->cfg.auth_loop_challenges && r->state != REG_REGISTERED) {
        issue_init(&is, ISSUE_AUTH_LOOP, SEV_WARNING, r->auth.first_time);
        is.registration = r->aor;
        check_auth_evidence(&is, &r->auth);
        issue_ev_str(&is, "source", "%s", src);
        issue_ev_str(&is, "registrar", "%s", reg);
        issue_say(is.summary, sizeof is.summary, "REGISTER for %s challenged %u times without success",
            r->aor, r->auth.run);
        check_auth_words(&is, &r->auth, "REGISTER");
        issue_emit(e, &is);
        return; /* the failure is this loop; one finding says it */
    }
    if (r->state != REG_FAILED && !r->expired)
        return;
    issue_init(&is, ISSUE_REGISTRATION_FAILURE,
               r->state == REG_FAILED && r->final_status == 403 ? SEV_CRITICAL : SEV_WARNING,
               r->last_time);
    is.registration = r->aor;
    issue_frame(&is, r->final_frame);
    issue_ev_str(&is, "source", "%s", src);
    issue_ev_str(&is, "registrar", "%s", reg);
    issue_ev_num(&is, "final_status", r->final_status);
    issue_ev_num(&is, "attempts", r->attempts);
    issue_ev_num(&is, "challenges", r->challenges);
    if (r->state == REG_FAILED) {
        issue_say(is.summary, sizeof is.summary, "REGISTER for %s refused with %d", r->aor,
            r->final_status);
        issue_say(is.diagnosis, sizeof is.diagnosis, "The registrar %s answered %d: %s", reg,
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
        issue_ev_num(&is, "expires_s", (double)r->expires_s);
        issue_say(is.summary, sizeof is.summary, "binding of %s expired without a refresh", r->aor);
        issue_say(is.diagnosis, sizeof is.diagnosis,
            "The registrar granted %lld s and no refreshing REGISTER came before it ran out: "
            "the device went offline, lost its network, or its refreshes are lost on the way "
            "(NAT binding timed out, firewall). Calls to %s fail until it registers again.",
            (long long)r->expires_s, r->aor);
    }
    issue_emit(e, &is);
}
