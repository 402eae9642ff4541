/*
 * Header keywords: dsize, flags, ttl, itype, icode, icmp_id, icmp_seq,
 * ip_proto, sameip, ipopts, fragbits, window, seq, ack. Each appends one
 * matcher to s->pkt; kw_header_match() evaluates it on a decoded packet.
 * Also the small parsing helpers the other keyword files share.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect/kw_runtime.h"
#include "util/cursor.h"

/* ---- Parsing helpers ------------------------------------------------------ */

bool kw_trim(const char *value, char *buf, size_t len)
{
    if (value == NULL)
        value = "";
    while (isspace((unsigned char)*value))
        value++;
    size_t n = strlen(value);
    while (n > 0 && isspace((unsigned char)value[n - 1]))
        n--;
    if (n >= len)
        return false;
    memcpy(buf, value, n);
    buf[n] = '\0';
    return true;
}

bool kw_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    while (isspace((unsigned char)*end))
        end++;
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

char *kw_strip(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

char *kw_split(char *s, char sep, char **head)
{
    char *p = strchr(s, sep);
    if (p != NULL)
        *p++ = '\0';
    *head = kw_strip(s);
    return p;
}

static bool number_or_name(const char *s, uint64_t max, const struct kw_name *names,
                           uint64_t *out)
{
    if (kw_parse_u64(s, max, out))
        return true;
    for (const struct kw_name *n = names; n && n->name; n++) {
        if (strcasecmp(n->name, s) == 0) {
            *out = n->value;
            return true;
        }
    }
    return false;
}

int kw_parse_cmp(const char *kw, const char *value, uint64_t max, const struct kw_name *names,
                 struct kw_cmp *out, char *err, size_t errlen)
{
    char buf[128];
    if (!kw_trim(value, buf, sizeof buf) || buf[0] == '\0')
        goto bad;
    memset(out, 0, sizeof *out);
    char *s = buf;
    char *range = strstr(s, "<>");
    if (range != NULL) {
        *range = '\0';
        char *lo = kw_strip(s), *hi = kw_strip(range + 2);
        if (!number_or_name(lo, max, names, &out->a) || !number_or_name(hi, max, names, &out->b)
            || out->a >= out->b)
            goto bad;
        out->op = CMP_RANGE;
        return 0;
    }
    if (s[0] == '<' || s[0] == '>') {
        bool eq = s[1] == '=';
        out->op = s[0] == '<' ? (eq ? CMP_LE : CMP_LT) : (eq ? CMP_GE : CMP_GT);
        s += eq ? 2 : 1;
    } else if (s[0] == '!') {
        out->op = CMP_NE;
        s += s[1] == '=' ? 2 : 1;
    } else if (s[0] == '=') {
        out->op = CMP_EQ;
        s += s[1] == '=' ? 2 : 1;
    } else {
        char *dash = strchr(s + 1, '-');
        if (dash != NULL && isdigit((unsigned char)s[0])) {
            *dash = '\0';
            if (!kw_parse_u64(s, max, &out->a) || !kw_parse_u64(dash + 1, max, &out->b) ||
                out->a >= out->b)
                goto bad;
            out->op = CMP_RANGE;
            return 0;
        }
        out->op = CMP_EQ;
    }
    if (!number_or_name(kw_strip(s), max, names, &out->a))
        goto bad;
    return 0;
bad:
    snprintf(err, errlen, "invalid %s value '%s'", kw, value ? value : "");
    return -1;
}

bool kw_cmp_match(const struct kw_cmp *c, uint64_t v)
{
    switch (c->op) {
    case CMP_EQ: return v == c->a;
    case CMP_NE: return v != c->a;
    case CMP_LT: return v < c->a;
    case CMP_GT: return v > c->a;
    case CMP_LE: return v <= c->a;
    case CMP_GE: return v >= c->a;
    case CMP_RANGE: return v > c->a && v < c->b;
    }
    return false;
}

/* ---- Contexts ----------------------------------------------------------------- */

/* flags and fragbits: bits that must (not) be present, per modifier. */
enum bits_mod { BITS_EXACT, BITS_ALL, BITS_ANY, BITS_NOT };

struct bits_ctx {
    uint8_t mod;      /* enum bits_mod */
    uint16_t bits;
    uint16_t ignore;  /* flags: the ",mask" part */
};

static int add_sm(struct sig *s, int type, void *ctx, char *err, size_t errlen)
{
    struct sm *m = sm_new(type, ctx);
    if (m == NULL) {
        free(ctx);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sm_append(&s->pkt, m);
    return 0;
}

static int cmp_setup(struct sig *s, int type, const char *kw, const char *value, uint64_t max,
                     const struct kw_name *names, char *err, size_t errlen)
{
    struct kw_cmp *c = malloc(sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (kw_parse_cmp(kw, value, max, names, c, err, errlen) < 0) {
        free(c);
        return -1;
    }
    return add_sm(s, type, c, err, errlen);
}

#define CMP_KEYWORD(fn, type, kw, max)                                                   \
    static int fn(struct sig *s, struct parse_state *ps, const char *v, char *err,       \
                  size_t errlen)                                                         \
    {                                                                                    \
        (void)ps;                                                                        \
        return cmp_setup(s, type, kw, v, max, NULL, err, errlen);                        \
    }

CMP_KEYWORD(dsize_setup, SM_DSIZE, "dsize", 65535)
CMP_KEYWORD(ttl_setup, SM_TTL, "ttl", 255)
CMP_KEYWORD(itype_setup, SM_ITYPE, "itype", 255)
CMP_KEYWORD(icode_setup, SM_ICODE, "icode", 255)
CMP_KEYWORD(icmp_id_setup, SM_ICMP_ID, "icmp_id", 65535)
CMP_KEYWORD(icmp_seq_setup, SM_ICMP_SEQ, "icmp_seq", 65535)
CMP_KEYWORD(window_setup, SM_WINDOW, "window", 65535)
CMP_KEYWORD(seq_setup, SM_SEQ, "seq", UINT32_MAX)
CMP_KEYWORD(ack_setup, SM_ACK, "ack", UINT32_MAX)

static const struct kw_name ip_proto_names[] = {
    { "ip", 0 }, { "hopopt", 0 }, { "icmp", 1 }, { "igmp", 2 }, { "ggp", 3 },
    { "ipip", 4 }, { "ipv4", 4 }, { "st", 5 }, { "tcp", 6 }, { "egp", 8 }, { "igp", 9 },
    { "pup", 12 }, { "udp", 17 }, { "hmp", 20 }, { "xns-idp", 22 }, { "rdp", 27 },
    { "iso-tp4", 29 }, { "dccp", 33 }, { "xtp", 36 }, { "ddp", 37 }, { "idpr-cmtp", 38 },
    { "ipv6", 41 }, { "ipv6-route", 43 }, { "ipv6-frag", 44 }, { "idrp", 45 },
    { "rsvp", 46 }, { "gre", 47 }, { "esp", 50 }, { "ah", 51 }, { "skip", 57 },
    { "ipv6-icmp", 58 }, { "icmpv6", 58 }, { "ipv6-nonxt", 59 }, { "ipv6-opts", 60 },
    { "rspf", 73 }, { "vmtp", 81 }, { "eigrp", 88 }, { "ospf", 89 }, { "ospfigp", 89 },
    { "ax.25", 93 }, { "ipip", 94 }, { "etherip", 97 }, { "encap", 98 }, { "pim", 103 },
    { "ipcomp", 108 }, { "vrrp", 112 }, { "l2tp", 115 }, { "isis", 124 }, { "sctp", 132 },
    { "fc", 133 }, { "udplite", 136 }, { "mpls-in-ip", 137 }, { "manet", 138 },
    { "hip", 139 }, { "shim6", 140 }, { "wesp", 141 }, { "rohc", 142 }, { NULL, 0 },
};

static int ip_proto_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                          size_t errlen)
{
    (void)ps;
    return cmp_setup(s, SM_IP_PROTO, "ip_proto", v, 255, ip_proto_names, err, errlen);
}

static int sameip_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                        size_t errlen)
{
    (void)ps;
    (void)v;
    return add_sm(s, SM_SAMEIP, NULL, err, errlen);
}

/* Reads "[modifier]letters[modifier][,mask]" for flags and fragbits. */
static int bits_parse(const char *kw, const char *value, const char *letters,
                      const uint16_t *values, bool zero_ok, struct bits_ctx *c, char *err,
                      size_t errlen)
{
    char buf[64];
    memset(c, 0, sizeof *c);
    if (!kw_trim(value, buf, sizeof buf) || buf[0] == '\0')
        goto bad;
    char *mask = strchr(buf, ',');
    if (mask != NULL)
        *mask++ = '\0';
    bool have_mod = false, zero = false;
    for (char *p = buf; *p; p++) {
        if (isspace((unsigned char)*p))
            continue;
        const char *hit = strchr(letters, toupper((unsigned char)*p));
        if (*p == '+' || *p == '*' || *p == '!') {
            if (have_mod)
                goto bad;
            have_mod = true;
            c->mod = *p == '+' ? BITS_ALL : *p == '*' ? BITS_ANY : BITS_NOT;
        } else if (zero_ok && *p == '0') {
            zero = true;
        } else if (hit != NULL && *p != '\0') {
            uint16_t bit = values[hit - letters];
            if (c->bits & bit)
                goto bad;
            c->bits |= bit;
        } else {
            goto bad;
        }
    }
    if (zero ? c->bits != 0 || have_mod : c->bits == 0)
        goto bad;
    if (mask != NULL) {
        if (!zero_ok)
            goto bad;
        bool any = false;
        for (char *p = mask; *p; p++) {
            if (isspace((unsigned char)*p))
                continue;
            const char *hit = strchr(letters, toupper((unsigned char)*p));
            if (hit == NULL || *p == '\0')
                goto bad;
            c->ignore |= values[hit - letters];
            any = true;
        }
        if (!any)
            goto bad;
    }
    return 0;
bad:
    snprintf(err, errlen, "invalid %s value '%s'", kw, value ? value : "");
    return -1;
}

/* TCP flag letters; 1 and 2 are the old names of CWR and ECE. */
static const char tcp_letters[] = "FSRPAUCE12";
static const uint16_t tcp_values[] = { TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK,
                                       TCP_URG, TCP_CWR, TCP_ECE, TCP_CWR, TCP_ECE };

static int flags_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                       size_t errlen)
{
    (void)ps;
    struct bits_ctx *c = malloc(sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (bits_parse("flags", v, tcp_letters, tcp_values, true, c, err, errlen) < 0) {
        free(c);
        return -1;
    }
    return add_sm(s, SM_FLAGS, c, err, errlen);
}

#define FRAG_RB 0x8000u
#define FRAG_DF 0x4000u
#define FRAG_MF 0x2000u
static const char frag_letters[] = "RDM";
static const uint16_t frag_values[] = { FRAG_RB, FRAG_DF, FRAG_MF };

static int fragbits_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                          size_t errlen)
{
    (void)ps;
    struct bits_ctx *c = malloc(sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (bits_parse("fragbits", v, frag_letters, frag_values, false, c, err, errlen) < 0) {
        free(c);
        return -1;
    }
    return add_sm(s, SM_FRAGBITS, c, err, errlen);
}

/* IPv4 option numbers; "any" matches a header with any option. */
#define IPOPT_ANY 0x100u
static const struct kw_name ipopt_names[] = {
    { "eol", 0 }, { "nop", 1 }, { "rr", 7 }, { "ts", 68 }, { "sec", 130 }, { "lsrr", 131 },
    { "esec", 133 }, { "satid", 136 }, { "ssrr", 137 }, { "any", IPOPT_ANY }, { NULL, 0 },
};

static int ipopts_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                        size_t errlen)
{
    (void)ps;
    char buf[32];
    if (kw_trim(v, buf, sizeof buf)) {
        for (const struct kw_name *n = ipopt_names; n->name; n++) {
            if (strcasecmp(n->name, buf) == 0) {
                struct kw_cmp *c = calloc(1, sizeof *c);
                if (c == NULL) {
                    snprintf(err, errlen, "out of memory");
                    return -1;
                }
                c->a = n->value;
                return add_sm(s, SM_IPOPTS, c, err, errlen);
            }
        }
    }
    snprintf(err, errlen, "invalid ipopts value '%s'", v ? v : "");
    return -1;
}

