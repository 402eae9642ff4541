/* TCP sessions and stream reassembly; see stream.h. */
#include "stream/stream.h"

#include <stdlib.h>
#include <string.h>

#include "output/stats.h"
#include "util/log.h"

/* A segment waiting behind a hole. */
struct seg {
    struct seg *next;
    uint32_t seq, len;
    uint8_t data[];
};

/* What one side sends. */
struct tcp_half {
    uint32_t isn;
    uint32_t next_seq;        /* the next byte its receiver expects */
    uint32_t ack;             /* the last acknowledgement it sent */
    uint32_t fin_seq;         /* sequence number of its FIN */
    uint32_t win;             /* the window it advertised, scaled */
    uint8_t wscale;
    bool wscale_seen;
    bool syn, fin, base_set, ack_seen;
    bool depth_done;          /* reassembly depth reached: no more data kept */
    bool gap_pending;         /* its receiver acknowledged bytes never seen */
    bool unbuffered;          /* bytes were delivered that the memcap kept out of buf */
    uint64_t delivered;       /* stream bytes delivered: the offset of next_seq */
    struct seg *wait;         /* in sequence order, disjoint, all after next_seq */
    uint32_t wait_bytes;
    uint8_t *buf;             /* inspection tail, then the bytes just delivered */
    uint32_t buf_len, buf_cap;
};

struct tcp_session {
    uint8_t state;            /* enum tcp_state */
    bool midstream;
    bool wscale_ok;           /* both SYNs carried window scaling */
    int8_t closer;            /* direction that sent the first FIN, -1 none */
    bool reset;               /* closed by a RST */
    int8_t policy[2];         /* overlap policy of the receiver of each direction */
    struct tcp_half h[2];     /* [FLOW_TOSERVER] the client's data, [FLOW_TOCLIENT] the server's */
};

struct stream_engine {
    struct stream_config cfg;
    struct stats *stats;
    uint64_t memuse;
    bool memcap_warned;
};

void stream_config_init(struct stream_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->enabled = true;
    cfg->midstream = false;
    cfg->memcap = STREAM_DEFAULT_MEMCAP;
    cfg->depth = STREAM_DEFAULT_DEPTH;
    cfg->inspect_window = STREAM_DEFAULT_INSPECT_WINDOW;
    cfg->max_wait = STREAM_DEFAULT_MAX_WAIT;
}

static const char *const state_names[] = {
    [TCP_NONE] = "none", [TCP_SYN_SENT] = "syn_sent", [TCP_SYN_RECV] = "syn_recv",
    [TCP_ESTABLISHED] = "established", [TCP_FIN_WAIT1] = "fin_wait1",
    [TCP_FIN_WAIT2] = "fin_wait2", [TCP_TIME_WAIT] = "time_wait",
    [TCP_CLOSE_WAIT] = "close_wait", [TCP_LAST_ACK] = "last_ack", [TCP_CLOSING] = "closing",
    [TCP_CLOSED] = "closed",
};

const char *tcp_state_name(int state)
{
    if (state < 0 || state > TCP_CLOSED)
        return "none";
    return state_names[state];
}

struct stream_engine *stream_engine_new(const struct stream_config *cfg, struct stats *stats)
{
    struct stream_engine *se = calloc(1, sizeof *se);
    if (se == NULL)
        return NULL;
    se->cfg = *cfg;
    se->stats = stats;
    return se;
}

void stream_engine_free(struct stream_engine *se)
{
    free(se);
}

uint64_t stream_engine_memuse(const struct stream_engine *se)
{
    return se->memuse;
}

static void count(struct stream_engine *se, int id, uint64_t n)
{
    if (se->stats)
        stats_add(se->stats, id, n);
}

static void mem_add(struct stream_engine *se, int64_t n)
{
    se->memuse = (uint64_t)((int64_t)se->memuse + n);
    if (se->stats)
        stats_set(se->stats, STAT_TCP_MEMUSE, se->memuse);
}

