/*
 * Building the engine: rule files in, signature groups and Hyperscan
 * databases out. Compiled databases are cached on disk, keyed by a hash of
 * their patterns, so a restart with the same rules skips compilation.
 */
#include "detect/engine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "detect/kw_runtime.h"
#include "detect/rules_load.h"
#include "util/hash.h"
#include "util/log.h"

#define CACHE_MAGIC "caracal-hsdb-1\n"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- Fast patterns ------------------------------------------------------ */

/* The explicit fast_pattern content, else the longest positive content. */
static const struct content *choose_fast_pattern(const struct sig *s)
{
    const struct content *best = NULL;
    for (const struct sm *m = s->lists[BUF_PAYLOAD]; m; m = m->next) {
        if (m->type != SM_CONTENT)
            continue;
        const struct content *c = m->ctx;
        if (c->flags & CONTENT_FAST_PATTERN)
            return (c->flags & (CONTENT_NEGATED | CONTENT_DOTPREFIX)) ? NULL : c;
        if (c->flags & (CONTENT_NEGATED | CONTENT_DOTPREFIX))
            continue;
        if (best == NULL || c->len > best->len)
            best = c;
    }
    return best;
}

static void fp_bytes(const struct content *c, const uint8_t **pat, size_t *len)
{
    if ((c->flags & CONTENT_DOTPREFIX) && c->len > 1 && c->pat[0] == '.') {
        *pat = c->pat + 1; /* see app_fp_usable() */
        *len = c->len - 1;
        return;
    }
    if ((c->flags & CONTENT_FP_CHOP) && c->fp_chop_off + c->fp_chop_len <= c->len &&
        c->fp_chop_len > 0) {
        *pat = c->pat + c->fp_chop_off;
        *len = c->fp_chop_len;
    } else {
        *pat = c->pat;
        *len = c->len;
    }
}

/* A rule the packet path matches: no app-layer buffer and no keyword that
 * needs a transaction. A rule on an app protocol (alert http ...) with
 * contents on the payload alone is one too: it matches the packets and
 * stream of the flows identified as that protocol (SIG_APP_PROTO). */
static bool sig_is_packet_only(const struct sig *s)
{
    for (int b = 0; b < BUF_COUNT; b++)
        if (s->lists[b] && b != BUF_PAYLOAD && b != BUF_BASE64_DATA)
            return false;
    for (const struct sm *m = s->pkt; m; m = m->next)
        if (m->type == SM_TLS_VERSION || m->type == SM_SSL_VERSION || m->type == SM_SSL_STATE ||
            m->type == SM_DNS_OPCODE || m->type == SM_DNS_RCODE || m->type == SM_DNS_RRTYPE ||
            (m->type == SM_APP_LAYER_EVENT && s->app_proto != APP_NONE))
            return false;
    return true;
}

/* A rule that says nothing but addresses: like Suricata, caracal checks it
 * on the first packet of each direction of a flow, not on every packet. */
static bool sig_is_ip_only(const struct sig *s)
{
    if (s->pkt || s->post || s->buffers_mask || !port_set_is_any(s->sp) ||
        !port_set_is_any(s->dp))
        return false;
    return !(s->flags & (SIG_FLOW_TOSERVER | SIG_FLOW_TOCLIENT | SIG_FLOW_ESTABLISHED |
                         SIG_FLOW_NOT_ESTABLISHED | SIG_FLOW_ONLY_FRAG | SIG_FLOW_NO_FRAG));
}

/* ---- Ordering ------------------------------------------------------------ */

static int action_rank(int action)
{
    switch (action) { /* pass, drop, reject, alert */
    case ACTION_PASS: return 0;
    case ACTION_DROP: return 1;
    case ACTION_REJECT: return 2;
    default: return 3;
    }
}

/* Within an action: rules that set flowbits/xbits/flowints first, then
 * rules that read them, so a reader sees what a setter did to the same packet. */
static int state_rank(const struct sig *s)
{
    if (s->flags & SIG_HAS_POST_MATCH)
        return 0;
    for (const struct sm *m = s->pkt; m; m = m->next)
        if (m->type == SM_FLOWBITS || m->type == SM_XBITS || m->type == SM_FLOWINT)
            return 1;
    return 2;
}

static int sig_order(const void *a, const void *b)
{
    const struct sig *x = *(struct sig *const *)a, *y = *(struct sig *const *)b;
    int ra = action_rank(x->action), rb = action_rank(y->action);
    if (ra != rb)
        return ra - rb;
    int sa = state_rank(x), sb = state_rank(y);
    if (sa != sb)
        return sa - sb;
    if (x->priority != y->priority)
        return x->priority - y->priority;
    return x->num < y->num ? -1 : x->num > y->num;
}

/* ---- Hyperscan database cache ------------------------------------------ */

struct pattern_set {
    const char **pats;
    size_t *lens;
    unsigned *flags, *ids;
    unsigned n, cap;
};

