/* IPv6 (RFC 8200) and its extension headers. */
#include "decode/decode_int.h"

#include <string.h>

#define IPV6_HDR_LEN 40

enum { NH_HOPOPTS = 0, NH_ROUTING = 43, NH_FRAGMENT = 44, NH_ESP = 50, NH_AH = 51,
       NH_NONE = 59, NH_DSTOPTS = 60 };

/*
 * Hop-by-hop and destination options: TLV list.
 * Returns false when an option runs past the header.
 */
static void decode_ipv6_options(struct decode_ctx *dc, struct packet *p, struct cursor c,
                                bool hop)
{
    bool only_padding = true;
    while (cursor_remaining(&c) > 0) {
        uint8_t type = cursor_u8(&c);
        if (type == 0) /* Pad1 */
            continue;
        uint8_t olen = cursor_u8(&c);
        if (c.failed || olen > cursor_remaining(&c)) {
            decode_set_event(dc, p, DEV_IPV6_EXTHDR_INVALID_OPTLEN);
            return;
        }
        cursor_skip(&c, olen);
        if (type == 1) { /* PadN */
            if (olen == 0)
                decode_set_event(dc, p, DEV_IPV6_ZERO_LEN_PADN);
            continue;
        }
        only_padding = false;
        switch (type) {
        case 0x05: /* router alert */
        case 0xc2: /* jumbo payload */
        case 0xc9: /* home address */
        case 0x04: /* tunnel encapsulation limit */
        case 0x26: /* quick start */
        case 0x63: /* RPL */
        case 0x6d: /* MPL */
        case 0x07: /* CALIPSO */
        case 0x08: /* SMF DPD */
        case 0x8b: /* ILNP nonce */
        case 0x8c: /* line identification */
        case 0x31: case 0x1e: /* in-situ OAM, PDM */
            break;
        default:
            decode_set_event(dc, p, hop ? DEV_IPV6_HOPOPTS_UNKNOWN_OPT
                                        : DEV_IPV6_DSTOPTS_UNKNOWN_OPT);
            break;
        }
    }
    if (only_padding)
        decode_set_event(dc, p, hop ? DEV_IPV6_HOPOPTS_ONLY_PADDING
                                    : DEV_IPV6_DSTOPTS_ONLY_PADDING);
}

