#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_level current = LOG_LVL_INFO;

void log_set_level(enum log_level lvl)
{
    current = lvl;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    if (lvl > current)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One write per line so concurrent threads do not interleave mid-line. */
    fprintf(stderr, "caracal: %s: %s\n", names[lvl], line);
}
