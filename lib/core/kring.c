// SPDX-License-Identifier: BSD-2-Clause
/*
 * kring.c - what every sync does around the port's txsync/rxsync: the
 * prologue (read head/cur once from user memory, check them against the
 * kring's shadow), finalize (publish tail), ring reinit after bad input,
 * slot validation, the busy flag, and the sleeper marks used for wake-ups.
 *
 *          hwcur           rtail (= tail shown to the program)
 *            v               v
 *   TX  .....[ owned by the program ][ owned by the kernel ]....
 *             head <= cur <= tail     (all circular)
 *
 * The program may move head and cur forward within [hwcur, rtail]; anything
 * else is an error: it is reported (rate limited), the ring is reset to the
 * kernel's view, and the sync reports it as netmap does (POLLERR from poll;
 * the ioctl itself returns 0 after the reinit, as upstream's does).
 */
#include <errno.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "core/unm.h"

int unm_cpu_prefetchw = -1;

void unm_cpu_probe(void)
{
	int ok = 0;
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	if (__get_cpuid(0x80000001, &a, &b, &c, &d))
		ok = !!(c & bit_PRFCHW);
#endif
	__atomic_store_n(&unm_cpu_prefetchw, ok, __ATOMIC_RELAXED);
}

/* x in [lo, hi] on a circular ring */
static inline bool in_range(uint32_t x, uint32_t lo, uint32_t hi)
{
	if (lo <= hi)
		return x >= lo && x <= hi;
	return x >= lo || x <= hi;
}

static uint32_t prologue(struct unm_ring_ctx *rc, const char *dir)
{
	struct unm_kring *kr = rc->kr;
	struct netmap_ring *ring = rc->ring;
	uint32_t n = kr->num_slots;
	uint32_t head = __atomic_load_n(&ring->head, __ATOMIC_RELAXED);
	uint32_t cur = __atomic_load_n(&ring->cur, __ATOMIC_RELAXED);

	if (unlikely(head >= n || !in_range(head, kr->hwcur, kr->rtail))) {
		kr->err_cnt++;
		unm_log_err(UNM_ERR_HEAD, "%s %s%u: head %u outside [%u, %u]",
			    rc->name, dir, kr->ring_id, head, kr->hwcur, kr->rtail);
		return n;
	}
	if (unlikely(cur >= n || !in_range(cur, head, kr->rtail))) {
		kr->err_cnt++;
		unm_log_err(UNM_ERR_CUR, "%s %s%u: cur %u outside [%u, %u]",
			    rc->name, dir, kr->ring_id, cur, head, kr->rtail);
		return n;
	}
	if (unlikely(ring->tail != kr->rtail)) {
		unm_log_err(UNM_ERR_TAIL, "%s %s%u: tail overwritten: %u, restored %u",
			    rc->name, dir, kr->ring_id, ring->tail, kr->rtail);
		ring->tail = kr->rtail;
	}
	kr->rhead = head;
	kr->rcur = cur;
	return head;
}

uint32_t unm_txsync_prologue(struct unm_ring_ctx *rc)
{
	return prologue(rc, "TX");
}

uint32_t unm_rxsync_prologue(struct unm_ring_ctx *rc)
{
	return prologue(rc, "RX");
}

void unm_sync_finalize(struct unm_ring_ctx *rc)
{
	/* Synchronizes with the release store of hwtail in the producer. */
	uint32_t tail = __atomic_load_n(&rc->kr->hwtail, __ATOMIC_ACQUIRE);

	rc->kr->rtail = tail;
	rc->ring->tail = tail;
}

/*
 * Make a slot valid again: a fresh buffer for a bad index (the old one is
 * lost until the region goes away), a zero length for a bad one. Takes the
 * control mutex: error path only.
 */
int unm_slot_repair(struct unm_ring_ctx *rc, struct netmap_slot *s)
{
	uint32_t idx = 0;
	int err = 0;

	if (s->buf_idx < 2 || s->buf_idx >= rc->nbufs) {
		err = unm_lock();
		if (!err) {
			err = unm_mem_buf_alloc_locked(&unm_k->mems[rc->mem], &idx);
			unm_unlock();
		}
		s->buf_idx = idx;
		s->flags |= NS_BUF_CHANGED;
		s->len = 0;
	}
	if (s->len > rc->buf_size)
		s->len = 0;
	return err;
}

/*
 * The slots [hwcur, head) an rxsync is about to take back: a bad buf_idx is
 * named and repaired (a fresh buffer), so the producer that fills the slot
 * next never sees it. A branch-free pass over at most two runs; the slow
 * path names the slots. Returns 0, or -EINVAL if some needed repair.
 */
static int rx_released_check(struct unm_ring_ctx *rc, uint32_t head)
{
	struct netmap_slot *slot = rc->ring->slot;
	uint32_t n = rc->kr->num_slots, j = rc->kr->hwcur, i, end;
	uint32_t nb = rc->nbufs - 2;
	bool bad = false;

	for (i = j; i != head; i = end == n ? 0 : end) {
		end = head > i ? head : n;
		for (; i < end; i++)
			bad |= slot[i].buf_idx - 2 >= nb;
		if (end != n)
			break;
	}
	if (likely(!bad))
		return 0;
	for (; j != head; j = unm_ring_next(j, n)) {
		struct netmap_slot *s = &slot[j];

		if (s->buf_idx < 2 || s->buf_idx >= rc->nbufs) {
			unm_log_err(UNM_ERR_BUF_IDX, "%s RX%u: released slot %u: buf_idx %u invalid (buffers 2..%u), repaired",
				    rc->name, rc->kr->ring_id, j, s->buf_idx, rc->nbufs - 1);
			unm_slot_repair(rc, s);
		}
	}
	return -EINVAL;
}

