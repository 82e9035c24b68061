/* nDPI wrapper; see classify.h. nDPI wants the IP packet and a time in ms; its verdict for
 * RTP comes after a few packets of a flow (it checks that they hang together). */
#include "classify.h"

#include <stdlib.h>

#include "common/log.h"

#ifdef HAVE_NDPI
#include <ndpi/ndpi_api.h>

struct classifier {
    struct ndpi_detection_module_struct *ndpi; /* NULL until the first flow to judge */
    bool failed;                               /* nDPI would not start: nothing is RTP */
};

struct class_flow {
    struct ndpi_flow_struct *f; /* owned */
    unsigned packets;
    enum class_verdict verdict;
};

/* nDPI's start loads its host and address lists: tens of milliseconds, more than the
 * analysis of a 100,000-packet capture whose media SDP announced. It is
 * started for the first flow that needs judging, which most captures never have. */
struct classifier *classifier_new(void)
{
    return calloc(1, sizeof(struct classifier));
}

static bool started(struct classifier *c)
{
    if (c->ndpi || c->failed)
        return c->ndpi != NULL;
    if (!(c->ndpi = ndpi_init_detection_module(ndpi_no_prefs))) {
        log_warn("nDPI would not start: media no SDP announced is not looked for");
        c->failed = true;
        return false;
    }
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
    ndpi_finalize_initialization(c->ndpi);
    return true;
}

void classifier_free(struct classifier *c)
{
    if (!c)
        return;
    if (c->ndpi)
        ndpi_exit_detection_module(c->ndpi);
    free(c);
}

void class_flow_free(struct class_flow *f)
{
    if (!f)
        return;
    if (f->f) {
        ndpi_free_flow_data(f->f);
        free(f->f);
    }
    free(f);
}

static bool is_rtp(ndpi_protocol p)
{
    return p.master_protocol == NDPI_PROTOCOL_RTP || p.app_protocol == NDPI_PROTOCOL_RTP;
}

enum class_verdict classifier_udp(struct classifier *c, struct class_flow **flow,
                                  const struct l4_packet *l4)
{
    if (!c || !l4->l3 || l4->l3_len > 65535 || !started(c))
        return CLASS_OTHER;
    struct class_flow *f = *flow;
    if (!f) {
        if (!(f = calloc(1, sizeof *f)) ||
            !(f->f = calloc(1, ndpi_detection_get_sizeof_ndpi_flow_struct()))) {
            free(f);
            return CLASS_OTHER;
        }
        *flow = f;
    }
    if (f->verdict != CLASS_UNKNOWN)
        return f->verdict;
    ndpi_protocol p = ndpi_detection_process_packet(c->ndpi, f->f, l4->l3,
                                                    (unsigned short)l4->l3_len,
                                                    (uint64_t)(l4->pkt->ts / PTIME_MS));
    if (is_rtp(p))
        f->verdict = CLASS_RTP;
    else if (p.app_protocol != NDPI_PROTOCOL_UNKNOWN || ++f->packets >= CLASS_MAX_PACKETS)
        f->verdict = CLASS_OTHER;
    return f->verdict;
}

#else /* built without nDPI */

struct classifier *classifier_new(void) { return NULL; }
void classifier_free(struct classifier *c) { (void)c; }
void class_flow_free(struct class_flow *f) { (void)f; }
enum class_verdict classifier_udp(struct classifier *c, struct class_flow **flow,
                                  const struct l4_packet *l4)
{
    (void)c, (void)flow, (void)l4;
    return CLASS_OTHER;
}
#endif
