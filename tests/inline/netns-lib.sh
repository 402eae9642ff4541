# shellcheck shell=bash
# Shared by the NFQUEUE tests (nfq-inline.sh, nfq-modes.sh); sourced, not run.
#
#   client ns --veth-- router ns (iptables NFQUEUE, caracal) --veth-- server ns (http.server)
#
# Every network object lives in namespaces named after the test and its pid;
# the veths are created inside the router ns and one end moved out, so
# nothing is ever created in the host's own namespace and two runs never meet.
#
# After sourcing: call nfqlib_prereqs (skips with exit 77 when something is
# missing), then nfqlib_workdir, nfqlib_netns, nfqlib_net_setup ... The
# caller sets URL (http://server:port) before using fetch.
#
# Environment understood here:
#   CARACAL      the binary (default: $TOP_BUILDDIR/src/caracal, else
#                $TOP_SRCDIR/build/src/caracal, else $TOP_SRCDIR/src/caracal)
#   TOP_SRCDIR   the repository root (default: two levels above this file)
#   CARACAL_ARGS extra caracal arguments for every instance
#   IPTABLES     iptables command (default: iptables, else iptables-legacy)
#   INLINE_KEEP=1  keep the work directory (logs, eve.json) after the run

nfqlib_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${TOP_SRCDIR:=$(cd "$nfqlib_here/../.." && pwd)}"
: "${TOP_BUILDDIR:=}"
if [ -z "${CARACAL:-}" ]; then
    # make check sets CARACAL; standalone, prefer an out-of-tree build in build/
    for CARACAL in ${TOP_BUILDDIR:+"$TOP_BUILDDIR/src/caracal"} "$TOP_SRCDIR/build/src/caracal" \
                   "$TOP_SRCDIR/src/caracal"; do
        [ -x "$CARACAL" ] && break
    done
fi
: "${CARACAL_ARGS:=}"
: "${INLINE_KEEP:=0}"
CONF="$TOP_SRCDIR/etc/caracal.yaml"
: "${CURL_TIMEOUT:=5}"      # seconds for a fetch
: "${READY_TIMEOUT:=10}"    # seconds for caracal to report its queues ready
: "${STOP_TIMEOUT:=8}"      # seconds for caracal to exit after SIGTERM
start_time=$(date +%s)
npass=0 nfail=0 failed=""
made_ns="" srv_pid="" tmp=""
declare -A car_pid=()

skip() { echo "SKIP: $*"; exit 77; }
now() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
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

# nfqlib_prereqs [nocaracal]: skip unless everything the tests need is here.
nfqlib_prereqs() {
    [ "$(id -u)" = 0 ] || skip "needs root (network namespaces, iptables, NFQUEUE)"
    local tool
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
    [ "${1:-}" = nocaracal ] && return 0
    [ -x "$CARACAL" ] || { echo "FAIL: no executable caracal at $CARACAL"; exit 1; }
    [ -f "$CONF" ] || { echo "FAIL: no configuration $CONF"; exit 1; }
    local build_info line
    build_info=$("$CARACAL" --build-info 2>&1)
    if ! printf '%s\n' "$build_info" | grep -Eiq '^[[:space:]]*nfqueue:[[:space:]]*yes'; then
        line=$(printf '%s\n' "$build_info" | grep -i 'nfqueue' | head -1)
        skip "caracal built without NFQUEUE support (--build-info: ${line:-no nfqueue line})"
    fi
}

# Ends whatever runs in our namespaces (all of it is ours), then removes them.
nfqlib_cleanup() {
    local rc=$? ns pids pid
    trap - EXIT INT TERM
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
    for pid in "${car_pid[@]}" $srv_pid; do wait "$pid" 2>/dev/null; done
    for ns in $made_ns; do ip netns del "$ns" 2>/dev/null; done
    if [ -n "$tmp" ]; then
        if [ "$INLINE_KEEP" = 1 ]; then echo "work directory kept: $tmp"; else rm -rf "$tmp"; fi
    fi
    exit "$rc"
}

