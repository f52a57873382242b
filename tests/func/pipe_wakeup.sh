#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: a consumer blocked in poll() with a 10 s timeout is woken
# by a producer in another process that sends 1 s later; it must wake well
# under the timeout (here: < 3 s from the start of its wait).
set -u
export UNM_SHM_PREFIX=unetmap-t$$
BUILD=${BUILD:-build}
PEER=$BUILD/tests/func/nm_pipe_peer
P=wake$$
out=$(mktemp)
trap 'kill $(jobs -p) 2>/dev/null; rm -f "$out"' EXIT

timeout 20 "$PEER" wait "$P}1" 10000 >"$out" 2>&1 &
w=$!
for i in $(seq 100); do grep -q waiting "$out" && break; sleep 0.05; done
sleep 1
timeout 10 "$PEER" tx "$P{1" 1 5 || { echo "FAIL: producer"; exit 1; }
wait $w; rc=$?
cat "$out"
[ $rc -eq 0 ] || { echo "FAIL: waiter exit $rc"; exit 1; }
ms=$(sed -n 's/.*after \([0-9]*\) ms/\1/p' "$out")
[ -n "$ms" ] && [ "$ms" -lt 3000 ] || { echo "FAIL: woke after ${ms:-?} ms"; exit 1; }
[ "$ms" -ge 900 ] || { echo "FAIL: woke after $ms ms, before the producer sent"; exit 1; }
echo "pipe_wakeup: ok (woke after $ms ms, producer sent at ~1000 ms)"
