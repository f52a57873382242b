#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   tx (pkt-gen / vale_peer)           rx (pkt-gen / vale_peer)
#   vale0:a ==[ VALE switch vale0 ]== vale0:b
#                                  \== vale0:c
#   vale1:y ==[ VALE switch vale1 ]== vale1:x
#   (every port its own process)
#
# Test objective: frames written to one VALE port's TX ring reach the other
# ports' RX rings through a learning switch. pkt-gen tx -> pkt-gen rx moves
# exactly N frames when the receiver's ring holds them all, and a longer
# run obeys received + dropped == sent (the switch's counters); broadcast
# reaches every other port and never the sender; after b sends a frame from
# its MAC, unicast to that MAC reaches b only, while an unknown unicast MAC
# floods; two switches are isolated; chains (NS_MOREFRAG) arrive whole, in
# a port of another region (@2); two senders into one ring at once; a
# receiver asleep in poll() is woken; an upstream-style nm_open() client
# gets every byte of its chained frames. Nothing is left under /dev/shm.
# The switch copies inside the sender's sync, so once a sender has exited
# every frame is in a receiver's ring or counted as dropped: no timing games.
source "$(dirname "$0")/pipe_lib.bash"
export UNM_SHM_PREFIX=unetmap-vb$$
PEER=$BUILD/tests/func/vale_peer
PG=$BUILD/tools/pkt-gen
need_built "$PEER" "$PG"

# start_rx OUT ARGS...: a vale_peer receiver in the background, ready
start_rx() {
	local out=$1; shift
	bounded_bg 25 "$PEER" -t 20 "$@" >"$out" 2>"$out.err"
	if ! wait_for "$out" '^ready' 10; then
		fail "receiver $* did not start: $(cat "$out.err")"
		return 1
	fi
}

# field FILE KEY: the number after KEY on the result line ("received ...")
field() {
	sed -n "s/.*\\b$2 \\([0-9]*\\).*/\\1/p" "$1" | tail -n 1
}

# expect_rx FILE WHAT RECEIVED RX_DROPS
expect_rx() {
	local got drops frames
	got=$(field "$1" received)
	frames=$(field "$1" rx_frames)
	drops=$(field "$1" rx_drops)
	if [ "$got" = "$3" ] && [ "$frames" = "$3" ] && [ "$drops" = "$4" ]; then
		ok "$2: received $got, dropped $drops"
	else
		fail "$2: received '$got' rx_frames '$frames' rx_drops '$drops', want $3/$3/$4 ($(cat "$1" "$1.err" | tr '\n' ' '))"
	fi
}

# stop_rx PID: SIGTERM, the receiver drains its rings and prints its counts
stop_rx() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# ---- 1. pkt-gen tx -> pkt-gen rx, exact: the RX ring holds every frame ----
N=4000
bounded_bg 25 "$PG" -i vale0:b -f rx -n $N -C 4096,4096 >"$tmp/pgrx" 2>&1
rx_pid=$bg_pid
wait_for "$tmp/pgrx" '^Receiving from' 10 || fail "pkt-gen rx did not open vale0:b: $(cat "$tmp/pgrx")"
timeout 20 "$PG" -i vale0:a -f tx -n $N >"$tmp/pgtx" 2>&1 || fail "pkt-gen tx: $(tail -n 3 "$tmp/pgtx")"
wait "$rx_pid"
if grep -q "^Sent $N packets" "$tmp/pgtx" && grep -q "^Received $N packets" "$tmp/pgrx"; then
	ok "pkt-gen: $N frames vale0:a -> vale0:b, two processes"
else
	fail "pkt-gen: $(grep -h -e '^Sent' -e '^Received' "$tmp/pgtx" "$tmp/pgrx" | tr '\n' ' ')"
fi

# ---- 2. a longer pkt-gen run: received + dropped == sent ----
N=200000
start_rx "$tmp/long" -n $N rx vale0:b && {
	timeout 20 "$PG" -i vale0:a -f tx -n $N >"$tmp/pgtx" 2>&1 || fail "pkt-gen tx: $(tail -n 3 "$tmp/pgtx")"
	stop_rx "$bg_pid"
	sent=$(sed -n 's/^Sent \([0-9]*\) packets.*/\1/p' "$tmp/pgtx")
	got=$(field "$tmp/long" received)
	frames=$(field "$tmp/long" rx_frames)
	drops=$(field "$tmp/long" rx_drops)
	if [ "$sent" = $N ] && [ "$got" = "$frames" ] && [ $((frames + drops)) -eq $N ]; then
		ok "pkt-gen: sent $sent, received $got + dropped $drops (ring full) = $N"
	else
		fail "pkt-gen: sent '$sent' received '$got' rx_frames '$frames' rx_drops '$drops'"
	fi
}

# ---- 3. broadcast reaches every other port, not the sender ----
N=4000
start_rx "$tmp/b" -S 4096 -n $N rx vale0:b && b=$bg_pid
start_rx "$tmp/c" -S 4096 -n $N rx vale0:c && c=$bg_pid
"$PEER" -S 4096 -n $N tx vale0:a >"$tmp/a" 2>&1 || fail "tx: $(cat "$tmp/a")"
wait "$b" "$c"
expect_rx "$tmp/b" "broadcast, vale0:b" $N 0
expect_rx "$tmp/c" "broadcast, vale0:c" $N 0
[ "$(field "$tmp/a" rx_frames)" = 0 ] && ok "broadcast: nothing back to the sender" ||
	fail "broadcast: the sender got frames back: $(cat "$tmp/a")"

