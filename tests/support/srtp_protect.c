/* Test tool: protects the RTP and RTCP of a generator-written capture with libsrtp2, as an
 * SRTP sender would, so that the analyzer's decryption is checked against libsrtp2 itself.
 *
 *   srtp_protect IN.pcap OUT.pcap DST_IP:PORT:SUITE:BASE64 ...
 *
 * UDP datagrams to DST_IP:PORT are protected as SRTP with that key, those to PORT + 1 as
 * SRTCP (RFC 3550 §11); the IPv4 and UDP lengths and the IPv4 checksum are rewritten.
 * Ethernet and IPv4 without options only: what tests/gen/calls.py writes. Every other frame
 * is copied as it is. Exit status 1 on any error, with a message. */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#define MAX_KEYS 64

struct key {
    uint8_t addr[4];
    uint16_t port;
    srtp_t session;
};

static int b64(char c)
{
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(a, c) : NULL;
    return p ? (int)(p - a) : -1;
}

static int unbase64(const char *s, uint8_t *out, int max)
{
    unsigned acc = 0, bits = 0;
    int n = 0;
    for (; *s && *s != '='; s++) {
        int v = b64(*s);
        if (v < 0) return -1;
        acc = acc << 6 | (unsigned)v;
        if ((bits += 6) >= 8) {
            bits -= 8;
            if (n == max) return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

static bool policy(const char *suite, srtp_policy_t *p)
{
    if (!strcmp(suite, "AES_CM_128_HMAC_SHA1_80")) {
        srtp_crypto_policy_set_rtp_default(&p->rtp);
        srtp_crypto_policy_set_rtcp_default(&p->rtcp);
    } else if (!strcmp(suite, "AES_CM_128_HMAC_SHA1_32")) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
        srtp_crypto_policy_set_rtcp_default(&p->rtcp); /* RFC 4568 §6.2.1: 80-bit SRTCP tag */
    } else if (!strcmp(suite, "AEAD_AES_128_GCM")) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
    } else if (!strcmp(suite, "AEAD_AES_256_GCM")) {
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
    } else {
        return false;
    }
    return true;
}

static bool key_parse(char *arg, struct key *k)
{
    static uint8_t master[64];
    char *ip = strtok(arg, ":"), *port = strtok(NULL, ":"), *suite = strtok(NULL, ":"),
         *key = strtok(NULL, ":");
    srtp_policy_t p;
    memset(&p, 0, sizeof p);
    if (!key || inet_pton(AF_INET, ip, k->addr) != 1 || !policy(suite, &p) ||
        unbase64(key, master, sizeof master) < 28)
        return false;
    k->port = (uint16_t)atoi(port);
    p.ssrc.type = ssrc_any_outbound;
    p.key = master;
    return srtp_create(&k->session, &p) == srtp_err_status_ok;
}

static uint16_t ip_csum(const uint8_t *h)
{
    uint32_t s = 0;
    for (int i = 0; i < 20; i += 2)
        s += i == 10 ? 0 : (uint32_t)(h[i] << 8 | h[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* The frame protected in place (buf has room for the tag); its new length, or 0 to copy it. */
static uint32_t protect(struct key *keys, int nkeys, uint8_t *f, uint32_t len)
{
    if (len < 14 + 20 + 8 + 8 || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 || f[23] != 17)
        return 0;
    uint8_t *ip = f + 14, *udp = ip + 20, *rtp = udp + 8;
    uint16_t dport = (uint16_t)(udp[2] << 8 | udp[3]);
    int n = (int)(len - 14 - 28);
    for (int i = 0; i < nkeys; i++) {
        if (memcmp(ip + 16, keys[i].addr, 4)) continue;
        srtp_err_status_t st;
        if (dport == keys[i].port)
            st = srtp_protect(keys[i].session, rtp, &n);
        else if (dport == keys[i].port + 1)
            st = srtp_protect_rtcp(keys[i].session, rtp, &n);
        else
            continue;
        if (st != srtp_err_status_ok) {
            fprintf(stderr, "srtp_protect: error %d\n", st);
            exit(1);
        }
        uint16_t ul = (uint16_t)(8 + n), tl = (uint16_t)(28 + n);
        udp[4] = (uint8_t)(ul >> 8), udp[5] = (uint8_t)ul;
        ip[2] = (uint8_t)(tl >> 8), ip[3] = (uint8_t)tl;
        uint16_t c = ip_csum(ip);
        ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
        return (uint32_t)(14 + 28 + n);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct key keys[MAX_KEYS];
    char err[PCAP_ERRBUF_SIZE];
    if (argc < 4 || argc - 3 > MAX_KEYS || srtp_init() != srtp_err_status_ok) {
        fprintf(stderr, "usage: srtp_protect IN.pcap OUT.pcap DST_IP:PORT:SUITE:BASE64 ...\n");
        return 1;
    }
    for (int i = 3; i < argc; i++)
        if (!key_parse(argv[i], &keys[i - 3])) {
            fprintf(stderr, "srtp_protect: bad key argument %d\n", i - 2);
            return 1;
        }
    pcap_t *in = pcap_open_offline(argv[1], err);
    if (!in) {
        fprintf(stderr, "srtp_protect: %s\n", err);
        return 1;
    }
    pcap_dumper_t *out = pcap_dump_open(in, argv[2]);
    if (!out) {
        fprintf(stderr, "srtp_protect: %s\n", pcap_geterr(in));
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    static uint8_t buf[65536 + 64];
    unsigned long done = 0;
    while (pcap_next_ex(in, &h, &data) == 1) {
        struct pcap_pkthdr oh = *h;
        if (h->caplen == h->len && h->caplen <= 65536) {
            memcpy(buf, data, h->caplen);
            uint32_t n = protect(keys, argc - 3, buf, h->caplen);
            if (n) {
                oh.caplen = oh.len = n;
                data = buf;
                done++;
            }
        }
        pcap_dump((u_char *)out, &oh, data);
    }
    pcap_dump_close(out);
    pcap_close(in);
    for (int i = 0; i < argc - 3; i++)
        srtp_dealloc(keys[i].session);
    fprintf(stderr, "srtp_protect: %lu packets protected\n", done);
    return done ? 0 : 1;
}
