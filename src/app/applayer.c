/* The app-layer stage; see applayer.h. */
#include "app/applayer.h"

#include <stdlib.h>
#include <string.h>

#include "app/dns.h"
#include "app/tls.h"
#include "detect/detect_int.h"
#include "output/stats.h"

/* Bytes of each direction tried by the probes before a flow is given up. */
#define PROBE_LIMIT 4096
/* DNS messages parsed in one call at most (TCP may carry several). */
#define DNS_MAX_PER_CALL 16

struct app_flow {
    uint8_t proto;              /* APP_NONE while probing, APP_OTHER when given up */
    uint8_t seen_proto[2];      /* what each direction's first data looked like */
    uint32_t probed[2];         /* bytes probed per direction */
    bool broken[2];             /* a gap: that direction's parser cannot follow */
    bool first_data_done;
    /* Bytes of each direction seen while the protocol is undecided: the
     * probes look at them from the start, and the parser gets them all. */
    uint8_t *pending[2];
    uint32_t npending[2];
    struct http_state *http;
    struct tls_state *tls;
    struct dns_tcp_buf dnsbuf[2];
    /* HTTP: transactions before these ids are inspected / logged */
    uint64_t http_inspected[2], http_logged;
    /* TLS: the session as one transaction */
    bool tls_inspected[2], tls_logged;
    struct app_events tls_events;
    /* DNS: messages of this call, freed by app_result_done */
    struct dns_msg *dns_pending[DNS_MAX_PER_CALL];
    struct app_events dns_events[DNS_MAX_PER_CALL];
    unsigned ndns_pending;
    uint64_t dns_next_id;
    /* requests awaiting their response: a response shares its request's tx id */
    struct { uint16_t id; uint64_t tx; } dns_open[8];
    unsigned ndns_open;
    struct app_events flow_events;
};

struct app_engine {
    struct app_config cfg;
    struct stats *stats;
};

const char *app_proto_name(int proto)
{
    switch (proto) {
    case APP_HTTP: return "http";
    case APP_TLS: return "tls";
    case APP_DNS: return "dns";
    case APP_OTHER: return "failed";
    default: return NULL;
    }
}

void app_config_init(struct app_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->http = cfg->tls = cfg->dns = true;
    cfg->http_cfg.request_body_limit = HTTP_DEFAULT_BODY_LIMIT;
    cfg->http_cfg.response_body_limit = HTTP_DEFAULT_BODY_LIMIT;
    cfg->http_cfg.log_headers = false;
}

static const char *const flow_event_names[APP_EV_COUNT] = {
    [APP_EV_MISMATCH_PROTOCOL_BOTH_DIRECTIONS] = "mismatch_protocol_both_directions",
    [APP_EV_DETECT_PROTOCOL_ONLY_ONE_DIRECTION] = "detect_protocol_only_one_direction",
    [APP_EV_WRONG_DIRECTION_FIRST_DATA] = "wrong_direction_first_data",
};

const char *app_flow_event_name(int code)
{
    return code >= 0 && code < APP_EV_COUNT ? flow_event_names[code] : "unknown";
}

const char *app_event_name(int proto, int code)
{
    switch (proto) {
    case APP_HTTP: return http_event_name(code);
    case APP_TLS: return tls_event_name(code);
    case APP_DNS: return dns_event_name(code);
    default: return "unknown";
    }
}

struct app_engine *app_engine_new(const struct app_config *cfg, struct stats *stats)
{
    struct app_engine *ae = calloc(1, sizeof *ae);
    if (ae == NULL)
        return NULL;
    ae->cfg = *cfg;
    ae->stats = stats;
    return ae;
}

void app_engine_free(struct app_engine *ae)
{
    free(ae);
}

static void count(struct app_engine *ae, int id, uint64_t n)
{
    if (ae->stats)
        stats_add(ae->stats, id, n);
}

/* Counts under id the items of res from index `from` on that will be logged. */
static void count_logged(struct app_engine *ae, const struct app_result *res, unsigned from,
                         int id)
{
    for (unsigned i = from; i < res->n; i++)
        if (res->items[i].log)
            count(ae, id, 1);
}

/* ---- Transactions ---------------------------------------------------------------- */

