/* See hep_out.h. HEPv3 (the HEP3 draft, as Homer documents it): "HEP3", the total length,
 * then chunks of vendor 0: type, length (6-byte chunk header included), value; all
 * big-endian. */
#include "hep_out.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/sockaddr.h"

struct hep_out {
    int fd;
    uint32_t capture_id;
    char *key; /* owned, NULL none */
    uint64_t sent, failed;
    unsigned char buf[65535];
};

struct hep_out *hep_out_open(const char *to, uint32_t capture_id, const char *auth_key, char *err,
                             size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (!sockaddr_parse(to, NULL, false, &ss, &sl)) {
        snprintf(err, errlen, "--hep-out %s: want ADDR:PORT (an address, not a name)", to);
        return NULL;
    }
    struct hep_out *h = calloc(1, sizeof *h);
    if (!h || (auth_key && !(h->key = strdup(auth_key)))) {
        free(h);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->capture_id = capture_id;
    /* connected: send() then needs no address, and errors come back */
    if ((h->fd = socket(ss.ss_family, SOCK_DGRAM, 0)) < 0 ||
        connect(h->fd, (struct sockaddr *)&ss, sl) != 0) {
        snprintf(err, errlen, "--hep-out %s: %s", to, strerror(errno));
        if (h->fd >= 0)
            close(h->fd);
        free(h->key);
        free(h);
        return NULL;
    }
    return h;
}

static size_t chunk(unsigned char *p, size_t at, size_t cap, uint16_t type, const void *v, size_t n)
{
    if (at + 6 + n > cap)
        return cap + 1; /* too long: the caller drops the message */
    p[at] = 0;
    p[at + 1] = 0;
    p[at + 2] = (unsigned char)(type >> 8);
    p[at + 3] = (unsigned char)type;
    p[at + 4] = (unsigned char)((6 + n) >> 8);
    p[at + 5] = (unsigned char)(6 + n);
    memcpy(p + at + 6, v, n);
    return at + 6 + n;
}

void hep_out_sip(struct hep_out *h, const struct sip_event *ev)
{
    const struct l4_packet *l4 = ev->l4;
    unsigned char *b = h->buf;
    const size_t cap = sizeof h->buf;
    bool v6 = l4->src.family == 6;
    uint8_t family = v6 ? 10 : 2, proto = ev->transport == SIP_TRANSPORT_UDP ? 17
                                       : ev->transport == SIP_TRANSPORT_SCTP ? 132 : 6;
    uint16_t sp = htons(l4->sport), dp = htons(l4->dport);
    ptime_t t = l4->pkt->ts;
    uint32_t sec = htonl((uint32_t)(t / PTIME_SEC)), usec = htonl((uint32_t)(t % PTIME_SEC / 1000));
    uint8_t sip = 1;
    uint32_t id = htonl(h->capture_id);
    size_t at = 6;
    memcpy(b, "HEP3", 4);
    at = chunk(b, at, cap, 1, &family, 1);
    at = chunk(b, at, cap, 2, &proto, 1);
    at = chunk(b, at, cap, v6 ? 5 : 3, l4->src.b, v6 ? 16 : 4);
    at = chunk(b, at, cap, v6 ? 6 : 4, l4->dst.b, v6 ? 16 : 4);
    at = chunk(b, at, cap, 7, &sp, 2);
    at = chunk(b, at, cap, 8, &dp, 2);
    at = chunk(b, at, cap, 9, &sec, 4);
    at = chunk(b, at, cap, 10, &usec, 4);
    at = chunk(b, at, cap, 11, &sip, 1);
    at = chunk(b, at, cap, 12, &id, 4);
    if (h->key)
        at = chunk(b, at, cap, 14, h->key, strlen(h->key));
    at = chunk(b, at, cap, 15, ev->raw, ev->raw_len);
    if (at > cap) {
        h->failed++;
        return;
    }
    b[4] = (unsigned char)(at >> 8);
    b[5] = (unsigned char)at;
    if (send(h->fd, b, at, 0) == (ssize_t)at)
        h->sent++;
    else
        h->failed++;
}

void hep_out_close(struct hep_out *h, uint64_t *sent, uint64_t *failed)
{
    if (!h)
        return;
    if (sent)
        *sent = h->sent;
    if (failed)
        *failed = h->failed;
    close(h->fd);
    free(h->key);
    free(h);
}
