/*
 * IPv4 (RFC 791) and IPv6 (RFC 8200) defragmentation.
 *
 * A tracker holds one datagram as a sorted list of non-overlapping pieces.
 * Each arriving fragment is cut against the pieces already held: where the
 * destination's policy lets the new data win, the old piece is trimmed,
 * split or dropped; where the old data wins, the new fragment's bytes are
 * left out. The pieces of one fragment share its buffer (reference counted),
 * so splits never copy. Once the last fragment has fixed the length and
 * the pieces cover it, the datagram is rebuilt in the table's buffer.
 *
 * Trackers age out by packet time, counted from their first fragment (as
 * Linux does), so trickling fragments cannot keep one alive. When a limit
 * (trackers, memcap, stored pieces) is reached, the oldest trackers go first.
 */
#include "decode/defrag.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode/decode_int.h"
#include "util/hash.h"
#include "util/timefmt.h"

#define IPV4_HDR_LEN 20
#define IPV6_HDR_LEN 40
#define IPV6_FRAG_HDR_LEN 8
#define IP_MAX_LEN 65535u
#define FRAG_UNIT 8u
#define FRAG_MIN_BUCKETS 16u
#define FRAG_MAX_BUCKETS (1u << 20)

/* ===========================================================================
 * Configuration
 * ========================================================================= */

void defrag_config_init(struct defrag_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->memcap = DEFRAG_DEFAULT_MEMCAP;
    cfg->timeout_sec = DEFRAG_DEFAULT_TIMEOUT;
    cfg->max_frags = DEFRAG_DEFAULT_MAX_FRAGS;
    cfg->trackers_max = DEFRAG_DEFAULT_TRACKERS;
    cfg->default_policy = DEFRAG_POLICY_LINUX;
}

void defrag_config_release(struct defrag_config *cfg)
{
    free(cfg->policies);
    cfg->policies = NULL;
    cfg->npolicies = 0;
}

int defrag_config_add_policy(struct defrag_config *cfg, const char *cidr, int policy)
{
    if (policy < 0 || policy >= DEFRAG_POLICY_COUNT)
        return -1;
    char buf[64];
    size_t n = strlen(cidr);
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, cidr, n + 1);
    char *slash = strchr(buf, '/');
    if (slash != NULL)
        *slash = '\0';

    struct defrag_net_policy e = { .policy = policy };
    unsigned maxbits;
    if (inet_pton(AF_INET, buf, e.addr) == 1) {
        e.ip_ver = 4;
        maxbits = 32;
    } else if (inet_pton(AF_INET6, buf, e.addr) == 1) {
        e.ip_ver = 6;
        maxbits = 128;
    } else {
        return -1;
    }
    unsigned bits = maxbits;
    if (slash != NULL) {
        char *end;
        unsigned long v = strtoul(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || v > maxbits)
            return -1;
        bits = (unsigned)v;
    }
    e.prefix = (uint8_t)bits;
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = bits > i * 8 ? bits - i * 8 : 0;
        if (keep < 8)
            e.addr[i] &= (uint8_t)(0xff00u >> keep);
    }

    struct defrag_net_policy *np =
        realloc(cfg->policies, (cfg->npolicies + 1) * sizeof *np);
    if (np == NULL)
        return -1;
    np[cfg->npolicies++] = e;
    cfg->policies = np;
    return 0;
}

static const struct {
    const char *name;
    int policy;
} policy_names[] = {
    { "first", DEFRAG_POLICY_FIRST },     { "last", DEFRAG_POLICY_LAST },
    { "bsd", DEFRAG_POLICY_BSD },         { "bsd-right", DEFRAG_POLICY_BSD_RIGHT },
    { "linux", DEFRAG_POLICY_LINUX },     { "windows", DEFRAG_POLICY_WINDOWS },
    { "solaris", DEFRAG_POLICY_SOLARIS }, { "old-linux", DEFRAG_POLICY_LINUX },
    { "old-solaris", DEFRAG_POLICY_SOLARIS }, { "hpux10", DEFRAG_POLICY_BSD },
    { "hpux11", DEFRAG_POLICY_FIRST },    { "irix", DEFRAG_POLICY_BSD },
    { "macos", DEFRAG_POLICY_FIRST },     { "vista", DEFRAG_POLICY_WINDOWS },
    { "windows2k3", DEFRAG_POLICY_WINDOWS },
};

