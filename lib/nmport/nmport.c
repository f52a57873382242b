// SPDX-License-Identifier: BSD-2-Clause
/*
 * nmport: opening a netmap port from a portspec, as a plain client of the
 * netmap ABI (open("/dev/netmap"), ioctl(NIOCCTRL), mmap). Nothing here
 * knows that the "kernel" answering those calls lives in this library.
 *
 * nmport_open() is a chain of steps, each with an undo:
 *
 *	nmport_open = nmport_prepare   (nmport_new + nmport_parse)
 *	            + nmport_open_desc (nmport_register + nmport_mmap)
 *
 * Whatever a step acquires beyond the descriptor's own fields (options
 * hanging off the request header, a mapped extmem file) is recorded on the
 * descriptor's LIFO cleanup list (d->clist), so that undoing the parse, or
 * a parse that fails half way, releases exactly what was taken.
 *
 * Mappings are shared per context: two ports of one mem id (a pipe's two
 * ends, say) point at one struct nmem_d, refcounted under nmctx_lock().
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "export.h"
#include <libnetmap.h>
#include "nmport/nmport_int.h"

/* One undo record. Embedded as "up" in records that carry data. */
struct nmport_cleanup_d {
	struct nmport_cleanup_d *next;
	void (*cleanup)(struct nmport_cleanup_d *c, struct nmport_d *d);
};

static void nmport_push_cleanup(struct nmport_d *d, struct nmport_cleanup_d *c)
{
	c->next = d->clist;
	d->clist = c;
}

static void nmport_pop_cleanup(struct nmport_d *d)
{
	struct nmport_cleanup_d *c = d->clist;

	d->clist = c->next;
	c->cleanup(c, d);
	nmctx_free(d->ctx, c);
}

/* undo until the list is back to "mark" (NULL: everything) */
static void nmport_cleanup_to(struct nmport_d *d, struct nmport_cleanup_d *mark)
{
	while (d->clist != NULL && d->clist != mark)
		nmport_pop_cleanup(d);
}

static struct nmport_d *nmport_new_with_ctx(struct nmctx *ctx)
{
	struct nmport_d *d;

	d = nmctx_malloc(ctx, sizeof(*d));
	if (d == NULL) {
		nmctx_ferror(ctx, "cannot allocate nmport descriptor");
		errno = ENOMEM;
		return NULL;
	}
	memset(d, 0, sizeof(*d));
	nmreq_header_init(&d->hdr, NETMAP_REQ_REGISTER, &d->reg);
	d->ctx = ctx;
	d->fd = -1;
	return d;
}

UNM_API struct nmport_d *nmport_new(void)
{
	return nmport_new_with_ctx(nmctx_get());
}

UNM_API void nmport_delete(struct nmport_d *d)
{
	if (d != NULL)
		nmctx_free(d->ctx, d);
}

/* ------------------------------------------------------------------------
 * Options the program (or the portspec) attaches to the register request.
 */

struct nmport_option_cleanup_d {
	struct nmport_cleanup_d up;
	struct nmreq_option *opt;
};

static void nmport_option_cleanup(struct nmport_cleanup_d *c, struct nmport_d *d)
{
	struct nmport_option_cleanup_d *oc = (struct nmport_option_cleanup_d *)c;

	nmreq_remove_option(&d->hdr, oc->opt);
	if (d->extmem != NULL && &d->extmem->nro_opt == oc->opt)
		d->extmem = NULL;
	nmctx_free(d->ctx, oc->opt);
}

/*
 * Allocates a zeroed option of "size" bytes and type "type", pushes it on
 * the header and records its removal. NULL (errno ENOMEM) on failure.
 */
static struct nmreq_option *nmport_add_option(struct nmport_d *d, uint32_t type,
					      size_t size)
{
	struct nmport_option_cleanup_d *c;
	struct nmreq_option *o;

	c = nmctx_malloc(d->ctx, sizeof(*c));
	o = nmctx_malloc(d->ctx, size);
	if (c == NULL || o == NULL) {
		nmctx_ferror(d->ctx, "%s: cannot allocate option %s",
			     d->hdr.nr_name, nmreq_option_name(type));
		if (c != NULL)
			nmctx_free(d->ctx, c);
		if (o != NULL)
			nmctx_free(d->ctx, o);
		errno = ENOMEM;
		return NULL;
	}
	memset(o, 0, size);
	o->nro_reqtype = type;
	o->nro_size = size;
	nmreq_push_option(&d->hdr, o);
	c->up.cleanup = nmport_option_cleanup;
	c->opt = o;
	nmport_push_cleanup(d, &c->up);
	return o;
}

