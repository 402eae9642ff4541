#include "engine/worker.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "capture/nfq.h"

#include "util/log.h"
#include "util/timefmt.h"

static void write_app_events(struct worker *w, struct flow *f, const struct timeval *ts,
                             const struct app_result *ar);

static void on_flow_end(void *ctx, struct flow *f, enum flow_end_reason reason)
{
    struct worker *w = ctx;
    if (w->app && f->app) {
        struct app_result ar;
        app_flow_end(w->app, f, &ar);
        write_app_events(w, f, &f->last, &ar);
        app_flow_free(w->app, f);
    }
    if ((w->eve_types & EVE_TYPE_FLOW) && w->eve.sink != NULL) {
        json_t *ev = eve_flow_event(f, reason);
        eve_write(&w->eve, ev);
        json_decref(ev);
    }
    detect_flow_free(f);
    if (w->stream)
        stream_flow_free(w->stream, f);
}

int worker_init(struct worker *w, unsigned id, unsigned nworkers, const struct settings *s,
                const struct worker_outputs *out)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    w->raw4 = -1;
    w->raw6 = -1;
    struct flow_config fc = s->flow;
    fc.memcap = s->flow.memcap / (nworkers ? nworkers : 1);
    fc.hash_size = s->flow.hash_size / (nworkers ? nworkers : 1);
    w->flows = flow_table_new(&fc, &w->stats, on_flow_end, w);
    if (w->flows == NULL)
        return -1;
    if (s->stream.enabled) {
        struct stream_config sc = s->stream;
        sc.memcap = s->stream.memcap / (nworkers ? nworkers : 1);
        sc.policies = &s->defrag;
        if ((w->stream = stream_engine_new(&sc, &w->stats)) == NULL)
            return -1;
    }
    if (s->app.http || s->app.tls || s->app.dns) {
        if ((w->app = app_engine_new(&s->app, &w->stats)) == NULL)
            return -1;
    }
    if (out->de != NULL && (w->dt = detect_thread_new(out->de)) == NULL)
        return -1;
    eve_writer_init(&w->eve, s->eve_enabled ? out->eve : NULL, s->eve_buffer);
    w->eve_types = s->eve_enabled ? s->eve_types : 0;
    w->alert_opts = s->eve_alert_opts;
    w->anomaly_types = s->eve_anomaly_types;
    w->fast = out->fast;
    return 0;
}

void worker_tick(struct worker *w, const struct timeval *now)
{
    if (timeval_usec(now) > timeval_usec(&w->now))
        w->now = *now;
    if ((uint64_t)w->now.tv_sec >= w->next_timeout_sec) {
        flow_table_timeout(w->flows, &w->now);
        w->next_timeout_sec = (uint64_t)w->now.tv_sec + 1;
    }
}

/* Offline, a drop is not enforced but recorded, as Suricata does. */
static const char *alert_action_name(int action)
{
    return action == 1 || action == 2 ? "blocked" : "allowed";
}

/* Counts and writes the results of one detection pass. */
static void report(struct worker *w, const struct packet *p, struct flow *f, int dir,
                   const struct detect_result *res, const uint8_t *chunk, uint32_t chunk_len,
                   const struct app_tx *tx)
{
    if (res->suppressed)
        stats_add(&w->stats, STAT_DETECT_ALERTS_SUPPRESSED, res->suppressed);
    if (res->overflow)
        stats_add(&w->stats, STAT_DETECT_ALERT_QUEUE_OVERFLOW, res->overflow);
    if (res->drop) {
        stats_inc(&w->stats, res->reject ? STAT_IPS_REJECTED : STAT_IPS_BLOCKED);
        /* Inline the packet is dropped; offline the same decision is
         * taken and recorded (the rest of the flow too). */
        if (res->reject || w->verdict != VERDICT_REJECT)
            w->verdict = res->reject ? VERDICT_REJECT : VERDICT_DROP;
        if (f)
            f->dropped = true;
    }
    if (res->tagged) {
        stats_inc(&w->stats, STAT_DETECT_TAGGED);
        if ((w->eve_types & EVE_TYPE_ALERT) && (w->alert_opts & EVE_ALERT_TAGGED_PACKETS) &&
            w->eve.sink != NULL) {
            json_t *ev = eve_packet_event(p, f, dir);
            eve_write(&w->eve, ev);
            json_decref(ev);
        }
    }
    if (res->nalerts == 0)
        return;
    if (f)
        f->alerted = true;
    stats_add(&w->stats, STAT_DETECT_ALERT, res->nalerts);
    for (unsigned i = 0; i < res->nalerts; i++) {
        const struct detect_alert *a = &res->alerts[i];
        struct eve_alert_info info = {
            .gid = a->gid, .sid = a->sid, .rev = a->rev,
            .action = alert_action_name(a->action),
            .msg = a->msg, .category = a->category, .severity = a->severity,
            .metadata = a->metadata,
            .target = a->target,
            .stream_data = chunk, .stream_len = chunk_len,
        };
        json_t *app_obj = NULL;
        if (tx != NULL) {
            info.app_type = app_proto_name(tx->proto);
            info.tx_id = tx->id;
            app_obj = app_tx_eve(tx);
            info.app_obj = app_obj;
        }
        if ((w->eve_types & EVE_TYPE_ALERT) && w->eve.sink != NULL) {
            json_t *ev = eve_alert_event(p, f, dir, &info, w->alert_opts);
            eve_write(&w->eve, ev);
            json_decref(ev);
        }
        if (w->fast)
            fastlog_write(w->fast, p, &info);
        json_decref(app_obj);
    }
}

