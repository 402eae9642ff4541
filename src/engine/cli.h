/* The command line (Suricata-compatible where Suricata has the flag). */
#ifndef CARACAL_ENGINE_CLI_H
#define CARACAL_ENGINE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include "capture/capture.h"

#define CLI_MAX_LIST 64
/* Bytes of a BPF filter given on the command line, at most. */
#define CLI_MAX_FILTER 4096

struct conf;

struct options {
    const char *read_path;        /* -r */
    int nfq_queue;                /* the first -q queue, -1 when not given */
    uint16_t nfq_queues[64];      /* -q N (repeatable) or -q A:B */
    unsigned nnfq_queues;
    const char *iface;            /* -i IFACE (or --af-packet=IFACE) */
    bool af_packet;               /* --af-packet */
    const char *config_file;      /* -c */
    const char *log_dir;          /* -l */
    const char *checksum;         /* -k none|all */
    const char *runmode;          /* --runmode */
    const char *sets[CLI_MAX_LIST];       /* --set, in order */
    unsigned nsets;
    const char *rules_replace[CLI_MAX_LIST]; /* -S */
    unsigned nrules_replace;
    const char *rules_add[CLI_MAX_LIST];     /* -s */
    unsigned nrules_add;
    bool test_mode;               /* -T */
    bool version;                 /* -V */
    bool help;                    /* -h */
    bool build_info;              /* --build-info */
    bool capture_only;            /* --capture-only */
    bool list_keywords;           /* --list-keywords */
    const char *bpf;              /* the arguments after the options, as one BPF filter */
    char bpf_buf[CLI_MAX_FILTER];
};

/* Parses argv; on error writes a one-line reason and returns -1. */
int cli_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);
void cli_usage(FILE *out);

/* The BPF filter of a live capture and where it came from. */
struct live_filter {
    struct capture_filter f;
    char origin[700];
};

/*
 * The filter of -i or --af-packet: the command line's when it has one,
 * otherwise SECTION.bpf-filter ("pcap" for -i, "af-packet" for
 * --af-packet). The key is read from the section itself, or, in
 * suricata.yaml's layout, from its list item "interface: IFACE", then
 * from its item "interface: default". f.expr is NULL when there is none.
 * -1 when the key holds no text (the reason, with file and line, in err).
 */
int cli_live_filter(const struct options *o, const struct conf *c, struct live_filter *out,
                    char *err, size_t errlen);

#endif
