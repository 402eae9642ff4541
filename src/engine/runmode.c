#include "engine/runmode.h"

#include "capture/afpacket.h"
#include "capture/nfq.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "decode/decode.h"
#include "decode/defrag.h"
#include "engine/worker.h"
#include "flow/flow.h"
#include "output/eve.h"
#include "util/log.h"
#include "util/ring.h"
#include "util/timefmt.h"

volatile sig_atomic_t runmode_stop;
volatile sig_atomic_t runmode_reload;

enum rec_kind { REC_PACKET, REC_TICK, REC_RESTART, REC_END };

/* What travels through a ring: a decoded packet, then its bytes. */
struct ring_rec {
    uint32_t kind;
    uint32_t pad;
    struct packet p;
};

struct worker_thread {
    struct worker w;
    struct ring ring;
    pthread_t tid;
};

struct run {
    const struct settings *s;
    struct decode_ctx dc;
    struct stats reader_stats;    /* decode counters in workers runmode */
    struct worker *single;        /* single runmode */
    struct worker_thread *wt;     /* workers runmode */
    unsigned nworkers;
    unsigned rr;                  /* round robin for packets without a tuple */
    struct timeval last_ts;
    int64_t last_tick_sec;
    struct eve_sink *sink;
    struct worker_outputs out;
    struct defrag_table *defrag;  /* the reader's: fragments meet before dispatch */
    void (*deliver)(struct run *r, const struct packet *p);
    void (*restart)(struct run *r);
    struct capture_progress prog;
    struct timespec started;
    /* management thread */
    pthread_t mgmt;
    pthread_mutex_t mgmt_lock;
    pthread_cond_t mgmt_cond;
    bool mgmt_quit;
    bool progress_line;
    int verdict;                  /* inline: the verdict of the packet being handled */
    bool passive;                 /* live capture that cannot drop (libpcap, AF_PACKET) */
    /* Rule reload (live capture; the management thread's alone): the
     * engine published to the workers, and the one it replaced until
     * every worker has moved on. */
    bool live;
    struct detect_engine *(*reload)(void *arg);
    void *reload_arg;
    struct detect_engine *engine; /* written atomically: workers read it */
    struct detect_engine *retired;
    struct stats mgmt_stats;      /* detect.engine_reloads, _failures */
};

static double elapsed(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) + (now.tv_nsec - since->tv_nsec) / 1e9;
}

static void merge_stats(struct run *r, struct stats *out)
{
    memset(out, 0, sizeof *out);
    stats_merge(out, &r->mgmt_stats);
    if (r->single) {
        stats_merge(out, &r->single->stats);
        return;
    }
    stats_merge(out, &r->reader_stats);
    for (unsigned i = 0; i < r->nworkers; i++)
        stats_merge(out, &r->wt[i].w.stats);
}

static void write_stats_event(struct run *r, struct eve_writer *ew)
{
    struct stats total;
    merge_stats(r, &total);
    struct timeval now;
    gettimeofday(&now, NULL);
    json_t *ev = eve_stats_event(&now, &total, elapsed(&r->started));
    eve_write(ew, ev);
    json_decref(ev);
    eve_writer_flush(ew);
}

static void draw_progress(struct run *r, uint64_t *last_bytes, double *last_t)
{
    double t = elapsed(&r->started);
    uint64_t bytes = __atomic_load_n(&r->prog.bytes, __ATOMIC_RELAXED);
    double dt = t - *last_t;
    double mbps = dt > 0 ? (double)(bytes - *last_bytes) * 8 / dt / 1e6 : 0;
    *last_bytes = bytes;
    *last_t = t;
    uint64_t alerts = r->single ? stats_get(&r->single->stats, STAT_DETECT_ALERT) : 0;
    for (unsigned i = 0; r->wt && i < r->nworkers; i++)
        alerts += stats_get(&r->wt[i].w.stats, STAT_DETECT_ALERT);
    fprintf(stderr, "\r\033[Kcaracal: files %u/%u  packets %llu  %.1f Mbit/s  alerts %llu",
            __atomic_load_n(&r->prog.files_done, __ATOMIC_RELAXED),
            __atomic_load_n(&r->prog.files_total, __ATOMIC_RELAXED),
            (unsigned long long)__atomic_load_n(&r->prog.pkts, __ATOMIC_RELAXED), mbps,
            (unsigned long long)alerts);
    fflush(stderr);
}

