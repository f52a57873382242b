// SPDX-License-Identifier: BSD-2-Clause
/*
 * afxdp.c - NIC ports `netmap:IF` over AF_XDP: one netmap TX/RX ring pair per
 * queue of the interface, each queue served by one AF_XDP socket.
 *
 * The UMEM *is* the region's buffer pool. The buffer pool of this process's
 * mapping of the region is registered as one UMEM in unaligned chunk mode, so
 * that a netmap buffer index and a UMEM address are the same thing:
 *
 *   UMEM address of buffer i    = i * buf_size            (TX descriptors)
 *   fill address of buffer i    = i * buf_size - 256      (XDP_PACKET_HEADROOM)
 *
 * The kernel puts a received frame 256 bytes after the fill address, that is
 * exactly at NETMAP_BUF(ring, i), as every netmap program expects. The 256
 * bytes before a buffer are the tail of the previous one; the kernel uses them
 * only as XDP headroom (our XDP program never grows the head), and the chunk
 * is buf_size + 256 bytes so a full buffer can be received. Buffers 0 and 1
 * are reserved, so the fill address is never negative.
 *
 * RX ring (kernel-owned slots [hwtail, hwcur - 1), one slot kept empty):
 *
 *     hwtail ........... hwcur-1   the buffers of these slots are in the
 *                                  kernel (fill ring / being received into)
 *     rxsync: RX descriptors land at hwtail (buf_idx from the address, len);
 *             released slots [hwcur, head) move hwcur; the slots that became
 *             kernel-owned ([fill_pos, hwcur - 1)) go to the fill ring.
 *
 * The kernel receives in fill order (copy mode), so a descriptor normally
 * comes back in the slot its buffer was taken from: `shadow` (private, one
 * entry per slot) remembers which buffer each kernel-owned slot gave, and a
 * descriptor is checked by one compare with it. If one does not come back in
 * order (a zero-copy driver recycles buffers freed after XDP_PASS; copy mode
 * frees one when a multi-buffer frame finds too few), the queue switches for
 * good to `given`, a bitmap of the buffers in the kernel, built then from the
 * shadow: each descriptor is validated in full and must name a buffer the
 * kernel holds, the slot gets the received buffer and NS_BUF_CHANGED, and the
 * teardown uses the bitmap to put the right buffers back in the slots.
 *
 * TX ring: txsync turns slots [hwcur, head) into TX descriptors (validated
 * first), kicks with sendto() only when the kernel asks (need_wakeup) and
 * reaps completions, which come back in order: hwtail = first incomplete - 1.
 *
 * Multi-buffer (kernel >= 6.6, XDP_USE_SG, asked for and used when the bind
 * accepts it): a TX slot with NS_MOREFRAG becomes a descriptor with
 * XDP_PKT_CONTD, so a packet written over several slots leaves as one frame;
 * a received frame longer than a buffer arrives over several slots with
 * NS_MOREFRAG. Without it, such a frame is dropped by the kernel and counted
 * (XDP_STATISTICS rx_dropped, logged at close with UNM_VERBOSE=2).
 *
 * Errors (netmap's errno, a message naming the interface): no such interface
 * ENXIO; interface down ENETDOWN (we do not bring it up behind the user's
 * back; netmap NIC drivers leave that to the user too); ring beyond the
 * queues EINVAL; a queue another process serves EBUSY (naming the queue);
 * another XDP program attached EBUSY.
 *
 * One XDP program per interface (lib/bpf/xsk_redirect.bpf.c) redirects queue
 * q to socket q through an XSKMAP. The first process attaches it by a
 * bpf_link and leaves the link and map ids in the shared port; the others
 * take references by id (bpf_link_get_fd_by_id, bpf_map_get_fd_by_id), so
 * the program stays while any process holds the port and goes with the last
 * one, SIGKILL included; an id gone stale (its last holder just died) means
 * attach anew. Promiscuous mode is a packet-socket membership per process.
 * No bpffs is needed.
 *
 * Scope: several processes drive one NIC, one process per queue (netmap's
 * `pkt-gen -i netmap:eth0-0` beside `-i netmap:eth0-1`): a process has a
 * socket only for the queues its fds bind (IF-N: queue N; a later bind adds
 * sockets), the owner of each queue is in the shared port (xsk_pid[q]); a
 * queue served by a live process is EBUSY, a dead one's is taken over (its
 * kernel-owned RX slots go back to the fill ring, its TX in flight is
 * forgotten). The AF_XDP state is per process: struct afx_port per port
 * (indexed like the shared port table) and struct afx_umem, one UMEM per
 * region, so ports sharing a region (NM_OPEN_NO_MMAP, @share, one mem id)
 * share the UMEM and its pinning: every (interface, queue) has its own
 * fill/completion ring pair (xsk_socket__create_shared). The first socket on
 * a UMEM is the UMEM's own fd, which stays bound until the UMEM goes: when
 * no fd binds its queue any more but other sockets use the UMEM, it is
 * parked (out of the XSKMAP, queue still ours) and the UMEM goes with its
 * last socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "core/unm.h"
#include "xsk_redirect.skel.h"

/* multi-buffer AF_XDP (kernel 6.6), missing from older uapi headers */
#ifndef XDP_USE_SG
#define XDP_USE_SG	(1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD	(1 << 0)
#endif
/* copy-mode TX frames per sendto() (kernel 6.17) */
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET	9
#endif

#define AFX_HEADROOM	XDP_PACKET_HEADROOM	/* 256: where the kernel puts data */
#define AFX_MIN_FRAME	ETH_ZLEN		/* shorter TX frames are padded */
#define AFX_MIN_CHUNK	2048			/* the kernel's smallest UMEM chunk */

struct afx_queue {
	struct xsk_socket *xsk;			/* NULL: no socket for this queue here */
	struct xsk_ring_cons rx;		/* Single consumer: rxsync of RX q */
	struct xsk_ring_prod fill;		/* Single producer: rxsync of RX q */
	struct xsk_ring_prod tx;		/* Single producer: txsync of TX q */
	struct xsk_ring_cons comp;		/* Single consumer: txsync of TX q */
	int fd;
	bool has_rx, has_tx;
	bool parked;				/* no fd binds it; kept as the UMEM's fd */
	uint32_t fill_pos;			/* next RX slot whose buffer goes to fill */
	uint32_t tx_done;			/* first TX slot not completed */
	bool ooo;				/* RX buffers came back out of fill order */
	uint64_t rx_bad;			/* descriptors with an impossible address */
	uint32_t *shadow;			/* RX: the buffer each kernel slot gave */
	uint64_t *given;			/* RX, ooo: the buffers the kernel holds */
} __attribute__((aligned(UNM_CACHELINE)));	/* q[i] and q[i + 1]: two threads */

