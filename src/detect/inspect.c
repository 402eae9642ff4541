/*
 * The inspection engine: runs one buffer's matcher list over its data with
 * Suricata's semantics.
 *
 * A position ("pos") walks along the list: it is the end of the previous
 * match, where relative keywords (distance/within, pcre /R, relative byte_*
 * and isdataat) start. Positive contents and pcres that match move it;
 * negated ones and tests leave it; byte_jump and byte_extract set it.
 * When a keyword after a match fails and depends on that position, the
 * match is retried at its next occurrence (backtracking), so
 * `content:"a"; content:"b"; distance:0; within:1;` finds "ab" anywhere,
 * not only after the first "a". Every content/pcre attempt costs one step
 * of a per-call budget, which bounds the work a hostile rule or buffer can
 * cause. Nothing is allocated here: decoded data goes to the per-thread
 * scratch.
 */
#include <stdlib.h>
#include <string.h>

#include "detect/kw_payload.h"

#ifdef __SSE2__
#include <emmintrin.h>   /* every x86-64 CPU has it */
#endif

struct inspect_scratch {
    void *pcre;          /* struct pcre_thread (kw_pcre.c) */
    uint8_t *b64;        /* base64_decode output */
    uint8_t *xform;      /* a transformed buffer (dotprefix) */
};

struct inspect_scratch *inspect_scratch_new(void)
{
    struct inspect_scratch *is = calloc(1, sizeof *is);
    if (!is)
        return NULL;
    is->pcre = pcre_thread_new();
    is->b64 = malloc(INSPECT_DECODE_MAX);
    is->xform = malloc(INSPECT_DECODE_MAX + 1);
    if (!is->pcre || !is->b64 || !is->xform) {
        inspect_scratch_free(is);
        return NULL;
    }
    return is;
}

void inspect_scratch_free(struct inspect_scratch *is)
{
    if (!is)
        return;
    free(is->xform);
    free(is->b64);
    pcre_thread_free(is->pcre);
    free(is);
}

void *inspect_scratch_pcre(struct inspect_scratch *is)
{
    return is->pcre;
}

/* ---- content_find ------------------------------------------------------ */

static inline uint8_t fold(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

static bool folded_eq(const uint8_t *a, const uint8_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (fold(a[i]) != fold(b[i]))
            return false;
    return true;
}

static inline uint8_t upper(uint8_t c)
{
    return (c >= 'a' && c <= 'z') ? (uint8_t)(c & ~0x20) : c;
}

#ifdef __SSE2__
/*
 * Finds pat in h[0, n) comparing 16 positions at a time on two bytes, the
 * pattern's first and last (both cases when nocase), and checking the rest
 * only where both agree: few false candidates even on repetitive data.
 */
static int64_t find_sse2(const uint8_t *h, uint32_t n, const uint8_t *pat, uint32_t plen,
                         bool nocase)
{
    const uint32_t last = plen - 1;
    uint8_t f = pat[0], l = pat[last];
    uint8_t f2 = nocase ? upper(fold(f)) : f, l2 = nocase ? upper(fold(l)) : l;
    if (nocase) {
        f = fold(f);
        l = fold(l);
    }
    const __m128i vf = _mm_set1_epi8((char)f), vf2 = _mm_set1_epi8((char)f2);
    const __m128i vl = _mm_set1_epi8((char)l), vl2 = _mm_set1_epi8((char)l2);
    uint32_t i = 0, verified = 0;
    for (; i + last + 16 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(h + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(h + i + last));
        __m128i ma = _mm_or_si128(_mm_cmpeq_epi8(a, vf), _mm_cmpeq_epi8(a, vf2));
        __m128i mb = _mm_or_si128(_mm_cmpeq_epi8(b, vl), _mm_cmpeq_epi8(b, vl2));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(ma, mb));
        while (mask) {
            /* data built to match both bytes everywhere: memmem stays linear */
            if (!nocase && ++verified > n / 8 + 64) {
                const uint8_t *p = memmem(h + i, n - i, pat, plen);
                return p ? p - h : -1;
            }
            uint32_t at = i + (uint32_t)__builtin_ctz(mask);
            if (plen <= 2 || (nocase ? folded_eq(h + at + 1, pat + 1, plen - 2)
                                     : memcmp(h + at + 1, pat + 1, plen - 2) == 0))
                return at;
            mask &= mask - 1;
        }
    }
    for (; i + plen <= n; i++)
        if (nocase ? folded_eq(h + i, pat, plen) : memcmp(h + i, pat, plen) == 0)
            return i;
    return -1;
}

