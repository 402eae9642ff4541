#!/usr/bin/env bash
# End-to-end test of live rule reload (SIGUSR2) on an inline sensor:
#
#   client ns (198.18.20.2) --veth-- router ns (198.18.20.1 | 198.18.21.1) --veth-- server ns (198.18.21.2)
#
# The router queues every forwarded packet to two queues (--queue-balance
# 20:21, caracal -q 20:21: two workers) with a rules file in the work
# directory that drops /forbidden. While a loop of benign requests and a
# UDP echo stream run through the sensor, the test rewrites the rules file
# and sends SIGUSR2:
#   l0  before any reload, /blocked-after-reload passes
#   l1  after the file gains a drop rule for it and three SIGUSR2 in quick
#       succession, the log reports a successful reload ("rule reload: 1
#       rule files processed. 3 rules successfully loaded, 0 rules failed")
#   l2  /blocked-after-reload is now dropped and never reaches the server
#   l3  /forbidden (the rule from the start) is still dropped
#   e1  a reload of a file with a broken rule logs FILE:LINE: reason and
#       "1 rules failed"; e2 the rule after the broken one is in effect
#       (/blocked-two dropped)
#   u1  a reload while the rules file cannot be read fails with a message
#       and counts as a failure; u2 the rules in effect stay (/blocked-two
#       still dropped)
#   b1  every benign request of the loop passed, b2 every UDP datagram was
#       answered
#   reload/idle, reload/stop, reload/verdicts (each queue: accepted +
#   dropped = packets, none refused, nothing left waiting), reload/forwarded
#   (no packet vanished), s1 the final stats count the swaps
#   (detect.engine_reloads >= 2, as many as logged) and the failure (engine_reload_failures 1).
#
# Exit: 0 all passed, 1 some check failed, 77 skipped (not root, no ip
# netns, no iptables NFQUEUE, no curl/python3, caracal built without
# nfqueue). Environment: see netns-lib.sh (CARACAL, CARACAL_ARGS, IPTABLES,
# INLINE_KEEP).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=netns-lib.sh
. "$here/netns-lib.sh"
PORT=8080
CLI_IP=198.18.20.2 RTR_CLI_IP=198.18.20.1 RTR_SRV_IP=198.18.21.1 SRV_IP=198.18.21.2
URL="http://$SRV_IP:$PORT"
DROP_TIMEOUT=1.5         # seconds a fetch of a dropped URL waits (it must time out)
RELOAD_TIMEOUT=10        # seconds for a reload to be logged (ASan builds load slowly)

nfqlib_prereqs
nfqlib_workdir nfq-reload
www="$tmp/www"
RULES="$tmp/reload.rules"
mkdir -p "$www"
echo "namespaces: caracal-l{cli,rtr,srv}-$$; work directory $tmp"
nfqlib_netns caracal-l
if ! nfqlib_net_setup "$CLI_IP" "$RTR_CLI_IP" "$RTR_SRV_IP" "$SRV_IP"; then
    echo "FAIL: could not build the test network"; exit 1
fi
# One packet per skb (no TSO/GSO): iptables counts skbs, the queue packets.
run ip -n "$NS_C" link set dev eth0 gso_max_segs 1 && run ip -n "$NS_S" link set dev eth0 gso_max_segs 1 ||
    skip "cannot turn GSO off with ip link set gso_max_segs"
for f in allowed forbidden blocked-after-reload blocked-two; do
    echo "$f content $$" >"$www/$f.txt"
done
if ! nfqlib_http_start "$www" "$SRV_IP" "$PORT"; then
    echo "FAIL: python3 -m http.server did not come up on $URL"; exit 1
fi

diagnostics() {
    echo "---- diagnostics"
    caracal_diag reload
    echo "  rules file now:"
    sed 's/^/    /' "$RULES" 2>/dev/null
    echo "  http.server log (last 10 lines):"
    tail -n 10 "$srv_log" 2>/dev/null | sed 's/^/    /'
    router_diag
}

