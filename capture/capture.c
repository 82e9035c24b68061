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
                                const volatile sig_atomic_t *stop)
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

void capture_count(struct capture_stats *st, struct packet *p)
{
    if (st->packets == 0)
        st->first_ts = p->ts;
    else if (p->ts < st->last_ts)
        st->out_of_order++;
    if (st->packets == 0 || p->ts > st->last_ts)
        st->last_ts = p->ts;
    p->frame = ++st->packets;
    st->bytes += p->caplen;
}
