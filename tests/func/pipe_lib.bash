# SPDX-License-Identifier: BSD-2-Clause
# Sourced by the tests over pipes (pkt-gen, bridge, examples): the build
# directory, a scratch directory, bounded background runs killed at exit,
# and result counting (fail/ok; the test ends with `exit $((fails > 0))`).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
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

# need_built BIN...: a missing binary is a failure of the whole test
need_built() {
	local b
	for b in "$@"; do
		if [ ! -x "$b" ]; then
			echo "FAIL: $b not built"
			exit 1
		fi
	done
}

# bounded_bg SECS CMD...: run CMD in the background, KILLed after SECS
# seconds; sets $bg_pid (timeout passes SIGINT on to the command)
bounded_bg() {
	local secs=$1; shift
	timeout -s KILL "$secs" "$@" &
	bg_pid=$!
	pids+=("$bg_pid")
}

source tests/func/wait_lib.bash	# cwd: the repository (cd above)
