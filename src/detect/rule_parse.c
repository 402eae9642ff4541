/*
 * One rule's text to a struct sig: the header (action, protocol, source,
 * direction, destination) and the options "( name:value; name; ... )".
 *
 * Option values, as the keyword setup functions receive them:
 *  - Options end at a ';' that is not escaped by a backslash. Quotes do not
 *    protect a ';' (Suricata's rule: ';' '"' '\' must be escaped everywhere).
 *  - The value is the text after the first ':', with surrounding white
 *    space removed. KW_NOVALUE keywords get NULL.
 *  - A quoted value ("...", or !"..." for a negation) reaches the keyword
 *    without its quotes and with the escapes \" \; \\ \: resolved; any
 *    other backslash pair is kept as written. A negation is passed as a
 *    leading '!'. For content-like keywords (content, uricontent) a literal
 *    '!' or '"' at the start of the quoted text, and white space at either
 *    end, are passed as hex bytes (|21|, |22|, |20| ...), so that a leading
 *    '!' always means negation and the keyword may trim the value.
 *  - pcre keeps its own syntax: the outer quotes (the first and the last
 *    character) are removed and a leading '!' kept, but backslashes and
 *    any '"' inside reach the keyword untouched.
 *  - Unquoted values get the same escape resolution (pcre excepted).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect/detect_int.h"
#include "detect/kw_payload.h"

/* kw_pcre.c frees its compiled pattern and match settings. */
void pcre_ctx_free(void *ctx);

/* ---- Matcher lists and signature lifetime ------------------------------- */

struct sm *sm_new(int type, void *ctx)
{
    struct sm *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->type = (uint16_t)type;
    m->ctx = ctx;
    return m;
}

void sm_append(struct sm **head, struct sm *m)
{
    while (*head)
        head = &(*head)->next;
    *head = m;   /* m may head a chain of its own */
}

struct sm *sm_last(struct sm *head)
{
    while (head && head->next)
        head = head->next;
    return head;
}

static void sm_free(struct sm *m)
{
    if (m->ctx) {
        if (m->type == SM_CONTENT) {
            free(((struct content *)m->ctx)->pat);
            free(m->ctx);
        } else if (m->type == SM_PCRE) {
            pcre_ctx_free(m->ctx);
        } else {
            free(m->ctx);
        }
    }
    free(m);
}

void sm_free_list(struct sm *head)
{
    while (head) {
        struct sm *next = head->next;
        sm_free(head);
        head = next;
    }
}

void sig_free(struct sig *s)
{
    if (!s)
        return;
    free(s->msg);
    free(s->classtype);
    free(s->class_desc);
    free(s->target);
    json_decref(s->metadata);
    json_decref(s->references);
    addr_set_free(s->src);
    addr_set_free(s->dst);
    port_set_free(s->sp);
    port_set_free(s->dp);
    for (int i = 0; i < BUF_COUNT; i++)
        sm_free_list(s->lists[i]);
    sm_free_list(s->pkt);
    sm_free_list(s->post);
    free(s->threshold);
    free(s->detection_filter);
    free(s->file);
    free(s);
}

/* ---- Header ------------------------------------------------------------- */

static const struct {
    const char *name;
    enum sig_action action;
} actions[] = {
    { "alert", ACTION_ALERT },       { "drop", ACTION_DROP },
    { "reject", ACTION_REJECT },     { "rejectsrc", ACTION_REJECT },
    { "rejectdst", ACTION_REJECT },  { "rejectboth", ACTION_REJECT },
    { "pass", ACTION_PASS },
};

