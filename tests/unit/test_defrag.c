/*
 * Unit tests for src/decode/defrag.c.
 *
 * Sections: helpers, reassembly in any order, overlap policies (the same
 * pattern of overlapping fragments under each policy, IPv4 and IPv6),
 * per-destination policies, limits and timeouts, malformed fragments.
 *
 * Fragments are built with pktbuild.h, decoded from a heap copy of exactly
 * their size, and handed to defrag_packet() as the reader thread does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/decode.h"
#include "decode/defrag.h"
#include "output/stats.h"
#include "pktbuild.h"

/* ===========================================================================
 * Helpers
 * ========================================================================= */

#define UNIT 8
#define T0 1714564800L

static struct stats st;
static struct decode_ctx dc;
static struct defrag_config cfg;
static struct defrag_table *dt;
static struct packet fpkt;          /* the last fragment fed */
static uint8_t *fmem;
static struct defrag_result res;
static struct packet rpkt;          /* the last reassembled datagram, decoded */
static uint8_t *rmem;

static void table_reset(void)
{
    defrag_free(dt);
    dt = defrag_new(&cfg, &st);
    assert_non_null(dt);
}

static int setup(void **state)
{
    (void)state;
    memset(&st, 0, sizeof st);
    memset(&dc, 0, sizeof dc);
    dc.cfg.checksum_validation = true;
    dc.cfg.max_layers = 8;
    dc.stats = &st;
    defrag_config_init(&cfg);
    dt = NULL;
    table_reset();
    fmem = rmem = NULL;
    memset(&res, 0, sizeof res);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    defrag_free(dt);
    dt = NULL;
    defrag_config_release(&cfg);
    free(fmem);
    free(rmem);
    fmem = rmem = NULL;
    return 0;
}

static uint64_t counter(int id)
{
    return stats_get(&st, id);
}

/* Closes the builder, decodes the fragment at time sec and defragments it. */
static int feed_at(struct pktbuf *pb, long sec)
{
    pb_close(pb);
    free(fmem);
    fmem = malloc(pb->len);
    memcpy(fmem, pb->b, pb->len);
    pkt_finish(&fpkt, fmem, pb->len, LINK_ETHERNET);
    fpkt.ts.tv_sec = sec;
    decode_packet(&dc, &fpkt);
    assert_true(fpkt.flags & PKT_FRAGMENT);
    memset(&res, 0, sizeof res);
    return defrag_packet(dt, &dc, &fpkt, &res);
}

static int feed(struct pktbuf *pb)
{
    return feed_at(pb, T0);
}

struct frag_opts {
    uint32_t id;
    uint8_t proto;          /* 0: 253 (experimental, no transport decoding) */
    const char *src, *dst;
    uint16_t vlan;          /* 0: none */
};

/* An IPv4 fragment: len bytes of data at byte offset off of the datagram. */
static void frag4(struct pktbuf *pb, const struct frag_opts *o, uint32_t off,
                  const void *data, size_t len, bool more)
{
    pb_init(pb);
    pb_eth(pb, 0);
    if (o->vlan)
        pb_vlan(pb, 0, o->vlan, 0);
    pb_ipv4(pb, &(struct pb_ipv4){ .src = o->src, .dst = o->dst, .id = (uint16_t)o->id,
                                   .proto = o->proto ? o->proto : 253,
                                   .frag = (uint16_t)((more ? 0x2000 : 0) | off / UNIT) });
    pb_put(pb, data, len);
}

/* An IPv6 fragment; hbh adds a hop-by-hop header before the fragment header. */
static void frag6_ext(struct pktbuf *pb, const struct frag_opts *o, uint32_t off,
                      const void *data, size_t len, bool more, bool hbh)
{
    pb_init(pb);
    pb_eth(pb, 0);
    if (o->vlan)
        pb_vlan(pb, 0, o->vlan, 0);
    pb_ipv6(pb, &(struct pb_ipv6){ .src = o->src, .dst = o->dst });
    if (hbh) {
        static const uint8_t ra[4] = { 0x05, 0x02, 0x00, 0x00 }; /* router alert */
        pb_ip6_ext(pb, 0, 0, ra, sizeof ra);
    }
    pb_ip6_frag(pb, o->proto ? o->proto : 253, (uint16_t)(off / UNIT), more, o->id);
    pb_put(pb, data, len);
}

static void frag6(struct pktbuf *pb, const struct frag_opts *o, uint32_t off,
                  const void *data, size_t len, bool more)
{
    frag6_ext(pb, o, off, data, len, more, false);
}

static void fragv(int ver, struct pktbuf *pb, const struct frag_opts *o, uint32_t off,
                  const void *data, size_t len, bool more)
{
    if (ver == 4)
        frag4(pb, o, off, data, len, more);
    else
        frag6(pb, o, off, data, len, more);
}

/* Decodes a copy of the reassembled datagram as the caller will (raw IP). */
static struct packet *decode_result(void)
{
    free(rmem);
    rmem = malloc(res.len);
    memcpy(rmem, res.data, res.len);
    pkt_finish(&rpkt, rmem, res.len, LINK_RAW);
    decode_packet(&dc, &rpkt);
    return &rpkt;
}

