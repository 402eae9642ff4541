/*
 * Keywords that read numbers out of the buffer (byte_test, byte_jump,
 * byte_extract, byte_math) or test its size (isdataat, bsize, urilen):
 * their parsing here, their evaluation in inspect.c through byte_read().
 *
 * Common options: relative; big|little (default big); string with hex, dec
 * or oct (default dec); bitmask M (the value is masked, then shifted right
 * by the mask's trailing zero bits). dce is rejected: caracal has no
 * DCERPC parser to tell the byte order.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "detect/kw_payload.h"

#define BYTE_MAX_TOKENS 16

struct tokens {
    char buf[512];
    char *t[BYTE_MAX_TOKENS];
    int n;
};

static char *trim(char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    char *e = p + strlen(p);
    while (e > p && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return p;
}

static int tokenize(const char *kw, const char *v, struct tokens *tk, char *err, size_t errlen)
{
    if (!v || strlen(v) >= sizeof tk->buf) {
        snprintf(err, errlen, "'%s' needs a value", kw);
        return -1;
    }
    strcpy(tk->buf, v);
    tk->n = 0;
    for (char *p = tk->buf;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (tk->n == BYTE_MAX_TOKENS) {
            snprintf(err, errlen, "'%s' has too many options", kw);
            return -1;
        }
        tk->t[tk->n++] = trim(p);
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

static int parse_u64(const char *kw, const char *v, uint64_t *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    bool hex = v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
    if (!isdigit((unsigned char)v[0])) {
        snprintf(err, errlen, "invalid number '%s' for '%s'", v, kw);
        return -1;
    }
    unsigned long long x = strtoull(hex ? v + 2 : v, &end, hex ? 16 : 10);
    if (errno || end == v || *end) {
        snprintf(err, errlen, "invalid number '%s' for '%s'", v, kw);
        return -1;
    }
    *out = x;
    return 0;
}

/* Options shared by the byte_* keywords; returns 1 when tok was one, 0 when
 * it was not, -1 on error. */
static int common_option(const char *kw, const char *tok, struct byte_ctx *bc, char *err,
                         size_t errlen)
{
    if (strcmp(tok, "relative") == 0) {
        bc->flags |= BYTE_RELATIVE;
    } else if (strcmp(tok, "big") == 0 || strcmp(tok, "endian big") == 0) {
        bc->flags &= ~BYTE_LITTLE;
    } else if (strcmp(tok, "little") == 0 || strcmp(tok, "endian little") == 0) {
        bc->flags |= BYTE_LITTLE;
    } else if (strcmp(tok, "string") == 0) {
        bc->flags |= BYTE_STRING;
        if (!bc->base)
            bc->base = 10;
    } else if (strcmp(tok, "hex") == 0 || strcmp(tok, "string hex") == 0) {
        bc->flags |= BYTE_STRING;
        bc->base = 16;
    } else if (strcmp(tok, "dec") == 0 || strcmp(tok, "string dec") == 0) {
        bc->flags |= BYTE_STRING;
        bc->base = 10;
    } else if (strcmp(tok, "oct") == 0 || strcmp(tok, "string oct") == 0) {
        bc->flags |= BYTE_STRING;
        bc->base = 8;
    } else if (strcmp(tok, "dce") == 0 || strcmp(tok, "endian dce") == 0) {
        snprintf(err, errlen, "'%s' option 'dce' needs DCERPC, which caracal does not parse",
                 kw);
        return -1;
    } else if (strncmp(tok, "bitmask", 7) == 0 && isspace((unsigned char)tok[7])) {
        if (parse_u64(kw, trim((char *)tok + 8), &bc->bitmask, err, errlen) < 0)
            return -1;
        if (bc->bitmask == 0) {
            snprintf(err, errlen, "'%s' bitmask must not be 0", kw);
            return -1;
        }
        bc->flags |= BYTE_BITMASK;
    } else {
        return 0;
    }
    return 1;
}

/* byte_test:0,...,string reads the number that fills the rest of the
 * buffer (ET uses it on http.content_len); other keywords need a count. */
