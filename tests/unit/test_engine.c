/* Unit tests for the detection engine as a whole: rule files loaded into
 * an engine (load report, fast pattern choice, grouping, the address index,
 * the Hyperscan database cache), then packets through detect_packet()
 * (candidates, evaluation order and actions, alert overflow, flow, ICMP
 * and ip rules). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "detect/engine_int.h"
#include "detect/kw_runtime.h"
#include "engine/config.h"
#include "flow/flow.h"
#include "output/stats.h"
#include "pktbuild.h"
#include "util/log.h"

#define T0 1714564800

struct pkt {
    struct pktbuf pb;
    struct packet p;
};

struct fx {
    char tmp[PATH_MAX];
    char cache[PATH_MAX + 16];
    char classfile[PATH_MAX + 64];
    unsigned nfiles;
    struct conf *conf;
    struct detect_engine *de;
    struct detect_thread *dt;
    struct detect_load_report rep;
    struct detect_result res;
    struct stats stats;
    struct decode_ctx dc;
    struct flow_table *ft;
};

static struct fx *F;

/* ---- Fixture ---------------------------------------------------------------- */

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[PATH_MAX * 2];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Flows end as in a worker: their detection state goes with them. */
static void end_flow(void *ctx, struct flow *f, enum flow_end_reason reason)
{
    (void)ctx;
    (void)reason;
    detect_flow_free(f);
}

static int setup(void **state)
{
    F = calloc(1, sizeof *F);
    if (F == NULL)
        return -1;
    snprintf(F->tmp, sizeof F->tmp, "/tmp/caracal-engine-XXXXXX");
    if (mkdtemp(F->tmp) == NULL)
        return -1;
    snprintf(F->cache, sizeof F->cache, "%s/cache", F->tmp);
    const char *top = getenv("TOP_SRCDIR");
    char topabs[PATH_MAX];
    if (realpath(top && *top ? top : ".", topabs) == NULL)
        return -1;
    snprintf(F->classfile, sizeof F->classfile, "%s/etc/classification.config", topabs);
    F->dc.cfg.checksum_validation = false;
    F->dc.cfg.max_layers = 8;
    F->dc.stats = &F->stats;
    log_set_level(LOG_LVL_ERROR);
    *state = F;
    return 0;
}

static void unload(void)
{
    detect_thread_free(F->dt);
    F->dt = NULL;
    detect_engine_free(F->de);
    F->de = NULL;
    detect_report_free(&F->rep);
    conf_free(F->conf);
    F->conf = NULL;
}

static int teardown(void **state)
{
    (void)state;
    if (F->ft) {
        struct timeval end = { .tv_sec = T0 + 100000 };
        flow_table_flush(F->ft, &end); /* end_flow frees their detection state */
        flow_table_free(F->ft);
    }
    unload();
    rm_rf(F->tmp);
    free(F);
    return 0;
}

/* Writes text to a new rule file in the temp dir; returns its path (static per call slot). */
static const char *write_rules(const char *text)
{
    static char paths[8][PATH_MAX + 32];
    char *path = paths[F->nfiles % 8];
    snprintf(path, sizeof paths[0], "%s/r%u.rules", F->tmp, F->nfiles++);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static struct conf *make_conf(const char *cache_dir, const char *extra)
{
    struct conf *c = conf_new();
    assert_non_null(c);
    char buf[PATH_MAX * 2], err[256];
    snprintf(buf, sizeof buf, "classification-file=%s", F->classfile);
    assert_int_equal(conf_set(c, buf, err, sizeof err), 0);
    snprintf(buf, sizeof buf, "detect.sgh-mpm-caching-path=%s", cache_dir);
    assert_int_equal(conf_set(c, buf, err, sizeof err), 0);
    /* no threshold.config or reference.config from the system */
    snprintf(buf, sizeof buf, "threshold-file=%s/none.config", F->tmp);
    assert_int_equal(conf_set(c, buf, err, sizeof err), 0);
    if (extra)
        assert_int_equal(conf_set(c, extra, err, sizeof err), 0);
    return c;
}

/* Loads the files into a fresh engine (the previous one is freed). */
static void load_files_cfg(const char *const *files, unsigned n, const char *cache_dir,
                           const char *extra)
{
    unload();
    F->conf = make_conf(cache_dir ? cache_dir : F->cache, extra);
    F->de = detect_engine_load(F->conf, files, n, &F->rep);
    assert_non_null(F->de);
    F->dt = detect_thread_new(F->de);
    assert_non_null(F->dt);
}

static void load(const char *rules)
{
    const char *f = write_rules(rules);
    load_files_cfg(&f, 1, NULL, NULL);
}

static const struct sig *sig_by_sid(uint32_t sid)
{
    for (unsigned i = 0; i < F->de->nsigs; i++)
        if (F->de->sigs[i]->id == sid)
            return F->de->sigs[i];
    fail_msg("no signature %u", sid);
    return NULL;
}

static unsigned reason_count(const char *reason)
{
    for (unsigned i = 0; i < F->rep.nreasons; i++)
        if (strcmp(F->rep.reasons[i].reason, reason) == 0)
            return F->rep.reasons[i].n;
    return 0;
}

/* ---- Packets ------------------------------------------------------------------ */

static void finish(struct pkt *k, const char *payload)
{
    if (payload)
        pb_put(&k->pb, payload, strlen(payload));
    pb_close(&k->pb);
    pkt_finish(&k->p, k->pb.b, k->pb.len, LINK_ETHERNET);
    decode_packet(&F->dc, &k->p);
    assert_true(k->p.flags & PKT_HAS_TUPLE);
}

static void ip_hdr(struct pkt *k, const char *src, const char *dst)
{
    pb_init(&k->pb);
    pb_eth(&k->pb, 0);
    if (strchr(src, ':'))
        pb_ipv6(&k->pb, &(struct pb_ipv6){ .src = src, .dst = dst });
    else
        pb_ipv4(&k->pb, &(struct pb_ipv4){ .src = src, .dst = dst });
}

static struct packet *tcp_flags(struct pkt *k, const char *src, uint16_t sp, const char *dst,
                                uint16_t dp, uint8_t flags, uint32_t seq, uint32_t ack,
                                const char *payload)
{
    ip_hdr(k, src, dst);
    pb_tcp(&k->pb, &(struct pb_tcp){ .sp = sp, .dp = dp, .flags = flags, .seq = seq,
                                     .ack = ack });
    finish(k, payload);
    return &k->p;
}

static struct packet *tcp(struct pkt *k, const char *src, uint16_t sp, const char *dst,
                          uint16_t dp, const char *payload)
{
    return tcp_flags(k, src, sp, dst, dp, TCP_ACK | TCP_PSH, 1000, 2000, payload);
}

static struct packet *udp(struct pkt *k, const char *src, uint16_t sp, const char *dst,
                          uint16_t dp, const char *payload)
{
    ip_hdr(k, src, dst);
    pb_udp(&k->pb, &(struct pb_udp){ .sp = sp, .dp = dp });
    finish(k, payload);
    return &k->p;
}

static struct packet *icmp(struct pkt *k, const char *src, const char *dst, uint8_t type,
                           const char *payload)
{
    ip_hdr(k, src, dst);
    if (strchr(src, ':'))
        pb_icmp6(&k->pb, &(struct pb_icmp){ .type = type, .id = 7, .seq = 1 });
    else
        pb_icmp4(&k->pb, &(struct pb_icmp){ .type = type, .id = 7, .seq = 1 });
    finish(k, payload);
    return &k->p;
}

/* Runs detection without a flow (direction to server). */
static struct detect_result *detect(const struct packet *p)
{
    detect_packet(F->dt, p, NULL, FLOW_TOSERVER, &F->res);
    return &F->res;
}

static bool alerted(uint32_t sid)
{
    for (unsigned i = 0; i < F->res.nalerts; i++)
        if (F->res.alerts[i].sid == sid)
            return true;
    return false;
}

/* The sids alerted, comma-separated, in alert order. */
static const char *alert_sids(void)
{
    static char buf[512];
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < F->res.nalerts; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%u", i ? "," : "",
                              F->res.alerts[i].sid);
    return buf;
}

/* ---- Load report ----------------------------------------------------------- */

