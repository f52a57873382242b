// SPDX-License-Identifier: BSD-2-Clause
/*
 * The nm_open() family of <net/netmap_user.h> (NETMAP_WITH_LIBS): the
 * pcap-like API that predates libnetmap. Upstream ships it as static
 * functions in the header; here it is a thin layer over nmport_*, so that
 * one parser reads port names and one code path registers and maps ports.
 *
 * Each struct nm_desc handed to the program is the head of a
 * struct nmdesc_priv that also holds the nmport_d doing the work. The
 * legacy struct nmreq in d->req is filled from the registration result,
 * so programs that read d->req.nr_rx_rings, nr_memsize, nr_arg2 (mem id)
 * and friends see the values in use.
 *
 * Sharing with a parent descriptor (NM_OPEN_NO_MMAP): the child registers
 * in the parent's memory region and, because both ports live in the same
 * nmctx, nmport_mmap() hands it the parent's mapping instead of a new one.
 * That is what makes zero-copy buffer swaps between the two valid.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#define NETMAP_WITH_LIBS
#include <net/netmap_user.h>
#include <libnetmap.h>

struct nmdesc_priv {
	struct nm_desc d;		/* first: the program sees only this */
	struct nmport_d *port;		/* owns fd, registration, mapping */
	struct nmdesc_priv *next;	/* nmdesc_list */
};

/*
 * Descriptors made by nm_open(), so that nm_close() and nm_mmap() can tell
 * them from a struct nm_desc the program built itself (which has no
 * nmdesc_priv around it) without reading past it. Walked on the control
 * path only.
 */
static pthread_mutex_t nmdesc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nmdesc_priv *nmdesc_list;

static void
nmdesc_list_add(struct nmdesc_priv *priv)
{
	pthread_mutex_lock(&nmdesc_lock);
	priv->next = nmdesc_list;
	nmdesc_list = priv;
	pthread_mutex_unlock(&nmdesc_lock);
}

/* The priv of d if nm_open() made it; with unlink, also forget it. */
static struct nmdesc_priv *
nmdesc_list_find(const struct nm_desc *d, int unlink)
{
	struct nmdesc_priv **pp, *priv = NULL;

	if (!IS_NETMAP_DESC(d))
		return NULL;
	pthread_mutex_lock(&nmdesc_lock);
	for (pp = &nmdesc_list; *pp != NULL; pp = &(*pp)->next) {
		if (&(*pp)->d == d) {
			priv = *pp;
			if (unlink)
				*pp = priv->next;
			break;
		}
	}
	pthread_mutex_unlock(&nmdesc_lock);
	return priv;
}

/* Names nm_open() accepts; anything else is "not a netmap name". */
static int
nmdesc_is_netmap_name(const char *ifname)
{
	return strncmp(ifname, "netmap:", 7) == 0 ||
	       strncmp(ifname, NM_BDG_NAME, strlen(NM_BDG_NAME)) == 0;
}

/*
 * Legacy request -> new register request, for NM_OPEN_IFNAME: name, ring
 * mode (nr_flags' NR_REG_* part, or the deprecated nr_ringid bits when
 * that is NR_REG_DEFAULT) and NR_* flags. The deprecated pipe modes become
 * the "x{N" / "x}N" names the new API uses.
 */
static int
nmdesc_req_to_reg(struct nmctx *ctx, const struct nmreq *req,
		  struct nmport_d *p)
{
	uint32_t mode = req->nr_flags & NR_REG_MASK;
	uint16_t ring = req->nr_ringid & NETMAP_RING_MASK;
	char name[IFNAMSIZ + 1];
	int n;

