/* See json.h. */
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The length of the well-formed UTF-8 sequence at p[0..n), 0 when there is none
 * (RFC 3629 §4's table: E0 takes A0..BF next, ED 80..9F, F0 90..BF, F4 80..8F). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len = c < 0x80                 ? 1
                 : c >= 0xc2 && c <= 0xdf ? 2
                 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4
                                          : 0;
    if (!len || len > n) return 0;
    for (size_t j = 1; j < len; j++)
        if ((p[j] & 0xc0) != 0x80) return 0;
    unsigned c1 = len > 1 ? p[1] : 0;
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) ||
        (c == 0xf4 && c1 >= 0x90))
        return 0;
    return len;
}

char *render_utf8_clean(const void *src, size_t n, size_t *outlen)
{
    const unsigned char *p = src;
    char *o = malloc(n * 3 + 1);
    size_t k = 0;
    if (!o) return NULL;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(p + i, n - i);
        if (!len) {
            memcpy(o + k, "\xef\xbf\xbd", 3); /* U+FFFD REPLACEMENT CHARACTER */
            k += 3;
            i++;
            continue;
        }
        memcpy(o + k, p + i, len);
        k += len;
        i += len;
    }
    o[k] = '\0';
    *outlen = k;
    return o;
}

json_t *render_textn(const void *p, size_t n)
{
    if (!p) return json_null();
    json_t *j = json_stringn(p, n); /* valid UTF-8, the usual case: as it is */
    if (j) return j;
    size_t len;
    char *t = render_utf8_clean(p, n, &len);
    j = t ? json_stringn(t, len) : NULL;
    free(t);
    return j ? j : json_null();
}

json_t *render_str_or_null(const char *s)
{
    return s ? render_textn(s, strlen(s)) : json_null();
}

json_t *render_sv(struct sv v)
{
    return v.p ? render_textn(v.p, v.n) : json_null();
}

json_t *render_time(bool have, ptime_t t)
{
    return have ? json_real(ptime_to_epoch_s(t)) : json_null();
}

json_t *render_ms_since(ptime_t from, ptime_t to)
{
    return from && to ? json_real((double)((to - from) / 1000) / 1000.0) : json_null();
}

/* divided, not multiplied, so that 4.35 prints as 4.35 */
json_t *render_round(double v, double unit)
{
    double scale = round(1 / unit);
    return json_real(round(v * scale) / scale);
}

json_t *render_num_or_null(double v)
{
    return v >= 0 ? json_real(v) : json_null();
}

void render_set_u64(json_t *o, const char *key, uint64_t v)
{
    json_object_set_new(o, key, json_integer((json_int_t)v));
}
