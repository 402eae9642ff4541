#!/usr/bin/env bash
# End-to-end tests of caracal's NFQUEUE modes and of its verdict guarantees:
#
#   client ns (198.18.10.2-17) --veth-- router ns (198.18.10.1 | 198.18.11.1) --veth-- server ns (198.18.11.2)
#
# The router forwards through iptables NFQUEUE rules set up anew for each
# part below, each part with its own caracal (tests/inline/inline.rules:
# drop /forbidden, alert /allowed) on its own queue numbers; the server ns
# runs python3 -m http.server. Every part checks, besides its own (s no idle):
#   NAME/idle       while bound and idle, the queue holds nothing and the
#                   kernel lost nothing (queue_total, queue_dropped, user_dropped 0)
#   NAME/stop       caracal exits 0 on SIGTERM (no sanitizer report)
#   NAME/verdicts   exactly one verdict per packet: accepted + dropped =
#                   packets >= the kernel's id_sequence, none refused
#   NAME/forwarded  no packet vanished: the FORWARD NFQUEUE rule's count =
#                   packets out through mangle POSTROUTING + caracal's drops
#
#   r  nfq.mode repeat, mark 0x10 under the mask 0x30 (queue 10). FORWARD
#      "-m mark ! --mark 0x10/0x30 -j NFQUEUE"; mangle PREROUTING first marks
#      every packet 0x120. r1 a benign GET passes; r2 /forbidden is dropped
#      and never reaches the server; r3 every accepted packet came round
#      once more with the mark 0x110 (0x10/0x30 set, 0x100 kept): a rule
#      matching 0x110 counts as many packets as the NFQUEUE rule, a
#      catch-all behind it none.
#   t  nfq.mode route (queue 12 to 13), a second caracal in accept mode on
#      13. t1 a benign GET passes; t2 /forbidden dropped by the first, never
#      at the server; t3 the second saw exactly the packets the first
#      accepted, alerted on /allowed and never saw /forbidden.
#   m  two queues, one thread each (-q 14:15, --queue-balance 14:15,
#      nfq.batchcount 8); 16 client addresses fetch /allowed and /forbidden
#      at once. m1 all benign fetches pass; m2 all forbidden ones are dropped,
#      none at the server; m3 both queues got packets and both dropped some;
#      m4 each connection was one flow on one queue (flow.tcp = connections).
#   c  tiny memcaps (queue 16): the flow table's buckets alone nearly fill
#      flow.memcap (room for about ten flows); stream.memcap 1mb with a 256kb
#      inspection window. c1a four rate-limited 600 KB downloads at once,
#      c1b twelve at once: all complete and intact; c2 /forbidden is still
#      dropped; c3 the final stats prove both caps were hit (flow.memcap,
#      tcp.segment_memcap_drop > 0); c5 the stats' ips.accepted/blocked
#      agree with the queue's count.
#   s  SIGTERM during a rate-limited 16 MB download and a UDP echo every
#      10 ms for 3 s (queue 17). s1 caracal exits 0 within 1.5 s while the
#      traffic goes on; s2 the download completes intact (--queue-bypass
#      takes over); s3 the queue is released; shutdown/forwarded: no packet
#      was lost at the hand-over.
#
# Exit: 0 all passed, 1 some check failed, 77 skipped (not root, no ip
# netns, no iptables NFQUEUE or mark support, no curl/python3, caracal
# built without nfqueue). Environment: see netns-lib.sh (CARACAL,
# CARACAL_ARGS, IPTABLES, INLINE_KEEP).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=netns-lib.sh
. "$here/netns-lib.sh"
RULES="$here/inline.rules"
PORT=8080
CLI_IP=198.18.10.2 RTR_CLI_IP=198.18.10.1 RTR_SRV_IP=198.18.11.1 SRV_IP=198.18.11.2
NCLI=16                  # client addresses 198.18.10.2 .. 198.18.10.17
URL="http://$SRV_IP:$PORT"
DROP_TIMEOUT=2           # seconds a fetch of /forbidden waits (it must time out)
CURL_TIMEOUT=8

