/* SRTP/SRTCP from SDES keys: the a=crypto parser (RFC 4568 §9.1) and the table of master keys
 * by the endpoint they protect, each with one libsrtp2 session made on its first packet.
 * libsrtp2 does every cipher and the key derivation; nothing here is cryptography. Key bytes
 * are zeroed wherever a copy dies. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "common/cursor.h"
#include "common/hash.h"
#include "common/log.h"
#include "srtp.h"

#define SRTP_SSRC_MAX 8 /* senders to one endpoint: a call's, a forked one's, a re-INVITE's */

static const struct {
    const char *name;
    uint8_t key, salt;
} suites[SDES__COUNT] = {
#define SDES_SUITE_ROW(id, nm, k, s) [SDES_##id] = {nm, k, s},
    SDES_SUITES(SDES_SUITE_ROW)
#undef SDES_SUITE_ROW
};

const char *sdes_suite_name(enum sdes_suite s)
{
    return s < SDES__COUNT ? suites[s].name : "?";
}

const char *sdes_status_name(enum sdes_status s)
{
    static const char *const names[] = {
#define SDES_STATUS_NAME(id, name) name,
        SDES_STATUSES(SDES_STATUS_NAME)
#undef SDES_STATUS_NAME
    };
    return s < SDES_ST__COUNT ? names[s] : "?";
}

const char *srtp_result_name(enum srtp_result r)
{
    static const char *const names[] = {
#define SRTP_RESULT_NAME(id, name) name,
        SRTP_RESULTS(SRTP_RESULT_NAME)
#undef SRTP_RESULT_NAME
    };
    return r < SRTP__COUNT ? names[r] : "?";
}

/* A volatile pointer keeps the compiler from dropping the stores to memory about to die. */
static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

void sdes_key_wipe(struct sdes_key *k)
{
    wipe(k, sizeof *k);
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* RFC 4648 §4 base64 (RFC 4568 §6.1: key||salt is base64 encoded), "=" padding optional.
 * Returns the bytes written, or -1 for a bad character or more than max bytes. */
static int b64_decode(const char *p, size_t n, uint8_t *out, size_t max)
{
    while (n && p[n - 1] == '=')
        n--;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(p[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (w == max) return -1;
            out[w++] = (uint8_t)(acc >> bits);
        }
    }
    wipe(&acc, sizeof acc);
    return bits >= 6 ? -1 : (int)w; /* a lone trailing character carries no whole byte */
}

static size_t skip_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i;
}