RULE_DROP='drop http any any -> any any (msg:"reload test drop"; flow:to_server; http.uri; content:"/forbidden"; sid:9100001; rev:1;)'
RULE_ALERT='alert http any any -> any any (msg:"reload test alert"; flow:to_server; http.uri; content:"/allowed"; sid:9100003; rev:1;)'
RULE_NEW='drop http any any -> any any (msg:"added by reload"; flow:to_server; http.uri; content:"/blocked-after-reload"; sid:9100010; rev:1;)'
RULE_TWO='drop http any any -> any any (msg:"added by the second reload"; flow:to_server; http.uri; content:"/blocked-two"; sid:9100011; rev:1;)'
RULE_BAD='drop http any any -> any any (msg:"broken"; http.uri; content:"/x"; no_such_keyword; sid:9100012; rev:1;)'
# write_rules LINE...: the rules file, atomically (a reload never sees half of it).
write_rules() { printf '%s\n' "$@" >"$RULES.new" && mv "$RULES.new" "$RULES"; }

# reloads: lines the sensor logged for completed reloads so far (successes, failures).
reloads_ok() { grep -c 'rule reload: [0-9]* rule files processed' "$tmp/reload.err" 2>/dev/null; }
reloads_failed() { grep -c 'rule reload failed' "$tmp/reload.err" 2>/dev/null; }
# settle: until no reload is pending or running (the coalesced signals of
# part l may start a second one once the first engine is retired).
settle() {
    local deadline=$(( $(date +%s) + RELOAD_TIMEOUT ))
    sleep 0.4
    while [ "$(grep -c 'rule reload: reading' "$tmp/reload.err")" -gt \
            $(( $(reloads_ok) + $(reloads_failed) )) ]; do
        [ "$(date +%s)" -le "$deadline" ] || return 1
        sleep 0.05
    done
}
# wait_for CMD N: until CMD prints at least N (RELOAD_TIMEOUT at most).
wait_for() {
    local deadline=$(( $(date +%s) + RELOAD_TIMEOUT ))
    while [ "$($1)" -lt "$2" ]; do
        [ "$(date +%s)" -le "$deadline" ] || return 1
        sleep 0.05
    done
}
# drop_check NAME PATH: PATH?NAME must time out and never reach the server.
drop_check() {
    fetch "$1" "$2?$1" -m "$DROP_TIMEOUT"
    sleep 0.1
    local hits
    hits=$(server_hits "$2?$1")
    if [ "$fetch_rc" -eq 28 ] && [ "$hits" -eq 0 ]; then
        pass "$1" "GET $2 dropped: timed out (curl exit 28), never at the server"
    else
        fail "$1" "GET $2: curl exit $fetch_rc (expected 28, a silent drop), server hits $hits"
    fi
}
# pass_check NAME PATH: PATH?NAME passes and reaches the server.
pass_check() {
    fetch "$1" "$2?$1"
    if [ "$fetch_rc" -eq 0 ] && [ "$(server_hits "$2?$1")" -ge 1 ]; then
        pass "$1" "GET $2 passed and the server logged it"
    else
        fail "$1" "GET $2: curl exit $fetch_rc, server hits $(server_hits "$2?$1")"
    fi
}
# Sends numbered datagrams 10 ms apart until the file argv[2] exists, then
# prints "sent answered" once the last answer is 1 s late.
UDP_PING_PY='
import os, select, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], 9000))
n, got = 0, set()
def take(timeout):
    if select.select([s], [], [], timeout)[0]:
        try:
            got.add(int(s.recv(64)))
        except (OSError, ValueError):
            pass
while not os.path.exists(sys.argv[2]):
    s.send(b"%d" % n)
    n += 1
    end = time.monotonic() + 0.01
    while (left := end - time.monotonic()) > 0:
        take(left)