/* True when every worker uses the published engine (none can still be in
 * the retired one). */
static bool workers_moved_on(const struct run *r)
{
    uint64_t gen = detect_engine_generation(r->engine);
    if (r->single)
        return worker_engine_generation(r->single) == gen;
    for (unsigned i = 0; i < r->nworkers; i++)
        if (worker_engine_generation(&r->wt[i].w) != gen)
            return false;
    return true;
}

/*
 * Rule reload, one step per wake of the management thread: the engine a
 * reload replaced is freed once every worker has moved on; then a pending
 * SIGUSR2 builds a new engine here, off the packet path, and publishes it
 * with one atomic store. A second reload waits for the first one's
 * retirement, so at most two engines exist at a time.
 */
static void reload_step(struct run *r)
{
    if (r->retired != NULL) {
        if (!workers_moved_on(r))
            return;
        detect_engine_free(r->retired);
        r->retired = NULL;
    }
    if (!runmode_reload)
        return;
    runmode_reload = 0;
    if (!r->live) {
        log_info("rule reload: ignored while reading a capture file");
        return;
    }
    if (r->reload == NULL || r->engine == NULL) {
        log_info("rule reload: no rule files were loaded at start: nothing to reload");
        return;
    }
    struct detect_engine *de = r->reload(r->reload_arg);
    if (de == NULL) {
        stats_inc(&r->mgmt_stats, STAT_DETECT_ENGINE_RELOAD_FAILURES);
        return;
    }
    r->retired = r->engine;
    __atomic_store_n(&r->engine, de, __ATOMIC_RELEASE);
    stats_inc(&r->mgmt_stats, STAT_DETECT_ENGINE_RELOADS);
}

/* Wakes every half second (a tenth while a rule reload can be asked for):
 * progress line, stats every interval, rule reload. */
static void *mgmt_main(void *arg)
{
    struct run *r = arg;
    struct eve_writer ew;
    bool stats_on = r->sink && r->s->stats_enabled && (r->s->eve_types & EVE_TYPE_STATS);
    eve_writer_init(&ew, r->sink, 64 * 1024);
    double next_stats = r->s->stats_interval;
    uint64_t last_bytes = 0;
    double last_t = 0;
    long wake_ns = r->live ? 100 * 1000 * 1000 : 500 * 1000 * 1000;
    pthread_mutex_lock(&r->mgmt_lock);
    while (!r->mgmt_quit) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += wake_ns;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&r->mgmt_cond, &r->mgmt_lock, &until);
        if (r->mgmt_quit)
            break;
        pthread_mutex_unlock(&r->mgmt_lock);
        if (r->progress_line && elapsed(&r->started) - last_t >= 0.5)
            draw_progress(r, &last_bytes, &last_t);
        if (stats_on && elapsed(&r->started) >= next_stats) {
            write_stats_event(r, &ew);
            next_stats += r->s->stats_interval;
        }
        reload_step(r);
        pthread_mutex_lock(&r->mgmt_lock);
    }
    pthread_mutex_unlock(&r->mgmt_lock);
    if (r->progress_line)
        fprintf(stderr, "\r\033[K");
    eve_writer_destroy(&ew);
    return NULL;
}

static void fill_packet(struct packet *p, const struct capture_pkt *cp)
{
    p->ts = cp->ts;
    p->caplen = cp->caplen;
    p->wirelen = cp->wirelen;
    p->linktype = cp->linktype;
    p->pcap_cnt = cp->cnt;
    p->data = cp->data;
}

