/* Unit tests for src/output: EVE events (envelope, flow, anomaly, stats),
 * counters (names, nesting, merge) and the buffered writer. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "decode/decode.h"
#include "flow/flow.h"
#include "output/eve.h"
#include "output/stats.h"

#define T0 1714564800 /* 2024-05-01T12:00:00Z */

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

static struct packet pkt(const char *src, uint16_t sp, const char *dst, uint16_t dp,
                         uint8_t proto, uint8_t tcp_flags, time_t sec, suseconds_t usec,
                         uint32_t len)
{
    struct packet p;
    memset(&p, 0, sizeof p);
    p.ts.tv_sec = sec;
    p.ts.tv_usec = usec;
    p.caplen = p.wirelen = len;
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
    p.tcp.flags = tcp_flags;
    return p;
}

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

/* Runs packets through a flow table and returns a copy of the flow at the end. */
struct flow_run {
    struct flow_table *t;
    struct stats stats;
    struct flow ended;
    enum flow_end_reason reason;
    int nended;
};

static void on_end(void *ctx, struct flow *f, enum flow_end_reason reason)
{
    struct flow_run *r = ctx;
    r->ended = *f;
    r->reason = reason;
    r->nended++;
}

static struct flow_run *run_new(void)
{
    struct flow_run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    struct flow_config cfg;
    flow_config_defaults(&cfg);
    cfg.hash_size = 1024;
    r->t = flow_table_new(&cfg, &r->stats, on_end, r);
    assert_non_null(r->t);
    return r;
}

static void run_packet(struct flow_run *r, const struct packet *p)
{
    int dir;
    assert_non_null(flow_handle_packet(r->t, p, &dir));
}

/* Ends the run's single flow via flush at now; returns it. */
static const struct flow *run_end(struct flow_run *r, time_t now)
{
    flow_table_flush(r->t, &(struct timeval){ now, 0 });
    assert_int_equal(r->nended, 1);
    return &r->ended;
}

static void run_free(struct flow_run *r)
{
    flow_table_free(r->t);
    free(r);
}

static const char *str_at(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    return json_string_value(v);
}

static json_int_t int_at(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", key);
    return json_integer_value(v);
}

static void use_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

/* ---------------------------------------------------------------------------
 * Envelope
 * ------------------------------------------------------------------------- */

static void test_envelope_timestamp_format_and_key_order(void **state)
{
    (void)state;
    struct timeval ts = { T0, 123456 };
    json_t *ev = eve_envelope(&ts, "flow");
    char *s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, "{\"timestamp\":\"2024-05-01T12:00:00.123456+0000\","
                           "\"event_type\":\"flow\"}");
    free(s);
    json_decref(ev);

    struct timeval small = { T0 + 61, 5 };
    ev = eve_envelope(&small, "stats");
    assert_string_equal(str_at(ev, "timestamp"), "2024-05-01T12:01:01.000005+0000");
    json_decref(ev);
}

static void test_envelope_timestamp_uses_local_offset(void **state)
{
    (void)state;
    /* A second no other test formats: the formatter may cache per second. */
    struct timeval ts = { T0 + 86400 + 7, 0 };
    use_tz("EST5EDT,M3.2.0,M11.1.0");
    json_t *ev = eve_envelope(&ts, "flow");
    use_tz("UTC");
    assert_string_equal(str_at(ev, "timestamp"), "2024-05-02T08:00:07.000000-0400");
    json_decref(ev);
}

static void test_proto_names(void **state)
{
    (void)state;
    char buf[8];
    assert_string_equal(eve_proto_name(6, buf, sizeof buf), "TCP");
    assert_string_equal(eve_proto_name(17, buf, sizeof buf), "UDP");
    assert_string_equal(eve_proto_name(1, buf, sizeof buf), "ICMP");
    assert_string_equal(eve_proto_name(58, buf, sizeof buf), "IPv6-ICMP");
    assert_string_equal(eve_proto_name(47, buf, sizeof buf), "GRE");
    assert_string_equal(eve_proto_name(132, buf, sizeof buf), "SCTP");
    assert_string_equal(eve_proto_name(253, buf, sizeof buf), "253");
}

/* ---------------------------------------------------------------------------
 * Flow events
 * ------------------------------------------------------------------------- */

