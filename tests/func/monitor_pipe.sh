#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   mon_peer tx -> x{0 ==pipe== x}0 -> mon_peer rx
#                   |            |
#          monitors x{0/t (two)  x}0/r         x{0/rt (both ways)
#
# Test objective: copy monitors (netmap(4) "X/t", "X/r", "X/rt") get a copy
# of every frame that crosses the monitored rings, every byte as sent: the
# frames a program sends (/t, at its txsync), the frames it receives (/r,
# at its rxsync), both (/rt); several monitors of one port each get
# everything; a longer rate-limited run obeys copies + drops == sent (the
# monitor's counters) while the pipe itself moves every frame; pkt-gen rx on
# "netmap:X{0/t" counts exactly what pkt-gen tx sent. Exactness needs no
# timing: the copies happen inside the monitored program's syncs, so once
# the senders and receivers have exited, every copy is in a monitor's ring
# or counted as dropped (runs of N < ring size cannot drop at all).
source "$(dirname "$0")/monitor_lib.bash"
PG=$BUILD/tools/pkt-gen
need_built "$PG"
p=mp$$
N=1000

# ---- /t twice, /r: N frames (fit the 1024-slot rings: nothing can drop) ----
start "$tmp/rx" -n $N -t 30 rx "netmap:$p}0" || exit 1
start "$tmp/tx" -n $N -t 30 -W "$tmp/go" tx "netmap:$p{0" || exit 1
tx_pid=$bg_pid
start "$tmp/m1" -n 999999 -t 30 mon "netmap:$p{0/t" || exit 1
m1=$bg_pid
start "$tmp/m2" -n 999999 -t 30 mon "netmap:$p{0/t" || exit 1
m2=$bg_pid
start "$tmp/m3" -n 999999 -t 30 mon "netmap:$p}0/r" || exit 1
m3=$bg_pid
touch "$tmp/go"
wait "$tx_pid" || fail "tx: $(cat "$tmp/tx.err")"
wait "${pids[0]}" || fail "rx: $(cat "$tmp/rx" "$tmp/rx.err")"
expect "$tmp/rx" received $N "pipe rx"
expect "$tmp/rx" bad 0 "pipe rx"
for m in m1:$m1 m2:$m2 m3:$m3; do
	stop_mon "${m#*:}"
	f=$tmp/${m%:*}
	expect "$f" frames $N "monitor ${m%:*}"
	expect "$f" bad 0 "monitor ${m%:*} (every byte as sent)"
	expect "$f" seqs1 $N "monitor ${m%:*} (every frame once)"
	expect "$f" mon_frames $N "monitor ${m%:*} counter"
	expect "$f" mon_drops 0 "monitor ${m%:*} counter"
done

# ---- /rt: both ends send and receive N/2; the monitor of x{0 gets both ----
pids=()
H=500
start "$tmp/a" -n $H -t 30 -i 1 -W "$tmp/go2" txrx "netmap:${p}b{0" || exit 1
a=$bg_pid
start "$tmp/b" -n $H -t 30 -i 2 -W "$tmp/go2" txrx "netmap:${p}b}0" || exit 1
b=$bg_pid
start "$tmp/rt" -n 999999 -t 30 mon "netmap:${p}b{0/rt" || exit 1
rt=$bg_pid
touch "$tmp/go2"
wait "$a" || fail "txrx x{0: $(cat "$tmp/a" "$tmp/a.err")"
wait "$b" || fail "txrx x}0: $(cat "$tmp/b" "$tmp/b.err")"
stop_mon "$rt"
expect "$tmp/rt" frames $((2 * H)) "/rt monitor"
expect "$tmp/rt" bad 0 "/rt monitor (every byte)"
expect "$tmp/rt" id1 $H "/rt monitor: frames x{0 sent"
expect "$tmp/rt" seqs1 $H "/rt monitor: frames x{0 sent, each once"
expect "$tmp/rt" id2 $H "/rt monitor: frames x{0 received"
expect "$tmp/rt" seqs2 $H "/rt monitor: frames x{0 received, each once"

