/* Ethernet II and 802.1Q / 802.1ad VLAN tags. */
#include "decode/decode_int.h"

#define ETH_HDR_LEN 14
#define VLAN_HDR_LEN 4

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100

/* Ethertypes that caracal does not decode but that are ordinary traffic. */
static bool ethertype_known(uint16_t type)
{
    switch (type) {
    case ETHERTYPE_ARP: case 0x8035: /* RARP */
    case 0x8863: case 0x8864:        /* PPPoE */
    case 0x8847: case 0x8848:        /* MPLS */
    case 0x88cc: /* LLDP */ case 0x888e: /* EAPOL */ case 0x88e5: /* MACsec */
    case 0x88f7: /* PTP */ case 0x8809: /* slow protocols */ case 0x9000: /* loopback */
    case 0x88e7: /* 802.1ah */ case 0x8137: /* IPX */ case 0x809b: /* AppleTalk */
    case 0x80f3: /* AARP */ case 0x88b5: case 0x88b6: /* local experimental */
    case 0x893a: /* IEEE 1905 */ case 0x8899: /* Realtek */ case 0x88bb: case 0x88be:
    case 0x22f0: case 0x22ea: case 0x6002: case 0x6003: case 0x6004:
    case 0x88ab: case 0x8892: case 0x88a4: case 0x88e3: case 0x8906: case 0x8914:
    case 0x0842: /* wake-on-LAN */ case 0x8808: /* pause */ case 0x894f: /* NSH */
        return true;
    default:
        return false;
    }
}

static bool decode_vlan(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len,
                        unsigned depth)
{
    if (p->vlan_cnt >= PKT_MAX_VLANS) {
        decode_set_event(dc, p, DEV_VLAN_TOO_MANY_LAYERS);
        return false;
    }
    static const int by_depth[PKT_MAX_VLANS] = { STAT_DECODER_VLAN, STAT_DECODER_VLAN_QINQ,
                                                 STAT_DECODER_VLAN_QINQINQ };
    decode_count(dc, by_depth[p->vlan_cnt]);
    struct cursor c = decode_cursor(p, off, len);
    uint16_t tci = cursor_u16be(&c);
    uint16_t type = cursor_u16be(&c);
    if (c.failed) {
        decode_set_event(dc, p, DEV_VLAN_HEADER_TOO_SMALL);
        return false;
    }
    p->vlan[p->vlan_cnt++] = tci & 0x0fff;
    return decode_ethertype(dc, p, type, off + VLAN_HDR_LEN, len - VLAN_HDR_LEN, depth);
}

bool decode_ethertype(struct decode_ctx *dc, struct packet *p, uint16_t type, uint32_t off,
                      uint32_t len, unsigned depth)
{
    switch (type) {
    case ETHERTYPE_IPV4:
        return decode_ipv4(dc, p, off, len, depth);
    case ETHERTYPE_IPV6:
        return decode_ipv6(dc, p, off, len, depth);
    case ETHERTYPE_VLAN:
    case ETHERTYPE_QINQ:
    case ETHERTYPE_QINQ_OLD:
        return decode_vlan(dc, p, off, len, depth);
    default:
        if (type < 0x0600) /* an 802.3 length: LLC/SNAP, not decoded */
            return true;
        decode_count(dc, STAT_DECODER_UNKNOWN_ETHERTYPE);
        if (!ethertype_known(type))
            decode_set_event(dc, p, p->vlan_cnt ? DEV_VLAN_UNKNOWN_TYPE
                                                : DEV_ETHERNET_UNKNOWN_ETHERTYPE);
        return true;
    }
}

/*
 *  +----------------+----------------+-----------+
 *  | destination(6) | source(6)      | type (2)  |
 *  +----------------+----------------+-----------+
 */
bool decode_ethernet(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len,
                     unsigned depth)
{
    decode_count(dc, STAT_DECODER_ETHERNET);
    struct cursor c = decode_cursor(p, off, len);
    cursor_skip(&c, 12);
    uint16_t type = cursor_u16be(&c);
    if (c.failed) {
        decode_set_event(dc, p, DEV_ETHERNET_PKT_TOO_SMALL);
        return false;
    }
    return decode_ethertype(dc, p, type, off + ETH_HDR_LEN, len - ETH_HDR_LEN, depth);
}
