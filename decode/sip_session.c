/* The keys that tie one leg of a call to another across a B2BUA: RFC 7989's Session-ID
 * (a B2BUA passes it unchanged, §7) and the X-CID family of headers a B2BUA adds to its
 * outgoing INVITE. Both are read from untrusted text: bounded, never past the value. */
#include "sip.h"

#include <string.h>

/* 32 hex digits at v[0..32) into out (lower case); false when they are not. *zero says
 * whether all are '0' (RFC 7989 §6: the null UUID). */
static bool uuid32(const char *p, size_t n, char out[33], bool *zero)
{
    if (n < 32) return false;
    *zero = true;
    for (int i = 0; i < 32; i++) {
        char ch = p[i];
        bool hex = (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f');
        if (!hex) return false;
        out[i] = (char)(ch >= 'A' && ch <= 'F' ? ch | 0x20 : ch);
        *zero &= ch == '0';
    }
    out[32] = '\0';
    /* the UUID is the whole token: what follows is a parameter, or nothing */
    return n == 32 || p[32] == ';' || p[32] == ' ' || p[32] == '\t';
}

bool sip_session_id(const struct sip_msg *m, char local[33], char remote[33])
{
    const struct sip_header *h = sip_hdr(m, SIP_H_SESSION_ID);
    local[0] = remote[0] = '\0';
    if (!h) return false;
    bool zero;
    if (!uuid32(h->value.p, h->value.n, local, &zero)) {
        local[0] = '\0';
        return false;
    }
    if (zero) local[0] = '\0';
    /* RFC 7989 §5: sess-id-param = remote-param / generic-param */
    bool found;
    struct sv params = sv_make(h->value.p + 32, h->value.n - 32);
    struct sv r = sip_param(params, "remote", &found);
    if (found && !(uuid32(r.p, r.n, remote, &zero) && r.n == 32 && !zero)) remote[0] = '\0';
    return true;
}

bool sip_named_call_id(const struct sip_msg *m, char *buf, size_t cap)
{
    static const char *const names[] = {"X-CID", "X-Call-ID", "X-Orig-Call-ID"};
    if (!cap) return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const struct sip_header *h = sip_hdr_by_name(m, sv_cstr(names[i]));
        if (!h || !h->value.n) continue;
        size_t n = sip_unfold(h->value, buf, cap - 1);
        buf[n] = '\0';
        if (n && !memchr(buf, '\0', n)) return true;
    }
    buf[0] = '\0';
    return false;
}
