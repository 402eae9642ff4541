#include "engine/worker.h"

#include <string.h>
#include <time.h>

#include "capture/nfq.h"
#include "util/log.h"
#include "util/timefmt.h"

static void write_app_events(struct worker *w, struct flow *f, const struct timeval *ts,
                             const struct app_result *ar);

static void on_flow_end(void *ctx, struct flow *f, enum flow_end_reason reason)
{
    struct worker *w = ctx;
    if (w->app && f->app) {
        struct app_result ar;
        app_flow_end(w->app, f, &ar);
        write_app_events(w, f, &f->last, &ar);
        app_flow_free(w->app, f);
    }
    if ((w->eve_types & EVE_TYPE_FLOW) && w->eve.sink != NULL) {
        json_t *ev = eve_flow_event(f, reason);
        eve_write(&w->eve, ev);
        json_decref(ev);
    }
    detect_flow_free(f);
    if (w->stream)
        stream_flow_free(w->stream, f);
}

int worker_init(struct worker *w, unsigned id, unsigned nworkers, const struct settings *s,
                const struct worker_outputs *out)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    w->reject.raw4 = w->reject.raw6 = -1;
    struct flow_config fc = s->flow;
    fc.memcap = s->flow.memcap / (nworkers ? nworkers : 1);
    fc.hash_size = s->flow.hash_size / (nworkers ? nworkers : 1);
    w->flows = flow_table_new(&fc, &w->stats, on_flow_end, w);
    if (w->flows == NULL)
        return -1;
    if (s->stream.enabled) {
        struct stream_config sc = s->stream;
        sc.memcap = s->stream.memcap / (nworkers ? nworkers : 1);
        sc.policies = &s->defrag;
        if ((w->stream = stream_engine_new(&sc, &w->stats)) == NULL)
            return -1;
    }
    if (s->app.http || s->app.tls || s->app.dns) {
        if ((w->app = app_engine_new(&s->app, &w->stats)) == NULL)
            return -1;
    }
    if (out->de != NULL && (w->dt = detect_thread_new(out->de)) == NULL)
        return -1;
    w->de = out->de;
    w->engine_gen = detect_engine_generation(out->de);
    w->engine_pub = out->engine_pub;
    eve_writer_init(&w->eve, s->eve_enabled ? out->eve : NULL, s->eve_buffer);
    w->eve_types = s->eve_enabled ? s->eve_types : 0;
    w->alert_opts = s->eve_alert_opts;
    w->anomaly_types = s->eve_anomaly_types;
    w->fast = out->fast;
    return 0;
}

/* A timeout pass once per second of packet time, and again at the next
 * call while the last pass left expired flows behind. */
static void timeout_sweep(struct worker *w)
{
    if ((uint64_t)w->now.tv_sec >= w->next_timeout_sec || w->sweep_more) {
        w->sweep_more = flow_table_timeout(w->flows, &w->now);
        w->next_timeout_sec = (uint64_t)w->now.tv_sec + 1;
    }
}

static void advance_clock(struct worker *w, const struct timeval *now)
{
    if (timeval_usec(now) > timeval_usec(&w->now))
        w->now = *now;
}

void worker_tick(struct worker *w, const struct timeval *now)
{
    advance_clock(w, now);
    timeout_sweep(w);
}

/* Offline, a drop is not enforced but recorded, as Suricata does. */
static const char *alert_action_name(int action)
{
    return action == 1 || action == 2 ? "blocked" : "allowed";
}

