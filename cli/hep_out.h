/* HEP out (issue 9): every SIP message analysed is sent on as HEPv3 (the format Homer,
 * Kamailio and heplify speak) to a collector over UDP, with its original addresses,
 * transport and time, a capture agent id and, when given, an auth key. */
#ifndef SIPSCOPE_HEP_OUT_H
#define SIPSCOPE_HEP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

struct hep_out;

/* to: "HOST:PORT" or "[v6]:PORT" (an address). NULL with err set when it cannot. */
struct hep_out *hep_out_open(const char *to, uint32_t capture_id, const char *auth_key, char *err,
                             size_t errlen);
/* Sends one SIP message; a send that fails is counted (hep_out_close reports). */
void hep_out_sip(struct hep_out *h, const struct sip_event *ev);
/* Closes; *sent and *failed (may be NULL) get the counts. */
void hep_out_close(struct hep_out *h, uint64_t *sent, uint64_t *failed);

#endif
