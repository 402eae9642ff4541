#include "output/fastlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fastlog *fastlog_open(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "a");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct fastlog *fl = calloc(1, sizeof *fl);
    if (fl == NULL) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    fl->f = f;
    pthread_mutex_init(&fl->lock, NULL);
    return fl;
}

void fastlog_close(struct fastlog *fl)
{
    if (fl == NULL)
        return;
    fclose(fl->f);
    pthread_mutex_destroy(&fl->lock);
    free(fl);
}

/* 05/01/2024-12:00:00.123456  [**] [1:2000001:3] msg [**] [Classification: c] [Priority: 1] {TCP} a:1 -> b:2 */
void fastlog_format(char *buf, size_t len, const struct packet *p, const struct eve_alert_info *a)
{
    struct tm tm;
    time_t t = p->ts.tv_sec;
    localtime_r(&t, &tm);
    char src[64] = "", dst[64] = "", proto[8];
    decode_addr_str(p->ip_ver, &p->src, src, sizeof src);
    decode_addr_str(p->ip_ver, &p->dst, dst, sizeof dst);
    const char *pn = eve_proto_name(p->proto, proto, sizeof proto);
    char sp[8] = "", dp[8] = "";
    if (p->flags & PKT_HAS_PORTS) {
        snprintf(sp, sizeof sp, ":%u", p->sp);
        snprintf(dp, sizeof dp, ":%u", p->dp);
    } else if (p->proto == 1 || p->proto == 58) { /* ICMP type and code where ports go */
        snprintf(sp, sizeof sp, ":%u", p->icmp.type);
        snprintf(dp, sizeof dp, ":%u", p->icmp.code);
    }
    /* Offline nothing is really dropped: "would drop", as Suricata writes it. */
    bool blocked = strcmp(a->action, "blocked") == 0;
    snprintf(buf, len,
             "%02d/%02d/%04d-%02d:%02d:%02d.%06ld  %s[**] [%u:%u:%u] %s [**] "
             "[Classification: %s] [Priority: %d] {%s} %s%s -> %s%s\n",
             tm.tm_mon + 1, tm.tm_mday, tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long)p->ts.tv_usec, blocked ? "[wDrop] " : "", a->gid, a->sid, a->rev, a->msg,
             a->category && *a->category ? a->category : "(null)", a->severity, pn, src, sp,
             dst, dp);
}

void fastlog_write(struct fastlog *fl, const struct packet *p, const struct eve_alert_info *a)
{
    char line[2048];
    fastlog_format(line, sizeof line, p, a);
    pthread_mutex_lock(&fl->lock);
    fputs(line, fl->f);
    fflush(fl->f);
    pthread_mutex_unlock(&fl->lock);
}
