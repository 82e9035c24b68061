/* `sipscope analyze FILE...`: reads the inputs through capture/, decodes every frame,
 * and prints the summary as text or as the JSON of ../shared/OUTPUT.md. */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cli.h"
#include "common/log.h"
#include "decode/decode.h"
#include "decode/sdp.h"
#include "decode/sip.h"
#include "progress.h"
#include "sipscope_config.h"

static const char analyze_usage[] =
    "Usage: sipscope analyze [OPTIONS] FILE...\n"
    "\n"
    "Reads pcap and pcapng files (any link type libpcap opens; \"-\" reads stdin) and\n"
    "reports what they hold. Several files are merged in packet-time order.\n"
    "\n"
    "Options:\n"
    "  -j, --json          print one JSON document (../shared/OUTPUT.md) instead of text\n"
    "      --messages      with --json: list every SIP message (frame, time, addresses,\n"
    "                      method or status, Call-ID, CSeq)\n"
    "      --progress      always show the progress line on stderr\n"
    "      --no-progress   never show it (default: shown when stderr is a terminal)\n"
    "  -v, --verbose       log more (repeat for debug)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 done, 1 an input could not be read, 2 bad usage.\n";

static volatile int g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

struct analysis {
    struct decoder *dec;
    struct progress prog;
    struct capture_source *src;
    uint64_t packets;
    json_t *messages; /* with --messages; owned */
};

static json_t *sv_json(struct sv v)
{
    return v.p ? json_stringn(v.p, v.n) : json_null();
}

/* A header value as text: folded lines joined (RFC 3261 §7.3.1), invalid UTF-8 replaced
 * by Jansson's refusal, so the document stays valid. */
static json_t *hdr_json(const struct sip_msg *m, enum sip_hdr_id id)
{
    const struct sip_header *h = sip_hdr(m, id);
    if (!h)
        return json_null();
    char buf[1024];
    size_t n = sip_unfold(h->value, buf, sizeof buf);
    json_t *s = json_stringn(buf, n);
    return s ? s : json_string("(not UTF-8)");
}

/* The SDP of a message, when it has one: media lines with address, port, codecs and
 * direction (added to the contract's message object). */
static json_t *sdp_json(const struct sip_msg *m)
{
    static struct sdp s; /* large; one analysis thread */
    struct sv body;
    if (!sip_body_sdp(m, &body) || !sdp_parse(body.p, body.n, &s))
        return json_null();
    json_t *media = json_array();
    for (unsigned i = 0; i < s.nmedia; i++) {
        const struct sdp_media *md = &s.media[i];
        json_t *codecs = json_array();
        for (unsigned k = 0; k < md->nfmt; k++)
            json_array_append_new(codecs, md->fmt[k].encoding.p ? sv_json(md->fmt[k].encoding)
                                                                : json_integer(md->fmt[k].pt));
        json_t *o = json_object();
        json_object_set_new(o, "media", sv_json(md->media));
        json_object_set_new(o, "addr", sv_json(md->addr));
        json_object_set_new(o, "port", json_integer(md->port));
        json_object_set_new(o, "proto", sv_json(md->proto));
        json_object_set_new(o, "codecs", codecs);
        json_object_set_new(o, "direction", json_string(sdp_direction_name(md->dir)));
        json_array_append_new(media, o);
    }
    json_t *o = json_object();
    json_object_set_new(o, "media", media);
    json_object_set_new(o, "malformed", json_boolean(s.malformed));
    return o;
}

static void on_sip(void *user, const struct sip_event *ev)
{
    struct analysis *a = user;
    const struct sip_msg *m = ev->msg;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    if (!a->messages)
        return;
    ip_addr_port_str(&ev->l4->src, ev->l4->sport, src, sizeof src);
    ip_addr_port_str(&ev->l4->dst, ev->l4->dport, dst, sizeof dst);
    json_t *o = json_object();
    json_object_set_new(o, "frame", json_integer((json_int_t)ev->l4->pkt->frame));
    json_object_set_new(o, "time", json_real(ptime_to_epoch_s(ev->l4->pkt->ts)));
    json_object_set_new(o, "src", json_string(src));
    json_object_set_new(o, "dst", json_string(dst));
    json_object_set_new(o, "transport", json_string(sip_transport_name(ev->transport)));
    json_object_set_new(o, "method", m->is_request ? sv_json(m->method) : json_null());
    json_object_set_new(o, "status", m->is_request ? json_null() : json_integer(m->status));
    json_object_set_new(o, "reason", m->is_request ? json_null() : sv_json(m->reason));
    json_object_set_new(o, "call_id", hdr_json(m, SIP_H_CALL_ID));
    uint32_t num;
    struct sv meth;
    const struct sip_header *cseq = sip_hdr(m, SIP_H_CSEQ);
    if (cseq && sip_cseq_parse(cseq->value, &num, &meth)) {
        char buf[96];
        snprintf(buf, sizeof buf, "%u %.*s", num, (int)(meth.n < 64 ? meth.n : 64), meth.p);
        json_object_set_new(o, "cseq", json_string(buf));
    } else {
        json_object_set_new(o, "cseq", json_null());
    }
    json_object_set_new(o, "call", json_null());           /* calls: correlation to come */
    json_object_set_new(o, "retransmission", json_null()); /* transactions: to come */
    json_object_set_new(o, "sdp", sdp_json(m));
    json_object_set_new(o, "malformed", json_boolean(m->malformed));
    json_object_set_new(o, "error",
                        m->malformed ? json_string(decode_reason_name(m->error)) : json_null());
    json_array_append_new(a->messages, o);
}

