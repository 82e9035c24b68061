/* decode/ipfrag: reassembly rules (RFC 791, RFC 8200 §4.5, RFC 5722) and its limits,
 * through the module's own interface. End-to-end cases are in tests/golden. */
#include <criterion/criterion.h>
#include <string.h>

#include "decode/ipfrag.h"

#define SEC PTIME_SEC

static uint8_t payload[16384];

static void fill(void)
{
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7 + 3);
}

static struct ipfrag_key key(uint32_t id)
{
    struct ipfrag_key k;
    memset(&k, 0, sizeof k);
    k.version = 4;
    k.proto = 17;
    k.id = id;
    k.src[0] = 192;
    k.dst[0] = 198;
    return k;
}

static enum ipfrag_result add(struct ipfrag_table *t, uint32_t id, ptime_t now, uint32_t off,
                              size_t len, bool more, struct ipfrag_done *d,
                              enum decode_reason *why)
{
    struct ipfrag_key k = key(id);
    return ipfrag_add(t, &k, now, 1, off, payload + off, len, more, 17, d, why);
}

static struct ipfrag_table *table(void)
{
    fill();
    return ipfrag_new(16, 1 << 20, 30 * SEC, 1);
}

Test(ipfrag, in_order_and_reverse_order)
{
    struct ipfrag_table *t = table();
    struct ipfrag_done d;
    enum decode_reason why;
    cr_expect_eq(add(t, 1, 0, 0, 1480, true, &d, &why), IPFRAG_HELD);
    cr_expect_eq(add(t, 1, 0, 1480, 1480, true, &d, &why), IPFRAG_HELD);
    cr_assert_eq(add(t, 1, 0, 2960, 100, false, &d, &why), IPFRAG_COMPLETE);
    cr_expect_eq(d.len, 3060);
    cr_expect_eq(memcmp(d.data, payload, 3060), 0);
    cr_expect_eq(d.fragments, 3);
    ipfrag_release(t, d.dg);

    cr_expect_eq(add(t, 2, 0, 2960, 100, false, &d, &why), IPFRAG_HELD);
    cr_expect_eq(add(t, 2, 0, 1480, 1480, true, &d, &why), IPFRAG_HELD);
    cr_assert_eq(add(t, 2, 0, 0, 1480, true, &d, &why), IPFRAG_COMPLETE);
    cr_expect_eq(memcmp(d.data, payload, 3060), 0);
    ipfrag_release(t, d.dg);

    struct ipfrag_stats st;
    ipfrag_get_stats(t, &st);
    cr_expect_eq(st.held_bytes, 0, "every buffer returned");
    cr_expect_eq(st.datagrams, 0);
    ipfrag_free(t);
}

Test(ipfrag, duplicates_and_agreeing_overlaps_are_kept)
{
    struct ipfrag_table *t = table();
    struct ipfrag_done d;
    enum decode_reason why;
    cr_expect_eq(add(t, 1, 0, 0, 1024, true, &d, &why), IPFRAG_HELD);
    cr_expect_eq(add(t, 1, 0, 0, 1024, true, &d, &why), IPFRAG_HELD);
    cr_expect_eq(add(t, 1, 0, 512, 1024, true, &d, &why), IPFRAG_HELD); /* same bytes */
    cr_assert_eq(add(t, 1, 0, 1536, 64, false, &d, &why), IPFRAG_COMPLETE);
    cr_expect_eq(d.len, 1600);
    cr_expect_eq(memcmp(d.data, payload, 1600), 0);
    ipfrag_release(t, d.dg);
    struct ipfrag_stats st;
    ipfrag_get_stats(t, &st);
    cr_expect_eq(st.duplicates, 1);
    ipfrag_free(t);
}

Test(ipfrag, disagreeing_overlap_drops_the_datagram)
{
    struct ipfrag_table *t = table();
    struct ipfrag_done d;
    enum decode_reason why;
    uint8_t evil[512];
    memset(evil, 0xee, sizeof evil);
    struct ipfrag_key k = key(9);
    cr_expect_eq(add(t, 9, 0, 0, 1024, true, &d, &why), IPFRAG_HELD);
    cr_assert_eq(ipfrag_add(t, &k, 0, 2, 512, evil, sizeof evil, true, 17, &d, &why),
                 IPFRAG_REJECTED);
    cr_expect_eq(why, DR_IPFRAG_OVERLAP);
    struct ipfrag_stats st;
    ipfrag_get_stats(t, &st);
    cr_expect_eq(st.datagrams, 0);
    cr_expect_eq(st.held_bytes, 0);
    ipfrag_free(t);
}

