#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: 802.1Q tags on the host rings are as on the wire. The
# packet socket behind the host RX ring gets tags in PACKET_AUXDATA (the
# kernel takes them out of the frame on receive); the host RX ring must
# carry them in the frame again.
#  - host_peer xmit A (a packet socket: the stack's dev_queue_xmit, tcx
#    egress) sends tagged frames (tci 10): host_peer recv on A^ reads them
#    as 0x8100, tci 10, inner 0x88b5, 4 bytes longer than untagged;
#  - through `bridge -i netmap:A` (NIC rings <-> host rings): A's tagged
#    frames reach B with their tag (a packet socket on B reads tci 10 from
#    PACKET_AUXDATA), B's tagged frames reach A's receive path with their
#    tag (host TX), and untagged ping works.
# (No VLAN subinterfaces: this kernel may lack 8021q; packet sockets tag.)
#
#   namespace $NSA                                        namespace $NSB
#   xmit A -> tcx egress -> host RX -> bridge -> A NIC TX ==veth==> B: sniff
#   sniff A <- A ingress <- host TX <- bridge <- A NIC RX <==veth== B: xmit
source "$(dirname "$0")/nic_lib.bash"
BRIDGE=$BUILD/tools/bridge
HPEER=$BUILD/tests/func/host_peer
[ -x "$BRIDGE" ] && [ -x "$HPEER" ] || fail "build first: $BRIDGE, $HPEER"
command -v ping >/dev/null || skip "no ping"
ip -n "$NSA" addr add 10.77.0.1/24 dev "$VA" && ip -n "$NSB" addr add 10.77.0.2/24 dev "$VB" ||
	fail "addresses"

# 1. host RX: the tag is in the frame
ip netns exec "$NSA" "$HPEER" recv "netmap:$VA^" 10 3 >"$OUT/recv" 2>&1 &
rv=$!
for i in $(seq 1 100); do grep -q ready "$OUT/recv" && break; sleep 0.05; done
grep -q ready "$OUT/recv" || fail "host_peer recv did not open: $(cat "$OUT/recv")"
ina "$HPEER" xmit "$VA" 3 100 10 >"$OUT/xmit" 2>&1 || fail "xmit on $VA: $(cat "$OUT/xmit")"
wait $rv
cat "$OUT/recv"
[ "$(grep -c '^len 104 type 0x8100 tci 10 inner 0x88b5' "$OUT/recv")" = 3 ] ||
	fail "host RX: tagged frames without their tag: $(cat "$OUT/recv")"

# 2. through the bridge, both ways
ip netns exec "$NSA" "$BRIDGE" -w 0 -i "netmap:$VA" >"$OUT/bridge" 2>&1 &
br=$!
for i in $(seq 1 100); do grep -q "ready to go" "$OUT/bridge" && break; sleep 0.05; done
grep -q "ready to go" "$OUT/bridge" || fail "bridge did not start"
ip netns exec "$NSB" "$HPEER" sniff "$VB" 10 5 >"$OUT/sniffB" 2>&1 &
sb=$!
ip netns exec "$NSA" "$HPEER" sniff "$VA" 10 5 >"$OUT/sniffA" 2>&1 &
sa=$!
for i in $(seq 1 100); do grep -q ready "$OUT/sniffB" && grep -q ready "$OUT/sniffA" && break; sleep 0.05; done
ina "$HPEER" xmit "$VA" 5 300 10 >"$OUT/xmitA" 2>&1 || fail "xmit on $VA: $(cat "$OUT/xmitA")"
inb "$HPEER" xmit "$VB" 5 400 10 >"$OUT/xmitB" 2>&1 || fail "xmit on $VB: $(cat "$OUT/xmitB")"
wait $sb $sa
echo "B sees: $(grep -c 'vlan 10' "$OUT/sniffB") tagged; A's stack sees: $(grep -c 'vlan 10' "$OUT/sniffA") tagged"
[ "$(grep -c '^seq [0-4] len 300 vlan 10$' "$OUT/sniffB")" = 5 ] ||
	fail "host RX -> NIC TX: B should see 5 frames with tag 10: $(cat "$OUT/sniffB")"
[ "$(grep -c '^seq [0-4] len 400 vlan 10$' "$OUT/sniffA")" = 5 ] ||
	fail "NIC RX -> host TX: A should see 5 frames with tag 10: $(cat "$OUT/sniffA")"
ina ping -c 3 -i 0.2 -W 2 10.77.0.2 >"$OUT/ping" 2>&1 || fail "ping A -> B (untagged) through the bridge"
kill -INT $br
wait $br
echo "VLAN: tags kept on host RX (in the frame) and host TX, both ways through the bridge"