const struct keyword kw_header_table[] = {
    { "dsize", KW_VALUE, dsize_setup, "payload size: N, <N, >N, N<>M, !N" },
    { "flags", KW_VALUE, flags_setup, "TCP flags: [+*!]FSRPAUCE0[,mask]" },
    { "ttl", KW_VALUE, ttl_setup, "IP time to live (hop limit)" },
    { "itype", KW_VALUE, itype_setup, "ICMP type" },
    { "icode", KW_VALUE, icode_setup, "ICMP code" },
    { "icmp_id", KW_VALUE, icmp_id_setup, "ICMP echo/timestamp/info identifier" },
    { "icmp_seq", KW_VALUE, icmp_seq_setup, "ICMP echo/timestamp/info sequence number" },
    { "ip_proto", KW_VALUE, ip_proto_setup, "IP protocol number or name" },
    { "sameip", KW_NOVALUE, sameip_setup, "source and destination address are equal" },
    { "ipopts", KW_VALUE, ipopts_setup, "IPv4 option present: rr eol nop ts sec esec lsrr ssrr satid any" },
    { "fragbits", KW_VALUE, fragbits_setup, "IPv4 fragment bits: [+*!]MDR" },
    { "window", KW_VALUE, window_setup, "TCP window: [!]N" },
    { "seq", KW_VALUE, seq_setup, "TCP sequence number" },
    { "ack", KW_VALUE, ack_setup, "TCP acknowledgement number" },
    { NULL, 0, NULL, NULL },
};

