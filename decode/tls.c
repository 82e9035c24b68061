/* TLS records of one connection, decrypted with the secrets of a key log (see tls.h).
 *
 * The hellos are read in the clear: the ClientHello's random names the connection in the
 * key log (and its sender is the client), the ServerHello gives the server random, the
 * suite and, in its supported_versions extension, TLS 1.3 (RFC 8446 §4.2.1). Then, per
 * direction, records are decrypted in order with a 64-bit sequence number:
 * - TLS 1.2 (RFC 5246 §6.2.3.3, §7.1): encrypted from that direction's ChangeCipherSpec;
 *   keys from the master secret by the PRF's key expansion (§6.3), AES-GCM with an 8-byte
 *   explicit nonce after a 4-byte salt (RFC 5288 §3), ChaCha20-Poly1305 with the IV XOR
 *   the sequence number (RFC 7905 §2). The ECDHE AES-CBC suites (RFC 4492, RFC 5289):
 *   MAC-then-encrypt (§6.2.3.2: an explicit IV a record, then the plaintext, its HMAC and
 *   the padding under CBC), or encrypt-then-MAC when the ServerHello carries RFC 7366's
 *   extension (the HMAC over the IV and ciphertext, after them). TLS 1.0 and 1.1, whose
 *   PRF and IVs differ, are not read.
 * - TLS 1.3 (RFC 8446 §5.2, §7.3): after the ServerHello every application_data record is
 *   encrypted, first with the handshake traffic secrets, from each side's Finished with
 *   the first application traffic secrets; a KeyUpdate moves to the next (§7.2). The
 *   inner content type follows the plaintext and its zero padding (§5.4).
 * A record that fails authentication yields nothing; its number is used up all the same. */
#include "tls.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdlib.h>
#include <string.h>

#include "common/cursor.h"

enum aead { AEAD_AES128GCM, AEAD_AES256GCM, AEAD_CHACHA, CBC_AES128, CBC_AES256 };

struct suite {
    uint16_t id;
    uint8_t aead;
    bool sha384; /* the PRF's or HKDF's hash; else SHA-256 */
    uint8_t mac; /* CBC: the HMAC's length, 20 SHA-1, 32 SHA-256, 48 SHA-384; AEAD: 0 */
};

/* The AEAD suites in use, and the ECDHE AES-CBC ones of TLS 1.2 (IANA TLS Cipher Suites
 * registry); other CBC suites (TLS_RSA, DHE, 3DES, Camellia) are not read. */
static const struct suite suites[] = {
    {0x1301, AEAD_AES128GCM, false, 0}, {0x1302, AEAD_AES256GCM, true, 0},
    {0x1303, AEAD_CHACHA, false, 0},    {0xC02B, AEAD_AES128GCM, false, 0},
    {0xC02C, AEAD_AES256GCM, true, 0},  {0xC02F, AEAD_AES128GCM, false, 0},
    {0xC030, AEAD_AES256GCM, true, 0},  {0x009C, AEAD_AES128GCM, false, 0},
    {0x009D, AEAD_AES256GCM, true, 0},  {0x009E, AEAD_AES128GCM, false, 0},
    {0x009F, AEAD_AES256GCM, true, 0},  {0xCCA8, AEAD_CHACHA, false, 0},
    {0xCCA9, AEAD_CHACHA, false, 0},    {0xCCAA, AEAD_CHACHA, false, 0},
    {0xC009, CBC_AES128, false, 20},    {0xC00A, CBC_AES256, false, 20},
    {0xC013, CBC_AES128, false, 20},    {0xC014, CBC_AES256, false, 20},
    {0xC023, CBC_AES128, false, 32},    {0xC024, CBC_AES256, true, 48},
    {0xC027, CBC_AES128, false, 32},    {0xC028, CBC_AES256, true, 48},
};

/* RFC 8446 §4.1.3: the ServerHello random that means HelloRetryRequest */
static const uint8_t hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

enum phase { PH_CLEAR, PH_HANDSHAKE, PH_APP }; /* 1.2 uses CLEAR and APP */

struct tls_dir {
    EVP_CIPHER_CTX *ctx; /* owned; keyed when `keyed` */
    EVP_MAC_CTX *hmac;   /* owned: CBC suites' record MAC */
    bool keyed;
    uint8_t phase;
    uint8_t iv[12];     /* 1.2 GCM: the 4-byte salt; else the 12-byte IV */
    uint8_t secret[48]; /* 1.3: the traffic secret in force, for a KeyUpdate */
    uint8_t secret_len;
    uint64_t seq;
};

