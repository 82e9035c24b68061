/* Saving calls as a pcap file: each call's SIP frames and the media kept of it (RTP and
 * RTCP, while the media budget lasted), merged in time order, with nanosecond stamps, in
 * the link type of the first frame (frames of another are left out and counted). */
#ifndef SIPSCOPE_TUI_SAVE_H
#define SIPSCOPE_TUI_SAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct tui_save_result {
    uint64_t calls, sip, media, skipped;
};

/* Writes calls seqs[0..n) of the model to path. false: err says why (a file may be left). */
bool tui_save_pcap(struct tui_model *m, const uint64_t *seqs, size_t n, const char *path,
                   struct tui_save_result *r, char *err, size_t errlen);

#endif
