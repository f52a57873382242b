// SPDX-License-Identifier: BSD-2-Clause
/*
 * xsk_redirect.bpf.c - the XDP program a NIC port (lib/ports/afxdp.c) attaches
 * to its interface: a frame received on queue q goes to the AF_XDP socket at
 * key q of the XSKMAP. A queue without a socket drops (XDP_DROP is
 * bpf_redirect_map's action for an empty slot): while a netmap port is open on
 * a NIC the host stack does not see that NIC's traffic, as in netmap. The
 * program is attached through a bpf_link; every process driving the NIC (one
 * per queue) holds a reference on the link and fills its own queues' XSKMAP
 * slots, so the program goes away with the last of them.
 *
 * Built by clang into $(BUILD)/gen/xsk_redirect.bpf.o and embedded in the
 * library as a bpftool skeleton ($(BUILD)/gen/xsk_redirect.skel.h): no
 * object file is needed at run time.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define UNM_XSK_MAX_QUEUES	64	/* UNM_MAX_RINGS in lib/core/unm.h */

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, UNM_XSK_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/* xdp.frags: frames of several buffers (jumbo MTU) reach multi-buffer sockets */
SEC("xdp.frags")
int unm_xsk_redirect(struct xdp_md *ctx)
{
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_DROP);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
