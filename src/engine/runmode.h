/*
 * Runmodes: how capture, decode and the workers are laid out on threads.
 *  single:  one thread reads, decodes and runs the worker pipeline.
 *  workers: the main thread reads and decodes, then hands each packet to
 *           the worker that owns its flow (symmetric hash) through a
 *           lock-free ring; a flow never changes worker.
 * A management thread draws the progress line and writes periodic stats.
 */
#ifndef CARACAL_ENGINE_RUNMODE_H
#define CARACAL_ENGINE_RUNMODE_H

#include <signal.h>

#include "capture/capture.h"
#include "engine/settings.h"
#include "output/stats.h"

struct run_report {
    struct stats total;               /* merged counters at the end */
    struct capture_progress prog;
    enum capture_status status;
    double wall_seconds;
    uint64_t eve_events;
    uint64_t eve_by_type[8];          /* flow, anomaly, stats, alert, http, tls, dns, other */
    const char *source;               /* live or inline: "interface eth0", "NFQUEUE 0" */
    char source_buf[64];
    /* The engine in effect at the end: o->de, or the last one a rule
     * reload swapped in (o->de is then freed). The caller frees it; NULL
     * when the run did not start (o->de is still the caller's). */
    struct detect_engine *engine;
};

/* Set by the signal handlers: stop reading, flush and exit cleanly. */
extern volatile sig_atomic_t runmode_stop;
/* Set by SIGUSR2: the management thread of a live run reloads the rules
 * (run_options.reload) and clears it. */
extern volatile sig_atomic_t runmode_reload;

struct detect_engine;

struct run_options {
    const char *input;                /* file or directory */
    const char *iface;                /* live capture (-i); input is NULL then */
    struct capture_filter filter;     /* live capture: BPF filter, expr NULL for none */
    const char *eve_path;             /* NULL: no EVE */
    const char *fast_path;            /* NULL: no fast.log */
    struct detect_engine *de;         /* NULL: no rules; see run_report.engine */
    bool capture_only;
    /* Live capture: builds a new engine from the rule files the sensor
     * started with (NULL, logged, when that fails or a file cannot be
     * read). Runs on the management thread. NULL: nothing to reload. */
    struct detect_engine *(*reload)(void *arg);
    void *reload_arg;
};

/* Processes a file or directory. */
int runmode_run_pcap(const struct settings *s, const struct run_options *o,
                     struct run_report *rep);
/* Inline: packets from NFQUEUE (s->nfq) with a verdict each, one worker on
 * the calling thread, until runmode_stop. */
int runmode_run_nfq(const struct settings *s, const struct run_options *o,
                    struct run_report *rep);
/* Live capture on o->iface with AF_PACKET fanout: one capture-and-inspect
 * thread per worker (s->workers in workers runmode), until runmode_stop. */
int runmode_run_afpacket(const struct settings *s, const struct run_options *o,
                         struct run_report *rep);

#endif
