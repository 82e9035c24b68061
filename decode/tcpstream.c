/* SIP over TCP and over WebSocket (RFC 7118): per-direction byte stream reassembly.
 *
 * Each direction of a connection is its own stream, keyed by its 4-tuple. A direction is
 * followed once a segment of it starts with a SIP start line or a WebSocket upgrade (so
 * TLS and other TCP traffic cost one look, not a buffer). Bytes in sequence are appended
 * to the direction's buffer; segments ahead of a hole wait in a small out-of-order list;
 * bytes already seen (retransmissions, overlaps) are skipped. Messages are cut from the
 * front of the buffer by Content-Length (RFC 3261 §18.3) and handed on with the frame that
 * completed them, as tshark attributes them. After a hole that never fills, or bytes that
 * are not SIP, the stream resynchronises on the next start line.
 *
 * Everything is bounded: directions (LRU eviction), bytes per direction and in total,
 * out-of-order pieces; all drops are counted. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/list.h"
#include "decode_int.h"
#include "hep.h"
#include "sip.h"
#include "tls.h"

#define OOO_MAX_SEGS   32
#define OOO_MAX_BYTES  (256u * 1024)
#define RESYNC_KEEP    2048  /* bytes kept while looking for a start line */
/* A hole still open this long after the first piece behind it arrived was lost by the
 * capture, not by the network (TCP would have retransmitted it by now). */
#define HOLE_TIMEOUT   (2 * PTIME_SEC)
#define WS_MAX_MESSAGE SIP_MAX_STREAM_MESSAGE

enum mode { MODE_SIP, MODE_WS, MODE_HEP };

struct ooo_seg {
    struct ooo_seg *next; /* sorted by seq */
    uint32_t seq;
    uint32_t len;
    struct packet pkt;    /* its frame, for messages flushed at the end (data not kept) */
    uint8_t data[];
};

struct tcp_dir {
    struct l4_flow_key key;
    uint64_t hash;
    struct dlist_node lru;
    ptime_t last;
    uint32_t next_seq;
    bool synced;                 /* the buffer starts at a message boundary */
    uint8_t mode;
    uint8_t *buf;                /* owned; unconsumed in-order bytes */
    size_t len, cap;
    struct ooo_seg *ooo;         /* owned */
    size_t ooo_bytes;
    unsigned ooo_n;
    ptime_t ooo_since;           /* packet time the oldest waiting piece arrived */
    uint8_t *ws;                 /* owned; WebSocket message being assembled */
    size_t ws_len, ws_cap;
    bool ws_open;                /* a fragmented data message is under way */
    bool fresh;                  /* no byte appended since it began (or a SYN) */
    bool tls_broken;             /* TLS framing lost: its bytes are dropped */
    uint8_t tls_side;            /* enum tls_side */
    struct tls_conn *tls;        /* shared with the other direction; NULL: not TLS */
    uint8_t *rec;                /* owned; TLS records not yet whole */
    size_t rec_len, rec_cap;
};

struct tcp_table {
    struct htab *ht;
    struct dlist lru;            /* head: the least recently used direction */
    size_t held, max_bytes;
    ptime_t idle;
    uint64_t seed;
};

static bool key_eq(const void *item, const void *key)
{
    return memcmp(&((const struct tcp_dir *)item)->key, key, sizeof(struct l4_flow_key)) == 0;
}

size_t tcp_table_bytes(const struct tcp_table *t)
{
    return t ? sizeof *t + htab_bytes(t->ht) + htab_count(t->ht) * sizeof(struct tcp_dir) + t->held
             : 0;
}

struct tcp_table *tcp_table_new(const struct decode_config *cfg)
{
    struct tcp_table *t = calloc(1, sizeof *t);
    if (!t || !(t->ht = htab_new(cfg->tcp_max_streams, key_eq))) {
        free(t);
        return NULL;
    }
    t->max_bytes = cfg->tcp_max_bytes;
    t->idle = cfg->tcp_idle_timeout;
    t->seed = cfg->hash_seed;
    return t;
}

static struct tcp_dir *lru_oldest(const struct tcp_table *t)
{
    return t->lru.head ? dlist_entry(t->lru.head, struct tcp_dir, lru) : NULL;
}