int defrag_policy_parse(const char *name)
{
    for (size_t i = 0; i < sizeof policy_names / sizeof policy_names[0]; i++)
        if (strcasecmp(name, policy_names[i].name) == 0)
            return policy_names[i].policy;
    return -1;
}

const char *defrag_policy_name(int policy)
{
    for (size_t i = 0; i < sizeof policy_names / sizeof policy_names[0]; i++)
        if (policy_names[i].policy == policy)
            return policy_names[i].name;
    return "unknown";
}

/* ===========================================================================
 * Table and trackers
 * ========================================================================= */

/* The bytes of one fragment, shared by the pieces cut from it. */
struct frag_buf {
    uint32_t refs;
    uint32_t base;          /* datagram offset of data[0] */
    uint32_t len;
    uint8_t data[];
};

struct frag_piece {
    struct frag_piece *prev, *next;
    uint32_t a, b;          /* datagram offsets [a, b) */
    struct frag_buf *fb;
};

struct frag_key {
    struct ip_addr src, dst;
    uint32_t id;
    uint16_t vlan[PKT_MAX_VLANS];
    uint8_t vlan_cnt;
    uint8_t ip_ver;
    uint8_t proto;          /* IPv4 only: RFC 8200 keys IPv6 on addresses and id */
    uint8_t pad[3];         /* no implicit padding: keys are hashed and compared as bytes */
};
_Static_assert(sizeof(struct frag_key) == 48, "struct frag_key has padding");

struct frag_tracker {
    struct frag_key key;
    struct frag_tracker *hnext;         /* hash chain */
    struct frag_tracker *older, *newer; /* creation order */
    uint64_t first_usec;
    int policy;
    struct frag_piece *head, *tail;
    uint32_t npieces;
    uint32_t covered;       /* bytes held */
    uint32_t end;           /* datagram payload length, once have_last */
    bool have_last;
    uint8_t *hdr;           /* offset-0 fragment: IPv4 header / IPv6 unfragmentable part */
    uint32_t hdr_len;
    uint32_t nh_pos;        /* IPv6: the next-header byte in hdr to restore */
    uint8_t nh;             /* IPv6: next header of the fragmentable part */
};

struct defrag_table {
    uint64_t memcap;
    uint64_t timeout_usec;
    uint32_t max_frags;
    uint32_t trackers_max;
    int default_policy;
    struct defrag_net_policy *policies;
    unsigned npolicies;

    struct stats *stats;
    struct frag_tracker **buckets;
    uint32_t nbuckets;
    uint64_t seed;
    struct frag_tracker *oldest, *newest;
    uint32_t ntrackers;
    uint64_t npieces;
    uint64_t memuse;
    uint8_t *out;           /* the last reassembled datagram */
};

static void mem_add(struct defrag_table *t, size_t n)
{
    t->memuse += n;
    stats_set(t->stats, STAT_DEFRAG_MEMUSE, t->memuse);
}

static void mem_sub(struct defrag_table *t, size_t n)
{
    t->memuse -= n;
    stats_set(t->stats, STAT_DEFRAG_MEMUSE, t->memuse);
}

struct defrag_table *defrag_new(const struct defrag_config *cfg, struct stats *stats)
{
    if (cfg->default_policy < 0 || cfg->default_policy >= DEFRAG_POLICY_COUNT ||
        cfg->trackers_max == 0 || cfg->max_frags == 0 || cfg->memcap == 0)
        return NULL;
    struct defrag_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->memcap = cfg->memcap;
    t->timeout_usec = (uint64_t)cfg->timeout_sec * 1000000u;
    t->max_frags = cfg->max_frags;
    t->trackers_max = cfg->trackers_max;
    t->default_policy = cfg->default_policy;
    t->stats = stats;
    t->seed = (uint64_t)(uintptr_t)t ^ 0x6a09e667f3bcc909ULL;
    t->nbuckets = FRAG_MIN_BUCKETS;
    while (t->nbuckets < cfg->trackers_max && t->nbuckets < FRAG_MAX_BUCKETS)
        t->nbuckets <<= 1;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    /* The largest datagram: an IPv6 header and 65535 bytes of payload. */
    t->out = malloc(IPV6_HDR_LEN + IP_MAX_LEN);
    if (cfg->npolicies > 0) {
        t->policies = malloc(cfg->npolicies * sizeof *t->policies);
        if (t->policies != NULL) {
            memcpy(t->policies, cfg->policies, cfg->npolicies * sizeof *t->policies);
            t->npolicies = cfg->npolicies;
        }
    }
    if (t->buckets == NULL || t->out == NULL || (cfg->npolicies > 0 && t->policies == NULL)) {
        defrag_free(t);
        return NULL;
    }
    return t;
}

