/*
 * Flow keywords: flow, flowbits, xbits, flowint, stream_size,
 * app-layer-event; the per-flow state they keep; and the evaluation of a
 * signature's packet list (s->pkt) and post-match list (s->post).
 *
 * Checks (flowbits isset, flowint ==, ...) go to s->pkt; changes (flowbits
 * set, xbits set, flowint +) go to s->post and run only once the whole
 * signature matched. So "flowint:n,+,1; flowint:n,>,5;" compares the value
 * from before this packet's increment, unlike Suricata, which applies
 * changes while matching.
 *
 * Flowbits and flowints live on the flow (f->dstate, owned by the worker
 * that owns the flow, so no lock); xbits live in the shared runtime store.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "detect/kw_runtime.h"
#include "app/applayer.h"
#include "stream/stream.h"
#include "util/timefmt.h"

static int oom(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return -1;
}

static int add_sm(struct sm **list, int type, void *ctx, char *err, size_t errlen)
{
    struct sm *m = sm_new(type, ctx);
    if (m == NULL) {
        free(ctx);
        return oom(err, errlen);
    }
    sm_append(list, m);
    return 0;
}

static bool valid_name(const char *n)
{
    if (*n == '\0')
        return false;
    for (; *n; n++)
        if (isspace((unsigned char)*n) || *n == ',' || *n == '|' || *n == '&' || *n == ';')
            return false;
    return true;
}

/* ---- flow -------------------------------------------------------------------- */

static const struct {
    const char *name;
    uint32_t flag;
} flow_opts[] = {
    { "to_server", SIG_FLOW_TOSERVER }, { "from_client", SIG_FLOW_TOSERVER },
    { "to_client", SIG_FLOW_TOCLIENT }, { "from_server", SIG_FLOW_TOCLIENT },
    { "established", SIG_FLOW_ESTABLISHED }, { "not_established", SIG_FLOW_NOT_ESTABLISHED },
    { "stateless", SIG_FLOW_STATELESS }, { "only_stream", SIG_FLOW_ONLY_STREAM },
    { "no_stream", SIG_FLOW_NO_STREAM }, { "only_frag", SIG_FLOW_ONLY_FRAG },
    { "no_frag", SIG_FLOW_NO_FRAG },
};

#define SIG_FLOW_ALL                                                                     \
    (SIG_FLOW_TOSERVER | SIG_FLOW_TOCLIENT | SIG_FLOW_ESTABLISHED |                      \
     SIG_FLOW_NOT_ESTABLISHED | SIG_FLOW_STATELESS | SIG_FLOW_ONLY_STREAM |              \
     SIG_FLOW_NO_STREAM | SIG_FLOW_ONLY_FRAG | SIG_FLOW_NO_FRAG)

/* Pairs that contradict each other. */
static const uint32_t flow_conflicts[][2] = {
    { SIG_FLOW_TOSERVER, SIG_FLOW_TOCLIENT },
    { SIG_FLOW_ESTABLISHED, SIG_FLOW_NOT_ESTABLISHED },
    { SIG_FLOW_ESTABLISHED, SIG_FLOW_STATELESS },
    { SIG_FLOW_NOT_ESTABLISHED, SIG_FLOW_STATELESS },
    { SIG_FLOW_ONLY_STREAM, SIG_FLOW_NO_STREAM },
    { SIG_FLOW_ONLY_FRAG, SIG_FLOW_NO_FRAG },
    { SIG_FLOW_ONLY_STREAM, SIG_FLOW_ONLY_FRAG },
};

