/* Answers to rejected packets; see reject.h. */
#include "engine/reject.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"

void reject_open(struct reject *r)
{
    r->raw4 = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    r->raw6 = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
    if (r->raw4 < 0 || r->raw6 < 0)
        log_warn("reject: no raw socket (%s): rejected packets are dropped without an answer",
                 strerror(errno));
}

void reject_close(struct reject *r)
{
    if (r->raw4 >= 0)
        close(r->raw4);
    if (r->raw6 >= 0)
        close(r->raw6);
    r->raw4 = r->raw6 = -1;
}

static void put16(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
    put16(b, v >> 16);
    put16(b + 2, v);
}

/*
 * Sends body (n bytes of protocol nh) from src to dst in a new IPv4 or IPv6
 * packet, after writing its checksum at csum_off: over the pseudo-header
 * for TCP and ICMPv6, over the body alone for ICMP.
 */
static void send_ip(const struct reject *r, int ip_ver, const uint8_t *src, const uint8_t *dst,
                    uint8_t nh, uint8_t *body, uint32_t n, uint32_t csum_off)
{
    uint8_t pkt[40 + 1280];
    uint32_t alen = ip_ver == 4 ? 4 : 16, hlen = ip_ver == 4 ? 20 : 40;
    int fd = ip_ver == 4 ? r->raw4 : r->raw6;
    if (fd < 0 || n > sizeof pkt - hlen)
        return;
    put16(body + csum_off, 0);
    uint32_t sum = 0;
    if (nh != 1) { /* the pseudo-header: addresses, protocol, length */
        uint8_t tail[4] = { 0, nh, 0, 0 };
        put16(tail + 2, n);
        sum = csum_partial(src, alen, sum);
        sum = csum_partial(dst, alen, sum);
        sum = csum_partial(tail, 4, sum);
    }
    put16(body + csum_off, csum_fold(csum_partial(body, n, sum)));
    memset(pkt, 0, hlen);
    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } to;
    memset(&to, 0, sizeof to);
    if (ip_ver == 4) {
        pkt[0] = 0x45;
        put16(pkt + 2, hlen + n);
        pkt[8] = 64;
        pkt[9] = nh;
        memcpy(pkt + 12, src, 4);
        memcpy(pkt + 16, dst, 4);
        put16(pkt + 10, csum_fold(csum_partial(pkt, hlen, 0)));
        to.v4.sin_family = AF_INET;
        memcpy(&to.v4.sin_addr, dst, 4);
    } else {
        pkt[0] = 0x60;
        put16(pkt + 4, n);
        pkt[6] = nh;
        pkt[7] = 64;
        memcpy(pkt + 8, src, 16);
        memcpy(pkt + 24, dst, 16);
        to.v6.sin6_family = AF_INET6;
        memcpy(&to.v6.sin6_addr, dst, 16);
    }
    memcpy(pkt + hlen, body, n);
    sendto(fd, pkt, hlen + n, 0, (struct sockaddr *)&to,
           ip_ver == 4 ? sizeof to.v4 : sizeof to.v6);
}

static void send_rst(const struct reject *r, int ip_ver, const uint8_t *src, const uint8_t *dst,
                     uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack, bool with_ack)
{
    uint8_t t[20];
    memset(t, 0, sizeof t);
    put16(t, sp);
    put16(t + 2, dp);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = 5 << 4;
    t[13] = (uint8_t)(TCP_RST | (with_ack ? TCP_ACK : 0));
    send_ip(r, ip_ver, src, dst, 6, t, sizeof t, 16);
}

/* Destination unreachable (code) to the sender of p, as if from its
 * destination, quoting p: its IP header and 8 bytes over IPv4, as much as
 * fits the minimum MTU over IPv6. */
static void send_unreach(const struct reject *r, const struct packet *p, uint8_t code)
{
    uint8_t body[1232];
    uint32_t quote = p->caplen - p->l3_off;
    if (p->ip_ver == 4) {
        uint32_t ihl = (uint32_t)(p->data[p->l3_off] & 0x0f) * 4;
        if (quote > ihl + 8)
            quote = ihl + 8;
    }
    if (quote > sizeof body - 8)
        quote = sizeof body - 8;
    memset(body, 0, 8);
    body[0] = p->ip_ver == 4 ? 3 : 1; /* destination unreachable */
    body[1] = code;
    memcpy(body + 8, p->data + p->l3_off, quote);
    send_ip(r, p->ip_ver, p->dst.b, p->src.b, p->ip_ver == 4 ? 1 : 58, body, 8 + quote, 2);
}

void reject_send(const struct reject *r, const struct packet *p)
{
    if (p->ip_ver != 4 && p->ip_ver != 6)
        return;
    if ((p->proto == 1 && p->icmp.type != 8) || (p->proto == 58 && p->icmp.type != 128))
        return; /* never answer an ICMP error (or reply) with one */
    if (p->proto != 6) {
        bool udp = p->proto == 17;
        send_unreach(r, p, p->ip_ver == 4 ? (udp ? 3 : 13) : (udp ? 4 : 1));
        return;
    }
    if (p->tcp.flags & TCP_RST)
        return;
    uint32_t next = p->tcp.seq + p->payload_len + ((p->tcp.flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
    /* to the sender: as if from the receiver, acknowledging what it sent */
    send_rst(r, p->ip_ver, p->dst.b, p->src.b, p->dp, p->sp,
             (p->tcp.flags & TCP_ACK) ? p->tcp.ack : 0, next, true);
    /* to the receiver: as if from the sender, at the dropped segment's
     * sequence number (the receiver never got it, so that is what it expects) */
    send_rst(r, p->ip_ver, p->src.b, p->dst.b, p->sp, p->dp, p->tcp.seq, 0, false);
}
