/* One call's message ladder as terminal text: hosts (ip:port) are columns in order of
 * first appearance; each SIP message is an arrow with its method or status, its time from
 * the first message and its frame; under a forwarded INVITE, how long the hop held it; the
 * call's DNS look-ups as arrows to their server. `sipscope ladder` prints it and the
 * terminal UI draws it. SIP text is attacker input: control characters never reach the
 * terminal. The caller picks the call's messages; the ladder only draws what it is given. */
#ifndef SIPSCOPE_RENDER_LADDER_H
#define SIPSCOPE_RENDER_LADDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "correlate/correlate.h"
#include "decode/decode.h"

/* Beyond these the rest is not drawn, and the drawing says so. */
#define RENDER_LADDER_MAX_HOSTS 8
#define RENDER_LADDER_MAX_MSGS  2000
/* Columns per host: the default, and the range render_ladder_print takes. */
#define RENDER_LADDER_WIDTH     26
#define RENDER_LADDER_WIDTH_MIN 12
#define RENDER_LADDER_WIDTH_MAX 80

struct render_ladder;

/* NULL: no memory. */
struct render_ladder *render_ladder_new(void);
void render_ladder_free(struct render_ladder *l);

/* One SIP message of the call, as an arrow; retrans: the correlator's verdict. */
void render_ladder_msg(struct render_ladder *l, const struct sip_event *ev, bool retrans);
/* The same from a message read back (a database's row): its parsed text, its hosts as
 * "ip:port" and its frame's time and number. */
struct render_ladder_in {
    const struct sip_msg *msg;
    const char *src, *dst;
    ptime_t ts;
    uint64_t frame;
    bool retrans, tls; /* tls: read from TLS (or WSS) */
};
void render_ladder_sip(struct render_ladder *l, const struct render_ladder_in *in);
/* The call itself, when it ended: its summary line, its hops' holding times and its DNS
 * look-ups. Only the first call given counts. */
void render_ladder_call(struct render_ladder *l, const struct call *c);
/* Arrows so far (messages and DNS); 0: nothing to draw. */
size_t render_ladder_rungs(const struct render_ladder *l);

/* Host columns so far. */
size_t render_ladder_hosts(const struct render_ladder *l);

/* Whether the terminal takes UTF-8: a label too long for its arrow ends in one U+2026
 * then, in "..." otherwise (the default). */
void render_ladder_set_utf8(struct render_ladder *l, bool utf8);

/* Writes the ladder to out in time order (sorting its arrows), then the call's summary,
 * then a line when something was not drawn. width: columns per host,
 * RENDER_LADDER_WIDTH_MIN to _MAX. false: no memory, nothing written. */
bool render_ladder_print(struct render_ladder *l, int width, FILE *out);

#endif
