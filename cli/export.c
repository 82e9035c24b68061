/* `sipscope export --db FILE --call ID -o OUT.pcap`: a stored call's SIP frames as a pcap
 * that Wireshark opens and tshark decodes to the same messages (the frames are the ones
 * captured, with their link type and time). */
#include <getopt.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/vec.h"
#include "store/store.h"

static const char export_usage[] =
    "Usage: sipscope export --db FILE --call ID -o OUT.pcap\n"
    "\n"
    "Writes the SIP frames of one stored call (ID as in the output: call-N) as a pcap, with\n"
    "its RTP and RTCP frames when the analysis spooled them (analyze --spool-rtp), in time\n"
    "order. A message that spanned several TCP segments or IP fragments is exported as the\n"
    "frame that completed it.\n"
    "\n"
    "Exit status: 0 written, 1 the call or the database could not be read, 2 bad usage.\n";

/* One frame to write; its bytes are owned copies (the database's are valid only until
 * the next row). */
struct frame {
    int64_t ns; /* since the epoch */
    uint64_t order; /* ties: SIP frames by number, then media in stored order */
    int linktype;
    uint32_t caplen, wirelen;
    unsigned char *data;
};

struct export {
    struct frame *v;
    size_t n, cap;
    bool oom;
    uint64_t sip, media, bad;
};

static bool add(struct export *x, int64_t ns, uint64_t order, int linktype, const void *data,
                uint32_t caplen, uint32_t wirelen)
{
    unsigned char *copy = malloc(caplen ? caplen : 1);
    if (!copy || !vec_grow((void **)&x->v, &x->cap, x->n, sizeof *x->v, 64)) {
        free(copy);
        x->oom = true;
        return false;
    }
    memcpy(copy, data, caplen);
    x->v[x->n++] = (struct frame){ns, order, linktype, caplen, wirelen, copy};
    return true;
}

static bool on_frame(void *user, uint64_t frame, double time, int linktype, const void *data,
                     size_t len)
{
    struct export *x = user;
    x->sip++;
    /* stored as seconds rounded to the microsecond: back to whole microseconds */
    int64_t ns = llround(time * 1e6) * 1000;
    return add(x, ns, frame, linktype, data, (uint32_t)len, (uint32_t)len);
}

static bool on_media(void *user, int linktype, const void *records, size_t len)
{
    struct export *x = user;
    const unsigned char *p = records;
    while (len >= 16) {
        uint32_t h[4];
        memcpy(h, p, sizeof h);
        if (h[2] > len - 16 || h[1] >= 1000000000u) {
            x->bad++; /* a damaged chunk: the rest of it is not read */
            return true;
        }
        int64_t ns = (int64_t)h[0] * 1000000000 + h[1];
        if (!add(x, ns, UINT64_MAX / 2 + x->media++, linktype, p + 16, h[2], h[3]))
            return false;
        p += 16 + h[2];
        len -= 16 + (size_t)h[2];
    }
    return true;
}

static int by_time(const void *a, const void *b)
{
    const struct frame *p = a, *q = b;
    if (p->ns != q->ns)
        return p->ns < q->ns ? -1 : 1;
    return p->order < q->order ? -1 : p->order > q->order;
}

/* Writes the frames of the first frame's link type as a pcap with nanosecond stamps;
 * *skipped gets how many of another link type were left out. */
static bool write_pcap(const char *path, const struct export *x, uint64_t *skipped)
{
    int lt = x->n ? x->v[0].linktype : DLT_EN10MB; /* no frame: an empty capture */
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(lt, 262144, PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t *out = dead ? pcap_dump_open(dead, path) : NULL;
    if (!out) {
        fprintf(stderr, "sipscope export: %s: %s\n", path, dead ? pcap_geterr(dead) : "cannot create");
        if (dead)
            pcap_close(dead);
        return false;
    }
    *skipped = 0;
    for (size_t i = 0; i < x->n; i++) {
        const struct frame *f = &x->v[i];
        if (f->linktype != lt) {
            ++*skipped;
            continue;
        }
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)(f->ns / 1000000000);
        h.ts.tv_usec = (suseconds_t)(f->ns % 1000000000); /* nanoseconds, as opened */
        h.caplen = f->caplen;
        h.len = f->wirelen;
        pcap_dump((u_char *)out, &h, f->data);
    }
    bool ok = pcap_dump_flush(out) == 0;
    pcap_dump_close(out);
    pcap_close(dead);
    if (!ok)
        fprintf(stderr, "sipscope export: %s: write failed\n", path);
    return ok;
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"call", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *call = NULL, *outpath = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'c': call = optarg; break;
        case 'o': outpath = optarg; break;
        case 'h': fputs(export_usage, stdout); return 0;
        default: fputs(export_usage, stderr); return 2;
        }
    }
    char *end;
    unsigned long long seq = call && !strncmp(call, "call-", 5) ? strtoull(call + 5, &end, 10) : 0;
    if (!db || !outpath || !seq || *end) {
        fputs(export_usage, stderr);
        return 2;
    }
    char err[512];
    struct store *s = store_open(db, err, sizeof err);
    if (!s) {
        fprintf(stderr, "sipscope export: %s\n", err);
        return 1;
    }
    bool found;
    struct export x = {0};
    bool ok = store_call_frames(s, seq, on_frame, &x, &found) &&
              (!found || store_call_media(s, seq, on_media, &x));
    if (!ok || !found)
        fprintf(stderr, "sipscope export: %s\n",
                x.oom ? "out of memory" : found ? store_error(s) : "no such call");
    store_close(s);
    uint64_t skipped = 0;
    if (ok && found) {
        if (x.n)
            qsort(x.v, x.n, sizeof *x.v, by_time);
        ok = write_pcap(outpath, &x, &skipped);
    }
    for (size_t i = 0; i < x.n; i++)
        free(x.v[i].data);
    free(x.v);
    if (!ok || !found)
        return 1;
    if (skipped)
        fprintf(stderr, "sipscope export: %llu frames of another link type left out\n",
                (unsigned long long)skipped);
    if (x.bad)
        fprintf(stderr, "sipscope export: %llu damaged media chunks cut short\n",
                (unsigned long long)x.bad);
    fprintf(stderr, "%s: %llu SIP and %llu media frames of %s\n", outpath,
            (unsigned long long)x.sip, (unsigned long long)x.media, call);
    return 0;
}
