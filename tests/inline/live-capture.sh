#!/usr/bin/env bash
# Live capture on a veth in a network namespace, with libpcap (-i IFACE,
# single runmode) and with AF_PACKET fanout (--af-packet, two threads):
#
#   client ns (198.18.3.2) --veth-- server ns (198.18.3.1, python3 http.server)
#
# caracal runs in the server ns on the server's end of the veth with
# tests/inline/inline.rules. A real client fetches /allowed.txt; caracal is
# stopped with SIGINT and must exit 0 with its final stats.
# Checks: the alert of sid 9100003 (to the server, app_proto http), the http
# event of the request, a TCP flow event, the final stats event with
# capture.kernel_packets and decoder.pkts above zero.
# Exit: 0 all passed, 1 a check failed, 77 skipped (not root, no ip netns,
# no curl/python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${TOP_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${CARACAL:=$TOP_BUILDDIR/src/caracal}"

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null 2>&1 || skip "no ip(8)"
command -v curl >/dev/null 2>&1 || skip "no curl"
command -v python3 >/dev/null 2>&1 || skip "no python3"
[ -x "$CARACAL" ] || { echo "FAIL: no executable caracal at $CARACAL"; exit 1; }

ns_c=cli-live-$$ ns_s=srv-live-$$
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    ip netns del "$ns_c" 2>/dev/null
    ip netns del "$ns_s" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns_c" && ip netns add "$ns_s" || skip "cannot create network namespaces"
ip link add "lc$$" type veth peer name "ls$$" || skip "cannot create a veth pair"
ip link set "lc$$" netns "$ns_c"
ip link set "ls$$" netns "$ns_s"
ip -n "$ns_c" addr add 198.18.3.2/24 dev "lc$$"
ip -n "$ns_s" addr add 198.18.3.1/24 dev "ls$$"
ip -n "$ns_c" link set "lc$$" up
ip -n "$ns_s" link set "ls$$" up
ip -n "$ns_c" link set lo up
ip -n "$ns_s" link set lo up

mkdir -p "$work/www" "$work/log"
echo "allowed content" >"$work/www/allowed.txt"
(cd "$work/www" && exec ip netns exec "$ns_s" python3 -m http.server 8080 --bind 198.18.3.1) \
    >"$work/http.log" 2>&1 &
pids+=($!)
fails=0
check() { # check NAME CONDITION-RESULT(0/1) MESSAGE
    if [ "$2" = 0 ]; then echo "PASS $1: $3"; else echo "FAIL $1: $3"; fails=$((fails + 1)); fi
}
# run_case LABEL CARACAL-ARGS...: capture one HTTP fetch, check what was logged
run_case() {
    local label=$1; shift
    local log="$work/log-$label" out="$work/caracal-$label.out"
    mkdir -p "$log"
    echo "== $label: caracal $*"
    ip netns exec "$ns_s" "$CARACAL" -c "$TOP_SRCDIR/etc/caracal.yaml" "$@" \
        -S "$here/inline.rules" -l "$log" >"$out" 2>&1 &
    local cpid=$!
    pids+=($cpid)
    for _ in $(seq 1 50); do
        grep -q "capturing\|af-packet\|nfqueue" "$out" 2>/dev/null && break
        sleep 0.1
    done
    sleep 1 # the HTTP server, and the capture threads
    local body rc=0
    body=$(ip netns exec "$ns_c" curl -s -m 5 http://198.18.3.1:8080/allowed.txt)
    [ "$body" = "allowed content" ]; check "$label/fetch" $? "curl got the file through the captured link"
    sleep 0.5
    kill -INT "$cpid"
    wait "$cpid" || rc=$?
    [ "$rc" = 0 ]; check "$label/exit" $? "caracal exited $rc on SIGINT"
    python3 - "$log/eve.json" "$label" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
label = sys.argv[2]
fails = 0
def check(name, ok, msg):
    global fails
    print("%s %s/%s: %s" % ("PASS" if ok else "FAIL", label, name, msg))
    fails += 0 if ok else 1
alerts = [e for e in evs if e["event_type"] == "alert" and e["alert"]["signature_id"] == 9100003]
check("alert", len(alerts) == 1 and alerts[0].get("app_proto") == "http" and
      alerts[0]["direction"] == "to_server" and alerts[0]["dest_port"] == 8080,
      "one alert of sid 9100003 on the request (%d)" % len(alerts))
http = [e for e in evs if e["event_type"] == "http"]
check("http", len(http) == 1 and http[0]["http"].get("url") == "/allowed.txt" and
      http[0]["http"].get("status") == 200 and http[0]["http"].get("http_method") == "GET",
      "one http event for GET /allowed.txt, status 200")
flows = [e for e in evs if e["event_type"] == "flow" and e["proto"] == "TCP" and e.get("dest_port") == 8080]
check("flow", len(flows) == 1 and flows[0].get("app_proto") == "http", "one TCP flow event, app_proto http")
stats = [e for e in evs if e["event_type"] == "stats"]
st = stats[-1]["stats"] if stats else {}
check("stats", st.get("capture", {}).get("kernel_packets", 0) > 0 and st.get("decoder", {}).get("pkts", 0) > 0,
      "final stats: capture.kernel_packets %s, decoder.pkts %s" %
      (st.get("capture", {}).get("kernel_packets"), st.get("decoder", {}).get("pkts")))
sys.exit(1 if fails else 0)
PY
    [ $? = 0 ] || { fails=$((fails + 1)); tail -20 "$out"; }
}
run_case libpcap --runmode single -i "ls$$"
# AF_PACKET with a fanout group of two capture threads: both directions of
# the connection must meet in one of them
run_case af-packet --runmode workers --set threading.worker-threads=2 --af-packet="ls$$"
echo "$([ $fails = 0 ] && echo 1 || echo 0) passed, $([ $fails = 0 ] && echo 0 || echo 1) failed"
exit $([ $fails = 0 ] && echo 0 || echo 1)
