/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libnetmap: open netmap ports by name and manage netmap requests.
 *
 * The same API as upstream netmap's libnetmap (nmport_*, nmreq_*,
 * nmctx_*), so programs written for it build unchanged. The library is a
 * client of the netmap ABI (open("/dev/netmap"), ioctl(NIOCCTRL), mmap);
 * in unetmap those calls are served inside the process.
 *
 * Port names ("portspec"):
 *
 *	subsystem:vpname[mode][options]
 *
 *   subsystem	"netmap" or "vale" followed by an optional switch id
 *		("valeX:port" keeps the whole string as the port name)
 *   vpname	an identifier, or id1{id2 / id1}id2 for the master / slave
 *		end of pipe id2 in the memory region of port id1
 *   mode	^	every host ring pair		(NR_REG_SW)
 *		^N	host ring pair N		(NR_REG_ONE_SW)
 *		*	NIC and host ring pairs		(NR_REG_NIC_SW)
 *		-N	NIC ring pair N			(NR_REG_ONE_NIC)
 *		@N	memory region N			(nr_mem_id)
 *		/FLAGS	any of x (NR_EXCLUSIVE), z (NR_ZCOPY_MON),
 *			t (NR_MONITOR_TX), r (NR_MONITOR_RX),
 *			R (NR_RX_RINGS_ONLY), T (NR_TX_RINGS_ONLY)
 *   options	start at the first '@' not followed by a digit:
 *		@name			flag option
 *		@name=value		single-key option
 *		@name:k1=v1,k2=v2	multi-key option
 *		share=PORT		use the memory region of PORT
 *		conf:rings,tx-rings,rx-rings,host-rings,host-tx-rings,
 *		     host-rx-rings,slots,tx-slots,rx-slots
 *					geometry of ports this open creates
 *		extmem:file,if-num,if-size,ring-num,ring-size,buf-num,
 *		       buf-size	use the mmap()ed file as the region
 *		offset:initial,bits	slot offsets (disabled by default,
 *					see nmport_enable_option())
 *
 * Every function that can fail returns -1 (or NULL), sets errno and sends
 * a message naming the port to the error() callback of its nmctx.
 */
#ifndef LIBNETMAP_H_
#define LIBNETMAP_H_

#include <stddef.h>
#include <stdint.h>
#include <net/netmap_user.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nmctx;
struct nmport_d;
struct nmem_d;
struct nmport_cleanup_d;

/* ------------------------------------------------------------------ */
/* Ports                                                               */
/* ------------------------------------------------------------------ */

/* A netmap port, from parse to close. */
struct nmport_d {
	/* the NETMAP_REQ_REGISTER request; filled by nmport_parse() */
	struct nmreq_header hdr;
	struct nmreq_register reg;

	/* everything below is read-only for the program */

	/* the mapped region; two ports of one nmctx share an nmem_d iff
	 * they share the region (so zero-copy is possible between them) */
	struct nmem_d *mem;
	struct nmctx *ctx;		/* context this port was made with */

	int register_done;		/* nmport_register() succeeded */
	int mmap_done;			/* nmport_mmap() succeeded */
	struct nmreq_opt_extmem *extmem; /* the extmem option in hdr, if any */

	/* as in struct nm_desc */
	int fd;				/* /dev/netmap fd, -1 if none */
	struct netmap_if *nifp;
	uint16_t first_tx_ring;		/* bound rings: [first, last] */
	uint16_t last_tx_ring;
	uint16_t first_rx_ring;
	uint16_t last_rx_ring;
	uint16_t cur_tx_ring;		/* next ring for nmport_inject() */
	uint16_t cur_rx_ring;

	/* undo actions, most recent first (library internal) */
	struct nmport_cleanup_d *clist;
};

/*
 * Open a port: nmport_prepare() then nmport_open_desc(). The bound rings
 * are [first_tx_ring, last_tx_ring] and [first_rx_ring, last_rx_ring];
 * either range may be empty (last < first).
 */
struct nmport_d *nmport_open(const char *portspec);

/* Undo everything nmport_open() did and free d. */
void nmport_close(struct nmport_d *d);

/*
 * Copy a packet into the next free slot(s) of cur_tx_ring (NS_MOREFRAG
 * chains if it exceeds a buffer), moving on to the next bound TX ring when
 * one is full. Returns size on success and 0 if no bound TX ring has room
 * (what upstream's code does, and what its callers test). Does not sync.
 */
int nmport_inject(struct nmport_d *d, const void *buf, size_t size);

