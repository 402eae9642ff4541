/*
 * What the app-layer protocol modules (http.c, tls.c, dns.c) share with
 * the app-layer stage (applayer.c) that drives them.
 *
 * A module parses one protocol from bytes in order -- a TCP direction's
 * reassembled stream, or one UDP datagram -- and exposes:
 *   - events it raised (malformed input), as module-specific codes with
 *     Suricata's names ("<proto>.<name>" for app-layer-event rules);
 *   - for detection, its sticky buffers by the detect engine's buffer id
 *     (BUF_* from detect/buffers.def), several instances where a buffer
 *     repeats (dns.query per question, tls.certs per certificate);
 *   - for EVE, the protocol's object in Suricata's schema.
 * Modules never log or allocate without bound: every length taken from
 * the input is checked, and every list has a cap.
 */
#ifndef CARACAL_APP_APP_H
#define CARACAL_APP_APP_H

#include <stdbool.h>
#include <stdint.h>

/* App-layer protocols (rules bind to them; flows are identified as one).
 * APP_OTHER: a flow whose protocol is none of these. */
enum app_proto { APP_NONE, APP_HTTP, APP_TLS, APP_DNS, APP_OTHER };

/* Events raised while parsing one message, transaction or record. */
#define APP_MAX_EVENTS 8
struct app_events {
    uint8_t n;
    uint16_t code[APP_MAX_EVENTS]; /* module-specific codes */
};

static inline void app_event_add(struct app_events *ev, uint16_t code)
{
    for (unsigned i = 0; i < ev->n; i++)
        if (ev->code[i] == code)
            return;
    if (ev->n < APP_MAX_EVENTS)
        ev->code[ev->n++] = code;
}

/* Directions, as the flow stage numbers them. */
#define APP_TOSERVER 0
#define APP_TOCLIENT 1

#endif