static int flow_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                      size_t errlen)
{
    (void)ps;
    char buf[256];
    if (s->flags & SIG_FLOW_ALL) {
        snprintf(err, errlen, "flow given twice");
        return -1;
    }
    if (!kw_trim(v, buf, sizeof buf) || buf[0] == '\0') {
        snprintf(err, errlen, "invalid flow '%s'", v ? v : "");
        return -1;
    }
    uint32_t flags = 0;
    for (char *rest = buf, *opt; rest != NULL;) {
        rest = kw_split(rest, ',', &opt);
        unsigned i = 0;
        while (i < sizeof flow_opts / sizeof *flow_opts && strcmp(flow_opts[i].name, opt) != 0)
            i++;
        if (i == sizeof flow_opts / sizeof *flow_opts) {
            snprintf(err, errlen, "invalid flow option '%s'", opt);
            return -1;
        }
        if (flags & flow_opts[i].flag) {
            snprintf(err, errlen, "flow option '%s' given twice", opt);
            return -1;
        }
        flags |= flow_opts[i].flag;
    }
    for (unsigned i = 0; i < sizeof flow_conflicts / sizeof *flow_conflicts; i++) {
        if ((flags & flow_conflicts[i][0]) && (flags & flow_conflicts[i][1])) {
            snprintf(err, errlen, "contradictory flow options '%s'", v);
            return -1;
        }
    }
    s->flags |= flags;
    return 0;
}

/* ---- flowbits ------------------------------------------------------------------ */

enum fb_cmd { FB_SET, FB_UNSET, FB_TOGGLE, FB_ISSET, FB_ISNOTSET };
static const char *const fb_cmds[] = { "set", "unset", "toggle", "isset", "isnotset" };

struct fb_ctx {
    uint8_t cmd;       /* enum fb_cmd */
    bool any;          /* names joined by '|': one suffices */
    uint16_t n;
    uint32_t ids[];
};

static int cmd_lookup(const char *cmd)
{
    for (int i = 0; i < (int)(sizeof fb_cmds / sizeof *fb_cmds); i++)
        if (strcmp(fb_cmds[i], cmd) == 0)
            return i;
    return -1;
}

static int flowbits_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                          size_t errlen)
{
    char buf[1024];
    char *cmd, *names;
    if (!kw_trim(v, buf, sizeof buf))
        goto bad;
    names = kw_split(buf, ',', &cmd);
    if (strcmp(cmd, "noalert") == 0 && names == NULL) {
        s->flags |= SIG_NOALERT;
        return 0;
    }
    int c = cmd_lookup(cmd);
    if (c < 0 || names == NULL)
        goto bad;
    names = kw_strip(names);
    bool has_or = strchr(names, '|') != NULL, has_and = strchr(names, '&') != NULL;
    if ((has_or && has_and) || (has_or && c != FB_ISSET && c != FB_ISNOTSET))
        goto bad;
    unsigned n = 1;
    for (const char *p = names; *p; p++)
        n += *p == '|' || *p == '&';
    struct fb_ctx *ctx = malloc(sizeof *ctx + n * sizeof ctx->ids[0]);
    if (ctx == NULL)
        return oom(err, errlen);
    ctx->cmd = (uint8_t)c;
    ctx->any = has_or;
    ctx->n = (uint16_t)n;
    char *rest = names, *name;
    for (unsigned i = 0; i < n; i++) {
        rest = kw_split(rest, has_or ? '|' : '&', &name);
        int id = valid_name(name) ? name_registry_id(&ps->b->flowbits, name) : -1;
        if (id < 0) {
            free(ctx);
            goto bad;
        }
        ctx->ids[i] = (uint32_t)id;
    }
    if (c <= FB_TOGGLE) {
        s->flags |= SIG_HAS_POST_MATCH;
        return add_sm(&s->post, SM_FLOWBITS, ctx, err, errlen);
    }
    return add_sm(&s->pkt, SM_FLOWBITS, ctx, err, errlen);
bad:
    snprintf(err, errlen, "invalid flowbits '%s'", v ? v : "");
    return -1;
}

/* ---- xbits ------------------------------------------------------------------- */

#define XBITS_DEFAULT_EXPIRE 30 /* seconds, Suricata's default */

struct xb_ctx {
    uint8_t cmd;       /* enum xbits_cmd */
    uint8_t track;     /* enum xbits_track */
    uint32_t id;
    uint32_t expire;   /* seconds */
};

