/*
 * Payload keywords: what kw_content.c, kw_sticky.c, kw_pcre.c, kw_byte.c,
 * kw_base64.c and inspect.c share. Private to those files (and their tests).
 *
 * Every matcher context is one allocation, released with free(ctx), except
 * SM_CONTENT (free(pat), then free(ctx)) and SM_PCRE (pcre_ctx_free()).
 *
 * Values (rule_parse.c): content arrives unquoted and unescaped, negation
 * as a leading '!', a literal leading '!' or '"' as |21| / |22|; pcre
 * arrives without its outer quotes, backslashes intact. Raw quoted values
 * (`!"abc"`) are accepted too; see payload_value_split().
 */
#ifndef CARACAL_DETECT_KW_PAYLOAD_H
#define CARACAL_DETECT_KW_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/detect_int.h"

/* Limits. Documented defaults; the engine may later take them from the config. */
#define INSPECT_STEP_BUDGET 65536u   /* content/pcre attempts per inspect_buffer() call */
#define INSPECT_DECODE_MAX 65536u    /* base64_decode output and transformed buffers */
#define PCRE_MATCH_LIMIT 3500u       /* Suricata's pcre.match-limit default */
#define PCRE_DEPTH_LIMIT 1500u       /* Suricata's pcre.match-limit-recursion default */
#define BYTE_MAX_NUM_BYTES 8u        /* byte_* on binary values */
#define BYTE_MAX_STR_BYTES 23u       /* byte_* on strings (a 64-bit octal number) */

/* ---- pcre (kw_pcre.c) ---- */
#define PCRE_RELATIVE 0x0001u
#define PCRE_NEGATED 0x0002u
#define PCRE_NO_LIMIT 0x0004u    /* O: no match limit */

struct pcre_ctx;
int pcre_exec_at(const struct pcre_ctx *pc, struct inspect_scratch *is, const uint8_t *subj,
                 uint32_t len, uint32_t start, uint32_t *mstart, uint32_t *mend);
uint32_t pcre_ctx_flags(const struct pcre_ctx *pc);
void pcre_ctx_free(void *ctx);
/* Per-thread PCRE2 state inside the inspection scratch. */
void *pcre_thread_new(void);
void pcre_thread_free(void *pt);
void *inspect_scratch_pcre(struct inspect_scratch *is);

/* ---- byte_* and isdataat, bsize, urilen (kw_byte.c) ---- */
#define BYTE_RELATIVE 0x0001u
#define BYTE_LITTLE 0x0002u
#define BYTE_STRING 0x0004u
#define BYTE_NEGATE 0x0008u      /* byte_test: !op */
#define BYTE_ALIGN 0x0010u
#define BYTE_FROM_BEGIN 0x0020u
#define BYTE_FROM_END 0x0040u
#define BYTE_BITMASK 0x0080u

enum byte_op {
    BOP_LT, BOP_GT, BOP_EQ, BOP_LE, BOP_GE, BOP_AND, BOP_XOR,       /* byte_test */
    BOP_ADD, BOP_SUB, BOP_MUL, BOP_DIV, BOP_SHL, BOP_SHR            /* byte_math */
};

struct byte_ctx {
    uint32_t flags;
    uint8_t nbytes;
    uint8_t base;            /* 8, 10 or 16 with BYTE_STRING */
    uint8_t op;              /* enum byte_op */
    uint8_t align;           /* byte_jump: 4; byte_extract: 2 or 4 */
    int8_t offset_var;       /* -1: literal offset */
    int8_t value_var;        /* byte_test value / byte_math rvalue variable, -1: literal */
    int8_t result_var;       /* byte_extract / byte_math target */
    int32_t offset;
    int32_t post_offset;
    uint32_t multiplier;
    uint64_t value;
    uint64_t bitmask;
};

#define ISDATAAT_RELATIVE 0x0001u
#define ISDATAAT_NEGATED 0x0002u
#define ISDATAAT_RAWBYTES 0x0004u

struct isdataat_ctx {
    uint32_t flags;
    uint32_t n;
    int8_t var;
};

enum size_op { SZ_EQ, SZ_LT, SZ_GT, SZ_LE, SZ_GE, SZ_RANGE };
struct size_ctx {            /* bsize, urilen */
    uint8_t op;
    uint64_t a, b;
};

