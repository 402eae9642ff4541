/* Unit tests for the rule parser: header, addresses and ports, option
 * splitting and values, rule files, buffer names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "detect/detect_int.h"
#include "detect/rules_load.h"
#include "engine/config.h"



/* ---- helpers ------------------------------------------------------------ */

static char err[512];

static struct sig *parse(const char *text)
{
    err[0] = '\0';
    return sig_parse(NULL, text, err, sizeof err);
}

static void expect_reject(const char *text, const char *reason)
{
    struct sig *s = parse(text);
    if (s)
        fail_msg("rule accepted, expected '%s': %s", reason, text);
    assert_string_equal(err, reason);
}

static struct ip_addr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct ip_addr x = { 0 };
    x.b[0] = a, x.b[1] = b, x.b[2] = c, x.b[3] = d;
    return x;
}

static struct ip_addr ip6(const char *s)
{
    struct ip_addr x = { 0 };
    assert_int_equal(inet_pton(AF_INET6, s, x.b), 1);
    return x;
}

static struct addr_set *aparse(const struct conf *c, const char *text)
{
    err[0] = '\0';
    struct addr_set *a = addr_set_parse(c, text, err, sizeof err);
    if (!a)
        fail_msg("address '%s' rejected: %s", text, err);
    return a;
}

static struct port_set *pparse(const struct conf *c, const char *text)
{
    err[0] = '\0';
    struct port_set *p = port_set_parse(c, text, err, sizeof err);
    if (!p)
        fail_msg("port '%s' rejected: %s", text, err);
    return p;
}

static bool m4(const struct addr_set *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
    struct ip_addr ip = ip4(x, y, z, w);
    return addr_set_match(a, 4, &ip);
}

static bool m6(const struct addr_set *a, const char *s)
{
    struct ip_addr ip = ip6(s);
    return addr_set_match(a, 6, &ip);
}

static struct conf *conf_from(const char *yaml)
{
    struct conf *c = conf_new();
    char e[256];
    assert_int_equal(conf_load_string(c, yaml, strlen(yaml), "test.yaml", e, sizeof e), 0);
    return c;
}

#define R(hdr, opts) hdr " (" opts ")"

/* ---- header ------------------------------------------------------------- */

static void test_each_action_maps_to_its_action(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int action;
    } cases[] = { { "alert", ACTION_ALERT },     { "drop", ACTION_DROP },
                  { "reject", ACTION_REJECT },   { "rejectsrc", ACTION_REJECT },
                  { "rejectdst", ACTION_REJECT }, { "rejectboth", ACTION_REJECT },
                  { "pass", ACTION_PASS } };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char rule[128];
        snprintf(rule, sizeof rule, "%s tcp any any -> any any (sid:1;)", cases[i].name);
        struct sig *s = parse(rule);
        assert_non_null(s);
        assert_int_equal(s->action, cases[i].action);
        sig_free(s);
    }
    expect_reject("log tcp any any -> any any (sid:1;)", "unsupported action 'log'");
}

static void test_each_protocol_maps_to_ip_proto_and_app(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int ip_proto, app;
        uint32_t flags;
    } cases[] = {
        { "ip", 0, APP_NONE, 0 },          { "tcp", 6, APP_NONE, 0 },
        { "udp", 17, APP_NONE, 0 },        { "icmp", 1, APP_NONE, SIG_ICMP_ANY_VER },
        { "icmpv4", 1, APP_NONE, 0 },      { "icmpv6", 58, APP_NONE, 0 },
        { "tcp-pkt", 6, APP_NONE, SIG_TCP_PKT },
        { "tcp-stream", 6, APP_NONE, SIG_FLOW_ONLY_STREAM },
        { "pkthdr", 0, APP_NONE, 0 },      { "http", 6, APP_HTTP, 0 },
        { "http1", 6, APP_HTTP, 0 },       { "tls", 6, APP_TLS, 0 },
        { "ssl", 6, APP_TLS, 0 },          { "dns", 0, APP_DNS, 0 },
        { "TCP", 6, APP_NONE, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char rule[128];
        snprintf(rule, sizeof rule, "alert %s any any -> any any (sid:1;)", cases[i].name);
        struct sig *s = parse(rule);
        if (!s)
            fail_msg("%s: %s", cases[i].name, err);
        assert_int_equal(s->ip_proto, cases[i].ip_proto);
        assert_int_equal(s->app_proto, cases[i].app);
        assert_int_equal(s->flags & (SIG_ICMP_ANY_VER | SIG_TCP_PKT | SIG_FLOW_ONLY_STREAM),
                         cases[i].flags);
        sig_free(s);
    }
}

