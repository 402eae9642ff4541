#!/usr/bin/env bash
# bench.sh [CARACAL]   — what `make bench` runs (default binary: src/caracal)
#
# Throughput benchmark on the workload that ../shared/bench/make-bench-pcap.sh
# builds from the shared public captures (about 1.1 M packets, 426 MB). The
# workload is built once and cached outside the repository, in
# ${XDG_CACHE_HOME:-~/.cache}/caracal/bench.pcap; it is rebuilt only when the
# generator script changes.
#
# Runs, each timed with /usr/bin/time -v:
#   (a) --capture-only: read the capture and count packets (the floor)
#   (b) the full pipeline, --runmode single
#   (c) the full pipeline, --runmode workers
# then the ET Open rules from ../shared/rules/et-open: the load time with a
# cold and a warm compiled-rule cache, and (d)/(e) as (b)/(c) with the rules;
# (f) is (d) with the stream engine off (TCP payloads inspected per packet).
# "wall s" is packet processing as the sensor reports it, after rule
# loading ("load s" is the rest of the run: start-up and rule loading).
#
# Environment: BENCH_RULES=0 (skip the ET Open runs), BENCH_REPEAT=N (run each
# case N times and keep the fastest; default 1), BENCH_COPIES=N (copies in
# the workload; default the generator's), BENCH_PCAP=FILE (use this capture
# instead of building the workload), BENCH_KEEP=1 (keep the output dirs).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$top/src/caracal}
shared=$(cd "$top/.." && pwd)/shared
repeat=${BENCH_REPEAT:-1}
conf=$top/etc/caracal.yaml