	memcpy(name, req->nr_name, IFNAMSIZ);
	name[IFNAMSIZ] = '\0';
	if (name[0] == '\0') {
		nmctx_ferror(ctx, "nm_open: NM_OPEN_IFNAME with an empty nr_name");
		errno = EINVAL;
		return -1;
	}
	if (mode == NR_REG_DEFAULT) {
		if (req->nr_ringid & NETMAP_SW_RING)
			mode = NR_REG_SW;
		else if (req->nr_ringid & NETMAP_HW_RING)
			mode = NR_REG_ONE_NIC;
		else
			mode = NR_REG_ALL_NIC;
	}
	if (mode == NR_REG_PIPE_MASTER || mode == NR_REG_PIPE_SLAVE) {
		n = snprintf(p->hdr.nr_name, sizeof(p->hdr.nr_name), "%s%c%u",
			     name, mode == NR_REG_PIPE_MASTER ? '{' : '}', ring);
		mode = NR_REG_ALL_NIC;
		ring = 0;
	} else {
		n = snprintf(p->hdr.nr_name, sizeof(p->hdr.nr_name), "%s", name);
	}
	if (n < 0 || (size_t)n >= sizeof(p->hdr.nr_name)) {
		nmctx_ferror(ctx, "nm_open %s: port name too long", name);
		errno = EINVAL;
		return -1;
	}
	if (mode > NR_REG_ONE_SW) {
		nmctx_ferror(ctx, "nm_open %s: invalid ring mode %u in nr_flags",
			     name, mode);
		errno = EINVAL;
		return -1;
	}
	p->reg.nr_mode = mode;
	p->reg.nr_ringid = ring;
	p->reg.nr_flags = req->nr_flags & ~(uint32_t)NR_REG_MASK;
	return 0;
}

/*
 * Rings a registration binds, from its mode, for descriptors not mapped
 * yet (NM_OPEN_NO_MMAP without a parent). Once mapped, nmport_mmap()'s
 * answer (read from the netmap_if) replaces this.
 */
static void
nmdesc_rings_from_mode(struct nm_desc *d, const struct nmreq_register *reg)
{
	uint16_t ntx = reg->nr_tx_rings, nrx = reg->nr_rx_rings;
	uint16_t htx = reg->nr_host_tx_rings ? reg->nr_host_tx_rings : 1;
	uint16_t hrx = reg->nr_host_rx_rings ? reg->nr_host_rx_rings : 1;

	switch (reg->nr_mode) {
	case NR_REG_SW:
		d->first_tx_ring = ntx;
		d->last_tx_ring = ntx + htx - 1;
		d->first_rx_ring = nrx;
		d->last_rx_ring = nrx + hrx - 1;
		break;
	case NR_REG_ONE_SW:
		d->first_tx_ring = d->last_tx_ring = ntx + reg->nr_ringid;
		d->first_rx_ring = d->last_rx_ring = nrx + reg->nr_ringid;
		break;
	case NR_REG_NIC_SW:
		d->first_tx_ring = d->first_rx_ring = 0;
		d->last_tx_ring = ntx + htx - 1;
		d->last_rx_ring = nrx + hrx - 1;
		break;
	case NR_REG_ONE_NIC:
		d->first_tx_ring = d->last_tx_ring = reg->nr_ringid;
		d->first_rx_ring = d->last_rx_ring = reg->nr_ringid;
		break;
	default:
		d->first_tx_ring = d->first_rx_ring = 0;
		d->last_tx_ring = ntx ? ntx - 1 : 0;
		d->last_rx_ring = nrx ? nrx - 1 : 0;
		break;
	}
	d->cur_tx_ring = d->first_tx_ring;
	d->cur_rx_ring = d->first_rx_ring;
}

/* The registration result, as the legacy request reports it. */
static void
nmdesc_fill_req(struct nm_desc *d, const struct nmport_d *p, uint16_t pollbits)
{
	const struct nmreq_register *reg = &p->reg;
	struct nmreq *req = &d->req;

	size_t namelen = strnlen(p->hdr.nr_name, sizeof(req->nr_name) - 1);

	/* cut to fit: the legacy name holds IFNAMSIZ - 1 characters */
	memcpy(req->nr_name, p->hdr.nr_name, namelen);
	req->nr_name[namelen] = '\0';
	req->nr_version = NETMAP_API;
	req->nr_offset = (uint32_t)reg->nr_offset;
	req->nr_memsize = reg->nr_memsize > UINT32_MAX ? UINT32_MAX :
			  (uint32_t)reg->nr_memsize;
	req->nr_tx_slots = reg->nr_tx_slots;
	req->nr_rx_slots = reg->nr_rx_slots;
	req->nr_tx_rings = reg->nr_tx_rings;
	req->nr_rx_rings = reg->nr_rx_rings;
	req->nr_ringid = (reg->nr_ringid & NETMAP_RING_MASK) | pollbits;
	req->nr_cmd = 0;
	req->nr_arg2 = reg->nr_mem_id;
	req->nr_arg3 = reg->nr_extra_bufs;
	req->nr_flags = reg->nr_mode | (uint32_t)(reg->nr_flags & ~(uint64_t)NR_REG_MASK);
}