static int check_nbytes(const char *kw, struct byte_ctx *bc, char *err, size_t errlen)
{
    if (bc->nbytes == 0 && (bc->flags & BYTE_STRING) && strcmp(kw, "byte_test") == 0)
        return 0;
    unsigned max = BYTE_MAX_NUM_BYTES;
    if (bc->flags & BYTE_STRING)
        max = bc->base == 8 ? BYTE_MAX_STR_BYTES : bc->base == 10 ? 20 : 16;
    if (bc->nbytes < 1 || bc->nbytes > max) {
        snprintf(err, errlen, "'%s' reads 1 to %u bytes%s, not %u", kw, max,
                 (bc->flags & BYTE_STRING) ? " as a string" : "", bc->nbytes);
        return -1;
    }
    return 0;
}

static int parse_nbytes(const char *kw, const char *tok, struct byte_ctx *bc, char *err,
                        size_t errlen)
{
    int64_t n;
    if (payload_parse_int(kw, tok, 0, 255, &n, err, errlen) < 0)
        return -1;
    bc->nbytes = (uint8_t)n;
    return 0;
}

static int parse_offset(const struct sig *s, const char *kw, const char *tok,
                        struct byte_ctx *bc, char *err, size_t errlen)
{
    int64_t off;
    if (payload_num_or_var(s, kw, tok, -65535, 65535, &off, &bc->offset_var, err, errlen) < 0)
        return -1;
    bc->offset = (int32_t)off;
    return 0;
}

static struct byte_ctx *byte_ctx_new(char *err, size_t errlen)
{
    struct byte_ctx *bc = calloc(1, sizeof *bc);
    if (!bc) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bc->offset_var = bc->value_var = bc->result_var = -1;
    bc->multiplier = 1;
    return bc;
}

static int byte_append(struct sig *s, struct parse_state *ps, int type, struct byte_ctx *bc,
                       char *err, size_t errlen)
{
    struct sm *m = sm_new(type, bc);
    if (!m) {
        free(bc);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    payload_append(s, ps, ps->cur_buf, m);
    return 0;
}

/* byte_test:bytes, [!]op, value, offset [, options] */
int kw_byte_test_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                       size_t errlen)
{
    static const char *const kw = "byte_test";
    struct tokens tk;
    struct byte_ctx *bc = byte_ctx_new(err, errlen);
    if (!bc)
        return -1;
    if (tokenize(kw, v, &tk, err, errlen) < 0)
        goto fail;
    if (tk.n < 4) {
        snprintf(err, errlen, "'%s' needs bytes, operator, value and offset", kw);
        goto fail;
    }
    if (parse_nbytes(kw, tk.t[0], bc, err, errlen) < 0)
        goto fail;
    const char *op = tk.t[1];
    if (*op == '!') {
        bc->flags |= BYTE_NEGATE;
        op = trim((char *)op + 1);
    }
    if (strcmp(op, "<") == 0) bc->op = BOP_LT;
    else if (strcmp(op, ">") == 0) bc->op = BOP_GT;
    else if (strcmp(op, "=") == 0 || (*op == '\0' && (bc->flags & BYTE_NEGATE))) bc->op = BOP_EQ;
    else if (strcmp(op, "<=") == 0) bc->op = BOP_LE;
    else if (strcmp(op, ">=") == 0) bc->op = BOP_GE;
    else if (strcmp(op, "&") == 0) bc->op = BOP_AND;
    else if (strcmp(op, "^") == 0) bc->op = BOP_XOR;
    else {
        snprintf(err, errlen, "'%s' unknown operator '%s'", kw, tk.t[1]);
        goto fail;
    }
    if (isalpha((unsigned char)tk.t[2][0]) || tk.t[2][0] == '_') {
        bc->value_var = (int8_t)payload_var_lookup(s, tk.t[2]);
        if (bc->value_var < 0) {
            snprintf(err, errlen, "unknown variable '%s' in '%s'", tk.t[2], kw);
            goto fail;
        }
    } else if (parse_u64(kw, tk.t[2], &bc->value, err, errlen) < 0) {
        goto fail;
    }
    if (parse_offset(s, kw, tk.t[3], bc, err, errlen) < 0)
        goto fail;
    for (int i = 4; i < tk.n; i++) {
        int r = common_option(kw, tk.t[i], bc, err, errlen);
        if (r < 0)
            goto fail;
        if (r == 0) {
            snprintf(err, errlen, "'%s' unknown option '%s'", kw, tk.t[i]);
            goto fail;
        }
    }
    if (check_nbytes(kw, bc, err, errlen) < 0)
        goto fail;
    return byte_append(s, ps, SM_BYTE_TEST, bc, err, errlen);
fail:
    free(bc);
    return -1;
}

