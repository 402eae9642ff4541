/*
 * Unit tests for src/stream/stream.c, the TCP stream engine.
 *
 * Sections: sequence arithmetic and config, the three-way handshake
 * (normal, simultaneous open, anomalies), data in order and the inspection
 * window, sequence wraparound, segments out of order, overlap policies,
 * retransmissions and keep-alives, gaps, depth, memcap, teardown (FIN,
 * RST), sessions without a handshake, window checks, and the engine behind
 * a real flow table.
 *
 * Packets are built with pktbuild.h (Ethernet, IPv4, TCP), decoded from a
 * heap copy of exactly their size, and handed to stream_packet() the way
 * the worker does. Client 10.0.0.1:40000, server 10.0.0.2:80; sequence
 * numbers in the helpers are relative to each side's ISN (C, S), so the
 * first data byte is at 1.
 *
 * Stream events are counted by the worker, not the engine: they are
 * checked on the stream_result. The engine's own STAT_TCP_* counters are
 * checked in the struct stats it was given.
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

#include "decode/decode.h"
#include "decode/defrag.h"
#include "flow/flow.h"
#include "output/stats.h"
#include "stream/stream.h"
#include "util/log.h"
#include "pktbuild.h"

/* ===========================================================================
 * Helpers
 * ========================================================================= */

#define CLI "10.0.0.1"
#define SRV "10.0.0.2"
#define CPORT 40000
#define SPORT 80
#define T0 1714564800L
#define NFLOWS 4
#define SB_LEN 65536

static struct stats st;              /* the engine's counters */
static struct stats dst;             /* the decoder's (kept apart) */
static struct decode_ctx dc;
static struct stream_config cfg;
static struct defrag_config dcfg;
static struct stream_engine *se;
static struct flow flows[NFLOWS];
static struct flow *cf;              /* the flow cli()/srv() talk on */
static struct packet pkt;            /* the last packet sent */
static uint8_t *pmem;                /* its bytes */
static struct stream_result r;       /* what it produced */
static uint32_t C, S;                /* client and server ISN */
static uint8_t sb[SB_LEN];           /* stream bytes: sb[i] is byte i of a stream */

static uint64_t counter(int id)
{
    return stats_get(&st, id);
}

static void open_engine(void)
{
    se = stream_engine_new(&cfg, &st);
    assert_non_null(se);
    assert_int_equal(stream_engine_memuse(se), 0);
}

static void free_flows(void)
{
    if (se == NULL)
        return;
    for (int i = 0; i < NFLOWS; i++)
        stream_flow_free(se, &flows[i]);
}

/* Frees every flow, checks that all memory came back, frees the engine. */
static void done(void)
{
    free_flows();
    assert_int_equal(stream_engine_memuse(se), 0);
    assert_int_equal(counter(STAT_TCP_MEMUSE), 0);
    stream_engine_free(se);
    se = NULL;
}

/* done(), then a fresh engine with the current cfg and zeroed counters. */
static void restart(void)
{
    done();
    memset(&st, 0, sizeof st);
    memset(flows, 0, sizeof flows);
    open_engine();
}

static int setup(void **state)
{
    (void)state;
    memset(&st, 0, sizeof st);
    memset(&dst, 0, sizeof dst);
    memset(&dc, 0, sizeof dc);
    dc.cfg.checksum_validation = true;
    dc.cfg.max_layers = 8;
    dc.stats = &dst;
    stream_config_init(&cfg);
    defrag_config_init(&dcfg);
    memset(flows, 0, sizeof flows);
    cf = &flows[0];
    pmem = NULL;
    memset(&r, 0, sizeof r);
    C = 1000;
    S = 5000000;
    for (unsigned i = 0; i < SB_LEN; i++)
        sb[i] = (uint8_t)('!' + (i * 7 + i / 89) % 90);
    se = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free_flows(); /* a failed test leaves them behind */
    stream_engine_free(se);
    se = NULL;
    defrag_config_release(&dcfg);
    free(pmem);
    pmem = NULL;
    return 0;
}

/* Builds and decodes one TCP packet in direction dir (into pkt). */
static void build(int dir, uint8_t flags, uint32_t seq, uint32_t ack, const void *d, size_t n,
                  uint16_t win, const uint8_t *opts, size_t optlen)
{
    bool ts = dir == FLOW_TOSERVER;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_ipv4(&pb, &(struct pb_ipv4){ .src = ts ? CLI : SRV, .dst = ts ? SRV : CLI });
    pb_tcp(&pb, &(struct pb_tcp){ .sp = ts ? CPORT : SPORT, .dp = ts ? SPORT : CPORT,
                                  .seq = seq, .ack = ack, .flags = flags, .win = win,
                                  .opts = opts, .optlen = optlen });
    if (n)
        pb_put(&pb, d, n);
    pb_close(&pb);
    free(pmem);
    pmem = malloc(pb.len);
    assert_non_null(pmem);
    memcpy(pmem, pb.b, pb.len);
    pkt_finish(&pkt, pmem, pb.len, LINK_ETHERNET);
    decode_packet(&dc, &pkt);
    assert_int_equal(pkt.proto, 6);
    assert_int_equal(pkt.tcp.seq, seq);
    assert_int_equal(pkt.tcp.flags, flags);
    assert_int_equal(pkt.payload_len, n);
    assert_false(pkt.flags & PKT_L4_CSUM_BAD);
}

/* Runs pkt through the engine on flow f; memuse must stay under the memcap. */
static void run(struct flow *f, int dir)
{
    stream_packet(se, f, &pkt, dir, &r);
    assert_true(stream_engine_memuse(se) <= cfg.memcap);
    assert_true(r.nevents <= STREAM_MAX_EVENTS);
    if (r.len > 0) {
        assert_non_null(r.chunk);
        assert_true(r.new_off < r.len);
    }
}

static void xmit_ex(int dir, uint8_t flags, uint32_t seq, uint32_t ack, const void *d, size_t n,
                    uint16_t win, const uint8_t *opts, size_t optlen)
{
    build(dir, flags, seq, ack, d, n, win, opts, optlen);
    run(cf, dir);
}

/* A packet from the client; seq relative to C, ack relative to S. */
static void cli(uint8_t flags, uint32_t rseq, uint32_t rack, const void *d, size_t n)
{
    xmit_ex(FLOW_TOSERVER, flags, C + rseq, rack ? S + rack : 0, d, n, 0, NULL, 0);
}

/* A packet from the server; seq relative to S, ack relative to C. */
static void srv(uint8_t flags, uint32_t rseq, uint32_t rack, const void *d, size_t n)
{
    xmit_ex(FLOW_TOCLIENT, flags, S + rseq, rack ? C + rack : 0, d, n, 0, NULL, 0);
}

/* Client data at stream offset off (seq C+1+off), acking the server's SYN. */
static void cdata(uint32_t off, const void *d, size_t n)
{
    cli(TCP_ACK | TCP_PSH, 1 + off, 1, d, n);
}

/* Client data: bytes [off, off+n) of the pattern sb. */
static void cpat(uint32_t off, size_t n)
{
    cdata(off, sb + off, n);
}

/* Server data at stream offset off, acking the client's SYN only. */
static void sdata(uint32_t off, const void *d, size_t n)
{
    srv(TCP_ACK | TCP_PSH, 1 + off, 1, d, n);
}

static bool has_event(int ev)
{
    for (unsigned i = 0; i < r.nevents; i++)
        if (r.events[i] == ev)
            return true;
    return false;
}

static void expect_state(int state)
{
    if (stream_flow_state(cf) != state)
        fail_msg("state %s, want %s", tcp_state_name(stream_flow_state(cf)),
                 tcp_state_name(state));
}

/* The last packet was tracked and produced exactly this chunk. */
static void expect_chunk(const void *whole, uint32_t len, uint32_t new_off)
{
    assert_true(r.tracked);
    assert_int_equal(r.len, len);
    assert_int_equal(r.new_off, new_off);
    assert_non_null(r.chunk);
    assert_memory_equal(r.chunk, whole, len);
}

/* Tracked, no new stream data. */
static void expect_nothing(void)
{
    assert_true(r.tracked);
    assert_int_equal(r.len, 0);
}

/* SYN, SYN/ACK, ACK on cf. */
static void handshake(void)
{
    cli(TCP_SYN, 0, 0, NULL, 0);
    assert_false(r.tracked); /* before the handshake completes: packet by packet */
    expect_state(TCP_SYN_SENT);
    srv(TCP_SYN | TCP_ACK, 0, 1, NULL, 0);
    assert_false(r.tracked);
    expect_state(TCP_SYN_RECV);
    cli(TCP_ACK, 1, 1, NULL, 0);
    assert_true(r.tracked);
    expect_state(TCP_ESTABLISHED);
    assert_int_equal(r.nevents, 0);
}