/* ---- Matching -------------------------------------------------------------- */

static bool bits_match(const struct bits_ctx *c, uint16_t v)
{
    v &= (uint16_t)~c->ignore;
    switch (c->mod) {
    case BITS_EXACT: return v == c->bits;
    case BITS_ALL: return (v & c->bits) == c->bits;
    case BITS_ANY: return (v & c->bits) != 0;
    case BITS_NOT: return (v & c->bits) != c->bits;
    }
    return false;
}

static bool is_tcp(const struct packet *p)
{
    return p->proto == 6 && (p->flags & PKT_HAS_PORTS);
}

static bool is_icmp(const struct packet *p)
{
    return (p->proto == 1 || p->proto == 58) && p->l4_len >= 4;
}

/* Whether the ICMP type carries an identifier and sequence number. */
static bool icmp_has_id(const struct packet *p)
{
    uint8_t t = p->icmp.type;
    if (p->proto == 58)
        return t == 128 || t == 129;
    return t == 0 || t == 8 || (t >= 13 && t <= 18);
}

/*
 * IPv4 header, as far as the options:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * |         Identification        |Flags|      Fragment Offset    |
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * |                 Source and Destination Address                |
 * |                    Options (IHL > 5)          |    Padding    |
 */
static bool ipv4_header(const struct packet *p, struct cursor *c)
{
    if (p->ip_ver != 4 || p->l3_off >= p->caplen)
        return false;
    *c = cursor_make(p->data + p->l3_off, p->caplen - p->l3_off);
    return cursor_has(c, 20);
}

