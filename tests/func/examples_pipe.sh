#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
#   examples_send -> H{0 ==pipe== H}0 -> hexdump
#   examples_send -> A{0 ==pipe== A}0 <- nic2nic | firewall -> B}0 ==pipe== B{0 -> hexdump
#   examples_send -> Q{0-0, Q{0-1 ==pipe, 2 rings== Q}0 -> multiqueue (thread per ring)
#
# Test objective: the examples over pipes, each checked by exact output:
#  - hexdump prints the known bytes of a known frame (hex and ASCII), and
#    a 3-slot NS_MOREFRAG frame as one frame with running offsets;
#  - nic2nic forwards exact counts both ways by buffer swaps, and refuses
#    ports in different memory regions, saying why;
#  - firewall drops exactly the frames its rules match (each kind of frame
#    has its own length, so the receiver's hexdump tells which passed), and
#    prints exact per-rule counters; bad rules name the bad word;
#  - multiqueue counts per ring on a two-ring pipe.
# Every run is bounded (-n / -t, timeout); names carry $$.
source "$(dirname "$0")/pipe_lib.bash"
source tests/func/fw_case.bash
export UNM_SHM_PREFIX=unetmap-ex$$
EX=$BUILD/examples
SEND=$BUILD/tests/func/examples_send
need_built "$EX/hexdump" "$EX/nic2nic" "$EX/firewall" "$EX/multiqueue" "$SEND"

# bad WANT CMD...: nonzero exit, message contains WANT
bad() {
	local want=$1; shift
	local out rc
	out=$(timeout 20 "$@" 2>&1 </dev/null)
	rc=$?
	if [ $rc -eq 0 ] || [ $rc -ge 124 ]; then
		fail "$* exited $rc: $out"
	elif ! grep -qF -- "$want" <<<"$out"; then
		fail "$*: message does not name '$want': $out"
	else
		ok "$(basename "$1") ${*:2} -> exit $rc: $(grep -F -- "$want" <<<"$out" | head -n 1)"
	fi
}

# ---------------- hexdump ----------------
H=hx$$
bounded_bg 30 "$EX/hexdump" -i "netmap:$H}0" -n 2 -t 20 >"$tmp/hx.out" 2>"$tmp/hx.err"
hx=$bg_pid
wait_for "$tmp/hx.err" '^hexdump: reading' 10 || fail "hexdump did not start: $(cat "$tmp/hx.err")"
"$SEND" -i "netmap:$H{0" -W 20 udp,10.0.0.1,1000,10.0.0.2,53 \
	-F 1000 udp,10.0.0.1,1,10.0.0.2,2,2100 >"$tmp/send.out" 2>&1 ||
	fail "examples_send to $H{0: $(cat "$tmp/send.out")"
wait "$hx" || fail "hexdump exit $?: $(cat "$tmp/hx.err")"
cat >"$tmp/hx.want" <<'EOF'
frame 1: 60 bytes, ring 0, 1 slot
0000  ff ff ff ff ff ff 02 00  00 00 00 01 08 00 45 00  |..............E.|
0010  00 2e 00 00 00 00 40 11  66 bd 0a 00 00 01 0a 00  |......@.f.......|
0020  00 02 03 e8 00 35 00 1a  00 00 00 01 02 03 04 05  |.....5..........|
0030  06 07 08 09 0a 0b 0c 0d  0e 0f 10 11              |............|
frame 2: 2100 bytes, ring 0, 3 slots
EOF
if head -n 6 "$tmp/hx.out" | cmp -s - "$tmp/hx.want"; then
	ok "hexdump: the known UDP frame byte for byte"
else
	fail "hexdump output differs: $(head -n 6 "$tmp/hx.out" | diff "$tmp/hx.want" - )"
fi
# frame 2: 2100 bytes = 131 full lines + 4 bytes at 0x830; the payload
# (bytes 0, 1, 2... mod 256 after the 42 bytes of headers) runs on across
# slots: offset 0x3e8 (1000, the second slot's first byte) holds payload
# byte 958 = 0xbe, offset 0x830 (2096, in the third slot) byte 2054 = 0x06
last=$(tail -n 1 "$tmp/hx.out")
l3e8=$(grep '^03e0 ' "$tmp/hx.out" | tail -n 1)
lines=$(grep -c '^[0-9a-f]\{4\} ' "$tmp/hx.out")
if [ "$last" = "0830  06 07 08 09                                       |....|" ] &&
   [ "$lines" -eq $((4 + 132)) ] &&
   [ "$l3e8" = "03e0  b6 b7 b8 b9 ba bb bc bd  be bf c0 c1 c2 c3 c4 c5  |................|" ]; then
	ok "hexdump: 3-slot frame as one, offsets run across slots"
