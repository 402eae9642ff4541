/*
 * The TCP stream engine: per-flow TCP state (three-way handshake,
 * simultaneous open, FIN and RST teardown) and reassembly of each
 * direction into the byte stream its receiver sees.
 *
 * Data in order is delivered at once. A segment beyond a hole waits in an
 * ordered list until the hole fills; where two waiting segments carry the
 * same bytes, the receiver's target policy (host-os-policy, the same
 * table as IP defragmentation) decides which copy counts. Bytes the
 * receiver already has are never replaced: a retransmission with other
 * bytes raises stream.reassembly_overlap_different_data. A hole that
 * does not fill -- the receiver acknowledged past it, or too much waits
 * behind it -- is skipped (stream.reassembly_seq_gap), so lost data never
 * stalls a stream.
 *
 * Each delivery is handed back as a chunk for inspection: up to
 * `inspect_window` bytes delivered before (so a pattern that straddles
 * segments is seen whole) followed by the new bytes.
 *
 * One engine per worker, no locks: a flow is only ever seen by one worker.
 */
#ifndef CARACAL_STREAM_STREAM_H
#define CARACAL_STREAM_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "decode/decode.h"
#include "decode/defrag.h"
#include "flow/flow.h"

struct stats;

/* Serial number arithmetic (RFC 1982) on 32-bit sequence numbers. */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

/* Defaults (Suricata's where it has the setting). */
#define STREAM_DEFAULT_MEMCAP (64ull * 1024 * 1024)
#define STREAM_DEFAULT_DEPTH (1024u * 1024)
#define STREAM_DEFAULT_INSPECT_WINDOW 2048u
#define STREAM_DEFAULT_MAX_WAIT (256u * 1024) /* bytes waiting behind a hole, per direction */

struct stream_config {
    bool enabled;             /* off: TCP payloads are inspected packet by packet */
    bool midstream;           /* pick up sessions whose handshake was not seen */
    uint64_t memcap;          /* bytes of waiting segments and inspection tails, per engine */
    uint32_t depth;           /* bytes reassembled per direction; 0: no limit */
    uint32_t inspect_window;  /* bytes of earlier stream kept in front of new data */
    uint32_t max_wait;        /* bytes waiting behind a hole before it is skipped */
    const struct defrag_config *policies; /* host-os-policy; NULL: linux everywhere */
};

void stream_config_init(struct stream_config *cfg);

/* TCP session states (as Suricata names them in flow events). */
enum tcp_state {
    TCP_NONE, TCP_SYN_SENT, TCP_SYN_RECV, TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_FIN_WAIT2,
    TCP_TIME_WAIT, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CLOSING, TCP_CLOSED
};
const char *tcp_state_name(int state);

/* What one packet produced. */
#define STREAM_MAX_EVENTS 4
struct stream_result {
    bool tracked;            /* the session is reassembled: inspect payload rules on chunks */
    /* New stream data in the packet's direction: chunk[0..len), of which
     * chunk[new_off..len) was never inspected. len == 0: none. */
    const uint8_t *chunk;
    uint32_t len, new_off;
    uint64_t chunk_off;      /* stream offset of chunk[0] */
    bool gap;                /* bytes were lost in this direction (a hole skipped) */
    uint8_t nevents;
    uint16_t events[STREAM_MAX_EVENTS];
};

struct stream_engine;

struct stream_engine *stream_engine_new(const struct stream_config *cfg, struct stats *stats);
void stream_engine_free(struct stream_engine *se);

/*
 * Runs one TCP packet of flow f (dir: FLOW_TOSERVER or FLOW_TOCLIENT)
 * through the session's state machine and reassembly. The chunk in res
 * stays valid until the next call for the same flow.
 */
void stream_packet(struct stream_engine *se, struct flow *f, const struct packet *p, int dir,
                   struct stream_result *res);

/* The session's state, for flow events (TCP_NONE when untracked). */
int stream_flow_state(const struct flow *f);
/* Bytes one side sent as its sequence numbers tell (the SYN counts one),
 * for stream_size; false when the session is not tracked. */
bool stream_flow_bytes(const struct flow *f, int dir, uint64_t *n);
/* Frees the session of f (when the flow ends). */
void stream_flow_free(struct stream_engine *se, struct flow *f);

/* Bytes held now (waiting segments and tails), for tests and stats. */
uint64_t stream_engine_memuse(const struct stream_engine *se);

#endif