bool decode_ipv6(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len,
                 unsigned depth)
{
    decode_count(dc, STAT_DECODER_IPV6);
    struct cursor c = decode_cursor(p, off, len);
    if (!cursor_has(&c, IPV6_HDR_LEN)) {
        decode_set_event(dc, p, DEV_IPV6_PKT_TOO_SMALL);
        return false;
    }
    uint32_t vtf = cursor_u32be(&c);
    if (vtf >> 28 != 6) {
        decode_set_event(dc, p, DEV_IPV6_WRONG_IP_VERSION);
        return false;
    }
    uint32_t plen = cursor_u16be(&c);
    uint8_t nh = cursor_u8(&c);
    uint8_t hlim = cursor_u8(&c);
    bool snapped = p->caplen < p->wirelen;
    if (plen == 0 && len > IPV6_HDR_LEN)
        plen = len - IPV6_HDR_LEN; /* jumbogram or GSO: the length lives elsewhere */
    if (plen > len - IPV6_HDR_LEN && !snapped) {
        decode_set_event(dc, p, DEV_IPV6_TRUNC_PKT);
        return false;
    }
    uint32_t avail = plen < len - IPV6_HDR_LEN ? plen : len - IPV6_HDR_LEN;

    p->ip_ver = 6;
    p->ttl = hlim;
    memcpy(p->src.b, p->data + off + 8, 16);
    memcpy(p->dst.b, p->data + off + 24, 16);
    p->flags |= PKT_HAS_TUPLE;
    p->l3_off = off;
    p->l3_len = IPV6_HDR_LEN + avail;

    /* Walk the extension headers. */
    struct cursor x = cursor_make(p->data + off + IPV6_HDR_LEN, avail);
    unsigned seen_hh = 0, seen_rh = 0, seen_fh = 0, seen_dh = 0, seen_ah = 0;
    bool first = true;
    bool later_fragment = false;
    for (;;) {
        p->proto = nh;
        switch (nh) {
        case NH_HOPOPTS:
        case NH_DSTOPTS:
        case NH_ROUTING: {
            uint8_t next = cursor_u8(&x);
            uint8_t hl = cursor_u8(&x);
            size_t body = (size_t)hl * 8 + 6;
            if (x.failed || body > cursor_remaining(&x)) {
                if (!snapped)
                    decode_set_event(dc, p, DEV_IPV6_TRUNC_EXTHDR);
                return false;
            }
            struct cursor b = cursor_sub(&x, body);
            if (nh == NH_HOPOPTS) {
                if (seen_hh++ || !first)
                    decode_set_event(dc, p, DEV_IPV6_EXTHDR_DUPL_HH);
                decode_ipv6_options(dc, p, b, true);
            } else if (nh == NH_DSTOPTS) {
                if (seen_dh++ > 1) /* two are allowed: before and after routing */
                    decode_set_event(dc, p, DEV_IPV6_EXTHDR_DUPL_DH);
                decode_ipv6_options(dc, p, b, false);
            } else {
                if (seen_rh++)
                    decode_set_event(dc, p, DEV_IPV6_EXTHDR_DUPL_RH);
                if (cursor_u8(&b) == 0)
                    decode_set_event(dc, p, DEV_IPV6_RH_TYPE_0);
            }
            nh = next;
            break;
        }
        case NH_FRAGMENT: {
            uint8_t next = cursor_u8(&x);
            uint8_t reserved = cursor_u8(&x);
            uint16_t offm = cursor_u16be(&x);
            cursor_skip(&x, 4); /* identification */
            if (x.failed) {
                if (!snapped)
                    decode_set_event(dc, p, DEV_IPV6_TRUNC_EXTHDR);
                return false;
            }
            if (seen_fh++)
                decode_set_event(dc, p, DEV_IPV6_EXTHDR_DUPL_FH);
            if (reserved != 0 || (offm & 0x0006) != 0)
                decode_set_event(dc, p, DEV_IPV6_FH_NON_ZERO_RESERVED_FIELD);
            uint16_t foff = offm >> 3;
            bool more = offm & 1;
            if (foff == 0 && !more) {
                decode_set_event(dc, p, DEV_IPV6_EXTHDR_USELESS_FH);
            } else {
                p->flags |= PKT_FRAGMENT;
                if (foff != 0)
                    later_fragment = true;
            }
            nh = next;
            break;
        }
        case NH_AH: {
            uint8_t next = cursor_u8(&x);
            uint8_t hl = cursor_u8(&x);
            uint16_t reserved = cursor_u16be(&x);
            size_t body = ((size_t)hl + 2) * 4;
            if (x.failed || body < 4 || body - 4 > cursor_remaining(&x)) {
                if (!snapped)
                    decode_set_event(dc, p, DEV_IPV6_TRUNC_EXTHDR);
                return false;
            }
            cursor_skip(&x, body - 4);
            if (seen_ah++)
                decode_set_event(dc, p, DEV_IPV6_EXTHDR_DUPL_AH);
            if (reserved != 0)
                decode_set_event(dc, p, DEV_IPV6_EXTHDR_AH_RES_NOT_NULL);
            nh = next;
            break;
        }
        case NH_ESP: /* encrypted from here on */
            p->l4_off = off + IPV6_HDR_LEN + (uint32_t)x.off;
            p->l4_len = (uint32_t)cursor_remaining(&x);
            return true;
        case NH_NONE:
            if (cursor_remaining(&x) > 0)
                decode_set_event(dc, p, DEV_IPV6_DATA_AFTER_NONE_HEADER);
            return true;
        default:
            goto transport;
        }
        first = false;
        if (later_fragment) {
            p->proto = nh;
            return true;
        }
    }

transport:;
    uint32_t l4off = off + IPV6_HDR_LEN + (uint32_t)x.off;
    uint32_t l4len = (uint32_t)cursor_remaining(&x);
    switch (nh) {
    case 6:
        return decode_tcp(dc, p, l4off, l4len);
    case 17:
        return decode_udp(dc, p, l4off, l4len);
    case 58:
        return decode_icmpv6(dc, p, l4off, l4len);
    case 47:
        return decode_gre(dc, p, l4off, l4len, depth);
    case 1:
        decode_set_event(dc, p, DEV_IPV6_ICMPV4);
        return true;
    case 4:
        decode_count(dc, STAT_DECODER_IPV4_IN_IPV6);
        if (l4len < 20) {
            decode_set_event(dc, p, DEV_IPV6_IPV4_IN_IPV6_TOO_SMALL);
            return false;
        }
        if (p->data[l4off] >> 4 != 4) {
            decode_set_event(dc, p, DEV_IPV6_IPV4_IN_IPV6_WRONG_VERSION);
            return false;
        }
        return p->flags & PKT_FRAGMENT ? true : decode_ip_tunnel(dc, p, 4, l4off, l4len, depth);
    case 41:
        decode_count(dc, STAT_DECODER_IPV6_IN_IPV6);
        if (l4len < IPV6_HDR_LEN) {
            decode_set_event(dc, p, DEV_IPV6_IPV6_IN_IPV6_TOO_SMALL);
            return false;
        }
        if (p->data[l4off] >> 4 != 6) {
            decode_set_event(dc, p, DEV_IPV6_IPV6_IN_IPV6_WRONG_VERSION);
            return false;
        }
        return p->flags & PKT_FRAGMENT ? true : decode_ip_tunnel(dc, p, 6, l4off, l4len, depth);
    default:
        p->l4_off = l4off;
        p->l4_len = l4len;
        return true;
    }
}
