/*
 * Rule addresses and ports: "any", single values, CIDR blocks, ranges,
 * lists "[a,b,...]" (nested), negation "!x" / "![...]" and $VARIABLES from
 * vars.address-groups / vars.port-groups (with Suricata's defaults when the
 * configuration lacks them).
 *
 * Everything is resolved at parse time into sorted, merged, disjoint
 * ranges, so matching is one binary search. A list is the union of its
 * positive elements minus the union of its negated ones; a list with
 * negations and no positives at all starts from every address of both
 * families, so "!1.2.3.4" is every address but 1.2.3.4, IPv6 included, and
 * $EXTERNAL_NET (!$HOME_NET) covers IPv6 peers of an IPv4-only HOME_NET.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_int.h"
#include "engine/config.h"

#define VAR_MAX_DEPTH 16   /* $A referring to $B ...: deeper is a cycle */

/* ---- 128-bit range arithmetic (IPv4 and ports use the low word) --------- */

typedef struct {
    uint64_t hi, lo;
} u128;

struct rng {
    u128 lo, hi;
};

struct rvec {
    struct rng *r;
    unsigned n, cap;
};

enum { FAM_V4, FAM_V6, FAM_COUNT };

/* A set under construction: one range vector per family (ports use FAM_V4). */
struct rset {
    struct rvec f[FAM_COUNT];
};

