#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   vale_peer rx vale0:a, vale0:b, vale2:c   (three other processes)
#   vale-ctl (list, -l, -g) reads the shared switch state
#   vale-ctl -n vi0 / -a vale0:vi0 / -d vale0:vi0 / -r vi0   (persistent port)
#   pkt-gen tx vale0:x  ->  [vale0]  ->  pkt-gen rx netmap:vi0
#
# Test objective: the listing names exactly the ports other processes have
# open, in upstream's format; -l gives a port's indices; a persistent port
# made by -n exists with no user and no process, pkt-gen opens it as
# netmap:vi0 and, attached with -a, through its switch; -C and -m shape it;
# -r removes it, and then nothing is left in /dev/shm for our prefix.
source "$(dirname "$0")/pipe_lib.bash"
export UNM_SHM_PREFIX=unetmap-vc$$
PEER=$BUILD/tests/func/vale_peer
PG=$BUILD/tools/pkt-gen
VCTL=$BUILD/tools/vale-ctl
need_built "$PEER" "$PG" "$VCTL"
cleanup_shm() { rm -f /dev/shm/"$UNM_SHM_PREFIX".*; }
trap 'cleanup; cleanup_shm' EXIT

# shm_empty: nothing of ours in /dev/shm (bounded wait: reapers finish up)
shm_empty() {
	local i
	for i in $(seq 1 100); do
		ls /dev/shm/"$UNM_SHM_PREFIX".* >/dev/null 2>&1 || return 0
		sleep 0.05
	done
	return 1
}

# expect OUTPUT WANT WHAT
expect() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		fail "$3: got '$1', want '$2'"
	fi
}

# ---- an empty world lists nothing and leaves nothing ----
out=$(timeout 10 "$VCTL" 2>&1)
expect "$?:$out" "0:" "empty world: no ports, status 0"
shm_empty && ok "listing an empty world leaves nothing in /dev/shm" ||
	fail "listing left $(ls /dev/shm/"$UNM_SHM_PREFIX".*)"

# ---- ports open in other processes ----
for p in vale0:a vale0:b vale2:c; do
	bounded_bg 30 "$PEER" -t 25 rx $p >"$tmp/${p/:/_}" 2>&1
	wait_for "$tmp/${p/:/_}" '^ready' 10 || fail "vale_peer rx $p did not start"
done
rxs=("${pids[@]}")
out=$(timeout 10 "$VCTL")
expect "$out" "vale0:a bridge_idx 0 port_idx 0
vale0:b bridge_idx 0 port_idx 1
vale2:c bridge_idx 1 port_idx 0" "listing: three ports of two switches"
expect "$(timeout 10 "$VCTL" -l vale0:b)" "bridge_idx: 0
port_idx:   1" "-l vale0:b"
expect "$(timeout 10 "$VCTL" -l vale2:c)" "bridge_idx: 1
port_idx:   0" "-l vale2:c"

# ---- a persistent port: -n, no user, no process ----
timeout 10 "$VCTL" -n vi2 || fail "vale-ctl -n vi2"
out=$(timeout 10 "$VCTL" -g vi2)
expect "$(echo "$out" | grep -v memsize)" "tx_slots:   1024
rx_slots:   1024
tx_rings:   1
rx_rings    1
mem_id:     1" "-g vi2: default geometry"
timeout 10 "$VCTL" -r vi2 || fail "vale-ctl -r vi2"
# room for every frame of the transfer below: nothing dropped, exact counts
timeout 10 "$VCTL" -n vi0 -C 4096 || fail "vale-ctl -n vi0 -C 4096"
expect "$(timeout 10 "$VCTL" -v -n vi1 -C 512,256,2,3 -m 2)" "tx_slots:   512
rx_slots:   256
tx_rings:   2
rx_ring:    3
mem_id:     2" "-v -n vi1 -C 512,256,2,3 -m 2"
expect "$(timeout 10 "$VCTL" -g vi1 | grep -v memsize)" "tx_slots:   512
rx_slots:   256
tx_rings:   2
rx_rings    3
mem_id:     2" "-g vi1: as created"
timeout 10 "$VCTL" -r vi1 || fail "vale-ctl -r vi1"
# not in a switch yet: not listed
expect "$(timeout 10 "$VCTL" | grep -c vi0)" 0 "vi0 unattached: not listed"

