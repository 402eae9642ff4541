/*
 * App-layer state keywords: tls.version, ssl_version, ssl_state,
 * dns.opcode, dns.rcode, dns.rrtype.
 *
 * They bind the signature to its app protocol and match the transaction
 * being inspected (detect_tx): the TLS session, or one DNS message.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/applayer.h"
#include "app/tls.h"
#include "detect/kw_runtime.h"

/* ssl_version and ssl_state: a bitmask of wanted values and of negated ones. */
struct mask_ctx {
    uint32_t want, negated;
};

static int oom(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* Binds s to proto; a rule already bound to another app protocol is an error. */
static int bind_proto(struct sig *s, int proto, const char *kw, char *err, size_t errlen)
{
    if (s->app_proto != APP_NONE && s->app_proto != proto) {
        snprintf(err, errlen, "%s does not apply to the rule's protocol", kw);
        return -1;
    }
    s->app_proto = (uint8_t)proto;
    return 0;
}

static int add_sm(struct sig *s, int type, void *ctx, char *err, size_t errlen)
{
    struct sm *m = sm_new(type, ctx);
    if (m == NULL) {
        free(ctx);
        return oom(err, errlen);
    }
    sm_append(&s->pkt, m);
    return 0;
}

static int cmp_keyword(struct sig *s, int type, int proto, const char *kw, const char *v,
                       uint64_t max, const struct kw_name *names, char *err, size_t errlen)
{
    struct kw_cmp *c = malloc(sizeof *c);
    if (c == NULL)
        return oom(err, errlen);
    if (kw_parse_cmp(kw, v, max, names, c, err, errlen) < 0 ||
        bind_proto(s, proto, kw, err, errlen) < 0) {
        free(c);
        return -1;
    }
    return add_sm(s, type, c, err, errlen);
}

/* tls.version: 1.0 1.1 1.2 1.3 sslv3, or the record version in hex (0x0303). */
static const struct kw_name tls_versions[] = {
    { "sslv3", 0x0300 }, { "1.0", 0x0301 }, { "1.1", 0x0302 }, { "1.2", 0x0303 },
    { "1.3", 0x0304 }, { NULL, 0 },
};

static int tls_version_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                             size_t errlen)
{
    (void)ps;
    char buf[32];
    if (kw_trim(v, buf, sizeof buf) && strchr(buf, '<') == NULL && strchr(buf, '>') == NULL &&
        strchr(buf, '!') == NULL)
        return cmp_keyword(s, SM_TLS_VERSION, APP_TLS, "tls.version", buf, 0xffff, tls_versions,
                           err, errlen);
    snprintf(err, errlen, "invalid tls.version value '%s'", v ? v : "");
    return -1;
}

/* Parses "a<sep>b<sep>!c" against names; each bit is the name's index. */
static int mask_parse(const char *kw, const char *v, char sep, const char *const *names,
                      unsigned nnames, struct mask_ctx *c, char *err, size_t errlen)
{
    char buf[256];
    memset(c, 0, sizeof *c);
    if (!kw_trim(v, buf, sizeof buf) || buf[0] == '\0')
        goto bad;
    for (char *rest = buf, *item; rest != NULL;) {
        rest = kw_split(rest, sep, &item);
        bool neg = item[0] == '!';
        if (neg)
            item = kw_strip(item + 1);
        unsigned i = 0;
        while (i < nnames && strcasecmp(names[i], item) != 0)
            i++;
        if (i == nnames || (c->want >> i & 1))
            goto bad;
        c->want |= 1u << i;
        if (neg)
            c->negated |= 1u << i;
    }
    return 0;
bad:
    snprintf(err, errlen, "invalid %s value '%s'", kw, v ? v : "");
    return -1;
}

