// SPDX-License-Identifier: BSD-2-Clause
/*
 * The tx and rx loops. Each thread owns one netmap descriptor (all the
 * port's rings with -p 1, one ring each otherwise) and nobody else touches
 * its rings, so there is no locking here: the only shared state is the
 * counters, published with relaxed stores for the reporting thread.
 *
 * tx: wait for room (poll POLLOUT), fill up to a burst of free slots per
 *     ring, move head/cur; the next poll() hands them over (txsync).
 * rx: wait for packets (poll POLLIN), consume up to a burst per ring,
 *     move head/cur; the next poll() gives the slots back (rxsync).
 * -Y replaces the poll() with NIOCTXSYNC/NIOCRXSYNC in a loop (upstream's
 * compile-time BUSYWAIT): no sleeping, so no wake-ups, one CPU each.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <net/netmap_user.h>
#include <libnetmap.h>

#include "pkt-gen.h"

#define PG_TX_POLL_MS	1000
#define PG_RX_POLL_MS	1000	/* also -W's idle time */
#define PG_DRAIN_IDLE_NS 2000000000LL

static void now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

/* Sleep (or spin, under 1 ms) until ts: the -R pacing. */
static void wait_until(struct timespec ts)
{
	struct timespec cur;

	for (;;) {
		int64_t d;

		now(&cur);
		d = pg_ts_diff_ns(ts, cur);
		if (d <= 0 || pg_stop())
			return;
		if (d > 1000000)
			poll(NULL, 0, 1);
	}
}

static int rings_ready(const struct nmport_d *d, int tx)
{
	int i;

	if (tx) {
		for (i = d->first_tx_ring; i <= d->last_tx_ring; i++)
			if (!nm_ring_empty(NETMAP_TXRING(d->nifp, i)))
				return 1;
	} else {
		for (i = d->first_rx_ring; i <= d->last_rx_ring; i++)
			if (!nm_ring_empty(NETMAP_RXRING(d->nifp, i)))
				return 1;
	}
	return 0;
}

/*
 * Wait up to ms for room (POLLOUT) or packets (POLLIN): poll(), or with -Y
 * spin on NIOCTXSYNC/NIOCRXSYNC, never sleeping. Returns poll()'s value.
 */
static int pg_wait(struct pg_thread *t, struct pollfd *pfd, int ms)
{
	int tx = pfd->events & POLLOUT;
	unsigned long req = tx ? NIOCTXSYNC : NIOCRXSYNC;
	struct timespec start, cur;
	unsigned spins = 0;

	if (!t->g->busy_wait)
		return poll(pfd, 1, ms);
	pfd->revents = 0;
	now(&start);
	for (;; spins++) {
		if (ioctl(pfd->fd, req, NULL) < 0) {
			if (errno == EINTR)
				continue;
			pfd->revents = POLLERR;
			return 1;
		}
		if (rings_ready(t->nmd, tx)) {
			pfd->revents = pfd->events;
			return 1;
		}
		if (spins % 1024)	/* the clock is slow on some VMs */
			continue;
		now(&cur);
		if (pg_stop() || pg_ts_diff_ns(cur, start) >= (int64_t)ms * 1000000)
			return 0;
	}
}

static void note_space(struct pg_thread *t, uint64_t space)
{
	if (space < pg_ctr_get(&t->ctr.min_space))
		pg_ctr_set(&t->ctr.min_space, space);
}

/* How many slots ahead fill_ring() asks for the buffer it will write. */
#define PG_TX_PREFETCH	8
/* How many slots ahead drain_ring() asks for the slot it will read. */
#define PG_RX_PREFETCH	16

/*
 * Fill up to count free slots of ring with the template; returns how many.
 * The frame is copied when the slot's buffer is not one we wrote before
 * (NS_BUF_CHANGED: a fresh ring, or a pipe that swapped buffers with its
 * peer), or on every slot when the template changes per frame (copy_all).
 * Frames up to 64 bytes are copied as one whole 64-byte line (buffers are
 * at least that big, and what lies past slot->len is no part of the
 * packet), a copy the compiler inlines; upstream's nm_pkt_copy() rounds up
 * to 64 bytes the same way.
 */
