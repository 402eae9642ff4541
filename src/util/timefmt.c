#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

char *timefmt_eve(const struct timeval *tv, char *buf, size_t len)
{
    struct tm tm;
    time_t t = tv->tv_sec;
    if (localtime_r(&t, &tm) == NULL) {
        snprintf(buf, len, "1970-01-01T00:00:00.000000+0000");
        return buf;
    }
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    off = labs(off);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld%c%02ld%02ld",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, (long)tv->tv_usec, sign, off / 60, off % 60);
    return buf;
}
