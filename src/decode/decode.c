/* Link-layer dispatch, the event table and helpers shared by all layers. */
#include "decode/decode_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const char *const event_names[DECODE_EVENT_COUNT] = {
#define X(id, name) [DEV_##id] = name,
#include "decode/events.def"
#undef X
};

const char *decode_event_name(int ev)
{
    if (ev < 0 || ev >= DECODE_EVENT_COUNT)
        return "unknown";
    return event_names[ev];
}

int decode_event_lookup(const char *name)
{
    for (int i = 0; i < DECODE_EVENT_COUNT; i++)
        if (strcmp(event_names[i], name) == 0)
            return i;
    return -1;
}

void decode_set_event(struct decode_ctx *dc, struct packet *p, int ev)
{
    if (packet_has_event(p, ev)) /* once per packet, like the anomaly event */
        return;
    stats_inc(dc->stats, STAT_EVENT_BASE + ev);
    if (p->nevents < PKT_MAX_EVENTS)
        p->events[p->nevents++] = (uint16_t)ev;
}

bool decode_link_supported(int linktype)
{
    switch (linktype) {
    case LINK_NULL: case LINK_LOOP: case LINK_ETHERNET: case LINK_RAW:
    case LINK_IPV4: case LINK_IPV6: case LINK_SLL: case LINK_SLL2:
        return true;
    default:
        return false;
    }
}

/*
 * Linux cooked capture v1 (16 bytes):
 *  +---------+---------+---------+------------------+----------+
 *  | pkttype | ARPHRD  | addrlen | address (8)      | protocol |
 *  +---------+---------+---------+------------------+----------+
 */
static bool decode_sll(struct decode_ctx *dc, struct packet *p, uint32_t len)
{
    decode_count(dc, STAT_DECODER_SLL);
    struct cursor c = decode_cursor(p, 0, len);
    cursor_skip(&c, 14);
    uint16_t proto = cursor_u16be(&c);
    if (c.failed) {
        decode_set_event(dc, p, DEV_SLL_PKT_TOO_SMALL);
        return false;
    }
    return decode_ethertype(dc, p, proto, 16, len - 16, 0);
}

/*
 * Linux cooked capture v2 (20 bytes):
 *  | protocol (2) | reserved (2) | ifindex (4) | ARPHRD (2) | pkttype | addrlen | address (8) |
 */
static bool decode_sll2(struct decode_ctx *dc, struct packet *p, uint32_t len)
{
    decode_count(dc, STAT_DECODER_SLL2);
    struct cursor c = decode_cursor(p, 0, len);
    uint16_t proto = cursor_u16be(&c);
    cursor_skip(&c, 18);
    if (c.failed) {
        decode_set_event(dc, p, DEV_SLL2_PKT_TOO_SMALL);
        return false;
    }
    return decode_ethertype(dc, p, proto, 20, len - 20, 0);
}

/* BSD loopback: a 4-byte address family, host order (NULL) or network order (LOOP). */
static bool decode_null(struct decode_ctx *dc, struct packet *p, uint32_t len)
{
    decode_count(dc, STAT_DECODER_NULL);
    struct cursor c = decode_cursor(p, 0, len);
    uint32_t fam = p->linktype == LINK_LOOP ? cursor_u32be(&c) : cursor_u32le(&c);
    if (c.failed) {
        decode_set_event(dc, p, DEV_LTNULL_PKT_TOO_SMALL);
        return false;
    }
    if (fam > 0xffff) /* written on a host of the other byte order */
        fam = __builtin_bswap32(fam);
    switch (fam) {
    case 2:
        return decode_ipv4(dc, p, 4, len - 4, 0);
    case 10: case 24: case 28: case 30:
        return decode_ipv6(dc, p, 4, len - 4, 0);
    default:
        decode_set_event(dc, p, DEV_LTNULL_UNSUPPORTED_TYPE);
        return false;
    }
}

