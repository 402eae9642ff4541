/*
 * X.509 certificates from DER (RFC 5280, X.690).
 *
 *   Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
 *   TBSCertificate ::= SEQUENCE {
 *       [0] EXPLICIT version OPTIONAL, serialNumber INTEGER,
 *       signature AlgorithmIdentifier, issuer Name,
 *       validity SEQUENCE { notBefore Time, notAfter Time },
 *       subject Name, subjectPublicKeyInfo SEQUENCE,
 *       [1] issuerUniqueID OPTIONAL, [2] subjectUniqueID OPTIONAL,
 *       [3] EXPLICIT SEQUENCE OF Extension OPTIONAL }
 *   Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }
 *
 * Two passes: der_walk() checks that every TLV of the certificate, down
 * through every constructed value, fits its container (bounded depth);
 * then the fields above are read. Strings are built in a growing buffer
 * whose size is bounded by a small multiple of the input.
 */
#include "app/x509.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "util/digest.h"

/* Identifier octets used here (class | constructed | number). */
#define DER_BOOLEAN 0x01
#define DER_INTEGER 0x02
#define DER_BIT_STRING 0x03
#define DER_OCTET_STRING 0x04
#define DER_OID 0x06
#define DER_UTF8_STRING 0x0c
#define DER_UNIVERSAL_STRING 0x1c
#define DER_BMP_STRING 0x1e
#define DER_UTC_TIME 0x17
#define DER_GENERALIZED_TIME 0x18
#define DER_SEQUENCE 0x30
#define DER_SET 0x31
#define DER_CONSTRUCTED 0x20
#define DER_CTX0 0xa0        /* [0] EXPLICIT version */
#define DER_CTX3 0xa3        /* [3] EXPLICIT extensions */
#define DER_CTX_DNS_NAME 0x82 /* GeneralName dNSName [2] IMPLICIT IA5String */

/* subjectAltName, 2.5.29.17 */
static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };

/* ===========================================================================
 * Growing strings
 * ========================================================================= */

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_put(struct sbuf *sb, const char *s, size_t n)
{
    if (sb->oom)
        return;
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 64;
        while (cap < sb->len + n + 1)
            cap *= 2;
        char *p = realloc(sb->p, cap);
        if (p == NULL) {
            sb->oom = true;
            return;
        }
        sb->p = p;
        sb->cap = cap;
    }
    memcpy(sb->p + sb->len, s, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}

static void sb_puts(struct sbuf *sb, const char *s)
{
    sb_put(sb, s, strlen(s));
}

static void sb_hex(struct sbuf *sb, uint8_t b, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char h[2] = { digits[b >> 4], digits[b & 0x0f] };
    sb_put(sb, h, 2);
}

/* Hands the string over (an empty one when nothing was put); NULL when out of memory. */
static char *sb_take(struct sbuf *sb)
{
    if (!sb->oom && sb->p == NULL)
        sb_put(sb, "", 0);
    if (sb->oom) {
        free(sb->p);
        sb->p = NULL;
    }
    char *p = sb->p;
    memset(sb, 0, sizeof *sb);
    return p;
}

/* Appends code point cp as UTF-8. */
static void sb_utf8(struct sbuf *sb, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    sb_put(sb, u, n);
}