/*
 * Flow timeouts follow packet time. When a directory's next file starts
 * before the time already reached, its flows would be judged against a
 * future clock; instead every flow ends there (as at the end of input) and
 * the clock restarts. Both runmodes do it at the same packet, so they give
 * the same flows.
 */
static bool time_went_back(struct run *r, const struct capture_pkt *cp)
{
    return cp->first_in_file && cp->cnt > 1 &&
           timeval_usec(&cp->ts) < timeval_usec(&r->last_ts);
}

static void deliver_single(struct run *r, const struct packet *p)
{
    worker_process(r->single, p);
    /* Inline: a fragment and the datagram it completes share one verdict,
     * the strictest. */
    if (r->single->verdict > r->verdict)
        r->verdict = r->single->verdict;
}

static void restart_single(struct run *r)
{
    worker_restart_clock(r->single, &r->last_ts);
}

static void send_control(struct run *r, enum rec_kind kind)
{
    for (unsigned i = 0; i < r->nworkers; i++) {
        struct ring_rec *rec = ring_reserve(&r->wt[i].ring, sizeof *rec);
        memset(rec, 0, sizeof *rec);
        rec->kind = kind;
        rec->p.ts = r->last_ts;
        ring_commit(&r->wt[i].ring);
    }
}

/* Hands a decoded packet to the worker that owns its flow. */
static void deliver_workers(struct run *r, const struct packet *p)
{
    unsigned wi;
    if (p->flags & PKT_HAS_TUPLE)
        wi = (unsigned)(flow_hash_packet(p) % r->nworkers);
    else
        wi = r->rr++ % r->nworkers;
    struct ring *ring = &r->wt[wi].ring;
    struct ring_rec *rec = ring_reserve(ring, sizeof *rec + p->caplen);
    if (rec == NULL) { /* larger than the ring: ring-size is at least 1mb, so never */
        stats_inc(&r->reader_stats, STAT_CAPTURE_ERRORS);
        return;
    }
    rec->kind = REC_PACKET;
    rec->p = *p;
    memcpy(rec + 1, p->data, p->caplen);
    ring_commit(ring);
    /* Once per second of capture time, idle workers learn the time. */
    if (r->last_ts.tv_sec > r->last_tick_sec) {
        r->last_tick_sec = r->last_ts.tv_sec;
        send_control(r, REC_TICK);
    }
}

static void restart_workers(struct run *r)
{
    send_control(r, REC_RESTART);
    r->last_tick_sec = -1;
}

/*
 * The reader's part, the same in both runmodes: decode, reassemble IP
 * fragments, hand on. A fragment goes on as it is (counted, logged); the
 * datagram it completes follows it as a packet of its own.
 */
static int reader_packet(struct run *r, const struct capture_pkt *cp)
{
    if (time_went_back(r, cp)) {
        r->restart(r);
        if (r->defrag)
            defrag_flush(r->defrag);
        r->last_ts = cp->ts;
    }
    struct packet p;
    fill_packet(&p, cp);
    decode_packet(&r->dc, &p);
    if (timeval_usec(&p.ts) > timeval_usec(&r->last_ts))
        r->last_ts = p.ts;
    struct defrag_result res;
    bool done = (p.flags & PKT_FRAGMENT) && r->defrag &&
                defrag_packet(r->defrag, &r->dc, &p, &res) == DEFRAG_DONE;
    r->deliver(r, &p);
    if (done) {
        struct packet dgram;
        memset(&dgram, 0, sizeof dgram);
        dgram.ts = p.ts;
        dgram.caplen = dgram.wirelen = res.len;
        dgram.linktype = LINK_RAW;
        dgram.pcap_cnt = p.pcap_cnt;
        dgram.data = res.data;
        decode_pseudo_packet(&r->dc, &dgram);
        dgram.vlan_cnt = p.vlan_cnt; /* the flow key includes the fragments' VLANs */
        memcpy(dgram.vlan, p.vlan, sizeof dgram.vlan);
        r->deliver(r, &dgram);
    }
    return 0;
}

