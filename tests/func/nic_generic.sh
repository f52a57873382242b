#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: NIC ports in emulated (generic) mode over AF_PACKET, as
# netmap's admode asks (UNM_ADMODE=generic, or @admode=generic), and as the
# fallback when AF_XDP cannot serve the port (buffers too small for a UMEM):
#  - the log line says "emulated (generic) mode" (and the fallback says why);
#  - frames of 60..1514 bytes cross byte-exact both ways, and NS_MOREFRAG
#    frames leave whole; pkt-gen tx -> pkt-gen rx counts match exactly;
#  - while open: promiscuous, no XDP, the host stack does not see the
#    traffic (a UDP datagram to the interface's address is not delivered);
#  - after exit and after SIGKILL: no promiscuity, no tcx program, no shm;
#  - bad input: missing interface ENXIO naming it, a bad UNM_ADMODE or
#    @admode EINVAL naming it, admode native with buffers too small EINVAL
#    (no fallback when native only is asked).
#
#     nic_peer/pkt-gen netmap:A ==veth (2 queues)==> nic_peer/pkt-gen netmap:B
export UNM_ADMODE=generic
source "$(dirname "$0")/nic_lib.bash"

# our ingress-drop program, by name (freed asynchronously after the link goes)
stack_off_loaded() { bpftool prog list 2>/dev/null | grep -q "name unm_stack_off"; }
no_stack_off() {
	local i
	for i in $(seq 1 50); do
		stack_off_loaded || return 0
		sleep 0.1
	done
	return 1
}

# --- the log says so
UNM_VERBOSE=2 ina "$PEER" open "netmap:$VA" >"$OUT/log" 2>&1
grep -q "$VA: emulated (generic) mode over AF_PACKET, 2 TX / 2 RX queues" "$OUT/log" ||
	fail "want the emulated-mode log line for $VA"
grep -q "^ok 2 2" "$OUT/log" || fail "$VA: want 2 TX / 2 RX rings"
echo "$(grep -o "$VA: emulated.*" "$OUT/log")"

# --- PORT_INFO_GET of the open port says emulated (unetmap's pad[0])
ip netns exec "$NSA" "$PEER" hold "netmap:$VA" >"$OUT/hold" 2>&1 &
holder=$!
for i in $(seq 1 100); do grep -q ready "$OUT/hold" && break; sleep 0.05; done
out=$(NIC_PEER_MODE=1 ina "$PEER" info "netmap:$VA" 2>&1 | tail -n 1)
[ "$out" = "mode emulated" ] || fail "PORT_INFO_GET $VA (open, generic): $out"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

# --- byte-exact both ways, and multi-slot frames
N=3000
XFER_ENV=UNM_VERBOSE=2
peer_xfer "$NSA" "netmap:$VA" "$NSB" "netmap:$VB" ab
peer_xfer "$NSB" "netmap:$VB" "$NSA" "netmap:$VA" ba
peer_xfer "$NSA" "netmap:$VA" "$NSB" "netmap:$VB" frag frag
XFER_ENV=

# --- pkt-gen counts; while open: promiscuous, no XDP, the stack sees nothing
# udp_probe: a datagram from A's stack to B's; prints "got" or "none" (no
# ping here: python3 sockets; the neighbour entry is static, no ARP needed)
ip -n "$NSA" addr add 10.201.0.1/24 dev "$VA" && ip -n "$NSB" addr add 10.201.0.2/24 dev "$VB" ||
	fail "addresses on the veth"
ip -n "$NSA" neigh replace 10.201.0.2 lladdr "$(ip -n "$NSB" -br link show "$VB" | awk '{print $3}')" \
	dev "$VA" nud permanent || fail "static neighbour on $VA"
# udp_probe [SECS]: "got" if a datagram from A reaches B's stack within SECS
# (default 4), else "none"; the sender keeps sending until the receiver is
# done (a slow start under load)
udp_probe() {
	local p sp i secs=${1:-4}
	ip netns exec "$NSB" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.201.0.2", 4791))
s.settimeout(float(sys.argv[1]))
print("ready", flush=True)
try:
    s.recvfrom(100)
    print("got")
except socket.timeout:
    print("none")' "$secs" >"$OUT/udp" 2>&1 &
	p=$!
	for i in $(seq 1 400); do grep -q ready "$OUT/udp" && break; sleep 0.05; done
	ip netns exec "$NSA" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[1]) * 10 + 20):
    s.sendto(b"unm", ("10.201.0.2", 4791))
    time.sleep(0.1)' "$secs" 2>/dev/null &
	sp=$!
	wait $p
	kill $sp 2>/dev/null
	wait $sp 2>/dev/null
	tail -n 1 "$OUT/udp"
}
have_py=0
if command -v python3 >/dev/null; then
	have_py=1
	[ "$(udp_probe 15)" = got ] || fail "the host stack gets nothing before the port is open"
fi
PN=20000
ip netns exec "$NSB" timeout 25 "$PKTGEN" -i "netmap:$VB" -f rx -n $PN -w 0 -C 4096,4096 \
	>"$OUT/rx" 2>&1 &
rx=$!
for i in $(seq 1 50); do
	is_promisc "$NSB" "$VB" && break
	sleep 0.1
