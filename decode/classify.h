/* Flow classification with nDPI (docs/design.md: "nDPI where signaling is silent"): is a UDP
 * flow that no SDP announced RTP? The caller keeps one opaque state per flow and feeds
 * its first packets until a verdict comes. */
#ifndef SIPSCOPE_CLASSIFY_H
#define SIPSCOPE_CLASSIFY_H

#include <stdbool.h>

#include "decode.h"

enum class_verdict { CLASS_UNKNOWN = 0, CLASS_RTP = 1, CLASS_OTHER = -1 };

#define CLASS_MAX_PACKETS 12 /* packets shown to nDPI before giving up on a flow */

struct classifier;
struct class_flow;

/* NULL when nDPI is not available (then every verdict is CLASS_OTHER). */
struct classifier *classifier_new(void);
void classifier_free(struct classifier *c);
/* Feeds one packet of the flow whose state is *flow (created on first use). */
enum class_verdict classifier_udp(struct classifier *c, struct class_flow **flow,
                                  const struct l4_packet *l4);
void class_flow_free(struct class_flow *f);

#endif