static void buf_put(struct defrag_table *t, struct frag_buf *fb)
{
    if (--fb->refs == 0) {
        mem_sub(t, sizeof *fb + fb->len);
        free(fb);
    }
}

static void piece_free(struct defrag_table *t, struct frag_tracker *tr, struct frag_piece *pc)
{
    if (pc->prev != NULL)
        pc->prev->next = pc->next;
    else
        tr->head = pc->next;
    if (pc->next != NULL)
        pc->next->prev = pc->prev;
    else
        tr->tail = pc->prev;
    tr->covered -= pc->b - pc->a;
    tr->npieces--;
    t->npieces--;
    buf_put(t, pc->fb);
    mem_sub(t, sizeof *pc);
    free(pc);
}

/* A piece [a, b) of fb linked before `before` (at the tail when NULL). */
static struct frag_piece *piece_link(struct defrag_table *t, struct frag_tracker *tr,
                                     struct frag_piece *before, uint32_t a, uint32_t b,
                                     struct frag_buf *fb)
{
    struct frag_piece *pc = malloc(sizeof *pc);
    if (pc == NULL)
        return NULL;
    mem_add(t, sizeof *pc);
    pc->a = a;
    pc->b = b;
    pc->fb = fb;
    fb->refs++;
    pc->next = before;
    pc->prev = before != NULL ? before->prev : tr->tail;
    if (pc->prev != NULL)
        pc->prev->next = pc;
    else
        tr->head = pc;
    if (before != NULL)
        before->prev = pc;
    else
        tr->tail = pc;
    tr->covered += b - a;
    tr->npieces++;
    t->npieces++;
    return pc;
}

static void tracker_free(struct defrag_table *t, struct frag_tracker *tr)
{
    struct frag_tracker **pp = &t->buckets[hash_bytes(&tr->key, sizeof tr->key, t->seed) &
                                           (t->nbuckets - 1)];
    while (*pp != tr)
        pp = &(*pp)->hnext;
    *pp = tr->hnext;
    if (tr->older != NULL)
        tr->older->newer = tr->newer;
    else
        t->oldest = tr->newer;
    if (tr->newer != NULL)
        tr->newer->older = tr->older;
    else
        t->newest = tr->older;
    while (tr->head != NULL)
        piece_free(t, tr, tr->head);
    if (tr->hdr != NULL)
        mem_sub(t, tr->hdr_len);
    free(tr->hdr);
    mem_sub(t, sizeof *tr);
    free(tr);
    t->ntrackers--;
}

static void tracker_expire(struct defrag_table *t, struct frag_tracker *tr)
{
    stats_inc(t->stats, tr->key.ip_ver == 4 ? STAT_DEFRAG_IPV4_TIMEOUTS
                                            : STAT_DEFRAG_IPV6_TIMEOUTS);
    tracker_free(t, tr);
}

void defrag_flush(struct defrag_table *t)
{
    while (t->oldest != NULL)
        tracker_free(t, t->oldest);
}

void defrag_free(struct defrag_table *t)
{
    if (t == NULL)
        return;
    if (t->buckets != NULL)
        defrag_flush(t);
    free(t->buckets);
    free(t->policies);
    free(t->out);
    free(t);
}

static bool tracker_expired(const struct defrag_table *t, const struct frag_tracker *tr,
                            uint64_t now)
{
    return now > tr->first_usec && now - tr->first_usec > t->timeout_usec;
}

/* Makes room by evicting the oldest tracker other than keep; false when none is left. */
static bool evict_oldest(struct defrag_table *t, const struct frag_tracker *keep)
{
    struct frag_tracker *victim = t->oldest;
    if (victim == keep)
        victim = victim->newer;
    if (victim == NULL)
        return false;
    tracker_free(t, victim);
    return true;
}

