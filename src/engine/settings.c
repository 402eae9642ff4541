#include "engine/settings.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "output/eve.h"

/* A value that parsed but is out of range: "FILE:LINE: KEY: why, got 'V'". */
static int range_error(const struct conf *c, const char *key, const char *why, char *err,
                       size_t errlen)
{
    const struct conf_node *n = conf_find(c, key);
    char where[512] = "";
    if (n != NULL)
        conf_node_where(n, where, sizeof where);
    snprintf(err, errlen, "%s: %s: %s, got '%s'", where, key, why,
             n && n->value ? n->value : "");
    return -1;
}

#define CHECK(call)          \
    do {                     \
        if ((call) < 0)      \
            return -1;       \
    } while (0)

static int load_timeouts(const struct conf *c, const char *proto, struct flow_timeouts *t,
                         const struct flow_timeouts *def, char *err, size_t errlen)
{
    static const struct { const char *key; size_t off; } keys[] = {
        { "new", offsetof(struct flow_timeouts, new_) },
        { "established", offsetof(struct flow_timeouts, established) },
        { "closed", offsetof(struct flow_timeouts, closed) },
        { "emergency-new", offsetof(struct flow_timeouts, emerg_new) },
        { "emergency-established", offsetof(struct flow_timeouts, emerg_established) },
        { "emergency-closed", offsetof(struct flow_timeouts, emerg_closed) },
    };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char path[96];
        snprintf(path, sizeof path, "flow-timeouts.%s.%s", proto, keys[i].key);
        long v;
        uint32_t d = *(const uint32_t *)((const char *)def + keys[i].off);
        CHECK(conf_get_int(c, path, d, 0, 86400 * 7, &v, err, errlen));
        *(uint32_t *)((char *)t + keys[i].off) = (uint32_t)v;
    }
    return 0;
}

/* outputs: is a list of one-key mappings; find the eve-log one. */
static const struct conf_node *find_output(const struct conf *c, const char *name)
{
    const struct conf_node *outs = conf_find(c, "outputs");
    if (outs == NULL)
        return NULL;
    for (const struct conf_node *item = outs->child; item; item = item->next) {
        const struct conf_node *o = conf_node_find(item, name);
        if (o != NULL)
            return o;
    }
    return NULL;
}

struct flag_key {
    const char *key;
    unsigned bit;
};

/* Sets or clears a bit of *mask for each yes/no key of the table that
 * node has; path names node in the error. */
static int load_flag_keys(const struct conf_node *node, const char *path,
                          const struct flag_key *keys, size_t nkeys, unsigned *mask, char *err,
                          size_t errlen)
{
    for (size_t i = 0; i < nkeys; i++) {
        const struct conf_node *n = conf_node_find(node, keys[i].key);
        if (n == NULL)
            continue;
        bool on;
        if (n->value == NULL || conf_parse_bool(n->value, &on) < 0) {
            char where[512];
            conf_node_where(n, where, sizeof where);
            snprintf(err, errlen, "%s: %s.%s: expected yes or no", where, path, keys[i].key);
            return -1;
        }
        if (on)
            *mask |= keys[i].bit;
        else
            *mask &= ~keys[i].bit;
    }
    return 0;
}

/* types: - alert: { payload: yes, payload-printable: yes, packet: yes, metadata: yes,
 *                   tagged-packets: yes } */
static int load_alert_options(struct settings *s, const struct conf_node *alert, char *err,
                              size_t errlen)
{
    static const struct flag_key opts[] = {
        { "payload", EVE_ALERT_PAYLOAD },
        { "payload-printable", EVE_ALERT_PAYLOAD_PRINTABLE },
        { "packet", EVE_ALERT_PACKET },
        { "metadata", EVE_ALERT_METADATA },
        { "tagged-packets", EVE_ALERT_TAGGED_PACKETS },
    };
    if (alert == NULL)
        return 0;
    return load_flag_keys(alert, "outputs.eve-log.types.alert", opts, sizeof opts / sizeof *opts,
                          &s->eve_alert_opts, err, errlen);
}

/* types: - http: { dump-all-headers: both|request|response|none } */
static int load_http_options(struct settings *s, const struct conf_node *h, char *err,
                             size_t errlen)
{
    if (h == NULL)
        return 0;
    const struct conf_node *n = conf_node_find(h, "dump-all-headers");
    if (n == NULL)
        return 0;
    const char *v = n->value ? n->value : "";
    if (strcmp(v, "both") == 0 || strcmp(v, "request") == 0 || strcmp(v, "response") == 0 ||
        strcmp(v, "yes") == 0)
        s->app.http_cfg.log_headers = true;
    else if (strcmp(v, "none") == 0 || strcmp(v, "no") == 0)
        s->app.http_cfg.log_headers = false;
    else {
        char where[512];
        conf_node_where(n, where, sizeof where);
        snprintf(err, errlen, "%s: outputs.eve-log.types.http.dump-all-headers: expected both, "
                 "request, response or none", where);
        return -1;
    }
    return 0;
}

