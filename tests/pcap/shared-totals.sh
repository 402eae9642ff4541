#!/usr/bin/env bash
# Packet and byte totals over every capture in ../shared/pcaps.
#
# For each row of SOURCES.tsv: run caracal; it must not crash (exit < 124).
# For link types caracal decodes (ether rawip rawip4 rawip6 linux-sll
# linux-sll2 null) the final stats must give decoder.pkts == the `packets`
# column (capinfos -c) and decoder.bytes == the sum of the captured lengths of
# the complete records in the file, each cut to the file's snaplen as libpcap
# does (computed here: the `bytes` column is the file size, and capinfos'
# "data size" is the sum of wire lengths).
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

# Checks one run. capsum(): count and caplen sum of the complete records of a pcap/pcapng file.
read -r -d '' CHECK <<'EOF'
import struct, sys
# libpcap (and so Suricata) cuts a record longer than the file's snaplen down to it.
def clamp(snap): return snap if 0 < snap <= 262144 else 262144
def pcap(f, head):
    bo = "<" if head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    snap = clamp(struct.unpack(bo + "I", f.read(20)[12:16])[0])
    n = tot = 0
    while True:
        h = f.read(16)
        if len(h) < 16: break
        cap = struct.unpack(bo + "IIII", h)[2]
        if len(f.read(cap)) < cap: break
        n += 1; tot += min(cap, snap)
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
                snap[nif] = clamp(struct.unpack(bo + "I", body[4:8])[0]); nif += 1
            elif btype in (2, 6):  # (obsolete) packet block, enhanced packet block
                ifid = struct.unpack(bo + "I", body[:4])[0] & (0xFFFF if btype == 2 else 0xFFFFFFFF)
                cap = struct.unpack(bo + "I", body[12:16])[0]
                n += 1; tot += min(cap, snap.get(ifid, 262144))
            elif btype == 3:
                wire = struct.unpack(bo + "I", body[:4])[0]
                n += 1; tot += min(wire, snap.get(0, 262144))
    return n, tot
def capsum(path):
    with open(path, "rb") as f:
        head = f.read(4)
        if head == b"\x0a\x0d\x0d\x0a":
            f.seek(0); return pcapng(f)
        return pcap(f, head)
import json, os
pcaps, file, link, pkts, rc, out = sys.argv[1:7]
rc = int(rc)
final = {}
try:
    for line in open(os.path.join(out, "eve.json"), encoding="utf-8", errors="replace"):
        if '"stats"' in line:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event_type") == "stats": final = ev.get("stats", {})
except OSError:
    pass
dec = final.get("decoder", {})
got = (dec.get("pkts"), dec.get("bytes"))
def last(path):
    try: return open(path, errors="replace").read().strip().splitlines()[-1]
    except (OSError, IndexError): return ""
if rc >= 124:
    print("MISS %s: exit %d (crash, sanitizer abort or hang): %s" % (file, rc, last(os.path.join(out, "stdout"))))
elif link in ("ether", "rawip", "rawip4", "rawip6", "linux-sll", "linux-sll2", "null"):
    n, caplen_sum = capsum(os.path.join(pcaps, file))
    # When capinfos counts a record that cannot be read whole, only packets are compared.
    want = (int(pkts), caplen_sum if n == int(pkts) else got[1])
    if got != want:
        print("MISS %s (%s): decoder.pkts/bytes %s/%s, expected %s/%s (exit %d)"
              % (file, link, got[0], got[1], want[0], want[1], rc))
    else:
        print("PASS " + file)
elif rc == 0 and not final:
    print("MISS %s (%s): exit 0 with no stats and no error" % (file, link))
else:
    print("PASS " + file)
EOF
export CHECK

one() {   # one FILE LINKTYPE PACKETS: prints PASS or MISS
    local file=$1 out rc
    out=$(mktemp -d)
    timeout 120 "$CARACAL" -r "$pcaps/$file" -l "$out" -c "$TOP_SRCDIR/etc/caracal.yaml" -k none \
        >"$out/stdout" 2>&1
    rc=$?
    python3 -c "$CHECK" "$pcaps" "$file" "$2" "$3" "$rc" "$out"
    rm -rf "$out"
}
export -f one
export pcaps


if [ ! -f "$pcaps/SOURCES.tsv" ]; then
    echo "SKIP: shared captures absent ($pcaps)"; exit 77
fi
[ -x "$CARACAL" ] || { echo "no executable caracal at $CARACAL"; exit 1; }

# ONLY=REGEX limits the run to matching files (for debugging).
results=$(awk -F'\t' -v only="${ONLY:-.}" 'NR > 1 && $1 != "" && $1 ~ only { print $1 "\t" $6 "\t" $7 }' "$pcaps/SOURCES.tsv" |
    xargs -P "${JOBS:-2}" -d '\n' -n 1 bash -c 'IFS=$'"'"'\t'"'"' read -r f l p <<<"$0"; one "$f" "$l" "$p"')
grep '^MISS' <<<"$results"
pass=$(grep -c '^PASS' <<<"$results")
fail=$(grep -c '^MISS' <<<"$results")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
