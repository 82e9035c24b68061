/* libFuzzer harness for the terminal UI's escaping of wire text (tui/safe.h): whatever the
 * bytes, with or without UTF-8 and whatever the room, the output is NUL-terminated within
 * its buffer and holds no control byte (C0, DEL), no C1 control and, without UTF-8, no
 * byte above 0x7e. A breach aborts, so the fuzzer reports it. The same bytes, when they
 * are JSON, are read as a database's call and stream (tui/fromjson.h, what `tui --db`
 * reads): every text field comes back NUL-terminated in its array, issues bounded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tui/fromjson.h"
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

static void terminated(const char *s, size_t cap)
{
    if (strnlen(s, cap) == cap) abort();
}

static void from_json(const json_t *o)
{
    struct tui_row r = {0};
    struct tui_issue *is = NULL;
    size_t n = 0;
    if (tui_row_from_json(&r, o, &is, &n)) {
        terminated(r.from, sizeof r.from), terminated(r.to, sizeof r.to);
        terminated(r.call_id, sizeof r.call_id), terminated(r.caller, sizeof r.caller);
        if (n > TUI_MAX_ISSUES) abort();
        for (size_t i = 0; i < n; i++)
            if (is[i].nframes > ISSUE_MAX_FRAMES) abort();
    }
    free(is);
    struct tui_stream st;
    if (tui_stream_from_json(&st, o)) {
        terminated(st.tones, sizeof st.tones), terminated(st.audio_why, sizeof st.audio_why);
        terminated(st.codec, sizeof st.codec), terminated(st.src, sizeof st.src);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *o = json_loadb((const char *)data, size, 0, NULL);
    if (o) from_json(o);
    json_decref(o);
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
