// SPDX-License-Identifier: BSD-2-Clause
/*
 * afpacket.c - NIC ports `netmap:IF` in emulated ("generic") mode, over
 * AF_PACKET: netmap's admode 2, or the fallback of admode 0 when AF_XDP
 * cannot serve the interface (no AF_XDP, no XDP at all, buffers too small
 * for a UMEM, no locked memory...). The registry (core/registry.c) picks
 * this adapter or afxdp.c at attach time; the port keeps the NIC's geometry
 * (one ring pair per queue), which afxdp.c's geometry callback reports.
 *
 * Emulated mode copies, as upstream's does: frames are copied between the
 * AF_PACKET rings and the netmap buffers, so a buf_idx never reaches the
 * kernel and any region (any buffer size) works.
 *
 *   RX queue q: one packet socket, TPACKET_V3 ring mmap'd; with several RX
 *               queues the sockets form a PACKET_FANOUT_QM group, so ring q
 *               gets what the device recorded for queue q (modulo the rings).
 *               rxsync walks the retired blocks from where it stopped, copies
 *               each frame into the slot at hwtail (NETMAP_BUF), sets ring->ts
 *               from the tpacket header, and hands a block back once every
 *               frame of it is copied. A frame longer than a buffer (or cut
 *               by the ring) is dropped and counted, never truncated. A VLAN
 *               tag that the device took out of the frame is put back.
 *   TX queue q: one packet socket with a TPACKET_V2 TX ring, PACKET_QDISC_
 *               BYPASS and PACKET_LOSS; txsync copies the slots [hwcur, head)
 *               (an NS_MOREFRAG chain into one frame) into free ring frames
 *               and kicks with send(MSG_DONTWAIT); the frames complete in
 *               order, and hwtail follows the oldest frame not yet sent, so
 *               nm_tx_pending() means what it means on AF_XDP. The stack
 *               picks the device queue (AF_PACKET cannot choose one).
 *
 * While the port is open the interface is promiscuous (a packet-socket
 * membership) and, where the kernel has tcx (6.6), a small SCHED_CLS
 * program returning TC_ACT_SHOT sits on the ingress hook through
 * a bpf_link, so the host stack does not see the NIC's traffic (packet taps,
 * ours included, run before that hook). Without tcx the stack still sees
 * every received frame, and we say so. Both go away with the process,
 * SIGKILL included: no bpffs, no pinning, no qdisc left behind.
 *
 * Host rings next to this port (host.c) inject the host TX ring's frames
 * into IF's receive path with skb->mark UNM_HOST_MARK: the RX sockets carry
 * a classic BPF filter rejecting that mark (else the frames would loop into
 * the NIC RX ring), and the drop, first in IF's tcx chain, passes marked
 * frames on (TCX_NEXT) to host.c's program, which unmarks them.
 *
 * Scope: one process drives an emulated port (all its queues); other
 * processes get EBUSY naming the interface (native ports, afxdp.c, allow
 * one process per queue). The sockets are per process (struct afp_port).
 */
#include <errno.h>
#include <stddef.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>

#include "core/unm.h"

#define AFP_RX_BLOCK	(1u << 18)	/* 256 KiB: many frames per block */
#define AFP_RX_FRAME	2048		/* nominal (TPACKET_V3 packs frames) */
#define AFP_RX_TOV_MS	1		/* a partly filled block retires after 1 ms */
#define AFP_MIN_FRAME	ETH_ZLEN	/* shorter TX frames are padded with zeros */
#define AFP_TX_DATA	(TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
#define AFP_DRAIN_MS	200		/* at close, how long queued TX frames may take */
/* BPF_TCX_INGRESS (kernel 6.6), missing from older uapi headers' enum */
#define AFP_TCX_INGRESS	((enum bpf_attach_type)46)
#define AFP_F_BEFORE	(1u << 3)	/* BPF_F_BEFORE: first in the tcx chain */

