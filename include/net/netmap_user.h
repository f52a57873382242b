/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Program-side helpers for netmap: turning the offsets and indices of the
 * shared region into pointers, ring index arithmetic, and (when the
 * program defines NETMAP_WITH_LIBS before including this file) the
 * pcap-like nm_open() family.
 *
 * Upstream ships nm_open() and friends as static functions in this
 * header; here they are ordinary functions of libnetmap (built on the
 * nmport_* API, so there is one port-name parser), with the same names,
 * arguments and struct nm_desc layout. Only the hot-path ring helpers stay
 * inline.
 *
 * Typical receive loop:
 *
 *	struct netmap_ring *ring = NETMAP_RXRING(nifp, i);
 *	while (!nm_ring_empty(ring)) {
 *		struct netmap_slot *slot = &ring->slot[ring->head];
 *		consume(NETMAP_BUF(ring, slot->buf_idx), slot->len);
 *		ring->head = ring->cur = nm_ring_next(ring, ring->head);
 *	}
 *	ioctl(fd, NIOCRXSYNC, NULL);
 */
#ifndef _NET_NETMAP_USER_H_
#define _NET_NETMAP_USER_H_

#define NETMAP_DEVICE_NAME	"/dev/netmap"

#include <stdint.h>
#include <stdio.h>		/* D(), RD() */
#include <string.h>		/* nm_pkt_copy() */
#include <sys/time.h>		/* gettimeofday() in D() */
#include <sys/socket.h>
#include <net/if.h>		/* IFNAMSIZ */

#include <net/netmap.h>

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

/* (type) at byte offset ofs from ptr */
#define _NETMAP_OFFSET(type, ptr, ofs)	\
	((type)(void *)((char *)(ptr) + (ofs)))

/* The netmap_if of a registration: region base + nmreq_register.nr_offset */
#define NETMAP_IF(_base, _ofs)	_NETMAP_OFFSET(struct netmap_if *, _base, _ofs)

/* TX ring i: NIC rings first, then host rings (i = ni_tx_rings + k). */
#define NETMAP_TXRING(nifp, index)	\
	_NETMAP_OFFSET(struct netmap_ring *, nifp, (nifp)->ring_ofs[index])

/* RX ring i: its offsets follow every TX ring's (NIC and host). */
#define NETMAP_RXRING(nifp, index)					\
	_NETMAP_OFFSET(struct netmap_ring *, nifp,			\
		       (nifp)->ring_ofs[(index) + (nifp)->ni_tx_rings +	\
					(nifp)->ni_host_tx_rings])

/* Address of buffer idx: the pool starts buf_ofs bytes from the ring. */
#define NETMAP_BUF(ring, index)						\
	((char *)(ring) + (ring)->buf_ofs +				\
	 ((size_t)(index) * (ring)->nr_buf_size))

/* Index of the buffer that contains address buf. */
#define NETMAP_BUF_IDX(ring, buf)					\
	(((char *)(buf) - ((char *)(ring) + (ring)->buf_ofs)) /	\
	 (ring)->nr_buf_size)

/*
 * Packet offsets (NETMAP_REQ_OPT_OFFSETS): the low bits of slot->ptr
 * selected by ring->offset_mask hold where the packet starts in its buffer.
 */
#define NETMAP_ROFFSET(ring, slot)	((slot)->ptr & (ring)->offset_mask)

#define NETMAP_WOFFSET(ring, slot, offset)				\
	do {								\
		(slot)->ptr = ((slot)->ptr & ~(ring)->offset_mask) |	\
			      ((uint64_t)(offset) & (ring)->offset_mask); \
	} while (0)

#define NETMAP_BUF_OFFSET(ring, slot)					\
	(NETMAP_BUF(ring, (slot)->buf_idx) + NETMAP_ROFFSET(ring, slot))

/* The slot after i, wrapping at num_slots. */
static inline uint32_t
nm_ring_next(struct netmap_ring *r, uint32_t i)
{
	return unlikely(i + 1 == r->num_slots) ? 0 : i + 1;
}

