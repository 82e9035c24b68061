/* libFuzzer harness for the terminal UI's escaping of wire text (tui/safe.h): whatever the
 * bytes, with or without UTF-8 and whatever the room, the output is NUL-terminated within
 * its buffer and holds no control byte (C0, DEL), no C1 control and, without UTF-8, no
 * byte above 0x7e. A breach aborts, so the fuzzer reports it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tui/safe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *in, size_t n, size_t cap, int utf8)
{
    char *out = malloc(cap); /* exact size: overruns are ASan reports */
    if (!out) return;
    tui_safe(in, n, out, cap, utf8);
    size_t len = strnlen(out, cap);
    if (len == cap) abort(); /* not terminated */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c < 0x20 || c == 0x7f || (!utf8 && c > 0x7e)) abort();
        if (c == 0xc2 && i + 1 < len && (unsigned char)out[i + 1] < 0xa0) abort(); /* C1 */
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1);
    if (!in) return 0;
    memcpy(in, data, size);
    for (int utf8 = 0; utf8 < 2; utf8++) {
        check(in, size, 4 * size + 1, utf8);
        check(in, size, 1 + size % 7, utf8);
    }
    free(in);
    return 0;
}