done
is_promisc "$NSB" "$VB" || fail "$VB: not promiscuous while open"
ip -n "$NSB" -d link show "$VB" | grep -q xdp && fail "$VB: an XDP program in emulated mode"
stack_off=0
if stack_off_loaded && [ $have_py = 1 ]; then
	stack_off=1
	[ "$(udp_probe)" = none ] || fail "$VB: the host stack got a datagram while the port is open"
	echo "while open: promiscuous, no XDP, the host stack gets nothing"
else
	echo "no tcx or no python3 here: host stack isolation not checked"
fi
ina timeout 25 "$PKTGEN" -i "netmap:$VA" -f tx -n $PN -w 0 -R 25000 >"$OUT/tx" 2>&1 ||
	fail "pkt-gen tx on netmap:$VA"
wait $rx || fail "pkt-gen rx on netmap:$VB did not get $PN packets"
grep -q "^Sent $PN packets" "$OUT/tx" || fail "$VA: sender count"
grep -q "^Received $PN packets" "$OUT/rx" || fail "$VB: receiver count"
echo "pkt-gen netmap:$VA -> netmap:$VB: $(grep '^Received' "$OUT/rx")"
no_leftovers "$NSB" "$VB" || fail "$VB: PROMISC or shared memory left after exit"
no_leftovers "$NSA" "$VA" || fail "$VA: PROMISC or shared memory left after exit"
no_stack_off || fail "the ingress drop program is still loaded after exit"
[ $have_py = 0 ] || [ "$(udp_probe 15)" = got ] || fail "the host stack gets nothing after close"

# --- SIGKILL in the middle of traffic leaves nothing
ip netns exec "$NSB" "$PKTGEN" -i "netmap:$VB" -f rx -w 0 >"$OUT/krx" 2>&1 &
krx=$!
ip netns exec "$NSA" "$PKTGEN" -i "netmap:$VA" -f tx -w 0 -R 100000 >"$OUT/ktx" 2>&1 &
ktx=$!
for i in $(seq 1 100); do
	grep -qE '[1-9][0-9.]* [KM]?pps' "$OUT/krx" && break
	sleep 0.05
done
grep -qE '[1-9][0-9.]* [KM]?pps' "$OUT/krx" || fail "no traffic before the kill"
kill -9 $ktx $krx
wait $ktx $krx 2>/dev/null
no_leftovers "$NSA" "$VA" || fail "$VA: left behind after SIGKILL"
no_leftovers "$NSB" "$VB" || fail "$VB: left behind after SIGKILL"
no_stack_off || fail "the ingress drop program is still loaded after SIGKILL"
echo "after SIGKILL: promiscuity 0, no tcx program, no /dev/shm/$UNM_SHM_PREFIX.*"

# --- the fallback: AF_XDP cannot use 1024-byte buffers, best effort emulates
unset UNM_ADMODE
UNM_VERBOSE=2 ina "$PEER" open "netmap:$VA@conf:buf-size=1024" >"$OUT/fb" 2>&1
grep -q "^ok" "$OUT/fb" || fail "auto mode, small buffers: $(cat "$OUT/fb")"
grep -q "$VA: native mode (AF_XDP) failed.*falling back to emulated" "$OUT/fb" ||
	fail "the fallback is not reported: $(cat "$OUT/fb")"
grep -q "$VA: emulated (generic) mode" "$OUT/fb" || fail "fallback: no emulated-mode line"
echo "fallback: $(grep -o "$VA: native mode.*" "$OUT/fb")"
# the option wins over the environment
UNM_ADMODE=native UNM_VERBOSE=2 ina "$PEER" open "netmap:$VA@admode=generic" >"$OUT/opt" 2>&1
grep -q "$VA: emulated (generic) mode" "$OUT/opt" || fail "@admode=generic: $(cat "$OUT/opt")"

# --- bad input
out=$(UNM_ADMODE=native ina "$PEER" open "netmap:$VA@conf:buf-size=1024" 2>&1)
case $out in
*EINVAL*) ;;
*) fail "admode native, small buffers: want EINVAL, got: $out" ;;
esac
echo "$out" | grep -q "falling back" && fail "admode native fell back: $out"
out=$(UNM_ADMODE=generic ina "$PEER" open "netmap:nosuch$T" 2>&1)
case $out in
*"nosuch$T: no such interface"*ENXIO*) ;;
*) fail "missing interface: want ENXIO naming it, got: $out" ;;
esac
out=$(UNM_ADMODE=bogus ina "$PEER" open "netmap:$VA" 2>&1)
case $out in
*"invalid UNM_ADMODE 'bogus'"*EINVAL*) ;;
*) fail "UNM_ADMODE=bogus: want EINVAL naming it, got: $out" ;;
esac
out=$(ina "$PEER" open "netmap:$VA@admode=bogus" 2>&1)
case $out in
*"admode"*"bogus"*EINVAL*) ;;
*) fail "@admode=bogus: want EINVAL naming it, got: $out" ;;
esac
ip -n "$NSA" link set "$VA" down
out=$(UNM_ADMODE=generic ina "$PEER" open "netmap:$VA" 2>&1)
case $out in
*ENETDOWN*) ;;
*) fail "interface down: want ENETDOWN, got: $out" ;;
esac
echo "bad input: ENXIO, EINVAL (UNM_ADMODE, @admode, native only), ENETDOWN"
[ $stack_off = 1 ] || echo "note: host stack isolation not checked (no tcx)"
echo "nic_generic: emulated mode byte-exact, counts exact, fallback reported, nothing left behind"