static int reader_cb(void *ctx, const struct capture_pkt *cp)
{
    return reader_packet(ctx, cp);
}

/* A capture with one worker (single runmode, a capture thread) has
 * nothing to read. */
static void live_idle(void *ctx)
{
    struct run *r = ctx;
    worker_idle(r->single);
}

/* Live capture, single runmode: the reader's worker writes its events
 * within WORKER_OUTPUT_INTERVAL_MS, busy or idle. */
static int live_reader_cb(void *ctx, const struct capture_pkt *cp)
{
    struct run *r = ctx;
    int rc = reader_packet(r, cp);
    if (r->single)
        worker_output_tick(r->single);
    return rc;
}

static void *worker_main(void *arg)
{
    struct worker_thread *t = arg;
    unsigned spins = 0;
    for (;;) {
        size_t n;
        const struct ring_rec *rec = ring_peek(&t->ring, &n);
        if (rec == NULL) {
            ring_flush_release(&t->ring);
            worker_idle(&t->w); /* live capture: events go out, a reload is taken up */
            ring_wait(&spins);
            continue;
        }
        spins = 0;
        if (rec->kind == REC_PACKET) {
            struct packet p = rec->p;
            p.data = (const uint8_t *)(rec + 1);
            worker_process(&t->w, &p);
        } else if (rec->kind == REC_TICK) {
            worker_tick(&t->w, &rec->p.ts);
        } else if (rec->kind == REC_RESTART) {
            worker_restart_clock(&t->w, &rec->p.ts);
        } else {
            struct timeval end = rec->p.ts;
            ring_release(&t->ring);
            ring_flush_release(&t->ring);
            worker_finish(&t->w, &end);
            return NULL;
        }
        ring_release(&t->ring);
    }
}

static int start_workers(struct run *r)
{
    r->wt = calloc(r->nworkers, sizeof *r->wt);
    if (r->wt == NULL)
        return -1;
    for (unsigned i = 0; i < r->nworkers; i++) {
        if (worker_init(&r->wt[i].w, i, r->nworkers, r->s, &r->out) < 0 ||
            ring_init(&r->wt[i].ring, r->s->ring_size) < 0)
            return -1;
        if (r->passive)
            worker_set_passive(&r->wt[i].w);
    }
    for (unsigned i = 0; i < r->nworkers; i++)
        if (pthread_create(&r->wt[i].tid, NULL, worker_main, &r->wt[i]) != 0)
            return -1;
    return 0;
}

/* ---- What every run mode shares ---------------------------------------------------- */

static struct run *run_new(const struct settings *s)
{
    struct run *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->s = s;
    r->dc.cfg = s->decode;
    r->last_tick_sec = -1;
    clock_gettime(CLOCK_MONOTONIC, &r->started);
    pthread_mutex_init(&r->mgmt_lock, NULL);
    pthread_cond_init(&r->mgmt_cond, NULL);
    return r;
}

/* eve.json and fast.log, as the options ask; -1 (logged) when one cannot be
 * opened. Live capture also takes rule reloads. */
static int run_open_outputs(struct run *r, const struct run_options *o, bool with_rules,
                            bool live)
{
    char err[512];
    r->engine = o->de;
    r->live = live;
    if (live && with_rules && o->de != NULL) {
        r->reload = o->reload;
        r->reload_arg = o->reload_arg;
        r->out.engine_pub = &r->engine;
    }
    if (o->eve_path != NULL && r->s->eve_enabled) {
        r->sink = eve_sink_open(o->eve_path, err, sizeof err);
        if (r->sink == NULL) {
            log_error("%s", err);
            return -1;
        }
    }
    if (o->fast_path != NULL && with_rules) {
        r->out.fast = fastlog_open(o->fast_path, err, sizeof err);
        if (r->out.fast == NULL) {
            log_error("%s", err);
            return -1;
        }
    }
    r->out.eve = r->sink;
    r->out.de = with_rules ? o->de : NULL;
    return 0;
}

