#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   namespace A                                         namespace B
#   pkt-gen vale0:x <-> [vale0] <-> attach daemon <-> VA <==veth==> VB
#                                   (vale-ctl -a vale0:VA)          pkt-gen / nic_peer
#
# Test objective: vale-ctl -a vale0:VA starts one attach daemon; frames sent
# by pkt-gen on vale0:x reach VB, frames sent on VB reach vale0:x; the port
# is listed; attaching twice is EBUSY; -p/-P are accepted on it; -d stops
# the daemon and leaves no XDP program, no promiscuous mode, no daemon and
# (once no process is left) nothing in /dev/shm; a SIGKILLed daemon leaves
# the same nothing; -h attaches the host rings as vale0:VA^ as well, and
# what the stack sends on VA reaches the switch through it.
source "$(dirname "$0")/nic_lib.bash"
VCTL=$BUILD/tools/vale-ctl
[ -x "$VCTL" ] || fail "build first: $VCTL"
N=2000

# the attach daemon(s) running in namespace A (comm "unm-vale-att")
daemons() {
	local p
	for p in $(ip netns pids "$NSA" 2>/dev/null); do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = unm-vale-att ] && echo "$p"
	done
}

# wait_gone PID: the process is gone (bounded)
wait_gone() {
	local i
	for i in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# ---- attach ----
# 4096 slots: every frame of a transfer fits in the switch port's rings,
# however late the daemon runs (sanitizers, a busy machine)
ina timeout 30 "$VCTL" -a "vale0:$VA" -C 4096 >"$OUT/attach" 2>&1 || fail "vale-ctl -a vale0:$VA: $(cat "$OUT/attach")"
d=$(daemons)
[ "$(echo "$d" | wc -w)" = 1 ] || fail "one attach daemon expected, found '$d'"
echo "ok: vale-ctl -a vale0:$VA: daemon $d"
list=$(timeout 10 "$VCTL")
[ "$list" = "vale0:$VA bridge_idx 0 port_idx 0" ] || fail "listing: '$list'"
slots=$(timeout 10 "$VCTL" -g "vale0:$VA" | sed -n 's/^rx_slots: *//p')
[ "$slots" = 4096 ] || fail "-C 4096: the switch port has $slots RX slots"
echo "ok: listed: $list"
out=$(ina timeout 10 "$VCTL" -a "vale0:$VA" 2>&1) && fail "attaching twice succeeded"
case $out in *"Device or resource busy"*) echo "ok: attaching twice: EBUSY" ;; *) fail "attaching twice: $out" ;; esac
timeout 10 "$VCTL" -p "vale0:$VA" && timeout 10 "$VCTL" -P "vale0:$VA" ||
	fail "-p/-P on an attached NIC"
echo "ok: -p/-P accepted on vale0:$VA"

# ---- vale0:x -> VB ----
UNM_VERBOSE=1 ip netns exec "$NSB" timeout 25 "$PKTGEN" -i "netmap:$VB" -f rx -n $N -w 0 \
	-C 4096,4096 >"$OUT/rxVB" 2>&1 &
rx=$!
wait_for "$OUT/rxVB" '^Receiving from' 10 || fail "pkt-gen rx on $VB did not start"
ina timeout 20 "$PKTGEN" -i vale0:x -f tx -n $N -w 0 -R 5000 >"$OUT/txx" 2>&1 ||
	fail "pkt-gen tx on vale0:x"
wait $rx || fail "pkt-gen rx on $VB did not get $N frames: $(grep -h Received "$OUT/rxVB")"
grep -q "^Received $N packets" "$OUT/rxVB" || fail "rx on $VB: $(grep -h Received "$OUT/rxVB")"
echo "ok: $N frames vale0:x -> vale0:$VA -> $VB"

# ---- VB -> vale0:x ----
ina timeout 25 "$PKTGEN" -i vale0:x -f rx -n $N -w 0 -C 4096,4096 >"$OUT/rxx" 2>&1 &
rx=$!
wait_for "$OUT/rxx" '^Receiving from' 10 || fail "pkt-gen rx on vale0:x did not start"
inb timeout 20 "$PKTGEN" -i "netmap:$VB" -f tx -n $N -w 0 -R 5000 >"$OUT/txVB" 2>&1 ||
	fail "pkt-gen tx on $VB"