UNM_API int nmport_extmem(struct nmport_d *d, void *base, size_t size)
{
	struct nmreq_opt_extmem *e;

	if (d->register_done) {
		nmctx_ferror(d->ctx, "%s: cannot set extmem of an already registered port",
			     d->hdr.nr_name);
		errno = EINVAL;
		return -1;
	}
	if (d->extmem != NULL) {
		nmctx_ferror(d->ctx, "%s: extmem already in use", d->hdr.nr_name);
		errno = EINVAL;
		return -1;
	}
	e = (struct nmreq_opt_extmem *)nmport_add_option(d, NETMAP_REQ_OPT_EXTMEM,
							  sizeof(*e));
	if (e == NULL)
		return -1;
	e->nro_usrptr = (uintptr_t)base;
	e->nro_info.nr_memsize = size;
	d->extmem = e;
	return 0;
}

struct nmport_mapping_cleanup_d {
	struct nmport_cleanup_d up;
	void *p;
	size_t size;
};

static void nmport_mapping_cleanup(struct nmport_cleanup_d *c, struct nmport_d *d)
{
	struct nmport_mapping_cleanup_d *mc = (struct nmport_mapping_cleanup_d *)c;

	(void)d;
	munmap(mc->p, mc->size);
}

UNM_API int nmport_extmem_from_file(struct nmport_d *d, const char *fname)
{
	struct nmctx *ctx = d->ctx;
	struct nmport_mapping_cleanup_d *c;
	struct nmport_cleanup_d *mark = d->clist;
	off_t size;
	void *p;
	int fd, err;

	if (fname == NULL || *fname == '\0') {
		nmctx_ferror(ctx, "%s: extmem: missing file name", d->hdr.nr_name);
		errno = EINVAL;
		return -1;
	}
	c = nmctx_malloc(ctx, sizeof(*c));
	if (c == NULL) {
		nmctx_ferror(ctx, "%s: cannot allocate cleanup descriptor", d->hdr.nr_name);
		errno = ENOMEM;
		return -1;
	}
	fd = open(fname, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		nmctx_ferror(ctx, "cannot open '%s': %s", fname, strerror(err));
		goto out_free;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size < 0) {
		err = errno;
		nmctx_ferror(ctx, "failed to obtain filesize of '%s': %s", fname,
			     strerror(err));
		goto out_close;
	}
	if (size == 0) {
		err = EINVAL;
		nmctx_ferror(ctx, "cannot use empty file '%s' as extmem", fname);
		goto out_close;
	}
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = errno;
		nmctx_ferror(ctx, "cannot mmap '%s': %s", fname, strerror(err));
		goto out_close;
	}
	close(fd);

	c->p = p;
	c->size = (size_t)size;
	c->up.cleanup = nmport_mapping_cleanup;
	nmport_push_cleanup(d, &c->up);
	if (nmport_extmem(d, p, (size_t)size) < 0) {
		err = errno;
		nmport_cleanup_to(d, mark);
		errno = err;
		return -1;
	}
	return 0;

out_close:
	close(fd);
out_free:
	nmctx_free(ctx, c);
	errno = err;
	return -1;
}

UNM_API struct nmreq_pools_info *nmport_extmem_getinfo(struct nmport_d *d)
{
	return d->extmem != NULL ? &d->extmem->nro_info : NULL;
}

UNM_API int nmport_offset(struct nmport_d *d, uint64_t initial, uint64_t maxoff,
			  uint64_t bits, uint64_t mingap)
{
	struct nmreq_opt_offsets *o;

	if (d->register_done) {
		nmctx_ferror(d->ctx, "%s: cannot set offsets of an already registered port",
			     d->hdr.nr_name);
		errno = EINVAL;
		return -1;
	}
	if (maxoff < initial) {
		nmctx_ferror(d->ctx, "%s: offset: maxoff %" PRIu64 " below initial offset %" PRIu64,
			     d->hdr.nr_name, maxoff, initial);
		errno = EINVAL;
		return -1;
	}
	if (bits > 64 || mingap > UINT32_MAX) {
		nmctx_ferror(d->ctx, "%s: offset: %s %" PRIu64 " out of range",
			     d->hdr.nr_name, bits > 64 ? "bits" : "mingap",
			     bits > 64 ? bits : mingap);
		errno = EINVAL;
		return -1;
	}
	o = (struct nmreq_opt_offsets *)nmport_add_option(d, NETMAP_REQ_OPT_OFFSETS,
							   sizeof(*o));
	if (o == NULL)
		return -1;
	o->nro_initial_offset = initial;
	o->nro_max_offset = maxoff;
	o->nro_offset_bits = (uint32_t)bits;
	o->nro_min_gap = mingap;
	return 0;
}

