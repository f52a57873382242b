// SPDX-License-Identifier: BSD-2-Clause
/*
 * monitor.c - copy monitors, as netmap(4)'s: REGISTER of port X with
 * NR_MONITOR_TX and/or NR_MONITOR_RX in nr_flags ("X/t", "X/r", "X/rt" in
 * nm_open and nmport names) opens a new monitor port of X. Monitor RX ring i
 * gets a copy of every frame that crosses ring i of X: TX ring i (what X's
 * program sends, seen at its txsync, before the port takes the slots) and/or
 * RX ring i (what it receives, seen at the rxsync that shows the frames to
 * it). The monitor's TX rings exist, as upstream's, but send nothing.
 *
 * The copies happen where X's rings are synced, in X's process (core/sync.c
 * calls unm_monitor_copy() when the synced kring's nmon is not 0: one load
 * per sync when nobody monitors). A monitor port lives in X's region, so
 * the syncer has the monitor's rings and buffers mapped already.
 *
 *   X TX i [hwcur, head)  --copy-->  monitor RX i [hwtail, hwcur - 1)
 *   X RX i [old tail, tail)  --copy-->      (the kernel-owned slots)
 *
 * Two syncers (X's TX i and RX i, maybe two processes) may copy into one
 * monitor ring at once: each holds the ring's entry lock (struct unm_mon,
 * robust, process-shared) from reading its hwtail to publishing it, and
 * wakes the monitor's sleeper after. A monitor ring that is full drops the
 * rest of the batch (counted in the entry): the monitored program is never
 * held back by its monitors.
 *
 * Life cycle, all under the control mutex: the monitor port is created at
 * its REGISTER (one per fd, as upstream: a unique name "X/rt#N"), taps the
 * rings it binds (unm_monitor_attach_locked) and goes when its fd closes or
 * its process dies (monitor_destroy: each entry is locked once, so no
 * syncer is still copying into its rings). When X goes, its monitors get
 * nothing more: their rxsync reports an error (POLLERR), as upstream's EIO
 * once the monitored port has left netmap mode; what they hold stays
 * readable.
 *
 * Zero-copy monitors (NR_ZCOPY_MON, "X/z": both directions) get the frames
 * once X is done with them, by buffer swaps (monitor_zswap): TX slots that
 * came back to X's program after its txsync, RX slots its program released,
 * before its rxsync hands them back. One per monitored ring.
 *
 * Not here: monitors of host rings.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/unm.h"

/* kport.id of a monitor port: the monitored port and what is monitored */
#define MON_ID_PORT(id)		((id) & 0xffff)
#define MON_ID_END		(1u << 16)
#define MON_ID_TX		(1u << 17)
#define MON_ID_RX		(1u << 18)
#define MON_ID_Z		(1u << 19)
#define MON_TX_SLOTS		4	/* the monitor's TX rings send nothing */

/* ---- register ---------------------------------------------------------------- */

static int monitored_find_locked(const struct unm_portspec *spec)
{
	int i;

	for (i = 0; i < UNM_MAX_PORTS; i++) {
		const struct unm_kport *p = &unm_k->ports[i];

		if (p->kind && p->kind == spec->kind && p->id == spec->id &&
		    !strcmp(p->name, spec->base))
			return i;
	}
	return -ENOENT;
}

int unm_monitor_prepare_locked(const char *name, struct nmreq_register *req,
			       struct unm_portspec *spec)
{
	const struct unm_kport *parent;
	char suffix[8];
	unsigned serial;
	int ppidx, i;