/* Counts and writes the results of one detection pass. */
static void report(struct worker *w, const struct packet *p, struct flow *f, int dir,
                   const struct detect_result *res, const uint8_t *chunk, uint32_t chunk_len,
                   const struct app_tx *tx)
{
    if (res->suppressed)
        stats_add(&w->stats, STAT_DETECT_ALERTS_SUPPRESSED, res->suppressed);
    if (res->overflow)
        stats_add(&w->stats, STAT_DETECT_ALERT_QUEUE_OVERFLOW, res->overflow);
    if (res->drop && !w->passive) {
        stats_inc(&w->stats, res->reject ? STAT_IPS_REJECTED : STAT_IPS_BLOCKED);
        /* Inline the packet is dropped; offline the same decision is
         * taken and recorded (the rest of the flow too). */
        if (res->reject || w->verdict != VERDICT_REJECT)
            w->verdict = res->reject ? VERDICT_REJECT : VERDICT_DROP;
        if (f)
            f->dropped = true;
    }
    if (res->tagged) {
        stats_inc(&w->stats, STAT_DETECT_TAGGED);
        if ((w->eve_types & EVE_TYPE_ALERT) && (w->alert_opts & EVE_ALERT_TAGGED_PACKETS) &&
            w->eve.sink != NULL) {
            json_t *ev = eve_packet_event(p, f, dir);
            eve_write(&w->eve, ev);
            json_decref(ev);
        }
    }
    if (res->nalerts == 0)
        return;
    if (f)
        f->alerted = true;
    stats_add(&w->stats, STAT_DETECT_ALERT, res->nalerts);
    bool to_eve = (w->eve_types & EVE_TYPE_ALERT) && w->eve.sink != NULL;
    /* The transaction's object is the same for every alert on it. */
    json_t *app_obj = tx != NULL && to_eve ? app_tx_eve(tx) : NULL;
    for (unsigned i = 0; i < res->nalerts; i++) {
        const struct detect_alert *a = &res->alerts[i];
        struct eve_alert_info info = {
            .gid = a->gid, .sid = a->sid, .rev = a->rev,
            .action = w->passive ? "allowed" : alert_action_name(a->action),
            .msg = a->msg, .category = a->category, .severity = a->severity,
            .metadata = a->metadata,
            .target = a->target,
            .stream_data = chunk, .stream_len = chunk_len,
        };
        if (tx != NULL) {
            info.app_type = app_proto_name(tx->proto);
            info.tx_id = tx->id;
            info.app_obj = app_obj;
        }
        if (to_eve) {
            json_t *ev = eve_alert_event(p, f, dir, &info, w->alert_opts);
            eve_write(&w->eve, ev);
            json_decref(ev);
        }
        if (w->fast)
            fastlog_write(w->fast, p, &info);
    }
    json_decref(app_obj);
}

static void run_detect(struct worker *w, const struct packet *p, struct flow *f, int dir,
                       const struct stream_result *sr)
{
    struct detect_result res;
    if (!sr->tracked) {
        detect_packet(w->dt, p, f, dir, &res);
        report(w, p, f, dir, &res, NULL, 0, NULL);
        return;
    }
    /* A reassembled session: the packet without the stream's payload
     * rules, then the new stream bytes with them. */
    detect_packet_mode(w->dt, p, f, dir, DETECT_PACKET_STREAMED, NULL, 0, 0, 0, &res);
    report(w, p, f, dir, &res, NULL, 0, NULL);
    if (res.pass || sr->len == 0)
        return;
    detect_packet_mode(w->dt, p, f, dir, DETECT_STREAM, sr->chunk, sr->len, sr->new_off,
                       sr->chunk_off, &res);
    report(w, p, f, dir, &res, sr->chunk, sr->len, NULL);
}

static unsigned eve_type_bit(int proto)
{
    switch (proto) {
    case APP_HTTP: return EVE_TYPE_HTTP;
    case APP_TLS: return EVE_TYPE_TLS;
    case APP_DNS: return EVE_TYPE_DNS;
    default: return 0;
    }
}

/* The transactions of ar that are ready to be logged, as EVE events. */
static void write_app_events(struct worker *w, struct flow *f, const struct timeval *ts,
                             const struct app_result *ar)
{
    if (w->eve.sink == NULL)
        return;
    for (unsigned i = 0; i < ar->n; i++) {
        const struct app_item *it = &ar->items[i];
        if (!it->log || !(w->eve_types & eve_type_bit(it->tx.proto)))
            continue;
        json_t *ev = eve_app_event(f, ts, app_proto_name(it->tx.proto), it->tx.id,
                                   app_tx_eve(&it->tx));
        eve_write(&w->eve, ev);
        json_decref(ev);
    }
}