/* byte_jump:bytes, offset [, options] */
int kw_byte_jump_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                       size_t errlen)
{
    static const char *const kw = "byte_jump";
    struct tokens tk;
    struct byte_ctx *bc = byte_ctx_new(err, errlen);
    if (!bc)
        return -1;
    if (tokenize(kw, v, &tk, err, errlen) < 0)
        goto fail;
    if (tk.n < 2) {
        snprintf(err, errlen, "'%s' needs bytes and offset", kw);
        goto fail;
    }
    if (parse_nbytes(kw, tk.t[0], bc, err, errlen) < 0 ||
        parse_offset(s, kw, tk.t[1], bc, err, errlen) < 0)
        goto fail;
    for (int i = 2; i < tk.n; i++) {
        const char *t = tk.t[i];
        int64_t n;
        int r = common_option(kw, t, bc, err, errlen);
        if (r < 0)
            goto fail;
        if (r > 0)
            continue;
        if (strcmp(t, "align") == 0) {
            bc->flags |= BYTE_ALIGN;
            bc->align = 4;
        } else if (strcmp(t, "from_beginning") == 0) {
            bc->flags |= BYTE_FROM_BEGIN;
        } else if (strcmp(t, "from_end") == 0) {
            bc->flags |= BYTE_FROM_END;
        } else if (strncmp(t, "multiplier", 10) == 0 && isspace((unsigned char)t[10])) {
            if (payload_parse_int(kw, t + 11, 1, 65535, &n, err, errlen) < 0)
                goto fail;
            bc->multiplier = (uint32_t)n;
        } else if (strncmp(t, "post_offset", 11) == 0 && isspace((unsigned char)t[11])) {
            if (payload_parse_int(kw, t + 12, -65535, 65535, &n, err, errlen) < 0)
                goto fail;
            bc->post_offset = (int32_t)n;
        } else {
            snprintf(err, errlen, "'%s' unknown option '%s'", kw, t);
            goto fail;
        }
    }
    if ((bc->flags & BYTE_FROM_BEGIN) && (bc->flags & BYTE_FROM_END)) {
        snprintf(err, errlen, "'%s' can't have both from_beginning and from_end", kw);
        goto fail;
    }
    if (check_nbytes(kw, bc, err, errlen) < 0)
        goto fail;
    return byte_append(s, ps, SM_BYTE_JUMP, bc, err, errlen);
fail:
    free(bc);
    return -1;
}