static int policy_lookup(const struct defrag_net_policy *policies, unsigned n, int def,
                         int ip_ver, const struct ip_addr *dst)
{
    int best = def, best_len = -1;
    for (unsigned i = 0; i < n; i++) {
        const struct defrag_net_policy *e = &policies[i];
        if (e->ip_ver != ip_ver || e->prefix <= best_len)
            continue;
        unsigned full = e->prefix / 8, rest = e->prefix % 8;
        if (memcmp(e->addr, dst->b, full) != 0)
            continue;
        if (rest && ((dst->b[full] ^ e->addr[full]) & (uint8_t)(0xff00u >> rest)))
            continue;
        best = e->policy;
        best_len = e->prefix;
    }
    return best;
}

static int policy_for(const struct defrag_table *t, int ip_ver, const struct ip_addr *dst)
{
    return policy_lookup(t->policies, t->npolicies, t->default_policy, ip_ver, dst);
}

int defrag_config_policy_for(const struct defrag_config *cfg, int ip_ver,
                             const struct ip_addr *dst)
{
    return policy_lookup(cfg->policies, cfg->npolicies, cfg->default_policy, ip_ver, dst);
}

static struct frag_tracker *tracker_find(struct defrag_table *t, const struct frag_key *k)
{
    uint64_t h = hash_bytes(k, sizeof *k, t->seed);
    for (struct frag_tracker *tr = t->buckets[h & (t->nbuckets - 1)]; tr; tr = tr->hnext)
        if (memcmp(&tr->key, k, sizeof *k) == 0)
            return tr;
    return NULL;
}

static struct frag_tracker *tracker_new(struct defrag_table *t, const struct frag_key *k,
                                        uint64_t now, int policy)
{
    while (t->ntrackers >= t->trackers_max || t->memuse + sizeof(struct frag_tracker) > t->memcap) {
        stats_inc(t->stats, STAT_DEFRAG_MAX_FRAG_HITS);
        if (!evict_oldest(t, NULL))
            return NULL;
    }
    struct frag_tracker *tr = calloc(1, sizeof *tr);
    if (tr == NULL)
        return NULL;
    mem_add(t, sizeof *tr);
    memcpy(&tr->key, k, sizeof *k);
    tr->first_usec = now;
    tr->policy = policy;
    uint64_t h = hash_bytes(k, sizeof *k, t->seed);
    tr->hnext = t->buckets[h & (t->nbuckets - 1)];
    t->buckets[h & (t->nbuckets - 1)] = tr;
    tr->older = t->newest;
    if (t->newest != NULL)
        t->newest->newer = tr;
    else
        t->oldest = tr;
    t->newest = tr;
    t->ntrackers++;
    return tr;
}

/* ===========================================================================
 * Reading a fragment
 * ========================================================================= */

struct frag_info {
    struct frag_key key;
    uint32_t start;         /* datagram offset of the data */
    uint32_t len;
    bool more;
    const uint8_t *data;
    const uint8_t *hdr;     /* IPv4 header / IPv6 unfragmentable part */
    uint32_t hdr_len;
    uint32_t nh_pos;        /* IPv6 */
    uint8_t nh;             /* IPv6 */
};

static void key_common(struct frag_key *k, const struct packet *p)
{
    memset(k, 0, sizeof *k);
    k->vlan_cnt = p->vlan_cnt <= PKT_MAX_VLANS ? p->vlan_cnt : PKT_MAX_VLANS;
    memcpy(k->vlan, p->vlan, k->vlan_cnt * sizeof k->vlan[0]);
}

/*
 *  |Version|  IHL  |Type of Service|          Total Length         |
 *  |         Identification        |Flags|      Fragment Offset    |
 *  |  Time to Live |    Protocol   |         Header Checksum       |
 *  |                 Source, Destination Address                   |
 *
 * False when the header is not a usable fragment (the decoder has already
 * flagged a malformed one; a capture cut short cannot be reassembled).
 */
