// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit test: the region allocator: pool defaults and checks, layout
 * offsets, object bitmaps, buffers 0/1 reserved, ring creation, the extra
 * buffer chain and its validated free. Works on a kernel object in malloc'd
 * memory (no shm).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/unm.h"

static int passed, failed;

#define CHECK(cond, ...) do {						\
	int ok_ = (cond);						\
	printf("%s ", ok_ ? "ok  " : "FAIL");				\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	ok_ ? passed++ : failed++;					\
} while (0)

int main(void)
{
	struct unm_pools p = { 0 }, bad = { .buf_size = 100 };
	struct unm_memreg *m;
	struct unm_kring kr;
	struct netmap_ring *ring;
	uint32_t idx, first, hint = 0, head, got, i, free0;
	char *base;

	unm_log_set(NULL);
	unm_k = calloc(1, sizeof(*unm_k));
	m = &unm_k->mems[0];

	CHECK(unm_pools_check(&p) == 0 && p.buf_num == 163840 && p.buf_size == 2048 &&
	      p.ring_num == 200 && p.ring_size == 36864 && p.if_num == 100 && p.if_size == 1024,
	      "zero pools -> upstream defaults (bufs %u x %u)", p.buf_num, p.buf_size);
	CHECK(unm_pools_check(&bad) < 0, "buf_size 100 (not a multiple of 64) refused");

	m->id = 1;
	m->p = (struct unm_pools){ 4, 1024, 8, 36864, 4096, 2048 };
	unm_mem_layout(m);
	CHECK(m->if_ofs == 0 && m->ring_ofs == 4096 && m->buf_ofs == 4096 + 8 * 36864 &&
	      m->memsize == m->buf_ofs + 4096ULL * 2048,
	      "layout: if 0, rings %llu, bufs %llu, size %llu", (unsigned long long)m->ring_ofs,
	      (unsigned long long)m->buf_ofs, (unsigned long long)m->memsize);
	m->buf_map[0] = 3;	/* buffers 0 and 1 reserved, as mem_create does */
	m->buf_free = 4094;
	m->buf_hint = 2;
	base = calloc(1, m->memsize);

	CHECK(unm_mem_buf_alloc_locked(m, &idx) == 0 && idx == 2, "first buffer is %u", idx);
	unm_mem_buf_free_locked(m, idx);
	CHECK(m->buf_free == 4094, "free restores the count (%u)", m->buf_free);
	unm_mem_buf_free_locked(m, idx);
	unm_mem_buf_free_locked(m, 1);
	unm_mem_buf_free_locked(m, 999999);
	CHECK(m->buf_free == 4094, "double free / reserved / out of range ignored (%u)", m->buf_free);

	/* contiguous objects, first fit, exhaustion */
	CHECK(unm_mem_obj_alloc(m->ring_map, 8, 3, &hint, &first) == 0 && first == 0,
	      "3 ring objects at %u", first);
	CHECK(unm_mem_obj_alloc(m->ring_map, 8, 5, &hint, &first) == 0 && first == 3,
	      "5 more at %u", first);
	CHECK(unm_mem_obj_alloc(m->ring_map, 8, 1, &hint, &first) < 0, "pool of 8 exhausted");
	unm_mem_obj_free(m->ring_map, 0, 8);

	/* a ring: header, one fresh buffer per slot */
	memset(&kr, 0, sizeof(kr));
	kr.num_slots = 1024;
	free0 = m->buf_free;
	CHECK(unm_mem_ring_create_locked(0, base, &kr, 2, UNM_TX) == 0, "ring created");
	ring = (struct netmap_ring *)(base + kr.ring_ofs);
	CHECK(ring->num_slots == 1024 && ring->nr_buf_size == 2048 && ring->ringid == 2 &&
	      ring->dir == 0 && ring->tail == 1023 && kr.hwtail == 1023,
	      "ring header: %u slots, tail %u", ring->num_slots, ring->tail);
	CHECK((char *)ring + ring->buf_ofs == base + m->buf_ofs, "buf_ofs points at the pool");
	for (i = 0, got = 1; i < 1024; i++)
		if (ring->slot[i].buf_idx < 2 || ring->slot[i].buf_idx >= 4096)
			got = 0;
	CHECK(got && m->buf_free == free0 - 1024, "1024 valid buffers taken (%u free)", m->buf_free);
	unm_mem_ring_delete_locked(0, base, &kr);
	CHECK(m->buf_free == free0, "ring delete returns them (%u free)", m->buf_free);

	/* extra buffers: chained through their first 4 bytes */
	got = unm_mem_extra_alloc_locked(0, base, &head, 10);
	CHECK(got == 10 && head >= 2, "10 extra buffers, head %u", head);
	for (i = 0, idx = head; idx && i < 20; i++)
		memcpy(&idx, base + m->buf_ofs + (uint64_t)idx * 2048, 4);
	CHECK(i == 10, "chain has %u links and ends with 0", i);
	unm_mem_extra_free_locked(0, base, head);
	CHECK(m->buf_free == free0, "chain freed (%u free)", m->buf_free);
	/* a chain the program corrupted into a loop: freed once, no hang */
	got = unm_mem_extra_alloc_locked(0, base, &head, 3);
	memcpy(&idx, base + m->buf_ofs + (uint64_t)head * 2048, 4);	/* second */
	memcpy(&first, base + m->buf_ofs + (uint64_t)idx * 2048, 4);	/* third */
	memcpy(base + m->buf_ofs + (uint64_t)first * 2048, &head, 4);	/* third -> first */
	unm_mem_extra_free_locked(0, base, head);
	CHECK(m->buf_free == free0, "looping chain freed once (%u free)", m->buf_free);
	/* a chain pointing outside the pool stops there */
	got = unm_mem_extra_alloc_locked(0, base, &head, 2);
	idx = 0xfffffff0;
	memcpy(&first, base + m->buf_ofs + (uint64_t)head * 2048, 4);
	memcpy(base + m->buf_ofs + (uint64_t)first * 2048, &idx, 4);
	unm_mem_extra_free_locked(0, base, head);
	CHECK(m->buf_free == free0, "chain with a bad index freed up to it (%u free)", m->buf_free);

	free(base);
	free(unm_k);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