static int xbits_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                       size_t errlen)
{
    char buf[512];
    char *rest, *cmd, *name, *item;
    bool have_track = false, have_expire = false;
    struct xb_ctx x = { .expire = XBITS_DEFAULT_EXPIRE };
    if (!kw_trim(v, buf, sizeof buf))
        goto bad;
    rest = kw_split(buf, ',', &cmd);
    if (strcmp(cmd, "noalert") == 0 && rest == NULL) {
        s->flags |= SIG_NOALERT;
        return 0;
    }
    int c = cmd_lookup(cmd);
    if (c < 0 || rest == NULL)
        goto bad;
    x.cmd = (uint8_t)c; /* enum xbits_cmd has the order of fb_cmds */
    rest = kw_split(rest, ',', &name);
    if (!valid_name(name))
        goto bad;
    while (rest != NULL) {
        rest = kw_split(rest, ',', &item);
        char *val = item;
        while (*val && !isspace((unsigned char)*val))
            val++;
        if (*val != '\0')
            *val++ = '\0';
        val = kw_strip(val);
        uint64_t n;
        if (strcmp(item, "track") == 0 && !have_track) {
            have_track = true;
            if (strcmp(val, "ip_src") == 0)
                x.track = XB_IP_SRC;
            else if (strcmp(val, "ip_dst") == 0)
                x.track = XB_IP_DST;
            else if (strcmp(val, "ip_pair") == 0)
                x.track = XB_IP_PAIR;
            else
                goto bad;
        } else if (strcmp(item, "expire") == 0 && !have_expire) {
            have_expire = true;
            if (!kw_parse_u64(val, UINT32_MAX, &n) || n == 0)
                goto bad;
            x.expire = (uint32_t)n;
        } else {
            goto bad;
        }
    }
    if (!have_track)
        goto bad;
    int id = name_registry_id(&ps->b->xbits, name);
    if (id < 0)
        return oom(err, errlen);
    x.id = (uint32_t)id;
    struct xb_ctx *ctx = malloc(sizeof *ctx);
    if (ctx == NULL)
        return oom(err, errlen);
    *ctx = x;
    if (c <= FB_TOGGLE) {
        s->flags |= SIG_HAS_POST_MATCH;
        return add_sm(&s->post, SM_XBITS, ctx, err, errlen);
    }
    return add_sm(&s->pkt, SM_XBITS, ctx, err, errlen);
bad:
    snprintf(err, errlen, "invalid xbits '%s'", v ? v : "");
    return -1;
}

/* ---- flowint ------------------------------------------------------------------ */

enum fi_op { FI_SET, FI_ADD, FI_SUB, FI_EQ, FI_NE, FI_LT, FI_GT, FI_LE, FI_GE, FI_ISSET,
             FI_NOTSET };
static const struct {
    const char *name;
    uint8_t op;
} fi_ops[] = {
    { "=", FI_SET }, { "+", FI_ADD }, { "-", FI_SUB }, { "==", FI_EQ }, { "!=", FI_NE },
    { "<", FI_LT }, { ">", FI_GT }, { "<=", FI_LE }, { ">=", FI_GE }, { "isset", FI_ISSET },
    { "notset", FI_NOTSET }, { "isnotset", FI_NOTSET },
};

struct fi_ctx {
    uint8_t op;        /* enum fi_op */
    bool by_var;       /* the operand is another flowint */
    uint32_t id;
    uint32_t var;      /* its id when by_var */
    int64_t value;
};

