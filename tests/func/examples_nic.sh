#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   ns A                                   ns B
#   VA  (2 queues) ======== veth ======== VB  (2 queues)   hexdump, multiqueue
#   VA2 ================== veth ========= VB0 \
#                                              nic2nic | firewall (one process)
#   VC  ================== veth ========= VB1 /
#
# Test objective: the examples on NIC ports (AF_XDP on veth) between two
# network namespaces, each checked by exact output:
#  - hexdump on netmap:VB prints the known bytes of known frames sent on
#    netmap:VA-0 and netmap:VA-1, and names the ring each arrived on (AF_XDP
#    TX on queue q lands on RX queue q of the peer);
#  - multiqueue on netmap:VB (one thread per ring) counts exactly what was
#    sent on each queue of VA; with pkt-gen -p 2 on netmap:VA (a thread per
#    TX ring) both rings receive and the ring counts sum to the total;
#  - nic2nic between VB0 and VB1 forwards exact counts both ways
#    (VA2 -> VB0 -> VB1 -> VC and back), zero-copy (one memory region);
#  - firewall between VB0 and VB1 prints exact per-rule counters and only
#    the passing kinds of frame arrive on VC.
# Senders are paced (pkt-gen -R) or send a few hundred frames per run, so a
# busy machine loses nothing and counts are exact. Every run is bounded by
# a count and a timeout; nothing is left behind (checked at the end).
source "$(dirname "$0")/nic_lib.bash"
source tests/func/fw_case.bash

EX=$BUILD/examples
SEND=$BUILD/tests/func/examples_send
for b in "$EX/hexdump" "$EX/nic2nic" "$EX/firewall" "$EX/multiqueue" "$SEND"; do
	[ -x "$b" ] || fail "build first: $b"
done

# the second and third pairs: VA2 <-> VB0, VB1 <-> VC
VA2=unmA2$T VB0=unmB0$T VB1=unmB1$T VC=unmC$T
ip link add "$VA2" type veth peer name "$VB0" || fail "veth $VA2/$VB0"
ip link add "$VB1" type veth peer name "$VC" || fail "veth $VB1/$VC"
ip link set "$VA2" netns "$NSA" && ip link set "$VC" netns "$NSA" &&
	ip link set "$VB0" netns "$NSB" && ip link set "$VB1" netns "$NSB" ||
	fail "veth into namespaces"
for ns in "$NSA" "$NSB"; do
	ip netns exec "$ns" sh -c 'for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do echo 1 >"$f"; done' 2>/dev/null
done
for d in "$VA2" "$VC"; do ip -n "$NSA" link set "$d" up || fail "$d up"; done
for d in "$VB0" "$VB1"; do ip -n "$NSB" link set "$d" up || fail "$d up"; done

# ---------------- hexdump ----------------
ip netns exec "$NSB" timeout 20 "$EX/hexdump" -i "netmap:$VB" -n 2 -t 15 >"$OUT/hx.out" 2>"$OUT/hx.err" &
hx=$!
wait_for "$OUT/hx.err" '^hexdump: reading' 10 || fail "hexdump did not start: $(cat "$OUT/hx.err")"
ina timeout 10 "$SEND" -i "netmap:$VA-0" -W 5 udp,10.0.0.1,1000,10.0.0.2,53 >"$OUT/hxs0" 2>&1 ||
	fail "examples_send on $VA-0"
ina timeout 10 "$SEND" -i "netmap:$VA-1" -W 5 arp >"$OUT/hxs1" 2>&1 ||
	fail "examples_send on $VA-1"
wait $hx || fail "hexdump on $VB exit $?"
cat >"$OUT/hx.want" <<'EOF'
frame 1: 60 bytes, ring 0, 1 slot
0000  ff ff ff ff ff ff 02 00  00 00 00 01 08 00 45 00  |..............E.|
0010  00 2e 00 00 00 00 40 11  66 bd 0a 00 00 01 0a 00  |......@.f.......|
0020  00 02 03 e8 00 35 00 1a  00 00 00 01 02 03 04 05  |.....5..........|
0030  06 07 08 09 0a 0b 0c 0d  0e 0f 10 11              |............|
frame 2: 60 bytes, ring 1, 1 slot
0000  ff ff ff ff ff ff 02 00  00 00 00 01 08 06 00 01  |................|
0010  08 00 06 04 00 01 00 00  00 00 00 00 00 00 00 00  |................|
0020  00 00 00 00 00 00 00 00  00 00 00 01 02 03 04 05  |................|
0030  06 07 08 09 0a 0b 0c 0d  0e 0f 10 11              |............|
EOF
cmp -s "$OUT/hx.out" "$OUT/hx.want" ||
	fail "hexdump on $VB differs: $(diff "$OUT/hx.want" "$OUT/hx.out")"
grep -qx "hexdump: 2 frames 120 bytes" "$OUT/hx.err" ||
	fail "hexdump summary: $(tail -n 1 "$OUT/hx.err")"
