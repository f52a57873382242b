#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: several processes drive one NIC, one process per queue, as
# with netmap (`pkt-gen -i netmap:eth0-0` beside `-i netmap:eth0-1`).
#
#   process tx0: netmap:A-0 --.                .--> netmap:B-0 :process rx0
#                              >==veth (2 q)==<
#   process tx1: netmap:A-1 --'                '--> netmap:B-1 :process rx1
#
#   1. two receivers and two senders, four processes, one queue each: every
#      frame arrives exactly once on its queue; each process has a socket for
#      its own queue only (the log line names the queues)
#   2. the same queue in a second process -> EBUSY naming interface and queue
#   3. SIGKILL of the process that attached the XDP program while another
#      one runs: the program stays (the other holds the link by id), and the
#      other keeps receiving
#   4. the queue of a killed process is taken over by a new one (its ring
#      state is the dead one's), while a third holds the port open
#   5. one process, two fds on two queues: the second bind adds its socket
#   6. one process, two NICs in one region: one UMEM (registered once)
#   7. SIGKILL of all: no XDP, no promiscuity, no shared memory left
source "$(dirname "$0")/nic_lib.bash"

N=1000
wait_ready() {
	local i
	for i in $(seq 1 200); do grep -q ready "$1" && return 0; sleep 0.05; done
	return 1
}
# a receiver in the background on $1 (in $NSB), output to $OUT/$2; pid in $bg
recv_bg() {
	UNM_VERBOSE=2 ip netns exec "$NSB" "$PEER" recv "$1" "$3" 20 >"$OUT/$2" 2>&1 &
	bg=$!
	wait_ready "$OUT/$2" || fail "$2: $1 did not open"
}
hold_bg() {
	ip netns exec "$NSB" "$PEER" hold "$1" >"$OUT/$2" 2>&1 &
	bg=$!
	wait_ready "$OUT/$2" || fail "$2: $1 did not open"
}
has_xdp() { ip -n "$NSB" -d link show "$VB" | grep -qE 'xdp|prog/xdp'; }

# 1. four processes, one queue each
recv_bg "netmap:$VB-0" rx0 $N; rx0=$bg
recv_bg "netmap:$VB-1" rx1 $N; rx1=$bg
grep -q "socket(s) on queue 0," "$OUT/rx0" || fail "rx0: want a socket on queue 0 only"
grep -q "socket(s) on queue 1," "$OUT/rx1" || fail "rx1: want a socket on queue 1 only"
ip netns exec "$NSA" timeout 30 "$PEER" send "netmap:$VA-0" $N 3 >"$OUT/tx0" 2>&1 &
tx0=$!
ip netns exec "$NSA" timeout 30 "$PEER" send "netmap:$VA-1" $N 3 >"$OUT/tx1" 2>&1 &
tx1=$!
wait $tx0 || fail "sender on $VA-0: $(tail -n 1 "$OUT/tx0")"
wait $tx1 || fail "sender on $VA-1: $(tail -n 1 "$OUT/tx1")"
wait $rx0 || fail "receiver on $VB-0: $(tail -n 1 "$OUT/rx0")"
wait $rx1 || fail "receiver on $VB-1: $(tail -n 1 "$OUT/rx1")"
echo "1. two processes per NIC: queue 0 $(tail -n 1 "$OUT/rx0"), queue 1 $(tail -n 1 "$OUT/rx1")"

# 2. the same queue twice: EBUSY naming the interface and the queue
hold_bg "netmap:$VB-0" hold0; h0=$bg
out=$(inb "$PEER" open "netmap:$VB-0" 2>&1)
echo "$out" | tail -n 1 | grep -q '^EBUSY' || fail "same queue in a second process: want EBUSY: $out"
echo "$out" | grep -q "$VB: NIC port already open in process $h0 on queue 0" ||
	fail "same queue: message: $out"
