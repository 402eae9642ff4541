/*
 * Unit tests for src/app/tls.c, src/app/x509.c and src/util/digest.c.
 *
 * Sections: digests (RFC 1321 and FIPS 180 vectors), message builders,
 * ClientHello and JA3/JA4, ServerHello and JA3S, certificates (a real one
 * from a capture and synthetic DER), record framing across calls, events
 * for malformed input, TLS 1.3, sticky buffers, EVE, protocol detection.
 *
 * The ClientHello is Chrome's shape from the JA4 specification's worked
 * example (15 ciphers, 16 extensions, GREASE in ciphers, extensions,
 * groups and versions), so its JA4 is the published
 * t13d1516h2_8daaf6152771_e5627efa2ab1; its JA3 string and hash were
 * checked against tshark on the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/tls.h"
#include "app/x509.h"
#include "detect/detect_int.h"
#include "util/digest.h"

/* The leaf certificate of zeek's testing/btest/Traces/tls/client-certificate.pcap
 * (server certauth.idrix.fr, issued by Let's Encrypt R3), DER, at the end of
 * this file. */
static const uint8_t leaf_der[1323];

#define LEAF_SUBJECT "CN=certauth.idrix.fr"
#define LEAF_ISSUER "C=US, O=Let's Encrypt, CN=R3"
#define LEAF_SERIAL "04:5A:90:5E:1E:A8:69:42:AC:38:57:B4:81:D6:DE:9A:85:CB"
#define LEAF_NOT_BEFORE "2023-01-04T16:14:07"
#define LEAF_NOT_AFTER "2023-04-04T16:14:06"
#define LEAF_FP "ae:ae:9d:28:72:4c:f5:2c:b8:12:1c:7a:ad:a7:ec:12:78:4a:2a:64"

#define CH_JA3_STRING                                                                    \
    "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53," \
    "27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0"
#define CH_JA3_HASH "c000e2caf3a25423f9de6c8a4b12a975"
#define CH_JA4 "t13d1516h2_8daaf6152771_e5627efa2ab1"
#define SH_JA3S_STRING "771,49199,65281-11-35-16"
#define SH_JA3S_HASH "8d2a028aa94425f76ced7826b1f39039"

/* ===========================================================================
 * Digests
 * ========================================================================= */

static char *hex_of(const uint8_t *d, size_t n, char *out)
{
    return digest_hex(d, n, '\0', out);
}

