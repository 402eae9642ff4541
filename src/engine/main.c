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
#include <unistd.h>
#include <yaml.h>
#include <zlib.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "build-config.h"
#include "engine/cli.h"
#include "engine/config.h"
#include "engine/runmode.h"
#include "engine/settings.h"
#include "engine/summary.h"
#include "util/log.h"

#define EXIT_INPUT_ERROR 3

static void on_signal(int sig)
{
    (void)sig;
    runmode_stop = 1;
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
static unsigned check_rule_files(const struct options *o, const struct conf *c, unsigned *unreadable)
{
    unsigned n = 0;
    *unreadable = 0;
    const char *paths[2 * CLI_MAX_LIST + 64];
    if (o->nrules_replace) {
        for (unsigned i = 0; i < o->nrules_replace; i++)
            paths[n++] = o->rules_replace[i];
    } else {
        const char *dir;
        conf_get_str(c, "default-rule-path", ".", &dir);
        const struct conf_node *rf = conf_find(c, "rule-files");
        static char joined[64][4096];
        for (const struct conf_node *f = rf ? rf->child : NULL; f && n < 64; f = f->next) {
            if (f->value == NULL)
                continue;
            if (f->value[0] == '/')
                snprintf(joined[n], sizeof joined[n], "%s", f->value);
            else
                snprintf(joined[n], sizeof joined[n], "%s/%s", dir, f->value);
            paths[n] = joined[n];
            n++;
        }
    }
    for (unsigned i = 0; i < o->nrules_add; i++)
        paths[n++] = o->rules_add[i];
    for (unsigned i = 0; i < n; i++) {
        if (access(paths[i], R_OK) != 0) {
            log_error("rule file %s: %s", paths[i], strerror(errno));
            (*unreadable)++;
        }
    }
    return n;
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
    if (!o.test_mode && o.read_path == NULL) {
        fprintf(stderr, "caracal: nothing to do: give -r FILE|DIR, or -T (see caracal -h)\n");
        return EXIT_FAILURE;
    }

    struct conf *conf = load_config(&o);
    if (conf == NULL)
        return EXIT_FAILURE;
    struct settings s;
    if (settings_load(&s, conf, err, sizeof err) < 0) {
        log_error("%s", err);
        conf_free(conf);
        return EXIT_FAILURE;
    }
    unsigned unreadable;
    unsigned nrules = check_rule_files(&o, conf, &unreadable);

    if (o.test_mode) {
        printf("caracal: configuration %s is valid\n", conf->file ? conf->file : "(built-in defaults)");
        printf("%u rule files processed; %u unreadable. Rules are not parsed yet: "
               "the detection engine is not part of this version.\n", nrules, unreadable);
        conf_free(conf);
        return unreadable ? EXIT_FAILURE : EXIT_SUCCESS;
    }
    if (nrules > 0)
        log_warn("%u rule file(s) given; the detection engine is not part of this version, "
                 "so no alerts will be produced", nrules);

    const char *logdir = o.log_dir ? o.log_dir : s.log_dir;
    if (ensure_dir(logdir) < 0) {
        log_error("log directory %s: %s", logdir, strerror(errno));
        conf_free(conf);
        return EXIT_FAILURE;
    }
    char eve_path[4096];
    if (s.eve_filename[0] == '/')
        snprintf(eve_path, sizeof eve_path, "%s", s.eve_filename);
    else
        snprintf(eve_path, sizeof eve_path, "%s/%s", logdir, s.eve_filename);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct run_report rep;
    int rc = runmode_run_pcap(&s, o.read_path, s.eve_enabled ? eve_path : NULL, o.capture_only,
                              &rep);
    if (rc == 0)
        summary_print(stdout, &rep, s.eve_enabled ? eve_path : NULL);
    conf_free(conf);
    if (rc < 0)
        return EXIT_FAILURE;
    return rep.status == CAPTURE_OK ? EXIT_SUCCESS : EXIT_INPUT_ERROR;
}
