/*
 * Rule files: lines to rules (comments, blank lines, '\' continuations),
 * each rule through sig_parse(), failures reported with FILE:LINE and
 * tallied by reason, duplicates (same gid and sid) rejected.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rules_load.h"
#include "util/hash.h"
#include "util/log.h"

/* The build with what only the loader needs: gid:sid pairs already loaded. */
struct build_priv {
    struct detect_build b;   /* first: the public part */
    uint64_t *ids;           /* open addressing; 0 is an empty slot */
    size_t cap, n;
};

struct detect_build *detect_build_new(const struct conf *c, struct detect_load_report *rep)
{
    struct build_priv *bp = calloc(1, sizeof *bp);
    if (!bp)
        return NULL;
    bp->b.conf = c;
    bp->b.report = rep;
    return &bp->b;
}

void detect_build_free(struct detect_build *b)
{
    if (!b)
        return;
    struct build_priv *bp = (struct build_priv *)b;
    for (unsigned i = 0; i < b->nsigs; i++)
        sig_free(b->sigs[i]);
    free(b->sigs);
    for (unsigned i = 0; i < b->nclasses; i++) {
        free(b->classes[i].name);
        free(b->classes[i].desc);
    }
    free(b->classes);
    json_decref(b->reference_types);
    if (b->tcfg)
        threshold_config_free(b->tcfg);
    name_registry_free(&b->flowbits);
    name_registry_free(&b->xbits);
    name_registry_free(&b->flowints);
    free(bp->ids);
    free(bp);
}

/* ---- Duplicate detection ------------------------------------------------ */

static uint64_t id_key(const struct sig *s)
{
    return (uint64_t)s->gid << 32 | s->id;   /* sid >= 1: never 0 */
}

static int ids_grow(struct build_priv *bp)
{
    size_t cap = bp->cap ? bp->cap * 2 : 1024;
    uint64_t *ids = calloc(cap, sizeof *ids);
    if (!ids)
        return -1;
    for (size_t i = 0; i < bp->cap; i++) {
        if (!bp->ids[i])
            continue;
        size_t j = hash_mix64(bp->ids[i]) & (cap - 1);
        while (ids[j])
            j = (j + 1) & (cap - 1);
        ids[j] = bp->ids[i];
    }
    free(bp->ids);
    bp->ids = ids;
    bp->cap = cap;
    return 0;
}

/* 1 when key was new (and is now recorded), 0 when already present, -1 on OOM. */
static int ids_add(struct build_priv *bp, uint64_t key)
{
    if ((bp->n + 1) * 2 > bp->cap && ids_grow(bp) < 0)
        return -1;
    size_t j = hash_mix64(key) & (bp->cap - 1);
    while (bp->ids[j]) {
        if (bp->ids[j] == key)
            return 0;
        j = (j + 1) & (bp->cap - 1);
    }
    bp->ids[j] = key;
    bp->n++;
    return 1;
}

/* ---- Report ------------------------------------------------------------- */

void detect_report_add_failure(struct detect_load_report *rep, const char *reason)
{
    rep->failed++;
    for (unsigned i = 0; i < rep->nreasons; i++) {
        if (strcmp(rep->reasons[i].reason, reason) == 0) {
            rep->reasons[i].n++;
            return;
        }
    }
    struct reason_count *r = realloc(rep->reasons, (rep->nreasons + 1) * sizeof *r);
    if (!r)
        return;
    rep->reasons = r;
    r[rep->nreasons].reason = strdup(reason);
    if (!r[rep->nreasons].reason)
        return;
    r[rep->nreasons].n = 1;
    rep->nreasons++;
}

/* The sid of a rule that did not parse, for the message; 0 when not found. */
static unsigned long rule_text_sid(const char *text)
{
    const char *p = strchr(text, '(');
    while (p && (p = strstr(p, "sid")) != NULL) {
        const char *q = p + 3;
        bool starts = p[-1] == '(' || p[-1] == ';' || isspace((unsigned char)p[-1]);
        while (isspace((unsigned char)*q))
            q++;
        if (starts && *q == ':') {
            q++;
            while (isspace((unsigned char)*q))
                q++;
            return isdigit((unsigned char)*q) ? strtoul(q, NULL, 10) : 0;
        }
        p += 3;
    }
    return 0;
}

static void reject(struct detect_build *b, const char *path, int line, const char *text,
                   const char *reason)
{
    unsigned long sid = rule_text_sid(text);
    if (sid)
        log_error("%s:%d: %s (sid %lu)", path, line, reason, sid);
    else
        log_error("%s:%d: %s", path, line, reason);
    detect_report_add_failure(b->report, reason);
}

static int build_add(struct detect_build *b, struct sig *s)
{
    if (b->nsigs == b->cap) {
        unsigned cap = b->cap ? b->cap * 2 : 256;
        struct sig **v = realloc(b->sigs, cap * sizeof *v);
        if (!v)
            return -1;
        b->sigs = v;
        b->cap = cap;
    }
    s->num = b->nsigs;
    b->sigs[b->nsigs++] = s;
    return 0;
}

/* One complete rule (continuations joined) that started on line. */
static void load_rule(struct detect_build *b, const char *path, int line, const char *text)
{
    char err[512];
    struct sig *s = sig_parse(b, text, err, sizeof err);
    if (!s) {
        reject(b, path, line, text, err);
        return;
    }
    int fresh = ids_add((struct build_priv *)b, id_key(s));
    if (fresh == 0)
        snprintf(err, sizeof err, "duplicate sid %u", s->id);
    else if (fresh < 0)
        snprintf(err, sizeof err, "out of memory");
    if (fresh <= 0 || !(s->file = strdup(path)) || build_add(b, s) < 0) {
        if (fresh > 0)
            snprintf(err, sizeof err, "out of memory");
        sig_free(s);
        reject(b, path, line, text, err);
        return;
    }
    s->line = line;
    b->report->loaded++;
}

static bool is_blank_or_comment(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return *p == '\0' || *p == '#';
}

int detect_build_load_file(struct detect_build *b, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        log_error("%s: cannot read rule file: %s", path, strerror(errno));
        b->report->files_unreadable++;
        return -1;
    }
    b->report->files++;
    char *line = NULL, *rule = NULL;
    size_t linecap = 0, rulecap = 0, rulelen = 0;
    ssize_t n;
    int lineno = 0, start = 0, rc = 0;
    while ((n = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (rulelen == 0)
            start = lineno;
        bool more = n > 0 && line[n - 1] == '\\';
        if (more)
            line[--n] = '\0';
        if (rulelen + (size_t)n + 1 > rulecap) {
            size_t cap = (rulelen + (size_t)n + 1) * 2;
            char *r = realloc(rule, cap);
            if (!r) {
                log_error("%s:%d: out of memory", path, lineno);
                rc = -1;
                break;
            }
            rule = r;
            rulecap = cap;
        }
        memcpy(rule + rulelen, line, (size_t)n + 1);
        rulelen += (size_t)n;
        if (more)
            continue;
        if (!is_blank_or_comment(rule))
            load_rule(b, path, start, rule);
        rulelen = 0;
    }
    if (rc == 0 && rulelen > 0 && !is_blank_or_comment(rule))
        load_rule(b, path, start, rule);   /* the file ended inside a continuation */
    if (rc == 0 && ferror(f)) {
        log_error("%s: read error: %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    free(rule);
    fclose(f);
    return rc;
}