#else
static int64_t find_scalar(const uint8_t *h, uint32_t n, const uint8_t *pat, uint32_t plen,
                           bool nocase)
{
    if (!nocase) {
        const uint8_t *p = memmem(h, n, pat, plen);
        return p ? p - h : -1;
    }
    uint8_t f = fold(pat[0]);
    for (uint32_t i = 0; i + plen <= n; i++)
        if (fold(h[i]) == f && folded_eq(h + i + 1, pat + 1, plen - 1))
            return i;
    return -1;
}
#define find_sse2 find_scalar
#endif

int64_t content_find(const uint8_t *hay, uint32_t hlen, uint32_t start, const uint8_t *pat,
                     uint32_t plen, bool nocase)
{
    if (start > hlen || hlen - start < plen)
        return -1;
    if (plen == 0)
        return start;
    const uint8_t *h = hay + start;
    uint32_t n = hlen - start;
    int64_t at = find_sse2(h, n, pat, plen, nocase);
    return at < 0 ? -1 : (int64_t)start + at;
}

/* ---- The list runner ------------------------------------------------------ */

/* Misses remembered per content (by its place in the list): a window that
 * lies inside one where the content was already missing cannot hold it, so
 * retries that reach it again fail at once instead of scanning again. */
#define MISS_SLOTS 32

struct run {
    const uint8_t *data;
    uint32_t len;
    const struct sig *s;
    struct inspect_env *env;
    struct inspect_scratch *is;
    uint32_t *steps;
    int64_t min_end;                     /* a match must end after this (0: anywhere) */
    uint32_t miss_valid;                 /* bit per slot */
    int64_t miss_from[MISS_SLOTS], miss_end[MISS_SLOTS];
};

static bool run_list(struct run *r, const struct sm *m, int64_t pos, unsigned idx);

static bool known_miss(const struct run *r, unsigned idx, int64_t from, int64_t end)
{
    return idx < MISS_SLOTS && (r->miss_valid >> idx & 1) && from >= r->miss_from[idx] &&
           end <= r->miss_end[idx];
}

static void remember_miss(struct run *r, unsigned idx, int64_t from, int64_t end)
{
    if (idx >= MISS_SLOTS)
        return;
    r->miss_valid |= 1u << idx;
    r->miss_from[idx] = from;
    r->miss_end[idx] = end;
}

static bool out_of_steps(struct run *r)
{
    return ++*r->steps > INSPECT_STEP_BUDGET;
}

static int64_t var_or(const struct run *r, int8_t var, int64_t lit)
{
    if (var < 0)
        return lit;
    uint64_t v = r->env->vars[var];
    return v > INT32_MAX ? INT32_MAX : (int64_t)v;
}

/* Whether a later keyword depends on the position a match leaves: only
 * then is it worth retrying the match at its next occurrence. */
static bool retry_useful(const struct sm *m)
{
    for (; m; m = m->next) {
        if (sm_is_relative(m))
            return true;
        switch (m->type) {
        case SM_CONTENT:
            if (!(((const struct content *)m->ctx)->flags & CONTENT_NEGATED))
                return false;
            break;
        case SM_PCRE:
            if (!(pcre_ctx_flags(m->ctx) & PCRE_NEGATED))
                return false;
            break;
        case SM_BYTE_JUMP:
        case SM_BYTE_EXTRACT:
            return false;
        default:
            break;
        }
    }
    return false;
}

/* With a stream chunk's min_end, a later occurrence of the last positive
 * match can make the difference (an earlier one may lie in old bytes). */
static bool last_moves(const struct run *r, const struct sm *m)
{
    if (r->min_end <= 0)
        return false;
    for (m = m->next; m; m = m->next)
        if (m->type == SM_CONTENT || m->type == SM_PCRE || m->type == SM_BYTE_JUMP ||
            m->type == SM_BYTE_EXTRACT || m->type == SM_BASE64_DECODE)
            return false;
    return true;
}