static int u128_cmp(u128 a, u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

static u128 u128_inc(u128 a)
{
    a.lo++;
    if (a.lo == 0)
        a.hi++;
    return a;
}

static u128 u128_dec(u128 a)
{
    if (a.lo == 0)
        a.hi--;
    a.lo--;
    return a;
}

static int rvec_push(struct rvec *v, u128 lo, u128 hi)
{
    if (v->n == v->cap) {
        unsigned cap = v->cap ? v->cap * 2 : 4;
        struct rng *r = realloc(v->r, cap * sizeof *r);
        if (!r)
            return -1;
        v->r = r;
        v->cap = cap;
    }
    v->r[v->n].lo = lo;
    v->r[v->n].hi = hi;
    v->n++;
    return 0;
}

static int rng_cmp(const void *a, const void *b)
{
    return u128_cmp(((const struct rng *)a)->lo, ((const struct rng *)b)->lo);
}

/* Sorts and merges overlapping or adjacent ranges. */
static void rvec_normalize(struct rvec *v)
{
    if (v->n < 2)
        return;
    qsort(v->r, v->n, sizeof *v->r, rng_cmp);
    unsigned out = 0;
    for (unsigned i = 1; i < v->n; i++) {
        struct rng *cur = &v->r[out];
        const struct rng *nx = &v->r[i];
        bool cur_at_max = cur->hi.hi == UINT64_MAX && cur->hi.lo == UINT64_MAX;
        if (cur_at_max || u128_cmp(nx->lo, u128_inc(cur->hi)) <= 0) {
            if (u128_cmp(nx->hi, cur->hi) > 0)
                cur->hi = nx->hi;
        } else {
            v->r[++out] = *nx;
        }
    }
    v->n = out + 1;
}

/* a minus b, both normalized; the result is normalized. */
static int rvec_subtract(const struct rvec *a, const struct rvec *b, struct rvec *out)
{
    unsigned j = 0;
    for (unsigned i = 0; i < a->n; i++) {
        u128 lo = a->r[i].lo, hi = a->r[i].hi;
        bool empty = false;
        while (j < b->n && u128_cmp(b->r[j].hi, lo) < 0)
            j++;
        for (unsigned k = j; k < b->n && u128_cmp(b->r[k].lo, hi) <= 0; k++) {
            if (u128_cmp(b->r[k].lo, lo) > 0 &&
                rvec_push(out, lo, u128_dec(b->r[k].lo)) < 0)
                return -1;
            if (u128_cmp(b->r[k].hi, hi) >= 0) {
                empty = true;
                break;
            }
            lo = u128_inc(b->r[k].hi);
        }
        if (!empty && rvec_push(out, lo, hi) < 0)
            return -1;
    }
    return 0;
}

static int rvec_append(struct rvec *dst, const struct rvec *src)
{
    for (unsigned i = 0; i < src->n; i++)
        if (rvec_push(dst, src->r[i].lo, src->r[i].hi) < 0)
            return -1;
    return 0;
}

static void rset_free(struct rset *s)
{
    for (int f = 0; f < FAM_COUNT; f++) {
        free(s->f[f].r);
        s->f[f].r = NULL;
        s->f[f].n = s->f[f].cap = 0;
    }
}

/* ---- The shared list/negation/variable evaluator ------------------------ */

enum kind { KIND_ADDR, KIND_PORT };

struct pctx {
    const struct conf *c;
    enum kind kind;
    char *err;
    size_t errlen;
    int depth;
};

static const struct {
    const char *name, *value;
} addr_defaults[] = {
    { "HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]" },
    { "EXTERNAL_NET", "!$HOME_NET" },
    { "HTTP_SERVERS", "$HOME_NET" },   { "SMTP_SERVERS", "$HOME_NET" },
    { "SQL_SERVERS", "$HOME_NET" },    { "DNS_SERVERS", "$HOME_NET" },
    { "TELNET_SERVERS", "$HOME_NET" }, { "AIM_SERVERS", "$EXTERNAL_NET" },
    { "DC_SERVERS", "$HOME_NET" },     { "DNP3_SERVER", "$HOME_NET" },
    { "DNP3_CLIENT", "$HOME_NET" },    { "MODBUS_CLIENT", "$HOME_NET" },
    { "MODBUS_SERVER", "$HOME_NET" },  { "ENIP_CLIENT", "$HOME_NET" },
    { "ENIP_SERVER", "$HOME_NET" },
}, port_defaults[] = {
    { "HTTP_PORTS", "80" },           { "SHELLCODE_PORTS", "!80" },
    { "ORACLE_PORTS", "1521" },       { "SSH_PORTS", "22" },
    { "DNP3_PORTS", "20000" },        { "MODBUS_PORTS", "502" },
    { "FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]" },
    { "FTP_PORTS", "21" },            { "GENEVE_PORTS", "6081" },
    { "VXLAN_PORTS", "4789" },        { "TEREDO_PORTS", "3544" },
};

static int eval_expr(struct pctx *x, const char **pp, struct rset *out);

static int fail(struct pctx *x, const char *fmt, const char *a, int alen)
{
    snprintf(x->err, x->errlen, fmt, alen, a);
    return -1;
}

static const char *var_value(struct pctx *x, const char *name)
{
    char path[160];
    const char *group = x->kind == KIND_ADDR ? "address-groups" : "port-groups";
    snprintf(path, sizeof path, "vars.%s.%s", group, name);
    const struct conf_node *n = x->c ? conf_find(x->c, path) : NULL;
    if (n && n->value)
        return n->value;
    if (x->kind == KIND_ADDR) {
        for (size_t i = 0; i < sizeof addr_defaults / sizeof *addr_defaults; i++)
            if (strcmp(addr_defaults[i].name, name) == 0)
                return addr_defaults[i].value;
    } else {
        for (size_t i = 0; i < sizeof port_defaults / sizeof *port_defaults; i++)
            if (strcmp(port_defaults[i].name, name) == 0)
                return port_defaults[i].value;
    }
    return NULL;
}

/* Whole text of one expression: parses it and requires that nothing follows. */
static int eval_text(struct pctx *x, const char *text, struct rset *out)
{
    const char *p = text;
    if (eval_expr(x, &p, out) < 0)
        return -1;
    while (isspace((unsigned char)*p))
        p++;
    if (*p) {
        rset_free(out);
        return fail(x, "unexpected '%.*s' in address or port list", p, (int)strcspn(p, ",]"));
    }
    return 0;
}

static int eval_var(struct pctx *x, const char *name, int len, struct rset *out)
{
    char buf[128];
    if (len <= 0 || len >= (int)sizeof buf)
        return fail(x, "bad variable name '$%.*s'", name, len);
    memcpy(buf, name, len);
    buf[len] = '\0';
    const char *val = var_value(x, buf);
    if (!val)
        return fail(x, "unknown variable $%.*s", name, len);
    if (x->depth >= VAR_MAX_DEPTH)
        return fail(x, "variable $%.*s nests too deeply (a cycle?)", name, len);
    x->depth++;
    int rc = eval_text(x, val, out);
    x->depth--;
    return rc;
}

static int set_full(struct pctx *x, struct rset *s, int fam)
{
    u128 zero = { 0, 0 }, max;
    if (x->kind == KIND_PORT)
        max = (u128){ 0, 65535 };
    else if (fam == FAM_V4)
        max = (u128){ 0, UINT32_MAX };
    else
        max = (u128){ UINT64_MAX, UINT64_MAX };
    return rvec_push(&s->f[fam], zero, max);
}

/* ---- Atoms -------------------------------------------------------------- */

static bool parse_u128_ip(const char *s, int *fam, u128 *v)
{
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton(AF_INET, s, &a4) == 1) {
        *fam = FAM_V4;
        *v = (u128){ 0, ntohl(a4.s_addr) };
        return true;
    }
    if (inet_pton(AF_INET6, s, &a6) == 1) {
        *fam = FAM_V6;
        uint64_t hi = 0, lo = 0;
        for (int i = 0; i < 8; i++) {
            hi = hi << 8 | a6.s6_addr[i];
            lo = lo << 8 | a6.s6_addr[8 + i];
        }
        *v = (u128){ hi, lo };
        return true;
    }
    return false;
}

