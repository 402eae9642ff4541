#!/usr/bin/env bash
# End-to-end test of caracal inline (IPS) on NFQUEUE.
#
#   client ns (198.18.1.2) --veth-- router ns (198.18.1.1 | 198.18.2.1) --veth-- server ns (198.18.2.2)
#
# The router forwards with `iptables -A FORWARD -j NFQUEUE --queue-num 0
# --queue-bypass`; caracal runs in the router ns on queue 0 with
# tests/inline/inline.rules; the server ns runs `python3 -m http.server 8080`.
# Checks (each printed PASS/FAIL with a reason):
#   n1/n2  network preconditions: plain forwarding works; with the NFQUEUE rule
#          and nothing bound to the queue, traffic passes (queue-bypass).
#   a  benign request passes, reaches the server, alert sid 9100003 "allowed"
#   b  /forbidden.txt is dropped (curl times out), never reaches the server,
#      alert sid 9100001 "blocked", drop events logged
#   c  the dropped flow stays dropped: its retransmissions are dropped too
#      (final stats ips.blocked >= 2) and the server never saw the request
#   d  /reset.txt is rejected: curl fails fast with a reset (exit 56 or 52),
#      (d5: a UDP datagram to a reject rule gets an ICMP port unreachable;
#      d6: the same over IPv6 with ICMPv6, when ip6tables is there)
#      never reaches the server, the server's end of the connection is reset
#      too (RST to both ends), alert sid 9100002 "blocked"
#   e  after caracal stops (SIGTERM), with the rule still in place, traffic
#      passes again (queue-bypass = fail-open when no sensor)
#   f  every queued packet got a verdict: /proc/net/netfilter/nfnetlink_queue
#      (per netns) shows queue_total 0 while caracal is bound and idle, and no
#      instance is left behind after it exits
#   g  the final stats event has ips.accepted > 0
#
# Exit: 0 all passed, 1 some check failed, 77 skipped (not root, no ip netns,
# iptables without NFQUEUE, no curl/python3, caracal built without nfqueue).
#
# Environment:
#   CARACAL            the binary (default: $TOP_BUILDDIR/src/caracal, else
#                      $TOP_SRCDIR/build/src/caracal, else $TOP_SRCDIR/src/caracal)
#   TOP_SRCDIR         the repository root (default: two levels above this file)
#   CARACAL_ARGS       extra caracal arguments, e.g. "--set nfq.fail-open=yes"
#   IPTABLES           iptables command (default: iptables, else iptables-legacy)
#   INLINE_NET_ONLY=1  only build the namespaces and run n1/n2 (no caracal)
#   INLINE_KEEP=1      keep the work directory (logs, eve.json) after the run
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${TOP_SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${TOP_BUILDDIR:=}"
if [ -z "${CARACAL:-}" ]; then
    # make check sets CARACAL; standalone, prefer an out-of-tree build in build/
    for CARACAL in ${TOP_BUILDDIR:+"$TOP_BUILDDIR/src/caracal"} "$TOP_SRCDIR/build/src/caracal" \
                   "$TOP_SRCDIR/src/caracal"; do
        [ -x "$CARACAL" ] && break
    done
fi
: "${CARACAL_ARGS:=}"
: "${INLINE_NET_ONLY:=0}"
: "${INLINE_KEEP:=0}"
RULES="$here/inline.rules"
CONF="$TOP_SRCDIR/etc/caracal.yaml"
QUEUE=0
PORT=8080
CLI_IP=198.18.1.2 RTR_CLI_IP=198.18.1.1 RTR_SRV_IP=198.18.2.1 SRV_IP=198.18.2.2
URL="http://$SRV_IP:$PORT"
CURL_TIMEOUT=5          # seconds; check b waits this long on purpose
READY_TIMEOUT=10        # seconds for caracal to report "ready"
STOP_TIMEOUT=8          # seconds for caracal to exit after SIGTERM
start_time=$(date +%s)

skip() { echo "SKIP: $*"; exit 77; }
now() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# ---------------------------------------------------------------- prerequisites
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, iptables, NFQUEUE)"
for tool in ip ss curl python3 awk; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done
# The interpreter itself (not a pyenv-style shim): faster, and its pid is the server's.
PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -x "$PYTHON" ] || skip "python3 does not run"
if [ -z "${IPTABLES:-}" ]; then
    if command -v iptables >/dev/null 2>&1; then IPTABLES=iptables
    elif command -v iptables-legacy >/dev/null 2>&1; then IPTABLES=iptables-legacy
    else skip "iptables not found (apt-get install iptables)"; fi
