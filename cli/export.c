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
    pcap_t *dead;
    pcap_dumper_t *out;
    int linktype;       /* of the first frame: a pcap has one */
    uint64_t written, skipped;
};

static bool on_frame(void *user, uint64_t frame, double time, int linktype, const void *data,
                     size_t len)
{
    (void)frame;
    struct export *x = user;
    if (x->linktype < 0)
        x->linktype = linktype;
    if (linktype != x->linktype || !x->out) {
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

/* First pass: the link type; the dumper needs it before the first frame. */
static bool first_linktype(void *user, uint64_t frame, double time, int linktype,
                           const void *data, size_t len)
{
    (void)frame, (void)time, (void)data, (void)len;
    *(int *)user = linktype;
    return false;
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
    int linktype = -1;
    if (!store_call_frames(s, seq, first_linktype, &linktype, &found) || !found) {
        fprintf(stderr, "sipscope export: %s\n", found ? store_error(s) : "no such call");
        store_close(s);
        return 1;
    }
    struct export x = {.linktype = linktype};
    x.dead = pcap_open_dead(linktype >= 0 ? linktype : DLT_EN10MB, 262144);
    x.out = x.dead ? pcap_dump_open(x.dead, outpath) : NULL;
    if (!x.out) {
        fprintf(stderr, "sipscope export: %s: %s\n", outpath,
                x.dead ? pcap_geterr(x.dead) : "cannot create");
        if (x.dead)
            pcap_close(x.dead);
        store_close(s);
        return 1;
    }
    bool ok = store_call_frames(s, seq, on_frame, &x, &found);
    pcap_dump_close(x.out);
    pcap_close(x.dead);
    if (!ok)
        fprintf(stderr, "sipscope export: %s\n", store_error(s));
    store_close(s);
    if (x.skipped)
        fprintf(stderr, "sipscope export: %llu frames of another link type left out\n",
                (unsigned long long)x.skipped);
    fprintf(stderr, "%s: %llu frames of %s\n", outpath, (unsigned long long)x.written, call);
    return ok ? 0 : 1;
}
