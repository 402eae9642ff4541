/*
 * Unit tests for src/decode.
 *
 * Sections: helpers, link layers, VLAN, IPv4, IPv6, TCP, UDP, ICMP, GRE and
 * tunnels, checksums, malformation events per layer, truncation safety.
 *
 * Every packet is decoded from a heap copy of exactly caplen bytes, so an
 * ASan build catches any read past the captured length.
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
#include "output/stats.h"
#include "pktbuild.h"

/* ===========================================================================
 * Helpers
 * ========================================================================= */

static struct stats st;
static struct decode_ctx dc;
static struct packet pkt;
static uint8_t *pkt_mem;

static int setup(void **state)
{
    (void)state;
    memset(&st, 0, sizeof st);
    memset(&dc, 0, sizeof dc);
    dc.cfg.checksum_validation = true;
    dc.cfg.max_layers = 8;
    dc.stats = &st;
    memset(&pkt, 0, sizeof pkt);
    pkt_mem = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(pkt_mem);
    pkt_mem = NULL;
    return 0;
}

/* Decodes a heap copy of exactly len bytes, wirelen = caplen. */
static struct packet *decode_bytes(const uint8_t *d, size_t len, int linktype)
{
    free(pkt_mem);
    pkt_mem = malloc(len);
    if (len)
        memcpy(pkt_mem, d, len);
    pkt_finish(&pkt, pkt_mem, len, linktype);
    decode_packet(&dc, &pkt);
    return &pkt;
}

/* Closes the builder and decodes what it holds. */
static struct packet *decode_built(struct pktbuf *pb, int linktype)
{
    pb_close(pb);
    return decode_bytes(pb->b, pb->len, linktype);
}

/* Decodes the first caplen bytes of a packet that was wirelen long. */
static struct packet *decode_snapped(const uint8_t *d, size_t caplen, size_t wirelen,
                                     int linktype)
{
    free(pkt_mem);
    pkt_mem = malloc(caplen);
    if (caplen)
        memcpy(pkt_mem, d, caplen);
    pkt_finish(&pkt, pkt_mem, caplen, linktype);
    pkt.wirelen = (uint32_t)wirelen;
    decode_packet(&dc, &pkt);
    return &pkt;
}

static uint64_t counter(int id)
{
    return stats_get(&st, id);
}

/* The event is on the packet and was counted once. */
#define assert_event(ev)                                                                   \
    do {                                                                                   \
        if (!packet_has_event(&pkt, (ev)))                                                 \
            fail_msg("event %s not raised (%u events, first %s)", decode_event_name(ev),    \
                     pkt.nevents, pkt.nevents ? decode_event_name(pkt.events[0]) : "-");    \
        assert_int_equal(counter(STAT_EVENT_BASE + (ev)), 1);                              \
    } while (0)

#define assert_no_events()                                                                 \
    do {                                                                                   \
        if (pkt.nevents != 0)                                                              \
            fail_msg("unexpected event %s", decode_event_name(pkt.events[0]));              \
    } while (0)

#define assert_flag(f) assert_true((pkt.flags & (f)) != 0)
#define assert_no_flag(f) assert_true((pkt.flags & (f)) == 0)

static void assert_addr_is(int ver, const struct ip_addr *a, const char *want)
{
    struct ip_addr w;
    memset(&w, 0, sizeof w);
    assert_int_equal(inet_pton(ver == 6 ? AF_INET6 : AF_INET, want, w.b), 1);
    char got[64];
    decode_addr_str(ver, a, got, sizeof got);
    assert_string_equal(got, want);
    assert_memory_equal(a->b, w.b, sizeof w.b); /* IPv4: the rest stays zero */
}

static const uint8_t payload5[5] = { 'h', 'e', 'l', 'l', 'o' };

/* IPv4 192.0.2.1:1234 -> 192.0.2.2:80 TCP "hello", starting at the current end. */
static void put_ipv4_tcp(struct pktbuf *pb)
{
    pb_ipv4(pb, &(struct pb_ipv4){ .ttl = 33 });
    pb_tcp(pb, &(struct pb_tcp){ .sp = 1234, .dp = 80, .seq = 1000, .ack = 2000,
                                 .flags = TCP_ACK | TCP_PSH, .win = 512 });
    pb_put(pb, payload5, sizeof payload5);
}

static void put_ipv6_udp(struct pktbuf *pb)
{
    pb_ipv6(pb, &(struct pb_ipv6){ .hlim = 7 });
    pb_udp(pb, &(struct pb_udp){ .sp = 5353, .dp = 53 });
    pb_put(pb, payload5, sizeof payload5);
}

/* The facts every correctly decoded put_ipv4_tcp() packet shows. */
static void assert_ipv4_tcp_decoded(uint32_t l3_off)
{
    assert_no_events();
    assert_no_flag(PKT_INVALID);
    assert_flag(PKT_HAS_TUPLE);
    assert_flag(PKT_HAS_PORTS);
    assert_int_equal(pkt.ip_ver, 4);
    assert_int_equal(pkt.proto, 6);
    assert_int_equal(pkt.ttl, 33);
    assert_addr_is(4, &pkt.src, "192.0.2.1");
    assert_addr_is(4, &pkt.dst, "192.0.2.2");
    assert_int_equal(pkt.sp, 1234);
    assert_int_equal(pkt.dp, 80);
    assert_int_equal(pkt.l3_off, l3_off);
    assert_int_equal(pkt.l3_len, 20 + 20 + 5);
    assert_int_equal(pkt.l4_off, l3_off + 20);
    assert_int_equal(pkt.payload_off, l3_off + 40);
    assert_int_equal(pkt.payload_len, 5);
    assert_memory_equal(pkt.data + pkt.payload_off, "hello", 5);
}

static void assert_ipv6_udp_decoded(uint32_t l3_off)
{
    assert_no_events();
    assert_no_flag(PKT_INVALID);
    assert_flag(PKT_HAS_TUPLE);
    assert_flag(PKT_HAS_PORTS);
    assert_int_equal(pkt.ip_ver, 6);
    assert_int_equal(pkt.proto, 17);
    assert_int_equal(pkt.ttl, 7);
    assert_addr_is(6, &pkt.src, "2001:db8::1");
    assert_addr_is(6, &pkt.dst, "2001:db8::2");
    assert_int_equal(pkt.sp, 5353);
    assert_int_equal(pkt.dp, 53);
    assert_int_equal(pkt.l3_off, l3_off);
    assert_int_equal(pkt.l3_len, 40 + 8 + 5);
    assert_int_equal(pkt.l4_off, l3_off + 40);
    assert_int_equal(pkt.payload_off, l3_off + 48);
    assert_int_equal(pkt.payload_len, 5);
}

/* ===========================================================================
 * Link layers
 * ========================================================================= */

static void test_ethernet_ipv4_tcp(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_ETHERNET);
    assert_ipv4_tcp_decoded(14);
    assert_int_equal(pkt.tcp.seq, 1000);
    assert_int_equal(pkt.tcp.ack, 2000);
    assert_int_equal(pkt.tcp.win, 512);
    assert_int_equal(pkt.tcp.flags, TCP_ACK | TCP_PSH);
    assert_int_equal(pkt.tcp.hlen, 20);
    assert_int_equal(counter(STAT_DECODER_PKTS), 1);
    assert_int_equal(counter(STAT_DECODER_BYTES), pb.len);
    assert_int_equal(counter(STAT_DECODER_MAX_PKT_SIZE), pb.len);
    assert_int_equal(counter(STAT_DECODER_ETHERNET), 1);
    assert_int_equal(counter(STAT_DECODER_IPV4), 1);
    assert_int_equal(counter(STAT_DECODER_TCP), 1);
    assert_int_equal(counter(STAT_DECODER_INVALID), 0);
}

static void test_ethernet_ipv6_udp(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    put_ipv6_udp(&pb);
    decode_built(&pb, LINK_ETHERNET);
    assert_ipv6_udp_decoded(14);
    assert_int_equal(counter(STAT_DECODER_IPV6), 1);
    assert_int_equal(counter(STAT_DECODER_UDP), 1);
}

static void test_ethernet_padding_is_not_payload(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    pb_put(&pb, "ab", 2);
    pb_close(&pb);
    pb_put(&pb, NULL, 60 - pb.len); /* minimum frame size */
    decode_bytes(pb.b, pb.len, LINK_ETHERNET);
    assert_no_events();
    assert_no_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(pkt.l3_len, 30);
    assert_int_equal(pkt.payload_len, 2);
}

static void test_ethernet_arp_is_counted_not_an_event(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0x0806);
    pb_put(&pb, NULL, 28);
    decode_built(&pb, LINK_ETHERNET);
    assert_no_events();
    assert_no_flag(PKT_INVALID);
    assert_no_flag(PKT_HAS_TUPLE);
    assert_int_equal(counter(STAT_DECODER_UNKNOWN_ETHERTYPE), 1);
}

static void test_ethernet_8023_length_field_is_not_decoded(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 46); /* 802.3 length, LLC follows */
    pb_put(&pb, NULL, 46);
    decode_built(&pb, LINK_ETHERNET);
    assert_no_events();
    assert_no_flag(PKT_INVALID);
    assert_int_equal(counter(STAT_DECODER_UNKNOWN_ETHERTYPE), 0);
}

static void test_raw_101_ipv4(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_RAW);
    assert_ipv4_tcp_decoded(0);
    assert_int_equal(counter(STAT_DECODER_RAW), 1);
}

static void test_raw_101_ipv6(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    put_ipv6_udp(&pb);
    decode_built(&pb, LINK_RAW);
    assert_ipv6_udp_decoded(0);
    assert_int_equal(counter(STAT_DECODER_RAW), 1);
}

static void test_linktype_ipv4_228(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_IPV4);
    assert_ipv4_tcp_decoded(0);
    assert_int_equal(counter(STAT_DECODER_RAW), 1);
}

static void test_linktype_ipv6_229(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    put_ipv6_udp(&pb);
    decode_built(&pb, LINK_IPV6);
    assert_ipv6_udp_decoded(0);
    assert_int_equal(counter(STAT_DECODER_RAW), 1);
}

static void test_sll_113_ipv4(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_sll(&pb, 0);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_SLL);
    assert_ipv4_tcp_decoded(16);
    assert_int_equal(counter(STAT_DECODER_SLL), 1);
}

static void test_sll2_276_ipv6(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_sll2(&pb, 0);
    put_ipv6_udp(&pb);
    decode_built(&pb, LINK_SLL2);
    assert_ipv6_udp_decoded(20);
    assert_int_equal(counter(STAT_DECODER_SLL2), 1);
}

static void test_null_0_little_endian_ipv4(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_null(&pb, 0, false);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_NULL);
    assert_ipv4_tcp_decoded(4);
    assert_int_equal(counter(STAT_DECODER_NULL), 1);
}

static void test_null_0_big_endian_ipv4(void **state)
{
    (void)state;
    /* Captured on a big-endian host: the family is byte-swapped. */
    struct pktbuf pb;
    pb_init(&pb);
    pb_null(&pb, 0, true);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_NULL);
    assert_ipv4_tcp_decoded(4);
}

static void test_null_0_ipv6_families(void **state)
{
    (void)state;
    static const uint32_t families[] = { 10, 24, 28, 30 };
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        for (int be = 0; be < 2; be++) {
            struct pktbuf pb;
            pb_init(&pb);
            pb_null(&pb, families[i], be);
            put_ipv6_udp(&pb);
            decode_built(&pb, LINK_NULL);
            assert_ipv6_udp_decoded(4);
        }
    }
}

static void test_loop_108_network_order(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_null(&pb, 0, true);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_LOOP);
    assert_ipv4_tcp_decoded(4);

    pb_init(&pb);
    pb_null(&pb, 0, true);
    put_ipv6_udp(&pb);
    decode_built(&pb, LINK_LOOP);
    assert_ipv6_udp_decoded(4);
}