static bool read_ipv4(const struct decode_ctx *dc, const struct packet *p, struct cursor c,
                      struct frag_info *fi)
{
    const uint8_t *ip = cursor_ptr(&c);
    uint8_t vihl = cursor_u8(&c);
    cursor_skip(&c, 1);
    uint32_t tot_len = cursor_u16be(&c);
    uint16_t id = cursor_u16be(&c);
    uint16_t frag = cursor_u16be(&c);
    cursor_skip(&c, 1);
    uint8_t proto = cursor_u8(&c);
    cursor_skip(&c, 2);
    struct cursor addrs = cursor_sub(&c, 8);
    uint32_t hlen = (vihl & 0x0f) * 4u;
    if (c.failed || vihl >> 4 != 4 || hlen < IPV4_HDR_LEN || tot_len < hlen ||
        !cursor_skip(&c, hlen - IPV4_HDR_LEN) ||
        !cursor_has(&c, tot_len - hlen))
        return false;
    if ((frag & 0x3fff) == 0)
        return false;
    if (dc->cfg.checksum_validation && csum_fold(csum_partial(ip, hlen, 0)) != 0)
        return false; /* the host drops it before reassembly */

    key_common(&fi->key, p);
    fi->key.ip_ver = 4;
    fi->key.proto = proto;
    fi->key.id = id;
    cursor_copy(&addrs, fi->key.src.b, 4);
    cursor_copy(&addrs, fi->key.dst.b, 4);
    fi->start = (uint32_t)(frag & 0x1fff) * FRAG_UNIT;
    fi->more = frag & 0x2000;
    fi->len = tot_len - hlen;
    fi->data = cursor_ptr(&c);
    fi->hdr = ip;
    fi->hdr_len = hlen;
    return true;
}

enum { NH_HOPOPTS = 0, NH_ROUTING = 43, NH_FRAGMENT = 44, NH_DSTOPTS = 60 };

/*
 * IPv6: the unfragmentable part (header, hop-by-hop, routing, destination
 * options) up to the fragment header:
 *  | Next Header |  Reserved   |      Fragment Offset    |Res|M|
 *  |                         Identification                      |
 */
static bool read_ipv6(const struct packet *p, struct cursor c, struct frag_info *fi)
{
    const uint8_t *ip = cursor_ptr(&c);
    uint32_t vtf = cursor_u32be(&c);
    uint32_t plen = cursor_u16be(&c);
    uint8_t nh = cursor_u8(&c);
    cursor_skip(&c, 1);
    struct cursor addrs = cursor_sub(&c, 32);
    if (c.failed || vtf >> 28 != 6 || plen == 0 || !cursor_has(&c, plen))
        return false;
    struct cursor x = cursor_sub(&c, plen);
    uint32_t nh_pos = 6;
    while (nh != NH_FRAGMENT) {
        if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_DSTOPTS)
            return false;
        uint32_t at = IPV6_HDR_LEN + (uint32_t)x.off;
        nh = cursor_u8(&x);
        uint8_t hl = cursor_u8(&x);
        if (!cursor_skip(&x, (size_t)hl * 8 + 6))
            return false;
        nh_pos = at;
    }
    uint32_t unfrag = IPV6_HDR_LEN + (uint32_t)x.off;
    uint8_t next = cursor_u8(&x);
    cursor_skip(&x, 1);
    uint16_t offm = cursor_u16be(&x);
    uint32_t id = cursor_u32be(&x);
    if (x.failed || (offm & 0xfff9) == 0)
        return false; /* truncated, or an atomic fragment (a whole packet) */

    key_common(&fi->key, p);
    fi->key.ip_ver = 6;
    fi->key.id = id;
    cursor_copy(&addrs, fi->key.src.b, 16);
    cursor_copy(&addrs, fi->key.dst.b, 16);
    fi->start = (uint32_t)(offm >> 3) * FRAG_UNIT;
    fi->more = offm & 1;
    fi->len = (uint32_t)cursor_remaining(&x);
    fi->data = cursor_ptr(&x);
    fi->hdr = ip;
    fi->hdr_len = unfrag;
    fi->nh_pos = nh_pos;
    fi->nh = next;
    return true;
}

/* ===========================================================================
 * Overlaps
 * ========================================================================= */

