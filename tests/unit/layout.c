// SPDX-License-Identifier: BSD-2-Clause
/*
 * ABI layout test. The headers pin sizes and offsets at compile time; this
 * test checks them again at run time from tables (so a failure names the
 * field and both values), checks the constants and ioctl numbers against
 * the values upstream netmap uses on Linux, and exercises the
 * netmap_user.h pointer and index helpers on a synthetic region in
 * malloc'd memory: one netmap_if, NIC and host rings, a buffer pool.
 *
 * It includes every public header, with NETMAP_WITH_LIBS, so that they are
 * known to compile together.
 */
#define NETMAP_WITH_LIBS
#include <net/netmap.h>
#include <net/netmap_user.h>
#include <libnetmap.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void
check_u64(const char *what, uint64_t got, uint64_t want)
{
	if (got == want) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s: got %llu (0x%llx), want %llu (0x%llx)\n", what,
	       (unsigned long long)got, (unsigned long long)got,
	       (unsigned long long)want, (unsigned long long)want);
}

static void
check_ptr(const char *what, const void *got, const void *want)
{
	if (got == want) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s: got %p, want %p\n", what, got, want);
}

/* ------------------------------------------------------------------ */

struct layout_case {
	const char *what;
	size_t got;
	size_t want;
};

#define SZ(t, n)	{ "sizeof(" #t ")", sizeof(t), n }
#define OF(t, f, n)	{ "offsetof(" #t ", " #f ")", offsetof(t, f), n }

