/* Private to the decode stage: one function per layer. */
#ifndef CARACAL_DECODE_INT_H
#define CARACAL_DECODE_INT_H

#include "decode/decode.h"
#include "output/stats.h"
#include "util/cursor.h"

/* Each layer decoder takes the bytes of its layer (from off, len bytes) and
 * the nesting depth; it returns false when it could not decode. */
bool decode_ethernet(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len, unsigned depth);
bool decode_ethertype(struct decode_ctx *dc, struct packet *p, uint16_t type, uint32_t off, uint32_t len, unsigned depth);
bool decode_ipv4(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len, unsigned depth);
bool decode_ipv6(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len, unsigned depth);
bool decode_tcp(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len);
bool decode_udp(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len);
bool decode_icmpv4(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len);
bool decode_icmpv6(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len);
bool decode_gre(struct decode_ctx *dc, struct packet *p, uint32_t off, uint32_t len, unsigned depth);

/* Sends a tunnelled IP packet (proto 4 or 41) back through the IP decoders. */
bool decode_ip_tunnel(struct decode_ctx *dc, struct packet *p, int inner_ver, uint32_t off, uint32_t len, unsigned depth);

/* Pseudo-header sum for the packet's current addresses. */
uint32_t csum_pseudo(const struct packet *p, uint8_t proto, uint32_t l4len);

static inline struct cursor decode_cursor(const struct packet *p, uint32_t off, uint32_t len)
{
    return cursor_make(p->data + off, len);
}

static inline void decode_count(struct decode_ctx *dc, int counter)
{
    stats_inc(dc->stats, counter);
}

#endif
