/* See runcap.h. */
#include "runcap.h"

bool runcap(const char *const *files, size_t n, const struct decode_handlers *h,
            struct capture_stats *cs, struct decode_stats *ds, char *err, size_t errlen)
{
    struct capture_source src;
    if (!capture_open_files(&src, files, n, err, errlen))
        return false;
    struct decoder *dec = decoder_new(NULL, h);
    struct packet pkt;
    while (capture_next(&src, &pkt) == CAPTURE_OK)
        decoder_frame(dec, &pkt);
    decoder_finish(dec);
    capture_get_stats(&src, cs);
    decoder_get_stats(dec, ds);
    decoder_free(dec);
    capture_close(&src);
    return true;
}
