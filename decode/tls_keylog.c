/* NSS key log files (the SSLKEYLOGFILE format: "LABEL <client random hex> <secret hex>" a
 * line, # comments): the secrets of TLS 1.2 (CLIENT_RANDOM) and TLS 1.3 (the handshake
 * and first application traffic secrets) by client random. Bounded: TLS_KEYLOG_MAX
 * connections, the oldest forgotten first. A file is read to its last whole line and read
 * on from there when it grows (truncated: from the start). The secrets stay here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/hash.h"
#include "tls.h"

#define KEYLOG_FILES_MAX 16
#define LINE_MAX_BYTES   512 /* the longest label + 64 + 96 hex digits, with room */

struct kl_entry {
    uint8_t cr[32];
    uint8_t len[TLS_SEC__COUNT]; /* 0: not known */
    uint8_t sec[TLS_SEC__COUNT][48];
};

#define KL_CHUNK 256

struct kl_file {
    char *path; /* owned */
    off_t done; /* bytes read up to the end of the last whole line */
};

struct tls_keylog {
    struct htab *ht;       /* client random -> entry */
    /* owned: TLS_KEYLOG_MAX slots in chunks made as they fill (entries never move: the
     * table points at them), the oldest overwritten */
    struct kl_entry *chunk[TLS_KEYLOG_MAX / KL_CHUNK];
    size_t n, next;
    struct kl_file files[KEYLOG_FILES_MAX];
    size_t nfiles;
};

