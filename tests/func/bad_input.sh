#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: bad requests get netmap's errno (header version, request
# type, missing body, unknown/looping/truncated options, unknown ports,
# ring index out of range, exclusive conflicts, second register, mmap size,
# sync/mmap/poll on an unregistered fd), and nothing is left behind.
set -u
export UNM_SHM_PREFIX=unetmap-t$$
BUILD=${BUILD:-build}
"$BUILD/tests/func/nm_bad_input" || exit 1
sleep 0.5
left=$(ls /dev/shm | grep "^$UNM_SHM_PREFIX\." || true)
[ -z "$left" ] || { echo "FAIL: left: $left"; exit 1; }
echo "bad_input: ok"