static void test_load_report(void **state)
{
    (void)state;
    const char *files[3];
    files[0] = write_rules(
        "# a comment\n"
        "\n"
        "alert tcp any any -> any any (msg:\"one\"; content:\"one\"; sid:1; rev:1;)\n"
        "alert tcp any any -> any any (msg:\"two\"; \\\n"
        "  content:\"two\"; sid:2; rev:1;)\n"
        "alert smtp any any -> any any (msg:\"smtp\"; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"bad kw\"; frobnicate:1; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"bad kw 2\"; frobnicate; sid:5;)\n");
    files[1] = write_rules(
        "alert udp any any -> any any (msg:\"three\"; content:\"three\"; sid:6;)\n"
        "alert udp any any -> any any (msg:\"dup\"; content:\"dup\"; sid:1;)\n"
        "alert ftp any any -> any any (msg:\"ftp\"; sid:7;)\n");
    char missing[PATH_MAX + 32];
    snprintf(missing, sizeof missing, "%s/does-not-exist.rules", F->tmp);
    files[2] = missing;
    load_files_cfg(files, 3, NULL, NULL);

    assert_int_equal(F->rep.files, 2);
    assert_int_equal(F->rep.files_unreadable, 1);
    assert_int_equal(F->rep.loaded, 3);
    assert_int_equal(F->rep.failed, 5);
    assert_int_equal(detect_engine_sig_count(F->de), 3);
    assert_int_equal(F->rep.nreasons, 4);
    assert_int_equal(reason_count("unsupported keyword 'frobnicate'"), 2);
    assert_int_equal(reason_count("unsupported protocol 'smtp'"), 1);
    assert_int_equal(reason_count("unsupported protocol 'ftp'"), 1);
    assert_int_equal(reason_count("duplicate sid 1"), 1);
    unsigned total = 0;
    for (unsigned i = 0; i < F->rep.nreasons; i++)
        total += F->rep.reasons[i].n;
    assert_int_equal(total, F->rep.failed);
    /* the duplicate is the second one: the first sid 1 is kept */
    assert_string_equal(sig_by_sid(1)->msg, "one");

    /* detect_report_print: Suricata's line, then the tally, most frequent first */
    char *out = NULL;
    size_t outlen = 0;
    FILE *mf = open_memstream(&out, &outlen);
    assert_non_null(mf);
    detect_report_print(mf, &F->rep);
    fclose(mf);
    const char *expect =
        "2 rule files processed. 3 rules successfully loaded, 5 rules failed\n"
        "rules rejected, by reason:\n"
        "       2  unsupported keyword 'frobnicate'\n"
        "       1  duplicate sid 1\n"
        "       1  unsupported protocol 'ftp'\n"
        "       1  unsupported protocol 'smtp'\n";
    assert_string_equal(out, expect);
    free(out);

    /* no failures: the line alone */
    load("alert tcp any any -> any any (content:\"x\"; sid:1;)\n");
    mf = open_memstream(&out, &outlen);
    detect_report_print(mf, &F->rep);
    fclose(mf);
    assert_string_equal(out, "1 rule files processed. 1 rules successfully loaded, 0 rules failed\n");
    free(out);
}

static void test_empty_engine(void **state)
{
    (void)state;
    load("# nothing\n");
    assert_int_equal(F->rep.loaded, 0);
    assert_int_equal(F->rep.hs_databases, 0);
    struct pkt k;
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "anything"));
    assert_int_equal(F->res.nalerts, 0);
    assert_false(F->res.drop);
}

/* ---- Fast patterns ------------------------------------------------------------ */

static void test_fast_pattern_choice(void **state)
{
    (void)state;
    load("alert tcp any any -> any any (content:\"aaaaaaaaaaaaaaaa\"; content:\"bb\"; "
         "fast_pattern; sid:1;)\n"
         "alert tcp any any -> any any (content:\"cc\"; content:\"dddddddddd\"; "
         "content:\"eeee\"; sid:2;)\n"
         "alert tcp any any -> any any (content:!\"ffffffffffffffffffff\"; content:\"gg\"; sid:3;)\n"
         "alert tcp any any -> any any (dsize:>0; sid:4;)\n"
         "alert tcp any any -> any any (content:!\"hhhh\"; sid:5;)\n"
         "alert tcp any any -> any any (content:\"iiiiiiiiii\"; fast_pattern:only; sid:6;)\n");
    assert_int_equal(F->rep.loaded, 6);
    const struct sig *s = sig_by_sid(1);
    assert_non_null(s->fp);
    assert_int_equal(s->fp->len, 2);
    assert_memory_equal(s->fp->pat, "bb", 2);
    s = sig_by_sid(2);
    assert_non_null(s->fp);
    assert_memory_equal(s->fp->pat, "dddddddddd", 10);
    s = sig_by_sid(3);
    assert_non_null(s->fp);
    assert_memory_equal(s->fp->pat, "gg", 2);
    assert_null(sig_by_sid(4)->fp);
    assert_null(sig_by_sid(5)->fp);
    assert_int_equal(sig_by_sid(6)->fp->len, 10);
    /* 4 and 5 are checked on every TCP packet, in both directions */
    const struct sig_group *g = &F->de->groups[GRP_TCP][0].pg[0];
    assert_int_equal(g->nnofp, 2);
    assert_int_equal(g->nfp, 4);
    assert_int_equal(F->de->groups[GRP_UDP][0].pg[0].nnofp, 0);

    struct pkt k;
    /* sid 1 needs both contents: only the fast pattern present */
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "xx bb xx"));
    assert_string_equal(alert_sids(), "4,5");
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "aaaaaaaaaaaaaaaa bb"));
    assert_string_equal(alert_sids(), "1,4,5");
    /* sid 2: without its fast pattern, the other contents are not enough */
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "cc eeee"));
    assert_false(alerted(2));
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "cc dddddddddd eeee"));
    assert_true(alerted(2));
    /* sid 3: the negated content keeps it quiet even though its fast pattern is there */
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "gg ffffffffffffffffffff"));
    assert_string_equal(alert_sids(), "4,5");
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "gg hhhh"));
    assert_string_equal(alert_sids(), "3,4");
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "iiiiiiiiii"));
    assert_string_equal(alert_sids(), "4,5,6");
    /* nothing without a payload for payload rules; dsize:>0 neither */
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, NULL));
    assert_int_equal(F->res.nalerts, 0);
}

static void test_fast_pattern_chop(void **state)
{
    (void)state;
    load("alert tcp any any -> any any (content:\"abcdefgh\"; fast_pattern:2,3; sid:1;)\n"
         "alert tcp any any -> any any (content:\"ABCDEFGH\"; nocase; fast_pattern:5,3; "
         "sid:2;)\n");
    assert_int_equal(F->rep.loaded, 2);
    const struct sig *s = sig_by_sid(1);
    assert_true(s->fp->flags & CONTENT_FP_CHOP);
    assert_int_equal(s->fp->fp_chop_off, 2);
    assert_int_equal(s->fp->fp_chop_len, 3);
    struct pkt k;
    /* the chopped part alone makes a candidate, not an alert */
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "xx cde fgh xx"));
    assert_int_equal(F->res.nalerts, 0);
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "xx abcdefgh xx"));
    assert_string_equal(alert_sids(), "1,2");
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "xx AbCdEfGh xx"));
    assert_string_equal(alert_sids(), "2");
}

static void test_fast_pattern_other_conditions_fail(void **state)
{
    (void)state;
    load("alert tcp any any -> any 80 (content:\"needle\"; sid:1;)\n"
         "alert tcp any any -> any any (content:\"needle\"; depth:6; sid:2;)\n"
         "alert tcp any any -> any any (content:\"needle\"; dsize:<10; sid:3;)\n"
         "alert tcp any any -> any any (content:\"needle\"; content:\"thread\"; distance:0; "
         "within:10; sid:4;)\n"
         "alert tcp 10.9.9.9 any -> any any (content:\"needle\"; sid:5;)\n"
         "alert udp any any -> any any (content:\"needle\"; sid:6;)\n"
         "alert tcp any any -> any any (content:\"needle\"; flags:S; sid:7;)\n"
         "alert tcp any any -> any any (content:\"needle\"; pcre:\"/needle\\d/\"; sid:8;)\n");
    assert_int_equal(F->rep.loaded, 8);
    struct pkt k;
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 8080, "xx needle and a long thread later"));
    assert_int_equal(F->res.nalerts, 0);
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "needle thread needle7"));
    assert_string_equal(alert_sids(), "1,2,4,8");
    detect(tcp(&k, "10.9.9.9", 1234, "10.0.0.2", 81, "needle"));
    assert_string_equal(alert_sids(), "2,3,5");
    detect(tcp_flags(&k, "10.0.0.1", 1234, "10.0.0.2", 81, TCP_SYN, 1, 0, "needle"));
    assert_string_equal(alert_sids(), "2,3,7");
    detect(udp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "needle"));
    assert_string_equal(alert_sids(), "6");
}

static void test_nocase_fast_pattern(void **state)
{
    (void)state;
    load("alert tcp any any -> any any (content:\"EvIl\"; nocase; sid:1;)\n"
         "alert tcp any any -> any any (content:\"EvIl\"; sid:2;)\n"
         "alert tcp any any -> any any (content:\"ab\"; content:\"LongerNoCase\"; nocase; sid:3;)\n"
         "alert tcp any any -> any any (content:\"|DE AD|bE\"; nocase; sid:4;)\n");
    assert_int_equal(F->rep.loaded, 4);
    struct pkt k;
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "some eviL thing"));
    assert_string_equal(alert_sids(), "1");
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "some EvIl thing"));
    assert_string_equal(alert_sids(), "1,2");
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "ab LONGERNOCASE"));
    assert_string_equal(alert_sids(), "3");
    /* the nocase content alone is not enough: "ab" is case-sensitive */
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "AB LONGERNOCASE"));
    assert_int_equal(F->res.nalerts, 0);
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "x\xde\xad" "BEx"));
    assert_string_equal(alert_sids(), "4");
}

/* ---- Actions ----------------------------------------------------------------------- */