struct tls_conn {
    int refs;
    uint8_t cr[32], sr[32];
    bool have_cr, have_sr;
    bool tls13;
    bool v12; /* the ServerHello's version is TLS 1.2 (or 1.3's legacy 1.2) */
    bool etm; /* RFC 7366 encrypt_then_mac in the ServerHello */
    bool no_keys_counted;
    const struct suite *suite; /* NULL: not seen, or not one we read */
    struct tls_dir dir[2];     /* [0] the client's records, [1] the server's */
};

struct tls_conn *tls_conn_new(void)
{
    struct tls_conn *c = calloc(1, sizeof *c);
    if (c) c->refs = 1;
    return c;
}

void tls_conn_ref(struct tls_conn *c)
{
    c->refs++;
}

size_t tls_conn_bytes(void)
{
    return sizeof(struct tls_conn);
}

void tls_conn_unref(struct tls_conn *c)
{
    if (!c || --c->refs > 0) return;
    for (int i = 0; i < 2; i++) {
        EVP_CIPHER_CTX_free(c->dir[i].ctx);
        EVP_MAC_CTX_free(c->dir[i].hmac);
    }
    memset(c, 0, sizeof *c); /* no secret left behind in freed memory */
    free(c);
}

bool tls_conn_no_keys_once(struct tls_conn *c)
{
    bool was = c->no_keys_counted;
    c->no_keys_counted = true;
    return was;
}

bool tls_looks_like(const uint8_t *p, size_t n, bool any_type)
{
    if (n < 6 || p[1] != 3 || p[2] > 4) return false;
    if (any_type) return p[0] >= 20 && p[0] <= 23;
    return p[0] == 22 && (p[5] == 1 || p[5] == 2);
}

/* ---- key schedule -------------------------------------------------------------------- */

static size_t key_len(const struct suite *s)
{
    return s->aead == AEAD_AES128GCM || s->aead == CBC_AES128 ? 16 : 32;
}
static const char *mac_md(const struct suite *s)
{
    return s->mac == 20 ? "SHA1" : s->mac == 32 ? "SHA256" : "SHA384";
}
static const char *md_name(const struct suite *s)
{
    return s->sha384 ? "SHA384" : "SHA256";
}

static bool kdf(const char *name, OSSL_PARAM *params, uint8_t *out, size_t n)
{
    EVP_KDF *k = EVP_KDF_fetch(NULL, name, NULL);
    EVP_KDF_CTX *kc = k ? EVP_KDF_CTX_new(k) : NULL;
    bool ok = kc && EVP_KDF_derive(kc, out, n, params) > 0;
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(k);
    return ok;
}

/* RFC 5246 §5 PRF(secret, label, seed) with the suite's hash */
static bool prf12(const struct suite *s, const uint8_t *secret, size_t slen, const char *label,
                  const uint8_t *seed, size_t seedlen, uint8_t *out, size_t n)
{
    uint8_t full[64 + 32];
    size_t ll = strlen(label);
    if (ll + seedlen > sizeof full) return false;
    memcpy(full, label, ll);
    memcpy(full + ll, seed, seedlen);
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md_name(s), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, slen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, full, ll + seedlen),
        OSSL_PARAM_construct_end()};
    return kdf("TLS1-PRF", p, out, n);
}

/* RFC 8446 §7.1 HKDF-Expand-Label(secret, label, "", n) */
static bool expand_label(const struct suite *s, const uint8_t *secret, size_t slen,
                         const char *label, uint8_t *out, size_t n)
{
    uint8_t info[2 + 1 + 6 + 32 + 1];
    size_t ll = strlen(label);
    if (ll > 32) return false;
    info[0] = (uint8_t)(n >> 8);
    info[1] = (uint8_t)n;
    info[2] = (uint8_t)(6 + ll);
    memcpy(info + 3, "tls13 ", 6);
    memcpy(info + 9, label, ll);
    info[9 + ll] = 0; /* empty context */
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md_name(s), 0),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, 10 + ll),
        OSSL_PARAM_construct_end()};
    return kdf("HKDF", p, out, n);
}

