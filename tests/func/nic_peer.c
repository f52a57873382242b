// SPDX-License-Identifier: BSD-2-Clause
/*
 * nic_peer - the program side of the NIC port tests (tests/func/nic_*.sh).
 *
 *   nic_peer send PORT COUNT [SECONDS [frag]]  COUNT numbered frames of
 *                                        varying length, paced, over the port's
 *                                        rings; frag: each in two slots (NS_MOREFRAG)
 *   nic_peer recv PORT COUNT [SECONDS]   receive them: every one exactly once,
 *                                        byte-exact, at NETMAP_BUF; others ignored
 *   nic_peer open PORT [PORT2]           open (and a second open in the same
 *                                        process): prints "ok" or the errno name
 *   nic_peer hold PORT                   open, print "ready", sleep until killed
 *   nic_peer fuzz PORT ITERATIONS        scribble on the rings (head, cur, tail,
 *                                        buf_idx, len) between syncs: no crash
 *   nic_peer info NAME                   NETMAP_REQ_PORT_INFO_GET: prints
 *                                        "TXRINGS RXRINGS TXSLOTS RXSLOTS HOSTTX HOSTRX"
 *
 * Frames: broadcast, ethertype 0x88b5 (local experimental), then the 32-bit
 * sequence number, then bytes (seq * 7 + i) & 0xff; lengths 60..1514.
 * Exit 0 on success, 1 on a check that failed, 2 on a usage/open error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <libnetmap.h>

#define ETYPE_HI	0x88
#define ETYPE_LO	0xb5

static uint32_t frame_len(uint32_t seq)
{
	return 60 + (seq * 37) % 1455;
}

static void frame_build(uint8_t *p, uint32_t seq)
{
	uint32_t len = frame_len(seq), i;

	memset(p, 0xff, 6);
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x01", 6);
	p[12] = ETYPE_HI;
	p[13] = ETYPE_LO;
	memcpy(p + 14, &seq, 4);
	for (i = 18; i < len; i++)
		p[i] = (uint8_t)(seq * 7 + i);
}

/* 1 = one of ours and right, 0 = not ours, -1 = ours and wrong */
static int frame_check(const uint8_t *p, uint32_t len, uint32_t *seqp)
{
	uint32_t seq, i;

	if (len < 18 || p[12] != ETYPE_HI || p[13] != ETYPE_LO)
		return 0;
	memcpy(&seq, p + 14, 4);
	*seqp = seq;
	if (len != frame_len(seq)) {
		printf("frame %u: length %u, want %u\n", seq, len, frame_len(seq));
		return -1;
	}
	for (i = 18; i < len; i++)
		if (p[i] != (uint8_t)(seq * 7 + i)) {
			printf("frame %u: byte %u is %#x, want %#x\n", seq, i, p[i],
			       (uint8_t)(seq * 7 + i));
			return -1;
		}
	return 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *errname(int e)
{
	switch (e) {
	case ENXIO: return "ENXIO";
	case EINVAL: return "EINVAL";
	case EBUSY: return "EBUSY";
	case ENETDOWN: return "ENETDOWN";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOMEM: return "ENOMEM";
	case EPERM: return "EPERM";
	default: return "other";
	}
}

static struct nmport_d *open_port(const char *name)
{
	struct nmport_d *d = nmport_open(name);

	if (!d)
		fprintf(stderr, "nic_peer: %s: %s\n", name, strerror(errno));
	return d;
}

static int do_send(const char *name, uint32_t count, double secs, bool frag)
{
	struct nmport_d *d = open_port(name);
	double end = now() + secs;
	uint32_t seq = 0, r;

	if (!d)
		return 2;
	while (seq < count && now() < end) {
		/* paced: a burst of 64, then let the receiver catch up */
		for (r = d->first_tx_ring; r <= d->last_tx_ring && seq < count; r++) {
			struct netmap_ring *ring = NETMAP_TXRING(d->nifp, r);
			uint32_t n = 0;

			while (n < 64 && seq < count && nm_ring_space(ring) >= 2) {
				struct netmap_slot *s = &ring->slot[ring->cur];
				uint8_t *p = (uint8_t *)NETMAP_BUF(ring, s->buf_idx);
				uint32_t len = frame_len(seq), half = len / 2;

				frame_build(p, seq);
				s->len = len;
				s->flags = 0;
				if (frag) {
					/* the second half goes to the next slot's buffer */
					struct netmap_slot *s2 =
						&ring->slot[nm_ring_next(ring, ring->cur)];

					memcpy(NETMAP_BUF(ring, s2->buf_idx), p + half, len - half);
					s->len = half;
					s->flags = NS_MOREFRAG;
					s2->len = len - half;
					s2->flags = 0;
					ring->cur = nm_ring_next(ring, ring->cur);
				}
				ring->head = ring->cur = nm_ring_next(ring, ring->cur);
				seq++;
				n++;
			}
		}
		ioctl(d->fd, NIOCTXSYNC, NULL);
		usleep(1000);
	}
	/* drain: every frame handed to the NIC before closing */
	while (now() < end) {
		int pending = 0;

		ioctl(d->fd, NIOCTXSYNC, NULL);
		for (r = d->first_tx_ring; r <= d->last_tx_ring; r++)
			pending |= nm_tx_pending(NETMAP_TXRING(d->nifp, r));
		if (!pending)
			break;
		usleep(1000);
	}
	printf("sent %u\n", seq);
	nmport_close(d);
	return seq == count ? 0 : 1;
}

static int do_recv(const char *name, uint32_t count, double secs)
{
	struct nmport_d *d = open_port(name);
	double end = now() + secs;
	uint8_t *seen = calloc(count ? count : 1, 1);
	uint32_t got = 0, other = 0, r;
	int bad = 0;

	if (!d || !seen)
		return 2;
	printf("ready\n");
	fflush(stdout);
	while (got < count && !bad && now() < end) {
		struct pollfd pfd = { .fd = d->fd, .events = POLLIN };

		poll(&pfd, 1, 100);
		for (r = d->first_rx_ring; r <= d->last_rx_ring; r++) {
			struct netmap_ring *ring = NETMAP_RXRING(d->nifp, r);

			while (!nm_ring_empty(ring)) {
				struct netmap_slot *s = &ring->slot[ring->cur];
				uint32_t seq = 0;
				int c = frame_check((uint8_t *)NETMAP_BUF(ring, s->buf_idx),
						    s->len, &seq);

				if (c < 0) {
					bad = 1;
				} else if (c == 0) {
					other++;
				} else if (seq >= count || seen[seq]) {
					printf("frame %u: %s\n", seq,
					       seq >= count ? "beyond the count" : "duplicate");
					bad = 1;
				} else {
					seen[seq] = 1;
					got++;
				}
				ring->head = ring->cur = nm_ring_next(ring, ring->cur);
			}
		}
	}
	printf("received %u of %u (%u other frames)%s\n", got, count, other,
	       now() >= end ? " timeout" : "");
	nmport_close(d);
	free(seen);
	return got == count && !bad ? 0 : 1;
}

static int do_open(const char *name, const char *name2)
{
	struct nmport_d *d = nmport_open(name), *d2 = NULL;
	int e = errno;

	if (!d) {
		printf("%s\n", errname(e));
		return 0;
	}
	if (name2) {
		d2 = nmport_open(name2);
		e = errno;
		printf("%s\n", d2 ? "ok" : errname(e));
		if (d2)
			nmport_close(d2);
	} else {
		printf("ok %u %u\n", d->nifp->ni_tx_rings, d->nifp->ni_rx_rings);
	}
	nmport_close(d);
	return 0;
}

static int do_info(const char *name)
{
	struct nmreq_port_info_get req;
	struct nmreq_header hdr;
	int fd = open("/dev/netmap", O_RDWR);

	if (fd < 0) {
		perror("/dev/netmap");
		return 2;
	}
	memset(&hdr, 0, sizeof(hdr));
	memset(&req, 0, sizeof(req));
	hdr.nr_version = NETMAP_API;
	hdr.nr_reqtype = NETMAP_REQ_PORT_INFO_GET;
	hdr.nr_body = (uintptr_t)&req;
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	if (ioctl(fd, NIOCCTRL, &hdr) < 0) {
		printf("%s\n", errname(errno));
		close(fd);
		return 0;
	}
	printf("%u %u %u %u %u %u\n", req.nr_tx_rings, req.nr_rx_rings, req.nr_tx_slots,
	       req.nr_rx_slots, req.nr_host_tx_rings, req.nr_host_rx_rings);
	/* how an open NIC port reaches the interface (unetmap's pad[0]) */
	if (getenv("NIC_PEER_MODE"))
		printf("mode %s\n", req.pad[0] & NR_UNM_INFO_EMULATED ? "emulated" :
		req.pad[0] & NR_UNM_INFO_ZEROCOPY ? "zerocopy" : "copy");
	close(fd);
	return 0;
}

static int do_fuzz(const char *name, uint32_t iters)
{
	struct nmport_d *d = open_port(name);
	uint32_t it, k;

	if (!d)
		return 2;
	srandom(12345);
	for (it = 0; it < iters; it++) {
		struct netmap_ring *tx = NETMAP_TXRING(d->nifp, it % (d->last_tx_ring + 1));
		struct netmap_ring *rx = NETMAP_RXRING(d->nifp, it % (d->last_rx_ring + 1));
		uint32_t n = tx->num_slots;

		for (k = 0; k < 8; k++) {
			struct netmap_slot *s = &tx->slot[random() % n];

			switch (random() % 4) {
			case 0: s->buf_idx = random(); break;
			case 1: s->len = random() % 70000; break;
			case 2: s->buf_idx = 1; break;
			default: s->len = random() % 64; break;
			}
			rx->slot[random() % rx->num_slots].buf_idx = random() % 4 ? random() : 0;
		}
		switch (random() % 5) {
		case 0: tx->head = tx->cur = random(); break;
		case 1: tx->head = tx->cur = (tx->tail + n - 1) % n; break;
		case 2: tx->tail = random() % n; break;
		default: tx->head = tx->cur = tx->tail; break;
		}
		if (random() % 2)
			rx->head = rx->cur = rx->tail;
		else
			rx->head = random() % (rx->num_slots + 3);
		ioctl(d->fd, NIOCTXSYNC, NULL);
		ioctl(d->fd, NIOCRXSYNC, NULL);
	}
	printf("fuzz: %u rounds survived\n", iters);
	nmport_close(d);
	return 0;
}

static int do_hold(const char *name)
{
	struct nmport_d *d = open_port(name);

	if (!d)
		return 2;
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "send"))
		return do_send(argv[2], strtoul(argv[3], NULL, 0),
			       argc > 4 ? atof(argv[4]) : 10,
			       argc > 5 && !strcmp(argv[5], "frag"));
	if (argc >= 4 && !strcmp(argv[1], "recv"))
		return do_recv(argv[2], strtoul(argv[3], NULL, 0),
			       argc > 4 ? atof(argv[4]) : 10);
	if (argc >= 3 && !strcmp(argv[1], "open"))
		return do_open(argv[2], argc > 3 ? argv[3] : NULL);
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return do_hold(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "fuzz"))
		return do_fuzz(argv[2], strtoul(argv[3], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "info"))
		return do_info(argv[2]);
	fprintf(stderr, "usage: nic_peer send PORT COUNT [SECONDS [frag]] | recv PORT COUNT [SECONDS] | open PORT [PORT2] | hold PORT | info NAME | fuzz PORT N\n");
	return 2;
}