bool app_tx_buffer(const struct app_tx *tx, int buf, unsigned idx, int dir, const uint8_t **d,
                   uint32_t *len)
{
    switch (tx->proto) {
    case APP_HTTP:
        if (idx > 0)
            return false;
        if (buf == BUF_FILE_DATA && dir == APP_TOSERVER)
            buf = BUF_HTTP_REQUEST_BODY; /* file.data to the server: an upload */
        return http_tx_buffer(tx->obj, buf, dir, d, len);
    case APP_TLS:
        return tls_buffer(tx->obj, buf, idx, d, len);
    case APP_DNS:
        return dns_msg_buffer(tx->obj, buf, idx, d, len);
    default:
        return false;
    }
}

json_t *app_tx_eve(const struct app_tx *tx)
{
    switch (tx->proto) {
    case APP_HTTP: return http_tx_eve(tx->state, tx->obj);
    case APP_TLS: return tls_eve(tx->obj);
    case APP_DNS: return dns_msg_eve(tx->obj);
    default: return json_object();
    }
}

bool app_tx_has_event(const struct flow *f, const struct app_tx *tx, const char *name)
{
    const char *dot = strchr(name, '.');
    if (dot == NULL)
        return false;
    size_t plen = (size_t)(dot - name);
    if (plen == 8 && strncmp(name, "applayer", 8) == 0) {
        const struct app_flow *af = f ? f->app : NULL;
        for (unsigned i = 0; af && i < af->flow_events.n; i++)
            if (strcmp(app_flow_event_name(af->flow_events.code[i]), dot + 1) == 0)
                return true;
        return false;
    }
    if (tx == NULL || tx->events == NULL)
        return false;
    const char *pname = app_proto_name(tx->proto);
    if (pname == NULL || strlen(pname) != plen || strncmp(name, pname, plen) != 0)
        return false;
    for (unsigned i = 0; i < tx->events->n; i++)
        if (strcmp(app_event_name(tx->proto, tx->events->code[i]), dot + 1) == 0)
            return true;
    return false;
}

uint16_t app_tx_tls_version(const struct app_tx *tx)
{
    return tx->proto == APP_TLS ? tls_version(tx->obj) : 0;
}

unsigned app_tx_tls_progress(const struct app_tx *tx)
{
    return tx->proto == APP_TLS ? tls_progress(tx->obj) : 0;
}

bool app_tx_dns(const struct app_tx *tx, unsigned *opcode, unsigned *rcode)
{
    if (tx->proto != APP_DNS)
        return false;
    *opcode = dns_msg_opcode(tx->obj);
    *rcode = dns_msg_rcode(tx->obj);
    return true;
}

bool app_tx_dns_has_rrtype(const struct app_tx *tx, uint16_t rrtype)
{
    return tx->proto == APP_DNS && dns_msg_has_rrtype(tx->obj, rrtype);
}

/* ---- Per-flow state -------------------------------------------------------------- */

static struct app_flow *flow_state(struct flow *f)
{
    if (f->app == NULL)
        f->app = calloc(1, sizeof *f->app);
    return f->app;
}

static void add_item(struct app_result *res, int proto, uint64_t id, const void *obj,
                     const void *state, const struct app_events *ev, int dir, bool inspect,
                     bool log)
{
    if (res->n >= APP_MAX_ITEMS)
        return;
    struct app_item *it = &res->items[res->n++];
    it->tx.proto = (uint8_t)proto;
    it->tx.id = id;
    it->tx.obj = obj;
    it->tx.state = state;
    it->tx.events = ev;
    it->dir = (uint8_t)dir;
    it->inspect = inspect;
    it->log = log;
}

static void merge_events(struct app_events *dst, const struct app_events *src)
{
    for (unsigned i = 0; i < src->n; i++)
        app_event_add(dst, src->code[i]);
}

/* ---- Protocol detection ---------------------------------------------------------- */

/* A DNS header with a valid opcode and small counts: on port 53 that is
 * enough, so that a message the parser finds malformed still reaches it. */
static bool dns_header_plausible(const uint8_t *d, uint32_t n, bool tcp)
{
    if (tcp) {
        if (n < 14)
            return false;
        d += 2;
        n -= 2;
    }
    if (n < 12)
        return false;
    unsigned opcode = (d[2] >> 3) & 0x0f;
    unsigned qd = (unsigned)d[4] << 8 | d[5], an = (unsigned)d[6] << 8 | d[7];
    unsigned ns = (unsigned)d[8] << 8 | d[9], ar = (unsigned)d[10] << 8 | d[11];
    return (opcode <= 2 || opcode == 4 || opcode == 5) && qd >= 1 && qd <= 16 && an <= 512 &&
           ns <= 512 && ar <= 512;
}