static bool mem_fits(struct stream_engine *se, uint64_t n)
{
    if (se->memuse + n <= se->cfg.memcap)
        return true;
    count(se, STAT_TCP_SEGMENT_MEMCAP_DROP, 1);
    if (!se->memcap_warned) {
        log_warn("stream: reassembly memcap (%llu bytes) reached: segments are being dropped "
                 "from reassembly (counter tcp.segment_memcap_drop)",
                 (unsigned long long)se->cfg.memcap);
        se->memcap_warned = true;
    }
    return false;
}

/* How far past the next expected byte a sender may reach: the window its
 * receiver advertised, with slack for a window update in flight (1 GB when
 * no window was seen). */
static uint64_t window_reach(const struct tcp_half *rcv)
{
    return rcv->win ? (uint64_t)rcv->win * 2 + 65536 : (1u << 30);
}

static void raise_event(struct stream_result *res, int ev)
{
    for (unsigned i = 0; i < res->nevents; i++)
        if (res->events[i] == ev)
            return;
    if (res->nevents < STREAM_MAX_EVENTS)
        res->events[res->nevents++] = (uint16_t)ev;
}

/* ---- Sessions -------------------------------------------------------------------- */

static void half_free(struct stream_engine *se, struct tcp_half *h)
{
    while (h->wait) {
        struct seg *s = h->wait;
        h->wait = s->next;
        mem_add(se, -(int64_t)(sizeof *s + s->len));
        free(s);
    }
    h->wait_bytes = 0;
    mem_add(se, -(int64_t)h->buf_cap);
    free(h->buf);
    h->buf = NULL;
    h->buf_len = h->buf_cap = 0;
}

void stream_flow_free(struct stream_engine *se, struct flow *f)
{
    struct tcp_session *ssn = f->tcp;
    if (ssn == NULL)
        return;
    half_free(se, &ssn->h[0]);
    half_free(se, &ssn->h[1]);
    mem_add(se, -(int64_t)sizeof *ssn);
    free(ssn);
    f->tcp = NULL;
}

bool stream_flow_bytes(const struct flow *f, int dir, uint64_t *n)
{
    const struct tcp_session *ssn = f->tcp;
    if (ssn == NULL || !ssn->h[dir].base_set)
        return false;
    const struct tcp_half *h = &ssn->h[dir];
    *n = h->syn ? (uint64_t)(uint32_t)(h->next_seq - h->isn) : h->delivered;
    return true;
}

int stream_flow_state(const struct flow *f)
{
    return f->tcp ? f->tcp->state : TCP_NONE;
}

static int receiver_policy(const struct stream_engine *se, const struct packet *p, bool to_dst)
{
    if (se->cfg.policies == NULL)
        return DEFRAG_POLICY_LINUX;
    return defrag_config_policy_for(se->cfg.policies, p->ip_ver, to_dst ? &p->dst : &p->src);
}

static struct tcp_session *session_new(struct stream_engine *se, struct flow *f,
                                       const struct packet *p, int dir)
{
    if (!mem_fits(se, sizeof(struct tcp_session)))
        return NULL;
    struct tcp_session *ssn = calloc(1, sizeof *ssn);
    if (ssn == NULL)
        return NULL;
    mem_add(se, sizeof *ssn);
    ssn->closer = -1;
    /* Data to the server is received by the server: its policy. */
    ssn->policy[dir] = (int8_t)receiver_policy(se, p, true);
    ssn->policy[!dir] = (int8_t)receiver_policy(se, p, false);
    f->tcp = ssn;
    count(se, STAT_TCP_SESSIONS, 1);
    return ssn;
}

static void half_syn(struct tcp_half *h, const struct packet *p)
{
    h->isn = p->tcp.seq;
    h->next_seq = p->tcp.seq + 1;
    h->syn = true;
    h->base_set = true;
    h->wscale_seen = p->tcp.has_wscale;
    h->wscale = p->tcp.has_wscale ? (p->tcp.wscale > 14 ? 14 : p->tcp.wscale) : 0;
}

