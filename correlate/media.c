/* Media endpoints announced by SDP (RFC 3264): each offer or answer seen in a call says
 * where its side wants RTP (c= address, m= port) and RTCP (a=rtcp, rtcp-mux, or port + 1,
 * RFC 3605 / RFC 5761 / RFC 3550 §11), with the payload types' clock rates. A UDP packet
 * to such an endpoint is that call's media. Entries point at calls by number only, so a
 * call handed on leaves no dangling pointer; a call's end takes its entries out
 * (media_forget), and the table is bounded besides (LRU, counted). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/list.h"
#include "correlate_int.h"
#include "decode/sdp.h"

#define MEDIA_PTS 8
#define MEDIA_NAMES 255 /* distinct encoding names a table keeps (index 1..255; 0: none) */

/* An endpoint, compact (an INVITE of a flood puts one in the table): encoding
 * names with their clock rates are indexes into the table's list of them, since a capture
 * holds a handful; the calls that announced it before are apart, as few endpoints have
 * any; its hash is the key's, computed again when it goes. */
struct media_ep {
    struct media_key key;
    bool rtcp, rtp;
    bool rtcp_next; /* its RTCP is on the next port up (RFC 3550 §11): no entry of its own */
    uint8_t npts;
    uint8_t pt[MEDIA_MATCH_PTS];
    uint8_t codec[MEDIA_MATCH_PTS]; /* index into names (and rates) + 1, 0 none */
    struct dlist_node lru;
    uint64_t call_seq;
    uint64_t *shared; /* owned: MEDIA_MATCH_SHARED of them, 0 past the end; NULL none */
};

struct media_table {
    struct ctab *ht;
    struct dlist lru;
    uint64_t seed;
    char names[MEDIA_NAMES][16]; /* encoding names seen with ... */
    uint32_t rates[MEDIA_NAMES]; /* ... their clock rates, in order ... */
    uint32_t refs[MEDIA_NAMES];  /* ... and the entries naming each: a pair no entry names
                                  * any more makes room for a new one, so a sender that
                                  * offers hundreds of made-up codecs cannot leave every
                                  * later stream without its name and clock rate; only
                                  * MEDIA_NAMES pairs named at once can (their streams then
                                  * show no codec) */
    unsigned nnames;
};

/* The index (+1) of an encoding name and clock rate in the table's list, added when new
 * (in a slot no entry names, once the list is full), with one more entry naming it; 0 when
 * neither is known, or no slot is free. */
static uint8_t name_index(struct media_table *t, const char *name, uint32_t rate)
{
    if (!name[0] && !rate)
        return 0;
    unsigned i, free_slot = MEDIA_NAMES;
    for (i = 0; i < t->nnames; i++) {
        if (t->rates[i] == rate && strcmp(t->names[i], name) == 0)
            break;
        if (!t->refs[i] && free_slot == MEDIA_NAMES)
            free_slot = i;
    }
    if (i == t->nnames) {
        if (t->nnames < MEDIA_NAMES)
            t->nnames++;
        else if ((i = free_slot) == MEDIA_NAMES)
            return 0;
        memcpy(t->names[i], name, sizeof t->names[0]);
        t->rates[i] = rate;
    }
    t->refs[i]++;
    return (uint8_t)(i + 1);
}

/* An entry no longer names its codecs (it goes, or a newer SDP names its own). */
static void names_release(struct media_table *t, struct media_ep *e)
{
    for (unsigned i = 0; i < MEDIA_MATCH_PTS; i++)
        if (e->codec[i]) {
            t->refs[e->codec[i] - 1]--;
            e->codec[i] = 0;
        }
}

static bool key_eq(const void *item, const void *key)
{
    return memcmp(&((const struct media_ep *)item)->key, key, sizeof(struct media_key)) == 0;
}

static uint64_t key_hash(const void *item, const void *ctx)
{
    const struct media_ep *e = item;
    return hash_bytes(&e->key, sizeof e->key, ((const struct media_table *)ctx)->seed);
}

struct media_table *media_table_new(size_t max, uint64_t seed)
{
    struct media_table *t = calloc(1, sizeof *t);
    if (!t || !(t->ht = ctab_new(max, key_eq, key_hash, t))) {
        free(t);
        return NULL;
    }
    t->seed = seed;
    return t;
}

size_t media_entry_bytes(void)
{
    return sizeof(struct media_ep) + 16; /* the allocator's header, rounded */
}

size_t media_table_bytes(const struct media_table *t)
{
    return sizeof *t + ctab_bytes(t->ht) + ctab_count(t->ht) * media_entry_bytes();
}

void media_table_free(struct media_table *t)
{
    if (!t)
        return;
    while (t->lru.head) {
        struct media_ep *e = dlist_entry(t->lru.head, struct media_ep, lru);
        dlist_unlink(&t->lru, &e->lru);
        free(e->shared);
        free(e);
    }
    ctab_free(t->ht);
    free(t);
}

