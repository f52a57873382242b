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
 * comes back in the slot its buffer was taken from; if it does not (a
 * zero-copy driver may recycle buffers out of order) the slot gets the
 * received buffer and NS_BUF_CHANGED, and `given` (a bitmap of the buffers
 * in the kernel) lets the teardown put the right buffers back in the slots.
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
 * queues EINVAL; another process drives the interface EBUSY; another XDP
 * program attached EBUSY.
 *
 * One XDP program per interface (lib/bpf/xsk_redirect.bpf.c) redirects queue
 * q to socket q through an XSKMAP; it is attached by a bpf_link, and the
 * promiscuous mode is a packet-socket membership: both go away with the
 * process, SIGKILL included. No bpffs is needed.
 *
 * Scope: one process drives a NIC port (any number of its fds may bind its
 * rings); another process gets EBUSY naming the interface. The AF_XDP state
 * is per process (struct afx_port), indexed like the shared port table.
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

#define AFX_HEADROOM	XDP_PACKET_HEADROOM	/* 256: where the kernel puts data */
#define AFX_MIN_FRAME	ETH_ZLEN		/* shorter TX frames are padded */
#define AFX_MIN_CHUNK	2048			/* the kernel's smallest UMEM chunk */

struct afx_queue {
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx;		/* Single consumer: rxsync of RX q */
	struct xsk_ring_prod fill;		/* Single producer: rxsync of RX q */
	struct xsk_ring_prod tx;		/* Single producer: txsync of TX q */
	struct xsk_ring_cons comp;		/* Single consumer: txsync of TX q */
	int fd;
	bool has_rx, has_tx;
	uint32_t fill_pos;			/* next RX slot whose buffer goes to fill */
	uint32_t tx_done;			/* first TX slot not completed */
	uint64_t rx_bad;			/* descriptors with an impossible address */
};

struct afx_port {
	uint16_t pidx;				/* index in unm_k->ports */
	char ifname[IF_NAMESIZE];
	int ifindex;
	uint16_t nq, ntx, nrx;
	struct unm_mem_local *ml;		/* our reference on the region mapping */
	char *area;				/* buffer pool = UMEM */
	uint32_t buf_size, nbufs, shift;	/* shift: log2(buf_size) or 0 */
	struct xsk_umem *umem;
	struct unm_xsk_redirect *skel;
	struct bpf_link *link;			/* native XDP */
	int link_fd;				/* generic XDP: the link's fd */
	int promisc_fd;
	bool zerocopy, xdp_generic;
	bool sg;				/* multi-buffer: NS_MOREFRAG <-> XDP_PKT_CONTD */
	uint64_t *given;			/* buffers in the kernel's hands (RX) */
	struct afx_queue q[];
};

static struct afx_port *afx_ports[UNM_MAX_PORTS];

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

