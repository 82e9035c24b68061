/* pcap/pcapng file source: every format libpcap opens, several files merged by time.
 * libpcap's buffer for a handle stays valid until the next read on that handle, so each
 * file keeps one frame pending and the earliest pending frame is handed out; its file is
 * advanced only on the following call, which keeps the borrowed data pointer valid. */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"

struct file_input {
    pcap_t *pc;
    const char *path;   /* borrowed from the caller's argv */
    FILE *fp;           /* libpcap's stream, for progress only */
    char *iobuf;        /* owned: the stream's buffer (open_file), freed after pcap_close */
    uint64_t size;      /* 0 when unknown */
    bool has_pending;
    bool done;
    struct pcap_pkthdr *hdr;
    const u_char *data;
};

struct file_source {
    struct file_input *in;
    size_t n;
    long advance;       /* input to read from before choosing, -1 for none */
    struct capture_stats st;
};

static ptime_t hdr_time(const struct pcap_pkthdr *h)
{
    /* opened with PCAP_TSTAMP_PRECISION_NANO: tv_usec holds nanoseconds */
    return (ptime_t)h->ts.tv_sec * PTIME_SEC + (ptime_t)h->ts.tv_usec;
}

static void input_read(struct file_source *fs, struct file_input *in)
{
    int rc = pcap_next_ex(in->pc, &in->hdr, &in->data);
    if (rc == 1) {
        in->has_pending = true;
        return;
    }
    in->has_pending = false;
    in->done = true;
    if (rc == PCAP_ERROR) {
        /* e.g. "truncated dump file": what was read so far stands */
        fs->st.read_errors++;
        log_warn("%s: %s (after %llu frames in all)", in->path, pcap_geterr(in->pc),
                 (unsigned long long)fs->st.packets);
    }
}

static enum capture_status fs_next(void *self, struct packet *out)
{
    struct file_source *fs = self;

    if (fs->advance >= 0) {
        input_read(fs, &fs->in[fs->advance]);
        fs->advance = -1;
    }
    long best = -1;
    ptime_t best_ts = 0;
    for (size_t i = 0; i < fs->n; i++) {
        struct file_input *in = &fs->in[i];
        if (!in->has_pending)
            continue;
        ptime_t t = hdr_time(in->hdr);
        if (best < 0 || t < best_ts) {
            best = (long)i;
            best_ts = t;
        }
    }
    if (best < 0)
        return CAPTURE_EOF;

    struct file_input *in = &fs->in[best];
    out->ts = best_ts;
    out->caplen = in->hdr->caplen;
    out->wirelen = in->hdr->len;
    out->linktype = pcap_datalink(in->pc);
    out->input = (unsigned)best;
    out->data = in->data;
    out->hint = 0;
    fs->advance = best;

    capture_count(&fs->st, out);
    return CAPTURE_OK;
}

static void fs_stats(const void *self, struct capture_stats *out)
{
    const struct file_source *fs = self;
    *out = fs->st;
    out->bytes_read = 0;
    for (size_t i = 0; i < fs->n; i++) {
        const struct file_input *in = &fs->in[i];
        if (in->done) {
            out->bytes_read += in->size;
            continue;
        }
        long pos = in->fp ? ftell(in->fp) : -1;
        if (pos > 0)
            out->bytes_read += (uint64_t)pos;
    }
}

static void fs_close(void *self)
{
    struct file_source *fs = self;
    if (!fs)
        return;
    for (size_t i = 0; i < fs->n; i++)
        if (fs->in[i].pc)
            pcap_close(fs->in[i].pc);
    for (size_t i = 0; i < fs->n; i++)
        free(fs->in[i].iobuf);
    free(fs->in);
    free(fs);
}

/* libpcap reads a file with two freads per frame through a stream it opens with the file
 * system's 4 KiB buffer: a read system call per 20 frames of RTP. Opened here with a 1 MiB
 * buffer of ours (glibc takes a size only with the buffer) and without stdio's lock (one
 * thread reads it), the reading thread spends less per frame. */
#define IOBUF_BYTES ((size_t)1 << 20)
static pcap_t *open_file(const char *path, char **iobuf, char *perr)
{
    if (strcmp(path, "-") == 0)
        return pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(perr, PCAP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if ((*iobuf = malloc(IOBUF_BYTES)))
        setvbuf(f, *iobuf, _IOFBF, IOBUF_BYTES);
    __fsetlocking(f, FSETLOCKING_BYCALLER);
    pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!pc)
        fclose(f); /* libpcap closes it with the handle, not on failure */
    return pc;
}

static const struct capture_ops file_ops = {fs_next, fs_stats, fs_close, NULL};

bool capture_open_files(struct capture_source *src, const char *const *paths, size_t n,
                        char *err, size_t errlen)
{
    struct file_source *fs = calloc(1, sizeof *fs);
    if (!fs || n == 0 || !(fs->in = calloc(n, sizeof *fs->in))) {
        snprintf(err, errlen, n == 0 ? "no input file" : "out of memory");
        free(fs);
        return false;
    }
    fs->n = n;
    fs->advance = -1;
    for (size_t i = 0; i < n; i++) {
        char perr[PCAP_ERRBUF_SIZE] = "";
        struct file_input *in = &fs->in[i];
        in->path = paths[i];
        in->pc = open_file(paths[i], &in->iobuf, perr);
        if (!in->pc) {
            snprintf(err, errlen, "%s: %s", paths[i], perr);
            fs_close(fs);
            return false;
        }
        in->fp = pcap_file(in->pc);
        struct stat sb;
        if (strcmp(paths[i], "-") != 0 && stat(paths[i], &sb) == 0 && S_ISREG(sb.st_mode))
            in->size = (uint64_t)sb.st_size;
        else
            in->fp = NULL; /* a pipe: no position to report */
        fs->st.bytes_total += in->size;
        input_read(fs, in);
    }
    for (size_t i = 0; i < n; i++)
        if (fs->in[i].size == 0)
            fs->st.bytes_total = 0; /* one input of unknown size: no honest total */
    src->ops = &file_ops;
    src->self = fs;
    return true;
}
