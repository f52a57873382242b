#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   mon_peer tx -> valeM:a ==[ switch valeM ]== valeM:b -> mon_peer rx
#                     |                           |
#              monitor valeM:a/t           monitor valeM:b/r
#
# Test objective: monitors of VALE ports: /t of the sender gets every frame
# it sent, /r of the receiver every frame it received, every byte as sent,
# counters exact (N fits the rings: nothing can drop); nothing is left
# under /dev/shm.
source "$(dirname "$0")/monitor_lib.bash"
sw=valem$$
N=1000
start "$tmp/rx" -n $N -t 30 rx "$sw:b" || exit 1
rx=$bg_pid
start "$tmp/tx" -n $N -t 30 -W "$tmp/go" tx "$sw:a" || exit 1
tx=$bg_pid
start "$tmp/mt" -n 999999 -t 30 mon "$sw:a/t" || exit 1
mt=$bg_pid
start "$tmp/mr" -n 999999 -t 30 mon "$sw:b/r" || exit 1
mr=$bg_pid
touch "$tmp/go"
wait "$tx" || fail "tx: $(cat "$tmp/tx.err")"
wait "$rx" || fail "rx: $(cat "$tmp/rx" "$tmp/rx.err")"
expect "$tmp/rx" received $N "VALE rx"
for m in mt:$mt mr:$mr; do
	stop_mon "${m#*:}"
	f=$tmp/${m%:*}
	expect "$f" frames $N "VALE monitor ${m%:*}"
	expect "$f" bad 0 "VALE monitor ${m%:*} (every byte as sent)"
	expect "$f" seqs1 $N "VALE monitor ${m%:*} (every frame once)"
	expect "$f" mon_drops 0 "VALE monitor ${m%:*} counter"
done
no_shm_left
exit $((fails > 0))
