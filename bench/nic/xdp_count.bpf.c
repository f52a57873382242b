// SPDX-License-Identifier: BSD-2-Clause
/*
 * The kernel's own ceiling on a receiving interface: count every frame in a
 * per-CPU array (no atomics, no cache-line bouncing between CPUs) and either
 * drop it (XDP_DROP) or send it out of another interface through a devmap
 * (XDP_REDIRECT, the XDP "bridge"). The loader (xdp_count.c) picks one of
 * the two programs and reads the counters.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pkts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} out_dev SEC(".maps");

static __always_inline void count(void)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&pkts, &key);

	if (v)
		(*v)++;
}

SEC("xdp")
int xdp_count_drop(struct xdp_md *ctx)
{
	(void)ctx;
	count();
	return XDP_DROP;
}

SEC("xdp")
int xdp_count_redirect(struct xdp_md *ctx)
{
	(void)ctx;
	count();
	return bpf_redirect_map(&out_dev, 0, XDP_DROP);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
