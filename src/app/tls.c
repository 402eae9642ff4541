/*
 * TLS and SSLv3 handshakes (RFC 5246, RFC 8446), in the clear part of a
 * session.
 *
 * Records (per direction, framed across tls_feed calls):
 *
 *    0        1        2        3        4
 *   +--------+--------+--------+--------+--------+------------------+
 *   |  type  | major  | minor  |     length      | fragment ...     |
 *   +--------+--------+--------+--------+--------+------------------+
 *
 * Only the 5-byte header is ever held; fragment bytes are passed on as
 * they arrive. Handshake fragments feed a per-direction message
 * reassembler (4-byte header: type, 24-bit length), which hands each
 * complete message to its parser straight from the input when it lies in
 * one piece, or from a buffer of exactly its length (at most 64 KB) when it
 * spans records or calls. An SSLv2-compatible ClientHello (2-byte header,
 * high bit set) is recognised before the first TLS record and skipped.
 *
 * Once a direction has sent ChangeCipherSpec, or the server has chosen TLS
 * 1.3, its content is encrypted: records are still framed (to stay in
 * sync and to flag garbage) but nothing inside them is looked at.
 */
#include "app/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/x509.h"
#include "detect/detect_int.h"
#include "util/cursor.h"
#include "util/digest.h"

#define TLS_RECORD_HDR_LEN 5
#define TLS_SSLV2_HDR_LEN 2
#define TLS_RECORD_MAX (16384u + 2048u) /* TLSCiphertext bound, RFC 5246 6.2.3 */
#define TLS_HS_HDR_LEN 4
#define TLS_HS_MAX 65536u               /* largest handshake message reassembled */
#define TLS_MAX_RECORDS_PER_FEED 255    /* more in one call: too_many_records_in_packet */
#define TLS_MAX_CERTS 16                /* certificates of a chain kept for tls.certs */
#define TLS_MAX_ALPNS 8                 /* ALPN protocols kept per side */
#define TLS_SSLV2_PEEK 5                /* bytes of an SSLv2 message looked at */
#define TLS_SNI_MAX 255
#define TLS_HASH12 12                   /* JA4 parts b and c: truncated SHA-256 */

enum { REC_CCS = 20, REC_ALERT, REC_HANDSHAKE, REC_APPDATA, REC_HEARTBEAT };

enum {
    HS_CLIENT_HELLO = 1,
    HS_SERVER_HELLO = 2,
    HS_CERTIFICATE = 11,
};

enum {
    EXT_SNI = 0x0000,
    EXT_GROUPS = 0x000a,
    EXT_POINT_FORMATS = 0x000b,
    EXT_SIG_ALGS = 0x000d,
    EXT_ALPN = 0x0010,
    EXT_SUPPORTED_VERSIONS = 0x002b,
};

/* ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3). */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static const uint8_t empty[1];

struct blob {
    uint8_t *p;
    uint32_t len;
};

/* One direction's framing and handshake reassembly. */
struct tls_dir {
    uint8_t hdr[TLS_RECORD_HDR_LEN]; /* record header being gathered */
    uint8_t hdr_len;
    uint8_t hdr_need;                /* 5, or 2 for an SSLv2 record */
    bool in_body;
    bool rec_v2;                     /* the current record is SSLv2 */
    uint8_t rec_type;
    uint32_t rec_left;               /* fragment bytes still to come */
    uint8_t v2[TLS_SSLV2_PEEK];      /* start of the current SSLv2 message */
    uint8_t v2_len;
    unsigned v2_records;
    bool seen_v3;                    /* a TLS record was framed: no more SSLv2 */

    uint8_t hs_hdr[TLS_HS_HDR_LEN];  /* handshake message header being gathered */
    uint8_t hs_hdr_len;
    uint32_t hs_msg_len;
    uint8_t *hs_buf;                 /* message spanning records, hs_msg_len bytes */
    uint32_t hs_len;

    bool ccs;                        /* ChangeCipherSpec sent: encrypted from here */
    bool dead;                       /* given up: input ignored */
    unsigned feed_records;           /* records framed in this tls_feed call */
};

struct tls_state {
    struct tls_dir dir[2];
    unsigned progress;
    uint16_t client_version;         /* ClientHello.legacy_version */
    uint16_t server_version;         /* negotiated; supported_versions counts */
    bool tls13;                      /* the server chose TLS 1.3: no certificate in clear */
    struct blob sni;
    struct blob alpn[2][TLS_MAX_ALPNS];
    unsigned n_alpn[2];
    char *ja3_str;
    char ja3_hash[2 * MD5_LEN + 1];
    char *ja3s_str;
    char ja3s_hash[2 * MD5_LEN + 1];
    char ja4[40];                    /* "t13d1516h2_8daaf6152771_e5627efa2ab1" */
    struct blob certs[TLS_MAX_CERTS];
    unsigned n_certs;
    struct x509_cert leaf;
    bool has_leaf;
};

/* ===========================================================================
 * Small helpers
 * ========================================================================= */

/* GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa. */
static bool grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static uint32_t read_u24(struct cursor *c)
{
    uint32_t hi = cursor_u8(c);
    return hi << 16 | cursor_u16be(c);
}

static bool blob_set(struct blob *b, const uint8_t *p, size_t n)
{
    free(b->p);
    b->p = malloc(n ? n : 1);
    b->len = b->p ? (uint32_t)n : 0;
    if (b->p != NULL && n > 0)
        memcpy(b->p, p, n);
    return b->p != NULL;
}

