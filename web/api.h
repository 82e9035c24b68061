/* The JSON API of docs/design.md ("Interfaces"), apart from HTTP: a request is a
 * method, a path and a way to read its query arguments; the answer is a status, a content
 * type and a body. web/server.c carries it over libmicrohttpd; tests can call it direct.
 *
 * Routes (GET only):
 *   /api/v1/calls                 filters: from, to (epoch s), user, from_user, to_user,
 *                                 call_id, state, status (200, or 4 for 4xx), issue,
 *                                 min_mos, max_mos, address, q (free text), cursor, limit
 *                                 -> {"calls": [call...], "next": cursor|null}
 *   /api/v1/calls/{id}            -> the call (docs/output.md), 404 unknown
 *   /api/v1/calls/{id}/messages   -> {"messages": [message + "raw"]}: the ladder's data
 *   /api/v1/calls/{id}/streams    -> {"streams": [stream + "timeline"]}
 *   /api/v1/calls/{id}/pcap       -> the call's frames (and spooled media) as a pcap
 *   /api/v1/calls/{id}/audio.wav  -> its spooled RTP decoded: WAV, 8 kHz, caller left, callee
 *                                 right (store/callaudio.h); 404 with why when none was spooled
 *   /api/v1/calls/{id}/levels     -> {"call", "start", "duration_s", "bin_ms", "rate",
 *                                 "caller": [dBov|null...], "callee": [...]} per 100 ms
 *   /api/v1/streams               from, to, address, cursor, limit -> {"streams", "next"}
 *   /api/v1/registrations         from, to, aor, cursor, limit -> {"registrations", "next"}
 *   /api/v1/issues                from, to, kind, severity, cursor, limit
 *                                 -> {"issues", "next"}
 *   /api/v1/stats                 -> the last run's {"capture", "stats"}, and row counts
 *   /api/v1/events                (server.c) Server-Sent Events: "call" events, each a call
 *                                 object, for every call written after the stream began
 *                                 (or after Last-Event-ID), id = the call's revision
 * Errors are JSON {"error": "..."} with 400 (a bad filter, an unknown parameter), 404,
 * 405 (not GET) or 500. */
#ifndef SIPSCOPE_WEB_API_H
#define SIPSCOPE_WEB_API_H

#include <stdbool.h>
#include <stddef.h>

#include "store/query.h"

/* The query arguments of a request: get(key) is the value or NULL; each(fn) visits every
 * key (to refuse unknown ones). */
struct api_args {
    const char *(*get)(void *ctx, const char *key);
    bool (*each)(void *ctx, bool (*fn)(void *user, const char *key), void *user);
    void *ctx;
};

struct api_reply {
    int status;
    const char *type;        /* Content-Type */
    char *body;              /* owned (malloc) */
    size_t len;
    char disposition[96];    /* Content-Disposition, "" none */
    bool ranges;             /* the body may be served in byte ranges (RFC 9110 §14): media
                              * elements seek in audio.wav only when the server allows it */
};

/* A store_json_fn that keeps the one row a query gives: *(char **)user gets a malloc'd
 * copy (freeing what it held). */
bool api_keep_json(void *user, const char *json);

/* What the API shows. Digest responses and other credentials in SIP messages' Authorization
 * and Proxy-Authorization fields are masked in messages' "raw" text and in the pcap
 * export (same length: the pcap stays valid, its checksums then do not match) unless
 * show_credentials is set (sip_mask_credentials). */
struct api_options {
    bool show_credentials;
};

/* Answers one request from store s (a reader of its own: the caller does not share it
 * between threads). o: NULL for the defaults. */
void api_handle(struct store *s, const char *method, const char *path, const struct api_args *a,
                const struct api_options *o, struct api_reply *r);

#endif
