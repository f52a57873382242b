#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Test objective: bad monitor requests fail with netmap's errno and a
# message naming what is wrong: a monitor of a port that does not exist
# (pipe, VALE, NIC name: ENXIO naming it), of a pipe end nobody registered
# (ENXIO), a bad suffix letter (EINVAL naming it), a second zero-copy
# monitor of a ring (EBUSY); a monitor's TX ring refuses frames (POLLERR,
# ring reset), and none of this breaks the monitored pipe.
source "$(dirname "$0")/monitor_lib.bash"
p=mb$$

# bad NAME ERRNO-TEXT MESSAGE-TEXT: opening monitor NAME fails so
bad() {
	local out rc
	out=$(timeout 20 "$PEER" -t 5 mon "$1" 2>&1)
	rc=$?
	if [ $rc -ne 2 ]; then
		fail "$1: exit $rc, want a failed open: $out"
	elif ! grep -q -- "$2" <<<"$out" || ! grep -qF -- "$3" <<<"$out"; then
		fail "$1: want '$2' and '$3' in: $out"
	else
		ok "$1 -> $(tr '\n' ' ' <<<"$out")"
	fi
}
bad "netmap:nosuch$p{0/t" "No such device" "nosuch$p{0: no such port to monitor"
bad "netmap:nosuch$p}0/r" "No such device" "nosuch$p}0: no such port to monitor"
bad "valeb$p:zz/t" "No such device" "valeb$p:zz: no such port to monitor"
bad "netmap:unm_nosuch$p/rt" "No such device" "unm_nosuch$p"
bad "netmap:$p{0/q" "Invalid argument" "'q'"

# a pipe with only x}0 registered: x{0 is not there to monitor, x}0 is
start "$tmp/rx" -n 10 -t 30 rx "netmap:$p}0" || exit 1
rx=$bg_pid
bad "netmap:$p{0/t" "No such device" "$p{0: no such port to monitor"
# one zero-copy monitor per ring: a second one is EBUSY
start "$tmp/z" -n 999999 -t 30 mon "netmap:$p}0/z" || exit 1
z=$bg_pid
bad "netmap:$p}0/z" "Device or resource busy" "already has a zero-copy monitor"
out=$(timeout 20 "$PEER" badtx "netmap:$p}0/r" 2>&1) && ok "${out}" || fail "badtx: $out"
# and the pipe still works
start "$tmp/tx" -n 10 -t 30 tx "netmap:$p{0" || exit 1
wait "$bg_pid" || fail "tx: $(cat "$tmp/tx.err")"
wait "$rx" || fail "rx: $(cat "$tmp/rx" "$tmp/rx.err")"
expect "$tmp/rx" received 10 "the pipe after the bad monitors"
stop_mon "$z"
no_shm_left
exit $((fails > 0))
