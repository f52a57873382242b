// SPDX-License-Identifier: BSD-2-Clause
/*
 * vale.c - VALE switch ports: `valeS:P`, a learning L2 switch between the
 * ports of switch `valeS`, as netmap(4)'s VALE.
 *
 * The switch and its ports live in the shared kernel object (struct
 * unm_vale_switch in unm_k->vale[]), so ports of one switch opened by
 * different processes see each other. A switch is created with its first
 * port and goes with its last; a port is created at its first register and
 * goes when its last fd closes (or its last holder dies: the reaper's
 * release ends in vale_destroy()).
 *
 * Forwarding happens in the sender's txsync, in the sender's process:
 *
 *   TX ring of P [hwcur, head)
 *     gather: validate each slot, group NS_MOREFRAG chains into frames,
 *             learn the source MAC (-> P), look up the destination MAC
 *     flush:  per destination port D (unicast to D, or broadcast/unknown to
 *             every port but P): lock D's RX ring, copy the frames that fit
 *             into the slots [hwtail, hwcur - 1) the kernel owns, publish
 *             hwtail, unlock, wake D's sleeper
 *   TX hwcur = head, TX hwtail = head - 1: the sender's slots are free at once
 *
 * A frame goes to RX ring (TX ring id % D's RX rings); broadcast and unknown
 * destinations to RX ring 0, as upstream. A frame the destination has no room
 * for is dropped and counted, as are frames too long for its buffers.
 *
 * LOCKING. Switch membership changes under the control mutex (unm_lock).
 * Each destination RX ring has a robust, process-shared mutex in the switch
 * (unm_vale_rxq.lock): senders, possibly in several processes, hold it from
 * reading the ring's hwtail to publishing it. The receiver's rxsync takes no
 * lock: it only publishes hwcur (release), which senders read with acquire,
 * as a pipe's. A port leaves its switch (vale_destroy, under the control
 * mutex) by taking the locks of all its RX rings, clearing its slot and
 * bumping the slot's gen; a sender checks, under the ring lock, that the
 * slot still names the port it looked up, so it never writes into rings of
 * a port being torn down. The locks are in the switch, initialised with it,
 * never while a sender could be waiting on them (a switch has no senders
 * once its last port is gone). A sender killed inside the lock leaves it
 * EOWNERDEAD: the next locker marks it consistent; nothing needs undoing,
 * since the slots it filled past hwtail were never published.
 *
 * The MAC table is upstream's: 1024 entries, one per hash bucket, written
 * by senders without a lock (one 64-bit store: MAC, the port's slot and the
 * slot's gen, so an entry of a port that left is recognised and ignored).
 *
 * Destination buffers may be in another region (a port opened with @N): the
 * sender maps it once (vale_region) before taking any ring lock.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/unm.h"

#define VALE_BATCH	512	/* frames gathered before the copies */
#define VALE_MAXFRAGS	64	/* NM_MULTISEG: longer chains are dropped */
#define VALE_FRAGS	1024	/* slots gathered before the copies */
#define VALE_NIL	0xffff	/* end of a frame list (above any frame index) */
#define VALE_BCAST	0xfffe	/* flood: every port but the sender */
#define VALE_NONE	0xfffd	/* no destination (to the sender itself) */
#define VALE_ETH_HLEN	14	/* shorter frames are dropped, as upstream */
#define VALE_PREFETCH	32	/* destination slots prefetched ahead */

/* ---- names and geometry ---------------------------------------------------- */

static bool vale_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/*
 * "vale" + switch name (letters, digits, '_'; may be empty) + ':' + port
 * name (letters, digits, '_'). The whole name is the port's key.
 */
static int vale_parse(const char *name, uint32_t mode, uint32_t ringid,
		      struct unm_portspec *spec)
{
	size_t plen = strlen(NM_BDG_NAME), len = strlen(name);
	const char *colon, *p;

	(void)mode;
	(void)ringid;
	if (strncmp(name, NM_BDG_NAME, plen))
		return -ENOENT;
	colon = strchr(name, ':');
	if (!colon) {
		unm_log(UNM_LOG_ERR, "%s: VALE port name needs ':' between switch and port (valeSW:PORT)",
			name);
		return -EINVAL;
	}
	for (p = name + plen; p < colon; p++) {
		if (!vale_id_char(*p)) {
			unm_log(UNM_LOG_ERR, "%s: bad character '%c' in switch name '%.*s' (letters, digits, '_')",
				name, *p, (int)(colon - name), name);
			return -EINVAL;
		}
	}
	if (!colon[1]) {
		unm_log(UNM_LOG_ERR, "%s: port name missing after ':'", name);
		return -EINVAL;
	}
	for (p = colon + 1; *p; p++) {
		/* a trailing '^': the host-rings port of an attached NIC (vale-ctl -h) */
		if (*p == '^' && !p[1] && p > colon + 1)
			continue;
		if (!vale_id_char(*p)) {
			unm_log(UNM_LOG_ERR, "%s: bad character '%c' in port name '%s' (letters, digits, '_')",
				name, *p, colon + 1);
			return -EINVAL;
		}
	}
	if (len >= sizeof(spec->base)) {
		unm_log(UNM_LOG_ERR, "%s: name too long (%zu characters, at most %zu)", name, len,
			sizeof(spec->base) - 1);
		return -EINVAL;
	}
	spec->kind = UNM_PORT_VALE;
	memcpy(spec->base, name, len + 1);
	spec->id = 0;
	spec->end = 0;
	return 0;
}

/* upstream's bounds (nm_bound_var): 0 = default, above the limit = the limit */
static uint32_t vale_bound(const char *name, const char *what, uint32_t v, uint32_t def,
			   uint32_t lo, uint32_t hi)
{
	if (!v)
		return def;
	if (v < lo || v > hi) {
		unm_log(UNM_LOG_WARN, "%s: %u %s asked, VALE ports take %u..%u: %u", name, v, what,
			lo, hi, v < lo ? lo : hi);
		return v < lo ? lo : hi;
	}
	return v;
}

static int vale_geometry(const struct unm_portspec *spec, const struct nmreq_register *req,
			 uint16_t nrings[2], uint32_t nslots[2])
{
	nrings[UNM_TX] = vale_bound(spec->base, "TX rings", req ? req->nr_tx_rings : 0, 1, 1,
				    UNM_VALE_RINGS);
	nrings[UNM_RX] = vale_bound(spec->base, "RX rings", req ? req->nr_rx_rings : 0, 1, 1,
				    UNM_VALE_RINGS);
	nslots[UNM_TX] = vale_bound(spec->base, "TX slots", req ? req->nr_tx_slots : 0,
				    UNM_VALE_DEF_SLOTS, 4, UNM_MAX_SLOTS);
	nslots[UNM_RX] = vale_bound(spec->base, "RX slots", req ? req->nr_rx_slots : 0,
				    UNM_VALE_DEF_SLOTS, 4, UNM_MAX_SLOTS);
	return 0;
}

/* ---- switch membership (locked) -------------------------------------------- */

/* a sender that died copying into a ring published nothing past hwtail */
static int vale_rxq_lock(struct unm_vale_rxq *q)
{
	return unm_mutex_lock_robust(&q->lock);
}

