#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: a registered netmap fd passed over a unix socket
# (SCM_RIGHTS) works in the receiver after the sender is gone.
#
#   A: netmap:P{1 --- fd over a unix socket ---> B (mmap, txsync, poll)
#   A exits                                      B ==== pipe ====> C: netmap:P}1
#
# Round 1: A sends and _exits without closing anything; the fd is still in
# flight (B has not called recvmsg) while A dies and its reaper collects.
# Round 2: B receives at once; A closes the port and exits; B uses it later.
# C checks every byte of every packet. At the end nothing of this world is
# left under /dev/shm.
set -u
export UNM_SHM_PREFIX=unetmap-r$$
BUILD=${BUILD:-build}
BIN=$BUILD/tests/func/scm_rights
out=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; for f in "$out"/*.log; do echo "== $f"; tail -n 8 "$f"; done; exit 1; }
[ -x "$BIN" ] || fail "$BIN not built"

wait_for() {	# file pattern
	local i
	for i in $(seq 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

round() {	# n, A's mode, B's mode
	local n=$1 amode=$2 bmode=$3 P=scm$$r$1 sock=$out/s$1 go=$out/go$1 count=2000 b c
	timeout 40 "$BIN" rx "netmap:$P}1" $count >"$out/c$n.log" 2>&1 &
	c=$!
	wait_for "$out/c$n.log" ready || fail "round $n: C did not open netmap:$P}1"
	timeout 40 "$BIN" recv "$sock" "$go" $count $bmode >"$out/b$n.log" 2>&1 &
	b=$!
	for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
	timeout 10 "$BIN" send "$sock" "netmap:$P{1" $amode >"$out/a$n.log" 2>&1 ||
		fail "round $n: A failed"
	sleep 0.5	# A's reaper runs its collector now
	touch "$go"
	wait $b || fail "round $n: B (the receiver) failed"
	wait $c || fail "round $n: C did not get the exact packets"
	echo "round $n: $(tail -n 1 "$out/b$n.log"); $(tail -n 1 "$out/c$n.log")"
}

round 1 exit ""
round 2 close early

# every process is gone: the reapers leave nothing behind
for _ in $(seq 40); do
	ls /dev/shm | grep -q "^$UNM_SHM_PREFIX" || break
	sleep 0.05
done
left=$(ls /dev/shm | grep "^$UNM_SHM_PREFIX")
[ -z "$left" ] || fail "left in /dev/shm: $left"
echo "PASS: fd passed by SCM_RIGHTS survives its sender, exact payloads, no leftovers"
