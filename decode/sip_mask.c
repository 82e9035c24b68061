/* Masking the credentials of Authorization and Proxy-Authorization fields in stored or shown
 * SIP text (see sip.h): a Digest's response, any other scheme's whole value. The text keeps its
 * length, so frame offsets stay true. */
#include "sip.h"

#include <string.h>
#include <strings.h>

static inline bool blank(char c) { return c == ' ' || c == '\t'; }

static void mask(char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\r' && p[i] != '\n' && !blank(p[i]) && p[i] != '"')
            p[i] = '*';
}

/* Whether line [p, p+n) opens an Authorization or Proxy-Authorization field; *value: where
 * its value starts. */
static bool credentials_field(const char *p, size_t n, size_t *value)
{
    static const char *const names[] = {"Authorization", "Proxy-Authorization"};
    for (size_t k = 0; k < 2; k++) {
        size_t nl = strlen(names[k]), i = nl;
        if (n < nl || strncasecmp(p, names[k], nl) != 0)
            continue;
        while (i < n && blank(p[i]))
            i++;
        if (i < n && p[i] == ':') {
            *value = i + 1;
            return true;
        }
    }
    return false;
}

/* Masks the fields of one header section starting at text[line]; returns where it ended
 * (after the blank line, or n). */
static size_t mask_section(char *text, size_t n, size_t line, unsigned *masked)
{
    while (line < n) {
        const char *nl = memchr(text + line, '\n', n - line);
        size_t end = nl ? (size_t)(nl - text) + 1 : n, len = end - line, v;
        if (text[line] == '\n' || (len == 2 && text[line] == '\r'))
            return end; /* the blank line: the body follows */
        if (!credentials_field(text + line, len, &v)) {
            line = end;
            continue;
        }
        while (end < n && blank(text[end])) { /* folded continuation lines (RFC 3261 §7.3.1) */
            nl = memchr(text + end, '\n', n - end);
            end = nl ? (size_t)(nl - text) + 1 : n;
        }
        struct sv value = sv_make(text + line + v, end - line - v);
        struct sv scheme = sip_auth_scheme(value);
        if (scheme.n && sv_ieq_cstr(scheme, "Digest")) {
            bool found;
            struct sv r = sip_auth_param(value, "response", &found);
            if (found && r.n) {
                mask(text + (r.p - text), r.n);
                (*masked)++;
            }
        } else if (scheme.n) {
            size_t from = (size_t)(scheme.p - text) + scheme.n;
            mask(text + from, end - from);
            (*masked)++;
        }
        line = end;
    }
    return n;
}

/* RFC 4568 §9.1: a=crypto:<tag> <suite> inline:<key||salt>[|lifetime][|MKI:length], key
 * parameters separated by ';'. The base64 key and salt are masked, the rest kept. */
unsigned sip_mask_sdes(char *buf, size_t n)
{
    unsigned masked = 0;
    size_t at = 0;
    const char *a;
    while (at < n && (a = memmem(buf + at, n - at, "a=crypto:", 9))) {
        size_t line = (size_t)(a - buf);
        const char *nl = memchr(a, '\n', n - line);
        size_t end = nl ? (size_t)(nl - buf) : n;
        at = end;
        if (line > 0 && buf[line - 1] != '\n')
            continue; /* not at a line's start */
        for (size_t i = line; i + 7 <= end; i++) {
            if (strncasecmp(buf + i, "inline:", 7) != 0)
                continue;
            size_t k = i + 7, from = k;
            while (k < end && buf[k] != '|' && buf[k] != ';' && buf[k] != '\r' && !blank(buf[k]))
                k++;
            if (k > from) {
                mask(buf + from, k - from);
                masked++;
            }
            i = k;
        }
    }
    return masked;
}

unsigned sip_mask_credentials(char *buf, size_t n)
{
    unsigned masked = sip_mask_sdes(buf, n);
    size_t at = 0;
    const char *sip;
    while (at < n && (sip = memmem(buf + at, n - at, "SIP/2.0", 7))) {
        const char *nl = memchr(sip, '\n', n - (size_t)(sip - buf));
        if (!nl)
            break;
        at = mask_section(buf, n, (size_t)(nl - buf) + 1, &masked);
    }
    return masked;
}
