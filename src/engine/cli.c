#include "engine/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"

enum { OPT_SET = 1000, OPT_RUNMODE, OPT_BUILD_INFO, OPT_CAPTURE_ONLY, OPT_LIST_KEYWORDS,
       OPT_AF_PACKET };

static const struct option long_opts[] = {
    { "set", required_argument, NULL, OPT_SET },
    { "runmode", required_argument, NULL, OPT_RUNMODE },
    { "build-info", no_argument, NULL, OPT_BUILD_INFO },
    { "capture-only", no_argument, NULL, OPT_CAPTURE_ONLY },
    { "list-keywords", optional_argument, NULL, OPT_LIST_KEYWORDS },
    { "af-packet", optional_argument, NULL, OPT_AF_PACKET },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

void cli_usage(FILE *out)
{
    fputs("usage: caracal -r FILE|DIR [options]         replay captures\n"
          "       caracal -q N [options]                 inline IPS on NFQUEUE queue N\n"
          "       caracal -i IFACE [options] [FILTER]    live capture\n"
          "       caracal -T [-c FILE]                   check the configuration and exit\n"
          "       caracal -V | -h | --build-info\n"
          "\n"
          "  -r FILE|DIR          read a pcap/pcapng file, or every file of a directory in name order\n"
          "  -q N|A:B             inline: take packets from NFQUEUE queue N (repeatable, or a range;\n"
          "                       one thread per queue) and give each a verdict\n"
          "  -i IFACE             live capture on IFACE with libpcap\n"
          "  --af-packet[=IFACE]  live capture with AF_PACKET TPACKET_V3 and fanout: one\n"
          "                       capture thread per worker (--runmode workers)\n"
          "  FILTER               the arguments after the options: a BPF filter (tcpdump\n"
          "                       syntax) for -i or --af-packet, e.g. 'tcp port 80'; it\n"
          "                       replaces pcap.bpf-filter / af-packet.bpf-filter\n"
          "  -c FILE              configuration file (default " CARACAL_SYSCONFDIR "/caracal.yaml if present)\n"
          "  -l DIR               log directory for eve.json (default: default-log-dir)\n"
          "  -k none|all          checksum validation (default all)\n"
          "  -S FILE              rule file, replacing the configured ones (repeatable)\n"
          "  -s FILE              rule file, added to the configured ones (repeatable)\n"
          "  --set KEY=VALUE      override a configuration key, e.g. --set flow.memcap=256mb\n"
          "  --runmode MODE       single or workers\n"
          "  --capture-only       read the input without processing it (benchmark baseline)\n"
          "  -T                   load the configuration and rules, report, exit\n"
          "  --list-keywords      list the rule keywords caracal supports\n"
          "  -V                   print the version\n"
          "  --build-info         print the version and the libraries caracal was built with\n"
          "  -h                   this help\n",
          out);
}

static int push(const char **list, unsigned *n, const char *v, const char *flag, char *err,
                size_t errlen)
{
    if (*n >= CLI_MAX_LIST) {
        snprintf(err, errlen, "%s: at most %d are accepted", flag, CLI_MAX_LIST);
        return -1;
    }
    list[(*n)++] = v;
    return 0;
}

/* The arguments after the options: one BPF filter, joined by spaces as
 * tcpdump does, for a live capture only. */
static int take_filter(int n, char **args, struct options *o, char *err, size_t errlen)
{
    if (o->iface == NULL) {
        if (o->af_packet)
            snprintf(err, errlen, "unexpected argument '%s' (an interface is given as "
                     "--af-packet=%s or -i %s)", args[0], args[0], args[0]);
        else
            snprintf(err, errlen, "unexpected argument '%s' (a BPF filter after the options "
                     "needs -i or --af-packet)", args[0]);
        return -1;
    }
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        int w = snprintf(o->bpf_buf + len, sizeof o->bpf_buf - len, "%s%s", i ? " " : "",
                         args[i]);
        if (w < 0 || (size_t)w >= sizeof o->bpf_buf - len) {
            snprintf(err, errlen, "the BPF filter on the command line is longer than %d bytes",
                     CLI_MAX_FILTER - 1);
            return -1;
        }
        len += (size_t)w;
    }
    o->bpf = o->bpf_buf;
    return 0;
}