static void clear_ooo(struct tcp_table *t, struct tcp_dir *s)
{
    while (s->ooo) {
        struct ooo_seg *o = s->ooo;
        s->ooo = o->next;
        free(o);
    }
    t->held -= s->ooo_bytes;
    s->ooo_bytes = 0;
    s->ooo_n = 0;
}

static void destroy(struct tcp_table *t, struct tcp_dir *s)
{
    dlist_unlink(&t->lru, &s->lru);
    htab_remove(t->ht, s->hash, &s->key);
    clear_ooo(t, s);
    t->held -= s->cap + s->ws_cap + s->rec_cap + (s->tls ? tls_conn_bytes() : 0);
    free(s->buf);
    free(s->ws);
    free(s->rec);
    tls_conn_unref(s->tls);
    free(s);
}

void tcp_table_free(struct tcp_table *t)
{
    if (!t)
        return;
    while (lru_oldest(t))
        destroy(t, lru_oldest(t));
    htab_free(t->ht);
    free(t);
}

/* Evicts least recently used directions (not `keep`) until `need` more bytes fit. */
static bool make_room(struct decoder *d, struct tcp_table *t, size_t need,
                      const struct tcp_dir *keep)
{
    while (t->held + need > t->max_bytes) {
        struct dlist_node *n = t->lru.head;
        if (n && n == &keep->lru)
            n = n->next;
        if (!n)
            return false;
        struct tcp_dir *old = dlist_entry(n, struct tcp_dir, lru);
        destroy(t, old);
        d->st.tcp_evicted++;
    }
    return true;
}

/* Grows a per-direction buffer to hold `want` bytes, within the limits. */
static bool grow(struct decoder *d, struct tcp_table *t, struct tcp_dir *s, uint8_t **buf,
                 size_t *cap, size_t want, size_t max)
{
    if (want <= *cap)
        return true;
    if (want > max)
        return false;
    size_t ncap = *cap ? *cap : 4096;
    while (ncap < want)
        ncap *= 2;
    if (ncap > max)
        ncap = max;
    if (!make_room(d, t, ncap - *cap, s))
        return false;
    uint8_t *nb = realloc(*buf, ncap);
    if (!nb)
        return false;
    t->held += ncap - *cap;
    *buf = nb;
    *cap = ncap;
    return true;
}

static void consume(struct tcp_dir *s, size_t n)
{
    memmove(s->buf, s->buf + n, s->len - n);
    s->len -= n;
}

/* ---- SIP on the stream --------------------------------------------------------------- */

static bool starts_with_ci(const uint8_t *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && strncasecmp((const char *)p, lit, l) == 0;
}

static const uint8_t *find_ci(const uint8_t *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    for (size_t i = 0; i + l <= n; i++)
        if (strncasecmp((const char *)p + i, lit, l) == 0)
            return p + i;
    return NULL;
}

/* An HTTP head asking for, or granting, a WebSocket upgrade (RFC 6455 §4). */
static bool is_ws_upgrade(const uint8_t *p, size_t n)
{
    size_t look = n < 4096 ? n : 4096;
    return (starts_with_ci(p, n, "GET ") || starts_with_ci(p, n, "HTTP/1.1 101")) &&
           find_ci(p, look, "websocket");
}

/* Skips to the first line that starts a SIP message or an HTTP head; false when none is
 * in the buffer yet (the tail that may hold one is kept). */
static bool resync(struct decoder *d, struct tcp_dir *s)
{
    size_t pos = 0;
    while (pos < s->len) {
        const uint8_t *nl = memchr(s->buf + pos, '\n', s->len - pos);
        if (!nl)
            break; /* an incomplete line: may still become a start line */
        if (sip_looks_like((const char *)s->buf + pos, s->len - pos) ||
            is_ws_upgrade(s->buf + pos, s->len - pos)) {
            bool junk = false;
            for (size_t i = 0; i < pos; i++)
                junk |= s->buf[i] != '\r' && s->buf[i] != '\n';
            if (junk)
                decode_error(d, DR_SIP_TCP_RESYNC);
            consume(s, pos);
            s->synced = true;
            return true;
        }
        pos = (size_t)(nl - s->buf) + 1;
    }
    /* nothing yet: keep at most the last line (cut to RESYNC_KEEP) */
    size_t keep = s->len - pos;
    if (keep > RESYNC_KEEP)
        keep = RESYNC_KEEP;
    if (s->len - keep > 0) {
        bool junk = false;
        for (size_t i = 0; i < s->len - keep; i++)
            junk |= s->buf[i] != '\r' && s->buf[i] != '\n';
        if (junk)
            decode_error(d, DR_SIP_TCP_RESYNC);
        consume(s, s->len - keep);
    }
    return false;
}

