/*
 * pcre:[!]"/regex/flags" with PCRE2, JIT-compiled at load time.
 *
 * The value must reach us with its backslashes intact (raw, or only the
 * quotes removed): PCRE itself reads \; \" \\ and \x3A.
 *
 * Flags: i s m x A E G compile options; R relative to the previous match
 * (the subject then starts there, so ^ anchors at it); O lifts the match
 * limit; B (Snort's rawbytes) is accepted and ignored; the others select the
 * buffer the pcre inspects (see pcre_buffer_flags).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "detect/kw_payload.h"

struct pcre_ctx {
    pcre2_code *re;
    uint32_t flags;
};

struct pcre_thread {
    pcre2_match_data *md;
    pcre2_match_context *limited, *unlimited;
    pcre2_jit_stack *jit;
};

#define PCRE_OVECTOR_PAIRS 16
#define PCRE_JIT_STACK_START (32u * 1024)
#define PCRE_JIT_STACK_MAX (512u * 1024)

static const struct {
    char flag;
    int buf;
} pcre_buffer_flags[] = {
    { 'U', BUF_HTTP_URI },          { 'I', BUF_HTTP_URI_RAW },
    { 'P', BUF_HTTP_REQUEST_BODY }, { 'Q', BUF_FILE_DATA },
    { 'H', BUF_HTTP_HEADER },       { 'D', BUF_HTTP_HEADER_RAW },
    { 'M', BUF_HTTP_METHOD },       { 'C', BUF_HTTP_COOKIE },
    { 'S', BUF_HTTP_STAT_CODE },    { 'Y', BUF_HTTP_STAT_MSG },
    { 'V', BUF_HTTP_USER_AGENT },   { 'W', BUF_HTTP_HOST },
    { 'Z', BUF_HTTP_HOST_RAW },
};

static int flag_buffer(char f)
{
    for (size_t i = 0; i < sizeof pcre_buffer_flags / sizeof pcre_buffer_flags[0]; i++)
        if (pcre_buffer_flags[i].flag == f)
            return pcre_buffer_flags[i].buf;
    return -1;
}

/* Parses the flags after the closing '/': compile options, our flags, the buffer. */
static int pcre_parse_flags(const char *f, uint32_t *opts, uint32_t *flags, int *buf, char *err,
                            size_t errlen)
{
    *opts = 0;
    *buf = -1;
    for (; *f; f++) {
        int b;
        switch (*f) {
        case 'i': *opts |= PCRE2_CASELESS; break;
        case 's': *opts |= PCRE2_DOTALL; break;
        case 'm': *opts |= PCRE2_MULTILINE; break;
        case 'x': *opts |= PCRE2_EXTENDED; break;
        case 'A': *opts |= PCRE2_ANCHORED; break;
        case 'E': *opts |= PCRE2_DOLLAR_ENDONLY; break;
        case 'G': *opts |= PCRE2_UNGREEDY; break;
        case 'R': *flags |= PCRE_RELATIVE; break;
        case 'O': *flags |= PCRE_NO_LIMIT; break;
        case 'B': break;
        default:
            b = flag_buffer(*f);
            if (b < 0) {
                snprintf(err, errlen, "unknown pcre flag '%c'", *f);
                return -1;
            }
            if (*buf >= 0 && *buf != b) {
                snprintf(err, errlen, "pcre flags select two buffers ('%s' and '%s')",
                         buffer_name(*buf), buffer_name(b));
                return -1;
            }
            *buf = b;
        }
    }
    return 0;
}