static const struct layout_case layout_cases[] = {
	SZ(struct netmap_slot, 16),
	OF(struct netmap_slot, buf_idx, 0),
	OF(struct netmap_slot, len, 4),
	OF(struct netmap_slot, flags, 6),
	OF(struct netmap_slot, ptr, 8),

	SZ(struct netmap_ring, 256),
	OF(struct netmap_ring, buf_ofs, 0),
	OF(struct netmap_ring, num_slots, 8),
	OF(struct netmap_ring, nr_buf_size, 12),
	OF(struct netmap_ring, ringid, 16),
	OF(struct netmap_ring, dir, 18),
	OF(struct netmap_ring, head, 20),
	OF(struct netmap_ring, cur, 24),
	OF(struct netmap_ring, tail, 28),
	OF(struct netmap_ring, flags, 32),
	OF(struct netmap_ring, ts, 40),
	OF(struct netmap_ring, offset_mask, 56),
	OF(struct netmap_ring, buf_align, 64),
	OF(struct netmap_ring, sem, 128),
	OF(struct netmap_ring, slot, 256),

	SZ(struct netmap_if, 56),
	OF(struct netmap_if, ni_name, 0),
	OF(struct netmap_if, ni_version, 16),
	OF(struct netmap_if, ni_flags, 20),
	OF(struct netmap_if, ni_tx_rings, 24),
	OF(struct netmap_if, ni_rx_rings, 28),
	OF(struct netmap_if, ni_bufs_head, 32),
	OF(struct netmap_if, ni_host_tx_rings, 36),
	OF(struct netmap_if, ni_host_rx_rings, 40),
	OF(struct netmap_if, ni_spare1, 44),
	OF(struct netmap_if, ring_ofs, 56),

	SZ(struct nmreq_option, 24),
	OF(struct nmreq_option, nro_next, 0),
	OF(struct nmreq_option, nro_reqtype, 8),
	OF(struct nmreq_option, nro_status, 12),
	OF(struct nmreq_option, nro_size, 16),

	SZ(struct nmreq_header, 88),
	OF(struct nmreq_header, nr_version, 0),
	OF(struct nmreq_header, nr_reqtype, 2),
	OF(struct nmreq_header, nr_reserved, 4),
	OF(struct nmreq_header, nr_name, 8),
	OF(struct nmreq_header, nr_options, 72),
	OF(struct nmreq_header, nr_body, 80),

	SZ(struct nmreq_register, 56),
	OF(struct nmreq_register, nr_offset, 0),
	OF(struct nmreq_register, nr_memsize, 8),
	OF(struct nmreq_register, nr_tx_slots, 16),
	OF(struct nmreq_register, nr_rx_slots, 20),
	OF(struct nmreq_register, nr_tx_rings, 24),
	OF(struct nmreq_register, nr_rx_rings, 26),
	OF(struct nmreq_register, nr_host_tx_rings, 28),
	OF(struct nmreq_register, nr_host_rx_rings, 30),
	OF(struct nmreq_register, nr_mem_id, 32),
	OF(struct nmreq_register, nr_ringid, 34),
	OF(struct nmreq_register, nr_mode, 36),
	OF(struct nmreq_register, nr_extra_bufs, 40),
	OF(struct nmreq_register, nr_flags, 48),

	SZ(struct nmreq_port_info_get, 32),
	OF(struct nmreq_port_info_get, nr_tx_slots, 8),
	OF(struct nmreq_port_info_get, nr_tx_rings, 16),
	OF(struct nmreq_port_info_get, nr_host_tx_rings, 20),
	OF(struct nmreq_port_info_get, nr_mem_id, 24),
	SZ(struct nmreq_vale_attach, 64),
	OF(struct nmreq_vale_attach, port_index, 56),
	SZ(struct nmreq_vale_detach, 8),
	SZ(struct nmreq_vale_list, 8),
	OF(struct nmreq_vale_list, nr_port_idx, 4),
	SZ(struct nmreq_port_hdr, 8),
	SZ(struct nmreq_vale_newif, 16),
	OF(struct nmreq_vale_newif, nr_mem_id, 12),
	SZ(struct nmreq_vale_polling, 16),
	SZ(struct nmreq_pools_info, 64),
	OF(struct nmreq_pools_info, nr_mem_id, 8),
	OF(struct nmreq_pools_info, nr_if_pool_offset, 16),
	OF(struct nmreq_pools_info, nr_if_pool_objtotal, 24),
	OF(struct nmreq_pools_info, nr_ring_pool_offset, 32),
	OF(struct nmreq_pools_info, nr_buf_pool_offset, 48),
	OF(struct nmreq_pools_info, nr_buf_pool_objsize, 60),
	SZ(struct nmreq_sync_kloop_start, 8),
	SZ(struct nm_csb_atok, 64),
	SZ(struct nm_csb_ktoa, 64),
	SZ(struct nmreq_opt_sync_kloop_eventfds, 24),
	SZ(struct nmreq_opt_sync_kloop_mode, 32),
	OF(struct nmreq_opt_sync_kloop_mode, mode, 24),
	SZ(struct nmreq_opt_extmem, 96),
	OF(struct nmreq_opt_extmem, nro_usrptr, 24),
	OF(struct nmreq_opt_extmem, nro_info, 32),
	SZ(struct nmreq_opt_csb, 40),
	OF(struct nmreq_opt_csb, csb_atok, 24),
	OF(struct nmreq_opt_csb, csb_ktoa, 32),
	SZ(struct nmreq_opt_offsets, 56),
	OF(struct nmreq_opt_offsets, nro_max_offset, 24),
	OF(struct nmreq_opt_offsets, nro_initial_offset, 32),
	OF(struct nmreq_opt_offsets, nro_offset_bits, 40),
	OF(struct nmreq_opt_offsets, nro_tx_align, 44),
	OF(struct nmreq_opt_offsets, nro_min_gap, 48),
	SZ(struct nmreq_opt_unm_pools, 88),
	OF(struct nmreq_opt_unm_pools, nro_info, 24),

	SZ(struct nmreq, 60),
	OF(struct nmreq, nr_name, 0),
	OF(struct nmreq, nr_version, 16),
	OF(struct nmreq, nr_offset, 20),
	OF(struct nmreq, nr_memsize, 24),
	OF(struct nmreq, nr_tx_slots, 28),
	OF(struct nmreq, nr_rx_slots, 32),
	OF(struct nmreq, nr_tx_rings, 36),
	OF(struct nmreq, nr_rx_rings, 38),
	OF(struct nmreq, nr_ringid, 40),
	OF(struct nmreq, nr_cmd, 42),
	OF(struct nmreq, nr_arg1, 44),
	OF(struct nmreq, nr_arg2, 46),
	OF(struct nmreq, nr_arg3, 48),
	OF(struct nmreq, nr_flags, 52),
	OF(struct nmreq, spare2, 56),
	SZ(struct netmap_pools_info, 48),
	SZ(struct nm_ifreq, 272),

	/* pcap compatibility of the nm_open() family */
	OF(struct nm_pkthdr, ts, 0),
	OF(struct nm_pkthdr, caplen, 16),
	OF(struct nm_pkthdr, len, 20),
	SZ(struct nm_stat, 12),
};