static void test_flow_event_tcp_fields_from_client_view(void **state)
{
    (void)state;
    struct flow_run *r = run_new();
    /* The client has the higher address, so it is not key endpoint 0. */
    struct packet syn = pkt("10.0.0.9", 40000, "10.0.0.1", 80, 6, TCP_SYN, T0, 123456, 60);
    run_packet(r, &syn);
    struct packet sa = reply(&syn, TCP_SYN | TCP_ACK, T0, 200000, 60);
    run_packet(r, &sa);
    struct packet ack = reply(&sa, TCP_ACK, T0, 300000, 52);
    run_packet(r, &ack);
    struct packet data = reply(&sa, TCP_ACK | TCP_PSH, T0 + 1, 0, 552);
    run_packet(r, &data);
    struct packet resp = reply(&data, TCP_ACK | TCP_PSH, T0 + 2, 0, 1552);
    run_packet(r, &resp);
    struct packet fin = reply(&resp, TCP_FIN | TCP_ACK, T0 + 5, 500000, 52);
    run_packet(r, &fin);
    struct packet fin2 = reply(&fin, TCP_FIN | TCP_ACK, T0 + 5, 600000, 52);
    run_packet(r, &fin2);
    const struct flow *f = run_end(r, T0 + 6);

    json_t *ev = eve_flow_event(f, FLOW_END_SHUTDOWN);
    assert_string_equal(str_at(ev, "event_type"), "flow");
    assert_string_equal(str_at(ev, "timestamp"), "2024-05-01T12:00:00.123456+0000");
    assert_int_equal(int_at(ev, "flow_id"), (json_int_t)f->flow_id);
    assert_string_equal(str_at(ev, "src_ip"), "10.0.0.9");
    assert_int_equal(int_at(ev, "src_port"), 40000);
    assert_string_equal(str_at(ev, "dest_ip"), "10.0.0.1");
    assert_int_equal(int_at(ev, "dest_port"), 80);
    assert_string_equal(str_at(ev, "proto"), "TCP");
    assert_null(json_object_get(ev, "vlan"));

    json_t *fl = json_object_get(ev, "flow");
    assert_int_equal(int_at(fl, "pkts_toserver"), 4);   /* SYN, ACK, data, FIN */
    assert_int_equal(int_at(fl, "pkts_toclient"), 3);   /* SYN/ACK, response, FIN */
    assert_int_equal(int_at(fl, "bytes_toserver"), 60 + 52 + 552 + 52);
    assert_int_equal(int_at(fl, "bytes_toclient"), 60 + 1552 + 52);
    assert_string_equal(str_at(fl, "start"), "2024-05-01T12:00:00.123456+0000");
    assert_string_equal(str_at(fl, "end"), "2024-05-01T12:00:05.600000+0000");
    assert_int_equal(int_at(fl, "age"), 5);
    assert_string_equal(str_at(fl, "state"), "closed");
    assert_string_equal(str_at(fl, "reason"), "shutdown");
    assert_true(json_is_false(json_object_get(fl, "alerted")));

    json_t *tcp = json_object_get(ev, "tcp");
    assert_non_null(tcp);
    assert_string_equal(str_at(tcp, "tcp_flags"), "1b"); /* FIN SYN PSH ACK */
    assert_string_equal(str_at(tcp, "tcp_flags_ts"), "1b");
    assert_string_equal(str_at(tcp, "tcp_flags_tc"), "1b");
    assert_true(json_is_true(json_object_get(tcp, "syn")));
    assert_true(json_is_true(json_object_get(tcp, "fin")));
    assert_true(json_is_true(json_object_get(tcp, "psh")));
    assert_true(json_is_true(json_object_get(tcp, "ack")));
    assert_null(json_object_get(tcp, "rst"));
    assert_null(json_object_get(tcp, "urg"));
    assert_string_equal(str_at(tcp, "state"), "closed");
    json_decref(ev);
    run_free(r);
}

static void test_flow_event_per_direction_tcp_flags(void **state)
{
    (void)state;
    struct flow_run *r = run_new();
    struct packet syn = pkt("10.0.0.2", 40000, "10.0.0.1", 80, 6, TCP_SYN, T0, 0, 60);
    run_packet(r, &syn);
    struct packet rst = reply(&syn, TCP_RST | TCP_ACK, T0, 10, 40);
    run_packet(r, &rst);
    json_t *ev = eve_flow_event(run_end(r, T0 + 1), FLOW_END_TIMEOUT);
    json_t *tcp = json_object_get(ev, "tcp");
    assert_string_equal(str_at(tcp, "tcp_flags"), "16");
    assert_string_equal(str_at(tcp, "tcp_flags_ts"), "02");
    assert_string_equal(str_at(tcp, "tcp_flags_tc"), "14");
    assert_true(json_is_true(json_object_get(tcp, "rst")));
    assert_string_equal(str_at(tcp, "state"), "closed");
    assert_string_equal(str_at(json_object_get(ev, "flow"), "reason"), "timeout");
    json_decref(ev);
    run_free(r);
}