fi
command -v "${IPTABLES%% *}" >/dev/null 2>&1 || skip "$IPTABLES not found"
$IPTABLES -j NFQUEUE --help 2>/dev/null | grep -q -- '--queue-bypass' \
    || skip "$IPTABLES has no NFQUEUE target with --queue-bypass"
ip netns list >/dev/null 2>&1 || skip "ip netns does not work here"
if [ "$INLINE_NET_ONLY" != 1 ]; then
    [ -x "$CARACAL" ] || { echo "FAIL: no executable caracal at $CARACAL"; exit 1; }
    [ -f "$RULES" ] || { echo "FAIL: no rule file $RULES"; exit 1; }
    [ -f "$CONF" ] || { echo "FAIL: no configuration $CONF"; exit 1; }
    build_info=$("$CARACAL" --build-info 2>&1)
    if ! printf '%s\n' "$build_info" | grep -Eiq '^[[:space:]]*nfqueue:[[:space:]]*yes'; then
        line=$(printf '%s\n' "$build_info" | grep -i 'nfqueue' | head -1)
        skip "caracal built without NFQUEUE support (--build-info: ${line:-no nfqueue line})"
    fi
fi

# ---------------------------------------------------------------- state, cleanup
tag=$$
NS_C="caracal-cli-$tag" NS_R="caracal-rtr-$tag" NS_S="caracal-srv-$tag"
made_ns=""
caracal_pid="" srv_pid=""
tmp=$(mktemp -d /tmp/caracal-inline.XXXXXX)
logdir="$tmp/log" www="$tmp/www"
mkdir -p "$logdir" "$www"
eve="$logdir/eve.json"
car_out="$tmp/caracal.stdout" car_err="$tmp/caracal.stderr"
srv_log="$tmp/http.log"
npass=0 nfail=0 failed=""

