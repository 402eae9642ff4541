#include "util/ring.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REC_ALIGN 8u
#define WRAP_MARK 0xffffffffu
#define RELEASE_BATCH (64u * 1024u)

struct rec_hdr {
    uint32_t len; /* payload bytes, or WRAP_MARK */
    uint32_t pad;
};

static size_t rec_span(size_t n)
{
    return (sizeof(struct rec_hdr) + n + REC_ALIGN - 1) & ~(size_t)(REC_ALIGN - 1);
}

int ring_init(struct ring *r, size_t size)
{
    memset(r, 0, sizeof *r);
    size_t s = 4096;
    while (s < size)
        s <<= 1;
    r->buf = aligned_alloc(64, s);
    if (r->buf == NULL)
        return -1;
    r->size = s;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void ring_free(struct ring *r)
{
    free(r->buf);
    r->buf = NULL;
}

void ring_wait(unsigned *spins)
{
    unsigned s = (*spins)++;
    if (s < 64)
        return;
    if (s < 256) {
        sched_yield();
        return;
    }
    struct timespec ts = { 0, 50 * 1000 };
    nanosleep(&ts, NULL);
}

void *ring_reserve(struct ring *r, size_t n)
{
    size_t span = rec_span(n);
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t pos = head & (r->size - 1);
    size_t need = span;
    if (pos + span > r->size)
        need += r->size - pos; /* wrap: skip to the start */
    if (need > r->size)
        return NULL; /* can never fit */
    unsigned spins = 0;
    while (r->size - (head - r->cached_tail) < need) {
        r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (r->size - (head - r->cached_tail) >= need)
            break;
        ring_wait(&spins);
    }
    if (pos + span > r->size) {
        struct rec_hdr *w = (struct rec_hdr *)(r->buf + pos);
        w->len = WRAP_MARK;
        head += r->size - pos;
        /* The marker is published together with the record below. */
        pos = 0;
    }
    struct rec_hdr *h = (struct rec_hdr *)(r->buf + pos);
    h->len = (uint32_t)n;
    r->cached_head = head + span; /* producer-side scratch: where head goes */
    return h + 1;
}

void ring_commit(struct ring *r)
{
    atomic_store_explicit(&r->head, r->cached_head, memory_order_release);
}

const void *ring_peek(struct ring *r, size_t *n)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed) + r->pending_release;
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    for (;;) {
        if (tail == head)
            return NULL;
        size_t pos = tail & (r->size - 1);
        const struct rec_hdr *h = (const struct rec_hdr *)(r->buf + pos);
        if (h->len == WRAP_MARK) {
            r->pending_release += r->size - pos;
            tail += r->size - pos;
            continue;
        }
        *n = h->len;
        return h + 1;
    }
}

void ring_release(struct ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed) + r->pending_release;
    const struct rec_hdr *h = (const struct rec_hdr *)(r->buf + (tail & (r->size - 1)));
    r->pending_release += rec_span(h->len);
    if (r->pending_release >= RELEASE_BATCH)
        ring_flush_release(r);
}

void ring_flush_release(struct ring *r)
{
    if (r->pending_release == 0)
        return;
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + r->pending_release, memory_order_release);
    r->pending_release = 0;
}