/* The teardown states, from who sent a FIN and what was acknowledged. */
static void update_close_state(struct tcp_session *ssn)
{
    if (ssn->state == TCP_CLOSED || ssn->closer < 0)
        return;
    const struct tcp_half *a = &ssn->h[ssn->closer], *b = &ssn->h[!ssn->closer];
    bool a_acked = b->ack_seen && SEQ_GEQ(b->ack, a->fin_seq + 1);
    if (!b->fin) {
        ssn->state = a_acked ? TCP_FIN_WAIT2 : TCP_FIN_WAIT1;
        return;
    }
    bool b_acked = a->ack_seen && SEQ_GEQ(a->ack, b->fin_seq + 1);
    if (a_acked && b_acked)
        ssn->state = TCP_CLOSED; /* both FINs acknowledged: the close is complete */
    else if (a_acked)
        ssn->state = TCP_TIME_WAIT; /* the first closer waits for its last ACK to land */
    else
        ssn->state = TCP_CLOSING;   /* both sent a FIN before either was acknowledged */
}

/* ---- Reassembly ------------------------------------------------------------------ */

/* Keeps only the inspection window of what h->buf holds (called once per
 * packet, before new bytes are appended), and gives back memory a large
 * delivery took. */
static void buf_trim(struct stream_engine *se, struct tcp_half *h)
{
    uint32_t keep = se->cfg.inspect_window;
    if (h->buf_len > keep) {
        memmove(h->buf, h->buf + h->buf_len - keep, keep);
        h->buf_len = keep;
    }
    uint32_t want = 2 * keep + 4096;
    if (h->buf_cap > 2 * want) {
        uint8_t *nb = realloc(h->buf, want);
        if (nb != NULL) {
            mem_add(se, (int64_t)want - h->buf_cap);
            h->buf = nb;
            h->buf_cap = want;
        }
    }
}

/* Makes room for n more bytes in h->buf; false when the memcap does not allow it. */
static bool buf_reserve(struct stream_engine *se, struct tcp_half *h, uint32_t n)
{
    if (h->buf_len + n <= h->buf_cap)
        return true;
    uint32_t cap = h->buf_cap ? h->buf_cap : 1024;
    while (cap < h->buf_len + n)
        cap *= 2;
    if (!mem_fits(se, cap - h->buf_cap))
        return false;
    uint8_t *nb = realloc(h->buf, cap);
    if (nb == NULL)
        return false;
    mem_add(se, (int64_t)cap - h->buf_cap);
    h->buf = nb;
    h->buf_cap = cap;
    return true;
}

/* Stream offset (relative to next_seq) of sequence number s. */
static uint32_t rel(const struct tcp_half *h, uint32_t s)
{
    return s - h->next_seq;
}

static struct seg *seg_new(struct stream_engine *se, uint32_t seq, const uint8_t *d, uint32_t n)
{
    if (!mem_fits(se, sizeof(struct seg) + n))
        return NULL;
    struct seg *s = malloc(sizeof *s + n);
    if (s == NULL)
        return NULL;
    mem_add(se, (int64_t)(sizeof *s + n));
    s->next = NULL;
    s->seq = seq;
    s->len = n;
    memcpy(s->data, d, n);
    return s;
}

/*
 * Adds [seq, seq+n) to the waiting list. Bytes no waiting segment holds
 * become new segments; bytes one already holds go to whichever copy the
 * receiver's policy keeps.
 */
