/*
 * libFuzzer target for the TCP stream engine.
 *
 * The input describes the TCP segments of one session between 192.0.2.1
 * (client) and 192.0.2.2 (server). Byte 0 chooses the engine:
 *   bits 0-2  overlap policy of both hosts (7: no policy table, linux)
 *   bit  3    midstream pickup
 *   bit  4    consistent data: the byte at sequence number s is always
 *             (s & 0xff), whatever segment carries it (records then carry
 *             no data bytes)
 *   bits 5-6  limits: memcap, depth, max-wait and inspect-window presets,
 *             all small so that they are reached
 *   bit  7    the ISNs follow as two 4-byte big-endian numbers; otherwise
 *             they sit just below 2^32, so the session wraps
 * The rest is a sequence of records, each
 *   ctl | flags | seq delta (2) | ack delta (2) | window (1) | length | data
 * with ctl
 *   bit  0    direction (0: client to server)
 *   bit  1    a window scale option, shift ctl >> 4
 *   bit  2    the seq delta counts 65536-byte units (to reach far ahead or behind,
 *             out of the window)
 *   bit  3    MSS, SACK-permitted and timestamp options
 * Sequence numbers are relative: seq = (highest sequence number the
 * direction has reached) + seq delta (signed), ack = (highest of the other
 * direction) + ack delta (signed), window = byte << 8 | 0xff.
 *
 * Each segment is built as a raw IPv4 packet, decoded from a buffer of
 * exactly its size, and given to stream_packet(); the result is checked
 * (chunk bounds, events, memuse under the memcap, the counters) and every
 * chunk byte is read so that ASan sees a chunk pointing outside the
 * stream's buffer. With consistent data, every chunk must be a run of
 * consecutive bytes and no overlap may have different data. At the end the
 * session is freed and the engine must hold no memory.
 *
 * Built with -DFUZZ_STREAM_STRICT it also checks that the new bytes of each
 * chunk follow the previous chunk of that direction unless a gap was
 * skipped or the packet was left to packet inspection in between (no
 * delivered byte escapes inspection).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/defrag.h"
#include "flow/flow.h"
#include "output/stats.h"
#include "stream/stream.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct stats stats, dstats;

static const struct {
    uint64_t memcap;
    uint32_t depth, max_wait, inspect_window;
} presets[4] = {
    { 4096, 300, 128, 64 },
    { 16384, 2000, 1024, 64 },
    { 1500, 0, 512, 16 },
    { 65536, 0, 4096, 2048 },
};

#define REC_HDR 8
#define MAX_OPTS 40

static void put16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
    put16(b, (uint16_t)(v >> 16));
    put16(b + 2, (uint16_t)v);
}

static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Builds the segment as a raw IPv4 packet into buf; returns its length. */
static size_t build(uint8_t *buf, int dir, uint8_t ctl, uint8_t flags, uint32_t seq,
                    uint32_t ack, uint16_t win, const uint8_t *pl, size_t plen)
{
    uint8_t opts[MAX_OPTS];
    size_t ol = 0;
    if (ctl & 0x08) {
        static const uint8_t o[] = { 2, 4, 0x05, 0xb4,   /* MSS 1460 */
                                     4, 2,               /* SACK permitted */
                                     8, 10, 0, 0, 0, 1, 0, 0, 0, 0 }; /* timestamps */
        memcpy(opts + ol, o, sizeof o);
        ol += sizeof o;
    }
    if (ctl & 0x02) {
        opts[ol++] = 1; /* NOP */
        opts[ol++] = 3;
        opts[ol++] = 3;
        opts[ol++] = (uint8_t)(ctl >> 4);
    }
    while (ol % 4)
        opts[ol++] = 0; /* EOL */
    size_t thl = 20 + ol, tot = 20 + thl + plen;

    static const uint8_t ip4[20] = { 0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0,
                                     192, 0, 2, 1, 192, 0, 2, 2 };
    memcpy(buf, ip4, sizeof ip4);
    put16(buf + 2, (uint16_t)tot);
    if (dir == FLOW_TOCLIENT) {
        buf[15] = 2;
        buf[19] = 1;
    }
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    put16(buf + 10, (uint16_t)~sum);

    uint8_t *t = buf + 20;
    put16(t, dir == FLOW_TOSERVER ? 40000 : 80);
    put16(t + 2, dir == FLOW_TOSERVER ? 80 : 40000);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = (uint8_t)((thl / 4) << 4);
    t[13] = flags;
    put16(t + 14, win);
    put16(t + 16, 0); /* checksum: validation is off */
    put16(t + 18, 0);
    memcpy(t + 20, opts, ol);
    memcpy(t + thl, pl, plen);
    return tot;
}

