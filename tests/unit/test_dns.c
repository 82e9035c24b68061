/* DNS messages (decode/dns.c) built here byte by byte, so the expected values are the ones
 * written: a SRV query for _sip._udp (RFC 3263 §4.2), its answer with two targets and
 * compression pointers (RFC 1035 §4.1.4), NAPTR as in RFC 3263 §4.1's example, A and AAAA,
 * NXDOMAIN; then what must be refused: pointer loops, pointers forward, reserved label
 * types, names past 255 octets, messages cut short. */
#include <criterion/criterion.h>
#include <string.h>

#include "decode/dns.h"

static uint8_t buf[2048];
static size_t len;
static struct dns_msg msg;

static void u8(unsigned v) { buf[len++] = (uint8_t)v; }
static void u16(unsigned v)
{
    u8(v >> 8);
    u8(v & 255);
}
static void u32(unsigned long v)
{
    u16((unsigned)(v >> 16));
    u16((unsigned)(v & 0xffff));
}

/* a name as labels, ending with a zero octet, or with a pointer when ptr >= 0 */
static void name(const char *dotted, int ptr)
{
    while (*dotted) {
        const char *dot = strchr(dotted, '.');
        size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);
        u8((unsigned)n);
        memcpy(buf + len, dotted, n);
        len += n;
        dotted += n + (dot ? 1 : 0);
    }
    if (ptr >= 0)
        u16(0xc000 | (unsigned)ptr);
    else
        u8(0);
}

static void header(unsigned id, unsigned flags, unsigned qd, unsigned an)
{
    len = 0;
    u16(id);
    u16(flags);
    u16(qd);
    u16(an);
    u16(0);
    u16(0);
}

Test(dns, srv_query)
{
    header(0x1234, 0x0100, 1, 0); /* RD */
    name("_sip._udp.example.com", -1);
    u16(DNS_SRV);
    u16(1);
    cr_assert_eq(dns_parse(buf, len, &msg), DR__COUNT);
    cr_expect_eq(msg.id, 0x1234);
    cr_expect_not(msg.response);
    cr_expect(msg.have_question);
    cr_expect_str_eq(msg.qname, "_sip._udp.example.com");
    cr_expect_eq(msg.qtype, DNS_SRV);
    cr_expect_eq(msg.nanswers, 0);
}

Test(dns, srv_answer_with_compression)
{
    header(0x1234, 0x8180, 1, 2); /* response, RD, RA, NOERROR */
    name("_sip._udp.example.com", -1); /* at offset 12; "example.com" at 12 + 10 = 22 */
    u16(DNS_SRV);
    u16(1);
    for (int i = 0; i < 2; i++) {
        u16(0xc000 | 12); /* the question's name */
        u16(DNS_SRV);
        u16(1);
        u32(300);
        size_t rdlen_at = len;
        u16(0);
        u16(10 + (unsigned)i); /* priority */
        u16(60);
        u16(5060);
        if (i == 0)
            name("sip1.example.com", -1);
        else
            name("sip2", 22); /* sip2 + pointer to "example.com" */
        size_t rdlen = len - rdlen_at - 2;
        buf[rdlen_at] = (uint8_t)(rdlen >> 8);
        buf[rdlen_at + 1] = (uint8_t)rdlen;
    }
    cr_assert_eq(dns_parse(buf, len, &msg), DR__COUNT);
    cr_expect(msg.response);
    cr_expect_eq(msg.rcode, DNS_NOERROR);
    cr_assert_eq(msg.nanswers, 2);
    cr_expect_str_eq(msg.answers[0].name, "_sip._udp.example.com");
    cr_expect_eq(msg.answers[0].priority, 10);
    cr_expect_eq(msg.answers[0].weight, 60);
    cr_expect_eq(msg.answers[0].port, 5060);
    cr_expect_eq(msg.answers[0].ttl, 300);
    cr_expect_str_eq(msg.answers[0].target, "sip1.example.com");
    cr_expect_eq(msg.answers[1].priority, 11);
    cr_expect_str_eq(msg.answers[1].target, "sip2.example.com");
}

