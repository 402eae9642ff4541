/*
 * Private to the detect stage: signatures, their matchers, the keyword
 * registry and the build context. Files in src/detect/ share this header;
 * everything else goes through detect.h.
 *
 * Life of a rule: rule_parse.c splits the text and parses the header
 * (action, protocol, addresses, ports, direction); each option goes to its
 * keyword's setup function (kw_*.c), which appends matchers (struct sm) to
 * the signature's lists; engine.c groups the signatures, chooses fast
 * patterns and compiles one Hyperscan database per group and buffer.
 */
#ifndef CARACAL_DETECT_INT_H
#define CARACAL_DETECT_INT_H

#include "app/app.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "decode/decode.h"
#include "detect/detect.h"
#include "flow/flow.h"

/* ---- Buffers ---------------------------------------------------------- */


enum detect_buffer {
#define X(id, name, legacy, app) BUF_##id,
#include "detect/buffers.def"
#undef X
    BUF_COUNT
};

/* Looks a sticky buffer name (or alias such as file_data, dns_query) up; -1 when unknown. */
int buffer_lookup(const char *name);
/* Looks a legacy content modifier (http_uri, ...) up; -1 when unknown. */
int buffer_lookup_modifier(const char *name);
const char *buffer_name(int buf);
enum app_proto buffer_app(int buf);
/* The side of a transaction a buffer comes from: 0 the request (to the
 * server), 1 the response, -1 either (headers, content type, ...). */
int buffer_side(int buf);

/* ---- Addresses and ports (address.c) ----------------------------------- */

struct addr_set;   /* ranges of IPv4 and IPv6 addresses, negation resolved */
struct port_set;   /* ranges of ports, negation resolved */

bool addr_set_match(const struct addr_set *s, int ip_ver, const struct ip_addr *a);
bool addr_set_is_any(const struct addr_set *s);
void addr_set_free(struct addr_set *s);
/* For indexing: the number of IPv4 ranges, and range i (when i is below it). */
unsigned addr_set_v4_ranges(const struct addr_set *s, unsigned i, uint32_t *lo, uint32_t *hi);
bool addr_set_has_v6(const struct addr_set *s);
bool port_set_match(const struct port_set *s, uint16_t port);
bool port_set_is_any(const struct port_set *s);
/* The number of port ranges, and range i (when i is below it). */
unsigned port_set_ranges(const struct port_set *s, unsigned i, uint16_t *lo, uint16_t *hi);
void port_set_free(struct port_set *s);

/* ---- Matchers ----------------------------------------------------------- */

enum sm_type {
    /* payload keywords, inspected on a buffer (inspect.c) */
    SM_CONTENT, SM_PCRE, SM_BYTE_TEST, SM_BYTE_JUMP, SM_BYTE_EXTRACT, SM_BYTE_MATH,
    SM_ISDATAAT, SM_BSIZE, SM_BASE64_DECODE, SM_URILEN, SM_DOTPREFIX,
    /* packet and flow keywords (kw_header.c, kw_flow.c) */
    SM_DSIZE, SM_FLAGS, SM_TTL, SM_ITYPE, SM_ICODE, SM_ICMP_ID, SM_ICMP_SEQ, SM_IP_PROTO,
    SM_SAMEIP, SM_IPOPTS, SM_FRAGBITS, SM_WINDOW, SM_SEQ, SM_ACK, SM_STREAM_SIZE,
    SM_FLOWBITS, SM_XBITS, SM_FLOWINT, SM_APP_LAYER_EVENT, SM_TLS_VERSION, SM_SSL_VERSION,
    SM_SSL_STATE, SM_DNS_OPCODE, SM_DNS_RCODE, SM_DNS_RRTYPE,
    SM_TYPE_COUNT
};

struct sm {
    uint16_t type;       /* enum sm_type */
    uint16_t flags;      /* type-specific */
    struct sm *next;
    void *ctx;           /* owned by the keyword; freed by sm_free() */
};

/* content (kw_content.c, inspect.c, engine.c) */
#define CONTENT_NOCASE 0x0001u
#define CONTENT_NEGATED 0x0002u
#define CONTENT_RELATIVE 0x0004u    /* distance or within given: relative to the previous match */
#define CONTENT_STARTSWITH 0x0008u
#define CONTENT_ENDSWITH 0x0010u
#define CONTENT_FAST_PATTERN 0x0020u
#define CONTENT_FP_ONLY 0x0040u
#define CONTENT_FP_CHOP 0x0080u
#define CONTENT_OFFSET 0x0100u
#define CONTENT_DEPTH 0x0200u
#define CONTENT_DISTANCE 0x0400u
#define CONTENT_WITHIN 0x0800u
#define CONTENT_RAWBYTES 0x1000u
#define CONTENT_DOTPREFIX 0x2000u