/* What the first bytes of a direction look like. */
static int probe(const struct app_engine *ae, const uint8_t *d, uint32_t n, int dir, bool tcp,
                 uint16_t sp, uint16_t dp)
{
    bool dns_port = sp == 53 || dp == 53;
    /* On port 53 a full DNS header is enough: a message the parser then
     * finds malformed must still reach it (and raise its event). */
    if (ae->cfg.dns && dns_port && (dns_probe(d, n, tcp) || dns_header_plausible(d, n, tcp)))
        return APP_DNS;
    if (ae->cfg.http && (dir == APP_TOSERVER ? http_probe_request(d, n)
                                             : http_probe_response(d, n)))
        return APP_HTTP;
    /* A handshake record header (type 22, version 3.x), whatever length it
     * announces: an oversized record is the parser's event to raise. */
    if (ae->cfg.tls && (tls_probe(d, n) || (n >= 5 && d[0] == 0x16 && d[1] == 3 && d[2] <= 4)))
        return APP_TLS;
    if (ae->cfg.dns && !dns_port && tcp && dns_probe(d, n, tcp))
        return APP_DNS;
    return APP_NONE;
}

/* Counts a flow once its protocol is known. */
static void count_flow(struct app_engine *ae, int proto, bool tcp)
{
    switch (proto) {
    case APP_HTTP: count(ae, STAT_APP_FLOW_HTTP, 1); break;
    case APP_TLS: count(ae, STAT_APP_FLOW_TLS, 1); break;
    case APP_DNS: count(ae, tcp ? STAT_APP_FLOW_DNS_TCP : STAT_APP_FLOW_DNS_UDP, 1); break;
    default: if (tcp) count(ae, STAT_APP_FLOW_FAILED_TCP, 1); break;
    }
}

static bool start_proto(struct app_engine *ae, struct flow *f, struct app_flow *af, int proto,
                        const struct timeval *ts)
{
    af->proto = (uint8_t)proto;
    f->app_proto = (uint8_t)proto;
    if (proto == APP_HTTP) {
        af->http = http_state_new(&ae->cfg.http_cfg, ts);
        return af->http != NULL;
    }
    if (proto == APP_TLS) {
        af->tls = tls_state_new();
        return af->tls != NULL;
    }
    return true;
}

/* ---- HTTP ------------------------------------------------------------------------ */

static void http_items(struct app_flow *af, struct app_result *res, bool closing)
{
    struct http_state *s = af->http;
    unsigned n = http_tx_count(s);
    for (unsigned i = 0; i < n; i++) {
        struct http_tx *tx = http_tx_at(s, i);
        uint64_t id = http_tx_id(tx);
        unsigned pr = http_tx_progress(tx);
        bool req = (pr & HTTP_REQ_DONE) || closing, resp = (pr & HTTP_RESP_DONE) || closing;
        bool insp_ts = id >= af->http_inspected[0] && req;
        bool insp_tc = id >= af->http_inspected[1] && resp && (pr & HTTP_RESP_HEADERS);
        bool log = id >= af->http_logged && resp;
        if (!insp_ts && !insp_tc && !log)
            continue;
        if (res->n + 2 > APP_MAX_ITEMS)
            break;
        if (insp_ts && !closing) {
            add_item(res, APP_HTTP, id, tx, s, http_tx_events(tx), APP_TOSERVER, true, false);
            af->http_inspected[0] = id + 1;
        }
        if (insp_tc && !closing) {
            add_item(res, APP_HTTP, id, tx, s, http_tx_events(tx), APP_TOCLIENT, true, log);
            af->http_inspected[1] = id + 1;
        } else if (log) {
            add_item(res, APP_HTTP, id, tx, s, http_tx_events(tx), APP_TOCLIENT, false, true);
        }
        if (log)
            af->http_logged = id + 1;
        if (closing) {
            af->http_inspected[0] = af->http_inspected[1] = id + 1;
        }
    }
}

/* Frees the transactions inspected both ways and logged. */
static void http_release(struct app_flow *af)
{
    struct http_state *s = af->http;
    uint64_t done = af->http_logged;
    if (af->http_inspected[0] < done)
        done = af->http_inspected[0];
    if (af->http_inspected[1] < done)
        done = af->http_inspected[1];
    unsigned n = http_tx_count(s), i = 0;
    while (i < n && http_tx_id(http_tx_at(s, i)) < done)
        i++;
    if (i > 0)
        http_tx_release(s, i);
}

/* ---- TLS ------------------------------------------------------------------------- */