/* byte_extract:bytes, offset, name [, options] */
int kw_byte_extract_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                          size_t errlen)
{
    static const char *const kw = "byte_extract";
    struct tokens tk;
    struct byte_ctx *bc = byte_ctx_new(err, errlen);
    if (!bc)
        return -1;
    if (tokenize(kw, v, &tk, err, errlen) < 0)
        goto fail;
    if (tk.n < 3) {
        snprintf(err, errlen, "'%s' needs bytes, offset and a variable name", kw);
        goto fail;
    }
    if (parse_nbytes(kw, tk.t[0], bc, err, errlen) < 0 ||
        parse_offset(s, kw, tk.t[1], bc, err, errlen) < 0)
        goto fail;
    for (int i = 3; i < tk.n; i++) {
        const char *t = tk.t[i];
        int64_t n;
        int r = common_option(kw, t, bc, err, errlen);
        if (r < 0)
            goto fail;
        if (r > 0)
            continue;
        if (strncmp(t, "multiplier", 10) == 0 && isspace((unsigned char)t[10])) {
            if (payload_parse_int(kw, t + 11, 1, 65535, &n, err, errlen) < 0)
                goto fail;
            bc->multiplier = (uint32_t)n;
        } else if (strncmp(t, "align", 5) == 0 && isspace((unsigned char)t[5])) {
            if (payload_parse_int(kw, t + 6, 2, 4, &n, err, errlen) < 0 || n == 3) {
                snprintf(err, errlen, "'%s' align must be 2 or 4", kw);
                goto fail;
            }
            bc->flags |= BYTE_ALIGN;
            bc->align = (uint8_t)n;
        } else {
            snprintf(err, errlen, "'%s' unknown option '%s'", kw, t);
            goto fail;
        }
    }
    if (check_nbytes(kw, bc, err, errlen) < 0)
        goto fail;
    int idx = payload_var_define(s, tk.t[2], err, errlen);
    if (idx < 0)
        goto fail;
    bc->result_var = (int8_t)idx;
    return byte_append(s, ps, SM_BYTE_EXTRACT, bc, err, errlen);
fail:
    free(bc);
    return -1;
}

/* byte_math:bytes N, offset O, oper OP, rvalue V, result NAME [, options] */
int kw_byte_math_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                       size_t errlen)
{
    static const char *const kw = "byte_math";
    struct tokens tk;
    struct byte_ctx *bc = byte_ctx_new(err, errlen);
    const char *result = NULL;
    bool have_bytes = false, have_offset = false, have_oper = false, have_rvalue = false;
    if (!bc)
        return -1;
    if (tokenize(kw, v, &tk, err, errlen) < 0)
        goto fail;
    for (int i = 0; i < tk.n; i++) {
        char *t = tk.t[i];
        int r = common_option(kw, t, bc, err, errlen);
        if (r < 0)
            goto fail;
        if (r > 0)
            continue;
        char *sp = t + strcspn(t, " \t");
        char *arg = *sp ? trim(sp + 1) : sp;
        *sp = '\0';
        if (strcmp(t, "bytes") == 0) {
            if (parse_nbytes(kw, arg, bc, err, errlen) < 0)
                goto fail;
            have_bytes = true;
        } else if (strcmp(t, "offset") == 0) {
            if (parse_offset(s, kw, arg, bc, err, errlen) < 0)
                goto fail;
            have_offset = true;
        } else if (strcmp(t, "oper") == 0) {
            static const char *const ops[] = { "+", "-", "*", "/", "<<", ">>" };
            unsigned k = 0;
            while (k < 6 && strcmp(arg, ops[k]) != 0)
                k++;
            if (k == 6) {
                snprintf(err, errlen, "'%s' unknown operator '%s'", kw, arg);
                goto fail;
            }
            bc->op = (uint8_t)(BOP_ADD + k);
            have_oper = true;
        } else if (strcmp(t, "rvalue") == 0) {
            if (isalpha((unsigned char)arg[0]) || arg[0] == '_') {
                bc->value_var = (int8_t)payload_var_lookup(s, arg);
                if (bc->value_var < 0) {
                    snprintf(err, errlen, "unknown variable '%s' in '%s'", arg, kw);
                    goto fail;
                }
            } else if (parse_u64(kw, arg, &bc->value, err, errlen) < 0) {
                goto fail;
            } else if (bc->value > UINT32_MAX) {
                snprintf(err, errlen, "'%s' rvalue must fit in 32 bits", kw);
                goto fail;
            }
            have_rvalue = true;
        } else if (strcmp(t, "result") == 0) {
            result = arg;
        } else if (strcmp(t, "endian") == 0 || strcmp(t, "string") == 0) {
            snprintf(err, errlen, "'%s' unknown %s '%s'", kw, t, arg);
            goto fail;
        } else {
            snprintf(err, errlen, "'%s' unknown option '%s'", kw, t);
            goto fail;
        }
    }
    if (!have_bytes || !have_offset || !have_oper || !have_rvalue || !result || !*result) {
        snprintf(err, errlen, "'%s' needs bytes, offset, oper, rvalue and result", kw);
        goto fail;
    }
    if (bc->op == BOP_DIV && bc->value_var < 0 && bc->value == 0) {
        snprintf(err, errlen, "'%s' divides by zero", kw);
        goto fail;
    }
    if (check_nbytes(kw, bc, err, errlen) < 0)
        goto fail;
    int idx = payload_var_define(s, result, err, errlen);
    if (idx < 0)
        goto fail;
    bc->result_var = (int8_t)idx;
    return byte_append(s, ps, SM_BYTE_MATH, bc, err, errlen);
fail:
    free(bc);
    return -1;
}