static bool is_stream_event(unsigned ev)
{
    return ev >= DEV_STREAM_3WHS_SYN_RESEND_DIFF_SEQ && ev <= DEV_STREAM_REASSEMBLY_SEQ_GAP;
}

static bool has_event(const struct stream_result *r, int ev)
{
    for (unsigned i = 0; i < r->nevents; i++)
        if (r->events[i] == ev)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        log_set_level(LOG_LVL_ERROR); /* the memcap warning, once per engine */
        init = true;
    }
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    size_t pos = 1;
    uint32_t isn[2] = { 0xffffff00u, 0xfffffff0u };
    if (sel & 0x80) {
        if (size < 9)
            return 0;
        isn[0] = get32(data + 1);
        isn[1] = get32(data + 5);
        pos = 9;
    }
    bool consistent = sel & 0x10;

    struct defrag_config dcfg;
    defrag_config_init(&dcfg);
    int policy = sel & 7;
    dcfg.default_policy = policy < DEFRAG_POLICY_COUNT ? policy : DEFRAG_POLICY_LINUX;
    struct stream_config cfg;
    stream_config_init(&cfg);
    cfg.midstream = sel & 0x08;
    cfg.policies = policy < DEFRAG_POLICY_COUNT ? &dcfg : NULL;
    const unsigned pr = (sel >> 5) & 3;
    cfg.memcap = presets[pr].memcap;
    cfg.depth = presets[pr].depth;
    cfg.max_wait = presets[pr].max_wait;
    cfg.inspect_window = presets[pr].inspect_window;

    memset(&stats, 0, sizeof stats);
    struct stream_engine *se = stream_engine_new(&cfg, &stats);
    if (se == NULL)
        abort();
    struct decode_ctx dc = { .cfg = { .checksum_validation = false, .max_layers = 4 },
                             .stats = &dstats };
    struct flow f;
    memset(&f, 0, sizeof f);
    uint32_t cur[2] = { isn[0], isn[1] }; /* highest sequence number reached */
    bool started[2] = { false, false };
#ifdef FUZZ_STREAM_STRICT
    uint64_t seen_end[2] = { 0, 0 };
    bool seen[2] = { false, false };
