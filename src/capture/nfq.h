/*
 * Inline capture on NFQUEUE (libnetfilter_queue): the kernel hands each
 * packet of a queue to caracal, which must give every one a verdict.
 */
#ifndef CARACAL_CAPTURE_NFQ_H
#define CARACAL_CAPTURE_NFQ_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"

enum verdict { VERDICT_ACCEPT, VERDICT_DROP, VERDICT_REJECT };

/* What an accept verdict does (nfq.mode), as in Suricata:
 *   accept  the packet goes on (NF_ACCEPT);
 *   repeat  it is sent through the hook again (NF_REPEAT) with repeat_mark
 *           set under repeat_mask (its other mark bits kept), so a rule
 *           "-m mark ! --mark M/K" lets it pass the second time (other
 *           rules of the chain then apply);
 *   route   it is handed to queue route_queue (NF_QUEUE), e.g. another program. */
enum nfq_mode { NFQ_MODE_ACCEPT, NFQ_MODE_REPEAT, NFQ_MODE_ROUTE };

struct nfq_config {
    uint16_t queue;          /* queue number (-q N) */
    uint32_t maxlen;         /* packets the kernel queues for us at most */
    uint32_t snaplen;        /* bytes of each packet copied to us */
    bool fail_open;          /* the kernel accepts packets when the queue is full */
    int mode;                /* enum nfq_mode */
    uint32_t repeat_mark, repeat_mask;
    uint16_t route_queue;
    uint32_t batchcount;     /* accept verdicts given together, at most (1: one by one) */
};

#define NFQ_DEFAULT_MAXLEN 4096
#define NFQ_DEFAULT_SNAPLEN 65535

#define NFQ_LAT_BUCKETS 64
struct nfq_counters {
    uint64_t pkts, accepted, dropped;
    uint64_t verdict_errors;   /* the kernel refused a verdict */
    uint64_t recv_overruns;    /* ENOBUFS: the kernel could not hand us packets */
    /* Time from a packet's arrival in caracal to its verdict, in buckets
     * of 2^(i/4) microseconds (nfq_latency_quantile reads them). */
    uint64_t lat[NFQ_LAT_BUCKETS];
};

/* The q-quantile (0..1) of the verdict latency, in microseconds. */
double nfq_latency_quantile(const struct nfq_counters *c, double q);

/* Called for each packet (raw IPv4/IPv6, LINK_RAW); returns an enum verdict
 * (REJECT is handed to the kernel as a drop). */
typedef int (*nfq_packet_cb)(void *ctx, const struct capture_pkt *cp);

/* Whether this build has NFQUEUE support. */
bool capture_nfq_available(void);

/*
 * Binds the queue and gives every packet the callback's verdict until
 * *stop is set; then has the kernel queue nothing more (length 0,
 * fail-open), accepts what is still queued, and unbinds the empty queue.
 * Returns 0, or -1 when the queue cannot be opened (the reason is logged).
 */
int capture_nfq_run(const struct nfq_config *cfg, nfq_packet_cb cb, void *ctx,
                    volatile sig_atomic_t *stop, struct nfq_counters *counters);

#endif
