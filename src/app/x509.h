/*
 * A small X.509 (RFC 5280) certificate reader for the TLS parser: from the
 * DER of one certificate it takes what Suricata logs and matches on --
 * serial, issuer and subject names, validity, subjectAltName DNS names --
 * in Suricata's text forms, plus the SHA-1 fingerprint of the whole DER.
 *
 * Every length is checked against its container, the whole TLV tree is
 * walked to a bounded depth before anything is read, and nothing is kept
 * that points into the input.
 */
#ifndef CARACAL_APP_X509_H
#define CARACAL_APP_X509_H

#include <stddef.h>
#include <stdint.h>

#define X509_MAX_DEPTH 16   /* nesting of constructed DER values */
#define X509_MAX_SAN 64     /* subjectAltName DNS names kept */
#define X509_TIME_LEN 20    /* "2024-01-01T00:00:00" and its NUL */
#define X509_FP_LEN 60      /* "aa:bb:...": 20 bytes, and its NUL */

enum x509_status {
    X509_OK = 0,
    X509_ERR_LENGTH,  /* a length runs past its container, or nesting too deep */
    X509_ERR_FORMAT,  /* well framed, but not the DER of a certificate */
    X509_ERR_NOMEM,
};

struct x509_cert {
    unsigned version;             /* 1..3 */
    char *serial;                 /* "00:A3:5F": uppercase hex bytes of the INTEGER */
    char *issuer;                 /* "C=US, O=Let's Encrypt, CN=R3" */
    char *subject;
    char not_before[X509_TIME_LEN]; /* UTC, "2024-01-01T00:00:00" */
    char not_after[X509_TIME_LEN];
    int64_t not_before_ts;        /* the same, seconds since the epoch */
    int64_t not_after_ts;
    char fingerprint[X509_FP_LEN]; /* SHA-1 of the DER, lowercase, ':' between bytes */
    char **san_dns;               /* subjectAltName dNSName entries, at most X509_MAX_SAN */
    unsigned n_san;
};

/*
 * Parses the DER certificate der[0..len). On X509_OK the strings of c are
 * allocated (x509_cert_free releases them); on an error c is left empty.
 * Names: RDNs in order, ", " between them, " + " inside a multi-valued RDN,
 * attribute types as x509-parser (Suricata) abbreviates them (C ST L O OU
 * CN DC Email, serialNumber, ...), unknown ones as "OID(1.2.3)"; string
 * values as UTF-8 (BMPString and UniversalString converted, bytes that are
 * not UTF-8 written as \xNN), other values as uppercase hex.
 */
int x509_parse(const uint8_t *der, size_t len, struct x509_cert *c);
void x509_cert_free(struct x509_cert *c);

/* "length", "format", ... for logs and tests. */
const char *x509_status_name(int status);

#endif
