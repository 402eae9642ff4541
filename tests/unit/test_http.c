/*
 * Unit tests for src/app/http.c, HTTP/1.x on libhtp.
 *
 * Sections: helpers, a simple exchange, segmentation (a request cut at
 * every byte), pipelining, bodies (chunked, gzip/deflate, limits), every
 * sticky buffer, the EVE object, events and hostile input, transaction
 * lifetime (release, close, a side waiting for the other), protocol
 * detection.
 *
 * Bytes are fed the way the app-layer stage does: one http_feed() per
 * reassembled chunk and direction (0 to the server, 1 to the client).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>

#include <cmocka.h>
#include <zlib.h>

#include "app/http.h"
#include "detect/detect_int.h"

/* ===========================================================================
 * Helpers
 * ========================================================================= */

#define T0 1714564800L

static struct http_config cfg;
static struct http_state *st;
static struct app_events ev;       /* events of the last feed */
static struct app_events all_ev;   /* events of every feed since setup */
static struct timeval now = { T0, 0 };

static int setup(void **state)
{
    (void)state;
    cfg.request_body_limit = HTTP_DEFAULT_BODY_LIMIT;
    cfg.response_body_limit = HTTP_DEFAULT_BODY_LIMIT;
    cfg.log_headers = false;
    memset(&all_ev, 0, sizeof all_ev);
    st = http_state_new(&cfg, &now);
    assert_non_null(st);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    http_state_free(st);
    st = NULL;
    return 0;
}

/* Starts over with the current cfg. */
static void restart(void)
{
    http_state_free(st);
    st = http_state_new(&cfg, &now);
    assert_non_null(st);
    memset(&all_ev, 0, sizeof all_ev);
}

static void feed_on(struct http_state *s, int dir, const void *d, size_t n)
{
    memset(&ev, 0, sizeof ev);
    now.tv_usec++;
    http_feed(s, dir, d, (uint32_t)n, &now, &ev);
    for (unsigned i = 0; i < ev.n; i++)
        app_event_add(&all_ev, ev.code[i]);
}

static void feed(int dir, const void *d, size_t n)
{
    feed_on(st, dir, d, n);
}

static void req(const char *s)
{
    feed(0, s, strlen(s));
}

static void res(const char *s)
{
    feed(1, s, strlen(s));
}

static bool has_event(const struct app_events *e, int code)
{
    for (unsigned i = 0; i < e->n; i++)
        if (e->code[i] == code)
            return true;
    return false;
}

static struct http_tx *tx_at(unsigned i)
{
    struct http_tx *tx = http_tx_at(st, i);
    assert_non_null(tx);
    return tx;
}

/* Buffer names for messages, from the same list the detect engine uses. */
static const char *const buf_names[] = {
#define X(id, name, legacy, app) name,
#include "detect/buffers.def"
#undef X
};

static const char *bufname(int buf)
{
    return buf >= 0 && buf < BUF_COUNT ? buf_names[buf] : "?";
}

#define ALL_DONE (HTTP_REQ_HEADERS | HTTP_REQ_DONE | HTTP_RESP_HEADERS | HTTP_RESP_DONE)

/* The buffer is there and holds exactly want (want_len bytes). */
static void expect_bufn(const struct http_tx *tx, int buf, int dir, const void *want,
                        size_t want_len)
{
    const uint8_t *d = NULL;
    uint32_t n = 0;
    if (!http_tx_buffer(tx, buf, dir, &d, &n))
        fail_msg("%s (dir %d) absent", bufname(buf), dir);
    if (n != want_len || memcmp(d, want, n) != 0)
        fail_msg("%s (dir %d): got [%.*s], want [%.*s]", bufname(buf), dir, (int)n,
                 (const char *)d, (int)want_len, (const char *)want);
}

static void expect_buf(const struct http_tx *tx, int buf, int dir, const char *want)
{
    expect_bufn(tx, buf, dir, want, strlen(want));
}

static void expect_no_buf(const struct http_tx *tx, int buf, int dir)
{
    const uint8_t *d;
    uint32_t n;
    if (http_tx_buffer(tx, buf, dir, &d, &n))
        fail_msg("%s (dir %d) present: [%.*s]", bufname(buf), dir, (int)n, (const char *)d);
}

static uint32_t buf_len(const struct http_tx *tx, int buf, int dir)
{
    const uint8_t *d;
    uint32_t n = 0;
    return http_tx_buffer(tx, buf, dir, &d, &n) ? n : 0;
}

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifdef HAVE_ASAN
/* From the ASan runtime (sanitizer/allocator_interface.h, not always installed). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* Bytes allocated by the process now (ASan's count under ASan). */
static size_t heap_in_use(void)
{
#ifdef HAVE_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

/* gzip (window_bits 31) or zlib "deflate" (15) of in. */
static size_t compress_bytes(const void *in, size_t n, uint8_t *out, size_t cap, int window_bits)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = z.total_out;
    deflateEnd(&z);
    return len;
}

static const char GET_REQ[] =
    "GET /index.html?a=1 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: curl/8.0\r\n"
    "Accept: */*\r\n"
    "\r\n";