/* The datagram's payload after the IP header(s). */
static const uint8_t *result_payload(uint32_t *len)
{
    uint32_t hl = res.ip_ver == 4 ? (res.data[0] & 0x0f) * 4u : 40;
    *len = res.len - hl;
    return res.data + hl;
}

/* A transport datagram (UDP or TCP header and payload) for v4 or v6, as
 * pktbuild checksums it; the bytes after the IP header go into *out. */
static size_t build_l4(int ver, bool tcp, const char *payload, uint8_t *out)
{
    struct pktbuf pb;
    pb_init(&pb);
    size_t ip = ver == 4 ? pb_ipv4(&pb, &(struct pb_ipv4){ 0 })
                         : pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    if (tcp)
        pb_tcp(&pb, &(struct pb_tcp){ .sp = 40000, .dp = 80, .seq = 1000,
                                      .flags = TCP_PSH | TCP_ACK });
    else
        pb_udp(&pb, &(struct pb_udp){ .sp = 5353, .dp = 53 });
    pb_put(&pb, payload, strlen(payload));
    pb_close(&pb);
    size_t hl = ip + (ver == 4 ? 20 : 40);
    memcpy(out, pb.b + hl, pb.len - hl);
    return pb.len - hl;
}

static const char req[] = "GET /index.html?q=evasion-through-fragments HTTP/1.1\r\n"
                          "Host: example.com\r\n\r\n";

/* Feeds the datagram l4[0..len) cut into unit-byte fragments in the given
 * order (indexes); returns the status of the last one. */
static int feed_cut(int ver, const struct frag_opts *o, const uint8_t *l4, size_t len,
                    size_t unit, const unsigned *order, unsigned n)
{
    int rc = -1;
    for (unsigned i = 0; i < n; i++) {
        size_t off = order[i] * unit;
        size_t flen = off + unit < len ? unit : len - off;
        struct pktbuf pb;
        fragv(ver, &pb, o, (uint32_t)off, l4 + off, flen, off + flen < len);
        rc = feed(&pb);
        if (i + 1 < n)
            assert_int_equal(rc, DEFRAG_HELD);
    }
    return rc;
}

/* Checks the reassembled datagram decodes to the request's flow and payload. */
static void assert_request(int ver, bool tcp)
{
    struct packet *p = decode_result();
    assert_int_equal(p->ip_ver, ver);
    assert_false(p->flags & (PKT_FRAGMENT | PKT_INVALID | PKT_IPV4_CSUM_BAD | PKT_L4_CSUM_BAD));
    assert_true(p->flags & PKT_HAS_PORTS);
    assert_int_equal(p->proto, tcp ? 6 : 17);
    assert_int_equal(p->sp, tcp ? 40000 : 5353);
    assert_int_equal(p->dp, tcp ? 80 : 53);
    if (tcp)
        assert_int_equal(p->tcp.seq, 1000);
    assert_int_equal(p->payload_len, strlen(req));
    assert_memory_equal(p->data + p->payload_off, req, strlen(req));
    assert_int_equal(p->nevents, 0);
}

static unsigned cut_count(size_t len, size_t unit)
{
    return (unsigned)((len + unit - 1) / unit);
}

/* ===========================================================================
 * Reassembly in any order
 * ========================================================================= */

static void reassemble_in_order(int ver, bool tcp)
{
    uint8_t l4[256];
    size_t len = build_l4(ver, tcp, req, l4);
    unsigned order[64], n = cut_count(len, 24);
    for (unsigned i = 0; i < n; i++)
        order[i] = i;
    assert_int_equal(feed_cut(ver, &(struct frag_opts){ .id = 7, .proto = tcp ? 6 : 17 },
                              l4, len, 24, order, n), DEFRAG_DONE);
    assert_int_equal(res.ip_ver, ver);
    assert_request(ver, tcp);
}

static void test_ipv4_in_order_udp_decodes_to_the_request(void **state)
{
    (void)state;
    reassemble_in_order(4, false);
    assert_int_equal(counter(STAT_DEFRAG_IPV4_REASSEMBLED), 1);
    assert_int_equal(counter(STAT_DEFRAG_IPV4_FRAGMENTS), 4);
}

static void test_ipv4_in_order_tcp_decodes_to_the_request(void **state)
{
    (void)state;
    reassemble_in_order(4, true);
}

static void test_ipv6_in_order_udp_decodes_to_the_request(void **state)
{
    (void)state;
    reassemble_in_order(6, false);
    assert_int_equal(counter(STAT_DEFRAG_IPV6_REASSEMBLED), 1);
    assert_int_equal(counter(STAT_DEFRAG_IPV6_FRAGMENTS), 4);
}

static void test_ipv6_in_order_tcp_decodes_to_the_request(void **state)
{
    (void)state;
    reassemble_in_order(6, true);
}

static void reassemble_reversed(int ver)
{
    uint8_t l4[256];
    size_t len = build_l4(ver, true, req, l4);
    unsigned order[64], n = cut_count(len, 16);
    for (unsigned i = 0; i < n; i++)
        order[i] = n - 1 - i;
    assert_int_equal(feed_cut(ver, &(struct frag_opts){ .id = 9, .proto = 6 }, l4, len, 16,
                              order, n), DEFRAG_DONE);
    assert_request(ver, true);
}