static bool decode_raw(struct decode_ctx *dc, struct packet *p, uint32_t len)
{
    decode_count(dc, STAT_DECODER_RAW);
    if (len < 1) {
        decode_set_event(dc, p, DEV_IPRAW_INVALID_IP_VERSION);
        return false;
    }
    switch (p->data[0] >> 4) {
    case 4:
        return decode_ipv4(dc, p, 0, len, 0);
    case 6:
        return decode_ipv6(dc, p, 0, len, 0);
    default:
        decode_set_event(dc, p, DEV_IPRAW_INVALID_IP_VERSION);
        return false;
    }
}

static void decode_any(struct decode_ctx *dc, struct packet *p, bool pseudo);

void decode_packet(struct decode_ctx *dc, struct packet *p)
{
    decode_any(dc, p, false);
}

void decode_pseudo_packet(struct decode_ctx *dc, struct packet *p)
{
    decode_any(dc, p, true);
}

static void decode_any(struct decode_ctx *dc, struct packet *p, bool pseudo)
{
    p->flags = 0;
    p->ip_ver = 0;
    p->proto = 0;
    p->ttl = 0;
    p->vlan_cnt = 0;
    memset(p->vlan, 0, sizeof p->vlan);
    memset(&p->tcp, 0, sizeof p->tcp);
    memset(&p->icmp, 0, sizeof p->icmp);
    p->nevents = 0;
    p->sp = p->dp = 0;
    p->l3_off = p->l3_len = p->l4_off = p->l4_len = 0;
    p->payload_off = p->payload_len = 0;
    memset(&p->src, 0, sizeof p->src);
    memset(&p->dst, 0, sizeof p->dst);

    if (pseudo) {
        p->flags = PKT_PSEUDO;
    } else {
        stats_inc(dc->stats, STAT_DECODER_PKTS);
        stats_add(dc->stats, STAT_DECODER_BYTES, p->caplen);
        stats_max(dc->stats, STAT_DECODER_MAX_PKT_SIZE, p->caplen);
    }

    bool ok;
    uint32_t len = p->caplen;
    switch (p->linktype) {
    case LINK_ETHERNET:
        ok = decode_ethernet(dc, p, 0, len, 0);
        break;
    case LINK_RAW:
        ok = decode_raw(dc, p, len);
        break;
    case LINK_IPV4:
        decode_count(dc, STAT_DECODER_RAW);
        ok = decode_ipv4(dc, p, 0, len, 0);
        break;
    case LINK_IPV6:
        decode_count(dc, STAT_DECODER_RAW);
        ok = decode_ipv6(dc, p, 0, len, 0);
        break;
    case LINK_SLL:
        ok = decode_sll(dc, p, len);
        break;
    case LINK_SLL2:
        ok = decode_sll2(dc, p, len);
        break;
    case LINK_NULL:
    case LINK_LOOP:
        ok = decode_null(dc, p, len);
        break;
    default:
        ok = false;
        break;
    }
    if (!ok || (p->flags & PKT_INVALID)) {
        p->flags |= PKT_INVALID;
        stats_inc(dc->stats, STAT_DECODER_INVALID);
    }
}

uint32_t csum_partial(const uint8_t *data, uint32_t len, uint32_t sum)
{
    uint64_t s = sum;
    while (len >= 2) {
        s += (uint32_t)(data[0] << 8 | data[1]);
        data += 2;
        len -= 2;
    }
    if (len)
        s += (uint32_t)data[0] << 8;
    while (s >> 32)
        s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}

uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint32_t csum_pseudo(const struct packet *p, uint8_t proto, uint32_t l4len)
{
    uint32_t sum = 0;
    if (p->ip_ver == 4) {
        sum = csum_partial(p->src.b, 4, sum);
        sum = csum_partial(p->dst.b, 4, sum);
    } else {
        sum = csum_partial(p->src.b, 16, sum);
        sum = csum_partial(p->dst.b, 16, sum);
        sum += l4len >> 16;
    }
    sum += proto;
    sum += l4len & 0xffff;
    return sum;
}

void decode_addr_str(int ip_ver, const struct ip_addr *a, char *buf, unsigned len)
{
    if (ip_ver == 6)
        inet_ntop(AF_INET6, a->b, buf, len);
    else
        inet_ntop(AF_INET, a->b, buf, len);
}
