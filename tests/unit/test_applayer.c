/* Unit tests for the app-layer stage (applayer.c): protocol detection,
 * which transactions are handed out for inspection and logging and when,
 * DNS request/response pairing, flow-level events, and the end of a flow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/applayer.h"
#include "app/dns.h"
#include "app/tls.h"
#include "detect/detect_int.h"
#include "output/stats.h"
#include "pktbuild.h"

struct fx {
    struct app_config cfg;
    struct app_engine *ae;
    struct stats stats;
    struct flow f;
    struct app_result res;
    struct timeval ts;
};

static struct fx *F;

static int setup(void **state)
{
    (void)state;
    F = calloc(1, sizeof *F);
    app_config_init(&F->cfg);
    F->ae = app_engine_new(&F->cfg, &F->stats);
    assert_non_null(F->ae);
    F->f.client_idx = 0;
    F->f.key.port[0] = 40000;
    F->f.key.port[1] = 80;
    F->ts.tv_sec = 1714564800;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    app_flow_free(F->ae, &F->f);
    app_engine_free(F->ae);
    free(F);
    return 0;
}

static void tcp_data(int dir, const char *s)
{
    app_tcp_data(F->ae, &F->f, dir, (const uint8_t *)s, (uint32_t)strlen(s), &F->ts, &F->res);
}

/* The item i of the last result. */
static const struct app_item *item(unsigned i)
{
    assert_true(i < F->res.n);
    return &F->res.items[i];
}

static void done(void)
{
    app_result_done(F->ae, &F->f, &F->res);
}

static const char REQ[] = "GET /index.html HTTP/1.1\r\nHost: www.example.test\r\n"
                          "User-Agent: test\r\n\r\n";
