/* Unit tests for the meta, header, flow and app keywords, the per-flow
 * state, classification/reference/threshold files and the runtime store
 * (thresholds, rate filters, xbits) over packet time. */
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

#include "detect/kw_runtime.h"
#include "output/stats.h"
#include "pktbuild.h"



#define T0 1714564800

struct fx {
    struct detect_build b;
    struct parse_state ps;
    struct sig *s;
    struct detect_runtime *rt;
    struct detect_thread dt;
    struct stats stats;
    struct decode_ctx dc;
    char err[512];
    char tmp[64];
};

static struct fx *F;

static void free_sig(struct sig *s)
{
    if (s == NULL)
        return;
    free(s->msg);
    free(s->classtype);
    free(s->class_desc);
    free(s->target);
    json_decref(s->metadata);
    json_decref(s->references);
    sm_free_list(s->pkt);
    sm_free_list(s->post);
    free(s->threshold);
    free(s->detection_filter);
    free(s);
}

static struct sig *new_sig(uint32_t sid)
{
    struct sig *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->gid = 1;
    s->id = sid;
    return s;
}

static int setup(void **state)
{
    F = calloc(1, sizeof *F);
    if (F == NULL)
        return -1;
    F->ps.b = &F->b;
    F->s = new_sig(1);
    F->rt = detect_runtime_new();
    F->dt.rt = F->rt;
    F->dc.cfg.checksum_validation = false;
    F->dc.cfg.max_layers = 8;
    F->dc.stats = &F->stats;
    snprintf(F->tmp, sizeof F->tmp, "/tmp/caracal-kw-XXXXXX");
    *state = F;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free_sig(F->s);
    detect_runtime_free(F->rt);
    for (unsigned i = 0; i < F->b.nclasses; i++) {
        free(F->b.classes[i].name);
        free(F->b.classes[i].desc);
    }
    free(F->b.classes);
    json_decref(F->b.reference_types);
    threshold_config_free(F->b.tcfg);
    name_registry_free(&F->b.flowbits);
    name_registry_free(&F->b.xbits);
    name_registry_free(&F->b.flowints);
    free(F);
    return 0;
}

static const struct keyword *find_kw(const char *name)
{
    const struct keyword *tables[] = { kw_meta_table, kw_header_table, kw_flow_table,
                                       kw_app_table };
    for (unsigned t = 0; t < 4; t++)
        for (const struct keyword *k = tables[t]; k->name; k++)
            if (strcmp(k->name, name) == 0)
                return k;
    fail_msg("no keyword %s", name);
    return NULL;
}

/* Runs keyword name with value on sig s; 0 or -1 with F->err. */
static int kw_on(struct sig *s, const char *name, const char *value)
{
    F->err[0] = '\0';
    return find_kw(name)->setup(s, &F->ps, value, F->err, sizeof F->err);
}

static int kw(const char *name, const char *value)
{
    return kw_on(F->s, name, value);
}

static void expect_error(const char *name, const char *value, const char *msg)
{
    struct sig *s = new_sig(9);
    assert_int_equal(kw_on(s, name, value), -1);
    assert_string_equal(F->err, msg);
    free_sig(s);
}

static void expect_ok(const char *name, const char *value)
{
    struct sig *s = new_sig(9);
    if (kw_on(s, name, value) != 0)
        fail_msg("%s:%s rejected: %s", name, value, F->err);
    free_sig(s);
}

/* Writes text to a fresh temporary file; returns its path (in F->tmp). */
static const char *write_tmp(const char *text)
{
    snprintf(F->tmp, sizeof F->tmp, "/tmp/caracal-kw-XXXXXX");
    int fd = mkstemp(F->tmp);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs(text, fp);
    fclose(fp);
    return F->tmp;
}

static void load_classes(void)
{
    const char *path = write_tmp("# comment\n\n"
                                 "config classification: trojan-activity,A Network Trojan was detected, 1\n"
                                 "config classification: misc-activity,Misc activity,3\n"
                                 "config classification:  bad-unknown , Potentially Bad Traffic ,2\n");
    assert_int_equal(classification_load(&F->b, path, F->err, sizeof F->err), 0);
    unlink(path);
}

/* ---- Packets ---------------------------------------------------------------- */

struct pkt {
    struct pktbuf pb;
    struct packet p;
};

static void finish(struct pkt *k, long sec)
{
    pb_close(&k->pb);
    pkt_finish(&k->p, k->pb.b, k->pb.len, LINK_ETHERNET);
    k->p.ts.tv_sec = T0 + sec;
    k->p.ts.tv_usec = 0;
    decode_packet(&F->dc, &k->p);
}

static void tcp_pkt(struct pkt *k, const char *src, const char *dst, const struct pb_tcp *t,
                    const char *payload, long sec)
{
    pb_init(&k->pb);
    pb_eth(&k->pb, 0);
    pb_ipv4(&k->pb, &(struct pb_ipv4){ .src = src, .dst = dst });
    pb_tcp(&k->pb, t);
    if (payload)
        pb_put(&k->pb, payload, strlen(payload));
    finish(k, sec);
}

static void ip_pkt(struct pkt *k, const struct pb_ipv4 *ip, const char *payload)
{
    pb_init(&k->pb);
    pb_eth(&k->pb, 0);
    pb_ipv4(&k->pb, ip);
    pb_udp(&k->pb, &(struct pb_udp){ .sp = 1000, .dp = 53 });
    if (payload)
        pb_put(&k->pb, payload, strlen(payload));
    finish(k, 0);
}

static void icmp_pkt(struct pkt *k, const struct pb_icmp *ic)
{
    pb_init(&k->pb);
    pb_eth(&k->pb, 0);
    pb_ipv4(&k->pb, &(struct pb_ipv4){ .ttl = 128 });
    pb_icmp4(&k->pb, ic);
    pb_put(&k->pb, "ping", 4);
    finish(k, 0);
}

/* Parses one keyword onto a fresh signature and matches it against p. */
static bool kw_matches(const char *name, const char *value, const struct packet *p,
                       struct flow *f)
{
    struct sig *s = new_sig(9);
    if (kw_on(s, name, value) != 0)
        fail_msg("%s:%s rejected: %s", name, value, F->err);
    bool r = match_packet_keywords(&F->dt, s, p, f, FLOW_TOSERVER);
    free_sig(s);
    return r;
}

/* ======================================================================
 * Meta keywords
 * ==================================================================== */

static void test_msg_keeps_text_and_strips_leftover_quotes(void **st)
{
    (void)st;
    assert_int_equal(kw("msg", "ET TROJAN thing"), 0);
    assert_string_equal(F->s->msg, "ET TROJAN thing");
    assert_int_equal(kw("msg", "\"quoted \\\"inner\\\" \\; x\""), 0);
    assert_string_equal(F->s->msg, "quoted \"inner\" ; x");
}

static void test_sid_rev_gid_parse_numbers_and_reject_garbage(void **st)
{
    (void)st;
    assert_int_equal(kw("sid", "2024001"), 0);
    assert_int_equal(kw("rev", " 7 "), 0);
    assert_int_equal(kw("gid", "3"), 0);
    assert_int_equal(F->s->id, 2024001);
    assert_int_equal(F->s->rev, 7);
    assert_int_equal(F->s->gid, 3);
    expect_error("sid", "abc", "invalid sid 'abc'");
    expect_error("sid", "0", "invalid sid '0'");
    expect_error("sid", "4294967296", "invalid sid '4294967296'");
    expect_error("rev", "-1", "invalid rev '-1'");
    expect_error("gid", "1x", "invalid gid '1x'");
}

static void test_classtype_sets_class_and_priority(void **st)
{
    (void)st;
    load_classes();
    assert_int_equal(kw("classtype", "trojan-activity"), 0);
    assert_string_equal(F->s->classtype, "trojan-activity");
    assert_string_equal(F->s->class_desc, "A Network Trojan was detected");
    assert_int_equal(F->s->priority, 1);
    expect_error("classtype", "no-such-class", "unknown classtype 'no-such-class'");
}

static void test_priority_wins_over_classtype_in_any_order(void **st)
{
    (void)st;
    load_classes();
    assert_int_equal(kw("priority", "4"), 0);
    assert_int_equal(kw("classtype", "trojan-activity"), 0);
    assert_int_equal(F->s->priority, 4);
    struct sig *s = new_sig(2);
    assert_int_equal(kw_on(s, "classtype", "bad-unknown"), 0);
    assert_int_equal(s->priority, 2);
    assert_int_equal(kw_on(s, "priority", "5"), 0);
    assert_int_equal(s->priority, 5);
    free_sig(s);
    expect_error("priority", "0", "invalid priority '0'");
    expect_error("priority", "256", "invalid priority '256'");
}

static void test_reference_is_stored_as_type_comma_value(void **st)
{
    (void)st;
    assert_int_equal(kw("reference", "url , www.example.com/a,b"), 0);
    assert_int_equal(kw("reference", "cve,2021-44228"), 0);
    assert_int_equal(json_array_size(F->s->references), 2);
    assert_string_equal(json_string_value(json_array_get(F->s->references, 0)),
                        "url,www.example.com/a,b");
    assert_string_equal(json_string_value(json_array_get(F->s->references, 1)),
                        "cve,2021-44228");
    expect_error("reference", "url", "invalid reference 'url'");
    expect_error("reference", ",x", "invalid reference ',x'");
    expect_error("reference", "url,", "invalid reference 'url,'");
}

