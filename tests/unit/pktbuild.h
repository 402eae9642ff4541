/*
 * Building packets in memory for tests.
 *
 * A packet is built outside-in: append each layer with its pb_*() call,
 * then the payload, then pb_close(). Closing walks the layers from the
 * innermost out and fills in everything left to it: next-protocol fields
 * (ethertype, IP protocol, next header, GRE protocol), lengths, and
 * checksums (with the pseudo header of the nearest enclosing IP layer).
 *
 *     struct pktbuf pb;
 *     pb_init(&pb);
 *     pb_eth(&pb, 0);
 *     pb_ipv4(&pb, &(struct pb_ipv4){ .src = "10.0.0.1", .dst = "10.0.0.2" });
 *     pb_tcp(&pb, &(struct pb_tcp){ .sp = 1234, .dp = 80, .flags = TCP_SYN });
 *     pb_put(&pb, "GET /", 5);
 *     pb_close(&pb);
 *     struct packet p;
 *     pkt_finish(&p, pb.b, pb.len, LINK_ETHERNET);
 *
 * Fields left zero take their automatic value. A non-zero number is used
 * as given; PB_NUM(v) forces v even when v is zero (an explicit zero
 * length, next header 0 = hop-by-hop...). bad_csum stores a wrong checksum.
 * Bytes appended after pb_close() (Ethernet padding) belong to no layer.
 */
#ifndef CARACAL_TESTS_PKTBUILD_H
#define CARACAL_TESTS_PKTBUILD_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

#define PB_SIZE 2048
#define PB_MAX_LAYERS 16

#define PB_SET 0x1000000
#define PB_NUM(v) (PB_SET | ((v) & 0xffff))

enum pb_kind { PB_NONE, PB_ETH, PB_VLAN, PB_SLL, PB_SLL2, PB_NULL, PB_IPV4, PB_IPV6,
               PB_IP6_EXT, PB_TCP, PB_UDP, PB_ICMP4, PB_ICMP6, PB_GRE };

struct pb_layer {
    enum pb_kind kind;
    size_t off;
    uint16_t type;      /* VLAN: its TPID; IP6_EXT: its header type */
    bool auto_next;     /* fill the next-protocol field at close */
    bool auto_len;      /* fill the length field at close */
    bool auto_csum;     /* compute the checksum at close */
    bool bad_csum;
    bool big_endian;    /* NULL/LOOP family byte order */
};

struct pktbuf {
    uint8_t b[PB_SIZE];
    size_t len;
    struct pb_layer layer[PB_MAX_LAYERS];
    unsigned nlayers;
};

static inline void pb_init(struct pktbuf *pb)
{
    memset(pb, 0, sizeof *pb);
}

/* Appends n bytes (zeros when d is NULL); returns their offset. */
static inline size_t pb_put(struct pktbuf *pb, const void *d, size_t n)
{
    size_t off = pb->len;
    if (off + n > PB_SIZE)
        abort(); /* a test bug, not a decoder one */
    if (d != NULL)
        memcpy(pb->b + off, d, n);
    else
        memset(pb->b + off, 0, n);
    pb->len += n;
    return off;
}

static inline void pb_set16(struct pktbuf *pb, size_t off, uint16_t v)
{
    pb->b[off] = (uint8_t)(v >> 8);
    pb->b[off + 1] = (uint8_t)v;
}

static inline void pb_set32(struct pktbuf *pb, size_t off, uint32_t v)
{
    pb_set16(pb, off, (uint16_t)(v >> 16));
    pb_set16(pb, off + 2, (uint16_t)v);
}

static inline size_t pb_u8(struct pktbuf *pb, uint8_t v)
{
    return pb_put(pb, &v, 1);
}

static inline size_t pb_u16(struct pktbuf *pb, uint16_t v)
{
    size_t off = pb_put(pb, NULL, 2);
    pb_set16(pb, off, v);
    return off;
}

static inline size_t pb_u32(struct pktbuf *pb, uint32_t v)
{
    size_t off = pb_put(pb, NULL, 4);
    pb_set32(pb, off, v);
    return off;
}