static void run_stop_mgmt(struct run *r)
{
    pthread_mutex_lock(&r->mgmt_lock);
    r->mgmt_quit = true;
    pthread_cond_signal(&r->mgmt_cond);
    pthread_mutex_unlock(&r->mgmt_lock);
    pthread_join(r->mgmt, NULL);
}

/* The totals, the final stats event and the figures of the report. */
static void run_report_fill(struct run *r, struct run_report *rep)
{
    merge_stats(r, &rep->total);
    if (r->sink && r->s->stats_enabled && (r->s->eve_types & EVE_TYPE_STATS)) {
        struct eve_writer ew;
        eve_writer_init(&ew, r->sink, 64 * 1024);
        write_stats_event(r, &ew);
        eve_writer_destroy(&ew);
    }
    rep->prog = r->prog;
    rep->wall_seconds = elapsed(&r->started);
    if (r->sink) {
        rep->eve_events = r->sink->events;
        memcpy(rep->eve_by_type, r->sink->by_type, sizeof rep->eve_by_type);
    }
}

/* After the workers are gone. */
static void run_free(struct run *r)
{
    detect_engine_free(r->retired);
    eve_sink_close(r->sink);
    fastlog_close(r->out.fast);
    pthread_mutex_destroy(&r->mgmt_lock);
    pthread_cond_destroy(&r->mgmt_cond);
    free(r);
}

int runmode_run_pcap(const struct settings *s, const struct run_options *o,
                     struct run_report *rep)
{
    bool capture_only = o->capture_only;
    memset(rep, 0, sizeof *rep);
    /* an interface or a filter that cannot be used fails before any output */
    struct capture_live *live = NULL;
    if (o->iface != NULL && (live = capture_live_open(o->iface, &o->filter)) == NULL)
        return -1;
    struct run *r = run_new(s);
    if (r == NULL) {
        capture_live_close(live, NULL);
        return -1;
    }
    r->progress_line = isatty(STDERR_FILENO);
    int rc = -1;
    if (run_open_outputs(r, o, !capture_only, live != NULL) < 0)
        goto out;

    bool workers = s->runmode == RUNMODE_WORKERS && !capture_only;
    r->passive = live != NULL;
    if (workers) {
        r->nworkers = s->workers;
        r->dc.stats = &r->reader_stats;
        r->deliver = deliver_workers;
        r->restart = restart_workers;
        if (start_workers(r) < 0) {
            log_error("cannot start %u worker threads", r->nworkers);
            goto out;
        }
    } else {
        r->single = calloc(1, sizeof *r->single);
        if (r->single == NULL || worker_init(r->single, 0, 1, s, &r->out) < 0)
            goto out;
        if (r->passive)
            worker_set_passive(r->single);
        r->dc.stats = &r->single->stats;
        r->deliver = deliver_single;
        r->restart = restart_single;
    }
    if (!capture_only && (r->defrag = defrag_new(&s->defrag, r->dc.stats)) == NULL) {
        log_error("cannot set up IP defragmentation");
        goto out;
    }
    pthread_create(&r->mgmt, NULL, mgmt_main, r);

    struct capture_live_stats ks = { 0 };
    if (live != NULL) {
        rep->status = capture_live_run(live, capture_only ? NULL : live_reader_cb,
                                       workers ? NULL : live_idle, r, &r->prog,
                                       &runmode_stop);
        capture_live_close(live, &ks);
        live = NULL;
    } else if (capture_only)
        rep->status = capture_pcap_count(o->input, &r->prog);
    else
        rep->status = capture_pcap_run(o->input, reader_cb, r, &r->prog, &runmode_stop);