/* Mask of the low (bits - prefix) bits of a family of 'bits' bits. */
static u128 host_mask(int bits, int prefix)
{
    int h = bits - prefix;  /* host bits, 0..bits */
    u128 m = { 0, 0 };
    if (h >= 64) {
        m.lo = UINT64_MAX;
        m.hi = h == 128 ? UINT64_MAX : (1ULL << (h - 64)) - 1;
    } else if (h > 0) {
        m.lo = (1ULL << h) - 1;
    }
    return m;
}

/* 1.2.3.4, 1.2.3.0/24, 1.2.3.0/255.255.255.0, 1.2.3.4-1.2.3.9, ::1, 2001:db8::/32 */
static int parse_ip_atom(struct pctx *x, const char *tok, int len, struct rset *out)
{
    char buf[128];
    if (len >= (int)sizeof buf)
        return fail(x, "bad address '%.*s'", tok, len);
    memcpy(buf, tok, len);
    buf[len] = '\0';
    int fam, fam2;
    u128 lo, hi;
    char *slash = strchr(buf, '/');
    char *dash = strchr(buf, '-');
    if (slash) {
        *slash = '\0';
        if (!parse_u128_ip(buf, &fam, &lo))
            return fail(x, "bad address '%.*s'", tok, len);
        int bits = fam == FAM_V4 ? 32 : 128, prefix;
        u128 mask;
        char *end;
        long pl = strtol(slash + 1, &end, 10);
        if (*end == '\0' && end != slash + 1 && isdigit((unsigned char)slash[1])) {
            if (pl < 0 || pl > bits)
                return fail(x, "bad address '%.*s'", tok, len);
            prefix = (int)pl;
            mask = host_mask(bits, prefix);
        } else {
            u128 nm;
            if (fam != FAM_V4 || !parse_u128_ip(slash + 1, &fam2, &nm) || fam2 != FAM_V4)
                return fail(x, "bad address '%.*s'", tok, len);
            mask = (u128){ 0, ~nm.lo & UINT32_MAX };
            if ((mask.lo & (mask.lo + 1)) != 0)   /* not a contiguous netmask */
                return fail(x, "bad address '%.*s'", tok, len);
        }
        lo.hi &= ~mask.hi;
        lo.lo &= ~mask.lo;
        hi = (u128){ lo.hi | mask.hi, lo.lo | mask.lo };
    } else if (dash) {
        *dash = '\0';
        if (!parse_u128_ip(buf, &fam, &lo) || !parse_u128_ip(dash + 1, &fam2, &hi) ||
            fam != fam2 || u128_cmp(lo, hi) > 0)
            return fail(x, "bad address '%.*s'", tok, len);
    } else {
        if (!parse_u128_ip(buf, &fam, &lo))
            return fail(x, "bad address '%.*s'", tok, len);
        hi = lo;
    }
    return rvec_push(&out->f[fam], lo, hi);
}

