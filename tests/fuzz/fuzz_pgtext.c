/* libFuzzer harness for the PostgreSQL backend's text encoder (store/pg_copy.c): packet
 * bytes (a Call-ID, a user, a reason phrase) become COPY text, which the server refuses
 * whole, with its batch, unless it is valid UTF-8 without NUL. Checked against glibc's own
 * UTF-8 decoder (mbrtowc in C.UTF-8), not against ours: the output is valid UTF-8 with no
 * NUL, as long as the input (each bad byte one '?'), its length field says so, and input
 * that was valid already comes out unchanged. */
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "store/pg_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether p[0..n) is UTF-8 without NUL, by glibc. */
static int valid(const char *p, size_t n)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    while (n) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, p, n, &st);
        /* glibc decodes F4 90.. and above (past U+10FFFF) that RFC 3629 §3 forbids and
         * PostgreSQL refuses: the oracle holds to the RFC there */
        if (k == 0 || k == (size_t)-1 || k == (size_t)-2 || (wc >= 0xd800 && wc <= 0xdfff) ||
            (uint32_t)wc > 0x10ffff)
            return 0;
        p += k;
        n -= k;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        if (!setlocale(LC_CTYPE, "C.UTF-8")) abort();
        init = 1;
    }
    char *in = malloc(size ? size : 1); /* exact size: over-reads are ASan reports */
    if (!in) return 0;
    memcpy(in, data, size);
    struct buf b = {0};
    pgc_text_n(&b, in, size);
    if (b.oom) {
        free(in);
        free(b.p);
        return 0;
    }
    uint32_t len;
    memcpy(&len, b.p, 4);
    len = ((len & 0xff) << 24) | ((len & 0xff00) << 8) | ((len >> 8) & 0xff00) | (len >> 24);
    if (b.len != size + 4 || len != size || !valid(b.p + 4, size)) abort();
    if (valid(in, size) && memcmp(b.p + 4, in, size) != 0) abort();
    free(in);
    free(b.p);
    return 0;
}