    if (workers) {
        send_control(r, REC_END);
        for (unsigned i = 0; i < r->nworkers; i++)
            pthread_join(r->wt[i].tid, NULL);
    } else {
        worker_finish(r->single, &r->last_ts);
    }

    run_stop_mgmt(r);

    if (capture_only) { /* nothing was decoded: report what was read */
        stats_set(&r->single->stats, STAT_DECODER_PKTS, r->prog.pkts);
        stats_set(&r->single->stats, STAT_DECODER_BYTES, r->prog.bytes);
    }
    if (o->iface != NULL) {
        snprintf(rep->source_buf, sizeof rep->source_buf, "interface %s", o->iface);
        rep->source = rep->source_buf;
        struct stats *st = r->single ? &r->single->stats : &r->reader_stats;
        stats_set(st, STAT_CAPTURE_KERNEL_PACKETS, ks.packets);
        stats_set(st, STAT_CAPTURE_KERNEL_DROPS, ks.drops);
        stats_set(st, STAT_CAPTURE_KERNEL_IFDROPS, ks.ifdrops);
    }
    run_report_fill(r, rep);
    rc = rep->status == CAPTURE_FATAL ? -1 : 0;

out:
    capture_live_close(live, NULL);
    if (r->wt) {
        for (unsigned i = 0; i < r->nworkers; i++) {
            worker_destroy(&r->wt[i].w);
            ring_free(&r->wt[i].ring);
        }
        free(r->wt);
    }
    if (r->single) {
        worker_destroy(r->single);
        free(r->single);
    }
    defrag_free(r->defrag);
    rep->engine = r->engine;
    run_free(r);
    return rc;
}

/* ---- Threads that capture for themselves: NFQUEUE, AF_PACKET ---------------------- */

/* One capture thread: its worker (the parent's wt[i].w), its own reader
 * state (decoder, defragmentation) in a run of its own, and its source. */
struct live_thread {
    struct run *sub;
    pthread_t tid;
    int rc;
    struct nfq_config nfq;          /* NFQUEUE */
    struct nfq_counters nc;
    struct afp_socket *afp;         /* AF_PACKET */
};

struct live_source {
    bool inline_mode;
    /* Opens thread i's source of n; -1 on error (logged). */
    int (*open)(struct live_thread *t, unsigned i, unsigned n, const struct settings *s,
                const struct run_options *o, const void *arg);
    void *(*main)(void *arg);       /* the thread: capture until runmode_stop */
    /* After the thread ended: counters, closing. */
    void (*close)(struct live_thread *t);
    const void *arg;                /* the source's own: AF_PACKET's compiled filter */
};

static int run_live(const struct settings *s, const struct run_options *o,
                    struct run_report *rep, unsigned n, const struct live_source *src)
{
    memset(rep, 0, sizeof *rep);
    struct live_thread *lt = calloc(n, sizeof *lt);
    struct run *r = lt ? run_new(s) : NULL;
    if (r == NULL) {
        free(lt);
        return -1;
    }
    int rc = -1;
    unsigned started = 0;
    if (run_open_outputs(r, o, true, true) < 0)
        goto out;
    /* The parent keeps the workers (for stats); each thread runs its own reader. */
    r->nworkers = n;
    r->wt = calloc(n, sizeof *r->wt);
    if (r->wt == NULL)
        goto out;
    for (unsigned i = 0; i < n; i++) {
        if (worker_init(&r->wt[i].w, i, n, s, &r->out) < 0)
            goto out;
        if (src->inline_mode)
            worker_set_inline(&r->wt[i].w);
        else
            worker_set_passive(&r->wt[i].w);
        struct run *sub = calloc(1, sizeof *sub);
        if (sub == NULL)
            goto out;
        lt[i].sub = sub;
        sub->s = s;
        sub->dc.cfg = s->decode;
        sub->dc.stats = &r->wt[i].w.stats;
        sub->single = &r->wt[i].w;
        sub->deliver = deliver_single;
        sub->restart = restart_single;
        sub->last_tick_sec = -1;
        if ((sub->defrag = defrag_new(&s->defrag, sub->dc.stats)) == NULL) {
            log_error("cannot set up IP defragmentation");
            goto out;
        }
        if (src->open(&lt[i], i, n, s, o, src->arg) < 0)
            goto out;
    }
    pthread_create(&r->mgmt, NULL, mgmt_main, r);
    for (; started < n; started++)
        if (pthread_create(&lt[started].tid, NULL, src->main, &lt[started]) != 0)
            break;
    rc = started < n ? -1 : 0;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(lt[i].tid, NULL);
        if (lt[i].rc < 0)
            rc = -1;
        src->close(&lt[i]);
        r->prog.pkts += lt[i].sub->prog.pkts;
        r->prog.bytes += lt[i].sub->prog.bytes;
    }
    run_stop_mgmt(r);
    run_report_fill(r, rep);