static bool parse_port_num(const char *s, const char *end, long *out)
{
    if (s == end || end - s > 5)
        return false;
    long v = 0;
    for (const char *p = s; p < end; p++) {
        if (!isdigit((unsigned char)*p))
            return false;
        v = v * 10 + (*p - '0');
    }
    if (v > 65535)
        return false;
    *out = v;
    return true;
}

/* 80, 1024:, :1024, 80:90 */
static int parse_port_atom(struct pctx *x, const char *tok, int len, struct rset *out)
{
    const char *end = tok + len, *colon = memchr(tok, ':', len);
    long lo, hi;
    if (!colon) {
        if (!parse_port_num(tok, end, &lo))
            return fail(x, "bad port '%.*s'", tok, len);
        hi = lo;
    } else {
        if (colon == tok)
            lo = 0;
        else if (!parse_port_num(tok, colon, &lo))
            return fail(x, "bad port '%.*s'", tok, len);
        if (colon + 1 == end)
            hi = 65535;
        else if (!parse_port_num(colon + 1, end, &hi))
            return fail(x, "bad port '%.*s'", tok, len);
        if (colon == tok && colon + 1 == end)
            return fail(x, "bad port '%.*s'", tok, len);
        if (lo > hi)
            return fail(x, "bad port range '%.*s'", tok, len);
    }
    return rvec_push(&out->f[FAM_V4], (u128){ 0, (uint64_t)lo }, (u128){ 0, (uint64_t)hi });
}

/* ---- Expressions -------------------------------------------------------- */

static void skip_ws(const char **pp)
{
    while (isspace((unsigned char)**pp))
        (*pp)++;
}

/* pos minus neg per family; with only negations, everything is the start. */
static int combine(struct pctx *x, struct rset *pos, struct rset *neg, struct rset *out)
{
    int nfam = x->kind == KIND_ADDR ? FAM_COUNT : 1;
    bool any_pos = false, any_neg = false;
    for (int f = 0; f < nfam; f++) {
        any_pos |= pos->f[f].n > 0;
        any_neg |= neg->f[f].n > 0;
    }
    for (int f = 0; f < nfam; f++) {
        if (!any_pos && any_neg && set_full(x, pos, f) < 0)
            return -1;
        rvec_normalize(&pos->f[f]);
        rvec_normalize(&neg->f[f]);
        if (rvec_subtract(&pos->f[f], &neg->f[f], &out->f[f]) < 0)
            return -1;
    }
    return 0;
}

