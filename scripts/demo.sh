#!/usr/bin/env bash
# demo.sh — quick start (a): install the build dependencies, build caracal,
# and run it on the bundled capture pcaps/demo.pcap with the bundled rules
# rules/demo.rules. Events go to out/demo/eve.json.
#
# Needs nothing outside this repository. Run as root on a fresh Debian 12
# machine (root is only needed when packages are missing).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

say() { printf '\n==> %s\n' "$*"; }

say "Installing build dependencies"
scripts/install-deps.sh

say "Building"
[ -x configure ] || ./autogen.sh
mkdir -p build
[ -f build/Makefile ] || (cd build && ../configure)
make -C build -j"$(nproc)"

for f in pcaps/demo.pcap rules/demo.rules etc/caracal.yaml; do
    [ -f "$f" ] || { echo "demo: $f is missing from this checkout" >&2; exit 1; }
done

out=out/demo
rm -rf "$out"
mkdir -p "$out"

say "Running: build/src/caracal -c etc/caracal.yaml -S rules/demo.rules -r pcaps/demo.pcap -l $out"
rc=0
build/src/caracal -c etc/caracal.yaml -S rules/demo.rules -r pcaps/demo.pcap -l "$out" || rc=$?
if [ $rc -ne 0 ]; then
    echo "demo: caracal exited with status $rc" >&2
    exit $rc
fi

eve=$out/eve.json
if [ -s "$eve" ]; then
    say "One event of each type from $eve"
    python3 - "$eve" <<'PY'
import json, sys
seen = {}
with open(sys.argv[1]) as f:
    for line in f:
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        t = ev.get("event_type", "?")
        if t not in seen:
            seen[t] = ev
for t, ev in seen.items():
    text = json.dumps(ev, separators=(",", ":"))
    print(text if len(text) <= 700 else text[:697] + "...")
PY
fi

say "Done. Full event log: $top/$eve"