/* CBC: the cipher keyed without padding removal (the record's padding is TLS's, §6.2.3.2,
 * checked here) and the HMAC keyed once (each record restarts it with the same key, which
 * saves fetching the digest and hashing the key a record); the IV is each record's own */
static bool set_cbc_key(struct tls_dir *d, const struct suite *s, const uint8_t *key,
                        const uint8_t *mac_key)
{
    if (!d->hmac) {
        EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
        d->hmac = m ? EVP_MAC_CTX_new(m) : NULL;
        EVP_MAC_free(m); /* the context holds its own reference */
        if (!d->hmac) return false;
    }
    OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)mac_md(s), 0),
                      OSSL_PARAM_construct_end()};
    d->keyed =
        EVP_MAC_init(d->hmac, mac_key, s->mac, p) > 0 &&
        EVP_DecryptInit_ex(d->ctx, s->aead == CBC_AES128 ? EVP_aes_128_cbc() : EVP_aes_256_cbc(),
                           NULL, key, NULL) > 0 &&
        EVP_CIPHER_CTX_set_padding(d->ctx, 0) > 0;
    return d->keyed;
}

static bool set_key(struct tls_dir *d, const struct suite *s, const uint8_t *key)
{
    const EVP_CIPHER *ciph = s->aead == AEAD_AES128GCM   ? EVP_aes_128_gcm()
                             : s->aead == AEAD_AES256GCM ? EVP_aes_256_gcm()
                                                         : EVP_chacha20_poly1305();
    if (!d->ctx && !(d->ctx = EVP_CIPHER_CTX_new())) return false;
    d->keyed = EVP_DecryptInit_ex(d->ctx, ciph, NULL, NULL, NULL) > 0 &&
               EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) > 0 &&
               EVP_DecryptInit_ex(d->ctx, NULL, NULL, key, NULL) > 0;
    return d->keyed;
}

/* TLS 1.3: key and IV of the traffic secret in d->secret */
static bool key13(struct tls_dir *d, const struct suite *s)
{
    uint8_t key[32];
    bool ok = expand_label(s, d->secret, d->secret_len, "key", key, key_len(s)) &&
              expand_label(s, d->secret, d->secret_len, "iv", d->iv, 12) && set_key(d, s, key);
    memset(key, 0, sizeof key);
    return ok;
}

/* Keys for direction `side` (0 client, 1 server) from the key log; false: none there. */
static bool derive(struct tls_conn *c, int side, struct tls_keylog *keys, ptime_t now)
{
    struct tls_dir *d = &c->dir[side];
    const struct suite *s = c->suite;
    if (!s || !c->have_cr || !c->have_sr) return false;
    if (c->tls13) {
        enum tls_secret which = d->phase == PH_HANDSHAKE
                                    ? (side ? TLS_SEC_SERVER_HS : TLS_SEC_CLIENT_HS)
                                    : (side ? TLS_SEC_SERVER_AP : TLS_SEC_CLIENT_AP);
        d->secret_len = (uint8_t)tls_keylog_find(keys, c->cr, which, d->secret, now);
        return d->secret_len && key13(d, s);
    }
    if (!c->v12) return false; /* TLS 1.0/1.1: another PRF, not read */
    uint8_t master[48], block[2 * 48 + 2 * 32 + 2 * 12], seed[64];
    if (tls_keylog_find(keys, c->cr, TLS_SEC_MASTER, master, now) != 48) return false;
    memcpy(seed, c->sr, 32); /* RFC 5246 §6.3: server_random + client_random */
    memcpy(seed + 32, c->cr, 32);
    /* §6.3: client MAC key, server MAC key, client key, server key, client IV, server IV;
     * AEAD suites have no MAC key, CBC ones need no IV from here (each record has its own) */
    size_t ml = s->mac, kl = key_len(s), ivl = s->mac ? 0 : s->aead == AEAD_CHACHA ? 12 : 4;
    bool ok = prf12(s, master, 48, "key expansion", seed, 64, block, 2 * ml + 2 * kl + 2 * ivl);
    if (ok && ml) {
        ok = (d->ctx || (d->ctx = EVP_CIPHER_CTX_new())) &&
             set_cbc_key(d, s, block + 2 * ml + (size_t)side * kl, block + (size_t)side * ml);
    } else if (ok) {
        memcpy(d->iv, block + 2 * kl + (size_t)side * ivl, ivl);
        ok = set_key(d, s, block + (size_t)side * kl);
    }
    memset(master, 0, sizeof master);
    memset(block, 0, sizeof block);
    return ok;
}