static void test_metadata_merges_into_object_of_arrays(void **st)
{
    (void)st;
    assert_int_equal(kw("metadata", "created_at 2010_07_30, malware_family Sliver, "
                                    "malware_family Havoc"),
                     0);
    assert_int_equal(kw("metadata", "created_at 2011_01_01,updated_at 2019_07_26"), 0);
    char *dump = json_dumps(F->s->metadata, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(dump, "{\"created_at\":[\"2010_07_30\",\"2011_01_01\"],"
                              "\"malware_family\":[\"Sliver\",\"Havoc\"],"
                              "\"updated_at\":[\"2019_07_26\"]}");
    free(dump);
    expect_error("metadata", "  ", "invalid metadata '  '");
}

static void test_target_noalert_and_tag(void **st)
{
    (void)st;
    assert_int_equal(kw("target", "dest_ip"), 0);
    assert_string_equal(F->s->target, "dest_ip");
    expect_error("target", "both", "invalid target 'both'");
    assert_int_equal(kw("noalert", NULL), 0);
    assert_true(F->s->flags & SIG_NOALERT);
    /* tag: scope, count and metric, direction; defaults 256 packets, host dst */
    assert_int_equal(kw("tag", "session,5,packets"), 0);
    assert_int_equal(kw("tag", "host, 300, seconds"), 0);
    assert_int_equal(kw("tag", "host,10,bytes,src"), 0);
    assert_int_equal(kw("tag", "host"), 0);
    assert_int_equal(F->s->ntags, 4);
    assert_int_equal(F->s->tags[0].scope, TAG_SESSION);
    assert_int_equal(F->s->tags[0].metric, TAG_PACKETS);
    assert_int_equal(F->s->tags[0].count, 5);
    assert_int_equal(F->s->tags[1].scope, TAG_HOST);
    assert_int_equal(F->s->tags[1].metric, TAG_SECONDS);
    assert_int_equal(F->s->tags[1].count, 300);
    assert_true(F->s->tags[1].dst);
    assert_int_equal(F->s->tags[2].metric, TAG_BYTES);
    assert_false(F->s->tags[2].dst);
    assert_int_equal(F->s->tags[3].count, TAG_DEFAULT_PACKETS);
    assert_int_equal(F->s->tags[3].metric, TAG_PACKETS);
    assert_true(F->s->tags[3].dst);
    assert_int_equal(kw("tag", "session"), -1);
    assert_string_equal(F->err, "more than 4 tag options");
    expect_ok("tag", "session");
    expect_error("tag", "flow,5,packets",
                 "invalid tag 'flow,5,packets' (expected session|host[,N,packets|seconds|bytes[,src|dst]])");
    expect_error("tag", "session,x,packets",
                 "invalid tag 'session,x,packets' (expected session|host[,N,packets|seconds|bytes[,src|dst]])");
    expect_error("tag", "session,5,hours",
                 "invalid tag 'session,5,hours' (expected session|host[,N,packets|seconds|bytes[,src|dst]])");
    expect_error("tag", "session,5",
                 "invalid tag 'session,5' (expected session|host[,N,packets|seconds|bytes[,src|dst]])");
    expect_error("tag", "session,0,packets",
                 "invalid tag 'session,0,packets' (expected session|host[,N,packets|seconds|bytes[,src|dst]])");
    expect_error("tag", "host,5,packets,both",
                 "invalid tag 'host,5,packets,both' (expected session|host[,N,packets|seconds|bytes[,src|dst]])");
    expect_error("tag", "session,5,packets,src", "tag: a direction is only valid for host tags");
}

static void test_threshold_parses_all_orders(void **st)
{
    (void)st;
    assert_int_equal(kw("threshold", "type both, count 1, seconds 600, track by_src"), 0);
    assert_int_equal(F->s->threshold->type, THR_BOTH);
    assert_int_equal(F->s->threshold->track, TRACK_BY_SRC);
    assert_int_equal(F->s->threshold->count, 1);
    assert_int_equal(F->s->threshold->seconds, 600);
    expect_ok("threshold", "type limit,track by_dst,count 2,seconds 300");
    expect_ok("threshold", "type threshold, track by_rule, count 5, seconds 360");
    expect_ok("threshold", "type limit, track by_both, count 5, seconds 360");
    expect_ok("threshold", "type limit, track by_flow, count 5, seconds 360");
    expect_error("threshold", "type limit, track by_src, count 1",
                 "invalid threshold 'type limit, track by_src, count 1'");
    expect_error("threshold", "type sometimes, track by_src, count 1, seconds 6",
                 "invalid threshold 'type sometimes, track by_src, count 1, seconds 6'");
    expect_error("threshold", "type limit, track by_src, count 0, seconds 6",
                 "invalid threshold 'type limit, track by_src, count 0, seconds 6'");
    expect_error("threshold", "type limit, type both, track by_src, count 1, seconds 6",
                 "invalid threshold 'type limit, type both, track by_src, count 1, seconds 6'");
    assert_int_equal(kw("threshold", "type limit, track by_src, count 1, seconds 6"), -1);
    assert_string_equal(F->err, "threshold given twice");
}

static void test_detection_filter_parses_without_type(void **st)
{
    (void)st;
    assert_int_equal(kw("detection_filter", "track by_src,count 15,seconds 2"), 0);
    assert_int_equal(F->s->detection_filter->type, THR_DETECTION_FILTER);
    assert_int_equal(F->s->detection_filter->count, 15);
    assert_int_equal(F->s->detection_filter->seconds, 2);
    expect_error("detection_filter", "type limit, track by_src, count 1, seconds 2",
                 "invalid detection_filter 'type limit, track by_src, count 1, seconds 2'");
    expect_error("detection_filter", "track by_ip, count 1, seconds 2",
                 "invalid detection_filter 'track by_ip, count 1, seconds 2'");
}

/* ======================================================================
 * Header keywords
 * ==================================================================== */

static void test_numeric_comparisons_parse_every_form(void **st)
{
    (void)st;
    struct kw_cmp c;
    char err[128];
    const struct {
        const char *text;
        uint8_t op;
        uint64_t a, b;
    } ok[] = {
        { "10", CMP_EQ, 10, 0 },   { "<10", CMP_LT, 10, 0 },   { "> 10", CMP_GT, 10, 0 },
        { "<=7", CMP_LE, 7, 0 },   { ">=7", CMP_GE, 7, 0 },    { "!5", CMP_NE, 5, 0 },
        { "9<>18", CMP_RANGE, 9, 18 }, { "9 <> 18", CMP_RANGE, 9, 18 },
        { "9-18", CMP_RANGE, 9, 18 }, { "=3", CMP_EQ, 3, 0 }, { "0x10", CMP_EQ, 16, 0 },
    };
    for (unsigned i = 0; i < sizeof ok / sizeof *ok; i++) {
        if (kw_parse_cmp("dsize", ok[i].text, 65535, NULL, &c, err, sizeof err) != 0)
            fail_msg("%s: %s", ok[i].text, err);
        assert_int_equal(c.op, ok[i].op);
        assert_int_equal(c.a, ok[i].a);
        assert_int_equal(c.b, ok[i].b);
    }
    const char *bad[] = { "", "abc", ">", "18<>9", "5<>5", "65536", "<>3", "1 2", "-3" };
    for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(kw_parse_cmp("dsize", bad[i], 65535, NULL, &c, err, sizeof err), -1);
    expect_error("dsize", "abc", "invalid dsize value 'abc'");
    expect_error("ttl", "256", "invalid ttl value '256'");
    expect_error("itype", "<", "invalid itype value '<'");
    expect_error("window", "!x", "invalid window value '!x'");
    expect_error("seq", "4294967296", "invalid seq value '4294967296'");
}

static void test_range_is_exclusive(void **st)
{
    (void)st;
    struct kw_cmp c = { .op = CMP_RANGE, .a = 9, .b = 18 };
    assert_false(kw_cmp_match(&c, 9));
    assert_true(kw_cmp_match(&c, 10));
    assert_true(kw_cmp_match(&c, 17));
    assert_false(kw_cmp_match(&c, 18));
}

static void test_dsize_matches_payload_length(void **st)
{
    (void)st;
    struct pkt k;
    tcp_pkt(&k, NULL, NULL, &(struct pb_tcp){ .sp = 1, .dp = 80, .flags = TCP_ACK }, "0123456789",
            0);
    assert_int_equal(k.p.payload_len, 10);
    assert_true(kw_matches("dsize", "10", &k.p, NULL));
    assert_false(kw_matches("dsize", "11", &k.p, NULL));
    assert_true(kw_matches("dsize", "<11", &k.p, NULL));
    assert_true(kw_matches("dsize", ">9", &k.p, NULL));
    assert_true(kw_matches("dsize", "9<>18", &k.p, NULL));
    assert_true(kw_matches("dsize", "!0", &k.p, NULL));
    assert_false(kw_matches("dsize", ">=11", &k.p, NULL));
}

static void test_flags_modifiers_and_mask(void **st)
{
    (void)st;
    struct pkt k;
    tcp_pkt(&k, NULL, NULL, &(struct pb_tcp){ .sp = 1, .dp = 80, .flags = TCP_SYN | TCP_ECE | TCP_CWR },
            NULL, 0);
    assert_false(kw_matches("flags", "S", &k.p, NULL));    /* exact: ECE/CWR too */
    assert_true(kw_matches("flags", "S,12", &k.p, NULL));  /* ... unless ignored */
    assert_true(kw_matches("flags", "S,CE", &k.p, NULL));
    assert_true(kw_matches("flags", "SCE", &k.p, NULL));
    assert_true(kw_matches("flags", "S12", &k.p, NULL));
    assert_true(kw_matches("flags", "S+", &k.p, NULL));
    assert_true(kw_matches("flags", "+S", &k.p, NULL));
    assert_false(kw_matches("flags", "SA+", &k.p, NULL));
    assert_true(kw_matches("flags", "*SA", &k.p, NULL));
    assert_false(kw_matches("flags", "*AF", &k.p, NULL));
    assert_true(kw_matches("flags", "!A", &k.p, NULL));
    assert_false(kw_matches("flags", "!S", &k.p, NULL));
    assert_false(kw_matches("flags", "0", &k.p, NULL));

    tcp_pkt(&k, NULL, NULL, &(struct pb_tcp){ .sp = 1, .dp = 80, .flags = 0 }, NULL, 0);
    assert_true(kw_matches("flags", "0", &k.p, NULL));
    tcp_pkt(&k, NULL, NULL, &(struct pb_tcp){ .sp = 1, .dp = 80, .flags = TCP_FIN | TCP_PSH | TCP_URG },
            NULL, 0);
    assert_true(kw_matches("flags", "FPU,12", &k.p, NULL));
    assert_true(kw_matches("flags", "fpu", &k.p, NULL));

    struct pkt u;
    ip_pkt(&u, &(struct pb_ipv4){ 0 }, NULL);
    assert_false(kw_matches("flags", "0", &u.p, NULL)); /* not TCP */

    expect_error("flags", "X", "invalid flags value 'X'");
    expect_error("flags", "SS", "invalid flags value 'SS'");
    expect_error("flags", "S+*", "invalid flags value 'S+*'");
    expect_error("flags", "S,X", "invalid flags value 'S,X'");
    expect_error("flags", "S,", "invalid flags value 'S,'");
    expect_error("flags", "0S", "invalid flags value '0S'");
    expect_error("flags", "+", "invalid flags value '+'");
}

static void test_ttl_ip_proto_and_sameip(void **st)
{
    (void)st;
    struct pkt k;
    ip_pkt(&k, &(struct pb_ipv4){ .src = "10.0.0.1", .dst = "10.0.0.1", .ttl = 1 }, "x");
    assert_true(kw_matches("ttl", "1", &k.p, NULL));
    assert_true(kw_matches("ttl", "<2", &k.p, NULL));
    assert_false(kw_matches("ttl", ">220", &k.p, NULL));
    assert_true(kw_matches("ip_proto", "17", &k.p, NULL));
    assert_true(kw_matches("ip_proto", "udp", &k.p, NULL));
    assert_true(kw_matches("ip_proto", "!6", &k.p, NULL));
    assert_false(kw_matches("ip_proto", "!UDP", &k.p, NULL));
    assert_true(kw_matches("ip_proto", "<18", &k.p, NULL));
    assert_false(kw_matches("ip_proto", ">134", &k.p, NULL));
    assert_true(kw_matches("sameip", NULL, &k.p, NULL));
    ip_pkt(&k, &(struct pb_ipv4){ .src = "10.0.0.1", .dst = "10.0.0.2" }, "x");
    assert_false(kw_matches("sameip", NULL, &k.p, NULL));
    expect_error("ip_proto", "bogus", "invalid ip_proto value 'bogus'");
    expect_error("ip_proto", "300", "invalid ip_proto value '300'");

    /* IPv6: the hop limit is the ttl */
    pb_init(&k.pb);
    pb_eth(&k.pb, 0);
    pb_ipv6(&k.pb, &(struct pb_ipv6){ .hlim = 255 });
    pb_udp(&k.pb, &(struct pb_udp){ .sp = 1, .dp = 2 });
    finish(&k, 0);
    assert_true(kw_matches("ttl", "255", &k.p, NULL));
    assert_true(kw_matches("ip_proto", "17", &k.p, NULL));
}

static void test_icmp_keywords(void **st)
{
    (void)st;
    struct pkt k;
    icmp_pkt(&k, &(struct pb_icmp){ .type = 8, .code = 0, .id = 666, .seq = 3 });
    assert_true(kw_matches("itype", "8", &k.p, NULL));
    assert_true(kw_matches("itype", ">7", &k.p, NULL));
    assert_true(kw_matches("icode", "0", &k.p, NULL));
    assert_true(kw_matches("icmp_id", "666", &k.p, NULL));
    assert_true(kw_matches("icmp_seq", "3", &k.p, NULL));
    assert_false(kw_matches("icmp_seq", "0", &k.p, NULL));
    /* destination unreachable: no id/seq to compare */
    icmp_pkt(&k, &(struct pb_icmp){ .type = 3, .code = 1 });
    assert_true(kw_matches("icode", "1", &k.p, NULL));
    assert_false(kw_matches("icmp_id", "0", &k.p, NULL));
    /* not ICMP */
    struct pkt t;
    tcp_pkt(&t, NULL, NULL, &(struct pb_tcp){ .sp = 1, .dp = 2 }, NULL, 0);
    assert_false(kw_matches("itype", "0", &t.p, NULL));
    assert_false(kw_matches("icode", "0", &t.p, NULL));
}

static void test_ipopts_reads_options_from_the_header(void **st)
{
    (void)st;
    struct pkt k;
    const uint8_t rr[] = { 1, 7, 7, 4, 0, 0, 0, 0 }; /* NOP, RR len 7 */
    ip_pkt(&k, &(struct pb_ipv4){ .opts = rr, .optlen = sizeof rr }, NULL);
    assert_true(kw_matches("ipopts", "rr", &k.p, NULL));
    assert_true(kw_matches("ipopts", "nop", &k.p, NULL));
    assert_true(kw_matches("ipopts", "any", &k.p, NULL));
    assert_false(kw_matches("ipopts", "ssrr", &k.p, NULL));
    assert_false(kw_matches("ipopts", "ts", &k.p, NULL));

    /* an option whose length runs past the header stops the walk */
    const uint8_t bad[] = { 130, 40, 137, 3 };
    ip_pkt(&k, &(struct pb_ipv4){ .opts = bad, .optlen = sizeof bad }, NULL);
    assert_true(kw_matches("ipopts", "sec", &k.p, NULL));
    assert_false(kw_matches("ipopts", "ssrr", &k.p, NULL));

    ip_pkt(&k, &(struct pb_ipv4){ 0 }, NULL);
    assert_false(kw_matches("ipopts", "any", &k.p, NULL));
    assert_false(kw_matches("ipopts", "eol", &k.p, NULL));
    expect_error("ipopts", "foo", "invalid ipopts value 'foo'");
}

static void test_fragbits_modifiers(void **st)
{
    (void)st;
    struct pkt k;
    ip_pkt(&k, &(struct pb_ipv4){ .frag = 0x4000 }, "x"); /* DF */
    assert_true(kw_matches("fragbits", "D", &k.p, NULL));
    assert_false(kw_matches("fragbits", "M", &k.p, NULL));
    assert_true(kw_matches("fragbits", "!M", &k.p, NULL));
    assert_false(kw_matches("fragbits", "!D", &k.p, NULL));
    assert_true(kw_matches("fragbits", "*MD", &k.p, NULL));
    assert_false(kw_matches("fragbits", "MD+", &k.p, NULL));
    ip_pkt(&k, &(struct pb_ipv4){ .frag = 0x6000 }, "x"); /* DF and MF */
    assert_true(kw_matches("fragbits", "M+", &k.p, NULL));
    assert_false(kw_matches("fragbits", "M", &k.p, NULL));
    assert_true(kw_matches("fragbits", "MD", &k.p, NULL));
    expect_error("fragbits", "X", "invalid fragbits value 'X'");
    expect_error("fragbits", "M,D", "invalid fragbits value 'M,D'");
}

static void test_window_seq_ack(void **st)
{
    (void)st;
    struct pkt k;
    tcp_pkt(&k, NULL, NULL,
            &(struct pb_tcp){ .sp = 1, .dp = 2, .win = 2048, .seq = 0, .ack = 77,
                              .flags = TCP_ACK },
            NULL, 0);
    assert_true(kw_matches("window", "2048", &k.p, NULL));
    assert_true(kw_matches("window", "!0", &k.p, NULL));
    assert_false(kw_matches("window", "!2048", &k.p, NULL));
    assert_true(kw_matches("seq", "0", &k.p, NULL));
    assert_true(kw_matches("ack", "77", &k.p, NULL));
    assert_false(kw_matches("ack", "0", &k.p, NULL));
}

/* ======================================================================
 * Flow keywords
 * ==================================================================== */

static void test_flow_options_and_conflicts(void **st)
{
    (void)st;
    assert_int_equal(kw("flow", "established, to_server"), 0);
    assert_int_equal(F->s->flags, SIG_FLOW_ESTABLISHED | SIG_FLOW_TOSERVER);
    struct sig *s = new_sig(2);
    assert_int_equal(kw_on(s, "flow", "from_server,not_established,no_stream,only_frag"), 0);
    assert_int_equal(s->flags, SIG_FLOW_TOCLIENT | SIG_FLOW_NOT_ESTABLISHED |
                                   SIG_FLOW_NO_STREAM | SIG_FLOW_ONLY_FRAG);
    free_sig(s);
    expect_ok("flow", "stateless");
    expect_ok("flow", "from_client,only_stream");
    expect_ok("flow", "to_client,no_frag");
    expect_error("flow", "to_server,to_client", "contradictory flow options 'to_server,to_client'");
    expect_error("flow", "from_client,from_server",
                 "contradictory flow options 'from_client,from_server'");
    expect_error("flow", "established,not_established",
                 "contradictory flow options 'established,not_established'");
    expect_error("flow", "established,stateless",
                 "contradictory flow options 'established,stateless'");
    expect_error("flow", "only_stream,no_stream",
                 "contradictory flow options 'only_stream,no_stream'");
    expect_error("flow", "only_frag,no_frag", "contradictory flow options 'only_frag,no_frag'");
    expect_error("flow", "to_server,sideways", "invalid flow option 'sideways'");
    expect_error("flow", "to_server,to_server", "flow option 'to_server' given twice");
    expect_error("flow", "to_server,", "invalid flow option ''");
    assert_int_equal(kw("flow", "to_server"), -1);
    assert_string_equal(F->err, "flow given twice");
}

static void test_flowbits_parse_lists(void **st)
{
    (void)st;
    assert_int_equal(kw("flowbits", "set, ET.http.javaclient"), 0);
    assert_non_null(F->s->post);
    assert_null(F->s->pkt);
    assert_true(F->s->flags & SIG_HAS_POST_MATCH);
    assert_int_equal(kw("flowbits", "isset,ET.http.javaclient"), 0);
    assert_non_null(F->s->pkt);
    assert_int_equal(F->b.flowbits.n, 1);
    assert_int_equal(kw("flowbits", "noalert"), 0);
    assert_true(F->s->flags & SIG_NOALERT);
    expect_ok("flowbits", "isset,a|b|c");
    expect_ok("flowbits", "isnotset,a&b");
    expect_ok("flowbits", "set,a&b");
    expect_ok("flowbits", "toggle,a");
    expect_ok("flowbits", "unset,a");
    expect_error("flowbits", "set,a|b", "invalid flowbits 'set,a|b'");
    expect_error("flowbits", "isset,a|b&c", "invalid flowbits 'isset,a|b&c'");
    expect_error("flowbits", "isset,a||b", "invalid flowbits 'isset,a||b'");
    expect_error("flowbits", "flip,a", "invalid flowbits 'flip,a'");
    expect_error("flowbits", "set", "invalid flowbits 'set'");
    expect_error("flowbits", "set,two words", "invalid flowbits 'set,two words'");
    expect_error("flowbits", "noalert,x", "invalid flowbits 'noalert,x'");
}

/* A rule made of options "name:value" pairs; NULL-terminated. */
static struct sig *rule(uint32_t sid, const char *const *opts)
{
    struct sig *s = new_sig(sid);
    for (unsigned i = 0; opts[i]; i += 2)
        if (kw_on(s, opts[i], opts[i + 1]) != 0)
            fail_msg("%s:%s: %s", opts[i], opts[i + 1], F->err);
    return s;
}

/* Evaluates s on p in flow f and, when it matches, runs its post list. */
static bool eval(struct sig *s, const struct packet *p, struct flow *f)
{
    if (!match_packet_keywords(&F->dt, s, p, f, FLOW_TOSERVER))
        return false;
    run_post_match(&F->dt, s, p, f);
    return true;
}

static void test_flowbits_carry_state_across_packets(void **st)
{
    (void)st;
    struct flow f = { 0 };
    struct pkt k;
    tcp_pkt(&k, NULL, NULL, &(struct pb_tcp){ .sp = 1, .dp = 80 }, "x", 0);
    struct sig *setter = rule(1, (const char *[]){ "flowbits", "set,login", "flowbits", "noalert", NULL });
    struct sig *checker = rule(2, (const char *[]){ "flowbits", "isset,login", NULL });
    struct sig *absent = rule(3, (const char *[]){ "flowbits", "isnotset,login", NULL });
    struct sig *unsetter = rule(4, (const char *[]){ "flowbits", "unset,login", NULL });
    struct sig *toggler = rule(5, (const char *[]){ "flowbits", "toggle,login", NULL });
    assert_true(setter->flags & SIG_NOALERT);

    assert_false(eval(checker, &k.p, &f));
    assert_true(eval(absent, &k.p, &f));
    assert_null(f.dstate); /* checks allocate nothing */
    assert_true(eval(setter, &k.p, &f));
    assert_true(eval(checker, &k.p, &f));
    assert_false(eval(absent, &k.p, &f));
    assert_true(eval(unsetter, &k.p, &f));
    assert_false(eval(checker, &k.p, &f));
    assert_true(eval(toggler, &k.p, &f));
    assert_true(eval(checker, &k.p, &f));
    assert_true(eval(toggler, &k.p, &f));
    assert_false(eval(checker, &k.p, &f));

    /* no flow: flowbits never match */
    assert_false(eval(absent, &k.p, NULL));
    run_post_match(&F->dt, setter, &k.p, NULL);

    detect_flow_free(&f);
    assert_null(f.dstate);
    detect_flow_free(&f);
    free_sig(setter);
    free_sig(checker);
    free_sig(absent);
    free_sig(unsetter);
    free_sig(toggler);
}

static void test_flowbits_or_and_lists(void **st)
{
    (void)st;
    struct flow f = { 0 };
    struct pkt k;
    tcp_pkt(&k, NULL, NULL, &(struct pb_tcp){ .sp = 1, .dp = 80 }, "x", 0);
    /* many names so that ids cross a 64-bit word */
    char name[16];
    for (int i = 0; i < 70; i++) {
        snprintf(name, sizeof name, "fill%d", i);
        name_registry_id(&F->b.flowbits, name);
    }
    struct sig *set_ab = rule(1, (const char *[]){ "flowbits", "set,a&b", NULL });
    struct sig *any = rule(2, (const char *[]){ "flowbits", "isset,a|c", NULL });
    struct sig *all = rule(3, (const char *[]){ "flowbits", "isset,a&c", NULL });
    struct sig *none = rule(4, (const char *[]){ "flowbits", "isnotset,c&d", NULL });
    struct sig *one_missing = rule(5, (const char *[]){ "flowbits", "isnotset,a|c", NULL });
    struct sig *set_c = rule(6, (const char *[]){ "flowbits", "set,c", NULL });
    assert_false(eval(any, &k.p, &f));
    assert_true(eval(set_ab, &k.p, &f));
    assert_true(eval(any, &k.p, &f));
    assert_false(eval(all, &k.p, &f));
    assert_true(eval(none, &k.p, &f));
    assert_true(eval(one_missing, &k.p, &f));
    assert_true(eval(set_c, &k.p, &f));
    assert_true(eval(all, &k.p, &f));
    assert_false(eval(none, &k.p, &f));
    assert_false(eval(one_missing, &k.p, &f));
    detect_flow_free(&f);
    free_sig(set_ab);
    free_sig(any);
    free_sig(all);
    free_sig(none);
    free_sig(one_missing);
    free_sig(set_c);
}

static void test_flowint_parse(void **st)
{
    (void)st;
    assert_int_equal(kw("flowint", " ET.infostealer.dll.download, +, 1"), 0);
    assert_non_null(F->s->post);
    assert_true(F->s->flags & SIG_HAS_POST_MATCH);
    assert_int_equal(kw("flowint", "cnt, >=, 5"), 0);
    assert_non_null(F->s->pkt);
    expect_ok("flowint", "cnt,=,0");
    expect_ok("flowint", "cnt,-,2");
    expect_ok("flowint", "cnt,==,other");
    expect_ok("flowint", "cnt,!=,3");
    expect_ok("flowint", "cnt,<,3");
    expect_ok("flowint", "cnt,>,3");
    expect_ok("flowint", "cnt,<=,3");
    expect_ok("flowint", "cnt,isset");
    expect_ok("flowint", "cnt,notset");
    expect_ok("flowint", "cnt,isnotset");
    expect_error("flowint", "cnt", "invalid flowint 'cnt'");
    expect_error("flowint", "cnt,*,2", "invalid flowint 'cnt,*,2'");
    expect_error("flowint", "cnt,+", "invalid flowint 'cnt,+'");
    expect_error("flowint", "cnt,isset,1", "invalid flowint 'cnt,isset,1'");
    expect_error("flowint", "cnt,+,1x", "invalid flowint 'cnt,+,1x'");
}

static void test_flowint_arithmetic(void **st)
{
    (void)st;
    struct flow f = { 0 };
    struct pkt k;
    tcp_pkt(&k, NULL, NULL, &(struct pb_tcp){ .sp = 1, .dp = 80 }, "x", 0);
    struct sig *inc = rule(1, (const char *[]){ "flowint", "n,+,1", NULL });
    struct sig *dec = rule(2, (const char *[]){ "flowint", "n,-,2", NULL });
    struct sig *set10 = rule(3, (const char *[]){ "flowint", "n,=,10", NULL });
    struct sig *ge3 = rule(4, (const char *[]){ "flowint", "n,>=,3", NULL });
    struct sig *eq8 = rule(5, (const char *[]){ "flowint", "n,==,8", NULL });
    struct sig *isset = rule(6, (const char *[]){ "flowint", "n,isset", NULL });
    struct sig *notset = rule(7, (const char *[]){ "flowint", "n,notset", NULL });
    struct sig *lt_lim = rule(8, (const char *[]){ "flowint", "n,<,lim", NULL });
    struct sig *set_lim = rule(9, (const char *[]){ "flowint", "lim,=,9", NULL });
    struct sig *copy = rule(10, (const char *[]){ "flowint", "m,=,n", NULL });
    struct sig *m_eq = rule(11, (const char *[]){ "flowint", "m,==,10", NULL });

    assert_true(eval(notset, &k.p, &f));
    assert_false(eval(isset, &k.p, &f));
    assert_false(eval(ge3, &k.p, &f));   /* unset: comparisons fail */
    for (int i = 0; i < 3; i++)
        assert_true(eval(inc, &k.p, &f)); /* unset counts as 0 */
    assert_true(eval(isset, &k.p, &f));
    assert_false(eval(notset, &k.p, &f));
    assert_true(eval(ge3, &k.p, &f));
    assert_true(eval(set10, &k.p, &f));
    assert_true(eval(dec, &k.p, &f));
    assert_true(eval(eq8, &k.p, &f));
    assert_false(eval(lt_lim, &k.p, &f)); /* lim not set yet */
    assert_true(eval(set_lim, &k.p, &f));
    assert_true(eval(lt_lim, &k.p, &f));
    assert_true(eval(set10, &k.p, &f));
    assert_false(eval(lt_lim, &k.p, &f));
    assert_true(eval(copy, &k.p, &f));
    assert_true(eval(m_eq, &k.p, &f));
    assert_false(eval(isset, &k.p, NULL));
    detect_flow_free(&f);
    struct sig *all[] = { inc, dec, set10, ge3, eq8, isset, notset, lt_lim, set_lim, copy, m_eq };
    for (unsigned i = 0; i < sizeof all / sizeof *all; i++)
        free_sig(all[i]);
}

static void test_xbits_parse(void **st)
{
    (void)st;
    assert_int_equal(kw("xbits", "set,ET.infostealer.pattern.2,track ip_pair,expire 15"), 0);
    assert_non_null(F->s->post);
    assert_int_equal(kw("xbits", "isset,ET.2020_8260.2,track ip_src,expire 10"), 0);
    assert_non_null(F->s->pkt);
    expect_ok("xbits", "set,ET.IBMDRM1,track ip_dst, expire 10");
    expect_ok("xbits", "set,ET.ipcheck,track ip_src");
    expect_ok("xbits", "noalert");
    expect_error("xbits", "set,a", "invalid xbits 'set,a'");
    expect_error("xbits", "set,a,track ip_flow", "invalid xbits 'set,a,track ip_flow'");
    expect_error("xbits", "set,a,track ip_src,expire 0",
                 "invalid xbits 'set,a,track ip_src,expire 0'");
    expect_error("xbits", "set,a,track ip_src,track ip_dst",
                 "invalid xbits 'set,a,track ip_src,track ip_dst'");
    expect_error("xbits", "mark,a,track ip_src", "invalid xbits 'mark,a,track ip_src'");
}

static void test_xbits_by_ip_src_expire(void **st)
{
    (void)st;
    struct pkt a0, a5, a11, b5, rev;
    struct pb_tcp t = { .sp = 1, .dp = 80 };
    tcp_pkt(&a0, "10.0.0.1", "10.9.9.9", &t, "x", 0);
    tcp_pkt(&a5, "10.0.0.1", "10.9.9.8", &t, "x", 5);
    tcp_pkt(&b5, "10.0.0.2", "10.9.9.9", &t, "x", 5);
    tcp_pkt(&a11, "10.0.0.1", "10.9.9.9", &t, "x", 11);
    tcp_pkt(&rev, "10.9.9.9", "10.0.0.1", &t, "x", 5);
    struct sig *set = rule(1, (const char *[]){ "xbits", "set,seen,track ip_src,expire 10", NULL });
    struct sig *isset = rule(2, (const char *[]){ "xbits", "isset,seen,track ip_src", NULL });
    struct sig *notset = rule(3, (const char *[]){ "xbits", "isnotset,seen,track ip_src", NULL });
    struct sig *unset = rule(4, (const char *[]){ "xbits", "unset,seen,track ip_src", NULL });
    struct sig *toggle = rule(5, (const char *[]){ "xbits", "toggle,seen,track ip_src", NULL });
    struct sig *pset = rule(6, (const char *[]){ "xbits", "set,pair,track ip_pair,expire 60", NULL });
    struct sig *pisset = rule(7, (const char *[]){ "xbits", "isset,pair,track ip_pair", NULL });

    assert_true(eval(notset, &a0.p, NULL));
    assert_true(eval(set, &a0.p, NULL));      /* no flow needed */
    assert_true(eval(isset, &a5.p, NULL));    /* same source, another flow */
    assert_false(eval(isset, &b5.p, NULL));   /* another source */
    assert_false(eval(isset, &a11.p, NULL));  /* expired */
    assert_true(eval(notset, &a11.p, NULL));
    assert_true(eval(set, &a0.p, NULL));
    assert_true(eval(unset, &a5.p, NULL));
    assert_false(eval(isset, &a5.p, NULL));
    assert_true(eval(toggle, &a5.p, NULL));
    assert_true(eval(isset, &a5.p, NULL));
    assert_true(eval(toggle, &a5.p, NULL));
    assert_false(eval(isset, &a5.p, NULL));
    /* ip_pair is symmetric */
    assert_true(eval(pset, &a0.p, NULL));
    assert_true(eval(pisset, &rev.p, NULL));
    assert_false(eval(pisset, &b5.p, NULL));
    /* no runtime: isnotset holds, isset does not */
    struct detect_thread bare = { 0 };
    assert_false(match_packet_keywords(&bare, pisset, &rev.p, NULL, 0));
    assert_true(match_packet_keywords(&bare, notset, &rev.p, NULL, 0));
    struct sig *all[] = { set, isset, notset, unset, toggle, pset, pisset };
    for (unsigned i = 0; i < sizeof all / sizeof *all; i++)
        free_sig(all[i]);
}

static void test_stream_size_estimates_from_flow_bytes(void **st)
{
    (void)st;
    struct pkt k;
    tcp_pkt(&k, NULL, NULL, &(struct pb_tcp){ .sp = 1, .dp = 80, .flags = TCP_ACK }, "abcd", 0);
    uint32_t hdr = k.p.payload_off;
    /* client sent 3 packets with 100 payload bytes in all; server 2 without payload */
    struct flow f = { .pkts = { 3, 2 }, .bytes = { 3 * hdr + 100, 2 * hdr } };
    assert_true(kw_matches("stream_size", "server,<,5", &k.p, &f));
    assert_true(kw_matches("stream_size", "server,=,1", &k.p, &f));
    assert_true(kw_matches("stream_size", "client,>,100", &k.p, &f));
    assert_true(kw_matches("stream_size", "client, = ,101", &k.p, &f));
    assert_false(kw_matches("stream_size", "both,>,50", &k.p, &f));
    assert_true(kw_matches("stream_size", "either,>,50", &k.p, &f));
    assert_true(kw_matches("stream_size", "client,!=,5", &k.p, &f));
    assert_false(kw_matches("stream_size", "client,<=,100", &k.p, &f));
    assert_true(kw_matches("stream_size", "client,>=,101", &k.p, &f));
    assert_false(kw_matches("stream_size", "server,<,5", &k.p, NULL));
    expect_error("stream_size", "server,<", "invalid stream_size 'server,<'");
    expect_error("stream_size", "middle,<,5", "invalid stream_size 'middle,<,5'");
    expect_error("stream_size", "server,~,5", "invalid stream_size 'server,~,5'");
    expect_error("stream_size", "server,<,x", "invalid stream_size 'server,<,x'");
}

static void test_app_layer_event_is_accepted_but_never_matches(void **st)
{
    (void)st;
    struct pkt k;
    tcp_pkt(&k, NULL, NULL, &(struct pb_tcp){ .sp = 1, .dp = 80 }, "x", 0);
    struct flow f = { 0 };
    assert_false(kw_matches("app-layer-event",
                            "http.invalid_transfer_encoding_value_in_request", &k.p, &f));
    expect_ok("app-layer-event", "decoder.ipv4.trunc_pkt");
    expect_error("app-layer-event", "two words", "invalid app-layer-event 'two words'");
}

static void test_unknown_matcher_type_does_not_match(void **st)
{
    (void)st;
    struct pkt k;
    tcp_pkt(&k, NULL, NULL, &(struct pb_tcp){ .sp = 1, .dp = 80 }, "x", 0);
    struct sig *s = new_sig(1);
    sm_append(&s->pkt, sm_new(SM_TYPE_COUNT + 3, NULL));
    assert_false(match_packet_keywords(&F->dt, s, &k.p, NULL, 0));
    free_sig(s);
    s = new_sig(2);
    assert_true(match_packet_keywords(&F->dt, s, &k.p, NULL, 0)); /* empty list */
    free_sig(s);
}

/* ======================================================================
 * App keywords
 * ==================================================================== */

static void test_tls_keywords_parse_and_bind_tls(void **st)
{
    (void)st;
    assert_int_equal(kw("tls.version", "1.2"), 0);
    assert_int_equal(F->s->app_proto, APP_TLS);
    const struct kw_cmp *c = F->s->pkt->ctx;
    assert_int_equal(c->a, 0x0303);
    expect_ok("tls.version", "1.0");
    expect_ok("tls.version", "1.3");
    expect_ok("tls.version", "sslv3");
    expect_ok("tls.version", "0x0302");
    expect_error("tls.version", "2.0", "invalid tls.version value '2.0'");
    expect_error("tls.version", ">1.0", "invalid tls.version value '>1.0'");
    expect_ok("ssl_version", "sslv3");
    expect_ok("ssl_version", "sslv2, !tls1.3");
    expect_ok("ssl_version", "tls1.0,tls1.1,tls1.2");
    expect_error("ssl_version", "tls2.0", "invalid ssl_version value 'tls2.0'");
    expect_error("ssl_version", "sslv3,sslv3", "invalid ssl_version value 'sslv3,sslv3'");
    expect_ok("ssl_state", "client_hello|server_hello|client_keyx|server_keyx");
    expect_ok("ssl_state", "!client_hello");
    expect_ok("ssl_state", "unknown");
    expect_error("ssl_state", "hello", "invalid ssl_state value 'hello'");
    expect_error("ssl_state", "client_hello|", "invalid ssl_state value 'client_hello|'");

    struct sig *s = new_sig(3);
    s->app_proto = APP_HTTP;
    assert_int_equal(kw_on(s, "ssl_state", "client_hello"), -1);
    assert_string_equal(F->err, "ssl_state does not apply to the rule's protocol");
    free_sig(s);
}

static void test_dns_keywords_take_numbers_or_names(void **st)
{
    (void)st;
    assert_int_equal(kw("dns.rrtype", "TXT"), 0);
    assert_int_equal(F->s->app_proto, APP_DNS);
    assert_int_equal(((const struct kw_cmp *)F->s->pkt->ctx)->a, 16);
    expect_ok("dns.rrtype", "28");
    expect_ok("dns.rrtype", "!any");
    expect_ok("dns.opcode", "0");
    expect_ok("dns.opcode", "!update");
    expect_ok("dns.rcode", "nxdomain");
    expect_ok("dns.rcode", ">=2");
    expect_error("dns.opcode", "16", "invalid dns.opcode value '16'");
    expect_error("dns.rcode", "nope", "invalid dns.rcode value 'nope'");
    expect_error("dns.rrtype", "", "invalid dns.rrtype value ''");
    assert_int_equal(kw("tls.version", "1.2"), -1);
    assert_string_equal(F->err, "tls.version does not apply to the rule's protocol");
}

static void test_app_keywords_do_not_match_until_fed(void **st)
{
    (void)st;
    struct pkt k;
    tcp_pkt(&k, NULL, NULL, &(struct pb_tcp){ .sp = 1, .dp = 443 }, "\x16\x03\x03", 0);
    struct flow f = { 0 };
    assert_false(kw_matches("tls.version", "1.2", &k.p, &f));
    assert_false(kw_matches("ssl_version", "!sslv2", &k.p, &f));
    assert_false(kw_matches("ssl_state", "!unknown", &k.p, &f));
    assert_false(kw_matches("dns.opcode", "!15", &k.p, &f));
    assert_false(kw_matches("dns.rcode", "0", &k.p, &f));
    assert_false(kw_matches("dns.rrtype", "a", &k.p, &f));
}

/* ======================================================================
 * Classification and reference files
 * ==================================================================== */

static void test_classification_file_loads_and_finds(void **st)
{
    (void)st;
    load_classes();
    assert_int_equal(F->b.nclasses, 3);
    const struct classification *c = classification_find(&F->b, "bad-unknown");
    assert_non_null(c);
    assert_string_equal(c->desc, "Potentially Bad Traffic");
    assert_int_equal(c->priority, 2);
    assert_null(classification_find(&F->b, "nope"));
    /* a later definition replaces the earlier */
    const char *path = write_tmp("config classification: misc-activity,Other text,4\n");
    assert_int_equal(classification_load(&F->b, path, F->err, sizeof F->err), 0);
    unlink(path);
    assert_int_equal(F->b.nclasses, 3);
    assert_int_equal(classification_find(&F->b, "misc-activity")->priority, 4);
}

static void test_classification_errors_name_file_and_line(void **st)
{
    (void)st;
    const char *bad[] = {
        "config classification: a,b\n",
        "config classification: a,b,x\n",
        "config classification: ,b,1\n",
        "config classification: two words,b,1\n",
        "config classifications: a,b,1\n",
        "classification: a,b,1\n",
    };
    char want[128];
    for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[256];
        snprintf(text, sizeof text, "# ok\nconfig classification: ok,Ok,1\n%s", bad[i]);
        const char *path = write_tmp(text);
        assert_int_equal(classification_load(&F->b, path, F->err, sizeof F->err), -1);
        snprintf(want, sizeof want, "%s:3: malformed classification line", path);
        assert_string_equal(F->err, want);
        unlink(path);
    }
    assert_int_equal(classification_load(&F->b, "/nonexistent/cc", F->err, sizeof F->err), -1);
    assert_string_equal(F->err, "/nonexistent/cc: No such file or directory");
}

