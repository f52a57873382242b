#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   pkt-gen tx -> A{0 ==pipe== A}0 <- bridge -> B}0 ==pipe== B{0 -> pkt-gen rx
#   pkt-gen rx <- A{0 ==pipe== A}0 <- bridge <- B}0 ==pipe== B{0 <- pkt-gen tx
#   examples_send -F (3-slot NS_MOREFRAG frames) -> A{0 ... B{0 -> pkt-gen rx
#
# Test objective: tools/bridge forwards exact counts in both directions
# between two pipe ends, in its three modes: zero-copy (the two ports share
# memory region 1), -c (copy although they share it) and ports in
# different regions (the B pair is created in region 2 before the bridge
# opens it: the bridge falls back to copying). Multi-slot frames arrive
# whole (pkt-gen counts frames, the bridge reports frames and slots). The
# closing statistics name each direction with exact packet, byte and slot
# counts. Also: bad options and ports fail with a message naming them; one
# port means host rings, which a pipe does not have: a clear error.
source "$(dirname "$0")/pipe_lib.bash"
# a netmap world of our own: other tests and builds do not share our objects
export UNM_SHM_PREFIX=unetmap-br$$
BR=$BUILD/tools/bridge
PG=$BUILD/tools/pkt-gen
SEND=$BUILD/tests/func/examples_send
N1=20000 N2=7000 M=300 FLEN=2100
need_built "$BR" "$PG" "$SEND"

# ---- bad options and ports: nonzero exit, the message names the culprit ----
bad() {
	local want=$1; shift
	local out rc
	out=$(timeout 20 "$BR" "$@" 2>&1 </dev/null)
	rc=$?
	if [ $rc -eq 0 ] || [ $rc -ge 124 ]; then
		fail "bridge $* exited $rc: $out"
	elif ! grep -qF -- "$want" <<<"$out"; then
		fail "bridge $*: message does not name '$want': $out"
	else
		ok "bridge $* -> exit $rc: $(head -n 1 <<<"$out")"
	fi
}
bad "bad burst -b '0'" -b 0 -i netmap:x$$}0 -i netmap:y$$}0
bad "bad burst -b '9000'" -b 9000 -i netmap:x$$}0 -i netmap:y$$}0
bad "bad wait_link -w 'abc'" -w abc -i netmap:x$$}0 -i netmap:y$$}0
bad "bad wait_link -w '101'" -w 101 -i netmap:x$$}0 -i netmap:y$$}0
bad "already have two ports" -i netmap:x$$}0 -i netmap:y$$}0 -i netmap:z$$}0
bad "missing port" -w 0
bad "the same port 'netmap:x$$}0' twice" -i netmap:x$$}0 -i netmap:x$$}0
bad "unexpected argument 'extra'" -i netmap:x$$}0 -i netmap:y$$}0 extra
bad "unknown option" -Q -i netmap:x$$}0
bad "unm_nosuch$$" -w 0 -i netmap:unm_nosuch$$ -i "netmap:y$$}0"
bad "unm_nosuch$$" -w 0 -i "netmap:y$$}0" -i netmap:unm_nosuch$$
bad "host rings" -w 0 -i "netmap:x$$}0"