# ---- 4. learning: unicast to b's MAC reaches b only; unknown MAC floods ----
MAC_B=02:00:00:00:0b:0b
start_rx "$tmp/b" -S 4096 -n 1000 -L -s $MAC_B rx vale0:b && b=$bg_pid
start_rx "$tmp/c" -S 4096 -n 1000000 rx vale0:c && c=$bg_pid
"$PEER" -n 1000 -s 02:00:00:00:0a:0a -d $MAC_B tx vale0:a >"$tmp/a" 2>&1 || fail "tx: $(cat "$tmp/a")"
wait "$b"
"$PEER" -n 100 -s 02:00:00:00:0a:0a -d 02:00:00:00:99:99 tx vale0:a >"$tmp/a" 2>&1 || fail "tx: $(cat "$tmp/a")"
stop_rx "$c"
expect_rx "$tmp/b" "unicast to a learned MAC, vale0:b" 1000 0
expect_rx "$tmp/c" "unicast to b's MAC, none at vale0:c; unknown MAC flooded" 100 0

# ---- 5. two switches are isolated ----
start_rx "$tmp/x" -S 4096 -n 1000000 rx vale1:x && x=$bg_pid
start_rx "$tmp/b" -S 4096 -n 1000000 rx vale0:b && b=$bg_pid
"$PEER" -n 500 tx vale0:a >"$tmp/a" 2>&1 || fail "tx: $(cat "$tmp/a")"
"$PEER" -n 300 tx vale1:y >"$tmp/y" 2>&1 || fail "tx: $(cat "$tmp/y")"
stop_rx "$x"
stop_rx "$b"
expect_rx "$tmp/x" "vale1:x: vale1's 300 frames, none of vale0's" 300 0
expect_rx "$tmp/b" "vale0:b: vale0's 500 frames, none of vale1's" 500 0

# ---- 6. chains arrive whole, across regions, over several rings ----
start_rx "$tmp/b" -S 4096 -M 2 -R 2 -n 1500 rx vale0:b && b=$bg_pid
"$PEER" -M 3 -R 4 -n 1000 -f 3 tx vale0:a >"$tmp/a" 2>&1 || fail "tx: $(cat "$tmp/a")"
"$PEER" -n 500 -f 1 -l 1514 tx vale0:d >"$tmp/d" 2>&1 || fail "tx: $(cat "$tmp/d")"
wait "$b"
expect_rx "$tmp/b" "3-slot chains from mem 3 and 1514-byte frames from mem 1 into mem 2" 1500 0

# ---- 7. two senders at once into one ring (its lock between processes) ----
start_rx "$tmp/b" -S 4096 -n 4000 rx vale0:b && b=$bg_pid
"$PEER" -n 2000 -s 02:00:00:00:0a:01 tx vale0:a1 >"$tmp/a1" 2>&1 &
s1=$!
"$PEER" -n 2000 -s 02:00:00:00:0a:02 tx vale0:a2 >"$tmp/a2" 2>&1 &
s2=$!
wait "$s1" || fail "tx vale0:a1: $(cat "$tmp/a1")"
wait "$s2" || fail "tx vale0:a2: $(cat "$tmp/a2")"
wait "$b"
expect_rx "$tmp/b" "two concurrent senders, one receiver" 4000 0

# ---- 8. a receiver asleep in poll() is woken by a sender in another process ----
WAITER=$BUILD/tests/func/nm_pipe_peer
need_built "$WAITER"
bounded_bg 20 "$WAITER" wait vale0:w 10000 >"$tmp/w" 2>&1
w=$bg_pid
wait_for "$tmp/w" waiting 10 || fail "waiter did not start: $(cat "$tmp/w")"
sleep 1
"$PEER" -n 1 tx vale0:a >"$tmp/a" 2>&1 || fail "tx: $(cat "$tmp/a")"
wait "$w"
rc=$?
ms=$(sed -n 's/.*after \([0-9]*\) ms/\1/p' "$tmp/w")
if [ $rc -eq 0 ] && [ -n "$ms" ] && [ "$ms" -ge 900 ] && [ "$ms" -lt 3000 ]; then
	ok "poll() woken after $ms ms by a frame sent at ~1000 ms"
else
	fail "wake-up: exit $rc: $(cat "$tmp/w")"
fi

# ---- 9. an upstream-style client (nm_open, nm_inject, nm_dispatch) ----
# up to 4000-byte frames: nm_inject chains them over 2048-byte buffers; 400
# frames take at most 800 slots, so the receiver's ring holds them all
U=$BUILD/tests/func/upstream_style_nmdesc
need_built "$U"
export UPSTREAM_STYLE_MAXLEN=4000
bounded_bg 25 "$U" rx vale0:b 400 "$tmp/uready" >"$tmp/urx" 2>&1
u=$bg_pid
for i in $(seq 100); do [ -f "$tmp/uready" ] && break; sleep 0.1; done
timeout 20 "$U" tx vale0:a 400 >"$tmp/utx" 2>&1 || fail "upstream-style tx: $(cat "$tmp/utx")"
if wait "$u"; then
	ok "upstream-style nm_open/nm_inject/nm_dispatch: $(cat "$tmp/urx")"
else
	fail "upstream-style rx: $(cat "$tmp/urx")"
fi
unset UPSTREAM_STYLE_MAXLEN

# ---- 10. nothing left behind ----
for i in $(seq 40); do
	ls /dev/shm | grep -q "^$UNM_SHM_PREFIX\." || break
	sleep 0.05
done
left=$(ls /dev/shm | grep "^$UNM_SHM_PREFIX\." || true)
[ -z "$left" ] && ok "nothing under /dev/shm after the last port" || fail "left under /dev/shm: $left"
exit $((fails > 0))