static void run_detect(struct worker *w, const struct packet *p, struct flow *f, int dir,
                       const struct stream_result *sr)
{
    struct detect_result res;
    if (!sr->tracked) {
        detect_packet(w->dt, p, f, dir, &res);
        report(w, p, f, dir, &res, NULL, 0, NULL);
        return;
    }
    /* A reassembled session: the packet without the stream's payload
     * rules, then the new stream bytes with them. */
    detect_packet_mode(w->dt, p, f, dir, DETECT_PACKET_STREAMED, NULL, 0, 0, 0, &res);
    report(w, p, f, dir, &res, NULL, 0, NULL);
    if (res.pass || sr->len == 0)
        return;
    detect_packet_mode(w->dt, p, f, dir, DETECT_STREAM, sr->chunk, sr->len, sr->new_off,
                       sr->chunk_off, &res);
    report(w, p, f, dir, &res, sr->chunk, sr->len, NULL);
}

static unsigned eve_type_bit(int proto)
{
    switch (proto) {
    case APP_HTTP: return EVE_TYPE_HTTP;
    case APP_TLS: return EVE_TYPE_TLS;
    case APP_DNS: return EVE_TYPE_DNS;
    default: return 0;
    }
}

/* The transactions of ar that are ready to be logged, as EVE events. */
static void write_app_events(struct worker *w, struct flow *f, const struct timeval *ts,
                             const struct app_result *ar)
{
    if (w->eve.sink == NULL)
        return;
    for (unsigned i = 0; i < ar->n; i++) {
        const struct app_item *it = &ar->items[i];
        if (!it->log || !(w->eve_types & eve_type_bit(it->tx.proto)))
            continue;
        json_t *ev = eve_app_event(f, ts, app_proto_name(it->tx.proto), it->tx.id,
                                   app_tx_eve(&it->tx));
        eve_write(&w->eve, ev);
        json_decref(ev);
    }
}

/* App-layer events of one packet: counted, and written as anomalies. */
static void write_app_anomalies(struct worker *w, const struct packet *p, const struct flow *f,
                                const struct app_result *ar)
{
    bool out = (w->eve_types & EVE_TYPE_ANOMALY) && (w->anomaly_types & EVE_ANOMALY_APPLAYER) &&
               w->eve.sink != NULL;
    for (unsigned i = 0; out && i < ar->events.n; i++) {
        json_t *ev = eve_app_anomaly_event(p, f, app_proto_name(ar->proto),
                                           app_event_name(ar->proto, ar->events.code[i]),
                                           "proto_parser");
        eve_write(&w->eve, ev);
        json_decref(ev);
    }
    for (unsigned i = 0; out && i < ar->flow_events.n; i++) {
        json_t *ev = eve_app_anomaly_event(p, f, f->app_proto == APP_NONE ? "unknown"
                                           : app_proto_name(f->app_proto),
                                           app_flow_event_name(ar->flow_events.code[i]),
                                           "proto_detect");
        eve_write(&w->eve, ev);
        json_decref(ev);
    }
}

/* Hands the packet's new stream bytes (or its datagram) to the app layer,
 * then inspects and logs the transactions that became ready. */
