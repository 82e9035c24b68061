/* common/cursor.h: no read ever passes the end, and a failed read moves nothing. */
#include <criterion/criterion.h>

#include "common/cursor.h"

Test(cursor, reads_big_and_little_endian)
{
    const uint8_t b[] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
    struct cursor c = cursor_make(b, sizeof b);
    uint16_t v16;
    uint32_t v32;
    cr_assert(cursor_u16be(&c, &v16));
    cr_expect_eq(v16, 0x1234);
    cr_assert(cursor_u16le(&c, &v16));
    cr_expect_eq(v16, 0x7856);
    cr_assert(cursor_u32be(&c, &v32));
    cr_expect_eq(v32, 0x9abcdef0u);
    cr_expect_eq(cursor_left(&c), 0);
    c = cursor_make(b, sizeof b);
    cr_assert(cursor_u32le(&c, &v32));
    cr_expect_eq(v32, 0x78563412u);
}

Test(cursor, short_reads_fail_and_do_not_move)
{
    const uint8_t b[] = {1, 2, 3};
    struct cursor c = cursor_make(b, sizeof b);
    uint32_t v32 = 0xdead;
    uint16_t v16;
    const uint8_t *p;
    cr_expect_not(cursor_u32be(&c, &v32));
    cr_expect_eq(v32, 0xdead, "a failed read must not write");
    cr_expect_eq(cursor_left(&c), 3);
    cr_expect_not(cursor_skip(&c, 4));
    cr_expect_not(cursor_bytes(&c, 4, &p));
    cr_expect_not(cursor_peek_u16be(&c, 2, &v16));
    cr_expect_not(cursor_peek_u16be(&c, SIZE_MAX, &v16), "offset overflow must not wrap");
    cr_expect(cursor_peek_u16be(&c, 1, &v16));
    cr_expect_eq(v16, 0x0203);
    cr_expect(cursor_skip(&c, 3));
    uint8_t v8;
    cr_expect_not(cursor_u8(&c, &v8));
}

Test(cursor, limit_narrows)
{
    const uint8_t b[] = {1, 2, 3, 4, 5, 6};
    struct cursor c = cursor_make(b, sizeof b);
    cr_expect_not(cursor_limit(&c, 7));
    cr_assert(cursor_limit(&c, 2));
    cr_expect_eq(cursor_left(&c), 2);
    uint32_t v;
    cr_expect_not(cursor_u32be(&c, &v));
}
