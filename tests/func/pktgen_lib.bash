# SPDX-License-Identifier: BSD-2-Clause
# Sourced by the pkt-gen tests over pipes: the build, a scratch directory,
# bounded background runs killed at exit, and result counting.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
PG=$BUILD/tools/pkt-gen
fails=0
tmp=$(mktemp -d)
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

if [ ! -x "$PG" ]; then
	echo "FAIL: $PG not built"
	exit 1
fi

# bounded_bg SECS CMD...: run CMD in the background, KILLed after SECS
# seconds; sets $bg_pid (timeout passes SIGINT on to the command)
bounded_bg() {
	local secs=$1; shift
	timeout -s KILL "$secs" "$@" &
	bg_pid=$!
	pids+=("$bg_pid")
}

# wait_for FILE REGEX SECS: until a line of FILE matches
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
