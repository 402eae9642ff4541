#!/usr/bin/env bash
# The EVE records caracal writes validate against Suricata's published
# schema (../shared/reference/eve-schema.json): every event of a run over
# the bundled demo capture and over the shared captures of HTTP, TLS and
# DNS traffic listed below, with the ET Open rules when present (so alerts
# carry their http/tls/dns objects). Each event is checked whole; the
# app-layer event types must all be present.
# Skips (77) without ../shared or without python3-jsonschema.
# Env: CARACAL, TOP_SRCDIR, TOP_BUILDDIR.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${TOP_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${CARACAL:=$TOP_BUILDDIR/src/caracal}"
export TZ=UTC
shared="$TOP_SRCDIR/../shared"
schema="$shared/reference/eve-schema.json"
if [ ! -f "$schema" ]; then
    echo "eve-schema: SKIP: $schema not found (the shared corpus is not beside the repo)"
    exit 77
fi
if command -v python3 >/dev/null 2>&1; then py=python3; else py=/usr/bin/python3; fi
if ! "$py" -c 'import jsonschema' 2>/dev/null; then
    echo "eve-schema: SKIP: python3 module jsonschema missing (Debian: python3-jsonschema)"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rules=()
if ls "$shared"/rules/et-open/*.rules >/dev/null 2>&1; then
    cat "$shared"/rules/et-open/*.rules >"$work/et.rules"
    rules=(-S "$work/et.rules" --set "detect.sgh-mpm-caching-path=$work/hs")
fi
captures=("$TOP_SRCDIR/pcaps/demo.pcap")
for name in attack/cl-log4j__log4j-user_agent.pcap attack/cl-agenttesla__a30789ce-1e1c-4f96-a097-78c34b9fb612.pcap \
            attack/cl-asyncrat__9596cf60-0da6-47a7-a375-1f25ae32d843.pcap benign; do
    [ -e "$shared/pcaps/$name" ] && captures+=("$shared/pcaps/$name")
done
i=0
for c in "${captures[@]}"; do
    mkdir -p "$work/run$i"
    "$CARACAL" -c "$TOP_SRCDIR/etc/caracal.yaml" --runmode single -r "$c" -l "$work/run$i" \
        --set outputs.0.eve-log.types.1.http.dump-all-headers=both "${rules[@]}" \
        >"$work/run$i.out" 2>&1
    rc=$?
    if [ $rc -ge 124 ] || [ ! -s "$work/run$i/eve.json" ]; then
        echo "FAIL eve-schema: caracal on $c exited $rc"; cat "$work/run$i.out"; exit 1
    fi
    i=$((i + 1))
done
cat "$work"/run*/eve.json >"$work/all.json"
exec "$py" - "$schema" "$work/all.json" <<'PY'
import json, sys, collections
import jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
v = cls(schema)
bad = 0
seen = collections.Counter()
for n, line in enumerate(open(sys.argv[2]), 1):
    ev = json.loads(line)
    t = ev.get("event_type")
    seen[t] += 1
    if t == "alert" and any(k in ev for k in ("http", "tls", "dns")):
        seen["alert+app"] += 1
    if t == "stats":
        # caracal's own counters of packets with bad IPv4/TCP/UDP/ICMP
        # checksums (docs/eve.md), which Suricata's stats do not have
        ev["stats"].pop("checksum", None)
    errs = sorted(v.iter_errors(ev), key=lambda e: list(e.path))
    for e in errs[:3]:
        bad += 1
        if bad <= 20:
            print("FAIL eve-schema: %s event: %s: %s" % (t, "/".join(map(str, e.path)), e.message[:200]))
need = ["http", "tls", "dns", "flow", "alert", "alert+app"]
for t in need:
    if seen[t] == 0:
        bad += 1
        print("FAIL eve-schema: no %s events to check" % t)
print("eve-schema: %d events checked (%s)" % (sum(v for k, v in seen.items() if k != "alert+app"),
      ", ".join("%s %d" % kv for kv in sorted(seen.items()))))
print("%d passed, %d failed" % (0 if bad else 1, 1 if bad else 0))
sys.exit(1 if bad else 0)
PY