static const struct {
    const char *name;
    uint8_t ip_proto;
    uint8_t app;
    uint32_t flags;
} protocols[] = {
    { "ip", 0, APP_NONE, 0 },
    { "tcp", 6, APP_NONE, 0 },
    { "udp", 17, APP_NONE, 0 },
    { "icmp", 1, APP_NONE, SIG_ICMP_ANY_VER },
    { "icmpv4", 1, APP_NONE, 0 },
    { "icmpv6", 58, APP_NONE, 0 },
    { "tcp-pkt", 6, APP_NONE, SIG_TCP_PKT },
    { "tcp-stream", 6, APP_NONE, SIG_FLOW_ONLY_STREAM },
    { "pkthdr", 0, APP_NONE, 0 },
    { "http", 6, APP_HTTP, 0 },
    { "http1", 6, APP_HTTP, 0 },
    { "tls", 6, APP_TLS, 0 },
    { "ssl", 6, APP_TLS, 0 },
    { "dns", 0, APP_DNS, 0 },
};

#define HDR_TOKENS 7

/* Splits the header into white-space separated tokens; brackets group. */
static int header_tokens(char *hdr, char *tok[HDR_TOKENS], char *err, size_t errlen)
{
    int n = 0;
    char *p = hdr;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        if (n == HDR_TOKENS) {
            int len = (int)strlen(p);
            while (len > 0 && isspace((unsigned char)p[len - 1]))
                len--;
            snprintf(err, errlen,
                     "bad rule header: unexpected '%.*s' after the destination port", len, p);
            return -1;
        }
        tok[n++] = p;
        int depth = 0;
        while (*p && (depth > 0 || !isspace((unsigned char)*p))) {
            if (*p == '[')
                depth++;
            else if (*p == ']')
                depth--;
            p++;
        }
        if (*p)
            *p++ = '\0';
    }
    if (n < HDR_TOKENS) {
        snprintf(err, errlen,
                 "bad rule header: expected 'action protocol src_addr src_port -> "
                 "dst_addr dst_port'");
        return -1;
    }
    return 0;
}

static int parse_header(struct sig *s, const struct conf *c, char *hdr, char *err, size_t errlen)
{
    char *tok[HDR_TOKENS];
    if (header_tokens(hdr, tok, err, errlen) < 0)
        return -1;

    size_t i;
    for (i = 0; i < sizeof actions / sizeof *actions; i++)
        if (strcasecmp(tok[0], actions[i].name) == 0)
            break;
    if (i == sizeof actions / sizeof *actions) {
        snprintf(err, errlen, "unsupported action '%s'", tok[0]);
        return -1;
    }
    s->action = (uint8_t)actions[i].action;

    for (i = 0; i < sizeof protocols / sizeof *protocols; i++)
        if (strcasecmp(tok[1], protocols[i].name) == 0)
            break;
    if (i == sizeof protocols / sizeof *protocols) {
        snprintf(err, errlen, "unsupported protocol '%s'", tok[1]);
        return -1;
    }
    s->ip_proto = protocols[i].ip_proto;
    s->app_proto = protocols[i].app;
    s->flags |= protocols[i].flags;

    if (strcmp(tok[4], "<>") == 0) {
        s->flags |= SIG_BIDIR;
    } else if (strcmp(tok[4], "<-") == 0) {
        snprintf(err, errlen, "direction '<-' is not supported: use '->' or '<>'");
        return -1;
    } else if (strcmp(tok[4], "->") != 0) {
        snprintf(err, errlen, "bad direction '%s': use '->' or '<>'", tok[4]);
        return -1;
    }

    if (!(s->src = addr_set_parse(c, tok[2], err, errlen)) ||
        !(s->sp = port_set_parse(c, tok[3], err, errlen)) ||
        !(s->dst = addr_set_parse(c, tok[5], err, errlen)) ||
        !(s->dp = port_set_parse(c, tok[6], err, errlen)))
        return -1;
    return 0;
}

/* ---- Options ------------------------------------------------------------ */

static bool is_escapable(char c)
{
    return c == '"' || c == ';' || c == '\\' || c == ':';
}

/* Copies [p, end) to out resolving \" \; \\ \: ; returns the end of out. */
static char *unescape(const char *p, const char *end, char *out)
{
    while (p < end) {
        if (*p == '\\' && p + 1 < end && is_escapable(p[1])) {
            *out++ = p[1];
            p += 2;
        } else {
            *out++ = *p++;
        }
    }
    return out;
}

