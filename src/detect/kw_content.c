/*
 * content and its modifiers (nocase depth offset distance within startswith
 * endswith fast_pattern rawbytes), the dotprefix transform, the helpers the
 * payload keywords share, and kw_payload_table.
 *
 * A content value arrives either raw (`!"a|3B|b\;"`) or unquoted and
 * unescaped by the parser (`a|3B|b;`, negation as a leading '!'); `|..|`
 * hex blocks are decoded here in both cases.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "detect/kw_payload.h"

/* ---- Shared helpers ---------------------------------------------------- */

static const char *skip_space(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

int payload_value_split(const char *kw, const char *value, bool unescape, bool *negated,
                        char *out, size_t outcap, size_t *outlen, char *err, size_t errlen)
{
    const char *p = skip_space(value ? value : "");
    *negated = false;
    if (*p == '!') {
        *negated = true;
        p = skip_space(p + 1);
    }
    size_t n = 0;
    if (*p != '"') {
        size_t len = strlen(p);
        while (len > 0 && isspace((unsigned char)p[len - 1]))
            len--;
        if (len + 1 > outcap) {
            snprintf(err, errlen, "'%s' value too long", kw);
            return -1;
        }
        memcpy(out, p, len);
        out[len] = '\0';
        *outlen = len;
        return 0;
    }
    for (p++; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\') {
            char e = p[1];
            if (e == '\0') {
                snprintf(err, errlen, "'%s' value ends with a backslash", kw);
                return -1;
            }
            if (unescape) {
                if (e != '"' && e != '\\' && e != ';' && e != ':') {
                    snprintf(err, errlen, "invalid escape '\\%c' in '%s'", e, kw);
                    return -1;
                }
                c = e;
                p++;
            } else if (e == '"') {
                /* keep the backslash: PCRE reads \" as a quote */
                if (n + 2 >= outcap)
                    goto too_long;
                out[n++] = '\\';
                c = '"';
                p++;
            }
        }
        if (n + 1 >= outcap)
            goto too_long;
        out[n++] = c;
    }
    if (*p != '"') {
        snprintf(err, errlen, "'%s' value has no closing quote", kw);
        return -1;
    }
    p = skip_space(p + 1);
    if (*p) {
        snprintf(err, errlen, "'%s' has trailing characters after the closing quote", kw);
        return -1;
    }
    out[n] = '\0';
    *outlen = n;
    return 0;
too_long:
    snprintf(err, errlen, "'%s' value too long", kw);
    return -1;
}

int payload_var_lookup(const struct sig *s, const char *name)
{
    for (int i = 0; i < s->nvars; i++)
        if (strcmp(s->var_names[i], name) == 0)
            return i;
    return -1;
}

int payload_var_define(struct sig *s, const char *name, char *err, size_t errlen)
{
    size_t len = strlen(name);
    if (len == 0 || len >= sizeof(s->var_names[0]) || !(isalpha((unsigned char)name[0]) ||
                                                         name[0] == '_')) {
        snprintf(err, errlen, "invalid variable name '%s'", name);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '.' &&
            name[i] != '-') {
            snprintf(err, errlen, "invalid variable name '%s'", name);
            return -1;
        }
    }
    if (payload_var_lookup(s, name) >= 0) {
        snprintf(err, errlen, "variable '%s' defined twice", name);
        return -1;
    }
    if (s->nvars >= SIG_MAX_VARS) {
        snprintf(err, errlen, "too many byte_extract/byte_math variables (max %d)",
                 SIG_MAX_VARS);
        return -1;
    }
    memcpy(s->var_names[s->nvars], name, len + 1);
    return s->nvars++;
}

