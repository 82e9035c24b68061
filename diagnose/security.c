/* The security watch: every SIP message (issues_sip) updates a source's and an account's
 * figures over a sliding window on packet time; what crosses a threshold is reported when
 * its episode ends (the source or account quiet for a window), is evicted, or the input
 * ends; a hijacked binding at once. State is security.h's fixed tables: nothing grows with
 * the traffic, and nothing is allocated per message. */
#include "security.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "builder.h"
#include "common/hash.h"
#include "common/membudget.h"
#include "decode/sip.h"

/* Tools that announce themselves: SIPVicious (svmap, svwar, svcrack: "friendly-scanner",
 * "sipvicious"), sipcli, VaxSIPUserAgent, pplsip, sundayddr, SIPScan, iWar, sip-scan,
 * smap. Matched case-insensitively anywhere in the User-Agent of a request. */
const char issue_scanner_agents_default[] = "# User-Agents of SIP scanners and password crackers\n"
                                            "friendly-scanner\n"
                                            "sipvicious\n"
                                            "sipcli\n"
                                            "vaxsipuseragent\n"
                                            "pplsip\n"
                                            "sundayddr\n"
                                            "sipscan\n"
                                            "sip-scan\n"
                                            "iwar\n"
                                            "smap\n"
                                            "sivus\n";

/* Destinations fraud calls go to: any international call as dialled from Europe and most
 * of the world (00) or from North America (011), and premium-rate ranges (UK 09, DE/AT/CH
 * 0900, NANP 1-900 and 1-976). Not "+": a network that writes every number in E.164 would
 * count its national calls too; it lists the foreign country codes it cares about
 * ("+882 satellite", "+53 international") with --toll-prefixes. */
const char issue_toll_prefixes_default[] =
    "# PREFIX LABEL: dialled numbers (Request-URI user) that start so\n"
    "00 international\n"
    "011 international\n"
    "0900 premium\n"
    "0906 premium\n"
    "0908 premium\n"
    "0909 premium\n"
    "1900 premium\n"
    "1976 premium\n";

/* ---- the lists ---- */

