// SPDX-License-Identifier: BSD-2-Clause
/*
 * upstream_style_raw.c - a netmap client that talks to /dev/netmap the way
 * pre-libnetmap programs do, with no library at all: open("/dev/netmap"),
 * the legacy NIOCREGIF with a struct nmreq, mmap() of nr_memsize bytes,
 * NETMAP_IF/NETMAP_TXRING/NETMAP_BUF on the mapping, NIOCTXSYNC, and
 * poll() and select() to wait. It uses only the ABI headers (no
 * NETMAP_WITH_LIBS), so built without libnetmap it runs under
 * LD_PRELOAD=libnetmap.so, the way a binary built against upstream does.
 *
 *   upstream_style_raw tx NAME COUNT
 *   upstream_style_raw rx NAME COUNT [READYFILE]
 *
 * NAME is a legacy nr_name (at most 15 characters, no "netmap:" prefix),
 * e.g. "up123{1". Packets, checks, bounds and exit codes are those of
 * upstream_style_nmdesc.c, so the two can be each other's peer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <unistd.h>
#include <net/netmap_user.h>

#define IDLE_MS		10000	/* give up after this long without progress */
#define DRAIN_MS	10000	/* tx: wait at most this long for the peer to consume */
#define MAX_LEN		1514

static unsigned int
pkt_len(uint32_t i)
{
	return 60 + (i * 37u) % (MAX_LEN - 60 + 1);
}

static uint8_t
pkt_byte(uint32_t i, unsigned int j)
{
	return (uint8_t)(i * 131u + j * 7u + 1u);
}

struct port {
	int fd;
	void *mem;
	struct nmreq req;
	struct netmap_if *nifp;
};

static int
port_open(struct port *pt, const char *name)
{
	memset(pt, 0, sizeof(*pt));
	pt->fd = open("/dev/netmap", O_RDWR);
	if (pt->fd < 0) {
		perror("open(/dev/netmap)");
		return -1;
	}
	if (strlen(name) >= sizeof(pt->req.nr_name)) {
		fprintf(stderr, "%s: longer than a legacy nr_name\n", name);
		return -1;
	}
	strcpy(pt->req.nr_name, name);
	pt->req.nr_version = NETMAP_API;
	pt->req.nr_flags = NR_REG_ALL_NIC;
	if (ioctl(pt->fd, NIOCREGIF, &pt->req) < 0) {
		fprintf(stderr, "NIOCREGIF %s: %s\n", name, strerror(errno));
		return -1;
	}
	pt->mem = mmap(NULL, pt->req.nr_memsize, PROT_READ | PROT_WRITE,
		       MAP_SHARED, pt->fd, 0);
	if (pt->mem == MAP_FAILED) {
		fprintf(stderr, "mmap %s (%u bytes): %s\n", name,
			pt->req.nr_memsize, strerror(errno));
		return -1;
	}
	pt->nifp = NETMAP_IF(pt->mem, pt->req.nr_offset);
	if (pt->nifp->ni_tx_rings != pt->req.nr_tx_rings ||
	    pt->nifp->ni_rx_rings != pt->req.nr_rx_rings) {
		fprintf(stderr, "%s: netmap_if says %u/%u rings, NIOCREGIF %u/%u\n",
			name, pt->nifp->ni_tx_rings, pt->nifp->ni_rx_rings,
			pt->req.nr_tx_rings, pt->req.nr_rx_rings);
		return -1;
	}
	return 0;
}

static void
port_close(struct port *pt)
{
	if (pt->mem && pt->mem != MAP_FAILED)
		munmap(pt->mem, pt->req.nr_memsize);
	if (pt->fd >= 0)
		close(pt->fd);
}

static int
do_tx(struct port *pt, uint32_t count)
{
	struct pollfd pfd = { .fd = pt->fd, .events = POLLOUT };
	unsigned int r, nrings = pt->req.nr_tx_rings;
	uint32_t i = 0;
	int idle = 0;

	while (i < count) {
		int moved = 0;

		for (r = 0; r < nrings && i < count; r++) {
			struct netmap_ring *ring = NETMAP_TXRING(pt->nifp, r);

			while (i < count && nm_ring_space(ring) > 0) {
				struct netmap_slot *slot = &ring->slot[ring->cur];
				uint8_t *p = (uint8_t *)NETMAP_BUF(ring, slot->buf_idx);
				unsigned int j, len = pkt_len(i);

				for (j = 0; j < 4; j++)
					p[j] = (uint8_t)(i >> (8 * j));
				for (; j < len; j++)
					p[j] = pkt_byte(i, j);
				slot->len = len;
				slot->flags = 0;
				ring->head = ring->cur = nm_ring_next(ring, ring->cur);
				i++;
				moved = 1;
			}
		}
		if (ioctl(pt->fd, NIOCTXSYNC, NULL) < 0) {
			perror("tx: NIOCTXSYNC");
			return 1;
		}
		if (moved) {
			idle = 0;
			continue;
		}
		if (poll(&pfd, 1, 100) <= 0 && (idle += 100) >= IDLE_MS) {
			fprintf(stderr, "tx: stuck after %u of %u packets\n", i, count);
			return 1;
		}
	}
	for (idle = 0; idle < DRAIN_MS; idle++) {
		int pending = 0;

		if (ioctl(pt->fd, NIOCTXSYNC, NULL) < 0) {
			perror("tx: NIOCTXSYNC");
			return 1;
		}
		for (r = 0; r < nrings; r++)
			pending |= nm_tx_pending(NETMAP_TXRING(pt->nifp, r));
		if (!pending)
			break;
		poll(NULL, 0, 1);
	}
	printf("tx: %u packets sent\n", i);
	return 0;
}

