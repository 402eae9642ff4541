/*
 * DNS (RFC 1035 and friends): messages over UDP, and over TCP with the
 * two-byte length prefix. Names are decompressed with protection against
 * pointer loops, forward pointers and names over 255 bytes.
 */
#ifndef CARACAL_APP_DNS_H
#define CARACAL_APP_DNS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/app.h"

/* Event codes; names as Suricata's DNS parser calls them (dns_event_name). */
enum dns_event {
    DNS_EV_MALFORMED_DATA,      /* "malformed_data" */
    DNS_EV_NOT_A_REQUEST,       /* "not_a_request": a response to the server port */
    DNS_EV_NOT_A_RESPONSE,      /* "not_a_response" */
    DNS_EV_Z_FLAG_SET,          /* "z_flag_set" */
    DNS_EV_INVALID_OPCODE,      /* "invalid_opcode" */
    DNS_EV_NAME_TOO_LONG,       /* "name_too_long" */
    DNS_EV_INFINITE_LOOP,       /* "infinite_loop": a compression pointer loop */
    DNS_EV_TOO_MANY_LABELS,     /* "too_many_labels" */
    DNS_EV_COUNT
};
const char *dns_event_name(int code);

struct dns_msg; /* one parsed message, opaque */

/*
 * Parses one message. Returns NULL when the bytes are not DNS at all
 * (shorter than a header, or counts that cannot fit); otherwise a message,
 * possibly partial (what could be read before an error), with events in ev.
 */
struct dns_msg *dns_parse(const uint8_t *buf, uint32_t len, struct app_events *ev);
void dns_msg_free(struct dns_msg *m);

bool dns_msg_is_response(const struct dns_msg *m);
uint16_t dns_msg_id(const struct dns_msg *m);
unsigned dns_msg_opcode(const struct dns_msg *m);
unsigned dns_msg_rcode(const struct dns_msg *m);
/* Whether any question (or, in a response, any answer) has this rrtype. */
bool dns_msg_has_rrtype(const struct dns_msg *m, uint16_t rrtype);

/*
 * Sticky buffers: BUF_DNS_QUERY (the name of question idx) and
 * BUF_DNS_ANSWER_NAME (the owner name of answer record idx), as dotted
 * text without the final dot. false when there is no instance idx.
 */
bool dns_msg_buffer(const struct dns_msg *m, int buf, unsigned idx, const uint8_t **data,
                    uint32_t *len);

/*
 * The "dns" object of an EVE dns event, in Suricata's version 3 format:
 * {"version":3,"type":"request"|"response","id":..,"flags":"8180","qr":..,
 *  "rd":..,"ra":..,"aa":..,"tc":..,"opcode":..,"rcode":"NOERROR",
 *  "queries":[{"rrname":..,"rrtype":"A"}],
 *  "answers":[{"rrname":..,"rrtype":..,"ttl":..,"rdata":..}|{"soa":{..}}|{"srv":{..}}],
 *  "authorities":[..]} -- the fields of ../shared/reference/eve-schema.json.
 */
json_t *dns_msg_eve(const struct dns_msg *m);

/* Reassembles DNS over TCP: the two-byte length prefix, across calls. */
struct dns_tcp_buf {
    uint8_t *data;
    uint32_t len, cap;
};
/* Feeds stream bytes; calls cb for each complete message. Messages over
 * 65535 bytes cannot exist; a zero length raises malformed_data. Returns
 * the number of messages delivered. */
unsigned dns_tcp_feed(struct dns_tcp_buf *b, const uint8_t *d, uint32_t n,
                      void (*cb)(void *ctx, const uint8_t *msg, uint32_t len), void *ctx,
                      struct app_events *ev);
void dns_tcp_buf_free(struct dns_tcp_buf *b);

/* Protocol detection: true when d looks like the start of a DNS message
 * (over TCP: after the length prefix). */
bool dns_probe(const uint8_t *d, uint32_t n, bool tcp);

/* rrtype and rcode names as Suricata writes them ("A", "AAAA", "NXDOMAIN"). */
const char *dns_rrtype_name(uint16_t type, char *buf, unsigned buflen);
const char *dns_rcode_name(unsigned rcode, char *buf, unsigned buflen);

#endif