/* One UMEM per region per process: the region's buffer pool, pinned once. */
struct afx_umem {
	struct afx_umem *next;
	pid_t pid;				/* made by this process (not a fork's parent) */
	int mslot;				/* region slot ... */
	uint16_t gen;				/* ... and its generation */
	struct unm_mem_local *ml;		/* our mapping of the region */
	uint32_t buf_size, nbufs;
	struct xsk_umem *umem;
	unsigned nsock;				/* sockets on it, a parked one included */
	struct afx_port *anchor;		/* whose socket is the UMEM's own fd */
	uint16_t anchor_q;
	bool zerocopy, sg;			/* the first socket's mode, all share it */
	const char *why;			/* why zero-copy was refused */
};

struct afx_port {
	struct afx_port *next;			/* afx_list */
	pid_t pid;				/* made by this process (not a fork's parent) */
	uint16_t pidx;				/* index in unm_k->ports */
	bool gone;				/* the shared port was destroyed */
	uint32_t ktx, krx;			/* the port's first krings: its identity */
	char ifname[IF_NAMESIZE];
	int ifindex;
	uint16_t nq, ntx, nrx;
	struct afx_umem *um;			/* set with the first socket */
	uint32_t buf_size, nbufs, shift;	/* shift: log2(buf_size) or 0 */
	struct unm_xsk_redirect *skel;		/* this process loaded the program */
	int link_fd;				/* our reference on the bpf_link */
	int map_fd;				/* the XSKMAP (the skeleton's, or by id) */
	int promisc_fd;
	bool zerocopy, xdp_generic, xdp_shared;
	bool sg;				/* multi-buffer: NS_MOREFRAG <-> XDP_PKT_CONTD */
	struct afx_queue q[];
};

static struct afx_port *afx_ports[UNM_MAX_PORTS];
static struct afx_port *afx_list;		/* all of them, parked-only ones too */
static struct afx_umem *afx_umems;

/* ---- names and geometry ---------------------------------------------------- */

/* The network namespace tells apart two "eth0" of two namespaces. */
static uint32_t netns_id(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint32_t)st.st_ino;
}

static int afx_parse(const char *name, uint32_t mode, uint32_t ringid,
		     struct unm_portspec *spec)
{
	size_t len = strlen(name);

	(void)ringid;
	if (!len || mode == NR_REG_PIPE_MASTER || mode == NR_REG_PIPE_SLAVE ||
	    strpbrk(name, "{}") || !strncmp(name, NM_BDG_NAME, strlen(NM_BDG_NAME)))
		return -ENOENT;
	if (len >= IF_NAMESIZE || !if_nametoindex(name)) {
		unm_log(UNM_LOG_ERR, "%s: no such interface", name);
		return -ENXIO;
	}
	spec->kind = UNM_PORT_HW;
	memcpy(spec->base, name, len + 1);
	spec->id = netns_id();
	spec->end = 0;
	return 0;
}

static int count_sysfs_queues(const char *ifname, const char *prefix)
{
	char path[96];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			n++;
	closedir(d);
	return n;
}

/* The interface's queues (ethtool channels, else sysfs) and its state. */
static int if_queues(const char *ifname, uint16_t *ntx, uint16_t *nrx)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	int fd, err = 0, t = 0, r = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strnlen(ifname, sizeof(ifr.ifr_name) - 1));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		err = errno == ENODEV ? -ENXIO : -errno;
		unm_log(UNM_LOG_ERR, "%s: %s", ifname,
			err == -ENXIO ? "no such interface" : strerror(-err));
		goto out;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		unm_log(UNM_LOG_ERR, "%s: interface is down (bring it up first: ip link set %s up)",
			ifname, ifname);
		err = -ENETDOWN;
		goto out;
	}
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
		t = ch.combined_count + ch.tx_count;
		r = ch.combined_count + ch.rx_count;
	}
	if (t <= 0)
		t = count_sysfs_queues(ifname, "tx-");
	if (r <= 0)
		r = count_sysfs_queues(ifname, "rx-");
	if (t <= 0)
		t = 1;
	if (r <= 0)
		r = 1;
	if (t > UNM_MAX_RINGS || r > UNM_MAX_RINGS) {
		unm_log(UNM_LOG_WARN, "%s: %d TX / %d RX queues, using the first %d",
			ifname, t, r, UNM_MAX_RINGS);
		t = t > UNM_MAX_RINGS ? UNM_MAX_RINGS : t;
		r = r > UNM_MAX_RINGS ? UNM_MAX_RINGS : r;
	}
	*ntx = t;
	*nrx = r;
out:
	close(fd);
	return err;
}

/*
 * NIC rings default to 2048 slots, the ring size an AF_XDP program gets from
 * libxdp by default (pipes and host rings keep netmap's 1024): a receiver
 * that shares its CPU with the NAPI feeding it is off the CPU for whole time
 * slices, and the ring is what the NAPI fills meanwhile (bench/nic -q 2: a
 * 1024-slot ring received about 0.9 of a 2048-slot bare socket, 2048 slots
 * about 0.97).
 */
#define AFX_DEF_SLOTS	2048

static uint32_t hw_slots(uint32_t want)
{
	if (!want)
		return AFX_DEF_SLOTS;
	if (want < 64)
		return 64;
	return want > UNM_MAX_SLOTS ? UNM_MAX_SLOTS : want;
}

static int afx_geometry(const struct unm_portspec *spec, const struct nmreq_register *req,
			uint16_t nrings[2], uint32_t nslots[2])
{
	int err = if_queues(spec->base, &nrings[UNM_TX], &nrings[UNM_RX]);

	if (err)
		return err;
	nslots[UNM_TX] = hw_slots(req ? req->nr_tx_slots : 0);
	nslots[UNM_RX] = hw_slots(req ? req->nr_rx_slots : 0);
	return 0;
}

/* ---- the data path ----------------------------------------------------------- */

static inline struct afx_queue *afx_queue(const struct unm_ring_ctx *rc)
{
	struct afx_port *p = afx_ports[rc->kr->port];
	struct afx_queue *q;

	if (likely(p)) {
		q = &p->q[rc->kr->ring_id];
		if (likely(q->xsk && !q->parked))
			return q;
	}
	/* an fd received from another process (SCM_RIGHTS, fork) */
	unm_log_err(UNM_ERR_BUSY, "%s ring %u: a NIC ring is synced only by the process whose AF_XDP socket serves its queue (pid %d)",
		    rc->name, rc->kr->ring_id, unm_k->ports[rc->kr->port].xsk_pid[rc->kr->ring_id]);
	return NULL;
}

static inline uint32_t addr_to_idx(const struct afx_port *p, uint64_t a)
{
	return p->shift ? (uint32_t)(a >> p->shift) : (uint32_t)(a / p->buf_size);
}

static inline void given_set(uint64_t *map, uint32_t idx)
{
	map[idx / 64] |= 1ULL << (idx % 64);
}

static inline void given_clear(uint64_t *map, uint32_t idx)
{
	map[idx / 64] &= ~(1ULL << (idx % 64));
}

static inline bool given_test(const uint64_t *map, uint32_t idx)
{
	return map[idx / 64] & (1ULL << (idx % 64));
}

/*
 * Hand the submitted descriptors to the driver. A NIC sends everything it
 * was given; AF_XDP in copy mode sends at most its budget per sendto() (32
 * frames, or the TX ring with XDP_MAX_TX_SKB_BUDGET, see afx_socket()) and
 * nothing without one, so keep kicking until the TX ring is consumed, or
 * the device pushes back (EAGAIN/EBUSY/ENOBUFS: the next sync retries).
 * Zero-copy: one kick starts the driver.
 */
