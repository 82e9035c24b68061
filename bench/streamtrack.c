/* The stream tracker alone: RTP packets of a capture are decoded once into memory, then
 * timed through rtp_parse() + stream_rtp() (the RTP path of the analysis: sequence, A.8
 * jitter, three jitter buffers, timeline), R times. Prints: packets best_seconds streams.
 *   streamtrack FILE [RUNS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchclock.h"
#include "capture/capture.h"
#include "decode/decode.h"
#include "decode/rtp.h"
#include "metrics/stream.h"
#include "tests/support/media_fixture.h"

struct rec {
    struct l4_packet l4;
    struct packet pkt;
    uint8_t *payload;
};

struct recs {
    struct rec *v;
    size_t n, cap;
    struct decoder *dec;
};

static void on_udp(void *user, const struct l4_packet *l4)
{
    struct recs *r = user;
    struct rtp_hdr h;
    if (!rtp_parse(l4->payload, l4->len, &h) || l4->sport < 1024 || l4->dport < 1024)
        return;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4096;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        if (!r->v)
            exit(1);
    }
    struct rec *x = &r->v[r->n++];
    x->l4 = *l4;
    x->pkt = *l4->pkt;
    x->pkt.data = NULL;
    x->payload = malloc(l4->len);
    if (!x->payload)
        exit(1);
    memcpy(x->payload, l4->payload, l4->len);
}

static bool on_packet(void *user, const struct packet *pkt)
{
    decoder_frame(((struct recs *)user)->dec, pkt);
    return true;
}

static const struct fixture_pt pts[] = {{0, 8000, "PCMU"}, {8, 8000, "PCMA"}, {0, 0, NULL}};

static void done(void *user, const struct rtp_stream *s)
{
    (void)s;
    ++*(size_t *)user;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: streamtrack FILE [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    struct capture_source src;
    char err[256];
    const char *files[] = {argv[1]};
    if (!capture_open_files(&src, files, 1, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct recs r = {0};
    struct decode_config cfg;
    decode_config_default(&cfg);
    struct decode_handlers h = {.udp = on_udp, .user = &r};
    r.dec = decoder_new(&cfg, &h);
    volatile int stop = 0;
    capture_run(&src, on_packet, &r, &stop);
    decoder_finish(r.dec);
    decoder_free(r.dec);
    capture_close(&src);
    for (size_t i = 0; i < r.n; i++) {
        r.v[i].l4.pkt = &r.v[i].pkt;
        r.v[i].l4.payload = r.v[i].payload;
    }
    double best = 1e9;
    size_t streams = 0;
    for (int k = 0; k < runs; k++) {
        streams = 0;
        struct stream_table *t = stream_table_new(1 << 16, 7, done, &streams, NULL);
        double t0 = bench_now();
        for (size_t i = 0; i < r.n; i++) {
            struct rtp_hdr rh;
            if (rtp_parse(r.v[i].l4.payload, r.v[i].l4.len, &rh))
                stream_rtp(t, &r.v[i].l4, &rh, fixture_announced, (void *)pts);
        }
        stream_finish(t);
        double sec = bench_now() - t0;
        stream_table_free(t);
        if (sec < best)
            best = sec;
    }
    printf("%zu %.6f %zu\n", r.n, best, streams);
    for (size_t i = 0; i < r.n; i++)
        free(r.v[i].payload);
    free(r.v);
    return 0;
}