echo "ok: hexdump on netmap:$VB: two known frames byte for byte, on rings 0 and 1"

# ---------------- multiqueue ----------------
# exact per queue: 700 ARP frames on queue 0, 1300 100-byte UDP on queue 1
Q0=700 Q1=1300
ip netns exec "$NSB" timeout 20 "$EX/multiqueue" -i "netmap:$VB" -n $((Q0 + Q1)) -t 15 >"$OUT/mq.out" 2>"$OUT/mq.err" &
mq=$!
wait_for "$OUT/mq.err" 'one thread each' 10 || fail "multiqueue did not start: $(cat "$OUT/mq.err")"
grep -q ": 2 RX ring(s)" "$OUT/mq.err" || fail "multiqueue on $VB: $(cat "$OUT/mq.err")"
ina timeout 10 "$SEND" -i "netmap:$VA-0" -n $Q0 arp >"$OUT/mqs0" 2>&1 || fail "send on $VA-0"
ina timeout 10 "$SEND" -i "netmap:$VA-1" -n $Q1 udp,1.1.1.1,1,2.2.2.2,2,100 >"$OUT/mqs1" 2>&1 ||
	fail "send on $VA-1"
wait $mq || fail "multiqueue exit $?"
printf 'ring 0: %d packets %d bytes\nring 1: %d packets %d bytes\ntotal: %d packets %d bytes\n' \
	$Q0 $((Q0 * 60)) $Q1 $((Q1 * 100)) $((Q0 + Q1)) $((Q0 * 60 + Q1 * 100)) >"$OUT/mq.want"
cmp -s "$OUT/mq.out" "$OUT/mq.want" ||
	fail "multiqueue counts differ: $(diff "$OUT/mq.want" "$OUT/mq.out")"
echo "ok: multiqueue on netmap:$VB: $(tr '\n' ';' <"$OUT/mq.out")"

# pkt-gen -p 2 on netmap:VA: one thread per TX ring, each sends N/2
N=6000
ip netns exec "$NSB" timeout 25 "$EX/multiqueue" -i "netmap:$VB" -n $N -t 20 >"$OUT/mq2.out" 2>"$OUT/mq2.err" &
mq=$!
wait_for "$OUT/mq2.err" 'one thread each' 10 || fail "multiqueue did not start: $(cat "$OUT/mq2.err")"
ina timeout 20 "$PKTGEN" -i "netmap:$VA" -f tx -p 2 -n $N -R 10000 -w 0 >"$OUT/mqtx" 2>&1 ||
	fail "pkt-gen -p 2 tx on $VA"
wait $mq || fail "multiqueue exit $?"
r0=$(sed -nE 's/^ring 0: ([0-9]+) packets.*/\1/p' "$OUT/mq2.out")
r1=$(sed -nE 's/^ring 1: ([0-9]+) packets.*/\1/p' "$OUT/mq2.out")
tot=$(sed -nE 's/^total: ([0-9]+) packets.*/\1/p' "$OUT/mq2.out")
[ -n "$r0" ] && [ -n "$r1" ] && [ "$tot" = $N ] && [ $((r0 + r1)) -eq "$tot" ] ||
	fail "multiqueue after pkt-gen -p 2: $(tr '\n' ';' <"$OUT/mq2.out"), want $N in all"
[ "$r0" -gt 0 ] && [ "$r1" -gt 0 ] || fail "pkt-gen -p 2: not both rings received: ring 0 $r0, ring 1 $r1"
[ "$r0" -eq $((N / 2)) ] && [ "$r1" -eq $((N / 2)) ] ||
	fail "pkt-gen -p 2 sends N/2 per ring: got ring 0 $r0, ring 1 $r1"
echo "ok: pkt-gen -p 2 on netmap:$VA -> multiqueue: $(tr '\n' ';' <"$OUT/mq2.out")"
# ---------------- nic2nic ----------------
N1=4000 N2=3000
ip netns exec "$NSA" timeout 25 "$PKTGEN" -i "netmap:$VC" -f rx -n $N1 -w 0 >"$OUT/n2n.rxc" 2>&1 &
rxc=$!
wait_for "$OUT/n2n.rxc" '^Receiving from' 10 || fail "pkt-gen rx on $VC did not start"
ip netns exec "$NSB" timeout 28 "$EX/nic2nic" -i "netmap:$VB0" -i "netmap:$VB1" -n $((N1 + N2)) -t 25 \
	>"$OUT/n2n.out" 2>"$OUT/n2n.err" &
n2n=$!
wait_for "$OUT/n2n.err" 'zero-copy|cannot|do not' 10 || fail "nic2nic did not start: $(cat "$OUT/n2n.err")"
grep -q "^nic2nic: netmap:$VB0 <-> netmap:$VB1, mem [0-9]*, zero-copy" "$OUT/n2n.err" ||
	fail "nic2nic not zero-copy: $(cat "$OUT/n2n.err")"
