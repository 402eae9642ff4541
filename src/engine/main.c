/* caracal: entry point. Parses the command line, loads the configuration
 * and hands the input to a runmode. */
#include <errno.h>
#include <hs.h>
#include <htp/htp.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>
#include <zlib.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "build-config.h"
#include "engine/cli.h"
#include "engine/config.h"
#include "capture/nfq.h"
#include "engine/runmode.h"
#include "engine/settings.h"
#include "detect/detect.h"
#include "engine/summary.h"
#include "util/log.h"

#define EXIT_INPUT_ERROR 3

static void on_signal(int sig)
{
    (void)sig;
    runmode_stop = 1;
}

static void on_reload_signal(int sig)
{
    (void)sig;
    runmode_reload = 1;
}

static void print_build_info(void)
{
    char pcre[64] = "";
    pcre2_config(PCRE2_CONFIG_VERSION, pcre);
    printf("caracal %s\n", PACKAGE_VERSION);
    printf("  libpcap:   %s\n", pcap_lib_version());
    printf("  hyperscan: %s\n", hs_version());
    printf("  libyaml:   %s\n", yaml_get_version_string());
    printf("  jansson:   %s\n", JANSSON_VERSION);
    printf("  libhtp:    %s\n", htp_get_version());
    printf("  zlib:      %s\n", zlibVersion());
    printf("  pcre2:     %s\n", pcre);
    printf("  nfqueue:   %s\n", capture_nfq_available() ? "yes" : "no");
#ifdef HAVE_HIREDIS
    printf("  hiredis:   yes\n");
#else
    printf("  hiredis:   no (Redis output unavailable)\n");
#endif
#ifdef HAVE_CAPNG
    printf("  libcap-ng: yes\n");
#else
    printf("  libcap-ng: no\n");
#endif
}

/* Loads -c (or the default file when present), then --set, -k, --runmode. */
static struct conf *load_config(const struct options *o)
{
    char err[1024];
    struct conf *c = conf_new();
    const char *file = o->config_file;
    const char *def = CARACAL_SYSCONFDIR "/caracal.yaml";
    if (file == NULL && access(def, R_OK) == 0)
        file = def;
    if (file != NULL && conf_load_file(c, file, err, sizeof err) < 0) {
        log_error("%s", err);
        conf_free(c);
        return NULL;
    }
    for (unsigned i = 0; i < o->nsets; i++) {
        if (conf_set(c, o->sets[i], err, sizeof err) < 0) {
            log_error("%s", err);
            conf_free(c);
            return NULL;
        }
    }
    if (o->checksum)
        conf_set(c, strcmp(o->checksum, "none") == 0 ? "pcap-file.checksum-checks=no"
                                                     : "pcap-file.checksum-checks=yes",
                 err, sizeof err);
    if (o->runmode) {
        char buf[64];
        snprintf(buf, sizeof buf, "runmode=%s", o->runmode);
        conf_set(c, buf, err, sizeof err);
    }
    return c;
}

/* The rule files in effect: -S replaces the configured list, -s adds. */
struct rule_files {
    char *paths[2 * CLI_MAX_LIST + 256];
    unsigned n;
};

static void rule_files_add(struct rule_files *rf, const char *path)
{
    if (rf->n < sizeof rf->paths / sizeof *rf->paths)
        rf->paths[rf->n++] = strdup(path);
}

static void rule_files_collect(const struct options *o, const struct conf *c, struct rule_files *rf)
{
    rf->n = 0;
    if (o->nrules_replace) {
        for (unsigned i = 0; i < o->nrules_replace; i++)
            rule_files_add(rf, o->rules_replace[i]);
    } else {
        const char *rel;
        char dir[4096];
        conf_get_str(c, "default-rule-path", ".", &rel);
        conf_resolve_path(c, rel, dir, sizeof dir);
        const struct conf_node *list = conf_find(c, "rule-files");
        for (const struct conf_node *f = list ? list->child : NULL; f; f = f->next) {
            if (f->value == NULL)
                continue;
            char path[8200];
            if (f->value[0] == '/')
                snprintf(path, sizeof path, "%s", f->value);
            else
                snprintf(path, sizeof path, "%s/%s", dir, f->value);
            rule_files_add(rf, path);
        }
    }
    for (unsigned i = 0; i < o->nrules_add; i++)
        rule_files_add(rf, o->rules_add[i]);
}

