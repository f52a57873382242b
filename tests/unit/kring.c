// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit test: the sync prologue (head/cur validation, wraparound), finalize
 * and ring reinit, on a synthetic ring in malloc'd memory. Table driven.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/unm.h"

static int passed, failed;

static void check(int ok, const char *fmt, unsigned a, unsigned b)
{
	char msg[160];

	snprintf(msg, sizeof(msg), fmt, a, b);
	printf("%s %s\n", ok ? "ok  " : "FAIL", msg);
	ok ? passed++ : failed++;
}

struct pcase {
	uint32_t hwcur, rtail;		/* kernel view */
	uint32_t head, cur;		/* what the program wrote */
	int ok;
};

#define N 16

static const struct pcase cases[] = {
	{ 0, 15, 0, 0, 1 },		/* nothing moved */
	{ 0, 15, 5, 7, 1 },
	{ 0, 15, 15, 15, 1 },		/* head == tail: all given */
	{ 0, 15, 16, 16, 0 },		/* head >= num_slots */
	{ 0, 15, 5, 4, 0 },		/* cur behind head */
	{ 0, 15, 5, 16, 0 },		/* cur >= num_slots */
	{ 4, 10, 3, 3, 0 },		/* head behind hwcur */
	{ 4, 10, 11, 11, 0 },		/* head past tail */
	{ 4, 10, 10, 10, 1 },
	{ 12, 3, 14, 1, 1 },		/* wraparound: cur wrapped */
	{ 12, 3, 2, 3, 1 },		/* head wrapped */
	{ 12, 3, 5, 5, 0 },		/* head in the kernel's part */
	{ 12, 3, 14, 13, 0 },		/* cur behind head across wrap */
	{ 12, 3, 1, 14, 0 },		/* head wrapped, cur did not */
	{ 12, 3, 12, 4, 0 },		/* cur past tail */
	{ 15, 14, 14, 14, 1 },		/* full circle minus one */
	{ 15, 14, 15, 14, 1 },
};

int main(void)
{
	struct netmap_ring *ring = calloc(1, sizeof(*ring) + N * sizeof(struct netmap_slot));
	struct unm_kring kr;
	struct unm_ring_ctx rc;
	unsigned i;

	memset(&rc, 0, sizeof(rc));
	rc.kr = &kr;
	rc.ring = ring;
	rc.nbufs = 100;
	rc.buf_size = 2048;
	rc.name = "unit{1";
	unm_log_set(NULL);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct pcase *c = &cases[i];
		uint32_t r;

		memset(&kr, 0, sizeof(kr));
		kr.num_slots = N;
		kr.hwcur = c->hwcur;
		kr.rtail = kr.hwtail = c->rtail;
		ring->head = c->head;
		ring->cur = c->cur;
		ring->tail = c->rtail;
		r = unm_txsync_prologue(&rc);
		check((r < N) == c->ok && (!c->ok || (r == c->head && kr.rcur == c->cur)),
		      "prologue case %u (head %u): accepted iff valid", i, c->head);
	}
	/* tail overwritten is restored, not an error */
	memset(&kr, 0, sizeof(kr));
	kr.num_slots = N;
	kr.rtail = kr.hwtail = 9;
	ring->head = ring->cur = 2;
	ring->tail = 1234;
	check(unm_rxsync_prologue(&rc) == 2 && ring->tail == 9,
	      "overwritten tail restored to %u (was %u)", 9, 1234);
	/* finalize publishes hwtail */
	kr.hwtail = 11;
	unm_sync_finalize(&rc);
	check(ring->tail == 11 && kr.rtail == 11, "finalize: tail %u rtail %u", ring->tail, kr.rtail);
	/* reinit: head/cur back to hwcur, bad lens in the owned part fixed */
	kr.hwcur = 3;
	kr.hwtail = 6;
	for (i = 0; i < N; i++) {
		ring->slot[i].buf_idx = 10 + i;
		ring->slot[i].len = 60;
	}
	ring->slot[4].len = 5000;	/* owned by the program: repaired */
	ring->slot[8].len = 5000;	/* owned by the kernel: left alone */
	ring->head = 9;
	ring->cur = 12;
	check(unm_ring_reinit(&rc) == 1, "reinit reports repaired slots (%u%u)", 0, 0);
	check(ring->head == 3 && ring->cur == 3, "reinit: head %u cur %u == hwcur 3", ring->head,
	      ring->cur);
	check(ring->tail == 6, "reinit: tail %u == hwtail %u", ring->tail, 6);
	check(ring->slot[4].len == 0 && ring->slot[8].len == 5000,
	      "reinit: owned slot len %u fixed, kernel slot len %u untouched", ring->slot[4].len,
	      ring->slot[8].len);
	check(unm_ring_reinit(&rc) == 0, "second reinit finds nothing (%u%u)", 0, 0);
	/* slot validation */
	{
		struct netmap_slot s = { .buf_idx = 1, .len = 10 };

		check(!unm_slot_ok(&rc, &s), "buf_idx %u rejected (len %u)", s.buf_idx, s.len);
		s.buf_idx = 100;
		check(!unm_slot_ok(&rc, &s), "buf_idx %u (== nbufs) rejected (len %u)", s.buf_idx, s.len);
		s.buf_idx = 99;
		check(unm_slot_ok(&rc, &s), "buf_idx %u len %u accepted", s.buf_idx, s.len);
		s.len = 2049;
		check(!unm_slot_ok(&rc, &s), "buf_idx %u len %u rejected", s.buf_idx, s.len);
	}
	/* ring index math */
	check(unm_ring_next(N - 1, N) == 0 && unm_ring_next(3, N) == 4,
	      "unm_ring_next wraps at %u (next of 3 is %u)", N, unm_ring_next(3, N));
	printf("prologue errors counted: %llu\n", (unsigned long long)(unm_err_count(UNM_ERR_HEAD) +
								     unm_err_count(UNM_ERR_CUR)));
	free(ring);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
