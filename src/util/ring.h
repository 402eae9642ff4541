/*
 * Single-producer single-consumer byte ring carrying variable-length
 * records (a packet and its capture header) from the reader thread to one
 * worker. Lock-free: each side owns one index; the other only reads it.
 */
#ifndef CARACAL_UTIL_RING_H
#define CARACAL_UTIL_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct ring {
    uint8_t *buf;
    size_t size; /* power of two */
    _Alignas(64) _Atomic size_t head; /* written by the producer */
    _Alignas(64) _Atomic size_t tail; /* written by the consumer */
    _Alignas(64) size_t cached_tail;  /* producer's view of tail */
    size_t cached_head;               /* producer: head once the reserved record is committed */
    size_t pending_release;           /* consumer: bytes read but not yet released */
};

int ring_init(struct ring *r, size_t size);
void ring_free(struct ring *r);

/* Producer: reserve n bytes (blocks while full); returns where to write, or
 * NULL when a record of n bytes can never fit in this ring. */
void *ring_reserve(struct ring *r, size_t n);
/* Producer: make the reserved record visible. */
void ring_commit(struct ring *r);

/* Consumer: next record, or NULL when none is ready; *n gets its length. */
const void *ring_peek(struct ring *r, size_t *n);
/* Consumer: done with the record returned by the last ring_peek. */
void ring_release(struct ring *r);
/* Consumer: publish releases made so far (done in batches). */
void ring_flush_release(struct ring *r);

/* Backoff used by both sides while waiting. */
void ring_wait(unsigned *spins);

#endif