static void rule_files_free(struct rule_files *rf)
{
    for (unsigned i = 0; i < rf->n; i++)
        free(rf->paths[i]);
    rf->n = 0;
}

/* What a rule reload reads again: the configuration as loaded at start
 * (its classification, reference and threshold files are re-read by the
 * load) and the rule files in effect. */
struct reload_ctx {
    const struct conf *conf;
    const struct rule_files *rf;
};

/* run_options.reload, on the management thread: the new engine, or NULL
 * (logged) to keep the one in effect. Bad rules are reported and skipped
 * as at start; a rule file that cannot be read fails the reload, since
 * its rules would silently vanish. */
static struct detect_engine *reload_rules(void *arg)
{
    const struct reload_ctx *rc = arg;
    struct detect_load_report rep;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    log_info("rule reload: reading %u rule files", rc->rf->n);
    struct detect_engine *de = detect_engine_load(rc->conf, (const char *const *)rc->rf->paths,
                                                  rc->rf->n, &rep);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (de == NULL) {
        log_error("rule reload failed: the detection engine could not be built; the rules "
                  "loaded before stay in effect");
    } else if (rep.files_unreadable) {
        log_error("rule reload failed: %u of %u rule files could not be read; the rules "
                  "loaded before stay in effect", rep.files_unreadable, rc->rf->n);
        detect_engine_free(de);
        de = NULL;
    } else {
        log_info("rule reload: %u rule files processed. %u rules successfully loaded, "
                 "%u rules failed (%.2f s)", rep.files, rep.loaded, rep.failed, secs);
    }
    detect_report_free(&rep);
    return de;
}

/* Creates the log directory and its parents as needed, like mkdir -p. */
static int ensure_dir(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        struct stat st;
        if (stat(path, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) {
                errno = ENOTDIR;
                return -1;
            }
        } else if (mkdir(path, 0750) < 0 && errno != EEXIST) {
            return -1;
        }
        *p = saved;
        if (saved == '\0')
            return 0;
    }
}

static void log_path(char *buf, size_t len, const char *dir, const char *name)
{
    if (name[0] == '/')
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "%s/%s", dir, name);
}

