# SPDX-License-Identifier: BSD-2-Clause
# Sourced by examples_pipe.sh and examples_nic.sh: the firewall case both run.
# One frame of each kind per round (tests/func/examples_send), each kind its
# own length, so that the receiver's hexdump tells which passed:
#   60 udp to 10.0.0.2:53        dropped by rule 1
#   61 udp to 10.0.0.2:54        passes (default)
#   62 arp                       dropped by rule 2
#   63 tcp to 10.0.0.2:53        passes (rule 1 is udp only)
#   64 udp 10.9.1.1 -> 10.0.0.7:53 behind a VLAN tag  dropped by rule 1
#   90 udp6 to fe80::2 port 80   dropped by rule 3
#   91 udp6 to fe80::2 port 81   passes by rule 4 (pass udp6 src prefix)
#   65 icmp from 10.1.2.3        passes by rule 5 (before rule 6)
#   66 tcp from 10.1.2.3 port 22  dropped by rule 6
FW_KINDS=(udp,10.0.0.1,1000,10.0.0.2,53,60 udp,10.0.0.1,1000,10.0.0.2,54,61 arp,62
	tcp,10.0.0.1,1000,10.0.0.2,53,63 vlan:udp,10.9.1.1,5,10.0.0.7,53,64
	udp6,fe80::1,1,fe80::2,80,90 udp6,fe80::1,1,fe80::2,81,91
	icmp,10.1.2.3,10.0.0.2,65 tcp,10.1.2.3,22,10.0.0.2,80,66)
FW_RULES=(-r "drop udp dst 10.0.0.0/24 port 53" -r "drop arp" -r "drop ip6 dst fe80::/64 port 80"
	-r "pass udp src fe80::1" -r "pass icmp src 10.1.0.0/16" -r "drop src 10.1.2.3")

# fw_want R FROM TO: the firewall's exact counters after R rounds FROM -> TO
fw_want() {
	local r=$1
	cat <<-EOF
	rule 1: drop udp dst 10.0.0.0/24 port 53: $((2 * r)) packets $(((60 + 64) * r)) bytes
	rule 2: drop arp: $r packets $((62 * r)) bytes
	rule 3: drop ip6 dst fe80::/64 port 80: $r packets $((90 * r)) bytes
	rule 4: pass udp src fe80::1: $r packets $((91 * r)) bytes
	rule 5: pass icmp src 10.1.0.0/16: $r packets $((65 * r)) bytes
	rule 6: drop src 10.1.2.3: $r packets $((66 * r)) bytes
	default pass: $((2 * r)) packets $(((61 + 63) * r)) bytes
	$2 -> $3: $((4 * r)) passed $((5 * r)) dropped 0 errors
	$3 -> $2: 0 passed 0 dropped 0 errors
	EOF
}

# fw_got HEXDUMP_OUTPUT: "length:count " of the frames the receiver got,
# to compare with fw_got_want R
fw_got() {
	sed -nE 's/^frame [0-9]+: ([0-9]+) bytes.*/\1/p' "$1" | sort -n | uniq -c |
		awk '{printf "%s:%s ", $2, $1}'
}
fw_got_want() { echo "61:$1 63:$1 65:$1 91:$1 "; }
