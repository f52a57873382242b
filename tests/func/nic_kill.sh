#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: SIGKILL of both pkt-gens in the middle of NIC traffic leaves
# nothing behind: no XDP program on either interface (`ip -d link` shows no
# xdp / prog/xdp), promiscuity back to 0, no shared-memory object of this
# test's world; and the interfaces can be opened again and carry traffic.
#
#     pkt-gen tx netmap:A ==veth==> pkt-gen rx netmap:B    then kill -9 both
source "$(dirname "$0")/nic_lib.bash"

ip netns exec "$NSB" "$PKTGEN" -i "netmap:$VB" -f rx -w 0 >"$OUT/rx" 2>&1 &
rx=$!
ip netns exec "$NSA" "$PKTGEN" -i "netmap:$VA" -f tx -w 0 >"$OUT/tx" 2>&1 &
tx=$!
for i in $(seq 1 100); do
	grep -qE '[1-9][0-9.]* [KM]?pps' "$OUT/rx" && break
	sleep 0.05
done
grep -qE '[1-9][0-9.]* [KM]?pps' "$OUT/rx" || fail "no traffic before the kill"
ip -n "$NSA" -d link show "$VA" | grep -q xdp || fail "$VA: no XDP while open"
is_promisc "$NSB" "$VB" || fail "$VB: not promiscuous while open"
kill -9 $tx $rx
wait $tx $rx 2>/dev/null
no_leftovers "$NSA" "$VA" || fail "$VA: left behind after SIGKILL"
no_leftovers "$NSB" "$VB" || fail "$VB: left behind after SIGKILL"
echo "after SIGKILL: no xdp, promiscuity 0, no /dev/shm/$UNM_SHM_PREFIX.*"

# the interfaces work again
ip netns exec "$NSB" timeout 20 "$PEER" recv "netmap:$VB" 500 10 >"$OUT/recv" 2>&1 &
pid=$!
for i in $(seq 1 100); do grep -q ready "$OUT/recv" && break; sleep 0.05; done
ina timeout 20 "$PEER" send "netmap:$VA" 500 10 >/dev/null 2>&1 || fail "send after the kill"
wait $pid || fail "recv after the kill: $(tail -n 1 "$OUT/recv")"
echo "reopened: $(tail -n 1 "$OUT/recv")"
no_leftovers "$NSA" "$VA" || fail "$VA: left behind after the reopen"
