/* fast.log: one line per alert, in Suricata's format. */
#ifndef CARACAL_OUTPUT_FASTLOG_H
#define CARACAL_OUTPUT_FASTLOG_H

#include <pthread.h>
#include <stdio.h>

#include "decode/decode.h"
#include "output/eve.h"

struct fastlog {
    FILE *f;
    pthread_mutex_t lock;
};

struct fastlog *fastlog_open(const char *path, char *err, size_t errlen);
void fastlog_close(struct fastlog *fl);
/* Formats one alert line; classification is the category text ("" when none). */
void fastlog_format(char *buf, size_t len, const struct packet *p, const struct eve_alert_info *a);
void fastlog_write(struct fastlog *fl, const struct packet *p, const struct eve_alert_info *a);

#endif