static void test_unsupported_linktype_is_invalid(void **state)
{
    (void)state;
    static const int supported[] = { LINK_NULL, LINK_ETHERNET, LINK_RAW, LINK_LOOP,
                                     LINK_SLL, LINK_IPV4, LINK_IPV6, LINK_SLL2 };
    for (size_t i = 0; i < sizeof supported / sizeof supported[0]; i++)
        assert_true(decode_link_supported(supported[i]));
    assert_false(decode_link_supported(105)); /* 802.11 */
    assert_false(decode_link_supported(-1));

    struct pktbuf pb;
    pb_init(&pb);
    put_ipv4_tcp(&pb);
    decode_built(&pb, 105);
    assert_flag(PKT_INVALID);
    assert_no_flag(PKT_HAS_TUPLE);
    assert_int_equal(counter(STAT_DECODER_INVALID), 1);
}

static void test_decode_resets_state_of_reused_packet(void **state)
{
    (void)state;
    struct pktbuf tcp, bad;
    pb_init(&tcp);
    pb_eth(&tcp, 0);
    pb_vlan(&tcp, 0, 5, 0);
    put_ipv4_tcp(&tcp);
    pb_close(&tcp);
    pb_init(&bad);
    pb_eth(&bad, 0x86dd);
    pb_put(&bad, NULL, 10);

    pkt_finish(&pkt, tcp.b, tcp.len, LINK_ETHERNET);
    decode_packet(&dc, &pkt);
    assert_int_equal(pkt.vlan_cnt, 1);
    assert_flag(PKT_HAS_PORTS);

    /* Same struct, new capture fields only (as a packet pool would do). */
    pkt.data = bad.b;
    pkt.caplen = pkt.wirelen = (uint32_t)bad.len;
    decode_packet(&dc, &pkt);
    assert_int_equal(pkt.nevents, 1);
    assert_true(packet_has_event(&pkt, DEV_IPV6_PKT_TOO_SMALL));
    assert_int_equal(pkt.vlan_cnt, 0);
    assert_int_equal(pkt.ip_ver, 0);
    assert_int_equal(pkt.sp, 0);
    assert_int_equal(pkt.dp, 0);
    assert_int_equal(pkt.l4_off, 0);
    assert_int_equal(pkt.payload_len, 0);
    assert_no_flag(PKT_HAS_PORTS | PKT_HAS_TUPLE);
    assert_flag(PKT_INVALID);
    assert_int_equal(counter(STAT_DECODER_PKTS), 2);
    assert_int_equal(counter(STAT_DECODER_MAX_PKT_SIZE), tcp.len);
}

static void test_event_names_round_trip(void **state)
{
    (void)state;
    for (int ev = 0; ev < DECODE_EVENT_COUNT; ev++)
        assert_int_equal(decode_event_lookup(decode_event_name(ev)), ev);
    assert_string_equal(decode_event_name(DEV_IPV4_TRUNC_PKT), "ipv4.trunc_pkt");
    assert_int_equal(decode_event_lookup("ipv6.rh_type_0"), DEV_IPV6_RH_TYPE_0);
    assert_int_equal(decode_event_lookup("no.such_event"), -1);
    assert_string_equal(decode_event_name(-1), "unknown");
    assert_string_equal(decode_event_name(DECODE_EVENT_COUNT), "unknown");
    assert_string_equal(stats_name(STAT_EVENT_BASE + DEV_TCP_OPT_DUPLICATE),
                        "decoder.event.tcp.opt_duplicate");
}

static void test_events_beyond_capacity_are_counted_not_stored(void **state)
{
    (void)state;
    for (int ev = 0; ev < PKT_MAX_EVENTS + 3; ev++)
        decode_set_event(&dc, &pkt, ev);
    decode_set_event(&dc, &pkt, 0); /* again: stored once */
    assert_int_equal(pkt.nevents, PKT_MAX_EVENTS);
    assert_int_equal(pkt.events[0], 0);
    assert_int_equal(pkt.events[1], 1);
    assert_int_equal(counter(STAT_EVENT_BASE + PKT_MAX_EVENTS + 2), 1);
    assert_false(packet_has_event(&pkt, PKT_MAX_EVENTS + 2));
}

/* ===========================================================================
 * VLAN
 * ========================================================================= */

static void test_vlan_tag_records_id(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_vlan(&pb, 0, 0x0abc | 0xe000 /* PCP bits are not the id */, 0);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_ETHERNET);
    assert_ipv4_tcp_decoded(18);
    assert_int_equal(pkt.vlan_cnt, 1);
    assert_int_equal(pkt.vlan[0], 0x0abc);
    assert_int_equal(counter(STAT_DECODER_VLAN), 1);
}

static void test_qinq_records_both_ids(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_vlan(&pb, 0x88a8, 10, 0);
    pb_vlan(&pb, 0x8100, 20, 0);
    put_ipv6_udp(&pb);
    decode_built(&pb, LINK_ETHERNET);
    assert_ipv6_udp_decoded(22);
    assert_int_equal(pkt.vlan_cnt, 2);
    assert_int_equal(pkt.vlan[0], 10);
    assert_int_equal(pkt.vlan[1], 20);
    assert_int_equal(counter(STAT_DECODER_VLAN_QINQ), 1);
    assert_int_equal(counter(STAT_DECODER_VLAN), 1);
}

static void test_qinq_legacy_9100_tpid(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_vlan(&pb, 0x9100, 300, 0);
    pb_vlan(&pb, 0x8100, 400, 0);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_ETHERNET);
    assert_ipv4_tcp_decoded(22);
    assert_int_equal(pkt.vlan[0], 300);
    assert_int_equal(pkt.vlan[1], 400);
}

static void test_vlan_on_sll(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_sll(&pb, 0);
    pb_vlan(&pb, 0, 42, 0);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_SLL);
    assert_ipv4_tcp_decoded(20);
    assert_int_equal(pkt.vlan[0], 42);
}

/* ===========================================================================
 * IPv4
 * ========================================================================= */

static void test_ipv4_valid_options_raise_no_event(void **state)
{
    (void)state;
    static const uint8_t opts[] = {
        7, 7, 4, 0, 0, 0, 0,    /* record route, one slot */
        148, 4, 0, 0,           /* router alert */
        1,                      /* NOP */
        68, 8, 5, 0, 0, 0, 0, 0, /* timestamp */
        0,                      /* EOL */
    };
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .opts = opts, .optlen = sizeof opts });
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_no_flag(PKT_IPV4_CSUM_BAD | PKT_L4_CSUM_BAD);
    assert_int_equal(pkt.l4_off, 44);
    assert_int_equal(pkt.sp, 1);
}

static void test_ipv4_first_fragment_decodes_transport(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .frag = 0x2000 });
    pb_udp(&pb, &(struct pb_udp){ .sp = 7, .dp = 9, .len = 1000 }); /* whole datagram */
    pb_put(&pb, NULL, 16);
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_flag(PKT_FRAGMENT);
    assert_flag(PKT_HAS_PORTS);
    assert_int_equal(pkt.sp, 7);
    assert_int_equal(pkt.payload_len, 16);
}

static void test_ipv4_later_fragment_has_no_ports(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .frag = 185, .proto = 17 });
    pb_put(&pb, NULL, 24);
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_flag(PKT_FRAGMENT);
    assert_flag(PKT_HAS_TUPLE);
    assert_no_flag(PKT_HAS_PORTS);
    assert_int_equal(pkt.proto, 17);
    assert_int_equal(counter(STAT_DECODER_UDP), 0);
}

static void test_ipv4_snapped_capture_is_not_truncation(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_tcp(&pb, &(struct pb_tcp){ .sp = 1, .dp = 2, .bad_csum = true });
    pb_put(&pb, NULL, 200);
    pb_close(&pb);
    decode_snapped(pb.b, 14 + 20 + 20 + 10, pb.len, LINK_ETHERNET);
    assert_no_events();
    assert_no_flag(PKT_INVALID);
    assert_flag(PKT_HAS_PORTS);
    assert_int_equal(pkt.l3_len, 50);
    assert_int_equal(pkt.payload_len, 10);
    /* the transport checksum cannot be checked on a partial capture */
    assert_no_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(counter(STAT_CHECKSUM_TCP_INVALID), 0);
}

/* ===========================================================================
 * IPv6 and extension headers
 * ========================================================================= */

static void test_ipv6_extension_header_chain(void **state)
{
    (void)state;
    static const uint8_t hop[] = { 0x05, 2, 0, 0 };        /* router alert */
    static const uint8_t dst[] = { 0x04, 1, 4, 1, 1, 0 };  /* tunnel encap limit, PadN */
    uint8_t rh[22] = { 2, 1 };                              /* type 2, segments left 1 */
    rh[21] = 1;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_ext(&pb, 0, 0, hop, sizeof hop);
    pb_ip6_ext(&pb, 60, 0, dst, sizeof dst);
    pb_ip6_ext(&pb, 43, 0, rh, sizeof rh);
    pb_ip6_frag(&pb, 0, 0, true, 0x01020304);
    pb_tcp(&pb, &(struct pb_tcp){ .sp = 443, .dp = 50000, .flags = TCP_SYN });
    pb_put(&pb, payload5, 5);
    decode_built(&pb, LINK_ETHERNET);
    assert_no_events();
    assert_flag(PKT_FRAGMENT);
    assert_flag(PKT_HAS_PORTS);
    assert_int_equal(pkt.proto, 6);
    assert_int_equal(pkt.sp, 443);
    assert_int_equal(pkt.l4_off, 14 + 40 + 8 + 8 + 24 + 8);
    assert_int_equal(pkt.payload_len, 5);
    assert_int_equal(pkt.l3_len, 40 + 48 + 20 + 5);
}

static void test_ipv6_later_fragment_has_no_ports(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_frag(&pb, PB_NUM(17), 100, false, 7);
    pb_put(&pb, NULL, 32);
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_flag(PKT_FRAGMENT);
    assert_no_flag(PKT_HAS_PORTS);
    assert_int_equal(pkt.proto, 17);
    assert_int_equal(counter(STAT_DECODER_UDP), 0);
}

static void test_ipv6_ah_is_skipped(void **state)
{
    (void)state;
    static const uint8_t ah[] = { 0, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_ext(&pb, 51, 0, ah, sizeof ah);
    pb_udp(&pb, &(struct pb_udp){ .sp = 500, .dp = 500 });
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_int_equal(pkt.proto, 17);
    assert_int_equal(pkt.sp, 500);
    assert_int_equal(pkt.l4_off, 40 + 16);
}

static void test_ipv6_esp_stops_the_walk(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .next = 50 });
    pb_put(&pb, NULL, 40);
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_int_equal(pkt.proto, 50);
    assert_int_equal(pkt.l4_off, 40);
    assert_int_equal(pkt.l4_len, 40);
    assert_no_flag(PKT_HAS_PORTS);
}

static void test_ipv6_no_next_header_without_data(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .next = 59 });
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_no_flag(PKT_INVALID);
    assert_int_equal(pkt.proto, 59);
}

/* ===========================================================================
 * TCP
 * ========================================================================= */

