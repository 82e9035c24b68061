/* Digest challenge runs (RFC 3261 §22.2, RFC 7616 §3.3): how many 401/407 a call or a
 * binding met since its last success, whether the requests carried credentials, and
 * whether the realm or the nonce moved between challenges. A changing nonce with
 * credentials sent each time is a wrong password (or user); the same nonce answered again
 * and again is a client that never computes a response; stale=true is an expired nonce. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "correlate.h"

static void copy_cut(char *dst, size_t cap, struct sv v)
{
    size_t n = v.p ? (v.n < cap - 1 ? v.n : cap - 1) : 0;
    memcpy(dst, v.p ? v.p : "", n);
    dst[n] = '\0';
}

void auth_track_request(struct auth_track *a, const struct sip_msg *m)
{
    const struct sip_header *h = sip_hdr(m, SIP_H_AUTHORIZATION);
    if (!h)
        h = sip_hdr(m, SIP_H_PROXY_AUTHORIZATION);
    a->creds_pending = h != NULL;
    if (!h)
        return;
    bool found;
    struct sv user = sip_auth_param(h->value, "username", &found);
    if (found && user.n)
        copy_cut(a->user, sizeof a->user, user);
}

void auth_track_response(struct auth_track *a, const struct sip_msg *m, uint64_t frame, ptime_t t)
{
    if (m->status >= 200 && m->status < 300) {
        memset(a, 0, sizeof *a);
        return;
    }
    if (m->status == 403 && a->run && a->creds_pending) {
        a->forbidden++;
        a->creds_pending = false;
        if (a->nframes < AUTH_MAX_FRAMES)
            a->frames[a->nframes++] = frame;
        return;
    }
    if (m->status != 401 && m->status != 407)
        return;
    const struct sip_header *h =
        sip_hdr(m, m->status == 401 ? SIP_H_WWW_AUTHENTICATE : SIP_H_PROXY_AUTHENTICATE);
    bool found;
    struct sv realm = h ? sip_auth_param(h->value, "realm", &found) : SV_NULL;
    struct sv nonce = h ? sip_auth_param(h->value, "nonce", &found) : SV_NULL;
    struct sv stale = h ? sip_auth_param(h->value, "stale", &found) : SV_NULL;
    uint64_t rh = hash_bytes(realm.p ? realm.p : "", realm.p ? realm.n : 0, 1);
    uint64_t nh = hash_bytes(nonce.p ? nonce.p : "", nonce.p ? nonce.n : 0, 2);
    if (a->run) {
        a->realm_changes += rh != a->realm_hash;
        a->nonce_changes += nh != a->nonce_hash;
    } else {
        a->first_time = t;
    }
    a->realm_hash = rh;
    a->nonce_hash = nh;
    copy_cut(a->realm, sizeof a->realm, realm);
    if (stale.n == 4 && strncasecmp(stale.p, "true", 4) == 0)
        a->stale = true;
    a->with_creds += a->creds_pending;
    a->creds_pending = false;
    a->run++;
    if (a->nframes < AUTH_MAX_FRAMES)
        a->frames[a->nframes++] = frame;
}
