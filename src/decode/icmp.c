/* ICMPv4 (RFC 792) and ICMPv6 (RFC 4443, 4861 and friends). */
#include "decode/decode_int.h"

#define ICMP_HDR_LEN 8

/* Highest valid code for each ICMPv4 type, -1 for unknown types. */
static int icmpv4_max_code(uint8_t type)
{
    switch (type) {
    case 0: case 8: case 4: case 10: case 13: case 14: case 15: case 16: case 17: case 18:
        return 0;
    case 3: return 15;
    case 5: return 3;
    case 9: return 16;
    case 11: return 1;
    case 12: return 2;
    case 40: return 5; /* photuris */
    case 42: case 43: return 4; /* extended echo */
    default: return -1;
    }
}

static bool icmpv4_is_error(uint8_t type)
{
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

bool decode_icmpv4(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len)
{
    decode_count(dc, STAT_DECODER_ICMPV4);
    struct cursor c = decode_cursor(p, off, len);
    if (!cursor_has(&c, ICMP_HDR_LEN)) {
        decode_set_event(dc, p, DEV_ICMPV4_PKT_TOO_SMALL);
        return false;
    }
    struct icmp_info *ic = &p->icmp;
    ic->type = cursor_u8(&c);
    ic->code = cursor_u8(&c);
    cursor_skip(&c, 2);
    ic->id = cursor_u16be(&c);
    ic->seq = cursor_u16be(&c);
    p->l4_off = off;
    p->l4_len = len;
    p->payload_off = off + ICMP_HDR_LEN;
    p->payload_len = len - ICMP_HDR_LEN;

    int max = icmpv4_max_code(ic->type);
    if (max < 0)
        decode_set_event(dc, p, DEV_ICMPV4_UNKNOWN_TYPE);
    else if (ic->code > max || (ic->type == 9 && ic->code != 0 && ic->code != 16))
        decode_set_event(dc, p, DEV_ICMPV4_UNKNOWN_CODE);

    if (icmpv4_is_error(ic->type)) {
        /* The offending datagram's header follows. */
        if (len < ICMP_HDR_LEN + 20)
            decode_set_event(dc, p, DEV_ICMPV4_IPV4_TRUNC_PKT);
        else if (p->data[off + ICMP_HDR_LEN] >> 4 != 4)
            decode_set_event(dc, p, DEV_ICMPV4_IPV4_UNKNOWN_VER);
    }

    bool whole = p->caplen == p->wirelen && !(p->flags & PKT_FRAGMENT);
    if (dc->cfg.checksum_validation && whole &&
        csum_fold(csum_partial(p->data + off, len, 0)) != 0) {
        p->flags |= PKT_L4_CSUM_BAD;
        stats_inc(dc->stats, STAT_CHECKSUM_ICMPV4_INVALID);
    }
    return true;
}

enum icmpv6_class { V6_OK, V6_UNKNOWN, V6_UNASSIGNED, V6_EXPERIMENT };

static enum icmpv6_class icmpv6_classify(uint8_t type, uint8_t code, int *max_code)
{
    *max_code = 0;
    switch (type) {
    case 1: *max_code = 8; return V6_OK;
    case 2: return V6_OK;
    case 3: *max_code = 1; return V6_OK;
    case 4: *max_code = 10; return V6_OK;
    case 100: case 101: case 200: case 201: *max_code = 255; return V6_EXPERIMENT;
    case 127: case 255: *max_code = 255; return V6_UNASSIGNED;
    case 128: case 129: case 130: case 131: case 132: case 133: case 134: case 135:
    case 136: case 137: case 141: case 142: case 143: case 144: case 145: case 146:
    case 147: case 148: case 149: case 151: case 152: case 153: case 154: case 157:
    case 158: case 160: case 161:
        *max_code = 255;
        return V6_OK;
    case 138: *max_code = 255; return V6_OK; /* router renumbering */
    case 139: case 140: *max_code = 2; return V6_OK; /* node information */
    case 155: case 156: case 159: *max_code = 255; return V6_OK;
    default:
        (void)code;
        *max_code = 255;
        return type < 128 || type > 161 ? V6_UNASSIGNED : V6_UNKNOWN;
    }
}

bool decode_icmpv6(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len)
{
    decode_count(dc, STAT_DECODER_ICMPV6);
    struct cursor c = decode_cursor(p, off, len);
    if (!cursor_has(&c, ICMP_HDR_LEN)) {
        decode_set_event(dc, p, DEV_ICMPV6_PKT_TOO_SMALL);
        return false;
    }
    struct icmp_info *ic = &p->icmp;
    ic->type = cursor_u8(&c);
    ic->code = cursor_u8(&c);
    cursor_skip(&c, 2);
    ic->id = cursor_u16be(&c);
    ic->seq = cursor_u16be(&c);
    p->l4_off = off;
    p->l4_len = len;
    p->payload_off = off + ICMP_HDR_LEN;
    p->payload_len = len - ICMP_HDR_LEN;

    int max;
    switch (icmpv6_classify(ic->type, ic->code, &max)) {
    case V6_UNKNOWN:
        decode_set_event(dc, p, DEV_ICMPV6_UNKNOWN_TYPE);
        break;
    case V6_UNASSIGNED:
        decode_set_event(dc, p, DEV_ICMPV6_UNASSIGNED_TYPE);
        break;
    case V6_EXPERIMENT:
        decode_set_event(dc, p, DEV_ICMPV6_EXPERIMENTATION_TYPE);
        break;
    case V6_OK:
        if (ic->code > max)
            decode_set_event(dc, p, DEV_ICMPV6_UNKNOWN_CODE);
        break;
    }
    /* MLD messages must carry hop limit 1 (RFC 2710, 3810). */
    if ((ic->type >= 130 && ic->type <= 132) || ic->type == 143) {
        if (p->ttl != 1)
            decode_set_event(dc, p, DEV_ICMPV6_MLD_MESSAGE_WITH_INVALID_HL);
    }
    if (ic->type >= 1 && ic->type <= 4) {
        if (len < ICMP_HDR_LEN + 40)
            decode_set_event(dc, p, DEV_ICMPV6_IPV6_TRUNC_PKT);
        else if (p->data[off + ICMP_HDR_LEN] >> 4 != 6)
            decode_set_event(dc, p, DEV_ICMPV6_IPV6_UNKNOWN_VERSION);
    }

    bool whole = p->caplen == p->wirelen && !(p->flags & PKT_FRAGMENT);
    if (dc->cfg.checksum_validation && whole &&
        csum_fold(csum_partial(p->data + off, len, csum_pseudo(p, 58, len))) != 0) {
        p->flags |= PKT_L4_CSUM_BAD;
        stats_inc(dc->stats, STAT_CHECKSUM_ICMPV6_INVALID);
    }
    return true;
}
