/* SCTP (RFC 9260) as a SIP transport (RFC 4168): common header, chunks, and the DATA
 * chunks' user messages. A user message split over several DATA chunks (B bit on the
 * first, E bit on the last, consecutive TSNs) is joined, as tshark does; pieces are kept
 * per direction and stream for a bounded number of messages of bounded size. */
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"

#define SCTP_PARTIALS  64
#define SCTP_MAX_USER  SIP_MAX_STREAM_MESSAGE

struct sctp_partial {
    bool used;
    uint8_t family;
    uint8_t src[16], dst[16];
    uint16_t sport, dport, sid;
    uint32_t next_tsn;
    uint64_t age;        /* for replacement: the oldest goes */
    uint8_t *buf;        /* owned */
    size_t len;
};

void sctp_free(struct decoder *d)
{
    if (!d->sctp)
        return;
    for (int i = 0; i < SCTP_PARTIALS; i++)
        free(d->sctp[i].buf);
    free(d->sctp);
    d->sctp = NULL;
}

static struct sctp_partial *find(struct decoder *d, const struct l4_packet *l4, uint16_t sid,
                                 bool create)
{
    if (!d->sctp && !(d->sctp = calloc(SCTP_PARTIALS, sizeof *d->sctp)))
        return NULL;
    struct sctp_partial *oldest = &d->sctp[0];
    for (int i = 0; i < SCTP_PARTIALS; i++) {
        struct sctp_partial *p = &d->sctp[i];
        if (p->used && p->sid == sid && p->sport == l4->sport && p->dport == l4->dport &&
            p->family == l4->src.family && !memcmp(p->src, l4->src.b, 16) &&
            !memcmp(p->dst, l4->dst.b, 16))
            return p;
        if (!p->used || (oldest->used && p->age < oldest->age))
            oldest = p;
    }
    if (!create)
        return NULL;
    if (oldest->used)
        decode_error(d, DR_SCTP_INCOMPLETE); /* a message that never ended makes room */
    free(oldest->buf);
    memset(oldest, 0, sizeof *oldest);
    oldest->used = true;
    oldest->family = l4->src.family;
    memcpy(oldest->src, l4->src.b, 16);
    memcpy(oldest->dst, l4->dst.b, 16);
    oldest->sport = l4->sport;
    oldest->dport = l4->dport;
    oldest->sid = sid;
    return oldest;
}

static void drop(struct sctp_partial *p)
{
    free(p->buf);
    memset(p, 0, sizeof *p);
}

static void user_message(struct decoder *d, struct l4_packet *l4, const uint8_t *p, size_t n)
{
    l4->payload = p;
    l4->len = (uint32_t)n;
    decode_sip_datagram(d, l4, SIP_TRANSPORT_SCTP);
}

/* One DATA chunk: flags B (2) and E (1); value: TSN, stream id, stream seq, PPID, data. */
static void data_chunk(struct decoder *d, struct l4_packet *l4, uint8_t flags, struct cursor c)
{
    uint32_t tsn, ppid;
    uint16_t sid, ssn;
    if (!cursor_u32be(&c, &tsn) || !cursor_u16be(&c, &sid) || !cursor_u16be(&c, &ssn) ||
        !cursor_u32be(&c, &ppid))
        return;
    bool b = flags & 2, e = flags & 1;
    size_t n = cursor_left(&c);
    if (n == 0) {
        /* RFC 4960 3.3.1: a DATA chunk with no user data is a protocol error. Besides,
         * realloc(buf, 0) would free the buffer under us. */
        decode_error(d, DR_SCTP_TRUNCATED);
        return;
    }
    if (b && e) {
        user_message(d, l4, c.p, n);
        return;
    }
    struct sctp_partial *p = find(d, l4, sid, b);
    if (!p)
        return; /* a middle or last piece whose first we never saw */
    if (!b && tsn != p->next_tsn) {
        decode_error(d, DR_SCTP_INCOMPLETE);
        drop(p);
        return;
    }
    if (b)
        p->len = 0;
    uint8_t *nb = p->len + n <= SCTP_MAX_USER ? realloc(p->buf, p->len + n) : NULL;
    if (!nb) {
        decode_error(d, DR_SIP_TOO_LARGE);
        drop(p);
        return;
    }
    p->buf = nb;
    memcpy(p->buf + p->len, c.p, n);
    p->len += n;
    p->next_tsn = tsn + 1;
    p->age = l4->pkt->frame;
    if (e) {
        user_message(d, l4, p->buf, p->len);
        drop(p);
    }
}

void decode_sctp(struct decoder *d, struct l4_packet *l4, struct cursor c)
{
    if (!cursor_u16be(&c, &l4->sport) || !cursor_u16be(&c, &l4->dport) || !cursor_skip(&c, 8)) {
        if (!l4->truncated)
            decode_error(d, DR_SCTP_TRUNCATED);
        return;
    }
    d->st.sctp++;
    l4->proto = 132;
    uint8_t type, flags;
    uint16_t clen;
    while (cursor_u8(&c, &type) && cursor_u8(&c, &flags) && cursor_u16be(&c, &clen)) {
        if (clen < 4 || !cursor_has(&c, clen - 4u)) {
            if (!l4->truncated)
                decode_error(d, DR_SCTP_TRUNCATED);
            return;
        }
        struct cursor chunk = cursor_make(c.p, clen - 4u);
        size_t padded = ((clen + 3u) & ~3u) - 4u; /* chunks are padded to 4 bytes */
        cursor_skip(&c, padded < cursor_left(&c) ? padded : cursor_left(&c));
        if (type == 0)
            data_chunk(d, l4, flags, chunk);
    }
}
