/* IPv4 (RFC 791): header, options, checksum, fragments, tunnels. */
#include "decode/decode_int.h"

#include <string.h>

#define IPV4_HDR_LEN 20

/*
 *   0                   1                   2                   3
 *  |Version|  IHL  |Type of Service|          Total Length         |
 *  |         Identification        |Flags|      Fragment Offset    |
 *  |  Time to Live |    Protocol   |         Header Checksum       |
 *  |                       Source Address                          |
 *  |                    Destination Address                        |
 *  |                    Options                    |    Padding    |
 */

enum { OPT_EOL = 0, OPT_NOP = 1, OPT_RR = 7, OPT_QS = 25, OPT_TS = 68, OPT_SEC = 130,
       OPT_LSRR = 131, OPT_ESEC = 133, OPT_CIPSO = 134, OPT_SID = 136, OPT_SSRR = 137,
       OPT_RTRALT = 148 };

static int option_slot(uint8_t type)
{
    switch (type) {
    case OPT_RR: return 0;
    case OPT_QS: return 1;
    case OPT_TS: return 2;
    case OPT_SEC: return 3;
    case OPT_LSRR: return 4;
    case OPT_ESEC: return 5;
    case OPT_CIPSO: return 6;
    case OPT_SID: return 7;
    case OPT_SSRR: return 8;
    case OPT_RTRALT: return 9;
    default: return -1;
    }
}

static void decode_ipv4_options(struct decode_ctx *dc, struct packet *p, struct cursor c)
{
    bool seen[10] = { false };
    while (cursor_remaining(&c) > 0) {
        uint8_t type = cursor_u8(&c);
        if (type == OPT_EOL)
            return;
        if (type == OPT_NOP)
            continue;
        if (cursor_remaining(&c) < 1) {
            decode_set_event(dc, p, DEV_IPV4_OPT_INVALID_LEN);
            return;
        }
        uint8_t olen = cursor_u8(&c);
        if (olen < 2 || (size_t)olen - 2 > cursor_remaining(&c)) {
            decode_set_event(dc, p, DEV_IPV4_OPT_INVALID_LEN);
            return;
        }
        struct cursor body = cursor_sub(&c, (size_t)olen - 2);
        int slot = option_slot(type);
        if (slot < 0) {
            decode_set_event(dc, p, DEV_IPV4_OPT_UNKNOWN);
            continue;
        }
        if (seen[slot]) {
            decode_set_event(dc, p, DEV_IPV4_OPT_DUPLICATE);
            continue;
        }
        seen[slot] = true;
        switch (type) {
        case OPT_RR: case OPT_LSRR: case OPT_SSRR: {
            /* pointer, then a list of 4-byte addresses */
            uint8_t ptr = cursor_u8(&body);
            if (olen < 3 || (olen - 3) % 4 != 0 || ptr < 4 || ptr > olen + 1)
                decode_set_event(dc, p, DEV_IPV4_OPT_MALFORMED);
            break;
        }
        case OPT_TS: {
            uint8_t ptr = cursor_u8(&body);
            if (olen < 4 || ptr < 5)
                decode_set_event(dc, p, DEV_IPV4_OPT_MALFORMED);
            break;
        }
        case OPT_RTRALT:
            if (olen != 4)
                decode_set_event(dc, p, DEV_IPV4_OPT_INVALID_LEN);
            break;
        case OPT_SID:
            if (olen != 4)
                decode_set_event(dc, p, DEV_IPV4_OPT_INVALID_LEN);
            break;
        default:
            break;
        }
    }
}

bool decode_ip_tunnel(struct decode_ctx *dc, struct packet *p, int inner_ver, uint32_t off,
                      uint32_t len, unsigned depth)
{
    if (depth + 1 > dc->cfg.max_layers) {
        decode_count(dc, STAT_DECODER_TOO_MANY_LAYERS);
        decode_set_event(dc, p, DEV_DECODER_TOO_MANY_LAYERS);
        return false;
    }
    p->flags |= PKT_TUNNELED;
    p->flags &= ~(PKT_HAS_TUPLE | PKT_HAS_PORTS | PKT_FRAGMENT | PKT_L4_CSUM_BAD);
    p->sp = p->dp = 0;
    if (inner_ver == 4)
        return decode_ipv4(dc, p, off, len, depth + 1);
    return decode_ipv6(dc, p, off, len, depth + 1);
}

