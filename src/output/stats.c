#include "output/stats.h"

#include <stdio.h>
#include <string.h>

enum kind { SUM, MAX, INTERNAL }; /* INTERNAL: summed, never written (tests, summary) */

static const char *const counter_names[STAT_EVENT_BASE] = {
#define X(id, name, kind) [STAT_##id] = name,
#include "output/counters.def"
#undef X
};

static const enum kind counter_kinds[STAT_EVENT_BASE] = {
#define X(id, name, kind) [STAT_##id] = kind,
#include "output/counters.def"
#undef X
};

static char event_counter_names[DECODE_EVENT_COUNT][64];

const char *stats_name(int id)
{
    if (id < STAT_EVENT_BASE)
        return counter_names[id];
    int ev = id - STAT_EVENT_BASE;
    if (event_counter_names[ev][0] == '\0') {
        /* Built once on first use; names are constant so a race writes the same bytes. */
        char tmp[64];
        const char *name = decode_event_name(ev);
        if (strncmp(name, "stream.", 7) == 0)
            snprintf(tmp, sizeof tmp, "%s", name); /* stream.<event>, as Suricata */
        else
            snprintf(tmp, sizeof tmp, "decoder.event.%s", name);
        memcpy(event_counter_names[ev], tmp, sizeof tmp);
    }
    return event_counter_names[ev];
}

void stats_merge(struct stats *dst, const struct stats *src)
{
    for (int i = 0; i < STATS_COUNT; i++) {
        uint64_t v = stats_get(src, i);
        if (i < STAT_EVENT_BASE && counter_kinds[i] == MAX) {
            if (v > dst->c[i])
                dst->c[i] = v;
        } else {
            dst->c[i] += v;
        }
    }
}

/* Walks/creates the nested objects for a dotted name and sets the leaf. */
static void set_path(json_t *root, const char *name, json_t *value)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", name);
    json_t *obj = root;
    char *save = NULL;
    char *part = strtok_r(buf, ".", &save);
    while (part != NULL) {
        char *next = strtok_r(NULL, ".", &save);
        if (next == NULL) {
            json_object_set_new(obj, part, value);
            return;
        }
        json_t *child = json_object_get(obj, part);
        if (child == NULL || !json_is_object(child)) {
            child = json_object();
            json_object_set_new(obj, part, child);
        }
        obj = child;
        part = next;
    }
    json_decref(value);
}

json_t *stats_to_json(const struct stats *s, double uptime)
{
    json_t *root = json_object();
    json_object_set_new(root, "uptime", json_integer((json_int_t)uptime));
    for (int i = 0; i < STATS_COUNT; i++) {
        uint64_t v = s->c[i];
        if (v == 0 && i != STAT_DECODER_PKTS && i != STAT_DECODER_BYTES &&
            i != STAT_FLOW_TOTAL)
            continue;
        if (i < STAT_EVENT_BASE && counter_kinds[i] == INTERNAL)
            continue;
        set_path(root, stats_name(i), json_integer((json_int_t)v));
    }
    uint64_t pkts = s->c[STAT_DECODER_PKTS];
    json_t *dec = json_object_get(root, "decoder");
    if (dec != NULL)
        json_object_set_new(dec, "avg_pkt_size",
                            json_integer(pkts ? (json_int_t)(s->c[STAT_DECODER_BYTES] / pkts) : 0));
    return root;
}
