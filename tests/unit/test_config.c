/* Unit tests for src/engine/config (YAML tree, --set, typed getters),
 * src/engine/settings (every key of etc/caracal.yaml, defaults, bad values)
 * and the live capture's BPF filter (command line, config keys, compiling). */
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

#include "capture/afpacket.h"
#include "engine/cli.h"
#include "engine/config.h"
#include "engine/settings.h"
#include "output/eve.h"

#define ERRLEN 512

/* Loads yaml under the name "caracal.yaml"; fails the test on error. */
static struct conf *load_ok(const char *yaml)
{
    struct conf *c = conf_new();
    char err[ERRLEN] = "";
    int rc = conf_load_string(c, yaml, strlen(yaml), "caracal.yaml", err, sizeof err);
    if (rc != 0)
        fail_msg("unexpected load error: %s", err);
    return c;
}

/* Loads yaml that must fail; returns the message in err. */
static void load_fails(const char *yaml, const char *name, char *err, size_t errlen)
{
    struct conf *c = conf_new();
    err[0] = '\0';
    int rc = conf_load_string(c, yaml, strlen(yaml), name, err, errlen);
    conf_free(c);
    assert_int_equal(rc, -1);
    assert_true(err[0] != '\0');
}

static const char *value_of(const struct conf *c, const char *path)
{
    const struct conf_node *n = conf_find(c, path);
    return n ? n->value : NULL;
}

static unsigned child_count(const struct conf_node *n)
{
    unsigned k = 0;
    for (const struct conf_node *ch = n->child; ch; ch = ch->next)
        k++;
    return k;
}

/* ---------------------------------------------------------------------------
 * Loading
 * ------------------------------------------------------------------------- */

static void test_load_nested_mappings_by_dotted_path(void **state)
{
    (void)state;
    struct conf *c = load_ok("vars:\n"
                             "  address-groups:\n"
                             "    HOME_NET: \"[10.0.0.0/8]\"\n"
                             "    EXTERNAL_NET: \"!$HOME_NET\"\n"
                             "flow:\n"
                             "  memcap: 64mb\n");
    assert_string_equal(value_of(c, "vars.address-groups.HOME_NET"), "[10.0.0.0/8]");
    assert_string_equal(value_of(c, "vars.address-groups.EXTERNAL_NET"), "!$HOME_NET");
    assert_string_equal(value_of(c, "flow.memcap"), "64mb");
    /* Intermediate nodes are mappings: no value, children in order. */
    const struct conf_node *ag = conf_find(c, "vars.address-groups");
    assert_non_null(ag);
    assert_null(ag->value);
    assert_false(ag->is_seq);
    assert_int_equal(child_count(ag), 2);
    assert_string_equal(ag->child->name, "HOME_NET");
    assert_string_equal(ag->child->next->name, "EXTERNAL_NET");
    /* conf_node_find is relative to a node. */
    assert_string_equal(conf_node_find(ag, "HOME_NET")->value, "[10.0.0.0/8]");
    conf_free(c);
}

static void test_load_records_file_and_line_of_each_node(void **state)
{
    (void)state;
    struct conf *c = load_ok("# comment\n"
                             "a:\n"
                             "  b: 1\n"
                             "\n"
                             "  c: 2\n");
    const struct conf_node *b = conf_find(c, "a.b"), *cc = conf_find(c, "a.c");
    assert_int_equal(conf_find(c, "a")->line, 2);
    assert_int_equal(b->line, 3);
    assert_int_equal(cc->line, 5);
    assert_string_equal(cc->file, "caracal.yaml");
    char where[128];
    conf_node_where(cc, where, sizeof where);
    assert_string_equal(where, "caracal.yaml:5");
    conf_free(c);
}

static void test_load_missing_paths_are_null(void **state)
{
    (void)state;
    struct conf *c = load_ok("a:\n  b: 1\n");
    assert_null(conf_find(c, "a.x"));
    assert_null(conf_find(c, "x"));
    assert_null(conf_find(c, "a.b.c"));     /* below a scalar */
    assert_null(conf_find(c, "ab"));        /* no prefix matching */
    assert_null(conf_find(c, "a.b1"));
    conf_free(c);
}

static void test_load_sequences_are_addressed_by_index(void **state)
{
    (void)state;
    struct conf *c = load_ok("rule-files:\n"
                             "  - one.rules\n"
                             "  - two.rules\n"
                             "outputs:\n"
                             "  - fast:\n"
                             "      enabled: no\n"
                             "  - eve-log:\n"
                             "      enabled: yes\n"
                             "      types:\n"
                             "        - flow\n"
                             "        - alert:\n"
                             "            payload: yes\n");
    const struct conf_node *rf = conf_find(c, "rule-files");
    assert_true(rf->is_seq);
    assert_int_equal(child_count(rf), 2);
    assert_string_equal(value_of(c, "rule-files.0"), "one.rules");
    assert_string_equal(value_of(c, "rule-files.1"), "two.rules");
    assert_null(conf_find(c, "rule-files.2"));
    assert_string_equal(value_of(c, "outputs.0.fast.enabled"), "no");
    assert_string_equal(value_of(c, "outputs.1.eve-log.enabled"), "yes");
    assert_true(conf_find(c, "outputs.1.eve-log.types")->is_seq);
    assert_string_equal(value_of(c, "outputs.1.eve-log.types.0"), "flow");
    assert_string_equal(value_of(c, "outputs.1.eve-log.types.1.alert.payload"), "yes");
    assert_int_equal(conf_find(c, "outputs.1.eve-log.types.1")->line, 11);
    conf_free(c);
}

static void test_load_flow_style_collections(void **state)
{
    (void)state;
    struct conf *c = load_ok("types: [flow, anomaly]\nm: {a: 1, b: two}\n");
    assert_true(conf_find(c, "types")->is_seq);
    assert_string_equal(value_of(c, "types.1"), "anomaly");
    assert_string_equal(value_of(c, "m.b"), "two");
    conf_free(c);
}

static void test_load_duplicate_scalar_key_last_wins(void **state)
{
    (void)state;
    struct conf *c = load_ok("flow:\n"
                             "  memcap: 32mb\n"
                             "  hash-size: 1024\n"
                             "  memcap: 64mb\n");
    const struct conf_node *flow = conf_find(c, "flow");
    assert_int_equal(child_count(flow), 2); /* replaced, not appended */
    const struct conf_node *m = conf_find(c, "flow.memcap");
    assert_string_equal(m->value, "64mb");
    assert_int_equal(m->line, 4); /* errors point at the value in effect */
    conf_free(c);
}

static void test_load_duplicate_mapping_key_replaces_whole_mapping(void **state)
{
    (void)state;
    struct conf *c = load_ok("flow:\n"
                             "  memcap: 32mb\n"
                             "stats:\n"
                             "  enabled: yes\n"
                             "flow:\n"
                             "  hash-size: 2048\n");
    assert_null(conf_find(c, "flow.memcap"));
    assert_string_equal(value_of(c, "flow.hash-size"), "2048");
    assert_int_equal(child_count(c->root), 2);
    conf_free(c);
}

static void test_load_duplicate_key_changes_kind(void **state)
{
    (void)state;
    /* A list replaced by a scalar, then a scalar by a mapping. */
    struct conf *c = load_ok("a:\n  - 1\n  - 2\na: plain\nb: x\nb:\n  c: 3\n");
    const struct conf_node *a = conf_find(c, "a"), *b = conf_find(c, "b");
    assert_string_equal(a->value, "plain");
    assert_false(a->is_seq);
    assert_null(a->child);
    assert_null(b->value);
    assert_string_equal(value_of(c, "b.c"), "3");
    conf_free(c);
}

static void test_load_syntax_error_names_file_and_line(void **state)
{
    (void)state;
    char err[ERRLEN];
    load_fails("a: 1\nb: 2\n  c: 3\n", "caracal.yaml", err, sizeof err);
    assert_non_null(strstr(err, "caracal.yaml:3: "));
    assert_non_null(strstr(err, "mapping values are not allowed"));

    /* Inside a nested mapping. */
    load_fails("x:\n  y: 1\n  z: 2\n   w: 3\n", "nested.yaml", err, sizeof err);
    assert_ptr_equal(strstr(err, "nested.yaml:4: "), err);

    /* A tab used for indentation. */
    load_fails("x:\n  y: 1\n\ty: 2\n", "tab.yaml", err, sizeof err);
    assert_ptr_equal(strstr(err, "tab.yaml:3: "), err);
}

