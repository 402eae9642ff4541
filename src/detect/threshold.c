/*
 * threshold.config, in Suricata's format, one directive a line (a trailing
 * backslash continues it):
 *
 *   suppress gen_id G, sig_id S[, track by_src|by_dst|by_either, ip ADDRESSES]
 *   threshold gen_id G, sig_id S, type limit|threshold|both,
 *             track by_src|by_dst|by_both|by_rule|by_flow, count N, seconds T
 *   event_filter ... (the same as threshold)
 *   rate_filter gen_id G, sig_id S, track by_rule|by_src|by_dst|by_both,
 *             count N, seconds T, new_action alert|drop|pass|reject, timeout T
 *
 * sig_id 0 applies to every signature of gen_id G (gen_id 0: of any gid).
 * ADDRESSES is what a rule header takes: an address, a CIDR, a [list] or a
 * $VARIABLE from the configuration.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/kw_runtime.h"

#define TCFG_LINE_MAX 8192

enum { K_GID = 1, K_SID = 2, K_TYPE = 4, K_TRACK = 8, K_COUNT = 16, K_SECONDS = 32,
       K_IP = 64, K_ACTION = 128, K_TIMEOUT = 256 };

/* Keys each directive requires and allows. */
static const struct {
    const char *name;
    uint8_t kind;
    unsigned required, allowed;
} directives[] = {
    { "suppress", TCFG_SUPPRESS, K_GID | K_SID, K_GID | K_SID | K_TRACK | K_IP },
    { "threshold", TCFG_THRESHOLD, K_GID | K_SID | K_TYPE | K_TRACK | K_COUNT | K_SECONDS,
      K_GID | K_SID | K_TYPE | K_TRACK | K_COUNT | K_SECONDS },
    { "event_filter", TCFG_THRESHOLD, K_GID | K_SID | K_TYPE | K_TRACK | K_COUNT | K_SECONDS,
      K_GID | K_SID | K_TYPE | K_TRACK | K_COUNT | K_SECONDS },
    { "rate_filter", TCFG_RATE_FILTER,
      K_GID | K_SID | K_TRACK | K_COUNT | K_SECONDS | K_ACTION | K_TIMEOUT,
      K_GID | K_SID | K_TRACK | K_COUNT | K_SECONDS | K_ACTION | K_TIMEOUT },
};

static const char *const key_names[] = { "gen_id", "sig_id", "type", "track", "count",
                                         "seconds", "ip", "new_action", "timeout" };

static int word_index(const char *w, const char *const *words, int n)
{
    for (int i = 0; i < n; i++)
        if (words[i] != NULL && strcmp(words[i], w) == 0)
            return i;
    return -1;
}

/* Splits at the next comma outside brackets. */
static char *next_item(char *s, char **item)
{
    int depth = 0;
    char *p = s;
    for (; *p; p++) {
        if (*p == '[')
            depth++;
        else if (*p == ']' && depth > 0)
            depth--;
        else if (*p == ',' && depth == 0)
            break;
    }
    char *rest = NULL;
    if (*p == ',') {
        *p = '\0';
        rest = p + 1;
    }
    *item = kw_strip(s);
    return rest;
}