int payload_parse_int(const char *kw, const char *v, int64_t min, int64_t max, int64_t *out,
                      char *err, size_t errlen)
{
    const char *p = skip_space(v ? v : "");
    char *end;
    errno = 0;
    bool neg = *p == '-';
    const char *digits = (*p == '-' || *p == '+') ? p + 1 : p;
    long long x;
    if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        unsigned long long u = strtoull(digits + 2, &end, 16);
        if (end == digits + 2 || u > INT64_MAX)
            goto bad;
        x = neg ? -(long long)u : (long long)u;
    } else {
        if (!isdigit((unsigned char)*digits))
            goto bad;
        x = strtoll(p, &end, 10);
    }
    if (errno != 0 || *skip_space(end) != '\0')
        goto bad;
    if (x < min || x > max) {
        snprintf(err, errlen, "'%s' value %lld out of range [%" PRId64 ", %" PRId64 "]", kw, x,
                 min, max);
        return -1;
    }
    *out = x;
    return 0;
bad:
    snprintf(err, errlen, "invalid number '%s' for '%s'", v ? v : "", kw);
    return -1;
}

int payload_num_or_var(const struct sig *s, const char *kw, const char *v, int64_t min,
                       int64_t max, int64_t *num, int8_t *var, char *err, size_t errlen)
{
    const char *p = skip_space(v ? v : "");
    *var = -1;
    *num = 0;
    if (isalpha((unsigned char)*p) || *p == '_') {
        char name[64];
        size_t len = strlen(p);
        while (len > 0 && isspace((unsigned char)p[len - 1]))
            len--;
        if (len >= sizeof name)
            len = sizeof name - 1;
        memcpy(name, p, len);
        name[len] = '\0';
        int idx = payload_var_lookup(s, name);
        if (idx < 0) {
            snprintf(err, errlen, "unknown variable '%s' in '%s'", name, kw);
            return -1;
        }
        *var = (int8_t)idx;
        return 0;
    }
    return payload_parse_int(kw, p, min, max, num, err, errlen);
}

void payload_append(struct sig *s, struct parse_state *ps, int buf, struct sm *m)
{
    sm_append(&s->lists[buf], m);
    ps->last_payload_sm = m;
}

bool sm_is_relative(const struct sm *m)
{
    switch (m->type) {
    case SM_CONTENT:
        return ((const struct content *)m->ctx)->flags & CONTENT_RELATIVE;
    case SM_PCRE:
        return pcre_ctx_flags(m->ctx) & PCRE_RELATIVE;
    case SM_BYTE_TEST:
    case SM_BYTE_JUMP:
    case SM_BYTE_EXTRACT:
    case SM_BYTE_MATH:
        return ((const struct byte_ctx *)m->ctx)->flags & BYTE_RELATIVE;
    case SM_ISDATAAT:
        return ((const struct isdataat_ctx *)m->ctx)->flags & ISDATAAT_RELATIVE;
    case SM_BASE64_DECODE:
        return ((const struct base64_ctx *)m->ctx)->flags & B64_RELATIVE;
    default:
        return false;
    }
}

/* ---- content ------------------------------------------------------------ */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Decodes `|41 42|` blocks in place; returns the byte length or -1. */
static long content_decode(char *buf, size_t len, char *err, size_t errlen)
{
    size_t n = 0;
    bool hex = false;
    int hi = -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '|') {
            if (hex && hi >= 0) {
                snprintf(err, errlen, "odd number of hex digits in content");
                return -1;
            }
            hex = !hex;
            continue;
        }
        if (!hex) {
            buf[n++] = (char)c;
            continue;
        }
        if (isspace(c))
            continue;
        int v = hexval(c);
        if (v < 0) {
            snprintf(err, errlen, "invalid hex character '%c' in content", c);
            return -1;
        }
        if (hi < 0) {
            hi = v;
        } else {
            buf[n++] = (char)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hex) {
        snprintf(err, errlen, "unterminated hex block in content");
        return -1;
    }
    return (long)n;
}