/* given: 0 = automatic, PB_NUM(v) or a plain non-zero v = explicit. */
static inline bool pb_given(int given)
{
    return given != 0;
}

static inline uint16_t pb_value(int given)
{
    return (uint16_t)(given & 0xffff);
}

static inline struct pb_layer *pb_push(struct pktbuf *pb, enum pb_kind kind, size_t off)
{
    if (pb->nlayers >= PB_MAX_LAYERS)
        abort();
    struct pb_layer *l = &pb->layer[pb->nlayers++];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->off = off;
    return l;
}

/* --- Internet checksum --------------------------------------------------- */

static inline uint32_t pb_sum(const uint8_t *d, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(d[i] << 8 | d[i + 1]);
    if (n & 1)
        sum += (uint32_t)d[n - 1] << 8;
    return sum;
}

static inline uint16_t pb_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* A value that fails verification whatever the right one was. */
static inline uint16_t pb_wrong(uint16_t good)
{
    return good == 0x1234 ? 0x4321 : 0x1234;
}

/* --- Link layers ----------------------------------------------------------- */

/* Ethernet II; type 0 = from the next layer. */
static inline size_t pb_eth(struct pktbuf *pb, uint16_t type)
{
    static const uint8_t macs[12] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                      0x00, 0x66, 0x77, 0x88, 0x99, 0xaa };
    size_t off = pb_put(pb, macs, sizeof macs);
    pb_u16(pb, type);
    pb_push(pb, PB_ETH, off)->auto_next = type == 0;
    return off;
}

/* An 802.1Q/802.1ad tag; tpid (0 = 0x8100) goes into the enclosing layer's
 * type field; type 0 = from the next layer. */
static inline size_t pb_vlan(struct pktbuf *pb, uint16_t tpid, uint16_t vid, uint16_t type)
{
    size_t off = pb_u16(pb, vid & 0x0fff);
    pb_u16(pb, type);
    struct pb_layer *l = pb_push(pb, PB_VLAN, off);
    l->auto_next = type == 0;
    l->type = tpid ? tpid : 0x8100;
    return off;
}

/* Linux cooked capture v1; proto 0 = from the next layer. */
static inline size_t pb_sll(struct pktbuf *pb, uint16_t proto)
{
    size_t off = pb_u16(pb, 0);     /* to us */
    pb_u16(pb, 1);                  /* ARPHRD_ETHER */
    pb_u16(pb, 6);
    static const uint8_t addr[8] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0 };
    pb_put(pb, addr, sizeof addr);
    pb_u16(pb, proto);
    pb_push(pb, PB_SLL, off)->auto_next = proto == 0;
    return off;
}

/* Linux cooked capture v2; proto 0 = from the next layer. */
static inline size_t pb_sll2(struct pktbuf *pb, uint16_t proto)
{
    size_t off = pb_u16(pb, proto);
    pb_u16(pb, 0);
    pb_u32(pb, 2);                  /* ifindex */
    pb_u16(pb, 1);                  /* ARPHRD_ETHER */
    pb_u8(pb, 0);
    pb_u8(pb, 6);
    static const uint8_t addr[8] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0 };
    pb_put(pb, addr, sizeof addr);
    pb_push(pb, PB_SLL2, off)->auto_next = proto == 0;
    return off;
}

/* BSD loopback header: family 0 = from the next layer (2 or 24); written
 * little-endian (LINKTYPE_NULL on x86) or big-endian (LINKTYPE_LOOP). */
static inline size_t pb_null(struct pktbuf *pb, uint32_t family, bool big_endian)
{
    size_t off = pb_put(pb, NULL, 4);
    struct pb_layer *l = pb_push(pb, PB_NULL, off);
    l->big_endian = big_endian;
    l->auto_next = family == 0;
    l->type = (uint16_t)family;
    return off;
}

/* --- IP -------------------------------------------------------------------- */