/*
 * The user-side structs of netmap_user.h and libnetmap.h on LP64, as
 * upstream's declarations lay them out (measured from a build against
 * upstream's headers): programs move between the two sets of headers
 * without a field changing size or place.
 */
#if UINTPTR_MAX == UINT64_MAX
static const struct layout_case lp64_cases[] = {
	SZ(struct nm_desc, 752),
	OF(struct nm_desc, fd, 8),
	OF(struct nm_desc, mem, 16),
	OF(struct nm_desc, memsize, 24),
	SZ(((struct nm_desc *)0)->memsize, 4),
	OF(struct nm_desc, done_mmap, 28),
	OF(struct nm_desc, nifp, 32),
	OF(struct nm_desc, first_tx_ring, 40),
	OF(struct nm_desc, cur_rx_ring, 50),
	OF(struct nm_desc, req, 52),
	OF(struct nm_desc, hdr, 112),
	OF(struct nm_desc, some_ring, 168),
	OF(struct nm_desc, buf_start, 176),
	OF(struct nm_desc, buf_end, 184),
	OF(struct nm_desc, snaplen, 192),
	OF(struct nm_desc, errbuf, 208),
	OF(struct nm_desc, if_flags, 216),
	OF(struct nm_desc, if_curcap, 224),
	OF(struct nm_desc, st, 228),
	OF(struct nm_desc, msg, 240),
	SZ(struct nm_pkthdr, 56),
	OF(struct nm_pkthdr, flags, 24),
	OF(struct nm_pkthdr, d, 32),
	OF(struct nm_pkthdr, slot, 40),
	OF(struct nm_pkthdr, buf, 48),
	SZ(struct nmport_d, 216),
	OF(struct nmport_d, reg, 88),
	OF(struct nmport_d, mem, 144),
	OF(struct nmport_d, ctx, 152),
	OF(struct nmport_d, register_done, 160),
	OF(struct nmport_d, mmap_done, 164),
	OF(struct nmport_d, extmem, 168),
	OF(struct nmport_d, fd, 176),
	OF(struct nmport_d, nifp, 184),
	OF(struct nmport_d, first_tx_ring, 192),
	OF(struct nmport_d, cur_rx_ring, 202),
	OF(struct nmport_d, clist, 208),
	SZ(struct nmctx, 48),
	OF(struct nmctx, error, 8),
	OF(struct nmctx, malloc, 16),
	OF(struct nmctx, free, 24),
	OF(struct nmctx, lock, 32),
	OF(struct nmctx, mem_descs, 40),
	SZ(struct nmem_d, 48),
	OF(struct nmem_d, refcount, 4),
	OF(struct nmem_d, mem, 8),
	OF(struct nmem_d, size, 16),
	OF(struct nmem_d, is_extmem, 24),
	OF(struct nmem_d, next, 32),
	OF(struct nmem_d, prev, 40),
	SZ(struct nmreq_opt_parser, 304),
	OF(struct nmreq_opt_parser, default_key, 16),
	OF(struct nmreq_opt_parser, flags, 24),
	OF(struct nmreq_opt_parser, next, 32),
	OF(struct nmreq_opt_parser, keys, 40),
	SZ(struct nmreq_opt_key, 16),
	SZ(struct nmreq_parse_ctx, 144),
	OF(struct nmreq_parse_ctx, keys, 16),
};
#endif

/* ------------------------------------------------------------------ */

struct const_case {
	const char *what;
	uint64_t got;
	uint64_t want;
};

#define K(name, v)	{ #name, (uint64_t)(name), (uint64_t)(v) }

/*
 * Values as upstream netmap defines them; ioctl numbers as they encode on
 * Linux (asm-generic ioctl layout: dir << 30 | size << 16 | type << 8 | nr).
 */