bool decode_ipv4(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len,
                 unsigned depth)
{
    decode_count(dc, STAT_DECODER_IPV4);
    struct cursor c = decode_cursor(p, off, len);
    if (!cursor_has(&c, IPV4_HDR_LEN)) {
        decode_set_event(dc, p, DEV_IPV4_PKT_TOO_SMALL);
        return false;
    }
    uint8_t vihl = cursor_u8(&c);
    if (vihl >> 4 != 4) {
        decode_set_event(dc, p, DEV_IPV4_WRONG_IP_VERSION);
        return false;
    }
    uint32_t hlen = (vihl & 0x0f) * 4u;
    cursor_skip(&c, 1);
    uint32_t tot_len = cursor_u16be(&c);
    cursor_skip(&c, 2); /* id */
    uint16_t frag = cursor_u16be(&c);
    uint8_t ttl = cursor_u8(&c);
    uint8_t proto = cursor_u8(&c);
    cursor_skip(&c, 2); /* checksum */
    if (hlen < IPV4_HDR_LEN) {
        decode_set_event(dc, p, DEV_IPV4_HLEN_TOO_SMALL);
        return false;
    }
    if (tot_len < hlen) {
        decode_set_event(dc, p, DEV_IPV4_IPLEN_SMALLER_THAN_HLEN);
        return false;
    }
    /* A capture cut by its snaplen is not a malformation: decode what is there. */
    bool snapped = p->caplen < p->wirelen;
    if (hlen > len) {
        if (!snapped)
            decode_set_event(dc, p, DEV_IPV4_TRUNC_PKT);
        return false;
    }
    if (tot_len > len && !snapped) {
        decode_set_event(dc, p, DEV_IPV4_TRUNC_PKT);
        return false;
    }
    uint32_t avail = tot_len < len ? tot_len : len;

    p->ip_ver = 4;
    p->proto = proto;
    p->ttl = ttl;
    memset(&p->src, 0, sizeof p->src);
    memset(&p->dst, 0, sizeof p->dst);
    memcpy(p->src.b, p->data + off + 12, 4);
    memcpy(p->dst.b, p->data + off + 16, 4);
    p->flags |= PKT_HAS_TUPLE;
    p->l3_off = off;
    p->l3_len = avail;

    if (hlen > IPV4_HDR_LEN)
        decode_ipv4_options(dc, p, cursor_make(p->data + off + IPV4_HDR_LEN, hlen - IPV4_HDR_LEN));

    if (dc->cfg.checksum_validation &&
        csum_fold(csum_partial(p->data + off, hlen, 0)) != 0) {
        p->flags |= PKT_IPV4_CSUM_BAD;
        stats_inc(dc->stats, STAT_CHECKSUM_IPV4_INVALID);
    }

    uint16_t frag_off = frag & 0x1fff;
    bool more_frags = frag & 0x2000;
    if (frag_off != 0 || more_frags)
        p->flags |= PKT_FRAGMENT;
    if (frag_off != 0)
        return true; /* no transport header in a later fragment */

    uint32_t l4off = off + hlen, l4len = avail - hlen;
    switch (proto) {
    case 6:
        return decode_tcp(dc, p, l4off, l4len);
    case 17:
        return decode_udp(dc, p, l4off, l4len);
    case 1:
        return decode_icmpv4(dc, p, l4off, l4len);
    case 47:
        return decode_gre(dc, p, l4off, l4len, depth);
    case 4:
        decode_count(dc, STAT_DECODER_IPV4_IN_IPV4);
        return p->flags & PKT_FRAGMENT ? true : decode_ip_tunnel(dc, p, 4, l4off, l4len, depth);
    case 41:
        decode_count(dc, STAT_DECODER_IPV6_IN_IPV4);
        return p->flags & PKT_FRAGMENT ? true : decode_ip_tunnel(dc, p, 6, l4off, l4len, depth);
    case 58:
        decode_set_event(dc, p, DEV_IPV4_ICMPV6);
        return true;
    default:
        p->l4_off = l4off;
        p->l4_len = l4len;
        return true;
    }
}