/* The tcp.state of a flow after the given flags (client, server, client...). */
static void check_tcp_state(const uint8_t *flags, size_t n, const char *want)
{
    struct flow_run *r = run_new();
    struct packet c = pkt("10.0.0.2", 40000, "10.0.0.1", 80, 6, 0, T0, 0, 60);
    struct packet s = reply(&c, 0, T0, 0, 60);
    for (size_t i = 0; i < n; i++) {
        struct packet p = i % 2 ? s : c;
        p.tcp.flags = flags[i];
        p.ts.tv_usec = (suseconds_t)i;
        run_packet(r, &p);
    }
    json_t *ev = eve_flow_event(run_end(r, T0 + 1), FLOW_END_SHUTDOWN);
    const char *got = str_at(json_object_get(ev, "tcp"), "state");
    if (strcmp(got, want) != 0)
        fail_msg("tcp.state is %s, want %s", got, want);
    json_decref(ev);
    run_free(r);
}

static void test_flow_event_tcp_state_names(void **state)
{
    (void)state;
    const uint8_t SA = TCP_SYN | TCP_ACK, FA = TCP_FIN | TCP_ACK;
    check_tcp_state((const uint8_t[]){ TCP_SYN }, 1, "syn_sent");
    check_tcp_state((const uint8_t[]){ TCP_SYN, SA }, 2, "syn_recv");
    check_tcp_state((const uint8_t[]){ TCP_SYN, SA, TCP_ACK }, 3, "established");
    check_tcp_state((const uint8_t[]){ TCP_SYN, SA, TCP_ACK, TCP_ACK, FA }, 5, "fin_wait1");
    check_tcp_state((const uint8_t[]){ TCP_SYN, SA, TCP_ACK, FA, FA }, 5, "closed");
    check_tcp_state((const uint8_t[]){ TCP_ACK, TCP_ACK }, 2, "none");
}

static void test_flow_event_udp_has_ports_and_no_tcp(void **state)
{
    (void)state;
    struct flow_run *r = run_new();
    struct packet q = pkt("10.0.0.2", 5353, "10.0.0.1", 53, 17, 0, T0, 0, 70);
    run_packet(r, &q);
    struct packet a = reply(&q, 0, T0, 5000, 130);
    run_packet(r, &a);
    json_t *ev = eve_flow_event(run_end(r, T0 + 100), FLOW_END_TIMEOUT);
    assert_string_equal(str_at(ev, "proto"), "UDP");
    assert_int_equal(int_at(ev, "src_port"), 5353);
    assert_int_equal(int_at(ev, "dest_port"), 53);
    assert_null(json_object_get(ev, "tcp"));
    json_t *fl = json_object_get(ev, "flow");
    assert_string_equal(str_at(fl, "state"), "established");
    assert_string_equal(str_at(fl, "reason"), "timeout");
    assert_int_equal(int_at(fl, "age"), 0);
    json_decref(ev);
    run_free(r);
}

static void test_flow_event_icmpv6_has_no_ports(void **state)
{
    (void)state;
    struct flow_run *r = run_new();
    struct packet p = pkt("2001:db8::9", 0, "2001:db8::1", 0, 58, 0, T0, 0, 64);
    run_packet(r, &p);
    json_t *ev = eve_flow_event(run_end(r, T0 + 1), FLOW_END_SHUTDOWN);
    assert_string_equal(str_at(ev, "src_ip"), "2001:db8::9");
    assert_string_equal(str_at(ev, "dest_ip"), "2001:db8::1");
    assert_string_equal(str_at(ev, "proto"), "IPv6-ICMP");
    assert_null(json_object_get(ev, "src_port"));
    assert_null(json_object_get(ev, "dest_port"));
    assert_null(json_object_get(ev, "tcp"));
    assert_string_equal(str_at(json_object_get(ev, "flow"), "state"), "new");
    json_decref(ev);
    run_free(r);
}

static void test_flow_event_lists_vlans(void **state)
{
    (void)state;
    struct flow_run *r = run_new();
    struct packet p = pkt("10.0.0.2", 5353, "10.0.0.1", 53, 17, 0, T0, 0, 70);
    p.vlan_cnt = 2;
    p.vlan[0] = 100;
    p.vlan[1] = 7;
    run_packet(r, &p);
    json_t *ev = eve_flow_event(run_end(r, T0 + 1), FLOW_END_SHUTDOWN);
    json_t *v = json_object_get(ev, "vlan");
    assert_true(json_is_array(v));
    assert_int_equal(json_array_size(v), 2);
    assert_int_equal(json_integer_value(json_array_get(v, 0)), 100);
    assert_int_equal(json_integer_value(json_array_get(v, 1)), 7);
    json_decref(ev);
    run_free(r);
}