static void vale_switch_init(struct unm_vale_switch *sw, const char *name, size_t len)
{
	unsigned s, r;

	for (s = 0; s < UNM_VALE_PORTS; s++) {
		struct unm_vale_port *vp = &sw->ports[s];

		vp->pidx = 0;
		vp->txskip = 0;
		for (r = 0; r < UNM_VALE_RINGS; r++)
			unm_mutex_init_robust(&vp->rxq[r].lock);
	}
	memset(sw->ht, 0, sizeof(sw->ht));
	memset(sw->active, 0, sizeof(sw->active));
	sw->nports = 0;
	memset(sw->name, 0, sizeof(sw->name));
	memcpy(sw->name, name, len);
}

/* Port pidx joins switch `swname` (len bytes), which is created if needed. */
static int vale_join(uint16_t pidx, const char *swname, size_t len)
{
	struct unm_kport *port = &unm_k->ports[pidx];
	struct unm_vale_switch *sw = NULL;
	struct unm_vale_port *vp;
	int i, free_sw = -1;
	unsigned s, r;

	for (i = 0; i < UNM_VALE_SWITCHES; i++) {
		struct unm_vale_switch *x = &unm_k->vale[i];

		if (!x->name[0]) {
			if (free_sw < 0)
				free_sw = i;
		} else if (strlen(x->name) == len && !strncmp(x->name, swname, len)) {
			sw = x;
			break;
		}
	}
	if (!sw) {
		if (free_sw < 0) {
			unm_log(UNM_LOG_ERR, "%s: too many VALE switches (at most %d)", port->name,
				UNM_VALE_SWITCHES);
			return -ENOMEM;
		}
		i = free_sw;
		sw = &unm_k->vale[i];
		vale_switch_init(sw, swname, len);
	}
	if (sw->nports >= UNM_VALE_PORTS) {
		unm_log(UNM_LOG_ERR, "%s: switch %s is full (%d ports)", port->name, sw->name,
			UNM_VALE_PORTS);
		return -ENOMEM;
	}
	for (s = 0; s < UNM_VALE_PORTS; s++)
		if (!sw->ports[s].pidx)
			break;
	vp = &sw->ports[s];
	vp->txskip = 0;
	__atomic_store_n(&vp->tx_frames, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vp->tx_drops, 0, __ATOMIC_RELAXED);
	for (r = 0; r < UNM_VALE_RINGS; r++) {
		__atomic_store_n(&vp->rxq[r].frames, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&vp->rxq[r].drops, 0, __ATOMIC_RELAXED);
	}
	port->vale_sw = i + 1;
	port->vale_slot = s;
	sw->nports++;
	/* Synchronizes with the acquire loads in vale_flush() / vale_deliver(). */
	__atomic_store_n(&vp->pidx, pidx + 1, __ATOMIC_RELEASE);
	__atomic_fetch_or(&sw->active[s / 64], 1ULL << (s % 64), __ATOMIC_RELEASE);
	return 0;
}

/*
 * The port just created joins its switch. A persistent port (VALE_NEWIF:
 * a name without ':') starts in no switch; VALE_ATTACH puts it in one.
 */
static int vale_create(uint16_t pidx)
{
	struct unm_kport *port = &unm_k->ports[pidx];
	const char *colon = strchr(port->name, ':');

	if (!colon)
		return 0;
	return vale_join(pidx, port->name, (size_t)(colon - port->name));
}

/* The port leaves its switch (the last port takes the switch along). */
static void vale_leave(uint16_t pidx)
{
	struct unm_kport *port = &unm_k->ports[pidx];
	struct unm_vale_switch *sw;
	struct unm_vale_port *vp;
	unsigned s = port->vale_slot, r, h, nrx = port->nrings[0][UNM_RX];
	int locked[UNM_VALE_RINGS];

	if (!port->vale_sw || port->vale_sw > UNM_VALE_SWITCHES || s >= UNM_VALE_PORTS)
		return;
	sw = &unm_k->vale[port->vale_sw - 1];
	vp = &sw->ports[s];
	if (nrx > UNM_VALE_RINGS)
		nrx = UNM_VALE_RINGS;
	/* wait for senders copying into our rings; later ones see the new gen */
	for (r = 0; r < nrx; r++)
		locked[r] = !vale_rxq_lock(&vp->rxq[r]);
	__atomic_fetch_and(&sw->active[s / 64], ~(1ULL << (s % 64)), __ATOMIC_RELEASE);
	__atomic_store_n(&vp->pidx, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&vp->gen, (uint16_t)(vp->gen + 1), __ATOMIC_RELEASE);
	for (r = 0; r < nrx; r++)
		if (locked[r])
			pthread_mutex_unlock(&vp->rxq[r].lock);
	/* our MAC entries (the gen already makes them stale) */
	for (h = 0; h < UNM_VALE_HASH; h++) {
		uint64_t e = __atomic_load_n(&sw->ht[h], __ATOMIC_RELAXED);

		if ((e & 0xff) == s + 1)
			__atomic_compare_exchange_n(&sw->ht[h], &e, 0, false, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED);
	}
	port->vale_sw = 0;
	if (sw->nports)
		sw->nports--;
	if (!sw->nports)
		sw->name[0] = '\0';
}

static void vale_destroy(uint16_t pidx, char *base)
{
	(void)base;
	vale_leave(pidx);
}

int unm_vale_stats(const char *name, struct unm_vale_stats *st)
{
	int err, i;
	unsigned r;

	memset(st, 0, sizeof(*st));
	err = unm_kernel_attach();
	if (err)
		return err;
	err = unm_lock();
	if (err)
		return err;
	err = -ENOENT;
	for (i = 0; i < UNM_MAX_PORTS; i++) {
		struct unm_kport *port = &unm_k->ports[i];
		struct unm_vale_port *vp;

		if (port->kind != UNM_PORT_VALE || strcmp(port->name, name) || !port->vale_sw)
			continue;
		vp = &unm_k->vale[port->vale_sw - 1].ports[port->vale_slot];
		st->tx_frames = __atomic_load_n(&vp->tx_frames, __ATOMIC_RELAXED);
		st->tx_drops = __atomic_load_n(&vp->tx_drops, __ATOMIC_RELAXED);
		for (r = 0; r < port->nrings[0][UNM_RX] && r < UNM_VALE_RINGS; r++) {
			st->rx_frames += __atomic_load_n(&vp->rxq[r].frames, __ATOMIC_RELAXED);
			st->rx_drops += __atomic_load_n(&vp->rxq[r].drops, __ATOMIC_RELAXED);
		}
		err = 0;
		break;
	}
	unm_unlock();
	return err;
}

/* ---- other regions, mapped in this process ---------------------------------- */

/*
 * A destination port's region as this process maps it, by region slot: kept
 * until the region is replaced (another gen). An extmem region of another
 * process cannot be mapped: frames to its ports are dropped.
 */
static struct {
	uint16_t id, gen;
	bool bad;
	char *base;
	struct unm_mem_local *ml;
} vale_maps[UNM_MAX_MEMS];