static void sb_escape(struct sbuf *sb, uint8_t b)
{
    sb_put(sb, "\\x", 2);
    sb_hex(sb, b, false);
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 when invalid. */
static size_t utf8_seq_len(const uint8_t *p, size_t n)
{
    uint8_t b = p[0];
    size_t len;
    uint32_t min;
    uint32_t cp;
    if (b < 0x80)
        return 1;
    if ((b & 0xe0) == 0xc0) {
        len = 2;
        min = 0x80;
        cp = b & 0x1f;
    } else if ((b & 0xf0) == 0xe0) {
        len = 3;
        min = 0x800;
        cp = b & 0x0f;
    } else if ((b & 0xf8) == 0xf0) {
        len = 4;
        min = 0x10000;
        cp = b & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Appends bytes that should be UTF-8: valid sequences as they are, NUL and
 * stray bytes as \xNN, so the result is a C string and valid UTF-8. */
static void sb_put_utf8(struct sbuf *sb, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = p[i] == 0 ? 0 : utf8_seq_len(p + i, n - i);
        if (k == 0) {
            sb_escape(sb, p[i]);
            i++;
        } else {
            sb_put(sb, (const char *)p + i, k);
            i += k;
        }
    }
}

/* ===========================================================================
 * DER framing
 * ========================================================================= */

struct der {
    uint8_t id;         /* identifier octet; 0x1f in its low bits for a high tag number */
    struct cursor val;  /* the contents */
};

/* Reads one TLV; X509_ERR_LENGTH when it does not fit in c. */
static int der_read(struct cursor *c, struct der *t)
{
    t->id = cursor_u8(c);
    if ((t->id & 0x1f) == 0x1f) {
        /* High tag number: base-128 bytes; more than 4 is not a certificate. */
        unsigned n = 0;
        uint8_t b;
        do {
            b = cursor_u8(c);
        } while ((b & 0x80) && ++n < 4);
        if (b & 0x80)
            return X509_ERR_FORMAT;
    }
    uint8_t l = cursor_u8(c);
    size_t len = l;
    if (l == 0x80)
        return c->failed ? X509_ERR_LENGTH : X509_ERR_FORMAT; /* indefinite: BER only */
    if (l > 0x80) {
        unsigned n = l & 0x7f;
        if (n > 4)
            return X509_ERR_LENGTH;
        len = 0;
        for (unsigned i = 0; i < n; i++)
            len = len << 8 | cursor_u8(c);
    }
    if (c->failed)
        return X509_ERR_LENGTH;
    t->val = cursor_sub(c, len);
    return c->failed ? X509_ERR_LENGTH : X509_OK;
}

/* Reads one TLV that must carry identifier id. */
static int der_expect(struct cursor *c, uint8_t id, struct der *t)
{
    int rc = der_read(c, t);
    if (rc == X509_OK && t->id != id)
        rc = X509_ERR_FORMAT;
    return rc;
}

/* Reads the next TLV only when it carries identifier id; false otherwise. */
static bool der_optional(struct cursor *c, uint8_t id, struct der *t)
{
    struct cursor peek = *c;
    if (cursor_remaining(&peek) == 0 || der_read(&peek, t) != X509_OK || t->id != id)
        return false;
    *c = peek;
    return true;
}

/* Checks that every TLV in c, and in each constructed value, fits. */
static int der_walk(struct cursor c, unsigned depth)
{
    if (depth > X509_MAX_DEPTH)
        return X509_ERR_LENGTH;
    while (cursor_remaining(&c) > 0) {
        struct der t;
        int rc = der_read(&c, &t);
        if (rc == X509_OK && (t.id & DER_CONSTRUCTED))
            rc = der_walk(t.val, depth + 1);
        if (rc != X509_OK)
            return rc;
    }
    return X509_OK;
}

/* ===========================================================================
 * Names
 * ========================================================================= */

/* Attribute types by dotted OID: x509-parser's abbreviations first, then
 * the short names of its OID registry, as Suricata prints them. */
static const struct {
    const char *oid;
    const char *name;
} attr_names[] = {
    { "2.5.4.3", "CN" },
    { "2.5.4.6", "C" },
    { "2.5.4.7", "L" },
    { "2.5.4.8", "ST" },
    { "2.5.4.10", "O" },
    { "2.5.4.11", "OU" },
    { "0.9.2342.19200300.100.1.25", "DC" },
    { "1.2.840.113549.1.9.1", "Email" },
    { "2.5.4.0", "objectClass" },
    { "2.5.4.1", "aliasedEntryName" },
    { "2.5.4.2", "knowledgeInformation" },
    { "2.5.4.4", "surname" },
    { "2.5.4.5", "serialNumber" },
    { "2.5.4.9", "streetAddress" },
    { "2.5.4.12", "title" },
    { "2.5.4.13", "description" },
    { "2.5.4.14", "searchGuide" },
    { "2.5.4.15", "businessCategory" },
    { "2.5.4.16", "postalAddress" },
    { "2.5.4.17", "postalCode" },
    { "2.5.4.41", "name" },
    { "2.5.4.42", "givenName" },
    { "2.5.4.43", "initials" },
    { "2.5.4.44", "generationQualifier" },
    { "2.5.4.45", "uniqueIdentifier" },
    { "2.5.4.46", "dnQualifier" },
    { "1.2.840.113549.1.9.2", "unstructuredName" },
    { "1.3.6.1.4.1.311.60.2.1.1", "msJurisdictionLocality" },
    { "1.3.6.1.4.1.311.60.2.1.2", "msJurisdictionStateOrProvince" },
    { "1.3.6.1.4.1.311.60.2.1.3", "msJurisdictionCountry" },
};

/* Writes the OID contents in dotted form. */
static int oid_dotted(struct cursor oid, struct sbuf *sb)
{
    bool first = true;
    if (cursor_remaining(&oid) == 0)
        return X509_ERR_FORMAT;
    while (cursor_remaining(&oid) > 0) {
        uint64_t v = 0;
        unsigned n = 0;
        uint8_t b;
        do {
            if (++n > 9)
                return X509_ERR_FORMAT; /* an arc beyond 63 bits */
            b = cursor_u8(&oid);
            v = v << 7 | (b & 0x7f);
        } while ((b & 0x80) && cursor_remaining(&oid) > 0);
        if (b & 0x80)
            return X509_ERR_FORMAT;
        char num[48];
        if (first) {
            uint64_t top = v < 80 ? v / 40 : 2;
            snprintf(num, sizeof num, "%llu.%llu", (unsigned long long)top,
                     (unsigned long long)(v - top * 40));
            first = false;
        } else {
            snprintf(num, sizeof num, ".%llu", (unsigned long long)v);
        }
        sb_puts(sb, num);
    }
    return X509_OK;
}

static int attr_type(struct cursor oid, struct sbuf *sb)
{
    struct sbuf dotted = { 0 };
    int rc = oid_dotted(oid, &dotted);
    char *d = sb_take(&dotted);
    if (rc == X509_OK && d == NULL)
        rc = X509_ERR_NOMEM;
    if (rc == X509_OK) {
        const char *name = NULL;
        for (size_t i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++)
            if (strcmp(attr_names[i].oid, d) == 0)
                name = attr_names[i].name;
        if (name != NULL) {
            sb_puts(sb, name);
        } else {
            sb_puts(sb, "OID(");
            sb_puts(sb, d);
            sb_puts(sb, ")");
        }
    }
    free(d);
    return rc;
}

/* A UCS-2/UTF-16 (unit 2) or UCS-4 (unit 4) big-endian string as UTF-8. */
static void attr_wide_string(struct cursor v, size_t unit, struct sbuf *sb)
{
    while (cursor_remaining(&v) >= unit) {
        const uint8_t *at = cursor_ptr(&v);
        uint32_t cp = unit == 2 ? cursor_u16be(&v) : cursor_u32be(&v);
        size_t bad = 0;
        if (unit == 2 && cp >= 0xd800 && cp <= 0xdbff && cursor_remaining(&v) >= 2) {
            struct cursor peek = v;
            uint32_t lo = cursor_u16be(&peek);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                v = peek;
            }
        }
        if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            bad = unit;
        if (bad)
            for (size_t i = 0; i < bad; i++)
                sb_escape(sb, at[i]);
        else
            sb_utf8(sb, cp);
    }
    while (cursor_remaining(&v) > 0)
        sb_escape(sb, cursor_u8(&v));
}

static void attr_value(const struct der *v, struct sbuf *sb)
{
    struct cursor c = v->val;
    switch (v->id) {
    case 0x07: /* ObjectDescriptor */
    case DER_UTF8_STRING:
    case 0x12: /* NumericString */
    case 0x13: /* PrintableString */
    case 0x14: /* T61String */
    case 0x15: /* VideotexString */
    case 0x16: /* IA5String */
    case 0x19: /* GraphicString */
    case 0x1a: /* VisibleString */
    case 0x1b: /* GeneralString */
        sb_put_utf8(sb, cursor_ptr(&c), cursor_remaining(&c));
        break;
    case DER_BMP_STRING:
        attr_wide_string(c, 2, sb);
        break;
    case DER_UNIVERSAL_STRING:
        attr_wide_string(c, 4, sb);
        break;
    default:
        while (cursor_remaining(&c) > 0)
            sb_hex(sb, cursor_u8(&c), true);
        break;
    }
}

/* Formats a Name: "C=US, O=Example, CN=example.com". */
static int name_format(struct cursor name, char **out)
{
    struct sbuf sb = { 0 };
    bool first_rdn = true;
    int rc = X509_OK;
    while (rc == X509_OK && cursor_remaining(&name) > 0) {
        struct der set;
        rc = der_expect(&name, DER_SET, &set);
        bool first_atv = true;
        while (rc == X509_OK && cursor_remaining(&set.val) > 0) {
            struct der atv, type, value;
            rc = der_expect(&set.val, DER_SEQUENCE, &atv);
            if (rc == X509_OK)
                rc = der_expect(&atv.val, DER_OID, &type);
            if (rc == X509_OK)
                rc = der_read(&atv.val, &value);
            if (rc != X509_OK)
                break;
            if (!first_atv)
                sb_puts(&sb, " + ");
            else if (!first_rdn)
                sb_puts(&sb, ", ");
            first_atv = false;
            first_rdn = false;
            rc = attr_type(type.val, &sb);
            sb_puts(&sb, "=");
            attr_value(&value, &sb);
        }
    }
    *out = sb_take(&sb);
    if (rc == X509_OK && *out == NULL)
        rc = X509_ERR_NOMEM;
    return rc;
}

/* ===========================================================================
 * Validity
 * ========================================================================= */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Reads n decimal digits; -1 when they are not all digits. */
static int digits(struct cursor *c, unsigned n)
{
    int v = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!cursor_has(c, 1))
            return -1;
        uint8_t ch = cursor_u8(c);
        if (ch < '0' || ch > '9')
            return -1;
        v = v * 10 + (ch - '0');
    }
    return v;
}

