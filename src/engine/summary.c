#include "engine/summary.h"

#include <stdlib.h>
#include <string.h>

#include "decode/decode_events.h"

struct named_count {
    const char *name;
    uint64_t n;
};

static int by_count_desc(const void *a, const void *b)
{
    const struct named_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->name, y->name);
}

static void print_list(FILE *out, const char *label, struct named_count *items, size_t n)
{
    fprintf(out, "  %-11s", label);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (items[i].n == 0)
            continue;
        fprintf(out, "%s%s %llu", first ? "" : ", ", items[i].name, (unsigned long long)items[i].n);
        first = false;
    }
    fprintf(out, "%s\n", first ? "none" : "");
}

void summary_print(FILE *out, const struct run_report *rep, const char *eve_path,
                   const char *fast_path)
{
    const uint64_t *c = rep->total.c;
    double secs = rep->wall_seconds > 0 ? rep->wall_seconds : 1e-9;
    char from[96];
    if (rep->source != NULL)
        snprintf(from, sizeof from, "%s", rep->source);
    else
        snprintf(from, sizeof from, "%u file%s", rep->prog.files_done,
                 rep->prog.files_done == 1 ? "" : "s");
    fprintf(out, "caracal: %llu packets, %llu bytes from %s in %.2f s (%.0f packets/s, %.1f Mbit/s)\n",
            (unsigned long long)rep->prog.pkts, (unsigned long long)rep->prog.bytes, from,
            rep->wall_seconds, (double)rep->prog.pkts / secs,
            (double)rep->prog.bytes * 8 / secs / 1e6);
    if (eve_path)
        fprintf(out, "  %-11s%s (%llu events)\n", "eve.json:", eve_path,
                (unsigned long long)rep->eve_events);
    if (fast_path)
        fprintf(out, "  %-11s%s (%llu alerts)\n", "fast.log:", fast_path,
                (unsigned long long)c[STAT_DETECT_ALERT]);
    struct named_count flows[] = {
        { "tcp", c[STAT_FLOW_TCP] }, { "udp", c[STAT_FLOW_UDP] },
        { "icmpv4", c[STAT_FLOW_ICMPV4] }, { "icmpv6", c[STAT_FLOW_ICMPV6] },
        { "other", c[STAT_FLOW_TOTAL] - c[STAT_FLOW_TCP] - c[STAT_FLOW_UDP] -
                       c[STAT_FLOW_ICMPV4] - c[STAT_FLOW_ICMPV6] },
    };
    fprintf(out, "  %-11s%llu", "flows:", (unsigned long long)c[STAT_FLOW_TOTAL]);
    if (c[STAT_FLOW_TOTAL]) {
        fprintf(out, " (");
        bool first = true;
        for (size_t i = 0; i < sizeof flows / sizeof *flows; i++) {
            if (!flows[i].n)
                continue;
            fprintf(out, "%s%s %llu", first ? "" : ", ", flows[i].name,
                    (unsigned long long)flows[i].n);
            first = false;
        }
        fprintf(out, ")");
    }
    fprintf(out, "\n");
    struct named_count protos[] = {
        { "ipv4", c[STAT_DECODER_IPV4] }, { "ipv6", c[STAT_DECODER_IPV6] },
        { "tcp", c[STAT_DECODER_TCP] }, { "udp", c[STAT_DECODER_UDP] },
        { "icmpv4", c[STAT_DECODER_ICMPV4] }, { "icmpv6", c[STAT_DECODER_ICMPV6] },
        { "gre", c[STAT_DECODER_GRE] }, { "vlan", c[STAT_DECODER_VLAN] + c[STAT_DECODER_VLAN_QINQ] },
        { "other-ethertype", c[STAT_DECODER_UNKNOWN_ETHERTYPE] },
        { "invalid", c[STAT_DECODER_INVALID] },
    };
    print_list(out, "protocols:", protos, sizeof protos / sizeof *protos);
    struct named_count events[] = {
        { "flow", rep->eve_by_type[0] }, { "anomaly", rep->eve_by_type[1] },
        { "stats", rep->eve_by_type[2] }, { "alert", rep->eve_by_type[3] },
        { "http", rep->eve_by_type[4] }, { "tls", rep->eve_by_type[5] },
        { "dns", rep->eve_by_type[6] }, { "other", rep->eve_by_type[7] },
    };
    print_list(out, "events:", events, sizeof events / sizeof *events);
    struct named_count anomalies[DECODE_EVENT_COUNT];
    for (int i = 0; i < DECODE_EVENT_COUNT; i++) {
        anomalies[i].name = decode_event_name(i);
        anomalies[i].n = c[STAT_EVENT_BASE + i];
    }
    qsort(anomalies, DECODE_EVENT_COUNT, sizeof *anomalies, by_count_desc);
    print_list(out, "anomalies:", anomalies, DECODE_EVENT_COUNT < 8 ? DECODE_EVENT_COUNT : 8);
}
