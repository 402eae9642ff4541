#!/usr/bin/env bash
# Live capture on a veth in a network namespace, with libpcap (-i IFACE, in
# the single and the workers runmode) and with AF_PACKET fanout
# (--af-packet, two threads):
#
#   client ns (198.18.3.2) --veth-- server ns (198.18.3.1, python3 http.server)
#
# caracal runs in the server ns on the server's end of the veth with
# tests/inline/inline.rules. A real client fetches /forbidden.txt (a drop
# rule: a passive capture drops nothing, so its alert says "allowed" and
# the flow is inspected on, as in Suricata's IDS mode) and then
# /allowed.txt; caracal is stopped with SIGINT and must exit 0 with its
# final stats.
# Checks: the alert of sid 9100003 (to the server, app_proto http) after the
# drop rule's alert, the http event of the request, both already in
# eve.json while caracal runs (events are written within 100 ms, not only
# at exit), two TCP flow events, the final stats event with
# capture.kernel_packets and decoder.pkts above zero.
# Rule reload (libpcap single and workers, AF_PACKET): a rule appended to
# the rules file and SIGUSR2: it alerts on a request made after the
# reload and not on one before; the reload is logged and counted
# (detect.engine_reloads 1).
# BPF filters (AF_PACKET from the command line over a config key, libpcap
# from pcap.bpf-filter) that exclude the HTTP port: the fetch leaves no
# alert, http event or flow, while a UDP datagram to another port still
# makes its flow. A filter that does not compile: exit 1 with the origin
# (command line or key) and libpcap's reason, no eve.json.
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
for _ in $(seq 1 50); do # the HTTP server, once
    ip netns exec "$ns_c" curl -s -o /dev/null -m 1 http://198.18.3.1:8080/ && break
    sleep 0.1
done

# start_capture LOG OUT RULES CARACAL-ARGS...: caracal captures in the
# server ns; returns once the capture is open (packets from then on are
# buffered). Sets cpid (declare it local in the caller).
start_capture() {
    local log=$1 out=$2 rules=$3; shift 3
    ip netns exec "$ns_s" "$CARACAL" -c "$TOP_SRCDIR/etc/caracal.yaml" "$@" \
        -S "$rules" -l "$log" >"$out" 2>&1 &
    cpid=$!
    pids+=($cpid)
    for _ in $(seq 1 50); do
        grep -q "capturing" "$out" 2>/dev/null && break
        sleep 0.1
    done
}

