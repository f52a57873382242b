// SPDX-License-Identifier: BSD-2-Clause
/*
 * nic2nic: the minimal zero-copy forwarder between two netmap ports.
 *
 *	nic2nic -i netmap:eth0 -i netmap:eth1
 *
 * The second port is opened with NM_OPEN_NO_MMAP and the first as parent:
 * it registers in the parent's memory region and shares its mapping, so a
 * buffer received on one port can be sent on the other by swapping buffer
 * indices between the RX and the TX slot (and flagging both with
 * NS_BUF_CHANGED): no byte of the frame is copied. If the second port
 * cannot live in the first one's region, nic2nic says so and exits: use
 * bridge(8), which falls back to copying.
 *
 * Slots move one for one and keep their NS_MOREFRAG flag, so multi-slot
 * frames arrive whole and in order.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NETMAP_WITH_LIBS
#include <net/netmap_user.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: nic2nic -i port1 -i port2 [-n count] [-t seconds]\n"
"  -i port     the two netmap ports (netmap:eth0, netmap:x}0, ...)\n"
"  -n count    exit after forwarding count frames in all (default 0: no limit)\n"
"  -t seconds  exit after this many seconds (default 0: no limit)\n"
"Ends on SIGINT/SIGTERM too, printing the frames forwarded each way.\n");
}

static unsigned long num_arg(int opt, const char *arg, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || v > max) {
		fprintf(stderr, "nic2nic: bad -%c '%s': must be a number 0..%lu\n",
			opt, arg, max);
		exit(1);
	}
	return v;
}

/*
 * Swap up to limit slots from the RX rings of src into the TX rings of
 * dst. Returns the frames completed (slots without NS_MOREFRAG).
 */
static unsigned long swap_rings(struct nm_desc *src, struct nm_desc *dst,
				unsigned long limit)
{
	unsigned int si = src->first_rx_ring, di = dst->first_tx_ring;
	unsigned long frames = 0;

	while (si <= src->last_rx_ring && di <= dst->last_tx_ring) {
		struct netmap_ring *rx = NETMAP_RXRING(src->nifp, si);
		struct netmap_ring *tx = NETMAP_TXRING(dst->nifp, di);
		uint32_t j, k;

		if (nm_ring_empty(rx)) {
			si++;
			continue;
		}
		if (nm_ring_empty(tx)) {
			di++;
			continue;
		}
		j = rx->head;
		k = tx->head;
		while (j != rx->tail && k != tx->tail && (!limit || frames < limit)) {
			struct netmap_slot *rs = &rx->slot[j], *ts = &tx->slot[k];
			uint32_t idx = ts->buf_idx;

			ts->buf_idx = rs->buf_idx;
			rs->buf_idx = idx;
			ts->len = rs->len;
			ts->flags = NS_BUF_CHANGED | (rs->flags & NS_MOREFRAG);
			rs->flags |= NS_BUF_CHANGED;
			if (!(ts->flags & NS_MOREFRAG))
				frames++;
			j = nm_ring_next(rx, j);
			k = nm_ring_next(tx, k);
		}
		rx->head = rx->cur = j;
		tx->head = tx->cur = k;
		if (limit && frames >= limit)
			break;
	}
	return frames;
}

/*
 * Hand the last forwarded slots to the port and wait, a bounded while, until
 * it has sent them: a NIC port sends in the background and closing it drops
 * what it has not sent yet. A pipe whose peer has left never drains: the
 * bound is what ends the wait then.
 */
static void tx_drain(int fd, struct netmap_if *nifp, unsigned int first, unsigned int last)
{
	unsigned int i, tries;

	for (tries = 0; tries < 500; tries++) {
		int pending = 0;

		if (ioctl(fd, NIOCTXSYNC, NULL) < 0)
			return;
		for (i = first; i <= last; i++)
			pending |= nm_tx_pending(NETMAP_TXRING(nifp, i));
		if (!pending)
			return;
		usleep(1000);
	}
}

