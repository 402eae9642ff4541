/*
 * Bounds-checked reading of untrusted bytes.
 *
 * Every decoder and parser reads packet data through a cursor: each read
 * checks the remaining length first and, once a read fails, the cursor
 * stays failed, so a chain of reads can be checked once at the end.
 */
#ifndef CARACAL_UTIL_CURSOR_H
#define CARACAL_UTIL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
    const uint8_t *data;
    size_t len;
    size_t off;
    bool failed;
};

static inline struct cursor cursor_make(const uint8_t *data, size_t len)
{
    struct cursor c = { data, len, 0, false };
    return c;
}

static inline size_t cursor_remaining(const struct cursor *c)
{
    return c->failed ? 0 : c->len - c->off;
}

static inline bool cursor_has(const struct cursor *c, size_t n)
{
    return !c->failed && c->len - c->off >= n;
}

static inline const uint8_t *cursor_ptr(const struct cursor *c)
{
    return c->data + c->off;
}

static inline bool cursor_skip(struct cursor *c, size_t n)
{
    if (!cursor_has(c, n)) {
        c->failed = true;
        return false;
    }
    c->off += n;
    return true;
}

static inline uint8_t cursor_u8(struct cursor *c)
{
    if (!cursor_has(c, 1)) {
        c->failed = true;
        return 0;
    }
    return c->data[c->off++];
}

static inline uint16_t cursor_u16be(struct cursor *c)
{
    if (!cursor_has(c, 2)) {
        c->failed = true;
        return 0;
    }
    const uint8_t *p = c->data + c->off;
    c->off += 2;
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint16_t cursor_u16le(struct cursor *c)
{
    if (!cursor_has(c, 2)) {
        c->failed = true;
        return 0;
    }
    const uint8_t *p = c->data + c->off;
    c->off += 2;
    return (uint16_t)(p[1] << 8 | p[0]);
}

static inline uint32_t cursor_u32be(struct cursor *c)
{
    if (!cursor_has(c, 4)) {
        c->failed = true;
        return 0;
    }
    const uint8_t *p = c->data + c->off;
    c->off += 4;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t cursor_u32le(struct cursor *c)
{
    if (!cursor_has(c, 4)) {
        c->failed = true;
        return 0;
    }
    const uint8_t *p = c->data + c->off;
    c->off += 4;
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Copies n bytes out; on a short buffer nothing is copied and the cursor fails. */
static inline bool cursor_copy(struct cursor *c, void *dst, size_t n)
{
    if (!cursor_has(c, n)) {
        c->failed = true;
        return false;
    }
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)dst)[i] = c->data[c->off + i];
    c->off += n;
    return true;
}

/* A sub-cursor over the next n bytes (or over what remains, flagged failed). */
static inline struct cursor cursor_sub(struct cursor *c, size_t n)
{
    struct cursor s = cursor_make(cursor_ptr(c), 0);
    if (cursor_has(c, n)) {
        s.len = n;
        c->off += n;
    } else {
        s.failed = true;
        c->failed = true;
    }
    return s;
}

#endif
