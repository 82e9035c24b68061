/* The one packet loop, and source-independent helpers; see capture.h. */
#include "capture.h"

void capture_close(struct capture_source *src)
{
    if (src && src->ops) {
        src->ops->close(src->self);
        src->ops = NULL;
        src->self = NULL;
    }
}

enum capture_status capture_run(struct capture_source *src, capture_fn fn, void *user,
                                volatile int *stop)
{
    struct packet pkt;
    enum capture_status st;

    while ((st = capture_next(src, &pkt)) == CAPTURE_OK) {
        if (!fn(user, &pkt))
            break;
        if (stop && *stop)
            break;
    }
    return st;
}