static void test_load_rejects_non_mapping_top_level(void **state)
{
    (void)state;
    char err[ERRLEN];
    load_fails("- a\n- b\n", "list.yaml", err, sizeof err);
    assert_string_equal(err, "list.yaml:1: the top level must be a mapping");
    load_fails("just text\n", "scalar.yaml", err, sizeof err);
    assert_string_equal(err, "scalar.yaml:1: the top level must be a mapping");
}

static void test_load_rejects_aliases_and_complex_keys(void **state)
{
    (void)state;
    char err[ERRLEN];
    load_fails("a: &x 1\nb: *x\n", "alias.yaml", err, sizeof err);
    assert_string_equal(err, "alias.yaml:2: YAML aliases are not supported");
    load_fails("a: 1\n? [x]\n: 2\n", "key.yaml", err, sizeof err);
    assert_string_equal(err, "key.yaml:2: mapping keys must be plain scalars");
}

static void test_load_rejects_excessive_nesting(void **state)
{
    (void)state;
    char yaml[4096];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(yaml + n, sizeof yaml - n, "[");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(yaml + n, sizeof yaml - n, "]");
    char doc[4200];
    snprintf(doc, sizeof doc, "a: %s\n", yaml);
    char err[ERRLEN];
    load_fails(doc, "deep.yaml", err, sizeof err);
    assert_non_null(strstr(err, "nesting too deep"));
}

static void test_load_empty_document_is_empty_config(void **state)
{
    (void)state;
    struct conf *c = load_ok("# nothing here\n");
    assert_null(c->root->child);
    const char *s;
    assert_int_equal(conf_get_str(c, "flow.memcap", "dflt", &s), 0);
    assert_string_equal(s, "dflt");
    conf_free(c);
}

static void test_load_file_uses_path_in_messages(void **state)
{
    (void)state;
    char path[] = "/tmp/caracal-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char doc[] = "flow:\n  memcap: lots\n";
    assert_int_equal(write(fd, doc, sizeof doc - 1), (ssize_t)(sizeof doc - 1));
    close(fd);

    struct conf *c = conf_new();
    char err[ERRLEN] = "";
    assert_int_equal(conf_load_file(c, path, err, sizeof err), 0);
    assert_string_equal(c->file, path);
    uint64_t v;
    assert_int_equal(conf_get_size(c, "flow.memcap", 1, &v, err, sizeof err), -1);
    char want[256];
    snprintf(want, sizeof want, "%s:2: flow.memcap: ", path);
    assert_ptr_equal(strstr(err, want), err);
    conf_free(c);
    unlink(path);
}

static void test_load_file_missing_reports_path(void **state)
{
    (void)state;
    struct conf *c = conf_new();
    char err[ERRLEN] = "";
    assert_int_equal(conf_load_file(c, "/nonexistent/caracal.yaml", err, sizeof err), -1);
    assert_ptr_equal(strstr(err, "/nonexistent/caracal.yaml: "), err);
    conf_free(c);
}

/* ---------------------------------------------------------------------------
 * --set
 * ------------------------------------------------------------------------- */

static void test_set_creates_new_path(void **state)
{
    (void)state;
    struct conf *c = conf_new();
    char err[ERRLEN];
    assert_int_equal(conf_set(c, "flow.timeouts.tcp.new=5", err, sizeof err), 0);
    const struct conf_node *n = conf_find(c, "flow.timeouts.tcp.new");
    assert_non_null(n);
    assert_string_equal(n->value, "5");
    assert_int_equal(n->line, 0);
    assert_string_equal(n->file, "--set");
    char where[64];
    conf_node_where(n, where, sizeof where);
    assert_string_equal(where, "--set");
    conf_free(c);
}

static void test_set_overrides_loaded_scalar(void **state)
{
    (void)state;
    struct conf *c = load_ok("flow:\n  memcap: 32mb\n  hash-size: 1024\n");
    char err[ERRLEN];
    assert_int_equal(conf_set(c, "flow.memcap=256mb", err, sizeof err), 0);
    const struct conf_node *flow = conf_find(c, "flow");
    assert_int_equal(child_count(flow), 2);
    assert_string_equal(value_of(c, "flow.memcap"), "256mb");
    assert_string_equal(conf_find(c, "flow.memcap")->file, "--set");
    assert_string_equal(value_of(c, "flow.hash-size"), "1024");
    /* A later --set wins over an earlier one. */
    assert_int_equal(conf_set(c, "flow.memcap=1gb", err, sizeof err), 0);
    assert_string_equal(value_of(c, "flow.memcap"), "1gb");
    conf_free(c);
}

static void test_set_scalar_replaces_mapping(void **state)
{
    (void)state;
    struct conf *c = load_ok("stats:\n  enabled: yes\n  interval: 8\n");
    char err[ERRLEN];
    assert_int_equal(conf_set(c, "stats=off", err, sizeof err), 0);
    const struct conf_node *s = conf_find(c, "stats");
    assert_string_equal(s->value, "off");
    assert_null(s->child);
    assert_null(conf_find(c, "stats.enabled"));
    conf_free(c);
}

static void test_set_below_scalar_turns_it_into_mapping(void **state)
{
    (void)state;
    struct conf *c = load_ok("stats: off\n");
    char err[ERRLEN];
    assert_int_equal(conf_set(c, "stats.interval=4", err, sizeof err), 0);
    assert_null(conf_find(c, "stats")->value);
    assert_string_equal(value_of(c, "stats.interval"), "4");
    conf_free(c);
}

static void test_set_reaches_into_sequences(void **state)
{
    (void)state;
    struct conf *c = load_ok("outputs:\n  - eve-log:\n      enabled: yes\n      filename: eve.json\n");
    char err[ERRLEN];
    assert_int_equal(conf_set(c, "outputs.0.eve-log.filename=other.json", err, sizeof err), 0);
    assert_string_equal(value_of(c, "outputs.0.eve-log.filename"), "other.json");
    assert_string_equal(value_of(c, "outputs.0.eve-log.enabled"), "yes");
    assert_int_equal(child_count(conf_find(c, "outputs")), 1);
    conf_free(c);
}

static void test_set_value_keeps_everything_after_first_equals(void **state)
{
    (void)state;
    struct conf *c = conf_new();
    char err[ERRLEN];
    assert_int_equal(conf_set(c, "vars.x=a=b", err, sizeof err), 0);
    assert_string_equal(value_of(c, "vars.x"), "a=b");
    assert_int_equal(conf_set(c, "vars.empty=", err, sizeof err), 0);
    assert_string_equal(value_of(c, "vars.empty"), "");
    conf_free(c);
}

static void test_set_rejects_malformed_assignments(void **state)
{
    (void)state;
    struct conf *c = conf_new();
    char err[ERRLEN];
    assert_int_equal(conf_set(c, "flow.memcap", err, sizeof err), -1);
    assert_string_equal(err, "--set flow.memcap: expected key=value");
    assert_int_equal(conf_set(c, "=5", err, sizeof err), -1);
    assert_non_null(strstr(err, "expected key=value"));
    assert_int_equal(conf_set(c, "flow..memcap=5", err, sizeof err), -1);
    assert_non_null(strstr(err, "empty key component"));
    assert_int_equal(conf_set(c, ".memcap=5", err, sizeof err), -1);
    assert_non_null(strstr(err, "empty key component"));
    conf_free(c);
}

static void test_set_bad_value_error_says_set(void **state)
{
    (void)state;
    struct conf *c = load_ok("flow:\n  memcap: 32mb\n");
    char err[ERRLEN];
    assert_int_equal(conf_set(c, "flow.memcap=huge", err, sizeof err), 0);
    uint64_t v;
    assert_int_equal(conf_get_size(c, "flow.memcap", 0, &v, err, sizeof err), -1);
    assert_ptr_equal(strstr(err, "--set: flow.memcap: "), err);
    assert_non_null(strstr(err, "'huge'"));
    conf_free(c);
}

