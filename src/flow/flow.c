/* Flow table: hashing, lookup, state, timeouts, memcap and emergency mode. */
#include "flow/flow.h"

#include <stdlib.h>
#include <string.h>

#include "output/stats.h"
#include "util/hash.h"
#include "util/timefmt.h"

#define FLOW_HASH_SEED 0x63617261636c00ULL /* fixed: flow ids repeat across runs */
#define TIMEOUT_BATCH 256                  /* flows checked per timeout call */

struct flow_table {
    struct flow_config cfg;
    struct flow **buckets;
    uint32_t mask;
    struct flow *lru_head, *lru_tail; /* head: most recently seen */
    struct flow *timeout_next;        /* where the next timeout pass resumes; NULL: tail */
    unsigned active;
    uint64_t memuse;
    bool emergency;
    struct stats *stats;
    flow_end_cb on_end;
    void *cb_ctx;
};

void flow_config_defaults(struct flow_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->memcap = 128ull << 20;
    cfg->hash_size = 65536;
    cfg->emergency_recovery = 30;
    cfg->timeouts[FLOW_PROTO_TCP] = (struct flow_timeouts){ 60, 600, 60, 5, 100, 10 };
    cfg->timeouts[FLOW_PROTO_UDP] = (struct flow_timeouts){ 30, 300, 0, 10, 100, 0 };
    cfg->timeouts[FLOW_PROTO_ICMP] = (struct flow_timeouts){ 30, 300, 0, 10, 100, 0 };
    cfg->timeouts[FLOW_PROTO_OTHER] = (struct flow_timeouts){ 30, 300, 0, 10, 100, 0 };
}

static int endpoint_cmp(const struct ip_addr *a, uint16_t ap, const struct ip_addr *b, uint16_t bp)
{
    int c = memcmp(a->b, b->b, sizeof a->b);
    if (c != 0)
        return c;
    return (int)ap - (int)bp;
}

uint64_t flow_key_from_packet(const struct packet *p, struct flow_key *k)
{
    memset(k, 0, sizeof *k);
    uint16_t sp = p->sp, dp = p->dp;
    if (p->proto == 1 || p->proto == 58) {
        /* ICMP has no ports; echo id ties request and reply together. */
        sp = dp = 0;
    }
    if (endpoint_cmp(&p->src, sp, &p->dst, dp) <= 0) {
        k->addr[0] = p->src;
        k->addr[1] = p->dst;
        k->port[0] = sp;
        k->port[1] = dp;
    } else {
        k->addr[0] = p->dst;
        k->addr[1] = p->src;
        k->port[0] = dp;
        k->port[1] = sp;
    }
    for (unsigned i = 0; i < p->vlan_cnt && i < PKT_MAX_VLANS; i++)
        k->vlan[i] = p->vlan[i];
    k->vlan_cnt = p->vlan_cnt;
    k->proto = p->proto;
    k->ip_ver = p->ip_ver;
    return hash_bytes(k, sizeof *k, FLOW_HASH_SEED);
}

uint64_t flow_hash_packet(const struct packet *p)
{
    if (!(p->flags & PKT_HAS_TUPLE))
        return 0;
    struct flow_key k;
    return flow_key_from_packet(p, &k);
}

static enum flow_proto_idx proto_idx(uint8_t proto)
{
    switch (proto) {
    case 6: return FLOW_PROTO_TCP;
    case 17: return FLOW_PROTO_UDP;
    case 1: case 58: return FLOW_PROTO_ICMP;
    default: return FLOW_PROTO_OTHER;
    }
}

struct flow_table *flow_table_new(const struct flow_config *cfg, struct stats *stats,
                                  flow_end_cb on_end, void *cb_ctx)
{
    struct flow_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->cfg = *cfg;
    uint32_t n = 1024;
    while (n < cfg->hash_size && n < (1u << 26))
        n <<= 1;
    t->buckets = calloc(n, sizeof *t->buckets);
    if (t->buckets == NULL) {
        free(t);
        return NULL;
    }
    t->mask = n - 1;
    t->stats = stats;
    t->on_end = on_end;
    t->cb_ctx = cb_ctx;
    t->memuse = (uint64_t)n * sizeof *t->buckets;
    stats_add(stats, STAT_FLOW_MEMUSE, t->memuse);
    return t;
}

