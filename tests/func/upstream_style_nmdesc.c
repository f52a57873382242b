// SPDX-License-Identifier: BSD-2-Clause
/*
 * upstream_style_nmdesc.c - a netmap client written the way upstream's
 * examples (bridge.c, the old pkt-gen) are: NETMAP_WITH_LIBS, nm_open(),
 * nm_inject() to send, poll() + nm_dispatch() to receive, nm_close().
 *
 *   upstream_style_nmdesc tx PORT COUNT
 *   upstream_style_nmdesc rx PORT COUNT [READYFILE]
 *
 * Packet i carries its sequence number in its first 4 bytes (little
 * endian), has length pkt_len(i) and a byte pattern derived from i, so the
 * receiver checks every byte of every packet and the order. Lengths run
 * from 60 to UPSTREAM_STYLE_MAXLEN (environment, both ends; default 1514);
 * above the buffer size nm_inject() spreads a packet over NS_MOREFRAG slots
 * and the receiver gathers the fragments from the ring. rx creates
 * READYFILE once the port is open, so a script can start tx after it.
 * Every wait is bounded (10 s without progress ends the run as a failure).
 * Exit 0 when COUNT packets went through exactly, 1 otherwise.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define NETMAP_WITH_LIBS
#include <net/netmap_user.h>

#define IDLE_MS		10000	/* give up after this long without progress */
#define DRAIN_MS	10000	/* tx: wait at most this long for the peer to consume */
#define MAX_LEN		65535	/* what a multi-slot packet may reach */

static unsigned int max_len = 1514;

static unsigned int
pkt_len(uint32_t i)
{
	return 60 + (i * 37u) % (max_len - 60 + 1);
}

static uint8_t
pkt_byte(uint32_t i, unsigned int j)
{
	return (uint8_t)(i * 131u + j * 7u + 1u);
}

static void
pkt_fill(uint8_t *p, uint32_t i)
{
	unsigned int j, len = pkt_len(i);

	for (j = 0; j < 4; j++)
		p[j] = (uint8_t)(i >> (8 * j));
	for (; j < len; j++)
		p[j] = pkt_byte(i, j);
}

struct rx_state {
	uint32_t next;		/* expected sequence number */
	uint32_t count;
	uint64_t bytes;
	int bad;		/* first mismatch already reported */
};

/*
 * Copy the packet described by h into out: caplen bytes are contiguous at
 * p, the rest sits in the following NS_MOREFRAG slots of the same ring.
 */
static unsigned int
rx_gather(const struct nm_pkthdr *h, const unsigned char *p, uint8_t *out)
{
	struct nm_desc *d = h->d;
	struct netmap_ring *ring = NETMAP_RXRING(d->nifp, d->cur_rx_ring);
	uint32_t i = (uint32_t)(h->slot - ring->slot);
	unsigned int got = 0;

	if (h->caplen == h->len) {
		memcpy(out, p, h->len);
		return h->len;
	}
	for (;;) {
		struct netmap_slot *s = &ring->slot[i];

		if (got + s->len > MAX_LEN)
			return 0;
		memcpy(out + got, NETMAP_BUF(ring, s->buf_idx), s->len);
		got += s->len;
		if (!(s->flags & NS_MOREFRAG))
			return got;
		i = nm_ring_next(ring, i);
	}
}

static void
rx_cb(unsigned char *arg, const struct nm_pkthdr *h, const unsigned char *pkt)
{
	static uint8_t p[MAX_LEN];
	struct rx_state *st = (struct rx_state *)arg;
	unsigned int j, want = pkt_len(st->next);
	uint32_t seq;

	if (st->bad)
		return;
	if (h->len != want || rx_gather(h, pkt, p) != want) {
		fprintf(stderr, "rx: packet %u: len %u caplen %u, want %u\n",
			st->next, h->len, h->caplen, want);
		st->bad = 1;
		return;
	}
	seq = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
	if (seq != st->next) {
		fprintf(stderr, "rx: got sequence %u, want %u\n", seq, st->next);
		st->bad = 1;
		return;
	}
	for (j = 4; j < want; j++) {
		if (p[j] != pkt_byte(seq, j)) {
			fprintf(stderr, "rx: packet %u byte %u is 0x%02x, want 0x%02x\n",
				seq, j, p[j], pkt_byte(seq, j));
			st->bad = 1;
			return;
		}
	}
	st->next++;
	st->count++;
	st->bytes += want;
}

