/* Private to engine.c and detect.c: the built engine. */
#ifndef CARACAL_DETECT_ENGINE_INT_H
#define CARACAL_DETECT_ENGINE_INT_H

#include <hs/hs.h>

#include "detect/detect_int.h"

/* Packet signature groups: by transport protocol and by direction. */
enum { GRP_TCP, GRP_UDP, GRP_ICMP, GRP_OTHER, GRP_COUNT };

/*
 * Signatures without a fast pattern whose source (or destination) is a
 * short list of IPv4 addresses -- reputation rules, mostly -- are found by
 * address: the address space is cut into intervals, each with the
 * signatures that cover it.
 */
struct addr_index {
    uint32_t *bounds;    /* interval i is [bounds[i], bounds[i+1]) */
    uint32_t *off;       /* its signatures: ids[off[i] .. off[i+1]) */
    uint32_t *ids;
    unsigned nbounds;
};

struct sig_group {
    hs_database_t *db;   /* fast patterns of the payload buffer; NULL when none */
    uint8_t *fp_members; /* port groups: bitmap of the fast-pattern signatures kept */
    uint32_t *nofp;      /* signatures inspected on every packet of the group */
    unsigned nnofp, capnofp;
    unsigned nfp;
    struct addr_index by_src, by_dst;
};

/*
 * One protocol and direction. pg[0] holds every signature of it. TCP and
 * UDP are further split by the packet's service-side port -- the
 * destination port of packets to the server, the source port of packets to
 * the client: ports that rules name get a group of only the signatures that
 * can match there (plus the any-port ones), so a packet to port 25 never
 * meets the rules written for port 80. A port group keeps its own list of
 * signatures without a fast pattern and its own address index; for fast
 * patterns it scans with pg[0]'s database and keeps only the hits of its
 * members (one database per port group was measured: Hyperscan's compile
 * time and memory vary wildly with the subset, 8.5 s and 260 MB cold for
 * the ET Open set against 0.7 s and 130 MB, for the same candidates).
 */
struct proto_dir {
    struct sig_group *pg;
    unsigned npg;
    uint8_t *port_map;   /* 65536 entries, index into pg; NULL when npg == 1 */
};

static inline const struct sig_group *proto_dir_group(const struct proto_dir *pd,
                                                      uint16_t port)
{
    return &pd->pg[pd->port_map ? pd->port_map[port] : 0];
}

static inline bool sig_group_keeps(const struct sig_group *g, uint32_t num)
{
    return g->fp_members == NULL || (g->fp_members[num >> 3] >> (num & 7) & 1);
}

#define PORT_GROUPS_DEFAULT 32
#define PORT_GROUPS_MAX 255

/* Signature ids whose indexed address covers v; *n gets the count. */
const uint32_t *addr_index_lookup(const struct addr_index *ix, uint32_t v, unsigned *n);

/*
 * App-layer signatures of one protocol and direction (detect_tx): one
 * Hyperscan database per buffer that holds fast patterns, and a list of
 * the signatures without one.
 */
struct app_group {
    hs_database_t *db[BUF_COUNT];
    struct sig_group rest;   /* nofp: signatures without a fast pattern */
    unsigned nfp;
};

struct detect_engine {
    struct sig **sigs;       /* in evaluation order; sigs[i]->num == i */
    unsigned nsigs;
    struct proto_dir groups[GRP_COUNT][2]; /* [group][0 to server, 1 to client] */
    struct app_group app[APP_OTHER][2];    /* [APP_HTTP..APP_DNS][direction] */
    unsigned port_groups_max;
    bool packet_only_fp;     /* some tcp-pkt / flow:no_stream rule has a fast pattern */
    uint32_t max_fp_len;     /* longest fast pattern: the context a chunk scan needs */
    hs_scratch_t *scratch;   /* prototype, cloned per thread */
    struct detect_build *b;  /* registries, classifications, threshold.config */
    struct detect_runtime *rt;
    uint64_t generation;     /* unique per load in this process, from 1 */
};

#endif