static bool on_packet(void *user, const struct packet *pkt)
{
    struct analysis *a = user;
    decoder_frame(a->dec, pkt);
    progress_tick(&a->prog, a->src, ++a->packets);
    return true;
}

static json_t *time_or_null(bool have, ptime_t t)
{
    return have ? json_real(ptime_to_epoch_s(t)) : json_null();
}

static void set_u64(json_t *o, const char *key, uint64_t v)
{
    json_object_set_new(o, key, json_integer((json_int_t)v));
}

static json_t *capture_json(char **files, int nfiles, const struct capture_stats *cs,
                            const struct decode_stats *ds)
{
    json_t *c = json_object();
    json_t *jfiles = json_array();
    for (int i = 0; i < nfiles; i++)
        json_array_append_new(jfiles, json_string(files[i]));
    json_object_set_new(c, "files", jfiles);
    set_u64(c, "packets", cs->packets);
    set_u64(c, "bytes", cs->bytes);
    json_object_set_new(c, "first_time", time_or_null(cs->packets > 0, cs->first_ts));
    json_object_set_new(c, "last_time", time_or_null(cs->packets > 0, cs->last_ts));
    /* null, not 0, until the RTP decoder and duplicate detection exist: OUTPUT.md
     * says 0 never means "unknown". dropped is null for files (no kernel to drop). */
    set_u64(c, "sip_messages", ds->sip_messages);
    json_object_set_new(c, "rtp_packets", json_null());
    json_object_set_new(c, "rtcp_packets", json_null());
    json_object_set_new(c, "dropped", json_null());
    json_object_set_new(c, "duplicates", json_null());

    json_t *errors = json_object();
    for (int r = 0; r < DR__COUNT; r++)
        if (ds->errors[r])
            set_u64(errors, decode_reason_name(r), ds->errors[r]);
    if (cs->read_errors)
        set_u64(errors, "file_read_error", cs->read_errors);
    json_object_set_new(c, "decode_errors", errors);

    json_t *evicted = json_object();
    if (ds->frag_evicted)
        set_u64(evicted, "ip_fragments", ds->frag_evicted);
    if (ds->tcp_evicted)
        set_u64(evicted, "tcp_streams", ds->tcp_evicted);
    json_object_set_new(c, "evicted", evicted);
    set_u64(c, "out_of_order_frames", cs->out_of_order);

    /* added to the contract: what the decoder saw, layer by layer */
    json_t *l = json_object();
    set_u64(l, "ipv4", ds->ipv4);
    set_u64(l, "ipv6", ds->ipv6);
    set_u64(l, "udp", ds->udp);
    set_u64(l, "tcp", ds->tcp);
    set_u64(l, "non_ip", ds->non_ip);
    set_u64(l, "other_ip_protocols", ds->other_proto);
    set_u64(l, "ip_fragments", ds->fragments);
    set_u64(l, "reassembled", ds->reassembled);
    set_u64(l, "fragment_duplicates", ds->frag_duplicates);
    set_u64(l, "sctp", ds->sctp);
    set_u64(l, "tcp_retransmitted", ds->tcp_retransmitted);
    json_object_set_new(c, "layers", l);
    return c;
}

static int print_json(char **files, int nfiles, const struct capture_stats *cs,
                      const struct decode_stats *ds, json_t *messages)
{
    json_t *root = json_pack("{s:{s:s}, s:o}", "sipscope", "version", SIPSCOPE_VERSION, "capture",
                             capture_json(files, nfiles, cs, ds));
    if (!root)
        return 1;
    if (messages)
        json_object_set(root, "messages", messages);
    /* 16 significant digits: epoch seconds keep their microseconds */
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(16));
    fputc('\n', stdout);
    json_decref(root);
    return rc == 0 ? 0 : 1;
}

static void fmt_time(ptime_t t, char *buf, size_t len)
{
    time_t s = (time_t)(t / PTIME_SEC);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%06lld UTC", (long long)((t % PTIME_SEC) / 1000));
}