static bool content_step(struct run *r, const struct sm *m, int64_t pos, unsigned idx)
{
    const struct content *c = m->ctx;
    const int64_t len = r->len;
    int64_t start, end;
    if (c->flags & CONTENT_STARTSWITH) {
        start = 0;
        end = c->len;
    } else if (c->flags & CONTENT_RELATIVE) {
        start = pos + ((c->flags & CONTENT_DISTANCE) ? var_or(r, c->distance_var, c->distance)
                                                      : 0);
        end = (c->flags & CONTENT_WITHIN) ? start + var_or(r, c->within_var, c->within) : len;
        if (start < 0)
            start = 0;
    } else {
        start = (c->flags & CONTENT_OFFSET) ? var_or(r, c->offset_var, c->offset) : 0;
        end = (c->flags & CONTENT_DEPTH) ? start + var_or(r, c->depth_var, c->depth) : len;
    }
    if (end > len)
        end = len;
    if (c->flags & CONTENT_ENDSWITH) {
        /* the match must end at the end of the buffer */
        if (end < len || len - start < c->len)
            end = -1;
        else
            start = len - c->len;
    }
    const bool nocase = c->flags & CONTENT_NOCASE;
    for (int64_t from = start;;) {
        if (out_of_steps(r))
            return false;
        int64_t found = -1;
        if (end >= 0 && from <= end && !known_miss(r, idx, from, end)) {
            found = content_find(r->data, (uint32_t)end, (uint32_t)from, c->pat, c->len, nocase);
            if (found < 0 && !(c->flags & CONTENT_ENDSWITH))
                remember_miss(r, idx, from, end);
        }
        if (c->flags & CONTENT_NEGATED)
            return found < 0 && run_list(r, m->next, pos, idx + 1);
        if (found < 0)
            return false;
        if (run_list(r, m->next, found + c->len, idx + 1))
            return true;
        if (*r->steps > INSPECT_STEP_BUDGET || !(retry_useful(m->next) || last_moves(r, m)))
            return false;
        from = found + 1;
    }
}

static bool pcre_step(struct run *r, const struct sm *m, int64_t pos, unsigned idx)
{
    const struct pcre_ctx *pc = m->ctx;
    const uint32_t fl = pcre_ctx_flags(pc);
    const int64_t base = (fl & PCRE_RELATIVE) ? pos : 0;
    const bool neg = fl & PCRE_NEGATED;
    if (base > r->len)
        return neg && run_list(r, m->next, pos, idx + 1);
    const uint8_t *subj = r->data + base;
    const uint32_t slen = r->len - (uint32_t)base;
    for (uint32_t from = 0;;) {
        if (out_of_steps(r))
            return false;
        uint32_t ms, me;
        int hit = pcre_exec_at(pc, r->is, subj, slen, from, &ms, &me);
        if (neg)
            return !hit && run_list(r, m->next, pos, idx + 1);
        if (!hit)
            return false;
        if (run_list(r, m->next, base + me, idx + 1))
            return true;
        if (*r->steps > INSPECT_STEP_BUDGET || !(retry_useful(m->next) || last_moves(r, m)))
            return false;
        from = ms + 1;
        if (from > slen)
            return false;
    }
}

/* Where a byte_* keyword reads. */
static int64_t byte_at(const struct run *r, const struct byte_ctx *bc, int64_t pos)
{
    return ((bc->flags & BYTE_RELATIVE) ? pos : 0) + var_or(r, bc->offset_var, bc->offset);
}

static bool byte_jump_step(const struct run *r, const struct byte_ctx *bc, int64_t *pos)
{
    int64_t at = byte_at(r, bc, *pos);
    uint64_t val;
    if (!byte_read(bc, r->data, r->len, at, &val) || val > UINT32_MAX)
        return false;
    val *= bc->multiplier;
    if ((bc->flags & BYTE_ALIGN) && val % 4)
        val += 4 - val % 4;
    int64_t np;
    if (bc->flags & BYTE_FROM_BEGIN)
        np = (int64_t)val;
    else if (bc->flags & BYTE_FROM_END)
        np = (int64_t)r->len + (int64_t)val;
    else
        np = at + bc->nbytes + (int64_t)val;
    np += bc->post_offset;
    /* jumping to the very end is allowed: isdataat:!1,relative may follow */
    if (np < 0 || np > r->len)
        return false;
    *pos = np;
    return true;
}

static bool byte_extract_step(const struct run *r, const struct byte_ctx *bc, int64_t *pos)
{
    int64_t at = byte_at(r, bc, *pos);
    uint64_t val;
    if (!byte_read(bc, r->data, r->len, at, &val))
        return false;
    val *= bc->multiplier;
    if ((bc->flags & BYTE_ALIGN) && val % bc->align)
        val += bc->align - val % bc->align;
    r->env->vars[bc->result_var] = val;
    *pos = at + bc->nbytes;
    return true;
}

static bool byte_math_step(const struct run *r, const struct byte_ctx *bc, int64_t pos)
{
    uint64_t val;
    if (!byte_read(bc, r->data, r->len, byte_at(r, bc, pos), &val))
        return false;
    uint64_t rv = bc->value_var >= 0 ? r->env->vars[bc->value_var] : bc->value;
    switch (bc->op) {
    case BOP_ADD: val += rv; break;
    case BOP_SUB: val -= rv; break;
    case BOP_MUL: val *= rv; break;
    case BOP_DIV:
        if (rv == 0)
            return false;
        val /= rv;
        break;
    case BOP_SHL: val = rv >= 64 ? 0 : val << rv; break;
    default: val = rv >= 64 ? 0 : val >> rv; break;
    }
    r->env->vars[bc->result_var] = val;
    return true;
}

