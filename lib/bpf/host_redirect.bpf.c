// SPDX-License-Identifier: BSD-2-Clause
/*
 * host_redirect.bpf.c - the TC programs behind a NIC's host rings
 * (lib/ports/host.c), all attached on tcx hooks through bpf_links, so they
 * go away with the process:
 *
 *   unm_host_capture  tcx egress of IF: every frame the stack transmits on
 *                     IF goes to the helper veth instead of the wire (its
 *                     other end feeds the host RX ring);
 *   unm_host_inject   tcx ingress of the helper veth: frames the program
 *                     wrote to the host TX ring enter IF's receive path, as
 *                     if received on IF (after IF's XDP hook, so a NIC port's
 *                     XDP program never sees them), marked with inject_mark;
 *   unm_host_unmark   tcx ingress of IF, last in the chain: takes the mark
 *                     off again before the stack sees the frame.
 *
 * Why the mark: between the redirect and IF's tcx ingress the frame passes
 * IF's packet taps, and in emulated mode (lib/ports/afpacket.c) an RX packet
 * socket there (which must not take it back into the NIC RX ring: its
 * classic BPF filter rejects the mark) and a tcx drop keeping the stack off
 * IF (which lets marked frames through). The mark survives the redirect:
 * helper and IF share a namespace, so the skb is not scrubbed of it.
 *
 * The ifindexes and the mark are set in .rodata before the load.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 helper_ifindex;	/* the helper veth end in IF's namespace */
const volatile __u32 host_ifindex;	/* IF */
const volatile __u32 inject_mark;	/* UNM_HOST_MARK (lib/core/unm.h) */

SEC("tc")
int unm_host_capture(struct __sk_buff *skb)
{
	(void)skb;
	return bpf_redirect(helper_ifindex, 0);
}

SEC("tc")
int unm_host_inject(struct __sk_buff *skb)
{
	skb->mark = inject_mark;
	return bpf_redirect(host_ifindex, BPF_F_INGRESS);
}

SEC("tc")
int unm_host_unmark(struct __sk_buff *skb)
{
	if (skb->mark == inject_mark)
		skb->mark = 0;
	return TC_ACT_UNSPEC;	/* TCX_NEXT: the frame goes on */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
