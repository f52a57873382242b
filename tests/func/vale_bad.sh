#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   vale_peer processes on switches vale0 .. vale8; some misbehave:
#   bad names, too many rings, too many switches, garbage in a TX ring,
#   garbage in the kernel's RX slots, SIGKILL of a sender mid-traffic,
#   SIGKILL of a sender holding a destination ring's lock, SIGKILL of a
#   receiver mid-traffic, a program scribbling at random on its rings.
#
# Test objective: every bad input is refused with the errno netmap uses and
# a message naming the bad part; what a program scribbles breaks only its
# own port (POLLERR, ring reset, slots repaired) while the other ports keep
# forwarding exact counts; a killed process's port and its switch entry go,
# a lock it held is recovered, its name can be reopened; and nothing is
# left under /dev/shm once every process is gone.
source "$(dirname "$0")/pipe_lib.bash"
export UNM_SHM_PREFIX=unetmap-vx$$
PEER=$BUILD/tests/func/vale_peer
PG=$BUILD/tools/pkt-gen
need_built "$PEER" "$PG"

# start_rx OUT ARGS...: a receiver, ready; $bg_pid is vale_peer's own pid
# (no timeout wrapper: a SIGKILL must reach it; -t bounds it instead)
start_rx() {
	local out=$1; shift
	"$PEER" -t 20 "$@" >"$out" 2>"$out.err" &
	bg_pid=$!
	pids+=("$bg_pid")
	if ! wait_for "$out" '^ready' 10; then
		fail "receiver $* did not start: $(cat "$out.err")"
		return 1
	fi
}

field() {
	sed -n "s/.*\\b$2 \\([0-9]*\\).*/\\1/p" "$1" | tail -n 1
}

stop_rx() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# expect_rx FILE WHAT RECEIVED: exact count, nothing dropped
expect_rx() {
	local got frames drops
	got=$(field "$1" received)
	frames=$(field "$1" rx_frames)
	drops=$(field "$1" rx_drops)
	if [ "$got" = "$3" ] && [ "$frames" = "$3" ] && [ "$drops" = 0 ]; then
		ok "$2: received $got"
	else
		fail "$2: received '$got' rx_frames '$frames' rx_drops '$drops', want $3 ($(cat "$1" "$1.err" | tr '\n' ' '))"
	fi
}

