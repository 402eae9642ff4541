#!/usr/bin/env bash
# bench-inline.sh CARACAL [RULES]
#
# Inline figures from network namespaces: client -- router -- server, the
# router forwarding through `iptables -j NFQUEUE` with caracal on the queue.
# Two loads, each without the sensor (plain forwarding) and with it:
#   - requests: HTTP GETs of a small file, a new connection each, from 8
#     client threads for DURATION seconds (python3 http.server on the
#     server), ROUNDS times each way, alternating: the median requests/s,
#     and the verdict latency caracal adds per packet (p50, p99) under this
#     load, which does not saturate the sensor;
#   - bulk: one 256 MB download: Mbit/s, caracal's CPU seconds per Gbit, and
#     the latency while the sensor is the bottleneck (it includes the time
#     packets wait in the queue, so it measures queueing more than work).
# The latency is caracal's own account (see docs/running.md), twice: from
# when caracal reads the packet, and from the kernel's receive timestamp of
# it (with the wait in the queue), to its verdict handed to the kernel. A
# fresh caracal runs each load. RULES defaults to every ET Open file in
# ../shared (else rules/demo.rules). Needs root, ip netns, iptables with
# NFQUEUE, python3, curl; prints "skipped" and exits 0 otherwise (it is a
# measurement).
# Environment: DURATION (seconds per request run, default 5), ROUNDS (request
# runs each way, default 5), BENCH_INLINE_ARGS
# (extra caracal arguments, e.g. "--set stream.enabled=no").
set -u
bin=${1:?usage: bench-inline.sh CARACAL [RULES]}
top=$(cd "$(dirname "$0")/.." && pwd)
rules=${2:-}
duration=${DURATION:-5}
rounds=${ROUNDS:-5}