static const char GET_RESP[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/html\r\n"
    "Content-Length: 13\r\n"
    "\r\n"
    "<html></html>";

/* ===========================================================================
 * A simple exchange
 * ========================================================================= */

static void test_get_and_response_make_one_transaction(void **state)
{
    (void)state;
    req(GET_REQ);
    assert_int_equal(http_tx_count(st), 1);
    struct http_tx *tx = tx_at(0);
    assert_int_equal(http_tx_id(tx), 0);
    assert_int_equal(http_tx_progress(tx), HTTP_REQ_HEADERS | HTTP_REQ_DONE);
    expect_buf(tx, BUF_HTTP_METHOD, 0, "GET");
    expect_buf(tx, BUF_HTTP_URI, 0, "/index.html?a=1");
    expect_no_buf(tx, BUF_HTTP_STAT_CODE, 1);
    expect_no_buf(tx, BUF_HTTP_HEADER, 1); /* response headers not seen yet */

    res(GET_RESP);
    assert_int_equal(http_tx_count(st), 1);
    assert_int_equal(http_tx_progress(tx), ALL_DONE);
    expect_buf(tx, BUF_HTTP_STAT_CODE, 1, "200");
    expect_buf(tx, BUF_HTTP_STAT_MSG, 1, "OK");
    expect_buf(tx, BUF_HTTP_RESPONSE_BODY, 1, "<html></html>");
    expect_buf(tx, BUF_FILE_DATA, 1, "<html></html>");
    expect_buf(tx, BUF_HTTP_HEADER, 1, "Content-Type: text/html\r\nContent-Length: 13\r\n");
    assert_int_equal(http_tx_events(tx)->n, 0);
    assert_int_equal(all_ev.n, 0);
}

/* ===========================================================================
 * Segmentation
 * ========================================================================= */

static const char SPLIT_REQ[] =
    "POST /up/load.php?x=%41 HTTP/1.1\r\n"
    "Host: Split.Example\r\n"
    "User-Agent: split\r\n"
    "Cookie: c=1\r\n"
    "Content-Length: 11\r\n"
    "\r\n"
    "hello world";

static const int split_bufs[] = {
    BUF_HTTP_URI, BUF_HTTP_URI_RAW, BUF_HTTP_METHOD, BUF_HTTP_HOST, BUF_HTTP_HOST_RAW,
    BUF_HTTP_HEADER, BUF_HTTP_HEADER_RAW, BUF_HTTP_HEADER_NAMES, BUF_HTTP_USER_AGENT,
    BUF_HTTP_COOKIE, BUF_HTTP_REQUEST_BODY, BUF_HTTP_CONTENT_LEN, BUF_HTTP_PROTOCOL,
    BUF_HTTP_REQUEST_LINE, BUF_HTTP_START,
};
#define NSPLIT (sizeof split_bufs / sizeof split_bufs[0])

/* Copies of every request buffer of the only transaction of s. */
struct snapshot {
    uint8_t *data[NSPLIT];
    uint32_t len[NSPLIT];
};

static void snapshot_take(struct http_state *s, struct snapshot *snap)
{
    assert_int_equal(http_tx_count(s), 1);
    const struct http_tx *tx = http_tx_at(s, 0);
    assert_int_equal(http_tx_progress(tx), HTTP_REQ_HEADERS | HTTP_REQ_DONE);
    for (size_t i = 0; i < NSPLIT; i++) {
        const uint8_t *d;
        uint32_t n;
        assert_true(http_tx_buffer(tx, split_bufs[i], 0, &d, &n));
        snap->data[i] = malloc(n + 1);
        assert_non_null(snap->data[i]);
        memcpy(snap->data[i], d, n);
        snap->len[i] = n;
    }
}

static void snapshot_free(struct snapshot *snap)
{
    for (size_t i = 0; i < NSPLIT; i++)
        free(snap->data[i]);
}

static void expect_same(struct http_state *s, const struct snapshot *want, size_t cut)
{
    assert_int_equal(http_tx_count(s), 1);
    const struct http_tx *tx = http_tx_at(s, 0);
    assert_int_equal(http_tx_progress(tx), HTTP_REQ_HEADERS | HTTP_REQ_DONE);
    for (size_t i = 0; i < NSPLIT; i++) {
        const uint8_t *d;
        uint32_t n;
        if (!http_tx_buffer(tx, split_bufs[i], 0, &d, &n))
            fail_msg("cut %zu: %s absent", cut, bufname(split_bufs[i]));
        if (n != want->len[i] || memcmp(d, want->data[i], n) != 0)
            fail_msg("cut %zu: %s differs: [%.*s]", cut, bufname(split_bufs[i]), (int)n,
                     (const char *)d);
    }
}

static void test_request_cut_anywhere_gives_the_same_buffers(void **state)
{
    (void)state;
    size_t len = strlen(SPLIT_REQ);
    req(SPLIT_REQ);
    struct snapshot want;
    snapshot_take(st, &want);
    expect_buf(tx_at(0), BUF_HTTP_REQUEST_BODY, 0, "hello world");
    expect_buf(tx_at(0), BUF_HTTP_HOST, 0, "split.example");

    for (size_t cut = 1; cut < len; cut++) {
        struct http_state *s = http_state_new(&cfg, &now);
        assert_non_null(s);
        feed_on(s, 0, SPLIT_REQ, cut);
        feed_on(s, 0, SPLIT_REQ + cut, len - cut);
        expect_same(s, &want, cut);
        http_state_free(s);
    }

    /* and one byte per call */
    struct http_state *s = http_state_new(&cfg, &now);
    assert_non_null(s);
    for (size_t i = 0; i < len; i++)
        feed_on(s, 0, SPLIT_REQ + i, 1);
    expect_same(s, &want, 0);
    http_state_free(s);
    snapshot_free(&want);
    assert_int_equal(all_ev.n, 0);
}

static void test_response_cut_into_bytes_gives_the_same_body(void **state)
{
    (void)state;
    req(GET_REQ);
    for (size_t i = 0; i < strlen(GET_RESP); i++)
        feed(1, GET_RESP + i, 1);
    struct http_tx *tx = tx_at(0);
    assert_int_equal(http_tx_progress(tx), ALL_DONE);
    expect_buf(tx, BUF_FILE_DATA, 1, "<html></html>");
    expect_buf(tx, BUF_HTTP_RESPONSE_LINE, 1, "HTTP/1.1 200 OK");
    expect_buf(tx, BUF_HTTP_HEADER_RAW, 1,
               "Content-Type: text/html\r\nContent-Length: 13\r\n\r\n");
}

/* ===========================================================================
 * Pipelining
 * ========================================================================= */

static void test_pipelined_requests_pair_with_their_responses(void **state)
{
    (void)state;
    req("GET /one HTTP/1.1\r\nHost: p\r\n\r\n"
        "GET /two HTTP/1.1\r\nHost: p\r\n\r\n"
        "HEAD /three HTTP/1.1\r\nHost: p\r\n\r\n");
    assert_int_equal(http_tx_count(st), 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(http_tx_id(tx_at(i)), i);
        assert_int_equal(http_tx_progress(tx_at(i)), HTTP_REQ_HEADERS | HTTP_REQ_DONE);
    }
    res("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
        "HTTP/1.1 404 Not Found\r\nContent-Length: 6\r\n\r\nsecond"
        "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"); /* HEAD: no body */
    assert_int_equal(http_tx_count(st), 3);
    static const char *const uri[] = { "/one", "/two", "/three" };
    static const char *const code[] = { "200", "404", "200" };
    for (unsigned i = 0; i < 3; i++) {
        struct http_tx *tx = tx_at(i);
        assert_int_equal(http_tx_progress(tx), ALL_DONE);
        expect_buf(tx, BUF_HTTP_URI, 0, uri[i]);
        expect_buf(tx, BUF_HTTP_STAT_CODE, 1, code[i]);
    }
    expect_buf(tx_at(0), BUF_FILE_DATA, 1, "first");
    expect_buf(tx_at(1), BUF_FILE_DATA, 1, "second");
    expect_no_buf(tx_at(2), BUF_FILE_DATA, 1);
    expect_buf(tx_at(2), BUF_HTTP_CONTENT_LEN, 1, "1000");
    assert_int_equal(all_ev.n, 0);
}

/* ===========================================================================
 * Bodies
 * ========================================================================= */

static void test_chunked_request_body_is_dechunked(void **state)
{
    (void)state;
    req("POST /submit HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n"
        "4\r\nWiki\r\n");
    struct http_tx *tx = tx_at(0);
    assert_int_equal(http_tx_progress(tx), HTTP_REQ_HEADERS);
    req("5;ext=1\r\npedia\r\n"
        "e\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n");
    assert_int_equal(http_tx_progress(tx), HTTP_REQ_HEADERS | HTTP_REQ_DONE);
    expect_buf(tx, BUF_HTTP_REQUEST_BODY, 0, "Wikipedia in\r\n\r\nchunks.");
    assert_int_equal(all_ev.n, 0);
}

static void test_gzip_response_is_decompressed(void **state)
{
    (void)state;
    char text[4096];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "caracal inspects decompressed bodies\n"[i % 37];
    uint8_t gz[8192];
    size_t gzlen = compress_bytes(text, sizeof text, gz, sizeof gz, 31);
    assert_true(gzlen < sizeof text / 4);

    req(GET_REQ);
    char head[128];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
                      gzlen);
    feed(1, head, (size_t)hl);
    feed(1, gz, gzlen / 2); /* the body over two segments */
    feed(1, gz + gzlen / 2, gzlen - gzlen / 2);
    struct http_tx *tx = tx_at(0);
    assert_int_equal(http_tx_progress(tx), ALL_DONE);
    expect_bufn(tx, BUF_FILE_DATA, 1, text, sizeof text);
    expect_bufn(tx, BUF_HTTP_RESPONSE_BODY, 1, text, sizeof text);
    /* EVE length is the body as it went over the wire */
    json_t *o = http_tx_eve(st, tx);
    assert_int_equal(json_integer_value(json_object_get(o, "length")), (json_int_t)gzlen);
    json_decref(o);
    assert_int_equal(all_ev.n, 0);
}