[ -x "$bin" ] || { echo "bench: no executable $bin (run make first)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

# --- the workload ---------------------------------------------------------
cache=${XDG_CACHE_HOME:-$HOME/.cache}/caracal
if [ -n "${BENCH_PCAP:-}" ]; then
    pcap=$BENCH_PCAP
    [ -r "$pcap" ] || { echo "bench: cannot read $pcap" >&2; exit 1; }
else
    gen=$shared/bench/make-bench-pcap.sh
    if [ ! -f "$gen" ]; then
        echo "bench: $shared/bench/make-bench-pcap.sh not found."
        echo "bench: the benchmark workload is built from the shared capture corpus, which"
        echo "bench: sits in ../shared beside the repository; nothing to run without it."
        echo "bench: (set BENCH_PCAP=FILE to benchmark on a capture of your own)"
        exit 0
    fi
    for t in editcap mergecap capinfos tcprewrite; do
        command -v $t >/dev/null || {
            echo "bench: $t missing; run scripts/install-deps.sh (tshark, tcpreplay)" >&2; exit 1; }
    done
    mkdir -p "$cache"
    pcap=$cache/bench.pcap
    # The cache key: the generator's text and the number of copies.
    key="$(sha256sum <"$gen" | cut -d' ' -f1) copies=${BENCH_COPIES:-default}"
    if [ ! -s "$pcap" ] || [ "$(cat "$pcap.key" 2>/dev/null)" != "$key" ]; then
        echo "bench: building the workload into $pcap (once; a minute or so)"
        rm -f "$pcap" "$pcap.key" "$pcap.info"
        bash "$gen" "$pcap.tmp" ${BENCH_COPIES:+"$BENCH_COPIES"} >/dev/null
        mv "$pcap.tmp" "$pcap"
        printf '%s\n' "$key" >"$pcap.key"
    fi
fi

# Packet count and bytes of packet data, cached beside a built workload.
info=$pcap.info
if [ -n "${BENCH_PCAP:-}" ] || [ ! -s "$info" ] || [ "$info" -ot "$pcap" ]; then
    command -v capinfos >/dev/null || { echo "bench: capinfos missing (tshark)" >&2; exit 1; }
    # -M: exact numbers; -T: tab-separated; columns: name, packets, data bytes.
    line=$(capinfos -M -T -r -c -d "$pcap" | tail -1)
    pkts=$(cut -f2 <<<"$line"); bytes=$(cut -f3 <<<"$line")
    if [ -z "${BENCH_PCAP:-}" ]; then printf '%s %s\n' "$pkts" "$bytes" >"$info"; fi
else
    read -r pkts bytes <"$info"
fi

# --- running and measuring ------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/caracal-bench.XXXXXX")
[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

# Reads the capture once so that every case starts with it in the page cache.
cat "$pcap" >/dev/null

rows=()
declare -A wall_of

# measure LABEL ARGS... : runs caracal with ARGS on the workload BENCH_REPEAT
# times and appends the fastest run's row to the table.
measure() {
    local label=$1; shift
    local best="" best_row="" i
    for ((i = 1; i <= repeat; i++)); do
        local dir=$work/run-${#rows[@]}-$i
        mkdir -p "$dir"
        local t0 t1 rc=0
        t0=$(date +%s.%N)
        /usr/bin/time -v -o "$dir/time.txt" "$bin" -c "$conf" -r "$pcap" -l "$dir" "$@" \
            >"$dir/stdout.txt" 2>"$dir/stderr.txt" </dev/null || rc=$?
        t1=$(date +%s.%N)
        if [ $rc -ne 0 ]; then
            echo "bench: $label failed (exit $rc):" >&2
            tail -5 "$dir/stderr.txt" >&2
            rows+=("$(printf '%-34s %s' "$label" "failed (exit $rc)")")
            return 0
        fi
        local total wall cpu rss seen load
        total=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        # Packet processing time as the sensor reports it (after rule loading).
        wall=$(sed -n 's/^caracal: .* in \([0-9.]*\) s (.*/\1/p' "$dir/stdout.txt" | head -1)
        [ -n "$wall" ] && awk -v w="$wall" 'BEGIN { exit !(w > 0) }' || wall=$total
        load=$(awk -v t="$total" -v w="$wall" 'BEGIN { d = t - w; printf "%.2f", d < 0 ? 0 : d }')
        cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END { printf "%.2f", u + s }' "$dir/time.txt")
        rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$dir/time.txt")
        # Packets the sensor itself counted (final stats event), when it wrote one.
        # The final stats event is the last line of eve.json.
        seen=$( { tail -n 1 "$dir/eve.json" 2>/dev/null || true; } | python3 -c 'import json,sys
try: print(json.load(sys.stdin)["stats"]["decoder"]["pkts"])
except Exception: print("-")')
        if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$wall
            best_row=$(awk -v l="$label" -v w="$wall" -v p="$pkts" -v b="$bytes" -v c="$cpu" \
                           -v r="$rss" -v s="$seen" -v ld="$load" 'BEGIN {
                printf "%-34s %7.2f %8.2f %11.0f %9.1f %7.2f %8.1f  %s", l, ld, w, p / w, b * 8 / w / 1e6, c, r, s }')
        fi
        [ "${BENCH_KEEP:-0}" = 1 ] || rm -f "$dir/eve.json"
    done
    wall_of[$label]=$best
    rows+=("$best_row")
}

norules=(-S /dev/null)   # detection off: an empty rule file
workers=$(nproc)

echo "caracal benchmark"
echo "  binary:   $bin ($("$bin" -V 2>/dev/null | head -1 || echo "version unknown"))"
echo "  workload: $pcap ($pkts packets, $((bytes / 1000000)) MB of packet data)"
echo "  machine:  $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
[ "$repeat" -gt 1 ] && echo "  fastest of $repeat runs per case"
echo "  running..."

measure "(a) capture only" --capture-only
measure "(b) full, single" --runmode single "${norules[@]}"
measure "(c) full, workers ($workers)" --runmode workers "${norules[@]}"

loads=()
# load_time LABEL CACHE_DIR: times "caracal -T" with the ET rules.
load_time() {
    local label=$1 cache=$2 dir=$work/load-${#loads[@]}
    mkdir -p "$dir"
    local t0 t1 rc=0
    t0=$(date +%s.%N)
    /usr/bin/time -v -o "$dir/time.txt" "$bin" -c "$conf" -T -S "$work/et-open.rules" \
        --set "detect.sgh-mpm-caching-path=$cache" >"$dir/stdout.txt" 2>"$dir/stderr.txt" || rc=$?
    t1=$(date +%s.%N)
    local loaded rss
    loaded=$(grep -oE '[0-9]+ rules successfully loaded' "$dir/stdout.txt" | grep -oE '^[0-9]+')
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$dir/time.txt")
    loads+=("$(awk -v l="$label" -v a="$t0" -v b="$t1" -v r="$rss" -v n="${loaded:-0}" -v rc=$rc \
        'BEGIN { printf "%-34s %7.2f s  %8.1f MB  %s rules loaded (exit %d)", l, b - a, r, n, rc }')")
}

if [ "${BENCH_RULES:-1}" = 1 ]; then
    # With a real ruleset: every ET Open file concatenated into one rule file.
    et=$shared/rules/et-open
    if ls "$et"/*.rules >/dev/null 2>&1; then
        cat "$et"/*.rules >"$work/et-open.rules"
        nrules=$(grep -cE '^(alert|drop|pass|reject)' "$work/et-open.rules" || true)
        load_time "ET Open load, cold cache" "$work/hs-cache"
        load_time "ET Open load, warm cache" "$work/hs-cache"
        measure "(d) ET Open ($nrules), single" --runmode single -S "$work/et-open.rules" \
            --set "detect.sgh-mpm-caching-path=$work/hs-cache"
        measure "(e) ET Open ($nrules), workers" --runmode workers -S "$work/et-open.rules" \
            --set "detect.sgh-mpm-caching-path=$work/hs-cache"
        # The same without the stream engine: TCP payloads packet by packet.
        measure "(f) ET Open, single, no stream" --runmode single -S "$work/et-open.rules" \
            --set "detect.sgh-mpm-caching-path=$work/hs-cache" --set stream.enabled=no
    else
        echo "bench: BENCH_RULES=1 but no rules in $et; skipping the ruleset runs" >&2
    fi
fi

echo
printf '%-34s %7s %8s %11s %9s %7s %8s  %s\n' run "load s" "wall s" "packets/s" "Mbit/s" "CPU s" "RSS MB" "pkts seen"
printf '%s\n' "${rows[@]}"
if [ ${#loads[@]} -gt 0 ]; then
    echo
    printf '%s\n' "${loads[@]}"
fi
echo
a=${wall_of["(a) capture only"]:-}
b=${wall_of["(b) full, single"]:-}
c=${wall_of["(c) full, workers ($workers)"]:-}
if [ -n "$a" ] && [ -n "$b" ]; then
    awk -v a="$a" -v b="$b" -v c="${c:-0}" 'BEGIN {
        printf "(b)/(a) wall: %.2f", b / a
        if (c > 0) printf "    (c)/(a) wall: %.2f    (b)/(c) speed-up: %.2f", c / a, b / c
        printf "\n" }'
fi
echo "CPU s = user + system of the whole run, rule loading included; RSS = peak resident set size;"
echo "pkts seen = decoder.pkts in the final stats event; packets/s and Mbit/s are over \"wall s\"."
[ "${BENCH_KEEP:-0}" != 1 ] || echo "run directories kept in $work"

# Inline figures (root only; a measurement from network namespaces).
if [ "${BENCH_INLINE:-1}" = 1 ]; then
    echo
    "$(dirname "$0")/bench-inline.sh" "$bin"
fi