/* ===========================================================================
 * Sequence arithmetic, configuration, names
 * ========================================================================= */

static void test_seq_arithmetic_with_wraparound(void **state)
{
    (void)state;
    assert_true(SEQ_LT(1, 2));
    assert_false(SEQ_LT(2, 1));
    assert_false(SEQ_LT(7, 7));
    assert_true(SEQ_LEQ(7, 7));
    assert_true(SEQ_LEQ(6, 7));
    assert_false(SEQ_LEQ(8, 7));
    assert_true(SEQ_GT(2, 1));
    assert_false(SEQ_GT(7, 7));
    assert_true(SEQ_GEQ(7, 7));
    assert_false(SEQ_GEQ(6, 7));

    /* Across 2^32: 0xfffffff0 comes 32 before 0x10. */
    assert_true(SEQ_LT(0xfffffff0u, 0x10u));
    assert_true(SEQ_LEQ(0xfffffff0u, 0x10u));
    assert_false(SEQ_GT(0xfffffff0u, 0x10u));
    assert_false(SEQ_GEQ(0xfffffff0u, 0x10u));
    assert_true(SEQ_GT(0x10u, 0xfffffff0u));
    assert_true(SEQ_GEQ(0x10u, 0xfffffff0u));
    assert_false(SEQ_LT(0x10u, 0xfffffff0u));
    assert_true(SEQ_LT(0xffffffffu, 0u));
    assert_true(SEQ_GT(0u, 0xffffffffu));
    assert_true(SEQ_LEQ(0xffffffffu, 0xffffffffu));
    /* Up to 2^31 - 1 apart the order holds. */
    assert_true(SEQ_LT(0u, 0x7fffffffu));
    assert_true(SEQ_GT(0x7fffffffu, 0u));
    assert_true(SEQ_LT(0x80000000u, 0xfffffffeu));
    /* Arguments are taken as 32-bit sequence numbers. */
    uint64_t wide = 0x100000005ull;
    assert_true(SEQ_LT(wide, 6));
}

static void test_config_defaults(void **state)
{
    (void)state;
    struct stream_config c;
    memset(&c, 0xa5, sizeof c);
    stream_config_init(&c);
    assert_true(c.enabled);
    assert_false(c.midstream);
    assert_int_equal(c.memcap, 64ull * 1024 * 1024);
    assert_int_equal(c.memcap, STREAM_DEFAULT_MEMCAP);
    assert_int_equal(c.depth, 1024u * 1024);
    assert_int_equal(c.depth, STREAM_DEFAULT_DEPTH);
    assert_int_equal(c.inspect_window, 2048);
    assert_int_equal(c.inspect_window, STREAM_DEFAULT_INSPECT_WINDOW);
    assert_int_equal(c.max_wait, 256u * 1024);
    assert_int_equal(c.max_wait, STREAM_DEFAULT_MAX_WAIT);
    assert_null(c.policies);
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(tcp_state_name(TCP_NONE), "none");
    assert_string_equal(tcp_state_name(TCP_SYN_SENT), "syn_sent");
    assert_string_equal(tcp_state_name(TCP_SYN_RECV), "syn_recv");
    assert_string_equal(tcp_state_name(TCP_ESTABLISHED), "established");
    assert_string_equal(tcp_state_name(TCP_FIN_WAIT1), "fin_wait1");
    assert_string_equal(tcp_state_name(TCP_FIN_WAIT2), "fin_wait2");
    assert_string_equal(tcp_state_name(TCP_TIME_WAIT), "time_wait");
    assert_string_equal(tcp_state_name(TCP_CLOSE_WAIT), "close_wait");
    assert_string_equal(tcp_state_name(TCP_LAST_ACK), "last_ack");
    assert_string_equal(tcp_state_name(TCP_CLOSING), "closing");
    assert_string_equal(tcp_state_name(TCP_CLOSED), "closed");
    assert_string_equal(tcp_state_name(-1), "none");
    assert_string_equal(tcp_state_name(TCP_CLOSED + 1), "none");
    assert_string_equal(tcp_state_name(1000), "none");
}

static void test_disabled_engine_and_non_tcp_do_nothing(void **state)
{
    (void)state;
    cfg.enabled = false;
    open_engine();
    cli(TCP_SYN, 0, 0, NULL, 0);
    assert_false(r.tracked);
    assert_null(cf->tcp);
    assert_int_equal(counter(STAT_TCP_SYN), 0);
    done();

    cfg.enabled = true;
    open_engine();
    build(FLOW_TOSERVER, TCP_SYN, C, 0, NULL, 0, 0, NULL, 0);
    pkt.proto = 17; /* not TCP */
    run(cf, FLOW_TOSERVER);
    assert_false(r.tracked);
    assert_null(cf->tcp);
    build(FLOW_TOSERVER, TCP_SYN, C, 0, NULL, 0, 0, NULL, 0);
    stream_packet(se, NULL, &pkt, FLOW_TOSERVER, &r); /* no flow */
    assert_false(r.tracked);
    assert_int_equal(stream_engine_memuse(se), 0);
    done();
}

/* ===========================================================================
 * The three-way handshake
 * ========================================================================= */

static void test_three_way_handshake(void **state)
{
    (void)state;
    open_engine();
    expect_state(TCP_NONE);
    assert_string_equal(tcp_state_name(stream_flow_state(cf)), "none");

    cli(TCP_SYN, 0, 0, NULL, 0);
    assert_false(r.tracked); /* not reassembled before the handshake completes */
    assert_int_equal(r.len, 0);
    assert_int_equal(r.nevents, 0);
    assert_non_null(cf->tcp);
    expect_state(TCP_SYN_SENT);
    assert_string_equal(tcp_state_name(stream_flow_state(cf)), "syn_sent");
    assert_int_equal(counter(STAT_TCP_SESSIONS), 1);
    assert_int_equal(counter(STAT_TCP_SYN), 1);
    assert_true(stream_engine_memuse(se) > 0);
    assert_int_equal(counter(STAT_TCP_MEMUSE), stream_engine_memuse(se));

    srv(TCP_SYN | TCP_ACK, 0, 1, NULL, 0);
    assert_false(r.tracked);
    assert_int_equal(r.nevents, 0);
    expect_state(TCP_SYN_RECV);
    assert_string_equal(tcp_state_name(stream_flow_state(cf)), "syn_recv");
    assert_int_equal(counter(STAT_TCP_SYNACK), 1);

    cli(TCP_ACK, 1, 1, NULL, 0);
    assert_true(r.tracked);
    assert_int_equal(r.nevents, 0);
    expect_state(TCP_ESTABLISHED);
    assert_string_equal(tcp_state_name(stream_flow_state(cf)), "established");

    /* One session, no anomalies. */
    assert_int_equal(counter(STAT_TCP_SESSIONS), 1);
    assert_int_equal(counter(STAT_TCP_SYN), 1);
    assert_int_equal(counter(STAT_TCP_SYNACK), 1);
    assert_int_equal(counter(STAT_TCP_NO_SESSION), 0);
    assert_int_equal(counter(STAT_TCP_MIDSTREAM_PICKUPS), 0);
    done();
}

static void test_handshake_ack_carrying_data(void **state)
{
    (void)state;
    open_engine();
    cli(TCP_SYN, 0, 0, NULL, 0);
    srv(TCP_SYN | TCP_ACK, 0, 1, NULL, 0);
    cli(TCP_ACK | TCP_PSH, 1, 1, "GET / HTTP/1.0\r\n", 16);
    expect_state(TCP_ESTABLISHED);
    expect_chunk("GET / HTTP/1.0\r\n", 16, 0);
    done();
}

static void test_simultaneous_open(void **state)
{
    (void)state;
    open_engine();
    cli(TCP_SYN, 0, 0, NULL, 0);
    expect_state(TCP_SYN_SENT);
    srv(TCP_SYN, 0, 0, NULL, 0); /* the server's own SYN, not a SYN/ACK */
    assert_false(r.tracked);
    assert_int_equal(r.nevents, 0);
    expect_state(TCP_SYN_RECV);
    assert_int_equal(counter(STAT_TCP_SYN), 2);
    assert_int_equal(counter(STAT_TCP_SESSIONS), 1);

    /* Each side acknowledges the other's SYN with its own (same) ISN. */
    cli(TCP_SYN | TCP_ACK, 0, 1, NULL, 0);
    assert_int_equal(r.nevents, 0);
    expect_state(TCP_SYN_RECV);
    srv(TCP_SYN | TCP_ACK, 0, 1, NULL, 0);
    assert_int_equal(r.nevents, 0);
    expect_state(TCP_SYN_RECV);

    assert_false(r.tracked);
    /* The first segment after that establishes the session. */
    sdata(0, "220 ready\r\n", 11);
    expect_state(TCP_ESTABLISHED);
    expect_chunk("220 ready\r\n", 11, 0);
    cdata(0, "HELO x\r\n", 8);
    expect_chunk("HELO x\r\n", 8, 0);
    assert_int_equal(counter(STAT_TCP_SESSIONS), 1);
    done();
}

