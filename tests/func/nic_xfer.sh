#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: frames of 60..1514 bytes cross a 2-queue veth pair through
# netmap NIC ports byte-exact, each exactly once, starting at NETMAP_BUF:
# A -> B over all rings, B -> A over all rings, then A-1 -> B-1 (one ring
# pair with -N: AF_XDP TX on queue 1 arrives on the peer's RX queue 1), and
# frames written in two slots (NS_MOREFRAG, AF_XDP multi-buffer) arrive whole.
#
#     nic_peer send netmap:A[-1] ==veth==> nic_peer recv netmap:B[-1]
source "$(dirname "$0")/nic_lib.bash"

N=3000

R=@conf:rx-slots=4096
peer_xfer "$NSA" "netmap:$VA" "$NSB" "netmap:$VB$R" ab
peer_xfer "$NSB" "netmap:$VB" "$NSA" "netmap:$VA$R" ba
peer_xfer "$NSA" "netmap:$VA-1" "$NSB" "netmap:$VB-1$R" ring1
peer_xfer "$NSA" "netmap:$VA" "$NSB" "netmap:$VB$R" frag frag
echo "nic_xfer: byte-exact both ways, all rings and one ring"
