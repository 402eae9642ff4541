/* Unit tests for the worker (worker.c): deferred mode, where a packet's
 * app-layer records wait until its verdict is given, flow timeouts that
 * keep up with more flows than one timeout pass ends, and the move to a
 * reloaded detection engine between packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/config.h"
#include "engine/settings.h"
#include "engine/worker.h"
#include "pktbuild.h"
#include "util/log.h"

struct fx {
    char path[64];
    struct conf *conf;
    struct settings s;
    struct eve_sink *sink;
    struct worker w;
    struct decode_ctx dc;
    struct pktbuf pb;
    struct packet p;
    uint32_t cseq, sseq;
};

static struct fx *F;

static int setup(void **state)
{
    (void)state;
    F = calloc(1, sizeof *F);
    assert_non_null(F);
    strcpy(F->path, "/tmp/caracal-test-worker-XXXXXX");
    int fd = mkstemp(F->path);
    assert_true(fd >= 0);
    close(fd);
    F->conf = conf_new();
    char err[512] = "";
    static const char yaml[] = "stats:\n  enabled: no\n";
    assert_int_equal(conf_load_string(F->conf, yaml, strlen(yaml), "caracal.yaml", err, sizeof err), 0);
    if (settings_load(&F->s, F->conf, err, sizeof err) != 0)
        fail_msg("settings: %s", err);
    F->sink = eve_sink_open(F->path, err, sizeof err);
    assert_non_null(F->sink);
    struct worker_outputs out = { .eve = F->sink };
    assert_int_equal(worker_init(&F->w, 0, 1, &F->s, &out), 0);
    F->dc.cfg = F->s.decode;
    F->dc.stats = &F->w.stats;
    F->cseq = 1000;
    F->sseq = 5000;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    worker_destroy(&F->w);
    eve_sink_close(F->sink);
    settings_release(&F->s);
    conf_free(F->conf);
    unlink(F->path);
    free(F);
    return 0;
}

/* Events of type in the EVE file so far (after the worker's buffer is written). */
static unsigned events_of(const char *type)
{
    worker_flush_output(&F->w);
    FILE *fp = fopen(F->path, "r");
    assert_non_null(fp);
    char needle[64], line[8192];
    snprintf(needle, sizeof needle, "\"event_type\":\"%s\"", type);
    unsigned n = 0;
    while (fgets(line, sizeof line, fp))
        n += strstr(line, needle) != NULL;
    fclose(fp);
    return n;
}

