/* Building one issue: its kind, severity and time, the frames that prove it, its evidence
 * figures, and the text of its summary and diagnosis; see builder.h. */
#include "builder.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void issue_init(struct issue *is, enum issue_kind k, enum issue_severity s, ptime_t t)
{
    memset(is, 0, sizeof *is);
    is->kind = k;
    is->severity = s;
    is->time = t;
}

void issue_frame(struct issue *is, uint64_t f)
{
    if (!f || is->nframes == ISSUE_MAX_FRAMES)
        return;
    for (unsigned i = 0; i < is->nframes; i++)
        if (is->frames[i] == f)
            return;
    is->frames[is->nframes++] = f;
}

void issue_ev_num(struct issue *is, const char *key, double v)
{
    if (is->nev == ISSUE_MAX_EVIDENCE)
        return;
    struct issue_evidence *e = &is->ev[is->nev++];
    e->key = key;
    e->has_num = true;
    e->num = v;
}

void issue_ev_str(struct issue *is, const char *key, const char *fmt, ...)
{
    if (is->nev == ISSUE_MAX_EVIDENCE)
        return;
    struct issue_evidence *e = &is->ev[is->nev++];
    e->key = key;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->str, sizeof e->str, fmt, ap);
    va_end(ap);
}

/* A JSON value (a list, an object of figures) written as text; one that does not fit is
 * left out rather than cut into invalid JSON. */
void issue_ev_json(struct issue *is, const char *key, const char *fmt, ...)
{
    if (is->nev == ISSUE_MAX_EVIDENCE)
        return;
    struct issue_evidence *e = &is->ev[is->nev];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->str, sizeof e->str, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof e->str)
        return;
    e->key = key;
    e->has_num = false;
    e->json = true;
    is->nev++;
}

void issue_say(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

/* Appends to a text already started. */
void issue_more(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

const char *issue_ip(const struct ip_addr *a, char *buf, size_t n)
{
    if (!inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->b, buf, (socklen_t)n))
        snprintf(buf, n, "?");
    return buf;
}

double issue_ms(ptime_t a, ptime_t b)
{
    return (double)(b - a) / 1e6;
}

enum issue_severity issue_band(double v, double warn, double crit)
{
    return v > crit ? SEV_CRITICAL : v > warn ? SEV_WARNING : SEV_INFO;
}