static void tls_items(struct app_flow *af, struct app_result *res, bool closing)
{
    unsigned pr = tls_progress(af->tls);
    const struct app_events *ev = &af->tls_events;
    if (!af->tls_inspected[0] && (pr & TLS_SEEN_CLIENT_HELLO) && !closing) {
        add_item(res, APP_TLS, 0, af->tls, NULL, ev, APP_TOSERVER, true, false);
        af->tls_inspected[0] = true;
    }
    /* The server's side is complete with its certificate, or once the rest
     * is encrypted (TLS 1.3, resumed sessions). */
    bool server_done = (pr & TLS_SEEN_SERVER_HELLO) &&
                       ((pr & (TLS_SEEN_CERTIFICATE | TLS_HANDSHAKE_DONE)) ||
                        tls_version(af->tls) >= 0x0304);
    if (!af->tls_inspected[1] && server_done && !closing) {
        add_item(res, APP_TLS, 0, af->tls, NULL, ev, APP_TOCLIENT, true, !af->tls_logged);
        af->tls_inspected[1] = true;
        af->tls_logged = true;
    } else if (!af->tls_logged && (closing || server_done) && (pr & TLS_SEEN_CLIENT_HELLO)) {
        add_item(res, APP_TLS, 0, af->tls, NULL, ev, APP_TOCLIENT, false, true);
        af->tls_logged = true;
    }
}

/* ---- DNS ------------------------------------------------------------------------- */

struct dns_ctx {
    struct app_engine *ae;
    struct app_flow *af;
    struct app_result *res;
    int dir;
    bool tcp;
    uint16_t sp, dp;              /* UDP: the datagram's ports */
};

static void dns_message(void *ctx, const uint8_t *msg, uint32_t len)
{
    struct dns_ctx *c = ctx;
    struct app_flow *af = c->af;
    if (af->ndns_pending >= DNS_MAX_PER_CALL)
        return;
    unsigned k = af->ndns_pending;
    memset(&af->dns_events[k], 0, sizeof af->dns_events[k]);
    struct dns_msg *m = dns_parse(msg, len, &af->dns_events[k]);
    merge_events(&c->res->events, &af->dns_events[k]);
    if (m == NULL)
        return;
    /* A message's own QR bit says whether it is a query or a response;
     * the flow's direction may be wrong for UDP when the capture starts
     * with a response. The events are for messages going the wrong way:
     * over TCP by the connection's direction, over UDP by port 53. */
    bool response = dns_msg_is_response(m);
    bool to_server = c->tcp ? c->dir == APP_TOSERVER : c->dp == 53 && c->sp != 53;
    bool from_server = c->tcp ? c->dir == APP_TOCLIENT : c->sp == 53 && c->dp != 53;
    if (response && to_server)
        app_event_add(&af->dns_events[k], DNS_EV_NOT_A_REQUEST);
    else if (!response && from_server)
        app_event_add(&af->dns_events[k], DNS_EV_NOT_A_RESPONSE);
    merge_events(&c->res->events, &af->dns_events[k]);
    af->dns_pending[k] = m;
    af->ndns_pending++;
    count(c->ae, c->tcp ? STAT_APP_TX_DNS_TCP : STAT_APP_TX_DNS_UDP, 1);
    uint64_t tx = UINT64_MAX;
    uint16_t qid = dns_msg_id(m);
    if (response) {
        for (unsigned i = 0; i < af->ndns_open; i++) {
            if (af->dns_open[i].id != qid)
                continue;
            tx = af->dns_open[i].tx;
            af->dns_open[i] = af->dns_open[--af->ndns_open];
            break;
        }
    }
    if (tx == UINT64_MAX) {
        tx = af->dns_next_id++;
        if (!response) {
            unsigned cap = sizeof af->dns_open / sizeof *af->dns_open;
            if (af->ndns_open == cap) { /* the oldest request gets no answer */
                memmove(af->dns_open, af->dns_open + 1, (cap - 1) * sizeof af->dns_open[0]);
                af->ndns_open--;
            }
            af->dns_open[af->ndns_open].id = qid;
            af->dns_open[af->ndns_open++].tx = tx;
        }
    }
    add_item(c->res, APP_DNS, tx, m, NULL, &af->dns_events[k],
             response ? APP_TOCLIENT : APP_TOSERVER, true, true);
}

/* ---- Feeding --------------------------------------------------------------------- */

/* Holds up to PROBE_LIMIT bytes of dir while the protocol is undecided;
 * returns how many of d were taken. */
