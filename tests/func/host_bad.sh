#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: host rings (IF^) given bad input fail clearly and do no
# damage (issue 5):
#  - an interface that does not exist: ENXIO, the message names it;
#  - an interface that is down: ENETDOWN naming it, nothing left behind
#    (no helper interface, no tcx program, no shm);
#  - a second process opening the host rings: EBUSY naming the interface,
#    while the first (a bridge between A's NIC and host rings) keeps
#    carrying ping before and after;
#  - frames over the MTU (+ header) written to the host TX ring, alone or as
#    an NS_MOREFRAG chain: dropped and counted (UNM_VERBOSE=2 logs the count
#    at close), the frames around them delivered to A's stack (a packet
#    socket on A sees them) byte-exact;
#  - SIGKILL of the bridge while A's stack floods through it: no helper, no
#    tcx program, no shm; ping and TCP between A and B directly.
#
#   namespace $NSA                                      namespace $NSB
#   stack <-> host rings <- bridge -> A NIC rings ==veth== B <-> stack
#   host_peer sniff A (packet socket)
source "$(dirname "$0")/nic_lib.bash"
BRIDGE=$BUILD/tools/bridge
HPEER=$BUILD/tests/func/host_peer
[ -x "$BRIDGE" ] && [ -x "$HPEER" ] || fail "build first: $BRIDGE, $HPEER"
command -v ping >/dev/null || skip "no ping"
command -v python3 >/dev/null || fail "no python3 (TCP endpoints): mk/deps.sh test"

ip -n "$NSA" addr add 10.77.0.1/24 dev "$VA" && ip -n "$NSB" addr add 10.77.0.2/24 dev "$VB" ||
	fail "addresses"

no_host_leftovers() {
	local i
	for i in $(seq 1 50); do
		if ! ip -n "$NSA" -o link show | grep -q unmh &&
		   ! ip netns exec "$NSA" bpftool net show dev "$VA" 2>/dev/null | grep -q unm_host; then
			break
		fi
		sleep 0.1
	done
	ip -n "$NSA" -o link show | grep unmh && { echo "helper interface left"; return 1; }
	ip netns exec "$NSA" bpftool net show dev "$VA" 2>/dev/null | grep unm_host &&
		{ echo "tcx program left on $VA"; return 1; }
	no_leftovers "$NSA" "$VA"
}

# 1. no such interface
out=$(ina "$PEER" open "netmap:nosuch$T^" 2>&1)
echo "missing: $(echo "$out" | tr '\n' ' ')"
echo "$out" | tail -n 1 | grep -q '^ENXIO' || fail "host rings of a missing interface: $out"
echo "$out" | grep -q "nosuch$T: no such interface" || fail "missing interface: message: $out"

# 2. interface down
ip -n "$NSA" link set "$VA" down
out=$(ina "$PEER" open "netmap:$VA^" 2>&1)
echo "down: $(echo "$out" | tr '\n' ' ')"
echo "$out" | tail -n 1 | grep -q '^ENETDOWN' || fail "host rings of a down interface: $out"
echo "$out" | grep -q "$VA: interface is down" || fail "down interface: message: $out"
no_host_leftovers || fail "down interface: left behind"
ip -n "$NSA" link set "$VA" up || fail "$VA up"

# 3. a second process: EBUSY, the first keeps working
UNM_VERBOSE=2 ip netns exec "$NSA" "$BRIDGE" -w 0 -i "netmap:$VA" >"$OUT/bridge" 2>&1 &
br=$!
for i in $(seq 1 100); do grep -q "ready to go" "$OUT/bridge" && break; sleep 0.05; done
grep -q "ready to go" "$OUT/bridge" || fail "bridge did not start"
inb ping -c 3 -i 0.2 -W 2 10.77.0.1 >"$OUT/ping1" 2>&1 || fail "ping through the bridge"
out=$(ina "$PEER" open "netmap:$VA^" 2>&1)
echo "second process: $(echo "$out" | tr '\n' ' ')"
echo "$out" | tail -n 1 | grep -q '^EBUSY' || fail "second process on the host rings: $out"
echo "$out" | grep -q "$VA: host rings already open in process $br" ||
	fail "second process: message: $out"
inb ping -c 3 -i 0.2 -W 2 10.77.0.1 >"$OUT/ping2" 2>&1 ||
	fail "ping through the bridge after the refused open"
kill -INT $br
wait $br
no_host_leftovers || fail "bridge exit: left behind"

# 4. frames over the MTU on host TX: dropped, counted, the others delivered
mtu=$(ip -n "$NSA" -o link show "$VA" | grep -o 'mtu [0-9]*' | cut -d' ' -f2)
[ "$mtu" = 1500 ] || fail "$VA mtu $mtu, want 1500"
ip netns exec "$NSA" "$HPEER" sniff "$VA" 10 6 >"$OUT/sniff" 2>&1 &
sn=$!
for i in $(seq 1 100); do grep -q ready "$OUT/sniff" && break; sleep 0.05; done
# seq 0: 100, 1: 1515 (MTU + header + 1: over), 2: 1514 (the limit),
# 3: 1000+600 (a chain over), 4: 60, 5: 2000+2000 (over), 6..8: 3 x 1514
UNM_VERBOSE=2 ina "$HPEER" send "netmap:$VA^" 100 1515 1514 1000+600 60 2000+2000 3*1514 \
	>"$OUT/send" 2>&1 || fail "host_peer send: $(cat "$OUT/send")"
wait $sn
cat "$OUT/sniff"
got=$(grep '^seq' "$OUT/sniff" | awk '{print $2 ":" $4}' | sort -n | tr '\n' ' ')
[ "$got" = "0:100 2:1514 4:60 6:1514 7:1514 8:1514 " ] ||
	fail "delivered around the long frames: got '$got', want 0:100 2:1514 4:60 6..8:1514"
grep -q '^bad' "$OUT/sniff" && fail "a frame changed on the way"
grep -q "TX dropped: 3 over MTU" "$OUT/send" || fail "drop count at close: $(cat "$OUT/send")"
grep "host rings:.*dropped" "$OUT/send"
no_host_leftovers || fail "host_peer exit: left behind"

# 5. SIGKILL while the stack sends through the bridge
ip netns exec "$NSA" "$BRIDGE" -w 0 -i "netmap:$VA" >"$OUT/bridge2" 2>&1 &
br=$!
for i in $(seq 1 100); do grep -q "ready to go" "$OUT/bridge2" && break; sleep 0.05; done
grep -q "ready to go" "$OUT/bridge2" || fail "bridge did not start again"
ina ping -c 2 -W 2 10.77.0.2 >/dev/null 2>&1 || fail "ping A -> B through the bridge"
ip netns exec "$NSA" timeout 10 ping -f -c 200000 -s 1000 10.77.0.2 >"$OUT/flood" 2>&1 &
fl=$!
sleep 0.7
kill -9 $br
wait $br 2>/dev/null
kill $fl 2>/dev/null
wait $fl 2>/dev/null
no_host_leftovers || fail "SIGKILL: left behind"
ina ping -c 3 -i 0.2 -W 2 10.77.0.2 >"$OUT/ping3" 2>&1 || fail "ping A -> B directly after SIGKILL"
tcp_xfer "$NSB" 10.77.0.2 5005 "$NSA" 2000000 ||
	fail "TCP A -> B directly after SIGKILL: $(cat "$OUT/cli.5005")"
echo "after SIGKILL: no helper, no tcx program, no shm; ping and TCP ($(cat "$OUT/cli.5005")) directly"