# ---- bad names: EINVAL, the message names the bad part ----
bad_name() {
	local name=$1 want=$2 out rc
	out=$(timeout 10 "$PEER" info "$name" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -q "Invalid argument" <<<"$out" && grep -qF -- "$want" <<<"$out"; then
		ok "'$name' -> EINVAL: $(head -n 1 <<<"$out")"
	else
		fail "'$name': exit $rc, want EINVAL naming '$want': $out"
	fi
}
bad_name vale0 "needs ':'"
bad_name vale0: "port name missing"
bad_name "vale0:a!b" "bad character '!' in port name 'a!b'"
bad_name "vale0:a:b" "bad character ':' in port name 'a:b'"
bad_name "vale-1:a" "bad character '-' in switch name 'vale-1'"
long=vale0:p$(printf '%060d' 0)
out=$(timeout 10 "$PG" -i "$long" -f rx -w 0 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -qi "too long" <<<"$out"; then
	ok "a ${#long}-character name -> refused: $(grep -i 'too long' <<<"$out" | head -n 1)"
else
	fail "a ${#long}-character name: exit $rc: $out"
fi

# ---- geometry: upstream's bounds (16 rings, 4096 slots) ----
out=$(timeout 10 "$PEER" -R 17 -S 9999 info vale0:big 2>&1)
if grep -q "^tx_rings 16 rx_rings 16 tx_slots 4096 rx_slots 4096 mem_id 1" <<<"$out"; then
	ok "17 rings, 9999 slots asked -> 16 rings, 4096 slots (NM_BDG_MAXRINGS)"
else
	fail "too many rings: $out"
fi
out=$(timeout 10 "$PEER" info vale0:dflt 2>&1)
grep -q "^tx_rings 1 rx_rings 1 tx_slots 1024 rx_slots 1024 mem_id 1" <<<"$out" &&
	ok "default geometry: 1+1 rings of 1024 slots in mem 1" || fail "default geometry: $out"

# ---- one port, several registrations: NR_EXCLUSIVE as for pipes ----
NMP=$BUILD/tests/func/nm_pipe_peer
need_built "$NMP"
"$NMP" hold vale0:ex-x >"$tmp/ex" 2>&1 &
ex=$!
pids+=("$ex")
wait_for "$tmp/ex" '^ready' 10 || fail "exclusive hold of vale0:ex: $(cat "$tmp/ex")"
out=$(timeout 10 "$PEER" info vale0:ex 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "Device or resource busy" <<<"$out" && grep -q "bound exclusively" <<<"$out" &&
	ok "vale0:ex held with NR_EXCLUSIVE: a second register -> EBUSY" ||
	fail "second register of an exclusive VALE port: exit $rc: $out"
kill -KILL "$ex"
wait "$ex" 2>/dev/null
out=$(timeout 10 "$PEER" info vale0:ex 2>&1) && ok "the holder killed: vale0:ex opens again" ||
	fail "vale0:ex after its exclusive holder died: $out"
"$PEER" -t 10 hold vale0:sh >"$tmp/sh" 2>&1 &
sh=$!
pids+=("$sh")
wait_for "$tmp/sh" '^ready' 10 || fail "hold vale0:sh: $(cat "$tmp/sh")"
out=$(timeout 10 "$PEER" -S 64 info vale0:sh 2>&1) && grep -q "tx_slots 1024" <<<"$out" &&
	ok "a second register of vale0:sh attaches to the same port (its geometry: $out)" ||
	fail "second register of a shared VALE port: $out"
stop_rx "$sh"

# ---- too many switches: 8 (NM_BRIDGES); the 9th is ENOMEM ----
hold=()
for i in 0 1 2 3 4 5 6 7; do
	"$PEER" -t 20 hold vale$i:h >"$tmp/h$i" 2>&1 &
	hold+=("$!")
	pids+=("$!")
	wait_for "$tmp/h$i" '^ready' 10 || fail "hold vale$i:h: $(cat "$tmp/h$i")"
done
out=$(timeout 10 "$PEER" info vale8:h 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q "Cannot allocate memory" <<<"$out" && grep -q "too many VALE switches" <<<"$out"; then
	ok "a 9th switch -> ENOMEM: $(head -n 1 <<<"$out")"
else
	fail "a 9th switch: exit $rc: $out"
fi
out=$(timeout 10 "$PEER" info vale7:h2 2>&1) && ok "a second port on an existing switch still opens" ||
	fail "port on vale7 with 8 switches: $out"
for p in "${hold[@]}"; do stop_rx "$p"; done
out=$(timeout 10 "$PEER" info vale8:h 2>&1) && ok "switches freed with their last port: vale8 opens" ||
	fail "vale8 after the others went: $out"

# ---- garbage in a TX ring breaks only that port ----
start_rx "$tmp/r" -S 4096 -n 2000 rx vale0:r && r=$bg_pid
timeout 20 "$PEER" -n 1000 garbage vale0:g >"$tmp/g" 2>"$tmp/g.err"
rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c '^ok ' "$tmp/g")" = 4 ]; then
	ok "garbage buf_idx/len in vale0:g's TX ring: POLLERR, ring reset, slots repaired, then 1000 good frames"
else
	fail "garbage: exit $rc: $(cat "$tmp/g" "$tmp/g.err" | tr '\n' ' ')"
fi
grep -q "buf_idx 4294967295 len 60 invalid" "$tmp/g.err" && ok "the message names the slot and the bad buf_idx" ||
	fail "no message naming the bad slot: $(cat "$tmp/g.err")"
"$PEER" -n 1000 tx vale0:h >"$tmp/hh" 2>&1 || fail "tx vale0:h: $(cat "$tmp/hh")"
wait "$r"
expect_rx "$tmp/r" "vale0:r got g's good frames and h's, none of g's garbage" 2000

# ---- garbage in the kernel's RX slots: handed over empty, repaired on release ----
start_rx "$tmp/r" -G -n 1000000 rx vale0:r && r=$bg_pid
for i in 1 2 3 4; do
	"$PEER" -n 1000 tx vale0:a >"$tmp/a" 2>&1 || fail "tx: $(cat "$tmp/a")"
done
stop_rx "$r"
got=$(field "$tmp/r" received)
frames=$(field "$tmp/r" rx_frames)
drops=$(field "$tmp/r" rx_drops)
empty=$(field "$tmp/r" empty)
if [ -n "$got" ] && [ "$got" = "$frames" ] && [ "${empty:-0}" -gt 0 ] && [ "$got" -gt 0 ] &&
   [ $((frames + drops)) -eq 4000 ] && ! grep -q corrupt "$tmp/r"; then
	ok "scribbled RX slots: $empty handed over empty, $got frames intact, received + dropped = 4000"
else
	fail "scribbled RX slots: $(cat "$tmp/r" | tr '\n' ' ')"
fi

# ---- SIGKILL of a sender mid-traffic ----
start_rx "$tmp/b" -n 1000000000 rx vale0:b && b=$bg_pid
"$PEER" -t 20 -n 1000000000 tx vale0:a >"$tmp/a" 2>&1 &
a=$!
pids+=("$a")
sleep 0.5
kill -KILL "$a"
wait "$a" 2>/dev/null
start_rx "$tmp/c" -S 4096 -n 1000 rx vale0:c && c=$bg_pid
timeout 10 "$PEER" -n 1000 tx vale0:a >"$tmp/a" 2>&1 || fail "reopen vale0:a after SIGKILL: $(cat "$tmp/a")"
wait "$c"
expect_rx "$tmp/c" "after SIGKILL of the sender, its name reopened, a new receiver" 1000
stop_rx "$b"
[ "$(field "$tmp/b" received)" -gt 0 ] 2>/dev/null && ok "the receiver survived: $(cat "$tmp/b" | tr '\n' ' ')" ||
	fail "receiver during the kill: $(cat "$tmp/b" "$tmp/b.err" | tr '\n' ' ')"

# ---- SIGKILL of a sender holding a destination ring's lock ----
start_rx "$tmp/c" -S 4096 -n 1000 rx vale0:c && c=$bg_pid
(timeout 10 "$PEER" lockdie vale0:z vale0:c >"$tmp/z" 2>&1; exit $?) 2>/dev/null	# no "Killed" noise
rc=$?
[ $rc -eq 137 ] && grep -q locked "$tmp/z" || fail "lockdie: exit $rc: $(cat "$tmp/z")"
timeout 10 "$PEER" -n 1000 tx vale0:a >"$tmp/a" 2>&1 || fail "tx after a lock holder died: exit $? $(cat "$tmp/a")"
wait "$c"
expect_rx "$tmp/c" "a dead holder's ring lock recovered" 1000

# ---- SIGKILL of a receiver mid-traffic: the sender goes on ----
start_rx "$tmp/b" -n 1000000000 rx vale0:b && b=$bg_pid
"$PEER" -t 2 -n 1000000000 tx vale0:a >"$tmp/a" 2>&1 &
a=$!
pids+=("$a")
sleep 0.5
kill -KILL "$b"
wait "$b" 2>/dev/null
wait "$a"
rc=$?
[ $rc -eq 1 ] && grep -q "timeout after" "$tmp/a" && ok "sender went on after its receiver's SIGKILL, stopped by its time bound" ||
	fail "sender after its receiver's SIGKILL: exit $rc $(cat "$tmp/a")"

# ---- a program scribbling at random on its rings, next to clean traffic ----
FUZZ=$BUILD/tests/func/nm_pipe_peer
need_built "$FUZZ"
start_rx "$tmp/b" -S 4096 -n 3000 rx vale0:b && b=$bg_pid
# in regions of their own: each repair of a scribbled slot takes a fresh
# buffer (kring.c), and a fuzzer drains its region's pool in seconds
bounded_bg 20 "$FUZZ" sink vale2:s@6 4 >"$tmp/sink" 2>&1
sink=$bg_pid
bounded_bg 20 "$FUZZ" fuzz vale2:f@5 2 $$ >"$tmp/fuzz" 2>&1
fz=$bg_pid
for i in 1 2 3; do
	"$PEER" -n 1000 tx vale0:a >"$tmp/a" 2>&1 || fail "tx next to the fuzzer: $(cat "$tmp/a")"
	sleep 0.3
done
wait "$fz"
rc=$?
[ $rc -eq 0 ] && ok "fuzzer on vale2:f: $(tail -n 1 "$tmp/fuzz")" || fail "fuzzer exit $rc: $(tail -n 3 "$tmp/fuzz")"
wait "$sink"
rc=$?
[ $rc -eq 0 ] && ok "vale2:s (mem 6), the fuzzer's (mem 5) only peer: every slot it got in its region: $(tail -n 1 "$tmp/sink")" ||
	fail "sink exit $rc: $(tail -n 3 "$tmp/sink")"
wait "$b"
expect_rx "$tmp/b" "vale0 traffic during the fuzzing" 3000

# ---- nothing left once every process is gone ----
for i in $(seq 60); do
	ls /dev/shm | grep -q "^$UNM_SHM_PREFIX\." || break
	sleep 0.05
done
left=$(ls /dev/shm | grep "^$UNM_SHM_PREFIX\." || true)
[ -z "$left" ] && ok "nothing under /dev/shm after the SIGKILLs ($((i * 50)) ms)" || fail "left under /dev/shm: $left"
exit $((fails > 0))