struct afp_queue {
	/* RX: Single consumer (the rxsync of RX ring q) */
	int rx_fd;
	uint8_t *rx_map;
	uint32_t rx_nblocks;
	uint32_t rx_blk;			/* block being consumed */
	uint32_t rx_left;			/* frames left in it; 0 = not opened */
	struct tpacket3_hdr *rx_pkt;		/* next frame in it */
	uint64_t rx_oversize;			/* longer than a buffer: dropped */
	uint64_t rx_cut;			/* cut by the ring (snaplen < len) */
	/* TX: Single producer (the txsync of TX ring q) */
	int tx_fd;
	uint8_t *tx_map;
	uint32_t tx_nframes, tx_frame_size;
	uint32_t tx_head;			/* next frame to fill */
	uint32_t tx_tail;			/* oldest frame not seen sent */
	uint32_t *tx_first;			/* per frame: its first netmap slot */
	uint64_t tx_dropped;			/* over the MTU or the frame: dropped */
	size_t rx_map_len, tx_map_len;
};

struct afp_port {
	uint16_t pidx;
	char ifname[IF_NAMESIZE];
	int ifindex;
	uint32_t mtu;
	uint16_t nq, ntx, nrx;
	int promisc_fd;				/* the RX socket holding the membership */
	int tc_prog_fd, tc_link_fd;		/* ingress drop (tcx), -1 = none */
	struct afp_queue q[];
};

static struct afp_port *afp_ports[UNM_MAX_PORTS];

/* ---- the data path ---------------------------------------------------------- */

static inline struct afp_queue *afp_queue(const struct unm_ring_ctx *rc)
{
	struct afp_port *p = afp_ports[rc->kr->port];

	if (likely(p))
		return &p->q[rc->kr->ring_id];
	unm_log_err(UNM_ERR_BUSY, "%s ring %u: a NIC ring is synced only by the process that opened the NIC (pid %d)",
		    rc->name, rc->kr->ring_id, unm_k->ports[rc->kr->port].owner_pid);
	return NULL;
}

static inline uint32_t tx_status(const struct afp_queue *q, uint32_t f)
{
	const struct tpacket2_hdr *h = (const void *)(q->tx_map + (size_t)f * q->tx_frame_size);

	/* Synchronizes with the kernel's status store after the send. */
	return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
}

/* Frames the kernel has sent (or refused) since the last look. */
static void afp_tx_reap(struct afp_queue *q)
{
	while (q->tx_tail != q->tx_head) {
		uint32_t st = tx_status(q, q->tx_tail);
		struct tpacket2_hdr *h;

		if (st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING))
			break;
		if (unlikely(st & TP_STATUS_WRONG_FORMAT)) {
			/* not with PACKET_LOSS; kept for kernels that ignore it */
			h = (void *)(q->tx_map + (size_t)q->tx_tail * q->tx_frame_size);
			q->tx_dropped++;
			__atomic_store_n(&h->tp_status, TP_STATUS_AVAILABLE, __ATOMIC_RELEASE);
		}
		q->tx_tail = unm_ring_next(q->tx_tail, q->tx_nframes);
	}
}

