/*
 * A worker: everything right of capture for the flows it owns (flow
 * table, detection scratch, counters, EVE buffer). In single runmode there
 * is one worker on the main thread; in workers runmode each thread has its own.
 */
#ifndef CARACAL_ENGINE_WORKER_H
#define CARACAL_ENGINE_WORKER_H

#include "decode/decode.h"
#include "detect/detect.h"
#include "engine/settings.h"
#include "flow/flow.h"
#include "output/eve.h"
#include "output/fastlog.h"
#include "output/stats.h"
#include "stream/stream.h"
#include "app/applayer.h"
#include "engine/reject.h"

/* What the worker writes to, shared by all workers. */
struct worker_outputs {
    struct eve_sink *eve;        /* NULL: EVE off */
    struct fastlog *fast;        /* NULL: fast.log off */
    const struct detect_engine *de; /* NULL: no rules */
    /* Live capture: where a rule reload publishes the engine to use from
     * the next packet on (read atomically); NULL when it never changes. */
    struct detect_engine *const *engine_pub;
};

struct worker {
    unsigned id;
    struct stats stats;
    struct flow_table *flows;
    struct stream_engine *stream;
    struct app_engine *app;
    struct detect_thread *dt;
    const struct detect_engine *de;  /* the engine dt is for */
    struct detect_engine *const *engine_pub;
    uint64_t engine_gen;      /* de's generation; the management thread reads it */
    bool engine_failed;       /* the published engine's scratch could not be made */
    struct fastlog *fast;
    struct eve_writer eve;
    unsigned eve_types;
    unsigned alert_opts;
    unsigned anomaly_types;   /* EVE_ANOMALY_* */
    /* Inline (NFQUEUE): the verdict of the last packet (enum verdict of
     * capture/nfq.h), and the raw sockets that answer rejects. */
    bool inline_mode;
    bool passive;            /* worker_set_passive */
    int verdict;
    struct reject reject;
    struct timeval now;      /* latest packet time seen */
    uint64_t next_timeout_sec;
    bool sweep_more;         /* the last timeout pass stopped at its bound */
    /* Deferred mode (worker_set_deferred): the packet's app-layer records
     * and the flow timeout pass wait until its verdict is given. */
    bool deferred;
    struct flow *pending_flow;  /* records waiting for the verdict; NULL: none */
    struct timeval pending_ts;
    struct app_result pending_ar;
    uint64_t last_output_ms;  /* monotonic time of the last EVE write (live) */
};

int worker_init(struct worker *w, unsigned id, unsigned nworkers, const struct settings *s,
                const struct worker_outputs *out);
/* The per-packet pipeline after decoding. Inline, w->verdict then holds the
 * packet's verdict. */
void worker_process(struct worker *w, const struct packet *p);
/* Inline mode: dropped flows stay dropped, verdicts are counted, rejects
 * send resets. */
void worker_set_inline(struct worker *w);
/*
 * Rule reload: between packets the worker moves to the engine published in
 * out->engine_pub -- a detect_thread for it replaces the old one -- and
 * records the new generation (worker_engine_generation), after which it
 * never touches the old engine again. worker_process checks before each
 * packet; callers also call it (through worker_idle) when idle, so that an
 * idle worker moves on too. Cheap when nothing changed.
 */
void worker_engine_update(struct worker *w);
/* Moves to de now; -1 (logged once, the old engine stays) when its
 * detect_thread cannot be made. */
int worker_use_engine(struct worker *w, const struct detect_engine *de);
uint64_t worker_engine_generation(const struct worker *w);
/* Passive live capture (libpcap, AF_PACKET: nothing can be dropped): drop
 * and reject rules alert with action "allowed", as Suricata does in IDS
 * mode, and their flows are inspected on. (Offline, -r records the
 * decisions an inline sensor would take instead.) */
void worker_set_passive(struct worker *w);
/* Deferred mode, for inline capture: worker_process leaves the packet's
 * app-layer records (http, tls, dns events) and the flow timeout pass for
 * worker_after_verdict, which the caller runs once the verdict is given,
 * so that logging does not delay the packet. */
void worker_set_deferred(struct worker *w);
void worker_after_verdict(struct worker *w);
/* Writes the buffered EVE events. */
void worker_flush_output(struct worker *w);
/* Live capture: writes the buffered EVE events when the last write is
 * WORKER_OUTPUT_INTERVAL_MS old, so that events reach their readers
 * promptly however slow the traffic. Cheap when there is nothing to do. */
#define WORKER_OUTPUT_INTERVAL_MS 100
void worker_output_tick(struct worker *w);
/* Nothing to read (live capture): buffered events go out and a reloaded
 * engine is taken up (worker_output_tick, worker_engine_update). */
void worker_idle(struct worker *w);
/* Advances packet time (idle workers learn the time from the reader). */
void worker_tick(struct worker *w, const struct timeval *now);
/* End of input: every flow ends, buffers are written. */
void worker_finish(struct worker *w, const struct timeval *end);
/* Time went backwards (a directory's next file is older): every flow ends
 * as at the end of input and the clock starts again from the next packet. */
void worker_restart_clock(struct worker *w, const struct timeval *end);
void worker_destroy(struct worker *w);

#endif