static void test_action_order(void **state)
{
    (void)state;
    /* written in the reverse of the evaluation order */
    load("alert tcp any any -> any any (msg:\"alert\"; content:\"x\"; sid:1;)\n"
         "reject tcp any any -> any 25 (msg:\"reject\"; content:\"x\"; sid:2;)\n"
         "drop tcp any any -> any any (msg:\"drop\"; content:\"x\"; sid:3;)\n"
         "pass tcp any any -> any 22 (msg:\"pass\"; content:\"x\"; sid:4;)\n"
         "alert tcp any any -> any any (msg:\"alert hi\"; content:\"x\"; priority:1; sid:5;)\n"
         "pass tcp 10.5.5.5 any -> any any (msg:\"pass nofp\"; sid:6;)\n");
    assert_int_equal(F->rep.loaded, 6);
    /* evaluation order: pass, drop, reject, alert; by priority within an action */
    assert_int_equal(F->de->sigs[0]->id, 4);
    assert_int_equal(F->de->sigs[1]->id, 6);
    assert_int_equal(F->de->sigs[2]->id, 3);
    assert_int_equal(F->de->sigs[3]->id, 2);
    assert_int_equal(F->de->sigs[4]->id, 5);
    assert_int_equal(F->de->sigs[5]->id, 1);

    struct pkt k;
    /* a pass rule stops everything after it */
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 22, "x"));
    assert_true(F->res.pass);
    assert_false(F->res.drop);
    assert_int_equal(F->res.nalerts, 0);
    /* the pass without a fast pattern (address indexed) too */
    detect(tcp(&k, "10.5.5.5", 1234, "10.0.0.2", 25, "x"));
    assert_true(F->res.pass);
    assert_false(F->res.drop);
    assert_false(F->res.reject);
    assert_int_equal(F->res.nalerts, 0);
    /* drop, then the alerts; drop sets drop but not reject */
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "x"));
    assert_false(F->res.pass);
    assert_true(F->res.drop);
    assert_false(F->res.reject);
    assert_string_equal(alert_sids(), "3,5,1");
    assert_int_equal(F->res.alerts[0].action, ACTION_DROP);
    assert_int_equal(F->res.alerts[1].action, ACTION_ALERT);
    assert_int_equal(F->res.alerts[1].severity, 1);
    assert_string_equal(F->res.alerts[0].msg, "drop");
    /* reject sets both */
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 25, "x"));
    assert_true(F->res.drop);
    assert_true(F->res.reject);
    assert_string_equal(alert_sids(), "3,2,5,1");
    assert_int_equal(F->res.alerts[1].action, ACTION_REJECT);
    /* nothing matches: nothing set */
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 22, "y"));
    assert_false(F->res.pass);
    assert_false(F->res.drop);
    assert_int_equal(F->res.nalerts, 0);
}

static void test_reject_alone_and_alert_fields(void **state)
{
    (void)state;
    load("reject tcp any any -> any any (msg:\"rej\"; content:\"r\"; "
         "classtype:trojan-activity; sid:10; rev:3; gid:1;)\n"
         "alert tcp any any -> any any (msg:\"al\"; content:\"a\"; "
         "metadata:created_at 2024_01_01; target:dest_ip; sid:11;)\n");
    struct pkt k;
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "r"));
    assert_true(F->res.drop);
    assert_true(F->res.reject);
    assert_int_equal(F->res.nalerts, 1);
    const struct detect_alert *a = &F->res.alerts[0];
    assert_int_equal(a->sid, 10);
    assert_int_equal(a->rev, 3);
    assert_int_equal(a->gid, 1);
    assert_int_equal(a->action, ACTION_REJECT);
    assert_string_equal(a->msg, "rej");
    assert_string_equal(a->category, "A Network Trojan was detected");
    assert_int_equal(a->severity, 1);
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "a"));
    assert_false(F->res.drop);
    a = &F->res.alerts[0];
    assert_string_equal(a->category, "");
    assert_int_equal(a->severity, 3);
    assert_non_null(a->metadata);
    assert_string_equal(a->target, "dest_ip");
}

static void test_noalert(void **state)
{
    (void)state;
    load("alert tcp any any -> any any (content:\"q\"; noalert; sid:1;)\n"
         "drop tcp any any -> any any (content:\"d\"; noalert; sid:2;)\n"
         "alert tcp any any -> any any (content:\"q\"; sid:3;)\n"
         "alert tcp any any -> any any (content:\"f\"; flowbits:set,seen; flowbits:noalert; "
         "sid:4;)\n");
    struct pkt k;
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "q"));
    assert_string_equal(alert_sids(), "3");
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "d"));
    assert_true(F->res.drop);
    assert_int_equal(F->res.nalerts, 0);
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "f"));
    assert_int_equal(F->res.nalerts, 0);
}

static void test_alert_overflow(void **state)
{
    (void)state;
    char rules[8192];
    size_t n = 0;
    for (unsigned i = 1; i <= DETECT_MAX_ALERTS + 5; i++)
        n += (size_t)snprintf(rules + n, sizeof rules - n,
                              "alert tcp any any -> any any (content:\"over%u\"; sid:%u;)\n",
                              i % 2 ? 1u : 2u, i);
    /* one more that does not match, one noalert that does */
    n += (size_t)snprintf(rules + n, sizeof rules - n,
                          "alert tcp any any -> any any (content:\"none\"; sid:100;)\n"
                          "alert tcp any any -> any any (content:\"over1\"; noalert; sid:101;)\n");
    load(rules);
    assert_int_equal(F->rep.loaded, DETECT_MAX_ALERTS + 7);
    struct pkt k;
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "over1 over2"));
    assert_int_equal(F->res.nalerts, DETECT_MAX_ALERTS);
    assert_int_equal(F->res.overflow, 5);
    /* the first ones in evaluation order are kept */
    for (unsigned i = 0; i < DETECT_MAX_ALERTS; i++)
        assert_int_equal(F->res.alerts[i].sid, i + 1);
    /* and the next packet starts from zero */
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "over1"));
    assert_int_equal(F->res.nalerts, 10);
    assert_int_equal(F->res.overflow, 0);
}

/* ---- Address index ------------------------------------------------------------------- */

static void test_address_index(void **state)
{
    (void)state;
    load("alert ip [10.1.1.1,10.1.1.5,192.168.7.0/24] any -> any any (msg:\"src\"; sid:1;)\n"
         "alert ip any any -> [10.2.2.2,10.2.2.3] any (msg:\"dst\"; sid:2;)\n"
         "alert ip [10.0.0.0/8,172.16.0.0/12,96.0.0.0/3] any -> any any (msg:\"wide\"; sid:3;)\n"
         "alert ip [10.3.3.3] any <> any any (msg:\"bidir\"; sid:4;)\n"
         "alert tcp 10.4.4.4 any -> any 80 (msg:\"tcp src port\"; sid:5;)\n"
         "alert ip [10.1.1.1,10.1.1.2] any -> [10.2.2.2] any (msg:\"both\"; sid:6;)\n"
         "alert ip [10.1.1.0/24,!10.1.1.5] any -> any any (msg:\"negated\"; sid:7;)\n"
         "alert ip [2001:db8::1] any -> any any (msg:\"v6\"; sid:8;)\n");
    assert_int_equal(F->rep.loaded, 8);
    /* 1, 2, 5, 6, 7 are indexed; 3 (wide), 4 (<>) and 8 (IPv6) are not */
    for (int d = 0; d < 2; d++) {
        const struct sig_group *g = &F->de->groups[GRP_UDP][d].pg[0];
        assert_int_equal(g->nnofp, 3);
        assert_true(g->by_src.nbounds > 0);
        assert_true(g->by_dst.nbounds > 0);
        g = &F->de->groups[GRP_TCP][d].pg[0];
        assert_int_equal(g->nnofp, 3);
    }
    unsigned n;
    const uint32_t *ids = addr_index_lookup(&F->de->groups[GRP_UDP][0].pg[0].by_src,
                                            0x0a010105u /* 10.1.1.5 */, &n);
    assert_int_equal(n, 1);
    assert_int_equal(F->de->sigs[ids[0]]->id, 1);
    addr_index_lookup(&F->de->groups[GRP_UDP][0].pg[0].by_src, 0x0a010101u, &n);
    assert_int_equal(n, 3); /* 1, 6, 7 */
    addr_index_lookup(&F->de->groups[GRP_UDP][0].pg[0].by_src, 0x0a010100u, &n);
    assert_int_equal(n, 1); /* 7 */
    addr_index_lookup(&F->de->groups[GRP_UDP][0].pg[0].by_src, 0x0a010200u, &n);
    assert_int_equal(n, 0);
    addr_index_lookup(&F->de->groups[GRP_UDP][0].pg[0].by_src, 0x01000000u, &n);
    assert_int_equal(n, 0);
    addr_index_lookup(&F->de->groups[GRP_UDP][0].pg[0].by_src, 0xffffffffu, &n);
    assert_int_equal(n, 0);

    struct pkt k;
    /* src list: each listed address, the /24 edges, and neighbours that are not listed */
    detect(udp(&k, "10.1.1.5", 1, "10.9.0.1", 2, "p"));
    assert_string_equal(alert_sids(), "1,3");
    detect(udp(&k, "10.1.1.1", 1, "10.9.0.1", 2, "p"));
    assert_string_equal(alert_sids(), "1,3,7");
    detect(udp(&k, "10.1.1.1", 1, "10.2.2.2", 2, "p"));
    assert_string_equal(alert_sids(), "1,2,3,6,7");
    detect(udp(&k, "10.1.1.2", 1, "10.2.2.3", 2, NULL));
    assert_string_equal(alert_sids(), "2,3,7");
    detect(udp(&k, "10.1.1.6", 1, "10.9.0.1", 2, "p"));
    assert_string_equal(alert_sids(), "3,7");
    detect(udp(&k, "192.168.7.0", 1, "192.168.8.1", 2, "p"));
    assert_string_equal(alert_sids(), "1");
    detect(udp(&k, "192.168.7.255", 1, "192.168.8.1", 2, "p"));
    assert_string_equal(alert_sids(), "1");
    detect(udp(&k, "192.168.6.255", 1, "192.168.8.0", 2, "p"));
    assert_int_equal(F->res.nalerts, 0);
    detect(udp(&k, "192.168.8.0", 1, "192.168.7.1", 2, "p"));
    assert_int_equal(F->res.nalerts, 0);
    /* dst list: only as a destination */
    detect(udp(&k, "192.168.9.1", 1, "10.2.2.3", 2, "p"));
    assert_string_equal(alert_sids(), "2");
    detect(udp(&k, "10.2.2.2", 1, "192.168.9.1", 2, "p"));
    assert_string_equal(alert_sids(), "3");
    /* the wide list: anywhere inside */
    detect(udp(&k, "172.31.255.255", 1, "1.1.1.1", 2, "p"));
    assert_string_equal(alert_sids(), "3");
    detect(udp(&k, "172.32.0.0", 1, "1.1.1.1", 2, "p"));
    assert_int_equal(F->res.nalerts, 0);
    detect(udp(&k, "127.255.255.255", 1, "1.1.1.1", 2, "p"));
    assert_string_equal(alert_sids(), "3");
    detect(udp(&k, "95.255.255.255", 1, "1.1.1.1", 2, "p"));
    assert_int_equal(F->res.nalerts, 0);
    /* <>: both ways */
    detect(udp(&k, "10.3.3.3", 1, "1.1.1.1", 2, "p"));
    assert_string_equal(alert_sids(), "3,4");
    detect(udp(&k, "1.1.1.1", 1, "10.3.3.3", 2, "p"));
    assert_string_equal(alert_sids(), "4");
    /* indexed TCP rule with a port: the port is still checked; not on UDP */
    detect(tcp(&k, "10.4.4.4", 1, "1.1.1.1", 80, "p"));
    assert_string_equal(alert_sids(), "3,5");
    detect(tcp(&k, "10.4.4.4", 1, "1.1.1.1", 81, "p"));
    assert_string_equal(alert_sids(), "3");
    detect(udp(&k, "10.4.4.4", 1, "1.1.1.1", 80, "p"));
    assert_string_equal(alert_sids(), "3");
    /* ICMP reaches the ip rules too */
    detect(icmp(&k, "10.1.1.5", "10.2.2.2", 8, "p"));
    assert_string_equal(alert_sids(), "1,2,3");
    /* IPv6 */
    detect(udp(&k, "2001:db8::1", 1, "2001:db8::2", 2, "p"));
    assert_string_equal(alert_sids(), "8");
    detect(udp(&k, "2001:db8::2", 1, "2001:db8::1", 2, "p"));
    assert_int_equal(F->res.nalerts, 0);
}

