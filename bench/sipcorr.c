/* SIP through parse + correlate (the signaling target): every frame of a capture is
 * read into memory first, then, R times over, decoded (Ethernet/IP/UDP/TCP, SIP, SDP) and
 * correlated into transactions, dialogs, calls and registrations, with no output and no
 * media. Prints "messages best_seconds calls registrations". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchclock.h"
#include "capture/capture.h"
#include "correlate/correlate.h"
#include "decode/decode.h"

struct frames {
    struct packet *v;
    size_t n, cap;
};

static bool keep(void *user, const struct packet *pkt)
{
    struct frames *f = user;
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 4096;
        if (!(f->v = realloc(f->v, f->cap * sizeof *f->v)))
            exit(1);
    }
    uint8_t *d = malloc(pkt->caplen ? pkt->caplen : 1);
    if (!d)
        exit(1);
    memcpy(d, pkt->data, pkt->caplen);
    f->v[f->n] = *pkt;
    f->v[f->n++].data = d;
    return true;
}

struct run {
    struct correlator *corr;
    size_t messages, calls, regs;
};

static void on_sip(void *user, const struct sip_event *ev)
{
    struct run *r = user;
    struct msg_verdict v;
    correlate_sip(r->corr, ev, &v);
    r->messages++;
}

static void on_call(void *user, const struct call *c)
{
    (void)c;
    ((struct run *)user)->calls++;
}

static void on_reg(void *user, const struct registration *g)
{
    (void)g;
    ((struct run *)user)->regs++;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sipcorr FILE [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    struct capture_source src;
    char err[256];
    const char *files[] = {argv[1]};
    if (!capture_open_files(&src, files, 1, err, sizeof err)) {
        fprintf(stderr, "sipcorr: %s\n", err);
        return 1;
    }
    struct frames f = {0};
    volatile int stop = 0;
    capture_run(&src, keep, &f, &stop);
    capture_close(&src);
    double best = 1e9;
    struct run r = {0};
    for (int k = 0; k < runs; k++) {
        memset(&r, 0, sizeof r);
        struct correlate_config kcfg;
        correlate_config_default(&kcfg);
        struct decode_config dcfg;
        decode_config_default(&dcfg);
        struct decode_handlers dh = {.sip = on_sip, .user = &r};
        double t0 = bench_now();
        r.corr = correlate_new(&kcfg, on_call, &r);
        correlate_on_registration(r.corr, on_reg);
        struct decoder *dec = decoder_new(&dcfg, &dh);
        if (!r.corr || !dec)
            return 1;
        for (size_t i = 0; i < f.n; i++)
            decoder_frame(dec, &f.v[i]);
        decoder_finish(dec);
        correlate_finish(r.corr);
        double sec = bench_now() - t0;
        decoder_free(dec);
        correlate_free(r.corr);
        if (sec < best)
            best = sec;
    }
    printf("%zu %.6f %zu %zu\n", r.messages, best, r.calls, r.regs);
    for (size_t i = 0; i < f.n; i++)
        free((void *)f.v[i].data);
    free(f.v);
    return 0;
}