struct pb_ipv4 {
    const char *src, *dst;  /* NULL: 192.0.2.1 -> 192.0.2.2 */
    int proto;              /* 0: from the next layer */
    uint8_t ttl;            /* 0: 64 */
    uint8_t tos;
    uint16_t id;
    uint16_t frag;          /* flags and offset as on the wire (0x2000 = MF) */
    const uint8_t *opts;    /* padded with EOL to a multiple of 4 */
    size_t optlen;
    int version;            /* 0: 4 */
    int ihl;                /* in 32-bit words; 0: from the options */
    int tot_len;            /* 0: to the end of the buffer at close */
    bool bad_csum;
};

static inline void pb_addr(int af, const char *s, const char *def, void *out)
{
    if (inet_pton(af, s ? s : def, out) != 1)
        abort();
}

static inline size_t pb_ipv4(struct pktbuf *pb, const struct pb_ipv4 *s)
{
    size_t optpad = (s->optlen + 3) & ~(size_t)3;
    unsigned ihl = pb_given(s->ihl) ? pb_value(s->ihl) : (unsigned)(20 + optpad) / 4;
    unsigned ver = pb_given(s->version) ? pb_value(s->version) : 4;
    size_t off = pb_u8(pb, (uint8_t)(ver << 4 | (ihl & 0x0f)));
    pb_u8(pb, s->tos);
    pb_u16(pb, pb_value(s->tot_len));
    pb_u16(pb, s->id);
    pb_u16(pb, s->frag);
    pb_u8(pb, s->ttl ? s->ttl : 64);
    pb_u8(pb, (uint8_t)pb_value(s->proto));
    pb_u16(pb, 0);
    pb_addr(AF_INET, s->src, "192.0.2.1", pb_put(pb, NULL, 4) + pb->b);
    pb_addr(AF_INET, s->dst, "192.0.2.2", pb_put(pb, NULL, 4) + pb->b);
    size_t o = pb_put(pb, NULL, optpad);
    if (s->optlen)
        memcpy(pb->b + o, s->opts, s->optlen);
    struct pb_layer *l = pb_push(pb, PB_IPV4, off);
    l->auto_next = !pb_given(s->proto);
    l->auto_len = !pb_given(s->tot_len);
    l->auto_csum = true;
    l->bad_csum = s->bad_csum;
    return off;
}

struct pb_ipv6 {
    const char *src, *dst;  /* NULL: 2001:db8::1 -> 2001:db8::2 */
    int next;               /* 0: from the next layer */
    uint8_t hlim;           /* 0: 64 */
    uint32_t flow;
    int version;            /* 0: 6 */
    int plen;               /* 0: to the end of the buffer at close */
};

static inline size_t pb_ipv6(struct pktbuf *pb, const struct pb_ipv6 *s)
{
    unsigned ver = pb_given(s->version) ? pb_value(s->version) : 6;
    size_t off = pb_u32(pb, (uint32_t)ver << 28 | (s->flow & 0xfffff));
    pb_u16(pb, pb_value(s->plen));
    pb_u8(pb, (uint8_t)pb_value(s->next));
    pb_u8(pb, s->hlim ? s->hlim : 64);
    pb_addr(AF_INET6, s->src, "2001:db8::1", pb_put(pb, NULL, 16) + pb->b);
    pb_addr(AF_INET6, s->dst, "2001:db8::2", pb_put(pb, NULL, 16) + pb->b);
    struct pb_layer *l = pb_push(pb, PB_IPV6, off);
    l->auto_next = !pb_given(s->next);
    l->auto_len = !pb_given(s->plen);
    return off;
}

/*
 * An IPv6 extension header of the given type (0 hop-by-hop, 43 routing,
 * 60 destination options, 51 AH): the body is what follows the next-header
 * and length bytes, zero-padded (Pad1) to the header's unit. next 0 = from
 * the next layer.
 */
static inline size_t pb_ip6_ext(struct pktbuf *pb, uint8_t type, int next, const void *body,
                                size_t len)
{
    size_t unit = type == 51 ? 4 : 8;
    size_t total = (2 + len + unit - 1) / unit * unit;
    if (total < 8)
        total = 8;
    size_t off = pb_u8(pb, (uint8_t)pb_value(next));
    pb_u8(pb, (uint8_t)(type == 51 ? total / 4 - 2 : total / 8 - 1));
    size_t b = pb_put(pb, NULL, total - 2);
    if (len)
        memcpy(pb->b + b, body, len);
    struct pb_layer *l = pb_push(pb, PB_IP6_EXT, off);
    l->type = type;
    l->auto_next = !pb_given(next);
    return off;
}

