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
    uint32_t *nofp;      /* signatures inspected on every packet of the group */
    unsigned nnofp, capnofp;
    unsigned nfp;
    struct addr_index by_src, by_dst;
};

/* Signature ids whose indexed address covers v; *n gets the count. */
const uint32_t *addr_index_lookup(const struct addr_index *ix, uint32_t v, unsigned *n);

struct detect_engine {
    struct sig **sigs;       /* in evaluation order; sigs[i]->num == i */
    unsigned nsigs;
    struct sig_group groups[GRP_COUNT][2];
    hs_scratch_t *scratch;   /* prototype, cloned per thread */
    struct detect_build *b;  /* registries, classifications, threshold.config */
    struct detect_runtime *rt;
};

#endif
