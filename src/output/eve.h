/*
 * EVE JSON output: one JSON object per line, Suricata's envelope and field
 * names. Each thread writes events into its own buffer (struct
 * eve_writer); a full buffer goes to the shared sink in one write, so the
 * file lock is taken once per batch, never per event.
 */
#ifndef CARACAL_OUTPUT_EVE_H
#define CARACAL_OUTPUT_EVE_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/time.h>

#include "decode/decode.h"
#include "flow/flow.h"

struct stats;

/* Event types that can be switched on and off in outputs.eve-log.types. */
#define EVE_TYPE_FLOW 0x01u
#define EVE_TYPE_ANOMALY 0x02u
#define EVE_TYPE_STATS 0x04u
#define EVE_TYPE_ALERT 0x08u
#define EVE_TYPE_HTTP 0x10u
#define EVE_TYPE_TLS 0x20u
#define EVE_TYPE_DNS 0x40u
#define EVE_TYPE_DROP 0x80u

/* Which anomalies the anomaly type writes (outputs.eve-log.types.anomaly.types). */
#define EVE_ANOMALY_DECODE 0x01u          /* decoder events */
#define EVE_ANOMALY_STREAM 0x02u          /* TCP stream events */
#define EVE_ANOMALY_APPLAYER 0x04u        /* app-layer parser events */

/* Options of the alert type (outputs.eve-log.types.alert). */
#define EVE_ALERT_PAYLOAD 0x01u           /* payload, base64 */
#define EVE_ALERT_PAYLOAD_PRINTABLE 0x02u /* payload_printable */
#define EVE_ALERT_PACKET 0x04u            /* packet, base64 */
#define EVE_ALERT_METADATA 0x08u          /* alert.metadata */
#define EVE_ALERT_TAGGED_PACKETS 0x10u    /* "packet" events for packets a tag: covers */

/* What an alert event says about the rule (filled by the worker from detect). */
struct eve_alert_info {
    uint32_t gid, sid, rev;
    const char *action;       /* "allowed" or "blocked" */
    const char *msg;
    const char *category;
    int severity;
    const json_t *metadata;
    const char *target;       /* the rule's target: "src_ip", "dest_ip" or NULL */
    const uint8_t *stream_data; /* a stream match: the chunk inspected (payload, stream: 1) */
    const char *app_type;     /* an app-layer match: "http", "tls" or "dns" ... */
    const json_t *app_obj;    /* ... and the transaction's object (borrowed) */
    uint64_t tx_id;
    uint32_t stream_len;
};

struct eve_sink {
    int fd;
    char *path;
    pthread_mutex_t lock;
    uint64_t events;   /* lines written, all threads */
    uint64_t by_type[8];
};

struct eve_writer {
    struct eve_sink *sink;
    char *buf;
    size_t len, cap;
    size_t ev_start; /* where the event being serialized begins */
};

/* Opens (appending) the EVE file; NULL with a reason in err. */
struct eve_sink *eve_sink_open(const char *path, char *err, size_t errlen);
/* Reopens the same path (log rotation). */
int eve_sink_reopen(struct eve_sink *s);
void eve_sink_close(struct eve_sink *s);

void eve_writer_init(struct eve_writer *w, struct eve_sink *sink, size_t cap);
/* Serializes ev as one line into the buffer (ev is not consumed). */
void eve_write(struct eve_writer *w, const json_t *ev);
void eve_writer_flush(struct eve_writer *w);
void eve_writer_destroy(struct eve_writer *w);

/* Envelope: timestamp and event_type. */
json_t *eve_envelope(const struct timeval *ts, const char *event_type);
/* src_ip, src_port, dest_ip, dest_port, proto (and vlan) from a packet. */
void eve_add_packet_tuple(json_t *ev, const struct packet *p);
/* "TCP", "UDP", "ICMP", "IPv6-ICMP", ... or the number. */
const char *eve_proto_name(uint8_t proto, char *buf, size_t len);

/* Complete events. */
json_t *eve_flow_event(const struct flow *f, enum flow_end_reason reason);
json_t *eve_anomaly_event(const struct packet *p, uint64_t flow_id, int decode_event);
/* An app-layer transaction (event_type "http", "tls" or "dns"): the flow's
 * client and server as source and destination; obj is stolen. */
json_t *eve_app_event(const struct flow *f, const struct timeval *ts, const char *type,
                      uint64_t tx_id, json_t *obj);
/* An app-layer anomaly: {"type":"applayer","app_proto":..,"event":..,"layer":..}. */
json_t *eve_app_anomaly_event(const struct packet *p, const struct flow *f, const char *app_proto,
                              const char *event, const char *layer);

/* A packet the inline sensor dropped (event_type "drop"). */
json_t *eve_drop_event(const struct packet *p, const struct flow *f, const char *reason);

/* A packet covered by a rule's tag: (event_type "packet"). */
json_t *eve_packet_event(const struct packet *p, const struct flow *f, int dir);
json_t *eve_alert_event(const struct packet *p, const struct flow *f, int dir,
                        const struct eve_alert_info *a, unsigned opts);
json_t *eve_stats_event(const struct timeval *ts, const struct stats *s, double uptime);

#endif