# nfqlib_workdir NAME: a fresh work directory in $tmp; installs the cleanup.
nfqlib_workdir() {
    tmp=$(mktemp -d "/tmp/caracal-$1.XXXXXX")
    trap nfqlib_cleanup EXIT
    trap 'echo "interrupted"; exit 130' INT TERM
}

# nfqlib_netns PREFIX: creates PREFIX-cli-PID, PREFIX-rtr-PID, PREFIX-srv-PID
# as NS_C, NS_R, NS_S (skips when namespaces cannot be made).
nfqlib_netns() {
    NS_C="$1-cli-$$" NS_R="$1-rtr-$$" NS_S="$1-srv-$$"
    ip netns add "$NS_C" 2>/dev/null || skip "cannot create a network namespace (ip netns add)"
    made_ns="$NS_C"
    run ip netns add "$NS_R" || exit 1
    made_ns="$made_ns $NS_R"
    run ip netns add "$NS_S" || exit 1
    made_ns="$made_ns $NS_S"
}
in_c() { ip netns exec "$NS_C" "$@"; }
in_r() { ip netns exec "$NS_R" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }

# nfqlib_net_setup CLI_IP RTR_CLI_IP RTR_SRV_IP SRV_IP (all /24): the client
# and the server route through the router, which forwards.
nfqlib_net_setup() {
    run ip -n "$NS_R" link add to-cli type veth peer name eth0 &&
    run ip -n "$NS_R" link set eth0 netns "$NS_C" &&
    run ip -n "$NS_R" link add to-srv type veth peer name eth0 &&
    run ip -n "$NS_R" link set eth0 netns "$NS_S" &&
    run ip -n "$NS_C" addr add "$1/24" dev eth0 &&
    run ip -n "$NS_R" addr add "$2/24" dev to-cli &&
    run ip -n "$NS_R" addr add "$3/24" dev to-srv &&
    run ip -n "$NS_S" addr add "$4/24" dev eth0 &&
    run ip -n "$NS_C" link set lo up && run ip -n "$NS_C" link set eth0 up &&
    run ip -n "$NS_R" link set lo up && run ip -n "$NS_R" link set to-cli up &&
    run ip -n "$NS_R" link set to-srv up &&
    run ip -n "$NS_S" link set lo up && run ip -n "$NS_S" link set eth0 up &&
    run ip -n "$NS_C" route add default via "$2" &&
    run ip -n "$NS_S" route add default via "$3" &&
    run ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
}

# nfqlib_http_start DIR IP PORT: python3 -m http.server on IP:PORT in the
# server ns, serving DIR; its access log is $srv_log. Returns 1 when it
# does not come up.
nfqlib_http_start() {
    srv_log="$tmp/http.log"
    # The access log goes to stderr; -u keeps it unbuffered.
    ( cd "$1" && exec ip netns exec "$NS_S" "$PYTHON" -u -m http.server "$3" --bind "$2" \
          >"$tmp/http.stdout" 2>"$srv_log" ) &
    srv_pid=$!
    for _ in $(seq 1 50); do
        in_s curl --noproxy '*' -s -m 1 -o /dev/null "http://$2:$3/" 2>/dev/null && return 0
        kill -0 "$srv_pid" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}
# server_hits PATH [FROM_BYTE]: number of access-log lines for "GET PATH"
server_hits() {
    tail -c +"$((${2:-0} + 1))" "$srv_log" 2>/dev/null | grep -c "\"GET $1 HTTP" || true
}
log_size() { stat -c %s "$srv_log" 2>/dev/null || echo 0; }

# fetch NAME PATH [CURL_ARGS...]: curl $URL$PATH from the client ns. Sets
# fetch_rc, fetch_body, fetch_time.
# shellcheck disable=SC2034  # the callers read fetch_body
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