static inline void afp_tx_kick(struct afp_queue *q, const struct unm_ring_ctx *rc)
{
	if (send(q->tx_fd, NULL, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN &&
	    errno != ENOBUFS && errno != EINTR)
		unm_log_err(UNM_ERR_PEER_BUF, "%s TX%u: AF_PACKET send: %s", rc->name,
			    rc->kr->ring_id, strerror(errno));
}

static int afp_txsync(struct unm_ring_ctx *rc)
{
	struct afp_queue *q = afp_queue(rc);
	struct unm_kring *kr = rc->kr;
	struct netmap_slot *slot = rc->ring->slot;
	uint32_t n = kr->num_slots, head = kr->rhead, j = kr->hwcur, queued = 0;
	uint32_t max_len, first;
	int err = 0;

	if (unlikely(!q || q->tx_fd < 0))
		return -ENXIO;
	max_len = afp_ports[kr->port]->mtu + ETH_HLEN + 4;	/* + a VLAN tag */
	if (max_len > q->tx_frame_size - AFP_TX_DATA)
		max_len = q->tx_frame_size - AFP_TX_DATA;
	afp_tx_reap(q);
	while (j != head) {
		uint32_t nxt = unm_ring_next(q->tx_head, q->tx_nframes);
		struct tpacket2_hdr *h;
		uint8_t *dst;
		uint32_t k, len = 0;
		bool whole = false, bad = false;

		/* one frame: slots j .. k, the last without NS_MOREFRAG */
		for (k = j;; k = unm_ring_next(k, n)) {
			struct netmap_slot *s = &slot[k];

			if (unlikely(!unm_slot_ok(rc, s))) {
				unm_log_err(s->len > rc->buf_size ? UNM_ERR_LEN : UNM_ERR_BUF_IDX,
					    "%s TX%u: slot %u: buf_idx %u len %u invalid (buffers 2..%u, size %u)",
					    rc->name, kr->ring_id, k, s->buf_idx, s->len,
					    rc->nbufs - 1, rc->buf_size);
				bad = true;
				break;
			}
			len += s->len;
			if (!(s->flags & NS_MOREFRAG)) {
				whole = true;
				break;
			}
			if (unm_ring_next(k, n) == head)
				break;
		}
		if (unlikely(bad)) {
			err = -EINVAL;
			break;
		}
		if (!whole)
			break;		/* the rest of the frame is not released yet */
		if (unlikely(len > max_len)) {
			q->tx_dropped++;
			unm_log_err(UNM_ERR_LEN, "%s TX%u: %u-byte frame at slot %u over the MTU (%u bytes with header): dropped",
				    rc->name, kr->ring_id, len, j, max_len);
			for (; j != unm_ring_next(k, n); j = unm_ring_next(j, n))
				slot[j].flags &= ~NS_BUF_CHANGED;
			continue;
		}
		if (nxt == q->tx_tail || tx_status(q, q->tx_head) != TP_STATUS_AVAILABLE) {
			/* the TX ring is full: send what we have and look again */
			if (!queued)
				break;
			afp_tx_kick(q, rc);
			queued = 0;
			afp_tx_reap(q);
			if (nxt == q->tx_tail ||
			    tx_status(q, q->tx_head) != TP_STATUS_AVAILABLE)
				break;
		}
		h = (void *)(q->tx_map + (size_t)q->tx_head * q->tx_frame_size);
		dst = (uint8_t *)h + AFP_TX_DATA;
		q->tx_first[q->tx_head] = j;
		len = 0;
		for (;;) {
			struct netmap_slot *s = &slot[j];
			bool last = !(s->flags & NS_MOREFRAG);

			memcpy(dst + len, rc->bufs + (size_t)s->buf_idx * rc->buf_size, s->len);
			len += s->len;
			s->flags &= ~NS_BUF_CHANGED;
			j = unm_ring_next(j, n);
			if (last)
				break;
		}
		if (len < AFP_MIN_FRAME) {
			memset(dst + len, 0, AFP_MIN_FRAME - len);	/* a runt: pad, as a NIC does */
			len = AFP_MIN_FRAME;
		}
		h->tp_len = len;
		/* Synchronizes with the kernel's acquire of the status in tpacket_snd(). */
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		q->tx_head = nxt;
		queued++;
	}
	kr->hwcur = j;
	if (queued || q->tx_tail != q->tx_head)
		afp_tx_kick(q, rc);
	afp_tx_reap(q);
	/* the slots of frames still in the TX ring are the kernel's */
	first = q->tx_tail != q->tx_head ? q->tx_first[q->tx_tail] : j;
	/* Synchronizes with the acquire in unm_sync_finalize(). */
	__atomic_store_n(&kr->hwtail, first ? first - 1 : n - 1, __ATOMIC_RELEASE);
	return err;
}

static inline struct tpacket_block_desc *rx_block(const struct afp_queue *q, uint32_t b)
{
	return (struct tpacket_block_desc *)(q->rx_map + (size_t)b * AFP_RX_BLOCK);
}

/* Hand the current block back to the kernel and move to the next one. */
static inline void rx_block_done(struct afp_queue *q)
{
	/* Synchronizes with the kernel's read of block_status when it opens the block. */
	__atomic_store_n(&rx_block(q, q->rx_blk)->hdr.bh1.block_status, TP_STATUS_KERNEL,
			 __ATOMIC_RELEASE);
	q->rx_blk = q->rx_blk + 1 == q->rx_nblocks ? 0 : q->rx_blk + 1;
	q->rx_left = 0;
	q->rx_pkt = NULL;
}

/*
 * Copy one tpacket frame into slot s. Returns 1 if the slot got it, 0 if
 * the frame is not for the ring (ours going out, too long: counted).
 */
static inline int rx_frame(struct afp_queue *q, const struct unm_ring_ctx *rc,
			   const struct tpacket3_hdr *t, struct netmap_slot *s)
{
	const struct sockaddr_ll *sll =
		(const void *)((const uint8_t *)t + TPACKET_ALIGN(sizeof(*t)));
	const uint8_t *src = (const uint8_t *)t + t->tp_mac;
	bool vlan = t->tp_status & TP_STATUS_VLAN_VALID;
	uint32_t len = t->tp_snaplen + (vlan ? 4 : 0);
	uint8_t *dst;

	if (unlikely(sll->sll_pkttype == PACKET_OUTGOING))
		return 0;
	if (unlikely(t->tp_snaplen < t->tp_len)) {
		q->rx_cut++;
		return 0;
	}
	if (unlikely(len > rc->buf_size || (vlan && t->tp_snaplen < 2 * ETH_ALEN))) {
		q->rx_oversize++;
		return 0;
	}
	/* a kernel-owned slot: the program may have scribbled on it */
	if (unlikely(s->buf_idx < 2 || s->buf_idx >= rc->nbufs))
		unm_slot_repair((struct unm_ring_ctx *)rc, s);
	dst = (uint8_t *)rc->bufs + (size_t)s->buf_idx * rc->buf_size;
	if (!vlan) {
		memcpy(dst, src, len);
	} else {
		/* the device took the tag out: put it back after the addresses */
		uint16_t tpid = (t->tp_status & TP_STATUS_VLAN_TPID_VALID) &&
				t->hv1.tp_vlan_tpid ? t->hv1.tp_vlan_tpid : ETH_P_8021Q;
		uint16_t be[2] = { htons(tpid), htons(t->hv1.tp_vlan_tci) };

		memcpy(dst, src, 2 * ETH_ALEN);
		memcpy(dst + 2 * ETH_ALEN, be, 4);
		memcpy(dst + 2 * ETH_ALEN + 4, src + 2 * ETH_ALEN, t->tp_snaplen - 2 * ETH_ALEN);
	}
	s->len = len;
	s->flags = 0;
	return 1;
}

static int afp_rxsync(struct unm_ring_ctx *rc)
{
	struct afp_queue *q = afp_queue(rc);
	struct unm_kring *kr = rc->kr;
	struct netmap_ring *ring = rc->ring;
	struct netmap_slot *slot = ring->slot;
	uint32_t n = kr->num_slots, head = kr->rhead, j, tail, room;
	const struct tpacket3_hdr *last = NULL;
	int err = 0;

	if (unlikely(!q || q->rx_fd < 0))
		return -ENXIO;
	/* released slots: their buffers are written into later, check them now */
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
	/* the kernel's slots are [hwtail, hwcur - 1): one stays empty */
	tail = kr->hwtail;
	room = head > tail ? head - tail - 1 : head + n - tail - 1;
	while (room) {
		struct tpacket3_hdr *t;

		if (!q->rx_left) {
			struct tpacket_block_desc *b = rx_block(q, q->rx_blk);

			/* Synchronizes with the kernel's release when it retires the block. */
			if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
			      TP_STATUS_USER))
				break;
			q->rx_left = b->hdr.bh1.num_pkts;
			q->rx_pkt = (void *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
			if (!q->rx_left) {
				rx_block_done(q);
				continue;
			}
		}
		t = q->rx_pkt;
		if (rx_frame(q, rc, t, &slot[tail])) {
			last = t;
			tail = unm_ring_next(tail, n);
			room--;
		}
		if (--q->rx_left)
			q->rx_pkt = (void *)((uint8_t *)t + t->tp_next_offset);
		else
			rx_block_done(q);
	}
	if (last) {
		ring->ts.tv_sec = last->tp_sec;
		ring->ts.tv_usec = last->tp_nsec / 1000;
		/* Synchronizes with the acquire in unm_sync_finalize(). */
		__atomic_store_n(&kr->hwtail, tail, __ATOMIC_RELEASE);
	}
	return err;
}