static void blob_free(struct blob *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

static char *put_dec(char *p, unsigned v)
{
    char tmp[12];
    unsigned n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

static char *put_hex4(char *p, uint16_t v)
{
    static const char hex[] = "0123456789abcdef";
    for (int shift = 12; shift >= 0; shift -= 4)
        *p++ = hex[(v >> shift) & 0x0f];
    return p;
}

/* An extension: type and body, from an extensions block. */
struct ext {
    uint16_t type;
    struct cursor body;
};

static bool ext_next(struct cursor *exts, struct ext *e)
{
    if (cursor_remaining(exts) == 0)
        return false;
    e->type = cursor_u16be(exts);
    uint16_t len = cursor_u16be(exts);
    e->body = cursor_sub(exts, len);
    return !exts->failed;
}

/* True when the extensions block frames exactly. */
static bool ext_block_ok(struct cursor exts)
{
    struct ext e;
    while (ext_next(&exts, &e))
        ;
    return !exts.failed;
}

/* A length-prefixed list (prefix of 1 or 2 bytes) of unit-sized items;
 * false when it does not fit or does not divide into items. */
static bool ext_list(struct cursor body, unsigned prefix, unsigned unit, struct cursor *list)
{
    uint32_t len = prefix == 1 ? cursor_u8(&body) : cursor_u16be(&body);
    *list = cursor_sub(&body, len);
    return !body.failed && len % unit == 0;
}

static void dir_stop_parsing(struct tls_dir *t)
{
    free(t->hs_buf);
    t->hs_buf = NULL;
    t->hs_len = 0;
    t->hs_hdr_len = 0;
}

static void dir_give_up(struct tls_dir *t)
{
    dir_stop_parsing(t);
    t->dead = true;
}

/* Whether a direction's handshake content is still in the clear. */
static bool dir_parsing(const struct tls_state *s, const struct tls_dir *t)
{
    return !t->ccs && !t->dead && !(s->progress & TLS_HANDSHAKE_DONE);
}

static void handshake_done(struct tls_state *s)
{
    s->progress |= TLS_HANDSHAKE_DONE;
    dir_stop_parsing(&s->dir[APP_TOSERVER]);
    dir_stop_parsing(&s->dir[APP_TOCLIENT]);
}

/* ===========================================================================
 * Fingerprints: JA3, JA3S (MD5 of decimal lists), JA4 (FoxIO spec)
 * ========================================================================= */

/* The fields of a ClientHello that the fingerprints use. */
struct client_hello {
    uint16_t version;
    struct cursor ciphers;     /* u16 each */
    struct cursor exts;        /* the extensions block */
    struct cursor groups;      /* u16 each */
    struct cursor formats;     /* u8 each */
    struct cursor sig_algs;    /* u16 each */
    struct cursor alpn_first;  /* the first ALPN protocol */
    uint16_t max_version;      /* highest supported_versions entry, 0 none */
    bool has_sni;
};

static unsigned count_ext_types(struct cursor exts)
{
    unsigned n = 0;
    struct ext e;
    while (ext_next(&exts, &e))
        n += !grease(e.type);
    return n;
}

/* Writes "v1-v2-..." (decimal, GREASE left out); unit is 1 or 2 bytes. */
static char *ja3_list(char *p, struct cursor list, unsigned unit)
{
    bool first = true;
    while (cursor_remaining(&list) >= unit) {
        uint16_t v = unit == 2 ? cursor_u16be(&list) : cursor_u8(&list);
        if (unit == 2 && grease(v))
            continue;
        if (!first)
            *p++ = '-';
        p = put_dec(p, v);
        first = false;
    }
    return p;
}

static char *ja3_ext_list(char *p, struct cursor exts)
{
    bool first = true;
    struct ext e;
    while (ext_next(&exts, &e)) {
        if (grease(e.type))
            continue;
        if (!first)
            *p++ = '-';
        p = put_dec(p, e.type);
        first = false;
    }
    return p;
}

/* Hashes str into hash (hex MD5); false when str is NULL. */
static bool ja3_hash(const char *str, char hash[2 * MD5_LEN + 1])
{
    if (str == NULL)
        return false;
    uint8_t d[MD5_LEN];
    md5(str, strlen(str), d);
    digest_hex(d, sizeof d, '\0', hash);
    return true;
}

/* "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats" */
static void ja3_client(struct tls_state *s, const struct client_hello *ch)
{
    /* the version, 4 commas and a NUL; a value of a list is at most 5
     * digits and a '-' (3 digits for a point format) */
    size_t max = 5 + 4 + 1 +
                 6 * (cursor_remaining(&ch->ciphers) / 2 + cursor_remaining(&ch->exts) / 4 +
                      cursor_remaining(&ch->groups) / 2) +
                 4 * cursor_remaining(&ch->formats);
    char *str = malloc(max);
    if (str == NULL)
        return;
    char *p = put_dec(str, ch->version);
    *p++ = ',';
    p = ja3_list(p, ch->ciphers, 2);
    *p++ = ',';
    p = ja3_ext_list(p, ch->exts);
    *p++ = ',';
    p = ja3_list(p, ch->groups, 2);
    *p++ = ',';
    p = ja3_list(p, ch->formats, 1);
    *p = '\0';
    s->ja3_str = str;
    ja3_hash(str, s->ja3_hash);
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* The first 12 hex digits of SHA-256 over "xxxx,xxxx,..." of vals, sorted,
 * then "_" and the same of tail (as it is) when it has any; all zeros when
 * vals is empty. */
static void ja4_hash(uint16_t *vals, size_t n, const uint16_t *tail, size_t n_tail,
                     char out[TLS_HASH12 + 1])
{
    memset(out, '0', TLS_HASH12);
    out[TLS_HASH12] = '\0';
    if (n == 0)
        return;
    qsort(vals, n, sizeof *vals, cmp_u16);
    char *text = malloc(5 * (n + n_tail) + 1);
    if (text == NULL)
        return;
    char *p = text;
    for (size_t i = 0; i < n; i++) {
        p = put_hex4(p, vals[i]);
        *p++ = ',';
    }
    if (n_tail > 0) {
        p[-1] = '_';
        for (size_t i = 0; i < n_tail; i++) {
            p = put_hex4(p, tail[i]);
            *p++ = ',';
        }
    }
    uint8_t d[SHA256_LEN];
    sha256(text, (size_t)(p - 1 - text), d);
    char hex[2 * SHA256_LEN + 1];
    digest_hex(d, sizeof d, '\0', hex);
    memcpy(out, hex, TLS_HASH12);
    free(text);
}

static const char *ja4_version(uint16_t v)
{
    switch (v) {
    case 0x0304:
        return "13";
    case 0x0303:
        return "12";
    case 0x0302:
        return "11";
    case 0x0301:
        return "10";
    case 0x0300:
        return "s3";
    case 0x0002:
        return "s2";
    case 0xfeff:
        return "d1";
    case 0xfefd:
        return "d2";
    case 0xfefc:
        return "d3";
    default:
        return "00";
    }
}

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* First and last character of the first ALPN protocol; of its hex form
 * when either end is not alphanumeric; "00" without one. */
static void ja4_alpn(struct cursor alpn, char out[2])
{
    static const char hex[] = "0123456789abcdef";
    size_t n = cursor_remaining(&alpn);
    if (n == 0) {
        out[0] = out[1] = '0';
        return;
    }
    uint8_t first = cursor_ptr(&alpn)[0], last = cursor_ptr(&alpn)[n - 1];
    if (is_alnum(first) && is_alnum(last)) {
        out[0] = (char)first;
        out[1] = (char)last;
    } else {
        out[0] = hex[first >> 4];
        out[1] = hex[last & 0x0f];
    }
}

/* Copies the non-GREASE u16 values of list into a new array. */
static uint16_t *u16_values(struct cursor list, size_t *n)
{
    uint16_t *v = malloc((cursor_remaining(&list) / 2 + 1) * sizeof *v);
    *n = 0;
    while (v != NULL && cursor_remaining(&list) >= 2) {
        uint16_t x = cursor_u16be(&list);
        if (!grease(x))
            v[(*n)++] = x;
    }
    return v;
}

static void ja4_client(struct tls_state *s, const struct client_hello *ch)
{
    size_t n_ciphers, n_sig, n_ext = 0;
    uint16_t *ciphers = u16_values(ch->ciphers, &n_ciphers);
    uint16_t *sig = u16_values(ch->sig_algs, &n_sig);
    uint16_t *exts = malloc((cursor_remaining(&ch->exts) / 4 + 1) * sizeof *exts);
    if (ciphers != NULL && sig != NULL && exts != NULL) {
        struct cursor c = ch->exts;
        struct ext e;
        while (ext_next(&c, &e))
            if (!grease(e.type) && e.type != EXT_SNI && e.type != EXT_ALPN)
                exts[n_ext++] = e.type;
        size_t nc = n_ciphers > 99 ? 99 : n_ciphers;
        unsigned ne = count_ext_types(ch->exts);
        ne = ne > 99 ? 99 : ne;
        char alpn[2], b[TLS_HASH12 + 1], c_part[TLS_HASH12 + 1];
        ja4_alpn(ch->alpn_first, alpn);
        ja4_hash(ciphers, n_ciphers, NULL, 0, b);
        ja4_hash(exts, n_ext, sig, n_sig, c_part);
        char *p = s->ja4;
        *p++ = 't';
        memcpy(p, ja4_version(ch->max_version ? ch->max_version : ch->version), 2);
        p += 2;
        *p++ = ch->has_sni ? 'd' : 'i';
        *p++ = (char)('0' + nc / 10);
        *p++ = (char)('0' + nc % 10);
        *p++ = (char)('0' + ne / 10);
        *p++ = (char)('0' + ne % 10);
        *p++ = alpn[0];
        *p++ = alpn[1];
        *p++ = '_';
        memcpy(p, b, TLS_HASH12);
        p += TLS_HASH12;
        *p++ = '_';
        memcpy(p, c_part, TLS_HASH12);
        p[TLS_HASH12] = '\0';
    }
    free(ciphers);
    free(sig);
    free(exts);
}

/* ===========================================================================
 * Hello messages
 * ========================================================================= */

/* server_name (RFC 6066 3): a list of (type, name); only host_name (0) is defined. */
static void sni_parse(struct tls_state *s, struct cursor body, struct app_events *ev)
{
    if (cursor_remaining(&body) == 0)
        return;
    uint16_t list_len = cursor_u16be(&body);
    struct cursor list = cursor_sub(&body, list_len);
    uint8_t type = cursor_u8(&list);
    if (list.failed) {
        app_event_add(ev, TLS_EV_INVALID_SNI_LENGTH);
        return;
    }
    if (type != 0) {
        app_event_add(ev, TLS_EV_INVALID_SNI_TYPE);
        return;
    }
    uint16_t name_len = cursor_u16be(&list);
    struct cursor name = cursor_sub(&list, name_len);
    if (list.failed || name_len == 0 || name_len > TLS_SNI_MAX) {
        app_event_add(ev, TLS_EV_INVALID_SNI_LENGTH);
        return;
    }
    if (s->sni.p == NULL)
        blob_set(&s->sni, cursor_ptr(&name), name_len);
}

/* ALPN (RFC 7301): a list of length-prefixed protocol names. Keeps up to
 * TLS_MAX_ALPNS of them for side; returns the first one. */
static struct cursor alpn_parse(struct tls_state *s, int side, struct cursor body,
                                struct app_events *ev)
{
    struct cursor first = cursor_make(empty, 0), list;
    if (!ext_list(body, 2, 1, &list)) {
        app_event_add(ev, TLS_EV_INVALID_HANDSHAKE_MESSAGE);
        return first;
    }
    for (unsigned i = 0; i < s->n_alpn[side]; i++)
        blob_free(&s->alpn[side][i]);
    s->n_alpn[side] = 0;
    for (unsigned i = 0; cursor_remaining(&list) > 0; i++) {
        uint8_t len = cursor_u8(&list);
        struct cursor name = cursor_sub(&list, len);
        if (list.failed) {
            app_event_add(ev, TLS_EV_INVALID_HANDSHAKE_MESSAGE);
            break;
        }
        if (i == 0)
            first = name;
        if (s->n_alpn[side] < TLS_MAX_ALPNS &&
            blob_set(&s->alpn[side][s->n_alpn[side]], cursor_ptr(&name), len))
            s->n_alpn[side]++;
    }
    return first;
}

static void client_hello_ext(struct tls_state *s, struct client_hello *ch, const struct ext *e,
                             struct app_events *ev)
{
    struct cursor list;
    switch (e->type) {
    case EXT_SNI:
        ch->has_sni = true;
        sni_parse(s, e->body, ev);
        break;
    case EXT_GROUPS:
        if (ext_list(e->body, 2, 2, &list))
            ch->groups = list;
        else
            app_event_add(ev, TLS_EV_INVALID_HANDSHAKE_MESSAGE);
        break;
    case EXT_POINT_FORMATS:
        if (ext_list(e->body, 1, 1, &list))
            ch->formats = list;
        else
            app_event_add(ev, TLS_EV_INVALID_HANDSHAKE_MESSAGE);
        break;
    case EXT_SIG_ALGS:
        if (ext_list(e->body, 2, 2, &list))
            ch->sig_algs = list;
        else
            app_event_add(ev, TLS_EV_INVALID_HANDSHAKE_MESSAGE);
        break;
    case EXT_ALPN:
        ch->alpn_first = alpn_parse(s, APP_TOSERVER, e->body, ev);
        break;
    case EXT_SUPPORTED_VERSIONS:
        if (!ext_list(e->body, 1, 2, &list)) {
            app_event_add(ev, TLS_EV_INVALID_HANDSHAKE_MESSAGE);
            break;
        }
        while (cursor_remaining(&list) >= 2) {
            uint16_t v = cursor_u16be(&list);
            if (!grease(v) && v > ch->max_version)
                ch->max_version = v;
        }
        break;
    default:
        break;
    }
}

/*
 * ClientHello: legacy_version(2) random(32) session_id<0..32>
 * cipher_suites<2..2^16-2> compression_methods<1..2^8-1> extensions<0..2^16-1>
 */
static void client_hello(struct tls_state *s, const uint8_t *d, uint32_t n, struct app_events *ev)
{
    if (s->progress & TLS_SEEN_CLIENT_HELLO)
        return; /* the retry after a HelloRetryRequest: the first one counts */
    struct client_hello ch;
    struct cursor none = cursor_make(empty, 0);
    ch.ciphers = ch.exts = ch.groups = ch.formats = ch.sig_algs = ch.alpn_first = none;
    ch.max_version = 0;
    ch.has_sni = false;

    struct cursor c = cursor_make(d, n);
    ch.version = cursor_u16be(&c);
    cursor_skip(&c, 32);
    uint8_t sid_len = cursor_u8(&c);
    cursor_skip(&c, sid_len);
    uint16_t cs_len = cursor_u16be(&c);
    ch.ciphers = cursor_sub(&c, cs_len);
    uint8_t comp_len = cursor_u8(&c);
    cursor_skip(&c, comp_len);
    if (cursor_remaining(&c) >= 2) {
        uint16_t ext_len = cursor_u16be(&c);
        ch.exts = cursor_sub(&c, ext_len);
    }
    if (c.failed || sid_len > 32 || cs_len % 2 != 0 || comp_len == 0 || !ext_block_ok(ch.exts)) {
        app_event_add(ev, TLS_EV_INVALID_HANDSHAKE_MESSAGE);
        return;
    }
    s->progress |= TLS_SEEN_CLIENT_HELLO;
    s->client_version = ch.version;

    struct cursor exts = ch.exts;
    struct ext e;
    while (ext_next(&exts, &e))
        client_hello_ext(s, &ch, &e, ev);
    ja3_client(s, &ch);
    ja4_client(s, &ch);
}

static bool version_is_tls13(uint16_t v)
{
    return v == 0x0304 || (v >> 8) == 0x7f || (v >= 0xfb14 && v <= 0xfb1a);
}

/*
 * ServerHello: legacy_version(2) random(32) session_id<0..32>
 * cipher_suite(2) compression_method(1) extensions<0..2^16-1>
 * JA3S: "SSLVersion,Cipher,Extensions".
 */
static void server_hello(struct tls_state *s, const uint8_t *d, uint32_t n, struct app_events *ev)
{
    struct cursor c = cursor_make(d, n), exts = cursor_make(empty, 0);
    uint16_t version = cursor_u16be(&c);
    const uint8_t *random = cursor_ptr(&c);
    cursor_skip(&c, 32);
    uint8_t sid_len = cursor_u8(&c);
    cursor_skip(&c, sid_len);
    uint16_t cipher = cursor_u16be(&c);
    cursor_skip(&c, 1);
    if (cursor_remaining(&c) >= 2) {
        uint16_t ext_len = cursor_u16be(&c);
        exts = cursor_sub(&c, ext_len);
    }
    if (c.failed || sid_len > 32 || !ext_block_ok(exts)) {
        app_event_add(ev, TLS_EV_INVALID_HANDSHAKE_MESSAGE);
        return;
    }
    s->progress |= TLS_SEEN_SERVER_HELLO;
    bool retry = memcmp(random, hrr_random, sizeof hrr_random) == 0;

    uint16_t selected = 0;
    struct cursor it = exts;
    struct ext e;
    while (ext_next(&it, &e)) {
        if (e.type == EXT_SUPPORTED_VERSIONS && cursor_remaining(&e.body) == 2)
            selected = cursor_u16be(&e.body);
        else if (e.type == EXT_ALPN)
            alpn_parse(s, APP_TOCLIENT, e.body, ev);
    }
    s->server_version = selected ? selected : version;

    /* version, cipher, 2 commas, NUL; extensions as in JA3 */
    char *str = malloc(5 + 5 + 2 + 1 + 6 * (cursor_remaining(&exts) / 4));
    if (str != NULL) {
        char *p = put_dec(str, version);
        *p++ = ',';
        p = put_dec(p, cipher);
        *p++ = ',';
        p = ja3_ext_list(p, exts);
        *p = '\0';
        free(s->ja3s_str);
        s->ja3s_str = str;
        ja3_hash(str, s->ja3s_hash);
    }
    if (!retry && version_is_tls13(s->server_version)) {
        s->tls13 = true;
        handshake_done(s);
    }
}

/* ===========================================================================
 * Certificate (TLS <= 1.2): certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>
 * ========================================================================= */

static void certificate(struct tls_state *s, const uint8_t *d, uint32_t n, struct app_events *ev)
{
    if (s->progress & TLS_SEEN_CERTIFICATE)
        return;
    struct cursor c = cursor_make(d, n);
    uint32_t chain_len = read_u24(&c);
    if (c.failed) {
        app_event_add(ev, TLS_EV_INVALID_CERTIFICATE);
        return;
    }
    struct cursor chain = cursor_sub(&c, chain_len);
    if (c.failed) {
        app_event_add(ev, TLS_EV_CERTIFICATE_INVALID_LENGTH);
        return;
    }
    for (bool leaf = true; cursor_remaining(&chain) > 0; leaf = false) {
        uint32_t len = read_u24(&chain);
        struct cursor der = cursor_sub(&chain, len);
        if (chain.failed) {
            app_event_add(ev, TLS_EV_CERTIFICATE_INVALID_LENGTH);
            break;
        }
        if (leaf) {
            x509_cert_free(&s->leaf);
            int rc = x509_parse(cursor_ptr(&der), len, &s->leaf);
            s->has_leaf = rc == X509_OK;
            if (rc == X509_ERR_LENGTH)
                app_event_add(ev, TLS_EV_CERTIFICATE_INVALID_LENGTH);
            else if (rc != X509_OK)
                app_event_add(ev, TLS_EV_INVALID_CERTIFICATE);
        }
        if (s->n_certs < TLS_MAX_CERTS &&
            blob_set(&s->certs[s->n_certs], cursor_ptr(&der), len))
            s->n_certs++;
    }
    if (s->n_certs > 0)
        s->progress |= TLS_SEEN_CERTIFICATE;
}

/* ===========================================================================
 * Handshake messages
 * ========================================================================= */

static bool hs_type_known(uint8_t type)
{
    switch (type) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 8: case 11: case 12:
    case 13: case 14: case 15: case 16: case 20: case 21: case 22: case 23: case 24:
    case 25: case 67: case 254:
        return true;
    default:
        return false;
    }
}

static void hs_message(struct tls_state *s, int dir, uint8_t type, const uint8_t *d, uint32_t n,
                       struct app_events *ev)
{
    if (type == HS_CLIENT_HELLO && dir == APP_TOSERVER)
        client_hello(s, d, n, ev);
    else if (type == HS_SERVER_HELLO && dir == APP_TOCLIENT)
        server_hello(s, d, n, ev);
    else if (type == HS_CERTIFICATE && dir == APP_TOCLIENT && !s->tls13)
        certificate(s, d, n, ev);
    else if (!hs_type_known(type))
        app_event_add(ev, TLS_EV_INVALID_HANDSHAKE_MESSAGE);
}

/* Handshake bytes of one direction, in order, whatever the record boundaries. */
static void hs_feed(struct tls_state *s, int dir, struct cursor c, struct app_events *ev)
{
    struct tls_dir *t = &s->dir[dir];
    while (cursor_remaining(&c) > 0 && dir_parsing(s, t)) {
        if (t->hs_hdr_len < TLS_HS_HDR_LEN) {
            t->hs_hdr[t->hs_hdr_len++] = cursor_u8(&c);
            if (t->hs_hdr_len < TLS_HS_HDR_LEN)
                continue;
            t->hs_msg_len = (uint32_t)t->hs_hdr[1] << 16 | (uint32_t)t->hs_hdr[2] << 8 |
                            t->hs_hdr[3];
            t->hs_len = 0;
            if (t->hs_msg_len > TLS_HS_MAX) {
                app_event_add(ev, TLS_EV_INVALID_HANDSHAKE_MESSAGE);
                dir_give_up(t);
                return;
            }
            if (t->hs_msg_len == 0) {
                t->hs_hdr_len = 0;
                hs_message(s, dir, t->hs_hdr[0], empty, 0, ev);
            }
            continue;
        }
        uint32_t need = t->hs_msg_len - t->hs_len;
        if (t->hs_len == 0 && cursor_has(&c, need)) {
            /* the whole message is here: no copy */
            t->hs_hdr_len = 0;
            hs_message(s, dir, t->hs_hdr[0], cursor_ptr(&c), need, ev);
            cursor_skip(&c, need);
            continue;
        }
        if (t->hs_buf == NULL && (t->hs_buf = malloc(t->hs_msg_len)) == NULL) {
            dir_give_up(t);
            return;
        }
        size_t take = cursor_remaining(&c) < need ? cursor_remaining(&c) : need;
        cursor_copy(&c, t->hs_buf + t->hs_len, take);
        t->hs_len += (uint32_t)take;
        if (t->hs_len == t->hs_msg_len) {
            uint8_t *msg = t->hs_buf;
            t->hs_buf = NULL;
            t->hs_hdr_len = 0;
            t->hs_len = 0;
            hs_message(s, dir, t->hs_hdr[0], msg, t->hs_msg_len, ev);
            free(msg);
        }
    }
}

/* ===========================================================================
 * Records
 * ========================================================================= */

/* The first bytes of an SSLv2 message: CLIENT-HELLO is type 1, version;
 * SERVER-HELLO is type 4, session_id_hit, certificate_type, version. */
static void sslv2_message(struct tls_state *s, int dir, struct app_events *ev)
{
    struct tls_dir *t = &s->dir[dir];
    if (t->v2_records++ > 0)
        return; /* later SSLv2 records are encrypted */
    if (dir == APP_TOSERVER && t->v2_len >= 3 && t->v2[0] == 1) {
        if (!(s->progress & TLS_SEEN_CLIENT_HELLO))
            s->client_version = (uint16_t)(t->v2[1] << 8 | t->v2[2]);
        s->progress |= TLS_SEEN_CLIENT_HELLO;
    } else if (dir == APP_TOCLIENT && t->v2_len >= 5 && t->v2[0] == 4) {
        /* An SSLv2 session: the rest (3-byte headers, padding) is encrypted
         * and not worth framing. */
        s->server_version = (uint16_t)(t->v2[3] << 8 | t->v2[4]);
        s->progress |= TLS_SEEN_SERVER_HELLO;
        dir_give_up(&s->dir[APP_TOSERVER]);
        dir_give_up(&s->dir[APP_TOCLIENT]);
    } else {
        app_event_add(ev, TLS_EV_INVALID_SSL_RECORD);
        dir_give_up(t);
    }
}

static void record_end(struct tls_state *s, int dir, struct app_events *ev)
{
    struct tls_dir *t = &s->dir[dir];
    t->in_body = false;
    if (t->rec_v2)
        sslv2_message(s, dir, ev);
}

/* Validates a complete record header and starts its body. */
static void record_start(struct tls_state *s, int dir, struct app_events *ev)
{
    struct tls_dir *t = &s->dir[dir];
    if (dir_parsing(s, t) && ++t->feed_records > TLS_MAX_RECORDS_PER_FEED) {
        app_event_add(ev, TLS_EV_TOO_MANY_RECORDS_IN_PACKET);
        dir_give_up(t);
        return;
    }
    if (t->hdr_need == TLS_SSLV2_HDR_LEN) {
        t->rec_v2 = true;
        t->v2_len = 0;
        t->rec_left = (uint32_t)(t->hdr[0] & 0x7f) << 8 | t->hdr[1];
    } else {
        uint8_t type = t->hdr[0];
        uint32_t len = (uint32_t)t->hdr[3] << 8 | t->hdr[4];
        if (type < REC_CCS || type > REC_HEARTBEAT) {
            app_event_add(ev, TLS_EV_INVALID_RECORD_TYPE);
            dir_give_up(t);
            return;
        }
        if (t->hdr[1] != 3 || t->hdr[2] > 4) {
            app_event_add(ev, TLS_EV_INVALID_RECORD_VERSION);
            dir_give_up(t);
            return;
        }
        if (len > TLS_RECORD_MAX) {
            app_event_add(ev, TLS_EV_INVALID_RECORD_LENGTH);
            dir_give_up(t);
            return;
        }
        t->rec_v2 = false;
        t->seen_v3 = true;
        t->rec_type = type;
        t->rec_left = len;
        if (type == REC_CCS) {
            t->ccs = true;
            dir_stop_parsing(t);
            if (s->dir[!dir].ccs)
                handshake_done(s);
        }
    }
    t->in_body = true;
    if (t->rec_left == 0)
        record_end(s, dir, ev);
}

void tls_feed(struct tls_state *s, int dir, const uint8_t *d, uint32_t n,
              struct app_events *ev)
{
    if (s == NULL || (dir != APP_TOSERVER && dir != APP_TOCLIENT) || (d == NULL && n > 0))
        return;
    struct tls_dir *t = &s->dir[dir];
    struct cursor c = cursor_make(n ? d : empty, n);
    t->feed_records = 0;
    while (!t->dead && cursor_remaining(&c) > 0) {
        if (!t->in_body) {
            if (t->hdr_len == 0)
                t->hdr_need = (cursor_ptr(&c)[0] & 0x80) && !t->seen_v3 ? TLS_SSLV2_HDR_LEN
                                                                         : TLS_RECORD_HDR_LEN;
            while (t->hdr_len < t->hdr_need && cursor_remaining(&c) > 0)
                t->hdr[t->hdr_len++] = cursor_u8(&c);
            if (t->hdr_len == t->hdr_need) {
                t->hdr_len = 0;
                record_start(s, dir, ev);
            }
            continue;
        }
        size_t k = cursor_remaining(&c) < t->rec_left ? cursor_remaining(&c) : t->rec_left;
        struct cursor frag = cursor_sub(&c, k);
        t->rec_left -= (uint32_t)k;
        if (t->rec_v2) {
            while (t->v2_len < TLS_SSLV2_PEEK && cursor_remaining(&frag) > 0)
                t->v2[t->v2_len++] = cursor_u8(&frag);
        } else if (t->rec_type == REC_HANDSHAKE && dir_parsing(s, t)) {
            hs_feed(s, dir, frag, ev);
        }
        if (t->rec_left == 0)
            record_end(s, dir, ev);
    }
}

/* ===========================================================================
 * State, queries, EVE
 * ========================================================================= */

struct tls_state *tls_state_new(void)
{
    return calloc(1, sizeof(struct tls_state));
}

void tls_state_free(struct tls_state *s)
{
    if (s == NULL)
        return;
    for (int d = 0; d < 2; d++) {
        dir_stop_parsing(&s->dir[d]);
        for (unsigned i = 0; i < s->n_alpn[d]; i++)
            blob_free(&s->alpn[d][i]);
    }
    for (unsigned i = 0; i < s->n_certs; i++)
        blob_free(&s->certs[i]);
    blob_free(&s->sni);
    free(s->ja3_str);
    free(s->ja3s_str);
    x509_cert_free(&s->leaf);
    free(s);
}

unsigned tls_progress(const struct tls_state *s)
{
    return s ? s->progress : 0;
}

uint16_t tls_version(const struct tls_state *s)
{
    if (s == NULL)
        return 0;
    return s->server_version ? s->server_version : s->client_version;
}

static const char *const event_names[TLS_EV_COUNT] = {
    [TLS_EV_INVALID_RECORD_TYPE] = "invalid_record_type",
    [TLS_EV_INVALID_RECORD_LENGTH] = "invalid_record_length",
    [TLS_EV_INVALID_RECORD_VERSION] = "invalid_record_version",
    [TLS_EV_INVALID_HANDSHAKE_MESSAGE] = "invalid_handshake_message",
    [TLS_EV_INVALID_CERTIFICATE] = "invalid_certificate",
    [TLS_EV_CERTIFICATE_INVALID_LENGTH] = "certificate_invalid_length",
    [TLS_EV_INVALID_SNI_TYPE] = "invalid_sni_type",
    [TLS_EV_INVALID_SNI_LENGTH] = "invalid_sni_length",
    [TLS_EV_TOO_MANY_RECORDS_IN_PACKET] = "too_many_records_in_packet",
    [TLS_EV_INVALID_SSL_RECORD] = "invalid_ssl_record",
};

const char *tls_event_name(int code)
{
    if (code < 0 || code >= TLS_EV_COUNT)
        return NULL;
    return event_names[code];
}

static bool buf_str(const char *str, const uint8_t **data, uint32_t *len)
{
    if (str == NULL || str[0] == '\0')
        return false;
    *data = (const uint8_t *)str;
    *len = (uint32_t)strlen(str);
    return true;
}

bool tls_buffer(const struct tls_state *s, int buf, unsigned idx, const uint8_t **data,
                uint32_t *len)
{
    if (s == NULL || (idx > 0 && buf != BUF_TLS_CERTS))
        return false;
    const struct x509_cert *leaf = s->has_leaf ? &s->leaf : NULL;
    switch (buf) {
    case BUF_TLS_SNI:
        if (s->sni.p == NULL)
            return false;
        *data = s->sni.p;
        *len = s->sni.len;
        return true;
    case BUF_TLS_CERT_SUBJECT:
        return leaf && buf_str(leaf->subject, data, len);
    case BUF_TLS_CERT_ISSUER:
        return leaf && buf_str(leaf->issuer, data, len);
    case BUF_TLS_CERT_SERIAL:
        return leaf && buf_str(leaf->serial, data, len);
    case BUF_TLS_CERT_FINGERPRINT:
        return leaf && buf_str(leaf->fingerprint, data, len);
    case BUF_TLS_CERTS:
        if (idx >= s->n_certs)
            return false;
        *data = s->certs[idx].p;
        *len = s->certs[idx].len;
        return true;
    case BUF_JA3_HASH:
        return s->ja3_str && buf_str(s->ja3_hash, data, len);
    case BUF_JA3_STRING:
        return buf_str(s->ja3_str, data, len);
    case BUF_JA3S_HASH:
        return s->ja3s_str && buf_str(s->ja3s_hash, data, len);
    case BUF_JA3S_STRING:
        return buf_str(s->ja3s_str, data, len);
    case BUF_JA4_HASH:
        return buf_str(s->ja4, data, len);
    default:
        return false;
    }
}

/* Suricata's names for versions (SSLVersionToString). */
static void version_name(uint16_t v, char out[24])
{
    static const struct {
        uint16_t v;
        const char *name;
    } names[] = {
        { 0, "UNDETERMINED" }, { 0x0002, "SSLv2" },   { 0x0300, "SSLv3" },
        { 0x0301, "TLSv1" },   { 0x0302, "TLS 1.1" }, { 0x0303, "TLS 1.2" },
        { 0x0304, "TLS 1.3" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (names[i].v == v) {
            snprintf(out, 24, "%s", names[i].name);
            return;
        }
    }
    if (v >= 0x7f10 && v <= 0x7f1c)
        snprintf(out, 24, "TLS 1.3 draft-%u", v & 0xffu);
    else if (v > 0x7f00 && v < 0x7f10)
        snprintf(out, 24, "TLS 1.3 draft-<16");
    else if (v == 0xfb14 || v == 0xfb15 || v == 0xfb16 || v == 0xfb17 || v == 0xfb1a)
        snprintf(out, 24, "TLS 1.3 draft-%u-fb", v & 0xffu);
    else
        snprintf(out, 24, "0x%04x", v);
}

/* A JSON string from bytes: as they are when valid UTF-8, else with every
 * byte outside printable ASCII written as \xNN. */
static json_t *json_bytes(const uint8_t *p, size_t n)
{
    json_t *j = json_stringn((const char *)p, n);
    if (j != NULL)
        return j;
    char *esc = malloc(4 * n + 1);
    if (esc == NULL)
        return NULL;
    char *q = esc;
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f) {
            *q++ = (char)p[i];
        } else {
            snprintf(q, 5, "\\x%02x", p[i]);
            q += 4;
        }
    }
    j = json_stringn(esc, (size_t)(q - esc));
    free(esc);
    return j;
}

static void eve_alpns(json_t *o, const char *key, const struct blob *alpn, unsigned n)
{
    if (n == 0)
        return;
    json_t *a = json_array();
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, json_bytes(alpn[i].p, alpn[i].len));
    json_object_set_new(o, key, a);
}

