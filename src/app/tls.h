/*
 * TLS and SSLv3 handshakes, in the clear part of a session: records
 * reassembled across segments, ClientHello (SNI, versions, ciphers,
 * extensions, groups: JA3 and JA4), ServerHello (JA3S, the negotiated
 * version), Certificate (parsed from DER by x509.c: subject, issuer,
 * serial, validity, SHA-1 fingerprint of the leaf). After ChangeCipherSpec
 * (or a TLS 1.3 ServerHello) the rest is encrypted and skipped.
 */
#ifndef CARACAL_APP_TLS_H
#define CARACAL_APP_TLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/app.h"

/* Event codes; names as Suricata's TLS parser calls them (tls_event_name). */
enum tls_event {
    TLS_EV_INVALID_RECORD_TYPE,       /* "invalid_record_type" */
    TLS_EV_INVALID_RECORD_LENGTH,     /* "invalid_record_length" */
    TLS_EV_INVALID_RECORD_VERSION,    /* "invalid_record_version" */
    TLS_EV_INVALID_HANDSHAKE_MESSAGE, /* "invalid_handshake_message" */
    TLS_EV_INVALID_CERTIFICATE,       /* "invalid_certificate" */
    TLS_EV_CERTIFICATE_INVALID_LENGTH,/* "certificate_invalid_length" */
    TLS_EV_INVALID_SNI_TYPE,          /* "invalid_sni_type" */
    TLS_EV_INVALID_SNI_LENGTH,        /* "invalid_sni_length" */
    TLS_EV_TOO_MANY_RECORDS_IN_PACKET,/* "too_many_records_in_packet" */
    TLS_EV_INVALID_SSL_RECORD,        /* "invalid_ssl_record" */
    TLS_EV_COUNT
};
const char *tls_event_name(int code);

/* How far the handshake got (tls_progress). */
#define TLS_SEEN_CLIENT_HELLO 0x01u
#define TLS_SEEN_SERVER_HELLO 0x02u
#define TLS_SEEN_CERTIFICATE  0x04u
#define TLS_HANDSHAKE_DONE    0x08u  /* encrypted from here (CCS both ways, or TLS 1.3) */

struct tls_state; /* one session, opaque */

struct tls_state *tls_state_new(void);
void tls_state_free(struct tls_state *s);

/*
 * Feeds stream bytes of one direction (APP_TOSERVER / APP_TOCLIENT), in
 * order; a record split over calls is held (bounded: a record is at most
 * 16 KB + 2 KB, a handshake message at most 64 KB; more is an event and
 * the direction is given up). Events go to ev.
 */
void tls_feed(struct tls_state *s, int dir, const uint8_t *d, uint32_t n,
              struct app_events *ev);
unsigned tls_progress(const struct tls_state *s);

/* The negotiated version (0x0303 for TLS 1.2, 0x0304 for 1.3, ...; the
 * supported_versions extension counts), else the ClientHello's; 0 none. */
uint16_t tls_version(const struct tls_state *s);

/*
 * Sticky buffers (BUF_* ids): BUF_TLS_SNI, BUF_TLS_CERT_SUBJECT,
 * BUF_TLS_CERT_ISSUER, BUF_TLS_CERT_SERIAL, BUF_TLS_CERT_FINGERPRINT
 * (Suricata's text forms, of the leaf), BUF_TLS_CERTS (DER of certificate
 * idx of the chain), BUF_JA3_HASH, BUF_JA3_STRING, BUF_JA3S_HASH,
 * BUF_JA3S_STRING, BUF_JA4_HASH. false when absent.
 */
bool tls_buffer(const struct tls_state *s, int buf, unsigned idx, const uint8_t **data,
                uint32_t *len);

/*
 * The "tls" object of an EVE tls event in Suricata's shape (fields of
 * ../shared/reference/eve-schema.json): subject, issuerdn, serial,
 * fingerprint, sni, version, notbefore,
 * notafter, ja3 {hash,string}, ja3s {hash,string}, ja4, version as Suricata writes it ("TLS 1.2", "TLS 1.3", "SSLv3");
 * for TLS 1.3 no
 * certificate fields (they are encrypted).
 */
json_t *tls_eve(const struct tls_state *s);

/* Protocol detection: a TLS/SSLv3 record header of a handshake. */
bool tls_probe(const uint8_t *d, uint32_t n);

#endif