static void test_address_index_many(void **state)
{
    (void)state;
    /* A reputation-list style file: many rules, overlapping lists. */
    char *rules = malloc(1 << 20);
    assert_non_null(rules);
    size_t n = 0;
    for (unsigned i = 0; i < 200; i++)
        n += (size_t)snprintf(rules + n, (1 << 20) - n,
                              "alert ip [10.20.%u.1,10.20.%u.1,10.21.0.0/16] any -> "
                              "$HOME_NET any (msg:\"rep %u\"; sid:%u;)\n",
                              i, (i + 1) % 200, i, 1000 + i);
    load(rules);
    free(rules);
    assert_int_equal(F->rep.loaded, 200);
    assert_int_equal(F->de->groups[GRP_TCP][0].pg[0].nnofp, 0);
    struct pkt k;
    /* 10.20.5.1 is listed by rules 4 and 5 */
    detect(tcp(&k, "10.20.5.1", 1, "192.168.1.1", 80, NULL));
    assert_string_equal(alert_sids(), "1004,1005");
    detect(tcp(&k, "10.20.5.2", 1, "192.168.1.1", 80, NULL));
    assert_int_equal(F->res.nalerts, 0);
    /* destination outside HOME_NET: header check fails */
    detect(tcp(&k, "10.20.5.1", 1, "8.8.8.8", 80, NULL));
    assert_int_equal(F->res.nalerts, 0);
    /* the shared /16: all 200, 15 alerts and the overflow */
    detect(tcp(&k, "10.21.3.4", 1, "192.168.1.1", 80, NULL));
    assert_int_equal(F->res.nalerts, DETECT_MAX_ALERTS);
    assert_int_equal(F->res.overflow, 200 - DETECT_MAX_ALERTS);
    assert_int_equal(F->res.alerts[0].sid, 1000);
}

static void test_address_index_home_net(void **state)
{
    (void)state;
    /* $HOME_NET-sized sets (about 17.9 M addresses) are indexed; any and
     * $EXTERNAL_NET (which covers IPv6) are not */
    load("alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:\"out\"; sid:1;)\n"
         "alert tcp $EXTERNAL_NET any -> $HOME_NET 445 (msg:\"in\"; sid:2;)\n"
         "alert tcp any any -> any 23 (msg:\"any\"; sid:3;)\n");
    assert_int_equal(F->rep.loaded, 3);
    const struct sig_group *g = &F->de->groups[GRP_TCP][0].pg[0];
    assert_int_equal(g->nnofp, 1);
    assert_true(g->by_src.nbounds > 0);
    assert_true(g->by_dst.nbounds > 0);
    struct pkt k;
    detect(tcp(&k, "192.168.1.1", 1, "8.8.8.8", 445, NULL));
    assert_string_equal(alert_sids(), "1");
    detect(tcp(&k, "8.8.8.8", 1, "10.255.255.255", 445, NULL));
    assert_string_equal(alert_sids(), "2");
    detect(tcp(&k, "8.8.8.8", 1, "172.32.0.1", 445, NULL));
    assert_int_equal(F->res.nalerts, 0);
    detect(tcp(&k, "172.16.0.0", 1, "10.0.0.1", 23, NULL));
    assert_string_equal(alert_sids(), "3");
    detect(tcp(&k, "2001:db8::1", 1, "2001:db8::2", 445, NULL));
    assert_int_equal(F->res.nalerts, 0);
}

/* ---- Flow keywords --------------------------------------------------------------------- */

static struct flow *flow_of(const struct packet *p, int *dir)
{
    struct flow *f = flow_handle_packet(F->ft, p, dir);
    assert_non_null(f);
    return f;
}

static void test_flow_keywords(void **state)
{
    (void)state;
    struct flow_config cfg;
    flow_config_defaults(&cfg);
    F->ft = flow_table_new(&cfg, &F->stats, end_flow, NULL);
    assert_non_null(F->ft);
    load("alert tcp any any -> any any (msg:\"ts est\"; flow:established,to_server; "
         "content:\"req\"; sid:1;)\n"
         "alert tcp any any -> any any (msg:\"tc\"; flow:to_client; content:\"resp\"; sid:2;)\n"
         "alert tcp any any -> any any (msg:\"from_server est\"; flow:established,from_server; "
         "sid:3;)\n"
         "alert tcp any any -> any any (msg:\"not est\"; flow:not_established; content:\"req\"; "
         "sid:4;)\n"
         "alert tcp any any -> any any (msg:\"stateless\"; flow:stateless; content:\"req\"; "
         "sid:5;)\n"
         "alert udp any any -> any any (msg:\"udp est\"; flow:established; content:\"u\"; "
         "sid:6;)\n");
    assert_int_equal(F->rep.loaded, 6);
    const char *cli = "10.0.0.1", *srv = "10.0.0.2";
    struct pkt k;
    int dir;
    struct flow *f;

    /* without a flow, flow-bound rules do not match */
    detect(tcp(&k, cli, 40000, srv, 80, "req resp"));
    assert_string_equal(alert_sids(), "4,5");

    /* handshake: data on the SYN is to the server, but not established */
    struct packet *p = tcp_flags(&k, cli, 40000, srv, 80, TCP_SYN, 100, 0, "req");
    f = flow_of(p, &dir);
    assert_int_equal(dir, FLOW_TOSERVER);
    detect_packet(F->dt, p, f, dir, &F->res);
    assert_string_equal(alert_sids(), "4,5");
    p = tcp_flags(&k, srv, 80, cli, 40000, TCP_SYN | TCP_ACK, 500, 101, "resp");
    f = flow_of(p, &dir);
    assert_int_equal(dir, FLOW_TOCLIENT);
    detect_packet(F->dt, p, f, dir, &F->res);
    assert_string_equal(alert_sids(), "2");
    p = tcp_flags(&k, cli, 40000, srv, 80, TCP_ACK, 101, 501, NULL);
    f = flow_of(p, &dir);
    detect_packet(F->dt, p, f, dir, &F->res);
    assert_int_equal(f->state, FLOW_STATE_ESTABLISHED);
    assert_int_equal(F->res.nalerts, 0);

    /* established */
    p = tcp(&k, cli, 40000, srv, 80, "req resp");
    f = flow_of(p, &dir);
    assert_int_equal(dir, FLOW_TOSERVER);
    detect_packet(F->dt, p, f, dir, &F->res);
    assert_string_equal(alert_sids(), "1,5");
    p = tcp(&k, srv, 80, cli, 40000, "req resp");
    f = flow_of(p, &dir);
    assert_int_equal(dir, FLOW_TOCLIENT);
    detect_packet(F->dt, p, f, dir, &F->res);
    assert_string_equal(alert_sids(), "2,3,5");

    /* UDP: established once the other side answered */
    p = udp(&k, cli, 5000, srv, 53, "u");
    f = flow_of(p, &dir);
    detect_packet(F->dt, p, f, dir, &F->res);
    assert_int_equal(F->res.nalerts, 0);
    p = udp(&k, srv, 53, cli, 5000, "u");
    f = flow_of(p, &dir);
    assert_int_equal(dir, FLOW_TOCLIENT);
    detect_packet(F->dt, p, f, dir, &F->res);
    assert_string_equal(alert_sids(), "6");
    p = udp(&k, cli, 5000, srv, 53, "u");
    f = flow_of(p, &dir);
    detect_packet(F->dt, p, f, dir, &F->res);
    assert_string_equal(alert_sids(), "6");

    /* groups by direction: the to_client rule is only in the to-client group */
    assert_int_equal(F->de->groups[GRP_TCP][0].pg[0].nfp, 3);
    assert_int_equal(F->de->groups[GRP_TCP][1].pg[0].nfp, 3);
}


