/* HEP in (issue 9): a UDP socket that Kamailio, OpenSIPS, FreeSWITCH, heplify or another
 * sipscope sends HEPv2/v3 to. Each datagram becomes a packet as if it had been captured
 * on the way in (Ethernet, IP and UDP headers around it, from the sender to us), so the
 * decoder reads the HEP inside exactly as it does in a capture file: the SIP with the
 * original addresses and times. The kernel's drops of this socket (SO_RXQ_OVFL) are the
 * source's drops. */
#include "capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEP_MAX 65535
#define HDRS 62 /* Ethernet 14 + IPv6 40 + UDP 8, the most a frame needs */

struct hep_src {
    int fd;
    bool v6;
    struct sockaddr_storage local;
    atomic_bool stop;
    unsigned char frame[HDRS + HEP_MAX];
    struct capture_stats st;
    uint32_t overflows; /* the socket's drop counter, as last reported */
};

static uint16_t be16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
    return v;
}

/* Ethernet, IP and UDP headers for a datagram of n bytes from `from` to the socket. */
static size_t headers(struct hep_src *h, const struct sockaddr_storage *from, size_t n)
{
    unsigned char *f = h->frame;
    memset(f, 0, HDRS);
    f[0] = 0x02; /* locally administered addresses */
    f[6] = 0x02;
    f[11] = 1;
    size_t ip;
    uint16_t sport, dport;
    if (h->v6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)from;
        const struct sockaddr_in6 *d = (const struct sockaddr_in6 *)&h->local;
        be16(f + 12, 0x86dd);
        f[14] = 0x60;
        be16(f + 18, (uint16_t)(8 + n));
        f[20] = 17;
        f[21] = 64;
        memcpy(f + 22, &s->sin6_addr, 16);
        memcpy(f + 38, &d->sin6_addr, 16);
        ip = 40;
        sport = ntohs(s->sin6_port);
        dport = ntohs(d->sin6_port);
    } else {
        const struct sockaddr_in *s = (const struct sockaddr_in *)from;
        const struct sockaddr_in *d = (const struct sockaddr_in *)&h->local;
        be16(f + 12, 0x0800);
        f[14] = 0x45;
        be16(f + 16, (uint16_t)(20 + 8 + n));
        f[22] = 64;
        f[23] = 17;
        memcpy(f + 26, &s->sin_addr, 4);
        memcpy(f + 30, &d->sin_addr, 4);
        ip = 20;
        sport = ntohs(s->sin_port);
        dport = ntohs(d->sin_port);
    }
    unsigned char *u = f + 14 + ip;
    be16(u, sport);
    be16(u + 2, dport);
    be16(u + 4, (uint16_t)(8 + n));
    return 14 + ip + 8; /* checksums 0: "not computed" (RFC 768), the header checksum too */
}

static enum capture_status hep_next(void *self, struct packet *out)
{
    struct hep_src *h = self;
    if (atomic_load(&h->stop))
        return CAPTURE_EOF;
    struct pollfd p = {h->fd, POLLIN, 0};
    int rc = poll(&p, 1, 200);
    if (rc <= 0)
        return rc < 0 && errno != EINTR ? CAPTURE_ERROR : CAPTURE_IDLE;
    struct sockaddr_storage from;
    char cbuf[CMSG_SPACE(sizeof(uint32_t))];
    struct iovec iov = {h->frame + HDRS, HEP_MAX};
    struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
                       .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    ssize_t n = recvmsg(h->fd, &m, MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? CAPTURE_IDLE : CAPTURE_ERROR;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
            memcpy(&h->overflows, CMSG_DATA(c), sizeof h->overflows);
    size_t hl = headers(h, &from, (size_t)n);
    /* the headers go right before the datagram, which was read at HDRS */
    memmove(h->frame + HDRS - hl, h->frame, hl);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    out->ts = (ptime_t)t.tv_sec * PTIME_SEC + t.tv_nsec;
    out->caplen = out->wirelen = (uint32_t)(hl + (size_t)n);
    out->linktype = 1; /* DLT_EN10MB */
    out->input = 0;
    out->data = h->frame + HDRS - hl;
    out->frame = ++h->st.packets;
    h->st.bytes += out->caplen;
    if (!h->st.first_ts)
        h->st.first_ts = out->ts;
    h->st.last_ts = out->ts;
    return CAPTURE_OK;
}

static void hep_stats(const void *self, struct capture_stats *out)
{
    const struct hep_src *h = self;
    *out = h->st;
    out->live = true;
    out->dropped = h->overflows;
}

static void hep_close(void *self)
{
    struct hep_src *h = self;
    close(h->fd);
    free(h);
}

static void hep_stop(void *self)
{
    atomic_store(&((struct hep_src *)self)->stop, true);
}

static const struct capture_ops hep_ops = {hep_next, hep_stats, hep_close, hep_stop};

bool capture_open_hep(struct capture_source *src, const char *listen, char *err, size_t errlen)
{
    char host[64];
    const char *colon = listen[0] == '[' ? strstr(listen, "]:") : strrchr(listen, ':');
    size_t hl = colon ? (size_t)(colon - listen) - (listen[0] == '[') : 0;
    char *end;
    unsigned long port = colon ? strtoul(colon + 1 + (listen[0] == '['), &end, 10) : 0;
    if (!colon || hl >= sizeof host || !port || port > 65535 || *end) {
        snprintf(err, errlen, "--hep-listen %s: want ADDR:PORT", listen);
        return false;
    }
    memcpy(host, listen + (listen[0] == '['), hl);
    host[hl] = '\0';
    struct hep_src *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)&h->local;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&h->local;
    if (inet_pton(AF_INET, hl ? host : "0.0.0.0", &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        h->v6 = true;
    } else {
        snprintf(err, errlen, "--hep-listen %s: not an address", listen);
        free(h);
        return false;
    }
    h->fd = socket(h->v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    int on = 1, buf = 16 << 20;
    if (h->fd < 0 ||
        bind(h->fd, (struct sockaddr *)&h->local,
             h->v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) != 0) {
        snprintf(err, errlen, "--hep-listen %s: %s", listen, strerror(errno));
        if (h->fd >= 0)
            close(h->fd);
        free(h);
        return false;
    }
    /* a large receive buffer absorbs bursts; its overflows are counted, not guessed */
    setsockopt(h->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(h->fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
    src->ops = &hep_ops;
    src->self = h;
    return true;
}