static void test_unparsed_protocols_are_rejected_by_name(void **state)
{
    (void)state;
    expect_reject("alert smtp any any -> any any (sid:1;)", "unsupported protocol 'smtp'");
    expect_reject("alert ftp-data any any -> any any (sid:1;)",
                  "unsupported protocol 'ftp-data'");
    expect_reject("alert smb any any -> any any (sid:1;)", "unsupported protocol 'smb'");
    expect_reject("alert http2 any any -> any any (sid:1;)", "unsupported protocol 'http2'");
}

static void test_directions(void **state)
{
    (void)state;
    struct sig *s = parse("alert tcp any any <> any any (sid:1;)");
    assert_non_null(s);
    assert_true(s->flags & SIG_BIDIR);
    sig_free(s);
    s = parse("alert tcp any any -> any any (sid:1;)");
    assert_non_null(s);
    assert_false(s->flags & SIG_BIDIR);
    sig_free(s);
    expect_reject("alert tcp any any <- any any (sid:1;)",
                  "direction '<-' is not supported: use '->' or '<>'");
    expect_reject("alert tcp any any => any any (sid:1;)",
                  "bad direction '=>': use '->' or '<>'");
}

static void test_malformed_headers(void **state)
{
    (void)state;
    expect_reject("alert tcp any any -> any (sid:1;)",
                  "bad rule header: expected 'action protocol src_addr src_port -> "
                  "dst_addr dst_port'");
    expect_reject("alert tcp any any -> any any extra (sid:1;)",
                  "bad rule header: unexpected 'extra' after the destination port");
    expect_reject("alert tcp any any -> any any", "rule has no options: expected '(' after "
                                                  "the header");
    expect_reject("alert tcp any any -> any any (sid:1;", "rule options must end with ')'");
    expect_reject("alert tcp 1.2.3 any -> any any (sid:1;)", "bad address '1.2.3'");
    expect_reject("alert tcp any 70000 -> any any (sid:1;)", "bad port '70000'");
    expect_reject("alert tcp $NOPE any -> any any (sid:1;)", "unknown variable $NOPE");
    expect_reject("alert tcp any any -> any $NO_PORTS (sid:1;)", "unknown variable $NO_PORTS");
}

static void test_header_lists_may_contain_spaces(void **state)
{
    (void)state;
    struct sig *s = parse("alert tcp [1.2.3.4, 5.6.7.0/24] [80, 443] -> any any (sid:1;)");
    if (!s)
        fail_msg("%s", err);
    assert_true(m4(s->src, 5, 6, 7, 9));
    assert_false(m4(s->src, 1, 2, 3, 5));
    assert_true(port_set_match(s->sp, 443));
    assert_false(port_set_match(s->sp, 444));
    assert_true(addr_set_is_any(s->dst));
    assert_true(port_set_is_any(s->dp));
    sig_free(s);
}

/* ---- addresses ---------------------------------------------------------- */

static void test_address_single_cidr_netmask_and_range(void **state)
{
    (void)state;
    struct addr_set *a = aparse(NULL, "10.1.2.3");
    assert_true(m4(a, 10, 1, 2, 3));
    assert_false(m4(a, 10, 1, 2, 4));
    assert_false(addr_set_is_any(a));
    addr_set_free(a);

    a = aparse(NULL, "10.1.2.77/24");   /* host bits are ignored */
    assert_true(m4(a, 10, 1, 2, 0));
    assert_true(m4(a, 10, 1, 2, 255));
    assert_false(m4(a, 10, 1, 3, 0));
    addr_set_free(a);

    a = aparse(NULL, "10.0.0.0/255.255.0.0");
    assert_true(m4(a, 10, 0, 200, 1));
    assert_false(m4(a, 10, 1, 0, 0));
    addr_set_free(a);

    a = aparse(NULL, "10.0.0.5-10.0.0.9");
    assert_false(m4(a, 10, 0, 0, 4));
    assert_true(m4(a, 10, 0, 0, 5));
    assert_true(m4(a, 10, 0, 0, 9));
    assert_false(m4(a, 10, 0, 0, 10));
    addr_set_free(a);

    a = aparse(NULL, "0.0.0.0/0");
    assert_true(m4(a, 255, 255, 255, 255));
    assert_false(m6(a, "::1"));
    addr_set_free(a);
}

