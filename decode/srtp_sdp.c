/* Which SDES key protects which endpoint, from the offers and answers SIP carries (RFC 3264
 * with RFC 4568). Each side's a=crypto is the key it sends with (RFC 4568 §6.1), and it
 * sends to the address and port the other side's SDP names; the answer picks one of the
 * offer's lines by its tag (§7.1.2). So an offer waits here, by Call-ID, until its answer
 * says which tag: then the offerer's key of that tag is kept for the answerer's endpoint and
 * the answerer's key for the offerer's. Bounded: SRTP_OFFERS_MAX offers, the oldest
 * forgotten first; their keys are zeroed when forgotten. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "sdp.h"
#include "sip.h"
#include "srtp.h"

#define OFFER_MEDIA 2 /* audio and video: the media lines whose keys are kept */
#define OFFER_KEYS  4 /* a=crypto lines kept per media line (an offer lists its choices) */

struct sdes_media {
    struct ip_addr addr;
    uint16_t port; /* 0: not RTP we can key (rejected, or no address) */
    uint8_t nkeys;
    bool srtp;                        /* SAVP profile or a=crypto: encrypted, keys or not */
    struct sdes_key keys[OFFER_KEYS]; /* owned key material */
};

struct sdes_desc {
    uint8_t nmedia;
    struct sdes_media m[OFFER_MEDIA];
};

struct offer {
    uint64_t call;     /* Call-ID's hash */
    bool from_request; /* an INVITE's or UPDATE's offer, not a 200's (late offer) */
    bool used;
    struct sdes_desc d;
};

struct srtp_offers {
    struct htab *ht;     /* call -> offer */
    struct offer *slots; /* owned: the ring, the oldest overwritten */
    size_t max, next;
    uint64_t seed;
    struct sdp sdp;       /* parse scratch */
    struct sdes_desc cur; /* the message being read: wiped after each */
    uint64_t sdes_errors[SDES_ST__COUNT];
};

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

static bool offer_eq(const void *item, const void *key)
{
    return ((const struct offer *)item)->call == *(const uint64_t *)key;
}

struct srtp_offers *srtp_offers_new(size_t max, uint64_t seed)
{
    struct srtp_offers *o = calloc(1, sizeof *o);
    if (!o || !max) return free(o), NULL;
    o->slots = calloc(max, sizeof *o->slots);
    o->ht = htab_new(max, offer_eq);
    if (!o->slots || !o->ht) {
        srtp_offers_free(o);
        return NULL;
    }
    o->max = max;
    o->seed = seed;
    return o;
}

void srtp_offers_free(struct srtp_offers *o)
{
    if (!o) return;
    if (o->slots) wipe(o->slots, o->max * sizeof *o->slots);
    free(o->slots);
    htab_free(o->ht);
    wipe(&o->cur, sizeof o->cur);
    free(o);
}

static bool parse_addr(struct sv a, uint8_t family, struct ip_addr *out)
{
    char buf[64];
    if (!family || a.n == 0 || a.n >= sizeof buf) return false;
    memcpy(buf, a.p, a.n);
    buf[a.n] = '\0';
    memset(out, 0, sizeof *out);
    out->family = family == 6 ? 6 : 4;
    return inet_pton(family == 6 ? AF_INET6 : AF_INET, buf, out->b) == 1;
}

static bool is_savp(struct sv proto)
{
    for (size_t i = 0; i + 4 <= proto.n; i++)
        if (!memcmp(proto.p + i, "SAVP", 4)) return true;
    return false;
}

/* The a=crypto lines of each media section, in order (RFC 4568 §9.1: media level only). */
static void crypto_lines(struct srtp_offers *o, const char *p, size_t n)
{
    int media = -1;
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && p[e] != '\n')
            e++;
        size_t len = e - i;
        if (len && p[i + len - 1] == '\r') len--;
        if (len >= 2 && p[i] == 'm' && p[i + 1] == '=')
            media++;
        else if (media >= 0 && media < o->cur.nmedia && len > 9 && !memcmp(p + i, "a=crypto:", 9)) {
            struct sdes_media *m = &o->cur.m[media];
            struct sdes_key k;
            enum sdes_status st = sdes_parse(p + i + 9, len - 9, &k);
            o->sdes_errors[st]++;
            m->srtp = true;
            if (st == SDES_ST_OK && m->nkeys < OFFER_KEYS) m->keys[m->nkeys++] = k;
            sdes_key_wipe(&k);
        }
        i = e + 1;
    }
}