	/* a zero-copy monitor watches both directions, as upstream's */
	if (req->nr_flags & NR_ZCOPY_MON)
		req->nr_flags |= NR_MONITOR_TX | NR_MONITOR_RX;
	if (spec->kind == UNM_PORT_MONITOR)
		return -EINVAL;
	ppidx = monitored_find_locked(spec);
	if (ppidx < 0) {
		unm_log(UNM_LOG_ERR, "%s: no such port to monitor (a monitor watches a registered port)",
			name);
		return -ENXIO;
	}
	parent = &unm_k->ports[ppidx];
	if (!parent->users[spec->end]) {
		unm_log(UNM_LOG_ERR, "%s: no such port to monitor (that pipe end is not registered)",
			name);
		return -ENXIO;
	}
	if (req->nr_mem_id && req->nr_mem_id != unm_k->mems[parent->mem].id) {
		unm_log(UNM_LOG_ERR, "%s: a monitor lives in its port's region (mem %u), not in mem %u",
			name, unm_k->mems[parent->mem].id, req->nr_mem_id);
		return -EINVAL;
	}
	snprintf(suffix, sizeof(suffix), "/%s%s%s", req->nr_flags & NR_ZCOPY_MON ? "z" : "",
		 req->nr_flags & NR_MONITOR_RX ? "r" : "",
		 req->nr_flags & NR_MONITOR_TX ? "t" : "");
	/* a unique name: each REGISTER makes a new monitor */
	for (serial = 0; serial < 2 * UNM_MAX_PORTS; serial++) {
		char base[NETMAP_REQ_IFNAMSIZ];

		if ((size_t)snprintf(base, sizeof(base), "%s%s#%u", parent->name, suffix, serial) >=
		    sizeof(base)) {
			unm_log(UNM_LOG_ERR, "%s: name too long for a monitor", name);
			return -EINVAL;
		}
		for (i = 0; i < UNM_MAX_PORTS; i++)
			if (unm_k->ports[i].kind == UNM_PORT_MONITOR &&
			    !strcmp(unm_k->ports[i].name, base))
				break;
		if (i == UNM_MAX_PORTS) {
			memcpy(spec->base, base, sizeof(base));
			break;
		}
	}
	spec->kind = UNM_PORT_MONITOR;
	spec->id = ppidx | (spec->end ? MON_ID_END : 0) |
		   (req->nr_flags & NR_MONITOR_TX ? MON_ID_TX : 0) |
		   (req->nr_flags & NR_MONITOR_RX ? MON_ID_RX : 0) |
		   (req->nr_flags & NR_ZCOPY_MON ? MON_ID_Z : 0);
	spec->end = 0;
	req->nr_mem_id = unm_k->mems[parent->mem].id;
	return 0;
}

/*
 * As many RX rings as the monitored end has rings in either direction, as
 * many slots as its monitored rings (or nr_rx_slots, 2..UNM_MAX_SLOTS); TX
 * rings to match, small: they send nothing.
 */
static int monitor_geometry(const struct unm_portspec *spec, const struct nmreq_register *req,
			    uint16_t nrings[2], uint32_t nslots[2])
{
	const struct unm_kport *parent = &unm_k->ports[MON_ID_PORT(spec->id)];
	int end = !!(spec->id & MON_ID_END);
	uint32_t want = req ? req->nr_rx_slots : 0, s = 0;

	nrings[UNM_RX] = parent->nrings[end][UNM_TX] > parent->nrings[end][UNM_RX] ?
			 parent->nrings[end][UNM_TX] : parent->nrings[end][UNM_RX];
	if (!nrings[UNM_RX])
		nrings[UNM_RX] = 1;
	nrings[UNM_TX] = nrings[UNM_RX];
	if (spec->id & MON_ID_TX)
		s = parent->nslots[end][UNM_TX];
	if ((spec->id & MON_ID_RX) && parent->nslots[end][UNM_RX] > s)
		s = parent->nslots[end][UNM_RX];
	if (want)
		s = want < 2 ? 2 : want > UNM_MAX_SLOTS ? UNM_MAX_SLOTS : want;
	nslots[UNM_RX] = s ? s : UNM_DEF_SLOTS;
	nslots[UNM_TX] = MON_TX_SLOTS;
	return 0;
}

static void mon_entry_clear(struct unm_mon *m)
{
	int dir;

	for (dir = 0; dir < 2; dir++) {
		uint32_t s = m->src[dir];

		if (s && s <= UNM_MAX_KRINGS && unm_k->krings[s - 1].nmon)
			__atomic_fetch_sub(&unm_k->krings[s - 1].nmon, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&m->src[dir], 0, __ATOMIC_RELAXED);
	}
}

/* The monitor port goes: no syncer copies into its rings once this returns. */
static void monitor_destroy(uint16_t pidx, char *base)
{
	unsigned e;

	(void)base;
	for (e = 0; e < UNM_MAX_MONS; e++) {
		struct unm_mon *m = &unm_k->mon[e];
		int locked;

		if (!m->mkr || m->mport != pidx)
			continue;
		locked = !unm_mutex_lock_robust(&m->lock);
		mon_entry_clear(m);
		m->mkr = 0;
		if (locked)
			pthread_mutex_unlock(&m->lock);
	}
}

/* does a zero-copy monitor tap one of the krings src names already? */
static bool zmon_busy(const uint32_t src[2])
{
	unsigned e;
	int dir;

	for (e = 0; e < UNM_MAX_MONS; e++) {
		const struct unm_mon *m = &unm_k->mon[e];

		if (!m->mkr || !m->zcopy)
			continue;
		for (dir = 0; dir < 2; dir++)
			if (src[dir] && m->src[dir] == src[dir])
				return true;
	}
	return false;
}

