/* See message.h. */
#include "message.h"

#include <stdio.h>

#include "ids.h"
#include "json.h"

void render_message_from_sip(struct render_message *out, const struct sip_msg *m,
                             struct render_message_buf *buf)
{
    out->is_request = m->is_request;
    out->method = m->is_request ? m->method : SV_NULL;
    out->status = m->is_request ? 0 : m->status;
    out->reason = m->is_request ? SV_NULL : m->reason;
    const struct sip_header *h = sip_hdr(m, SIP_H_CALL_ID);
    out->call_id =
        h ? sv_make(buf->call_id, sip_unfold(h->value, buf->call_id, sizeof buf->call_id))
          : SV_NULL;
    uint32_t num;
    struct sv meth;
    const struct sip_header *cseq = sip_hdr(m, SIP_H_CSEQ);
    out->cseq = NULL;
    if (cseq && sip_cseq_parse(cseq->value, &num, &meth)) {
        snprintf(buf->cseq, sizeof buf->cseq, "%u %.*s", num, (int)(meth.n < 64 ? meth.n : 64),
                 meth.p);
        out->cseq = buf->cseq;
    }
    out->malformed = m->malformed;
    out->error = m->malformed ? decode_reason_name(m->error) : NULL;
    out->msg = m;
}

/* The SDP of a message, when it has one: media lines with address, port, codecs and
 * direction (added to the contract's message object). */
static json_t *sdp_json(const struct sip_msg *m, struct sdp *scratch)
{
    struct sv body;
    if (!m || !scratch || !sip_body_sdp(m, &body, NULL) || !sdp_parse(body.p, body.n, scratch))
        return json_null();
    const struct sdp *s = scratch;
    json_t *media = json_array();
    for (unsigned i = 0; i < s->nmedia; i++) {
        const struct sdp_media *md = &s->media[i];
        json_t *codecs = json_array();
        for (unsigned k = 0; k < md->nfmt; k++)
            json_array_append_new(codecs, md->fmt[k].encoding.p ? render_sv(md->fmt[k].encoding)
                                                                : json_integer(md->fmt[k].pt));
        json_t *o = json_object();
        json_object_set_new(o, "media", render_sv(md->media));
        json_object_set_new(o, "addr", render_sv(md->addr));
        json_object_set_new(o, "port", json_integer(md->port));
        json_object_set_new(o, "proto", render_sv(md->proto));
        json_object_set_new(o, "codecs", codecs);
        json_object_set_new(o, "direction", json_string(sdp_direction_name(md->dir)));
        json_array_append_new(media, o);
    }
    json_t *o = json_object();
    json_object_set_new(o, "media", media);
    json_object_set_new(o, "malformed", json_boolean(s->malformed));
    return o;
}

json_t *render_message_json(const struct render_message *m, unsigned flags, struct sdp *sdp)
{
    char call[RENDER_ID_LEN];
    json_t *o = json_object();
    json_object_set_new(o, "frame", json_integer((json_int_t)m->frame));
    json_object_set_new(o, "time", json_real(m->time));
    json_object_set_new(o, "src", render_str_or_null(m->src));
    json_object_set_new(o, "dst", render_str_or_null(m->dst));
    json_object_set_new(o, "transport", render_str_or_null(m->transport));
    json_object_set_new(o, "method", m->is_request ? render_sv(m->method) : json_null());
    json_object_set_new(o, "status",
                        m->is_request || !m->status ? json_null() : json_integer(m->status));
    json_object_set_new(o, "reason", m->is_request ? json_null() : render_sv(m->reason));
    json_object_set_new(o, "call_id", render_sv(m->call_id));
    json_object_set_new(o, "cseq", render_str_or_null(m->cseq));
    json_object_set_new(o, "call",
                        m->call_seq ? json_string(render_call_id(m->call_seq, call)) : json_null());
    json_object_set_new(o, "retransmission", json_boolean(m->retransmission));
    if (flags & RENDER_MSG_SDP) json_object_set_new(o, "sdp", sdp_json(m->msg, sdp));
    json_object_set_new(o, "malformed", json_boolean(m->malformed));
    json_object_set_new(o, "error", render_str_or_null(m->error));
    if (flags & RENDER_MSG_RAW) json_object_set_new(o, "raw", render_textn(m->raw, m->raw_len));
    return o;
}