static const struct const_case const_cases[] = {
	K(NETMAP_API, 14),
	K(NETMAP_MIN_API, 14),
	K(NETMAP_MAX_API, 15),
	K(NM_CACHE_ALIGN, 128),
	K(IFNAMSIZ, 16),
	K(NETMAP_REQ_IFNAMSIZ, 64),
	K(NETMAP_REQ_MAXSIZE, 4096),
	K(NETMAP_MAX_FRAGS, 64),

	K(NIOCCTRL, 0xc0586997),
	K(NIOCTXSYNC, 0x6994),
	K(NIOCRXSYNC, 0x6995),
	K(NIOCGINFO, 0xc03c6991),
	K(NIOCREGIF, 0xc03c6992),
	K(NIOCCONFIG, 0xc1106996),

	K(NS_BUF_CHANGED, 0x0001),
	K(NS_REPORT, 0x0002),
	K(NS_FORWARD, 0x0004),
	K(NS_NO_LEARN, 0x0008),
	K(NS_INDIRECT, 0x0010),
	K(NS_MOREFRAG, 0x0020),
	K(NS_TXMON, 0x0040),
	K(NS_PORT_SHIFT, 8),
	K(NS_PORT_MASK, 0xff00),
	K(NR_TIMESTAMP, 0x0002),
	K(NR_FORWARD, 0x0004),
	K(NI_PRIV_MEM, 0x1),

	K(NETMAP_REQ_REGISTER, 1),
	K(NETMAP_REQ_PORT_INFO_GET, 2),
	K(NETMAP_REQ_VALE_ATTACH, 3),
	K(NETMAP_REQ_VALE_DETACH, 4),
	K(NETMAP_REQ_VALE_LIST, 5),
	K(NETMAP_REQ_PORT_HDR_SET, 6),
	K(NETMAP_REQ_PORT_HDR_GET, 7),
	K(NETMAP_REQ_VALE_NEWIF, 8),
	K(NETMAP_REQ_VALE_DELIF, 9),
	K(NETMAP_REQ_VALE_POLLING_ENABLE, 10),
	K(NETMAP_REQ_VALE_POLLING_DISABLE, 11),
	K(NETMAP_REQ_POOLS_INFO_GET, 12),
	K(NETMAP_REQ_SYNC_KLOOP_START, 13),
	K(NETMAP_REQ_SYNC_KLOOP_STOP, 14),
	K(NETMAP_REQ_CSB_ENABLE, 15),

	K(NETMAP_REQ_OPT_EXTMEM, 1),
	K(NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS, 2),
	K(NETMAP_REQ_OPT_CSB, 3),
	K(NETMAP_REQ_OPT_SYNC_KLOOP_MODE, 4),
	K(NETMAP_REQ_OPT_OFFSETS, 5),
	K(NETMAP_REQ_OPT_MAX, 6),
	K(NETMAP_REQ_OPT_UNM_POOLS, 0x554e),

	K(NR_REG_DEFAULT, 0),
	K(NR_REG_ALL_NIC, 1),
	K(NR_REG_SW, 2),
	K(NR_REG_NIC_SW, 3),
	K(NR_REG_ONE_NIC, 4),
	K(NR_REG_PIPE_MASTER, 5),
	K(NR_REG_PIPE_SLAVE, 6),
	K(NR_REG_NULL, 7),
	K(NR_REG_ONE_SW, 8),
	K(NR_REG_MASK, 0xf),

	K(NR_MONITOR_TX, 0x100),
	K(NR_MONITOR_RX, 0x200),
	K(NR_ZCOPY_MON, 0x400),
	K(NR_EXCLUSIVE, 0x800),
	K(NR_RX_RINGS_ONLY, 0x2000),
	K(NR_TX_RINGS_ONLY, 0x4000),
	K(NR_ACCEPT_VNET_HDR, 0x8000),
	K(NR_DO_RX_POLL, 0x10000),
	K(NR_NO_TX_POLL, 0x20000),

	K(NETMAP_HW_RING, 0x4000),
	K(NETMAP_SW_RING, 0x2000),
	K(NETMAP_RING_MASK, 0x0fff),
	K(NETMAP_NO_TX_POLL, 0x1000),
	K(NETMAP_DO_RX_POLL, 0x8000),
	K(NETMAP_BDG_ATTACH, 1),
	K(NETMAP_BDG_DETACH, 2),
	K(NETMAP_BDG_REGOPS, 3),
	K(NETMAP_BDG_LIST, 4),
	K(NETMAP_BDG_VNET_HDR, 5),
	K(NETMAP_BDG_NEWIF, 6),
	K(NETMAP_BDG_DELIF, 7),
	K(NETMAP_PT_HOST_CREATE, 8),
	K(NETMAP_PT_HOST_DELETE, 9),
	K(NETMAP_BDG_POLLING_ON, 10),
	K(NETMAP_BDG_POLLING_OFF, 11),
	K(NETMAP_VNET_HDR_GET, 12),
	K(NETMAP_POOLS_INFO_GET, 13),
	K(NETMAP_BDG_HOST, 1),
	K(NETMAP_POLLING_MODE_SINGLE_CPU, 1),
	K(NETMAP_POLLING_MODE_MULTI_CPU, 2),
	K(NM_OPT_SYNC_KLOOP_DIRECT_TX, 1),
	K(NM_OPT_SYNC_KLOOP_DIRECT_RX, 2),

	K(NM_OPEN_NO_MMAP, 0x040000),
	K(NM_OPEN_IFNAME, 0x080000),
	K(NM_OPEN_ARG1, 0x100000),
	K(NM_OPEN_ARG2, 0x200000),
	K(NM_OPEN_ARG3, 0x400000),
	K(NM_OPEN_RING_CFG, 0x800000),
	K(NM_MORE_PKTS, 1),
	K(NM_ERRBUF_SIZE, 512),
	K(NMREQ_OPT_MAXKEYS, 16),
	K(NMREQ_OPTK_ALLOWEMPTY, 1),
	K(NMREQ_OPTK_MUSTSET, 2),
	K(NMREQ_OPTK_DEFAULT, 4),
	K(NMREQ_OPTF_DISABLED, 1),
	K(NMREQ_OPTF_ALLOWEMPTY, 2),
};