/* app-layer: { protocols: { http: { enabled, request-body-limit, response-body-limit },
 *                           tls: { enabled }, dns: { enabled } } } */
static int load_app_layer(struct settings *s, const struct conf *c, char *err, size_t errlen)
{
    struct app_config *a = &s->app;
    CHECK(conf_get_bool(c, "app-layer.protocols.http.enabled", true, &a->http, err, errlen));
    CHECK(conf_get_bool(c, "app-layer.protocols.tls.enabled", true, &a->tls, err, errlen));
    CHECK(conf_get_bool(c, "app-layer.protocols.dns.enabled", true, &a->dns, err, errlen));
    uint64_t v;
    CHECK(conf_get_size(c, "app-layer.protocols.http.request-body-limit",
                        a->http_cfg.request_body_limit, &v, err, errlen));
    if (v > (64u << 20))
        return range_error(c, "app-layer.protocols.http.request-body-limit",
                           "must be at most 64mb", err, errlen);
    a->http_cfg.request_body_limit = (uint32_t)v;
    CHECK(conf_get_size(c, "app-layer.protocols.http.response-body-limit",
                        a->http_cfg.response_body_limit, &v, err, errlen));
    if (v > (64u << 20))
        return range_error(c, "app-layer.protocols.http.response-body-limit",
                           "must be at most 64mb", err, errlen);
    a->http_cfg.response_body_limit = (uint32_t)v;
    return 0;
}

/* nfq: { mode, repeat-mark, repeat-mask, route-queue, fail-open, queue-maxlen, snaplen,
 *        batchcount } */
static int load_nfq(struct settings *s, const struct conf *c, char *err, size_t errlen)
{
    struct nfq_config *q = &s->nfq;
    memset(q, 0, sizeof *q);
    long v;
    CHECK(conf_get_bool(c, "nfq.fail-open", false, &q->fail_open, err, errlen));
    CHECK(conf_get_int(c, "nfq.queue-maxlen", NFQ_DEFAULT_MAXLEN, 1, 1 << 20, &v, err, errlen));
    q->maxlen = (uint32_t)v;
    CHECK(conf_get_int(c, "nfq.snaplen", NFQ_DEFAULT_SNAPLEN, 64, 65535, &v, err, errlen));
    q->snaplen = (uint32_t)v;
    const char *mode;
    conf_get_str(c, "nfq.mode", "accept", &mode);
    if (strcmp(mode, "accept") == 0)
        q->mode = NFQ_MODE_ACCEPT;
    else if (strcmp(mode, "repeat") == 0)
        q->mode = NFQ_MODE_REPEAT;
    else if (strcmp(mode, "route") == 0)
        q->mode = NFQ_MODE_ROUTE;
    else
        return range_error(c, "nfq.mode", "expected accept, repeat or route", err, errlen);
    CHECK(conf_get_int(c, "nfq.repeat-mark", 1, 0, UINT32_MAX, &v, err, errlen));
    q->repeat_mark = (uint32_t)v;
    CHECK(conf_get_int(c, "nfq.repeat-mask", 1, 0, UINT32_MAX, &v, err, errlen));
    q->repeat_mask = (uint32_t)v;
    CHECK(conf_get_int(c, "nfq.route-queue", 2, 0, 65535, &v, err, errlen));
    q->route_queue = (uint16_t)v;
    CHECK(conf_get_int(c, "nfq.batchcount", 1, 1, 1000, &v, err, errlen));
    q->batchcount = (uint32_t)v;
    return 0;
}

/* types: - anomaly: { enabled: yes, types: { decode: yes, stream: yes } } */
static int load_anomaly_options(struct settings *s, const struct conf_node *an, char *err,
                                size_t errlen)
{
    static const struct flag_key opts[] = {
        { "decode", EVE_ANOMALY_DECODE },
        { "stream", EVE_ANOMALY_STREAM },
        { "applayer", EVE_ANOMALY_APPLAYER },
    };
    if (an == NULL)
        return 0;
    char where[512];
    const struct conf_node *en = conf_node_find(an, "enabled");
    bool on = true;
    if (en && (en->value == NULL || conf_parse_bool(en->value, &on) < 0)) {
        conf_node_where(en, where, sizeof where);
        snprintf(err, errlen, "%s: outputs.eve-log.types.anomaly.enabled: expected yes or no",
                 where);
        return -1;
    }
    if (!on)
        s->eve_types &= ~EVE_TYPE_ANOMALY;
    const struct conf_node *types = conf_node_find(an, "types");
    if (types == NULL)
        return 0;
    return load_flag_keys(types, "outputs.eve-log.types.anomaly.types", opts,
                          sizeof opts / sizeof *opts, &s->eve_anomaly_types, err, errlen);
}

