/*
 * libFuzzer target for the decode stage.
 *
 * Input byte 0 chooses how the rest is captured:
 *   bits 0-2  link type (index into link_types[])
 *   bit  6    snapped: wirelen is larger than caplen
 *   bit  7    checksum validation off
 * bits 3-5 pick max_layers (0..7). The packet is copied into a buffer of
 * exactly its size so that ASan reports any read past caplen.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "output/stats.h"

static const int link_types[8] = { LINK_ETHERNET, LINK_RAW, LINK_IPV4, LINK_IPV6,
                                   LINK_SLL, LINK_SLL2, LINK_NULL, LINK_LOOP };

static struct stats stats;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    size_t len = size - 1;
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data + 1, len);

    struct decode_ctx dc = {
        .cfg = { .checksum_validation = !(sel & 0x80), .max_layers = (sel >> 3) & 7 },
        .stats = &stats,
    };
    struct packet p;
    memset(&p, 0, sizeof p);
    p.caplen = (uint32_t)len;
    p.wirelen = (uint32_t)len + ((sel & 0x40) ? 100 : 0);
    p.linktype = link_types[sel & 7];
    p.data = buf;
    decode_packet(&dc, &p);

    /* Whatever the input, every position the decoder hands on lies inside the capture. */
    if ((uint64_t)p.l3_off + p.l3_len > len || (uint64_t)p.l4_off + p.l4_len > len ||
        (uint64_t)p.payload_off + p.payload_len > len || p.nevents > PKT_MAX_EVENTS ||
        p.vlan_cnt > PKT_MAX_VLANS)
        abort();
    for (unsigned i = 0; i < p.nevents; i++)
        if (p.events[i] >= DECODE_EVENT_COUNT)
            abort();

    free(buf);
    return 0;
}