out=$(inb "$PEER" open "netmap:$VB" 2>&1)
echo "$out" | tail -n 1 | grep -q '^EBUSY' || fail "all queues while queue 0 is held: want EBUSY: $out"
echo "2. same queue: $(echo "$out" | grep -m1 'already open')"

# 3. SIGKILL of the first (it attached the program) while the second runs
recv_bg "netmap:$VB-1" rx1b $N; rx1b=$bg
grep -q "XDP native (shared)\|XDP generic (shared)" "$OUT/rx1b" ||
	fail "second process: want the XDP program shared: $(cat "$OUT/rx1b")"
kill -9 $h0; wait $h0 2>/dev/null
has_xdp || fail "XDP program gone with the first process while the second runs"
ina timeout 30 "$PEER" send "netmap:$VA-1" $N 3 >"$OUT/tx1b" 2>&1 || fail "send on $VA-1"
wait $rx1b || fail "second process after SIGKILL of the first: $(tail -n 1 "$OUT/rx1b")"
echo "3. after SIGKILL of the first: $(tail -n 1 "$OUT/rx1b")"

# 4. a killed process's queue (with traffic behind it) taken over
hold_bg "netmap:$VB-1" hold1; h1=$bg
recv_bg "netmap:$VB-0" rx0k $((N + 700)); rx0k=$bg
ina timeout 30 "$PEER" send "netmap:$VA-0" 700 2 >/dev/null 2>&1 || fail "send on $VA-0"
kill -9 $rx0k; wait $rx0k 2>/dev/null
recv_bg "netmap:$VB-0" rx0t $N; rx0t=$bg
ina timeout 30 "$PEER" send "netmap:$VA-0" $N 3 >/dev/null 2>&1 || fail "send on $VA-0"
wait $rx0t || fail "queue 0 taken over: $(tail -n 1 "$OUT/rx0t")"
echo "4. queue 0 taken over from a killed process: $(tail -n 1 "$OUT/rx0t")"
kill -9 $h1; wait $h1 2>/dev/null

# 5. two fds, two queues, one process: the second bind adds its socket
out=$(UNM_VERBOSE=2 inb "$PEER" open "netmap:$VB-0" "netmap:$VB-1" 2>&1)
echo "$out" | tail -n 1 | grep -q '^ok' || fail "two fds on two queues: $out"
echo "$out" | grep -q "socket(s) on queue 0," && echo "$out" | grep -q "socket(s) on queue 1," ||
	fail "two fds: want one socket per bind: $out"

# 6. two NICs of one region in one process: the UMEM is registered once
VC=unmC$T VD=unmD$T
ip -n "$NSB" link add "$VC" type veth peer name "$VD" || fail "second veth pair"
ip -n "$NSB" link set "$VC" up && ip -n "$NSB" link set "$VD" up || fail "second veth up"
out=$(UNM_VERBOSE=3 inb "$PEER" open "netmap:$VC" "netmap:$VD" 2>&1)
echo "$out" | tail -n 1 | grep -q '^ok' || fail "two NICs in one process: $out"
n=$(echo "$out" | grep -c "AF_XDP UMEM over the buffer pool")
[ "$n" = 1 ] || fail "two NICs in one region: want one UMEM, got $n: $out"
echo "6. two NICs, one region: $(echo "$out" | grep "AF_XDP UMEM over")"

# 7. SIGKILL of every process: nothing left
hold_bg "netmap:$VB-0" hold0; k0=$bg
hold_bg "netmap:$VB-1" hold1; k1=$bg
has_xdp || fail "no XDP while open"
kill -9 $k0 $k1; wait $k0 $k1 2>/dev/null
no_leftovers "$NSB" "$VB" || fail "$VB: left behind after SIGKILL of both"
no_leftovers "$NSA" "$VA" || fail "$VA: left behind"
echo "7. after SIGKILL of both: no xdp, promiscuity 0, no /dev/shm/$UNM_SHM_PREFIX.*"
