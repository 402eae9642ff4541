/*
 * The decode stage: link layer to transport layer.
 *
 * decode_packet() fills a struct packet from the captured bytes. It never
 * reads past caplen; every malformation is recorded as a named event on the
 * packet and counted. Positions inside the packet are stored as offsets so
 * that a decoded packet can be copied to another buffer as it is.
 */
#ifndef CARACAL_DECODE_DECODE_H
#define CARACAL_DECODE_DECODE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "decode/decode_events.h"

struct stats;

/* Link types (pcap LINKTYPE_ values). */
#define LINK_NULL 0
#define LINK_ETHERNET 1
#define LINK_RAW 101
#define LINK_LOOP 108
#define LINK_SLL 113
#define LINK_IPV4 228
#define LINK_IPV6 229
#define LINK_SLL2 276

#define PKT_MAX_EVENTS 8
#define PKT_MAX_VLANS 3

/* Packet flags. */
#define PKT_IPV4_CSUM_BAD 0x0001u
#define PKT_L4_CSUM_BAD 0x0002u
#define PKT_FRAGMENT 0x0004u      /* an IP fragment */
#define PKT_HAS_TUPLE 0x0008u     /* addresses and protocol are set */
#define PKT_HAS_PORTS 0x0010u     /* sp/dp are set (TCP, UDP) */
#define PKT_TUNNELED 0x0020u
#define PKT_INVALID 0x0040u       /* a layer could not be decoded */
#define PKT_PSEUDO 0x0080u        /* built by caracal (reassembled), not captured */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

struct ip_addr {
    union {
        uint8_t b[16];
        uint32_t w[4];
    };
};

struct tcp_info {
    uint32_t seq, ack;
    uint16_t win;
    uint8_t flags;
    uint8_t hlen;
    uint16_t mss;       /* 0: absent */
    uint8_t wscale;     /* valid when has_wscale */
    bool has_wscale;
    bool sack_permitted;
    bool has_ts;
    uint8_t sack_blocks;
    uint32_t ts_val, ts_ecr;
};

struct icmp_info {
    uint8_t type, code;
    uint16_t id, seq;
};

struct packet {
    /* From capture. */
    struct timeval ts;
    uint32_t caplen;
    uint32_t wirelen;
    int linktype;
    uint64_t pcap_cnt;
    const uint8_t *data;

    /* Decoded. */
    uint32_t flags;
    uint8_t ip_ver;     /* 4, 6 or 0 */
    uint8_t proto;      /* IPPROTO_* of the innermost transport */
    uint8_t ttl;
    uint8_t vlan_cnt;
    uint16_t vlan[PKT_MAX_VLANS];
    struct ip_addr src, dst; /* IPv4 in b[0..3], rest zero */
    uint16_t sp, dp;
    uint32_t l3_off, l3_len;  /* innermost IP header and what follows */
    uint32_t l4_off, l4_len;
    uint32_t payload_off, payload_len;
    struct tcp_info tcp;
    struct icmp_info icmp;
    uint8_t nevents;
    uint16_t events[PKT_MAX_EVENTS];
};

struct decode_config {
    bool checksum_validation; /* -k all (default) / -k none */
    unsigned max_layers;      /* tunnel/vlan nesting bound */
};

struct decode_ctx {
    struct decode_config cfg;
    struct stats *stats;
};

/* True when caracal decodes this link type. */
bool decode_link_supported(int linktype);

/* Decodes p->data[0..caplen); p's capture fields must be set. */
void decode_packet(struct decode_ctx *dc, struct packet *p);
/* Decodes a packet that caracal built itself (a reassembled datagram): like
 * decode_packet, but it does not count as a captured packet. */
void decode_pseudo_packet(struct decode_ctx *dc, struct packet *p);

/* Records an event on the packet and counts it. */
void decode_set_event(struct decode_ctx *dc, struct packet *p, int ev);

static inline bool packet_has_event(const struct packet *p, int ev)
{
    for (unsigned i = 0; i < p->nevents; i++)
        if (p->events[i] == ev)
            return true;
    return false;
}

/* Formats an address as text (IPv4 dotted or IPv6 with :: compression). */
void decode_addr_str(int ip_ver, const struct ip_addr *a, char *buf, unsigned len);

/* Internet checksum (RFC 1071): add bytes to a running sum, then fold and
 * complement it. The decoders check with them; rejects build with them. */
uint32_t csum_partial(const uint8_t *data, uint32_t len, uint32_t sum);
uint16_t csum_fold(uint32_t sum);

#endif
