// SPDX-License-Identifier: BSD-2-Clause
/*
 * pipe.c - netmap pipes: `X{N` (master) and `X}N` (slave), any X.
 *
 * The pair is created by whichever end registers first and destroyed when
 * both ends are closed (core/ctl.c). Master TX i feeds slave RX i, slave TX i
 * feeds master RX i. Zero copy: txsync swaps the 16-byte slots [hwcur, head)
 * of the TX ring into the peer RX ring at the same positions, so both rings
 * advance in lockstep:
 *
 *     TX ring (this end)                 RX ring (peer end)
 *     hwcur ........ head   ==swap==>   hwtail ........
 *     TX hwtail = RX hwcur - 1          RX hwcur: released by the peer
 *
 * Single producer, single consumer, no lock: txsync writes RX slots the RX
 * program does not own yet, then publishes RX hwtail (release); rxsync
 * publishes RX hwcur (release) after the program is done with the slots; each
 * side reads the other's index with acquire. A syscall happens only to wake a
 * peer that sleeps (core/kring.c unm_kring_wake).
 *
 * Every slot is validated when it crosses from one end to the other, in both
 * directions, so a program that scribbles on its own ring breaks only itself.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/unm.h"

/*
 * Both ends of a pipe are one port, keyed "X{id" whichever end is asked for.
 * The id is a name, as upstream's: letters, digits and '_' ("x{1",
 * "x}pipeid2").
 */
static int pipe_parse(const char *name, uint32_t mode, uint32_t ringid,
		      struct unm_portspec *spec)
{
	const char *p = strpbrk(name, "{}"), *q;
	size_t blen;

	if (!p) {
		/* the deprecated way: plain name + PIPE mode + id in nr_ringid */
		if (mode != NR_REG_PIPE_MASTER && mode != NR_REG_PIPE_SLAVE)
			return -ENOENT;
		if (!*name)
			return -EINVAL;
		if ((size_t)snprintf(spec->base, sizeof(spec->base), "%s{%u", name,
				     ringid & NETMAP_RING_MASK) >= sizeof(spec->base)) {
			unm_log(UNM_LOG_ERR, "%s: pipe name too long", name);
			return -EINVAL;
		}
		spec->kind = UNM_PORT_PIPE;
		spec->id = 0;
		spec->end = mode == NR_REG_PIPE_SLAVE;
		return 0;
	}
	blen = p - name;
	if (!blen) {
		unm_log(UNM_LOG_ERR, "%s: pipe needs a name before '%c'", name, *p);
		return -EINVAL;
	}
	if (!p[1]) {
		unm_log(UNM_LOG_ERR, "%s: pipe id missing after '%c'", name, *p);
		return -EINVAL;
	}
	for (q = p + 1; *q; q++) {
		if (!isalnum((unsigned char)*q) && *q != '_') {
			unm_log(UNM_LOG_ERR, "%s: bad character '%c' in pipe id '%s'",
				name, *q, p + 1);
			return -EINVAL;
		}
	}
	if (strlen(name) >= sizeof(spec->base))
		return -EINVAL;
	spec->kind = UNM_PORT_PIPE;
	memcpy(spec->base, name, blen);
	spec->base[blen] = '{';
	strcpy(spec->base + blen + 1, p + 1);
	spec->id = 0;
	spec->end = *p == '}';
	return 0;
}

/*
 * How far ahead txsync asks for the peer's RX slots with write intent: the
 * peer's program read them last, so each line has to come over from the
 * other CPU, and the stores of the swap stall on it: a plain prefetch
 * leaves the line shared and the store still waits for the upgrade.
 * 32 slots = 8 lines in flight hides most of that latency.
 */
#define PIPE_PREFETCH_SLOTS	32

/* The slow path of pipe_txsync: say what is wrong with TX slot j. */
static int pipe_tx_bad_slot(struct unm_ring_ctx *rc, uint32_t j)
{
	const struct netmap_slot *ts = &rc->ring->slot[j];

	unm_log_err(ts->len > rc->buf_size ? UNM_ERR_LEN : UNM_ERR_BUF_IDX,
		    "%s TX%u: slot %u: buf_idx %u len %u invalid (buffers 2..%u, size %u)",
		    rc->name, rc->kr->ring_id, j, ts->buf_idx, ts->len,
		    rc->nbufs - 1, rc->buf_size);
	return -EINVAL;
}

/* A peer RX slot the peer did not own has a bad index: give it a good one. */
static void pipe_peer_bad_slot(struct unm_ring_ctx *rc, struct netmap_slot *rs, uint32_t j)
{
	unm_log_err(UNM_ERR_PEER_BUF, "%s TX%u: peer slot %u: buf_idx %u invalid, replaced",
		    rc->name, rc->kr->ring_id, j, rs->buf_idx);
	unm_slot_repair(rc, rs);
}

static int pipe_txsync(struct unm_ring_ctx *rc)
{
	struct unm_kring *kr = rc->kr, *peer = rc->peer_kr;
	struct netmap_slot *txs = rc->ring->slot, *rxs = rc->peer_ring->slot;
	uint32_t n = kr->num_slots, head = kr->rhead, j = kr->hwcur, pcur;
	uint32_t nb = rc->nbufs - 2, bsize = rc->buf_size;
	int err = 0;

	if (unlikely(unm_cpu_prefetchw < 0))
		unm_cpu_probe();
	/* [hwcur, head) in at most two runs without wrap-around */
	while (j != head && !err) {
		uint32_t end = head > j ? head : n;

		for (; j < end; j++) {
			struct netmap_slot *ts = &txs[j], *rs = &rxs[j], tmp;

			/* no fault from a prefetch past the ring: a hint only */
			unm_prefetch_w(rs + PIPE_PREFETCH_SLOTS);
			if (unlikely(ts->buf_idx - 2 >= nb || ts->len > bsize)) {
				err = pipe_tx_bad_slot(rc, j);
				break;
			}
			if (unlikely(rs->buf_idx - 2 >= nb))
				pipe_peer_bad_slot(rc, rs, j);
			tmp = *rs;
			*rs = *ts;
			*ts = tmp;
			rs->flags |= NS_BUF_CHANGED;
			ts->flags |= NS_BUF_CHANGED;
		}
		if (j == n)
			j = 0;
	}
	if (j != kr->hwcur) {
		kr->hwcur = j;
		/* Synchronizes with the acquire in unm_sync_finalize() (peer RX). */
		__atomic_store_n(&peer->hwtail, j, __ATOMIC_RELEASE);
		unm_kring_wake(peer);
	}
	/* Synchronizes with the release of hwcur in pipe_rxsync(). */
	pcur = __atomic_load_n(&peer->hwcur, __ATOMIC_ACQUIRE);
	__atomic_store_n(&kr->hwtail, pcur ? pcur - 1 : n - 1, __ATOMIC_RELAXED);
	return err;
}

static int pipe_rxsync(struct unm_ring_ctx *rc)
{
	int err;

	if (rc->kr->rhead == rc->kr->hwcur)
		return 0;
	/*
	 * Released slots go back to the peer's TX ring, checked; the release
	 * of hwcur synchronizes with its acquire in pipe_txsync().
	 */
	err = unm_rx_release(rc);
	unm_kring_wake(rc->peer_kr);
	return err;
}

const struct unm_port_ops unm_pipe_ops = {
	.name = "pipe",
	.kind = UNM_PORT_PIPE,
	.parse = pipe_parse,
	.txsync = pipe_txsync,
	.rxsync = pipe_rxsync,
};
