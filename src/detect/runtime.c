/*
 * Detection state shared by the workers: threshold, detection_filter and
 * rate_filter counters, the xbits store and tagged hosts.
 *
 * One hash table holds all of it behind one mutex. The lock is taken only
 * when a signature that needs it matches, which is rare next to the packet
 * rate, so a single lock is simpler than striping and costs nothing
 * measurable. Time is packet time, so a capture gives the same alerts on
 * every run. Memory is bounded: an entry whose window (or xbit expiry) is
 * over carries no state and is dropped when met; at the cap the least
 * recently used entry is evicted.
 */
#include <stdlib.h>
#include <string.h>

#include "detect/kw_runtime.h"
#include "flow/flow.h"
#include "util/hash.h"
#include "util/timefmt.h"

#define USEC 1000000LL
#define EXPIRE_SCAN 8 /* expired entries dropped from the LRU tail per insert */

enum rt_kind { RT_THRESHOLD = 1, RT_DETECTION_FILTER, RT_RATE_FILTER, RT_XBIT, RT_HOST_TAG };

struct rt_key {
    uint8_t kind;          /* enum rt_kind */
    uint8_t track;
    uint8_t ip_ver;
    uint8_t proto;
    uint32_t gid, sid;     /* xbits: sid is the xbit's id */
    struct ip_addr a, b;
    uint16_t pa, pb;
};

struct rt_entry {
    struct rt_key key;
    uint64_t hash;
    struct rt_entry *hnext, *prev, *next; /* bucket chain; LRU, newest at head */
    int64_t tv1;           /* start of the counting window (us) */
    int64_t timeout_at;    /* rate_filter: when the new action took effect; 0 none */
    int64_t expires;       /* after this the entry carries no state */
    uint32_t count;
};

struct detect_runtime {
    pthread_mutex_t lock;
    struct rt_entry **buckets; /* allocated on first use */
    uint32_t mask;
    unsigned n, max;
    uint64_t evicted;
    struct rt_entry *head, *tail;
    unsigned host_tags;        /* live RT_HOST_TAG entries; read without the lock */
};

struct detect_runtime *detect_runtime_new(void)
{
    struct detect_runtime *rt = calloc(1, sizeof *rt);
    if (rt == NULL)
        return NULL;
    if (pthread_mutex_init(&rt->lock, NULL) != 0) {
        free(rt);
        return NULL;
    }
    rt->max = DETECT_RUNTIME_DEFAULT_MAX_ENTRIES;
    return rt;
}

void detect_runtime_free(struct detect_runtime *rt)
{
    if (rt == NULL)
        return;
    for (struct rt_entry *e = rt->head, *next; e != NULL; e = next) {
        next = e->next;
        free(e);
    }
    free(rt->buckets);
    pthread_mutex_destroy(&rt->lock);
    free(rt);
}

void detect_runtime_set_max_entries(struct detect_runtime *rt, unsigned max)
{
    pthread_mutex_lock(&rt->lock);
    if (rt->buckets == NULL && max > 0)
        rt->max = max;
    pthread_mutex_unlock(&rt->lock);
}

unsigned detect_runtime_entries(struct detect_runtime *rt)
{
    pthread_mutex_lock(&rt->lock);
    unsigned n = rt->n;
    pthread_mutex_unlock(&rt->lock);
    return n;
}

uint64_t detect_runtime_evicted(struct detect_runtime *rt)
{
    pthread_mutex_lock(&rt->lock);
    uint64_t n = rt->evicted;
    pthread_mutex_unlock(&rt->lock);
    return n;
}

/* ---- The table (called with the lock held) ----------------------------------- */