static void wait_insert(struct stream_engine *se, struct tcp_half *h, int policy, uint32_t seq,
                        const uint8_t *d, uint32_t n, struct stream_result *res)
{
    uint32_t ns = rel(h, seq), ne = ns + n;
    struct seg **pp = &h->wait;
    uint32_t at = ns; /* bytes before `at` are placed */
    while (at < ne) {
        struct seg *s = *pp;
        uint32_t os = s ? rel(h, s->seq) : UINT32_MAX, oe = s ? os + s->len : UINT32_MAX;
        if (s != NULL && oe <= at) {
            pp = &s->next;
            continue;
        }
        if (s == NULL || at < os) {
            /* a piece nobody holds: [at, min(ne, os)) */
            uint32_t end = ne < os ? ne : os;
            struct seg *ns2 = seg_new(se, h->next_seq + at, d + (at - ns), end - at);
            if (ns2 == NULL) {
                h->unbuffered = true; /* not kept: the packet is inspected on its own */
                return;
            }
            ns2->next = s;
            *pp = ns2;
            h->wait_bytes += ns2->len;
            pp = &ns2->next;
            at = end;
            continue;
        }
        /* [at, min(ne, oe)) is held by s: the policy decides */
        uint32_t end = ne < oe ? ne : oe;
        count(se, STAT_TCP_OVERLAP, 1);
        uint8_t *held = s->data + (at - os);
        const uint8_t *incoming = d + (at - ns);
        if (memcmp(held, incoming, end - at) != 0) {
            count(se, STAT_TCP_OVERLAP_DIFF_DATA, 1);
            raise_event(res, DEV_STREAM_REASSEMBLY_OVERLAP_DIFFERENT_DATA);
            if (defrag_policy_new_wins(policy, ns, ne, os, oe))
                memcpy(held, incoming, end - at);
        }
        pp = &s->next;
        at = end;
    }
}

/* Compares bytes the receiver already has with a retransmission of them. */
static void check_old(struct stream_engine *se, struct tcp_half *h, uint32_t seq,
                      const uint8_t *d, uint32_t n, struct stream_result *res)
{
    count(se, STAT_TCP_OVERLAP, 1);
    /* h->buf ends at next_seq */
    uint32_t back = h->next_seq - seq;
    if (back > h->buf_len)
        return; /* older than what is kept: nothing to compare with */
    const uint8_t *held = h->buf + h->buf_len - back;
    if (memcmp(held, d, n) != 0) {
        count(se, STAT_TCP_OVERLAP_DIFF_DATA, 1);
        raise_event(res, DEV_STREAM_REASSEMBLY_OVERLAP_DIFFERENT_DATA);
    }
}

/* Moves the waiting segments that now start at next_seq into the buffer. */
static void deliver(struct stream_engine *se, struct tcp_half *h)
{
    while (h->wait != NULL && h->wait->seq == h->next_seq) {
        struct seg *s = h->wait;
        if (!buf_reserve(se, h, s->len)) {
            /* no room to keep it: the receiver has it all the same */
            h->buf_len = 0;
            h->unbuffered = true;
        } else {
            memcpy(h->buf + h->buf_len, s->data, s->len);
            h->buf_len += s->len;
        }
        h->next_seq += s->len;
        h->delivered += s->len;
        h->wait = s->next;
        h->wait_bytes -= s->len;
        mem_add(se, -(int64_t)(sizeof *s + s->len));
        free(s);
    }
}

/* Gives up on the hole in front of the first waiting segment. */
static void skip_gap(struct stream_engine *se, struct tcp_half *h, struct stream_result *res)
{
    if (h->wait == NULL)
        return;
    uint32_t gap = h->wait->seq - h->next_seq;
    h->next_seq = h->wait->seq;
    h->delivered += gap;
    h->buf_len = 0; /* nothing straddles a hole */
    h->gap_pending = false;
    res->gap = true;
    count(se, STAT_TCP_REASSEMBLY_GAP, 1);
    raise_event(res, DEV_STREAM_REASSEMBLY_SEQ_GAP);
}

