/*
 * DNS messages (RFC 1035; AAAA RFC 3596, SRV RFC 2782) over UDP, and over
 * TCP with the two-byte length prefix (RFC 1035 4.2.2).
 *
 *     0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |                      ID                       |
 *   |QR|  OPCODE   |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
 *   |                    QDCOUNT                    |
 *   |                    ANCOUNT                    |
 *   |                    NSCOUNT                    |
 *   |                    ARCOUNT                    |
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   question:  NAME | TYPE (16) | CLASS (16)
 *   record:    NAME | TYPE (16) | CLASS (16) | TTL (32) | RDLENGTH (16) | RDATA
 *
 * A name is a run of labels (a length byte 1..63, then the bytes) ending
 * in a zero byte or in a compression pointer (two bytes, 11 then a 14-bit
 * offset) to the rest of the name elsewhere in the message. A pointer is
 * followed only when it points backwards, before the part of the name
 * being read, as resolvers require; a pointer forwards is malformed and
 * one to bytes already read for this name is a loop, and neither is
 * followed. Every followed pointer lands strictly lower than the last, so
 * a name is read in bounded time even without the hop limit. A backward
 * pointer that lands neither where an element of an earlier name began
 * nor inside the rdata of a type whose names are not decoded here (RRSIG
 * signers, NSEC next names: real servers point into those) -- say into a
 * label or the header -- is followed, so that the name a resolver would
 * see is inspected, and flagged as malformed.
 *
 * Names are kept twice: the raw dotted bytes (the dns.query and
 * dns.answer.name buffers, as Suricata inspects them) and an escaped form
 * for EVE, where bytes outside 0x21..0x7e, a '.' inside a label and '\'
 * are written as \xHH. All text of a message lives in one arena.
 */
#include "app/dns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_int.h"
#include "util/cursor.h"

#define DNS_HEADER_LEN 12
#define DNS_MSG_MAX 65535u        /* a TCP length prefix cannot say more */
#define DNS_QUESTION_MIN 5u       /* root name, type, class */
#define DNS_RR_MIN 11u            /* root name, type, class, ttl, rdlength */
#define DNS_NAME_MAX 255u         /* dotted bytes kept of one name */
#define DNS_LABELS_MAX 127u
#define DNS_HOPS_MAX 128u         /* compression pointers followed for one name */
#define DNS_PTR_REACH 16384u      /* offsets a 14-bit pointer can reach */
#define DNS_SECTION_MAX 256u      /* records kept per section */
#define DNS_PROBE_MAX_QD 16u

#define DNS_FLAG_QR 0x8000u
#define DNS_FLAG_AA 0x0400u
#define DNS_FLAG_TC 0x0200u
#define DNS_FLAG_RD 0x0100u
#define DNS_FLAG_RA 0x0080u
#define DNS_FLAG_Z 0x0040u
#define DNS_OPCODE_MAX 6u         /* QUERY .. DSO; above is unassigned */

enum {
    DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12,
    DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_SRV = 33,
};

/* Sections; questions, answers and authorities are kept, additionals only read. */
enum { SEC_QD, SEC_AN, SEC_NS, SEC_AR, SEC_COUNT };
#define SEC_KEPT SEC_AR

/* ===========================================================================
 * The parsed message
 * ========================================================================= */

struct dns_str {
    uint32_t off, len;      /* in the message's arena */
};

struct dns_name {
    struct dns_str esc;     /* escaped, for EVE */
    struct dns_str raw;     /* dotted bytes, for the sticky buffers */
    bool truncated;
};

enum dns_rdata_kind { RDATA_NONE, RDATA_TEXT, RDATA_NAME, RDATA_SOA, RDATA_SRV };

struct dns_rr {
    struct dns_name name;
    uint16_t type;
    uint8_t kind;           /* enum dns_rdata_kind */
    uint32_t ttl;
    struct dns_name rdata;  /* TEXT: address or TXT strings; NAME; SOA mname; SRV target */
    struct dns_name rname;  /* SOA */
    uint32_t num[5];        /* SOA serial..minimum; SRV priority, weight, port */
};

struct dns_msg {
    uint16_t id, flags;
    struct dns_rr *rr[SEC_KEPT];
    uint16_t nrr[SEC_KEPT], cap[SEC_KEPT];
    char *arena;
    uint32_t arena_len, arena_cap;
};