/* isdataat:[!]N[,relative][,rawbytes] */
int kw_isdataat_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                      size_t errlen)
{
    static const char *const kw = "isdataat";
    struct tokens tk;
    if (tokenize(kw, v, &tk, err, errlen) < 0)
        return -1;
    struct isdataat_ctx *ic = calloc(1, sizeof *ic);
    if (!ic) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *n = tk.t[0];
    if (*n == '!') {
        ic->flags |= ISDATAAT_NEGATED;
        n = trim((char *)n + 1);
    }
    int64_t num;
    if (payload_num_or_var(s, kw, n, 0, 65535, &num, &ic->var, err, errlen) < 0)
        goto fail;
    ic->n = (uint32_t)num;
    for (int i = 1; i < tk.n; i++) {
        if (strcmp(tk.t[i], "relative") == 0) {
            ic->flags |= ISDATAAT_RELATIVE;
        } else if (strcmp(tk.t[i], "rawbytes") == 0) {
            ic->flags |= ISDATAAT_RAWBYTES;
        } else {
            snprintf(err, errlen, "'%s' unknown option '%s'", kw, tk.t[i]);
            goto fail;
        }
    }
    struct sm *m = sm_new(SM_ISDATAAT, ic);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    payload_append(s, ps, ps->cur_buf, m);
    return 0;
fail:
    free(ic);
    return -1;
}

int size_parse(const char *kw, const char *v, struct size_ctx *sc, char *err, size_t errlen)
{
    char tmp[64];
    if (!v || strlen(v) >= sizeof tmp) {
        snprintf(err, errlen, "'%s' needs a value", kw);
        return -1;
    }
    strcpy(tmp, v);
    char *p = trim(tmp);
    char *range = strstr(p, "<>");
    memset(sc, 0, sizeof *sc);
    if (range) {
        *range = '\0';
        sc->op = SZ_RANGE;
        if (parse_u64(kw, trim(p), &sc->a, err, errlen) < 0 ||
            parse_u64(kw, trim(range + 2), &sc->b, err, errlen) < 0)
            return -1;
        if (sc->a >= sc->b) {
            snprintf(err, errlen, "'%s' range %s is empty", kw, v);
            return -1;
        }
        return 0;
    }
    if (p[0] == '<' && p[1] == '=') {
        sc->op = SZ_LE;
        p += 2;
    } else if (p[0] == '>' && p[1] == '=') {
        sc->op = SZ_GE;
        p += 2;
    } else if (p[0] == '<') {
        sc->op = SZ_LT;
        p++;
    } else if (p[0] == '>') {
        sc->op = SZ_GT;
        p++;
    } else {
        sc->op = SZ_EQ;
    }
    if (parse_u64(kw, trim(p), &sc->a, err, errlen) < 0)
        return -1;
    if (sc->op == SZ_LT && sc->a == 0) {
        snprintf(err, errlen, "'%s' <0 can never match", kw);
        return -1;
    }
    return 0;
}

bool size_match(const struct size_ctx *sc, uint64_t n)
{
    switch (sc->op) {
    case SZ_EQ: return n == sc->a;
    case SZ_LT: return n < sc->a;
    case SZ_GT: return n > sc->a;
    case SZ_LE: return n <= sc->a;
    case SZ_GE: return n >= sc->a;
    default: return n > sc->a && n < sc->b;
    }
}

