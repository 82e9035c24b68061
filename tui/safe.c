/* See safe.h. */
#include "safe.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The length of the well-formed UTF-8 character at p (RFC 3629 §4: no overlong forms, no
 * surrogates, nothing past U+10FFFF), 0 when there is none; C1 controls count as none. */
static size_t utf8_char(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (!len || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    if (len == 2 && c == 0xC2 && p[1] < 0xA0) return 0; /* U+0080..U+009F: C1 */
    if (len == 3 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))) return 0;
    if (len == 4 && ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))) return 0;
    return len;
}

size_t tui_safe(const char *p, size_t n, char *out, size_t cap, bool utf8)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t o = 0, cols = 0;
    if (!cap) return 0;
    for (size_t i = 0; i < n;) {
        size_t len = s[i] >= 0x20 && s[i] < 0x7f ? 1
                     : utf8 && s[i] >= 0x80      ? utf8_char(s + i, n - i)
                                                 : 0;
        if (len) {
            if (o + len >= cap) break;
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        } else {
            if (o + 4 >= cap) break;
            snprintf(out + o, 5, "\\x%02x", s[i]);
            o += 4;
            i++;
            cols += 3;
        }
        cols++;
    }
    out[o] = '\0';
    return cols;
}