static char *vale_region_slow(uint16_t m, const char *who)
{
	struct unm_memreg *mr = &unm_k->mems[m];
	char *base = NULL;

	if (unm_lock())
		return NULL;
	if (vale_maps[m].id == mr->id && vale_maps[m].gen == mr->gen &&
	    (vale_maps[m].base || vale_maps[m].bad)) {
		base = vale_maps[m].base;
		goto out;
	}
	if (vale_maps[m].ml)
		unm_mem_unmap(vale_maps[m].ml);
	vale_maps[m].ml = mr->id ? unm_mem_map(m) : NULL;
	vale_maps[m].id = mr->id;
	vale_maps[m].gen = mr->gen;
	vale_maps[m].bad = !vale_maps[m].ml;
	if (vale_maps[m].ml)
		base = vale_maps[m].ml->base;
	else
		unm_log(UNM_LOG_ERR, "%s: cannot map mem %u of a destination port: its frames are dropped",
			who, mr->id);
	__atomic_store_n(&vale_maps[m].base, base, __ATOMIC_RELEASE);
out:
	unm_unlock();
	return base;
}

static inline char *vale_region(const struct unm_ring_ctx *rc, uint16_t m)
{
	struct unm_memreg *mr = &unm_k->mems[m];
	char *base;

	if (likely(m == rc->mem))
		return rc->bufs - mr->buf_ofs;
	base = __atomic_load_n(&vale_maps[m].base, __ATOMIC_ACQUIRE);
	if (likely(base && vale_maps[m].id == mr->id && vale_maps[m].gen == mr->gen))
		return base;
	return vale_region_slow(m, rc->name);
}

/* ---- forwarding ------------------------------------------------------------ */

struct vale_frag {
	uint32_t idx, len;		/* validated copy of the TX slot */
};

struct vale_frame {
	uint16_t frag;			/* first fragment in vale_batch.fg */
	uint16_t nfrags;
	uint16_t dst;			/* port slot, VALE_BCAST */
	uint16_t next;			/* next frame to the same destination */
};

/* One txsync's work area (on the stack: about 12 KiB). */
struct vale_batch {
	struct unm_vale_switch *sw;
	unsigned me;			/* the sender's port slot */
	unsigned nframes, nfrags;
	uint64_t tx_frames, tx_drops;
	uint64_t last_ent;		/* MAC entry learned last (0: none yet) */
	uint16_t bhead, btail;		/* broadcast frames */
	uint64_t want[(UNM_VALE_PORTS + 63) / 64];	/* unicast destinations */
	uint16_t uhead[UNM_VALE_PORTS], utail[UNM_VALE_PORTS];
	struct vale_frame fr[VALE_BATCH];
	struct vale_frag fg[VALE_FRAGS];
};

static inline uint32_t vale_hash(uint64_t mac)
{
	return (uint32_t)((mac * 0x9e3779b97f4a7c15ULL) >> 54);	/* 10 bits */
}

_Static_assert(UNM_VALE_HASH == 1024, "vale_hash() yields 10 bits");
_Static_assert(UNM_VALE_PORTS < 255, "MAC entries hold slot + 1 in 8 bits");

/* Learn the source, find the destination of the frame starting at buf. */
static uint16_t vale_lookup(struct vale_batch *b, const uint8_t *buf)
{
	struct unm_vale_switch *sw = b->sw;
	uint64_t w0, w1, dmac, smac, e;
	unsigned d;

	memcpy(&w0, buf, 8);
	memcpy(&w1, buf + 4, 8);
	dmac = le64toh(w0) & 0xffffffffffffULL;
	smac = le64toh(w1) >> 16;
	if (!(buf[6] & 1)) {
		uint16_t gen = __atomic_load_n(&sw->ports[b->me].gen, __ATOMIC_RELAXED);
		uint64_t ent = smac << 16 | (uint64_t)(gen & 0xff) << 8 | (b->me + 1);
		/* a sender keeps its source address: hash and table once per batch */
		if (ent != b->last_ent) {
			uint32_t h = vale_hash(smac);

			/* a store only when it changes: the line stays shared */
			if (__atomic_load_n(&sw->ht[h], __ATOMIC_RELAXED) != ent)
				__atomic_store_n(&sw->ht[h], ent, __ATOMIC_RELAXED);
			b->last_ent = ent;
		}
	}
	if (buf[0] & 1)
		return VALE_BCAST;
	e = __atomic_load_n(&sw->ht[vale_hash(dmac)], __ATOMIC_RELAXED);
	if ((e >> 16) != dmac || !(e & 0xff))
		return VALE_BCAST;
	d = (e & 0xff) - 1;
	if (d >= UNM_VALE_PORTS ||
	    (__atomic_load_n(&sw->ports[d].gen, __ATOMIC_RELAXED) & 0xff) != ((e >> 8) & 0xff))
		return VALE_BCAST;	/* that port left: unknown again */
	if (d == b->me)
		return VALE_NONE;	/* upstream drops frames back to the sender */
	return d;
}

static int vale_tx_bad_slot(struct unm_ring_ctx *rc, uint32_t j, uint32_t idx, uint32_t len)
{
	rc->kr->err_cnt++;
	unm_log_err(len > rc->buf_size ? UNM_ERR_LEN : UNM_ERR_BUF_IDX,
		    "%s TX%u: slot %u: buf_idx %u len %u invalid (buffers 2..%u, size %u)",
		    rc->name, rc->kr->ring_id, j, idx, len, rc->nbufs - 1, rc->buf_size);
	return -EINVAL;
}

/* Skip the rest of a chain that could not be forwarded, up to head. */
static uint32_t vale_skip_chain(struct unm_ring_ctx *rc, struct unm_vale_port *vp,
				uint32_t j, uint32_t head)
{
	const struct netmap_slot *txs = rc->ring->slot;
	uint32_t n = rc->kr->num_slots;

	while (j != head) {
		uint16_t fl = __atomic_load_n(&txs[j].flags, __ATOMIC_RELAXED);

		j = unm_ring_next(j, n);
		if (!(fl & NS_MOREFRAG)) {
			__atomic_fetch_and(&vp->txskip, (uint16_t)~(1u << rc->kr->ring_id),
					   __ATOMIC_RELAXED);
			break;
		}
	}
	return j;
}

/*
 * Take one frame (a chain of slots) at *jp into the batch. Returns 0 (taken,
 * or dropped; *jp past it), 1 (an incomplete chain at head: it waits for the
 * next sync), or -EINVAL (a bad slot; *jp at the frame's first slot).
 */