static void lru_unlink(struct flow_table *t, struct flow *f)
{
    if (t->timeout_next == f)
        t->timeout_next = f->lru_prev;
    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else
        t->lru_head = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else
        t->lru_tail = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void lru_push_head(struct flow_table *t, struct flow *f)
{
    f->lru_prev = NULL;
    f->lru_next = t->lru_head;
    if (t->lru_head)
        t->lru_head->lru_prev = f;
    t->lru_head = f;
    if (t->lru_tail == NULL)
        t->lru_tail = f;
}

static void hash_unlink(struct flow_table *t, struct flow *f)
{
    struct flow **pp = &t->buckets[f->hash & t->mask];
    while (*pp != NULL && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp == f)
        *pp = f->hnext;
}

static void flow_end(struct flow_table *t, struct flow *f, enum flow_end_reason reason)
{
    hash_unlink(t, f);
    lru_unlink(t, f);
    switch (f->state) {
    case FLOW_STATE_NEW: stats_inc(t->stats, STAT_FLOW_END_STATE_NEW); break;
    case FLOW_STATE_ESTABLISHED: stats_inc(t->stats, STAT_FLOW_END_STATE_ESTABLISHED); break;
    default: stats_inc(t->stats, STAT_FLOW_END_STATE_CLOSED); break;
    }
    if (t->on_end)
        t->on_end(t->cb_ctx, f, reason);
    t->active--;
    t->memuse -= sizeof *f;
    stats_add(t->stats, STAT_FLOW_MEMUSE, (uint64_t)-(int64_t)sizeof *f);
    stats_add(t->stats, STAT_FLOW_ACTIVE, (uint64_t)-1);
    free(f);
}

static uint32_t flow_timeout(const struct flow_table *t, const struct flow *f)
{
    const struct flow_timeouts *to = &t->cfg.timeouts[f->proto_idx];
    switch (f->state) {
    case FLOW_STATE_NEW: return t->emergency ? to->emerg_new : to->new_;
    case FLOW_STATE_ESTABLISHED: return t->emergency ? to->emerg_established : to->established;
    default: return t->emergency ? to->emerg_closed : to->closed;
    }
}

/* Expired: idle for longer than its timeout (by packet time). */
static bool flow_expired(const struct flow_table *t, const struct flow *f, const struct timeval *now)
{
    uint64_t idle_limit = (uint64_t)flow_timeout(t, f) * 1000000u;
    uint64_t last = timeval_usec(&f->last), cur = timeval_usec(now);
    return cur > last && cur - last > idle_limit;
}

static void update_emergency(struct flow_table *t)
{
    if (t->emergency &&
        t->memuse < t->cfg.memcap / 100 * (100 - t->cfg.emergency_recovery)) {
        t->emergency = false;
        stats_inc(t->stats, STAT_FLOW_EMERG_MODE_OVER);
    }
}

/* Frees room under memcap pressure: expired flows first, then the oldest. */
static bool make_room(struct flow_table *t, const struct timeval *now)
{
    if (!t->emergency) {
        t->emergency = true;
        stats_inc(t->stats, STAT_FLOW_EMERG_MODE_ENTERED);
    }
    stats_inc(t->stats, STAT_FLOW_MEMCAP);
    unsigned checked = 0;
    for (struct flow *f = t->lru_tail; f != NULL && checked < TIMEOUT_BATCH; checked++) {
        struct flow *prev = f->lru_prev;
        if (flow_expired(t, f, now)) {
            stats_inc(t->stats, STAT_FLOW_MGR_FLOWS_TIMEOUT);
            flow_end(t, f, FLOW_END_TIMEOUT);
        }
        f = prev;
    }
    if (t->memuse + sizeof(struct flow) <= t->cfg.memcap)
        return true;
    /* Still full: evict the least recently seen flow. */
    if (t->lru_tail != NULL) {
        stats_inc(t->stats, STAT_FLOW_MGR_FLOWS_EVICTED);
        flow_end(t, t->lru_tail, FLOW_END_FORCED);
    }
    return t->memuse + sizeof(struct flow) <= t->cfg.memcap;
}

/* Which endpoint of the key sent p (ICMP flows are keyed by address only). */
static int sender_idx(const struct flow_key *k, const struct packet *p)
{
    if (memcmp(&p->src, &k->addr[0], sizeof p->src) != 0)
        return 1;
    if (p->proto == 1 || p->proto == 58)
        return 0;
    return p->sp == k->port[0] ? 0 : 1;
}

static struct flow *flow_create(struct flow_table *t, const struct packet *p,
                                const struct flow_key *k, uint64_t hash)
{
    if (t->memuse + sizeof(struct flow) > t->cfg.memcap && !make_room(t, &p->ts)) {
        stats_inc(t->stats, STAT_FLOW_GET_USED_FAILED);
        return NULL;
    }
    struct flow *f = calloc(1, sizeof *f);
    if (f == NULL) {
        stats_inc(t->stats, STAT_FLOW_GET_USED_FAILED);
        return NULL;
    }
    f->key = *k;
    f->hash = hash;
    f->start = f->last = p->ts;
    f->ip_ver = p->ip_ver;
    f->proto_idx = (uint8_t)proto_idx(p->proto);
    /* The client is the packet's sender, except for a SYN/ACK seen first. */
    f->client_idx = (uint8_t)sender_idx(k, p);
    if (p->proto == 6 && (p->tcp.flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
        f->client_idx ^= 1;
    /* Deterministic id: tuple hash mixed with the start time, kept within 2^53. */
    f->flow_id = hash_mix64(hash ^ timeval_usec(&p->ts)) & ((1ull << 53) - 1);
    if (f->flow_id == 0)
        f->flow_id = 1;

    struct flow **b = &t->buckets[hash & t->mask];
    f->hnext = *b;
    *b = f;
    lru_push_head(t, f);
    t->active++;
    t->memuse += sizeof *f;
    stats_add(t->stats, STAT_FLOW_MEMUSE, sizeof *f);
    stats_inc(t->stats, STAT_FLOW_ACTIVE);
    stats_inc(t->stats, STAT_FLOW_TOTAL);
    switch (f->proto_idx) {
    case FLOW_PROTO_TCP: stats_inc(t->stats, STAT_FLOW_TCP); break;
    case FLOW_PROTO_UDP: stats_inc(t->stats, STAT_FLOW_UDP); break;
    case FLOW_PROTO_ICMP:
        stats_inc(t->stats, p->proto == 1 ? STAT_FLOW_ICMPV4 : STAT_FLOW_ICMPV6);
        break;
    default: break;
    }
    return f;
}

/* Direction of p in f: 0 when sent by the client. */
static int packet_dir(const struct flow *f, const struct packet *p)
{
    return sender_idx(&f->key, p) == f->client_idx ? FLOW_TOSERVER : FLOW_TOCLIENT;
}

static void tcp_track(struct flow *f, const struct packet *p, int dir)
{
    uint8_t fl = p->tcp.flags;
    f->tcp_flags[dir] |= fl;
    if (fl & TCP_RST) {
        f->rst_seen = true;
        f->state = FLOW_STATE_CLOSED;
        return;
    }
    if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN)
        f->syn_seen = true;
    else if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
        f->synack_seen = true;
    if (fl & TCP_FIN)
        f->fin_seen |= (uint8_t)(1u << dir);
    if (f->state == FLOW_STATE_NEW && f->synack_seen && (fl & TCP_ACK) && !(fl & TCP_SYN) &&
        dir == FLOW_TOSERVER)
        f->state = FLOW_STATE_ESTABLISHED;
    if (f->fin_seen == 3)
        f->state = FLOW_STATE_CLOSED;
}

struct flow *flow_handle_packet(struct flow_table *t, const struct packet *p, int *dir)
{
    if (!(p->flags & PKT_HAS_TUPLE))
        return NULL;
    /* Invalid packets, TCP/UDP without ports and IP fragments get no flow:
     * the datagram reassembled from the fragments does. */
    if ((p->flags & (PKT_INVALID | PKT_FRAGMENT)) ||
        (!(p->flags & PKT_HAS_PORTS) && (p->proto == 6 || p->proto == 17)))
        return NULL;
    struct flow_key k;
    uint64_t hash = flow_key_from_packet(p, &k);
    struct flow *f = t->buckets[hash & t->mask];
    while (f != NULL && (f->hash != hash || memcmp(&f->key, &k, sizeof k) != 0))
        f = f->hnext;

    if (f != NULL) {
        if (flow_expired(t, f, &p->ts)) {
            stats_inc(t->stats, STAT_FLOW_MGR_FLOWS_TIMEOUT);
            flow_end(t, f, FLOW_END_TIMEOUT);
            f = NULL;
        } else if (p->proto == 6 && f->state == FLOW_STATE_CLOSED &&
                   (p->tcp.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
            /* A new connection on the same tuple after the old one closed. */
            stats_inc(t->stats, STAT_FLOW_TCP_REUSE);
            flow_end(t, f, FLOW_END_TIMEOUT);
            f = NULL;
        }
    }
    if (f == NULL) {
        f = flow_create(t, p, &k, hash);
        if (f == NULL)
            return NULL;
    } else if (f != t->lru_head) {
        lru_unlink(t, f);
        lru_push_head(t, f);
    }
    int d = packet_dir(f, p);
    *dir = d;
    f->pkts[d]++;
    f->bytes[d] += p->caplen;
    if (timeval_usec(&p->ts) > timeval_usec(&f->last))
        f->last = p->ts;
    if (p->proto == 6 && (p->flags & PKT_HAS_PORTS)) {
        tcp_track(f, p, d);
    } else if (f->state == FLOW_STATE_NEW && f->pkts[FLOW_TOCLIENT] > 0) {
        f->state = FLOW_STATE_ESTABLISHED;
    }
    if (t->emergency)
        update_emergency(t);
    return f;
}

bool flow_table_timeout(struct flow_table *t, const struct timeval *now)
{
    /* Walk from the least recently seen end towards the newest, resuming
     * where the previous pass stopped so that long-lived flows at the tail
     * cannot hide expired ones behind them. The walk restarts at the tail
     * once it reaches flows idle for under a second. */
    unsigned checked = 0, ended = 0;
    uint64_t cur = timeval_usec(now);
    struct flow *f = t->timeout_next ? t->timeout_next : t->lru_tail;
    while (f != NULL && checked++ < TIMEOUT_BATCH) {
        struct flow *prev = f->lru_prev;
        stats_inc(t->stats, STAT_FLOW_MGR_FLOWS_CHECKED);
        if (flow_expired(t, f, now)) {
            stats_inc(t->stats, STAT_FLOW_MGR_FLOWS_TIMEOUT);
            flow_end(t, f, FLOW_END_TIMEOUT);
            ended++;
        } else if (cur - timeval_usec(&f->last) < 1000000u) {
            f = NULL;
            break;
        }
        f = prev;
    }
    t->timeout_next = f;
    if (t->emergency)
        update_emergency(t);
    /* More to do soon only while passes find expired flows: a pass through
     * live flows alone waits for the next second, where it resumes. */
    return f != NULL && ended > 0;
}

void flow_table_flush(struct flow_table *t, const struct timeval *now)
{
    /* Oldest first, so that the output order follows flow age. */
    while (t->lru_tail != NULL) {
        struct flow *f = t->lru_tail;
        flow_end(t, f, flow_expired(t, f, now) ? FLOW_END_TIMEOUT : FLOW_END_SHUTDOWN);
    }
}

void flow_table_free(struct flow_table *t)
{
    if (t == NULL)
        return;
    while (t->lru_tail != NULL) {
        struct flow *f = t->lru_tail;
        lru_unlink(t, f);
        free(f);
    }
    free(t->buckets);
    free(t);
}

unsigned flow_table_active(const struct flow_table *t)
{
    return t->active;
}

bool flow_table_emergency(const struct flow_table *t)
{
    return t->emergency;
}

const char *flow_state_name(enum flow_state s)
{
    switch (s) {
    case FLOW_STATE_NEW: return "new";
    case FLOW_STATE_ESTABLISHED: return "established";
    default: return "closed";
    }
}

const char *flow_reason_name(enum flow_end_reason r)
{
    switch (r) {
    case FLOW_END_TIMEOUT: return "timeout";
    case FLOW_END_FORCED: return "forced";
    default: return "shutdown";
    }
}