nfqlib_prereqs
[ -f "$RULES" ] || { echo "FAIL: no rule file $RULES"; exit 1; }
nfqlib_workdir nfq-modes
www="$tmp/www"
mkdir -p "$www"
echo "namespaces: caracal-m{cli,rtr,srv}-$$; work directory $tmp"
nfqlib_netns caracal-m
if ! nfqlib_net_setup "$CLI_IP" "$RTR_CLI_IP" "$RTR_SRV_IP" "$SRV_IP"; then
    echo "FAIL: could not build the test network"; exit 1
fi
for i in $(seq 3 $((NCLI + 1))); do
    run ip -n "$NS_C" addr add "198.18.10.$i/24" dev eth0 || exit 1
done
# One packet per skb from both ends (no TSO/GSO): iptables counts skbs, and
# a 64 KB one counted once in FORWARD would leave the queue as many packets.
run ip -n "$NS_C" link set dev eth0 gso_max_segs 1 && run ip -n "$NS_S" link set dev eth0 gso_max_segs 1 ||
    skip "cannot turn GSO off with ip link set gso_max_segs"
cli_ip() { echo "198.18.10.$(($1 + 1))"; }   # client address number 1..NCLI

echo "caracal nfq-modes index" >"$www/index.html"
echo "allowed content $$" >"$www/allowed.txt"
echo "forbidden content $$" >"$www/forbidden.txt"
head -c 600000 /dev/urandom >"$www/medium.bin"
head -c 16000000 /dev/urandom >"$www/large.bin"
if ! nfqlib_http_start "$www" "$SRV_IP" "$PORT"; then
    echo "FAIL: python3 -m http.server did not come up on $URL"; exit 1
fi

