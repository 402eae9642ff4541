/*
 * Counters. Each thread owns a block and is its only writer; the
 * management thread reads all blocks and merges them into stats events.
 */
#ifndef CARACAL_OUTPUT_STATS_H
#define CARACAL_OUTPUT_STATS_H

#include <jansson.h>
#include <stdint.h>

#include "decode/decode_events.h"

enum stats_counter {
#define X(id, name, kind) STAT_##id,
#include "output/counters.def"
#undef X
    STAT_EVENT_BASE,
    STATS_COUNT = STAT_EVENT_BASE + DECODE_EVENT_COUNT,
};

struct stats {
    uint64_t c[STATS_COUNT];
};

/* Single writer: a relaxed load and store, no read-modify-write needed. */
static inline void stats_add(struct stats *s, int id, uint64_t n)
{
    __atomic_store_n(&s->c[id], __atomic_load_n(&s->c[id], __ATOMIC_RELAXED) + n,
                     __ATOMIC_RELAXED);
}

static inline void stats_inc(struct stats *s, int id)
{
    stats_add(s, id, 1);
}

static inline void stats_set(struct stats *s, int id, uint64_t v)
{
    __atomic_store_n(&s->c[id], v, __ATOMIC_RELAXED);
}

static inline void stats_max(struct stats *s, int id, uint64_t v)
{
    if (v > __atomic_load_n(&s->c[id], __ATOMIC_RELAXED))
        __atomic_store_n(&s->c[id], v, __ATOMIC_RELAXED);
}

static inline uint64_t stats_get(const struct stats *s, int id)
{
    return __atomic_load_n(&s->c[id], __ATOMIC_RELAXED);
}

const char *stats_name(int id);

/* Adds src into dst (MAX counters take the maximum). */
void stats_merge(struct stats *dst, const struct stats *src);

/* The "stats" object of an EVE stats event: nested by the dotted names.
 * Counters that are zero are left out, except decoder.pkts/bytes. */
json_t *stats_to_json(const struct stats *s, double uptime);

#endif