int kw_pcre_setup(struct sig *s, struct parse_state *ps, const char *value, char *err,
                  size_t errlen)
{
    size_t cap = strlen(value ? value : "") + 1, len;
    char *buf = malloc(cap);
    struct pcre_ctx *pc = NULL;
    bool neg;
    int rc = -1;
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (payload_value_split("pcre", value, false, &neg, buf, cap, &len, err, errlen) < 0)
        goto out;
    char *close = strrchr(buf, '/');
    if (buf[0] != '/' || close == buf) {
        snprintf(err, errlen, "pcre must have the form \"/regex/flags\"");
        goto out;
    }
    *close = '\0';
    uint32_t opts, flags = neg ? PCRE_NEGATED : 0;
    int list;
    if (pcre_parse_flags(close + 1, &opts, &flags, &list, err, errlen) < 0)
        goto out;
    /* Suricata inspects file.data and the HTTP response body as one buffer. */
    if (list == BUF_FILE_DATA && ps->cur_buf == BUF_HTTP_RESPONSE_BODY)
        list = BUF_HTTP_RESPONSE_BODY;
    if (list < 0) {
        list = ps->cur_buf;
    } else if (ps->cur_buf != BUF_PAYLOAD && ps->cur_buf != list) {
        snprintf(err, errlen, "pcre flags select '%s' while the sticky buffer '%s' is in effect",
                 buffer_name(list), buffer_name(ps->cur_buf));
        goto out;
    }
    pc = calloc(1, sizeof *pc);
    if (!pc) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    pc->flags = flags;
    int ecode;
    PCRE2_SIZE eoff;
    pc->re = pcre2_compile((PCRE2_SPTR)(buf + 1), PCRE2_ZERO_TERMINATED, opts, &ecode, &eoff,
                           NULL);
    if (!pc->re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ecode, msg, sizeof msg);
        snprintf(err, errlen, "pcre compile failed at offset %zu: %s", (size_t)eoff,
                 (const char *)msg);
        goto out;
    }
    /* Without JIT (unsupported CPU, regex too large) PCRE2 interprets. */
    (void)pcre2_jit_compile(pc->re, PCRE2_JIT_COMPLETE);
    struct sm *m = sm_new(SM_PCRE, pc);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    pc = NULL;
    payload_append(s, ps, list, m);
    rc = 0;
out:
    if (pc)
        pcre_ctx_free(pc);
    free(buf);
    return rc;
}

void pcre_ctx_free(void *ctx)
{
    struct pcre_ctx *pc = ctx;
    if (!pc)
        return;
    pcre2_code_free(pc->re);
    free(pc);
}

uint32_t pcre_ctx_flags(const struct pcre_ctx *pc)
{
    return pc->flags;
}

void *pcre_thread_new(void)
{
    struct pcre_thread *pt = calloc(1, sizeof *pt);
    if (!pt)
        return NULL;
    pt->md = pcre2_match_data_create(PCRE_OVECTOR_PAIRS, NULL);
    pt->limited = pcre2_match_context_create(NULL);
    pt->unlimited = pcre2_match_context_create(NULL);
    pt->jit = pcre2_jit_stack_create(PCRE_JIT_STACK_START, PCRE_JIT_STACK_MAX, NULL);
    if (!pt->md || !pt->limited || !pt->unlimited || !pt->jit) {
        pcre_thread_free(pt);
        return NULL;
    }
    pcre2_set_match_limit(pt->limited, PCRE_MATCH_LIMIT);
    pcre2_set_depth_limit(pt->limited, PCRE_DEPTH_LIMIT);
    pcre2_jit_stack_assign(pt->limited, NULL, pt->jit);
    pcre2_jit_stack_assign(pt->unlimited, NULL, pt->jit);
    return pt;
}

void pcre_thread_free(void *ptr)
{
    struct pcre_thread *pt = ptr;
    if (!pt)
        return;
    pcre2_jit_stack_free(pt->jit);
    pcre2_match_context_free(pt->unlimited);
    pcre2_match_context_free(pt->limited);
    pcre2_match_data_free(pt->md);
    free(pt);
}

/* 1 with the match bounds (relative to subj), 0 when there is none or the
 * match limit was hit. */
int pcre_exec_at(const struct pcre_ctx *pc, struct inspect_scratch *is, const uint8_t *subj,
                 uint32_t len, uint32_t start, uint32_t *mstart, uint32_t *mend)
{
    struct pcre_thread *pt = inspect_scratch_pcre(is);
    pcre2_match_context *mc = (pc->flags & PCRE_NO_LIMIT) ? pt->unlimited : pt->limited;
    static const uint8_t empty[1];
    int rc = pcre2_match(pc->re, subj ? subj : empty, len, start, 0, pt->md, mc);
    if (rc < 0)
        return 0;
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(pt->md);
    *mstart = (uint32_t)ov[0];
    *mend = (uint32_t)ov[1];
    return 1;
}
