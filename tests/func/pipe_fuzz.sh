#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: a program writes random garbage into its ring headers and
# slots and syncs in a loop. It gets errors (POLLERR, logged), the library
# never crashes, and the process at the other end of the pipe sees only
# valid slots (inside the region, len <= buffer size).
set -u
export UNM_SHM_PREFIX=unetmap-t$$
BUILD=${BUILD:-build}
PEER=$BUILD/tests/func/nm_pipe_peer
P=fuzz$$
SEED=${SEED:-$(( $$ ^ $(date +%s) ))}
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$out"' EXIT
echo "seed $SEED (rerun with SEED=$SEED)"

timeout 20 "$PEER" sink "$P}1" 4 >"$out/sink" 2>&1 &
s=$!
for i in $(seq 100); do grep -q ready "$out/sink" && break; sleep 0.05; done
timeout 20 "$PEER" fuzz "$P{1" 3 "$SEED" >"$out/fuzz" 2>"$out/fuzz.err"
rc=$?
wait $s; src=$?
cat "$out/fuzz" "$out/sink"
echo "library messages (first 5):"; head -n 5 "$out/fuzz.err"
[ $rc -eq 0 ] || { echo "FAIL: fuzzer exit $rc"; tail "$out/fuzz.err"; exit 1; }
[ $src -eq 0 ] || { echo "FAIL: peer saw an invalid slot or died (exit $src)"; exit 1; }
grep -q "errors reported" "$out/fuzz" || { echo "FAIL: no summary"; exit 1; }
nerr=$(sed -n 's/.* iterations, \([0-9]*\) errors reported.*/\1/p' "$out/fuzz")
[ "${nerr:-0}" -gt 0 ] || [ -s "$out/fuzz.err" ] || { echo "FAIL: garbage produced no error"; exit 1; }
echo "pipe_fuzz: ok"