static void test_reference_config_loads_and_rejects_malformed(void **st)
{
    (void)st;
    const char *path = write_tmp("# refs\nconfig reference: cve http://cve.mitre.org/cgi-bin/cvename.cgi?name=\n"
                                 "config reference:url   http://\n\n");
    assert_int_equal(reference_config_load(&F->b, path, F->err, sizeof F->err), 0);
    unlink(path);
    assert_string_equal(json_string_value(json_object_get(F->b.reference_types, "url")), "http://");
    assert_non_null(json_object_get(F->b.reference_types, "cve"));
    path = write_tmp("config reference: cve\n");
    assert_int_equal(reference_config_load(&F->b, path, F->err, sizeof F->err), -1);
    char want[128];
    snprintf(want, sizeof want, "%s:1: malformed reference line", path);
    assert_string_equal(F->err, want);
    unlink(path);
}

/* The shipped etc/ files parse (run from the source or build tree). */
static void test_shipped_config_files_parse(void **st)
{
    (void)st;
    const char *dirs[] = { getenv("srcdir"), ".", "..", "../.." };
    char path[512];
    const char *dir = NULL;
    for (unsigned i = 0; i < 4 && dir == NULL; i++) {
        if (dirs[i] == NULL)
            continue;
        snprintf(path, sizeof path, "%s/etc/classification.config", dirs[i]);
        if (access(path, R_OK) == 0)
            dir = dirs[i];
    }
    if (dir == NULL)
        skip();
    assert_int_equal(classification_load(&F->b, path, F->err, sizeof F->err), 0);
    assert_true(F->b.nclasses >= 40);
    assert_int_equal(classification_find(&F->b, "trojan-activity")->priority, 1);
    assert_int_equal(classification_find(&F->b, "tcp-connection")->priority, 4);
    snprintf(path, sizeof path, "%s/etc/reference.config", dir);
    assert_int_equal(reference_config_load(&F->b, path, F->err, sizeof F->err), 0);
    assert_non_null(json_object_get(F->b.reference_types, "cve"));
    assert_non_null(json_object_get(F->b.reference_types, "md5"));
    snprintf(path, sizeof path, "%s/etc/threshold.config", dir);
    assert_int_equal(threshold_config_load(&F->b, path, F->err, sizeof F->err), 0);
    assert_null(F->b.tcfg); /* comments only */
}

