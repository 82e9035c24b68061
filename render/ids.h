/* The ids of the output: "call-N" and "stream-N", N the record's number (1, 2, ...; 0 is
 * "none" and has no id). One format, written and read here only, so that the JSON, the
 * text report, the ladder, the API's routes and `export --call` agree on every byte. */
#ifndef SIPSCOPE_RENDER_IDS_H
#define SIPSCOPE_RENDER_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* For printf-style writers (log lines, a file name): pass (unsigned long long)seq. */
#define RENDER_CALL_FMT   "call-%llu"
#define RENDER_STREAM_FMT "stream-%llu"

/* "stream-" and 20 digits, and the NUL */
#define RENDER_ID_LEN 28

/* The id of call seq (seq > 0) in buf; returns buf. */
const char *render_call_id(uint64_t seq, char buf[RENDER_ID_LEN]);
const char *render_stream_id(uint64_t seq, char buf[RENDER_ID_LEN]);

/* Reads a call id: the n bytes at p are exactly "call-" and a positive decimal number
 * without a leading zero that fits 64 bits; anything else (a Call-ID, "call-07",
 * "call-1x") is false. */
bool render_call_seq(const char *p, size_t n, uint64_t *seq);

#endif