int unm_monitor_attach_locked(uint16_t pidx, unsigned first, unsigned last)
{
	struct unm_kport *port = &unm_k->ports[pidx];
	const struct unm_kport *parent = &unm_k->ports[MON_ID_PORT(port->id)];
	int end = !!(port->id & MON_ID_END);
	unsigned i, e = 0;
	int dir;

	for (i = first; i < last; i++) {
		struct unm_mon *m;
		uint32_t src[2] = { 0, 0 };

		for (; e < UNM_MAX_MONS && unm_k->mon[e].mkr; e++)
			;
		if (e == UNM_MAX_MONS) {
			unm_log(UNM_LOG_ERR, "%s: too many monitor rings (at most %d in all)",
				port->name, UNM_MAX_MONS);
			return -ENOMEM;	/* the caller destroys the port: its entries go */
		}
		m = &unm_k->mon[e];
		if (!m->inited) {
			unm_mutex_init_robust(&m->lock);
			m->inited = 1;
		}
		for (dir = 0; dir < 2; dir++)
			if ((port->id & (dir == UNM_TX ? MON_ID_TX : MON_ID_RX)) &&
			    i < parent->nrings[end][dir])
				src[dir] = parent->kring[end][dir] + i + 1;
		if ((port->id & MON_ID_Z) && zmon_busy(src)) {
			unm_log(UNM_LOG_ERR, "%s: ring %u already has a zero-copy monitor (one per ring)",
				unm_k->ports[MON_ID_PORT(port->id)].name, i);
			return -EBUSY;
		}
		/* a syncer that found the entry before may still hold its lock */
		if (unm_mutex_lock_robust(&m->lock))
			return -EAGAIN;
		m->mkr = port->kring[0][UNM_RX] + i + 1;
		m->mport = pidx;
		m->zcopy = !!(port->id & MON_ID_Z);
		m->frames = m->drops = 0;
		for (dir = 0; dir < 2; dir++)
			__atomic_store_n(&m->src[dir], src[dir], __ATOMIC_RELAXED);
		pthread_mutex_unlock(&m->lock);
		/* last: syncers look for entries only once nmon says so */
		for (dir = 0; dir < 2; dir++)
			if (src[dir])
				__atomic_fetch_add(&unm_k->krings[src[dir] - 1].nmon, 1,
						   __ATOMIC_RELEASE);
	}
	return 0;
}

void unm_monitor_parent_gone_locked(uint16_t pidx)
{
	unsigned e;
	int dir;

	for (e = 0; e < UNM_MAX_MONS; e++) {
		struct unm_mon *m = &unm_k->mon[e];
		bool gone = false;
		int locked;

		if (!m->mkr)
			continue;
		for (dir = 0; dir < 2; dir++)
			if (m->src[dir] && unm_k->krings[m->src[dir] - 1].port == pidx)
				gone = true;
		if (!gone)
			continue;
		locked = !unm_mutex_lock_robust(&m->lock);
		mon_entry_clear(m);
		if (locked)
			pthread_mutex_unlock(&m->lock);
		unm_k->ports[m->mport].hwflags |= UNM_MON_ORPHAN;
		/* a sleeping monitor wakes up to its POLLERR */
		unm_kring_wake(&unm_k->krings[m->mkr - 1]);
	}
}

int unm_monitor_stats(uint16_t pidx, uint64_t *frames, uint64_t *drops)
{
	unsigned e;
	int err;

	*frames = *drops = 0;
	err = unm_lock();
	if (err)
		return err;
	err = -ENOENT;
	for (e = 0; e < UNM_MAX_MONS; e++) {
		struct unm_mon *m = &unm_k->mon[e];

		if (!m->mkr || m->mport != pidx)
			continue;
		*frames += __atomic_load_n(&m->frames, __ATOMIC_RELAXED);
		*drops += __atomic_load_n(&m->drops, __ATOMIC_RELAXED);
		err = 0;
	}
	unm_unlock();
	return err;
}

/* ---- the copies (in the monitored port's syncer) ------------------------------ */

