/* One memory budget: --max-memory-mb, split into a share per table by the rule
 * below, each table turning its share into an entry count by its measured size per entry
 * and evicting by its own policy when full (counted in capture.evicted as before).
 * Explicit limits (--max-calls, --report-max) win over the share. Tables say what they
 * hold (bytes now, and the peak), for /metrics and the JSON's capture.memory. */
#ifndef SIPSCOPE_MEMBUDGET_H
#define SIPSCOPE_MEMBUDGET_H

#include <stddef.h>
#include <stdint.h>

#define MEM_DEFAULT_MB 512

enum mem_table {
    MEM_CALLS,         /* correlate/call.c: calls followed (unanswered INVITEs go first) */
    MEM_TRANSACTIONS,  /* correlate/transaction.c (least recently used go first) */
    MEM_MEDIA,         /* correlate/media.c: endpoints SDP announced (LRU) */
    MEM_REGISTRATIONS, /* correlate/registration.c */
    MEM_DNS,           /* correlate/lookup.c: the ring of DNS look-ups (oldest overwritten) */
    MEM_STREAMS,       /* metrics/stream.c: RTP streams followed (LRU) */
    MEM_DEDUP,         /* decode/dedup.c: recent datagrams of mirror de-duplication */
    MEM_REASSEMBLY,    /* decode/tcpstream.c and decode/ipfrag.c: buffered bytes */
    MEM_REPORT,        /* cli/analyze.c: the report's index (its text waits in a file) */
    MEM_HEP_REPORTS,   /* engine/hep_in.c: streams HEP agents' RTCP reported, waiting */
    MEM_SECURITY,      /* diagnose/security.c: sources and accounts watched (LRU per set) */
    MEM_SRTP,          /* decode/srtp.c: SDES keys by media endpoint (oldest go first) */
    MEM__COUNT
};

/* The rule, in one place: a table's share of the budget in thousandths. The rest (12%)
 * is left for what no limit governs: the program, libraries, I/O buffers, nDPI, the issue
 * engine's calls awaiting their streams. Calls take most of what a SIP flood fills;
 * streams most of what media fills; the two rarely peak together. */
#define MEM_SHARES_PERMILLE {                                                                    \
        [MEM_CALLS] = 220, [MEM_TRANSACTIONS] = 60, [MEM_MEDIA] = 50, [MEM_REGISTRATIONS] = 60, \
        [MEM_DNS] = 10, [MEM_STREAMS] = 200, [MEM_DEDUP] = 10, [MEM_REASSEMBLY] = 150,          \
        [MEM_REPORT] = 90, [MEM_HEP_REPORTS] = 5, [MEM_SECURITY] = 20, [MEM_SRTP] = 5,          \
    }

struct mem_budget {
    uint64_t total;                /* bytes */
    uint64_t share[MEM__COUNT];    /* bytes per table */
};

/* What the tables hold: bytes now (entries times their measured size, or the bytes they
 * buffer) and the largest seen. */
struct mem_usage {
    uint64_t bytes[MEM__COUNT];
    uint64_t peak[MEM__COUNT];
};

const char *mem_table_name(enum mem_table t); /* "calls", "transactions"... */
void mem_budget_init(struct mem_budget *b, uint64_t total_bytes);
/* The entries a table of entry_bytes each may hold in its share; at least min. */
size_t mem_budget_entries(const struct mem_budget *b, enum mem_table t, size_t entry_bytes,
                          size_t min);
/* u->bytes[t] = bytes, and its peak follows. */
static inline void mem_usage_set(struct mem_usage *u, enum mem_table t, uint64_t bytes)
{
    u->bytes[t] = bytes;
    if (bytes > u->peak[t])
        u->peak[t] = bytes;
}

#endif