/* ------------------------------------------------------------------------
 * The option parsers of nmport_parse(): @share, @conf, @extmem, @offset.
 */


/* Reads the decimal value of "key" of option "opt", in [0, max]. */
static int nmport_key_num(struct nmctx *ctx, const char *opt, const char *key,
			  const char *val, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *e;

	if (val[0] < '0' || val[0] > '9') {
		nmctx_ferror(ctx, "option '%s': key '%s': invalid number '%s'",
			     opt, key, val);
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoull(val, &e, 10);
	if (*e != '\0') {
		nmctx_ferror(ctx, "option '%s': key '%s': invalid number '%s'",
			     opt, key, val);
		errno = EINVAL;
		return -1;
	}
	if (errno == ERANGE || v > max) {
		nmctx_ferror(ctx, "option '%s': key '%s': %s out of range [0, %" PRIu64 "]",
			     opt, key, val, max);
		errno = EINVAL;
		return -1;
	}
	*out = v;
	return 0;
}

enum { SHARE_PORT };
enum {
	CONF_RINGS, CONF_HOST_RINGS, CONF_SLOTS, CONF_TX_RINGS, CONF_RX_RINGS,
	CONF_HOST_TX_RINGS, CONF_HOST_RX_RINGS, CONF_TX_SLOTS, CONF_RX_SLOTS,
	CONF_EXTRA_BUFS,
	/* ours: pool sizes of a region this request creates */
	CONF_IF_NUM, CONF_IF_SIZE, CONF_RING_NUM, CONF_RING_SIZE, CONF_BUF_NUM,
	CONF_BUF_SIZE,
	CONF_NKEYS
};
enum {
	EXTMEM_FILE, EXTMEM_IF_NUM, EXTMEM_IF_SIZE, EXTMEM_RING_NUM,
	EXTMEM_RING_SIZE, EXTMEM_BUF_NUM, EXTMEM_BUF_SIZE
};
enum { OFFSET_INITIAL, OFFSET_MAXOFF, OFFSET_BITS, OFFSET_MINGAP };
enum { ADMODE_MODE };

_Static_assert(CONF_NKEYS <= NMREQ_OPT_MAXKEYS, "too many @conf keys");

/* Sets the pool fields of "pi" from six consecutive keys starting at "first"
 * (if-num, if-size, ring-num, ring-size, buf-num, buf-size). */
static int nmport_pool_keys(struct nmreq_parse_ctx *p, const char *opt,
			    const struct nmreq_opt_key *keys, int first,
			    struct nmreq_pools_info *pi)
{
	uint32_t *field[6] = {
		&pi->nr_if_pool_objtotal, &pi->nr_if_pool_objsize,
		&pi->nr_ring_pool_objtotal, &pi->nr_ring_pool_objsize,
		&pi->nr_buf_pool_objtotal, &pi->nr_buf_pool_objsize,
	};
	uint64_t v;
	int i;

	for (i = 0; i < 6; i++) {
		const char *val = p->keys[first + i];

		if (val == NULL)
			continue;
		if (nmport_key_num(p->ctx, opt, keys[first + i].key, val,
				   UINT32_MAX, &v) < 0)
			return -1;
		*field[i] = (uint32_t)v;
	}
	return 0;
}

static int nmport_opt_share(struct nmreq_parse_ctx *p);
static int nmport_opt_conf(struct nmreq_parse_ctx *p);
static int nmport_opt_extmem(struct nmreq_parse_ctx *p);
static int nmport_opt_offset(struct nmreq_parse_ctx *p);
static int nmport_opt_admode(struct nmreq_parse_ctx *p);

#define NPKEY(name, kid, fl) [kid] = { .key = (name), .id = (kid), .flags = (fl) }
#define NPK_DEF (NMREQ_OPTK_DEFAULT | NMREQ_OPTK_MUSTSET)

/*
 * The options nmport_parse() understands, a list linked in place (no
 * constructors). Not const: nmport_{en,dis}able_option() flip the flags.
 */
static struct nmreq_opt_parser nmport_opt_parsers[] = {
	{
		.prefix = "share",
		.parse = nmport_opt_share,
		.default_key = SHARE_PORT,
		.nr_keys = 1,
		.next = &nmport_opt_parsers[1],
		.keys = { NPKEY("port", SHARE_PORT, NPK_DEF) },
	}, {
		.prefix = "conf",
		.parse = nmport_opt_conf,
		.default_key = CONF_RINGS,
		.nr_keys = CONF_NKEYS,
		.next = &nmport_opt_parsers[2],
		.keys = {
			NPKEY("rings", CONF_RINGS, NMREQ_OPTK_DEFAULT),
			NPKEY("host-rings", CONF_HOST_RINGS, 0),
			NPKEY("slots", CONF_SLOTS, 0),
			NPKEY("tx-rings", CONF_TX_RINGS, 0),
			NPKEY("rx-rings", CONF_RX_RINGS, 0),
			NPKEY("host-tx-rings", CONF_HOST_TX_RINGS, 0),
			NPKEY("host-rx-rings", CONF_HOST_RX_RINGS, 0),
			NPKEY("tx-slots", CONF_TX_SLOTS, 0),
			NPKEY("rx-slots", CONF_RX_SLOTS, 0),
			NPKEY("extra-bufs", CONF_EXTRA_BUFS, 0),
			NPKEY("if-num", CONF_IF_NUM, 0),
			NPKEY("if-size", CONF_IF_SIZE, 0),
			NPKEY("ring-num", CONF_RING_NUM, 0),
			NPKEY("ring-size", CONF_RING_SIZE, 0),
			NPKEY("buf-num", CONF_BUF_NUM, 0),
			NPKEY("buf-size", CONF_BUF_SIZE, 0),
		},
	}, {
		.prefix = "extmem",
		.parse = nmport_opt_extmem,
		.default_key = EXTMEM_FILE,
		.nr_keys = 7,
		.next = &nmport_opt_parsers[3],
		.keys = {
			NPKEY("file", EXTMEM_FILE, NPK_DEF),
			NPKEY("if-num", EXTMEM_IF_NUM, 0),
			NPKEY("if-size", EXTMEM_IF_SIZE, 0),
			NPKEY("ring-num", EXTMEM_RING_NUM, 0),
			NPKEY("ring-size", EXTMEM_RING_SIZE, 0),
			NPKEY("buf-num", EXTMEM_BUF_NUM, 0),
			NPKEY("buf-size", EXTMEM_BUF_SIZE, 0),
		},
	}, {
		/* off by default as upstream: the program must handle offsets */
		.prefix = "offset",
		.parse = nmport_opt_offset,
		.flags = NMREQ_OPTF_DISABLED,
		.default_key = OFFSET_INITIAL,
		.nr_keys = 4,
		.next = &nmport_opt_parsers[4],
		.keys = {
			NPKEY("initial", OFFSET_INITIAL, NPK_DEF),
			NPKEY("maxoff", OFFSET_MAXOFF, 0),
			NPKEY("bits", OFFSET_BITS, 0),
			NPKEY("mingap", OFFSET_MINGAP, 0),
		},
	}, {
		/*
		 * ours: netmap's admode for a NIC port, "@admode=generic" or
		 * "@admode:mode=generic" (@conf has no key left: NMREQ_OPT_MAXKEYS)
		 */
		.prefix = "admode",
		.parse = nmport_opt_admode,
		.default_key = ADMODE_MODE,
		.nr_keys = 1,
		.next = NULL,
		.keys = { NPKEY("mode", ADMODE_MODE, NPK_DEF) },
	},
};

#define NPOPT_SHARE	(&nmport_opt_parsers[0])
#define NPOPT_CONF	(&nmport_opt_parsers[1])
#define NPOPT_EXTMEM	(&nmport_opt_parsers[2])
#define NPOPT_OFFSET	(&nmport_opt_parsers[3])

/*
 * @admode=MODE sets the NR_UNM_ADMODE_* bits of nr_flags: native (1),
 * generic or emulated (2), auto (0: best effort, whatever UNM_ADMODE says).
 */
static int nmport_opt_admode(struct nmreq_parse_ctx *p)
{
	static const struct {
		const char *name;
		uint64_t flags;
	} modes[] = {
		{ "auto", NR_UNM_ADMODE_MASK }, { "0", NR_UNM_ADMODE_MASK },
		{ "native", NR_UNM_ADMODE_NATIVE }, { "1", NR_UNM_ADMODE_NATIVE },
		{ "generic", NR_UNM_ADMODE_GENERIC }, { "emulated", NR_UNM_ADMODE_GENERIC },
		{ "2", NR_UNM_ADMODE_GENERIC },
	};
	struct nmport_d *d = p->token;
	const char *v = p->keys[ADMODE_MODE];
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(v, modes[i].name) == 0) {
			d->reg.nr_flags = (d->reg.nr_flags & ~NR_UNM_ADMODE_MASK) |
					  modes[i].flags;
			return 0;
		}
	}
	nmctx_ferror(p->ctx, "option 'admode': invalid mode '%s' (auto, native or generic)", v);
	errno = EINVAL;
	return -1;
}