static void ws_frames(struct decoder *d, struct tcp_table *t, struct tcp_dir *s,
                      const struct l4_packet *l4, bool *dead);

static void hep_stream(struct decoder *d, struct tcp_dir *s, const struct l4_packet *l4,
                       bool *dead)
{
    struct hep_msg h;
    size_t used;
    enum decode_reason why = DR_HEP_BAD_LENGTH;
    while (s->len > 0) {
        switch (hep_parse(s->buf, s->len, &h, &used, &why)) {
        case HEP_INCOMPLETE:
            return;
        case HEP_OK:
            if (h.version == 3) {
                decode_hep_msg(d, l4, &h);
                consume(s, used);
                continue;
            }
            /* v1/v2 have no length to frame a stream with */
            __attribute__((fallthrough));
        case HEP_NOT_HEP:
        case HEP_BAD:
            decode_error(d, why);
            *dead = true; /* no framing left to trust on this stream */
            return;
        }
    }
}

/* Cuts every complete message from the front of the buffer. */
static void drain(struct decoder *d, struct tcp_table *t, struct tcp_dir *s,
                  const struct l4_packet *l4, bool *dead)
{
    struct sip_msg *m = &d->msg;

    while (s->len > 0 && !*dead) {
        if (s->mode == MODE_WS) {
            ws_frames(d, t, s, l4, dead);
            return;
        }
        if (s->mode == MODE_SIP && s->len >= 4 && memcmp(s->buf, "HEP3", 4) == 0)
            s->mode = MODE_HEP; /* a HEP feed over TCP: length-framed HEPv3 packets */
        if (s->mode == MODE_HEP) {
            hep_stream(d, s, l4, dead);
            return;
        }
        if (!s->synced && !resync(d, s))
            return;
        if (is_ws_upgrade(s->buf, s->len)) {
            const uint8_t *end = find_ci(s->buf, s->len, "\r\n\r\n");
            if (!end) {
                if (s->len > RESYNC_KEEP * 4) { /* not a real HTTP head */
                    consume(s, s->len);
                    s->synced = false;
                }
                return;
            }
            consume(s, (size_t)(end + 4 - s->buf));
            s->mode = MODE_WS;
            continue;
        }
        switch (sip_parse((const char *)s->buf, s->len, SIP_FRAME_STREAM, m)) {
        case SIP_INCOMPLETE:
            return;
        case SIP_NOT_SIP:
            s->synced = false;
            if (!resync(d, s))
                return;
            continue;
        case SIP_OK:
            decode_emit_sip(d, l4, s->tls ? SIP_TRANSPORT_TLS : SIP_TRANSPORT_TCP,
                            (const char *)s->buf, m->len, m);
            /* a message we could not frame leaves us mid-stream */
            if (m->malformed &&
                (m->error == DR_SIP_BAD_CONTENT_LENGTH || m->error == DR_SIP_TOO_LARGE))
                s->synced = false;
            consume(s, m->len);
            break;
        }
    }
}