struct content {
    uint8_t *pat;
    uint32_t len;
    uint32_t flags;
    int32_t offset, depth, distance, within;
    /* byte_extract variable indices for offset/depth/distance/within, -1 when literal */
    int8_t offset_var, depth_var, distance_var, within_var;
    uint32_t fp_chop_off, fp_chop_len;
};

/* ---- Signatures -------------------------------------------------------- */

enum sig_action { ACTION_ALERT, ACTION_DROP, ACTION_REJECT, ACTION_PASS };

#define SIG_NOALERT 0x0001u
#define SIG_APP 0x0008u           /* inspected on app-layer transactions (detect_tx) */
#define SIG_APP_PROTO 0x10000u    /* packet rule of an app protocol: only its flows */
#define SIG_BIDIR 0x0002u         /* <> */
#define SIG_TCP_PKT 0x0004u       /* protocol tcp-pkt: packets only, not the stream */
#define SIG_FLOW_TOSERVER 0x0010u
#define SIG_FLOW_TOCLIENT 0x0020u
#define SIG_FLOW_ESTABLISHED 0x0040u
#define SIG_FLOW_NOT_ESTABLISHED 0x0080u
#define SIG_FLOW_STATELESS 0x0100u
#define SIG_FLOW_ONLY_STREAM 0x0200u
#define SIG_FLOW_NO_STREAM 0x0400u
#define SIG_FLOW_ONLY_FRAG 0x0800u
#define SIG_FLOW_NO_FRAG 0x1000u
#define SIG_HAS_POST_MATCH 0x2000u /* flowbits set/unset/toggle, xbits set, flowint changes */
#define SIG_ICMP_ANY_VER 0x4000u   /* protocol icmp: ICMPv4 and ICMPv6 */
#define SIG_IPONLY 0x8000u         /* addresses only: checked once per flow direction */

struct threshold_spec {
    enum { THR_LIMIT, THR_THRESHOLD, THR_BOTH, THR_DETECTION_FILTER } type;
    enum { TRACK_BY_SRC, TRACK_BY_DST, TRACK_BY_BOTH, TRACK_BY_RULE, TRACK_BY_FLOW } track;
    uint32_t count;
    uint32_t seconds;
};

#define SIG_MAX_VARS 8 /* byte_extract / byte_math variables per rule */

/* tag: (kw_meta.c parses it; detect.c, kw_flow.c and runtime.c apply it) */
enum tag_scope { TAG_SESSION = 1, TAG_HOST };
enum tag_metric { TAG_PACKETS, TAG_SECONDS, TAG_BYTES };
#define SIG_MAX_TAGS 4
#define TAG_DEFAULT_PACKETS 256
#define TAG_HOST_MAX_SECONDS 3600 /* a packet or byte count tag on a host lapses after this */
struct sig_tag {
    uint8_t scope;           /* enum tag_scope */
    uint8_t metric;          /* enum tag_metric */
    bool dst;                /* host: the alert's destination (else its source) */
    uint32_t count;
};

struct sig {
    uint32_t num;            /* index in the engine */
    uint32_t id, gid, rev;   /* sid, gid, rev */
    uint8_t action;          /* enum sig_action */
    uint8_t ip_proto;        /* 0: any IP protocol */
    uint8_t app_proto;       /* enum app_proto, APP_NONE for packet protocols */
    int priority;            /* from priority: or the classtype, default 3 */
    uint32_t flags;          /* SIG_* */
    char *msg;
    char *classtype;         /* name, NULL if none */
    char *class_desc;        /* the classification's description, for alert.category */
    char *target;            /* "src_ip" / "dest_ip" or NULL */
    json_t *metadata;        /* object of arrays as Suricata logs it, or NULL */
    json_t *references;      /* array of "type,value" strings, or NULL */
    struct addr_set *src, *dst;
    struct port_set *sp, *dp;
    struct sm *lists[BUF_COUNT];  /* payload matchers per buffer, in rule order */
    struct sm *pkt;               /* packet and flow matchers (dsize, flags, flowbits isset, ...) */
    struct sm *post;              /* actions after a full match (flowbits set, ...) */
    struct threshold_spec *threshold;        /* threshold: */
    struct threshold_spec *detection_filter; /* detection_filter: */
    /* Fast pattern chosen by the engine: the buffer and the content (NULL: none). */
    int fp_buf;
    const struct content *fp;
    char *file;              /* where the rule came from */
    int line;
    int nvars;               /* byte_extract/byte_math variables */
    char var_names[SIG_MAX_VARS][32];
    uint64_t buffers_mask;   /* bit per buffer that has a list */
    uint8_t ntags;
    struct sig_tag tags[SIG_MAX_TAGS];
};

