// SPDX-License-Identifier: BSD-2-Clause
/*
 * host_redirect.bpf.c - the TC programs behind a NIC's host rings
 * (lib/ports/host.c). Those on IF are attached on tcx hooks through
 * bpf_links, so they go away with the process; the one on the helper veth
 * goes away with the helper:
 *
 *   unm_host_capture  tcx egress of IF: every frame the stack transmits on
 *                     IF goes to the helper veth instead of the wire (its
 *                     other end feeds the host RX ring);
 *   unm_host_inject   cls_bpf classifier on the helper veth's ingress
 *                     (clsact): marks the frames the program wrote to the
 *                     host TX ring with inject_mark and matches them (-1),
 *                     so that the filter's act_mirred redirects them into
 *                     IF's receive path, as if received on IF. act_mirred,
 *                     not bpf_redirect(): it flags the skb as redirected,
 *                     and generic XDP on IF lets such frames pass (native
 *                     XDP never sees them: they enter after the driver);
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
 * The helper's ifindex and the mark are set in .rodata before the load.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 helper_ifindex;	/* the helper veth end in IF's namespace */
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
	return -1;	/* cls_bpf: a match, with the filter's class; the action runs */
}

SEC("tc")
int unm_host_unmark(struct __sk_buff *skb)
{
	if (skb->mark == inject_mark)
		skb->mark = 0;
	return TC_ACT_UNSPEC;	/* TCX_NEXT: the frame goes on */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