out:
    for (unsigned i = 0; i < n; i++) {
        if (i >= started && src->close)
            src->close(&lt[i]); /* opened but never run */
        if (lt[i].sub) {
            defrag_free(lt[i].sub->defrag);
            free(lt[i].sub);
        }
    }
    if (r->wt) {
        for (unsigned i = 0; i < n; i++)
            worker_destroy(&r->wt[i].w);
        free(r->wt);
    }
    free(lt);
    rep->engine = r->engine;
    run_free(r);
    return rc;
}

/* The reader's part for a packet of a capture thread. */
static int live_packet(void *ctx, const struct capture_pkt *cp)
{
    struct run *r = ctx;
    r->verdict = VERDICT_ACCEPT;
    __atomic_add_fetch(&r->prog.pkts, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&r->prog.bytes, cp->caplen, __ATOMIC_RELAXED);
    reader_packet(r, cp);
    return r->verdict;
}

/* A packet of an inline capture thread has its verdict: what waited for it. */
static void live_after_verdict(void *ctx)
{
    struct run *r = ctx;
    worker_after_verdict(r->single);
    worker_output_tick(r->single);
}


/* ---- NFQUEUE ---------------------------------------------------------------------- */

static int nfq_open(struct live_thread *t, unsigned i, unsigned n, const struct settings *s,
                    const struct run_options *o, const void *arg)
{
    (void)n;
    (void)o;
    (void)arg;
    t->nfq = s->nfq;
    t->nfq.queue = s->nnfq_queues ? s->nfq_queues[i] : s->nfq.queue;
    return 0;
}

static void *nfq_thread_main(void *arg)
{
    struct live_thread *t = arg;
    /* logging waits until the packet has its verdict */
    worker_set_deferred(t->sub->single);
    const struct nfq_callbacks cb = { live_packet, live_after_verdict, live_idle, t->sub };
    t->rc = capture_nfq_run(&t->nfq, &cb, &runmode_stop, &t->nc);
    if (t->rc < 0)
        runmode_stop = 1; /* one queue failed: stop them all */
    worker_finish(t->sub->single, &t->sub->last_ts);
    return NULL;
}

static void nfq_close_thread(struct live_thread *t)
{
    const struct nfq_counters *nc = &t->nc;
    if (nc->pkts == 0 && t->rc == 0 && t->tid == 0)
        return;
    char kernel[96] = "";
    if (nfq_latency_quantile(nc->lat_kernel, 1) > 0)
        snprintf(kernel, sizeof kernel, "; from the kernel's receive p50 %.0f us, p99 %.0f us",
                 nfq_latency_quantile(nc->lat_kernel, 0.5),
                 nfq_latency_quantile(nc->lat_kernel, 0.99));
    log_info("nfqueue: queue %u: %llu packets, %llu accepted, %llu dropped; verdict "
             "latency in caracal p50 %.0f us, p99 %.0f us%s", t->nfq.queue,
             (unsigned long long)nc->pkts, (unsigned long long)nc->accepted,
             (unsigned long long)nc->dropped, nfq_latency_quantile(nc->lat, 0.5),
             nfq_latency_quantile(nc->lat, 0.99), kernel);
    if (nc->verdict_errors || nc->recv_overruns)
        log_warn("nfqueue: queue %u: %llu verdicts refused by the kernel, %llu receive "
                 "overruns", t->nfq.queue, (unsigned long long)nc->verdict_errors,
                 (unsigned long long)nc->recv_overruns);
}