bool defrag_policy_new_wins(int policy, uint32_t ns, uint32_t ne, uint32_t oa, uint32_t ob)
{
    switch (policy) {
    case DEFRAG_POLICY_FIRST: return false;
    case DEFRAG_POLICY_LAST: return true;
    case DEFRAG_POLICY_BSD: return ns < oa;
    case DEFRAG_POLICY_BSD_RIGHT: return ns >= oa;
    case DEFRAG_POLICY_WINDOWS: return ns < oa && ne > ob;
    case DEFRAG_POLICY_SOLARIS: return ns < oa && ne >= ob;
    case DEFRAG_POLICY_LINUX:
    default: return ns <= oa;
    }
}

/* Adds [a, b) of fb before `before`, growing the previous piece when it is
 * the same fragment's and ends at a. */
static bool add_range(struct defrag_table *t, struct frag_tracker *tr,
                      struct frag_piece *before, uint32_t a, uint32_t b, struct frag_buf *fb)
{
    struct frag_piece *prev = before != NULL ? before->prev : tr->tail;
    if (prev != NULL && prev->fb == fb && prev->b == a) {
        prev->b = b;
        tr->covered += b - a;
        return true;
    }
    return piece_link(t, tr, before, a, b, fb) != NULL;
}

/* Cuts [ns, ne) of fb into the tracker. Sets *overlap when it met held data. */
static bool insert_fragment(struct defrag_table *t, struct frag_tracker *tr,
                            uint32_t ns, uint32_t ne, struct frag_buf *fb, bool *overlap)
{
    struct frag_piece *pc;
    if (tr->tail != NULL && tr->tail->b <= ns)
        pc = NULL; /* in-order arrival: past everything held */
    else
        for (pc = tr->head; pc != NULL && pc->b <= ns; pc = pc->next)
            ;
    uint32_t cur = ns;
    while (cur < ne) {
        if (pc == NULL || pc->a >= ne)
            return add_range(t, tr, pc, cur, ne, fb);
        if (pc->a > cur) {
            if (!add_range(t, tr, pc, cur, pc->a, fb))
                return false;
            cur = pc->a;
        }
        /* Now pc->a <= cur < pc->b: both hold [cur, oe). */
        *overlap = true;
        uint32_t oe = pc->b < ne ? pc->b : ne;
        if (!defrag_policy_new_wins(tr->policy, ns, ne, pc->a, pc->b)) {
            cur = oe;
            pc = pc->next;
            continue;
        }
        struct frag_piece *next = pc->next;
        if (pc->a == cur && pc->b == oe) {
            piece_free(t, tr, pc);
        } else if (pc->a == cur) {
            pc->a = oe;
            tr->covered -= oe - cur;
            next = pc;
        } else if (pc->b == oe) {
            pc->b = cur;
            tr->covered -= oe - cur;
        } else {
            /* The new data lands inside the piece: keep both ends. */
            next = piece_link(t, tr, pc->next, oe, pc->b, pc->fb);
            if (next == NULL)
                return false;
            tr->covered -= pc->b - cur;
            pc->b = cur;
        }
        if (!add_range(t, tr, next, cur, oe, fb))
            return false;
        cur = oe;
        pc = next;
    }
    return true;
}

/* The last fragment fixes the length: whatever lies beyond it goes. */
static void trim_to_end(struct defrag_table *t, struct frag_tracker *tr, uint32_t end)
{
    while (tr->tail != NULL && tr->tail->b > end) {
        struct frag_piece *pc = tr->tail;
        if (pc->a >= end) {
            piece_free(t, tr, pc);
        } else {
            tr->covered -= pc->b - end;
            pc->b = end;
        }
    }
}

/* ===========================================================================
 * Rebuilding the datagram
 * ========================================================================= */

static bool tracker_complete(const struct frag_tracker *tr)
{
    return tr->have_last && tr->hdr != NULL && tr->covered == tr->end;
}

