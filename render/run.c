/* See run.h. */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/rtcp.h"
#include "json.h"

/* Added to the contract: what the decoder saw, layer by layer. */
static json_t *layers_json(const struct decode_stats *ds, const struct correlate_stats *ks)
{
    json_t *l = json_object();
    render_set_u64(l, "ipv4", ds->ipv4);
    render_set_u64(l, "ipv6", ds->ipv6);
    render_set_u64(l, "udp", ds->udp);
    render_set_u64(l, "tcp", ds->tcp);
    render_set_u64(l, "non_ip", ds->non_ip);
    render_set_u64(l, "other_ip_protocols", ds->other_proto);
    render_set_u64(l, "ip_fragments", ds->fragments);
    render_set_u64(l, "reassembled", ds->reassembled);
    render_set_u64(l, "fragment_duplicates", ds->frag_duplicates);
    render_set_u64(l, "sctp", ds->sctp);
    render_set_u64(l, "tcp_retransmitted", ds->tcp_retransmitted);
    render_set_u64(l, "dns", ds->dns);
    render_set_u64(l, "dns_tcp_partial", ds->dns_tcp_partial);
    render_set_u64(l, "dns_lookups", ks->dns_lookups); /* questions, retries as one */
    render_set_u64(l, "dns_unmatched_responses",
                   ks->dns_unanswered_responses); /* to no question seen */
    return l;
}

json_t *render_capture_json(const struct render_run *res)
{
    const struct capture_stats *cs = res->cs;
    const struct decode_stats *ds = res->ds;
    const struct correlate_stats *ks = res->ks;
    json_t *c = json_object();
    json_t *jfiles = json_array();
    for (int i = 0; i < res->nfiles; i++)
        json_array_append_new(jfiles, render_str_or_null(res->files[i]));
    json_object_set_new(c, "files", jfiles);
    render_set_u64(c, "packets", cs->packets);
    render_set_u64(c, "bytes", cs->bytes);
    json_object_set_new(c, "first_time", render_time(cs->packets > 0, cs->first_ts));
    json_object_set_new(c, "last_time", render_time(cs->packets > 0, cs->last_ts));
    render_set_u64(c, "sip_messages", ds->sip_messages);
    /* RTP of the streams reported; RTCP to announced ports or about a stream we follow */
    render_set_u64(c, "rtp_packets", res->rtp_packets);
    render_set_u64(c, "rtcp_packets", res->rtcp_packets);
    /* null for files: no kernel to drop */
    json_object_set_new(c, "dropped",
                        cs->live ? json_integer((json_int_t)(cs->dropped + cs->ring_dropped))
                                 : json_null());
    render_set_u64(c, "duplicates", ds->duplicates);

    json_t *errors = json_object();
    for (int r = 0; r < DR__COUNT; r++)
        if (ds->errors[r]) render_set_u64(errors, decode_reason_name(r), ds->errors[r]);
    for (int r = 1; r < RTCP__COUNT; r++)
        if (res->rtcp_errors[r]) render_set_u64(errors, rtcp_status_name(r), res->rtcp_errors[r]);
    if (cs->read_errors) render_set_u64(errors, "file_read_error", cs->read_errors);
    json_object_set_new(c, "decode_errors", errors);

    json_t *evicted = json_object();
    const struct {
        const char *table;
        uint64_t n;
    } ev[] = {{"ip_fragments", ds->frag_evicted},     {"tcp_streams", ds->tcp_evicted},
              {"calls", ks->evicted_calls},           {"transactions", ks->evicted_transactions},
              {"streams", res->streams_evicted},      {"orphan_streams", res->orphans_evicted},
              {"udp_flows", res->flows_evicted},      {"registrations", ks->evicted_registrations},
              {"media_endpoints", ks->evicted_media}, {"dns_lookups", ks->evicted_dns},
              {"hep_reports", res->hep_evicted}};
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        if (ev[i].n) render_set_u64(evicted, ev[i].table, ev[i].n);
    static const char *const report_names[4] = {"report_calls", "report_streams",
                                                "report_registrations", "report_issues"};
    for (int i = 0; i < 4; i++) /* a live report keeps the newest only */
        if (res->report_dropped[i])
            render_set_u64(evicted, report_names[i], res->report_dropped[i]);
    if (res->security_evicted) render_set_u64(evicted, "security", res->security_evicted);
    json_object_set_new(c, "evicted", evicted);
    /* Each table's peak bytes, under --max-memory-mb */
    json_t *mem = json_object();
    for (int t = 0; t < MEM__COUNT; t++)
        render_set_u64(mem, mem_table_name(t), res->mem->peak[t]);
    json_object_set_new(c, "memory", mem);
    /* ... and the entries each may hold, by the names of "evicted" */
    json_t *lim = json_object();
    render_set_u64(lim, "calls", res->max_calls);
    render_set_u64(lim, "transactions", res->max_transactions);
    render_set_u64(lim, "media_endpoints", res->max_media);
    render_set_u64(lim, "registrations", res->max_registrations);
    render_set_u64(lim, "streams", res->max_streams);
    render_set_u64(lim, "hep_reports", res->max_hep_reports);
    json_object_set_new(c, "limits", lim);
    render_set_u64(c, "out_of_order_frames", cs->out_of_order);
    /* media quality HEP agents reported: each report attached to the call its correlation
     * id names, or kept as an orphan report (a stream of no call) */
    json_t *hep = json_object();
    render_set_u64(hep, "received", res->hep_received);
    render_set_u64(hep, "attached", res->hep_attached);
    render_set_u64(hep, "orphaned", res->hep_orphaned);
    render_set_u64(hep, "unreadable", res->hep_bad);
    json_object_set_new(c, "hep_reports", hep);

    json_object_set_new(c, "layers", layers_json(ds, ks));
    /* SIP over TLS read with --tls-keylog: connections, records opened, and the two
     * failures (also under decode_errors) */
    json_t *tls = json_object();
    render_set_u64(tls, "flows", ds->tls_flows);
    render_set_u64(tls, "records_decrypted", ds->tls_records);
    render_set_u64(tls, "tls_no_keys", ds->errors[DR_TLS_NO_KEYS]);
    render_set_u64(tls, "tls_bad_record", ds->errors[DR_TLS_BAD_RECORD]);
    json_object_set_new(c, "tls", tls);
    /* SRTP/SRTCP opened with the SDES keys of the SDP (counts only: keys stay in decode/) */
    json_t *srtp = json_object();
    render_set_u64(srtp, "decrypted", ds->srtp_decrypted);
    render_set_u64(srtp, "srtp_auth_failures", ds->srtp_auth_failures);
    render_set_u64(srtp, "keyless", ds->srtp_keyless);
    render_set_u64(srtp, "replays", ds->srtp_replays);
    render_set_u64(srtp, "endpoints_keyed", ds->srtp_keys);
    json_object_set_new(c, "srtp", srtp);
    return c;
}

