#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   mon_peer tx -> x{0 ==pipe== x}0 -> mon_peer rx
#                   |
#                   +-- monitor that never reads / monitor SIGKILLed mid-run
#
# Test objective: a monitor never holds the monitored program back. A
# monitor that never reads fills its ring (slots - 1 copies) and the rest
# are counted as drops, exactly, while the pipe moves every frame; a
# monitor killed (SIGKILL) mid-traffic leaves the pipe moving every frame,
# and a new monitor attached after it works; when the monitored port goes
# (both ends closed) its monitor reports POLLERR (upstream's EIO) and still
# reads what it holds; nothing is left under /dev/shm.
source "$(dirname "$0")/monitor_lib.bash"
p=mk$$

# ---- a monitor that never reads: 1023 copies, the rest dropped ----
N=5000
start "$tmp/rx" -n $N -t 30 rx "netmap:$p}0" || exit 1
rx=$bg_pid
start "$tmp/tx" -n $N -t 30 -W "$tmp/go" tx "netmap:$p{0" || exit 1
tx=$bg_pid
start "$tmp/h" -t 40 hold "netmap:$p{0/t" || exit 1
h=$bg_pid
t0=$(date +%s%N)
touch "$tmp/go"
wait "$tx" || fail "tx: $(cat "$tmp/tx.err")"
wait "$rx" || fail "rx: $(cat "$tmp/rx" "$tmp/rx.err")"
ms=$((($(date +%s%N) - t0) / 1000000))
expect "$tmp/rx" received $N "pipe under a monitor that never reads ($ms ms)"
expect "$tmp/rx" bad 0 "pipe under a monitor that never reads"
stop_mon "$h"
expect "$tmp/h" mon_frames 1023 "monitor that never reads: its ring full"
expect "$tmp/h" mon_drops $((N - 1023)) "monitor that never reads: the rest dropped, counted"

# ---- SIGKILL of a monitor mid-run; a new monitor after it ----
pids=()
N=20000
start "$tmp/rx2" -n $N -t 40 rx "netmap:${p}b}0" || exit 1
rx2=$bg_pid
start "$tmp/tx2" -n $N -t 40 -R 10000 -W "$tmp/go2" tx "netmap:${p}b{0" || exit 1
tx2=$bg_pid
start "$tmp/k" -n 999999 -t 40 mon "netmap:${p}b{0/t" || exit 1
k=$bg_pid
touch "$tmp/go2"
sleep 0.5
# timeout(1) runs mon_peer as its child: kill the monitor itself
kpid=$(pgrep -P "$k" -f mon_peer | head -n 1)
kill -KILL "${kpid:-$k}" 2>/dev/null
wait "$k" 2>/dev/null
start "$tmp/k2" -n 999999 -t 40 mon "netmap:${p}b{0/t" || exit 1
k2=$bg_pid
wait "$tx2" || fail "tx: $(cat "$tmp/tx2.err")"
wait "$rx2" || fail "rx: $(cat "$tmp/rx2" "$tmp/rx2.err")"
expect "$tmp/rx2" received $N "pipe with a monitor SIGKILLed mid-run"
expect "$tmp/rx2" bad 0 "pipe with a monitor SIGKILLed mid-run"
# the port went with both ends: the new monitor sees POLLERR, reads what it holds
wait "$k2"
grep -q POLLERR "$tmp/k2.err" && ok "monitor of a port that went: POLLERR" ||
	fail "monitor of a port that went: no POLLERR ($(cat "$tmp/k2" "$tmp/k2.err"))"
got=$(field "$tmp/k2" frames) mf=$(field "$tmp/k2" mon_frames) md=$(field "$tmp/k2" mon_drops)
if [ -n "$got" ] && [ "$got" -gt 0 ] && [ "$got" = "$mf" ] && [ "$got" -lt $N ] &&
   [ "$(field "$tmp/k2" bad)" = 0 ]; then
	ok "monitor attached after the kill: $got copies, $md drops, every byte as sent"
else
	fail "monitor attached after the kill: $(cat "$tmp/k2")"
fi
no_shm_left
exit $((fails > 0))