skip() { echo "bench-inline: skipped: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root"
for t in ip iptables python3 curl; do command -v $t >/dev/null 2>&1 || skip "no $t"; done
"$bin" --build-info | grep -q "nfqueue: *yes" || skip "caracal built without NFQUEUE"

work=$(mktemp -d)
c=bc-$$ r=br-$$ s=bs-$$
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for n in $c $r $s; do ip netns del $n 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$rules" ]; then
    if ls "$top"/../shared/rules/et-open/*.rules >/dev/null 2>&1; then
        cat "$top"/../shared/rules/et-open/*.rules >"$work/rules"
        rules_name="ET Open"
    else
        cp "$top/rules/demo.rules" "$work/rules"
        rules_name="rules/demo.rules"
    fi
else
    cp "$rules" "$work/rules"
    rules_name=$rules
fi

for n in $c $r $s; do ip netns add $n || skip "cannot create namespaces"; done
ip link add bc0 type veth peer name br0
ip link add br1 type veth peer name bs0
ip link set bc0 netns $c; ip link set br0 netns $r; ip link set br1 netns $r; ip link set bs0 netns $s
ip -n $c addr add 198.18.5.2/24 dev bc0
ip -n $r addr add 198.18.5.1/24 dev br0
ip -n $r addr add 198.18.6.1/24 dev br1
ip -n $s addr add 198.18.6.2/24 dev bs0
for n in $c $r $s; do ip -n $n link set lo up; done
ip -n $c link set bc0 up; ip -n $r link set br0 up; ip -n $r link set br1 up; ip -n $s link set bs0 up
ip -n $c route add default via 198.18.5.1
ip -n $s route add default via 198.18.6.1
ip netns exec $r sysctl -qw net.ipv4.ip_forward=1
# no offloads: the sensor sees the packets as they travel
for x in "$c bc0" "$r br0" "$r br1" "$s bs0"; do
    set -- $x; ip netns exec $1 ethtool -K $2 tso off gso off gro off >/dev/null 2>&1 || true
done

mkdir -p "$work/www"
echo "hello" >"$work/www/small.txt"
# random bytes: long runs of zeros would hit the many binary fast patterns of
# ET rules on every segment, which real bulk data (compressed, encrypted) does not
head -c $((256 << 20)) /dev/urandom >"$work/www/big.bin"
(cd "$work/www" && exec ip netns exec $s python3 -m http.server 8080 --bind 198.18.6.2) \
    >/dev/null 2>&1 &
pids+=($!)
sleep 1

cat >"$work/load.py" <<'PY'
import http.client, sys, threading, time
host, secs = sys.argv[1], float(sys.argv[2])
count = [0] * 8
stop = time.time() + secs
def run(i):
    while time.time() < stop:
        try:
            c = http.client.HTTPConnection(host, 8080, timeout=5)
            c.request("GET", "/small.txt")
            c.getresponse().read()
            c.close()
            count[i] += 1
        except Exception:
            pass
ts = [threading.Thread(target=run, args=(i,)) for i in range(8)]
t0 = time.time()
for t in ts: t.start()
for t in ts: t.join()
print("%.0f" % (sum(count) / (time.time() - t0)))
PY

requests() { # requests/s
    ip netns exec $c python3 "$work/load.py" 198.18.6.2 "$duration"
}
bulk() { # Mbit/s
    ip netns exec $c curl -s -o /dev/null -w '%{speed_download}' \
        http://198.18.6.2:8080/big.bin | awk '{ printf "%.0f", $1 * 8 / 1e6 }'
}

echo "caracal inline benchmark ($rules_name; $rounds x $duration s of requests each way, a 256 MB download)"
base_mbit=$(bulk)

queue_on() { ip netns exec $r iptables -A FORWARD -j NFQUEUE --queue-num 0; }
queue_off() { ip netns exec $r iptables -D FORWARD -j NFQUEUE --queue-num 0; }
queue_on || skip "iptables NFQUEUE unavailable"
queue_off
run=0
sensor_start() {
    run=$((run + 1))
    mkdir -p "$work/log$run"
    ip netns exec $r "$bin" -c "$top/etc/caracal.yaml" \
        -q 0 -S "$work/rules" -l "$work/log$run" --set detect.sgh-mpm-caching-path="$work/hs" \
        ${BENCH_INLINE_ARGS:-} >"$work/caracal$run.out" 2>&1 &
    cpid=$!
    pids+=($cpid)
    for _ in $(seq 1 600); do
        grep -q "ready" "$work/caracal$run.out" 2>/dev/null && break
        sleep 0.1
    done
    grep -q "ready" "$work/caracal$run.out" ||
        { echo "bench-inline: caracal did not start:"; tail -5 "$work/caracal$run.out"; exit 1; }
}
# Stops the sensor; sets lat and klat (its verdict latency in caracal, and
# from the kernel's receive), cpu (its CPU seconds) and bytes (what it inspected).
sensor_stop() {
    # CPU time so far (ip netns exec execs caracal: same pid), in seconds
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' /proc/$cpid/stat)
    kill -TERM "$cpid" 2>/dev/null
    wait "$cpid" 2>/dev/null
    lat=$(grep -o "in caracal p50 [0-9]* us, p99 [0-9]* us" "$work/caracal$run.out" | head -1)
    lat=${lat#in caracal }
    klat=$(grep -o "receive p50 [0-9]* us, p99 [0-9]* us" "$work/caracal$run.out" | head -1)
    klat=${klat#receive }
    bytes=$(python3 -c 'import json,sys
s=[json.loads(l) for l in open(sys.argv[1]) if "\"stats\"" in l]
print(s[-1]["stats"]["decoder"]["bytes"] if s else 0)' "$work/log$run/eve.json")
}

# Request runs alternate, without the sensor (no NFQUEUE rule; caracal
# stays bound and idle) and through it, so that both sides see the same
# moods of a shared machine; the medians are compared.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
sensor_start
base_all=() ips_all=()
for _ in $(seq 1 "$rounds"); do
    base_all+=("$(requests)")
    queue_on
    ips_all+=("$(requests)")
    queue_off
done
sensor_stop
lat_req=$lat klat_req=$klat
base_rps=$(median "${base_all[@]}")
ips_rps=$(median "${ips_all[@]}")

queue_on
sensor_start
ips_mbit=$(bulk)
sensor_stop
lat_bulk=$lat klat_bulk=$klat
cpu_gbit=$(awk -v u="$cpu" -v b="$bytes" 'BEGIN { g = b * 8 / 1e9; printf "%.2f", (g > 0 ? u / g : 0) }')

printf '%-28s %12s %12s\n' "" "requests/s" "bulk Mbit/s"
printf '%-28s %12s %12s\n' "forwarding, no sensor" "$base_rps" "$base_mbit"
printf '%-28s %12s %12s\n' "through caracal (NFQUEUE)" "$ips_rps" "$ips_mbit"
echo "requests/s per run, without / with the sensor: ${base_all[*]} / ${ips_all[*]} (medians above)"
awk -v a="$ips_rps" -v b="$base_rps" 'BEGIN { if (b > 0) printf "request rate with the sensor: %.0f %% of without\n", 100 * a / b }'
echo "verdict latency added per packet, request load: ${lat_req:-unknown} in caracal;" \
     "${klat_req:-unknown} from the kernel's receive (with the wait in the queue)"
echo "the same in the bulk transfer (the sensor is the bottleneck): ${lat_bulk:-unknown} in caracal;" \
     "${klat_bulk:-unknown} from the kernel's receive"
echo "caracal CPU in the bulk transfer: $cpu s for $(awk -v b="$bytes" 'BEGIN { printf "%.2f", b * 8 / 1e9 }') Gbit inspected: $cpu_gbit CPU s per Gbit"
