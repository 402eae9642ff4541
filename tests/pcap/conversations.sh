#!/usr/bin/env bash
# caracal's flow events against tshark's conversation tables.
#
# On small benign captures from ../shared/pcaps whose whole span is shorter
# than the shortest flow timeout (so no flow can time out and be split), the
# TCP and UDP flows caracal logs must be exactly tshark's `conv,tcp` and
# `conv,udp` conversations, keyed by the unordered address/port pair, with
# the same total packet count (pkts_toserver + pkts_toclient).
# Prints each miss and "N passed, N failed". Skips (77) without ../shared or tshark.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${TOP_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${CARACAL:=$TOP_BUILDDIR/src/caracal}"
export TZ=UTC
pcaps="$TOP_SRCDIR/../shared/pcaps"

# Chosen with capinfos -u (span < 30 s) and tshark -qz conv,tcp/conv,udp.
FILES="benign/ndpi__chrome.pcap benign/ndpi__ftp.pcap benign/ndpi__http_ipv6.pcap
benign/zeek__ftp-ipv6.pcap benign/ja4__latest.pcapng"

[ -d "$pcaps" ] || { echo "SKIP: shared captures absent ($pcaps)"; exit 77; }
command -v tshark >/dev/null || { echo "SKIP: tshark not installed"; exit 77; }
[ -x "$CARACAL" ] || { echo "no executable caracal at $CARACAL"; exit 1; }

read -r -d '' COMPARE <<'EOF'
import json, sys
name, eve, convfile = sys.argv[1:4]
def key(proto, a, ap, b, bp):
    return (proto,) + tuple(sorted([(a, int(ap)), (b, int(bp))]))
want = {}
proto = None
for line in open(convfile, encoding="utf-8", errors="replace"):
    if line.startswith("TCP Conversations"): proto = "TCP"
    elif line.startswith("UDP Conversations"): proto = "UDP"
    cols = line.split()
    if proto and len(cols) > 3 and cols[1] == "<->":
        # A <-> B, then frames and bytes (with a unit word) B->A, A->B, total; start, duration.
        nums = [c for c in cols[3:] if c.isdigit()]
        a, ap = cols[0].rsplit(":", 1)
        b, bp = cols[2].rsplit(":", 1)
        k = key(proto, a, ap, b, bp)
        want[k] = want.get(k, 0) + int(nums[4])  # total frames
got = {}
for line in open(eve, encoding="utf-8", errors="replace"):
    try: ev = json.loads(line)
    except ValueError: continue
    if ev.get("event_type") != "flow" or ev.get("proto") not in ("TCP", "UDP"): continue
    f = ev.get("flow", {})
    k = key(ev["proto"], ev.get("src_ip"), ev.get("src_port", 0), ev.get("dest_ip"), ev.get("dest_port", 0))
    got[k] = got.get(k, 0) + f.get("pkts_toserver", 0) + f.get("pkts_toclient", 0)
def fmt(k): return "%s %s:%d <-> %s:%d" % (k[0], k[1][0], k[1][1], k[2][0], k[2][1])
bad = 0
n_t = lambda d, p: sum(1 for k in d if k[0] == p)
for p in ("TCP", "UDP"):
    if n_t(want, p) != n_t(got, p):
        print("MISS %s: %s conversations: tshark %d, caracal %d" % (name, p, n_t(want, p), n_t(got, p))); bad += 1
for k in sorted(set(want) | set(got)):
    if want.get(k) != got.get(k):
        print("MISS %s: %s packets: tshark %s, caracal %s" % (name, fmt(k), want.get(k, "none"), got.get(k, "none")))
        bad += 1
sys.exit(1 if bad else 0)
EOF

pass=0; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for f in $FILES; do
    if [ ! -f "$pcaps/$f" ]; then echo "MISS $f: not found"; fail=$((fail+1)); continue; fi
    out="$tmp/$(basename "$f")"; mkdir -p "$out"
    timeout 120 "$CARACAL" -r "$pcaps/$f" -l "$out" -c "$TOP_SRCDIR/etc/caracal.yaml" -k none \
        >"$out/stdout" 2>&1
    rc=$?
    tshark -n -r "$pcaps/$f" -qz conv,tcp -qz conv,udp >"$out/conv.txt" 2>/dev/null
    if [ $rc -ne 0 ]; then
        echo "MISS $f: caracal exit $rc: $(tail -1 "$out/stdout")"; fail=$((fail+1))
    elif python3 -c "$COMPARE" "$f" "$out/eve.json" "$out/conv.txt"; then
        pass=$((pass+1))
    else
        fail=$((fail+1))
    fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