static int size_append(struct sig *s, int type, int buf, const char *kw, const char *v,
                       char *err, size_t errlen)
{
    struct size_ctx *sc = calloc(1, sizeof *sc);
    if (!sc) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct sm *m;
    if (size_parse(kw, v, sc, err, errlen) < 0 || !(m = sm_new(type, sc))) {
        if (!*err)
            snprintf(err, errlen, "out of memory");
        free(sc);
        return -1;
    }
    sm_append(&s->lists[buf], m);
    return 0;
}

int kw_bsize_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                   size_t errlen)
{
    if (ps->cur_buf == BUF_PAYLOAD) {
        snprintf(err, errlen, "'bsize' needs a sticky buffer");
        return -1;
    }
    err[0] = '\0';
    return size_append(s, SM_BSIZE, ps->cur_buf, "bsize", v, err, errlen);
}

/* urilen:N|<N|>N|N<>M[,norm|raw]: on http.uri, or http.uri.raw with raw */
int kw_urilen_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                    size_t errlen)
{
    char tmp[64];
    int buf = BUF_HTTP_URI;
    if (!v || strlen(v) >= sizeof tmp) {
        snprintf(err, errlen, "'urilen' needs a value");
        return -1;
    }
    strcpy(tmp, v);
    char *comma = strchr(tmp, ',');
    if (comma) {
        *comma = '\0';
        char *mode = trim(comma + 1);
        if (strcmp(mode, "raw") == 0) {
            buf = BUF_HTTP_URI_RAW;
        } else if (strcmp(mode, "norm") != 0) {
            snprintf(err, errlen, "'urilen' unknown option '%s'", mode);
            return -1;
        }
    }
    (void)ps;
    err[0] = '\0';
    return size_append(s, SM_URILEN, buf, "urilen", tmp, err, errlen);
}

/* ---- Evaluation helpers (called from inspect.c) ---------------------------- */

static int digit_value(uint8_t c, unsigned base)
{
    int d;
    if (c >= '0' && c <= '9')
        d = c - '0';
    else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
    else
        return -1;
    return d < (int)base ? d : -1;
}

bool byte_read(const struct byte_ctx *bc, const uint8_t *data, uint32_t len, int64_t at,
               uint64_t *val)
{
    if (at < 0 || at + bc->nbytes > (int64_t)len)
        return false;
    const uint8_t *p = data + at;
    uint64_t v = 0;
    if (bc->flags & BYTE_STRING) {
        uint32_t n = bc->nbytes ? bc->nbytes : len - (uint32_t)at;
        uint32_t i = 0, base = bc->base;
        while (i < n && p[i] == ' ')
            i++;
        if (base == 16 && i + 1 < n && p[i] == '0' && (p[i + 1] | 0x20) == 'x')
            i += 2;
        uint32_t first = i;
        for (; i < n; i++) {
            int d = digit_value(p[i], base);
            if (d < 0)
                break;
            if (v > (UINT64_MAX - (uint64_t)d) / base)
                return false;
            v = v * base + (uint64_t)d;
        }
        if (i == first)
            return false;
    } else if (bc->flags & BYTE_LITTLE) {
        for (unsigned i = bc->nbytes; i-- > 0;)
            v = v << 8 | p[i];
    } else {
        for (unsigned i = 0; i < bc->nbytes; i++)
            v = v << 8 | p[i];
    }
    if (bc->flags & BYTE_BITMASK) {
        v &= bc->bitmask;
        v >>= __builtin_ctzll(bc->bitmask);
    }
    *val = v;
    return true;
}

bool byte_test_eval(const struct byte_ctx *bc, uint64_t val, uint64_t ref)
{
    bool r;
    switch (bc->op) {
    case BOP_LT: r = val < ref; break;
    case BOP_GT: r = val > ref; break;
    case BOP_EQ: r = val == ref; break;
    case BOP_LE: r = val <= ref; break;
    case BOP_GE: r = val >= ref; break;
    case BOP_AND: r = (val & ref) != 0; break;
    default: r = (val ^ ref) != 0; break;
    }
    return (bc->flags & BYTE_NEGATE) ? !r : r;
}