/* Writes the datagram into t->out; its length, or 0 when it is too large. */
static uint32_t build_datagram(struct defrag_table *t, const struct frag_tracker *tr)
{
    uint8_t *o = t->out;
    uint32_t total = tr->hdr_len + tr->end;
    if (tr->key.ip_ver == 4) {
        if (total > IP_MAX_LEN)
            return 0;
        memcpy(o, tr->hdr, tr->hdr_len);
        o[2] = (uint8_t)(total >> 8);
        o[3] = (uint8_t)total;
        o[6] &= 0xc0; /* keep DF and the reserved bit; clear MF and the offset */
        o[7] = 0;
        o[10] = o[11] = 0;
        uint16_t sum = csum_fold(csum_partial(o, tr->hdr_len, 0));
        o[10] = (uint8_t)(sum >> 8);
        o[11] = (uint8_t)sum;
    } else {
        uint32_t plen = total - IPV6_HDR_LEN;
        if (plen > IP_MAX_LEN)
            return 0;
        memcpy(o, tr->hdr, tr->hdr_len);
        o[4] = (uint8_t)(plen >> 8);
        o[5] = (uint8_t)plen;
        o[tr->nh_pos] = tr->nh;
    }
    for (const struct frag_piece *pc = tr->head; pc != NULL; pc = pc->next)
        memcpy(o + tr->hdr_len + pc->a, pc->fb->data + (pc->a - pc->fb->base), pc->b - pc->a);
    return total;
}

/* ===========================================================================
 * Entry point
 * ========================================================================= */

struct frag_events {
    int too_large, invalid_length, overlap, ignored;
};

static const struct frag_events events4 = { DEV_IPV4_FRAG_PKT_TOO_LARGE,
    DEV_IPV4_FRAG_INVALID_LENGTH, DEV_IPV4_FRAG_OVERLAP, DEV_IPV4_FRAG_IGNORED };
static const struct frag_events events6 = { DEV_IPV6_FRAG_PKT_TOO_LARGE,
    DEV_IPV6_FRAG_INVALID_LENGTH, DEV_IPV6_FRAG_OVERLAP, DEV_IPV6_FRAG_IGNORED };

/*
 * Checks a fragment's length and size against the rules of its version.
 * IPv4 hosts differ on a non-final fragment whose length is not a multiple
 * of 8: Linux keeps the first multiple of 8 bytes, BSD-derived stacks drop
 * it. IPv6 hosts drop it (RFC 8200).
 */
static bool fragment_valid(struct decode_ctx *dc, struct packet *p, struct frag_info *fi,
                           const struct frag_events *ev, int policy)
{
    if (fi->more && fi->len % FRAG_UNIT != 0) {
        decode_set_event(dc, p, ev->invalid_length);
        if (fi->key.ip_ver == 6 || policy != DEFRAG_POLICY_LINUX)
            return false;
        fi->len -= fi->len % FRAG_UNIT;
    }
    if (fi->len == 0) {
        decode_set_event(dc, p, ev->ignored);
        return false;
    }
    /* The datagram this fragment belongs to must fit in the length field. */
    uint32_t outer = fi->key.ip_ver == 4 ? fi->hdr_len : fi->hdr_len - IPV6_HDR_LEN;
    if ((uint64_t)outer + fi->start + fi->len > IP_MAX_LEN) {
        decode_set_event(dc, p, ev->too_large);
        return false;
    }
    return true;
}

/* Keeps the offset-0 fragment's header (the first one to arrive). */
static bool keep_header(struct defrag_table *t, struct frag_tracker *tr,
                        const struct frag_info *fi)
{
    if (fi->start != 0 || tr->hdr != NULL)
        return true;
    tr->hdr = malloc(fi->hdr_len);
    if (tr->hdr == NULL)
        return false;
    memcpy(tr->hdr, fi->hdr, fi->hdr_len);
    tr->hdr_len = fi->hdr_len;
    tr->nh_pos = fi->nh_pos;
    tr->nh = fi->nh;
    mem_add(t, fi->hdr_len);
    return true;
}

/* Frees trackers (oldest first, never tr) until `need` more bytes and one
 * more piece fit; false when they cannot. */
static bool make_room(struct defrag_table *t, struct frag_tracker *tr, size_t need)
{
    bool hit = false;
    while (t->memuse + need > t->memcap || t->npieces + 1 > t->max_frags) {
        hit = true;
        if (!evict_oldest(t, tr))
            break;
    }
    if (hit)
        stats_inc(t->stats, STAT_DEFRAG_MAX_FRAG_HITS);
    return t->memuse + need <= t->memcap && t->npieces + 1 <= t->max_frags;
}

