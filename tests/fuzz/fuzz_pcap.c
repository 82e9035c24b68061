/* libFuzzer harness for the whole pipeline fed a capture file: the input is the bytes of a
 * pcap or pcapng file, read by libpcap (capture/), decoded, correlated, tracked and judged
 * (engine/pipeline.c, as `sipscope analyze` runs it, with the issue catalogue on every call,
 * stream and registration, and its 10-second settling). Seeds are the generator's
 * captures, cut to a few hundred frames (make_pcap_seeds.py). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/pipeline.h"
#include "diagnose/issues.h"

struct run {
    struct issue_engine *eng;
    uint64_t seen;
};

static void on_issue(void *user, const struct issue *is)
{
    struct run *r = user;
    r->seen += is->nframes + is->nev + strlen(is->summary) + strlen(is->diagnosis);
}

static void on_call(void *user, const struct call *c) { issues_call(((struct run *)user)->eng, c); }

static void on_reg(void *user, const struct registration *g)
{
    issues_registration(((struct run *)user)->eng, g);
}

static void on_stream(void *user, const struct rtp_stream *s)
{
    issues_stream(((struct run *)user)->eng, s);
}

static void on_settle(void *user, ptime_t now, const struct stream_table *t)
{
    issues_tick(((struct run *)user)->eng, now, t);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("SIPSCOPE_NO_READAHEAD", "1", 1); /* one thread: a crash points at its input */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz-pcap", 0)) < 0)
        return 0;
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *files[] = {path};
    struct run r = {.eng = issues_new(NULL, on_issue, &r)};
    if (!r.eng)
        return 0;
    struct correlate_config kcfg;
    correlate_config_default(&kcfg);
    kcfg.max_calls = 64; /* small tables: evictions happen on small inputs */
    kcfg.max_transactions = 128;
    kcfg.max_registrations = 32;
    struct pipeline_handlers h = {.call = on_call, .reg = on_reg, .stream = on_stream,
                                  .settle = on_settle, .user = &r};
    struct pipeline_result res;
    char err[256];
    if (pipeline_run(files, 1, &kcfg, &h, false, &res, err, sizeof err) == 0)
        issues_finish(r.eng, res.cs.last_ts);
    issues_free(r.eng);
    return 0;
}