cleanup() {
    local rc=$? ns pids
    trap - EXIT INT TERM
    # Every process left in our namespaces is ours (caracal, http.server, curl).
    for ns in $made_ns; do
        pids=$(ip netns pids "$ns" 2>/dev/null)
        [ -n "$pids" ] && kill $pids 2>/dev/null
    done
    for ns in $made_ns; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
            sleep 0.1
        done
        pids=$(ip netns pids "$ns" 2>/dev/null)
        [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    done
    for pid in $caracal_pid $srv_pid; do wait "$pid" 2>/dev/null; done
    for ns in $made_ns; do ip netns del "$ns" 2>/dev/null; done
    if [ "$INLINE_KEEP" = 1 ]; then echo "work directory kept: $tmp"; else rm -rf "$tmp"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

pass() { echo "PASS $1: $2"; npass=$((npass + 1)); }
fail() { echo "FAIL $1: $2"; nfail=$((nfail + 1)); failed="$failed $1"; }
info() { echo "     $*"; }

run() {  # run CMD...: run it, and on failure print what was run and its output
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [ $rc -ne 0 ]; then
        echo "command failed (exit $rc): $*"
        [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /'
    fi
    return $rc
}
in_c() { ip netns exec "$NS_C" "$@"; }
in_r() { ip netns exec "$NS_R" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }

# fetch NAME PATH [CURL_ARGS...]: curl from the client ns. Sets fetch_rc,
# fetch_body, fetch_time.
fetch() {
    local t0 name=$1 path=$2
    shift 2
    t0=$(now)
    fetch_body=$(in_c curl --noproxy '*' -s -S -m "$CURL_TIMEOUT" "$@" -o - "$URL$path" \
                 2>"$tmp/curl-$name.err")
    fetch_rc=$?
    fetch_time=$(elapsed_since "$t0")
    info "curl${*:+ $*} $URL$path -> exit $fetch_rc in ${fetch_time}s $(head -c 200 "$tmp/curl-$name.err" | tr '\n' ' ')"
}
# server_hits PATH [FROM_BYTE]: number of access-log lines for "GET PATH"
server_hits() {
    tail -c +"$((${2:-0} + 1))" "$srv_log" 2>/dev/null | grep -c "\"GET $1 HTTP" || true
}
log_size() { stat -c %s "$srv_log" 2>/dev/null || echo 0; }
# queue_line: the queue's line of the router ns' nfnetlink_queue file, or empty.
# Fields: queue_num portid queue_total copy_mode copy_range queue_dropped
#         user_dropped id_sequence 1
queue_line() { in_r cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | awk -v q="$QUEUE" '$1 == q'; }
nfq_rule_pkts() { in_r $IPTABLES -L FORWARD -v -n -x 2>/dev/null | awk '$3 == "NFQUEUE" { print $1; exit }'; }
nfq_rule_counters() { in_r $IPTABLES -L FORWARD -v -n -x 2>/dev/null | sed 's/^/    /'; }

# eve_q QUERY ARGS...: read eve.json
#   alert SID      -> the alert.action of each alert with that sid, space separated
#   count TYPE     -> number of events of that event_type
#   ips KEY        -> final stats event's ips.KEY (0 when absent), "nostats" without one
#   summary        -> human-readable summary
EVE_PY='
import json, sys
path, query, args = sys.argv[1], sys.argv[2], sys.argv[3:]
evs, bad = [], 0
try:
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                evs.append(json.loads(line))
            except ValueError:
                bad += 1
except OSError:
    pass
def final_ips():
    st = [e for e in evs if e.get("event_type") == "stats"]
    if not st:
        return None
    last = st[-1]
    ips = (last.get("stats") or {}).get("ips")
    if ips is None:
        ips = last.get("ips")
    return ips or {}
if query == "alert":
    print(" ".join(str((e.get("alert") or {}).get("action")) for e in evs
                   if e.get("event_type") == "alert"
                   and str((e.get("alert") or {}).get("signature_id")) == args[0]))
elif query == "count":
    print(sum(1 for e in evs if e.get("event_type") == args[0]))
elif query == "ips":
    ips = final_ips()
    print("nostats" if ips is None else int(ips.get(args[0], 0)))
elif query == "summary":
    counts = {}
    for e in evs:
        counts[e.get("event_type")] = counts.get(e.get("event_type"), 0) + 1
    print("    eve.json: %d events (%s), %d unparsable lines" % (len(evs),
          ", ".join("%s %d" % kv for kv in sorted(counts.items(), key=lambda kv: str(kv[0]))), bad))
    ndrop = 0
    for e in evs:
        t = e.get("event_type")
        if t == "drop":
            ndrop += 1
            if ndrop > 8:
                continue
        if t == "alert":
            a = e.get("alert") or {}
            print("    alert sid %s action %s %s:%s -> %s:%s %s" % (a.get("signature_id"),
                  a.get("action"), e.get("src_ip"), e.get("src_port"), e.get("dest_ip"),
                  e.get("dest_port"), (e.get("http") or {}).get("url", "")))
        elif t == "drop":
            d = e.get("drop") or {}
            print("    drop %s:%s -> %s:%s reason %s" % (e.get("src_ip"), e.get("src_port"),
                  e.get("dest_ip"), e.get("dest_port"), d.get("reason")))
    if ndrop > 8:
        print("    ... %d more drop events" % (ndrop - 8))
    ips = final_ips()
    print("    final stats ips: %s" % ("no stats event" if ips is None else json.dumps(ips)))
'
eve_q() { "$PYTHON" -c "$EVE_PY" "$eve" "$@"; }

diagnostics() {
    echo "---- diagnostics"
    if [ "$INLINE_NET_ONLY" != 1 ]; then
        echo "  caracal: ip netns exec $NS_R $CARACAL -c $CONF -q $QUEUE -S $RULES -l $logdir $CARACAL_ARGS"
        echo "  caracal stderr (last 25 lines):"
        tail -n 25 "$car_err" 2>/dev/null | sed 's/^/    /'
        if [ -s "$car_out" ]; then
            echo "  caracal stdout (last 10 lines):"
            tail -n 10 "$car_out" | sed 's/^/    /'
        fi
        eve_q summary
    fi
    echo "  http.server log (last 15 lines):"
    tail -n 15 "$srv_log" 2>/dev/null | sed 's/^/    /'
    if ip netns list 2>/dev/null | grep -q "^$NS_R\b"; then
        echo "  router FORWARD chain:"
        nfq_rule_counters
        echo "  router nfnetlink_queue: $(queue_line || true)"
        in_r cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | grep -q . \
            || echo "    (no queue instance bound in the router ns)"
    fi
}

# ---------------------------------------------------------------- network
echo "namespaces: $NS_C $NS_R $NS_S; work directory $tmp"
ip netns add "$NS_C" 2>/dev/null || skip "cannot create a network namespace (ip netns add)"
made_ns="$NS_C"
run ip netns add "$NS_R" || exit 1
made_ns="$made_ns $NS_R"
run ip netns add "$NS_S" || exit 1
made_ns="$made_ns $NS_S"

setup_net() {
    # veth pairs are created inside the router ns and one end moved out, so
    # nothing is ever created in the host's own namespace.
    run ip -n "$NS_R" link add to-cli type veth peer name eth0 &&
    run ip -n "$NS_R" link set eth0 netns "$NS_C" &&
    run ip -n "$NS_R" link add to-srv type veth peer name eth0 &&
    run ip -n "$NS_R" link set eth0 netns "$NS_S" &&
    run ip -n "$NS_C" addr add "$CLI_IP/24" dev eth0 &&
    run ip -n "$NS_R" addr add "$RTR_CLI_IP/24" dev to-cli &&
    run ip -n "$NS_R" addr add "$RTR_SRV_IP/24" dev to-srv &&
    run ip -n "$NS_S" addr add "$SRV_IP/24" dev eth0 &&
    run ip -n "$NS_C" link set lo up && run ip -n "$NS_C" link set eth0 up &&
    run ip -n "$NS_R" link set lo up && run ip -n "$NS_R" link set to-cli up &&
    run ip -n "$NS_R" link set to-srv up &&
    run ip -n "$NS_S" link set lo up && run ip -n "$NS_S" link set eth0 up &&
    run ip -n "$NS_C" route add default via "$RTR_CLI_IP" &&
    run ip -n "$NS_S" route add default via "$RTR_SRV_IP" &&
    run ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
}
if ! setup_net; then
    echo "FAIL: could not build the test network"; diagnostics; exit 1
fi
# IPv6 beside it (2001:db8::/32, documentation addresses), for the IPv6
# reject check; left out (and the check skipped) without ip6tables.
v6=0
if command -v ip6tables >/dev/null 2>&1 &&
    ip -n "$NS_C" addr add 2001:db8:1::2/64 dev eth0 nodad 2>/dev/null &&
    ip -n "$NS_R" addr add 2001:db8:1::1/64 dev to-cli nodad 2>/dev/null &&
    ip -n "$NS_R" addr add 2001:db8:2::1/64 dev to-srv nodad 2>/dev/null &&
    ip -n "$NS_S" addr add 2001:db8:2::2/64 dev eth0 nodad 2>/dev/null &&
    ip -n "$NS_C" -6 route add default via 2001:db8:1::1 2>/dev/null &&
    ip -n "$NS_S" -6 route add default via 2001:db8:2::1 2>/dev/null &&
    ip netns exec "$NS_R" sysctl -qw net.ipv6.conf.all.forwarding=1 &&
    ip netns exec "$NS_R" ip6tables -A FORWARD -j NFQUEUE --queue-num "$QUEUE" --queue-bypass 2>/dev/null; then
    v6=1
fi

# ---------------------------------------------------------------- HTTP server
echo "caracal inline test index" >"$www/index.html"
echo "allowed content $tag" >"$www/allowed.txt"
echo "forbidden content $tag" >"$www/forbidden.txt"
echo "reset content $tag" >"$www/reset.txt"
# The access log goes to stderr; -u keeps it unbuffered.
( cd "$www" && exec ip netns exec "$NS_S" "$PYTHON" -u -m http.server "$PORT" --bind "$SRV_IP" \
      >"$tmp/http.stdout" 2>"$srv_log" ) &
srv_pid=$!
srv_ok=0
for _ in $(seq 1 50); do
    if in_s curl --noproxy '*' -s -m 1 -o /dev/null "$URL/index.html" 2>/dev/null; then srv_ok=1; break; fi
    kill -0 "$srv_pid" 2>/dev/null || break
    sleep 0.1
done
if [ $srv_ok != 1 ]; then
    echo "FAIL: python3 -m http.server did not come up on $URL"; diagnostics; exit 1
fi

# ---------------------------------------------------------------- network preconditions
echo "== network preconditions"
fetch n1 /index.html
if [ $fetch_rc -eq 0 ] && [ "$fetch_body" = "caracal inline test index" ]; then
    pass n1 "client reaches the server through the router (plain forwarding)"
else
    fail n1 "plain forwarding: curl exit $fetch_rc, body '$(printf %s "$fetch_body" | head -c 80)'"
    diagnostics; exit 1
fi

if ! in_r $IPTABLES -A FORWARD -j NFQUEUE --queue-num "$QUEUE" --queue-bypass 2>"$tmp/ipt.err"; then
    skip "cannot add the NFQUEUE rule in a namespace: $(head -c 300 "$tmp/ipt.err")"
fi
info "router: $IPTABLES -A FORWARD -j NFQUEUE --queue-num $QUEUE --queue-bypass"
qb=$(queue_line)
[ -n "$qb" ] && info "warning: queue $QUEUE already bound before caracal: $qb"
off=$(log_size)
fetch n2 /allowed.txt
qpkts=$(nfq_rule_pkts)
if [ $fetch_rc -eq 0 ] && [ "$fetch_body" = "allowed content $tag" ] \
        && [ "$(server_hits /allowed.txt "$off")" -ge 1 ] && [ "${qpkts:-0}" -gt 0 ]; then
    pass n2 "with the NFQUEUE rule and no sensor, traffic passes (queue-bypass; $qpkts packets hit the rule)"
else
    fail n2 "queue-bypass: curl exit $fetch_rc, server hits $(server_hits /allowed.txt "$off"), packets on the NFQUEUE rule ${qpkts:-?}"
    diagnostics; exit 1
fi

if [ "$INLINE_NET_ONLY" = 1 ]; then
    echo "INLINE_NET_ONLY=1: network part only; $npass passed, $nfail failed ($(( $(date +%s) - start_time )) s)"
    exit 0
fi

# ---------------------------------------------------------------- caracal
echo "== caracal inline on queue $QUEUE"
# `ip netns exec` execs the command, so $! is caracal's own pid.
# shellcheck disable=SC2086  # CARACAL_ARGS is split on purpose
ip netns exec "$NS_R" "$CARACAL" -c "$CONF" -q "$QUEUE" -S "$RULES" -l "$logdir" $CARACAL_ARGS \
    >"$car_out" 2>"$car_err" &
caracal_pid=$!
info "started caracal (pid $caracal_pid): $CARACAL -c $CONF -q $QUEUE -S $RULES -l $logdir $CARACAL_ARGS"
ready=0
deadline=$(( $(date +%s) + READY_TIMEOUT ))
while [ "$(date +%s)" -le "$deadline" ]; do
    # caracal logs "caracal: info: nfqueue: queue 0 ready" once bound
    if grep -v -i 'not ready' "$car_err" 2>/dev/null | grep -q 'ready'; then ready=1; break; fi
    kill -0 "$caracal_pid" 2>/dev/null || break
    sleep 0.1
done
if [ $ready != 1 ]; then
    if kill -0 "$caracal_pid" 2>/dev/null; then
        fail ready "caracal did not print 'ready' on stderr within $READY_TIMEOUT s"
    else
        wait "$caracal_pid"; rc=$?
        fail ready "caracal exited (status $rc) before it was ready"
    fi
    diagnostics; exit 1
fi
info "ready: $(grep -v -i 'not ready' "$car_err" | grep -m1 'ready')"
qb=$(queue_line)
info "router nfnetlink_queue: ${qb:-<no line for queue $QUEUE>}"
[ -n "$qb" ] || info "warning: caracal is ready but no queue instance $QUEUE exists in the router ns"

# a. benign request
echo "-- a. benign request"
off=$(log_size)
fetch a /allowed.txt
if [ $fetch_rc -eq 0 ] && [ "$fetch_body" = "allowed content $tag" ]; then
    pass a1 "GET /allowed.txt through caracal returned the file"
else
    fail a1 "GET /allowed.txt: curl exit $fetch_rc, body '$(printf %s "$fetch_body" | head -c 80)'"
fi
sleep 0.2
if [ "$(server_hits /allowed.txt "$off")" -ge 1 ]; then
    pass a2 "server logged GET /allowed.txt"
else
    fail a2 "server has no GET /allowed.txt line"
fi

# b. drop
echo "-- b. drop rule (this waits ${CURL_TIMEOUT}s for curl to time out)"
off_b=$(log_size)
fetch b /forbidden.txt
if [ $fetch_rc -eq 28 ]; then
    pass b1 "GET /forbidden.txt timed out (curl exit 28): the request was dropped"
elif [ $fetch_rc -eq 0 ]; then
    fail b1 "GET /forbidden.txt succeeded: not dropped"
else
    fail b1 "GET /forbidden.txt: curl exit $fetch_rc, expected 28 (timeout: silent drop)"
fi
sleep 0.2
if [ "$(server_hits /forbidden.txt "$off_b")" -eq 0 ]; then
    pass b2 "server never logged /forbidden.txt"
else
    fail b2 "server logged /forbidden.txt: the request got through"
fi

# d. reject
echo "-- d. reject rule"
off_d=$(log_size)
# A fixed client port, to find the server's end of this connection with ss.
reset_port=40002
fetch d /reset.txt --local-port "$reset_port"
fast=$(awk -v t="$fetch_time" -v m="$CURL_TIMEOUT" 'BEGIN { print (t < m / 2) ? 1 : 0 }')
if { [ $fetch_rc -eq 56 ] || [ $fetch_rc -eq 52 ]; } && [ "$fast" = 1 ]; then
    pass d1 "GET /reset.txt was reset (curl exit $fetch_rc) after ${fetch_time}s"
elif [ $fetch_rc -eq 56 ] || [ $fetch_rc -eq 52 ]; then
    fail d1 "GET /reset.txt was reset (curl exit $fetch_rc) but only after ${fetch_time}s"
elif [ $fetch_rc -eq 28 ]; then
    fail d1 "GET /reset.txt timed out: dropped without a RST to the client"
else
    fail d1 "GET /reset.txt: curl exit $fetch_rc, expected 56 or 52 (connection reset)"
fi
sleep 0.3
if [ "$(server_hits /reset.txt "$off_d")" -eq 0 ]; then
    pass d2 "server never logged /reset.txt"
else
    fail d2 "server logged /reset.txt: the request got through"
fi
# The RST to the server end must close the server's socket. The dropped
# request never reached the server, so the RST has to carry exactly the
# server's rcv_nxt (the dropped segment's own seq): Linux answers any other
# in-window RST with a challenge ACK and keeps the connection (RFC 5961).
srv_conn=""
for _ in $(seq 1 10); do
    srv_conn=$(in_s ss -Htn state established "( sport = :$PORT and dport = :$reset_port )" 2>/dev/null)
    [ -z "$srv_conn" ] && break
    sleep 0.1
done
if [ -z "$srv_conn" ]; then
    pass d4 "the server's end of the rejected connection is gone (RST to the server accepted)"
else
    fail d4 "the server still has the rejected connection established: the RST to the server end was missing or not accepted (its seq must be the dropped segment's seq): $(printf %s "$srv_conn" | tr -s ' ')"
fi
# http.server also prints a ConnectionResetError traceback when its side got the RST.
if tail -c +"$((off_d + 1))" "$srv_log" | grep -q 'ConnectionResetError'; then
    info "server log: ConnectionResetError (the server end saw the reset)"
fi

# d5. reject on UDP: the sender gets an ICMP port unreachable, which a
# connected UDP socket reports as "connection refused" on its next receive.
udp_res=$(ip netns exec "$NS_C" python3 - "$SRV_IP" <<'PY' 2>&1
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], 9999))
s.send(b"REJECTME please")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
PY
)
if [ "$udp_res" = refused ]; then
    pass d5 "UDP datagram rejected: the sender got an ICMP port unreachable"