static const char RESP[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                           "Content-Length: 5\r\n\r\nhello";

static void test_http_detected_and_transactions_handed_out(void **state)
{
    (void)state;
    tcp_data(APP_TOSERVER, REQ);
    assert_int_equal(F->f.app_proto, APP_HTTP);
    assert_int_equal(F->res.proto, APP_HTTP);
    /* the request is complete: its side is inspected, nothing logged yet */
    assert_int_equal(F->res.n, 1);
    assert_int_equal(item(0)->tx.proto, APP_HTTP);
    assert_int_equal(item(0)->tx.id, 0);
    assert_int_equal(item(0)->dir, APP_TOSERVER);
    assert_true(item(0)->inspect);
    assert_false(item(0)->log);
    const uint8_t *d;
    uint32_t n;
    assert_true(app_tx_buffer(&item(0)->tx, BUF_HTTP_URI, 0, APP_TOSERVER, &d, &n));
    assert_int_equal(n, 11);
    assert_memory_equal(d, "/index.html", 11);
    /* buffers have one instance */
    assert_false(app_tx_buffer(&item(0)->tx, BUF_HTTP_URI, 1, APP_TOSERVER, &d, &n));
    done();
    /* the response: inspected to the client and logged */
    tcp_data(APP_TOCLIENT, RESP);
    assert_int_equal(F->res.n, 1);
    assert_int_equal(item(0)->dir, APP_TOCLIENT);
    assert_true(item(0)->inspect);
    assert_true(item(0)->log);
    assert_true(app_tx_buffer(&item(0)->tx, BUF_HTTP_STAT_CODE, 0, APP_TOCLIENT, &d, &n));
    assert_memory_equal(d, "200", 3);
    /* file.data to the client is the response body */
    assert_true(app_tx_buffer(&item(0)->tx, BUF_FILE_DATA, 0, APP_TOCLIENT, &d, &n));
    assert_int_equal(n, 5);
    json_t *o = app_tx_eve(&item(0)->tx);
    assert_string_equal(json_string_value(json_object_get(o, "url")), "/index.html");
    assert_int_equal(json_integer_value(json_object_get(o, "status")), 200);
    json_decref(o);
    done();
    assert_int_equal(stats_get(&F->stats, STAT_APP_FLOW_HTTP), 1);
    assert_int_equal(stats_get(&F->stats, STAT_APP_TX_HTTP), 1);
    /* nothing more at the end: the transaction was logged */
    app_flow_end(F->ae, &F->f, &F->res);
    assert_int_equal(F->res.n, 0);
}

static void test_http_pipelined_in_order(void **state)
{
    (void)state;
    char reqs[512];
    snprintf(reqs, sizeof reqs, "%s%s%s", REQ, REQ, REQ);
    tcp_data(APP_TOSERVER, reqs);
    assert_int_equal(F->res.n, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(item(i)->tx.id, i);
        assert_int_equal(item(i)->dir, APP_TOSERVER);
    }
    done();
    char resps[512];
    snprintf(resps, sizeof resps, "%s%s", RESP, RESP);
    tcp_data(APP_TOCLIENT, resps);
    assert_int_equal(F->res.n, 2);
    assert_int_equal(item(0)->tx.id, 0);
    assert_int_equal(item(1)->tx.id, 1);
    assert_true(item(1)->log);
    done();
    /* the third never gets its response: logged at the end, not inspected */
    app_flow_end(F->ae, &F->f, &F->res);
    assert_int_equal(F->res.n, 1);
    assert_int_equal(item(0)->tx.id, 2);
    assert_false(item(0)->inspect);
    assert_true(item(0)->log);
}

static void test_unknown_protocol_given_up(void **state)
{
    (void)state;
    F->f.key.port[1] = 7000;
    tcp_data(APP_TOSERVER, "hello there, this is no protocol caracal parses\r\n");
    assert_int_equal(F->f.app_proto, APP_NONE); /* the server may still tell */
    tcp_data(APP_TOCLIENT, "and neither is this\r\n");
    assert_int_equal(F->f.app_proto, APP_OTHER);
    assert_int_equal(stats_get(&F->stats, STAT_APP_FLOW_FAILED_TCP), 1);
    tcp_data(APP_TOSERVER, REQ); /* too late: given up */
    assert_int_equal(F->res.n, 0);
    assert_int_equal(F->f.app_proto, APP_OTHER);
}

static void test_http_on_any_port_and_mismatch_event(void **state)
{
    (void)state;
    F->f.key.port[1] = 8081;
    tcp_data(APP_TOSERVER, REQ);
    assert_int_equal(F->f.app_proto, APP_HTTP);
    done();
    /* the server answers with a TLS record: the two sides disagree */
    static const uint8_t sh[] = { 0x16, 0x03, 0x03, 0x00, 0x31, 0x02, 0x00, 0x00, 0x2d, 0x03,
                                  0x03 };
    app_tcp_data(F->ae, &F->f, APP_TOCLIENT, sh, sizeof sh, &F->ts, &F->res);
    assert_int_equal(F->res.flow_events.n, 1);
    assert_int_equal(F->res.flow_events.code[0], APP_EV_MISMATCH_PROTOCOL_BOTH_DIRECTIONS);
    assert_true(app_tx_has_event(&F->f, NULL, "applayer.mismatch_protocol_both_directions"));
    assert_false(app_tx_has_event(&F->f, NULL, "applayer.wrong_direction_first_data"));
    assert_string_equal(app_flow_event_name(APP_EV_MISMATCH_PROTOCOL_BOTH_DIRECTIONS),
                        "mismatch_protocol_both_directions");
    done();
}

static void test_server_speaks_first(void **state)
{
    (void)state;
    tcp_data(APP_TOCLIENT, RESP);
    assert_int_equal(F->res.flow_events.n, 1);
    assert_int_equal(F->res.flow_events.code[0], APP_EV_WRONG_DIRECTION_FIRST_DATA);
    done();
}

static void test_gap_stops_parsing(void **state)
{
    (void)state;
    tcp_data(APP_TOSERVER, "GET /a HTTP/1.1\r\nHost: x\r\n");
    assert_int_equal(F->res.n, 0);
    done();
    app_tcp_gap(F->ae, &F->f, APP_TOSERVER);
    tcp_data(APP_TOSERVER, "\r\n");
    assert_int_equal(F->res.n, 0); /* that side is not followed any more */
}

/* A DNS query for www.example.test (type A), id 0x1234; a response adds
 * one answer 192.0.2.1. */
static uint32_t dns_msg(uint8_t *b, bool response)
{
    static const uint8_t q[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
                                 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1 };
    uint32_t n = 0;
    b[n++] = 0x12;
    b[n++] = 0x34;
    b[n++] = response ? 0x81 : 0x01;
    b[n++] = response ? 0x80 : 0x00;
    b[n++] = 0;
    b[n++] = 1;
    b[n++] = 0;
    b[n++] = response ? 1 : 0;
    memset(b + n, 0, 4);
    n += 4;
    memcpy(b + n, q, sizeof q);
    n += sizeof q;
    if (response) {
        static const uint8_t an[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };
        memcpy(b + n, an, sizeof an);
        n += sizeof an;
    }
    return n;
}


static void test_dns_udp_pairs_request_and_response(void **state)
{
    (void)state;
    F->f.key.port[1] = 53;
    uint8_t msg[128];
    struct pktbuf pb;
    struct packet p;
    uint32_t n = dns_msg(msg, false);
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_ipv4(&pb, &(struct pb_ipv4){ .src = "10.0.0.1", .dst = "10.0.0.2" });
    pb_udp(&pb, &(struct pb_udp){ .sp = 40000, .dp = 53 });
    pb_put(&pb, msg, n);
    pb_close(&pb);
    pkt_finish(&p, pb.b, pb.len, LINK_ETHERNET);
    struct decode_ctx dc;
    memset(&dc, 0, sizeof dc);
    dc.cfg.max_layers = 8;
    dc.stats = &F->stats;
    decode_packet(&dc, &p);
    app_udp_packet(F->ae, &F->f, APP_TOSERVER, &p, &F->res);
    assert_int_equal(F->f.app_proto, APP_DNS);
    assert_int_equal(F->res.n, 1);
    assert_int_equal(item(0)->tx.id, 0);
    assert_int_equal(item(0)->dir, APP_TOSERVER);
    assert_true(item(0)->inspect && item(0)->log);
    const uint8_t *d;
    uint32_t len;
    assert_true(app_tx_buffer(&item(0)->tx, BUF_DNS_QUERY, 0, APP_TOSERVER, &d, &len));
    assert_int_equal(len, 16);
    assert_memory_equal(d, "www.example.test", 16);
    assert_false(app_tx_buffer(&item(0)->tx, BUF_DNS_QUERY, 1, APP_TOSERVER, &d, &len));
    assert_true(app_tx_dns_has_rrtype(&item(0)->tx, 1));
    done();

    struct pktbuf pb2;
    struct packet p2;
    n = dns_msg(msg, true);
    pb_init(&pb2);
    pb_eth(&pb2, 0);
    pb_ipv4(&pb2, &(struct pb_ipv4){ .src = "10.0.0.2", .dst = "10.0.0.1" });
    pb_udp(&pb2, &(struct pb_udp){ .sp = 53, .dp = 40000 });
    pb_put(&pb2, msg, n);
    pb_close(&pb2);
    pkt_finish(&p2, pb2.b, pb2.len, LINK_ETHERNET);
    decode_packet(&dc, &p2);
    app_udp_packet(F->ae, &F->f, APP_TOCLIENT, &p2, &F->res);
    assert_int_equal(F->res.n, 1);
    assert_int_equal(item(0)->tx.id, 0); /* the query's transaction */
    assert_int_equal(item(0)->dir, APP_TOCLIENT);
    assert_true(app_tx_buffer(&item(0)->tx, BUF_DNS_ANSWER_NAME, 0, APP_TOCLIENT, &d, &len));
    assert_memory_equal(d, "www.example.test", 16);
    unsigned opcode, rcode;
    assert_true(app_tx_dns(&item(0)->tx, &opcode, &rcode));
    assert_int_equal(opcode, 0);
    assert_int_equal(rcode, 0);
    done();
    /* a response sent to port 53 is an event */
    struct pktbuf pb3;
    struct packet p3;
    pb_init(&pb3);
    pb_eth(&pb3, 0);
    pb_ipv4(&pb3, &(struct pb_ipv4){ .src = "10.0.0.1", .dst = "10.0.0.2" });
    pb_udp(&pb3, &(struct pb_udp){ .sp = 40000, .dp = 53 });
    pb_put(&pb3, msg, n);
    pb_close(&pb3);
    pkt_finish(&p3, pb3.b, pb3.len, LINK_ETHERNET);
    decode_packet(&dc, &p3);
    app_udp_packet(F->ae, &F->f, APP_TOSERVER, &p3, &F->res);
    assert_int_equal(F->res.n, 1);
    assert_int_equal(item(0)->tx.id, 1);
    assert_true(app_tx_has_event(&F->f, &item(0)->tx, "dns.not_a_request"));
    assert_int_equal(item(0)->dir, APP_TOCLIENT); /* by its QR bit */
    assert_false(app_tx_has_event(&F->f, &item(0)->tx, "dns.not_a_response"));
    assert_false(app_tx_has_event(&F->f, &item(0)->tx, "http.not_a_request"));
    done();
    assert_int_equal(stats_get(&F->stats, STAT_APP_FLOW_DNS_UDP), 1);
    assert_int_equal(stats_get(&F->stats, STAT_APP_TX_DNS_UDP), 3);
}

static void test_dns_over_tcp(void **state)
{
    (void)state;
    F->f.key.port[1] = 53;
    uint8_t msg[130];
    uint32_t n = dns_msg(msg + 2, false);
    msg[0] = 0;
    msg[1] = (uint8_t)n;
    /* split across two calls: 7 bytes are too few to tell; they are held */
    app_tcp_data(F->ae, &F->f, APP_TOSERVER, msg, 7, &F->ts, &F->res);
    assert_int_equal(F->f.app_proto, APP_NONE);
    assert_int_equal(F->res.n, 0);
    done();
    app_tcp_data(F->ae, &F->f, APP_TOSERVER, msg + 7, n + 2 - 7, &F->ts, &F->res);
    assert_int_equal(F->f.app_proto, APP_DNS);
    assert_int_equal(F->res.n, 1);
    assert_int_equal(item(0)->tx.proto, APP_DNS);
    done();
    assert_int_equal(stats_get(&F->stats, STAT_APP_FLOW_DNS_TCP), 1);
}

static void test_tls_client_then_server(void **state)
{
    (void)state;
    F->f.key.port[1] = 443;
    /* a minimal ClientHello with SNI "a.test" */
    static const uint8_t ch[] = {
        0x16, 0x03, 0x01, 0x00, 0x3b, /* record */
        0x01, 0x00, 0x00, 0x37, 0x03, 0x03, /* ClientHello, version 1.2 */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* random */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0x00,                   /* session id */
        0x00, 0x02, 0x13, 0x01, /* ciphers */
        0x01, 0x00,             /* compression */
        0x00, 0x0c,             /* extensions */
        0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00, 0x00, 0x03, 'a', '.', 't',
    };
    app_tcp_data(F->ae, &F->f, APP_TOSERVER, ch, sizeof ch, &F->ts, &F->res);
    assert_int_equal(F->f.app_proto, APP_TLS);
    assert_int_equal(F->res.n, 1);
    assert_int_equal(item(0)->dir, APP_TOSERVER);
    assert_true(item(0)->inspect);
    assert_false(item(0)->log);
    done();
    /* no server side: logged at the end of the flow, not inspected */
    app_flow_end(F->ae, &F->f, &F->res);
    assert_int_equal(F->res.n, 1);
    assert_false(item(0)->inspect);
    assert_true(item(0)->log);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(app_proto_name(APP_HTTP), "http");
    assert_string_equal(app_proto_name(APP_TLS), "tls");
    assert_string_equal(app_proto_name(APP_DNS), "dns");
    assert_null(app_proto_name(APP_NONE));
    assert_string_equal(app_event_name(APP_DNS, DNS_EV_INFINITE_LOOP), "infinite_loop");
    assert_string_equal(app_event_name(APP_TLS, TLS_EV_INVALID_SNI_TYPE), "invalid_sni_type");
    assert_string_equal(app_flow_event_name(APP_EV_COUNT), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_http_detected_and_transactions_handed_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_pipelined_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_protocol_given_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_on_any_port_and_mismatch_event, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_server_speaks_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_stops_parsing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns_udp_pairs_request_and_response, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dns_over_tcp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_client_then_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
