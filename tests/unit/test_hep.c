/* HEPv3 out (decode/hep.c's hep_encode): a packet built here byte by byte from the HEP3
 * specification (Homer's HEP3 Network Protocol Specification: "HEP3", a 16-bit total
 * length, then chunks of vendor id 0, type, length including the 6-byte chunk header and
 * value, big-endian), then the encoder read back by the parser, and its limits. */
#include <criterion/criterion.h>
#include <string.h>

#include "decode/hep.h"

struct buf {
    uint8_t b[512];
    size_t n;
};

static void u8(struct buf *b, unsigned v)
{
    b->b[b->n++] = (uint8_t)v;
}
static void u16(struct buf *b, unsigned v)
{
    u8(b, v >> 8);
    u8(b, v & 0xff);
}
static void u32(struct buf *b, uint32_t v)
{
    u16(b, v >> 16);
    u16(b, v & 0xffff);
}
static void chunk(struct buf *b, unsigned type, const void *v, size_t n)
{
    u16(b, 0); /* vendor 0: the generic chunks */
    u16(b, type);
    u16(b, (unsigned)(6 + n));
    memcpy(b->b + b->n, v, n);
    b->n += n;
}

static struct hep_msg sample_v4(const char *payload)
{
    struct hep_msg m = {.version = 3,
                        .family = 4,
                        .ip_proto = 17,
                        .sport = 5060,
                        .dport = 5080,
                        .has_time = true,
                        .payload_type = HEP_PT_SIP,
                        .capture_id = 2001,
                        .auth_key = SV_NULL,
                        .correlation = SV_NULL};
    m.src.family = m.dst.family = 4;
    memcpy(m.src.b, (uint8_t[]){10, 0, 0, 1}, 4);
    memcpy(m.dst.b, (uint8_t[]){192, 168, 1, 20}, 4);
    /* 2023-11-14 22:13:20.123456 UTC, and 789 ns that HEP's microseconds cannot carry */
    m.time = 1700000000 * PTIME_SEC + 123456 * PTIME_US + 789;
    m.payload = (const uint8_t *)payload;
    m.len = strlen(payload);
    return m;
}

Test(hep_encode, ipv4_as_the_spec_lays_it_out)
{
    const char *sip = "OPTIONS sip:a@b SIP/2.0\r\n\r\n";
    struct hep_msg m = sample_v4(sip);
    m.auth_key = sv_cstr("s3cret");
    m.correlation = sv_cstr("abc@host");

    struct buf want = {.n = 0};
    u32(&want, 0x48455033);              /* "HEP3" */
    u16(&want, 0);                       /* total, set below */
    chunk(&want, 1, (uint8_t[]){2}, 1);  /* IP family: AF_INET */
    chunk(&want, 2, (uint8_t[]){17}, 1); /* IP protocol: UDP */
    chunk(&want, 3, (uint8_t[]){10, 0, 0, 1}, 4);
    chunk(&want, 4, (uint8_t[]){192, 168, 1, 20}, 4);
    chunk(&want, 7, (uint8_t[]){5060 >> 8, 5060 & 0xff}, 2);
    chunk(&want, 8, (uint8_t[]){5080 >> 8, 5080 & 0xff}, 2);
    chunk(&want, 9, (uint8_t[]){0x65, 0x53, 0xf1, 0x00}, 4);  /* 1700000000 s */
    chunk(&want, 10, (uint8_t[]){0x00, 0x01, 0xe2, 0x40}, 4); /* 123456 µs */
    chunk(&want, 11, (uint8_t[]){1}, 1);                      /* payload type: SIP */
    chunk(&want, 12, (uint8_t[]){0, 0, 2001 >> 8, 2001 & 0xff}, 4);
    chunk(&want, 14, "s3cret", 6);
    chunk(&want, 15, sip, strlen(sip));
    chunk(&want, 17, "abc@host", 8);
    want.b[4] = (uint8_t)(want.n >> 8);
    want.b[5] = (uint8_t)want.n;

    uint8_t out[512];
    size_t n = hep_encode(&m, out, sizeof out);
    cr_assert_eq(n, want.n);
    cr_assert(!memcmp(out, want.b, n), "the bytes differ from the spec's layout");
}

Test(hep_encode, optional_chunks_left_out)
{
    struct hep_msg m = sample_v4("x");
    uint8_t out[512];
    size_t n = hep_encode(&m, out, sizeof out);
    /* 6 + family 7 + proto 7 + addresses 10+10 + ports 8+8 + time 10+10 + type 7 + id 10 +
     * payload 7 */
    cr_assert_eq(n, 6u + 7 + 7 + 10 + 10 + 8 + 8 + 10 + 10 + 7 + 10 + 7);
    cr_assert_eq(out[4] << 8 | out[5], (int)n);
}

Test(hep_encode, ipv6_read_back_by_the_parser)
{
    struct hep_msg m = sample_v4("INVITE sip:b@example.com SIP/2.0\r\n\r\n");
    m.family = m.src.family = m.dst.family = 6;
    memset(m.src.b, 0, 16);
    memset(m.dst.b, 0, 16);
    m.src.b[0] = 0x20, m.src.b[1] = 0x01, m.src.b[15] = 1;
    m.dst.b[0] = 0x20, m.dst.b[1] = 0x01, m.dst.b[15] = 2;
    m.ip_proto = 6;
    m.payload_type = HEP_PT_JSON_QOS;
    m.correlation = sv_cstr("call-7");

    uint8_t out[512];
    size_t n = hep_encode(&m, out, sizeof out), used = 0;
    struct hep_msg r;
    enum decode_reason why;
    cr_assert(n > 0);
    cr_assert_eq(hep_parse(out, n, &r, &used, &why), HEP_OK);
    cr_assert_eq(used, n);
    cr_assert_eq(r.version, 3);
    cr_assert_eq(r.family, 6);
    cr_assert_eq(r.ip_proto, 6);
    cr_assert(ip_addr_eq(&r.src, &m.src) && ip_addr_eq(&r.dst, &m.dst));
    cr_assert_eq(r.sport, 5060);
    cr_assert_eq(r.dport, 5080);
    cr_assert(r.has_time);
    cr_assert_eq(r.time, m.time - 789, "time to the microsecond");
    cr_assert_eq(r.payload_type, HEP_PT_JSON_QOS);
    cr_assert_eq(r.capture_id, 2001u);
    cr_assert(sv_is_null(r.auth_key));
    cr_assert(sv_eq_cstr(r.correlation, "call-7"));
    cr_assert_eq(r.len, m.len);
    cr_assert(!memcmp(r.payload, m.payload, m.len));
}

Test(hep_encode, refuses_what_does_not_fit)
{
    struct hep_msg m = sample_v4("OPTIONS sip:a@b SIP/2.0\r\n\r\n");
    uint8_t out[512];
    size_t n = hep_encode(&m, out, sizeof out);
    cr_assert(n > 0);
    cr_assert_eq(hep_encode(&m, out, n), n, "exactly its length is enough");
    cr_assert_eq(hep_encode(&m, out, n - 1), 0, "one byte short is not");
    cr_assert_eq(hep_encode(&m, out, 3), 0);
    /* HEPv3's length is 16 bits: a payload of 65535 bytes cannot fit with its headers */
    static uint8_t big[65535], huge[70000];
    m.payload = big;
    m.len = sizeof big;
    cr_assert_eq(hep_encode(&m, huge, sizeof huge), 0);
}