/* ------------------------------------------------------------------ */
/* A synthetic region                                                  */
/* ------------------------------------------------------------------ */

/*
 *   base +0      netmap_if, ring_ofs[6]: tx0 tx1 htx0 | rx0 rx1 hrx0
 *   base +1024   6 rings, RING_STRIDE apart, NSLOTS slots each
 *   base +8192   NBUFS buffers of BUFSZ bytes
 */
#define NTX		2
#define NRX		2
#define NRINGS		(NTX + 1 + NRX + 1)
#define NSLOTS		8
#define RINGS_OFS	1024
#define RING_STRIDE	512
#define BUFS_OFS	8192
#define BUFSZ		2048
#define NBUFS		16
#define REGION_SIZE	(BUFS_OFS + NBUFS * BUFSZ)

/* The ABI structs are read-only for programs; the "kernel" sets them. */
#define KSET(field, v)						\
	do {							\
		__typeof__(field) _v = (v);			\
		memcpy((void *)&(field), &_v, sizeof(_v));	\
	} while (0)

static char *
region_create(void)
{
	char *base = aligned_alloc(4096, REGION_SIZE);
	struct netmap_if *nifp;
	int k;

	if (base == NULL)
		return NULL;
	memset(base, 0, REGION_SIZE);
	nifp = (struct netmap_if *)base;
	snprintf(nifp->ni_name, sizeof(nifp->ni_name), "synth0");
	KSET(nifp->ni_version, NETMAP_API);
	KSET(nifp->ni_tx_rings, NTX);
	KSET(nifp->ni_rx_rings, NRX);
	KSET(nifp->ni_host_tx_rings, 1);
	KSET(nifp->ni_host_rx_rings, 1);
	for (k = 0; k < NRINGS; k++) {
		struct netmap_ring *ring;
		ssize_t ofs = RINGS_OFS + k * RING_STRIDE;

		ring = (struct netmap_ring *)(base + ofs);
		KSET(nifp->ring_ofs[k], ofs);
		KSET(ring->buf_ofs, (int64_t)(BUFS_OFS - ofs));
		KSET(ring->num_slots, NSLOTS);
		KSET(ring->nr_buf_size, BUFSZ);
		KSET(ring->ringid, (uint16_t)(k <= NTX ? k : k - NTX - 1));
		KSET(ring->dir, (uint16_t)(k <= NTX ? 0 : 1));
	}
	return base;
}