/* ---------------------------------------------------------------------------
 * Typed getters
 * ------------------------------------------------------------------------- */

static void test_parse_bool_accepts_yaml_words_any_case(void **state)
{
    (void)state;
    static const char *const yes[] = { "yes", "YES", "Yes", "true", "True", "on", "ON", "1", "y" };
    static const char *const no[] = { "no", "NO", "false", "FALSE", "off", "Off", "0", "n" };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        bool b = false;
        assert_int_equal(conf_parse_bool(yes[i], &b), 0);
        assert_true(b);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        bool b = true;
        assert_int_equal(conf_parse_bool(no[i], &b), 0);
        assert_false(b);
    }
}

static void test_parse_bool_rejects_other_words(void **state)
{
    (void)state;
    static const char *const bad[] = { "", "maybe", "yess", "2", "-1", "enabled", " yes" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bool b = true;
        assert_int_equal(conf_parse_bool(bad[i], &b), -1);
    }
}

static void test_get_bool_default_value_and_error(void **state)
{
    (void)state;
    struct conf *c = load_ok("stats:\n  enabled: no\n  other: perhaps\n  map:\n    x: 1\n");
    char err[ERRLEN] = "";
    bool b = true;
    assert_int_equal(conf_get_bool(c, "stats.enabled", true, &b, err, sizeof err), 0);
    assert_false(b);
    assert_int_equal(conf_get_bool(c, "stats.absent", true, &b, err, sizeof err), 0);
    assert_true(b);
    assert_int_equal(conf_get_bool(c, "stats.other", true, &b, err, sizeof err), -1);
    assert_string_equal(err, "caracal.yaml:3: stats.other: expected yes or no, got 'perhaps'");
    assert_int_equal(conf_get_bool(c, "stats.map", true, &b, err, sizeof err), -1);
    assert_ptr_equal(strstr(err, "caracal.yaml:4: stats.map: "), err);
    conf_free(c);
}

static void test_get_int_bounds_are_inclusive(void **state)
{
    (void)state;
    struct conf *c = load_ok("lo: 1\nhi: 10\nbelow: 0\nabove: 11\nneg: -5\n");
    char err[ERRLEN];
    long v = 0;
    assert_int_equal(conf_get_int(c, "lo", 5, 1, 10, &v, err, sizeof err), 0);
    assert_int_equal(v, 1);
    assert_int_equal(conf_get_int(c, "hi", 5, 1, 10, &v, err, sizeof err), 0);
    assert_int_equal(v, 10);
    assert_int_equal(conf_get_int(c, "neg", 5, -10, 10, &v, err, sizeof err), 0);
    assert_int_equal(v, -5);
    assert_int_equal(conf_get_int(c, "below", 5, 1, 10, &v, err, sizeof err), -1);
    assert_string_equal(err, "caracal.yaml:3: below: expected a number from 1 to 10, got '0'");
    assert_int_equal(conf_get_int(c, "above", 5, 1, 10, &v, err, sizeof err), -1);
    assert_string_equal(err, "caracal.yaml:4: above: expected a number from 1 to 10, got '11'");
    assert_int_equal(conf_get_int(c, "absent", 7, 1, 10, &v, err, sizeof err), 0);
    assert_int_equal(v, 7);
    conf_free(c);
}

static void test_get_int_rejects_non_numbers(void **state)
{
    (void)state;
    struct conf *c = load_ok("a: 12abc\nb: ''\nc: 1.5\nd: 99999999999999999999999\ne:\n  f: 1\n");
    static const char *const keys[] = { "a", "b", "c", "d", "e" };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char err[ERRLEN] = "";
        long v;
        assert_int_equal(conf_get_int(c, keys[i], 0, 0, 100, &v, err, sizeof err), -1);
        char want[64];
        snprintf(want, sizeof want, "caracal.yaml:%zu: %s: expected a number", i + 1, keys[i]);
        assert_ptr_equal(strstr(err, want), err);
    }
    conf_free(c);
}

