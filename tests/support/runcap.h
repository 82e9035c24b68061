/* Test helper: decode whole capture files through capture/ and decode/, as analyze does. */
#ifndef SIPSCOPE_TEST_RUNCAP_H
#define SIPSCOPE_TEST_RUNCAP_H

#include <stdbool.h>
#include <stddef.h>

#include "capture/capture.h"
#include "decode/decode.h"

/* Reads every frame of files (merged), decodes each with handlers h (may be NULL), calls
 * decoder_finish, and fills the statistics of both layers. False when a file cannot be
 * opened (err says why). */
bool runcap(const char *const *files, size_t n, const struct decode_handlers *h,
            struct capture_stats *cs, struct decode_stats *ds, char *err, size_t errlen);

#endif
