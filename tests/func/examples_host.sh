#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: the examples that sit between a NIC and the host stack
# through host rings, on A's end of a veth pair, carry the traffic between
# two namespaces' stacks; a blocked flow is blocked; nothing is left after.
#
#   namespace $NSA                                            namespace $NSB
#   stack --tx--> [tcx egress]  -> VA^ host RX -\
#                                    nic2host | firewall -> VA NIC TX ==veth==> VB  stack
#   stack <------ [helper veth] <- VA^ host TX <-/       <- VA NIC RX <==veth== VB
#
#  a) nic2host -i netmap:VA: ping B -> A and A -> B, a TCP transfer each way
#     (a fixed pattern, checked by length and SHA-256 at the receiver), and
#     nic2host's exit counters cover the pings and the TCP segments each way;
#  b) firewall -i netmap:VA -i netmap:VA^ -r "drop tcp dst port 5003",
#     zero-copy (the host rings in the NIC port's region): ping both ways,
#     TCP to port 5002 both ways, TCP to port 5003 does not connect either
#     way (a server listens, the SYNs are dropped), and rule 1 counted them;
#  c) after each program ends by SIGINT, and after a SIGKILL of each while
#     TCP is flowing: no helper interface (unmh*) in $NSA, no XDP/tc program
#     on VA, no shared memory of ours, and A and B ping each other directly.
#
# B sends with TX checksum offload off: AF_XDP on a veth gets B's frames as
# B's stack left them, and a real wire carries frames the NIC checksummed.
source "$(dirname "$0")/nic_lib.bash"

EX=$BUILD/examples
N2H=$EX/nic2host FW=$EX/firewall
for b in "$N2H" "$FW"; do
	[ -x "$b" ] || fail "build first: $b"
done
[ -f "$TCP_PEER" ] || fail "missing $TCP_PEER"
# test dependencies (mk/deps.sh test): missing ones are a failure, not a skip
command -v ping >/dev/null || fail "no ping: install iputils-ping (mk/deps.sh test)"
command -v python3 >/dev/null || fail "no python3 (TCP endpoints): mk/deps.sh test"
command -v ethtool >/dev/null || fail "no ethtool: mk/deps.sh test"

IPA=10.79.0.1 IPB=10.79.0.2
ip -n "$NSA" addr add $IPA/24 dev "$VA" && ip -n "$NSB" addr add $IPB/24 dev "$VB" ||
	fail "addresses on $VA/$VB"
inb ethtool -K "$VB" tx off >/dev/null 2>&1 || fail "ethtool -K $VB tx off"
BYTES=2000000
PINGS=5
# each TCP segment carries at most 1460 bytes on a 1500-byte MTU
SEGS=$(((BYTES + 1459) / 1460))

# ends pid $1 with SIGINT, waits for it (bounded); its exit code in $rc
stop_int() {
	local i
	kill -INT "$1"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && fail "pid $1 still running 10 s after SIGINT"
	wait "$1"
	rc=$?
}

# ping_both WHAT: PINGS echo requests each way, all answered
ping_both() {
	inb ping -c $PINGS -i 0.2 -W 2 $IPA >"$OUT/ping.ba" 2>&1 ||
		fail "$1: ping B -> A: $(tail -n 2 "$OUT/ping.ba")"
	ina ping -c $PINGS -i 0.2 -W 2 $IPB >"$OUT/ping.ab" 2>&1 ||
		fail "$1: ping A -> B: $(tail -n 2 "$OUT/ping.ab")"
	grep -q "$PINGS received" "$OUT/ping.ba" && grep -q "$PINGS received" "$OUT/ping.ab" ||
		fail "$1: not every ping answered: $(grep received "$OUT/ping.ba" "$OUT/ping.ab")"
}

