/* SIP parser speed alone: parses every SIP message found in a capture (UDP payloads that
 * start with a SIP start line), over and over for at least the given seconds, and prints
 * "messages seconds bytes". No correlation, no output: the parser's own cost. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchclock.h"
#include "decode/sip.h"

struct blob {
    char *p;
    size_t n;
};

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    if (argc < 2) {
        fprintf(stderr, "usage: sipparse FILE.pcap [SECONDS]\n");
        return 2;
    }
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    pcap_t *pc = pcap_open_offline(argv[1], err);
    if (!pc) {
        fprintf(stderr, "sipparse: %s\n", err);
        return 1;
    }
    struct blob *msgs = NULL;
    size_t n = 0, cap = 0;
    struct pcap_pkthdr *h;
    const u_char *d;
    while (pcap_next_ex(pc, &h, &d) == 1) {
        /* Ethernet + IPv4 without options + UDP, as the generator writes them */
        if (h->caplen < 42 || d[12] != 8 || d[13] != 0 || d[23] != 17)
            continue;
        const char *p = (const char *)d + 42;
        size_t len = h->caplen - 42;
        if (!sip_looks_like(p, len))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            msgs = realloc(msgs, cap * sizeof *msgs);
        }
        msgs[n].p = malloc(len);
        memcpy(msgs[n].p, p, len);
        msgs[n++].n = len;
    }
    pcap_close(pc);
    if (!n) {
        fprintf(stderr, "sipparse: no SIP in %s\n", argv[1]);
        return 1;
    }
    static struct sip_msg m;
    unsigned long long done = 0, bytes = 0, sink = 0;
    double t0 = bench_now(), t;
    do {
        for (size_t i = 0; i < n; i++) {
            if (sip_parse(msgs[i].p, msgs[i].n, 0, &m) == SIP_OK)
                sink += m.nhdrs;
            bytes += msgs[i].n;
        }
        done += n;
    } while ((t = bench_now() - t0) < secs);
    printf("%llu %.3f %llu %llu\n", done, t, bytes, sink & 1);
    return 0;
}
