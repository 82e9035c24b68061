/* The NSS key log reader (decode/tls_keylog.c), against the format as NSS documents it
 * (SSLKEYLOGFILE: "LABEL <64 hex digits of client random> <hex secret>", # comments):
 * each label's secret is found by its client random; lines of other labels, malformed
 * lines and a last line still being written are not taken; a file that grows is read on
 * from where it ended, and a truncated one afresh. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "decode/tls.h"

#define CR1 "0101010101010101010101010101010101010101010101010101010101010101"
#define CR2 "0202020202020202020202020202020202020202020202020202020202020202"
#define M48 "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
#define S32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static void cr(uint8_t out[32], uint8_t b) { memset(out, b, 32); }

Test(tls_keylog, labels_found_by_client_random)
{
    char err[128];
    struct tls_keylog *k = tls_keylog_new(NULL, 0, err, sizeof err);
    cr_assert(k);
    const char text[] = "# comment\n"
                        "CLIENT_RANDOM " CR1 " " M48 "\n"
                        "SERVER_HANDSHAKE_TRAFFIC_SECRET " CR2 " " S32 "\r\n"
                        "EXPORTER_SECRET " CR2 " " S32 "\n"
                        "CLIENT_TRAFFIC_SECRET_0 " CR2 " 0g" S32 "\n" /* not hex */
                        "SERVER_TRAFFIC_SECRET_0 " CR2 " " S32 "0\n"   /* odd length */
                        "CLIENT_TRAFFIC_SECRET_0 " CR2 "\n";           /* no secret */
    tls_keylog_add_text(k, text, strlen(text));
    uint8_t r[32], out[48];
    cr(r, 1);
    cr_assert_eq(tls_keylog_find(k, r, TLS_SEC_MASTER, out, 0), 48);
    cr_expect_eq(out[0], 0xa0);
    cr_expect_eq(out[47], 0xcf);
    cr_expect_eq(tls_keylog_find(k, r, TLS_SEC_CLIENT_AP, out, 0), 0);
    cr(r, 2);
    cr_assert_eq(tls_keylog_find(k, r, TLS_SEC_SERVER_HS, out, 0), 32);
    cr_expect_eq(out[31], 0x1f);
    cr_expect_eq(tls_keylog_find(k, r, TLS_SEC_CLIENT_AP, out, 0), 0);
    cr_expect_eq(tls_keylog_find(k, r, TLS_SEC_SERVER_AP, out, 0), 0);
    cr(r, 3);
    cr_expect_eq(tls_keylog_find(k, r, TLS_SEC_MASTER, out, 0), 0);
    tls_keylog_free(k);
}

Test(tls_keylog, file_read_on_as_it_grows)
{
    char path[] = "/tmp/sipscope-keylog-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("CLIENT_RANDOM " CR1 " " M48 "\nCLIENT_RANDOM " CR2 " " M48, f); /* 2nd unfinished */
    fflush(f);
    char err[128];
    const char *paths[] = {path};
    struct tls_keylog *k = tls_keylog_new(paths, 1, err, sizeof err);
    cr_assert(k, "%s", err);
    uint8_t r[32], out[48];
    cr(r, 1);
    cr_expect_eq(tls_keylog_find(k, r, TLS_SEC_MASTER, out, 0), 48);
    cr(r, 2);
    cr_expect_eq(tls_keylog_find(k, r, TLS_SEC_MASTER, out, 0), 0, "a line being written");
    fputs("\n", f); /* the writer finishes its line: read on a miss */
    fflush(f);
    cr_expect_eq(tls_keylog_find(k, r, TLS_SEC_MASTER, out, 0), 48);
    /* replaced by a shorter file (a new log): read from its start */
    cr_assert(freopen(path, "w", f));
    fputs("SERVER_TRAFFIC_SECRET_0 " CR1 " " S32 "\n", f);
    fflush(f);
    cr(r, 1);
    cr_expect_eq(tls_keylog_find(k, r, TLS_SEC_SERVER_AP, out, 0), 32);
    fclose(f);
    tls_keylog_free(k);
    unlink(path);
    const char *none[] = {"/nonexistent/keylog"};
    cr_expect_null(tls_keylog_new(none, 1, err, sizeof err));
    cr_expect(strstr(err, "/nonexistent/keylog") != NULL);
}

/* The record header a connection is followed by: a hello (RFC 8446 §5.1: type 22,
 * version 3.x; §4: ClientHello 1, ServerHello 2), or any record type on port 5061. */
Test(tls_keylog, record_header_recognised)
{
    const uint8_t ch[] = {22, 3, 1, 0, 0xa5, 1};
    const uint8_t fin[] = {22, 3, 3, 0, 0x20, 20};
    const uint8_t app[] = {23, 3, 3, 0, 0x20, 0x55};
    const uint8_t sip[] = "INVITE sip:a@b SIP/2.0";
    cr_expect(tls_looks_like(ch, sizeof ch, false));
    cr_expect(!tls_looks_like(fin, sizeof fin, false));
    cr_expect(tls_looks_like(fin, sizeof fin, true));
    cr_expect(tls_looks_like(app, sizeof app, true));
    cr_expect(!tls_looks_like(sip, sizeof sip - 1, true));
}
