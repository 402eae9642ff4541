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

/* Latency histograms: 8 buckets per doubling (each 9 % wide), from 1 us
 * up to 2^16 us (65 ms; slower counts in the last bucket). */
#define NFQ_LAT_PER_OCTAVE 8
#define NFQ_LAT_BUCKETS (16 * NFQ_LAT_PER_OCTAVE)
struct nfq_counters {
    uint64_t pkts, accepted, dropped;
    uint64_t verdict_errors;   /* the kernel refused a verdict */
    uint64_t recv_overruns;    /* ENOBUFS: the kernel could not hand us packets */
    /* Verdict latency, in buckets of 2^(i/8) microseconds
     * (nfq_latency_add, nfq_latency_quantile): from when caracal read the packet
     * to when its verdict was handed to the kernel; and from the kernel's
     * receive timestamp of the packet (so with the wait in the queue), for
     * the packets that carry one. */
    uint64_t lat[NFQ_LAT_BUCKETS];
    uint64_t lat_kernel[NFQ_LAT_BUCKETS];
};

/* Counts a latency of us microseconds in the histogram lat. */
void nfq_latency_add(uint64_t *lat, double us);
/* The q-quantile (0..1) of a latency histogram, in microseconds: the upper
 * edge of the bucket that holds it (0: empty histogram). */
double nfq_latency_quantile(const uint64_t *lat, double q);

/* What capture_nfq_run calls, with ctx:
 *   packet  for each packet (raw IPv4/IPv6, LINK_RAW): its enum verdict
 *           (REJECT is handed to the kernel as a drop);
 *   after   once that verdict is given (or held for a batch): the work
 *           that was left until then; may be NULL;
 *   idle    when no packet is waiting, and at least every 200 ms; may be NULL. */
typedef int (*nfq_packet_cb)(void *ctx, const struct capture_pkt *cp);
struct nfq_callbacks {
    nfq_packet_cb packet;
    void (*after)(void *ctx);
    void (*idle)(void *ctx);
    void *ctx;
};

/* Whether this build has NFQUEUE support. */
bool capture_nfq_available(void);

/*
 * Binds the queue and gives every packet the callback's verdict until
 * *stop is set; then has the kernel queue nothing more (length 0,
 * fail-open), accepts what is still queued, and unbinds the empty queue.
 * Returns 0, or -1 when the queue cannot be opened (the reason is logged).
 */
int capture_nfq_run(const struct nfq_config *cfg, const struct nfq_callbacks *cb,
                    volatile sig_atomic_t *stop, struct nfq_counters *counters);

#endif