else
	fail "hexdump multi-slot frame: last '$last', 03e0 '$l3e8', $lines lines"
fi
grep -qx "hexdump: 2 frames 2160 bytes" "$tmp/hx.err" || fail "hexdump summary: $(tail -n 1 "$tmp/hx.err")"
bad "missing -i port" "$EX/hexdump" -n 1
bad "bad -n 'abc'" "$EX/hexdump" -i "netmap:$H}1" -n abc
bad "unm_nosuch$$" "$EX/hexdump" -i "netmap:unm_nosuch$$" -t 1

# ---------------- nic2nic ----------------
A=na$$ B=nb$$ N1=5000 N2=3000
bounded_bg 60 "$EX/hexdump" -i "netmap:$B{0" -n $N1 -s 0 >"$tmp/rxb.out" 2>"$tmp/rxb.err"
rxb=$bg_pid
wait_for "$tmp/rxb.err" '^hexdump: reading' 10 || fail "receiver B did not start"
bounded_bg 60 "$EX/nic2nic" -i "netmap:$A}0" -i "netmap:$B}0" -n $((N1 + N2)) -t 50 \
	>"$tmp/n2n.out" 2>"$tmp/n2n.err"
n2n=$bg_pid
wait_for "$tmp/n2n.err" 'zero-copy' 10 || fail "nic2nic did not start: $(cat "$tmp/n2n.err")"
"$SEND" -i "netmap:$A{0" -n $N1 arp >/dev/null 2>&1 || fail "send $N1 into $A{0"
wait "$rxb" || fail "receiver B exit $?"
bounded_bg 60 "$EX/hexdump" -i "netmap:$A{0" -n $N2 -s 0 >"$tmp/rxa.out" 2>"$tmp/rxa.err"
rxa=$bg_pid
wait_for "$tmp/rxa.err" '^hexdump: reading' 10 || fail "receiver A did not start"
"$SEND" -i "netmap:$B{0" -n $N2 udp,1.1.1.1,1,2.2.2.2,2,80 >/dev/null 2>&1 || fail "send $N2 into $B{0"
wait "$rxa" || fail "receiver A exit $?"
wait "$n2n" || fail "nic2nic exit $?: $(cat "$tmp/n2n.err")"
if grep -qx "netmap:$A}0 -> netmap:$B}0: $N1 packets" "$tmp/n2n.out" &&
   grep -qx "netmap:$B}0 -> netmap:$A}0: $N2 packets" "$tmp/n2n.out" &&
   grep -qx "hexdump: $N1 frames $((N1 * 60)) bytes" "$tmp/rxb.err" &&
   grep -qx "hexdump: $N2 frames $((N2 * 80)) bytes" "$tmp/rxa.err"; then
	ok "nic2nic: $N1 and $N2 frames both ways, $(head -n 1 "$tmp/n2n.err")"
else
	fail "nic2nic counts: $(cat "$tmp/n2n.out") / $(tail -n 1 "$tmp/rxb.err") / $(tail -n 1 "$tmp/rxa.err")"
fi
bad "do not share memory" "$EX/nic2nic" -i "netmap:nc$$}0" -i "netmap:nd$$}0@2" -t 1
bad "need two ports" "$EX/nic2nic" -i "netmap:nc$$}0"
bad "bad -t 'x'" "$EX/nic2nic" -i "netmap:nc$$}0" -i "netmap:nd$$}0" -t x

# ---------------- firewall ----------------
# the case of tests/func/fw_case.bash, over pipes
R=40
A=fa$$ B=fb$$
passed=$((4 * R))
bounded_bg 60 "$EX/hexdump" -i "netmap:$B{0" -n $passed -s 0 >"$tmp/fwrx.out" 2>"$tmp/fwrx.err"
fwrx=$bg_pid
wait_for "$tmp/fwrx.err" '^hexdump: reading' 10 || fail "firewall receiver did not start"
bounded_bg 60 "$EX/firewall" -i "netmap:$A}0" -i "netmap:$B}0" -n $((9 * R)) -t 50 \
	"${FW_RULES[@]}" >"$tmp/fw.out" 2>"$tmp/fw.err"
