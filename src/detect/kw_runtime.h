/*
 * Private to the packet/flow keywords and their state: kw_meta.c,
 * kw_header.c, kw_flow.c, kw_app.c, classconf.c, threshold.c, runtime.c
 * (classconf.c only for the parsing helpers).
 *
 * Every matcher context (struct sm's ctx) these files create is a single
 * allocation released with free(), so sm_free_list() needs no per-type code.
 */
#ifndef CARACAL_DETECT_KW_RUNTIME_H
#define CARACAL_DETECT_KW_RUNTIME_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/detect_int.h"

/* ---- Small parsing helpers (kw_header.c) ---------------------------------- */

/* Numeric comparison as Suricata writes it: N, !N, <N, >N, <=N, >=N, N<>M, N-M
 * (ranges exclusive at both ends). */
enum kw_cmp_op { CMP_EQ, CMP_NE, CMP_LT, CMP_GT, CMP_LE, CMP_GE, CMP_RANGE };

struct kw_cmp {
    uint8_t op;        /* enum kw_cmp_op */
    uint64_t a, b;     /* b: upper bound of a range */
};

/* Trims value into buf; false when it does not fit. */
bool kw_trim(const char *value, char *buf, size_t len);
/* Parses an unsigned decimal (or 0x hex) number no larger than max; the whole
 * string must be consumed (surrounding blanks allowed). */
bool kw_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Parses a comparison; names (may be NULL) maps words to numbers. */
struct kw_name { const char *name; uint32_t value; };
int kw_parse_cmp(const char *kw, const char *value, uint64_t max, const struct kw_name *names,
                 struct kw_cmp *out, char *err, size_t errlen);
bool kw_cmp_match(const struct kw_cmp *c, uint64_t v);
/* Trims blanks off both ends of s in place. */
char *kw_strip(char *s);
/* Splits s at the first separator sep into a trimmed head; returns the rest
 * (after sep) or NULL when there is none. */
char *kw_split(char *s, char sep, char **head);

/* ---- Matchers of kw_header.c and kw_app.c, dispatched by kw_flow.c -------- */

bool kw_header_match(const struct sm *m, const struct packet *p);
bool kw_app_match(const struct detect_thread *dt, const struct sm *m, const struct packet *p,
                  const struct flow *f);

/* ---- threshold.config (threshold.c) -------------------------------------- */

enum tcfg_kind { TCFG_SUPPRESS, TCFG_THRESHOLD, TCFG_RATE_FILTER };
enum tcfg_suppress_track { SUPP_ALL, SUPP_BY_SRC, SUPP_BY_DST, SUPP_BY_EITHER };

struct tcfg_entry {
    uint8_t kind;                  /* enum tcfg_kind; event_filter is TCFG_THRESHOLD */
    uint32_t gid, sid;             /* 0: any */
    struct threshold_spec spec;    /* threshold / rate_filter: type, track, count, seconds */
    uint8_t supp_track;            /* enum tcfg_suppress_track */
    struct addr_set *ips;          /* suppress by_src/by_dst/by_either */
    int new_action;                /* rate_filter: enum sig_action */
    uint32_t timeout;              /* rate_filter: seconds the new action lasts */
    int file_line;                 /* for messages */
};

struct threshold_config {
    /* The nglobal entries with sid 0 first, in file order; then the rest
     * sorted by (gid, sid), in file order within one sid. */
    struct tcfg_entry *e;
    unsigned n, cap;
    unsigned nglobal;
};

/* The entries for (gid, sid): first those for this sid, then the global
 * ones; fills up to max pointers and returns how many. */
unsigned threshold_config_lookup(const struct threshold_config *t, uint32_t gid, uint32_t sid,
                                 const struct tcfg_entry **out, unsigned max);

/* ---- Runtime store (runtime.c) --------------------------------------------- */

/* Entries kept for thresholds, rate filters and xbits together; at the cap
 * the least recently used entry is evicted (counted). */
#define DETECT_RUNTIME_DEFAULT_MAX_ENTRIES 65536u

void detect_runtime_set_max_entries(struct detect_runtime *rt, unsigned max);
/* Entries currently held, and how many were evicted before their time. */
unsigned detect_runtime_entries(struct detect_runtime *rt);
uint64_t detect_runtime_evicted(struct detect_runtime *rt);

enum xbits_track { XB_IP_SRC, XB_IP_DST, XB_IP_PAIR };
enum xbits_cmd { XB_SET, XB_UNSET, XB_TOGGLE, XB_ISSET, XB_ISNOTSET };

/* Runs an xbits command for p at packet time; the checks return whether
 * the bit is (not) set, the changes return true. */
bool xbits_run(struct detect_runtime *rt, int cmd, uint32_t id, int track, uint32_t expire,
               const struct packet *p);

/* ---- Per-flow state (kw_flow.c) -------------------------------------------- */

#define DETECT_CARRY_MAX 16

struct flow_detect_state {
    uint64_t engine_gen;  /* the engine the ids and signature numbers below are of */
    uint64_t *bits;       /* flowbits by registry id, grown on demand */
    uint32_t nwords;
    struct flowint_val {
        int64_t value;
        bool set;
    } *ints;              /* flowints by registry id */
    uint32_t nints;
    /* tag:session: the flow's packets are tagged while this lasts */
    uint8_t tag_metric;   /* enum tag_metric */
    uint64_t tag_left;    /* packets or bytes still tagged */
    int64_t tag_until;    /* seconds metric: packet time (us) it ends */
    /* Stream chunks, per direction: fast-pattern hits whose bytes are still
     * in the inspection window. Only a chunk's new bytes are scanned; these
     * signatures are tried again with each chunk, so a rule whose fast
     * pattern came in an earlier segment still meets its later contents. */
    struct fp_carry {
        uint32_t sig;
        uint64_t end;     /* stream offset just after the hit */
    } carry[2][DETECT_CARRY_MAX];
    uint8_t ncarry[2];
    bool carry_full[2];   /* more hits than fit: the next chunk is scanned whole */
};

/* The flow's detection state, created on demand (for dt's engine) when
 * create is set. */
struct flow_detect_state *detect_flow_state(struct flow *f, const struct detect_thread *dt,
                                            bool create);

/* tag:session on f, from packet p (kw_flow.c). */
void tag_session_set(const struct detect_thread *dt, struct flow *f, const struct sig_tag *t,
                     const struct packet *p);
/* True when f is tagged for p; consumes the tag's packet or byte count. */
bool tag_session_check(struct flow *f, const struct packet *p);
/* tag:host for the alert's source or destination (runtime.c). */
void tag_host_set(struct detect_runtime *rt, const struct sig_tag *t, const struct packet *p);
/* True when p's source or destination is tagged; consumes counts. Cheap
 * (no lock) while no host is tagged. */
bool tag_host_check(struct detect_runtime *rt, const struct packet *p);

#endif