else
    fail d5 "UDP datagram to a reject rule: expected an ICMP port unreachable, got '$udp_res'"
fi

# d6. the same over IPv6: an ICMPv6 port unreachable
if [ $v6 = 1 ]; then
    udp6_res=$(ip netns exec "$NS_C" python3 - <<'PY' 2>&1
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect(("2001:db8:2::2", 9999))
s.send(b"REJECTME please")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
PY
)
    if [ "$udp6_res" = refused ]; then
        pass d6 "UDP datagram over IPv6 rejected: the sender got an ICMPv6 port unreachable"
    else
        fail d6 "UDP over IPv6 to a reject rule: expected an ICMPv6 port unreachable, got '$udp6_res'"
    fi
else
    info "d6 skipped: no IPv6 forwarding through ip6tables NFQUEUE here"
fi

# f (first half). The sensor is bound and idle: nothing may wait for a verdict.
# Retransmissions of the dropped connection keep arriving, so allow a moment.
echo "-- f. verdicts (queue bound, idle)"
qline="" settled=0
for _ in $(seq 1 30); do
    qline=$(queue_line)
    [ -n "$qline" ] || break
    set -- $qline
    if [ "$3" = 0 ]; then settled=1; break; fi
    sleep 0.1
done
info "router /proc/net/netfilter/nfnetlink_queue: ${qline:-<no line for queue $QUEUE>}"
if [ -z "$qline" ]; then
    fail f1 "no queue instance $QUEUE in the router ns while caracal runs"