static void print_text(char **files, int nfiles, const struct capture_stats *cs,
                       const struct decode_stats *ds)
{
    printf("sipscope %s: %d file%s, %llu frames, %llu bytes\n", SIPSCOPE_VERSION, nfiles,
           nfiles == 1 ? "" : "s", (unsigned long long)cs->packets, (unsigned long long)cs->bytes);
    for (int i = 0; i < nfiles; i++)
        printf("  %s\n", files[i]);
    if (cs->packets) {
        char a[64], b[64];
        fmt_time(cs->first_ts, a, sizeof a);
        fmt_time(cs->last_ts, b, sizeof b);
        printf("time      %s to %s (%.3f s)\n", a, b,
               (double)(cs->last_ts - cs->first_ts) / 1e9);
    }
    printf("layers    IPv4 %llu, IPv6 %llu, UDP %llu, TCP %llu, not IP %llu, other IP %llu\n",
           (unsigned long long)ds->ipv4, (unsigned long long)ds->ipv6,
           (unsigned long long)ds->udp, (unsigned long long)ds->tcp,
           (unsigned long long)ds->non_ip, (unsigned long long)ds->other_proto);
    printf("SIP       %llu messages (%llu malformed), %llu TCP/WebSocket directions followed\n",
           (unsigned long long)ds->sip_messages, (unsigned long long)ds->sip_malformed,
           (unsigned long long)ds->tcp_streams);
    if (ds->fragments)
        printf("fragments %llu taken in, %llu datagrams reassembled, %llu duplicates\n",
               (unsigned long long)ds->fragments, (unsigned long long)ds->reassembled,
               (unsigned long long)ds->frag_duplicates);
    bool any = cs->read_errors > 0;
    for (int r = 0; r < DR__COUNT; r++)
        any |= ds->errors[r] > 0;
    if (any) {
        printf("not decoded:");
        for (int r = 0; r < DR__COUNT; r++)
            if (ds->errors[r])
                printf(" %s %llu", decode_reason_name(r), (unsigned long long)ds->errors[r]);
        if (cs->read_errors)
            printf(" file_read_error %llu", (unsigned long long)cs->read_errors);
        putchar('\n');
    }
    if (ds->frag_evicted)
        printf("evicted   %llu fragment datagrams (limit reached)\n",
               (unsigned long long)ds->frag_evicted);
}

int cmd_analyze(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},        {"progress", no_argument, NULL, 'P'},
        {"messages", no_argument, NULL, 'M'},
        {"no-progress", no_argument, NULL, 'N'}, {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    bool json = false, messages = false;
    int progress = -1, verbose = 0, ch;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "jvh", opts, NULL)) != -1) {
        switch (ch) {
        case 'j': json = true; break;
        case 'M': messages = true; break;
        case 'P': progress = 1; break;
        case 'N': progress = 0; break;
        case 'v': verbose++; break;
        case 'h': fputs(analyze_usage, stdout); return 0;
        default: fputs(analyze_usage, stderr); return 2;
        }
    }
    if (optind >= argc) {
        fputs("sipscope analyze: no input file\n\n", stderr);
        fputs(analyze_usage, stderr);
        return 2;
    }
    log_set_level(verbose >= 2 ? LOG_DEBUG : verbose ? LOG_INFO : LOG_WARN);

    char **files = argv + optind;
    int nfiles = argc - optind;
    struct capture_source src;
    char err[512];
    if (!capture_open_files(&src, (const char *const *)files, (size_t)nfiles, err, sizeof err)) {
        fprintf(stderr, "sipscope analyze: %s\n", err);
        return 1;
    }

    struct decode_config cfg;
    decode_config_default(&cfg);
    struct analysis a = {.src = &src, .messages = messages && json ? json_array() : NULL};
    struct decode_handlers handlers = {.sip = on_sip, .user = &a};
    a.dec = decoder_new(&cfg, &handlers);
    if (!a.dec) {
        fputs("sipscope analyze: out of memory\n", stderr);
        capture_close(&src);
        return 1;
    }
    progress_init(&a.prog, progress < 0 ? isatty(STDERR_FILENO) : progress);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    capture_run(&src, on_packet, &a, &g_stop);
    decoder_finish(a.dec);
    progress_done(&a.prog);
    if (g_stop)
        log_warn("interrupted: reporting what was read so far");

    struct capture_stats cs;
    capture_get_stats(&src, &cs);
    struct decode_stats dstats;
    decoder_get_stats(a.dec, &dstats);
    const struct decode_stats *ds = &dstats;
    int rc = 0;
    if (json)
        rc = print_json(files, nfiles, &cs, ds, a.messages);
    else
        print_text(files, nfiles, &cs, ds);
    json_decref(a.messages);
    decoder_free(a.dec);
    capture_close(&src);
    return rc;
}
