#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   pkt-gen -f ping  ->  netmap:pgpPID{1 ==pipe== netmap:pgpPID}1  ->  pkt-gen -f pong
#   (process 1)      <-                                            <-  (process 2)
#
# Test objective: ping/pong round trips over a netmap pipe between two
# processes: pong answers exactly N pings and exits, ping reports its RTT
# in upstream's format ("RTT over N packets: min X av Y ns"), both exit 0.
# A second pair exercises address ranges and random sizes on tx (-s/-d
# ranges, -z, two -l) into rx, checking the count. Every wait is bounded.
source "$(dirname "$0")/pktgen_lib.bash"
N=2000

# start_rx NAME FUNC ARGS...: start the listening end, wait until it is open
start_end() {
	local out=$1; shift
	bounded_bg 60 "$PG" "$@" >"$out" 2>"$out.err"
	if ! wait_for "$out" '^(Receiving from|Working on)' 10; then
		wait "$bg_pid" 2>/dev/null
		fail "pkt-gen $* did not open: $(cat "$out.err")"
		exit 1
	fi
}

# ---- ping/pong ----
start_end "$tmp/pong" -i "netmap:pgp${$}}1" -f pong -n $N
pong_pid=$bg_pid
bounded_bg 60 "$PG" -i "netmap:pgp${$}{1" -f ping -n $N >"$tmp/ping" 2>"$tmp/ping.err"
ping_pid=$bg_pid
wait "$ping_pid"; ping_rc=$?
wait "$pong_pid"; pong_rc=$?
rtt=$(grep -E 'ping_body \[[0-9]+\] RTT over [0-9]+ packets: min [0-9]+ av [0-9]+ ns$' "$tmp/ping.err")
if [ $ping_rc -ne 0 ] || [ $pong_rc -ne 0 ] || [ -z "$rtt" ]; then
	fail "ping exit $ping_rc, pong exit $pong_rc; ping: $(tail -n 5 "$tmp/ping.err"); pong: $(tail -n 5 "$tmp/pong.err")"
else
	n=$(sed -nE 's/.*RTT over ([0-9]+) packets.*/\1/p' <<<"$rtt")
	[ "$n" -eq $N ] || fail "ping measured $n round trips, want $N"
	ok "ping/pong: ${rtt#* RTT}"
fi

# ---- tx with ranges, random source, random sizes -> rx ----
start_end "$tmp/rx" -i "netmap:pgr${$}}1" -f rx -n 50000
rx_pid=$bg_pid
bounded_bg 60 "$PG" -i "netmap:pgr${$}{1" -f tx -n 50000 -l 300 -l 64 \
	-s 10.0.0.1:1000-10.0.0.9:1010 -d 10.1.0.1:2000-2005 -z -S 02:00:00:00:00:01 \
	-D 02:00:00:00:00:02 >"$tmp/tx" 2>"$tmp/tx.err"
tx_pid=$bg_pid
wait "$tx_pid"; tx_rc=$?
wait "$rx_pid"; rx_rc=$?
if [ $tx_rc -ne 0 ] || [ $rx_rc -ne 0 ] ||
   ! grep -Eq '^Received 50000 packets [0-9]+ bytes' "$tmp/rx" ||
   ! grep -Eq '^Sent 50000 packets [0-9]+ bytes' "$tmp/tx"; then
	fail "ranges: tx exit $tx_rc rx exit $rx_rc; tx: $(cat "$tmp/tx" | tail -n 3); rx: $(cat "$tmp/rx" "$tmp/rx.err" | tail -n 3)"
else
	tb=$(sed -nE 's/^Sent 50000 packets ([0-9]+) bytes.*/\1/p' "$tmp/tx")
	rb=$(sed -nE 's/^Received 50000 packets ([0-9]+) bytes.*/\1/p' "$tmp/rx")
	[ "$tb" = "$rb" ] || fail "ranges: sent $tb bytes, received $rb"
	# random sizes in [64, 300): the mean is far from both ends
	[ "$rb" -gt $((50000 * 100)) ] && [ "$rb" -lt $((50000 * 270)) ] ||
		fail "ranges: $rb bytes for 50000 packets is not a mean in [64, 300)"
	ok "ranges + random sizes: 50000 packets, $rb bytes both ends"
fi

if [ $fails -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "all pkt-gen ping/pong and range checks passed"
exit 0