static int content_add(struct sig *s, struct parse_state *ps, int list, const char *value,
                       char *err, size_t errlen)
{
    size_t cap = strlen(value ? value : "") + 1;
    char *buf = malloc(cap);
    int rc = -1;
    bool neg;
    size_t len;
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (payload_value_split("content", value, true, &neg, buf, cap, &len, err, errlen) < 0)
        goto out;
    long n = content_decode(buf, len, err, errlen);
    if (n < 0)
        goto out;
    if (n == 0) {
        snprintf(err, errlen, "'content' is empty");
        goto out;
    }
    struct content *c = calloc(1, sizeof *c);
    if (!c || !(c->pat = malloc((size_t)n))) {
        free(c);
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    memcpy(c->pat, buf, (size_t)n);
    c->len = (uint32_t)n;
    c->flags = neg ? CONTENT_NEGATED : 0;
    c->offset_var = c->depth_var = c->distance_var = c->within_var = -1;
    const struct sm *head = s->lists[list];
    if (head && head->type == SM_DOTPREFIX)
        c->flags |= CONTENT_DOTPREFIX;
    struct sm *m = sm_new(SM_CONTENT, c);
    if (!m) {
        free(c->pat);
        free(c);
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    payload_append(s, ps, list, m);
    ps->last_content = c;
    ps->last_content_buf = list;
    ps->saw_content = true;
    rc = 0;
out:
    free(buf);
    return rc;
}

static int kw_content_setup(struct sig *s, struct parse_state *ps, const char *value, char *err,
                            size_t errlen)
{
    return content_add(s, ps, ps->cur_buf, value, err, errlen);
}

/* uricontent: Snort's content on the normalized URI (content + http_uri). */
static int kw_uricontent_setup(struct sig *s, struct parse_state *ps, const char *value,
                               char *err, size_t errlen)
{
    if (ps->cur_buf != BUF_PAYLOAD && ps->cur_buf != BUF_HTTP_URI) {
        snprintf(err, errlen, "'uricontent' can't be used while the sticky buffer '%s' is in "
                              "effect", buffer_name(ps->cur_buf));
        return -1;
    }
    return content_add(s, ps, BUF_HTTP_URI, value, err, errlen);
}

/* The content a modifier applies to: the last one, in the sticky buffer
 * when one is in effect. */
static struct content *modifier_target(struct parse_state *ps, const char *kw, char *err,
                                       size_t errlen)
{
    struct content *c = ps->last_content;
    if (!c || (ps->cur_buf != BUF_PAYLOAD && ps->last_content_buf != ps->cur_buf)) {
        snprintf(err, errlen, "'%s' needs a preceding content", kw);
        return NULL;
    }
    if (c->flags & CONTENT_FP_ONLY) {
        snprintf(err, errlen, "'%s' can't be used with 'fast_pattern:only'", kw);
        return NULL;
    }
    return c;
}

static int kw_nocase_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                           size_t errlen)
{
    (void)s;
    (void)v;
    struct content *c = ps->last_content;
    if (!c || (ps->cur_buf != BUF_PAYLOAD && ps->last_content_buf != ps->cur_buf)) {
        snprintf(err, errlen, "'nocase' needs a preceding content");
        return -1;
    }
    if (c->flags & CONTENT_NOCASE) {
        snprintf(err, errlen, "'nocase' given twice for the same content");
        return -1;
    }
    c->flags |= CONTENT_NOCASE;
    return 0;
}

static int kw_rawbytes_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                             size_t errlen)
{
    (void)s;
    (void)v;
    struct content *c = modifier_target(ps, "rawbytes", err, errlen);
    if (!c)
        return -1;
    if (ps->last_content_buf != BUF_PAYLOAD) {
        snprintf(err, errlen, "'rawbytes' can't be used with the '%s' buffer",
                 buffer_name(ps->last_content_buf));
        return -1;
    }
    c->flags |= CONTENT_RAWBYTES;
    return 0;
}

#define ABSOLUTE_FLAGS (CONTENT_OFFSET | CONTENT_DEPTH)
#define RELATIVE_FLAGS (CONTENT_DISTANCE | CONTENT_WITHIN)