static void test_flow_event_alerted_flag(void **state)
{
    (void)state;
    struct flow_run *r = run_new();
    struct packet p = pkt("10.0.0.2", 5353, "10.0.0.1", 53, 17, 0, T0, 0, 70);
    run_packet(r, &p);
    struct flow f = *run_end(r, T0 + 1);
    f.alerted = true;
    json_t *ev = eve_flow_event(&f, FLOW_END_FORCED);
    json_t *fl = json_object_get(ev, "flow");
    assert_true(json_is_true(json_object_get(fl, "alerted")));
    assert_string_equal(str_at(fl, "reason"), "forced");
    json_decref(ev);
    run_free(r);
}

/* ---------------------------------------------------------------------------
 * Anomaly events
 * ------------------------------------------------------------------------- */

static void test_anomaly_event_fields(void **state)
{
    (void)state;
    struct packet p = pkt("10.0.0.2", 1234, "10.0.0.1", 80, 6, 0, T0, 42, 60);
    p.pcap_cnt = 17;
    json_t *ev = eve_anomaly_event(&p, 987654321, DEV_IPV4_TRUNC_PKT);
    assert_string_equal(str_at(ev, "event_type"), "anomaly");
    assert_string_equal(str_at(ev, "timestamp"), "2024-05-01T12:00:00.000042+0000");
    assert_int_equal(int_at(ev, "flow_id"), 987654321);
    assert_string_equal(str_at(ev, "src_ip"), "10.0.0.2");
    assert_int_equal(int_at(ev, "src_port"), 1234);
    assert_string_equal(str_at(ev, "dest_ip"), "10.0.0.1");
    assert_int_equal(int_at(ev, "dest_port"), 80);
    assert_string_equal(str_at(ev, "proto"), "TCP");
    json_t *a = json_object_get(ev, "anomaly");
    assert_string_equal(str_at(a, "type"), "decode");
    assert_string_equal(str_at(a, "event"), "decoder.ipv4.trunc_pkt");
    assert_int_equal(int_at(ev, "pcap_cnt"), 17);
    json_decref(ev);
}

static void test_anomaly_event_without_ports_or_flow(void **state)
{
    (void)state;
    /* A GRE packet: addresses and protocol, no ports. */
    struct packet p = pkt("192.0.2.1", 0, "192.0.2.2", 0, 47, 0, T0, 0, 60);
    json_t *ev = eve_anomaly_event(&p, 0, DEV_IPV4_OPT_UNKNOWN);
    assert_string_equal(str_at(ev, "src_ip"), "192.0.2.1");
    assert_string_equal(str_at(ev, "proto"), "GRE");
    assert_null(json_object_get(ev, "src_port"));
    assert_null(json_object_get(ev, "dest_port"));
    assert_null(json_object_get(ev, "flow_id"));
    assert_null(json_object_get(ev, "pcap_cnt"));
    assert_string_equal(str_at(json_object_get(ev, "anomaly"), "event"),
                        "decoder.ipv4.opt_unknown");
    json_decref(ev);
}

static void test_anomaly_event_icmp_type_and_code(void **state)
{
    (void)state;
    struct packet p = pkt("10.0.0.2", 0, "10.0.0.1", 0, 1, 0, T0, 0, 60);
    p.icmp.type = 3;
    p.icmp.code = 1;
    json_t *ev = eve_anomaly_event(&p, 0, DEV_IPV4_TRUNC_PKT);
    assert_int_equal(int_at(ev, "icmp_type"), 3);
    assert_int_equal(int_at(ev, "icmp_code"), 1);
    assert_null(json_object_get(ev, "src_port"));
    json_decref(ev);
}

static void test_anomaly_event_without_tuple_has_no_addresses(void **state)
{
    (void)state;
    struct packet p;
    memset(&p, 0, sizeof p);
    p.ts.tv_sec = T0;
    json_t *ev = eve_anomaly_event(&p, 0, DEV_ETHERNET_PKT_TOO_SMALL);
    assert_null(json_object_get(ev, "src_ip"));
    assert_null(json_object_get(ev, "proto"));
    assert_string_equal(str_at(json_object_get(ev, "anomaly"), "event"),
                        "decoder.ethernet.pkt_too_small");
    json_decref(ev);
}

