/* Building one issue (struct issue of issues.h), for the checks of diagnose/: its header,
 * the frames that prove it (kept sorted and without repeats when it is emitted), the
 * evidence figures (at most ISSUE_MAX_EVIDENCE; more are left out), and text written into
 * its fixed summary and diagnosis buffers (cut, never overrun). */
#ifndef SIPSCOPE_DIAGNOSE_BUILDER_H
#define SIPSCOPE_DIAGNOSE_BUILDER_H

#include <stddef.h>

#include "diagnose/issues.h"

void issue_init(struct issue *is, enum issue_kind k, enum issue_severity s, ptime_t t);
/* A frame that proves it; 0 (none) and repeats are skipped, past ISSUE_MAX_FRAMES dropped. */
void issue_frame(struct issue *is, uint64_t f);
void issue_ev_num(struct issue *is, const char *key, double v);
__attribute__((format(printf, 3, 4))) void issue_ev_str(struct issue *is, const char *key,
                                                        const char *fmt, ...);
/* A JSON value (a list, an object of figures) written as text; one that does not fit is
 * left out rather than cut into invalid JSON. */
__attribute__((format(printf, 3, 4))) void issue_ev_json(struct issue *is, const char *key,
                                                         const char *fmt, ...);
/* Writes a text (summary, diagnosis), or appends to one already started. */
__attribute__((format(printf, 3, 4))) void issue_say(char *buf, size_t cap, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void issue_more(char *buf, size_t cap, const char *fmt, ...);
/* An address as text ("?" when it cannot be written). */
const char *issue_ip(const struct ip_addr *a, char *buf, size_t n);
/* Milliseconds from a to b. */
double issue_ms(ptime_t a, ptime_t b);
/* Above crit: critical; above warn: warning; else info. */
enum issue_severity issue_band(double v, double warn, double crit);

#endif
