#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#     namespace A                                namespace B
#  mon_peer tx -> netmap:VA ==veth==> netmap:VB -> mon_peer rx
#                   |                   |
#         monitor netmap:VA/t    monitor netmap:VB/r
#
# Test objective: monitors of NIC ports (AF_XDP, or AF_PACKET in emulated
# mode): /t of the sender gets every frame it sent, /r of the receiver every
# frame it received, every byte as sent, counters exact (N fits the rings).
# Traffic only on a veth pair between two namespaces of our own.
source "$(dirname "$0")/nic_lib.bash"
MP=$BUILD/tests/func/mon_peer
[ -x "$MP" ] || fail "build first: $MP"
N=1000

field() { sed -n "s/.*\\b$2 \\([0-9]*\\).*/\\1/p" "$1" | tail -n 1; }
# bg NS OUT ARGS...: mon_peer in namespace NS, in the background, up to "ready"
bg() {
	local ns=$1 out=$2; shift 2
	ip netns exec "$ns" timeout -s KILL 60 "$MP" "$@" >"$out" 2>"$out.err" &
	bg_pid=$!
	wait_for "$out" '^ready' 20 || fail "mon_peer $* did not start: $(cat "$out.err")"
}

for mode in native generic; do
	export UNM_ADMODE=$mode
	bg "$NSB" "$OUT/rx.$mode" -n $N -t 30 -O rx "netmap:$VB"
	rx=$bg_pid
	bg "$NSA" "$OUT/tx.$mode" -n $N -t 30 -W "$OUT/go.$mode" tx "netmap:$VA"
	tx=$bg_pid
	bg "$NSA" "$OUT/mt.$mode" -n 999999 -t 30 mon "netmap:$VA/t"
	mt=$bg_pid
	bg "$NSB" "$OUT/mr.$mode" -n 999999 -t 30 mon "netmap:$VB/r"
	mr=$bg_pid
	touch "$OUT/go.$mode"
	wait "$tx" || fail "$mode: tx: $(cat "$OUT/tx.$mode.err")"
	wait "$rx" || fail "$mode: rx: $(cat "$OUT/rx.$mode" "$OUT/rx.$mode.err")"
	[ "$(field "$OUT/rx.$mode" received)" = $N ] || fail "$mode: rx: $(cat "$OUT/rx.$mode")"
	for m in mt:$mt mr:$mr; do
		f=$OUT/${m%:*}.$mode
		kill -TERM "${m#*:}" 2>/dev/null
		# timeout -s KILL passes TERM on to mon_peer, which drains and reports
		wait "${m#*:}" 2>/dev/null
		if [ "$(field "$f" frames)" = $N ] && [ "$(field "$f" bad)" = 0 ] &&
		   [ "$(field "$f" seqs1)" = $N ] && [ "$(field "$f" mon_drops)" = 0 ]; then
			echo "ok: $mode: monitor ${m%:*}: $(tail -n 1 "$f")"
		else
			fail "$mode: monitor ${m%:*}: $(cat "$f" "$f.err")"
		fi
	done
done
exit 0