static void test_tcp_syn_options(void **state)
{
    (void)state;
    static const uint8_t opts[] = {
        2, 4, 0x05, 0xb4,                               /* MSS 1460 */
        4, 2,                                           /* SACK permitted */
        8, 10, 0, 0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, /* timestamps */
        1,                                              /* NOP */
        3, 3, 7,                                        /* window scale 7 */
    };
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_tcp(&pb, &(struct pb_tcp){ .sp = 40000, .dp = 22, .flags = TCP_SYN, .seq = 0xfffffff0,
                                  .opts = opts, .optlen = sizeof opts });
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_int_equal(pkt.tcp.hlen, 40);
    assert_int_equal(pkt.tcp.mss, 1460);
    assert_true(pkt.tcp.sack_permitted);
    assert_true(pkt.tcp.has_wscale);
    assert_int_equal(pkt.tcp.wscale, 7);
    assert_true(pkt.tcp.has_ts);
    assert_int_equal(pkt.tcp.ts_val, 0x1234);
    assert_int_equal(pkt.tcp.ts_ecr, 0xdeadbeef);
    assert_int_equal(pkt.tcp.sack_blocks, 0);
    assert_int_equal(pkt.tcp.seq, 0xfffffff0u);
    assert_int_equal(pkt.tcp.flags, TCP_SYN);
    assert_int_equal(pkt.payload_len, 0);
}

static void test_tcp_no_options_means_absent(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_RAW);
    assert_int_equal(pkt.tcp.mss, 0);
    assert_false(pkt.tcp.has_wscale);
    assert_false(pkt.tcp.sack_permitted);
    assert_false(pkt.tcp.has_ts);
}

static void test_tcp_sack_blocks(void **state)
{
    (void)state;
    static const uint8_t opts[] = {
        1, 1, 5, 26, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6,
    };
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_tcp(&pb, &(struct pb_tcp){ .flags = TCP_ACK, .opts = opts, .optlen = sizeof opts });
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_int_equal(pkt.tcp.sack_blocks, 3);
    assert_int_equal(pkt.tcp.hlen, 48);
}

static void test_tcp_unknown_option_is_skipped(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 30, 6, 1, 2, 3, 4, 2, 4, 0x02, 0x18 }; /* MPTCP, MSS 536 */
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_tcp(&pb, &(struct pb_tcp){ .flags = TCP_SYN, .opts = opts, .optlen = sizeof opts });
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_int_equal(pkt.tcp.mss, 536);
}

/* ===========================================================================
 * UDP
 * ========================================================================= */

static void test_udp_ports_and_payload(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .src = "10.1.2.3", .dst = "10.3.2.1" });
    pb_udp(&pb, &(struct pb_udp){ .sp = 68, .dp = 67 });
    pb_put(&pb, NULL, 300);
    decode_built(&pb, LINK_IPV4);
    assert_no_events();
    assert_addr_is(4, &pkt.src, "10.1.2.3");
    assert_addr_is(4, &pkt.dst, "10.3.2.1");
    assert_int_equal(pkt.proto, 17);
    assert_int_equal(pkt.sp, 68);
    assert_int_equal(pkt.dp, 67);
    assert_int_equal(pkt.l4_off, 20);
    assert_int_equal(pkt.l4_len, 308);
    assert_int_equal(pkt.payload_off, 28);
    assert_int_equal(pkt.payload_len, 300);
}

static void test_udp_zero_checksum_over_ipv4_means_none(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2, .no_csum = true });
    pb_put(&pb, payload5, 5);
    decode_built(&pb, LINK_RAW);
    assert_no_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(counter(STAT_CHECKSUM_UDP_INVALID), 0);
}

static void test_udp_zero_checksum_over_ipv6_is_invalid(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2, .no_csum = true });
    pb_put(&pb, payload5, 5);
    decode_built(&pb, LINK_RAW);
    assert_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(counter(STAT_CHECKSUM_UDP_INVALID), 1);
}

/* ===========================================================================
 * ICMP
 * ========================================================================= */

static void test_icmpv4_echo_id_seq(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_icmp4(&pb, &(struct pb_icmp){ .type = 8, .id = 0x4242, .seq = 17 });
    pb_put(&pb, NULL, 56);
    decode_built(&pb, LINK_ETHERNET);
    assert_no_events();
    assert_no_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(pkt.proto, 1);
    assert_int_equal(pkt.icmp.type, 8);
    assert_int_equal(pkt.icmp.code, 0);
    assert_int_equal(pkt.icmp.id, 0x4242);
    assert_int_equal(pkt.icmp.seq, 17);
    assert_no_flag(PKT_HAS_PORTS);
    assert_int_equal(pkt.l4_off, 34);
    assert_int_equal(pkt.payload_off, 42);
    assert_int_equal(pkt.payload_len, 56);
    assert_int_equal(counter(STAT_DECODER_ICMPV4), 1);
}

static void test_icmpv4_error_carrying_ipv4_header(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_icmp4(&pb, &(struct pb_icmp){ .type = 3, .code = 3 });
    pb_ipv4(&pb, &(struct pb_ipv4){ .src = "192.0.2.2", .dst = "192.0.2.1" });
    pb_put(&pb, NULL, 8);
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_no_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(pkt.icmp.type, 3);
    assert_int_equal(pkt.icmp.code, 3);
    assert_addr_is(4, &pkt.src, "192.0.2.1"); /* the outer header, not the quoted one */
}

static void test_icmpv6_echo_id_seq(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_icmp6(&pb, &(struct pb_icmp){ .type = 128, .id = 7, .seq = 0xffff });
    pb_put(&pb, payload5, 5);
    decode_built(&pb, LINK_ETHERNET);
    assert_no_events();
    assert_no_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(pkt.proto, 58);
    assert_int_equal(pkt.icmp.type, 128);
    assert_int_equal(pkt.icmp.id, 7);
    assert_int_equal(pkt.icmp.seq, 0xffff);
    assert_int_equal(pkt.payload_len, 5);
    assert_int_equal(counter(STAT_DECODER_ICMPV6), 1);
}

static void test_icmpv6_mld_with_hop_limit_1_is_fine(void **state)
{
    (void)state;
    static const uint8_t ra[] = { 0x05, 2, 0, 0 };
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .hlim = 1, .dst = "ff02::16" });
    pb_ip6_ext(&pb, 0, 0, ra, sizeof ra);
    pb_icmp6(&pb, &(struct pb_icmp){ .type = 143 });
    pb_put(&pb, NULL, 20);
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_no_flag(PKT_L4_CSUM_BAD);
}

/* ===========================================================================
 * GRE and IP tunnels
 * ========================================================================= */

static void put_outer_ipv4(struct pktbuf *pb)
{
    pb_ipv4(pb, &(struct pb_ipv4){ .src = "198.51.100.1", .dst = "198.51.100.2" });
}

static void test_gre_v0_ipv4_inner_tuple_wins(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    put_outer_ipv4(&pb);
    pb_gre(&pb, &(struct pb_gre){ 0 });
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_ETHERNET);
    assert_ipv4_tcp_decoded(14 + 20 + 4);
    assert_flag(PKT_TUNNELED);
    assert_int_equal(counter(STAT_DECODER_GRE), 1);
    assert_int_equal(counter(STAT_DECODER_IPV4), 2);
}

static void test_gre_v0_checksum_key_seq(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    put_outer_ipv4(&pb);
    pb_gre(&pb, &(struct pb_gre){ .flags = PB_GRE_C | PB_GRE_K | PB_GRE_S, .key = 9, .seq = 1 });
    put_ipv6_udp(&pb);
    decode_built(&pb, LINK_RAW);
    assert_ipv6_udp_decoded(20 + 16);
    assert_flag(PKT_TUNNELED);
}

static void test_gre_v0_source_route_is_skipped(void **state)
{
    (void)state;
    static const uint8_t sre[] = { 0x08, 0x00, 0, 4, 10, 0, 0, 1, 0, 0, 0, 0 };
    struct pktbuf pb;
    pb_init(&pb);
    put_outer_ipv4(&pb);
    pb_gre(&pb, &(struct pb_gre){ .flags = PB_GRE_R, .routing = sre, .routing_len = sizeof sre });
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_RAW);
    assert_ipv4_tcp_decoded(20 + 8 + sizeof sre);
}

static void test_gre_transparent_ethernet_bridging(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_vlan(&pb, 0, 99, 0);
    put_outer_ipv4(&pb);
    pb_gre(&pb, &(struct pb_gre){ 0 });
    pb_eth(&pb, 0);
    pb_vlan(&pb, 0, 7, 0);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_ETHERNET);
    assert_ipv4_tcp_decoded(18 + 20 + 4 + 18);
    assert_flag(PKT_TUNNELED);
    /* the inner frame's VLAN replaces the outer one */
    assert_int_equal(pkt.vlan_cnt, 1);
    assert_int_equal(pkt.vlan[0], 7);
}

static void test_gre_v1_pptp(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    put_outer_ipv4(&pb);
    pb_gre(&pb, &(struct pb_gre){ .flags = PB_GRE_K | PB_GRE_S | 0x0080 | 1, .proto = 0x880b,
                                  .key = 0x00100001, .seq = 5, .ack = 4 });
    pb_put(&pb, NULL, 16); /* PPP */
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_no_flag(PKT_INVALID | PKT_TUNNELED);
    assert_int_equal(pkt.proto, 47);
    assert_int_equal(pkt.l4_off, 20);
    assert_int_equal(pkt.l4_len, 16 + 16);
}

static void test_ipip_inner_tuple_wins(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    put_outer_ipv4(&pb);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_ETHERNET);
    assert_ipv4_tcp_decoded(34);
    assert_flag(PKT_TUNNELED);
    assert_int_equal(counter(STAT_DECODER_IPV4_IN_IPV4), 1);
}

static void test_ipv6_in_ipv4(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    put_outer_ipv4(&pb);
    put_ipv6_udp(&pb);
    decode_built(&pb, LINK_RAW);
    assert_ipv6_udp_decoded(20);
    assert_flag(PKT_TUNNELED);
    assert_int_equal(counter(STAT_DECODER_IPV6_IN_IPV4), 1);
}

static void test_ipv4_in_ipv6(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .src = "2001:db8:ffff::1" });
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_RAW);
    assert_ipv4_tcp_decoded(40);
    assert_flag(PKT_TUNNELED);
    assert_int_equal(counter(STAT_DECODER_IPV4_IN_IPV6), 1);
}

static void test_ipv6_in_ipv6(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .src = "2001:db8:ffff::1" });
    put_ipv6_udp(&pb);
    decode_built(&pb, LINK_RAW);
    assert_ipv6_udp_decoded(40);
    assert_flag(PKT_TUNNELED);
    assert_int_equal(counter(STAT_DECODER_IPV6_IN_IPV6), 1);
}

static void test_tunnel_in_fragment_is_not_decapsulated(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .frag = 0x2000 });
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_RAW);
    assert_no_flag(PKT_TUNNELED);
    assert_addr_is(4, &pkt.src, "192.0.2.1");
    assert_int_equal(pkt.l3_off, 0);
    assert_int_equal(pkt.proto, 4);
}

/* n IPv4-in-GRE layers around an IPv4/UDP packet. */
static void put_gre_nest(struct pktbuf *pb, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        put_outer_ipv4(pb);
        pb_gre(pb, &(struct pb_gre){ 0 });
    }
    pb_ipv4(pb, &(struct pb_ipv4){ .src = "10.9.9.9" });
    pb_udp(pb, &(struct pb_udp){ .sp = 9, .dp = 9 });
}

static void test_nested_tunnels_within_max_layers(void **state)
{
    (void)state;
    dc.cfg.max_layers = 3;
    struct pktbuf pb;
    pb_init(&pb);
    put_gre_nest(&pb, 3);
    decode_built(&pb, LINK_RAW);
    assert_no_events();
    assert_addr_is(4, &pkt.src, "10.9.9.9");
    assert_int_equal(pkt.sp, 9);
    assert_int_equal(counter(STAT_DECODER_TOO_MANY_LAYERS), 0);
}

