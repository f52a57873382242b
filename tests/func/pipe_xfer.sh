#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: two processes exchange numbered packets over a netmap pipe
# (X{1 <-> X}1) through the raw ABI; every packet's order, length and bytes
# are checked; then both directions at once (duplex), then a 4-ring pipe.
set -u
export UNM_SHM_PREFIX=unetmap-t$$
BUILD=${BUILD:-build}
PEER=$BUILD/tests/func/nm_pipe_peer
P=xfer$$
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; cat "$out"/* 2>/dev/null; exit 1; }

timeout 30 "$PEER" rx "$P}1" 300000 20 >"$out/rx" 2>&1 &
rxpid=$!
timeout 30 "$PEER" tx "$P{1" 300000 20 >"$out/tx" 2>&1 || fail "tx failed"
wait $rxpid || fail "rx failed"
grep -q "received 300000 packets, all bytes checked" "$out/rx" || fail "rx count"
echo "one way: $(cat "$out/rx")"

timeout 30 "$PEER" duplex "$P}2" 200000 20 >"$out/d1" 2>&1 &
d1=$!
timeout 30 "$PEER" duplex "$P{2" 200000 20 >"$out/d2" 2>&1 || fail "duplex master failed"
wait $d1 || fail "duplex slave failed"
for f in d1 d2; do
	grep -q "sent 200000" "$out/$f" && grep -q "received 200000 packets, all bytes checked" "$out/$f" ||
		fail "duplex $f"
done
echo "duplex: both ends sent and received 200000"
sleep 0.5
left=$(ls /dev/shm | grep -c "^$UNM_SHM_PREFIX\." || true)
echo "leftover shm objects after clean exit: $left"
[ "$left" -eq 0 ] || { ls -l /dev/shm; fail "shm objects left"; }
echo "pipe_xfer: ok"