/*
 * An rxsync of a ring that other code fills (a pipe's peer, VALE senders):
 * the released slots [hwcur, head) are checked, then handed back by
 * publishing hwcur = head (release; the producers read it with acquire).
 * Returns 0, or -EINVAL if some slot needed repair.
 */
int unm_rx_release(struct unm_ring_ctx *rc)
{
	struct unm_kring *kr = rc->kr;
	uint32_t head = kr->rhead;
	int err = rx_released_check(rc, head);

	__atomic_store_n(&kr->hwcur, head, __ATOMIC_RELEASE);
	return err;
}

/*
 * Reset the ring to the kernel's view and repair the slots the program owns
 * ([hwcur, hwtail)). Slots owned by the kernel are not touched here: a pipe
 * peer may be writing them, and they are validated when handed over.
 * Returns 1 if slots needed repair, 0 otherwise.
 */
int unm_ring_reinit(struct unm_ring_ctx *rc)
{
	struct unm_kring *kr = rc->kr;
	struct netmap_ring *ring = rc->ring;
	uint32_t n = kr->num_slots, i, tail;
	int errors = 0;

	tail = __atomic_load_n(&kr->hwtail, __ATOMIC_ACQUIRE);
	for (i = kr->hwcur; i != tail; i = unm_ring_next(i, n)) {
		struct netmap_slot *s = &ring->slot[i];

		if (!unm_slot_ok(rc, s)) {
			unm_log_err(s->len > rc->buf_size ? UNM_ERR_LEN : UNM_ERR_BUF_IDX,
				    "%s %s%u: slot %u: buf_idx %u len %u invalid, repaired",
				    rc->name, ring->dir ? "RX" : "TX", kr->ring_id, i,
				    s->buf_idx, s->len);
			unm_slot_repair(rc, s);
			errors++;
		}
	}
	kr->rhead = kr->rcur = kr->hwcur;
	kr->rtail = tail;
	ring->head = ring->cur = kr->hwcur;
	ring->tail = tail;
	return errors ? 1 : 0;
}

int unm_kring_tryget(struct unm_kring *kr)
{
	int32_t idle = 0;

	if (likely(__atomic_compare_exchange_n(&kr->busy_pid, &idle, unm_pid, false,
					       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
		return 0;
	unm_log_err(UNM_ERR_BUSY, "ring %u: concurrent sync (busy, held by pid %d)",
		    kr->ring_id, idle);
	return -EBUSY;
}

void unm_kring_put(struct unm_kring *kr)
{
	__atomic_store_n(&kr->busy_pid, 0, __ATOMIC_RELEASE);
}

/*
 * Wake whoever sleeps on kr. Called by a producer right after publishing
 * (hwtail of an RX kring, hwcur of an RX kring that frees TX space).
 */
void unm_kring_wake(struct unm_kring *kr)
{
	unsigned i;

	/*
	 * Orders the publish before the check of the sleepers; pairs with the
	 * fence in unm_kring_wait_mark() (store mark; fence; re-check ring).
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (likely(!__atomic_load_n(&kr->nwaiters, __ATOMIC_RELAXED)))
		return;
	for (i = 0; i < UNM_KRING_WAITERS; i++) {
		uint32_t w = __atomic_load_n(&kr->waiters[i], __ATOMIC_RELAXED);

		if (w)
			unm_wake_priv(w - 1);
	}
}

/* Returns 0, or -ENOSPC if all waiter slots are taken (caller must nap). */
int unm_kring_wait_mark(struct unm_kring *kr, uint32_t slot)
{
	unsigned i;

	for (i = 0; i < UNM_KRING_WAITERS; i++) {
		uint32_t w = 0;

		if (__atomic_load_n(&kr->waiters[i], __ATOMIC_RELAXED) == slot + 1)
			goto marked;
		if (__atomic_compare_exchange_n(&kr->waiters[i], &w, slot + 1, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			__atomic_fetch_add(&kr->nwaiters, 1, __ATOMIC_RELAXED);
			goto marked;
		}
	}
	return -ENOSPC;
marked:
	/* pairs with the fence in unm_kring_wake(): the caller re-checks next */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return 0;
}

void unm_kring_wait_unmark(struct unm_kring *kr, uint32_t slot)
{
	unsigned i;

	for (i = 0; i < UNM_KRING_WAITERS; i++) {
		uint32_t w = slot + 1;

		if (__atomic_compare_exchange_n(&kr->waiters[i], &w, 0, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			__atomic_fetch_sub(&kr->nwaiters, 1, __ATOMIC_RELAXED);
	}
}

void unm_mutex_init_robust(pthread_mutex_t *m)
{
	pthread_mutexattr_t ma;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(m, &ma);
	pthread_mutexattr_destroy(&ma);
}

/*
 * 0 or -errno. A holder that died inside leaves the mutex EOWNERDEAD: the
 * users of these locks publish with one store after their writes, so what
 * the dead one left half done was never published and the protected state
 * is consistent as it is.
 */
int unm_mutex_lock_robust(pthread_mutex_t *m)
{
	int err = pthread_mutex_lock(m);

	if (unlikely(err == EOWNERDEAD)) {
		pthread_mutex_consistent(m);
		err = 0;
	}
	return -err;
}
