/* Unit tests for src/flow: keys and hashing, direction, TCP state, port
 * reuse, packet-time timeouts, flush reasons, memcap and emergency mode. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/decode.h"
#include "flow/flow.h"
#include "output/stats.h"
#include "pktbuild.h"

#define T0 1714564800 /* 2024-05-01T12:00:00Z */
#define MAX_ENDED 4096

struct ended {
    struct flow f; /* a copy: the flow is freed after the callback */
    enum flow_end_reason reason;
};

struct fixture {
    struct flow_config cfg;
    struct stats stats;
    struct flow_table *t;
    struct ended ended[MAX_ENDED];
    unsigned nended;
};

static void collect_end(void *ctx, struct flow *f, enum flow_end_reason reason)
{
    struct fixture *fx = ctx;
    if (fx->nended >= MAX_ENDED)
        fail_msg("too many ended flows");
    fx->ended[fx->nended].f = *f;
    fx->ended[fx->nended].reason = reason;
    fx->nended++;
}

static void fx_open(struct fixture *fx)
{
    fx->t = flow_table_new(&fx->cfg, &fx->stats, collect_end, fx);
    assert_non_null(fx->t);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    flow_config_defaults(&fx->cfg);
    fx->cfg.hash_size = 1024;
    fx_open(fx);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    flow_table_free(fx->t);
    free(fx);
    return 0;
}

/* A decoded packet built field by field (flow_handle_packet reads no bytes). */
static struct packet pkt(const char *src, uint16_t sp, const char *dst, uint16_t dp,
                         uint8_t proto, uint8_t tcp_flags, time_t sec, suseconds_t usec,
                         uint32_t len)
{
    struct packet p;
    memset(&p, 0, sizeof p);
    p.ts.tv_sec = sec;
    p.ts.tv_usec = usec;
    p.caplen = p.wirelen = len;
    p.linktype = LINK_RAW;
    p.flags = PKT_HAS_TUPLE;
    int af = strchr(src, ':') ? AF_INET6 : AF_INET;
    p.ip_ver = af == AF_INET6 ? 6 : 4;
    if (inet_pton(af, src, p.src.b) != 1 || inet_pton(af, dst, p.dst.b) != 1)
        fail_msg("bad test address %s or %s", src, dst);
    p.proto = proto;
    if (proto == 6 || proto == 17) {
        p.flags |= PKT_HAS_PORTS;
        p.sp = sp;
        p.dp = dp;
    }
    if (proto == 6)
        p.tcp.flags = tcp_flags;
    return p;
}

/* The reverse of p: addresses and ports swapped. */
static struct packet reply(const struct packet *p, uint8_t tcp_flags, time_t sec,
                           suseconds_t usec, uint32_t len)
{
    struct packet r = *p;
    r.src = p->dst;
    r.dst = p->src;
    r.sp = p->dp;
    r.dp = p->sp;
    r.tcp.flags = tcp_flags;
    r.ts.tv_sec = sec;
    r.ts.tv_usec = usec;
    r.caplen = r.wirelen = len;
    return r;
}

static struct flow *handle(struct fixture *fx, const struct packet *p, int want_dir)
{
    int dir = -1;
    struct flow *f = flow_handle_packet(fx->t, p, &dir);
    assert_non_null(f);
    assert_int_equal(dir, want_dir);
    return f;
}

static uint64_t counter(const struct fixture *fx, int id)
{
    return stats_get(&fx->stats, id);
}

/* The address of the flow's client side as a packet address. */
static bool client_is(const struct flow *f, const struct ip_addr *a, uint16_t port)
{
    return memcmp(&f->key.addr[f->client_idx], a, sizeof *a) == 0 &&
           f->key.port[f->client_idx] == port;
}

/* A full TCP handshake from c:cp to 10.0.0.1:80 at second sec; returns the flow. */
static struct flow *handshake(struct fixture *fx, const char *c, uint16_t cp, time_t sec)
{
    struct packet syn = pkt(c, cp, "10.0.0.1", 80, 6, TCP_SYN, sec, 0, 60);
    struct flow *f = handle(fx, &syn, FLOW_TOSERVER);
    struct packet sa = reply(&syn, TCP_SYN | TCP_ACK, sec, 1000, 60);
    assert_ptr_equal(handle(fx, &sa, FLOW_TOCLIENT), f);
    struct packet ack = reply(&sa, TCP_ACK, sec, 2000, 52);
    assert_ptr_equal(handle(fx, &ack, FLOW_TOSERVER), f);
    return f;
}

/* ---------------------------------------------------------------------------
 * Keys and hashing
 * ------------------------------------------------------------------------- */

