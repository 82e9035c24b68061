/* Every capture in ../shared/corpus/pcap is read to the last frame that capinfos counts,
 * without a read error. Without the corpus beside the repository: meson's skip (77) on a
 * developer's machine, a failure in CI (CI=true), where it is always laid (issue 22). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "decode/decode.h"
#include "support/runcap.h"

static long capinfos_frames(const char *corpus, const char *name)
{
    char path[2048], line[512];
    snprintf(path, sizeof path, "%s/oracle/%s/capinfos.txt", corpus, name);
    FILE *f = fopen(path, "r");
    long n = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "Number of packets:", 18))
            n = strtol(line + 18, NULL, 10);
    fclose(f);
    return n;
}

Test(corpus, frames_match_capinfos)
{
    const char *corpus = getenv("SIPSCOPE_CORPUS");
    char dirpath[2048];
    DIR *dir;
    snprintf(dirpath, sizeof dirpath, "%s/pcap", corpus ? corpus : "");
    cr_assert((dir = opendir(dirpath)), "%s: the corpus is not there", dirpath);

    struct dirent *e;
    int checked = 0;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        long want = capinfos_frames(corpus, e->d_name);
        cr_assert_geq(want, 0, "%s: no capinfos.txt in the oracle", e->d_name);

        char path[4096], err[256];
        snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
        const char *files[] = {path};
        struct capture_stats cs;
        struct decode_stats ds;
        cr_assert(runcap(files, 1, NULL, &cs, &ds, err, sizeof err), "%s", err);
        cr_expect_eq((long)cs.packets, want, "%s: read %llu frames, capinfos %ld", e->d_name,
                     (unsigned long long)cs.packets, want);
        cr_expect_eq(cs.read_errors, 0, "%s", e->d_name);
        checked++;
    }
    closedir(dir);
    cr_expect_gt(checked, 0);
}

/* Criterion's own main, after a look for the corpus: a test that cannot look at its
 * reference must not report OK. */
int main(int argc, char *argv[])
{
    const char *corpus = getenv("SIPSCOPE_CORPUS"), *ci = getenv("CI");
    char dirpath[2048];
    DIR *dir = NULL;
    if (corpus && *corpus) {
        snprintf(dirpath, sizeof dirpath, "%s/pcap", corpus);
        dir = opendir(dirpath);
    }
    if (!dir) {
        bool in_ci = ci && (!strcmp(ci, "true") || !strcmp(ci, "1") || !strcmp(ci, "yes"));
        printf("../shared/corpus is not present: %s\n",
               in_ci ? "a failure, CI=true" : "skipped");
        return in_ci ? 1 : 77;
    }
    closedir(dir);
    struct criterion_test_set *tests = criterion_initialize();
    int rc = 0;
    if (criterion_handle_args(argc, argv, true))
        rc = !criterion_run_all_tests(tests);
    criterion_finalize(tests);
    return rc;
}
