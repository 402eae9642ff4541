/* Timestamps in the form EVE uses: 2024-05-01T12:00:00.123456+0000. */
#ifndef CARACAL_UTIL_TIMEFMT_H
#define CARACAL_UTIL_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#define TIMEFMT_LEN 32

/* Formats tv in local time (TZ applies); returns buf. The zone offset is
 * looked up once per second formatted per thread, so TZ is meant to be set
 * before the first event. */
char *timefmt_eve(const struct timeval *tv, char *buf, size_t len);

static inline uint64_t timeval_usec(const struct timeval *tv)
{
    return (uint64_t)tv->tv_sec * 1000000u + (uint64_t)tv->tv_usec;
}

#endif