static void test_deflate_chunked_response_is_decompressed(void **state)
{
    (void)state;
    static const char text[] = "deflate, then chunked, then decompressed";
    uint8_t z[256];
    size_t zlen = compress_bytes(text, strlen(text), z, sizeof z, 15);
    req(GET_REQ);
    char head[160];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n%zx\r\n", zlen);
    feed(1, head, (size_t)hl);
    feed(1, z, zlen);
    res("\r\n0\r\n\r\n");
    assert_int_equal(http_tx_progress(tx_at(0)), ALL_DONE);
    expect_buf(tx_at(0), BUF_FILE_DATA, 1, text);
}

static void test_gzip_request_body_is_decompressed(void **state)
{
    (void)state;
    static const char text[] = "user=admin&password=hunter2&action=upload";
    uint8_t gz[256];
    size_t gzlen = compress_bytes(text, strlen(text), gz, sizeof gz, 31);
    char head[160];
    int hl = snprintf(head, sizeof head,
                      "POST /form HTTP/1.1\r\nHost: g\r\nContent-Encoding: gzip\r\n"
                      "Content-Length: %zu\r\n\r\n", gzlen);
    feed(0, head, (size_t)hl);
    feed(0, gz, gzlen);
    assert_int_equal(http_tx_progress(tx_at(0)), HTTP_REQ_HEADERS | HTTP_REQ_DONE);
    expect_buf(tx_at(0), BUF_HTTP_REQUEST_BODY, 0, text);
}

static void test_corrupt_gzip_raises_an_event_without_crashing(void **state)
{
    (void)state;
    req(GET_REQ);
    res("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 24\r\n\r\n");
    static const uint8_t bad[24] = "\x1f\x8b\x08\x00garbage-not-deflate!";
    feed(1, bad, sizeof bad);
    struct http_tx *tx = tx_at(0);
    assert_int_equal(http_tx_progress(tx), ALL_DONE);
    assert_true(has_event(http_tx_events(tx), HTTP_EV_GZIP_DECOMPRESSION_FAILED));
    assert_true(has_event(&all_ev, HTTP_EV_GZIP_DECOMPRESSION_FAILED));
}

static void test_body_limits_truncate_the_buffers(void **state)
{
    (void)state;
    cfg.request_body_limit = 10;
    cfg.response_body_limit = 8;
    restart();
    char body[101];
    memset(body, 'b', 100);
    body[100] = '\0';
    memcpy(body, "0123456789", 10);
    char msg[256];
    snprintf(msg, sizeof msg, "POST / HTTP/1.1\r\nHost: l\r\nContent-Length: 100\r\n\r\n%s", body);
    req(msg);
    res("HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\n");
    res("abcdefghijklmnopqrstuvwxyz");
    struct http_tx *tx = tx_at(0);
    assert_int_equal(http_tx_progress(tx), ALL_DONE);
    expect_buf(tx, BUF_HTTP_REQUEST_BODY, 0, "0123456789");
    expect_buf(tx, BUF_HTTP_RESPONSE_BODY, 1, "abcdefgh");
    expect_buf(tx, BUF_FILE_DATA, 1, "abcdefgh");
    json_t *o = http_tx_eve(st, tx);
    assert_int_equal(json_integer_value(json_object_get(o, "length")), 26);
    json_decref(o);
}

/* ===========================================================================
 * Every buffer
 * ========================================================================= */

static const char RICH_REQ_HEAD[] =
    "Host: WWW.Example.ORG:8080\r\n"
    "User-Agent: caracal-test/1.0\r\n"
    "Cookie: sid=abc\r\n"
    "Referer: http://ref.example/\r\n"
    "Accept: text/html\r\n"
    "Accept-Encoding: gzip\r\n"
    "Accept-Language: en\r\n"
    "Connection: keep-alive\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 7\r\n"
    "X-Forwarded-For: 192.0.2.1\r\n"
    "\r\n";
static const char RICH_REQ_LINE[] = "POST /A/./b//c%2Fd?q=%41%42&x=1 HTTP/1.1";
static const char RICH_RESP_HEAD[] =
    "Server: test-httpd\r\n"
    "Location: /elsewhere\r\n"
    "Set-Cookie: t=1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Connection: close\r\n"
    "Content-Length: 5\r\n"
    "\r\n";

static void rich_exchange(void)
{
    char r[1024];
    snprintf(r, sizeof r, "%s\r\n%sa=1&b=2", RICH_REQ_LINE, RICH_REQ_HEAD);
    req(r);
    snprintf(r, sizeof r, "HTTP/1.1 302 Found\r\n%shello", RICH_RESP_HEAD);
    res(r);
    assert_int_equal(http_tx_count(st), 1);
    assert_int_equal(http_tx_progress(tx_at(0)), ALL_DONE);
}

