/*
 * The flow stage: a per-worker hash table of flows keyed by the symmetric
 * 5-tuple plus VLAN ids. Timeouts are driven by packet time, so a capture
 * produces the same flows on every run and in every runmode.
 */
#ifndef CARACAL_FLOW_FLOW_H
#define CARACAL_FLOW_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "decode/decode.h"

struct stats;

/* Normalized key: the lower (address, port) endpoint comes first. */
struct flow_key {
    struct ip_addr addr[2];
    uint16_t port[2];
    uint16_t vlan[PKT_MAX_VLANS];
    uint8_t proto;
    uint8_t ip_ver;
    uint8_t vlan_cnt;
    uint8_t pad[3];
};

enum flow_state { FLOW_STATE_NEW, FLOW_STATE_ESTABLISHED, FLOW_STATE_CLOSED };

enum flow_end_reason { FLOW_END_TIMEOUT, FLOW_END_FORCED, FLOW_END_SHUTDOWN };

/* Timeouts in seconds for one protocol. */
struct flow_timeouts {
    uint32_t new_, established, closed;
    uint32_t emerg_new, emerg_established, emerg_closed;
};

enum flow_proto_idx { FLOW_PROTO_TCP, FLOW_PROTO_UDP, FLOW_PROTO_ICMP, FLOW_PROTO_OTHER,
                      FLOW_PROTO_MAX };

struct flow_config {
    uint64_t memcap;            /* bytes, for this table */
    uint32_t hash_size;         /* buckets (rounded up to a power of two) */
    uint32_t emergency_recovery; /* percent of memcap to fall under to leave emergency */
    struct flow_timeouts timeouts[FLOW_PROTO_MAX];
};

struct flow {
    struct flow_key key;
    uint64_t hash;
    uint64_t flow_id;
    struct flow *hnext;              /* bucket chain */
    struct flow *lru_prev, *lru_next; /* least recently seen at the tail */
    struct timeval start, last;
    uint64_t pkts[2], bytes[2];      /* [0] to server, [1] to client */
    /* Which key endpoint is the client (the side that sent first, or the
     * SYN's sender). */
    uint8_t client_idx;
    uint8_t state;                   /* enum flow_state */
    uint8_t proto_idx;
    uint8_t tcp_flags[2];            /* flags seen to server / to client */
    bool alerted;
    bool dropped;                    /* inline: a drop rule matched; the rest of the flow is dropped */
    bool syn_seen, synack_seen;
    uint8_t fin_seen;                /* bit per direction */
    bool rst_seen;
    uint8_t ip_ver;
    void *dstate;                    /* the detect stage's per-flow state, or NULL */
    struct tcp_session *tcp;         /* the stream engine's session, or NULL */
    struct app_flow *app;            /* the app layer's state, or NULL */
    uint8_t app_proto;               /* detected protocol (detect's enum app_proto), 0 none */
};

/* Direction of a packet within its flow. */
enum { FLOW_TOSERVER = 0, FLOW_TOCLIENT = 1 };

/* Called as a flow ends, before it is freed: the callee may release what it hung on f. */
typedef void (*flow_end_cb)(void *ctx, struct flow *f, enum flow_end_reason reason);

struct flow_table;

/* Builds the normalized key and its symmetric hash for a packet with a tuple. */
uint64_t flow_key_from_packet(const struct packet *p, struct flow_key *k);
/* Symmetric hash of a packet's tuple (same value both ways); 0 if none. */
uint64_t flow_hash_packet(const struct packet *p);

struct flow_table *flow_table_new(const struct flow_config *cfg, struct stats *stats,
                                  flow_end_cb on_end, void *cb_ctx);
void flow_table_free(struct flow_table *t);

/*
 * Finds or creates the flow of p and updates its counters and state;
 * *dir gets the packet's direction. NULL when the packet has no tuple or
 * the memcap leaves no room (counted).
 */
struct flow *flow_handle_packet(struct flow_table *t, const struct packet *p, int *dir);

/* Ends flows idle past their timeout at time now (bounded work per call).
 * True when the pass ended flows and stopped at its bound with more still
 * to check: call again soon (more flows can expire per second than one
 * pass ends). A pass that found only live flows returns false; the next
 * one, a second later, resumes where it stopped. */
bool flow_table_timeout(struct flow_table *t, const struct timeval *now);

/* Ends every flow: reason timeout for those expired at now, shutdown for the rest. */
void flow_table_flush(struct flow_table *t, const struct timeval *now);

unsigned flow_table_active(const struct flow_table *t);
bool flow_table_emergency(const struct flow_table *t);

const char *flow_state_name(enum flow_state s);
const char *flow_reason_name(enum flow_end_reason r);

/* Default configuration (Suricata's defaults). */
void flow_config_defaults(struct flow_config *cfg);

#endif
