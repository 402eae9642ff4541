#!/usr/bin/env bash
# The flow events do not depend on the runmode: for each capture, the sorted
# flow events (every field) of `--runmode single` equal those of
# `--runmode workers` with 2 and with 3 worker threads.
# Captures: pcaps/demo.pcap always; a few from ../shared/pcaps when present.
# Prints each miss and "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${TOP_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${CARACAL:=$TOP_BUILDDIR/src/caracal}"
export TZ=UTC
shared="$TOP_SRCDIR/../shared/pcaps"
[ -x "$CARACAL" ] || { echo "no executable caracal at $CARACAL"; exit 1; }

files="$TOP_SRCDIR/pcaps/demo.pcap"
if [ -d "$shared" ]; then
    for f in benign/ndpi__http_ipv6.pcap benign/ja4__latest.pcapng edge/zeek__vlan-collisions.pcap \
             dos/stopddos__amp.tcp.reflection.synack.pcap dos/doup__udp__flood.pcap \
             attack/cl-agenttesla__a30789ce-1e1c-4f96-a097-78c34b9fb612.pcap; do
        [ -f "$shared/$f" ] && files="$files $shared/$f"
    done
else
    echo "note: shared captures absent ($shared); demo.pcap only"
fi

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
flows() {   # flows FILE OUTDIR ARGS... -> sorted flow events, one canonical JSON per line
    local f=$1 out=$2; shift 2
    mkdir -p "$out"
    timeout 120 "$CARACAL" -r "$f" -l "$out" -c "$TOP_SRCDIR/etc/caracal.yaml" -k none "$@" \
        >"$out/stdout" 2>&1
    echo $? >"$out/rc"
    python3 -c '
import json, sys
evs = []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try: ev = json.loads(line)
    except ValueError: continue
    if ev.get("event_type") == "flow": evs.append(json.dumps(ev, sort_keys=True))
print("\n".join(sorted(evs)))' "$out/eve.json" 2>/dev/null >"$out/flows"
}

pass=0; fail=0; i=0
for f in $files; do
    i=$((i+1)); name=${f#"$shared/"}; name=${name#"$TOP_SRCDIR/"}
    flows "$f" "$tmp/$i.single" --runmode single
    nbase=$(grep -c . "$tmp/$i.single/flows")
    ok=1
    for n in 2 3; do
        flows "$f" "$tmp/$i.w$n" --runmode workers --set threading.worker-threads=$n
        if [ "$(cat "$tmp/$i.single/rc")" != "$(cat "$tmp/$i.w$n/rc")" ]; then
            echo "MISS $name: exit single $(cat "$tmp/$i.single/rc"), workers/$n $(cat "$tmp/$i.w$n/rc")"; ok=0
        fi
        if ! cmp -s "$tmp/$i.single/flows" "$tmp/$i.w$n/flows"; then
            nw=$(grep -c . "$tmp/$i.w$n/flows")
            echo "MISS $name: flow events differ, single ($nbase) vs workers/$n ($nw):"
            diff "$tmp/$i.single/flows" "$tmp/$i.w$n/flows" | grep '^[<>]' | head -4 | cut -c1-400
            ok=0
        fi
    done
    if [ "$nbase" -eq 0 ]; then echo "MISS $name: no flow events at all"; ok=0; fi
    if [ $ok = 1 ]; then pass=$((pass+1)); else fail=$((fail+1)); fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
