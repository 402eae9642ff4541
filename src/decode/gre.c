/* GRE (RFC 2784/2890, and the version 1 form used by PPTP, RFC 2637). */
#include "decode/decode_int.h"

#define GRE_CSUM 0x8000
#define GRE_ROUTE 0x4000
#define GRE_KEY 0x2000
#define GRE_SEQ 0x1000
#define GRE_SSR 0x0800
#define GRE_RECUR 0x0700
#define GRE_ACK 0x0080
#define GRE_FLAGS_V0 0x00f8
#define GRE_FLAGS_V1 0x0078

/*
 *  |C|R|K|S|s|Recur|  Flags  | Ver |         Protocol Type         |
 *  |      Checksum (optional)      |       Offset (optional)       |
 *  |                         Key (optional)                        |
 *  |                 Sequence Number (optional)                    |
 *  |                         Routing (optional)                    |
 */
bool decode_gre(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len,
                unsigned depth)
{
    decode_count(dc, STAT_DECODER_GRE);
    struct cursor c = decode_cursor(p, off, len);
    uint16_t flags = cursor_u16be(&c);
    uint16_t proto = cursor_u16be(&c);
    if (c.failed) {
        decode_set_event(dc, p, DEV_GRE_PKT_TOO_SMALL);
        return false;
    }
    unsigned ver = flags & 0x7;
    if (ver == 0) {
        if (flags & GRE_RECUR)
            decode_set_event(dc, p, DEV_GRE_VERSION0_RECUR);
        if (flags & GRE_FLAGS_V0)
            decode_set_event(dc, p, DEV_GRE_VERSION0_FLAGS);
        size_t hlen = 4 + ((flags & (GRE_CSUM | GRE_ROUTE)) ? 4 : 0) +
                      ((flags & GRE_KEY) ? 4 : 0) + ((flags & GRE_SEQ) ? 4 : 0);
        if (hlen > len) {
            decode_set_event(dc, p, DEV_GRE_VERSION0_HDR_TOO_BIG);
            return false;
        }
        cursor_skip(&c, hlen - 4);
        if (flags & GRE_ROUTE) {
            /* Source route entries until a NULL entry. */
            for (;;) {
                uint16_t af = cursor_u16be(&c);
                cursor_skip(&c, 1);
                uint8_t sre_len = cursor_u8(&c);
                if (c.failed || !cursor_skip(&c, sre_len)) {
                    decode_set_event(dc, p, DEV_GRE_VERSION0_MALFORMED_SRE_HDR);
                    return false;
                }
                if (af == 0 && sre_len == 0)
                    break;
            }
        }
    } else if (ver == 1) {
        if (flags & GRE_CSUM)
            decode_set_event(dc, p, DEV_GRE_VERSION1_CHKSUM);
        if (flags & GRE_ROUTE)
            decode_set_event(dc, p, DEV_GRE_VERSION1_ROUTE);
        if (flags & GRE_SSR)
            decode_set_event(dc, p, DEV_GRE_VERSION1_SSR);
        if (flags & GRE_RECUR)
            decode_set_event(dc, p, DEV_GRE_VERSION1_RECUR);
        if (flags & GRE_FLAGS_V1)
            decode_set_event(dc, p, DEV_GRE_VERSION1_FLAGS);
        if (!(flags & GRE_KEY))
            decode_set_event(dc, p, DEV_GRE_VERSION1_NO_KEY);
        if (proto != 0x880b)
            decode_set_event(dc, p, DEV_GRE_VERSION1_WRONG_PROTOCOL);
        size_t hlen = 8 + ((flags & GRE_SEQ) ? 4 : 0) + ((flags & GRE_ACK) ? 4 : 0);
        if (hlen > len) {
            decode_set_event(dc, p, DEV_GRE_VERSION1_HDR_TOO_BIG);
            return false;
        }
        /* PPTP carries PPP, which caracal does not decode further. */
        p->l4_off = off;
        p->l4_len = len;
        return true;
    } else {
        decode_set_event(dc, p, DEV_GRE_WRONG_VERSION);
        return false;
    }

    uint32_t inner = off + (uint32_t)c.off;
    uint32_t inner_len = len - (uint32_t)c.off;
    p->l4_off = off;
    p->l4_len = len;
    if (p->flags & PKT_FRAGMENT)
        return true;
    switch (proto) {
    case 0x0800:
        return decode_ip_tunnel(dc, p, 4, inner, inner_len, depth);
    case 0x86dd:
        return decode_ip_tunnel(dc, p, 6, inner, inner_len, depth);
    case 0x6558: /* transparent Ethernet bridging */
        if (depth + 1 > dc->cfg.max_layers) {
            decode_count(dc, STAT_DECODER_TOO_MANY_LAYERS);
            decode_set_event(dc, p, DEV_DECODER_TOO_MANY_LAYERS);
            return false;
        }
        p->flags |= PKT_TUNNELED;
        p->flags &= ~(PKT_HAS_TUPLE | PKT_HAS_PORTS | PKT_L4_CSUM_BAD);
        p->vlan_cnt = 0;
        return decode_ethernet(dc, p, inner, inner_len, depth + 1);
    default:
        return true;
    }
}