/* ---- set-up and teardown (control path, under the control mutex) ---------- */

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t r = 1;

	while (r < v)
		r <<= 1;
	return r;
}

static void afp_stats_log(struct afp_port *p)
{
	struct tpacket_stats_v3 st;
	socklen_t len;
	unsigned i;

	for (i = 0; i < p->nq; i++) {
		struct afp_queue *q = &p->q[i];

		memset(&st, 0, sizeof(st));
		len = sizeof(st);
		if (q->rx_fd >= 0)
			getsockopt(q->rx_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len);
		if (st.tp_drops || q->rx_oversize || q->rx_cut || q->tx_dropped)
			unm_log(UNM_LOG_INFO, "%s queue %u: emulated mode: rx_ring_full %u (drops since the last look) rx_oversize %llu (longer than a buffer) rx_cut %llu tx_dropped %llu (over the MTU)",
				p->ifname, i, st.tp_drops, (unsigned long long)q->rx_oversize,
				(unsigned long long)q->rx_cut, (unsigned long long)q->tx_dropped);
	}
}

/* Let the frames still in the TX rings leave before the sockets close. */
static void afp_tx_drain(struct afp_port *p)
{
	struct timespec ts = { 0, 1000000 };
	unsigned i, ms;

	for (ms = 0; ms < AFP_DRAIN_MS; ms++) {
		bool busy = false;

		for (i = 0; i < p->nq; i++) {
			struct afp_queue *q = &p->q[i];

			if (q->tx_fd < 0 || !q->tx_map)
				continue;
			afp_tx_reap(q);
			if (q->tx_tail != q->tx_head) {
				busy = true;
				send(q->tx_fd, NULL, 0, MSG_DONTWAIT);
			}
		}
		if (!busy)
			return;
		nanosleep(&ts, NULL);
	}
	unm_log(UNM_LOG_WARN, "%s: emulated mode: TX frames still queued after %u ms, dropped at close",
		p->ifname, AFP_DRAIN_MS);
}

