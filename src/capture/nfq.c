/* NFQUEUE capture; see nfq.h. */
#include "capture/nfq.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "decode/decode.h"
#include "util/log.h"

/* Bytes of one receive: a whole packet (snaplen at most 65535) and its netlink headers. */
#define NFQ_RECV_BUF (65536 + 4096)

struct nfq_run {
    const struct nfq_config *cfg;
    const struct nfq_callbacks *cb;
    struct nfq_counters *c;
    bool draining;          /* stopping: accept without inspection */
    /* Batched accept verdicts (nfq.batchcount): the highest id not yet
     * given, and when each held packet arrived (its latency ends at the flush). */
    uint32_t batch_id;
    uint32_t batched;
    double batch_t0[1000];
    double batch_k0[1000];  /* the same from the kernel's receive time; 0: none */
};

/* Gives the accept verdicts held back for a batch. */
static double now_us(void);

/* A packet's latency ends at t, as its verdict is handed to the kernel. The
 * verdict call itself is not counted: the kernel sends the packet on within
 * it, and may run other pending network work there too. t0: when caracal
 * read it; k0: the kernel's receive time, 0 when unknown. */
static void count_latency(struct nfq_counters *c, double t, double t0, double k0)
{
    nfq_latency_add(c->lat, t - t0);
    if (k0 > 0)
        nfq_latency_add(c->lat_kernel, t - k0);
}

static void batch_flush(struct nfq_q_handle *qh, struct nfq_run *run)
{
    if (run->batched == 0)
        return;
    double t = now_us();
    for (uint32_t i = 0; i < run->batched; i++)
        count_latency(run->c, t, run->batch_t0[i], run->batch_k0[i]);
    if (nfq_set_verdict_batch(qh, run->batch_id, NF_ACCEPT) < 0)
        run->c->verdict_errors++;
    run->batched = 0;
}

/* The accept verdict of the configured mode. mark is the packet's own:
 * repeat changes only the bits under repeat_mask, so marks other rules
 * rely on survive the second pass. */
static int accept_verdict(const struct nfq_config *cfg, struct nfq_q_handle *qh, uint32_t id,
                          uint32_t mark)
{
    switch (cfg->mode) {
    case NFQ_MODE_REPEAT:
        mark = (mark & ~cfg->repeat_mask) | (cfg->repeat_mark & cfg->repeat_mask);
        return nfq_set_verdict2(qh, id, NF_REPEAT, mark, 0, NULL);
    case NFQ_MODE_ROUTE:
        return nfq_set_verdict(qh, id, NF_QUEUE_NR(cfg->route_queue), 0, NULL);
    default:
        return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
    }
}

bool capture_nfq_available(void)
{
    return true;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

void nfq_latency_add(uint64_t *lat, double us)
{
    int b = us <= 1 ? 0 : (int)(NFQ_LAT_PER_OCTAVE * log2(us));
    if (b >= NFQ_LAT_BUCKETS)
        b = NFQ_LAT_BUCKETS - 1;
    lat[b]++;
}

double nfq_latency_quantile(const uint64_t *lat, double q)
{
    uint64_t total = 0;
    for (int i = 0; i < NFQ_LAT_BUCKETS; i++)
        total += lat[i];
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total + 0.5), seen = 0;
    for (int i = 0; i < NFQ_LAT_BUCKETS; i++) {
        seen += lat[i];
        if (seen >= want && seen > 0)
            return pow(2, (i + 1) / (double)NFQ_LAT_PER_OCTAVE); /* the bucket's upper edge */
    }
    return pow(2, NFQ_LAT_BUCKETS / (double)NFQ_LAT_PER_OCTAVE);
}

/* What on_packet returns: go on with the next message. (0 would tell
 * libnfnetlink to stop reading, and a queue setting changed while packets
 * arrive would then return before the kernel's answer.) */