static void test_address_any_matches_both_families(void **state)
{
    (void)state;
    struct addr_set *a = aparse(NULL, "any");
    assert_true(addr_set_is_any(a));
    assert_true(m4(a, 1, 2, 3, 4));
    assert_true(m6(a, "2001:db8::1"));
    addr_set_free(a);
    assert_null(addr_set_parse(NULL, "!any", err, sizeof err));
    assert_string_equal(err, "'!any' matches nothing");
}

static void test_address_ipv6(void **state)
{
    (void)state;
    struct addr_set *a = aparse(NULL, "2001:db8::/32");
    assert_true(m6(a, "2001:db8:ffff::1"));
    assert_false(m6(a, "2001:db9::1"));
    assert_false(m4(a, 32, 1, 13, 184));
    addr_set_free(a);
    a = aparse(NULL, "[::1, fe80::/10, 192.168.1.1]");
    assert_true(m6(a, "::1"));
    assert_false(m6(a, "::2"));
    assert_true(m6(a, "febf:ffff::1"));
    assert_true(m4(a, 192, 168, 1, 1));
    addr_set_free(a);
    a = aparse(NULL, "::/0");
    assert_true(m6(a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    assert_true(m6(a, "::"));
    addr_set_free(a);
    assert_null(addr_set_parse(NULL, "::1/129", err, sizeof err));
    assert_string_equal(err, "bad address '::1/129'");
}

static void test_address_negation_and_nested_lists(void **state)
{
    (void)state;
    struct addr_set *a = aparse(NULL, "!10.0.0.0/8");
    assert_false(m4(a, 10, 9, 9, 9));
    assert_true(m4(a, 11, 0, 0, 0));
    assert_true(m4(a, 9, 255, 255, 255));
    assert_true(m6(a, "::1"));    /* only negations: every other address, IPv6 too */
    addr_set_free(a);

    a = aparse(NULL, "[10.0.0.0/8, !10.1.0.0/16, 192.168.0.1]");
    assert_true(m4(a, 10, 2, 0, 0));
    assert_false(m4(a, 10, 1, 5, 5));
    assert_true(m4(a, 192, 168, 0, 1));
    assert_false(m4(a, 192, 168, 0, 2));
    addr_set_free(a);

    a = aparse(NULL, "[!1.1.1.1, !2.2.2.2]");   /* only negations: any minus those */
    assert_false(m4(a, 1, 1, 1, 1));
    assert_false(m4(a, 2, 2, 2, 2));
    assert_true(m4(a, 3, 3, 3, 3));
    addr_set_free(a);

    a = aparse(NULL, "![1.0.0.0/8, [2.0.0.0/8, !2.2.0.0/16]]");
    assert_false(m4(a, 1, 5, 5, 5));
    assert_false(m4(a, 2, 5, 5, 5));
    assert_true(m4(a, 2, 2, 5, 5));
    assert_true(m4(a, 3, 0, 0, 0));
    addr_set_free(a);

    assert_null(addr_set_parse(NULL, "[1.2.3.4,!1.2.3.4]", err, sizeof err));
    assert_string_equal(err, "address '[1.2.3.4,!1.2.3.4]' matches nothing");
    assert_null(addr_set_parse(NULL, "[1.2.3.4", err, sizeof err));
    assert_string_equal(err, "unbalanced brackets in '[1.2.3.4'");
}

static void test_address_default_variables(void **state)
{
    (void)state;
    struct addr_set *home = aparse(NULL, "$HOME_NET");
    assert_true(m4(home, 192, 168, 3, 4));
    assert_true(m4(home, 10, 0, 0, 1));
    assert_true(m4(home, 172, 31, 255, 255));
    assert_false(m4(home, 172, 32, 0, 0));
    assert_false(m4(home, 8, 8, 8, 8));
    struct addr_set *ext = aparse(NULL, "$EXTERNAL_NET");
    assert_false(m4(ext, 192, 168, 3, 4));
    assert_true(m4(ext, 8, 8, 8, 8));
    struct addr_set *http = aparse(NULL, "$HTTP_SERVERS");
    assert_true(m4(http, 10, 0, 0, 1));
    assert_false(m4(http, 8, 8, 8, 8));
    addr_set_free(home);
    addr_set_free(ext);
    addr_set_free(http);
}

static void test_variables_come_from_the_config(void **state)
{
    (void)state;
    struct conf *c = conf_from("vars:\n"
                               "  address-groups:\n"
                               "    HOME_NET: \"[10.0.0.0/8, 2001:db8::/32]\"\n"
                               "    LAB: \"[$HOME_NET, !10.9.0.0/16]\"\n"
                               "    LOOP_A: \"$LOOP_B\"\n"
                               "    LOOP_B: \"$LOOP_A\"\n"
                               "  port-groups:\n"
                               "    HTTP_PORTS: \"[80, 8080:8089]\"\n");
    struct addr_set *a = aparse(c, "$LAB");
    assert_true(m4(a, 10, 1, 0, 0));
    assert_false(m4(a, 10, 9, 1, 1));
    assert_true(m6(a, "2001:db8::5"));
    addr_set_free(a);
    a = aparse(c, "$EXTERNAL_NET");   /* default definition over the configured HOME_NET */
    assert_false(m4(a, 10, 1, 1, 1));
    assert_true(m4(a, 192, 168, 1, 1));
    assert_false(m6(a, "2001:db8::5"));
    assert_true(m6(a, "2001:db9::5"));
    addr_set_free(a);
    assert_null(addr_set_parse(c, "$LOOP_A", err, sizeof err));
    assert_string_equal(err, "variable $LOOP_A nests too deeply (a cycle?)");

    struct port_set *p = pparse(c, "$HTTP_PORTS");
    assert_true(port_set_match(p, 8085));
    assert_false(port_set_match(p, 81));
    port_set_free(p);
    p = pparse(c, "$FILE_DATA_PORTS");   /* default referring to the configured one */
    assert_true(port_set_match(p, 8080));
    assert_true(port_set_match(p, 143));
    assert_false(port_set_match(p, 25));
    port_set_free(p);
    conf_free(c);
}

static void test_large_address_list_parses(void **state)
{
    (void)state;
    char *buf = malloc(64 * 1024);
    size_t o = 0;
    buf[o++] = '[';
    for (int i = 0; i < 2000; i++)
        o += (size_t)sprintf(buf + o, "%s%d.%d.%d.%d", i ? "," : "", 1 + i % 200, i / 200,
                             i % 7, 1);
    buf[o++] = ']';
    buf[o] = '\0';
    struct addr_set *a = aparse(NULL, buf);
    assert_true(m4(a, 1, 0, 0, 1));
    assert_true(m4(a, 200, 9, 4, 1));   /* i = 1999 */
    assert_false(m4(a, 1, 0, 0, 2));
    addr_set_free(a);
    free(buf);
}

/* ---- ports -------------------------------------------------------------- */

static void test_port_forms(void **state)
{
    (void)state;
    struct port_set *p = pparse(NULL, "any");
    assert_true(port_set_is_any(p));
    assert_true(port_set_match(p, 0));
    assert_true(port_set_match(p, 65535));
    port_set_free(p);

    p = pparse(NULL, "1024:");
    assert_false(port_set_match(p, 1023));
    assert_true(port_set_match(p, 1024));
    assert_true(port_set_match(p, 65535));
    port_set_free(p);

    p = pparse(NULL, ":1024");
    assert_true(port_set_match(p, 0));
    assert_true(port_set_match(p, 1024));
    assert_false(port_set_match(p, 1025));
    port_set_free(p);

    p = pparse(NULL, "[80:90, !85, 443]");
    assert_true(port_set_match(p, 80));
    assert_false(port_set_match(p, 85));
    assert_true(port_set_match(p, 90));
    assert_true(port_set_match(p, 443));
    assert_false(port_set_match(p, 91));
    port_set_free(p);

    p = pparse(NULL, "![80,443]");
    assert_false(port_set_match(p, 80));
    assert_true(port_set_match(p, 81));
    port_set_free(p);

    p = pparse(NULL, "$SHELLCODE_PORTS");
    assert_false(port_set_match(p, 80));
    assert_true(port_set_match(p, 8080));
    port_set_free(p);

    p = pparse(NULL, "$ORACLE_PORTS");
    assert_true(port_set_match(p, 1521));
    assert_false(port_set_match(p, 1522));
    port_set_free(p);
}

static void test_bad_ports(void **state)
{
    (void)state;
    static const struct {
        const char *text, *reason;
    } cases[] = {
        { "65536", "bad port '65536'" },
        { "90:80", "bad port range '90:80'" },
        { "http", "bad port 'http'" },
        { ":", "bad port ':'" },
        { "[80,!80]", "port '[80,!80]' matches nothing" },
        { "[80,", "empty element in ''" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        err[0] = '\0';
        assert_null(port_set_parse(NULL, cases[i].text, err, sizeof err));
        assert_string_equal(err, cases[i].reason);
    }
}

/* ---- options ------------------------------------------------------------ */

static void test_basic_options_and_defaults(void **state)
{
    (void)state;
    struct sig *s = parse("alert tcp any any -> any any (msg:\"hello world\"; sid:42; rev:3;)");
    assert_non_null(s);
    assert_string_equal(s->msg, "hello world");
    assert_int_equal(s->id, 42);
    assert_int_equal(s->rev, 3);
    assert_int_equal(s->gid, 1);
    assert_int_equal(s->priority, 3);
    sig_free(s);

    s = parse("alert tcp any any -> any any ( sid : 7 ; gid:3; priority:1; )");
    assert_non_null(s);
    assert_int_equal(s->id, 7);
    assert_int_equal(s->gid, 3);
    assert_int_equal(s->priority, 1);
    assert_int_equal(s->rev, 0);
    assert_string_equal(s->msg, "");
    sig_free(s);
}

static void test_option_errors_have_clear_reasons(void **state)
{
    (void)state;
    expect_reject("alert tcp any any -> any any (msg:\"x\"; asn1:oversize_length 1; sid:1;)",
                  "unsupported keyword 'asn1'");
    expect_reject("alert tcp any any -> any any (msg:\"x\";)", "rule has no sid");
    expect_reject("alert tcp any any -> any any (content:\"a\"; nocase:1; sid:1;)",
                  "keyword 'nocase' takes no value");
    expect_reject("alert tcp any any -> any any (sid;)", "keyword 'sid' needs a value");
    expect_reject("alert tcp any any -> any any (sid:;)", "keyword 'sid' needs a value");
    expect_reject("alert tcp any any -> any any (sid:1; rev:2)",
                  "option 'rev' is not terminated by ';'");
    expect_reject("alert tcp any any -> any any (sid:1; ;)", "empty option name");
}

static void test_sticky_buffer_sets_buffers_mask(void **state)
{
    (void)state;
    struct sig *s = parse("alert http any any -> any any (content:\"a\"; http.uri; "
                          "content:\"b\"; sid:1;)");
    if (!s)
        fail_msg("%s", err);
    assert_true(sig_buffer_used(s, BUF_PAYLOAD));
    assert_true(sig_buffer_used(s, BUF_HTTP_URI));
    assert_false(sig_buffer_used(s, BUF_HTTP_HOST));
    assert_int_equal(s->buffers_mask, (1ULL << BUF_PAYLOAD) | (1ULL << BUF_HTTP_URI));
    sig_free(s);
}



/* ---- rule files --------------------------------------------------------- */

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/caracal-rules-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* Runs detect_build_load_file with stderr captured into *msgs. */
static int load_capturing(struct detect_build *b, const char *path, char **msgs)
{
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    dup2(fileno(tmp), 2);
    int rc = detect_build_load_file(b, path);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    long n = ftell(tmp);
    rewind(tmp);
    *msgs = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(*msgs, 1, (size_t)n, tmp), (size_t)n);
    fclose(tmp);
    return rc;
}

static void test_rule_file_comments_continuations_and_errors(void **state)
{
    (void)state;
    char *path = write_temp(
        "# a comment\n"
        "\n"
        "   \t\n"
        "#alert tcp any any -> any any (msg:\"disabled\"; sid:99;)\n"
        "alert tcp any any -> any any (msg:\"one\"; sid:1;)\n"
        "alert tcp any any -> \\\n"
        "    any 80 (msg:\"two\"; \\\n"
        "    sid:2;)\r\n"
        "alert tcp any any -> any any (msg:\"bad\"; asn1:x; sid:3;)\n"
        "alert smtp any any -> any any (msg:\"proto\"; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"again\"; asn1:y; sid:5;)\n"
        "alert tcp any any -> any any (msg:\"dup\"; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"other gid\"; sid:1; gid:2;)\n"
        "alert tcp any any -> any any (msg:\"no sid\";)\n");
    struct detect_load_report rep = { 0 };
    struct detect_build *b = detect_build_new(NULL, &rep);
    char *msgs;
    assert_int_equal(load_capturing(b, path, &msgs), 0);
    assert_int_equal(rep.files, 1);
    assert_int_equal(rep.loaded, 3);
    assert_int_equal(rep.failed, 5);
    assert_int_equal(b->nsigs, 3);
    assert_string_equal(b->sigs[1]->msg, "two");
    assert_int_equal(b->sigs[1]->line, 6);
    assert_string_equal(b->sigs[1]->file, path);
    assert_true(port_set_match(b->sigs[1]->dp, 80));
    assert_false(port_set_match(b->sigs[1]->dp, 81));
    assert_int_equal(b->sigs[2]->gid, 2);

    char expect[1024];
    snprintf(expect, sizeof expect,
             "caracal: error: %s:9: unsupported keyword 'asn1' (sid 3)\n"
             "caracal: error: %s:10: unsupported protocol 'smtp' (sid 4)\n"
             "caracal: error: %s:11: unsupported keyword 'asn1' (sid 5)\n"
             "caracal: error: %s:12: duplicate sid 1 (sid 1)\n"
             "caracal: error: %s:14: rule has no sid\n",
             path, path, path, path, path);
    assert_string_equal(msgs, expect);

    assert_int_equal(rep.nreasons, 4);
    assert_string_equal(rep.reasons[0].reason, "unsupported keyword 'asn1'");
    assert_int_equal(rep.reasons[0].n, 2);
    assert_string_equal(rep.reasons[1].reason, "unsupported protocol 'smtp'");
    assert_string_equal(rep.reasons[2].reason, "duplicate sid 1");

    /* a second file in the same build sees the sids of the first */
    free(msgs);
    assert_int_equal(load_capturing(b, path, &msgs) == 0, 1);
    assert_int_equal(rep.files, 2);
    assert_int_equal(rep.loaded, 3);
    free(msgs);

    for (unsigned i = 0; i < rep.nreasons; i++)
        free(rep.reasons[i].reason);
    free(rep.reasons);
    detect_build_free(b);
    unlink(path);
    free(path);
}

static void test_unreadable_rule_file(void **state)
{
    (void)state;
    struct detect_load_report rep = { 0 };
    struct detect_build *b = detect_build_new(NULL, &rep);
    char *msgs;
    assert_int_equal(load_capturing(b, "/nonexistent/x.rules", &msgs), -1);
    assert_int_equal(rep.files_unreadable, 1);
    assert_int_equal(rep.files, 0);
    assert_non_null(strstr(msgs, "/nonexistent/x.rules: cannot read rule file"));
    free(msgs);
    detect_build_free(b);
}

static void test_very_long_rule_line(void **state)
{
    (void)state;
    size_t cap = 200 * 1024, o = 0;
    char *text = malloc(cap);
    o += (size_t)sprintf(text + o, "alert ip [");
    for (int i = 0; i < 5000; i++)
        o += (size_t)sprintf(text + o, "%s10.%d.%d.1", i ? "," : "", i / 250, i % 250);
    o += (size_t)sprintf(text + o, "] any -> $HOME_NET any (msg:\"long\"; sid:9;)\n");
    char *path = write_temp(text);
    struct detect_load_report rep = { 0 };
    struct detect_build *b = detect_build_new(NULL, &rep);
    char *msgs;
    assert_int_equal(load_capturing(b, path, &msgs), 0);
    assert_string_equal(msgs, "");
    assert_int_equal(rep.loaded, 1);
    assert_true(m4(b->sigs[0]->src, 10, 19, 249, 1));
    free(msgs);
    detect_build_free(b);
    unlink(path);
    free(path);
    free(text);
}

/* ---- buffers ------------------------------------------------------------ */

static void test_buffer_names_aliases_and_modifiers(void **state)
{
    (void)state;
    assert_int_equal(buffer_lookup("http.uri"), BUF_HTTP_URI);
    assert_int_equal(buffer_lookup("pkt_data"), BUF_PAYLOAD);
    assert_int_equal(buffer_lookup("file_data"), BUF_FILE_DATA);
    assert_int_equal(buffer_lookup("file.data"), BUF_FILE_DATA);
    assert_int_equal(buffer_lookup("dns_query"), BUF_DNS_QUERY);
    assert_int_equal(buffer_lookup("tls_sni"), BUF_TLS_SNI);
    assert_int_equal(buffer_lookup("tls_cert_issuer"), BUF_TLS_CERT_ISSUER);
    assert_int_equal(buffer_lookup("ja3_hash"), BUF_JA3_HASH);
    assert_int_equal(buffer_lookup("ja3.hash"), BUF_JA3_HASH);
    assert_int_equal(buffer_lookup("ja3s.hash"), BUF_JA3S_HASH);
    assert_int_equal(buffer_lookup("http_uri"), -1);   /* a modifier, not a sticky name */
    assert_int_equal(buffer_lookup("nope"), -1);
    assert_int_equal(buffer_lookup_modifier("http_uri"), BUF_HTTP_URI);
    assert_int_equal(buffer_lookup_modifier("http_client_body"), BUF_HTTP_REQUEST_BODY);
    assert_int_equal(buffer_lookup_modifier("http_raw_header"), BUF_HTTP_HEADER_RAW);
    assert_int_equal(buffer_lookup_modifier("http.uri"), -1);
    assert_string_equal(buffer_name(BUF_TLS_SNI), "tls.sni");
    assert_int_equal(buffer_app(BUF_TLS_SNI), APP_TLS);
    assert_int_equal(buffer_app(BUF_DNS_QUERY), APP_DNS);
    assert_int_equal(buffer_app(BUF_HTTP_HOST), APP_HTTP);
    assert_int_equal(buffer_app(BUF_PAYLOAD), APP_NONE);
    assert_true(BUF_COUNT <= 64);   /* buffers_mask is 64 bits */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_action_maps_to_its_action),
        cmocka_unit_test(test_each_protocol_maps_to_ip_proto_and_app),
        cmocka_unit_test(test_unparsed_protocols_are_rejected_by_name),
        cmocka_unit_test(test_directions),
        cmocka_unit_test(test_malformed_headers),
        cmocka_unit_test(test_header_lists_may_contain_spaces),
        cmocka_unit_test(test_address_single_cidr_netmask_and_range),
        cmocka_unit_test(test_address_any_matches_both_families),
        cmocka_unit_test(test_address_ipv6),
        cmocka_unit_test(test_address_negation_and_nested_lists),
        cmocka_unit_test(test_address_default_variables),
        cmocka_unit_test(test_variables_come_from_the_config),
        cmocka_unit_test(test_large_address_list_parses),
        cmocka_unit_test(test_port_forms),
        cmocka_unit_test(test_bad_ports),
        cmocka_unit_test(test_basic_options_and_defaults),
        cmocka_unit_test(test_option_errors_have_clear_reasons),
        cmocka_unit_test(test_sticky_buffer_sets_buffers_mask),

        cmocka_unit_test(test_rule_file_comments_continuations_and_errors),
        cmocka_unit_test(test_unreadable_rule_file),
        cmocka_unit_test(test_very_long_rule_line),
        cmocka_unit_test(test_buffer_names_aliases_and_modifiers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