# run_bridge MODE A B [bridge options]: the three phases through one bridge
run_bridge() {
	local mode=$1 A=$2 B=$3; shift 3
	local bout=$tmp/br.out berr=$tmp/br.err rc

	# mode "mem2": the B pair lives in region 2 before the bridge opens it
	local b_rx=$B{0
	[ "$mode" = mem2 ] && b_rx="$B{0@2"

	# phase 1: A{0 -> B{0, pkt-gen both ends
	bounded_bg 60 "$PG" -i "netmap:$b_rx" -f rx -n $N1 -w 0 >"$tmp/rx1.out" 2>&1
	local rx1=$bg_pid
	wait_for "$tmp/rx1.out" '^Receiving from' 10 || { fail "$mode: rx1 did not start: $(cat "$tmp/rx1.out")"; return; }
	bounded_bg 90 "$BR" -w 0 "$@" -i "netmap:$A}0" -i "netmap:$B}0" >"$bout" 2>"$berr"
	local brp=$bg_pid
	wait_for "$berr" 'ready to go' 10 || { fail "$mode: bridge did not start: $(cat "$berr")"; return; }
	bounded_bg 60 "$PG" -i "netmap:$A{0" -f tx -n $N1 -w 0 >"$tmp/tx1.out" 2>&1
	wait "$bg_pid" || fail "$mode: tx1 exit $?: $(tail -n 3 "$tmp/tx1.out")"
	wait "$rx1" || fail "$mode: rx1 exit $?: $(tail -n 3 "$tmp/rx1.out")"
	grep -q "^Received $N1 packets" "$tmp/rx1.out" || fail "$mode: phase 1: $(grep Received "$tmp/rx1.out")"

	# phase 2: B{0 -> A{0
	bounded_bg 60 "$PG" -i "netmap:$A{0" -f rx -n $N2 -w 0 >"$tmp/rx2.out" 2>&1
	local rx2=$bg_pid
	wait_for "$tmp/rx2.out" '^Receiving from' 10 || fail "$mode: rx2 did not start"
	bounded_bg 60 "$PG" -i "netmap:$B{0" -f tx -n $N2 -w 0 >"$tmp/tx2.out" 2>&1
	wait "$bg_pid" || fail "$mode: tx2 exit $?: $(tail -n 3 "$tmp/tx2.out")"
	wait "$rx2" || fail "$mode: rx2 exit $?: $(tail -n 3 "$tmp/rx2.out")"
	grep -q "^Received $N2 packets" "$tmp/rx2.out" || fail "$mode: phase 2: $(grep Received "$tmp/rx2.out")"

	# phase 3: multi-slot frames A{0 -> B{0, whole
	bounded_bg 60 "$PG" -i "netmap:$B{0" -f rx -n $M -w 0 >"$tmp/rx3.out" 2>&1
	local rx3=$bg_pid
	wait_for "$tmp/rx3.out" '^Receiving from' 10 || fail "$mode: rx3 did not start"
	bounded_bg 60 "$SEND" -i "netmap:$A{0" -n $M -F 1000 "udp,10.0.0.1,1,10.0.0.2,2,$FLEN" >"$tmp/tx3.out" 2>&1
	wait "$bg_pid" || fail "$mode: examples_send exit $?: $(cat "$tmp/tx3.out")"
	wait "$rx3" || fail "$mode: rx3 exit $?: $(tail -n 3 "$tmp/rx3.out")"
	grep -q "^Received $M packets" "$tmp/rx3.out" || fail "$mode: phase 3: $(grep Received "$tmp/rx3.out")"

	kill -INT "$brp"
	wait "$brp"; rc=$?
	[ $rc -eq 0 ] || fail "$mode: bridge exit $rc after SIGINT: $(tail -n 3 "$berr")"

	local want_zc="zerocopy supported"
	[ "$mode" != zc ] && want_zc="zerocopy NOT supported"
	grep -q -- "$want_zc" "$berr" || fail "$mode: want '$want_zc': $(grep zerocopy "$berr")"
	local ab="netmap:$A}0 -> netmap:$B}0: $((N1 + M)) packets $((N1 * 60 + M * FLEN)) bytes $((N1 + 3 * M)) slots 0 dropped"
	local ba="netmap:$B}0 -> netmap:$A}0: $N2 packets $((N2 * 60)) bytes $N2 slots 0 dropped"
	if grep -qxF "$ab" "$bout" && grep -qxF "$ba" "$bout"; then
		ok "$mode: $(grep -- "$want_zc" "$berr" | sed 's/^bridge: //'); $(tr '\n' ';' <"$bout")"
	else
		fail "$mode: stats, want '$ab' and '$ba', got: $(cat "$bout")"
	fi
}

run_bridge zc "bza$$" "bzb$$"
run_bridge copy "bca$$" "bcb$$" -c
run_bridge mem2 "bma$$" "bmb$$" -b 64

# every process is gone: the reapers leave nothing behind
for _ in $(seq 60); do
	ls /dev/shm | grep -q "^$UNM_SHM_PREFIX\." || break
	sleep 0.05
done
left=$(ls /dev/shm | grep "^$UNM_SHM_PREFIX\.")
[ -z "$left" ] || fail "left in /dev/shm: $left"

if [ $fails -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "all bridge pipe checks passed"
exit 0
