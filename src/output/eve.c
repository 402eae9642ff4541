/* EVE JSON: envelopes, event bodies, and the buffered writer. */
#include "output/eve.h"

#include "stream/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/stats.h"
#include "util/timefmt.h"

struct eve_sink *eve_sink_open(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct eve_sink *s = calloc(1, sizeof *s);
    if (s == NULL) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fd = fd;
    s->path = strdup(path);
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

int eve_sink_reopen(struct eve_sink *s)
{
    int fd = open(s->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    pthread_mutex_lock(&s->lock);
    close(s->fd);
    s->fd = fd;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

void eve_sink_close(struct eve_sink *s)
{
    if (s == NULL)
        return;
    close(s->fd);
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s);
}

static void sink_write(struct eve_sink *s, const char *buf, size_t len)
{
    pthread_mutex_lock(&s->lock);
    while (len > 0) {
        ssize_t n = write(s->fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break; /* disk full or similar: nothing sensible left to do here */
        }
        buf += n;
        len -= (size_t)n;
    }
    pthread_mutex_unlock(&s->lock);
}

void eve_writer_init(struct eve_writer *w, struct eve_sink *sink, size_t cap)
{
    w->sink = sink;
    w->cap = cap < 4096 ? 4096 : cap;
    w->buf = malloc(w->cap);
    w->len = 0;
    w->ev_start = 0;
    if (w->buf == NULL)
        abort();
}

void eve_writer_flush(struct eve_writer *w)
{
    if (w->len > 0 && w->sink != NULL)
        sink_write(w->sink, w->buf, w->len);
    w->len = 0;
    w->ev_start = 0;
}

void eve_writer_destroy(struct eve_writer *w)
{
    eve_writer_flush(w);
    free(w->buf);
    w->buf = NULL;
}

/* Flushes the complete events in the buffer and keeps the partial one. */
static void flush_complete(struct eve_writer *w, size_t ev_start)
{
    if (ev_start > 0 && w->sink != NULL)
        sink_write(w->sink, w->buf, ev_start);
    memmove(w->buf, w->buf + ev_start, w->len - ev_start);
    w->len -= ev_start;
}

/* jansson hands an event over in pieces; an event never straddles two
 * writes, so concurrent writers cannot split each other's lines. */
static int append_cb(const char *buf, size_t size, void *data)
{
    struct eve_writer *w = data;
    if (w->len + size > w->cap) {
        flush_complete(w, w->ev_start);
        w->ev_start = 0;
        if (w->len + size > w->cap) { /* one event larger than the buffer */
            size_t cap = w->cap;
            while (cap < w->len + size)
                cap *= 2;
            char *nb = realloc(w->buf, cap);
            if (nb == NULL)
                return -1;
            w->buf = nb;
            w->cap = cap;
        }
    }
    memcpy(w->buf + w->len, buf, size);
    w->len += size;
    return 0;
}

void eve_write(struct eve_writer *w, const json_t *ev)
{
    w->ev_start = w->len;
    if (json_dump_callback(ev, append_cb, w, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
        append_cb("\n", 1, w) != 0) {
        w->len = w->ev_start; /* drop the partial event */
        return;
    }
    w->ev_start = w->len;
    if (w->sink) {
        __atomic_add_fetch(&w->sink->events, 1, __ATOMIC_RELAXED);
        const char *type = json_string_value(json_object_get(ev, "event_type"));
        int idx = 7;
        if (type != NULL) {
            if (strcmp(type, "flow") == 0) idx = 0;
            else if (strcmp(type, "anomaly") == 0) idx = 1;
            else if (strcmp(type, "stats") == 0) idx = 2;
            else if (strcmp(type, "alert") == 0) idx = 3;
            else if (strcmp(type, "http") == 0) idx = 4;
            else if (strcmp(type, "tls") == 0) idx = 5;
            else if (strcmp(type, "dns") == 0) idx = 6;
        }
        __atomic_add_fetch(&w->sink->by_type[idx], 1, __ATOMIC_RELAXED);
    }
}

json_t *eve_envelope(const struct timeval *ts, const char *event_type)
{
    char buf[TIMEFMT_LEN];
    json_t *ev = json_object();
    json_object_set_new(ev, "timestamp", json_string(timefmt_eve(ts, buf, sizeof buf)));
    json_object_set_new(ev, "event_type", json_string(event_type));
    return ev;
}

const char *eve_proto_name(uint8_t proto, char *buf, size_t len)
{
    switch (proto) {
    case 1: return "ICMP";
    case 2: return "IGMP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 41: return "IPv6";
    case 47: return "GRE";
    case 50: return "ESP";
    case 51: return "AH";
    case 58: return "IPv6-ICMP";
    case 89: return "OSPF";
    case 103: return "PIM";
    case 112: return "VRRP";
    case 132: return "SCTP";
    default:
        snprintf(buf, len, "%u", proto);
        return buf;
    }
}

static void add_vlan(json_t *ev, const uint16_t *vlan, unsigned n)
{
    if (n == 0)
        return;
    json_t *a = json_array();
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, json_integer(vlan[i]));
    json_object_set_new(ev, "vlan", a);
}

static void add_endpoints(json_t *ev, int ip_ver, const struct ip_addr *s, uint16_t sp,
                          const struct ip_addr *d, uint16_t dp, uint8_t proto, bool ports)
{
    char a[64], pb[8];
    decode_addr_str(ip_ver, s, a, sizeof a);
    json_object_set_new(ev, "src_ip", json_string(a));
    if (ports)
        json_object_set_new(ev, "src_port", json_integer(sp));
    decode_addr_str(ip_ver, d, a, sizeof a);
    json_object_set_new(ev, "dest_ip", json_string(a));
    if (ports)
        json_object_set_new(ev, "dest_port", json_integer(dp));
    json_object_set_new(ev, "proto", json_string(eve_proto_name(proto, pb, sizeof pb)));
}

void eve_add_packet_tuple(json_t *ev, const struct packet *p)
{
    if (!(p->flags & PKT_HAS_TUPLE))
        return;
    add_vlan(ev, p->vlan, p->vlan_cnt);
    add_endpoints(ev, p->ip_ver, &p->src, p->sp, &p->dst, p->dp, p->proto,
                  (p->flags & PKT_HAS_PORTS) != 0);
    if (p->proto == 1 || p->proto == 58) {
        json_object_set_new(ev, "icmp_type", json_integer(p->icmp.type));
        json_object_set_new(ev, "icmp_code", json_integer(p->icmp.code));
    }
}

static void tcp_flags_hex(uint8_t flags, char *buf, size_t len)
{
    snprintf(buf, len, "%02x", flags);
}

/* The flow object's counters and start, shared by flow and alert events. */
static json_t *flow_counters(const struct flow *f)
{
    char buf[TIMEFMT_LEN];
    json_t *fl = json_object();
    json_object_set_new(fl, "pkts_toserver", json_integer((json_int_t)f->pkts[0]));
    json_object_set_new(fl, "pkts_toclient", json_integer((json_int_t)f->pkts[1]));
    json_object_set_new(fl, "bytes_toserver", json_integer((json_int_t)f->bytes[0]));
    json_object_set_new(fl, "bytes_toclient", json_integer((json_int_t)f->bytes[1]));
    json_object_set_new(fl, "start", json_string(timefmt_eve(&f->start, buf, sizeof buf)));
    return fl;
}

/* "app_proto" of a flow whose protocol the app layer identified. */
static void add_app_proto(json_t *ev, const struct flow *f)
{
    static const char *const names[] = { NULL, "http", "tls", "dns", "failed" };
    if (f != NULL && f->app_proto > 0 && f->app_proto < sizeof names / sizeof *names)
        json_object_set_new(ev, "app_proto", json_string(names[f->app_proto]));
}

/* The head of a per-flow event: time and type, the flow, its VLANs, its
 * endpoints from client to server and its app protocol. */
static json_t *flow_envelope(const struct flow *f, const struct timeval *ts, const char *type)
{
    json_t *ev = eve_envelope(ts, type);
    json_object_set_new(ev, "flow_id", json_integer((json_int_t)f->flow_id));
    add_vlan(ev, f->key.vlan, f->key.vlan_cnt);
    int c = f->client_idx, s = c ^ 1;
    bool ports = f->proto_idx == FLOW_PROTO_TCP || f->proto_idx == FLOW_PROTO_UDP;
    add_endpoints(ev, f->ip_ver, &f->key.addr[c], f->key.port[c], &f->key.addr[s],
                  f->key.port[s], f->key.proto, ports);
    add_app_proto(ev, f);
    return ev;
}

json_t *eve_app_event(const struct flow *f, const struct timeval *ts, const char *type,
                      uint64_t tx_id, json_t *obj)
{
    json_t *ev = flow_envelope(f, ts, type);
    json_object_set_new(ev, "tx_id", json_integer((json_int_t)tx_id));
    json_object_set_new(ev, type, obj);
    return ev;
}

/* The head every per-packet event starts with: time and type, the flow
 * (0: none), the packet's place in the capture and its addresses. */
static json_t *packet_envelope(const struct packet *p, const char *type, uint64_t flow_id)
{
    json_t *ev = eve_envelope(&p->ts, type);
    if (flow_id)
        json_object_set_new(ev, "flow_id", json_integer((json_int_t)flow_id));
    if (p->pcap_cnt)
        json_object_set_new(ev, "pcap_cnt", json_integer((json_int_t)p->pcap_cnt));
    eve_add_packet_tuple(ev, p);
    return ev;
}

json_t *eve_app_anomaly_event(const struct packet *p, const struct flow *f, const char *app_proto,
                              const char *event, const char *layer)
{
    json_t *ev = packet_envelope(p, "anomaly", f ? f->flow_id : 0);
    add_app_proto(ev, f);
    json_t *a = json_object();
    json_object_set_new(a, "type", json_string("applayer"));
    json_object_set_new(a, "app_proto", json_string(app_proto));
    json_object_set_new(a, "event", json_string(event));
    json_object_set_new(a, "layer", json_string(layer));
    json_object_set_new(ev, "anomaly", a);
    return ev;
}

json_t *eve_flow_event(const struct flow *f, enum flow_end_reason reason)
{
    /* Like Suricata, a flow event is stamped with the flow's start. */
    json_t *ev = flow_envelope(f, &f->start, "flow");
    char buf[TIMEFMT_LEN];

    json_t *fl = flow_counters(f);
    json_object_set_new(fl, "end", json_string(timefmt_eve(&f->last, buf, sizeof buf)));
    json_object_set_new(fl, "age", json_integer((json_int_t)(f->last.tv_sec - f->start.tv_sec)));
    json_object_set_new(fl, "state", json_string(flow_state_name(f->state)));
    json_object_set_new(fl, "reason", json_string(flow_reason_name(reason)));
    json_object_set_new(fl, "alerted", json_boolean(f->alerted));
    json_object_set_new(ev, "flow", fl);

    if (f->proto_idx == FLOW_PROTO_TCP) {
        uint8_t all = f->tcp_flags[0] | f->tcp_flags[1];
        char hex[4];
        json_t *t = json_object();
        tcp_flags_hex(all, hex, sizeof hex);
        json_object_set_new(t, "tcp_flags", json_string(hex));
        tcp_flags_hex(f->tcp_flags[0], hex, sizeof hex);
        json_object_set_new(t, "tcp_flags_ts", json_string(hex));
        tcp_flags_hex(f->tcp_flags[1], hex, sizeof hex);
        json_object_set_new(t, "tcp_flags_tc", json_string(hex));
        static const struct { uint8_t bit; const char *name; } names[] = {
            { TCP_SYN, "syn" }, { TCP_FIN, "fin" }, { TCP_RST, "rst" }, { TCP_PSH, "psh" },
            { TCP_ACK, "ack" }, { TCP_URG, "urg" }, { TCP_ECE, "ecn" }, { TCP_CWR, "cwr" },
        };
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (all & names[i].bit)
                json_object_set_new(t, names[i].name, json_true());
        const char *st;
        if (f->tcp != NULL)
            st = tcp_state_name(stream_flow_state(f)); /* the stream engine's view */
        else if (f->rst_seen || f->fin_seen == 3)
            st = "closed";
        else if (f->fin_seen)
            st = "fin_wait1";
        else if (f->state == FLOW_STATE_ESTABLISHED)
            st = "established";
        else if (f->synack_seen)
            st = "syn_recv";
        else if (f->syn_seen)
            st = "syn_sent";
        else
            st = "none";
        json_object_set_new(t, "state", json_string(st));
        json_object_set_new(ev, "tcp", t);
    }
    return ev;
}

json_t *eve_anomaly_event(const struct packet *p, uint64_t flow_id, int decode_event)
{
    json_t *ev = packet_envelope(p, "anomaly", flow_id);
    json_t *a = json_object();
    const char *ename = decode_event_name(decode_event);
    bool stream = strncmp(ename, "stream.", 7) == 0;
    json_object_set_new(a, "type", json_string(stream ? "stream" : "decode"));
    char name[96];
    snprintf(name, sizeof name, stream ? "%s" : "decoder.%s", ename);
    json_object_set_new(a, "event", json_string(name));
    json_object_set_new(ev, "anomaly", a);
    return ev;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static json_t *base64_string(const uint8_t *d, size_t n)
{
    size_t outlen = (n + 2) / 3 * 4;
    char *out = malloc(outlen + 1);
    if (out == NULL)
        return json_string("");
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < n)
            v |= d[i + 2];
        out[o++] = b64chars[(v >> 18) & 63];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64chars[v & 63] : '=';
    }
    out[o] = '\0';
    json_t *j = json_stringn(out, o);
    free(out);
    return j;
}

static json_t *printable_string(const uint8_t *d, size_t n)
{
    char *out = malloc(n + 1);
    if (out == NULL)
        return json_string("");
    for (size_t i = 0; i < n; i++)
        out[i] = (d[i] >= 0x20 && d[i] < 0x7f) || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'
                     ? (char)d[i] : '.';
    json_t *j = json_stringn(out, n);
    free(out);
    return j;
}

/* {"ip": ..., "port": ...} of the packet's source (src) or destination. */
static json_t *endpoint_object(const struct packet *p, bool dst)
{
    char a[64];
    decode_addr_str(p->ip_ver, dst ? &p->dst : &p->src, a, sizeof a);
    json_t *o = json_object();
    json_object_set_new(o, "ip", json_string(a));
    if (p->flags & PKT_HAS_PORTS)
        json_object_set_new(o, "port", json_integer(dst ? p->dp : p->sp));
    return o;
}

/* "packet" (base64 of the captured bytes) and "packet_info" (the link type). */
static void add_packet(json_t *ev, const struct packet *p)
{
    json_object_set_new(ev, "packet", base64_string(p->data, p->caplen));
    json_t *info = json_object();
    json_object_set_new(info, "linktype", json_integer(p->linktype));
    json_object_set_new(ev, "packet_info", info);
}

json_t *eve_alert_event(const struct packet *p, const struct flow *f, int dir,
                        const struct eve_alert_info *a, unsigned opts)
{
    json_t *ev = packet_envelope(p, "alert", f ? f->flow_id : 0);
    if (f)
        json_object_set_new(ev, "direction", json_string(dir == FLOW_TOSERVER ? "to_server"
                                                                               : "to_client"));
    add_app_proto(ev, f);
    if (a->app_type != NULL) {
        json_object_set_new(ev, "tx_id", json_integer((json_int_t)a->tx_id));
        if (a->app_obj != NULL)
            json_object_set_new(ev, a->app_type, json_deep_copy(a->app_obj));
    }
    json_t *al = json_object();
    json_object_set_new(al, "action", json_string(a->action));
    json_object_set_new(al, "gid", json_integer(a->gid));
    json_object_set_new(al, "signature_id", json_integer(a->sid));
    json_object_set_new(al, "rev", json_integer(a->rev));
    json_object_set_new(al, "signature", json_string(a->msg));
    json_object_set_new(al, "category", json_string(a->category));
    json_object_set_new(al, "severity", json_integer(a->severity));
    if ((opts & EVE_ALERT_METADATA) && a->metadata)
        json_object_set_new(al, "metadata", json_deep_copy(a->metadata));
    if (a->target && (p->flags & PKT_HAS_TUPLE)) {
        /* target:dest_ip makes the packet's destination the target. */
        bool dst_is_target = strcmp(a->target, "dest_ip") == 0;
        json_object_set_new(al, "source", endpoint_object(p, !dst_is_target));
        json_object_set_new(al, "target", endpoint_object(p, dst_is_target));
    }
    json_object_set_new(ev, "alert", al);
    if (f)
        json_object_set_new(ev, "flow", flow_counters(f));
    const uint8_t *pl = p->data + p->payload_off;
    uint32_t pl_len = p->payload_len;
    if (a->stream_data != NULL) {
        pl = a->stream_data;
        pl_len = a->stream_len;
    }
    if (opts & EVE_ALERT_PAYLOAD)
        json_object_set_new(ev, "payload", base64_string(pl, pl_len));
    if (opts & EVE_ALERT_PAYLOAD_PRINTABLE)
        json_object_set_new(ev, "payload_printable", printable_string(pl, pl_len));
    if (opts & (EVE_ALERT_PAYLOAD | EVE_ALERT_PAYLOAD_PRINTABLE))
        json_object_set_new(ev, "stream", json_integer(a->stream_data != NULL));
    if (opts & EVE_ALERT_PACKET)
        add_packet(ev, p);
    return ev;
}

json_t *eve_drop_event(const struct packet *p, const struct flow *f, const char *reason)
{
    json_t *ev = packet_envelope(p, "drop", f ? f->flow_id : 0);
    add_app_proto(ev, f);
    json_t *d = json_object();
    json_object_set_new(d, "len", json_integer(p->caplen));
    json_object_set_new(d, "ttl", json_integer(p->ttl));
    if (p->proto == 6) {
        json_object_set_new(d, "tcpseq", json_integer(p->tcp.seq));
        json_object_set_new(d, "tcpack", json_integer(p->tcp.ack));
        json_object_set_new(d, "tcpwin", json_integer(p->tcp.win));
        json_object_set_new(d, "syn", json_boolean(p->tcp.flags & TCP_SYN));
        json_object_set_new(d, "ack", json_boolean(p->tcp.flags & TCP_ACK));
        json_object_set_new(d, "psh", json_boolean(p->tcp.flags & TCP_PSH));
        json_object_set_new(d, "rst", json_boolean(p->tcp.flags & TCP_RST));
        json_object_set_new(d, "fin", json_boolean(p->tcp.flags & TCP_FIN));
    }
    json_object_set_new(d, "reason", json_string(reason));
    json_object_set_new(ev, "drop", d);
    return ev;
}

json_t *eve_packet_event(const struct packet *p, const struct flow *f, int dir)
{
    json_t *ev = packet_envelope(p, "packet", f ? f->flow_id : 0);
    if (f)
        json_object_set_new(ev, "direction", json_string(dir == FLOW_TOSERVER ? "to_server"
                                                                               : "to_client"));
    add_packet(ev, p);
    return ev;
}

json_t *eve_stats_event(const struct timeval *ts, const struct stats *s, double uptime)
{
    json_t *ev = eve_envelope(ts, "stats");
    json_object_set_new(ev, "stats", stats_to_json(s, uptime));
    return ev;
}
