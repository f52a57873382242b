/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netmap's user/kernel ABI, API version 14 (versions 14..15 accepted).
 *
 * Everything in this file is shared memory layout or a control-path
 * request: a port's shared region holds one struct netmap_if per bound fd,
 * the struct netmap_ring's it points at (by offset) and the packet buffers
 * the slots point at (by index). Requests travel through
 * ioctl(fd, NIOCCTRL, struct nmreq_header *), whose nr_body points at one
 * of the struct nmreq_* bodies below and whose nr_options points at a
 * chain of struct nmreq_option headers.
 *
 * Pointers crossing the boundary are carried as uint64_t; ring and buffer
 * positions are offsets and indices so that every mapping of the region,
 * in any process, can resolve them. Sizes and offsets are pinned by the
 * assertions at the end of the file: these layouts are what binaries built
 * against upstream netmap's headers expect, byte for byte.
 *
 * Ownership notation used below: (u) written by the program, (k) written
 * by the "kernel" (in unetmap: the library's core), (c) constant while the
 * port is registered.
 */
#ifndef _NET_NETMAP_H_
#define _NET_NETMAP_H_

#include <stdint.h>
#include <sys/types.h>		/* ssize_t */
#include <sys/time.h>		/* struct timeval */
#include <sys/ioctl.h>		/* _IO, _IOWR */
#ifndef IFNAMSIZ
#include <net/if.h>		/* IFNAMSIZ, unless <linux/if.h> came first */
#endif

#define NETMAP_API		14	/* the version we speak */
#define NETMAP_MIN_API		14	/* oldest version accepted */
#define NETMAP_MAX_API		15	/* newest version accepted */

/* Alignment of the ring's opaque area; also the kernel's ring alignment. */
#define NM_CACHE_ALIGN		128

/* ------------------------------------------------------------------ */
/* Slots                                                               */
/* ------------------------------------------------------------------ */

/*
 * One packet buffer descriptor. buf_idx is relative to the buffer pool of
 * the region (see NETMAP_BUF() in netmap_user.h); ptr is the user address
 * of an NS_INDIRECT buffer or, with NETMAP_REQ_OPT_OFFSETS, holds the
 * packet offset in its low bits (ring->offset_mask).
 */
struct netmap_slot {
	uint32_t	buf_idx;	/* (u/k) buffer index */
	uint16_t	len;		/* (u/k) bytes in this slot */
	uint16_t	flags;		/* NS_* */
	uint64_t	ptr;		/* indirect buffer, or offset bits */
};

/* slot->flags */
#define NS_BUF_CHANGED		0x0001	/* buf_idx was swapped: remap it */
#define NS_REPORT		0x0002	/* ask to be told when it is sent */
#define NS_FORWARD		0x0004	/* pass to the peer (host <-> NIC) ring;
					 * only on rings with NR_FORWARD */
#define NS_NO_LEARN		0x0008	/* VALE: do not learn the source MAC */
#define NS_INDIRECT		0x0010	/* VALE TX: data lives at slot->ptr */
#define NS_MOREFRAG		0x0020	/* more fragments of this packet follow */
#define NS_TXMON		0x0040	/* monitor: the copy came from a TX ring */

/* VALE TX: a non-zero high byte overrides the switch's forwarding lookup. */
#define NS_PORT_SHIFT		8
#define NS_PORT_MASK		(0xff << NS_PORT_SHIFT)
/* VALE RX: the high byte counts the fragments. */
#define NS_RFRAGS(_slot)	(((_slot)->flags >> 8) & 0xff)

#define NETMAP_MAX_FRAGS	64	/* fragments per packet, at most */

/* ------------------------------------------------------------------ */
/* Rings                                                               */
/* ------------------------------------------------------------------ */

/*
 * A TX or RX queue: num_slots slots used as a circular array.
 *
 *          hwcur (kernel only)
 *            |   head       cur          tail
 *            v    v          v             v
 *   ... ----[#####|xxxxxxxxxx|xxxxxxxxxxxxx|------------] ...
 *            kernel  program-owned [head, tail)   kernel
 *
 * The program owns the slots in [head, tail): on TX it fills them and moves
 * head (and cur) forward; on RX it consumes them and moves head forward.
 * cur is the wake-up point: poll() returns once tail moves past it.
 * A sync (NIOCTXSYNC/NIOCRXSYNC, poll, select) hands [old head, head) to
 * the kernel and publishes a new tail. Indices only move forward, modulo
 * num_slots.
 */
struct netmap_ring {
	const int64_t	buf_ofs;	/* (c) buffer pool start - ring start */
	const uint32_t	num_slots;	/* (c) slots in this ring */
	const uint32_t	nr_buf_size;	/* (c) bytes per buffer */
	const uint16_t	ringid;		/* (c) ring index within the port */
	const uint16_t	dir;		/* (c) 0 tx, 1 rx */

	uint32_t	head;		/* (u) first slot the program owns */
	uint32_t	cur;		/* (u) wake-up point */
	uint32_t	tail;		/* (k) first slot the kernel owns */

	uint32_t	flags;		/* (u) NR_TIMESTAMP, NR_FORWARD */

	struct timeval	ts;		/* (k) time of the last sync */

	/* (c) bits of slot->ptr that hold a buffer offset; 0 unless the port
	 * was registered with NETMAP_REQ_OPT_OFFSETS */
	const uint64_t	offset_mask;
	/* (c) required alignment, in bytes, of TX packet starts */
	const uint64_t	buf_align;

	/* opaque room, cache aligned: where netmap keeps a lock */
	uint8_t		sem[128] __attribute__((__aligned__(NM_CACHE_ALIGN)));

	struct netmap_slot slot[];	/* num_slots entries */
};

/* ring->flags */
#define NR_TIMESTAMP		0x0002	/* update ring->ts on every sync */
#define NR_FORWARD		0x0004	/* honour NS_FORWARD on this ring */

/* True when the program owns no slot (head caught up with tail). */
static inline int
nm_ring_empty(struct netmap_ring *ring)
{
	return ring->head == ring->tail;
}

/* ------------------------------------------------------------------ */
/* Interfaces                                                          */
/* ------------------------------------------------------------------ */

/*
 * One per registered fd, read-only for the program. ring_ofs[] gives each
 * ring's offset from this structure, in the order: NIC TX rings
 * (ni_tx_rings), host TX rings (ni_host_tx_rings), NIC RX rings
 * (ni_rx_rings), host RX rings (ni_host_rx_rings). Rings not bound to this
 * fd have offset 0.
 */
struct netmap_if {
	char		ni_name[IFNAMSIZ];	/* (c) port name */
	const uint32_t	ni_version;		/* (c) API version */
	const uint32_t	ni_flags;		/* (c) NI_* */
#define NI_PRIV_MEM		0x1		/* the port has a private region */
	const uint32_t	ni_tx_rings;		/* (c) NIC TX rings */
	const uint32_t	ni_rx_rings;		/* (c) NIC RX rings */
	uint32_t	ni_bufs_head;		/* (u/k) list of extra buffers */
	const uint32_t	ni_host_tx_rings;	/* (c) host TX rings */
	const uint32_t	ni_host_rx_rings;	/* (c) host RX rings */
	uint32_t	ni_spare1[3];
	const ssize_t	ring_ofs[];		/* (c) see above */
};

/* The legacy NIOCREGIF interface (struct nmreq). */
#include "netmap_legacy.h"

/* ------------------------------------------------------------------ */
/* Requests: ioctl(fd, NIOCCTRL, struct nmreq_header *)                */
/* ------------------------------------------------------------------ */

#define NETMAP_REQ_MAXSIZE	4096	/* a request with all its options */
#define NETMAP_REQ_IFNAMSIZ	64	/* nmreq_header.nr_name */

/*
 * Header of every option in the nr_options chain. nro_status is written
 * back: 0 if the option was understood and applied, else an errno value.
 * nro_size is the full option size for variable-size options, 0 otherwise.
 */
struct nmreq_option {
	uint64_t	nro_next;	/* (u) next option, 0 ends the chain */
	uint32_t	nro_reqtype;	/* (u) NETMAP_REQ_OPT_* */
	uint32_t	nro_status;	/* (k) 0 or errno */
	uint64_t	nro_size;	/* (u) size of variable-size options */
};

/*
 * Header of every NIOCCTRL request. The field order is part of the ABI:
 * nr_reqtype tells the kernel how large the body is.
 */
struct nmreq_header {
	uint16_t	nr_version;	/* (u/k) NETMAP_API; NETMAP_API on return */
	uint16_t	nr_reqtype;	/* (u) NETMAP_REQ_* */
	uint32_t	nr_reserved;	/* must be 0 */
	char		nr_name[NETMAP_REQ_IFNAMSIZ];	/* (u) port name */
	uint64_t	nr_options;	/* (u) first struct nmreq_option, or 0 */
	uint64_t	nr_body;	/* (u) struct nmreq_<reqtype> */
};

/* nmreq_header.nr_reqtype */
enum {
	NETMAP_REQ_REGISTER = 1,	/* struct nmreq_register */
	NETMAP_REQ_PORT_INFO_GET,	/* struct nmreq_port_info_get */
	NETMAP_REQ_VALE_ATTACH,		/* struct nmreq_vale_attach */
	NETMAP_REQ_VALE_DETACH,		/* struct nmreq_vale_detach */
	NETMAP_REQ_VALE_LIST,		/* struct nmreq_vale_list */
	NETMAP_REQ_PORT_HDR_SET,	/* struct nmreq_port_hdr */
	NETMAP_REQ_PORT_HDR_GET,	/* struct nmreq_port_hdr */
	NETMAP_REQ_VALE_NEWIF,		/* struct nmreq_vale_newif */
	NETMAP_REQ_VALE_DELIF,		/* no body */
	NETMAP_REQ_VALE_POLLING_ENABLE,	/* struct nmreq_vale_polling */
	NETMAP_REQ_VALE_POLLING_DISABLE, /* struct nmreq_vale_polling */
	NETMAP_REQ_POOLS_INFO_GET,	/* struct nmreq_pools_info */
	NETMAP_REQ_SYNC_KLOOP_START,	/* struct nmreq_sync_kloop_start */
	NETMAP_REQ_SYNC_KLOOP_STOP,	/* no body */
	NETMAP_REQ_CSB_ENABLE,		/* no body; options carry the CSB */
};

/* nmreq_option.nro_reqtype */
enum {
	NETMAP_REQ_OPT_EXTMEM = 1,	/* struct nmreq_opt_extmem (REGISTER) */
	NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS, /* nmreq_opt_sync_kloop_eventfds */
	NETMAP_REQ_OPT_CSB,		/* struct nmreq_opt_csb */
	NETMAP_REQ_OPT_SYNC_KLOOP_MODE,	/* struct nmreq_opt_sync_kloop_mode */
	NETMAP_REQ_OPT_OFFSETS,		/* struct nmreq_opt_offsets (REGISTER) */
	NETMAP_REQ_OPT_MAX,		/* number of options; keep last */
};

/*
 * unetmap extension, outside upstream's option numbering: on REGISTER,
 * the geometry of a memory region that the request creates (ignored when
 * the region already exists with this layout). The body is
 * struct nmreq_opt_unm_pools; 0 in an objtotal/objsize field means the
 * default.
 */
#define NETMAP_REQ_OPT_UNM_POOLS	0x554e

/*
 * NETMAP_REQ_REGISTER: bind the port named in the header to this fd.
 * Ring and slot counts are requests on input (0 = keep) and the values in
 * use on output. nr_mode is an NR_REG_* value, nr_ringid selects the ring
 * for NR_REG_ONE_NIC/ONE_SW (and the pipe id for the deprecated PIPE
 * modes), nr_mem_id asks for a region (0 = any) and returns the one used.
 */
struct nmreq_register {
	uint64_t	nr_offset;	/* (k) netmap_if offset in the region */
	uint64_t	nr_memsize;	/* (k) size of the region */
	uint32_t	nr_tx_slots;	/* (u/k) slots per TX ring */
	uint32_t	nr_rx_slots;	/* (u/k) slots per RX ring */
	uint16_t	nr_tx_rings;	/* (u/k) NIC TX rings */
	uint16_t	nr_rx_rings;	/* (u/k) NIC RX rings */
	uint16_t	nr_host_tx_rings; /* (u/k) host TX rings */
	uint16_t	nr_host_rx_rings; /* (u/k) host RX rings */

	uint16_t	nr_mem_id;	/* (u/k) memory region id */
	uint16_t	nr_ringid;	/* (u) ring index, see nr_mode */
	uint32_t	nr_mode;	/* (u) NR_REG_* */
	uint32_t	nr_extra_bufs;	/* (u/k) extra buffers wanted/granted */

	uint64_t	nr_flags;	/* (u) NR_* below */
};

/* nmreq_register.nr_flags */
#define NR_MONITOR_TX		0x100	/* monitor the TX rings of nr_name */
#define NR_MONITOR_RX		0x200	/* monitor the RX rings of nr_name */
#define NR_ZCOPY_MON		0x400	/* zero-copy monitor */
#define NR_EXCLUSIVE		0x800	/* nobody else may bind these rings */
/* 0x1000 is unused */
#define NR_RX_RINGS_ONLY	0x2000	/* bind no TX ring */
#define NR_TX_RINGS_ONLY	0x4000	/* bind no RX ring */
#define NR_ACCEPT_VNET_HDR	0x8000	/* the program handles port headers */
#define NR_DO_RX_POLL		0x10000	/* poll() syncs RX even without POLLIN */
#define NR_NO_TX_POLL		0x20000	/* poll() syncs TX only with POLLOUT */
/*
 * unetmap extension, in bits upstream does not use: netmap's admode for
 * this register of a NIC port (upstream has only the global sysctl
 * dev.netmap.admode; ours is the environment variable UNM_ADMODE).
 * Neither bit: UNM_ADMODE decides (unset: best effort). NATIVE: AF_XDP
 * only. GENERIC: emulated mode (AF_PACKET) only. Both: best effort
 * (AF_XDP, else emulated), whatever UNM_ADMODE says.
 */
#define NR_UNM_ADMODE_NATIVE	(1ULL << 48)
#define NR_UNM_ADMODE_GENERIC	(1ULL << 49)
#define NR_UNM_ADMODE_MASK	(NR_UNM_ADMODE_NATIVE | NR_UNM_ADMODE_GENERIC)

/* nmreq_register.nr_mode */
enum {
	NR_REG_DEFAULT		= 0,	/* legacy: nr_ringid decides */
	NR_REG_ALL_NIC		= 1,	/* every NIC ring pair */
	NR_REG_SW		= 2,	/* every host ring pair */
	NR_REG_NIC_SW		= 3,	/* NIC and host ring pairs */
	NR_REG_ONE_NIC		= 4,	/* NIC ring pair nr_ringid */
	NR_REG_PIPE_MASTER	= 5,	/* deprecated: use the name "x{y" */
	NR_REG_PIPE_SLAVE	= 6,	/* deprecated: use the name "x}y" */
	NR_REG_NULL		= 7,	/* rings and memory, no traffic */
	NR_REG_ONE_SW		= 8,	/* host ring pair nr_ringid */
};

/*
 * One ioctl number carries every request; the header says which. The
 * size encoded in it is the header's only.
 */
#define NIOCCTRL		_IOWR('i', 151, struct nmreq_header)

/* Sync the fd's TX / RX rings. No argument, never blocks. */
#define NIOCTXSYNC		_IO('i', 148)
#define NIOCRXSYNC		_IO('i', 149)

/*
 * NETMAP_REQ_PORT_INFO_GET: the geometry of a port; the fd need not be
 * registered.
 */
struct nmreq_port_info_get {
	uint64_t	nr_memsize;	/* (k) size of the region */
	uint32_t	nr_tx_slots;	/* (k) slots per TX ring */
	uint32_t	nr_rx_slots;	/* (k) slots per RX ring */
	uint16_t	nr_tx_rings;	/* (k) NIC TX rings */
	uint16_t	nr_rx_rings;	/* (k) NIC RX rings */
	uint16_t	nr_host_tx_rings; /* (k) host TX rings */
	uint16_t	nr_host_rx_rings; /* (k) host RX rings */
	uint16_t	nr_mem_id;	/* (u/k) memory region id */
	uint16_t	pad[3];
};

/*
 * unetmap extension: PORT_INFO_GET of an open NIC port says in pad[0] how
 * the port reaches the interface (upstream leaves pad zero): NR_UNM_INFO_*
 * bits; none set = AF_XDP in copy mode (or a port that is not a NIC).
 */
#define NR_UNM_INFO_ZEROCOPY	0x1	/* AF_XDP sockets bound zero-copy */
#define NR_UNM_INFO_EMULATED	0x2	/* emulated mode over AF_PACKET */

#define NM_BDG_NAME		"vale"	/* VALE switch port names start so */

/*
 * NETMAP_REQ_VALE_ATTACH: attach the port in nr_name ("valeX:port") to a
 * switch, binding it as a REGISTER would; returns the switch port index.
 */
struct nmreq_vale_attach {
	struct nmreq_register reg;
	uint32_t	port_index;	/* (k) */
	uint32_t	pad1;
};

/* NETMAP_REQ_VALE_DETACH: detach nr_name; returns the index it had. */
struct nmreq_vale_detach {
	uint32_t	port_index;	/* (k) */
	uint32_t	pad1;
};

/*
 * NETMAP_REQ_VALE_LIST: iterate over switch ports; with an empty nr_name
 * the (bridge, port) cursor walks every switch, and nr_name returns each
 * port's name.
 */
struct nmreq_vale_list {
	uint16_t	nr_bridge_idx;	/* (u/k) cursor: switch */
	uint16_t	pad1;
	uint32_t	nr_port_idx;	/* (u/k) cursor: port */
};

/* NETMAP_REQ_PORT_HDR_SET/GET: the (virtio-net) header length of nr_name. */
struct nmreq_port_hdr {
	uint32_t	nr_hdr_len;	/* (u/k) bytes */
	uint32_t	pad1;
};

/* NETMAP_REQ_VALE_NEWIF: create a persistent VALE port named nr_name. */
struct nmreq_vale_newif {
	uint32_t	nr_tx_slots;
	uint32_t	nr_rx_slots;
	uint16_t	nr_tx_rings;
	uint16_t	nr_rx_rings;
	uint16_t	nr_mem_id;	/* (u/k) */
	uint16_t	pad1;
};

/* NETMAP_REQ_VALE_POLLING_ENABLE/DISABLE: polling threads for a port. */
struct nmreq_vale_polling {
	uint32_t	nr_mode;	/* NETMAP_POLLING_MODE_* */
#define NETMAP_POLLING_MODE_SINGLE_CPU	1
#define NETMAP_POLLING_MODE_MULTI_CPU	2
	uint32_t	nr_first_cpu_id;
	uint32_t	nr_num_polling_cpus;
	uint32_t	pad1;
};

/*
 * NETMAP_REQ_POOLS_INFO_GET: the layout of the region used by nr_name (or
 * nr_mem_id). Offsets are from the region base. Also the body of the
 * EXTMEM option, where the program supplies the geometry.
 */
struct nmreq_pools_info {
	uint64_t	nr_memsize;
	uint16_t	nr_mem_id;	/* (u/k) */
	uint16_t	pad1[3];
	uint64_t	nr_if_pool_offset;
	uint32_t	nr_if_pool_objtotal;
	uint32_t	nr_if_pool_objsize;
	uint64_t	nr_ring_pool_offset;
	uint32_t	nr_ring_pool_objtotal;
	uint32_t	nr_ring_pool_objsize;
	uint64_t	nr_buf_pool_offset;
	uint32_t	nr_buf_pool_objtotal;
	uint32_t	nr_buf_pool_objsize;
};

/*
 * NETMAP_REQ_SYNC_KLOOP_START: run the sync loop for a CSB-mode port in
 * the calling thread until NETMAP_REQ_SYNC_KLOOP_STOP.
 */
struct nmreq_sync_kloop_start {
	uint32_t	sleep_us;	/* idle sleep between iterations */
	uint32_t	pad1;
};

/*
 * Control/status block entries, one per bound ring, replacing head/cur/tail
 * in the ring header when the port runs in CSB mode. Each is one 64-byte
 * cache line. Letters: A application, K kernel, R reads, W writes.
 */
struct nm_csb_atok {
	uint32_t	head;		/* AW KR */
	uint32_t	cur;		/* AW KR */
	uint32_t	appl_need_kick;	/* AW KR: kernel should notify us */
	uint32_t	sync_flags;	/* AW KR */
	uint32_t	pad[12];
};

struct nm_csb_ktoa {
	uint32_t	hwcur;		/* KW AR */
	uint32_t	hwtail;		/* KW AR */
	uint32_t	kern_need_kick;	/* KW AR: application should notify */
	uint32_t	pad[13];
};

/*
 * Application half of the CSB protocol. cur is published before head (a
 * reader that sees the new head also sees a cur at least as new), and
 * hwtail is read before hwcur; each release fence pairs with an acquire
 * fence on the other side.
 */
static inline void
nm_stst_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void
nm_ldld_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static inline void
nm_sync_kloop_appl_write(struct nm_csb_atok *atok, uint32_t cur,
			 uint32_t head)
{
	nm_stst_barrier();	/* slot contents before the indices */
	atok->cur = cur;
	nm_stst_barrier();	/* pairs with the kernel's head-then-cur read */
	atok->head = head;
}

static inline void
nm_sync_kloop_appl_read(struct nm_csb_ktoa *ktoa, uint32_t *hwtail,
			uint32_t *hwcur)
{
	*hwtail = ktoa->hwtail;
	nm_ldld_barrier();	/* pairs with the kernel's hwcur-then-hwtail */
	*hwcur = ktoa->hwcur;
	nm_ldld_barrier();	/* indices before the slot contents */
}

/* ------------------------------------------------------------------ */
/* Option bodies (NETMAP_REQ_OPT_*)                                    */
/* ------------------------------------------------------------------ */

/* One eventfd pair per CSB entry; a negative fd disables that direction. */
struct nmreq_opt_sync_kloop_eventfds {
	struct nmreq_option nro_opt;
	struct {
		int32_t	ioeventfd;	/* application -> kernel loop */
		int32_t	irqfd;		/* kernel loop -> application */
	} eventfds[];
};

struct nmreq_opt_sync_kloop_mode {
	struct nmreq_option nro_opt;
#define NM_OPT_SYNC_KLOOP_DIRECT_TX	(1 << 0)
#define NM_OPT_SYNC_KLOOP_DIRECT_RX	(1 << 1)
	uint32_t	mode;
};

/* Use the program's memory at nro_usrptr as the port's region. */
struct nmreq_opt_extmem {
	struct nmreq_option nro_opt;
	uint64_t	nro_usrptr;	/* (u) region base in the caller */
	struct nmreq_pools_info nro_info; /* (u/k) geometry */
};

/* Arrays of struct nm_csb_atok / nm_csb_ktoa, one entry per bound ring. */
struct nmreq_opt_csb {
	struct nmreq_option nro_opt;
	uint64_t	csb_atok;
	uint64_t	csb_ktoa;
};

/*
 * Reserve the low nro_offset_bits bits of slot->ptr (0 = all of them) for
 * a per-slot offset of the packet in its buffer. Values are adjusted
 * upwards on return.
 */
struct nmreq_opt_offsets {
	struct nmreq_option nro_opt;
	uint64_t	nro_max_offset;	/* (u/k) largest offset used */
	uint64_t	nro_initial_offset; /* (u) written into every slot */
	uint32_t	nro_offset_bits; /* (u/k) width of the offset field */
	uint32_t	nro_tx_align;	/* (u/k) TX packet start alignment */
	uint64_t	nro_min_gap;	/* (u) reserved, 0 */
};

/* unetmap: body of NETMAP_REQ_OPT_UNM_POOLS (objtotal/objsize used). */
struct nmreq_opt_unm_pools {
	struct nmreq_option nro_opt;
	struct nmreq_pools_info nro_info;
};

/* ------------------------------------------------------------------ */
/* Layout pins                                                         */
/* ------------------------------------------------------------------ */

#ifdef __cplusplus
#define NM_ABI_ASSERT(e, m)	static_assert(e, m)
#else
#define NM_ABI_ASSERT(e, m)	_Static_assert(e, m)
#endif
#define NM_ABI_OFFSET(t, f, o)	\
	NM_ABI_ASSERT(__builtin_offsetof(t, f) == (o), #t "." #f " at " #o)
#define NM_ABI_SIZE(t, s)	NM_ABI_ASSERT(sizeof(t) == (s), #t " is " #s " bytes")

/*
 * The name arrays of netmap_if and of the legacy struct nmreq are
 * IFNAMSIZ bytes, as upstream spells them; the ABI fixes that at 16.
 * (No NM_IFNAMSZ here: upstream programs define that name themselves.)
 */
NM_ABI_ASSERT(IFNAMSIZ == 16, "IFNAMSIZ must be 16");

NM_ABI_SIZE(struct netmap_slot, 16);
NM_ABI_OFFSET(struct netmap_slot, buf_idx, 0);
NM_ABI_OFFSET(struct netmap_slot, len, 4);
NM_ABI_OFFSET(struct netmap_slot, flags, 6);
NM_ABI_OFFSET(struct netmap_slot, ptr, 8);

NM_ABI_SIZE(struct netmap_ring, 256);
NM_ABI_OFFSET(struct netmap_ring, buf_ofs, 0);
NM_ABI_OFFSET(struct netmap_ring, num_slots, 8);
NM_ABI_OFFSET(struct netmap_ring, nr_buf_size, 12);
NM_ABI_OFFSET(struct netmap_ring, ringid, 16);
NM_ABI_OFFSET(struct netmap_ring, dir, 18);
NM_ABI_OFFSET(struct netmap_ring, head, 20);
NM_ABI_OFFSET(struct netmap_ring, cur, 24);
NM_ABI_OFFSET(struct netmap_ring, tail, 28);
NM_ABI_OFFSET(struct netmap_ring, flags, 32);
NM_ABI_OFFSET(struct netmap_ring, sem, 128);
NM_ABI_OFFSET(struct netmap_ring, slot, 256);
#if defined(__LP64__)	/* struct timeval is 16 bytes */
NM_ABI_OFFSET(struct netmap_ring, ts, 40);
NM_ABI_OFFSET(struct netmap_ring, offset_mask, 56);
NM_ABI_OFFSET(struct netmap_ring, buf_align, 64);
#endif

NM_ABI_OFFSET(struct netmap_if, ni_name, 0);
NM_ABI_OFFSET(struct netmap_if, ni_version, 16);
NM_ABI_OFFSET(struct netmap_if, ni_flags, 20);
NM_ABI_OFFSET(struct netmap_if, ni_tx_rings, 24);
NM_ABI_OFFSET(struct netmap_if, ni_rx_rings, 28);
NM_ABI_OFFSET(struct netmap_if, ni_bufs_head, 32);
NM_ABI_OFFSET(struct netmap_if, ni_host_tx_rings, 36);
NM_ABI_OFFSET(struct netmap_if, ni_host_rx_rings, 40);
NM_ABI_OFFSET(struct netmap_if, ring_ofs, 56);
#if defined(__LP64__)
NM_ABI_SIZE(struct netmap_if, 56);
#endif

NM_ABI_SIZE(struct nmreq_option, 24);
NM_ABI_OFFSET(struct nmreq_option, nro_reqtype, 8);
NM_ABI_OFFSET(struct nmreq_option, nro_status, 12);
NM_ABI_OFFSET(struct nmreq_option, nro_size, 16);

NM_ABI_SIZE(struct nmreq_header, 88);
NM_ABI_OFFSET(struct nmreq_header, nr_reqtype, 2);
NM_ABI_OFFSET(struct nmreq_header, nr_reserved, 4);
NM_ABI_OFFSET(struct nmreq_header, nr_name, 8);
NM_ABI_OFFSET(struct nmreq_header, nr_options, 72);
NM_ABI_OFFSET(struct nmreq_header, nr_body, 80);

NM_ABI_SIZE(struct nmreq_register, 56);
NM_ABI_OFFSET(struct nmreq_register, nr_memsize, 8);
NM_ABI_OFFSET(struct nmreq_register, nr_tx_slots, 16);
NM_ABI_OFFSET(struct nmreq_register, nr_rx_slots, 20);
NM_ABI_OFFSET(struct nmreq_register, nr_tx_rings, 24);
NM_ABI_OFFSET(struct nmreq_register, nr_rx_rings, 26);
NM_ABI_OFFSET(struct nmreq_register, nr_host_tx_rings, 28);
NM_ABI_OFFSET(struct nmreq_register, nr_host_rx_rings, 30);
NM_ABI_OFFSET(struct nmreq_register, nr_mem_id, 32);
NM_ABI_OFFSET(struct nmreq_register, nr_ringid, 34);
NM_ABI_OFFSET(struct nmreq_register, nr_mode, 36);
NM_ABI_OFFSET(struct nmreq_register, nr_extra_bufs, 40);
NM_ABI_OFFSET(struct nmreq_register, nr_flags, 48);

NM_ABI_SIZE(struct nmreq_port_info_get, 32);
NM_ABI_OFFSET(struct nmreq_port_info_get, nr_mem_id, 24);
NM_ABI_SIZE(struct nmreq_vale_attach, 64);
NM_ABI_SIZE(struct nmreq_vale_detach, 8);
NM_ABI_SIZE(struct nmreq_vale_list, 8);
NM_ABI_SIZE(struct nmreq_port_hdr, 8);
NM_ABI_SIZE(struct nmreq_vale_newif, 16);
NM_ABI_SIZE(struct nmreq_vale_polling, 16);
NM_ABI_SIZE(struct nmreq_pools_info, 64);
NM_ABI_OFFSET(struct nmreq_pools_info, nr_if_pool_offset, 16);
NM_ABI_OFFSET(struct nmreq_pools_info, nr_ring_pool_offset, 32);
NM_ABI_OFFSET(struct nmreq_pools_info, nr_buf_pool_offset, 48);
NM_ABI_SIZE(struct nmreq_sync_kloop_start, 8);
NM_ABI_SIZE(struct nm_csb_atok, 64);
NM_ABI_SIZE(struct nm_csb_ktoa, 64);
NM_ABI_SIZE(struct nmreq_opt_sync_kloop_eventfds, 24);
NM_ABI_SIZE(struct nmreq_opt_sync_kloop_mode, 32);
NM_ABI_SIZE(struct nmreq_opt_extmem, 96);
NM_ABI_OFFSET(struct nmreq_opt_extmem, nro_usrptr, 24);
NM_ABI_OFFSET(struct nmreq_opt_extmem, nro_info, 32);
NM_ABI_SIZE(struct nmreq_opt_csb, 40);
NM_ABI_SIZE(struct nmreq_opt_offsets, 56);
NM_ABI_OFFSET(struct nmreq_opt_offsets, nro_max_offset, 24);
NM_ABI_OFFSET(struct nmreq_opt_offsets, nro_initial_offset, 32);
NM_ABI_OFFSET(struct nmreq_opt_offsets, nro_offset_bits, 40);
NM_ABI_OFFSET(struct nmreq_opt_offsets, nro_tx_align, 44);
NM_ABI_OFFSET(struct nmreq_opt_offsets, nro_min_gap, 48);
NM_ABI_SIZE(struct nmreq_opt_unm_pools, 88);

#endif /* _NET_NETMAP_H_ */