static void afx_tx_kick(struct afx_queue *q, bool zerocopy)
{
	uint32_t pend, left = 0;

	for (;;) {
		/* Synchronizes with the kernel's release of the TX consumer index. */
		pend = q->tx.cached_prod - __atomic_load_n(q->tx.consumer, __ATOMIC_ACQUIRE);
		if (!pend || !xsk_ring_prod__needs_wakeup(&q->tx))
			return;
		if (!left)
			left = zerocopy ? 1 : pend / 16 + 2;	/* bounded, whatever happens */
		else if (!--left)
			return;
		if (sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EINTR)
			return;
		if (zerocopy)
			return;
	}
}

static int afx_txsync(struct unm_ring_ctx *rc)
{
	struct afx_queue *q = afx_queue(rc);
	struct unm_kring *kr = rc->kr;
	struct netmap_slot *slot = rc->ring->slot;
	uint32_t n = kr->num_slots, head = kr->rhead, j = kr->hwcur;
	uint32_t want, got, i, idx = 0, done;
	bool sg, more = false;
	int err = 0;

	if (unlikely(!q || !q->has_tx))
		return -ENXIO;
	sg = afx_ports[kr->port]->sg;	/* q != NULL: the port is ours */
	want = head >= j ? head - j : head + n - j;
	if (want) {
		/* validate first: only a valid prefix reaches the kernel */
		uint32_t k = j;

		for (i = 0; i < want; i++, k = unm_ring_next(k, n)) {
			struct netmap_slot *s = &slot[k];

			if (unlikely(!unm_slot_ok(rc, s))) {
				unm_log_err(s->len > rc->buf_size ? UNM_ERR_LEN : UNM_ERR_BUF_IDX,
					    "%s TX%u: slot %u: buf_idx %u len %u invalid (buffers 2..%u, size %u)",
					    rc->name, kr->ring_id, k, s->buf_idx,
					    s->len, rc->nbufs - 1, rc->buf_size);
				err = -EINVAL;
				want = i;
				break;
			}
		}
		/* the TX descriptor ring has room for the whole netmap ring */
		got = xsk_ring_prod__reserve(&q->tx, want, &idx);
		for (i = 0; i < got; i++) {
			struct netmap_slot *s = &slot[j];
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&q->tx, idx + i);

			d->addr = (uint64_t)s->buf_idx * rc->buf_size;
			d->len = s->len;
			d->options = 0;
			if (sg && (s->flags & NS_MOREFRAG))
				d->options = XDP_PKT_CONTD;
			else if (!more && s->len < AFX_MIN_FRAME)
				d->len = AFX_MIN_FRAME;	/* a runt: pad, as a NIC does */
			more = d->options != 0;
			s->flags &= ~NS_BUF_CHANGED;
			j = unm_ring_next(j, n);
		}
		if (got)
			xsk_ring_prod__submit(&q->tx, got);
		kr->hwcur = j;
	}
	/* kick only when something is in flight and the kernel wants it */
	if (kr->hwcur != q->tx_done)
		afx_tx_kick(q, afx_ports[kr->port]->zerocopy);
	done = xsk_ring_cons__peek(&q->comp, n, &idx);
	if (done) {
		xsk_ring_cons__release(&q->comp, done);
		q->tx_done += done;
		if (q->tx_done >= n)
			q->tx_done -= n;
	}
	__atomic_store_n(&kr->hwtail, q->tx_done ? q->tx_done - 1 : n - 1, __ATOMIC_RELEASE);
	return err;
}

#define AFX_BAD_DESC	UINT32_MAX

/*
 * A descriptor that is not the buffer its slot gave, or not a whole one:
 * from now on the queue tracks the kernel's buffers in `given` (built from
 * the shadow on the first such descriptor). Returns the received buffer, or
 * AFX_BAD_DESC for a descriptor that names no buffer the kernel holds.
 */
static __attribute__((noinline)) uint32_t
afx_rx_desc_slow(struct unm_ring_ctx *rc, struct afx_queue *q, const struct afx_port *p,
		 const struct xdp_desc *d, uint64_t a, uint32_t tail)
{
	struct unm_kring *kr = rc->kr;
	uint32_t n = kr->num_slots, b = addr_to_idx(p, a), j;

	if (!q->ooo) {
		for (j = tail; j != q->fill_pos; j = unm_ring_next(j, n))
			given_set(q->given, q->shadow[j]);
		q->ooo = true;
		unm_log(UNM_LOG_DEBUG, "%s RX%u: buffers come back out of fill order",
			rc->name, kr->ring_id);
	}
	if (unlikely(b < 2 || b >= rc->nbufs || (uint64_t)b * rc->buf_size != a ||
		     d->len > rc->buf_size || !given_test(q->given, b))) {
		/* cannot happen with the fill addresses we give */
		q->rx_bad++;
		unm_log_err(UNM_ERR_PEER_BUF, "%s RX%u: descriptor addr %#llx len %u is not a buffer the kernel holds",
			    rc->name, kr->ring_id, (unsigned long long)d->addr, d->len);
		return AFX_BAD_DESC;
	}
	given_clear(q->given, b);
	return b;
}