int cli_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->nfq_queue = -1;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":r:c:l:k:S:s:i:q:TVh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'r': o->read_path = optarg; break;
        case 'c': o->config_file = optarg; break;
        case 'l': o->log_dir = optarg; break;
        case 'k':
            if (strcmp(optarg, "none") != 0 && strcmp(optarg, "all") != 0) {
                snprintf(err, errlen, "-k: expected none or all, got '%s'", optarg);
                return -1;
            }
            o->checksum = optarg;
            break;
        case 'S':
            if (push(o->rules_replace, &o->nrules_replace, optarg, "-S", err, errlen) < 0)
                return -1;
            break;
        case 's':
            if (push(o->rules_add, &o->nrules_add, optarg, "-s", err, errlen) < 0)
                return -1;
            break;
        case 'T': o->test_mode = true; break;
        case 'V': o->version = true; break;
        case 'h': o->help = true; break;
        case OPT_SET:
            if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
                snprintf(err, errlen, "--set: expected KEY=VALUE, got '%s'", optarg);
                return -1;
            }
            if (push(o->sets, &o->nsets, optarg, "--set", err, errlen) < 0)
                return -1;
            break;
        case OPT_RUNMODE:
            if (strcmp(optarg, "single") != 0 && strcmp(optarg, "workers") != 0) {
                snprintf(err, errlen, "--runmode: expected single or workers, got '%s'", optarg);
                return -1;
            }
            o->runmode = optarg;
            break;
        case OPT_BUILD_INFO: o->build_info = true; break;
        case OPT_CAPTURE_ONLY: o->capture_only = true; break;
        case 'q': {
            /* N, or a range A:B; repeatable */
            char *end;
            long a = strtol(optarg, &end, 10), b = a;
            if (*end == ':')
                b = strtol(end + 1, &end, 10);
            if (*optarg == '\0' || *end != '\0' || a < 0 || b < a || b > 65535) {
                snprintf(err, errlen, "-q: expected a queue number or a range A:B from 0 to "
                         "65535, got '%s'", optarg);
                return -1;
            }
            for (long q = a; q <= b; q++) {
                if (o->nnfq_queues >= sizeof o->nfq_queues / sizeof *o->nfq_queues) {
                    snprintf(err, errlen, "-q: at most 64 queues");
                    return -1;
                }
                for (unsigned k = 0; k < o->nnfq_queues; k++)
                    if (o->nfq_queues[k] == q) {
                        snprintf(err, errlen, "-q: queue %ld given twice", q);
                        return -1;
                    }
                o->nfq_queues[o->nnfq_queues++] = (uint16_t)q;
            }
            if (o->nfq_queue < 0)
                o->nfq_queue = (int)a;
            break;
        }
        case 'i':
            if (o->iface != NULL) {
                snprintf(err, errlen, "-i: one interface per sensor in this version");
                return -1;
            }
            o->iface = optarg;
            break;
        case OPT_AF_PACKET:
            /* --af-packet=IFACE, or --af-packet with -i IFACE */
            o->af_packet = true;
            if (optarg != NULL) {
                if (o->iface != NULL && strcmp(o->iface, optarg) != 0) {
                    snprintf(err, errlen, "--af-packet=%s and -i %s name two interfaces", optarg,
                             o->iface);
                    return -1;
                }
                o->iface = optarg;
            }
            break;
        case OPT_LIST_KEYWORDS:
            o->list_keywords = true;
            break;
        case ':':
            if (optopt)
                snprintf(err, errlen, "-%c: missing value", optopt);
            else
                snprintf(err, errlen, "%s: missing value", argv[optind - 1]);
            return -1;
        default:
            if (optopt)
                snprintf(err, errlen, "unknown option -%c", optopt);
            else
                snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc && take_filter(argc - optind, argv + optind, o, err, errlen) < 0)
        return -1;
    if (o->read_path && o->test_mode) {
        snprintf(err, errlen, "-T and -r cannot be combined");
        return -1;
    }
    return 0;
}

/* The item of a suricata.yaml-style list whose "interface" is name. */
static const struct conf_node *iface_item(const struct conf_node *list, const char *name)
{
    for (const struct conf_node *it = list->child; it; it = it->next) {
        const struct conf_node *n = conf_node_find(it, "interface");
        if (name != NULL && n != NULL && n->value != NULL && strcmp(n->value, name) == 0)
            return it;
    }
    return NULL;
}

/* SECTION.bpf-filter, or the key in the interface's list item, then in the
 * default item; path gets its dotted path. */
static const struct conf_node *filter_node(const struct conf *c, const char *section,
                                           const char *iface, char *path, size_t len)
{
    const struct conf_node *sec = conf_find(c, section);
    if (sec == NULL)
        return NULL;
    if (!sec->is_seq) {
        snprintf(path, len, "%s.bpf-filter", section);
        return conf_node_find(sec, "bpf-filter");
    }
    const struct conf_node *items[] = { iface_item(sec, iface), iface_item(sec, "default") };
    for (size_t i = 0; i < sizeof items / sizeof *items; i++) {
        const struct conf_node *n = items[i] ? conf_node_find(items[i], "bpf-filter") : NULL;
        if (n != NULL) {
            snprintf(path, len, "%s.%s.bpf-filter", section, items[i]->name);
            return n;
        }
    }
    return NULL;
}

int cli_live_filter(const struct options *o, const struct conf *c, struct live_filter *out,
                    char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->f.origin = out->origin;
    if (o->bpf != NULL) {
        out->f.expr = o->bpf;
        snprintf(out->origin, sizeof out->origin, "command line");
        return 0;
    }
    char path[128], where[512];
    const struct conf_node *n =
        filter_node(c, o->af_packet ? "af-packet" : "pcap", o->iface, path, sizeof path);
    if (n == NULL)
        return 0;
    conf_node_where(n, where, sizeof where);
    if (n->value == NULL) {
        snprintf(err, errlen, "%s: %s: expected a BPF filter in tcpdump syntax, not a %s",
                 where, path, n->is_seq ? "list" : "mapping");
        return -1;
    }
    snprintf(out->origin, sizeof out->origin, "%s: %s", where, path);
    out->f.expr = n->value;
    return 0;
}