/* Point the descriptor at the port's mapping. */
static void
nmdesc_set_mapping(struct nm_desc *d, const struct nmport_d *p,
		   const struct nm_desc *parent)
{
	struct netmap_ring *some;
	char *mem = p->mem->mem;

	d->mem = mem;
	/* upstream's nm_desc has a 32-bit memsize; buf_end uses the real size */
	d->memsize = p->mem->size > UINT32_MAX ? UINT32_MAX : (uint32_t)p->mem->size;
	d->done_mmap = !(IS_NETMAP_DESC(parent) && parent->mem == d->mem);
	d->first_tx_ring = p->first_tx_ring;
	d->last_tx_ring = p->last_tx_ring;
	d->first_rx_ring = p->first_rx_ring;
	d->last_rx_ring = p->last_rx_ring;
	d->cur_tx_ring = d->first_tx_ring;
	d->cur_rx_ring = d->first_rx_ring;

	/* a bound ring, RX preferred, for buffer address translation */
	if (d->first_rx_ring <= d->last_rx_ring)
		some = NETMAP_RXRING(p->nifp, d->first_rx_ring);
	else if (d->first_tx_ring <= d->last_tx_ring)
		some = NETMAP_TXRING(p->nifp, d->first_tx_ring);
	else
		some = NULL;

	/* the const fields are the library's to set */
	*(struct netmap_if **)(uintptr_t)&d->nifp = p->nifp;
	*(struct netmap_ring **)(uintptr_t)&d->some_ring = some;
	*(void **)(uintptr_t)&d->buf_start = some ? NETMAP_BUF(some, 0) : NULL;
	*(void **)(uintptr_t)&d->buf_end = mem + p->mem->size;
}

UNM_API int
nm_mmap(struct nm_desc *d, const struct nm_desc *parent)
{
	struct nmdesc_priv *priv = nmdesc_list_find(d, 0);
	struct nmport_d *p;

	if (priv == NULL)
		return EINVAL;
	p = priv->port;
	if (p->mmap_done)
		return 0;
	/*
	 * nmport_mmap() reuses the mapping of any port of this context with
	 * the same mem id, which is the parent's when parent->req.nr_arg2
	 * matches.
	 */
	if (nmport_mmap(p) < 0)
		return EINVAL;
	nmdesc_set_mapping(d, p, parent);
	return 0;
}