/* A rule that checks a flowbit set by another rule on the same packet. */
static void flowbits_same_packet(const char *reader_extra)
{
    struct flow_config cfg;
    flow_config_defaults(&cfg);
    F->ft = flow_table_new(&cfg, &F->stats, end_flow, NULL);
    assert_non_null(F->ft);
    char rules[1024];
    snprintf(rules, sizeof rules,
             "alert tcp any any -> any any (msg:\"setter\"; content:\"login\"; "
             "flowbits:set,logged_in; flowbits:noalert; sid:1;)\n"
             "alert tcp any any -> any any (msg:\"reader\"; content:\"login\"; "
             "flowbits:isset,logged_in; %s sid:2;)\n",
             reader_extra);
    load(rules);
    assert_int_equal(F->rep.loaded, 2);
    struct pkt k;
    int dir;
    struct packet *p = tcp(&k, "10.0.0.1", 1000, "10.0.0.2", 2000, "login");
    struct flow *f = flow_of(p, &dir);
    detect_packet(F->dt, p, f, dir, &F->res);
    detect_flow_free(f);
    f->dstate = NULL;
}

static void test_flowbits_same_packet(void **state)
{
    (void)state;
    flowbits_same_packet("");
    assert_string_equal(alert_sids(), "2");
}

/* Suricata orders by action, then flowbits (setters before readers), then
 * priority (detect-engine-sigorder.c): the reader alerts even when its
 * priority is higher than the setter's. */
static void test_flowbits_setter_runs_before_reader(void **state)
{
    (void)state;
    flowbits_same_packet("classtype:trojan-activity;");
    assert_string_equal(alert_sids(), "2");
}

static void test_threshold_suppressed(void **state)
{
    (void)state;
    load("alert tcp any any -> any any (msg:\"limited\"; content:\"lim\"; "
         "threshold:type limit, track by_src, count 1, seconds 60; sid:1;)\n"
         "drop tcp any any -> any any (msg:\"limited drop\"; content:\"dlim\"; "
         "threshold:type limit, track by_src, count 1, seconds 60; sid:2;)\n");
    struct pkt k;
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "lim"));
    assert_string_equal(alert_sids(), "1");
    assert_int_equal(F->res.suppressed, 0);
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "lim"));
    assert_int_equal(F->res.nalerts, 0);
    assert_int_equal(F->res.suppressed, 1);
    detect(tcp(&k, "10.0.0.3", 1, "10.0.0.2", 2, "lim"));
    assert_string_equal(alert_sids(), "1");
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "dlim"));
    assert_string_equal(alert_sids(), "2"); /* sid 1 ("lim") stays limited */
    assert_int_equal(F->res.suppressed, 1);
    assert_true(F->res.drop);
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "dlim"));
    assert_int_equal(F->res.nalerts, 0);
    assert_int_equal(F->res.suppressed, 2);
}

/* Suricata: "For limit, backoff and both, rule actions drop (IPS mode) and
 * reject are applied to each packet (not only the one that meets the limit
 * condition)" -- only the alert is limited. */
static void test_threshold_limited_drop_still_drops(void **state)
{
    (void)state;
    load("drop tcp any any -> any any (msg:\"limited drop\"; content:\"d\"; "
         "threshold:type limit, track by_src, count 1, seconds 60; sid:2;)\n"
         "reject tcp any any -> any any (msg:\"limited reject\"; content:\"r\"; "
         "threshold:type limit, track by_src, count 1, seconds 60; sid:3;)\n");
    struct pkt k;
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "d"));
    assert_true(F->res.drop);
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "d"));
    assert_int_equal(F->res.nalerts, 0);
    assert_true(F->res.drop);
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "r"));
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "r"));
    assert_int_equal(F->res.nalerts, 0);
    assert_true(F->res.reject);
}

/* ---- Protocols ------------------------------------------------------------------------ */

static void test_icmp_rules(void **state)
{
    (void)state;
    load("alert icmp any any -> any any (msg:\"icmp any\"; sid:1;)\n"
         "alert icmp any any -> any any (msg:\"icmp ping\"; content:\"ping\"; sid:2;)\n"
         "alert icmp any any -> any any (msg:\"echo v4\"; itype:8; sid:3;)\n"
         "alert icmp any any -> any any (msg:\"echo v6\"; itype:128; sid:4;)\n"
         "alert tcp any any -> any any (msg:\"tcp ping\"; content:\"ping\"; sid:5;)\n"
         "alert ip any any -> any any (msg:\"ip_proto icmp\"; ip_proto:1; sid:6;)\n");
    assert_int_equal(F->rep.loaded, 6);
    struct pkt k;
    detect(icmp(&k, "10.0.0.1", "10.0.0.2", 8, "ping data"));
    assert_string_equal(alert_sids(), "1,2,3,6");
    detect(icmp(&k, "2001:db8::1", "2001:db8::2", 128, "ping data"));
    assert_string_equal(alert_sids(), "1,2,4");
    detect(icmp(&k, "2001:db8::1", "2001:db8::2", 129, "pong"));
    assert_string_equal(alert_sids(), "1");
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "ping"));
    assert_string_equal(alert_sids(), "5");
    detect(udp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "ping"));
    assert_int_equal(F->res.nalerts, 0);
}

static void test_ip_rules(void **state)
{
    (void)state;
    load("alert ip any any -> any any (msg:\"ip content\"; content:\"both\"; sid:1;)\n"
         "alert ip any any -> any 53 (msg:\"ip port\"; content:\"both\"; sid:2;)\n"
         "alert ip any any -> any any (msg:\"ip nofp\"; dsize:7; sid:3;)\n"
         "alert udp any any -> any any (msg:\"udp\"; content:\"both\"; sid:4;)\n"
         "alert tcp any any -> any any (msg:\"tcp\"; content:\"both\"; sid:5;)\n");
    assert_int_equal(F->rep.loaded, 5);
    struct pkt k;
    detect(udp(&k, "10.0.0.1", 1, "10.0.0.2", 53, "xxbothx"));
    assert_string_equal(alert_sids(), "1,2,3,4");
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 53, "xxbothx"));
    assert_string_equal(alert_sids(), "1,2,3,5");
    detect(tcp(&k, "2001:db8::1", 1, "2001:db8::2", 54, "both"));
    assert_string_equal(alert_sids(), "1,5");
    detect(icmp(&k, "10.0.0.1", "10.0.0.2", 8, "both"));
    assert_string_equal(alert_sids(), "1");
}

/* ---- Hyperscan cache --------------------------------------------------------------------- */

static const char *cache_rules =
    "alert tcp any any -> any any (content:\"tcp-pattern\"; sid:1;)\n"
    "alert tcp any any -> any any (flow:to_client; content:\"tcp-client\"; sid:2;)\n"
    "alert udp any any -> any any (content:\"udp-pattern\"; nocase; sid:3;)\n"
    "alert icmp any any -> any any (content:\"icmp-pattern\"; sid:4;)\n";

/* Paths of the cache files, sorted; returns the count. */
static unsigned cache_files(const char *dir, char paths[][PATH_MAX + 64], unsigned max)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".hsdb") == 0)
            snprintf(paths[n++], PATH_MAX + 64, "%s/%s", dir, e->d_name);
        else if (e->d_name[0] != '.')
            fail_msg("unexpected file in the cache: %s", e->d_name);
    }
    closedir(d);
    return n;
}

static void check_cache_engine_works(void)
{
    struct pkt k;
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "a tcp-pattern"));
    assert_string_equal(alert_sids(), "1");
    detect(udp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "a UDP-PATTERN"));
    assert_string_equal(alert_sids(), "3");
    detect(icmp(&k, "10.0.0.1", "10.0.0.2", 8, "icmp-pattern"));
    assert_string_equal(alert_sids(), "4");
    detect(tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "nothing"));
    assert_int_equal(F->res.nalerts, 0);
}

