#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: SIGKILL one end of a pipe mid-traffic. The other end must
# neither crash nor hang (it times out waiting and exits cleanly); the name
# can be reopened and works; and once every process is gone, nothing named
# unetmap* is left under /dev/shm within ~2 s (the reaper cleans up).
set -u
export UNM_SHM_PREFIX=unetmap-t$$
BUILD=${BUILD:-build}
PEER=$BUILD/tests/func/nm_pipe_peer
P=kill$$
out=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; tail -n 5 "$out"/* 2>/dev/null; exit 1; }

# 1. kill the sender mid-traffic; the receiver gives up after 3 s, no crash
timeout 20 "$PEER" rx "$P}1" 100000000 3 >"$out/rx" 2>&1 &
rx=$!
"$PEER" tx "$P{1" 100000000 30 >"$out/tx" 2>&1 &
tx=$!
sleep 0.5
kill -9 $tx
wait $tx 2>/dev/null
wait $rx; rc=$?
[ $rc -eq 1 ] && grep -q timeout "$out/rx" || fail "receiver exit $rc (want 1 with a timeout)"
echo "receiver survived its peer's SIGKILL: $(cat "$out/rx")"

# 2. kill the receiver mid-traffic; the sender times out cleanly
"$PEER" rx "$P}2" 100000000 30 >"$out/rx2" 2>&1 &
rx=$!
timeout 20 "$PEER" tx "$P{2" 100000000 3 >"$out/tx2" 2>&1 &
tx=$!
sleep 0.5
kill -9 $rx
wait $rx 2>/dev/null
wait $tx; rc=$?
[ $rc -eq 1 ] && grep -q timeout "$out/tx2" || fail "sender exit $rc (want 1 with a timeout)"
echo "sender survived its peer's SIGKILL"

# 3. the killed names can be reopened and work
timeout 20 "$PEER" rx "$P}1" 10000 10 >"$out/rx3" 2>&1 &
rx=$!
timeout 20 "$PEER" tx "$P{1" 10000 10 >/dev/null 2>&1 || fail "reopen tx"
wait $rx || fail "reopen rx"
echo "reopen after SIGKILL: $(cat "$out/rx3")"

# 4. both ends killed while holding the pipe: nothing left after ~2 s
"$PEER" hold "$P{3" >"$out/h1" 2>&1 &
h1=$!
"$PEER" hold "$P}3" >"$out/h2" 2>&1 &
h2=$!
for i in $(seq 100); do grep -q ready "$out/h1" && grep -q ready "$out/h2" && break; sleep 0.05; done
ls /dev/shm | grep -q "^$UNM_SHM_PREFIX\." || fail "no shm objects while the pipe is held"
kill -9 $h1 $h2
wait $h1 $h2 2>/dev/null
for i in $(seq 40); do
	ls /dev/shm | grep -q "^$UNM_SHM_PREFIX\." || break
	sleep 0.05
done
left=$(ls /dev/shm | grep "^$UNM_SHM_PREFIX\." || true)
[ -z "$left" ] || fail "left under /dev/shm 2 s after SIGKILL: $left"
echo "no unetmap* objects under /dev/shm $((i * 50)) ms after SIGKILL"
echo "pipe_kill: ok"