static int mask_keyword(struct sig *s, int type, const char *kw, const char *v, char sep,
                        const char *const *names, unsigned nnames, char *err, size_t errlen)
{
    struct mask_ctx *c = malloc(sizeof *c);
    if (c == NULL)
        return oom(err, errlen);
    if (mask_parse(kw, v, sep, names, nnames, c, err, errlen) < 0 ||
        bind_proto(s, APP_TLS, kw, err, errlen) < 0) {
        free(c);
        return -1;
    }
    return add_sm(s, type, c, err, errlen);
}

static const char *const ssl_versions[] = { "sslv2", "sslv3", "tls1.0", "tls1.1", "tls1.2",
                                            "tls1.3" };

static int ssl_version_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                             size_t errlen)
{
    (void)ps;
    return mask_keyword(s, SM_SSL_VERSION, "ssl_version", v, ',', ssl_versions, 6, err, errlen);
}

static const char *const ssl_states[] = { "client_hello", "server_hello", "client_keyx",
                                          "server_keyx", "unknown" };

static int ssl_state_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                           size_t errlen)
{
    (void)ps;
    return mask_keyword(s, SM_SSL_STATE, "ssl_state", v, '|', ssl_states, 5, err, errlen);
}

static const struct kw_name dns_opcodes[] = {
    { "query", 0 }, { "iquery", 1 }, { "status", 2 }, { "notify", 4 }, { "update", 5 },
    { NULL, 0 },
};

static const struct kw_name dns_rcodes[] = {
    { "noerror", 0 }, { "formerr", 1 }, { "servfail", 2 }, { "nxdomain", 3 },
    { "notimp", 4 }, { "refused", 5 }, { "yxdomain", 6 }, { "yxrrset", 7 },
    { "nxrrset", 8 }, { "notauth", 9 }, { "notzone", 10 }, { NULL, 0 },
};

static const struct kw_name dns_rrtypes[] = {
    { "a", 1 }, { "ns", 2 }, { "md", 3 }, { "mf", 4 }, { "cname", 5 }, { "soa", 6 },
    { "mb", 7 }, { "mg", 8 }, { "mr", 9 }, { "null", 10 }, { "wks", 11 }, { "ptr", 12 },
    { "hinfo", 13 }, { "minfo", 14 }, { "mx", 15 }, { "txt", 16 }, { "rp", 17 },
    { "afsdb", 18 }, { "x25", 19 }, { "isdn", 20 }, { "rt", 21 }, { "nsap", 22 },
    { "nsap-ptr", 23 }, { "sig", 24 }, { "key", 25 }, { "px", 26 }, { "gpos", 27 },
    { "aaaa", 28 }, { "loc", 29 }, { "nxt", 30 }, { "srv", 33 }, { "naptr", 35 },
    { "kx", 36 }, { "cert", 37 }, { "a6", 38 }, { "dname", 39 }, { "opt", 41 },
    { "apl", 42 }, { "ds", 43 }, { "sshfp", 44 }, { "ipseckey", 45 }, { "rrsig", 46 },
    { "nsec", 47 }, { "dnskey", 48 }, { "dhcid", 49 }, { "nsec3", 50 },
    { "nsec3param", 51 }, { "tlsa", 52 }, { "smimea", 53 }, { "hip", 55 }, { "cds", 59 },
    { "cdnskey", 60 }, { "openpgpkey", 61 }, { "csync", 62 }, { "zonemd", 63 },
    { "svcb", 64 }, { "https", 65 }, { "spf", 99 }, { "tkey", 249 }, { "tsig", 250 },
    { "ixfr", 251 }, { "axfr", 252 }, { "mailb", 253 }, { "maila", 254 }, { "any", 255 },
    { "uri", 256 }, { "caa", 257 }, { NULL, 0 },
};

static int dns_opcode_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                            size_t errlen)
{
    (void)ps;
    return cmp_keyword(s, SM_DNS_OPCODE, APP_DNS, "dns.opcode", v, 15, dns_opcodes, err, errlen);
}