UNM_API struct nm_desc *
nm_open(const char *ifname, const struct nmreq *req, uint64_t new_flags,
	const struct nm_desc *arg)
{
	struct nmctx *ctx = nmctx_get();
	const struct nm_desc *parent = IS_NETMAP_DESC(arg) ? arg : NULL;
	struct nmdesc_priv *priv;
	struct nm_desc *d;
	struct nmport_d *p;
	uint16_t pollbits;
	int err;

	if (ifname == NULL || !nmdesc_is_netmap_name(ifname)) {
		errno = 0;	/* not a netmap name: not an error */
		return NULL;
	}
	if ((new_flags & NM_OPEN_NO_MMAP) && arg != NULL && parent == NULL) {
		nmctx_ferror(ctx, "nm_open %s: NM_OPEN_NO_MMAP parent is not an open descriptor",
			     ifname);
		errno = EINVAL;
		return NULL;
	}

	priv = calloc(1, sizeof(*priv));
	if (priv == NULL) {
		nmctx_ferror(ctx, "nm_open %s: cannot allocate the descriptor", ifname);
		errno = ENOMEM;
		return NULL;
	}
	d = &priv->d;
	d->self = d;
	d->fd = -1;
	if (req != NULL)
		d->req = *req;

	p = nmport_new();
	if (p == NULL)
		goto out_priv;
	priv->port = p;

	if (new_flags & NM_OPEN_IFNAME) {
		const struct nmreq *src = (parent != NULL) ? &parent->req : req;

		if (src == NULL) {
			nmctx_ferror(ctx, "nm_open %s: NM_OPEN_IFNAME needs a req or a parent",
				     ifname);
			errno = EINVAL;
			goto out_port;
		}
		if (nmdesc_req_to_reg(ctx, src, p) < 0)
			goto out_port;
	} else {
		if (nmport_parse(p, ifname) < 0)
			goto out_port;
		if (req != NULL)	/* NR_* flags beyond the ring mode */
			p->reg.nr_flags |= req->nr_flags & ~(uint32_t)NR_REG_MASK;
	}

	/* geometry asked for in req, unless the name set it (@conf) */
	if (req != NULL) {
		if (!p->reg.nr_tx_slots)
			p->reg.nr_tx_slots = req->nr_tx_slots;
		if (!p->reg.nr_rx_slots)
			p->reg.nr_rx_slots = req->nr_rx_slots;
		if (!p->reg.nr_tx_rings)
			p->reg.nr_tx_rings = req->nr_tx_rings;
		if (!p->reg.nr_rx_rings)
			p->reg.nr_rx_rings = req->nr_rx_rings;
		p->reg.nr_extra_bufs = req->nr_arg3;
	}

	if (parent != NULL && (new_flags & ~(uint64_t)0xffff)) {
		d->req.nr_arg1 = (new_flags & NM_OPEN_ARG1) ? parent->req.nr_arg1 : 0;
		if (new_flags & NM_OPEN_ARG2)
			p->reg.nr_mem_id = parent->req.nr_arg2;
		p->reg.nr_extra_bufs = (new_flags & NM_OPEN_ARG3) ?
				       parent->req.nr_arg3 : 0;
		if (new_flags & NM_OPEN_RING_CFG) {
			p->reg.nr_tx_slots = parent->req.nr_tx_slots;
			p->reg.nr_rx_slots = parent->req.nr_rx_slots;
			p->reg.nr_tx_rings = parent->req.nr_tx_rings;
			p->reg.nr_rx_rings = parent->req.nr_rx_rings;
		}
		/* sharing the parent's mapping needs the parent's region */
		if ((new_flags & NM_OPEN_NO_MMAP) && p->reg.nr_mem_id == 0)
			p->reg.nr_mem_id = parent->req.nr_arg2;
	}

	pollbits = (uint16_t)(new_flags & (NETMAP_NO_TX_POLL | NETMAP_DO_RX_POLL));
	if (req != NULL)
		pollbits |= req->nr_ringid & (NETMAP_NO_TX_POLL | NETMAP_DO_RX_POLL);
	if (pollbits & NETMAP_NO_TX_POLL)
		p->reg.nr_flags |= NR_NO_TX_POLL;
	if (pollbits & NETMAP_DO_RX_POLL)
		p->reg.nr_flags |= NR_DO_RX_POLL;

	if (nmport_register(p) < 0)
		goto out_port;
	d->fd = p->fd;
	nmdesc_fill_req(d, p, pollbits);
	nmdesc_rings_from_mode(d, &p->reg);

	/* with a parent, map (or share) even under NM_OPEN_NO_MMAP */
	if (!(new_flags & NM_OPEN_NO_MMAP) || parent != NULL) {
		if (nmport_mmap(p) < 0)
			goto out_port;
		nmdesc_set_mapping(d, p, parent);
	}
	nmdesc_list_add(priv);
	return d;

out_port:
	err = errno ? errno : EINVAL;
	nmport_close(p);
	errno = err;
out_priv:
	err = errno ? errno : EINVAL;
	free(priv);
	errno = err;
	return NULL;
}

UNM_API int
nm_close(struct nm_desc *d)
{
	struct nmdesc_priv *priv = nmdesc_list_find(d, 1);

	if (priv == NULL)
		return EINVAL;
	nmport_close(priv->port);
	memset(priv, 0, sizeof(*priv));
	free(priv);
	return 0;
}

/*
 * Copy buf into the TX ring at ri, spreading it over NS_MOREFRAG slots if
 * it is larger than a buffer. Returns 0 if the ring lacks room.
 */
