/* A SIP message as docs/output.md's messages[] entry: the one renderer of `analyze
 * --json --messages` and of the API's /api/v1/calls/{id}/messages, so that the two carry
 * the same fields, written the same way. Flags add the parts only one of them wants:
 * "sdp" (the media lines of its body, added to the contract) and "raw" (its text, which
 * the API serves and the document leaves out). */
#ifndef SIPSCOPE_RENDER_MESSAGE_H
#define SIPSCOPE_RENDER_MESSAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/sv.h"
#include "decode/sdp.h"
#include "decode/sip.h"

#define RENDER_MSG_SDP 1u /* "sdp": of msg's body, null without one (or without msg) */
#define RENDER_MSG_RAW 2u /* "raw": the raw bytes, null when not kept */

struct render_message {
    uint64_t frame; /* 1-based, the frame that completed it */
    double time;    /* epoch seconds */
    const char *src, *dst, *transport;
    uint64_t call_seq; /* 0 none */
    bool retransmission;
    bool is_request;
    struct sv method;  /* a request's */
    int status;        /* a response's */
    struct sv reason;  /* a response's reason phrase; SV_NULL none */
    struct sv call_id; /* unfolded; SV_NULL none */
    const char *cseq;  /* "1 INVITE", NULL none */
    bool malformed;
    const char *error;         /* why malformed (decode_reason_name), NULL none */
    const struct sip_msg *msg; /* the message parsed (RENDER_MSG_SDP), NULL none */
    const void *raw;           /* RENDER_MSG_RAW; NULL none */
    size_t raw_len;
};

/* Buffers for the fields render_message_from_sip() writes out. */
struct render_message_buf {
    char call_id[1024];
    char cseq[96];
};

/* The fields of a parsed message (method or status and reason, Call-ID with its folded
 * lines joined as RFC 3261 §7.3.1 allows, CSeq, malformed and why), and msg itself. */
void render_message_from_sip(struct render_message *out, const struct sip_msg *m,
                             struct render_message_buf *buf);

/* sdp: scratch for RENDER_MSG_SDP (NULL: "sdp" is null). */
json_t *render_message_json(const struct render_message *m, unsigned flags, struct sdp *sdp);

#endif