elif [ $settled != 1 ]; then
    fail f1 "queue_total stays at $3: packets are waiting for a verdict"
else
    set -- $qline
    if [ "$6" != 0 ] || [ "$7" != 0 ]; then
        fail f1 "queue_total 0 but queue_dropped $6, user_dropped $7: packets were lost before a verdict"
    else
        pass f1 "queue_total 0, queue_dropped 0, user_dropped 0 while caracal is bound"
    fi
fi
# c (server side): up to the moment caracal stops, /forbidden never got through.
# (After it stops, fail-open may legitimately let a late retransmission through.)
forbidden_before_stop=$(server_hits /forbidden.txt "$off_b")

# ---------------------------------------------------------------- stop caracal
echo "-- stopping caracal (SIGTERM)"
stopped=0
if ! kill -0 "$caracal_pid" 2>/dev/null; then
    wait "$caracal_pid"; car_rc=$?
    fail stop "caracal exited (status $car_rc) before it was stopped: it died during the test"
    stopped=2
else
    kill -TERM "$caracal_pid" 2>/dev/null
fi
for _ in $(seq 1 $((STOP_TIMEOUT * 10))); do
    [ $stopped = 2 ] && break
    kill -0 "$caracal_pid" 2>/dev/null || { stopped=1; break; }
    sleep 0.1
