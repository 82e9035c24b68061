/* libFuzzer harness for the HEP parser (v1, v2, v3): one input is one HEP packet, and
 * also a HEPv3 stream (packets back to back, as over TCP). Every packet that carries RTCP
 * (type 5) or a quality report (0x22) is filed as a collector files it (engine/hep_in.h:
 * Homer's JSON or raw RTCP, the stream it makes rendered as JSON), and the whole input is
 * also read as both JSON reports. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/hep.h"
#include "engine/hep_in.h"
#include "render/hep_read.h"
#include "render/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A call for the correlation id "c1" only: attached and orphaned reports both */
static uint64_t call_of(void *ctx, struct sv cid)
{
    (void)ctx;
    return cid.n == 2 && memcmp(cid.p, "c1", 2) == 0;
}

static void done(void *user, const struct rtp_stream *st)
{
    (void)user;
    json_t *o = render_stream_json(st, false);
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1); /* exact size: over-reads are ASan reports */
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct stream_table *seqs = stream_table_new(4, 1, NULL, NULL, NULL);
    struct hep_in *in = seqs ? hep_in_new(4, 1, seqs, done, NULL, call_of, NULL) : NULL;
    struct hep_msg h;
    size_t used, off = 0;
    enum decode_reason why;
    hep_looks_like(buf, size);
    while (off < size && hep_parse(buf + off, size - off, &h, &used, &why) == HEP_OK && used) {
        volatile uint8_t x = 0;
        for (size_t i = 0; i < h.len; i++)
            x ^= h.payload[i];
        (void)x;
        if (in && (h.payload_type == HEP_PT_RTCP || h.payload_type == HEP_PT_JSON_QOS))
            hep_in_report(in, &h, h.time);
        off += used;
    }
    if (in) {
        hep_in_tick(in, 10 * PTIME_SEC, PTIME_SEC);
        hep_in_finish(in);
    }
    struct rtcp_info info;
    struct rtp_stream st;
    memset(&st, 0, sizeof st);
    render_hep_read_rtcp((const char *)buf, size, &info);
    render_hep_read_stream((const char *)buf, size, &st);
    hep_in_free(in);
    stream_table_free(seqs);
    free(buf);
    return 0;
}
