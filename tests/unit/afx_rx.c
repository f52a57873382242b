// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit test: the AF_XDP RX sync (afx_rxsync() in lib/ports/afxdp.c) against
 * fake AF_XDP rings in plain memory: no socket, no root, no network. The test
 * plays the kernel: it takes fill addresses off the fill ring and writes
 * struct xdp_desc entries (unaligned-chunk encoding: the fill address in the
 * low 48 bits, the 256-byte headroom as the offset in the high 16) into the
 * RX ring. This reaches what a veth never shows: buffers coming back out of
 * fill order (zero-copy drivers) and descriptors no kernel could give.
 *
 * Covered (one "ok"/"FAIL" line per check, exit 0 only if all pass):
 *   0. afx_queue() refuses a queue without a socket here (-ENXIO)
 *   1. in fill order: priming (afx_fill_prime), lengths, NS_MOREFRAG from
 *      XDP_PKT_CONTD, no NS_BUF_CHANGED, hwtail, the fill ring gets back the
 *      released slots' buffers; partial releases, wrap-around, a full ring
 *   2. out of order: the switch to "ooo" (also mid-batch), NS_BUF_CHANGED
 *      exactly where a slot's buffer changed, the `given` bitmap equal to
 *      what the kernel holds, then random permutations for many rounds
 *   3. impossible descriptors (address not a whole buffer, buffers 0, 1,
 *      >= nbufs, len > buf_size, a buffer the kernel does not hold, one
 *      returned twice), in fill-order mode and in ooo mode: skipped, counted
 *      in rx_bad and UNM_ERR_PEER_BUF, the next good one lands in the slot;
 *      a descriptor more than the kernel has slots for waits in the RX ring
 *   4. teardown (afx_rx_slots_fixup) after the program scribbled buf_idx in
 *      kernel-owned slots: the kernel's buffers go back, each once, in
 *      fill-order mode (from the shadow) and in ooo mode (from the bitmap)
 *   5. released slots with buf_idx 0 / >= nbufs: repaired from the region's
 *      allocator (the real one, on a fake unm_k), -EINVAL, the fresh buffer
 *      to the fill ring; the slot kept empty is checked when released for
 *      good; the allocator exhausted: -EINVAL, the slot is not given to
 *      the kernel (no fill entry outside the UMEM) until a buffer is free
 *      again, then it is repaired and given
 * Not reached: the retry of the fill ring after RX (`goto want_fill`) only
 * matters when the kernel consumes fill entries during the sync.
 * After every sync the buffers are conserved: the multiset of the buffers
 * in the program's slots ([fill_pos, hwtail)) plus those the fake kernel
 * holds (taken from the fill ring, or in RX descriptors not yet consumed)
 * is exactly the ring's set.
 *
 * afxdp.c is included, so its statics are reachable; this object defines
 * every symbol afxdp.o defines (unm_afxdp_ops), so the archive's copy is
 * never pulled into the link.
 */
#include "../../lib/ports/afxdp.c"

#include <stdarg.h>

#define N		32		/* RX ring slots */
#define NBUFS		4096
#define BS		2048
#define PIDX		3		/* port index */
#define KRIDX		7		/* the RX kring */
#define MSLOT		0		/* region slot */
#define FILL_SZ		64		/* fill ring entries (power of 2) */
#define RX_SZ		32		/* RX descriptor ring entries */
#define RING_OFS	4096		/* the netmap_ring in the fake region */
#define NONE		UINT32_MAX

static int passed, failed, soft_failed;

static void vreport(bool ok, const char *fmt, va_list ap)
{
	printf("%s ", ok ? "ok  " : "FAIL");
	vprintf(fmt, ap);
	putchar('\n');
}

static bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ok, fmt, ap);
	va_end(ap);
	ok ? passed++ : failed++;
	return ok;
}

/* inside loops: only failures print; phase_end() prints one "ok" line */
static bool soft(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool soft(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	va_start(ap, fmt);
	vreport(false, fmt, ap);
	va_end(ap);
	failed++;
	soft_failed++;
	return false;
}

static void phase_begin(void)
{
	soft_failed = 0;
}

static void phase_end(const char *what)
{
	if (!soft_failed) {
		printf("ok   %s\n", what);
		passed++;
	}
}

static uint32_t rnd_state = 0x9e3779b9;

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state % n;
}

/* ---- the world: a fake unm_k, region, kring, afx_port, AF_XDP rings ------- */

struct world {
	struct afx_port *p;
	struct afx_queue *q;
	struct unm_kring *kr;
	struct netmap_ring *ring;
	struct unm_ring_ctx rc;
	char *base;
	struct unm_mem_local ml;
	struct afx_umem um;
	uint64_t fill_ring[FILL_SZ];
	struct xdp_desc rx_ring[RX_SZ];
	uint32_t rx_tag[RX_SZ];		/* buffer a pending descriptor returns, NONE: bad */
	uint32_t fill_prod, fill_cons, fill_flags;
	uint32_t rx_prod, rx_cons, rx_flags;
	uint32_t held[FILL_SZ + N];	/* the fake kernel's buffers, in fill order */
	unsigned nheld;
	uint32_t set[N];		/* the ring's buffers */
};

static struct world w;
static int dummy_xsk;
static unsigned log_lines;

static void quiet_log(int level, const char *msg)
{
	(void)level;
	log_lines++;
	if (getenv("AFX_RX_VERBOSE"))
		fprintf(stderr, "log: %s\n", msg);
}

static struct netmap_slot *slot(uint32_t j)
{
	return &w.ring->slot[j];
}

static uint64_t fill_addr(uint32_t b)
{
	return (uint64_t)b * BS - AFX_HEADROOM;
}

/* the kernel's descriptor address for buffer b (unaligned chunk mode) */
static uint64_t desc_addr(uint32_t b)
{
	return fill_addr(b) | ((uint64_t)AFX_HEADROOM << XSK_UNALIGNED_BUF_OFFSET_SHIFT);
}

static void world_free(void)
{
	if (w.q) {
		free(w.q->shadow);
		free(w.q->given);
	}
	free(w.p);
	free(w.base);
	afx_ports[PIDX] = NULL;
	memset(&w, 0, sizeof(w));
}