static void test_synack_with_wrong_ack(void **state)
{
    (void)state;
    open_engine();
    cli(TCP_SYN, 0, 0, NULL, 0);
    srv(TCP_SYN | TCP_ACK, 0, 5, NULL, 0); /* acks C+5, not C+1 */
    assert_true(has_event(DEV_STREAM_3WHS_SYNACK_WITH_WRONG_ACK));
    assert_false(r.tracked);
    expect_state(TCP_SYN_SENT);
    /* Its retransmission too. */
    srv(TCP_SYN | TCP_ACK, 0, 5, NULL, 0);
    assert_true(has_event(DEV_STREAM_3WHS_SYNACK_WITH_WRONG_ACK));
    expect_state(TCP_SYN_SENT);
    assert_int_equal(counter(STAT_TCP_SYNACK), 2);
    /* A correct SYN/ACK still counts. */
    srv(TCP_SYN | TCP_ACK, 0, 1, NULL, 0);
    assert_int_equal(r.nevents, 0);
    expect_state(TCP_SYN_RECV);
    cli(TCP_ACK, 1, 1, NULL, 0);
    expect_state(TCP_ESTABLISHED);
    assert_int_equal(r.nevents, 0);
    done();
}

static void test_syn_resend_with_different_seq(void **state)
{
    (void)state;
    open_engine();
    cli(TCP_SYN, 0, 0, NULL, 0);
    cli(TCP_SYN, 0, 0, NULL, 0); /* the same SYN again: fine */
    assert_int_equal(r.nevents, 0);
    expect_state(TCP_SYN_SENT);
    cli(TCP_SYN, 1000, 0, NULL, 0); /* a different ISN */
    assert_true(has_event(DEV_STREAM_3WHS_SYN_RESEND_DIFF_SEQ));
    expect_state(TCP_SYN_SENT);
    assert_int_equal(counter(STAT_TCP_SYN), 3);
    assert_int_equal(counter(STAT_TCP_SESSIONS), 1);
    /* The new ISN counts: a SYN/ACK for the old one is wrong... */
    srv(TCP_SYN | TCP_ACK, 0, 1, NULL, 0);
    assert_true(has_event(DEV_STREAM_3WHS_SYNACK_WITH_WRONG_ACK));
    expect_state(TCP_SYN_SENT);
    /* ...and one for the new one right. */
    srv(TCP_SYN | TCP_ACK, 0, 1001, NULL, 0);
    assert_int_equal(r.nevents, 0);
    expect_state(TCP_SYN_RECV);
    cli(TCP_ACK, 1001, 1, NULL, 0);
    expect_state(TCP_ESTABLISHED);
    cli(TCP_ACK | TCP_PSH, 1001, 1, "abc", 3);
    expect_chunk("abc", 3, 0);
    done();
}

static void test_handshake_anomalies(void **state)
{
    (void)state;
    open_engine();
    cli(TCP_SYN, 0, 0, NULL, 0);
    /* A SYN/ACK from the side that sent the SYN. */
    cli(TCP_SYN | TCP_ACK, 0, 1, NULL, 0);
    assert_true(has_event(DEV_STREAM_3WHS_SYNACK_IN_WRONG_DIRECTION));
    expect_state(TCP_SYN_SENT);
    /* The SYN's receiver acknowledges it without a SYN/ACK. */
    srv(TCP_ACK, 0, 1, NULL, 0);
    assert_true(has_event(DEV_STREAM_3WHS_ACK_IN_WRONG_DIR));
    assert_false(r.tracked);
    expect_state(TCP_SYN_SENT);
    srv(TCP_SYN | TCP_ACK, 0, 1, NULL, 0);
    expect_state(TCP_SYN_RECV);
    /* The third packet with a wrong ack, then a wrong seq. */
    cli(TCP_ACK, 1, 7, NULL, 0);
    assert_true(has_event(DEV_STREAM_3WHS_WRONG_SEQ_WRONG_ACK));
    expect_state(TCP_SYN_RECV);
    cli(TCP_ACK, 9, 1, NULL, 0);
    assert_true(has_event(DEV_STREAM_3WHS_WRONG_SEQ_WRONG_ACK));
    expect_state(TCP_SYN_RECV);
    cli(TCP_ACK, 1, 1, NULL, 0);
    assert_int_equal(r.nevents, 0);
    expect_state(TCP_ESTABLISHED);
    done();
}

static void test_lost_synack_is_picked_up_from_the_clients_ack(void **state)
{
    (void)state;
    open_engine();
    cli(TCP_SYN, 0, 0, NULL, 0);
    /* No SYN/ACK seen: the client's ACK tells the server's sequence number. */
    cli(TCP_ACK | TCP_PSH, 1, 1, "GET /", 5);
    assert_int_equal(r.nevents, 0);
    expect_state(TCP_ESTABLISHED);
    expect_chunk("GET /", 5, 0);
    sdata(0, "HTTP/", 5); /* at S+1, as acknowledged */
    expect_chunk("HTTP/", 5, 0);
    assert_int_equal(counter(STAT_TCP_SESSIONS), 1);
    assert_int_equal(counter(STAT_TCP_MIDSTREAM_PICKUPS), 0);
    done();
}

/* ===========================================================================
 * Data in order, the inspection window
 * ========================================================================= */

static void test_in_order_data_is_delivered_with_earlier_bytes_in_front(void **state)
{
    (void)state;
    open_engine();
    handshake();
    cdata(0, "hello", 5);
    expect_chunk("hello", 5, 0);
    cdata(5, " world", 6);
    expect_chunk("hello world", 11, 5);
    assert_int_equal(r.chunk_off, 0);
    cdata(11, "!", 1);
    expect_chunk("hello world!", 12, 11);

    /* The other direction is a stream of its own. */
    sdata(0, "HTTP/1.1 200 OK\r\n", 17);
    expect_chunk("HTTP/1.1 200 OK\r\n", 17, 0);
    sdata(17, "\r\n", 2);
    expect_chunk("HTTP/1.1 200 OK\r\n\r\n", 19, 17);
    /* A pure ACK delivers nothing. */
    cli(TCP_ACK, 13, 20, NULL, 0);
    expect_nothing();
    assert_int_equal(counter(STAT_TCP_OUT_OF_ORDER), 0);
    assert_int_equal(counter(STAT_TCP_RETRANSMISSIONS), 0);
    assert_int_equal(counter(STAT_TCP_OVERLAP), 0);
    done();
}

static void test_inspect_window_trims_the_earlier_bytes(void **state)
{
    (void)state;
    cfg.inspect_window = 64;
    open_engine();
    handshake();
    cpat(0, 50);
    expect_chunk(sb, 50, 0);
    cpat(50, 50); /* 50 earlier bytes: all of them */
    expect_chunk(sb, 100, 50);
    cpat(100, 50); /* 100 earlier bytes: the last 64 */
    expect_chunk(sb + 36, 114, 64);
    assert_int_equal(r.chunk_off, 36);
    cpat(150, 10);
    expect_chunk(sb + 86, 74, 64);
    /* A segment larger than the window comes whole. */
    cpat(160, 300);
    expect_chunk(sb + 96, 364, 64);
    assert_int_equal(r.chunk_off, 96);
    done();
}

/* ===========================================================================
 * Sequence numbers wrapping around 2^32
 * ========================================================================= */

static void test_session_wrapping_the_sequence_space(void **state)
{
    (void)state;
    open_engine();
    C = 0xfffffff0u;
    S = 0xffffffe0u;
    handshake();
    /* Bytes 0..39 of the client stream: seq 0xfffffff1 .. 0x18. */
    cpat(0, 40);
    expect_chunk(sb, 40, 0);
    cpat(40, 20);
    expect_chunk(sb, 60, 40);
    /* Out of order across the server's wrap: second half first. */
    sdata(60, sb + 1060, 40);
    expect_nothing();
    sdata(0, sb + 1000, 60);
    expect_chunk(sb + 1000, 100, 0);
    assert_int_equal(counter(STAT_TCP_OUT_OF_ORDER), 1);
    /* A retransmission straddling the wrap is recognized as one. */
    cdata(10, sb + 10, 20);
    assert_int_equal(r.len, 0);
    assert_int_equal(r.nevents, 0);
    assert_int_equal(counter(STAT_TCP_RETRANSMISSIONS), 1);
    /* Teardown across the wrap. */
    cli(TCP_FIN | TCP_ACK, 61, 101, NULL, 0);
    expect_state(TCP_FIN_WAIT1);
    srv(TCP_ACK, 101, 62, NULL, 0);
    expect_state(TCP_FIN_WAIT2);
    done();
}