static void test_decoder_too_many_layers_gre(void **state)
{
    (void)state;
    dc.cfg.max_layers = 2;
    struct pktbuf pb;
    pb_init(&pb);
    put_gre_nest(&pb, 3);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_DECODER_TOO_MANY_LAYERS);
    assert_int_equal(counter(STAT_DECODER_TOO_MANY_LAYERS), 1);
    assert_flag(PKT_INVALID);
    assert_no_flag(PKT_HAS_PORTS);
}

static void test_decoder_too_many_layers_ipip(void **state)
{
    (void)state;
    dc.cfg.max_layers = 1;
    struct pktbuf pb;
    pb_init(&pb);
    put_outer_ipv4(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_DECODER_TOO_MANY_LAYERS);
    assert_int_equal(counter(STAT_DECODER_TOO_MANY_LAYERS), 1);
}

static void test_decoder_too_many_layers_teb(void **state)
{
    (void)state;
    dc.cfg.max_layers = 0;
    struct pktbuf pb;
    pb_init(&pb);
    put_outer_ipv4(&pb);
    pb_gre(&pb, &(struct pb_gre){ 0 });
    pb_eth(&pb, 0);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_DECODER_TOO_MANY_LAYERS);
    assert_int_equal(counter(STAT_DECODER_TOO_MANY_LAYERS), 1);
}

/* ===========================================================================
 * Checksums
 * ========================================================================= */

static void assert_no_checksum_counters(void)
{
    assert_int_equal(counter(STAT_CHECKSUM_IPV4_INVALID), 0);
    assert_int_equal(counter(STAT_CHECKSUM_TCP_INVALID), 0);
    assert_int_equal(counter(STAT_CHECKSUM_UDP_INVALID), 0);
    assert_int_equal(counter(STAT_CHECKSUM_ICMPV4_INVALID), 0);
    assert_int_equal(counter(STAT_CHECKSUM_ICMPV6_INVALID), 0);
}

static void test_checksums_valid(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_ETHERNET);
    assert_no_flag(PKT_IPV4_CSUM_BAD | PKT_L4_CSUM_BAD);

    pb_init(&pb);
    put_ipv6_udp(&pb);
    decode_built(&pb, LINK_RAW);
    assert_no_flag(PKT_IPV4_CSUM_BAD | PKT_L4_CSUM_BAD);
    assert_no_checksum_counters();
}

static void test_checksum_ipv4_invalid(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .bad_csum = true });
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_flag(PKT_IPV4_CSUM_BAD);
    assert_no_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(counter(STAT_CHECKSUM_IPV4_INVALID), 1);
    assert_int_equal(counter(STAT_CHECKSUM_UDP_INVALID), 0);
    assert_flag(PKT_HAS_PORTS); /* still decoded */
}

static void test_checksum_ipv4_covers_options(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 148, 4, 0, 0 };
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .opts = opts, .optlen = sizeof opts });
    pb_close(&pb);
    pb.b[22] = 1; /* corrupt the option value after the checksum was computed */
    decode_bytes(pb.b, pb.len, LINK_RAW);
    assert_flag(PKT_IPV4_CSUM_BAD);
    assert_int_equal(counter(STAT_CHECKSUM_IPV4_INVALID), 1);
}

static void test_checksum_tcp_invalid_ipv4(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_tcp(&pb, &(struct pb_tcp){ .sp = 1, .dp = 2, .bad_csum = true });
    decode_built(&pb, LINK_RAW);
    assert_flag(PKT_L4_CSUM_BAD);
    assert_no_flag(PKT_IPV4_CSUM_BAD);
    assert_int_equal(counter(STAT_CHECKSUM_TCP_INVALID), 1);
}

static void test_checksum_tcp_invalid_ipv6(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_tcp(&pb, &(struct pb_tcp){ .sp = 1, .dp = 2, .bad_csum = true });
    pb_put(&pb, payload5, 5);
    decode_built(&pb, LINK_RAW);
    assert_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(counter(STAT_CHECKSUM_TCP_INVALID), 1);
}

static void test_checksum_tcp_uses_pseudo_header(void **state)
{
    (void)state;
    /* Changing an address without fixing the TCP checksum must be caught. */
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_tcp(&pb, &(struct pb_tcp){ .sp = 1, .dp = 2 });
    pb_close(&pb);
    pb.b[15] ^= 0x01;                  /* source address */
    pb_set16(&pb, 10, 0);
    pb_set16(&pb, 10, pb_fold(pb_sum(pb.b, 20, 0))); /* IPv4 checksum still right */
    decode_bytes(pb.b, pb.len, LINK_RAW);
    assert_no_flag(PKT_IPV4_CSUM_BAD);
    assert_flag(PKT_L4_CSUM_BAD);
}

static void test_checksum_udp_invalid(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2, .bad_csum = true });
    pb_put(&pb, payload5, 5);
    decode_built(&pb, LINK_RAW);
    assert_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(counter(STAT_CHECKSUM_UDP_INVALID), 1);

    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2, .bad_csum = true });
    decode_built(&pb, LINK_RAW);
    assert_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(counter(STAT_CHECKSUM_UDP_INVALID), 2);
}

static void test_checksum_icmpv4_invalid(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_icmp4(&pb, &(struct pb_icmp){ .type = 0, .bad_csum = true });
    decode_built(&pb, LINK_RAW);
    assert_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(counter(STAT_CHECKSUM_ICMPV4_INVALID), 1);
}

static void test_checksum_icmpv6_invalid(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_icmp6(&pb, &(struct pb_icmp){ .type = 129, .bad_csum = true });
    decode_built(&pb, LINK_RAW);
    assert_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(counter(STAT_CHECKSUM_ICMPV6_INVALID), 1);
}

static void test_checksum_validation_off_ignores_bad_checksums(void **state)
{
    (void)state;
    dc.cfg.checksum_validation = false;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .bad_csum = true });
    pb_tcp(&pb, &(struct pb_tcp){ .sp = 1, .dp = 2, .bad_csum = true });
    decode_built(&pb, LINK_RAW);
    assert_no_flag(PKT_IPV4_CSUM_BAD | PKT_L4_CSUM_BAD);
    assert_flag(PKT_HAS_PORTS);

    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_icmp6(&pb, &(struct pb_icmp){ .type = 128, .bad_csum = true });
    decode_built(&pb, LINK_RAW);
    assert_no_flag(PKT_L4_CSUM_BAD);
    assert_no_checksum_counters();
}

static void test_checksum_not_checked_on_fragment(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .frag = 0x2000 });
    pb_tcp(&pb, &(struct pb_tcp){ .sp = 1, .dp = 2, .bad_csum = true });
    decode_built(&pb, LINK_RAW);
    assert_flag(PKT_HAS_PORTS);
    assert_no_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(counter(STAT_CHECKSUM_TCP_INVALID), 0);
}

static void test_checksum_inner_packet_of_tunnel(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    put_outer_ipv4(&pb);
    pb_gre(&pb, &(struct pb_gre){ 0 });
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_tcp(&pb, &(struct pb_tcp){ .sp = 1, .dp = 2, .bad_csum = true });
    decode_built(&pb, LINK_RAW);
    assert_flag(PKT_L4_CSUM_BAD);
    assert_int_equal(counter(STAT_CHECKSUM_TCP_INVALID), 1);

    /* and a correct inner checksum verifies against the inner addresses */
    pb_init(&pb);
    put_outer_ipv4(&pb);
    pb_gre(&pb, &(struct pb_gre){ 0 });
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_tcp(&pb, &(struct pb_tcp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_no_flag(PKT_L4_CSUM_BAD);
}

/* ===========================================================================
 * Malformation events: link layers and VLAN
 * ========================================================================= */

static void test_event_ethernet_pkt_too_small(void **state)
{
    (void)state;
    static const uint8_t b[13] = { 0 };
    decode_bytes(b, sizeof b, LINK_ETHERNET);
    assert_event(DEV_ETHERNET_PKT_TOO_SMALL);
    assert_flag(PKT_INVALID);
    assert_int_equal(counter(STAT_DECODER_INVALID), 1);
}

static void test_event_ethernet_unknown_ethertype(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0x1234);
    pb_put(&pb, NULL, 20);
    decode_built(&pb, LINK_ETHERNET);
    assert_event(DEV_ETHERNET_UNKNOWN_ETHERTYPE);
    assert_int_equal(counter(STAT_DECODER_UNKNOWN_ETHERTYPE), 1);
}

static void test_event_vlan_header_too_small(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0x8100);
    pb_put(&pb, "\x00\x05\x08", 3);
    decode_built(&pb, LINK_ETHERNET);
    assert_event(DEV_VLAN_HEADER_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

static void test_event_vlan_unknown_type(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    pb_vlan(&pb, 0, 5, 0x1234);
    pb_put(&pb, NULL, 20);
    decode_built(&pb, LINK_ETHERNET);
    assert_event(DEV_VLAN_UNKNOWN_TYPE);
    assert_false(packet_has_event(&pkt, DEV_ETHERNET_UNKNOWN_ETHERTYPE));
    assert_int_equal(pkt.vlan[0], 5);
}

static void test_event_vlan_too_many_layers(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    for (unsigned i = 0; i <= PKT_MAX_VLANS; i++)
        pb_vlan(&pb, i == 0 ? 0x88a8 : 0x8100, (uint16_t)(i + 1), 0);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_ETHERNET);
    assert_event(DEV_VLAN_TOO_MANY_LAYERS);
    assert_int_equal(pkt.vlan_cnt, PKT_MAX_VLANS);
    for (unsigned i = 0; i < PKT_MAX_VLANS; i++)
        assert_int_equal(pkt.vlan[i], i + 1);
    assert_flag(PKT_INVALID);
}

static void test_vlan_max_layers_decode(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0);
    for (unsigned i = 0; i < PKT_MAX_VLANS; i++)
        pb_vlan(&pb, i == 0 ? 0x88a8 : 0x8100, (uint16_t)(100 + i), 0);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_ETHERNET);
    assert_ipv4_tcp_decoded(14 + 4 * PKT_MAX_VLANS);
    assert_int_equal(pkt.vlan_cnt, PKT_MAX_VLANS);
    assert_int_equal(pkt.vlan[PKT_MAX_VLANS - 1], 100 + PKT_MAX_VLANS - 1);
    /* one counter per nesting depth */
    assert_int_equal(counter(STAT_DECODER_VLAN), 1);
    assert_int_equal(counter(STAT_DECODER_VLAN_QINQ), 1);
    assert_int_equal(counter(STAT_DECODER_VLAN_QINQINQ), 1);
}

static void test_event_sll_pkt_too_small(void **state)
{
    (void)state;
    static const uint8_t b[15] = { 0 };
    decode_bytes(b, sizeof b, LINK_SLL);
    assert_event(DEV_SLL_PKT_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

static void test_event_sll2_pkt_too_small(void **state)
{
    (void)state;
    static const uint8_t b[19] = { 0x08, 0x00 };
    decode_bytes(b, sizeof b, LINK_SLL2);
    assert_event(DEV_SLL2_PKT_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

static void test_event_ltnull_pkt_too_small(void **state)
{
    (void)state;
    static const uint8_t b[3] = { 2, 0, 0 };
    decode_bytes(b, sizeof b, LINK_NULL);
    assert_event(DEV_LTNULL_PKT_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

static void test_event_ltnull_unsupported_type(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_null(&pb, 7, false);
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_NULL);
    assert_event(DEV_LTNULL_UNSUPPORTED_TYPE);
    assert_flag(PKT_INVALID);
    assert_no_flag(PKT_HAS_TUPLE);
}

static void test_event_ipraw_invalid_ip_version(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .version = 5 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPRAW_INVALID_IP_VERSION);
    assert_flag(PKT_INVALID);
}

static void test_event_ipraw_empty_packet(void **state)
{
    (void)state;
    decode_bytes(NULL, 0, LINK_RAW);
    assert_event(DEV_IPRAW_INVALID_IP_VERSION);
    assert_flag(PKT_INVALID);
}

/* ===========================================================================
 * Malformation events: IPv4
 * ========================================================================= */

static void test_event_ipv4_pkt_too_small(void **state)
{
    (void)state;
    static const uint8_t b[19] = { 0x45 };
    decode_bytes(b, sizeof b, LINK_IPV4);
    assert_event(DEV_IPV4_PKT_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

static void test_event_ipv4_wrong_ip_version(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0x0800);
    put_ipv6_udp(&pb);
    decode_built(&pb, LINK_ETHERNET);
    assert_event(DEV_IPV4_WRONG_IP_VERSION);
    assert_flag(PKT_INVALID);
}

static void test_event_ipv4_hlen_too_small(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .ihl = 4 });
    pb_put(&pb, NULL, 8);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV4_HLEN_TOO_SMALL);
    assert_flag(PKT_INVALID);
    assert_no_flag(PKT_HAS_TUPLE);
}

static void test_event_ipv4_iplen_smaller_than_hlen(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .tot_len = 19 });
    pb_put(&pb, NULL, 8);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV4_IPLEN_SMALLER_THAN_HLEN);
    assert_flag(PKT_INVALID);
}