static void reassemble(struct stream_engine *se, struct tcp_session *ssn, int dir,
                       const struct packet *p, struct stream_result *res)
{
    struct tcp_half *h = &ssn->h[dir];
    const struct tcp_half *rcv = &ssn->h[!dir];
    uint32_t seq = p->tcp.seq + ((p->tcp.flags & TCP_SYN) ? 1 : 0);
    const uint8_t *d = p->data + p->payload_off;
    uint32_t n = p->payload_len;
    if (!h->base_set || h->depth_done || n == 0)
        return;
    /* Out of the receiver's window. */
    if (SEQ_GT(seq, h->next_seq) && (uint64_t)(seq - h->next_seq) > window_reach(rcv)) {
        raise_event(res, DEV_STREAM_EST_PACKET_OUT_OF_WINDOW);
        return;
    }
    /* A keep-alive probe: one byte of junk just before next_seq. */
    if (n == 1 && seq == h->next_seq - 1 && !(p->tcp.flags & (TCP_SYN | TCP_FIN | TCP_RST))) {
        count(se, STAT_TCP_KEEPALIVE, 1);
        return;
    }
    if (SEQ_LT(seq, h->next_seq)) {
        uint32_t old = h->next_seq - seq;
        if (old > (1u << 30)) {
            raise_event(res, DEV_STREAM_EST_PACKET_OUT_OF_WINDOW);
            return;
        }
        uint32_t dup = old < n ? old : n;
        check_old(se, h, seq, d, dup, res);
        if (old >= n) {
            count(se, STAT_TCP_RETRANSMISSIONS, 1);
            return;
        }
        seq += old;
        d += old;
        n -= old;
    }
    /* Depth: stream offset of seq is delivered + (seq - next_seq). */
    if (se->cfg.depth) {
        uint64_t off = h->delivered + (seq - h->next_seq);
        if (off >= se->cfg.depth) {
            if (!h->depth_done)
                count(se, STAT_TCP_STREAM_DEPTH_REACHED, 1);
            h->depth_done = true;
            half_free(se, h);
            return;
        }
        if (off + n > se->cfg.depth)
            n = (uint32_t)(se->cfg.depth - off);
    }
    if (seq != h->next_seq || h->wait != NULL) {
        if (seq != h->next_seq)
            count(se, STAT_TCP_OUT_OF_ORDER, 1);
        wait_insert(se, h, ssn->policy[dir], seq, d, n, res);
    } else {
        /* the common case: in order, nothing waiting */
        if (!buf_reserve(se, h, n)) {
            h->buf_len = 0;
            h->unbuffered = true;
        } else {
            memcpy(h->buf + h->buf_len, d, n);
            h->buf_len += n;
        }
        h->next_seq += n;
        h->delivered += n;
    }
    uint64_t before = h->delivered;
    deliver(se, h);
    /* A hole its receiver acknowledged past, or too much waiting behind it.
     * Not when this packet delivered bytes: they and the bytes after the
     * hole cannot share one chunk, so the skip waits for the next packet. */
    if (h->wait != NULL && h->delivered == before &&
        (h->gap_pending || h->wait_bytes > se->cfg.max_wait)) {
        skip_gap(se, h, res);
        deliver(se, h);
    }
    if (se->cfg.depth && h->delivered >= se->cfg.depth && !h->depth_done) {
        count(se, STAT_TCP_STREAM_DEPTH_REACHED, 1);
        h->depth_done = true;
    }
}

/* ---- The state machine ----------------------------------------------------------- */

