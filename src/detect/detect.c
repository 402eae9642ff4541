/*
 * Per-packet detection: the Hyperscan prefilter proposes candidates, the
 * group's signatures without a fast pattern are added, and each candidate
 * is checked in evaluation order (pass, drop, reject, alert): header first,
 * then packet keywords, then the payload keyword chain.
 */
#include "detect/engine_int.h"

#include <stdlib.h>
#include <string.h>

#include "app/applayer.h"
#include "detect/kw_runtime.h"
#include "util/hash.h"

static int on_hs_match(unsigned id, unsigned long long from, unsigned long long to,
                       unsigned flags, void *ctx)
{
    (void)from;
    (void)flags;
    struct detect_thread *dt = ctx;
    /* One pattern per signature, reported once per scan (SINGLEMATCH). */
    if (sig_group_keeps(dt->group, id)) {
        dt->cand_list[dt->ncand++] = id;
        if (dt->mode == DETECT_STREAM) {
            dt->hits[dt->nhits].sig = id;
            dt->hits[dt->nhits++].end = dt->scan_from + (uint32_t)to;
        }
    }
    return 0;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void sort_small(uint32_t *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        uint32_t x = v[i];
        unsigned j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

static int packet_group(const struct packet *p)
{
    switch (p->proto) {
    case 6: return GRP_TCP;
    case 17: return GRP_UDP;
    case 1: case 58: return GRP_ICMP;
    default: return GRP_OTHER;
    }
}

static bool endpoints_match(const struct sig *s, const struct packet *p, bool swapped)
{
    const struct ip_addr *src = swapped ? &p->dst : &p->src;
    const struct ip_addr *dst = swapped ? &p->src : &p->dst;
    if (!addr_set_match(s->src, p->ip_ver, src) || !addr_set_match(s->dst, p->ip_ver, dst))
        return false;
    if (port_set_is_any(s->sp) && port_set_is_any(s->dp))
        return true;
    if (!(p->flags & PKT_HAS_PORTS))
        return false;
    uint16_t sp = swapped ? p->dp : p->sp, dp = swapped ? p->sp : p->dp;
    return port_set_match(s->sp, sp) && port_set_match(s->dp, dp);
}

/* A TCP connection torn down after its handshake still counts as
 * established for its last packets (FIN with data, the final ACK). */
static bool flow_established(const struct flow *f)
{
    return f->state == FLOW_STATE_ESTABLISHED ||
           (f->state == FLOW_STATE_CLOSED && f->proto_idx == FLOW_PROTO_TCP && f->synack_seen);
}

/* The cheap checks: protocol, flow direction and state, addresses, ports. */
static bool header_match(const struct sig *s, const struct packet *p, const struct flow *f,
                         int dir)
{
    if (s->ip_proto && s->ip_proto != p->proto &&
        !((s->flags & SIG_ICMP_ANY_VER) && (p->proto == 1 || p->proto == 58)))
        return false;
    if ((s->flags & SIG_APP_PROTO) && (f == NULL || f->app_proto != s->app_proto))
        return false;
    if (s->flags & (SIG_FLOW_TOSERVER | SIG_FLOW_TOCLIENT | SIG_FLOW_ESTABLISHED)) {
        if (f == NULL)
            return false;
        if ((s->flags & SIG_FLOW_TOSERVER) && dir != FLOW_TOSERVER)
            return false;
        if ((s->flags & SIG_FLOW_TOCLIENT) && dir != FLOW_TOCLIENT)
            return false;
        if ((s->flags & SIG_FLOW_ESTABLISHED) && !flow_established(f))
            return false;
    }
    if ((s->flags & SIG_FLOW_NOT_ESTABLISHED) && f && flow_established(f))
        return false;
    if ((s->flags & SIG_FLOW_ONLY_FRAG) && !(p->flags & PKT_FRAGMENT))
        return false;
    if ((s->flags & SIG_FLOW_NO_FRAG) && (p->flags & PKT_FRAGMENT))
        return false;
    if (endpoints_match(s, p, false))
        return true;
    return (s->flags & SIG_BIDIR) && endpoints_match(s, p, true);
}

/* Every app buffer list of s matches some instance of its buffer in the
 * transaction being inspected. */
static bool match_tx_buffers(struct detect_thread *dt, const struct sig *s,
                             const struct packet *p, struct flow *f, int dir)
{
    if (dt->tx == NULL)
        return false;
    for (int b = 0; b < BUF_COUNT; b++) {
        if (!s->lists[b] || b == BUF_PAYLOAD || b == BUF_BASE64_DATA)
            continue;
        bool hit = false;
        const uint8_t *d;
        uint32_t n;
        for (unsigned idx = 0; !hit && idx < 256 && app_tx_buffer(dt->tx, b, idx, dir, &d, &n);
             idx++) {
            struct inspect_env env = { .p = p, .f = f, .dir = dir };
            hit = inspect_buffer(dt, s, b, d, n, &env);
        }
        if (!hit)
            return false;
    }
    return true;
}

static bool sig_match(struct detect_thread *dt, const struct sig *s, const struct packet *p,
                      struct flow *f, int dir)
{
    if (!header_match(s, p, f, dir))
        return false;
    if (s->pkt && !match_packet_keywords(dt, s, p, f, dir))
        return false;
    if ((s->flags & SIG_APP) && !match_tx_buffers(dt, s, p, f, dir))
        return false;
    if (s->lists[BUF_PAYLOAD] || s->lists[BUF_BASE64_DATA]) {
        if (dt->pl_len == 0)
            return false;
        struct inspect_env env = { .p = p, .f = f, .dir = dir, .min_end = dt->pl_new_off };
        if (!inspect_buffer(dt, s, BUF_PAYLOAD, dt->pl, dt->pl_len, &env)) {
            /* A stream chunk is also tried from where its new bytes start:
             * anchored contents (startswith, offset, depth) of a message
             * that begins a segment are then where the rule expects them. */
            if (dt->pl_new_off == 0)
                return false;
            struct inspect_env env2 = { .p = p, .f = f, .dir = dir };
            if (!inspect_buffer(dt, s, BUF_PAYLOAD, dt->pl + dt->pl_new_off,
                                dt->pl_len - dt->pl_new_off, &env2))
                return false;
        }
    }
    return true;
}

static bool sig_has_payload(const struct sig *s)
{
    return s->lists[BUF_PAYLOAD] || s->lists[BUF_BASE64_DATA];
}

/* Whether the mode inspects s at all. */
static bool mode_takes(int mode, const struct sig *s)
{
    switch (mode) {
    case DETECT_PACKET_STREAMED:
        return !sig_has_payload(s) || (s->flags & (SIG_TCP_PKT | SIG_FLOW_NO_STREAM));
    case DETECT_STREAM:
        return sig_has_payload(s) && !(s->flags & (SIG_TCP_PKT | SIG_FLOW_NO_STREAM));
    case DETECT_TX:
        return (s->flags & SIG_APP) != 0;
    default:
        return !(s->flags & SIG_FLOW_ONLY_STREAM);
    }
}

static void add_alert(struct detect_result *res, const struct sig *s, int action)
{
    struct detect_alert *a = &res->alerts[res->nalerts++];
    a->gid = s->gid;
    a->sid = s->id;
    a->rev = s->rev;
    a->action = action;
    a->severity = s->priority;
    a->msg = s->msg ? s->msg : "";
    a->category = s->class_desc ? s->class_desc : "";
    a->metadata = s->metadata;
    a->target = s->target;
}

static uint32_t ipv4_value(const struct ip_addr *a)
{
    return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
}

/* Evaluates one signature; false when a pass rule ends the inspection. */
static bool evaluate(struct detect_thread *dt, const struct sig *s, const struct packet *p,
                     struct flow *f, int dir, struct detect_result *res)
{
    if ((s->flags & SIG_IPONLY) && f != NULL && f->pkts[dir] > 1)
        return true; /* decided on the direction's first packet */
    if (dt->mode != DETECT_PACKET && !mode_takes(dt->mode, s))
        return true;
    if (!sig_match(dt, s, p, f, dir))
        return true;
    if (s->post)
        run_post_match(dt, s, p, f);
    int action = s->action;
    bool still_acts;
    if ((s->threshold || s->detection_filter || dt->de->b->tcfg) &&
        !threshold_allows(dt->rt, dt->de->b->tcfg, s, p, &action, &still_acts)) {
        res->suppressed++;
        if (still_acts) { /* the alert is quieted, a drop still drops */
            if (action == ACTION_DROP || action == ACTION_REJECT)
                res->drop = true;
            if (action == ACTION_REJECT)
                res->reject = true;
        }
        return true;
    }
    if (action == ACTION_PASS) {
        res->pass = true;
        return false;
    }
    if (action == ACTION_DROP || action == ACTION_REJECT)
        res->drop = true;
    if (action == ACTION_REJECT)
        res->reject = true;
    if (!(s->flags & SIG_NOALERT)) {
        for (unsigned t = 0; t < s->ntags; t++) {
            if (s->tags[t].scope == TAG_SESSION && f != NULL)
                tag_session_set(dt, f, &s->tags[t], p);
            else if (s->tags[t].scope == TAG_HOST)
                tag_host_set(dt->rt, &s->tags[t], p);
        }
        if (res->nalerts < DETECT_MAX_ALERTS)
            add_alert(res, s, action);
        else
            res->overflow++;
    }
    return true;
}

/* Sorts the candidates and drops repeats. */
static void compact_candidates(struct detect_thread *dt)
{
    if (dt->ncand > 16)
        qsort(dt->cand_list, dt->ncand, sizeof *dt->cand_list, u32_cmp);
    else
        sort_small(dt->cand_list, dt->ncand);
    unsigned k = 0;
    for (unsigned i = 0; i < dt->ncand; i++)
        if (k == 0 || dt->cand_list[k - 1] != dt->cand_list[i])
            dt->cand_list[k++] = dt->cand_list[i];
    dt->ncand = k;
}

void detect_packet(struct detect_thread *dt, const struct packet *p, struct flow *f, int dir,
                   struct detect_result *res)
{
    detect_packet_mode(dt, p, f, dir, DETECT_PACKET, NULL, 0, 0, 0, res);
}

/*
 * A stream chunk: only its new bytes (and the few before them a fast
 * pattern could start in) are scanned; the signatures whose fast pattern
 * hit earlier in the window are candidates again. Keeps the window's hits
 * on the flow for the next chunk.
 */
static void stream_candidates(struct detect_thread *dt, struct flow *f, int dir,
                              uint64_t chunk_off)
{
    struct flow_detect_state *st = detect_flow_state(f, dt, true);
    if (st == NULL)
        return;
    struct fp_carry next[DETECT_CARRY_MAX];
    unsigned n = 0;
    bool full = dt->nhits > DETECT_CARRY_MAX;
    for (unsigned i = 0; i < dt->nhits && !full; i++) {
        next[n].sig = dt->hits[i].sig;
        next[n++].end = chunk_off + dt->hits[i].end;
    }
    for (unsigned i = 0; i < st->ncarry[dir]; i++) {
        const struct fp_carry *c = &st->carry[dir][i];
        if (c->end <= chunk_off || !sig_group_keeps(dt->group, c->sig))
            continue; /* fell out of the window */
        bool hit = false;
        for (unsigned k = 0; k < dt->nhits && !hit; k++)
            hit = dt->hits[k].sig == c->sig;
        if (hit)
            continue;
        dt->cand_list[dt->ncand++] = c->sig;
        if (n < DETECT_CARRY_MAX)
            next[n++] = *c;
        else
            full = true;
    }
    memcpy(st->carry[dir], next, n * sizeof *next);
    st->ncarry[dir] = (uint8_t)n;
    st->carry_full[dir] = full;
}

void detect_packet_mode(struct detect_thread *dt, const struct packet *p, struct flow *f,
                        int dir, int mode, const uint8_t *chunk, uint32_t chunk_len,
                        uint32_t new_off, uint64_t chunk_off, struct detect_result *res)
{
    memset(res, 0, offsetof(struct detect_result, alerts));
    detect_flow_sync(dt, f);
    dt->mode = mode;
    dt->tx = NULL;
    if (mode == DETECT_STREAM) {
        dt->pl = chunk;
        dt->pl_len = chunk_len;
        dt->pl_new_off = new_off;
    } else {
        dt->pl = p->data + p->payload_off;
        dt->pl_len = p->payload_len;
        dt->pl_new_off = 0;
    }
    const struct detect_engine *de = dt->de;
    if (!(p->flags & PKT_HAS_TUPLE) || de->nsigs == 0)
        return;
    /* Tagged by an earlier alert (checked first, so the alert's own packet
     * is not counted: it is logged with the alert). Once per packet. */
    if (mode != DETECT_STREAM) {
        if (f != NULL && f->dstate != NULL && tag_session_check(f, p))
            res->tagged = true;
        if (tag_host_check(dt->rt, p))
            res->tagged = true;
    }
    const struct proto_dir *pd = &de->groups[packet_group(p)][dir == FLOW_TOCLIENT];
    const struct sig_group *g = proto_dir_group(pd, dir == FLOW_TOCLIENT ? p->sp : p->dp);

    /* Candidates: fast-pattern hits, address-index hits and the group's
     * unindexed signatures -- four disjoint lists, each sorted by signature
     * number, walked together in evaluation order. */
    dt->ncand = 0;
    dt->nhits = 0;
    dt->scan_from = 0;
    dt->group = g;
    if (mode == DETECT_STREAM && f != NULL && new_off > 0) {
        const struct flow_detect_state *st = detect_flow_state(f, dt, false);
        if (st == NULL || !st->carry_full[dir]) {
            uint32_t ctx = de->max_fp_len ? de->max_fp_len - 1 : 0;
            dt->scan_from = new_off > ctx ? new_off - ctx : 0;
        }
    }
    if (pd->pg[0].db && g->nfp && dt->pl_len > dt->scan_from &&
        (mode != DETECT_PACKET_STREAMED || de->packet_only_fp))
        hs_scan(pd->pg[0].db, (const char *)dt->pl + dt->scan_from, dt->pl_len - dt->scan_from,
                0, dt->hs_scratch, on_hs_match, dt);
    if (mode == DETECT_STREAM && f != NULL && g->nfp)
        stream_candidates(dt, f, dir, chunk_off);
    compact_candidates(dt); /* carried and new stream hits are disjoint; be safe anyway */
    const uint32_t *list[4] = { dt->cand_list, NULL, NULL, g->nofp };
    unsigned len[4] = { dt->ncand, 0, 0, g->nnofp }, pos[4] = { 0, 0, 0, 0 };
    if (p->ip_ver == 4) {
        list[1] = addr_index_lookup(&g->by_src, ipv4_value(&p->src), &len[1]);
        list[2] = addr_index_lookup(&g->by_dst, ipv4_value(&p->dst), &len[2]);
    }
    for (;;) {
        int k = -1;
        uint32_t id = UINT32_MAX;
        for (int l = 0; l < 4; l++)
            if (pos[l] < len[l] && list[l][pos[l]] < id) {
                id = list[l][pos[l]];
                k = l;
            }
        if (k < 0)
            break;
        pos[k]++;
        if (!evaluate(dt, de->sigs[id], p, f, dir, res))
            break;
    }
}

void detect_tx(struct detect_thread *dt, const struct packet *p, struct flow *f, int dir,
               const struct app_tx *tx, struct detect_result *res)
{
    static const struct sig_group keep_all; /* no port-group filter */
    memset(res, 0, offsetof(struct detect_result, alerts));
    const struct detect_engine *de = dt->de;
    if (tx == NULL || tx->proto <= APP_NONE || tx->proto >= APP_OTHER || de->nsigs == 0)
        return;
    const struct app_group *ag = &de->app[tx->proto][dir ? 1 : 0];
    if (ag->nfp == 0 && ag->rest.nnofp == 0)
        return;
    detect_flow_sync(dt, f);
    dt->mode = DETECT_TX;
    dt->tx = tx;
    dt->pl = p->data + p->payload_off;
    dt->pl_len = p->payload_len;
    dt->pl_new_off = 0;
    dt->ncand = 0;
    dt->nhits = 0;
    dt->scan_from = 0;
    dt->group = &keep_all;
    /* Candidates: each buffer's fast patterns over each of its instances. */
    for (int b = 0; b < BUF_COUNT && ag->nfp; b++) {
        if (ag->db[b] == NULL)
            continue;
        const uint8_t *d;
        uint32_t n;
        for (unsigned idx = 0; idx < 256 && app_tx_buffer(tx, b, idx, dir, &d, &n); idx++) {
            if (n == 0)
                continue;
            if (dt->ncand + ag->nfp > de->nsigs)
                compact_candidates(dt);
            hs_scan(ag->db[b], (const char *)d, n, 0, dt->hs_scratch, on_hs_match, dt);
        }
    }
    compact_candidates(dt); /* instances of a buffer report a signature more than once */
    unsigned i = 0, j = 0;
    while (i < dt->ncand || j < ag->rest.nnofp) {
        uint32_t id;
        if (j >= ag->rest.nnofp || (i < dt->ncand && dt->cand_list[i] < ag->rest.nofp[j]))
            id = dt->cand_list[i++];
        else
            id = ag->rest.nofp[j++];
        if (!evaluate(dt, de->sigs[id], p, f, dir, res))
            break;
    }
    dt->tx = NULL;
}