static uint32_t hold(struct app_flow *af, int dir, const uint8_t *d, uint32_t n)
{
    uint32_t room = PROBE_LIMIT - af->npending[dir];
    uint32_t take = n < room ? n : room;
    if (take == 0)
        return 0;
    uint8_t *nb = realloc(af->pending[dir], af->npending[dir] + take);
    if (nb == NULL)
        return 0;
    memcpy(nb + af->npending[dir], d, take);
    af->pending[dir] = nb;
    af->npending[dir] += take;
    return take;
}

/* The bytes held while probing, no longer needed. */
static void release_pending(struct app_flow *af)
{
    for (int k = 0; k < 2; k++) {
        free(af->pending[k]);
        af->pending[k] = NULL;
        af->npending[k] = 0;
    }
}

static void result_init(struct app_result *res)
{
    res->n = 0;
    res->proto = APP_NONE;
    res->events.n = 0;
    res->flow_events.n = 0;
}

static void flow_event(struct app_flow *af, struct app_result *res, int code)
{
    app_event_add(&af->flow_events, (uint16_t)code);
    app_event_add(&res->flow_events, (uint16_t)code);
}

/* Hands in-order bytes of one direction to the flow's parser. */
static void feed(struct app_engine *ae, struct flow *f, struct app_flow *af, int dir,
                 const uint8_t *d, uint32_t n, const struct timeval *ts, struct app_result *res)
{
    (void)f;
    res->proto = af->proto;
    switch (af->proto) {
    case APP_HTTP: {
        http_feed(af->http, dir, d, n, ts, &res->events);
        unsigned before = res->n;
        http_items(af, res, false);
        count_logged(ae, res, before, STAT_APP_TX_HTTP);
        break;
    }
    case APP_TLS: {
        struct app_events ev = { 0 };
        tls_feed(af->tls, dir, d, n, &ev);
        merge_events(&res->events, &ev);
        merge_events(&af->tls_events, &ev);
        unsigned before = res->n;
        tls_items(af, res, false);
        count_logged(ae, res, before, STAT_APP_TX_TLS);
        break;
    }
    case APP_DNS: {
        struct dns_ctx c = { ae, af, res, dir, true, 0, 0 };
        dns_tcp_feed(&af->dnsbuf[dir], d, n, dns_message, &c, &res->events);
        break;
    }
    default:
        break;
    }
}

void app_tcp_data(struct app_engine *ae, struct flow *f, int dir, const uint8_t *d, uint32_t n,
                  const struct timeval *ts, struct app_result *res)
{
    result_init(res);
    if (n == 0)
        return;
    struct app_flow *af = flow_state(f);
    if (af == NULL || af->proto == APP_OTHER || af->broken[dir])
        return;
    uint16_t sp = f->key.port[f->client_idx], dp = f->key.port[f->client_idx ^ 1];
    int first = -1; /* the probe of the flow's first data, reused below */
    if (af->probed[dir] == 0 && af->probed[!dir] == 0 && !af->first_data_done) {
        af->first_data_done = true;
        /* HTTP, TLS and DNS all start with the client */
        first = probe(ae, d, n, dir, true, sp, dp);
        if (dir == APP_TOCLIENT && first != APP_NONE)
            flow_event(af, res, APP_EV_WRONG_DIRECTION_FIRST_DATA);
    }
    /* While undecided, a direction's bytes are held: the probes look at
     * them from the first byte, and the parser gets them all. Bytes that
     * decide at once are never copied. */
    uint32_t taken = 0;
    if (af->proto == APP_NONE && af->npending[dir] > 0)
        taken = hold(af, dir, d, n);
    if (af->seen_proto[dir] == APP_NONE && af->probed[dir] < PROBE_LIMIT) {
        const uint8_t *pd = af->npending[dir] ? af->pending[dir] : d;
        uint32_t pn = af->npending[dir] ? af->npending[dir] : n;
        int p = first >= 0 && pd == d && pn == n ? first : probe(ae, pd, pn, dir, true, sp, dp);
        af->probed[dir] += n;
        if (p != APP_NONE) {
            af->seen_proto[dir] = (uint8_t)p;
            if (af->seen_proto[!dir] != APP_NONE && af->seen_proto[!dir] != p)
                flow_event(af, res, APP_EV_MISMATCH_PROTOCOL_BOTH_DIRECTIONS);
        }
        if (af->proto == APP_NONE) {
            if (p != APP_NONE) {
                if (!start_proto(ae, f, af, p, ts)) {
                    af->proto = APP_OTHER;
                    return;
                }
                count_flow(ae, p, true);
            } else if (af->probed[dir] >= PROBE_LIMIT ||
                       (af->probed[0] > 0 && af->probed[1] > 0 && pn >= 16)) {
                /* both sides spoke and neither looks like a protocol we parse */
                af->proto = APP_OTHER;
                f->app_proto = APP_OTHER;
                count_flow(ae, APP_OTHER, true);
                release_pending(af);
                return;
            }
        }
    }
    if (af->proto == APP_NONE) {
        if (af->npending[dir] == 0)
            hold(af, dir, d, n); /* the other side may still tell */
        return;
    }
    /* Decided: what was held goes to the parser first, in each direction. */
    for (int k = 0; k < 2; k++) {
        if (af->npending[k] == 0)
            continue;
        uint8_t *buf = af->pending[k];
        uint32_t held = af->npending[k];
        af->pending[k] = NULL;
        af->npending[k] = 0;
        feed(ae, f, af, k, buf, held, ts, res);
        free(buf);
    }
    if (taken < n)
        feed(ae, f, af, dir, d + taken, n - taken, ts, res);
}

