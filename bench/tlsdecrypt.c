/* The cost of reading SIP over TLS: a capture (bench/make_tls_pcap.py) decoded whole, over
 * and over for at least the given seconds of CPU time, with the key log and without it (the same
 * frames, TLS followed but no record opened). Prints "records seconds_with
 * seconds_without passes ns_per_record" in CPU time: the difference over the records is the cost of one decrypted
 * record (key schedule once per connection, one AEAD open and the SIP parse of its
 * plaintext), beside the decoder's own cost of the same frames. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "decode/decode.h"

/* CPU time of this process: the bench shares its cores, and wall time would count the
 * other programs' turns */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct frame {
    struct pcap_pkthdr h;
    u_char *d;
};

static double run(const struct frame *fr, size_t n, const char *keylog, unsigned passes,
                  struct decode_stats *st)
{
    double t0 = cpu_now();
    for (unsigned p = 0; p < passes; p++) {
        struct decode_config cfg;
        decode_config_default(&cfg);
        cfg.tls_keylogs = keylog ? &keylog : NULL;
        cfg.n_tls_keylogs = keylog ? 1 : 0;
        struct decode_handlers h = {0};
        struct decoder *d = decoder_new(&cfg, &h);
        if (!d)
            exit(1);
        for (size_t i = 0; i < n; i++) {
            struct packet pkt = {.frame = i + 1,
                                 .ts = (ptime_t)fr[i].h.ts.tv_sec * PTIME_SEC +
                                       (ptime_t)fr[i].h.ts.tv_usec * 1000,
                                 .caplen = fr[i].h.caplen, .wirelen = fr[i].h.len,
                                 .linktype = 1, .data = fr[i].d};
            decoder_frame(d, &pkt);
        }
        decoder_get_stats(d, st);
        decoder_free(d);
    }
    return cpu_now() - t0;
}

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    if (argc < 3) {
        fprintf(stderr, "usage: tlsdecrypt FILE.pcap KEYLOG [SECONDS]\n");
        return 2;
    }
    double secs = argc > 3 ? atof(argv[3]) : 2.0;
    pcap_t *pc = pcap_open_offline(argv[1], err);
    if (!pc) {
        fprintf(stderr, "tlsdecrypt: %s\n", err);
        return 1;
    }
    struct frame *fr = NULL;
    size_t n = 0, cap = 0;
    struct pcap_pkthdr *h;
    const u_char *d;
    while (pcap_next_ex(pc, &h, &d) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            fr = realloc(fr, cap * sizeof *fr);
        }
        fr[n].h = *h;
        fr[n].d = malloc(h->caplen);
        memcpy(fr[n].d, d, h->caplen);
        n++;
    }
    pcap_close(pc);
    struct decode_stats with, without;
    unsigned passes = 1;
    double t = run(fr, n, argv[2], 1, &with);
    if (t < secs)
        passes = (unsigned)(secs / (t > 1e-6 ? t : 1e-6)) + 1;
    t = run(fr, n, argv[2], passes, &with);
    double t2 = run(fr, n, NULL, passes, &without);
    if (!with.tls_records || with.errors[DR_TLS_BAD_RECORD]) {
        fprintf(stderr, "tlsdecrypt: nothing decrypted in %s\n", argv[1]);
        return 1;
    }
    printf("%llu %.3f %.3f %u %.0f\n", (unsigned long long)with.tls_records, t, t2, passes,
           (t - t2) / ((double)with.tls_records * passes) * 1e9);
    return 0;
}