static int afx_rxsync(struct unm_ring_ctx *rc)
{
	struct afx_queue *q = afx_queue(rc);
	struct afx_port *p = afx_ports[rc->kr->port];	/* valid when q is */
	struct unm_kring *kr = rc->kr;
	struct netmap_ring *ring = rc->ring;
	struct netmap_slot *slot = ring->slot;
	uint32_t n = kr->num_slots, head = kr->rhead, stop, tail, room, got, i, idx = 0;
	uint32_t bs = rc->buf_size, nb = rc->nbufs, *shadow;
	bool ooo;
	int err = 0;

	if (unlikely(!q || !q->has_rx))
		return -ENXIO;
	/* in locals: the compiler cannot tell the slot stores from them */
	shadow = q->shadow;
	ooo = q->ooo;
	/*
	 * Released slots [hwcur, head) are checked where they go to the kernel:
	 * every one of them passes the fill loop below (the last one, kept
	 * empty, in a later sync), one pass over the slots instead of two.
	 */
	kr->hwcur = head;
	/* the slots that became the kernel's: [fill_pos, hwcur - 1) to the fill ring */
	stop = head ? head - 1 : n - 1;
	want_fill:
	if (q->fill_pos != stop) {
		uint32_t want = stop > q->fill_pos ? stop - q->fill_pos : stop + n - q->fill_pos;
		uint32_t f = q->fill_pos;

		got = xsk_ring_prod__reserve(&q->fill, want, &idx);
		for (i = 0; i < got; i++) {
			struct netmap_slot *s = &slot[f];
			uint32_t b = s->buf_idx;

			if (unlikely(b - 2 >= nb - 2)) {	/* b < 2 || b >= nb */
				unm_log_err(UNM_ERR_BUF_IDX, "%s RX%u: released slot %u: buf_idx %u invalid (buffers 2..%u), repaired",
					    rc->name, kr->ring_id, f, b, nb - 1);
				unm_slot_repair(rc, s);
				b = s->buf_idx;
				err = -EINVAL;
				if (b - 2 >= nb - 2) {
					/* no buffer to be had: the kernel gets no slot from here on */
					q->fill.cached_prod -= got - i;
					got = i;
					break;
				}
			}
			*xsk_ring_prod__fill_addr(&q->fill, idx + i) = (uint64_t)b * bs - AFX_HEADROOM;
			shadow[f] = b;
			if (unlikely(ooo))
				given_set(q->given, b);
			f = unm_ring_next(f, n);
		}
		q->fill_pos = f;
		if (got)
			xsk_ring_prod__submit(&q->fill, got);
	}
	/* received frames land at hwtail, up to the kernel-owned slots */
	tail = kr->hwtail;
	room = q->fill_pos >= tail ? q->fill_pos - tail : q->fill_pos + n - tail;
	got = room ? xsk_ring_cons__peek(&q->rx, room, &idx) : 0;
	for (i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx + i);
		uint64_t a = xsk_umem__add_offset_to_addr(d->addr);
		struct netmap_slot *s = &slot[tail];
		uint32_t b = shadow[tail];

		/* in fill order: the buffer this slot gave, whole */
		if (unlikely(ooo || a != (uint64_t)b * bs || d->len > bs)) {
			b = afx_rx_desc_slow(rc, q, p, d, a, tail);
			ooo = true;
			if (b == AFX_BAD_DESC)
				continue;
		}
		s->flags = (d->options & XDP_PKT_CONTD) ? NS_MOREFRAG : 0;
		if (unlikely(s->buf_idx != b)) {
			s->buf_idx = b;
			s->flags |= NS_BUF_CHANGED;
		}
		s->len = d->len;
		tail = unm_ring_next(tail, n);
	}
	if (got) {
		xsk_ring_cons__release(&q->rx, got);
		gettimeofday(&ring->ts, NULL);
		/* Synchronizes with the acquire in unm_sync_finalize(). */
		__atomic_store_n(&kr->hwtail, tail, __ATOMIC_RELEASE);
		if (q->fill_pos != stop)
			goto want_fill;
	}
	if (xsk_ring_prod__needs_wakeup(&q->fill))
		recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	return err;
}

/* ---- set-up and teardown (control path, under the control mutex) ---------- */

static bool pid_dead(pid_t pid)
{
	uint64_t start;
	bool zombie;

	return unm_proc_start_time(pid, &start, &zombie) < 0 || zombie;
}

/* p still stands for the shared port it was made for */
static bool afx_port_live(const struct afx_port *p)
{
	const struct unm_kport *port = &unm_k->ports[p->pidx];

	return !p->gone && afx_ports[p->pidx] == p && port->kind == UNM_PORT_HW &&
	       port->kring[0][UNM_TX] == p->ktx && port->kring[0][UNM_RX] == p->krx;
}

static void afx_queue_stats_log(struct afx_port *p, unsigned qi)
{
	struct afx_queue *q = &p->q[qi];
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	if (getsockopt(q->fd, SOL_XDP, XDP_STATISTICS, &st, &len))
		return;
	if (st.rx_dropped || st.rx_invalid_descs || st.tx_invalid_descs ||
	    st.rx_ring_full || st.rx_fill_ring_empty_descs || q->rx_bad)
		unm_log(UNM_LOG_INFO, "%s queue %u: rx_dropped %llu (no fill buffer, or longer than a buffer) rx_ring_full %llu fill_empty %llu rx_invalid %llu tx_invalid %llu bad_desc %llu",
			p->ifname, qi, (unsigned long long)st.rx_dropped,
			(unsigned long long)st.rx_ring_full,
			(unsigned long long)st.rx_fill_ring_empty_descs,
			(unsigned long long)st.rx_invalid_descs,
			(unsigned long long)st.tx_invalid_descs,
			(unsigned long long)q->rx_bad);
}

/*
 * Put back in RX ring qi's kernel-owned slots the buffers the kernel held
 * (its socket is closed), so that the ring's next user, or its destruction,
 * sees each buffer once, whatever the program wrote in those slots: in fill
 * order the shadow says which; out of order, each slot keeps its buffer if
 * the kernel held it, and the others get the rest of `given`.
 */
static void afx_rx_slots_fixup(struct afx_port *p, unsigned qi)
{
	struct unm_kport *port = &unm_k->ports[p->pidx];
	struct afx_queue *q = &p->q[qi];
	struct unm_kring *kr = &unm_k->krings[port->kring[0][UNM_RX] + qi];
	struct netmap_ring *ring = (struct netmap_ring *)(p->um->ml->base + kr->ring_ofs);
	uint32_t words = (p->nbufs + 63) / 64, w = 0, j;
	uint32_t n = kr->num_slots, stop = kr->hwcur ? kr->hwcur - 1 : n - 1;

	for (j = kr->hwtail; j != q->fill_pos && j != stop; j = unm_ring_next(j, n)) {
		struct netmap_slot *s = &ring->slot[j];
		uint32_t b = s->buf_idx;

		if (!q->ooo) {
			s->buf_idx = q->shadow[j];
			s->flags = 0;
		} else if (b < p->nbufs && given_test(q->given, b)) {
			given_clear(q->given, b);
			s->flags = 0;
		} else {
			s->flags = NS_MOREFRAG;		/* marks "fix me" */
		}
	}
	if (!q->ooo)
		return;
	for (j = kr->hwtail; j != q->fill_pos && j != stop; j = unm_ring_next(j, n)) {
		struct netmap_slot *s = &ring->slot[j];

		if (!(s->flags & NS_MOREFRAG))
			continue;
		s->flags = 0;
		while (w < words && !q->given[w])
			w++;
		if (w == words) {
			s->buf_idx = 0;		/* the next user's priming repairs it */
			continue;
		}
		s->buf_idx = w * 64 + __builtin_ctzll(q->given[w]);
		given_clear(q->given, s->buf_idx);
	}
}

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t r = 1;

	while (r < v)
		r <<= 1;
	return r;
}

/*
 * This process's UMEM over region mslot, registered (pinned) at first use,
 * for queue qi's socket: the UMEM's own fill/completion rings are that
 * queue's (libxdp unmaps them if a bind attempt fails and they are not).
 */
static struct afx_umem *afx_umem_get(struct afx_port *p, int mslot, unsigned qi, int *errp)
{
	struct unm_memreg *m = &unm_k->mems[mslot];
	struct xsk_umem_config ucfg = {
		/* every ring of every port on it: fill > frames given + a batch */
		.fill_size = 2 * UNM_MAX_SLOTS,
		.comp_size = UNM_MAX_SLOTS,
		.frame_size = m->p.buf_size + AFX_HEADROOM,
		.flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG,
	};
	struct timespec t0, t1;
	struct afx_umem *um;
	int err;

