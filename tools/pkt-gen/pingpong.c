// SPDX-License-Identifier: BSD-2-Clause
/*
 * ping and pong: round-trip latency between two pkt-gen instances.
 *
 * ping writes, after the UDP header, a 4-byte sequence number (offset 42)
 * and a timestamp as two 32-bit words, seconds and nanoseconds (offsets 46
 * and 50), as upstream's pkt-gen does; pong sends every frame back with
 * the MAC and IPv4 addresses swapped; ping reads its own timestamp from
 * the echo and bins the RTT by its highest set bit (ns, powers of two).
 * Once a second ping prints "count N RTT: min X av Y ns" and the
 * histogram, and at the end "RTT over N packets: min X av Y ns".
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <net/netmap_user.h>
#include <libnetmap.h>

#include "pkt-gen.h"

#define OFS_SEQ	42
#define OFS_TS	46

static void mono(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

/* -R pacing: sleep in 1 ms steps, spin for the last millisecond. */
static void wait_mono(struct timespec until)
{
	struct timespec cur;
	int64_t d;

	for (;;) {
		mono(&cur);
		d = pg_ts_diff_ns(until, cur);
		if (d <= 0 || pg_stop())
			return;
		if (d > 1000000)
			poll(NULL, 0, 1);
	}
}

static int msb64(uint64_t x)
{
	return x ? 63 - __builtin_clzll(x) : 0;
}