deadline = time.monotonic() + 1
while (left := deadline - time.monotonic()) > 0 and len(got) < n:
    take(left)
print(n, len(got))
'

fetch n1 /allowed.txt
if [ "$fetch_rc" -ne 0 ]; then
    fail n1 "plain forwarding: curl exit $fetch_rc"; nfqlib_summary
fi
if ! in_r $IPTABLES -A FORWARD -j NFQUEUE --queue-balance 20:21 --queue-bypass 2>"$tmp/ipt.err"; then
    skip "cannot add an NFQUEUE rule in a namespace: $(head -c 300 "$tmp/ipt.err")"
fi
# counts the packets that left the router (reload/forwarded)
run in_r $IPTABLES -t mangle -A POSTROUTING -p all || exit 1

write_rules '# caracal nfq-reload.sh' "$RULE_DROP" "$RULE_ALERT"
echo "== reload under traffic (queues 20:21)"
caracal_start reload 2 -q 20:21 -S "$RULES" || nfqlib_summary

# Background traffic for the whole test: benign requests one after the
# other, and a UDP echo stream.
( in_s "$PYTHON" -c "$UDP_ECHO_PY" "$SRV_IP" ) &
echo_pid=$!
for _ in $(seq 1 50); do   # the first datagram must find the echo bound
    in_s ss -Hlun "sport = :9000" 2>/dev/null | grep -q 9000 && break
    sleep 0.05
done
stop_file="$tmp/traffic.stop"
( in_c "$PYTHON" -c "$UDP_PING_PY" "$SRV_IP" "$stop_file" >"$tmp/udp.out" ) &
ping_pid=$!
(
    i=0
    while [ ! -e "$stop_file" ]; do
        i=$((i + 1))
        in_c curl --noproxy '*' -s -m 5 -o /dev/null "$URL/allowed.txt?loop$i" 2>/dev/null
        echo "$i $?" >>"$tmp/loop.rc"
        sleep 0.02
    done
) &
loop_pid=$!
sleep 0.3

pass_check l0 /blocked-after-reload.txt

# l: a new drop rule, three reloads asked for at once
write_rules '# caracal nfq-reload.sh' "$RULE_DROP" "$RULE_ALERT" "$RULE_NEW"
pid=${car_pid[reload]}
kill -USR2 "$pid"; sleep 0.02; kill -USR2 "$pid"; sleep 0.02; kill -USR2 "$pid"
if wait_for reloads_ok 1; then
    line=$(grep -m1 'rule reload: [0-9]* rule files processed' "$tmp/reload.err")
    if printf '%s' "$line" | grep -q '1 rule files processed. 3 rules successfully loaded, 0 rules failed ([0-9.]* s)'; then
        pass l1 "reload logged: ${line#*info: }"
    else
        fail l1 "unexpected reload line: $line"
    fi
else
    fail l1 "no 'rule reload: ... rule files processed' line within $RELOAD_TIMEOUT s"
fi
drop_check l2 /blocked-after-reload.txt
drop_check l3 /forbidden.txt

# e: a broken rule (line 5) between good ones
settle
n_ok=$(reloads_ok)
write_rules '# caracal nfq-reload.sh' "$RULE_DROP" "$RULE_ALERT" "$RULE_NEW" "$RULE_BAD" "$RULE_TWO"
kill -USR2 "$pid"
if wait_for reloads_ok $((n_ok + 1)); then
    err=$(grep -m1 "$RULES:5: " "$tmp/reload.err")
    line=$(grep 'rule reload: [0-9]* rule files processed' "$tmp/reload.err" | tail -1)
    if [ -n "$err" ] && printf '%s' "$line" | grep -q '4 rules successfully loaded, 1 rules failed'; then
        pass e1 "the broken rule was reported (${err#*error: }); ${line#*info: }"
    else
        fail e1 "expected an error at $RULES:5 and '4 rules successfully loaded, 1 rules failed'; got '$err' and '$line'"
    fi