static void test_ipv4_reverse_order(void **state)
{
    (void)state;
    reassemble_reversed(4);
}

static void test_ipv6_reverse_order(void **state)
{
    (void)state;
    reassemble_reversed(6);
}

static void reassemble_shuffled(int ver)
{
    uint8_t l4[256];
    size_t len = build_l4(ver, false, req, l4);
    unsigned n = cut_count(len, UNIT);
    srand(12345);
    for (int round = 0; round < 20; round++) {
        unsigned order[64];
        for (unsigned i = 0; i < n; i++)
            order[i] = i;
        for (unsigned i = n - 1; i > 0; i--) {
            unsigned j = (unsigned)rand() % (i + 1), tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        assert_int_equal(feed_cut(ver, &(struct frag_opts){ .id = 100u + (unsigned)round,
                                                           .proto = 17 },
                                  l4, len, UNIT, order, n), DEFRAG_DONE);
        assert_request(ver, false);
    }
}

static void test_ipv4_random_orders(void **state)
{
    (void)state;
    reassemble_shuffled(4);
}

static void test_ipv6_random_orders(void **state)
{
    (void)state;
    reassemble_shuffled(6);
}

static void test_ipv4_tiny_fragments_split_the_tcp_header(void **state)
{
    (void)state;
    uint8_t l4[256];
    size_t len = build_l4(4, true, req, l4);
    unsigned order[64], n = cut_count(len, UNIT);
    assert_true(n % 7 != 0); /* so that i * 7 mod n is a permutation */
    for (unsigned i = 0; i < n; i++)
        order[i] = (i * 7) % n;
    assert_int_equal(feed_cut(4, &(struct frag_opts){ .id = 3, .proto = 6 }, l4, len, UNIT,
                              order, n), DEFRAG_DONE);
    assert_request(4, true);
    assert_int_equal(counter(STAT_DEFRAG_IPV4_FRAGMENTS), n);
}

static void test_duplicates_raise_overlap_and_reassemble_once(void **state)
{
    (void)state;
    uint8_t l4[256];
    size_t len = build_l4(4, false, req, l4);
    const struct frag_opts o = { .id = 11, .proto = 17 };
    struct pktbuf pb;
    frag4(&pb, &o, 0, l4, 32, true);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    assert_false(packet_has_event(&fpkt, DEV_IPV4_FRAG_OVERLAP));
    frag4(&pb, &o, 0, l4, 32, true);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    assert_true(packet_has_event(&fpkt, DEV_IPV4_FRAG_OVERLAP));
    frag4(&pb, &o, 32, l4 + 32, 32, true);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    frag4(&pb, &o, 32, l4 + 32, 32, true);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    frag4(&pb, &o, 64, l4 + 64, len - 64, false);
    assert_int_equal(feed(&pb), DEFRAG_DONE);
    assert_request(4, false);
    /* A copy arriving after the datagram is done starts a tracker of its own. */
    frag4(&pb, &o, 64, l4 + 64, len - 64, false);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    assert_int_equal(counter(STAT_DEFRAG_IPV4_REASSEMBLED), 1);
    assert_int_equal(counter(STAT_EVENT_BASE + DEV_IPV4_FRAG_OVERLAP), 2);
}

static void test_reassembled_ipv4_header_is_fixed(void **state)
{
    (void)state;
    const struct frag_opts o = { .id = 0x4242 };
    uint8_t a[16], b[5];
    memset(a, 'a', sizeof a);
    memset(b, 'b', sizeof b);
    struct pktbuf pb;
    frag4(&pb, &o, 16, b, sizeof b, false);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    frag4(&pb, &o, 0, a, sizeof a, true);
    assert_int_equal(feed(&pb), DEFRAG_DONE);
    assert_int_equal(res.len, 20 + 21);
    assert_int_equal(res.data[2] << 8 | res.data[3], 41);    /* total length */
    assert_int_equal(res.data[4] << 8 | res.data[5], 0x4242); /* id kept */
    assert_int_equal(res.data[6] << 8 | res.data[7], 0);      /* MF and offset cleared */
    assert_int_equal(res.data[9], 253);
    assert_int_equal(pb_fold(pb_sum(res.data, 20, 0)), 0);   /* checksum valid */
    struct packet *p = decode_result();
    assert_false(p->flags & (PKT_FRAGMENT | PKT_IPV4_CSUM_BAD | PKT_INVALID));
    assert_int_equal(p->l4_len, 21);
    assert_memory_equal(p->data + p->l4_off + 16, "bbbbb", 5);
}

static void test_ipv6_unfragmentable_part_is_kept_and_next_header_fixed(void **state)
{
    (void)state;
    uint8_t l4[256];
    size_t len = build_l4(6, false, req, l4);
    const struct frag_opts o = { .id = 0xdeadbeef, .proto = 17 };
    struct pktbuf pb;
    frag6_ext(&pb, &o, 32, l4 + 32, len - 32, false, true);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    frag6_ext(&pb, &o, 0, l4, 32, true, true);
    assert_int_equal(feed(&pb), DEFRAG_DONE);
    assert_int_equal(res.len, 40 + 8 + len);
    assert_int_equal(res.data[6], 0);        /* hop-by-hop follows the header */
    assert_int_equal(res.data[40], 17);      /* and UDP follows hop-by-hop */
    assert_int_equal(res.data[4] << 8 | res.data[5], 8 + len);
    assert_request(6, false);
}

static void test_vlans_keep_datagrams_apart(void **state)
{
    (void)state;
    uint8_t x[8], y[8];
    memset(x, 'x', sizeof x);
    memset(y, 'y', sizeof y);
    struct pktbuf pb;
    frag4(&pb, &(struct frag_opts){ .id = 5, .vlan = 10 }, 0, x, 8, true);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    frag4(&pb, &(struct frag_opts){ .id = 5, .vlan = 20 }, 8, y, 8, false);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    frag4(&pb, &(struct frag_opts){ .id = 5, .vlan = 10 }, 8, x, 8, false);
    assert_int_equal(feed(&pb), DEFRAG_DONE);
    uint32_t n;
    const uint8_t *pl = result_payload(&n);
    assert_int_equal(n, 16);
    assert_memory_equal(pl, "xxxxxxxxxxxxxxxx", 16);
}

static void test_different_protocols_keep_ipv4_datagrams_apart(void **state)
{
    (void)state;
    uint8_t x[8] = "xxxxxxx";
    struct pktbuf pb;
    frag4(&pb, &(struct frag_opts){ .id = 5, .proto = 253 }, 0, x, 8, true);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    frag4(&pb, &(struct frag_opts){ .id = 5, .proto = 254 }, 8, x, 8, false);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
}

static void test_ipv6_next_header_of_later_fragments_is_not_part_of_the_key(void **state)
{
    (void)state;
    uint8_t x[8] = "xxxxxxx";
    struct pktbuf pb;
    frag6(&pb, &(struct frag_opts){ .id = 5, .proto = 253 }, 0, x, 8, true);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    frag6(&pb, &(struct frag_opts){ .id = 5, .proto = 254 }, 8, x, 8, false);
    assert_int_equal(feed(&pb), DEFRAG_DONE);
    assert_int_equal(res.data[6], 253); /* from the first fragment (RFC 8200) */
}

/* ===========================================================================
 * Overlap policies
 *
 * Fragments in 8-byte units [start, end), each filled with its letter,
 * arriving in this order; the last one (I) completes the datagram:
 *
 *   unit:  0 1 2 3 4 5 6 7 8 9 10 11
 *   A      A A
 *   B            B B
 *   C        C C                        starts inside A
 *   D            D D                    same place as B
 *   E                  E E
 *   F                F F F F            covers E on both sides
 *   G                        G G
 *   H                      H H H        starts before G, ends with it
 *   J          J J                      starts with what holds unit 2
 *   I                              I    last fragment
 * ========================================================================= */

struct frag_spec {
    unsigned a, b;
    char letter;
};

static const struct frag_spec pattern[] = {
    { 0, 2, 'A' }, { 3, 5, 'B' }, { 1, 3, 'C' }, { 3, 5, 'D' }, { 6, 8, 'E' },
    { 5, 9, 'F' }, { 9, 11, 'G' }, { 8, 11, 'H' }, { 2, 4, 'J' }, { 11, 12, 'I' },
};
#define PATTERN_UNITS 12

static const struct {
    int policy;
    const char *units;
} pattern_results[] = {
    { DEFRAG_POLICY_FIRST, "AACBBFEEFGGI" },
    { DEFRAG_POLICY_LAST, "ACJJDFFFHHHI" },
    { DEFRAG_POLICY_BSD, "AACJBFFFFHHI" },
    { DEFRAG_POLICY_BSD_RIGHT, "ACJDDFEEHGGI" },
    { DEFRAG_POLICY_LINUX, "AAJJDFFFFHHI" },
    { DEFRAG_POLICY_WINDOWS, "AACBBFFFFGGI" },
    { DEFRAG_POLICY_SOLARIS, "AACBBFFFFHHI" },
};

/* Feeds the pattern; returns the reassembled payload as one letter per unit. */
static void run_pattern(int ver, const struct frag_opts *o, char *units)
{
    size_t n = sizeof pattern / sizeof pattern[0];
    for (size_t i = 0; i < n; i++) {
        uint8_t data[PATTERN_UNITS * UNIT];
        size_t len = (pattern[i].b - pattern[i].a) * UNIT;
        memset(data, pattern[i].letter, len);
        struct pktbuf pb;
        fragv(ver, &pb, o, pattern[i].a * UNIT, data, len, pattern[i].b != PATTERN_UNITS);
        int rc = feed(&pb);
        assert_int_equal(rc, i + 1 < n ? DEFRAG_HELD : DEFRAG_DONE);
    }
    uint32_t len;
    const uint8_t *pl = result_payload(&len);
    assert_int_equal(len, PATTERN_UNITS * UNIT);
    for (unsigned u = 0; u < PATTERN_UNITS; u++) {
        for (unsigned k = 1; k < UNIT; k++)
            assert_int_equal(pl[u * UNIT + k], pl[u * UNIT]); /* whole units only */
        units[u] = (char)pl[u * UNIT];
    }
    units[PATTERN_UNITS] = '\0';
}

static void check_every_policy(int ver)
{
    for (size_t i = 0; i < sizeof pattern_results / sizeof pattern_results[0]; i++) {
        cfg.default_policy = pattern_results[i].policy;
        table_reset();
        char units[PATTERN_UNITS + 1];
        run_pattern(ver, &(struct frag_opts){ .id = 77 }, units);
        if (strcmp(units, pattern_results[i].units) != 0)
            fail_msg("IPv%d policy %s: got %s, want %s", ver,
                     defrag_policy_name(pattern_results[i].policy), units,
                     pattern_results[i].units);
        /* The last fragment (I) overlaps nothing. */
        assert_false(packet_has_event(&fpkt, ver == 4 ? DEV_IPV4_FRAG_OVERLAP
                                                      : DEV_IPV6_FRAG_OVERLAP));
    }
    /* C, D, F, H and J overlap held data under every policy, whoever wins. */
    assert_int_equal(counter(STAT_EVENT_BASE + (ver == 4 ? DEV_IPV4_FRAG_OVERLAP
                                                         : DEV_IPV6_FRAG_OVERLAP)),
                     5 * 7);
}

static void test_ipv4_overlaps_under_each_policy(void **state)
{
    (void)state;
    check_every_policy(4);
}

static void test_ipv6_overlaps_under_each_policy(void **state)
{
    (void)state;
    check_every_policy(6);
}

static void test_policies_are_chosen_by_longest_destination_prefix(void **state)
{
    (void)state;
    cfg.default_policy = DEFRAG_POLICY_LINUX;
    assert_int_equal(defrag_config_add_policy(&cfg, "192.0.2.0/24", DEFRAG_POLICY_LAST), 0);
    assert_int_equal(defrag_config_add_policy(&cfg, "192.0.2.2", DEFRAG_POLICY_FIRST), 0);
    assert_int_equal(defrag_config_add_policy(&cfg, "192.0.0.0/16", DEFRAG_POLICY_BSD), 0);
    assert_int_equal(defrag_config_add_policy(&cfg, "2001:db8::/32", DEFRAG_POLICY_WINDOWS), 0);
    assert_int_equal(defrag_config_add_policy(&cfg, "2001:db8:0:1::/64", DEFRAG_POLICY_SOLARIS), 0);
    table_reset();
    char units[PATTERN_UNITS + 1];
    run_pattern(4, &(struct frag_opts){ .id = 1, .dst = "192.0.2.2" }, units);
    assert_string_equal(units, "AACBBFEEFGGI");        /* /32: first */
    run_pattern(4, &(struct frag_opts){ .id = 2, .dst = "192.0.2.9" }, units);
    assert_string_equal(units, "ACJJDFFFHHHI");        /* /24: last */
    run_pattern(4, &(struct frag_opts){ .id = 3, .dst = "192.0.7.1" }, units);
    assert_string_equal(units, "AACJBFFFFHHI");        /* /16: bsd */
    run_pattern(4, &(struct frag_opts){ .id = 4, .dst = "198.51.100.1" }, units);
    assert_string_equal(units, "AAJJDFFFFHHI");        /* default: linux */
    run_pattern(6, &(struct frag_opts){ .id = 5, .dst = "2001:db8::2" }, units);
    assert_string_equal(units, "AACBBFFFFGGI");        /* /32: windows */
    run_pattern(6, &(struct frag_opts){ .id = 6, .dst = "2001:db8:0:1::5" }, units);
    assert_string_equal(units, "AACBBFFFFHHI");        /* /64: solaris */
    run_pattern(6, &(struct frag_opts){ .id = 7, .dst = "2001:db9::1" }, units);
    assert_string_equal(units, "AAJJDFFFFHHI");        /* default */
}

static void test_policy_config_rejects_bad_input(void **state)
{
    (void)state;
    assert_int_equal(defrag_config_add_policy(&cfg, "10.0.0.0/33", DEFRAG_POLICY_BSD), -1);
    assert_int_equal(defrag_config_add_policy(&cfg, "10.0.0.0/", DEFRAG_POLICY_BSD), -1);
    assert_int_equal(defrag_config_add_policy(&cfg, "10.0.0.0/8x", DEFRAG_POLICY_BSD), -1);
    assert_int_equal(defrag_config_add_policy(&cfg, "not-an-address", DEFRAG_POLICY_BSD), -1);
    assert_int_equal(defrag_config_add_policy(&cfg, "::/129", DEFRAG_POLICY_BSD), -1);
    assert_int_equal(defrag_config_add_policy(&cfg, "10.0.0.0/8", DEFRAG_POLICY_COUNT), -1);
    assert_int_equal(defrag_config_add_policy(&cfg, "10.1.2.3/8", DEFRAG_POLICY_BSD), 0);
    assert_int_equal(cfg.npolicies, 1);
    assert_memory_equal(cfg.policies[0].addr, "\x0a\x00\x00\x00", 4); /* host bits cleared */
    assert_int_equal(defrag_config_add_policy(&cfg, "::/0", DEFRAG_POLICY_LAST), 0);
    assert_int_equal(defrag_policy_parse("bsd-right"), DEFRAG_POLICY_BSD_RIGHT);
    assert_int_equal(defrag_policy_parse("Windows"), DEFRAG_POLICY_WINDOWS);
    assert_int_equal(defrag_policy_parse("old-linux"), DEFRAG_POLICY_LINUX);
    assert_int_equal(defrag_policy_parse("hpux11"), DEFRAG_POLICY_FIRST);
    assert_int_equal(defrag_policy_parse("plan9"), -1);
    assert_string_equal(defrag_policy_name(DEFRAG_POLICY_SOLARIS), "solaris");
    struct defrag_config bad;
    defrag_config_init(&bad);
    bad.memcap = 0;
    assert_null(defrag_new(&bad, &st));
}

/* ===========================================================================
 * Limits and timeouts
 * ========================================================================= */

static void test_fragments_older_than_the_timeout_are_discarded(void **state)
{
    (void)state;
    cfg.timeout_sec = 30;
    table_reset();
    const struct frag_opts o = { .id = 21 };
    uint8_t x[16];
    memset(x, 'x', sizeof x);
    struct pktbuf pb;
    frag4(&pb, &o, 0, x, 8, true);
    assert_int_equal(feed_at(&pb, T0), DEFRAG_HELD);
    frag4(&pb, &o, 8, x, 8, false);
    assert_int_equal(feed_at(&pb, T0 + 31), DEFRAG_HELD); /* the first is gone */
    assert_int_equal(counter(STAT_DEFRAG_IPV4_TIMEOUTS), 1);
    frag4(&pb, &o, 0, x, 8, true);
    assert_int_equal(feed_at(&pb, T0 + 32), DEFRAG_DONE); /* and the table goes on */
    /* Other trackers expire as time passes, whatever is fed. */
    frag6(&pb, &o, 0, x, 8, true);
    assert_int_equal(feed_at(&pb, T0 + 40), DEFRAG_HELD);
    frag4(&pb, &(struct frag_opts){ .id = 99 }, 0, x, 8, true);
    assert_int_equal(feed_at(&pb, T0 + 71), DEFRAG_HELD);
    assert_int_equal(counter(STAT_DEFRAG_IPV6_TIMEOUTS), 1);
}

static void test_tracker_limit_evicts_the_oldest_and_keeps_working(void **state)
{
    (void)state;
    cfg.trackers_max = 2;
    table_reset();
    uint8_t x[8] = "xxxxxxx";
    struct pktbuf pb;
    for (uint32_t id = 1; id <= 3; id++) {
        frag4(&pb, &(struct frag_opts){ .id = id }, 0, x, 8, true);
        assert_int_equal(feed(&pb), DEFRAG_HELD);
    }
    assert_int_equal(counter(STAT_DEFRAG_MAX_FRAG_HITS), 1);
    frag4(&pb, &(struct frag_opts){ .id = 1 }, 8, x, 8, false);
    assert_int_equal(feed(&pb), DEFRAG_HELD);  /* id 1 was evicted */
    frag4(&pb, &(struct frag_opts){ .id = 3 }, 8, x, 8, false);
    assert_int_equal(feed(&pb), DEFRAG_DONE);
    assert_int_equal(counter(STAT_DEFRAG_MAX_FRAG_HITS), 2);
}

static void test_memcap_drops_fragments_and_keeps_working(void **state)
{
    (void)state;
    cfg.memcap = 4096;
    table_reset();
    uint8_t big[1024];
    memset(big, 'z', sizeof big);
    struct pktbuf pb;
    int dropped = 0;
    for (uint32_t i = 0; i < 8; i++) {
        frag4(&pb, &(struct frag_opts){ .id = 50 }, i * 1024, big, sizeof big, true);
        if (feed(&pb) == DEFRAG_DROPPED) {
            dropped++;
            assert_true(packet_has_event(&fpkt, DEV_IPV4_FRAG_IGNORED));
        }
    }
    assert_true(dropped > 0);
    assert_true(counter(STAT_DEFRAG_MAX_FRAG_HITS) > 0);
    assert_true(counter(STAT_DEFRAG_MEMUSE) <= 4096);
    /* A new small datagram evicts the stuck one. */
    frag4(&pb, &(struct frag_opts){ .id = 51 }, 0, big, 64, true);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    frag4(&pb, &(struct frag_opts){ .id = 51 }, 64, big, 64, false);
    assert_int_equal(feed(&pb), DEFRAG_DONE);
    defrag_flush(dt);
    assert_int_equal(counter(STAT_DEFRAG_MEMUSE), 0);
}

static void test_max_frags_limits_stored_pieces(void **state)
{
    (void)state;
    cfg.max_frags = 4;
    table_reset();
    uint8_t x[8] = "xxxxxxx";
    struct pktbuf pb;
    int dropped = 0;
    for (uint32_t i = 0; i < 10; i += 2) { /* gaps keep the pieces apart */
        frag4(&pb, &(struct frag_opts){ .id = 60 }, i * UNIT, x, 8, true);
        dropped += feed(&pb) == DEFRAG_DROPPED;
    }
    assert_int_equal(dropped, 1);
    assert_int_equal(counter(STAT_DEFRAG_MAX_FRAG_HITS), 1);
}

static void test_memory_is_returned(void **state)
{
    (void)state;
    char units[PATTERN_UNITS + 1];
    run_pattern(4, &(struct frag_opts){ .id = 1 }, units);
    assert_int_equal(counter(STAT_DEFRAG_MEMUSE), 0);
    uint8_t x[8] = "xxxxxxx";
    struct pktbuf pb;
    frag6(&pb, &(struct frag_opts){ .id = 2 }, 0, x, 8, true);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    assert_true(counter(STAT_DEFRAG_MEMUSE) > 0);
    defrag_flush(dt);
    assert_int_equal(counter(STAT_DEFRAG_MEMUSE), 0);
}

/* ===========================================================================
 * Malformed fragments
 * ========================================================================= */

static void test_ipv4_datagram_over_65535_is_too_large(void **state)
{
    (void)state;
    uint8_t x[80];
    memset(x, 'x', sizeof x);
    struct pktbuf pb;
    frag4(&pb, &(struct frag_opts){ .id = 1 }, 8189 * UNIT, x, sizeof x, false);
    assert_int_equal(feed(&pb), DEFRAG_DROPPED);
    assert_true(packet_has_event(&fpkt, DEV_IPV4_FRAG_PKT_TOO_LARGE));
    assert_int_equal(counter(STAT_EVENT_BASE + DEV_IPV4_FRAG_PKT_TOO_LARGE), 1);
    /* The largest legal one fits: 20 + 65512 + 3 bytes. */
    frag4(&pb, &(struct frag_opts){ .id = 2 }, 8189 * UNIT, x, 3, false);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
}

static void test_ipv6_payload_over_65535_is_too_large(void **state)
{
    (void)state;
    uint8_t x[80];
    memset(x, 'x', sizeof x);
    struct pktbuf pb;
    frag6(&pb, &(struct frag_opts){ .id = 1 }, 8190 * UNIT, x, sizeof x, false);
    assert_int_equal(feed(&pb), DEFRAG_DROPPED);
    assert_true(packet_has_event(&fpkt, DEV_IPV6_FRAG_PKT_TOO_LARGE));
}

static void test_ipv6_non_final_fragment_not_multiple_of_8_is_invalid(void **state)
{
    (void)state;
    uint8_t x[13] = "xxxxxxxxxxxx";
    struct pktbuf pb;
    frag6(&pb, &(struct frag_opts){ .id = 1 }, 0, x, sizeof x, true);
    assert_int_equal(feed(&pb), DEFRAG_DROPPED);
    assert_true(packet_has_event(&fpkt, DEV_IPV6_FRAG_INVALID_LENGTH));
    assert_int_equal(counter(STAT_EVENT_BASE + DEV_IPV6_FRAG_INVALID_LENGTH), 1);
}

static void test_ipv4_non_final_fragment_not_multiple_of_8_depends_on_policy(void **state)
{
    (void)state;
    uint8_t x[13] = "xxxxxxxxyyyy", z[8] = "zzzzzzz";
    struct pktbuf pb;
    /* BSD drops it. */
    cfg.default_policy = DEFRAG_POLICY_BSD;
    table_reset();
    frag4(&pb, &(struct frag_opts){ .id = 1 }, 0, x, sizeof x, true);
    assert_int_equal(feed(&pb), DEFRAG_DROPPED);
    assert_true(packet_has_event(&fpkt, DEV_IPV4_FRAG_INVALID_LENGTH));
    /* Linux keeps the first 8 bytes. */
    cfg.default_policy = DEFRAG_POLICY_LINUX;
    table_reset();
    frag4(&pb, &(struct frag_opts){ .id = 1 }, 0, x, sizeof x, true);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    assert_true(packet_has_event(&fpkt, DEV_IPV4_FRAG_INVALID_LENGTH));
    frag4(&pb, &(struct frag_opts){ .id = 1 }, 8, z, 8, false);
    assert_int_equal(feed(&pb), DEFRAG_DONE);
    uint32_t n;
    const uint8_t *pl = result_payload(&n);
    assert_int_equal(n, 16);
    assert_memory_equal(pl, "xxxxxxxxzzzzzzz", 16);
}

static void test_fragments_disagreeing_with_the_known_length_are_ignored(void **state)
{
    (void)state;
    uint8_t x[24];
    memset(x, 'x', sizeof x);
    struct pktbuf pb;
    const struct frag_opts o = { .id = 8 };
    frag4(&pb, &o, 16, x, 8, false);                /* ends at 24 */
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    frag4(&pb, &o, 24, x, 8, false);                /* a second, later end */
    assert_int_equal(feed(&pb), DEFRAG_DROPPED);
    assert_true(packet_has_event(&fpkt, DEV_IPV4_FRAG_IGNORED));
    frag4(&pb, &o, 32, x, 8, true);                 /* wholly past the end */
    assert_int_equal(feed(&pb), DEFRAG_DROPPED);
    frag4(&pb, &o, 8, x, 24, true);                 /* runs past the end: cut */
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    frag4(&pb, &o, 0, x, 8, true);
    assert_int_equal(feed(&pb), DEFRAG_DONE);
    assert_int_equal(res.len, 20 + 24);
}

static void test_last_fragment_trims_data_held_beyond_it(void **state)
{
    (void)state;
    uint8_t x[32];
    memset(x, 'x', sizeof x);
    struct pktbuf pb;
    const struct frag_opts o = { .id = 9 };
    frag6(&pb, &o, 0, x, 32, true);
    assert_int_equal(feed(&pb), DEFRAG_HELD);
    frag6(&pb, &o, 8, x, 8, false);                 /* the end is 16 after all */
    assert_int_equal(feed(&pb), DEFRAG_DONE);
    assert_int_equal(res.len, 40 + 16);
}

static void test_ipv4_fragment_with_bad_header_checksum_is_not_used(void **state)
{
    (void)state;
    uint8_t x[8] = "xxxxxxx";
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_ipv4(&pb, &(struct pb_ipv4){ .id = 4, .proto = 253, .frag = 0x2000, .bad_csum = true });
    pb_put(&pb, x, 8);
    assert_int_equal(feed(&pb), DEFRAG_DROPPED);
    assert_int_equal(counter(STAT_DEFRAG_IPV4_FRAGMENTS), 0);
}

static void test_truncated_capture_is_not_reassembled(void **state)
{
    (void)state;
    uint8_t x[64];
    memset(x, 'x', sizeof x);
    struct pktbuf pb;
    frag4(&pb, &(struct frag_opts){ .id = 4 }, 0, x, sizeof x, true);
    pb_close(&pb);
    free(fmem);
    fmem = malloc(pb.len - 10);
    memcpy(fmem, pb.b, pb.len - 10);
    pkt_finish(&fpkt, fmem, pb.len - 10, LINK_ETHERNET);
    fpkt.wirelen = (uint32_t)pb.len;
    decode_packet(&dc, &fpkt);
    assert_true(fpkt.flags & PKT_FRAGMENT);
    assert_int_equal(defrag_packet(dt, &dc, &fpkt, &res), DEFRAG_DROPPED);
}

static void test_packets_that_are_not_fragments_are_refused(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_ipv4(&pb, &(struct pb_ipv4){ .proto = 253 });
    pb_put(&pb, "data", 4);
    pb_close(&pb);
    pkt_finish(&fpkt, pb.b, pb.len, LINK_ETHERNET);
    decode_packet(&dc, &fpkt);
    assert_int_equal(defrag_packet(dt, &dc, &fpkt, &res), DEFRAG_DROPPED);
    fpkt.flags |= PKT_FRAGMENT; /* even when flagged */
    assert_int_equal(defrag_packet(dt, &dc, &fpkt, &res), DEFRAG_DROPPED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_ipv4_in_order_udp_decodes_to_the_request),
        T(test_ipv4_in_order_tcp_decodes_to_the_request),
        T(test_ipv6_in_order_udp_decodes_to_the_request),
        T(test_ipv6_in_order_tcp_decodes_to_the_request),
        T(test_ipv4_reverse_order),
        T(test_ipv6_reverse_order),
        T(test_ipv4_random_orders),
        T(test_ipv6_random_orders),
        T(test_ipv4_tiny_fragments_split_the_tcp_header),
        T(test_duplicates_raise_overlap_and_reassemble_once),
        T(test_reassembled_ipv4_header_is_fixed),
        T(test_ipv6_unfragmentable_part_is_kept_and_next_header_fixed),
        T(test_vlans_keep_datagrams_apart),
        T(test_different_protocols_keep_ipv4_datagrams_apart),
        T(test_ipv6_next_header_of_later_fragments_is_not_part_of_the_key),
        T(test_ipv4_overlaps_under_each_policy),
        T(test_ipv6_overlaps_under_each_policy),
        T(test_policies_are_chosen_by_longest_destination_prefix),
        T(test_policy_config_rejects_bad_input),
        T(test_fragments_older_than_the_timeout_are_discarded),
        T(test_tracker_limit_evicts_the_oldest_and_keeps_working),
        T(test_memcap_drops_fragments_and_keeps_working),
        T(test_max_frags_limits_stored_pieces),
        T(test_memory_is_returned),
        T(test_ipv4_datagram_over_65535_is_too_large),
        T(test_ipv6_payload_over_65535_is_too_large),
        T(test_ipv6_non_final_fragment_not_multiple_of_8_is_invalid),
        T(test_ipv4_non_final_fragment_not_multiple_of_8_depends_on_policy),
        T(test_fragments_disagreeing_with_the_known_length_are_ignored),
        T(test_last_fragment_trims_data_held_beyond_it),
        T(test_ipv4_fragment_with_bad_header_checksum_is_not_used),
        T(test_truncated_capture_is_not_reassembled),
        T(test_packets_that_are_not_fragments_are_refused),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