#define NFQ_CB_NEXT 1

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa,
                     void *data)
{
    (void)msg;
    double t0 = now_us();
    double k0 = 0; /* t0 moved back to the kernel's receive time, when known */
    struct nfq_run *run = data;
    struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
    if (ph == NULL)
        return NFQ_CB_NEXT;
    uint32_t id = ntohl(ph->packet_id);
    unsigned char *payload = NULL;
    int len = nfq_get_payload(nfa, &payload);
    run->c->pkts++;
    int verdict = VERDICT_ACCEPT;
    if (!run->draining && len > 0 && payload != NULL) {
        struct capture_pkt cp;
        memset(&cp, 0, sizeof cp);
        struct timeval tv, wall;
        gettimeofday(&wall, NULL);
        if (nfq_get_timestamp(nfa, &tv) == 0 && tv.tv_sec != 0) {
            double waited = (double)(wall.tv_sec - tv.tv_sec) * 1e6 + (wall.tv_usec - tv.tv_usec);
            if (waited >= 0 && waited < 60e6)
                k0 = t0 - waited;
        } else {
            tv = wall;
        }
        cp.ts = tv;
        cp.caplen = cp.wirelen = (uint32_t)len;
        cp.linktype = LINK_RAW;
        cp.cnt = run->c->pkts;
        cp.data = payload;
        verdict = run->cb->packet(run->cb->ctx, &cp);
    }
    int rc;
    if (verdict == VERDICT_ACCEPT) {
        run->c->accepted++;
        if (run->cfg->batchcount > 1 && run->cfg->mode == NFQ_MODE_ACCEPT) {
            /* held back: one message gives every id up to the last one */
            run->batch_id = id;
            run->batch_t0[run->batched] = t0;
            run->batch_k0[run->batched] = k0;
            if (++run->batched >= run->cfg->batchcount)
                batch_flush(qh, run);
            if (run->cb->after)
                run->cb->after(run->cb->ctx);
            return NFQ_CB_NEXT; /* its latency is counted at the flush */
        }
        count_latency(run->c, now_us(), t0, k0);
        rc = accept_verdict(run->cfg, qh, id, nfq_get_nfmark(nfa));
    } else {
        run->c->dropped++;
        batch_flush(qh, run); /* the accepts before it go first */
        count_latency(run->c, now_us(), t0, k0);
        rc = nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
    }
    if (rc < 0)
        run->c->verdict_errors++;
    if (run->cb->after)
        run->cb->after(run->cb->ctx);
    return NFQ_CB_NEXT;
}

/*
 * Stopping without losing a packet. The kernel drops whatever is still
 * queued when a queue is unbound, and under load the queue is never empty
 * for long. So the queue is sealed first: it is made to fail open, then
 * its length is set to 0, so that the kernel accepts new packets at once,
 * uninspected, as the NFQUEUE rule's --queue-bypass accepts them once the
 * queue is gone. Two settings, the length sent once the kernel has accepted
 * fail-open: within one message the kernel applies the length before the
 * flags, and a packet arriving between the two would meet a full queue
 * that does not fail open, and be dropped (and a kernel that refuses
 * fail-open would be left with a queue of length 0). The kernel applies
 * each setting before it answers, and the answer to the length comes
 * behind every packet queued before it: once it is read,
 * every queued packet has been read, and after its verdict the queue is
 * empty. The answers are told from libnfnetlink's messages (sequence 0) by
 * their own sequence numbers.
 */
#define NFQ_SEAL_OPEN_SEQ 0x5ea0u  /* fail open */
#define NFQ_SEAL_SEQ 0x5ea1u       /* length 0: its answer ends the drain */