/* A method's count under its name made UTF-8 (json.h's policy): names that differ only
 * in bytes that are not UTF-8 add up under one key. */
static void add_method(json_t *meth, const char *name, uint64_t n)
{
    size_t len;
    char *key = render_utf8_clean(name, strlen(name), &len);
    if (!key) return;
    json_t *had = json_object_get(meth, key);
    render_set_u64(meth, key, n + (had ? (uint64_t)json_integer_value(had) : 0));
    free(key);
}

json_t *render_stats_json(const struct kpi *k)
{
    json_t *resp = json_object(), *meth = json_object(), *codes = json_object();
    static const char *const cls[] = {NULL, "1xx", "2xx", "3xx", "4xx", "5xx", "6xx"};
    for (int c = 1; c <= 6; c++)
        render_set_u64(resp, cls[c], k->responses[c]);
    for (int c = 100; c < 700; c++)
        if (k->status[c]) {
            char b[8];
            snprintf(b, sizeof b, "%d", c);
            render_set_u64(codes, b, k->status[c]);
        }
    for (unsigned i = 0; i < KPI_METHODS && k->methods[i].name[0]; i++)
        add_method(meth, k->methods[i].name, k->methods[i].n);
    json_t *o = json_object();
    render_set_u64(o, "calls", k->calls);
    render_set_u64(o, "answered", k->answered);
    json_object_set_new(o, "asr_pct", render_num_or_null(kpi_asr(k)));
    json_object_set_new(o, "ner_pct", render_num_or_null(kpi_ner(k)));
    json_object_set_new(o, "acd_s", render_num_or_null(kpi_acd(k)));
    json_object_set_new(o, "pdd_ms",
                        json_pack("{s:o, s:o}", "p50",
                                  render_num_or_null(kpi_pdd_percentile(k, 50)), "p95",
                                  render_num_or_null(kpi_pdd_percentile(k, 95))));
    json_object_set_new(o, "responses", resp);
    json_object_set_new(o, "methods", meth);
    json_object_set_new(o, "statuses", codes);
    render_set_u64(o, "retransmissions", k->retransmissions);
    return o;
}
