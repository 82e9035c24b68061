/* TLS record decryption from an NSS key log, inside decode/: SIP over TLS (and WSS) read
 * as plaintext. Keys come in through decode_config.tls_keylogs and never leave decode/:
 * no key, secret or random is ever logged, counted by value or handed to a handler.
 *
 * tls_keylog: the secrets of the key log files by client random (a live capture re-reads
 * a file as it grows). tls_conn: one connection's handshake facts (randoms, version,
 * suite), shared by its two directions; tls_record() takes one whole record of one
 * direction and returns the plaintext of application data, or nothing. TLS 1.2 with the
 * AEAD suites (RFC 5288 AES-GCM, RFC 7905 ChaCha20-Poly1305) and the ECDHE AES-CBC ones
 * (RFC 5246 §6.2.3.2, RFC 7366 encrypt-then-MAC), and TLS 1.3 (RFC 8446) with
 * its three suites and key updates. OpenSSL's libcrypto does the ciphers and the key
 * schedule's PRF/HKDF. */
#ifndef SIPSCOPE_DECODE_TLS_H
#define SIPSCOPE_DECODE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ptime.h"

/* RFC 8446 §5.1 / RFC 5246 §6.2: at most 2^14 plaintext bytes; ciphertext adds at most
 * 256 (1.3) or 2048 (1.2) */
#define TLS_MAX_PLAIN  16384
#define TLS_MAX_RECORD (16384 + 2048)
#define TLS_HEADER     5
/* secrets remembered from key logs (oldest forgotten first): one a connection */
#define TLS_KEYLOG_MAX 16384

enum tls_secret {
    TLS_SEC_MASTER,    /* CLIENT_RANDOM: the TLS 1.2 master secret */
    TLS_SEC_CLIENT_HS, /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
    TLS_SEC_SERVER_HS, /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
    TLS_SEC_CLIENT_AP, /* CLIENT_TRAFFIC_SECRET_0 */
    TLS_SEC_SERVER_AP, /* SERVER_TRAFFIC_SECRET_0 */
    TLS_SEC__COUNT
};

struct tls_keylog;
/* Reads the files (each must exist). NULL with err set when one cannot be opened. */
struct tls_keylog *tls_keylog_new(const char *const *paths, size_t n, char *err, size_t errlen);
void tls_keylog_free(struct tls_keylog *k);
/* Lines of a key log text taken in (for the fuzzer and tests: no file). */
void tls_keylog_add_text(struct tls_keylog *k, const char *p, size_t n);
/* The secret of a client random into out (48 bytes at most); its length, 0 when unknown.
 * On a miss the files are read again from where they ended if they grew (a live peer
 * writes its key log as the handshake runs): one stat() a file per miss. */
size_t tls_keylog_find(struct tls_keylog *k, const uint8_t client_random[32], enum tls_secret s,
                       uint8_t out[48], ptime_t now);
size_t tls_keylog_bytes(const struct tls_keylog *k);

/* What tls_record() made of a record. */
enum tls_result {
    TLS_NONE,    /* a handshake, alert or CCS record, or one dropped: nothing for SIP */
    TLS_PLAIN,   /* application data: *out, *out_len */
    TLS_NO_KEYS, /* encrypted and no key log line for it (the connection's first counts) */
    TLS_BAD,     /* failed authentication or not a record we can read: count, no data */
};

struct tls_conn;
struct tls_conn *tls_conn_new(void);
void tls_conn_ref(struct tls_conn *c);
void tls_conn_unref(struct tls_conn *c);
size_t tls_conn_bytes(void);
/* Whether the connection was already counted as having no keys (and marks it so). */
bool tls_conn_no_keys_once(struct tls_conn *c);

/* A direction's side of the connection: the one that sent the ClientHello is the client. */
enum tls_side { TLS_SIDE_UNKNOWN, TLS_SIDE_CLIENT, TLS_SIDE_SERVER };

/* One whole record (header and body, rec_len bytes) of the direction whose side is *side
 * (learnt from the hellos; UNKNOWN until then). Plaintext goes to out (TLS_MAX_RECORD
 * bytes: a CBC record is deciphered whole there, MAC and padding too), borrowed until the
 * next call. */
enum tls_result tls_record(struct tls_conn *c, enum tls_side *side, const uint8_t *rec,
                           size_t rec_len, struct tls_keylog *keys, ptime_t now, uint8_t *out,
                           size_t *out_len);

/* Does a segment's payload start with a TLS record: any type (20-23, version 3.x) when
 * any_type, else only a handshake record carrying a ClientHello or ServerHello. */
bool tls_looks_like(const uint8_t *p, size_t n, bool any_type);

#endif