/* One dns_parse (or dns_probe) call. */
struct dns_parser {
    const uint8_t *msg;
    uint32_t len;
    struct dns_msg *m;          /* NULL while probing */
    struct app_events *ev;
    bool store;                 /* false while reading a record that is not kept */
    bool oom;
    uint8_t starts[DNS_PTR_REACH / 8]; /* offsets where a name element begins */
    uint8_t opaque[DNS_PTR_REACH / 8]; /* rdata bytes of types not decoded */
};

/* A name as it is read, before it is stored. */
struct name_buf {
    uint8_t raw[DNS_NAME_MAX];
    char esc[DNS_NAME_MAX * 4];
    uint16_t raw_len, esc_len;
    unsigned labels;
    bool truncated;
};

static void ev_add(struct dns_parser *p, int code)
{
    app_event_add(p->ev, (uint16_t)code);
}

/* A cursor over msg[0, end) positioned at off (names are read with
 * absolute offsets, so that pointers and element starts compare). */
static struct cursor cursor_at(const uint8_t *msg, uint32_t end, uint32_t off)
{
    struct cursor c = cursor_make(msg, end);
    if (off > end)
        c.failed = true;
    else
        c.off = off;
    return c;
}

/* ---- Arena ---------------------------------------------------------------- */

/* Room for n more bytes at the end of the arena; NULL when out of memory. */
static char *arena_room(struct dns_parser *p, uint32_t n)
{
    struct dns_msg *m = p->m;
    if (m == NULL || !p->store || p->oom)
        return NULL;
    if (m->arena == NULL || m->arena_cap - m->arena_len < n) {
        uint32_t cap = m->arena_cap ? m->arena_cap : 256;
        while (cap - m->arena_len < n)
            cap *= 2;
        char *a = realloc(m->arena, cap);
        if (a == NULL) {
            p->oom = true;
            return NULL;
        }
        m->arena = a;
        m->arena_cap = cap;
    }
    return m->arena + m->arena_len;
}

static struct dns_str arena_put(struct dns_parser *p, const void *s, uint32_t n)
{
    struct dns_str r = { 0, 0 };
    char *dst = arena_room(p, n);
    if (dst == NULL)
        return r;
    memcpy(dst, s, n);
    r.off = p->m->arena_len;
    r.len = n;
    p->m->arena_len += n;
    return r;
}

static void hex_escape(char *dst, uint8_t c)
{
    static const char hex[] = "0123456789abcdef";
    dst[0] = '\\';
    dst[1] = 'x';
    dst[2] = hex[c >> 4];
    dst[3] = hex[c & 15];
}

/* ===========================================================================
 * Names
 * ========================================================================= */

static bool name_byte_plain(uint8_t c)
{
    return c >= 0x21 && c <= 0x7e && c != '.' && c != '\\';
}

static void bit_set(uint8_t *bits, uint32_t off)
{
    if (off < DNS_PTR_REACH)
        bits[off >> 3] |= (uint8_t)(1u << (off & 7));
}

static bool bit_get(const uint8_t *bits, uint32_t off)
{
    return off < DNS_PTR_REACH && (bits[off >> 3] & (1u << (off & 7)));
}

/* Appends one byte; false (and the name truncated) once 255 are kept. */
static bool name_put(struct dns_parser *p, struct name_buf *nb, uint8_t c, bool separator)
{
    if (nb->raw_len == DNS_NAME_MAX) {
        ev_add(p, DNS_EV_NAME_TOO_LONG);
        nb->truncated = true;
        return false;
    }
    nb->raw[nb->raw_len++] = c;
    if (separator || name_byte_plain(c)) {
        nb->esc[nb->esc_len++] = (char)c;
    } else {
        hex_escape(nb->esc + nb->esc_len, c);
        nb->esc_len += 4;
    }
    return true;
}

static void name_add_label(struct dns_parser *p, struct name_buf *nb, const uint8_t *l,
                           unsigned n)
{
    if (++nb->labels == DNS_LABELS_MAX + 1) {
        ev_add(p, DNS_EV_TOO_MANY_LABELS);
        nb->truncated = true;
    }
    if (nb->truncated)
        return;
    if (nb->labels > 1 && !name_put(p, nb, '.', true))
        return;
    for (unsigned i = 0; i < n; i++)
        if (!name_put(p, nb, l[i], false))
            return;
}

struct name_seg {
    uint32_t start, end;    /* bytes [start, end) read for the name */
};