/* depth, offset, distance, within: one setup, told apart by the flag. */
static int position_setup(struct sig *s, struct parse_state *ps, const char *v, uint32_t flag,
                          char *err, size_t errlen)
{
    static const struct {
        uint32_t flag;
        const char *name;
        int64_t min;
    } kinds[] = {
        { CONTENT_DEPTH, "depth", 1 },
        { CONTENT_OFFSET, "offset", 0 },
        { CONTENT_DISTANCE, "distance", -65535 },
        { CONTENT_WITHIN, "within", 1 },
    };
    unsigned k = 0;
    while (kinds[k].flag != flag)
        k++;
    const char *kw = kinds[k].name;
    struct content *c = modifier_target(ps, kw, err, errlen);
    if (!c)
        return -1;
    if (c->flags & flag) {
        snprintf(err, errlen, "'%s' given twice for the same content", kw);
        return -1;
    }
    if (c->flags & CONTENT_STARTSWITH) {
        snprintf(err, errlen, "'%s' can't be mixed with 'startswith'", kw);
        return -1;
    }
    uint32_t clash = (flag & ABSOLUTE_FLAGS) ? RELATIVE_FLAGS : ABSOLUTE_FLAGS;
    if (c->flags & clash) {
        snprintf(err, errlen,
                 "'%s' can't be mixed with %s on the same content", kw,
                 (flag & ABSOLUTE_FLAGS) ? "'distance'/'within'" : "'depth'/'offset'");
        return -1;
    }
    if ((c->flags & CONTENT_FAST_PATTERN) && (c->flags & CONTENT_NEGATED)) {
        snprintf(err, errlen, "'%s' can't be used on a negated fast_pattern content", kw);
        return -1;
    }
    int64_t num;
    int8_t var;
    if (payload_num_or_var(s, kw, v, kinds[k].min, 65535, &num, &var, err, errlen) < 0)
        return -1;
    if (var < 0 && (flag == CONTENT_DEPTH || flag == CONTENT_WITHIN) && num < c->len) {
        snprintf(err, errlen, "'%s' %" PRId64 " is smaller than the content length %" PRIu32,
                 kw, num, c->len);
        return -1;
    }
    c->flags |= flag;
    switch (flag) {
    case CONTENT_DEPTH:
        c->depth = (int32_t)num;
        c->depth_var = var;
        break;
    case CONTENT_OFFSET:
        c->offset = (int32_t)num;
        c->offset_var = var;
        break;
    case CONTENT_DISTANCE:
        c->distance = (int32_t)num;
        c->distance_var = var;
        c->flags |= CONTENT_RELATIVE;
        break;
    default:
        c->within = (int32_t)num;
        c->within_var = var;
        c->flags |= CONTENT_RELATIVE;
        break;
    }
    return 0;
}

static int kw_depth_setup(struct sig *s, struct parse_state *ps, const char *v, char *e,
                          size_t n)
{
    return position_setup(s, ps, v, CONTENT_DEPTH, e, n);
}

static int kw_offset_setup(struct sig *s, struct parse_state *ps, const char *v, char *e,
                           size_t n)
{
    return position_setup(s, ps, v, CONTENT_OFFSET, e, n);
}

static int kw_distance_setup(struct sig *s, struct parse_state *ps, const char *v, char *e,
                             size_t n)
{
    return position_setup(s, ps, v, CONTENT_DISTANCE, e, n);
}

static int kw_within_setup(struct sig *s, struct parse_state *ps, const char *v, char *e,
                           size_t n)
{
    return position_setup(s, ps, v, CONTENT_WITHIN, e, n);
}

static int kw_startswith_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                               size_t errlen)
{
    (void)s;
    (void)v;
    struct content *c = modifier_target(ps, "startswith", err, errlen);
    if (!c)
        return -1;
    if (c->flags & (ABSOLUTE_FLAGS | RELATIVE_FLAGS | CONTENT_STARTSWITH)) {
        snprintf(err, errlen,
                 "'startswith' can't be mixed with depth, offset, distance or within");
        return -1;
    }
    c->flags |= CONTENT_STARTSWITH;
    return 0;
}

