// SPDX-License-Identifier: BSD-2-Clause
/*
 * The nm_open() family without a kernel: nm_parse() on a table of port
 * names, nm_open()/nm_close() argument handling, and nm_inject(),
 * nm_dispatch(), nm_nextpkt() on a descriptor pointed at a synthetic
 * region (two TX and two RX rings of 8 slots, a pool of 2 KiB buffers)
 * in malloc'd memory. Registration and mapping are exercised by the
 * functional tests, which need the core.
 */
#define NETMAP_WITH_LIBS
#include <net/netmap_user.h>
#include <libnetmap.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void
check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
check(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* ------------------------------------------------------------------ */

struct parse_case {
	const char *ifname;
	int ok;
	const char *name;
	uint32_t nr_flags;
	uint16_t nr_ringid;
	uint16_t nr_arg2;
};

static const struct parse_case parse_cases[] = {
	{ "netmap:eth0", 1, "eth0", NR_REG_ALL_NIC, 0, 0 },
	{ "netmap:eth0^", 1, "eth0", NR_REG_SW, 0, 0 },
	{ "netmap:eth0*", 1, "eth0", NR_REG_NIC_SW, 0, 0 },
	{ "netmap:eth0-3", 1, "eth0", NR_REG_ONE_NIC, 3, 0 },
	{ "netmap:eth0^1", 1, "eth0", NR_REG_ONE_SW, 1, 0 },
	{ "netmap:eth0/x", 1, "eth0", NR_REG_ALL_NIC | NR_EXCLUSIVE, 0, 0 },
	{ "netmap:eth0/rt", 1, "eth0",
	  NR_REG_ALL_NIC | NR_MONITOR_RX | NR_MONITOR_TX, 0, 0 },
	{ "netmap:eth0@2", 1, "eth0", NR_REG_ALL_NIC, 0, 2 },
	{ "netmap:p{3", 1, "p{3", NR_REG_ALL_NIC, 0, 0 },
	{ "netmap:p}3", 1, "p}3", NR_REG_ALL_NIC, 0, 0 },
	{ "vale0:p1", 1, "vale0:p1", NR_REG_ALL_NIC, 0, 0 },
	{ "netmap:a123456789abcdef", 0, NULL, 0, 0, 0 },	/* > 15 chars */
	{ "netmap:eth0-", 0, NULL, 0, 0, 0 },
	{ "netmap:eth0/q", 0, NULL, 0, 0, 0 },
	{ "netmap:", 0, NULL, 0, 0, 0 },
	{ "eth0", 0, NULL, 0, 0, 0 },
	{ "netmap:eth0@conf:rings=2", 0, NULL, 0, 0, 0 },
};

static void
test_parse(void)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct nm_desc d;
		char err[MAXERRMSG];
		int rc;

		memset(&d, 0, sizeof(d));
		errno = 0;
		rc = nm_parse(c->ifname, &d, err);
		if (!c->ok) {
			check(rc == -1 && errno == EINVAL && err[0] != '\0',
			      "nm_parse(\"%s\") should fail with EINVAL and a "
			      "message: rc %d errno %d err '%s'", c->ifname, rc,
			      errno, err);
			continue;
		}
		check(rc == 0, "nm_parse(\"%s\") failed: %s", c->ifname, err);
		if (rc != 0)
			continue;
		check(strcmp(d.req.nr_name, c->name) == 0,
		      "nm_parse(\"%s\") nr_name '%s', want '%s'", c->ifname,
		      d.req.nr_name, c->name);
		check(d.req.nr_flags == c->nr_flags,
		      "nm_parse(\"%s\") nr_flags 0x%x, want 0x%x", c->ifname,
		      d.req.nr_flags, c->nr_flags);
		check(d.req.nr_ringid == c->nr_ringid,
		      "nm_parse(\"%s\") nr_ringid %u, want %u", c->ifname,
		      d.req.nr_ringid, c->nr_ringid);
		check(d.req.nr_arg2 == c->nr_arg2,
		      "nm_parse(\"%s\") nr_arg2 %u, want %u", c->ifname,
		      d.req.nr_arg2, c->nr_arg2);
	}
}

static void
test_open_args(void)
{
	struct nm_desc fake;

	errno = EBADF;
	check(nm_open("eth0", NULL, 0, NULL) == NULL && errno == 0,
	      "nm_open of a non-netmap name: NULL with errno 0 (errno %d)",
	      errno);
	check(nm_close(NULL) == EINVAL, "nm_close(NULL) is EINVAL");
	memset(&fake, 0, sizeof(fake));
	fake.self = &fake;
	check(nm_close(&fake) == EINVAL,
	      "nm_close of a descriptor nm_open did not make is EINVAL");
	check(nm_mmap(&fake, NULL) == EINVAL,
	      "nm_mmap of a descriptor nm_open did not make is EINVAL");
}

