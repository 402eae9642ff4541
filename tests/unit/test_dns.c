/*
 * Unit tests for src/app/dns.c.
 *
 * Sections: helpers (a message builder), record types, compression
 * pointers, name limits, hostile and truncated messages, EVE, TCP framing,
 * protocol detection, names of types, codes and events.
 *
 * Every message is parsed from a heap copy of exactly its size, freed
 * right after dns_parse, so ASan sees any read past the end and any
 * pointer the message keeps into the input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/dns.h"
#include "detect/detect_int.h"

/* ===========================================================================
 * Helpers
 * ========================================================================= */

#define T_A 1
#define T_NS 2
#define T_CNAME 5
#define T_SOA 6
#define T_PTR 12
#define T_HINFO 13
#define T_MX 15
#define T_TXT 16
#define T_AAAA 28
#define T_SRV 33
#define T_OPT 41
#define T_PRIVATE 65280

/*
 * www.example.com A: CNAME web.example.com (compressed), A 93.184.216.34
 * (owner a pointer into the CNAME's rdata), authority SOA for example.com,
 * additional OPT. Checked against scapy.
 */
static const uint8_t response[] = {
    /* header: id 0x1234, flags 8180, qd 1 an 2 ns 1 ar 1 */
    0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0x01,
    /* 12: www(12) example(16) com(24) root(28), A IN */
    0x03, 'w', 'w', 'w', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00,
    0x00, 0x01, 0x00, 0x01,
    /* 33: -> 12 CNAME IN ttl 300 rdlen 6: web(45) -> 16 */
    0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x06,
    0x03, 'w', 'e', 'b', 0xc0, 0x10,
    /* 51: -> 45 A IN ttl 60 rdlen 4: 93.184.216.34 */
    0xc0, 0x2d, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04,
    0x5d, 0xb8, 0xd8, 0x22,
    /* 67: -> 16 SOA IN ttl 3600 rdlen 39: ns1 -> 16, hostmaster -> 16, five numbers */
    0xc0, 0x10, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x27,
    0x03, 'n', 's', '1', 0xc0, 0x10,
    0x0a, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r', 0xc0, 0x10,
    0x78, 0xa4, 0x8d, 0xb5, 0x00, 0x00, 0x1c, 0x20, 0x00, 0x00, 0x0e, 0x10,
    0x00, 0x12, 0x75, 0x00, 0x00, 0x00, 0x01, 0x2c,
    /* 118: root OPT udp 1232 */
    0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* A recursive query for www.example.com A. */
static const uint8_t query[] = {
    0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x03, 'w', 'w', 'w', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00,
    0x00, 0x01, 0x00, 0x01,
};

/* A message under construction. */
struct mb {
    uint8_t d[70000];
    uint32_t n;
};

static struct mb *mb_new(void)
{
    struct mb *b = calloc(1, sizeof *b);
    assert_non_null(b);
    return b;
}

static void put8(struct mb *b, unsigned v)
{
    assert_true(b->n < sizeof b->d);
    b->d[b->n++] = (uint8_t)v;
}

static void put16(struct mb *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v);
}

static void put32(struct mb *b, uint32_t v)
{
    put16(b, v >> 16);
    put16(b, v & 0xffff);
}

static void put_bytes(struct mb *b, const void *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put8(b, ((const uint8_t *)s)[i]);
}

static void put_header(struct mb *b, unsigned id, unsigned flags, unsigned qd, unsigned an,
                       unsigned ns, unsigned ar)
{
    b->n = 0;
    put16(b, id);
    put16(b, flags);
    put16(b, qd);
    put16(b, an);
    put16(b, ns);
    put16(b, ar);
}

/* Writes the labels of a dotted name ("" writes none); returns where they start. */
static uint32_t put_labels(struct mb *b, const char *dotted)
{
    uint32_t start = b->n;
    const char *p = dotted;
    while (*p != '\0') {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        assert_true(n >= 1 && n <= 63);
        put8(b, (unsigned)n);
        put_bytes(b, p, n);
        p += n;
        if (*p == '.')
            p++;
    }
    return start;
}

/* A whole name ending in the root. */
static uint32_t put_name(struct mb *b, const char *dotted)
{
    uint32_t start = put_labels(b, dotted);
    put8(b, 0);
    return start;
}

/* Labels, then a compression pointer to off. */
static uint32_t put_name_ptr(struct mb *b, const char *prefix, unsigned off)
{
    uint32_t start = put_labels(b, prefix);
    put16(b, 0xc000 | off);
    return start;
}

static void put_question(struct mb *b, const char *name, unsigned type)
{
    put_name(b, name);
    put16(b, type);
    put16(b, 1);
}

/* After an owner name: type, class IN, ttl and a length patched by rr_end. */
static uint32_t rr_begin(struct mb *b, unsigned type, uint32_t ttl)
{
    put16(b, type);
    put16(b, 1);
    put32(b, ttl);
    put16(b, 0);
    return b->n;
}

static void rr_end(struct mb *b, uint32_t rdata)
{
    uint32_t n = b->n - rdata;
    b->d[rdata - 2] = (uint8_t)(n >> 8);
    b->d[rdata - 1] = (uint8_t)n;
}

/* A response to "<qname> <qtype>", its one answer's owner a pointer to the question. */
static void response_start(struct mb *b, const char *qname, unsigned qtype, unsigned an)
{
    put_header(b, 0x4242, 0x8180, 1, an, 0, 0);
    put_question(b, qname, qtype);
}

static struct app_events ev;

/* Parses a heap copy of exactly n bytes, freed before returning. */
static struct dns_msg *parse(const uint8_t *d, uint32_t n)
{
    memset(&ev, 0, sizeof ev);
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, d, n);
    struct dns_msg *m = dns_parse(copy, n, &ev);
    free(copy);
    return m;
}

static struct dns_msg *parse_mb(const struct mb *b)
{
    return parse(b->d, b->n);
}

static bool has_ev(int code)
{
    for (unsigned i = 0; i < ev.n; i++)
        if (ev.code[i] == code)
            return true;
    return false;
}

static void assert_buffer(const struct dns_msg *m, int buf, unsigned idx, const void *expect,
                          uint32_t n)
{
    const uint8_t *d = NULL;
    uint32_t len = 0;
    assert_true(dns_msg_buffer(m, buf, idx, &d, &len));
    assert_non_null(d);
    assert_int_equal(len, n);
    if (n > 0)
        assert_memory_equal(d, expect, n);
}

static void assert_buffer_str(const struct dns_msg *m, int buf, unsigned idx, const char *s)
{
    assert_buffer(m, buf, idx, s, (uint32_t)strlen(s));
}

static void assert_no_buffer(const struct dns_msg *m, int buf, unsigned idx)
{
    const uint8_t *d;
    uint32_t len;
    assert_false(dns_msg_buffer(m, buf, idx, &d, &len));
}

static unsigned buffer_count(const struct dns_msg *m, int buf)
{
    const uint8_t *d;
    uint32_t len;
    unsigned n = 0;
    while (dns_msg_buffer(m, buf, n, &d, &len))
        n++;
    return n;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (s == NULL)
        fail_msg("no string \"%s\"", key);
    return s;
}

static long long jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("no integer \"%s\"", key);
    return json_integer_value(v);
}

/* Item i of section key ("queries", "answers", "authorities"). */
static json_t *jitem(const json_t *eve, const char *key, size_t i)
{
    json_t *a = json_object_get(eve, key);
    assert_true(json_is_array(a));
    json_t *o = json_array_get(a, i);
    assert_true(json_is_object(o));
    return o;
}

/* The EVE object of a message whose only answer is checked by the caller. */
static json_t *first_answer(struct dns_msg *m, json_t **eve)
{
    *eve = dns_msg_eve(m);
    assert_non_null(*eve);
    assert_int_equal(json_array_size(json_object_get(*eve, "answers")), 1);
    return jitem(*eve, "answers", 0);
}