/* Waits alternately with poll() and select(): both are sync points. */
static int
rx_wait(struct port *pt, int use_select)
{
	if (use_select) {
		struct timeval tv = { 0, 100000 };
		fd_set rfds;

		FD_ZERO(&rfds);
		FD_SET(pt->fd, &rfds);
		return select(pt->fd + 1, &rfds, NULL, NULL, &tv);
	} else {
		struct pollfd pfd = { .fd = pt->fd, .events = POLLIN };
		int n = poll(&pfd, 1, 100);

		if (n > 0 && (pfd.revents & POLLERR)) {
			fprintf(stderr, "rx: POLLERR on the port\n");
			errno = EIO;
			return -1;
		}
		return n;
	}
}

static int
do_rx(struct port *pt, uint32_t count)
{
	unsigned int r, nrings = pt->req.nr_rx_rings;
	uint64_t bytes = 0;
	uint32_t next = 0;
	int idle = 0, turn = 0;

	while (next < count) {
		int got = 0;

		if (rx_wait(pt, turn++ & 1) < 0 && errno != EINTR) {
			perror("rx: wait");
			return 1;
		}
		for (r = 0; r < nrings; r++) {
			struct netmap_ring *ring = NETMAP_RXRING(pt->nifp, r);

			while (!nm_ring_empty(ring)) {
				struct netmap_slot *slot = &ring->slot[ring->head];
				const uint8_t *p = (const uint8_t *)NETMAP_BUF(ring, slot->buf_idx);
				unsigned int j, want = pkt_len(next);
				uint32_t seq = p[0] | p[1] << 8 | p[2] << 16 |
					       (uint32_t)p[3] << 24;

				if (slot->len != want || seq != next) {
					fprintf(stderr, "rx: slot len %u seq %u, want len %u seq %u\n",
						slot->len, seq, want, next);
					return 1;
				}
				for (j = 4; j < want; j++) {
					if (p[j] != pkt_byte(seq, j)) {
						fprintf(stderr, "rx: packet %u byte %u is 0x%02x, want 0x%02x\n",
							seq, j, p[j], pkt_byte(seq, j));
						return 1;
					}
				}
				bytes += want;
				next++;
				got = 1;
				ring->head = ring->cur = nm_ring_next(ring, ring->head);
			}
		}
		if (got)
			idle = 0;
		else if ((idle += 100) >= IDLE_MS)
			break;
	}
	/* hand the last slots back, so the sender sees its ring drain */
	if (ioctl(pt->fd, NIOCRXSYNC, NULL) < 0) {
		perror("rx: NIOCRXSYNC");
		return 1;
	}
	if (next != count) {
		fprintf(stderr, "rx: %u of %u packets received\n", next, count);
		return 1;
	}
	printf("rx: %u packets %llu bytes, every byte as sent\n", next,
	       (unsigned long long)bytes);
	return 0;
}

int
main(int argc, char **argv)
{
	struct port pt;
	uint32_t count;
	int tx, ret = 1;

	if (argc < 4 || (strcmp(argv[1], "tx") && strcmp(argv[1], "rx"))) {
		fprintf(stderr, "usage: %s tx|rx NAME COUNT [READYFILE]\n", argv[0]);
		return 1;
	}
	tx = !strcmp(argv[1], "tx");
	count = (uint32_t)strtoul(argv[3], NULL, 0);
	if (port_open(&pt, argv[2]) < 0)
		goto out;
	if (!tx && argc > 4) {
		FILE *f = fopen(argv[4], "w");

		if (f == NULL) {
			perror(argv[4]);
			goto out;
		}
		fclose(f);
	}
	ret = tx ? do_tx(&pt, count) : do_rx(&pt, count);
out:
	port_close(&pt);
	return ret;
}
