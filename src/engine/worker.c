#include "engine/worker.h"

#include <string.h>

#include "util/timefmt.h"

static void on_flow_end(void *ctx, const struct flow *f, enum flow_end_reason reason)
{
    struct worker *w = ctx;
    if (!(w->eve_types & EVE_TYPE_FLOW) || w->eve.sink == NULL)
        return;
    json_t *ev = eve_flow_event(f, reason);
    eve_write(&w->eve, ev);
    json_decref(ev);
}

int worker_init(struct worker *w, unsigned id, unsigned nworkers, const struct settings *s,
                struct eve_sink *sink)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    struct flow_config fc = s->flow;
    fc.memcap = s->flow.memcap / (nworkers ? nworkers : 1);
    fc.hash_size = s->flow.hash_size / (nworkers ? nworkers : 1);
    w->flows = flow_table_new(&fc, &w->stats, on_flow_end, w);
    if (w->flows == NULL)
        return -1;
    eve_writer_init(&w->eve, s->eve_enabled ? sink : NULL, s->eve_buffer);
    w->eve_types = s->eve_enabled ? s->eve_types : 0;
    return 0;
}

void worker_tick(struct worker *w, const struct timeval *now)
{
    if (timeval_usec(now) > timeval_usec(&w->now))
        w->now = *now;
    if ((uint64_t)w->now.tv_sec >= w->next_timeout_sec) {
        flow_table_timeout(w->flows, &w->now);
        w->next_timeout_sec = (uint64_t)w->now.tv_sec + 1;
    }
}

void worker_process(struct worker *w, const struct packet *p)
{
    worker_tick(w, &p->ts);
    int dir = 0;
    struct flow *f = flow_handle_packet(w->flows, p, &dir);
    if (p->nevents && (w->eve_types & EVE_TYPE_ANOMALY)) {
        for (unsigned i = 0; i < p->nevents; i++) {
            json_t *ev = eve_anomaly_event(p, f ? f->flow_id : 0, p->events[i]);
            eve_write(&w->eve, ev);
            json_decref(ev);
        }
    }
}

void worker_finish(struct worker *w, const struct timeval *end)
{
    flow_table_flush(w->flows, end);
    eve_writer_flush(&w->eve);
}

void worker_destroy(struct worker *w)
{
    flow_table_free(w->flows);
    w->flows = NULL;
    eve_writer_destroy(&w->eve);
}