static int flowint_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                         size_t errlen)
{
    char buf[512];
    char *rest, *name, *opname, *operand = NULL;
    struct fi_ctx x = { 0 };
    if (!kw_trim(v, buf, sizeof buf))
        goto bad;
    rest = kw_split(buf, ',', &name);
    if (!valid_name(name) || rest == NULL)
        goto bad;
    rest = kw_split(rest, ',', &opname);
    unsigned i = 0;
    while (i < sizeof fi_ops / sizeof *fi_ops && strcmp(fi_ops[i].name, opname) != 0)
        i++;
    if (i == sizeof fi_ops / sizeof *fi_ops)
        goto bad;
    x.op = fi_ops[i].op;
    if (rest != NULL)
        operand = kw_strip(rest);
    if ((x.op >= FI_ISSET) != (operand == NULL))
        goto bad;
    if (operand != NULL) {
        uint64_t n;
        if (kw_parse_u64(operand, UINT32_MAX, &n)) {
            x.value = (int64_t)n;
        } else if (valid_name(operand) && !isdigit((unsigned char)operand[0])) {
            int var = name_registry_id(&ps->b->flowints, operand);
            if (var < 0)
                return oom(err, errlen);
            x.by_var = true;
            x.var = (uint32_t)var;
        } else {
            goto bad;
        }
    }
    int id = name_registry_id(&ps->b->flowints, name);
    if (id < 0)
        return oom(err, errlen);
    x.id = (uint32_t)id;
    struct fi_ctx *ctx = malloc(sizeof *ctx);
    if (ctx == NULL)
        return oom(err, errlen);
    *ctx = x;
    if (x.op <= FI_SUB) {
        s->flags |= SIG_HAS_POST_MATCH;
        return add_sm(&s->post, SM_FLOWINT, ctx, err, errlen);
    }
    return add_sm(&s->pkt, SM_FLOWINT, ctx, err, errlen);
bad:
    snprintf(err, errlen, "invalid flowint '%s'", v ? v : "");
    return -1;
}

/* ---- stream_size ----------------------------------------------------------------- */

/*
 * Until the stream engine lands, a side's stream size is estimated from the
 * flow's byte counter: the frame bytes seen in that direction less the
 * current packet's header length per packet, plus one for the SYN (TCP).
 * Suricata measures next_seq - isn of the reassembled stream.
 */
enum ss_side { SS_SERVER, SS_CLIENT, SS_BOTH, SS_EITHER };

struct ss_ctx {
    uint8_t side;
    struct kw_cmp cmp;
};

static int stream_size_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                             size_t errlen)
{
    (void)ps;
    char buf[128];
    char *rest, *side, *op, *num;
    struct ss_ctx x = { 0 };
    if (!kw_trim(v, buf, sizeof buf))
        goto bad;
    rest = kw_split(buf, ',', &side);
    if (rest == NULL)
        goto bad;
    rest = kw_split(rest, ',', &op);
    if (rest == NULL)
        goto bad;
    num = kw_strip(rest);
    static const char *const sides[] = { "server", "client", "both", "either" };
    unsigned i = 0;
    while (i < 4 && strcmp(sides[i], side) != 0)
        i++;
    if (i == 4)
        goto bad;
    x.side = (uint8_t)i;
    static const struct {
        const char *name;
        uint8_t op;
    } ops[] = { { "=", CMP_EQ }, { "==", CMP_EQ }, { "!=", CMP_NE }, { "<", CMP_LT },
                { ">", CMP_GT }, { "<=", CMP_LE }, { ">=", CMP_GE } };
    for (i = 0; i < sizeof ops / sizeof *ops && strcmp(ops[i].name, op) != 0; i++)
        ;
    if (i == sizeof ops / sizeof *ops || !kw_parse_u64(num, UINT32_MAX, &x.cmp.a))
        goto bad;
    x.cmp.op = ops[i].op;
    struct ss_ctx *ctx = malloc(sizeof *ctx);
    if (ctx == NULL)
        return oom(err, errlen);
    *ctx = x;
    return add_sm(&s->pkt, SM_STREAM_SIZE, ctx, err, errlen);
bad:
    snprintf(err, errlen, "invalid stream_size '%s'", v ? v : "");
    return -1;
}

static uint64_t stream_estimate(const struct flow *f, const struct packet *p, int d)
{
    uint64_t n;
    if (stream_flow_bytes(f, d, &n))
        return n; /* the stream engine's count, from sequence numbers */
    /* Not reassembled: from the flow's byte counters. */
    uint64_t hdr = (uint64_t)p->payload_off * f->pkts[d];
    uint64_t est = f->bytes[d] > hdr ? f->bytes[d] - hdr : 0;
    return est + (p->proto == 6 && f->pkts[d] > 0);
}