/* One element: [!]... ( '[' list ']' | $VAR | any | atom ); result normalized. */
static int eval_elem(struct pctx *x, const char **pp, struct rset *out, bool *negated)
{
    *negated = false;
    skip_ws(pp);
    while (**pp == '!') {
        *negated = !*negated;
        (*pp)++;
        skip_ws(pp);
    }
    const char *p = *pp;
    if (*p == '[') {
        struct rset pos = { 0 }, neg = { 0 };
        int rc = -1;
        p++;
        for (;;) {
            struct rset e = { 0 };
            bool en;
            skip_ws(&p);
            if (eval_elem(x, &p, &e, &en) < 0)
                goto list_done;
            struct rset *dst = en ? &neg : &pos;
            for (int f = 0; f < FAM_COUNT; f++)
                if (rvec_append(&dst->f[f], &e.f[f]) < 0) {
                    rset_free(&e);
                    goto list_done;
                }
            rset_free(&e);
            skip_ws(&p);
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p == ']') {
                p++;
                break;
            }
            fail(x, "unbalanced brackets in '%.*s'", *pp, (int)strlen(*pp));
            goto list_done;
        }
        rc = combine(x, &pos, &neg, out);
    list_done:
        rset_free(&pos);
        rset_free(&neg);
        if (rc < 0) {
            rset_free(out);
            return -1;
        }
        *pp = p;
        return 0;
    }
    const char *tok = p;
    while (*p && *p != ',' && *p != ']' && *p != '[' && !isspace((unsigned char)*p))
        p++;
    int len = (int)(p - tok);
    *pp = p;
    if (len == 0)
        return fail(x, "empty element in '%.*s'", tok, (int)strlen(tok));
    int rc;
    if (tok[0] == '$') {
        rc = eval_var(x, tok + 1, len - 1, out);
    } else if (len == 3 && strncasecmp(tok, "any", 3) == 0) {
        if (*negated)
            return fail(x, "'!%.*s' matches nothing", tok, len);
        rc = set_full(x, out, FAM_V4);
        if (rc == 0 && x->kind == KIND_ADDR)
            rc = set_full(x, out, FAM_V6);
    } else if (x->kind == KIND_ADDR) {
        rc = parse_ip_atom(x, tok, len, out);
    } else {
        rc = parse_port_atom(x, tok, len, out);
    }
    if (rc < 0) {
        rset_free(out);
        return -1;
    }
    for (int f = 0; f < FAM_COUNT; f++)
        rvec_normalize(&out->f[f]);
    return 0;
}

/* A top-level expression: an element, with a negation resolved against "any". */
static int eval_expr(struct pctx *x, const char **pp, struct rset *out)
{
    struct rset e = { 0 }, empty = { 0 };
    bool neg;
    if (eval_elem(x, pp, &e, &neg) < 0)
        return -1;
    if (!neg) {
        *out = e;
        return 0;
    }
    int rc = combine(x, &empty, &e, out);
    rset_free(&e);
    rset_free(&empty);
    if (rc < 0)
        rset_free(out);
    return rc;
}

static int eval_top(struct pctx *x, const char *text, struct rset *out)
{
    if (eval_text(x, text, out) < 0)
        return -1;
    if (out->f[FAM_V4].n == 0 && out->f[FAM_V6].n == 0) {
        rset_free(out);
        return fail(x, x->kind == KIND_ADDR ? "address '%.*s' matches nothing"
                                            : "port '%.*s' matches nothing",
                    text, (int)strlen(text));
    }
    return 0;
}

/* ---- Address sets ------------------------------------------------------- */

struct r4 {
    uint32_t lo, hi;
};

struct addr_set {
    struct r4 *v4;
    struct rng *v6;
    unsigned n4, n6;
};

struct addr_set *addr_set_parse(const struct conf *c, const char *text, char *err, size_t errlen)
{
    struct pctx x = { .c = c, .kind = KIND_ADDR, .err = err, .errlen = errlen };
    struct rset rs = { 0 };
    if (eval_top(&x, text, &rs) < 0)
        return NULL;
    struct addr_set *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    s->n4 = rs.f[FAM_V4].n;
    s->v4 = malloc((s->n4 ? s->n4 : 1) * sizeof *s->v4);
    if (!s->v4)
        goto oom;
    for (unsigned i = 0; i < s->n4; i++) {
        s->v4[i].lo = (uint32_t)rs.f[FAM_V4].r[i].lo.lo;
        s->v4[i].hi = (uint32_t)rs.f[FAM_V4].r[i].hi.lo;
    }
    s->n6 = rs.f[FAM_V6].n;
    s->v6 = rs.f[FAM_V6].r;    /* ownership moves */
    rs.f[FAM_V6].r = NULL;
    rset_free(&rs);
    return s;
oom:
    rset_free(&rs);
    if (s)
        free(s->v4);
    free(s);
    snprintf(err, errlen, "out of memory");
    return NULL;
}

