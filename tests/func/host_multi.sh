#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: more than one host ring per direction, as asked with
# nr_host_tx_rings / nr_host_rx_rings (`@conf:host-rings=N`):
#  - the netmap_if reports 4 host TX / 4 host RX rings;
#  - what A's stack sends (16 UDP flows) lands on the host RX rings spread
#    by flow (more than one ring used), every frame exactly once;
#  - each host TX ring (IF^N) delivers to A's stack.
# Skipped where the port still gets one host ring (the request ignored).
#
#   namespace $NSA
#   A's stack (UDP) -> tcx egress -> host RX rings 0..3 -> host_peer recv
#   host_peer send A^N -> host TX ring N -> A's receive path -> host_peer sniff
source "$(dirname "$0")/nic_lib.bash"
HPEER=$BUILD/tests/func/host_peer
[ -x "$HPEER" ] || fail "build first: $HPEER"
command -v python3 >/dev/null || fail "no python3: mk/deps.sh test"
ip -n "$NSA" addr add 10.77.0.1/24 dev "$VA" || fail "address"
ip -n "$NSA" neigh add 10.77.0.2 lladdr 02:00:00:00:00:0b dev "$VA" || fail "static neighbour"

ip netns exec "$NSA" "$HPEER" recv "netmap:$VA^@conf:host-rings=4" 10 64 >"$OUT/recv" 2>&1 &
rv=$!
for i in $(seq 1 100); do grep -q ready "$OUT/recv" && break; sleep 0.05; done
grep -q ready "$OUT/recv" || fail "host_peer recv did not open: $(cat "$OUT/recv")"
case $(grep ready "$OUT/recv") in
*"host rings 1 TX 1 RX"*) kill $rv; wait $rv 2>/dev/null; skip "one host ring per direction only: $(grep ready "$OUT/recv")" ;;
*"host rings 4 TX 4 RX"*) ;;
*) fail "netmap_if with 4 host rings asked: $(cat "$OUT/recv")" ;;
esac
# 16 flows x 4 datagrams
ina python3 -c '
import socket
for port in range(7000, 7016):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.77.0.1", port))
    for i in range(4):
        s.sendto(b"m" * 100, ("10.77.0.2", 9000))
' || fail "UDP senders"
wait $rv
n=$(grep -c '^len 142 type 0x0800' "$OUT/recv")
rings=$(grep '^len 142 type 0x0800' "$OUT/recv" | awk '{print $NF}' | sort -u | tr '\n' ' ')
echo "host RX: $n datagrams over rings $rings"
[ "$n" = 64 ] || fail "host RX: $n of 64 datagrams"
[ "$(echo $rings | wc -w)" -gt 1 ] || fail "host RX: 16 flows all on ring $rings"

for r in 0 3; do
	ip netns exec "$NSA" "$HPEER" sniff "$VA" 5 3 >"$OUT/sniff$r" 2>&1 &
	sn=$!
	for i in $(seq 1 100); do grep -q ready "$OUT/sniff$r" && break; sleep 0.05; done
	ina "$HPEER" send "netmap:$VA^$r@conf:host-rings=4" 3*200 >"$OUT/send$r" 2>&1 ||
		fail "send on host TX ring $r: $(cat "$OUT/send$r")"
	wait $sn
	[ "$(grep -c '^seq [0-2] len 200$' "$OUT/sniff$r")" = 3 ] ||
		fail "host TX ring $r: A's stack should see 3 frames: $(cat "$OUT/sniff$r")"
done
echo "4 host rings per direction: RX spread over rings $rings, TX rings 0 and 3 deliver"