/* Whether the pointer ending segment segs[nseg - 1] may be followed to target. */
static bool pointer_ok(struct dns_parser *p, const struct name_seg *segs, unsigned nseg,
                       uint32_t target)
{
    if (target >= segs[nseg - 1].start) {
        for (unsigned i = 0; i < nseg; i++) {
            if (target >= segs[i].start && target < segs[i].end) {
                ev_add(p, DNS_EV_INFINITE_LOOP);
                return false;
            }
        }
        ev_add(p, DNS_EV_MALFORMED_DATA); /* forward */
        return false;
    }
    if (!bit_get(p->starts, target) && !bit_get(p->opaque, target))
        ev_add(p, DNS_EV_MALFORMED_DATA); /* into a label, a field or the header */
    return true;
}

/*
 * Reads the name at c's offset; c moves past the name's own bytes (up to
 * its terminating zero or first pointer), which must lie before c's end.
 * Returns false when those bytes are broken, so that whatever follows the
 * name cannot be found; a bad pointer only truncates the name.
 */
static bool read_name(struct dns_parser *p, struct cursor *c, struct name_buf *nb)
{
    struct name_seg segs[DNS_HOPS_MAX + 1];
    unsigned nseg = 0;
    struct cursor w = *c;
    bool in_place = true;

    nb->raw_len = nb->esc_len = 0;
    nb->labels = 0;
    nb->truncated = false;
    segs[0].start = (uint32_t)w.off;
    for (;;) {
        uint32_t at = (uint32_t)w.off;
        uint8_t b = cursor_u8(&w);
        if (w.failed)
            goto broken;
        if (in_place)
            bit_set(p->starts, at);
        if (b == 0)
            break;
        if ((b & 0xc0) == 0xc0) {
            uint32_t target = (uint32_t)(b & 0x3f) << 8 | cursor_u8(&w);
            if (w.failed)
                goto broken;
            segs[nseg++].end = (uint32_t)w.off;
            if (in_place) {
                c->off = w.off;
                in_place = false;
            }
            if (!pointer_ok(p, segs, nseg, target)) {
                nb->truncated = true;
                return true;
            }
            if (nseg > DNS_HOPS_MAX) {
                ev_add(p, DNS_EV_INFINITE_LOOP);
                nb->truncated = true;
                return true;
            }
            if (nb->truncated) /* nothing more to keep, and the walk is bounded by it */
                return true;
            w = cursor_at(p->msg, p->len, target);
            segs[nseg].start = target;
            continue;
        }
        if (b & 0xc0) /* 01 and 10: extended and reserved label types */
            goto broken;
        if (!cursor_has(&w, b))
            goto broken;
        name_add_label(p, nb, cursor_ptr(&w), b);
        cursor_skip(&w, b);
        if (nb->truncated && !in_place)
            return true;
    }
    if (in_place)
        c->off = w.off;
    return true;

broken:
    ev_add(p, DNS_EV_MALFORMED_DATA);
    if (in_place) {
        c->failed = true;
        return false;
    }
    nb->truncated = true;
    return true;
}

static struct dns_name store_name(struct dns_parser *p, const struct name_buf *nb)
{
    struct dns_name n = { .truncated = nb->truncated };
    n.esc = arena_put(p, nb->esc, nb->esc_len);
    if (nb->esc_len == nb->raw_len) /* nothing escaped: one copy serves both */
        n.raw = n.esc;
    else
        n.raw = arena_put(p, nb->raw, nb->raw_len);
    return n;
}

/* ===========================================================================
 * Records
 * ========================================================================= */

static void set_text(struct dns_parser *p, struct dns_rr *rr, const char *s, uint32_t n)
{
    rr->kind = RDATA_TEXT;
    rr->rdata.esc = rr->rdata.raw = arena_put(p, s, n);
}