static const struct {
    const char *label;
    enum tls_secret s;
} labels[] = {
    {"CLIENT_RANDOM", TLS_SEC_MASTER},
    {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", TLS_SEC_CLIENT_HS},
    {"SERVER_HANDSHAKE_TRAFFIC_SECRET", TLS_SEC_SERVER_HS},
    {"CLIENT_TRAFFIC_SECRET_0", TLS_SEC_CLIENT_AP},
    {"SERVER_TRAFFIC_SECRET_0", TLS_SEC_SERVER_AP},
};

static bool cr_eq(const void *item, const void *key)
{
    return memcmp(((const struct kl_entry *)item)->cr, key, 32) == 0;
}

static uint64_t cr_hash(const uint8_t cr[32])
{
    return hash_bytes(cr, 32, 0x4b4c4f47);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* n hex digits at p into n/2 bytes; false on any other character */
static bool unhex(const char *p, size_t n, uint8_t *out)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        int hi = hexval(p[i]), lo = hexval(p[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static struct kl_entry *entry_for(struct tls_keylog *k, const uint8_t cr[32])
{
    uint64_t h = cr_hash(cr);
    struct kl_entry *e = htab_find(k->ht, h, cr);
    if (e) return e;
    struct kl_entry **c = &k->chunk[k->next / KL_CHUNK];
    if (!*c && !(*c = calloc(KL_CHUNK, sizeof **c)))
        return NULL;
    e = &(*c)[k->next % KL_CHUNK];
    if (k->n == TLS_KEYLOG_MAX) /* the oldest connection's secrets make room */
        htab_remove(k->ht, cr_hash(e->cr), e->cr);
    else
        k->n++;
    k->next = (k->next + 1) % TLS_KEYLOG_MAX;
    memset(e, 0, sizeof *e);
    memcpy(e->cr, cr, 32);
    if (!htab_insert(k->ht, h, e)) return NULL;
    return e;
}

/* One line: "LABEL crhex secrethex". Lines of other labels, comments and anything
 * unreadable are skipped. */
static void add_line(struct tls_keylog *k, const char *p, size_t n)
{
    const char *sp1 = memchr(p, ' ', n);
    if (!sp1) return;
    size_t ll = (size_t)(sp1 - p);
    const char *cr = sp1 + 1;
    size_t rest = n - ll - 1;
    if (rest < 65 || cr[64] != ' ') return;
    const char *sec = cr + 65;
    size_t sl = rest - 65;
    while (sl && (sec[sl - 1] == '\r' || sec[sl - 1] == ' '))
        sl--;
    if (sl == 0 || sl % 2 || sl > 96) return;
    for (size_t i = 0; i < sizeof labels / sizeof *labels; i++) {
        if (strlen(labels[i].label) != ll || memcmp(labels[i].label, p, ll)) continue;
        uint8_t r[32], s[48];
        if (!unhex(cr, 64, r) || !unhex(sec, sl, s)) return;
        struct kl_entry *e = entry_for(k, r);
        if (!e) return;
        memcpy(e->sec[labels[i].s], s, sl / 2);
        e->len[labels[i].s] = (uint8_t)(sl / 2);
        return;
    }
}

void tls_keylog_add_text(struct tls_keylog *k, const char *p, size_t n)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t l = nl ? (size_t)(nl - p) : n;
        if (l <= LINE_MAX_BYTES) add_line(k, p, l);
        if (!nl) return;
        p += l + 1;
        n -= l + 1;
    }
}

/* Reads a file on from where it ended; only whole lines (a line being written waits). */
static bool read_on(struct tls_keylog *k, struct kl_file *f)
{
    FILE *fp = fopen(f->path, "r");
    if (!fp) return false;
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && st.st_size < f->done)
        f->done = 0; /* truncated or replaced: read it afresh */
    if (fseeko(fp, f->done, SEEK_SET) != 0) {
        fclose(fp);
        return false;
    }
    char line[LINE_MAX_BYTES + 2];
    while (fgets(line, sizeof line, fp)) {
        size_t l = strlen(line);
        if (l == 0 || line[l - 1] != '\n') {
            if (l < sizeof line - 1) break; /* the last line, still being written */
            int c; /* a line longer than any key line: skip the rest of it */
            while ((c = fgetc(fp)) != EOF && c != '\n')
                ;
            f->done = ftello(fp);
            continue;
        }
        add_line(k, line, l - 1);
        f->done = ftello(fp);
    }
    fclose(fp);
    return true;
}

struct tls_keylog *tls_keylog_new(const char *const *paths, size_t n, char *err, size_t errlen)
{
    if (n > KEYLOG_FILES_MAX) {
        snprintf(err, errlen, "at most %d key log files", KEYLOG_FILES_MAX);
        return NULL;
    }
    struct tls_keylog *k = calloc(1, sizeof *k);
    if (!k ||
        !(k->ht = htab_new(TLS_KEYLOG_MAX, cr_eq))) {
        snprintf(err, errlen, "out of memory");
        tls_keylog_free(k);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct kl_file *f = &k->files[k->nfiles++];
        if (!(f->path = strdup(paths[i])) || !read_on(k, f)) {
            snprintf(err, errlen, "cannot read the TLS key log %s", paths[i]);
            tls_keylog_free(k);
            return NULL;
        }
    }
    return k;
}

void tls_keylog_free(struct tls_keylog *k)
{
    if (!k) return;
    for (size_t i = 0; i < k->nfiles; i++)
        free(k->files[i].path);
    htab_free(k->ht);
    for (size_t i = 0; i < TLS_KEYLOG_MAX / KL_CHUNK && k->chunk[i]; i++) {
        memset(k->chunk[i], 0, KL_CHUNK * sizeof *k->chunk[i]); /* no secret left behind */
        free(k->chunk[i]);
    }
    free(k);
}

size_t tls_keylog_bytes(const struct tls_keylog *k)
{
    if (!k) return 0;
    size_t n = sizeof *k + htab_bytes(k->ht);
    for (size_t i = 0; i < TLS_KEYLOG_MAX / KL_CHUNK && k->chunk[i]; i++)
        n += KL_CHUNK * sizeof *k->chunk[i];
    return n;
}

/* Whether a file's size is not what was read of it: written since, or replaced. */
static bool grown(const struct tls_keylog *k)
{
    struct stat st;
    for (size_t i = 0; i < k->nfiles; i++)
        if (stat(k->files[i].path, &st) == 0 && st.st_size != k->files[i].done) return true;
    return false;
}

size_t tls_keylog_find(struct tls_keylog *k, const uint8_t cr[32], enum tls_secret s,
                       uint8_t out[48], ptime_t now)
{
    if (!k) return 0;
    for (int pass = 0; pass < 2; pass++) {
        const struct kl_entry *e = htab_find(k->ht, cr_hash(cr), cr);
        if (e && e->len[s]) {
            memcpy(out, e->sec[s], e->len[s]);
            return e->len[s];
        }
        if (pass || !grown(k)) break;
        for (size_t i = 0; i < k->nfiles; i++)
            read_on(k, &k->files[i]);
    }
    return 0;
}