/* The fragment header (44): offset in 8-byte units. */
static inline size_t pb_ip6_frag(struct pktbuf *pb, int next, uint16_t offset, bool more,
                                 uint32_t id)
{
    size_t off = pb_u8(pb, (uint8_t)pb_value(next));
    pb_u8(pb, 0);
    pb_u16(pb, (uint16_t)(offset << 3 | (more ? 1 : 0)));
    pb_u32(pb, id);
    struct pb_layer *l = pb_push(pb, PB_IP6_EXT, off);
    l->type = 44;
    l->auto_next = !pb_given(next);
    return off;
}

/* --- Transport ------------------------------------------------------------- */

struct pb_tcp {
    uint16_t sp, dp;
    uint32_t seq, ack;
    uint8_t flags;          /* TCP_SYN | TCP_ACK ... */
    uint16_t win;           /* 0: 65535 */
    uint16_t urp;
    const uint8_t *opts;    /* padded with EOL to a multiple of 4 */
    size_t optlen;
    int doff;               /* in 32-bit words; 0: from the options */
    bool bad_csum;
};

static inline size_t pb_tcp(struct pktbuf *pb, const struct pb_tcp *s)
{
    size_t optpad = (s->optlen + 3) & ~(size_t)3;
    unsigned doff = pb_given(s->doff) ? pb_value(s->doff) : (unsigned)(20 + optpad) / 4;
    size_t off = pb_u16(pb, s->sp);
    pb_u16(pb, s->dp);
    pb_u32(pb, s->seq);
    pb_u32(pb, s->ack);
    pb_u8(pb, (uint8_t)(doff << 4));
    pb_u8(pb, s->flags);
    pb_u16(pb, s->win ? s->win : 65535);
    pb_u16(pb, 0);
    pb_u16(pb, s->urp);
    size_t o = pb_put(pb, NULL, optpad);
    if (s->optlen)
        memcpy(pb->b + o, s->opts, s->optlen);
    struct pb_layer *l = pb_push(pb, PB_TCP, off);
    l->auto_csum = true;
    l->bad_csum = s->bad_csum;
    return off;
}

struct pb_udp {
    uint16_t sp, dp;
    int len;                /* 0: to the end of the buffer at close */
    bool bad_csum;
    bool no_csum;           /* leave the checksum zero */
};

static inline size_t pb_udp(struct pktbuf *pb, const struct pb_udp *s)
{
    size_t off = pb_u16(pb, s->sp);
    pb_u16(pb, s->dp);
    pb_u16(pb, pb_value(s->len));
    pb_u16(pb, 0);
    struct pb_layer *l = pb_push(pb, PB_UDP, off);
    l->auto_len = !pb_given(s->len);
    l->auto_csum = !s->no_csum;
    l->bad_csum = s->bad_csum;
    return off;
}

struct pb_icmp {
    uint8_t type, code;
    uint16_t id, seq;       /* or whatever the type keeps in these 4 bytes */
    bool bad_csum;
};

static inline size_t pb_icmp_common(struct pktbuf *pb, enum pb_kind kind, const struct pb_icmp *s)
{
    size_t off = pb_u8(pb, s->type);
    pb_u8(pb, s->code);
    pb_u16(pb, 0);
    pb_u16(pb, s->id);
    pb_u16(pb, s->seq);
    struct pb_layer *l = pb_push(pb, kind, off);
    l->auto_csum = true;
    l->bad_csum = s->bad_csum;
    return off;
}

static inline size_t pb_icmp4(struct pktbuf *pb, const struct pb_icmp *s)
{
    return pb_icmp_common(pb, PB_ICMP4, s);
}

static inline size_t pb_icmp6(struct pktbuf *pb, const struct pb_icmp *s)
{
    return pb_icmp_common(pb, PB_ICMP6, s);
}

/* --- GRE ------------------------------------------------------------------- */