/* App-layer events of one packet: counted, and written as anomalies. */
static void write_app_anomalies(struct worker *w, const struct packet *p, const struct flow *f,
                                const struct app_result *ar)
{
    bool out = (w->eve_types & EVE_TYPE_ANOMALY) && (w->anomaly_types & EVE_ANOMALY_APPLAYER) &&
               w->eve.sink != NULL;
    for (unsigned i = 0; out && i < ar->events.n; i++) {
        json_t *ev = eve_app_anomaly_event(p, f, app_proto_name(ar->proto),
                                           app_event_name(ar->proto, ar->events.code[i]),
                                           "proto_parser");
        eve_write(&w->eve, ev);
        json_decref(ev);
    }
    for (unsigned i = 0; out && i < ar->flow_events.n; i++) {
        json_t *ev = eve_app_anomaly_event(p, f, f->app_proto == APP_NONE ? "unknown"
                                           : app_proto_name(f->app_proto),
                                           app_flow_event_name(ar->flow_events.code[i]),
                                           "proto_detect");
        eve_write(&w->eve, ev);
        json_decref(ev);
    }
}

/* Hands the packet's new stream bytes (or its datagram) to the app layer,
 * then inspects and logs the transactions that became ready. */
static void run_app(struct worker *w, const struct packet *p, struct flow *f, int dir,
                    const struct stream_result *sr)
{
    struct app_result ar;
    if (p->proto == 6) {
        if (sr->gap)
            app_tcp_gap(w->app, f, dir);
        if (sr->len <= sr->new_off)
            return;
        app_tcp_data(w->app, f, dir, sr->chunk + sr->new_off, sr->len - sr->new_off, &p->ts,
                     &ar);
    } else if (p->proto == 17) {
        app_udp_packet(w->app, f, dir, p, &ar);
    } else {
        return;
    }
    write_app_anomalies(w, p, f, &ar);
    for (unsigned i = 0; w->dt && i < ar.n; i++) {
        const struct app_item *it = &ar.items[i];
        if (!it->inspect)
            continue;
        struct detect_result res;
        detect_tx(w->dt, p, f, it->dir, &it->tx, &res);
        report(w, p, f, it->dir, &res, NULL, 0, &it->tx);
    }
    if (w->deferred && ar.n > 0) {
        /* logged once the verdict is given (the flow lives until then:
         * flows end only in timeout passes and at the end) */
        w->pending_flow = f;
        w->pending_ts = p->ts;
        w->pending_ar = ar;
        return;
    }
    write_app_events(w, f, &p->ts, &ar);
    app_result_done(w->app, f, &ar);
}

static void write_pending(struct worker *w)
{
    struct flow *f = w->pending_flow;
    if (f == NULL)
        return;
    w->pending_flow = NULL;
    write_app_events(w, f, &w->pending_ts, &w->pending_ar);
    app_result_done(w->app, f, &w->pending_ar);
}

static void write_anomaly(struct worker *w, const struct packet *p, const struct flow *f,
                          int ev_id, unsigned kind)
{
    if (!(w->eve_types & EVE_TYPE_ANOMALY) || !(w->anomaly_types & kind))
        return;
    json_t *ev = eve_anomaly_event(p, f ? f->flow_id : 0, ev_id);
    eve_write(&w->eve, ev);
    json_decref(ev);
}

/* A dropped packet as an EVE drop event. */
static void write_drop(struct worker *w, const struct packet *p, const struct flow *f,
                       const char *reason)
{
    if (w->eve.sink == NULL || !(w->eve_types & EVE_TYPE_DROP))
        return;
    json_t *ev = eve_drop_event(p, f, reason);
    eve_write(&w->eve, ev);
    json_decref(ev);
}

int worker_use_engine(struct worker *w, const struct detect_engine *de)
{
    struct detect_thread *dt = NULL;
    if (de != NULL && (dt = detect_thread_new(de)) == NULL) {
        if (!w->engine_failed)
            log_error("worker %u: no memory for the reloaded rules' scratch; the previous "
                      "rules stay in effect on this worker", w->id);
        w->engine_failed = true;
        return -1;
    }
    detect_thread_free(w->dt);
    w->dt = dt;
    w->de = de;
    w->engine_failed = false;
    __atomic_store_n(&w->engine_gen, detect_engine_generation(de), __ATOMIC_RELEASE);
    return 0;
}