static void afp_port_free(struct afp_port *p)
{
	unsigned i;

	afp_tx_drain(p);
	afp_stats_log(p);
	if (p->tc_link_fd >= 0)
		close(p->tc_link_fd);
	if (p->tc_prog_fd >= 0)
		close(p->tc_prog_fd);
	for (i = 0; i < p->nq; i++) {
		struct afp_queue *q = &p->q[i];

		if (q->rx_map)
			munmap(q->rx_map, q->rx_map_len);
		if (q->tx_map)
			munmap(q->tx_map, q->tx_map_len);
		if (q->rx_fd >= 0)
			close(q->rx_fd);
		if (q->tx_fd >= 0)
			close(q->tx_fd);
		free(q->tx_first);
	}
	free(p);
}

static int packet_socket(const struct afp_port *p, int version)
{
	/* protocol 0: nothing is queued on it before bind() names the interface */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) < 0) {
		int err = -errno;

		unm_log(UNM_LOG_ERR, "%s: AF_PACKET TPACKET_V%d: %s", p->ifname, version + 1,
			strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

static int packet_bind(const struct afp_port *p, int fd, uint16_t proto)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(proto),
		.sll_ifindex = p->ifindex,
	};

	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	return 0;
}

/*
 * The host rings' injected frames (host TX, lib/ports/host.c) enter IF's
 * receive path carrying UNM_HOST_MARK: they are for the stack, not for the
 * NIC RX ring (that would loop them back to the program).
 */
/* Maps a packet socket's RX or TX ring of len bytes; *map stays NULL on failure. */
static int afp_ring_map(const struct afp_port *p, unsigned qi, int fd, size_t len,
			const char *dir, uint8_t **map)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (m == MAP_FAILED) {
		int err = -errno;

		unm_log(UNM_LOG_ERR, "%s queue %u: mmap of the AF_PACKET %s ring: %s",
			p->ifname, qi, dir, strerror(-err));
		return err;
	}
	*map = m;
	return 0;
}

