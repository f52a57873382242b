#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: frames of 60..1514 bytes cross a 2-queue veth pair through
# netmap NIC ports byte-exact, each exactly once, starting at NETMAP_BUF:
# A -> B over all rings, B -> A over all rings, then A-1 -> B-1 (one ring
# pair with -N: AF_XDP TX on queue 1 arrives on the peer's RX queue 1), and
# frames written in two slots (NS_MOREFRAG, AF_XDP multi-buffer) arrive whole.
#
#     nic_peer send netmap:A[-1] ==veth==> nic_peer recv netmap:B[-1]
source "$(dirname "$0")/nic_lib.bash"

N=3000
xfer() {
	local ns_tx=$1 tx=$2 ns_rx=$3 rx=$4 tag=$5 mode=${6:-} i
	ip netns exec "$ns_rx" timeout 20 "$PEER" recv "$rx@conf:rx-slots=4096" $N 15 \
		>"$OUT/recv$tag" 2>&1 &
	local pid=$!
	for i in $(seq 1 100); do
		grep -q ready "$OUT/recv$tag" && break
		sleep 0.05
	done
	ip netns exec "$ns_tx" timeout 20 "$PEER" send "$tx" $N 15 $mode >"$OUT/send$tag" 2>&1 ||
		fail "$tx: send"
	wait $pid || fail "$tx -> $rx: $(tail -n 1 "$OUT/recv$tag")"
	echo "$tx -> $rx: $(tail -n 1 "$OUT/recv$tag")"
}

xfer "$NSA" "netmap:$VA" "$NSB" "netmap:$VB" ab
xfer "$NSB" "netmap:$VB" "$NSA" "netmap:$VA" ba
xfer "$NSA" "netmap:$VA-1" "$NSB" "netmap:$VB-1" ring1
xfer "$NSA" "netmap:$VA" "$NSB" "netmap:$VB" frag frag
echo "nic_xfer: byte-exact both ways, all rings and one ring"