static void test_isn_at_the_very_top(void **state)
{
    (void)state;
    open_engine();
    C = 0xffffffffu; /* the first data byte is seq 0 */
    handshake();
    cpat(5, 5);
    expect_nothing();
    cpat(0, 5);
    expect_chunk(sb, 10, 0);
    done();
}

/* ===========================================================================
 * Segments out of order
 * ========================================================================= */

static void test_out_of_order_segments_wait_for_the_hole(void **state)
{
    (void)state;
    open_engine();
    handshake();
    cpat(10, 10);
    expect_nothing();
    assert_true(stream_engine_memuse(se) > 0);
    cpat(20, 10);
    expect_nothing();
    assert_int_equal(counter(STAT_TCP_OUT_OF_ORDER), 2);
    /* The hole fills: one chunk, in order. */
    cpat(0, 10);
    expect_chunk(sb, 30, 0);
    assert_int_equal(r.nevents, 0);
    /* And the stream goes on behind it. */
    cpat(30, 5);
    expect_chunk(sb, 35, 30);
    /* A hole in the middle of waiting data. */
    cpat(45, 5);
    expect_nothing();
    cpat(55, 5);
    expect_nothing();
    cpat(35, 10);
    expect_chunk(sb, 50, 35);
    cpat(50, 5);
    expect_chunk(sb, 60, 50);
    assert_int_equal(counter(STAT_TCP_OVERLAP), 0);
    assert_int_equal(counter(STAT_TCP_REASSEMBLY_GAP), 0);
    done();
}

static void test_reverse_order_of_many_segments(void **state)
{
    (void)state;
    open_engine();
    handshake();
    const unsigned nseg = 40, len = 8;
    for (unsigned i = nseg; i-- > 1;) {
        cpat(i * len, len);
        expect_nothing();
    }
    assert_int_equal(counter(STAT_TCP_OUT_OF_ORDER), nseg - 1);
    cpat(0, len);
    expect_chunk(sb, nseg * len, 0);
    assert_int_equal(r.nevents, 0);
    done();
}

/*
 * Every byte delivered by one packet is handed back in its chunk, however
 * much that is: here 20 waiting segments (160 bytes) are delivered by the
 * one that fills the hole, with an inspection window of 64.
 */
static void test_delivery_larger_than_the_inspect_window_is_whole(void **state)
{
    (void)state;
    cfg.inspect_window = 64;
    open_engine();
    handshake();
    cpat(0, 16); /* some earlier bytes too */
    expect_chunk(sb, 16, 0);
    for (unsigned i = 20; i-- > 1;) {
        cpat(16 + i * 8, 8);
        expect_nothing();
    }
    cpat(16, 8);
    /* 160 new bytes, after at most 64 earlier ones. */
    assert_true(r.tracked);
    assert_int_equal(r.len - r.new_off, 160);
    assert_memory_equal(r.chunk + r.new_off, sb + 16, 160);
    expect_chunk(sb, 176, 16);
    done();
}

/* ===========================================================================
 * Overlap policies
 *
 * Two waiting segments carry the same bytes with different data: the
 * original O (units [2,4)) then the new one N. A filler H then closes the
 * hole in front and everything is delivered. Units are 4 bytes.
 *
 *   geometry  O      N       N compared with O
 *   0         [2,4)  [1,5)   starts before, ends after
 *   1         [2,4)  [1,4)   starts before, ends with it
 *   2         [2,4)  [2,4)   the same place
 *   3         [2,4)  [3,5)   starts inside (after), ends after
 *   4         [2,4)  [1,3)   starts before, ends inside
 *
 * Which copy wins, per defrag.h: first never; last always; bsd when N
 * starts before; bsd-right when it starts at or after; linux at or before;
 * windows before and ends after; solaris before and ends at or after.
 * ========================================================================= */

#define UNIT 4

static const struct {
    unsigned os, oe, ns, ne;
} geoms[] = {
    { 2, 4, 1, 5 }, { 2, 4, 1, 4 }, { 2, 4, 2, 4 }, { 2, 4, 3, 5 }, { 2, 4, 1, 3 },
};
#define NGEOMS (sizeof geoms / sizeof geoms[0])

static const struct {
    int policy;
    const char *new_wins; /* per geometry */
} policy_table[] = {
    { DEFRAG_POLICY_FIRST, "nnnnn" },     { DEFRAG_POLICY_LAST, "yyyyy" },
    { DEFRAG_POLICY_BSD, "yynny" },       { DEFRAG_POLICY_BSD_RIGHT, "nnyyn" },
    { DEFRAG_POLICY_LINUX, "yyyny" },     { DEFRAG_POLICY_WINDOWS, "ynnnn" },
    { DEFRAG_POLICY_SOLARIS, "yynnn" },
};
#define NPOLICIES (sizeof policy_table / sizeof policy_table[0])

/* The units the receiver should see for geometry g when N wins or not. */
static void expected_units(unsigned g, bool new_wins, char *out)
{
    unsigned first = geoms[g].os < geoms[g].ns ? geoms[g].os : geoms[g].ns;
    unsigned end = geoms[g].oe > geoms[g].ne ? geoms[g].oe : geoms[g].ne;
    for (unsigned u = 0; u < end; u++) {
        bool in_o = u >= geoms[g].os && u < geoms[g].oe;
        bool in_n = u >= geoms[g].ns && u < geoms[g].ne;
        out[u] = u < first ? 'H' : in_o && in_n ? (new_wins ? 'N' : 'O') : in_o ? 'O' : 'N';
    }
    out[end] = '\0';
}

/* Sends units [a, b) of letter ch in direction dir. */
static void send_units(int dir, unsigned a, unsigned b, char ch)
{
    uint8_t d[16 * UNIT];
    memset(d, ch, (b - a) * UNIT);
    if (dir == FLOW_TOSERVER)
        cdata(a * UNIT, d, (b - a) * UNIT);
    else
        sdata(a * UNIT, d, (b - a) * UNIT);
}

/* Runs geometry g on a fresh session and returns the delivered units. */
static void run_geometry(unsigned g, int dir, char *units)
{
    handshake();
    send_units(dir, geoms[g].os, geoms[g].oe, 'O');
    expect_nothing();
    assert_int_equal(r.nevents, 0);
    send_units(dir, geoms[g].ns, geoms[g].ne, 'N');
    expect_nothing();
    assert_true(has_event(DEV_STREAM_REASSEMBLY_OVERLAP_DIFFERENT_DATA));
    unsigned first = geoms[g].os < geoms[g].ns ? geoms[g].os : geoms[g].ns;
    send_units(dir, 0, first, 'H');
    assert_int_equal(r.nevents, 0);
    unsigned end = geoms[g].oe > geoms[g].ne ? geoms[g].oe : geoms[g].ne;
    assert_true(r.tracked);
    assert_int_equal(r.len, end * UNIT);
    assert_int_equal(r.new_off, 0);
    for (unsigned u = 0; u < end; u++) {
        for (unsigned k = 1; k < UNIT; k++)
            assert_int_equal(r.chunk[u * UNIT + k], r.chunk[u * UNIT]); /* whole units */
        units[u] = (char)r.chunk[u * UNIT];
    }
    units[end] = '\0';
    assert_int_equal(counter(STAT_TCP_OVERLAP_DIFF_DATA), 1);
    assert_true(counter(STAT_TCP_OVERLAP) >= 1);
    assert_int_equal(counter(STAT_TCP_OUT_OF_ORDER), 2);
}

static void test_overlap_policies_by_server_address(void **state)
{
    (void)state;
    for (size_t i = 0; i < NPOLICIES; i++) {
        int pol = policy_table[i].policy;
        for (unsigned g = 0; g < NGEOMS; g++) {
            if (se != NULL)
                done();
            defrag_config_release(&dcfg);
            defrag_config_init(&dcfg);
            /* A default that differs from the server's: the address decides. */
            dcfg.default_policy = pol == DEFRAG_POLICY_FIRST ? DEFRAG_POLICY_LAST
                                                             : DEFRAG_POLICY_FIRST;
            assert_int_equal(defrag_config_add_policy(&dcfg, SRV, pol), 0);
            cfg.policies = &dcfg;
            memset(&st, 0, sizeof st);
            memset(flows, 0, sizeof flows);
            open_engine();
            char got[16], want[16];
            run_geometry(g, FLOW_TOSERVER, got);
            expected_units(g, policy_table[i].new_wins[g] == 'y', want);
            if (strcmp(got, want) != 0)
                fail_msg("policy %s, geometry %u: got %s, want %s", defrag_policy_name(pol), g,
                         got, want);
        }
    }
    done();
}

