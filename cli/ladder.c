/* `sipscope ladder FILE... CALL`: one call's message ladder in the terminal, for engineers
 * on an ssh session. This file picks the call's messages out of the run and prints what
 * render/ladder.h draws of them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "decode/sip.h"
#include "engine/pipeline.h"
#include "render/ids.h"
#include "render/ladder.h"

static const char ladder_usage[] =
    "Usage: sipscope ladder [OPTIONS] FILE... CALL\n"
    "\n"
    "Draws one call's ladder: hosts as columns, one arrow per SIP message, with the time\n"
    "since the call's first message and the frame number; under a forwarded INVITE, how\n"
    "long the hop held it; the DNS look-ups tied to the call as arrows to their server,\n"
    "with their answer and duration. CALL is an id from 'sipscope analyze' (call-N) or a\n"
    "SIP Call-ID.\n"
    "\n"
    "Options:\n"
    "  -w, --width N   columns per host (default 26)\n"
    "  -h, --help      this text\n";

/* Which call: its id's number, or else its SIP Call-ID. */
struct pick {
    const char *want;  /* the CALL argument */
    uint64_t want_seq; /* from "call-N", else 0 */
    struct render_ladder *l;
};

static bool is_ours(const struct pick *p, const struct sip_event *ev, const struct msg_verdict *v)
{
    if (p->want_seq) return v->call_seq == p->want_seq;
    const struct sip_header *h = sip_hdr(ev->msg, SIP_H_CALL_ID);
    return h && sv_eq_cstr(h->value, p->want);
}

static void on_msg(void *user, const struct sip_event *ev, const struct msg_verdict *v)
{
    struct pick *p = user;
    if (is_ours(p, ev, v)) render_ladder_msg(p->l, ev, v->retransmission);
}

static void on_call(void *user, const struct call *c)
{
    struct pick *p = user;
    if (p->want_seq ? c->seq == p->want_seq : (c->call_id && !strcmp(c->call_id, p->want)))
        render_ladder_call(p->l, c);
}

int cmd_ladder(int argc, char **argv)
{
    static const struct option opts[] = {
        {"width", required_argument, NULL, 'w'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int w = RENDER_LADDER_WIDTH, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "w:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'w':
            w = atoi(optarg);
            if (w < RENDER_LADDER_WIDTH_MIN || w > RENDER_LADDER_WIDTH_MAX) {
                fputs("sipscope ladder: --width wants 12 to 80\n", stderr);
                return 2;
            }
            break;
        case 'h': fputs(ladder_usage, stdout); return 0;
        default: fputs(ladder_usage, stderr); return 2;
        }
    }
    if (argc - optind < 2) {
        fputs("sipscope ladder: needs a capture and a call\n\n", stderr);
        fputs(ladder_usage, stderr);
        return 2;
    }
    struct pick p = {.want = argv[argc - 1], .l = render_ladder_new()};
    if (!p.l) {
        fputs("sipscope ladder: out of memory\n", stderr);
        return 1;
    }
    if (!render_call_seq(p.want, strlen(p.want), &p.want_seq)) p.want_seq = 0; /* a SIP Call-ID */
    struct correlate_config kcfg;
    correlate_config_default(&kcfg);
    struct pipeline_handlers h = {.sip = on_msg, .call = on_call, .user = &p};
    struct pipeline_result res;
    char err[512] = "";
    int rc = 1;
    if (pipeline_run(argv + optind, argc - optind - 1, &kcfg, &h, isatty(STDERR_FILENO), &res, err,
                     sizeof err))
        fprintf(stderr, "sipscope ladder: %s\n", err);
    else if (!render_ladder_rungs(p.l))
        fprintf(stderr, "sipscope ladder: no call '%s' in the input (see 'sipscope analyze')\n",
                p.want);
    else if (!render_ladder_print(p.l, w, stdout))
        fputs("sipscope ladder: out of memory\n", stderr);
    else
        rc = 0;
    render_ladder_free(p.l);
    return rc;
}