/* ======================================================================
 * threshold.config
 * ==================================================================== */

static int load_tcfg(const char *text)
{
    const char *path = write_tmp(text);
    int rc = threshold_config_load(&F->b, path, F->err, sizeof F->err);
    unlink(path);
    return rc;
}

static void test_threshold_config_parses_every_directive(void **st)
{
    (void)st;
    assert_int_equal(load_tcfg("# comment\n"
                               "suppress gen_id 1, sig_id 2002087, track by_src, ip 10.0.0.0/8\n"
                               "suppress gen_id 1, sig_id 2002088\n"
                               "threshold gen_id 1, sig_id 10, type limit, track by_src, \\\n"
                               "    count 1, seconds 60\n"
                               "event_filter gen_id 1, sig_id 10, type both, track by_dst, count 2, seconds 5\n"
                               "rate_filter gen_id 1, sig_id 11, track by_rule, count 100, seconds 60, "
                               "new_action drop, timeout 10\n"
                               "suppress gen_id 1, sig_id 0, track by_either, ip [192.168.0.0/16, 172.16.0.1]\n"
                               "threshold gen_id 0, sig_id 0, type threshold, track by_rule, count 5, seconds 9\n"),
                     0);
    const struct threshold_config *t = F->b.tcfg;
    assert_non_null(t);
    assert_int_equal(t->n, 7);
    assert_int_equal(t->nglobal, 2);
    const struct tcfg_entry *e[8];
    unsigned n = threshold_config_lookup(t, 1, 10, e, 8);
    assert_int_equal(n, 4);
    assert_int_equal(e[0]->kind, TCFG_THRESHOLD);
    assert_int_equal(e[0]->spec.type, THR_LIMIT);
    assert_int_equal(e[0]->file_line, 4);
    assert_int_equal(e[1]->spec.type, THR_BOTH);
    assert_int_equal(e[1]->spec.track, TRACK_BY_DST);
    assert_int_equal(e[2]->kind, TCFG_SUPPRESS);
    assert_int_equal(e[2]->supp_track, SUPP_BY_EITHER);
    assert_int_equal(e[3]->spec.type, THR_THRESHOLD);
    n = threshold_config_lookup(t, 1, 11, e, 8);
    assert_int_equal(n, 3);
    assert_int_equal(e[0]->kind, TCFG_RATE_FILTER);
    assert_int_equal(e[0]->new_action, ACTION_DROP);
    assert_int_equal(e[0]->timeout, 10);
    assert_int_equal(e[0]->spec.count, 100);
    n = threshold_config_lookup(t, 3, 5, e, 8); /* gid 3: only the gen_id 0 entry */
    assert_int_equal(n, 1);
    assert_int_equal(threshold_config_lookup(t, 1, 2002088, e, 1), 1); /* max honoured */
}