static int pattern_add(struct pattern_set *ps, const uint8_t *pat, size_t len, unsigned flags,
                       unsigned id)
{
    if (ps->n == ps->cap) {
        unsigned cap = ps->cap ? ps->cap * 2 : 256;
        void *a = realloc(ps->pats, cap * sizeof *ps->pats);
        void *b = a ? realloc(ps->lens, cap * sizeof *ps->lens) : NULL;
        void *c = b ? realloc(ps->flags, cap * sizeof *ps->flags) : NULL;
        void *d = c ? realloc(ps->ids, cap * sizeof *ps->ids) : NULL;
        if (a) ps->pats = a;
        if (b) ps->lens = b;
        if (c) ps->flags = c;
        if (d) ps->ids = d;
        if (d == NULL)
            return -1;
        ps->cap = cap;
    }
    ps->pats[ps->n] = (const char *)pat;
    ps->lens[ps->n] = len;
    ps->flags[ps->n] = flags;
    ps->ids[ps->n] = id;
    ps->n++;
    return 0;
}

static void pattern_set_free(struct pattern_set *ps)
{
    free(ps->pats);
    free(ps->lens);
    free(ps->flags);
    free(ps->ids);
    memset(ps, 0, sizeof *ps);
}

static uint64_t pattern_set_key(const struct pattern_set *ps)
{
    /* A database is only valid for the Hyperscan version and CPU that built it. */
    hs_platform_info_t plat;
    memset(&plat, 0, sizeof plat);
    hs_populate_platform(&plat);
    uint64_t h = hash_bytes(hs_version(), strlen(hs_version()), 0x6361726163616cULL);
    h = hash_bytes(&plat, sizeof plat, h);
    for (unsigned i = 0; i < ps->n; i++) {
        uint64_t meta[3] = { ps->lens[i], ps->flags[i], ps->ids[i] };
        h = hash_bytes(meta, sizeof meta, h);
        h = hash_bytes(ps->pats[i], ps->lens[i], h);
    }
    return h;
}

static void cache_path(char *buf, size_t len, const char *dir, uint64_t key)
{
    snprintf(buf, len, "%s/%016llx.hsdb", dir, (unsigned long long)key);
}

/* Reads a cached database; NULL when absent, foreign or damaged. */
static hs_database_t *cache_load(const char *dir, uint64_t key)
{
    char path[4096];
    cache_path(path, sizeof path, dir, key);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    hs_database_t *db = NULL;
    char magic[sizeof CACHE_MAGIC - 1];
    uint64_t fkey, size, sum;
    if (fread(magic, 1, sizeof magic, f) != sizeof magic ||
        memcmp(magic, CACHE_MAGIC, sizeof magic) != 0 || fread(&fkey, 8, 1, f) != 1 ||
        fread(&size, 8, 1, f) != 1 || fread(&sum, 8, 1, f) != 1 || fkey != key ||
        size == 0 || size > (1ull << 31))
        goto out;
    char *bytes = malloc(size);
    if (bytes == NULL)
        goto out;
    if (fread(bytes, 1, size, f) == size && hash_bytes(bytes, size, key) == sum &&
        hs_deserialize_database(bytes, size, &db) != HS_SUCCESS)
        db = NULL;
    free(bytes);
out:
    fclose(f);
    if (db == NULL)
        log_warn("Hyperscan cache %s is unusable; compiling instead", path);
    return db;
}

static void cache_store(const char *dir, uint64_t key, const hs_database_t *db)
{
    char *bytes = NULL;
    size_t size = 0;
    if (hs_serialize_database(db, &bytes, &size) != HS_SUCCESS)
        return;
    char path[4096], tmp[4200];
    cache_path(path, sizeof path, dir, key);
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f != NULL) {
        uint64_t sz = size, sum = hash_bytes(bytes, size, key);
        bool ok = fwrite(CACHE_MAGIC, 1, sizeof CACHE_MAGIC - 1, f) == sizeof CACHE_MAGIC - 1 &&
                  fwrite(&key, 8, 1, f) == 1 && fwrite(&sz, 8, 1, f) == 1 &&
                  fwrite(&sum, 8, 1, f) == 1 && fwrite(bytes, 1, size, f) == size;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, path) != 0)
            unlink(tmp);
    }
    free(bytes);
}

static int mkdir_p(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0750) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0750) < 0 && errno != EEXIST ? -1 : 0;
}

/* Compiles (or loads from the cache) one group's database. */
static hs_database_t *build_db(struct pattern_set *ps, const char *cache_dir,
                               struct detect_load_report *rep)
{
    if (ps->n == 0)
        return NULL;
    uint64_t key = pattern_set_key(ps);
    hs_database_t *db = cache_dir ? cache_load(cache_dir, key) : NULL;
    if (db != NULL) {
        rep->hs_cached++;
        return db;
    }
    hs_compile_error_t *err = NULL;
    if (hs_compile_lit_multi(ps->pats, ps->flags, ps->ids, ps->lens, ps->n, HS_MODE_BLOCK, NULL,
                             &db, &err) != HS_SUCCESS) {
        log_error("Hyperscan compile failed: %s", err && err->message ? err->message : "?");
        hs_free_compile_error(err);
        return NULL;
    }
    rep->hs_databases++;
    if (cache_dir)
        cache_store(cache_dir, key, db);
    return db;
}

/* ---- Address index ------------------------------------------------------- */

#define INDEX_MAX_ADDRESSES (1u << 26) /* wider sets are checked on every packet */

struct ix_range {
    uint32_t lo, hi, id;
};

struct ix_build {
    struct ix_range *r;
    unsigned n, cap;
};

