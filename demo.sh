#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The main demo: builds unetmap, then runs two unmodified-style netmap
# programs in two processes joined by a netmap pipe (no NIC, no kernel
# module): pkt-gen TX on the master end, pkt-gen RX on the slave end, for a
# few seconds, and prints what each did. As root on a fresh Debian 12 it
# installs the packages it needs first. Leaves nothing behind.
#   ./demo.sh [seconds]
set -eu
cd "$(dirname "$0")"
secs=${1:-3}
mk/deps.sh build
make -s -j"$(nproc)" lib tools
pg=build/tools/pkt-gen
port=demo$$
# A world of its own, so the leftover check below sees only what the demo made.
export UNM_SHM_PREFIX=unetmap-demo$$
rxlog=$(mktemp) txlog=$(mktemp)
cleanup() {
	kill "${rx:-}" "${tx:-}" 2>/dev/null || true
	rm -f "$rxlog" "$txlog"
}
trap cleanup EXIT

echo "== pkt-gen RX on netmap:$port}0   <-- pipe --   pkt-gen TX on netmap:$port{0 (${secs}s, 60-byte frames)"
cpus=$(nproc)
pin_rx=() pin_tx=()
if [ "$cpus" -ge 2 ] && command -v taskset >/dev/null; then
	pin_rx=(taskset -c 1) pin_tx=(taskset -c 0)
fi
"${pin_rx[@]}" "$pg" -i "netmap:$port}0" -f rx -W >"$rxlog" 2>&1 &
rx=$!
sleep 0.3
"${pin_tx[@]}" timeout -s INT "$secs" "$pg" -i "netmap:$port{0" -f tx -l 60 >"$txlog" 2>&1 || true
sleep 0.5
kill -INT "$rx" 2>/dev/null || true
wait "$rx" 2>/dev/null || true
echo "-- sender (pkt-gen -f tx):"
grep -E 'Sent|Speed' "$txlog" | sed 's/^/   /'
echo "-- receiver (pkt-gen -f rx):"
grep -E 'Received|Speed' "$rxlog" | sed 's/^/   /'
sent=$(sed -n 's/^Sent \([0-9]*\) packets.*/\1/p' "$txlog")
recv=$(sed -n 's/^Received \([0-9]*\) packets.*/\1/p' "$rxlog")
echo "== sent ${sent:-?} packets, received ${recv:-?}: a pipe is lossless, so these match"
sleep 0.5
left=$(ls /dev/shm 2>/dev/null | grep -c "^$UNM_SHM_PREFIX\\." || true)
echo "== shared-memory objects left behind: $left"
[ -n "$sent" ] && [ "$sent" = "$recv" ] && [ "$left" -eq 0 ]