static bool stream_size_match(const struct ss_ctx *c, const struct packet *p,
                              const struct flow *f)
{
    if (f == NULL)
        return false;
    uint64_t client = stream_estimate(f, p, FLOW_TOSERVER);
    uint64_t server = stream_estimate(f, p, FLOW_TOCLIENT);
    switch (c->side) {
    case SS_SERVER: return kw_cmp_match(&c->cmp, server);
    case SS_CLIENT: return kw_cmp_match(&c->cmp, client);
    case SS_BOTH: return kw_cmp_match(&c->cmp, server) && kw_cmp_match(&c->cmp, client);
    default: return kw_cmp_match(&c->cmp, server) || kw_cmp_match(&c->cmp, client);
    }
}

/* ---- app-layer-event ---------------------------------------------------------- */

/* "proto.event": an http, tls or dns event binds the rule to that protocol
 * (it is checked on the protocol's transactions); "applayer.event" is a
 * flow-level event of protocol detection, checked on packets. */
static int app_layer_event_setup(struct sig *s, struct parse_state *ps, const char *v,
                                 char *err, size_t errlen)
{
    (void)ps;
    char buf[256];
    if (!kw_trim(v, buf, sizeof buf) || !valid_name(buf)) {
        snprintf(err, errlen, "invalid app-layer-event '%s'", v ? v : "");
        return -1;
    }
    static const struct { const char *prefix; int proto; } protos[] = {
        { "http.", APP_HTTP }, { "tls.", APP_TLS }, { "dns.", APP_DNS },
    };
    for (size_t i = 0; i < sizeof protos / sizeof *protos; i++) {
        if (strncmp(buf, protos[i].prefix, strlen(protos[i].prefix)) != 0)
            continue;
        if (s->app_proto != APP_NONE && s->app_proto != protos[i].proto) {
            snprintf(err, errlen, "app-layer-event '%s' does not apply to the rule's protocol",
                     buf);
            return -1;
        }
        s->app_proto = (uint8_t)protos[i].proto;
    }
    char *ctx = strdup(buf);
    if (ctx == NULL)
        return oom(err, errlen);
    return add_sm(&s->pkt, SM_APP_LAYER_EVENT, ctx, err, errlen);
}

const struct keyword kw_flow_table[] = {
    { "flow", KW_VALUE, flow_setup, "direction and state: to_server, established, ..." },
    { "flowbits", KW_VALUE, flowbits_setup, "set|unset|toggle|isset|isnotset,name[|&name] or noalert" },
    { "xbits", KW_VALUE, xbits_setup, "set|unset|toggle|isset|isnotset,name,track ip_src|ip_dst|ip_pair[,expire N]" },
    { "flowint", KW_VALUE, flowint_setup, "name, = + - == != < > <= >= isset notset, value or var" },
    { "stream_size", KW_VALUE, stream_size_setup, "server|client|both|either, op, N (estimated from flow bytes)" },
    { "app-layer-event", KW_VALUE, app_layer_event_setup, "proto.event (accepted; matches once the app layer raises events)" },
    { NULL, 0, NULL, NULL },
};

/* ---- Per-flow state ------------------------------------------------------------ */

static struct flow_detect_state *fstate(struct flow *f, const struct detect_thread *dt,
                                        bool create)
{
    if (f->dstate == NULL && create) {
        struct flow_detect_state *st = calloc(1, sizeof *st);
        if (st != NULL)
            st->engine_gen = dt ? dt->engine_gen : 0;
        f->dstate = st;
    }
    return f->dstate;
}

struct flow_detect_state *detect_flow_state(struct flow *f, const struct detect_thread *dt,
                                            bool create)
{
    return fstate(f, dt, create);
}