/* ---------------------------------------------------------------------------
 * Counters
 * ------------------------------------------------------------------------- */

static void test_stats_names_of_counters_and_events(void **state)
{
    (void)state;
    assert_string_equal(stats_name(STAT_DECODER_PKTS), "decoder.pkts");
    assert_string_equal(stats_name(STAT_FLOW_END_STATE_NEW), "flow.end.state.new");
    assert_string_equal(stats_name(STAT_EVENT_BASE + DEV_IPV4_TRUNC_PKT),
                        "decoder.event.ipv4.trunc_pkt");
    /* Every counter has a distinct dotted name; events follow their anomaly name. */
    for (int i = 0; i < STATS_COUNT; i++) {
        const char *n = stats_name(i);
        assert_non_null(n);
        assert_non_null(strchr(n, '.'));
        assert_true(n[0] != '.' && n[strlen(n) - 1] != '.');
        for (int k = 0; k < i; k++)
            if (strcmp(n, stats_name(k)) == 0)
                fail_msg("counters %d and %d are both named %s", k, i, n);
    }
    for (int ev = 0; ev < DECODE_EVENT_COUNT; ev++) {
        char want[96];
        const char *name = decode_event_name(ev);
        if (strncmp(name, "stream.", 7) == 0)
            snprintf(want, sizeof want, "%s", name);
        else
            snprintf(want, sizeof want, "decoder.event.%s", name);
        assert_string_equal(stats_name(STAT_EVENT_BASE + ev), want);
    }
}

static void test_stats_json_nests_dotted_names(void **state)
{
    (void)state;
    struct stats s;
    memset(&s, 0, sizeof s);
    stats_set(&s, STAT_EVENT_BASE + DEV_IPV4_TRUNC_PKT, 3);
    stats_set(&s, STAT_DECODER_PKTS, 10);
    stats_set(&s, STAT_DECODER_BYTES, 1005);
    stats_set(&s, STAT_FLOW_END_STATE_NEW, 4);
    stats_set(&s, STAT_FLOW_TCP, 2);
    json_t *j = stats_to_json(&s, 12.9);
    assert_int_equal(int_at(j, "uptime"), 12);
    json_t *dec = json_object_get(j, "decoder");
    assert_int_equal(int_at(dec, "pkts"), 10);
    assert_int_equal(int_at(dec, "bytes"), 1005);
    assert_int_equal(int_at(dec, "avg_pkt_size"), 100);
    json_t *ipv4 = json_object_get(json_object_get(dec, "event"), "ipv4");
    assert_int_equal(int_at(ipv4, "trunc_pkt"), 3);
    assert_int_equal(json_object_size(ipv4), 1);
    json_t *flow = json_object_get(j, "flow");
    assert_int_equal(int_at(flow, "tcp"), 2);
    assert_int_equal(int_at(json_object_get(json_object_get(flow, "end"), "state"), "new"), 4);
    /* The full path of a nested event counter. */
    json_t *want = json_loads("{\"decoder\":{\"event\":{\"ipv4\":{\"trunc_pkt\":3}}}}", 0, NULL);
    assert_true(json_equal(json_object_get(json_object_get(want, "decoder"), "event"),
                           json_object_get(dec, "event")));
    json_decref(want);
    json_decref(j);
}

static void test_stats_json_leaves_out_zero_counters(void **state)
{
    (void)state;
    struct stats s;
    memset(&s, 0, sizeof s);
    json_t *j = stats_to_json(&s, 0);
    json_t *dec = json_object_get(j, "decoder");
    /* Always present, even at zero. */
    assert_int_equal(int_at(dec, "pkts"), 0);
    assert_int_equal(int_at(dec, "bytes"), 0);
    assert_int_equal(int_at(dec, "avg_pkt_size"), 0);
    assert_int_equal(int_at(json_object_get(j, "flow"), "total"), 0);
    /* Others are left out. */
    assert_null(json_object_get(dec, "ipv4"));
    assert_null(json_object_get(dec, "event"));
    assert_null(json_object_get(j, "capture"));
    assert_null(json_object_get(json_object_get(j, "flow"), "tcp"));
    json_decref(j);
}

