#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: pkt-gen -f tx on netmap:A reaches pkt-gen -f rx on netmap:B
# over a 2-queue veth pair (all rings, then one ring pair with -N), counts
# match, and while the ports are open the interface has an XDP program and
# promiscuous mode, both gone (and no shared memory left) once they exit.
# The sender is paced and the receiver's rings are 4096 slots, so that a busy
# machine descheduling the receiver for a while does not lose frames.
#
#     pkt-gen tx netmap:A ==veth==> pkt-gen rx netmap:B      (namespaces A, B)
source "$(dirname "$0")/nic_lib.bash"

N=20000
run_pair() {
	local txport=$1 rxport=$2 tag=$3
	UNM_VERBOSE=2 ip netns exec "$NSB" timeout 20 "$PKTGEN" -i "$rxport" -f rx -n $N -w 0 -C 4096,4096 >"$OUT/rx$tag" 2>&1 &
	local rx=$!
	local i
	for i in $(seq 1 50); do
		ip -n "$NSB" -d link show "$VB" | grep -q xdp && break
		sleep 0.1
	done
	ip -n "$NSB" -d link show "$VB" | grep -q xdp || fail "$rxport: no XDP program while open"
	is_promisc "$NSB" "$VB" || fail "$rxport: not promiscuous while open"
	ina timeout 20 "$PKTGEN" -i "$txport" -f tx -n $N -w 0 -R 25000 >"$OUT/tx$tag" 2>&1 ||
		fail "pkt-gen tx on $txport"
	wait $rx || fail "pkt-gen rx on $rxport did not get $N packets"
	grep -q "^Sent $N packets" "$OUT/tx$tag" || fail "$txport: sender count"
	grep -q "^Received $N packets" "$OUT/rx$tag" || fail "$rxport: receiver count"
	echo "$txport -> $rxport: $(grep '^Received' "$OUT/rx$tag")"
}

run_pair "netmap:$VA" "netmap:$VB" all
run_pair "netmap:$VA-1" "netmap:$VB-1" ring1
no_leftovers "$NSB" "$VB" || fail "$VB: XDP, PROMISC or shared memory left after exit"
no_leftovers "$NSA" "$VA" || fail "$VA: XDP, PROMISC or shared memory left after exit"

# a device without native XDP (ifb): the program is attached in generic mode,
# the log line says so, and TX works
IFB=unmI$T
if ip -n "$NSA" link add "$IFB" type ifb 2>/dev/null; then
	ip -n "$NSA" link set "$IFB" up || fail "$IFB up"
	UNM_VERBOSE=2 ina timeout 20 "$PKTGEN" -i "netmap:$IFB" -f tx -n 1000 -w 0 >"$OUT/ifb" 2>&1 ||
		fail "pkt-gen tx on $IFB"
	grep -q "$IFB: AF_XDP.*XDP generic" "$OUT/ifb" || fail "$IFB: want generic XDP reported"
	grep -q "^Sent 1000 packets" "$OUT/ifb" || fail "$IFB: sender count"
	echo "$(grep -o "$IFB: AF_XDP.*" "$OUT/ifb")"
	no_leftovers "$NSA" "$IFB" || fail "$IFB: left behind"
else
	echo "no ifb device here: generic-XDP case not run"
fi
echo "nic_pktgen: counts match, nothing left behind"