wait $rx || fail "pkt-gen rx on vale0:x did not get $N frames: $(grep -h Received "$OUT/rxx")"
echo "ok: $N frames $VB -> vale0:$VA -> vale0:x"

# ---- detach: the daemon, its XDP program and promiscuous mode go ----
timeout 20 "$VCTL" -d "vale0:$VA" >"$OUT/detach" 2>&1 || fail "vale-ctl -d: $(cat "$OUT/detach")"
wait_gone "$d" || fail "daemon $d still running after -d"
[ -z "$(timeout 10 "$VCTL")" ] || fail "ports left after -d: $(timeout 10 "$VCTL")"
no_leftovers "$NSA" "$VA" || fail "XDP/promisc/shm left on $VA after -d"
echo "ok: -d: daemon gone, no XDP, no promisc, nothing in /dev/shm"
out=$(timeout 10 "$VCTL" -d "vale0:$VA" 2>&1) && fail "-d of a detached port succeeded"
case $out in *"not attached"*) echo "ok: -d again: $out" | head -n 1 ;; *) fail "-d again: $out" ;; esac

# ---- SIGKILL of the daemon: the same nothing ----
ina timeout 30 "$VCTL" -a "vale0:$VA" >"$OUT/attach2" 2>&1 || fail "vale-ctl -a again: $(cat "$OUT/attach2")"
d=$(daemons)
[ "$(echo "$d" | wc -w)" = 1 ] || fail "one attach daemon expected, found '$d'"
kill -KILL "$d"
wait_gone "$d" || fail "daemon $d survived SIGKILL"
for i in $(seq 1 100); do
	[ -z "$(timeout 10 "$VCTL")" ] && break
	sleep 0.05
done
[ -z "$(timeout 10 "$VCTL")" ] || fail "port left after SIGKILL of the daemon: $(timeout 10 "$VCTL")"
no_leftovers "$NSA" "$VA" || fail "XDP/promisc/shm left on $VA after SIGKILL of the daemon"
echo "ok: SIGKILL of the daemon: port gone, no XDP, no promisc, nothing in /dev/shm"

# ---- -h: the host rings as vale0:VA^ ----
ina timeout 30 "$VCTL" -h "vale0:$VA" >"$OUT/attach3" 2>&1 || fail "vale-ctl -h: $(cat "$OUT/attach3")"
list=$(timeout 10 "$VCTL")
want="vale0:$VA bridge_idx 0 port_idx 0
vale0:$VA^ bridge_idx 0 port_idx 1"
[ "$list" = "$want" ] || fail "listing after -h: '$list'"
echo "ok: -h lists vale0:$VA and vale0:$VA^"
# what the stack sends on VA (an ARP request for a neighbour) reaches the
# switch through the host rings and vale0:VA^
VPEER=$BUILD/tests/func/vale_peer
[ -x "$VPEER" ] || fail "build first: $VPEER"
ip -n "$NSA" addr add 10.213.7.1/24 dev "$VA" || fail "address on $VA"
timeout 15 "$VPEER" -t 8 -n 1 rx vale0:y >"$OUT/hrx" 2>&1 &
hrx=$!
wait_for "$OUT/hrx" '^ready' 10 || fail "vale_peer rx vale0:y did not start"
ina timeout 5 bash -c 'echo x >/dev/udp/10.213.7.2/9' 2>/dev/null
wait $hrx
grep -q '^received 1 ' "$OUT/hrx" || fail "nothing from $VA's stack at vale0:y: $(cat "$OUT/hrx")"
echo "ok: -h: the stack's ARP request on $VA reached vale0:y through vale0:$VA^"
timeout 20 "$VCTL" -d "vale0:$VA" >"$OUT/detach3" 2>&1 || fail "vale-ctl -d after -h: $(cat "$OUT/detach3")"
[ -z "$(daemons)" ] || sleep 0.5
[ -z "$(daemons)" ] || fail "daemon left after -d: $(daemons)"
[ -z "$(timeout 10 "$VCTL")" ] || fail "ports left after -d: $(timeout 10 "$VCTL")"
no_leftovers "$NSA" "$VA" || fail "XDP/promisc/shm left on $VA after -h/-d"
echo "ok: -h then -d: nothing left"
exit 0