# ---- a longer run at 20 kpps: copies + drops == sent, the pipe exact ----
pids=()
L=20000
start "$tmp/lrx" -n $L -t 40 rx "netmap:${p}c}0" || exit 1
lrx=$bg_pid
start "$tmp/ltx" -n $L -t 40 -R 20000 -W "$tmp/go3" tx "netmap:${p}c{0" || exit 1
ltx=$bg_pid
start "$tmp/lm" -n 999999 -t 40 mon "netmap:${p}c{0/t" || exit 1
lm=$bg_pid
touch "$tmp/go3"
wait "$ltx" || fail "long tx: $(cat "$tmp/ltx.err")"
wait "$lrx" || fail "long rx: $(cat "$tmp/lrx" "$tmp/lrx.err")"
stop_mon "$lm"
expect "$tmp/lrx" received $L "long run, pipe rx"
expect "$tmp/lm" bad 0 "long run monitor (every byte)"
got=$(field "$tmp/lm" frames) mf=$(field "$tmp/lm" mon_frames) md=$(field "$tmp/lm" mon_drops)
if [ "$got" = "$mf" ] && [ $((mf + md)) -eq $L ] && [ "$(field "$tmp/lm" seqs1)" = "$got" ]; then
	ok "long run monitor: $got copies + $md drops == $L sent"
else
	fail "long run monitor: frames $got mon_frames $mf mon_drops $md, sent $L"
fi

# pg_monitored X WAIT OUT: pkt-gen rx on X}0, tx on X{0 (N frames after WAIT
# seconds), pkt-gen rx on the monitor X{0/t once X{0 is registered; output to
# OUT.rx, OUT.tx, OUT.mon; pids in g_rx, g_tx, g_mon
pg_monitored() {
	local i
	pids=()
	bounded_bg 60 "$PG" -i "netmap:$1}0" -f rx -n $N >"$3.rx" 2>&1
	g_rx=$bg_pid
	wait_for "$3.rx" '^Receiving from' 20 || fail "pkt-gen rx did not start: $(cat "$3.rx")"
	bounded_bg 60 "$PG" -i "netmap:$1{0" -f tx -n $N -w "$2" >"$3.tx" 2>&1
	g_tx=$bg_pid
	# the monitored end must be registered before its monitor
	for ((i = 0; i < 200; i++)); do
		grep -q "Wait $2 secs\\|Ready\\|main_thread" "$3.tx" 2>/dev/null && break
		sleep 0.1
	done
	bounded_bg 60 "$PG" -i "netmap:$1{0/t" -f rx -n $N >"$3.mon" 2>&1
	g_mon=$bg_pid
}

# ---- pkt-gen: rx on netmap:X{0/t counts what pkt-gen tx sent ----
pg_monitored "${p}d" 5 "$tmp/p"
wait "$g_tx" || fail "pkt-gen tx: $(tail -n 3 "$tmp/p.tx")"
wait "$g_rx" || fail "pkt-gen rx: $(tail -n 3 "$tmp/p.rx")"
wait "$g_mon" || fail "pkt-gen rx on the monitor: $(tail -n 3 "$tmp/p.mon")"
grep -q "^Received $N packets $((N * 60)) bytes" "$tmp/p.mon" &&
	ok "pkt-gen rx on netmap:${p}d{0/t: $(grep '^Received' "$tmp/p.mon")" ||
	fail "pkt-gen on the monitor: $(tail -n 3 "$tmp/p.mon")"

# ---- a monitor that falls behind reads all it holds after the port goes ----
# (SIGSTOPped until the pipe's two ends have exited: the port is gone, the
# copies wait in its ring; pkt-gen quits at the first POLLERR, so the error
# must come only once everything was read)
pg_monitored "${p}e" 3 "$tmp/s"
wait_for "$tmp/s.mon" '^Receiving from' 20 ||
	fail "pkt-gen on the monitor did not start: $(cat "$tmp/s.mon")"
kill -STOP "$g_mon"
wait "$g_tx" || fail "pkt-gen tx: $(tail -n 3 "$tmp/s.tx")"
wait "$g_rx" || fail "pkt-gen rx: $(tail -n 3 "$tmp/s.rx")"
kill -CONT "$g_mon"
wait "$g_mon" || fail "pkt-gen on a stopped monitor, after the port went: $(tail -n 3 "$tmp/s.mon")"
grep -q "^Received $N packets" "$tmp/s.mon" &&
	ok "monitor resumed after the port went: $(grep '^Received' "$tmp/s.mon")" ||
	fail "monitor resumed after the port went: $(tail -n 3 "$tmp/s.mon")"
no_shm_left
exit $((fails > 0))