static void test_overlap_policies_by_default_policy(void **state)
{
    (void)state;
    for (size_t i = 0; i < NPOLICIES; i++) {
        int pol = policy_table[i].policy;
        for (unsigned g = 0; g < NGEOMS; g++) {
            if (se != NULL)
                done();
            defrag_config_release(&dcfg);
            defrag_config_init(&dcfg);
            dcfg.default_policy = pol;
            cfg.policies = &dcfg;
            memset(&st, 0, sizeof st);
            memset(flows, 0, sizeof flows);
            open_engine();
            char got[16], want[16];
            /* The server's data: received by the client. */
            run_geometry(g, FLOW_TOCLIENT, got);
            expected_units(g, policy_table[i].new_wins[g] == 'y', want);
            if (strcmp(got, want) != 0)
                fail_msg("policy %s, geometry %u: got %s, want %s", defrag_policy_name(pol), g,
                         got, want);
        }
    }
    done();
}

static void test_overlap_policy_is_the_receivers(void **state)
{
    (void)state;
    dcfg.default_policy = DEFRAG_POLICY_FIRST;
    assert_int_equal(defrag_config_add_policy(&dcfg, SRV, DEFRAG_POLICY_LAST), 0);
    cfg.policies = &dcfg;
    open_engine();
    char got[16];
    /* Client to server: the server (last) keeps the new data. */
    run_geometry(2, FLOW_TOSERVER, got);
    assert_string_equal(got, "HHNN");
    restart();
    /* Server to client: the client (default, first) keeps the original. */
    run_geometry(2, FLOW_TOCLIENT, got);
    assert_string_equal(got, "HHOO");
    /* No policies at all: linux everywhere. */
    done();
    cfg.policies = NULL;
    memset(&st, 0, sizeof st);
    memset(flows, 0, sizeof flows);
    open_engine();
    run_geometry(2, FLOW_TOSERVER, got);
    assert_string_equal(got, "HHNN");
    restart();
    run_geometry(3, FLOW_TOCLIENT, got);
    assert_string_equal(got, "HHOON");
    done();
}

static void test_overlap_with_the_same_data_is_no_anomaly(void **state)
{
    (void)state;
    open_engine();
    handshake();
    cpat(8, 8);
    cpat(4, 16); /* covers it, same bytes */
    expect_nothing();
    assert_int_equal(r.nevents, 0);
    assert_true(counter(STAT_TCP_OVERLAP) >= 1);
    assert_int_equal(counter(STAT_TCP_OVERLAP_DIFF_DATA), 0);
    cpat(0, 4);
    expect_chunk(sb, 20, 0);
    assert_int_equal(r.nevents, 0);
    done();
}

/* ===========================================================================
 * Retransmissions and keep-alives
 * ========================================================================= */

static void test_identical_retransmission(void **state)
{
    (void)state;
    open_engine();
    handshake();
    cdata(0, "hello", 5);
    cdata(5, " world", 6);
    expect_chunk("hello world", 11, 5);
    cdata(0, "hello", 5); /* again */
    assert_true(r.tracked);
    assert_int_equal(r.len, 0);
    assert_int_equal(r.nevents, 0);
    assert_int_equal(counter(STAT_TCP_RETRANSMISSIONS), 1);
    assert_int_equal(counter(STAT_TCP_OVERLAP_DIFF_DATA), 0);
    cdata(0, "hello world", 11); /* all of it */
    assert_int_equal(r.len, 0);
    assert_int_equal(r.nevents, 0);
    assert_int_equal(counter(STAT_TCP_RETRANSMISSIONS), 2);
    cdata(11, "!", 1);
    expect_chunk("hello world!", 12, 11);
    done();
}

static void test_retransmission_with_different_data(void **state)
{
    (void)state;
    open_engine();
    handshake();
    cdata(0, "hello", 5);
    cdata(5, " world", 6);
    cdata(0, "HELLO", 5); /* the receiver has "hello": it keeps it */
    assert_true(r.tracked);
    assert_int_equal(r.len, 0);
    assert_true(has_event(DEV_STREAM_REASSEMBLY_OVERLAP_DIFFERENT_DATA));
    assert_int_equal(counter(STAT_TCP_OVERLAP_DIFF_DATA), 1);
    /* The stream is unchanged. */
    cdata(11, "!", 1);
    expect_chunk("hello world!", 12, 11);
    assert_int_equal(r.nevents, 0);
    /* Part old (different), part new: the new part is delivered, the old
     * one is not replaced. */
    cdata(9, "LD??", 4);
    assert_true(has_event(DEV_STREAM_REASSEMBLY_OVERLAP_DIFFERENT_DATA));
    expect_chunk("hello world!?", 13, 12);
    done();
}

static void test_partial_retransmission_delivers_only_the_new_bytes(void **state)
{
    (void)state;
    open_engine();
    handshake();
    cpat(0, 10);
    cpat(5, 15); /* 5 old (same) bytes, 10 new */
    assert_int_equal(r.nevents, 0);
    expect_chunk(sb, 20, 10);
    assert_int_equal(counter(STAT_TCP_OVERLAP_DIFF_DATA), 0);
    done();
}

static void test_keepalive_is_not_an_overlap(void **state)
{
    (void)state;
    open_engine();
    handshake();
    cdata(0, "hello", 5);
    /* One byte of junk just before next_seq. */
    cdata(4, "\0", 1);
    assert_true(r.tracked);
    assert_int_equal(r.len, 0);
    assert_int_equal(r.nevents, 0);
    assert_int_equal(counter(STAT_TCP_KEEPALIVE), 1);
    assert_int_equal(counter(STAT_TCP_OVERLAP), 0);
    assert_int_equal(counter(STAT_TCP_OVERLAP_DIFF_DATA), 0);
    assert_int_equal(counter(STAT_TCP_RETRANSMISSIONS), 0);
    cdata(5, "!", 1);
    expect_chunk("hello!", 6, 5);
    /* Two bytes before next_seq are a retransmission, not a probe. */
    cdata(4, "X!", 2);
    assert_true(has_event(DEV_STREAM_REASSEMBLY_OVERLAP_DIFFERENT_DATA));
    assert_int_equal(counter(STAT_TCP_KEEPALIVE), 1);
    done();
}

/* ===========================================================================
 * Gaps that never fill
 * ========================================================================= */

static void test_gap_skipped_when_the_receiver_acks_past_it(void **state)
{
    (void)state;
    open_engine();
    handshake();
    cpat(0, 10);
    expect_chunk(sb, 10, 0);
    cpat(20, 10); /* [10,20) is never seen */
    expect_nothing();
    /* The server acknowledges all 30 bytes: it got the hole's bytes. */
    srv(TCP_ACK, 1, 31, NULL, 0);
    assert_int_equal(r.nevents, 0);
    assert_int_equal(counter(STAT_TCP_REASSEMBLY_GAP), 0);
    /* The client's next segment skips the hole. */
    cpat(30, 10);
    assert_true(has_event(DEV_STREAM_REASSEMBLY_SEQ_GAP));
    assert_int_equal(counter(STAT_TCP_REASSEMBLY_GAP), 1);
    /* Nothing straddles the hole: the chunk starts after it (stream
     * offsets count the skipped bytes). */
    expect_chunk(sb + 20, 20, 0);
    assert_int_equal(r.chunk_off, 20);
    /* Then the stream goes on. */
    cpat(40, 5);
    expect_chunk(sb + 20, 25, 20);
    assert_int_equal(r.nevents, 0);
    /* The hole's bytes arriving late are old news. */
    cpat(10, 10);
    assert_int_equal(r.len, 0);
    assert_int_equal(counter(STAT_TCP_REASSEMBLY_GAP), 1);
    done();
}

static void test_gap_skipped_when_too_much_waits(void **state)
{
    (void)state;
    cfg.max_wait = 32;
    open_engine();
    handshake();
    cpat(10, 10);
    cpat(20, 10);
    cpat(30, 10); /* 30 bytes wait: still within max_wait */
    expect_nothing();
    assert_int_equal(r.nevents, 0);
    assert_int_equal(counter(STAT_TCP_REASSEMBLY_GAP), 0);
    cpat(40, 10); /* 40 > 32 */
    assert_true(has_event(DEV_STREAM_REASSEMBLY_SEQ_GAP));
    assert_int_equal(counter(STAT_TCP_REASSEMBLY_GAP), 1);
    expect_chunk(sb + 10, 40, 0);
    cpat(50, 5);
    expect_chunk(sb + 10, 45, 40);
    done();
}

/*
 * The packet that fills the first hole delivers bytes while a second hole
 * is known lost (the receiver acknowledged past it). The bytes delivered
 * are handed back whole; the second hole is skipped with the next packet,
 * since bytes on both sides of a hole cannot share one chunk.
 */
