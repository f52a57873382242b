#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: bad requests on NIC ports fail with netmap's errno and a
# message naming what is wrong, and leave nothing behind:
#   missing interface -> ENXIO "netmap: IF: no such interface"
#   ring index beyond the queues (-5 on 2 queues) -> EINVAL naming the ring
#   interface down -> ENETDOWN (documented choice: no silent ifup)
#   host rings IF^ / IF* -> ok; IF^1 (one host ring only) -> EINVAL naming it
#   NR_EXCLUSIVE conflict in one process -> EBUSY; two fds on two rings -> ok
#   a second process on the same interface -> EBUSY naming it
#   another XDP program already attached -> EBUSY naming the interface
#   garbage in the rings (head, cur, tail, buf_idx, len) -> no crash, then exact traffic
# and REGISTER / PORT_INFO_GET report the queues as rings (2 + 2, 2048 slots by default).
source "$(dirname "$0")/nic_lib.bash"

expect() {
	local want=$1 port=$2 msg=$3 out
	out=$(ina "$PEER" open "$port" 2>&1)
	echo "$port: $(echo "$out" | tr '\n' ' ')"
	echo "$out" | tail -n 1 | grep -q "^$want" || fail "$port: want $want, got: $out"
	[ -z "$msg" ] || echo "$out" | grep -qF "$msg" || fail "$port: message should say '$msg': $out"
}

expect ENXIO "netmap:nosuch$T" "netmap: nosuch$T: no such interface"
expect EINVAL "netmap:$VA-5" "ring 5 out of range (port has 2)"
expect ok "netmap:$VA^" ""
expect ok "netmap:$VA*" ""
expect EINVAL "netmap:$VA^1" "host TX ring 1 out of range (port has 1)"
expect ok "netmap:$VA-1" ""
out=$(ina "$PEER" open "netmap:$VA" 2>&1)
[ "$out" = "ok 2 2" ] || fail "REGISTER on a 2-queue veth: want 2 TX / 2 RX rings, got: $out"

# PORT_INFO_GET: the NIC's geometry, before and while the port is open
out=$(ina "$PEER" info "$VA" 2>&1)
[ "$out" = "2 2 2048 2048 0 0" ] || fail "PORT_INFO_GET $VA (closed): $out"
out=$(ina "$PEER" info "nosuch$T" 2>&1)
echo "$out" | tail -n 1 | grep -q '^ENXIO' || fail "PORT_INFO_GET of a missing interface: $out"

out=$(ina "$PEER" open "netmap:$VA/x" "netmap:$VA" 2>&1)
echo "$out" | tail -n 1 | grep -q '^EBUSY' || fail "second open after an exclusive one: $out"
echo "$out" | grep -q "bound exclusively" || fail "exclusive: message: $out"
out=$(ina "$PEER" open "netmap:$VA-0" "netmap:$VA-1" 2>&1)
echo "$out" | tail -n 1 | grep -q '^ok' || fail "two fds, one ring each: $out"

ip netns exec "$NSA" "$PEER" hold "netmap:$VA" >"$OUT/hold" 2>&1 &
holder=$!
for i in $(seq 1 100); do grep -q ready "$OUT/hold" && break; sleep 0.05; done
grep -q ready "$OUT/hold" || fail "hold did not open"
out=$(ina "$PEER" info "netmap:$VA" 2>&1)
[ "$out" = "2 2 2048 2048 0 0" ] || fail "PORT_INFO_GET $VA (open): $out"
# veth has no zero-copy AF_XDP: PORT_INFO_GET says copy mode (unetmap's pad[0])
out=$(NIC_PEER_MODE=1 ina "$PEER" info "netmap:$VA" 2>&1 | tail -n 1)
[ "$out" = "mode copy" ] || fail "PORT_INFO_GET $VA (open): $out"
out=$(ina "$PEER" open "netmap:$VA" 2>&1)
echo "second process: $(echo "$out" | tr '\n' ' ')"
echo "$out" | tail -n 1 | grep -q '^EBUSY' || fail "second process: want EBUSY: $out"
echo "$out" | grep -q "$VA: NIC port already open in process" || fail "second process: message: $out"
kill -9 $holder; wait $holder 2>/dev/null

# another XDP program on the interface (attached by hand): EBUSY, said so
ip -n "$NSA" link set dev "$VA" xdpgeneric obj "$BUILD/gen/xsk_redirect.bpf.o" sec xdp.frags ||
	fail "attach an XDP program by hand"
expect EBUSY "netmap:$VA" "$VA: cannot attach the XDP program: another XDP program is attached"
ip -n "$NSA" link set dev "$VA" xdpgeneric off

ip -n "$NSA" link set "$VA" down
expect ENETDOWN "netmap:$VA" "$VA: interface is down"
ip -n "$NSA" link set "$VA" up
no_leftovers "$NSA" "$VA" || fail "$VA: something left behind"

# a program scribbling on its NIC rings breaks only itself: then traffic is exact
out=$(ina timeout 20 "$PEER" fuzz "netmap:$VA" 3000 2>&1) || fail "fuzz: $out"
echo "$out" | tail -n 1
ip netns exec "$NSB" timeout 20 "$PEER" recv "netmap:$VB" 500 10 >"$OUT/recv" 2>&1 &
pid=$!
for i in $(seq 1 100); do grep -q ready "$OUT/recv" && break; sleep 0.05; done
ina timeout 20 "$PEER" send "netmap:$VA" 500 10 >/dev/null 2>&1 || fail "send after fuzzing"
wait $pid || fail "recv after fuzzing: $(tail -n 1 "$OUT/recv")"
no_leftovers "$NSA" "$VA" || fail "$VA: something left behind after fuzzing"
echo "nic_bad: every bad request refused with its errno and a message"