static void eve_hash(json_t *o, const char *key, const char *hash, const char *str)
{
    if (str == NULL)
        return;
    json_t *h = json_object();
    json_object_set_new(h, "hash", json_string(hash));
    json_object_set_new(h, "string", json_string(str));
    json_object_set_new(o, key, h);
}

json_t *tls_eve(const struct tls_state *s)
{
    if (s == NULL)
        return NULL;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    const struct x509_cert *leaf = s->has_leaf && !s->tls13 ? &s->leaf : NULL;
    if (leaf) {
        json_object_set_new(o, "subject", json_string(leaf->subject));
        json_object_set_new(o, "issuerdn", json_string(leaf->issuer));
        json_object_set_new(o, "serial", json_string(leaf->serial));
        json_object_set_new(o, "fingerprint", json_string(leaf->fingerprint));
    }
    if (s->sni.p != NULL)
        json_object_set_new(o, "sni", json_bytes(s->sni.p, s->sni.len));
    char ver[24];
    version_name(tls_version(s), ver);
    json_object_set_new(o, "version", json_string(ver));
    if (leaf) {
        /* Suricata's schema takes years 1000-2999: a "never expires"
         * 9999-12-31 is left out rather than written wrong. */
        if (leaf->not_before[0] >= '1' && leaf->not_before[0] <= '2')
            json_object_set_new(o, "notbefore", json_string(leaf->not_before));
        if (leaf->not_after[0] >= '1' && leaf->not_after[0] <= '2')
            json_object_set_new(o, "notafter", json_string(leaf->not_after));
    }
    eve_hash(o, "ja3", s->ja3_hash, s->ja3_str);
    eve_hash(o, "ja3s", s->ja3s_hash, s->ja3s_str);
    if (s->ja4[0] != '\0')
        json_object_set_new(o, "ja4", json_string(s->ja4));
    eve_alpns(o, "client_alpns", s->alpn[APP_TOSERVER], s->n_alpn[APP_TOSERVER]);
    eve_alpns(o, "server_alpns", s->alpn[APP_TOCLIENT], s->n_alpn[APP_TOCLIENT]);
    return o;
}