	for (um = afx_umems; um; um = um->next)
		if (um->pid == unm_pid && um->mslot == mslot && um->gen == m->gen)
			return um;
	um = calloc(1, sizeof(*um));
	if (!um) {
		*errp = -ENOMEM;
		return NULL;
	}
	um->pid = unm_pid;
	um->mslot = mslot;
	um->gen = m->gen;
	um->buf_size = m->p.buf_size;
	um->nbufs = m->p.buf_num;
	um->ml = unm_mem_map(mslot);
	if (!um->ml) {
		free(um);
		*errp = -ENOMEM;
		return NULL;
	}
	if (ucfg.frame_size > 4096)
		ucfg.frame_size = 4096;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = xsk_umem__create(&um->umem, um->ml->base + m->buf_ofs,
			       (uint64_t)um->nbufs * um->buf_size, &p->q[qi].fill, &p->q[qi].comp,
			       &ucfg);
	if (err) {
		unm_log(UNM_LOG_ERR, "%s: AF_XDP UMEM over mem %u (%u x %u bytes): %s%s", p->ifname,
			m->id, um->nbufs, um->buf_size, strerror(-err),
			err == -ENOBUFS || err == -ENOMEM || err == -EPERM ?
			" (locked-memory limit? needs CAP_IPC_LOCK or a larger ulimit -l)" : "");
		unm_mem_unmap(um->ml);
		free(um);
		*errp = err;
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unm_log(UNM_LOG_DEBUG, "mem %u: AF_XDP UMEM over the buffer pool (%u x %u bytes) registered in %.3f s",
		m->id, um->nbufs, um->buf_size,
		(double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	um->next = afx_umems;
	afx_umems = um;
	return um;
}

/* The UMEM's last socket went: unregister it (unpins the pool). */
static void afx_umem_put(struct afx_umem *um)
{
	struct afx_umem **pp;
	struct afx_port *p;

	if (um->nsock)
		return;
	for (p = afx_list; p; p = p->next)
		if (p->um == um)
			p->um = NULL;
	for (pp = &afx_umems; *pp; pp = &(*pp)->next)
		if (*pp == um) {
			*pp = um->next;
			break;
		}
	xsk_umem__delete(um->umem);
	unm_mem_unmap(um->ml);
	free(um);
}

static int afx_socket(struct afx_port *p, unsigned qi, uint16_t bind_mode)
{
	struct unm_kport *port = &unm_k->ports[p->pidx];
	struct afx_queue *q = &p->q[qi];
	struct xsk_socket_config cfg = {
		.rx_size = pow2_at_least(port->nslots[0][UNM_RX]),
		.tx_size = pow2_at_least(port->nslots[0][UNM_TX]),
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = bind_mode | XDP_USE_NEED_WAKEUP,
	};

	unsigned budget = cfg.tx_size;
	int err;

	err = xsk_socket__create_shared(&q->xsk, p->ifname, qi, p->um->umem,
					q->has_rx ? &q->rx : NULL, q->has_tx ? &q->tx : NULL,
					&q->fill, &q->comp, &cfg);
	/*
	 * Copy mode sends at most 32 frames per sendto() unless told more
	 * (kernel >= 6.17): let one kick send the whole TX ring. Older kernels
	 * refuse the option (ENOPROTOOPT): 32 per kick, as before; zero-copy
	 * ignores it.
	 */
	if (!err && q->has_tx &&
	    setsockopt(xsk_socket__fd(q->xsk), SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget,
		       sizeof(budget)) < 0)
		unm_log(UNM_LOG_DEBUG, "%s queue %u: XDP_MAX_TX_SKB_BUDGET %u: %s (32 frames per kick)",
			p->ifname, qi, budget, strerror(errno));
	return err;
}

/* The first socket on a UMEM picks the mode every later one shares. */
static int afx_socket_first(struct afx_port *p, unsigned qi)
{
	/* zero-copy if the driver has it, multi-buffer if the kernel has it */
	static const uint16_t modes[] = {
		XDP_ZEROCOPY | XDP_USE_SG, XDP_ZEROCOPY, XDP_COPY | XDP_USE_SG, XDP_COPY,
	};
	struct afx_umem *um = p->um;
	struct xdp_options opts;
	socklen_t optlen = sizeof(opts);
	unsigned k;
	int err = -EINVAL;

	for (k = 0; k < ARRAY_SIZE(modes); k++) {
		err = afx_socket(p, qi, modes[k]);
		if (!err) {
			um->sg = modes[k] & XDP_USE_SG;
			break;
		}
		p->q[qi].xsk = NULL;
		if (modes[k] & XDP_ZEROCOPY)
			um->why = strerror(-err);
		if (err == -EBUSY)
			break;		/* the queue is bound by another AF_XDP user */
	}
	if (err)
		return err;
	if (getsockopt(xsk_socket__fd(p->q[qi].xsk), SOL_XDP, XDP_OPTIONS, &opts, &optlen) == 0)
		um->zerocopy = !!(opts.flags & XDP_OPTIONS_ZEROCOPY);
	um->anchor = p;
	um->anchor_q = qi;
	return 0;
}

/*
 * The RX ring's kernel-owned slots [hwtail, hwcur - 1) to the fill ring:
 * [0, n - 1) on a fresh ring, what a previous owner left otherwise.
 */
static int afx_fill_prime(struct afx_port *p, unsigned qi)
{
	struct unm_kport *port = &unm_k->ports[p->pidx];
	struct unm_memreg *m = &unm_k->mems[port->mem];
	struct afx_queue *q = &p->q[qi];
	struct unm_kring *kr = &unm_k->krings[port->kring[0][UNM_RX] + qi];
	struct netmap_ring *ring = (struct netmap_ring *)(p->um->ml->base + kr->ring_ofs);
	uint32_t n = kr->num_slots, stop = kr->hwcur ? kr->hwcur - 1 : n - 1;
	uint32_t want = stop >= kr->hwtail ? stop - kr->hwtail : stop + n - kr->hwtail;
	uint32_t i, j, idx;

	if (want && xsk_ring_prod__reserve(&q->fill, want, &idx) != want) {
		unm_log(UNM_LOG_ERR, "%s queue %u: fill ring too small for %u slots",
			p->ifname, qi, n);
		return -ENOMEM;
	}
	for (i = 0, j = kr->hwtail; i < want; i++, j = unm_ring_next(j, n)) {
		struct netmap_slot *s = &ring->slot[j];
		uint32_t b = s->buf_idx;

		/* a buffer a previous owner's kernel kept: a fresh one */
		if ((b < 2 || b >= p->nbufs) && unm_mem_buf_alloc_locked(m, &b)) {
			unm_log(UNM_LOG_ERR, "%s queue %u: no free buffer for RX slot %u",
				p->ifname, qi, j);
			return -ENOMEM;	/* the reserved entries are never submitted */
		}
		s->buf_idx = b;
		*xsk_ring_prod__fill_addr(&q->fill, idx + i) =
			(uint64_t)b * p->buf_size - AFX_HEADROOM;
		q->shadow[j] = b;
	}
	if (want)
		xsk_ring_prod__submit(&q->fill, want);
	q->fill_pos = stop;
	return 0;
}

static int afx_map_set(struct afx_port *p, unsigned qi)
{
	int fd = p->q[qi].fd;

	if (!p->q[qi].has_rx)
		return 0;
	if (bpf_map_update_elem(p->map_fd, &qi, &fd, BPF_ANY)) {
		int err = -errno;

		unm_log(UNM_LOG_ERR, "%s: XSKMAP entry %u: %s", p->ifname, qi, strerror(-err));
		return err;
	}
	return 0;
}

static void afx_queue_close(struct afx_port *p, unsigned qi);

/* A socket for queue qi, which must not be served by another live process. */
static int afx_queue_open(struct afx_port *p, unsigned qi)
{
	struct unm_kport *port = &unm_k->ports[p->pidx];
	struct afx_queue *q = &p->q[qi];
	struct unm_kring *kr;
	struct afx_port *o;
	int32_t owner = port->xsk_pid[qi];
	bool first;
	int err;

	if (owner && owner != unm_pid && !pid_dead(owner)) {
		unm_log(UNM_LOG_ERR, "%s: NIC port already open in process %d on queue %u (one process per queue)",
			p->ifname, owner, qi);
		return -EBUSY;
	}
	for (o = afx_list; o; o = o->next)
		if (o != p && o->pid == unm_pid && o->ifindex == p->ifindex && qi < o->nq &&
		    o->q[qi].xsk) {
			unm_log(UNM_LOG_ERR, "%s queue %u: still bound by this process's UMEM of a closed port (it goes with that UMEM's last socket)",
				p->ifname, qi);
			return -EBUSY;
		}
	if (!p->um) {
		p->um = afx_umem_get(p, port->mem, qi, &err);
		if (!p->um)
			return err;
	}
	q->has_tx = qi < p->ntx;
	q->has_rx = qi < p->nrx;
	first = !p->um->nsock;
	err = first ? afx_socket_first(p, qi) : afx_socket(p, qi, 0);
	if (err) {
		unm_log(UNM_LOG_ERR, "%s queue %u: AF_XDP socket: %s%s", p->ifname, qi,
			strerror(-err), err == -EBUSY ?
			" (the queue is bound by another AF_XDP program)" : "");
		q->xsk = NULL;
		if (first)
			afx_umem_put(p->um);
		return err;
	}
	p->um->nsock++;
	q->fd = xsk_socket__fd(q->xsk);
	q->parked = false;
	q->rx_bad = 0;
	p->zerocopy = p->um->zerocopy;
	p->sg = p->um->sg;
	port->xsk_pid[qi] = unm_pid;
	if (q->has_rx) {
		q->ooo = false;
		q->given = calloc((p->nbufs + 63) / 64, sizeof(uint64_t));
		kr = &unm_k->krings[port->kring[0][UNM_RX] + qi];
		q->shadow = calloc(kr->num_slots, sizeof(uint32_t));
		err = q->given && q->shadow ? afx_fill_prime(p, qi) : -ENOMEM;
		err = err ?: afx_map_set(p, qi);
		if (err) {
			afx_queue_close(p, qi);
			return err;
		}
	}
	if (q->has_tx) {
		/* what a previous owner had in flight went with its socket */
		kr = &unm_k->krings[port->kring[0][UNM_TX] + qi];
		q->tx_done = kr->hwcur;
		__atomic_store_n(&kr->hwtail, kr->hwcur ? kr->hwcur - 1 : kr->num_slots - 1,
				 __ATOMIC_RELEASE);
	}
	return 0;
}

/*
 * No fd of ours binds queue qi any more (or the port goes): its socket goes,
 * unless it is the UMEM's own fd and other sockets share the UMEM (parked).
 */
static void afx_queue_close(struct afx_port *p, unsigned qi)
{
	struct afx_queue *q = &p->q[qi];
	struct afx_umem *um = p->um;
	bool live = afx_port_live(p), anchor;

	if (!q->xsk)
		return;
	if (q->has_rx && !q->parked && p->map_fd >= 0)
		bpf_map_delete_elem(p->map_fd, &qi);
	anchor = um->anchor == p && um->anchor_q == qi;
	if (anchor && um->nsock > 1) {
		q->parked = true;
		return;
	}
	afx_queue_stats_log(p, qi);
	xsk_socket__delete(q->xsk);
	q->xsk = NULL;
	q->fd = -1;
	q->parked = false;
	um->nsock--;
	if (live && q->given && q->shadow)
		afx_rx_slots_fixup(p, qi);
	free(q->given);
	q->given = NULL;
	free(q->shadow);
	q->shadow = NULL;
	if (live && unm_k->ports[p->pidx].xsk_pid[qi] == unm_pid)
		unm_k->ports[p->pidx].xsk_pid[qi] = 0;
	if (anchor)
		um->anchor = NULL;
	/* only the parked UMEM fd is left: it goes too, and the UMEM with it */
	if (um->nsock == 1 && um->anchor && um->anchor->q[um->anchor_q].parked) {
		afx_queue_close(um->anchor, um->anchor_q);
		return;
	}
	afx_umem_put(um);
}

/* The XDP program: a reference on the shared link, else attach it. */
static int afx_xdp_share(struct afx_port *p, const struct unm_kport *port)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	int lfd, mfd;

	if (!port->xdp_link_id || !port->xdp_map_id)
		return -ENOENT;
	lfd = bpf_link_get_fd_by_id(port->xdp_link_id);
	if (lfd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(lfd, &info, &len) || info.type != BPF_LINK_TYPE_XDP ||
	    info.xdp.ifindex != (__u32)p->ifindex) {
		close(lfd);
		return -ENOENT;
	}
	mfd = bpf_map_get_fd_by_id(port->xdp_map_id);
	if (mfd < 0) {
		close(lfd);
		return -ENOENT;
	}
	p->link_fd = lfd;
	p->map_fd = mfd;
	p->xdp_shared = true;
	return 0;
}

static int afx_xdp_attach_quiet(struct afx_port *p, struct unm_kport *port)
{
	LIBBPF_OPTS(bpf_link_create_opts, skb, .flags = XDP_FLAGS_SKB_MODE);
	struct bpf_link_info info;
	struct bpf_map_info minfo;
	__u32 len;
	int prog_fd, lfd, err, tries;

	p->skel = unm_xsk_redirect__open_and_load();
	if (!p->skel) {
		err = -errno;
		unm_log(UNM_LOG_ERR, "%s: cannot load the XDP program: %s", p->ifname,
			strerror(-err));
		return err;
	}
	p->map_fd = bpf_map__fd(p->skel->maps.xsks);
	prog_fd = bpf_program__fd(p->skel->progs.unm_xsk_redirect);
	/*
	 * flags 0: the driver's XDP if it has one, else generic. A link whose
	 * last holder just died may still be attached for a moment: retry.
	 */
	for (tries = 0;; tries++) {
		lfd = bpf_link_create(prog_fd, p->ifindex, BPF_XDP, NULL);
		err = lfd < 0 ? -errno : 0;
		if (lfd >= 0 || (err != -EBUSY && err != -EEXIST) || !port->xdp_link_id ||
		    tries >= 40)
			break;
		usleep(25000);
	}
	if (lfd < 0 && (err == -EBUSY || err == -EEXIST)) {
		unm_log(UNM_LOG_ERR, "%s: cannot attach the XDP program: another XDP program is attached (%s)",
			p->ifname, strerror(-err));
		return -EBUSY;
	}
	if (lfd < 0) {
		/* no native XDP in the driver: generic (skb) mode */
		lfd = bpf_link_create(prog_fd, p->ifindex, BPF_XDP, &skb);
		if (lfd < 0) {
			unm_log(UNM_LOG_ERR, "%s: cannot attach the XDP program (native: %s, generic: %s)",
				p->ifname, strerror(-err), strerror(errno));
			return -errno;
		}
	}
	p->link_fd = lfd;
	/* the ids for the processes that come next */
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	memset(&minfo, 0, sizeof(minfo));
	if (!bpf_obj_get_info_by_fd(lfd, &info, &len)) {
		len = sizeof(minfo);
		if (!bpf_obj_get_info_by_fd(p->map_fd, &minfo, &len)) {
			port->xdp_link_id = info.id;
			port->xdp_map_id = minfo.id;
		}
	}
	return 0;
}

/* libbpf's messages go to our log (debug): we report failures ourselves */
static int afx_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	unm_log(UNM_LOG_DEBUG, "libbpf: %s", msg);
	return 0;
}

static int afx_xdp_attach(struct afx_port *p, struct unm_kport *port)
{
	libbpf_print_fn_t old;
	LIBBPF_OPTS(bpf_xdp_query_opts, xq);
	int err = afx_xdp_share(p, port);

	if (err) {
		old = libbpf_set_print(afx_libbpf_print);
		err = afx_xdp_attach_quiet(p, port);
		libbpf_set_print(old);
	}
	if (!err && !bpf_xdp_query(p->ifindex, 0, &xq))
		p->xdp_generic = xq.attach_mode == XDP_ATTACHED_SKB;
	return err;
}

static int afx_promisc(struct afx_port *p)
{
	struct packet_mreq mr = { .mr_ifindex = p->ifindex, .mr_type = PACKET_MR_PROMISC };

	/* protocol 0: the socket receives nothing, it only holds the membership */
	p->promisc_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (p->promisc_fd < 0)
		return -errno;
	if (setsockopt(p->promisc_fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		return -errno;
	return 0;
}

static bool afx_port_has_sockets(const struct afx_port *p)
{
	unsigned i;

	for (i = 0; i < p->nq; i++)
		if (p->q[i].xsk)
			return true;
	return false;
}

/* Drop a port state with no socket left: the XDP reference, promisc, memory. */
static void afx_port_free(struct afx_port *p)
{
	struct unm_kport *port = &unm_k->ports[p->pidx];
	struct afx_port **pp;
	unsigned i;

	if (afx_port_live(p) && port->owner_pid == unm_pid) {
		/* the port's owner (for admode checks): another process serving it */
		port->owner_pid = 0;
		for (i = 0; i < p->nq; i++)
			if (port->xsk_pid[i] && port->xsk_pid[i] != unm_pid &&
			    !pid_dead(port->xsk_pid[i]))
				port->owner_pid = port->xsk_pid[i];
	}
	if (afx_ports[p->pidx] == p)
		afx_ports[p->pidx] = NULL;
	for (pp = &afx_list; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->link_fd >= 0)
		close(p->link_fd);
	if (p->skel)
		unm_xsk_redirect__destroy(p->skel);
	else if (p->map_fd >= 0)
		close(p->map_fd);
	if (p->promisc_fd >= 0)
		close(p->promisc_fd);
	free(p);
}

/*
 * The queues the fds of this process bind on p's port (need[]), and whether
 * any of them binds its NIC rings at all (host rings alone do not).
 */
static bool afx_needs(const struct afx_port *p, bool *need)
{
	int me = unm_proc_self();
	bool any = false;
	uint32_t w, slot;
	unsigned i;

	memset(need, 0, p->nq * sizeof(*need));
	if (me < 0 || !afx_port_live(p))
		return false;
	for (w = 0; w < ARRAY_SIZE(unm_k->procs[me].holds); w++) {
		uint64_t bits = unm_k->procs[me].holds[w];

		while (bits) {
			const struct unm_kpriv *kp;

			slot = w * 64 + __builtin_ctzll(bits);
			bits &= bits - 1;
			kp = &unm_k->privs[slot];
			if (kp->state != UNM_PRIV_REG || kp->port != p->pidx || kp->end ||
			    kp->mode == NR_REG_SW || kp->mode == NR_REG_ONE_SW)
				continue;
			any = true;
			for (i = kp->qfirst[UNM_TX]; i < kp->qlast[UNM_TX] && i < p->ntx; i++)
				need[i] = true;
			for (i = kp->qfirst[UNM_RX]; i < kp->qlast[UNM_RX] && i < p->nrx; i++)
				need[i] = true;
		}
	}
	return any;
}

/*
 * Bring this process's AF_XDP state in line with the fds it still has:
 * sockets of queues no fd binds go, port states no fd uses go (their XDP
 * reference and promiscuous membership with them), UMEMs with their last
 * socket. A fork's child inherited its parent's state: it forgets it (the
 * sockets and the program are the parent's).
 */
static void afx_gc_local(void)
{
	bool need[UNM_MAX_RINGS];
	struct afx_port *p, *next;
	struct afx_umem **pp;
	unsigned i;

	for (p = afx_list; p; p = next) {
		next = p->next;
		if (p->pid != unm_pid) {
			struct afx_port **lp;

			if (afx_ports[p->pidx] == p)
				afx_ports[p->pidx] = NULL;
			for (lp = &afx_list; *lp != p; lp = &(*lp)->next)
				;
			*lp = next;
			continue;
		}
		afx_needs(p, need);
		for (i = 0; i < p->nq; i++)
			if (p->q[i].xsk && !p->q[i].parked && !need[i])
				afx_queue_close(p, i);
	}
	/* a close above may have released a parked socket of a port before */
	for (p = afx_list; p; p = next) {
		next = p->next;
		if (!afx_port_has_sockets(p) && (p->gone || !afx_needs(p, need)))
			afx_port_free(p);
	}
	for (pp = &afx_umems; *pp;)
		if ((*pp)->pid != unm_pid)
			*pp = (*pp)->next;
		else
			pp = &(*pp)->next;
}

static int afx_attach(uint16_t pidx)
{
	struct unm_kport *port = &unm_k->ports[pidx];
	struct unm_memreg *m = &unm_k->mems[port->mem];
	struct afx_port *p = afx_ports[pidx];
	unsigned i, nq;
	int err;

	if (p && p->pid == unm_pid && afx_port_live(p))
		return 0;
	afx_gc_local();		/* state left from a port this slot held before */
	if ((port->hwflags & UNM_HW_EMULATED) && port->owner_pid &&
	    port->owner_pid != unm_pid && !pid_dead(port->owner_pid)) {
		unm_log(UNM_LOG_ERR, "%s: NIC port already open in process %d in emulated mode",
			port->name, port->owner_pid);
		return -EBUSY;
	}
	if (m->p.buf_size + AFX_HEADROOM < AFX_MIN_CHUNK) {
		unm_log(UNM_LOG_ERR, "%s: mem %u buffers of %u bytes are too small for AF_XDP (need >= %u)",
			port->name, m->id, m->p.buf_size,
			AFX_MIN_CHUNK - AFX_HEADROOM);
		return -EINVAL;
	}
	nq = port->nrings[0][UNM_TX] > port->nrings[0][UNM_RX] ?
	     port->nrings[0][UNM_TX] : port->nrings[0][UNM_RX];
	/*
	 * Each queue on its own cache lines: queue k's thread writes its ring
	 * copies (cached_prod/cons, fill_pos, tx_done) on every sync, and
	 * unaligned 232-byte queues put queue k's tail and queue k+1's head on
	 * one line. (Both sizes are multiples of the alignment.)
	 */
	p = aligned_alloc(UNM_CACHELINE, sizeof(*p) + nq * sizeof(p->q[0]));
	if (!p)
		return -ENOMEM;
	memset(p, 0, sizeof(*p) + nq * sizeof(p->q[0]));
	p->pid = unm_pid;
	p->pidx = pidx;
	p->ktx = port->kring[0][UNM_TX];
	p->krx = port->kring[0][UNM_RX];
	p->promisc_fd = p->link_fd = p->map_fd = -1;
	p->nq = nq;
	p->ntx = port->nrings[0][UNM_TX];
	p->nrx = port->nrings[0][UNM_RX];
	p->buf_size = m->p.buf_size;
	p->nbufs = m->p.buf_num;
	p->shift = (p->buf_size & (p->buf_size - 1)) ? 0 : __builtin_ctz(p->buf_size);
	for (i = 0; i < nq; i++)
		p->q[i].fd = -1;
	memcpy(p->ifname, port->name, strnlen(port->name, sizeof(p->ifname) - 1));
	p->ifindex = if_nametoindex(p->ifname);
	/* in the list from now on: afx_port_free() unlinks it */
	p->next = afx_list;
	afx_list = p;
	if (!p->ifindex) {
		unm_log(UNM_LOG_ERR, "%s: no such interface", p->ifname);
		err = -ENXIO;
		goto out_free;
	}
	err = afx_xdp_attach(p, port);
	if (err)
		goto out_free;
	err = afx_promisc(p);
	if (err) {
		unm_log(UNM_LOG_ERR, "%s: promiscuous mode (packet socket membership): %s",
			p->ifname, strerror(-err));
		goto out_free;
	}
	if (!port->owner_pid || port->owner_pid == unm_pid || pid_dead(port->owner_pid))
		port->owner_pid = unm_pid;
	port->hwflags &= ~UNM_HW_EMULATED;
	afx_ports[pidx] = p;
	unm_log(UNM_LOG_DEBUG, "%s: AF_XDP port, %u TX / %u RX queues, XDP program %s",
		p->ifname, p->ntx, p->nrx, p->xdp_shared ? "shared (by id)" : "attached");
	return 0;

out_free:
	afx_port_free(p);
	return err;
}

/* The shared port goes (locked): every socket of ours on it goes. */
static void afx_destroy(uint16_t pidx, char *base)
{
	struct afx_port *p = afx_ports[pidx];
	unsigned i;

	(void)base;		/* our UMEM's mapping of the same region serves */
	if (!p || p->pid != unm_pid) {
		afx_gc_local();
		return;		/* served by other processes: their state goes with them */
	}
	for (i = 0; i < p->nq; i++)
		afx_queue_close(p, i);
	afx_ports[pidx] = NULL;
	p->gone = true;
	if (!afx_port_has_sockets(p))
		afx_port_free(p);
	afx_gc_local();
}

/* A registration on the port went, the port stays: drop what we no longer bind. */
static void afx_release(uint16_t pidx)
{
	(void)pidx;
	afx_gc_local();
}

/*
 * An fd of ours bound rings of the port: sockets for the queues it binds
 * that have none here yet; RX sockets wake its poll().
 */
static int afx_bind(struct unm_priv_local *pl, uint16_t pidx)
{
	struct afx_port *p = afx_ports[pidx];
	struct unm_kpriv *kp = &unm_k->privs[pl->slot];
	struct unm_kport *port = &unm_k->ports[pidx];
	char qs[64] = "";
	size_t qn = 0;
	unsigned i;
	int err;

	if (!p)
		return -ENXIO;
	for (i = 0; i < p->nq; i++) {
		bool tx = i >= kp->qfirst[UNM_TX] && i < kp->qlast[UNM_TX] && i < p->ntx;
		bool rx = i >= kp->qfirst[UNM_RX] && i < kp->qlast[UNM_RX] && i < p->nrx;
		struct afx_queue *q = &p->q[i];

		if (!tx && !rx)
			continue;
		if (q->xsk && q->parked) {
			err = afx_map_set(p, i);
			if (err)
				return err;
			q->parked = false;
		} else if (!q->xsk) {
			err = afx_queue_open(p, i);
			if (err)
				return err;
			if (qn < sizeof(qs) - 8)
				qn += snprintf(qs + qn, sizeof(qs) - qn, "%s%u", qn ? "," : "", i);
		}
	}
	if (p->um)
		port->hwflags = (port->hwflags & ~UNM_HW_ZEROCOPY) |
				(p->zerocopy ? UNM_HW_ZEROCOPY : 0);
	if (qn) {
		struct afx_umem *um = p->um;

		unm_log(UNM_LOG_INFO, "%s: AF_XDP, %u TX / %u RX queues, socket(s) on queue %s, %s mode%s%s%s%s, XDP %s%s, UMEM = mem %u buffer pool (%u x %u)",
			p->ifname, p->ntx, p->nrx, qs, p->zerocopy ? "zero-copy" : "copy",
			um->why && !p->zerocopy ? " (zero-copy refused: " : "",
			um->why && !p->zerocopy ? um->why : "",
			um->why && !p->zerocopy ? ")" : "", p->sg ? ", multi-buffer" : "",
			p->xdp_generic ? "generic" : "native",
			p->xdp_shared ? " (shared)" : "", unm_k->mems[port->mem].id,
			p->nbufs, p->buf_size);
	}
	for (i = kp->qfirst[UNM_RX]; i < kp->qlast[UNM_RX] && i < p->nrx; i++) {
		err = unm_priv_watch(pl, p->q[i].fd);
		if (err)
			return err;
	}
	/* TX completions do not wake a sleeper: poll naps while TX is wanted */
	pl->hw_nap = kp->qlast[UNM_TX] > kp->qfirst[UNM_TX];
	pl->no_spin = true;
	return 0;
}

const struct unm_port_ops unm_afxdp_ops = {
	.name = "afxdp",
	.kind = UNM_PORT_HW,
	.parse = afx_parse,
	.txsync = afx_txsync,
	.rxsync = afx_rxsync,
	.geometry = afx_geometry,
	.attach = afx_attach,
	.bind = afx_bind,
	.destroy = afx_destroy,
	.release = afx_release,
};