static int afp_rx_filter(const struct afp_port *p, unsigned qi, int fd)
{
	static struct sock_filter skip_host[] = {
		{ BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_MARK },
		{ BPF_JMP | BPF_JEQ | BPF_K, 0, 1, UNM_HOST_MARK },
		{ BPF_RET | BPF_K, 0, 0, 0 },
		{ BPF_RET | BPF_K, 0, 0, 0xffffffffu },
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(skip_host), .filter = skip_host };
	int err;

	if (!setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		return 0;
	err = -errno;
	unm_log(UNM_LOG_ERR, "%s queue %u: AF_PACKET filter (host rings' frames): %s",
		p->ifname, qi, strerror(-err));
	return err;
}

static int afp_rx_open(struct afp_port *p, unsigned qi, uint32_t nslots, uint16_t *fanout_id)
{
	struct afp_queue *q = &p->q[qi];
	struct tpacket_req3 req;
	uint32_t nb, one = 1;
	int fd, err, arg;
	socklen_t len;

	fd = packet_socket(p, TPACKET_V3);
	if (fd < 0)
		return fd;
	q->rx_fd = fd;
	err = afp_rx_filter(p, qi, fd);
	if (err)
		return err;
	/* room for twice the netmap ring of full-size frames, at least 8 blocks */
	nb = (uint32_t)(((uint64_t)2 * nslots * AFP_RX_FRAME + AFP_RX_BLOCK - 1) / AFP_RX_BLOCK);
	if (nb < 8)
		nb = 8;
	memset(&req, 0, sizeof(req));
	req.tp_block_size = AFP_RX_BLOCK;
	req.tp_block_nr = nb;
	req.tp_frame_size = AFP_RX_FRAME;
	req.tp_frame_nr = AFP_RX_BLOCK / AFP_RX_FRAME * nb;
	req.tp_retire_blk_tov = AFP_RX_TOV_MS;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
		err = -errno;
		unm_log(UNM_LOG_ERR, "%s queue %u: AF_PACKET RX ring (%u x %u bytes): %s",
			p->ifname, qi, nb, AFP_RX_BLOCK, strerror(-err));
		return err;
	}
	q->rx_map_len = (size_t)nb * AFP_RX_BLOCK;
	err = afp_ring_map(p, qi, fd, q->rx_map_len, "RX", &q->rx_map);
	if (err)
		return err;
	q->rx_nblocks = nb;
	/* our own TX must not come back on RX (kernel 4.20; else filtered by pkttype) */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	err = packet_bind(p, fd, ETH_P_ALL);
	if (err) {
		unm_log(UNM_LOG_ERR, "%s queue %u: AF_PACKET bind: %s", p->ifname, qi,
			strerror(-err));
		return err;
	}
	if (p->nrx < 2)
		return 0;
	/* several RX rings: one fanout group spreading by the recorded queue */
	arg = qi == 0 ? (PACKET_FANOUT_QM | PACKET_FANOUT_FLAG_UNIQUEID) << 16 :
			(PACKET_FANOUT_QM << 16) | *fanout_id;
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0) {
		err = -errno;
		unm_log(UNM_LOG_ERR, "%s queue %u: AF_PACKET fanout (queue mapping): %s",
			p->ifname, qi, strerror(-err));
		return err;
	}
	if (qi == 0) {
		len = sizeof(arg);
		if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, &len) < 0) {
			err = -errno;
			unm_log(UNM_LOG_ERR, "%s: AF_PACKET fanout id: %s", p->ifname,
				strerror(-err));
			return err;
		}
		*fanout_id = (uint16_t)(arg & 0xffff);
	}
	return 0;
}