done
if [ $stopped = 2 ]; then
    :
elif [ $stopped = 1 ]; then
    wait "$caracal_pid"; car_rc=$?
    if [ $car_rc -eq 0 ]; then
        pass stop "caracal exited 0 on SIGTERM"
    else
        fail stop "caracal exited with status $car_rc on SIGTERM"
    fi
else
    fail stop "caracal still running $STOP_TIMEOUT s after SIGTERM; killing it"
    kill -KILL "$caracal_pid" 2>/dev/null
    wait "$caracal_pid" 2>/dev/null
fi
caracal_pid=""

# f (second half): no instance (and no waiting packet) left after exit.
qline=$(queue_line)
info "router nfnetlink_queue after exit: ${qline:-<no line for queue $QUEUE: instance released>}"
if [ -z "$qline" ]; then
    pass f2 "queue instance released on exit: nothing left waiting"
else
    set -- $qline
    if [ "$3" = 0 ]; then
        pass f2 "queue_total 0 after exit"
    else
        fail f2 "queue_total $3 after caracal exited: packets left without a verdict"
    fi
fi

# e. fail-open after the sensor stopped
echo "-- e. after caracal stopped (rule still in place)"
if in_r $IPTABLES -S FORWARD 2>/dev/null | grep -q -- '-j NFQUEUE'; then
    off=$(log_size)
    fetch e /allowed.txt
    if [ $fetch_rc -eq 0 ] && [ "$fetch_body" = "allowed content $tag" ] \
            && [ "$(server_hits /allowed.txt "$off")" -ge 1 ]; then
        pass e "GET /allowed.txt passes again with no sensor on the queue (queue-bypass)"
    else
        fail e "GET /allowed.txt with no sensor: curl exit $fetch_rc, server hits $(server_hits /allowed.txt "$off")"
    fi