# pkt-gen opens it by its name (nothing to send to: the frames go nowhere)
timeout 20 "$PG" -i netmap:vi0 -f tx -n 1000 -w 0 >"$tmp/vitx" 2>&1 &&
	grep -q "^Sent 1000 packets" "$tmp/vitx" && ok "pkt-gen tx on netmap:vi0 (unattached)" ||
	fail "pkt-gen tx on netmap:vi0: $(tail -n 3 "$tmp/vitx")"
expect "$(timeout 10 "$VCTL" -g vi0 | sed -n 's/^tx_rings: *//p')" 1 "vi0 still there after its user left"

# attached to vale0, it is a switch port: pkt-gen vale0:x -> netmap:vi0
expect "$(timeout 10 "$VCTL" -v -a vale0:vi0)" "port_index: 2" "-a vale0:vi0: port 2"
expect "$(timeout 10 "$VCTL" | grep vi0)" "vale0:vi0 bridge_idx 0 port_idx 2" "vale0:vi0 listed"
N=3000
bounded_bg 25 "$PG" -i netmap:vi0 -f rx -n $N -w 0 >"$tmp/virx" 2>&1
vrx=$bg_pid
wait_for "$tmp/virx" '^Receiving from' 10 || fail "pkt-gen rx netmap:vi0 did not start: $(cat "$tmp/virx")"
timeout 20 "$PG" -i vale0:x -f tx -n $N -w 0 -R 50000 >"$tmp/xtx" 2>&1 || fail "pkt-gen tx vale0:x"
wait "$vrx"
grep -q "^Received $N packets" "$tmp/virx" && ok "pkt-gen: $N frames vale0:x -> vi0" ||
	fail "vale0:x -> vi0: $(grep -h -e '^Sent' -e '^Received' "$tmp/xtx" "$tmp/virx" | tr '\n' ' ')"
# the same port by its switch name
timeout 20 "$PG" -i vale0:vi0 -f tx -n 100 -w 0 >"$tmp/vitx2" 2>&1 &&
	grep -q "^Sent 100 packets" "$tmp/vitx2" && ok "pkt-gen tx on vale0:vi0 (the same port)" ||
	fail "pkt-gen tx on vale0:vi0: $(tail -n 3 "$tmp/vitx2")"

# ---- every other process gone: the persistent port keeps the world ----
for p in "${rxs[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
pids=()
expect "$(timeout 10 "$VCTL")" "vale0:vi0 bridge_idx 0 port_idx 2" "no process left: vale0:vi0 still listed"
ls /dev/shm/"$UNM_SHM_PREFIX".kernel >/dev/null 2>&1 && ok "the kernel object stays for vi0" ||
	fail "the kernel object went with a persistent port left"

# ---- -d, -r: nothing left ----
out=$(timeout 10 "$VCTL" -r vi0 2>&1) && fail "-r of an attached port succeeded"
case $out in *"detach it first"*) ok "-r vi0 while attached: refused" ;; *) fail "-r vi0 attached: $out" ;; esac
expect "$(timeout 10 "$VCTL" -v -d vale0:vi0)" "port_index: 2" "-d vale0:vi0"
expect "$(timeout 10 "$VCTL")" "" "-d: not listed"
timeout 10 "$VCTL" -r vi0 && ok "-r vi0" || fail "vale-ctl -r vi0"
out=$(timeout 10 "$VCTL" -g vi0 2>&1) && fail "-g vi0 after -r: $out"
shm_empty && ok "after -r: nothing left in /dev/shm" ||
	fail "after -r: $(ls /dev/shm/"$UNM_SHM_PREFIX".*)"
exit $((fails > 0))
