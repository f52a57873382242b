// SPDX-License-Identifier: BSD-2-Clause
/*
 * nic2host: put a program between a NIC and the host's network stack.
 *
 *	nic2host -i netmap:eth0
 *
 * Opens the NIC rings (netmap:eth0) and the host rings (netmap:eth0^) of one
 * interface. What arrives from the wire on the NIC RX rings goes to the host
 * TX ring, so the stack receives it as if straight from the wire; what the
 * stack transmits on the interface arrives on the host RX ring and goes to
 * the NIC TX rings, out on the wire. Both ways the frame is not copied: the
 * host rings are opened with NM_OPEN_NO_MMAP and the NIC port as parent, in
 * the same memory region, and a frame moves by swapping the buffer indices
 * of the RX and the TX slot (NS_BUF_CHANGED on both). Slots move one for
 * one and keep NS_MOREFRAG, so frames over several slots stay whole.
 *
 * This is the skeleton of a transparent middlebox: look at (or drop, or
 * rewrite) each frame in swap_rings() and the stack never knows.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
"Usage: nic2host -i IF [-v]\n"
"  -i IF   the interface, as IF or netmap:IF (no ring suffix)\n"
"  -v      verbose: print the rings bound and the region\n"
"Forwards NIC RX -> host TX (netmap:IF -> netmap:IF^) and host RX -> NIC TX\n"
"by buffer swap, until SIGINT/SIGTERM; then prints the frames forwarded.\n");
}

/*
 * Swap the slots the RX rings of src hold into the TX rings of dst, as far
 * as there is room. Returns the frames completed (slots without NS_MOREFRAG).
 */
static unsigned long swap_rings(struct nm_desc *src, struct nm_desc *dst)
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
		while (j != rx->tail && k != tx->tail) {
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
	}
	return frames;
}

/* Frames that src's RX rings hold, not yet forwarded. */
static unsigned int rx_held(struct nm_desc *d)
{
	unsigned int r, held = 0;

	for (r = d->first_rx_ring; r <= d->last_rx_ring; r++)
		held += nm_ring_space(NETMAP_RXRING(d->nifp, r));
	return held;
}

/*
 * Hand the last forwarded slots to the port and wait, a bounded while, until
 * they are gone: the port sends in the background and closing it drops what
 * it has not sent yet.
 */
static void tx_drain(struct nm_desc *d)
{
	unsigned int i, tries;

	for (tries = 0; tries < 500; tries++) {
		int pending = 0;

		if (ioctl(d->fd, NIOCTXSYNC, NULL) < 0)
			return;
		for (i = d->first_tx_ring; i <= d->last_tx_ring; i++)
			pending |= nm_tx_pending(NETMAP_TXRING(d->nifp, i));
		if (!pending)
			return;
		usleep(1000);
	}
}

int main(int argc, char **argv)
{
	unsigned long n2h = 0, h2n = 0;
	const char *ifname = NULL;
	char nic[128], host[130];
	struct nm_desc *pn, *ph;
	struct sigaction sa;
	int ch, verbose = 0, ret = 0;

	while ((ch = getopt(argc, argv, "hi:v")) != -1) {
		switch (ch) {
		case 'i':
			ifname = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc || !ifname) {
		if (optind < argc)
			fprintf(stderr, "nic2host: unexpected argument '%s'\n", argv[optind]);
		else
			fprintf(stderr, "nic2host: need an interface, given with -i\n");
		usage(stderr);
		return 1;
	}
	if (strncmp(ifname, "netmap:", 7) == 0)
		ifname += 7;
	/* the host rings' name is the NIC's with '^': no other suffix fits */
	if (!*ifname || strpbrk(ifname, "^*-{}@/:")) {
		fprintf(stderr, "nic2host: -i '%s': give an interface name without a "
			"ring suffix (eth0 or netmap:eth0)\n", ifname);
		return 1;
	}
	if (snprintf(nic, sizeof(nic), "netmap:%s", ifname) >= (int)sizeof(nic)) {
		fprintf(stderr, "nic2host: -i '%s': name too long\n", ifname);
		return 1;
	}
	snprintf(host, sizeof(host), "%s^", nic);

	pn = nm_open(nic, NULL, 0, NULL);
	if (!pn) {
		fprintf(stderr, "nic2host: cannot open %s: %s\n", nic, strerror(errno));
		return 1;
	}
	/* same region as the NIC rings, same mapping: swaps need no copy */
	ph = nm_open(host, NULL, NM_OPEN_NO_MMAP, pn);
	if (!ph) {
		fprintf(stderr, "nic2host: cannot open %s in the memory region of %s (mem %u): %s\n",
			host, nic, pn->req.nr_arg2, strerror(errno));
		nm_close(pn);
		return 1;
	}
	if (ph->mem != pn->mem) {
		fprintf(stderr, "nic2host: %s (mem %u) and %s (mem %u) do not share memory\n",
			nic, pn->req.nr_arg2, host, ph->req.nr_arg2);
		ret = 1;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (verbose) {
		fprintf(stderr, "nic2host: %s: RX rings %u..%u, TX rings %u..%u, mem %u\n",
			nic, pn->first_rx_ring, pn->last_rx_ring,
			pn->first_tx_ring, pn->last_tx_ring, pn->req.nr_arg2);
		fprintf(stderr, "nic2host: %s: RX rings %u..%u, TX rings %u..%u, mem %u\n",
			host, ph->first_rx_ring, ph->last_rx_ring,
			ph->first_tx_ring, ph->last_tx_ring, ph->req.nr_arg2);
	}
	fprintf(stderr, "nic2host: forwarding %s <-> %s\n", nic, host);

	while (!stop) {
		struct pollfd pfd[2] = { { .fd = pn->fd }, { .fd = ph->fd } };

		/*
		 * Frames held on one side: wait for TX room on the other;
		 * none: wait for frames. poll() also flushes the TX rings.
		 */
		if (rx_held(pn))
			pfd[1].events |= POLLOUT;
		else
			pfd[0].events |= POLLIN;
		if (rx_held(ph))
			pfd[0].events |= POLLOUT;
		else
			pfd[1].events |= POLLIN;
		if (poll(pfd, 2, 200) < 0 && errno != EINTR) {
			fprintf(stderr, "nic2host: poll: %s\n", strerror(errno));
			ret = 1;
			break;
		}
		n2h += swap_rings(pn, ph);
		h2n += swap_rings(ph, pn);
	}
	/* flush the TX rings, give the RX slots back */
	tx_drain(pn);
	tx_drain(ph);
	ioctl(pn->fd, NIOCRXSYNC, NULL);
	ioctl(ph->fd, NIOCRXSYNC, NULL);
	printf("%lu frames nic->host, %lu frames host->nic\n", n2h, h2n);
out:
	nm_close(ph);
	nm_close(pn);
	return ret;
}
