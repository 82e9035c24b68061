/* What the terminal UI shows, kept apart from the analysis: the analysis thread hands each
 * SIP message, call, stream and issue in (tui_model_* handlers, under the model's lock, never
 * per RTP packet unless media is kept for saving), and the screen takes copies out (rows,
 * one call's view) at most ten times a second, so that drawing never holds the analysis up
 * for longer than a copy. Everything kept has a maximum: calls (the oldest ended goes
 * first, counted), messages per call, bytes of media. */
#ifndef SIPSCOPE_TUI_MODEL_H
#define SIPSCOPE_TUI_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "correlate/correlate.h"
#include "diagnose/issues.h"
#include "metrics/stream.h"
#include "render/ladder.h"

#define TUI_MAX_MSGS    500   /* SIP messages kept per call (the ladder's own cap is 2000) */
#define TUI_MAX_RAW     65536 /* bytes of one message's text kept */
#define TUI_MAX_STREAMS 16    /* per call */
#define TUI_MAX_ISSUES  32    /* per call */
#define TUI_CALL_BYTES  16384 /* what one call is reckoned to cost, for the budget */

/* One line of the call list, as the screen sorts and filters it. Text is as sent (the
 * screen makes it safe to show). */
/* A registration's rows are held under its own numbers with this bit set, apart from the
 * calls' (the correlator numbers the two apart). */
#define TUI_REG_SEQ (UINT64_C(1) << 63)

struct tui_row {
    uint64_t seq;
    bool reg; /* a REGISTER dialog: state is an enum reg_state, From its AoR's user, To the
               * registrar, caller its source */
    double time;                     /* first INVITE, epoch seconds */
    char from[64], to[64];           /* user, else URI */
    char from_name[64], to_name[64]; /* display names, "" none */
    char call_id[128];
    char caller[IP_ADDR_PORT_STRLEN], callee[IP_ADDR_PORT_STRLEN]; /* ip:port */
    uint8_t state;                                                 /* enum call_state */
    bool ended;    /* handed on by the correlator: no message will change it */
    bool answered; /* a 2xx came */
    int final_status;       /* 0 none */
    double pdd_ms, dur_s;   /* < 0 none */
    double mos;             /* worst of its streams; < 0 none */
    uint64_t issue_kinds;   /* bit per enum issue_kind (model.c asserts they fit) */
    uint8_t worst_severity; /* of its issues; SEV__COUNT none */
};

/* calls, active (in progress: trying to answered), settled (the others) and answered (of
 * those settled): of the calls held now, so that a long live run shows its recent ASR. */
struct tui_stats {
    uint64_t calls, active, settled, answered, evicted;
    uint64_t packets, dropped; /* dropped: the kernel's and our ring's */
    uint64_t bytes_read, bytes_total;
    bool live, done;
    char error[256];   /* the run failed: why */
    char warning[256]; /* the last warning logged */
};

struct tui_msg {
    uint64_t frame;
    ptime_t ts;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
    bool retrans;
    char *raw; /* owned: the SIP text as sent (at most TUI_MAX_RAW) */
    size_t len;
    uint8_t *pkt; /* owned: the frame that completed it, for saving */
    uint32_t caplen;
    int linktype;
};
/* Frees n messages' text and frames, and the array. */
void tui_msgs_free(struct tui_msg *msgs, size_t n);


struct tui_stream {
    uint64_t seq;
    char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN], codec[16];
    uint64_t packets;
    int64_t expected, lost;
    double mean_jitter_ms, max_jitter_ms, mos;
    /* what its payload carried (docs/output.md's stream.audio): with audio, the level over
     * all heard and over speech (NAN: none), the active share (NAN: none) and the tones
     * heard ("" none); without, why not */
    bool audio;
    double level_dbov, speech_dbov, active_pct;
    char tones[64];
    char audio_why[96];
};

struct tui_issue {
    uint8_t kind, severity;
    uint64_t frames[ISSUE_MAX_FRAMES];
    uint8_t nframes;
    char summary[256];
    char diagnosis[1024];
};

/* One call as the call view shows it: copies, the screen's own. */
struct tui_view {
    struct tui_row row;
    char *ladder; /* owned: render/ladder.h's text, lines split by '\n' */
    size_t ladder_hosts;
    struct tui_msg *msgs; /* owned, their raw text too; frames only when asked */
    size_t nmsgs;
    struct tui_stream streams[TUI_MAX_STREAMS];
    size_t nstreams;
    struct tui_issue *issues; /* owned */
    size_t nissues;
};

struct tui_model;

/* max_calls: kept at most (the oldest ended goes first); media_bytes: RTP kept for saving,
 * 0 none. NULL: no memory. */
struct tui_model *tui_model_new(size_t max_calls, size_t media_bytes, bool utf8);
void tui_model_free(struct tui_model *m);

/* The analysis side (the engine's handlers take user = the model). */
void tui_model_sip(void *user, const struct sip_event *ev, const struct msg_verdict *v);
void tui_model_call(void *user, const struct call *c);          /* ended */
void tui_model_call_progress(void *user, const struct call *c); /* in progress */
void tui_model_registration(struct tui_model *m, const struct registration *g);
void tui_model_stream(struct tui_model *m, const struct rtp_stream *st);
void tui_model_issue(void *user, const struct issue *is);
void tui_model_media(void *user, uint64_t call_seq, const struct packet *pkt);
/* A database's call (tui --db): its row, its ladder, messages, streams and issues,
 * replacing whatever the model held of it. The model takes ladder, msgs (with their raw
 * text and frames) and issues, held or not. */
struct tui_call_parts {
    const struct tui_row *row;
    struct render_ladder *ladder;
    struct tui_msg *msgs;
    size_t nmsgs;
    const struct tui_stream *streams;
    size_t nstreams;
    struct tui_issue *issues;
    size_t nissues;
};
void tui_model_replace(struct tui_model *m, const struct tui_call_parts *p);
void tui_model_capture(struct tui_model *m, const struct capture_stats *cs, bool live);
void tui_model_done(struct tui_model *m, const char *error);
void tui_model_warn(struct tui_model *m, const char *msg);

/* The screen's side. Copies the rows into *rows (grown as needed; *cap its size) when the
 * model changed since *gen (then *gen follows); returns the rows' count, or SIZE_MAX when
 * nothing changed. st: the counts, always. */
size_t tui_model_rows(struct tui_model *m, struct tui_row **rows, size_t *cap, uint64_t *gen,
                      struct tui_stats *st);
/* One call's view, its ladder drawn to fit cols columns (frames: copy the frames too).
 * false: no such call now, or no memory. */
bool tui_model_view(struct tui_model *m, uint64_t seq, int cols, bool frames, struct tui_view *v);
void tui_view_free(struct tui_view *v);
/* The media kept of call seq, in order: records of (ptime_t ts, uint32_t caplen, int32
 * linktype, bytes). Copied into *buf (malloc'd); 0 none. */
size_t tui_model_media_copy(struct tui_model *m, uint64_t seq, uint8_t **buf);

#endif