static void test_event_ipv4_trunc_pkt_total_length(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .tot_len = 100 });
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV4_TRUNC_PKT);
    assert_flag(PKT_INVALID);
    assert_no_flag(PKT_HAS_PORTS);
}

static void test_event_ipv4_trunc_pkt_header_length(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .ihl = 15, .tot_len = 60 });
    pb_put(&pb, NULL, 12);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV4_TRUNC_PKT);
    assert_flag(PKT_INVALID);
}

/* IPv4 + UDP with the given options; decoded as raw IP. */
static void decode_ipv4_opts(const uint8_t *opts, size_t len)
{
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .opts = opts, .optlen = len });
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    /* Option problems do not stop the decoding. */
    assert_flag(PKT_HAS_PORTS);
}

static void test_event_ipv4_opt_invalid_len_too_short(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 7, 1, 0, 0 };
    decode_ipv4_opts(opts, sizeof opts);
    assert_event(DEV_IPV4_OPT_INVALID_LEN);
}

static void test_event_ipv4_opt_invalid_len_past_header(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 1, 1, 68, 12, 5, 0, 0, 0 };
    decode_ipv4_opts(opts, sizeof opts);
    assert_event(DEV_IPV4_OPT_INVALID_LEN);
}

static void test_event_ipv4_opt_invalid_len_missing_length(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 1, 1, 1, 148 };
    decode_ipv4_opts(opts, sizeof opts);
    assert_event(DEV_IPV4_OPT_INVALID_LEN);
}

static void test_event_ipv4_opt_invalid_len_router_alert(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 148, 3, 0, 0 };
    decode_ipv4_opts(opts, sizeof opts);
    assert_event(DEV_IPV4_OPT_INVALID_LEN);
}

static void test_event_ipv4_opt_invalid_len_stream_id(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 136, 6, 0, 1, 0, 0, 0, 0 };
    decode_ipv4_opts(opts, sizeof opts);
    assert_event(DEV_IPV4_OPT_INVALID_LEN);
}

static void test_event_ipv4_opt_malformed_route_pointer(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 131, 7, 2, 10, 0, 0, 1, 0 }; /* LSRR, pointer 2 */
    decode_ipv4_opts(opts, sizeof opts);
    assert_event(DEV_IPV4_OPT_MALFORMED);
}

static void test_event_ipv4_opt_malformed_route_length(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 7, 6, 4, 0, 0, 0, 0, 0 }; /* RR with a 3-byte slot */
    decode_ipv4_opts(opts, sizeof opts);
    assert_event(DEV_IPV4_OPT_MALFORMED);
}

static void test_event_ipv4_opt_malformed_timestamp(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 68, 8, 4, 0, 0, 0, 0, 0 }; /* pointer < 5 */
    decode_ipv4_opts(opts, sizeof opts);
    assert_event(DEV_IPV4_OPT_MALFORMED);
}

static void test_event_ipv4_opt_duplicate(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 148, 4, 0, 0, 148, 4, 0, 0 };
    decode_ipv4_opts(opts, sizeof opts);
    assert_event(DEV_IPV4_OPT_DUPLICATE);
}

static void test_event_ipv4_opt_unknown(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 0x9f, 2, 1, 0 };
    decode_ipv4_opts(opts, sizeof opts);
    assert_event(DEV_IPV4_OPT_UNKNOWN);
}

static void test_event_ipv4_icmpv6(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_icmp6(&pb, &(struct pb_icmp){ .type = 128 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV4_ICMPV6);
    assert_int_equal(counter(STAT_DECODER_ICMPV6), 0);
}

/* ===========================================================================
 * Malformation events: IPv6
 * ========================================================================= */

static void test_event_ipv6_pkt_too_small(void **state)
{
    (void)state;
    static uint8_t b[39] = { 0x60 };
    decode_bytes(b, sizeof b, LINK_IPV6);
    assert_event(DEV_IPV6_PKT_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

static void test_event_ipv6_wrong_ip_version(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_eth(&pb, 0x86dd);
    pb_ipv6(&pb, &(struct pb_ipv6){ .version = 4 });
    decode_built(&pb, LINK_ETHERNET);
    assert_event(DEV_IPV6_WRONG_IP_VERSION);
    assert_flag(PKT_INVALID);
}

static void test_event_ipv6_trunc_pkt(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .plen = 100 });
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_TRUNC_PKT);
    assert_flag(PKT_INVALID);
    assert_no_flag(PKT_HAS_PORTS);
}

static void test_event_ipv6_trunc_exthdr(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .next = PB_NUM(0) });
    pb_put(&pb, "\x3b\x01\x01\x04\x00\x00\x00\x00", 8); /* says 16 bytes, has 8 */
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_TRUNC_EXTHDR);
    assert_flag(PKT_INVALID);
}

static void test_event_ipv6_trunc_exthdr_fragment(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .next = 44 });
    pb_put(&pb, "\x11\x00\x00\x01", 4);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_TRUNC_EXTHDR);
}

static void test_event_ipv6_trunc_exthdr_ah(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .next = 51 });
    pb_put(&pb, "\x11\x04\x00\x00\x00\x00\x00\x01", 8); /* says 24 bytes */
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_TRUNC_EXTHDR);
}

static const uint8_t ra_opt[] = { 0x05, 2, 0, 0 };

static void test_event_ipv6_exthdr_dupl_hh(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_ext(&pb, 0, 0, ra_opt, sizeof ra_opt);
    pb_ip6_ext(&pb, 0, 0, ra_opt, sizeof ra_opt);
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_EXTHDR_DUPL_HH);
    assert_flag(PKT_HAS_PORTS);
}

static void test_event_ipv6_hop_by_hop_not_first(void **state)
{
    (void)state;
    static const uint8_t tel[] = { 0x04, 1, 4 };
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_ext(&pb, 60, 0, tel, sizeof tel);
    pb_ip6_ext(&pb, 0, 0, ra_opt, sizeof ra_opt);
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_EXTHDR_DUPL_HH);
}

static void test_event_ipv6_exthdr_dupl_dh(void **state)
{
    (void)state;
    static const uint8_t tel[] = { 0x04, 1, 4 };
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_ext(&pb, 60, 0, tel, sizeof tel);
    pb_ip6_ext(&pb, 60, 0, tel, sizeof tel);
    pb_ip6_ext(&pb, 60, 0, tel, sizeof tel);
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_EXTHDR_DUPL_DH);
}

static void test_ipv6_two_destination_headers_are_allowed(void **state)
{
    (void)state;
    static const uint8_t tel[] = { 0x04, 1, 4 };
    uint8_t rh[22] = { 2, 1 };
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_ext(&pb, 60, 0, tel, sizeof tel);
    pb_ip6_ext(&pb, 43, 0, rh, sizeof rh);
    pb_ip6_ext(&pb, 60, 0, tel, sizeof tel);
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_no_events();
}

static void test_event_ipv6_exthdr_dupl_rh(void **state)
{
    (void)state;
    uint8_t rh[22] = { 2, 1 };
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_ext(&pb, 43, 0, rh, sizeof rh);
    pb_ip6_ext(&pb, 43, 0, rh, sizeof rh);
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_EXTHDR_DUPL_RH);
}

static void test_event_ipv6_exthdr_dupl_fh(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_frag(&pb, 0, 0, true, 1);
    pb_ip6_frag(&pb, 0, 0, true, 1);
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_EXTHDR_DUPL_FH);
}

static void test_event_ipv6_exthdr_useless_fh(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_frag(&pb, 0, 0, false, 1);
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_EXTHDR_USELESS_FH);
    assert_no_flag(PKT_FRAGMENT);
    assert_flag(PKT_HAS_PORTS);
}

static void test_event_ipv6_fh_non_zero_reserved_field(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    size_t fh = pb_ip6_frag(&pb, 0, 0, true, 1);
    pb.b[fh + 1] = 0x80;
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_FH_NON_ZERO_RESERVED_FIELD);
}

static void test_event_ipv6_fh_reserved_offset_bits(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    size_t fh = pb_ip6_frag(&pb, 0, 0, true, 1);
    pb.b[fh + 3] |= 0x04;
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_FH_NON_ZERO_RESERVED_FIELD);
}

static void test_event_ipv6_exthdr_dupl_ah(void **state)
{
    (void)state;
    static const uint8_t ah[] = { 0, 0, 0, 0, 1, 0, 0, 0, 1, 0 };
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_ext(&pb, 51, 0, ah, sizeof ah);
    pb_ip6_ext(&pb, 51, 0, ah, sizeof ah);
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_EXTHDR_DUPL_AH);
}

static void test_event_ipv6_exthdr_ah_res_not_null(void **state)
{
    (void)state;
    static const uint8_t ah[] = { 0xab, 0xcd, 0, 0, 1, 0, 0, 0, 1, 0 };
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_ext(&pb, 51, 0, ah, sizeof ah);
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_EXTHDR_AH_RES_NOT_NULL);
}

/* An IPv6 packet with one options header (0 or 60) carrying body. */
static void decode_ipv6_opthdr(uint8_t type, const uint8_t *body, size_t len)
{
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_ext(&pb, type, 0, body, len);
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_flag(PKT_HAS_PORTS);
}

static void test_event_ipv6_exthdr_invalid_optlen(void **state)
{
    (void)state;
    static const uint8_t body[] = { 0x05, 8, 0, 0, 0, 0 };
    decode_ipv6_opthdr(0, body, sizeof body);
    /* the option walk stops; the header's own length still holds */
    assert_event(DEV_IPV6_EXTHDR_INVALID_OPTLEN);
}

static void test_event_ipv6_hopopts_unknown_opt(void **state)
{
    (void)state;
    static const uint8_t body[] = { 0x3f, 2, 0, 0 };
    decode_ipv6_opthdr(0, body, sizeof body);
    assert_event(DEV_IPV6_HOPOPTS_UNKNOWN_OPT);
}

static void test_event_ipv6_hopopts_only_padding(void **state)
{
    (void)state;
    static const uint8_t body[] = { 1, 4, 0, 0, 0, 0 };
    decode_ipv6_opthdr(0, body, sizeof body);
    assert_event(DEV_IPV6_HOPOPTS_ONLY_PADDING);
}

static void test_event_ipv6_dstopts_unknown_opt(void **state)
{
    (void)state;
    static const uint8_t body[] = { 0x3f, 2, 0, 0 };
    decode_ipv6_opthdr(60, body, sizeof body);
    assert_event(DEV_IPV6_DSTOPTS_UNKNOWN_OPT);
    assert_false(packet_has_event(&pkt, DEV_IPV6_HOPOPTS_UNKNOWN_OPT));
}