/* RFC 6455 §5.2 frames; each complete data message is one SIP message (RFC 7118 §5). */
static void ws_frames(struct decoder *d, struct tcp_table *t, struct tcp_dir *s,
                      const struct l4_packet *l4, bool *dead)
{
    struct sip_msg *m = &d->msg;

    while (s->len >= 2) {
        struct cursor c = cursor_make(s->buf, s->len);
        uint8_t b0, b1;
        if (!cursor_u8(&c, &b0) || !cursor_u8(&c, &b1))
            return;
        uint64_t plen = b1 & 0x7f;
        if (plen == 126) {
            uint16_t v;
            if (!cursor_u16be(&c, &v))
                return;
            plen = v;
        } else if (plen == 127) {
            uint32_t hi, lo;
            if (!cursor_u32be(&c, &hi) || !cursor_u32be(&c, &lo))
                return;
            plen = (uint64_t)hi << 32 | lo;
        }
        uint8_t opcode = b0 & 0x0f;
        bool known = opcode <= 2 || (opcode >= 8 && opcode <= 10);
        if ((b0 & 0x70) || !known || plen > WS_MAX_MESSAGE) {
            decode_error(d, DR_WS_BAD_FRAME);
            *dead = true;
            return;
        }
        const uint8_t *mask = NULL;
        if ((b1 & 0x80) && !cursor_bytes(&c, 4, &mask))
            return;
        const uint8_t *payload;
        if (!cursor_bytes(&c, (size_t)plen, &payload))
            return; /* the frame is not all here yet */
        size_t flen = (size_t)(c.p - s->buf);

        if (opcode <= 2) { /* continuation, text, binary */
            if ((opcode != 0) == s->ws_open) { /* a new message inside one, or a stray piece */
                decode_error(d, DR_WS_BAD_FRAME);
                s->ws_len = 0;
            }
            if (!grow(d, t, s, &s->ws, &s->ws_cap, s->ws_len + plen, WS_MAX_MESSAGE)) {
                decode_error(d, DR_SIP_TCP_LIMIT);
                *dead = true;
                return;
            }
            for (size_t i = 0; i < plen; i++)
                s->ws[s->ws_len + i] = mask ? payload[i] ^ mask[i & 3] : payload[i];
            s->ws_len += plen;
            s->ws_open = !(b0 & 0x80);
            if (!s->ws_open && s->ws_len > 0) {
                if (sip_parse((const char *)s->ws, s->ws_len, 0, m) == SIP_OK)
                    decode_emit_sip(d, l4, s->tls ? SIP_TRANSPORT_WSS : SIP_TRANSPORT_WS,
                                    (const char *)s->ws, s->ws_len, m);
            }
            if (!s->ws_open)
                s->ws_len = 0;
        }
        consume(s, flen); /* control frames (close, ping, pong) carry no SIP */
    }
}

/* ---- segments ------------------------------------------------------------------------ */