static void fk_pull(void);

/*
 * A fresh ring as unm_mem_ring_create_locked() leaves it (every slot a
 * buffer from the allocator, hwcur = hwtail = 0), a socket "opened" on it:
 * afx_fill_prime() gives slots [0, N - 1) to the fill ring, the fake kernel
 * takes them.
 */
static void world_init(void)
{
	struct unm_kport *port = &unm_k->ports[PIDX];
	struct unm_memreg *m = &unm_k->mems[MSLOT];
	size_t rsize = RING_OFS + sizeof(struct netmap_ring) + N * sizeof(struct netmap_slot);
	uint32_t j, b;
	int err;

	world_free();
	pthread_mutex_destroy(&unm_k->lock);
	memset(unm_k, 0, sizeof(*unm_k));
	pthread_mutex_init(&unm_k->lock, NULL);
	unm_k->magic = UNM_KERNEL_MAGIC;

	m->id = 1;
	m->gen = 1;
	m->users = 1;
	m->p.buf_num = NBUFS;
	m->p.buf_size = BS;
	m->buf_map[0] = 3;			/* buffers 0 and 1 are reserved */
	m->buf_free = NBUFS - 2;
	m->buf_hint = NBUFS - N / 2;		/* the ring's buffers: both ends of the pool */

	port->kind = UNM_PORT_HW;
	port->mem = MSLOT;
	snprintf(port->name, sizeof(port->name), "fake0");
	port->nrings[0][UNM_TX] = port->nrings[0][UNM_RX] = 1;
	port->nslots[0][UNM_TX] = port->nslots[0][UNM_RX] = N;
	port->kring[0][UNM_TX] = KRIDX - 1;
	port->kring[0][UNM_RX] = KRIDX;
	port->xsk_pid[0] = getpid();

	w.base = aligned_alloc(UNM_CACHELINE, (rsize + UNM_CACHELINE - 1) & ~(size_t)(UNM_CACHELINE - 1));
	memset(w.base, 0, rsize);
	w.ring = (struct netmap_ring *)(w.base + RING_OFS);
	w.kr = &unm_k->krings[KRIDX];
	w.kr->num_slots = N;
	w.kr->ring_ofs = RING_OFS;
	w.kr->port = PIDX;
	w.kr->dir = UNM_RX;
	w.kr->used = 1;
	for (j = 0; j < N; j++) {
		err = unm_mem_buf_alloc_locked(m, &b);
		soft(!err, "world: allocator gives a buffer for slot %u: %d", j, err);
		slot(j)->buf_idx = w.set[j] = b;
	}

	w.ml.id = m->id;
	w.ml.gen = m->gen;
	w.ml.fd = -1;
	w.ml.base = w.base;
	w.ml.size = rsize;
	w.um.pid = getpid();
	w.um.mslot = MSLOT;
	w.um.gen = m->gen;
	w.um.ml = &w.ml;
	w.um.buf_size = BS;
	w.um.nbufs = NBUFS;
	w.um.nsock = 1;

	w.p = aligned_alloc(UNM_CACHELINE, sizeof(*w.p) + sizeof(w.p->q[0]));
	memset(w.p, 0, sizeof(*w.p) + sizeof(w.p->q[0]));
	w.p->pid = getpid();
	w.p->pidx = PIDX;
	w.p->ktx = KRIDX - 1;
	w.p->krx = KRIDX;
	snprintf(w.p->ifname, sizeof(w.p->ifname), "fake0");
	w.p->nq = w.p->ntx = w.p->nrx = 1;
	w.p->um = &w.um;
	w.p->buf_size = BS;
	w.p->nbufs = NBUFS;
	w.p->shift = __builtin_ctz(BS);
	w.p->link_fd = w.p->map_fd = w.p->promisc_fd = -1;
	afx_ports[PIDX] = w.p;

	w.q = &w.p->q[0];
	w.q->xsk = (struct xsk_socket *)&dummy_xsk;	/* never dereferenced */
	w.q->fd = -1;
	w.q->has_rx = true;
	w.q->shadow = calloc(N, sizeof(uint32_t));
	w.q->given = calloc((NBUFS + 63) / 64, sizeof(uint64_t));

	/* as libxdp sets them up: producer's cached_cons = consumer + size */
	w.q->fill = (struct xsk_ring_prod){
		.cached_prod = 0, .cached_cons = FILL_SZ, .mask = FILL_SZ - 1, .size = FILL_SZ,
		.producer = &w.fill_prod, .consumer = &w.fill_cons, .ring = w.fill_ring,
		.flags = &w.fill_flags,
	};
	w.q->rx = (struct xsk_ring_cons){
		.cached_prod = 0, .cached_cons = 0, .mask = RX_SZ - 1, .size = RX_SZ,
		.producer = &w.rx_prod, .consumer = &w.rx_cons, .ring = w.rx_ring,
		.flags = &w.rx_flags,
	};

	w.rc.kr = w.kr;
	w.rc.ring = w.ring;
	w.rc.nbufs = NBUFS;
	w.rc.buf_size = BS;
	w.rc.mem = MSLOT;
	w.rc.name = "fake0";
	w.rc.sync = afx_rxsync;

	err = afx_fill_prime(w.p, 0);
	soft(!err, "world: afx_fill_prime returns %d", err);
	fk_pull();
}

/* ---- the fake kernel --------------------------------------------------------- */

/* take every fill address: each must be a buffer's fill address */
static void fk_pull(void)
{
	uint32_t prod = __atomic_load_n(&w.fill_prod, __ATOMIC_ACQUIRE);

	while (w.fill_cons != prod) {
		uint64_t a = w.fill_ring[w.fill_cons & (FILL_SZ - 1)] + AFX_HEADROOM;

		if (soft(a % BS == 0 && a / BS >= 2 && a / BS < NBUFS,
			 "fill ring entry %u: %#llx is a buffer's fill address (b * %u - 256)",
			 w.fill_cons, (unsigned long long)(a - AFX_HEADROOM), BS))
			w.held[w.nheld++] = a / BS;
		__atomic_store_n(&w.fill_cons, w.fill_cons + 1, __ATOMIC_RELEASE);
	}
}