static void test_event_ipv6_dstopts_only_padding(void **state)
{
    (void)state;
    static const uint8_t body[] = { 0, 0, 0, 0, 0, 0 };
    decode_ipv6_opthdr(60, body, sizeof body);
    assert_event(DEV_IPV6_DSTOPTS_ONLY_PADDING);
}

static void test_event_ipv6_zero_len_padn(void **state)
{
    (void)state;
    static const uint8_t body[] = { 0x05, 2, 0, 0, 1, 0 };
    decode_ipv6_opthdr(0, body, sizeof body);
    assert_event(DEV_IPV6_ZERO_LEN_PADN);
}

static void test_event_ipv6_rh_type_0(void **state)
{
    (void)state;
    uint8_t rh[38] = { 0, 2 };
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_ip6_ext(&pb, 43, 0, rh, sizeof rh);
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_RH_TYPE_0);
    assert_flag(PKT_HAS_PORTS);
}

static void test_event_ipv6_data_after_none_header(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .next = 59 });
    pb_put(&pb, payload5, 5);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_DATA_AFTER_NONE_HEADER);
}

static void test_event_ipv6_icmpv4(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_icmp4(&pb, &(struct pb_icmp){ .type = 8 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_ICMPV4);
    assert_int_equal(counter(STAT_DECODER_ICMPV4), 0);
}

static void test_event_ipv6_ipv4_in_ipv6_too_small(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .next = 4 });
    pb_put(&pb, "\x45\x00\x00\x14\x00\x00\x00\x00\x40\x11", 10);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_IPV4_IN_IPV6_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

static void test_event_ipv6_ipv4_in_ipv6_wrong_version(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .next = 4 });
    pb_ipv4(&pb, &(struct pb_ipv4){ .version = 6 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_IPV4_IN_IPV6_WRONG_VERSION);
    assert_no_flag(PKT_TUNNELED);
}

static void test_event_ipv6_ipv6_in_ipv6_too_small(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .next = 41 });
    pb_put(&pb, "\x60", 1);
    pb_put(&pb, NULL, 30);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_IPV6_IN_IPV6_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

static void test_event_ipv6_ipv6_in_ipv6_wrong_version(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .next = 41 });
    pb_ipv6(&pb, &(struct pb_ipv6){ .version = 4 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_IPV6_IPV6_IN_IPV6_WRONG_VERSION);
    assert_no_flag(PKT_TUNNELED);
}

/* ===========================================================================
 * Malformation events: TCP and UDP
 * ========================================================================= */

static void test_event_tcp_pkt_too_small(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .proto = 6 });
    pb_put(&pb, NULL, 19);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_TCP_PKT_TOO_SMALL);
    assert_flag(PKT_INVALID);
    assert_no_flag(PKT_HAS_PORTS);
}

static void test_event_tcp_hlen_too_small(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_tcp(&pb, &(struct pb_tcp){ .sp = 1, .dp = 2, .doff = 4 });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_TCP_HLEN_TOO_SMALL);
    assert_flag(PKT_INVALID);
    assert_no_flag(PKT_HAS_PORTS);
}

static void test_event_tcp_hlen_beyond_segment(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_tcp(&pb, &(struct pb_tcp){ .sp = 1, .dp = 2, .doff = 15 });
    pb_put(&pb, NULL, 20);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_TCP_HLEN_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

static void decode_tcp_opts(const uint8_t *opts, size_t len)
{
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_tcp(&pb, &(struct pb_tcp){ .sp = 1, .dp = 2, .flags = TCP_SYN, .opts = opts,
                                  .optlen = len });
    decode_built(&pb, LINK_RAW);
    assert_flag(PKT_HAS_PORTS);
    assert_no_flag(PKT_INVALID);
}

static void test_event_tcp_opt_invalid_len_mss(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 2, 3, 5, 0 };
    decode_tcp_opts(opts, sizeof opts);
    assert_event(DEV_TCP_OPT_INVALID_LEN);
    assert_int_equal(pkt.tcp.mss, 0);
}

static void test_event_tcp_opt_invalid_len_past_header(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 1, 1, 8, 10, 0, 0, 0, 1 };
    decode_tcp_opts(opts, sizeof opts);
    assert_event(DEV_TCP_OPT_INVALID_LEN);
    assert_false(pkt.tcp.has_ts);
}

static void test_event_tcp_opt_invalid_len_below_two(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 2, 4, 5, 0xb4, 30, 1, 0, 0 };
    decode_tcp_opts(opts, sizeof opts);
    assert_event(DEV_TCP_OPT_INVALID_LEN);
    assert_int_equal(pkt.tcp.mss, 1460); /* what came before is kept */
}

static void test_event_tcp_opt_invalid_len_missing_length(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 1, 1, 1, 3 };
    decode_tcp_opts(opts, sizeof opts);
    assert_event(DEV_TCP_OPT_INVALID_LEN);
}

static void test_event_tcp_opt_invalid_len_fixed_sizes(void **state)
{
    (void)state;
    static const uint8_t ws[] = { 3, 4, 7, 0 };
    static const uint8_t sackok[] = { 4, 3, 0, 0 };
    static const uint8_t ts[] = { 8, 8, 0, 0, 0, 1, 0, 0 };
    static const uint8_t sack[] = { 5, 6, 0, 0, 0, 1, 0, 0 };
    const uint8_t *cases[] = { ws, sackok, ts, sack };
    for (size_t i = 0; i < 4; i++) {
        memset(&st, 0, sizeof st);
        decode_tcp_opts(cases[i], 4 + (i >= 2 ? 4 : 0));
        assert_event(DEV_TCP_OPT_INVALID_LEN);
    }
    assert_int_equal(pkt.tcp.sack_blocks, 0);
}

static void test_event_tcp_opt_duplicate(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 2, 4, 5, 0xb4, 2, 4, 0, 0x10 };
    decode_tcp_opts(opts, sizeof opts);
    assert_event(DEV_TCP_OPT_DUPLICATE);
    assert_int_equal(pkt.tcp.mss, 1460); /* the first one wins */
}

static void test_event_udp_hlen_too_small(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .proto = 17 });
    pb_put(&pb, NULL, 7);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_UDP_HLEN_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

/* A UDP length below the header size cannot be right. */
static void test_event_udp_len_invalid(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2, .len = 7 });
    pb_put(&pb, payload5, 5);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_UDP_LEN_INVALID);
    assert_flag(PKT_INVALID);
    assert_no_flag(PKT_HAS_PORTS);
}

static void test_event_udp_pkt_too_small(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ 0 });
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2, .len = 100 });
    pb_put(&pb, payload5, 5);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_UDP_PKT_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

/* Bytes after the datagram inside the IP payload. */
static void test_event_udp_hlen_invalid(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_udp(&pb, &(struct pb_udp){ .sp = 1, .dp = 2, .len = 10 });
    pb_put(&pb, payload5, 5);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_UDP_HLEN_INVALID);
    assert_flag(PKT_HAS_PORTS);
    /* the payload is what the UDP length says, and the checksum covers that */
    assert_int_equal(pkt.payload_len, 2);
    assert_int_equal(pkt.l4_len, 10);
    assert_no_flag(PKT_L4_CSUM_BAD);
}

/* ===========================================================================
 * Malformation events: ICMP
 * ========================================================================= */

static void decode_icmp4(uint8_t type, uint8_t code, const uint8_t *body, size_t len)
{
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ 0 });
    pb_icmp4(&pb, &(struct pb_icmp){ .type = type, .code = code });
    pb_put(&pb, body, len);
    decode_built(&pb, LINK_RAW);
    assert_int_equal(pkt.icmp.type, type);
    assert_no_flag(PKT_L4_CSUM_BAD);
}

static void test_event_icmpv4_pkt_too_small(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .proto = 1 });
    pb_put(&pb, "\x08\x00\x00\x00\x00\x00\x00", 7);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_ICMPV4_PKT_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

static void test_event_icmpv4_unknown_type(void **state)
{
    (void)state;
    decode_icmp4(99, 0, NULL, 0);
    assert_event(DEV_ICMPV4_UNKNOWN_TYPE);
}

static void test_event_icmpv4_unknown_code(void **state)
{
    (void)state;
    decode_icmp4(8, 1, NULL, 0);
    assert_event(DEV_ICMPV4_UNKNOWN_CODE);
}

static void test_event_icmpv4_unknown_code_router_advert(void **state)
{
    (void)state;
    decode_icmp4(9, 16, NULL, 0);
    assert_no_events();
    decode_icmp4(9, 5, NULL, 0);
    assert_event(DEV_ICMPV4_UNKNOWN_CODE);
}

static void test_event_icmpv4_ipv4_trunc_pkt(void **state)
{
    (void)state;
    decode_icmp4(11, 0, (const uint8_t *)"\x45\x00\x00\x54", 4);
    assert_event(DEV_ICMPV4_IPV4_TRUNC_PKT);
}

static void test_event_icmpv4_ipv4_unknown_ver(void **state)
{
    (void)state;
    uint8_t inner[28] = { 0x65 };
    decode_icmp4(3, 1, inner, sizeof inner);
    assert_event(DEV_ICMPV4_IPV4_UNKNOWN_VER);
}

static void decode_icmp6(uint8_t type, uint8_t code, uint8_t hlim, const uint8_t *body, size_t len)
{
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .hlim = hlim });
    pb_icmp6(&pb, &(struct pb_icmp){ .type = type, .code = code });
    pb_put(&pb, body, len);
    decode_built(&pb, LINK_RAW);
    assert_int_equal(pkt.icmp.type, type);
    assert_no_flag(PKT_L4_CSUM_BAD);
}

