/* See call.h. */
#include "call.h"

#include <stdlib.h>
#include <string.h>

#include "decode/dns.h"
#include "ids.h"
#include "json.h"
#include "jsontext.h"

static json_t *addr_json(const struct call_addr *a)
{
    return json_pack("{s:o, s:o, s:o}", "display", render_str_or_null(a->display), "uri",
                     render_str_or_null(a->uri), "user", render_str_or_null(a->user));
}

/* The call's path, one entry per copy of its initial INVITE on the wire,
 * with the responses that came back on it, times from that copy. */
static json_t *path_json(const struct call *c)
{
    static const char *const how[] = {"first", "via", "address", "order", "same_branch"};
    json_t *a = json_array();
    for (unsigned i = 0; i < c->nsegs; i++) {
        const struct call_seg *s = &c->segs[i];
        char src[IP_ADDR_PORT_STRLEN], dst[IP_ADDR_PORT_STRLEN];
        ip_addr_port_str(&s->src, s->sport, src, sizeof src);
        ip_addr_port_str(&s->dst, s->dport, dst, sizeof dst);
        json_t *o = json_object();
        json_object_set_new(o, "from", json_string(src));
        json_object_set_new(o, "to", json_string(dst));
        json_object_set_new(o, "time", render_time(true, s->time));
        render_set_u64(o, "frame", s->frame);
        render_set_u64(o, "cseq", s->cseq);
        json_object_set_new(o, "leg", json_integer(s->leg));
        json_object_set_new(o, "vias", json_integer(s->nvia));
        json_object_set_new(o, "forwards", s->parent >= 0 ? json_integer(s->parent) : json_null());
        json_object_set_new(o, "matched_by",
                            s->parent >= 0 ? json_string(how[s->match]) : json_null());
        render_set_u64(o, "retransmissions", s->copies);
        json_object_set_new(o, "trying_ms", render_ms_since(s->time, s->trying_time));
        json_object_set_new(o, "provisional_ms", render_ms_since(s->time, s->prov_time));
        json_object_set_new(o, "provisional_status",
                            s->prov_status ? json_integer(s->prov_status) : json_null());
        json_object_set_new(o, "final_ms", render_ms_since(s->time, s->final_time));
        json_object_set_new(o, "final_status",
                            s->final_status ? json_integer(s->final_status) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

/* Each hop that forwarded the INVITE: how long it held it, how long its
 * downstream took to answer (1xx or final, 100 aside), and how long it took to pass that
 * answer back. */
static json_t *hops_json(const struct call *c)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < c->nsegs; i++) {
        const struct call_seg *out = &c->segs[i];
        if (out->parent < 0) continue;
        const struct call_seg *in = &c->segs[out->parent];
        char host[IP_ADDR_PORT_STRLEN];
        ip_addr_port_str(&in->dst, in->dport, host, sizeof host);
        ptime_t down = call_seg_answered(out), up = call_seg_answered(in);
        json_t *o = json_object();
        json_object_set_new(o, "host", json_string(host));
        char from[IP_ADDR_PORT_STRLEN];
        ip_addr_port_str(&out->src, out->sport, from, sizeof from);
        json_object_set_new(o, "sent_from", json_string(from)); /* an SBC's other side */
        json_object_set_new(o, "in", json_integer(out->parent));
        json_object_set_new(o, "out", json_integer(i));
        json_object_set_new(o, "held_ms", render_ms_since(in->time, out->time));
        json_object_set_new(o, "downstream_ms", render_ms_since(out->time, down));
        json_object_set_new(o, "relay_ms",
                            down && up >= down ? render_ms_since(down, up) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

/* The DNS look-ups tied to the call. */
static json_t *dns_json(const struct call *c)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < c->ndns; i++) {
        const struct call_dns *d = &c->dns[i];
        char host[IP_ADDR_PORT_STRLEN], server[IP_ADDR_PORT_STRLEN], rc[16], type[16];
        ip_addr_str(&d->host, host, sizeof host);
        ip_addr_str(&d->server, server, sizeof server);
        const char *tn = dns_type_label(d->qtype, type, sizeof type);
        json_t *frames = json_array();
        json_array_append_new(frames, json_integer((json_int_t)d->query_frame));
        if (d->answer_frame)
            json_array_append_new(frames, json_integer((json_int_t)d->answer_frame));
        json_t *o = json_object();
        json_object_set_new(o, "host", json_string(host));
        json_object_set_new(o, "server", json_string(server));
        json_object_set_new(o, "name", render_str_or_null(d->qname));
        json_object_set_new(o, "type", json_string(tn));
        json_object_set_new(o, "time", render_time(true, d->query_time));
        json_object_set_new(o, "answer_time", render_time(d->answer_time, d->answer_time));
        json_object_set_new(o, "duration_ms", render_ms_since(d->query_time, d->answer_time));
        json_object_set_new(o, "tries", json_integer(d->tries));
        json_object_set_new(o, "rcode",
                            d->rcode >= 0
                                ? json_string(dns_rcode_name((uint8_t)d->rcode, rc, sizeof rc))
                                : json_null());
        json_object_set_new(o, "timed_out", json_boolean(d->timed_out));
        json_object_set_new(o, "answers", json_integer(d->answers));
        json_object_set_new(o, "answer",
                            d->answer[0] ? render_str_or_null(d->answer) : json_null());
        json_object_set_new(o, "frames", frames);
        json_object_set_new(o, "segment", json_integer(d->seg));
        json_object_set_new(o, "asked_by", json_string(d->by_receiver ? "receiver" : "sender"));
        json_object_set_new(o, "next_frame",
                            d->next_frame ? json_integer((json_int_t)d->next_frame) : json_null());
        json_object_set_new(o, "wait_ms", render_ms_since(d->query_time, d->next_time));
        json_array_append_new(a, o);
    }
    return a;
}

/* Added: digits sent as SIP INFO (RFC 4733 digits are on the streams). */
static json_t *dtmf_json(const struct call *c)
{
    json_t *dtmf = json_array();
    for (unsigned i = 0; i < c->ndtmf; i++) {
        const struct call_dtmf *d = &c->dtmf[i];
        json_array_append_new(
            dtmf,
            json_pack("{s:o,s:o,s:o,s:I,s:o}", "time", render_time(true, d->time), "digit",
                      render_textn(&d->digit, 1), "duration_ms",
                      d->duration_ms >= 0 ? json_integer(d->duration_ms) : json_null(), "frame",
                      (json_int_t)d->frame, "by", render_str_or_null(call_party_name(d->by))));
    }
    return dtmf;
}

json_t *render_call_json(const struct call *c)
{
    char id[RENDER_ID_LEN], caller[IP_ADDR_PORT_STRLEN], callee[IP_ADDR_PORT_STRLEN];
    render_call_id(c->seq, id);
    ip_addr_port_str(&c->caller_ip, c->caller_port, caller, sizeof caller);
    ip_addr_port_str(&c->callee_ip, c->callee_port, callee, sizeof callee);
    json_t *codecs = json_array();
    for (const char *p = c->codecs ? c->codecs : ""; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        json_array_append_new(codecs, render_textn(p, n));
        p += n + (e ? 1 : 0);
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "call_id", render_str_or_null(c->call_id));
    json_t *legs = json_array();
    for (unsigned i = 0; i <= c->nlegs; i++) { /* leg 0: the call's own */
        const struct call_leg *g =
            i ? &c->legs[i] : &(struct call_leg){c->call_id, c->from_tag, c->to_tag, 0};
        json_array_append_new(legs, json_pack("{s:o, s:o, s:o}", "call_id",
                                              render_str_or_null(g->call_id), "from_tag",
                                              render_str_or_null(g->from_tag), "to_tag",
                                              render_str_or_null(g->to_tag)));
    }
    json_object_set_new(o, "legs", legs);
    json_object_set_new(o, "from", addr_json(&c->from));
    json_object_set_new(o, "to", addr_json(&c->to));
    json_object_set_new(o, "caller", json_string(caller));
    json_object_set_new(o, "callee", json_string(callee));
    json_object_set_new(o, "state", json_string(call_state_name(c->state)));
    json_object_set_new(o, "final_status",
                        c->final_status ? json_integer(c->final_status) : json_null());
    json_object_set_new(o, "reason", render_str_or_null(c->reason));
    json_object_set_new(o, "invite_time", render_time(true, c->invite_time));
    json_object_set_new(o, "ringing_time", render_time(c->ringing_time, c->ringing_time));
    json_object_set_new(o, "answer_time", render_time(c->answer_time, c->answer_time));
    json_object_set_new(o, "end_time", render_time(c->end_time, c->end_time));
    json_object_set_new(o, "ended_by", render_str_or_null(call_party_name(c->ended_by)));
    json_object_set_new(o, "pdd_ms", render_ms_since(c->invite_time, c->ringing_time));
    json_object_set_new(o, "setup_ms", render_ms_since(c->invite_time, c->answer_time));
    json_object_set_new(o, "duration_s",
                        c->answer_time && c->end_time
                            ? json_real((double)((c->end_time - c->answer_time) / 1000) / 1e6)
                            : json_null());
    json_object_set_new(o, "messages", json_integer(c->messages));
    json_object_set_new(o, "retransmissions", json_integer(c->retransmissions));
    json_object_set_new(o, "challenges", json_integer(c->challenges)); /* added: 401/407 */
    json_t *holds = json_array(), *transfers = json_array();           /* added */
    for (unsigned i = 0; i < c->nholds; i++)
        json_array_append_new(
            holds, json_pack("{s:o, s:o, s:o}", "start", render_time(true, c->holds[i].start),
                             "end", render_time(c->holds[i].end, c->holds[i].end), "by",
                             render_str_or_null(call_party_name(c->holds[i].by))));
    for (unsigned i = 0; i < c->ntransfers; i++) {
        const struct call_transfer *t = &c->transfers[i];
        json_array_append_new(
            transfers, json_pack("{s:o, s:o, s:o, s:o, s:o}", "time", render_time(true, t->time),
                                 "by", render_str_or_null(call_party_name(t->by)), "refer_to",
                                 render_str_or_null(t->refer_to), "accepted",
                                 t->accepted ? json_integer(t->accepted) : json_null(), "result",
                                 t->result ? json_integer(t->result) : json_null()));
    }
    json_object_set_new(o, "session_expired", json_boolean(c->session_expired)); /* added */
    json_object_set_new(o, "holds", holds);
    json_object_set_new(o, "transfers", transfers);
    json_object_set_new(o, "codecs", codecs);
    json_object_set_new(o, "streams", json_null());
    json_object_set_new(o, "mos_min", json_null());
    json_object_set_new(o, "dtmf", dtmf_json(c));
    json_object_set_new(o, "path", path_json(c));
    json_object_set_new(o, "hops", hops_json(c));
    json_object_set_new(o, "dns", dns_json(c));
    json_object_set_new(o, "issues", json_null());
    return o;
}

/* The row's columns as the JSON has them: the same text (the UTF-8 policy applied). */
static char *column(const char *s)
{
    size_t n;
    return s ? render_utf8_clean(s, strlen(s), &n) : NULL;
}

bool render_call(const struct call *c, struct render_call_row *row)
{
    memset(row, 0, sizeof *row);
    json_t *o = render_call_json(c);
    row->json = o ? json_text(o) : NULL;
    json_decref(o);
    if (!row->json) return false;
    row->seq = c->seq;
    row->call_id = column(c->call_id);
    row->from_user = column(c->from.user);
    row->to_user = column(c->to.user);
    ip_addr_port_str(&c->caller_ip, c->caller_port, row->caller, sizeof row->caller);
    ip_addr_port_str(&c->callee_ip, c->callee_port, row->callee, sizeof row->callee);
    row->state = call_state_name(c->state);
    row->final_status = c->final_status;
    row->invite_time = ptime_to_epoch_s(c->invite_time);
    row->end_time = c->end_time ? ptime_to_epoch_s(c->end_time) : -1;
    row->answered = c->answer_time != 0;
    if ((c->call_id && !row->call_id) || (c->from.user && !row->from_user) ||
        (c->to.user && !row->to_user)) {
        render_call_row_free(row);
        return false;
    }
    return true;
}

void render_call_row_free(struct render_call_row *row)
{
    free(row->json);
    free(row->call_id);
    free(row->from_user);
    free(row->to_user);
    memset(row, 0, sizeof *row);
}