static int
nmdesc_inject_ring(struct netmap_ring *ring, const char *buf, size_t size)
{
	uint32_t bufsz = ring->nr_buf_size;
	uint32_t head = ring->head, tail = ring->tail;
	size_t nslots = size ? (size + bufsz - 1) / bufsz : 1;
	uint32_t i = head;

	if (nm_ring_space(ring) < nslots)
		return 0;
	for (;;) {
		struct netmap_slot *slot = &ring->slot[i];
		size_t len = size > bufsz ? bufsz : size;

		memcpy(NETMAP_BUF(ring, slot->buf_idx), buf, len);
		slot->len = (uint16_t)len;
		buf += len;
		size -= len;
		slot->flags = size ? NS_MOREFRAG : 0;
		i = nm_ring_next(ring, i);
		if (size == 0 || i == tail)
			break;
	}
	ring->head = ring->cur = i;
	return 1;
}

UNM_API int
nm_inject(struct nm_desc *d, const void *buf, size_t size)
{
	unsigned int n, c, ri;

	if (!IS_NETMAP_DESC(d) || d->nifp == NULL ||
	    d->last_tx_ring < d->first_tx_ring || size > INT32_MAX)
		return 0;
	n = d->last_tx_ring - d->first_tx_ring + 1u;
	ri = d->cur_tx_ring;
	for (c = 0; c < n; c++, ri++) {
		if (ri > d->last_tx_ring || ri < d->first_tx_ring)
			ri = d->first_tx_ring;
		if (nmdesc_inject_ring(NETMAP_TXRING(d->nifp, ri), buf, size)) {
			d->cur_tx_ring = (uint16_t)ri;
			return (int)size;
		}
	}
	return 0;
}

/*
 * Describe the packet starting at slot i of ring in *hdr (fragments
 * chained with NS_MOREFRAG, never past tail) and return the slot after it.
 * caplen covers the bytes contiguous from hdr->buf.
 */
static uint32_t
nmdesc_read_pkt(struct nm_desc *d, struct netmap_ring *ring, uint32_t i,
		struct nm_pkthdr *hdr)
{
	struct netmap_slot *slot = &ring->slot[i];
	char *prev = NETMAP_BUF(ring, slot->buf_idx);
	int contiguous = 1;

	hdr->d = d;
	hdr->slot = slot;
	hdr->buf = (uint8_t *)prev;
	hdr->ts = ring->ts;
	hdr->len = hdr->caplen = slot->len;
	i = nm_ring_next(ring, i);
	while ((slot->flags & NS_MOREFRAG) && i != ring->tail) {
		uint32_t prev_len = slot->len;
		char *next;

		slot = &ring->slot[i];
		next = NETMAP_BUF(ring, slot->buf_idx);
		hdr->len += slot->len;
		contiguous = contiguous && prev_len == ring->nr_buf_size &&
			     next == prev + ring->nr_buf_size;
		if (contiguous)
			hdr->caplen += slot->len;
		prev = next;
		i = nm_ring_next(ring, i);
	}
	return i;
}

/*
 * Deliver up to cnt packets (cnt <= 0: all there are) round robin over the
 * bound RX rings starting at cur_rx_ring. Each callback sees
 * NM_MORE_PKTS in hdr->flags, except the last of this call.
 */
UNM_API int
nm_dispatch(struct nm_desc *d, int cnt, nm_cb_t cb, unsigned char *arg)
{
	unsigned int n, c, ri;
	int got = 0;

	if (!IS_NETMAP_DESC(d) || d->nifp == NULL || cb == NULL ||
	    d->last_rx_ring < d->first_rx_ring)
		return 0;
	n = d->last_rx_ring - d->first_rx_ring + 1u;
	ri = d->cur_rx_ring;
	d->hdr.buf = NULL;
	d->hdr.flags = NM_MORE_PKTS;
	for (c = 0; c < n && (cnt <= 0 || got < cnt); c++, ri++) {
		struct netmap_ring *ring;

		if (ri > d->last_rx_ring || ri < d->first_rx_ring)
			ri = d->first_rx_ring;
		ring = NETMAP_RXRING(d->nifp, ri);
		while (!nm_ring_empty(ring) && (cnt <= 0 || got < cnt)) {
			/* the one before goes out now that we know more follow */
			if (d->hdr.buf != NULL)
				cb(arg, &d->hdr, d->hdr.buf);
			d->cur_rx_ring = (uint16_t)ri;
			ring->head = ring->cur =
				nmdesc_read_pkt(d, ring, ring->head, &d->hdr);
			got++;
		}
	}
	if (d->hdr.buf != NULL) {
		d->hdr.flags = 0;
		cb(arg, &d->hdr, d->hdr.buf);
	}
	return got;
}