void detect_flow_sync(const struct detect_thread *dt, struct flow *f)
{
    struct flow_detect_state *st = f ? f->dstate : NULL;
    if (st == NULL || dt == NULL || st->engine_gen == dt->engine_gen)
        return;
    free(st->bits);
    st->bits = NULL;
    st->nwords = 0;
    free(st->ints);
    st->ints = NULL;
    st->nints = 0;
    memset(st->ncarry, 0, sizeof st->ncarry);
    memset(st->carry_full, 0, sizeof st->carry_full);
    st->engine_gen = dt->engine_gen;
}

void detect_flow_free(struct flow *f)
{
    struct flow_detect_state *st = f->dstate;
    if (st == NULL)
        return;
    free(st->bits);
    free(st->ints);
    free(st);
    f->dstate = NULL;
}

static bool fb_isset(const struct flow *f, uint32_t id)
{
    const struct flow_detect_state *st = f->dstate;
    return st && id / 64 < st->nwords && (st->bits[id / 64] >> (id % 64) & 1);
}

static void fb_change(const struct detect_thread *dt, struct flow *f, uint32_t id, int cmd)
{
    struct flow_detect_state *st = fstate(f, dt, cmd != FB_UNSET);
    if (st == NULL)
        return;
    if (id / 64 >= st->nwords) {
        if (cmd == FB_UNSET)
            return;
        uint32_t n = id / 64 + 1;
        uint64_t *b = realloc(st->bits, n * sizeof *b);
        if (b == NULL)
            return;
        memset(b + st->nwords, 0, (n - st->nwords) * sizeof *b);
        st->bits = b;
        st->nwords = n;
    }
    uint64_t bit = 1ull << (id % 64);
    if (cmd == FB_SET)
        st->bits[id / 64] |= bit;
    else if (cmd == FB_UNSET)
        st->bits[id / 64] &= ~bit;
    else
        st->bits[id / 64] ^= bit;
}

static bool flowbits_match(const struct fb_ctx *c, const struct flow *f)
{
    if (f == NULL)
        return false;
    bool want = c->cmd == FB_ISSET;
    for (unsigned i = 0; i < c->n; i++) {
        bool ok = fb_isset(f, c->ids[i]) == want;
        if (c->any && ok)
            return true;
        if (!c->any && !ok)
            return false;
    }
    return !c->any;
}

static const struct flowint_val *fi_get(const struct flow *f, uint32_t id)
{
    const struct flow_detect_state *st = f->dstate;
    if (st == NULL || id >= st->nints || !st->ints[id].set)
        return NULL;
    return &st->ints[id];
}

static bool fi_operand(const struct fi_ctx *c, const struct flow *f, int64_t *v)
{
    if (!c->by_var) {
        *v = c->value;
        return true;
    }
    const struct flowint_val *o = fi_get(f, c->var);
    if (o == NULL)
        return false;
    *v = o->value;
    return true;
}

static bool flowint_match(const struct fi_ctx *c, const struct flow *f)
{
    if (f == NULL)
        return false;
    const struct flowint_val *x = fi_get(f, c->id);
    if (c->op == FI_ISSET || c->op == FI_NOTSET)
        return (x != NULL) == (c->op == FI_ISSET);
    int64_t v;
    if (x == NULL || !fi_operand(c, f, &v))
        return false;
    switch (c->op) {
    case FI_EQ: return x->value == v;
    case FI_NE: return x->value != v;
    case FI_LT: return x->value < v;
    case FI_GT: return x->value > v;
    case FI_LE: return x->value <= v;
    case FI_GE: return x->value >= v;
    default: return false;
    }
}

/* =, + and -: an unset variable counts as 0. */
static void flowint_change(const struct detect_thread *dt, const struct fi_ctx *c,
                           struct flow *f)
{
    int64_t v;
    if (!fi_operand(c, f, &v))
        return;
    struct flow_detect_state *st = fstate(f, dt, true);
    if (st == NULL)
        return;
    if (c->id >= st->nints) {
        uint32_t n = c->id + 1;
        struct flowint_val *a = realloc(st->ints, n * sizeof *a);
        if (a == NULL)
            return;
        memset(a + st->nints, 0, (n - st->nints) * sizeof *a);
        st->ints = a;
        st->nints = n;
    }
    struct flowint_val *x = &st->ints[c->id];
    int64_t cur = x->set ? x->value : 0;
    x->value = c->op == FI_SET ? v : c->op == FI_ADD ? cur + v : cur - v;
    x->set = true;
}

