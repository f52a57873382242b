// SPDX-License-Identifier: BSD-2-Clause
/*
 * host_redirect.bpf.c - the two TC programs behind a NIC's host rings
 * (lib/ports/host.c), both attached on tcx hooks through bpf_links, so they
 * go away with the process:
 *
 *   unm_host_capture  tcx egress of IF: every frame the stack transmits on
 *                     IF goes to the helper veth instead of the wire (its
 *                     other end feeds the host RX ring);
 *   unm_host_inject   tcx ingress of the helper veth: frames the program
 *                     wrote to the host TX ring enter IF's receive path, as
 *                     if received on IF (after IF's XDP hook, so a NIC port's
 *                     XDP program never sees them).
 *
 * The ifindexes are set in .rodata before the load.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 helper_ifindex;	/* the helper veth end in IF's namespace */
const volatile __u32 host_ifindex;	/* IF */

SEC("tc")
int unm_host_capture(struct __sk_buff *skb)
{
	(void)skb;
	return bpf_redirect(helper_ifindex, 0);
}

SEC("tc")
int unm_host_inject(struct __sk_buff *skb)
{
	(void)skb;
	return bpf_redirect(host_ifindex, BPF_F_INGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
