# SPDX-License-Identifier: BSD-2-Clause
# Sourced by bench/host/run -w: write_section prints the "Host rings" section
# of docs/BENCHMARKS.md from this run ($TMP/tables.md and the run's settings).
# The prose says what the paths are and where the cost goes; the figures
# come only from the tables of the run.

write_section() {
	local cpu kernel head when bld
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	kernel=$(uname -r)
	# the working tree built by run: HEAD then, and what differed from it
	head=$REV
	[[ -z $DIRTY ]] || head="$head plus uncommitted changes in $DIRTY"
	when=$(date -u '+%Y-%m-%d %H:%M UTC')
	bld=${BUILD#"$ROOT"/}
	cat <<-EOF
	## Host rings

	TCP bulk (iperf3) and ping RTT between two namespaces joined by one veth
	pair, straight through ("direct") and with a netmap program bridging A's
	NIC rings and host rings (issue 5): everything between the two stacks
	then crosses the program, both ways.

	    ns A (10.79.0.1)                                   ns B (10.79.0.2)
	    stack --tx--> [tcx egress] -> host RX ring -> FWD -> VA NIC TX ==veth==> VB  stack
	    stack <------ [helper veth] <- host TX ring <- FWD <- VA NIC RX <==veth== VB

	Measured $when on $(nproc) vCPUs ($cpu), Linux $kernel.
	A VM: NIC ports on veth are copy-mode AF_XDP (veth has no zero-copy AF_XDP).
	Build \`$bld\` at $head.
	1-minute load average $LOAD0 at the start, $LOAD1 at the end.
	Command (as root; leaves no namespace, link or file behind):

	    BUILD=$bld bench/host/run $ARGS

	Paths: ${PATHS[*]}; FWD is \`examples/nic2host -i netmap:VA\` or
	\`tools/bridge -w 0 -i netmap:VA\` (one port: NIC rings <-> host rings), both
	forwarding by buffer swap, in A's namespace, not pinned. iperf3: server in A
	(\`-s -1\`), client in B, \`-t $D -O 1\`; B->A is the client sending, A->B is
	\`-R\` (A's stack sends). The figure is the receiver's rate. Ping: B -> A,
	$PINGS requests 10 ms apart; RTT avg, p50 and p99 (nearest rank) from the
	per-reply times. $ROUNDS rounds; in each round every path runs once, in turn.
	Ratios are path / direct within a round, then the median (min-max) over the
	rounds. "VA drops B->A": frames VA's veth queue dropped during the B->A
	transfer (\`ethtool -S\` rx_queue_N_drops): the XDP program could not hand
	them to the AF_XDP socket (its RX ring full: FWD behind). Link settings are
	the same on every path: B sends with TX checksum offload off (so without
	TSO; a veth hands CHECKSUM_PARTIAL frames to AF_XDP unchecksummed, see
	tests/func/host_rings.sh); A keeps its defaults (TSO, GSO, checksum offload on).

	$(cat "$TMP/tables.md")

	**Where the cost goes** (docs/ARCHITECTURE.md, "Host rings"; lib/ports/host.c).
	Direct, a TCP segment is one skb handed from one veth end to the other in the
	sender's softirq; A's TSO super-frames (up to 64 KiB) cross as they are and
	are never segmented or checksummed: direct A->B pays per 64 KiB. Through FWD,
	per frame:

	- **B->A (wire to stack).** B's frames (1514 bytes) reach VA's XDP program,
	  which redirects them to the AF_XDP socket: copy mode, one copy into the
	  UMEM, then a wake-up of FWD. FWD swaps the buffer into the host TX ring
	  (no copy), and the host TX sync sends it with \`sendmmsg\` on a packet
	  socket bound to the private end of the helper veth: a second copy, into a
	  new skb; a cls_bpf filter with act_mirred on the helper's ingress moves it into VA's ingress,
	  where A's stack receives it as if from the wire. When FWD falls behind, the
	  AF_XDP RX ring fills and VA drops (the VA drops column); TCP retransmits them.
	- **A->B (stack to wire).** A's stack hands TSO super-frames to VA; the tcx
	  egress program redirects them to the helper veth, whose TSO/GSO/SG/TX
	  checksum offloads are off, so the kernel segments and checksums each one
	  into wire-size frames there (\`validate_xmit_skb\`): FWD sees wire frames,
	  about 45 per 64 KiB, not super-frames. Each is copied by \`recvmmsg\` into a
	  host RX slot, swapped into VA's NIC TX ring, and copied again by copy-mode
	  AF_XDP TX into an skb (the whole TX ring per \`sendto\` kick on 6.17+). Direct
	  carries one skb per 64 KiB; through FWD it is one segmentation, two copies
	  and one checksum per 1.5 KiB. This is the largest gap.
	- **RTT.** Each round trip crosses FWD twice and adds the helper veth and the
	  redirect into VA's ingress. The request needs a wake-up: FWD sleeps in
	  ppoll (poll() does not spin on NIC and host rings, which the kernel feeds,
	  often on the same CPU). The reply does not: A's stack answers inside FWD's
	  own host TX \`sendmmsg\` (the injected request is processed in that system
	  call's softirq), so the reply reaches the host RX ring of a FWD that is
	  already running. On a busy machine the p99 is run-queue latency, not the
	  rings: a trace by hand (perf, xdp/sched/net tracepoints, 2026-11-25, load
	  ~5) showed FWD woken 10-80 us after XDP handed it the request, then
	  waiting about one scheduler tick (4 ms), now and then several, for a CPU
	  that other jobs held; stalls were all on the request side.
	  \`bridge\` between two NIC ports, no host rings, shows the same tail.

	Retransmits on the direct path come with no drop anywhere (veth and
	softnet counters, checked by hand): the receiver's nstat shows out-of-order
	segments (TcpExtTCPOFOQueue), so they are mostly fast retransmits after
	reordering, not losses. Through FWD, B->A retransmits follow the VA drops;
	A->B loses nothing on the way (helper TX count = VB RX count, checked by hand).

	With a zero-copy AF_XDP NIC the AF_XDP copies go; the host side keeps its
	segmentation and its packet-socket copy by design (the stack's frames must
	be wire frames, and the host rings live in the NIC port's region).
	EOF
}