static void test_gap_skip_keeps_the_bytes_delivered_before_it(void **state)
{
    (void)state;
    open_engine();
    handshake();
    cpat(10, 10);
    cpat(30, 10); /* holes [0,10) and [20,30) */
    srv(TCP_ACK, 1, 41, NULL, 0); /* the server got all 40 bytes */
    cpat(0, 10); /* fills the first hole: [0,20) delivered */
    assert_false(has_event(DEV_STREAM_REASSEMBLY_SEQ_GAP));
    assert_true(r.tracked);
    assert_int_equal(r.len, 20);
    assert_int_equal(r.new_off, 0);
    assert_memory_equal(r.chunk, sb, 20);
    cpat(40, 5); /* the next packet: [20,30) is skipped, [30,45) delivered */
    assert_true(has_event(DEV_STREAM_REASSEMBLY_SEQ_GAP));
    assert_int_equal(counter(STAT_TCP_REASSEMBLY_GAP), 1);
    expect_chunk(sb + 30, 15, 0);
    done();
}

/* ===========================================================================
 * Depth
 * ========================================================================= */

static void test_reassembly_depth(void **state)
{
    (void)state;
    cfg.depth = 100;
    open_engine();
    handshake();
    cpat(0, 60);
    expect_chunk(sb, 60, 0);
    assert_int_equal(counter(STAT_TCP_STREAM_DEPTH_REACHED), 0);
    cpat(60, 60); /* only 40 of these are within the depth */
    expect_chunk(sb, 100, 60);
    assert_int_equal(counter(STAT_TCP_STREAM_DEPTH_REACHED), 1);
    /* After the depth, packets are inspected one by one again. */
    cpat(120, 20);
    assert_false(r.tracked);
    assert_int_equal(r.len, 0);
    cli(TCP_ACK, 141, 1, NULL, 0);
    assert_false(r.tracked);
    assert_int_equal(counter(STAT_TCP_STREAM_DEPTH_REACHED), 1);
    /* The other direction has a depth of its own. */
    sdata(0, sb, 30);
    expect_chunk(sb, 30, 0);
    sdata(30, sb + 30, 80);
    expect_chunk(sb, 100, 30);
    assert_int_equal(counter(STAT_TCP_STREAM_DEPTH_REACHED), 2);
    sdata(110, sb, 10);
    assert_false(r.tracked);
    expect_state(TCP_ESTABLISHED);
    done();
}

static void test_reassembly_depth_with_waiting_segments(void **state)
{
    (void)state;
    cfg.depth = 100;
    open_engine();
    handshake();
    cpat(50, 70); /* waits; trimmed to the depth */
    expect_nothing();
    cpat(0, 50);
    expect_chunk(sb, 100, 0);
    assert_int_equal(counter(STAT_TCP_STREAM_DEPTH_REACHED), 1);
    cpat(200, 10); /* far beyond the depth */
    assert_false(r.tracked);
    assert_int_equal(counter(STAT_TCP_STREAM_DEPTH_REACHED), 1);
    done();

    /* A segment starting beyond the depth while a hole is open. */
    memset(&st, 0, sizeof st);
    memset(flows, 0, sizeof flows);
    open_engine();
    handshake();
    cpat(20, 10);
    cpat(150, 10);
    assert_int_equal(counter(STAT_TCP_STREAM_DEPTH_REACHED), 1);
    assert_false(r.tracked);
    done();
}

/* ===========================================================================
 * Memcap
 * ========================================================================= */

static void test_memcap_drops_segments_and_memory_comes_back(void **state)
{
    (void)state;
    cfg.memcap = 4096;
    open_engine();
    /* Three sessions, each with a hole and many 100-byte segments behind it. */
    for (int k = 0; k < 3; k++) {
        cf = &flows[k];
        handshake();
    }
    uint64_t peak = 0;
    for (int k = 0; k < 3; k++) {
        cf = &flows[k];
        for (unsigned i = 1; i <= 40; i++) {
            cpat(i * 100, 100);
            assert_int_equal(r.len, 0);
            uint64_t m = stream_engine_memuse(se);
            assert_true(m <= cfg.memcap);
            assert_int_equal(counter(STAT_TCP_MEMUSE), m);
            if (m > peak)
                peak = m;
        }
    }
    assert_true(counter(STAT_TCP_SEGMENT_MEMCAP_DROP) > 0);
    assert_true(peak > cfg.memcap / 2);
    /* Data that overlaps nothing and fills nothing keeps being refused. */
    uint64_t drops = counter(STAT_TCP_SEGMENT_MEMCAP_DROP);
    cf = &flows[2];
    cpat(10000, 100);
    assert_true(counter(STAT_TCP_SEGMENT_MEMCAP_DROP) > drops);
    assert_true(stream_engine_memuse(se) <= cfg.memcap);

    /* Freeing the flows returns everything. */
    uint64_t before = stream_engine_memuse(se);
    stream_flow_free(se, &flows[0]);
    assert_true(stream_engine_memuse(se) < before);
    assert_null(flows[0].tcp);
    stream_flow_free(se, &flows[0]); /* twice is harmless */
    stream_flow_free(se, &flows[1]);
    stream_flow_free(se, &flows[2]);
    assert_int_equal(stream_engine_memuse(se), 0);
    assert_int_equal(counter(STAT_TCP_MEMUSE), 0);

    /* And the engine works again. */
    memset(flows, 0, sizeof flows);
    cf = &flows[0];
    handshake();
    cpat(0, 100);
    expect_chunk(sb, 100, 0);
    done();
}

static void test_memcap_too_small_for_a_session(void **state)
{
    (void)state;
    cfg.memcap = 16;
    open_engine();
    cli(TCP_SYN, 0, 0, NULL, 0);
    assert_null(cf->tcp);
    assert_false(r.tracked);
    assert_true(counter(STAT_TCP_SEGMENT_MEMCAP_DROP) > 0);
    assert_int_equal(counter(STAT_TCP_SESSIONS), 0);
    assert_int_equal(stream_engine_memuse(se), 0);
    done();
}

static void test_memcap_buffer_refused_inspects_the_packet_on_its_own(void **state)
{
    (void)state;
    cfg.memcap = 1000; /* a session, but not the 1024-byte buffer beside it */
    open_engine();
    handshake();
    cpat(0, 100);
    assert_false(r.tracked); /* inspected on its own */
    assert_int_equal(r.len, 0);
    assert_true(counter(STAT_TCP_SEGMENT_MEMCAP_DROP) > 0);
    cpat(100, 100);
    assert_false(r.tracked);
    done();
}

/*
 * A segment the memcap keeps out of the waiting list is lost to stream
 * inspection: its packet must then be inspected on its own (tracked
 * false), as for bytes delivered without room in the buffer.
 */
static void test_memcap_dropped_segment_inspects_the_packet_on_its_own(void **state)
{
    (void)state;
    cfg.memcap = 4096;
    open_engine();
    handshake();
    cpat(0, 10); /* the buffer exists */
    for (unsigned i = 1; i <= 40; i++) {
        uint64_t drops = counter(STAT_TCP_SEGMENT_MEMCAP_DROP);
        cpat(10 + i * 100, 100); /* behind a hole at [10,110) */
        if (counter(STAT_TCP_SEGMENT_MEMCAP_DROP) > drops) {
            assert_int_equal(r.len, 0);
            if (r.tracked)
                fail_msg("segment %u was dropped by the memcap but its packet is still "
                         "'tracked' (its payload is inspected neither in the stream nor "
                         "on its own)", i);
            done();
            return;
        }
        expect_nothing();
    }
    fail_msg("the memcap was never reached");
}

/* ===========================================================================
 * Teardown
 * ========================================================================= */

static void test_fin_teardown(void **state)
{
    (void)state;
    open_engine();
    handshake();
    cdata(0, "bye", 3);
    srv(TCP_ACK, 1, 4, NULL, 0);
    /* The client closes (its FIN is seq C+4). */
    cli(TCP_FIN | TCP_ACK, 4, 1, NULL, 0);
    assert_true(r.tracked);
    expect_state(TCP_FIN_WAIT1);
    assert_string_equal(tcp_state_name(stream_flow_state(cf)), "fin_wait1");
    srv(TCP_ACK, 1, 5, NULL, 0); /* acks the FIN */
    expect_state(TCP_FIN_WAIT2);
    assert_string_equal(tcp_state_name(stream_flow_state(cf)), "fin_wait2");
    /* The server may still send. */
    srv(TCP_ACK | TCP_PSH, 1, 5, "ok", 2);
    expect_chunk("ok", 2, 0);
    expect_state(TCP_FIN_WAIT2);
    srv(TCP_FIN | TCP_ACK, 3, 5, NULL, 0); /* its FIN is seq S+3 */
    /* The second FIN, its ACK not yet seen. */
    expect_state(TCP_TIME_WAIT);
    assert_string_equal(tcp_state_name(stream_flow_state(cf)), "time_wait");
    assert_true(r.tracked);
    cli(TCP_ACK, 5, 3, NULL, 0); /* acks the data, not yet the FIN */
    expect_state(TCP_TIME_WAIT);
    cli(TCP_ACK, 5, 4, NULL, 0);
    /* Both FINs acknowledged: the close is complete. */
    expect_state(TCP_CLOSED);
    assert_string_equal(tcp_state_name(stream_flow_state(cf)), "closed");
    assert_int_equal(r.nevents, 0);
    /* The receiver takes no more data: nothing reassembled, and the
     * payload is not matched either (tracked, no chunk). */
    cdata(3, "late", 4);
    assert_true(r.tracked);
    assert_int_equal(r.len, 0);
    expect_state(TCP_CLOSED);
    done();
}