/* ===========================================================================
 * Record types
 * ========================================================================= */

static void test_query_header_question_and_buffers(void **state)
{
    (void)state;
    struct dns_msg *m = parse(query, sizeof query);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    assert_false(dns_msg_is_response(m));
    assert_int_equal(dns_msg_id(m), 0xbeef);
    assert_int_equal(dns_msg_opcode(m), 0);
    assert_int_equal(dns_msg_rcode(m), 0);
    assert_buffer_str(m, BUF_DNS_QUERY, 0, "www.example.com");
    assert_no_buffer(m, BUF_DNS_QUERY, 1);
    assert_no_buffer(m, BUF_DNS_ANSWER_NAME, 0);
    assert_no_buffer(m, BUF_HTTP_URI, 0);
    assert_true(dns_msg_has_rrtype(m, T_A));
    assert_false(dns_msg_has_rrtype(m, T_AAAA));
    dns_msg_free(m);
}

static void test_response_sections_and_buffers(void **state)
{
    (void)state;
    struct dns_msg *m = parse(response, sizeof response);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    assert_true(dns_msg_is_response(m));
    assert_int_equal(dns_msg_id(m), 0x1234);
    assert_buffer_str(m, BUF_DNS_QUERY, 0, "www.example.com");
    assert_buffer_str(m, BUF_DNS_ANSWER_NAME, 0, "www.example.com");
    assert_buffer_str(m, BUF_DNS_ANSWER_NAME, 1, "web.example.com");
    assert_no_buffer(m, BUF_DNS_ANSWER_NAME, 2);
    /* questions and answers count; authorities and additionals do not */
    assert_true(dns_msg_has_rrtype(m, T_A));
    assert_true(dns_msg_has_rrtype(m, T_CNAME));
    assert_false(dns_msg_has_rrtype(m, T_SOA));
    assert_false(dns_msg_has_rrtype(m, T_OPT));
    dns_msg_free(m);
}

static void test_answers_of_a_request_do_not_count_for_rrtype(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    put_header(b, 1, 0x0100, 1, 1, 0, 0);
    put_question(b, "example.com", T_A);
    put_name_ptr(b, "", 12);
    rr_begin(b, T_MX, 0);
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_true(dns_msg_has_rrtype(m, T_A));
    assert_false(dns_msg_has_rrtype(m, T_MX));
    dns_msg_free(m);
    free(b);
}