static void test_event_icmpv6_pkt_too_small(void **state)
{
    (void)state;
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv6(&pb, &(struct pb_ipv6){ .next = 58 });
    pb_put(&pb, "\x80\x00\x00\x00", 4);
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_ICMPV6_PKT_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

static void test_event_icmpv6_unknown_type(void **state)
{
    (void)state;
    decode_icmp6(150, 0, 64, NULL, 0);
    assert_event(DEV_ICMPV6_UNKNOWN_TYPE);
}

static void test_event_icmpv6_unassigned_type(void **state)
{
    (void)state;
    decode_icmp6(42, 0, 64, NULL, 0);
    assert_event(DEV_ICMPV6_UNASSIGNED_TYPE);
}

static void test_event_icmpv6_experimentation_type(void **state)
{
    (void)state;
    decode_icmp6(200, 0, 64, NULL, 0);
    assert_event(DEV_ICMPV6_EXPERIMENTATION_TYPE);
}

static void test_event_icmpv6_unknown_code(void **state)
{
    (void)state;
    uint8_t inner[40] = { 0x60 };
    decode_icmp6(1, 9, 64, inner, sizeof inner);
    assert_event(DEV_ICMPV6_UNKNOWN_CODE);
}

static void test_event_icmpv6_mld_message_with_invalid_hl(void **state)
{
    (void)state;
    uint8_t group[16] = { 0xff, 0x02 };
    decode_icmp6(131, 0, 64, group, sizeof group);
    assert_event(DEV_ICMPV6_MLD_MESSAGE_WITH_INVALID_HL);
}

static void test_event_icmpv6_ipv6_trunc_pkt(void **state)
{
    (void)state;
    uint8_t inner[20] = { 0x60 };
    decode_icmp6(3, 0, 64, inner, sizeof inner);
    assert_event(DEV_ICMPV6_IPV6_TRUNC_PKT);
}

static void test_event_icmpv6_ipv6_unknown_version(void **state)
{
    (void)state;
    uint8_t inner[40] = { 0x45 };
    decode_icmp6(2, 0, 64, inner, sizeof inner);
    assert_event(DEV_ICMPV6_IPV6_UNKNOWN_VERSION);
}

/* ===========================================================================
 * Malformation events: GRE
 * ========================================================================= */

/* Outer IPv4 + GRE with flags + inner IPv4/TCP. */
static void decode_gre_flags(uint16_t flags, int proto)
{
    struct pktbuf pb;
    pb_init(&pb);
    put_outer_ipv4(&pb);
    pb_gre(&pb, &(struct pb_gre){ .flags = flags, .proto = proto });
    put_ipv4_tcp(&pb);
    decode_built(&pb, LINK_RAW);
}

/* Outer IPv4 + the given GRE bytes, nothing more. */
static void decode_gre_bytes(const void *gre, size_t len)
{
    struct pktbuf pb;
    pb_init(&pb);
    pb_ipv4(&pb, &(struct pb_ipv4){ .proto = 47 });
    pb_put(&pb, gre, len);
    decode_built(&pb, LINK_RAW);
}

static void test_event_gre_pkt_too_small(void **state)
{
    (void)state;
    decode_gre_bytes("\x00\x00\x08", 3);
    assert_event(DEV_GRE_PKT_TOO_SMALL);
    assert_flag(PKT_INVALID);
}

static void test_event_gre_wrong_version(void **state)
{
    (void)state;
    decode_gre_flags(2, 0);
    assert_event(DEV_GRE_WRONG_VERSION);
    assert_flag(PKT_INVALID);
    assert_no_flag(PKT_TUNNELED);
}

static void test_event_gre_version0_recur(void **state)
{
    (void)state;
    decode_gre_flags(0x0300, 0);
    assert_event(DEV_GRE_VERSION0_RECUR);
    assert_flag(PKT_TUNNELED); /* still decapsulated */
}

static void test_event_gre_version0_flags(void **state)
{
    (void)state;
    decode_gre_flags(0x0040, 0);
    assert_event(DEV_GRE_VERSION0_FLAGS);
}

static void test_event_gre_version0_hdr_too_big(void **state)
{
    (void)state;
    decode_gre_bytes("\xb0\x00\x08\x00\x00\x00\x00\x00", 8); /* C K S: needs 16 */
    assert_event(DEV_GRE_VERSION0_HDR_TOO_BIG);
    assert_flag(PKT_INVALID);
}

static void test_event_gre_version0_malformed_sre_hdr(void **state)
{
    (void)state;
    static const uint8_t sre[] = { 0x08, 0x00, 0, 12, 10, 0, 0, 1 }; /* 12 bytes announced */
    struct pktbuf pb;
    pb_init(&pb);
    put_outer_ipv4(&pb);
    pb_gre(&pb, &(struct pb_gre){ .flags = PB_GRE_R, .proto = 0x0800, .routing = sre,
                                  .routing_len = sizeof sre });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_GRE_VERSION0_MALFORMED_SRE_HDR);
    assert_flag(PKT_INVALID);
}

static void test_event_gre_version0_sre_without_terminator(void **state)
{
    (void)state;
    static const uint8_t sre[] = { 0x08, 0x00, 0, 4, 10, 0, 0, 1 };
    struct pktbuf pb;
    pb_init(&pb);
    put_outer_ipv4(&pb);
    pb_gre(&pb, &(struct pb_gre){ .flags = PB_GRE_R, .proto = 0x0800, .routing = sre,
                                  .routing_len = sizeof sre });
    decode_built(&pb, LINK_RAW);
    assert_event(DEV_GRE_VERSION0_MALFORMED_SRE_HDR);
}

#define GRE_V1_OK (PB_GRE_K | 1)

static void test_event_gre_version1_chksum(void **state)
{
    (void)state;
    decode_gre_flags(GRE_V1_OK | PB_GRE_C, 0x880b);
    assert_event(DEV_GRE_VERSION1_CHKSUM);
}

static void test_event_gre_version1_route(void **state)
{
    (void)state;
    decode_gre_flags(GRE_V1_OK | PB_GRE_R, 0x880b);
    assert_event(DEV_GRE_VERSION1_ROUTE);
}

static void test_event_gre_version1_ssr(void **state)
{
    (void)state;
    decode_gre_flags(GRE_V1_OK | 0x0800, 0x880b);
    assert_event(DEV_GRE_VERSION1_SSR);
}

static void test_event_gre_version1_recur(void **state)
{
    (void)state;
    decode_gre_flags(GRE_V1_OK | 0x0200, 0x880b);
    assert_event(DEV_GRE_VERSION1_RECUR);
}

static void test_event_gre_version1_flags(void **state)
{
    (void)state;
    decode_gre_flags(GRE_V1_OK | 0x0008, 0x880b);
    assert_event(DEV_GRE_VERSION1_FLAGS);
}

static void test_event_gre_version1_no_key(void **state)
{
    (void)state;
    decode_gre_bytes("\x00\x01\x88\x0b\x00\x00\x00\x00", 8);
    assert_event(DEV_GRE_VERSION1_NO_KEY);
}

static void test_event_gre_version1_wrong_protocol(void **state)
{
    (void)state;
    decode_gre_flags(GRE_V1_OK, 0x0800);
    assert_event(DEV_GRE_VERSION1_WRONG_PROTOCOL);
    assert_no_flag(PKT_TUNNELED); /* version 1 is never decapsulated */
}

static void test_event_gre_version1_hdr_too_big(void **state)
{
    (void)state;
    decode_gre_bytes("\x30\x81\x88\x0b\x00\x10\x00\x01\x00\x00\x00\x01", 12); /* K S A: 16 */
    assert_event(DEV_GRE_VERSION1_HDR_TOO_BIG);
    assert_flag(PKT_INVALID);
}

/* ===========================================================================
 * Truncation and corruption never read past caplen
 * ========================================================================= */

struct sample {
    const char *name;
    int linktype;
    void (*build)(struct pktbuf *pb);
};

static void build_eth_vlan_ipv4_opts_tcp(struct pktbuf *pb)
{
    static const uint8_t ipopts[] = { 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 148, 4, 0, 0 };
    static const uint8_t tcpopts[] = { 2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
                                       1, 3, 3, 7, 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
    pb_eth(pb, 0);
    pb_vlan(pb, 0x88a8, 1, 0);
    pb_vlan(pb, 0, 2, 0);
    pb_ipv4(pb, &(struct pb_ipv4){ .opts = ipopts, .optlen = sizeof ipopts });
    pb_tcp(pb, &(struct pb_tcp){ .sp = 1, .dp = 2, .opts = tcpopts, .optlen = sizeof tcpopts });
    pb_put(pb, payload5, 5);
}

static void build_sll_ipv6_ext_udp(struct pktbuf *pb)
{
    static const uint8_t hop[] = { 0x05, 2, 0, 0 };
    static const uint8_t dst[] = { 0x04, 1, 4, 1, 1, 0 };
    static const uint8_t ah[] = { 0, 0, 0, 0, 1, 0, 0, 0, 1, 0 };
    uint8_t rh[22] = { 2, 1 };
    pb_sll(pb, 0);
    pb_ipv6(pb, &(struct pb_ipv6){ 0 });
    pb_ip6_ext(pb, 0, 0, hop, sizeof hop);
    pb_ip6_ext(pb, 60, 0, dst, sizeof dst);
    pb_ip6_ext(pb, 43, 0, rh, sizeof rh);
    pb_ip6_frag(pb, 0, 0, true, 9);
    pb_ip6_ext(pb, 51, 0, ah, sizeof ah);
    pb_udp(pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    pb_put(pb, payload5, 5);
}

static void build_sll2_ipv6_icmp6_error(struct pktbuf *pb)
{
    pb_sll2(pb, 0);
    pb_ipv6(pb, &(struct pb_ipv6){ 0 });
    pb_icmp6(pb, &(struct pb_icmp){ .type = 1, .code = 4 });
    pb_ipv6(pb, &(struct pb_ipv6){ .next = 17 });
    pb_put(pb, NULL, 8);
}

static void build_null_ipv4_icmp_error(struct pktbuf *pb)
{
    pb_null(pb, 0, false);
    pb_ipv4(pb, &(struct pb_ipv4){ 0 });
    pb_icmp4(pb, &(struct pb_icmp){ .type = 3, .code = 1 });
    pb_ipv4(pb, &(struct pb_ipv4){ .proto = 6 });
    pb_put(pb, NULL, 8);
}

static void build_loop_ipv6_icmp6_echo(struct pktbuf *pb)
{
    pb_null(pb, 0, true);
    pb_ipv6(pb, &(struct pb_ipv6){ 0 });
    pb_icmp6(pb, &(struct pb_icmp){ .type = 128, .id = 1, .seq = 2 });
    pb_put(pb, payload5, 5);
}

static void build_raw_gre_teb(struct pktbuf *pb)
{
    static const uint8_t sre[] = { 0x08, 0x00, 0, 4, 10, 0, 0, 1, 0, 0, 0, 0 };
    put_outer_ipv4(pb);
    pb_gre(pb, &(struct pb_gre){ .flags = PB_GRE_K | PB_GRE_S, .key = 1, .seq = 2 });
    pb_eth(pb, 0);
    pb_vlan(pb, 0, 3, 0);
    put_outer_ipv4(pb);
    pb_gre(pb, &(struct pb_gre){ .flags = PB_GRE_R, .routing = sre, .routing_len = sizeof sre });
    put_ipv6_udp(pb);
}

static void build_ipv4_228_gre_v1(struct pktbuf *pb)
{
    put_outer_ipv4(pb);
    pb_gre(pb, &(struct pb_gre){ .flags = PB_GRE_K | PB_GRE_S | 0x0080 | 1, .proto = 0x880b,
                                 .key = 0x00100001, .seq = 5, .ack = 4 });
    pb_put(pb, NULL, 6);
}

static void build_ipv6_229_ipip_tunnels(struct pktbuf *pb)
{
    pb_ipv6(pb, &(struct pb_ipv6){ 0 });
    put_outer_ipv4(pb);
    pb_ipv6(pb, &(struct pb_ipv6){ .src = "2001:db8::99" });
    put_ipv4_tcp(pb);
}

static const struct sample samples[] = {
    { "eth/qinq/ipv4+opts/tcp+opts", LINK_ETHERNET, build_eth_vlan_ipv4_opts_tcp },
    { "sll/ipv6+ext/udp", LINK_SLL, build_sll_ipv6_ext_udp },
    { "sll2/ipv6/icmpv6 error", LINK_SLL2, build_sll2_ipv6_icmp6_error },
    { "null/ipv4/icmp error", LINK_NULL, build_null_ipv4_icmp_error },
    { "loop/ipv6/icmpv6 echo", LINK_LOOP, build_loop_ipv6_icmp6_echo },
    { "raw/gre/teb/gre+sre/ipv6", LINK_RAW, build_raw_gre_teb },
    { "ipv4/gre v1", LINK_IPV4, build_ipv4_228_gre_v1 },
    { "ipv6/ipv4/ipv6/ipv4/tcp", LINK_IPV6, build_ipv6_229_ipip_tunnels },
};

#define NSAMPLES (sizeof samples / sizeof samples[0])

static void test_samples_decode_cleanly(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSAMPLES; i++) {
        struct pktbuf pb;
        pb_init(&pb);
        samples[i].build(&pb);
        decode_built(&pb, samples[i].linktype);
        if (pkt.nevents || (pkt.flags & (PKT_INVALID | PKT_IPV4_CSUM_BAD | PKT_L4_CSUM_BAD)))
            fail_msg("%s: flags %#x, event %s", samples[i].name, pkt.flags,
                     pkt.nevents ? decode_event_name(pkt.events[0]) : "-");
        assert_true(pkt.flags & PKT_HAS_TUPLE);
    }
}

static void test_truncation_at_every_length_is_reported_and_safe(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSAMPLES; i++) {
        struct pktbuf pb;
        pb_init(&pb);
        samples[i].build(&pb);
        pb_close(&pb);
        for (size_t n = 0; n < pb.len; n++) {
            decode_bytes(pb.b, n, samples[i].linktype);
            /* Every sample's IP lengths reach its last byte: any cut shows. */
            if (pkt.nevents == 0 && !(pkt.flags & PKT_INVALID))
                fail_msg("%s cut at %zu of %zu: no event", samples[i].name, n, pb.len);
        }
    }
}

