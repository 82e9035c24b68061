/* SIP KPIs; see kpi.h. Definitions:
 * - ASR (answer-seizure ratio, ITU-T E.411): answered calls / calls with an outcome. Calls
 *   still trying, ringing or in early media when the input ends have no outcome yet and
 *   are left out of both ASR and NER.
 * - NER (network effectiveness ratio, ITU-T E.425): calls that ended the way a user, not the
 *   network, decided — answered, busy (486, 600), declined (603), not answered (480, and
 *   487 after the caller gave up ringing) — over calls with an outcome.
 * - ACD: mean duration of answered calls that ended (BYE), in seconds.
 * - PDD (RFC 6076 §4.1's SRD for the first provisional): INVITE to first 180/183. */
#include "kpi.h"

#include <string.h>

void kpi_init(struct kpi *k)
{
    memset(k, 0, sizeof *k);
}

void kpi_message(struct kpi *k, const struct sip_msg *m, bool retransmission)
{
    k->retransmissions += retransmission;
    if (!m->is_request) {
        if (m->status >= 100 && m->status < 700) {
            k->responses[m->status / 100]++;
            k->status[m->status]++;
        }
        return;
    }
    for (unsigned i = 0; i < KPI_METHODS; i++) {
        if (!k->methods[i].name[0]) {
            size_t n = m->method.n < sizeof k->methods[i].name ? m->method.n
                                                              : sizeof k->methods[i].name - 1;
            memcpy(k->methods[i].name, m->method.p, n);
            k->methods[i].name[n] = '\0';
        }
        if (sv_eq_cstr(m->method, k->methods[i].name)) {
            k->methods[i].n++;
            return;
        }
    }
    k->other_methods++;
}

void kpi_call(struct kpi *k, const struct call *c)
{
    k->calls++;
    bool decided = c->state != CALL_TRYING && c->state != CALL_RINGING &&
                   c->state != CALL_EARLY_MEDIA;
    k->decided += decided;
    if (c->answer_time) {
        k->answered++;
        if (c->end_time) {
            k->duration_sum_s += (double)(c->end_time - c->answer_time) / 1e9;
            k->durations++;
        }
    }
    int f = c->final_status;
    if (decided && (c->answer_time || f == 486 || f == 600 || f == 603 || f == 480 || f == 487))
        k->user_outcomes++;
    if (c->ringing_time) {
        int64_t ms = (c->ringing_time - c->invite_time) / 1000000;
        k->pdd_ms[ms < 0 ? 0 : ms >= KPI_PDD_BUCKETS ? KPI_PDD_BUCKETS - 1 : ms]++;
        k->pdd_n++;
    }
}

/* Nearest rank: the smallest value with at least p% of the samples at or below it. */
double kpi_pdd_percentile(const struct kpi *k, double p)
{
    if (!k->pdd_n)
        return -1;
    uint64_t rank = (uint64_t)((p / 100.0) * (double)k->pdd_n + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned ms = 0; ms < KPI_PDD_BUCKETS; ms++) {
        seen += k->pdd_ms[ms];
        if (seen >= rank)
            return ms;
    }
    return KPI_PDD_BUCKETS - 1;
}

double kpi_asr(const struct kpi *k)
{
    return k->decided ? 100.0 * (double)k->answered / (double)k->decided : -1;
}

double kpi_ner(const struct kpi *k)
{
    return k->decided ? 100.0 * (double)k->user_outcomes / (double)k->decided : -1;
}

double kpi_acd(const struct kpi *k)
{
    return k->durations ? k->duration_sum_s / (double)k->durations : -1;
}