static void test_every_buffer_of_a_transaction(void **state)
{
    (void)state;
    rich_exchange();
    struct http_tx *tx = tx_at(0);
    char want[1024];

    expect_buf(tx, BUF_HTTP_URI, 0, "/A/b/c/d?q=AB&x=1"); /* case kept */
    expect_buf(tx, BUF_HTTP_URI_RAW, 0, "/A/./b//c%2Fd?q=%41%42&x=1");
    expect_buf(tx, BUF_HTTP_METHOD, 0, "POST");
    expect_buf(tx, BUF_HTTP_HOST, 0, "www.example.org");
    expect_buf(tx, BUF_HTTP_HOST_RAW, 0, "WWW.Example.ORG:8080");
    expect_buf(tx, BUF_HTTP_HEADER, 0,
               "Host: WWW.Example.ORG:8080\r\n"
               "User-Agent: caracal-test/1.0\r\n"
               "Referer: http://ref.example/\r\n"
               "Accept: text/html\r\n"
               "Accept-Encoding: gzip\r\n"
               "Accept-Language: en\r\n"
               "Connection: keep-alive\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\n"
               "Content-Length: 7\r\n"
               "X-Forwarded-For: 192.0.2.1\r\n");
    expect_buf(tx, BUF_HTTP_HEADER, 1,
               "Server: test-httpd\r\n"
               "Location: /elsewhere\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n"
               "Connection: close\r\n"
               "Content-Length: 5\r\n");
    expect_buf(tx, BUF_HTTP_HEADER_RAW, 0, RICH_REQ_HEAD);
    expect_buf(tx, BUF_HTTP_HEADER_RAW, 1, RICH_RESP_HEAD);
    expect_buf(tx, BUF_HTTP_HEADER_NAMES, 0,
               "\r\nHost\r\nUser-Agent\r\nCookie\r\nReferer\r\nAccept\r\nAccept-Encoding\r\n"
               "Accept-Language\r\nConnection\r\nContent-Type\r\nContent-Length\r\n"
               "X-Forwarded-For\r\n\r\n");
    expect_buf(tx, BUF_HTTP_HEADER_NAMES, 1,
               "\r\nServer\r\nLocation\r\nSet-Cookie\r\nContent-Type\r\nConnection\r\n"
               "Content-Length\r\n\r\n");
    expect_buf(tx, BUF_HTTP_USER_AGENT, 0, "caracal-test/1.0");
    expect_buf(tx, BUF_HTTP_COOKIE, 0, "sid=abc");
    expect_buf(tx, BUF_HTTP_COOKIE, 1, "t=1");
    expect_buf(tx, BUF_HTTP_REQUEST_BODY, 0, "a=1&b=2");
    expect_buf(tx, BUF_HTTP_RESPONSE_BODY, 1, "hello");
    expect_buf(tx, BUF_FILE_DATA, 1, "hello");
    expect_buf(tx, BUF_HTTP_STAT_CODE, 1, "302");
    expect_buf(tx, BUF_HTTP_STAT_MSG, 1, "Found");
    expect_buf(tx, BUF_HTTP_CONTENT_TYPE, 0, "application/x-www-form-urlencoded");
    expect_buf(tx, BUF_HTTP_CONTENT_TYPE, 1, "text/plain; charset=utf-8");
    expect_buf(tx, BUF_HTTP_CONTENT_LEN, 0, "7");
    expect_buf(tx, BUF_HTTP_CONTENT_LEN, 1, "5");
    expect_buf(tx, BUF_HTTP_PROTOCOL, 0, "HTTP/1.1");
    expect_buf(tx, BUF_HTTP_PROTOCOL, 1, "HTTP/1.1");
    expect_buf(tx, BUF_HTTP_REQUEST_LINE, 0, RICH_REQ_LINE);
    expect_buf(tx, BUF_HTTP_RESPONSE_LINE, 1, "HTTP/1.1 302 Found");
    snprintf(want, sizeof want, "%s\r\n%s", RICH_REQ_LINE, RICH_REQ_HEAD);
    expect_buf(tx, BUF_HTTP_START, 0, want);
    snprintf(want, sizeof want, "HTTP/1.1 302 Found\r\n%s", RICH_RESP_HEAD);
    expect_buf(tx, BUF_HTTP_START, 1, want);
    expect_buf(tx, BUF_HTTP_REFERER, 0, "http://ref.example/");
    expect_buf(tx, BUF_HTTP_ACCEPT, 0, "text/html");
    expect_buf(tx, BUF_HTTP_ACCEPT_ENC, 0, "gzip");
    expect_buf(tx, BUF_HTTP_ACCEPT_LANG, 0, "en");
    expect_buf(tx, BUF_HTTP_CONNECTION, 0, "keep-alive");
    expect_buf(tx, BUF_HTTP_CONNECTION, 1, "close");
    expect_buf(tx, BUF_HTTP_LOCATION, 1, "/elsewhere");
    expect_buf(tx, BUF_HTTP_SERVER, 1, "test-httpd");

    /* a second call returns the cached buffer */
    const uint8_t *a, *b;
    uint32_t na, nb;
    assert_true(http_tx_buffer(tx, BUF_HTTP_HEADER, 0, &a, &na));
    assert_true(http_tx_buffer(tx, BUF_HTTP_HEADER, 0, &b, &nb));
    assert_ptr_equal(a, b);
    assert_int_equal(na, nb);

    /* not HTTP buffers, bad direction */
    expect_no_buf(tx, BUF_DNS_QUERY, 0);
    expect_no_buf(tx, BUF_PAYLOAD, 0);
    expect_no_buf(tx, BUF_HTTP_METHOD, 2);
    expect_no_buf(tx, -1, 0);
    assert_int_equal(all_ev.n, 0);
}

static void test_absent_headers_are_absent_buffers(void **state)
{
    (void)state;
    req("GET / HTTP/1.0\r\n\r\n");
    res("HTTP/1.0 204 No Content\r\n\r\n");
    struct http_tx *tx = tx_at(0);
    assert_int_equal(http_tx_progress(tx), ALL_DONE);
    static const int absent[] = {
        BUF_HTTP_HOST, BUF_HTTP_HOST_RAW, BUF_HTTP_USER_AGENT, BUF_HTTP_COOKIE,
        BUF_HTTP_REQUEST_BODY, BUF_HTTP_RESPONSE_BODY, BUF_FILE_DATA, BUF_HTTP_CONTENT_TYPE,
        BUF_HTTP_CONTENT_LEN, BUF_HTTP_REFERER, BUF_HTTP_ACCEPT, BUF_HTTP_ACCEPT_ENC,
        BUF_HTTP_ACCEPT_LANG, BUF_HTTP_CONNECTION, BUF_HTTP_LOCATION, BUF_HTTP_SERVER,
        BUF_HTTP_HEADER,
    };
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        expect_no_buf(tx, absent[i], 0);
        expect_no_buf(tx, absent[i], 1);
    }
    expect_buf(tx, BUF_HTTP_HEADER_RAW, 0, "\r\n"); /* the empty line ending the block */
    expect_buf(tx, BUF_HTTP_HEADER_RAW, 1, "\r\n");
    expect_buf(tx, BUF_HTTP_HEADER_NAMES, 0, "\r\n\r\n");
    expect_buf(tx, BUF_HTTP_START, 0, "GET / HTTP/1.0\r\n\r\n");
    expect_buf(tx, BUF_HTTP_STAT_CODE, 1, "204");
    /* HTTP/1.0 needs no Host */
    assert_false(has_event(&all_ev, HTTP_EV_MISSING_HOST_HEADER));
}

/* ===========================================================================
 * EVE
 * ========================================================================= */

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    return json_string_value(v);
}

