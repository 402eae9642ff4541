/*
 * libFuzzer target for defragmentation.
 *
 * Input byte 0 chooses the table:
 *   bit  0    IP version of the built fragments (0: IPv4, 1: IPv6)
 *   bits 1-3  overlap policy (7: linux)
 *   bit  4    checksum validation off
 *   bit  5    tight limits (few trackers and pieces, small memcap)
 * The rest is a sequence of records, each
 *   offset (2 bytes, in 8-byte units, big-endian) | flags | length | data
 * with flags
 *   bit  0    more fragments
 *   bits 1-2  datagram id (0-3)
 *   bit  3    one second later than the previous record
 *   bit  4    IPv6: a hop-by-hop header before the fragment header
 *   bit  5    raw: data is a whole IP packet, sent as it is
 *   bits 6-7  protocol: 253, UDP, TCP, ICMP
 * Each fragment is decoded from a buffer of exactly its size and, when it
 * is one, handed to defrag_packet(); a reassembled datagram is decoded in
 * turn, so ASan sees any read past either.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/defrag.h"
#include "output/stats.h"

static struct stats stats;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t protos[4] = { 253, 17, 6, 1 };

/* Builds a fragment into buf; returns its length. */
static size_t build_fragment(uint8_t *buf, int ver, uint16_t off, uint8_t flags,
                             const uint8_t *d, size_t len)
{
    uint8_t proto = protos[flags >> 6];
    uint32_t id = (flags >> 1) & 3;
    bool more = flags & 1;
    size_t h;
    if (ver == 4) {
        static const uint8_t ip4[20] = { 0x45, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0, 0,
                                         192, 0, 2, 1, 192, 0, 2, 2 };
        memcpy(buf, ip4, sizeof ip4);
        size_t tot = sizeof ip4 + len;
        buf[2] = (uint8_t)(tot >> 8);
        buf[3] = (uint8_t)tot;
        buf[5] = (uint8_t)id;
        uint16_t frag = (uint16_t)((more ? 0x2000 : 0) | (off & 0x1fff));
        buf[6] = (uint8_t)(frag >> 8);
        buf[7] = (uint8_t)frag;
        buf[9] = proto;
        uint32_t sum = 0;
        for (int i = 0; i < 20; i += 2)
            sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        buf[10] = (uint8_t)(~sum >> 8);
        buf[11] = (uint8_t)~sum;
        h = sizeof ip4;
    } else {
        static const uint8_t ip6[40] = { 0x60, 0, 0, 0, 0, 0, 44, 64,
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
        memcpy(buf, ip6, sizeof ip6);
        h = sizeof ip6;
        if (flags & 0x10) {
            static const uint8_t hbh[8] = { 44, 0, 1, 4, 0, 0, 0, 0 };
            buf[6] = 0;
            memcpy(buf + h, hbh, sizeof hbh);
            h += sizeof hbh;
        }
        uint8_t fh[8] = { proto, 0, (uint8_t)(off >> 5), (uint8_t)(off << 3 | more),
                          0, 0, 0, (uint8_t)id };
        memcpy(buf + h, fh, sizeof fh);
        h += sizeof fh;
        size_t plen = h - 40 + len;
        buf[4] = (uint8_t)(plen >> 8);
        buf[5] = (uint8_t)plen;
    }
    memcpy(buf + h, d, len);
    return h + len;
}

static void check_packet(const struct packet *p, size_t len)
{
    if ((uint64_t)p->l3_off + p->l3_len > len || (uint64_t)p->l4_off + p->l4_len > len ||
        (uint64_t)p->payload_off + p->payload_len > len || p->nevents > PKT_MAX_EVENTS)
        abort();
}

static void decode_copy(struct decode_ctx *dc, const uint8_t *d, size_t len,
                        struct timeval ts, struct packet *p, uint8_t **mem)
{
    *mem = malloc(len ? len : 1);
    if (*mem == NULL)
        abort();
    memcpy(*mem, d, len);
    memset(p, 0, sizeof *p);
    p->ts = ts;
    p->caplen = p->wirelen = (uint32_t)len;
    p->linktype = LINK_RAW;
    p->data = *mem;
    decode_packet(dc, p);
    check_packet(p, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    int ver = sel & 1 ? 6 : 4;
    struct defrag_config cfg;
    defrag_config_init(&cfg);
    cfg.default_policy = (sel >> 1) & 7;
    if (cfg.default_policy >= DEFRAG_POLICY_COUNT)
        cfg.default_policy = DEFRAG_POLICY_LINUX;
    cfg.timeout_sec = 5;
    if (sel & 0x20) {
        cfg.memcap = 8192;
        cfg.trackers_max = 2;
        cfg.max_frags = 16;
    }
    struct defrag_table *t = defrag_new(&cfg, &stats);
    if (t == NULL)
        abort();
    struct decode_ctx dc = {
        .cfg = { .checksum_validation = !(sel & 0x10), .max_layers = 4 },
        .stats = &stats,
    };
    struct timeval ts = { 1714564800, 0 };
    static uint8_t buf[128 + 256];

    size_t pos = 1;
    while (size - pos >= 4) {
        uint16_t off = (uint16_t)(data[pos] << 8 | data[pos + 1]);
        uint8_t flags = data[pos + 2];
        size_t len = data[pos + 3];
        pos += 4;
        if (len > size - pos)
            len = size - pos;
        const uint8_t *d = data + pos;
        pos += len;
        if (flags & 0x08)
            ts.tv_sec++;
        size_t plen = flags & 0x20 ? len : build_fragment(buf, ver, off, flags, d, len);

        struct packet p;
        uint8_t *mem;
        decode_copy(&dc, flags & 0x20 ? d : buf, plen, ts, &p, &mem);
        if (p.flags & PKT_FRAGMENT) {
            struct defrag_result r;
            int rc = defrag_packet(t, &dc, &p, &r);
            check_packet(&p, plen);
            if (rc == DEFRAG_DONE) {
                if (r.len > 40 + 65535 || (r.data[0] >> 4) != r.ip_ver)
                    abort();
                struct packet rp;
                uint8_t *rmem;
                decode_copy(&dc, r.data, r.len, ts, &rp, &rmem);
                free(rmem);
            } else if (rc != DEFRAG_HELD && rc != DEFRAG_DROPPED) {
                abort();
            }
        }
        free(mem);
    }
    defrag_free(t);
    defrag_config_release(&cfg);
    return 0;
}