/* Reads nbytes at data[at]: binary (endianness) or string (base); bitmask
 * applied. false when out of bounds or not a number. */
bool byte_read(const struct byte_ctx *bc, const uint8_t *data, uint32_t len, int64_t at,
               uint64_t *val);
bool byte_test_eval(const struct byte_ctx *bc, uint64_t val, uint64_t ref);
bool size_match(const struct size_ctx *sc, uint64_t n);
/* Parses `N`, `<N`, `>N`, `<=N`, `>=N`, `N<>M`; 0 or -1 with err. */
int size_parse(const char *kw, const char *v, struct size_ctx *sc, char *err, size_t errlen);

/* ---- base64 (kw_base64.c) ---- */
#define B64_RELATIVE 0x0001u
struct base64_ctx {
    uint32_t flags;
    uint32_t bytes;          /* 0: to the end of the buffer */
    uint32_t offset;
};
/* Decodes base64 from in into out (RFC 4648, stops at the first byte that is
 * not part of the alphabet, padding optional); returns the decoded length. */
uint32_t base64_decode_buf(const uint8_t *in, uint32_t inlen, uint8_t *out, uint32_t outcap);

/* ---- Shared parse helpers (kw_content.c) ---- */

/* Splits a content/pcre-style value: leading '!' (before or without quotes)
 * sets *negated; if quoted, the quotes are removed and, when unescape is set,
 * \" \\ \; \: resolved. Writes into out (NUL-terminated, *outlen bytes). */
int payload_value_split(const char *kw, const char *value, bool unescape, bool *negated,
                        char *out, size_t outcap, size_t *outlen, char *err, size_t errlen);
/* A byte_extract/byte_math variable: its index, or -1. */
int payload_var_lookup(const struct sig *s, const char *name);
/* Defines a new variable; its index, or -1 with err. */
int payload_var_define(struct sig *s, const char *name, char *err, size_t errlen);
/* Integer in [min, max] (decimal or 0x hex) or a variable name (*var >= 0). */
int payload_num_or_var(const struct sig *s, const char *kw, const char *v, int64_t min,
                       int64_t max, int64_t *num, int8_t *var, char *err, size_t errlen);
int payload_parse_int(const char *kw, const char *v, int64_t min, int64_t max, int64_t *out,
                      char *err, size_t errlen);
/* Appends m to the current buffer's list and records it as the last payload matcher. */
void payload_append(struct sig *s, struct parse_state *ps, int buf, struct sm *m);
/* Whether m's position depends on the previous match. */
bool sm_is_relative(const struct sm *m);

/* Keyword setups defined outside kw_content.c, listed in kw_payload_table. */
int kw_pcre_setup(struct sig *s, struct parse_state *ps, const char *v, char *err, size_t n);
int kw_byte_test_setup(struct sig *s, struct parse_state *ps, const char *v, char *err, size_t n);
int kw_byte_jump_setup(struct sig *s, struct parse_state *ps, const char *v, char *err, size_t n);
int kw_byte_extract_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                          size_t n);
int kw_byte_math_setup(struct sig *s, struct parse_state *ps, const char *v, char *err, size_t n);
int kw_isdataat_setup(struct sig *s, struct parse_state *ps, const char *v, char *err, size_t n);
int kw_bsize_setup(struct sig *s, struct parse_state *ps, const char *v, char *err, size_t n);
int kw_urilen_setup(struct sig *s, struct parse_state *ps, const char *v, char *err, size_t n);
int kw_base64_decode_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                           size_t n);
/* Sticky buffers and legacy content modifiers (kw_sticky.c): one setup per
 * buffer, kw_sticky_ID selects the buffer, kw_legacy_ID moves the last
 * content into it. */
#define X(id, name, legacy, app)                                                              \
    int kw_sticky_##id(struct sig *s, struct parse_state *ps, const char *v, char *err,       \
                       size_t n);
#define XL(id, name, legacy, app)                                                             \
    X(id, name, legacy, app)                                                                  \
    int kw_legacy_##id(struct sig *s, struct parse_state *ps, const char *v, char *err,       \
                       size_t n);
#include "detect/buffers.def"
#undef XL
#undef X

/* Checks that need the whole rule (http.host patterns in lowercase, one
 * fast_pattern, ...). The parser calls it once after the last option. */
int payload_sig_finalize(struct sig *s, char *err, size_t errlen);

#endif