fw=$bg_pid
wait_for "$tmp/fw.err" 'rule' 10 || fail "firewall did not start: $(cat "$tmp/fw.err")"
"$SEND" -i "netmap:$A{0" -n $R "${FW_KINDS[@]}" >"$tmp/fwsend.out" 2>&1 || fail "send: $(cat "$tmp/fwsend.out")"
wait "$fwrx" || fail "firewall receiver exit $?"
wait "$fw" || fail "firewall exit $?: $(cat "$tmp/fw.err")"
fw_want $R "netmap:$A}0" "netmap:$B}0" >"$tmp/fw.want"
if cmp -s "$tmp/fw.out" "$tmp/fw.want"; then
	ok "firewall: exact per-rule counters ($(grep -c . "$tmp/fw.want") lines)"
else
	fail "firewall counters differ: $(diff "$tmp/fw.want" "$tmp/fw.out")"
fi
got=$(fw_got "$tmp/fwrx.out")
if [ "$got" = "$(fw_got_want $R)" ]; then
	ok "firewall: receiver got exactly the passed kinds: $got"
else
	fail "firewall: receiver got (length:count) $got, want $(fw_got_want $R)"
fi
bad "unknown word 'frobnicate'" "$EX/firewall" -i "netmap:fc$$}0" -i "netmap:fd$$}0" -r "drop frobnicate"
bad "bad address '10.0.0.300'" "$EX/firewall" -i "netmap:fc$$}0" -i "netmap:fd$$}0" -r "drop dst 10.0.0.300"
bad "bad port '70000'" "$EX/firewall" -i "netmap:fc$$}0" -i "netmap:fd$$}0" -r "drop udp port 70000"
bad "must start with 'pass' or 'drop'" "$EX/firewall" -i "netmap:fc$$}0" -i "netmap:fd$$}0" -r "udp"
bad "bad prefix length in '10.0.0.0/33'" "$EX/firewall" -i "netmap:fc$$}0" -i "netmap:fd$$}0" -r "drop src 10.0.0.0/33"
bad "need two ports" "$EX/firewall" -i "netmap:fc$$}0" -r "drop arp"

# ---------------- multiqueue ----------------
Q=mq$$ Q0=700 Q1=1300
bounded_bg 60 "$EX/multiqueue" -i "netmap:$Q}0@conf:rings=2" -n $((Q0 + Q1)) -t 50 >"$tmp/mq.out" 2>"$tmp/mq.err"
mq=$bg_pid
wait_for "$tmp/mq.err" 'one thread each' 10 || fail "multiqueue did not start: $(cat "$tmp/mq.err")"
"$SEND" -i "netmap:$Q{0-0" -n $Q0 arp >/dev/null 2>&1 || fail "send to ring 0"
"$SEND" -i "netmap:$Q{0-1" -n $Q1 udp,1.1.1.1,1,2.2.2.2,2,100 >/dev/null 2>&1 || fail "send to ring 1"
wait "$mq" || fail "multiqueue exit $?: $(cat "$tmp/mq.err")"
printf 'ring 0: %d packets %d bytes\nring 1: %d packets %d bytes\ntotal: %d packets %d bytes\n' \
	$Q0 $((Q0 * 60)) $Q1 $((Q1 * 100)) $((Q0 + Q1)) $((Q0 * 60 + Q1 * 100)) >"$tmp/mq.want"
if cmp -s "$tmp/mq.out" "$tmp/mq.want"; then
	ok "multiqueue: $(head -n 1 "$tmp/mq.err" | sed 's/^multiqueue: //'); $(tr '\n' ';' <"$tmp/mq.out")"
else
	fail "multiqueue counts differ: $(diff "$tmp/mq.want" "$tmp/mq.out")"
fi
bad "without a ring mode" "$EX/multiqueue" -i "netmap:$Q}0-1" -t 1
bad "missing -i port" "$EX/multiqueue" -t 1

# every process is gone: the reapers leave nothing behind
for _ in $(seq 60); do
	ls /dev/shm | grep -q "^$UNM_SHM_PREFIX\." || break
	sleep 0.05
done
left=$(ls /dev/shm | grep "^$UNM_SHM_PREFIX\.")
[ -z "$left" ] || fail "left in /dev/shm: $left"

if [ $fails -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "all examples pipe checks passed"
exit 0
