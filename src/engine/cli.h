/* The command line (Suricata-compatible where Suricata has the flag). */
#ifndef CARACAL_ENGINE_CLI_H
#define CARACAL_ENGINE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#define CLI_MAX_LIST 64

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
};

/* Parses argv; on error writes a one-line reason and returns -1. */
int cli_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);
void cli_usage(FILE *out);

#endif