bool addr_set_match(const struct addr_set *s, int ip_ver, const struct ip_addr *a)
{
    if (ip_ver == 4) {
        uint32_t v = (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 |
                     (uint32_t)a->b[2] << 8 | a->b[3];
        unsigned lo = 0, hi = s->n4;
        while (lo < hi) {   /* first range with hi >= v */
            unsigned mid = lo + (hi - lo) / 2;
            if (s->v4[mid].hi < v)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo < s->n4 && s->v4[lo].lo <= v;
    }
    if (ip_ver == 6) {
        u128 v = { 0, 0 };
        for (int i = 0; i < 8; i++) {
            v.hi = v.hi << 8 | a->b[i];
            v.lo = v.lo << 8 | a->b[8 + i];
        }
        unsigned lo = 0, hi = s->n6;
        while (lo < hi) {
            unsigned mid = lo + (hi - lo) / 2;
            if (u128_cmp(s->v6[mid].hi, v) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo < s->n6 && u128_cmp(s->v6[lo].lo, v) <= 0;
    }
    return addr_set_is_any(s);
}

bool addr_set_is_any(const struct addr_set *s)
{
    return s->n4 == 1 && s->v4[0].lo == 0 && s->v4[0].hi == UINT32_MAX && s->n6 == 1 &&
           s->v6[0].lo.hi == 0 && s->v6[0].lo.lo == 0 && s->v6[0].hi.hi == UINT64_MAX &&
           s->v6[0].hi.lo == UINT64_MAX;
}

unsigned addr_set_v4_ranges(const struct addr_set *s, unsigned i, uint32_t *lo, uint32_t *hi)
{
    if (i < s->n4) {
        *lo = s->v4[i].lo;
        *hi = s->v4[i].hi;
    }
    return s->n4;
}

bool addr_set_has_v6(const struct addr_set *s)
{
    return s->n6 > 0;
}

void addr_set_free(struct addr_set *s)
{
    if (!s)
        return;
    free(s->v4);
    free(s->v6);
    free(s);
}

/* ---- Port sets ---------------------------------------------------------- */

struct port_set {
    unsigned n;
    struct {
        uint16_t lo, hi;
    } r[];
};

struct port_set *port_set_parse(const struct conf *c, const char *text, char *err, size_t errlen)
{
    struct pctx x = { .c = c, .kind = KIND_PORT, .err = err, .errlen = errlen };
    struct rset rs = { 0 };
    if (eval_top(&x, text, &rs) < 0)
        return NULL;
    const struct rvec *v = &rs.f[FAM_V4];
    struct port_set *s = malloc(sizeof *s + v->n * sizeof s->r[0]);
    if (!s) {
        rset_free(&rs);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->n = v->n;
    for (unsigned i = 0; i < v->n; i++) {
        s->r[i].lo = (uint16_t)v->r[i].lo.lo;
        s->r[i].hi = (uint16_t)v->r[i].hi.lo;
    }
    rset_free(&rs);
    return s;
}

bool port_set_match(const struct port_set *s, uint16_t port)
{
    unsigned lo = 0, hi = s->n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (s->r[mid].hi < port)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->r[lo].lo <= port;
}

bool port_set_is_any(const struct port_set *s)
{
    return s->n == 1 && s->r[0].lo == 0 && s->r[0].hi == 65535;
}

unsigned port_set_ranges(const struct port_set *s, unsigned i, uint16_t *lo, uint16_t *hi)
{
    if (i < s->n) {
        *lo = s->r[i].lo;
        *hi = s->r[i].hi;
    }
    return s->n;
}

void port_set_free(struct port_set *s)
{
    free(s);
}
