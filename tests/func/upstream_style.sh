#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   sender (process 1)  ->  NAME{1 ==pipe== NAME}1  ->  receiver (process 2)
#
#   nmdesc = tests/func/upstream_style_nmdesc.c: nm_open/nm_inject/nm_dispatch
#   raw    = tests/func/upstream_style_raw.c: open(/dev/netmap), legacy
#            NIOCREGIF, mmap, NIOCTXSYNC, poll/select; no library calls
#
# Test objective: programs written the way upstream netmap programs are move
# exact payloads (every length and byte checked, in order) across a pipe
# between two processes:
#   1. nmdesc -> nmdesc, nmdesc -> raw, raw -> nmdesc (library linked in);
#      nmdesc -> nmdesc with packets up to 9000 bytes, which nm_inject()
#      spreads over NS_MOREFRAG slots and the receiver gathers
#   2. raw built WITHOUT libnetmap, run with LD_PRELOAD=$BUILD/libnetmap.so,
#      both ends, then against a linked nmdesc receiver: the path of a
#      binary built against upstream's headers.
# Part 2 is skipped (exit 77, after part 1 passed) when libnetmap is an ASan
# build: a non-ASan binary cannot LD_PRELOAD it. Every wait is bounded.
source "$(dirname "$0")/pipe_lib.bash"
export UNM_SHM_PREFIX=unetmap-us$$
NMDESC=$BUILD/tests/func/upstream_style_nmdesc
RAW=$BUILD/tests/func/upstream_style_raw
N=20000
need_built "$NMDESC" "$RAW"

# run_pair LABEL TXENV TXBIN TXPORT RXENV RXBIN RXPORT
run_pair() {
	local label=$1 txenv=$2 txbin=$3 txport=$4 rxenv=$5 rxbin=$6 rxport=$7
	local ready=$tmp/ready.$label i rxpid rc rxrc
	rm -f "$ready"
	env $rxenv timeout -s KILL 30 "$rxbin" rx "$rxport" "$N" "$ready" \
		>"$tmp/rx.$label" 2>&1 &
	rxpid=$!
	pids+=("$rxpid")
	for ((i = 0; i < 100; i++)); do
		[ -e "$ready" ] && break
		kill -0 "$rxpid" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -e "$ready" ]; then
		echo "FAIL: $label: receiver did not open $rxport"
		cat "$tmp/rx.$label"
		fails=$((fails + 1))
		return
	fi
	env $txenv timeout -s KILL 30 "$txbin" tx "$txport" "$N" >"$tmp/tx.$label" 2>&1
	rc=$?
	wait "$rxpid"
	rxrc=$?
	if [ $rc -ne 0 ] || [ $rxrc -ne 0 ] ||
	   ! grep -q "rx: $N packets .* every byte as sent" "$tmp/rx.$label" ||
	   ! grep -q "tx: $N packets sent" "$tmp/tx.$label"; then
		echo "FAIL: $label"
		cat "$tmp/tx.$label" "$tmp/rx.$label"
		fails=$((fails + 1))
		return
	fi
	echo "ok: $label: $(cat "$tmp/rx.$label")"
}

P=us$$
run_pair "nmdesc->nmdesc" "" "$NMDESC" "netmap:${P}a{1" "" "$NMDESC" "netmap:${P}a}1"
run_pair "nmdesc->raw" "" "$NMDESC" "netmap:${P}b{1" "" "$RAW" "${P}b}1"
run_pair "raw->nmdesc" "" "$RAW" "${P}c{1" "" "$NMDESC" "netmap:${P}c}1"
J=UPSTREAM_STYLE_MAXLEN=9000
run_pair "nmdesc->nmdesc multi-slot" "$J" "$NMDESC" "netmap:${P}g{1" \
	"$J" "$NMDESC" "netmap:${P}g}1"

if nm "$BUILD/libnetmap.a" 2>/dev/null | grep -q __asan_; then
	if [ $fails -ne 0 ]; then
		echo "upstream_style: $fails failed"
		exit 1
	fi
	echo "skip: LD_PRELOAD half: $BUILD/libnetmap.a is an ASan build, a non-ASan" \
	     "binary cannot preload it (the linked half passed)"
	exit 77
fi

SO=$(realpath "$BUILD/libnetmap.so" 2>/dev/null)
CC=${CC:-cc}
if [ -z "$SO" ] || [ ! -e "$SO" ]; then
	echo "FAIL: $BUILD/libnetmap.so missing"
	exit 1
fi
if ! command -v "$CC" >/dev/null; then
	echo "skip: LD_PRELOAD half needs a C compiler (CC=$CC) to build the unlinked client"
	exit 77
fi
NOLIB=$tmp/upstream_style_raw.nolib
if ! "$CC" -O1 -Wall -Iinclude -o "$NOLIB" tests/func/upstream_style_raw.c; then
	echo "FAIL: building upstream_style_raw without libnetmap"
	exit 1
fi
if nm "$NOLIB" | grep -q ' [TtDdBb] unm_'; then
	echo "FAIL: $NOLIB contains library code; it must not be linked with libnetmap"
	exit 1
fi

run_pair "raw(preload)->raw(preload)" "LD_PRELOAD=$SO" "$NOLIB" "${P}d{1" \
	"LD_PRELOAD=$SO" "$NOLIB" "${P}d}1"
run_pair "raw(preload)->nmdesc(linked)" "LD_PRELOAD=$SO" "$NOLIB" "${P}e{1" \
	"" "$NMDESC" "netmap:${P}e}1"

# without the preload there is no /dev/netmap: a clean error, not a crash
out=$(timeout -s KILL 10 "$NOLIB" tx "${P}f{1" 1 2>&1)
rc=$?
if [ $rc -ne 1 ] || ! grep -q "/dev/netmap" <<<"$out"; then
	if [ -e /dev/netmap ]; then
		echo "note: a /dev/netmap exists on this machine; unpreloaded check not meaningful"
	else
		echo "FAIL: unpreloaded raw client: rc $rc, output: $out"
		fails=$((fails + 1))
	fi
else
	echo "ok: without LD_PRELOAD the raw client fails cleanly: $out"
fi

if [ $fails -ne 0 ]; then
	echo "upstream_style: $fails failed"
	exit 1
fi
echo "upstream_style: ok"
exit 0
