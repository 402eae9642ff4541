/* Small non-cryptographic hashing helpers. */
#ifndef CARACAL_UTIL_HASH_H
#define CARACAL_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit hash of a byte string with a seed (wyhash-style mixing). */
uint64_t hash_bytes(const void *data, size_t len, uint64_t seed);

/* Finalizer that spreads the bits of a 64-bit value. */
static inline uint64_t hash_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

#endif
