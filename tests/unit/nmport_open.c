// SPDX-License-Identifier: BSD-2-Clause
/*
 * nmport_open() end to end against the in-process kernel: the two ends of
 * a pipe (X{1 and X}1) share one mapping, see the rings they should, and
 * carry packets injected with nmport_inject() byte for byte, including one
 * that spans several buffers (NS_MOREFRAG). Also @share, @conf and the
 * pool-size extension, and the failures that must name the port.
 * Skips (77) when /dev/netmap cannot be opened at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libnetmap.h>

static int passed, failed;
static char last_msg[2048];

static void capture_error(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
	fprintf(stderr, "  (libnetmap: %s)\n", msg);
}

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (cond) {                                                   \
			passed++;                                             \
		} else {                                                      \
			failed++;                                             \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);           \
			printf(__VA_ARGS__);                                  \
			printf("\n");                                         \
		}                                                             \
	} while (0)

/* fills a packet with a pattern that depends on its sequence number */
static void fill(unsigned char *p, size_t len, unsigned int seq)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seq * 31 + i * 7);
}

/*
 * Receives one packet (possibly several NS_MOREFRAG slots) from the RX rings
 * of d into buf; returns its length, or -1 if none is there.
 */
static long receive(struct nmport_d *d, unsigned char *buf, size_t cap)
{
	unsigned int ri;

	for (ri = d->first_rx_ring; ri <= d->last_rx_ring; ri++) {
		struct netmap_ring *ring = NETMAP_RXRING(d->nifp, ri);
		size_t len = 0;
		uint32_t i;

		if (nm_ring_empty(ring))
			continue;
		i = ring->head;
		for (;;) {
			struct netmap_slot *slot = &ring->slot[i];

			if (len + slot->len > cap)
				return -1;
			memcpy(buf + len, NETMAP_BUF(ring, slot->buf_idx), slot->len);
			len += slot->len;
			i = nm_ring_next(ring, i);
			if (!(slot->flags & NS_MOREFRAG))
				break;
			if (i == ring->tail)
				return -1;
		}
		ring->head = ring->cur = i;
		return (long)len;
	}
	return -1;
}

static void test_pipe_pair(const char *base)
{
	char mname[64], sname[64];
	struct nmport_d *m, *s;
	unsigned char out[5000], in[6000];
	unsigned int seq, sent = 0, got = 0;
	size_t sizes[] = { 60, 1, 1514, 2048, 4000 };

	snprintf(mname, sizeof(mname), "netmap:%s{1", base);
	snprintf(sname, sizeof(sname), "netmap:%s}1", base);

	m = nmport_open(mname);
	CHECK(m != NULL, "nmport_open(%s): %s (errno %d)", mname, last_msg, errno);
	s = nmport_open(sname);
	CHECK(s != NULL, "nmport_open(%s): %s (errno %d)", sname, last_msg, errno);
	if (m == NULL || s == NULL)
		goto out;

	CHECK(m->fd >= 0 && s->fd >= 0 && m->register_done && m->mmap_done,
	      "descriptors not open");
	CHECK(m->reg.nr_mem_id == s->reg.nr_mem_id, "pipe ends in mem %u and %u",
	      m->reg.nr_mem_id, s->reg.nr_mem_id);
	CHECK(m->mem == s->mem && m->mem->refcount == 2,
	      "pipe ends do not share one mapping (%p %p)", (void *)m->mem, (void *)s->mem);
	CHECK(m->nifp != NULL && s->nifp != NULL && m->nifp != s->nifp, "nifp");
	CHECK(m->first_tx_ring == 0 && m->last_tx_ring == m->reg.nr_tx_rings - 1 &&
	      m->first_rx_ring == 0 && m->last_rx_ring == m->reg.nr_rx_rings - 1,
	      "master rings tx %u..%u rx %u..%u of %u/%u", m->first_tx_ring, m->last_tx_ring,
	      m->first_rx_ring, m->last_rx_ring, m->reg.nr_tx_rings, m->reg.nr_rx_rings);
	CHECK(s->first_tx_ring == 0 && s->last_tx_ring == s->reg.nr_tx_rings - 1,
	      "slave rings tx %u..%u", s->first_tx_ring, s->last_tx_ring);

	/* master -> slave, sizes from one byte to two buffers */
	for (seq = 0; seq < 40; seq++) {
		size_t len = sizes[seq % 5];

		fill(out, len, seq);
		if (nmport_inject(m, out, len) == (int)len)
			sent++;
		CHECK(ioctl(m->fd, NIOCTXSYNC, NULL) == 0, "TXSYNC: %s", strerror(errno));
		CHECK(ioctl(s->fd, NIOCRXSYNC, NULL) == 0, "RXSYNC: %s", strerror(errno));
		for (;;) {
			long n = receive(s, in, sizeof(in));
			size_t want = sizes[got % 5];

			if (n < 0)
				break;
			fill(out, want, got);
			CHECK((size_t)n == want && memcmp(in, out, want) == 0,
			      "packet %u: %ld bytes, expected %zu, payload %s", got, n, want,
			      memcmp(in, out, want) ? "differs" : "same");
			got++;
		}
	}
	CHECK(ioctl(s->fd, NIOCRXSYNC, NULL) == 0, "RXSYNC: %s", strerror(errno));
	while (receive(s, in, sizeof(in)) >= 0)
		got++;
	CHECK(sent == 40 && got == sent, "sent %u of 40, received %u", sent, got);

	/* slave -> master too */
	fill(out, 100, 77);
	CHECK(nmport_inject(s, out, 100) == 100, "inject on slave");
	CHECK(ioctl(s->fd, NIOCTXSYNC, NULL) == 0, "slave TXSYNC: %s", strerror(errno));
	CHECK(ioctl(m->fd, NIOCRXSYNC, NULL) == 0, "master RXSYNC: %s", strerror(errno));
	CHECK(receive(m, in, sizeof(in)) == 100 && memcmp(in, out, 100) == 0,
	      "slave -> master packet");

	/* a full TX ring: inject reports 0 instead of overwriting */
	{
		unsigned int n = 0;

		while (n < 100000 && nmport_inject(m, out, 60) == 60)
			n++;
		CHECK(n > 0 && n < 100000, "inject into a full ring: %u accepted", n);
		CHECK(nmport_inject(m, out, 60) == 0, "inject on a full ring accepted");
	}
out:
	nmport_close(s);
	nmport_close(m);
}