static void test_eve_object_has_suricata_fields(void **state)
{
    (void)state;
    rich_exchange();
    json_t *o = http_tx_eve(st, tx_at(0));
    assert_true(json_is_object(o));
    assert_string_equal(jstr(o, "hostname"), "WWW.Example.ORG");
    assert_int_equal(json_integer_value(json_object_get(o, "http_port")), 8080);
    assert_string_equal(jstr(o, "url"), "/A/./b//c%2Fd?q=%41%42&x=1");
    assert_string_equal(jstr(o, "http_user_agent"), "caracal-test/1.0");
    assert_string_equal(jstr(o, "xff"), "192.0.2.1");
    assert_string_equal(jstr(o, "http_content_type"), "text/plain");
    assert_string_equal(jstr(o, "http_refer"), "http://ref.example/");
    assert_string_equal(jstr(o, "http_method"), "POST");
    assert_string_equal(jstr(o, "protocol"), "HTTP/1.1");
    assert_int_equal(json_integer_value(json_object_get(o, "status")), 302);
    assert_null(json_object_get(o, "status_string"));
    assert_string_equal(jstr(o, "redirect"), "/elsewhere");
    assert_int_equal(json_integer_value(json_object_get(o, "length")), 5);
    assert_null(json_object_get(o, "request_headers"));
    assert_null(json_object_get(o, "response_headers"));
    json_decref(o);
}

static void test_eve_headers_when_configured(void **state)
{
    (void)state;
    cfg.log_headers = true;
    restart();
    rich_exchange();
    json_t *o = http_tx_eve(st, tx_at(0));
    const json_t *rq = json_object_get(o, "request_headers");
    const json_t *rs = json_object_get(o, "response_headers");
    assert_true(json_is_array(rq));
    assert_true(json_is_array(rs));
    assert_int_equal(json_array_size(rq), 11);
    assert_int_equal(json_array_size(rs), 6);
    assert_string_equal(jstr(json_array_get(rq, 0), "name"), "Host");
    assert_string_equal(jstr(json_array_get(rq, 0), "value"), "WWW.Example.ORG:8080");
    assert_string_equal(jstr(json_array_get(rq, 2), "name"), "Cookie");
    assert_string_equal(jstr(json_array_get(rs, 2), "name"), "Set-Cookie");
    assert_string_equal(jstr(json_array_get(rs, 2), "value"), "t=1");
    json_decref(o);
}

static void test_eve_without_port_response_or_valid_utf8(void **state)
{
    (void)state;
    req("GET /caf\xe9 HTTP/1.1\r\nHost: plain.example\r\n\r\n");
    json_t *o = http_tx_eve(st, tx_at(0));
    assert_null(json_object_get(o, "http_port"));
    assert_null(json_object_get(o, "status"));
    assert_null(json_object_get(o, "http_content_type"));
    assert_string_equal(jstr(o, "url"), "/caf\\xe9"); /* not UTF-8: escaped */
    assert_int_equal(json_integer_value(json_object_get(o, "length")), 0);
    json_decref(o);

    res("HTTP/1.1 2XX Odd\r\nContent-Length: 0\r\n\r\n");
    o = http_tx_eve(st, tx_at(0));
    assert_null(json_object_get(o, "status"));
    assert_string_equal(jstr(o, "status_string"), "2XX");
    json_decref(o);
}

/* ===========================================================================
 * Events and hostile input
 * ========================================================================= */

static void test_event_names_match_the_enum(void **state)
{
    (void)state;
    assert_string_equal(http_event_name(HTTP_EV_REQUEST_FIELD_TOO_LONG), "request_field_too_long");
    assert_string_equal(http_event_name(HTTP_EV_MISSING_HOST_HEADER), "missing_host_header");
    assert_string_equal(http_event_name(HTTP_EV_100_CONTINUE_ALREADY_SEEN),
                        "100_continue_already_seen");
    assert_string_equal(http_event_name(HTTP_EV_INVALID_REQUEST_CHUNK_LEN),
                        "invalid_request_chunk_len");
    assert_string_equal(http_event_name(HTTP_EV_TOO_MANY_ENCODING_LAYERS),
                        "too_many_encoding_layers");
    assert_string_equal(http_event_name(HTTP_EV_UNKNOWN_ERROR), "unknown_error");
    assert_string_equal(http_event_name(HTTP_EV_COUNT), "unknown");
    assert_string_equal(http_event_name(-1), "unknown");
    for (int i = 0; i < HTTP_EV_COUNT; i++) {
        const char *n = http_event_name(i);
        assert_non_null(n);
        for (const char *p = n; *p; p++)
            assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
        for (int j = 0; j < i; j++)
            assert_string_not_equal(n, http_event_name(j));
    }
}

static void test_huge_header_line_is_an_event_not_memory(void **state)
{
    (void)state;
    req("GET / HTTP/1.1\r\nHost: big\r\nX-Big: ");
    char chunk[1460];
    memset(chunk, 'A', sizeof chunk);
    for (size_t sent = 0; sent < 100 * 1024; sent += sizeof chunk)
        feed(0, chunk, sizeof chunk);
    req("\r\n\r\nGET /next HTTP/1.1\r\nHost: big\r\n\r\n");
    assert_true(has_event(&all_ev, HTTP_EV_REQUEST_FIELD_TOO_LONG));
    assert_int_equal(http_tx_count(st), 1); /* parsing stopped */
    struct http_tx *tx = tx_at(0);
    assert_true(has_event(http_tx_events(tx), HTTP_EV_REQUEST_FIELD_TOO_LONG));
    /* what was seen is final: the transaction can be inspected and logged */
    assert_int_equal(http_tx_progress(tx), ALL_DONE);
    uint32_t raw = buf_len(tx, BUF_HTTP_HEADER_RAW, 0);
    assert_true(raw > 0 && raw <= 64 * 1024);
    expect_buf(tx, BUF_HTTP_METHOD, 0, "GET");
    res(GET_RESP); /* ignored */
    expect_no_buf(tx, BUF_HTTP_STAT_CODE, 1);
}

static void test_huge_response_header_line_is_an_event(void **state)
{
    (void)state;
    req(GET_REQ);
    res("HTTP/1.1 200 OK\r\nX-Big: ");
    char chunk[4096];
    memset(chunk, 'B', sizeof chunk);
    for (int i = 0; i < 8; i++)
        feed(1, chunk, sizeof chunk);
    assert_true(has_event(&all_ev, HTTP_EV_RESPONSE_FIELD_TOO_LONG));
    assert_true(has_event(http_tx_events(tx_at(0)), HTTP_EV_RESPONSE_FIELD_TOO_LONG));
}

