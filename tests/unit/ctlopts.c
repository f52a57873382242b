// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit test: request header checks (nr_version 14..15, nr_reserved) and the
 * option-chain walk (unknown type, type 0, duplicates, loops, over-long
 * chains, a chain into unmapped memory), with each option's nro_status.
 */
#include <errno.h>
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

static struct nmreq_option opts[80];

static void chain(unsigned n, const uint32_t *types)
{
	unsigned i;

	memset(opts, 0, sizeof(opts));
	for (i = 0; i < n; i++) {
		opts[i].nro_reqtype = types ? types[i] : NETMAP_REQ_OPT_OFFSETS + 0 * i;
		opts[i].nro_next = i + 1 < n ? (uintptr_t)&opts[i + 1] : 0;
	}
}

int main(void)
{
	static const struct { uint16_t version; uint32_t reserved; int err; } hcases[] = {
		{ 13, 0, -EINVAL }, { 14, 0, 0 }, { 15, 0, 0 }, { 16, 0, -EINVAL },
		{ 0, 0, -EINVAL }, { 14, 1, -EINVAL },
	};
	struct nmreq_header h;
	struct nmreq_option *tab[4];
	unsigned i;
	int r;

	unm_log_set(NULL);
	for (i = 0; i < ARRAY_SIZE(hcases); i++) {
		memset(&h, 0, sizeof(h));
		h.nr_version = hcases[i].version;
		h.nr_reserved = hcases[i].reserved;
		r = unm_hdr_check(&h);
		CHECK(r == hcases[i].err, "header version %u reserved %u -> %d", hcases[i].version,
		      hcases[i].reserved, r);
	}
	memset(&h, 0, sizeof(h));
	h.nr_version = NETMAP_API;
	snprintf(h.nr_name, sizeof(h.nr_name), "unit");

	r = unm_opt_walk(&h, tab, 4);
	CHECK(r == 0, "no options -> %d", r);

	{
		uint32_t t[] = { NETMAP_REQ_OPT_OFFSETS, NETMAP_REQ_OPT_UNM_POOLS };

		chain(2, t);
		h.nr_options = (uintptr_t)opts;
		r = unm_opt_walk(&h, tab, 4);
		CHECK(r == 0 && opts[0].nro_status == EOPNOTSUPP && opts[1].nro_status == EOPNOTSUPP,
		      "known options walk fine, status EOPNOTSUPP until used (%d)", r);
	}
	{
		uint32_t t[] = { NETMAP_REQ_OPT_OFFSETS, 0x7777 };

		chain(2, t);
		r = unm_opt_walk(&h, tab, 4);
		CHECK(r == -EOPNOTSUPP && opts[1].nro_status == EOPNOTSUPP,
		      "unknown type -> %d, status %u", r, opts[1].nro_status);
	}
	{
		uint32_t t[] = { 0 };

		chain(1, t);
		r = unm_opt_walk(&h, tab, 4);
		CHECK(r == -EINVAL && opts[0].nro_status == EINVAL, "type 0 -> %d, status %u", r,
		      opts[0].nro_status);
	}
	{
		uint32_t t[] = { NETMAP_REQ_OPT_CSB, NETMAP_REQ_OPT_OFFSETS, NETMAP_REQ_OPT_CSB };

		chain(3, t);
		r = unm_opt_walk(&h, tab, 4);
		CHECK(r == -EINVAL && opts[0].nro_status == EINVAL && opts[2].nro_status == EINVAL,
		      "duplicate -> %d, both marked EINVAL (%u)", r, opts[0].nro_status);
	}
	{
		uint32_t t[] = { NETMAP_REQ_OPT_CSB, NETMAP_REQ_OPT_OFFSETS, NETMAP_REQ_OPT_EXTMEM };

		chain(3, t);
		opts[2].nro_next = (uintptr_t)&opts[1];
		r = unm_opt_walk(&h, tab, 4);
		CHECK(r == -EMSGSIZE, "loop back to option 1 -> %d", r);
		opts[0].nro_next = (uintptr_t)&opts[0];
		r = unm_opt_walk(&h, tab, 4);
		CHECK(r == -EMSGSIZE, "option pointing at itself -> %d", r);
	}
	chain(UNM_OPT_MAX_CHAIN + 5, NULL);
	for (i = 0; i < UNM_OPT_MAX_CHAIN + 5; i++)
		opts[i].nro_reqtype = NETMAP_REQ_OPT_OFFSETS;
	r = unm_opt_walk(&h, tab, 4);
	CHECK(r == -EMSGSIZE, "chain of %d options -> %d", UNM_OPT_MAX_CHAIN + 5, r);
	{
		uint32_t t[] = { NETMAP_REQ_OPT_CSB };

		chain(1, t);
		opts[0].nro_next = 0x18;	/* truncated: into the zero page */
		r = unm_opt_walk(&h, tab, 4);
		CHECK(r == -EFAULT, "next pointer into unmapped memory -> %d", r);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
