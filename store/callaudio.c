/* See callaudio.h. Two reads of the call's spooled media: the first finds the span of its
 * RTP (so that the track is allocated once, bounded), the second decodes each packet into
 * its channel. A packet's place is its RTP timestamp counted from its stream's anchor (so
 * that jitter does not shift samples), and the anchor follows packet time whenever the
 * two disagree by more than REANCHOR_MS (a timestamp jump, a new source behind the SSRC). */
#include "callaudio.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_SNDFILE
#include <sndfile.h>
#endif

#include "audio/audio.h"
#include "decode/decode.h"
#include "decode/rtp.h"
#include "store_int.h"

#define REANCHOR_MS  200
#define TAIL_SAMPLES (AUDIO_MAX_PACKET_SAMPLES + REANCHOR_MS * 8)

struct hostport {
    struct ip_addr ip;
    uint16_t port;
    bool ok;
};

struct track {
    struct hostport src, dst;
    uint32_t ssrc;
    int pt;
    enum audio_codec codec; /* of pt, from the stored codec name */
    int side;               /* 0 caller -> callee, 1 callee -> caller */
    struct audio_dec dec;   /* owned */
    bool anchored;
    int64_t anchor_pos;
    uint32_t anchor_ts;
};

struct reading {
    struct store_audio *a;
    struct track t[STORE_AUDIO_MAX_STREAMS];
    size_t nt;
    bool second;      /* pass 2: decode */
    int64_t t0, tmax; /* ns: first and last RTP packet of a known stream */
    bool any;
    size_t last; /* pass 2: end of the last sample written */
    int16_t tmp[AUDIO_MAX_PACKET_SAMPLES];
};

/* "ip:port" or "[v6]:port", as docs/output.md writes addresses; host alone when port_too is
 * false (then the text may also be "ip"). */
static struct hostport parse_hostport(const char *text, bool port_too)
{
    struct hostport h = {0};
    char host[64];
    const char *end, *p = text;
    if (!text) return h;
    if (*p == '[') {
        end = strchr(++p, ']');
    } else {
        end = strrchr(p, ':');
        if (!end) end = p + strlen(p);
    }
    if (!end || (size_t)(end - p) >= sizeof host) return h;
    memcpy(host, p, (size_t)(end - p));
    host[end - p] = 0;
    if (inet_pton(AF_INET, host, h.ip.b) == 1)
        h.ip.family = 4;
    else if (inet_pton(AF_INET6, host, h.ip.b) == 1)
        h.ip.family = 6;
    else
        return h;
    if (*end == ']') end++;
    if (port_too) {
        if (*end != ':') return h;
        h.port = (uint16_t)strtoul(end + 1, NULL, 10);
    }
    h.ok = true;
    return h;
}

static bool same_host(const struct hostport *a, const struct hostport *b)
{
    return a->ok && b->ok && ip_addr_eq(&a->ip, &b->ip);
}

/* The side a stream belongs to: its source is the caller's host (or its destination the
 * callee's) -> the caller's channel; the other way round -> the callee's. Media relayed
 * through hosts that are neither: the streams alternate, the first the caller's. */
static int side_of(const struct track *t, const struct hostport *caller,
                   const struct hostport *callee, unsigned *unknown)
{
    if (same_host(&t->src, caller) || same_host(&t->dst, callee)) return 0;
    if (same_host(&t->dst, caller) || same_host(&t->src, callee)) return 1;
    return (int)((*unknown)++ % 2);
}

