/*
 * The keyword registry: the kw_*.c tables merged into one index sorted by
 * name (case-insensitive, as Suricata looks keywords up), built once.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect/detect_int.h"

static const struct keyword **index_kw;
static size_t index_n;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static int kw_cmp(const void *a, const void *b)
{
    const struct keyword *ka = *(const struct keyword *const *)a;
    const struct keyword *kb = *(const struct keyword *const *)b;
    return strcasecmp(ka->name, kb->name);
}

static void index_build(void)
{
    const struct keyword *const tables[] = { kw_meta_table, kw_payload_table, kw_header_table,
                                             kw_flow_table, kw_app_table };
    size_t n = 0;
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
        for (const struct keyword *k = tables[t]; k->name; k++)
            n++;
    index_kw = malloc((n ? n : 1) * sizeof *index_kw);
    if (!index_kw)
        return;
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
        for (const struct keyword *k = tables[t]; k->name; k++)
            index_kw[index_n++] = k;
    qsort(index_kw, index_n, sizeof *index_kw, kw_cmp);
}

const struct keyword *keyword_lookup(const char *name)
{
    pthread_once(&index_once, index_build);
    size_t lo = 0, hi = index_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcasecmp(name, index_kw[mid]->name);
        if (c == 0)
            return index_kw[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

void keyword_list(FILE *out)
{
    pthread_once(&index_once, index_build);
    size_t w = 0;
    for (size_t i = 0; i < index_n; i++)
        if (strlen(index_kw[i]->name) > w)
            w = strlen(index_kw[i]->name);
    for (size_t i = 0; i < index_n; i++) {
        if (i > 0 && strcasecmp(index_kw[i]->name, index_kw[i - 1]->name) == 0)
            continue;   /* a name defined twice: the lookup finds one of them */
        fprintf(out, "%-*s  %s\n", (int)w, index_kw[i]->name,
                index_kw[i]->summary ? index_kw[i]->summary : "");
    }
}

void detect_list_keywords(FILE *out)
{
    keyword_list(out);
}