static void run_app(struct worker *w, const struct packet *p, struct flow *f, int dir,
                    const struct stream_result *sr)
{
    struct app_result ar;
    if (p->proto == 6) {
        if (sr->gap)
            app_tcp_gap(w->app, f, dir);
        if (sr->len <= sr->new_off)
            return;
        app_tcp_data(w->app, f, dir, sr->chunk + sr->new_off, sr->len - sr->new_off, &p->ts,
                     &ar);
    } else if (p->proto == 17) {
        app_udp_packet(w->app, f, dir, p, &ar);
    } else {
        return;
    }
    write_app_anomalies(w, p, f, &ar);
    for (unsigned i = 0; w->dt && i < ar.n; i++) {
        const struct app_item *it = &ar.items[i];
        if (!it->inspect)
            continue;
        struct detect_result res;
        detect_tx(w->dt, p, f, it->dir, &it->tx, &res);
        report(w, p, f, it->dir, &res, NULL, 0, &it->tx);
    }
    write_app_events(w, f, &p->ts, &ar);
    app_result_done(w->app, f, &ar);
}

static void write_anomaly(struct worker *w, const struct packet *p, const struct flow *f,
                          int ev_id, unsigned kind)
{
    if (!(w->eve_types & EVE_TYPE_ANOMALY) || !(w->anomaly_types & kind))
        return;
    json_t *ev = eve_anomaly_event(p, f ? f->flow_id : 0, ev_id);
    eve_write(&w->eve, ev);
    json_decref(ev);
}

/* A dropped packet as an EVE drop event. */
static void write_drop(struct worker *w, const struct packet *p, const struct flow *f,
                       const char *reason)
{
    if (w->eve.sink == NULL || !(w->eve_types & EVE_TYPE_DROP))
        return;
    json_t *ev = eve_drop_event(p, f, reason);
    eve_write(&w->eve, ev);
    json_decref(ev);
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)d[i] << 8 | d[i + 1];
    if (n & 1)
        sum += (uint32_t)d[n - 1] << 8;
    return sum;
}

/* Sends an IPv4 TCP reset from src to dst (addresses and ports as given). */
static void send_rst4(int fd, const uint8_t *src, const uint8_t *dst, uint16_t sp, uint16_t dp,
                      uint32_t seq, uint32_t ack, bool with_ack)
{
    uint8_t pkt[40];
    memset(pkt, 0, sizeof pkt);
    pkt[0] = 0x45;
    pkt[3] = 40;
    pkt[8] = 64;
    pkt[9] = 6;
    memcpy(pkt + 12, src, 4);
    memcpy(pkt + 16, dst, 4);
    uint16_t ic = csum_fold(csum_add(0, pkt, 20));
    pkt[10] = (uint8_t)(ic >> 8);
    pkt[11] = (uint8_t)ic;
    uint8_t *t = pkt + 20;
    t[0] = (uint8_t)(sp >> 8); t[1] = (uint8_t)sp;
    t[2] = (uint8_t)(dp >> 8); t[3] = (uint8_t)dp;
    t[4] = (uint8_t)(seq >> 24); t[5] = (uint8_t)(seq >> 16); t[6] = (uint8_t)(seq >> 8); t[7] = (uint8_t)seq;
    t[8] = (uint8_t)(ack >> 24); t[9] = (uint8_t)(ack >> 16); t[10] = (uint8_t)(ack >> 8); t[11] = (uint8_t)ack;
    t[12] = 5 << 4;
    t[13] = (uint8_t)(TCP_RST | (with_ack ? TCP_ACK : 0));
    uint8_t pseudo[12];
    memcpy(pseudo, src, 4);
    memcpy(pseudo + 4, dst, 4);
    pseudo[8] = 0;
    pseudo[9] = 6;
    pseudo[10] = 0;
    pseudo[11] = 20;
    uint16_t tc = csum_fold(csum_add(csum_add(0, pseudo, 12), t, 20));
    t[16] = (uint8_t)(tc >> 8);
    t[17] = (uint8_t)tc;
    struct sockaddr_in to = { .sin_family = AF_INET };
    memcpy(&to.sin_addr, dst, 4);
    sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to);
}

/* An ICMP destination unreachable (code) to the sender of p, as if from its
 * destination, quoting p's IP header and the first 8 bytes after it. */