static int load_fast(struct settings *s, const struct conf *c, char *err, size_t errlen)
{
    s->fast_enabled = false;
    s->fast_filename = "fast.log";
    const struct conf_node *fast = find_output(c, "fast");
    if (fast == NULL)
        return 0;
    const struct conf_node *n = conf_node_find(fast, "enabled");
    if (n && (n->value == NULL || conf_parse_bool(n->value, &s->fast_enabled) < 0)) {
        char where[512];
        conf_node_where(n, where, sizeof where);
        snprintf(err, errlen, "%s: outputs.fast.enabled: expected yes or no", where);
        return -1;
    }
    n = conf_node_find(fast, "filename");
    if (n && n->value)
        s->fast_filename = n->value;
    return 0;
}

static int load_eve(struct settings *s, const struct conf *c, char *err, size_t errlen)
{
    s->eve_enabled = true;
    s->eve_filename = "eve.json";
    s->eve_buffer = 64 * 1024;
    s->eve_types = EVE_TYPE_FLOW | EVE_TYPE_ANOMALY | EVE_TYPE_STATS | EVE_TYPE_ALERT |
                   EVE_TYPE_HTTP | EVE_TYPE_TLS | EVE_TYPE_DNS | EVE_TYPE_DROP;
    s->eve_alert_opts = EVE_ALERT_METADATA | EVE_ALERT_TAGGED_PACKETS;
    s->eve_anomaly_types = EVE_ANOMALY_DECODE | EVE_ANOMALY_STREAM | EVE_ANOMALY_APPLAYER;
    const struct conf_node *eve = find_output(c, "eve-log");
    if (eve == NULL)
        return 0;
    char where[512];
    const struct conf_node *n = conf_node_find(eve, "enabled");
    if (n && (n->value == NULL || conf_parse_bool(n->value, &s->eve_enabled) < 0)) {
        conf_node_where(n, where, sizeof where);
        snprintf(err, errlen, "%s: outputs.eve-log.enabled: expected yes or no", where);
        return -1;
    }
    n = conf_node_find(eve, "filetype");
    if (n && n->value && strcmp(n->value, "regular") != 0) {
        conf_node_where(n, where, sizeof where);
        snprintf(err, errlen, "%s: outputs.eve-log.filetype: only 'regular' is supported, got '%s'",
                 where, n->value);
        return -1;
    }
    n = conf_node_find(eve, "filename");
    if (n && n->value)
        s->eve_filename = n->value;
    n = conf_node_find(eve, "buffer-size");
    if (n) {
        uint64_t v;
        if (n->value == NULL || conf_parse_size(n->value, &v) < 0 || v > (64u << 20)) {
            conf_node_where(n, where, sizeof where);
            snprintf(err, errlen, "%s: outputs.eve-log.buffer-size: expected a size up to 64mb",
                     where);
            return -1;
        }
        s->eve_buffer = (size_t)v;
    }
    n = conf_node_find(eve, "types");
    if (n) {
        s->eve_types = 0;
        for (const struct conf_node *t = n->child; t; t = t->next) {
            /* An item is a plain name or a mapping with the name as its key. */
            const char *name = t->value ? t->value : t->child ? t->child->name : "";
            if (strcmp(name, "alert") == 0) {
                s->eve_types |= EVE_TYPE_ALERT;
                if (load_alert_options(s, t->value ? NULL : t->child, err, errlen) < 0)
                    return -1;
            } else if (strcmp(name, "flow") == 0)
                s->eve_types |= EVE_TYPE_FLOW;
            else if (strcmp(name, "anomaly") == 0) {
                s->eve_types |= EVE_TYPE_ANOMALY;
                if (load_anomaly_options(s, t->value ? NULL : t->child, err, errlen) < 0)
                    return -1;
            }
            else if (strcmp(name, "stats") == 0)
                s->eve_types |= EVE_TYPE_STATS;
            else if (strcmp(name, "http") == 0) {
                s->eve_types |= EVE_TYPE_HTTP;
                if (load_http_options(s, t->value ? NULL : t->child, err, errlen) < 0)
                    return -1;
            } else if (strcmp(name, "tls") == 0)
                s->eve_types |= EVE_TYPE_TLS;
            else if (strcmp(name, "dns") == 0)
                s->eve_types |= EVE_TYPE_DNS;
            else if (strcmp(name, "drop") == 0)
                s->eve_types |= EVE_TYPE_DROP;
            else {
                conf_node_where(t, where, sizeof where);
                snprintf(err, errlen, "%s: outputs.eve-log.types: unknown event type '%s'",
                         where, name);
                return -1;
            }
        }
    }
    return 0;
}