/* Bytes for the SIP, WebSocket or HEP reader: the stream's own, or a TLS record's plaintext. */
static bool append_plain(struct decoder *d, struct tcp_table *t, struct tcp_dir *s,
                         const uint8_t *p, size_t n)
{
    const size_t max = SIP_MAX_STREAM_MESSAGE + 65536;
    if (!grow(d, t, s, &s->buf, &s->cap, s->len + n, max)) {
        /* more than one message may hold: give the bytes up and look for the next start */
        decode_error(d, DR_SIP_TCP_LIMIT);
        s->len = 0;
        s->synced = false;
        if (!grow(d, t, s, &s->buf, &s->cap, n, max))
            return false;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return true;
}

static bool tls_wanted(const struct decoder *d, const struct l4_flow_key *k, const uint8_t *p,
                       size_t n)
{
    if (k->sport == 5061 || k->dport == 5061)
        return tls_looks_like(p, n, true);
    return d->tls_keys && tls_looks_like(p, n, false);
}

/* The two directions of a connection share its TLS state: the other one's, or a new one. */
static bool tls_begin(struct decoder *d, struct tcp_table *t, struct tcp_dir *s)
{
    struct l4_flow_key rk = s->key;
    memcpy(rk.src, s->key.dst, 16);
    memcpy(rk.dst, s->key.src, 16);
    rk.sport = s->key.dport;
    rk.dport = s->key.sport;
    struct tcp_dir *o = htab_find(t->ht, hash_bytes(&rk, sizeof rk, t->seed), &rk);
    if (o && o->tls) {
        s->tls = o->tls;
        tls_conn_ref(s->tls);
    } else if (!(s->tls = tls_conn_new())) {
        return false;
    } else {
        d->st.tls_flows++;
    }
    t->held += tls_conn_bytes();
    return true;
}

/* Whole records from the front of s->rec (RFC 8446 §5.1 framing); the plaintext of each
 * application data record goes on to the SIP reader. A record the key log cannot open
 * leaves a hole in the plaintext, which the reader treats as a TCP gap. */
static bool tls_bytes(struct decoder *d, struct tcp_table *t, struct tcp_dir *s,
                      const uint8_t *p, size_t n, ptime_t now)
{
    if (!grow(d, t, s, &s->rec, &s->rec_cap, s->rec_len + n, 2 * TLS_MAX_RECORD)) {
        decode_error(d, DR_SIP_TCP_LIMIT);
        return false;
    }
    memcpy(s->rec + s->rec_len, p, n);
    s->rec_len += n;
    size_t pos = 0;
    while (s->rec_len - pos >= TLS_HEADER) {
        const uint8_t *r = s->rec + pos;
        size_t rl = TLS_HEADER + ((size_t)r[3] << 8 | r[4]);
        if (r[1] != 3 || rl > TLS_HEADER + TLS_MAX_RECORD) {
            decode_error(d, DR_TLS_BAD_RECORD); /* not TLS framing: nothing more to trust */
            return false;
        }
        if (s->rec_len - pos < rl)
            break;
        pos += rl;
        size_t plen = 0;
        enum tls_side side = s->tls_side;
        enum tls_result res = tls_record(s->tls, &side, r, rl, d->tls_keys, now, d->tls_plain,
                                         &plen);
        s->tls_side = (uint8_t)side;
        if (res == TLS_PLAIN) {
            d->st.tls_records++;
            if (!append_plain(d, t, s, d->tls_plain, plen))
                return false;
            continue;
        }
        if (res == TLS_NO_KEYS && !tls_conn_no_keys_once(s->tls))
            decode_error(d, DR_TLS_NO_KEYS);
        if (res == TLS_BAD)
            decode_error(d, DR_TLS_BAD_RECORD);
        if (res != TLS_NONE) { /* what was read before the hole is no longer whole */
            s->len = 0;
            s->synced = false;
            s->ws_len = 0;
            s->ws_open = false;
        }
    }
    memmove(s->rec, s->rec + pos, s->rec_len - pos);
    s->rec_len -= pos;
    return true;
}

/* In-order bytes of the stream. The first ones decide whether it is TLS: a hello when key
 * logs were given, any record on SIP's TLS port 5061 (RFC 3261 §26.2: counted, if not read). */
static bool append(struct decoder *d, struct tcp_table *t, struct tcp_dir *s, const uint8_t *p,
                   size_t n, ptime_t now)
{
    s->next_seq += (uint32_t)n; /* the bytes are accounted for even if dropped below */
    if (s->fresh && s->mode == MODE_SIP && s->len == 0 && tls_wanted(d, &s->key, p, n) &&
        !tls_begin(d, t, s))
        return false;
    s->fresh = false;
    /* TLS: the mode (SIP, WebSocket) is the plaintext's, read as for plain TCP */
    if (s->tls && !s->tls_broken && !tls_bytes(d, t, s, p, n, now)) {
        s->tls_broken = true; /* no record framing left to trust: the rest is dropped */
        s->rec_len = 0;
    }
    if (s->tls)
        return !s->tls_broken;
    return append_plain(d, t, s, p, n);
}

/* Takes waiting pieces that are now in sequence. A message completed by them was
 * completed by the segment being processed (it filled the hole), so that is its frame,
 * as tshark counts. */
static void pull_ooo(struct decoder *d, struct tcp_table *t, struct tcp_dir *s, ptime_t now)
{
    while (s->ooo) {
        struct ooo_seg *o = s->ooo;
        int32_t diff = (int32_t)(o->seq - s->next_seq);
        if (diff > 0)
            return;
        s->ooo = o->next;
        s->ooo_n--;
        s->ooo_bytes -= sizeof *o + o->len;
        t->held -= sizeof *o + o->len;
        if ((int64_t)o->len + diff > 0)
            append(d, t, s, o->data - diff, (size_t)((int64_t)o->len + diff), now);
        free(o);
    }
}

static bool hold_ooo(struct tcp_table *t, struct tcp_dir *s, uint32_t seq, const uint8_t *p,
                     size_t n, const struct packet *pkt)
{
    ptime_t now = pkt->ts;
    if (!s->ooo)
        s->ooo_since = now;
    if (s->ooo_n >= OOO_MAX_SEGS || s->ooo_bytes + n > OOO_MAX_BYTES ||
        t->held + sizeof(struct ooo_seg) + n > t->max_bytes)
        return false;
    struct ooo_seg **pp = &s->ooo;
    while (*pp && (int32_t)((*pp)->seq - seq) < 0)
        pp = &(*pp)->next;
    if (*pp && (*pp)->seq == seq && (*pp)->len >= n)
        return true; /* the same piece again */
    struct ooo_seg *o = malloc(sizeof *o + n);
    if (!o)
        return false;
    o->seq = seq;
    o->len = (uint32_t)n;
    o->pkt = *pkt;
    o->pkt.data = NULL;
    memcpy(o->data, p, n);
    o->next = *pp;
    *pp = o;
    s->ooo_n++;
    s->ooo_bytes += sizeof *o + n;
    t->held += sizeof *o + n;
    return true;
}

/* The bytes before the first waiting piece will not come: drop the partial message they
 * belonged to, carry on from that piece, and look for the next start line. Here no hole
 * was filled, so each message is completed by the piece that brought its last byte and
 * carries that piece's frame and time, not the frame that made us give up. */
static void skip_hole(struct decoder *d, struct tcp_table *t, struct tcp_dir *s,
                      const struct l4_packet *l4, bool *dead)
{
    decode_error(d, DR_SIP_TCP_GAP);
    s->len = 0;
    s->synced = false;
    s->ws_len = 0;
    s->ws_open = false;
    if (s->tls) { /* a record lost: the records after it cannot be framed or
                                * numbered, so none is read */
        s->tls_broken = true;
        s->rec_len = 0;
    }
    if (s->ooo)
        s->next_seq = s->ooo->seq;
    while (s->ooo && !*dead) {
        struct ooo_seg *o = s->ooo;
        int32_t diff = (int32_t)(o->seq - s->next_seq);
        if (diff > 0) { /* another hole, also never filled */
            decode_error(d, DR_SIP_TCP_GAP);
            s->len = 0;
            s->synced = false;
            s->next_seq = o->seq;
            diff = 0;
        }
        s->ooo = o->next;
        s->ooo_n--;
        s->ooo_bytes -= sizeof *o + o->len;
        t->held -= sizeof *o + o->len;
        if ((int64_t)o->len + diff > 0) {
            append(d, t, s, o->data - diff, (size_t)((int64_t)o->len + diff), o->pkt.ts);
            struct l4_packet own = *l4;
            own.pkt = &o->pkt;
            drain(d, t, s, &own, dead);
        }
        free(o);
    }
    s->ooo_since = l4->pkt->ts;
}

/* Should a direction we do not follow yet be followed from this segment? When it starts
 * with a SIP start line, a WebSocket upgrade or HEP; and when it merely holds "SIP/2.0"
 * (a capture that began mid-message, the next message starting inside this segment):
 * the resynchroniser then finds where. */
static bool worth_following(const struct decoder *d, const struct l4_packet *l4)
{
    const char *p = (const char *)l4->payload;
    size_t n = l4->len;
    struct l4_flow_key k = {.sport = l4->sport, .dport = l4->dport};
    if (tls_wanted(d, &k, l4->payload, n))
        return true;
    while (n && (*p == '\r' || *p == '\n'))
        p++, n--;
    return sip_looks_like(p, n) || is_ws_upgrade((const uint8_t *)p, n) ||
           (n >= 4 && memcmp(p, "HEP3", 4) == 0) || memmem(p, n, "SIP/2.0", 7) != NULL;
}

void tcp_segment(struct decoder *d, struct tcp_table *t, const struct l4_packet *l4)
{
    struct l4_flow_key k;
    l4_flow_key_make(&k, &l4->src, l4->sport, &l4->dst, l4->dport);
    uint64_t h = hash_bytes(&k, sizeof k, d->cfg.hash_seed);
    struct tcp_dir *s = htab_find(t->ht, h, &k);
    ptime_t now = l4->pkt->ts;

    /* directions silent for too long go first: the LRU head is the oldest */
    struct tcp_dir *old;
    while ((old = lru_oldest(t)) && old != s && now - old->last > t->idle)
        destroy(t, old);

    if (!s) {
        if (l4->len == 0 || (l4->tcp_flags & TCP_RST) || !worth_following(d, l4))
            return;
        if (!(s = calloc(1, sizeof *s)))
            return;
        s->key = k;
        s->hash = h;
        s->next_seq = l4->tcp_seq;
        s->fresh = true;
        while (!htab_insert(t->ht, h, s)) {
            if (!lru_oldest(t)) {
                free(s);
                return;
            }
            destroy(t, lru_oldest(t));
            d->st.tcp_evicted++;
        }
        dlist_push_tail(&t->lru, &s->lru);
        d->st.tcp_streams++;
    } else {
        dlist_touch(&t->lru, &s->lru);
    }
    s->last = now;

    uint32_t seq = l4->tcp_seq;
    if (l4->tcp_flags & TCP_SYN) { /* a new connection on the same tuple */
        s->len = 0;
        s->synced = false;
        s->mode = MODE_SIP;
        clear_ooo(t, s);
        if (s->tls) { /* a new connection: new hellos, new keys */
            t->held -= tls_conn_bytes();
            tls_conn_unref(s->tls);
            s->tls = NULL;
        }
        s->tls_side = TLS_SIDE_UNKNOWN;
        s->tls_broken = false;
        s->rec_len = 0;
        s->fresh = true;
        s->next_seq = seq + 1;
        seq++;
    }
    bool dead = false;
    if (l4->len > 0 && !l4->truncated) {
        const uint8_t *p = l4->payload;
        size_t n = l4->len;
        int32_t diff = (int32_t)(seq - s->next_seq);
        if (diff < 0) {
            if ((int64_t)n + diff <= 0) {
                d->st.tcp_retransmitted++;
                n = 0;
            } else { /* partly new */
                p -= diff;
                n = (size_t)((int64_t)n + diff);
                diff = 0;
            }
        }
        if (n > 0 && diff > 0) {
            bool held = hold_ooo(t, s, seq, p, n, l4->pkt);
            if (held && now - s->ooo_since <= HOLE_TIMEOUT)
                n = 0; /* waits for the hole to fill */
            else
                skip_hole(d, t, s, l4, &dead);
            if (held) {
                n = 0; /* it is in the list, taken from there */
            } else {
                diff = (int32_t)(seq - s->next_seq);
                if (diff != 0) { /* still apart from what was held: start afresh here */
                    s->next_seq = seq;
                    diff = 0;
                }
            }
        }
        if (n > 0 && diff == 0 && !dead) {
            append(d, t, s, p, n, now);
            pull_ooo(d, t, s, now);
            drain(d, t, s, l4, &dead);
        }
    } else if (l4->len > 0) {
        decode_error(d, DR_SIP_TCP_GAP); /* snaplen cut the segment: its bytes are gone */
        s->len = 0;
        s->synced = false;
        s->next_seq = seq + l4->len;
    }
    if (dead || (l4->tcp_flags & (TCP_FIN | TCP_RST)))
        destroy(t, s);
}

/* Input ended: pieces still waiting behind a hole are read as if the hole were lost,
 * so the messages after it are not. They carry the frame of the last piece. */
void tcp_finish(struct decoder *d, struct tcp_table *t)
{
    /* Flushing one direction may grow its buffer and so evict others, the next node of
     * this walk among them: start again after each. A flushed direction holds nothing
     * more, so this ends. */
    for (;;) {
        struct tcp_dir *s = NULL;
        for (struct dlist_node *n = t->lru.head; n && !s; n = n->next) {
            struct tcp_dir *c = dlist_entry(n, struct tcp_dir, lru);
            if (c->ooo)
                s = c;
        }
        if (!s)
            return;
        const struct ooo_seg *last = s->ooo;
        while (last->next)
            last = last->next;
        struct packet pkt = last->pkt;
        struct l4_packet l4;
        memset(&l4, 0, sizeof l4);
        l4.pkt = &pkt;
        l4.proto = 6;
        l4.src.family = l4.dst.family = s->key.family;
        memcpy(l4.src.b, s->key.src, 16);
        memcpy(l4.dst.b, s->key.dst, 16);
        l4.sport = s->key.sport;
        l4.dport = s->key.dport;
        bool dead = false;
        skip_hole(d, t, s, &l4, &dead);
        clear_ooo(t, s); /* whatever skip_hole left (it stops early on a dead stream) */
    }
}
