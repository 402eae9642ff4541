#!/usr/bin/env bash
# Packet and byte totals over every capture in ../shared/pcaps.
#
# For each row of SOURCES.tsv: run caracal; it must not crash (exit < 124).
# For link types caracal decodes (ether rawip rawip4 rawip6 linux-sll
# linux-sll2 null) the final stats must give decoder.pkts == the `packets`
# column (capinfos -c) and decoder.bytes == the sum of the captured lengths of
# the complete records in the file (computed here: the `bytes` column is the
# file size, and capinfos' "data size" is the sum of wire lengths).
# Other link types must end with an error exit or with stats.
# Prints each miss and "N passed, N failed". Skips (77) without ../shared.
# Env: CARACAL, TOP_SRCDIR (defaults ./src/caracal, the repo root); JOBS (2).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${TOP_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${CARACAL:=$TOP_BUILDDIR/src/caracal}"
export TOP_SRCDIR CARACAL TZ=UTC
pcaps="$TOP_SRCDIR/../shared/pcaps"

# Sum of caplen and count of complete records of a pcap or pcapng file.
read -r -d '' CAPSUM <<'EOF'
import struct, sys
def pcap(f, head):
    bo = "<" if head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    f.read(20)
    n = tot = 0
    while True:
        h = f.read(16)
        if len(h) < 16: break
        cap = struct.unpack(bo + "IIII", h)[2]
        if len(f.read(cap)) < cap: break
        n += 1; tot += cap
    return n, tot
def pcapng(f):
    n = tot = 0; bo = "<"; snap = {}; nif = 0
    while True:
        h = f.read(8)
        if len(h) < 8: break
        if h[:4] == b"\x0a\x0d\x0d\x0a":
            magic = f.read(4)
            if len(magic) < 4: break
            bo = "<" if magic == b"\x4d\x3c\x2b\x1a" else ">"
            blen = struct.unpack(bo + "I", h[4:])[0]
            body = magic + f.read(blen - 12)
            snap = {}; nif = 0
        else:
            btype, blen = struct.unpack(bo + "II", h)
            if blen < 12: break
            body = f.read(blen - 8)
            if len(body) < blen - 8: break
            if btype == 1:
                snap[nif] = struct.unpack(bo + "I", body[4:8])[0]; nif += 1
            elif btype == 6:
                cap = struct.unpack(bo + "I", body[12:16])[0]; n += 1; tot += cap
            elif btype == 2:
                cap = struct.unpack(bo + "I", body[12:16])[0]; n += 1; tot += cap
            elif btype == 3:
                wire = struct.unpack(bo + "I", body[:4])[0]
                s = snap.get(0, 0) or wire
                n += 1; tot += min(wire, s)
    return n, tot
with open(sys.argv[1], "rb") as f:
    head = f.read(4)
    if head == b"\x0a\x0d\x0d\x0a":
        f.seek(0); r = pcapng(f)
    else:
        r = pcap(f, head)
print(*r)
EOF
export CAPSUM

one() {   # one FILE LINKTYPE PACKETS
    local file=$1 link=$2 pkts=$3 out rc got sup want_bytes
    out=$(mktemp -d)
    timeout 120 "$CARACAL" -r "$pcaps/$file" -l "$out" -c "$TOP_SRCDIR/etc/caracal.yaml" -k none \
        >"$out/stdout" 2>&1
    rc=$?
    got=$(grep '"event_type":"stats"' "$out/eve.json" 2>/dev/null | tail -1 | python3 -c '
import json, sys
s = json.loads(sys.stdin.read() or "{}").get("stats", {}).get("decoder", {})
print(s.get("pkts", ""), s.get("bytes", ""))' 2>/dev/null)
    case $link in ether|rawip|rawip4|rawip6|linux-sll|linux-sll2|null) sup=1 ;; *) sup=0 ;; esac
    if [ "$rc" -ge 124 ]; then
        echo "MISS $file: exit $rc (crash, sanitizer abort or hang): $(tail -1 "$out/stdout")"
    elif [ $sup = 1 ]; then
        want_bytes=$(python3 -c "$CAPSUM" "$pcaps/$file" | cut -d' ' -f2)
        if [ "$got" != "$pkts $want_bytes" ]; then
            echo "MISS $file ($link): decoder.pkts/bytes ${got:-none} vs expected $pkts $want_bytes (exit $rc)"
        else
            echo "PASS $file"
        fi
    elif [ "$rc" = 0 ] && [ -z "$got" ]; then
        echo "MISS $file ($link): exit 0 with no stats and no error"
    else
        echo "PASS $file"
    fi
    rm -rf "$out"
}
export -f one
export pcaps


if [ ! -f "$pcaps/SOURCES.tsv" ]; then
    echo "SKIP: shared captures absent ($pcaps)"; exit 77
fi
[ -x "$CARACAL" ] || { echo "no executable caracal at $CARACAL"; exit 1; }

results=$(awk -F'\t' 'NR > 1 && $1 != "" { print $1 "\t" $6 "\t" $7 }' "$pcaps/SOURCES.tsv" |
    xargs -P "${JOBS:-2}" -d '\n' -n 1 bash -c 'IFS=$'"'"'\t'"'"' read -r f l p <<<"$0"; one "$f" "$l" "$p"')
grep '^MISS' <<<"$results"
pass=$(grep -c '^PASS' <<<"$results")
fail=$(grep -c '^MISS' <<<"$results")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