static int set_value(struct detect_build *b, struct tcfg_entry *e, int kind, int key,
                     char *val, char *why, size_t whylen)
{
    static const char *const types[] = { [THR_LIMIT] = "limit", [THR_THRESHOLD] = "threshold",
                                         [THR_BOTH] = "both" };
    static const char *const tracks[] = { [TRACK_BY_SRC] = "by_src", [TRACK_BY_DST] = "by_dst",
                                          [TRACK_BY_BOTH] = "by_both",
                                          [TRACK_BY_RULE] = "by_rule",
                                          [TRACK_BY_FLOW] = "by_flow" };
    static const char *const supp_tracks[] = { NULL, "by_src", "by_dst", "by_either" };
    static const char *const actions[] = { [ACTION_ALERT] = "alert", [ACTION_DROP] = "drop",
                                           [ACTION_REJECT] = "reject", [ACTION_PASS] = "pass" };
    uint64_t n;
    int i;
    switch (key) {
    case K_GID:
    case K_SID:
    case K_COUNT:
    case K_SECONDS:
    case K_TIMEOUT:
        if (!kw_parse_u64(val, UINT32_MAX, &n) ||
            (n == 0 && (key == K_COUNT || key == K_SECONDS)))
            goto bad;
        if (key == K_GID)
            e->gid = (uint32_t)n;
        else if (key == K_SID)
            e->sid = (uint32_t)n;
        else if (key == K_COUNT)
            e->spec.count = (uint32_t)n;
        else if (key == K_SECONDS)
            e->spec.seconds = (uint32_t)n;
        else
            e->timeout = (uint32_t)n;
        return 0;
    case K_TYPE:
        if ((i = word_index(val, types, 3)) < 0)
            goto bad;
        e->spec.type = i;
        return 0;
    case K_TRACK:
        if (kind == TCFG_SUPPRESS) {
            if ((i = word_index(val, supp_tracks, 4)) < 0)
                goto bad;
            e->supp_track = (uint8_t)i;
        } else {
            /* by_flow exists for threshold only */
            int max = kind == TCFG_THRESHOLD ? 5 : 4;
            if ((i = word_index(val, tracks, max)) < 0)
                goto bad;
            e->spec.track = i;
        }
        return 0;
    case K_ACTION:
        if ((i = word_index(val, actions, 4)) < 0)
            goto bad;
        e->new_action = i;
        return 0;
    case K_IP: {
        char aerr[256];
        e->ips = addr_set_parse(b->conf, val, aerr, sizeof aerr);
        if (e->ips == NULL) {
            snprintf(why, whylen, "invalid ip '%s': %s", val, aerr);
            return -1;
        }
        return 0;
    }
    }
bad:
    snprintf(why, whylen, "invalid %s '%s'", key_names[__builtin_ctz((unsigned)key)], val);
    return -1;
}

/* Parses one directive into e; a reason in why on error. */
static int parse_directive(struct detect_build *b, char *line, struct tcfg_entry *e, char *why,
                      size_t whylen)
{
    memset(e, 0, sizeof *e);
    char *p = line;
    while (*p && !isspace((unsigned char)*p))
        p++;
    if (*p != '\0')
        *p++ = '\0';
    unsigned d = 0;
    while (d < sizeof directives / sizeof *directives && strcmp(directives[d].name, line) != 0)
        d++;
    if (d == sizeof directives / sizeof *directives) {
        snprintf(why, whylen, "unknown directive '%s'", line);
        return -1;
    }
    e->kind = directives[d].kind;
    if (e->kind == TCFG_RATE_FILTER)
        e->spec.type = THR_THRESHOLD;
    unsigned seen = 0;
    for (char *rest = p, *item; rest != NULL;) {
        rest = next_item(rest, &item);
        char *val = item;
        while (*val && !isspace((unsigned char)*val))
            val++;
        if (*val != '\0')
            *val++ = '\0';
        val = kw_strip(val);
        int k = word_index(item, key_names, 9);
        unsigned key = k < 0 ? 0 : 1u << k;
        if (!(directives[d].allowed & key)) {
            snprintf(why, whylen, "unexpected '%s' in %s", item, directives[d].name);
            return -1;
        }
        if (seen & key) {
            snprintf(why, whylen, "'%s' given twice", item);
            return -1;
        }
        seen |= key;
        if (set_value(b, e, e->kind, (int)key, val, why, whylen) < 0)
            return -1;
    }
    unsigned missing = directives[d].required & ~seen;
    if (e->kind == TCFG_SUPPRESS && ((seen & K_TRACK) != 0) != ((seen & K_IP) != 0))
        missing |= seen & K_TRACK ? K_IP : K_TRACK;
    if (missing) {
        snprintf(why, whylen, "%s without %s", directives[d].name,
                 key_names[__builtin_ctz(missing)]);
        return -1;
    }
    return 0;
}

static int parse_line(struct detect_build *b, char *line, struct tcfg_entry *e, char *why,
                      size_t whylen)
{
    if (parse_directive(b, line, e, why, whylen) == 0)
        return 0;
    if (e->ips)
        addr_set_free(e->ips);
    e->ips = NULL;
    return -1;
}