else
    fail e "the NFQUEUE rule disappeared from the router's FORWARD chain"
fi

# ---------------------------------------------------------------- eve.json checks
echo "-- eve.json"
if [ ! -s "$eve" ]; then
    fail eve "no eve.json (or empty) in $logdir"
fi
acts=$(eve_q alert 9100003)
case " $acts " in
    *" allowed "*) pass a3 "alert sid 9100003 with action allowed" ;;
    *) fail a3 "no alert sid 9100003 with action allowed (actions seen: ${acts:-none})" ;;
esac
acts=$(eve_q alert 9100001)
case " $acts " in
    *" blocked "*) pass b3 "alert sid 9100001 with action blocked" ;;
    *) fail b3 "no alert sid 9100001 with action blocked (actions seen: ${acts:-none})" ;;
esac
ndrop=$(eve_q count drop)
if [ "${ndrop:-0}" -ge 1 ]; then
    pass b4 "$ndrop drop events"
else
    fail b4 "no drop events in eve.json"
fi
blocked=$(eve_q ips blocked); blocked=${blocked:-nostats}
if [ "$blocked" = nostats ]; then
    fail c1 "no stats event in eve.json"
elif [ "$blocked" -ge 2 ]; then
    pass c1 "final stats ips.blocked $blocked (>= 2: the dropped flow's retransmissions were dropped too)"