static void put_u32(char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint32_t get_u32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

struct rtt_stats {
	uint64_t count, sum, min;		/* this interval */
	uint64_t g_count, g_sum, g_min;		/* the whole run */
	uint64_t buckets[64];
};

static void rtt_print(struct rtt_stats *s)
{
	char buf[64 * 8 + 1];
	int kmin, kmax, j, off = 0;

	if (s->count == 0) {
		D("count 0 RTT: no replies");
		return;
	}
	D("count %d RTT: min %d av %d ns", (int)s->count, (int)s->min,
	  (int)(s->sum / s->count));
	for (kmin = 0; kmin < 63 && !s->buckets[kmin]; kmin++)
		;
	for (kmax = 63; kmax > kmin && !s->buckets[kmax]; kmax--)
		;
	buf[0] = '\0';
	for (j = kmin; j <= kmax; j++)
		off += snprintf(buf + off, sizeof(buf) - off, " %5d",
				(int)s->buckets[j]);
	D("k: %llu .. %llu\n\t%s", 1ULL << kmin, 1ULL << kmax, buf);
	s->g_count += s->count;
	s->g_sum += s->sum;
	if (s->min < s->g_min)
		s->g_min = s->min;
	memset(s->buckets, 0, sizeof(s->buckets));
	s->count = s->sum = 0;
	s->min = ~0ULL;
}

static void rtt_add(struct rtt_stats *s, const char *p, const struct timespec *now)
{
	struct timespec ts = {
		.tv_sec = get_u32(p + OFS_TS),
		.tv_nsec = get_u32(p + OFS_TS + 4),
	};
	int64_t d = ((int64_t)(uint32_t)now->tv_sec - ts.tv_sec) * 1000000000 +
		    (now->tv_nsec - ts.tv_nsec);

	if (d < 0)	/* not our timestamp */
		return;
	if ((uint64_t)d < s->min)
		s->min = d;
	s->count++;
	s->sum += d;
	s->buckets[msb64(d)]++;
}

void *pg_ping_body(void *arg)
{
	struct pg_thread *t = arg;
	struct pg_conf *g = t->g;
	struct nmport_d *d = t->nmd;
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
	uint64_t n = g->npackets, sent = 0, events = 0;
	struct rtt_stats s = { .min = ~0ULL, .g_min = ~0ULL };
	struct timespec ts, last_print, next = { 0, 0 };
	int size = g->pkt_size;
	int64_t tosend = 0;
	int i;

	if (g->nthreads > 1) {
		D("can only ping with 1 thread");
		return NULL;
	}
	mono(&last_print);
	clock_gettime(CLOCK_REALTIME, &t->tic);
	next = last_print;
	while (!pg_stop() && (n == 0 || sent < n)) {
		struct netmap_ring *ring = NETMAP_TXRING(d->nifp, d->first_tx_ring);
		uint64_t limit, m;
		int rv;

		if (g->tx_rate && tosend <= 0) {
			tosend = g->burst;
			next = pg_ts_add(next, g->tx_period);
			wait_mono(next);
		}
		limit = g->tx_rate ? (uint64_t)tosend : (uint64_t)g->burst;
		if (n && n - sent < limit)
			limit = n - sent;
		for (m = 0; m < limit; m++) {
			struct netmap_slot *slot = &ring->slot[ring->head];
			char *p = NETMAP_BUF(ring, slot->buf_idx);

			if (nm_ring_empty(ring)) {
				D("-- ouch, cannot send");
				break;
			}
			memcpy(p, t->frame, size);
			mono(&ts);
			put_u32(p + OFS_SEQ, (uint32_t)sent);
			put_u32(p + OFS_TS, (uint32_t)ts.tv_sec);
			put_u32(p + OFS_TS + 4, (uint32_t)ts.tv_nsec);
			slot->len = size;
			slot->flags = 0;
			if (g->options & OPT_DUMP)
				pg_dump("ping", (const uint8_t *)p, size, ring->head);
			sent++;
			ring->head = ring->cur = nm_ring_next(ring, ring->head);
		}
		if (m > 0)
			events++;
		if (g->tx_rate)
			tosend -= m;
		pg_ctr_set(&t->ctr.pkts, sent);
		pg_ctr_set(&t->ctr.bytes, sent * size);
		pg_ctr_set(&t->ctr.events, events);
		if (ioctl(d->fd, NIOCTXSYNC, NULL) < 0)
			D("TXSYNC error on queue %d: %s", t->me, strerror(errno));

		rv = poll(&pfd, 1, 3000);
		if (rv <= 0) {
			if (!pg_stop())
				D("poll error on queue %d: %s", t->me,
				  rv ? strerror(errno) : "timeout");
			continue;
		}
		mono(&ts);
		for (i = d->first_rx_ring; i <= d->last_rx_ring; i++) {
			ring = NETMAP_RXRING(d->nifp, i);
			while (!nm_ring_empty(ring)) {
				struct netmap_slot *slot = &ring->slot[ring->head];
				const char *p = NETMAP_BUF(ring, slot->buf_idx);

				if (slot->len >= PG_PING_LEN)
					rtt_add(&s, p, &ts);
				ring->head = ring->cur = nm_ring_next(ring, ring->head);
			}
		}
		if (pg_ts_diff_ns(ts, last_print) >= 1000000000) {
			rtt_print(&s);
			last_print = ts;
		}
	}
	if (s.count)
		rtt_print(&s);
	if (s.g_count)
		D("RTT over %llu packets: min %d av %d ns",
		  (unsigned long long)s.g_count, (int)s.g_min,
		  (int)(s.g_sum / s.g_count));
	else if (sent)
		D("RTT over 0 packets: no replies to %llu pings",
		  (unsigned long long)sent);
	clock_gettime(CLOCK_REALTIME, &t->toc);
	t->completed = 1;
	return NULL;
}

/* The echo: copy, swap MACs, swap IPv4 addresses (checksums unchanged). */
static void echo_frame(char *dst, const char *src, unsigned len)
{
	memcpy(dst, src, len);
	if (len < 14)
		return;
	memcpy(dst, src + 6, 6);
	memcpy(dst + 6, src, 6);
	if (len >= 34 && (uint8_t)src[12] == 0x08 && src[13] == 0x00) {
		memcpy(dst + 26, src + 30, 4);
		memcpy(dst + 30, src + 26, 4);
	}
}

void *pg_pong_body(void *arg)
{
	struct pg_thread *t = arg;
	struct pg_conf *g = t->g;
	struct nmport_d *d = t->nmd;
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
	uint64_t n = g->npackets, sent = 0, bytes = 0, events = 0;
	int i;

	if (g->nthreads > 1) {
		D("can only reply ping with 1 thread");
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &t->tic);
	while (!pg_stop() && (n == 0 || sent < n)) {
		struct netmap_ring *txring = NETMAP_TXRING(d->nifp, d->first_tx_ring);
		uint32_t txhead, txavail;
		uint64_t before = sent;
		int rv;

		rv = poll(&pfd, 1, 1000);
		if (rv <= 0) {
			if (rv < 0 && errno != EINTR)
				D("poll error on queue %d: %s", t->me, strerror(errno));
			continue;
		}
		txhead = txring->head;
		txavail = nm_ring_space(txring);
		for (i = d->first_rx_ring; i <= d->last_rx_ring; i++) {
			struct netmap_ring *rxring = NETMAP_RXRING(d->nifp, i);

			while (!nm_ring_empty(rxring) && (n == 0 || sent < n)) {
				struct netmap_slot *slot = &rxring->slot[rxring->head];
				const char *src = NETMAP_BUF(rxring, slot->buf_idx);
				unsigned len = slot->len;

				rxring->head = rxring->cur = nm_ring_next(rxring, rxring->head);
				if (txavail == 0)
					continue;	/* no room: dropped */
				if (len > txring->nr_buf_size)
					len = txring->nr_buf_size;
				echo_frame(NETMAP_BUF(txring, txring->slot[txhead].buf_idx),
					   src, len);
				txring->slot[txhead].len = len;
				txring->slot[txhead].flags = 0;
				txhead = nm_ring_next(txring, txhead);
				txavail--;
				sent++;
				bytes += len;
			}
		}
		txring->head = txring->cur = txhead;
		if (sent != before) {
			events++;
			if (ioctl(d->fd, NIOCTXSYNC, NULL) < 0)
				D("TXSYNC error on queue %d: %s", t->me, strerror(errno));
		}
		pg_ctr_set(&t->ctr.pkts, sent);
		pg_ctr_set(&t->ctr.bytes, bytes);
		pg_ctr_set(&t->ctr.events, events);
	}
	/* release what we consumed, flush what we queued */
	ioctl(d->fd, NIOCRXSYNC, NULL);
	ioctl(d->fd, NIOCTXSYNC, NULL);
	clock_gettime(CLOCK_REALTIME, &t->toc);
	t->completed = 1;
	return NULL;
}