static void fk_desc(uint64_t addr, uint32_t len, uint32_t options, uint32_t tag)
{
	struct xdp_desc *d;

	if (!soft(w.rx_prod - w.rx_cons < RX_SZ, "fake kernel: RX ring full (prod %u cons %u)",
		  w.rx_prod, w.rx_cons))
		return;
	d = &w.rx_ring[w.rx_prod & (RX_SZ - 1)];
	d->addr = addr;
	d->len = len;
	d->options = options;
	w.rx_tag[w.rx_prod & (RX_SZ - 1)] = tag;
	__atomic_store_n(&w.rx_prod, w.rx_prod + 1, __ATOMIC_RELEASE);
}

/* the kernel receives into the buffer it took pos-th (0: in fill order) */
static uint32_t fk_rx(unsigned pos, uint32_t len, uint32_t options)
{
	uint32_t b;

	if (!soft(pos < w.nheld, "fake kernel: holds %u buffers, not %u", w.nheld, pos + 1))
		return NONE;
	b = w.held[pos];
	memmove(&w.held[pos], &w.held[pos + 1], (w.nheld - pos - 1) * sizeof(w.held[0]));
	w.nheld--;
	fk_desc(desc_addr(b), len, options, b);
	return b;
}

/* the program releases up to head and syncs (what the core's prologue does) */
static int usr_sync(uint32_t head)
{
	w.kr->rhead = w.kr->rcur = head;
	return afx_rxsync(&w.rc);
}