static void test_rdata_a_and_aaaa_as_text(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    response_start(b, "v6.example.com", T_AAAA, 2);
    put_name_ptr(b, "", 12);
    uint32_t r = rr_begin(b, T_AAAA, 120);
    static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    put_bytes(b, v6, sizeof v6);
    rr_end(b, r);
    put_name_ptr(b, "", 12);
    r = rr_begin(b, T_A, 5);
    put32(b, 0x0a000001);
    rr_end(b, r);

    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    json_t *eve = dns_msg_eve(m);
    json_t *a = jitem(eve, "answers", 0);
    assert_string_equal(jstr(a, "rrname"), "v6.example.com");
    assert_string_equal(jstr(a, "rrtype"), "AAAA");
    assert_int_equal(jint(a, "ttl"), 120);
    /* Suricata's form: eight zero-padded groups, no :: */
    assert_string_equal(jstr(a, "rdata"), "2001:0db8:0000:0000:0000:0000:0000:0001");
    a = jitem(eve, "answers", 1);
    assert_string_equal(jstr(a, "rrtype"), "A");
    assert_string_equal(jstr(a, "rdata"), "10.0.0.1");
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

/* One answer of type t whose rdata is a name (after skip bytes of its own). */
static void check_name_rdata(unsigned t, const char *tname, unsigned skip)
{
    struct mb *b = mb_new();
    response_start(b, "example.com", t, 1);
    put_name_ptr(b, "", 12);
    uint32_t r = rr_begin(b, t, 3600);
    for (unsigned i = 0; i < skip; i++)
        put8(b, 0x0a);
    put_name_ptr(b, "target", 12); /* target.example.com */
    rr_end(b, r);

    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    json_t *eve;
    json_t *a = first_answer(m, &eve);
    assert_string_equal(jstr(a, "rrname"), "example.com");
    assert_string_equal(jstr(a, "rrtype"), tname);
    assert_int_equal(jint(a, "ttl"), 3600);
    assert_string_equal(jstr(a, "rdata"), "target.example.com");
    assert_int_equal(json_object_size(a), 4);
    assert_true(dns_msg_has_rrtype(m, (uint16_t)t));
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_rdata_cname_ns_ptr_are_names(void **state)
{
    (void)state;
    check_name_rdata(T_CNAME, "CNAME", 0);
    check_name_rdata(T_NS, "NS", 0);
    check_name_rdata(T_PTR, "PTR", 0);
}

static void test_rdata_mx_is_the_exchange_name(void **state)
{
    (void)state;
    check_name_rdata(T_MX, "MX", 2);
}

static void test_rdata_txt_strings_concatenated_and_escaped(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    response_start(b, "example.com", T_TXT, 1);
    put_name_ptr(b, "", 12);
    uint32_t r = rr_begin(b, T_TXT, 300);
    put8(b, 7);
    put_bytes(b, "v=spf1 ", 7);
    put8(b, 0); /* an empty string */
    put8(b, 4);
    put_bytes(b, "-all", 4);
    put8(b, 3);
    put_bytes(b, "\x01\\\xe9", 3);
    rr_end(b, r);

    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    json_t *eve;
    json_t *a = first_answer(m, &eve);
    assert_string_equal(jstr(a, "rrtype"), "TXT");
    assert_string_equal(jstr(a, "rdata"), "v=spf1 -all\\x01\\x5c\\xe9");
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_rdata_txt_string_past_rdata_is_malformed(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    response_start(b, "example.com", T_TXT, 1);
    put_name_ptr(b, "", 12);
    uint32_t r = rr_begin(b, T_TXT, 300);
    put8(b, 2);
    put_bytes(b, "ok", 2);
    put8(b, 9); /* says 9, has 2 */
    put_bytes(b, "no", 2);
    rr_end(b, r);

    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    json_t *eve;
    json_t *a = first_answer(m, &eve);
    assert_string_equal(jstr(a, "rdata"), "ok");
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_rdata_soa_object(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    response_start(b, "example.org", T_SOA, 1);
    put_name_ptr(b, "", 12);
    uint32_t r = rr_begin(b, T_SOA, 86400);
    put_name_ptr(b, "sns.dns.icann", 12);
    put_name(b, "noc.dns.icann.org");
    put32(b, 2024041801);
    put32(b, 7200);
    put32(b, 3600);
    put32(b, 1209600);
    put32(b, 3600);
    rr_end(b, r);

    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    json_t *eve;
    json_t *a = first_answer(m, &eve);
    assert_string_equal(jstr(a, "rrtype"), "SOA");
    assert_null(json_object_get(a, "rdata"));
    json_t *soa = json_object_get(a, "soa");
    assert_true(json_is_object(soa));
    assert_string_equal(jstr(soa, "mname"), "sns.dns.icann.example.org");
    assert_string_equal(jstr(soa, "rname"), "noc.dns.icann.org");
    assert_int_equal(jint(soa, "serial"), 2024041801);
    assert_int_equal(jint(soa, "refresh"), 7200);
    assert_int_equal(jint(soa, "retry"), 3600);
    assert_int_equal(jint(soa, "expire"), 1209600);
    assert_int_equal(jint(soa, "minimum"), 3600);
    assert_int_equal(json_object_size(soa), 7);
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_rdata_soa_short_numbers_is_malformed(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    response_start(b, "example.org", T_SOA, 1);
    put_name_ptr(b, "", 12);
    uint32_t r = rr_begin(b, T_SOA, 86400);
    put_name_ptr(b, "ns", 12);
    put_name_ptr(b, "hostmaster", 12);
    put32(b, 1); /* one number of five */
    rr_end(b, r);

    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    json_t *eve;
    json_t *a = first_answer(m, &eve);
    assert_null(json_object_get(a, "soa"));
    assert_string_equal(jstr(a, "rrtype"), "SOA");
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_rdata_srv_object(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    response_start(b, "_sip._tcp.example.com", T_SRV, 1);
    put_name_ptr(b, "", 12);
    uint32_t r = rr_begin(b, T_SRV, 60);
    put16(b, 10);
    put16(b, 60);
    put16(b, 5060);
    put_name(b, "sip.example.com");
    rr_end(b, r);

    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    json_t *eve;
    json_t *a = first_answer(m, &eve);
    assert_string_equal(jstr(a, "rrname"), "_sip._tcp.example.com");
    assert_string_equal(jstr(a, "rrtype"), "SRV");
    assert_null(json_object_get(a, "rdata"));
    json_t *srv = json_object_get(a, "srv");
    assert_true(json_is_object(srv));
    assert_int_equal(jint(srv, "priority"), 10);
    assert_int_equal(jint(srv, "weight"), 60);
    assert_int_equal(jint(srv, "port"), 5060);
    assert_string_equal(jstr(srv, "name"), "sip.example.com");
    assert_int_equal(json_object_size(srv), 4);
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_other_types_logged_by_name_or_number_without_rdata(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    response_start(b, "example.com", T_HINFO, 2);
    put_name_ptr(b, "", 12);
    uint32_t r = rr_begin(b, T_HINFO, 1);
    put_bytes(b, "\x03" "CPU" "\x02" "OS", 7);
    rr_end(b, r);
    put_name_ptr(b, "", 12);
    r = rr_begin(b, T_PRIVATE, 2);
    put_bytes(b, "\xde\xad", 2);
    rr_end(b, r);

    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    json_t *eve = dns_msg_eve(m);
    json_t *a = jitem(eve, "answers", 0);
    assert_string_equal(jstr(a, "rrtype"), "HINFO");
    assert_null(json_object_get(a, "rdata"));
    assert_int_equal(json_object_size(a), 3);
    a = jitem(eve, "answers", 1);
    assert_string_equal(jstr(a, "rrtype"), "65280");
    assert_int_equal(jint(a, "ttl"), 2);
    assert_int_equal(json_object_size(a), 3);
    assert_true(dns_msg_has_rrtype(m, T_PRIVATE));
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_bad_rdata_is_left_out_and_parsing_goes_on(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    response_start(b, "example.com", T_A, 3);
    put_name_ptr(b, "", 12);
    uint32_t r = rr_begin(b, T_A, 1);
    put_bytes(b, "\x01\x02\x03", 3); /* an A of three bytes */
    rr_end(b, r);
    put_name_ptr(b, "", 12);
    r = rr_begin(b, T_CNAME, 1);
    put_bytes(b, "\x05" "ab", 3); /* a label running past rdlength */
    rr_end(b, r);
    put_name_ptr(b, "", 12);
    r = rr_begin(b, T_A, 1);
    put32(b, 0xc0000201);
    rr_end(b, r);

    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    json_t *eve = dns_msg_eve(m);
    assert_int_equal(json_array_size(json_object_get(eve, "answers")), 3);
    assert_null(json_object_get(jitem(eve, "answers", 0), "rdata"));
    assert_null(json_object_get(jitem(eve, "answers", 1), "rdata"));
    assert_string_equal(jstr(jitem(eve, "answers", 2), "rdata"), "192.0.2.1");
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

/* ===========================================================================
 * Compression pointers
 * ========================================================================= */

static void test_pointer_to_pointer_backwards_is_followed(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    response_start(b, "example.com", T_A, 2);
    uint32_t first = put_name_ptr(b, "", 12);
    uint32_t r = rr_begin(b, T_PRIVATE, 1);
    rr_end(b, r);
    put_name_ptr(b, "www", first); /* www + -> (-> example.com) */
    r = rr_begin(b, T_PRIVATE, 1);
    rr_end(b, r);

    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    assert_buffer_str(m, BUF_DNS_ANSWER_NAME, 0, "example.com");
    assert_buffer_str(m, BUF_DNS_ANSWER_NAME, 1, "www.example.com");
    dns_msg_free(m);
    free(b);
}

static void test_pointer_to_a_suffix_label_is_followed(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    response_start(b, "a.b.example.com", T_A, 1);
    put_name_ptr(b, "x", 14); /* -> b.example.com */
    rr_begin(b, T_PRIVATE, 1);
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    assert_buffer_str(m, BUF_DNS_ANSWER_NAME, 0, "x.b.example.com");
    dns_msg_free(m);
    free(b);
}

static void test_forward_pointer_is_rejected(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    put_header(b, 7, 0x8180, 1, 1, 0, 0);
    put_name_ptr(b, "www", 22); /* -> the answer's owner, later */
    put16(b, T_A);
    put16(b, 1);
    assert_int_equal(b->n, 22);
    put_name(b, "evil.example");
    rr_begin(b, T_PRIVATE, 1);

    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    assert_false(has_ev(DNS_EV_INFINITE_LOOP));
    /* the name keeps what came before the pointer; the records go on */
    assert_buffer_str(m, BUF_DNS_QUERY, 0, "www");
    assert_buffer_str(m, BUF_DNS_ANSWER_NAME, 0, "evil.example");
    json_t *eve = dns_msg_eve(m);
    json_t *q = jitem(eve, "queries", 0);
    assert_string_equal(jstr(q, "rrname"), "www");
    assert_true(json_is_true(json_object_get(q, "rrname_truncated")));
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_pointer_into_a_label_is_followed_and_flagged(void **state)
{
    (void)state;
    /* one label "x\x04evil\x03com" hides the name evil.com at offset 14 */
    struct mb *b = mb_new();
    put_header(b, 1, 0x8180, 1, 1, 0, 0);
    put8(b, 10);
    put_bytes(b, "x\x04" "evil" "\x03" "com", 10);
    put8(b, 0);
    put16(b, T_A);
    put16(b, 1);
    put_name_ptr(b, "", 14);
    rr_begin(b, T_PRIVATE, 1);
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    /* a resolver would read evil.com: so is it inspected */
    assert_buffer_str(m, BUF_DNS_ANSWER_NAME, 0, "evil.com");
    assert_buffer_str(m, BUF_DNS_QUERY, 0, "x\x04" "evil" "\x03" "com");
    dns_msg_free(m);
    free(b);
}

static void test_pointer_into_the_header_is_followed_and_flagged(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    put_header(b, 0x0161, 0x8180, 1, 1, 0, 0); /* id: label "a", then flags 0x81.. */
    put_question(b, "example.com", T_A);
    put_name_ptr(b, "www", 0);
    rr_begin(b, T_PRIVATE, 1);
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    /* "a", then 0x81 is no label type: the name stops there */
    assert_buffer_str(m, BUF_DNS_ANSWER_NAME, 0, "www.a");
    json_t *eve = dns_msg_eve(m);
    assert_string_equal(jstr(jitem(eve, "answers", 0), "rrname"), "www.a");
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_pointer_into_undecoded_rdata_is_accepted(void **state)
{
    (void)state;
    /* an RRSIG's signer name, uncompressed in its rdata, is a target real servers use */
    struct mb *b = mb_new();
    put_header(b, 1, 0x8180, 1, 1, 1, 0);
    put_question(b, "www.example.com", T_A);
    put_name_ptr(b, "", 12);
    uint32_t r = rr_begin(b, 46, 300);
    put_bytes(b, "\x00\x01\x08\x03\x00\x00\x01\x2c\x66\x00\x00\x00\x65\x00\x00\x00"
                 "\x12\x34", 18);
    uint32_t signer = put_name(b, "example.net");
    put_bytes(b, "\xde\xad\xbe\xef", 4);
    rr_end(b, r);
    put_name_ptr(b, "", signer);
    r = rr_begin(b, T_NS, 300);
    put_name_ptr(b, "ns1", signer);
    rr_end(b, r);
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    json_t *eve = dns_msg_eve(m);
    json_t *ns = jitem(eve, "authorities", 0);
    assert_string_equal(jstr(ns, "rrname"), "example.net");
    assert_string_equal(jstr(ns, "rdata"), "ns1.example.net");
    assert_string_equal(jstr(jitem(eve, "answers", 0), "rrtype"), "RRSIG");
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_empty_rdata_is_no_rdata_not_malformed(void **state)
{
    (void)state;
    /* dynamic update: "delete the CNAME and A RRsets" have class ANY, rdlength 0 */
    struct mb *b = mb_new();
    put_header(b, 1, 0x2800, 1, 0, 2, 0);
    put_question(b, "example.com", T_SOA);
    put_name_ptr(b, "host", 12);
    rr_begin(b, T_CNAME, 0);
    put_name_ptr(b, "host", 12);
    rr_begin(b, T_A, 0);
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    assert_int_equal(dns_msg_opcode(m), 5);
    json_t *eve = dns_msg_eve(m);
    json_t *ns = jitem(eve, "authorities", 1);
    assert_string_equal(jstr(ns, "rrname"), "host.example.com");
    assert_null(json_object_get(ns, "rdata"));
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_self_pointer_is_a_loop(void **state)
{
    (void)state;
    static const uint8_t msg[] = {
        0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, /* 12: -> 12 */
    };
    struct dns_msg *m = parse(msg, sizeof msg);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_INFINITE_LOOP));
    assert_buffer_str(m, BUF_DNS_QUERY, 0, "");
    assert_true(dns_msg_has_rrtype(m, T_A));
    dns_msg_free(m);

    /* labels first, then a pointer back to their own start */
    static const uint8_t msg2[] = {
        0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 'a', 0x01, 'b', 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, /* a.b -> 12 */
    };
    m = parse(msg2, sizeof msg2);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_INFINITE_LOOP));
    assert_buffer_str(m, BUF_DNS_QUERY, 0, "a.b");
    dns_msg_free(m);
}

static void test_two_pointer_loop_is_a_loop(void **state)
{
    (void)state;
    static const uint8_t msg[] = {
        0x00, 0x02, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0xc0, 0x12, 0x00, 0x01, 0x00, 0x01,             /* 12: -> 18 (forward) */
        0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01,             /* 18: -> 12 -> 18 -> ... */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0x7f, 0x00, 0x00, 0x01,
    };
    struct dns_msg *m = parse(msg, sizeof msg);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_INFINITE_LOOP));
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    assert_buffer_str(m, BUF_DNS_ANSWER_NAME, 0, "");
    json_t *eve = dns_msg_eve(m);
    assert_string_equal(jstr(jitem(eve, "answers", 0), "rdata"), "127.0.0.1");
    json_decref(eve);
    dns_msg_free(m);
}

static void test_pointer_chain_over_128_hops_is_a_loop(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    response_start(b, "a", T_A, 130);
    uint32_t prev = 12;
    for (unsigned i = 0; i < 130; i++) {
        uint32_t here = put_name_ptr(b, "", prev);
        rr_begin(b, T_PRIVATE, i);
        prev = here;
    }
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_INFINITE_LOOP));
    /* answer i takes i + 1 hops */
    assert_buffer_str(m, BUF_DNS_ANSWER_NAME, 0, "a");
    assert_buffer_str(m, BUF_DNS_ANSWER_NAME, 127, "a");
    assert_buffer_str(m, BUF_DNS_ANSWER_NAME, 128, "");
    assert_buffer_str(m, BUF_DNS_ANSWER_NAME, 129, "");
    dns_msg_free(m);
    free(b);
}

static void test_extended_label_types_are_malformed(void **state)
{
    (void)state;
    static const uint8_t msg[] = {
        0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x41, 0x00, 0x00, 0x01, 0x00, 0x01, /* 01xxxxxx: EDNS0 extended label */
    };
    struct dns_msg *m = parse(msg, sizeof msg);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    assert_no_buffer(m, BUF_DNS_QUERY, 0);
    dns_msg_free(m);
}

/* ===========================================================================
 * Name limits and escaping
 * ========================================================================= */

/* A dotted name of n bytes, labels of 63 ("aaa...a.bbb...b..."), never ending in a dot. */
static void long_name(char *out, size_t n)
{
    for (size_t k = 0; k < n; k++)
        out[k] = k % 64 == 63 ? '.' : (char)('a' + (k / 64) % 26);
    if (out[n - 1] == '.') {
        out[n - 2] = '.';
        out[n - 1] = 'z';
    }
    out[n] = '\0';
}

static void test_name_of_255_bytes_is_kept_whole(void **state)
{
    (void)state;
    char name[256];
    long_name(name, 255);
    assert_int_equal(strlen(name), 255);
    struct mb *b = mb_new();
    put_header(b, 1, 0x0100, 1, 0, 0, 0);
    put_question(b, name, T_A);
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    assert_buffer_str(m, BUF_DNS_QUERY, 0, name);
    json_t *eve = dns_msg_eve(m);
    assert_null(json_object_get(jitem(eve, "queries", 0), "rrname_truncated"));
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_name_over_255_bytes_is_truncated(void **state)
{
    (void)state;
    char name[400];
    long_name(name, 300);
    struct mb *b = mb_new();
    put_header(b, 1, 0x0100, 1, 0, 0, 0);
    put_question(b, name, T_A);
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_NAME_TOO_LONG));
    assert_buffer(m, BUF_DNS_QUERY, 0, name, 255);
    json_t *eve = dns_msg_eve(m);
    json_t *q = jitem(eve, "queries", 0);
    assert_int_equal(strlen(jstr(q, "rrname")), 255);
    assert_memory_equal(jstr(q, "rrname"), name, 255);
    assert_true(json_is_true(json_object_get(q, "rrname_truncated")));
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_name_over_255_bytes_through_pointers_is_truncated(void **state)
{
    (void)state;
    char first[201], prefix[101], whole[400];
    long_name(first, 200);
    long_name(prefix, 100);
    snprintf(whole, sizeof whole, "%s.%s", prefix, first);
    struct mb *b = mb_new();
    put_header(b, 1, 0x8180, 1, 1, 0, 0);
    put_question(b, first, T_A);
    put_name_ptr(b, prefix, 12);
    rr_begin(b, T_PRIVATE, 1);
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_NAME_TOO_LONG));
    assert_buffer_str(m, BUF_DNS_QUERY, 0, first);
    assert_buffer(m, BUF_DNS_ANSWER_NAME, 0, whole, 255);
    dns_msg_free(m);
    free(b);
}

static void labels_name(char *out, unsigned labels)
{
    for (unsigned i = 0; i < labels; i++) {
        out[2 * i] = (char)('a' + i % 26);
        out[2 * i + 1] = '.';
    }
    out[2 * labels - 1] = '\0';
}

static void test_127_labels_are_kept_128_are_too_many(void **state)
{
    (void)state;
    char name[300];
    labels_name(name, 127);
    struct mb *b = mb_new();
    put_header(b, 1, 0x0100, 1, 0, 0, 0);
    put_question(b, name, T_A);
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    assert_buffer_str(m, BUF_DNS_QUERY, 0, name);
    dns_msg_free(m);

    char more[300];
    labels_name(more, 128); /* 255 bytes: not too long, too many labels */
    assert_int_equal(strlen(more), 255);
    put_header(b, 1, 0x0100, 1, 0, 0, 0);
    put_question(b, more, T_A);
    m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_TOO_MANY_LABELS));
    assert_false(has_ev(DNS_EV_NAME_TOO_LONG));
    assert_buffer_str(m, BUF_DNS_QUERY, 0, name); /* the first 127 labels */
    json_t *eve = dns_msg_eve(m);
    assert_true(json_is_true(json_object_get(jitem(eve, "queries", 0), "rrname_truncated")));
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_label_bytes_escaped_in_eve_raw_in_buffer(void **state)
{
    (void)state;
    static const uint8_t msg[] = {
        0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x03, 'a', ' ', 'b', 0x03, 'x', '.', 'y', 0x05, 0x00, 0xff, '\\', '"', '~',
        0x00, 0x00, 0x01, 0x00, 0x01,
    };
    struct dns_msg *m = parse(msg, sizeof msg);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    static const uint8_t raw[] = { 'a', ' ', 'b', '.', 'x', '.', 'y', '.',
                                   0x00, 0xff, '\\', '"', '~' };
    assert_buffer(m, BUF_DNS_QUERY, 0, raw, sizeof raw);
    json_t *eve = dns_msg_eve(m);
    assert_string_equal(jstr(jitem(eve, "queries", 0), "rrname"),
                        "a\\x20b.x\\x2ey.\\x00\\xff\\x5c\"~");
    json_decref(eve);
    dns_msg_free(m);
}

static void test_root_name_is_empty(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    put_header(b, 1, 0x0000, 1, 0, 0, 0);
    put_question(b, "", 2);
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    assert_buffer_str(m, BUF_DNS_QUERY, 0, "");
    json_t *eve = dns_msg_eve(m);
    assert_string_equal(jstr(jitem(eve, "queries", 0), "rrname"), "");
    assert_string_equal(jstr(jitem(eve, "queries", 0), "rrtype"), "NS");
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

/* ===========================================================================
 * Hostile and truncated messages
 * ========================================================================= */

static void test_shorter_than_a_header_is_not_dns(void **state)
{
    (void)state;
    for (uint32_t n = 0; n < 12; n++) {
        assert_null(parse(response, n));
        assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    }
}

static void test_truncated_at_every_offset(void **state)
{
    (void)state;
    unsigned prev_answers = 0;
    for (uint32_t n = 12; n < sizeof response; n++) {
        struct dns_msg *m = parse(response, n);
        assert_non_null(m);
        assert_true(has_ev(DNS_EV_MALFORMED_DATA));
        assert_int_equal(dns_msg_id(m), 0x1234);
        unsigned answers = buffer_count(m, BUF_DNS_ANSWER_NAME);
        assert_true(answers <= 2);
        assert_true(answers >= prev_answers); /* more bytes never lose a record */
        prev_answers = answers;
        json_t *eve = dns_msg_eve(m);
        assert_non_null(eve);
        char *s = json_dumps(eve, JSON_COMPACT);
        assert_non_null(s);
        free(s);
        json_decref(eve);
        /* the question is whole from byte 33, the answers from 51 and 67 */
        assert_int_equal(buffer_count(m, BUF_DNS_QUERY), n >= 33 ? 1 : 0);
        assert_int_equal(answers, n >= 67 ? 2 : n >= 51 ? 1 : 0);
        dns_msg_free(m);
    }
    struct dns_msg *m = parse(response, sizeof response);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    dns_msg_free(m);
}

static void test_every_byte_corrupted_does_not_crash(void **state)
{
    (void)state;
    static const uint8_t evil[] = { 0x00, 0xff, 0xc0, 0x3f, 0x40, 0x0c };
    uint8_t msg[sizeof response];
    for (size_t i = 0; i < sizeof response; i++) {
        for (size_t v = 0; v < sizeof evil; v++) {
            memcpy(msg, response, sizeof msg);
            msg[i] = evil[v];
            struct dns_msg *m = parse(msg, sizeof msg);
            if (m == NULL) /* only counts too large for any message */
                continue;
            assert_true(buffer_count(m, BUF_DNS_ANSWER_NAME) <= 256);
            json_t *eve = dns_msg_eve(m);
            assert_non_null(eve);
            json_decref(eve);
            dns_msg_free(m);
        }
    }
}

static void test_counts_larger_than_data_parse_what_fits(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    response_start(b, "example.com", T_A, 5); /* five promised, one present */
    put_name_ptr(b, "", 12);
    uint32_t r = rr_begin(b, T_A, 1);
    put32(b, 0x01020304);
    rr_end(b, r);
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    assert_int_equal(buffer_count(m, BUF_DNS_ANSWER_NAME), 1);
    json_t *eve = dns_msg_eve(m);
    assert_string_equal(jstr(jitem(eve, "answers", 0), "rdata"), "1.2.3.4");
    json_decref(eve);
    dns_msg_free(m);

    /* 1000 questions cannot be in 50 bytes, but could be in a message */
    put_header(b, 1, 0x0100, 1000, 0, 0, 0);
    put_question(b, "example.com", T_A);
    while (b->n < 50)
        put8(b, 0);
    m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    assert_buffer_str(m, BUF_DNS_QUERY, 0, "example.com");
    assert_true(buffer_count(m, BUF_DNS_QUERY) <= (50 - 12) / 5);
    dns_msg_free(m);
    free(b);
}

static void test_counts_no_message_can_hold_are_not_dns(void **state)
{
    (void)state;
    uint8_t msg[sizeof query];
    memcpy(msg, query, sizeof msg);
    msg[4] = msg[5] = 0xff; /* 65535 questions */
    assert_null(parse(msg, sizeof msg));
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    memcpy(msg, query, sizeof msg);
    msg[6] = msg[8] = msg[10] = 0x10; /* 3 x 4096 records */
    assert_null(parse(msg, sizeof msg));
}

static void test_at_most_256_records_per_section_are_kept(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    put_header(b, 9, 0x8180, 300, 300, 0, 300);
    for (unsigned i = 0; i < 300; i++)
        put_question(b, "", T_A);
    for (unsigned i = 0; i < 300; i++) {
        put_name(b, "");
        rr_begin(b, T_PRIVATE, i);
    }
    for (unsigned i = 0; i < 300; i++) {
        put_name(b, "");
        rr_begin(b, T_OPT, 0);
    }
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    assert_int_equal(buffer_count(m, BUF_DNS_QUERY), 256);
    assert_int_equal(buffer_count(m, BUF_DNS_ANSWER_NAME), 256);
    json_t *eve = dns_msg_eve(m);
    assert_int_equal(json_array_size(json_object_get(eve, "queries")), 256);
    assert_int_equal(json_array_size(json_object_get(eve, "answers")), 256);
    assert_int_equal(jint(jitem(eve, "answers", 255), "ttl"), 255);
    assert_null(json_object_get(eve, "additionals"));
    json_decref(eve);
    dns_msg_free(m);

    /* the additionals are read to their end: a short one is malformed */
    b->n -= 1;
    m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    dns_msg_free(m);
    free(b);
}

static void test_z_flag_and_opcodes(void **state)
{
    (void)state;
    uint8_t msg[sizeof query];
    memcpy(msg, query, sizeof msg);
    msg[3] |= 0x40;
    struct dns_msg *m = parse(msg, sizeof msg);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_Z_FLAG_SET));
    assert_false(has_ev(DNS_EV_INVALID_OPCODE));
    dns_msg_free(m);

    for (unsigned op = 0; op < 16; op++) {
        memcpy(msg, query, sizeof msg);
        msg[2] = (uint8_t)(op << 3 | 0x01);
        m = parse(msg, sizeof msg);
        assert_non_null(m);
        assert_int_equal(dns_msg_opcode(m), op);
        assert_int_equal(has_ev(DNS_EV_INVALID_OPCODE), op > 6);
        assert_false(has_ev(DNS_EV_Z_FLAG_SET));
        dns_msg_free(m);
    }
}

static void test_null_events_are_allowed(void **state)
{
    (void)state;
    struct dns_msg *m = dns_parse(response, sizeof response, NULL);
    assert_non_null(m);
    dns_msg_free(m);
    assert_null(dns_parse(response, 5, NULL));
    dns_msg_free(NULL);
}

/* ===========================================================================
 * EVE
 * ========================================================================= */

static void test_eve_response_whole_object(void **state)
{
    (void)state;
    struct dns_msg *m = parse(response, sizeof response);
    assert_non_null(m);
    json_t *eve = dns_msg_eve(m);
    assert_non_null(eve);
    char *s = json_dumps(eve, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(
        s,
        "{\"answers\":["
        "{\"rdata\":\"web.example.com\",\"rrname\":\"www.example.com\",\"rrtype\":\"CNAME\","
        "\"ttl\":300},"
        "{\"rdata\":\"93.184.216.34\",\"rrname\":\"web.example.com\",\"rrtype\":\"A\","
        "\"ttl\":60}],"
        "\"authorities\":[{\"rrname\":\"example.com\",\"rrtype\":\"SOA\","
        "\"soa\":{\"expire\":1209600,\"minimum\":300,\"mname\":\"ns1.example.com\","
        "\"refresh\":7200,\"retry\":3600,\"rname\":\"hostmaster.example.com\","
        "\"serial\":2024050101},\"ttl\":3600}],"
        "\"flags\":\"8180\",\"id\":4660,\"opcode\":0,\"qr\":true,"
        "\"queries\":[{\"rrname\":\"www.example.com\",\"rrtype\":\"A\"}],"
        "\"ra\":true,\"rcode\":\"NOERROR\",\"rd\":true,\"type\":\"response\","
        "\"version\":3}");
    free(s);
    json_decref(eve);
    dns_msg_free(m);
}

static void test_eve_request_fields(void **state)
{
    (void)state;
    struct dns_msg *m = parse(query, sizeof query);
    json_t *eve = dns_msg_eve(m);
    assert_non_null(eve);
    assert_int_equal(jint(eve, "version"), 3);
    assert_string_equal(jstr(eve, "type"), "request");
    assert_int_equal(jint(eve, "id"), 0xbeef);
    assert_string_equal(jstr(eve, "flags"), "100"); /* Suricata: %x, no padding */
    assert_true(json_is_true(json_object_get(eve, "rd")));
    /* booleans only when set */
    assert_null(json_object_get(eve, "qr"));
    assert_null(json_object_get(eve, "aa"));
    assert_null(json_object_get(eve, "tc"));
    assert_null(json_object_get(eve, "ra"));
    assert_null(json_object_get(eve, "z"));
    assert_int_equal(jint(eve, "opcode"), 0);
    assert_string_equal(jstr(eve, "rcode"), "NOERROR");
    assert_null(json_object_get(eve, "answers"));
    assert_null(json_object_get(eve, "authorities"));
    json_t *q = jitem(eve, "queries", 0);
    assert_string_equal(jstr(q, "rrname"), "www.example.com");
    assert_string_equal(jstr(q, "rrtype"), "A");
    assert_int_equal(json_object_size(q), 2);
    assert_int_equal(json_object_size(eve), 8);
    json_decref(eve);
    dns_msg_free(m);
}

static void test_eve_every_flag_and_rcodes(void **state)
{
    (void)state;
    uint8_t msg[sizeof query];
    memcpy(msg, query, sizeof msg);
    msg[2] = 0x87; /* QR opcode 0 AA TC RD */
    msg[3] = 0xc3; /* RA Z rcode 3 */
    struct dns_msg *m = parse(msg, sizeof msg);
    json_t *eve = dns_msg_eve(m);
    assert_string_equal(jstr(eve, "flags"), "87c3");
    static const char *const keys[] = { "qr", "aa", "tc", "rd", "ra", "z" };
    for (size_t i = 0; i < 6; i++)
        assert_true(json_is_true(json_object_get(eve, keys[i])));
    assert_string_equal(jstr(eve, "type"), "response");
    assert_string_equal(jstr(eve, "rcode"), "NXDOMAIN");
    json_decref(eve);
    dns_msg_free(m);

    static const struct {
        uint8_t rcode;
        const char *name;
    } rc[] = { { 2, "SERVFAIL" }, { 5, "REFUSED" }, { 9, "NOTAUTH" }, { 11, "11" }, { 15, "15" } };
    for (size_t i = 0; i < sizeof rc / sizeof rc[0]; i++) {
        memcpy(msg, query, sizeof msg);
        msg[2] = 0x81;
        msg[3] = 0x80 | rc[i].rcode;
        m = parse(msg, sizeof msg);
        assert_int_equal(dns_msg_rcode(m), rc[i].rcode);
        eve = dns_msg_eve(m);
        assert_string_equal(jstr(eve, "rcode"), rc[i].name);
        json_decref(eve);
        dns_msg_free(m);
    }
}

static void test_eve_opcode_as_number(void **state)
{
    (void)state;
    uint8_t msg[sizeof query];
    memcpy(msg, query, sizeof msg);
    msg[2] = 0x20; /* NOTIFY (4) */
    struct dns_msg *m = parse(msg, sizeof msg);
    json_t *eve = dns_msg_eve(m);
    assert_int_equal(jint(eve, "opcode"), 4);
    assert_string_equal(jstr(eve, "flags"), "2000");
    json_decref(eve);
    dns_msg_free(m);
}

static void test_eve_authority_truncated_flags_per_schema(void **state)
{
    (void)state;
    char name[400];
    long_name(name, 300);
    struct mb *b = mb_new();
    put_header(b, 3, 0x8183, 1, 1, 1, 0);
    put_question(b, "example.com", T_A);
    put_name(b, name);              /* answer with a long owner */
    uint32_t r = rr_begin(b, T_CNAME, 1);
    put_name_ptr(b, "", 12);
    rr_end(b, r);
    put_name(b, name);              /* authority with a long owner and rdata */
    r = rr_begin(b, T_NS, 1);
    put_name(b, name);
    rr_end(b, r);
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_true(has_ev(DNS_EV_NAME_TOO_LONG));
    json_t *eve = dns_msg_eve(m);
    /* the schema has *_truncated for authorities, not for answers */
    json_t *a = jitem(eve, "answers", 0);
    assert_null(json_object_get(a, "rrname_truncated"));
    assert_int_equal(strlen(jstr(a, "rrname")), 255);
    json_t *ns = jitem(eve, "authorities", 0);
    assert_true(json_is_true(json_object_get(ns, "rrname_truncated")));
    assert_true(json_is_true(json_object_get(ns, "rdata_truncated")));
    assert_int_equal(strlen(jstr(ns, "rdata")), 255);
    assert_string_equal(jstr(eve, "rcode"), "NXDOMAIN");
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

static void test_eve_srv_only_in_answers_per_schema(void **state)
{
    (void)state;
    struct mb *b = mb_new();
    put_header(b, 4, 0x8180, 1, 1, 1, 0);
    put_question(b, "_ldap._tcp.example.com", T_SRV);
    for (int i = 0; i < 2; i++) {
        put_name_ptr(b, "", 12);
        uint32_t r = rr_begin(b, T_SRV, 60);
        put16(b, 0);
        put16(b, 5);
        put16(b, 389);
        put_name(b, "dc.example.com");
        rr_end(b, r);
    }
    struct dns_msg *m = parse_mb(b);
    assert_non_null(m);
    assert_int_equal(ev.n, 0);
    json_t *eve = dns_msg_eve(m);
    assert_true(json_is_object(json_object_get(jitem(eve, "answers", 0), "srv")));
    json_t *ns = jitem(eve, "authorities", 0);
    assert_string_equal(jstr(ns, "rrtype"), "SRV");
    assert_null(json_object_get(ns, "srv"));
    assert_null(json_object_get(ns, "rdata"));
    json_decref(eve);
    dns_msg_free(m);
    free(b);
}

/* ===========================================================================
 * TCP framing
 * ========================================================================= */

#define MAX_GOT 8

struct got {
    unsigned n;
    uint8_t *msg[MAX_GOT];
    uint32_t len[MAX_GOT];
};

static void got_cb(void *ctx, const uint8_t *msg, uint32_t len)
{
    struct got *g = ctx;
    assert_true(g->n < MAX_GOT);
    g->msg[g->n] = malloc(len);
    assert_non_null(g->msg[g->n]);
    memcpy(g->msg[g->n], msg, len);
    g->len[g->n++] = len;
}

static void got_free(struct got *g)
{
    for (unsigned i = 0; i < g->n; i++)
        free(g->msg[i]);
    memset(g, 0, sizeof *g);
}

static void assert_got(const struct got *g, unsigned i, const uint8_t *msg, uint32_t len)
{
    assert_true(i < g->n);
    assert_int_equal(g->len[i], len);
    assert_memory_equal(g->msg[i], msg, len);
}

/* response and query, each behind its length */
static uint32_t two_framed(uint8_t *s)
{
    uint32_t n = 0;
    s[n++] = 0;
    s[n++] = sizeof response;
    memcpy(s + n, response, sizeof response);
    n += sizeof response;
    s[n++] = 0;
    s[n++] = sizeof query;
    memcpy(s + n, query, sizeof query);
    return n + sizeof query;
}

/* Feeds a heap copy of exactly n bytes. */
static unsigned feed(struct dns_tcp_buf *b, const uint8_t *d, uint32_t n, struct got *g)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, d, n);
    unsigned k = dns_tcp_feed(b, copy, n, got_cb, g, &ev);
    free(copy);
    return k;
}

static void test_tcp_two_messages_in_one_call(void **state)
{
    (void)state;
    uint8_t s[512];
    uint32_t n = two_framed(s);
    struct dns_tcp_buf b = { 0 };
    struct got g = { 0 };
    memset(&ev, 0, sizeof ev);
    assert_int_equal(feed(&b, s, n, &g), 2);
    assert_int_equal(g.n, 2);
    assert_got(&g, 0, response, sizeof response);
    assert_got(&g, 1, query, sizeof query);
    assert_int_equal(b.len, 0);
    assert_int_equal(ev.n, 0);
    got_free(&g);
    dns_tcp_buf_free(&b);
}

static void test_tcp_split_at_every_byte(void **state)
{
    (void)state;
    uint8_t s[512];
    uint32_t n = two_framed(s);
    for (uint32_t cut = 0; cut <= n; cut++) {
        struct dns_tcp_buf b = { 0 };
        struct got g = { 0 };
        memset(&ev, 0, sizeof ev);
        unsigned k = feed(&b, s, cut, &g);
        assert_int_equal(k, cut == n ? 2 : cut >= 2 + sizeof response ? 1 : 0);
        k += feed(&b, s + cut, n - cut, &g);
        assert_int_equal(k, 2);
        assert_got(&g, 0, response, sizeof response);
        assert_got(&g, 1, query, sizeof query);
        assert_int_equal(b.len, 0);
        assert_int_equal(ev.n, 0);
        got_free(&g);
        dns_tcp_buf_free(&b);
    }
}

static void test_tcp_one_byte_at_a_time(void **state)
{
    (void)state;
    uint8_t s[512];
    uint32_t n = two_framed(s);
    struct dns_tcp_buf b = { 0 };
    struct got g = { 0 };
    unsigned k = 0;
    for (uint32_t i = 0; i < n; i++)
        k += feed(&b, s + i, 1, &g);
    assert_int_equal(k, 2);
    assert_got(&g, 0, response, sizeof response);
    assert_got(&g, 1, query, sizeof query);
    assert_true(b.cap <= 2 + sizeof response);
    got_free(&g);
    dns_tcp_buf_free(&b);
    assert_null(b.data);
}

static void test_tcp_zero_length_is_malformed(void **state)
{
    (void)state;
    uint8_t s[64] = { 0, 0, 0, sizeof query };
    memcpy(s + 4, query, sizeof query);
    struct dns_tcp_buf b = { 0 };
    struct got g = { 0 };
    memset(&ev, 0, sizeof ev);
    assert_int_equal(feed(&b, s, 4 + sizeof query, &g), 1);
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    assert_got(&g, 0, query, sizeof query);
    got_free(&g);

    /* the same, the zero prefix arriving in two pieces */
    memset(&ev, 0, sizeof ev);
    assert_int_equal(feed(&b, s, 1, &g), 0);
    assert_int_equal(feed(&b, s + 1, 3 + sizeof query, &g), 1);
    assert_true(has_ev(DNS_EV_MALFORMED_DATA));
    assert_got(&g, 0, query, sizeof query);
    got_free(&g);
    dns_tcp_buf_free(&b);
}

static void test_tcp_largest_message_is_held_then_delivered(void **state)
{
    (void)state;
    uint8_t *s = calloc(1, 2 + 65535);
    assert_non_null(s);
    s[0] = s[1] = 0xff;
    memcpy(s + 2, query, sizeof query);
    struct dns_tcp_buf b = { 0 };
    struct got g = { 0 };
    assert_int_equal(feed(&b, s, 40000, &g), 0);
    assert_int_equal(b.len, 40000);
    assert_true(b.cap <= 2 + 65535);
    assert_int_equal(feed(&b, s + 40000, 2 + 65535 - 40000, &g), 1);
    assert_int_equal(g.len[0], 65535);
    assert_memory_equal(g.msg[0], s + 2, 65535);
    assert_int_equal(b.len, 0);
    got_free(&g);
    dns_tcp_buf_free(&b);
    free(s);
}

static void test_tcp_without_callback_counts(void **state)
{
    (void)state;
    uint8_t s[512];
    uint32_t n = two_framed(s);
    struct dns_tcp_buf b = { 0 };
    assert_int_equal(dns_tcp_feed(&b, s, n, NULL, NULL, NULL), 2);
    dns_tcp_buf_free(&b);
}

/* ===========================================================================
 * Protocol detection
 * ========================================================================= */

static void test_probe_accepts_dns(void **state)
{
    (void)state;
    assert_true(dns_probe(query, sizeof query, false));
    assert_true(dns_probe(response, sizeof response, false));
    uint8_t s[512];
    uint32_t n = two_framed(s);
    assert_true(dns_probe(s, n, true));
    /* TCP: the first segment may end before the message does */
    uint8_t t[2 + sizeof query] = { 0, sizeof query };
    memcpy(t + 2, query, sizeof query);
    assert_true(dns_probe(t, 2 + 29, true));
}

static void test_probe_rejects_other_bytes(void **state)
{
    (void)state;
    static const char http[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    assert_false(dns_probe((const uint8_t *)http, sizeof http - 1, false));
    assert_false(dns_probe((const uint8_t *)http, sizeof http - 1, true));
    static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc,
                                   0x03, 0x03, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
    assert_false(dns_probe(tls, sizeof tls, false));
    assert_false(dns_probe(tls, sizeof tls, true));

    assert_false(dns_probe(query, 11, false));
    assert_false(dns_probe(query, 0, true));

    uint8_t msg[sizeof query];
    memcpy(msg, query, sizeof msg);
    msg[5] = 0; /* no question */
    assert_false(dns_probe(msg, sizeof msg, false));

    /* 16 questions are plausible, 17 are not */
    struct mb *b = mb_new();
    put_header(b, 1, 0x0100, 16, 0, 0, 0);
    for (int i = 0; i < 17; i++)
        put_question(b, "", T_A);
    assert_true(dns_probe(b->d, b->n, false));
    b->d[5] = 17;
    assert_false(dns_probe(b->d, b->n, false));
    free(b);
    memcpy(msg, query, sizeof msg);
    msg[2] = 0x78; /* opcode 15 */
    assert_false(dns_probe(msg, sizeof msg, false));
    memcpy(msg, query, sizeof msg);
    msg[7] = 9; /* nine answers in 33 bytes */
    assert_false(dns_probe(msg, sizeof msg, false));
    memcpy(msg, query, sizeof msg);
    msg[12] = 0xc0; /* the first name a pointer */
    assert_false(dns_probe(msg, sizeof msg, false));
    assert_false(dns_probe(query, 20, false)); /* the name cut */

    /* TCP: a length too short for a header */
    uint8_t t[2 + sizeof query] = { 0, 8 };
    memcpy(t + 2, query, sizeof query);
    assert_false(dns_probe(t, sizeof t, true));
    /* TCP given without its prefix */
    assert_false(dns_probe(query, sizeof query, true));
}

/* ===========================================================================
 * Names of types, codes and events
 * ========================================================================= */

static void test_rrtype_names(void **state)
{
    (void)state;
    char buf[8];
    static const struct {
        uint16_t t;
        const char *name;
    } want[] = {
        { 1, "A" },    { 2, "NS" },   { 5, "CNAME" }, { 6, "SOA" },  { 12, "PTR" },
        { 15, "MX" },  { 16, "TXT" }, { 28, "AAAA" }, { 33, "SRV" }, { 41, "OPT" },
        { 255, "ANY" }, { 252, "AXFR" }, { 65, "HTTPS" }, { 46, "RRSIG" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(dns_rrtype_name(want[i].t, buf, sizeof buf), want[i].name);
    assert_string_equal(dns_rrtype_name(65280, buf, sizeof buf), "65280");
    assert_string_equal(dns_rrtype_name(0, buf, sizeof buf), "0");
    assert_string_equal(dns_rrtype_name(65535, buf, sizeof buf), "65535");
}

static void test_rcode_names(void **state)
{
    (void)state;
    char buf[8];
    assert_string_equal(dns_rcode_name(0, buf, sizeof buf), "NOERROR");
    assert_string_equal(dns_rcode_name(1, buf, sizeof buf), "FORMERR");
    assert_string_equal(dns_rcode_name(2, buf, sizeof buf), "SERVFAIL");
    assert_string_equal(dns_rcode_name(3, buf, sizeof buf), "NXDOMAIN");
    assert_string_equal(dns_rcode_name(4, buf, sizeof buf), "NOTIMP");
    assert_string_equal(dns_rcode_name(5, buf, sizeof buf), "REFUSED");
    assert_string_equal(dns_rcode_name(10, buf, sizeof buf), "NOTZONE");
    assert_string_equal(dns_rcode_name(12, buf, sizeof buf), "12");
    assert_string_equal(dns_rcode_name(16, buf, sizeof buf), "BADVERS/BADSIG");
    assert_string_equal(dns_rcode_name(4000, buf, sizeof buf), "4000");
}

static void test_event_names(void **state)
{
    (void)state;
    static const char *const want[DNS_EV_COUNT] = {
        "malformed_data", "not_a_request", "not_a_response", "z_flag_set",
        "invalid_opcode", "name_too_long", "infinite_loop", "too_many_labels",
    };
    for (int i = 0; i < DNS_EV_COUNT; i++)
        assert_string_equal(dns_event_name(i), want[i]);
    assert_string_equal(dns_event_name(DNS_EV_COUNT), "unknown");
    assert_string_equal(dns_event_name(-1), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_header_question_and_buffers),
        cmocka_unit_test(test_response_sections_and_buffers),
        cmocka_unit_test(test_answers_of_a_request_do_not_count_for_rrtype),
        cmocka_unit_test(test_rdata_a_and_aaaa_as_text),
        cmocka_unit_test(test_rdata_cname_ns_ptr_are_names),
        cmocka_unit_test(test_rdata_mx_is_the_exchange_name),
        cmocka_unit_test(test_rdata_txt_strings_concatenated_and_escaped),
        cmocka_unit_test(test_rdata_txt_string_past_rdata_is_malformed),
        cmocka_unit_test(test_rdata_soa_object),
        cmocka_unit_test(test_rdata_soa_short_numbers_is_malformed),
        cmocka_unit_test(test_rdata_srv_object),
        cmocka_unit_test(test_other_types_logged_by_name_or_number_without_rdata),
        cmocka_unit_test(test_bad_rdata_is_left_out_and_parsing_goes_on),
        cmocka_unit_test(test_pointer_to_pointer_backwards_is_followed),
        cmocka_unit_test(test_pointer_to_a_suffix_label_is_followed),
        cmocka_unit_test(test_forward_pointer_is_rejected),
        cmocka_unit_test(test_pointer_into_a_label_is_followed_and_flagged),
        cmocka_unit_test(test_pointer_into_the_header_is_followed_and_flagged),
        cmocka_unit_test(test_pointer_into_undecoded_rdata_is_accepted),
        cmocka_unit_test(test_empty_rdata_is_no_rdata_not_malformed),
        cmocka_unit_test(test_self_pointer_is_a_loop),
        cmocka_unit_test(test_two_pointer_loop_is_a_loop),
        cmocka_unit_test(test_pointer_chain_over_128_hops_is_a_loop),
        cmocka_unit_test(test_extended_label_types_are_malformed),
        cmocka_unit_test(test_name_of_255_bytes_is_kept_whole),
        cmocka_unit_test(test_name_over_255_bytes_is_truncated),
        cmocka_unit_test(test_name_over_255_bytes_through_pointers_is_truncated),
        cmocka_unit_test(test_127_labels_are_kept_128_are_too_many),
        cmocka_unit_test(test_label_bytes_escaped_in_eve_raw_in_buffer),
        cmocka_unit_test(test_root_name_is_empty),
        cmocka_unit_test(test_shorter_than_a_header_is_not_dns),
        cmocka_unit_test(test_truncated_at_every_offset),
        cmocka_unit_test(test_every_byte_corrupted_does_not_crash),
        cmocka_unit_test(test_counts_larger_than_data_parse_what_fits),
        cmocka_unit_test(test_counts_no_message_can_hold_are_not_dns),
        cmocka_unit_test(test_at_most_256_records_per_section_are_kept),
        cmocka_unit_test(test_z_flag_and_opcodes),
        cmocka_unit_test(test_null_events_are_allowed),
        cmocka_unit_test(test_eve_response_whole_object),
        cmocka_unit_test(test_eve_request_fields),
        cmocka_unit_test(test_eve_every_flag_and_rcodes),
        cmocka_unit_test(test_eve_opcode_as_number),
        cmocka_unit_test(test_eve_authority_truncated_flags_per_schema),
        cmocka_unit_test(test_eve_srv_only_in_answers_per_schema),
        cmocka_unit_test(test_tcp_two_messages_in_one_call),
        cmocka_unit_test(test_tcp_split_at_every_byte),
        cmocka_unit_test(test_tcp_one_byte_at_a_time),
        cmocka_unit_test(test_tcp_zero_length_is_malformed),
        cmocka_unit_test(test_tcp_largest_message_is_held_then_delivered),
        cmocka_unit_test(test_tcp_without_callback_counts),
        cmocka_unit_test(test_probe_accepts_dns),
        cmocka_unit_test(test_probe_rejects_other_bytes),
        cmocka_unit_test(test_rrtype_names),
        cmocka_unit_test(test_rcode_names),
        cmocka_unit_test(test_event_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