#define PB_GRE_C 0x8000
#define PB_GRE_R 0x4000
#define PB_GRE_K 0x2000
#define PB_GRE_S 0x1000

struct pb_gre {
    uint16_t flags;         /* C R K S s Recur Flags Ver, as on the wire */
    int proto;              /* 0: from the next layer */
    uint32_t key, seq;      /* written when K / S are set */
    uint32_t ack;           /* version 1: written when the A bit (0x0080) is set */
    const uint8_t *routing; /* SRE bytes written when R is set */
    size_t routing_len;
};

static inline size_t pb_gre(struct pktbuf *pb, const struct pb_gre *s)
{
    size_t off = pb_u16(pb, s->flags);
    pb_u16(pb, pb_value(s->proto));
    if (s->flags & (PB_GRE_C | PB_GRE_R))
        pb_u32(pb, 0);      /* checksum and offset */
    if (s->flags & PB_GRE_K)
        pb_u32(pb, s->key);
    if (s->flags & PB_GRE_S)
        pb_u32(pb, s->seq);
    if ((s->flags & 7) == 1 && (s->flags & 0x0080))
        pb_u32(pb, s->ack);
    if ((s->flags & PB_GRE_R) && s->routing_len)
        pb_put(pb, s->routing, s->routing_len);
    struct pb_layer *l = pb_push(pb, PB_GRE, off);
    l->auto_next = !pb_given(s->proto);
    l->auto_csum = (s->flags & PB_GRE_C) != 0;
    return off;
}

/* --- Closing ---------------------------------------------------------------- */

static inline enum pb_kind pb_next_kind(const struct pktbuf *pb, unsigned i)
{
    return i + 1 < pb->nlayers ? pb->layer[i + 1].kind : PB_NONE;
}

static inline uint16_t pb_ethertype_of(const struct pktbuf *pb, unsigned i)
{
    switch (pb_next_kind(pb, i)) {
    case PB_IPV4: return 0x0800;
    case PB_IPV6: return 0x86dd;
    case PB_VLAN: return pb->layer[i + 1].type;
    case PB_ETH: return 0x6558;
    default: return 0x88b5; /* local experimental */
    }
}

static inline uint8_t pb_ipproto_of(const struct pktbuf *pb, unsigned i)
{
    switch (pb_next_kind(pb, i)) {
    case PB_IPV4: return 4;
    case PB_IPV6: return 41;
    case PB_IP6_EXT: return (uint8_t)pb->layer[i + 1].type;
    case PB_TCP: return 6;
    case PB_UDP: return 17;
    case PB_ICMP4: return 1;
    case PB_ICMP6: return 58;
    case PB_GRE: return 47;
    default: return 59; /* no next header */
    }
}

