/* See ids.h. */
#include "ids.h"

#include <stdio.h>
#include <string.h>

const char *render_call_id(uint64_t seq, char buf[RENDER_ID_LEN])
{
    snprintf(buf, RENDER_ID_LEN, RENDER_CALL_FMT, (unsigned long long)seq);
    return buf;
}

const char *render_stream_id(uint64_t seq, char buf[RENDER_ID_LEN])
{
    snprintf(buf, RENDER_ID_LEN, RENDER_STREAM_FMT, (unsigned long long)seq);
    return buf;
}

bool render_call_seq(const char *p, size_t n, uint64_t *seq)
{
    if (n < 6 || n > 25 || strncmp(p, "call-", 5) || p[5] == '0') return false;
    uint64_t v = 0;
    for (size_t i = 5; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *seq = v;
    return true;
}
