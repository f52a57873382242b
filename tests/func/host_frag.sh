#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: frames over several slots on the host rings.
#  - host TX: slots chained with NS_MOREFRAG are one frame (2, 3 and 12
#    slots, a zero-length slot inside a chain, a runt split over two slots):
#    a packet socket on A sees each one once, whole and byte-exact, and
#    nothing else of ours;
#  - host RX: a frame longer than a netmap buffer (A's MTU 3000, 2048-byte
#    buffers) is dropped and counted, not truncated and not split (the count
#    is logged at close with UNM_VERBOSE=2); the frames around it arrive.
#
#   namespace $NSA
#   host_peer send A^ -> host TX -> A's receive path -> host_peer sniff A
#   A's stack (ping) -> host RX -> host_peer recv A^
source "$(dirname "$0")/nic_lib.bash"
HPEER=$BUILD/tests/func/host_peer
[ -x "$HPEER" ] || fail "build first: $HPEER"
command -v ping >/dev/null || skip "no ping"

# 1. NS_MOREFRAG on host TX
ip netns exec "$NSA" "$HPEER" sniff "$VA" 10 34 >"$OUT/sniff" 2>&1 &
sn=$!
for i in $(seq 1 100); do grep -q ready "$OUT/sniff" && break; sleep 0.05; done
# seq 0..19: 700+814, 20..24: 60+40+1414, 25: 12 x 100 + 14, 26: 500+0+500,
# 27: 10+50, 28..33: 1514 unchained
ina "$HPEER" send "netmap:$VA^" "20*700+814" "5*60+40+1414" \
	100+100+100+100+100+100+100+100+100+100+100+114 500+0+500 10+50 "6*1514" >"$OUT/send" 2>&1 ||
	fail "host_peer send: $(cat "$OUT/send")"
wait $sn
grep -q '^bad' "$OUT/sniff" && fail "a chained frame changed on the way: $(grep '^bad' "$OUT/sniff")"
got=$(grep -c '^seq' "$OUT/sniff")
want=$(for s in $(seq 0 19); do echo "$s 1514"; done; for s in $(seq 20 24); do echo "$s 1514"; done
       echo "25 1214"; echo "26 1000"; echo "27 60"; for s in $(seq 28 33); do echo "$s 1514"; done)
have=$(grep '^seq' "$OUT/sniff" | awk '{print $2, $4}' | sort -n)
[ "$have" = "$want" ] || fail "chained frames on host TX: got $got frames: $(echo "$have" | tr '\n' ',')"
echo "host TX: 34 frames of 1..12 slots delivered whole and byte-exact"

# 2. host RX: a frame over a buffer is dropped and counted
ip -n "$NSA" link set "$VA" mtu 3000 && ip -n "$NSB" link set "$VB" mtu 3000 || fail "mtu 3000"
ip -n "$NSA" addr add 10.77.0.1/24 dev "$VA" || fail "address"
UNM_VERBOSE=2 ip netns exec "$NSA" "$HPEER" recv "netmap:$VA^" 10 3 >"$OUT/recv" 2>&1 &
rv=$!
for i in $(seq 1 100); do grep -q ready "$OUT/recv" && break; sleep 0.05; done
grep -q ready "$OUT/recv" || fail "host_peer recv did not open: $(cat "$OUT/recv")"
# ARP (no answer ever comes: A's frames stop at the host RX ring)
ip -n "$NSA" neigh add 10.77.0.2 lladdr 02:00:00:00:00:0b dev "$VA" || fail "static neighbour"
ina ping -c 1 -W 1 -s 100 10.77.0.2 >/dev/null 2>&1
ina ping -c 1 -W 1 -s 2400 -M do 10.77.0.2 >/dev/null 2>&1
ina ping -c 1 -W 1 -s 2000 -M do 10.77.0.2 >/dev/null 2>&1
ina ping -c 1 -W 1 -s 200 10.77.0.2 >/dev/null 2>&1
wait $rv
cat "$OUT/recv"
have=$(grep '^len' "$OUT/recv" | awk '$4 == "0x0800" {print $2}' | tr '\n' ' ')
[ "$have" = "142 2042 242 " ] || fail "host RX around a frame over the buffer: got '$have', want '142 2042 242 '"
grep -q "host rings: 1 RX frames over a buffer dropped" "$OUT/recv" ||
	fail "host RX: drop not counted: $(cat "$OUT/recv")"
echo "host RX: a 2442-byte frame over the 2048-byte buffers dropped and counted, the others delivered"