int runmode_run_nfq(const struct settings *s, const struct run_options *o,
                    struct run_report *rep)
{
    static const struct live_source src = { true, nfq_open, nfq_thread_main,
                                            nfq_close_thread, NULL };
    unsigned nq = s->nnfq_queues ? s->nnfq_queues : 1;
    int rc = run_live(s, o, rep, nq, &src);
    uint16_t first = s->nnfq_queues ? s->nfq_queues[0] : s->nfq.queue;
    if (nq == 1)
        snprintf(rep->source_buf, sizeof rep->source_buf, "NFQUEUE %u", first);
    else
        snprintf(rep->source_buf, sizeof rep->source_buf, "NFQUEUE %u.. (%u queues)", first,
                 nq);
    rep->source = rep->source_buf;
    return rc;
}

/* ---- AF_PACKET -------------------------------------------------------------------- */

static int afp_open_thread(struct live_thread *t, unsigned i, unsigned n,
                           const struct settings *s, const struct run_options *o,
                           const void *filter)
{
    (void)s;
    /* one fanout group per sensor: the pid keeps two sensors apart */
    uint16_t group = (uint16_t)(getpid() & 0xffff);
    t->afp = afp_open(o->iface, group, 1 << 20, 32, filter);
    if (t->afp != NULL && i + 1 == n)
        log_info("af-packet: %s: capturing with %u socket%s in fanout group %u", o->iface, n,
                 n == 1 ? "" : "s", group);
    return t->afp ? 0 : -1;
}

/* AF_PACKET is passive: a drop rule's verdict is recorded, never a
 * reason to stop reading (afp_run stops on a non-zero return). */
static int afp_packet(void *ctx, const struct capture_pkt *cp)
{
    struct run *r = ctx;
    live_packet(r, cp);
    worker_output_tick(r->single);
    return 0;
}

static void *afp_thread_main(void *arg)
{
    struct live_thread *t = arg;
    afp_run(t->afp, afp_packet, live_idle, t->sub, &runmode_stop);
    worker_finish(t->sub->single, &t->sub->last_ts);
    return NULL;
}

static void afp_close_thread(struct live_thread *t)
{
    if (t->afp == NULL)
        return;
    struct capture_live_stats ks;
    afp_stats(t->afp, &ks);
    struct stats *st = &t->sub->single->stats;
    stats_add(st, STAT_CAPTURE_KERNEL_PACKETS, ks.packets);
    stats_add(st, STAT_CAPTURE_KERNEL_DROPS, ks.drops);
    afp_close(t->afp);
    t->afp = NULL;
}

int runmode_run_afpacket(const struct settings *s, const struct run_options *o,
                         struct run_report *rep)
{
    struct afp_filter *filter;
    if (afp_filter_compile(&o->filter, &filter) < 0)
        return -1; /* before any output is opened */
    const struct live_source src = { false, afp_open_thread, afp_thread_main,
                                     afp_close_thread, filter };
    unsigned n = s->runmode == RUNMODE_WORKERS ? s->workers : 1;
    int rc = run_live(s, o, rep, n, &src);
    afp_filter_free(filter);
    snprintf(rep->source_buf, sizeof rep->source_buf, "af-packet %s (%u threads)", o->iface, n);
    rep->source = rep->source_buf;
    return rc;
}
