// SPDX-License-Identifier: BSD-2-Clause
/*
 * tpacket_rx: the AF_PACKET RX peer. A TPACKET_V3 ring (blocks of frames the
 * kernel fills and hands over whole; one poll() per empty block), bound to
 * one interface, ignoring outgoing frames. Walks every frame header in each
 * block (a reader must, to find the frames) and counts; with -t it also
 * reads each frame's first and last byte.
 *
 *   tpacket_rx rx: 1.52 Mpps (4560000 pkts in 3.000 s, 0 dropped)
 *
 * Usage: tpacket_rx -i IFNAME [-d SECS] [-n PKTS] [-I IDLE_SECS]
 *                   [-B BLOCK_SIZE] [-N BLOCKS] [-T RETIRE_MS] [-t]
 */
#include <getopt.h>
#include <poll.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_packet.h>

#include "nicbench.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: tpacket_rx -i IFNAME [-d SECS] [-n PKTS] [-I IDLE_SECS]\n"
		"                  [-B BLOCK_SIZE] [-N BLOCKS] [-T RETIRE_MS] [-t]\n"
		"  -d   run at most SECS seconds (default 10)\n"
		"  -n   stop after PKTS packets (default: no limit)\n"
		"  -I   stop after IDLE_SECS without packets, once some came\n"
		"  -B   ring block size in bytes, a power of two (default 1 MiB)\n"
		"  -N   ring blocks (default 32)\n"
		"  -T   block retire timeout in ms (default 10)\n"
		"  -t   read each frame's first and last byte\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *ifname = NULL;
	double dur = 10, idle = 0;
	uint64_t max_pkts = 0, pkts = 0, t0, now, deadline, last_change;
	uint64_t block_size = 1 << 20, nblocks = 32, retire_ms = 10;
	const uint32_t frame_size = 2048;
	struct tpacket_req3 req;
	struct tpacket_stats_v3 st;
	socklen_t stlen = sizeof(st);
	struct sockaddr_ll sll;
	struct nb_window win = { 0 };
	struct pollfd pfd;
	unsigned int ifindex, blk = 0;
	int fd, opt, v = TPACKET_V3, one = 1, touch = 0, err = 0;
	uint8_t *ring;
	size_t ring_size;
	volatile uint8_t sink = 0;

	while ((opt = getopt(argc, argv, "i:d:n:I:B:N:T:th")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'd': dur = nb_parse_double("-d", optarg); break;
		case 'n': max_pkts = nb_parse_u64("-n", optarg); break;
		case 'I': idle = nb_parse_double("-I", optarg); break;
		case 'B': block_size = nb_parse_u64("-B", optarg); break;
		case 'N': nblocks = nb_parse_u64("-N", optarg); break;
		case 'T': retire_ms = nb_parse_u64("-T", optarg); break;
		case 't': touch = 1; break;
		default: usage();
		}
	}
	if (!ifname || optind != argc)
		usage();
	if (block_size < 4096 || (block_size & (block_size - 1)) ||
	    block_size > (1u << 30)) {
		fprintf(stderr, "tpacket_rx: block size %llu must be a power of two, 4096..2^30\n",
			(unsigned long long)block_size);
		return 2;
	}
	if (!nblocks || nblocks > 4096 || !retire_ms || retire_ms > 60000) {
		fprintf(stderr, "tpacket_rx: -N must be 1..4096, -T 1..60000\n");
		return 2;
	}
	if (dur <= 0 && !max_pkts) {
		fprintf(stderr, "tpacket_rx: need a bound: -d SECS > 0 or -n PKTS\n");
		return 2;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "tpacket_rx: interface '%s': %s\n", ifname, strerror(errno));
		return 1;
	}
	nb_signals();

	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		fprintf(stderr, "tpacket_rx: AF_PACKET socket: %s\n", strerror(errno));
		return 1;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v))) {
		fprintf(stderr, "tpacket_rx: PACKET_VERSION TPACKET_V3: %s\n", strerror(errno));
		goto out_fd;
	}
	memset(&req, 0, sizeof(req));
	req.tp_block_size = (unsigned int)block_size;
	req.tp_block_nr = (unsigned int)nblocks;
	req.tp_frame_size = frame_size;
	req.tp_frame_nr = (unsigned int)(block_size / frame_size * nblocks);
	req.tp_retire_blk_tov = (unsigned int)retire_ms;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req))) {
		fprintf(stderr, "tpacket_rx: PACKET_RX_RING (%llu blocks of %llu): %s\n",
			(unsigned long long)nblocks, (unsigned long long)block_size,
			strerror(errno));
		goto out_fd;
	}
	/* not an error if the kernel is older than 4.20: we would count our own TX */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	ring_size = (size_t)block_size * nblocks;
	ring = mmap(NULL, ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED,
		    fd, 0);
	if (ring == MAP_FAILED) {
		fprintf(stderr, "tpacket_rx: mmap of the %zu-byte ring: %s\n", ring_size,
			strerror(errno));
		goto out_fd;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "tpacket_rx: bind to '%s': %s\n", ifname, strerror(errno));
		goto out_ring;
	}
	/* reset the counters: what came before bind is not ours */
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen);
	fprintf(stderr, "tpacket_rx: ready on %s\n", ifname);

	pfd.fd = fd;
	pfd.events = POLLIN | POLLERR;
	t0 = now = last_change = nb_now_ns();
	win.t_prev = t0;
	deadline = dur > 0 ? t0 + (uint64_t)(dur * 1e9) : UINT64_MAX;
	while (!nb_stop) {
		struct tpacket_block_desc *bd =
			(struct tpacket_block_desc *)(ring + (size_t)blk * block_size);

		if (__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		    TP_STATUS_USER) {
			uint32_t n = bd->hdr.bh1.num_pkts, i;
			struct tpacket3_hdr *h = (struct tpacket3_hdr *)
				((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);

			for (i = 0; i < n; i++) {
				if (touch && h->tp_snaplen) {
					const uint8_t *p = (uint8_t *)h + h->tp_mac;

					sink ^= p[0] ^ p[h->tp_snaplen - 1];
				}
				h = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
			}
			pkts += n;
			__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
					 __ATOMIC_RELEASE);
			blk = (blk + 1) % (unsigned int)nblocks;
		} else {
			poll(&pfd, 1, 10);
		}
		now = nb_now_ns();
		if (nb_window_due(&win, now)) {
			if (pkts != win.pkts_prev)
				last_change = now;
			nb_window_note(&win, now, pkts);
			if (now >= deadline)
				break;
			if (idle > 0 && pkts &&
			    now - last_change >= (uint64_t)(idle * 1e9))
				break;
		}
		if (max_pkts && pkts >= max_pkts)
			break;
	}
	nb_window_note(&win, now, pkts);
	stlen = sizeof(st);
	memset(&st, 0, sizeof(st));
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen);
	printf("tpacket_rx rx: %.2f Mpps (%llu pkts in %.3f s, %u dropped, %llu total)\n",
	       nb_window_pps(&win) / 1e6,
	       (unsigned long long)(win.pkts_last - win.pkts_first),
	       nb_window_secs(&win), st.tp_drops, (unsigned long long)pkts);
	fflush(stdout);
	(void)sink;
	munmap(ring, ring_size);
	close(fd);
	return 0;
out_ring:
	munmap(ring, ring_size);
out_fd:
	err = 1;
	close(fd);
	return err;
}
