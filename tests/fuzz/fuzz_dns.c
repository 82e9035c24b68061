/* libFuzzer harness for the DNS message parser (decode/dns.c): the input is one message
 * as UDP carries it, then the same bytes as a TCP stream of length-prefixed messages
 * (RFC 1035 §4.2.2). Every name it keeps must be printable text ending in a NUL. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct dns_msg *m)
{
    if (strnlen(m->qname, DNS_NAME_MAX) == DNS_NAME_MAX)
        __builtin_trap();
    for (unsigned i = 0; i < m->nanswers; i++)
        if (strnlen(m->answers[i].name, DNS_NAME_MAX) == DNS_NAME_MAX ||
            strnlen(m->answers[i].target, DNS_NAME_MAX) == DNS_NAME_MAX)
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dns_msg m;
    uint8_t *buf = malloc(size ? size : 1); /* exact size: a read past the end is caught */
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    if (dns_parse(buf, size, &m) == DR__COUNT)
        check(&m);
    for (size_t off = 0; off + 2 <= size;) {
        size_t n = (size_t)buf[off] << 8 | buf[off + 1];
        if (n > size - off - 2)
            break;
        if (dns_parse(buf + off + 2, n, &m) == DR__COUNT)
            check(&m);
        off += 2 + n;
    }
    free(buf);
    return 0;
}