/* Pseudo-header sum of the nearest IP layer enclosing layer i. */
static inline uint32_t pb_pseudo(const struct pktbuf *pb, unsigned i, uint8_t proto, size_t len)
{
    while (i-- > 0) {
        const struct pb_layer *ip = &pb->layer[i];
        if (ip->kind == PB_IPV4) {
            uint32_t sum = pb_sum(pb->b + ip->off + 12, 8, 0);
            return sum + proto + (uint32_t)len;
        }
        if (ip->kind == PB_IPV6) {
            uint32_t sum = pb_sum(pb->b + ip->off + 8, 32, 0);
            return sum + proto + (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
        }
    }
    return 0;
}

static inline void pb_store_csum(struct pktbuf *pb, const struct pb_layer *l, size_t at,
                                 uint16_t good)
{
    pb_set16(pb, at, l->bad_csum ? pb_wrong(good) : good);
}

static inline void pb_close_layer(struct pktbuf *pb, unsigned i)
{
    struct pb_layer *l = &pb->layer[i];
    size_t off = l->off, len = pb->len - off;
    switch (l->kind) {
    case PB_ETH:
        if (l->auto_next)
            pb_set16(pb, off + 12, pb_ethertype_of(pb, i));
        break;
    case PB_VLAN:
        if (l->auto_next)
            pb_set16(pb, off + 2, pb_ethertype_of(pb, i));
        break;
    case PB_SLL:
        if (l->auto_next)
            pb_set16(pb, off + 14, pb_ethertype_of(pb, i));
        break;
    case PB_SLL2:
        if (l->auto_next)
            pb_set16(pb, off, pb_ethertype_of(pb, i));
        break;
    case PB_NULL: {
        uint32_t fam = l->type;
        if (l->auto_next)
            fam = pb_next_kind(pb, i) == PB_IPV6 ? 24 : 2;
        for (int k = 0; k < 4; k++)
            pb->b[off + k] = (uint8_t)(fam >> (l->big_endian ? 24 - 8 * k : 8 * k));
        break;
    }
    case PB_IPV4: {
        if (l->auto_next)
            pb->b[off + 9] = pb_ipproto_of(pb, i);
        if (l->auto_len)
            pb_set16(pb, off + 2, (uint16_t)len);
        size_t hlen = (pb->b[off] & 0x0f) * 4u;
        if (hlen > len)
            hlen = len;
        pb_set16(pb, off + 10, 0);
        pb_store_csum(pb, l, off + 10, pb_fold(pb_sum(pb->b + off, hlen, 0)));
        break;
    }
    case PB_IPV6:
        if (l->auto_next)
            pb->b[off + 6] = pb_ipproto_of(pb, i);
        if (l->auto_len)
            pb_set16(pb, off + 4, (uint16_t)(len - 40));
        break;
    case PB_IP6_EXT:
        if (l->auto_next)
            pb->b[off] = pb_ipproto_of(pb, i);
        break;
    case PB_TCP:
        pb_set16(pb, off + 16, 0);
        pb_store_csum(pb, l, off + 16,
                      pb_fold(pb_sum(pb->b + off, len, pb_pseudo(pb, i, 6, len))));
        break;
    case PB_UDP: {
        if (l->auto_len)
            pb_set16(pb, off + 4, (uint16_t)len);
        size_t ulen = (size_t)(pb->b[off + 4] << 8 | pb->b[off + 5]);
        size_t sumlen = ulen >= 8 && ulen < len ? ulen : len;
        pb_set16(pb, off + 6, 0);
        if (l->auto_csum || l->bad_csum) {
            uint16_t c = pb_fold(pb_sum(pb->b + off, sumlen, pb_pseudo(pb, i, 17, sumlen)));
            pb_store_csum(pb, l, off + 6, c ? c : 0xffff);
        }
        break;
    }
    case PB_ICMP4:
        pb_set16(pb, off + 2, 0);
        pb_store_csum(pb, l, off + 2, pb_fold(pb_sum(pb->b + off, len, 0)));
        break;
    case PB_ICMP6:
        pb_set16(pb, off + 2, 0);
        pb_store_csum(pb, l, off + 2,
                      pb_fold(pb_sum(pb->b + off, len, pb_pseudo(pb, i, 58, len))));
        break;
    case PB_GRE:
        if (l->auto_next)
            pb_set16(pb, off + 2, pb_ethertype_of(pb, i));
        if (l->auto_csum) {
            pb_set16(pb, off + 4, 0);
            pb_store_csum(pb, l, off + 4, pb_fold(pb_sum(pb->b + off, len, 0)));
        }
        break;
    case PB_NONE:
        break;
    }
}

/* Fills next-protocol fields, lengths and checksums, innermost layer first. */
static inline void pb_close(struct pktbuf *pb)
{
    for (unsigned i = pb->nlayers; i-- > 0;)
        pb_close_layer(pb, i);
}

/* --- Handing over to the decoder -------------------------------------------- */

/* Resets p and sets its capture fields for data[0..len) (caplen = wirelen). */
static inline void pkt_finish(struct packet *p, const uint8_t *data, size_t len, int linktype)
{
    memset(p, 0, sizeof *p);
    p->ts.tv_sec = 1714564800; /* 2024-05-01T12:00:00Z */
    p->ts.tv_usec = 123456;
    p->caplen = (uint32_t)len;
    p->wirelen = (uint32_t)len;
    p->linktype = linktype;
    p->data = data;
}

#endif
