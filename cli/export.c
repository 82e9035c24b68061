/* `sipscope export --db FILE --call ID -o OUT.pcap`: a stored call's SIP frames as a pcap
 * that Wireshark opens and tshark decodes to the same messages (the frames are the ones
 * captured, with their link type and time); `--audio OUT.wav` its spooled RTP decoded as
 * a stereo WAV (store/callaudio.h: caller left, callee right). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "render/ids.h"
#include "store/callaudio.h"
#include "store/export.h"

static const char export_usage[] =
    "Usage: sipscope export --db FILE --call ID -o OUT.pcap\n"
    "       sipscope export --db FILE --call ID --audio OUT.wav\n"
    "\n"
    "Writes the SIP frames of one stored call (ID as in the output: call-N) as a pcap, with\n"
    "its RTP and RTCP frames when the analysis spooled them (analyze --spool-rtp), in time\n"
    "order. A message that spanned several TCP segments or IP fragments is exported as the\n"
    "frame that completed it.\n"
    "\n"
    "--audio writes the call's spooled RTP decoded as a WAV instead: 16-bit, 8 kHz, stereo,\n"
    "the caller's media on the left and the callee's on the right, each packet at its\n"
    "packet time from the first one, silence where nothing came (at most 1 hour).\n"
    "\n"
    "Exit status: 0 written, 1 the call or the database could not be read, 2 bad usage.\n";

/* The WAV is written only when there is audio: no spooled media is an error, never an
 * empty file. */
static int export_audio(struct store *s, uint64_t seq, const char *call, const char *path)
{
    struct store_audio a;
    enum store_qstatus st = store_audio_read(s, seq, &a);
    char err[256] = "";
    char *buf = NULL;
    size_t len = 0;
    int rc = 1;
    if (st != STORE_Q_OK)
        fprintf(stderr, "sipscope export: %s\n",
                st == STORE_Q_NOT_FOUND ? "no such call" : store_error(s));
    else if (!a.frames)
        fprintf(stderr, "sipscope export: %s: %s\n", call, a.why);
    else if (!store_audio_wav(&a, &buf, &len, err, sizeof err))
        fprintf(stderr, "sipscope export: %s\n", err);
    else {
        FILE *out = fopen(path, "wb");
        bool ok = out && fwrite(buf, 1, len, out) == len;
        if (out && fclose(out) != 0) ok = false;
        if (!ok) {
            fprintf(stderr, "sipscope export: %s: %s\n", path, strerror(errno));
            remove(path);
        } else {
            rc = 0;
            fprintf(stderr, "%s: %.3f s of %s, %llu caller and %llu callee RTP packets%s\n", path,
                    (double)a.frames / STORE_AUDIO_RATE, call, (unsigned long long)a.packets[0],
                    (unsigned long long)a.packets[1], a.truncated ? ", cut at 1 hour" : "");
            if (a.why[0])
                fprintf(stderr, "  not decoded: %s (%llu packets)\n", a.why,
                        (unsigned long long)a.undecoded);
        }
    }
    free(buf);
    store_audio_free(&a);
    store_close(s);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},     {"call", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'o'}, {"audio", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *call = NULL, *outpath = NULL, *wavpath = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'c': call = optarg; break;
        case 'o': outpath = optarg; break;
        case 'a':
            wavpath = optarg;
            break;
        case 'h': fputs(export_usage, stdout); return 0;
        default: fputs(export_usage, stderr); return 2;
        }
    }
    uint64_t seq = 0;
    if (!db || !(outpath || wavpath) || (outpath && wavpath) || !call ||
        !render_call_seq(call, strlen(call), &seq)) {
        fputs(export_usage, stderr);
        return 2;
    }
    char err[512];
    struct store *s = store_open(db, err, sizeof err);
    if (!s) {
        fprintf(stderr, "sipscope export: %s\n", err);
        return 1;
    }
    if (wavpath) return export_audio(s, seq, call, wavpath);
    FILE *out = fopen(outpath, "wb");
    if (!out) {
        fprintf(stderr, "sipscope export: %s: %s\n", outpath, strerror(errno));
        store_close(s);
        return 1;
    }
    struct store_export_result r;
    enum store_qstatus st = store_export_pcap(s, seq, out, &r);
    bool closed = fclose(out) == 0;
    if (st != STORE_Q_OK || !closed) {
        fprintf(stderr, "sipscope export: %s\n",
                st == STORE_Q_NOT_FOUND ? "no such call" : st == STORE_Q_OK ? "writing failed" : store_error(s));
        store_close(s);
        remove(outpath);
        return 1;
    }
    store_close(s);
    if (r.skipped)
        fprintf(stderr, "sipscope export: %llu frames of another link type left out\n",
                (unsigned long long)r.skipped);
    if (r.damaged)
        fprintf(stderr, "sipscope export: %llu damaged media chunks cut short\n",
                (unsigned long long)r.damaged);
    fprintf(stderr, "%s: %llu SIP and %llu media frames of %s\n", outpath,
            (unsigned long long)r.sip, (unsigned long long)r.media, call);
    return 0;
}