/* ===========================================================================
 * Protocol detection
 * ========================================================================= */

/*
 * A handshake record header (type 22, version 3.0 to 3.4, a length that a
 * record may have) whose first message, as far as it is there, is a
 * ClientHello or ServerHello of a 3.x version; or an SSLv2 CLIENT-HELLO.
 */
bool tls_probe(const uint8_t *d, uint32_t n)
{
    if (d == NULL || n < TLS_RECORD_HDR_LEN)
        return false;
    struct cursor c = cursor_make(d, n);
    uint8_t b0 = cursor_u8(&c);
    if (b0 & 0x80) {
        /* SSLv2 header: length(15 bits), then CLIENT-HELLO(1), version */
        uint32_t len = (uint32_t)(b0 & 0x7f) << 8 | cursor_u8(&c);
        uint8_t type = cursor_u8(&c), major = cursor_u8(&c), minor = cursor_u8(&c);
        return len >= 9 && type == 1 &&
               ((major == 0 && minor == 2) || (major == 3 && minor <= 3));
    }
    uint8_t major = cursor_u8(&c), minor = cursor_u8(&c);
    uint16_t len = cursor_u16be(&c);
    if (b0 != REC_HANDSHAKE || major != 3 || minor > 4 || len < TLS_HS_HDR_LEN ||
        len > TLS_RECORD_MAX)
        return false;
    if (cursor_remaining(&c) == 0)
        return true;
    uint8_t type = cursor_u8(&c);
    if (type != HS_CLIENT_HELLO && type != HS_SERVER_HELLO)
        return false;
    uint32_t hs_len = read_u24(&c);
    if (!c.failed && hs_len < 38) /* version and random at least */
        return false;
    if (cursor_remaining(&c) >= 2 && cursor_u8(&c) != 3)
        return false;
    return true;
}
