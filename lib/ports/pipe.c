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
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/unm.h"

static int pipe_parse(const char *name, uint32_t mode, uint32_t ringid,
		      struct unm_portspec *spec)
{
	const char *p = strpbrk(name, "{}");
	char *end;
	unsigned long id;
	size_t blen;

	if (!p) {
		/* the deprecated way: plain name + PIPE mode + id in nr_ringid */
		if (mode != NR_REG_PIPE_MASTER && mode != NR_REG_PIPE_SLAVE)
			return -ENOENT;
		if (!*name || strlen(name) >= sizeof(spec->base))
			return -EINVAL;
		spec->kind = UNM_PORT_PIPE;
		strcpy(spec->base, name);
		spec->id = ringid & NETMAP_RING_MASK;
		spec->end = mode == NR_REG_PIPE_SLAVE;
		return 0;
	}
	blen = p - name;
	if (!blen) {
		unm_log(UNM_LOG_ERR, "%s: pipe needs a name before '%c'", name, *p);
		return -EINVAL;
	}
	if (p[1] < '0' || p[1] > '9') {
		unm_log(UNM_LOG_ERR, "%s: pipe id after '%c' must be a number", name, *p);
		return -EINVAL;
	}
	id = strtoul(p + 1, &end, 10);
	if (*end || id > 0xffffffffUL) {
		unm_log(UNM_LOG_ERR, "%s: bad pipe id '%s'", name, p + 1);
		return -EINVAL;
	}
	if (blen >= sizeof(spec->base))
		return -EINVAL;
	spec->kind = UNM_PORT_PIPE;
	memcpy(spec->base, name, blen);
	spec->base[blen] = '\0';
	spec->id = id;
	spec->end = *p == '}';
	return 0;
}

static int pipe_txsync(struct unm_ring_ctx *rc)
{
	struct unm_kring *kr = rc->kr, *peer = rc->peer_kr;
	struct netmap_slot *txs = rc->ring->slot, *rxs = rc->peer_ring->slot;
	uint32_t n = kr->num_slots, head = kr->rhead, j = kr->hwcur, pcur;
	int err = 0;

	while (j != head) {
		struct netmap_slot *ts = &txs[j], *rs = &rxs[j], tmp;

		if (unlikely(!unm_slot_ok(rc, ts))) {
			unm_log_err(ts->len > rc->buf_size ? UNM_ERR_LEN : UNM_ERR_BUF_IDX,
				    "%s TX%u: slot %u: buf_idx %u len %u invalid (buffers 2..%u, size %u)",
				    rc->name, kr->ring_id, j, ts->buf_idx, ts->len,
				    rc->nbufs - 1, rc->buf_size);
			err = -EINVAL;
			break;
		}
		if (unlikely(rs->buf_idx < 2 || rs->buf_idx >= rc->nbufs)) {
			/* the peer scribbled on a slot it did not own */
			unm_log_err(UNM_ERR_PEER_BUF, "%s TX%u: peer slot %u: buf_idx %u invalid, replaced",
				    rc->name, kr->ring_id, j, rs->buf_idx);
			unm_slot_repair(rc, rs);
		}
		tmp = *rs;
		*rs = *ts;
		*ts = tmp;
		rs->flags |= NS_BUF_CHANGED;
		ts->flags |= NS_BUF_CHANGED;
		j = unm_ring_next(j, n);
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
	struct unm_kring *kr = rc->kr;
	struct netmap_slot *slot = rc->ring->slot;
	uint32_t n = kr->num_slots, head = kr->rhead, j = kr->hwcur;
	int err = 0;

	if (head == j)
		return 0;
	/* released slots go back to the peer's TX ring: check what we return */
	for (; j != head; j = unm_ring_next(j, n)) {
		struct netmap_slot *s = &slot[j];

		if (unlikely(s->buf_idx < 2 || s->buf_idx >= rc->nbufs)) {
			unm_log_err(UNM_ERR_BUF_IDX, "%s RX%u: released slot %u: buf_idx %u invalid (buffers 2..%u), repaired",
				    rc->name, kr->ring_id, j, s->buf_idx, rc->nbufs - 1);
			unm_slot_repair(rc, s);
			err = -EINVAL;
		}
	}
	/* Synchronizes with the acquire of hwcur in pipe_txsync(). */
	__atomic_store_n(&kr->hwcur, head, __ATOMIC_RELEASE);
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