static int afp_tx_open(struct afp_port *p, unsigned qi, uint32_t nslots, uint32_t buf_size)
{
	struct afp_queue *q = &p->q[qi];
	struct tpacket_req req;
	uint32_t per_block, nb, one = 1;
	int fd, err;

	fd = packet_socket(p, TPACKET_V2);
	if (fd < 0)
		return fd;
	q->tx_fd = fd;
	/* straight to the driver, as a netmap TX ring; drop malformed frames */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
		unm_log(UNM_LOG_DEBUG, "%s queue %u: PACKET_QDISC_BYPASS: %s (through the qdisc)",
			p->ifname, qi, strerror(errno));
	setsockopt(fd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one));
	q->tx_frame_size = pow2_at_least(AFP_TX_DATA + buf_size);
	if (q->tx_frame_size < 2048)
		q->tx_frame_size = 2048;
	per_block = q->tx_frame_size >= 65536 ? 1 : 65536 / q->tx_frame_size;
	nb = (nslots + per_block - 1) / per_block;
	memset(&req, 0, sizeof(req));
	req.tp_block_size = per_block * q->tx_frame_size;
	req.tp_block_nr = nb;
	req.tp_frame_size = q->tx_frame_size;
	req.tp_frame_nr = nb * per_block;
	if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0) {
		err = -errno;
		unm_log(UNM_LOG_ERR, "%s queue %u: AF_PACKET TX ring (%u x %u bytes): %s",
			p->ifname, qi, req.tp_frame_nr, q->tx_frame_size, strerror(-err));
		return err;
	}
	q->tx_nframes = req.tp_frame_nr;
	q->tx_first = calloc(q->tx_nframes, sizeof(*q->tx_first));
	if (!q->tx_first)
		return -ENOMEM;
	q->tx_map_len = (size_t)req.tp_block_size * nb;
	err = afp_ring_map(p, qi, fd, q->tx_map_len, "TX", &q->tx_map);
	if (err)
		return err;
	/* protocol 0: this socket only sends */
	err = packet_bind(p, fd, 0);
	if (err)
		unm_log(UNM_LOG_ERR, "%s queue %u: AF_PACKET bind: %s", p->ifname, qi,
			strerror(-err));
	return err;
}

static int afp_promisc(struct afp_port *p)
{
	struct packet_mreq mr = { .mr_ifindex = p->ifindex, .mr_type = PACKET_MR_PROMISC };
	int fd = p->nrx ? p->q[0].rx_fd : p->q[0].tx_fd;

	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		return -errno;
	p->promisc_fd = fd;
	return 0;
}

/*
 * Keep the host stack off the NIC's traffic: TC_ACT_SHOT on the tcx
 * ingress hook, by a bpf_link (detached when the process goes), first in
 * the chain. Frames the host rings inject (skb->mark UNM_HOST_MARK, see
 * host.c) go on (TCX_NEXT) to host.c's program, which unmarks them for the
 * stack. Best effort: without it the port works, and the stack sees the
 * frames too.
 */
static void afp_stack_off(struct afp_port *p)
{
	static const struct bpf_insn drop[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_0, .src_reg = BPF_REG_1,
		  .off = offsetof(struct __sk_buff, mark) },
		{ .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = BPF_REG_0, .off = 2,
		  .imm = UNM_HOST_MARK },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_UNSPEC },
		{ .code = BPF_JMP | BPF_EXIT },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_SHOT },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_link_create_opts, first, .flags = AFP_F_BEFORE);
	const char *what = "load";
	int err;

	p->tc_prog_fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "unm_stack_off", "GPL",
				      drop, ARRAY_SIZE(drop), NULL);
	if (p->tc_prog_fd >= 0) {
		what = "tcx ingress link";
		p->tc_link_fd = bpf_link_create(p->tc_prog_fd, p->ifindex, AFP_TCX_INGRESS, &first);
		if (p->tc_link_fd >= 0)
			return;
	}
	err = errno;
	unm_log(UNM_LOG_ERR, "%s: emulated mode: cannot keep the host stack off the interface (%s: %s): the stack sees its traffic too",
		p->ifname, what, strerror(err));
	if (p->tc_prog_fd >= 0)
		close(p->tc_prog_fd);
	p->tc_prog_fd = p->tc_link_fd = -1;
}

static int if_mtu(const char *ifname, uint32_t *mtu)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strnlen(ifname, sizeof(ifr.ifr_name) - 1));
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		err = errno == ENODEV ? -ENXIO : -errno;
	else
		*mtu = ifr.ifr_mtu;
	close(fd);
	return err;
}