static void test_share_conf(const char *base)
{
	char a[128], b[128], c[160];
	struct nmport_d *pa, *pb = NULL, *pc = NULL;

	snprintf(a, sizeof(a), "netmap:%sa{2@conf:rings=2,slots=256", base);
	pa = nmport_open(a);
	CHECK(pa != NULL, "nmport_open(%s): %s", a, last_msg);
	if (pa == NULL)
		return;
	CHECK(pa->reg.nr_tx_rings == 2 && pa->reg.nr_rx_rings == 2 &&
	      pa->last_tx_ring == 1 && pa->last_rx_ring == 1,
	      "@conf:rings=2 gave %u/%u rings, last %u/%u", pa->reg.nr_tx_rings,
	      pa->reg.nr_rx_rings, pa->last_tx_ring, pa->last_rx_ring);
	CHECK(pa->reg.nr_tx_slots == 256, "@conf:slots=256 gave %u", pa->reg.nr_tx_slots);
	CHECK(NETMAP_TXRING(pa->nifp, 0)->num_slots == 256, "ring has %u slots",
	      NETMAP_TXRING(pa->nifp, 0)->num_slots);

	/* another pipe in the memory of the first one */
	snprintf(b, sizeof(b), "netmap:%sb{3@share=netmap:%sa{2", base, base);
	pb = nmport_open(b);
	CHECK(pb != NULL, "nmport_open(%s): %s", b, last_msg);
	if (pb != NULL)
		CHECK(pb->reg.nr_mem_id == pa->reg.nr_mem_id && pb->mem == pa->mem,
		      "@share: mem %u vs %u", pb->reg.nr_mem_id, pa->reg.nr_mem_id);

	/* ours: pool sizes for a fresh region */
	snprintf(c, sizeof(c), "netmap:%sc{4@%u@conf:slots=256,buf-num=2048,buf-size=4096",
		 base, 100u + (unsigned)(getpid() % 1000));
	pc = nmport_open(c);
	CHECK(pc != NULL, "nmport_open(%s): %s", c, last_msg);
	if (pc != NULL)
		CHECK(NETMAP_TXRING(pc->nifp, 0)->nr_buf_size == 4096,
		      "@conf:buf-size=4096 gave buffers of %u", NETMAP_TXRING(pc->nifp, 0)->nr_buf_size);

	nmport_close(pc);
	nmport_close(pb);
	nmport_close(pa);
}

static void test_failures(const char *base)
{
	char name[128];
	struct nmport_d *d, *d2;

	/* a name that is no port */
	snprintf(name, sizeof(name), "netmap:%snosuchif", base);
	last_msg[0] = '\0';
	d = nmport_open(name);
	CHECK(d == NULL && errno != 0 && strstr(last_msg, "nosuchif"),
	      "open(%s): errno %d, message '%s'", name, errno, last_msg);
	nmport_close(d);

	/* register twice, mmap twice */
	snprintf(name, sizeof(name), "netmap:%sx{5", base);
	d = nmport_open(name);
	CHECK(d != NULL, "open(%s): %s", name, last_msg);
	if (d == NULL)
		return;
	CHECK(nmport_register(d) == -1 && errno == EINVAL && strstr(last_msg, "already registered"),
	      "second register: %s", last_msg);
	CHECK(nmport_mmap(d) == -1 && errno == EINVAL && strstr(last_msg, "already mapped"),
	      "second mmap: %s", last_msg);
	/* a clone opens the same request on a new fd, sharing the mapping */
	d2 = nmport_clone(d);
	CHECK(d2 != NULL, "clone: %s", last_msg);
	if (d2 != NULL) {
		int ret = nmport_open_desc(d2);

		/* the same pipe end bound twice: the kernel decides (busy or not);
		 * either way nothing must leak or crash */
		if (ret == 0)
			CHECK(d2->mem == d->mem, "clone mapped separately");
		else
			CHECK(errno != 0 && d2->fd == -1 && !d2->register_done,
			      "failed open_desc left state");
		nmport_close(d2);
	}
	nmport_close(d);
}

int main(void)
{
	struct nmctx ctx = *nmctx_get();
	char base[32];
	int fd;

	fd = open("/dev/netmap", O_RDWR);
	if (fd < 0) {
		/* the library serves /dev/netmap itself: this is a failure */
		printf("FAIL: cannot open /dev/netmap: %s\n", strerror(errno));
		return 1;
	}
	close(fd);

	ctx.error = capture_error;
	ctx.mem_descs = NULL;
	nmctx_set_default(&ctx);
	snprintf(base, sizeof(base), "nmo%d", (int)getpid());

	test_pipe_pair(base);
	test_share_conf(base);
	test_failures(base);

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