static void test_md5_rfc1321_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *in, *md5;
    } v[] = {
        { "", "d41d8cd98f00b204e9800998ecf8427e" },
        { "a", "0cc175b9c0f1b6a831c399e269772661" },
        { "abc", "900150983cd24fb0d6963f7d28e17f72" },
        { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
        { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
          "d174ab98d277d9f5a5611c2c9f419d9f" },
        { "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
          "57edf4a22be3c955ac49da2e2107b67a" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t d[MD5_LEN];
        char hex[2 * MD5_LEN + 1];
        md5(v[i].in, strlen(v[i].in), d);
        hex_of(d, sizeof d, hex);
        assert_string_equal(hex, v[i].md5);
    }
}

static void test_sha1_fips180_vectors(void **state)
{
    (void)state;
    uint8_t d[SHA1_LEN];
    char hex[2 * SHA1_LEN + 1];
    sha1("abc", 3, d);
    assert_string_equal(hex_of(d, sizeof d, hex), "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha1(two, strlen(two), d);
    assert_string_equal(hex_of(d, sizeof d, hex), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    sha1("", 0, d);
    assert_string_equal(hex_of(d, sizeof d, hex), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    /* one million 'a', fed in uneven pieces */
    static char a[1000];
    memset(a, 'a', sizeof a);
    struct sha1_ctx c;
    sha1_init(&c);
    size_t left = 1000000;
    for (size_t k = 1; left > 0; k = k % 997 + 1) {
        size_t take = k < left ? k : left;
        sha1_update(&c, a, take);
        left -= take;
    }
    sha1_final(&c, d);
    assert_string_equal(hex_of(d, sizeof d, hex), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_sha256_fips180_vectors(void **state)
{
    (void)state;
    uint8_t d[SHA256_LEN];
    char hex[2 * SHA256_LEN + 1];
    sha256("abc", 3, d);
    assert_string_equal(hex_of(d, sizeof d, hex),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256(two, strlen(two), d);
    assert_string_equal(hex_of(d, sizeof d, hex),
                        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    sha256("", 0, d);
    assert_string_equal(hex_of(d, sizeof d, hex),
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    static char a[1000];
    memset(a, 'a', sizeof a);
    struct sha256_ctx c;
    sha256_init(&c);
    for (int i = 0; i < 1000; i++)
        sha256_update(&c, a, sizeof a);
    sha256_final(&c, d);
    assert_string_equal(hex_of(d, sizeof d, hex),
                        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_digests_streamed_at_every_split_equal_one_shot(void **state)
{
    (void)state;
    uint8_t msg[200];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    uint8_t m1[MD5_LEN], m2[MD5_LEN], s1[SHA256_LEN], s2[SHA256_LEN];
    uint8_t h1[SHA1_LEN], h2[SHA1_LEN];
    md5(msg, sizeof msg, m1);
    sha1(msg, sizeof msg, h1);
    sha256(msg, sizeof msg, s1);
    for (size_t k = 0; k <= sizeof msg; k++) {
        struct md5_ctx mc;
        struct sha1_ctx hc;
        struct sha256_ctx sc;
        md5_init(&mc);
        md5_update(&mc, msg, k);
        md5_update(&mc, msg + k, sizeof msg - k);
        md5_final(&mc, m2);
        sha1_init(&hc);
        sha1_update(&hc, msg, k);
        sha1_update(&hc, msg + k, sizeof msg - k);
        sha1_final(&hc, h2);
        sha256_init(&sc);
        sha256_update(&sc, msg, k);
        sha256_update(&sc, msg + k, sizeof msg - k);
        sha256_final(&sc, s2);
        assert_memory_equal(m1, m2, sizeof m1);
        assert_memory_equal(h1, h2, sizeof h1);
        assert_memory_equal(s1, s2, sizeof s1);
    }
}

static void test_digest_hex_separator(void **state)
{
    (void)state;
    const uint8_t d[3] = { 0x0a, 0xbc, 0xff };
    char out[16];
    assert_string_equal(digest_hex(d, 3, ':', out), "0a:bc:ff");
    assert_string_equal(digest_hex(d, 3, '\0', out), "0abcff");
    assert_string_equal(digest_hex(d, 0, ':', out), "");
}

/* ===========================================================================
 * Builders
 * ========================================================================= */

/* Bytes with length fields patched in when their content is done. */
struct buf {
    uint8_t d[1 << 17];
    size_t n;
    size_t open[16];   /* positions of open length fields */
    unsigned width[16];
    unsigned depth;
};

static void put8(struct buf *b, unsigned v)
{
    assert_true(b->n < sizeof b->d);
    b->d[b->n++] = (uint8_t)v;
}

static void put16(struct buf *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v);
}

static void put24(struct buf *b, unsigned v)
{
    put8(b, v >> 16);
    put16(b, v);
}

static void put(struct buf *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->d);
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void put_str(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Opens a big-endian length field of width bytes, closed by len_close(). */
static void len_open(struct buf *b, unsigned width)
{
    assert_true(b->depth < 16);
    b->open[b->depth] = b->n;
    b->width[b->depth++] = width;
    for (unsigned i = 0; i < width; i++)
        put8(b, 0);
}

static void len_close(struct buf *b)
{
    assert_true(b->depth > 0);
    b->depth--;
    size_t at = b->open[b->depth];
    unsigned w = b->width[b->depth];
    size_t len = b->n - at - w;
    for (unsigned i = 0; i < w; i++)
        b->d[at + i] = (uint8_t)(len >> (8 * (w - 1 - i)));
}

static struct buf *buf_new(void)
{
    struct buf *b = calloc(1, sizeof *b);
    assert_non_null(b);
    return b;
}

/* Appends msg as records of type, at most max bytes of it per record. */
static void put_records(struct buf *out, uint8_t type, const uint8_t *msg, size_t n, size_t max)
{
    size_t off = 0;
    do {
        size_t k = n - off < max ? n - off : max;
        put8(out, type);
        put16(out, 0x0303);
        put16(out, (unsigned)k);
        put(out, msg + off, k);
        off += k;
    } while (off < n);
}

struct ch_opts {
    const char *sni;      /* NULL: no server_name extension */
    unsigned sni_type;    /* 0: host_name */
    int sni_len_delta;    /* added to the host name's length field */
    bool tls13;           /* supported_versions offers 1.3 and 1.2 */
};

static const struct ch_opts ch_default = { "example.com", 0, 0, true };

static void put_ext_start(struct buf *b, unsigned type)
{
    put16(b, type);
    len_open(b, 2);
}

/*
 * ClientHello in Chrome's shape: GREASE cipher first, 15 ciphers, then
 * GREASE extension, compress_certificate, server_name, key_share, ALPN,
 * ALPS, extended_master_secret, psk_key_exchange_modes,
 * signature_algorithms, status_request, session_ticket, SCT,
 * supported_versions, renegotiation_info, ec_point_formats,
 * supported_groups, GREASE, padding.
 */
static void build_client_hello(struct buf *b, const struct ch_opts *o)
{
    static const uint16_t ciphers[] = { 0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c,
                                        0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d,
                                        0x002f, 0x0035 };
    static const uint16_t sigalgs[] = { 0x0403, 0x0804, 0x0401, 0x0503,
                                        0x0805, 0x0501, 0x0806, 0x0601 };
    put8(b, 1);
    len_open(b, 3);
    put16(b, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(b, i);
    put8(b, 32);
    for (int i = 0; i < 32; i++)
        put8(b, 0xa0 + i);
    len_open(b, 2);
    for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++)
        put16(b, ciphers[i]);
    len_close(b);
    put8(b, 1);
    put8(b, 0);
    len_open(b, 2); /* extensions */

    put_ext_start(b, 0x0a0a);
    len_close(b);
    put_ext_start(b, 0x001b);
    put(b, "\x02\x00\x02", 3);
    len_close(b);
    if (o->sni != NULL) {
        put_ext_start(b, 0x0000);
        len_open(b, 2);
        put8(b, o->sni_type);
        put16(b, (unsigned)((int)strlen(o->sni) + o->sni_len_delta));
        put_str(b, o->sni);
        len_close(b);
        len_close(b);
    }
    put_ext_start(b, 0x0033);
    len_open(b, 2);
    put16(b, 0x2a2a);
    put16(b, 1);
    put8(b, 0);
    put16(b, 0x001d);
    put16(b, 32);
    for (int i = 0; i < 32; i++)
        put8(b, 0x55);
    len_close(b);
    len_close(b);
    put_ext_start(b, 0x0010);
    len_open(b, 2);
    put8(b, 2);
    put_str(b, "h2");
    put8(b, 8);
    put_str(b, "http/1.1");
    len_close(b);
    len_close(b);
    put_ext_start(b, 0x4469);
    put(b, "\x00\x03\x02h2", 5);
    len_close(b);
    put_ext_start(b, 0x0017);
    len_close(b);
    put_ext_start(b, 0x002d);
    put(b, "\x01\x01", 2);
    len_close(b);
    put_ext_start(b, 0x000d);
    len_open(b, 2);
    for (size_t i = 0; i < sizeof sigalgs / sizeof sigalgs[0]; i++)
        put16(b, sigalgs[i]);
    len_close(b);
    len_close(b);
    put_ext_start(b, 0x0005);
    put(b, "\x01\x00\x00\x00\x00", 5);
    len_close(b);
    put_ext_start(b, 0x0023);
    len_close(b);
    put_ext_start(b, 0x0012);
    len_close(b);
    put_ext_start(b, 0x002b);
    len_open(b, 1);
    put16(b, 0x7a7a);
    if (o->tls13)
        put16(b, 0x0304);
    put16(b, 0x0303);
    len_close(b);
    len_close(b);
    put_ext_start(b, 0xff01);
    put8(b, 0);
    len_close(b);
    put_ext_start(b, 0x000b);
    put(b, "\x01\x00", 2);
    len_close(b);
    put_ext_start(b, 0x000a);
    len_open(b, 2);
    put16(b, 0x3a3a);
    put16(b, 0x001d);
    put16(b, 0x0017);
    put16(b, 0x0018);
    len_close(b);
    len_close(b);
    put_ext_start(b, 0xfafa);
    put8(b, 0);
    len_close(b);
    put_ext_start(b, 0x0015);
    for (int i = 0; i < 20; i++)
        put8(b, 0);
    len_close(b);

    len_close(b); /* extensions */
    len_close(b); /* handshake */
}

/* The random of a HelloRetryRequest (RFC 8446 4.1.3). */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* ServerHello; tls13: supported_versions 0x0304 and cipher 0x1301, else a
 * TLS 1.2 hello choosing 0xc02f with renegotiation_info, ec_point_formats,
 * session_ticket and ALPN h2. */
static void build_server_hello(struct buf *b, bool tls13, bool retry)
{
    put8(b, 2);
    len_open(b, 3);
    put16(b, 0x0303);
    if (retry)
        put(b, hrr_random, sizeof hrr_random);
    else
        for (int i = 0; i < 32; i++)
            put8(b, 0x40 + i);
    put8(b, 32);
    for (int i = 0; i < 32; i++)
        put8(b, 0xa0 + i);
    put16(b, tls13 ? 0x1301 : 0xc02f);
    put8(b, 0);
    len_open(b, 2);
    if (tls13) {
        put_ext_start(b, 0x002b);
        put16(b, 0x0304);
        len_close(b);
        put_ext_start(b, 0x0033);
        put16(b, 0x001d);
        put16(b, 32);
        for (int i = 0; i < 32; i++)
            put8(b, 0x66);
        len_close(b);
    } else {
        put_ext_start(b, 0xff01);
        put8(b, 0);
        len_close(b);
        put_ext_start(b, 0x000b);
        put(b, "\x01\x00", 2);
        len_close(b);
        put_ext_start(b, 0x0023);
        len_close(b);
        put_ext_start(b, 0x0010);
        put(b, "\x00\x03\x02h2", 5);
        len_close(b);
    }
    len_close(b);
    len_close(b);
}

/* Certificate message with the given DERs. */
static void build_certificate(struct buf *b, const uint8_t *const *ders, const size_t *lens,
                              size_t n)
{
    put8(b, 11);
    len_open(b, 3);
    len_open(b, 3);
    for (size_t i = 0; i < n; i++) {
        put24(b, (unsigned)lens[i]);
        put(b, ders[i], lens[i]);
    }
    len_close(b);
    len_close(b);
}

static void build_server_hello_done(struct buf *b)
{
    put8(b, 14);
    put24(b, 0);
}

/* A second "certificate" for the chain: only the leaf is parsed. */
static const uint8_t second_der[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };

/* A whole TLS 1.2 session: client flight (ClientHello, later CCS) and
 * server flight (ServerHello, Certificate, ServerHelloDone in one record,
 * later CCS); the directions are returned separately. */
static void build_tls12_session(struct buf *client, struct buf *server)
{
    struct buf *hs = buf_new();
    build_client_hello(hs, &ch_default);
    put_records(client, 22, hs->d, hs->n, 16384);
    hs->n = 0;
    build_server_hello(hs, false, false);
    const uint8_t *ders[2] = { leaf_der, second_der };
    const size_t lens[2] = { sizeof leaf_der, sizeof second_der };
    build_certificate(hs, ders, lens, 2);
    build_server_hello_done(hs);
    put_records(server, 22, hs->d, hs->n, 16384);
    /* ClientKeyExchange, then CCS and an encrypted Finished each way */
    hs->n = 0;
    put8(hs, 16);
    put24(hs, 33);
    put8(hs, 32);
    for (int i = 0; i < 32; i++)
        put8(hs, 0x77);
    put_records(client, 22, hs->d, hs->n, 16384);
    put_records(client, 20, (const uint8_t *)"\x01", 1, 16384);
    put_records(client, 22, (const uint8_t *)"\xde\xad\xbe\xef\x00\x01\x02\x03", 8, 16384);
    put_records(server, 20, (const uint8_t *)"\x01", 1, 16384);
    put_records(server, 22, (const uint8_t *)"\xfe\xed\xfa\xce\x04\x05\x06\x07", 8, 16384);
    put_records(server, 23, (const uint8_t *)"encrypted", 9, 16384);
    free(hs);
}

static bool has_event(const struct app_events *ev, int code)
{
    for (unsigned i = 0; i < ev->n; i++)
        if (ev->code[i] == code)
            return true;
    return false;
}

/* The buffer's text, NUL-terminated in a static area; NULL when absent. */
static const char *buffer_text(const struct tls_state *s, int id, unsigned idx)
{
    static char text[4096];
    const uint8_t *d;
    uint32_t len;
    if (!tls_buffer(s, id, idx, &d, &len))
        return NULL;
    assert_true(len < sizeof text);
    memcpy(text, d, len);
    text[len] = '\0';
    return text;
}

/* Feeds b in one call (heap copy of exactly its size, for ASan). */
static void feed(struct tls_state *s, int dir, const uint8_t *d, size_t n, struct app_events *ev)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, d, n);
    tls_feed(s, dir, copy, (uint32_t)n, ev);
    free(copy);
}

/* ===========================================================================
 * ClientHello, ServerHello, fingerprints
 * ========================================================================= */

static void test_client_hello_ja3_ja4_sni_alpn(void **state)
{
    (void)state;
    struct buf *b = buf_new(), *rec = buf_new();
    build_client_hello(b, &ch_default);
    put_records(rec, 22, b->d, b->n, 16384);
    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    feed(s, APP_TOSERVER, rec->d, rec->n, &ev);
    assert_int_equal(ev.n, 0);
    assert_int_equal(tls_progress(s), TLS_SEEN_CLIENT_HELLO);
    assert_int_equal(tls_version(s), 0x0303); /* the legacy version until a ServerHello */
    assert_string_equal(buffer_text(s, BUF_JA3_STRING, 0), CH_JA3_STRING);
    assert_string_equal(buffer_text(s, BUF_JA3_HASH, 0), CH_JA3_HASH);
    assert_string_equal(buffer_text(s, BUF_JA4_HASH, 0), CH_JA4);
    assert_string_equal(buffer_text(s, BUF_TLS_SNI, 0), "example.com");
    assert_null(buffer_text(s, BUF_JA3S_HASH, 0));
    assert_null(buffer_text(s, BUF_TLS_CERT_SUBJECT, 0));
    json_t *j = tls_eve(s);
    json_t *alpns = json_object_get(j, "client_alpns");
    assert_int_equal(json_array_size(alpns), 2);
    assert_string_equal(json_string_value(json_array_get(alpns, 0)), "h2");
    assert_string_equal(json_string_value(json_array_get(alpns, 1)), "http/1.1");
    json_decref(j);
    tls_state_free(s);
    free(b);
    free(rec);
}

static void test_ja4_without_sni_is_i_and_without_tls13_is_12(void **state)
{
    (void)state;
    struct ch_opts o = ch_default;
    o.sni = NULL;
    o.tls13 = false;
    struct buf *b = buf_new(), *rec = buf_new();
    build_client_hello(b, &o);
    put_records(rec, 22, b->d, b->n, 16384);
    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    feed(s, APP_TOSERVER, rec->d, rec->n, &ev);
    /* one extension fewer; part c drops SNI anyway, so it is unchanged */
    assert_string_equal(buffer_text(s, BUF_JA4_HASH, 0), "t12i1515h2_8daaf6152771_e5627efa2ab1");
    assert_null(buffer_text(s, BUF_TLS_SNI, 0));
    tls_state_free(s);
    free(b);
    free(rec);
}

/* A TLS 1.2 ClientHello with n ciphers (1, 2, ...), no SNI, and an ALPN
 * extension whose first protocol is alpn (none when alpn is NULL). */
static void build_plain_hello(struct buf *b, unsigned n, const char *alpn, size_t alpn_len)
{
    put8(b, 1);
    len_open(b, 3);
    put16(b, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(b, i);
    put8(b, 0);
    len_open(b, 2);
    for (unsigned i = 1; i <= n; i++)
        put16(b, i);
    len_close(b);
    put8(b, 1);
    put8(b, 0);
    if (alpn != NULL) {
        len_open(b, 2);
        put_ext_start(b, 0x0010);
        len_open(b, 2);
        put8(b, (unsigned)alpn_len);
        put(b, alpn, alpn_len);
        put8(b, 2);
        put_str(b, "zz");
        len_close(b);
        len_close(b);
        len_close(b);
    }
    len_close(b);
}

static void test_ja4_alpn_characters_and_count_cap(void **state)
{
    (void)state;
    static const struct {
        const char *alpn;
        size_t len;
        const char *a; /* JA4 part a */
    } cases[] = {
        { "h2", 2, "t12i9901h2" },
        { "http/1.1", 8, "t12i9901h1" },
        { "x", 1, "t12i9901xx" },
        { "", 0, "t12i990100" },
        { "\xab\xcd", 2, "t12i9901ad" },         /* not alphanumeric: hex digits */
        { "0\xab", 2, "t12i99013b" },
        { "0\xab\xcd" "1", 4, "t12i990101" },
        { NULL, 0, "t12i990000" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf *hs = buf_new(), *rec = buf_new();
        build_plain_hello(hs, 120, cases[i].alpn, cases[i].len);
        put_records(rec, 22, hs->d, hs->n, 16384);
        struct tls_state *s = tls_state_new();
        struct app_events ev = { 0 };
        feed(s, APP_TOSERVER, rec->d, rec->n, &ev);
        assert_int_equal(ev.n, 0);
        const char *ja4 = buffer_text(s, BUF_JA4_HASH, 0);
        assert_non_null(ja4);
        assert_int_equal(strlen(ja4), 36);
        assert_memory_equal(ja4, cases[i].a, 10);
        /* only ALPN, which part c leaves out: no extensions to hash */
        assert_string_equal(ja4 + 24, "000000000000");
        tls_state_free(s);
        free(hs);
        free(rec);
    }
}

/* Found by fuzz_tls: the shortest JA3 string, with a 5-digit version. */
static void test_minimal_client_hello_ja3(void **state)
{
    (void)state;
    struct buf *hs = buf_new(), *rec = buf_new();
    put8(hs, 1);
    len_open(hs, 3);
    put16(hs, 0xffff);
    for (int i = 0; i < 32; i++)
        put8(hs, 0);
    put8(hs, 0);  /* session id */
    put16(hs, 0); /* no cipher suites */
    put8(hs, 1);
    put8(hs, 0);
    len_close(hs);
    put_records(rec, 22, hs->d, hs->n, 16384);
    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    feed(s, APP_TOSERVER, rec->d, rec->n, &ev);
    assert_int_equal(ev.n, 0);
    assert_string_equal(buffer_text(s, BUF_JA3_STRING, 0), "65535,,,,");
    assert_string_equal(buffer_text(s, BUF_JA4_HASH, 0), "t00i000000_000000000000_000000000000");
    tls_state_free(s);
    free(hs);
    free(rec);
}

static void test_server_hello_ja3s_and_version(void **state)
{
    (void)state;
    struct buf *b = buf_new(), *rec = buf_new();
    build_server_hello(b, false, false);
    put_records(rec, 22, b->d, b->n, 16384);
    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    feed(s, APP_TOCLIENT, rec->d, rec->n, &ev);
    assert_int_equal(ev.n, 0);
    assert_int_equal(tls_progress(s), TLS_SEEN_SERVER_HELLO);
    assert_int_equal(tls_version(s), 0x0303);
    assert_string_equal(buffer_text(s, BUF_JA3S_STRING, 0), SH_JA3S_STRING);
    assert_string_equal(buffer_text(s, BUF_JA3S_HASH, 0), SH_JA3S_HASH);
    json_t *j = tls_eve(s);
    assert_string_equal(json_string_value(json_object_get(j, "version")), "TLS 1.2");
    json_t *alpns = json_object_get(j, "server_alpns");
    assert_int_equal(json_array_size(alpns), 1);
    assert_string_equal(json_string_value(json_array_get(alpns, 0)), "h2");
    json_decref(j);
    tls_state_free(s);
    free(b);
    free(rec);
}

/* ===========================================================================
 * Certificates
 * ========================================================================= */

static void test_x509_real_leaf_fields(void **state)
{
    (void)state;
    struct x509_cert c;
    assert_int_equal(x509_parse(leaf_der, sizeof leaf_der, &c), X509_OK);
    assert_int_equal(c.version, 3);
    assert_string_equal(c.subject, LEAF_SUBJECT);
    assert_string_equal(c.issuer, LEAF_ISSUER);
    assert_string_equal(c.serial, LEAF_SERIAL);
    assert_string_equal(c.not_before, LEAF_NOT_BEFORE);
    assert_string_equal(c.not_after, LEAF_NOT_AFTER);
    assert_int_equal(c.not_before_ts, 1672848847);
    assert_string_equal(c.fingerprint, LEAF_FP);
    assert_int_equal(c.n_san, 1);
    assert_string_equal(c.san_dns[0], "certauth.idrix.fr");
    x509_cert_free(&c);
    assert_null(c.subject);
}

/* Minimal-length DER building for synthetic certificates. */
struct der {
    uint8_t d[2048];
    size_t n;
};

static void der_add(struct der *out, uint8_t tag, const void *v, size_t n)
{
    assert_true(out->n + n + 4 <= sizeof out->d);
    out->d[out->n++] = tag;
    if (n < 0x80) {
        out->d[out->n++] = (uint8_t)n;
    } else if (n < 0x100) {
        out->d[out->n++] = 0x81;
        out->d[out->n++] = (uint8_t)n;
    } else {
        out->d[out->n++] = 0x82;
        out->d[out->n++] = (uint8_t)(n >> 8);
        out->d[out->n++] = (uint8_t)n;
    }
    memcpy(out->d + out->n, v, n);
    out->n += n;
}

static void der_wrap(struct der *out, uint8_t tag, const struct der *in)
{
    der_add(out, tag, in->d, in->n);
}

/* One RDN: SET { SEQUENCE { oid, value } ... } of n attributes. */
static void der_rdn(struct der *name, unsigned n, const uint8_t *const *oids, const size_t *oid_lens,
                    const uint8_t *tags, const char *const *vals, const size_t *val_lens)
{
    struct der set = { .n = 0 };
    for (unsigned i = 0; i < n; i++) {
        struct der atv = { .n = 0 };
        der_add(&atv, 0x06, oids[i], oid_lens[i]);
        der_add(&atv, tags[i], vals[i], val_lens[i]);
        der_wrap(&set, 0x30, &atv);
    }
    der_wrap(name, 0x31, &set);
}

#define OID(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

static void der_rdn1(struct der *name, const uint8_t *oid, size_t oid_len, uint8_t tag,
                     const char *val, size_t val_len)
{
    der_rdn(name, 1, &oid, &oid_len, &tag, &val, &val_len);
}

/* A certificate exercising the text forms: a multi-valued RDN, an unknown
 * attribute type, Email, BMPString, a non-string value, a serial with a
 * leading zero byte, UTCTime before 2000, GeneralizedTime, SAN. */
static size_t build_synthetic_cert(uint8_t *out, size_t cap)
{
    struct der issuer = { .n = 0 }, subject = { .n = 0 };
    der_rdn1(&issuer, OID(0x55, 0x04, 0x06), 0x13, "US", 2);
    {
        const uint8_t *oids[2] = { (const uint8_t *)"\x55\x04\x03", (const uint8_t *)"\x55\x04\x0b" };
        const size_t oid_lens[2] = { 3, 3 };
        const uint8_t tags[2] = { 0x0c, 0x0c };
        const char *vals[2] = { "Test CA", "Unit" };
        const size_t val_lens[2] = { 7, 4 };
        der_rdn(&issuer, 2, oids, oid_lens, tags, vals, val_lens);
    }
    der_rdn1(&issuer, OID(0x2a, 0x03, 0x04), 0x13, "x", 1);
    der_rdn1(&issuer, OID(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01), 0x16,
             "ca@example.com", 14);
    der_rdn1(&subject, OID(0x55, 0x04, 0x03), 0x1e, "\x00Z\x00o\x00\xeb", 6); /* BMP "Zoë" */
    der_rdn1(&subject, OID(0x55, 0x04, 0x05), 0x13, "42", 2);
    der_rdn1(&subject, OID(0x55, 0x04, 0x0a), 0x04, "\xab\xcd", 2);

    struct der tbs = { .n = 0 }, tmp = { .n = 0 }, seq = { .n = 0 };
    der_add(&tmp, 0x02, "\x02", 1);
    der_wrap(&tbs, 0xa0, &tmp);                      /* version 3 */
    der_add(&tbs, 0x02, "\x00\xff\x01", 3);          /* serial */
    tmp.n = 0;
    der_add(&tmp, 0x06, "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b", 9);
    der_add(&tmp, 0x05, "", 0);
    struct der sigalg = { .n = 0 };
    der_wrap(&sigalg, 0x30, &tmp);
    memcpy(tbs.d + tbs.n, sigalg.d, sigalg.n);
    tbs.n += sigalg.n;
    der_wrap(&tbs, 0x30, &issuer);
    tmp.n = 0;
    der_add(&tmp, 0x17, "991231235959Z", 13);
    der_add(&tmp, 0x18, "20500101000000Z", 15);
    der_wrap(&tbs, 0x30, &tmp);                      /* validity */
    der_wrap(&tbs, 0x30, &subject);
    tmp.n = 0;
    seq.n = 0;
    der_add(&seq, 0x06, "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01", 9);
    der_add(&seq, 0x05, "", 0);
    der_wrap(&tmp, 0x30, &seq);
    der_add(&tmp, 0x03, "\x00\x01\x02\x03", 4);
    der_wrap(&tbs, 0x30, &tmp);                      /* subjectPublicKeyInfo */
    struct der names = { .n = 0 }, gn = { .n = 0 }, ext = { .n = 0 }, exts = { .n = 0 };
    der_add(&gn, 0x82, "a.example", 9);
    der_add(&gn, 0x81, "x@y", 3);
    der_add(&gn, 0x82, "b.example", 9);
    der_wrap(&names, 0x30, &gn);
    der_add(&ext, 0x06, "\x55\x1d\x11", 3);
    der_wrap(&ext, 0x04, &names);
    der_wrap(&exts, 0x30, &ext);
    tmp.n = 0;
    der_wrap(&tmp, 0x30, &exts);
    der_wrap(&tbs, 0xa3, &tmp);

    struct der cert = { .n = 0 }, outer = { .n = 0 };
    der_wrap(&cert, 0x30, &tbs);
    memcpy(cert.d + cert.n, sigalg.d, sigalg.n);
    cert.n += sigalg.n;
    der_add(&cert, 0x03, "\x00\x99\x98", 3);
    der_wrap(&outer, 0x30, &cert);
    assert_true(outer.n <= cap);
    memcpy(out, outer.d, outer.n);
    return outer.n;
}

static void test_x509_text_forms_as_suricata_prints_them(void **state)
{
    (void)state;
    uint8_t der[2048];
    size_t n = build_synthetic_cert(der, sizeof der);
    struct x509_cert c;
    assert_int_equal(x509_parse(der, n, &c), X509_OK);
    assert_string_equal(c.issuer, "C=US, CN=Test CA + OU=Unit, OID(1.2.3.4)=x, Email=ca@example.com");
    assert_string_equal(c.subject, "CN=Zo\xc3\xab, serialNumber=42, O=ABCD");
    assert_string_equal(c.serial, "00:FF:01");
    assert_string_equal(c.not_before, "1999-12-31T23:59:59");
    assert_string_equal(c.not_after, "2050-01-01T00:00:00");
    assert_int_equal(c.n_san, 2);
    assert_string_equal(c.san_dns[0], "a.example");
    assert_string_equal(c.san_dns[1], "b.example");
    x509_cert_free(&c);
}

static void test_x509_truncated_at_every_length_is_a_length_error(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof leaf_der; k++) {
        uint8_t *d = malloc(k ? k : 1);
        memcpy(d, leaf_der, k);
        struct x509_cert c;
        assert_int_equal(x509_parse(d, k, &c), X509_ERR_LENGTH);
        assert_null(c.subject);
        free(d);
    }
}

static void test_x509_nesting_deeper_than_the_bound_is_refused(void **state)
{
    (void)state;
    struct der d = { .n = 0 }, t = { .n = 0 };
    der_add(&d, 0x05, "", 0);
    for (int i = 0; i < X509_MAX_DEPTH + 4; i++) {
        t = d;
        d.n = 0;
        der_wrap(&d, 0x30, &t);
    }
    struct x509_cert c;
    assert_int_equal(x509_parse(d.d, d.n, &c), X509_ERR_LENGTH);
    /* indefinite lengths are BER, not DER */
    const uint8_t indef[] = { 0x30, 0x80, 0x00, 0x00 };
    assert_int_equal(x509_parse(indef, sizeof indef, &c), X509_ERR_FORMAT);
    /* five length octets */
    const uint8_t huge[] = { 0x30, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00 };
    assert_int_equal(x509_parse(huge, sizeof huge, &c), X509_ERR_LENGTH);
}

/* Every byte of the certificate changed three ways: the parser either
 * accepts it or says why, and never reads past the copy (ASan). */
static void test_x509_mutated_bytes_never_crash(void **state)
{
    (void)state;
    static const uint8_t flips[] = { 0x01, 0x80, 0xff };
    unsigned errors = 0;
    for (size_t i = 0; i < sizeof leaf_der; i++) {
        for (size_t f = 0; f < sizeof flips; f++) {
            uint8_t *d = malloc(sizeof leaf_der);
            memcpy(d, leaf_der, sizeof leaf_der);
            d[i] ^= flips[f];
            struct x509_cert c;
            int rc = x509_parse(d, sizeof leaf_der, &c);
            assert_true(rc == X509_OK || rc == X509_ERR_LENGTH || rc == X509_ERR_FORMAT);
            if (rc == X509_OK) {
                assert_non_null(c.subject);
                assert_non_null(c.issuer);
                assert_int_equal(strlen(c.fingerprint), 59);
            } else {
                assert_null(c.subject);
                errors++;
            }
            x509_cert_free(&c);
            free(d);
        }
    }
    assert_true(errors > 0);
}

/* Feeds a ServerHello and a Certificate message carrying body. */
static struct tls_state *feed_certificate_msg(const uint8_t *body, size_t n, struct app_events *ev)
{
    struct buf *hs = buf_new(), *rec = buf_new();
    build_server_hello(hs, false, false);
    put8(hs, 11);
    put24(hs, (unsigned)n);
    put(hs, body, n);
    put_records(rec, 22, hs->d, hs->n, 16384);
    struct tls_state *s = tls_state_new();
    feed(s, APP_TOCLIENT, rec->d, rec->n, ev);
    free(hs);
    free(rec);
    return s;
}

static void test_certificate_message_bad_lengths_raise_events(void **state)
{
    (void)state;
    struct buf *body = buf_new();
    struct app_events ev;
    struct tls_state *s;

    /* a certificate longer than the chain */
    put24(body, sizeof leaf_der + 3);
    put24(body, sizeof leaf_der + 1);
    put(body, leaf_der, sizeof leaf_der);
    memset(&ev, 0, sizeof ev);
    s = feed_certificate_msg(body->d, body->n, &ev);
    assert_true(has_event(&ev, TLS_EV_CERTIFICATE_INVALID_LENGTH));
    assert_null(buffer_text(s, BUF_TLS_CERT_SUBJECT, 0));
    tls_state_free(s);

    /* a chain longer than the message */
    body->n = 0;
    put24(body, sizeof leaf_der + 100);
    put24(body, sizeof leaf_der);
    put(body, leaf_der, sizeof leaf_der);
    memset(&ev, 0, sizeof ev);
    s = feed_certificate_msg(body->d, body->n, &ev);
    assert_true(has_event(&ev, TLS_EV_CERTIFICATE_INVALID_LENGTH));
    assert_false(tls_progress(s) & TLS_SEEN_CERTIFICATE);
    tls_state_free(s);

    /* too short for the chain length */
    memset(&ev, 0, sizeof ev);
    s = feed_certificate_msg((const uint8_t *)"\x00\x00", 2, &ev);
    assert_true(has_event(&ev, TLS_EV_INVALID_CERTIFICATE));
    tls_state_free(s);

    /* DER whose outer length claims one byte more: framed right, bad inside */
    body->n = 0;
    put24(body, sizeof leaf_der + 3);
    put24(body, sizeof leaf_der);
    put(body, leaf_der, sizeof leaf_der);
    body->d[6 + 3] += 1; /* 30 82 05 27 -> 05 28 */
    memset(&ev, 0, sizeof ev);
    s = feed_certificate_msg(body->d, body->n, &ev);
    assert_true(has_event(&ev, TLS_EV_CERTIFICATE_INVALID_LENGTH));
    assert_false(has_event(&ev, TLS_EV_INVALID_CERTIFICATE));
    assert_null(buffer_text(s, BUF_TLS_CERT_SUBJECT, 0));
    assert_null(buffer_text(s, BUF_TLS_CERT_FINGERPRINT, 0));
    const uint8_t *d;
    uint32_t len;
    assert_true(tls_buffer(s, BUF_TLS_CERTS, 0, &d, &len)); /* the raw DER is still there */
    assert_int_equal(len, sizeof leaf_der);
    tls_state_free(s);

    /* DER with an indefinite length: not a length error, an invalid certificate */
    body->n = 0;
    put24(body, 3 + 4);
    put24(body, 4);
    put(body, "\x30\x80\x00\x00", 4);
    memset(&ev, 0, sizeof ev);
    s = feed_certificate_msg(body->d, body->n, &ev);
    assert_true(has_event(&ev, TLS_EV_INVALID_CERTIFICATE));
    tls_state_free(s);
    free(body);
}

/* The outer and tbsCertificate lengths made one larger, through tls_feed:
 * exactly one of the two certificate events and no certificate fields; then
 * every byte flipped: events of those two kinds only, and only when the
 * certificate was not taken. */
static void test_certificate_with_grown_lengths_or_flipped_bytes_raises_events(void **state)
{
    (void)state;
    struct buf *body = buf_new();
    unsigned tried = 0;
    for (size_t i = 0; i + 1 < sizeof leaf_der; i++) {
        /* the last octets of the Certificate's and tbsCertificate's lengths */
        static const size_t at[] = { 3, 7 };
        bool pick = false;
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++)
            pick |= at[k] == i;
        if (!pick || leaf_der[i] == 0xff)
            continue;
        body->n = 0;
        put24(body, sizeof leaf_der + 3);
        put24(body, sizeof leaf_der);
        put(body, leaf_der, sizeof leaf_der);
        body->d[6 + i] += 1;
        struct app_events ev = { 0 };
        struct tls_state *s = feed_certificate_msg(body->d, body->n, &ev);
        assert_true(has_event(&ev, TLS_EV_CERTIFICATE_INVALID_LENGTH) !=
                    has_event(&ev, TLS_EV_INVALID_CERTIFICATE));
        assert_null(buffer_text(s, BUF_TLS_CERT_SUBJECT, 0));
        tls_state_free(s);
        tried++;
    }
    assert_int_equal(tried, 2);
    /* and every byte flipped, through tls_feed: events only of the two kinds */
    for (size_t i = 0; i < sizeof leaf_der; i++) {
        body->n = 0;
        put24(body, sizeof leaf_der + 3);
        put24(body, sizeof leaf_der);
        put(body, leaf_der, sizeof leaf_der);
        body->d[6 + i] ^= 0x80;
        struct app_events ev = { 0 };
        struct tls_state *s = feed_certificate_msg(body->d, body->n, &ev);
        bool parsed = buffer_text(s, BUF_TLS_CERT_SUBJECT, 0) != NULL;
        for (unsigned e = 0; e < ev.n; e++)
            assert_true(ev.code[e] == TLS_EV_CERTIFICATE_INVALID_LENGTH ||
                        ev.code[e] == TLS_EV_INVALID_CERTIFICATE);
        assert_true(parsed == (ev.n == 0));
        tls_state_free(s);
    }
    free(body);
}

/* ===========================================================================
 * Sessions and framing
 * ========================================================================= */

struct result {
    char *eve;
    unsigned progress;
    struct app_events ev;
};

/* Feeds the two directions, each cut at the given points (sorted, within
 * the data), and returns the EVE text and what else matters. */
static struct result run_session(const struct buf *client, const struct buf *server,
                                 size_t step)
{
    struct result r = { 0 };
    struct tls_state *s = tls_state_new();
    const struct buf *dirs[2] = { client, server };
    for (int d = 0; d < 2; d++) {
        const struct buf *b = dirs[d];
        size_t chunk = step ? step : b->n;
        for (size_t off = 0; off < b->n; off += chunk)
            feed(s, d, b->d + off, off + chunk <= b->n ? chunk : b->n - off, &r.ev);
    }
    json_t *j = tls_eve(s);
    r.eve = json_dumps(j, JSON_SORT_KEYS);
    json_decref(j);
    r.progress = tls_progress(s);
    tls_state_free(s);
    return r;
}

static void test_session_fed_byte_by_byte_equals_one_call(void **state)
{
    (void)state;
    struct buf *client = buf_new(), *server = buf_new();
    build_tls12_session(client, server);
    struct result whole = run_session(client, server, 0);
    assert_int_equal(whole.progress, TLS_SEEN_CLIENT_HELLO | TLS_SEEN_SERVER_HELLO |
                                         TLS_SEEN_CERTIFICATE | TLS_HANDSHAKE_DONE);
    assert_int_equal(whole.ev.n, 0);
    for (size_t step = 1; step <= 7; step++) {
        struct result r = run_session(client, server, step);
        assert_string_equal(r.eve, whole.eve);
        assert_int_equal(r.progress, whole.progress);
        assert_int_equal(r.ev.n, 0);
        free(r.eve);
    }
    free(whole.eve);
    free(client);
    free(server);
}

/* Each direction cut in two at every offset. */
static void test_session_split_at_every_offset_equals_one_call(void **state)
{
    (void)state;
    struct buf *client = buf_new(), *server = buf_new();
    build_tls12_session(client, server);
    struct result whole = run_session(client, server, 0);
    size_t longest = client->n > server->n ? client->n : server->n;
    for (size_t cut = 1; cut < longest; cut++) {
        struct tls_state *s = tls_state_new();
        struct app_events ev = { 0 };
        const struct buf *dirs[2] = { client, server };
        for (int d = 0; d < 2; d++) {
            size_t k = cut < dirs[d]->n ? cut : dirs[d]->n;
            feed(s, d, dirs[d]->d, k, &ev);
            feed(s, d, dirs[d]->d + k, dirs[d]->n - k, &ev);
        }
        json_t *j = tls_eve(s);
        char *text = json_dumps(j, JSON_SORT_KEYS);
        assert_string_equal(text, whole.eve);
        assert_int_equal(tls_progress(s), whole.progress);
        assert_int_equal(ev.n, 0);
        free(text);
        json_decref(j);
        tls_state_free(s);
    }
    free(whole.eve);
    free(client);
    free(server);
}

/* One call carrying three records, a handshake message split across two
 * records, and two messages sharing one record. */
static void test_records_and_messages_in_any_arrangement(void **state)
{
    (void)state;
    struct buf *hs = buf_new(), *rec = buf_new();
    build_server_hello(hs, false, false);
    size_t sh_len = hs->n;
    const uint8_t *ders[1] = { leaf_der };
    const size_t lens[1] = { sizeof leaf_der };
    build_certificate(hs, ders, lens, 1);
    size_t cert_end = hs->n;
    build_server_hello_done(hs);
    /* record 1: ServerHello and the first 100 bytes of Certificate;
     * record 2: the rest of Certificate; record 3: ServerHelloDone */
    put_records(rec, 22, hs->d, sh_len + 100, 16384);
    put_records(rec, 22, hs->d + sh_len + 100, cert_end - sh_len - 100, 16384);
    put_records(rec, 22, hs->d + cert_end, hs->n - cert_end, 16384);
    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    feed(s, APP_TOCLIENT, rec->d, rec->n, &ev);
    assert_int_equal(ev.n, 0);
    assert_int_equal(tls_progress(s), TLS_SEEN_SERVER_HELLO | TLS_SEEN_CERTIFICATE);
    assert_string_equal(buffer_text(s, BUF_TLS_CERT_SUBJECT, 0), LEAF_SUBJECT);
    assert_string_equal(buffer_text(s, BUF_JA3S_STRING, 0), SH_JA3S_STRING);
    tls_state_free(s);

    /* the same messages in records of 5 bytes each */
    rec->n = 0;
    put_records(rec, 22, hs->d, hs->n, 5);
    s = tls_state_new();
    memset(&ev, 0, sizeof ev);
    feed(s, APP_TOCLIENT, rec->d, rec->n, &ev);
    /* more than 255 records in one call is itself an event */
    assert_true(has_event(&ev, TLS_EV_TOO_MANY_RECORDS_IN_PACKET));
    tls_state_free(s);
    s = tls_state_new();
    memset(&ev, 0, sizeof ev);
    for (size_t off = 0; off < rec->n; off += 10 * 50)
        feed(s, APP_TOCLIENT, rec->d + off, rec->n - off < 10 * 50 ? rec->n - off : 10 * 50, &ev);
    assert_int_equal(ev.n, 0);
    assert_string_equal(buffer_text(s, BUF_TLS_CERT_FINGERPRINT, 0), LEAF_FP);
    tls_state_free(s);
    free(hs);
    free(rec);
}

static void test_partial_record_waits_for_the_rest(void **state)
{
    (void)state;
    struct buf *hs = buf_new(), *rec = buf_new();
    build_client_hello(hs, &ch_default);
    put_records(rec, 22, hs->d, hs->n, 16384);
    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    feed(s, APP_TOSERVER, rec->d, rec->n - 1, &ev);
    assert_int_equal(tls_progress(s), 0);
    assert_null(buffer_text(s, BUF_JA3_HASH, 0));
    feed(s, APP_TOSERVER, rec->d + rec->n - 1, 1, &ev);
    assert_int_equal(tls_progress(s), TLS_SEEN_CLIENT_HELLO);
    assert_string_equal(buffer_text(s, BUF_JA3_HASH, 0), CH_JA3_HASH);
    assert_int_equal(ev.n, 0);
    tls_state_free(s);
    free(hs);
    free(rec);
}

static void test_bad_record_headers_raise_events_and_stop_the_direction(void **state)
{
    (void)state;
    static const struct {
        uint8_t hdr[5];
        int event;
    } cases[] = {
        { { 0x63, 0x03, 0x03, 0x00, 0x10 }, TLS_EV_INVALID_RECORD_TYPE },
        { { 0x13, 0x03, 0x03, 0x00, 0x10 }, TLS_EV_INVALID_RECORD_TYPE },
        { { 0x16, 0x02, 0x00, 0x00, 0x10 }, TLS_EV_INVALID_RECORD_VERSION },
        { { 0x16, 0x03, 0x05, 0x00, 0x10 }, TLS_EV_INVALID_RECORD_VERSION },
        { { 0x16, 0x03, 0x03, 0x48, 0x01 }, TLS_EV_INVALID_RECORD_LENGTH }, /* 18433 */
        { { 0x17, 0x03, 0x03, 0xff, 0xff }, TLS_EV_INVALID_RECORD_LENGTH },
    };
    struct buf *hs = buf_new(), *rec = buf_new();
    build_client_hello(hs, &ch_default);
    put_records(rec, 22, hs->d, hs->n, 16384);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tls_state *s = tls_state_new();
        struct app_events ev = { 0 };
        feed(s, APP_TOSERVER, cases[i].hdr, 5, &ev);
        assert_int_equal(ev.n, 1);
        assert_int_equal(ev.code[0], cases[i].event);
        /* a good ClientHello afterwards is not looked at */
        feed(s, APP_TOSERVER, rec->d, rec->n, &ev);
        assert_int_equal(tls_progress(s), 0);
        tls_state_free(s);
    }
    /* a record of exactly 16 KB + 2 KB is fine */
    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    feed(s, APP_TOSERVER, (const uint8_t *)"\x17\x03\x03\x48\x00", 5, &ev);
    assert_int_equal(ev.n, 0);
    tls_state_free(s);
    free(hs);
    free(rec);
}

static void test_oversized_handshake_message_gives_up(void **state)
{
    (void)state;
    /* a ClientHello header claiming 64 KB + 1 */
    const uint8_t rec[] = { 0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x01, 0x00, 0x01 };
    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    feed(s, APP_TOSERVER, rec, sizeof rec, &ev);
    assert_true(has_event(&ev, TLS_EV_INVALID_HANDSHAKE_MESSAGE));
    tls_state_free(s);
    /* exactly 64 KB over five records is reassembled (and is a bad ClientHello) */
    struct buf *hs = buf_new(), *out = buf_new();
    put8(hs, 1);
    put24(hs, 65536);
    for (int i = 0; i < 65536; i++)
        put8(hs, 0);
    put_records(out, 22, hs->d, hs->n, 16384);
    s = tls_state_new();
    memset(&ev, 0, sizeof ev);
    feed(s, APP_TOSERVER, out->d, out->n, &ev);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.code[0], TLS_EV_INVALID_HANDSHAKE_MESSAGE);
    assert_int_equal(tls_progress(s), 0);
    tls_state_free(s);
    free(hs);
    free(out);
}

static void test_bad_sni_type_and_lengths(void **state)
{
    (void)state;
    static const struct {
        struct ch_opts o;
        int event;
    } cases[] = {
        { { "example.com", 1, 0, true }, TLS_EV_INVALID_SNI_TYPE },
        { { "example.com", 0, 1, true }, TLS_EV_INVALID_SNI_LENGTH },  /* past the list */
        { { "example.com", 0, -11, true }, TLS_EV_INVALID_SNI_LENGTH }, /* empty name */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf *hs = buf_new(), *rec = buf_new();
        build_client_hello(hs, &cases[i].o);
        put_records(rec, 22, hs->d, hs->n, 16384);
        struct tls_state *s = tls_state_new();
        struct app_events ev = { 0 };
        feed(s, APP_TOSERVER, rec->d, rec->n, &ev);
        assert_int_equal(ev.n, 1);
        assert_int_equal(ev.code[0], cases[i].event);
        assert_null(buffer_text(s, BUF_TLS_SNI, 0));
        /* the rest of the hello is still used */
        assert_string_equal(buffer_text(s, BUF_JA3_HASH, 0), CH_JA3_HASH);
        tls_state_free(s);
        free(hs);
        free(rec);
    }
    /* a 300-byte host name */
    char name[301];
    memset(name, 'a', 300);
    name[300] = '\0';
    struct ch_opts o = ch_default;
    o.sni = name;
    struct buf *hs = buf_new(), *rec = buf_new();
    build_client_hello(hs, &o);
    put_records(rec, 22, hs->d, hs->n, 16384);
    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    feed(s, APP_TOSERVER, rec->d, rec->n, &ev);
    assert_true(has_event(&ev, TLS_EV_INVALID_SNI_LENGTH));
    assert_null(buffer_text(s, BUF_TLS_SNI, 0));
    tls_state_free(s);
    free(hs);
    free(rec);
}

static void test_truncated_client_hello_is_invalid_handshake_message(void **state)
{
    (void)state;
    struct buf *hs = buf_new();
    build_client_hello(hs, &ch_default);
    /* header 4, version 2, random 32, session id 1 + 32, ciphers 2 + 32,
     * compression 1 + 1: the extensions start at 107 */
    const size_t ext_start = 107;
    for (size_t cut = 4; cut < hs->n; cut++) {
        struct buf *m = buf_new(), *rec = buf_new();
        put8(m, 1);
        put24(m, (unsigned)(cut - 4));
        put(m, hs->d + 4, cut - 4);
        put_records(rec, 22, m->d, m->n, 16384);
        struct tls_state *s = tls_state_new();
        struct app_events ev = { 0 };
        feed(s, APP_TOSERVER, rec->d, rec->n, &ev);
        if (cut == ext_start || cut == ext_start + 1) {
            /* a hello without extensions (one stray byte is ignored) */
            assert_int_equal(ev.n, 0);
            assert_int_equal(tls_progress(s), TLS_SEEN_CLIENT_HELLO);
            assert_string_equal(buffer_text(s, BUF_JA3_STRING, 0),
                                "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-"
                                "49172-156-157-47-53,,,");
        } else {
            assert_int_equal(ev.n, 1);
            assert_int_equal(ev.code[0], TLS_EV_INVALID_HANDSHAKE_MESSAGE);
            assert_int_equal(tls_progress(s), 0);
            assert_null(buffer_text(s, BUF_JA3_HASH, 0));
        }
        tls_state_free(s);
        free(m);
        free(rec);
    }
    free(hs);
}

static void test_ccs_both_ways_ends_parsing_but_not_framing(void **state)
{
    (void)state;
    struct buf *client = buf_new(), *server = buf_new();
    build_tls12_session(client, server);
    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    feed(s, APP_TOSERVER, client->d, client->n, &ev);
    assert_false(tls_progress(s) & TLS_HANDSHAKE_DONE); /* only the client's CCS so far */
    feed(s, APP_TOCLIENT, server->d, server->n, &ev);
    assert_true(tls_progress(s) & TLS_HANDSHAKE_DONE);
    assert_int_equal(ev.n, 0);
    /* a plaintext ServerHello now is encrypted data: not parsed */
    struct buf *hs = buf_new(), *rec = buf_new();
    build_server_hello(hs, true, false);
    put_records(rec, 22, hs->d, hs->n, 16384);
    feed(s, APP_TOCLIENT, rec->d, rec->n, &ev);
    assert_int_equal(tls_version(s), 0x0303);
    assert_int_equal(ev.n, 0);
    /* records are still framed: garbage where a header belongs is seen */
    feed(s, APP_TOCLIENT, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, &ev);
    assert_true(has_event(&ev, TLS_EV_INVALID_RECORD_TYPE));
    tls_state_free(s);
    free(hs);
    free(rec);
    free(client);
    free(server);
}

static void test_sslv2_client_hello_is_skipped(void **state)
{
    (void)state;
    /* SSLv2 CLIENT-HELLO offering 3.1: 3 cipher specs, no session id, 16-byte challenge */
    struct buf *b = buf_new();
    put16(b, 0x8000 | (9 + 9 + 16));
    put8(b, 1);
    put16(b, 0x0301);
    put16(b, 9);
    put16(b, 0);
    put16(b, 16);
    put(b, "\x00\x00\x39\x00\x00\x38\x00\x00\x35", 9);
    for (int i = 0; i < 16; i++)
        put8(b, i);
    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    assert_true(tls_probe(b->d, (uint32_t)b->n));
    feed(s, APP_TOSERVER, b->d, b->n, &ev);
    assert_int_equal(ev.n, 0);
    assert_int_equal(tls_progress(s), TLS_SEEN_CLIENT_HELLO);
    assert_int_equal(tls_version(s), 0x0301);
    /* the server answers in TLS; later client records are TLS too */
    struct buf *hs = buf_new(), *rec = buf_new();
    build_server_hello(hs, false, false);
    put_records(rec, 22, hs->d, hs->n, 16384);
    feed(s, APP_TOCLIENT, rec->d, rec->n, &ev);
    feed(s, APP_TOSERVER, (const uint8_t *)"\x14\x03\x01\x00\x01\x01", 6, &ev);
    assert_int_equal(ev.n, 0);
    assert_int_equal(tls_version(s), 0x0303);
    /* a second SSLv2-looking record after TLS records is garbage */
    feed(s, APP_TOCLIENT, b->d, b->n, &ev);
    assert_true(has_event(&ev, TLS_EV_INVALID_RECORD_TYPE));
    tls_state_free(s);
    free(b);
    free(hs);
    free(rec);
}

/* ===========================================================================
 * TLS 1.3
 * ========================================================================= */

static void test_tls13_server_hello_ends_parsing_and_logs_no_certificate(void **state)
{
    (void)state;
    struct buf *hs = buf_new(), *client = buf_new(), *server = buf_new();
    build_client_hello(hs, &ch_default);
    put_records(client, 22, hs->d, hs->n, 16384);
    hs->n = 0;
    build_server_hello(hs, true, false);
    put_records(server, 22, hs->d, hs->n, 16384);
    /* a plaintext Certificate after it must not be taken (in 1.3 it is encrypted) */
    hs->n = 0;
    const uint8_t *ders[1] = { leaf_der };
    const size_t lens[1] = { sizeof leaf_der };
    build_certificate(hs, ders, lens, 1);
    put_records(server, 22, hs->d, hs->n, 16384);
    put_records(server, 23, (const uint8_t *)"0123456789", 10, 16384);

    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    feed(s, APP_TOSERVER, client->d, client->n, &ev);
    feed(s, APP_TOCLIENT, server->d, server->n, &ev);
    assert_int_equal(ev.n, 0);
    assert_int_equal(tls_version(s), 0x0304);
    assert_int_equal(tls_progress(s),
                     TLS_SEEN_CLIENT_HELLO | TLS_SEEN_SERVER_HELLO | TLS_HANDSHAKE_DONE);
    assert_null(buffer_text(s, BUF_TLS_CERT_SUBJECT, 0));
    assert_false(tls_buffer(s, BUF_TLS_CERTS, 0, &(const uint8_t *){ NULL }, &(uint32_t){ 0 }));
    assert_string_equal(buffer_text(s, BUF_JA3S_STRING, 0), "771,4865,43-51");
    json_t *j = tls_eve(s);
    assert_string_equal(json_string_value(json_object_get(j, "version")), "TLS 1.3");
    assert_null(json_object_get(j, "subject"));
    assert_null(json_object_get(j, "fingerprint"));
    assert_null(json_object_get(j, "notbefore"));
    assert_string_equal(json_string_value(json_object_get(j, "ja4")), CH_JA4);
    json_decref(j);
    tls_state_free(s);
    free(hs);
    free(client);
    free(server);
}

static void test_hello_retry_request_keeps_the_handshake_going(void **state)
{
    (void)state;
    struct buf *hs = buf_new(), *rec = buf_new();
    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    build_client_hello(hs, &ch_default);
    put_records(rec, 22, hs->d, hs->n, 16384);
    feed(s, APP_TOSERVER, rec->d, rec->n, &ev);
    hs->n = rec->n = 0;
    build_server_hello(hs, true, true);
    put_records(rec, 22, hs->d, hs->n, 16384);
    feed(s, APP_TOCLIENT, rec->d, rec->n, &ev);
    assert_false(tls_progress(s) & TLS_HANDSHAKE_DONE);
    /* the second ClientHello (no SNI this time) does not replace the first */
    struct ch_opts o = ch_default;
    o.sni = NULL;
    hs->n = rec->n = 0;
    build_client_hello(hs, &o);
    put_records(rec, 22, hs->d, hs->n, 16384);
    feed(s, APP_TOSERVER, rec->d, rec->n, &ev);
    assert_string_equal(buffer_text(s, BUF_JA4_HASH, 0), CH_JA4);
    hs->n = rec->n = 0;
    build_server_hello(hs, true, false);
    put_records(rec, 22, hs->d, hs->n, 16384);
    feed(s, APP_TOCLIENT, rec->d, rec->n, &ev);
    assert_true(tls_progress(s) & TLS_HANDSHAKE_DONE);
    assert_int_equal(ev.n, 0);
    tls_state_free(s);
    free(hs);
    free(rec);
}

/* ===========================================================================
 * Buffers, EVE, names, detection
 * ========================================================================= */

static struct tls_state *tls12_state(void)
{
    struct buf *client = buf_new(), *server = buf_new();
    build_tls12_session(client, server);
    struct tls_state *s = tls_state_new();
    struct app_events ev = { 0 };
    feed(s, APP_TOSERVER, client->d, client->n, &ev);
    feed(s, APP_TOCLIENT, server->d, server->n, &ev);
    assert_int_equal(ev.n, 0);
    free(client);
    free(server);
    return s;
}

static void test_sticky_buffers_of_a_tls12_session(void **state)
{
    (void)state;
    struct tls_state *s = tls12_state();
    assert_string_equal(buffer_text(s, BUF_TLS_SNI, 0), "example.com");
    assert_string_equal(buffer_text(s, BUF_TLS_CERT_SUBJECT, 0), LEAF_SUBJECT);
    assert_string_equal(buffer_text(s, BUF_TLS_CERT_ISSUER, 0), LEAF_ISSUER);
    assert_string_equal(buffer_text(s, BUF_TLS_CERT_SERIAL, 0), LEAF_SERIAL);
    assert_string_equal(buffer_text(s, BUF_TLS_CERT_FINGERPRINT, 0), LEAF_FP);
    assert_string_equal(buffer_text(s, BUF_JA3_STRING, 0), CH_JA3_STRING);
    assert_string_equal(buffer_text(s, BUF_JA3_HASH, 0), CH_JA3_HASH);
    assert_string_equal(buffer_text(s, BUF_JA3S_STRING, 0), SH_JA3S_STRING);
    assert_string_equal(buffer_text(s, BUF_JA3S_HASH, 0), SH_JA3S_HASH);
    assert_string_equal(buffer_text(s, BUF_JA4_HASH, 0), CH_JA4);
    const uint8_t *d;
    uint32_t len;
    assert_true(tls_buffer(s, BUF_TLS_CERTS, 0, &d, &len));
    assert_int_equal(len, sizeof leaf_der);
    assert_memory_equal(d, leaf_der, len);
    assert_true(tls_buffer(s, BUF_TLS_CERTS, 1, &d, &len));
    assert_int_equal(len, sizeof second_der);
    assert_false(tls_buffer(s, BUF_TLS_CERTS, 2, &d, &len));
    /* single buffers have one instance; others are not TLS's */
    assert_false(tls_buffer(s, BUF_TLS_SNI, 1, &d, &len));
    assert_false(tls_buffer(s, BUF_HTTP_URI, 0, &d, &len));
    assert_false(tls_buffer(s, BUF_DNS_QUERY, 0, &d, &len));
    tls_state_free(s);
}

static void test_eve_object_field_by_field(void **state)
{
    (void)state;
    struct tls_state *s = tls12_state();
    json_t *j = tls_eve(s);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "subject")), LEAF_SUBJECT);
    assert_string_equal(json_string_value(json_object_get(j, "issuerdn")), LEAF_ISSUER);
    assert_string_equal(json_string_value(json_object_get(j, "serial")), LEAF_SERIAL);
    assert_string_equal(json_string_value(json_object_get(j, "fingerprint")), LEAF_FP);
    assert_string_equal(json_string_value(json_object_get(j, "sni")), "example.com");
    assert_string_equal(json_string_value(json_object_get(j, "version")), "TLS 1.2");
    assert_string_equal(json_string_value(json_object_get(j, "notbefore")), LEAF_NOT_BEFORE);
    assert_string_equal(json_string_value(json_object_get(j, "notafter")), LEAF_NOT_AFTER);
    json_t *ja3 = json_object_get(j, "ja3");
    assert_int_equal(json_object_size(ja3), 2);
    assert_string_equal(json_string_value(json_object_get(ja3, "hash")), CH_JA3_HASH);
    assert_string_equal(json_string_value(json_object_get(ja3, "string")), CH_JA3_STRING);
    json_t *ja3s = json_object_get(j, "ja3s");
    assert_int_equal(json_object_size(ja3s), 2);
    assert_string_equal(json_string_value(json_object_get(ja3s, "hash")), SH_JA3S_HASH);
    assert_string_equal(json_string_value(json_object_get(ja3s, "string")), SH_JA3S_STRING);
    assert_string_equal(json_string_value(json_object_get(j, "ja4")), CH_JA4);
    assert_int_equal(json_array_size(json_object_get(j, "client_alpns")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "server_alpns")), 1);
    assert_int_equal(json_object_size(j), 13); /* nothing else */
    json_decref(j);
    tls_state_free(s);

    /* before anything: only the version, undetermined */
    s = tls_state_new();
    j = tls_eve(s);
    assert_int_equal(json_object_size(j), 1);
    assert_string_equal(json_string_value(json_object_get(j, "version")), "UNDETERMINED");
    json_decref(j);
    tls_state_free(s);
}

static void test_eve_version_names(void **state)
{
    (void)state;
    static const struct {
        uint16_t v;
        const char *name;
    } cases[] = {
        { 0x0300, "SSLv3" }, { 0x0301, "TLSv1" }, { 0x0302, "TLS 1.1" }, { 0x0303, "TLS 1.2" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf *hs = buf_new(), *rec = buf_new();
        build_server_hello(hs, false, false);
        hs->d[4] = (uint8_t)(cases[i].v >> 8);
        hs->d[5] = (uint8_t)cases[i].v;
        put_records(rec, 22, hs->d, hs->n, 16384);
        struct tls_state *s = tls_state_new();
        struct app_events ev = { 0 };
        feed(s, APP_TOCLIENT, rec->d, rec->n, &ev);
        assert_int_equal(tls_version(s), cases[i].v);
        json_t *j = tls_eve(s);
        assert_string_equal(json_string_value(json_object_get(j, "version")), cases[i].name);
        json_decref(j);
        tls_state_free(s);
        free(hs);
        free(rec);
    }
}

static void test_event_names_match_suricata(void **state)
{
    (void)state;
    assert_string_equal(tls_event_name(TLS_EV_INVALID_RECORD_TYPE), "invalid_record_type");
    assert_string_equal(tls_event_name(TLS_EV_INVALID_RECORD_LENGTH), "invalid_record_length");
    assert_string_equal(tls_event_name(TLS_EV_INVALID_RECORD_VERSION), "invalid_record_version");
    assert_string_equal(tls_event_name(TLS_EV_INVALID_HANDSHAKE_MESSAGE),
                        "invalid_handshake_message");
    assert_string_equal(tls_event_name(TLS_EV_INVALID_CERTIFICATE), "invalid_certificate");
    assert_string_equal(tls_event_name(TLS_EV_CERTIFICATE_INVALID_LENGTH),
                        "certificate_invalid_length");
    assert_string_equal(tls_event_name(TLS_EV_INVALID_SNI_TYPE), "invalid_sni_type");
    assert_string_equal(tls_event_name(TLS_EV_INVALID_SNI_LENGTH), "invalid_sni_length");
    assert_string_equal(tls_event_name(TLS_EV_TOO_MANY_RECORDS_IN_PACKET),
                        "too_many_records_in_packet");
    assert_string_equal(tls_event_name(TLS_EV_INVALID_SSL_RECORD), "invalid_ssl_record");
    assert_null(tls_event_name(TLS_EV_COUNT));
    assert_null(tls_event_name(-1));
}

static void test_probe_accepts_hellos_only(void **state)
{
    (void)state;
    struct buf *hs = buf_new(), *rec = buf_new();
    build_client_hello(hs, &ch_default);
    put_records(rec, 22, hs->d, hs->n, 16384);
    assert_true(tls_probe(rec->d, (uint32_t)rec->n));
    assert_true(tls_probe(rec->d, 5));  /* the record header alone */
    assert_true(tls_probe(rec->d, 11)); /* up to the hello's version */
    rec->d[2] = 0x01;                   /* TLS 1.0 record layer, as most clients send */
    assert_true(tls_probe(rec->d, (uint32_t)rec->n));
    hs->n = rec->n = 0;
    build_server_hello(hs, false, false);
    put_records(rec, 22, hs->d, hs->n, 16384);
    assert_true(tls_probe(rec->d, (uint32_t)rec->n));

    assert_false(tls_probe(rec->d, 4));
    assert_false(tls_probe(NULL, 0));
    assert_false(tls_probe((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18));
    assert_false(tls_probe((const uint8_t *)"\x17\x03\x03\x00\x20", 5)); /* application data */
    assert_false(tls_probe((const uint8_t *)"\x16\x03\x05\x00\x20\x01", 6));
    assert_false(tls_probe((const uint8_t *)"\x16\x03\x03\x48\x01\x01", 6));
    assert_false(tls_probe((const uint8_t *)"\x16\x03\x03\x00\x20\x0b", 6)); /* Certificate */
    assert_false(tls_probe((const uint8_t *)"\x16\x03\x03\x00\x20\x01\x00\x00\x04", 9));
    assert_false(tls_probe((const uint8_t *)"\x16\x03\x03\x00\x40\x01\x00\x00\x3c\x05\x00", 11));
    free(hs);
    free(rec);
}

static void test_api_tolerates_null_and_empty_input(void **state)
{
    (void)state;
    struct app_events ev = { 0 };
    tls_feed(NULL, APP_TOSERVER, (const uint8_t *)"x", 1, &ev);
    struct tls_state *s = tls_state_new();
    tls_feed(s, APP_TOSERVER, NULL, 0, &ev);
    tls_feed(s, 7, (const uint8_t *)"\x16", 1, &ev);
    assert_int_equal(ev.n, 0);
    assert_int_equal(tls_progress(s), 0);
    assert_int_equal(tls_version(s), 0);
    assert_int_equal(tls_progress(NULL), 0);
    assert_null(tls_eve(NULL));
    const uint8_t *d;
    uint32_t len;
    assert_false(tls_buffer(s, BUF_JA3_HASH, 0, &d, &len));
    assert_false(tls_buffer(NULL, BUF_JA3_HASH, 0, &d, &len));
    tls_state_free(s);
    tls_state_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5_rfc1321_vectors),
        cmocka_unit_test(test_sha1_fips180_vectors),
        cmocka_unit_test(test_sha256_fips180_vectors),
        cmocka_unit_test(test_digests_streamed_at_every_split_equal_one_shot),
        cmocka_unit_test(test_digest_hex_separator),
        cmocka_unit_test(test_client_hello_ja3_ja4_sni_alpn),
        cmocka_unit_test(test_ja4_without_sni_is_i_and_without_tls13_is_12),
        cmocka_unit_test(test_ja4_alpn_characters_and_count_cap),
        cmocka_unit_test(test_minimal_client_hello_ja3),
        cmocka_unit_test(test_server_hello_ja3s_and_version),
        cmocka_unit_test(test_x509_real_leaf_fields),
        cmocka_unit_test(test_x509_text_forms_as_suricata_prints_them),
        cmocka_unit_test(test_x509_truncated_at_every_length_is_a_length_error),
        cmocka_unit_test(test_x509_nesting_deeper_than_the_bound_is_refused),
        cmocka_unit_test(test_x509_mutated_bytes_never_crash),
        cmocka_unit_test(test_certificate_message_bad_lengths_raise_events),
        cmocka_unit_test(test_certificate_with_grown_lengths_or_flipped_bytes_raises_events),
        cmocka_unit_test(test_session_fed_byte_by_byte_equals_one_call),
        cmocka_unit_test(test_session_split_at_every_offset_equals_one_call),
        cmocka_unit_test(test_records_and_messages_in_any_arrangement),
        cmocka_unit_test(test_partial_record_waits_for_the_rest),
        cmocka_unit_test(test_bad_record_headers_raise_events_and_stop_the_direction),
        cmocka_unit_test(test_oversized_handshake_message_gives_up),
        cmocka_unit_test(test_bad_sni_type_and_lengths),
        cmocka_unit_test(test_truncated_client_hello_is_invalid_handshake_message),
        cmocka_unit_test(test_ccs_both_ways_ends_parsing_but_not_framing),
        cmocka_unit_test(test_sslv2_client_hello_is_skipped),
        cmocka_unit_test(test_tls13_server_hello_ends_parsing_and_logs_no_certificate),
        cmocka_unit_test(test_hello_retry_request_keeps_the_handshake_going),
        cmocka_unit_test(test_sticky_buffers_of_a_tls12_session),
        cmocka_unit_test(test_eve_object_field_by_field),
        cmocka_unit_test(test_eve_version_names),
        cmocka_unit_test(test_event_names_match_suricata),
        cmocka_unit_test(test_probe_accepts_hellos_only),
        cmocka_unit_test(test_api_tolerates_null_and_empty_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

static const uint8_t leaf_der[1323] = {
    0x30, 0x82, 0x05, 0x27, 0x30, 0x82, 0x04, 0x0f, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x12, 0x04,
    0x5a, 0x90, 0x5e, 0x1e, 0xa8, 0x69, 0x42, 0xac, 0x38, 0x57, 0xb4, 0x81, 0xd6, 0xde, 0x9a, 0x85,
    0xcb, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
    0x30, 0x32, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x55, 0x53, 0x31,
    0x16, 0x30, 0x14, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x13, 0x0d, 0x4c, 0x65, 0x74, 0x27, 0x73, 0x20,
    0x45, 0x6e, 0x63, 0x72, 0x79, 0x70, 0x74, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03,
    0x13, 0x02, 0x52, 0x33, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x33, 0x30, 0x31, 0x30, 0x34, 0x31, 0x36,
    0x31, 0x34, 0x30, 0x37, 0x5a, 0x17, 0x0d, 0x32, 0x33, 0x30, 0x34, 0x30, 0x34, 0x31, 0x36, 0x31,
    0x34, 0x30, 0x36, 0x5a, 0x30, 0x1c, 0x31, 0x1a, 0x30, 0x18, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13,
    0x11, 0x63, 0x65, 0x72, 0x74, 0x61, 0x75, 0x74, 0x68, 0x2e, 0x69, 0x64, 0x72, 0x69, 0x78, 0x2e,
    0x66, 0x72, 0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
    0x01, 0x01, 0x01, 0x05, 0x00, 0x03, 0x82, 0x01, 0x0f, 0x00, 0x30, 0x82, 0x01, 0x0a, 0x02, 0x82,
    0x01, 0x01, 0x00, 0xaf, 0x79, 0x8f, 0xf0, 0x99, 0x7a, 0x08, 0x33, 0x81, 0xb2, 0x9b, 0xda, 0xa4,
    0xfc, 0x0f, 0x85, 0x6e, 0x45, 0xf0, 0x83, 0x61, 0x9a, 0x82, 0xfc, 0x19, 0xac, 0x5d, 0x3f, 0xf2,
    0x88, 0x15, 0xf2, 0xaa, 0x86, 0xb3, 0x17, 0xa0, 0x1c, 0xc0, 0x7b, 0x1a, 0x36, 0xed, 0xfa, 0x40,
    0x13, 0xd8, 0x44, 0x40, 0xe0, 0xbc, 0x63, 0x8d, 0xf6, 0x54, 0x94, 0x8e, 0xd6, 0x9f, 0x2e, 0xf4,
    0xdd, 0x05, 0x01, 0xb0, 0xec, 0x6e, 0x48, 0x0b, 0x00, 0xbf, 0x2e, 0xcb, 0xa7, 0xe4, 0xa9, 0x1d,
    0x99, 0xb5, 0x8d, 0xc6, 0x03, 0x84, 0x67, 0x16, 0x86, 0x4d, 0x75, 0x80, 0xcd, 0x82, 0x50, 0x7a,
    0x9b, 0x1b, 0xd9, 0xcc, 0x9d, 0xcb, 0xbc, 0x29, 0xe1, 0x3e, 0xfd, 0xb2, 0x67, 0xdb, 0xf1, 0xf9,
    0x64, 0xdc, 0x05, 0xf1, 0xc4, 0x56, 0x0c, 0x55, 0x6e, 0xd5, 0xac, 0xfd, 0x44, 0x2a, 0xaf, 0xe1,
    0x6d, 0xb7, 0x97, 0xd2, 0xfa, 0xb8, 0xa5, 0x1e, 0x48, 0x30, 0x0c, 0x6a, 0x11, 0xca, 0xd9, 0xfb,
    0x8d, 0xc5, 0x51, 0x58, 0x57, 0xd5, 0xbd, 0xbe, 0x92, 0x69, 0x39, 0xab, 0x54, 0xa8, 0x32, 0x50,
    0xab, 0x05, 0x98, 0xbb, 0xc4, 0x73, 0xf8, 0x24, 0xe7, 0x3a, 0x21, 0x47, 0x7a, 0x3d, 0x59, 0xeb,
    0xbe, 0x39, 0x4d, 0xb9, 0x13, 0xd9, 0x34, 0xab, 0x98, 0x2b, 0x06, 0xe2, 0xc1, 0x2a, 0xdf, 0x37,
    0x90, 0xf8, 0xdc, 0x13, 0x1f, 0x70, 0x96, 0x56, 0xfb, 0x51, 0xed, 0x71, 0x66, 0xce, 0xcc, 0xb6,
    0xde, 0xe1, 0xb1, 0x39, 0x4d, 0x87, 0xcd, 0x9b, 0xbd, 0xbd, 0x13, 0x8f, 0xa7, 0x08, 0xd2, 0x4c,
    0x7e, 0xb6, 0xce, 0xa1, 0x98, 0x04, 0xa2, 0xc0, 0x97, 0x89, 0xc4, 0x8f, 0x64, 0xad, 0x4d, 0x02,
    0x0c, 0x03, 0xbf, 0x41, 0x11, 0x46, 0xce, 0x34, 0xf4, 0x15, 0x55, 0x38, 0x02, 0x5f, 0xa8, 0xda,
    0x37, 0x9e, 0x65, 0x02, 0x03, 0x01, 0x00, 0x01, 0xa3, 0x82, 0x02, 0x4b, 0x30, 0x82, 0x02, 0x47,
    0x30, 0x0e, 0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01, 0x01, 0xff, 0x04, 0x04, 0x03, 0x02, 0x05, 0xa0,
    0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x25, 0x04, 0x16, 0x30, 0x14, 0x06, 0x08, 0x2b, 0x06, 0x01,
    0x05, 0x05, 0x07, 0x03, 0x01, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02, 0x30,
    0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x02, 0x30, 0x00, 0x30, 0x1d, 0x06,
    0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0x60, 0xb9, 0x6f, 0xa9, 0xd2, 0x0b, 0x5b, 0x19,
    0xa8, 0x3b, 0x6d, 0x3c, 0x92, 0xb8, 0xeb, 0xb3, 0x6c, 0x94, 0xf1, 0xf8, 0x30, 0x1f, 0x06, 0x03,
    0x55, 0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0x14, 0x2e, 0xb3, 0x17, 0xb7, 0x58, 0x56,
    0xcb, 0xae, 0x50, 0x09, 0x40, 0xe6, 0x1f, 0xaf, 0x9d, 0x8b, 0x14, 0xc2, 0xc6, 0x30, 0x55, 0x06,
    0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01, 0x04, 0x49, 0x30, 0x47, 0x30, 0x21, 0x06,
    0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x86, 0x15, 0x68, 0x74, 0x74, 0x70, 0x3a,
    0x2f, 0x2f, 0x72, 0x33, 0x2e, 0x6f, 0x2e, 0x6c, 0x65, 0x6e, 0x63, 0x72, 0x2e, 0x6f, 0x72, 0x67,
    0x30, 0x22, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02, 0x86, 0x16, 0x68, 0x74,
    0x74, 0x70, 0x3a, 0x2f, 0x2f, 0x72, 0x33, 0x2e, 0x69, 0x2e, 0x6c, 0x65, 0x6e, 0x63, 0x72, 0x2e,
    0x6f, 0x72, 0x67, 0x2f, 0x30, 0x1c, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x15, 0x30, 0x13, 0x82,
    0x11, 0x63, 0x65, 0x72, 0x74, 0x61, 0x75, 0x74, 0x68, 0x2e, 0x69, 0x64, 0x72, 0x69, 0x78, 0x2e,
    0x66, 0x72, 0x30, 0x4c, 0x06, 0x03, 0x55, 0x1d, 0x20, 0x04, 0x45, 0x30, 0x43, 0x30, 0x08, 0x06,
    0x06, 0x67, 0x81, 0x0c, 0x01, 0x02, 0x01, 0x30, 0x37, 0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01,
    0x82, 0xdf, 0x13, 0x01, 0x01, 0x01, 0x30, 0x28, 0x30, 0x26, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05,
    0x05, 0x07, 0x02, 0x01, 0x16, 0x1a, 0x68, 0x74, 0x74, 0x70, 0x3a, 0x2f, 0x2f, 0x63, 0x70, 0x73,
    0x2e, 0x6c, 0x65, 0x74, 0x73, 0x65, 0x6e, 0x63, 0x72, 0x79, 0x70, 0x74, 0x2e, 0x6f, 0x72, 0x67,
    0x30, 0x82, 0x01, 0x03, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02,
    0x04, 0x81, 0xf4, 0x04, 0x81, 0xf1, 0x00, 0xef, 0x00, 0x75, 0x00, 0x7a, 0x32, 0x8c, 0x54, 0xd8,
    0xb7, 0x2d, 0xb6, 0x20, 0xea, 0x38, 0xe0, 0x52, 0x1e, 0xe9, 0x84, 0x16, 0x70, 0x32, 0x13, 0x85,
    0x4d, 0x3b, 0xd2, 0x2b, 0xc1, 0x3a, 0x57, 0xa3, 0x52, 0xeb, 0x52, 0x00, 0x00, 0x01, 0x85, 0x7d,
    0xc6, 0xa3, 0x81, 0x00, 0x00, 0x04, 0x03, 0x00, 0x46, 0x30, 0x44, 0x02, 0x20, 0x33, 0x1a, 0xb6,
    0xf7, 0x6d, 0x34, 0x79, 0x7a, 0x0e, 0xda, 0x2e, 0xfe, 0x84, 0x6d, 0x58, 0xb1, 0x68, 0xce, 0xa3,
    0xf1, 0x87, 0x49, 0x9a, 0xdd, 0x98, 0xe4, 0x7f, 0x29, 0x1d, 0x3b, 0x4a, 0xc6, 0x02, 0x20, 0x13,
    0x8a, 0x7c, 0x1a, 0xb0, 0xb8, 0xc2, 0xad, 0x67, 0x5c, 0x08, 0xc1, 0xc6, 0x78, 0xa4, 0x55, 0xf9,
    0x08, 0xd6, 0x1f, 0x0c, 0xca, 0xd6, 0x2e, 0x24, 0xc5, 0xa9, 0xff, 0xc3, 0xf7, 0x77, 0x60, 0x00,
    0x76, 0x00, 0xb7, 0x3e, 0xfb, 0x24, 0xdf, 0x9c, 0x4d, 0xba, 0x75, 0xf2, 0x39, 0xc5, 0xba, 0x58,
    0xf4, 0x6c, 0x5d, 0xfc, 0x42, 0xcf, 0x7a, 0x9f, 0x35, 0xc4, 0x9e, 0x1d, 0x09, 0x81, 0x25, 0xed,
    0xb4, 0x99, 0x00, 0x00, 0x01, 0x85, 0x7d, 0xc6, 0xa5, 0x65, 0x00, 0x00, 0x04, 0x03, 0x00, 0x47,
    0x30, 0x45, 0x02, 0x21, 0x00, 0xb0, 0x33, 0xf3, 0x62, 0x99, 0xd5, 0xa1, 0x2b, 0xe9, 0x55, 0xd3,
    0x9e, 0x48, 0x69, 0x17, 0x62, 0x58, 0x72, 0x52, 0x9e, 0x9e, 0xfa, 0x8d, 0xd8, 0x9d, 0x1c, 0x2c,
    0x4b, 0x84, 0xfd, 0x3a, 0xea, 0x02, 0x20, 0x04, 0x6b, 0x23, 0x5d, 0x14, 0xa7, 0x73, 0xff, 0xbe,
    0xc9, 0x66, 0xb4, 0xc9, 0x40, 0x8f, 0x13, 0x24, 0x1c, 0x10, 0xf3, 0xfc, 0xd1, 0x62, 0xf7, 0xcd,
    0x41, 0x84, 0x6a, 0xf4, 0xe2, 0x73, 0x10, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
    0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00, 0x03, 0x82, 0x01, 0x01, 0x00, 0xaf, 0x58, 0x77, 0xb8, 0xa9,
    0x49, 0x43, 0xf7, 0x10, 0xe8, 0xe6, 0xb2, 0x60, 0x80, 0xe5, 0xcc, 0x15, 0xac, 0x9c, 0xcb, 0x20,
    0xf6, 0x7c, 0xca, 0x0c, 0xdd, 0x0b, 0x24, 0x13, 0x93, 0x7c, 0xf7, 0xb7, 0x06, 0x6b, 0xa9, 0xeb,
    0x94, 0x13, 0x7f, 0xc4, 0x80, 0x98, 0x64, 0x18, 0x56, 0x74, 0x03, 0xef, 0x37, 0xf9, 0x2d, 0x61,
    0x3c, 0x7d, 0x07, 0x8b, 0x5b, 0xe5, 0x7c, 0xb5, 0x69, 0xc0, 0x4d, 0x66, 0x23, 0x5a, 0x35, 0x9f,
    0xef, 0xc2, 0xb6, 0xd9, 0x4c, 0xa8, 0xe6, 0xe7, 0xd3, 0x1b, 0x89, 0x19, 0xab, 0xf5, 0x09, 0x69,
    0x97, 0x86, 0x03, 0x5a, 0x0f, 0x50, 0x51, 0x31, 0x27, 0x4e, 0xca, 0xb8, 0x2c, 0x6b, 0x4b, 0x82,
    0x7a, 0x48, 0x19, 0xc6, 0x08, 0xea, 0x37, 0x70, 0xcd, 0xb4, 0x6e, 0xfa, 0xcd, 0x89, 0xee, 0xcd,
    0xfa, 0xac, 0x12, 0x9d, 0xe9, 0xb9, 0x67, 0x30, 0x0d, 0xa5, 0x6e, 0x5a, 0xc1, 0xc9, 0x8e, 0x9f,
    0x4d, 0xe3, 0xf4, 0x56, 0xd3, 0x2f, 0x49, 0xd9, 0xab, 0x8b, 0x91, 0xd5, 0x04, 0xc2, 0x68, 0x3b,
    0x05, 0x81, 0x09, 0xfa, 0xf4, 0x48, 0x44, 0xa0, 0x7a, 0xdf, 0x7f, 0x70, 0x9e, 0xdb, 0x10, 0x81,
    0x99, 0xe9, 0x14, 0xc7, 0xb1, 0x54, 0x49, 0x4d, 0xf7, 0x0e, 0xa0, 0x55, 0x70, 0xa3, 0x2e, 0x4a,
    0x94, 0x0f, 0x8f, 0x68, 0x9a, 0x12, 0x20, 0x03, 0x8b, 0x53, 0xa7, 0xde, 0x74, 0x1c, 0x38, 0x55,
    0x42, 0x40, 0xd2, 0xd1, 0xb9, 0x63, 0xcf, 0xcb, 0x1b, 0xcb, 0x14, 0x61, 0x1b, 0xcd, 0x70, 0xf2,
    0x94, 0xa4, 0xc7, 0xce, 0x5a, 0xc3, 0x3b, 0xfa, 0x76, 0x90, 0x64, 0x59, 0x30, 0x7e, 0xa4, 0x62,
    0x2d, 0xf1, 0x2a, 0x7c, 0x6f, 0x73, 0x04, 0x15, 0xd8, 0x28, 0xc2, 0x03, 0xd1, 0xbd, 0xfa, 0x54,
    0x97, 0x05, 0xfa, 0x74, 0x85, 0x6a, 0xb8, 0x3a, 0x31, 0xe2, 0x20,

};