Test(ipfrag, length_rules)
{
    struct ipfrag_table *t = table();
    struct ipfrag_done d;
    enum decode_reason why;
    /* every piece but the last carries a multiple of 8 bytes */
    cr_expect_eq(add(t, 1, 0, 0, 100, true, &d, &why), IPFRAG_REJECTED);
    cr_expect_eq(why, DR_IPFRAG_BAD_LENGTH);
    /* two last pieces that disagree on the end */
    cr_expect_eq(add(t, 2, 0, 1480, 100, false, &d, &why), IPFRAG_HELD);
    cr_expect_eq(add(t, 2, 0, 1480, 200, false, &d, &why), IPFRAG_REJECTED);
    cr_expect_eq(why, DR_IPFRAG_BAD_LENGTH);
    /* a piece past the known end */
    cr_expect_eq(add(t, 3, 0, 1480, 100, false, &d, &why), IPFRAG_HELD);
    cr_expect_eq(add(t, 3, 0, 1600, 80, true, &d, &why), IPFRAG_REJECTED);
    cr_expect_eq(why, DR_IPFRAG_BAD_LENGTH);
    /* a last piece that ends before bytes already held */
    cr_expect_eq(add(t, 4, 0, 1480, 1480, true, &d, &why), IPFRAG_HELD);
    cr_expect_eq(add(t, 4, 0, 0, 100, false, &d, &why), IPFRAG_REJECTED);
    cr_expect_eq(why, DR_IPFRAG_BAD_LENGTH);
    /* past 65535 bytes */
    struct ipfrag_key k = key(5);
    cr_expect_eq(ipfrag_add(t, &k, 0, 1, 65528, payload, 16, false, 17, &d, &why),
                 IPFRAG_REJECTED);
    cr_expect_eq(why, DR_IPFRAG_OVERSIZE);
    struct ipfrag_stats st;
    ipfrag_get_stats(t, &st);
    cr_expect_eq(st.datagrams, 0);
    ipfrag_free(t);
}

Test(ipfrag, timeout_and_flush)
{
    struct ipfrag_table *t = table();
    struct ipfrag_done d;
    enum decode_reason why;
    cr_expect_eq(add(t, 1, 0, 0, 1480, true, &d, &why), IPFRAG_HELD);
    cr_expect_eq(add(t, 2, 10 * SEC, 0, 1480, true, &d, &why), IPFRAG_HELD);
    cr_expect_eq(ipfrag_expire(t, 30 * SEC), 0, "exactly 30 s is not yet too late");
    cr_expect_eq(ipfrag_expire(t, 30 * SEC + 1), 1);
    cr_expect_eq(ipfrag_expire(t, 40 * SEC + 1), 1);
    cr_expect_eq(add(t, 3, 50 * SEC, 0, 1480, true, &d, &why), IPFRAG_HELD);
    cr_expect_eq(ipfrag_flush(t), 1);
    ipfrag_free(t);
}

Test(ipfrag, datagram_limit_evicts_the_oldest)
{
    fill();
    struct ipfrag_table *t = ipfrag_new(2, 1 << 20, 30 * SEC, 1);
    struct ipfrag_done d;
    enum decode_reason why;
    cr_expect_eq(add(t, 1, 0, 0, 1480, true, &d, &why), IPFRAG_HELD);
    cr_expect_eq(add(t, 2, 1, 0, 1480, true, &d, &why), IPFRAG_HELD);
    cr_expect_eq(add(t, 3, 2, 0, 1480, true, &d, &why), IPFRAG_HELD);
    struct ipfrag_stats st;
    ipfrag_get_stats(t, &st);
    cr_expect_eq(st.evicted, 1);
    cr_expect_eq(st.datagrams, 2);
    /* datagram 1 was the one evicted: its last piece now starts a new, incomplete one */
    cr_expect_eq(add(t, 1, 3, 1480, 100, false, &d, &why), IPFRAG_HELD);
    cr_assert_eq(add(t, 3, 4, 1480, 100, false, &d, &why), IPFRAG_COMPLETE);
    ipfrag_release(t, d.dg);
    ipfrag_free(t);
}

Test(ipfrag, byte_limit_evicts_and_bounds_memory)
{
    fill();
    struct ipfrag_table *t = ipfrag_new(100, 8192, 30 * SEC, 1);
    struct ipfrag_done d;
    enum decode_reason why;
    struct ipfrag_stats st;
    for (uint32_t id = 1; id <= 10; id++) {
        cr_expect_eq(add(t, id, id, 0, 2048, true, &d, &why), IPFRAG_HELD);
        ipfrag_get_stats(t, &st);
        cr_assert_leq(st.held_bytes, 8192);
    }
    cr_expect_eq(st.evicted, 6);
    /* one datagram larger than the whole budget is refused, not grown */
    cr_expect_eq(add(t, 99, 20, 0, 8200, true, &d, &why), IPFRAG_REJECTED);
    cr_expect_eq(why, DR_IPFRAG_LIMIT);
    ipfrag_get_stats(t, &st);
    cr_expect_leq(st.held_bytes, 8192);
    ipfrag_free(t);
}

Test(ipfrag, too_many_holes)
{
    struct ipfrag_table *t = table();
    struct ipfrag_done d;
    enum decode_reason why;
    enum ipfrag_result r = IPFRAG_HELD;
    int i;
    /* every other 8-byte piece: disjoint ranges pile up */
    for (i = 0; i < 200 && r == IPFRAG_HELD; i++)
        r = add(t, 1, 0, (uint32_t)i * 16, 8, true, &d, &why);
    cr_expect_eq(r, IPFRAG_REJECTED);
    cr_expect_eq(why, DR_IPFRAG_TOO_MANY);
    cr_expect_eq(i, 65, "64 disjoint ranges are held, the 65th is refused");
    ipfrag_free(t);
}
