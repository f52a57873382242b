// SPDX-License-Identifier: BSD-2-Clause
/*
 * hexdump: print every frame received on a netmap port, as offset, hex
 * bytes and ASCII (the layout of hexdump -C), with its length and ring.
 *
 *	hexdump -i netmap:eth0 -n 10
 *
 * The smallest useful netmap receiver: open the port, poll() for input,
 * walk each bound RX ring from head to tail, give the slots back by moving
 * head and cur. A frame split over several slots (NS_MOREFRAG) is printed
 * as one frame once its last slot has arrived.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <net/netmap_user.h>
#include <libnetmap.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: hexdump -i port [-n count] [-t seconds] [-s snaplen]\n"
"  -i port     netmap port to read (netmap:eth0, netmap:x}0, ...)\n"
"  -n count    exit after count frames (default 0: no limit)\n"
"  -t seconds  exit after this many seconds (default 0: no limit)\n"
"  -s snaplen  print at most snaplen bytes of each frame (default: all)\n"
"Ends on SIGINT/SIGTERM too; prints the frame and byte count to stderr.\n");
}

static unsigned long num_arg(int opt, const char *arg, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || v > max) {
		fprintf(stderr, "hexdump: bad -%c '%s': must be a number 0..%lu\n",
			opt, arg, max);
		exit(1);
	}
	return v;
}

/* Hex and ASCII of one 16-byte line; off is the frame offset of p[0]. */
static void dump_line(unsigned long off, const unsigned char *p, size_t n)
{
	size_t i;

	printf("%04lx ", off);
	for (i = 0; i < 16; i++) {
		if (i == 8)
			putchar(' ');
		if (i < n)
			printf(" %02x", p[i]);
		else
			printf("   ");
	}
	printf("  |");
	for (i = 0; i < n; i++)
		putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
	printf("|\n");
}

/*
 * Print the frame in the n slots starting at j. Fragments are joined
 * through a 16-byte line buffer, so offsets run on across slots.
 */
static void dump_frame(struct netmap_ring *ring, uint32_t j, unsigned int n,
		       unsigned long seq, unsigned int ringid, size_t snap)
{
	unsigned char line[16];
	unsigned long off = 0, len = 0, printed = 0;
	size_t fill = 0;
	uint32_t k = j;
	unsigned int i;

	for (i = 0; i < n; i++, k = nm_ring_next(ring, k))
		len += ring->slot[k].len;
	printf("frame %lu: %lu bytes, ring %u, %u slot%s\n", seq, len, ringid, n,
	       n == 1 ? "" : "s");
	for (i = 0; i < n && printed < snap; i++, j = nm_ring_next(ring, j)) {
		struct netmap_slot *s = &ring->slot[j];
		const unsigned char *p = (const unsigned char *)NETMAP_BUF(ring, s->buf_idx);
		size_t l = s->len, b;

		if (l > ring->nr_buf_size)	/* the kernel checks; be safe anyway */
			l = ring->nr_buf_size;
		for (b = 0; b < l && printed < snap; b++, printed++) {
			line[fill++] = p[b];
			if (fill == sizeof(line)) {
				dump_line(off, line, fill);
				off += fill;
				fill = 0;
			}
		}
	}
	if (fill)
		dump_line(off, line, fill);
}

/* Slots in the frame at j if complete within avail slots, else 0. */
static unsigned int frame_slots(struct netmap_ring *ring, uint32_t j, unsigned int avail)
{
	unsigned int n = 1;

	while (ring->slot[j].flags & NS_MOREFRAG) {
		if (n == avail)
			return 0;
		j = nm_ring_next(ring, j);
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	unsigned long count = 0, seconds = 0, seq = 0, bytes = 0;
	size_t snap = (size_t)-1;
	const char *port = NULL;
	struct nmport_d *d;
	struct sigaction sa;
	time_t deadline = 0;
	int ch;

	while ((ch = getopt(argc, argv, "hi:n:t:s:")) != -1) {
		switch (ch) {
		case 'i':
			port = optarg;
			break;
		case 'n':
			count = num_arg('n', optarg, ~0UL);
			break;
		case 't':
			seconds = num_arg('t', optarg, 86400UL * 365);
			break;
		case 's':
			snap = num_arg('s', optarg, 1UL << 20);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hexdump: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	if (!port) {
		fprintf(stderr, "hexdump: missing -i port\n");
		usage(stderr);
		return 1;
	}

	d = nmport_open(port);
	if (!d) {
		fprintf(stderr, "hexdump: cannot open %s: %s\n", port, strerror(errno));
		return 1;
	}
	if (d->last_rx_ring < d->first_rx_ring) {
		fprintf(stderr, "hexdump: %s has no RX rings bound\n", port);
		nmport_close(d);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (seconds)
		deadline = time(NULL) + (time_t)seconds;
	fprintf(stderr, "hexdump: reading %s, rings %u..%u\n", port,
		d->first_rx_ring, d->last_rx_ring);

	while (!stop && (!count || seq < count)) {
		struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
		unsigned int r;

		if (deadline && time(NULL) >= deadline)
			break;
		if (poll(&pfd, 1, 200) < 0 && errno != EINTR) {
			fprintf(stderr, "hexdump: poll on %s: %s\n", port, strerror(errno));
			break;
		}
		for (r = d->first_rx_ring; r <= d->last_rx_ring; r++) {
			struct netmap_ring *ring = NETMAP_RXRING(d->nifp, r);
			unsigned int avail = nm_ring_space(ring);
			uint32_t j = ring->head;

			while (avail > 0 && (!count || seq < count)) {
				unsigned int n = frame_slots(ring, j, avail), i;

				if (n == 0) {
					if (avail < ring->num_slots - 1)
						break;	/* wait for the last slot */
					n = avail;	/* can never complete */
				}
				dump_frame(ring, j, n, ++seq, r, snap);
				for (i = 0; i < n; i++) {
					bytes += ring->slot[j].len;
					j = nm_ring_next(ring, j);
				}
				avail -= n;
			}
			ring->head = ring->cur = j;
		}
		fflush(stdout);
	}
	/* give the last slots back, so a sender waiting on them sees them go */
	ioctl(d->fd, NIOCRXSYNC, NULL);
	fprintf(stderr, "hexdump: %lu frames %lu bytes\n", seq, bytes);
	nmport_close(d);
	return 0;
}