# queue_line Q: queue Q's line of the router ns' nfnetlink_queue file, or empty.
# Fields: queue_num portid queue_total copy_mode copy_range queue_dropped
#         user_dropped id_sequence 1
queue_line() { in_r cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | awk -v q="$1" '$1 == q'; }

# queue_settled Q: waits up to 3 s for queue Q to hold no packet; sets qline
# and returns 0 when queue_total is 0, 1 when packets wait, 2 without a line.
queue_settled() {
    local f
    for _ in $(seq 1 30); do
        qline=$(queue_line "$1")
        [ -n "$qline" ] || return 2
        read -r -a f <<<"$qline"
        [ "${f[2]}" = 0 ] && return 0
        sleep 0.1
    done
    return 1
}

# check_queue_idle CHECK Q: PASS when queue Q (bound) holds nothing and the
# kernel lost nothing on its way to caracal (queue_dropped, user_dropped 0).
check_queue_idle() {
    local f rc
    queue_settled "$2"; rc=$?
    info "router nfnetlink_queue: ${qline:-<no line for queue $2>}"
    read -r -a f <<<"${qline:-x x x x x x x x}"
    if [ $rc = 2 ]; then
        fail "$1" "no queue instance $2 in the router ns while caracal runs"
    elif [ $rc = 1 ]; then
        fail "$1" "queue $2: queue_total stays at ${f[2]}: packets are waiting for a verdict"
    elif [ "${f[5]}" != 0 ] || [ "${f[6]}" != 0 ]; then
        fail "$1" "queue $2: queue_total 0 but queue_dropped ${f[5]}, user_dropped ${f[6]}: packets were lost before a verdict"
    else
        pass "$1" "queue $2: queue_total 0, queue_dropped 0, user_dropped 0 (${f[7]} packets queued so far)"
    fi
}

# caracal_start NAME NQUEUES ARGS...: caracal in the router ns with
# -c $CONF -l $tmp/NAME-log ARGS $CARACAL_ARGS; waits until NQUEUES queues
# report ready. Its stderr is $tmp/NAME.err, its eve.json $tmp/NAME-log/eve.json.
caracal_start() {
    local name=$1 nq=$2 pid deadline
    shift 2
    mkdir -p "$tmp/$name-log"
    # `ip netns exec` execs the command, so $! is caracal's own pid.
    # shellcheck disable=SC2086  # CARACAL_ARGS is split on purpose
    ip netns exec "$NS_R" "$CARACAL" -c "$CONF" -l "$tmp/$name-log" "$@" $CARACAL_ARGS \
        >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pid=$!
    car_pid[$name]=$pid
    echo "$CARACAL -c $CONF -l $tmp/$name-log $* $CARACAL_ARGS" >"$tmp/$name.cmd"
    info "started caracal $name (pid $pid): $(cat "$tmp/$name.cmd")"
    deadline=$(( $(date +%s) + READY_TIMEOUT ))
    while [ "$(date +%s)" -le "$deadline" ]; do
        # caracal logs "caracal: info: nfqueue: queue N ready" once bound
        [ "$(grep -c 'nfqueue: queue [0-9]* ready' "$tmp/$name.err" 2>/dev/null)" -ge "$nq" ] &&
            return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$name/ready" "caracal did not report $nq queue(s) ready within $READY_TIMEOUT s"
    else
        wait "$pid"
        fail "$name/ready" "caracal exited (status $?) before it was ready"
    fi
    return 1
}

# caracal_stop NAME: SIGTERM, then waits. Sets stop_rc (exit status, or
# "died" when it had already exited, "hung" when it had to be killed) and
# stop_time (seconds from the signal to the exit).
caracal_stop() {
    local pid=${car_pid[$1]} t0
    t0=$(now)
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"; stop_rc=died; stop_time=0
        unset "car_pid[$1]"
        return
    fi
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 $((STOP_TIMEOUT * 20))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    stop_time=$(elapsed_since "$t0")
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        stop_rc=hung
    else
        wait "$pid"; stop_rc=$?
    fi
    unset "car_pid[$1]"
}

