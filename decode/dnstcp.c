/* DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message behind a two-byte length, on a
 * stream. A resolver falls back to TCP when a UDP answer came truncated (TC), that is for
 * the large answers, which do not fit one segment: a message is joined across segments
 * in sequence order, per direction, for a bounded number of directions (the oldest makes
 * room) of bounded size (65,535 + 2 bytes, what the length can say). What cannot be read
 * (a hole, a direction pushed out, the input's end inside a message) is counted in
 * dns_tcp_partial. A segment that holds whole messages, the usual case, costs no copy. */
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"

#define DNS_TCP_PARTIALS 64
#define DNS_TCP_MAX (65535 + 2)

struct dns_tcp_partial {
    bool used;
    struct l4_flow_key key;
    uint32_t next_seq;
    uint64_t age;  /* the frame that last added to it: the oldest makes room */
    uint8_t *buf;  /* owned: the bytes after the last whole message */
    size_t len;
};

void dns_tcp_free(struct decoder *d)
{
    if (!d->dnstcp)
        return;
    for (int i = 0; i < DNS_TCP_PARTIALS; i++)
        free(d->dnstcp[i].buf);
    free(d->dnstcp);
    d->dnstcp = NULL;
}

void dns_tcp_finish(struct decoder *d)
{
    for (int i = 0; d->dnstcp && i < DNS_TCP_PARTIALS; i++)
        if (d->dnstcp[i].used)
            d->st.dns_tcp_partial++; /* the input ended inside a message */
    dns_tcp_free(d);
}

static void drop(struct dns_tcp_partial *p)
{
    free(p->buf);
    memset(p, 0, sizeof *p);
}

static struct dns_tcp_partial *find(struct decoder *d, const struct l4_flow_key *k)
{
    for (int i = 0; d->dnstcp && i < DNS_TCP_PARTIALS; i++)
        if (d->dnstcp[i].used && !memcmp(&d->dnstcp[i].key, k, sizeof *k))
            return &d->dnstcp[i];
    return NULL;
}

static struct dns_tcp_partial *make(struct decoder *d, const struct l4_flow_key *k)
{
    if (!d->dnstcp && !(d->dnstcp = calloc(DNS_TCP_PARTIALS, sizeof *d->dnstcp)))
        return NULL;
    struct dns_tcp_partial *oldest = &d->dnstcp[0];
    for (int i = 0; i < DNS_TCP_PARTIALS; i++) {
        struct dns_tcp_partial *p = &d->dnstcp[i];
        if (!p->used || (oldest->used && p->age < oldest->age))
            oldest = p;
    }
    if (oldest->used) {
        d->st.dns_tcp_partial++; /* a message that never ended makes room */
        drop(oldest);
    }
    oldest->used = true;
    oldest->key = *k;
    return oldest;
}

/* Reads the whole messages at the front of p..p+n (each as its own message of l4); returns
 * the bytes left after them (an unfinished message). */
static size_t messages(struct decoder *d, const struct l4_packet *l4, const uint8_t *p, size_t n)
{
    while (n >= 2) {
        size_t len = (size_t)p[0] << 8 | p[1];
        if (len > n - 2)
            break;
        struct l4_packet one = *l4;
        one.payload = p + 2;
        one.len = (uint32_t)len;
        decode_dns(d, &one);
        p += 2 + len;
        n -= 2 + len;
    }
    return n;
}

static bool keep(struct dns_tcp_partial *p, const uint8_t *b, size_t n)
{
    if (p->len + n > DNS_TCP_MAX)
        return false;
    uint8_t *nb = realloc(p->buf, p->len + n ? p->len + n : 1);
    if (!nb)
        return false;
    memcpy(nb + p->len, b, n);
    p->buf = nb;
    p->len += n;
    return true;
}

void decode_dns_tcp(struct decoder *d, const struct l4_packet *l4)
{
    if (!l4->len)
        return; /* SYN, ACK, FIN: no bytes */
    struct l4_flow_key k;
    l4_flow_key_make(&k, &l4->src, l4->sport, &l4->dst, l4->dport);
    struct dns_tcp_partial *p = find(d, &k);
    uint32_t end = l4->tcp_seq + l4->len;
    if (p && l4->tcp_seq != p->next_seq) {
        if ((int32_t)(end - p->next_seq) <= 0)
            return; /* a retransmission of bytes already taken */
        d->st.dns_tcp_partial++; /* a hole (or an overlap we do not trim): start again */
        drop(p);
        p = NULL;
    }
    if (!p) { /* the usual case: whole messages, read in place */
        size_t left = messages(d, l4, l4->payload, l4->len);
        if (!left)
            return;
        if (!(p = make(d, &k)) || !keep(p, l4->payload + l4->len - left, left)) {
            d->st.dns_tcp_partial++;
            if (p)
                drop(p);
            return;
        }
    } else {
        if (!keep(p, l4->payload, l4->len)) {
            d->st.dns_tcp_partial++; /* longer than a length can say: not DNS */
            drop(p);
            return;
        }
        size_t left = messages(d, l4, p->buf, p->len);
        if (!left) {
            drop(p);
            return;
        }
        memmove(p->buf, p->buf + p->len - left, left);
        p->len = left;
    }
    p->next_seq = end;
    p->age = l4->pkt->frame;
}