/* "[a, b, ...]" or "a,b": networks given as one scalar. */
static int add_policy_list(struct defrag_config *d, const char *text, int policy)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    for (char *tok = strtok_r(buf, "[], \t", &save); tok; tok = strtok_r(NULL, "[], \t", &save))
        if (defrag_config_add_policy(d, tok, policy) < 0)
            return -1;
    return 0;
}

/*
 * defrag: { memcap, timeout, max-frags, trackers } and
 * host-os-policy: { POLICY: [CIDR, ...], ... } (Suricata's layout).
 */
static int load_defrag(struct settings *s, const struct conf *c, char *err, size_t errlen)
{
    struct defrag_config *d = &s->defrag;
    defrag_config_init(d);
    long v;
    CHECK(conf_get_size(c, "defrag.memcap", d->memcap, &d->memcap, err, errlen));
    if (d->memcap < 65536)
        return range_error(c, "defrag.memcap", "must be at least 64kb", err, errlen);
    CHECK(conf_get_int(c, "defrag.timeout", d->timeout_sec, 1, 3600, &v, err, errlen));
    d->timeout_sec = (uint32_t)v;
    CHECK(conf_get_int(c, "defrag.max-frags", d->max_frags, 1, 1 << 24, &v, err, errlen));
    d->max_frags = (uint32_t)v;
    CHECK(conf_get_int(c, "defrag.trackers", d->trackers_max, 1, 1 << 24, &v, err, errlen));
    d->trackers_max = (uint32_t)v;
    const struct conf_node *hop = conf_find(c, "host-os-policy");
    for (const struct conf_node *pol = hop ? hop->child : NULL; pol; pol = pol->next) {
        char where[512];
        conf_node_where(pol, where, sizeof where);
        int policy = defrag_policy_parse(pol->name);
        if (policy < 0) {
            snprintf(err, errlen, "%s: host-os-policy.%s: unknown policy", where, pol->name);
            return -1;
        }
        for (const struct conf_node *net = pol->child; net; net = net->next) {
            if (net->value == NULL || defrag_config_add_policy(d, net->value, policy) < 0) {
                conf_node_where(net, where, sizeof where);
                snprintf(err, errlen, "%s: host-os-policy.%s: bad network '%s'", where,
                         pol->name, net->value ? net->value : "");
                return -1;
            }
        }
        if (pol->value && add_policy_list(d, pol->value, policy) < 0) {
            /* --set host-os-policy.windows=[10.0.0.0/8,192.168.0.0/16] */
            snprintf(err, errlen, "%s: host-os-policy.%s: bad network list '%s'", where,
                     pol->name, pol->value);
            return -1;
        }
    }
    return 0;
}

/* stream: { enabled, midstream, memcap, reassembly: { depth, inspect-window, max-wait } } */
static int load_stream(struct settings *s, const struct conf *c, char *err, size_t errlen)
{
    struct stream_config *st = &s->stream;
    stream_config_init(st);
    CHECK(conf_get_bool(c, "stream.enabled", st->enabled, &st->enabled, err, errlen));
    CHECK(conf_get_bool(c, "stream.midstream", st->midstream, &st->midstream, err, errlen));
    CHECK(conf_get_size(c, "stream.memcap", st->memcap, &st->memcap, err, errlen));
    if (st->memcap < (1u << 20))
        return range_error(c, "stream.memcap", "must be at least 1mb", err, errlen);
    uint64_t v;
    CHECK(conf_get_size(c, "stream.reassembly.depth", st->depth, &v, err, errlen));
    if (v > UINT32_MAX)
        return range_error(c, "stream.reassembly.depth", "must be at most 4gb (0: no limit)",
                           err, errlen);
    st->depth = (uint32_t)v;
    CHECK(conf_get_size(c, "stream.reassembly.inspect-window", st->inspect_window, &v, err,
                        errlen));
    if (v < 64 || v > (1u << 20))
        return range_error(c, "stream.reassembly.inspect-window", "expected from 64 to 1mb",
                           err, errlen);
    st->inspect_window = (uint32_t)v;
    CHECK(conf_get_size(c, "stream.reassembly.max-wait", st->max_wait, &v, err, errlen));
    if (v < 4096 || v > (1u << 30))
        return range_error(c, "stream.reassembly.max-wait", "expected from 4kb to 1gb", err,
                           errlen);
    st->max_wait = (uint32_t)v;
    st->policies = &s->defrag;
    return 0;
}