static void test_threshold_config_errors_name_file_and_line(void **st)
{
    (void)st;
    const struct {
        const char *line, *why;
    } bad[] = {
        { "limit gen_id 1, sig_id 1", "unknown directive 'limit'" },
        { "suppress gen_id 1", "suppress without sig_id" },
        { "suppress gen_id 1, sig_id 5, track by_src", "suppress without ip" },
        { "suppress gen_id 1, sig_id 5, ip 1.2.3.4", "suppress without track" },
        { "suppress gen_id 1, sig_id 5, track by_rule, ip 1.2.3.4", "invalid track 'by_rule'" },
        { "suppress gen_id 1, sig_id x", "invalid sig_id 'x'" },
        { "suppress gen_id 1, sig_id 5, count 3", "unexpected 'count' in suppress" },
        { "suppress gen_id 1, sig_id 5, sig_id 6", "'sig_id' given twice" },
        { "threshold gen_id 1, sig_id 5, type limit, track by_src, count 1",
          "threshold without seconds" },
        { "threshold gen_id 1, sig_id 5, type often, track by_src, count 1, seconds 1",
          "invalid type 'often'" },
        { "event_filter gen_id 1, sig_id 5, type limit, track by_src, count 0, seconds 1",
          "invalid count '0'" },
        { "rate_filter gen_id 1, sig_id 5, track by_src, count 1, seconds 1, new_action drop",
          "rate_filter without timeout" },
        { "rate_filter gen_id 1, sig_id 5, track by_flow, count 1, seconds 1, new_action drop, timeout 1",
          "invalid track 'by_flow'" },
        { "rate_filter gen_id 1, sig_id 5, track by_src, count 1, seconds 1, new_action log, timeout 1",
          "invalid new_action 'log'" },
    };
    char text[512], want[512];
    for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(text, sizeof text, "# header\n\nsuppress gen_id 1, \\\n sig_id 1\n%s\n", bad[i].line);
        const char *path = write_tmp(text);
        assert_int_equal(threshold_config_load(&F->b, path, F->err, sizeof F->err), -1);
        snprintf(want, sizeof want, "%s:5: %s", path, bad[i].why);
        assert_string_equal(F->err, want);
        unlink(path);
        threshold_config_free(F->b.tcfg);
        F->b.tcfg = NULL;
    }
    assert_int_equal(load_tcfg("suppress gen_id 1, sig_id 5, track by_src, ip 300.1.1.1\n"), -1);
    assert_non_null(strstr(F->err, ":1: invalid ip '300.1.1.1'"));
}

