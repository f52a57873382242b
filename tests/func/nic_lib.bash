# SPDX-License-Identifier: BSD-2-Clause
# Sourced by tests/func/nic_*.sh: two network namespaces joined by one veth
# pair with two queues per end, pid-unique names, removed by the EXIT trap.
#
#     namespace $NSA              namespace $NSB
#     $VA (2 TX / 2 RX queues) <--veth--> $VB (2 TX / 2 RX queues)
#
# Traffic goes only between these two ends. Each test gets its own
# shared-memory world (UNM_SHM_PREFIX), so the checks for leftovers are not
# confused by other processes on the machine.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
PEER=$BUILD/tests/func/nic_peer
PKTGEN=$BUILD/tools/pkt-gen
T=$$
NSA=unm-na$T NSB=unm-nb$T VA=unmA$T VB=unmB$T
export UNM_SHM_PREFIX=unm-nic$T
OUT=$(mktemp -d)

skip() { echo "skip: $*"; exit 77; }
fail() { echo "FAIL: $*"; for f in "$OUT"/*; do [ -f "$f" ] && { echo "--- $f"; tail -n 8 "$f"; }; done; exit 1; }

nic_cleanup() {
	local j
	for j in $(jobs -p); do kill -9 "$j" 2>/dev/null; done
	# whatever still runs in our namespaces (a backgrounded `ip netns exec`)
	for j in $(ip netns pids "$NSA" 2>/dev/null) $(ip netns pids "$NSB" 2>/dev/null); do
		kill -9 "$j" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	rm -rf "$OUT"
	rm -f /dev/shm/"$UNM_SHM_PREFIX".* 2>/dev/null
}
trap nic_cleanup EXIT

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, XDP)"
[ -x "$PEER" ] && [ -x "$PKTGEN" ] || fail "build first: $PEER, $PKTGEN"
ip netns add "$NSA" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$NSB" || fail "ip netns add $NSB"
ip link add "$VA" numtxqueues 2 numrxqueues 2 type veth peer name "$VB" \
	numtxqueues 2 numrxqueues 2 || skip "cannot create a multiqueue veth pair"
ip link set "$VA" netns "$NSA" && ip link set "$VB" netns "$NSB" || fail "veth into namespaces"
# no IPv6 on the test links: the stack's own frames (ND, MLD) would be counted
for ns in "$NSA" "$NSB"; do
	ip netns exec "$ns" sh -c 'for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do echo 1 >"$f"; done' 2>/dev/null
done
ip -n "$NSA" link set "$VA" up && ip -n "$NSB" link set "$VB" up || fail "veth up"

source tests/func/wait_lib.bash	# cwd: the repository (cd above)

# peer_xfer NS_TX TX NS_RX RX TAG [MODE]: nic_peer sends $N frames on port TX
# (MODE: nic_peer send's mode, e.g. frag) and a receiver on RX (which may
# carry @conf:...) checks it got exactly them; XFER_ENV (e.g. UNM_VERBOSE=2)
# is put in the receiver's environment, XFER_VIA names what sits between
peer_xfer() {
	local ns_tx=$1 tx=$2 ns_rx=$3 rx=$4 tag=$5 mode=${6:-}
	# shellcheck disable=SC2086 # XFER_ENV: zero or more NAME=VALUE words
	ip netns exec "$ns_rx" env ${XFER_ENV:-} timeout 20 "$PEER" recv "$rx" $N 15 \
		>"$OUT/recv$tag" 2>&1 &
	local pid=$!
	wait_for "$OUT/recv$tag" ready 5
	ip netns exec "$ns_tx" timeout 20 "$PEER" send "$tx" $N 15 $mode >"$OUT/send$tag" 2>&1 ||
		fail "$tx: send"
	wait $pid || fail "$tx -> $rx${XFER_VIA:-}: $(tail -n 1 "$OUT/recv$tag")"
	echo "$tx -> $rx${XFER_VIA:-}: $(tail -n 1 "$OUT/recv$tag")"
}

# TCP endpoints (python3, mk/deps.sh test): tcp_xfer NS_SRV ADDR PORT NS_CLI
# NBYTES sends NBYTES from NS_CLI to a one-off server in NS_SRV and checks
# that exactly those bytes arrived (SHA-256); the client's answer is in
# $OUT/cli.PORT, the server's output in $OUT/srv.PORT
TCP_PEER=tests/func/tcp_peer.py
tcp_xfer() {
	ip netns exec "$1" timeout 30 python3 "$TCP_PEER" server "$2" "$3" >"$OUT/srv.$3" 2>&1 &
	local srv=$! rc=0
	ip netns exec "$4" timeout 30 python3 "$TCP_PEER" client "$2" "$3" "$5" >"$OUT/cli.$3" 2>&1 || rc=1
	wait $srv || rc=1
	return $rc
}

# in the foreground; to put a program in the background use `ip netns exec`
# itself, so that $! is the program's pid (it execs), not a subshell's
ina() { ip netns exec "$NSA" "$@"; }
inb() { ip netns exec "$NSB" "$@"; }

# AF_XDP missing from the kernel is a skip; anything else is the port's business
probe=$(ina "$PEER" open "netmap:$VA" 2>&1)
case $probe in
ok*|*$'\n'ok*) ;;
*"Address family not supported"*) skip "no AF_XDP in this kernel: $probe" ;;
*) fail "opening netmap:$VA: $probe" ;;
esac

# promiscuous through a packet membership: `ip -d link` says "promiscuity N"
# (the PROMISC flag shows only what was set by hand)
is_promisc() { ip -n "$1" -d link show "$2" | grep -qE 'PROMISC|promiscuity [1-9]'; }

# what must be gone once no process holds the port
no_leftovers() {
	local ns=$1 dev=$2 i
	for i in $(seq 1 40); do
		if ! ip -n "$ns" -d link show "$dev" | grep -qE 'xdp|prog/xdp|PROMISC|promiscuity [1-9]' &&
		   ! ls /dev/shm/"$UNM_SHM_PREFIX".* >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	ip -n "$ns" -d link show "$dev"
	ls -l /dev/shm/"$UNM_SHM_PREFIX".* 2>&1
	return 1
}
