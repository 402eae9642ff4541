/*
 * The detect stage: Suricata-format rules matched with a Hyperscan
 * prefilter and verified keyword by keyword.
 *
 * An engine is built once from rule files and is read-only afterwards, so
 * all workers share it; a rule reload builds a new one. Each worker has
 * its own struct detect_thread (Hyperscan scratch, PCRE2 match data).
 * Runtime state that must be global (thresholds, xbits) lives in the
 * engine's runtime part, behind a lock, and is touched only when a rule
 * that needs it matches.
 */
#ifndef CARACAL_DETECT_DETECT_H
#define CARACAL_DETECT_DETECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "decode/decode.h"
#include "engine/config.h"
#include "flow/flow.h"

struct detect_engine;
struct detect_thread;

struct reason_count {
    char *reason;
    unsigned n;
};

struct detect_load_report {
    unsigned files;              /* rule files processed */
    unsigned files_unreadable;
    unsigned loaded, failed;
    struct reason_count *reasons; /* rejections tallied by reason */
    unsigned nreasons;
    double parse_seconds, build_seconds;
    unsigned hs_databases, hs_cached; /* compiled vs loaded from the cache */
    unsigned port_groups;             /* beyond one group per protocol and direction */
    unsigned app_pending;        /* loaded rules on buffers no stage feeds (mixed protocols) */
    unsigned app_rules;          /* rules inspected on HTTP, TLS and DNS transactions */
};

/* Loads the rule files with the configuration's variables, classification,
 * reference and threshold files; prints each bad rule as FILE:LINE: reason
 * on stderr. NULL only when the engine itself cannot be built. */
struct detect_engine *detect_engine_load(const struct conf *c, const char *const *files,
                                         unsigned nfiles, struct detect_load_report *rep);
void detect_engine_free(struct detect_engine *de);
unsigned detect_engine_sig_count(const struct detect_engine *de);
/* A number unique to this engine among those loaded by the process (from
 * 1; 0 for NULL). A rule reload gives the new engine a higher one. */
uint64_t detect_engine_generation(const struct detect_engine *de);

/* "N rule files processed. N rules successfully loaded, N rules failed" and the tally. */
void detect_report_print(FILE *out, const struct detect_load_report *rep);
void detect_report_free(struct detect_load_report *rep);

/* Lists the supported keywords (--list-keywords). */
void detect_list_keywords(FILE *out);

struct detect_thread *detect_thread_new(const struct detect_engine *de);
void detect_thread_free(struct detect_thread *dt);

/* What a matching rule tells the output. */
struct detect_alert {
    uint32_t gid, sid, rev;
    int action;               /* 0 alert, 1 drop, 2 reject, 3 pass */
    int severity;             /* the rule's priority */
    const char *msg;
    const char *category;     /* classification description, "" when none */
    const json_t *metadata;   /* NULL when none */
    const char *target;       /* NULL, "src_ip" or "dest_ip" */
};

#define DETECT_MAX_ALERTS 15

struct detect_result {
    bool drop;     /* a drop or reject rule matched */
    bool reject;
    bool pass;     /* a pass rule matched: nothing after it was inspected */
    bool tagged;   /* a tag: of an earlier alert covers this packet */
    unsigned suppressed; /* matches that thresholds kept from alerting */
    unsigned overflow;   /* alerts beyond DETECT_MAX_ALERTS */
    unsigned nalerts;
    struct detect_alert alerts[DETECT_MAX_ALERTS];
};

/* Inspects one packet (f may be NULL); fills res. */
void detect_packet(struct detect_thread *dt, const struct packet *p, struct flow *f, int dir,
                   struct detect_result *res);

/*
 * A TCP session the stream engine reassembles is inspected in two parts:
 * each packet with the rules that do not look at the payload (and the
 * tcp-pkt / flow:no_stream ones, on its own payload), then each new piece
 * of the stream with the payload rules. chunk[0..new_off) was inspected
 * before; a match must end in chunk[new_off..len). chunk_off is the stream
 * offset of chunk[0].
 */
enum detect_mode {
    DETECT_PACKET,        /* every rule, on the packet's payload */
    DETECT_PACKET_STREAMED, /* packet of a reassembled session: no stream payload rules */
    DETECT_STREAM,        /* payload rules on a stream chunk */
    DETECT_TX,            /* app-layer rules on a transaction (detect_tx) */
};
void detect_packet_mode(struct detect_thread *dt, const struct packet *p, struct flow *f,
                        int dir, int mode, const uint8_t *chunk, uint32_t len, uint32_t new_off,
                        uint64_t chunk_off, struct detect_result *res);

/* Inspects one side (dir) of an app-layer transaction with the rules of its
 * protocol; p is the packet that completed it. */
struct app_tx;
void detect_tx(struct detect_thread *dt, const struct packet *p, struct flow *f, int dir,
               const struct app_tx *tx, struct detect_result *res);

/* Frees the per-flow detection state (flowbits, flowints) when a flow ends. */
void detect_flow_free(struct flow *f);

/*
 * After a rule reload, a flow's detection state from the old engine
 * (flowbits and flowints by the old engine's name numbers, fast-pattern
 * hits carried between stream chunks by old signature numbers) means
 * nothing to the new one. The state records the engine generation it
 * was made under; the inspection entry points above drop the dependent
 * parts when dt's engine is another (a tag:session in progress is kept).
 */
void detect_flow_sync(const struct detect_thread *dt, struct flow *f);

#endif
