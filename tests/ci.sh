#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The whole test command: build warning-free (-Werror) with gcc and with clang,
# run all tests on each, then again built with ASan+UBSan. The last line sums
# every run: "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
mk/deps.sh test || exit 1
total_p=0 total_f=0 total_s=0 log=$(mktemp)
trap 'rm -f "$log"' EXIT

variant() {
	local name=$1; shift
	echo "=== $name: make $*"
	if ! make -s -j"$(nproc)" "$@" all >"$log" 2>&1; then
		cat "$log"; echo "=== $name: BUILD FAILED"
		total_f=$((total_f + 1)); return
	fi
	grep -E 'warning|error' "$log"
	local build
	build=$(printf '%s\n' "$@" | sed -n 's/^BUILD=//p')
	BUILD=$build tests/run.sh | tee "$log"
	read -r p _ f _ s _ < <(tail -n 1 "$log" | tr -d ,)
	total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
variant gcc BUILD=build-gcc CC=gcc WERROR=1
variant clang BUILD=build-clang CC=clang WERROR=1
variant asan+ubsan BUILD=build-san CC=clang WERROR=1 SAN=1
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