static void send_unreach4(int fd, const struct packet *p, uint8_t code)
{
    uint32_t ihl = (uint32_t)(p->data[p->l3_off] & 0x0f) * 4;
    uint32_t quote = ihl + 8;
    if (p->l3_off + quote > p->caplen)
        quote = p->caplen - p->l3_off;
    uint8_t pkt[20 + 8 + 60 + 8];
    uint32_t len = 20 + 8 + quote;
    if (len > sizeof pkt)
        return;
    memset(pkt, 0, 28);
    pkt[0] = 0x45;
    pkt[2] = (uint8_t)(len >> 8);
    pkt[3] = (uint8_t)len;
    pkt[8] = 64;
    pkt[9] = 1;
    memcpy(pkt + 12, p->dst.b, 4);
    memcpy(pkt + 16, p->src.b, 4);
    uint16_t ic = csum_fold(csum_add(0, pkt, 20));
    pkt[10] = (uint8_t)(ic >> 8);
    pkt[11] = (uint8_t)ic;
    uint8_t *icmp = pkt + 20;
    icmp[0] = 3; /* destination unreachable */
    icmp[1] = code;
    memcpy(icmp + 8, p->data + p->l3_off, quote);
    uint16_t cc = csum_fold(csum_add(0, icmp, 8 + quote));
    icmp[2] = (uint8_t)(cc >> 8);
    icmp[3] = (uint8_t)cc;
    struct sockaddr_in to = { .sin_family = AF_INET };
    memcpy(&to.sin_addr, p->src.b, 4);
    sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof to);
}

/* An IPv6 packet: header (src, dst, next header nh) + body of n bytes, with
 * the upper-layer checksum written at csum_off of the body. */
static void send6(int fd, const uint8_t *src, const uint8_t *dst, uint8_t nh, uint8_t *body,
                  uint32_t n, uint32_t csum_off)
{
    uint8_t pkt[40 + 1280];
    if (fd < 0 || n > sizeof pkt - 40)
        return;
    memset(pkt, 0, 40);
    pkt[0] = 0x60;
    pkt[4] = (uint8_t)(n >> 8);
    pkt[5] = (uint8_t)n;
    pkt[6] = nh;
    pkt[7] = 64;
    memcpy(pkt + 8, src, 16);
    memcpy(pkt + 24, dst, 16);
    body[csum_off] = body[csum_off + 1] = 0;
    uint8_t pseudo[40];
    memcpy(pseudo, src, 16);
    memcpy(pseudo + 16, dst, 16);
    pseudo[32] = (uint8_t)(n >> 24);
    pseudo[33] = (uint8_t)(n >> 16);
    pseudo[34] = (uint8_t)(n >> 8);
    pseudo[35] = (uint8_t)n;
    pseudo[36] = pseudo[37] = pseudo[38] = 0;
    pseudo[39] = nh;
    uint16_t c = csum_fold(csum_add(csum_add(0, pseudo, 40), body, n));
    body[csum_off] = (uint8_t)(c >> 8);
    body[csum_off + 1] = (uint8_t)c;
    memcpy(pkt + 40, body, n);
    struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
    memcpy(&to.sin6_addr, dst, 16);
    sendto(fd, pkt, 40 + n, 0, (struct sockaddr *)&to, sizeof to);
}

static void send_rst6(int fd, const uint8_t *src, const uint8_t *dst, uint16_t sp, uint16_t dp,
                      uint32_t seq, uint32_t ack, bool with_ack)
{
    uint8_t t[20];
    memset(t, 0, sizeof t);
    t[0] = (uint8_t)(sp >> 8); t[1] = (uint8_t)sp;
    t[2] = (uint8_t)(dp >> 8); t[3] = (uint8_t)dp;
    t[4] = (uint8_t)(seq >> 24); t[5] = (uint8_t)(seq >> 16); t[6] = (uint8_t)(seq >> 8); t[7] = (uint8_t)seq;
    t[8] = (uint8_t)(ack >> 24); t[9] = (uint8_t)(ack >> 16); t[10] = (uint8_t)(ack >> 8); t[11] = (uint8_t)ack;
    t[12] = 5 << 4;
    t[13] = (uint8_t)(TCP_RST | (with_ack ? TCP_ACK : 0));
    send6(fd, src, dst, 6, t, sizeof t, 16);
}

/* ICMPv6 destination unreachable (code) to the sender of p, quoting as much
 * of p as fits the minimum MTU. */
static void send_unreach6(int fd, const struct packet *p, uint8_t code)
{
    uint8_t body[1232];
    uint32_t quote = p->caplen - p->l3_off;
    if (quote > sizeof body - 8)
        quote = sizeof body - 8;
    memset(body, 0, 8);
    body[0] = 1; /* destination unreachable */
    body[1] = code;
    memcpy(body + 8, p->data + p->l3_off, quote);
    send6(fd, p->dst.b, p->src.b, 58, body, 8 + quote, 2);
}

/* reject: a TCP reset to both ends; for UDP an ICMP port unreachable to the
 * sender, for other protocols an ICMP "administratively prohibited" (ICMPv6
 * over IPv6). */
