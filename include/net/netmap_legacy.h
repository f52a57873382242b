/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netmap's legacy control interface: struct nmreq with NIOCGINFO (port
 * geometry) and NIOCREGIF (register), plus the nr_cmd sub-commands that
 * predate NIOCCTRL. Still used by programs written against the nm_open()
 * era API; included by <net/netmap.h>, not meant to be included directly.
 *
 * Mapping onto the new API: nr_arg1 = extra rings (ignored), nr_arg2 =
 * memory region id, nr_arg3 = extra buffers, nr_flags = NR_REG_* mode in
 * the low bits (NR_REG_MASK) OR-ed with the NR_* flags of
 * struct nmreq_register, nr_ringid = ring index in NETMAP_RING_MASK plus
 * the NETMAP_NO_TX_POLL / NETMAP_DO_RX_POLL bits. With nr_flags == 0 the
 * deprecated NETMAP_HW_RING / NETMAP_SW_RING bits of nr_ringid choose the
 * rings.
 */
#ifndef _NET_NETMAP_LEGACY_H_
#define _NET_NETMAP_LEGACY_H_

#include <stdint.h>
#include <sys/ioctl.h>
#ifndef IFNAMSIZ
#include <net/if.h>
#endif

/* Overlays the name part of struct ifreq. 60 bytes. */
struct nmreq {
	char		nr_name[IFNAMSIZ];	/* (u) port name */
	uint32_t	nr_version;	/* (u/k) NETMAP_API */
	uint32_t	nr_offset;	/* (k) netmap_if offset in the region */
	uint32_t	nr_memsize;	/* (k) size of the region */
	uint32_t	nr_tx_slots;	/* (u/k) slots per TX ring */
	uint32_t	nr_rx_slots;	/* (u/k) slots per RX ring */
	uint16_t	nr_tx_rings;	/* (u/k) NIC TX rings */
	uint16_t	nr_rx_rings;	/* (u/k) NIC RX rings */

	uint16_t	nr_ringid;	/* (u) ring index and poll bits */
#define NETMAP_HW_RING		0x4000	/* deprecated: one NIC ring pair */
#define NETMAP_SW_RING		0x2000	/* deprecated: the host ring pair */
#define NETMAP_RING_MASK	0x0fff	/* ring index */
#define NETMAP_NO_TX_POLL	0x1000	/* poll() syncs TX only with POLLOUT */
#define NETMAP_DO_RX_POLL	0x8000	/* poll() syncs RX even without POLLIN */

	uint16_t	nr_cmd;		/* (u) 0 = register, else NETMAP_BDG_* */
#define NETMAP_BDG_ATTACH	1	/* attach a NIC to a switch */
#define NETMAP_BDG_DETACH	2	/* detach it */
#define NETMAP_BDG_REGOPS	3	/* kernel modules only */
#define NETMAP_BDG_LIST		4	/* list switches and ports */
#define NETMAP_BDG_VNET_HDR	5	/* set the port header length */
#define NETMAP_BDG_NEWIF	6	/* create a persistent VALE port */
#define NETMAP_BDG_DELIF	7	/* destroy it */
#define NETMAP_PT_HOST_CREATE	8	/* ptnetmap (not supported) */
#define NETMAP_PT_HOST_DELETE	9	/* ptnetmap (not supported) */
#define NETMAP_BDG_POLLING_ON	10	/* start polling threads */
#define NETMAP_BDG_POLLING_OFF	11	/* stop them */
#define NETMAP_VNET_HDR_GET	12	/* get the port header length */
#define NETMAP_POOLS_INFO_GET	13	/* struct netmap_pools_info */
	uint16_t	nr_arg1;	/* (u) command specific */
#define NETMAP_BDG_HOST		1	/* ATTACH: attach the host rings too */
	uint16_t	nr_arg2;	/* (u/k) memory region id */
	uint32_t	nr_arg3;	/* (u/k) extra buffers */
	uint32_t	nr_flags;	/* (u) NR_REG_* | NR_* */
#define NR_REG_MASK		0xf	/* the NR_REG_* part of nr_flags */
	uint32_t	spare2[1];
};

/* Reply of NETMAP_POOLS_INFO_GET; superseded by struct nmreq_pools_info. */
struct netmap_pools_info {
	uint64_t	memsize;
	uint32_t	memid;
	uint32_t	if_pool_offset;
	uint32_t	if_pool_objtotal;
	uint32_t	if_pool_objsize;
	uint32_t	ring_pool_offset;
	uint32_t	ring_pool_objtotal;
	uint32_t	ring_pool_objsize;
	uint32_t	buf_pool_offset;
	uint32_t	buf_pool_objtotal;
	uint32_t	buf_pool_objsize;
};

/* Argument of NIOCCONFIG, for external switch modules (not supported). */
#define NM_IFRDATA_LEN		256
struct nm_ifreq {
	char		nifr_name[IFNAMSIZ];
	char		data[NM_IFRDATA_LEN];
};

#define NIOCGINFO		_IOWR('i', 145, struct nmreq)	/* port info */
#define NIOCREGIF		_IOWR('i', 146, struct nmreq)	/* register */
#define NIOCCONFIG		_IOWR('i', 150, struct nm_ifreq)

#ifdef __cplusplus
static_assert(sizeof(struct nmreq) == 60, "struct nmreq is 60 bytes");
#else
_Static_assert(sizeof(struct nmreq) == 60, "struct nmreq is 60 bytes");
_Static_assert(__builtin_offsetof(struct nmreq, nr_ringid) == 40,
	       "nmreq.nr_ringid at 40");
_Static_assert(__builtin_offsetof(struct nmreq, nr_arg3) == 48,
	       "nmreq.nr_arg3 at 48");
_Static_assert(__builtin_offsetof(struct nmreq, nr_flags) == 52,
	       "nmreq.nr_flags at 52");
_Static_assert(sizeof(struct netmap_pools_info) == 48,
	       "struct netmap_pools_info is 48 bytes");
#endif

#endif /* _NET_NETMAP_LEGACY_H_ */