static long file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *b = malloc(*len ? *len : 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

/* Loads cache_rules; returns the total databases (compiled + cached). */
static unsigned load_cache_rules(const char *rules_path)
{
    load_files_cfg(&rules_path, 1, NULL, NULL);
    assert_int_equal(F->rep.loaded, 4);
    check_cache_engine_works();
    return F->rep.hs_databases + F->rep.hs_cached;
}

static void test_cache_reuse(void **state)
{
    (void)state;
    const char *rp = write_rules(cache_rules);
    /* cold: everything compiled (or reused from a database stored earlier in
     * the same load when two groups have the same patterns) */
    unsigned total = load_cache_rules(rp);
    assert_true(F->rep.hs_databases > 0);
    /* TCP both ways, UDP both ways, ICMP both ways */
    assert_int_equal(total, 6);
    char paths[16][PATH_MAX + 64];
    unsigned nfiles = cache_files(F->cache, paths, 16);
    assert_int_equal(nfiles, F->rep.hs_databases);
    /* warm: nothing compiled */
    load_cache_rules(rp);
    assert_int_equal(F->rep.hs_databases, 0);
    assert_int_equal(F->rep.hs_cached, total);
    assert_int_equal(cache_files(F->cache, paths, 16), nfiles);
    /* a changed rule set compiles what changed only */
    const char *rp2 = write_rules(
        "alert tcp any any -> any any (content:\"tcp-pattern\"; sid:1;)\n"
        "alert tcp any any -> any any (flow:to_client; content:\"tcp-client\"; sid:2;)\n"
        "alert udp any any -> any any (content:\"udp-pattern\"; sid:3;)\n"
        "alert icmp any any -> any any (content:\"icmp-pattern\"; sid:4;)\n");
    load_files_cfg(&rp2, 1, NULL, NULL);
    assert_true(F->rep.hs_databases >= 1);
    assert_int_equal(F->rep.hs_cached + F->rep.hs_databases, 6);
    assert_true(F->rep.hs_cached >= 4);
    struct pkt k;
    detect(udp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "a UDP-PATTERN"));
    assert_int_equal(F->res.nalerts, 0);
    detect(udp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "a udp-pattern"));
    assert_string_equal(alert_sids(), "3");
}

static void test_cache_disabled(void **state)
{
    (void)state;
    const char *rp = write_rules(cache_rules);
    load_files_cfg(&rp, 1, NULL, "detect.sgh-mpm-caching=false");
    check_cache_engine_works();
    assert_int_equal(F->rep.hs_databases, 6);
    assert_int_equal(F->rep.hs_cached, 0);
    struct stat st;
    assert_int_not_equal(stat(F->cache, &st), 0);
}

enum damage { TRUNCATE, TRUNCATE_HEADER, EMPTY, FLIP_BODY, FLIP_HEADER, GARBAGE, FOREIGN };

static void damage_cache(enum damage how)
{
    char paths[16][PATH_MAX + 64];
    unsigned n = cache_files(F->cache, paths, 16);
    assert_true(n >= 2);
    for (unsigned i = 0; i < n; i++) {
        size_t len;
        uint8_t *b = read_all(paths[i], &len);
        assert_true(len > 64);
        switch (how) {
        case TRUNCATE:
            assert_int_equal(truncate(paths[i], (off_t)(len / 2)), 0);
            break;
        case TRUNCATE_HEADER:
            assert_int_equal(truncate(paths[i], 20), 0);
            break;
        case EMPTY:
            assert_int_equal(truncate(paths[i], 0), 0);
            break;
        case FLIP_BODY:
            b[len - 1] ^= 0x55;
            b[len / 2] ^= 0x01;
            write_file(paths[i], b, len);
            break;
        case FLIP_HEADER:
            b[16] ^= 0x80; /* the key */
            write_file(paths[i], b, len);
            break;
        case GARBAGE:
            for (size_t j = 0; j < len; j++)
                b[j] = (uint8_t)(j * 131 + 7);
            write_file(paths[i], b, len);
            break;
        case FOREIGN: {
            /* a well-formed cache file, but another database's */
            size_t olen;
            uint8_t *o = read_all(paths[(i + 1) % n], &olen);
            write_file(paths[i], o, olen);
            free(o);
            break;
        }
        }
        free(b);
    }
}

static void check_damage(enum damage how)
{
    const char *rp = write_rules(cache_rules);
    unsigned total = load_cache_rules(rp);
    assert_int_equal(total, 6);
    unsigned compiled = F->rep.hs_databases;
    damage_cache(how);
    /* the damage is found and the databases compiled again */
    load_cache_rules(rp);
    assert_int_equal(F->rep.hs_databases, compiled);
    assert_int_equal(F->rep.hs_cached + F->rep.hs_databases, 6);
    /* and the cache rewritten: the next load is warm */
    load_cache_rules(rp);
    assert_int_equal(F->rep.hs_databases, 0);
    assert_int_equal(F->rep.hs_cached, 6);
}

static void test_cache_truncated(void **state)
{
    (void)state;
    check_damage(TRUNCATE);
}

static void test_cache_truncated_header(void **state)
{
    (void)state;
    check_damage(TRUNCATE_HEADER);
}

static void test_cache_empty_file(void **state)
{
    (void)state;
    check_damage(EMPTY);
}

static void test_cache_flipped_body(void **state)
{
    (void)state;
    check_damage(FLIP_BODY);
}

static void test_cache_flipped_key(void **state)
{
    (void)state;
    check_damage(FLIP_HEADER);
}

static void test_cache_garbage(void **state)
{
    (void)state;
    check_damage(GARBAGE);
}

static void test_cache_foreign(void **state)
{
    (void)state;
    check_damage(FOREIGN);
}

static void test_cache_dir_unusable(void **state)
{
    (void)state;
    const char *rp = write_rules(cache_rules);
    /* a parent that is a regular file: the directory cannot be created */
    char file[PATH_MAX + 32], dir[PATH_MAX + 64];
    snprintf(file, sizeof file, "%s/plainfile", F->tmp);
    write_file(file, "x", 1);
    snprintf(dir, sizeof dir, "%s/sub/cache", file);
    load_files_cfg(&rp, 1, dir, NULL);
    assert_int_equal(F->rep.loaded, 4);
    assert_int_equal(F->rep.hs_databases, 6);
    assert_int_equal(F->rep.hs_cached, 0);
    check_cache_engine_works();
    assert_int_equal(file_size(file), 1);

    /* a cache path that is itself a regular file */
    load_files_cfg(&rp, 1, file, NULL);
    assert_int_equal(F->rep.hs_databases, 6);
    assert_int_equal(F->rep.hs_cached, 0);
    check_cache_engine_works();
    assert_int_equal(file_size(file), 1);

    /* a directory that cannot be written (not when running as root) */
    if (geteuid() != 0) {
        char ro[PATH_MAX + 32];
        snprintf(ro, sizeof ro, "%s/readonly", F->tmp);
        assert_int_equal(mkdir(ro, 0500), 0);
        load_files_cfg(&rp, 1, ro, NULL);
        assert_int_equal(F->rep.hs_databases, 6);
        check_cache_engine_works();
        char paths[4][PATH_MAX + 64];
        assert_int_equal(cache_files(ro, paths, 4), 0);
        chmod(ro, 0700);
    }

    /* nested directories are created */
    snprintf(dir, sizeof dir, "%s/a/b/c", F->tmp);
    load_files_cfg(&rp, 1, dir, NULL);
    assert_true(F->rep.hs_databases > 0);
    load_files_cfg(&rp, 1, dir, NULL);
    assert_int_equal(F->rep.hs_databases, 0);
    assert_int_equal(F->rep.hs_cached, 6);
}

/* ---- Threads ---------------------------------------------------------------------- */

static void test_two_threads_share_engine(void **state)
{
    (void)state;
    load("alert tcp any any -> any any (content:\"shared\"; sid:1;)\n"
         "alert tcp 10.7.7.7 any -> any any (sid:2;)\n");
    struct detect_thread *dt2 = detect_thread_new(F->de);
    assert_non_null(dt2);
    struct pkt k;
    struct detect_result r2;
    tcp(&k, "10.7.7.7", 1, "10.0.0.2", 2, "shared");
    detect_packet(F->dt, &k.p, NULL, FLOW_TOSERVER, &F->res);
    detect_packet(dt2, &k.p, NULL, FLOW_TOSERVER, &r2);
    assert_int_equal(F->res.nalerts, 2);
    assert_int_equal(r2.nalerts, 2);
    /* candidates do not leak from one packet into the next */
    tcp(&k, "10.0.0.1", 1, "10.0.0.2", 2, "nothing");
    detect_packet(F->dt, &k.p, NULL, FLOW_TOSERVER, &F->res);
    assert_int_equal(F->res.nalerts, 0);
    detect_thread_free(dt2);
}

/* ---- tag ------------------------------------------------------------------------------- */

static void flow_detect(struct packet *p, long sec)
{
    p->ts.tv_sec = T0 + sec;
    int dir;
    struct flow *f = flow_of(p, &dir);
    detect_packet(F->dt, p, f, dir, &F->res);
}

