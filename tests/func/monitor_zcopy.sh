#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   mon_peer tx -> x{0 ==pipe== x}0 -> mon_peer rx        zero-copy monitor x}0/z
#   mon_peer tx -> valeZ:a ==switch== valeZ:b -> rx       zero-copy monitors a/z, b/z
#
# Test objective: zero-copy monitors (netmap(4) "X/z", NR_ZCOPY_MON) get
# the frames once the monitored port is done with them, by buffer swaps (no
# copy): the frames a receiver released (pipe x}0, VALE b), the frames a
# VALE sender's sync consumed (a); every frame once, every byte as sent,
# counters exact (N fits the rings); a copy monitor next to a zero-copy one
# on the same ring still gets everything; a zero-copy monitor that never
# reads holds slots - 1 frames and counts the rest as drops; the monitored
# transfers stay exact, and nothing is left under /dev/shm.
source "$(dirname "$0")/monitor_lib.bash"
p=mz$$
N=1000

check_mon() {	# FILE WHAT
	expect "$1" frames $N "$2"
	expect "$1" bad 0 "$2 (every byte as sent)"
	expect "$1" seqs1 $N "$2 (every frame once)"
	expect "$1" mon_frames $N "$2 counter"
	expect "$1" mon_drops 0 "$2 counter"
}

# ---- pipe: /z of the receiving end, and a copy monitor /r next to it ----
start "$tmp/rx" -n $N -t 30 rx "netmap:$p}0" || exit 1
rx=$bg_pid
start "$tmp/tx" -n $N -t 30 -W "$tmp/go" tx "netmap:$p{0" || exit 1
tx=$bg_pid
start "$tmp/z" -n 999999 -t 30 mon "netmap:$p}0/z" || exit 1
z=$bg_pid
start "$tmp/c" -n 999999 -t 30 mon "netmap:$p}0/r" || exit 1
c=$bg_pid
touch "$tmp/go"
wait "$tx" || fail "tx: $(cat "$tmp/tx.err")"
wait "$rx" || fail "rx: $(cat "$tmp/rx" "$tmp/rx.err")"
expect "$tmp/rx" received $N "pipe rx under a zero-copy monitor"
expect "$tmp/rx" bad 0 "pipe rx under a zero-copy monitor"
stop_mon "$z"
stop_mon "$c"
check_mon "$tmp/z" "pipe x}0/z"
check_mon "$tmp/c" "pipe x}0/r next to x}0/z"

# ---- VALE: /z of the sender (its TX slots once forwarded), /z of the receiver ----
pids=()
sw=valez$$
start "$tmp/vrx" -n $N -t 30 rx "$sw:b" || exit 1
vrx=$bg_pid
start "$tmp/vtx" -n $N -t 30 -W "$tmp/go2" tx "$sw:a" || exit 1
vtx=$bg_pid
start "$tmp/za" -n 999999 -t 30 mon "$sw:a/z" || exit 1
za=$bg_pid
start "$tmp/zb" -n 999999 -t 30 mon "$sw:b/z" || exit 1
zb=$bg_pid
touch "$tmp/go2"
wait "$vtx" || fail "VALE tx: $(cat "$tmp/vtx.err")"
wait "$vrx" || fail "VALE rx: $(cat "$tmp/vrx" "$tmp/vrx.err")"
expect "$tmp/vrx" received $N "VALE rx under zero-copy monitors"
stop_mon "$za"
stop_mon "$zb"
check_mon "$tmp/za" "VALE a/z (frames sent)"
check_mon "$tmp/zb" "VALE b/z (frames received)"
# ---- a zero-copy monitor that never reads: slots - 1 frames, the rest dropped ----
pids=()
L=5000
start "$tmp/hrx" -n $L -t 30 rx "netmap:${p}h}0" || exit 1
hrx=$bg_pid
start "$tmp/htx" -n $L -t 30 -W "$tmp/go3" tx "netmap:${p}h{0" || exit 1
htx=$bg_pid
start "$tmp/h" -t 40 hold "netmap:${p}h}0/z" || exit 1
h=$bg_pid
touch "$tmp/go3"
wait "$htx" || fail "tx: $(cat "$tmp/htx.err")"
wait "$hrx" || fail "rx: $(cat "$tmp/hrx" "$tmp/hrx.err")"
expect "$tmp/hrx" received $L "pipe under a zero-copy monitor that never reads"
expect "$tmp/hrx" bad 0 "pipe under a zero-copy monitor that never reads"
stop_mon "$h"
expect "$tmp/h" mon_frames 1023 "zero-copy monitor that never reads: its ring full"
expect "$tmp/h" mon_drops $((L - 1023)) "zero-copy monitor that never reads: the rest counted"
no_shm_left
exit $((fails > 0))
