// SPDX-License-Identifier: BSD-2-Clause
/*
 * XDP program for xsk_bare: every frame received on queue q goes to the
 * AF_XDP socket stored at key q of the XSKMAP; queues without a socket pass
 * the frame to the stack (bpf_redirect_map's fallback action, kernel >= 5.3).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int xsk_redirect(struct xdp_md *ctx)
{
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
