/* See hep_io.h. HEP in: each datagram becomes a packet as if it had been captured
 * on the way in (Ethernet, IP and UDP headers around it, from the sender to us), so the
 * decoder reads the HEP inside exactly as it does in a capture file: the SIP with the
 * original addresses and times. The kernel's drops of this socket (SO_RXQ_OVFL) are the
 * source's drops. */
#include "hep_io.h"

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

#include "common/sockaddr.h"

#define HEP_MAX 65535
#define HDRS 62 /* Ethernet 14 + IPv6 40 + UDP 8, the most a frame needs */

#define HEP_CONNS 64 /* TCP senders at once; more wait in the backlog */

struct hep_conn {
    int fd;                 /* -1: free */
    size_t have;            /* bytes buffered */
    unsigned char buf[HEP_MAX];
};

struct hep_src {
    int fd;
    int lfd;                /* TCP listener on the same address: HEP framed by its length */
    struct hep_conn *conns; /* owned, HEP_CONNS */
    unsigned rr;            /* the connection served next */
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

/* Hands out one HEP packet of n bytes, already at h->frame + HDRS, from `from`. */
static enum capture_status emit(struct hep_src *h, const struct sockaddr_storage *from, size_t n,
                                struct packet *out)
{
    size_t hl = headers(h, from, n);
    memmove(h->frame + HDRS - hl, h->frame, hl);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    out->ts = (ptime_t)t.tv_sec * PTIME_SEC + t.tv_nsec;
    out->caplen = out->wirelen = (uint32_t)(hl + n);
    out->linktype = 1; /* DLT_EN10MB */
    out->input = 0;
    out->data = h->frame + HDRS - hl;
    out->hint = 0;
    capture_count(&h->st, out);
    return CAPTURE_OK;
}

/* A whole HEP packet at the start of a TCP connection's buffer: its length, or 0 when more
 * bytes are needed; SIZE_MAX when the stream is not HEP (the connection is dropped). */
static size_t framed(const struct hep_conn *c)
{
    if (c->have < 6)
        return 0;
    if (!memcmp(c->buf, "HEP3", 4)) {
        size_t n = (size_t)c->buf[4] << 8 | c->buf[5];
        return n < 6 ? SIZE_MAX : c->have >= n ? n : 0;
    }
    if (c->buf[0] == 2 || c->buf[0] == 1) { /* HEPv2/v1: no total length; one per segment */
        return c->have;
    }
    return SIZE_MAX;
}

static void conn_close(struct hep_conn *c)
{
    close(c->fd);
    c->fd = -1;
    c->have = 0;
}

/* A packet from a TCP sender, if one is whole; accepts new senders. */
static bool from_tcp(struct hep_src *h, const struct pollfd *pf, size_t npf, struct packet *out,
                     enum capture_status *st)
{
    if (pf[1].revents & POLLIN) {
        int fd = accept(h->lfd, NULL, NULL);
        for (int i = 0; fd >= 0 && i < HEP_CONNS; i++)
            if (h->conns[i].fd < 0 && !h->conns[i].have) {
                h->conns[i].fd = fd;
                h->conns[i].have = 0;
                fd = -1;
            }
        if (fd >= 0)
            close(fd); /* full: the sender retries */
    }
    for (size_t k = 2; k < npf; k++) {
        struct hep_conn *c = NULL;
        for (int i = 0; i < HEP_CONNS; i++)
            if (h->conns[i].fd == pf[k].fd)
                c = &h->conns[i];
        if (!c || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t n = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, MSG_DONTWAIT);
        if (n > 0) {
            c->have += (size_t)n;
        } else if (!(n < 0 && (errno == EAGAIN || errno == EINTR))) {
            close(c->fd); /* the sender is done: what it sent is still handed out */
            c->fd = -1;
        }
    }
    for (int k = 0; k < HEP_CONNS; k++) {
        struct hep_conn *c = &h->conns[(h->rr + (unsigned)k) % HEP_CONNS];
        if (c->fd < 0 && !c->have)
            continue;
        size_t n = framed(c);
        if (n == SIZE_MAX) {
            h->st.read_errors++;
            conn_close(c);
            continue;
        }
        if (!n) {
            if (c->fd < 0)
                c->have = 0; /* it closed mid-packet: nothing more will come */
            continue;
        }
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        if (c->fd < 0 || getpeername(c->fd, (struct sockaddr *)&from, &fl) != 0)
            from = h->local;
        memcpy(h->frame + HDRS, c->buf, n);
        memmove(c->buf, c->buf + n, c->have - n);
        c->have -= n;
        h->rr = (h->rr + (unsigned)k + 1) % HEP_CONNS;
        *st = emit(h, &from, n, out);
        return true;
    }
    return false;
}

static enum capture_status hep_next(void *self, struct packet *out)
{
    struct hep_src *h = self;
    if (atomic_load(&h->stop))
        return CAPTURE_EOF;
    enum capture_status st;
    struct pollfd p[2 + HEP_CONNS];
    size_t np = 2;
    p[0] = (struct pollfd){h->fd, POLLIN, 0};
    p[1] = (struct pollfd){h->lfd, POLLIN, 0};
    for (int i = 0; i < HEP_CONNS; i++)
        if (h->conns[i].fd >= 0)
            p[np++] = (struct pollfd){h->conns[i].fd, POLLIN, 0};
    /* a whole packet already buffered goes first, without waiting */
    if (from_tcp(h, p, 0, out, &st))
        return st;
    int rc = poll(p, np, 200);
    if (rc <= 0)
        return rc < 0 && errno != EINTR ? CAPTURE_ERROR : CAPTURE_IDLE;
    if (!(p[0].revents & POLLIN))
        return from_tcp(h, p, np, out, &st) ? st : CAPTURE_IDLE;
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
    return emit(h, &from, (size_t)n, out); /* the datagram was read at HDRS */
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
    if (h->lfd >= 0)
        close(h->lfd);
    for (int i = 0; i < HEP_CONNS; i++)
        if (h->conns[i].fd >= 0)
            close(h->conns[i].fd);
    free(h->conns);
    free(h);
}

static void hep_stop(void *self)
{
    atomic_store(&((struct hep_src *)self)->stop, true);
}

static const struct capture_ops hep_ops = {hep_next, hep_stats, hep_close, hep_stop};

bool capture_open_hep(struct capture_source *src, const char *addr, char *err, size_t errlen)
{
    struct hep_src *h = calloc(1, sizeof *h);
    socklen_t sl;
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    if (!sockaddr_parse(addr, "0.0.0.0", false, &h->local, &sl)) {
        snprintf(err, errlen, "--hep-listen %s: want ADDR:PORT (an address, not a name)", addr);
        free(h);
        return false;
    }
    h->v6 = h->local.ss_family == AF_INET6;
    h->fd = socket(h->v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    int on = 1, buf = 16 << 20;
    if (h->fd < 0 ||
        bind(h->fd, (struct sockaddr *)&h->local, sl) != 0) {
        snprintf(err, errlen, "--hep-listen %s: %s", addr, strerror(errno));
        if (h->fd >= 0)
            close(h->fd);
        free(h);
        return false;
    }
    /* a large receive buffer absorbs bursts; its overflows are counted, not guessed */
    setsockopt(h->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(h->fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
    /* and TCP on the same address, as heplify and Kamailio can send it */
    h->lfd = socket(h->v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (!(h->conns = calloc(HEP_CONNS, sizeof *h->conns)) || h->lfd < 0 ||
        setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(h->lfd, (struct sockaddr *)&h->local, sl) != 0 ||
        listen(h->lfd, 16) != 0) {
        snprintf(err, errlen, "--hep-listen %s (TCP): %s", addr, h->conns ? strerror(errno) : "out of memory");
        if (h->lfd >= 0)
            close(h->lfd);
        close(h->fd);
        free(h->conns);
        free(h);
        return false;
    }
    for (int i = 0; i < HEP_CONNS; i++)
        h->conns[i].fd = -1;
    src->ops = &hep_ops;
    src->self = h;
    return true;
}

/* ---- HEP out ---- */

struct hep_sender {
    int fd;
};

struct hep_sender *hep_sender_open(const char *to, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (!sockaddr_parse(to, NULL, false, &ss, &sl)) {
        snprintf(err, errlen, "want ADDR:PORT (an address, not a name)");
        return NULL;
    }
    struct hep_sender *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if ((s->fd = socket(ss.ss_family, SOCK_DGRAM, 0)) < 0 ||
        connect(s->fd, (struct sockaddr *)&ss, sl) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        hep_sender_close(s);
        return NULL;
    }
    return s;
}

bool hep_sender_send(struct hep_sender *s, const void *buf, size_t n)
{
    return send(s->fd, buf, n, 0) == (ssize_t)n;
}

void hep_sender_close(struct hep_sender *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}