void settings_release(struct settings *s)
{
    defrag_config_release(&s->defrag);
}

int settings_load(struct settings *s, const struct conf *c, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    const char *rm;
    conf_get_str(c, "runmode", "workers", &rm);
    if (strcmp(rm, "single") == 0) {
        s->runmode = RUNMODE_SINGLE;
    } else if (strcmp(rm, "workers") == 0 || strcmp(rm, "autofp") == 0) {
        s->runmode = RUNMODE_WORKERS;
    } else {
        const struct conf_node *n = conf_find(c, "runmode");
        char where[512];
        conf_node_where(n, where, sizeof where);
        snprintf(err, errlen, "%s: runmode: expected single or workers, got '%s'", where, rm);
        return -1;
    }

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const char *wt;
    conf_get_str(c, "threading.worker-threads", "auto", &wt);
    if (strcmp(wt, "auto") == 0) {
        s->workers = cores > 0 ? (unsigned)cores : 1;
    } else {
        long v;
        CHECK(conf_get_int(c, "threading.worker-threads", 1, 1, 256, &v, err, errlen));
        s->workers = (unsigned)v;
    }
    uint64_t ring;
    CHECK(conf_get_size(c, "threading.ring-size", 16u << 20, &ring, err, errlen));
    if (ring < (1u << 20) || ring > (1ull << 30)) {
        return range_error(c, "threading.ring-size", "expected from 1mb to 1gb", err,
                           errlen);
    }
    s->ring_size = (size_t)ring;

    const char *cs;
    conf_get_str(c, "pcap-file.checksum-checks", "yes", &cs);
    bool csum = true;
    if (strcmp(cs, "auto") != 0)
        CHECK(conf_get_bool(c, "pcap-file.checksum-checks", true, &csum, err, errlen));
    s->decode.checksum_validation = csum;
    long layers;
    CHECK(conf_get_int(c, "decoder.max-layers", 8, 1, 64, &layers, err, errlen));
    s->decode.max_layers = (unsigned)layers;

    flow_config_defaults(&s->flow);
    CHECK(conf_get_size(c, "flow.memcap", s->flow.memcap, &s->flow.memcap, err, errlen));
    if (s->flow.memcap < (1u << 20)) {
        return range_error(c, "flow.memcap", "must be at least 1mb", err, errlen);
    }
    long hs, rec;
    CHECK(conf_get_int(c, "flow.hash-size", 65536, 1024, 1 << 26, &hs, err, errlen));
    s->flow.hash_size = (uint32_t)hs;
    CHECK(conf_get_int(c, "flow.emergency-recovery", 30, 1, 100, &rec, err, errlen));
    s->flow.emergency_recovery = (uint32_t)rec;
    struct flow_timeouts def = s->flow.timeouts[FLOW_PROTO_OTHER];
    CHECK(load_timeouts(c, "default", &s->flow.timeouts[FLOW_PROTO_OTHER], &def, err, errlen));
    for (int i = 0; i < FLOW_PROTO_OTHER; i++) {
        static const char *const names[] = { "tcp", "udp", "icmp" };
        struct flow_timeouts d = s->flow.timeouts[i];
        CHECK(load_timeouts(c, names[i], &s->flow.timeouts[i], &d, err, errlen));
    }

    CHECK(load_defrag(s, c, err, errlen));
    CHECK(load_stream(s, c, err, errlen));
    app_config_init(&s->app);
    CHECK(load_app_layer(s, c, err, errlen));
    CHECK(load_nfq(s, c, err, errlen));
    CHECK(load_eve(s, c, err, errlen));
    CHECK(load_fast(s, c, err, errlen));
    CHECK(conf_get_bool(c, "stats.enabled", true, &s->stats_enabled, err, errlen));
    long iv;
    CHECK(conf_get_int(c, "stats.interval", 8, 1, 86400, &iv, err, errlen));
    s->stats_interval = (unsigned)iv;
    conf_get_str(c, "default-log-dir", "/var/log/caracal", &s->log_dir);
    return 0;
}