static int nmport_opt_share(struct nmreq_parse_ctx *p)
{
	struct nmport_d *d = p->token;
	const char *spec = p->keys[SHARE_PORT], *rest = spec;
	struct nmreq_register scratch;
	int32_t mem_id;

	/* the port may carry a ring/flag suffix: check it, then ignore it */
	memset(&scratch, 0, sizeof(scratch));
	mem_id = nmreq_get_mem_id(&rest, p->ctx);
	if (mem_id < 0)
		return -1;
	if (nmreq_register_decode(&rest, &scratch, p->ctx) < 0)
		return -1;
	if (*rest != '\0') {
		nmctx_ferror(p->ctx, "option 'share': unexpected characters '%s' after port '%.*s'",
			     rest, (int)(rest - spec), spec);
		errno = EINVAL;
		return -1;
	}
	if (d->reg.nr_mem_id != 0 && d->reg.nr_mem_id != mem_id) {
		nmctx_ferror(p->ctx, "cannot set mem_id to %" PRId32 ", already set to %" PRIu16,
			     mem_id, d->reg.nr_mem_id);
		errno = EINVAL;
		return -1;
	}
	d->reg.nr_mem_id = (uint16_t)mem_id;
	return 0;
}

static int nmport_opt_conf(struct nmreq_parse_ctx *p)
{
	const struct nmreq_opt_key *keys = NPOPT_CONF->keys;
	struct nmport_d *d = p->token;
	struct nmreq_register reg = d->reg;
	uint64_t v[CONF_NKEYS];
	int set[CONF_NKEYS];
	int i, want_pools = 0;

	for (i = 0; i < CONF_NKEYS; i++) {
		set[i] = p->keys[i] != NULL;
		if (!set[i])
			continue;
		if (nmport_key_num(p->ctx, "conf", keys[i].key, p->keys[i],
				   i <= CONF_HOST_RINGS || (i >= CONF_TX_RINGS && i <= CONF_HOST_RX_RINGS)
				   ? UINT16_MAX : UINT32_MAX, &v[i]) < 0)
			return -1;
		if (i >= CONF_IF_NUM)
			want_pools = 1;
	}
	/* general keys first, so that the specific ones override them */
	if (set[CONF_RINGS])
		reg.nr_tx_rings = reg.nr_rx_rings = (uint16_t)v[CONF_RINGS];
	if (set[CONF_HOST_RINGS])
		reg.nr_host_tx_rings = reg.nr_host_rx_rings = (uint16_t)v[CONF_HOST_RINGS];
	if (set[CONF_SLOTS])
		reg.nr_tx_slots = reg.nr_rx_slots = (uint32_t)v[CONF_SLOTS];
	if (set[CONF_TX_RINGS])
		reg.nr_tx_rings = (uint16_t)v[CONF_TX_RINGS];
	if (set[CONF_RX_RINGS])
		reg.nr_rx_rings = (uint16_t)v[CONF_RX_RINGS];
	if (set[CONF_HOST_TX_RINGS])
		reg.nr_host_tx_rings = (uint16_t)v[CONF_HOST_TX_RINGS];
	if (set[CONF_HOST_RX_RINGS])
		reg.nr_host_rx_rings = (uint16_t)v[CONF_HOST_RX_RINGS];
	if (set[CONF_TX_SLOTS])
		reg.nr_tx_slots = (uint32_t)v[CONF_TX_SLOTS];
	if (set[CONF_RX_SLOTS])
		reg.nr_rx_slots = (uint32_t)v[CONF_RX_SLOTS];
	if (set[CONF_EXTRA_BUFS])
		reg.nr_extra_bufs = (uint32_t)v[CONF_EXTRA_BUFS];

	if (want_pools) {
		struct nmreq_opt_unm_pools *po;

		po = (struct nmreq_opt_unm_pools *)nmreq_find_option(&d->hdr,
						NETMAP_REQ_OPT_UNM_POOLS);
		if (po == NULL) {
			po = (struct nmreq_opt_unm_pools *)nmport_add_option(d,
					NETMAP_REQ_OPT_UNM_POOLS, sizeof(*po));
			if (po == NULL)
				return -1;
		}
		/* values were checked above: this cannot fail half way */
		if (nmport_pool_keys(p, "conf", keys, CONF_IF_NUM, &po->nro_info) < 0)
			return -1;
	}
	d->reg = reg;
	return 0;
}