int main(int argc, char **argv)
{
    struct options o;
    char err[1024];
    if (cli_parse(argc, argv, &o, err, sizeof err) < 0) {
        fprintf(stderr, "caracal: %s (see caracal -h)\n", err);
        return EXIT_FAILURE;
    }
    if (o.help) {
        cli_usage(stdout);
        return EXIT_SUCCESS;
    }
    if (o.version) {
        printf("caracal %s\n", PACKAGE_VERSION);
        return EXIT_SUCCESS;
    }
    if (o.build_info) {
        print_build_info();
        return EXIT_SUCCESS;
    }
    if (o.list_keywords) {
        detect_list_keywords(stdout);
        return EXIT_SUCCESS;
    }
    if (o.af_packet && o.iface == NULL) {
        fprintf(stderr, "caracal: --af-packet needs an interface: --af-packet=IFACE or -i IFACE\n");
        return EXIT_FAILURE;
    }
    int sources = (o.read_path != NULL) + (o.nfq_queue >= 0) + (o.iface != NULL);
    if (!o.test_mode && sources == 0) {
        fprintf(stderr, "caracal: nothing to do: give -r FILE|DIR, -i IFACE, -q QUEUE, or -T "
                        "(see caracal -h)\n");
        return EXIT_FAILURE;
    }
    if (sources > 1) {
        fprintf(stderr, "caracal: -r, -i and -q exclude each other\n");
        return EXIT_FAILURE;
    }

    struct conf *conf = load_config(&o);
    if (conf == NULL)
        return EXIT_FAILURE;
    struct settings s;
    /* the live capture's filter: the command line's, or its config key */
    struct live_filter lf = { 0 };
    if (settings_load(&s, conf, err, sizeof err) < 0 ||
        (o.iface != NULL && cli_live_filter(&o, conf, &lf, err, sizeof err) < 0)) {
        log_error("%s", err);
        settings_release(&s);
        conf_free(conf);
        return EXIT_FAILURE;
    }
    struct rule_files rf;
    rule_files_collect(&o, conf, &rf);
    struct detect_load_report rep;
    struct detect_engine *de = NULL;
    memset(&rep, 0, sizeof rep);
    if (rf.n > 0) {
        de = detect_engine_load(conf, (const char *const *)rf.paths, rf.n, &rep);
        if (de == NULL) {
            log_error("the detection engine could not be built");
            rule_files_free(&rf);
            settings_release(&s);
            conf_free(conf);
            return EXIT_FAILURE;
        }
    }

    if (o.test_mode) {
        bool strict = false;
        if (conf_get_bool(conf, "detect.strict-rules", false, &strict, err, sizeof err) < 0) {
            log_error("%s", err);
            strict = true; /* a bad value must not make -T more lenient */
        }
        printf("caracal: configuration %s is valid\n", conf->file ? conf->file : "(built-in defaults)");
        detect_report_print(stdout, &rep);
        printf("rule load: %.2f s parsing, %.2f s building (%u Hyperscan databases compiled, "
               "%u from the cache; %u port groups)\n", rep.parse_seconds, rep.build_seconds,
               rep.hs_databases, rep.hs_cached, rep.port_groups);
        if (rep.app_rules)
            printf("%u rules inspect HTTP, TLS or DNS transactions\n", rep.app_rules);
        if (rep.app_pending)
            printf("%u rules mix buffers of different app protocols: they are loaded but "
                   "cannot match\n", rep.app_pending);
        int rc = rep.files_unreadable || (strict && rep.failed) ? EXIT_FAILURE : EXIT_SUCCESS;
        detect_engine_free(de);
        detect_report_free(&rep);
        rule_files_free(&rf);
        settings_release(&s);
        conf_free(conf);
        return rc;
    }
    if (de != NULL)
        log_info("%u rule files processed. %u rules successfully loaded, %u rules failed",
                 rep.files, rep.loaded, rep.failed);

    const char *logdir = o.log_dir ? o.log_dir : s.log_dir;
    if (ensure_dir(logdir) < 0) {
        log_error("log directory %s: %s", logdir, strerror(errno));
        detect_engine_free(de);
        detect_report_free(&rep);
        rule_files_free(&rf);
        settings_release(&s);
        conf_free(conf);
        return EXIT_FAILURE;
    }
    char eve_path[4096], fast_path[4096];
    log_path(eve_path, sizeof eve_path, logdir, s.eve_filename);
    log_path(fast_path, sizeof fast_path, logdir, s.fast_filename);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_reload_signal;
    sigaction(SIGUSR2, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct reload_ctx reload = { conf, &rf };

    struct run_options ro = {
        .input = o.read_path,
        .iface = o.iface,
        .filter = lf.f,
        .eve_path = s.eve_enabled ? eve_path : NULL,
        .fast_path = s.fast_enabled && de ? fast_path : NULL,
        .de = de,
        .capture_only = o.capture_only,
        .reload = reload_rules,
        .reload_arg = &reload,
    };
    struct run_report run;
    int rc;
    if (o.nfq_queue >= 0) {
        s.nfq.queue = (uint16_t)o.nfq_queue;
        memcpy(s.nfq_queues, o.nfq_queues, sizeof s.nfq_queues);
        s.nnfq_queues = o.nnfq_queues;
        rc = runmode_run_nfq(&s, &ro, &run);
    } else if (o.af_packet) {
        rc = runmode_run_afpacket(&s, &ro, &run);
    } else {
        rc = runmode_run_pcap(&s, &ro, &run);
    }
    if (rc == 0)
        summary_print(stdout, &run, ro.eve_path, ro.fast_path);
    /* a rule reload may have replaced (and freed) de */
    detect_engine_free(run.engine ? run.engine : de);
    detect_report_free(&rep);
    rule_files_free(&rf);
    settings_release(&s);
    conf_free(conf);
    if (rc < 0)
        return EXIT_FAILURE;
    return run.status == CAPTURE_OK ? EXIT_SUCCESS : EXIT_INPUT_ERROR;
}
