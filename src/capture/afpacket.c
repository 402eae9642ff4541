/* AF_PACKET TPACKET_V3 capture with fanout; see afpacket.h. */
#include "capture/afpacket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "decode/decode.h"
#include "util/log.h"

struct afp_socket {
    int fd;
    uint8_t *ring;
    size_t ring_len;
    uint32_t block_size, blocks, cur;
    uint64_t cnt;
};

struct afp_filter {
    struct bpf_program prog;
};

int afp_filter_compile(const struct capture_filter *f, struct afp_filter **out)
{
    *out = NULL;
    if (!capture_filter_present(f))
        return 0;
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, CAPTURE_SNAPLEN);
    struct afp_filter *flt = calloc(1, sizeof *flt);
    if (dead == NULL || flt == NULL) {
        log_error("af-packet: out of memory compiling the BPF filter");
        goto fail;
    }
    if (pcap_compile(dead, &flt->prog, f->expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        log_error("%s: bad BPF filter '%s': %s", f->origin, f->expr, pcap_geterr(dead));
        goto fail;
    }
    pcap_close(dead);
    log_info("af-packet: BPF filter '%s' (%s)", f->expr, f->origin);
    *out = flt;
    return 0;
fail:
    free(flt);
    if (dead)
        pcap_close(dead);
    return -1;
}

void afp_filter_free(struct afp_filter *flt)
{
    if (flt == NULL)
        return;
    pcap_freecode(&flt->prog);
    free(flt);
}

static int attach_filter(int fd, const struct afp_filter *flt)
{
    /* libpcap's instructions have the kernel's layout */
    struct sock_fprog fp = { .len = (unsigned short)flt->prog.bf_len,
                             .filter = (struct sock_filter *)flt->prog.bf_insns };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp);
}

struct afp_socket *afp_open(const char *iface, uint16_t group, uint32_t block_size,
                            uint32_t blocks, const struct afp_filter *filter)
{
    struct afp_socket *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    /* Protocol 0: the socket receives nothing until bind() names the
     * protocol and the interface, after the ring and the filter are in
     * place; there is nothing unfiltered, or from another interface, to
     * drain. */
    s->fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (s->fd < 0) {
        log_error("af-packet: socket: %s (root or CAP_NET_RAW needed)", strerror(errno));
        free(s);
        return NULL;
    }
    int v = TPACKET_V3;
    struct tpacket_req3 req = {
        .tp_block_size = block_size,
        .tp_block_nr = blocks,
        .tp_frame_size = 2048,
        .tp_frame_nr = (block_size / 2048) * blocks,
        .tp_retire_blk_tov = 50, /* ms: a partly filled block is handed over */
    };
    unsigned ifindex = if_nametoindex(iface);
    struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = (int)ifindex };
    uint32_t fanout_arg = group | ((uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);
    int fanout;
    memcpy(&fanout, &fanout_arg, sizeof fanout); /* the kernel reads the bits */
    if (ifindex == 0) {
        log_error("af-packet: no interface %s", iface);
        goto fail;
    }
    if (setsockopt(s->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0 ||
        setsockopt(s->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) {
        log_error("af-packet: %s: cannot set up a TPACKET_V3 ring: %s", iface, strerror(errno));
        goto fail;
    }
    s->ring_len = (size_t)block_size * blocks;
    s->ring = mmap(NULL, s->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, s->fd, 0);
    if (s->ring == MAP_FAILED)
        s->ring = mmap(NULL, s->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
    if (s->ring == MAP_FAILED) {
        s->ring = NULL;
        log_error("af-packet: %s: mmap: %s", iface, strerror(errno));
        goto fail;
    }
    s->block_size = block_size;
    s->blocks = blocks;
    if (filter != NULL && attach_filter(s->fd, filter) < 0) {
        log_error("af-packet: %s: cannot attach the BPF filter: %s", iface, strerror(errno));
        goto fail;
    }
    if (bind(s->fd, (struct sockaddr *)&ll, sizeof ll) < 0) {
        log_error("af-packet: %s: bind: %s", iface, strerror(errno));
        goto fail;
    }
    struct packet_mreq mr = { .mr_ifindex = (int)ifindex, .mr_type = PACKET_MR_PROMISC };
    setsockopt(s->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr);
    if (setsockopt(s->fd, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof fanout) < 0) {
        log_error("af-packet: %s: fanout group %u: %s", iface, group, strerror(errno));
        goto fail;
    }
    return s;
fail:
    afp_close(s);
    return NULL;
}

void afp_run(struct afp_socket *s, capture_cb cb, capture_idle_cb idle, void *ctx,
             volatile sig_atomic_t *stop)
{
    while (!*stop) {
        struct tpacket_block_desc *bd =
            (struct tpacket_block_desc *)(s->ring + (size_t)s->cur * s->block_size);
        if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
            if (idle)
                idle(ctx);
            struct pollfd pfd = { .fd = s->fd, .events = POLLIN | POLLERR };
            poll(&pfd, 1, 100);
            continue;
        }
        uint32_t n = bd->hdr.bh1.num_pkts;
        struct tpacket3_hdr *h =
            (struct tpacket3_hdr *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
        bool quit = false;
        for (uint32_t i = 0; i < n && !quit; i++) {
            /* counted first: the initializers below are not evaluated in order */
            s->cnt++;
            struct capture_pkt cp = {
                .ts = { h->tp_sec, h->tp_nsec / 1000 },
                .caplen = h->tp_snaplen,
                .wirelen = h->tp_len < h->tp_snaplen ? h->tp_snaplen : h->tp_len,
                .linktype = LINK_ETHERNET,
                .cnt = s->cnt,
                .first_in_file = s->cnt == 1,
                .data = (const uint8_t *)h + h->tp_mac,
            };
            if (cb(ctx, &cp) != 0)
                quit = true;
            h = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
        }
        __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        s->cur = (s->cur + 1) % s->blocks;
        if (quit)
            break;
    }
}

void afp_stats(struct afp_socket *s, struct capture_live_stats *ks)
{
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    memset(ks, 0, sizeof *ks);
    if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
        ks->packets = st.tp_packets;
        ks->drops = st.tp_drops;
    }
}

void afp_close(struct afp_socket *s)
{
    if (s == NULL)
        return;
    if (s->ring)
        munmap(s->ring, s->ring_len);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}