static uint32_t kslots(void)
{
	return (w.q->fill_pos + N - w.kr->hwtail) % N;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* the fake kernel's buffers: held, and in descriptors not yet consumed */
static unsigned kernel_bufs(uint32_t *out)
{
	unsigned n = 0, i;
	uint32_t c;

	for (i = 0; i < w.nheld; i++)
		out[n++] = w.held[i];
	for (c = w.rx_cons; c != w.rx_prod; c++)
		if (w.rx_tag[c & (RX_SZ - 1)] != NONE)
			out[n++] = w.rx_tag[c & (RX_SZ - 1)];
	return n;
}

static bool same_multiset(uint32_t *a, unsigned na, const uint32_t *b, unsigned nb)
{
	uint32_t s[2 * N + FILL_SZ];
	unsigned i;

	if (na != nb)
		return false;
	memcpy(s, b, nb * sizeof(s[0]));
	qsort(a, na, sizeof(a[0]), cmp_u32);
	qsort(s, nb, sizeof(s[0]), cmp_u32);
	for (i = 0; i < na; i++)
		if (a[i] != s[i])
			return false;
	return true;
}

/* program slots [fill_pos, hwtail) + the kernel's buffers == the ring's set */
static bool conserved(const char *when)
{
	uint32_t have[2 * N + FILL_SZ];
	unsigned n, user = N - kslots(), i;
	uint32_t j = w.q->fill_pos;

	n = kernel_bufs(have);
	for (i = 0; i < user; i++, j = unm_ring_next(j, N))
		have[n++] = slot(j)->buf_idx;
	return soft(same_multiset(have, n, w.set, N),
		    "%s: program slots (%u) + kernel buffers (%u) are the ring's %u buffers, each once",
		    when, user, n - user, N);
}

/* ooo: `given` is exactly the set of buffers the fake kernel holds */
static bool given_exact(const char *when)
{
	uint32_t kb[2 * N + FILL_SZ];
	static uint8_t in_kernel[NBUFS];
	unsigned n = kernel_bufs(kb), i, bad = 0, first = NONE;

	memset(in_kernel, 0, sizeof(in_kernel));
	for (i = 0; i < n; i++)
		in_kernel[kb[i]] = 1;
	for (i = 0; i < NBUFS; i++)
		if (given_test(w.q->given, i) != in_kernel[i]) {
			bad++;
			if (first == NONE)
				first = i;
		}
	return soft(!bad, "%s: given bitmap == kernel's buffers (%u differ, first %u)", when, bad,
		    first);
}

/* ---- cases -------------------------------------------------------------------- */

static void case_queue(void)
{
	int err;

	world_init();
	afx_ports[PIDX] = NULL;
	err = usr_sync(0);
	check(err == -ENXIO, "0: port without AF_XDP state here: rxsync %d (-ENXIO)", err);
	afx_ports[PIDX] = w.p;
	w.q->parked = true;
	err = usr_sync(0);
	check(err == -ENXIO, "0: parked queue: rxsync %d (-ENXIO)", err);
	w.q->parked = false;
	w.q->has_rx = false;
	err = usr_sync(0);
	check(err == -ENXIO, "0: queue without RX: rxsync %d (-ENXIO)", err);
	w.q->has_rx = true;
	check(w.fill_prod == N - 1 && w.kr->hwtail == 0,
	      "0: nothing moved by refused syncs (fill %u, hwtail %u)", w.fill_prod, w.kr->hwtail);
}

/*
 * The kernel returns k frames (in the order pick() says), the program syncs,
 * checks its new slots, releases `rel` of its slots and syncs again.
 */
struct round {
	uint32_t buf[N], len[N], opt[N], prev[N];
};

static void rx_round(const char *name, unsigned r, unsigned k, bool permute, unsigned rel_pct)
{
	struct round rd;
	uint32_t t0 = w.kr->hwtail, hwcur = w.kr->hwcur, fp, head, i, j, user;
	uint32_t fill0;
	int err;

	if (k > w.nheld)
		k = w.nheld;
	for (i = 0; i < k; i++) {
		static const uint32_t lens[] = { 60, 1514, BS, 0, 9, 1000, BS - 1, 128 };

		rd.len[i] = lens[rnd(ARRAY_SIZE(lens))];
		rd.opt[i] = rnd(5) == 0 ? XDP_PKT_CONTD : 0;
		rd.buf[i] = fk_rx(permute ? rnd(w.nheld) : 0, rd.len[i], rd.opt[i]);
		rd.prev[i] = slot((t0 + i) % N)->buf_idx;
	}
	err = usr_sync(hwcur);
	soft(!err, "%s round %u: rxsync %d", name, r, err);
	soft(w.kr->hwtail == (t0 + k) % N, "%s round %u: hwtail %u, want %u", name, r,
	     w.kr->hwtail, (t0 + k) % N);
	soft(w.rx_cons == w.rx_prod, "%s round %u: every descriptor consumed (cons %u prod %u)",
	     name, r, w.rx_cons, w.rx_prod);
	for (i = 0; i < k; i++) {
		struct netmap_slot *s = slot((t0 + i) % N);
		uint16_t want = (rd.opt[i] ? NS_MOREFRAG : 0) |
				(rd.prev[i] != rd.buf[i] ? NS_BUF_CHANGED : 0);

		soft(s->buf_idx == rd.buf[i] && s->len == rd.len[i] && s->flags == want,
		     "%s round %u: slot %u: buf %u len %u flags %#x, want buf %u len %u flags %#x",
		     name, r, (t0 + i) % N, s->buf_idx, s->len, s->flags, rd.buf[i], rd.len[i], want);
	}
	conserved(name);
	/* release a part of the program's slots [hwcur, hwtail) */
	user = (w.kr->hwtail + N - hwcur) % N;
	head = (hwcur + user * rel_pct / 100) % N;
	fp = w.q->fill_pos;
	fill0 = w.fill_prod;
	err = usr_sync(head);
	soft(!err, "%s round %u: release to %u: rxsync %d", name, r, head, err);
	/* [old fill_pos, head - 1) went to the fill ring, in slot order */
	for (i = 0, j = fp; j != (head + N - 1) % N; i++, j = unm_ring_next(j, N)) {
		uint64_t a = fill0 + i != w.fill_prod ? w.fill_ring[(fill0 + i) & (FILL_SZ - 1)] : 0;

		if (!soft(fill0 + i != w.fill_prod && a == fill_addr(slot(j)->buf_idx),
			  "%s round %u: fill entry %u is slot %u's buffer %u (%#llx)", name, r, i, j,
			  slot(j)->buf_idx, (unsigned long long)a))
			break;
	}
	soft(fill0 + i == w.fill_prod && w.q->fill_pos == (head + N - 1) % N,
	     "%s round %u: %u fill entries for released slots, fill_pos %u (want %u)", name, r,
	     w.fill_prod - fill0, w.q->fill_pos, (head + N - 1) % N);
	fk_pull();
	conserved(name);
}

static void case_in_order(void)
{
	uint32_t j, b[6], len[6] = { 60, 1514, BS, 9, BS, 300 }, opt[6] = { 0, 0, 0, 0, XDP_PKT_CONTD, 0 };
	bool ok = true;
	unsigned r, i;
	int err;

	world_init();
	for (j = 0; j < N - 1; j++)
		ok &= w.held[j] == slot(j)->buf_idx && w.q->shadow[j] == slot(j)->buf_idx;
	check(ok && w.nheld == N - 1 && w.q->fill_pos == N - 1,
	      "1: priming gives slots 0..%u to the fill ring in order (%u entries, fill_pos %u)",
	      N - 2, w.nheld, w.q->fill_pos);
	phase_begin();
	conserved("1: primed");
	phase_end("1: primed ring conserved");

	for (i = 0; i < 6; i++)
		b[i] = fk_rx(0, len[i], opt[i]);
	err = usr_sync(0);
	ok = !err && w.kr->hwtail == 6 && !w.q->ooo && !w.q->rx_bad;
	for (i = 0; i < 6; i++)
		ok &= slot(i)->buf_idx == b[i] && slot(i)->len == len[i] &&
		      slot(i)->flags == (opt[i] ? NS_MOREFRAG : 0);
	check(ok, "1: 6 frames in fill order: slots 0..5 keep their buffers, len 60/1514/%u/9/%u/300, NS_MOREFRAG only on the XDP_PKT_CONTD one, hwtail %u, ooo %d, rx_bad %llu",
	      BS, BS, w.kr->hwtail, w.q->ooo, (unsigned long long)w.q->rx_bad);
	check(w.ring->ts.tv_sec != 0, "1: ring->ts set when frames arrive (%ld)",
	      (long)w.ring->ts.tv_sec);

	/* the program scribbles a kernel-owned slot: the frame restores it */
	fk_rx(0, 77, 0);
	slot(6)->buf_idx = 5000;
	slot(6)->flags = NS_BUF_CHANGED | NS_MOREFRAG;
	err = usr_sync(0);
	check(!err && slot(6)->buf_idx == w.q->shadow[6] && slot(6)->len == 77 &&
	      slot(6)->flags == NS_BUF_CHANGED && !w.q->ooo,
	      "1: kernel slot 6 scribbled (buf 5000): the frame restores buffer %u with NS_BUF_CHANGED (flags %#x), ooo %d",
	      slot(6)->buf_idx, slot(6)->flags, w.q->ooo);

	/* nothing more from the kernel: a sync changes nothing */
	err = usr_sync(0);
	check(!err && w.kr->hwtail == 7 && w.fill_prod == N - 1,
	      "1: idle sync: hwtail %u, fill entries %u", w.kr->hwtail, w.fill_prod);

	phase_begin();
	/* many rounds: wrap-around, partial releases (0..100%) */
	for (r = 0; r < 60; r++)
		rx_round("1: in order", r, 1 + rnd(12), false, (r % 3) ? 100 : rnd(101));
	check(!w.q->ooo && !w.q->rx_bad, "1: after 60 rounds: ooo %d rx_bad %llu", w.q->ooo,
	      (unsigned long long)w.q->rx_bad);
	phase_end("1: 60 in-order rounds (wrap-around, partial releases): slots, lens, flags, hwtail, fill ring, conservation");

	/* the kernel fills every slot it has, the program releases all */
	phase_begin();
	usr_sync(w.kr->hwtail);
	fk_pull();
	rx_round("1: full ring", 0, N - 1, false, 100);
	soft(!w.q->ooo, "1: full ring: ooo %d", w.q->ooo);
	phase_end("1: the kernel fills all N - 1 slots at once, in order");
}

static void case_out_of_order(void)
{
	uint32_t b[5], prev[5];
	unsigned i, r;
	bool ok = true;
	int err;

	world_init();
	/* two in order, then the 4th, 3rd and 5th taken buffers */
	b[0] = fk_rx(0, 100, 0);
	b[1] = fk_rx(0, 101, 0);
	b[2] = fk_rx(1, 102, 0);
	b[3] = fk_rx(0, 103, XDP_PKT_CONTD);
	b[4] = fk_rx(0, 104, 0);
	for (i = 0; i < 5; i++)
		prev[i] = slot(i)->buf_idx;
	err = usr_sync(0);
	for (i = 0; i < 5; i++)
		ok &= slot(i)->buf_idx == b[i] && slot(i)->len == 100 + i;
	check(!err && ok && w.kr->hwtail == 5 && w.q->ooo && !w.q->rx_bad,
	      "2: buffers 1,2 in order then 4,3,5: each slot gets the received buffer (hwtail %u, ooo %d, rx_bad %llu)",
	      w.kr->hwtail, w.q->ooo, (unsigned long long)w.q->rx_bad);
	check(slot(0)->flags == 0 && slot(1)->flags == 0 &&
	      slot(2)->flags == NS_BUF_CHANGED && slot(3)->flags == (NS_BUF_CHANGED | NS_MOREFRAG) &&
	      slot(4)->flags == 0 && prev[4] == b[4],
	      "2: NS_BUF_CHANGED exactly on the slots whose buffer changed (flags %#x %#x %#x %#x %#x)",
	      slot(0)->flags, slot(1)->flags, slot(2)->flags, slot(3)->flags, slot(4)->flags);
	phase_begin();
	conserved("2: after the switch");
	given_exact("2: after the switch");
	phase_end("2: after the switch: no buffer twice, given == the kernel's buffers");

	/* a permutation of the first ones, the program releases them */
	phase_begin();
	usr_sync(w.kr->hwtail);
	fk_pull();
	given_exact("2: after release");
	for (r = 0; r < 80; r++) {
		rx_round("2: permuted", r, 1 + rnd(14), true, (r % 4) ? 100 : rnd(101));
		given_exact("2: permuted");
	}
	soft(w.q->ooo && !w.q->rx_bad, "2: ooo %d rx_bad %llu", w.q->ooo,
	     (unsigned long long)w.q->rx_bad);
	phase_end("2: 80 rounds of random permutations: slots, NS_BUF_CHANGED, fill ring, given, conservation");

	phase_begin();
	for (r = 0; r < 30; r++) {
		rx_round("2: in order again", r, 1 + rnd(14), false, 100);
		given_exact("2: in order again");
	}
	soft(w.q->ooo && !w.q->rx_bad, "2: ooo %d rx_bad %llu", w.q->ooo,
	     (unsigned long long)w.q->rx_bad);
	phase_end("2: fill-order traffic after the switch keeps working in ooo mode");
}

/* ---- 3: impossible descriptors ---------------------------------------------- */

enum bad_kind {
	BAD_OFS, BAD_RAW_OFS, BAD_BUF0, BAD_BUF1, BAD_NBUFS, BAD_HUGE, BAD_LEN, BAD_LEN_MAX,
	BAD_USER, BAD_EMPTY, BAD_TWICE, BAD_MAX
};

static const char *const bad_names[] = {
	[BAD_OFS] = "address 100 bytes into a held buffer (offset field)",
	[BAD_RAW_OFS] = "address 64 bytes into a held buffer (no offset field)",
	[BAD_BUF0] = "buffer 0",
	[BAD_BUF1] = "buffer 1",
	[BAD_NBUFS] = "buffer nbufs",
	[BAD_HUGE] = "address ~0",
	[BAD_LEN] = "a held buffer with len buf_size + 1",
	[BAD_LEN_MAX] = "a held buffer with len 0xffffffff",
	[BAD_USER] = "a buffer in a program slot",
	[BAD_EMPTY] = "the buffer of the slot kept empty (never given)",
	[BAD_TWICE] = "a buffer the kernel just returned, again",
};

/* a descriptor of kind k; `last` is the buffer just received into a program slot */
static void fk_bad(enum bad_kind k, uint32_t last)
{
	uint32_t h = w.held[0];		/* the next one in fill order */
	uint32_t empty = slot((w.kr->hwcur + N - 1) % N)->buf_idx;

	switch (k) {
	case BAD_OFS:
		fk_desc(fill_addr(h) | ((uint64_t)(AFX_HEADROOM + 100) << 48), 60, 0, NONE);
		break;
	case BAD_RAW_OFS:
		fk_desc((uint64_t)h * BS + 64, 60, 0, NONE);
		break;
	case BAD_BUF0:
		fk_desc(0, 60, 0, NONE);
		break;
	case BAD_BUF1:
		fk_desc(desc_addr(1), 60, 0, NONE);
		break;
	case BAD_NBUFS:
		fk_desc(desc_addr(NBUFS), 60, 0, NONE);
		break;
	case BAD_HUGE:
		fk_desc(~0ULL, 60, 0, NONE);
		break;
	case BAD_LEN:
		fk_desc(desc_addr(h), BS + 1, 0, NONE);
		break;
	case BAD_LEN_MAX:
		fk_desc(desc_addr(h), UINT32_MAX, 0, NONE);
		break;
	case BAD_USER:
		/* the buffer of slot hwcur: the program's since the first sync */
		fk_desc(desc_addr(slot(w.kr->hwcur)->buf_idx), 60, 0, NONE);
		break;
	case BAD_EMPTY:
		fk_desc(desc_addr(empty), 60, 0, NONE);
		break;
	case BAD_TWICE:
		fk_desc(desc_addr(last), 60, 0, NONE);
		break;
	case BAD_MAX:
		break;
	}
}

static void case_bad(void)
{
	unsigned k, i, r;
	uint64_t e0;
	int err;

	/* each kind, fresh world (fill-order mode): good, bad, good */
	for (k = 0; k < BAD_MAX; k++) {
		uint32_t g0, g1;
		bool ok;

		char what[160];

		world_init();
		/* the program owns slot 0 (its buffer: BAD_USER), N - 1 is kept empty */
		fk_rx(0, 60, 0);
		usr_sync(0);
		e0 = unm_err_count(UNM_ERR_PEER_BUF);
		phase_begin();
		g0 = fk_rx(0, 61, 0);
		fk_bad(k, g0);
		g1 = fk_rx(0, 62, 0);
		err = usr_sync(0);
		ok = !err && w.kr->hwtail == 3 && slot(1)->buf_idx == g0 && slot(1)->len == 61 &&
		     slot(2)->buf_idx == g1 && slot(2)->len == 62 && w.rx_cons == w.rx_prod;
		check(ok && w.q->rx_bad == 1 && unm_err_count(UNM_ERR_PEER_BUF) == e0 + 1 && w.q->ooo,
		      "3: %s: skipped (hwtail %u, slot 2 buf %u == %u), rx_bad %llu, logged %llu, ooo %d",
		      bad_names[k], w.kr->hwtail, slot(2)->buf_idx, g1,
		      (unsigned long long)w.q->rx_bad,
		      (unsigned long long)(unm_err_count(UNM_ERR_PEER_BUF) - e0), w.q->ooo);
		conserved(bad_names[k]);
		given_exact(bad_names[k]);
		/* and the queue still works */
		for (r = 0; r < 10; r++)
			rx_round(bad_names[k], r, 1 + rnd(10), r & 1, 100);
		soft(w.q->rx_bad == 1, "3: %s: rx_bad %llu after good traffic", bad_names[k],
		     (unsigned long long)w.q->rx_bad);
		snprintf(what, sizeof(what), "3: %s: conservation, given, 10 good rounds after",
			 bad_names[k]);
		phase_end(what);
	}

	/*
	 * After a lap in fill order, every kernel slot full: the kernel returns
	 * its N - 1 buffers and one descriptor more, naming the buffer of the
	 * slot kept empty (the one that slot gave a lap ago). There is no
	 * kernel slot left for it: it must wait in the RX ring, the empty slot
	 * untouched (else hwtail would reach hwcur: a full ring seen empty).
	 */
	world_init();
	phase_begin();
	for (r = 0; r < 8; r++)
		rx_round("3: lap (setup)", r, 8, false, 100);
	phase_end("3: a lap in fill order (setup)");
	{
		uint32_t fp = w.q->fill_pos, eb = slot(fp)->buf_idx, held = w.nheld;
		bool ok = held == N - 1;

		for (i = 0; i < held; i++)
			fk_rx(0, 60, 0);
		fk_bad(BAD_EMPTY, NONE);
		err = usr_sync(w.kr->hwcur);
		check(ok && !err && w.kr->hwtail == fp && w.rx_prod - w.rx_cons == 1 &&
		      slot(fp)->buf_idx == eb && !w.q->rx_bad && !w.q->ooo,
		      "3: %u frames for %u kernel slots: hwtail %u (== fill_pos %u), %u descriptor left in the RX ring, empty slot keeps buffer %u (%u), rx_bad %llu",
		      held + 1, held, w.kr->hwtail, fp, w.rx_prod - w.rx_cons, eb, slot(fp)->buf_idx,
		      (unsigned long long)w.q->rx_bad);
	}

	/* ooo mode already: a batch mixing every kind with good ones */
	world_init();
	phase_begin();
	for (r = 0; r < 5; r++)
		rx_round("3: mixed (setup)", r, 4, true, 100);
	rx_round("3: mixed (setup)", r, 4, true, 50);	/* the program keeps 2 slots */
	soft(w.q->ooo && w.kr->hwcur != w.kr->hwtail, "3: mixed: in ooo mode (%d), program slots %u..%u",
	     w.q->ooo, w.kr->hwcur, w.kr->hwtail);
	phase_end("3: mixed batch set-up: ooo mode");
	{
		uint32_t t0 = w.kr->hwtail, good[BAD_MAX + 1], last = NONE;
		uint64_t bad0 = w.q->rx_bad;
		bool ok = true;

		e0 = unm_err_count(UNM_ERR_PEER_BUF);
		for (k = 0; k < BAD_MAX; k++) {
			if (k % 2 == 0)
				last = good[k / 2] = fk_rx(rnd(w.nheld), 200 + k, 0);
			fk_bad(k, last);
		}
		good[(BAD_MAX + 1) / 2] = fk_rx(0, 999, 0);
		err = usr_sync(w.kr->hwcur);
		for (i = 0; i <= (BAD_MAX + 1) / 2; i++)
			ok &= slot((t0 + i) % N)->buf_idx == good[i];
		check(!err && ok && w.kr->hwtail == (t0 + (BAD_MAX + 1) / 2 + 1) % N &&
		      w.q->rx_bad - bad0 == BAD_MAX &&
		      unm_err_count(UNM_ERR_PEER_BUF) - e0 == BAD_MAX,
		      "3: ooo mode: %u good and %u bad descriptors mixed in one batch: the good ones in slots %u.., rx_bad +%llu, logged +%llu",
		      (BAD_MAX + 1) / 2 + 1, BAD_MAX, t0, (unsigned long long)(w.q->rx_bad - bad0),
		      (unsigned long long)(unm_err_count(UNM_ERR_PEER_BUF) - e0));
		phase_begin();
		conserved("3: mixed batch");
		given_exact("3: mixed batch");
		phase_end("3: mixed batch: conservation, given");
	}
}

/* ---- 4: teardown --------------------------------------------------------- */

/* afx_rx_slots_fixup(): kernel slots hold exactly the kernel's buffers */
static void teardown_check(const char *name)
{
	uint32_t kb[2 * N + FILL_SZ], ks[N], all[N];
	unsigned nk = kernel_bufs(kb), n = 0, i;
	uint32_t j;

	afx_rx_slots_fixup(w.p, 0);
	for (j = w.kr->hwtail; j != w.q->fill_pos; j = unm_ring_next(j, N))
		ks[n++] = slot(j)->buf_idx;
	check(same_multiset(ks, n, kb, nk),
	      "4: %s: the %u kernel slots get exactly the %u buffers the kernel holds, each once",
	      name, n, nk);
	for (i = 0; i < N; i++)
		all[i] = slot(i)->buf_idx;
	check(same_multiset(all, N, w.set, N), "4: %s: all %u slots hold the ring's buffers, each once",
	      name, N);
}

static void case_teardown(void)
{
	uint32_t j, i, h, kept = NONE, kept_slot = NONE;

	/* fill order, frames pending in the RX ring, kernel slots scribbled */
	world_init();
	phase_begin();
	for (i = 0; i < 6; i++)
		rx_round("4: in order (setup)", i, 1 + rnd(8), false, 60);
	fk_rx(0, 60, 0);
	fk_rx(0, 60, 0);	/* not synced: in the RX ring at teardown */
	phase_end("4: in-order set-up");
	for (i = 0, j = w.kr->hwtail; j != w.q->fill_pos; i++, j = unm_ring_next(j, N)) {
		static const uint32_t junk[] = { 0, 1, NBUFS, 0xffffffff, 2 };

		slot(j)->buf_idx = i % 2 ? junk[i % ARRAY_SIZE(junk)] : w.set[i % N];
		slot(j)->flags = NS_MOREFRAG;
	}
	teardown_check("fill order, scribbled");
	for (j = w.kr->hwtail; j != w.q->fill_pos; j = unm_ring_next(j, N))
		if (slot(j)->buf_idx != w.q->shadow[j] || slot(j)->flags)
			break;
	check(j == w.q->fill_pos, "4: fill order: each kernel slot gets back the buffer it gave, flags 0");

	/* ooo mode, scribbles: held buffers (one twice), user buffers, junk */
	world_init();
	phase_begin();
	for (i = 0; i < 20; i++)
		rx_round("4: ooo (setup)", i, 1 + rnd(10), true, 70);
	fk_rx(rnd(w.nheld), 60, 0);	/* pending at teardown */
	soft(w.q->ooo, "4: ooo set-up: ooo %d", w.q->ooo);
	phase_end("4: ooo set-up");
	h = w.held[w.nheld / 2];
	for (i = 0, j = w.kr->hwtail; j != w.q->fill_pos; i++, j = unm_ring_next(j, N)) {
		switch (i % 5) {
		case 0:
			break;				/* left as it was */
		case 1:
			slot(j)->buf_idx = h;		/* a held buffer, in several slots */
			break;
		case 2:
			slot(j)->buf_idx = slot(w.kr->hwcur)->buf_idx;	/* the program's */
			break;
		case 3:
			slot(j)->buf_idx = i & 1 ? 0 : NBUFS + i;
			break;
		case 4:
			slot(j)->buf_idx = w.held[i % w.nheld];
			break;
		}
		slot(j)->flags = NS_BUF_CHANGED;
	}
	/* the first kernel slot naming h keeps it, the others get other buffers */
	for (j = w.kr->hwtail; j != w.q->fill_pos; j = unm_ring_next(j, N))
		if (slot(j)->buf_idx == h) {
			kept = h;
			kept_slot = j;
			break;
		}
	teardown_check("ooo, scribbled");
	check(kept_slot != NONE && slot(kept_slot)->buf_idx == kept,
	      "4: ooo: the first slot naming held buffer %u keeps it (slot %u has %u)", kept,
	      kept_slot, kept_slot != NONE ? slot(kept_slot)->buf_idx : 0);

	/* ooo right after the switch, nothing scribbled */
	world_init();
	fk_rx(3, 60, 0);
	usr_sync(0);
	teardown_check("just switched to ooo");
}

/* ---- 5: released slots with an invalid buf_idx ---------------------------- */

static bool buf_used(uint32_t b)
{
	return unm_k->mems[MSLOT].buf_map[b / 64] & (1ULL << (b % 64));
}

static void case_repair(void)
{
	struct unm_memreg *m = &unm_k->mems[MSLOT];
	uint32_t lost1, lost2, f1, f2, free0, fill0, i;
	uint64_t e0;
	bool ok = true;
	int err;

	world_init();
	for (i = 0; i < 4; i++)
		fk_rx(0, 60, 0);
	usr_sync(0);
	lost1 = slot(1)->buf_idx;
	lost2 = slot(2)->buf_idx;
	slot(1)->buf_idx = 0;
	slot(2)->buf_idx = NBUFS;
	slot(1)->len = slot(2)->len = 60;
	free0 = m->buf_free;
	fill0 = w.fill_prod;
	e0 = unm_err_count(UNM_ERR_BUF_IDX);
	err = usr_sync(4);
	f1 = slot(1)->buf_idx;
	f2 = slot(2)->buf_idx;
	check(err == -EINVAL, "5: released slots with buf_idx 0 and %u: rxsync %d (-EINVAL)", NBUFS,
	      err);
	check(f1 >= 2 && f1 < NBUFS && f2 >= 2 && f2 < NBUFS && f1 != f2 && buf_used(f1) &&
	      buf_used(f2) && m->buf_free == free0 - 2,
	      "5: repaired with fresh buffers %u, %u from the allocator (free %u -> %u)", f1, f2,
	      free0, m->buf_free);
	for (i = 0; i < N; i++)
		ok &= (w.set[i] != f1 && w.set[i] != f2);
	check(ok, "5: the fresh buffers were in no slot");
	check((slot(1)->flags & NS_BUF_CHANGED) && (slot(2)->flags & NS_BUF_CHANGED) &&
	      slot(1)->len == 0 && slot(2)->len == 0,
	      "5: repaired slots: NS_BUF_CHANGED, len 0 (flags %#x %#x len %u %u)", slot(1)->flags,
	      slot(2)->flags, slot(1)->len, slot(2)->len);
	check(unm_err_count(UNM_ERR_BUF_IDX) - e0 == 2, "5: 2 errors logged (%llu)",
	      (unsigned long long)(unm_err_count(UNM_ERR_BUF_IDX) - e0));
	/* slots N - 1, 0, 1, 2 went to the fill ring */
	check(w.fill_prod - fill0 == 4 && w.fill_ring[(fill0 + 2) & (FILL_SZ - 1)] == fill_addr(f1) &&
	      w.fill_ring[(fill0 + 3) & (FILL_SZ - 1)] == fill_addr(f2) && w.q->shadow[1] == f1 &&
	      w.q->shadow[2] == f2,
	      "5: the fresh buffers go to the fill ring and the shadow (%u entries)",
	      w.fill_prod - fill0);
	/* the program lost lost1 and lost2 (it overwrote them): the ring's set changed */
	for (i = 0; i < N; i++) {
		if (w.set[i] == lost1)
			w.set[i] = f1;
		else if (w.set[i] == lost2)
			w.set[i] = f2;
	}
	fk_pull();
	phase_begin();
	conserved("5: after repair");
	/* the repaired buffers come back in fill order: still the fast path */
	for (i = 0; i < 10; i++)
		rx_round("5: after repair", i, 1 + rnd(12), false, 100);
	soft(!w.q->ooo && !w.q->rx_bad, "5: after repair: ooo %d rx_bad %llu", w.q->ooo,
	     (unsigned long long)w.q->rx_bad);
	phase_end("5: the repaired buffers come back in fill order: fast path, conservation, rxsync 0 again");

	/* the last released slot is kept empty: checked when it is released for good */
	world_init();
	for (i = 0; i < 3; i++)
		fk_rx(0, 60, 0);
	usr_sync(0);
	slot(1)->buf_idx = 1;
	e0 = unm_err_count(UNM_ERR_BUF_IDX);
	err = usr_sync(2);
	check(!err && slot(1)->buf_idx == 1 && unm_err_count(UNM_ERR_BUF_IDX) == e0,
	      "5: buf_idx 1 in the slot kept empty (1): not yet checked (rxsync %d)", err);
	err = usr_sync(3);
	f1 = slot(1)->buf_idx;
	check(err == -EINVAL && f1 >= 2 && f1 < NBUFS && w.q->shadow[1] == f1 &&
	      w.fill_ring[(w.fill_prod - 1) & (FILL_SZ - 1)] == fill_addr(f1),
	      "5: ... repaired when released for good: rxsync %d, buffer %u to the fill ring", err, f1);

	/*
	 * The allocator has no buffer left: unm_slot_repair() leaves buf_idx 0.
	 * The kernel must get no slot from there on (no fill entry outside the
	 * UMEM); the next sync after a buffer is freed repairs the slot and
	 * goes on.
	 */
	world_init();
	for (i = 0; i < 2; i++)
		fk_rx(0, 60, 0);
	usr_sync(0);			/* slots 0 and 1 are the program's */
	for (f1 = 2; f1 < NBUFS && buf_used(f1); f1++)
		;
	lost1 = slot(0)->buf_idx;
	memset(m->buf_map, 0xff, sizeof(m->buf_map));
	m->buf_free = 0;
	slot(0)->buf_idx = 0;
	fill0 = w.fill_prod;
	e0 = unm_err_count(UNM_ERR_BUF_IDX);
	err = usr_sync(2);		/* fill: slot N - 1, then slot 0 cannot go */
	check(err == -EINVAL && w.fill_prod - fill0 == 1 &&
	      w.fill_ring[fill0 & (FILL_SZ - 1)] == fill_addr(slot(N - 1)->buf_idx) &&
	      w.q->fill_pos == 0 && slot(0)->buf_idx == 0,
	      "5: allocator exhausted: rxsync %d, %u fill entries (slot N-1 only), fill stops at slot %u",
	      err, w.fill_prod - fill0, w.q->fill_pos);
	err = usr_sync(2);
	check(err == -EINVAL && w.fill_prod - fill0 == 1 && w.q->fill_pos == 0 &&
	      unm_err_count(UNM_ERR_BUF_IDX) - e0 == 2,
	      "5: still exhausted: rxsync %d, no fill entry more (%u), the slot checked again",
	      err, w.fill_prod - fill0);
	fk_pull();			/* soft-checks every entry is a buffer */
	/* a buffer comes free: the next sync repairs slot 0 with it */
	m->buf_map[f1 / 64] &= ~(1ULL << (f1 % 64));
	m->buf_free = 1;
	err = usr_sync(2);
	check(err == -EINVAL && slot(0)->buf_idx == f1 && w.q->fill_pos == 1 &&
	      w.fill_ring[(w.fill_prod - 1) & (FILL_SZ - 1)] == fill_addr(f1) && w.q->shadow[0] == f1,
	      "5: a buffer free again: slot 0 repaired with %u and given (rxsync %d, fill_pos %u)",
	      slot(0)->buf_idx, err, w.q->fill_pos);
	for (i = 0; i < N; i++)
		if (w.set[i] == lost1)
			w.set[i] = f1;
	fk_pull();
	phase_begin();
	conserved("5: after the exhausted allocator");
	while (w.nheld)
		fk_rx(0, 60, 0);
	err = usr_sync(2);
	phase_end("5: after the exhausted allocator: conservation");
	check(!err && !w.q->ooo && !w.q->rx_bad && w.kr->hwtail == 1,
	      "5: then the kernel's buffers come back in fill order (rxsync %d, ooo %d, rx_bad %llu, hwtail %u)",
	      err, w.q->ooo, (unsigned long long)w.q->rx_bad, w.kr->hwtail);
}

int main(void)
{
	unm_k = aligned_alloc(UNM_CACHELINE, sizeof(*unm_k));
	if (!unm_k) {
		perror("afx_rx: unm_kernel");
		return 1;
	}
	memset(unm_k, 0, sizeof(*unm_k));
	pthread_mutex_init(&unm_k->lock, NULL);
	unm_pid = getpid();
	unm_log_set(quiet_log);

	case_queue();
	case_in_order();
	case_out_of_order();
	case_bad();
	case_teardown();
	case_repair();

	world_free();
	pthread_mutex_destroy(&unm_k->lock);
	free(unm_k);
	printf("%d passed, %d failed (%u log lines; AFX_RX_VERBOSE=1 shows them)\n", passed, failed,
	       log_lines);
	return failed ? 1 : 0;
}