static void test_tag_session(void **state)
{
    (void)state;
    struct flow_config cfg;
    flow_config_defaults(&cfg);
    F->ft = flow_table_new(&cfg, &F->stats, end_flow, NULL);
    assert_non_null(F->ft);
    load("alert tcp any any -> any 80 (content:\"pkts\"; tag:session,2,packets; sid:1;)\n"
         "alert tcp any any -> any 81 (content:\"secs\"; tag:session,10,seconds; sid:2;)\n"
         "alert tcp any any -> any 82 (content:\"bytes\"; tag:session,150,bytes; sid:3;)\n"
         "alert tcp any any -> any 83 (content:\"quiet\"; tag:session; noalert; sid:4;)\n");
    const char *c = "10.0.0.1", *s = "10.0.0.2";
    struct pkt k;
    /* packets: the two packets after the alert, either direction */
    flow_detect(tcp(&k, c, 1000, s, 80, "before"), 0);
    assert_false(F->res.tagged);
    flow_detect(tcp(&k, c, 1000, s, 80, "pkts"), 1);
    assert_true(alerted(1));
    assert_false(F->res.tagged);
    flow_detect(tcp(&k, s, 80, c, 1000, "reply"), 2);
    assert_true(F->res.tagged);
    flow_detect(tcp(&k, c, 1000, s, 80, "more"), 3);
    assert_true(F->res.tagged);
    flow_detect(tcp(&k, c, 1000, s, 80, "more"), 4);
    assert_false(F->res.tagged);
    /* another flow is not tagged */
    flow_detect(tcp(&k, c, 1001, s, 80, "other"), 1);
    assert_false(F->res.tagged);
    /* seconds: by packet time */
    flow_detect(tcp(&k, c, 1002, s, 81, "secs"), 100);
    flow_detect(tcp(&k, c, 1002, s, 81, "x"), 105);
    assert_true(F->res.tagged);
    flow_detect(tcp(&k, c, 1002, s, 81, "x"), 109);
    assert_true(F->res.tagged);
    flow_detect(tcp(&k, c, 1002, s, 81, "x"), 110);
    assert_false(F->res.tagged);
    /* bytes: wire length, the packet that crosses the count is still tagged */
    flow_detect(tcp(&k, c, 1003, s, 82, "bytes"), 200);
    uint32_t len = k.p.wirelen;
    assert_true(len > 50 && len < 150);
    flow_detect(tcp(&k, c, 1003, s, 82, "x"), 201);
    assert_true(F->res.tagged);
    flow_detect(tcp(&k, c, 1003, s, 82, "x"), 202);
    assert_true(F->res.tagged == (2 * len <= 150 + len));
    flow_detect(tcp(&k, c, 1003, s, 82, "x"), 203);
    flow_detect(tcp(&k, c, 1003, s, 82, "x"), 204);
    assert_false(F->res.tagged);
    /* a rule that does not alert does not tag */
    flow_detect(tcp(&k, c, 1004, s, 83, "quiet"), 300);
    assert_int_equal(F->res.nalerts, 0);
    flow_detect(tcp(&k, c, 1004, s, 83, "x"), 301);
    assert_false(F->res.tagged);
}

static void test_tag_host(void **state)
{
    (void)state;
    load("alert udp any any -> any 53 (content:\"dst\"; tag:host,2,packets; sid:1;)\n"
         "alert udp any any -> any 54 (content:\"src\"; tag:host,60,seconds,src; sid:2;)\n");
    struct pkt k;
    /* no flow needed: the destination of the alert is tagged */
    detect(udp(&k, "10.0.0.1", 1000, "10.0.0.9", 53, "dst"));
    assert_true(alerted(1));
    assert_false(F->res.tagged);
    detect(udp(&k, "10.0.0.2", 1000, "10.0.0.3", 99, "x"));
    assert_false(F->res.tagged);
    detect(udp(&k, "10.0.0.9", 53, "10.0.0.5", 1000, "x"));
    assert_true(F->res.tagged);
    detect(udp(&k, "10.0.0.6", 1000, "10.0.0.9", 53, "x"));
    assert_true(F->res.tagged);
    detect(udp(&k, "10.0.0.6", 1000, "10.0.0.9", 53, "x"));
    assert_false(F->res.tagged);
    /* seconds, the source: packet time decides */
    k.p.ts.tv_sec = T0;
    detect(udp(&k, "10.0.0.7", 1000, "10.0.0.8", 54, "src"));
    assert_true(alerted(2));
    struct packet *p = udp(&k, "10.0.0.8", 54, "10.0.0.7", 1000, "x");
    p->ts.tv_sec = T0 + 59;
    detect(p);
    assert_true(F->res.tagged);
    p->ts.tv_sec = T0 + 60;
    detect(p);
    assert_false(F->res.tagged);
    p = udp(&k, "10.0.0.8", 1000, "10.0.0.9", 54, "x");
    detect(p);
    assert_false(F->res.tagged);
}

/* ---- Stream chunks ---------------------------------------------------------------------- */

static void stream_detect(struct packet *p, struct flow *f, const char *chunk, uint32_t new_off,
                          uint64_t off)
{
    detect_packet_mode(F->dt, p, f, FLOW_TOSERVER, DETECT_STREAM, (const uint8_t *)chunk,
                       (uint32_t)strlen(chunk), new_off, off, &F->res);
}

static void test_stream_chunks(void **state)
{
    (void)state;
    struct flow_config cfg;
    flow_config_defaults(&cfg);
    F->ft = flow_table_new(&cfg, &F->stats, end_flow, NULL);
    assert_non_null(F->ft);
    load("alert tcp any any -> any any (content:\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"; "
         "content:\"Zz\"; distance:0; sid:1;)\n"
         "alert tcp any any -> any any (content:\"GET /\"; startswith; sid:2;)\n"
         "alert tcp any any -> any any (content:\"one\"; sid:3;)\n"
         "alert tcp-pkt any any -> any any (content:\"one\"; sid:4;)\n"
         "alert tcp any any -> any any (flags:PA; sid:5;)\n");
    struct pkt k;
    int dir;
    struct packet *p = tcp(&k, "10.0.0.1", 1000, "10.0.0.2", 80, "one");
    struct flow *f = flow_of(p, &dir);
    /* the packet pass: header rules and tcp-pkt rules, no stream payload rules */
    detect_packet_mode(F->dt, p, f, FLOW_TOSERVER, DETECT_PACKET_STREAMED, NULL, 0, 0, 0,
                       &F->res);
    assert_string_equal(alert_sids(), "4,5");
    /* the stream pass: payload rules only */
    stream_detect(p, f, "one", 0, 0);
    assert_string_equal(alert_sids(), "3");
    /* old bytes do not alert again; a match must use a new byte */
    stream_detect(p, f, "one two", 3, 0);
    assert_int_equal(F->res.nalerts, 0);
    stream_detect(p, f, "one two one", 7, 0);
    assert_string_equal(alert_sids(), "3");
    /* a pattern straddling the old and the new bytes */
    stream_detect(p, f, "xxxxon", 4, 100);
    assert_int_equal(F->res.nalerts, 0);
    stream_detect(p, f, "xxxxone", 6, 100);
    assert_string_equal(alert_sids(), "3");
    /* an anchored content at the start of the new bytes */
    stream_detect(p, f, "previous request GET /x", 17, 200);
    assert_string_equal(alert_sids(), "2");

    /* The fast pattern came in an earlier chunk, out of reach of the scan
     * of the new bytes: it is carried, and the rule matches when its last
     * content arrives -- once. */
    struct pkt k2;
    struct packet *p2 = tcp(&k2, "10.0.0.1", 1001, "10.0.0.2", 80, "x");
    struct flow *f2 = flow_of(p2, &dir);
    char buf[256];
    memset(buf, 0, sizeof buf);
    memset(buf, 'A', 40);
    memset(buf + 40, 'x', 100);
    stream_detect(p2, f2, buf, 0, 0);
    assert_int_equal(F->res.nalerts, 0);
    strcat(buf, "Zz");
    stream_detect(p2, f2, buf, 140, 0);
    assert_string_equal(alert_sids(), "1");
    strcat(buf, "yy");
    stream_detect(p2, f2, buf, 142, 0);
    assert_int_equal(F->res.nalerts, 0);
    /* the window moved past the fast pattern: it is no longer carried */
    stream_detect(p2, f2, "xxxxZz", 4, 1000);
    assert_int_equal(F->res.nalerts, 0);
}

static void test_stream_chunk_many_carried(void **state)
{
    (void)state;
    struct flow_config cfg;
    flow_config_defaults(&cfg);
    F->ft = flow_table_new(&cfg, &F->stats, end_flow, NULL);
    assert_non_null(F->ft);
    /* 20 rules whose fast patterns all hit in the first chunk: more than
     * can be carried, so the next chunk is scanned whole */
    char rules[8192] = "", chunk[1024] = "";
    for (int i = 0; i < 20; i++) {
        char r[256];
        snprintf(r, sizeof r,
                 "alert tcp any any -> any any (content:\"pattern-number-%02d\"; "
                 "content:\"END\"; distance:0; sid:%d;)\n", i, 100 + i);
        strcat(rules, r);
        snprintf(r, sizeof r, "pattern-number-%02d ", i);
        strcat(chunk, r);
    }
    load(rules);
    struct pkt k;
    int dir;
    struct packet *p = tcp(&k, "10.0.0.1", 1000, "10.0.0.2", 80, "x");
    struct flow *f = flow_of(p, &dir);
    stream_detect(p, f, chunk, 0, 0);
    assert_int_equal(F->res.nalerts, 0);
    uint32_t old = (uint32_t)strlen(chunk);
    strcat(chunk, "END");
    stream_detect(p, f, chunk, old, 0);
    assert_int_equal(F->res.nalerts + F->res.overflow, 20);
}

/* ---- Rule reload ---------------------------------------------------------------------- */

/* A flow's state from the engine before a reload -- flowbits numbered by the
 * old engine's names, fast-pattern hits carried by old signature numbers --
 * is dropped when the flow is first inspected by the new engine; the old
 * numbers would name other flowbits and other (or no) signatures there. */