else
    fail e1 "no reload line within $RELOAD_TIMEOUT s after the broken rule"
fi
drop_check e2 /blocked-two.txt

# u: the rules file cannot be read: the rules in effect stay
settle
n_fail=$(reloads_failed)
mv "$RULES" "$RULES.away"
kill -USR2 "$pid"
if wait_for reloads_failed $((n_fail + 1)) &&
        grep -q "$RULES: cannot read rule file" "$tmp/reload.err"; then
    pass u1 "$(grep -m1 'rule reload failed' "$tmp/reload.err" | sed 's/.*error: //')"
else
    fail u1 "no 'cannot read rule file' and 'rule reload failed' lines within $RELOAD_TIMEOUT s"
fi
drop_check u2 /blocked-two.txt
mv "$RULES.away" "$RULES"

# the traffic stops; everything it sent must have passed
touch "$stop_file"
wait "$loop_pid"
wait "$ping_pid"
kill "$echo_pid" 2>/dev/null
wait "$echo_pid" 2>/dev/null
nloop=$(wc -l <"$tmp/loop.rc" 2>/dev/null || echo 0)
nbad=$(awk '$2 != 0' "$tmp/loop.rc" 2>/dev/null | wc -l)
if [ "$nloop" -gt 10 ] && [ "$nbad" = 0 ]; then
    pass b1 "all $nloop benign requests of the loop passed during the reloads"
else
    fail b1 "$nbad of $nloop benign requests failed: $(awk '$2 != 0' "$tmp/loop.rc" | head -5 | tr '\n' ' ')"
fi
read -r usent ugot _ <<<"$(cat "$tmp/udp.out" 2>/dev/null) x x"
if [ "${usent:-0}" -gt 100 ] 2>/dev/null && [ "$usent" = "$ugot" ]; then
    pass b2 "all $usent UDP datagrams were answered"
else
    fail b2 "UDP echo: sent ${usent:-?}, answered ${ugot:-?}"
fi

quiesce
check_queue_idle reload/idle 20
check_queue_idle reload/idle 21
ids20=$(in_r cat /proc/net/netfilter/nfnetlink_queue | awk '$1 == 20 { print $8 }')
ids21=$(in_r cat /proc/net/netfilter/nfnetlink_queue | awk '$1 == 21 { print $8 }')
check_stop reload/stop reload
check_verdicts reload/verdicts reload 20 "$ids20"
drops=${nq_drop:-0}
check_verdicts reload/verdicts reload 21 "$ids21"
drops=$((drops + ${nq_drop:-0}))
queued=$(in_r $IPTABLES -L FORWARD -v -n -x 2>/dev/null | awk '$3 == "NFQUEUE" { n += $1 } END { print n + 0 }')
out=$(in_r $IPTABLES -t mangle -L POSTROUTING -v -n -x 2>/dev/null | awk 'NR == 3 { print $1 }')
if [ "$queued" -gt 0 ] && [ "$queued" = $((${out:-0} + drops)) ]; then
    pass reload/forwarded "every packet queued ($queued) was forwarded ($out) or dropped by caracal ($drops)"
else
    fail reload/forwarded "$queued packets queued, $out forwarded, $drops dropped by caracal: $((queued - ${out:-0} - drops)) vanished"
fi
eve="$tmp/reload-log/eve.json"
nrel=$(eve_query "$eve" stat detect.engine_reloads)
nrelf=$(eve_query "$eve" stat detect.engine_reload_failures)
nlog=$(reloads_ok)
if [ "$nrel" != nostats ] && [ "$nrel" -ge 2 ] && [ "$nrel" = "$nlog" ] && [ "$nrelf" = 1 ]; then
    pass s1 "final stats: detect.engine_reloads $nrel (as logged), engine_reload_failures $nrelf"
else
    fail s1 "final stats: detect.engine_reloads $nrel (logged $nlog), engine_reload_failures $nrelf (expected 1)"
fi

nfqlib_summary
