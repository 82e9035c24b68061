/* The libpcap read floor: the cheapest possible pass over a capture (pcap_next_ex and
 * nothing else). sipscope's speed is reported as a ratio to this, measured in the same
 * run on the same file. Prints "packets bytes". */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    if (argc != 2) {
        fprintf(stderr, "usage: readfloor FILE\n");
        return 2;
    }
    pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) {
        fprintf(stderr, "readfloor: %s\n", err);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned long long n = 0, bytes = 0;
    unsigned x = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        n++;
        bytes += h->caplen;
        x += d[0]; /* touch the frame, as any reader must */
    }
    pcap_close(p);
    printf("%llu %llu %u\n", n, bytes, x & 1);
    return 0;
}
