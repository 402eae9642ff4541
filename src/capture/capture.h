/*
 * The capture stage: sources of packets. Offline: pcap and pcapng files,
 * one file or every file of a directory in name order. Live: an interface
 * with libpcap (here), AF_PACKET (afpacket.h) or NFQUEUE (nfq.h).
 */
#ifndef CARACAL_CAPTURE_CAPTURE_H
#define CARACAL_CAPTURE_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

struct capture_pkt {
    struct timeval ts;
    uint32_t caplen, wirelen;
    int linktype;
    uint64_t cnt;          /* 1-based packet number over the whole run */
    bool first_in_file;    /* the first packet of a file (of a directory) */
    const uint8_t *data;   /* valid until the callback returns */
};

/* Called for each packet; return non-zero to stop reading. */
typedef int (*capture_cb)(void *ctx, const struct capture_pkt *cp);

/* Shared with the thread that draws progress; updated with atomics. */
struct capture_progress {
    unsigned files_total;
    unsigned files_done;
    uint64_t pkts;
    uint64_t bytes;
};

enum capture_status {
    CAPTURE_OK = 0,
    CAPTURE_INPUT_ERROR = 1, /* some file was unreadable, truncated or unsupported */
    CAPTURE_FATAL = 2,       /* the path itself could not be read */
};

/*
 * Reads path (a file or a directory) and calls cb for every packet.
 * Errors are reported on stderr with the file name; reading continues with
 * the next file. stop is polled between packets.
 */
enum capture_status capture_pcap_run(const char *path, capture_cb cb, void *ctx,
                                     struct capture_progress *prog,
                                     volatile sig_atomic_t *stop);

/* Kernel counters of a live capture (pcap_stats), at its end. */
struct capture_live_stats {
    uint64_t packets, drops, ifdrops;
};

/* Bytes of a packet a live capture keeps at most (libpcap's largest). */
#define CAPTURE_SNAPLEN 262144

/*
 * A BPF filter in tcpdump syntax, and where it came from for messages:
 * "command line" or "FILE:LINE: af-packet.bpf-filter". A NULL or blank
 * expression means no filter.
 */
struct capture_filter {
    const char *expr;
    const char *origin;
};

/* True when f holds an expression that is not blank. */
bool capture_filter_present(const struct capture_filter *f);

struct capture_live; /* an open libpcap capture, opaque */

/*
 * Opens iface with libpcap (promiscuous, the whole packet) and sets the
 * filter. NULL when the interface, its link type or the filter cannot be
 * used (logged; a bad filter with its origin and libpcap's reason).
 */
struct capture_live *capture_live_open(const char *iface, const struct capture_filter *filter);
/* Called by live captures, with the packet callback's ctx, when no packet
 * is waiting (at least every 100 ms while the line is quiet). */
typedef void (*capture_idle_cb)(void *ctx);

/* Reads packets until *stop; idle may be NULL. */
enum capture_status capture_live_run(struct capture_live *cl, capture_cb cb,
                                     capture_idle_cb idle, void *ctx,
                                     struct capture_progress *prog,
                                     volatile sig_atomic_t *stop);
/* Closes the capture; its kernel counters go to ks first when ks is not NULL. */
void capture_live_close(struct capture_live *cl, struct capture_live_stats *ks);

/* Reads only (no callback work): the baseline for benchmarks. */
enum capture_status capture_pcap_count(const char *path, struct capture_progress *prog);

#endif
