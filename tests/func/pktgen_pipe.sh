#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   pkt-gen -f tx  ->  netmap:pgtPID{1 ==pipe== netmap:pgtPID}1  ->  pkt-gen -f rx
#   (process 1)                                                        (process 2)
#
# Test objective: pkt-gen moves exactly N packets through a netmap pipe
# between two processes, and prints upstream's closing lines ("Sent N
# packets ...", "Received N packets ...", "Speed: ...", "Average batch:")
# and per-second report line, so scripts that parse pkt-gen keep working.
# Also: SIGINT ends both with the closing lines; bad options exit nonzero
# with a message that names the option; an unknown port fails with the
# library's message. Every wait is bounded.
source "$(dirname "$0")/pktgen_lib.bash"
N=100000

# ---- bad options: nonzero exit, the message names the option ----
bad_opt() {
	local want=$1; shift
	local out rc
	out=$("$PG" "$@" 2>&1 </dev/null)
	rc=$?
	if [ $rc -eq 0 ]; then
		fail "pkt-gen $* exited 0"
	elif ! grep -q -- "$want" <<<"$out"; then
		fail "pkt-gen $*: message does not name '$want': $out"
	else
		ok "pkt-gen $* -> exit $rc: $(head -n 1 <<<"$out")"
	fi
}
bad_opt "bad -l 99999" -i netmap:pgbad$$ -l 99999
bad_opt "bad -l 8" -i netmap:pgbad$$ -l 8
bad_opt "bad -f foo" -i netmap:pgbad$$ -f foo
bad_opt "bad -b 0" -i netmap:pgbad$$ -b 0
bad_opt "bad -n abc" -i netmap:pgbad$$ -n abc
bad_opt "bad -p 0" -i netmap:pgbad$$ -p 0
bad_opt "bad -D zz:1" -i netmap:pgbad$$ -D zz:1
bad_opt "bad -s 10.0.0" -i netmap:pgbad$$ -s 10.0.0
bad_opt "bad -d 10.0.0.1:99999" -i netmap:pgbad$$ -d 10.0.0.1:99999
bad_opt "bad -R -5" -i netmap:pgbad$$ -R -5
bad_opt "missing -i" -f tx
bad_opt "unexpected argument" -i netmap:pgbad$$ extra
bad_opt "bad -l 30" -i netmap:pgbad$$ -f ping -l 30

# ---- an unknown NIC: nonzero, the port is named ----
out=$(timeout 20 "$PG" -i netmap:unm_nosuch$$ -f rx -w 0 2>&1)
rc=$?
if [ $rc -eq 0 ] || ! grep -q "unm_nosuch$$" <<<"$out"; then
	fail "open of a missing port: exit $rc, output: $out"
else
	ok "missing port -> exit $rc: $(tr '\n' ' ' <<<"$out")"
fi

# ---- N packets through a pipe, two processes ----
rx_out=$tmp/rx.out rx_err=$tmp/rx.err tx_out=$tmp/tx.out tx_err=$tmp/tx.err
bounded_bg 60 "$PG" -i "netmap:pgt${$}}1" -f rx -n $N >"$rx_out" 2>"$rx_err"
rx_pid=$bg_pid
if ! wait_for "$rx_out" '^Receiving from' 10; then
	wait "$rx_pid" 2>/dev/null
	fail "pkt-gen rx did not open the pipe: $(cat "$rx_err")"
	exit 1
fi
bounded_bg 60 "$PG" -i "netmap:pgt${$}{1" -f tx -n $N >"$tx_out" 2>"$tx_err"
tx_pid=$bg_pid
wait "$tx_pid"; tx_rc=$?
wait "$rx_pid"; rx_rc=$?

[ $tx_rc -eq 0 ] || fail "pkt-gen tx exit $tx_rc: $(tail -n 5 "$tx_err")"
[ $rx_rc -eq 0 ] || fail "pkt-gen rx exit $rx_rc: $(tail -n 5 "$rx_err")"
bytes=$((N * 60))
num='[0-9]+(\.[0-9]+)?'
speed="^Speed: $num [KMGT]?pps Bandwidth: $num [KMGT]?bps \(raw $num [KMGT]?bps\)\. Average batch: $num pkts$"
grep -Eq "^Sent $N packets $bytes bytes [0-9]+ events 60 bytes each in $num seconds\.$" "$tx_out" ||
	fail "tx closing line: $(cat "$tx_out")"
grep -Eq "^Received $N packets $bytes bytes [0-9]+ events 60 bytes each in $num seconds\.$" "$rx_out" ||
	fail "rx closing line: $(cat "$rx_out")"
grep -Eq "$speed" "$tx_out" || fail "tx Speed line: $(cat "$tx_out")"
grep -Eq "$speed" "$rx_out" || fail "rx Speed line: $(cat "$rx_out")"
grep -Eq "^[0-9]{3}\.[0-9]{6} main_thread \[[0-9]+\] $num [KMGT]?pps \($num [KMGT]?pkts $num [KMGT]?bps in [0-9]+ usec\) $num avg_batch [0-9]+ min_space$" "$rx_err" ||
	fail "rx report line: $(cat "$rx_err")"
[ $fails -eq 0 ] && ok "$N packets: $(grep -h -E '^(Received|Speed)' "$rx_out" | tr '\n' ' ')"

# ---- SIGINT: both stop and print their closing lines ----
bounded_bg 60 "$PG" -i "netmap:pgi${$}}1" -f rx >"$rx_out" 2>"$rx_err"
rx_pid=$bg_pid
if wait_for "$rx_out" '^Receiving from' 10; then
	bounded_bg 60 "$PG" -i "netmap:pgi${$}{1" -f tx >"$tx_out" 2>"$tx_err"
	tx_pid=$bg_pid
	wait_for "$tx_err" 'main_thread' 10
	kill -INT "$tx_pid"
	wait "$tx_pid"; tx_rc=$?
	kill -INT "$rx_pid"
	wait "$rx_pid"; rx_rc=$?
	sent=$(sed -nE 's/^Sent ([0-9]+) packets.*/\1/p' "$tx_out")
	recv=$(sed -nE 's/^Received ([0-9]+) packets.*/\1/p' "$rx_out")
	if [ $tx_rc -ne 0 ] || [ $rx_rc -ne 0 ] || [ -z "$sent" ] || [ -z "$recv" ] ||
	   ! grep -Eq "$speed" "$tx_out" || ! grep -Eq "$speed" "$rx_out"; then
		fail "SIGINT: tx exit $tx_rc rx exit $rx_rc; tx: $(cat "$tx_out" "$tx_err" | tail -n 4); rx: $(cat "$rx_out" "$rx_err" | tail -n 4)"
	elif [ "$recv" -gt "$sent" ]; then
		fail "SIGINT: received $recv > sent $sent"
	else
		ok "SIGINT: sent $sent, received $recv, both printed closing lines"
	fi
else
	fail "SIGINT case: rx did not start: $(cat "$rx_err")"
fi

if [ $fails -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "all pkt-gen pipe checks passed"
exit 0
