/* Every capture in ../shared/corpus/pcap is read to the last frame that capinfos counts,
 * without a read error. Skipped when the corpus is not beside the repository. */
#include <criterion/criterion.h>
#include <dirent.h>
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
    if (!corpus || (snprintf(dirpath, sizeof dirpath, "%s/pcap", corpus), !(dir = opendir(dirpath))))
        cr_skip_test("../shared/corpus is not present");

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
