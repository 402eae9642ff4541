/*
 * The app-layer stage: protocol detection on each flow (port hints and
 * content probes, both directions), the parsers of http.c, tls.c and
 * dns.c fed with reassembled TCP stream bytes or UDP payloads, and the
 * transactions they produce handed to detection and to EVE.
 *
 * One engine per worker; the per-flow state hangs off struct flow.
 */
#ifndef CARACAL_APP_APPLAYER_H
#define CARACAL_APP_APPLAYER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "app/app.h"
#include "app/http.h"
#include "decode/decode.h"
#include "flow/flow.h"

struct stats;

/* Protocol ids: the detect engine's enum app_proto (APP_HTTP, APP_TLS, APP_DNS). */
const char *app_proto_name(int proto);     /* "http", "tls", "dns"; NULL for none */

struct app_config {
    bool http, tls, dns;                   /* parsers switched on */
    struct http_config http_cfg;
};
void app_config_init(struct app_config *cfg);

/* One transaction as detection and output see it. */
struct app_tx {
    uint8_t proto;                /* APP_HTTP, APP_TLS, APP_DNS */
    uint64_t id;                  /* per flow, from 0 */
    const void *obj;              /* struct http_tx *, struct tls_state *, struct dns_msg * */
    const void *state;            /* struct http_state * for HTTP */
    const struct app_events *events;
};

/* Sticky buffer instance idx of tx for detection in direction dir. */
bool app_tx_buffer(const struct app_tx *tx, int buf, unsigned idx, int dir, const uint8_t **d,
                   uint32_t *len);
/* The protocol's EVE object of tx ("http", "tls" or "dns"); new reference. */
json_t *app_tx_eve(const struct app_tx *tx);
/* Whether tx (or the flow's app layer) raised the event named "proto.name". */
bool app_tx_has_event(const struct flow *f, const struct app_tx *tx, const char *name);
/* tls.version / ssl_version / ssl_state / dns.* keyword values. */
uint16_t app_tx_tls_version(const struct app_tx *tx);
unsigned app_tx_tls_progress(const struct app_tx *tx);
bool app_tx_dns(const struct app_tx *tx, unsigned *opcode, unsigned *rcode);
bool app_tx_dns_has_rrtype(const struct app_tx *tx, uint16_t rrtype);

/* What one call produced: transactions to inspect (in dir) and to log. */
#define APP_MAX_ITEMS 32
struct app_item {
    struct app_tx tx;
    uint8_t dir;                  /* the side that completed: inspect in this direction */
    bool inspect, log;
};
struct app_result {
    unsigned n;
    struct app_item items[APP_MAX_ITEMS];
    /* Events raised now (module codes of proto, or flow-level ones). */
    uint8_t proto;
    struct app_events events;     /* codes of the protocol module */
    struct app_events flow_events;/* APP_EV_* below */
};

/* Flow-level events (app_flow_event_name: "applayer.<name>"). */
enum app_flow_event {
    APP_EV_MISMATCH_PROTOCOL_BOTH_DIRECTIONS, /* "mismatch_protocol_both_directions" */
    APP_EV_DETECT_PROTOCOL_ONLY_ONE_DIRECTION,/* "detect_protocol_only_one_direction" */
    APP_EV_WRONG_DIRECTION_FIRST_DATA,        /* "wrong_direction_first_data" */
    APP_EV_COUNT
};
const char *app_flow_event_name(int code);
/* The name of a module event code of proto, e.g. "request_field_too_long". */
const char *app_event_name(int proto, int code);

struct app_engine;
struct app_engine *app_engine_new(const struct app_config *cfg, struct stats *stats);
void app_engine_free(struct app_engine *ae);

/* New in-order stream bytes of a TCP flow in direction dir. */
void app_tcp_data(struct app_engine *ae, struct flow *f, int dir, const uint8_t *d, uint32_t n,
                  const struct timeval *ts, struct app_result *res);
/* The stream of dir lost bytes: its parser cannot follow any more. */
void app_tcp_gap(struct app_engine *ae, struct flow *f, int dir);
/* A UDP datagram of flow f. */
void app_udp_packet(struct app_engine *ae, struct flow *f, int dir, const struct packet *p,
                    struct app_result *res);
/* The caller has inspected and logged res: transactions no longer needed are freed. */
void app_result_done(struct app_engine *ae, struct flow *f, struct app_result *res);
/* The flow ends: what was never logged is handed out (log only), then all is freed. */
void app_flow_end(struct app_engine *ae, struct flow *f, struct app_result *res);
void app_flow_free(struct app_engine *ae, struct flow *f);

#endif