static void drop(struct media_table *t, struct media_ep *e)
{
    names_release(t, e);
    dlist_unlink(&t->lru, &e->lru);
    ctab_remove(t->ht, hash_bytes(&e->key, sizeof e->key, t->seed), &e->key);
    free(e->shared);
    free(e);
}

static struct media_key *key_at(struct media_keys *keys, unsigned i)
{
    return i ? &keys->more[i - 1] : &keys->first;
}

static void remember(struct media_keys *keys, const struct media_key *k)
{
    for (unsigned i = 0; i < keys->n; i++)
        if (memcmp(key_at(keys, i), k, sizeof *k) == 0)
            return;
    if (keys->n && keys->n - 1u == keys->cap) {
        unsigned cap = keys->cap ? keys->cap * 2u : 2u; /* an offer: RTP and RTCP */
        if (cap + 1 > MEDIA_KEYS_MAX) /* the last doubling stops at the maximum */
            cap = MEDIA_KEYS_MAX - 1;
        if (cap <= keys->cap)
            return;
        struct media_key *v = realloc(keys->more, cap * sizeof *v);
        if (!v)
            return;
        keys->more = v;
        keys->cap = (uint8_t)cap;
    }
    *key_at(keys, keys->n++) = *k;
}

void media_forget(struct media_table *t, struct media_keys *keys, uint64_t call_seq)
{
    for (unsigned i = 0; i < keys->n; i++) {
        const struct media_key *k = key_at(keys, i);
        struct media_ep *e = ctab_find(t->ht, hash_bytes(k, sizeof *k, t->seed), k);
        if (!e)
            continue; /* evicted, or forgotten by a call that shared it */
        uint64_t *sh = e->shared;
        if (e->call_seq == call_seq) {
            if (!sh || !sh[0]) {
                drop(t, e);
                continue;
            }
            e->call_seq = sh[0]; /* the call that announced it before */
            memmove(sh, sh + 1, (MEDIA_MATCH_SHARED - 1) * sizeof *sh);
            sh[MEDIA_MATCH_SHARED - 1] = 0;
            continue;
        }
        for (size_t j = 0; sh && j < MEDIA_MATCH_SHARED && sh[j]; j++)
            if (sh[j] == call_seq) {
                memmove(sh + j, sh + j + 1, (MEDIA_MATCH_SHARED - 1 - j) * sizeof *sh);
                sh[MEDIA_MATCH_SHARED - 1] = 0;
                break;
            }
    }
    free(keys->more);
    *keys = (struct media_keys){0};
}

static void put(struct media_table *t, const struct media_key *k, const struct media_match *m,
                bool rtcp_next, struct media_keys *keys, uint64_t *evicted)
{
    remember(keys, k);
    uint64_t h = hash_bytes(k, sizeof *k, t->seed);
    struct media_ep *e = ctab_find(t->ht, h, k);
    if (!e) {
        if (!(e = calloc(1, sizeof *e)))
            return;
        e->key = *k;
        while (!ctab_insert(t->ht, h, e)) {
            if (!t->lru.head) {
                free(e);
                return;
            }
            drop(t, dlist_entry(t->lru.head, struct media_ep, lru));
            (*evicted)++;
        }
        dlist_push_tail(&t->lru, &e->lru);
    } else {
        dlist_touch(&t->lru, &e->lru);
    }
    /* the newest offer or answer for this endpoint wins (re-INVITE moves); the calls
     * that announced it before are kept, a few, for endpoints several calls share */
    uint64_t shared[MEDIA_MATCH_SHARED] = {0};
    if (e->shared)
        memcpy(shared, e->shared, sizeof shared);
    uint64_t prev = e->call_seq;
    e->call_seq = m->call_seq;
    e->rtcp = m->rtcp;
    e->rtp = m->rtp;
    e->rtcp_next = rtcp_next;
    e->npts = m->npts;
    memcpy(e->pt, m->pt, sizeof e->pt);
    names_release(t, e);
    for (unsigned i = 0; i < MEDIA_MATCH_PTS; i++)
        e->codec[i] = i < m->npts ? name_index(t, m->codec[i], m->rate[i]) : 0;
    uint64_t now[MEDIA_MATCH_SHARED] = {0};
    size_t n = 0;
    if (prev && prev != m->call_seq)
        now[n++] = prev;
    for (size_t i = 0; i < MEDIA_MATCH_SHARED && n < MEDIA_MATCH_SHARED; i++)
        if (shared[i] && shared[i] != m->call_seq && shared[i] != prev)
            now[n++] = shared[i];
    if (n && !e->shared && !(e->shared = malloc(sizeof now)))
        n = 0; /* no memory: the calls before are forgotten, this one still wins */
    if (e->shared)
        memcpy(e->shared, now, sizeof now);
}