diagnostics() {
    echo "---- diagnostics"
    local n
    for n in "$tmp"/*.cmd; do [ -f "$n" ] && caracal_diag "$(basename "$n" .cmd)"; done
    echo "  http.server log (last 15 lines):"
    tail -n 15 "$srv_log" 2>/dev/null | sed 's/^/    /'
    router_diag
}

# ipt_reset: the router forwards everything, no mark set, counters zero;
# a rule in mangle POSTROUTING counts the packets that left the router.
ipt_reset() {
    in_r $IPTABLES -F FORWARD && in_r $IPTABLES -Z FORWARD &&
        in_r $IPTABLES -t mangle -F PREROUTING && in_r $IPTABLES -t mangle -F POSTROUTING &&
        in_r $IPTABLES -t mangle -A POSTROUTING -p all
}
# check_forwarded CHECK DROPPED: no packet vanished in a queue. Every packet
# the FORWARD NFQUEUE rule took either left the router (counted in
# POSTROUTING) or was one of the DROPPED packets caracal dropped; a packet
# the kernel dropped (left queued at unbind, queue full) is missing.
check_forwarded() {
    local queued out
    queued=$(in_r $IPTABLES -L FORWARD -v -n -x 2>/dev/null | awk '$3 == "NFQUEUE" { n += $1 } END { print n + 0 }')
    out=$(in_r $IPTABLES -t mangle -L POSTROUTING -v -n -x 2>/dev/null | awk 'NR == 3 { print $1 }')
    if [ "$queued" -gt 0 ] && [ "$queued" = $((${out:-0} + $2)) ]; then
        pass "$1" "every packet queued ($queued) was forwarded ($out) or dropped by caracal ($2)"
    else
        fail "$1" "$queued packets queued, $out forwarded, $2 dropped by caracal: $((queued - ${out:-0} - $2)) vanished"
    fi
}
# ipt_pkts N: packets counted by rule N of the router's FORWARD chain.
ipt_pkts() { in_r $IPTABLES -L FORWARD -v -n -x 2>/dev/null | awk -v n="$1" 'NR == n + 2 { print $1 }'; }

# fetch_many NAME PATH N [CURL_ARGS...]: client addresses 1..N fetch PATH at
# once; each body goes to $tmp/NAME-i.body, its curl exit status to NAME-i.rc.
fetch_many() {
    local name=$1 path=$2 n=$3 i pids=""
    shift 3
    for i in $(seq 1 "$n"); do
        ( in_c curl --noproxy '*' -s -m "$CURL_TIMEOUT" --interface "$(cli_ip "$i")" "$@" \
              -o "$tmp/$name-$i.body" "$URL$path" 2>/dev/null
          echo $? >"$tmp/$name-$i.rc" ) &
        pids="$pids $!"
    done
    wait $pids
}
# count_many NAME N RC [FILE]: how many of NAME-1..N ended with curl status RC
# (and, given FILE, a body identical to it).
count_many() {
    local i k=0
    for i in $(seq 1 "$2"); do
        [ "$(cat "$tmp/$1-$i.rc" 2>/dev/null)" = "$3" ] || continue
        [ -z "${4:-}" ] || cmp -s "$4" "$tmp/$1-$i.body" || continue
        k=$((k + 1))
    done
    echo "$k"
}
# drop_check NAME: /forbidden.txt?NAME from the client must time out and
# never reach the server (NAMEa: timed out, NAMEb: not in the server's log).
drop_check() {
    fetch "$1" "/forbidden.txt?$1" -m "$DROP_TIMEOUT"
    if [ "$fetch_rc" -eq 28 ]; then
        pass "${1}a" "GET /forbidden.txt?$1 timed out (curl exit 28): dropped"
    else
        fail "${1}a" "GET /forbidden.txt?$1: curl exit $fetch_rc, expected 28 (a silent drop)"
    fi
    sleep 0.2
    if [ "$(server_hits "/forbidden.txt?$1")" -eq 0 ]; then
        pass "${1}b" "the server never logged /forbidden.txt?$1"
    else
        fail "${1}b" "the server logged /forbidden.txt?$1: the request got through"
    fi
}
# benign_check NAME: /allowed.txt passes and reaches the server.
benign_check() {
    local off
    off=$(log_size)
    fetch "$1" /allowed.txt
    if [ "$fetch_rc" -eq 0 ] && [ "$fetch_body" = "allowed content $$" ] &&
            [ "$(server_hits /allowed.txt "$off")" -ge 1 ]; then
        pass "$1" "GET /allowed.txt passed and the server logged it"
    else
        fail "$1" "GET /allowed.txt: curl exit $fetch_rc, body '$(printf %s "$fetch_body" | head -c 60)', server hits $(server_hits /allowed.txt "$off")"
    fi
}
# The client of UDP_ECHO_PY (netns-lib.sh): sends COUNT numbered datagrams
# 10 ms apart, prints "sent answered" once the last answer is 1 s late.
UDP_PING_PY='
import select, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], 9000))
n, got = int(sys.argv[2]), set()
deadline = time.monotonic()
for i in range(n):
    s.send(b"%d" % i)
    deadline = time.monotonic() + 1
    end = time.monotonic() + 0.01
    while (left := end - time.monotonic()) > 0:
        if select.select([s], [], [], left)[0]:
            try:
                got.add(int(s.recv(64)))
            except OSError:
                pass
while (left := deadline - time.monotonic()) > 0 and len(got) < n:
    if select.select([s], [], [], left)[0]:
        try:
            got.add(int(s.recv(64)))
        except OSError:
            pass
print(n, len(got))
'
# kernel_ids Q: the id_sequence of queue Q (packets queued since it was bound).
kernel_ids() { local f; read -r -a f <<<"$(queue_line "$1") x x x x x x x x"; echo "${f[7]}"; }

echo "== network"
fetch n1 /index.html
if [ "$fetch_rc" -eq 0 ] && [ "$fetch_body" = "caracal nfq-modes index" ]; then
    pass n1 "client reaches the server through the router (plain forwarding)"
else
    fail n1 "plain forwarding: curl exit $fetch_rc"; nfqlib_summary
fi
if ! in_r $IPTABLES -A FORWARD -j NFQUEUE --queue-num 9 --queue-bypass 2>"$tmp/ipt.err"; then
    skip "cannot add an NFQUEUE rule in a namespace: $(head -c 300 "$tmp/ipt.err")"
fi
if ! in_r $IPTABLES -t mangle -A PREROUTING -j MARK --set-xmark 0x120/0xffffffff 2>"$tmp/ipt.err" ||
   ! in_r $IPTABLES -A FORWARD -m mark --mark 0x1/0x1 -j ACCEPT 2>>"$tmp/ipt.err"; then
    skip "iptables has no MARK target or mark match here: $(head -c 300 "$tmp/ipt.err")"
fi
ipt_reset

# ---------------------------------------------------------------- r: repeat
echo "== r. nfq.mode repeat (queue 10, repeat-mark 0x10, repeat-mask 0x30)"
in_r $IPTABLES -t mangle -A PREROUTING -j MARK --set-xmark 0x120/0xffffffff
in_r $IPTABLES -A FORWARD -m mark ! --mark 0x10/0x30 -j NFQUEUE --queue-num 10 --queue-bypass
in_r $IPTABLES -A FORWARD -m mark --mark 0x110 -j ACCEPT
in_r $IPTABLES -A FORWARD -j ACCEPT
if caracal_start repeat 1 -q 10 -S "$RULES" --set nfq.mode=repeat --set nfq.repeat-mark=16 \
        --set nfq.repeat-mask=48; then
    benign_check r1
    queue_settled 10 # every verdict given: each accepted packet went round again
    queued=$(ipt_pkts 1) remarked=$(ipt_pkts 2) other=$(ipt_pkts 3)
    info "FORWARD: NFQUEUE rule $queued packets, mark 0x110 rule $remarked, catch-all $other"
    if [ "${queued:-0}" -gt 0 ] && [ "$queued" = "$remarked" ] && [ "$other" = 0 ]; then
        pass r3 "all $queued queued packets came back once, marked 0x110 (0x10/0x30 set, 0x100 kept)"
    else
        fail r3 "queued ${queued:-?}, back with mark 0x110 ${remarked:-?}, back otherwise ${other:-?} (expected equal, and 0)"
    fi
    drop_check r2
    quiesce
    check_queue_idle repeat/idle 10
    ids=$(kernel_ids 10)
    check_stop repeat/stop repeat
    check_verdicts repeat/verdicts repeat 10 "$ids"
    check_forwarded repeat/forwarded "${nq_drop:-0}"
fi
ipt_reset

# ---------------------------------------------------------------- t: route
echo "== t. nfq.mode route (queue 12 routes to queue 13, a second caracal there)"
in_r $IPTABLES -A FORWARD -j NFQUEUE --queue-num 12 --queue-bypass
if caracal_start route2 1 -q 13 -S "$RULES" &&
        caracal_start route1 1 -q 12 -S "$RULES" --set nfq.mode=route --set nfq.route-queue=13; then
    benign_check t1
    drop_check t2
    quiesce
    check_queue_idle route1/idle 12
    check_queue_idle route2/idle 13
    ids1=$(kernel_ids 12)
    # The first goes first: what it still holds is routed to the second.
    check_stop route1/stop route1
    check_stop route2/stop route2
    check_verdicts route1/verdicts route1 12 "$ids1"
    acc1=$nq_acc drop1=$nq_drop
    check_verdicts route2/verdicts route2 13
    acts2=$(eve_query "$tmp/route2-log/eve.json" alert 9100003)
    blocked2=$(eve_query "$tmp/route2-log/eve.json" alert 9100001)
    if [ -n "$nq_pkts" ] && [ "$nq_pkts" -gt 0 ] && [ "$nq_pkts" = "$acc1" ] &&
            [ "$nq_drop" = 0 ] && [ -n "$acts2" ] && [ -z "$blocked2" ]; then
        pass t3 "the second instance got exactly the $acc1 packets the first accepted, alerted on /allowed, never saw /forbidden"
    else
        fail t3 "first accepted ${acc1:-?}, second got ${nq_pkts:-?} (dropped ${nq_drop:-?}); second's alerts: 9100003 '${acts2}', 9100001 '${blocked2}'"
    fi
    check_forwarded route/forwarded $((${drop1:-0} + ${nq_drop:-0}))
fi
ipt_reset

# ---------------------------------------------------------------- m: multi-queue
echo "== m. two queues (-q 14:15, --queue-balance 14:15, nfq.batchcount 8)"
in_r $IPTABLES -A FORWARD -j NFQUEUE --queue-balance 14:15 --queue-bypass
if caracal_start multi 2 -q 14:15 -S "$RULES" --set nfq.batchcount=8; then
    off=$(log_size)
    fetch_many mok /allowed.txt "$NCLI" &
    ok_pid=$!
    fetch_many mdrop /forbidden.txt?m2 "$NCLI" -m "$DROP_TIMEOUT"
    wait "$ok_pid"
    sleep 0.2
    quiesce
    ok=$(count_many mok "$NCLI" 0 "$www/allowed.txt") hits=$(server_hits /allowed.txt "$off")
    if [ "$ok" = "$NCLI" ] && [ "$hits" = "$NCLI" ]; then
        pass m1 "$NCLI concurrent GET /allowed.txt from $NCLI addresses all passed and reached the server"
    else
        fail m1 "$ok of $NCLI concurrent GET /allowed.txt passed, the server logged $hits"
    fi
    timedout=$(count_many mdrop "$NCLI" 28) hits=$(server_hits /forbidden.txt?m2)
    if [ "$timedout" = "$NCLI" ] && [ "$hits" = 0 ]; then
        pass m2 "$NCLI concurrent GET /forbidden.txt all dropped, none reached the server"
    else
        fail m2 "$timedout of $NCLI GET /forbidden.txt timed out, the server logged $hits"
    fi
    check_queue_idle multi/idle14 14
    check_queue_idle multi/idle15 15
    ids14=$(kernel_ids 14) ids15=$(kernel_ids 15)
    check_stop multi/stop multi
    check_verdicts multi/verdicts14 multi 14 "$ids14"
    p14=$nq_pkts d14=$nq_drop
    check_verdicts multi/verdicts15 multi 15 "$ids15"
    p15=$nq_pkts d15=$nq_drop
    check_forwarded multi/forwarded $((${d14:-0} + ${d15:-0}))
    if [ "${p14:-0}" -gt 0 ] && [ "${p15:-0}" -gt 0 ] && [ "${d14:-0}" -gt 0 ] && [ "${d15:-0}" -gt 0 ]; then
        pass m3 "both queues worked: queue 14 $p14 packets ($d14 dropped), queue 15 $p15 packets ($d15 dropped)"
    else
        fail m3 "queue 14: ${p14:-?} packets, ${d14:-?} dropped; queue 15: ${p15:-?} packets, ${d15:-?} dropped (both should have some of each)"
    fi
    flows=$(eve_query "$tmp/multi-log/eve.json" stat flow.tcp)
    if [ "$flows" = $((2 * NCLI)) ]; then
        pass m4 "flow.tcp $flows: each of the $((2 * NCLI)) connections was one flow on one queue"
    else
        fail m4 "flow.tcp $flows, expected $((2 * NCLI)) (a connection split over queues counts twice)"
    fi
fi
ipt_reset

# ---------------------------------------------------------------- c: memcaps
echo "== c. memcaps hit under concurrent flows (queue 16)"
in_r $IPTABLES -A FORWARD -j NFQUEUE --queue-num 16 --queue-bypass
# The flow table's hash buckets (131072 x 8 bytes) count against flow.memcap:
# 1mb of buckets plus 2kb leaves room for about ten flows.
NMED=12
if caracal_start memcap 1 -q 16 -S "$RULES" --set flow.hash-size=131072 \
        --set flow.memcap=$(( (1 << 20) + 2048 )) --set stream.memcap=1mb \
        --set stream.reassembly.inspect-window=256kb; then
    # Four slow downloads at once: each keeps a 256 KB inspection window
    # in a buffer of 512 KB, twice the stream memcap together.
    fetch_many cslow /medium.bin 4 --limit-rate 1M
    ok=$(count_many cslow 4 0 "$www/medium.bin")
    if [ "$ok" = 4 ]; then
        pass c1a "4 concurrent rate-limited 600 KB downloads all complete and intact"
    else
        fail c1a "only $ok of 4 concurrent rate-limited 600 KB downloads complete and intact"
    fi
    # More connections at once than the flow table has room for.
    fetch_many cmed /medium.bin "$NMED"
    ok=$(count_many cmed "$NMED" 0 "$www/medium.bin")
    if [ "$ok" = "$NMED" ]; then
        pass c1b "$NMED concurrent 600 KB downloads all complete and intact"
    else
        fail c1b "only $ok of $NMED concurrent 600 KB downloads complete and intact"
    fi
    drop_check c2
    quiesce
    check_queue_idle memcap/idle 16
    ids=$(kernel_ids 16)
    check_stop memcap/stop memcap
    check_verdicts memcap/verdicts memcap 16 "$ids"
    check_forwarded memcap/forwarded "${nq_drop:-0}"
    eve="$tmp/memcap-log/eve.json"
    fm=$(eve_query "$eve" stat flow.memcap) sm=$(eve_query "$eve" stat tcp.segment_memcap_drop)
    if [ "$fm" != nostats ] && [ "$fm" -gt 0 ] && [ "$sm" -gt 0 ]; then
        pass c3 "memcaps hit: flow.memcap $fm, tcp.segment_memcap_drop $sm"
    else
        fail c3 "memcaps not shown as hit: flow.memcap $fm, tcp.segment_memcap_drop $sm"
    fi
    acc=$(eve_query "$eve" stat ips.accepted) blk=$(eve_query "$eve" stat ips.blocked)
    if [ -n "$nq_pkts" ] && [ "$acc" = "$nq_acc" ] && [ "$blk" = "$nq_drop" ]; then
        pass c5 "the stats agree: ips.accepted $acc, ips.blocked $blk"
    else
        fail c5 "stats ips.accepted $acc, ips.blocked $blk; the queue: ${nq_acc:-?} accepted, ${nq_drop:-?} dropped"
    fi
fi
ipt_reset

# ---------------------------------------------------------------- s: shutdown under load
echo "== s. SIGTERM during a download and a ping flood (queue 17)"
in_r $IPTABLES -A FORWARD -j NFQUEUE --queue-num 17 --queue-bypass
if caracal_start shutdown 1 -q 17 -S "$RULES"; then
    # A datagram echoed every 10 ms never leaves the queue quiet for long
    # (the old drain waited for a quiet moment); the download checks its bytes.
    in_s "$PYTHON" -c "$UDP_ECHO_PY" "$SRV_IP" >/dev/null 2>&1 &
    in_c "$PYTHON" -c "$UDP_PING_PY" "$SRV_IP" 300 >"$tmp/ping.out" 2>&1 &
    ping_pid=$!
    ( in_c curl --noproxy '*' -s -m 20 --limit-rate 8M -o "$tmp/large.body" "$URL/large.bin" \
          2>"$tmp/curl-large.err"; echo $? >"$tmp/large.rc" ) &
    dl_pid=$!
    for _ in $(seq 1 100); do
        [ "$(stat -c %s "$tmp/large.body" 2>/dev/null || echo 0)" -ge 2000000 ] && break
        sleep 0.02
    done
    info "downloaded $(stat -c %s "$tmp/large.body" 2>/dev/null || echo 0) bytes; SIGTERM"
    caracal_stop shutdown
    running=0
    kill -0 "$ping_pid" 2>/dev/null && running=1
    if grep -q 'cannot stop the kernel queueing' "$tmp/shutdown.err"; then
        fail s1 "caracal could not seal its queue: $(grep -m1 'cannot stop' "$tmp/shutdown.err")"
    elif [ "$stop_rc" = 0 ] && [ "$running" = 1 ] && awk -v t="$stop_time" 'BEGIN { exit !(t < 1.5) }'; then
        pass s1 "caracal exited 0 ${stop_time}s after SIGTERM, while the traffic went on"
    else
        fail s1 "caracal: exit $stop_rc after ${stop_time}s, the traffic still running: $running (expected exit 0 within 1.5 s, mid-traffic)"
    fi
    check_released s3 17
    wait "$dl_pid"
    if [ "$(cat "$tmp/large.rc")" = 0 ] && cmp -s "$www/large.bin" "$tmp/large.body"; then
        pass s2 "the 16 MB download completed intact"
    else
        fail s2 "the download: curl exit $(cat "$tmp/large.rc"), $(stat -c %s "$tmp/large.body" 2>/dev/null || echo 0) of 16000000 bytes $(head -c 200 "$tmp/curl-large.err")"
    fi
    # Only information: a datagram may also be lost outside the queue (a
    # busy machine's backlog); shutdown/forwarded is the check.
    wait "$ping_pid"
    info "UDP echo every 10 ms across the shutdown: sent, answered: $(head -c 200 "$tmp/ping.out")"
    check_verdicts shutdown/verdicts shutdown 17
    check_forwarded shutdown/forwarded 0
fi

nfqlib_summary