static unsigned fill_ring(struct pg_thread *t, struct netmap_ring *ring,
			  unsigned count, int size, int copy_all)
{
	const int opts = t->g->options;
	struct netmap_slot *slots = ring->slot, *slot = NULL;
	char *bufs = (char *)ring + ring->buf_ofs;
	const size_t bsize = ring->nr_buf_size;
	unsigned head = ring->head, space = nm_ring_space(ring), sent;
	const unsigned n = ring->num_slots;
	const int line = size <= 64 && bsize >= 64 && sizeof(t->frame) >= 64;
	const int copy = !(opts & OPT_RUBBISH);

	if (count > space)
		count = space;
	for (sent = 0; sent < count; sent++) {
		unsigned ahead = head + PG_TX_PREFETCH;
		char *p;

		slot = &slots[head];
		p = bufs + slot->buf_idx * bsize;
		/*
		 * The buffer a few slots on is likely not in L1 (buffers are 2 KiB
		 * apart): ask for it now. Past our slots it is only a wasted hint.
		 */
		if (ahead >= n)
			ahead -= n;
		__builtin_prefetch(bufs + slots[ahead].buf_idx * bsize, 1);
		if (copy && (copy_all || (slot->flags & NS_BUF_CHANGED))) {
			if (line)
				memcpy(p, t->frame, 64);
			else
				memcpy(p, t->frame, size);
			if (opts & OPT_COPY)
				pg_frame_step(t);
		} else if (opts & OPT_PREFETCH) {
			__builtin_prefetch(p);
		}
		slot->len = size;
		slot->flags = 0;
		if (opts & OPT_DUMP)
			pg_dump("tx", (const uint8_t *)p, size, head);
		head = unlikely(head + 1 == n) ? 0 : head + 1;
	}
	if (sent) {
		slot->flags |= NS_REPORT;
		ring->head = ring->cur = head;
	}
	return sent;
}

/* After the last burst: push everything out and wait until it is gone. */
static void tx_drain(struct pg_thread *t)
{
	struct nmport_d *d = t->nmd;
	struct timespec last, cur;
	uint32_t last_tail = ~0u;
	int i;

	if (ioctl(d->fd, NIOCTXSYNC, NULL) < 0)
		D("NIOCTXSYNC on %s: %s", d->hdr.nr_name, strerror(errno));
	now(&last);
	for (i = d->first_tx_ring; i <= d->last_tx_ring; i++) {
		struct netmap_ring *ring = NETMAP_TXRING(d->nifp, i);

		while (!pg_stop() && nm_tx_pending(ring)) {
			now(&cur);
			if (ring->tail != last_tail) {
				last_tail = ring->tail;
				last = cur;
			} else if (pg_ts_diff_ns(cur, last) > PG_DRAIN_IDLE_NS) {
				D("TX ring %d: %u slots still pending after 2 s without progress",
				  i, (ring->head + ring->num_slots - ring->tail - 1) %
					     ring->num_slots);
				break;
			}
			if (ioctl(d->fd, NIOCTXSYNC, NULL) < 0) {
				D("NIOCTXSYNC on %s: %s", d->hdr.nr_name, strerror(errno));
				break;
			}
			usleep(10);
		}
	}
}

void *pg_tx_body(void *arg)
{
	struct pg_thread *t = arg;
	struct pg_conf *g = t->g;
	struct nmport_d *d = t->nmd;
	struct pollfd pfd = { .fd = d->fd, .events = POLLOUT };
	uint64_t n = g->npackets / g->nthreads, sent = 0, events = 0, bytes = 0;
	int copy_all = !!(g->options & (OPT_COPY | OPT_MEMCPY));
	int size = g->pkt_size;
	struct timespec next = { 0, 0 };
	int64_t tosend = 0;
	int i;

	/* n split evenly; the first thread takes the remainder */
	if (n && t->me == 0)
		n += g->npackets % g->nthreads;
	if (g->pkt_min_size)
		copy_all = 1;

	/* every buffer gets the template on its first use */
	for (i = d->first_tx_ring; i <= d->last_tx_ring; i++) {
		struct netmap_ring *ring = NETMAP_TXRING(d->nifp, i);
		uint32_t j;

		for (j = 0; j < ring->num_slots; j++)
			ring->slot[j].flags = NS_BUF_CHANGED;
	}

	now(&t->tic);
	next = t->tic;
	while (!pg_stop() && (n == 0 || sent < n)) {
		int rv;

		if (g->tx_rate && tosend <= 0) {
			tosend = g->burst;
			next = pg_ts_add(next, g->tx_period);
			wait_until(next);
		}
		rv = pg_wait(t, &pfd, PG_TX_POLL_MS);
		if (rv < 0 && errno != EINTR) {
			D("poll on %s: %s", d->hdr.nr_name, strerror(errno));
			goto quit;
		}
		if (rv == 0) {
			if (pg_stop())
				break;
			D("poll error on queue %d: timeout", t->me);
		}
		if (pfd.revents & POLLERR) {
			D("poll error on %d ring %d-%d", pfd.fd, d->first_tx_ring,
			  d->last_tx_ring);
			goto quit;
		}
		for (i = d->first_tx_ring; i <= d->last_tx_ring; i++) {
			struct netmap_ring *ring = NETMAP_TXRING(d->nifp, i);
			uint64_t limit = g->tx_rate ? (uint64_t)tosend : (uint64_t)g->burst;
			unsigned m;

			if (n && sent >= n)
				break;
			if (n && n - sent < limit)
				limit = n - sent;
			note_space(t, nm_ring_space(ring));
			if (nm_ring_empty(ring))
				continue;
			if (g->pkt_min_size) {
				size = g->pkt_min_size + (int)(nrand48(t->seed) %
					(g->pkt_size - g->pkt_min_size));
				pg_frame_set_size(t, size);
			}
			m = fill_ring(t, ring, (unsigned)limit, size, copy_all);
			if (m == 0)
				continue;
			sent += m;
			bytes += (uint64_t)m * size;
			events++;
			pg_ctr_set(&t->ctr.pkts, sent);
			pg_ctr_set(&t->ctr.bytes, bytes);
			pg_ctr_set(&t->ctr.events, events);
			if (g->tx_rate) {
				tosend -= m;
				if (tosend <= 0)
					break;
			}
		}
	}
	tx_drain(t);
	now(&t->toc);
	t->completed = 1;
quit:
	return NULL;
}