static void monitor_deliver(struct unm_ring_ctx *rc, struct unm_mon *m, uint32_t me, int dir,
			    uint32_t from, uint32_t to)
{
	const struct netmap_slot *src = rc->ring->slot;
	uint32_t n = rc->kr->num_slots, nb = rc->nbufs - 2, bs = rc->buf_size;
	uint32_t mn, t, t0, hc, room, j, mk;
	uint64_t frames = 0, drops = 0;
	struct netmap_ring *mring;
	struct unm_kring *mkr;
	char *base;

	if (unlikely(unm_mutex_lock_robust(&m->lock)))
		return;
	/* still ours: the monitor may have gone since the scan */
	mk = m->mkr;
	if (__atomic_load_n(&m->src[dir], __ATOMIC_RELAXED) != me || !mk ||
	    mk > UNM_MAX_KRINGS || m->zcopy) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	mkr = &unm_k->krings[mk - 1];
	if (unlikely(unm_k->ports[mkr->port].mem != rc->mem)) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	base = rc->bufs - unm_k->mems[rc->mem].buf_ofs;
	mring = (struct netmap_ring *)(base + mkr->ring_ofs);
	mn = mkr->num_slots;
	t = t0 = mkr->hwtail;
	/* Synchronizes with the release of hwcur in monitor_rxsync(). */
	hc = __atomic_load_n(&mkr->hwcur, __ATOMIC_ACQUIRE);
	room = hc > t ? hc - 1 - t : hc + mn - 1 - t;
	for (j = from; j != to; j = unm_ring_next(j, n)) {
		/* each field once: the program may be writing the slot */
		uint32_t idx = __atomic_load_n(&src[j].buf_idx, __ATOMIC_RELAXED);
		uint32_t len = __atomic_load_n(&src[j].len, __ATOMIC_RELAXED);
		uint16_t fl = __atomic_load_n(&src[j].flags, __ATOMIC_RELAXED);
		struct netmap_slot *ms;
		uint32_t di;

		if (unlikely(idx - 2 >= nb))
			continue;	/* the port's own sync reports it */
		if (unlikely(len > bs))
			len = bs;
		if (unlikely(!room)) {
			drops++;
			continue;
		}
		ms = &mring->slot[t];
		/* the monitor may scribble on slots it does not own */
		di = __atomic_load_n(&ms->buf_idx, __ATOMIC_RELAXED);
		if (unlikely(di - 2 >= nb)) {
			/* handed over empty; its rxsync repairs the index on release */
			ms->len = 0;
			ms->flags = 0;
			drops++;
		} else {
			memcpy(base + unm_k->mems[rc->mem].buf_ofs + (size_t)di * bs,
			       rc->bufs + (size_t)idx * bs, len);
			ms->len = len;
			ms->flags = fl & ~NS_BUF_CHANGED;
			frames++;
		}
		t = unm_ring_next(t, mn);
		room--;
	}
	if (t != t0)
		/* Synchronizes with the acquire in unm_sync_finalize() (the monitor). */
		__atomic_store_n(&mkr->hwtail, t, __ATOMIC_RELEASE);
	__atomic_store_n(&m->frames, m->frames + frames, __ATOMIC_RELAXED);
	__atomic_store_n(&m->drops, m->drops + drops, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&m->lock);
	if (t != t0)
		unm_kring_wake(mkr);
}

/*
 * Zero-copy: swap the buffers of the monitored slots [from, to), which the
 * port is done with, with those of the free slots of the monitor's RX ring
 * (upstream's zero-copy monitors see frames once consumed). Buffers only
 * change places, all in one region; a slot that finds no room keeps its
 * buffer (the frame is not seen, counted as a drop).
 */