static void test_fin_with_data(void **state)
{
    (void)state;
    open_engine();
    handshake();
    cli(TCP_FIN | TCP_ACK | TCP_PSH, 1, 1, "last", 4); /* FIN at C+5 */
    expect_chunk("last", 4, 0);
    expect_state(TCP_FIN_WAIT1);
    srv(TCP_ACK, 1, 5, NULL, 0); /* acks the data, not the FIN */
    expect_state(TCP_FIN_WAIT1);
    srv(TCP_ACK, 1, 6, NULL, 0);
    expect_state(TCP_FIN_WAIT2);
    done();
}

static void test_simultaneous_close(void **state)
{
    (void)state;
    open_engine();
    handshake();
    cli(TCP_FIN | TCP_ACK, 1, 1, NULL, 0);
    expect_state(TCP_FIN_WAIT1);
    srv(TCP_FIN | TCP_ACK, 1, 1, NULL, 0); /* crosses the client's FIN */
    expect_state(TCP_CLOSING);
    assert_string_equal(tcp_state_name(stream_flow_state(cf)), "closing");
    assert_true(r.tracked);
    cli(TCP_ACK, 2, 2, NULL, 0);
    expect_state(TCP_CLOSING);
    srv(TCP_ACK, 2, 2, NULL, 0);
    expect_state(TCP_CLOSED);
    done();
}

static void test_rst_closes_the_session(void **state)
{
    (void)state;
    open_engine();
    handshake();
    cdata(0, "hello", 5);
    srv(TCP_RST | TCP_ACK, 1, 6, NULL, 0);
    expect_state(TCP_CLOSED);
    assert_string_equal(tcp_state_name(stream_flow_state(cf)), "closed");
    assert_int_equal(r.len, 0);
    assert_int_equal(r.nevents, 0);
    assert_int_equal(counter(STAT_TCP_RST), 1);
    /* Afterwards nothing is reassembled, and packets are inspected one by
     * one (not tracked): a reset the host refused must not blind the
     * sensor to the rest of the session. */
    uint64_t mem = stream_engine_memuse(se);
    cdata(5, "more", 4);
    assert_false(r.tracked);
    assert_int_equal(r.len, 0);
    cdata(20, "ahead", 5);
    assert_false(r.tracked);
    assert_int_equal(r.len, 0);
    assert_int_equal(stream_engine_memuse(se), mem);
    sdata(0, "x", 1);
    assert_false(r.tracked);
    assert_int_equal(r.len, 0);
    expect_state(TCP_CLOSED);
    assert_int_equal(counter(STAT_TCP_OUT_OF_ORDER), 0);
    done();
}

static void test_rst_during_handshake(void **state)
{
    (void)state;
    open_engine();
    cli(TCP_SYN, 0, 0, NULL, 0);
    srv(TCP_RST | TCP_ACK, 0, 1, NULL, 0); /* port closed */
    expect_state(TCP_CLOSED);
    assert_int_equal(r.len, 0);
    cdata(0, "data", 4);
    assert_int_equal(r.len, 0);
    expect_state(TCP_CLOSED);
    restart();
    cli(TCP_SYN, 0, 0, NULL, 0);
    srv(TCP_SYN | TCP_ACK, 0, 1, NULL, 0);
    cli(TCP_RST, 1, 0, NULL, 0);
    expect_state(TCP_CLOSED);
    assert_int_equal(r.len, 0);
    done();
}

static void test_rst_out_of_window_is_invalid(void **state)
{
    (void)state;
    open_engine();
    handshake();
    srv(TCP_RST, 1u + 0x10000000u, 0, NULL, 0);
    assert_true(has_event(DEV_STREAM_SUSPECTED_RST_INJECT));
    expect_state(TCP_ESTABLISHED);
    assert_true(r.tracked);
    cdata(0, "still", 5);
    expect_chunk("still", 5, 0);
    done();
}

static void test_rst_without_session(void **state)
{
    (void)state;
    open_engine();
    cli(TCP_RST | TCP_ACK, 1, 1, NULL, 0);
    assert_true(has_event(DEV_STREAM_RST_BUT_NO_SESSION));
    assert_false(r.tracked);
    assert_null(cf->tcp);
    expect_state(TCP_NONE);
    assert_int_equal(counter(STAT_TCP_RST), 1);
    assert_int_equal(counter(STAT_TCP_SESSIONS), 0);
    done();

    /* Even with midstream pickup on. */
    cfg.midstream = true;
    open_engine();
    cli(TCP_RST, 1, 0, NULL, 0);
    assert_true(has_event(DEV_STREAM_RST_BUT_NO_SESSION));
    assert_null(cf->tcp);
    done();
}

static void test_fin_without_session(void **state)
{
    (void)state;
    open_engine();
    cli(TCP_FIN | TCP_ACK, 1, 1, NULL, 0);
    assert_true(has_event(DEV_STREAM_FIN_BUT_NO_SESSION));
    assert_false(r.tracked);
    assert_null(cf->tcp);
    assert_int_equal(counter(STAT_TCP_NO_SESSION), 1);
    done();
}

/* ===========================================================================
 * Sessions without a handshake
 * ========================================================================= */

static void test_data_without_handshake_is_not_tracked(void **state)
{
    (void)state;
    open_engine();
    cdata(0, "hello", 5);
    assert_false(r.tracked);
    assert_int_equal(r.len, 0);
    assert_int_equal(r.nevents, 0);
    assert_null(cf->tcp);
    assert_int_equal(counter(STAT_TCP_NO_SESSION), 1);
    sdata(0, "world", 5);
    assert_false(r.tracked);
    assert_int_equal(counter(STAT_TCP_NO_SESSION), 2);
    assert_int_equal(counter(STAT_TCP_MIDSTREAM_PICKUPS), 0);
    assert_int_equal(counter(STAT_TCP_SESSIONS), 0);
    assert_int_equal(stream_engine_memuse(se), 0);
    done();
}

static void test_midstream_pickup(void **state)
{
    (void)state;
    cfg.midstream = true;
    open_engine();
    cdata(100, "hello", 5);
    assert_true(r.tracked);
    assert_non_null(cf->tcp);
    expect_state(TCP_ESTABLISHED);
    expect_chunk("hello", 5, 0);
    assert_int_equal(counter(STAT_TCP_MIDSTREAM_PICKUPS), 1);
    assert_int_equal(counter(STAT_TCP_SESSIONS), 1);
    assert_int_equal(counter(STAT_TCP_NO_SESSION), 0);
    cdata(105, " world", 6);
    expect_chunk("hello world", 11, 5);
    /* The server's side starts at what the client acknowledged (S+1). */
    sdata(0, "reply", 5);
    expect_chunk("reply", 5, 0);
    /* Out of order works as usual. */
    cdata(113, "d", 1);
    expect_nothing();
    cdata(111, "an", 2);
    expect_chunk("hello worldand", 14, 11);
    assert_int_equal(counter(STAT_TCP_MIDSTREAM_PICKUPS), 1);
    done();
}

static void test_midstream_pickup_on_synack(void **state)
{
    (void)state;
    cfg.midstream = true;
    open_engine();
    srv(TCP_SYN | TCP_ACK, 0, 1, NULL, 0);
    assert_false(r.tracked);
    expect_state(TCP_SYN_RECV);
    assert_int_equal(counter(STAT_TCP_MIDSTREAM_PICKUPS), 1);
    cli(TCP_ACK, 1, 1, NULL, 0);
    expect_state(TCP_ESTABLISHED);
    cdata(0, "abc", 3);
    expect_chunk("abc", 3, 0);
    sdata(0, "xyz", 3);
    expect_chunk("xyz", 3, 0);
    done();
}

/* ===========================================================================
 * Windows
 * ========================================================================= */