/*
 * A quoted content's text, unescaped, with the characters that would be
 * misread once the quotes are gone written as hex: a leading '!' (negation)
 * or '"' (a quoted value), and white space at either end (trimmed).
 * Needs room for 4 * (end - p) bytes.
 */
static void put_hex(char *dst, char c)
{
    static const char digits[] = "0123456789ABCDEF";
    unsigned char u = (unsigned char)c;
    dst[0] = '|';
    dst[1] = digits[u >> 4];
    dst[2] = digits[u & 15];
    dst[3] = '|';
}

static char *content_text(const char *p, const char *end, char *out)
{
    char *start = out;
    out = unescape(p, end, out);
    size_t len = (size_t)(out - start), lead = 0, trail = 0;
    while (lead < len && (isspace((unsigned char)start[lead]) || (lead == 0 &&
           (start[0] == '!' || start[0] == '"'))))
        lead++;
    while (trail < len - lead && isspace((unsigned char)start[len - 1 - trail]))
        trail++;
    if (lead == 0 && trail == 0)
        return out;
    /* back to front, so that no byte is overwritten before it is read */
    size_t mid = len - lead - trail;
    for (size_t i = trail; i-- > 0;)
        put_hex(start + lead * 4 + mid + i * 4, start[lead + mid + i]);
    memmove(start + lead * 4, start + lead, mid);
    for (size_t i = lead; i-- > 0;)
        put_hex(start + i * 4, start[i]);
    return start + (lead + trail) * 4 + mid;
}

static bool is_content_like(const char *name)
{
    return strcasecmp(name, "content") == 0 || strcasecmp(name, "uricontent") == 0;
}

/*
 * Turns the raw value [p, end) (already trimmed) into what the keyword
 * receives, in out (room for 4 * (end - p) + 1 bytes). -1 with a reason on a
 * malformed quoted value.
 */
static int option_value(const char *name, const char *p, const char *end, char *out,
                        char *err, size_t errlen)
{
    bool pcre = strcasecmp(name, "pcre") == 0;
    const char *q = p;
    bool neg = false;
    if (*q == '!') {
        q++;
        while (q < end && isspace((unsigned char)*q))
            q++;
        neg = q < end && *q == '"';
    }
    if (!neg)
        q = p;
    if (q == end || *q != '"') {
        char *o = pcre ? (memcpy(out, p, end - p), out + (end - p)) : unescape(p, end, out);
        *o = '\0';
        return 0;
    }
    /* the closing quote: the first '"' not escaped; for pcre the last one,
     * since a regex may hold a bare '"' (Suricata strips the outer pair) */
    const char *close = NULL;
    if (pcre && end - q >= 2 && end[-1] == '"')
        close = end - 1;
    for (const char *r = q + 1; !close && r < end; r++) {
        if (*r == '\\' && r + 1 < end) {
            r++;
            continue;
        }
        if (*r == '"') {
            close = r;
            break;
        }
    }
    if (!close) {
        snprintf(err, errlen, "bad value for '%s': no closing quote", name);
        return -1;
    }
    if (close + 1 != end) {
        snprintf(err, errlen, "bad value for '%s': text after the closing quote", name);
        return -1;
    }
    char *o = out;
    if (neg)
        *o++ = '!';
    const char *in = q + 1;
    if (pcre) {
        memcpy(o, in, close - in);
        o += close - in;
    } else if (is_content_like(name)) {
        o = content_text(in, close, o);
    } else {
        o = unescape(in, close, o);
    }
    *o = '\0';
    return 0;
}

static const char *trim_end(const char *p, const char *end)
{
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    return end;
}

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && isspace((unsigned char)*p))
        p++;
    return p;
}

#define KW_NAME_MAX 64

