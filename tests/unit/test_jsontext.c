/* cli/jsontext.c against the reference it copies, jansson's own json_dumps(JSON_COMPACT |
 * JSON_REAL_PRECISION(16)): the same bytes for every value tried. Reals are where the fast
 * path can go wrong, so they are tried by the hundred thousand: the short decimals the
 * output is made of (figures to 0.01, times to the microsecond, from integers and from
 * nanoseconds), their neighbours one ulp away, the edges of the fast path's range, and
 * doubles of random bits; then trees with every control character, quotes, UTF-8,
 * embedded NULs, extreme integers and nesting. */
#include <criterion/criterion.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/jsontext.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned tried;

/* One real both ways. */
static void same_real(double v)
{
    if (!isfinite(v))
        return;
    json_t *a = json_array();
    json_array_append_new(a, json_real(v));
    char *want = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(16));
    char *got = json_text(a);
    cr_assert_not_null(want);
    cr_assert_not_null(got);
    cr_assert_str_eq(got, want, "%.17g: %s, jansson %s", v, got, want);
    free(want);
    free(got);
    json_decref(a);
    tried++;
}

Test(jsontext, hundredths_and_thousandths)
{
    for (long k = -20000; k <= 700000; k++) {
        same_real((double)k / 100.0);
        if (k % 7 == 0)
            same_real((double)k / 1000.0);
    }
}

Test(jsontext, epoch_times)
{
    /* ptime_to_epoch_s: nanoseconds / 1e9, from microsecond and nanosecond captures */
    for (int i = 0; i < 200000; i++) {
        int64_t us = 1700000000000000LL + (int64_t)(next() % 400000000000000ULL);
        same_real((double)us / 1e6);
        same_real((double)(us * 1000) / 1e9);
        same_real((double)(us * 1000 + (int64_t)(next() % 1000)) / 1e9);
    }
}

Test(jsontext, neighbours_and_edges)
{
    static const double edges[] = {1e-4, 9e9, 8999999999.999999, 0.1, 0.2, 0.3, 1.0, 10.0,
                                   100.0, 1e9, 999999999.999999, 0.0001234, 9.99, 8.0,
                                   9.999999999999998, 99.99, 1e15, 1e16, 1e-5, 5e-324,
                                   DBL_MAX, 123456789.123456, 0.000100000000000001};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        double v = edges[i], up = v, down = v;
        for (int k = 0; k < 8; k++) {
            same_real(up);
            same_real(-up);
            same_real(down);
            up = nextafter(up, INFINITY);
            down = nextafter(down, 0);
        }
    }
    same_real(0.0);
    same_real(-0.0);
    for (int i = 0; i < 100000; i++) { /* short decimals one ulp off: must not print short */
        double v = (double)(int64_t)(next() % 900000000000ULL) / 100.0;
        same_real(nextafter(v, INFINITY));
        same_real(nextafter(v, 0));
    }
}

Test(jsontext, random_doubles)
{
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = next();
        double v;
        memcpy(&v, &bits, sizeof v);
        same_real(v);
        /* and in the range figures live in */
        same_real((double)(next() % 1000000000ULL) / (double)(1 + next() % 100000));
    }
}

static json_t *random_tree(int depth)
{
    switch (next() % (depth > 4 ? 6 : 8)) {
    case 0: {
        char s[40];
        size_t n = next() % sizeof s;
        for (size_t i = 0; i < n; i++)
            s[i] = (char)(next() % 128); /* every ASCII byte, NUL and controls too */
        return json_stringn(s, n);
    }
    case 1:
        return json_string("caf\xc3\xa9 \xe2\x82\xac \"quoted\" back\\slash / tab\t");
    case 2: {
        static const json_int_t ints[] = {0, -1, 1, INT64_MIN, INT64_MAX, 1234567890123};
        return json_integer(next() % 2 ? ints[next() % 6] : (json_int_t)next());
    }
    case 3:
        return json_real((double)(int64_t)(next() % 100000) / 100.0);
    case 4:
        return next() % 3 ? json_true() : next() % 2 ? json_false() : json_null();
    case 5: {
        uint64_t bits = next() & ~(0x7ffull << 52); /* a finite double of random bits */
        double v;
        memcpy(&v, &bits, sizeof v);
        return json_real(v);
    }
    case 6: {
        json_t *a = json_array();
        for (int i = (int)(next() % 5); i > 0; i--)
            json_array_append_new(a, random_tree(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (int i = (int)(next() % 6); i > 0; i--) {
            char key[16];
            snprintf(key, sizeof key, "%s%d", i % 2 ? "k\n\"" : "key", (int)(next() % 100));
            json_object_set_new(o, key, random_tree(depth + 1));
        }
        return o;
    }
    }
}

Test(jsontext, trees)
{
    for (int i = 0; i < 20000; i++) {
        json_t *t = json_object();
        json_object_set_new(t, "tree", random_tree(0));
        json_object_set_new(t, "empty_object", json_object());
        json_object_set_new(t, "empty_array", json_array());
        char *want = json_dumps(t, JSON_COMPACT | JSON_REAL_PRECISION(16));
        char *got = json_text(t);
        cr_assert_not_null(want);
        cr_assert_not_null(got);
        cr_assert_str_eq(got, want);
        free(want);
        free(got);
        json_decref(t);
    }
    json_t *s = json_string("not an object");
    cr_assert_null(json_text(s)); /* as json_dumps without JSON_ENCODE_ANY */
    json_decref(s);
}