static int vale_gather(struct unm_ring_ctx *rc, struct vale_batch *b, uint32_t *jp,
		       uint32_t head)
{
	const struct netmap_slot *txs = rc->ring->slot;
	uint32_t j = *jp, n = rc->kr->num_slots, nb = rc->nbufs - 2, bsize = rc->buf_size;
	struct vale_frag *fg = &b->fg[b->nfrags];
	struct vale_frame *f;
	unsigned cnt = 0;
	uint16_t flags, dst;

	do {
		/* each field once: the program may be writing the slot */
		uint32_t idx = __atomic_load_n(&txs[j].buf_idx, __ATOMIC_RELAXED);
		uint32_t len = __atomic_load_n(&txs[j].len, __ATOMIC_RELAXED);

		flags = __atomic_load_n(&txs[j].flags, __ATOMIC_RELAXED);
		if (unlikely(idx - 2 >= nb || len > bsize))
			return vale_tx_bad_slot(rc, j, idx, len);
		fg[cnt].idx = idx;
		fg[cnt].len = len;
		cnt++;
		j = unm_ring_next(j, n);
	} while ((flags & NS_MOREFRAG) && j != head && cnt < VALE_MAXFRAGS);
	if (unlikely(flags & NS_MOREFRAG)) {
		struct unm_vale_port *vp = &b->sw->ports[b->me];

		if (j == head && cnt < VALE_MAXFRAGS && cnt < n - 1)
			return 1;	/* the rest comes later */
		/* too long to ever go whole: dropped, and the rest of it */
		unm_log_err(UNM_ERR_LEN, "%s TX%u: NS_MOREFRAG chain at slot %u longer than %u slots, dropped",
			    rc->name, rc->kr->ring_id, *jp,
			    cnt < n - 1 ? VALE_MAXFRAGS : n - 2);
		b->tx_drops++;
		__atomic_fetch_or(&vp->txskip, (uint16_t)(1u << rc->kr->ring_id), __ATOMIC_RELAXED);
		*jp = vale_skip_chain(rc, vp, j, head);
		return 0;
	}
	*jp = j;
	if (unlikely(fg[0].len < VALE_ETH_HLEN)) {
		b->tx_drops++;
		return 0;
	}
	b->tx_frames++;
	dst = vale_lookup(b, (const uint8_t *)rc->bufs + (size_t)fg[0].idx * bsize);
	if (dst == VALE_NONE)
		return 0;
	f = &b->fr[b->nframes];
	f->frag = b->nfrags;
	f->nfrags = cnt;
	f->dst = dst;
	f->next = VALE_NIL;
	if (dst == VALE_BCAST) {
		if (b->bhead == VALE_NIL)
			b->bhead = b->nframes;
		else
			b->fr[b->btail].next = b->nframes;
		b->btail = b->nframes;
	} else if (!(b->want[dst / 64] & (1ULL << (dst % 64)))) {
		b->want[dst / 64] |= 1ULL << (dst % 64);
		b->uhead[dst] = b->utail[dst] = b->nframes;
	} else {
		b->fr[b->utail[dst]].next = b->nframes;
		b->utail[dst] = b->nframes;
	}
	b->nframes++;
	b->nfrags += cnt;
	return 0;
}

/*
 * Copy a fragment in whole 64-byte blocks when both buffers have room for
 * the rounded length (cmax: the smaller buffer size), as upstream's
 * pkt_copy: fixed-size moves beat a memcpy of an odd length; the bytes past
 * len stay inside both buffers.
 */
static inline void vale_copy(char *dst, const char *src, uint32_t len, uint32_t cmax)
{
	uint32_t r = (len + 63) & ~63u;

	if (unlikely(r > cmax || r > 1024)) {
		memcpy(dst, src, len);
		return;
	}
	for (; r; r -= 64, dst += 64, src += 64)
		memcpy(dst, src, 64);
}

/*
 * Copy the frames of lists l1 and l2 (merged in sending order) into RX ring
 * r of the port in slot d, which was port dpidx1 - 1 when looked up.
 */
static void vale_deliver(struct unm_ring_ctx *rc, struct vale_batch *b, unsigned d,
			 uint16_t dpidx1, unsigned r, uint16_t l1, uint16_t l2)
{
	struct unm_vale_port *vp = &b->sw->ports[d];
	struct unm_vale_rxq *q = &vp->rxq[r];
	struct unm_kport *dport = &unm_k->ports[dpidx1 - 1];
	const char *sbufs = rc->bufs;
	uint32_t sbs = rc->buf_size, n, t, t0, hc, room, dnb, dbs, cmax, pf;
	uint64_t frames = 0, drops = 0;
	struct netmap_ring *dring;
	struct unm_kring *dkr;
	struct unm_memreg *dm;
	uint16_t m = dport->mem;
	char *base, *dbufs;

	if (m >= UNM_MAX_MEMS)
		return;
	/* before the ring lock: mapping takes the control mutex */
	base = vale_region(rc, m);
	if (unlikely(unm_cpu_prefetchw < 0))
		unm_cpu_probe();
	if (unlikely(!base || vale_rxq_lock(q))) {
		for (; l1 != VALE_NIL; l1 = b->fr[l1].next)
			drops++;
		for (; l2 != VALE_NIL; l2 = b->fr[l2].next)
			drops++;
		__atomic_fetch_add(&q->drops, drops, __ATOMIC_RELAXED);
		return;
	}
	/* the port we looked up, still: it cannot leave while we hold the lock */
	if (__atomic_load_n(&vp->pidx, __ATOMIC_ACQUIRE) != dpidx1 ||
	    r >= dport->nrings[0][UNM_RX] || dport->mem != m) {
		pthread_mutex_unlock(&q->lock);
		return;
	}
	dkr = &unm_k->krings[dport->kring[0][UNM_RX] + r];
	dring = (struct netmap_ring *)(base + dkr->ring_ofs);
	dm = &unm_k->mems[m];
	dbufs = base + dm->buf_ofs;
	dnb = dm->p.buf_num - 2;
	dbs = dm->p.buf_size;
	cmax = dbs < sbs ? dbs : sbs;
	n = dkr->num_slots;
	pf = VALE_PREFETCH < n ? VALE_PREFETCH : 0;
	t = t0 = dkr->hwtail;
	/* Synchronizes with the release of hwcur in vale_rxsync(). */
	hc = __atomic_load_n(&dkr->hwcur, __ATOMIC_ACQUIRE);
	room = hc > t ? hc - 1 - t : hc + n - 1 - t;
	while (l1 != VALE_NIL || l2 != VALE_NIL) {
		const struct vale_frame *f;
		const struct vale_frag *fg;
		unsigned k, cnt;
		uint32_t start;

		if (l1 < l2) {
			f = &b->fr[l1];
			l1 = f->next;
		} else {
			f = &b->fr[l2];
			l2 = f->next;
		}
		fg = &b->fg[f->frag];
		cnt = f->nfrags;
		if (cnt > room) {
			drops++;
			continue;
		}
		for (k = 0; k < cnt && fg[k].len <= dbs; k++)
			;
		if (unlikely(k < cnt)) {
			drops++;	/* longer than the destination's buffers */
			continue;
		}
		start = t;
		{
			/*
			 * The receiver's CPU read these last: ask for the slot
			 * line and a later frame's buffer with intent to write
			 * (a hint, never a fault; the index is checked first).
			 */
			uint32_t a = t + pf < n ? t + pf : t + pf - n;
			uint32_t ai = __atomic_load_n(&dring->slot[a].buf_idx, __ATOMIC_RELAXED);

			unm_prefetch_w(&dring->slot[a]);
			if (likely(ai - 2 < dnb))
				unm_prefetch_w(dbufs + (size_t)ai * dbs);
		}
		for (k = 0; k < cnt; k++) {
			struct netmap_slot *ds = &dring->slot[t];
			/* the receiver may scribble on slots it does not own */
			uint32_t di = __atomic_load_n(&ds->buf_idx, __ATOMIC_RELAXED);

			if (unlikely(di - 2 >= dnb)) {
				/*
				 * Hand the slots over empty, so the ring moves
				 * on: the receiver's rxsync repairs the index
				 * when it releases the slot.
				 */
				for (;;) {
					dring->slot[start].len = 0;
					dring->slot[start].flags = 0;
					if (start == t)
						break;
					start = unm_ring_next(start, n);
				}
				t = unm_ring_next(t, n);
				room -= k + 1;
				drops++;
				break;
			}
			vale_copy(dbufs + (size_t)di * dbs, sbufs + (size_t)fg[k].idx * sbs,
				  fg[k].len, cmax);
			ds->len = fg[k].len;
			ds->flags = (uint16_t)(cnt << NS_PORT_SHIFT) |
				    (k + 1 < cnt ? NS_MOREFRAG : 0);
			t = unm_ring_next(t, n);
		}
		if (k == cnt) {
			room -= cnt;
			frames++;
		}
	}
	if (t != t0)
		/* Synchronizes with the acquire in unm_sync_finalize() (receiver). */
		__atomic_store_n(&dkr->hwtail, t, __ATOMIC_RELEASE);
	__atomic_store_n(&q->frames, q->frames + frames, __ATOMIC_RELAXED);
	__atomic_store_n(&q->drops, q->drops + drops, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&q->lock);
	/* a kring gone meanwhile is zeroed or reused: at worst a spurious wake-up */
	if (t != t0)
		unm_kring_wake(dkr);
}