static void test_stats_merge_sums_and_takes_max(void **state)
{
    (void)state;
    struct stats a, b, total;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&total, 0, sizeof total);
    stats_set(&a, STAT_DECODER_PKTS, 5);
    stats_set(&b, STAT_DECODER_PKTS, 7);
    stats_set(&a, STAT_DECODER_MAX_PKT_SIZE, 1500);
    stats_set(&b, STAT_DECODER_MAX_PKT_SIZE, 9000);
    stats_set(&a, STAT_EVENT_BASE + DEV_IPV4_TRUNC_PKT, 1);
    stats_set(&b, STAT_EVENT_BASE + DEV_IPV4_TRUNC_PKT, 2);
    stats_merge(&total, &a);
    stats_merge(&total, &b);
    assert_int_equal(stats_get(&total, STAT_DECODER_PKTS), 12);
    assert_int_equal(stats_get(&total, STAT_DECODER_MAX_PKT_SIZE), 9000);
    assert_int_equal(stats_get(&total, STAT_EVENT_BASE + DEV_IPV4_TRUNC_PKT), 3);
    /* The order of merging does not matter for MAX. */
    struct stats rev;
    memset(&rev, 0, sizeof rev);
    stats_merge(&rev, &b);
    stats_merge(&rev, &a);
    assert_int_equal(stats_get(&rev, STAT_DECODER_MAX_PKT_SIZE), 9000);
}

static void test_stats_helpers_add_inc_max(void **state)
{
    (void)state;
    struct stats s;
    memset(&s, 0, sizeof s);
    stats_inc(&s, STAT_FLOW_TOTAL);
    stats_add(&s, STAT_FLOW_TOTAL, 4);
    assert_int_equal(stats_get(&s, STAT_FLOW_TOTAL), 5);
    stats_add(&s, STAT_FLOW_ACTIVE, 3);
    stats_add(&s, STAT_FLOW_ACTIVE, (uint64_t)-1); /* gauges go down by wrap-around */
    assert_int_equal(stats_get(&s, STAT_FLOW_ACTIVE), 2);
    stats_max(&s, STAT_DECODER_MAX_PKT_SIZE, 100);
    stats_max(&s, STAT_DECODER_MAX_PKT_SIZE, 50);
    assert_int_equal(stats_get(&s, STAT_DECODER_MAX_PKT_SIZE), 100);
}

static void test_stats_event_wraps_counters(void **state)
{
    (void)state;
    struct stats s;
    memset(&s, 0, sizeof s);
    stats_set(&s, STAT_DECODER_PKTS, 3);
    struct timeval ts = { T0, 0 };
    json_t *ev = eve_stats_event(&ts, &s, 8);
    assert_string_equal(str_at(ev, "event_type"), "stats");
    json_t *st = json_object_get(ev, "stats");
    assert_int_equal(int_at(st, "uptime"), 8);
    assert_int_equal(int_at(json_object_get(st, "decoder"), "pkts"), 3);
    json_decref(ev);
}

/* ---------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------- */

struct tmpfile {
    char path[64];
};

static void tmp_make(struct tmpfile *t)
{
    snprintf(t->path, sizeof t->path, "/tmp/caracal-test-eve-XXXXXX");
    int fd = mkstemp(t->path);
    assert_true(fd >= 0);
    close(fd);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* The file holds only whole lines: empty, or ending with a newline. */
static void assert_whole_lines(const char *path)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    off_t n = lseek(fd, 0, SEEK_END);
    if (n > 0) {
        char last = 0;
        assert_int_equal(pread(fd, &last, 1, n - 1), 1);
        assert_int_equal(last, '\n');
    }
    close(fd);
}

/* Calls fn on each line parsed as JSON; fails on any line that is not. */
static size_t for_each_line(char *text, size_t len, void (*fn)(json_t *, void *), void *ctx)
{
    size_t n = 0;
    char *p = text, *end = text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        assert_non_null(nl);
        *nl = '\0';
        json_error_t e;
        json_t *j = json_loads(p, 0, &e);
        if (j == NULL)
            fail_msg("line %zu is not JSON: %s", n + 1, e.text);
        fn(j, ctx);
        json_decref(j);
        n++;
        p = nl + 1;
    }
    return n;
}

static json_t *seq_event(int thread, int seq, size_t pad)
{
    struct timeval ts = { T0 + seq, 0 };
    json_t *ev = eve_envelope(&ts, seq % 3 == 0 ? "flow" : seq % 3 == 1 ? "anomaly" : "stats");
    json_object_set_new(ev, "thread", json_integer(thread));
    json_object_set_new(ev, "seq", json_integer(seq));
    char *s = malloc(pad + 1);
    assert_non_null(s);
    for (size_t i = 0; i < pad; i++)
        s[i] = (char)('a' + (seq + (int)i) % 26);
    s[pad] = '\0';
    json_object_set_new(ev, "pad", json_string(s));
    free(s);
    return ev;
}

struct order_check {
    int next[8];
    size_t pad_total;
};