# run_case LABEL EXPECT CARACAL-ARGS...: one HTTP fetch and one UDP datagram
# (to port 9998) while caracal captures, then check what was logged.
# EXPECT: http (the fetch is seen) or filtered (a filter excludes port 8080)
run_case() {
    local label=$1 expect=$2; shift 2
    local log="$work/log-$label" out="$work/caracal-$label.out"
    mkdir -p "$log"
    echo "== $label: caracal $*"
    local cpid
    start_capture "$log" "$out" "$here/inline.rules" "$@"
    local body rc=0
    # a drop rule's match is recorded; a passive capture must go on reading
    ip netns exec "$ns_c" curl -s -o /dev/null -m 5 http://198.18.3.1:8080/forbidden.txt
    body=$(ip netns exec "$ns_c" curl -s -m 5 http://198.18.3.1:8080/allowed.txt)
    [ "$body" = "allowed content" ]; check "$label/fetch" $? "curl got the file through the captured link"
    ip netns exec "$ns_c" bash -c 'echo probe >/dev/udp/198.18.3.1/9998'
    sleep 0.5
    # events reach eve.json while caracal runs, not only when it exits
    cp "$log/eve.json" "$log/eve-running.json" 2>/dev/null || : >"$log/eve-running.json"
    kill -INT "$cpid"
    wait "$cpid" || rc=$?
    [ "$rc" = 0 ]; check "$label/exit" $? "caracal exited $rc on SIGINT"
    python3 - "$log/eve.json" "$label" "$expect" "$log/eve-running.json" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
label, expect = sys.argv[2], sys.argv[3]
running = [json.loads(l) for l in open(sys.argv[4]) if l.endswith("\n")]
fails = 0
def check(name, ok, msg):
    global fails
    print("%s %s/%s: %s" % ("PASS" if ok else "FAIL", label, name, msg))
    fails += 0 if ok else 1
alerts = [e for e in evs if e["event_type"] == "alert" and e["alert"]["signature_id"] == 9100003]
drops = [e for e in evs if e["event_type"] == "alert" and e["alert"]["signature_id"] == 9100001]
http = [e for e in evs if e["event_type"] == "http" and e["http"].get("url") == "/allowed.txt"]
http_running = [e for e in running if e["event_type"] == "http"]
flows = [e for e in evs if e["event_type"] == "flow" and e["proto"] == "TCP" and 8080 in
         (e.get("src_port"), e.get("dest_port"))]
udp = [e for e in evs if e["event_type"] == "flow" and e["proto"] == "UDP" and e.get("dest_port") == 9998]
if expect == "http":
    check("alert", len(alerts) == 1 and alerts[0].get("app_proto") == "http" and
          alerts[0]["direction"] == "to_server" and alerts[0]["dest_port"] == 8080,
          "one alert of sid 9100003 on the request (%d)" % len(alerts))
    check("http", len(http) == 1 and http[0]["http"].get("url") == "/allowed.txt" and
          http[0]["http"].get("status") == 200 and http[0]["http"].get("http_method") == "GET",
          "one http event for GET /allowed.txt, status 200")
    check("flow", len(flows) == 2 and all(f.get("app_proto") == "http" and
          f.get("dest_port") == 8080 for f in flows), "two TCP flow events, app_proto http")
    check("drop-rule", len(drops) == 1 and drops[0]["alert"]["action"] == "allowed" and
          len(alerts) == 1 and not [e for e in evs if e["event_type"] == "drop"],
          "the drop rule's alert on /forbidden.txt says allowed (a passive capture drops "
          "nothing; %d, no drop events), and capture went on to the next request "
          "(%d alerts of sid 9100003)" % (len(drops), len(alerts)))
    check("prompt", len(http_running) == 2,
          "both http events were in eve.json while caracal still ran (%s)" % [e["http"].get("url") for e in http_running])
else:
    check("filtered", not alerts and not drops and not http and not flows,
          "nothing of port 8080 got through the filter (%d alerts, %d http, %d flows)" %
          (len(alerts), len(http), len(flows)))
check("udp", len(udp) == 1 and udp[0]["src_ip"] == "198.18.3.2" and
      udp[0]["flow"].get("pkts_toserver") == 1,
      "one UDP flow event to port 9998 with its datagram (%d)" % len(udp))
stats = [e for e in evs if e["event_type"] == "stats"]
st = stats[-1]["stats"] if stats else {}
check("stats", st.get("capture", {}).get("kernel_packets", 0) > 0 and st.get("decoder", {}).get("pkts", 0) > 0,
      "final stats: capture.kernel_packets %s, decoder.pkts %s" %
      (st.get("capture", {}).get("kernel_packets"), st.get("decoder", {}).get("pkts")))
sys.exit(1 if fails else 0)
PY
    [ $? = 0 ] || { fails=$((fails + 1)); tail -20 "$out"; }
}

# bad_filter LABEL MESSAGE CARACAL-ARGS...: caracal must refuse to start,
# saying MESSAGE, and write no eve.json
bad_filter() {
    local label=$1 msg=$2; shift 2
    local log="$work/log-$label" out="$work/caracal-$label.out" rc=0
    echo "== $label: caracal $*"
    ip netns exec "$ns_s" timeout 10 "$CARACAL" -c "$TOP_SRCDIR/etc/caracal.yaml" "$@" \
        -S "$here/inline.rules" -l "$log" >"$out" 2>&1 || rc=$?
    [ "$rc" = 1 ] && grep -qF -- "$msg" "$out" && grep -q "syntax error" "$out" && [ ! -e "$log/eve.json" ]
    check "$label" $? "exit $rc (1 expected), says \"$msg ...: syntax error\", no eve.json"
    grep "error" "$out" | tail -1
}

iface="ls$$"
run_case libpcap http --runmode single -i "$iface"
run_case libpcap-workers http --runmode workers --set threading.worker-threads=2 -i "$iface"
# AF_PACKET with a fanout group of two capture threads: both directions of
# the connection must meet in one of them
run_case af-packet http --runmode workers --set threading.worker-threads=2 --af-packet="$iface"
# the filter on the command line wins over the config key, which would
# keep only the HTTP port
run_case af-packet-filter filtered --runmode workers --set threading.worker-threads=2 \
    --set 'af-packet.bpf-filter=tcp port 8080' --af-packet="$iface" not tcp port 8080
run_case libpcap-filter filtered --runmode single --set 'pcap.bpf-filter=not tcp port 8080' \
    -i "$iface"
bad_filter af-packet-bad-filter "command line: bad BPF filter 'tcp prt 8080'" \
    --af-packet="$iface" 'tcp prt 8080'
bad_filter af-packet-bad-key "--set: af-packet.bpf-filter: bad BPF filter 'tcp prt 8080'" \
    --set 'af-packet.bpf-filter=tcp prt 8080' --af-packet="$iface"
bad_filter libpcap-bad-key "--set: pcap.bpf-filter: bad BPF filter 'tcp prt 8080'" \
    --set 'pcap.bpf-filter=tcp prt 8080' -i "$iface"
# reload_case LABEL CARACAL-ARGS...: a rule added to the rules file and
# SIGUSR2 (live rule reload): a request before it does not alert, one after
# it does, the reload is logged and counted, capture goes on.
reload_case() {
    local label=$1; shift
    local log="$work/log-$label" out="$work/caracal-$label.out" rules="$work/$label.rules" rc=0
    mkdir -p "$log"
    echo "== $label: caracal $* (rule reload)"
    grep -v '^#' "$here/inline.rules" >"$rules"
    local cpid
    start_capture "$log" "$out" "$rules" "$@"
    ip netns exec "$ns_c" curl -s -o /dev/null -m 5 "http://198.18.3.1:8080/new-rule.txt?before"
    # the request must have been inspected before the reload: packets still
    # in the capture buffer would meet the new rules (its http event is
    # written within 100 ms of the inspection)
    for _ in $(seq 1 100); do
        grep -q 'new-rule.txt?before' "$log/eve.json" 2>/dev/null && break
        sleep 0.05
    done
    echo 'alert http any any -> any any (msg:"added by reload"; flow:to_server; http.uri; content:"/new-rule"; sid:9100020; rev:1;)' >>"$rules"
    kill -USR2 "$cpid"
    for _ in $(seq 1 100); do
        grep -q "rule reload: 1 rule files processed" "$out" 2>/dev/null && break
        sleep 0.05
    done
    grep -q "rule reload: 1 rule files processed. 5 rules successfully loaded, 0 rules failed" "$out"
    check "$label/reloaded" $? "$(grep -m1 'rule reload:.*processed' "$out" || echo 'no reload line')"
    ip netns exec "$ns_c" curl -s -o /dev/null -m 5 "http://198.18.3.1:8080/new-rule.txt?after"
    sleep 0.3
    kill -INT "$cpid"
    wait "$cpid" || rc=$?
    [ "$rc" = 0 ]; check "$label/exit" $? "caracal exited $rc on SIGINT"
    python3 - "$log/eve.json" "$label" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
label = sys.argv[2]
new = [e["http"]["url"] for e in evs if e["event_type"] == "alert" and
       e["alert"]["signature_id"] == 9100020]
stats = [e for e in evs if e["event_type"] == "stats"]
n = stats[-1]["stats"].get("detect", {}).get("engine_reloads", 0) if stats else None
ok = new == ["/new-rule.txt?after"] and n == 1
print("%s %s/alert: the new rule alerted on the request after the reload only (%s); "
      "detect.engine_reloads %s" % ("PASS" if ok else "FAIL", label, new, n))
sys.exit(0 if ok else 1)
PY
    [ $? = 0 ] || { fails=$((fails + 1)); tail -20 "$out"; }
}
reload_case libpcap-reload --runmode single -i "$iface"
reload_case libpcap-workers-reload --runmode workers --set threading.worker-threads=2 -i "$iface"
reload_case af-packet-reload --runmode workers --set threading.worker-threads=2 --af-packet="$iface"
if [ $fails = 0 ]; then echo "all checks passed"; else echo "$fails check(s) failed"; fi
exit $([ $fails = 0 ] && echo 0 || echo 1)