/* Send the batch: each destination port once, its frames in order. */
static void vale_flush(struct unm_ring_ctx *rc, struct vale_batch *b)
{
	struct unm_vale_switch *sw = b->sw;
	unsigned w;

	for (w = 0; w < ARRAY_SIZE(b->want); w++) {
		uint64_t targets = b->want[w];

		if (b->bhead != VALE_NIL)
			targets |= __atomic_load_n(&sw->active[w], __ATOMIC_ACQUIRE);
		if (w == b->me / 64)
			targets &= ~(1ULL << (b->me % 64));
		while (targets) {
			unsigned d = w * 64 + __builtin_ctzll(targets);
			uint16_t dpidx1 = __atomic_load_n(&sw->ports[d].pidx, __ATOMIC_ACQUIRE);
			uint16_t ul = (b->want[w] & (1ULL << (d % 64))) ? b->uhead[d] : VALE_NIL;
			unsigned nrx, ru;

			targets &= targets - 1;
			if (!dpidx1 || dpidx1 > UNM_MAX_PORTS)
				continue;
			nrx = unm_k->ports[dpidx1 - 1].nrings[0][UNM_RX];
			if (!nrx)
				continue;
			if (nrx > UNM_VALE_RINGS)
				nrx = UNM_VALE_RINGS;
			ru = rc->kr->ring_id % nrx;
			if (ul != VALE_NIL && ru) {
				vale_deliver(rc, b, d, dpidx1, ru, ul, VALE_NIL);
				if (b->bhead != VALE_NIL)
					vale_deliver(rc, b, d, dpidx1, 0, VALE_NIL, b->bhead);
			} else {
				vale_deliver(rc, b, d, dpidx1, 0, ul, b->bhead);
			}
		}
	}
}

static void vale_batch_reset(struct vale_batch *b)
{
	b->nframes = b->nfrags = 0;
	b->last_ent = 0;
	b->bhead = b->btail = VALE_NIL;
	memset(b->want, 0, sizeof(b->want));
}

static int vale_txsync(struct unm_ring_ctx *rc)
{
	struct unm_kring *kr = rc->kr;
	struct unm_kport *port = &unm_k->ports[kr->port];
	uint32_t n = kr->num_slots, head = kr->rhead, j = kr->hwcur;
	struct unm_vale_port *vp;
	struct vale_batch b;
	bool stop = false;
	int err = 0, r;

	if (unlikely(!port->vale_sw || port->vale_sw > UNM_VALE_SWITCHES)) {
		j = head;	/* not in a switch (cannot happen): the frames go nowhere */
		goto done;
	}
	b.sw = &unm_k->vale[port->vale_sw - 1];
	b.me = port->vale_slot;
	b.tx_frames = b.tx_drops = 0;
	vp = &b.sw->ports[b.me];
	if (unlikely(__atomic_load_n(&vp->txskip, __ATOMIC_RELAXED) & (1u << kr->ring_id)))
		j = vale_skip_chain(rc, vp, j, head);
	while (j != head && !stop) {
		vale_batch_reset(&b);
		while (j != head && b.nframes < VALE_BATCH &&
		       b.nfrags + VALE_MAXFRAGS <= VALE_FRAGS) {
			r = vale_gather(rc, &b, &j, head);
			if (r) {
				if (r < 0)
					err = r;
				stop = true;
				break;
			}
		}
		if (b.nframes)
			vale_flush(rc, &b);
	}
	if (b.tx_frames)
		__atomic_fetch_add(&vp->tx_frames, b.tx_frames, __ATOMIC_RELAXED);
	if (b.tx_drops)
		__atomic_fetch_add(&vp->tx_drops, b.tx_drops, __ATOMIC_RELAXED);
done:
	kr->hwcur = j;
	__atomic_store_n(&kr->hwtail, j ? j - 1 : n - 1, __ATOMIC_RELAXED);
	return err;
}

static int vale_rxsync(struct unm_ring_ctx *rc)
{
	if (rc->kr->rhead == rc->kr->hwcur)
		return 0;
	/*
	 * Senders write into released slots next: checked; the release of
	 * hwcur synchronizes with its acquire in vale_deliver().
	 */
	return unm_rx_release(rc);
}

/* ---- control requests: VALE_LIST, VALE_ATTACH/DETACH, POLLING ------------------ */

/*
 * The name a port has in its switch: an ordinary port's own name
 * ("vale0:a"); a persistent one's (named "vi0") is "valeS:vi0" while it is
 * attached to switch S, else just "vi0".
 */
static void vale_fullname(const struct unm_kport *port, char *buf, size_t len)
{
	if (!strchr(port->name, ':') && port->vale_sw && port->vale_sw <= UNM_VALE_SWITCHES)
		snprintf(buf, len, "%s:%s", unm_k->vale[port->vale_sw - 1].name, port->name);
	else
		snprintf(buf, len, "%s", port->name);
}

/* The VALE port named `name` in its switch ("vale0:a"), -ENOENT if none. Locked. */
static int vale_find_locked(const char *name)
{
	char full[NETMAP_REQ_IFNAMSIZ * 2];
	int i;

	for (i = 0; i < UNM_MAX_PORTS; i++) {
		const struct unm_kport *port = &unm_k->ports[i];

		if (port->kind != UNM_PORT_VALE)
			continue;
		vale_fullname(port, full, sizeof(full));
		if (!strcmp(full, name))
			return i;
	}
	return -ENOENT;
}

int unm_vale_persist_find_locked(const char *name, struct unm_portspec *spec)
{
	char full[NETMAP_REQ_IFNAMSIZ * 2];
	int i;

	for (i = 0; i < UNM_MAX_PORTS; i++) {
		const struct unm_kport *port = &unm_k->ports[i];

		if (port->kind != UNM_PORT_VALE || !port->persist)
			continue;
		vale_fullname(port, full, sizeof(full));
		if (strcmp(port->name, name) && strcmp(full, name))
			continue;
		memset(spec, 0, sizeof(*spec));
		spec->kind = UNM_PORT_VALE;
		snprintf(spec->base, sizeof(spec->base), "%s", port->name);
		return i;
	}
	return -ENOENT;
}