static bool read_streams(struct store *s, uint64_t seq, struct reading *r, bool *found)
{
    sqlite3 *db = store_reading(s);
    sqlite3_stmt *q;
    if (!db) return false;
    if (sqlite3_prepare_v2(db,
                           "SELECT json_extract(json, '$.caller'), json_extract(json, '$.callee')"
                           " FROM calls WHERE seq = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return store_failed(s, "reading a call");
    sqlite3_bind_int64(q, 1, (sqlite3_int64)seq);
    int rc = sqlite3_step(q);
    *found = rc == SQLITE_ROW;
    struct hostport caller = {0}, callee = {0};
    if (*found) {
        caller = parse_hostport((const char *)sqlite3_column_text(q, 0), true);
        callee = parse_hostport((const char *)sqlite3_column_text(q, 1), true);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_failed(s, "reading a call");
    if (!*found) return true;
    if (sqlite3_prepare_v2(db,
                           "SELECT src, dst, json_extract(json, '$.ssrc'),"
                           " json_extract(json, '$.payload_type'), codec"
                           " FROM streams WHERE call_seq = ? ORDER BY seq",
                           -1, &q, NULL) != SQLITE_OK)
        return store_failed(s, "reading a call's streams");
    sqlite3_bind_int64(q, 1, (sqlite3_int64)seq);
    unsigned unknown = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && r->nt < STORE_AUDIO_MAX_STREAMS) {
        struct track *t = &r->t[r->nt];
        const char *ssrc = (const char *)sqlite3_column_text(q, 2);
        const char *codec = (const char *)sqlite3_column_text(q, 4);
        t->src = parse_hostport((const char *)sqlite3_column_text(q, 0), true);
        t->dst = parse_hostport((const char *)sqlite3_column_text(q, 1), true);
        if (!t->src.ok || !t->dst.ok || !ssrc) continue;
        t->ssrc = (uint32_t)strtoul(ssrc, NULL, 16);
        t->pt = sqlite3_column_type(q, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 3);
        t->codec =
            codec ? audio_codec_from_name((struct sv){codec, strlen(codec)}) : AUDIO_CODEC_UNKNOWN;
        if (t->codec == AUDIO_CODEC_UNKNOWN && t->pt >= 0)
            t->codec = audio_codec_from_pt((uint8_t)t->pt);
        t->side = side_of(t, &caller, &callee, &unknown);
        audio_dec_init(&t->dec, t->codec);
        r->nt++;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE || store_failed(s, "reading a call's streams");
}

static struct track *track_of(struct reading *r, const struct udp_peek *u, uint32_t ssrc)
{
    for (size_t i = 0; i < r->nt; i++) {
        struct track *t = &r->t[i];
        if (t->ssrc == ssrc && t->src.port == u->sport && t->dst.port == u->dport &&
            ip_addr_eq(&t->src.ip, &u->src) && ip_addr_eq(&t->dst.ip, &u->dst))
            return t;
    }
    return NULL;
}

/* The codec of this packet: the stream's own payload type is its stored codec; another
 * static one (CN 13, a switch to PCMA) by RFC 3551; a dynamic one we cannot name (RFC 4733
 * events) is no audio. */
static enum audio_codec packet_codec(const struct track *t, uint8_t pt)
{
    return (int)pt == t->pt ? t->codec : audio_codec_from_pt(pt);
}

static void place(struct reading *r, struct track *t, const struct rtp_hdr *h, int64_t ns, size_t n)
{
    struct store_audio *a = r->a;
    uint32_t clock = audio_codec_clock(t->dec.codec);
    int64_t by_time = (ns - r->t0) * STORE_AUDIO_RATE / 1000000000;
    int64_t pos = by_time;
    if (t->anchored && clock) {
        int64_t d = (int64_t)(int32_t)(h->ts - t->anchor_ts); /* RFC 3550 §5.1: wraps */
        pos = t->anchor_pos + d * STORE_AUDIO_RATE / clock;
    }
    if (!t->anchored || llabs(pos - by_time) > REANCHOR_MS * STORE_AUDIO_RATE / 1000) {
        t->anchored = true;
        t->anchor_pos = pos = by_time;
        t->anchor_ts = h->ts;
    }
    if (pos < 0) pos = 0;
    size_t cap = STORE_AUDIO_RATE * (size_t)STORE_AUDIO_MAX_S;
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)pos + i;
        if (k >= a->frames) {
            if (k >= cap) a->truncated = true;
            break;
        }
        a->pcm[2 * k + (size_t)t->side] = r->tmp[i];
        a->heard[k / (STORE_AUDIO_RATE / 1000 * STORE_AUDIO_BIN_MS)] |= (uint8_t)(1u << t->side);
        if (k + 1 > r->last) r->last = k + 1;
    }
}

/* Comfort noise (RFC 3389) is heard as silence: its bin is marked heard, nothing written. */
static void frame(struct reading *r, int linktype, int64_t ns, const uint8_t *data, uint32_t caplen)
{
    struct packet pkt = {
        .ts = (ptime_t)ns, .caplen = caplen, .wirelen = caplen, .linktype = linktype, .data = data};
    struct udp_peek u;
    struct rtp_hdr h;
    struct track *t;
    if (!decode_peek_udp(&pkt, &u) || !rtp_parse(u.payload, u.len, &h) ||
        !(t = track_of(r, &u, h.ssrc))) {
        r->a->ignored += !r->second;
        return;
    }
    if (!r->second) {
        if (!r->any || ns < r->t0) r->t0 = ns;
        if (!r->any || ns > r->tmax) r->tmax = ns;
        r->any = true;
        return;
    }
    enum audio_codec c = packet_codec(t, h.pt);
    const char *why = audio_codec_unavailable(c);
    if (c == AUDIO_CODEC_UNKNOWN || c == AUDIO_CODEC_EVENT || why) {
        r->a->undecoded++;
        if (why && !r->a->why[0]) snprintf(r->a->why, sizeof r->a->why, "%s", why);
        return;
    }
    if (c != t->dec.codec && c != AUDIO_CODEC_CN) { /* the stream changed codec */
        audio_dec_release(&t->dec);
        audio_dec_init(&t->dec, c);
    }
    size_t n = 0;
    struct audio_dec cn = {.codec = AUDIO_CODEC_CN};
    if (audio_decode(c == AUDIO_CODEC_CN ? &cn : &t->dec, u.payload + h.header_len, h.payload_len,
                     r->tmp, &n) != AUDIO_OK) {
        r->a->undecoded++;
        return;
    }
    r->a->packets[t->side]++;
    if (c == AUDIO_CODEC_CN) { /* silence: a packet's worth (20 ms) marked heard */
        n = STORE_AUDIO_RATE / 50;
        memset(r->tmp, 0, n * sizeof r->tmp[0]);
    }
    place(r, t, &h, ns, n);
}

/* The pcap records of one spooled chunk (store/spool.c writes them in this machine's order). */
static bool on_chunk(void *user, int linktype, const void *records, size_t len)
{
    struct reading *r = user;
    const unsigned char *p = records;
    while (len >= 16) {
        uint32_t hd[4];
        memcpy(hd, p, sizeof hd);
        if (hd[2] > len - 16 || hd[1] >= 1000000000u)
            return true; /* a damaged chunk: the rest of it is not read */
        r->a->spooled += !r->second;
        frame(r, linktype, (int64_t)hd[0] * 1000000000 + hd[1], p + 16, hd[2]);
        p += 16 + hd[2];
        len -= 16 + (size_t)hd[2];
    }
    return true;
}

static void release_tracks(struct reading *r)
{
    for (size_t i = 0; i < r->nt; i++)
        audio_dec_release(&r->t[i].dec);
}

enum store_qstatus store_audio_read(struct store *s, uint64_t call_seq, struct store_audio *a)
{
    memset(a, 0, sizeof *a);
    struct reading *r = calloc(1, sizeof *r);
    if (!r) {
        store_set_error(s, "out of memory");
        return STORE_Q_ERROR;
    }
    r->a = a;
    bool found = false;
    enum store_qstatus st = STORE_Q_OK;
    if (!read_streams(s, call_seq, r, &found) || !store_call_media(s, call_seq, on_chunk, r))
        st = STORE_Q_ERROR;
    else if (!found)
        st = STORE_Q_NOT_FOUND;
    if (st != STORE_Q_OK || !r->any) {
        if (st == STORE_Q_OK)
            snprintf(a->why, sizeof a->why, "%s",
                     a->spooled ? "the call's spooled media holds no RTP of its streams"
                                : "no media was spooled for this call: it had none, or "
                                  "the analysis ran without --spool-rtp");
        release_tracks(r);
        free(r);
        return st;
    }
    size_t span = (size_t)((r->tmax - r->t0) * STORE_AUDIO_RATE / 1000000000) + TAIL_SAMPLES;
    size_t cap = STORE_AUDIO_RATE * (size_t)STORE_AUDIO_MAX_S;
    a->frames = span < cap ? span : cap;
    a->truncated = span > cap;
    size_t per_bin = STORE_AUDIO_RATE / 1000 * STORE_AUDIO_BIN_MS;
    a->bins = (a->frames + per_bin - 1) / per_bin;
    a->pcm = calloc(a->frames * 2, sizeof *a->pcm);
    a->heard = calloc(a->bins ? a->bins : 1, 1);
    a->start = (double)r->t0 / 1e9;
    if (!a->pcm || !a->heard) {
        store_set_error(s, "out of memory");
        st = STORE_Q_ERROR;
    } else {
        r->second = true;
        if (!store_call_media(s, call_seq, on_chunk, r)) st = STORE_Q_ERROR;
    }
    /* the track ends where its last sample does */
    a->frames = r->last;
    a->bins = (a->frames + per_bin - 1) / per_bin;
    if (!a->frames && st == STORE_Q_OK && !a->why[0])
        snprintf(a->why, sizeof a->why, "none of the call's spooled RTP could be decoded");
    release_tracks(r);
    free(r);
    if (st != STORE_Q_OK) store_audio_free(a);
    return st;
}

void store_audio_free(struct store_audio *a)
{
    free(a->pcm);
    free(a->heard);
    a->pcm = NULL;
    a->heard = NULL;
    a->frames = a->bins = 0;
}

bool store_audio_level(const struct store_audio *a, size_t bin, int channel, double *dbov)
{
    size_t per_bin = STORE_AUDIO_RATE / 1000 * STORE_AUDIO_BIN_MS;
    if (bin >= a->bins || !(a->heard[bin] & (1u << channel))) return false;
    size_t from = bin * per_bin, to = from + per_bin < a->frames ? from + per_bin : a->frames;
    double sum = 0;
    for (size_t k = from; k < to; k++) {
        double v = a->pcm[2 * k + (size_t)channel];
        sum += v * v;
    }
    /* dBov against a full-scale square wave (ITU-T G.100.1), as audio/ measures */
    double ms = to > from ? sum / (double)(to - from) : 0;
    *dbov = ms > 0 ? 10 * log10(ms / (32768.0 * 32768.0)) : -99;
    if (*dbov < -99) *dbov = -99;
    return true;
}

#ifdef HAVE_SNDFILE
/* libsndfile's virtual I/O onto a memory buffer that grows to at most `max`. */
struct membuf {
    char *p;
    sf_count_t len, pos, cap, max;
};

static sf_count_t vio_len(void *u)
{
    return ((struct membuf *)u)->len;
}

static sf_count_t vio_seek(sf_count_t off, int whence, void *u)
{
    struct membuf *m = u;
    sf_count_t at = whence == SEEK_SET ? off : whence == SEEK_CUR ? m->pos + off : m->len + off;
    if (at < 0 || at > m->max) return -1;
    m->pos = at;
    return at;
}

static sf_count_t vio_read(void *dst, sf_count_t n, void *u)
{
    struct membuf *m = u;
    sf_count_t k = m->pos < m->len ? (n < m->len - m->pos ? n : m->len - m->pos) : 0;
    memcpy(dst, m->p + m->pos, (size_t)k);
    m->pos += k;
    return k;
}

static sf_count_t vio_write(const void *src, sf_count_t n, void *u)
{
    struct membuf *m = u;
    if (m->pos + n > m->max) return 0;
    if (m->pos + n > m->cap) {
        sf_count_t cap = m->cap ? m->cap : 65536;
        while (cap < m->pos + n)
            cap *= 2;
        char *p = realloc(m->p, (size_t)cap);
        if (!p) return 0;
        m->p = p;
        m->cap = cap;
    }
    if (m->pos > m->len) memset(m->p + m->len, 0, (size_t)(m->pos - m->len));
    memcpy(m->p + m->pos, src, (size_t)n);
    m->pos += n;
    if (m->pos > m->len) m->len = m->pos;
    return n;
}

static sf_count_t vio_tell(void *u)
{
    return ((struct membuf *)u)->pos;
}
#endif

bool store_audio_wav(const struct store_audio *a, char **buf, size_t *len, char *err, size_t errlen)
{
    *buf = NULL;
    *len = 0;
#ifdef HAVE_SNDFILE
    SF_VIRTUAL_IO vio = {vio_len, vio_seek, vio_read, vio_write, vio_tell};
    struct membuf m = {.max = (sf_count_t)a->frames * 4 + 4096};
    SF_INFO info = {
        .samplerate = STORE_AUDIO_RATE, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open_virtual(&vio, SFM_WRITE, &info, &m);
    if (!f) {
        snprintf(err, errlen, "libsndfile: %s", sf_strerror(NULL));
        free(m.p);
        return false;
    }
    sf_count_t w = sf_writef_short(f, a->pcm, (sf_count_t)a->frames);
    bool ok = w == (sf_count_t)a->frames;
    if (!ok) snprintf(err, errlen, "libsndfile: %s", sf_strerror(f));
    if (sf_close(f) != 0 && ok) {
        snprintf(err, errlen, "libsndfile could not finish the file");
        ok = false;
    }
    if (!ok) {
        free(m.p);
        return false;
    }
    *buf = m.p;
    *len = (size_t)m.len;
    return true;
#else
    (void)a;
    snprintf(err, errlen, "built without libsndfile: no WAV export");
    return false;
#endif
}