static void
test_region(void)
{
	char *base = region_create();
	struct netmap_if *nifp;
	struct netmap_ring *ring;
	struct netmap_slot *slot;
	char what[96];
	int k;
	uint32_t i;

	if (base == NULL) {
		failed++;
		printf("FAIL cannot allocate the %d-byte synthetic region\n",
		       REGION_SIZE);
		return;
	}
	nifp = NETMAP_IF(base, 0);
	check_ptr("NETMAP_IF(base, 0)", nifp, base);
	check_ptr("NETMAP_IF(base, 1024)", NETMAP_IF(base, 1024), base + 1024);

	/* TX: NIC rings then the host ring; RX: after every TX ring. */
	for (k = 0; k <= NTX; k++) {
		snprintf(what, sizeof(what), "NETMAP_TXRING(nifp, %d)", k);
		check_ptr(what, NETMAP_TXRING(nifp, k),
			  base + RINGS_OFS + k * RING_STRIDE);
	}
	for (k = 0; k <= NRX; k++) {
		snprintf(what, sizeof(what), "NETMAP_RXRING(nifp, %d)", k);
		check_ptr(what, NETMAP_RXRING(nifp, k),
			  base + RINGS_OFS + (NTX + 1 + k) * RING_STRIDE);
	}
	check_u64("host RX ring dir", NETMAP_RXRING(nifp, NRX)->dir, 1);
	check_u64("host TX ring dir", NETMAP_TXRING(nifp, NTX)->dir, 0);

	/* Every ring reaches the one pool, whatever its own address. */
	for (k = 0; k < NRINGS; k++) {
		ring = (struct netmap_ring *)(base + RINGS_OFS + k * RING_STRIDE);
		for (i = 0; i < NBUFS; i += 5) {
			char *buf = NETMAP_BUF(ring, i);

			snprintf(what, sizeof(what), "ring %d NETMAP_BUF(%u)",
				 k, i);
			check_ptr(what, buf, base + BUFS_OFS + i * BUFSZ);
			snprintf(what, sizeof(what),
				 "ring %d NETMAP_BUF_IDX(buf %u + 100)", k, i);
			check_u64(what, NETMAP_BUF_IDX(ring, buf + 100), i);
		}
	}

	/* Offsets in slot->ptr. */
	ring = NETMAP_TXRING(nifp, 0);
	slot = &ring->slot[3];
	slot->buf_idx = 5;
	slot->ptr = 0xabc000 | 0x12;
	check_u64("NETMAP_ROFFSET without offsets", NETMAP_ROFFSET(ring, slot),
		  0);
	check_ptr("NETMAP_BUF_OFFSET without offsets",
		  NETMAP_BUF_OFFSET(ring, slot), base + BUFS_OFS + 5 * BUFSZ);
	KSET(ring->offset_mask, 0xfff);
	check_u64("NETMAP_ROFFSET", NETMAP_ROFFSET(ring, slot), 0x12);
	NETMAP_WOFFSET(ring, slot, 0x40);
	check_u64("NETMAP_WOFFSET keeps the high bits", slot->ptr, 0xabc040);
	check_ptr("NETMAP_BUF_OFFSET", NETMAP_BUF_OFFSET(ring, slot),
		  base + BUFS_OFS + 5 * BUFSZ + 0x40);
	NETMAP_WOFFSET(ring, slot, 0x12345);
	check_u64("NETMAP_WOFFSET masks the offset", slot->ptr, 0xabc345);

	/* nm_pkt_copy into a buffer */
	{
		static const char pkt[60] = "synthetic packet";
		char *dst = NETMAP_BUF(ring, 7);

		memset(dst, 0x5a, 128);
		nm_pkt_copy(pkt, dst, sizeof(pkt));
		check_u64("nm_pkt_copy copies len bytes",
			  memcmp(dst, pkt, sizeof(pkt)), 0);
		check_u64("nm_pkt_copy stops at len",
			  (unsigned char)dst[sizeof(pkt)], 0x5a);
	}

	free(base);
}