static void test_snapped_at_every_length_is_safe(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSAMPLES; i++) {
        struct pktbuf pb;
        pb_init(&pb);
        samples[i].build(&pb);
        pb_close(&pb);
        for (size_t n = 0; n <= pb.len; n++) {
            decode_snapped(pb.b, n, pb.len, samples[i].linktype);
            assert_true(pkt.l3_off + pkt.l3_len <= n);
            assert_true(pkt.l4_off + pkt.l4_len <= n);
            assert_true(pkt.payload_off + pkt.payload_len <= n);
        }
    }
}

static void test_every_byte_corrupted_is_safe(void **state)
{
    (void)state;
    static const uint8_t values[] = { 0x00, 0xff, 0x01, 0x80, 0x7f, 0x40, 0x0f };
    for (size_t i = 0; i < NSAMPLES; i++) {
        struct pktbuf pb;
        pb_init(&pb);
        samples[i].build(&pb);
        pb_close(&pb);
        for (size_t at = 0; at < pb.len; at++) {
            uint8_t saved = pb.b[at];
            for (size_t v = 0; v < sizeof values; v++) {
                pb.b[at] = values[v];
                decode_bytes(pb.b, pb.len, samples[i].linktype);
                assert_true(pkt.nevents <= PKT_MAX_EVENTS);
                assert_true(pkt.payload_off + pkt.payload_len <= pb.len);
                assert_true(pkt.l4_off + pkt.l4_len <= pb.len);
            }
            pb.b[at] = saved;
        }
    }
}

/* ===========================================================================
 * main
 * ========================================================================= */

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* link layers */
        T(test_ethernet_ipv4_tcp),
        T(test_ethernet_ipv6_udp),
        T(test_ethernet_padding_is_not_payload),
        T(test_ethernet_arp_is_counted_not_an_event),
        T(test_ethernet_8023_length_field_is_not_decoded),
        T(test_raw_101_ipv4),
        T(test_raw_101_ipv6),
        T(test_linktype_ipv4_228),
        T(test_linktype_ipv6_229),
        T(test_sll_113_ipv4),
        T(test_sll2_276_ipv6),
        T(test_null_0_little_endian_ipv4),
        T(test_null_0_big_endian_ipv4),
        T(test_null_0_ipv6_families),
        T(test_loop_108_network_order),
        T(test_unsupported_linktype_is_invalid),
        T(test_decode_resets_state_of_reused_packet),
        T(test_event_names_round_trip),
        T(test_events_beyond_capacity_are_counted_not_stored),
        /* VLAN */
        T(test_vlan_tag_records_id),
        T(test_qinq_records_both_ids),
        T(test_qinq_legacy_9100_tpid),
        T(test_vlan_on_sll),
        /* IPv4 */
        T(test_ipv4_valid_options_raise_no_event),
        T(test_ipv4_first_fragment_decodes_transport),
        T(test_ipv4_later_fragment_has_no_ports),
        T(test_ipv4_snapped_capture_is_not_truncation),
        /* IPv6 */
        T(test_ipv6_extension_header_chain),
        T(test_ipv6_later_fragment_has_no_ports),
        T(test_ipv6_ah_is_skipped),
        T(test_ipv6_esp_stops_the_walk),
        T(test_ipv6_no_next_header_without_data),
        T(test_ipv6_two_destination_headers_are_allowed),
        /* TCP, UDP */
        T(test_tcp_syn_options),
        T(test_tcp_no_options_means_absent),
        T(test_tcp_sack_blocks),
        T(test_tcp_unknown_option_is_skipped),
        T(test_udp_ports_and_payload),
        T(test_udp_zero_checksum_over_ipv4_means_none),
        T(test_udp_zero_checksum_over_ipv6_is_invalid),
        /* ICMP */
        T(test_icmpv4_echo_id_seq),
        T(test_icmpv4_error_carrying_ipv4_header),
        T(test_icmpv6_echo_id_seq),
        T(test_icmpv6_mld_with_hop_limit_1_is_fine),
        /* GRE and tunnels */
        T(test_gre_v0_ipv4_inner_tuple_wins),
        T(test_gre_v0_checksum_key_seq),
        T(test_gre_v0_source_route_is_skipped),
        T(test_gre_transparent_ethernet_bridging),
        T(test_gre_v1_pptp),
        T(test_ipip_inner_tuple_wins),
        T(test_ipv6_in_ipv4),
        T(test_ipv4_in_ipv6),
        T(test_ipv6_in_ipv6),
        T(test_tunnel_in_fragment_is_not_decapsulated),
        T(test_nested_tunnels_within_max_layers),
        T(test_decoder_too_many_layers_gre),
        T(test_decoder_too_many_layers_ipip),
        T(test_decoder_too_many_layers_teb),
        /* checksums */
        T(test_checksums_valid),
        T(test_checksum_ipv4_invalid),
        T(test_checksum_ipv4_covers_options),
        T(test_checksum_tcp_invalid_ipv4),
        T(test_checksum_tcp_invalid_ipv6),
        T(test_checksum_tcp_uses_pseudo_header),
        T(test_checksum_udp_invalid),
        T(test_checksum_icmpv4_invalid),
        T(test_checksum_icmpv6_invalid),
        T(test_checksum_validation_off_ignores_bad_checksums),
        T(test_checksum_not_checked_on_fragment),
        T(test_checksum_inner_packet_of_tunnel),
        /* events: link, VLAN */
        T(test_event_ethernet_pkt_too_small),
        T(test_event_ethernet_unknown_ethertype),
        T(test_event_vlan_header_too_small),
        T(test_event_vlan_unknown_type),
        T(test_event_vlan_too_many_layers),
        T(test_vlan_max_layers_decode),
        T(test_event_sll_pkt_too_small),
        T(test_event_sll2_pkt_too_small),
        T(test_event_ltnull_pkt_too_small),
        T(test_event_ltnull_unsupported_type),
        T(test_event_ipraw_invalid_ip_version),
        T(test_event_ipraw_empty_packet),
        /* events: IPv4 */
        T(test_event_ipv4_pkt_too_small),
        T(test_event_ipv4_wrong_ip_version),
        T(test_event_ipv4_hlen_too_small),
        T(test_event_ipv4_iplen_smaller_than_hlen),
        T(test_event_ipv4_trunc_pkt_total_length),
        T(test_event_ipv4_trunc_pkt_header_length),
        T(test_event_ipv4_opt_invalid_len_too_short),
        T(test_event_ipv4_opt_invalid_len_past_header),
        T(test_event_ipv4_opt_invalid_len_missing_length),
        T(test_event_ipv4_opt_invalid_len_router_alert),
        T(test_event_ipv4_opt_invalid_len_stream_id),
        T(test_event_ipv4_opt_malformed_route_pointer),
        T(test_event_ipv4_opt_malformed_route_length),
        T(test_event_ipv4_opt_malformed_timestamp),
        T(test_event_ipv4_opt_duplicate),
        T(test_event_ipv4_opt_unknown),
        T(test_event_ipv4_icmpv6),
        /* events: IPv6 */
        T(test_event_ipv6_pkt_too_small),
        T(test_event_ipv6_wrong_ip_version),
        T(test_event_ipv6_trunc_pkt),
        T(test_event_ipv6_trunc_exthdr),
        T(test_event_ipv6_trunc_exthdr_fragment),
        T(test_event_ipv6_trunc_exthdr_ah),
        T(test_event_ipv6_exthdr_dupl_hh),
        T(test_event_ipv6_hop_by_hop_not_first),
        T(test_event_ipv6_exthdr_dupl_dh),
        T(test_event_ipv6_exthdr_dupl_rh),
        T(test_event_ipv6_exthdr_dupl_fh),
        T(test_event_ipv6_exthdr_useless_fh),
        T(test_event_ipv6_fh_non_zero_reserved_field),
        T(test_event_ipv6_fh_reserved_offset_bits),
        T(test_event_ipv6_exthdr_dupl_ah),
        T(test_event_ipv6_exthdr_ah_res_not_null),
        T(test_event_ipv6_exthdr_invalid_optlen),
        T(test_event_ipv6_hopopts_unknown_opt),
        T(test_event_ipv6_hopopts_only_padding),
        T(test_event_ipv6_dstopts_unknown_opt),
        T(test_event_ipv6_dstopts_only_padding),
        T(test_event_ipv6_zero_len_padn),
        T(test_event_ipv6_rh_type_0),
        T(test_event_ipv6_data_after_none_header),
        T(test_event_ipv6_icmpv4),
        T(test_event_ipv6_ipv4_in_ipv6_too_small),
        T(test_event_ipv6_ipv4_in_ipv6_wrong_version),
        T(test_event_ipv6_ipv6_in_ipv6_too_small),
        T(test_event_ipv6_ipv6_in_ipv6_wrong_version),
        /* events: TCP, UDP */
        T(test_event_tcp_pkt_too_small),
        T(test_event_tcp_hlen_too_small),
        T(test_event_tcp_hlen_beyond_segment),
        T(test_event_tcp_opt_invalid_len_mss),
        T(test_event_tcp_opt_invalid_len_past_header),
        T(test_event_tcp_opt_invalid_len_below_two),
        T(test_event_tcp_opt_invalid_len_missing_length),
        T(test_event_tcp_opt_invalid_len_fixed_sizes),
        T(test_event_tcp_opt_duplicate),
        T(test_event_udp_hlen_too_small),
        T(test_event_udp_len_invalid),
        T(test_event_udp_pkt_too_small),
        T(test_event_udp_hlen_invalid),
        /* events: ICMP */
        T(test_event_icmpv4_pkt_too_small),
        T(test_event_icmpv4_unknown_type),
        T(test_event_icmpv4_unknown_code),
        T(test_event_icmpv4_unknown_code_router_advert),
        T(test_event_icmpv4_ipv4_trunc_pkt),
        T(test_event_icmpv4_ipv4_unknown_ver),
        T(test_event_icmpv6_pkt_too_small),
        T(test_event_icmpv6_unknown_type),
        T(test_event_icmpv6_unassigned_type),
        T(test_event_icmpv6_experimentation_type),
        T(test_event_icmpv6_unknown_code),
        T(test_event_icmpv6_mld_message_with_invalid_hl),
        T(test_event_icmpv6_ipv6_trunc_pkt),
        T(test_event_icmpv6_ipv6_unknown_version),
        /* events: GRE */
        T(test_event_gre_pkt_too_small),
        T(test_event_gre_wrong_version),
        T(test_event_gre_version0_recur),
        T(test_event_gre_version0_flags),
        T(test_event_gre_version0_hdr_too_big),
        T(test_event_gre_version0_malformed_sre_hdr),
        T(test_event_gre_version0_sre_without_terminator),
        T(test_event_gre_version1_chksum),
        T(test_event_gre_version1_route),
        T(test_event_gre_version1_ssr),
        T(test_event_gre_version1_recur),
        T(test_event_gre_version1_flags),
        T(test_event_gre_version1_no_key),
        T(test_event_gre_version1_wrong_protocol),
        T(test_event_gre_version1_hdr_too_big),
        /* truncation and corruption */
        T(test_samples_decode_cleanly),
        T(test_truncation_at_every_length_is_reported_and_safe),
        T(test_snapped_at_every_length_is_safe),
        T(test_every_byte_corrupted_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