/* One TCP segment of the 10.0.0.2:40000 <-> 10.0.0.1:80 connection. */
static void segment(bool to_server, uint8_t flags, const char *data, time_t sec)
{
    size_t len = data ? strlen(data) : 0;
    pb_init(&F->pb);
    pb_ipv4(&F->pb, &(struct pb_ipv4){ .src = to_server ? "10.0.0.2" : "10.0.0.1",
                                       .dst = to_server ? "10.0.0.1" : "10.0.0.2" });
    pb_tcp(&F->pb, &(struct pb_tcp){ .sp = to_server ? 40000 : 80, .dp = to_server ? 80 : 40000,
                                     .seq = to_server ? F->cseq : F->sseq,
                                     .ack = to_server ? F->sseq : F->cseq, .flags = flags });
    if (len)
        pb_put(&F->pb, data, len);
    pb_close(&F->pb);
    pkt_finish(&F->p, F->pb.b, F->pb.len, LINK_RAW);
    F->p.ts.tv_sec = sec;
    decode_packet(&F->dc, &F->p);
    uint32_t adv = (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
    if (to_server)
        F->cseq += adv;
    else
        F->sseq += adv;
    worker_process(&F->w, &F->p);
}

static const char REQ[] = "GET /a HTTP/1.1\r\nHost: example.test\r\n\r\n";
static const char RESP[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

static void http_exchange(time_t sec)
{
    segment(true, TCP_SYN, NULL, sec);
    segment(false, TCP_SYN | TCP_ACK, NULL, sec);
    segment(true, TCP_ACK, NULL, sec);
    segment(true, TCP_ACK | TCP_PSH, REQ, sec);
    segment(false, TCP_ACK | TCP_PSH, RESP, sec);
}

static void test_immediate_mode_logs_with_the_packet(void **state)
{
    (void)state;
    http_exchange(1714564800);
    assert_int_equal(events_of("http"), 1);
}

static void test_deferred_mode_logs_after_the_verdict(void **state)
{
    (void)state;
    worker_set_deferred(&F->w);
    http_exchange(1714564800);
    /* the response completed the transaction: its record waits */
    assert_int_equal(events_of("http"), 0);
    worker_after_verdict(&F->w);
    assert_int_equal(events_of("http"), 1);
    /* nothing is written twice */
    worker_after_verdict(&F->w);
    assert_int_equal(events_of("http"), 1);
}

static void test_deferred_record_written_before_the_next_packet(void **state)
{
    (void)state;
    worker_set_deferred(&F->w);
    http_exchange(1714564800);
    /* a packet that follows without a verdict in between (a datagram a
     * fragment completed) writes what the first left pending */
    segment(true, TCP_ACK, NULL, 1714564800);
    assert_int_equal(events_of("http"), 1);
}

static void test_deferred_record_written_at_the_end(void **state)
{
    (void)state;
    worker_set_deferred(&F->w);
    http_exchange(1714564800);
    worker_finish(&F->w, &(struct timeval){ 1714564801, 0 });
    assert_int_equal(events_of("http"), 1);
    assert_int_equal(events_of("flow"), 1);
}

static void test_timeouts_end_more_flows_than_one_pass(void **state)
{
    (void)state;
    /* 600 short UDP flows, then packets every second of capture time:
     * all of them end within a few packets once they expire, though one
     * timeout pass checks 256 flows. */
    for (uint16_t i = 0; i < 600; i++) {
        pb_init(&F->pb);
        pb_ipv4(&F->pb, &(struct pb_ipv4){ .src = "10.0.0.2", .dst = "10.0.0.1" });
        pb_udp(&F->pb, &(struct pb_udp){ .sp = (uint16_t)(10000 + i), .dp = 9999 });
        pb_put(&F->pb, "x", 1);
        pb_close(&F->pb);
        pkt_finish(&F->p, F->pb.b, F->pb.len, LINK_RAW);
        decode_packet(&F->dc, &F->p);
        worker_process(&F->w, &F->p);
    }
    time_t t = 1714564800 + 3600;
    for (int i = 0; i < 4; i++) {
        segment(true, TCP_SYN, NULL, t);
        F->cseq = 1000;
    }
    assert_int_equal(events_of("flow"), 600);
}

/* ---- Rule reload ------------------------------------------------------------------ */

/* An engine from rules text, without the system's side files or cache. */
static struct detect_engine *engine_from(const char *rules)
{
    char path[64] = "/tmp/caracal-test-reload-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, rules, strlen(rules)), (ssize_t)strlen(rules));
    close(fd);
    char err[256];
    static const char *const keys[] = {
        "detect.sgh-mpm-caching=no", "classification-file=/nonexistent/classification.config",
        "reference-config-file=/nonexistent/reference.config",
        "threshold-file=/nonexistent/threshold.config",
    };
    for (unsigned i = 0; i < sizeof keys / sizeof *keys; i++)
        assert_int_equal(conf_set(F->conf, keys[i], err, sizeof err), 0);
    log_set_level(LOG_LVL_ERROR); /* the built-in classifications are used: a warning */
    struct detect_load_report rep;
    const char *files[1] = { path };
    struct detect_engine *de = detect_engine_load(F->conf, files, 1, &rep);
    unlink(path);
    assert_non_null(de);
    assert_int_equal(rep.failed, 0);
    detect_report_free(&rep);
    return de;
}

/* One UDP datagram from its own source port (a flow of its own); its verdict. */
static int datagram(uint16_t sport, const char *payload)
{
    pb_init(&F->pb);
    pb_ipv4(&F->pb, &(struct pb_ipv4){ .src = "10.0.0.2", .dst = "10.0.0.1" });
    pb_udp(&F->pb, &(struct pb_udp){ .sp = sport, .dp = 5353 });
    pb_put(&F->pb, payload, strlen(payload));
    pb_close(&F->pb);
    pkt_finish(&F->p, F->pb.b, F->pb.len, LINK_RAW);
    F->p.ts.tv_sec = 1714564800;
    decode_packet(&F->dc, &F->p);
    worker_process(&F->w, &F->p);
    return F->w.verdict;
}

/* The management thread publishes a new engine; the worker takes it up at
 * its next packet (or when idle), reports its generation, and never looks
 * at the old engine again, which can then be freed. */
static void test_worker_moves_to_a_published_engine_between_packets(void **state)
{
    (void)state;
    struct detect_engine *a = engine_from(
        "drop udp any any -> any any (msg:\"old\"; content:\"OLD\"; sid:1;)\n");
    struct detect_engine *b = engine_from(
        "drop udp any any -> any any (msg:\"new\"; content:\"NEW\"; sid:2;)\n");
    struct detect_engine *pub = a;
    worker_destroy(&F->w);
    struct worker_outputs out = { .eve = F->sink, .de = a, .engine_pub = &pub };
    assert_int_equal(worker_init(&F->w, 0, 1, &F->s, &out), 0);
    F->dc.stats = &F->w.stats;
    assert_int_equal(worker_engine_generation(&F->w), detect_engine_generation(a));
    assert_int_equal(datagram(2000, "OLD"), VERDICT_DROP);
    assert_int_equal(datagram(2001, "NEW"), VERDICT_ACCEPT);

    __atomic_store_n(&pub, b, __ATOMIC_RELEASE);
    /* the next packet is inspected with the new rules */
    assert_int_equal(datagram(2002, "NEW"), VERDICT_DROP);
    assert_int_equal(worker_engine_generation(&F->w), detect_engine_generation(b));
    assert_int_equal(datagram(2003, "OLD"), VERDICT_ACCEPT);
    /* a flow inspected before goes on under the new rules */
    assert_int_equal(datagram(2001, "NEW"), VERDICT_DROP);
    detect_engine_free(a); /* the worker moved on: nothing of it is used */
    assert_int_equal(datagram(2004, "NEW"), VERDICT_DROP);

    /* an idle worker moves on without a packet */
    a = engine_from("drop udp any any -> any any (msg:\"third\"; content:\"THIRD\"; sid:3;)\n");
    __atomic_store_n(&pub, a, __ATOMIC_RELEASE);
    worker_engine_update(&F->w);
    assert_int_equal(worker_engine_generation(&F->w), detect_engine_generation(a));
    detect_engine_free(b);
    assert_int_equal(datagram(2005, "THIRD"), VERDICT_DROP);
    assert_int_equal(datagram(2006, "NEW"), VERDICT_ACCEPT);

    /* the worker ends before its engine (teardown destroys a plain one) */
    worker_destroy(&F->w);
    struct worker_outputs plain = { .eve = F->sink };
    assert_int_equal(worker_init(&F->w, 0, 1, &F->s, &plain), 0);
    detect_engine_free(a);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_immediate_mode_logs_with_the_packet),
        T(test_deferred_mode_logs_after_the_verdict),
        T(test_deferred_record_written_before_the_next_packet),
        T(test_deferred_record_written_at_the_end),
        T(test_timeouts_end_more_flows_than_one_pass),
        T(test_worker_moves_to_a_published_engine_between_packets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