/* ---- records ------------------------------------------------------------------------- */

static bool aead_open(struct tls_dir *d, const uint8_t nonce[12], const uint8_t *aad, size_t aadlen,
                      const uint8_t *ct, size_t ctlen, const uint8_t *tag, uint8_t *out)
{
    uint8_t t[16];
    int l = 0, l2 = 0;
    memcpy(t, tag, 16);
    return EVP_DecryptInit_ex(d->ctx, NULL, NULL, NULL, nonce) > 0 &&
           EVP_DecryptUpdate(d->ctx, NULL, &l, aad, (int)aadlen) > 0 &&
           EVP_DecryptUpdate(d->ctx, out, &l, ct, (int)ctlen) > 0 &&
           EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_SET_TAG, 16, t) > 0 &&
           EVP_DecryptFinal_ex(d->ctx, out + l, &l2) > 0;
}

static void seq_nonce(const struct tls_dir *d, uint8_t nonce[12])
{
    memcpy(nonce, d->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= (uint8_t)(d->seq >> (56 - 8 * i));
}

/* The record MAC of a CBC suite (RFC 5246 §6.2.3.1): HMAC(seq, type, version, len, data)
 * compared with the `want` that came with the record. */
static bool mac_ok(struct tls_dir *d, const struct suite *s, const uint8_t hdr[5], size_t len,
                   const uint8_t *data, size_t dlen, const uint8_t *want)
{
    uint8_t pre[13], got[EVP_MAX_MD_SIZE];
    size_t gl = 0;
    for (int i = 0; i < 8; i++)
        pre[i] = (uint8_t)(d->seq >> (56 - 8 * i));
    memcpy(pre + 8, hdr, 3);
    pre[11] = (uint8_t)(len >> 8);
    pre[12] = (uint8_t)len;
    /* a passive reader's timing tells no attacker anything: no constant-time care needed,
     * but a record whose MAC is wrong is never read */
    return EVP_MAC_init(d->hmac, NULL, 0, NULL) > 0 &&
           EVP_MAC_update(d->hmac, pre, sizeof pre) > 0 &&
           EVP_MAC_update(d->hmac, data, dlen) > 0 &&
           EVP_MAC_final(d->hmac, got, &gl, sizeof got) > 0 && gl == s->mac &&
           !memcmp(got, want, s->mac);
}

/* A CBC suite's record: IV (16 bytes, §6.2.3.2), then either the ciphertext of plaintext,
 * MAC and padding (MAC-then-encrypt), or (RFC 7366 §3) the ciphertext of plaintext and
 * padding followed by a MAC over the IV and ciphertext. out holds TLS_MAX_RECORD bytes. */
static bool cbc_open(const struct tls_conn *c, struct tls_dir *d, const uint8_t hdr[5],
                     const uint8_t *body, size_t blen, uint8_t *out, size_t *outlen)
{
    const struct suite *s = c->suite;
    size_t ml = s->mac, etm_ml = c->etm ? ml : 0;
    int l = 0, l2 = 0;
    if (blen < 16 + 16 + etm_ml || blen > TLS_MAX_RECORD) return false;
    size_t ctlen = blen - 16 - etm_ml;
    if (c->etm && !mac_ok(d, s, hdr, blen - ml, body, blen - ml, body + blen - ml)) return false;
    if (ctlen % 16 || EVP_DecryptInit_ex(d->ctx, NULL, NULL, NULL, body) <= 0 ||
        EVP_DecryptUpdate(d->ctx, out, &l, body + 16, (int)ctlen) <= 0 ||
        EVP_DecryptFinal_ex(d->ctx, out + l, &l2) <= 0)
        return false;
    /* §6.2.3.2: padding_length, and as many bytes before it, each holding that value */
    size_t pad = out[ctlen - 1], tail = pad + 1 + (c->etm ? 0 : ml);
    if (tail > ctlen) return false;
    for (size_t i = ctlen - 1 - pad; i < ctlen - 1; i++)
        if (out[i] != pad) return false;
    size_t plen = ctlen - tail;
    if (!c->etm && !mac_ok(d, s, hdr, plen, out, plen, out + plen)) return false;
    *outlen = plen;
    return true;
}

/* Decrypts body (the record after its header hdr) into out; *type gets the content type. */
static bool open_record(struct tls_conn *c, struct tls_dir *d, const uint8_t hdr[5],
                        const uint8_t *body, size_t blen, uint8_t *out, size_t *outlen,
                        uint8_t *type)
{
    uint8_t nonce[12], aad[13];
    if (c->suite->mac) {
        bool ok = cbc_open(c, d, hdr, body, blen, out, outlen);
        d->seq++;
        *type = hdr[0];
        return ok;
    }
    size_t explicit = !c->tls13 && c->suite->aead != AEAD_CHACHA ? 8 : 0;
    if (blen < explicit + 16 || blen - explicit - 16 > TLS_MAX_PLAIN + 256) return false;
    size_t ctlen = blen - explicit - 16;
    if (c->tls13) {
        seq_nonce(d, nonce);
        memcpy(aad, hdr, 5); /* RFC 8446 §5.2: the record header is the additional data */
    } else {
        if (explicit) {
            memcpy(nonce, d->iv, 4);
            memcpy(nonce + 4, body, 8);
        } else {
            seq_nonce(d, nonce);
        }
        for (int i = 0; i < 8; i++) /* RFC 5246 §6.2.3.3: seq, type, version, length */
            aad[i] = (uint8_t)(d->seq >> (56 - 8 * i));
        memcpy(aad + 8, hdr, 3);
        aad[11] = (uint8_t)(ctlen >> 8);
        aad[12] = (uint8_t)ctlen;
    }
    bool ok = aead_open(d, nonce, aad, c->tls13 ? 5 : 13, body + explicit, ctlen,
                        body + explicit + ctlen, out);
    d->seq++;
    if (!ok) return false;
    *type = hdr[0];
    if (c->tls13) { /* the inner type is the last non-zero byte (§5.4) */
        while (ctlen > 0 && out[ctlen - 1] == 0)
            ctlen--;
        if (ctlen == 0) return false;
        *type = out[--ctlen];
    }
    *outlen = ctlen;
    return true;
}

/* A ClientHello or ServerHello in the clear (RFC 8446 §4.1.2, §4.1.3; RFC 5246 §7.4.1). */
static void hello(struct tls_conn *c, enum tls_side *side, uint8_t type, struct cursor m)
{
    const uint8_t *rnd;
    uint8_t sidl;
    uint16_t ver, suite, elen;
    if (!cursor_u16be(&m, &ver) || !cursor_bytes(&m, 32, &rnd)) return;
    if (type == 1) {
        memcpy(c->cr, rnd, 32);
        c->have_cr = true;
        *side = TLS_SIDE_CLIENT;
        return;
    }
    *side = TLS_SIDE_SERVER;
    if (!memcmp(rnd, hrr_random, 32)) return; /* HelloRetryRequest: the real ServerHello follows */
    if (!cursor_u8(&m, &sidl) || !cursor_skip(&m, sidl) || !cursor_u16be(&m, &suite) ||
        !cursor_skip(&m, 1))
        return;
    memcpy(c->sr, rnd, 32);
    c->have_sr = true;
    c->v12 = ver == 0x0303;
    c->etm = false;
    c->suite = NULL;
    for (size_t i = 0; i < sizeof suites / sizeof *suites; i++)
        if (suites[i].id == suite) c->suite = &suites[i];
    if (!cursor_u16be(&m, &elen) || !cursor_limit(&m, elen)) return;
    uint16_t et, el, v;
    while (cursor_u16be(&m, &et) && cursor_u16be(&m, &el)) {
        struct cursor e = m;
        if (!cursor_skip(&m, el) || !cursor_limit(&e, el)) return;
        if (et == 22) c->etm = true; /* RFC 7366 encrypt_then_mac, agreed to */
        if (et == 43 && cursor_u16be(&e, &v) && v == 0x0304) { /* supported_versions */
            c->tls13 = true;
            for (int i = 0; i < 2; i++) {
                c->dir[i].phase = PH_HANDSHAKE;
                c->dir[i].seq = 0;
                c->dir[i].keyed = false;
            }
        }
    }
}

/* Handshake messages of a record: type(1) length(3) body (RFC 8446 §4). A message split
 * across records is read as far as this record holds it. */
static void handshake(struct tls_conn *c, enum tls_side *side, int di, const uint8_t *p, size_t n)
{
    struct cursor h = cursor_make(p, n);
    uint8_t type, l0;
    uint16_t l1;
    while (cursor_u8(&h, &type) && cursor_u8(&h, &l0) && cursor_u16be(&h, &l1)) {
        size_t len = (size_t)l0 << 16 | l1;
        struct cursor m = h;
        cursor_limit(&m, len < cursor_left(&h) ? len : cursor_left(&h));
        struct tls_dir *d = di >= 0 ? &c->dir[di] : NULL;
        if ((type == 1 || type == 2) && (!d || d->phase == PH_CLEAR))
            hello(c, side, type, m);
        else if (type == 20 && c->tls13 && d && d->phase == PH_HANDSHAKE) {
            d->phase = PH_APP; /* Finished: application traffic secrets from here */
            d->seq = 0;
            d->keyed = false;
        } else if (type == 24 && c->tls13 && d && d->phase == PH_APP && d->secret_len) {
            uint8_t next[48]; /* KeyUpdate: RFC 8446 §7.2 "traffic upd" */
            if (expand_label(c->suite, d->secret, d->secret_len, "traffic upd", next,
                             d->secret_len)) {
                memcpy(d->secret, next, d->secret_len);
                d->seq = 0;
                if (!key13(d, c->suite)) d->keyed = false;
            }
            memset(next, 0, sizeof next);
        }
        if (!cursor_skip(&h, len)) return;
    }
}

/* TLS 1.3, a record the handshake keys did not open: when this side's Finished went by
 * unread (its key log line written after the capture saw it, as a live peer does), the
 * record may be the first under the application secret. Tried once per such record; on
 * failure the handshake keys are restored. */
static bool skip_to_app(struct tls_conn *c, int di, struct tls_keylog *keys, ptime_t now,
                        const uint8_t *rec, uint8_t *out, size_t *out_len, uint8_t *inner)
{
    struct tls_dir *d = &c->dir[di];
    uint64_t seq = d->seq;
    d->phase = PH_APP;
    d->seq = 0;
    d->keyed = false;
    size_t blen = (size_t)rec[3] << 8 | rec[4];
    if (derive(c, di, keys, now) &&
        open_record(c, d, rec, rec + TLS_HEADER, blen, out, out_len, inner))
        return true;
    d->phase = PH_HANDSHAKE;
    d->seq = seq;
    d->keyed = false;
    return false;
}

enum tls_result tls_record(struct tls_conn *c, enum tls_side *side, const uint8_t *rec,
                           size_t rec_len, struct tls_keylog *keys, ptime_t now, uint8_t *out,
                           size_t *out_len)
{
    if (rec_len < TLS_HEADER) return TLS_BAD;
    uint8_t type = rec[0];
    const uint8_t *body = rec + TLS_HEADER;
    size_t blen = rec_len - TLS_HEADER;
    int di = *side == TLS_SIDE_CLIENT ? 0 : *side == TLS_SIDE_SERVER ? 1 : -1;
    struct tls_dir *d = di >= 0 ? &c->dir[di] : NULL;

    if (!d || d->phase == PH_CLEAR) {
        if (type == 22) {
            handshake(c, side, di, body, blen);
        } else if (type == 20 && d && !c->tls13) {
            d->phase = PH_APP; /* ChangeCipherSpec: this side encrypts from here */
            d->seq = 0;
            d->keyed = false;
        } else if (type == 23) {
            return TLS_NO_KEYS; /* application data and no handshake seen to key it */
        }
        return TLS_NONE;
    }
    if (type == 20 && c->tls13)
        return TLS_NONE; /* RFC 8446 §D.4: a compatibility ChangeCipherSpec, in the clear */
    if (c->tls13 && type != 23) return TLS_BAD;
    uint8_t inner;
    enum tls_result res = TLS_NO_KEYS;
    if (!d->keyed && !derive(c, di, keys, now))
        d->seq++; /* the record is gone, its number used all the same */
    else if (open_record(c, d, rec, body, blen, out, out_len, &inner))
        res = TLS_PLAIN;
    else
        res = TLS_BAD;
    if (res != TLS_PLAIN && c->tls13 && d->phase == PH_HANDSHAKE &&
        skip_to_app(c, di, keys, now, rec, out, out_len, &inner))
        res = TLS_PLAIN;
    if (res != TLS_PLAIN) return res;
    if (inner == 23) return TLS_PLAIN;
    if (inner == 22) handshake(c, side, di, out, *out_len);
    return TLS_NONE;
}