/* ------------------------------------------------------------------ */

#define NTX		2
#define NRX		2
#define NSLOTS		8
#define RINGS_OFS	1024
#define RING_STRIDE	512
#define BUFS_OFS	8192
#define BUFSZ		2048
#define NBUFS		64
#define REGION_SIZE	(BUFS_OFS + NBUFS * BUFSZ)

#define KSET(field, v)						\
	do {							\
		__typeof__(field) _v = (v);			\
		memcpy((void *)&(field), &_v, sizeof(_v));	\
	} while (0)

/* TX rings k = 0, 1; RX rings k = 2, 3; slot s of ring k uses buffer
 * 2 + k * NSLOTS + s. No host rings. */
static char *
region_create(void)
{
	char *base = aligned_alloc(4096, REGION_SIZE);
	struct netmap_if *nifp = (struct netmap_if *)base;
	int k, s;

	if (base == NULL)
		return NULL;
	memset(base, 0, REGION_SIZE);
	KSET(nifp->ni_tx_rings, NTX);
	KSET(nifp->ni_rx_rings, NRX);
	for (k = 0; k < NTX + NRX; k++) {
		ssize_t ofs = RINGS_OFS + k * RING_STRIDE;
		struct netmap_ring *ring = (struct netmap_ring *)(base + ofs);

		KSET(nifp->ring_ofs[k], ofs);
		KSET(ring->buf_ofs, (int64_t)(BUFS_OFS - ofs));
		KSET(ring->num_slots, NSLOTS);
		KSET(ring->nr_buf_size, BUFSZ);
		for (s = 0; s < NSLOTS; s++)
			ring->slot[s].buf_idx = 2 + k * NSLOTS + s;
	}
	return base;
}

static void
desc_init(struct nm_desc *d, char *base)
{
	memset(d, 0, sizeof(*d));
	d->self = d;
	d->fd = -1;
	d->mem = base;
	d->memsize = REGION_SIZE;
	*(struct netmap_if **)(uintptr_t)&d->nifp = (struct netmap_if *)base;
	d->first_tx_ring = 0;
	d->last_tx_ring = NTX - 1;
	d->first_rx_ring = 0;
	d->last_rx_ring = NRX - 1;
}

static void
test_inject(char *base)
{
	struct nm_desc d;
	struct netmap_ring *t0, *t1;
	char pkt[3000];
	int i, rc, sent;

	desc_init(&d, base);
	t0 = NETMAP_TXRING(d.nifp, 0);
	t1 = NETMAP_TXRING(d.nifp, 1);
	t0->head = t0->cur = 0;
	t0->tail = NSLOTS - 1;		/* 7 free slots */
	t1->head = t1->cur = 4;
	t1->tail = 6;			/* 2 free slots */
	for (i = 0; i < (int)sizeof(pkt); i++)
		pkt[i] = (char)i;

	rc = nm_inject(&d, pkt, 60);
	check(rc == 60, "nm_inject 60 bytes returns 60 (got %d)", rc);
	check(t0->head == 1 && t0->cur == 1 && t0->slot[0].len == 60 &&
	      t0->slot[0].flags == 0 &&
	      memcmp(NETMAP_BUF(t0, t0->slot[0].buf_idx), pkt, 60) == 0,
	      "nm_inject wrote slot 0 of TX ring 0 (head %u len %u)",
	      t0->head, t0->slot[0].len);

	rc = nm_inject(&d, pkt, 3000);
	check(rc == 3000, "nm_inject of 3000 bytes returns 3000 (got %d)", rc);
	check(t0->head == 3 && t0->slot[1].len == BUFSZ &&
	      t0->slot[1].flags == NS_MOREFRAG &&
	      t0->slot[2].len == 3000 - BUFSZ && t0->slot[2].flags == 0 &&
	      memcmp(NETMAP_BUF(t0, t0->slot[2].buf_idx), pkt + BUFSZ,
		     3000 - BUFSZ) == 0,
	      "3000 bytes span two slots with NS_MOREFRAG (head %u, lens %u %u)",
	      t0->head, t0->slot[1].len, t0->slot[2].len);

	/* fill ring 0, then the next packets go to ring 1 */
	for (sent = 0; nm_inject(&d, pkt, 64) == 64 && sent < 100; sent++)
		;
	check(sent == 4 + 2, "inject fills ring 0 (4 left) then ring 1 (2), "
	      "sent %d", sent);
	check(t0->head == t0->tail && t1->head == t1->tail,
	      "both rings full (ring0 %u/%u ring1 %u/%u)", t0->head, t0->tail,
	      t1->head, t1->tail);
	check(d.cur_tx_ring == 1, "cur_tx_ring moved to 1 (got %u)",
	      d.cur_tx_ring);
	check(nm_inject(&d, pkt, 64) == 0, "nm_inject on full rings returns 0");
}