int unm_vale_newif_name_check(const char *name)
{
	const char *p;

	if (!*name) {
		unm_log(UNM_LOG_ERR, "VALE_NEWIF: empty port name");
		return -EINVAL;
	}
	for (p = name; *p; p++) {
		if (!vale_id_char(*p)) {
			unm_log(UNM_LOG_ERR, "%s: bad character '%c' in a persistent port name (letters, digits, '_')",
				name, *p);
			return -EINVAL;
		}
	}
	if (strlen(name) >= IF_NAMESIZE) {
		unm_log(UNM_LOG_ERR, "%s: name too long for a persistent port (at most %d characters)",
			name, IF_NAMESIZE - 1);
		return -EINVAL;
	}
	if (!strncmp(name, NM_BDG_NAME, strlen(NM_BDG_NAME))) {
		unm_log(UNM_LOG_ERR, "%s: a persistent port name cannot start with '%s' (switch names do)",
			name, NM_BDG_NAME);
		return -EINVAL;
	}
	if (if_nametoindex(name)) {
		unm_log(UNM_LOG_ERR, "%s: an interface of that name exists", name);
		return -EEXIST;
	}
	return 0;
}

/* A switch port's name ("valeS:P"), checked; the switch name's length. */
static int vale_ctl_name(const char *name, const char *what, size_t *swlen)
{
	struct unm_portspec spec;
	int err;

	if (!*name) {
		unm_log(UNM_LOG_ERR, "%s: empty port name (valeSW:PORT)", what);
		return -EINVAL;
	}
	err = vale_parse(name, 0, 0, &spec);
	if (err == -ENOENT) {
		unm_log(UNM_LOG_ERR, "%s: %s: not a VALE port name (valeSW:PORT)", what, name);
		return -EINVAL;
	}
	if (err)
		return err;
	*swlen = (size_t)(strchr(name, ':') - name);
	return 0;
}

int unm_vale_list(char *name, struct nmreq_vale_list *req)
{
	unsigned b, p;
	size_t swlen;
	int err, pidx;

	if (*name) {
		err = vale_ctl_name(name, "VALE_LIST", &swlen);
		if (err)
			return err;
		err = unm_lock();
		if (err)
			return err;
		pidx = vale_find_locked(name);
		if (pidx < 0 || !unm_k->ports[pidx].vale_sw) {
			unm_unlock();
			unm_log(UNM_LOG_ERR, "%s: no such VALE port", name);
			return -ENXIO;
		}
		req->nr_bridge_idx = unm_k->ports[pidx].vale_sw - 1;
		req->nr_port_idx = unm_k->ports[pidx].vale_slot;
		unm_unlock();
		return 0;
	}
	/* the next port at or after the cursor (bridge, port) */
	err = unm_lock();
	if (err)
		return err;
	for (b = req->nr_bridge_idx, p = req->nr_port_idx; b < UNM_VALE_SWITCHES; b++, p = 0) {
		const struct unm_vale_switch *sw = &unm_k->vale[b];

		if (!sw->name[0])
			continue;
		for (; p < UNM_VALE_PORTS; p++) {
			uint16_t pidx1 = sw->ports[p].pidx;

			if (!pidx1 || pidx1 > UNM_MAX_PORTS)
				continue;
			vale_fullname(&unm_k->ports[pidx1 - 1], name, NETMAP_REQ_IFNAMSIZ);
			req->nr_bridge_idx = b;
			req->nr_port_idx = p;
			unm_unlock();
			return 0;
		}
	}
	unm_unlock();
	return -ENOENT;		/* the end of the walk: not an error to log */
}

/* ---- the attach daemon -------------------------------------------------------- */

/*
 * VALE_ATTACH of a NIC: in the kernel the NIC's interrupts drive its switch
 * port; here a process does. vale_daemon_start() forks it (twice, so it is
 * nobody's child; setsid; no inherited fds but stderr until it reports);
 * it opens netmap:IF (IF* with host rings) and the switch port valeS:IF
 * (and valeS:IF^ for the host rings), records its pid in the ports
 * (owner_pid), reports success or an errno through a pipe, then copies
 * frames both ways in a poll() loop. SIGTERM ends the loop and it closes
 * its ports; if it is killed, its reaper releases them, and the NIC's XDP
 * program and promiscuous mode go with its sockets.
 */
struct vale_att {
	struct unm_priv_local *pl;
	int fd;
};

static volatile sig_atomic_t vale_daemon_stop;

static void vale_daemon_sigterm(int sig)
{
	(void)sig;
	vale_daemon_stop = 1;
}

/* geo: the switch port's rings, slots and region (VALE_ATTACH's), or NULL */
static int vale_att_open(struct vale_att *a, const char *name, uint32_t mode,
			 const struct nmreq_register *geo)
{
	struct nmreq_header hdr;
	struct nmreq_register req;
	int err;

	err = unm_open(O_RDWR, &a->pl);
	if (err)
		return err;
	a->fd = a->pl->epfd;
	unm_fd_set(a->fd, a->pl);
	memset(&hdr, 0, sizeof(hdr));
	memset(&req, 0, sizeof(req));
	hdr.nr_version = NETMAP_API;
	hdr.nr_reqtype = NETMAP_REQ_REGISTER;
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	if (geo) {
		req.nr_tx_slots = geo->nr_tx_slots;
		req.nr_rx_slots = geo->nr_rx_slots;
		req.nr_tx_rings = geo->nr_tx_rings;
		req.nr_rx_rings = geo->nr_rx_rings;
		req.nr_mem_id = geo->nr_mem_id;
	}
	req.nr_mode = mode;
	return unm_register(a->pl, &hdr, &req, NULL);
}

static void vale_att_close(struct vale_att *a)
{
	if (!a->pl)
		return;
	unm_fd_clear(a->fd);
	unm_libc.close(a->fd);
	unm_close(a->pl);
	a->pl = NULL;
}

static inline char *vale_att_buf(struct netmap_ring *ring, uint32_t idx)
{
	return (char *)ring + ring->buf_ofs + (size_t)idx * ring->nr_buf_size;
}

/*
 * Copy what RX rings [r0, r1) of src hold into TX rings [t0, t1) of dst
 * (the rings a ring index picks, else the next with room); true if frames
 * moved. Frames too long for dst's buffers are dropped.
 */
static bool vale_att_move(struct unm_priv_local *src, unsigned r0, unsigned r1,
			  struct unm_priv_local *dst, unsigned t0, unsigned t1)
{
	bool moved = false;
	unsigned r, k;

