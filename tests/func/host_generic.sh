#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: host rings next to a NIC port whose traffic is taken
# before the stack's own ingress hooks, so that what the host TX ring
# injects into A's receive path could be taken back into the NIC RX ring:
#  1. emulated (generic) mode (UNM_ADMODE=generic: AF_PACKET, afpacket.c):
#     its tcx ingress drop keeps A's stack off A's traffic and must let the
#     injected frames through (else B -> A dies at A's stack); its RX packet
#     sockets run before that and must not take them (else they loop: host
#     TX -> NIC RX ring -> bridge -> NIC TX -> B, duplicated, forever);
#  2. AF_XDP over generic (skb) XDP: a macvlan M on A has no native XDP, so
#     the XDP program runs in A's receive path, where the injected frames
#     pass too (this kernel runs generic XDP on bpf_redirect()ed skbs; the
#     helper injects with act_mirred, whose skbs generic XDP lets pass).
# Checks, each case: ping both ways without duplicates, TCP both ways, the
# bridge's NIC -> host count no more than what B sent, nothing left after.
#
#   namespace $NSA                                       namespace $NSB
#   stack --tx--> [tcx egress A] -> host RX ring -> bridge -> A NIC TX ==veth==> B
#   stack <- [unm_stack_off passes marked] <- host TX <- bridge <- A NIC RX <== B
export UNM_ADMODE=generic
source "$(dirname "$0")/nic_lib.bash"
BRIDGE=$BUILD/tools/bridge
[ -x "$BRIDGE" ] || fail "build first: $BRIDGE"
command -v ping >/dev/null || skip "no ping"
command -v python3 >/dev/null || fail "no python3 (TCP endpoints): mk/deps.sh test"
ip -n "$NSA" addr add 10.77.0.1/24 dev "$VA" && ip -n "$NSB" addr add 10.77.0.2/24 dev "$VB" ||
	fail "addresses"
# B checksums its frames itself: a veth hands CHECKSUM_PARTIAL frames to a
# packet socket unfinished (TP_STATUS_CSUMNOTREADY), a real wire does not
command -v ethtool >/dev/null || skip "no ethtool"
inb ethtool -K "$VB" tx off >/dev/null 2>&1 || fail "ethtool -K $VB tx off"

# TCP: $1 namespace of the server, $2 address, $3 port, $4 bytes
tcp_pair() {
	local other=$NSA
	[ "$1" = "$NSA" ] && other=$NSB
	tcp_xfer "$1" "$2" "$3" "$other" "$4"
}

# $1 the port's interface, $2 what its log line must say, $3 env for the bridge
through_bridge() {
	local dev=$1 want=$2 br txB0 txB sentB n2h
	env $3 UNM_VERBOSE=2 ip netns exec "$NSA" "$BRIDGE" -w 0 -i "netmap:$dev" >"$OUT/bridge" 2>&1 &
	br=$!
	for i in $(seq 1 100); do grep -q "ready to go" "$OUT/bridge" && break; sleep 0.05; done
	grep -q "ready to go" "$OUT/bridge" || fail "bridge did not start"
	grep -q "$want" "$OUT/bridge" || { kill -INT $br; wait $br; return 77; }
	txB0=$(ip -n "$NSB" -s -j link show "$VB" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])')
	inb ping -c 5 -i 0.2 -W 2 10.77.0.1 >"$OUT/pingB" 2>&1 || fail "$dev: ping B -> A through the bridge (host TX frames dropped?)"
	ina ping -c 5 -i 0.2 -W 2 10.77.0.2 >"$OUT/pingA" 2>&1 || fail "$dev: ping A -> B through the bridge"
	grep -q DUP "$OUT/pingA" "$OUT/pingB" && fail "$dev: duplicate replies: injected frames loop"
	tcp_pair "$NSA" 10.77.0.1 5011 2000000 || fail "$dev: TCP B -> A: $(cat "$OUT/cli.5011")"
	tcp_pair "$NSB" 10.77.0.2 5012 2000000 || fail "$dev: TCP A -> B: $(cat "$OUT/cli.5012")"
	echo "$dev: ping both ways, TCP B -> A $(cat "$OUT/cli.5011"), A -> B $(cat "$OUT/cli.5012")"
	kill -INT $br
	wait $br
	txB=$(ip -n "$NSB" -s -j link show "$VB" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])')
	sentB=$((txB - txB0))
	n2h=$(grep "netmap:$dev -> netmap:$dev^:" "$OUT/bridge" | grep -oE '[0-9]+ packets' | cut -d' ' -f1)
	echo "$dev: B sent $sentB frames; bridge NIC -> host: $n2h"
	[ -n "$n2h" ] && [ "$n2h" -gt 0 ] && [ "$n2h" -le "$sentB" ] ||
		fail "$dev: NIC RX took more frames ($n2h) than B sent ($sentB): injected frames come back"
	ip -n "$NSA" -o link show | grep unmh && fail "$dev: helper interface left"
	no_leftovers "$NSA" "$dev" || fail "$dev: left behind"
	return 0
}

# 1. emulated mode
through_bridge "$VA" "kept off (tcx ingress drop)" "" ||
	skip "emulated mode without tcx: the stack-off drop is not there to test"
grep -q "emulated (generic) mode" "$OUT/bridge" || fail "the NIC port is not in emulated mode"

# 2. AF_XDP over generic XDP, on a macvlan of A (no native XDP)
MA=unmM$T
if ip -n "$NSA" link add link "$VA" name "$MA" type macvlan mode bridge 2>/dev/null; then
	ip -n "$NSA" addr del 10.77.0.1/24 dev "$VA" && ip -n "$NSA" addr add 10.77.0.1/24 dev "$MA" &&
		ip -n "$NSA" link set "$MA" up || fail "macvlan $MA"
	ip -n "$NSB" neigh flush dev "$VB"
	through_bridge "$MA" "XDP generic" "-u UNM_ADMODE"
	case $? in
	0) ;;
	77) echo "note: $MA: no AF_XDP over generic XDP here: $(grep AF_XDP "$OUT/bridge")" ;;
	esac
else
	echo "note: no macvlan: the generic XDP case is not tested"
fi
echo "host rings next to emulated mode and generic XDP: no loop, no loss, nothing left"