static uint32_t hw_slots(uint32_t want)
{
	if (!want)
		return UNM_DEF_SLOTS;
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

	if (likely(p))
		return &p->q[rc->kr->ring_id];
	/* an fd received from the process that drives the NIC (SCM_RIGHTS) */
	unm_log_err(UNM_ERR_BUSY, "%s ring %u: a NIC ring is synced only by the process that opened the NIC (pid %d)",
		    rc->name, rc->kr->ring_id, unm_k->ports[rc->kr->port].owner_pid);
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

/*
 * Hand the submitted descriptors to the driver. A NIC sends everything it
 * was given; AF_XDP in copy mode sends at most 32 frames per sendto() (the
 * kernel's budget) and nothing without one, so keep kicking until the TX
 * ring is consumed, or the device pushes back (EAGAIN/EBUSY/ENOBUFS: the
 * next sync retries). Zero-copy: one kick starts the driver.
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
	sg = afx_ports[kr->port]->sg;
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

static int afx_rxsync(struct unm_ring_ctx *rc)
{
	struct afx_queue *q = afx_queue(rc);
	struct afx_port *p = afx_ports[rc->kr->port];
	struct unm_kring *kr = rc->kr;
	struct netmap_ring *ring = rc->ring;
	struct netmap_slot *slot = ring->slot;
	uint32_t n = kr->num_slots, head = kr->rhead, j, stop, tail, room, got, i, idx = 0;
	int err = 0;

	if (unlikely(!q || !q->has_rx))
		return -ENXIO;
	/* released slots: check what the program gives back */
	for (j = kr->hwcur; j != head; j = unm_ring_next(j, n)) {
		struct netmap_slot *s = &slot[j];

		if (unlikely(s->buf_idx < 2 || s->buf_idx >= rc->nbufs)) {
			unm_log_err(UNM_ERR_BUF_IDX, "%s RX%u: released slot %u: buf_idx %u invalid (buffers 2..%u), repaired",
				    rc->name, kr->ring_id, j, s->buf_idx, rc->nbufs - 1);
			unm_slot_repair(rc, s);
			err = -EINVAL;
		}
	}
	kr->hwcur = head;
	/* the slots that became the kernel's: [fill_pos, hwcur - 1) to the fill ring */
	stop = head ? head - 1 : n - 1;
	want_fill:
	if (q->fill_pos != stop) {
		uint32_t want = stop > q->fill_pos ? stop - q->fill_pos : stop + n - q->fill_pos;

		got = xsk_ring_prod__reserve(&q->fill, want, &idx);
		for (i = 0; i < got; i++) {
			struct netmap_slot *s = &slot[q->fill_pos];

			if (unlikely(s->buf_idx < 2 || s->buf_idx >= rc->nbufs))
				unm_slot_repair(rc, s);	/* scribbled while not owned */
			*xsk_ring_prod__fill_addr(&q->fill, idx + i) =
				(uint64_t)s->buf_idx * rc->buf_size - AFX_HEADROOM;
			given_set(p->given, s->buf_idx);
			q->fill_pos = unm_ring_next(q->fill_pos, n);
		}
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
		uint32_t b = addr_to_idx(p, a);
		struct netmap_slot *s = &slot[tail];

		if (unlikely(b < 2 || b >= rc->nbufs || (uint64_t)b * rc->buf_size != a ||
			     d->len > rc->buf_size)) {
			/* cannot happen with the fill addresses we give */
			q->rx_bad++;
			unm_log_err(UNM_ERR_PEER_BUF, "%s RX%u: descriptor addr %#llx len %u is not a buffer",
				    rc->name, kr->ring_id, (unsigned long long)d->addr, d->len);
			continue;
		}
		given_clear(p->given, b);
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

static void afx_stats_log(struct afx_port *p)
{
	struct xdp_statistics st;
	socklen_t len;
	unsigned i;

	for (i = 0; i < p->nq; i++) {
		len = sizeof(st);
		if (!p->q[i].xsk || getsockopt(p->q[i].fd, SOL_XDP, XDP_STATISTICS, &st, &len))
			continue;
		if (st.rx_dropped || st.rx_invalid_descs || st.tx_invalid_descs ||
		    st.rx_ring_full || st.rx_fill_ring_empty_descs || p->q[i].rx_bad)
			unm_log(UNM_LOG_INFO, "%s queue %u: rx_dropped %llu (no fill buffer, or longer than a buffer) rx_ring_full %llu fill_empty %llu rx_invalid %llu tx_invalid %llu bad_desc %llu",
				p->ifname, i, (unsigned long long)st.rx_dropped,
				(unsigned long long)st.rx_ring_full,
				(unsigned long long)st.rx_fill_ring_empty_descs,
				(unsigned long long)st.rx_invalid_descs,
				(unsigned long long)st.tx_invalid_descs,
				(unsigned long long)p->q[i].rx_bad);
	}
}

/*
 * Put back in the RX rings' kernel-owned slots the buffers the kernel held,
 * so that destroying the rings frees each buffer once (only needed when the
 * kernel returned buffers out of order; a no-op otherwise).
 */
static void afx_rx_slots_fixup(struct afx_port *p, char *base)
{
	struct unm_kport *port = &unm_k->ports[p->pidx];
	uint32_t words = (p->nbufs + 63) / 64, w = 0, q, j;
	int pass;

	for (pass = 0; pass < 2; pass++)
		for (q = 0; q < p->nrx; q++) {
			struct unm_kring *kr = &unm_k->krings[port->kring[0][UNM_RX] + q];
			struct netmap_ring *ring = (struct netmap_ring *)(base + kr->ring_ofs);
			uint32_t n = kr->num_slots, stop = kr->hwcur ? kr->hwcur - 1 : n - 1;

			for (j = kr->hwtail; j != p->q[q].fill_pos && j != stop;
			     j = unm_ring_next(j, n)) {
				struct netmap_slot *s = &ring->slot[j];
				uint32_t b = s->buf_idx;

				if (pass == 0) {
					if (b < p->nbufs && (p->given[b / 64] & (1ULL << (b % 64))))
						given_clear(p->given, b);
					else
						s->flags |= NS_MOREFRAG;	/* marks "fix me" */
					continue;
				}
				if (!(s->flags & NS_MOREFRAG))
					continue;
				s->flags = 0;
				while (w < words && !p->given[w])
					w++;
				if (w == words) {
					s->buf_idx = 0;
					continue;
				}
				s->buf_idx = w * 64 + __builtin_ctzll(p->given[w]);
				given_clear(p->given, s->buf_idx);
			}
		}
}

static void afx_port_free(struct afx_port *p, char *base)
{
	unsigned i;

	afx_stats_log(p);
	if (p->link)
		bpf_link__destroy(p->link);
	if (p->link_fd >= 0)
		close(p->link_fd);
	if (p->skel)
		unm_xsk_redirect__destroy(p->skel);
	for (i = 0; i < p->nq; i++)
		if (p->q[i].xsk)
			xsk_socket__delete(p->q[i].xsk);
	if (p->umem)
		xsk_umem__delete(p->umem);
	if (p->promisc_fd >= 0)
		close(p->promisc_fd);
	if (base && p->given)
		afx_rx_slots_fixup(p, base);
	free(p->given);
	if (p->ml)
		unm_mem_unmap(p->ml);
	free(p);
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

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t r = 1;

	while (r < v)
		r <<= 1;
	return r;
}

static int afx_socket(struct afx_port *p, unsigned qi, const struct unm_kport *port,
		      uint16_t bind_mode)
{
	struct afx_queue *q = &p->q[qi];
	struct xsk_socket_config cfg = {
		.rx_size = pow2_at_least(port->nslots[0][UNM_RX]),
		.tx_size = pow2_at_least(port->nslots[0][UNM_TX]),
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = bind_mode | XDP_USE_NEED_WAKEUP,
	};

	return xsk_socket__create_shared(&q->xsk, p->ifname, qi, p->umem,
					 q->has_rx ? &q->rx : NULL, q->has_tx ? &q->tx : NULL,
					 &q->fill, &q->comp, &cfg);
}

static int afx_xdp_attach_quiet(struct afx_port *p)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_SKB_MODE);
	int map_fd, prog_fd, lfd, err;
	unsigned i;

	p->skel = unm_xsk_redirect__open_and_load();
	if (!p->skel) {
		err = -errno;
		unm_log(UNM_LOG_ERR, "%s: cannot load the XDP program: %s", p->ifname,
			strerror(-err));
		return err;
	}
	map_fd = bpf_map__fd(p->skel->maps.xsks);
	for (i = 0; i < p->nq; i++) {
		int fd = p->q[i].fd;

		if (!p->q[i].has_rx)
			continue;
		if (bpf_map_update_elem(map_fd, &i, &fd, BPF_ANY)) {
			err = -errno;
			unm_log(UNM_LOG_ERR, "%s: XSKMAP entry %u: %s", p->ifname, i,
				strerror(-err));
			return err;
		}
	}
	/* flags 0: the driver's XDP if it has one, else the kernel picks generic */
	p->link = bpf_program__attach_xdp(p->skel->progs.unm_xsk_redirect, p->ifindex);
	if (p->link) {
		LIBBPF_OPTS(bpf_xdp_query_opts, q);

		if (!bpf_xdp_query(p->ifindex, 0, &q))
			p->xdp_generic = q.attach_mode == XDP_ATTACHED_SKB;
		return 0;
	}
	err = -errno;
	if (err == -EBUSY || err == -EEXIST) {
		unm_log(UNM_LOG_ERR, "%s: cannot attach the XDP program: another XDP program is attached (%s)",
			p->ifname, strerror(-err));
		return -EBUSY;
	}
	/* no native XDP in the driver: generic (skb) mode, a raw bpf_link fd */
	prog_fd = bpf_program__fd(p->skel->progs.unm_xsk_redirect);
	lfd = bpf_link_create(prog_fd, p->ifindex, BPF_XDP, &opts);
	if (lfd < 0) {
		unm_log(UNM_LOG_ERR, "%s: cannot attach the XDP program (native: %s, generic: %s)",
			p->ifname, strerror(-err), strerror(errno));
		return -errno;
	}
	p->link_fd = lfd;
	p->xdp_generic = true;
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

static int afx_xdp_attach(struct afx_port *p)
{
	libbpf_print_fn_t old = libbpf_set_print(afx_libbpf_print);
	int err = afx_xdp_attach_quiet(p);

	libbpf_set_print(old);
	return err;
}

static int afx_attach(uint16_t pidx)
{
	struct unm_kport *port = &unm_k->ports[pidx];
	struct unm_memreg *m = &unm_k->mems[port->mem];
	struct xsk_umem_config ucfg;
	struct xdp_options opts;
	socklen_t optlen = sizeof(opts);
	struct afx_port *p;
	const char *why = NULL;
	unsigned i, nq;
	uint32_t j, n;
	int err;

	if (afx_ports[pidx]) {
		if (port->owner_pid == unm_pid)
			return 0;
		/* state left from a port this slot held before (another process destroyed it) */
		afx_port_free(afx_ports[pidx], NULL);
		afx_ports[pidx] = NULL;
	}
	if (port->owner_pid && port->owner_pid != unm_pid) {
		unm_log(UNM_LOG_ERR, "%s: NIC port already open in process %d (one process per NIC for now)",
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
	p = calloc(1, sizeof(*p) + nq * sizeof(p->q[0]));
	if (!p)
		return -ENOMEM;
	p->pidx = pidx;
	p->promisc_fd = p->link_fd = -1;
	p->nq = nq;
	p->ntx = port->nrings[0][UNM_TX];
	p->nrx = port->nrings[0][UNM_RX];
	memcpy(p->ifname, port->name, strnlen(port->name, sizeof(p->ifname) - 1));
	p->ifindex = if_nametoindex(p->ifname);
	if (!p->ifindex) {
		unm_log(UNM_LOG_ERR, "%s: no such interface", p->ifname);
		err = -ENXIO;
		goto out_free;
	}
	p->ml = unm_mem_map(port->mem);
	if (!p->ml) {
		err = -ENOMEM;
		goto out_free;
	}
	p->buf_size = m->p.buf_size;
	p->nbufs = m->p.buf_num;
	p->shift = (p->buf_size & (p->buf_size - 1)) ? 0 : __builtin_ctz(p->buf_size);
	p->area = p->ml->base + m->buf_ofs;
	p->given = calloc((p->nbufs + 63) / 64, sizeof(uint64_t));
	if (!p->given) {
		err = -ENOMEM;
		goto out_free;
	}
	memset(&ucfg, 0, sizeof(ucfg));
	ucfg.fill_size = pow2_at_least(2 * port->nslots[0][UNM_RX]);
	ucfg.comp_size = pow2_at_least(port->nslots[0][UNM_TX]);
	ucfg.frame_size = p->buf_size + AFX_HEADROOM;
	if (ucfg.frame_size > 4096)
		ucfg.frame_size = 4096;
	ucfg.flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG;
	for (i = 0; i < nq; i++) {
		p->q[i].has_tx = i < p->ntx;
		p->q[i].has_rx = i < p->nrx;
		p->q[i].fd = -1;
	}
	/* the UMEM's own fill/completion rings serve queue 0 */
	err = xsk_umem__create(&p->umem, p->area, (uint64_t)p->nbufs * p->buf_size,
			       &p->q[0].fill, &p->q[0].comp, &ucfg);
	if (err) {
		unm_log(UNM_LOG_ERR, "%s: AF_XDP UMEM over mem %u (%u x %u bytes): %s%s", p->ifname,
			m->id, p->nbufs, p->buf_size, strerror(-err),
			err == -ENOBUFS || err == -ENOMEM || err == -EPERM ?
			" (locked-memory limit? needs CAP_IPC_LOCK or a larger ulimit -l)" : "");
		p->umem = NULL;
		goto out_free;
	}
	for (i = 0; i < nq; i++) {
		if (i == 0) {
			/* zero-copy if the driver has it, multi-buffer if the kernel has it */
			static const uint16_t modes[] = {
				XDP_ZEROCOPY | XDP_USE_SG, XDP_ZEROCOPY,
				XDP_COPY | XDP_USE_SG, XDP_COPY,
			};
			unsigned k;

			for (k = 0; k < ARRAY_SIZE(modes); k++) {
				err = afx_socket(p, 0, port, modes[k]);
				if (!err) {
					p->sg = modes[k] & XDP_USE_SG;
					break;
				}
				if (modes[k] & XDP_ZEROCOPY)
					why = strerror(-err);
			}
		} else {
			/* shared UMEM: the mode is the first socket's */
			err = afx_socket(p, i, port, 0);
		}
		if (err) {
			unm_log(UNM_LOG_ERR, "%s queue %u: AF_XDP socket: %s", p->ifname, i,
				strerror(-err));
			p->q[i].xsk = NULL;
			goto out_free;
		}
		p->q[i].fd = xsk_socket__fd(p->q[i].xsk);
	}
	if (getsockopt(p->q[0].fd, SOL_XDP, XDP_OPTIONS, &opts, &optlen) == 0)
		p->zerocopy = !!(opts.flags & XDP_OPTIONS_ZEROCOPY);
	port->hwflags = p->zerocopy ? UNM_HW_ZEROCOPY : 0;
	/* every RX ring's kernel-owned slots [0, n - 1) to the fill ring */
	for (i = 0; i < p->nrx; i++) {
		struct unm_kring *kr = &unm_k->krings[port->kring[0][UNM_RX] + i];
		struct netmap_ring *ring = (struct netmap_ring *)(p->ml->base + kr->ring_ofs);
		uint32_t idx;

		n = kr->num_slots;
		if (xsk_ring_prod__reserve(&p->q[i].fill, n - 1, &idx) != n - 1) {
			unm_log(UNM_LOG_ERR, "%s queue %u: fill ring too small for %u slots",
				p->ifname, i, n);
			err = -ENOMEM;
			goto out_free;
		}
		for (j = 0; j < n - 1; j++) {
			uint32_t b = ring->slot[j].buf_idx;

			*xsk_ring_prod__fill_addr(&p->q[i].fill, idx + j) =
				(uint64_t)b * p->buf_size - AFX_HEADROOM;
			given_set(p->given, b);
		}
		xsk_ring_prod__submit(&p->q[i].fill, n - 1);
		p->q[i].fill_pos = n - 1;
	}
	err = afx_xdp_attach(p);
	if (err)
		goto out_free;
	err = afx_promisc(p);
	if (err) {
		unm_log(UNM_LOG_ERR, "%s: promiscuous mode (packet socket membership): %s",
			p->ifname, strerror(-err));
		goto out_free;
	}
	port->owner_pid = unm_pid;
	afx_ports[pidx] = p;
	unm_log(UNM_LOG_INFO, "%s: AF_XDP, %u TX / %u RX queues, %s mode%s%s%s%s, XDP %s, UMEM = mem %u buffer pool (%u x %u)",
		p->ifname, p->ntx, p->nrx, p->zerocopy ? "zero-copy" : "copy",
		why && !p->zerocopy ? " (zero-copy refused: " : "",
		why && !p->zerocopy ? why : "", why && !p->zerocopy ? ")" : "",
		p->sg ? ", multi-buffer" : "",
		p->xdp_generic ? "generic" : "native", m->id, p->nbufs, p->buf_size);
	return 0;

out_free:
	afx_port_free(p, NULL);
	return err;
}

static void afx_destroy(uint16_t pidx, char *base)
{
	struct afx_port *p = afx_ports[pidx];

	if (!p)
		return;		/* the owner was another process: its state died with it */
	afx_ports[pidx] = NULL;
	afx_port_free(p, base);
}

/* An fd of ours bound rings of the port: RX sockets wake its poll(). */
static int afx_bind(struct unm_priv_local *pl, uint16_t pidx)
{
	struct afx_port *p = afx_ports[pidx];
	struct unm_kpriv *kp = &unm_k->privs[pl->slot];
	unsigned i;
	int err;

	if (!p)
		return -ENXIO;
	for (i = kp->qfirst[UNM_RX]; i < kp->qlast[UNM_RX] && i < p->nq; i++) {
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
};
