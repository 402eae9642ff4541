/*
 * Live capture with AF_PACKET TPACKET_V3 rings and a fanout group: each
 * worker thread has its own socket and ring, and the kernel spreads the
 * packets over them by flow hash (both directions of a flow to the same
 * socket; fragments defragmented first), as Suricata's af-packet does.
 * An optional BPF filter is attached to every socket before it is bound,
 * so no packet reaches a ring unfiltered.
 */
#ifndef CARACAL_CAPTURE_AFPACKET_H
#define CARACAL_CAPTURE_AFPACKET_H

#include <signal.h>
#include <stdint.h>

#include "capture/capture.h"

struct afp_socket; /* one member of the fanout group, opaque */
struct afp_filter; /* a compiled BPF filter, opaque */

/*
 * Compiles f for Ethernet frames, the link type of the sockets. 0 with
 * *out NULL when f holds no filter; -1 when it does not compile (logged
 * with its origin and libpcap's reason).
 */
int afp_filter_compile(const struct capture_filter *f, struct afp_filter **out);
void afp_filter_free(struct afp_filter *flt);

/* Opens a member of fanout group `group` on iface, with filter when not
 * NULL; NULL on error (logged). */
struct afp_socket *afp_open(const char *iface, uint16_t group, uint32_t block_size,
                            uint32_t blocks, const struct afp_filter *filter);
/* Reads packets until *stop, calling cb for each, and idle (when not NULL)
 * whenever none is waiting; then returns. */
void afp_run(struct afp_socket *s, capture_cb cb, capture_idle_cb idle, void *ctx,
             volatile sig_atomic_t *stop);
/* Kernel counters of this socket (packets, drops) since the last call. */
void afp_stats(struct afp_socket *s, struct capture_live_stats *ks);
void afp_close(struct afp_socket *s);

#endif