static void test_broken_request_chunk_length_is_an_event(void **state)
{
    (void)state;
    req("POST /c HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
    assert_true(has_event(&ev, HTTP_EV_INVALID_REQUEST_CHUNK_LEN));
    assert_true(has_event(http_tx_events(tx_at(0)), HTTP_EV_INVALID_REQUEST_CHUNK_LEN));
    assert_int_equal(http_tx_progress(tx_at(0)), ALL_DONE);
}

static void test_broken_response_chunk_length_is_an_event(void **state)
{
    (void)state;
    req(GET_REQ);
    res("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnot-a-chunk-length\r\n");
    assert_true(has_event(&all_ev, HTTP_EV_INVALID_RESPONSE_CHUNK_LEN));
    assert_true(has_event(http_tx_events(tx_at(0)), HTTP_EV_INVALID_RESPONSE_CHUNK_LEN));
}

static void test_missing_host_is_an_event(void **state)
{
    (void)state;
    req("GET /nohost HTTP/1.1\r\nUser-Agent: x\r\n\r\n");
    assert_true(has_event(&ev, HTTP_EV_MISSING_HOST_HEADER));
    assert_true(has_event(http_tx_events(tx_at(0)), HTTP_EV_MISSING_HOST_HEADER));
    /* once per transaction */
    res(GET_RESP);
    assert_false(has_event(&ev, HTTP_EV_MISSING_HOST_HEADER));
    assert_int_equal(http_tx_events(tx_at(0))->n, 1);
}

static void test_malformed_requests_raise_their_events(void **state)
{
    (void)state;
    req("  GET /ws HTTP/1.1\r\nHost: e\r\n\r\n");
    assert_true(has_event(http_tx_events(tx_at(0)), HTTP_EV_REQUEST_LINE_LEADING_WHITESPACE));
    req("GET /colon HTTP/1.1\r\nHost: e\r\nNoColonHere\r\n\r\n");
    assert_true(has_event(http_tx_events(tx_at(1)), HTTP_EV_REQUEST_FIELD_MISSING_COLON));
    assert_true(has_event(http_tx_events(tx_at(1)), HTTP_EV_REQUEST_HEADER_INVALID));
    req("GET /fold HTTP/1.1\r\n folded-first\r\nHost: e\r\n\r\n");
    assert_true(has_event(http_tx_events(tx_at(2)), HTTP_EV_INVALID_REQUEST_FIELD_FOLDING));
    req("GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n");
    assert_true(has_event(http_tx_events(tx_at(3)), HTTP_EV_HOST_HEADER_AMBIGUOUS));
    req("GET / HTTP/1.1\r\nHost: e:99999\r\n\r\n");
    assert_true(has_event(http_tx_events(tx_at(4)), HTTP_EV_INVALID_SERVER_PORT_IN_REQUEST));
    req("POST / HTTP/1.1\r\nHost: e\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx");
    assert_true(has_event(http_tx_events(tx_at(5)),
                          HTTP_EV_DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST));
    /* events of one transaction stay with it */
    assert_false(has_event(http_tx_events(tx_at(0)), HTTP_EV_REQUEST_FIELD_MISSING_COLON));
    assert_int_equal(http_tx_count(st), 6);
}

static void test_invalid_connect_authority_port_is_an_event(void **state)
{
    (void)state;
    req("CONNECT proxy.example:bad HTTP/1.1\r\nHost: proxy.example\r\n\r\n");
    assert_true(has_event(http_tx_events(tx_at(0)), HTTP_EV_INVALID_AUTHORITY_PORT));
}

static void test_invalid_transfer_encoding_stops_parsing_with_an_event(void **state)
{
    (void)state;
    req("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, identity\r\n\r\nbody");
    assert_true(has_event(&ev, HTTP_EV_INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST));
    assert_int_equal(http_tx_progress(tx_at(0)), ALL_DONE);
}

static void test_interim_responses(void **state)
{
    (void)state;
    req("POST /up HTTP/1.1\r\nHost: c\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    res("HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n");
    req("hi");
    res("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    struct http_tx *tx = tx_at(0);
    assert_int_equal(http_tx_progress(tx), ALL_DONE);
    expect_buf(tx, BUF_HTTP_STAT_CODE, 1, "201");
    expect_buf(tx, BUF_HTTP_HEADER_RAW, 1, "Content-Length: 0\r\n\r\n");
    expect_buf(tx, BUF_HTTP_REQUEST_BODY, 0, "hi");
    assert_int_equal(all_ev.n, 0);

    /* interim and final response in one segment */
    req("POST /one HTTP/1.1\r\nHost: c\r\nContent-Length: 0\r\n\r\n");
    res("HTTP/1.1 100 Continue\r\nX-Interim: 2\r\n\r\n"
        "HTTP/1.1 200 OK\r\nX-Final: 1\r\nContent-Length: 0\r\n\r\n");
    tx = tx_at(1);
    assert_int_equal(http_tx_progress(tx), ALL_DONE);
    expect_buf(tx, BUF_HTTP_HEADER_RAW, 1, "X-Final: 1\r\nContent-Length: 0\r\n\r\n");
    expect_buf(tx, BUF_HTTP_START, 1,
               "HTTP/1.1 200 OK\r\nX-Final: 1\r\nContent-Length: 0\r\n\r\n");
    expect_buf(tx, BUF_HTTP_HEADER, 1, "X-Final: 1\r\nContent-Length: 0\r\n");
    assert_int_equal(all_ev.n, 0);

    req("POST /again HTTP/1.1\r\nHost: c\r\nContent-Length: 0\r\n\r\n");
    res("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n");
    assert_true(has_event(&all_ev, HTTP_EV_100_CONTINUE_ALREADY_SEEN));
    assert_true(has_event(http_tx_events(tx_at(2)), HTTP_EV_100_CONTINUE_ALREADY_SEEN));
}

static void test_response_without_request_is_an_event(void **state)
{
    (void)state;
    res("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    assert_int_equal(http_tx_count(st), 1);
    struct http_tx *tx = tx_at(0);
    assert_true(has_event(http_tx_events(tx), HTTP_EV_UNABLE_TO_MATCH_RESPONSE_TO_REQUEST));
    assert_true(has_event(&ev, HTTP_EV_UNABLE_TO_MATCH_RESPONSE_TO_REQUEST));
    assert_true(http_tx_progress(tx) & HTTP_RESP_DONE);
    expect_buf(tx, BUF_FILE_DATA, 1, "hi");
    /* the next request starts a transaction of its own */
    req("GET /later HTTP/1.1\r\nHost: u\r\n\r\n");
    assert_int_equal(http_tx_count(st), 2);
    assert_true(http_tx_progress(tx) & HTTP_REQ_DONE);
    expect_buf(tx_at(1), BUF_HTTP_URI, 0, "/later");
    assert_false(has_event(http_tx_events(tx_at(1)), HTTP_EV_UNABLE_TO_MATCH_RESPONSE_TO_REQUEST));
}

static uint32_t rng_state = 0x12345678u;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void inspect_everything(struct http_state *s)
{
    for (unsigned i = 0; i < http_tx_count(s); i++) {
        const struct http_tx *tx = http_tx_at(s, i);
        for (int b = 0; b < BUF_COUNT; b++) {
            for (int d = 0; d < 2; d++) {
                const uint8_t *p;
                uint32_t n;
                if (http_tx_buffer(tx, b, d, &p, &n) && n > 0)
                    assert_non_null(p);
            }
        }
        json_t *o = http_tx_eve(s, tx);
        assert_true(json_is_object(o));
        char *text = json_dumps(o, 0);
        assert_non_null(text); /* always serializable */
        free(text);
        json_decref(o);
    }
}

static void test_garbage_does_not_crash(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "GET ", "HTTP/1.1 ", "\r\n", "\n", ": ", "Content-Length: 5\r\n",
        "Transfer-Encoding: chunked\r\n", "Host: x\r\n", "\r\n\r\n", "0\r\n", "ffffffff\r\n",
        "Content-Encoding: gzip\r\n", "\x1f\x8b", "\0", " ", "CONNECT a:1 HTTP/1.0\r\n\r\n",
        "HTTP/1.1 200 OK\r\n", "HTTP/1.1 100 Continue\r\n\r\n", "%u0041%%2f", "\xff\xfe",
    };
    uint8_t seg[512];
    for (int conn = 0; conn < 40; conn++) {
        struct http_state *s = http_state_new(&cfg, &now);
        assert_non_null(s);
        for (int k = 0; k < 40; k++) {
            size_t n = 0;
            while (n < sizeof seg - 64) {
                if (rng() % 3 == 0) {
                    seg[n++] = (uint8_t)rng();
                } else {
                    const char *p = pieces[rng() % (sizeof pieces / sizeof pieces[0])];
                    size_t l = strlen(p) ? strlen(p) : 1;
                    memcpy(seg + n, p, l);
                    n += l;
                }
                if (rng() % 16 == 0)
                    break;
            }
            feed_on(s, (int)(rng() % 2), seg, n);
            if (rng() % 8 == 0)
                http_tx_release(s, http_tx_count(s) / 2);
        }
        inspect_everything(s);
        http_close(s, &now);
        inspect_everything(s);
        for (unsigned i = 0; i < http_tx_count(s); i++)
            assert_int_equal(http_tx_progress(http_tx_at(s, i)), ALL_DONE);
        http_state_free(s);
    }
    /* random bytes alone are not HTTP: libhtp's complaints are events, not crashes */
    assert_true(all_ev.n > 0);
}

/* A long keep-alive connection whose every request makes libhtp complain:
 * with transactions released as they are done, memory stays flat (libhtp's
 * log entries do not pile up). */
static void test_long_connection_keeps_memory_flat(void **state)
{
    (void)state;
    static const char rq[] = " GET /w HTTP/1.1\r\nHost: w\r\nBad Header\r\n: x\r\n\r\n";
    static const char rs[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    size_t base = 0;
    for (int i = 0; i < 6000; i++) {
        req(rq);
        res(rs);
        assert_int_equal(http_tx_count(st), 1);
        assert_int_equal(http_tx_progress(tx_at(0)), ALL_DONE);
        assert_true(http_tx_events(tx_at(0))->n >= 2);
        http_tx_release(st, 1);
        if (i == 999)
            base = heap_in_use();
    }
    size_t end = heap_in_use();
    if (end > base && end - base > 256 * 1024)
        fail_msg("%zu bytes more after 5000 more transactions", end - base);
}

static void test_too_many_headers_stop_parsing(void **state)
{
    (void)state;
    req("GET / HTTP/1.1\r\nHost: h\r\n");
    char line[32];
    for (int i = 0; i < 1100 && !has_event(&all_ev, HTTP_EV_UNKNOWN_ERROR); i++) {
        int n = snprintf(line, sizeof line, "X-%d: v\r\n", i);
        feed(0, line, (size_t)n);
    }
    assert_true(has_event(&all_ev, HTTP_EV_UNKNOWN_ERROR));
    assert_int_equal(http_tx_count(st), 1);
    assert_int_equal(http_tx_progress(tx_at(0)), ALL_DONE);
}

static void test_too_many_transactions_stop_parsing(void **state)
{
    (void)state;
    static const char one[] = "GET / HTTP/1.1\r\nHost: m\r\n\r\n";
    char *many = malloc(600 * (sizeof one - 1));
    assert_non_null(many);
    for (int i = 0; i < 600; i++)
        memcpy(many + i * (sizeof one - 1), one, sizeof one - 1);
    feed(0, many, 600 * (sizeof one - 1));
    free(many);
    assert_true(http_tx_count(st) <= 513);
    assert_true(http_tx_count(st) >= 512);
    assert_true(has_event(&ev, HTTP_EV_UNKNOWN_ERROR));
}

/* ===========================================================================
 * Transaction lifetime
 * ========================================================================= */

static void test_release_frees_the_oldest_transactions(void **state)
{
    (void)state;
    req("GET /0 HTTP/1.1\r\nHost: r\r\n\r\nGET /1 HTTP/1.1\r\nHost: r\r\n\r\n"
        "GET /2 HTTP/1.1\r\nHost: r\r\n\r\n");
    res("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(http_tx_count(st), 3);
    http_tx_release(st, 2);
    assert_int_equal(http_tx_count(st), 1);
    assert_int_equal(http_tx_id(tx_at(0)), 2);
    expect_buf(tx_at(0), BUF_HTTP_URI, 0, "/2");
    /* the third response still pairs with the third request */
    res("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nend");
    expect_buf(tx_at(0), BUF_FILE_DATA, 1, "end");
    req("GET /3 HTTP/1.1\r\nHost: r\r\n\r\n");
    assert_int_equal(http_tx_count(st), 2);
    assert_int_equal(http_tx_id(tx_at(1)), 3);
    http_tx_release(st, 99); /* more than held: all */
    assert_int_equal(http_tx_count(st), 0);
    assert_null(http_tx_at(st, 0));
    assert_int_equal(all_ev.n, 0);
}

static void test_released_transaction_can_still_get_its_response(void **state)
{
    (void)state;
    req("GET /early HTTP/1.1\r\nHost: r\r\n\r\n");
    http_tx_release(st, 1); /* before its response: libhtp keeps it */
    assert_int_equal(http_tx_count(st), 0);
    res("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate");
    assert_int_equal(http_tx_count(st), 0); /* no new transaction for it */
    assert_false(has_event(&all_ev, HTTP_EV_UNABLE_TO_MATCH_RESPONSE_TO_REQUEST));
    req("GET /next HTTP/1.1\r\nHost: r\r\n\r\n");
    assert_int_equal(http_tx_count(st), 1);
    assert_int_equal(http_tx_id(tx_at(0)), 1);
}

static void test_close_completes_a_body_read_to_the_end(void **state)
{
    (void)state;
    req(GET_REQ);
    res("HTTP/1.0 200 OK\r\n\r\nuntil the connection ");
    res("closes");
    struct http_tx *tx = tx_at(0);
    assert_int_equal(http_tx_progress(tx), HTTP_REQ_HEADERS | HTTP_REQ_DONE | HTTP_RESP_HEADERS);
    http_close(st, &now);
    assert_int_equal(http_tx_progress(tx), ALL_DONE);
    expect_buf(tx, BUF_FILE_DATA, 1, "until the connection closes");
    http_close(st, &now); /* twice is harmless */
    req(GET_REQ);         /* after close: ignored */
    assert_int_equal(http_tx_count(st), 1);
}

static void test_close_completes_a_request_without_response(void **state)
{
    (void)state;
    req("POST /partial HTTP/1.1\r\nHost: c\r\nContent-Length: 100\r\n\r\nonly part");
    assert_int_equal(http_tx_progress(tx_at(0)), HTTP_REQ_HEADERS);
    http_close(st, &now);
    assert_int_equal(http_tx_progress(tx_at(0)), ALL_DONE);
    expect_buf(tx_at(0), BUF_HTTP_REQUEST_BODY, 0, "only part");
    expect_no_buf(tx_at(0), BUF_HTTP_STAT_CODE, 1);
}

static void test_request_waits_for_the_response_to_a_refused_connect(void **state)
{
    (void)state;
    /* libhtp cannot go on past a CONNECT before its answer: the bytes after
     * it are held and fed again once the response is there */
    req("CONNECT tunnel.example:443 HTTP/1.1\r\nHost: tunnel.example:443\r\n\r\n"
        "GET /after HTTP/1.1\r\nHost: b\r\n\r\n");
    assert_int_equal(http_tx_count(st), 1);
    res("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(http_tx_count(st), 2);
    expect_buf(tx_at(0), BUF_HTTP_METHOD, 0, "CONNECT");
    expect_buf(tx_at(0), BUF_HTTP_STAT_CODE, 1, "403");
    expect_buf(tx_at(1), BUF_HTTP_URI, 0, "/after");
    assert_int_equal(http_tx_progress(tx_at(1)), HTTP_REQ_HEADERS | HTTP_REQ_DONE);
    res("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    expect_buf(tx_at(1), BUF_FILE_DATA, 1, "ok");
    assert_int_equal(http_tx_progress(tx_at(1)), ALL_DONE);
    assert_int_equal(all_ev.n, 0);
}

static void test_accepted_connect_becomes_a_tunnel(void **state)
{
    (void)state;
    req("CONNECT tunnel.example:443 HTTP/1.1\r\nHost: tunnel.example:443\r\n\r\n");
    res("HTTP/1.1 200 Connection established\r\n\r\n");
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00 };
    feed(0, hello, sizeof hello);
    feed(1, hello, sizeof hello);
    assert_int_equal(http_tx_count(st), 1);
    expect_buf(tx_at(0), BUF_HTTP_STAT_CODE, 1, "200");
    assert_false(has_event(&all_ev, HTTP_EV_UNKNOWN_ERROR));
}

static void test_waiting_side_is_bounded(void **state)
{
    (void)state;
    req("CONNECT tunnel.example:443 HTTP/1.1\r\nHost: tunnel.example:443\r\n\r\n");
    char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 20 && !has_event(&all_ev, HTTP_EV_UNKNOWN_ERROR); i++)
        feed(0, chunk, sizeof chunk);
    assert_true(has_event(&all_ev, HTTP_EV_UNKNOWN_ERROR));
    assert_int_equal(http_tx_progress(tx_at(0)), ALL_DONE);
}

/* ===========================================================================
 * Protocol detection
 * ========================================================================= */

static bool probe_req(const char *s)
{
    return http_probe_request((const uint8_t *)s, (uint32_t)strlen(s));
}

static bool probe_res(const char *s)
{
    return http_probe_response((const uint8_t *)s, (uint32_t)strlen(s));
}

static void test_probes_recognize_request_and_status_lines(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "GET / HTTP/1.1", "POST /x", "HEAD /", "PUT /f", "DELETE /d", "OPTIONS *",
        "CONNECT a:443", "TRACE /", "PATCH /p", "PROPFIND /", "get /lower",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!probe_req(yes[i]))
            fail_msg("not recognized: %s", yes[i]);
    static const char *const no[] = {
        "GET", "GE", "", "GETX / HTTP/1.1", "\x16\x03\x01", "SSH-2.0-OpenSSH", " GET /",
        "HTTP/1.1 200 OK",
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (probe_req(no[i]))
            fail_msg("recognized: %s", no[i]);
    assert_false(http_probe_request(NULL, 4));

    assert_true(probe_res("HTTP/1.1 200 OK\r\n"));
    assert_true(probe_res("HTTP/1.0 404"));
    assert_true(probe_res("HTTP/1."));
    assert_false(probe_res("HTTP/1"));
    assert_false(probe_res("HTTP/2 200"));
    assert_false(probe_res("GET / HTTP/1.1"));
    assert_false(probe_res(""));
    assert_false(http_probe_response(NULL, 8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_get_and_response_make_one_transaction),
        T(test_request_cut_anywhere_gives_the_same_buffers),
        T(test_response_cut_into_bytes_gives_the_same_body),
        T(test_pipelined_requests_pair_with_their_responses),
        T(test_chunked_request_body_is_dechunked),
        T(test_gzip_response_is_decompressed),
        T(test_deflate_chunked_response_is_decompressed),
        T(test_gzip_request_body_is_decompressed),
        T(test_corrupt_gzip_raises_an_event_without_crashing),
        T(test_body_limits_truncate_the_buffers),
        T(test_every_buffer_of_a_transaction),
        T(test_absent_headers_are_absent_buffers),
        T(test_eve_object_has_suricata_fields),
        T(test_eve_headers_when_configured),
        T(test_eve_without_port_response_or_valid_utf8),
        T(test_event_names_match_the_enum),
        T(test_huge_header_line_is_an_event_not_memory),
        T(test_huge_response_header_line_is_an_event),
        T(test_broken_request_chunk_length_is_an_event),
        T(test_broken_response_chunk_length_is_an_event),
        T(test_missing_host_is_an_event),
        T(test_malformed_requests_raise_their_events),
        T(test_invalid_connect_authority_port_is_an_event),
        T(test_invalid_transfer_encoding_stops_parsing_with_an_event),
        T(test_interim_responses),
        T(test_response_without_request_is_an_event),
        T(test_garbage_does_not_crash),
        T(test_long_connection_keeps_memory_flat),
        T(test_too_many_headers_stop_parsing),
        T(test_too_many_transactions_stop_parsing),
        T(test_release_frees_the_oldest_transactions),
        T(test_released_transaction_can_still_get_its_response),
        T(test_close_completes_a_body_read_to_the_end),
        T(test_close_completes_a_request_without_response),
        T(test_request_waits_for_the_response_to_a_refused_connect),
        T(test_accepted_connect_becomes_a_tunnel),
        T(test_waiting_side_is_bounded),
        T(test_probes_recognize_request_and_status_lines),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
