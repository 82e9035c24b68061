/* libFuzzer harness for the SIP text parser and its lazy value helpers: the input is one
 * message, parsed as a datagram and as a stream, then every header value goes through
 * the helpers that read it (lists, name-addr, URI, Via, CSeq, parameters, unfolding,
 * Session-ID and X-CID);
 * last, its credentials are masked (sip_mask_credentials), which may only write '*'. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/sip.h"

static void values(const struct sip_msg *m)
{
    char buf[256];
    for (unsigned i = 0; i < m->nhdrs; i++) {
        struct sv rest = m->hdrs[i].value, item;
        sip_unfold(rest, buf, sizeof buf);
        while (sip_list_next(&rest, &item)) {
            struct sip_nameaddr na;
            struct sip_uri u;
            struct sip_via via;
            bool found;
            if (sip_nameaddr_parse(item, &na)) {
                sip_param(na.params, "tag", &found);
                if (sip_uri_parse(na.uri, &u))
                    sip_param(u.params, "transport", &found);
            }
            if (sip_via_parse(item, &via)) {
                sip_param(via.params, "branch", &found);
                sip_param(via.params, "rport", &found);
            }
        }
        uint32_t num;
        struct sv meth;
        uint64_t v;
        sip_cseq_parse(m->hdrs[i].value, &num, &meth);
        bool f;
        sip_auth_param(m->hdrs[i].value, "nonce", &f);
        sip_uint_parse(m->hdrs[i].value, UINT32_MAX, &v);
    }
    char local[33], remote[33], named[128];
    if (sip_session_id(m, local, remote) && (strlen(local) % 32 || strlen(remote) % 32))
        __builtin_trap(); /* a UUID is whole or not given */
    sip_named_call_id(m, named, sizeof named);
    if (m->is_request) {
        struct sip_uri u;
        sip_uri_parse(m->uri, &u);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sip_msg m;
    /* an exact-size copy, so reading one byte past the input is caught by ASan */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    if (sip_parse(buf, size, 0, &m) == SIP_OK)
        values(&m);
    size_t off = 0;
    while (off < size && sip_parse(buf + off, size - off, SIP_FRAME_STREAM, &m) == SIP_OK &&
           m.len > 0) {
        values(&m);
        off += m.len;
    }
    sip_looks_like(buf, size);
    /* masking writes into the text: only '*' over what was there, never a line break */
    sip_mask_credentials(buf, size);
    for (size_t i = 0; i < size; i++)
        if (buf[i] != (char)data[i] && (buf[i] != '*' || data[i] == '\r' || data[i] == '\n'))
            __builtin_trap();
    free(buf);
    return 0;
}
