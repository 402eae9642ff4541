/*
 * The capture stage: sources of packets. Offline: pcap and pcapng files,
 * one file or every file of a directory in name order.
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

/*
 * Live capture on iface with libpcap (promiscuous, the whole packet), with
 * an optional BPF filter, until *stop is set. Returns CAPTURE_FATAL when
 * the interface or the filter cannot be used (the reason is logged).
 */
enum capture_status capture_live_run(const char *iface, const char *bpf, capture_cb cb,
                                     void *ctx, struct capture_progress *prog,
                                     volatile sig_atomic_t *stop,
                                     struct capture_live_stats *ks);

/* Reads only (no callback work): the baseline for benchmarks. */
enum capture_status capture_pcap_count(const char *path, struct capture_progress *prog);

#endif