/* The next line of text, its comment and surrounding blanks removed. */
static bool next_line(const char **p, struct sv *line)
{
    if (!**p) return false;
    const char *s = *p, *e = strchr(s, '\n');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    *p = e ? e + 1 : s + n;
    const char *hash = memchr(s, '#', n);
    if (hash) n = (size_t)(hash - s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    while (n && isspace((unsigned char)*s))
        s++, n--;
    *line = sv_make(s, n);
    return true;
}

static bool parse_agents(struct sec_watch *w, const char *text, char *err, size_t errlen)
{
    struct sv l;
    unsigned lineno = 0;
    w->nagents = 0;
    while (next_line(&text, &l)) {
        lineno++;
        if (!l.n) continue;
        if (l.n >= sizeof w->agents[0] || w->nagents == SEC_MAX_AGENTS) {
            snprintf(err, errlen, "line %u: %s", lineno,
                     l.n >= sizeof w->agents[0] ? "longer than 31 characters"
                                                : "more than 64 agents");
            return false;
        }
        for (size_t i = 0; i < l.n; i++)
            w->agents[w->nagents][i] = (char)tolower((unsigned char)l.p[i]);
        w->agents[w->nagents++][l.n] = 0;
    }
    return true;
}

static bool parse_prefixes(struct sec_watch *w, const char *text, char *err, size_t errlen)
{
    struct sv l;
    unsigned lineno = 0;
    w->nprefixes = 0;
    while (next_line(&text, &l)) {
        lineno++;
        if (!l.n) continue;
        size_t d = 0;
        while (d < l.n && !isspace((unsigned char)l.p[d]))
            d++;
        size_t lab = d;
        while (lab < l.n && isspace((unsigned char)l.p[lab]))
            lab++;
        bool digits = d > 0 && d < sizeof w->prefixes[0].digits;
        for (size_t i = 0; digits && i < d; i++)
            digits = isdigit((unsigned char)l.p[i]) || (i == 0 && l.p[i] == '+');
        if (!digits || lab == l.n || l.n - lab >= sizeof w->prefixes[0].label ||
            w->nprefixes == SEC_MAX_PREFIXES) {
            snprintf(err, errlen,
                     "line %u: want PREFIX LABEL (digits, or + first; a label of "
                     "at most 15 characters; at most 128 lines)",
                     lineno);
            return false;
        }
        struct sec_prefix *p = &w->prefixes[w->nprefixes++];
        memcpy(p->digits, l.p, d);
        p->digits[d] = 0;
        memcpy(p->label, l.p + lab, l.n - lab);
        p->label[l.n - lab] = 0;
    }
    return true;
}

bool issues_security_lists(struct issue_engine *e, const char *agents, const char *prefixes,
                           char *err, size_t errlen)
{
    char why[160];
    if (agents && !parse_agents(e->sec, agents, why, sizeof why)) {
        snprintf(err, errlen, "scanner agents: %s", why);
        return false;
    }
    if (prefixes && !parse_prefixes(e->sec, prefixes, why, sizeof why)) {
        snprintf(err, errlen, "toll prefixes: %s", why);
        return false;
    }
    return true;
}

/* A table of zeros straight from the system: its pages cost memory only once a slot is
 * used. Not calloc: once the process has freed a large block, glibc serves the next ones
 * from the heap and clears them, and the whole table would be resident from the start. */
static void *table_new(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void table_free(void *p, size_t bytes)
{
    if (p) munmap(p, bytes);
}

struct sec_watch *sec_new(void)
{
    struct sec_watch *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    char err[8];
    parse_agents(w, issue_scanner_agents_default, err, sizeof err);
    parse_prefixes(w, issue_toll_prefixes_default, err, sizeof err);
    w->seed = 0x5ec0a7c4u;
    struct mem_budget b;
    mem_budget_init(&b, (uint64_t)MEM_DEFAULT_MB << 20);
    w->budget = (size_t)b.share[MEM_SECURITY];
    return w;
}

void sec_free(struct sec_watch *w)
{
    if (!w) return;
    table_free(w->src, w->nsrc * sizeof *w->src);
    table_free(w->acct, w->nacct * sizeof *w->acct);
    free(w);
}

void issues_security_memory(struct issue_engine *e, size_t bytes)
{
    if (!e->sec->src) e->sec->budget = bytes;
}

void issues_security_usage(const struct issue_engine *e, uint64_t *now, uint64_t *peak)
{
    const struct sec_watch *w = e->sec;
    *now = w->src_used * sizeof *w->src + w->acct_used * sizeof *w->acct;
    *peak = w->src_peak * sizeof *w->src + w->acct_peak * sizeof *w->acct;
}

uint64_t issues_security_evicted(const struct issue_engine *e)
{
    return e->sec->evicted;
}

/* The slots a share of bytes pays for: a power of two, at least two sets. */
static size_t slots_for(size_t bytes, size_t each)
{
    size_t n = 2 * SEC_WAYS;
    while (n * 2 * each <= bytes)
        n *= 2;
    return n;
}

/* Two thirds of the share to sources (a scan fills them), a third to accounts. */
static bool sec_alloc(struct sec_watch *w)
{
    w->nsrc = slots_for(w->budget / 3 * 2, sizeof *w->src);
    w->nacct = slots_for(w->budget / 3, sizeof *w->acct);
    w->src = table_new(w->nsrc * sizeof *w->src);
    w->acct = table_new(w->nacct * sizeof *w->acct);
    if (w->src && w->acct) return true;
    table_free(w->src, w->nsrc * sizeof *w->src); /* both or neither: the watch stays off */
    table_free(w->acct, w->nacct * sizeof *w->acct);
    w->src = NULL;
    w->acct = NULL;
    return false;
}

/* ---- figures ---- */

static void bits_add(struct sec_bits *b, uint64_t h)
{
    b->w[(h >> 6) & 7] |= (uint64_t)1 << (h & 63);
}

double sec_bits_count(const struct sec_bits *b)
{
    unsigned ones = 0;
    for (int i = 0; i < 8; i++)
        ones += (unsigned)__builtin_popcountll(b->w[i]);
    if (ones >= 512) ones = 511; /* saturated: past the bitmap's reach */
    return -512.0 * log((512.0 - ones) / 512.0);
}

/* A sample kept for the evidence: at most SEC_SAMPLES distinct, only characters that are
 * safe in any output (a User-Agent or a user part is attacker text). */
static void sample_add(char (*list)[SEC_SAMPLE_LEN], uint8_t *n, struct sv v)
{
    if (*n == SEC_SAMPLES || !v.n) return;
    char buf[SEC_SAMPLE_LEN];
    size_t k = 0;
    for (size_t i = 0; i < v.n && k < sizeof buf - 1; i++) {
        char c = v.p[i];
        buf[k++] = isalnum((unsigned char)c) || strchr("+*#._@-", c) ? c : '?';
    }
    buf[k] = 0;
    for (unsigned i = 0; i < *n; i++)
        if (!strcmp(list[i], buf)) return;
    memcpy(list[(*n)++], buf, k + 1);
}

#define SEC_METHODS(X)                                                                             \
    X("INVITE")                                                                                    \
    X("ACK") X("BYE") X("CANCEL") X("REGISTER") X("OPTIONS") X("INFO") X("PRACK") X("SUBSCRIBE")   \
        X("NOTIFY") X("UPDATE") X("MESSAGE") X("REFER") X("PUBLISH")
static const char *const sec_method_names[] = {
#define SEC_M(n) n,
    SEC_METHODS(SEC_M)
#undef SEC_M
        "other"};

const char *sec_method_name(unsigned bit)
{
    return bit < sizeof sec_method_names / sizeof sec_method_names[0] ? sec_method_names[bit] : "?";
}

static unsigned method_bit(struct sv m)
{
    unsigned i = 0;
    for (; i + 1 < sizeof sec_method_names / sizeof sec_method_names[0]; i++)
        if (sv_eq_cstr(m, sec_method_names[i])) return i;
    return i;
}

/* ---- the tables ---- */

/* A source's key: its /24 (IPv4) or /64 (IPv6). */
static void src_key(const struct ip_addr *a, uint8_t key[17])
{
    memset(key, 0, 17);
    key[0] = a->family;
    memcpy(key + 1, a->b, a->family == 6 ? 8 : 3);
}

static void src_release(struct issue_engine *e, struct sec_source *s)
{
    if (s->scan || s->brute) sec_report_source(e, s);
    memset(s, 0, sizeof *s);
    e->sec->src_used--;
}

static ptime_t secs(double s)
{
    return (ptime_t)(s * (double)PTIME_SEC);
}

/* What keeping a source is worth when its set is full: its out-of-dialog requests in the
 * window (nothing once it has been quiet for a window). A passer-by with one request goes
 * before a source in the middle of a sweep, so that noise from many addresses cannot wash a
 * real scan out of the table; among equals the least recently seen goes. */
static uint32_t src_worth(const struct sec_source *s, ptime_t now, ptime_t win)
{
    return now - s->last >= win ? 0 : s->half[0].ood + s->half[1].ood;
}

static bool src_keeps_less(const struct sec_source *a, const struct sec_source *b, ptime_t now,
                           ptime_t win)
{
    uint32_t wa = src_worth(a, now, win), wb = src_worth(b, now, win);
    return wa < wb || (wa == wb && a->last < b->last);
}

/* The source of a (create: a new entry when it has none, taking the least recently seen
 * slot of its set when the set is full); NULL when it has none and create is false. */
static struct sec_source *src_get(struct issue_engine *e, const struct ip_addr *a, ptime_t now,
                                  bool create)
{
    struct sec_watch *w = e->sec;
    uint8_t key[17];
    src_key(a, key);
    size_t set = hash_bytes(key, sizeof key, w->seed) & (w->nsrc - 1) & ~(size_t)(SEC_WAYS - 1);
    struct sec_source *victim = NULL;
    ptime_t win = secs(e->cfg.sec_window_s);
    for (size_t i = 0; i < SEC_WAYS; i++) {
        struct sec_source *s = &w->src[set + i];
        if (!memcmp(s->key, key, sizeof key)) return s;
        if (!victim || (victim->key[0] && (!s->key[0] || src_keeps_less(s, victim, now, win))))
            victim = s;
    }
    if (!create) return NULL;
    if (victim->key[0]) {
        w->evicted++;
        src_release(e, victim);
    }
    memcpy(victim->key, key, sizeof key);
    victim->first = victim->half_start = now;
    if (++w->src_used > w->src_peak) w->src_peak = w->src_used;
    return victim;
}

static void acct_release(struct issue_engine *e, struct sec_account *a)
{
    if (a->fraud) sec_report_fraud(e, a);
    if (a->guess) sec_report_guess(e, a);
    memset(a, 0, sizeof *a);
    e->sec->acct_used--;
}

static struct sec_account *acct_get(struct issue_engine *e, struct sv user, struct sv host,
                                    ptime_t now, bool create)
{
    struct sec_watch *w = e->sec;
    char name[sizeof w->acct->name];
    snprintf(name, sizeof name, "sip:%.*s@%.*s", (int)(user.n < 36 ? user.n : 36), user.p,
             (int)(host.n < 22 ? host.n : 22), host.p);
    for (char *c = name + 4; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("+*#._@-", *c)) *c = '?';
    uint64_t h = hash_bytes(name, strlen(name), w->seed) | 1;
    size_t set = h & (w->nacct - 1) & ~(size_t)(SEC_WAYS - 1);
    struct sec_account *victim = NULL;
    for (size_t i = 0; i < SEC_WAYS; i++) {
        struct sec_account *a = &w->acct[set + i];
        if (a->hash == h && !strcmp(a->name, name)) return a;
        if (!victim || (victim->hash && (!a->hash || a->last < victim->last))) victim = a;
    }
    if (!create) return NULL;
    if (victim->hash) {
        w->evicted++;
        acct_release(e, victim);
    }
    victim->hash = h;
    memcpy(victim->name, name, sizeof name);
    victim->half_start = now;
    if (++w->acct_used > w->acct_peak) w->acct_peak = w->acct_used;
    return victim;
}

/* The window's halves move on: the current one becomes the one before once it is half a
 * window old; after a whole window of silence both are empty. */
static void src_rotate(struct sec_source *s, ptime_t now, ptime_t half)
{
    if (now - s->half_start < half) return;
    if (now - s->half_start >= 2 * half)
        memset(&s->half[1], 0, sizeof s->half[1]);
    else
        s->half[1] = s->half[0];
    memset(&s->half[0], 0, sizeof s->half[0]);
    s->half_start = now;
}

static void acct_rotate(struct sec_account *a, ptime_t now, ptime_t half)
{
    if (now - a->half_start < half) return;
    a->toll_half[1] = now - a->half_start >= 2 * half ? 0 : a->toll_half[0];
    a->toll_half[0] = 0;
    a->half_start = now;
}


/* ---- what one message does ---- */

/* Says at once what was just found (issues_on_found); its issue follows when the episode
 * ends, with the time given here. */
static void found_source(struct issue_engine *e, const struct sec_source *s, enum issue_kind k,
                         ptime_t now)
{
    char addr[64];
    if (!e->found) return;
    struct issue_finding f = {
        .kind = k, .found = now, .issue_time = s->first, .who = issue_ip(&s->addr, addr, 64)};
    e->found(e->user, &f);
}

static void found_account(struct issue_engine *e, const struct sec_account *a, enum issue_kind k,
                          ptime_t now, ptime_t issue_time)
{
    if (!e->found) return;
    struct issue_finding f = {
        .kind = k, .found = now, .issue_time = issue_time, .who = a->name, .account = true};
    e->found(e->user, &f);
}

static uint64_t txn_hash(const struct sip_msg *m, uint64_t seed)
{
    const struct sip_header *cid = sip_hdr(m, SIP_H_CALL_ID), *cs = sip_hdr(m, SIP_H_CSEQ);
    uint32_t num = 0;
    struct sv meth;
    if (cs) sip_cseq_parse(cs->value, &num, &meth);
    return hash_bytes(cid ? cid->value.p : "", cid ? cid->value.n : 0, seed ^ num) | 1;
}

static uint64_t callid_hash(const struct sip_msg *m, uint64_t seed)
{
    const struct sip_header *cid = sip_hdr(m, SIP_H_CALL_ID);
    return cid ? hash_bytes(cid->value.p, cid->value.n, seed) | 1 : 1;
}

/* A header's URI: From, To (the user and host of its address). */
static bool hdr_uri(const struct sip_msg *m, enum sip_hdr_id id, struct sip_uri *u,
                    struct sv *params)
{
    const struct sip_header *h = sip_hdr(m, id);
    struct sip_nameaddr na;
    if (!h || !sip_nameaddr_parse(h->value, &na) || !sip_uri_parse(na.uri, u)) return false;
    if (params) *params = na.params;
    return true;
}

static bool to_tagged(const struct sip_msg *m)
{
    struct sip_uri u;
    struct sv params;
    bool found = false;
    if (hdr_uri(m, SIP_H_TO, &u, &params)) sip_param(params, "tag", &found);
    return found;
}

/* A dialled number's listed prefix (the longest), or NULL. */
static const struct sec_prefix *toll_prefix(const struct sec_watch *w, struct sv user)
{
    const struct sec_prefix *best = NULL;
    size_t bestn = 0;
    for (size_t i = 0; i < w->nprefixes; i++) {
        size_t n = strlen(w->prefixes[i].digits);
        if (n > bestn && n <= user.n && !memcmp(user.p, w->prefixes[i].digits, n))
            best = &w->prefixes[i], bestn = n;
    }
    return best;
}

static void toll_call(struct issue_engine *e, const struct sip_msg *m, const struct sip_event *ev,
                      struct sv dialled)
{
    struct sec_watch *w = e->sec;
    const struct sec_prefix *p = toll_prefix(w, dialled);
    struct sip_uri from;
    if (!p || !hdr_uri(m, SIP_H_FROM, &from, NULL)) return;
    ptime_t now = ev->l4->pkt->ts;
    struct sec_account *a = acct_get(e, from.user, from.host, now, true);
    a->last = now;
    uint64_t id = callid_hash(m, w->seed);
    for (unsigned i = 0; i < 8; i++) /* every slot: ntoll_ids wraps; ids are never 0 */
        if (a->toll_ids[i] == id) return; /* the same call again, after a challenge */
    a->toll_ids[a->ntoll_ids++ % 8] = id;
    acct_rotate(a, now, secs(e->cfg.toll_window_s / 2));
    a->toll_half[0]++;
    if (!a->toll++) {
        a->toll_first = now;
        a->toll_frame = ev->l4->pkt->frame;
        a->toll_src = ev->l4->src;
        snprintf(a->dest_kind, sizeof a->dest_kind, "%s", p->label);
    }
    sample_add(a->dest, &a->ndests, dialled);
    if (!a->fraud && sec_fraud_verdict(&e->cfg, a, now)) {
        a->fraud = true;
        found_account(e, a, ISSUE_TOLL_FRAUD_PATTERN, now, a->toll_first);
    }
}

/* The User-Agent of a source's first request that had one, and whether it is a tool's. */
static void source_agent(const struct sec_watch *w, struct sec_source *s, const struct sip_msg *m)
{
    const struct sip_header *ua = sip_hdr(m, SIP_H_USER_AGENT);
    if (!ua || s->ua[0]) return;
    size_t n = ua->value.n < sizeof s->ua - 1 ? ua->value.n : sizeof s->ua - 1;
    for (size_t i = 0; i < n; i++) /* printable ASCII only: it is written into every output */
        s->ua[i] = ua->value.p[i] >= 0x20 && ua->value.p[i] < 0x7f ? ua->value.p[i] : '?';
    char low[256];
    size_t k = ua->value.n < sizeof low - 1 ? ua->value.n : sizeof low - 1;
    for (size_t i = 0; i < k; i++)
        low[i] = (char)tolower((unsigned char)ua->value.p[i]);
    low[k] = 0;
    for (size_t i = 0; i < w->nagents && !s->known_scanner; i++)
        s->known_scanner = strstr(low, w->agents[i]) != NULL;
}

/* The credentials a request carries: their username, or none. */
static bool credentials(const struct sip_msg *m, struct sv *user)
{
    const struct sip_header *h = sip_hdr(m, SIP_H_AUTHORIZATION);
    if (!h) h = sip_hdr(m, SIP_H_PROXY_AUTHORIZATION);
    if (!h) return false;
    bool found;
    *user = sip_auth_param(h->value, "username", &found);
    if (!found) *user = SV_NULL;
    return true;
}

/* Digest credentials refused for an account: counted with the network they came from (the
 * answer's destination), so that guessing spread over many networks is seen although each
 * stays under auth_fail. The account is the answer's From, copied from the request (RFC
 * 3261 §8.2.6.2): a REGISTER's own, an INVITE's caller. */
static void acct_refused(struct issue_engine *e, const struct sip_event *ev, ptime_t now)
{
    struct sip_uri from;
    if (!hdr_uri(ev->msg, SIP_H_FROM, &from, NULL)) return;
    struct sec_account *a = acct_get(e, from.user, from.host, now, true);
    ptime_t half = secs(e->cfg.sec_window_s / 2);
    if (now - a->guess_half_start >= half) {
        if (now - a->guess_half_start >= 2 * half)
            memset(&a->guess_half[1], 0, sizeof a->guess_half[1]);
        else
            a->guess_half[1] = a->guess_half[0];
        memset(&a->guess_half[0], 0, sizeof a->guess_half[0]);
        a->guess_half_start = now;
    }
    uint8_t key[17];
    src_key(&ev->l4->dst, key);
    uint64_t h = hash_bytes(key, sizeof key, e->sec->seed);
    a->last = a->guess_last = now;
    a->guess_half[0].failed++;
    bits_add(&a->guess_half[0].nets, h);
    bits_add(&a->guess_nets, h);
    if (!a->guess_failed++) {
        a->guess_first = now;
        a->guess_frame = ev->l4->pkt->frame;
    }
    struct ip_addr net = {.family = ev->l4->dst.family};
    memcpy(net.b, ev->l4->dst.b, net.family == 6 ? 8 : 3);
    char nb[64], text[SEC_SAMPLE_LEN]; /* our own text: no attacker bytes to filter */
    snprintf(text, sizeof text, "%s/%d", issue_ip(&net, nb, sizeof nb), net.family == 6 ? 64 : 24);
    bool seen = false;
    for (unsigned i = 0; i < a->nguess_nets && !seen; i++)
        seen = !strcmp(a->guess_net[i], text);
    if (!seen && a->nguess_nets < SEC_SAMPLES)
        memcpy(a->guess_net[a->nguess_nets++], text, sizeof text);
    if (!a->guess && sec_spread_verdict(&e->cfg, a)) {
        a->guess = true;
        found_account(e, a, ISSUE_AUTH_BRUTE_FORCE, now, a->guess_first);
    }
}

/* A BYE ends an answered call of either party's account. */
static void sec_bye(struct issue_engine *e, const struct sip_msg *m, ptime_t now)
{
    uint64_t id = callid_hash(m, e->sec->seed);
    for (int side = 0; side < 2; side++) {
        struct sip_uri u;
        struct sec_account *a;
        if (!hdr_uri(m, side ? SIP_H_TO : SIP_H_FROM, &u, NULL) ||
            !(a = acct_get(e, u.user, u.host, now, false)))
            continue;
        for (unsigned i = 0; i < a->nactive; i++)
            if (a->active[i].callid == (uint32_t)id) {
                a->active[i] = a->active[--a->nactive];
                break;
            }
    }
}

static void on_request(struct issue_engine *e, const struct sip_event *ev)
{
    struct sec_watch *w = e->sec;
    const struct sip_msg *m = ev->msg;
    ptime_t now = ev->l4->pkt->ts;
    unsigned bit = method_bit(m->method);
    if (to_tagged(m) || sv_eq_cstr(m->method, "ACK") || sv_eq_cstr(m->method, "CANCEL")) {
        if (sv_eq_cstr(m->method, "BYE")) sec_bye(e, m, now);
        return; /* inside a dialog: what a scanner or a guesser sends is not */
    }
    struct sec_source *s = src_get(e, &ev->l4->src, now, true);
    src_rotate(s, now, secs(e->cfg.sec_window_s / 2));
    if (!s->first_frame) s->first_frame = ev->l4->pkt->frame;
    s->last = now;
    s->last_frame = ev->l4->pkt->frame;
    s->addr = ev->l4->src;
    s->port = ev->l4->sport;
    bits_add(&s->addrs, hash_bytes(ev->l4->src.b, 16, w->seed));
    source_agent(w, s, m);
    s->ood++;
    s->half[0].ood++;
    s->methods |= 1u << bit;
    s->half[0].methods |= 1u << bit;
    struct sip_uri ru, to;
    bool have_ru = sip_uri_parse(m->uri, &ru) && ru.user.n;
    struct sv target = have_ru ? ru.user : hdr_uri(m, SIP_H_TO, &to, NULL) ? to.user : SV_NULL;
    if (target.n) {
        uint64_t th = hash_bytes(target.p, target.n, w->seed);
        bits_add(&s->targets, th);
        bits_add(&s->half[0].targets, th);
        sample_add(s->target, &s->ntargets, target);
    }
    struct sv user;
    if (credentials(m, &user)) {
        s->auth_tries++;
        if (!user.n) user = target;
        if (user.n) {
            bits_add(&s->accounts, hash_bytes(user.p, user.n, w->seed));
            sample_add(s->account, &s->naccounts, user);
        }
        s->pending[s->npending++ % SEC_PENDING] = txn_hash(m, w->seed);
    }
    if (!s->scan && (s->scan = sec_scan_verdict(&e->cfg, s)))
        found_source(e, s, ISSUE_SIP_SCAN, now);
    if (bit == 0 && have_ru) toll_call(e, m, ev, ru.user);
}

/* The account's minutes up to now_s: a minute two behind is learnt, its n answers as n
 * steps of the EWMA towards their mean (security.h). Time that goes back more than a day (a
 * bogus stamp went forward before) starts the minutes again rather than stopping them. */
static void conc_roll(struct sec_account *a, uint32_t now_s)
{
    uint32_t b = now_s / SEC_CONC_BUCKET_S;
    if (b + 1440 < a->conc_bucket) a->conc_bucket = b;
    if (b <= a->conc_bucket) return;
    uint32_t steps = b - a->conc_bucket;
    for (uint32_t k = 0; k < steps && k < 2; k++) { /* two steps learn both minutes */
        if (a->conc_n[1]) {
            float mean = (float)a->conc_sum[1] / a->conc_n[1];
            float keep = powf(1.0f - 1.0f / SEC_CONC_WEIGHT, a->conc_n[1]);
            a->conc_usual = mean + (a->conc_usual - mean) * keep;
        }
        a->conc_sum[1] = a->conc_sum[0], a->conc_n[1] = a->conc_n[0];
        a->conc_sum[0] = 0, a->conc_n[0] = 0;
    }
    a->conc_bucket = b;
}

/* An answered call of an account: how many it has at once. Calls never seen to end (the
 * BYE missed) are dropped after ISSUE_SEC_CALL_MAX. */
static void sec_answered(struct issue_engine *e, const struct sip_msg *m, ptime_t now)
{
    struct sip_uri from;
    if (!hdr_uri(m, SIP_H_FROM, &from, NULL)) return;
    struct sec_account *a = acct_get(e, from.user, from.host, now, true);
    uint64_t id = callid_hash(m, e->sec->seed);
    a->last = now;
    uint32_t now_s = (uint32_t)(now / PTIME_SEC);
    for (unsigned i = 0; i < a->nactive;) {
        if (a->active[i].callid == (uint32_t)id) return; /* a re-INVITE's answer, the same 200 */
        if ((int64_t)now_s - a->active[i].since > ISSUE_SEC_CALL_MAX / PTIME_SEC)
            a->active[i] = a->active[--a->nactive];
        else
            i++;
    }
    if (a->nactive < SEC_CALLS) a->active[a->nactive++] = (struct sec_call){(uint32_t)id, now_s};
    conc_roll(a, now_s);
    /* the evidence's peak: of the episode under way, else the calls held now */
    if (!a->fraud || a->nactive > a->peak) a->peak = a->nactive;
    bool burst = !a->fraud && sec_fraud_verdict(&e->cfg, a, now);
    if (burst) a->conc_limit = (float)sec_conc_limit(&e->cfg, a, now), a->conc_was = a->conc_usual;
    /* learnt two minutes late (conc_roll); the first answer sets where it starts */
    if (!a->conc_calls++) a->conc_since = now, a->conc_usual = a->nactive;
    if (a->conc_n[0] < UINT16_MAX) a->conc_sum[0] += a->nactive, a->conc_n[0]++;
    if (burst) {
        a->fraud = a->fraud_concurrent = true;
        if (!a->toll_first) a->toll_first = now;
        found_account(e, a, ISSUE_TOLL_FRAUD_PATTERN, now, a->toll_first);
    }
}

/* The expiry a registrar granted (RFC 3261 §10.3 step 8: Expires, or each Contact's
 * expires), and how many bindings its answer lists. */
static uint64_t granted(const struct sip_msg *m, unsigned *ncontacts)
{
    uint64_t exp = 3600, v;
    bool have = false;
    const struct sip_header *h = sip_hdr(m, SIP_H_EXPIRES);
    if (h && sip_uint_parse(h->value, UINT32_MAX, &v)) exp = v, have = true;
    *ncontacts = 0;
    for (h = sip_hdr(m, SIP_H_CONTACT); h; h = sip_hdr_next(m, h)) {
        struct sv rest = h->value, item;
        while (sip_list_next(&rest, &item)) {
            struct sip_nameaddr na;
            bool found;
            if (!sip_nameaddr_parse(item, &na)) continue;
            struct sv e = sip_param(na.params, "expires", &found);
            if (++*ncontacts == 1 && found && !have && sip_uint_parse(e, UINT32_MAX, &v)) exp = v;
        }
    }
    return exp;
}

/* A registrar's 2xx to a REGISTER reaching the device at to/port. The binding moves when
 * another address takes it while the one before still held it and the answer lists one
 * binding only (a registrar keeping several lists them all: two phones of one account). */
static void sec_binding(struct issue_engine *e, const struct sip_event *ev)
{
    const struct sip_msg *m = ev->msg;
    struct sip_uri to;
    unsigned ncontacts;
    ptime_t now = ev->l4->pkt->ts;
    if (!hdr_uri(m, SIP_H_TO, &to, NULL)) return;
    uint64_t exp = granted(m, &ncontacts);
    struct sec_account *a = acct_get(e, to.user, to.host, now, true);
    const struct ip_addr *dev = &ev->l4->dst;
    bool same = ip_addr_eq(dev, &a->bind);
    a->last = now;
    if (exp == 0 || !ncontacts) {
        if (same) a->bind_until = 0; /* unregistered, or a query of the bindings */
        return;
    }
    struct sec_source *by = src_get(e, dev, now, false);
    if (!same && a->bind_until > now && ncontacts == 1) {
        a->prev = a->bind;
        a->prev_port = a->bind_port;
        a->prev_until = a->bind_until;
        memcpy(a->prev_ua, a->bind_ua, sizeof a->prev_ua);
        if (!a->moves) a->moved_first = now;
        a->move_frames[a->moves++ % 4] = ev->l4->pkt->frame;
    }
    a->bind = *dev;
    a->bind_port = ev->l4->dport;
    a->bind_until = now + (ptime_t)exp * PTIME_SEC;
    if (by && by->ua[0]) memcpy(a->bind_ua, by->ua, sizeof a->bind_ua);
    bool guessed = by && (by->brute || by->known_scanner);
    if (guessed && !a->moves) a->move_frames[0] = ev->l4->pkt->frame; /* the answer that took it */
    if (!same && !a->hijack && ((a->moves && a->moves >= e->cfg.hijack_moves) || guessed)) {
        a->hijack = true;
        found_account(e, a, ISSUE_REGISTRATION_HIJACK, now, a->moved_first ? a->moved_first : now);
        sec_report_hijack(e, a, guessed ? by : NULL);
    }
}

static enum sec_answer answer_class(int st)
{
    return st < 300                 ? SEC_ANS_OK
           : st == 401 || st == 407 ? SEC_ANS_CHALLENGE
           : st == 403              ? SEC_ANS_FORBIDDEN
           : st == 404 || st == 484 ? SEC_ANS_NOT_FOUND
                                    : SEC_ANS_OTHER;
}

static void on_response(struct issue_engine *e, const struct sip_event *ev)
{
    struct sec_watch *w = e->sec;
    const struct sip_msg *m = ev->msg;
    const struct sip_header *cs = sip_hdr(m, SIP_H_CSEQ);
    uint32_t num;
    struct sv meth;
    ptime_t now = ev->l4->pkt->ts;
    if (m->status < 200 || !cs || !sip_cseq_parse(cs->value, &num, &meth)) return;
    if (m->status < 300 && sv_eq_cstr(meth, "REGISTER")) sec_binding(e, ev);
    if (m->status < 300 && sv_eq_cstr(meth, "INVITE")) sec_answered(e, m, now);
    struct sec_source *s = src_get(e, &ev->l4->dst, now, false);
    if (!s || sv_eq_cstr(meth, "BYE") || sv_eq_cstr(meth, "CANCEL")) return;
    src_rotate(s, now, secs(e->cfg.sec_window_s / 2));
    enum sec_answer k = answer_class(m->status);
    s->ans[k]++;
    s->half[0].ok += k == SEC_ANS_OK;
    uint64_t h = txn_hash(m, w->seed);
    for (unsigned i = 0; i < SEC_PENDING; i++) { /* every slot: npending wraps */
        if (s->pending[i] != h) continue;
        s->pending[i] = 0;
        if (k == SEC_ANS_OK) {
            s->auth_ok++;
        } else if (k == SEC_ANS_CHALLENGE || k == SEC_ANS_FORBIDDEN) {
            s->auth_failed++;
            s->half[0].auth_failed++;
            if (!s->brute_frame) s->brute_frame = ev->l4->pkt->frame;
            acct_refused(e, ev, now);
        }
        break;
    }
    if (!s->brute && (s->brute = sec_brute_verdict(&e->cfg, s)))
        found_source(e, s, ISSUE_AUTH_BRUTE_FORCE, now);
    if (!s->scan && (s->scan = sec_scan_verdict(&e->cfg, s)))
        found_source(e, s, ISSUE_SIP_SCAN, now);
}

void issues_sip(struct issue_engine *e, const struct sip_event *ev, const struct msg_verdict *v)
{
    if (v->retransmission || !ev->msg || (!e->sec->src && !sec_alloc(e->sec))) return;
    if (ev->msg->is_request)
        on_request(e, ev);
    else
        on_response(e, ev);
}

/* Packet time moved on: what went quiet for a window is reported and its slot freed. */
void sec_tick(struct issue_engine *e, ptime_t now)
{
    struct sec_watch *w = e->sec;
    ptime_t win = secs(e->cfg.sec_window_s), twin = secs(e->cfg.toll_window_s);
    for (size_t i = 0; i < w->nsrc; i++)
        if (w->src[i].key[0] && now - w->src[i].last >= win) src_release(e, &w->src[i]);
    for (size_t i = 0; i < w->nacct; i++) {
        struct sec_account *a = &w->acct[i];
        if (a->hash && a->guess_failed && now - a->guess_last >= win) { /* guessing over */
            if (a->guess) sec_report_guess(e, a);
            a->guess = false;
            a->guess_failed = 0, a->nguess_nets = 0;
            memset(&a->guess_nets, 0, sizeof a->guess_nets);
        }
        if (!a->hash || now - a->last < twin) continue;
        if (a->fraud) { /* the burst is over: said once, and the account followed on */
            sec_report_fraud(e, a);
            a->fraud = a->fraud_concurrent = false;
            a->toll = 0, a->ndests = 0, a->toll_first = 0, a->peak = a->nactive;
        }
        bool habit = a->conc_calls >= e->cfg.conc_learn_calls;
        if (a->bind_until < now && !a->nactive &&
            (!habit || now - a->last >= SEC_HABIT_KEEP_S * PTIME_SEC))
            acct_release(e, a);
    }
}

/* The input ended: everything found is reported. */
void sec_finish(struct issue_engine *e)
{
    struct sec_watch *w = e->sec;
    for (size_t i = 0; w->src && i < w->nsrc; i++)
        if (w->src[i].key[0]) src_release(e, &w->src[i]);
    for (size_t i = 0; w->acct && i < w->nacct; i++)
        if (w->acct[i].hash) acct_release(e, &w->acct[i]);
}