/* ======================================================================
 * Thresholds over packet time
 * ==================================================================== */

/* Counts the alerts of n matches of s, one every step seconds from start. */
static unsigned alerts(struct sig *s, const char *src, unsigned n, long start, long step,
                       bool *pattern)
{
    unsigned a = 0;
    for (unsigned i = 0; i < n; i++) {
        struct pkt k;
        tcp_pkt(&k, src, "10.9.9.9", &(struct pb_tcp){ .sp = 1, .dp = 80 }, "x",
                start + (long)i * step);
        int action = s->action;
        bool ok = threshold_allows(F->rt, F->b.tcfg, s, &k.p, &action, NULL);
        if (pattern)
            pattern[i] = ok;
        a += ok;
    }
    return a;
}

static void test_threshold_limit_over_packet_time(void **st)
{
    (void)st;
    struct sig *s = rule(100, (const char *[]){ "threshold", "type limit, track by_src, count 2, seconds 60", NULL });
    bool pat[10];
    /* 10 matches in 50 s: the first two alert */
    assert_int_equal(alerts(s, "10.0.0.1", 10, 0, 5, pat), 2);
    assert_true(pat[0] && pat[1] && !pat[2]);
    /* another source has its own count */
    assert_int_equal(alerts(s, "10.0.0.2", 3, 10, 1, NULL), 2);
    /* a new window opens 60 s after the first */
    assert_int_equal(alerts(s, "10.0.0.1", 3, 60, 1, NULL), 2);
    free_sig(s);
}

