/* See metrics.h. */
#include "metrics.h"

#include <jansson.h>
#include <string.h>

const double web_pdd_bounds[WEB_PDD_BUCKETS] = {0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20};
const double web_mos_bounds[WEB_MOS_BUCKETS] = {1.5, 2, 2.5, 3, 3.5, 4, 4.2, 4.3, 4.4};

void web_observe(uint64_t *counts, const double *bounds, int n, double *sum, double v)
{
    int i = 0;
    while (i < n && v > bounds[i])
        i++;
    counts[i]++;
    *sum += v;
}

static void head(FILE *o, const char *name, const char *type, const char *help)
{
    fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(FILE *o, const char *name, const char *type, const char *help, uint64_t v)
{
    head(o, name, type, help);
    fprintf(o, "%s %llu\n", name, (unsigned long long)v);
}

static void histogram(FILE *o, const char *name, const char *help, const uint64_t *counts,
                      const double *bounds, int n, double sum)
{
    head(o, name, "histogram", help);
    uint64_t cum = 0;
    for (int i = 0; i < n; i++) {
        cum += counts[i];
        fprintf(o, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cum);
    }
    cum += counts[n];
    fprintf(o, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
            (unsigned long long)cum, name, sum, name, (unsigned long long)cum);
}

/* A label value in the text format: backslash, double quote and line feed escaped. */
static void label_value(FILE *o, const char *v)
{
    for (; *v; v++)
        if (*v == '\\' || *v == '"')
            fprintf(o, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", o);
        else
            fputc(*v, o);
}

void web_metrics_render_store(FILE *o, const char *stats_json)
{
    json_t *st = stats_json ? json_loads(stats_json, 0, NULL) : NULL;
    static const char *const tables[] = {"calls", "streams", "registrations", "issues", "messages",
                                         "media_chunks", "runs"};
    if (!st)
        return;
    head(o, "sipscope_stored_rows", "gauge", "rows in the database, by table");
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        fprintf(o, "sipscope_stored_rows{table=\"%s\"} %lld\n", tables[i],
                (long long)json_integer_value(json_object_get(st, tables[i])));
    /* what the database holds (a server beside a capture, or alone): the figures a
     * dashboard wants of stored data. The keys are our own words (states, issue kinds, MOS
     * bands), escaped all the same: the database is a file someone may have edited. */
    static const struct {
        const char *key, *metric, *label, *help;
    } groups[] = {
        {"states", "sipscope_stored_calls", "state", "calls in the database, by state"},
        {"issue_kinds", "sipscope_stored_issues", "kind", "issues in the database, by kind"},
        {"mos_spread", "sipscope_stored_calls_by_mos", "band",
         "calls in the database by worst MOS, in half-point bands (none: no MOS)"},
    };
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
        json_t *m = json_object_get(st, groups[g].key);
        const char *k;
        json_t *v;
        head(o, groups[g].metric, "gauge", groups[g].help);
        json_object_foreach (m, k, v)
        {
            fprintf(o, "%s{%s=\"", groups[g].metric, groups[g].label);
            label_value(o, k);
            fprintf(o, "\"} %lld\n", (long long)json_integer_value(v));
        }
    }
    json_decref(st);
}

void web_metrics_render(FILE *o, const struct web_metrics *m)
{
    one(o, "sipscope_up", "gauge", "1 while sipscope serves", 1);
    if (!m)
        return;
    one(o, "sipscope_packets_total", "counter", "frames read", m->packets);
    one(o, "sipscope_duplicate_packets_total", "counter",
        "exact copies of a datagram (mirror ports) dropped before analysis", m->duplicates);
    one(o, "sipscope_bytes_total", "counter", "bytes of the frames read", m->bytes);
    head(o, "sipscope_dropped_packets_total", "counter",
         "packets lost before analysis: by the kernel (pcap_stats) or our ring");
    fprintf(o, "sipscope_dropped_packets_total{by=\"kernel\"} %llu\n"
               "sipscope_dropped_packets_total{by=\"ring\"} %llu\n",
            (unsigned long long)m->dropped_kernel, (unsigned long long)m->dropped_ring);
    one(o, "sipscope_sip_messages_total", "counter", "SIP messages decoded", m->sip_messages);
    one(o, "sipscope_rtp_packets_total", "counter", "RTP packets of streams followed", m->rtp_packets);
    one(o, "sipscope_rtcp_packets_total", "counter", "RTCP packets attached", m->rtcp_packets);
    one(o, "sipscope_tls_flows_total", "counter", "TLS connections followed for SIP", m->tls_flows);
    one(o, "sipscope_tls_records_total", "counter", "TLS records of application data decrypted",
        m->tls_records);
    one(o, "sipscope_tls_no_keys_total", "counter", "TLS connections no key log opened",
        m->decode_errors[DR_TLS_NO_KEYS]);
    one(o, "sipscope_tls_bad_records_total", "counter", "TLS records failing authentication",
        m->decode_errors[DR_TLS_BAD_RECORD]);
    /* SRTP (RFC 3711) opened with SDES keys (RFC 4568): capture.srtp of the JSON. A rise of
     * authentication failures is a wrong or stale key (or a rekey we missed), keyless packets
     * are SRTP whose SDP gave no usable key, replays are copies the replay window dropped */
    one(o, "sipscope_srtp_decrypted_total", "counter",
        "SRTP and SRTCP packets decrypted and authenticated with SDES keys", m->srtp_decrypted);
    one(o, "sipscope_srtp_auth_failures_total", "counter",
        "SRTP and SRTCP packets a key did not authenticate", m->srtp_auth_failures);
    one(o, "sipscope_srtp_keyless_total", "counter",
        "packets to SRTP endpoints whose SDP gave no usable key", m->srtp_keyless);
    one(o, "sipscope_srtp_replays_total", "counter",
        "SRTP packets dropped as a repeated index (a copy or a replay)", m->srtp_replays);
    one(o, "sipscope_srtp_endpoints_keyed", "gauge", "media endpoints holding an SDES key now",
        m->srtp_keys);
    head(o, "sipscope_decode_errors_total", "counter", "frames or messages rejected, by reason");
    for (int r = 0; r < DR__COUNT; r++)
        if (m->decode_errors[r])
            fprintf(o, "sipscope_decode_errors_total{reason=\"%s\"} %llu\n", decode_reason_name(r),
                    (unsigned long long)m->decode_errors[r]);
    head(o, "sipscope_evictions_total", "counter", "state dropped because a limit was hit");
    const struct {
        const char *table;
        uint64_t n;
    } ev[] = {{"calls", m->evicted_calls},         {"transactions", m->evicted_transactions},
              {"registrations", m->evicted_registrations}, {"media", m->evicted_media},
              {"streams", m->evicted_streams},     {"fragments", m->evicted_fragments},
              {"tcp", m->evicted_tcp},             {"orphan_streams", m->evicted_orphans},
              {"udp_flows", m->evicted_flows},     {"dns_lookups", m->evicted_dns}};
    for (size_t i = 0; i < sizeof ev / sizeof *ev; i++)
        fprintf(o, "sipscope_evictions_total{table=\"%s\"} %llu\n", ev[i].table,
                (unsigned long long)ev[i].n);
    one(o, "sipscope_hep_reports_received_total", "counter",
        "RTCP and stream quality reports read from HEP agents", m->hep_received);
    one(o, "sipscope_hep_reports_attached_total", "counter",
        "HEP reports whose correlation id named a call followed", m->hep_attached);
    one(o, "sipscope_hep_reports_orphaned_total", "counter",
        "HEP reports naming no call followed, kept as streams of no call", m->hep_orphaned);
    one(o, "sipscope_hep_reports_unreadable_total", "counter",
        "HEP RTCP or quality reports that could not be read", m->hep_bad);
    one(o, "sipscope_active_calls", "gauge", "calls followed now", m->active_calls);
    one(o, "sipscope_active_streams", "gauge", "RTP streams followed now", m->active_streams);
    head(o, "sipscope_table_bytes", "gauge",
         "memory each table holds now, within its share of --max-memory-mb");
    for (int t = 0; t < MEM__COUNT; t++)
        fprintf(o, "sipscope_table_bytes{table=\"%s\"} %llu\n", mem_table_name(t),
                (unsigned long long)m->table_bytes[t]);
    head(o, "sipscope_calls_total", "counter", "calls ended, by final state");
    for (int s = 0; s < CALL__STATES; s++)
        fprintf(o, "sipscope_calls_total{state=\"%s\"} %llu\n", call_state_name(s),
                (unsigned long long)m->calls[s]);
    if (m->asr >= 0) {
        head(o, "sipscope_asr_ratio", "gauge", "answer-seizure ratio of the calls ended");
        fprintf(o, "sipscope_asr_ratio %.6f\n", m->asr);
    }
    if (m->ner >= 0) {
        head(o, "sipscope_ner_ratio", "gauge", "network effectiveness ratio of the calls ended");
        fprintf(o, "sipscope_ner_ratio %.6f\n", m->ner);
    }
    histogram(o, "sipscope_pdd_seconds", "post-dial delay of calls that rang", m->pdd, web_pdd_bounds,
              WEB_PDD_BUCKETS, m->pdd_sum);
    histogram(o, "sipscope_stream_mos", "E-model MOS of RTP streams ended", m->mos, web_mos_bounds,
              WEB_MOS_BUCKETS, m->mos_sum);
    head(o, "sipscope_registrations_total", "counter", "registrations ended, by state");
    for (int s = 0; s < WEB_REG_STATES; s++)
        fprintf(o, "sipscope_registrations_total{state=\"%s\"} %llu\n", reg_state_name(s),
                (unsigned long long)m->registrations[s]);
    head(o, "sipscope_issues_total", "counter", "issues found, by kind");
    for (int k = 0; k < ISSUE__COUNT; k++)
        fprintf(o, "sipscope_issues_total{kind=\"%s\"} %llu\n", issue_kind_name(k),
                (unsigned long long)m->issues[k]);
    one(o, "sipscope_store_dropped_total", "counter", "records the database queue refused",
        m->store_dropped);
    one(o, "sipscope_store_failed_total", "counter", "records a database error lost", m->store_failed);
}
