/* See jsontext.h. The rules copied from jansson 2.14 (dump.c, strconv.c): compact
 * separators, objects in iteration order, strings with \" \\ \b \f \n \r \t and \u00XX
 * (upper-case) for the other control characters, other bytes as they are (jansson's
 * strings are valid UTF-8 by construction); integers as %lld; reals as %.16g with ".0"
 * added when neither '.' nor 'e' appears, and the exponent's '+' and leading zeros
 * dropped. */
#include "jsontext.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 256

struct out {
    char *p; /* owned until handed to the caller */
    size_t n, cap;
    bool failed;
};

static bool room(struct out *o, size_t more)
{
    if (o->failed) return false;
    if (o->n + more <= o->cap) return true;
    if (o->n + more > JSONTEXT_MAX_BYTES) {
        o->failed = true;
        return false;
    }
    size_t cap = o->cap ? o->cap : 1024;
    while (cap < o->n + more)
        cap *= 2;
    if (cap > JSONTEXT_MAX_BYTES) cap = JSONTEXT_MAX_BYTES;
    char *p = realloc(o->p, cap);
    if (!p) {
        o->failed = true;
        return false;
    }
    o->p = p;
    o->cap = cap;
    return true;
}

static void put(struct out *o, const char *s, size_t n)
{
    if (room(o, n)) {
        memcpy(o->p + o->n, s, n);
        o->n += n;
    }
}

static void put_char(struct out *o, char c)
{
    if (room(o, 1)) o->p[o->n++] = c;
}

static size_t fmt_u64(uint64_t u, char *buf)
{
    char tmp[20];
    size_t n = 0, k = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n)
        buf[k++] = tmp[--n];
    return k;
}

static size_t fmt_i64(long long v, char *buf)
{
    if (v >= 0) return fmt_u64((uint64_t)v, buf);
    buf[0] = '-';
    return 1 + fmt_u64(0 - (uint64_t)v, buf + 1);
}

/* jansson's jsonp_dtostr at precision 16. */
static size_t real_printf(double v, char *buf)
{
    int ret = snprintf(buf, 32, "%.16g", v);
    if (ret < 0 || ret >= 29) return 0;
    size_t len = (size_t)ret;
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        buf[len++] = '.';
        buf[len++] = '0';
        buf[len] = '\0';
    }
    char *start = strchr(buf, 'e');
    if (start) {
        start++;
        char *end = start + 1;
        if (*start == '-') start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, len - (size_t)(end - buf));
            len -= (size_t)(end - start);
        }
    }
    return len;
}

static const double pow10_exact[] = {1e0, 1e1, 1e2, 1e3,  1e4,  1e5,  1e6,
                                     1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13};

/* A short decimal, without printf: v must be the double nearest D = n / 10^6 (|n| < 2^53),
 * and %.16g must print D, which it does when v is nearer to D than half a step of the
 * 16-digit grid D lies on. Both are checked exactly: n / 10^6 is one correctly rounded
 * division, and fma(v, 10^6, -n) is exact (the remainder of a correctly rounded quotient
 * is representable), so it is 10^6 (v - D) to the last bit. 0: not such a value. */
static size_t real_short(double v, char *buf)
{
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 9e9)) /* fixed notation, and |n| < 2^53 */
        return 0;
    long long n = llround(v * 1e6);
    if ((double)n / 1e6 != v) return 0;
    double r = fabs(fma(v, 1e6, -(double)n));
    uint64_t u = (uint64_t)(n < 0 ? -n : n);
    int d = 0;
    for (uint64_t x = u; x; x /= 10)
        d++;
    int p = d - 7; /* D's decimal exponent: -4 .. 9 */
    /* half a step of 10^(p-15): |r| / 10^6 < 10^(p-15) / 2, i.e. 2 |r| 10^(9-p) < 1; the
     * product rounds up to 1 at most when it is below it, which only sends v to printf */
    if (!(2 * r * pow10_exact[9 - p] < 1)) return 0;
    size_t k = 0;
    if (n < 0) buf[k++] = '-';
    k += fmt_u64(u / 1000000, buf + k);
    unsigned frac = (unsigned)(u % 1000000);
    if (!frac) {
        buf[k++] = '.';
        buf[k++] = '0';
        return k;
    }
    buf[k++] = '.';
    char f[6];
    for (int i = 5; i >= 0; i--) {
        f[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    int last = 5;
    while (f[last] == '0')
        last--;
    memcpy(buf + k, f, (size_t)last + 1);
    return k + (size_t)last + 1;
}

size_t json_text_real(double v, char *buf)
{
    if (v == 0) {
        size_t k = 0;
        if (signbit(v)) buf[k++] = '-';
        memcpy(buf + k, "0.0", 3);
        return k + 3;
    }
    size_t n = real_short(v, buf);
    return n ? n : real_printf(v, buf);
}

static void put_string(struct out *o, const char *s, size_t n)
{
    put_char(o, '"');
    size_t run = 0; /* bytes from s + run on are not written yet */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        put(o, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0};
        size_t len = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = "0123456789ABCDEF"[c >> 4];
            esc[5] = "0123456789ABCDEF"[c & 15];
            len = 6;
        }
        put(o, esc, len);
    }
    put(o, s + run, n - run);
    put_char(o, '"');
}

static void put_value(struct out *o, const json_t *v, unsigned depth)
{
    char num[32];
    if (depth > MAX_DEPTH) {
        o->failed = true;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        put_char(o, '{');
        bool first = true;
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            if (!first) put_char(o, ',');
            first = false;
            const char *key = json_object_iter_key(it);
            put_string(o, key, strlen(key));
            put_char(o, ':');
            put_value(o, json_object_iter_value(it), depth + 1);
        }
        put_char(o, '}');
        return;
    }
    case JSON_ARRAY: {
        put_char(o, '[');
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n; i++) {
            if (i) put_char(o, ',');
            put_value(o, json_array_get(v, i), depth + 1);
        }
        put_char(o, ']');
        return;
    }
    case JSON_STRING:
        put_string(o, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        put(o, num, fmt_i64((long long)json_integer_value(v), num));
        return;
    case JSON_REAL: {
        size_t n = json_text_real(json_real_value(v), num);
        if (!n) o->failed = true;
        put(o, num, n);
        return;
    }
    case JSON_TRUE:
        put(o, "true", 4);
        return;
    case JSON_FALSE:
        put(o, "false", 5);
        return;
    case JSON_NULL:
        put(o, "null", 4);
        return;
    }
}

char *json_text(const json_t *v)
{
    struct out o = {0};
    if (!v || (!json_is_object(v) && !json_is_array(v))) /* as json_dumps without ENCODE_ANY */
        return NULL;
    put_value(&o, v, 0);
    put_char(&o, '\0');
    if (o.failed) {
        free(o.p);
        return NULL;
    }
    return o.p;
}
