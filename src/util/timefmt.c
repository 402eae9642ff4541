#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The date, time and zone change once a second at most, while events come
 * by the thousand: each thread keeps the last second it formatted. */
static __thread struct {
    time_t sec;
    bool valid;
    char date[32];  /* 2024-05-01T12:00:00 */
    char zone[8];   /* +0000 */
} cache;

static void fill_cache(time_t t)
{
    struct tm tm;
    cache.sec = t;
    cache.valid = true;
    if (localtime_r(&t, &tm) == NULL) {
        snprintf(cache.date, sizeof cache.date, "1970-01-01T00:00:00");
        snprintf(cache.zone, sizeof cache.zone, "+0000");
        return;
    }
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    off = labs(off);
    snprintf(cache.date, sizeof cache.date, "%04d-%02d-%02dT%02d:%02d:%02d",
             (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
    snprintf(cache.zone, sizeof cache.zone, "%c%02ld%02ld", sign, (off / 60) % 100, off % 60);
}

char *timefmt_eve(const struct timeval *tv, char *buf, size_t len)
{
    if (!cache.valid || cache.sec != tv->tv_sec)
        fill_cache(tv->tv_sec);
    /* Microseconds by hand: this runs for every event. */
    char usec[7];
    long u = (long)tv->tv_usec;
    if (u < 0 || u > 999999)
        u = 0;
    for (int i = 5; i >= 0; i--) {
        usec[i] = (char)('0' + u % 10);
        u /= 10;
    }
    usec[6] = '\0';
    snprintf(buf, len, "%s.%s%s", cache.date, usec, cache.zone);
    return buf;
}