static void monitor_zswap(struct unm_ring_ctx *rc, struct unm_mon *m, uint32_t me, int dir,
			  uint32_t from, uint32_t to)
{
	struct netmap_slot *src = rc->ring->slot;
	uint32_t n = rc->kr->num_slots, nb = rc->nbufs - 2, bs = rc->buf_size;
	uint32_t mn, t, t0, hc, room, j, mk;
	uint64_t frames = 0, drops = 0;
	struct netmap_ring *mring;
	struct unm_kring *mkr;

	if (unlikely(unm_mutex_lock_robust(&m->lock)))
		return;
	mk = m->mkr;
	if (__atomic_load_n(&m->src[dir], __ATOMIC_RELAXED) != me || !mk ||
	    mk > UNM_MAX_KRINGS || !m->zcopy) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	mkr = &unm_k->krings[mk - 1];
	if (unlikely(unm_k->ports[mkr->port].mem != rc->mem)) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	mring = (struct netmap_ring *)(rc->bufs - unm_k->mems[rc->mem].buf_ofs + mkr->ring_ofs);
	mn = mkr->num_slots;
	t = t0 = mkr->hwtail;
	/* Synchronizes with the release of hwcur in monitor_rxsync(). */
	hc = __atomic_load_n(&mkr->hwcur, __ATOMIC_ACQUIRE);
	room = hc > t ? hc - 1 - t : hc + mn - 1 - t;
	for (j = from; j != to; j = unm_ring_next(j, n)) {
		struct netmap_slot *s = &src[j], *ms;
		uint32_t idx = __atomic_load_n(&s->buf_idx, __ATOMIC_RELAXED);
		uint32_t len = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
		uint16_t fl = __atomic_load_n(&s->flags, __ATOMIC_RELAXED);
		uint32_t di;

		if (unlikely(idx - 2 >= nb))
			continue;	/* the port's own checks repair it */
		if (unlikely(!room)) {
			drops++;
			continue;
		}
		ms = &mring->slot[t];
		di = __atomic_load_n(&ms->buf_idx, __ATOMIC_RELAXED);
		if (unlikely(di - 2 >= nb)) {
			/* a scribbled monitor slot: handed over empty, nothing swapped */
			ms->len = 0;
			ms->flags = 0;
			drops++;
		} else {
			s->buf_idx = di;
			s->flags = fl | NS_BUF_CHANGED;
			ms->buf_idx = idx;
			ms->len = len > bs ? bs : len;
			ms->flags = fl | NS_BUF_CHANGED;
			frames++;
		}
		t = unm_ring_next(t, mn);
		room--;
	}
	if (t != t0)
		/* Synchronizes with the acquire in unm_sync_finalize() (the monitor). */
		__atomic_store_n(&mkr->hwtail, t, __ATOMIC_RELEASE);
	__atomic_store_n(&m->frames, m->frames + frames, __ATOMIC_RELAXED);
	__atomic_store_n(&m->drops, m->drops + drops, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&m->lock);
	if (t != t0)
		unm_kring_wake(mkr);
}

static void monitor_scan(struct unm_ring_ctx *rc, int dir, uint32_t from, uint32_t to,
			 bool zcopy)
{
	uint32_t me = (uint32_t)(rc->kr - unm_k->krings) + 1;
	uint32_t nmon = __atomic_load_n(&rc->kr->nmon, __ATOMIC_ACQUIRE), seen = 0;
	unsigned e;

	if (from == to)
		return;
	for (e = 0; e < UNM_MAX_MONS && seen < nmon; e++) {
		struct unm_mon *m = &unm_k->mon[e];

		if (__atomic_load_n(&m->src[dir], __ATOMIC_RELAXED) != me)
			continue;
		seen++;
		if (__atomic_load_n(&m->zcopy, __ATOMIC_RELAXED) != zcopy)
			continue;
		if (zcopy)
			monitor_zswap(rc, m, me, dir, from, to);
		else
			monitor_deliver(rc, m, me, dir, from, to);
	}
}

void unm_monitor_copy(struct unm_ring_ctx *rc, int dir, uint32_t from, uint32_t to)
{
	monitor_scan(rc, dir, from, to, false);
}

void unm_monitor_zswap(struct unm_ring_ctx *rc, int dir, uint32_t from, uint32_t to)
{
	monitor_scan(rc, dir, from, to, true);
}

/* ---- the monitor's own rings ---------------------------------------------------- */

static int monitor_txsync(struct unm_ring_ctx *rc)
{
	if (rc->kr->rhead == rc->kr->hwcur)
		return 0;
	unm_log_err(UNM_ERR_HEAD, "%s TX%u: a monitor's TX rings send nothing", rc->name,
		    rc->kr->ring_id);
	return -EIO;
}

static int monitor_rxsync(struct unm_ring_ctx *rc)
{
	struct unm_kring *kr = rc->kr;
	int err = 0;

	/*
	 * Copies go into released slots next: checked; the release of hwcur
	 * synchronizes with its acquire in monitor_deliver().
	 */
	if (kr->rhead != kr->hwcur)
		err = unm_rx_release(rc);
	/* the monitored port is gone: an error once what is here has been read */
	if (unlikely(unm_k->ports[kr->port].hwflags & UNM_MON_ORPHAN) &&
	    __atomic_load_n(&kr->hwtail, __ATOMIC_ACQUIRE) == kr->rhead) {
		unm_log_err(UNM_ERR_TAIL, "%s RX%u: the monitored port is gone", rc->name,
			    kr->ring_id);
		return -EIO;
	}
	return err;
}

static int monitor_parse(const char *name, uint32_t mode, uint32_t ringid,
			 struct unm_portspec *spec)
{
	(void)name;
	(void)mode;
	(void)ringid;
	(void)spec;
	return -ENOENT;
}

const struct unm_port_ops unm_monitor_ops = {
	.name = "monitor",
	.kind = UNM_PORT_MONITOR,
	.parse = monitor_parse,
	.txsync = monitor_txsync,
	.rxsync = monitor_rxsync,
	.geometry = monitor_geometry,
	.destroy = monitor_destroy,
};