UNM_API unsigned char *
nm_nextpkt(struct nm_desc *d, struct nm_pkthdr *hdr)
{
	unsigned int n, c, ri;

	if (!IS_NETMAP_DESC(d) || d->nifp == NULL || hdr == NULL ||
	    d->last_rx_ring < d->first_rx_ring)
		return NULL;
	n = d->last_rx_ring - d->first_rx_ring + 1u;
	ri = d->cur_rx_ring;
	for (c = 0; c < n; c++, ri++) {
		struct netmap_ring *ring;

		if (ri > d->last_rx_ring || ri < d->first_rx_ring)
			ri = d->first_rx_ring;
		ring = NETMAP_RXRING(d->nifp, ri);
		if (nm_ring_empty(ring))
			continue;
		ring->head = ring->cur = nmdesc_read_pkt(d, ring, ring->head, hdr);
		hdr->flags = 0;
		d->cur_rx_ring = (uint16_t)ri;
		return hdr->buf;
	}
	return NULL;
}

/* A context whose error() copies the message into the caller's buffer. */
struct nmdesc_errctx {
	struct nmctx ctx;	/* first: the callback gets &ctx */
	char *err;
};

static void
nmdesc_capture_error(struct nmctx *ctx, const char *msg)
{
	struct nmdesc_errctx *ec = (struct nmdesc_errctx *)ctx;

	if (ec->err != NULL)
		snprintf(ec->err, MAXERRMSG, "%s", msg);
}

/*
 * The name and ring spec of ifname into d->req: nr_name (without the
 * "netmap:" prefix), nr_flags |= mode and NR_* flags, nr_ringid |= ring,
 * nr_arg2 = mem id. Portspec options (@conf...) need nm_open().
 */
UNM_API int
nm_parse(const char *ifname, struct nm_desc *d, char *err)
{
	struct nmdesc_errctx ec = {
		.ctx = { .verbose = 1, .error = nmdesc_capture_error },
		.err = err,
	};
	struct nmreq_header hdr;
	struct nmreq_register reg;
	const char *scan = ifname;
	size_t namelen;

	if (err != NULL)
		err[0] = '\0';
	if (d == NULL || ifname == NULL) {
		nmctx_ferror(&ec.ctx, "nm_parse: %s is NULL",
			     d == NULL ? "descriptor" : "port name");
		errno = EINVAL;
		return -1;
	}
	memset(&hdr, 0, sizeof(hdr));
	memset(&reg, 0, sizeof(reg));
	if (nmreq_header_decode(&scan, &hdr, &ec.ctx) < 0 ||
	    nmreq_register_decode(&scan, &reg, &ec.ctx) < 0) {
		if (errno == 0)
			errno = EINVAL;
		return -1;
	}
	if (*scan != '\0') {
		nmctx_ferror(&ec.ctx, "%s: options need nm_open(): '%s'",
			     hdr.nr_name, scan);
		errno = EINVAL;
		return -1;
	}
	namelen = strlen(hdr.nr_name);
	if (namelen >= sizeof(d->req.nr_name)) {
		nmctx_ferror(&ec.ctx, "%s: name too long for struct nmreq (%zu >= %zu)",
			     hdr.nr_name, namelen, sizeof(d->req.nr_name));
		errno = EINVAL;
		return -1;
	}
	memcpy(d->req.nr_name, hdr.nr_name, namelen + 1);
	d->req.nr_flags |= reg.nr_mode | (uint32_t)(reg.nr_flags & ~(uint64_t)NR_REG_MASK);
	d->req.nr_ringid |= reg.nr_ringid & NETMAP_RING_MASK;
	d->req.nr_arg2 = reg.nr_mem_id;
	d->self = d;
	return 0;
}
