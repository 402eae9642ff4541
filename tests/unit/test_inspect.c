/*
 * Unit tests for the payload keywords (kw_content.c, kw_sticky.c, kw_pcre.c,
 * kw_byte.c, kw_base64.c) and the inspection engine (inspect.c).
 *
 * Signatures are built by calling the setup functions of kw_payload_table
 * directly, option by option, with the value forms rule_parse.c produces
 * (content unquoted, pcre without its outer quotes) or raw quoted values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "detect/kw_payload.h"

/* ---- Helpers ---------------------------------------------------------------- */

struct rule {
    struct sig *s;
    struct parse_state ps;
    char err[256];
};

static const struct keyword *kw_find(const char *name)
{
    for (const struct keyword *k = kw_payload_table; k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

static void rule_init(struct rule *r)
{
    memset(r, 0, sizeof *r);
    r->s = calloc(1, sizeof *r->s);
    assert_non_null(r->s);
    r->s->fp_buf = -1;
    r->ps.cur_buf = BUF_PAYLOAD;
    r->ps.last_content_buf = BUF_PAYLOAD;
}

/* Applies one option; the keyword must exist. */
static int opt(struct rule *r, const char *name, const char *value)
{
    const struct keyword *k = kw_find(name);
    assert_non_null(k);
    r->err[0] = '\0';
    return k->setup(r->s, &r->ps, value, r->err, sizeof r->err);
}

/*
 * Builds a rule from "name:value; name; ..." (values passed raw, so quotes
 * and escapes are resolved by payload_value_split). Fails the test when an
 * option is rejected, unless want_err is set: then returns -1 with r->err.
 */
static int build_opts(struct rule *r, const char *opts, bool want_err)
{
    char *copy = strdup(opts), *p = copy;
    int rc = 0;
    rule_init(r);
    while (*p) {
        char *e = p;
        while (*e && !(*e == ';' && (e == p || e[-1] != '\\')))
            e++;
        char save = *e;
        *e = '\0';
        while (*p == ' ')
            p++;
        if (*p) {
            char *colon = strchr(p, ':');
            char *value = NULL;
            if (colon) {
                *colon = '\0';
                value = colon + 1;
            }
            if (opt(r, p, value) < 0) {
                if (!want_err)
                    fail_msg("option '%s' rejected: %s", p, r->err);
                rc = -1;
                break;
            }
        }
        if (!save)
            break;
        p = e + 1;
    }
    if (rc == 0 && payload_sig_finalize(r->s, r->err, sizeof r->err) < 0) {
        if (!want_err)
            fail_msg("finalize rejected: %s", r->err);
        rc = -1;
    }
    free(copy);
    return rc;
}

static void build(struct rule *r, const char *opts)
{
    build_opts(r, opts, false);
}

/* The rule must be rejected with a reason containing want. */
static void build_fails(const char *opts, const char *want)
{
    struct rule r;
    assert_int_equal(build_opts(&r, opts, true), -1);
    if (!strstr(r.err, want))
        fail_msg("'%s': reason '%s' lacks '%s'", opts, r.err, want);
    sig_free(r.s);
}

static struct detect_thread *thread(void)
{
    static struct detect_thread dt;
    if (!dt.is)
        dt.is = inspect_scratch_new();
    assert_non_null(dt.is);
    return &dt;
}

static struct inspect_env env;

static bool match_buf(struct rule *r, int buf, const void *data, size_t len)
{
    return inspect_buffer(thread(), r->s, buf, data, (uint32_t)len, &env);
}

static bool match(struct rule *r, const char *data)
{
    return match_buf(r, BUF_PAYLOAD, data, strlen(data));
}

/* Builds opts, then checks the data against the expected result. */
static void expect_n(const char *opts, int buf, const char *data, size_t len, bool want)
{
    struct rule r;
    build(&r, opts);
    bool got = match_buf(&r, buf, data, len);
    if (got != want)
        fail_msg("rule '%s' on '%s': got %d, want %d", opts, data, got, want);
    sig_free(r.s);
}

static void expect(const char *opts, int buf, const char *data, bool want)
{
    expect_n(opts, buf, data, strlen(data), want);
}

/* data is a string literal, NUL bytes included */
#define YES(opts, data) expect_n(opts, BUF_PAYLOAD, data, sizeof(data) - 1, true)
#define NO(opts, data) expect_n(opts, BUF_PAYLOAD, data, sizeof(data) - 1, false)

static const struct content *content_at(const struct sig *s, int buf, int idx)
{
    const struct sm *m = s->lists[buf];
    for (int i = 0; m; m = m->next) {
        if (m->type == SM_CONTENT && i++ == idx)
            return m->ctx;
    }
    return NULL;
}

static int list_len(const struct sig *s, int buf)
{
    int n = 0;
    for (const struct sm *m = s->lists[buf]; m; m = m->next)
        n++;
    return n;
}

/* ---- content parsing ---------------------------------------------------------- */

static void test_content_hex_blocks_and_escapes(void **state)
{
    (void)state;
    struct rule r;
    build(&r, "content:\"a|41 42|b|0d0A|\"; content:\"x\\;y\\\"z\\\\\"");
    const struct content *c = content_at(r.s, BUF_PAYLOAD, 0);
    assert_int_equal(c->len, 6);
    assert_memory_equal(c->pat, "aABb\r\n", 6);
    c = content_at(r.s, BUF_PAYLOAD, 1);
    assert_int_equal(c->len, 6);
    assert_memory_equal(c->pat, "x;y\"z\\", 6);
    sig_free(r.s);
}

static void test_content_negation_raw_and_parser_forms(void **state)
{
    (void)state;
    struct rule r;
    rule_init(&r);
    /* raw, as written in the rule */
    assert_int_equal(opt(&r, "content", "!\"abc\""), 0);
    /* as rule_parse.c hands it over: unquoted, '!' for negation */
    assert_int_equal(opt(&r, "content", "!abc"), 0);
    /* a literal leading '!' arrives as hex */
    assert_int_equal(opt(&r, "content", "|21|abc"), 0);
    assert_true(content_at(r.s, BUF_PAYLOAD, 0)->flags & CONTENT_NEGATED);
    assert_true(content_at(r.s, BUF_PAYLOAD, 1)->flags & CONTENT_NEGATED);
    const struct content *c = content_at(r.s, BUF_PAYLOAD, 2);
    assert_false(c->flags & CONTENT_NEGATED);
    assert_memory_equal(c->pat, "!abc", 4);
    sig_free(r.s);
}

static void test_content_parse_errors(void **state)
{
    (void)state;
    build_fails("content:\"\"", "'content' is empty");
    build_fails("content:\"||\"", "'content' is empty");
    build_fails("content:\"|4|\"", "odd number of hex digits");
    build_fails("content:\"|4G|\"", "invalid hex character 'G'");
    build_fails("content:\"|41\"", "unterminated hex block");
    build_fails("content:\"abc", "no closing quote");
    build_fails("content:\"a\\qb\"", "invalid escape");
}

static void test_modifiers_need_a_content(void **state)
{
    (void)state;
    build_fails("nocase", "'nocase' needs a preceding content");
    build_fails("depth:3", "'depth' needs a preceding content");
    build_fails("offset:3", "'offset' needs a preceding content");
    build_fails("distance:0", "'distance' needs a preceding content");
    build_fails("within:3", "'within' needs a preceding content");
    build_fails("startswith", "'startswith' needs a preceding content");
    build_fails("endswith", "'endswith' needs a preceding content");
    build_fails("fast_pattern", "'fast_pattern' needs a preceding content");
    build_fails("rawbytes", "'rawbytes' needs a preceding content");
    /* a sticky buffer starts afresh */
    build_fails("content:\"a\"; http.uri; nocase", "'nocase' needs a preceding content");
}

static void test_modifier_conflicts(void **state)
{
    (void)state;
    build_fails("content:\"abc\"; depth:3; distance:0", "'distance' can't be mixed with");
    build_fails("content:\"abc\"; within:3; offset:1", "'offset' can't be mixed with");
    build_fails("content:\"abc\"; depth:2", "'depth' 2 is smaller than the content length 3");
    build_fails("content:\"abc\"; within:2", "'within' 2 is smaller than the content length");
    build_fails("content:\"abc\"; depth:5; depth:6", "'depth' given twice");
    build_fails("content:\"abc\"; nocase; nocase", "'nocase' given twice");
    build_fails("content:\"abc\"; startswith; offset:1", "can't be mixed with 'startswith'");
    build_fails("content:\"abc\"; depth:4; startswith", "'startswith' can't be mixed");
    build_fails("content:\"abc\"; offset:-1", "out of range");
    build_fails("content:\"abc\"; distance:x", "unknown variable 'x' in 'distance'");
    build_fails("content:\"abc\"; depth:4x", "invalid number");
}

static void test_content_position_values(void **state)
{
    (void)state;
    struct rule r;
    build(&r, "content:\"abc\"; offset:2; depth:5; content:\"d\"; distance:-3; within:10");
    const struct content *c = content_at(r.s, BUF_PAYLOAD, 0);
    assert_int_equal(c->offset, 2);
    assert_int_equal(c->depth, 5);
    assert_true((c->flags & (CONTENT_OFFSET | CONTENT_DEPTH)) ==
                (CONTENT_OFFSET | CONTENT_DEPTH));
    assert_false(c->flags & CONTENT_RELATIVE);
    c = content_at(r.s, BUF_PAYLOAD, 1);
    assert_int_equal(c->distance, -3);
    assert_int_equal(c->within, 10);
    assert_true(c->flags & CONTENT_RELATIVE);
    sig_free(r.s);
}

static void test_fast_pattern_forms(void **state)
{
    (void)state;
    struct rule r;
    build(&r, "content:\"abcdef\"; fast_pattern");
    assert_true(content_at(r.s, BUF_PAYLOAD, 0)->flags & CONTENT_FAST_PATTERN);
    sig_free(r.s);
    build(&r, "content:\"abcdef\"; fast_pattern:only");
    assert_true(content_at(r.s, BUF_PAYLOAD, 0)->flags & CONTENT_FP_ONLY);
    sig_free(r.s);
    build(&r, "content:\"abcdef\"; fast_pattern:2,3");
    const struct content *c = content_at(r.s, BUF_PAYLOAD, 0);
    assert_true(c->flags & CONTENT_FP_CHOP);
    assert_int_equal(c->fp_chop_off, 2);
    assert_int_equal(c->fp_chop_len, 3);
    sig_free(r.s);
    /* fast_pattern may come before the modifiers */
    build(&r, "content:\"abc\"; fast_pattern; nocase; depth:10");
    sig_free(r.s);
}

static void test_fast_pattern_errors(void **state)
{
    (void)state;
    build_fails("content:\"abc\"; fast_pattern:2,2", "goes past the content length");
    build_fails("content:\"abc\"; fast_pattern:1,0", "out of range");
    build_fails("content:\"abc\"; fast_pattern:x", "invalid 'fast_pattern' value");
    build_fails("content:\"abc\"; fast_pattern; content:\"d\"; fast_pattern",
                "only one content");
    build_fails("content:\"abc\"; fast_pattern; fast_pattern", "given twice");
    build_fails("content:!\"abc\"; fast_pattern:only", "negated");
    build_fails("content:\"abc\"; depth:5; fast_pattern:only", "can't be used with depth");
    build_fails("content:\"abc\"; fast_pattern:only; depth:5", "'fast_pattern:only'");
    build_fails("content:\"a\"; content:!\"abc\"; distance:0; fast_pattern", "negated");
}

static void test_rawbytes_is_accepted_on_payload_only(void **state)
{
    (void)state;
    struct rule r;
    build(&r, "content:\"abc\"; rawbytes");
    assert_true(content_at(r.s, BUF_PAYLOAD, 0)->flags & CONTENT_RAWBYTES);
    sig_free(r.s);
    build_fails("http.uri; content:\"abc\"; rawbytes", "'rawbytes' can't be used");
    build_fails("content:\"abc\"; rawbytes; http_uri", "can't be mixed with 'rawbytes'");
}

/* ---- Sticky buffers and legacy modifiers --------------------------------------- */

static void test_sticky_buffers_and_aliases(void **state)
{
    (void)state;
    static const struct {
        const char *kw;
        int buf;
    } cases[] = {
        { "http.uri", BUF_HTTP_URI },        { "file_data", BUF_FILE_DATA },
        { "file.data", BUF_FILE_DATA },      { "dns_query", BUF_DNS_QUERY },
        { "dns.query", BUF_DNS_QUERY },      { "tls_sni", BUF_TLS_SNI },
        { "tls.certs", BUF_TLS_CERTS },      { "tls_cert_subject", BUF_TLS_CERT_SUBJECT },
        { "tls_cert_issuer", BUF_TLS_CERT_ISSUER },
        { "tls_cert_serial", BUF_TLS_CERT_SERIAL },
        { "tls_cert_fingerprint", BUF_TLS_CERT_FINGERPRINT },
        { "ja3_hash", BUF_JA3_HASH },        { "ja3.hash", BUF_JA3_HASH },
        { "ja3_string", BUF_JA3_STRING },    { "ja3s.hash", BUF_JA3S_HASH },
        { "ja3s_hash", BUF_JA3S_HASH },      { "http.header_names", BUF_HTTP_HEADER_NAMES },
        { "http_header_names", BUF_HTTP_HEADER_NAMES },
        { "http.request_line", BUF_HTTP_REQUEST_LINE },
        { "http.uri.raw", BUF_HTTP_URI_RAW },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rule r;
        rule_init(&r);
        assert_int_equal(opt(&r, cases[i].kw, NULL), 0);
        assert_int_equal(opt(&r, "content", "x"), 0);
        if (list_len(r.s, cases[i].buf) != 1)
            fail_msg("%s did not select %s", cases[i].kw, buffer_name(cases[i].buf));
        /* every alias agrees with buffers.c */
        assert_int_equal(buffer_lookup(cases[i].kw), cases[i].buf);
        sig_free(r.s);
    }
    /* pkt_data goes back to the payload */
    struct rule r;
    build(&r, "http.uri; content:\"a\"; pkt_data; content:\"b\"");
    assert_int_equal(list_len(r.s, BUF_HTTP_URI), 1);
    assert_int_equal(list_len(r.s, BUF_PAYLOAD), 1);
    sig_free(r.s);
}

static void test_every_buffer_has_a_sticky_keyword(void **state)
{
    (void)state;
    for (int b = 0; b < BUF_COUNT; b++) {
        const struct keyword *k = kw_find(buffer_name(b));
        if (!k || !(k->flags & KW_NOVALUE))
            fail_msg("no sticky keyword for %s", buffer_name(b));
    }
}

static void test_legacy_modifier_moves_last_content(void **state)
{
    (void)state;
    struct rule r;
    build(&r, "content:\"GET\"; http_method; content:\"/a\"; http_uri; content:\"x\"; "
              "content:\"b\"; distance:0; http_uri");
    assert_int_equal(list_len(r.s, BUF_HTTP_METHOD), 1);
    assert_int_equal(list_len(r.s, BUF_HTTP_URI), 2);
    assert_int_equal(list_len(r.s, BUF_PAYLOAD), 1);
    const struct content *b = content_at(r.s, BUF_HTTP_URI, 1);
    assert_memory_equal(b->pat, "b", 1);
    assert_true(b->flags & CONTENT_RELATIVE);
    /* the relative content is relative to the previous uri match */
    assert_true(match_buf(&r, BUF_HTTP_URI, "/a/b", 4));
    assert_false(match_buf(&r, BUF_HTTP_URI, "b/a", 3));
    sig_free(r.s);
    /* a modifier after nocase still applies to the content */
    build(&r, "content:\"Host\"; nocase; http_header");
    assert_true(content_at(r.s, BUF_HTTP_HEADER, 0)->flags & CONTENT_NOCASE);
    sig_free(r.s);
}

static void test_each_legacy_modifier_maps_to_its_buffer(void **state)
{
    (void)state;
    static const struct {
        const char *kw;
        int buf;
    } cases[] = {
        { "http_uri", BUF_HTTP_URI },
        { "http_raw_uri", BUF_HTTP_URI_RAW },
        { "http_method", BUF_HTTP_METHOD },
        { "http_header", BUF_HTTP_HEADER },
        { "http_raw_header", BUF_HTTP_HEADER_RAW },
        { "http_cookie", BUF_HTTP_COOKIE },
        { "http_user_agent", BUF_HTTP_USER_AGENT },
        { "http_host", BUF_HTTP_HOST },
        { "http_raw_host", BUF_HTTP_HOST_RAW },
        { "http_client_body", BUF_HTTP_REQUEST_BODY },
        { "http_server_body", BUF_HTTP_RESPONSE_BODY },
        { "http_stat_code", BUF_HTTP_STAT_CODE },
        { "http_stat_msg", BUF_HTTP_STAT_MSG },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rule r;
        rule_init(&r);
        assert_int_equal(opt(&r, "content", "x"), 0);
        assert_int_equal(opt(&r, cases[i].kw, NULL), 0);
        assert_int_equal(list_len(r.s, cases[i].buf), 1);
        assert_int_equal(list_len(r.s, BUF_PAYLOAD), 0);
        assert_int_equal(buffer_lookup_modifier(cases[i].kw), cases[i].buf);
        sig_free(r.s);
    }
}

static void test_legacy_modifier_errors(void **state)
{
    (void)state;
    build_fails("http_uri", "'http_uri' needs a preceding content");
    build_fails("content:\"a\"; http_uri; http_header", "already bound to 'http.uri'");
    build_fails("file_data; content:\"a\"; http_uri", "sticky buffer 'file.data'");
}

static void test_uricontent_goes_to_http_uri(void **state)
{
    (void)state;
    struct rule r;
    build(&r, "uricontent:\"/x\"; nocase");
    assert_int_equal(list_len(r.s, BUF_HTTP_URI), 1);
    assert_true(content_at(r.s, BUF_HTTP_URI, 0)->flags & CONTENT_NOCASE);
    sig_free(r.s);
}

static void test_http_host_patterns_must_be_lowercase(void **state)
{
    (void)state;
    build_fails("http.host; content:\"Example.com\"", "uppercase");
    build_fails("content:\"Example.com\"; http_host", "uppercase");
    struct rule r;
    build(&r, "http.host; content:\"Example.com\"; nocase");
    sig_free(r.s);
    build(&r, "http.host.raw; content:\"Example.com\"");
    sig_free(r.s);
}

/* ---- content matching --------------------------------------------------------- */

static void test_content_alone_and_nocase(void **state)
{
    (void)state;
    YES("content:\"cde\"", "abcdefg");
    NO("content:\"cdx\"", "abcdefg");
    NO("content:\"CDE\"", "abcdefg");
    YES("content:\"CDE\"; nocase", "abcdefg");
    YES("content:\"|00 ff|\"", "a\xff\x00\xff");
    NO("content:\"abcdefgh\"", "abcdefg");
}

static void test_offset_and_depth_are_absolute(void **state)
{
    (void)state;
    YES("content:\"cd\"; offset:2", "abcdef");
    NO("content:\"cd\"; offset:3", "abcdef");
    YES("content:\"cd\"; depth:4", "abcdef");
    NO("content:\"cd\"; depth:3", "abcdef");
    /* depth counts from offset */
    YES("content:\"de\"; offset:2; depth:3", "abcdef");
    NO("content:\"ef\"; offset:2; depth:3", "abcdef");
    YES("content:\"ef\"; depth:3; offset:3", "abcdef");
}

static void test_distance_and_within_are_relative(void **state)
{
    (void)state;
    YES("content:\"ab\"; content:\"ef\"; distance:2", "abcdef");
    NO("content:\"ab\"; content:\"ef\"; distance:3", "abcdef");
    YES("content:\"ab\"; content:\"cd\"; within:2", "abcdef");
    NO("content:\"ab\"; content:\"de\"; within:2", "abcdef");
    YES("content:\"ab\"; content:\"de\"; distance:1; within:2", "abcdef");
    /* negative distance looks back */
    YES("content:\"cd\"; content:\"bc\"; distance:-3; within:2", "abcdef");
    /* distance:0 only: anywhere after */
    NO("content:\"ef\"; content:\"ab\"; distance:0", "abcdef");
    /* a relative content with nothing before is relative to the start */
    YES("content:\"ab\"; within:2", "abcdef");
}

static void test_relative_chain_retries_later_occurrences(void **state)
{
    (void)state;
    const char *rule = "content:\"a\"; content:\"b\"; distance:0; within:1";
    YES(rule, "a-a-a-ab");
    NO(rule, "a-a-a-a-b");
    /* three levels: only the last 'x' leads to y then z */
    YES("content:\"x\"; content:\"y\"; within:1; content:\"z\"; within:1", "xyxyaxyz");
    NO("content:\"x\"; content:\"y\"; within:1; content:\"z\"; within:1", "xyxyaxy");
    /* with an absolute content in between, no retry is needed */
    YES("content:\"a\"; content:\"q\"; content:\"b\"; distance:0", "aqb");
}

static void test_negated_contents(void **state)
{
    (void)state;
    YES("content:!\"evil\"", "good");
    NO("content:!\"evil\"", "very evil");
    YES("content:\"a\"; content:!\"evil\"", "a good");
    NO("content:\"a\"; content:!\"evil\"", "a evil");
    /* relative negation: some 'a' not followed by 'b' */
    const char *rule = "content:\"a\"; content:!\"b\"; within:1";
    YES(rule, "abac");
    NO(rule, "abab");
    YES(rule, "aba");
    /* a negated content leaves the position where the last match ended */
    YES("content:\"a\"; content:!\"x\"; distance:0; content:\"b\"; within:1", "ab");
    /* outside its window a negated content does not count */
    YES("content:\"a\"; content:!\"x\"; distance:2; within:1", "abxc");
    YES("content:\"a\"; content:!\"x\"; distance:2; within:1", "abx");
    NO("content:\"a\"; content:!\"x\"; distance:2; within:1", "abcx");
}

static void test_startswith_and_endswith(void **state)
{
    (void)state;
    YES("content:\"abc\"; startswith", "abcdef");
    NO("content:\"bcd\"; startswith", "abcdef");
    YES("content:\"def\"; endswith", "abcdef");
    NO("content:\"cde\"; endswith", "abcdef");
    YES("content:\"abcdef\"; startswith; endswith", "abcdef");
    NO("content:\"abcdef\"; startswith; endswith", "abcdefg");
    /* endswith on a relative content */
    YES("content:\"b\"; content:\"ef\"; distance:0; endswith", "abcdef");
    NO("content:\"e\"; content:\"ef\"; distance:0; endswith", "abcdef");
    YES("content:\"abc\"; content:!\"f\"; endswith", "abcdeg");
    NO("content:\"abc\"; content:!\"f\"; endswith", "abcdef");
    NO("content:\"abc\"; endswith", "ab");
}

static void test_isdataat(void **state)
{
    (void)state;
    YES("isdataat:3", "abcd");
    NO("isdataat:4", "abcd");
    YES("isdataat:!4", "abcd");
    /* relative: at least N bytes after the previous match */
    YES("content:\"b\"; isdataat:2,relative", "abcd");
    NO("content:\"b\"; isdataat:3,relative", "abcd");
    YES("content:\"d\"; isdataat:!1,relative", "abcd");
    NO("content:\"c\"; isdataat:!1,relative", "abcd");
    /* relative isdataat failing makes the content retry */
    YES("content:\"a\"; isdataat:!1,relative", "a-a");
    build_fails("isdataat:x", "unknown variable 'x'");
    build_fails("isdataat:1,sideways", "unknown option 'sideways'");
}

/* ---- pcre --------------------------------------------------------------------- */

static void test_pcre_compile_flags(void **state)
{
    (void)state;
    YES("pcre:\"/a.c/\"", "xabcx");
    NO("pcre:\"/ABC/\"", "abc");
    YES("pcre:\"/ABC/i\"", "abc");
    NO("pcre:\"/a.c/\"", "a\nc");
    YES("pcre:\"/a.c/s\"", "a\nc");
    NO("pcre:\"/^b/\"", "a\nb");
    YES("pcre:\"/^b/m\"", "a\nb");
    YES("pcre:\"/a b c/x\"", "abc");
    NO("pcre:\"/b/A\"", "ab");
    YES("pcre:\"/a$/\"", "a\n");
    NO("pcre:\"/a$/E\"", "a\n");
    YES("pcre:\"/a.+?c/G\"", "abcc");
    YES("pcre:\"/a\\;b/\"", "a;b");
    YES("pcre:\"/a\\x3Bb/B\"", "a;b");
    YES("pcre:!\"/evil/\"", "good");
    NO("pcre:!\"/evil/\"", "evil");
    /* as rule_parse.c hands it over */
    struct rule r;
    rule_init(&r);
    assert_int_equal(opt(&r, "pcre", "!/ev\"il/i"), 0);
    assert_false(match(&r, "EV\"IL"));
    assert_true(match(&r, "good"));
    sig_free(r.s);
}

static void test_pcre_relative(void **state)
{
    (void)state;
    /* /R starts the subject at the previous match: ^ anchors there */
    YES("content:\"ab\"; pcre:\"/^cd/R\"", "abcd");
    NO("content:\"ab\"; pcre:\"/^d/R\"", "abcd");
    NO("content:\"cd\"; pcre:\"/ab/R\"", "abcd");
    /* the end of the pcre match is the new position */
    YES("pcre:\"/a+/\"; content:\"b\"; within:1", "aaab");
    NO("pcre:\"/a+/\"; content:\"c\"; within:1", "aaabc");
    /* a failing relative content retries the pcre at a later match */
    YES("pcre:\"/x[0-9]/\"; content:\"!\"; within:1", "x1 x2!");
    /* content after a retried pcre, then relative pcre retried by content */
    YES("content:\"k=\"; pcre:\"/^[0-9]+\\;/R\"", "k=a; k=12;");
    YES("content:\"ab\"; pcre:!\"/^x/R\"", "abx ab");
    NO("content:\"ab\"; pcre:!\"/^x/R\"", "abx abx");
}

static void test_pcre_buffer_flags(void **state)
{
    (void)state;
    static const struct {
        const char *flag;
        int buf;
    } cases[] = {
        { "U", BUF_HTTP_URI },         { "I", BUF_HTTP_URI_RAW },
        { "P", BUF_HTTP_REQUEST_BODY }, { "Q", BUF_FILE_DATA },
        { "H", BUF_HTTP_HEADER },      { "D", BUF_HTTP_HEADER_RAW },
        { "M", BUF_HTTP_METHOD },      { "C", BUF_HTTP_COOKIE },
        { "S", BUF_HTTP_STAT_CODE },   { "Y", BUF_HTTP_STAT_MSG },
        { "V", BUF_HTTP_USER_AGENT },  { "W", BUF_HTTP_HOST },
        { "Z", BUF_HTTP_HOST_RAW },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rule r;
        char v[32];
        rule_init(&r);
        snprintf(v, sizeof v, "/x/%si", cases[i].flag);
        assert_int_equal(opt(&r, "pcre", v), 0);
        if (list_len(r.s, cases[i].buf) != 1 || list_len(r.s, BUF_PAYLOAD) != 0)
            fail_msg("pcre flag %s not on %s", cases[i].flag, buffer_name(cases[i].buf));
        assert_true(match_buf(&r, cases[i].buf, "X", 1));
        sig_free(r.s);
    }
    /* U with R: relative to the previous uri match */
    struct rule r;
    build(&r, "content:\"/a\"; http_uri; pcre:\"/^b/UR\"");
    assert_int_equal(list_len(r.s, BUF_HTTP_URI), 2);
    assert_true(match_buf(&r, BUF_HTTP_URI, "/ab", 3));
    assert_false(match_buf(&r, BUF_HTTP_URI, "/a/b", 4));
    sig_free(r.s);
    /* without a flag, a pcre follows the sticky buffer */
    build(&r, "http.header; pcre:\"/x/\"");
    assert_int_equal(list_len(r.s, BUF_HTTP_HEADER), 1);
    sig_free(r.s);
    build(&r, "http.response_body; pcre:\"/x/Q\"");
    assert_int_equal(list_len(r.s, BUF_HTTP_RESPONSE_BODY), 1);
    sig_free(r.s);
    build(&r, "http.uri; pcre:\"/x/U\"");
    assert_int_equal(list_len(r.s, BUF_HTTP_URI), 1);
    sig_free(r.s);
}

static void test_pcre_errors(void **state)
{
    (void)state;
    build_fails("pcre:\"abc\"", "\"/regex/flags\"");
    build_fails("pcre:\"/abc\"", "\"/regex/flags\"");
    build_fails("pcre:\"/abc/q\"", "unknown pcre flag 'q'");
    build_fails("pcre:\"/abc/UH\"", "two buffers");
    build_fails("pcre:\"/a(bc/\"", "pcre compile failed");
    build_fails("http.header; pcre:\"/x/U\"", "sticky buffer 'http.header'");
}

static void test_pcre_match_limit_is_no_match(void **state)
{
    (void)state;
    /* catastrophic backtracking stops at the match limit */
    char data[64];
    memset(data, 'a', 40);
    strcpy(data + 40, "!");
    expect("pcre:\"/(a|aa)*(a|aa)*b/\"", BUF_PAYLOAD, data, false);
}

/* ---- byte_* ------------------------------------------------------------------- */

static void test_byte_test_binary(void **state)
{
    (void)state;
#define d "\x01\x02\x03\x04"
    YES("byte_test:2,=,0x0102,0", d);
    YES("byte_test:2,=,0x0201,0,little", d);
    YES("byte_test:4,>,16909059,0", d);
    NO("byte_test:4,>,16909060,0", d);
    YES("byte_test:1,<,4,2", d);
    YES("byte_test:1,<=,3,2", d);
    YES("byte_test:1,>=,3,2", d);
    YES("byte_test:1,!=,4,2", d);
    YES("byte_test:1,!,4,2", d);
    YES("byte_test:1,&,2,1", d);
    NO("byte_test:1,&,1,1", d);
    YES("byte_test:1,!&,1,1", d);
    YES("byte_test:1,^,3,0", d);
    NO("byte_test:1,^,1,0", d);
    /* bitmask masks, then shifts right by the mask's trailing zeros */
    YES("byte_test:2,=,0x3,0,bitmask 0x0300", "\x03\x00");
    YES("byte_test:1,=,1,0,bitmask 0xf0", "\x1f");
    /* out of bounds: no match, in either direction */
    NO("byte_test:4,>,0,1", d);
    NO("byte_test:1,>,0,-1", d);
    YES("byte_test:8,=,0x0102030405060708,0", "\x01\x02\x03\x04\x05\x06\x07\x08");
#undef d
}

static void test_byte_test_string_and_relative(void **state)
{
    (void)state;
    YES("byte_test:3,=,123,0,string,dec", "123x");
    YES("byte_test:4,=,123,0,string,dec", "123x");
    NO("byte_test:3,=,123,0,string,dec", "x123");
    YES("byte_test:2,=,255,0,string,hex", "ffx");
    YES("byte_test:3,=,8,0,string,oct", "010");
    NO("byte_test:2,=,9,0,string,oct", "9 ");
    YES("content:\"len=\"; byte_test:2,>,50,0,relative,string,dec", "len=99");
    NO("content:\"len=\"; byte_test:2,>,50,0,relative,string,dec", "len=42");
    /* negative offset relative to the previous match */
    YES("content:\"BC\"; byte_test:1,=,0x41,-3,relative", "ABC");
    /* 0 bytes with string: the number that fills the rest of the buffer */
    expect("http.content_len; byte_test:0,>,4000,0,string,dec", BUF_HTTP_CONTENT_LEN, "4001",
           true);
    expect("http.content_len; byte_test:0,>,4000,0,string,dec", BUF_HTTP_CONTENT_LEN, "400",
           false);
    expect("http.content_len; byte_test:0,=,0,0,string,dec", BUF_HTTP_CONTENT_LEN, "", false);
    expect("http.content_len; byte_test:0,>,1,0,string,dec", BUF_HTTP_CONTENT_LEN,
           "99999999999999999999999", false);
    /* retry: the second 'k' has the wanted byte after it */
    YES("content:\"k\"; byte_test:1,=,0x07,0,relative", "k\x01k\x07");
}

static void test_byte_parse_errors(void **state)
{
    (void)state;
    build_fails("byte_test:2,~,1,0", "unknown operator '~'");
    build_fails("byte_test:9,=,1,0", "reads 1 to 8 bytes");
    build_fails("byte_test:0,=,1,0", "reads 1 to 8 bytes");
    build_fails("byte_jump:0,0,string,dec", "as a string");
    build_fails("byte_test:21,=,1,0,string,dec", "as a string");
    build_fails("byte_test:2,=,1", "needs bytes, operator, value and offset");
    build_fails("byte_test:2,=,1,0,dce", "DCERPC");
    build_fails("byte_test:2,=,1,0,sideways", "unknown option 'sideways'");
    build_fails("byte_test:2,=,1,0,bitmask 0", "bitmask must not be 0");
    build_fails("byte_test:2,=,nosuch,0", "unknown variable 'nosuch'");
    build_fails("byte_jump:2", "needs bytes and offset");
    build_fails("byte_jump:2,0,from_beginning,from_end", "both from_beginning and from_end");
    build_fails("byte_jump:2,0,multiplier 0", "out of range");
    build_fails("byte_extract:2,0", "needs bytes, offset and a variable name");
    build_fails("byte_extract:2,0,x; byte_extract:2,0,x", "defined twice");
    build_fails("byte_extract:2,0,1x", "invalid variable name");
    build_fails("byte_extract:2,0,x,align 3", "align must be 2 or 4");
    build_fails("byte_extract:1,0,a; byte_extract:1,0,b; byte_extract:1,0,c; "
                "byte_extract:1,0,d; byte_extract:1,0,e; byte_extract:1,0,f; "
                "byte_extract:1,0,g; byte_extract:1,0,h; byte_extract:1,0,i",
                "too many");
    build_fails("byte_math:bytes 1, offset 0, oper +, rvalue 1", "needs bytes, offset, oper");
    build_fails("byte_math:bytes 1, offset 0, oper %, rvalue 1, result r", "unknown operator");
    build_fails("byte_math:bytes 1, offset 0, oper /, rvalue 0, result r", "divides by zero");
    build_fails("byte_math:bytes 1, offset 0, oper +, rvalue 1, result r, endian dce", "DCERPC");
}

static void test_byte_jump(void **state)
{
    (void)state;
    /* length 2 at offset 0, then 2 bytes of data, then "X" */
    YES("byte_jump:1,0; content:\"X\"; within:1", "\x02..X");
    NO("byte_jump:1,0; content:\"X\"; within:1", "\x01..X");
    YES("byte_jump:2,0,little; content:\"X\"; within:1", "\x01\x00.X");
    /* relative, with multiplier, align and post_offset */
    YES("content:\"L\"; byte_jump:1,0,relative,multiplier 2; content:\"X\"; within:1",
        "L\x02....X");
    YES("byte_jump:1,0,align; content:\"X\"; within:1", "\x02....X");
    NO("byte_jump:1,0,align; content:\"X\"; within:1", "\x02...X");
    YES("byte_jump:1,0,post_offset -1; content:\"aX\"; within:2", "\x02.aX");
    /* from_beginning and from_end */
    YES("byte_jump:1,1,from_beginning; content:\"X\"; within:1", ".\x03.X");
    YES("byte_jump:1,0,from_end,post_offset -2; content:\"YZ\"; within:2", "\x00" "abcYZ");
    /* string length */
    YES("byte_jump:2,0,string,dec; content:\"X\"; within:1", "03abcX");
    /* out of bounds: no match; jumping exactly to the end is allowed */
    NO("byte_jump:1,0", "\x09..");
    YES("byte_jump:1,0; isdataat:!1,relative", "\x02..");
    NO("byte_jump:1,0,post_offset -5", "\x01..");
}

static void test_byte_extract_feeds_later_keywords(void **state)
{
    (void)state;
    /* the extracted value as distance and within */
    const char *rule = "byte_extract:1,0,skip; content:\"X\"; distance:skip; within:1";
    YES(rule, "\x02..X");
    NO(rule, "\x01..X");
    /* byte_extract moves the position past the bytes read */
    YES("byte_extract:1,0,n; content:\"X\"; within:1", "\x05X");
    /* as a byte_test value, and as an offset/depth */
    YES("byte_extract:1,0,v; byte_test:1,=,v,1", "\x07\x07");
    NO("byte_extract:1,0,v; byte_test:1,=,v,1", "\x07\x08");
    YES("byte_extract:1,0,o; content:\"X\"; offset:o; depth:1", "\x03..X");
    NO("byte_extract:1,0,o; content:\"X\"; offset:o; depth:1", "\x02..X");
    /* string, multiplier and align */
    YES("byte_extract:2,0,v,string,dec,multiplier 3; byte_test:1,=,v,2", "11\x21");
    YES("byte_extract:1,0,v,align 4; byte_test:1,=,v,1", "\x05\x08");
    /* relative to a content; isdataat with a variable */
    YES("content:\"sz=\"; byte_extract:1,0,sz,relative; isdataat:sz,relative",
        "sz=\x02...");
    NO("content:\"sz=\"; byte_extract:1,0,sz,relative; isdataat:sz,relative",
       "sz=\x02.");
    NO("byte_extract:2,0,v", "\x01");
}

static void test_byte_math(void **state)
{
    (void)state;
    YES("byte_math:bytes 1, offset 0, oper +, rvalue 3, result r; byte_test:1,=,r,1",
        "\x02\x05");
    YES("byte_math:bytes 1, offset 0, oper -, rvalue 1, result r; byte_test:1,=,r,1",
        "\x02\x01");
    YES("byte_math:bytes 1, offset 0, oper *, rvalue 3, result r; byte_test:1,=,r,1",
        "\x02\x06");
    YES("byte_math:bytes 1, offset 0, oper /, rvalue 2, result r; byte_test:1,=,r,1",
        "\x09\x04");
    YES("byte_math:bytes 1, offset 0, oper <<, rvalue 2, result r; byte_test:1,=,r,1",
        "\x02\x08");
    YES("byte_math:bytes 1, offset 0, oper >>, rvalue 1, result r; byte_test:1,=,r,1",
        "\x08\x04");
    YES("byte_math:bytes 2, offset 0, oper +, rvalue 0, result r, endian little; "
        "byte_test:1,=,r,2",
        "\x05\x00\x05");
    YES("byte_math:bytes 2, offset 0, oper +, rvalue 1, result r, string dec; "
        "byte_test:1,=,r,2",
        "41\x2a");
    YES("content:\"@\"; byte_math:bytes 1, offset 0, oper +, rvalue 1, result r, relative, "
        "bitmask 0x0f; byte_test:1,=,r,2",
        "@\xf3\x04");
    /* division by a zero variable: no match */
    NO("byte_extract:1,0,z; byte_math:bytes 1, offset 1, oper /, rvalue z, result r", "\x00\x05");
    /* the result as a distance */
    YES("byte_math:bytes 1, offset 0, oper -, rvalue 1, result d; content:\"X\"; distance:d; "
        "within:1",
        "\x03.X");
}

/* ---- bsize, urilen ------------------------------------------------------------ */

static void test_bsize_forms(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        const char *data;
        bool want;
    } cases[] = {
        { "3", "abc", true },     { "3", "ab", false },      { "<3", "ab", true },
        { "<3", "abc", false },   { ">3", "abcd", true },    { ">3", "abc", false },
        { "<=3", "abc", true },   { ">=3", "abc", true },    { ">=3", "ab", false },
        { "2<>5", "abcd", true }, { "2<>5", "ab", false },   { "2<>5", "abcde", false },
        { " 2 <> 5 ", "abc", true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char opts[64];
        snprintf(opts, sizeof opts, "http.uri; bsize:%s", cases[i].v);
        expect(opts, BUF_HTTP_URI, cases[i].data, cases[i].want);
    }
    build_fails("bsize:3", "needs a sticky buffer");
    build_fails("http.uri; bsize:5<>2", "range");
    build_fails("http.uri; bsize:x", "invalid number");
    build_fails("http.uri; bsize:<0", "never match");
}

static void test_urilen_forms(void **state)
{
    (void)state;
    struct rule r;
    build(&r, "urilen:>3");
    assert_int_equal(r.s->lists[BUF_HTTP_URI]->type, SM_URILEN);
    assert_true(match_buf(&r, BUF_HTTP_URI, "/abc", 4));
    assert_false(match_buf(&r, BUF_HTTP_URI, "/ab", 3));
    sig_free(r.s);
    build(&r, "urilen:2<>5,raw");
    assert_int_equal(list_len(r.s, BUF_HTTP_URI_RAW), 1);
    assert_true(match_buf(&r, BUF_HTTP_URI_RAW, "/ab", 3));
    assert_false(match_buf(&r, BUF_HTTP_URI_RAW, "/abcd", 5));
    sig_free(r.s);
    build(&r, "urilen:4,norm");
    assert_true(match_buf(&r, BUF_HTTP_URI, "/abc", 4));
    sig_free(r.s);
    build_fails("urilen:4,weird", "unknown option 'weird'");
}

/* ---- base64 ------------------------------------------------------------------- */

static void test_base64_decode_and_data(void **state)
{
    (void)state;
    /* "Hello World" */
    const char *rule = "content:\"b=\"; base64_decode:bytes 16, offset 0, relative; "
                       "base64_data; content:\"World\"";
    YES(rule, "a=1&b=SGVsbG8gV29ybGQ=");
    NO(rule, "a=1&b=SGVsbG8gV29ybGx=");
    NO(rule, "a=1&b=");
    /* bytes limits what is decoded */
    NO("base64_decode:bytes 8; base64_data; content:\"World\"", "SGVsbG8gV29ybGQ=");
    YES("base64_decode; base64_data; content:\"Hello\"; startswith", "SGVsbG8gV29ybGQ=");
    YES("base64_decode:offset 2; base64_data; content:\"Hello\"; startswith",
        "xxSGVsbG8gV29ybGQ=");
    /* line breaks inside the encoded text are skipped */
    YES("base64_decode; base64_data; content:\"World\"", "SGVsbG8g\r\nV29ybGQ=");
    /* a failing base64_data makes the content retry the next "b=" */
    YES(rule, "b=!!!!&b=SGVsbG8gV29ybGQ=");
    build_fails("base64_data; content:\"x\"", "needs a preceding base64_decode");
    build_fails("base64_decode; base64_decode", "only once");
    build_fails("base64_decode; base64_data; base64_decode", "can't be used on base64_data");
    build_fails("base64_decode:bytes 0", "out of range");
    build_fails("base64_decode:size 3", "unknown option 'size 3'");

    uint8_t out[8];
    assert_int_equal(base64_decode_buf((const uint8_t *)"QUJD", 4, out, sizeof out), 3);
    assert_memory_equal(out, "ABC", 3);
    assert_int_equal(base64_decode_buf((const uint8_t *)"QUI", 3, out, sizeof out), 2);
    assert_int_equal(base64_decode_buf((const uint8_t *)"QUJDREVGR0hJ", 12, out, 4), 4);
}

/* ---- dotprefix ------------------------------------------------------------------ */

static void test_dotprefix_transform(void **state)
{
    (void)state;
    const char *rule = "dns.query; dotprefix; content:\".example.com\"; endswith";
    expect(rule, BUF_DNS_QUERY, "example.com", true);
    expect(rule, BUF_DNS_QUERY, "www.example.com", true);
    expect(rule, BUF_DNS_QUERY, "badexample.com", false);
    struct rule r;
    build(&r, rule);
    assert_true(content_at(r.s, BUF_DNS_QUERY, 0)->flags & CONTENT_DOTPREFIX);
    sig_free(r.s);
    build_fails("dotprefix", "needs a sticky buffer");
    build_fails("dns.query; content:\"a\"; dotprefix", "must directly follow");
}

/* ---- content_find and the step budget -------------------------------------------- */

static void test_content_find(void **state)
{
    (void)state;
    const uint8_t *h = (const uint8_t *)"abcABCabc";
    assert_int_equal(content_find(h, 9, 0, (const uint8_t *)"ABC", 3, false), 3);
    assert_int_equal(content_find(h, 9, 4, (const uint8_t *)"abc", 3, false), 6);
    assert_int_equal(content_find(h, 9, 1, (const uint8_t *)"abc", 3, true), 3);
    assert_int_equal(content_find(h, 9, 7, (const uint8_t *)"abc", 3, true), -1);
    assert_int_equal(content_find(h, 9, 10, (const uint8_t *)"a", 1, false), -1);
    assert_int_equal(content_find(h, 2, 0, (const uint8_t *)"abc", 3, false), -1);
    /* the long-haystack nocase path agrees with a plain scan */
    static uint8_t big[4096];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)("xyzXYZ"[i % 6]);
    memcpy(big + 3000, "NeEdLe", 6);
    assert_int_equal(content_find(big, sizeof big, 0, (const uint8_t *)"needle", 6, true), 3000);
    assert_int_equal(content_find(big, sizeof big, 3001, (const uint8_t *)"NEEDLE", 6, true),
                     -1);
    assert_int_equal(content_find(big, 3005, 0, (const uint8_t *)"needle", 6, true), -1);
    /* every position a candidate: still exact, and the case-sensitive
     * search falls back to a linear one */
    static uint8_t same[8192];
    memset(same, 'a', sizeof same);
    same[sizeof same - 1] = 'b';
    assert_int_equal(content_find(same, sizeof same, 0, (const uint8_t *)"aaab", 4, false),
                     sizeof same - 4);
    assert_int_equal(content_find(same, sizeof same, 0, (const uint8_t *)"AAAB", 4, true),
                     sizeof same - 4);
    assert_int_equal(content_find(same, sizeof same - 1, 0, (const uint8_t *)"aab", 3, false),
                     -1);
    /* matches at the last position, in the scalar tail */
    assert_int_equal(content_find(h, 9, 0, (const uint8_t *)"Cabc", 4, false), 5);
    assert_int_equal(content_find(h, 9, 0, (const uint8_t *)"c", 1, false), 2);
    memcpy(big + 4090, "nEEDLE", 6);
    assert_int_equal(content_find(big, sizeof big, 3001, (const uint8_t *)"needle", 6, true),
                     4090);
}

static void test_hostile_backtracking_is_bounded(void **state)
{
    (void)state;
    static char data[65536 + 1];
    memset(data, 'a', sizeof data - 1);
    struct rule r;
    build(&r, "content:\"a\"; content:\"a\"; distance:0; content:\"a\"; distance:0; "
              "content:\"a\"; distance:0; content:\"b\"; distance:0");
    clock_t t0 = clock();
    assert_false(match(&r, data));
    sig_free(r.s);
    /* a relative content missing from the rest of the buffer is not searched
     * again for every earlier 'a' */
    build(&r, "content:\"a\"; content:\"zzz\"; distance:0");
    assert_false(match(&r, data));
    sig_free(r.s);
    build(&r, "content:\"a\"; pcre:\"/^a{3}b/R\"");
    assert_false(match(&r, data));
    sig_free(r.s);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (secs > 2.0)
        fail_msg("hostile inspection took %.2f s", secs);
}

static void test_empty_list_and_empty_buffer(void **state)
{
    (void)state;
    struct rule r;
    rule_init(&r);
    assert_true(inspect_buffer(thread(), r.s, BUF_PAYLOAD, NULL, 0, &env));
    sig_free(r.s);
    NO("content:\"a\"", "");
    YES("content:!\"a\"", "");
    YES("isdataat:!0", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_hex_blocks_and_escapes),
        cmocka_unit_test(test_content_negation_raw_and_parser_forms),
        cmocka_unit_test(test_content_parse_errors),
        cmocka_unit_test(test_modifiers_need_a_content),
        cmocka_unit_test(test_modifier_conflicts),
        cmocka_unit_test(test_content_position_values),
        cmocka_unit_test(test_fast_pattern_forms),
        cmocka_unit_test(test_fast_pattern_errors),
        cmocka_unit_test(test_rawbytes_is_accepted_on_payload_only),
        cmocka_unit_test(test_sticky_buffers_and_aliases),
        cmocka_unit_test(test_every_buffer_has_a_sticky_keyword),
        cmocka_unit_test(test_legacy_modifier_moves_last_content),
        cmocka_unit_test(test_each_legacy_modifier_maps_to_its_buffer),
        cmocka_unit_test(test_legacy_modifier_errors),
        cmocka_unit_test(test_uricontent_goes_to_http_uri),
        cmocka_unit_test(test_http_host_patterns_must_be_lowercase),
        cmocka_unit_test(test_content_alone_and_nocase),
        cmocka_unit_test(test_offset_and_depth_are_absolute),
        cmocka_unit_test(test_distance_and_within_are_relative),
        cmocka_unit_test(test_relative_chain_retries_later_occurrences),
        cmocka_unit_test(test_negated_contents),
        cmocka_unit_test(test_startswith_and_endswith),
        cmocka_unit_test(test_isdataat),
        cmocka_unit_test(test_pcre_compile_flags),
        cmocka_unit_test(test_pcre_relative),
        cmocka_unit_test(test_pcre_buffer_flags),
        cmocka_unit_test(test_pcre_errors),
        cmocka_unit_test(test_pcre_match_limit_is_no_match),
        cmocka_unit_test(test_byte_test_binary),
        cmocka_unit_test(test_byte_test_string_and_relative),
        cmocka_unit_test(test_byte_parse_errors),
        cmocka_unit_test(test_byte_jump),
        cmocka_unit_test(test_byte_extract_feeds_later_keywords),
        cmocka_unit_test(test_byte_math),
        cmocka_unit_test(test_bsize_forms),
        cmocka_unit_test(test_urilen_forms),
        cmocka_unit_test(test_base64_decode_and_data),
        cmocka_unit_test(test_dotprefix_transform),
        cmocka_unit_test(test_content_find),
        cmocka_unit_test(test_hostile_backtracking_is_bounded),
        cmocka_unit_test(test_empty_list_and_empty_buffer),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    inspect_scratch_free(thread()->is);
    return rc;
}
