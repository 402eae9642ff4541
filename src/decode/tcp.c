/* TCP (RFC 9293): header, options, checksum. */
#include "decode/decode_int.h"

#include <string.h>

#define TCP_HDR_LEN 20

/*
 *  |          Source Port          |       Destination Port        |
 *  |                        Sequence Number                        |
 *  |                    Acknowledgment Number                      |
 *  |  Data |     |C|E|U|A|P|R|S|F|                                 |
 *  | Offset| Rsv |W|C|R|C|S|S|Y|I|            Window               |
 *  |           Checksum            |         Urgent Pointer        |
 *  |                    Options                    |    Padding    |
 */

enum { TCPOPT_EOL = 0, TCPOPT_NOP = 1, TCPOPT_MSS = 2, TCPOPT_WS = 3, TCPOPT_SACKOK = 4,
       TCPOPT_SACK = 5, TCPOPT_TS = 8 };

static void decode_tcp_options(struct decode_ctx *dc, struct packet *p, struct cursor c)
{
    struct tcp_info *t = &p->tcp;
    unsigned seen = 0;
    while (cursor_remaining(&c) > 0) {
        uint8_t kind = cursor_u8(&c);
        if (kind == TCPOPT_EOL)
            return;
        if (kind == TCPOPT_NOP)
            continue;
        uint8_t olen = cursor_u8(&c);
        if (c.failed || olen < 2 || (size_t)olen - 2 > cursor_remaining(&c)) {
            decode_set_event(dc, p, DEV_TCP_OPT_INVALID_LEN);
            return;
        }
        struct cursor b = cursor_sub(&c, (size_t)olen - 2);
        if (kind < 32) {
            if (seen & (1u << kind)) {
                decode_set_event(dc, p, DEV_TCP_OPT_DUPLICATE);
                continue;
            }
            seen |= 1u << kind;
        }
        switch (kind) {
        case TCPOPT_MSS:
            if (olen != 4)
                decode_set_event(dc, p, DEV_TCP_OPT_INVALID_LEN);
            else
                t->mss = cursor_u16be(&b);
            break;
        case TCPOPT_WS:
            if (olen != 3) {
                decode_set_event(dc, p, DEV_TCP_OPT_INVALID_LEN);
            } else {
                t->wscale = cursor_u8(&b);
                t->has_wscale = true;
            }
            break;
        case TCPOPT_SACKOK:
            if (olen != 2)
                decode_set_event(dc, p, DEV_TCP_OPT_INVALID_LEN);
            else
                t->sack_permitted = true;
            break;
        case TCPOPT_SACK:
            if (olen < 10 || olen > 34 || (olen - 2) % 8 != 0)
                decode_set_event(dc, p, DEV_TCP_OPT_INVALID_LEN);
            else
                t->sack_blocks = (uint8_t)((olen - 2) / 8);
            break;
        case TCPOPT_TS:
            if (olen != 10) {
                decode_set_event(dc, p, DEV_TCP_OPT_INVALID_LEN);
            } else {
                t->ts_val = cursor_u32be(&b);
                t->ts_ecr = cursor_u32be(&b);
                t->has_ts = true;
            }
            break;
        default:
            break;
        }
    }
}

bool decode_tcp(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len)
{
    decode_count(dc, STAT_DECODER_TCP);
    struct cursor c = decode_cursor(p, off, len);
    if (!cursor_has(&c, TCP_HDR_LEN)) {
        decode_set_event(dc, p, DEV_TCP_PKT_TOO_SMALL);
        return false;
    }
    struct tcp_info *t = &p->tcp;
    memset(t, 0, sizeof *t);
    uint16_t sp = cursor_u16be(&c);
    uint16_t dp = cursor_u16be(&c);
    t->seq = cursor_u32be(&c);
    t->ack = cursor_u32be(&c);
    uint8_t off_byte = cursor_u8(&c);
    t->flags = cursor_u8(&c);
    t->win = cursor_u16be(&c);
    uint32_t hlen = (off_byte >> 4) * 4u;
    if (hlen < TCP_HDR_LEN || hlen > len) {
        if (hlen < TCP_HDR_LEN || p->caplen == p->wirelen) /* not just a snaplen cut */
            decode_set_event(dc, p, DEV_TCP_HLEN_TOO_SMALL);
        return false;
    }
    t->hlen = (uint8_t)hlen;
    if (hlen > TCP_HDR_LEN)
        decode_tcp_options(dc, p, cursor_make(p->data + off + TCP_HDR_LEN, hlen - TCP_HDR_LEN));

    p->sp = sp;
    p->dp = dp;
    p->flags |= PKT_HAS_PORTS;
    p->l4_off = off;
    p->l4_len = len;
    p->payload_off = off + hlen;
    p->payload_len = len - hlen;

    bool whole = p->caplen == p->wirelen && !(p->flags & PKT_FRAGMENT);
    if (dc->cfg.checksum_validation && whole &&
        csum_fold(csum_partial(p->data + off, len, csum_pseudo(p, 6, len))) != 0) {
        p->flags |= PKT_L4_CSUM_BAD;
        stats_inc(dc->stats, STAT_CHECKSUM_TCP_INVALID);
    }
    return true;
}

/*
 *  |          Source Port          |       Destination Port        |
 *  |            Length             |           Checksum            |
 */
bool decode_udp(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len)
{
    decode_count(dc, STAT_DECODER_UDP);
    struct cursor c = decode_cursor(p, off, len);
    if (!cursor_has(&c, 8)) {
        decode_set_event(dc, p, DEV_UDP_HLEN_TOO_SMALL);
        return false;
    }
    uint16_t sp = cursor_u16be(&c);
    uint16_t dp = cursor_u16be(&c);
    uint16_t ulen = cursor_u16be(&c);
    uint16_t sum = cursor_u16be(&c);
    uint32_t plen = len - 8;
    /* Lengths can only be checked on a whole, unfragmented datagram. */
    bool whole = p->caplen == p->wirelen && !(p->flags & PKT_FRAGMENT);
    if (!(p->flags & PKT_FRAGMENT)) {
        if (ulen < 8) {
            decode_set_event(dc, p, DEV_UDP_LEN_INVALID);
            return false;
        }
        if (ulen > len) {
            if (whole) {
                decode_set_event(dc, p, DEV_UDP_PKT_TOO_SMALL);
                return false;
            }
        } else {
            if (ulen < len) /* bytes after the datagram: a possible evasion */
                decode_set_event(dc, p, DEV_UDP_HLEN_INVALID);
            plen = ulen - 8u;
        }
    }
    p->sp = sp;
    p->dp = dp;
    p->flags |= PKT_HAS_PORTS;
    p->l4_off = off;
    p->l4_len = plen + 8;
    p->payload_off = off + 8;
    p->payload_len = plen;

    /* A zero checksum means "none" for IPv4 (it is mandatory for IPv6). */
    if (dc->cfg.checksum_validation && whole && (sum != 0 || p->ip_ver == 6) &&
        csum_fold(csum_partial(p->data + off, plen + 8, csum_pseudo(p, 17, plen + 8))) != 0) {
        p->flags |= PKT_L4_CSUM_BAD;
        stats_inc(dc->stats, STAT_CHECKSUM_UDP_INVALID);
    }
    return true;
}
