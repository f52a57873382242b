#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   vale_peer rx vale0:a (an ordinary port), vale-ctl with bad input
#
# Test objective: every bad request fails with status 1, upstream's
# "failed to ACTION NAME: strerror" line with the errno netmap uses, and our
# message naming the bad part: a missing interface, bad names, -r of a
# port that is not persistent, -d of a port not attached, -p on an ordinary
# port, bad -C/-m arguments, unknown options; and nothing is left behind.
source "$(dirname "$0")/pipe_lib.bash"
export UNM_SHM_PREFIX=unetmap-vcb$$
PEER=$BUILD/tests/func/vale_peer
VCTL=$BUILD/tools/vale-ctl
need_built "$PEER" "$VCTL"
trap 'cleanup; rm -f /dev/shm/"$UNM_SHM_PREFIX".*' EXIT

# bad WANT1 WANT2 ARGS...: status 1, the output has both strings
bad() {
	local w1=$1 w2=$2 out rc
	shift 2
	out=$(timeout 10 "$VCTL" "$@" 2>&1)
	rc=$?
	if [ $rc = 1 ] && [[ $out == *"$w1"* ]] && [[ $out == *"$w2"* ]]; then
		ok "vale-ctl $*: $(echo "$out" | head -n 1)"
	else
		fail "vale-ctl $*: status $rc, want 1 and '$w1' + '$w2': $out"
	fi
}

bounded_bg 30 "$PEER" -t 25 rx vale0:a >"$tmp/a" 2>&1
wait_for "$tmp/a" '^ready' 10 || fail "vale_peer rx vale0:a did not start"
nosuch=unmnx$$

# attach
bad "failed to attach vale0:$nosuch: No such device or address" "no such interface '$nosuch'" -a vale0:$nosuch
bad "failed to attach vale0:$nosuch: No such device or address" "no such interface '$nosuch'" -h vale0:$nosuch
bad "failed to attach eth0: Invalid argument" "eth0: not a VALE port name" -a eth0
bad "Invalid argument" "bad character '-' in port name 'a-b'" -a vale0:a-b
bad "Invalid argument" "bad character '.' in switch name" -a vale.0:x
bad "Invalid argument" "port name missing after ':'" -a vale0:
bad "failed to attach vale0:a: Device or resource busy" "already attached" -a vale0:a
bad "Invalid argument" "name the NIC itself" -a 'vale0:lo^'
# detach
bad "failed to detach vale0:a: Invalid argument" "vale0:a: not attached to a NIC" -d vale0:a
bad "failed to detach vale0:zz: No such device or address" "vale0:zz: not attached" -d vale0:zz
# persistent ports
bad "failed to remove vale0:a: Invalid argument" "vale0:a: not a persistent port" -r vale0:a
bad "failed to remove $nosuch: No such device or address" "$nosuch: no such persistent port" -r $nosuch
bad "failed to create lo: File exists" "lo: an interface of that name exists" -n lo
bad "Invalid argument" "bad character ':' in a persistent port name" -n vale0:p
bad "Invalid argument" "cannot start with 'vale'" -n vale7
bad "Invalid argument" "name too long for a persistent port" -n abcdefghijklmnopq
timeout 10 "$VCTL" -n vi9 || fail "vale-ctl -n vi9"
bad "failed to create vi9: File exists" "vi9: exists already" -n vi9
bad "vale-ctl: -C '1,x': 'x' is not a number" "" -n vi8 -C 1,x
bad "vale-ctl: -C '1,2,3,4,5': at most 4 numbers" "" -n vi8 -C 1,2,3,4,5
bad "vale-ctl: -m 'nothing': no such port" "" -n vi8 -m nothing
bad "vale-ctl: -m '0': not a memory id" "" -n vi8 -m 0
timeout 10 "$VCTL" -r vi9 || fail "vale-ctl -r vi9"
# list, polling
bad "failed to list vale0:zz: No such device or address" "vale0:zz: no such VALE port" -l vale0:zz
bad "invalid vale port name: 'eth0'" "Usage" -l eth0
bad "failed to enable polling on vale0:a: Invalid argument" "applies only to NICs attached" -p vale0:a
bad "failed to disable polling on vale0:zz: No such device or address" "no such VALE port" -P vale0:zz
# the command line
bad "Usage" "" -x
bad "unexpected argument 'extra'" "Usage" -l vale0:a extra
bad "no action" "Usage" -v

kill -TERM "${pids[@]}" 2>/dev/null
wait 2>/dev/null
pids=()
for i in $(seq 1 100); do
	ls /dev/shm/"$UNM_SHM_PREFIX".* >/dev/null 2>&1 || break
	sleep 0.05
done
ls /dev/shm/"$UNM_SHM_PREFIX".* >/dev/null 2>&1 && fail "left in /dev/shm: $(ls /dev/shm/"$UNM_SHM_PREFIX".*)" ||
	ok "nothing left in /dev/shm"
exit $((fails > 0))