static void rdata_addr(struct dns_parser *p, struct dns_rr *rr, const uint8_t *a, uint16_t n)
{
    char txt[40];
    int k;
    if (rr->type == DNS_T_A && n == 4) {
        k = snprintf(txt, sizeof txt, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    } else if (rr->type == DNS_T_AAAA && n == 16) {
        /* Suricata writes all eight groups, zero-padded, uncompressed */
        k = 0;
        for (unsigned i = 0; i < 16; i += 2)
            k += snprintf(txt + k, sizeof txt - (size_t)k, "%s%02x%02x", i ? ":" : "", a[i],
                          a[i + 1]);
    } else {
        ev_add(p, DNS_EV_MALFORMED_DATA);
        return;
    }
    set_text(p, rr, txt, (uint32_t)k);
}

/* TXT: the character-strings concatenated, escaped for EVE. */
static void rdata_txt(struct dns_parser *p, struct dns_rr *rr, struct cursor *rc)
{
    char *dst = arena_room(p, (uint32_t)cursor_remaining(rc) * 4);
    uint32_t k = 0;
    while (cursor_remaining(rc) > 0) {
        uint8_t n = cursor_u8(rc);
        if (!cursor_has(rc, n)) {
            ev_add(p, DNS_EV_MALFORMED_DATA);
            break;
        }
        const uint8_t *s = cursor_ptr(rc);
        cursor_skip(rc, n);
        for (unsigned i = 0; i < n && dst != NULL; i++) {
            if (s[i] >= 0x20 && s[i] <= 0x7e && s[i] != '\\') {
                dst[k++] = (char)s[i];
            } else {
                hex_escape(dst + k, s[i]);
                k += 4;
            }
        }
    }
    if (dst == NULL)
        return;
    rr->kind = RDATA_TEXT;
    rr->rdata.esc.off = p->m->arena_len;
    rr->rdata.esc.len = k;
    rr->rdata.raw = rr->rdata.esc;
    p->m->arena_len += k;
}

/* Reads rdata[start, start + n) by type; a malformed rdata is left out. */
static void read_rdata(struct dns_parser *p, struct dns_rr *rr, uint32_t start, uint16_t n)
{
    struct cursor rc = cursor_at(p->msg, start + n, start);
    struct name_buf nb;

    if (n == 0) /* no rdata: dynamic update (RFC 2136) deletes and prerequisites */
        return;
    switch (rr->type) {
    case DNS_T_A:
    case DNS_T_AAAA:
        rdata_addr(p, rr, cursor_ptr(&rc), n);
        break;
    case DNS_T_MX:
        cursor_skip(&rc, 2); /* preference; Suricata logs only the exchange */
        /* fall through */
    case DNS_T_CNAME:
    case DNS_T_NS:
    case DNS_T_PTR:
        if (rc.failed) {
            ev_add(p, DNS_EV_MALFORMED_DATA);
        } else if (read_name(p, &rc, &nb)) {
            rr->kind = RDATA_NAME;
            rr->rdata = store_name(p, &nb);
        }
        break;
    case DNS_T_TXT:
        rdata_txt(p, rr, &rc);
        break;
    case DNS_T_SOA: {
        struct name_buf rn;
        if (!read_name(p, &rc, &nb) || !read_name(p, &rc, &rn))
            break;
        for (unsigned i = 0; i < 5; i++)
            rr->num[i] = cursor_u32be(&rc);
        if (rc.failed) {
            ev_add(p, DNS_EV_MALFORMED_DATA);
            break;
        }
        rr->kind = RDATA_SOA;
        rr->rdata = store_name(p, &nb);
        rr->rname = store_name(p, &rn);
        break;
    }
    case DNS_T_SRV:
        for (unsigned i = 0; i < 3; i++)
            rr->num[i] = cursor_u16be(&rc);
        if (rc.failed) {
            ev_add(p, DNS_EV_MALFORMED_DATA);
        } else if (read_name(p, &rc, &nb)) {
            rr->kind = RDATA_SRV;
            rr->rdata = store_name(p, &nb);
        }
        break;
    default:
        for (uint32_t i = start; i < start + n && i < DNS_PTR_REACH; i++)
            bit_set(p->opaque, i);
        break;
    }
}

/* Reads one question or record of section sec; false when the section
 * cannot be read on (the event is raised). */
static bool read_record(struct dns_parser *p, struct cursor *c, int sec)
{
    struct name_buf nb;
    struct dns_rr rr;
    memset(&rr, 0, sizeof rr);
    struct dns_msg *m = p->m;
    p->store = m != NULL && sec < SEC_KEPT && m->nrr[sec] < m->cap[sec];

    if (!read_name(p, c, &nb))
        return false;
    rr.type = cursor_u16be(c);
    cursor_u16be(c); /* class */
    if (sec != SEC_QD) {
        rr.ttl = cursor_u32be(c);
        uint16_t rdlen = cursor_u16be(c);
        uint32_t start = (uint32_t)c->off;
        if (!cursor_skip(c, rdlen)) {
            ev_add(p, DNS_EV_MALFORMED_DATA);
            return false;
        }
        read_rdata(p, &rr, start, rdlen);
    }
    if (c->failed) {
        ev_add(p, DNS_EV_MALFORMED_DATA);
        return false;
    }
    if (p->store) {
        rr.name = store_name(p, &nb);
        m->rr[sec][m->nrr[sec]++] = rr;
    }
    return true;
}

/* ===========================================================================
 * Messages
 * ========================================================================= */

static void parser_init(struct dns_parser *p, const uint8_t *buf, uint32_t len,
                        struct app_events *ev)
{
    p->msg = buf;
    p->len = len;
    p->m = NULL;
    p->ev = ev;
    p->store = false;
    p->oom = false;
    uint32_t reach = len < DNS_PTR_REACH ? len : DNS_PTR_REACH;
    memset(p->starts, 0, (reach + 7) / 8);
    memset(p->opaque, 0, (reach + 7) / 8);
}

static void read_counts(const uint8_t *buf, uint16_t count[SEC_COUNT])
{
    struct cursor c = cursor_at(buf, DNS_HEADER_LEN, 4);
    for (int s = 0; s < SEC_COUNT; s++)
        count[s] = cursor_u16be(&c);
}

/* The fewest bytes a message with these counts takes. */
static uint32_t min_len(const uint16_t count[SEC_COUNT])
{
    return DNS_HEADER_LEN + count[SEC_QD] * DNS_QUESTION_MIN +
           ((uint32_t)count[SEC_AN] + count[SEC_NS] + count[SEC_AR]) * DNS_RR_MIN;
}

struct dns_msg *dns_parse(const uint8_t *buf, uint32_t len, struct app_events *ev)
{
    struct app_events scratch = { 0 };
    if (ev == NULL)
        ev = &scratch;
    uint16_t count[SEC_COUNT];
    if (buf == NULL || len < DNS_HEADER_LEN || len > DNS_MSG_MAX) {
        app_event_add(ev, DNS_EV_MALFORMED_DATA);
        return NULL;
    }
    read_counts(buf, count);
    if (min_len(count) > DNS_MSG_MAX) {
        app_event_add(ev, DNS_EV_MALFORMED_DATA);
        return NULL;
    }

    struct dns_parser parser, *p = &parser;
    struct dns_msg *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    parser_init(p, buf, len, ev);
    p->m = m;
    m->id = (uint16_t)(buf[0] << 8 | buf[1]);
    m->flags = (uint16_t)(buf[2] << 8 | buf[3]);

    /* Keep what the bytes could hold, at most DNS_SECTION_MAX per section. */
    for (int s = 0; s < SEC_KEPT; s++) {
        uint32_t fit = (len - DNS_HEADER_LEN) / (s == SEC_QD ? DNS_QUESTION_MIN : DNS_RR_MIN);
        uint32_t n = count[s];
        if (n > fit)
            n = fit;
        if (n > DNS_SECTION_MAX)
            n = DNS_SECTION_MAX;
        if (n > 0 && (m->rr[s] = calloc(n, sizeof *m->rr[s])) == NULL)
            goto oom;
        m->cap[s] = (uint16_t)n;
    }

    if (m->flags & DNS_FLAG_Z)
        ev_add(p, DNS_EV_Z_FLAG_SET);
    if (dns_msg_opcode(m) > DNS_OPCODE_MAX)
        ev_add(p, DNS_EV_INVALID_OPCODE);

    struct cursor c = cursor_at(buf, len, DNS_HEADER_LEN);
    for (int s = 0; s < SEC_COUNT; s++)
        for (unsigned i = 0; i < count[s]; i++)
            if (!read_record(p, &c, s))
                goto done;
done:
    if (!p->oom)
        return m;
oom:
    dns_msg_free(m);
    return NULL;
}

void dns_msg_free(struct dns_msg *m)
{
    if (m == NULL)
        return;
    for (int s = 0; s < SEC_KEPT; s++)
        free(m->rr[s]);
    free(m->arena);
    free(m);
}

bool dns_msg_is_response(const struct dns_msg *m)
{
    return (m->flags & DNS_FLAG_QR) != 0;
}

uint16_t dns_msg_id(const struct dns_msg *m)
{
    return m->id;
}

unsigned dns_msg_opcode(const struct dns_msg *m)
{
    return (m->flags >> 11) & 0xfu;
}

unsigned dns_msg_rcode(const struct dns_msg *m)
{
    return m->flags & 0xfu;
}

bool dns_msg_has_rrtype(const struct dns_msg *m, uint16_t rrtype)
{
    for (unsigned i = 0; i < m->nrr[SEC_QD]; i++)
        if (m->rr[SEC_QD][i].type == rrtype)
            return true;
    if (dns_msg_is_response(m))
        for (unsigned i = 0; i < m->nrr[SEC_AN]; i++)
            if (m->rr[SEC_AN][i].type == rrtype)
                return true;
    return false;
}

bool dns_msg_buffer(const struct dns_msg *m, int buf, unsigned idx, const uint8_t **data,
                    uint32_t *len)
{
    int sec;
    if (buf == BUF_DNS_QUERY)
        sec = SEC_QD;
    else if (buf == BUF_DNS_ANSWER_NAME)
        sec = SEC_AN;
    else
        return false;
    if (idx >= m->nrr[sec])
        return false;
    struct dns_str s = m->rr[sec][idx].name.raw;
    *data = s.len ? (const uint8_t *)m->arena + s.off : (const uint8_t *)"";
    *len = s.len;
    return true;
}

/* ===========================================================================
 * EVE
 * ========================================================================= */

static json_t *str_json(const struct dns_msg *m, struct dns_str s)
{
    return json_stringn(s.len ? m->arena + s.off : "", s.len);
}

/* Adds v under k; a NULL v (out of memory) marks the whole object failed. */
static void put(json_t *o, const char *k, json_t *v, bool *ok)
{
    if (json_object_set_new(o, k, v) != 0)
        *ok = false;
}

static json_t *soa_json(const struct dns_msg *m, const struct dns_rr *rr, bool *ok)
{
    static const char *const keys[5] = { "serial", "refresh", "retry", "expire", "minimum" };
    json_t *o = json_object();
    put(o, "mname", str_json(m, rr->rdata.esc), ok);
    if (rr->rdata.truncated)
        put(o, "mname_truncated", json_true(), ok);
    put(o, "rname", str_json(m, rr->rname.esc), ok);
    for (unsigned i = 0; i < 5; i++)
        put(o, keys[i], json_integer(rr->num[i]), ok);
    return o;
}

static json_t *srv_json(const struct dns_msg *m, const struct dns_rr *rr, bool *ok)
{
    json_t *o = json_object();
    put(o, "priority", json_integer(rr->num[0]), ok);
    put(o, "weight", json_integer(rr->num[1]), ok);
    put(o, "port", json_integer(rr->num[2]), ok);
    put(o, "name", str_json(m, rr->rdata.esc), ok);
    return o;
}

/* One answer or authority. The schema has the *_truncated flags only for
 * authorities, and srv only for answers; nothing else is written. */
static json_t *rr_json(const struct dns_msg *m, const struct dns_rr *rr, int sec, bool *ok)
{
    char tbuf[8];
    bool auth = sec == SEC_NS;
    json_t *o = json_object();
    put(o, "rrname", str_json(m, rr->name.esc), ok);
    if (auth && rr->name.truncated)
        put(o, "rrname_truncated", json_true(), ok);
    put(o, "rrtype", json_string(dns_rrtype_name(rr->type, tbuf, sizeof tbuf)), ok);
    put(o, "ttl", json_integer(rr->ttl), ok);
    switch (rr->kind) {
    case RDATA_TEXT:
    case RDATA_NAME:
        put(o, "rdata", str_json(m, rr->rdata.esc), ok);
        if (auth && rr->rdata.truncated)
            put(o, "rdata_truncated", json_true(), ok);
        break;
    case RDATA_SOA:
        put(o, "soa", soa_json(m, rr, ok), ok);
        break;
    case RDATA_SRV:
        if (!auth)
            put(o, "srv", srv_json(m, rr, ok), ok);
        break;
    default:
        break;
    }
    return o;
}

static void section_json(json_t *o, const struct dns_msg *m, int sec, const char *key, bool *ok)
{
    if (m->nrr[sec] == 0)
        return;
    json_t *a = json_array();
    for (unsigned i = 0; i < m->nrr[sec]; i++) {
        const struct dns_rr *rr = &m->rr[sec][i];
        json_t *e;
        if (sec == SEC_QD) {
            char tbuf[8];
            e = json_object();
            put(e, "rrname", str_json(m, rr->name.esc), ok);
            put(e, "rrtype", json_string(dns_rrtype_name(rr->type, tbuf, sizeof tbuf)), ok);
            if (rr->name.truncated)
                put(e, "rrname_truncated", json_true(), ok);
        } else {
            e = rr_json(m, rr, sec, ok);
        }
        if (json_array_append_new(a, e) != 0)
            *ok = false;
    }
    put(o, key, a, ok);
}

json_t *dns_msg_eve(const struct dns_msg *m)
{
    static const struct {
        uint16_t bit;
        const char *key;
    } bits[] = {
        { DNS_FLAG_QR, "qr" }, { DNS_FLAG_AA, "aa" }, { DNS_FLAG_TC, "tc" },
        { DNS_FLAG_RD, "rd" }, { DNS_FLAG_RA, "ra" }, { DNS_FLAG_Z, "z" },
    };
    char buf[16];
    bool ok = true;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    put(o, "version", json_integer(3), &ok);
    put(o, "type", json_string(dns_msg_is_response(m) ? "response" : "request"), &ok);
    put(o, "id", json_integer(m->id), &ok);
    /* as Suricata writes it: lowercase hex without leading zeros ("100", "8180") */
    snprintf(buf, sizeof buf, "%x", m->flags);
    put(o, "flags", json_string(buf), &ok);
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if (m->flags & bits[i].bit)
            put(o, bits[i].key, json_true(), &ok);
    put(o, "opcode", json_integer(dns_msg_opcode(m)), &ok);
    put(o, "rcode", json_string(dns_rcode_name(dns_msg_rcode(m), buf, sizeof buf)), &ok);
    section_json(o, m, SEC_QD, "queries", &ok);
    section_json(o, m, SEC_AN, "answers", &ok);
    section_json(o, m, SEC_NS, "authorities", &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ===========================================================================
 * TCP framing
 * ========================================================================= */

static bool tcp_reserve(struct dns_tcp_buf *b, uint32_t need)
{
    if (b->cap >= need)
        return true;
    uint8_t *d = realloc(b->data, need);
    if (d == NULL)
        return false;
    b->data = d;
    b->cap = need;
    return true;
}

typedef void (*dns_msg_cb)(void *ctx, const uint8_t *msg, uint32_t len);

/* Adds to the held partial message what it lacks -- its prefix first, then
 * its bytes -- and delivers it once whole. */
static void tcp_fill(struct dns_tcp_buf *b, struct cursor *c, dns_msg_cb cb, void *ctx,
                     struct app_events *ev, unsigned *delivered)
{
    uint32_t want = b->len < 2 ? 2 : 2 + (uint32_t)(b->data[0] << 8 | b->data[1]);
    uint32_t take = want - b->len;
    if (take > cursor_remaining(c))
        take = (uint32_t)cursor_remaining(c);
    if (!tcp_reserve(b, want)) { /* out of memory: the stream is lost */
        app_event_add(ev, DNS_EV_MALFORMED_DATA);
        b->len = 0;
        cursor_skip(c, cursor_remaining(c));
        return;
    }
    cursor_copy(c, b->data + b->len, take);
    b->len += take;
    if (b->len == 2 && want == 2) {
        if (b->data[0] == 0 && b->data[1] == 0) {
            app_event_add(ev, DNS_EV_MALFORMED_DATA);
            b->len = 0;
        }
    } else if (b->len == want) {
        if (cb != NULL)
            cb(ctx, b->data + 2, want - 2);
        (*delivered)++;
        b->len = 0;
    }
}

unsigned dns_tcp_feed(struct dns_tcp_buf *b, const uint8_t *d, uint32_t n, dns_msg_cb cb,
                      void *ctx, struct app_events *ev)
{
    struct app_events scratch = { 0 };
    if (ev == NULL)
        ev = &scratch;
    struct cursor c = cursor_make(d, n);
    unsigned delivered = 0;
    while (cursor_remaining(&c) > 0) {
        if (b->len == 0 && cursor_has(&c, 2)) {
            /* Nothing held: whole messages are taken straight from d. */
            struct cursor m = c;
            uint16_t mlen = cursor_u16be(&m);
            if (mlen == 0) {
                app_event_add(ev, DNS_EV_MALFORMED_DATA);
                c = m;
                continue;
            }
            if (cursor_has(&m, mlen)) {
                if (cb != NULL)
                    cb(ctx, cursor_ptr(&m), mlen);
                delivered++;
                cursor_skip(&m, mlen);
                c = m;
                continue;
            }
        }
        tcp_fill(b, &c, cb, ctx, ev, &delivered);
    }
    return delivered;
}

void dns_tcp_buf_free(struct dns_tcp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ===========================================================================
 * Detection and names
 * ========================================================================= */

bool dns_probe(const uint8_t *d, uint32_t n, bool tcp)
{
    uint32_t mlen = n;
    if (tcp) {
        if (n < 2)
            return false;
        mlen = (uint32_t)(d[0] << 8 | d[1]);
        d += 2;
        n -= 2;
    }
    if (n < DNS_HEADER_LEN || mlen < DNS_HEADER_LEN)
        return false;
    if (n > mlen)
        n = mlen; /* bytes past this message belong to the next one */
    uint16_t count[SEC_COUNT];
    read_counts(d, count);
    unsigned opcode = (unsigned)(d[2] >> 3) & 0xfu;
    if (count[SEC_QD] == 0 || count[SEC_QD] > DNS_PROBE_MAX_QD || opcode > DNS_OPCODE_MAX ||
        min_len(count) > mlen)
        return false;

    struct app_events ev = { 0 };
    struct dns_parser p;
    parser_init(&p, d, n, &ev);
    struct cursor c = cursor_at(d, n, DNS_HEADER_LEN);
    struct name_buf nb;
    return read_name(&p, &c, &nb) && ev.n == 0;
}

const char *dns_event_name(int code)
{
    static const char *const names[DNS_EV_COUNT] = {
        [DNS_EV_MALFORMED_DATA] = "malformed_data",
        [DNS_EV_NOT_A_REQUEST] = "not_a_request",
        [DNS_EV_NOT_A_RESPONSE] = "not_a_response",
        [DNS_EV_Z_FLAG_SET] = "z_flag_set",
        [DNS_EV_INVALID_OPCODE] = "invalid_opcode",
        [DNS_EV_NAME_TOO_LONG] = "name_too_long",
        [DNS_EV_INFINITE_LOOP] = "infinite_loop",
        [DNS_EV_TOO_MANY_LABELS] = "too_many_labels",
    };
    return code >= 0 && code < DNS_EV_COUNT ? names[code] : "unknown";
}

static const char *number(unsigned v, char *buf, unsigned buflen)
{
    if (buf == NULL || buflen == 0)
        return "";
    snprintf(buf, buflen, "%u", v);
    return buf;
}

const char *dns_rrtype_name(uint16_t type, char *buf, unsigned buflen)
{
    static const struct {
        uint16_t type;
        const char *name;
    } names[] = {
        { 1, "A" },        { 2, "NS" },        { 3, "MD" },         { 4, "MF" },
        { 5, "CNAME" },    { 6, "SOA" },       { 7, "MB" },         { 8, "MG" },
        { 9, "MR" },       { 10, "NULL" },     { 11, "WKS" },       { 12, "PTR" },
        { 13, "HINFO" },   { 14, "MINFO" },    { 15, "MX" },        { 16, "TXT" },
        { 17, "RP" },      { 18, "AFSDB" },    { 19, "X25" },       { 20, "ISDN" },
        { 21, "RT" },      { 22, "NSAP" },     { 23, "NSAPPTR" },   { 24, "SIG" },
        { 25, "KEY" },     { 26, "PX" },       { 27, "GPOS" },      { 28, "AAAA" },
        { 29, "LOC" },     { 30, "NXT" },      { 33, "SRV" },       { 34, "ATMA" },
        { 35, "NAPTR" },   { 36, "KX" },       { 37, "CERT" },      { 38, "A6" },
        { 39, "DNAME" },   { 41, "OPT" },      { 42, "APL" },       { 43, "DS" },
        { 44, "SSHFP" },   { 45, "IPSECKEY" }, { 46, "RRSIG" },     { 47, "NSEC" },
        { 48, "DNSKEY" },  { 49, "DHCID" },    { 50, "NSEC3" },     { 51, "NSEC3PARAM" },
        { 52, "TLSA" },    { 55, "HIP" },      { 59, "CDS" },       { 60, "CDNSKEY" },
        { 64, "SVCB" },    { 65, "HTTPS" },    { 99, "SPF" },       { 249, "TKEY" },
        { 250, "TSIG" },   { 251, "IXFR" },    { 252, "AXFR" },     { 253, "MAILB" },
        { 254, "MAILA" },  { 255, "ANY" },     { 256, "URI" },      { 257, "CAA" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].type == type)
            return names[i].name;
    return number(type, buf, buflen);
}

const char *dns_rcode_name(unsigned rcode, char *buf, unsigned buflen)
{
    static const char *const names[] = {
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
        "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
    };
    static const char *const ext[] = { /* 16.. (EDNS and TSIG) */
        "BADVERS/BADSIG", "BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG", "BADTRUNC",
        "BADCOOKIE",
    };
    if (rcode < sizeof names / sizeof names[0])
        return names[rcode];
    if (rcode >= 16 && rcode - 16 < sizeof ext / sizeof ext[0])
        return ext[rcode - 16];
    return number(rcode, buf, buflen);
}