# check_stop CHECK NAME: stops caracal NAME and checks it exited 0, sealed
# its queues first, and (in a sanitizer build) reported nothing.
check_stop() {
    caracal_stop "$2"
    if grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' "$tmp/$2.err" 2>/dev/null; then
        fail "$1" "caracal $2: a sanitizer report on stderr: $(grep -m1 'runtime error\|Sanitizer' "$tmp/$2.err")"
        return
    fi
    if grep -q 'cannot stop the kernel queueing' "$tmp/$2.err" 2>/dev/null; then
        fail "$1" "caracal $2 could not seal its queue on stop: $(grep -m1 'cannot stop' "$tmp/$2.err")"
        return
    fi
    case $stop_rc in
        0) pass "$1" "caracal $2 exited 0 on SIGTERM (${stop_time}s)" ;;
        died) fail "$1" "caracal $2 exited before it was stopped: it died during the test" ;;
        hung) fail "$1" "caracal $2 still ran $STOP_TIMEOUT s after SIGTERM; killed" ;;
        *) fail "$1" "caracal $2 exited with status $stop_rc on SIGTERM" ;;
    esac
}

# nfq_counts NAME Q: caracal NAME's own count for queue Q, from the line it
# logs on exit ("nfqueue: queue Q: N packets, A accepted, D dropped; ...").
# Sets nq_pkts nq_acc nq_drop (empty without the line) and nq_errors (the
# verdicts the kernel refused, 0 without a warning).
nfq_counts() {
    local line
    line=$(grep -m1 "nfqueue: queue $2: [0-9]* packets" "$tmp/$1.err" 2>/dev/null)
    nq_pkts=$(printf '%s' "$line" | sed -n 's/.*: \([0-9]*\) packets.*/\1/p')
    nq_acc=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) accepted.*/\1/p')
    nq_drop=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) dropped.*/\1/p')
    nq_errors=$(sed -n "s/.*nfqueue: queue $2: \([0-9]*\) verdicts refused.*/\1/p" "$tmp/$1.err" \
                2>/dev/null | head -1)
    nq_errors=${nq_errors:-0}
}

# check_verdicts CHECK NAME Q [KERNEL_IDS]: caracal NAME gave every packet of
# queue Q exactly one verdict: accepted + dropped = packets, none refused by
# the kernel, and (given KERNEL_IDS, the id_sequence read while it was
# bound) at least as many packets as the kernel had queued then.
check_verdicts() {
    nfq_counts "$2" "$3"
    if [ -z "$nq_pkts" ] || [ -z "$nq_acc" ] || [ -z "$nq_drop" ]; then
        fail "$1" "caracal $2 logged no 'nfqueue: queue $3: N packets, A accepted, D dropped' line"
    elif [ $((nq_acc + nq_drop)) -ne "$nq_pkts" ]; then
        fail "$1" "queue $3: $nq_pkts packets but $nq_acc accepted + $nq_drop dropped"
    elif [ "$nq_errors" != 0 ]; then
        fail "$1" "queue $3: the kernel refused $nq_errors verdicts"
    elif [ -n "${4:-}" ] && [ "$nq_pkts" -lt "$4" ]; then
        fail "$1" "queue $3: the kernel had queued $4 packets, caracal saw only $nq_pkts"
    else
        pass "$1" "queue $3: $nq_pkts packets = $nq_acc accepted + $nq_drop dropped, no verdict refused${4:+ (kernel had queued $4 while bound)}"
    fi
}

# check_released CHECK Q: after caracal exited, queue Q has no instance (or
# nothing waiting in one).
check_released() {
    local f
    qline=$(queue_line "$2")
    if [ -z "$qline" ]; then
        pass "$1" "queue $2 released on exit: nothing left waiting"
    else
        read -r -a f <<<"$qline"
        if [ "${f[2]}" = 0 ]; then
            pass "$1" "queue $2: queue_total 0 after exit"
        else
            fail "$1" "queue $2: queue_total ${f[2]} after caracal exited: packets left without a verdict"
        fi
    fi
}