Test(dns, naptr_a_aaaa)
{
    /* RFC 3263 §4.1: IN NAPTR 50 50 "s" "SIPS+D2T" "" _sips._tcp.example.com. */
    header(7, 0x8180, 1, 3);
    name("example.com", -1);
    u16(DNS_NAPTR);
    u16(1);
    u16(0xc000 | 12);
    u16(DNS_NAPTR);
    u16(1);
    u32(3600);
    size_t at = len;
    u16(0);
    u16(50);
    u16(50);
    u8(1);
    u8('s');
    u8(8);
    memcpy(buf + len, "SIPS+D2T", 8);
    len += 8;
    u8(0);
    name("_sips._tcp.example.com", -1);
    buf[at + 1] = (uint8_t)(len - at - 2);
    u16(0xc000 | 12); /* A 192.0.2.10 */
    u16(DNS_A);
    u16(1);
    u32(60);
    u16(4);
    u32(0xc000020aUL);
    u16(0xc000 | 12); /* AAAA 2001:db8::10 */
    u16(DNS_AAAA);
    u16(1);
    u32(60);
    u16(16);
    u32(0x20010db8UL);
    u32(0);
    u32(0);
    u32(0x10);
    cr_assert_eq(dns_parse(buf, len, &msg), DR__COUNT);
    cr_assert_eq(msg.nanswers, 3);
    cr_expect_eq(msg.answers[0].order, 50);
    cr_expect_eq(msg.answers[0].preference, 50);
    cr_expect_str_eq(msg.answers[0].flags, "s");
    cr_expect_str_eq(msg.answers[0].service, "SIPS+D2T");
    cr_expect_str_eq(msg.answers[0].target, "_sips._tcp.example.com");
    cr_expect_eq(msg.answers[1].addr.family, 4);
    cr_expect_eq(msg.answers[1].addr.b[0], 192);
    cr_expect_eq(msg.answers[1].addr.b[3], 10);
    cr_expect_eq(msg.answers[2].addr.family, 6);
    cr_expect_eq(msg.answers[2].addr.b[1], 0x01);
    cr_expect_eq(msg.answers[2].addr.b[15], 0x10);
}

Test(dns, nxdomain)
{
    char rb[16];
    header(9, 0x8183, 1, 0);
    name("sip.example.invalid", -1);
    u16(DNS_A);
    u16(1);
    cr_assert_eq(dns_parse(buf, len, &msg), DR__COUNT);
    cr_expect_eq(msg.rcode, DNS_NXDOMAIN);
    cr_expect_str_eq(dns_rcode_name(msg.rcode, rb, sizeof rb), "NXDOMAIN");
    cr_expect_str_eq(dns_rcode_name(15, rb, sizeof rb), "RCODE15");
}

Test(dns, refused_names)
{
    header(1, 0x8180, 1, 0);
    u16(0xc000 | 12); /* the name points at itself */
    u16(1);
    u16(1);
    cr_expect_eq(dns_parse(buf, len, &msg), DR_DNS_BAD_NAME, "pointer loop");

    header(1, 0x8180, 1, 0);
    u16(0xc000 | 40); /* forward */
    u16(1);
    u16(1);
    cr_expect_eq(dns_parse(buf, len, &msg), DR_DNS_BAD_NAME, "pointer forward");

    header(1, 0x8180, 1, 0);
    u8(0x41); /* a reserved label type */
    u8('a');
    u8(0);
    u16(1);
    u16(1);
    cr_expect_eq(dns_parse(buf, len, &msg), DR_DNS_BAD_NAME, "label type 01");

    header(1, 0x8180, 1, 0);
    for (int i = 0; i < 5; i++) { /* 5 labels of 63: 320 octets */
        u8(63);
        memset(buf + len, 'x', 63);
        len += 63;
    }
    u8(0);
    u16(1);
    u16(1);
    cr_expect_eq(dns_parse(buf, len, &msg), DR_DNS_BAD_NAME, "name past 255");
}

Test(dns, cut_short)
{
    header(1, 0x8180, 1, 1);
    name("example.com", -1);
    u16(DNS_A);
    u16(1);
    u16(0xc000 | 12);
    u16(DNS_A);
    u16(1);
    u32(60);
    u16(4);
    u16(0xc000); /* two of the four address bytes */
    cr_expect_eq(dns_parse(buf, len, &msg), DR_DNS_TRUNCATED);
    cr_expect_eq(dns_parse(buf, 5, &msg), DR_DNS_TRUNCATED, "inside the header");
    cr_expect_eq(dns_parse(buf, 14, &msg), DR_DNS_TRUNCATED, "inside the question's name");
}
