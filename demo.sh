#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The main demo. Builds unetmap, then runs unmodified-style netmap programs
# on stock Linux, no kernel module:
#
#  1. NICs over AF_XDP, three network namespaces joined by two veth pairs:
#
#     [ns A] pkt-gen -f tx netmap:vA ==veth==> netmap:vB0 [ns B: bridge] netmap:vB1 ==veth==> netmap:vC [ns C] pkt-gen -f rx
#
#  2. A netmap pipe between two processes: pkt-gen TX on x{0, pkt-gen RX on x}0.
#
# Prints what each program did, then removes everything it made (namespaces,
# veths; the programs' XDP programs, promiscuous mode and shared memory go
# with them). As root on a fresh Debian 12 it installs the packages it needs.
#   ./demo.sh [seconds]
set -eu
cd "$(dirname "$0")"
secs=${1:-3}
mk/deps.sh test
make -s -j"$(nproc)" lib tools
pg=build/tools/pkt-gen br=build/tools/bridge
tag=$$
# A world of its own, so the leftover check sees only what the demo made.
export UNM_SHM_PREFIX=unetmap-demo$tag
out=$(mktemp -d)
nsa=unmdemoA$tag nsb=unmdemoB$tag nsc=unmdemoC$tag
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in "$nsa" "$nsb" "$nsc"; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$out"
}
trap cleanup EXIT
show() { sed -n "$2" "$1" | sed 's/^/   /'; }
count() { sed -n "s/^$2 \([0-9]*\) packets.*/\1/p" "$1"; }
ok=1

if [ "$(id -u)" -eq 0 ] && ip netns add "$nsa" 2>/dev/null; then
	ip netns add "$nsb"; ip netns add "$nsc"
	ip link add vA netns "$nsa" type veth peer name vB0 netns "$nsb"
	ip link add vB1 netns "$nsb" type veth peer name vC netns "$nsc"
	for x in "$nsa vA" "$nsb vB0" "$nsb vB1" "$nsc vC"; do
		set -- $x
		# no IPv6 chatter from the stacks: the counts below are pkt-gen's alone
		ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" 2>/dev/null || true
		ip -n "$1" link set "$2" up
	done
	echo "== 1. pkt-gen TX [ns A] --veth--> bridge [ns B] --veth--> pkt-gen RX [ns C], ${secs}s"
	ip netns exec "$nsc" "$pg" -i netmap:vC -f rx -w 1 >"$out/rx" 2>&1 & pids+=($!)
	ip netns exec "$nsb" "$br" -i netmap:vB0 -i netmap:vB1 -w 1 >"$out/br" 2>&1 & pids+=($!)
	sleep 2
	# paced, so that a 2-CPU machine with three busy programs loses nothing
	ip netns exec "$nsa" timeout -s INT "$secs" "$pg" -i netmap:vA -f tx -w 1 -R 300000 \
		>"$out/tx" 2>&1 || true
	sleep 1.5
	kill -INT "${pids[0]}" "${pids[1]}" 2>/dev/null || true
	wait "${pids[0]}" "${pids[1]}" 2>/dev/null || true
	echo "-- pkt-gen -f tx on netmap:vA:"; show "$out/tx" '/^Sent\|^Speed/p'
	echo "-- bridge netmap:vB0 <-> netmap:vB1:"; show "$out/br" '/->/p'
	echo "-- pkt-gen -f rx on netmap:vC:"; show "$out/rx" '/^Received\|^Speed/p'
	s=$(count "$out/tx" Sent) r=$(count "$out/rx" Received)
	echo "== sent ${s:-?}, received ${r:-?} through the bridge"
	# paced and lossless in the ports themselves; allow a little for a busy machine
	[ -n "$s" ] && [ -n "$r" ] && [ "$r" -ge $((s * 9 / 10)) ] || ok=0
	for x in "$nsa vA" "$nsb vB0" "$nsb vB1" "$nsc vC"; do
		set -- $x
		if ip -n "$1" -d link show "$2" | grep -q -e xdp -e PROMISC; then
			echo "!! $2 still has XDP or promiscuous mode"; ok=0
		fi
	done
	echo "== after exit: no XDP program, no promiscuous mode on any veth"
else
	echo "== 1. skipped: NIC ports need root and network namespaces"
fi

echo "== 2. pkt-gen TX on netmap:demo$tag{0 --pipe--> pkt-gen RX on netmap:demo$tag}0, ${secs}s"
pin_rx=() pin_tx=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	pin_rx=(taskset -c 1) pin_tx=(taskset -c 0)
fi
"${pin_rx[@]}" "$pg" -i "netmap:demo$tag}0" -f rx -W >"$out/prx" 2>&1 & pids+=($!)
sleep 0.3
"${pin_tx[@]}" timeout -s INT "$secs" "$pg" -i "netmap:demo$tag{0" -f tx -l 60 >"$out/ptx" 2>&1 || true
wait "${pids[-1]}" 2>/dev/null || true
echo "-- sender:"; show "$out/ptx" '/^Sent\|^Speed/p'
echo "-- receiver:"; show "$out/prx" '/^Received\|^Speed/p'
s=$(count "$out/ptx" Sent) r=$(count "$out/prx" Received)
echo "== sent ${s:-?} packets, received ${r:-?}: a pipe is lossless, so these match"
[ -n "$s" ] && [ "$s" = "$r" ] || ok=0

sleep 0.5
left=$(ls /dev/shm 2>/dev/null | grep -c "^$UNM_SHM_PREFIX\\." || true)
echo "== shared-memory objects left behind: $left"
[ "$left" -eq 0 ] || ok=0
[ "$ok" -eq 1 ]