static int
do_tx(struct nm_desc *d, uint32_t count)
{
	static uint8_t buf[MAX_LEN];
	struct pollfd pfd = { .fd = NETMAP_FD(d), .events = POLLOUT };
	uint32_t i = 0, r;
	int idle = 0;

	pkt_fill(buf, 0);
	while (i < count) {
		if (nm_inject(d, buf, pkt_len(i)) > 0) {
			pkt_fill(buf, ++i);
			idle = 0;
			continue;
		}
		/* rings full: poll() syncs TX and waits for room */
		if (poll(&pfd, 1, 100) <= 0 && (idle += 100) >= IDLE_MS) {
			fprintf(stderr, "tx: stuck after %u of %u packets\n", i, count);
			return 1;
		}
	}
	/* flush, then wait (a bounded time) until the peer consumed everything */
	for (idle = 0; idle < DRAIN_MS; idle += 1) {
		int pending = 0;

		if (ioctl(NETMAP_FD(d), NIOCTXSYNC, NULL) < 0) {
			perror("tx: NIOCTXSYNC");
			return 1;
		}
		for (r = d->first_tx_ring; r <= d->last_tx_ring; r++)
			pending |= nm_tx_pending(NETMAP_TXRING(d->nifp, r));
		if (!pending)
			break;
		poll(NULL, 0, 1);
	}
	printf("tx: %u packets sent\n", i);
	return 0;
}

static int
do_rx(struct nm_desc *d, uint32_t count)
{
	struct pollfd pfd = { .fd = NETMAP_FD(d), .events = POLLIN };
	struct rx_state st = { 0 };
	int idle = 0;

	while (st.count < count && !st.bad) {
		int n = poll(&pfd, 1, 100);

		if (n < 0 && errno != EINTR) {
			perror("rx: poll");
			return 1;
		}
		if (n > 0 && (pfd.revents & POLLERR)) {
			fprintf(stderr, "rx: POLLERR on the port\n");
			return 1;
		}
		if (nm_dispatch(d, 0, rx_cb, (unsigned char *)&st) > 0)
			idle = 0;
		else if ((idle += 100) >= IDLE_MS)
			break;
	}
	/* hand the last slots back, so the sender sees its ring drain */
	if (ioctl(NETMAP_FD(d), NIOCRXSYNC, NULL) < 0) {
		perror("rx: NIOCRXSYNC");
		return 1;
	}
	if (st.bad || st.count != count) {
		fprintf(stderr, "rx: %u of %u packets received correctly\n",
			st.count, count);
		return 1;
	}
	printf("rx: %u packets %llu bytes, every byte as sent\n", st.count,
	       (unsigned long long)st.bytes);
	return 0;
}

int
main(int argc, char **argv)
{
	struct nm_desc *d;
	uint32_t count;
	int tx, ret;

	if (argc < 4 || (strcmp(argv[1], "tx") && strcmp(argv[1], "rx"))) {
		fprintf(stderr, "usage: %s tx|rx PORT COUNT [READYFILE]\n", argv[0]);
		return 1;
	}
	tx = !strcmp(argv[1], "tx");
	count = (uint32_t)strtoul(argv[3], NULL, 0);
	if (getenv("UPSTREAM_STYLE_MAXLEN") != NULL) {
		unsigned long m = strtoul(getenv("UPSTREAM_STYLE_MAXLEN"), NULL, 0);

		if (m < 60 || m > MAX_LEN) {
			fprintf(stderr, "UPSTREAM_STYLE_MAXLEN %lu: must be 60..%u\n",
				m, MAX_LEN);
			return 1;
		}
		max_len = (unsigned int)m;
	}

	d = nm_open(argv[2], NULL, 0, NULL);
	if (d == NULL) {
		fprintf(stderr, "nm_open(%s): %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (!tx && argc > 4) {
		FILE *f = fopen(argv[4], "w");

		if (f == NULL) {
			perror(argv[4]);
			nm_close(d);
			return 1;
		}
		fclose(f);
	}
	ret = tx ? do_tx(d, count) : do_rx(d, count);
	if (nm_close(d) != 0) {
		fprintf(stderr, "nm_close: failed\n");
		ret = 1;
	}
	return ret;
}