static int nmport_opt_extmem(struct nmreq_parse_ctx *p)
{
	const struct nmreq_opt_key *keys = NPOPT_EXTMEM->keys;
	struct nmport_d *d = p->token;
	struct nmport_cleanup_d *mark = d->clist;
	struct nmreq_pools_info pi;
	int err;

	/* check every number before mapping anything */
	memset(&pi, 0, sizeof(pi));
	if (nmport_pool_keys(p, "extmem", keys, EXTMEM_IF_NUM, &pi) < 0)
		return -1;
	if (nmport_extmem_from_file(d, p->keys[EXTMEM_FILE]) < 0) {
		err = errno;
		nmport_cleanup_to(d, mark);
		errno = err;
		return -1;
	}
	pi.nr_memsize = d->extmem->nro_info.nr_memsize;
	d->extmem->nro_info = pi;
	return 0;
}

static int nmport_opt_offset(struct nmreq_parse_ctx *p)
{
	const struct nmreq_opt_key *keys = NPOPT_OFFSET->keys;
	struct nmport_d *d = p->token;
	uint64_t v[4] = { 0, 0, 0, 0 };
	int i;

	for (i = OFFSET_INITIAL; i <= OFFSET_MINGAP; i++) {
		if (p->keys[i] == NULL)
			continue;
		if (nmport_key_num(p->ctx, "offset", keys[i].key, p->keys[i],
				   i == OFFSET_BITS ? 64 : i == OFFSET_MINGAP ?
				   UINT32_MAX : UINT64_MAX, &v[i]) < 0)
			return -1;
	}
	/* the maximum defaults to the initial offset, as upstream */
	if (p->keys[OFFSET_MAXOFF] == NULL)
		v[OFFSET_MAXOFF] = v[OFFSET_INITIAL];
	return nmport_offset(d, v[OFFSET_INITIAL], v[OFFSET_MAXOFF],
			     v[OFFSET_BITS], v[OFFSET_MINGAP]);
}