	if (t0 >= t1)
		return false;
	for (r = r0; r < r1 && r < src->nring[UNM_RX]; r++) {
		struct netmap_ring *rx = src->rings[UNM_RX][r].ring;

		for (k = 0; k < t1 - t0; k++) {
			unsigned t = t0 + (r - r0 + k) % (t1 - t0);
			struct netmap_ring *tx;
			uint32_t i, j;

			if (t >= dst->nring[UNM_TX])
				continue;
			tx = dst->rings[UNM_TX][t].ring;
			i = rx->head;
			j = tx->head;
			while (i != rx->tail && j != tx->tail) {
				struct netmap_slot *rs = &rx->slot[i], *ts = &tx->slot[j];
				uint32_t len = rs->len;

				if (len <= tx->nr_buf_size && len <= rx->nr_buf_size) {
					memcpy(vale_att_buf(tx, ts->buf_idx),
					       vale_att_buf(rx, rs->buf_idx), len);
					ts->len = len;
					ts->flags = rs->flags & NS_MOREFRAG;
					j = j + 1 == tx->num_slots ? 0 : j + 1;
				}
				i = i + 1 == rx->num_slots ? 0 : i + 1;
			}
			if (j != tx->head) {
				tx->head = tx->cur = j;
				moved = true;
			}
			rx->head = rx->cur = i;
			if (i == rx->tail)
				break;
		}
	}
	return moved;
}

static void vale_daemon_report(int wfd, int err)
{
	int32_t msg[2] = { err, (int32_t)getpid() };

	if (write(wfd, msg, sizeof(msg)) < 0)
		_exit(1);
}

/* The daemon: never returns. */
static void vale_daemon(int wfd, const char *swport, const char *ifname, bool host,
			const struct nmreq_register *geo)
{
	struct vale_att nic = { 0 }, vp = { 0 }, vh = { 0 };
	char hname[NETMAP_REQ_IFNAMSIZ + 2];
	struct sigaction sa;
	unsigned nt, nr;
	int err, fd, i, pidx;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vale_daemon_sigterm;
	sigaction(SIGTERM, &sa, NULL);
	/* the caller may have blocked it: DETACH relies on it */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	if (chdir("/") < 0)
		_exit(1);
	/*
	 * The caller's netmap fds are not ours: forget them (libc calls
	 * below, not the interposed ones, which would act on them), then
	 * keep stderr (errors reach the caller's terminal) and the pipe.
	 */
	for (i = 0; i < 65536; i++)
		unm_fd_clear(i);
	if (wfd != 3) {
		if (unm_libc.dup2(wfd, 3) < 0)
			_exit(1);
		wfd = 3;
	}
	fd = unm_libc.open("/dev/null", O_RDWR);
	if (fd >= 0) {
		unm_libc.dup2(fd, 0);
		unm_libc.dup2(fd, 1);
		if (fd != 4)
			fd = unm_libc.dup2(fd, 4);
	}
	if (syscall(SYS_close_range, 5U, ~0U, 0) < 0)
		for (i = 5; i < 65536; i++)
			unm_libc.close(i);
	/* a process of its own: attach anew (own slot, own reaper) */
	err = unm_kernel_attach();
	/*
	 * so that ps and tests can tell it from the program that forked it
	 * (after the attach: its reaper, forked there, keeps the old name)
	 */
	prctl(PR_SET_NAME, "unm-vale-att", 0, 0, 0);
	if (!err)
		err = vale_att_open(&nic, ifname, host ? NR_REG_NIC_SW : NR_REG_ALL_NIC, NULL);
	if (!err)
		err = vale_att_open(&vp, swport, NR_REG_ALL_NIC, geo);
	snprintf(hname, sizeof(hname), "%s^", swport);
	if (!err && host)
		err = vale_att_open(&vh, hname, NR_REG_ALL_NIC, geo);
	if (!err)
		err = unm_lock();
	if (!err) {
		/* another attach raced us to the port: it is theirs */
		pidx = vale_find_locked(swport);
		if (pidx < 0 || unm_k->ports[pidx].users[0] != 1 || unm_k->ports[pidx].owner_pid) {
			unm_log(UNM_LOG_ERR, "%s: already attached", swport);
			err = -EBUSY;
		} else {
			unm_k->ports[pidx].owner_pid = getpid();
			unm_k->ports[pidx].hwflags = UNM_VALE_ATT_NIC;
			pidx = host ? vale_find_locked(hname) : -1;
			if (pidx >= 0) {
				unm_k->ports[pidx].owner_pid = getpid();
				unm_k->ports[pidx].hwflags = UNM_VALE_ATT_HOST;
			}
		}
		unm_unlock();
	}
	if (err) {
		vale_att_close(&vh);
		vale_att_close(&vp);
		vale_att_close(&nic);
		vale_daemon_report(wfd, err);
		_exit(1);
	}
	if (fd >= 0)
		unm_libc.dup2(fd, 2);
	vale_daemon_report(wfd, 0);
	unm_libc.close(wfd);
	/* NIC rings, then its host rings (one past), in nic.pl's ring arrays */
	nt = nic.pl->nring[UNM_TX] - (host ? 1 : 0);
	nr = nic.pl->nring[UNM_RX] - (host ? 1 : 0);
	while (!vale_daemon_stop) {
		struct pollfd pfd[3] = {
			{ .fd = nic.fd, .events = POLLIN },
			{ .fd = vp.fd, .events = POLLIN },
			{ .fd = vh.pl ? vh.fd : -1, .events = POLLIN },
		};
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		bool tx_nic = false, tx_vp = false, tx_vh = false;

		if (unm_poll(pfd, host ? 3 : 2, &ts, NULL, true) < 0 && errno != EINTR)
			break;
		if (vale_daemon_stop)
			break;
		tx_vp = vale_att_move(nic.pl, 0, nr, vp.pl, 0, vp.pl->nring[UNM_TX]);
		tx_nic = vale_att_move(vp.pl, 0, vp.pl->nring[UNM_RX], nic.pl, 0, nt);
		if (host) {
			tx_vh = vale_att_move(nic.pl, nr, nr + 1, vh.pl, 0, vh.pl->nring[UNM_TX]);
			tx_nic |= vale_att_move(vh.pl, 0, vh.pl->nring[UNM_RX], nic.pl, nt, nt + 1);
		}
		if (tx_vp)
			unm_sync(vp.pl, UNM_TX);
		if (tx_vh)
			unm_sync(vh.pl, UNM_TX);
		if (tx_nic)
			unm_sync(nic.pl, UNM_TX);
		/* hand the read RX slots back now, not at the next poll */
		unm_sync(nic.pl, UNM_RX);
		unm_sync(vp.pl, UNM_RX);
		if (host)
			unm_sync(vh.pl, UNM_RX);
	}
	vale_att_close(&vh);
	vale_att_close(&vp);
	vale_att_close(&nic);
	_exit(0);
}

static int vale_daemon_start(const char *swport, const char *ifname, bool host,
			     const struct nmreq_register *geo)
{
	struct pollfd pfd;
	int32_t msg[2];
	int p[2], status, err;
	pid_t c;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* our forks are not the program's: the daemon attaches on its own */
	unm_reaper_forking = true;
	c = fork();
	if (c == 0) {
		close(p[0]);
		setsid();
		if (fork() != 0)
			_exit(0);
		unm_reaper_forking = false;
		vale_daemon(p[1], swport, ifname, host, geo);
	}
	unm_reaper_forking = false;
	err = -errno;
	close(p[1]);
	if (c < 0) {
		close(p[0]);
		unm_log(UNM_LOG_ERR, "%s: cannot fork the attach daemon: %s", swport, strerror(-err));
		return err;
	}
	while (waitpid(c, &status, 0) < 0 && errno == EINTR)
		;
	/* bounded: opening a NIC takes well under a second */
	pfd.fd = p[0];
	pfd.events = POLLIN;
	do {
		n = unm_libc.poll(&pfd, 1, 20000);
	} while (n < 0 && errno == EINTR);
	n = n > 0 ? read(p[0], msg, sizeof(msg)) : 0;
	close(p[0]);
	if (n != sizeof(msg)) {
		unm_log(UNM_LOG_ERR, "%s: the attach daemon did not report (died or hung)", swport);
		return -EIO;
	}
	if (msg[0]) {
		unm_log(UNM_LOG_ERR, "%s: attaching %s failed: %s", swport, ifname,
			strerror(-msg[0]));
		return msg[0];
	}
	unm_log(UNM_LOG_INFO, "%s: attach daemon pid %d forwards to %s%s", swport, msg[1],
		ifname, host ? " and its host rings" : "");
	return 0;
}