static int kw_endswith_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                             size_t errlen)
{
    (void)s;
    (void)v;
    struct content *c = modifier_target(ps, "endswith", err, errlen);
    if (!c)
        return -1;
    if (c->flags & CONTENT_ENDSWITH) {
        snprintf(err, errlen, "'endswith' given twice for the same content");
        return -1;
    }
    c->flags |= CONTENT_ENDSWITH;
    return 0;
}

static bool sig_has_fast_pattern(const struct sig *s)
{
    for (int b = 0; b < BUF_COUNT; b++)
        for (const struct sm *m = s->lists[b]; m; m = m->next)
            if (m->type == SM_CONTENT &&
                (((const struct content *)m->ctx)->flags & CONTENT_FAST_PATTERN))
                return true;
    return false;
}

/* fast_pattern, fast_pattern:only, fast_pattern:OFF,LEN */
static int kw_fast_pattern_setup(struct sig *s, struct parse_state *ps, const char *v,
                                 char *err, size_t errlen)
{
    struct content *c = modifier_target(ps, "fast_pattern", err, errlen);
    if (!c)
        return -1;
    if (c->flags & CONTENT_FAST_PATTERN) {
        snprintf(err, errlen, "'fast_pattern' given twice for the same content");
        return -1;
    }
    if (sig_has_fast_pattern(s)) {
        snprintf(err, errlen, "'fast_pattern' can be used on only one content in a rule");
        return -1;
    }
    const char *p = skip_space(v ? v : "");
    uint32_t add = CONTENT_FAST_PATTERN;
    if (*p == '\0') {
        /* plain fast_pattern */
    } else if (strcmp(p, "only") == 0) {
        if (c->flags & CONTENT_NEGATED) {
            snprintf(err, errlen, "'fast_pattern:only' can't be used on a negated content");
            return -1;
        }
        if (c->flags & (ABSOLUTE_FLAGS | RELATIVE_FLAGS)) {
            snprintf(err, errlen, "'fast_pattern:only' can't be used with depth, offset, "
                                  "distance or within");
            return -1;
        }
        add |= CONTENT_FP_ONLY;
    } else {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%s", p);
        char *comma = strchr(tmp, ',');
        if (!comma) {
            snprintf(err, errlen, "invalid 'fast_pattern' value '%s'", p);
            return -1;
        }
        *comma = '\0';
        int64_t off, len;
        if (payload_parse_int("fast_pattern", tmp, 0, 65535, &off, err, errlen) < 0 ||
            payload_parse_int("fast_pattern", comma + 1, 1, 65535, &len, err, errlen) < 0)
            return -1;
        if ((uint64_t)off + (uint64_t)len > c->len) {
            snprintf(err, errlen,
                     "'fast_pattern' chop %" PRId64 ",%" PRId64
                     " goes past the content length %" PRIu32,
                     off, len, c->len);
            return -1;
        }
        c->fp_chop_off = (uint32_t)off;
        c->fp_chop_len = (uint32_t)len;
        add |= CONTENT_FP_CHOP;
    }
    if ((c->flags & CONTENT_NEGATED) && (c->flags & (ABSOLUTE_FLAGS | RELATIVE_FLAGS))) {
        snprintf(err, errlen, "'fast_pattern' can't be used on a negated content with depth, "
                              "offset, distance or within");
        return -1;
    }
    c->flags |= add;
    return 0;
}

/* dotprefix: a transform that prepends '.' to the sticky buffer (dns.query),
 * so ".example.com" matches "example.com" and "a.example.com" alike. */
static int kw_dotprefix_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                              size_t errlen)
{
    (void)v;
    if (ps->cur_buf == BUF_PAYLOAD || ps->cur_buf == BUF_BASE64_DATA) {
        snprintf(err, errlen, "'dotprefix' needs a sticky buffer");
        return -1;
    }
    if (s->lists[ps->cur_buf]) {
        /* Suricata 7 makes the transformed buffer a list of its own; here a
         * transform covers the whole list, so it must come first. */
        snprintf(err, errlen, "'dotprefix' must directly follow the sticky buffer "
                              "(a transform after a content is not supported)");
        return -1;
    }
    struct sm *m = sm_new(SM_DOTPREFIX, NULL);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sm_append(&s->lists[ps->cur_buf], m);
    return 0;
}