static void test_reload_resets_flow_state_of_the_old_engine(void **state)
{
    (void)state;
    struct flow_config cfg;
    flow_config_defaults(&cfg);
    F->ft = flow_table_new(&cfg, &F->stats, end_flow, NULL);
    assert_non_null(F->ft);
    load("alert tcp any any -> any any (content:\"login\"; flowbits:set,old_bit; "
         "flowbits:noalert; sid:1;)\n"
         "alert tcp any any -> any any (content:\"aaa\"; sid:2;)\n"
         "alert tcp any any -> any any (content:\"bbb\"; sid:3;)\n"
         "alert tcp any any -> any any (content:\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"; "
         "content:\"Zz\"; distance:0; sid:4;)\n");
    struct pkt k;
    int dir;
    struct packet *p = tcp(&k, "10.0.0.1", 1000, "10.0.0.2", 80, "login");
    struct flow *f = flow_of(p, &dir);
    /* old engine: a flowbit set, and sid 4's fast pattern carried */
    detect_packet(F->dt, p, f, dir, &F->res);
    char buf[256];
    memset(buf, 0, sizeof buf);
    memset(buf, 'A', 40);
    memset(buf + 40, 'x', 100);
    stream_detect(p, f, buf, 0, 0);
    const struct flow_detect_state *st = f->dstate;
    assert_non_null(st);
    assert_int_equal(st->engine_gen, detect_engine_generation(F->de));
    assert_true(st->nwords > 0 && st->ncarry[FLOW_TOSERVER] > 0);

    /* the reloaded engine: one signature, whose flowbit gets number 0 as
     * old_bit did */
    const char *path = write_rules("alert tcp any any -> any any (flowbits:isset,new_bit; "
                                   "content:\"check\"; sid:20;)\n");
    struct detect_load_report rep;
    struct detect_engine *de2 = detect_engine_load(F->conf, &path, 1, &rep);
    assert_non_null(de2);
    assert_true(detect_engine_generation(de2) > detect_engine_generation(F->de));
    struct detect_thread *dt2 = detect_thread_new(de2);
    assert_non_null(dt2);
    /* the carried signature number is past the new engine's end: reading
     * it would be out of bounds (ASan) */
    strcat(buf, "Zz");
    detect_packet_mode(dt2, p, f, FLOW_TOSERVER, DETECT_STREAM, (const uint8_t *)buf,
                       (uint32_t)strlen(buf), 140, 0, &F->res);
    assert_int_equal(F->res.nalerts, 0);
    assert_int_equal(st->engine_gen, detect_engine_generation(de2));
    assert_int_equal(st->nwords, 0);
    assert_int_equal(st->ncarry[FLOW_TOSERVER], 0);
    /* old_bit's number does not read as new_bit */
    p = tcp(&k, "10.0.0.1", 1000, "10.0.0.2", 80, "check");
    detect_packet(dt2, p, f, dir, &F->res);
    assert_int_equal(F->res.nalerts, 0);
    detect_thread_free(dt2);
    detect_engine_free(de2);
    detect_report_free(&rep);
}

/* ---- Port groups ------------------------------------------------------------------ */

static const char PORT_RULES[] =
    "alert tcp any any -> any 80 (content:\"GET\"; sid:1;)\n"
    "alert tcp any any -> any [80,8080] (content:\"HELLO\"; sid:2;)\n"
    "alert tcp any any -> any any (content:\"HELLO\"; sid:3;)\n"
    "alert tcp any any -> any 25 (dsize:>0; sid:4;)\n"
    "alert tcp any 80 -> any any (content:\"HTTP/1.\"; sid:5;)\n"
    "alert tcp any any <> any 80 (content:\"BIDIR\"; sid:6;)\n"
    "alert udp any any -> any 53 (content:\"dns\"; sid:7;)\n"
    "alert udp any any -> any !53 (content:\"dns\"; sid:8;)\n";

/* The same packets alert the same way whatever the grouping. */
static void port_group_alerts(void)
{
    struct pkt k;
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 80, "GET HELLO BIDIR"));
    assert_string_equal(alert_sids(), "1,2,3,6");
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 8080, "GET HELLO BIDIR"));
    assert_string_equal(alert_sids(), "2,3");
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 9999, "GET HELLO"));
    assert_string_equal(alert_sids(), "3");
    detect(tcp(&k, "10.0.0.1", 1234, "10.0.0.2", 25, "GET HELLO"));
    assert_string_equal(alert_sids(), "3,4");
    detect(tcp(&k, "10.0.0.1", 80, "10.0.0.2", 1234, "BIDIR"));
    assert_string_equal(alert_sids(), "6");
    /* to the client, the service port is the source port */
    detect_packet(F->dt, tcp(&k, "10.0.0.2", 80, "10.0.0.1", 1234, "HTTP/1.1 200"), NULL,
                  FLOW_TOCLIENT, &F->res);
    assert_string_equal(alert_sids(), "5");
    detect_packet(F->dt, tcp(&k, "10.0.0.2", 81, "10.0.0.1", 1234, "HTTP/1.1 200"), NULL,
                  FLOW_TOCLIENT, &F->res);
    assert_int_equal(F->res.nalerts, 0);
    detect(udp(&k, "10.0.0.1", 1234, "10.0.0.2", 53, "dns"));
    assert_string_equal(alert_sids(), "7");
    detect(udp(&k, "10.0.0.1", 1234, "10.0.0.2", 54, "dns"));
    assert_string_equal(alert_sids(), "8");
}

static void test_port_groups(void **state)
{
    (void)state;
    load(PORT_RULES);
    assert_int_equal(F->rep.loaded, 8);
    const struct proto_dir *pd = &F->de->groups[GRP_TCP][FLOW_TOSERVER];
    /* sets by destination port: {1,2} at 80, {2} at 8080, {4} at 25, {} elsewhere */
    assert_int_equal(pd->npg, 5);
    assert_non_null(pd->port_map);
    const struct sig_group *g80 = proto_dir_group(pd, 80), *g8080 = proto_dir_group(pd, 8080),
                           *g25 = proto_dir_group(pd, 25), *gany = proto_dir_group(pd, 9999);
    assert_true(g80 != g8080 && g80 != g25 && g80 != gany && g25 != gany && g8080 != gany);
    assert_ptr_equal(proto_dir_group(pd, 0), gany);
    assert_ptr_equal(proto_dir_group(pd, 65535), gany);
    assert_ptr_equal(proto_dir_group(pd, 79), gany);
    assert_ptr_equal(proto_dir_group(pd, 81), gany);
    /* any-port and bidirectional rules (3, 5, 6) are in every group */
    assert_int_equal(gany->nfp, 3);
    assert_int_equal(gany->nnofp, 0);
    assert_int_equal(g80->nfp, 5);
    assert_int_equal(g8080->nfp, 4);
    assert_int_equal(g25->nfp, 3);
    assert_int_equal(g25->nnofp, 1);
    assert_int_equal(pd->pg[0].nfp, 5);
    assert_int_equal(pd->pg[0].nnofp, 1);
    assert_false(sig_group_keeps(gany, sig_by_sid(1)->num));
    assert_true(sig_group_keeps(g80, sig_by_sid(1)->num));
    /* to the client, by source port: {5} at 80, {} elsewhere; {5} is every
     * port-specific rule, so port 80 uses group 0 */
    pd = &F->de->groups[GRP_TCP][FLOW_TOCLIENT];
    assert_int_equal(pd->npg, 2);
    assert_ptr_equal(proto_dir_group(pd, 80), &pd->pg[0]);
    assert_ptr_equal(proto_dir_group(pd, 1234), &pd->pg[1]);
    /* UDP: {7} at 53, {8} elsewhere; to the client nothing is port-specific */
    pd = &F->de->groups[GRP_UDP][FLOW_TOSERVER];
    assert_int_equal(pd->npg, 3);
    assert_int_equal(proto_dir_group(pd, 53)->nfp, 1);
    assert_int_equal(proto_dir_group(pd, 54)->nfp, 1);
    assert_null(F->de->groups[GRP_UDP][FLOW_TOCLIENT].port_map);
    /* ICMP is never split */
    assert_int_equal(F->de->groups[GRP_ICMP][FLOW_TOSERVER].npg, 1);
    assert_int_equal(F->rep.port_groups, 4 + 1 + 2 + 0);
    port_group_alerts();
}

static void test_port_groups_limited(void **state)
{
    (void)state;
    /* None: one group per protocol and direction. */
    const char *f = write_rules(PORT_RULES);
    load_files_cfg(&f, 1, NULL, "detect.port-groups=0");
    assert_int_equal(F->de->groups[GRP_TCP][FLOW_TOSERVER].npg, 1);
    assert_null(F->de->groups[GRP_TCP][FLOW_TOSERVER].port_map);
    assert_int_equal(F->rep.port_groups, 0);
    port_group_alerts();
    /* One: ports no rule names get theirs, the others use the whole set. */
    load_files_cfg(&f, 1, NULL, "detect.port-groups=1");
    const struct proto_dir *pd = &F->de->groups[GRP_TCP][FLOW_TOSERVER];
    assert_int_equal(pd->npg, 2);
    assert_ptr_equal(proto_dir_group(pd, 80), &pd->pg[0]);
    assert_ptr_equal(proto_dir_group(pd, 9999), &pd->pg[1]);
    port_group_alerts();
    /* Out of range: the key is named. */
    unload();
    F->conf = make_conf(F->cache, "detect.port-groups=256");
    F->de = detect_engine_load(F->conf, &f, 1, &F->rep);
    assert_null(F->de);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_engine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_pattern_choice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_pattern_chop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_pattern_other_conditions_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nocase_fast_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_action_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_alone_and_alert_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_noalert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alert_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_chunk_many_carried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_resets_flow_state_of_the_old_engine, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tag_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tag_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_groups_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_index_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_index_home_net, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flow_keywords, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flowbits_same_packet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threshold_suppressed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flowbits_setter_runs_before_reader, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_threshold_limited_drop_still_drops, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_icmp_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ip_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_truncated_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_empty_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_flipped_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_flipped_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_foreign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_dir_unusable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_threads_share_engine, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