static void send_reject(struct worker *w, const struct packet *p)
{
    if (p->ip_ver == 6) {
        if (w->raw6 < 0 || (p->proto == 58 && p->icmp.type != 128))
            return; /* never answer an ICMPv6 error (or reply) with one */
        if (p->proto == 6) {
            if (p->tcp.flags & TCP_RST)
                return;
            uint32_t next = p->tcp.seq + p->payload_len +
                            ((p->tcp.flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
            send_rst6(w->raw6, p->dst.b, p->src.b, p->dp, p->sp,
                      (p->tcp.flags & TCP_ACK) ? p->tcp.ack : 0, next, true);
            send_rst6(w->raw6, p->src.b, p->dst.b, p->sp, p->dp, p->tcp.seq, 0, false);
        } else {
            send_unreach6(w->raw6, p, p->proto == 17 ? 4 : 1);
        }
        return;
    }
    if (w->raw4 < 0 || p->ip_ver != 4)
        return;
    if (p->proto == 1 && p->icmp.type != 8)
        return; /* never answer an ICMP error (or reply) with one */
    if (p->proto != 6) {
        send_unreach4(w->raw4, p, p->proto == 17 ? 3 : 13);
        return;
    }
    if (p->tcp.flags & TCP_RST)
        return;
    uint32_t next = p->tcp.seq + p->payload_len + ((p->tcp.flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
    /* to the sender: as if from the receiver, acknowledging what it sent */
    send_rst4(w->raw4, p->dst.b, p->src.b, p->dp, p->sp,
              (p->tcp.flags & TCP_ACK) ? p->tcp.ack : 0, next, true);
    /* to the receiver: as if from the sender, at the dropped segment's
     * sequence number (the receiver never got it, so that is what it expects) */
    send_rst4(w->raw4, p->src.b, p->dst.b, p->sp, p->dp, p->tcp.seq, 0, false);
}

void worker_process(struct worker *w, const struct packet *p)
{
    worker_tick(w, &p->ts);
    int dir = 0;
    struct flow *f = flow_handle_packet(w->flows, p, &dir);
    w->verdict = VERDICT_ACCEPT;
    if (f && f->dropped) {
        /* The flow was dropped: the rest of it is, without inspection. */
        w->verdict = VERDICT_DROP;
        stats_inc(&w->stats, STAT_IPS_BLOCKED);
        write_drop(w, p, f, "flow drop");
        return;
    }
    struct stream_result sr;
    memset(&sr, 0, sizeof sr);
    if (w->stream && f && p->proto == 6)
        stream_packet(w->stream, f, p, dir, &sr);
    /* The app layer first, as Suricata does: alerts then know the flow's protocol. */
    if (w->app && f)
        run_app(w, p, f, dir, &sr);
    if (w->dt)
        run_detect(w, p, f, dir, &sr);
    for (unsigned i = 0; i < p->nevents; i++)
        write_anomaly(w, p, f, p->events[i], EVE_ANOMALY_DECODE);
    for (unsigned i = 0; i < sr.nevents; i++) {
        stats_inc(&w->stats, STAT_EVENT_BASE + sr.events[i]);
        write_anomaly(w, p, f, sr.events[i], EVE_ANOMALY_STREAM);
    }
    if (w->verdict == VERDICT_ACCEPT) {
        if (w->inline_mode)
            stats_inc(&w->stats, STAT_IPS_ACCEPTED);
    } else {
        write_drop(w, p, f, "rules");
        if (w->verdict == VERDICT_REJECT && w->inline_mode)
            send_reject(w, p);
    }
}

void worker_set_inline(struct worker *w)
{
    w->inline_mode = true;
    w->raw4 = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    w->raw6 = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
    if (w->raw4 < 0 || w->raw6 < 0)
        log_warn("reject: no raw socket (%s): rejected packets are dropped without a reset",
                 strerror(errno));
}

void worker_finish(struct worker *w, const struct timeval *end)
{
    flow_table_flush(w->flows, end);
    eve_writer_flush(&w->eve);
}

void worker_restart_clock(struct worker *w, const struct timeval *end)
{
    flow_table_flush(w->flows, end);
    memset(&w->now, 0, sizeof w->now);
    w->next_timeout_sec = 0;
}

void worker_destroy(struct worker *w)
{
    flow_table_free(w->flows);
    w->flows = NULL;
    stream_engine_free(w->stream);
    w->stream = NULL;
    app_engine_free(w->app);
    w->app = NULL;
    if (w->raw4 >= 0)
        close(w->raw4);
    if (w->raw6 >= 0)
        close(w->raw6);
    w->raw4 = w->raw6 = -1;
    detect_thread_free(w->dt);
    w->dt = NULL;
    eve_writer_destroy(&w->eve);
}