static int dns_rcode_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                           size_t errlen)
{
    (void)ps;
    return cmp_keyword(s, SM_DNS_RCODE, APP_DNS, "dns.rcode", v, 4095, dns_rcodes, err, errlen);
}

static int dns_rrtype_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                            size_t errlen)
{
    (void)ps;
    return cmp_keyword(s, SM_DNS_RRTYPE, APP_DNS, "dns.rrtype", v, 65535, dns_rrtypes, err,
                       errlen);
}

const struct keyword kw_app_table[] = {
    { "tls.version", KW_VALUE, tls_version_setup, "TLS version: 1.0 1.1 1.2 1.3 sslv3 or hex" },
    { "ssl_version", KW_VALUE, ssl_version_setup, "sslv2 sslv3 tls1.0 .. tls1.3, ! and lists" },
    { "ssl_state", KW_VALUE, ssl_state_setup, "client_hello server_hello client_keyx server_keyx unknown" },
    { "dns.opcode", KW_VALUE, dns_opcode_setup, "DNS opcode, number or name" },
    { "dns.rcode", KW_VALUE, dns_rcode_setup, "DNS response code, number or name" },
    { "dns.rrtype", KW_VALUE, dns_rrtype_setup, "DNS record type, number or name" },
    { NULL, 0, NULL, NULL },
};

static bool mask_match(const struct mask_ctx *c, uint32_t have)
{
    if (c->negated & have)
        return false;
    uint32_t positive = c->want & ~c->negated;
    return positive == 0 || (positive & have) != 0;
}

static uint32_t ssl_version_bit(uint16_t v)
{
    switch (v) {
    case 0x0002: case 0x0200: return 1u << 0;
    case 0x0300: return 1u << 1;
    case 0x0301: return 1u << 2;
    case 0x0302: return 1u << 3;
    case 0x0303: return 1u << 4;
    case 0x0304: return 1u << 5;
    default: return 0;
    }
}

bool kw_app_match(const struct detect_thread *dt, const struct sm *m, const struct packet *p,
                  const struct flow *f)
{
    (void)p;
    (void)f;
    const struct app_tx *tx = dt ? dt->tx : NULL;
    if (tx == NULL)
        return false;
    unsigned opcode, rcode;
    switch (m->type) {
    case SM_TLS_VERSION: {
        uint16_t v = app_tx_tls_version(tx);
        return v != 0 && kw_cmp_match(m->ctx, v);
    }
    case SM_SSL_VERSION: {
        uint16_t v = app_tx_tls_version(tx);
        return v != 0 && mask_match(m->ctx, ssl_version_bit(v));
    }
    case SM_SSL_STATE: {
        unsigned pr = app_tx_tls_progress(tx);
        uint32_t have = ((pr & TLS_SEEN_CLIENT_HELLO) ? 1u << 0 : 0) |
                        ((pr & TLS_SEEN_SERVER_HELLO) ? 1u << 1 : 0) |
                        ((pr & TLS_HANDSHAKE_DONE) ? (1u << 2) | (1u << 3) : 0);
        return have != 0 && mask_match(m->ctx, have);
    }
    case SM_DNS_OPCODE:
        return app_tx_dns(tx, &opcode, &rcode) && kw_cmp_match(m->ctx, opcode);
    case SM_DNS_RCODE:
        return app_tx_dns(tx, &opcode, &rcode) && kw_cmp_match(m->ctx, rcode);
    case SM_DNS_RRTYPE: {
        const struct kw_cmp *c = m->ctx;
        if (c->op == CMP_EQ)
            return app_tx_dns_has_rrtype(tx, (uint16_t)c->a);
        /* other comparisons: any rrtype in the message that satisfies it */
        for (uint32_t t = 1; t < 260; t++)
            if (kw_cmp_match(c, t) && app_tx_dns_has_rrtype(tx, (uint16_t)t))
                return true;
        return false;
    }
    default:
        return false;
    }
}