static void test_parse_size_suffixes_are_powers_of_1024(void **state)
{
    (void)state;
    static const struct { const char *s; uint64_t v; } ok[] = {
        { "0", 0 },
        { "4096", 4096 },
        { "100b", 100 },
        { "64kb", 64ull << 10 },
        { "64KB", 64ull << 10 },
        { "64k", 64ull << 10 },
        { "64kib", 64ull << 10 },
        { "128mb", 128ull << 20 },
        { "128 MB", 128ull << 20 },
        { "128m", 128ull << 20 },
        { "1gb", 1ull << 30 },
        { "16GB", 16ull << 30 },
        { "1.5kb", 1536 },
        { "0.5gb", 512ull << 20 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        uint64_t v = 12345;
        if (conf_parse_size(ok[i].s, &v) != 0)
            fail_msg("'%s' was rejected", ok[i].s);
        if (v != ok[i].v)
            fail_msg("'%s' gave %llu, want %llu", ok[i].s, (unsigned long long)v,
                     (unsigned long long)ok[i].v);
    }
}

static void test_parse_size_rejects_bad_sizes(void **state)
{
    (void)state;
    static const char *const bad[] = { "", "-1", "-1kb", "kb", "10tb", "10 kbytes", "ten",
                                       "64kbx", "inf", "99999999999gb", "nan", "nan kb" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint64_t v = 7;
        if (conf_parse_size(bad[i], &v) != -1)
            fail_msg("'%s' was accepted as %llu", bad[i], (unsigned long long)v);
    }
}

static void test_get_size_error_names_file_line_and_key(void **state)
{
    (void)state;
    /* flow.memcap sits on line 12 of this document. */
    struct conf *c = load_ok("%YAML 1.1\n"
                             "---\n"
                             "vars:\n"
                             "  address-groups:\n"
                             "    HOME_NET: any\n"
                             "\n"
                             "runmode: single\n"
                             "\n"
                             "# the flow engine\n"
                             "flow:\n"
                             "  hash-size: 1024\n"
                             "  memcap: 12 parsecs\n");
    char err[ERRLEN] = "";
    uint64_t v = 1;
    assert_int_equal(conf_get_size(c, "flow.memcap", 99, &v, err, sizeof err), -1);
    assert_ptr_equal(strstr(err, "caracal.yaml:12: flow.memcap: "), err);
    assert_non_null(strstr(err, "'12 parsecs'"));
    assert_int_equal(conf_get_size(c, "flow.absent", 99, &v, err, sizeof err), 0);
    assert_int_equal(v, 99);
    conf_free(c);
}

static void test_get_str_returns_value_or_default(void **state)
{
    (void)state;
    struct conf *c = load_ok("a: text\nm:\n  x: 1\n");
    const char *s;
    assert_int_equal(conf_get_str(c, "a", "d", &s), 0);
    assert_string_equal(s, "text");
    assert_int_equal(conf_get_str(c, "nope", "d", &s), 0);
    assert_string_equal(s, "d");
    assert_int_equal(conf_get_str(c, "m", "d", &s), 0); /* a mapping has no value */
    assert_string_equal(s, "d");
    conf_free(c);
}

/* ---------------------------------------------------------------------------
 * settings_load
 * ------------------------------------------------------------------------- */

/* Loads yaml and runs settings_load; returns its result with err filled. */
static int settings_from(const char *yaml, struct settings *s, struct conf **out, char *err)
{
    struct conf *c = load_ok(yaml);
    err[0] = '\0';
    int rc = settings_load(s, c, err, ERRLEN);
    if (out)
        *out = c;
    else
        conf_free(c);
    return rc;
}

/* settings_load must fail and its message start with want_prefix. */
static void settings_fail(const char *yaml, const char *want_prefix)
{
    struct settings s;
    char err[ERRLEN];
    assert_int_equal(settings_from(yaml, &s, NULL, err), -1);
    settings_release(&s);
    if (strncmp(err, want_prefix, strlen(want_prefix)) != 0)
        fail_msg("error '%s' does not start with '%s'", err, want_prefix);
}

static void test_settings_defrag_and_host_os_policy(void **state)
{
    (void)state;
    struct settings s;
    char err[ERRLEN];
    /* Defaults: Suricata's, linux everywhere, no per-network policy. */
    assert_int_equal(settings_from("stats:\n  enabled: yes\n", &s, NULL, err), 0);
    assert_int_equal(s.defrag.memcap, 32u << 20);
    assert_int_equal(s.defrag.timeout_sec, 60);
    assert_int_equal(s.defrag.default_policy, DEFRAG_POLICY_LINUX);
    assert_int_equal(s.defrag.npolicies, 0);
    settings_release(&s);

    struct conf *c;
    assert_int_equal(settings_from("defrag:\n  memcap: 1mb\n  timeout: 30\n"
                                   "host-os-policy:\n  windows: [10.0.0.0/8, \"2001:db8::/32\"]\n"
                                   "  bsd: [192.168.1.0/24]\n",
                                   &s, &c, err), 0);
    assert_int_equal(s.defrag.memcap, 1u << 20);
    assert_int_equal(s.defrag.timeout_sec, 30);
    assert_int_equal(s.defrag.npolicies, 3);
    settings_release(&s);
    /* --set gives the list as one scalar. */
    assert_int_equal(conf_set(c, "host-os-policy.first=[198.19.0.0/16,198.18.0.0/16]", err,
                              sizeof err), 0);
    assert_int_equal(settings_load(&s, c, err, sizeof err), 0);
    assert_int_equal(s.defrag.npolicies, 5);
    settings_release(&s);
    conf_free(c);

    settings_fail("host-os-policy:\n  plan9: [10.0.0.0/8]\n",
                  "caracal.yaml:2: host-os-policy.plan9: unknown policy");
    settings_fail("host-os-policy:\n  linux: [10.0.0.0/33]\n",
                  "caracal.yaml:2: host-os-policy.linux: bad network '10.0.0.0/33'");
    settings_fail("defrag:\n  memcap: 1kb\n", "caracal.yaml:2: defrag.memcap: ");
}

static void test_settings_stream(void **state)
{
    (void)state;
    struct settings s;
    char err[ERRLEN];
    assert_int_equal(settings_from("stats:\n  enabled: yes\n", &s, NULL, err), 0);
    assert_true(s.stream.enabled);
    assert_false(s.stream.midstream);
    assert_int_equal(s.stream.memcap, STREAM_DEFAULT_MEMCAP);
    assert_int_equal(s.stream.depth, STREAM_DEFAULT_DEPTH);
    assert_int_equal(s.stream.inspect_window, STREAM_DEFAULT_INSPECT_WINDOW);
    assert_int_equal(s.stream.max_wait, STREAM_DEFAULT_MAX_WAIT);
    settings_release(&s);
    assert_int_equal(settings_from("stream:\n  enabled: no\n  midstream: yes\n  memcap: 8mb\n"
                                   "  reassembly:\n    depth: 0\n    inspect-window: 4kb\n"
                                   "    max-wait: 64kb\n",
                                   &s, NULL, err), 0);
    assert_false(s.stream.enabled);
    assert_true(s.stream.midstream);
    assert_int_equal(s.stream.memcap, 8u << 20);
    assert_int_equal(s.stream.depth, 0);
    assert_int_equal(s.stream.inspect_window, 4096);
    assert_int_equal(s.stream.max_wait, 65536);
    settings_release(&s);
    settings_fail("stream:\n  memcap: 1kb\n", "caracal.yaml:2: stream.memcap: must be at least 1mb");
    /* nfq */
    assert_int_equal(settings_from("nfq:\n  fail-open: yes\n  queue-maxlen: 1000\n", &s, NULL,
                                   err), 0);
    assert_true(s.nfq.fail_open);
    assert_int_equal(s.nfq.maxlen, 1000);
    assert_int_equal(s.nfq.snaplen, NFQ_DEFAULT_SNAPLEN);
    assert_int_equal(s.nfq.mode, NFQ_MODE_ACCEPT);
    assert_int_equal(s.nfq.batchcount, 1);
    settings_release(&s);
    assert_int_equal(settings_from("nfq:\n  mode: repeat\n  repeat-mark: 4\n  repeat-mask: 12\n"
                                   "  batchcount: 1\n", &s, NULL, err), 0);
    assert_int_equal(s.nfq.mode, NFQ_MODE_REPEAT);
    assert_int_equal(s.nfq.repeat_mark, 4);
    assert_int_equal(s.nfq.repeat_mask, 12);
    assert_int_equal(s.nfq.batchcount, 1);
    settings_release(&s);
    assert_int_equal(settings_from("nfq:\n  mode: route\n  route-queue: 7\n", &s, NULL, err), 0);
    assert_int_equal(s.nfq.mode, NFQ_MODE_ROUTE);
    assert_int_equal(s.nfq.route_queue, 7);
    settings_release(&s);
    settings_fail("nfq:\n  mode: bounce\n", "caracal.yaml:2: nfq.mode: expected accept, repeat or route");
    settings_fail("nfq:\n  queue-maxlen: 0\n", "caracal.yaml:2: nfq.queue-maxlen");
    /* app layer */
    assert_int_equal(settings_from("app-layer:\n  protocols:\n    http:\n      enabled: no\n"
                                   "      request-body-limit: 1mb\n    dns:\n      enabled: no\n",
                                   &s, NULL, err), 0);
    assert_false(s.app.http);
    assert_true(s.app.tls);
    assert_false(s.app.dns);
    assert_int_equal(s.app.http_cfg.request_body_limit, 1u << 20);
    settings_release(&s);
    settings_fail("app-layer:\n  protocols:\n    http:\n      response-body-limit: 1gb\n",
                  "caracal.yaml:4: app-layer.protocols.http.response-body-limit: must be at most 64mb");
    settings_fail("app-layer:\n  protocols:\n    tls:\n      enabled: maybe\n",
                  "caracal.yaml:4: app-layer.protocols.tls.enabled");
    settings_fail("outputs:\n  - eve-log:\n      types:\n        - http:\n"
                  "            dump-all-headers: all\n",
                  "caracal.yaml:5: outputs.eve-log.types.http.dump-all-headers: expected both");
    settings_fail("stream:\n  midstream: perhaps\n", "caracal.yaml:2: stream.midstream");
    settings_fail("stream:\n  reassembly:\n    inspect-window: 8\n",
                  "caracal.yaml:3: stream.reassembly.inspect-window: expected from 64 to 1mb");
    settings_fail("stream:\n  reassembly:\n    max-wait: 2gb\n",
                  "caracal.yaml:3: stream.reassembly.max-wait: expected from 4kb to 1gb");
}

static void test_settings_defaults_from_empty_config(void **state)
{
    (void)state;
    struct settings s;
    struct conf *c = conf_new();
    char err[ERRLEN] = "";
    assert_int_equal(settings_load(&s, c, err, sizeof err), 0);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(s.runmode, RUNMODE_WORKERS);
    assert_int_equal(s.workers, cores > 0 ? (unsigned)cores : 1u);
    assert_int_equal(s.ring_size, 16u << 20);
    assert_true(s.decode.checksum_validation);
    assert_int_equal(s.decode.max_layers, 8);
    assert_int_equal(s.flow.memcap, 128ull << 20);
    assert_int_equal(s.flow.hash_size, 65536);
    assert_int_equal(s.flow.emergency_recovery, 30);
    struct flow_config d;
    flow_config_defaults(&d);
    assert_memory_equal(s.flow.timeouts, d.timeouts, sizeof d.timeouts);
    assert_true(s.eve_enabled);
    assert_string_equal(s.eve_filename, "eve.json");
    assert_int_equal(s.eve_buffer, 64 * 1024);
    assert_int_equal(s.eve_types, EVE_TYPE_FLOW | EVE_TYPE_ANOMALY | EVE_TYPE_STATS |
                                      EVE_TYPE_ALERT | EVE_TYPE_HTTP | EVE_TYPE_TLS |
                                      EVE_TYPE_DNS | EVE_TYPE_DROP);
    assert_int_equal(s.eve_alert_opts, EVE_ALERT_METADATA | EVE_ALERT_TAGGED_PACKETS);
    assert_false(s.fast_enabled);
    assert_true(s.stats_enabled);
    assert_int_equal(s.stats_interval, 8);
    assert_string_equal(s.log_dir, "/var/log/caracal");
    conf_free(c);
}

static void test_settings_reads_every_key(void **state)
{
    (void)state;
    struct settings s;
    struct conf *c;
    char err[ERRLEN];
    int rc = settings_from("default-log-dir: /tmp/logs\n"
                           "runmode: single\n"
                           "threading:\n"
                           "  worker-threads: 3\n"
                           "  ring-size: 1mb\n"
                           "pcap-file:\n"
                           "  checksum-checks: no\n"
                           "decoder:\n"
                           "  max-layers: 4\n"
                           "flow:\n"
                           "  memcap: 2gb\n"
                           "  hash-size: 4096\n"
                           "  emergency-recovery: 50\n"
                           "flow-timeouts:\n"
                           "  default: {new: 1, established: 2, closed: 3,\n"
                           "            emergency-new: 4, emergency-established: 5,\n"
                           "            emergency-closed: 6}\n"
                           "  tcp: {new: 11, established: 12, closed: 13,\n"
                           "        emergency-new: 14, emergency-established: 15,\n"
                           "        emergency-closed: 16}\n"
                           "  udp: {new: 21, established: 22}\n"
                           "  icmp: {emergency-established: 35}\n"
                           "stats:\n"
                           "  enabled: no\n"
                           "  interval: 30\n"
                           "outputs:\n"
                           "  - eve-log:\n"
                           "      enabled: no\n"
                           "      filetype: regular\n"
                           "      filename: /abs/eve.json\n"
                           "      buffer-size: 8kb\n"
                           "      types: [anomaly]\n",
                           &s, &c, err);
    if (rc != 0)
        fail_msg("settings_load: %s", err);
    assert_int_equal(s.runmode, RUNMODE_SINGLE);
    assert_int_equal(s.workers, 3);
    assert_int_equal(s.ring_size, 1u << 20);
    assert_false(s.decode.checksum_validation);
    assert_int_equal(s.decode.max_layers, 4);
    assert_int_equal(s.flow.memcap, 2ull << 30);
    assert_int_equal(s.flow.hash_size, 4096);
    assert_int_equal(s.flow.emergency_recovery, 50);
    const struct flow_timeouts *o = &s.flow.timeouts[FLOW_PROTO_OTHER];
    assert_int_equal(o->new_, 1);
    assert_int_equal(o->established, 2);
    assert_int_equal(o->closed, 3);
    assert_int_equal(o->emerg_new, 4);
    assert_int_equal(o->emerg_established, 5);
    assert_int_equal(o->emerg_closed, 6);
    const struct flow_timeouts *t = &s.flow.timeouts[FLOW_PROTO_TCP];
    assert_int_equal(t->new_, 11);
    assert_int_equal(t->established, 12);
    assert_int_equal(t->closed, 13);
    assert_int_equal(t->emerg_new, 14);
    assert_int_equal(t->emerg_established, 15);
    assert_int_equal(t->emerg_closed, 16);
    /* Keys left out keep the protocol's own default. */
    struct flow_config d;
    flow_config_defaults(&d);
    const struct flow_timeouts *u = &s.flow.timeouts[FLOW_PROTO_UDP];
    assert_int_equal(u->new_, 21);
    assert_int_equal(u->established, 22);
    assert_int_equal(u->emerg_new, d.timeouts[FLOW_PROTO_UDP].emerg_new);
    const struct flow_timeouts *i = &s.flow.timeouts[FLOW_PROTO_ICMP];
    assert_int_equal(i->emerg_established, 35);
    assert_int_equal(i->new_, d.timeouts[FLOW_PROTO_ICMP].new_);
    assert_false(s.stats_enabled);
    assert_int_equal(s.stats_interval, 30);
    assert_false(s.eve_enabled);
    assert_string_equal(s.eve_filename, "/abs/eve.json");
    assert_int_equal(s.eve_buffer, 8192);
    assert_int_equal(s.eve_types, EVE_TYPE_ANOMALY);
    assert_string_equal(s.log_dir, "/tmp/logs");
    conf_free(c);
}

static void test_settings_runmode_names(void **state)
{
    (void)state;
    struct settings s;
    char err[ERRLEN];
    assert_int_equal(settings_from("runmode: single\n", &s, NULL, err), 0);
    assert_int_equal(s.runmode, RUNMODE_SINGLE);
    assert_int_equal(settings_from("runmode: workers\n", &s, NULL, err), 0);
    assert_int_equal(s.runmode, RUNMODE_WORKERS);
    assert_int_equal(settings_from("runmode: autofp\n", &s, NULL, err), 0);
    assert_int_equal(s.runmode, RUNMODE_WORKERS);
}

static void test_settings_bad_runmode_names_line_and_value(void **state)
{
    (void)state;
    settings_fail("stats:\n  enabled: yes\nrunmode: turbo\n",
                  "caracal.yaml:3: runmode: expected single or workers, got 'turbo'");
}

static void test_settings_bad_runmode_from_set(void **state)
{
    (void)state;
    struct settings s;
    struct conf *c = load_ok("runmode: single\n");
    char err[ERRLEN];
    assert_int_equal(conf_set(c, "runmode=Single", err, sizeof err), 0);
    assert_int_equal(settings_load(&s, c, err, sizeof err), -1);
    assert_string_equal(err, "--set: runmode: expected single or workers, got 'Single'");
    conf_free(c);
}

static void test_settings_worker_threads_bounds(void **state)
{
    (void)state;
    settings_fail("threading:\n  worker-threads: 0\n",
                  "caracal.yaml:2: threading.worker-threads: expected a number from 1 to 256");
    settings_fail("threading:\n  worker-threads: 257\n",
                  "caracal.yaml:2: threading.worker-threads: expected a number from 1 to 256");
    settings_fail("threading:\n  worker-threads: many\n",
                  "caracal.yaml:2: threading.worker-threads: expected a number");
    struct settings s;
    char err[ERRLEN];
    assert_int_equal(settings_from("threading:\n  worker-threads: 256\n", &s, NULL, err), 0);
    assert_int_equal(s.workers, 256);
    assert_int_equal(settings_from("threading:\n  worker-threads: auto\n", &s, NULL, err), 0);
    assert_true(s.workers >= 1);
}

static void test_settings_ring_size_bounds(void **state)
{
    (void)state;
    struct settings s;
    char err[ERRLEN];
    assert_int_equal(settings_from("threading:\n  ring-size: 1mb\n", &s, NULL, err), 0);
    assert_int_equal(s.ring_size, 1024 * 1024);
    assert_int_equal(settings_from("threading:\n  ring-size: 1gb\n", &s, NULL, err), 0);
    assert_int_equal(s.ring_size, 1u << 30);
    settings_fail("threading:\n  ring-size: big\n", "caracal.yaml:2: threading.ring-size: ");
    /* Out of range sizes are errors that name the key's place too. */
    settings_fail("threading:\n  ring-size: 1023kb\n", "caracal.yaml:2: threading.ring-size: ");
    settings_fail("threading:\n  ring-size: 2gb\n", "caracal.yaml:2: threading.ring-size: ");
}

static void test_settings_checksum_checks_values(void **state)
{
    (void)state;
    struct settings s;
    char err[ERRLEN];
    assert_int_equal(settings_from("pcap-file:\n  checksum-checks: auto\n", &s, NULL, err), 0);
    assert_true(s.decode.checksum_validation);
    assert_int_equal(settings_from("pcap-file:\n  checksum-checks: no\n", &s, NULL, err), 0);
    assert_false(s.decode.checksum_validation);
    settings_fail("pcap-file:\n  checksum-checks: sometimes\n",
                  "caracal.yaml:2: pcap-file.checksum-checks: expected yes or no");
}

static void test_settings_decoder_max_layers_bounds(void **state)
{
    (void)state;
    settings_fail("decoder:\n  max-layers: 0\n",
                  "caracal.yaml:2: decoder.max-layers: expected a number from 1 to 64");
    settings_fail("decoder:\n  max-layers: 65\n",
                  "caracal.yaml:2: decoder.max-layers: expected a number from 1 to 64");
}

static void test_settings_flow_memcap_bad_and_too_small(void **state)
{
    (void)state;
    settings_fail("flow:\n  memcap: plenty\n", "caracal.yaml:2: flow.memcap: expected a size");
    /* Below 1mb: the message also names where the value came from. */
    settings_fail("flow:\n  memcap: 512kb\n", "caracal.yaml:2: flow.memcap: ");
    struct settings s;
    char err[ERRLEN];
    assert_int_equal(settings_from("flow:\n  memcap: 1mb\n", &s, NULL, err), 0);
    assert_int_equal(s.flow.memcap, 1u << 20);
}

static void test_settings_flow_hash_size_and_recovery_bounds(void **state)
{
    (void)state;
    settings_fail("flow:\n  hash-size: 1023\n",
                  "caracal.yaml:2: flow.hash-size: expected a number from 1024 to");
    settings_fail("flow:\n  emergency-recovery: 0\n",
                  "caracal.yaml:2: flow.emergency-recovery: expected a number from 1 to 100");
    settings_fail("flow:\n  emergency-recovery: 101\n",
                  "caracal.yaml:2: flow.emergency-recovery: expected a number from 1 to 100");
}

static void test_settings_bad_timeout_names_full_key(void **state)
{
    (void)state;
    settings_fail("flow-timeouts:\n  tcp:\n    new: -1\n",
                  "caracal.yaml:3: flow-timeouts.tcp.new: expected a number from 0 to 604800");
    settings_fail("flow-timeouts:\n  udp:\n    emergency-established: soon\n",
                  "caracal.yaml:3: flow-timeouts.udp.emergency-established: expected a number");
    settings_fail("flow-timeouts:\n  default:\n    closed: 604801\n",
                  "caracal.yaml:3: flow-timeouts.default.closed: ");
}

static void test_settings_eve_types_known_and_skipped(void **state)
{
    (void)state;
    struct settings s;
    char err[ERRLEN];
    int rc = settings_from("outputs:\n"
                           "  - eve-log:\n"
                           "      types:\n"
                           "        - alert:\n"
                           "            payload: yes\n"
                           "        - flow\n"
                           "        - http:\n"
                           "            dump-all-headers: both\n"
                           "        - dns\n"
                           "        - tls\n"
                           "        - drop\n"
                           "        - stats:\n"
                           "            totals: yes\n",
                           &s, NULL, err);
    if (rc != 0)
        fail_msg("settings_load: %s", err);
    assert_int_equal(s.eve_types, EVE_TYPE_ALERT | EVE_TYPE_FLOW | EVE_TYPE_STATS |
                                      EVE_TYPE_HTTP | EVE_TYPE_DNS | EVE_TYPE_TLS |
                                      EVE_TYPE_DROP);
    assert_true(s.app.http_cfg.log_headers);
    /* alert options: payload on, metadata and tagged-packets stay on by default */
    assert_int_equal(s.eve_alert_opts, EVE_ALERT_PAYLOAD | EVE_ALERT_METADATA | EVE_ALERT_TAGGED_PACKETS);
    settings_release(&s);
    assert_int_equal(settings_from("outputs:\n  - eve-log:\n      types:\n        - alert:\n"
                                   "            tagged-packets: no\n            metadata: no\n",
                                   &s, NULL, err), 0);
    assert_int_equal(s.eve_alert_opts, 0);
    assert_int_equal(s.eve_anomaly_types,
                     EVE_ANOMALY_DECODE | EVE_ANOMALY_STREAM | EVE_ANOMALY_APPLAYER);
    settings_release(&s);
    /* anomaly: Suricata's layout, decode and stream switched separately */
    assert_int_equal(settings_from("outputs:\n  - eve-log:\n      types:\n        - anomaly:\n"
                                   "            enabled: yes\n            types:\n"
                                   "              decode: no\n              stream: yes\n",
                                   &s, NULL, err), 0);
    assert_int_equal(s.eve_types, EVE_TYPE_ANOMALY);
    assert_int_equal(s.eve_anomaly_types, EVE_ANOMALY_STREAM | EVE_ANOMALY_APPLAYER);
    settings_release(&s);
    assert_int_equal(settings_from("outputs:\n  - eve-log:\n      types:\n        - anomaly:\n"
                                   "            enabled: no\n", &s, NULL, err), 0);
    assert_int_equal(s.eve_types, 0);
    settings_release(&s);
    assert_int_equal(settings_from("outputs:\n  - eve-log:\n      types:\n        - anomaly:\n"
                                   "            types:\n              stream: maybe\n",
                                   &s, NULL, err), -1);
    assert_non_null(strstr(err, "outputs.eve-log.types.anomaly.types.stream: expected yes or no"));
    /* An empty list turns every type off. */
    assert_int_equal(settings_from("outputs:\n  - eve-log:\n      types: []\n", &s, NULL, err), 0);
    assert_int_equal(s.eve_types, 0);
}

static void test_settings_unknown_eve_type_names_its_line(void **state)
{
    (void)state;
    settings_fail("outputs:\n"
                  "  - eve-log:\n"
                  "      types:\n"
                  "        - flow\n"
                  "        - netflow\n",
                  "caracal.yaml:5: outputs.eve-log.types: unknown event type 'netflow'");
}

static void test_settings_eve_found_in_any_output_item(void **state)
{
    (void)state;
    struct settings s;
    struct conf *c;
    char err[ERRLEN];
    assert_int_equal(settings_from("outputs:\n"
                                   "  - fast:\n"
                                   "      enabled: yes\n"
                                   "  - eve-log:\n"
                                   "      filename: second.json\n",
                                   &s, &c, err),
                     0);
    assert_string_equal(s.eve_filename, "second.json"); /* points into c */
    conf_free(c);
}

static void test_settings_bad_eve_values(void **state)
{
    (void)state;
    settings_fail("outputs:\n  - eve-log:\n      enabled: sure\n",
                  "caracal.yaml:3: outputs.eve-log.enabled: expected yes or no");
    settings_fail("outputs:\n  - eve-log:\n      filetype: unix_stream\n",
                  "caracal.yaml:3: outputs.eve-log.filetype: only 'regular' is supported, "
                  "got 'unix_stream'");
    settings_fail("outputs:\n  - eve-log:\n      buffer-size: 65mb\n",
                  "caracal.yaml:3: outputs.eve-log.buffer-size: expected a size up to 64mb");
    settings_fail("outputs:\n  - eve-log:\n      buffer-size: lots\n",
                  "caracal.yaml:3: outputs.eve-log.buffer-size: ");
}

static void test_settings_stats_bad_values(void **state)
{
    (void)state;
    settings_fail("stats:\n  interval: 0\n",
                  "caracal.yaml:2: stats.interval: expected a number from 1 to 86400");
    settings_fail("stats:\n  enabled: often\n", "caracal.yaml:2: stats.enabled: expected yes or no");
}

static void test_settings_set_overrides_file(void **state)
{
    (void)state;
    struct conf *c = load_ok("flow:\n  memcap: 32mb\nstats:\n  interval: 8\n");
    char err[ERRLEN];
    assert_int_equal(conf_set(c, "flow.memcap=256mb", err, sizeof err), 0);
    assert_int_equal(conf_set(c, "stats.interval=2", err, sizeof err), 0);
    assert_int_equal(conf_set(c, "outputs.0.eve-log.enabled=no", err, sizeof err), 0);
    struct settings s;
    assert_int_equal(settings_load(&s, c, err, sizeof err), 0);
    assert_int_equal(s.flow.memcap, 256ull << 20);
    assert_int_equal(s.stats_interval, 2);
    assert_false(s.eve_enabled);
    conf_free(c);
}

/* ---------------------------------------------------------------------------
 * The live capture's BPF filter: the command line, the config keys
 * ------------------------------------------------------------------------- */

#define ARGC(argv) ((int)(sizeof(argv) / sizeof *(argv)) - 1)

static void test_cli_arguments_after_options_are_one_bpf_filter(void **state)
{
    (void)state;
    struct options o;
    char err[ERRLEN] = "";
    char *words[] = { "caracal", "-i", "eth0", "tcp", "port", "80", NULL };
    assert_int_equal(cli_parse(ARGC(words), words, &o, err, sizeof err), 0);
    assert_string_equal(o.iface, "eth0");
    assert_string_equal(o.bpf, "tcp port 80");

    char *quoted[] = { "caracal", "--af-packet=eth1", "-l", "/tmp", "tcp port 80 or udp", NULL };
    assert_int_equal(cli_parse(ARGC(quoted), quoted, &o, err, sizeof err), 0);
    assert_true(o.af_packet);
    assert_string_equal(o.iface, "eth1");
    assert_string_equal(o.bpf, "tcp port 80 or udp");

    /* options may follow the filter, as with tcpdump */
    char *mixed[] = { "caracal", "not port 22", "-i", "eth0", "--runmode", "workers", NULL };
    assert_int_equal(cli_parse(ARGC(mixed), mixed, &o, err, sizeof err), 0);
    assert_string_equal(o.bpf, "not port 22");
    assert_string_equal(o.runmode, "workers");

    char *none[] = { "caracal", "-i", "eth0", NULL };
    assert_int_equal(cli_parse(ARGC(none), none, &o, err, sizeof err), 0);
    assert_null(o.bpf);
}

static void test_cli_filter_needs_a_live_capture(void **state)
{
    (void)state;
    struct options o;
    char err[ERRLEN] = "";
    char *file[] = { "caracal", "-r", "a.pcap", "b.pcap", NULL };
    assert_int_equal(cli_parse(ARGC(file), file, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "unexpected argument 'b.pcap'"));
    assert_non_null(strstr(err, "needs -i or --af-packet"));

    /* --af-packet takes its interface after '=': say so */
    char *afp[] = { "caracal", "--af-packet", "eth0", NULL };
    assert_int_equal(cli_parse(ARGC(afp), afp, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "--af-packet=eth0 or -i eth0"));
}

static void test_cli_filter_longer_than_the_limit_is_refused(void **state)
{
    (void)state;
    static char word[CLI_MAX_FILTER / 2];
    memset(word, 'a', sizeof word - 1);
    struct options o;
    char err[ERRLEN] = "";
    char *fits[] = { "caracal", "-i", "eth0", word, NULL };
    assert_int_equal(cli_parse(ARGC(fits), fits, &o, err, sizeof err), 0);
    assert_int_equal(strlen(o.bpf), sizeof word - 1);
    char *too_long[] = { "caracal", "-i", "eth0", word, word, "x", NULL };
    assert_int_equal(cli_parse(ARGC(too_long), too_long, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "BPF filter on the command line is longer than"));
}

/* The filter cli_live_filter picks for argv over yaml; its origin in origin. */
static const char *live_filter_of(const char *yaml, char **argv, int argc, char *origin,
                                  size_t len)
{
    static struct live_filter lf;
    struct options o;
    char err[ERRLEN] = "";
    if (cli_parse(argc, argv, &o, err, sizeof err) != 0)
        fail_msg("%s", err);
    struct conf *c = load_ok(yaml);
    if (cli_live_filter(&o, c, &lf, err, sizeof err) != 0)
        fail_msg("%s", err);
    snprintf(origin, len, "%s", lf.f.origin);
    static char expr[256];
    snprintf(expr, sizeof expr, "%s", lf.f.expr ? lf.f.expr : "(none)");
    conf_free(c);
    return expr;
}

static void test_live_filter_command_line_wins_over_key(void **state)
{
    (void)state;
    char origin[700];
    char *argv[] = { "caracal", "--af-packet=eth0", "udp", NULL };
    assert_string_equal(live_filter_of("af-packet:\n  bpf-filter: tcp\n", argv, ARGC(argv),
                                       origin, sizeof origin), "udp");
    assert_string_equal(origin, "command line");
}

static void test_live_filter_key_of_each_capture_method(void **state)
{
    (void)state;
    char origin[700];
    const char *yaml = "pcap:\n  bpf-filter: port 53\naf-packet:\n  bpf-filter: port 80\n";
    char *afp[] = { "caracal", "--af-packet=eth0", NULL };
    assert_string_equal(live_filter_of(yaml, afp, ARGC(afp), origin, sizeof origin), "port 80");
    assert_string_equal(origin, "caracal.yaml:4: af-packet.bpf-filter");
    char *pcap[] = { "caracal", "-i", "eth0", NULL };
    assert_string_equal(live_filter_of(yaml, pcap, ARGC(pcap), origin, sizeof origin),
                        "port 53");
    assert_string_equal(origin, "caracal.yaml:2: pcap.bpf-filter");
    /* -i does not take af-packet's filter */
    assert_string_equal(live_filter_of("af-packet:\n  bpf-filter: port 80\n", pcap,
                                       ARGC(pcap), origin, sizeof origin), "(none)");
}

static void test_live_filter_suricata_interface_list(void **state)
{
    (void)state;
    char origin[700];
    const char *yaml = "af-packet:\n"
                       "  - interface: eth1\n"
                       "    bpf-filter: port 1\n"
                       "  - interface: eth0\n"
                       "    bpf-filter: port 0\n"
                       "  - interface: eth2\n"
                       "    threads: 2\n"
                       "  - interface: default\n"
                       "    bpf-filter: port 9\n";
    char *eth0[] = { "caracal", "--af-packet=eth0", NULL };
    assert_string_equal(live_filter_of(yaml, eth0, ARGC(eth0), origin, sizeof origin), "port 0");
    assert_string_equal(origin, "caracal.yaml:5: af-packet.1.bpf-filter");
    /* an item without the key, and an interface without an item: the default's */
    char *eth2[] = { "caracal", "--af-packet", "-i", "eth2", NULL };
    assert_string_equal(live_filter_of(yaml, eth2, ARGC(eth2), origin, sizeof origin), "port 9");
    assert_string_equal(origin, "caracal.yaml:9: af-packet.3.bpf-filter");
    char *eth7[] = { "caracal", "--af-packet=eth7", NULL };
    assert_string_equal(live_filter_of(yaml, eth7, ARGC(eth7), origin, sizeof origin), "port 9");
    /* no default item: no filter */
    char *pcap[] = { "caracal", "-i", "eth7", NULL };
    assert_string_equal(live_filter_of("pcap:\n  - interface: eth0\n    bpf-filter: tcp\n", pcap,
                                       ARGC(pcap), origin, sizeof origin), "(none)");
}

static void test_live_filter_key_from_set_and_bad_kinds(void **state)
{
    (void)state;
    struct options o;
    struct live_filter lf;
    char err[ERRLEN] = "";
    char *argv[] = { "caracal", "--af-packet=eth0", NULL };
    assert_int_equal(cli_parse(ARGC(argv), argv, &o, err, sizeof err), 0);

    struct conf *c = load_ok("af-packet:\n  bpf-filter: tcp\n");
    assert_int_equal(conf_set(c, "af-packet.bpf-filter=icmp", err, sizeof err), 0);
    assert_int_equal(cli_live_filter(&o, c, &lf, err, sizeof err), 0);
    assert_string_equal(lf.f.expr, "icmp");
    assert_string_equal(lf.f.origin, "--set: af-packet.bpf-filter");
    conf_free(c);

    c = load_ok("af-packet:\n  bpf-filter:\n    port: 80\n");
    assert_int_equal(cli_live_filter(&o, c, &lf, err, sizeof err), -1);
    assert_ptr_equal(strstr(err, "caracal.yaml:2: af-packet.bpf-filter: "), err);
    assert_non_null(strstr(err, "not a mapping"));
    conf_free(c);

    /* an empty section, as in the shipped file: no filter */
    c = load_ok("af-packet:\n");
    assert_int_equal(cli_live_filter(&o, c, &lf, err, sizeof err), 0);
    assert_null(lf.f.expr);
    conf_free(c);
}

static void test_afp_filter_compiles_or_names_its_origin(void **state)
{
    (void)state;
    struct afp_filter *flt = (struct afp_filter *)1;
    struct capture_filter none = { "  ", "command line" };
    assert_int_equal(afp_filter_compile(&none, &flt), 0);
    assert_null(flt);
    struct capture_filter good = { "tcp port 80 or (udp and not port 53)", "command line" };
    assert_int_equal(afp_filter_compile(&good, &flt), 0);
    assert_non_null(flt);
    afp_filter_free(flt);
    struct capture_filter bad = { "tcp prt 80", "caracal.yaml:3: af-packet.bpf-filter" };
    assert_int_equal(afp_filter_compile(&bad, &flt), -1);
    assert_null(flt);
}

/* ---------------------------------------------------------------------------
 * The shipped etc/caracal.yaml
 * ------------------------------------------------------------------------- */

static void test_shipped_config_loads_with_expected_values(void **state)
{
    (void)state;
    const char *top = getenv("TOP_SRCDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/etc/caracal.yaml", top && *top ? top : ".");
    struct conf *c = conf_new();
    char err[ERRLEN] = "";
    if (conf_load_file(c, path, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(value_of(c, "vars.address-groups.HOME_NET"),
                        "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]");
    assert_string_equal(value_of(c, "rule-files.0"), "caracal.rules");
    assert_string_equal(value_of(c, "outputs.0.eve-log.filename"), "eve.json");
    assert_string_equal(value_of(c, "threading.worker-threads"), "auto");
    struct options o;
    struct live_filter lf;
    char *afp[] = { "caracal", "--af-packet=eth0", NULL };
    assert_int_equal(cli_parse(ARGC(afp), afp, &o, err, sizeof err), 0);
    assert_int_equal(cli_live_filter(&o, c, &lf, err, sizeof err), 0);
    assert_null(lf.f.expr); /* the key is there, commented out */

    struct settings s;
    if (settings_load(&s, c, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(s.runmode, RUNMODE_WORKERS);
    assert_int_equal(s.ring_size, 16u << 20);
    assert_true(s.decode.checksum_validation);
    assert_int_equal(s.decode.max_layers, 8);
    assert_int_equal(s.flow.memcap, 128ull << 20);
    assert_int_equal(s.flow.hash_size, 65536);
    assert_int_equal(s.flow.emergency_recovery, 30);
    assert_int_equal(s.flow.timeouts[FLOW_PROTO_TCP].new_, 60);
    assert_int_equal(s.flow.timeouts[FLOW_PROTO_TCP].established, 600);
    assert_int_equal(s.flow.timeouts[FLOW_PROTO_TCP].closed, 60);
    assert_int_equal(s.flow.timeouts[FLOW_PROTO_TCP].emerg_closed, 10);
    assert_int_equal(s.flow.timeouts[FLOW_PROTO_UDP].established, 300);
    assert_int_equal(s.flow.timeouts[FLOW_PROTO_OTHER].emerg_new, 10);
    assert_true(s.eve_enabled);
    assert_string_equal(s.eve_filename, "eve.json");
    assert_int_equal(s.eve_buffer, 64 * 1024);
    assert_int_equal(s.eve_types, EVE_TYPE_ALERT | EVE_TYPE_FLOW | EVE_TYPE_ANOMALY |
                                      EVE_TYPE_STATS | EVE_TYPE_HTTP | EVE_TYPE_TLS |
                                      EVE_TYPE_DNS | EVE_TYPE_DROP);
    assert_int_equal(s.eve_alert_opts, EVE_ALERT_METADATA | EVE_ALERT_TAGGED_PACKETS);
    assert_int_equal(s.eve_anomaly_types,
                     EVE_ANOMALY_DECODE | EVE_ANOMALY_STREAM | EVE_ANOMALY_APPLAYER);
    assert_true(s.stream.enabled);
    assert_int_equal(s.stream.depth, 1u << 20);
    assert_true(s.app.http && s.app.tls && s.app.dns);
    assert_true(s.fast_enabled);
    assert_string_equal(s.fast_filename, "fast.log");
    assert_true(s.stats_enabled);
    assert_int_equal(s.stats_interval, 8);
    assert_string_equal(s.log_dir, "/var/log/caracal");
    assert_int_equal(s.defrag.npolicies, 2); /* linux: [0.0.0.0/0, ::/0] */
    settings_release(&s);

    /* The same file with an override on top. */
    assert_int_equal(conf_set(c, "threading.worker-threads=0", err, sizeof err), 0);
    assert_int_equal(settings_load(&s, c, err, sizeof err), -1);
    settings_release(&s);
    assert_ptr_equal(strstr(err, "--set: threading.worker-threads: "), err);
    conf_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_defrag_and_host_os_policy),
        cmocka_unit_test(test_settings_stream),
        cmocka_unit_test(test_load_nested_mappings_by_dotted_path),
        cmocka_unit_test(test_load_records_file_and_line_of_each_node),
        cmocka_unit_test(test_load_missing_paths_are_null),
        cmocka_unit_test(test_load_sequences_are_addressed_by_index),
        cmocka_unit_test(test_load_flow_style_collections),
        cmocka_unit_test(test_load_duplicate_scalar_key_last_wins),
        cmocka_unit_test(test_load_duplicate_mapping_key_replaces_whole_mapping),
        cmocka_unit_test(test_load_duplicate_key_changes_kind),
        cmocka_unit_test(test_load_syntax_error_names_file_and_line),
        cmocka_unit_test(test_load_rejects_non_mapping_top_level),
        cmocka_unit_test(test_load_rejects_aliases_and_complex_keys),
        cmocka_unit_test(test_load_rejects_excessive_nesting),
        cmocka_unit_test(test_load_empty_document_is_empty_config),
        cmocka_unit_test(test_load_file_uses_path_in_messages),
        cmocka_unit_test(test_load_file_missing_reports_path),
        cmocka_unit_test(test_set_creates_new_path),
        cmocka_unit_test(test_set_overrides_loaded_scalar),
        cmocka_unit_test(test_set_scalar_replaces_mapping),
        cmocka_unit_test(test_set_below_scalar_turns_it_into_mapping),
        cmocka_unit_test(test_set_reaches_into_sequences),
        cmocka_unit_test(test_set_value_keeps_everything_after_first_equals),
        cmocka_unit_test(test_set_rejects_malformed_assignments),
        cmocka_unit_test(test_set_bad_value_error_says_set),
        cmocka_unit_test(test_parse_bool_accepts_yaml_words_any_case),
        cmocka_unit_test(test_parse_bool_rejects_other_words),
        cmocka_unit_test(test_get_bool_default_value_and_error),
        cmocka_unit_test(test_get_int_bounds_are_inclusive),
        cmocka_unit_test(test_get_int_rejects_non_numbers),
        cmocka_unit_test(test_parse_size_suffixes_are_powers_of_1024),
        cmocka_unit_test(test_parse_size_rejects_bad_sizes),
        cmocka_unit_test(test_get_size_error_names_file_line_and_key),
        cmocka_unit_test(test_get_str_returns_value_or_default),
        cmocka_unit_test(test_settings_defaults_from_empty_config),
        cmocka_unit_test(test_settings_reads_every_key),
        cmocka_unit_test(test_settings_runmode_names),
        cmocka_unit_test(test_settings_bad_runmode_names_line_and_value),
        cmocka_unit_test(test_settings_bad_runmode_from_set),
        cmocka_unit_test(test_settings_worker_threads_bounds),
        cmocka_unit_test(test_settings_ring_size_bounds),
        cmocka_unit_test(test_settings_checksum_checks_values),
        cmocka_unit_test(test_settings_decoder_max_layers_bounds),
        cmocka_unit_test(test_settings_flow_memcap_bad_and_too_small),
        cmocka_unit_test(test_settings_flow_hash_size_and_recovery_bounds),
        cmocka_unit_test(test_settings_bad_timeout_names_full_key),
        cmocka_unit_test(test_settings_eve_types_known_and_skipped),
        cmocka_unit_test(test_settings_unknown_eve_type_names_its_line),
        cmocka_unit_test(test_settings_eve_found_in_any_output_item),
        cmocka_unit_test(test_settings_bad_eve_values),
        cmocka_unit_test(test_settings_stats_bad_values),
        cmocka_unit_test(test_settings_set_overrides_file),
        cmocka_unit_test(test_cli_arguments_after_options_are_one_bpf_filter),
        cmocka_unit_test(test_cli_filter_needs_a_live_capture),
        cmocka_unit_test(test_cli_filter_longer_than_the_limit_is_refused),
        cmocka_unit_test(test_live_filter_command_line_wins_over_key),
        cmocka_unit_test(test_live_filter_key_of_each_capture_method),
        cmocka_unit_test(test_live_filter_suricata_interface_list),
        cmocka_unit_test(test_live_filter_key_from_set_and_bad_kinds),
        cmocka_unit_test(test_afp_filter_compiles_or_names_its_origin),
        cmocka_unit_test(test_shipped_config_loads_with_expected_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