static void lru_unlink(struct detect_runtime *rt, struct rt_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        rt->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        rt->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(struct detect_runtime *rt, struct rt_entry *e)
{
    e->prev = NULL;
    e->next = rt->head;
    if (rt->head)
        rt->head->prev = e;
    rt->head = e;
    if (rt->tail == NULL)
        rt->tail = e;
}

static void entry_remove(struct detect_runtime *rt, struct rt_entry *e)
{
    struct rt_entry **pp = &rt->buckets[e->hash & rt->mask];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(rt, e);
    if (e->key.kind == RT_HOST_TAG)
        __atomic_sub_fetch(&rt->host_tags, 1, __ATOMIC_RELAXED);
    free(e);
    rt->n--;
}

static bool table_init(struct detect_runtime *rt)
{
    if (rt->buckets != NULL)
        return true;
    uint32_t size = 64;
    while (size < rt->max && size < (1u << 24))
        size <<= 1;
    rt->buckets = calloc(size, sizeof *rt->buckets);
    if (rt->buckets == NULL)
        return false;
    rt->mask = size - 1;
    return true;
}

/* Finds the live entry for k; NULL when there is none (an expired one is dropped). */
static struct rt_entry *entry_find(struct detect_runtime *rt, const struct rt_key *k,
                                   uint64_t h, int64_t now)
{
    for (struct rt_entry *e = rt->buckets[h & rt->mask]; e != NULL; e = e->hnext) {
        if (e->hash != h || memcmp(&e->key, k, sizeof *k) != 0)
            continue;
        if (now >= e->expires) {
            entry_remove(rt, e);
            return NULL;
        }
        lru_unlink(rt, e);
        lru_push(rt, e);
        return e;
    }
    return NULL;
}

static struct rt_entry *entry_new(struct detect_runtime *rt, const struct rt_key *k,
                                  uint64_t h, int64_t now)
{
    for (int i = 0; i < EXPIRE_SCAN && rt->tail && now >= rt->tail->expires; i++)
        entry_remove(rt, rt->tail);
    if (rt->n >= rt->max && rt->tail) {
        entry_remove(rt, rt->tail);
        rt->evicted++;
    }
    struct rt_entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    e->key = *k;
    e->hash = h;
    e->hnext = rt->buckets[h & rt->mask];
    rt->buckets[h & rt->mask] = e;
    lru_push(rt, e);
    rt->n++;
    return e;
}

static uint64_t key_hash(const struct rt_key *k)
{
    return hash_bytes(k, sizeof *k, 0x9e3779b97f4a7c15ULL);
}

static size_t addr_len(const struct packet *p)
{
    return p->ip_ver == 6 ? 16 : 4;
}

/* A symmetric pair: the lower address first. */
static void key_pair(struct rt_key *k, const struct packet *p)
{
    bool swap = memcmp(p->src.b, p->dst.b, addr_len(p)) > 0;
    k->a = swap ? p->dst : p->src;
    k->b = swap ? p->src : p->dst;
}

static void key_track(struct rt_key *k, int track, const struct packet *p)
{
    k->ip_ver = p->ip_ver;
    switch (track) {
    case TRACK_BY_SRC: k->a = p->src; break;
    case TRACK_BY_DST: k->a = p->dst; break;
    case TRACK_BY_BOTH: key_pair(k, p); break;
    case TRACK_BY_FLOW: {
        struct flow_key fk;
        flow_key_from_packet(p, &fk);
        k->a = fk.addr[0];
        k->b = fk.addr[1];
        k->pa = fk.port[0];
        k->pb = fk.port[1];
        k->proto = fk.proto;
        break;
    }
    default: k->ip_ver = 0; break; /* by_rule */
    }
}

static int64_t packet_usec(const struct packet *p)
{
    return (int64_t)timeval_usec(&p->ts);
}

/* ---- Thresholds ------------------------------------------------------------------ */

/* Counts this match against t; true when it may alert (Suricata's semantics). */
static bool threshold_count(struct detect_runtime *rt, int kind, const struct threshold_spec *t,
                            const struct sig *s, const struct packet *p, int64_t now)
{
    struct rt_key k;
    memset(&k, 0, sizeof k);
    k.kind = (uint8_t)kind;
    k.gid = s->gid;
    k.sid = s->id;
    k.track = (uint8_t)t->track;
    key_track(&k, t->track, p);
    uint64_t h = key_hash(&k);
    int64_t window = (int64_t)t->seconds * USEC;
    struct rt_entry *e = entry_find(rt, &k, h, now);
    if (e == NULL || now - e->tv1 >= window) {
        if (e == NULL && (e = entry_new(rt, &k, h, now)) == NULL)
            return true; /* no memory: fail open, alert */
        e->tv1 = now;
        e->count = 0;
    }
    e->expires = e->tv1 + window;
    e->count++;
    switch (t->type) {
    case THR_LIMIT:
        return e->count <= t->count;
    case THR_THRESHOLD:
        if (e->count < t->count)
            return false;
        e->count = 0;
        return true;
    case THR_BOTH:
        return e->count == t->count;
    case THR_DETECTION_FILTER:
        return e->count > t->count;
    }
    return true;
}

/* rate_filter: once more than count matches fall in the window, the new
 * action applies for timeout seconds. */
static void rate_filter(struct detect_runtime *rt, const struct tcfg_entry *r,
                        const struct sig *s, const struct packet *p, int64_t now, int *action)
{
    struct rt_key k;
    memset(&k, 0, sizeof k);
    k.kind = RT_RATE_FILTER;
    k.gid = s->gid;
    k.sid = s->id;
    k.track = (uint8_t)r->spec.track;
    key_track(&k, r->spec.track, p);
    uint64_t h = key_hash(&k);
    int64_t window = (int64_t)r->spec.seconds * USEC, timeout = (int64_t)r->timeout * USEC;
    struct rt_entry *e = entry_find(rt, &k, h, now);
    if (e != NULL && e->timeout_at != 0) {
        if (now - e->timeout_at < timeout) {
            *action = r->new_action;
            return;
        }
        e->timeout_at = 0;
    }
    if (e == NULL || now - e->tv1 >= window) {
        if (e == NULL && (e = entry_new(rt, &k, h, now)) == NULL)
            return;
        e->tv1 = now;
        e->count = 0;
    }
    e->count++;
    if (e->count > r->spec.count) {
        *action = r->new_action;
        e->timeout_at = now;
    }
    int64_t end = e->tv1 + window, tend = e->timeout_at ? e->timeout_at + timeout : 0;
    e->expires = end > tend ? end : tend;
}

static bool suppressed(const struct tcfg_entry *e, const struct packet *p)
{
    switch (e->supp_track) {
    case SUPP_BY_SRC: return addr_set_match(e->ips, p->ip_ver, &p->src);
    case SUPP_BY_DST: return addr_set_match(e->ips, p->ip_ver, &p->dst);
    case SUPP_BY_EITHER:
        return addr_set_match(e->ips, p->ip_ver, &p->src) ||
               addr_set_match(e->ips, p->ip_ver, &p->dst);
    default: return true;
    }
}

#define TCFG_MAX_PER_SIG 16 /* threshold.config entries considered for one signature */

bool threshold_allows(struct detect_runtime *rt, const struct threshold_config *tc,
                      const struct sig *s, const struct packet *p, int *action, bool *still_acts)
{
    bool acts_dummy;
    if (still_acts == NULL)
        still_acts = &acts_dummy;
    *still_acts = false;
    const struct tcfg_entry *ents[TCFG_MAX_PER_SIG];
    unsigned n = threshold_config_lookup(tc, s->gid, s->id, ents, TCFG_MAX_PER_SIG);
    const struct threshold_spec *thr = s->threshold, *df = s->detection_filter;
    const struct tcfg_entry *rate = NULL, *cfg_thr = NULL;
    for (unsigned i = 0; i < n; i++) {
        const struct tcfg_entry *e = ents[i];
        if (e->kind == TCFG_SUPPRESS && suppressed(e, p)) {
            *still_acts = true; /* only the alert is suppressed */
            return false;
        }
        if (e->kind == TCFG_RATE_FILTER && rate == NULL)
            rate = e;
        /* A threshold for this sid replaces the rule's threshold and
         * detection_filter; a global one applies to rules without either. */
        if (e->kind == TCFG_THRESHOLD && cfg_thr == NULL &&
            (e->sid != 0 || (thr == NULL && df == NULL)))
            cfg_thr = e;
    }
    if (cfg_thr != NULL) {
        thr = &cfg_thr->spec;
        df = NULL;
    }
    if (thr == NULL && df == NULL && rate == NULL)
        return true;
    if (rt == NULL)
        return true;
    int64_t now = packet_usec(p);
    bool ok = true;
    pthread_mutex_lock(&rt->lock);
    if (table_init(rt)) {
        if (thr != NULL) {
            ok = threshold_count(rt, RT_THRESHOLD, thr, s, p, now);
            /* limit and both only quiet the alert; threshold makes it no match */
            *still_acts = !ok && (thr->type == THR_LIMIT || thr->type == THR_BOTH);
        }
        if (ok && df != NULL)
            ok = threshold_count(rt, RT_DETECTION_FILTER, df, s, p, now);
        if (ok && rate != NULL)
            rate_filter(rt, rate, s, p, now, action);
    }
    pthread_mutex_unlock(&rt->lock);
    return ok;
}

/* ---- xbits ------------------------------------------------------------------------- */

bool xbits_run(struct detect_runtime *rt, int cmd, uint32_t id, int track, uint32_t expire,
               const struct packet *p)
{
    if (rt == NULL || p->ip_ver == 0)
        return cmd == XB_ISNOTSET;
    struct rt_key k;
    memset(&k, 0, sizeof k);
    k.kind = RT_XBIT;
    k.sid = id;
    k.track = (uint8_t)track;
    k.ip_ver = p->ip_ver;
    if (track == XB_IP_SRC)
        k.a = p->src;
    else if (track == XB_IP_DST)
        k.a = p->dst;
    else
        key_pair(&k, p);
    uint64_t h = key_hash(&k);
    int64_t now = packet_usec(p);
    bool ret = true;
    pthread_mutex_lock(&rt->lock);
    if (!table_init(rt)) {
        pthread_mutex_unlock(&rt->lock);
        return cmd == XB_ISNOTSET;
    }
    struct rt_entry *e = entry_find(rt, &k, h, now);
    switch (cmd) {
    case XB_ISSET: ret = e != NULL; break;
    case XB_ISNOTSET: ret = e == NULL; break;
    case XB_UNSET:
        if (e != NULL)
            entry_remove(rt, e);
        break;
    case XB_TOGGLE:
        if (e != NULL) {
            entry_remove(rt, e);
            break;
        }
        /* an unset bit is set: */
        /* fall through */
    case XB_SET:
        if (e == NULL)
            e = entry_new(rt, &k, h, now);
        if (e != NULL)
            e->expires = now + (int64_t)expire * USEC;
        break;
    }
    pthread_mutex_unlock(&rt->lock);
    return ret;
}

/* ---- tag:host -------------------------------------------------------------------- */

/* A tagged host's entry: count holds the metric, tv1 what is left of it
 * (packets or bytes; 1 for a time tag, which ends at expires). */

static void host_key(struct rt_key *k, const struct packet *p, bool dst)
{
    memset(k, 0, sizeof *k);
    k->kind = RT_HOST_TAG;
    k->ip_ver = p->ip_ver;
    k->a = dst ? p->dst : p->src;
}

void tag_host_set(struct detect_runtime *rt, const struct sig_tag *t, const struct packet *p)
{
    if (rt == NULL || p->ip_ver == 0)
        return;
    struct rt_key k;
    host_key(&k, p, t->dst);
    uint64_t h = key_hash(&k);
    int64_t now = packet_usec(p);
    pthread_mutex_lock(&rt->lock);
    if (table_init(rt)) {
        struct rt_entry *e = entry_find(rt, &k, h, now);
        if (e == NULL && (e = entry_new(rt, &k, h, now)) != NULL)
            __atomic_add_fetch(&rt->host_tags, 1, __ATOMIC_RELAXED);
        if (e != NULL) {
            e->count = t->metric;
            if (t->metric == TAG_SECONDS) {
                e->tv1 = 1;
                e->expires = now + (int64_t)t->count * USEC;
            } else {
                e->tv1 = t->count;
                e->expires = now + (int64_t)TAG_HOST_MAX_SECONDS * USEC;
            }
        }
    }
    pthread_mutex_unlock(&rt->lock);
}

bool tag_host_check(struct detect_runtime *rt, const struct packet *p)
{
    if (rt == NULL || p->ip_ver == 0 || __atomic_load_n(&rt->host_tags, __ATOMIC_RELAXED) == 0)
        return false;
    bool tagged = false;
    int64_t now = packet_usec(p);
    pthread_mutex_lock(&rt->lock);
    for (int side = 0; side < 2 && rt->buckets != NULL; side++) {
        struct rt_key k;
        host_key(&k, p, side == 1);
        struct rt_entry *e = entry_find(rt, &k, key_hash(&k), now);
        if (e == NULL)
            continue;
        tagged = true;
        if (e->count == TAG_PACKETS)
            e->tv1--;
        else if (e->count == TAG_BYTES)
            e->tv1 -= p->wirelen;
        if (e->tv1 <= 0)
            entry_remove(rt, e);
    }
    pthread_mutex_unlock(&rt->lock);
    return tagged;
}