static bool next_is_digit(const struct cursor *c)
{
    return cursor_has(c, 1) && cursor_ptr(c)[0] >= '0' && cursor_ptr(c)[0] <= '9';
}

/* UTCTime (YYMMDDhhmm[ss]Z, or an offset) or GeneralizedTime
 * (YYYYMMDDhh[mm[ss[.f]]][Z or offset]) to seconds since the epoch. */
static int time_parse(const struct der *t, int64_t *ts)
{
    struct cursor c = t->val;
    int year;
    if (t->id == DER_UTC_TIME) {
        year = digits(&c, 2);
        if (year >= 0)
            year += year >= 50 ? 1900 : 2000;
    } else if (t->id == DER_GENERALIZED_TIME) {
        year = digits(&c, 4);
    } else {
        return X509_ERR_FORMAT;
    }
    int mon = digits(&c, 2), day = digits(&c, 2), hour = digits(&c, 2);
    int min = 0, sec = 0;
    if (t->id == DER_UTC_TIME || next_is_digit(&c))
        min = digits(&c, 2);
    if (next_is_digit(&c))
        sec = digits(&c, 2);
    if (t->id == DER_GENERALIZED_TIME && cursor_has(&c, 1) &&
        (cursor_ptr(&c)[0] == '.' || cursor_ptr(&c)[0] == ',')) {
        cursor_skip(&c, 1);
        if (!next_is_digit(&c))
            return X509_ERR_FORMAT;
        while (next_is_digit(&c))
            cursor_skip(&c, 1);
    }
    if (year < 0 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
        min < 0 || min > 59 || sec < 0 || sec > 60)
        return X509_ERR_FORMAT;
    int64_t offset = 0;
    if (cursor_has(&c, 1)) {
        uint8_t z = cursor_u8(&c);
        if (z == '+' || z == '-') {
            int oh = digits(&c, 2), om = digits(&c, 2);
            if (oh < 0 || oh > 23 || om < 0 || om > 59)
                return X509_ERR_FORMAT;
            offset = (z == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
        } else if (z != 'Z') {
            return X509_ERR_FORMAT;
        }
    } else if (t->id == DER_UTC_TIME) {
        return X509_ERR_FORMAT;
    }
    if (cursor_remaining(&c) != 0)
        return X509_ERR_FORMAT;
    *ts = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hour * 3600 +
          min * 60 + sec - offset;
    return X509_OK;
}

static void put_digits(char *out, unsigned v, unsigned n)
{
    for (unsigned i = n; i-- > 0; v /= 10)
        out[i] = (char)('0' + v % 10);
}

/* "YYYY-MM-DDThh:mm:ss"; false when the year is not 0..9999. */
static bool time_format(int64_t ts, char out[X509_TIME_LEN])
{
    int64_t days = ts >= 0 ? ts / 86400 : -((-ts + 86399) / 86400);
    unsigned rem = (unsigned)(ts - days * 86400);
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return false;
    memcpy(out, "0000-00-00T00:00:00", X509_TIME_LEN);
    put_digits(out, (unsigned)y, 4);
    put_digits(out + 5, m, 2);
    put_digits(out + 8, d, 2);
    put_digits(out + 11, rem / 3600, 2);
    put_digits(out + 14, rem % 3600 / 60, 2);
    put_digits(out + 17, rem % 60, 2);
    return true;
}

static int validity_parse(struct cursor v, struct x509_cert *c)
{
    struct der nb, na;
    int rc = der_read(&v, &nb);
    if (rc == X509_OK)
        rc = der_read(&v, &na);
    if (rc == X509_OK)
        rc = time_parse(&nb, &c->not_before_ts);
    if (rc == X509_OK)
        rc = time_parse(&na, &c->not_after_ts);
    if (rc != X509_OK)
        return rc;
    if (!time_format(c->not_before_ts, c->not_before) ||
        !time_format(c->not_after_ts, c->not_after))
        return X509_ERR_FORMAT;
    return X509_OK;
}

/* ===========================================================================
 * Extensions
 * ========================================================================= */

static int san_parse(struct cursor ext_value, struct x509_cert *c)
{
    struct der names;
    int rc = der_expect(&ext_value, DER_SEQUENCE, &names);
    while (rc == X509_OK && cursor_remaining(&names.val) > 0) {
        struct der gn;
        rc = der_read(&names.val, &gn);
        if (rc != X509_OK || gn.id != DER_CTX_DNS_NAME || c->n_san >= X509_MAX_SAN)
            continue;
        if (c->san_dns == NULL) {
            c->san_dns = calloc(X509_MAX_SAN, sizeof *c->san_dns);
            if (c->san_dns == NULL)
                return X509_ERR_NOMEM;
        }
        struct sbuf sb = { 0 };
        sb_put_utf8(&sb, cursor_ptr(&gn.val), cursor_remaining(&gn.val));
        c->san_dns[c->n_san] = sb_take(&sb);
        if (c->san_dns[c->n_san] == NULL)
            return X509_ERR_NOMEM;
        c->n_san++;
    }
    return rc;
}

static int extensions_parse(struct cursor exts, struct x509_cert *c)
{
    struct der list;
    int rc = der_expect(&exts, DER_SEQUENCE, &list);
    while (rc == X509_OK && cursor_remaining(&list.val) > 0) {
        struct der ext, oid, crit, value;
        rc = der_expect(&list.val, DER_SEQUENCE, &ext);
        if (rc == X509_OK)
            rc = der_expect(&ext.val, DER_OID, &oid);
        if (rc != X509_OK)
            break;
        der_optional(&ext.val, DER_BOOLEAN, &crit);
        rc = der_expect(&ext.val, DER_OCTET_STRING, &value);
        if (rc == X509_OK && cursor_remaining(&oid.val) == sizeof oid_san &&
            memcmp(cursor_ptr(&oid.val), oid_san, sizeof oid_san) == 0)
            rc = san_parse(value.val, c);
    }
    return rc;
}

/* ===========================================================================
 * Certificate
 * ========================================================================= */

static int serial_format(struct cursor v, char **out)
{
    struct sbuf sb = { 0 };
    for (bool first = true; cursor_remaining(&v) > 0; first = false) {
        if (!first)
            sb_puts(&sb, ":");
        sb_hex(&sb, cursor_u8(&v), true);
    }
    *out = sb_take(&sb);
    return *out == NULL ? X509_ERR_NOMEM : X509_OK;
}

static int tbs_parse(struct cursor tbs, struct x509_cert *c)
{
    struct der ver, serial, sigalg, issuer, validity, subject, spki, exts;
    c->version = 1;
    if (der_optional(&tbs, DER_CTX0, &ver)) {
        struct der v;
        int rc = der_expect(&ver.val, DER_INTEGER, &v);
        if (rc != X509_OK)
            return rc;
        if (cursor_remaining(&v.val) != 1 || cursor_ptr(&v.val)[0] > 2)
            return X509_ERR_FORMAT;
        c->version = cursor_ptr(&v.val)[0] + 1u;
    }
    int rc = der_expect(&tbs, DER_INTEGER, &serial);
    if (rc == X509_OK && cursor_remaining(&serial.val) == 0)
        rc = X509_ERR_FORMAT;
    if (rc == X509_OK)
        rc = der_expect(&tbs, DER_SEQUENCE, &sigalg);
    if (rc == X509_OK)
        rc = der_expect(&tbs, DER_SEQUENCE, &issuer);
    if (rc == X509_OK)
        rc = der_expect(&tbs, DER_SEQUENCE, &validity);
    if (rc == X509_OK)
        rc = der_expect(&tbs, DER_SEQUENCE, &subject);
    if (rc == X509_OK)
        rc = der_expect(&tbs, DER_SEQUENCE, &spki);
    if (rc == X509_OK)
        rc = serial_format(serial.val, &c->serial);
    if (rc == X509_OK)
        rc = name_format(issuer.val, &c->issuer);
    if (rc == X509_OK)
        rc = name_format(subject.val, &c->subject);
    if (rc == X509_OK)
        rc = validity_parse(validity.val, c);
    if (rc != X509_OK)
        return rc;
    /* issuerUniqueID, subjectUniqueID: primitive or constructed [1], [2] */
    struct der skip;
    if (!der_optional(&tbs, 0x81, &skip))
        der_optional(&tbs, 0xa1, &skip);
    if (!der_optional(&tbs, 0x82, &skip))
        der_optional(&tbs, 0xa2, &skip);
    if (der_optional(&tbs, DER_CTX3, &exts))
        rc = extensions_parse(exts.val, c);
    return rc;
}

int x509_parse(const uint8_t *der, size_t len, struct x509_cert *c)
{
    memset(c, 0, sizeof *c);
    struct cursor in = cursor_make(der, len);
    struct der cert, tbs, sigalg, sig;
    int rc = der_expect(&in, DER_SEQUENCE, &cert);
    if (rc == X509_OK)
        rc = der_walk(cert.val, 1);
    if (rc == X509_OK)
        rc = der_expect(&cert.val, DER_SEQUENCE, &tbs);
    if (rc == X509_OK)
        rc = der_expect(&cert.val, DER_SEQUENCE, &sigalg);
    if (rc == X509_OK)
        rc = der_expect(&cert.val, DER_BIT_STRING, &sig);
    if (rc == X509_OK)
        rc = tbs_parse(tbs.val, c);
    if (rc != X509_OK) {
        x509_cert_free(c);
        return rc;
    }
    uint8_t fp[SHA1_LEN];
    sha1(der, len, fp);
    digest_hex(fp, sizeof fp, ':', c->fingerprint);
    return X509_OK;
}

void x509_cert_free(struct x509_cert *c)
{
    free(c->serial);
    free(c->issuer);
    free(c->subject);
    for (unsigned i = 0; i < c->n_san; i++)
        free(c->san_dns[i]);
    free(c->san_dns);
    memset(c, 0, sizeof *c);
}

const char *x509_status_name(int status)
{
    switch (status) {
    case X509_OK:
        return "ok";
    case X509_ERR_LENGTH:
        return "length";
    case X509_ERR_FORMAT:
        return "format";
    case X509_ERR_NOMEM:
        return "nomem";
    default:
        return "unknown";
    }
}