/* ---- Evaluation ------------------------------------------------------------------ */

bool match_packet_keywords(struct detect_thread *dt, const struct sig *s, const struct packet *p,
                           struct flow *f, int dir)
{
    (void)dir;
    for (const struct sm *m = s->pkt; m != NULL; m = m->next) {
        bool ok;
        switch (m->type) {
        case SM_DSIZE: case SM_FLAGS: case SM_TTL: case SM_ITYPE: case SM_ICODE:
        case SM_ICMP_ID: case SM_ICMP_SEQ: case SM_IP_PROTO: case SM_SAMEIP: case SM_IPOPTS:
        case SM_FRAGBITS: case SM_WINDOW: case SM_SEQ: case SM_ACK:
            ok = kw_header_match(m, p);
            break;
        case SM_FLOWBITS:
            ok = flowbits_match(m->ctx, f);
            break;
        case SM_FLOWINT:
            ok = flowint_match(m->ctx, f);
            break;
        case SM_XBITS: {
            const struct xb_ctx *x = m->ctx;
            ok = xbits_run(dt ? dt->rt : NULL, x->cmd, x->id, x->track, x->expire, p);
            break;
        }
        case SM_STREAM_SIZE:
            ok = stream_size_match(m->ctx, p, f);
            break;
        case SM_TLS_VERSION: case SM_SSL_VERSION: case SM_SSL_STATE: case SM_DNS_OPCODE:
        case SM_DNS_RCODE: case SM_DNS_RRTYPE:
            ok = kw_app_match(dt, m, p, f);
            break;
        case SM_APP_LAYER_EVENT:
            ok = app_tx_has_event(f, dt ? dt->tx : NULL, m->ctx);
            break;
        default:
            ok = false;
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}

void run_post_match(struct detect_thread *dt, const struct sig *s, const struct packet *p,
                    struct flow *f)
{
    for (const struct sm *m = s->post; m != NULL; m = m->next) {
        switch (m->type) {
        case SM_FLOWBITS: {
            const struct fb_ctx *c = m->ctx;
            for (unsigned i = 0; f != NULL && i < c->n; i++)
                fb_change(dt, f, c->ids[i], c->cmd);
            break;
        }
        case SM_FLOWINT:
            if (f != NULL)
                flowint_change(dt, m->ctx, f);
            break;
        case SM_XBITS: {
            const struct xb_ctx *x = m->ctx;
            xbits_run(dt ? dt->rt : NULL, x->cmd, x->id, x->track, x->expire, p);
            break;
        }
        default:
            break;
        }
    }
}

/* ---- tag:session ------------------------------------------------------------------ */

void tag_session_set(const struct detect_thread *dt, struct flow *f, const struct sig_tag *t,
                     const struct packet *p)
{
    struct flow_detect_state *st = fstate(f, dt, true);
    if (st == NULL)
        return;
    st->tag_metric = t->metric;
    if (t->metric == TAG_SECONDS) {
        st->tag_until = (int64_t)timeval_usec(&p->ts) + (int64_t)t->count * 1000000;
        st->tag_left = 1;
    } else {
        st->tag_left = t->count;
    }
}

bool tag_session_check(struct flow *f, const struct packet *p)
{
    struct flow_detect_state *st = f->dstate;
    if (st == NULL || st->tag_left == 0)
        return false;
    switch (st->tag_metric) {
    case TAG_SECONDS:
        if ((int64_t)timeval_usec(&p->ts) >= st->tag_until) {
            st->tag_left = 0;
            return false;
        }
        return true;
    case TAG_BYTES:
        st->tag_left = st->tag_left > p->wirelen ? st->tag_left - p->wirelen : 0;
        return true;
    default:
        st->tag_left--;
        return true;
    }
}