UNM_API void nmport_disable_option(const char *opt)
{
	struct nmreq_opt_parser *p;

	for (p = nmport_opt_parsers; p != NULL; p = p->next)
		if (strcmp(p->prefix, opt) == 0)
			p->flags |= NMREQ_OPTF_DISABLED;
}

UNM_API int nmport_enable_option(const char *opt)
{
	struct nmreq_opt_parser *p;

	for (p = nmport_opt_parsers; p != NULL; p = p->next) {
		if (strcmp(p->prefix, opt) == 0) {
			p->flags &= ~NMREQ_OPTF_DISABLED;
			return 0;
		}
	}
	errno = EOPNOTSUPP;
	return -1;
}

/* ------------------------------------------------------------------------
 * The steps of nmport_open() and their undos.
 */

UNM_API int nmport_parse(struct nmport_d *d, const char *spec)
{
	struct nmport_cleanup_d *mark = d->clist;
	struct nmreq_header hdr = d->hdr;
	struct nmreq_register reg = d->reg;
	const char *s = spec;
	int err;

	if (spec == NULL) {
		nmctx_ferror(d->ctx, "missing port name");
		errno = EINVAL;
		return -1;
	}
	if (nmreq_header_decode(&s, &d->hdr, d->ctx) < 0)
		goto fail;
	d->hdr.nr_version = NETMAP_API;
	d->hdr.nr_reqtype = NETMAP_REQ_REGISTER;
	d->hdr.nr_body = (uintptr_t)&d->reg;
	if (nmreq_register_decode(&s, &d->reg, d->ctx) < 0)
		goto fail;
	if (nmreq_options_decode(s, nmport_opt_parsers, d, d->ctx) < 0)
		goto fail;
	return 0;
fail:
	/* leave *d as it was */
	err = errno;
	nmport_cleanup_to(d, mark);
	d->hdr = hdr;
	d->reg = reg;
	errno = err;
	return -1;
}

UNM_API void nmport_undo_parse(struct nmport_d *d)
{
	nmport_cleanup_to(d, NULL);
	memset(&d->reg, 0, sizeof(d->reg));
	nmreq_header_init(&d->hdr, NETMAP_REQ_REGISTER, &d->reg);
	d->extmem = NULL;
}

UNM_API struct nmport_d *nmport_prepare(const char *spec)
{
	struct nmport_d *d;
	int err;

	d = nmport_new();
	if (d == NULL)
		return NULL;
	if (nmport_parse(d, spec) < 0) {
		err = errno;
		nmport_undo_prepare(d);
		errno = err;
		return NULL;
	}
	return d;
}

UNM_API void nmport_undo_prepare(struct nmport_d *d)
{
	if (d == NULL)
		return;
	nmport_undo_parse(d);
	nmport_delete(d);
}