static bool has_upper(const struct content *c)
{
    for (uint32_t i = 0; i < c->len; i++)
        if (isupper(c->pat[i]))
            return true;
    return false;
}

int payload_sig_finalize(struct sig *s, char *err, size_t errlen)
{
    for (const struct sm *m = s->lists[BUF_HTTP_HOST]; m; m = m->next) {
        if (m->type != SM_CONTENT)
            continue;
        const struct content *c = m->ctx;
        if (!(c->flags & CONTENT_NOCASE) && has_upper(c)) {
            snprintf(err, errlen, "http.host pattern has uppercase characters; the buffer is "
                                  "lowercase: use a lowercase pattern or nocase");
            return -1;
        }
    }
    return 0;
}

/* ---- The table ------------------------------------------------------------ */

const struct keyword kw_payload_table[] = {
    { "content", KW_VALUE, kw_content_setup, "match bytes: \"text|41 42|\", ! negates" },
    { "uricontent", KW_VALUE, kw_uricontent_setup, "content on http.uri (Snort's form)" },
    { "nocase", KW_NOVALUE, kw_nocase_setup, "content matches ignoring ASCII case" },
    { "depth", KW_VALUE, kw_depth_setup, "content must match in the first N bytes after offset" },
    { "offset", KW_VALUE, kw_offset_setup, "content search starts at N" },
    { "distance", KW_VALUE, kw_distance_setup, "content starts N bytes after the previous match" },
    { "within", KW_VALUE, kw_within_setup, "content ends within N bytes of the previous match" },
    { "startswith", KW_NOVALUE, kw_startswith_setup, "content at the start of the buffer" },
    { "endswith", KW_NOVALUE, kw_endswith_setup, "content at the end of the buffer" },
    { "fast_pattern", KW_OPTIONAL, kw_fast_pattern_setup,
      "use this content for the prefilter (:only, :OFF,LEN)" },
    { "rawbytes", KW_NOVALUE, kw_rawbytes_setup, "accepted; packets are always raw" },
    { "dotprefix", KW_NOVALUE, kw_dotprefix_setup, "transform: prepend '.' to the buffer" },
    { "isdataat", KW_VALUE, kw_isdataat_setup, "[!]N[,relative]: data at offset N" },
    { "pcre", KW_VALUE, kw_pcre_setup, "\"/regex/flags\" (PCRE2, JIT)" },
    { "byte_test", KW_VALUE, kw_byte_test_setup, "compare bytes read from the buffer" },
    { "byte_jump", KW_VALUE, kw_byte_jump_setup, "move by a length read from the buffer" },
    { "byte_extract", KW_VALUE, kw_byte_extract_setup, "read bytes into a variable" },
    { "byte_math", KW_VALUE, kw_byte_math_setup, "arithmetic on bytes into a variable" },
    { "bsize", KW_VALUE, kw_bsize_setup, "buffer size: N, <N, >N, <=N, >=N, N<>M" },
    { "urilen", KW_VALUE, kw_urilen_setup, "http.uri length: N, <N, >N, N<>M[,norm|raw]" },
    { "base64_decode", KW_OPTIONAL, kw_base64_decode_setup,
      "decode base64 (bytes N, offset N, relative) for base64_data" },
#define X(id, name, legacy, app) { name, KW_NOVALUE, kw_sticky_##id, "sticky buffer " name },
#include "detect/buffers.def"
#undef X
    /* aliases of sticky buffers */
#define A(alias, id, name) { alias, KW_NOVALUE, kw_sticky_##id, "sticky buffer " name },
#include "detect/buffer_aliases.def"
#undef A
    /* legacy content modifiers: move the last content into the buffer */
#define X(id, name, legacy, app)
#define XL(id, name, legacy, app) \
    { legacy, KW_NOVALUE, kw_legacy_##id, "content modifier: " name },
#include "detect/buffers.def"
#undef XL
#undef X
    { NULL, 0, NULL, NULL },
};