int unm_vale_attach(const char *name, struct nmreq_vale_attach *req)
{
	char ifname[NETMAP_REQ_IFNAMSIZ];
	struct unm_portspec spec;
	size_t swlen;
	bool host;
	int err, pidx;

	err = vale_ctl_name(name, "VALE_ATTACH", &swlen);
	if (err)
		return err;
	snprintf(ifname, sizeof(ifname), "%s", name + swlen + 1);
	if (ifname[strlen(ifname) - 1] == '^') {
		unm_log(UNM_LOG_ERR, "%s: name the NIC itself; its host rings come with NR_REG_NIC_SW (vale-ctl -h)",
			name);
		return -EINVAL;
	}
	switch (req->reg.nr_mode) {
	case NR_REG_DEFAULT:
	case NR_REG_ALL_NIC:
		host = false;
		break;
	case NR_REG_NIC_SW:
		host = true;
		break;
	default:
		unm_log(UNM_LOG_ERR, "%s: VALE_ATTACH nr_mode %u: NR_REG_ALL_NIC or NR_REG_NIC_SW",
			name, req->reg.nr_mode);
		return -EINVAL;
	}
	err = unm_lock();
	if (err)
		return err;
	unm_gc_locked();
	if (vale_find_locked(name) >= 0) {
		unm_unlock();
		unm_log(UNM_LOG_ERR, "%s: already attached (the port exists)", name);
		return -EBUSY;
	}
	/* a persistent port (VALE_NEWIF) joins the switch */
	pidx = unm_vale_persist_find_locked(ifname, &spec);
	if (pidx >= 0) {
		struct unm_kport *port = &unm_k->ports[pidx];

		if (port->vale_sw) {
			err = -EBUSY;
			unm_log(UNM_LOG_ERR, "%s: %s is attached to %s already", name, ifname,
				unm_k->vale[port->vale_sw - 1].name);
		} else if (host) {
			err = -EINVAL;
			unm_log(UNM_LOG_ERR, "%s: %s is a persistent VALE port: no host rings",
				name, ifname);
		} else {
			err = vale_join(pidx, name, swlen);
			if (!err)
				req->port_index = port->vale_slot;
		}
		unm_unlock();
		return err;
	}
	unm_unlock();
	if (strlen(ifname) >= IF_NAMESIZE || !if_nametoindex(ifname)) {
		unm_log(UNM_LOG_ERR, "%s: no such interface '%s' (nor a persistent port of that name)",
			name, ifname);
		return -ENXIO;
	}
	err = vale_daemon_start(name, ifname, host, &req->reg);
	if (err)
		return err;
	err = unm_lock();
	if (err)
		return err;
	pidx = vale_find_locked(name);
	req->port_index = pidx >= 0 ? unm_k->ports[pidx].vale_slot : 0;
	unm_unlock();
	return 0;
}

/* The daemon pid serving port `name`, 0 once the port is gone or served by another. */
static bool vale_port_served_by(const char *name, int32_t pid, bool gc)
{
	bool there = false;
	int pidx;

	if (unm_lock())
		return false;
	if (gc)
		unm_gc_locked();
	pidx = vale_find_locked(name);
	there = pidx >= 0 && unm_k->ports[pidx].owner_pid == pid;
	unm_unlock();
	return there;
}

static bool vale_wait_gone(const char *name, int32_t pid, bool gc, int ms)
{
	struct timespec t = { 0, 5 * 1000 * 1000 };

	for (; ms > 0; ms -= 5) {
		if (!vale_port_served_by(name, pid, gc))
			return true;
		nanosleep(&t, NULL);
	}
	return !vale_port_served_by(name, pid, gc);
}

int unm_vale_detach(const char *name, struct nmreq_vale_detach *req)
{
	struct unm_kport *port;
	size_t swlen;
	int32_t pid;
	int err, pidx;

	err = vale_ctl_name(name, "VALE_DETACH", &swlen);
	if (err)
		return err;
	err = unm_lock();
	if (err)
		return err;
	unm_gc_locked();
	pidx = vale_find_locked(name);
	if (pidx < 0 || !unm_k->ports[pidx].vale_sw) {
		unm_unlock();
		unm_log(UNM_LOG_ERR, "%s: not attached (no such VALE port)", name);
		return -ENXIO;
	}
	port = &unm_k->ports[pidx];
	req->port_index = port->vale_slot;
	if (port->persist) {
		vale_leave(pidx);
		unm_unlock();
		return 0;
	}
	pid = port->owner_pid;
	unm_unlock();
	if (!pid) {
		unm_log(UNM_LOG_ERR, "%s: not attached to a NIC (an ordinary VALE port: it goes with its last user)",
			name);
		return -EINVAL;
	}
	/* the daemon closes its ports on SIGTERM */
	if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
		return -errno;
	if (vale_wait_gone(name, pid, false, 5000))
		return 0;
	unm_log(UNM_LOG_WARN, "%s: attach daemon %d still there after SIGTERM: killing it", name,
		pid);
	kill(pid, SIGKILL);
	if (vale_wait_gone(name, pid, true, 5000))
		return 0;
	unm_log(UNM_LOG_ERR, "%s: attach daemon %d: the port did not go", name, pid);
	return -ETIMEDOUT;
}

int unm_vale_polling(const char *name, bool enable)
{
	size_t swlen;
	int err, pidx;

	err = vale_ctl_name(name, enable ? "VALE_POLLING_ENABLE" : "VALE_POLLING_DISABLE", &swlen);
	if (err)
		return err;
	err = unm_lock();
	if (err)
		return err;
	pidx = vale_find_locked(name);
	if (pidx < 0) {
		unm_unlock();
		unm_log(UNM_LOG_ERR, "%s: no such VALE port", name);
		return -ENXIO;
	}
	if (!unm_k->ports[pidx].owner_pid) {
		unm_unlock();
		unm_log(UNM_LOG_ERR, "%s: polling applies only to NICs attached to a switch (vale-ctl -a)",
			name);
		return -EINVAL;
	}
	unm_unlock();
	/* the attach daemon polls the NIC all the time: nothing to start or stop */
	return 0;
}

const struct unm_port_ops unm_vale_ops = {
	.name = "vale",
	.kind = UNM_PORT_VALE,
	.parse = vale_parse,
	.txsync = vale_txsync,
	.rxsync = vale_rxsync,
	.geometry = vale_geometry,
	.create = vale_create,
	.destroy = vale_destroy,
};