static int afp_attach(uint16_t pidx)
{
	struct unm_kport *port = &unm_k->ports[pidx];
	struct unm_memreg *m = &unm_k->mems[port->mem];
	struct afp_port *p;
	uint16_t fanout_id = 0;
	unsigned i, nq;
	int err;

	if (afp_ports[pidx]) {
		if (port->owner_pid == unm_pid)
			return 0;
		/* state left from a port this slot held before */
		afp_port_free(afp_ports[pidx]);
		afp_ports[pidx] = NULL;
	}
	if (port->owner_pid && port->owner_pid != unm_pid) {
		unm_log(UNM_LOG_ERR, "%s: NIC port already open in process %d (emulated mode: one process per interface)",
			port->name, port->owner_pid);
		return -EBUSY;
	}
	nq = port->nrings[0][UNM_TX] > port->nrings[0][UNM_RX] ?
	     port->nrings[0][UNM_TX] : port->nrings[0][UNM_RX];
	p = calloc(1, sizeof(*p) + nq * sizeof(p->q[0]));
	if (!p)
		return -ENOMEM;
	p->pidx = pidx;
	p->nq = nq;
	p->ntx = port->nrings[0][UNM_TX];
	p->nrx = port->nrings[0][UNM_RX];
	p->promisc_fd = p->tc_prog_fd = p->tc_link_fd = -1;
	for (i = 0; i < nq; i++)
		p->q[i].rx_fd = p->q[i].tx_fd = -1;
	memcpy(p->ifname, port->name, strnlen(port->name, sizeof(p->ifname) - 1));
	p->ifindex = if_nametoindex(p->ifname);
	err = p->ifindex ? if_mtu(p->ifname, &p->mtu) : -ENXIO;
	if (err) {
		unm_log(UNM_LOG_ERR, "%s: %s", p->ifname,
			err == -ENXIO ? "no such interface" : strerror(-err));
		goto out_free;
	}
	for (i = 0; i < p->nrx; i++) {
		err = afp_rx_open(p, i, port->nslots[0][UNM_RX], &fanout_id);
		if (err)
			goto out_free;
	}
	for (i = 0; i < p->ntx; i++) {
		err = afp_tx_open(p, i, port->nslots[0][UNM_TX], m->p.buf_size);
		if (err)
			goto out_free;
	}
	err = afp_promisc(p);
	if (err) {
		unm_log(UNM_LOG_ERR, "%s: promiscuous mode (packet socket membership): %s",
			p->ifname, strerror(-err));
		goto out_free;
	}
	afp_stack_off(p);
	port->owner_pid = unm_pid;
	port->hwflags = UNM_HW_EMULATED;
	afp_ports[pidx] = p;
	unm_log(UNM_LOG_INFO, "%s: emulated (generic) mode over AF_PACKET, %u TX / %u RX queues%s, copies to mem %u buffers (%u x %u), host stack %s",
		p->ifname, p->ntx, p->nrx, p->nrx > 1 ? " (RX fanout by queue)" : "",
		m->id, m->p.buf_num, m->p.buf_size,
		p->tc_link_fd >= 0 ? "kept off (tcx ingress drop)" : "STILL SEES the traffic");
	return 0;

out_free:
	afp_port_free(p);
	return err;
}

static void afp_destroy(uint16_t pidx, char *base)
{
	struct afp_port *p = afp_ports[pidx];

	(void)base;	/* copies only: the rings' buffers never left the slots */
	if (!p)
		return;
	afp_ports[pidx] = NULL;
	afp_port_free(p);
}

/* An fd of ours bound rings of the port: RX sockets wake its poll(). */
static int afp_bind(struct unm_priv_local *pl, uint16_t pidx)
{
	struct afp_port *p = afp_ports[pidx];
	struct unm_kpriv *kp = &unm_k->privs[pl->slot];
	unsigned i;
	int err;

	if (!p)
		return -ENXIO;
	for (i = kp->qfirst[UNM_RX]; i < kp->qlast[UNM_RX] && i < p->nrx; i++) {
		err = unm_priv_watch(pl, p->q[i].rx_fd);
		if (err)
			return err;
	}
	/* TX completions do not wake a sleeper: poll naps while TX is wanted */
	pl->hw_nap = kp->qlast[UNM_TX] > kp->qfirst[UNM_TX];
	pl->no_spin = true;
	return 0;
}

/*
 * Not in the registry's parse table: NIC names belong to afxdp.c, and the
 * registry hands a NIC port to this adapter by its admode (registry.c).
 */
const struct unm_port_ops unm_afpacket_ops = {
	.name = "afpacket",
	.kind = UNM_PORT_HW,
	.txsync = afp_txsync,
	.rxsync = afp_rxsync,
	.attach = afp_attach,
	.bind = afp_bind,
	.destroy = afp_destroy,
};