/*
 * Slots the program owns, [head, tail): free slots on a TX ring, received
 * packets on an RX ring.
 */
static inline uint32_t
nm_ring_space(struct netmap_ring *ring)
{
	uint32_t head = ring->head, tail = ring->tail;

	return tail >= head ? tail - head : tail + ring->num_slots - head;
}

/*
 * True while a TX ring still holds packets the kernel has not sent: when
 * everything is out the kernel owns exactly one slot, so the slot after
 * tail is head.
 */
static inline int
nm_tx_pending(struct netmap_ring *r)
{
	return nm_ring_next(r, r->tail) != r->head;
}

/*
 * Copy a packet into (or out of) a netmap buffer. Upstream's version may
 * copy a little past len, rounding to 64 bytes; callers must leave that
 * room anyway, this one copies exactly len bytes.
 */
static inline void
nm_pkt_copy(const void *src, void *dst, int len)
{
	if (likely(len > 0))
		memcpy(dst, src, (size_t)len);
}

#ifndef ND	/* debug output, unless the program has its own */
#define ND(_fmt, ...)	do { } while (0)
#define D(_fmt, ...)							\
	do {								\
		struct timeval _t0;					\
		gettimeofday(&_t0, NULL);				\
		fprintf(stderr, "%03d.%06d %s [%d] " _fmt "\n",		\
			(int)(_t0.tv_sec % 1000), (int)_t0.tv_usec,	\
			__func__, __LINE__, ##__VA_ARGS__);		\
	} while (0)
/* D(), at most lps lines per second from each call site */
#define RD(lps, _fmt, ...)						\
	do {								\
		static time_t __rd_sec;					\
		static int __rd_cnt;					\
		struct timeval __rd_now;				\
		gettimeofday(&__rd_now, NULL);				\
		if (__rd_sec != __rd_now.tv_sec) {			\
			__rd_sec = __rd_now.tv_sec;			\
			__rd_cnt = 0;					\
		}							\
		if (__rd_cnt++ < (lps))					\
			D(_fmt, ##__VA_ARGS__);				\
	} while (0)
#endif /* ND */

#ifdef NETMAP_WITH_LIBS
/*
 * The nm_open() family: a pcap-like API over one port. Implemented in
 * libnetmap (lib/nmport/nmdesc.c).
 */
#ifndef HAVE_NETMAP_WITH_LIBS
#define HAVE_NETMAP_WITH_LIBS

#include <ctype.h>		/* upstream programs (vale-ctl) use isdigit() without it */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <stdlib.h>

/* Per-packet header; starts like struct pcap_pkthdr. */
struct nm_pkthdr {
	struct timeval	ts;		/* ring->ts at receive */
	uint32_t	caplen;		/* bytes contiguous at buf */
	uint32_t	len;		/* packet length, all fragments */

	uint64_t	flags;		/* NM_MORE_PKTS */
#define NM_MORE_PKTS	1		/* nm_dispatch() has more to deliver */
	struct nm_desc	*d;		/* the descriptor it came from */
	struct netmap_slot *slot;	/* its (first) slot */
	uint8_t		*buf;		/* its data */
};

/* Same as struct pcap_stat. */
struct nm_stat {
	unsigned int	ps_recv;
	unsigned int	ps_drop;
	unsigned int	ps_ifdrop;
};

#define NM_ERRBUF_SIZE	512

#ifndef MAXERRMSG
#define MAXERRMSG	80	/* nm_parse() error text, including the NUL */
#endif

/*
 * A port opened by nm_open(). self == the descriptor itself while it is
 * open. Fields declared const are set by the library only.
 */
struct nm_desc {
	struct nm_desc	*self;
	int		fd;		/* the /dev/netmap fd */
	void		*mem;		/* base of the mapped region */
	uint32_t	memsize;	/* as upstream: clamped to 4 GiB - 1 */
	int		done_mmap;	/* mem is ours to munmap */
	struct netmap_if * const nifp;
	uint16_t	first_tx_ring, last_tx_ring, cur_tx_ring;
	uint16_t	first_rx_ring, last_rx_ring, cur_rx_ring;
	struct nmreq	req;		/* request and registration result */
	struct nm_pkthdr hdr;		/* used by nm_dispatch() */

	/*
	 * The region holds netmap_if, rings, then buffers: an address in
	 * [buf_start, buf_end) is a buffer. some_ring is a bound ring, for
	 * buffer index <-> address translation.
	 */
	struct netmap_ring * const some_ring;
	void * const	buf_start;
	void * const	buf_end;

	/* pcap_open_live() compatibility */
	int		snaplen;
	int		promisc;
	int		to_ms;
	char		*errbuf;

	/* interface state to restore on close */
	uint32_t	if_flags;
	uint32_t	if_reqcap;
	uint32_t	if_curcap;

	struct nm_stat	st;
	char		msg[NM_ERRBUF_SIZE];
};

#define P2NMD(p)		((const struct nm_desc *)(p))
#define IS_NETMAP_DESC(d)	((d) && P2NMD(d)->self == P2NMD(d))
#define NETMAP_FD(d)		(P2NMD(d)->fd)

/* Per-packet callback of nm_dispatch(); same shape as pcap_handler. */
typedef void (*nm_cb_t)(unsigned char *, const struct nm_pkthdr *,
			const unsigned char *d);

/*
 * nm_open() flags. The low 16 bits are reserved for nmreq data
 * (NETMAP_NO_TX_POLL and NETMAP_DO_RX_POLL are honoured); the NM_OPEN_*
 * bits say which fields to take from the parent descriptor arg.
 */
enum {
	NM_OPEN_NO_MMAP	 = 0x040000,	/* share the parent's mapping */
	NM_OPEN_IFNAME	 = 0x080000,	/* name, ringid, flags from parent */
	NM_OPEN_ARG1	 = 0x100000,	/* req.nr_arg1 from parent */
	NM_OPEN_ARG2	 = 0x200000,	/* req.nr_arg2 (mem id) from parent */
	NM_OPEN_ARG3	 = 0x400000,	/* req.nr_arg3 (extra bufs) */
	NM_OPEN_RING_CFG = 0x800000,	/* ring and slot counts from parent */
};

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Open, register and map a port. ifname is "netmap:NAME[mode]" or
 * "valeX:PORT[mode]" (see libnetmap(3) for the mode suffixes); req, if not
 * NULL, gives initial nmreq values. Returns NULL with errno set on error
 * (errno 0 if ifname is not a netmap name at all).
 */
struct nm_desc *nm_open(const char *ifname, const struct nmreq *req,
			uint64_t flags, const struct nm_desc *arg);

/* Unmap, close and free. Returns 0, or EINVAL if d is not a descriptor. */
int nm_close(struct nm_desc *d);

/* Map the region, or share parent's when it uses the same memory id. */
int nm_mmap(struct nm_desc *d, const struct nm_desc *parent);

/* Copy one packet into the next free TX slot; size, or 0 if rings full. */
int nm_inject(struct nm_desc *d, const void *buf, size_t size);

/* Call cb for up to cnt received packets (cnt <= 0: all); returns count. */
int nm_dispatch(struct nm_desc *d, int cnt, nm_cb_t cb, unsigned char *arg);

/* The next received packet, or NULL if none; fills *hdr. */
unsigned char *nm_nextpkt(struct nm_desc *d, struct nm_pkthdr *hdr);

/*
 * Parse ifname into d->req (name, nr_flags, nr_ringid, nr_arg2). On error
 * returns -1 with errno set and, if err is not NULL, a message of at most
 * MAXERRMSG bytes in err.
 */
int nm_parse(const char *ifname, struct nm_desc *d, char *err);

#ifdef __cplusplus
}
#endif

#endif /* !HAVE_NETMAP_WITH_LIBS */
#endif /* NETMAP_WITH_LIBS */

#endif /* _NET_NETMAP_USER_H_ */