/*
 * nmport_open() in steps, for programs that need to adjust the request
 * (extra buffers, extmem, offsets...) before registering:
 *
 *	nmport_open = nmport_prepare   (= nmport_new + nmport_parse)
 *	            + nmport_open_desc (= nmport_register + nmport_mmap)
 *
 * Each step has an undo; on failure a step leaves *d as it found it.
 */
struct nmport_d *nmport_new(void);
int nmport_parse(struct nmport_d *d, const char *portspec);
int nmport_register(struct nmport_d *d);
int nmport_mmap(struct nmport_d *d);

void nmport_delete(struct nmport_d *d);
void nmport_undo_parse(struct nmport_d *d);
void nmport_undo_register(struct nmport_d *d);
void nmport_undo_mmap(struct nmport_d *d);

struct nmport_d *nmport_prepare(const char *portspec);
int nmport_open_desc(struct nmport_d *d);
void nmport_undo_prepare(struct nmport_d *d);
void nmport_undo_open_desc(struct nmport_d *d);

/*
 * A prepared copy of d (same hdr and reg, no options, same nmctx), ready
 * for nmport_open_desc(). A port using extmem can be cloned only after it
 * is registered.
 */
struct nmport_d *nmport_clone(struct nmport_d *d);

/*
 * Use the program's memory [base, base + size) as the port's region.
 * Between nmport_parse() and nmport_register() only.
 */
int nmport_extmem(struct nmport_d *d, void *base, size_t size);

/* nmport_extmem() on an mmap() of fname; unmapped by nmport_close(). */
int nmport_extmem_from_file(struct nmport_d *d, const char *fname);

/* The extmem geometry (set it before, read it after registering), or NULL. */
struct nmreq_pools_info *nmport_extmem_getinfo(struct nmport_d *d);

/*
 * Ask for per-slot packet offsets in the low bits of slot->ptr: every slot
 * starts at offset initial, offsets up to maxoff are honoured, mingap (if
 * not 0) bounds what the kernel writes per slot when buffers are shared.
 * After registering, ring->offset_mask and ring->buf_align tell the
 * result (see NETMAP_ROFFSET() and friends).
 */
int nmport_offset(struct nmport_d *d, uint64_t initial, uint64_t maxoff,
		  uint64_t bits, uint64_t mingap);

/*
 * Enable or disable an option ("share", "conf", "extmem", "offset") of the
 * portspec parser, for every port parsed afterwards. Disabled options are
 * a parse error. nmport_enable_option() fails with EOPNOTSUPP for unknown
 * options; nmport_disable_option() ignores them. Not thread-safe: call
 * them at start-up.
 */
void nmport_disable_option(const char *opt);
int nmport_enable_option(const char *opt);

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/* Zero *hdr, then set nr_version, nr_reqtype and nr_body. */
void nmreq_header_init(struct nmreq_header *hdr, uint16_t reqtype, void *body);

/*
 * Copy the port name at *ppspec ("netmap:foo", "vale1:p") into
 * hdr->nr_name and advance *ppspec past it. On error (EINVAL) nothing
 * changes.
 */
int nmreq_header_decode(const char **ppspec, struct nmreq_header *hdr,
			struct nmctx *ctx);

/*
 * Decode the mode part at *pmode into reg's nr_mode, nr_ringid, nr_flags
 * and nr_mem_id, and advance *pmode. Stops without error at an '@' that is
 * not followed by a digit (the start of the options), leaving *pmode
 * there. On error (EINVAL) nothing changes.
 */
int nmreq_register_decode(const char **pmode, struct nmreq_register *reg,
			  struct nmctx *ctx);

/* Option parsers for nmreq_options_decode(). */
struct nmreq_opt_parser;
struct nmreq_parse_ctx;

/*
 * Parse the options part of a portspec: match each "@name..." against
 * the parsers list, check its syntax and keys, then call the parser's
 * callback with token. Effects of options parsed before an error are not
 * undone.
 */
int nmreq_options_decode(const char *opt, struct nmreq_opt_parser *parsers,
			 void *token, struct nmctx *ctx);

typedef int (*nmreq_opt_parser_cb)(struct nmreq_parse_ctx *);

#define NMREQ_OPT_MAXKEYS	16	/* keys per option, at most */

/* One key of a multi-key option. */
struct nmreq_opt_key {
	const char	*key;		/* key name */
	int		id;		/* index in nmreq_parse_ctx.keys[] */
	unsigned int	flags;
#define NMREQ_OPTK_ALLOWEMPTY	(1U << 0)	/* "=value" may be omitted */
#define NMREQ_OPTK_MUSTSET	(1U << 1)	/* key is mandatory */
#define NMREQ_OPTK_DEFAULT	(1U << 2)	/* the single-key form sets it */
};