void app_tcp_gap(struct app_engine *ae, struct flow *f, int dir)
{
    (void)ae;
    struct app_flow *af = flow_state(f);
    if (af != NULL)
        af->broken[dir] = true;
}

void app_udp_packet(struct app_engine *ae, struct flow *f, int dir, const struct packet *p,
                    struct app_result *res)
{
    result_init(res);
    if (!ae->cfg.dns || p->payload_len == 0)
        return;
    struct app_flow *af = flow_state(f);
    if (af == NULL || af->proto == APP_OTHER)
        return;
    const uint8_t *d = p->data + p->payload_off;
    if (af->proto == APP_NONE) {
        if (probe(ae, d, p->payload_len, dir, false, p->sp, p->dp) != APP_DNS) {
            if (++af->probed[dir] >= 2 || af->probed[!dir] > 0) {
                af->proto = APP_OTHER;
                f->app_proto = APP_OTHER;
            }
            return;
        }
        start_proto(ae, f, af, APP_DNS, &p->ts);
        count_flow(ae, APP_DNS, false);
    }
    if (af->proto != APP_DNS)
        return;
    res->proto = APP_DNS;
    struct dns_ctx c = { ae, af, res, dir, false, p->sp, p->dp };
    dns_message(&c, d, p->payload_len);
}

void app_result_done(struct app_engine *ae, struct flow *f, struct app_result *res)
{
    (void)ae;
    (void)res;
    struct app_flow *af = f->app;
    if (af == NULL)
        return;
    for (unsigned i = 0; i < af->ndns_pending; i++)
        dns_msg_free(af->dns_pending[i]);
    af->ndns_pending = 0;
    if (af->http)
        http_release(af);
}

void app_flow_end(struct app_engine *ae, struct flow *f, struct app_result *res)
{
    result_init(res);
    struct app_flow *af = f->app;
    if (af == NULL)
        return;
    res->proto = af->proto;
    if (af->proto == APP_HTTP && af->http) {
        struct timeval ts = f->last;
        http_close(af->http, &ts);
        unsigned before = res->n;
        http_items(af, res, true);
        count_logged(ae, res, before, STAT_APP_TX_HTTP);
    } else if (af->proto == APP_TLS && af->tls) {
        unsigned before = res->n;
        tls_items(af, res, true);
        count_logged(ae, res, before, STAT_APP_TX_TLS);
    }
    if ((af->proto == APP_HTTP || af->proto == APP_TLS) && af->probed[0] && af->probed[1] &&
        (af->seen_proto[0] == APP_NONE || af->seen_proto[1] == APP_NONE))
        flow_event(af, res, APP_EV_DETECT_PROTOCOL_ONLY_ONE_DIRECTION);
}

void app_flow_free(struct app_engine *ae, struct flow *f)
{
    (void)ae;
    struct app_flow *af = f->app;
    if (af == NULL)
        return;
    for (unsigned i = 0; i < af->ndns_pending; i++)
        dns_msg_free(af->dns_pending[i]);
    if (af->http)
        http_state_free(af->http);
    if (af->tls)
        tls_state_free(af->tls);
    dns_tcp_buf_free(&af->dnsbuf[0]);
    dns_tcp_buf_free(&af->dnsbuf[1]);
    free(af->pending[0]);
    free(af->pending[1]);
    free(af);
    f->app = NULL;
}