static bool ipopts_match(const struct packet *p, uint32_t want)
{
    struct cursor c;
    if (!ipv4_header(p, &c))
        return false;
    size_t ihl = (size_t)(cursor_u8(&c) & 0x0f) * 4;
    if (ihl <= 20)
        return false;
    if (want == IPOPT_ANY)
        return true;
    cursor_skip(&c, 19);
    struct cursor o = cursor_sub(&c, ihl - 20);
    while (cursor_remaining(&o) > 0) {
        uint8_t type = cursor_u8(&o);
        if (type == want)
            return true;
        if (type == 0)
            break;
        if (type == 1)
            continue;
        uint8_t len = cursor_u8(&o);
        if (o.failed || len < 2 || !cursor_skip(&o, len - 2u))
            break;
    }
    return false;
}

static bool fragbits_value(const struct packet *p, uint16_t *v)
{
    struct cursor c;
    if (!ipv4_header(p, &c))
        return false;
    cursor_skip(&c, 6);
    *v = cursor_u16be(&c) & (FRAG_RB | FRAG_DF | FRAG_MF);
    return !c.failed;
}

static bool same_ip(const struct packet *p)
{
    size_t n = p->ip_ver == 4 ? 4 : p->ip_ver == 6 ? 16 : 0;
    return n && memcmp(p->src.b, p->dst.b, n) == 0;
}

bool kw_header_match(const struct sm *m, const struct packet *p)
{
    const struct kw_cmp *c = m->ctx;
    switch (m->type) {
    case SM_DSIZE: return kw_cmp_match(c, p->payload_len);
    case SM_TTL: return p->ip_ver && kw_cmp_match(c, p->ttl);
    case SM_IP_PROTO: return p->ip_ver && kw_cmp_match(c, p->proto);
    case SM_ITYPE: return is_icmp(p) && kw_cmp_match(c, p->icmp.type);
    case SM_ICODE: return is_icmp(p) && kw_cmp_match(c, p->icmp.code);
    case SM_ICMP_ID: return is_icmp(p) && icmp_has_id(p) && kw_cmp_match(c, p->icmp.id);
    case SM_ICMP_SEQ: return is_icmp(p) && icmp_has_id(p) && kw_cmp_match(c, p->icmp.seq);
    case SM_WINDOW: return is_tcp(p) && kw_cmp_match(c, p->tcp.win);
    case SM_SEQ: return is_tcp(p) && kw_cmp_match(c, p->tcp.seq);
    case SM_ACK: return is_tcp(p) && kw_cmp_match(c, p->tcp.ack);
    case SM_FLAGS: return is_tcp(p) && bits_match(m->ctx, p->tcp.flags);
    case SM_SAMEIP: return same_ip(p);
    case SM_IPOPTS: return ipopts_match(p, (uint32_t)c->a);
    case SM_FRAGBITS: {
        uint16_t v;
        return fragbits_value(p, &v) && bits_match(m->ctx, v);
    }
    default: return false;
    }
}