/* The message's description into o->cur: false when it has none worth keeping. */
static bool describe(struct srtp_offers *o, const struct sip_msg *msg)
{
    struct sv body;
    if (!sip_body_sdp(msg, &body, NULL) || !sdp_parse(body.p, body.n, &o->sdp)) return false;
    memset(&o->cur, 0, sizeof o->cur);
    bool any = false;
    o->cur.nmedia = o->sdp.nmedia < OFFER_MEDIA ? o->sdp.nmedia : OFFER_MEDIA;
    for (unsigned i = 0; i < o->cur.nmedia; i++) {
        const struct sdp_media *sm = &o->sdp.media[i];
        struct sdes_media *m = &o->cur.m[i];
        m->srtp = sm->srtp || is_savp(sm->proto);
        if (sm->port && parse_addr(sm->addr, sm->family, &m->addr)) m->port = sm->port;
        any |= m->srtp;
    }
    if (any) crypto_lines(o, body.p, body.n);
    return any;
}

static const struct sdes_key *by_tag(const struct sdes_media *m, uint32_t tag)
{
    for (unsigned i = 0; i < m->nkeys; i++)
        if (m->keys[i].tag == tag) return &m->keys[i];
    return NULL;
}

/* RFC 4568 §7.1.2: the answer's one a=crypto line names the offer's line it accepts by tag */
static void pair(struct srtp_table *t, const struct sdes_desc *offer, const struct sdes_desc *ans)
{
    unsigned n = offer->nmedia < ans->nmedia ? offer->nmedia : ans->nmedia;
    for (unsigned i = 0; i < n; i++) {
        const struct sdes_media *om = &offer->m[i], *am = &ans->m[i];
        if (!om->srtp || !am->srtp) continue;
        const struct sdes_key *ak = am->nkeys ? &am->keys[0] : NULL;
        const struct sdes_key *ok = ak ? by_tag(om, ak->tag) : NULL;
        bool keyed = ak && ok && ak->suite == ok->suite;
        if (om->port && keyed)
            srtp_table_add(t, &om->addr, om->port, am->keys);
        else if (om->port)
            srtp_table_mark(t, &om->addr, om->port);
        if (am->port && keyed && ok)
            srtp_table_add(t, &am->addr, am->port, ok);
        else if (am->port)
            srtp_table_mark(t, &am->addr, am->port);
    }
}

static struct offer *offer_slot(struct srtp_offers *o, uint64_t call)
{
    struct offer *f = htab_find(o->ht, call, &call);
    if (f) return f;
    f = &o->slots[o->next];
    o->next = (o->next + 1) % o->max;
    if (f->used) htab_remove(o->ht, f->call, &f->call);
    wipe(f, sizeof *f);
    f->call = call;
    if (!htab_insert(o->ht, call, f)) return NULL;
    f->used = true;
    return f;
}

void srtp_offers_sip(struct srtp_offers *o, struct srtp_table *t, const struct sip_msg *msg)
{
    const struct sip_header *cid = sip_hdr(msg, SIP_H_CALL_ID);
    if (!cid || !describe(o, msg)) return;
    uint64_t call = hash_bytes(cid->value.p, cid->value.n, o->seed);
    bool ack = msg->is_request && msg->method.n == 3 && !memcmp(msg->method.p, "ACK", 3);
    struct offer *f = htab_find(o->ht, call, &call);
    /* RFC 3264 §4 and RFC 3261 §13.2.1: a request's SDP is an offer and a response's the
     * answer to it; with no offer in the request, the 200's SDP is the offer and the ACK's
     * the answer */
    bool answer = ack ? f && !f->from_request : !msg->is_request && f && f->from_request;
    if (answer) {
        pair(t, &f->d, &o->cur);
    } else if ((f = offer_slot(o, call))) {
        wipe(&f->d, sizeof f->d);
        f->d = o->cur;
        f->from_request = msg->is_request;
    }
    wipe(&o->cur, sizeof o->cur);
}

void srtp_offers_errors(const struct srtp_offers *o, uint64_t out[SDES_ST__COUNT])
{
    memcpy(out, o->sdes_errors, sizeof o->sdes_errors);
}

size_t srtp_offers_bytes(const struct srtp_offers *o)
{
    return sizeof *o + o->max * sizeof *o->slots + htab_bytes(o->ht);
}
