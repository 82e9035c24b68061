/* libFuzzer harness for the HEP parser (v1, v2, v3): one input is one HEP packet, and
 * also a HEPv3 stream (packets back to back, as over TCP). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/hep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1); /* exact size: over-reads are ASan reports */
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct hep_msg h;
    size_t used, off = 0;
    enum decode_reason why;
    hep_looks_like(buf, size);
    while (off < size && hep_parse(buf + off, size - off, &h, &used, &why) == HEP_OK && used) {
        volatile uint8_t x = 0;
        for (size_t i = 0; i < h.len; i++)
            x ^= h.payload[i];
        (void)x;
        off += used;
    }
    free(buf);
    return 0;
}