/* A quieted match still applies the rule's action for limit, not for threshold. */
static void test_threshold_quiet_match_still_acts_only_for_limit(void **st)
{
    (void)st;
    struct sig *lim = rule(110, (const char *[]){ "threshold", "type limit, track by_src, count 1, seconds 60", NULL });
    struct sig *thr = rule(111, (const char *[]){ "threshold", "type threshold, track by_src, count 3, seconds 60", NULL });
    struct pkt k;
    tcp_pkt(&k, "10.0.0.7", "10.9.9.9", &(struct pb_tcp){ .sp = 1, .dp = 80 }, "x", 0);
    int action = ACTION_DROP;
    bool acts = true;
    assert_true(threshold_allows(F->rt, NULL, lim, &k.p, &action, &acts));
    assert_false(acts);
    assert_false(threshold_allows(F->rt, NULL, lim, &k.p, &action, &acts));
    assert_true(acts);  /* over the limit: no alert, but the drop applies */
    assert_false(threshold_allows(F->rt, NULL, thr, &k.p, &action, &acts));
    assert_false(acts); /* below the threshold: no match at all */
    free_sig(lim);
    free_sig(thr);
}

static void test_threshold_type_threshold_alerts_every_nth(void **st)
{
    (void)st;
    struct sig *s = rule(101, (const char *[]){ "threshold", "type threshold, track by_rule, count 10, seconds 60", NULL });
    bool pat[25];
    assert_int_equal(alerts(s, "10.0.0.1", 25, 0, 2, pat), 2); /* 25 matches in 48 s */
    for (int i = 0; i < 25; i++)
        assert_int_equal(pat[i], i == 9 || i == 19);
    /* 9 more in a new window: none */
    assert_int_equal(alerts(s, "10.0.0.7", 9, 100, 1, NULL), 0);
    free_sig(s);
}

static void test_threshold_both_alerts_once_per_window(void **st)
{
    (void)st;
    struct sig *s = rule(102, (const char *[]){ "threshold", "type both, track by_dst, count 3, seconds 60", NULL });
    bool pat[10];
    assert_int_equal(alerts(s, "10.0.0.1", 10, 0, 1, pat), 1);
    assert_true(pat[2]);
    assert_int_equal(alerts(s, "10.0.0.1", 10, 70, 1, NULL), 1);
    free_sig(s);
}

static void test_detection_filter_alerts_after_count(void **st)
{
    (void)st;
    struct sig *s = rule(103, (const char *[]){ "detection_filter", "track by_src, count 10, seconds 60", NULL });
    bool pat[15];
    assert_int_equal(alerts(s, "10.0.0.1", 15, 0, 1, pat), 5);
    assert_false(pat[9]);
    assert_true(pat[10]);
    /* slow matches never reach the rate */
    assert_int_equal(alerts(s, "10.0.0.3", 15, 0, 61, NULL), 0);
    free_sig(s);
}

