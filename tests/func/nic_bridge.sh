#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: two NIC ports in one process share a region, so the bridge
# forwards by buffer swaps between AF_XDP sockets of two interfaces: frames
# from A reach C byte-exact through the bridge, both ways.
#
#   ns A: A ==veth== M1 (ns M)  bridge netmap:M1 <-> netmap:M2  (ns M) M2 ==veth== C (ns C)
source "$(dirname "$0")/nic_lib.bash"

BRIDGE=$BUILD/tools/bridge
NSM=unm-nm$T NSC=unm-nc$T M1=unmM1$T M2=unmM2$T VC=unmC$T
bridge_cleanup() {
	local j
	for j in $(ip netns pids "$NSM" 2>/dev/null) $(ip netns pids "$NSC" 2>/dev/null); do
		kill -9 "$j" 2>/dev/null
	done
	ip netns del "$NSM" 2>/dev/null
	ip netns del "$NSC" 2>/dev/null
	nic_cleanup
}
trap bridge_cleanup EXIT
ip netns add "$NSM" && ip netns add "$NSC" || fail "ip netns add"
# A's peer moves to M as M1; a second pair M2 <-> C
ip -n "$NSB" link set "$VB" netns "$NSM" && ip -n "$NSM" link set "$VB" name "$M1" ||
	fail "move $VB to $NSM"
ip link add "$M2" numtxqueues 2 numrxqueues 2 type veth peer name "$VC" \
	numtxqueues 2 numrxqueues 2 || fail "veth $M2"
ip link set "$M2" netns "$NSM" && ip link set "$VC" netns "$NSC" || fail "veth into namespaces"
for d in "$M1" "$M2"; do ip -n "$NSM" link set "$d" up || fail "$d up"; done
ip -n "$NSC" link set "$VC" up || fail "$VC up"

ip netns exec "$NSM" "$BRIDGE" -w 0 -i "netmap:$M1" -i "netmap:$M2" >"$OUT/bridge" 2>&1 &
br=$!
for i in $(seq 1 100); do
	ip -n "$NSM" -d link show "$M2" | grep -q xdp && break
	sleep 0.05
done
ip -n "$NSM" -d link show "$M2" | grep -q xdp || fail "bridge did not open $M2"

N=2000
R=@conf:rx-slots=4096 XFER_VIA=" (through the bridge)"
peer_xfer "$NSA" "netmap:$VA" "$NSC" "netmap:$VC$R" ac
peer_xfer "$NSC" "netmap:$VC" "$NSA" "netmap:$VA$R" ca
kill -INT $br
wait $br
echo "bridge: $(tail -n 2 "$OUT/bridge" | tr '\n' ' ')"
grep -q -- "- zerocopy supported" "$OUT/bridge" || fail "bridge not zero-copy: $(grep zerocopy "$OUT/bridge")"
no_leftovers "$NSM" "$M1" || fail "$M1: left behind"
no_leftovers "$NSM" "$M2" || fail "$M2: left behind"
