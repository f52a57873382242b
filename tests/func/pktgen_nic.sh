#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#     namespace A                          namespace B
#     pkt-gen tx -p 2  netmap:VA ==veth==> netmap:VB  pkt-gen rx -p 2
#                      (2 queues)          (2 queues, one thread per ring)
#     pkt-gen -f ping  netmap:VA <=======> netmap:VB  pkt-gen -f pong
#     bridge -i netmap:VB (one port: host rings)
#
# Test objective: pkt-gen on NIC ports (AF_XDP on a 2-queue veth):
#  - -p 2 on both ends, one thread per ring: the sender's thread i sends
#    N/2 on TX queue i, which lands on RX queue i of the peer; each
#    receiving thread stops at N/2 on its own ring, so the receiver ends
#    (with exactly N packets and N * 60 bytes, as the sender) only when
#    both rings got their half (examples_nic's multiqueue counts per ring);
#  - -f ping / -f pong across the pair: exactly N round trips, pong exits
#    after answering N, ping's RTT report lines (per second and final,
#    "RTT over N packets: min X av Y ns") are present and parse, min <= av;
#  - bridge given one NIC port bridges it with its host rings (netmap:IF^):
#    it starts, says so, stops on SIGINT; nothing left behind
#    (tests/func/host_rings.sh checks the traffic).
# The sender is paced (-R), every run bounded by counts and timeouts.
source "$(dirname "$0")/nic_lib.bash"

BRIDGE=$BUILD/tools/bridge
[ -x "$BRIDGE" ] || fail "build first: $BRIDGE"

# ---------------- -p 2: one thread per ring, both ends ----------------
N=20000
ip netns exec "$NSB" timeout 20 "$PKTGEN" -i "netmap:$VB" -f rx -p 2 -n $N -w 0 \
	-C 4096,4096 >"$OUT/rx" 2>&1 &
rx=$!
wait_for "$OUT/rx" '^Receiving from' 10 || fail "pkt-gen rx -p 2 on $VB did not start"
# queues as upstream pkt-gen counts them: 2 NIC rings + 1 host ring
grep -q "^Receiving from netmap:$VB: 3 queues, 2 threads" "$OUT/rx" ||
	fail "pkt-gen rx -p 2: $(grep Receiving "$OUT/rx")"
ina timeout 20 "$PKTGEN" -i "netmap:$VA" -f tx -p 2 -n $N -R 10000 -w 0 >"$OUT/tx" 2>&1 ||
	fail "pkt-gen tx -p 2 on $VA"
wait $rx || fail "pkt-gen rx -p 2 on $VB exit $?"
grep -q "^Sending on netmap:$VA: 3 queues, 2 threads" "$OUT/tx" ||
	fail "pkt-gen tx -p 2: $(grep Sending "$OUT/tx")"
grep -q "^Sent $N packets $((N * 60)) bytes" "$OUT/tx" || fail "sender: $(grep '^Sent' "$OUT/tx")"
grep -q "^Received $N packets $((N * 60)) bytes" "$OUT/rx" || fail "receiver: $(grep '^Received' "$OUT/rx")"
echo "ok: pkt-gen -p 2 $VA -> $VB: $(grep '^Sent' "$OUT/tx" | cut -d' ' -f1-5) / $(grep '^Received' "$OUT/rx" | cut -d' ' -f1-5)"

# ---------------- ping / pong ----------------
P=1000
ip netns exec "$NSB" timeout 25 "$PKTGEN" -i "netmap:$VB" -f pong -n $P -w 0 >"$OUT/pong" 2>&1 &
pong=$!
wait_for "$OUT/pong" '^Working on' 10 || fail "pkt-gen pong on $VB did not start"
ina timeout 25 "$PKTGEN" -i "netmap:$VA" -f ping -n $P -w 0 >"$OUT/ping" 2>&1 ||
	fail "pkt-gen ping on $VA exit $?"
wait $pong || fail "pkt-gen pong on $VB exit $?"
final=$(grep -E 'ping_body \[[0-9]+\] RTT over [0-9]+ packets: min [0-9]+ av [0-9]+ ns$' "$OUT/ping")
[ -n "$final" ] || fail "no final RTT line from ping"
n=$(sed -nE 's/.* RTT over ([0-9]+) packets.*/\1/p' <<<"$final")
min=$(sed -nE 's/.* min ([0-9]+) av.*/\1/p' <<<"$final")
av=$(sed -nE 's/.* av ([0-9]+) ns$/\1/p' <<<"$final")
[ "$n" = $P ] || fail "ping measured $n round trips, want $P"
[ "$min" -gt 0 ] && [ "$min" -le "$av" ] && [ "$av" -lt 1000000000 ] ||
	fail "RTT min $min av $av ns does not make sense"
# the per-second lines: "count N RTT: min X av Y ns", the last one counting all
last=$(grep -E 'rtt_print \[[0-9]+\] count [0-9]+ RTT: min [0-9]+ av [0-9]+ ns$' "$OUT/ping" | tail -n 1)
[ -n "$last" ] || fail "no per-interval RTT line from ping"
echo "ok: ping/pong $VA <-> $VB: $P round trips, RTT min $min av $av ns; ${last#* count }"

# ---------------- bridge with one NIC port ----------------
ip netns exec "$NSB" "$BRIDGE" -w 0 -i "netmap:$VB" >"$OUT/bridge1" 2>&1 &
br=$!
wait_for "$OUT/bridge1" 'ready to go' 10 || fail "bridge with one port netmap:$VB did not start"
grep -q "bridging netmap:$VB with its host rings netmap:$VB^" "$OUT/bridge1" ||
	fail "bridge with one port: $(cat "$OUT/bridge1")"
kill -INT $br
wait $br || fail "bridge with one port: exit $?"
echo "ok: bridge -i netmap:$VB alone bridges it with netmap:$VB^"

no_leftovers "$NSB" "$VB" || fail "$VB: XDP, PROMISC or shared memory left after exit"
no_leftovers "$NSA" "$VA" || fail "$VA: XDP, PROMISC or shared memory left after exit"
echo "pktgen_nic: all checks passed"