static size_t token_end(const char *p, size_t n, size_t i)
{
    while (i < n && p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
        i++;
    return i;
}

/* RFC 4568 §9.1: session params after the key params. WSH (the replay window hint) changes
 * nothing we decrypt; KDR, UNENCRYPTED_SRTP/SRTCP, UNAUTHENTICATED_SRTP and FEC_* change the
 * policy libsrtp2 would need, so such a line is refused rather than misread. */
static bool session_params_ok(const char *p, size_t n, size_t i)
{
    for (i = skip_ws(p, n, i); i < n && p[i] != '\r' && p[i] != '\n'; i = skip_ws(p, n, i)) {
        size_t e = token_end(p, n, i);
        if (e - i < 4 || memcmp(p + i, "WSH=", 4)) return false;
        i = e;
    }
    return true;
}

/* inline:<key||salt>[|lifetime][|MKI:length] (RFC 4568 §6.1 and §9.1): the lifetime is
 * ignored (we decrypt what was sent, however long), an MKI is refused. */
static enum sdes_status key_param(const char *p, size_t n, struct sdes_key *out)
{
    if (n < 7 || memcmp(p, "inline:", 7)) return SDES_ST_KEY_METHOD;
    p += 7, n -= 7;
    size_t k = 0;
    while (k < n && p[k] != '|' && p[k] != ';')
        k++;
    for (size_t i = k; i < n && p[i] != ';'; i++)
        if (p[i] == ':') return SDES_ST_MKI;
    int got = b64_decode(p, k, out->master, sizeof out->master);
    if (got < 0) return SDES_ST_BASE64;
    if ((size_t)got != (size_t)suites[out->suite].key + suites[out->suite].salt)
        return SDES_ST_KEY_LENGTH;
    out->len = (uint8_t)got;
    return SDES_ST_OK;
}

static enum sdes_status sdes_parse_inner(const char *p, size_t n, struct sdes_key *out)
{
    size_t i = 0;
    uint64_t tag = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9' && tag <= 999999999) /* RFC 4568: 1*9DIGIT */
        tag = tag * 10 + (uint64_t)(p[i++] - '0');
    if (i == 0 || i > 9 || i == n || (p[i] != ' ' && p[i] != '\t')) return SDES_ST_BAD;
    out->tag = (uint32_t)tag;
    i = skip_ws(p, n, i);
    size_t e = token_end(p, n, i);
    if (e == i) return SDES_ST_BAD;
    enum sdes_suite s = SDES__COUNT;
    for (int j = 0; j < SDES__COUNT; j++)
        if (strlen(suites[j].name) == e - i && !memcmp(p + i, suites[j].name, e - i))
            s = (enum sdes_suite)j;
    if (s == SDES__COUNT) return SDES_ST_SUITE;
    out->suite = s;
    i = skip_ws(p, n, e);
    e = token_end(p, n, i);
    if (e == i) return SDES_ST_BAD;
    enum sdes_status st = key_param(p + i, e - i, out);
    if (st != SDES_ST_OK) return st;
    return session_params_ok(p, n, e) ? SDES_ST_OK : SDES_ST_SESSION_PARAM;
}

enum sdes_status sdes_parse(const char *p, size_t n, struct sdes_key *out)
{
    memset(out, 0, sizeof *out);
    enum sdes_status st = sdes_parse_inner(p, n, out);
    if (st != SDES_ST_OK) sdes_key_wipe(out); /* a refused line leaves no half-decoded key behind */
    return st;
}

/* ---- the table ---- */

struct ep_key { /* hashed as bytes: zero padding */
    uint8_t family, pad;
    uint16_t port;
    uint8_t addr[16];
};

struct entry {
    struct ep_key ep;
    struct sdes_key key; /* owned key material: wiped when the entry dies */
    srtp_t session;      /* made on the endpoint's first packet; NULL before */
    /* SSRCs the session has authenticated: libsrtp2 keeps a stream for each, so they are
     * bounded here (a stream is made only for a packet that authenticates, so only a key
     * holder can add one) */
    uint32_t ssrc[SRTP_SSRC_MAX];
    uint8_t n_ssrc;
    bool used;
};

struct srtp_table {
    struct htab *ht;     /* ep_key -> entry */
    struct entry *slots; /* owned: max entries, the oldest overwritten when all are used */
    size_t max, next;
    uint64_t seed;
    struct srtp_stats st;
    uint8_t scratch[SRTP_PACKET_MAX]; /* the packet being unprotected (in place, by libsrtp2) */
};

static bool ep_eq(const void *item, const void *key)
{
    return !memcmp(&((const struct entry *)item)->ep, key, sizeof(struct ep_key));
}

static void ep_make(struct ep_key *k, const struct ip_addr *a, uint16_t port)
{
    memset(k, 0, sizeof *k);
    k->family = a->family;
    k->port = port;
    memcpy(k->addr, a->b, 16);
}

/* libsrtp2's crypto kernel is process-wide and srtp_init() must run once: a second call
 * re-runs its self tests and fails. It runs with the first session, not at start-up: its
 * self tests are 69 M instructions (25 ms), which every run paid though most captures
 * carry no SDES key. */
static pthread_once_t kernel_once = PTHREAD_ONCE_INIT;
static bool kernel_ok;
static void kernel_init(void)
{
    kernel_ok = srtp_init() == srtp_err_status_ok;
    if (!kernel_ok)
        log_error("SRTP: libsrtp2's crypto kernel would not start; no SRTP is decrypted");
}

bool srtp_kernel(void)
{
    pthread_once(&kernel_once, kernel_init);
    return kernel_ok;
}

struct srtp_table *srtp_table_new(size_t max, uint64_t seed)
{
    if (!max) return NULL;
    struct srtp_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->slots = calloc(max, sizeof *t->slots);
    t->ht = htab_new(max, ep_eq);
    if (!t->slots || !t->ht) {
        srtp_table_free(t);
        return NULL;
    }
    t->max = max;
    t->seed = seed;
    return t;
}

static void entry_clear(struct entry *e)
{
    if (e->session)
        srtp_dealloc(e->session); /* libsrtp2 zeroes its derived keys as it frees them */
    wipe(e, sizeof *e);
}

void srtp_table_free(struct srtp_table *t)
{
    if (!t) return;
    for (size_t i = 0; t->slots && i < t->max; i++)
        entry_clear(&t->slots[i]);
    free(t->slots);
    htab_free(t->ht);
    wipe(t->scratch, sizeof t->scratch);
    free(t);
}

static struct entry *find(const struct srtp_table *t, const struct ip_addr *a, uint16_t port)
{
    struct ep_key k;
    ep_make(&k, a, port);
    return htab_find(t->ht, hash_bytes(&k, sizeof k, t->seed), &k);
}

bool srtp_table_has(const struct srtp_table *t, const struct ip_addr *addr, uint16_t port)
{
    const struct entry *e = find(t, addr, port);
    return e && e->key.len;
}

static bool put(struct srtp_table *t, const struct ip_addr *addr, uint16_t port,
                const struct sdes_key *k)
{
    struct entry *e = find(t, addr, port);
    /* the same key again (a 183's answer repeated in the 200, a retransmitted 200): the
     * session keeps its rollover counters and replay window */
    if (e && e->key.suite == k->suite && e->key.len == k->len &&
        !memcmp(e->key.master, k->master, k->len))
        return true;
    if (e) { /* a new key for the endpoint: the old session goes with the old key */
        if (e->session) srtp_dealloc(e->session);
        e->session = NULL;
        e->n_ssrc = 0;
        wipe(&e->key, sizeof e->key);
        e->key = *k;
        return true;
    }
    e = &t->slots[t->next];
    t->next = (t->next + 1) % t->max;
    if (e->used) {
        htab_remove(t->ht, hash_bytes(&e->ep, sizeof e->ep, t->seed), &e->ep);
        entry_clear(e);
        t->st.evicted++;
    }
    ep_make(&e->ep, addr, port);
    e->key = *k;
    e->used = true;
    if (!htab_insert(t->ht, hash_bytes(&e->ep, sizeof e->ep, t->seed), e)) {
        entry_clear(e);
        return false;
    }
    return true;
}

bool srtp_table_add(struct srtp_table *t, const struct ip_addr *addr, uint16_t port,
                    const struct sdes_key *k)
{
    return k->len && put(t, addr, port, k);
}

bool srtp_table_mark(struct srtp_table *t, const struct ip_addr *addr, uint16_t port)
{
    static const struct sdes_key none;
    const struct entry *e = find(t, addr, port);
    return e ? true : put(t, addr, port, &none);
}

/* RFC 4568 §6.2.1: AES_CM_128_HMAC_SHA1_32 keeps the 80-bit tag for SRTCP; RFC 7714 §14.2:
 * the GCM suites use a 16-byte tag for both. */
static void policy_for(enum sdes_suite s, srtp_policy_t *p)
{
    switch (s) {
    case SDES_AES_CM_128_HMAC_SHA1_32:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
        break;
    case SDES_AEAD_AES_128_GCM:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
        break;
    case SDES_AEAD_AES_256_GCM:
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
        break;
    default:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
        break;
    }
}

/* One session for every SSRC sending to the endpoint (ssrc_any_inbound: libsrtp2 makes a
 * stream per SSRC on its first packet). A capture reorders and mirror ports repeat, so the
 * replay window is wide. */
static bool session_make(struct entry *e)
{
    if (!srtp_kernel()) return false;
    srtp_policy_t p;
    memset(&p, 0, sizeof p);
    policy_for(e->key.suite, &p);
    p.ssrc.type = ssrc_any_inbound;
    p.key = e->key.master;
    p.window_size = 1024;
    return srtp_create(&e->session, &p) == srtp_err_status_ok;
}

static enum srtp_result result_of(srtp_err_status_t s)
{
    switch (s) {
    case srtp_err_status_ok:
        return SRTP_OK;
    case srtp_err_status_auth_fail:
        return SRTP_AUTH_FAIL;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return SRTP_REPLAY;
    default:
        return SRTP_BAD;
    }
}

static enum srtp_result unprotect(struct srtp_table *t, const struct ip_addr *addr, uint16_t port,
                                  bool rtcp, const uint8_t *in, size_t len, size_t *out_len)
{
    /* no SDP offered a key: every RTP packet of plain RTP comes here, and the hash of its
     * address and port would find nothing */
    if (htab_count(t->ht) == 0) return SRTP_NO_KEY;
    /* RTCP goes to the RTP port + 1 (RFC 3550 §11), or to the RTP port itself with
     * rtcp-mux (RFC 5761): the key is the RTP port's either way. */
    struct entry *e = find(t, addr, port);
    if (!e && rtcp && port > 0) e = find(t, addr, port - 1);
    if (!e)
        return SRTP_NO_KEY;
    if (!e->key.len)
        return SRTP_KEYLESS;
    if (len < 12 || len > sizeof t->scratch) return SRTP_BAD;
    /* RFC 3550 §5.1 and §6.4.1: the sender's SSRC at offset 8 in RTP, 4 in RTCP */
    struct cursor c = cursor_make(in, len);
    uint32_t ssrc = 0;
    if (!cursor_skip(&c, rtcp ? 4 : 8) || !cursor_u32be(&c, &ssrc)) return SRTP_BAD;
    bool known = false;
    for (unsigned i = 0; i < e->n_ssrc; i++)
        known |= e->ssrc[i] == ssrc;
    if (!known && e->n_ssrc == SRTP_SSRC_MAX) return SRTP_LIMIT;
    if (!e->session && !session_make(e)) return SRTP_LIMIT;
    memcpy(t->scratch, in, len);
    int n = (int)len;
    srtp_err_status_t s = rtcp ? srtp_unprotect_rtcp(e->session, t->scratch, &n)
                               : srtp_unprotect(e->session, t->scratch, &n);
    if (s != srtp_err_status_ok) return result_of(s);
    if (!known) e->ssrc[e->n_ssrc++] = ssrc;
    *out_len = (size_t)n;
    return SRTP_OK;
}

enum srtp_result srtp_table_unprotect(struct srtp_table *t, const struct ip_addr *addr,
                                      uint16_t port, bool rtcp, const uint8_t *in, size_t len,
                                      const uint8_t **out, size_t *out_len)
{
    *out = t->scratch;
    *out_len = 0;
    enum srtp_result r = unprotect(t, addr, port, rtcp, in, len, out_len);
    t->st.results[r]++;
    return r;
}

void srtp_table_stats(const struct srtp_table *t, struct srtp_stats *out)
{
    *out = t->st;
    out->keys = htab_count(t->ht);
}

size_t srtp_table_bytes(const struct srtp_table *t)
{
    return sizeof *t + t->max * sizeof *t->slots + htab_bytes(t->ht);
}