static void check_order(json_t *j, void *ctx)
{
    struct order_check *oc = ctx;
    int th = (int)int_at(j, "thread"), seq = (int)int_at(j, "seq");
    assert_in_range(th, 0, 7);
    if (seq != oc->next[th])
        fail_msg("thread %d: seq %d where %d was expected", th, seq, oc->next[th]);
    oc->next[th]++;
    oc->pad_total += strlen(str_at(j, "pad"));
}

static void test_writer_buffers_until_full_or_flushed(void **state)
{
    (void)state;
    struct tmpfile tf;
    tmp_make(&tf);
    char err[256];
    struct eve_sink *sink = eve_sink_open(tf.path, err, sizeof err);
    assert_non_null(sink);
    struct eve_writer w;
    eve_writer_init(&w, sink, 4096);
    for (int i = 0; i < 3; i++) {
        json_t *ev = seq_event(0, i, 10);
        eve_write(&w, ev);
        json_decref(ev);
    }
    assert_int_equal(file_size(tf.path), 0);
    assert_int_equal(sink->events, 3);
    eve_writer_flush(&w);
    size_t len;
    char *text = slurp(tf.path, &len);
    struct order_check oc = { { 0 }, 0 };
    assert_int_equal(for_each_line(text, len, check_order, &oc), 3);
    free(text);
    eve_writer_destroy(&w);
    eve_sink_close(sink);
    unlink(tf.path);
}

static void test_writer_many_events_tiny_buffer_and_one_huge(void **state)
{
    (void)state;
    struct tmpfile tf;
    tmp_make(&tf);
    char err[256];
    struct eve_sink *sink = eve_sink_open(tf.path, err, sizeof err);
    assert_non_null(sink);
    struct eve_writer w;
    eve_writer_init(&w, sink, 4096);
    enum { N = 2000, HUGE_AT = 777, HUGE = 50000 };
    size_t pads = 0;
    for (int i = 0; i < N; i++) {
        size_t pad = i == HUGE_AT ? HUGE : (size_t)(i * 37 % 900);
        json_t *ev = seq_event(0, i, pad);
        eve_write(&w, ev);
        json_decref(ev);
        pads += pad;
        assert_whole_lines(tf.path); /* an event never straddles two writes */
    }
    assert_true(file_size(tf.path) > HUGE);
    eve_writer_destroy(&w);
    assert_int_equal(sink->events, N);
    assert_int_equal(sink->by_type[0], (N + 2) / 3); /* flow */
    assert_int_equal(sink->by_type[1], (N + 1) / 3); /* anomaly */
    assert_int_equal(sink->by_type[2], N / 3);       /* stats */
    eve_sink_close(sink);

    size_t len;
    char *text = slurp(tf.path, &len);
    struct order_check oc = { { 0 }, 0 };
    assert_int_equal(for_each_line(text, len, check_order, &oc), N);
    assert_int_equal(oc.next[0], N);
    assert_int_equal(oc.pad_total, pads);
    free(text);
    unlink(tf.path);
}

static void test_writer_huge_first_event_then_small_ones(void **state)
{
    (void)state;
    struct tmpfile tf;
    tmp_make(&tf);
    char err[256];
    struct eve_sink *sink = eve_sink_open(tf.path, err, sizeof err);
    assert_non_null(sink);
    struct eve_writer w;
    eve_writer_init(&w, sink, 1); /* rounded up to the minimum */
    assert_true(w.cap >= 4096);
    for (int i = 0; i < 50; i++) {
        json_t *ev = seq_event(0, i, i == 0 ? 100000 : 3000);
        eve_write(&w, ev);
        json_decref(ev);
        assert_whole_lines(tf.path);
    }
    eve_writer_destroy(&w);
    eve_sink_close(sink);
    size_t len;
    char *text = slurp(tf.path, &len);
    struct order_check oc = { { 0 }, 0 };
    assert_int_equal(for_each_line(text, len, check_order, &oc), 50);
    free(text);
    unlink(tf.path);
}

struct thread_arg {
    struct eve_sink *sink;
    int id;
    int n;
};

static void *writer_thread(void *p)
{
    struct thread_arg *a = p;
    struct eve_writer w;
    eve_writer_init(&w, a->sink, 4096);
    for (int i = 0; i < a->n; i++) {
        size_t pad = i % 500 == 499 ? 9000 : (size_t)((i * 53 + a->id * 11) % 700);
        json_t *ev = seq_event(a->id, i, pad);
        eve_write(&w, ev);
        json_decref(ev);
    }
    eve_writer_destroy(&w);
    return NULL;
}