/* Sends one queue setting of caracal's own, answered under seq. */
static bool seal_setting(int fd, uint16_t queue, uint32_t seq, bool fail_open)
{
    union {
        struct nlmsghdr nh;
        char b[NLMSG_SPACE(sizeof(struct nfgenmsg)) + 3 * NFA_SPACE(sizeof(uint32_t))];
    } m;
    memset(&m, 0, sizeof m);
    m.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct nfgenmsg));
    m.nh.nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG;
    m.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    m.nh.nlmsg_seq = seq;
    struct nfgenmsg *g = NLMSG_DATA(&m.nh);
    g->nfgen_family = AF_UNSPEC;
    g->version = NFNETLINK_V0;
    g->res_id = htons(queue);
    if (fail_open) {
        nfnl_addattr32(&m.nh, sizeof m, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
        nfnl_addattr32(&m.nh, sizeof m, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
    } else {
        nfnl_addattr32(&m.nh, sizeof m, NFQA_CFG_QUEUE_MAXLEN, htonl(0));
    }
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    return sendto(fd, &m, m.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) ==
           (ssize_t)m.nh.nlmsg_len;
}

/* Whether buf is the kernel's answer to a seal setting: 1 sealed (the
 * length is 0), 2 the fail-open one, -1 refused (errno set), 0 another
 * message. */
static int seal_answer(const char *buf, ssize_t len)
{
    const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
    if (len < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || nh->nlmsg_type != NLMSG_ERROR ||
        (nh->nlmsg_seq != NFQ_SEAL_SEQ && nh->nlmsg_seq != NFQ_SEAL_OPEN_SEQ))
        return 0;
    const struct nlmsgerr *e = NLMSG_DATA(nh);
    if (e->error != 0) {
        errno = -e->error;
        return -1;
    }
    return nh->nlmsg_seq == NFQ_SEAL_SEQ ? 1 : 2;
}

/* Without a seal (refused, or not sent): the queue is read until quiet. */
static void seal_failed(int fd, uint16_t queue)
{
    log_warn("nfqueue: queue %u: cannot stop the kernel queueing (%s); packets that arrive "
             "while caracal unbinds may be dropped", queue, strerror(errno));
    struct timeval quick = { .tv_sec = 0, .tv_usec = 50000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &quick, sizeof quick);
}

int capture_nfq_run(const struct nfq_config *cfg, const struct nfq_callbacks *cb,
                    volatile sig_atomic_t *stop, struct nfq_counters *counters)
{
    memset(counters, 0, sizeof *counters);
    struct nfq_run run = { .cfg = cfg, .cb = cb, .c = counters };
    struct nfq_handle *h = nfq_open();
    if (h == NULL) {
        log_error("nfqueue: cannot open a netlink handle: %s (root or CAP_NET_ADMIN needed)",
                  strerror(errno));
        return -1;
    }
    /* libnfnetlink reads packets too while it waits for the answer to a
     * setting: with its default 8 KB buffer a larger one would be cut. */
    nfnl_set_rcv_buffer_size(nfq_nfnlh(h), NFQ_RECV_BUF);
    /* Older kernels want the protocol families bound explicitly. */
    nfq_unbind_pf(h, AF_INET);
    nfq_bind_pf(h, AF_INET);
    nfq_unbind_pf(h, AF_INET6);
    nfq_bind_pf(h, AF_INET6);
    struct nfq_q_handle *qh = nfq_create_queue(h, cfg->queue, on_packet, &run);
    if (qh == NULL) {
        log_error("nfqueue: cannot bind queue %u: %s (another program on it?)", cfg->queue,
                  strerror(errno));
        nfq_close(h);
        return -1;
    }
    if (nfq_set_mode(qh, NFQNL_COPY_PACKET, cfg->snaplen) < 0) {
        log_error("nfqueue: queue %u: cannot set copy mode", cfg->queue);
        nfq_destroy_queue(qh);
        nfq_close(h);
        return -1;
    }
    if (cfg->maxlen && nfq_set_queue_maxlen(qh, cfg->maxlen) < 0)
        log_warn("nfqueue: queue %u: cannot set the queue length to %u", cfg->queue,
                 cfg->maxlen);
    if (cfg->fail_open &&
        nfq_set_queue_flags(qh, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN) < 0)
        log_warn("nfqueue: queue %u: this kernel does not support fail-open", cfg->queue);
    int fd = nfq_fd(h);
    /* Wake up regularly to notice *stop. */
    struct timeval tmo = { .tv_sec = 0, .tv_usec = 200000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo);
    int rcvbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    /* Asks the kernel to stamp packets as they are received, so that the
     * latency account can start there and include the wait in the queue
     * (the stamp reaches us as the packet's NFQA_TIMESTAMP). */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof one);
    /* One buffer per queue: each thread reads its own. */
    char *buf = malloc(NFQ_RECV_BUF);
    if (buf == NULL) {
        log_error("nfqueue: queue %u: out of memory", cfg->queue);
        nfq_destroy_queue(qh);
        nfq_close(h);
        return -1;
    }
    log_info("nfqueue: queue %u ready", cfg->queue);

    bool sealing = false; /* stopping: the seal's answer is awaited */
    for (;;) {
        if (*stop && !run.draining) {
            /* Every packet gets a verdict: what is still queued is accepted. */
            run.draining = true;
            sealing = seal_setting(fd, cfg->queue, NFQ_SEAL_OPEN_SEQ, true);
            if (!sealing)
                seal_failed(fd, cfg->queue);
        }
        ssize_t rv = recv(fd, buf, NFQ_RECV_BUF, MSG_DONTWAIT);
        if (rv < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* nothing more for now: a held batch must not wait for traffic */
            batch_flush(qh, &run);
            if (cb->idle)
                cb->idle(cb->ctx);
            rv = recv(fd, buf, NFQ_RECV_BUF, 0);
        }
        if (rv < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                if (run.draining)
                    break; /* nothing more queued */
                if (cb->idle)
                    cb->idle(cb->ctx);
                continue;
            }
            if (errno == ENOBUFS) {
                counters->recv_overruns++;
                continue;
            }
            log_error("nfqueue: queue %u: recv: %s", cfg->queue, strerror(errno));
            break;
        }
        if (sealing) {
            int sealed = seal_answer(buf, rv);
            if (sealed == 1)
                break; /* every queued packet was read: the queue is empty */
            if (sealed == 2) { /* fails open now: the length can go to 0 */
                if (!seal_setting(fd, cfg->queue, NFQ_SEAL_SEQ, false)) {
                    sealing = false;
                    seal_failed(fd, cfg->queue);
                }
                continue;
            }
            if (sealed < 0) {
                sealing = false;
                seal_failed(fd, cfg->queue);
                continue;
            }
        }
        nfq_handle_packet(h, buf, (int)rv);
    }
    batch_flush(qh, &run);
    free(buf);
    nfq_destroy_queue(qh);
    nfq_close(h);
    return 0;
}
