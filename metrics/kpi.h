/* SIP KPIs of a whole analysis (docs/output.md's stats block): counts of calls and answers,
 * ASR, NER, ACD, PDD percentiles, responses by class and code, requests by method. Fed by
 * the correlator's verdicts (messages) and ended calls; fixed memory (a 1 ms histogram
 * for PDD, a small method table). */
#ifndef SIPSCOPE_KPI_H
#define SIPSCOPE_KPI_H

#include <stdbool.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "decode/sip.h"

#define KPI_PDD_BUCKETS 120000 /* 1 ms each: PDD up to 2 minutes, longer ones in the last */
#define KPI_METHODS     24

struct kpi {
    uint64_t calls;          /* every call */
    uint64_t decided;        /* calls with an outcome (not trying/ringing/early media at the end) */
    uint64_t answered;
    uint64_t user_outcomes;  /* answered, busy, declined, not answered: NER's numerator */
    double duration_sum_s;   /* of answered calls that ended */
    uint64_t durations;
    uint64_t pdd_n;
    uint32_t pdd_ms[KPI_PDD_BUCKETS];
    uint64_t retransmissions;
    uint64_t responses[7];   /* by class: [1] 1xx .. [6] 6xx */
    uint64_t status[700];    /* by code */
    struct {
        char name[24];
        uint64_t n;
    } methods[KPI_METHODS];
    uint64_t other_methods;  /* past the table */
};

void kpi_init(struct kpi *k);
/* Every SIP message, retransmissions included (counted as such, as tshark counts them). */
void kpi_message(struct kpi *k, const struct sip_msg *m, bool retransmission);
void kpi_call(struct kpi *k, const struct call *c);

/* The p-th percentile of PDD in ms (by 1 ms buckets); negative when no call rang. */
double kpi_pdd_percentile(const struct kpi *k, double p);
/* ASR, NER in percent and ACD in seconds; negative when undefined (nothing to divide by). */
double kpi_asr(const struct kpi *k);
double kpi_ner(const struct kpi *k);
double kpi_acd(const struct kpi *k);

#endif