/* Stores the fragment; false when it was not (a limit or an inconsistency). */
static bool tracker_add(struct defrag_table *t, struct decode_ctx *dc, struct packet *p,
                        struct frag_tracker *tr, const struct frag_info *fi,
                        const struct frag_events *ev)
{
    uint32_t ns = fi->start, ne = fi->start + fi->len;
    /* Once the length is known, a fragment must agree with it. */
    if (tr->have_last && (ns >= tr->end || (!fi->more && ne != tr->end))) {
        decode_set_event(dc, p, ev->ignored);
        return false;
    }
    size_t need = sizeof(struct frag_buf) + fi->len + 2 * sizeof(struct frag_piece) +
                  (ns == 0 && tr->hdr == NULL ? fi->hdr_len : 0);
    if (!make_room(t, tr, need)) {
        decode_set_event(dc, p, ev->ignored);
        return false;
    }
    if (!keep_header(t, tr, fi))
        return false;
    if (!fi->more) {
        tr->have_last = true;
        tr->end = ne;
        trim_to_end(t, tr, ne);
    } else if (tr->have_last && ne > tr->end) {
        ne = tr->end;
    }

    struct frag_buf *fb = malloc(sizeof *fb + fi->len);
    if (fb == NULL)
        return false;
    mem_add(t, sizeof *fb + fi->len);
    fb->refs = 1; /* ours until the pieces hold it */
    fb->base = ns;
    fb->len = fi->len;
    memcpy(fb->data, fi->data, fi->len);
    bool overlap = false;
    bool ok = insert_fragment(t, tr, ns, ne, fb, &overlap);
    buf_put(t, fb);
    if (overlap)
        decode_set_event(dc, p, ev->overlap);
    return ok;
}

int defrag_packet(struct defrag_table *t, struct decode_ctx *dc, struct packet *p,
                  struct defrag_result *out)
{
    if (!(p->flags & PKT_FRAGMENT) || p->l3_off >= p->caplen)
        return DEFRAG_DROPPED;
    struct cursor c = decode_cursor(p, p->l3_off, p->caplen - p->l3_off);
    struct frag_info fi;
    memset(&fi, 0, sizeof fi);
    bool ok = p->ip_ver == 4 ? read_ipv4(dc, p, c, &fi)
            : p->ip_ver == 6 ? read_ipv6(p, c, &fi) : false;
    if (!ok)
        return DEFRAG_DROPPED;
    bool v4 = fi.key.ip_ver == 4;
    const struct frag_events *ev = v4 ? &events4 : &events6;
    stats_inc(t->stats, v4 ? STAT_DEFRAG_IPV4_FRAGMENTS : STAT_DEFRAG_IPV6_FRAGMENTS);

    int policy = policy_for(t, fi.key.ip_ver, &fi.key.dst);
    if (!fragment_valid(dc, p, &fi, ev, policy))
        return DEFRAG_DROPPED;

    uint64_t now = timeval_usec(&p->ts);
    while (t->oldest != NULL && tracker_expired(t, t->oldest, now))
        tracker_expire(t, t->oldest);
    struct frag_tracker *tr = tracker_find(t, &fi.key);
    if (tr != NULL && tracker_expired(t, tr, now)) {
        tracker_expire(t, tr);
        tr = NULL;
    }
    if (tr == NULL) {
        tr = tracker_new(t, &fi.key, now, policy);
        if (tr == NULL) {
            decode_set_event(dc, p, ev->ignored);
            return DEFRAG_DROPPED;
        }
    }
    if (!tracker_add(t, dc, p, tr, &fi, ev)) {
        if (tr->head == NULL && tr->hdr == NULL)
            tracker_free(t, tr);
        return DEFRAG_DROPPED;
    }
    if (!tracker_complete(tr))
        return DEFRAG_HELD;

    uint32_t len = build_datagram(t, tr);
    tracker_free(t, tr);
    if (len == 0) {
        decode_set_event(dc, p, ev->too_large);
        return DEFRAG_DROPPED;
    }
    stats_inc(t->stats, v4 ? STAT_DEFRAG_IPV4_REASSEMBLED : STAT_DEFRAG_IPV6_REASSEMBLED);
    out->data = t->out;
    out->len = len;
    out->ip_ver = fi.key.ip_ver;
    return DEFRAG_DONE;
}