void worker_engine_update(struct worker *w)
{
    if (w->engine_pub == NULL)
        return;
    const struct detect_engine *de = __atomic_load_n(w->engine_pub, __ATOMIC_ACQUIRE);
    if (de != w->de)
        worker_use_engine(w, de);
}

uint64_t worker_engine_generation(const struct worker *w)
{
    return __atomic_load_n(&w->engine_gen, __ATOMIC_ACQUIRE);
}

void worker_process(struct worker *w, const struct packet *p)
{
    worker_engine_update(w);
    /* a datagram completed by a fragment follows the fragment without a
     * verdict in between: the fragment's records go first */
    write_pending(w);
    advance_clock(w, &p->ts);
    if (!w->deferred)
        timeout_sweep(w);
    int dir = 0;
    struct flow *f = flow_handle_packet(w->flows, p, &dir);
    w->verdict = VERDICT_ACCEPT;
    if (f && f->dropped) {
        /* The flow was dropped: the rest of it is, without inspection. */
        w->verdict = VERDICT_DROP;
        stats_inc(&w->stats, STAT_IPS_BLOCKED);
        write_drop(w, p, f, "flow drop");
        return;
    }
    struct stream_result sr;
    memset(&sr, 0, sizeof sr);
    if (w->stream && f && p->proto == 6)
        stream_packet(w->stream, f, p, dir, &sr);
    /* The app layer first, as Suricata does: alerts then know the flow's protocol. */
    if (w->app && f)
        run_app(w, p, f, dir, &sr);
    if (w->dt)
        run_detect(w, p, f, dir, &sr);
    for (unsigned i = 0; i < p->nevents; i++)
        write_anomaly(w, p, f, p->events[i], EVE_ANOMALY_DECODE);
    for (unsigned i = 0; i < sr.nevents; i++) {
        stats_inc(&w->stats, STAT_EVENT_BASE + sr.events[i]);
        write_anomaly(w, p, f, sr.events[i], EVE_ANOMALY_STREAM);
    }
    if (w->verdict == VERDICT_ACCEPT) {
        if (w->inline_mode)
            stats_inc(&w->stats, STAT_IPS_ACCEPTED);
    } else {
        write_drop(w, p, f, "rules");
        if (w->verdict == VERDICT_REJECT && w->inline_mode)
            reject_send(&w->reject, p);
    }
}

void worker_set_deferred(struct worker *w)
{
    w->deferred = true;
}

void worker_after_verdict(struct worker *w)
{
    write_pending(w);
    timeout_sweep(w);
}

void worker_flush_output(struct worker *w)
{
    eve_writer_flush(&w->eve);
}

void worker_idle(struct worker *w)
{
    worker_output_tick(w);
    worker_engine_update(w);
}

void worker_output_tick(struct worker *w)
{
    if (w->eve.len == 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    if (now - w->last_output_ms < WORKER_OUTPUT_INTERVAL_MS)
        return;
    w->last_output_ms = now;
    eve_writer_flush(&w->eve);
}

void worker_set_passive(struct worker *w)
{
    w->passive = true;
}

void worker_set_inline(struct worker *w)
{
    w->inline_mode = true;
    reject_open(&w->reject);
}

void worker_finish(struct worker *w, const struct timeval *end)
{
    write_pending(w);
    flow_table_flush(w->flows, end);
    eve_writer_flush(&w->eve);
}

void worker_restart_clock(struct worker *w, const struct timeval *end)
{
    write_pending(w);
    flow_table_flush(w->flows, end);
    memset(&w->now, 0, sizeof w->now);
    w->next_timeout_sec = 0;
    w->sweep_more = false;
}

void worker_destroy(struct worker *w)
{
    write_pending(w);
    /* flows still open (worker_finish not called: an error path) end as
     * at shutdown, so that their module state is freed */
    if (w->flows)
        flow_table_flush(w->flows, &w->now);
    flow_table_free(w->flows);
    w->flows = NULL;
    stream_engine_free(w->stream);
    w->stream = NULL;
    app_engine_free(w->app);
    w->app = NULL;
    reject_close(&w->reject);
    detect_thread_free(w->dt);
    w->dt = NULL;
    w->de = NULL;
    eve_writer_destroy(&w->eve);
}
