/* The memory budget's split; see membudget.h. */
#include "membudget.h"

const char *mem_table_name(enum mem_table t)
{
    static const char *const names[MEM__COUNT] = {
        [MEM_CALLS] = "calls",         [MEM_TRANSACTIONS] = "transactions",
        [MEM_MEDIA] = "media",         [MEM_REGISTRATIONS] = "registrations",
        [MEM_DNS] = "dns",             [MEM_STREAMS] = "streams",
        [MEM_DEDUP] = "dedup",         [MEM_REASSEMBLY] = "reassembly",
        [MEM_REPORT] = "report",       [MEM_HEP_REPORTS] = "hep_reports",
        [MEM_SECURITY] = "security",     [MEM_SRTP] = "srtp",
    };
    return (unsigned)t < MEM__COUNT ? names[t] : "unknown";
}

void mem_budget_init(struct mem_budget *b, uint64_t total_bytes)
{
    static const unsigned permille[MEM__COUNT] = MEM_SHARES_PERMILLE;
    b->total = total_bytes;
    for (int t = 0; t < MEM__COUNT; t++)
        b->share[t] = total_bytes / 1000 * permille[t];
}

size_t mem_budget_entries(const struct mem_budget *b, enum mem_table t, size_t entry_bytes,
                          size_t min)
{
    uint64_t n = b->share[t] / (entry_bytes ? entry_bytes : 1);
    return n < min ? min : n > SIZE_MAX ? SIZE_MAX : (size_t)n;
}
