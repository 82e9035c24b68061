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
#include "store/store.h"

static const char export_usage[] =
    "Usage: sipscope export --db FILE --call ID -o OUT.pcap\n"
    "\n"
    "Writes the SIP frames of one stored call (ID as in the output: call-N) as a pcap.\n"
    "A message that spanned several TCP segments or IP fragments is exported as the frame\n"
    "that completed it.\n"
    "\n"
    "Exit status: 0 written, 1 the call or the database could not be read, 2 bad usage.\n";

struct export {
    const char *path;
    pcap_t *dead;
    pcap_dumper_t *out;   /* opened at the first frame: a pcap has the link type of it */
    int linktype;
    bool failed;
    uint64_t written, skipped;
};

static bool open_out(struct export *x, int linktype)
{
    x->linktype = linktype;
    x->dead = pcap_open_dead(linktype, 262144);
    x->out = x->dead ? pcap_dump_open(x->dead, x->path) : NULL;
    if (!x->out) {
        fprintf(stderr, "sipscope export: %s: %s\n", x->path,
                x->dead ? pcap_geterr(x->dead) : "cannot create");
        x->failed = true;
    }
    return x->out != NULL;
}

static bool on_frame(void *user, uint64_t frame, double time, int linktype, const void *data,
                     size_t len)
{
    (void)frame;
    struct export *x = user;
    if (!x->out && !x->failed && !open_out(x, linktype))
        return false;
    if (linktype != x->linktype) {
        x->skipped++;
        return true;
    }
    struct pcap_pkthdr h;
    double sec = floor(time);
    h.ts.tv_sec = (time_t)sec;
    h.ts.tv_usec = (suseconds_t)llround((time - sec) * 1e6);
    if (h.ts.tv_usec >= 1000000) {
        h.ts.tv_sec++;
        h.ts.tv_usec -= 1000000;
    }
    h.caplen = h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)x->out, &h, data);
    x->written++;
    return true;
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
    struct export x = {.path = outpath, .linktype = -1};
    bool ok = store_call_frames(s, seq, on_frame, &x, &found);
    if (ok && found && !x.out && !x.failed)
        open_out(&x, DLT_EN10MB); /* a call with no stored frame: an empty capture */
    if (x.out)
        pcap_dump_close(x.out);
    if (x.dead)
        pcap_close(x.dead);
    if (!ok || !found)
        fprintf(stderr, "sipscope export: %s\n", found ? store_error(s) : "no such call");
    store_close(s);
    if (!ok || !found || x.failed)
        return 1;
    if (x.skipped)
        fprintf(stderr, "sipscope export: %llu frames of another link type left out\n",
                (unsigned long long)x.skipped);
    fprintf(stderr, "%s: %llu frames of %s\n", outpath, (unsigned long long)x.written, call);
    return 0;
}
