# SPDX-License-Identifier: BSD-2-Clause
# Sourced by the monitor_* tests: pipe_lib.bash plus mon_peer helpers.
source "$(dirname "${BASH_SOURCE[0]}")/pipe_lib.bash"
export UNM_SHM_PREFIX=unetmap-mon$$
PEER=$BUILD/tests/func/mon_peer
need_built "$PEER"

# start OUT ARGS...: a mon_peer in the background (bounded), up to "ready"
start() {
	local out=$1; shift
	bounded_bg 60 "$PEER" "$@" >"$out" 2>"$out.err"
	if ! wait_for "$out" '^ready' 20; then
		fail "mon_peer $* did not start: $(cat "$out.err")"
		return 1
	fi
}

# field FILE KEY: the number after KEY on the last result line
field() {
	sed -n "s/.*\\b$2 \\([0-9]*\\).*/\\1/p" "$1" | tail -n 1
}

# expect FILE KEY VALUE WHAT
expect() {
	local v
	v=$(field "$1" "$2")
	if [ "$v" != "$3" ]; then
		fail "$4: $2 is '${v}', want $3 ($(tail -n 1 "$1"); $(tail -n 2 "$1.err" | tr '\n' ' '))"
	else
		ok "$4: $2 $3"
	fi
}

# stop_mon PID: SIGTERM a monitor (it drains its rings and reports), wait
stop_mon() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# no_shm_left: nothing of this test's world under /dev/shm once all exited
no_shm_left() {
	local i
	for ((i = 0; i < 50; i++)); do
		ls /dev/shm 2>/dev/null | grep -q "^$UNM_SHM_PREFIX\\." || break
		sleep 0.1
	done
	if ls /dev/shm 2>/dev/null | grep -q "^$UNM_SHM_PREFIX\\."; then
		fail "left under /dev/shm: $(ls /dev/shm | grep "^$UNM_SHM_PREFIX\\." | tr '\n' ' ')"
	else
		ok "nothing left under /dev/shm"
	fi
}