static inline bool sig_buffer_used(const struct sig *s, int buf)
{
    return (s->buffers_mask >> buf) & 1;
}

/* Appends m to the end of list *head. */
void sm_append(struct sm **head, struct sm *m);
struct sm *sm_new(int type, void *ctx);
/* Last matcher of a list, NULL when empty. */
struct sm *sm_last(struct sm *head);
void sm_free_list(struct sm *head);
void sig_free(struct sig *s);

/* ---- Build context ----------------------------------------------------- */

struct classification {
    char *name, *desc;
    int priority;
};

/* Names of flowbits/xbits/flowints get small integer ids at load time. */
struct name_registry {
    char **names;
    unsigned n, cap;
};
int name_registry_id(struct name_registry *r, const char *name); /* adds when new */
void name_registry_free(struct name_registry *r);

struct threshold_config;   /* threshold.config entries (threshold.c) */

struct detect_build {
    const struct conf *conf;       /* vars.address-groups, vars.port-groups */
    struct threshold_config *tcfg;
    struct classification *classes;
    unsigned nclasses;
    json_t *reference_types;       /* object: type -> url prefix */
    struct name_registry flowbits, xbits, flowints;
    struct sig **sigs;
    unsigned nsigs, cap;
    struct detect_load_report *report;
};

/* While a rule's options are parsed. */
struct parse_state {
    struct detect_build *b;
    int cur_buf;                  /* sticky buffer in effect, BUF_PAYLOAD at the start */
    struct sm *last_payload_sm;   /* last content/pcre/byte_* etc., for relative options */
    struct content *last_content; /* what content modifiers apply to */
    int last_content_buf;
    bool saw_content;
};

/* ---- Keywords ----------------------------------------------------------- */

#define KW_NOVALUE 0x01u      /* takes no value (nocase, rawbytes, sticky buffers) */
#define KW_VALUE 0x02u        /* requires a value */
#define KW_OPTIONAL 0x04u     /* value optional (fast_pattern) */

struct keyword {
    const char *name;
    unsigned flags;
    /* value is NULL for KW_NOVALUE keywords; quotes around it are removed and
     * escapes resolved for msg/content/pcre-style values by the parser only
     * where the keyword asks for it (see rule_parse.c). */
    int (*setup)(struct sig *s, struct parse_state *ps, const char *value, char *err,
                 size_t errlen);
    const char *summary;      /* one line for --list-keywords */
};

/* Each kw_*.c exports a table ending with a NULL name. */
extern const struct keyword kw_meta_table[];      /* kw_meta.c */
extern const struct keyword kw_payload_table[];   /* kw_content.c, kw_pcre.c, kw_byte.c, ... */
extern const struct keyword kw_header_table[];    /* kw_header.c */
extern const struct keyword kw_flow_table[];      /* kw_flow.c */
extern const struct keyword kw_app_table[];       /* kw_app.c */

const struct keyword *keyword_lookup(const char *name);
void keyword_list(FILE *out);

/* ---- Parsing (rule_parse.c) --------------------------------------------- */

/* Parses one rule; NULL with a reason in err (no file/line: the caller adds them). */
struct sig *sig_parse(struct detect_build *b, const char *text, char *err, size_t errlen);

/* Resolves $VAR references in address/port text from the config. */
struct addr_set *addr_set_parse(const struct conf *c, const char *text, char *err, size_t errlen);
struct port_set *port_set_parse(const struct conf *c, const char *text, char *err, size_t errlen);

/* ---- Configuration files (classconf.c, threshold.c) ---------------------- */

/* classification.config: "config classification: name,description,priority". */
int classification_load(struct detect_build *b, const char *path, char *err, size_t errlen);
/* The classifications of etc/classification.config, compiled in: used when
 * the configured file cannot be read. */
