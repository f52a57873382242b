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
#include <pthread.h>
#include <stdio.h>
#include <string.h>

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

static int vale_rxq_lock(struct unm_vale_rxq *q)
{
	int err = pthread_mutex_lock(&q->lock);

	if (unlikely(err == EOWNERDEAD)) {
		/*
		 * A sender died copying into this ring: what it wrote past
		 * hwtail was never published, so the ring is consistent.
		 */
		pthread_mutex_consistent(&q->lock);
		err = 0;
	}
	return -err;
}

static void vale_switch_init(struct unm_vale_switch *sw, const char *name, size_t len)
{
	pthread_mutexattr_t ma;
	unsigned s, r;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	for (s = 0; s < UNM_VALE_PORTS; s++) {
		struct unm_vale_port *vp = &sw->ports[s];

		vp->pidx = 0;
		vp->txskip = 0;
		for (r = 0; r < UNM_VALE_RINGS; r++)
			pthread_mutex_init(&vp->rxq[r].lock, &ma);
	}
	pthread_mutexattr_destroy(&ma);
	memset(sw->ht, 0, sizeof(sw->ht));
	memset(sw->active, 0, sizeof(sw->active));
	sw->nports = 0;
	memset(sw->name, 0, sizeof(sw->name));
	memcpy(sw->name, name, len);
}

/* The port just created joins its switch, which is created if needed. */
static int vale_create(uint16_t pidx)
{
	struct unm_kport *port = &unm_k->ports[pidx];
	const char *colon = strchr(port->name, ':');
	struct unm_vale_switch *sw = NULL;
	struct unm_vale_port *vp;
	size_t len = colon ? (size_t)(colon - port->name) : 0;
	int i, free_sw = -1;
	unsigned s, r;

	if (!colon)
		return -EINVAL;
	for (i = 0; i < UNM_VALE_SWITCHES; i++) {
		struct unm_vale_switch *x = &unm_k->vale[i];

		if (!x->name[0]) {
			if (free_sw < 0)
				free_sw = i;
		} else if (strlen(x->name) == len && !strncmp(x->name, port->name, len)) {
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
		vale_switch_init(sw, port->name, len);
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

/* The port goes: it leaves its switch (the last port takes the switch along). */
static void vale_destroy(uint16_t pidx, char *base)
{
	struct unm_kport *port = &unm_k->ports[pidx];
	struct unm_vale_switch *sw;
	struct unm_vale_port *vp;
	unsigned s = port->vale_slot, r, h, nrx = port->nrings[0][UNM_RX];
	int locked[UNM_VALE_RINGS];

	(void)base;
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
