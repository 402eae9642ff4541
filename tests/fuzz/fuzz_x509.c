/*
 * libFuzzer target for the X.509 DER reader.
 *
 * The input is one certificate's DER, parsed from a heap copy of exactly
 * its size so that ASan reports any read past it. A parsed certificate
 * must have all its text fields, NUL-terminated within their length
 * bounds, and a 59-character fingerprint.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t bound)
{
    if (s == NULL || strlen(s) > bound)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    struct x509_cert c;
    int rc = x509_parse(copy, size, &c);
    if (rc == X509_OK) {
        /* names grow at most 4 bytes per input byte (\xNN), plus separators */
        check_text(c.subject, 8 * size);
        check_text(c.issuer, 8 * size);
        check_text(c.serial, 3 * size);
        if (strlen(c.fingerprint) != 59 || strlen(c.not_before) != 19 ||
            strlen(c.not_after) != 19 || c.n_san > X509_MAX_SAN || c.version < 1 ||
            c.version > 3)
            abort();
        for (unsigned i = 0; i < c.n_san; i++)
            check_text(c.san_dns[i], 4 * size);
    } else if (rc != X509_ERR_LENGTH && rc != X509_ERR_FORMAT && rc != X509_ERR_NOMEM) {
        abort();
    } else if (c.subject != NULL || c.serial != NULL || c.san_dns != NULL) {
        abort(); /* a failed parse leaves nothing behind */
    }
    (void)x509_status_name(rc);
    x509_cert_free(&c);
    free(copy);
    return 0;
}
