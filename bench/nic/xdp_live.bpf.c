// SPDX-License-Identifier: BSD-2-Clause
/*
 * Load generator program, run by BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES: the kernel builds each frame from the test
 * run's input data and redirects it out of target_ifindex (ndo_xdp_xmit),
 * batch by batch, the way xdp-trafficgen generates traffic. Set
 * target_ifindex before load (read-only data, so the verifier sees a
 * constant).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 target_ifindex = 0;

SEC("xdp")
int xdp_live_redirect(struct xdp_md *ctx)
{
	(void)ctx;
	return bpf_redirect(target_ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