else
    fail c1 "final stats ips.blocked $blocked, expected >= 2 (retransmissions of the dropped flow)"
fi
if [ "$forbidden_before_stop" -eq 0 ]; then
    pass c2 "server never logged /forbidden.txt while caracal ran"
else
    fail c2 "server logged /forbidden.txt $forbidden_before_stop time(s) while caracal ran"
fi
late=$(( $(server_hits /forbidden.txt "$off_b") - forbidden_before_stop ))
[ "$late" -gt 0 ] && info "note: /forbidden.txt reached the server after caracal stopped (fail-open let a retransmission through)"
acts=$(eve_q alert 9100002)
case " $acts " in
    *" blocked "*) pass d3 "alert sid 9100002 with action blocked" ;;
    *) fail d3 "no alert sid 9100002 with action blocked (actions seen: ${acts:-none})" ;;
esac
accepted=$(eve_q ips accepted); accepted=${accepted:-nostats}
rejected=$(eve_q ips rejected)
if [ "$accepted" = nostats ]; then
    fail g "no stats event in eve.json"
elif [ "$accepted" -gt 0 ]; then
    pass g "final stats ips.accepted $accepted (blocked $blocked, rejected $rejected)"
else
    fail g "final stats ips.accepted $accepted, expected > 0"
fi

# ---------------------------------------------------------------- summary
secs=$(( $(date +%s) - start_time ))
if [ $nfail -gt 0 ]; then
    diagnostics
    echo "$npass passed, $nfail failed:$failed ($secs s)"
    exit 1
fi
echo "$npass passed, 0 failed ($secs s)"
exit 0