static void test_hash_and_key_are_symmetric(void **state)
{
    (void)state;
    static const struct { const char *a, *b; uint8_t proto; } cases[] = {
        { "10.0.0.2", "10.0.0.1", 6 },
        { "192.168.1.1", "192.168.1.1", 17 }, /* same address: ports decide */
        { "2001:db8::2", "2001:db8::1", 6 },
        { "10.0.0.1", "10.0.0.200", 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct packet p = pkt(cases[i].a, 40000, cases[i].b, 80, cases[i].proto, 0, T0, 0, 60);
        struct packet r = reply(&p, 0, T0, 0, 60);
        struct flow_key k1, k2;
        uint64_t h1 = flow_key_from_packet(&p, &k1), h2 = flow_key_from_packet(&r, &k2);
        assert_int_equal(h1, h2);
        assert_memory_equal(&k1, &k2, sizeof k1);
        assert_int_equal(flow_hash_packet(&p), h1);
        assert_int_equal(flow_hash_packet(&r), h1);
    }
}

static void test_key_puts_lower_endpoint_first(void **state)
{
    (void)state;
    struct packet p = pkt("10.0.0.9", 1111, "10.0.0.1", 2222, 17, 0, T0, 0, 60);
    struct flow_key k;
    flow_key_from_packet(&p, &k);
    assert_memory_equal(&k.addr[0], &p.dst, sizeof p.dst);
    assert_int_equal(k.port[0], 2222);
    assert_int_equal(k.port[1], 1111);
    assert_int_equal(k.proto, 17);
    assert_int_equal(k.ip_ver, 4);
}

static void test_hash_differs_for_different_tuples(void **state)
{
    (void)state;
    struct packet base = pkt("10.0.0.2", 40000, "10.0.0.1", 80, 6, 0, T0, 0, 60);
    struct packet other_port = pkt("10.0.0.2", 40001, "10.0.0.1", 80, 6, 0, T0, 0, 60);
    struct packet other_proto = pkt("10.0.0.2", 40000, "10.0.0.1", 80, 17, 0, T0, 0, 60);
    struct packet other_addr = pkt("10.0.0.3", 40000, "10.0.0.1", 80, 6, 0, T0, 0, 60);
    uint64_t h = flow_hash_packet(&base);
    assert_int_not_equal(h, flow_hash_packet(&other_port));
    assert_int_not_equal(h, flow_hash_packet(&other_proto));
    assert_int_not_equal(h, flow_hash_packet(&other_addr));
}

static void test_hash_is_zero_without_tuple(void **state)
{
    (void)state;
    struct packet p = pkt("10.0.0.2", 1, "10.0.0.1", 2, 17, 0, T0, 0, 60);
    p.flags = 0;
    assert_int_equal(flow_hash_packet(&p), 0);
}

static void test_vlan_is_part_of_the_key(void **state)
{
    struct fixture *fx = *state;
    struct packet a = pkt("10.0.0.2", 5000, "10.0.0.1", 53, 17, 0, T0, 0, 80);
    struct packet b = a;
    a.vlan_cnt = 1;
    a.vlan[0] = 10;
    b.vlan_cnt = 1;
    b.vlan[0] = 20;
    assert_int_not_equal(flow_hash_packet(&a), flow_hash_packet(&b));
    struct flow *fa = handle(fx, &a, FLOW_TOSERVER);
    struct flow *fb = handle(fx, &b, FLOW_TOSERVER);
    assert_ptr_not_equal(fa, fb);
    assert_int_equal(fa->key.vlan[0], 10);
    assert_int_equal(fb->key.vlan[0], 20);
    assert_int_equal(flow_table_active(fx->t), 2);
    /* The reply on the same VLAN finds its flow. */
    struct packet ra = reply(&a, 0, T0, 10, 120);
    assert_ptr_equal(handle(fx, &ra, FLOW_TOCLIENT), fa);
    /* QinQ: both tags count. */
    struct packet q = a;
    q.vlan_cnt = 2;
    q.vlan[1] = 99;
    assert_int_not_equal(flow_hash_packet(&q), flow_hash_packet(&a));
}

/* ---------------------------------------------------------------------------
 * Creation, lookup, direction, counters
 * ------------------------------------------------------------------------- */

static void test_first_packet_creates_flow_reply_finds_it(void **state)
{
    struct fixture *fx = *state;
    struct packet q = pkt("10.0.0.2", 5353, "10.0.0.1", 53, 17, 0, T0, 500, 70);
    struct flow *f = handle(fx, &q, FLOW_TOSERVER);
    assert_int_equal(flow_table_active(fx->t), 1);
    assert_int_equal(f->start.tv_sec, T0);
    assert_int_equal(f->start.tv_usec, 500);
    assert_int_equal(f->proto_idx, FLOW_PROTO_UDP);
    assert_int_equal(f->ip_ver, 4);
    assert_int_equal(f->state, FLOW_STATE_NEW);
    struct packet r = reply(&q, 0, T0 + 1, 0, 130);
    assert_ptr_equal(handle(fx, &r, FLOW_TOCLIENT), f);
    assert_int_equal(flow_table_active(fx->t), 1);
    assert_int_equal(f->last.tv_sec, T0 + 1);
    assert_int_equal(counter(fx, STAT_FLOW_TOTAL), 1);
    assert_int_equal(counter(fx, STAT_FLOW_UDP), 1);
    assert_int_equal(counter(fx, STAT_FLOW_ACTIVE), 1);
    assert_int_equal(counter(fx, STAT_FLOW_TCP), 0);
}

static void test_packets_and_bytes_counted_per_direction(void **state)
{
    struct fixture *fx = *state;
    struct packet p = pkt("10.0.0.2", 5353, "10.0.0.1", 53, 17, 0, T0, 0, 100);
    struct flow *f = handle(fx, &p, FLOW_TOSERVER);
    handle(fx, &p, FLOW_TOSERVER);
    struct packet r = reply(&p, 0, T0, 1, 1000);
    handle(fx, &r, FLOW_TOCLIENT);
    handle(fx, &r, FLOW_TOCLIENT);
    handle(fx, &r, FLOW_TOCLIENT);
    assert_int_equal(f->pkts[FLOW_TOSERVER], 2);
    assert_int_equal(f->bytes[FLOW_TOSERVER], 200);
    assert_int_equal(f->pkts[FLOW_TOCLIENT], 3);
    assert_int_equal(f->bytes[FLOW_TOCLIENT], 3000);
}

static void test_client_is_first_packets_sender(void **state)
{
    struct fixture *fx = *state;
    /* The sender is the higher endpoint, so it is key index 1. */
    struct packet p = pkt("10.0.0.9", 5000, "10.0.0.1", 53, 17, 0, T0, 0, 60);
    struct flow *f = handle(fx, &p, FLOW_TOSERVER);
    assert_int_equal(f->client_idx, 1);
    assert_true(client_is(f, &p.src, 5000));
    /* And the other way round: the lower endpoint sends first. */
    struct packet q = pkt("10.0.0.1", 6000, "10.0.0.9", 53, 17, 0, T0, 0, 60);
    f = handle(fx, &q, FLOW_TOSERVER);
    assert_int_equal(f->client_idx, 0);
    assert_true(client_is(f, &q.src, 6000));
}

static void test_synack_seen_first_makes_its_receiver_the_client(void **state)
{
    struct fixture *fx = *state;
    /* Server 10.0.0.1:80 answers client 10.0.0.9:40000; the SYN was missed. */
    struct packet sa = pkt("10.0.0.1", 80, "10.0.0.9", 40000, 6, TCP_SYN | TCP_ACK, T0, 0, 60);
    struct flow *f = handle(fx, &sa, FLOW_TOCLIENT);
    assert_true(client_is(f, &sa.dst, 40000));
    assert_int_equal(f->pkts[FLOW_TOCLIENT], 1);
    assert_int_equal(f->pkts[FLOW_TOSERVER], 0);
    struct packet ack = reply(&sa, TCP_ACK, T0, 10, 52);
    assert_ptr_equal(handle(fx, &ack, FLOW_TOSERVER), f);
    assert_int_equal(f->state, FLOW_STATE_ESTABLISHED);
}

static void test_icmp_echo_and_reply_share_a_flow(void **state)
{
    struct fixture *fx = *state;
    struct packet req = pkt("10.0.0.9", 0, "10.0.0.1", 0, 1, 0, T0, 0, 84);
    req.icmp.type = 8;
    struct flow *f = handle(fx, &req, FLOW_TOSERVER);
    struct packet rep = reply(&req, 0, T0, 100, 84);
    rep.icmp.type = 0;
    assert_ptr_equal(handle(fx, &rep, FLOW_TOCLIENT), f);
    assert_int_equal(f->proto_idx, FLOW_PROTO_ICMP);
    assert_int_equal(f->state, FLOW_STATE_ESTABLISHED);
    assert_true(client_is(f, &req.src, 0));
    assert_int_equal(counter(fx, STAT_FLOW_ICMPV4), 1);

    struct packet r6 = pkt("2001:db8::9", 0, "2001:db8::1", 0, 58, 0, T0, 0, 64);
    handle(fx, &r6, FLOW_TOSERVER);
    assert_int_equal(counter(fx, STAT_FLOW_ICMPV6), 1);
}

static void test_packets_without_tuple_or_ports_get_no_flow(void **state)
{
    struct fixture *fx = *state;
    int dir = -1;
    struct packet p = pkt("10.0.0.2", 1, "10.0.0.1", 2, 17, 0, T0, 0, 60);
    p.flags = 0;
    assert_null(flow_handle_packet(fx->t, &p, &dir));
    /* A non-first fragment of TCP has no ports to key on. */
    struct packet frag = pkt("10.0.0.2", 0, "10.0.0.1", 0, 6, 0, T0, 0, 60);
    frag.flags = PKT_HAS_TUPLE | PKT_FRAGMENT;
    assert_null(flow_handle_packet(fx->t, &frag, &dir));
    assert_int_equal(flow_table_active(fx->t), 0);
    assert_int_equal(counter(fx, STAT_FLOW_TOTAL), 0);
}

static void test_decoded_packets_share_a_flow_both_ways(void **state)
{
    struct fixture *fx = *state;
    struct decode_ctx dc = { .cfg = { .checksum_validation = true, .max_layers = 8 },
                             .stats = &fx->stats };
    struct pktbuf a, b;
    pb_init(&a);
    pb_eth(&a, 0);
    pb_ipv4(&a, &(struct pb_ipv4){ .src = "192.0.2.7", .dst = "192.0.2.1" });
    pb_tcp(&a, &(struct pb_tcp){ .sp = 40000, .dp = 443, .flags = TCP_SYN });
    pb_close(&a);
    pb_init(&b);
    pb_eth(&b, 0);
    pb_ipv4(&b, &(struct pb_ipv4){ .src = "192.0.2.1", .dst = "192.0.2.7" });
    pb_tcp(&b, &(struct pb_tcp){ .sp = 443, .dp = 40000, .flags = TCP_SYN | TCP_ACK });
    pb_close(&b);
    struct packet pa, pbk;
    pkt_finish(&pa, a.b, a.len, LINK_ETHERNET);
    decode_packet(&dc, &pa);
    pkt_finish(&pbk, b.b, b.len, LINK_ETHERNET);
    decode_packet(&dc, &pbk);
    assert_true(pa.flags & PKT_HAS_PORTS);
    struct flow *f = handle(fx, &pa, FLOW_TOSERVER);
    assert_ptr_equal(handle(fx, &pbk, FLOW_TOCLIENT), f);
    assert_true(f->syn_seen);
    assert_true(f->synack_seen);
    assert_int_equal(f->bytes[FLOW_TOSERVER], a.len);
}

/* ---------------------------------------------------------------------------
 * TCP state
 * ------------------------------------------------------------------------- */

static void test_tcp_handshake_moves_new_to_established(void **state)
{
    struct fixture *fx = *state;
    struct packet syn = pkt("10.0.0.2", 40000, "10.0.0.1", 80, 6, TCP_SYN, T0, 0, 60);
    struct flow *f = handle(fx, &syn, FLOW_TOSERVER);
    assert_int_equal(f->state, FLOW_STATE_NEW);
    assert_true(f->syn_seen);
    struct packet sa = reply(&syn, TCP_SYN | TCP_ACK, T0, 1, 60);
    handle(fx, &sa, FLOW_TOCLIENT);
    assert_int_equal(f->state, FLOW_STATE_NEW);
    assert_true(f->synack_seen);
    struct packet ack = reply(&sa, TCP_ACK, T0, 2, 52);
    handle(fx, &ack, FLOW_TOSERVER);
    assert_int_equal(f->state, FLOW_STATE_ESTABLISHED);
    assert_int_equal(f->tcp_flags[FLOW_TOSERVER], TCP_SYN | TCP_ACK);
    assert_int_equal(f->tcp_flags[FLOW_TOCLIENT], TCP_SYN | TCP_ACK);
    assert_int_equal(counter(fx, STAT_FLOW_TCP), 1);
}

static void test_tcp_ack_before_synack_does_not_establish(void **state)
{
    struct fixture *fx = *state;
    struct packet syn = pkt("10.0.0.2", 40000, "10.0.0.1", 80, 6, TCP_SYN, T0, 0, 60);
    struct flow *f = handle(fx, &syn, FLOW_TOSERVER);
    struct packet ack = syn;
    ack.tcp.flags = TCP_ACK;
    handle(fx, &ack, FLOW_TOSERVER);
    assert_int_equal(f->state, FLOW_STATE_NEW);
}

static void test_tcp_fin_both_ways_closes(void **state)
{
    struct fixture *fx = *state;
    struct flow *f = handshake(fx, "10.0.0.2", 40000, T0);
    struct packet fin = pkt("10.0.0.2", 40000, "10.0.0.1", 80, 6, TCP_FIN | TCP_ACK, T0 + 1, 0, 52);
    handle(fx, &fin, FLOW_TOSERVER);
    assert_int_equal(f->state, FLOW_STATE_ESTABLISHED); /* half closed */
    assert_int_equal(f->fin_seen, 1u << FLOW_TOSERVER);
    struct packet fin2 = reply(&fin, TCP_FIN | TCP_ACK, T0 + 1, 10, 52);
    handle(fx, &fin2, FLOW_TOCLIENT);
    assert_int_equal(f->state, FLOW_STATE_CLOSED);
    assert_int_equal(f->fin_seen, 3);
}

static void test_tcp_rst_closes(void **state)
{
    struct fixture *fx = *state;
    struct flow *f = handshake(fx, "10.0.0.2", 40000, T0);
    struct packet rst = pkt("10.0.0.1", 80, "10.0.0.2", 40000, 6, TCP_RST, T0 + 1, 0, 40);
    handle(fx, &rst, FLOW_TOCLIENT);
    assert_int_equal(f->state, FLOW_STATE_CLOSED);
    assert_true(f->rst_seen);
    assert_true(f->tcp_flags[FLOW_TOCLIENT] & TCP_RST);
}

static void test_udp_established_once_both_sides_sent(void **state)
{
    struct fixture *fx = *state;
    struct packet p = pkt("10.0.0.2", 5353, "10.0.0.1", 53, 17, 0, T0, 0, 60);
    struct flow *f = handle(fx, &p, FLOW_TOSERVER);
    handle(fx, &p, FLOW_TOSERVER);
    assert_int_equal(f->state, FLOW_STATE_NEW);
    struct packet r = reply(&p, 0, T0, 1, 60);
    handle(fx, &r, FLOW_TOCLIENT);
    assert_int_equal(f->state, FLOW_STATE_ESTABLISHED);
}

static void test_tcp_syn_after_close_starts_new_flow(void **state)
{
    struct fixture *fx = *state;
    struct flow *f = handshake(fx, "10.0.0.2", 40000, T0);
    uint64_t old_id = f->flow_id;
    struct packet fin = pkt("10.0.0.2", 40000, "10.0.0.1", 80, 6, TCP_FIN | TCP_ACK, T0 + 1, 0, 52);
    handle(fx, &fin, FLOW_TOSERVER);
    struct packet fin2 = reply(&fin, TCP_FIN | TCP_ACK, T0 + 1, 1, 52);
    handle(fx, &fin2, FLOW_TOCLIENT);
    assert_int_equal(f->state, FLOW_STATE_CLOSED);
    assert_int_equal(fx->nended, 0);

    struct packet syn = pkt("10.0.0.2", 40000, "10.0.0.1", 80, 6, TCP_SYN, T0 + 2, 0, 60);
    struct flow *g = handle(fx, &syn, FLOW_TOSERVER);
    assert_int_equal(counter(fx, STAT_FLOW_TCP_REUSE), 1);
    assert_int_equal(fx->nended, 1);
    assert_int_equal(fx->ended[0].f.flow_id, old_id);
    assert_int_equal(fx->ended[0].f.state, FLOW_STATE_CLOSED);
    assert_int_equal(fx->ended[0].f.pkts[FLOW_TOSERVER], 3);
    assert_int_not_equal(g->flow_id, old_id);
    assert_int_equal(g->state, FLOW_STATE_NEW);
    assert_int_equal(g->pkts[FLOW_TOSERVER], 1);
    assert_int_equal(g->pkts[FLOW_TOCLIENT], 0);
    assert_int_equal(g->start.tv_sec, T0 + 2);
    assert_int_equal(flow_table_active(fx->t), 1);
    assert_int_equal(counter(fx, STAT_FLOW_TOTAL), 2);
    assert_int_equal(counter(fx, STAT_FLOW_END_STATE_CLOSED), 1);
}

static void test_tcp_syn_on_open_flow_is_not_reuse(void **state)
{
    struct fixture *fx = *state;
    struct flow *f = handshake(fx, "10.0.0.2", 40000, T0);
    struct packet syn = pkt("10.0.0.2", 40000, "10.0.0.1", 80, 6, TCP_SYN, T0 + 1, 0, 60);
    assert_ptr_equal(handle(fx, &syn, FLOW_TOSERVER), f); /* a retransmission */
    assert_int_equal(counter(fx, STAT_FLOW_TCP_REUSE), 0);
    assert_int_equal(fx->nended, 0);
}

/* ---------------------------------------------------------------------------
 * Timeouts and flush
 * ------------------------------------------------------------------------- */

static void test_timeout_ends_idle_flow_by_packet_time(void **state)
{
    struct fixture *fx = *state;
    uint32_t udp_new = fx->cfg.timeouts[FLOW_PROTO_UDP].new_;
    struct packet p = pkt("10.0.0.2", 5353, "10.0.0.1", 53, 17, 0, T0, 0, 60);
    uint64_t id = handle(fx, &p, FLOW_TOSERVER)->flow_id;

    struct timeval at_limit = { T0 + (time_t)udp_new, 0 };
    flow_table_timeout(fx->t, &at_limit);
    assert_int_equal(flow_table_active(fx->t), 1); /* idle == timeout: not yet */
    assert_int_equal(fx->nended, 0);

    struct timeval past = { T0 + (time_t)udp_new, 1 };
    flow_table_timeout(fx->t, &past);
    assert_int_equal(flow_table_active(fx->t), 0);
    assert_int_equal(fx->nended, 1);
    assert_int_equal(fx->ended[0].reason, FLOW_END_TIMEOUT);
    assert_int_equal(fx->ended[0].f.flow_id, id);
    assert_int_equal(counter(fx, STAT_FLOW_MGR_FLOWS_TIMEOUT), 1);
    assert_int_equal(counter(fx, STAT_FLOW_END_STATE_NEW), 1);
    assert_int_equal(counter(fx, STAT_FLOW_ACTIVE), 0);
    assert_true(counter(fx, STAT_FLOW_MGR_FLOWS_CHECKED) >= 1);
}

static void test_timeout_depends_on_state(void **state)
{
    struct fixture *fx = *state;
    const struct flow_timeouts *tcp = &fx->cfg.timeouts[FLOW_PROTO_TCP];
    assert_true(tcp->established > tcp->new_ + 1);
    handshake(fx, "10.0.0.2", 40000, T0); /* established */
    struct packet syn = pkt("10.0.0.3", 40000, "10.0.0.1", 80, 6, TCP_SYN, T0, 0, 60);
    handle(fx, &syn, FLOW_TOSERVER); /* new */

    struct timeval t = { T0 + (time_t)tcp->new_ + 1, 0 };
    flow_table_timeout(fx->t, &t);
    assert_int_equal(fx->nended, 1);
    assert_int_equal(fx->ended[0].f.state, FLOW_STATE_NEW);
    assert_int_equal(flow_table_active(fx->t), 1);

    t.tv_sec = T0 + (time_t)tcp->established + 1;
    flow_table_timeout(fx->t, &t);
    assert_int_equal(fx->nended, 2);
    assert_int_equal(fx->ended[1].f.state, FLOW_STATE_ESTABLISHED);
    assert_int_equal(fx->ended[1].reason, FLOW_END_TIMEOUT);
}

static void test_recent_traffic_keeps_flow_alive(void **state)
{
    struct fixture *fx = *state;
    uint32_t udp_new = fx->cfg.timeouts[FLOW_PROTO_UDP].new_;
    struct packet p = pkt("10.0.0.2", 5353, "10.0.0.1", 53, 17, 0, T0, 0, 60);
    struct flow *f = handle(fx, &p, FLOW_TOSERVER);
    p.ts.tv_sec = T0 + (time_t)udp_new - 1;
    assert_ptr_equal(handle(fx, &p, FLOW_TOSERVER), f);
    struct timeval t = { T0 + (time_t)udp_new + 5, 0 };
    flow_table_timeout(fx->t, &t);
    assert_int_equal(flow_table_active(fx->t), 1);
}

static void test_timeout_reaches_expired_flows_behind_many_long_lived_ones(void **state)
{
    struct fixture *fx = *state;
    /* More idle established flows than one timeout pass checks... */
    for (uint16_t i = 0; i < 600; i++)
        handshake(fx, "10.0.0.2", (uint16_t)(10000 + i), T0);
    /* ...and, seen after them, a short-lived UDP flow. */
    struct packet dns = pkt("10.0.0.3", 5353, "10.0.0.1", 53, 17, 0, T0 + 1, 0, 60);
    uint64_t id = handle(fx, &dns, FLOW_TOSERVER)->flow_id;
    uint32_t udp_new = fx->cfg.timeouts[FLOW_PROTO_UDP].new_;
    /* One pass per second of packet time, as the worker does. */
    for (time_t s = T0 + 2; s <= T0 + 1 + 3 * (time_t)udp_new; s++)
        flow_table_timeout(fx->t, &(struct timeval){ s, 0 });
    assert_int_equal(fx->nended, 1);
    assert_int_equal(fx->ended[0].f.flow_id, id);
    assert_int_equal(fx->ended[0].reason, FLOW_END_TIMEOUT);
    assert_int_equal(flow_table_active(fx->t), 600);
}

static void test_timeout_pass_reports_more_to_do(void **state)
{
    struct fixture *fx = *state;
    /* More flows expire together than one pass ends: the pass says so,
     * and passes repeated at the same time end them all. */
    for (uint16_t i = 0; i < 600; i++) {
        struct packet p = pkt("10.0.0.2", (uint16_t)(10000 + i), "10.0.0.1", 53, 17, 0, T0, 0, 60);
        handle(fx, &p, FLOW_TOSERVER);
    }
    uint32_t udp_new = fx->cfg.timeouts[FLOW_PROTO_UDP].new_;
    struct timeval t = { T0 + (time_t)udp_new + 1, 0 };
    assert_true(flow_table_timeout(fx->t, &t));
    assert_true(fx->nended > 0 && fx->nended < 600);
    unsigned passes = 1;
    while (flow_table_timeout(fx->t, &t))
        assert_true(++passes < 10);
    assert_int_equal(fx->nended, 600);
    assert_int_equal(flow_table_active(fx->t), 0);
    /* Nothing left: a pass over an empty table has nothing more to do. */
    assert_false(flow_table_timeout(fx->t, &t));
}

static void test_timeout_pass_over_live_flows_waits(void **state)
{
    struct fixture *fx = *state;
    /* Idle but live flows beyond one pass: the pass ends nothing and does
     * not ask to be called again before the next second. */
    for (uint16_t i = 0; i < 600; i++)
        handshake(fx, "10.0.0.2", (uint16_t)(10000 + i), T0);
    struct timeval t = { T0 + 5, 0 };
    assert_false(flow_table_timeout(fx->t, &t));
    assert_int_equal(fx->nended, 0);
    assert_int_equal(counter(fx, STAT_FLOW_MGR_FLOWS_CHECKED), 256);
}

static void test_packet_after_timeout_starts_new_flow(void **state)
{
    struct fixture *fx = *state;
    uint32_t udp_new = fx->cfg.timeouts[FLOW_PROTO_UDP].new_;
    struct packet p = pkt("10.0.0.2", 5353, "10.0.0.1", 53, 17, 0, T0, 0, 60);
    uint64_t old_id = handle(fx, &p, FLOW_TOSERVER)->flow_id;
    /* No timeout pass in between: the lookup itself notices the expiry. */
    struct packet later = reply(&p, 0, T0 + (time_t)udp_new + 1, 0, 60);
    struct flow *g = handle(fx, &later, FLOW_TOSERVER); /* its sender is the new client */
    assert_int_equal(fx->nended, 1);
    assert_int_equal(fx->ended[0].reason, FLOW_END_TIMEOUT);
    assert_int_equal(fx->ended[0].f.flow_id, old_id);
    assert_int_not_equal(g->flow_id, old_id);
    assert_int_equal(g->start.tv_sec, T0 + (time_t)udp_new + 1);
    assert_true(client_is(g, &later.src, 53));
    assert_int_equal(flow_table_active(fx->t), 1);
}

static void test_flush_reasons_timeout_for_expired_shutdown_otherwise(void **state)
{
    struct fixture *fx = *state;
    uint32_t udp_new = fx->cfg.timeouts[FLOW_PROTO_UDP].new_;
    struct packet old = pkt("10.0.0.2", 1000, "10.0.0.1", 53, 17, 0, T0, 0, 60);
    struct packet fresh = pkt("10.0.0.3", 1000, "10.0.0.1", 53, 17, 0, T0 + 100, 0, 60);
    uint64_t old_id = handle(fx, &old, FLOW_TOSERVER)->flow_id;
    uint64_t fresh_id = handle(fx, &fresh, FLOW_TOSERVER)->flow_id;
    struct timeval now = { T0 + 100 + (time_t)udp_new / 2, 0 };
    flow_table_flush(fx->t, &now);
    assert_int_equal(flow_table_active(fx->t), 0);
    assert_int_equal(fx->nended, 2);
    /* Oldest first. */
    assert_int_equal(fx->ended[0].f.flow_id, old_id);
    assert_int_equal(fx->ended[0].reason, FLOW_END_TIMEOUT);
    assert_int_equal(fx->ended[1].f.flow_id, fresh_id);
    assert_int_equal(fx->ended[1].reason, FLOW_END_SHUTDOWN);
    assert_int_equal(counter(fx, STAT_FLOW_ACTIVE), 0);
    /* Flushing an empty table is harmless. */
    flow_table_flush(fx->t, &now);
    assert_int_equal(fx->nended, 2);
}

static void test_reason_and_state_names(void **state)
{
    (void)state;
    assert_string_equal(flow_reason_name(FLOW_END_TIMEOUT), "timeout");
    assert_string_equal(flow_reason_name(FLOW_END_FORCED), "forced");
    assert_string_equal(flow_reason_name(FLOW_END_SHUTDOWN), "shutdown");
    assert_string_equal(flow_state_name(FLOW_STATE_NEW), "new");
    assert_string_equal(flow_state_name(FLOW_STATE_ESTABLISHED), "established");
    assert_string_equal(flow_state_name(FLOW_STATE_CLOSED), "closed");
}

/* ---------------------------------------------------------------------------
 * flow_id
 * ------------------------------------------------------------------------- */

static void test_flow_id_deterministic_for_tuple_and_start(void **state)
{
    struct fixture *fx = *state;
    struct packet p = pkt("10.0.0.2", 40000, "10.0.0.1", 80, 6, TCP_SYN, T0, 42, 60);
    uint64_t id = handle(fx, &p, FLOW_TOSERVER)->flow_id;
    assert_int_not_equal(id, 0);
    assert_true(id < (1ull << 53)); /* exact in a JSON double */

    /* Another table (another run, another worker): the same id. */
    struct flow_table *t2 = flow_table_new(&fx->cfg, &fx->stats, NULL, NULL);
    int dir;
    struct flow *f2 = flow_handle_packet(t2, &p, &dir);
    assert_non_null(f2);
    assert_int_equal(f2->flow_id, id);
    /* Seen from the other side first: same tuple, same start, same id. */
    struct flow_table *t3 = flow_table_new(&fx->cfg, &fx->stats, NULL, NULL);
    struct packet r = reply(&p, TCP_SYN, T0, 42, 60);
    struct flow *f3 = flow_handle_packet(t3, &r, &dir);
    assert_int_equal(f3->flow_id, id);
    /* Another start time gives another id. */
    struct packet later = p;
    later.ts.tv_usec = 43;
    struct flow_table *t4 = flow_table_new(&fx->cfg, &fx->stats, NULL, NULL);
    struct flow *f4 = flow_handle_packet(t4, &later, &dir);
    assert_int_not_equal(f4->flow_id, id);
    flow_table_free(t2);
    flow_table_free(t3);
    flow_table_free(t4);
}

/* ---------------------------------------------------------------------------
 * Memcap and emergency mode
 * ------------------------------------------------------------------------- */

/* Reopens the table with room for exactly nflows flows. */
static void fx_reopen_for(struct fixture *fx, unsigned nflows)
{
    uint64_t base = counter(fx, STAT_FLOW_MEMUSE); /* the bucket array */
    flow_table_free(fx->t);
    memset(&fx->stats, 0, sizeof fx->stats);
    fx->cfg.memcap = base + (uint64_t)nflows * sizeof(struct flow);
    fx_open(fx);
    assert_int_equal(counter(fx, STAT_FLOW_MEMUSE), base);
}

static struct packet udp_from_port(uint16_t port, time_t sec, suseconds_t usec)
{
    return pkt("10.0.0.2", port, "10.0.0.1", 53, 17, 0, sec, usec, 60);
}

static void test_memcap_full_evicts_least_recently_seen(void **state)
{
    struct fixture *fx = *state;
    fx_reopen_for(fx, 100);
    for (uint16_t i = 0; i < 100; i++) {
        struct packet p = udp_from_port((uint16_t)(1000 + i), T0, i);
        handle(fx, &p, FLOW_TOSERVER);
    }
    assert_false(flow_table_emergency(fx->t));
    assert_int_equal(counter(fx, STAT_FLOW_MEMCAP), 0);
    /* Touch the oldest so that the second oldest is least recently seen. */
    struct packet first = udp_from_port(1000, T0, 500);
    handle(fx, &first, FLOW_TOSERVER);

    struct packet extra = udp_from_port(2000, T0 + 1, 0);
    struct flow *f = handle(fx, &extra, FLOW_TOSERVER);
    assert_int_equal(f->key.port[1], 2000);
    assert_true(flow_table_emergency(fx->t));
    assert_int_equal(counter(fx, STAT_FLOW_EMERG_MODE_ENTERED), 1);
    assert_int_equal(counter(fx, STAT_FLOW_MEMCAP), 1);
    assert_int_equal(counter(fx, STAT_FLOW_MGR_FLOWS_EVICTED), 1);
    assert_int_equal(fx->nended, 1);
    assert_int_equal(fx->ended[0].reason, FLOW_END_FORCED);
    assert_int_equal(fx->ended[0].f.key.port[1], 1001);
    assert_int_equal(flow_table_active(fx->t), 100);
    assert_true(counter(fx, STAT_FLOW_MEMUSE) <= fx->cfg.memcap);

    /* Emergency timeouts apply; once usage falls low enough it is over. */
    uint32_t emerg = fx->cfg.timeouts[FLOW_PROTO_UDP].emerg_new;
    assert_true(emerg < fx->cfg.timeouts[FLOW_PROTO_UDP].new_);
    struct timeval t = { T0 + 1 + (time_t)emerg + 1, 0 };
    flow_table_timeout(fx->t, &t);
    assert_int_equal(flow_table_active(fx->t), 0);
    assert_false(flow_table_emergency(fx->t));
    assert_int_equal(counter(fx, STAT_FLOW_EMERG_MODE_OVER), 1);
    /* Normal service again. */
    struct packet again = udp_from_port(3000, t.tv_sec, 0);
    handle(fx, &again, FLOW_TOSERVER);
    assert_false(flow_table_emergency(fx->t));
}

static void test_memcap_full_times_out_expired_flows_before_evicting(void **state)
{
    struct fixture *fx = *state;
    fx_reopen_for(fx, 50);
    for (uint16_t i = 0; i < 50; i++) {
        struct packet p = udp_from_port((uint16_t)(1000 + i), T0, i);
        handle(fx, &p, FLOW_TOSERVER);
    }
    /* Idle past the emergency timeout but not the normal one. */
    uint32_t emerg = fx->cfg.timeouts[FLOW_PROTO_UDP].emerg_new;
    struct packet extra = udp_from_port(2000, T0 + (time_t)emerg + 1, 0);
    handle(fx, &extra, FLOW_TOSERVER);
    assert_int_equal(counter(fx, STAT_FLOW_EMERG_MODE_ENTERED), 1);
    assert_int_equal(counter(fx, STAT_FLOW_MGR_FLOWS_EVICTED), 0);
    assert_int_equal(fx->nended, 50);
    for (unsigned i = 0; i < fx->nended; i++)
        assert_int_equal(fx->ended[i].reason, FLOW_END_TIMEOUT);
    assert_int_equal(flow_table_active(fx->t), 1);
    /* Usage fell under the recovery mark with that same packet. */
    assert_false(flow_table_emergency(fx->t));
    assert_int_equal(counter(fx, STAT_FLOW_EMERG_MODE_OVER), 1);
}

static void test_memcap_smaller_than_table_refuses_flows_without_crash(void **state)
{
    struct fixture *fx = *state;
    flow_table_free(fx->t);
    memset(&fx->stats, 0, sizeof fx->stats);
    fx->cfg.memcap = 1;
    fx_open(fx);
    for (uint16_t i = 0; i < 1000; i++) {
        struct packet p = udp_from_port(i, T0, i);
        int dir;
        assert_null(flow_handle_packet(fx->t, &p, &dir));
    }
    assert_true(flow_table_emergency(fx->t));
    assert_int_equal(flow_table_active(fx->t), 0);
    assert_int_equal(counter(fx, STAT_FLOW_GET_USED_FAILED), 1000);
    assert_int_equal(counter(fx, STAT_FLOW_MEMCAP), 1000);
    assert_int_equal(counter(fx, STAT_FLOW_EMERG_MODE_ENTERED), 1);
    assert_int_equal(counter(fx, STAT_FLOW_TOTAL), 0);
    struct timeval t = { T0 + 1000, 0 };
    flow_table_timeout(fx->t, &t);
    flow_table_flush(fx->t, &t);
    assert_int_equal(fx->nended, 0);
}

static void test_memcap_churn_keeps_accounting_consistent(void **state)
{
    struct fixture *fx = *state;
    fx_reopen_for(fx, 8);
    uint64_t base = counter(fx, STAT_FLOW_MEMUSE);
    for (unsigned i = 0; i < 2000; i++) {
        struct packet p = udp_from_port((uint16_t)(i % 300), T0 + (time_t)(i / 100), i % 100);
        int dir;
        struct flow *f = flow_handle_packet(fx->t, &p, &dir);
        assert_non_null(f);
        assert_true(flow_table_active(fx->t) <= 8);
        assert_true(counter(fx, STAT_FLOW_MEMUSE) <= fx->cfg.memcap);
    }
    assert_int_equal(counter(fx, STAT_FLOW_ACTIVE), flow_table_active(fx->t));
    assert_int_equal(counter(fx, STAT_FLOW_TOTAL), fx->nended + flow_table_active(fx->t));
    struct timeval end = { T0 + 1000, 0 };
    flow_table_flush(fx->t, &end);
    assert_int_equal(flow_table_active(fx->t), 0);
    assert_int_equal(counter(fx, STAT_FLOW_ACTIVE), 0);
    assert_int_equal(counter(fx, STAT_FLOW_MEMUSE), base);
    assert_int_equal(counter(fx, STAT_FLOW_TOTAL), fx->nended);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_hash_and_key_are_symmetric),
        T(test_key_puts_lower_endpoint_first),
        T(test_hash_differs_for_different_tuples),
        T(test_hash_is_zero_without_tuple),
        T(test_vlan_is_part_of_the_key),
        T(test_first_packet_creates_flow_reply_finds_it),
        T(test_packets_and_bytes_counted_per_direction),
        T(test_client_is_first_packets_sender),
        T(test_synack_seen_first_makes_its_receiver_the_client),
        T(test_icmp_echo_and_reply_share_a_flow),
        T(test_packets_without_tuple_or_ports_get_no_flow),
        T(test_decoded_packets_share_a_flow_both_ways),
        T(test_tcp_handshake_moves_new_to_established),
        T(test_tcp_ack_before_synack_does_not_establish),
        T(test_tcp_fin_both_ways_closes),
        T(test_tcp_rst_closes),
        T(test_udp_established_once_both_sides_sent),
        T(test_tcp_syn_after_close_starts_new_flow),
        T(test_tcp_syn_on_open_flow_is_not_reuse),
        T(test_timeout_ends_idle_flow_by_packet_time),
        T(test_timeout_depends_on_state),
        T(test_recent_traffic_keeps_flow_alive),
        T(test_timeout_reaches_expired_flows_behind_many_long_lived_ones),
        T(test_timeout_pass_reports_more_to_do),
        T(test_timeout_pass_over_live_flows_waits),
        T(test_packet_after_timeout_starts_new_flow),
        T(test_flush_reasons_timeout_for_expired_shutdown_otherwise),
        T(test_reason_and_state_names),
        T(test_flow_id_deterministic_for_tuple_and_start),
        T(test_memcap_full_evicts_least_recently_seen),
        T(test_memcap_full_times_out_expired_flows_before_evicting),
        T(test_memcap_smaller_than_table_refuses_flows_without_crash),
        T(test_memcap_churn_keeps_accounting_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