/* A packet before any session: starts one, or not. */
static struct tcp_session *session_start(struct stream_engine *se, struct flow *f,
                                         const struct packet *p, int dir,
                                         struct stream_result *res)
{
    uint8_t fl = p->tcp.flags;
    if (fl & TCP_RST) {
        raise_event(res, DEV_STREAM_RST_BUT_NO_SESSION);
        return NULL;
    }
    if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        struct tcp_session *ssn = session_new(se, f, p, dir);
        if (ssn == NULL)
            return NULL;
        half_syn(&ssn->h[dir], p);
        ssn->state = TCP_SYN_SENT;
        return ssn;
    }
    if (!se->cfg.midstream) {
        if (fl & TCP_FIN)
            raise_event(res, DEV_STREAM_FIN_BUT_NO_SESSION);
        count(se, STAT_TCP_NO_SESSION, 1);
        return NULL;
    }
    /* Midstream: take the sequence numbers as they come. */
    struct tcp_session *ssn = session_new(se, f, p, dir);
    if (ssn == NULL)
        return NULL;
    ssn->midstream = true;
    count(se, STAT_TCP_MIDSTREAM_PICKUPS, 1);
    struct tcp_half *h = &ssn->h[dir], *o = &ssn->h[!dir];
    if (fl & TCP_SYN) { /* a SYN/ACK */
        half_syn(h, p);
        ssn->state = TCP_SYN_RECV;
    } else {
        h->next_seq = p->tcp.seq;
        h->base_set = true;
        ssn->state = TCP_ESTABLISHED;
    }
    if (fl & TCP_ACK) {
        o->next_seq = p->tcp.ack;
        o->base_set = true;
    }
    return ssn;
}