int classification_load_builtin(struct detect_build *b, char *err, size_t errlen);
const struct classification *classification_find(const struct detect_build *b, const char *name);
/* reference.config: "config reference: type url-prefix". */
int reference_config_load(struct detect_build *b, const char *path, char *err, size_t errlen);
/* threshold.config: suppress, threshold, event_filter and rate_filter lines. */
int threshold_config_load(struct detect_build *b, const char *path, char *err, size_t errlen);
void threshold_config_free(struct threshold_config *t);

/* ---- Runtime state shared by the workers (runtime.c) ---------------------- */

/* Threshold/detection_filter/rate_filter counters and the xbits store; one
 * lock, taken only when a rule that uses them matches. Time is packet time. */
struct detect_runtime;
struct detect_runtime *detect_runtime_new(void);
void detect_runtime_free(struct detect_runtime *rt);
/* Whether this match of s on p becomes an alert (threshold:, detection_filter:
 * and threshold.config entries for s). *action may be changed by a rate_filter.
 * When it does not, *still_acts (may be NULL) says whether the rule's action
 * applies all the same (suppress; limit and both past their count) or the
 * match counts as none (threshold and detection_filter below their count). */
bool threshold_allows(struct detect_runtime *rt, const struct threshold_config *tc,
                      const struct sig *s, const struct packet *p, int *action,
                      bool *still_acts);

/* Per-flow state (flowbits, flowints): hangs off struct flow's dstate,
 * allocated on first use by kw_flow.c, freed by detect_flow_free(). */
struct flow_detect_state;

/* ---- Per-thread state ---------------------------------------------------- */

struct inspect_scratch;   /* inspect.c: PCRE2 match data, decode buffers */
struct app_tx;            /* app/applayer.h */
struct inspect_scratch *inspect_scratch_new(void);
void inspect_scratch_free(struct inspect_scratch *is);

struct detect_thread {
    const struct detect_engine *de;
    uint64_t engine_gen;            /* de's generation, for per-flow state */
    struct detect_runtime *rt;      /* the engine's shared runtime state */
    void *hs_scratch;               /* hs_scratch_t */
    struct inspect_scratch *is;
    uint32_t *cand_list;
    unsigned ncand;
    const struct sig_group *group;  /* the packet's group, while scanning */
    /* The payload being inspected (the packet's or a stream chunk) and the mode. */
    const uint8_t *pl;
    uint32_t pl_len, pl_new_off;
    int mode;
    /* DETECT_STREAM: fast-pattern hits of the scan, with their end in pl. */
    const struct app_tx *tx;        /* DETECT_TX: the transaction inspected */
    struct { uint32_t sig, end; } *hits;
    unsigned nhits;
    uint32_t scan_from;
};

/* ---- Inspection (inspect.c) --------------------------------------------- */

/* Byte variables and scratch for one signature evaluation. */
struct inspect_env {
    const struct packet *p;
    const struct flow *f;
    int dir;
    /* Stream chunks: bytes before this were inspected in an earlier chunk,
     * so only a match that ends after it counts (0: any match). */
    uint32_t min_end;
    uint64_t vars[SIG_MAX_VARS];
};

/* Runs a buffer's matcher list over buf: true on a match, with Suricata's
 * relative semantics (a later occurrence of an earlier content is tried
 * when a relative match after it fails). */
bool inspect_buffer(struct detect_thread *dt, const struct sig *s, int buf,
                    const uint8_t *data, uint32_t len, struct inspect_env *env);

/* ---- Packet and flow keywords (kw_header.c, kw_flow.c) -------------------- */

/* Evaluates s->pkt on p; true when all match. */
bool match_packet_keywords(struct detect_thread *dt, const struct sig *s, const struct packet *p,
                           struct flow *f, int dir);
/* Runs s->post (flowbits set, ...) after s matched. */
void run_post_match(struct detect_thread *dt, const struct sig *s, const struct packet *p,
                    struct flow *f);

/* ---- Matching helpers for content (shared by inspect.c and tests) -------- */

/* Exact single-pattern search (first and last bytes compared 16 positions
 * at a time, then the whole pattern); nocase folds ASCII. Returns the
 * offset of the first occurrence at or after start, or -1. */
int64_t content_find(const uint8_t *hay, uint32_t hlen, uint32_t start, const uint8_t *pat,
                     uint32_t plen, bool nocase);

#endif