UNM_API int nmport_register(struct nmport_d *d)
{
	struct nmctx *ctx = d->ctx;
	struct nmreq_option *o;
	int err, option_errors = 0;

	if (d->register_done) {
		nmctx_ferror(ctx, "%s: already registered", d->hdr.nr_name);
		errno = EINVAL;
		return -1;
	}
	d->fd = open("/dev/netmap", O_RDWR | O_CLOEXEC);
	if (d->fd < 0) {
		err = errno;
		nmctx_ferror(ctx, "/dev/netmap: %s", strerror(err));
		errno = err;
		return -1;
	}
	nmreq_foreach_option(&d->hdr, o)
		o->nro_status = 0;
	if (ioctl(d->fd, NIOCCTRL, &d->hdr) < 0) {
		err = errno;
		nmreq_foreach_option(&d->hdr, o) {
			if (o->nro_status == 0)
				continue;
			nmctx_ferror(ctx, "%s: option %s: %s", d->hdr.nr_name,
				     nmreq_option_name(o->nro_reqtype),
				     strerror((int)o->nro_status));
			option_errors++;
		}
		if (!option_errors)
			nmctx_ferror(ctx, "%s: %s", d->hdr.nr_name, strerror(err));
		close(d->fd);
		d->fd = -1;
		errno = err;
		return -1;
	}
	d->register_done = 1;
	return 0;
}

UNM_API void nmport_undo_register(struct nmport_d *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	d->register_done = 0;
}

/*
 * The bound rings of one direction: the first run of non-zero ring_ofs
 * entries (the kernel leaves the others at 0). With none, first > last.
 */
static void nmport_ring_range(const struct netmap_if *nifp, unsigned int base,
			      unsigned int n, uint16_t *first, uint16_t *last)
{
	unsigned int i = 0, j;

	while (i < n && nifp->ring_ofs[base + i] == 0)
		i++;
	if (i == n) {
		*first = 1;
		*last = 0;
		return;
	}
	for (j = i; j < n && nifp->ring_ofs[base + j] != 0; j++)
		;
	*first = (uint16_t)i;
	*last = (uint16_t)(j - 1);
}

UNM_API int nmport_mmap(struct nmport_d *d)
{
	struct nmctx *ctx = d->ctx;
	struct nmem_d *m;
	unsigned int ntx, nrx;
	int err;

	if (d->mmap_done) {
		nmctx_ferror(ctx, "%s: already mapped", d->hdr.nr_name);
		errno = EINVAL;
		return -1;
	}
	if (!d->register_done) {
		nmctx_ferror(ctx, "%s: cannot map unregistered port", d->hdr.nr_name);
		errno = EINVAL;
		return -1;
	}

	nmctx_lock(ctx);
	for (m = ctx->mem_descs; m != NULL; m = m->next)
		if (m->mem_id == d->reg.nr_mem_id)
			break;
	if (m == NULL) {
		m = nmctx_malloc(ctx, sizeof(*m));
		if (m == NULL) {
			nmctx_unlock(ctx);
			nmctx_ferror(ctx, "%s: cannot allocate memory descriptor",
				     d->hdr.nr_name);
			errno = ENOMEM;
			return -1;
		}
		memset(m, 0, sizeof(*m));
		if (d->extmem != NULL) {
			m->mem = (void *)(uintptr_t)d->extmem->nro_usrptr;
			m->size = d->extmem->nro_info.nr_memsize;
			m->is_extmem = 1;
		} else {
			m->mem = mmap(NULL, d->reg.nr_memsize, PROT_READ | PROT_WRITE,
				      MAP_SHARED, d->fd, 0);
			if (m->mem == MAP_FAILED) {
				err = errno;
				nmctx_unlock(ctx);
				nmctx_free(ctx, m);
				nmctx_ferror(ctx, "%s: mmap of %" PRIu64 " bytes (mem_id %" PRIu16 "): %s",
					     d->hdr.nr_name, d->reg.nr_memsize,
					     d->reg.nr_mem_id, strerror(err));
				errno = err;
				return -1;
			}
			m->size = d->reg.nr_memsize;
		}
		m->mem_id = d->reg.nr_mem_id;
		m->prev = NULL;
		m->next = ctx->mem_descs;
		if (ctx->mem_descs != NULL)
			ctx->mem_descs->prev = m;
		ctx->mem_descs = m;
	}
	m->refcount++;
	nmctx_unlock(ctx);

	d->mem = m;
	d->nifp = NETMAP_IF(m->mem, d->reg.nr_offset);
	ntx = d->reg.nr_tx_rings + d->nifp->ni_host_tx_rings;
	nrx = d->reg.nr_rx_rings + d->nifp->ni_host_rx_rings;
	nmport_ring_range(d->nifp, 0, ntx, &d->first_tx_ring, &d->last_tx_ring);
	nmport_ring_range(d->nifp, ntx, nrx, &d->first_rx_ring, &d->last_rx_ring);
	d->cur_tx_ring = d->first_tx_ring;
	d->cur_rx_ring = d->first_rx_ring;
	d->mmap_done = 1;
	return 0;
}