# quiesce: ends every TCP connection between client and server (their
# sockets are destroyed, with a RST), so that the retransmissions of a
# dropped request stop before counts are taken and cannot leak into the
# next part once the queue is gone (--queue-bypass would then let them
# through).
quiesce() {
    in_c ss -K -tn dst "$SRV_IP" >/dev/null 2>&1
    in_s ss -K -tn src "$SRV_IP" >/dev/null 2>&1
    sleep 0.1
}

# A UDP echo server on port 9000 of the address in argv[1]:
# in_s "$PYTHON" -c "$UDP_ECHO_PY" "$SRV_IP" &
UDP_ECHO_PY='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9000))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
'

# eve_query EVE_JSON QUERY ARGS...: reads an eve.json
#   alert SID      -> the alert.action of each alert with that sid, space separated
#   count TYPE     -> number of events of that event_type
#   stat KEY       -> the final stats event's dotted KEY (0 when absent), "nostats" without one
#   summary        -> human-readable summary
NFQLIB_EVE_PY='
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
def final_stats():
    st = [e for e in evs if e.get("event_type") == "stats"]
    return (st[-1].get("stats") or {}) if st else None
def stat(st, key):
    for part in key.split("."):
        st = st.get(part) if isinstance(st, dict) else None
    return int(st or 0)
if query == "alert":
    print(" ".join(str((e.get("alert") or {}).get("action")) for e in evs
                   if e.get("event_type") == "alert"
                   and str((e.get("alert") or {}).get("signature_id")) == args[0]))
elif query == "count":
    print(sum(1 for e in evs if e.get("event_type") == args[0]))
elif query == "stat":
    st = final_stats()
    print("nostats" if st is None else stat(st, args[0]))
elif query == "summary":
    counts = {}
    for e in evs:
        counts[e.get("event_type")] = counts.get(e.get("event_type"), 0) + 1
    print("    %s: %d events (%s), %d unparsable lines" % (path, len(evs),
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
    st = final_stats()
    print("    final stats ips: %s" % ("no stats event" if st is None else json.dumps(st.get("ips"))))
'
eve_query() { "$PYTHON" -c "$NFQLIB_EVE_PY" "$@"; }

# caracal_diag NAME: what caracal NAME printed, and what it logged.
caracal_diag() {
    echo "  caracal $1: $(cat "$tmp/$1.cmd" 2>/dev/null)"
    echo "  stderr (last 25 lines):"
    tail -n 25 "$tmp/$1.err" 2>/dev/null | sed 's/^/    /'
    if [ -s "$tmp/$1.out" ]; then
        echo "  stdout (last 10 lines):"
        tail -n 10 "$tmp/$1.out" | sed 's/^/    /'
    fi
    eve_query "$tmp/$1-log/eve.json" summary
}

# router_diag: the router's iptables counters and queue instances.
router_diag() {
    ip netns list 2>/dev/null | grep -q "^$NS_R\b" || return 0
    echo "  router iptables (filter, mangle):"
    in_r $IPTABLES -L -v -n -x 2>/dev/null | sed 's/^/    /'
    in_r $IPTABLES -t mangle -S 2>/dev/null | grep -v '^-P' | sed 's/^/    /'
    echo "  router nfnetlink_queue:"
    in_r cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | sed 's/^/    /'
}

# nfqlib_summary: prints the totals and exits 0, or 1 when a check failed
# (after calling the caller's diagnostics function, if it has one).
nfqlib_summary() {
    local secs=$(( $(date +%s) - start_time ))
    if [ $nfail -gt 0 ]; then
        declare -F diagnostics >/dev/null && diagnostics
        echo "$npass passed, $nfail failed:$failed ($secs s)"
        exit 1
    fi
    echo "$npass passed, 0 failed ($secs s)"
    exit 0
}