int main(int argc, char **argv)
{
	unsigned long count = 0, seconds = 0, ab = 0, ba = 0;
	const char *ifa = NULL, *ifb = NULL;
	struct nm_desc *pa, *pb;
	struct sigaction sa;
	time_t deadline = 0;
	int ch, ret = 0;

	while ((ch = getopt(argc, argv, "hi:n:t:")) != -1) {
		switch (ch) {
		case 'i':
			if (!ifa) {
				ifa = optarg;
			} else if (!ifb) {
				ifb = optarg;
			} else {
				fprintf(stderr, "nic2nic: -i %s: already have two ports\n", optarg);
				return 1;
			}
			break;
		case 'n':
			count = num_arg('n', optarg, ~0UL);
			break;
		case 't':
			seconds = num_arg('t', optarg, 86400UL * 365);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc || !ifa || !ifb) {
		if (optind < argc)
			fprintf(stderr, "nic2nic: unexpected argument '%s'\n", argv[optind]);
		else
			fprintf(stderr, "nic2nic: need two ports, given with -i\n");
		usage(stderr);
		return 1;
	}

	pa = nm_open(ifa, NULL, 0, NULL);
	if (!pa) {
		fprintf(stderr, "nic2nic: cannot open %s: %s\n", ifa, strerror(errno));
		return 1;
	}
	/* same region as pa, same mapping: swaps need no copy */
	pb = nm_open(ifb, NULL, NM_OPEN_NO_MMAP, pa);
	if (!pb) {
		fprintf(stderr, "nic2nic: cannot open %s in the memory region of %s (mem %u): %s\n",
			ifb, ifa, pa->req.nr_arg2, strerror(errno));
		nm_close(pa);
		return 1;
	}
	if (pb->mem != pa->mem) {
		fprintf(stderr, "nic2nic: %s (mem %u) and %s (mem %u) do not share memory: "
			"no zero-copy forwarding possible (bridge -i ... copies)\n",
			ifa, pa->req.nr_arg2, ifb, pb->req.nr_arg2);
		ret = 1;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (seconds)
		deadline = time(NULL) + (time_t)seconds;
	fprintf(stderr, "nic2nic: %s <-> %s, mem %u, zero-copy\n", ifa, ifb, pa->req.nr_arg2);

	while (!stop && (!count || ab + ba < count)) {
		struct pollfd pfd[2] = { { .fd = pa->fd }, { .fd = pb->fd } };
		int i;

		if (deadline && time(NULL) >= deadline)
			break;
		/*
		 * Frames waiting on one side: wait for TX room on the other;
		 * none: wait for frames. poll() also flushes the TX rings.
		 */
		for (i = 0; i < 2; i++) {
			struct nm_desc *d = i ? pb : pa;
			unsigned int r, held = 0;

			for (r = d->first_rx_ring; r <= d->last_rx_ring; r++)
				held += nm_ring_space(NETMAP_RXRING(d->nifp, r));
			if (held)
				pfd[!i].events |= POLLOUT;
			else
				pfd[i].events |= POLLIN;
		}
		if (poll(pfd, 2, 200) < 0 && errno != EINTR) {
			fprintf(stderr, "nic2nic: poll: %s\n", strerror(errno));
			ret = 1;
			break;
		}
		ab += swap_rings(pa, pb, count ? count - ab - ba : 0);
		if (count && ab + ba >= count)
			break;
		ba += swap_rings(pb, pa, count ? count - ab - ba : 0);
	}
	/* flush the TX rings, give the RX slots back */
	tx_drain(pa->fd, pa->nifp, pa->first_tx_ring, pa->last_tx_ring);
	tx_drain(pb->fd, pb->nifp, pb->first_tx_ring, pb->last_tx_ring);
	ioctl(pa->fd, NIOCRXSYNC, NULL);
	ioctl(pb->fd, NIOCRXSYNC, NULL);
	printf("%s -> %s: %lu packets\n", ifa, ifb, ab);
	printf("%s -> %s: %lu packets\n", ifb, ifa, ba);
out:
	nm_close(pb);
	nm_close(pa);
	return ret;
}
