/*
 * IPv4 and IPv6 defragmentation.
 *
 * The reader thread hands every decoded fragment (PKT_FRAGMENT) to
 * defrag_packet(). Fragments are kept per datagram in a tracker; overlaps
 * are resolved the way the destination host resolves them (its target
 * policy), so the datagram caracal inspects is the one the host sees. When
 * a datagram is complete it is rebuilt as a raw IP packet for the decoders.
 *
 * One table per thread, no locks: the reader is its only user.
 */
#ifndef CARACAL_DECODE_DEFRAG_H
#define CARACAL_DECODE_DEFRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "decode/decode.h"

struct stats;

/*
 * Target policies: who wins the bytes two fragments both carry. "Original"
 * is the data already held, "new" the fragment arriving; offsets are those
 * of the stored data (a host trims what it keeps, and so do we).
 *
 *   policy     new data wins when                       hosts (Novak, Paxson)
 *   ---------  ---------------------------------------  ----------------------
 *   FIRST      never                                    HP-UX 11, MacOS
 *   LAST       always                                   Cisco IOS
 *   BSD        it starts before the original            FreeBSD, AIX, IRIX
 *   BSD_RIGHT  it starts at or after the original       HP JetDirect
 *   LINUX      it starts at or before the original      Linux
 *   WINDOWS    it starts before and ends after it       Windows
 *   SOLARIS    it starts before and ends at or after    Solaris
 */
enum defrag_policy {
    DEFRAG_POLICY_FIRST,
    DEFRAG_POLICY_LAST,
    DEFRAG_POLICY_BSD,
    DEFRAG_POLICY_BSD_RIGHT,
    DEFRAG_POLICY_LINUX,
    DEFRAG_POLICY_WINDOWS,
    DEFRAG_POLICY_SOLARIS,
    DEFRAG_POLICY_COUNT
};

/* Defaults (Suricata's defrag settings; the default policy is linux). */
#define DEFRAG_DEFAULT_MEMCAP (32ull * 1024 * 1024)
#define DEFRAG_DEFAULT_TIMEOUT 60
#define DEFRAG_DEFAULT_MAX_FRAGS 65535
#define DEFRAG_DEFAULT_TRACKERS 65535

struct defrag_net_policy {
    uint8_t ip_ver;         /* 4 or 6 */
    uint8_t prefix;         /* bits */
    uint8_t addr[16];       /* network, host bits zero */
    int policy;
};

struct defrag_config {
    uint64_t memcap;        /* bytes held in trackers and fragments */
    uint32_t timeout_sec;   /* a datagram is given up this long after its first fragment */
    uint32_t max_frags;     /* stored fragment pieces, all trackers together */
    uint32_t trackers_max;  /* datagrams being reassembled at once */
    int default_policy;
    /* Per destination network, longest prefix wins (defrag_config_add_policy). */
    struct defrag_net_policy *policies;
    unsigned npolicies;
};

/* True when new data [ns, ne) wins the bytes it shares with held data
 * [oa, ob) under policy (the table above). The TCP stream engine uses it
 * too, with offsets into the stream. */
bool defrag_policy_new_wins(int policy, uint32_t ns, uint32_t ne, uint32_t oa, uint32_t ob);
/* The policy of destination dst: the longest matching prefix, else the default. */
int defrag_config_policy_for(const struct defrag_config *cfg, int ip_ver,
                             const struct ip_addr *dst);

/* Fills cfg with the defaults and no per-network policy. */
void defrag_config_init(struct defrag_config *cfg);
/* Sets the policy for destinations in cidr ("10.0.0.0/8", "2001:db8::/32",
 * or a bare address). Returns -1 on a bad cidr, policy or allocation. */
int defrag_config_add_policy(struct defrag_config *cfg, const char *cidr, int policy);
/* Frees the per-network list (the table keeps its own copy). */
void defrag_config_release(struct defrag_config *cfg);

/* A policy by name: first, last, bsd, bsd-right, linux, windows, solaris,
 * and Suricata's host-os-policy names (old-linux, old-solaris, hpux10,
 * hpux11, irix, macos, vista, windows2k3). -1 when unknown. */
int defrag_policy_parse(const char *name);
const char *defrag_policy_name(int policy);

struct defrag_table;

/* NULL on allocation failure or a bad config (a zero limit, an unknown
 * default policy). stats receives the defrag.* counters; events go through
 * the decode context of each call. */
struct defrag_table *defrag_new(const struct defrag_config *cfg, struct stats *stats);
void defrag_free(struct defrag_table *t);

/* Drops every tracker (the capture clock restarted, or the end of input). */
void defrag_flush(struct defrag_table *t);

enum defrag_status {
    DEFRAG_HELD,    /* the fragment is stored; nothing to do yet */
    DEFRAG_DONE,    /* the datagram is complete: out holds it */
    DEFRAG_DROPPED, /* not used: malformed, not a fragment, or a limit was hit */
};

struct defrag_result {
    const uint8_t *data;    /* a raw IP packet (LINK_RAW), owned by the table */
    uint32_t len;
    uint8_t ip_ver;
};

/*
 * Takes one decoded packet with PKT_FRAGMENT set. Events (overlaps, bad
 * lengths, too large datagrams) are recorded on p through dc. On
 * DEFRAG_DONE, out->data stays valid until the next defrag_packet(),
 * defrag_flush() or defrag_free() on the table.
 */
int defrag_packet(struct defrag_table *t, struct decode_ctx *dc, struct packet *p,
                  struct defrag_result *out);

#endif