/* Suricata's reading: absolute N asks for a byte at offset N; relative N
 * asks for N more bytes after the previous match, so isdataat:!1,relative
 * means "the match ends the buffer". */
static bool isdataat_ok(const struct run *r, const struct isdataat_ctx *ic, int64_t pos)
{
    int64_t n = var_or(r, ic->var, ic->n);
    bool ok = (ic->flags & ISDATAAT_RELATIVE) ? pos + n <= r->len : n < r->len;
    return (ic->flags & ISDATAAT_NEGATED) ? !ok : ok;
}

/* Decodes, then inspects the decoded bytes with the base64_data list. */
static bool base64_step(struct run *r, const struct base64_ctx *bc, int64_t pos)
{
    int64_t at = ((bc->flags & B64_RELATIVE) ? pos : 0) + bc->offset;
    if (at >= r->len)
        return false;
    uint32_t avail = r->len - (uint32_t)at;
    if (bc->bytes && bc->bytes < avail)
        avail = bc->bytes;
    if (r->min_end > 0 && at + avail <= r->min_end)
        return false; /* only old stream bytes to decode */
    uint32_t n = base64_decode_buf(r->data + at, avail, r->is->b64, INSPECT_DECODE_MAX);
    if (n == 0)
        return false;
    const struct sm *list = r->s->lists[BUF_BASE64_DATA];
    if (!list)
        return true;
    struct run sub = *r;
    sub.data = r->is->b64;
    sub.len = n;
    sub.min_end = 0;
    sub.miss_valid = 0;
    return run_list(&sub, list, 0, 0);
}

static bool run_list(struct run *r, const struct sm *m, int64_t pos, unsigned idx)
{
    for (; m; m = m->next, idx++) {
        switch (m->type) {
        case SM_CONTENT:
            return content_step(r, m, pos, idx);
        case SM_PCRE:
            return pcre_step(r, m, pos, idx);
        case SM_ISDATAAT:
            if (!isdataat_ok(r, m->ctx, pos))
                return false;
            break;
        case SM_BYTE_TEST: {
            const struct byte_ctx *bc = m->ctx;
            uint64_t val;
            uint64_t ref = bc->value_var >= 0 ? r->env->vars[bc->value_var] : bc->value;
            if (!byte_read(bc, r->data, r->len, byte_at(r, bc, pos), &val) ||
                !byte_test_eval(bc, val, ref))
                return false;
            break;
        }
        case SM_BYTE_JUMP:
            if (!byte_jump_step(r, m->ctx, &pos))
                return false;
            break;
        case SM_BYTE_EXTRACT:
            if (!byte_extract_step(r, m->ctx, &pos))
                return false;
            break;
        case SM_BYTE_MATH:
            if (!byte_math_step(r, m->ctx, pos))
                return false;
            break;
        case SM_BSIZE:
        case SM_URILEN:
            if (!size_match(m->ctx, r->len))
                return false;
            break;
        case SM_BASE64_DECODE:
            if (!base64_step(r, m->ctx, pos))
                return false;
            break;
        case SM_DOTPREFIX:
            break;
        default:
            return false;   /* not a payload keyword: never true by accident */
        }
    }
    return r->min_end <= 0 || pos > r->min_end;
}

bool inspect_buffer(struct detect_thread *dt, const struct sig *s, int buf,
                    const uint8_t *data, uint32_t len, struct inspect_env *env)
{
    static const uint8_t empty[1];
    const struct sm *m = s->lists[buf];
    if (!data)
        data = empty, len = 0;
    if (m && m->type == SM_DOTPREFIX) {
        uint32_t n = len < INSPECT_DECODE_MAX ? len : INSPECT_DECODE_MAX;
        dt->is->xform[0] = '.';
        memcpy(dt->is->xform + 1, data, n);
        data = dt->is->xform;
        len = n + 1;
        m = m->next;
    }
    uint32_t steps = 0;
    struct run r;   /* field by field: the miss slots need no clearing */
    r.data = data;
    r.len = len;
    r.s = s;
    r.env = env;
    r.is = dt->is;
    r.steps = &steps;
    r.min_end = buf == BUF_PAYLOAD ? env->min_end : 0;
    r.miss_valid = 0;
    return run_list(&r, m, 0, 0);
}