struct seen {
	int n;
	uint32_t len[8], caplen[8];
	uint64_t flags[8];
	const unsigned char *buf[8];
};

static void
collect(unsigned char *arg, const struct nm_pkthdr *h, const unsigned char *buf)
{
	struct seen *s = (struct seen *)arg;

	if (s->n < 8) {
		s->len[s->n] = h->len;
		s->caplen[s->n] = h->caplen;
		s->flags[s->n] = h->flags;
		s->buf[s->n] = buf;
	}
	s->n++;
}

/* ring 0: a 100-byte packet, a 2-slot packet in adjacent buffers; ring 1:
 * one 42-byte packet */
static void
rx_fill(struct nm_desc *d)
{
	struct netmap_ring *r0 = NETMAP_RXRING(d->nifp, 0);
	struct netmap_ring *r1 = NETMAP_RXRING(d->nifp, 1);

	r0->head = r0->cur = 0;
	r0->tail = 3;
	r0->slot[0].len = 100;
	r0->slot[0].flags = 0;
	r0->slot[1].len = BUFSZ;
	r0->slot[1].flags = NS_MOREFRAG;
	r0->slot[2].len = 500;
	r0->slot[2].flags = 0;
	r1->head = r1->cur = 5;
	r1->tail = 6;
	r1->slot[5].len = 42;
	r1->slot[5].flags = 0;
	d->cur_rx_ring = 0;
}

static void
test_dispatch(char *base)
{
	struct nm_desc d;
	struct netmap_ring *r0, *r1;
	struct nm_pkthdr h;
	struct seen s;
	unsigned char *buf;
	int got;

	desc_init(&d, base);
	r0 = NETMAP_RXRING(d.nifp, 0);
	r1 = NETMAP_RXRING(d.nifp, 1);

	rx_fill(&d);
	memset(&s, 0, sizeof(s));
	got = nm_dispatch(&d, 0, collect, (unsigned char *)&s);
	check(got == 3 && s.n == 3, "nm_dispatch(cnt 0) delivers 3 packets "
	      "(returned %d, callbacks %d)", got, s.n);
	check(s.len[0] == 100 && s.caplen[0] == 100 &&
	      s.buf[0] == (unsigned char *)NETMAP_BUF(r0, r0->slot[0].buf_idx),
	      "packet 1: len %u caplen %u", s.len[0], s.caplen[0]);
	check(s.len[1] == BUFSZ + 500 && s.caplen[1] == BUFSZ + 500,
	      "fragmented packet in adjacent buffers: len %u caplen %u",
	      s.len[1], s.caplen[1]);
	check(s.len[2] == 42, "packet from RX ring 1: len %u", s.len[2]);
	check(s.flags[0] == NM_MORE_PKTS && s.flags[1] == NM_MORE_PKTS &&
	      s.flags[2] == 0, "NM_MORE_PKTS on all but the last (%llu %llu %llu)",
	      (unsigned long long)s.flags[0], (unsigned long long)s.flags[1],
	      (unsigned long long)s.flags[2]);
	check(r0->head == 3 && r0->cur == 3 && r1->head == 6,
	      "rings released (ring0 head %u, ring1 head %u)", r0->head,
	      r1->head);

	rx_fill(&d);
	memset(&s, 0, sizeof(s));
	got = nm_dispatch(&d, 1, collect, (unsigned char *)&s);
	check(got == 1 && s.n == 1 && s.flags[0] == 0 && r0->head == 1,
	      "nm_dispatch(cnt 1) takes one packet (got %d, head %u)", got,
	      r0->head);

	rx_fill(&d);
	/* non-adjacent fragment buffers: caplen stops at the first one */
	r0->slot[2].buf_idx += 3;
	buf = nm_nextpkt(&d, &h);
	check(buf != NULL && h.len == 100 && r0->head == 1,
	      "nm_nextpkt: first packet (len %u)", h.len);
	buf = nm_nextpkt(&d, &h);
	check(buf != NULL && h.len == BUFSZ + 500 && h.caplen == BUFSZ &&
	      r0->head == 3, "nm_nextpkt: fragmented packet len %u caplen %u",
	      h.len, h.caplen);
	r0->slot[2].buf_idx -= 3;
	buf = nm_nextpkt(&d, &h);
	check(buf != NULL && h.len == 42 && d.cur_rx_ring == 1,
	      "nm_nextpkt moves on to RX ring 1 (len %u ring %u)", h.len,
	      d.cur_rx_ring);
	check(nm_nextpkt(&d, &h) == NULL, "nm_nextpkt on empty rings is NULL");
}

int
main(void)
{
	char *base;

	test_parse();
	test_open_args();
	base = region_create();
	if (base == NULL) {
		printf("FAIL cannot allocate the synthetic region\n");
		return 1;
	}
	test_inject(base);
	test_dispatch(base);
	free(base);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
