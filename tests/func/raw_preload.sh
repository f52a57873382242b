#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: a program that knows nothing of libnetmap (raw open/ioctl/
# mmap/poll, built without the library) runs over a pipe with
# LD_PRELOAD=libnetmap.so.
set -u
export UNM_SHM_PREFIX=unetmap-t$$
BUILD=${BUILD:-build}
SO=$(realpath "$BUILD/libnetmap.so")
if nm -D --undefined-only "$SO" 2>/dev/null | grep -q __asan; then
	echo "skip: $SO is an ASan build; LD_PRELOAD would need the ASan runtime first"
	exit 77
fi
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "skip: no C compiler"; exit 77; }
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$out"' EXIT
"$CC" -O1 -Iinclude -o "$out/raw_peer" tests/func/nm_pipe_peer.c || { echo "FAIL: build"; exit 1; }
if nm -D "$out/raw_peer" | grep -q unm_; then echo "FAIL: linked with the library"; exit 1; fi
P=pre$$
LD_PRELOAD=$SO timeout 20 "$out/raw_peer" rx "$P}1" 50000 10 >"$out/rx" 2>&1 &
rx=$!
LD_PRELOAD=$SO timeout 20 "$out/raw_peer" tx "$P{1" 50000 10 >"$out/tx" 2>&1 || {
	echo "FAIL: tx"; cat "$out/tx"; exit 1; }
wait $rx || { echo "FAIL: rx"; cat "$out/rx"; exit 1; }
cat "$out/tx" "$out/rx"
echo "raw_preload: ok"