/* ------------------------------------------------------------------ */
/* Ring index math                                                     */
/* ------------------------------------------------------------------ */

struct ring_case {
	uint32_t num_slots, head, tail;
	uint32_t space;		/* nm_ring_space */
	int empty;		/* nm_ring_empty */
	int tx_pending;		/* nm_tx_pending */
};

static const struct ring_case ring_cases[] = {
	{ 8, 0, 0, 0, 1, 1 },
	{ 8, 0, 7, 7, 0, 0 },	/* all sent: kernel keeps one slot */
	{ 8, 3, 2, 7, 0, 0 },
	{ 8, 2, 5, 3, 0, 1 },
	{ 8, 6, 1, 3, 0, 1 },	/* wraps */
	{ 8, 7, 7, 0, 1, 1 },
	{ 1024, 1000, 10, 34, 0, 1 },
	{ 1024, 10, 1000, 990, 0, 1 },
	{ 1024, 0, 1023, 1023, 0, 0 },
};

struct next_case {
	uint32_t num_slots, i, next;
};

static const struct next_case next_cases[] = {
	{ 8, 0, 1 }, { 8, 6, 7 }, { 8, 7, 0 }, { 1, 0, 0 },
	{ 1024, 1023, 0 }, { 1024, 511, 512 },
};

static void
test_ring_math(void)
{
	struct netmap_ring *ring;
	char what[96];
	size_t i;

	ring = aligned_alloc(NM_CACHE_ALIGN, sizeof(*ring));
	if (ring == NULL) {
		failed++;
		printf("FAIL cannot allocate a ring header\n");
		return;
	}
	memset(ring, 0, sizeof(*ring));

	for (i = 0; i < sizeof(ring_cases) / sizeof(ring_cases[0]); i++) {
		const struct ring_case *c = &ring_cases[i];

		KSET(ring->num_slots, c->num_slots);
		ring->head = ring->cur = c->head;
		ring->tail = c->tail;
		snprintf(what, sizeof(what),
			 "nm_ring_space(n=%u h=%u t=%u)", c->num_slots,
			 c->head, c->tail);
		check_u64(what, nm_ring_space(ring), c->space);
		snprintf(what, sizeof(what),
			 "nm_ring_empty(n=%u h=%u t=%u)", c->num_slots,
			 c->head, c->tail);
		check_u64(what, nm_ring_empty(ring), c->empty);
		snprintf(what, sizeof(what),
			 "nm_tx_pending(n=%u h=%u t=%u)", c->num_slots,
			 c->head, c->tail);
		check_u64(what, nm_tx_pending(ring), c->tx_pending);
	}
	for (i = 0; i < sizeof(next_cases) / sizeof(next_cases[0]); i++) {
		const struct next_case *c = &next_cases[i];

		KSET(ring->num_slots, c->num_slots);
		snprintf(what, sizeof(what), "nm_ring_next(n=%u, %u)",
			 c->num_slots, c->i);
		check_u64(what, nm_ring_next(ring, c->i), c->next);
	}
	free(ring);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(layout_cases) / sizeof(layout_cases[0]); i++)
		check_u64(layout_cases[i].what, layout_cases[i].got,
			  layout_cases[i].want);
#if UINTPTR_MAX == UINT64_MAX
	for (i = 0; i < sizeof(lp64_cases) / sizeof(lp64_cases[0]); i++)
		check_u64(lp64_cases[i].what, lp64_cases[i].got,
			  lp64_cases[i].want);
#endif
	for (i = 0; i < sizeof(const_cases) / sizeof(const_cases[0]); i++)
		check_u64(const_cases[i].what, const_cases[i].got,
			  const_cases[i].want);
	printf("NIOCCTRL 0x%lx NIOCTXSYNC 0x%lx NIOCRXSYNC 0x%lx "
	       "NIOCREGIF 0x%lx NIOCGINFO 0x%lx\n",
	       (unsigned long)NIOCCTRL, (unsigned long)NIOCTXSYNC,
	       (unsigned long)NIOCRXSYNC, (unsigned long)NIOCREGIF,
	       (unsigned long)NIOCGINFO);
	test_region();
	test_ring_math();

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