/* One option: "@prefix...". */
struct nmreq_opt_parser {
	const char	*prefix;	/* option name */
	nmreq_opt_parser_cb parse;	/* called once the keys are split */
	int		default_key;	/* key id of the single-key form, -1 */
	int		nr_keys;
	unsigned int	flags;
#define NMREQ_OPTF_DISABLED	(1U << 0)
#define NMREQ_OPTF_ALLOWEMPTY	(1U << 1)	/* "=value" may be omitted */

	struct nmreq_opt_parser *next;	/* list of parsers */

	struct nmreq_opt_key keys[NMREQ_OPT_MAXKEYS];
} __attribute__((aligned(16)));

/* What a parser callback receives. */
struct nmreq_parse_ctx {
	struct nmctx	*ctx;		/* for errors and allocations */
	void		*token;		/* as passed to nmreq_options_decode */
	/* value of each key by id; NULL if the key was not given */
	const char	*keys[NMREQ_OPT_MAXKEYS];
};

/*
 * The memory region id of the port named at *portname ("subsystem:vpname",
 * possibly followed by more text, which is left unread). Advances
 * *portname past the name. -1 with errno on error.
 */
int32_t nmreq_get_mem_id(const char **portname, struct nmctx *ctx);

/* The nr_options chain of a request. */
void nmreq_push_option(struct nmreq_header *h, struct nmreq_option *o);
void nmreq_remove_option(struct nmreq_header *h, struct nmreq_option *o);
struct nmreq_option *nmreq_find_option(struct nmreq_header *h, uint32_t t);
void nmreq_free_options(struct nmreq_header *h);
/* "extmem", "offsets", ...; "unknown" for values it does not know */
const char *nmreq_option_name(uint32_t nro_reqtype);

#define nmreq_foreach_option(h_, o_)					\
	for ((o_) = (struct nmreq_option *)(uintptr_t)((h_)->nr_options); \
	     (o_) != NULL;						\
	     (o_) = (struct nmreq_option *)(uintptr_t)((o_)->nro_next))

/* ------------------------------------------------------------------ */
/* Contexts                                                            */
/* ------------------------------------------------------------------ */

/*
 * An nmctx holds what ports opened with it share: the list of mapped
 * regions (so ports on one mem id share one mapping), how to report errors
 * (error(), silent if verbose == 0), how to allocate (malloc()/free()) and
 * how to lock the region list (lock(ctx, 1) / lock(ctx, 0)). Ports use the
 * default context current when they are created.
 */
typedef void  (*nmctx_error_cb)(struct nmctx *, const char *);
typedef void *(*nmctx_malloc_cb)(struct nmctx *, size_t);
typedef void  (*nmctx_free_cb)(struct nmctx *, void *);
typedef void  (*nmctx_lock_cb)(struct nmctx *, int);

struct nmctx {
	int		verbose;
	nmctx_error_cb	error;
	nmctx_malloc_cb	malloc;
	nmctx_free_cb	free;
	nmctx_lock_cb	lock;

	struct nmem_d	*mem_descs;	/* mapped regions */
};

/* The current default context. */
struct nmctx *nmctx_get(void);

/* Make ctx the default; returns the previous one. */
struct nmctx *nmctx_set_default(struct nmctx *ctx);

/* A mapped region, shared by the ports of a context that use it. */
struct nmem_d {
	uint16_t	mem_id;		/* netmap's region id */
	int		refcount;	/* nmport_d's using it */
	void		*mem;		/* base address */
	size_t		size;
	int		is_extmem;	/* the program's memory, not mmap()ed */

	struct nmem_d	*next;		/* list rooted at nmctx.mem_descs */
	struct nmem_d	*prev;
};

/*
 * Install a lock() callback (a pthread mutex) in the default context. The
 * default context is already thread-safe in unetmap; kept for upstream
 * compatibility.
 */
void nmctx_set_threadsafe(void);

/* printf-style message to ctx's error() callback (if ctx->verbose). */
void nmctx_ferror(struct nmctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void *nmctx_malloc(struct nmctx *ctx, size_t size);
void nmctx_free(struct nmctx *ctx, void *p);
void nmctx_lock(struct nmctx *ctx);
void nmctx_unlock(struct nmctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* LIBNETMAP_H_ */
