#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: host rings (IF^) put a program between a NIC and the host
# stack. `bridge -i netmap:A` forwards A's NIC rings to its host rings and
# back (zero-copy swaps, one region), so everything between the two stacks
# crosses the program:
#
#   namespace $NSA                                       namespace $NSB
#   stack --tx--> [tcx egress A] -> host RX ring -> bridge -> A NIC TX ==veth==> B
#   stack <------ [helper veth]  <- host TX ring <- bridge <- A NIC RX <==veth== B
#
# Checks: TCP both ways (A's stack sends with TSO/GSO/checksum offload on:
# the frames must arrive segmented and with valid checksums, or B's stack
# drops them), the counters of the bridge say the frames crossed it, A's
# offload settings are unchanged, and after SIGKILL of the bridge: no helper
# interface, no tcx program on A, no shared memory, and A and B talk
# directly again.
#
# The peer B sends with TX checksum offload off: a veth with an XDP program
# hands CHECKSUM_PARTIAL frames to AF_XDP as they are (a real wire carries
# frames the NIC checksummed).
source "$(dirname "$0")/nic_lib.bash"
BRIDGE=$BUILD/tools/bridge
[ -x "$BRIDGE" ] || fail "build first: $BRIDGE"
command -v python3 >/dev/null || fail "no python3 (TCP endpoints): mk/deps.sh test"
command -v ethtool >/dev/null || skip "no ethtool"

ip -n "$NSA" addr add 10.77.0.1/24 dev "$VA" && ip -n "$NSB" addr add 10.77.0.2/24 dev "$VB" ||
	fail "addresses"
inb ethtool -K "$VB" tx off >/dev/null 2>&1 || fail "ethtool -K $VB tx off"
offl_before=$(ina ethtool -k "$VA" | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|tx-checksumming):')
echo "$offl_before" | grep -q 'tcp-segmentation-offload: on' || skip "$VA has no TSO to test with"

UNM_VERBOSE=2 ip netns exec "$NSA" "$BRIDGE" -w 0 -i "netmap:$VA" >"$OUT/bridge" 2>&1 &
br=$!
for i in $(seq 1 100); do grep -q "ready to go" "$OUT/bridge" && break; sleep 0.05; done
grep -q "ready to go" "$OUT/bridge" || fail "bridge did not start"
helper=$(ip -n "$NSA" -o link show | grep -o 'unmh[0-9]*' | head -n 1)
[ -n "$helper" ] || fail "no helper interface while the host rings are open"

# B -> A: SYN/data enter through NIC RX -> host TX, ACKs leave through host RX
tcp_xfer "$NSA" 10.77.0.1 5001 "$NSB" 3000000 ||
	fail "TCP B -> A through the bridge: $(cat "$OUT/cli.5001")"
echo "TCP B -> A: $(cat "$OUT/cli.5001")"
# A -> B: A's stack sends bulk data (TSO/GSO super-frames) into the host RX ring
tcp_xfer "$NSB" 10.77.0.2 5002 "$NSA" 3000000 ||
	fail "TCP A -> B through the bridge: $(cat "$OUT/cli.5002")"
echo "TCP A -> B: $(cat "$OUT/cli.5002")"

offl_now=$(ina ethtool -k "$VA" | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|tx-checksumming):')
[ "$offl_now" = "$offl_before" ] || fail "$VA offloads changed while open: $offl_now"
# the frames crossed the bridge: stop it cleanly once to read its counters
kill -INT $br
wait $br
grep "netmap:$VA^ -> netmap:$VA:" "$OUT/bridge" | grep -qE ': [1-9][0-9]{3,} packets' ||
	fail "host -> NIC: too few frames crossed the bridge"
grep "netmap:$VA -> netmap:$VA^:" "$OUT/bridge" | grep -qE ': [1-9][0-9]{3,} packets' ||
	fail "NIC -> host: too few frames crossed the bridge"
grep -E "packets" "$OUT/bridge"

# SIGKILL while the stack is sending: nothing left, the link works again
ip netns exec "$NSA" "$BRIDGE" -w 0 -i "netmap:$VA" >"$OUT/bridge2" 2>&1 &
br=$!
for i in $(seq 1 100); do grep -q "ready to go" "$OUT/bridge2" && break; sleep 0.05; done
grep -q "ready to go" "$OUT/bridge2" || fail "bridge did not start again"
ip netns exec "$NSB" timeout 30 python3 "$TCP_PEER" server 10.77.0.2 5003 >"$OUT/srvB3" 2>&1 &
sb=$!
ip netns exec "$NSA" timeout 30 python3 "$TCP_PEER" client 10.77.0.2 5003 50000000 >"$OUT/cliA3" 2>&1 &
ca=$!
sleep 0.5
kill -9 $br
wait $br 2>/dev/null
kill $ca $sb 2>/dev/null
wait $ca $sb 2>/dev/null
for i in $(seq 1 50); do
	ip -n "$NSA" -o link show | grep -q unmh || break
	sleep 0.1
done
ip -n "$NSA" -o link show | grep unmh && fail "helper interface left after SIGKILL"
ip netns exec "$NSA" bpftool net show dev "$VA" 2>/dev/null | grep -q unm_host &&
	fail "tcx program left on $VA after SIGKILL"
no_leftovers "$NSA" "$VA" || fail "$VA: left behind after SIGKILL"
tcp_xfer "$NSB" 10.77.0.2 5004 "$NSA" 1000000 ||
	fail "TCP A -> B directly after the kill: $(cat "$OUT/cli.5004")"
echo "after SIGKILL: no helper, no tcx program, no shm; direct TCP: $(cat "$OUT/cli.5004")"