void stream_packet(struct stream_engine *se, struct flow *f, const struct packet *p, int dir,
                   struct stream_result *res)
{
    memset(res, 0, sizeof *res);
    if (!se->cfg.enabled || p->proto != 6 || f == NULL)
        return;
    uint8_t fl = p->tcp.flags;
    if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN)
        count(se, STAT_TCP_SYN, 1);
    else if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
        count(se, STAT_TCP_SYNACK, 1);
    if (fl & TCP_RST)
        count(se, STAT_TCP_RST, 1);

    struct tcp_session *ssn = f->tcp;
    if (ssn == NULL) {
        ssn = session_start(se, f, p, dir, res);
        if (ssn == NULL)
            return;
        if (ssn->state == TCP_SYN_SENT)
            goto out; /* the SYN itself */
    } else if (ssn->state == TCP_CLOSED) {
        /* After a complete close the receiver takes no more data: nothing
         * is reassembled or inspected as payload. After a reset, packets
         * are inspected one by one: a reset the host refused must not
         * blind the sensor to the rest of the session. */
        res->tracked = !ssn->reset && !ssn->h[dir].depth_done;
        return;
    }
    struct tcp_half *h = &ssn->h[dir], *o = &ssn->h[!dir];

    switch (ssn->state) {
    case TCP_SYN_SENT:
        if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
            if (h->syn) {
                if (p->tcp.seq != h->isn) {
                    raise_event(res, DEV_STREAM_3WHS_SYN_RESEND_DIFF_SEQ);
                    half_syn(h, p);
                }
            } else { /* simultaneous open: the other side's SYN */
                half_syn(h, p);
                ssn->state = TCP_SYN_RECV;
            }
            goto out;
        }
        if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
            if (h->syn) { /* from the side that sent the SYN */
                raise_event(res, DEV_STREAM_3WHS_SYNACK_IN_WRONG_DIRECTION);
                goto out;
            }
            if (p->tcp.ack != o->next_seq) {
                raise_event(res, DEV_STREAM_3WHS_SYNACK_WITH_WRONG_ACK);
                goto out;
            }
            half_syn(h, p);
            h->ack = p->tcp.ack;
            h->ack_seen = true;
            h->win = p->tcp.win;
            ssn->wscale_ok = h->wscale_seen && o->wscale_seen;
            ssn->state = TCP_SYN_RECV;
            goto out;
        }
        if (fl & TCP_RST) {
            ssn->state = TCP_CLOSED;
            ssn->reset = true;
            goto out;
        }
        if ((fl & TCP_ACK) && !h->syn) {
            /* the SYN's receiver acknowledges without a SYN/ACK */
            raise_event(res, DEV_STREAM_3WHS_ACK_IN_WRONG_DIR);
            goto out;
        }
        if (fl & TCP_ACK) {
            /* The SYN's sender goes on as if a SYN/ACK came: we missed it
             * (or only see this side). Take the other side's sequence
             * number from the acknowledgement. */
            o->next_seq = p->tcp.ack;
            o->base_set = true;
            ssn->state = TCP_ESTABLISHED;
            break;
        }
        goto out;
    case TCP_SYN_RECV:
        if (fl & TCP_RST) {
            ssn->state = TCP_CLOSED;
            ssn->reset = true;
            goto out;
        }
        if (fl & TCP_SYN) {
            if ((fl & TCP_ACK) && h->syn && p->tcp.seq != h->isn)
                raise_event(res, DEV_STREAM_3WHS_SYN_RESEND_DIFF_SEQ);
            goto out; /* a retransmitted SYN or SYN/ACK */
        }
        if (!(fl & TCP_ACK))
            goto out;
        if (!o->base_set || p->tcp.ack != o->next_seq || (h->base_set && p->tcp.seq != h->next_seq)) {
            raise_event(res, DEV_STREAM_3WHS_WRONG_SEQ_WRONG_ACK);
            goto out;
        }
        ssn->state = TCP_ESTABLISHED;
        break;
    default:
        break;
    }

    /* Established, or tearing down. */
    if (fl & TCP_RST) {
        /* In the receiver's window, or at most 64 KB behind the next
         * expected byte. */
        int32_t d = (int32_t)(p->tcp.seq - h->next_seq);
        if (!h->base_set || (d >= -65536 && d <= (int64_t)window_reach(o))) {
            ssn->state = TCP_CLOSED;
            ssn->reset = true;
        } else {
            raise_event(res, DEV_STREAM_SUSPECTED_RST_INJECT);
        }
        goto out;
    }
    if (fl & TCP_ACK) {
        /* Its receiver has bytes we never saw: the hole will not fill. */
        if (o->base_set && o->wait != NULL && SEQ_GT(p->tcp.ack, o->next_seq))
            o->gap_pending = true;
        h->ack = p->tcp.ack;
        h->ack_seen = true;
        h->win = (uint32_t)p->tcp.win << (ssn->wscale_ok ? h->wscale : 0);
    }
    if (!h->base_set) { /* midstream: the first packet this way */
        h->next_seq = p->tcp.seq;
        h->base_set = true;
    }
    if (p->payload_len > 0) {
        buf_trim(se, h);
        uint32_t before = h->buf_len;
        uint64_t delivered = h->delivered;
        reassemble(se, ssn, dir, p, res);
        if (h->delivered > delivered && h->buf_len > 0) {
            /* new bytes: after the kept tail (which buf_reserve may have cut) */
            uint64_t fresh = h->delivered - delivered;
            res->chunk = h->buf;
            res->len = h->buf_len;
            res->chunk_off = h->delivered - h->buf_len;
            res->new_off = fresh >= h->buf_len ? 0 : h->buf_len - (uint32_t)fresh;
        }
        (void)before;
    }
    if ((fl & TCP_FIN) && !h->fin) {
        h->fin = true;
        h->fin_seq = p->tcp.seq + p->payload_len;
        if (ssn->closer < 0)
            ssn->closer = (int8_t)dir;
    }
    update_close_state(ssn);
out:
    /* Before the handshake completes nothing is reassembled: a packet's
     * own payload is inspected. */
    res->tracked = ssn->state >= TCP_ESTABLISHED && !ssn->reset;
    if (ssn->h[dir].depth_done && res->len == 0)
        res->tracked = false;
    if (ssn->h[dir].unbuffered) {
        /* Under the memcap the stream cannot be kept: inspect the packet
         * on its own rather than not at all. */
        ssn->h[dir].unbuffered = false;
        res->tracked = false;
        res->len = 0;
    }
}
