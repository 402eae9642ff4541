/* Private to engine.c and detect.c: the built engine. */
#ifndef CARACAL_DETECT_ENGINE_INT_H
#define CARACAL_DETECT_ENGINE_INT_H

#include <hs/hs.h>

#include "detect/detect_int.h"

/* Packet signature groups: by transport protocol and by direction. */
enum { GRP_TCP, GRP_UDP, GRP_ICMP, GRP_OTHER, GRP_COUNT };

struct sig_group {
    hs_database_t *db;   /* fast patterns of the payload buffer; NULL when none */
    uint32_t *nofp;      /* signatures inspected on every packet of the group */
    unsigned nnofp, capnofp;
    unsigned nfp;
};

struct detect_engine {
    struct sig **sigs;       /* in evaluation order; sigs[i]->num == i */
    unsigned nsigs;
    unsigned napp;           /* loaded, waiting for the app layer to feed their buffers */
    struct sig_group groups[GRP_COUNT][2];
    hs_scratch_t *scratch;   /* prototype, cloned per thread */
    struct detect_build *b;  /* registries, classifications, threshold.config */
    struct detect_runtime *rt;
};

#endif