static void test_writer_two_threads_lines_stay_whole(void **state)
{
    (void)state;
    struct tmpfile tf;
    tmp_make(&tf);
    char err[256];
    struct eve_sink *sink = eve_sink_open(tf.path, err, sizeof err);
    assert_non_null(sink);
    enum { PER_THREAD = 5000 };
    struct thread_arg args[2] = { { sink, 0, PER_THREAD }, { sink, 1, PER_THREAD } };
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, writer_thread, &args[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(sink->events, 2 * PER_THREAD);
    eve_sink_close(sink);

    size_t len;
    char *text = slurp(tf.path, &len);
    struct order_check oc = { { 0 }, 0 };
    assert_int_equal(for_each_line(text, len, check_order, &oc), 2 * PER_THREAD);
    assert_int_equal(oc.next[0], PER_THREAD);
    assert_int_equal(oc.next[1], PER_THREAD);
    free(text);
    unlink(tf.path);
}

static void test_sink_appends_and_reopens_after_rotation(void **state)
{
    (void)state;
    struct tmpfile tf;
    tmp_make(&tf);
    assert_int_equal(truncate(tf.path, 0), 0);
    FILE *f = fopen(tf.path, "w");
    fputs("{\"old\":1}\n", f);
    fclose(f);

    char err[256];
    struct eve_sink *sink = eve_sink_open(tf.path, err, sizeof err);
    assert_non_null(sink);
    struct eve_writer w;
    eve_writer_init(&w, sink, 4096);
    json_t *ev = seq_event(0, 0, 1);
    eve_write(&w, ev);
    eve_writer_flush(&w);
    size_t len;
    char *text = slurp(tf.path, &len);
    assert_non_null(strstr(text, "{\"old\":1}\n{\"timestamp\""));
    free(text);

    char rotated[80];
    snprintf(rotated, sizeof rotated, "%s.1", tf.path);
    assert_int_equal(rename(tf.path, rotated), 0);
    assert_int_equal(eve_sink_reopen(sink), 0);
    eve_write(&w, ev);
    eve_writer_destroy(&w);
    json_decref(ev);
    eve_sink_close(sink);
    text = slurp(tf.path, &len);
    assert_ptr_equal(strstr(text, "{\"timestamp\""), text);
    assert_ptr_equal(strchr(text, '\n'), text + len - 1); /* exactly one line */
    free(text);
    unlink(tf.path);
    unlink(rotated);
}

static void test_sink_open_failure_names_path(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(eve_sink_open("/nonexistent-dir/eve.json", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/eve.json"));
}

static int group_setup(void **state)
{
    (void)state;
    use_tz("UTC");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_timestamp_format_and_key_order),
        cmocka_unit_test(test_envelope_timestamp_uses_local_offset),
        cmocka_unit_test(test_proto_names),
        cmocka_unit_test(test_flow_event_tcp_fields_from_client_view),
        cmocka_unit_test(test_flow_event_per_direction_tcp_flags),
        cmocka_unit_test(test_flow_event_tcp_state_names),
        cmocka_unit_test(test_flow_event_udp_has_ports_and_no_tcp),
        cmocka_unit_test(test_flow_event_icmpv6_has_no_ports),
        cmocka_unit_test(test_flow_event_lists_vlans),
        cmocka_unit_test(test_flow_event_alerted_flag),
        cmocka_unit_test(test_anomaly_event_fields),
        cmocka_unit_test(test_anomaly_event_without_ports_or_flow),
        cmocka_unit_test(test_anomaly_event_icmp_type_and_code),
        cmocka_unit_test(test_anomaly_event_without_tuple_has_no_addresses),
        cmocka_unit_test(test_stats_names_of_counters_and_events),
        cmocka_unit_test(test_stats_json_nests_dotted_names),
        cmocka_unit_test(test_stats_json_leaves_out_zero_counters),
        cmocka_unit_test(test_stats_merge_sums_and_takes_max),
        cmocka_unit_test(test_stats_helpers_add_inc_max),
        cmocka_unit_test(test_stats_event_wraps_counters),
        cmocka_unit_test(test_writer_buffers_until_full_or_flushed),
        cmocka_unit_test(test_writer_many_events_tiny_buffer_and_one_huge),
        cmocka_unit_test(test_writer_huge_first_event_then_small_ones),
        cmocka_unit_test(test_writer_two_threads_lines_stay_whole),
        cmocka_unit_test(test_sink_appends_and_reopens_after_rotation),
        cmocka_unit_test(test_sink_open_failure_names_path),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
