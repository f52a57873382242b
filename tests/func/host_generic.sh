#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: host rings next to a NIC port in emulated (generic) mode
# (UNM_ADMODE=generic: AF_PACKET, lib/ports/afpacket.c). The emulated port
# keeps A's stack off A's received traffic with a tcx ingress drop, and
# reads A's traffic with packet sockets that run before it; frames the host
# TX ring injects into A's receive path pass both:
#  - the drop must let them through (else B -> A dies at A's stack);
#  - the RX packet sockets must not take them (else they loop: host TX ->
#    NIC RX ring -> bridge -> NIC TX -> B, duplicated, forever).
# Checks: ping both ways without duplicates, TCP both ways, the bridge's
# NIC -> host count no more than what B sent, nothing left after exit.
#
#   namespace $NSA                                       namespace $NSB
#   stack --tx--> [tcx egress A] -> host RX ring -> bridge -> A NIC TX ==veth==> B
#   stack <- [unm_stack_off passes marked] <- host TX <- bridge <- A NIC RX <== B
export UNM_ADMODE=generic
source "$(dirname "$0")/nic_lib.bash"
BRIDGE=$BUILD/tools/bridge
[ -x "$BRIDGE" ] || fail "build first: $BRIDGE"
command -v ping >/dev/null || skip "no ping"
command -v python3 >/dev/null || skip "no python3 (TCP endpoints)"
ip -n "$NSA" addr add 10.77.0.1/24 dev "$VA" && ip -n "$NSB" addr add 10.77.0.2/24 dev "$VB" ||
	fail "addresses"
# B checksums its frames itself: a veth hands CHECKSUM_PARTIAL frames to a
# packet socket unfinished (TP_STATUS_CSUMNOTREADY), a real wire does not
command -v ethtool >/dev/null || skip "no ethtool"
inb ethtool -K "$VB" tx off >/dev/null 2>&1 || fail "ethtool -K $VB tx off"

# TCP: $1 namespace of the server, $2 address, $3 port, $4 bytes
tcp_pair() {
	ip netns exec "$1" timeout 30 python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.settimeout(20); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    n += len(d)
c.sendall(b"got %d" % n)' "$2" "$3" >"$OUT/srv$3" 2>&1 &
	local sv=$! other=$NSA
	[ "$1" = "$NSA" ] && other=$NSB
	ip netns exec "$other" timeout 30 python3 -c '
import socket, sys, time
n = int(sys.argv[3])
for i in range(50):
    try:
        c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10); break
    except ConnectionRefusedError:
        time.sleep(0.1)
c.settimeout(20); c.sendall(b"g" * n); c.shutdown(socket.SHUT_WR)
a = c.recv(100).decode(); print(a); sys.exit(a != "got %d" % n)' "$2" "$3" "$4" >"$OUT/cli$3" 2>&1
	local rc=$?
	wait $sv
	return $rc
}

UNM_VERBOSE=2 ip netns exec "$NSA" "$BRIDGE" -w 0 -i "netmap:$VA" >"$OUT/bridge" 2>&1 &
br=$!
for i in $(seq 1 100); do grep -q "ready to go" "$OUT/bridge" && break; sleep 0.05; done
grep -q "ready to go" "$OUT/bridge" || fail "bridge did not start"
grep -q "emulated (generic) mode" "$OUT/bridge" || fail "the NIC port is not in emulated mode"
grep -q "kept off (tcx ingress drop)" "$OUT/bridge" || skip "no tcx: the stack-off drop is not there to test"
txB0=$(ip -n "$NSB" -s -j link show "$VB" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])')

inb ping -c 5 -i 0.2 -W 2 10.77.0.1 >"$OUT/pingB" 2>&1 || fail "ping B -> A through the bridge (host TX frames dropped?)"
ina ping -c 5 -i 0.2 -W 2 10.77.0.2 >"$OUT/pingA" 2>&1 || fail "ping A -> B through the bridge"
grep -q DUP "$OUT/pingA" "$OUT/pingB" && fail "duplicate replies: injected frames loop"
tcp_pair "$NSA" 10.77.0.1 5011 2000000 || fail "TCP B -> A: $(cat "$OUT/cli5011")"
tcp_pair "$NSB" 10.77.0.2 5012 2000000 || fail "TCP A -> B: $(cat "$OUT/cli5012")"
echo "ping both ways, TCP B -> A $(cat "$OUT/cli5011"), A -> B $(cat "$OUT/cli5012")"

kill -INT $br
wait $br
txB=$(ip -n "$NSB" -s -j link show "$VB" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])')
sentB=$((txB - txB0))
n2h=$(grep "netmap:$VA -> netmap:$VA^:" "$OUT/bridge" | grep -oE '[0-9]+ packets' | cut -d' ' -f1)
echo "B sent $sentB frames; bridge NIC -> host: $n2h"
[ -n "$n2h" ] && [ "$n2h" -gt 0 ] && [ "$n2h" -le "$sentB" ] ||
	fail "NIC RX took more frames ($n2h) than B sent ($sentB): injected frames come back"
stack_off_gone() {
	local i
	for i in $(seq 1 50); do
		bpftool prog list 2>/dev/null | grep -qE "name (unm_stack_off|unm_host_)" || return 0
		sleep 0.1
	done
	return 1
}
ip -n "$NSA" -o link show | grep unmh && fail "helper interface left"
no_leftovers "$NSA" "$VA" || fail "$VA: left behind"
stack_off_gone || echo "note: a unm_stack_off/unm_host_ program still loaded (another test's?)"