/* Runs one option [p, end) (without its ';') through its keyword. */
static int parse_option(struct sig *s, struct parse_state *ps, const char *p, const char *end,
                        char *vbuf, char *err, size_t errlen)
{
    const char *colon = memchr(p, ':', end - p);
    const char *nend = trim_end(p, colon ? colon : end);
    char name[KW_NAME_MAX];
    int nlen = (int)(nend - p);
    if (nlen == 0) {
        snprintf(err, errlen, "empty option name");
        return -1;
    }
    snprintf(name, sizeof name, "%.*s", nlen, p);
    const struct keyword *kw = keyword_lookup(name);
    if (!kw || nlen >= KW_NAME_MAX) {
        snprintf(err, errlen, "unsupported keyword '%s'", name);
        return -1;
    }
    const char *value = NULL;
    if (colon) {
        const char *v = skip_space(colon + 1, end);
        const char *vend = trim_end(v, end);
        if (v < vend) {
            if (option_value(name, v, vend, vbuf, err, errlen) < 0)
                return -1;
            value = vbuf;
        }
    }
    if ((kw->flags & KW_NOVALUE) && value) {
        snprintf(err, errlen, "keyword '%s' takes no value", name);
        return -1;
    }
    if ((kw->flags & KW_VALUE) && !value) {
        snprintf(err, errlen, "keyword '%s' needs a value", name);
        return -1;
    }
    err[0] = '\0';
    if (kw->setup(s, ps, value, err, errlen) < 0) {
        if (!err[0])
            snprintf(err, errlen, "bad value for '%s'", name);
        return -1;
    }
    return 0;
}

/* Options between the parentheses, [p, end). */
static int parse_options(struct sig *s, struct parse_state *ps, const char *p, const char *end,
                         char *err, size_t errlen)
{
    char *vbuf = malloc((size_t)(end - p) * 4 + 8);
    if (!vbuf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (;;) {
        p = skip_space(p, end);
        if (p == end)
            break;
        const char *q = p;
        while (q < end && *q != ';') {
            if (*q == '\\' && q + 1 < end)
                q++;
            q++;
        }
        if (q >= end) {
            const char *nend = p + strcspn(p, ":;");
            snprintf(err, errlen, "option '%.*s' is not terminated by ';'",
                     (int)(trim_end(p, nend < end ? nend : end) - p), p);
            rc = -1;
            break;
        }
        if (parse_option(s, ps, p, q, vbuf, err, errlen) < 0) {
            rc = -1;
            break;
        }
        p = q + 1;
    }
    free(vbuf);
    return rc;
}

/* ---- The rule ----------------------------------------------------------- */

struct sig *sig_parse(struct detect_build *b, const char *text, char *err, size_t errlen)
{
    const char *open = strchr(text, '(');
    const char *close = trim_end(text, text + strlen(text));
    if (!open) {
        snprintf(err, errlen, "rule has no options: expected '(' after the header");
        return NULL;
    }
    if (close == text || close[-1] != ')') {
        snprintf(err, errlen, "rule options must end with ')'");
        return NULL;
    }
    close--;

    struct sig *s = calloc(1, sizeof *s);
    char *hdr = strndup(text, (size_t)(open - text));
    if (!s || !hdr) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->gid = 1;
    s->fp_buf = -1;
    if (parse_header(s, b ? b->conf : NULL, hdr, err, errlen) < 0)
        goto fail;

    struct parse_state ps = { .b = b, .cur_buf = BUF_PAYLOAD, .last_content_buf = BUF_PAYLOAD };
    if (parse_options(s, &ps, open + 1, close, err, errlen) < 0)
        goto fail;
    if (s->id == 0) {
        snprintf(err, errlen, "rule has no sid");
        goto fail;
    }
    if (payload_sig_finalize(s, err, errlen) < 0)
        goto fail;
    if (s->priority == 0)
        s->priority = 3;
    if (!s->msg && !(s->msg = strdup(""))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int i = 0; i < BUF_COUNT; i++)
        if (s->lists[i])
            s->buffers_mask |= 1ULL << i;
    free(hdr);
    return s;
fail:
    free(hdr);
    sig_free(s);
    return NULL;
}