/* Total IPv4 addresses of s when it is IPv4-only and narrow enough to index, else 0. */
static uint64_t indexable_size(const struct addr_set *s)
{
    if (addr_set_has_v6(s))
        return 0;
    uint64_t total = 0;
    uint32_t lo, hi;
    unsigned n = addr_set_v4_ranges(s, 0, &lo, &hi);
    for (unsigned i = 0; i < n; i++) {
        addr_set_v4_ranges(s, i, &lo, &hi);
        total += (uint64_t)hi - lo + 1;
        if (total > INDEX_MAX_ADDRESSES)
            return 0;
    }
    return total;
}

static int ix_add_set(struct ix_build *ib, const struct addr_set *s, uint32_t id)
{
    uint32_t lo, hi;
    unsigned n = addr_set_v4_ranges(s, 0, &lo, &hi);
    for (unsigned i = 0; i < n; i++) {
        if (ib->n == ib->cap) {
            unsigned cap = ib->cap ? ib->cap * 2 : 1024;
            struct ix_range *r = realloc(ib->r, cap * sizeof *r);
            if (r == NULL)
                return -1;
            ib->r = r;
            ib->cap = cap;
        }
        addr_set_v4_ranges(s, i, &lo, &hi);
        ib->r[ib->n++] = (struct ix_range){ lo, hi, id };
    }
    return 0;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int ix_lo_cmp(const void *a, const void *b)
{
    const struct ix_range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sweeps the range ends in order, keeping the set of covering signatures. */
static int ix_finish(struct ix_build *ib, struct addr_index *ix)
{
    if (ib->n == 0)
        return 0;
    uint64_t *pts = malloc(2 * (size_t)ib->n * sizeof *pts);
    if (pts == NULL)
        return -1;
    unsigned np = 0;
    for (unsigned i = 0; i < ib->n; i++) {
        pts[np++] = ib->r[i].lo;
        pts[np++] = (uint64_t)ib->r[i].hi + 1;
    }
    qsort(pts, np, sizeof *pts, u64_cmp);
    unsigned nb = 0;
    for (unsigned i = 0; i < np; i++)
        if (pts[i] <= UINT32_MAX && (nb == 0 || pts[i] != pts[nb - 1]))
            pts[nb++] = pts[i];
    qsort(ib->r, ib->n, sizeof *ib->r, ix_lo_cmp);

    ix->bounds = malloc(nb * sizeof *ix->bounds);
    ix->off = malloc((nb + 1) * sizeof *ix->off);
    uint32_t *active = malloc(ib->n * sizeof *active);
    uint32_t *active_hi = malloc(ib->n * sizeof *active_hi);
    unsigned nactive = 0, next = 0, nids = 0, capids = ib->n + 16;
    ix->ids = malloc(capids * sizeof *ix->ids);
    if (!ix->bounds || !ix->off || !active || !active_hi || !ix->ids) {
        free(pts);
        free(active);
        free(active_hi);
        return -1;
    }
    for (unsigned i = 0; i < nb; i++) {
        uint32_t b = (uint32_t)pts[i];
        /* drop ranges that ended before b, add those starting at b */
        unsigned k = 0;
        for (unsigned j = 0; j < nactive; j++)
            if (active_hi[j] >= b) {
                active[k] = active[j];
                active_hi[k++] = active_hi[j];
            }
        nactive = k;
        while (next < ib->n && ib->r[next].lo == b) {
            active[nactive] = ib->r[next].id;
            active_hi[nactive++] = ib->r[next].hi;
            next++;
        }
        ix->bounds[i] = b;
        ix->off[i] = nids;
        if (nids + nactive > capids) {
            while (nids + nactive > capids)
                capids *= 2;
            uint32_t *n2 = realloc(ix->ids, capids * sizeof *n2);
            if (n2 == NULL) {
                free(pts);
                free(active);
                free(active_hi);
                return -1;
            }
            ix->ids = n2;
        }
        memcpy(ix->ids + nids, active, nactive * sizeof *active);
        /* Sorted, so that matching walks them in evaluation order. */
        qsort(ix->ids + nids, nactive, sizeof *active, u32_cmp);
        nids += nactive;
    }
    ix->off[nb] = nids;
    ix->nbounds = nb;
    free(pts);
    free(active);
    free(active_hi);
    return 0;
}

const uint32_t *addr_index_lookup(const struct addr_index *ix, uint32_t v, unsigned *n)
{
    *n = 0;
    if (ix->nbounds == 0 || v < ix->bounds[0])
        return NULL;
    unsigned lo = 0, hi = ix->nbounds; /* last bound <= v */
    while (hi - lo > 1) {
        unsigned mid = lo + (hi - lo) / 2;
        if (ix->bounds[mid] <= v)
            lo = mid;
        else
            hi = mid;
    }
    *n = ix->off[lo + 1] - ix->off[lo];
    return ix->ids + ix->off[lo];
}

static void ix_free(struct addr_index *ix)
{
    free(ix->bounds);
    free(ix->off);
    free(ix->ids);
    memset(ix, 0, sizeof *ix);
}

/* ---- Groups -------------------------------------------------------------- */

static void group_add_nofp(struct sig_group *g, uint32_t num)
{
    if (g->nnofp == g->capnofp) {
        unsigned cap = g->capnofp ? g->capnofp * 2 : 64;
        uint32_t *n = realloc(g->nofp, cap * sizeof *n);
        if (n == NULL)
            abort();
        g->nofp = n;
        g->capnofp = cap;
    }
    g->nofp[g->nnofp++] = num;
}

static unsigned sig_group_mask(const struct sig *s)
{
    if (s->flags & SIG_ICMP_ANY_VER)
        return 1u << GRP_ICMP;
    switch (s->ip_proto) {
    case 0: return (1u << GRP_COUNT) - 1;
    case 6: return 1u << GRP_TCP;
    case 17: return 1u << GRP_UDP;
    case 1: case 58: return 1u << GRP_ICMP;
    default: return 1u << GRP_OTHER;
    }
}

/* What one signature group is built from. */
struct group_build {
    struct pattern_set ps;
    struct ix_build ix[2]; /* 0 by source, 1 by destination */
};

static int group_add_sig(struct sig_group *grp, struct group_build *gb, const struct sig *s,
                         int side)
{
    if (s->fp && grp->fp_members) {
        grp->fp_members[s->num >> 3] |= (uint8_t)(1u << (s->num & 7));
        grp->nfp++;
    } else if (s->fp) {
        const uint8_t *pat;
        size_t len;
        fp_bytes(s->fp, &pat, &len);
        unsigned fl = HS_FLAG_SINGLEMATCH |
                      ((s->fp->flags & CONTENT_NOCASE) ? HS_FLAG_CASELESS : 0);
        if (pattern_add(&gb->ps, pat, len, fl, s->num) < 0)
            return -1;
        grp->nfp++;
    } else if (side >= 0) {
        if (ix_add_set(&gb->ix[side], side ? s->dst : s->src, s->num) < 0)
            return -1;
    } else {
        group_add_nofp(grp, s->num);
    }
    return 0;
}

static int group_finish(struct detect_engine *de, struct sig_group *grp, struct group_build *gb,
                        const char *cache_dir, struct detect_load_report *rep)
{
    int rc = 0;
    if (gb->ps.n) {
        grp->db = build_db(&gb->ps, cache_dir, rep);
        if (grp->db == NULL || hs_alloc_scratch(grp->db, &de->scratch) != HS_SUCCESS)
            rc = -1;
    }
    pattern_set_free(&gb->ps);
    if (ix_finish(&gb->ix[0], &grp->by_src) < 0 || ix_finish(&gb->ix[1], &grp->by_dst) < 0)
        rc = -1;
    free(gb->ix[0].r);
    free(gb->ix[1].r);
    memset(gb, 0, sizeof *gb);
    return rc;
}

/* The port set a signature names on the service side of direction d, or
 * NULL when it matches any port there. */
static const struct port_set *service_ports(const struct sig *s, int d)
{
    if (s->flags & SIG_BIDIR)
        return NULL;
    const struct port_set *ps = d == FLOW_TOSERVER ? s->dp : s->sp;
    return ps == NULL || port_set_is_any(ps) ? NULL : ps;
}

/* A set of port-specific signatures shared by one or more port intervals. */
struct member_set {
    uint32_t *ids;     /* indexes into the port-specific list */
    unsigned n;
    uint64_t hash;
    unsigned first;    /* lowest port it covers */
    int group;         /* port group, 0 for "all signatures" */
};

/*
 * Cuts the port space of one protocol and direction into intervals over
 * which the same port-specific signatures apply, merges intervals with the
 * same signatures, and gives up to `max` of those sets a group of their own
 * (the set without port-specific signatures first, then by lowest port);
 * ports in any other interval use group 0, which has every signature.
 * Fills map[65536] and sets[]; returns the number of sets, or -1.
 */
static int partition_ports(const struct sig *const *spec, unsigned nspec, int d, unsigned max,
                           uint8_t *map, struct member_set **setsp)
{
    uint32_t *pts = malloc((2 * 64 * (size_t)nspec + 1) * sizeof *pts);
    unsigned np = 0, cappts = 2 * 64 * nspec + 1;
    if (pts == NULL)
        return -1;
    pts[np++] = 0;
    for (unsigned i = 0; i < nspec; i++) {
        const struct port_set *ps = service_ports(spec[i], d);
        uint16_t lo, hi;
        unsigned n = port_set_ranges(ps, 0, &lo, &hi);
        for (unsigned r = 0; r < n; r++) {
            port_set_ranges(ps, r, &lo, &hi);
            if (np + 2 > cappts) {
                cappts *= 2;
                uint32_t *p2 = realloc(pts, cappts * sizeof *p2);
                if (p2 == NULL) {
                    free(pts);
                    return -1;
                }
                pts = p2;
            }
            pts[np++] = lo;
            if (hi < 65535)
                pts[np++] = (uint32_t)hi + 1;
        }
    }
    qsort(pts, np, sizeof *pts, u32_cmp);
    unsigned nb = 0;
    for (unsigned i = 0; i < np; i++)
        if (nb == 0 || pts[nb - 1] != pts[i])
            pts[nb++] = pts[i];

    struct member_set *sets = NULL;
    unsigned nsets = 0, capsets = 0;
    uint32_t *cur = malloc((nspec ? nspec : 1) * sizeof *cur);
    unsigned *iv_set = malloc(nb * sizeof *iv_set);
    if (cur == NULL || iv_set == NULL)
        goto fail;
    for (unsigned b = 0; b < nb; b++) {
        unsigned n = 0;
        for (unsigned i = 0; i < nspec; i++)
            if (port_set_match(service_ports(spec[i], d), (uint16_t)pts[b]))
                cur[n++] = i;
        uint64_t h = hash_bytes(cur, n * sizeof *cur, n);
        unsigned k;
        for (k = 0; k < nsets; k++)
            if (sets[k].hash == h && sets[k].n == n && !memcmp(sets[k].ids, cur, n * sizeof *cur))
                break;
        if (k == nsets) {
            if (nsets == capsets) {
                capsets = capsets ? capsets * 2 : 16;
                struct member_set *s2 = realloc(sets, capsets * sizeof *s2);
                if (s2 == NULL)
                    goto fail;
                sets = s2;
            }
            sets[k] = (struct member_set){ .n = n, .hash = h, .first = pts[b], .group = 0 };
            sets[k].ids = malloc((n ? n : 1) * sizeof *cur);
            if (sets[k].ids == NULL)
                goto fail;
            memcpy(sets[k].ids, cur, n * sizeof *cur);
            nsets++;
        }
        iv_set[b] = k;
    }
    /* Sets come out ordered by lowest port; the empty one goes first. */
    unsigned given = 0;
    for (unsigned k = 0; k < nsets && given < max; k++)
        if (sets[k].n == 0)
            sets[k].group = (int)++given;
    for (unsigned k = 0; k < nsets && given < max; k++)
        if (sets[k].n != 0 && sets[k].n < nspec)
            sets[k].group = (int)++given;
    for (unsigned b = 0; b < nb; b++) {
        uint32_t end = b + 1 < nb ? pts[b + 1] : 65536;
        memset(map + pts[b], sets[iv_set[b]].group, end - pts[b]);
    }
    free(pts);
    free(cur);
    free(iv_set);
    *setsp = sets;
    return (int)nsets;
fail:
    free(pts);
    free(cur);
    free(iv_set);
    for (unsigned k = 0; k < nsets; k++)
        free(sets[k].ids);
    free(sets);
    return -1;
}

/* Builds the groups of one protocol and direction from its signatures. */
static int build_proto_dir(struct detect_engine *de, struct proto_dir *pd, bool by_port,
                           struct sig **list, unsigned n, int d, const int8_t *side,
                           const char *cache_dir, struct detect_load_report *rep)
{
    struct group_build gb;
    memset(&gb, 0, sizeof gb);
    int rc = 0;
    struct sig **spec = NULL;
    unsigned nspec = 0;
    struct member_set *sets = NULL;
    int nsets = 0;
    if (by_port && de->port_groups_max > 0) {
        spec = malloc((n ? n : 1) * sizeof *spec);
        if (spec == NULL)
            return -1;
        for (unsigned i = 0; i < n; i++)
            if (service_ports(list[i], d))
                spec[nspec++] = list[i];
    }
    unsigned npg = 1;
    if (nspec > 0) {
        pd->port_map = malloc(65536);
        if (pd->port_map == NULL)
            goto fail;
        nsets = partition_ports((const struct sig *const *)spec, nspec, d, de->port_groups_max,
                                pd->port_map, &sets);
        if (nsets < 0)
            goto fail;
        for (int k = 0; k < nsets; k++)
            if ((unsigned)sets[k].group >= npg)
                npg = (unsigned)sets[k].group + 1;
    }
    pd->pg = calloc(npg, sizeof *pd->pg);
    if (pd->pg == NULL)
        goto fail;
    pd->npg = npg;
    if (npg == 1) {
        free(pd->port_map);
        pd->port_map = NULL;
    }

    /* Group 0: every signature. */
    for (unsigned i = 0; i < n; i++)
        if (group_add_sig(&pd->pg[0], &gb, list[i], side[list[i]->num]) < 0)
            goto fail;
    if (group_finish(de, &pd->pg[0], &gb, cache_dir, rep) < 0)
        rc = -1;
    /* Port groups: the any-port signatures and the set's own, in order. */
    for (int k = 0; k < nsets; k++) {
        if (sets[k].group == 0)
            continue;
        struct sig_group *grp = &pd->pg[sets[k].group];
        grp->fp_members = calloc((de->nsigs + 7) / 8 + 1, 1);
        if (grp->fp_members == NULL)
            goto fail;
        unsigned m = 0;
        for (unsigned i = 0; i < n; i++) {
            struct sig *s = list[i];
            if (service_ports(s, d) != NULL) {
                while (m < sets[k].n && spec[sets[k].ids[m]]->num < s->num)
                    m++;
                if (m >= sets[k].n || spec[sets[k].ids[m]] != s)
                    continue;
            }
            if (group_add_sig(grp, &gb, s, side[s->num]) < 0)
                goto fail;
        }
        if (group_finish(de, grp, &gb, cache_dir, rep) < 0)
            rc = -1;
    }
    rep->port_groups += npg - 1;
out:
    for (int k = 0; k < nsets; k++)
        free(sets[k].ids);
    free(sets);
    free(spec);
    return rc;
fail:
    pattern_set_free(&gb.ps);
    free(gb.ix[0].r);
    free(gb.ix[1].r);
    rc = -1;
    goto out;
}

/* ---- App-layer signatures ------------------------------------------------ */

/* The app protocol a signature inspects; -1 when its buffers disagree. */
static int app_sig_proto(const struct sig *s)
{
    int proto = s->app_proto;
    for (int b = 0; b < BUF_COUNT; b++) {
        if (!s->lists[b] || b == BUF_PAYLOAD || b == BUF_BASE64_DATA)
            continue;
        int a = buffer_app(b);
        if (a == APP_NONE)
            continue;
        if (proto == APP_NONE)
            proto = a;
        else if (proto != a)
            return -1;
    }
    return proto;
}

/* The directions (bit 0 to server, bit 1 to client) whose side of a
 * transaction the rule looks at: its flow option, else its buffers (a
 * response buffer: to the client), else the request. An HTTP or TLS
 * transaction is inspected once per direction, so an app rule alerts at
 * most once per transaction; a rule on its events alone looks at the
 * response side, when all of them are known. A DNS message is a
 * transaction of one direction: such a rule is in both. */
static unsigned app_sig_dirs(const struct sig *s, int proto)
{
    if (s->flags & SIG_FLOW_TOSERVER)
        return 1u << FLOW_TOSERVER;
    if (s->flags & SIG_FLOW_TOCLIENT)
        return 1u << FLOW_TOCLIENT;
    bool request = false;
    for (int b = 0; b < BUF_COUNT; b++) {
        if (!s->lists[b])
            continue;
        if (buffer_side(b) == 1)
            return 1u << FLOW_TOCLIENT;
        if (buffer_side(b) == 0)
            request = true;
    }
    if (request)
        return 1u << FLOW_TOSERVER;
    bool events = false;
    for (const struct sm *m = s->pkt; m; m = m->next) {
        if (m->type == SM_TLS_VERSION || m->type == SM_SSL_VERSION || m->type == SM_DNS_RCODE)
            return 1u << FLOW_TOCLIENT;
        if (m->type == SM_APP_LAYER_EVENT)
            events = true;
    }
    if (proto == APP_DNS)
        return 3u;
    return events ? 1u << FLOW_TOCLIENT : 1u << FLOW_TOSERVER;
}

/* A content of a dotprefix list is matched against "." + the buffer: as a
 * fast pattern it is used without its leading dot, which the raw buffer
 * holds wherever the prefixed one holds the whole content. */
static bool app_fp_usable(const struct content *c)
{
    if (c->flags & CONTENT_NEGATED)
        return false;
    if (c->flags & CONTENT_DOTPREFIX)
        return c->len > 1 && c->pat[0] == '.' && !(c->flags & CONTENT_FP_CHOP);
    return true;
}

/* The explicit fast_pattern of an app buffer, else its longest positive content. */
static const struct content *choose_app_fp(const struct sig *s, int *fp_buf)
{
    const struct content *best = NULL;
    for (int b = 0; b < BUF_COUNT; b++) {
        if (b == BUF_PAYLOAD || b == BUF_BASE64_DATA || buffer_app(b) == APP_NONE)
            continue;
        for (const struct sm *m = s->lists[b]; m; m = m->next) {
            if (m->type != SM_CONTENT)
                continue;
            const struct content *c = m->ctx;
            if (c->flags & CONTENT_FAST_PATTERN) {
                if (!app_fp_usable(c))
                    return NULL;
                *fp_buf = b;
                return c;
            }
            if (!app_fp_usable(c))
                continue;
            if (best == NULL || c->len > best->len) {
                best = c;
                *fp_buf = b;
            }
        }
    }
    return best;
}

static int build_app_groups(struct detect_engine *de, const char *cache_dir,
                            struct detect_load_report *rep)
{
    static struct pattern_set sets[APP_OTHER][2][BUF_COUNT];
    memset(sets, 0, sizeof sets);
    int rc = 0;
    for (unsigned i = 0; i < de->nsigs; i++) {
        struct sig *s = de->sigs[i];
        if (!(s->flags & SIG_APP))
            continue;
        int proto = app_sig_proto(s);
        unsigned dirs = app_sig_dirs(s, proto);
        int fb = -1;
        s->fp = choose_app_fp(s, &fb);
        s->fp_buf = s->fp ? fb : -1;
        for (int d = 0; d < 2; d++) {
            if (!(dirs >> d & 1))
                continue;
            struct app_group *ag = &de->app[proto][d];
            if (s->fp) {
                const uint8_t *pat;
                size_t len;
                fp_bytes(s->fp, &pat, &len);
                unsigned fl = HS_FLAG_SINGLEMATCH |
                              ((s->fp->flags & CONTENT_NOCASE) ? HS_FLAG_CASELESS : 0);
                if (pattern_add(&sets[proto][d][fb], pat, len, fl, s->num) < 0)
                    rc = -1;
                ag->nfp++;
            } else {
                group_add_nofp(&ag->rest, s->num);
            }
        }
    }
    for (int p = 0; p < APP_OTHER; p++)
        for (int d = 0; d < 2; d++)
            for (int b = 0; b < BUF_COUNT; b++) {
                struct pattern_set *ps = &sets[p][d][b];
                if (ps->n) {
                    hs_database_t *db = build_db(ps, cache_dir, rep);
                    if (db == NULL || hs_alloc_scratch(db, &de->scratch) != HS_SUCCESS)
                        rc = -1;
                    de->app[p][d].db[b] = db;
                }
                pattern_set_free(ps);
            }
    return rc;
}

static int build_groups(struct detect_engine *de, const char *cache_dir,
                        struct detect_load_report *rep)
{
    int8_t *side = malloc(de->nsigs ? de->nsigs : 1);
    struct sig **list = malloc((de->nsigs ? de->nsigs : 1) * sizeof *list);
    if (side == NULL || list == NULL) {
        free(side);
        free(list);
        return -1;
    }
    for (unsigned i = 0; i < de->nsigs; i++) {
        struct sig *s = de->sigs[i];
        side[i] = -1;
        if (!sig_is_packet_only(s)) {
            int proto = app_sig_proto(s);
            if (proto > APP_NONE && proto < APP_OTHER) {
                s->flags |= SIG_APP;
                rep->app_rules++;
            } else {
                rep->app_pending++;
            }
            continue;
        }
        if (s->app_proto != APP_NONE)
            s->flags |= SIG_APP_PROTO;
        s->fp = choose_fast_pattern(s);
        s->fp_buf = s->fp ? BUF_PAYLOAD : -1;
        if (s->fp && (s->flags & (SIG_TCP_PKT | SIG_FLOW_NO_STREAM)))
            de->packet_only_fp = true;
        if (s->fp) {
            const uint8_t *pat;
            size_t plen;
            fp_bytes(s->fp, &pat, &plen);
            if (plen > de->max_fp_len)
                de->max_fp_len = (uint32_t)plen;
        }
        if (sig_is_ip_only(s))
            s->flags |= SIG_IPONLY;
        /* Without a fast pattern: index by a narrow source or destination. */
        if (!s->fp && !(s->flags & SIG_BIDIR)) {
            if (indexable_size(s->src))
                side[i] = 0;
            else if (indexable_size(s->dst))
                side[i] = 1;
        }
    }
    if (cache_dir && mkdir_p(cache_dir) < 0) {
        log_warn("Hyperscan cache directory %s: %s; caching disabled", cache_dir,
                 strerror(errno));
        cache_dir = NULL;
    }
    int rc = 0;
    for (int g = 0; g < GRP_COUNT; g++) {
        for (int d = 0; d < 2; d++) {
            unsigned n = 0;
            for (unsigned i = 0; i < de->nsigs; i++) {
                struct sig *s = de->sigs[i];
                if (!sig_is_packet_only(s) || !(sig_group_mask(s) & (1u << g)))
                    continue;
                if ((s->flags & SIG_FLOW_TOSERVER) && d != FLOW_TOSERVER)
                    continue;
                if ((s->flags & SIG_FLOW_TOCLIENT) && d != FLOW_TOCLIENT)
                    continue;
                list[n++] = s;
            }
            if (build_proto_dir(de, &de->groups[g][d], g == GRP_TCP || g == GRP_UDP, list, n,
                                d, side, cache_dir, rep) < 0)
                rc = -1;
        }
    }
    free(side);
    free(list);
    if (build_app_groups(de, cache_dir, rep) < 0)
        rc = -1;
    return rc;
}

/* ---- Loading -------------------------------------------------------------- */

static int load_side_files(struct detect_build *b, const struct conf *c)
{
    char err[1024], path[4096];
    const char *v;
    conf_get_str(c, "classification-file", CARACAL_SYSCONFDIR "/classification.config", &v);
    conf_resolve_path(c, v, path, sizeof path);
    if (access(path, R_OK) == 0) {
        if (classification_load(b, path, err, sizeof err) < 0) {
            log_error("%s", err);
            return -1;
        }
    } else {
        log_warn("classification file %s: %s; using the built-in classifications", path,
                 strerror(errno));
        if (classification_load_builtin(b, err, sizeof err) < 0) {
            log_error("%s", err);
            return -1;
        }
    }
    conf_get_str(c, "reference-config-file", CARACAL_SYSCONFDIR "/reference.config", &v);
    conf_resolve_path(c, v, path, sizeof path);
    if (access(path, R_OK) == 0 && reference_config_load(b, path, err, sizeof err) < 0) {
        log_error("%s", err);
        return -1;
    }
    conf_get_str(c, "threshold-file", CARACAL_SYSCONFDIR "/threshold.config", &v);
    conf_resolve_path(c, v, path, sizeof path);
    if (access(path, R_OK) == 0 && threshold_config_load(b, path, err, sizeof err) < 0) {
        log_error("%s", err);
        return -1;
    }
    return 0;
}

static void default_cache_dir(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(buf, len, "%s/caracal/hs", xdg);
    else if (home && *home)
        snprintf(buf, len, "%s/.cache/caracal/hs", home);
    else
        snprintf(buf, len, "/var/cache/caracal/hs");
}

struct detect_engine *detect_engine_load(const struct conf *c, const char *const *files,
                                         unsigned nfiles, struct detect_load_report *rep)
{
    memset(rep, 0, sizeof *rep);
    double t0 = now_seconds();
    struct detect_engine *de = calloc(1, sizeof *de);
    if (de == NULL)
        return NULL;
    de->b = detect_build_new(c, rep);
    if (de->b == NULL || load_side_files(de->b, c) < 0) {
        detect_engine_free(de);
        return NULL;
    }
    for (unsigned i = 0; i < nfiles; i++)
        detect_build_load_file(de->b, files[i]);
    double t1 = now_seconds();
    rep->parse_seconds = t1 - t0;

    /* The engine takes the signatures over from the build. */
    de->sigs = de->b->sigs;
    de->nsigs = de->b->nsigs;
    de->b->sigs = NULL;
    de->b->nsigs = de->b->cap = 0;
    for (unsigned i = 0; i < de->nsigs; i++)
        de->sigs[i]->num = i;
    if (de->nsigs > 1)
        qsort(de->sigs, de->nsigs, sizeof *de->sigs, sig_order);
    for (unsigned i = 0; i < de->nsigs; i++)
        de->sigs[i]->num = i;

    bool caching = true;
    char err[512];
    if (conf_get_bool(c, "detect.sgh-mpm-caching", true, &caching, err, sizeof err) < 0) {
        log_error("%s", err);
        detect_engine_free(de);
        return NULL;
    }
    char dirbuf[4096];
    const char *dir;
    default_cache_dir(dirbuf, sizeof dirbuf);
    conf_get_str(c, "detect.sgh-mpm-caching-path", dirbuf, &dir);
    long pgmax;
    if (conf_get_int(c, "detect.port-groups", PORT_GROUPS_DEFAULT, 0, PORT_GROUPS_MAX, &pgmax,
                     err, sizeof err) < 0) {
        log_error("%s", err);
        detect_engine_free(de);
        return NULL;
    }
    de->port_groups_max = (unsigned)pgmax;
    if (build_groups(de, caching ? dir : NULL, rep) < 0) {
        detect_engine_free(de);
        return NULL;
    }
    de->rt = detect_runtime_new();
    /* Per-flow state records the generation it was made under (a reload
     * renumbers signatures and flowbit names); an address could recur. */
    static uint64_t generations;
    de->generation = __atomic_add_fetch(&generations, 1, __ATOMIC_RELAXED);
    rep->build_seconds = now_seconds() - t1;
    return de;
}

void detect_engine_free(struct detect_engine *de)
{
    if (de == NULL)
        return;
    for (int g = 0; g < GRP_COUNT; g++) {
        for (int d = 0; d < 2; d++) {
            struct proto_dir *pd = &de->groups[g][d];
            for (unsigned k = 0; k < pd->npg; k++) {
                hs_free_database(pd->pg[k].db);
                free(pd->pg[k].fp_members);
                free(pd->pg[k].nofp);
                ix_free(&pd->pg[k].by_src);
                ix_free(&pd->pg[k].by_dst);
            }
            free(pd->pg);
            free(pd->port_map);
        }
    }
    for (int p = 0; p < APP_OTHER; p++)
        for (int d = 0; d < 2; d++) {
            for (int b = 0; b < BUF_COUNT; b++)
                hs_free_database(de->app[p][d].db[b]);
            free(de->app[p][d].rest.nofp);
        }
    hs_free_scratch(de->scratch);
    for (unsigned i = 0; i < de->nsigs; i++)
        sig_free(de->sigs[i]);
    free(de->sigs);
    if (de->rt)
        detect_runtime_free(de->rt);
    detect_build_free(de->b);
    free(de);
}

unsigned detect_engine_sig_count(const struct detect_engine *de)
{
    return de ? de->nsigs : 0;
}

uint64_t detect_engine_generation(const struct detect_engine *de)
{
    return de ? de->generation : 0;
}

static int reason_desc(const void *a, const void *b)
{
    const struct reason_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->reason, y->reason);
}

void detect_report_print(FILE *out, const struct detect_load_report *rep)
{
    fprintf(out, "%u rule files processed. %u rules successfully loaded, %u rules failed\n",
            rep->files, rep->loaded, rep->failed);
    if (rep->nreasons) {
        struct reason_count *r = malloc(rep->nreasons * sizeof *r);
        if (r != NULL) {
            memcpy(r, rep->reasons, rep->nreasons * sizeof *r);
            qsort(r, rep->nreasons, sizeof *r, reason_desc);
            fprintf(out, "rules rejected, by reason:\n");
            for (unsigned i = 0; i < rep->nreasons; i++)
                fprintf(out, "  %6u  %s\n", r[i].n, r[i].reason);
            free(r);
        }
    }
}

void detect_report_free(struct detect_load_report *rep)
{
    for (unsigned i = 0; i < rep->nreasons; i++)
        free(rep->reasons[i].reason);
    free(rep->reasons);
    rep->reasons = NULL;
    rep->nreasons = 0;
}

struct detect_thread *detect_thread_new(const struct detect_engine *de)
{
    struct detect_thread *dt = calloc(1, sizeof *dt);
    if (dt == NULL)
        return NULL;
    dt->de = de;
    dt->rt = de->rt;
    dt->engine_gen = de->generation;
    if (de->scratch && hs_clone_scratch(de->scratch, (hs_scratch_t **)&dt->hs_scratch) != HS_SUCCESS)
        goto fail;
    dt->is = inspect_scratch_new();
    dt->cand_list = calloc(de->nsigs + DETECT_CARRY_MAX + 1, sizeof *dt->cand_list);
    dt->hits = calloc(de->nsigs + 1, sizeof *dt->hits);
    if (dt->is == NULL || dt->cand_list == NULL || dt->hits == NULL)
        goto fail;
    return dt;
fail:
    detect_thread_free(dt);
    return NULL;
}

void detect_thread_free(struct detect_thread *dt)
{
    if (dt == NULL)
        return;
    hs_free_scratch(dt->hs_scratch);
    if (dt->is)
        inspect_scratch_free(dt->is);
    free(dt->cand_list);
    free(dt->hits);
    free(dt);
}
