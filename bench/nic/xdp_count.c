// SPDX-License-Identifier: BSD-2-Clause
/*
 * xdp_count: attach a counting XDP_DROP or XDP_REDIRECT program to an
 * interface by bpf_link (so it goes away with this process, SIGKILL
 * included), sample the per-CPU counter every 10 ms and print the rate
 * seen between the first and the last packet:
 *
 *   xdp_count drop: 7.02 Mpps (21060000 pkts in 3.000 s)
 *
 * Usage: xdp_count -i IFNAME [-m drop|redirect] [-o OUT_IFNAME] [-d SECS]
 *                  [-n PKTS] [-I IDLE_SECS] [-S]
 */
#include <getopt.h>
#include <net/if.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nicbench.h"
#include "xdp_count.skel.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: xdp_count -i IFNAME [-m drop|redirect] [-o OUT_IFNAME]\n"
		"                 [-d SECS] [-n PKTS] [-I IDLE_SECS] [-S]\n"
		"  -m   drop (default) or redirect (to -o through a devmap)\n"
		"  -d   run at most SECS seconds (default 10)\n"
		"  -n   stop once PKTS packets were counted (default: no limit)\n"
		"  -I   stop after IDLE_SECS without packets, once some came (default 0: off)\n"
		"  -S   attach in generic (skb) mode instead of native\n");
	exit(2);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int read_count(int map_fd, int ncpu, uint64_t *out)
{
	uint64_t vals[ncpu];
	uint32_t key = 0;
	uint64_t sum = 0;
	int i;

	if (bpf_map_lookup_elem(map_fd, &key, vals))
		return -errno;
	for (i = 0; i < ncpu; i++)
		sum += vals[i];
	*out = sum;
	return 0;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *out_ifname = NULL, *mode = "drop";
	double dur = 10, idle = 0;
	uint64_t max_pkts = 0, cnt = 0, t_start, now, last_change;
	unsigned int ifindex, out_ifindex = 0;
	struct bpf_program *prog;
	struct bpf_link *link;
	struct xdp_count_bpf *skel;
	struct nb_window win = { 0 };
	int opt, ncpu, err, generic = 0, redirect, link_fd = -1;
	uint32_t key = 0;

	while ((opt = getopt(argc, argv, "i:m:o:d:n:I:Sh")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'm': mode = optarg; break;
		case 'o': out_ifname = optarg; break;
		case 'd': dur = nb_parse_double("-d", optarg); break;
		case 'n': max_pkts = nb_parse_u64("-n", optarg); break;
		case 'I': idle = nb_parse_double("-I", optarg); break;
		case 'S': generic = 1; break;
		default: usage();
		}
	}
	if (!ifname || optind != argc)
		usage();
	if (strcmp(mode, "drop") && strcmp(mode, "redirect")) {
		fprintf(stderr, "xdp_count: mode '%s' unknown (drop, redirect)\n", mode);
		return 2;
	}
	redirect = !strcmp(mode, "redirect");
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "xdp_count: interface '%s': %s\n", ifname, strerror(errno));
		return 1;
	}
	if (redirect) {
		if (!out_ifname) {
			fprintf(stderr, "xdp_count: mode redirect needs -o OUT_IFNAME\n");
			return 2;
		}
		out_ifindex = if_nametoindex(out_ifname);
		if (!out_ifindex) {
			fprintf(stderr, "xdp_count: interface '%s': %s\n",
				out_ifname, strerror(errno));
			return 1;
		}
	}
	libbpf_set_print(libbpf_quiet);
	nb_signals();

	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		fprintf(stderr, "xdp_count: cannot count possible CPUs: %s\n",
			strerror(-ncpu));
		return 1;
	}
	skel = xdp_count_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "xdp_count: loading the BPF object: %s\n", strerror(errno));
		return 1;
	}
	if (redirect) {
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.out_dev), &key,
					&out_ifindex, 0)) {
			err = -errno;
			fprintf(stderr, "xdp_count: devmap entry for '%s': %s\n",
				out_ifname, strerror(-err));
			goto out_skel;
		}
		prog = skel->progs.xdp_count_redirect;
	} else {
		prog = skel->progs.xdp_count_drop;
	}

	if (generic) {
		LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_SKB_MODE);
		int fd = bpf_link_create(bpf_program__fd(prog), (int)ifindex,
					 BPF_XDP, &lo);
		if (fd < 0) {
			err = -errno;
			fprintf(stderr, "xdp_count: bpf_link_create(%s, generic): %s\n",
				ifname, strerror(-err));
			goto out_skel;
		}
		/* the fd is the link: the program stays while it is open */
		link = NULL;
		link_fd = fd;
	} else {
		link = bpf_program__attach_xdp(prog, (int)ifindex);
		if (!link) {
			err = -errno;
			fprintf(stderr, "xdp_count: attaching XDP to '%s' by bpf_link: %s\n",
				ifname, strerror(-err));
			goto out_skel;
		}
	}
	fprintf(stderr, "xdp_count: ready on %s (%s, %s)\n", ifname, mode,
		generic ? "generic" : "native");

	t_start = last_change = nb_now_ns();
	err = 0;
	while (!nb_stop) {
		uint64_t prev = cnt;

		usleep(10000);
		err = read_count(bpf_map__fd(skel->maps.pkts), ncpu, &cnt);
		if (err) {
			fprintf(stderr, "xdp_count: reading the counter map: %s\n",
				strerror(-err));
			break;
		}
		now = nb_now_ns();
		nb_window_note(&win, now, cnt);
		if (cnt != prev)
			last_change = now;
		if (now - t_start >= (uint64_t)(dur * 1e9))
			break;
		if (max_pkts && cnt >= max_pkts)
			break;
		if (idle > 0 && cnt && now - last_change >= (uint64_t)(idle * 1e9))
			break;
	}
	printf("xdp_count %s: %.2f Mpps (%llu pkts in %.3f s, %llu total)\n",
	       mode, nb_window_pps(&win) / 1e6,
	       (unsigned long long)(win.pkts_last - win.pkts_first),
	       nb_window_secs(&win), (unsigned long long)cnt);
	fflush(stdout);
	bpf_link__destroy(link);
	if (link_fd >= 0)
		close(link_fd);
out_skel:
	xdp_count_bpf__destroy(skel);
	return err ? 1 : 0;
}