UNM_API void nmport_undo_mmap(struct nmport_d *d)
{
	struct nmctx *ctx = d->ctx;
	struct nmem_d *m = d->mem;

	if (m != NULL) {
		nmctx_lock(ctx);
		if (--m->refcount <= 0) {
			if (!m->is_extmem && m->mem != MAP_FAILED)
				munmap(m->mem, m->size);
			if (m->next != NULL)
				m->next->prev = m->prev;
			if (m->prev != NULL)
				m->prev->next = m->next;
			else
				ctx->mem_descs = m->next;
			nmctx_free(ctx, m);
		}
		nmctx_unlock(ctx);
	}
	d->mem = NULL;
	d->mmap_done = 0;
	d->nifp = NULL;
	d->first_tx_ring = d->last_tx_ring = d->cur_tx_ring = 0;
	d->first_rx_ring = d->last_rx_ring = d->cur_rx_ring = 0;
}

UNM_API int nmport_open_desc(struct nmport_d *d)
{
	int err;

	if (nmport_register(d) < 0)
		return -1;
	if (nmport_mmap(d) < 0) {
		err = errno;
		nmport_undo_register(d);
		errno = err;
		return -1;
	}
	return 0;
}

UNM_API void nmport_undo_open_desc(struct nmport_d *d)
{
	nmport_undo_mmap(d);
	nmport_undo_register(d);
}

UNM_API struct nmport_d *nmport_open(const char *spec)
{
	struct nmport_d *d;
	int err;

	d = nmport_prepare(spec);
	if (d == NULL)
		return NULL;
	if (nmport_open_desc(d) < 0) {
		err = errno;
		nmport_undo_prepare(d);
		errno = err;
		return NULL;
	}
	return d;
}

UNM_API void nmport_close(struct nmport_d *d)
{
	if (d == NULL)
		return;
	nmport_undo_open_desc(d);
	nmport_undo_prepare(d);
}

UNM_API struct nmport_d *nmport_clone(struct nmport_d *d)
{
	struct nmport_d *c;

	if (d->extmem != NULL && !d->register_done) {
		nmctx_ferror(d->ctx, "%s: cannot clone unregistered port that is using extmem",
			     d->hdr.nr_name);
		errno = EINVAL;
		return NULL;
	}
	c = nmport_new_with_ctx(d->ctx);
	if (c == NULL)
		return NULL;
	/* the request without its options; the mem id comes along */
	c->hdr = d->hdr;
	c->hdr.nr_body = (uintptr_t)&c->reg;
	c->hdr.nr_options = 0;
	c->reg = d->reg;
	return c;
}

/*
 * Copies one packet into the TX rings, spilling into further slots of the
 * same ring (NS_MOREFRAG) if it exceeds a buffer. Stays on cur_tx_ring
 * until that ring is full, then tries the next ones in turn. Returns the
 * size, or 0 if no bound TX ring has room.
 */
UNM_API int nmport_inject(struct nmport_d *d, const void *buf, size_t size)
{
	unsigned int nrings, k, ri;

	if (!d->mmap_done) {
		nmctx_ferror(d->ctx, "%s: inject on a port that is not mapped",
			     d->hdr.nr_name);
		errno = EINVAL;
		return 0;
	}
	if (d->last_tx_ring < d->first_tx_ring)
		return 0;
	nrings = d->last_tx_ring - d->first_tx_ring + 1u;
	ri = d->cur_tx_ring;
	for (k = 0; k < nrings; k++, ri++) {
		struct netmap_ring *ring;
		const char *src = buf;
		uint32_t cur, nslots, space, bufsz;
		size_t rem;

		if (ri > d->last_tx_ring || ri < d->first_tx_ring)
			ri = d->first_tx_ring;
		ring = NETMAP_TXRING(d->nifp, ri);
		bufsz = ring->nr_buf_size;
		if (bufsz == 0)
			continue;
		nslots = size == 0 ? 1 : (uint32_t)((size + bufsz - 1) / bufsz);
		space = nm_ring_space(ring);
		if (space < nslots)
			continue;
		cur = ring->cur;
		rem = size;
		for (;;) {
			struct netmap_slot *slot = &ring->slot[cur];
			size_t n = rem > bufsz ? bufsz : rem;

			memcpy(NETMAP_BUF(ring, slot->buf_idx), src, n);
			slot->len = (uint16_t)n;
			rem -= n;
			src += n;
			cur = nm_ring_next(ring, cur);
			if (rem == 0) {
				slot->flags = 0;
				break;
			}
			slot->flags = NS_MOREFRAG;
		}
		ring->head = ring->cur = cur;
		d->cur_tx_ring = (uint16_t)ri;
		return (int)size;
	}
	return 0;
}