static void test_threshold_by_flow_and_by_both(void **st)
{
    (void)st;
    struct sig *s = rule(104, (const char *[]){ "threshold", "type limit, track by_flow, count 1, seconds 60", NULL });
    struct pkt a, b, c;
    struct pb_tcp t1 = { .sp = 1000, .dp = 80 }, t2 = { .sp = 1001, .dp = 80 };
    struct pb_tcp back = { .sp = 80, .dp = 1000 };
    tcp_pkt(&a, "10.0.0.1", "10.9.9.9", &t1, "x", 0);
    tcp_pkt(&b, "10.0.0.1", "10.9.9.9", &t2, "x", 1);
    tcp_pkt(&c, "10.9.9.9", "10.0.0.1", &back, "x", 2);
    int act = 0;
    assert_true(threshold_allows(F->rt, NULL, s, &a.p, &act, NULL));
    assert_true(threshold_allows(F->rt, NULL, s, &b.p, &act, NULL));  /* another flow */
    assert_false(threshold_allows(F->rt, NULL, s, &c.p, &act, NULL)); /* reply of the first */
    free_sig(s);
    s = rule(105, (const char *[]){ "threshold", "type limit, track by_both, count 1, seconds 60", NULL });
    assert_true(threshold_allows(F->rt, NULL, s, &a.p, &act, NULL));
    assert_false(threshold_allows(F->rt, NULL, s, &c.p, &act, NULL));
    free_sig(s);
}

static void test_suppress_by_ip(void **st)
{
    (void)st;
    assert_int_equal(load_tcfg("suppress gen_id 1, sig_id 200, track by_src, ip [10.0.0.0/24,192.0.2.7]\n"
                               "suppress gen_id 1, sig_id 201, track by_dst, ip 10.9.9.9\n"
                               "suppress gen_id 1, sig_id 202\n"),
                     0);
    struct sig *s200 = new_sig(200), *s201 = new_sig(201), *s202 = new_sig(202),
               *s203 = new_sig(203);
    assert_int_equal(alerts(s200, "10.0.0.5", 3, 0, 1, NULL), 0);
    assert_int_equal(alerts(s200, "192.0.2.7", 3, 0, 1, NULL), 0);
    assert_int_equal(alerts(s200, "10.0.1.5", 3, 0, 1, NULL), 3);
    assert_int_equal(alerts(s201, "10.0.1.5", 3, 0, 1, NULL), 0);
    assert_int_equal(alerts(s202, "10.0.1.5", 3, 0, 1, NULL), 0);
    assert_int_equal(alerts(s203, "10.0.1.5", 3, 0, 1, NULL), 3);
    assert_int_equal(detect_runtime_entries(F->rt), 0); /* suppress keeps no state */
    free_sig(s200);
    free_sig(s201);
    free_sig(s202);
    free_sig(s203);
}

static void test_rate_filter_changes_action(void **st)
{
    (void)st;
    assert_int_equal(load_tcfg("rate_filter gen_id 1, sig_id 300, track by_src, count 3, seconds 10, "
                               "new_action drop, timeout 30\n"),
                     0);
    struct sig *s = new_sig(300);
    s->action = ACTION_ALERT;
    int actions[8];
    for (int i = 0; i < 8; i++) {
        struct pkt k;
        /* 5 matches in 4 s, then at 20 s, 32 s and 33 s (the drop began at 3 s) */
        long t[] = { 0, 1, 2, 3, 4, 20, 32, 33 };
        tcp_pkt(&k, "10.0.0.1", "10.9.9.9", &(struct pb_tcp){ .sp = 1, .dp = 80 }, "x", t[i]);
        actions[i] = s->action;
        assert_true(threshold_allows(F->rt, F->b.tcfg, s, &k.p, &actions[i], NULL));
    }
    int want[] = { ACTION_ALERT, ACTION_ALERT, ACTION_ALERT, ACTION_DROP, ACTION_DROP,
                   ACTION_DROP, ACTION_DROP, ACTION_ALERT };
    for (int i = 0; i < 8; i++)
        assert_int_equal(actions[i], want[i]);
    free_sig(s);
}

static void test_config_threshold_overrides_rule_and_global_fills_in(void **st)
{
    (void)st;
    assert_int_equal(load_tcfg("threshold gen_id 1, sig_id 400, type limit, track by_rule, count 5, seconds 60\n"
                               "threshold gen_id 1, sig_id 0, type limit, track by_rule, count 2, seconds 60\n"),
                     0);
    struct sig *own = rule(400, (const char *[]){ "threshold", "type limit, track by_rule, count 1, seconds 60", NULL });
    struct sig *plain = new_sig(401);
    struct sig *keeps = rule(402, (const char *[]){ "threshold", "type limit, track by_rule, count 3, seconds 60", NULL });
    assert_int_equal(alerts(own, "10.0.0.1", 10, 0, 1, NULL), 5);   /* config wins */
    assert_int_equal(alerts(plain, "10.0.0.1", 10, 0, 1, NULL), 2); /* global applies */
    assert_int_equal(alerts(keeps, "10.0.0.1", 10, 0, 1, NULL), 3); /* global does not */
    free_sig(own);
    free_sig(plain);
    free_sig(keeps);
}

static void test_runtime_memory_is_bounded(void **st)
{
    (void)st;
    detect_runtime_set_max_entries(F->rt, 4);
    struct sig *s = rule(500, (const char *[]){ "threshold", "type limit, track by_src, count 1, seconds 60", NULL });
    char src[32];
    for (int i = 0; i < 10; i++) {
        snprintf(src, sizeof src, "10.0.0.%d", i + 1);
        assert_int_equal(alerts(s, src, 1, i, 1, NULL), 1);
    }
    assert_int_equal(detect_runtime_entries(F->rt), 4);
    assert_int_equal(detect_runtime_evicted(F->rt), 6);
    /* expired entries are dropped before anything is evicted */
    assert_int_equal(alerts(s, "10.0.1.1", 1, 200, 1, NULL), 1);
    assert_int_equal(detect_runtime_evicted(F->rt), 6);
    assert_true(detect_runtime_entries(F->rt) <= 4);
    free_sig(s);
}

static void test_no_threshold_means_allowed(void **st)
{
    (void)st;
    struct sig *s = new_sig(600);
    assert_int_equal(alerts(s, "10.0.0.1", 5, 0, 1, NULL), 5);
    assert_int_equal(detect_runtime_entries(F->rt), 0);
    int act = ACTION_ALERT;
    struct pkt k;
    tcp_pkt(&k, NULL, NULL, &(struct pb_tcp){ .sp = 1, .dp = 2 }, NULL, 0);
    assert_true(threshold_allows(NULL, NULL, s, &k.p, &act, NULL));
    free_sig(s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_msg_keeps_text_and_strips_leftover_quotes),
        T(test_sid_rev_gid_parse_numbers_and_reject_garbage),
        T(test_classtype_sets_class_and_priority),
        T(test_priority_wins_over_classtype_in_any_order),
        T(test_reference_is_stored_as_type_comma_value),
        T(test_metadata_merges_into_object_of_arrays),
        T(test_target_noalert_and_tag),
        T(test_threshold_parses_all_orders),
        T(test_detection_filter_parses_without_type),
        T(test_numeric_comparisons_parse_every_form),
        T(test_range_is_exclusive),
        T(test_dsize_matches_payload_length),
        T(test_flags_modifiers_and_mask),
        T(test_ttl_ip_proto_and_sameip),
        T(test_icmp_keywords),
        T(test_ipopts_reads_options_from_the_header),
        T(test_fragbits_modifiers),
        T(test_window_seq_ack),
        T(test_flow_options_and_conflicts),
        T(test_flowbits_parse_lists),
        T(test_flowbits_carry_state_across_packets),
        T(test_flowbits_or_and_lists),
        T(test_flowint_parse),
        T(test_flowint_arithmetic),
        T(test_xbits_parse),
        T(test_xbits_by_ip_src_expire),
        T(test_stream_size_estimates_from_flow_bytes),
        T(test_app_layer_event_is_accepted_but_never_matches),
        T(test_unknown_matcher_type_does_not_match),
        T(test_tls_keywords_parse_and_bind_tls),
        T(test_dns_keywords_take_numbers_or_names),
        T(test_app_keywords_do_not_match_until_fed),
        T(test_classification_file_loads_and_finds),
        T(test_classification_errors_name_file_and_line),
        T(test_reference_config_loads_and_rejects_malformed),
        T(test_shipped_config_files_parse),
        T(test_threshold_config_parses_every_directive),
        T(test_threshold_config_errors_name_file_and_line),
        T(test_threshold_limit_over_packet_time),
        T(test_threshold_quiet_match_still_acts_only_for_limit),
        T(test_threshold_type_threshold_alerts_every_nth),
        T(test_threshold_both_alerts_once_per_window),
        T(test_detection_filter_alerts_after_count),
        T(test_threshold_by_flow_and_by_both),
        T(test_suppress_by_ip),
        T(test_rate_filter_changes_action),
        T(test_config_threshold_overrides_rule_and_global_fills_in),
        T(test_runtime_memory_is_bounded),
        T(test_no_threshold_means_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