static int entry_order(const void *a, const void *b)
{
    const struct tcfg_entry *x = a, *y = b;
    bool gx = x->sid == 0, gy = y->sid == 0;
    if (gx != gy)
        return gx ? -1 : 1;
    if (!gx && x->gid != y->gid)
        return x->gid < y->gid ? -1 : 1;
    if (!gx && x->sid != y->sid)
        return x->sid < y->sid ? -1 : 1;
    return x->file_line < y->file_line ? -1 : x->file_line > y->file_line;
}

static int append(struct threshold_config *t, const struct tcfg_entry *e)
{
    if (t->n == t->cap) {
        unsigned cap = t->cap ? t->cap * 2 : 16;
        struct tcfg_entry *a = realloc(t->e, cap * sizeof *a);
        if (a == NULL)
            return -1;
        t->e = a;
        t->cap = cap;
    }
    t->e[t->n++] = *e;
    return 0;
}

/* Reads one logical line (joining backslash continuations); 0 at the end. */
static int read_logical(FILE *fp, char *buf, size_t len, int *lineno, int *first)
{
    size_t used = 0;
    char part[TCFG_LINE_MAX];
    *first = 0;
    while (fgets(part, sizeof part, fp) != NULL) {
        (*lineno)++;
        if (*first == 0)
            *first = *lineno;
        size_t n = strlen(part);
        while (n > 0 && (part[n - 1] == '\n' || part[n - 1] == '\r'))
            part[--n] = '\0';
        bool cont = n > 0 && part[n - 1] == '\\';
        if (cont)
            part[--n] = '\0';
        if (used + n + 2 > len)
            return -1;
        memcpy(buf + used, part, n);
        used += n;
        buf[used++] = ' ';
        buf[used] = '\0';
        if (!cont)
            return 1;
    }
    return *first ? 1 : 0;
}

int threshold_config_load(struct detect_build *b, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct threshold_config *t = b->tcfg ? b->tcfg : calloc(1, sizeof *t);
    char line[TCFG_LINE_MAX], why[512];
    int lineno = 0, first, r, rc = 0;
    if (t == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        fclose(fp);
        return -1;
    }
    while (rc == 0 && (r = read_logical(fp, line, sizeof line, &lineno, &first)) != 0) {
        char *text = kw_strip(line);
        struct tcfg_entry e;
        if (r < 0) {
            snprintf(err, errlen, "%s:%d: line too long", path, first);
            rc = -1;
        } else if (*text == '\0' || *text == '#') {
            continue;
        } else if (parse_line(b, text, &e, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, first, why);
            rc = -1;
        } else {
            e.file_line = first;
            if (append(t, &e) < 0) {
                addr_set_free(e.ips);
                snprintf(err, errlen, "%s:%d: out of memory", path, first);
                rc = -1;
            }
        }
    }
    fclose(fp);
    if (t->n > 1)
        qsort(t->e, t->n, sizeof *t->e, entry_order);
    t->nglobal = 0;
    while (t->nglobal < t->n && t->e[t->nglobal].sid == 0)
        t->nglobal++;
    /* No entries: leave b->tcfg NULL so that detection skips the lookup. */
    if (t->n == 0) {
        threshold_config_free(t);
        t = NULL;
    }
    b->tcfg = t;
    return rc;
}

void threshold_config_free(struct threshold_config *t)
{
    if (t == NULL)
        return;
    for (unsigned i = 0; i < t->n; i++)
        if (t->e[i].ips)
            addr_set_free(t->e[i].ips);
    free(t->e);
    free(t);
}

unsigned threshold_config_lookup(const struct threshold_config *t, uint32_t gid, uint32_t sid,
                                 const struct tcfg_entry **out, unsigned max)
{
    unsigned n = 0;
    if (t == NULL)
        return 0;
    /* lower bound of (gid, sid) among the specific entries */
    unsigned lo = t->nglobal, hi = t->n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        const struct tcfg_entry *e = &t->e[mid];
        if (e->gid < gid || (e->gid == gid && e->sid < sid))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < t->n && n < max && t->e[lo].gid == gid && t->e[lo].sid == sid; lo++)
        out[n++] = &t->e[lo];
    for (unsigned i = 0; i < t->nglobal && n < max; i++)
        if (t->e[i].gid == 0 || t->e[i].gid == gid)
            out[n++] = &t->e[i];
    return n;
}