bool media_match_has(const struct media_match *m, uint64_t call_seq)
{
    if (m->call_seq == call_seq)
        return true;
    for (size_t i = 0; i < MEDIA_MATCH_SHARED && m->shared[i]; i++)
        if (m->shared[i] == call_seq)
            return true;
    return false;
}

static bool parse_addr(struct sv a, uint8_t family, uint8_t out[16])
{
    char buf[64];
    if (a.n == 0 || a.n >= sizeof buf)
        return false;
    memcpy(buf, a.p, a.n);
    buf[a.n] = '\0';
    memset(out, 0, 16);
    return inet_pton(family == 6 ? AF_INET6 : AF_INET, buf, out) == 1;
}

bool media_addr_parse(struct sv a, uint8_t family, struct ip_addr *out)
{
    out->family = family == 6 ? 6 : 4;
    return family && parse_addr(a, family, out->b);
}

void media_from_sdp(struct media_table *t, const struct sdp *s, uint64_t call_seq,
                    struct media_keys *keys, uint64_t *evicted)
{
    for (unsigned i = 0; i < s->nmedia; i++) {
        const struct sdp_media *md = &s->media[i];
        struct media_key k;
        memset(&k, 0, sizeof k);
        if (md->port == 0 || !md->family || !parse_addr(md->addr, md->family, k.addr))
            continue;
        k.family = md->family;
        struct media_match m;
        memset(&m, 0, sizeof m);
        m.call_seq = call_seq;
        m.rtp = md->proto.n >= 3 && (strncasecmp(md->proto.p, "RTP", 3) == 0 ||
                                     memmem(md->proto.p, md->proto.n, "/RTP/", 5) != NULL);
        for (unsigned f = 0; f < md->nfmt && m.npts < MEDIA_MATCH_PTS; f++) {
            m.pt[m.npts] = md->fmt[f].pt;
            m.rate[m.npts] = md->fmt[f].clock_rate;
            size_t n = md->fmt[f].encoding.p ? md->fmt[f].encoding.n : 0;
            if (n >= sizeof m.codec[0])
                n = sizeof m.codec[0] - 1;
            if (n) /* a static payload type without rtpmap has no name: NULL */
                memcpy(m.codec[m.npts], md->fmt[f].encoding.p, n);
            m.codec[m.npts][n] = '\0';
            m.npts++;
        }
        k.port = md->port;
        /* RTCP: a=rtcp, else the next port up, which the RTP entry tells (media_lookup)
         * without an entry of its own (half the endpoints a flood of offers put
         * in the table). With rtcp-mux on the RTP port as well, and the port apart stays
         * the call's: an offerer of rtcp-mux must take RTCP there until an answer accepts
         * it (RFC 5761 §5.1.1, §5.1.3), and an end that agreed to mux and did not is what
         * the issue engine reports (rtcp_not_muxed) */
        bool next = !md->rtcp_port && !md->rtcp_addr.p && md->port < UINT16_MAX;
        put(t, &k, &m, next, keys, evicted);
        if (next)
            continue;
        m.rtcp = true;
        k.port = md->rtcp_port ? md->rtcp_port : (uint16_t)(md->port + 1);
        if (md->rtcp_addr.p && !parse_addr(md->rtcp_addr, md->family, k.addr))
            continue;
        put(t, &k, &m, false, keys, evicted);
    }
}

bool media_lookup(const struct media_table *t, const struct ip_addr *a, uint16_t port,
                  struct media_match *out)
{
    struct media_key k;
    memset(&k, 0, sizeof k);
    k.family = a->family;
    k.port = port;
    memcpy(k.addr, a->b, 16);
    const struct media_ep *e = ctab_find(t->ht, hash_bytes(&k, sizeof k, t->seed), &k);
    bool rtcp_next = false;
    if (!e && port > 0) { /* the RTCP port of an RTP entry one port down */
        k.port = (uint16_t)(port - 1);
        e = ctab_find(t->ht, hash_bytes(&k, sizeof k, t->seed), &k);
        if (!e || !e->rtcp_next)
            return false;
        rtcp_next = true;
    }
    if (!e)
        return false;
    memset(out, 0, sizeof *out);
    out->call_seq = e->call_seq;
    if (e->shared)
        memcpy(out->shared, e->shared, sizeof out->shared);
    out->rtcp = e->rtcp || rtcp_next;
    out->rtp = e->rtp;
    out->npts = e->npts;
    memcpy(out->pt, e->pt, sizeof out->pt);
    for (unsigned i = 0; i < e->npts; i++)
        if (e->codec[i]) {
            memcpy(out->codec[i], t->names[e->codec[i] - 1], sizeof out->codec[i]);
            out->rate[i] = t->rates[e->codec[i] - 1];
        }
    return true;
}
