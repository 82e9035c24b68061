/* See save.h. The pcap format: libpcap's file format with the nanosecond magic
 * 0xa1b23c4d, version 2.4 (what tshark and tcpdump read). */
#include "save.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vec.h"

struct frame_ref {
    ptime_t ts;
    const uint8_t *data;
    uint32_t caplen;
    int linktype;
    uint64_t frame; /* SIP: its number (one frame may complete two messages); 0 media */
};

/* What one call holds for saving: the view's frames and the media copy (owned). */
struct held {
    struct tui_view v;
    uint8_t *media;
    size_t media_len;
};

static int by_time(const void *a, const void *b)
{
    const struct frame_ref *x = a, *y = b;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    return (x->frame > y->frame) - (x->frame < y->frame);
}

static bool put_ref(struct frame_ref **refs, size_t *n, size_t *cap, struct frame_ref r)
{
    if (!vec_grow((void **)refs, cap, *n, sizeof **refs, 64)) return false;
    (*refs)[(*n)++] = r;
    return true;
}

/* The frames of one call held: SIP frames once each, then its media records. */
static bool collect(const struct held *h, struct frame_ref **refs, size_t *n, size_t *cap,
                    struct tui_save_result *r)
{
    for (size_t i = 0; i < h->v.nmsgs; i++) {
        const struct tui_msg *m = &h->v.msgs[i];
        if (!m->pkt || (i && h->v.msgs[i - 1].frame == m->frame)) continue;
        if (!put_ref(refs, n, cap,
                     (struct frame_ref){m->ts, m->pkt, m->caplen, m->linktype, m->frame}))
            return false;
        r->sip++;
    }
    for (size_t off = 0; off + 16 <= h->media_len;) {
        int64_t ts;
        uint32_t caplen;
        int32_t lt;
        memcpy(&ts, h->media + off, 8);
        memcpy(&caplen, h->media + off + 8, 4);
        memcpy(&lt, h->media + off + 12, 4);
        if (off + 16 + caplen > h->media_len) break;
        if (!put_ref(refs, n, cap, (struct frame_ref){ts, h->media + off + 16, caplen, lt, 0}))
            return false;
        r->media++;
        off += 16 + caplen;
    }
    return true;
}

static bool write_all(FILE *f, struct frame_ref *refs, size_t n, struct tui_save_result *r)
{
    qsort(refs, n, sizeof *refs, by_time);
    int lt = n ? refs[0].linktype : 1;
    struct {
        uint32_t magic;
        uint16_t major, minor;
        int32_t zone;
        uint32_t sigfigs, snaplen, linktype;
    } hdr = {0xa1b23c4d, 2, 4, 0, 0, 262144, (uint32_t)lt};
    if (fwrite(&hdr, sizeof hdr, 1, f) != 1) return false;
    for (size_t i = 0; i < n; i++) {
        if (refs[i].linktype != lt) {
            r->skipped++;
            continue;
        }
        uint32_t rec[4] = {(uint32_t)(refs[i].ts / PTIME_SEC), (uint32_t)(refs[i].ts % PTIME_SEC),
                           refs[i].caplen, refs[i].caplen};
        if (fwrite(rec, sizeof rec, 1, f) != 1 ||
            (refs[i].caplen && fwrite(refs[i].data, refs[i].caplen, 1, f) != 1))
            return false;
    }
    return true;
}

bool tui_save_pcap(struct tui_model *m, const uint64_t *seqs, size_t n, const char *path,
                   struct tui_save_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    struct held *h = calloc(n ? n : 1, sizeof *h);
    struct frame_ref *refs = NULL;
    size_t nrefs = 0, cap = 0;
    bool ok = h != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        if (!tui_model_view(m, seqs[i], 80, true, &h[i].v)) continue; /* gone since */
        h[i].media_len = tui_model_media_copy(m, seqs[i], &h[i].media);
        r->calls++;
        ok = collect(&h[i], &refs, &nrefs, &cap, r);
    }
    FILE *f = ok ? fopen(path, "wb") : NULL;
    if (!ok) {
        snprintf(err, errlen, "out of memory");
    } else if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        ok = false;
    } else {
        bool written = write_all(f, refs, nrefs, r);
        if (fclose(f) || !written) {
            snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
            ok = false;
        }
    }
    for (size_t i = 0; h && i < n; i++) {
        tui_view_free(&h[i].v);
        free(h[i].media);
    }
    free(h);
    free(refs);
    return ok;
}