# tcp_to NS_SRV ADDR PORT NS_CLI NBYTES WHAT: one whole transfer
tcp_to() {
	tcp_xfer "$1" "$2" "$3" "$4" "$5" ||
		fail "$6: TCP to $2:$3: $(cat "$OUT/cli.$3") / server: $(cat "$OUT/srv.$3")"
	echo "$6: TCP $5 bytes to $2:$3: whole ($(cut -c 1-20 "$OUT/cli.$3")...)"
}

# blocked NS_SRV ADDR PORT NS_CLI WHAT: a server listens, no connection is made
blocked() {
	ip netns exec "$1" timeout 20 python3 "$TCP_PEER" server "$2" "$3" >"$OUT/srvx.$3" 2>&1 &
	local srv=$!
	sleep 0.3	# listening, so a refusal would show
	ip netns exec "$4" timeout 10 python3 "$TCP_PEER" blocked "$2" "$3" 3 >"$OUT/clix.$3" 2>&1 ||
		fail "$5: TCP to $2:$3 not blocked: $(cat "$OUT/clix.$3")"
	kill $srv 2>/dev/null
	wait $srv 2>/dev/null
	echo "$5: $(cat "$OUT/clix.$3")"
}

# clean WHAT: nothing of the host rings left on A, direct traffic works
clean() {
	local i left
	for ((i = 0; i < 50; i++)); do
		left=
		ip -n "$NSA" -o link show | grep -q 'unmh' && left="$left helper interface;"
		ip -n "$NSA" -d link show "$VA" | grep -qE 'xdp|prog/' && left="$left XDP program;"
		ip -n "$NSA" -d link show "$VA" | grep -qE 'PROMISC|promiscuity [1-9]' &&
			left="$left promiscuous mode;"
		if command -v bpftool >/dev/null; then
			# tc/tcx entries: bpftool before v7.3 does not list tcx links
			ina bpftool net show dev "$VA" 2>/dev/null | grep -q 'unm_' &&
				left="$left bpf program (bpftool net);"
		fi
		ls /dev/shm/"$UNM_SHM_PREFIX".* >/dev/null 2>&1 && left="$left shared memory;"
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$left" ]; then
		ip -n "$NSA" -d link show
		ls -l /dev/shm/"$UNM_SHM_PREFIX".* 2>&1
		fail "$1: left behind:$left"
	fi
	ping_both "$1: direct"
	echo "$1: no helper, no XDP/tc program, no shared memory; direct ping both ways"
}

# start NAME CMD...: runs CMD in $NSA (its pid in $pid), waits for its
# ready line on stderr
start() {
	local name=$1 ready=$2
	shift 2
	ip netns exec "$NSA" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" &
	pid=$!
	wait_for "$OUT/$name.err" "$ready|cannot|error" 10 ||
		fail "$name did not start: $(cat "$OUT/$name.err")"
	grep -Eq "$ready" "$OUT/$name.err" || fail "$name: $(cat "$OUT/$name.err")"
	ip -n "$NSA" -o link show | grep -q unmh || fail "$name: no helper interface while host rings are open"
}

# kill_during NAME: SIGKILL pid $pid while TCP flows A -> B and B -> A
kill_during() {
	ip netns exec "$NSB" timeout 20 python3 "$TCP_PEER" server $IPB 5010 >/dev/null 2>&1 &
	local s1=$!
	ip netns exec "$NSA" timeout 20 python3 "$TCP_PEER" server $IPA 5011 >/dev/null 2>&1 &
	local s2=$!
	sleep 0.3
	ip netns exec "$NSA" timeout 20 python3 "$TCP_PEER" client $IPB 5010 200000000 >/dev/null 2>&1 &
	local c1=$!
	ip netns exec "$NSB" timeout 20 python3 "$TCP_PEER" client $IPA 5011 200000000 >/dev/null 2>&1 &
	local c2=$!
	sleep 1
	kill -0 "$pid" 2>/dev/null || fail "$1 ended before the SIGKILL: $(cat "$OUT"/*.err)"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	kill $c1 $c2 $s1 $s2 2>/dev/null
	wait $c1 $c2 $s1 $s2 2>/dev/null
	echo "$1: SIGKILLed while TCP flowed both ways"
}