#endif
    static uint8_t buf[20 + 60 + 255];
    uint8_t pl[255];

    while (size - pos >= REC_HDR) {
        const uint8_t *rec = data + pos;
        uint8_t ctl = rec[0], flags = rec[1] & 0x3f;
        int32_t seqd = (int16_t)(rec[2] << 8 | rec[3]);
        int32_t ackd = (int16_t)(rec[4] << 8 | rec[5]);
        uint16_t win = (uint16_t)(rec[6] << 8 | 0xff);
        size_t len = rec[7];
        pos += REC_HDR;
        int dir = ctl & 1;
        uint32_t seq = cur[dir] + ((ctl & 0x04) ? (uint32_t)seqd << 16 : (uint32_t)seqd);
        uint32_t ack = cur[!dir] + (uint32_t)ackd;
        uint32_t first = seq + ((flags & TCP_SYN) ? 1 : 0); /* seq of payload byte 0 */
        if (consistent) {
            for (size_t i = 0; i < len; i++)
                pl[i] = (uint8_t)(first + i);
        } else {
            if (len > size - pos)
                len = size - pos;
            memcpy(pl, data + pos, len);
            pos += len;
        }
        size_t plen = build(buf, dir, ctl, flags, seq, ack, win, pl, len);

        uint8_t *mem = malloc(plen);
        if (mem == NULL)
            abort();
        memcpy(mem, buf, plen);
        struct packet p;
        memset(&p, 0, sizeof p);
        p.ts.tv_sec = 1714564800;
        p.caplen = p.wirelen = (uint32_t)plen;
        p.linktype = LINK_RAW;
        p.data = mem;
        decode_packet(&dc, &p);
        if (p.proto != 6 || p.payload_len != len || p.tcp.seq != seq || p.tcp.flags != flags ||
            (uint64_t)p.payload_off + p.payload_len > plen)
            abort(); /* the builder is wrong */

        struct stream_result r;
        memset(&r, 0xa5, sizeof r);
        stream_packet(se, &f, &p, dir, &r);
        free(mem);

        /* The result. */
        if (r.nevents > STREAM_MAX_EVENTS)
            abort();
        for (unsigned i = 0; i < r.nevents; i++)
            if (!is_stream_event(r.events[i]))
                abort();
        if (r.len > 0) {
            if (r.chunk == NULL || r.new_off >= r.len || !r.tracked)
                abort();
            if (r.new_off > cfg.inspect_window)
                abort();
            if (cfg.depth && r.chunk_off + r.len > cfg.depth)
                abort();
            volatile uint8_t x = 0;
            for (uint32_t i = 0; i < r.len; i++)
                x ^= r.chunk[i];
            (void)x;
            if (consistent)
                for (uint32_t i = 1; i < r.len; i++)
                    if (r.chunk[i] != (uint8_t)(r.chunk[i - 1] + 1))
                        abort(); /* bytes from different places of the stream */
#ifdef FUZZ_STREAM_STRICT
            if (seen[dir] && r.chunk_off + r.new_off > seen_end[dir] &&
                !has_event(&r, DEV_STREAM_REASSEMBLY_SEQ_GAP))
                abort(); /* delivered bytes that no chunk carried */
            seen_end[dir] = r.chunk_off + r.len;
            seen[dir] = true;
#endif
        }
#ifdef FUZZ_STREAM_STRICT
        if (!r.tracked || has_event(&r, DEV_STREAM_REASSEMBLY_SEQ_GAP))
            seen[dir] = false; /* left to packet inspection, or a hole: start over */
#endif
        if (consistent && has_event(&r, DEV_STREAM_REASSEMBLY_OVERLAP_DIFFERENT_DATA))
            abort(); /* every copy of a byte was the same */
        uint64_t mu = stream_engine_memuse(se);
        if (mu > cfg.memcap || stats_get(&stats, STAT_TCP_MEMUSE) != mu)
            abort();
        int st = stream_flow_state(&f);
        if (st < TCP_NONE || st > TCP_CLOSED || tcp_state_name(st) == NULL)
            abort();
        if (f.tcp == NULL && (r.tracked || st != TCP_NONE))
            abort();
        uint64_t nb;
        if (stream_flow_bytes(&f, dir, &nb) && f.tcp == NULL)
            abort();

        /* Where each direction has got to. */
        uint32_t end = first + (uint32_t)len + ((flags & TCP_FIN) ? 1 : 0);
        if (!started[dir] || SEQ_GT(end, cur[dir]))
            cur[dir] = end;
        started[dir] = true;
    }

    stream_flow_free(se, &f);
    if (f.tcp != NULL || stream_engine_memuse(se) != 0 || stats_get(&stats, STAT_TCP_MEMUSE) != 0)
        abort();
    stream_engine_free(se);
    defrag_config_release(&dcfg);
    return 0;
}