/* Consume up to limit slots of ring; returns the packets (last fragments). */
static unsigned drain_ring(struct pg_thread *t, struct netmap_ring *ring,
			   unsigned limit, uint64_t *bytes)
{
	const struct netmap_slot *slots = ring->slot;
	unsigned head = ring->head, n = nm_ring_space(ring), i, pkts = 0;
	const unsigned nslots = ring->num_slots;
	int dump = t->g->options & OPT_DUMP;
	uint64_t b = 0;

	if (limit > n)
		limit = n;
	for (i = 0; i < limit; i++) {
		const struct netmap_slot *slot = &slots[head];

		/* the slots were written on the sender's CPU: ask a few lines ahead */
		__builtin_prefetch(slot + PG_RX_PREFETCH);
		b += slot->len;
		if (dump)
			pg_dump("rx", (const uint8_t *)NETMAP_BUF(ring, slot->buf_idx),
				slot->len, head);
		if (!(slot->flags & NS_MOREFRAG))
			pkts++;
		head = unlikely(head + 1 == nslots) ? 0 : head + 1;
	}
	*bytes += b;
	ring->head = ring->cur = head;
	return pkts;
}

void *pg_rx_body(void *arg)
{
	struct pg_thread *t = arg;
	struct pg_conf *g = t->g;
	struct nmport_d *d = t->nmd;
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
	uint64_t n = g->npackets / g->nthreads, pkts = 0, bytes = 0, events = 0;
	int i, rv;

	if (n && t->me == 0)
		n += g->npackets % g->nthreads;

	/* no time limit before the first packet */
	while (!pg_stop()) {
		rv = pg_wait(t, &pfd, PG_RX_POLL_MS);
		if (rv < 0 && errno != EINTR) {
			D("poll() error: %s", strerror(errno));
			goto quit;
		}
		if (pfd.revents & POLLERR) {
			D("fd error on %s", d->hdr.nr_name);
			goto quit;
		}
		if (rv > 0)
			break;
		if (g->verbose)
			D("waiting for initial packets, poll returns %d %d", rv,
			  pfd.revents);
	}
	now(&t->tic);
	while (!pg_stop() && (n == 0 || pkts < n)) {
		uint64_t space = 0;

		rv = pg_wait(t, &pfd, PG_RX_POLL_MS);
		if (rv < 0 && errno != EINTR) {
			D("poll() error: %s", strerror(errno));
			goto quit;
		}
		if (rv == 0 && !g->forever) {
			/* -W: idle for the poll timeout; it is not run time */
			now(&t->toc);
			t->toc.tv_sec -= PG_RX_POLL_MS / 1000;
			goto out;
		}
		if (pfd.revents & POLLERR) {
			D("poll err on %s", d->hdr.nr_name);
			goto quit;
		}
		for (i = d->first_rx_ring; i <= d->last_rx_ring; i++) {
			struct netmap_ring *ring = NETMAP_RXRING(d->nifp, i);
			uint64_t limit = (uint64_t)g->burst;
			unsigned m;

			/* room the "kernel" still has to deliver into */
			space += ring->num_slots - 1 - nm_ring_space(ring);
			if (nm_ring_empty(ring))
				continue;
			if (n && n - pkts < limit)
				limit = n - pkts;
			m = drain_ring(t, ring, (unsigned)limit, &bytes);
			pkts += m;
			if (m)
				events++;
		}
		note_space(t, space);
		pg_ctr_set(&t->ctr.pkts, pkts);
		pg_ctr_set(&t->ctr.bytes, bytes);
		pg_ctr_set(&t->ctr.events, events);
	}
	now(&t->toc);
out:
	/* give the consumed slots back, so a sender waiting on them finishes */
	if (ioctl(d->fd, NIOCRXSYNC, NULL) < 0)
		D("NIOCRXSYNC on %s: %s", d->hdr.nr_name, strerror(errno));
	t->completed = 1;
quit:
	return NULL;
}
