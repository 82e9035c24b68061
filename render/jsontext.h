/* The text of a JSON value, as json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(16)) writes
 * it, byte for byte, at a fraction of the cost (json_dumps was a ninth of the
 * analysis, most of it glibc's printf of doubles: a stream's timeline is sixty of them).
 * Numbers that are short decimals (times to the microsecond, figures to 0.01) are written
 * from their digits, after an exact check that %.16g would print the same; the rest go
 * through snprintf as jansson does. tests/unit/test_jsontext.c holds it to json_dumps. */
#ifndef SIPSCOPE_JSONTEXT_H
#define SIPSCOPE_JSONTEXT_H

#include <jansson.h>
#include <stddef.h>

/* Caller frees; NULL when out of memory or past JSONTEXT_MAX_BYTES (as json_dumps fails). */
char *json_text(const json_t *v);
#define JSONTEXT_MAX_BYTES ((size_t)64 << 20)

/* A real as jansson writes it at precision 16 into buf (at least 32 bytes): its length. */
size_t json_text_real(double v, char *buf);

#endif
