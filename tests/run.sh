#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs every test of one build: the unit test binaries, then the functional
# scripts in tests/func/*.sh. A test passes with exit 0, is skipped with 77
# (it says why on its output), fails otherwise or after TEST_TIMEOUT seconds.
# Ends with "N passed, N failed, N skipped". TESTS=pattern runs a subset.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
TEST_TIMEOUT=${TEST_TIMEOUT:-180}
pass=0 fail=0 skip=0 failed=()

run_one() {
	local name=$1; shift
	local out rc
	out=$(mktemp)
	timeout -k 5 "$TEST_TIMEOUT" "$@" >"$out" 2>&1
	rc=$?
	case $rc in
	0) pass=$((pass + 1)); echo "PASS $name" ;;
	77) skip=$((skip + 1)); echo "SKIP $name: $(grep -i skip "$out" | tail -n 1)" ;;
	*) fail=$((fail + 1)); failed+=("$name"); echo "FAIL $name (exit $rc)"
	   sed 's/^/    | /' "$out" | tail -n 60 ;;
	esac
	[ -n "${VERBOSE:-}" ] && sed 's/^/    | /' "$out"
	rm -f "$out"
}

for t in "$BUILD"/tests/unit/*; do
	[ -x "$t" ] || continue
	n=unit/$(basename "$t")
	[[ -n "${TESTS:-}" && $n != *$TESTS* ]] && continue
	run_one "$n" "$t"
done
for t in tests/func/*.sh; do
	[ -f "$t" ] || continue
	n=func/$(basename "$t" .sh)
	[[ -n "${TESTS:-}" && $n != *$TESTS* ]] && continue
	run_one "$n" bash "$t"
done

[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