ina timeout 20 "$PKTGEN" -i "netmap:$VA2" -f tx -n $N1 -R 20000 -w 0 >"$OUT/n2n.txa" 2>&1 ||
	fail "pkt-gen tx on $VA2"
wait $rxc || fail "pkt-gen rx on $VC: $(grep -E '^Received' "$OUT/n2n.rxc")"
ip netns exec "$NSA" timeout 25 "$PKTGEN" -i "netmap:$VA2" -f rx -n $N2 -w 0 >"$OUT/n2n.rxa" 2>&1 &
rxa=$!
wait_for "$OUT/n2n.rxa" '^Receiving from' 10 || fail "pkt-gen rx on $VA2 did not start"
ina timeout 20 "$PKTGEN" -i "netmap:$VC" -f tx -n $N2 -l 80 -R 20000 -w 0 >"$OUT/n2n.txc" 2>&1 ||
	fail "pkt-gen tx on $VC"
wait $rxa || fail "pkt-gen rx on $VA2: $(grep -E '^Received' "$OUT/n2n.rxa")"
wait $n2n || fail "nic2nic exit $?: $(cat "$OUT/n2n.err")"
grep -qx "netmap:$VB0 -> netmap:$VB1: $N1 packets" "$OUT/n2n.out" &&
grep -qx "netmap:$VB1 -> netmap:$VB0: $N2 packets" "$OUT/n2n.out" ||
	fail "nic2nic counts: $(cat "$OUT/n2n.out")"
grep -q "^Received $N1 packets $((N1 * 60)) bytes" "$OUT/n2n.rxc" ||
	fail "$VC: $(grep -E '^Received' "$OUT/n2n.rxc")"
grep -q "^Received $N2 packets $((N2 * 80)) bytes" "$OUT/n2n.rxa" ||
	fail "$VA2: $(grep -E '^Received' "$OUT/n2n.rxa")"
echo "ok: nic2nic $VB0 <-> $VB1: $(tr '\n' ';' <"$OUT/n2n.out") $(grep -o 'mem [0-9]*, zero-copy' "$OUT/n2n.err")"

# ---------------- firewall ----------------
# the case of tests/func/fw_case.bash, over NIC ports
# R rounds in R/ROUND sender runs of ROUND rounds (9 * ROUND frames a burst)
R=60 ROUND=20
passed=$((4 * R))
ip netns exec "$NSA" timeout 25 "$EX/hexdump" -i "netmap:$VC" -n $passed -s 0 -t 20 >"$OUT/fwrx.out" 2>"$OUT/fwrx.err" &
fwrx=$!
wait_for "$OUT/fwrx.err" '^hexdump: reading' 10 || fail "hexdump on $VC did not start"
ip netns exec "$NSB" timeout 25 "$EX/firewall" -i "netmap:$VB0" -i "netmap:$VB1" -n $((9 * R)) -t 20 \
	"${FW_RULES[@]}" >"$OUT/fw.out" 2>"$OUT/fw.err" &
fw=$!
wait_for "$OUT/fw.err" 'rule\(s\)|cannot' 10 || fail "firewall did not start: $(cat "$OUT/fw.err")"
grep -q "^firewall: netmap:$VB0 <-> netmap:$VB1, 6 rule(s), default pass, zero-copy" "$OUT/fw.err" ||
	fail "firewall not zero-copy between two NIC ports: $(cat "$OUT/fw.err")"
for ((i = 0; i < R / ROUND; i++)); do
	ina timeout 10 "$SEND" -i "netmap:$VA2" -n $ROUND "${FW_KINDS[@]}" >"$OUT/fwsend" 2>&1 ||
		fail "send on $VA2: $(cat "$OUT/fwsend")"
done
wait $fwrx || fail "hexdump on $VC exit $?"
wait $fw || fail "firewall exit $?: $(cat "$OUT/fw.err")"
fw_want $R "netmap:$VB0" "netmap:$VB1" >"$OUT/fw.want"
cmp -s "$OUT/fw.out" "$OUT/fw.want" || fail "firewall counters differ: $(diff "$OUT/fw.want" "$OUT/fw.out")"
got=$(fw_got "$OUT/fwrx.out")
[ "$got" = "$(fw_got_want $R)" ] ||
	fail "firewall: $VC got (length:count) $got, want $(fw_got_want $R)"
echo "ok: firewall $VB0 <-> $VB1: zero-copy, exact per-rule counters, $VC got $got"

# ---------------- nothing left behind ----------------
no_leftovers "$NSB" "$VB" && no_leftovers "$NSB" "$VB0" && no_leftovers "$NSB" "$VB1" &&
	no_leftovers "$NSA" "$VA" && no_leftovers "$NSA" "$VA2" && no_leftovers "$NSA" "$VC" ||
	fail "XDP, promiscuous mode or shared memory left after exit"
echo "examples_nic: all checks passed"
