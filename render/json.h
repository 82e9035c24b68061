/* The small pieces every OUTPUT object is made of, so that each is written one way:
 * null for what is absent (docs/output.md: never omitted, never 0 meaning "unknown"),
 * times as epoch seconds to the microsecond, durations in milliseconds, figures rounded
 * for people, and one UTF-8 policy for text that came off the network.
 *
 * The UTF-8 policy: JSON text must be Unicode (RFC 8259 §8.1), and SIP is attacker
 * input. Bytes that do not form UTF-8 as RFC 3629 §4 defines it (no overlongs, no
 * surrogates, nothing past U+10FFFF) become U+FFFD, one for each such byte; everything
 * else is kept as it is, NUL included (JSON escapes it), so no value is dropped or
 * replaced whole and two different wrong bytes stay visible where they were. */
#ifndef SIPSCOPE_RENDER_JSON_H
#define SIPSCOPE_RENDER_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ptime.h"
#include "common/sv.h"

/* n bytes at p as a JSON string under the policy above (NULL p: null). */
json_t *render_textn(const void *p, size_t n);
/* A C string, or null when s is NULL. */
json_t *render_str_or_null(const char *s);
/* A string view, or null when it points nowhere. */
json_t *render_sv(struct sv v);
/* The policy applied to n bytes: a NUL-terminated copy (caller frees), its length in
 * *outlen; NULL when out of memory. */
char *render_utf8_clean(const void *p, size_t n, size_t *outlen);

/* A packet time as epoch seconds, or null when !have. */
json_t *render_time(bool have, ptime_t t);
/* Milliseconds from one packet time to another (to the microsecond), null when either is 0. */
json_t *render_ms_since(ptime_t from, ptime_t to);
/* v rounded for people to unit (0.01 for R and MOS, 0.001 for milliseconds). */
json_t *render_round(double v, double unit);
/* v, or null when negative (a figure not known). */
json_t *render_num_or_null(double v);
/* o[key] = v as a JSON integer. */
void render_set_u64(json_t *o, const char *key, uint64_t v);

#endif