static void test_segment_far_out_of_window(void **state)
{
    (void)state;
    open_engine();
    handshake(); /* the server advertised 65535, unscaled */
    uint64_t mem = stream_engine_memuse(se);
    cdata(1000000, "0123456789", 10);
    assert_true(has_event(DEV_STREAM_EST_PACKET_OUT_OF_WINDOW));
    assert_int_equal(r.len, 0);
    assert_int_equal(stream_engine_memuse(se), mem); /* nothing kept */
    assert_int_equal(counter(STAT_TCP_OUT_OF_ORDER), 0);
    /* Ahead but within the window: it waits. */
    cdata(100000, "0123456789", 10);
    assert_int_equal(r.nevents, 0);
    expect_nothing();
    assert_true(stream_engine_memuse(se) > mem);
    /* Far behind. */
    cpat(0, 10);
    cdata(0u - 0x50000000u, "old", 3);
    assert_true(has_event(DEV_STREAM_EST_PACKET_OUT_OF_WINDOW));
    assert_int_equal(r.len, 0);
    /* The stream is unaffected. */
    cpat(10, 10);
    expect_chunk(sb, 20, 10);
    done();
}

static void test_window_scaling(void **state)
{
    (void)state;
    static const uint8_t ws7[4] = { 1, 3, 3, 7 }; /* NOP, window scale 7 */
    open_engine();
    xmit_ex(FLOW_TOSERVER, TCP_SYN, C, 0, NULL, 0, 0, ws7, sizeof ws7);
    xmit_ex(FLOW_TOCLIENT, TCP_SYN | TCP_ACK, S, C + 1, NULL, 0, 1000, ws7, sizeof ws7);
    cli(TCP_ACK, 1, 1, NULL, 0);
    expect_state(TCP_ESTABLISHED);
    /* The server's window: 1000 << 7 = 128000 bytes. */
    xmit_ex(FLOW_TOCLIENT, TCP_ACK, S + 1, C + 1, NULL, 0, 1000, NULL, 0);
    cdata(300000, "0123456789", 10);
    assert_int_equal(r.nevents, 0);
    cdata(400000, "x", 1);
    assert_true(has_event(DEV_STREAM_EST_PACKET_OUT_OF_WINDOW));
    done();

    /* Scaling counts only when both SYNs carry it. */
    memset(flows, 0, sizeof flows);
    open_engine();
    xmit_ex(FLOW_TOSERVER, TCP_SYN, C, 0, NULL, 0, 0, ws7, sizeof ws7);
    xmit_ex(FLOW_TOCLIENT, TCP_SYN | TCP_ACK, S, C + 1, NULL, 0, 1000, NULL, 0);
    cli(TCP_ACK, 1, 1, NULL, 0);
    xmit_ex(FLOW_TOCLIENT, TCP_ACK, S + 1, C + 1, NULL, 0, 1000, NULL, 0);
    cdata(300000, "x", 1);
    assert_true(has_event(DEV_STREAM_EST_PACKET_OUT_OF_WINDOW));
    done();
}

static void test_flow_bytes(void **state)
{
    (void)state;
    open_engine();
    uint64_t n = 12345;
    assert_false(stream_flow_bytes(cf, FLOW_TOSERVER, &n));
    handshake();
    cdata(0, "hello world", 11);
    assert_true(stream_flow_bytes(cf, FLOW_TOSERVER, &n));
    assert_int_equal(n, 12); /* the SYN counts one */
    assert_true(stream_flow_bytes(cf, FLOW_TOCLIENT, &n));
    assert_int_equal(n, 1);
    done();

    /* Midstream: the bytes seen since the pickup. */
    cfg.midstream = true;
    memset(flows, 0, sizeof flows);
    open_engine();
    cdata(100, "abcd", 4);
    assert_true(stream_flow_bytes(cf, FLOW_TOSERVER, &n));
    assert_int_equal(n, 4);
    done();
}

/* ===========================================================================
 * Behind a flow table
 * ========================================================================= */

static void end_flow(void *ctx, struct flow *f, enum flow_end_reason reason)
{
    (void)reason;
    stream_flow_free(ctx, f);
}

static void test_with_a_flow_table(void **state)
{
    (void)state;
    open_engine();
    struct flow_config fc;
    flow_config_defaults(&fc);
    fc.hash_size = 64;
    struct stats fst;
    memset(&fst, 0, sizeof fst);
    struct flow_table *t = flow_table_new(&fc, &fst, end_flow, se);
    assert_non_null(t);
    static const struct {
        int dir;
        uint8_t flags;
        uint32_t seq, ack;
        const char *data;
    } script[] = {
        { FLOW_TOSERVER, TCP_SYN, 0, 0, NULL },
        { FLOW_TOCLIENT, TCP_SYN | TCP_ACK, 0, 1, NULL },
        { FLOW_TOSERVER, TCP_ACK, 1, 1, NULL },
        { FLOW_TOSERVER, TCP_ACK | TCP_PSH, 6, 1, "world" },
        { FLOW_TOSERVER, TCP_ACK | TCP_PSH, 1, 1, "hello" },
        { FLOW_TOCLIENT, TCP_ACK | TCP_PSH, 1, 11, "ok" },
    };
    struct flow *f = NULL;
    for (size_t i = 0; i < sizeof script / sizeof script[0]; i++) {
        int want = script[i].dir;
        uint32_t seq = (want == FLOW_TOSERVER ? C : S) + script[i].seq;
        uint32_t ack = script[i].ack ? (want == FLOW_TOSERVER ? S : C) + script[i].ack : 0;
        size_t n = script[i].data ? strlen(script[i].data) : 0;
        build(want, script[i].flags, seq, ack, script[i].data, n, 0, NULL, 0);
        int dir = -1;
        struct flow *g = flow_handle_packet(t, &pkt, &dir);
        assert_non_null(g);
        if (f != NULL)
            assert_ptr_equal(g, f);
        f = g;
        assert_int_equal(dir, want);
        run(f, dir);
        assert_int_equal(r.tracked, i >= 2);
        if (i == 3)
            assert_int_equal(r.len, 0);
        if (i == 4)
            expect_chunk("helloworld", 10, 0);
        if (i == 5)
            expect_chunk("ok", 2, 0);
    }
    assert_int_equal(stream_flow_state(f), TCP_ESTABLISHED);
    assert_true(stream_engine_memuse(se) > 0);
    struct timeval end = { T0 + 3600, 0 };
    flow_table_flush(t, &end); /* ends the flow: end_flow frees the session */
    assert_int_equal(stream_engine_memuse(se), 0);
    flow_table_free(t);
    done();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_seq_arithmetic_with_wraparound),
        T(test_config_defaults),
        T(test_state_names),
        T(test_disabled_engine_and_non_tcp_do_nothing),
        T(test_three_way_handshake),
        T(test_handshake_ack_carrying_data),
        T(test_simultaneous_open),
        T(test_synack_with_wrong_ack),
        T(test_syn_resend_with_different_seq),
        T(test_handshake_anomalies),
        T(test_lost_synack_is_picked_up_from_the_clients_ack),
        T(test_in_order_data_is_delivered_with_earlier_bytes_in_front),
        T(test_inspect_window_trims_the_earlier_bytes),
        T(test_session_wrapping_the_sequence_space),
        T(test_isn_at_the_very_top),
        T(test_out_of_order_segments_wait_for_the_hole),
        T(test_reverse_order_of_many_segments),
        T(test_delivery_larger_than_the_inspect_window_is_whole),
        T(test_overlap_policies_by_server_address),
        T(test_overlap_policies_by_default_policy),
        T(test_overlap_policy_is_the_receivers),
        T(test_overlap_with_the_same_data_is_no_anomaly),
        T(test_identical_retransmission),
        T(test_retransmission_with_different_data),
        T(test_partial_retransmission_delivers_only_the_new_bytes),
        T(test_keepalive_is_not_an_overlap),
        T(test_gap_skipped_when_the_receiver_acks_past_it),
        T(test_gap_skipped_when_too_much_waits),
        T(test_gap_skip_keeps_the_bytes_delivered_before_it),
        T(test_reassembly_depth),
        T(test_reassembly_depth_with_waiting_segments),
        T(test_memcap_drops_segments_and_memory_comes_back),
        T(test_memcap_too_small_for_a_session),
        T(test_memcap_buffer_refused_inspects_the_packet_on_its_own),
        T(test_memcap_dropped_segment_inspects_the_packet_on_its_own),
        T(test_fin_teardown),
        T(test_fin_with_data),
        T(test_simultaneous_close),
        T(test_rst_closes_the_session),
        T(test_rst_during_handshake),
        T(test_rst_out_of_window_is_invalid),
        T(test_rst_without_session),
        T(test_fin_without_session),
        T(test_data_without_handshake_is_not_tracked),
        T(test_midstream_pickup),
        T(test_midstream_pickup_on_synack),
        T(test_segment_far_out_of_window),
        T(test_window_scaling),
        T(test_flow_bytes),
        T(test_with_a_flow_table),
#undef T
    };
    log_set_level(LOG_LVL_ERROR); /* the memcap tests warn on purpose */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