# ---------------- a) nic2host ----------------
start n2h "^nic2host: forwarding netmap:$VA <-> netmap:$VA\^$" "$N2H" -i "netmap:$VA"
ping_both "nic2host"
echo "nic2host: ping B -> A and A -> B: $PINGS/$PINGS each"
tcp_to "$NSA" $IPA 5001 "$NSB" $BYTES "nic2host B -> A"
tcp_to "$NSB" $IPB 5001 "$NSA" $BYTES "nic2host A -> B"
stop_int $pid
[ $rc -eq 0 ] || fail "nic2host exit $rc: $(cat "$OUT/n2h.err")"
line=$(grep -E '^[0-9]+ frames nic->host, [0-9]+ frames host->nic$' "$OUT/n2h.out")
[ -n "$line" ] || fail "nic2host: no counters line: $(cat "$OUT/n2h.out")"
read -r n2h _ _ h2n _ <<<"$line"
# each way: PINGS requests + PINGS replies, and one transfer's data segments
# (B -> A's data goes nic->host, A -> B's goes host->nic)
min=$((2 * PINGS + SEGS))
[ "$n2h" -ge $min ] && [ "$h2n" -ge $min ] ||
	fail "nic2host counters: $line; want at least $min each way"
echo "nic2host: $line (at least $min each way)"
clean "after nic2host SIGINT"

start n2h2 "^nic2host: forwarding" "$N2H" -i "$VA"
ping_both "nic2host (-i $VA)"
kill_during "nic2host"
clean "after nic2host SIGKILL"

# ---------------- b) firewall ----------------
RULE="drop tcp dst port 5003"
start fw "^firewall: netmap:$VA <-> netmap:$VA\^, 1 rule\(s\), default pass, zero-copy$" \
	"$FW" -i "netmap:$VA" -i "netmap:$VA^" -r "$RULE"
ping_both "firewall"
echo "firewall: zero-copy; ping B -> A and A -> B: $PINGS/$PINGS each"
tcp_to "$NSA" $IPA 5002 "$NSB" $BYTES "firewall B -> A"
tcp_to "$NSB" $IPB 5002 "$NSA" $BYTES "firewall A -> B"
blocked "$NSA" $IPA 5003 "$NSB" "firewall B -> A"
blocked "$NSB" $IPB 5003 "$NSA" "firewall A -> B"
stop_int $pid
[ $rc -eq 0 ] || fail "firewall exit $rc: $(cat "$OUT/fw.err")"
# rule 1 saw at least one SYN each way
hits=$(sed -nE "s/^rule 1: $RULE: ([0-9]+) packets [0-9]+ bytes$/\1/p" "$OUT/fw.out")
[ -n "$hits" ] && [ "$hits" -ge 2 ] || fail "firewall rule 1 counter: $(cat "$OUT/fw.out")"
for dir in "netmap:$VA -> netmap:$VA^" "netmap:$VA^ -> netmap:$VA"; do
	p=$(grep -F "$dir: " "$OUT/fw.out" | sed -nE 's/.*: ([0-9]+) passed.*/\1/p')
	[ -n "$p" ] && [ "$p" -ge $((2 * PINGS + SEGS)) ] ||
		fail "firewall $dir: too few passed: $(cat "$OUT/fw.out")"
done
echo "firewall: $(tr '\n' ';' <"$OUT/fw.out")"
clean "after firewall SIGINT"

start fw2 "^firewall: .*zero-copy" "$FW" -i "netmap:$VA" -i "netmap:$VA^" -r "$RULE"
ping_both "firewall (again)"
kill_during "firewall"
clean "after firewall SIGKILL"

echo "examples_host: all checks passed"
