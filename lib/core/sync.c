// SPDX-License-Identifier: BSD-2-Clause
/*
 * sync.c - NIOCTXSYNC / NIOCRXSYNC and the sync pass of poll(): for every
 * ring bound to the fd, prologue -> port txsync/rxsync (one indirect call)
 * -> finalize, as netmap's netmap_ioctl() and netmap_poll() do.
 *
 * No lock, no syscall, no division here; the only syscall is the wake-up of
 * a sleeping peer inside the port's sync (unm_kring_wake).
 */
#include <errno.h>
#include <poll.h>

#include "core/unm.h"

/* Returns 1 on a validation error (ring reinitialised), 0 otherwise. */
static int txsync_one(struct unm_ring_ctx *rc)
{
	uint32_t old_tail = rc->kr->rtail;

	if (unlikely(unm_txsync_prologue(rc) >= rc->kr->num_slots)) {
		unm_ring_reinit(rc);
		return 1;
	}
	/*
	 * copy monitors see [hwcur, head) before the port's txsync, which may
	 * swap the buffers away (pipes); one load when nobody monitors
	 */
	if (unlikely(__atomic_load_n(&rc->kr->nmon, __ATOMIC_RELAXED)))
		unm_monitor_copy(rc, UNM_TX, rc->kr->hwcur, rc->kr->rhead);
	if (unlikely(rc->sync(rc))) {
		unm_ring_reinit(rc);
		return 1;
	}
	unm_sync_finalize(rc);
	/* a zero-copy monitor gets the slots sent and completed: [old tail + 1, tail + 1) */
	if (unlikely(__atomic_load_n(&rc->kr->nmon, __ATOMIC_RELAXED)) &&
	    old_tail != rc->kr->rtail)
		unm_monitor_zswap(rc, UNM_TX, unm_ring_next(old_tail, rc->kr->num_slots),
				  unm_ring_next(rc->kr->rtail, rc->kr->num_slots));
	return 0;
}

static int rxsync_one(struct unm_ring_ctx *rc)
{
	uint32_t old_tail = rc->kr->rtail;
	int bad = 0;

	if (unlikely(unm_rxsync_prologue(rc) >= rc->kr->num_slots)) {
		unm_ring_reinit(rc);
		bad = 1;
	}
	/* a zero-copy monitor gets the slots released: [hwcur, head), before the port takes them */
	if (unlikely(__atomic_load_n(&rc->kr->nmon, __ATOMIC_RELAXED)) &&
	    rc->kr->hwcur != rc->kr->rhead)
		unm_monitor_zswap(rc, UNM_RX, rc->kr->hwcur, rc->kr->rhead);
	if (unlikely(rc->sync(rc))) {
		unm_ring_reinit(rc);
		bad = 1;
	} else {
		unm_sync_finalize(rc);
	}
	/* copy monitors see the frames this sync shows the program: [old tail, tail) */
	if (unlikely(__atomic_load_n(&rc->kr->nmon, __ATOMIC_RELAXED)) &&
	    old_tail != rc->kr->rtail)
		unm_monitor_copy(rc, UNM_RX, old_tail, rc->kr->rtail);
	return bad;
}

/*
 * The ioctl: every bound ring of one direction. As upstream, a ring reset
 * after bad head/cur is not an error of the ioctl itself (it is logged and
 * counted); a ring another thread is syncing is skipped.
 */
int unm_sync(struct unm_priv_local *pl, int dir)
{
	struct unm_ring_ctx *rc = pl->rings[dir];
	unsigned i, n = pl->nring[dir];

	if (unlikely(!pl->registered))
		return -ENXIO;
	for (i = 0; i < n; i++, rc++) {
		if (unlikely(unm_kring_tryget(rc->kr)))
			continue;
		if (dir == UNM_TX)
			txsync_one(rc);
		else
			rxsync_one(rc);
		unm_kring_put(rc->kr);
	}
	return 0;
}

/*
 * A NIC TX ring with frames handed over but not completed: only its txsync
 * moves it (kick, reap), nobody else publishes its tail as a pipe peer does.
 */
static inline bool hw_tx_inflight(const struct unm_kring *kr)
{
	uint32_t hwtail = __atomic_load_n(&kr->hwtail, __ATOMIC_RELAXED);

	return hwtail != (kr->hwcur ? kr->hwcur - 1 : kr->num_slots - 1);
}

bool unm_hw_tx_inflight(const struct unm_priv_local *pl)
{
	unsigned i;

	for (i = 0; i < pl->nring[UNM_TX]; i++)
		if (hw_tx_inflight(pl->rings[UNM_TX][i].kr))
			return true;
	return false;
}

/* One non-blocking pass of netmap_poll(): returns revents. */
short unm_poll_scan(struct unm_priv_local *pl, short events)
{
	short want_tx = events & (POLLOUT | POLLWRNORM);
	short want_rx = events & (POLLIN | POLLRDNORM);
	short revents = 0;
	struct unm_ring_ctx *rc;
	unsigned i;

	if (unlikely(!pl->registered))
		return POLLERR;
	if (pl->txpoll || want_tx) {
		rc = pl->rings[UNM_TX];
		for (i = 0; i < pl->nring[UNM_TX]; i++, rc++) {
			/* nothing to push and space already found elsewhere */
			if (!want_tx && rc->ring->head == rc->kr->hwcur &&
			    !(pl->hw_nap && hw_tx_inflight(rc->kr)))
				continue;
			if (unlikely(unm_kring_tryget(rc->kr)))
				continue;
			if (txsync_one(rc))
				revents |= POLLERR;
			if (rc->kr->rcur != rc->kr->rtail) {
				revents |= want_tx;
				want_tx = 0;
			}
			unm_kring_put(rc->kr);
		}
	}
	if (want_rx) {
		rc = pl->rings[UNM_RX];
		for (i = 0; i < pl->nring[UNM_RX]; i++, rc++) {
			if (unlikely(unm_kring_tryget(rc->kr)))
				continue;
			if (rxsync_one(rc))
				revents |= POLLERR;
			if (rc->kr->rcur != rc->kr->rtail)
				revents |= want_rx;
			unm_kring_put(rc->kr);
		}
	}
	return revents;
}
