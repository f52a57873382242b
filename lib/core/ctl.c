// SPDX-License-Identifier: BSD-2-Clause
/*
 * ctl.c - the control path: open/close of a netmap fd, NIOCCTRL (header
 * checks, the option chain, REGISTER, PORT_INFO_GET, POOLS_INFO_GET), the
 * creation and destruction of ports and their krings, mmap of the region,
 * and adopting a netmap fd this process received from another one.
 *
 * Everything here runs under the control mutex (unm_lock) for the shared
 * tables; program memory (request bodies, options) is read and written with
 * unm_copyin/unm_copyout so a bad pointer is EFAULT, not a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/unm.h"

/* ---- program memory ------------------------------------------------------ */

static int vm_rw_works = -1;	/* process_vm_readv usable (seccomp may forbid) */

int unm_copyin(void *dst, uint64_t uaddr, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)(uintptr_t)uaddr, len };
	ssize_t n;

	if (!uaddr)
		return -EFAULT;
	if (vm_rw_works) {
		n = process_vm_readv(getpid(), &l, 1, &r, 1, 0);
		if (n == (ssize_t)len) {
			vm_rw_works = 1;
			return 0;
		}
		if (n >= 0 || errno == EFAULT)
			return -EFAULT;
		if (vm_rw_works == 1)
			return -errno;
		vm_rw_works = 0;	/* ENOSYS/EPERM: trust the pointer */
	}
	memcpy(dst, (void *)(uintptr_t)uaddr, len);
	return 0;
}

int unm_copyout(uint64_t uaddr, const void *src, size_t len)
{
	struct iovec l = { (void *)src, len }, r = { (void *)(uintptr_t)uaddr, len };
	ssize_t n;

	if (!uaddr)
		return -EFAULT;
	if (vm_rw_works) {
		n = process_vm_writev(getpid(), &l, 1, &r, 1, 0);
		if (n == (ssize_t)len) {
			vm_rw_works = 1;
			return 0;
		}
		if (n >= 0 || errno == EFAULT)
			return -EFAULT;
		if (vm_rw_works == 1)
			return -errno;
		vm_rw_works = 0;
	}
	memcpy((void *)(uintptr_t)uaddr, src, len);
	return 0;
}

/* ---- open / close ---------------------------------------------------------- */

static void hold_set_locked(uint32_t slot, bool on)
{
	int me = unm_proc_self();
	uint64_t bit = 1ULL << (slot % 64);

	if (me < 0)
		return;
	if (on)
		unm_k->procs[me].holds[slot / 64] |= bit;
	else
		unm_k->procs[me].holds[slot / 64] &= ~bit;
}

/* Remember pid's own number for the wake-up eventfd of priv kp. Locked. */
static void share_set_locked(struct unm_kpriv *kp, int32_t pid, int32_t evfd)
{
	unsigned s, pick = 0;

	for (s = 0; s < UNM_PRIV_SHARE; s++) {
		if (kp->share[s].pid == pid) {
			pick = s;
			break;
		}
		if (!kp->share[s].pid)
			pick = s;
	}
	kp->share[pick].pid = pid;
	kp->share[pick].evfd = evfd;
}

int unm_open(int flags, struct unm_priv_local **plp)
{
	struct unm_priv_local *pl;
	struct epoll_event ev;
	struct unm_kpriv *kp;
	int err, i, slot = -1;

	err = unm_kernel_attach();
	if (err)
		return err;
	err = unm_fd_table_init();
	if (err)
		return err;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	pl->refs = 1;
	pl->epfd = pl->evfd = -1;
	pl->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pl->evfd < 0) {
		err = -errno;
		goto out_free;
	}
	pl->epfd = epoll_create1((flags & O_CLOEXEC) ? EPOLL_CLOEXEC : 0);
	if (pl->epfd < 0) {
		err = -errno;
		goto out_evfd;
	}
	err = unm_lock();
	if (err)
		goto out_epfd;
	unm_gc_locked();
	for (i = 0; i < UNM_MAX_PRIVS; i++) {
		if (unm_k->privs[i].state == UNM_PRIV_FREE) {
			slot = i;
			break;
		}
	}
	if (slot < 0) {
		unm_unlock();
		unm_log(UNM_LOG_ERR, "/dev/netmap: too many open netmap fds (max %d)", UNM_MAX_PRIVS);
		err = -ENFILE;
		goto out_epfd;
	}
	kp = &unm_k->privs[slot];
	memset(kp, 0, sizeof(*kp));
	kp->state = UNM_PRIV_OPEN;
	kp->gen = (uint16_t)unm_k->next_gen++;
	kp->owner_pid = unm_pid;
	kp->evfd = pl->evfd;
	share_set_locked(kp, unm_pid, pl->evfd);
	hold_set_locked(slot, true);
	/* the fd's liveness, wherever SCM_RIGHTS takes it (see kernel.c) */
	if (unm_priv_lock_take(pl->epfd, slot, kp->gen))
		unm_log(UNM_LOG_WARN, "/dev/netmap: OFD lock: %s (a passed fd dies with its sender)",
			strerror(errno));
	unm_unlock();
	pl->slot = slot;
	pl->gen = kp->gen;
	ev.events = EPOLLIN;
	ev.data.u64 = unm_epoll_data(pl->gen, slot);
	if (epoll_ctl(pl->epfd, EPOLL_CTL_ADD, pl->evfd, &ev) < 0) {
		err = -errno;
		pl->refs = 1;
		unm_close(pl);	/* releases the slot and closes evfd */
		return err;
	}
	*plp = pl;
	return 0;

out_epfd:
	unm_libc.close(pl->epfd);
out_evfd:
	unm_libc.close(pl->evfd);
out_free:
	free(pl);
	return err;
}

/* A port end's rings in one direction, host rings (NIC ports) included. */
static inline unsigned port_nrings_all(const struct unm_kport *port, int end, int dir)
{
	return port->nrings[end][dir] + (end ? 0 : port->nhost[dir]);
}

static void port_destroy_locked(uint16_t pidx, char *base)
{
	struct unm_kport *port = &unm_k->ports[pidx];
	const struct unm_port_ops *ops = unm_port_ops_of(port);
	int end, dir;
	unsigned i;

	/* its monitors get nothing more (they see the kind change) */
	unm_monitor_parent_gone_locked(pidx);
	/* the adapter's own state first (sockets, XDP): it still sees the rings */
	if (port->nhost[UNM_TX] || port->nhost[UNM_RX])
		unm_port_host_ops()->destroy(pidx, base);
	if (ops && ops->destroy)
		ops->destroy(pidx, base);
	for (end = 0; end < 2; end++)
		for (dir = 0; dir < 2; dir++)
			for (i = 0; i < port_nrings_all(port, end, dir); i++) {
				struct unm_kring *kr = &unm_k->krings[port->kring[end][dir] + i];

				if (!kr->used)
					continue;
				unm_mem_ring_delete_locked(port->mem, base, kr);
				memset(kr, 0, sizeof(*kr));
			}
	unm_mem_put_locked(port->mem);
	memset(port, 0, sizeof(*port));
}

/*
 * The NIC stays (other fds), but no fd binds its host rings any more: the
 * stack's traffic goes back to the wire (in the process that set it up).
 */
static void host_release_locked(uint16_t pidx, char *base)
{
	struct unm_kport *port = &unm_k->ports[pidx];
	int dir;
	unsigned i;

	for (dir = 0; dir < 2; dir++)
		for (i = port->nrings[0][dir]; i < port_nrings_all(port, 0, dir); i++)
			if (unm_k->krings[port->kring[0][dir] + i].users)
				return;
	unm_port_host_ops()->destroy(pidx, base);
}

/* Undo a registration and free the priv slot. Locked. */
void unm_priv_release_locked(uint32_t slot)
{
	struct unm_kpriv *kp = &unm_k->privs[slot];
	struct unm_mem_local *ml = NULL;
	struct unm_kport *port;
	const struct unm_port_ops *ops;
	char *base = NULL;
	int dir, pidx = -1;
	uint32_t i;

	if (kp->state == UNM_PRIV_REG) {
		pidx = kp->port;
		port = &unm_k->ports[kp->port];
		ml = unm_mem_map(port->mem);
		base = ml ? ml->base : NULL;
		if (base) {
			struct netmap_if *nifp = (struct netmap_if *)(base + kp->nifp_ofs);

			unm_mem_extra_free_locked(port->mem, base, nifp->ni_bufs_head);
		}
		unm_mem_obj_free(unm_k->mems[port->mem].if_map, kp->if_obj, 1);
		for (dir = 0; dir < 2; dir++)
			for (i = kp->qfirst[dir]; i < kp->qlast[dir]; i++) {
				struct unm_kring *kr =
					&unm_k->krings[port->kring[kp->end][dir] + i];

				if (kr->users)
					kr->users--;
				if (kp->flags & NR_EXCLUSIVE)
					kr->excl = 0;
				unm_kring_wait_unmark(kr, slot);
			}
		if (port->users[kp->end])
			port->users[kp->end]--;
		/* a persistent port (VALE_NEWIF) stays until VALE_DELIF */
		if (!port->users[0] && !port->users[1] && !port->persist)
			port_destroy_locked(kp->port, base);
		else if (port->nhost[UNM_TX] || port->nhost[UNM_RX])
			host_release_locked(kp->port, base);
		unm_mem_unmap(ml);
	}
	memset(kp, 0, sizeof(*kp));
	/* the port stays: its adapter may drop what this process no longer binds */
	if (pidx >= 0 && unm_k->ports[pidx].kind) {
		ops = unm_port_ops_of(&unm_k->ports[pidx]);
		if (ops && ops->release)
			ops->release(pidx);
	}
}

void unm_close(struct unm_priv_local *pl)
{
	if (--pl->refs > 0)
		return;
	if (unm_k && !unm_lock()) {
		struct unm_kpriv *kp = &unm_k->privs[pl->slot];

		if (kp->gen == pl->gen && kp->state != UNM_PRIV_FREE) {
			hold_set_locked(pl->slot, false);
			/*
			 * Our fds are closed: if the description lives on (a
			 * forked child, an SCM_RIGHTS receiver, a message in
			 * flight) the priv stays, woken through someone else.
			 */
			if (unm_priv_orphan_locked(pl->slot, -1))
				unm_priv_release_locked(pl->slot);
			else
				unm_priv_owner_move_locked(pl->slot, unm_pid);
		}
		unm_unlock();
	}
	if (pl->mem)
		unm_mem_unmap(pl->mem);
	if (pl->evfd >= 0)
		unm_libc.close(pl->evfd);
	free(pl->rings[0]);
	free(pl->rings[1]);
	free(pl);
}

/* ---- request header and options ------------------------------------------ */

int unm_hdr_check(const struct nmreq_header *hdr)
{
	if (hdr->nr_version < NETMAP_MIN_API || hdr->nr_version > NETMAP_MAX_API) {
		unm_log(UNM_LOG_ERR, "API mismatch: got %u need %d..%d",
			hdr->nr_version, NETMAP_MIN_API, NETMAP_MAX_API);
		return -EINVAL;
	}
	if (hdr->nr_reserved) {
		unm_log(UNM_LOG_ERR, "nmreq_header: nr_reserved must be zero");
		return -EINVAL;
	}
	return 0;
}

static size_t body_size(uint16_t reqtype)
{
	switch (reqtype) {
	case NETMAP_REQ_REGISTER:
		return sizeof(struct nmreq_register);
	case NETMAP_REQ_PORT_INFO_GET:
		return sizeof(struct nmreq_port_info_get);
	case NETMAP_REQ_VALE_ATTACH:
		return sizeof(struct nmreq_vale_attach);
	case NETMAP_REQ_VALE_DETACH:
		return sizeof(struct nmreq_vale_detach);
	case NETMAP_REQ_VALE_LIST:
		return sizeof(struct nmreq_vale_list);
	case NETMAP_REQ_PORT_HDR_SET:
	case NETMAP_REQ_PORT_HDR_GET:
		return sizeof(struct nmreq_port_hdr);
	case NETMAP_REQ_VALE_NEWIF:
		return sizeof(struct nmreq_vale_newif);
	case NETMAP_REQ_VALE_POLLING_ENABLE:
	case NETMAP_REQ_VALE_POLLING_DISABLE:
		return sizeof(struct nmreq_vale_polling);
	case NETMAP_REQ_POOLS_INFO_GET:
		return sizeof(struct nmreq_pools_info);
	case NETMAP_REQ_SYNC_KLOOP_START:
		return sizeof(struct nmreq_sync_kloop_start);
	default:
		return 0;
	}
}

static bool reqtype_known(uint16_t t)
{
	return t >= NETMAP_REQ_REGISTER && t <= NETMAP_REQ_CSB_ENABLE;
}

/* Body size of an option we know (beyond struct nmreq_option). */
static size_t opt_body_size(uint32_t type)
{
	switch (type) {
	case NETMAP_REQ_OPT_UNM_POOLS:
		return sizeof(struct nmreq_pools_info);
	case NETMAP_REQ_OPT_EXTMEM:
		return sizeof(struct nmreq_opt_extmem) - sizeof(struct nmreq_option);
	default:
		return 0;
	}
}

/* One option of a request, copied in. */
struct unm_opt {
	uint64_t uaddr;			/* where it lives in the program */
	struct nmreq_option o;
	union {
		struct nmreq_pools_info pools;
		struct {		/* struct nmreq_opt_extmem past its header */
			uint64_t usrptr;
			struct nmreq_pools_info info;
		} ext;
	} body;
};

_Static_assert(sizeof(((struct unm_opt *)0)->body.ext) ==
	       sizeof(struct nmreq_opt_extmem) - sizeof(struct nmreq_option),
	       "extmem option body");

struct unm_req {
	struct unm_opt opts[UNM_OPT_MAX_CHAIN];
	unsigned nopts;
};

/*
 * Walk the program's option chain: bounded, cycle-checked, every option
 * copied in and given a status (EOPNOTSUPP until someone uses it), as
 * upstream's nmreq_copyin. Returns 0 or -errno (the call then fails).
 */
static int opt_walk(const struct nmreq_header *hdr, struct unm_req *rq)
{
	uint64_t next = hdr->nr_options;
	int err = 0;
	unsigned i;

	rq->nopts = 0;
	while (next) {
		struct unm_opt *op;
		int e;

		for (i = 0; i < rq->nopts; i++) {
			if (rq->opts[i].uaddr == next) {
				/* upstream runs out of request space: EMSGSIZE */
				unm_log(UNM_LOG_ERR, "%s: option chain loops back to option %u",
					hdr->nr_name, i);
				return -EMSGSIZE;
			}
		}
		if (rq->nopts == UNM_OPT_MAX_CHAIN) {
			unm_log(UNM_LOG_ERR, "%s: option chain longer than %d", hdr->nr_name,
				UNM_OPT_MAX_CHAIN);
			return -EMSGSIZE;
		}
		op = &rq->opts[rq->nopts];
		memset(op, 0, sizeof(*op));
		op->uaddr = next;
		e = unm_copyin(&op->o, next, sizeof(op->o));
		if (e) {
			unm_log(UNM_LOG_ERR, "%s: option %u at %#llx unreadable", hdr->nr_name,
				rq->nopts, (unsigned long long)next);
			return e;
		}
		rq->nopts++;
		next = op->o.nro_next;
		op->o.nro_status = EOPNOTSUPP;
		if (op->o.nro_reqtype < 1) {
			op->o.nro_status = EINVAL;
			err = err ?: -EINVAL;
			continue;
		}
		if (op->o.nro_reqtype >= NETMAP_REQ_OPT_MAX &&
		    op->o.nro_reqtype != NETMAP_REQ_OPT_UNM_POOLS) {
			unm_log(UNM_LOG_ERR, "%s: unknown option type %u", hdr->nr_name,
				op->o.nro_reqtype);
			err = err ?: -EOPNOTSUPP;
			continue;
		}
		for (i = 0; i + 1 < rq->nopts; i++) {
			if (rq->opts[i].o.nro_reqtype == op->o.nro_reqtype) {
				unm_log(UNM_LOG_ERR, "%s: duplicate option %u", hdr->nr_name,
					op->o.nro_reqtype);
				op->o.nro_status = EINVAL;
				rq->opts[i].o.nro_status = EINVAL;
				err = err ?: -EINVAL;
			}
		}
		if (opt_body_size(op->o.nro_reqtype)) {
			e = unm_copyin(&op->body, op->uaddr + sizeof(op->o),
				       opt_body_size(op->o.nro_reqtype));
			if (e) {
				op->o.nro_status = EFAULT;
				err = err ?: e;
			}
		}
	}
	return err;
}

static struct unm_opt *opt_find(struct unm_req *rq, uint32_t type)
{
	unsigned i;

	for (i = 0; i < rq->nopts; i++)
		if (rq->opts[i].o.nro_reqtype == type)
			return &rq->opts[i];
	return NULL;
}

/* Write back every option's status (and body when it succeeded). */
static void opt_copyout(struct unm_req *rq, int rerror)
{
	unsigned i;

	for (i = 0; i < rq->nopts; i++) {
		struct unm_opt *op = &rq->opts[i];

		unm_copyout(op->uaddr + offsetof(struct nmreq_option, nro_status),
			    &op->o.nro_status, sizeof(op->o.nro_status));
		if (!rerror && !op->o.nro_status && opt_body_size(op->o.nro_reqtype))
			unm_copyout(op->uaddr + sizeof(op->o), &op->body,
				    opt_body_size(op->o.nro_reqtype));
	}
}

static int opt_check_all_used(const struct unm_req *rq, const char *name)
{
	unsigned i;

	for (i = 0; i < rq->nopts; i++) {
		if (rq->opts[i].o.nro_status == EOPNOTSUPP) {
			unm_log(UNM_LOG_ERR, "%s: option %u (type %u) not supported here",
				name, i, rq->opts[i].o.nro_reqtype);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

int unm_opt_walk(struct nmreq_header *hdr, struct nmreq_option **tab, size_t ntab)
{
	static __thread struct unm_req rq;
	unsigned i;
	int err;

	err = opt_walk(hdr, &rq);
	for (i = 0; i < ntab && i < rq.nopts; i++)
		tab[i] = &rq.opts[i].o;
	opt_copyout(&rq, err);
	return err;
}

/* ---- ports ------------------------------------------------------------------ */

static int port_find_locked(const struct unm_portspec *spec)
{
	int i;

	for (i = 0; i < UNM_MAX_PORTS; i++) {
		struct unm_kport *p = &unm_k->ports[i];

		if (p->kind == spec->kind && p->id == spec->id &&
		    !strcmp(p->name, spec->base))
			return i;
	}
	return -ENOENT;
}

static int kring_run_alloc_locked(unsigned n, uint32_t *first)
{
	unsigned i, run = 0;

	if (!n) {
		*first = 0;
		return 0;
	}
	for (i = 0; i < UNM_MAX_KRINGS; i++) {
		run = unm_k->krings[i].used ? 0 : run + 1;
		if (run == n) {
			*first = i + 1 - n;
			return 0;
		}
	}
	return -ENOMEM;
}

static uint32_t clamp_slots(uint32_t v)
{
	if (!v)
		return UNM_DEF_SLOTS;
	if (v < 4)
		return 4;
	return v > UNM_MAX_SLOTS ? UNM_MAX_SLOTS : v;
}

static uint16_t clamp_host_rings(uint32_t v)
{
	if (v == 0)
		return 1;
	return v > UNM_MAX_HOST_RINGS ? UNM_MAX_HOST_RINGS : v;
}

static uint16_t clamp_rings(uint16_t v)
{
	if (!v)
		return 1;
	return v > UNM_MAX_RINGS ? UNM_MAX_RINGS : v;
}

/*
 * Create the port for spec: a pipe pair (this end asked with req), or a
 * port with one end whose geometry the adapter says (NIC). Locked.
 */
static int port_create_locked(const struct unm_portspec *spec,
			      const struct nmreq_register *req,
			      const struct unm_pools *pools, int ext_mslot, int *pidxp)
{
	struct unm_mem_local *ml;
	struct unm_kport *port = NULL;
	int pidx = -1, mslot, err = 0, end, dir, i;
	uint8_t me = spec->end, peer = !spec->end;
	const struct unm_port_ops *ops = unm_port_ops_find(spec->kind);
	uint16_t hw_rings[2];
	uint32_t hw_slots[2];

	if (ops && ops->geometry) {
		err = ops->geometry(spec, req, hw_rings, hw_slots);
		if (err)
			return err;
	}
	for (i = 0; i < UNM_MAX_PORTS; i++)
		if (!unm_k->ports[i].kind) {
			pidx = i;
			break;
		}
	if (pidx < 0) {
		unm_log(UNM_LOG_ERR, "%s: too many ports (max %d)", spec->base, UNM_MAX_PORTS);
		return -ENOMEM;
	}
	if (ext_mslot >= 0)
		mslot = ext_mslot;	/* extmem: its own region, nr_mem_id ignored */
	else
		err = unm_mem_find_or_create(req->nr_mem_id, pools, &mslot);
	if (err)
		return err;
	unm_k->mems[mslot].users++;
	port = &unm_k->ports[pidx];
	memset(port, 0, sizeof(*port));
	port->mem = mslot;
	snprintf(port->name, sizeof(port->name), "%s", spec->base);
	port->id = spec->id;
	port->nrings[me][UNM_TX] = port->nrings[peer][UNM_RX] = clamp_rings(req->nr_tx_rings);
	port->nrings[me][UNM_RX] = port->nrings[peer][UNM_TX] = clamp_rings(req->nr_rx_rings);
	port->nslots[me][UNM_TX] = port->nslots[peer][UNM_RX] = clamp_slots(req->nr_tx_slots);
	port->nslots[me][UNM_RX] = port->nslots[peer][UNM_TX] = clamp_slots(req->nr_rx_slots);
	if (ops && ops->geometry) {
		/* one end only, the NIC's queues */
		for (dir = 0; dir < 2; dir++) {
			port->nrings[me][dir] = hw_rings[dir];
			port->nslots[me][dir] = hw_slots[dir];
			port->nrings[peer][dir] = 0;
			port->nslots[peer][dir] = 0;
			/* host rings as asked (nr_host_*_rings, @conf:host-rings=),
			 * one by default as netmap's, fixed by the port's creator */
			if (spec->kind == UNM_PORT_HW)
				port->nhost[dir] = clamp_host_rings(dir == UNM_TX ?
					req->nr_host_tx_rings : req->nr_host_rx_rings);
		}
	}
	ml = unm_mem_map(mslot);
	if (!ml) {
		unm_log(UNM_LOG_ERR, "mem %u: cannot map region", unm_k->mems[mslot].id);
		unm_mem_put_locked(mslot);
		memset(port, 0, sizeof(*port));
		return -ENOMEM;
	}
	for (end = 0; end < 2; end++)
		for (dir = 0; dir < 2; dir++) {
			unsigned nk = port_nrings_all(port, end, dir);

			err = kring_run_alloc_locked(nk, &port->kring[end][dir]);
			if (err) {
				unm_log(UNM_LOG_ERR, "%s: out of krings", spec->base);
				goto out_destroy;
			}
			for (i = 0; i < (int)nk; i++) {
				struct unm_kring *kr = &unm_k->krings[port->kring[end][dir] + i];

				memset(kr, 0, sizeof(*kr));
				kr->num_slots = port->nslots[end][dir];
				kr->port = pidx;
				kr->dir = dir;
				kr->end = end;
				kr->ring_id = i;
				err = unm_mem_ring_create_locked(mslot, ml->base, kr, i, dir);
				if (err)
					goto out_destroy;
				kr->used = 1;
			}
		}
	/* cross-link: end e TX i <-> end !e RX i */
	for (end = 0; end < 2; end++)
		for (i = 0; i < port->nrings[end][UNM_TX]; i++) {
			uint32_t t = port->kring[end][UNM_TX] + i;

			if (spec->kind != UNM_PORT_PIPE)
				break;
			uint32_t r = port->kring[!end][UNM_RX] + i;

			unm_k->krings[t].peer = r + 1;
			unm_k->krings[r].peer = t + 1;
		}
	/* last: a process dying above leaves no half-built port to find */
	port->kind = spec->kind;
	/* the adapter's shared state (a VALE port joins its switch) */
	if (ops && ops->create) {
		err = ops->create(pidx);
		if (err)
			goto out_destroy;
	}
	unm_mem_unmap(ml);
	*pidxp = pidx;
	return 0;

out_destroy:
	port_destroy_locked(pidx, ml->base);
	unm_mem_unmap(ml);
	return err;
}

/* Build the per-process view of a registered priv. */
static int priv_bind_local(struct unm_priv_local *pl, const char *name)
{
	struct unm_kpriv *kp = &unm_k->privs[pl->slot];
	struct unm_kport *port = &unm_k->ports[kp->port];
	struct unm_memreg *m = &unm_k->mems[port->mem];
	const struct unm_port_ops *ops = unm_port_ops_of(port);
	const struct unm_port_ops *hops = unm_port_host_ops();
	int dir;
	unsigned i;

	if (!ops)
		return -ENXIO;
	pl->mem = unm_mem_map(port->mem);
	if (!pl->mem)
		return -ENOMEM;
	snprintf(pl->name, sizeof(pl->name), "%s", name);
	for (dir = 0; dir < 2; dir++) {
		unsigned n = kp->qlast[dir] - kp->qfirst[dir];

		pl->nring[dir] = n;
		pl->rings[dir] = n ? calloc(n, sizeof(struct unm_ring_ctx)) : NULL;
		if (n && !pl->rings[dir])
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			struct unm_ring_ctx *rc = &pl->rings[dir][i];
			uint32_t ki = port->kring[kp->end][dir] + kp->qfirst[dir] + i;

			rc->kr = &unm_k->krings[ki];
			rc->ring = (struct netmap_ring *)(pl->mem->base + rc->kr->ring_ofs);
			rc->peer_kr = rc->kr->peer ? &unm_k->krings[rc->kr->peer - 1] : NULL;
			rc->peer_ring = rc->peer_kr ?
				(struct netmap_ring *)(pl->mem->base + rc->peer_kr->ring_ofs) : NULL;
			if (kp->qfirst[dir] + i >= port->nrings[kp->end][dir])
				rc->sync = dir == UNM_TX ? hops->txsync : hops->rxsync;
			else
				rc->sync = dir == UNM_TX ? ops->txsync : ops->rxsync;
			rc->bufs = pl->mem->base + m->buf_ofs;
			rc->nbufs = m->p.buf_num;
			rc->buf_size = m->p.buf_size;
			rc->slot = pl->slot;
			rc->mem = port->mem;
			rc->name = pl->name;
		}
	}
	pl->txpoll = !(kp->flags & NR_NO_TX_POLL);
	pl->registered = true;
	return 0;
}

static void priv_unbind_local(struct unm_priv_local *pl)
{
	free(pl->rings[0]);
	free(pl->rings[1]);
	pl->rings[0] = pl->rings[1] = NULL;
	pl->nring[0] = pl->nring[1] = 0;
	if (pl->mem)
		unm_mem_unmap(pl->mem);
	pl->mem = NULL;
	pl->registered = false;
}

static const char *strip_prefix(const char *name)
{
	return strncmp(name, "netmap:", 7) ? name : name + 7;
}

/* Why a name that no port type claims is refused. */
static int no_such_port(const char *name)
{
	unm_log(UNM_LOG_ERR, "%s: no such port", name);
	return -ENXIO;
}

static int check_mode(const char *name, const struct nmreq_register *req)
{
	switch (req->nr_mode) {
	case NR_REG_DEFAULT:
	case NR_REG_ALL_NIC:
	case NR_REG_ONE_NIC:
	case NR_REG_PIPE_MASTER:
	case NR_REG_PIPE_SLAVE:
	case NR_REG_NULL:
	case NR_REG_SW:		/* whether the port has host rings: register_ext() */
	case NR_REG_NIC_SW:
	case NR_REG_ONE_SW:
		break;
	default:
		unm_log(UNM_LOG_ERR, "%s: invalid nr_mode %u", name, req->nr_mode);
		return -EINVAL;
	}
	return 0;
}

/*
 * REGISTER. ext, when not NULL, is the body of a NETMAP_REQ_OPT_EXTMEM
 * option: its region is found or created first, its status set (0 once the
 * region exists, as upstream), and its pools info filled in.
 */
static int register_ext(struct unm_priv_local *pl, struct nmreq_header *hdr,
			struct nmreq_register *req, const struct unm_pools *pools,
			uint64_t ext_addr, struct nmreq_pools_info *ext_info,
			uint32_t *ext_status)
{
	const char *name = strip_prefix(hdr->nr_name);
	const struct unm_port_ops *ops;
	struct unm_portspec spec;
	struct unm_kport *port;
	struct unm_kpriv *kp;
	struct unm_memreg *m;
	struct unm_mem_local *ml = NULL;
	struct netmap_if *nifp;
	uint32_t ring_id = req->nr_ringid & NETMAP_RING_MASK;
	uint32_t if_size, if_obj, extra = 0, head = 0, i;
	uint16_t first[2], last[2];
	int err, pidx, dir, created = 0, ext_mslot = -1;
	bool excl = req->nr_flags & NR_EXCLUSIVE, ext_new = false;
	bool sw, bind_nic = false, bind_host = false;
	bool mon = req->nr_flags & (NR_MONITOR_TX | NR_MONITOR_RX | NR_ZCOPY_MON);

	if (pl->registered) {
		unm_log(UNM_LOG_ERR, "%s: already registered", pl->name);
		return -EBUSY;
	}
	err = check_mode(name, req);
	if (err)
		return err;
	err = unm_lock();
	if (err)
		return err;
	/* a persistent VALE port ("vi0", "vale0:vi0" once attached) first */
	ops = unm_vale_persist_find_locked(name, &spec) >= 0 ?
	      unm_port_ops_find(UNM_PORT_VALE) : NULL;
	unm_unlock();
	if (!ops)
		ops = unm_port_ops_parse(name, req->nr_mode, req->nr_ringid, &spec, &err);
	if (!ops)
		return err == -ENOENT ? no_such_port(name) : err;
	err = unm_lock();
	if (err)
		return err;
	unm_gc_locked();
	kp = &unm_k->privs[pl->slot];
	if (ext_info) {
		err = unm_mem_ext_get_locked(ext_addr, ext_info, &ext_mslot, &ext_new);
		*ext_status = -err;
		if (err)
			goto out_unlock;
	}
	if (mon) {
		/* a new monitor port of the port spec names (monitor.c) */
		if (ext_info) {
			unm_log(UNM_LOG_ERR, "%s: a monitor lives in its port's region, not in extmem",
				name);
			err = -EINVAL;
			goto out_unlock;
		}
		err = unm_monitor_prepare_locked(name, req, &spec);
		if (err)
			goto out_unlock;
		ops = unm_port_ops_find(UNM_PORT_MONITOR);
		pools = NULL;
	}
	pidx = mon ? -ENOENT : port_find_locked(&spec);
	if (pidx >= 0) {
		port = &unm_k->ports[pidx];
		m = &unm_k->mems[port->mem];
		err = unm_mem_access_check(port->mem, name);
		if (err)
			goto out_unlock;
		if (ext_mslot >= 0 && ext_mslot != port->mem) {
			unm_log(UNM_LOG_ERR, "%s: exists in mem %u, not in the extmem region (mem %u)",
				name, m->id, unm_k->mems[ext_mslot].id);
			err = -EINVAL;
			goto out_unlock;
		}
		if (ext_mslot < 0 && req->nr_mem_id && req->nr_mem_id != m->id) {
			unm_log(UNM_LOG_ERR, "%s: exists in mem %u, not %u", name, m->id,
				req->nr_mem_id);
			err = -EINVAL;
			goto out_unlock;
		}
		if (pools && ext_mslot < 0) {
			struct unm_pools p = *pools;

			err = unm_pools_check(&p);
			if (!err && memcmp(&p, &m->p, sizeof(p))) {
				unm_log(UNM_LOG_ERR, "%s: mem %u exists with another layout",
					name, m->id);
				err = -EBUSY;
			}
			if (err)
				goto out_unlock;
		}
	} else {
		err = port_create_locked(&spec, req, pools, ext_mslot, &pidx);
		if (err)
			goto out_unlock;
		created = 1;
	}
	port = &unm_k->ports[pidx];
	m = &unm_k->mems[port->mem];
	/* the rings this fd binds (host rings are numbered after the NIC's) */
	sw = req->nr_mode == NR_REG_SW || req->nr_mode == NR_REG_ONE_SW ||
	     req->nr_mode == NR_REG_NIC_SW;
	if (sw && !port->nhost[UNM_TX] && !port->nhost[UNM_RX]) {
		unm_log(UNM_LOG_ERR, "%s: no host rings on this port (mode %u)", name,
			req->nr_mode);
		err = -EOPNOTSUPP;
		goto out_destroy;
	}
	for (dir = 0; dir < 2; dir++) {
		uint16_t n = port->nrings[spec.end][dir];
		uint16_t h = spec.end ? 0 : port->nhost[dir];

		first[dir] = 0;
		last[dir] = n;
		if (req->nr_mode == NR_REG_ONE_NIC || req->nr_mode == NR_REG_ONE_SW) {
			uint16_t lim = req->nr_mode == NR_REG_ONE_NIC ? n : h;

			if (ring_id >= lim) {
				unm_log(UNM_LOG_ERR, "%s: %s%s ring %u out of range (port has %u)",
					name, req->nr_mode == NR_REG_ONE_SW ? "host " : "",
					dir ? "RX" : "TX", ring_id, lim);
				err = -EINVAL;
				goto out_destroy;
			}
			first[dir] = (req->nr_mode == NR_REG_ONE_SW ? n : 0) + ring_id;
			last[dir] = first[dir] + 1;
		} else if (req->nr_mode == NR_REG_SW) {
			first[dir] = n;
			last[dir] = n + h;
		} else if (req->nr_mode == NR_REG_NIC_SW) {
			last[dir] = n + h;
		}
		if (req->nr_mode == NR_REG_NULL ||
		    (dir == UNM_TX && (req->nr_flags & NR_RX_RINGS_ONLY)) ||
		    (dir == UNM_RX && (req->nr_flags & NR_TX_RINGS_ONLY)))
			first[dir] = last[dir] = 0;
	}
	for (dir = 0; dir < 2; dir++) {
		if (first[dir] < port->nrings[spec.end][dir])
			bind_nic = true;
		if (last[dir] > port->nrings[spec.end][dir])
			bind_host = true;
		for (i = first[dir]; i < last[dir]; i++) {
			struct unm_kring *kr = &unm_k->krings[port->kring[spec.end][dir] + i];

			if (kr->excl || (excl && kr->users)) {
				unm_log(UNM_LOG_ERR, "%s: %s ring %u busy (%s)", name,
					dir ? "RX" : "TX", i,
					kr->excl ? "bound exclusively" : "in use, NR_EXCLUSIVE asked");
				err = -EBUSY;
				goto out_destroy;
			}
		}
	}
	if (mon) {
		err = unm_monitor_attach_locked(pidx, first[UNM_RX], last[UNM_RX]);
		if (err)
			goto out_destroy;
	}
	/*
	 * the adapter's per-process state (a NIC: AF_XDP sockets and the XDP
	 * program, or AF_PACKET sockets in emulated mode, as admode says);
	 * host rings alone leave the NIC's traffic to the stack
	 */
	if (bind_nic || !bind_host)
		err = unm_port_attach(&ops, pidx, req->nr_flags);
	if (!err && bind_host)
		err = unm_port_host_ops()->attach(pidx);
	if (err)
		goto out_destroy;
	ml = unm_mem_map(port->mem);
	if (!ml) {
		err = -ENOMEM;
		goto out_destroy;
	}
	/* the netmap_if */
	if_size = sizeof(struct netmap_if) + sizeof(ssize_t) *
		  (port_nrings_all(port, spec.end, UNM_TX) +
		   port_nrings_all(port, spec.end, UNM_RX));
	if (if_size > m->p.if_size) {
		unm_log(UNM_LOG_ERR, "%s: netmap_if needs %u bytes, pool objects have %u",
			name, if_size, m->p.if_size);
		err = -ENOMEM;
		goto out_unmap;
	}
	err = unm_mem_obj_alloc(m->if_map, m->p.if_num, 1, &m->if_hint, &if_obj);
	if (err) {
		unm_log(UNM_LOG_ERR, "mem %u: netmap_if pool exhausted (%u)", m->id, m->p.if_num);
		goto out_unmap;
	}
	kp->nifp_ofs = m->if_ofs + (uint64_t)if_obj * m->p.if_size;
	kp->if_obj = if_obj;
	nifp = (struct netmap_if *)(ml->base + kp->nifp_ofs);
	memset(nifp, 0, m->p.if_size);
	memcpy(nifp->ni_name, name, strnlen(name, sizeof(nifp->ni_name) - 1));
	*(uint32_t *)(uintptr_t)&nifp->ni_version = NETMAP_API;
	*(uint32_t *)(uintptr_t)&nifp->ni_tx_rings = port->nrings[spec.end][UNM_TX];
	*(uint32_t *)(uintptr_t)&nifp->ni_rx_rings = port->nrings[spec.end][UNM_RX];
	*(uint32_t *)(uintptr_t)&nifp->ni_host_tx_rings = spec.end ? 0 : port->nhost[UNM_TX];
	*(uint32_t *)(uintptr_t)&nifp->ni_host_rx_rings = spec.end ? 0 : port->nhost[UNM_RX];
	for (dir = 0; dir < 2; dir++)
		for (i = 0; i < port_nrings_all(port, spec.end, dir); i++) {
			struct unm_kring *kr = &unm_k->krings[port->kring[spec.end][dir] + i];
			uint32_t pos = dir == UNM_TX ? i : port_nrings_all(port, spec.end, UNM_TX) + i;
			ssize_t ofs = 0;

			if (i >= first[dir] && i < last[dir])
				ofs = (ssize_t)kr->ring_ofs - (ssize_t)kp->nifp_ofs;
			*(ssize_t *)(uintptr_t)&nifp->ring_ofs[pos] = ofs;
		}
	if (req->nr_extra_bufs) {
		extra = unm_mem_extra_alloc_locked(port->mem, ml->base, &head, req->nr_extra_bufs);
		nifp->ni_bufs_head = head;
	}
	/* commit */
	for (dir = 0; dir < 2; dir++)
		for (i = first[dir]; i < last[dir]; i++) {
			struct unm_kring *kr = &unm_k->krings[port->kring[spec.end][dir] + i];

			kr->users++;
			if (excl)
				kr->excl = 1;
		}
	port->users[spec.end]++;
	kp->state = UNM_PRIV_REG;
	kp->port = pidx;
	kp->end = spec.end;
	kp->mem = port->mem;
	kp->mode = req->nr_mode;
	kp->flags = req->nr_flags;
	for (dir = 0; dir < 2; dir++) {
		kp->qfirst[dir] = first[dir];
		kp->qlast[dir] = last[dir];
	}
	req->nr_tx_rings = port->nrings[spec.end][UNM_TX];
	req->nr_rx_rings = port->nrings[spec.end][UNM_RX];
	req->nr_tx_slots = port->nslots[spec.end][UNM_TX];
	req->nr_rx_slots = port->nslots[spec.end][UNM_RX];
	req->nr_host_tx_rings = spec.end ? 0 : port->nhost[UNM_TX];
	req->nr_host_rx_rings = spec.end ? 0 : port->nhost[UNM_RX];
	req->nr_mem_id = m->id;
	req->nr_memsize = m->memsize;
	req->nr_offset = kp->nifp_ofs;
	req->nr_extra_bufs = extra;
	err = priv_bind_local(pl, name);
	if (!err && ops->bind && (bind_nic || !bind_host))
		err = ops->bind(pl, pidx);
	if (!err && bind_host)
		err = unm_port_host_ops()->bind(pl, pidx);
	if (err) {
		priv_unbind_local(pl);
		hold_set_locked(pl->slot, true);
		unm_priv_release_locked(pl->slot);
		/* keep the fd open but unregistered */
		kp->state = UNM_PRIV_OPEN;
		kp->gen = pl->gen;
		kp->owner_pid = unm_pid;
		kp->evfd = pl->evfd;
	}
	unm_mem_unmap(ml);
	if (err && ext_new)
		unm_mem_drop_unused_locked(ext_mslot);
	unm_unlock();
	return err;

out_unmap:
	unm_mem_unmap(ml);
out_destroy:
	if (created && !port->users[0] && !port->users[1]) {
		ml = unm_mem_map(port->mem);
		port_destroy_locked(pidx, ml ? ml->base : NULL);
		unm_mem_unmap(ml);
	}
out_unlock:
	if (ext_new)
		unm_mem_drop_unused_locked(ext_mslot);
	unm_unlock();
	return err;
}

int unm_priv_watch(struct unm_priv_local *pl, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = unm_epoll_data(pl->gen, pl->slot) };

	if (epoll_ctl(pl->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return errno == EEXIST ? 0 : -errno;
	if (!pl->nwatch++)
		pl->watch_fd = fd;
	return 0;
}

int unm_register(struct unm_priv_local *pl, struct nmreq_header *hdr,
		 struct nmreq_register *req, const struct unm_pools *pools)
{
	return register_ext(pl, hdr, req, pools, 0, NULL, NULL);
}

/* Undo a successful register (an option turned out unsupported). */
static void unm_unregister(struct unm_priv_local *pl)
{
	struct unm_kpriv *kp;
	uint16_t gen;

	priv_unbind_local(pl);
	if (unm_lock())
		return;
	kp = &unm_k->privs[pl->slot];
	gen = kp->gen;
	unm_priv_release_locked(pl->slot);
	kp->state = UNM_PRIV_OPEN;
	kp->gen = gen;
	kp->owner_pid = unm_pid;
	kp->evfd = pl->evfd;
	unm_unlock();
}

/* ---- PORT_INFO_GET / POOLS_INFO_GET ---------------------------------------- */

/* The region a name maps to: the port's, else mem_id's (or 1). Locked. */
static void port_geometry_locked(const char *name, uint16_t mem_id,
				 struct unm_memreg *out, struct unm_kport *pout, int *found)
{
	struct unm_portspec spec;
	const struct unm_port_ops *ops;
	int err, pidx = -1, i;

	*found = 0;
	if (!mem_id)
		mem_id = 1;
	if (name && *name) {
		pidx = unm_vale_persist_find_locked(name, &spec);
		ops = pidx >= 0 ? NULL : unm_port_ops_parse(name, NR_REG_ALL_NIC, 0, &spec, &err);
		if (ops)
			pidx = port_find_locked(&spec);
		if (pidx >= 0) {
			*pout = unm_k->ports[pidx];
			*out = unm_k->mems[pout->mem];
			*found = 2;
			return;
		}
		if (ops)
			*found = 1;
	}
	for (i = 0; i < UNM_MAX_MEMS; i++)
		if (unm_k->mems[i].id == mem_id) {
			memcpy(out, &unm_k->mems[i], offsetof(struct unm_memreg, if_map));
			return;
		}
	memset(out, 0, offsetof(struct unm_memreg, if_map));
	out->id = mem_id;
	unm_pools_default(&out->p);
	unm_mem_layout(out);
}

static struct unm_memreg geo_scratch;	/* big: not on the stack; under lock */

static int port_info_get(struct nmreq_header *hdr, struct nmreq_port_info_get *req)
{
	const char *name = strip_prefix(hdr->nr_name);
	const struct unm_port_ops *ops = NULL;
	struct unm_kport port;
	struct unm_portspec spec;
	int found, err, pidx = -1;

	if (*name) {
		err = unm_lock();
		if (err)
			return err;
		pidx = unm_vale_persist_find_locked(name, &spec);
		unm_unlock();
	}
	if (pidx >= 0)
		ops = unm_port_ops_find(UNM_PORT_VALE);
	else if (*name && !(ops = unm_port_ops_parse(name, NR_REG_ALL_NIC, 0, &spec, &err)))
		return err == -ENOENT ? no_such_port(name) : err;
	err = unm_lock();
	if (err)
		return err;
	port_geometry_locked(name, req->nr_mem_id, &geo_scratch, &port, &found);
	req->nr_memsize = geo_scratch.memsize;
	req->nr_mem_id = geo_scratch.id;
	if (found == 2) {
		req->pad[0] = (port.hwflags & UNM_HW_ZEROCOPY ? NR_UNM_INFO_ZEROCOPY : 0) |
			      (port.hwflags & UNM_HW_EMULATED ? NR_UNM_INFO_EMULATED : 0);
		req->nr_tx_rings = port.nrings[spec.end][UNM_TX];
		req->nr_rx_rings = port.nrings[spec.end][UNM_RX];
		req->nr_tx_slots = port.nslots[spec.end][UNM_TX];
		req->nr_rx_slots = port.nslots[spec.end][UNM_RX];
	} else if (found == 1 && ops->geometry) {
		uint16_t nr[2];
		uint32_t ns[2];

		err = ops->geometry(&spec, NULL, nr, ns);
		if (err) {
			unm_unlock();
			return err;
		}
		req->nr_tx_rings = nr[UNM_TX];
		req->nr_rx_rings = nr[UNM_RX];
		req->nr_tx_slots = ns[UNM_TX];
		req->nr_rx_slots = ns[UNM_RX];
	} else if (found == 1) {
		/* what a REGISTER would create */
		req->nr_tx_rings = clamp_rings(req->nr_tx_rings);
		req->nr_rx_rings = clamp_rings(req->nr_rx_rings);
		req->nr_tx_slots = clamp_slots(req->nr_tx_slots);
		req->nr_rx_slots = clamp_slots(req->nr_rx_slots);
	}
	req->nr_host_tx_rings = req->nr_host_rx_rings = 0;
	unm_unlock();
	return 0;
}

static int pools_info_get(struct nmreq_header *hdr, struct nmreq_pools_info *req)
{
	const char *name = strip_prefix(hdr->nr_name);
	struct unm_kport port;
	struct unm_portspec spec;
	int found, err;

	if (!*name) {
		/* as upstream: the allocator is found through a port */
		unm_log(UNM_LOG_ERR, "POOLS_INFO_GET: empty port name");
		return -EINVAL;
	}
	err = unm_lock();
	if (err)
		return err;
	found = unm_vale_persist_find_locked(name, &spec) >= 0;
	unm_unlock();
	if (!found && !unm_port_ops_parse(name, NR_REG_ALL_NIC, 0, &spec, &err))
		return err == -ENOENT ? no_such_port(name) : err;
	err = unm_lock();
	if (err)
		return err;
	port_geometry_locked(name, req->nr_mem_id, &geo_scratch, &port, &found);
	req->nr_memsize = geo_scratch.memsize;
	req->nr_mem_id = geo_scratch.id;
	req->nr_if_pool_offset = geo_scratch.if_ofs;
	req->nr_if_pool_objtotal = geo_scratch.p.if_num;
	req->nr_if_pool_objsize = geo_scratch.p.if_size;
	req->nr_ring_pool_offset = geo_scratch.ring_ofs;
	req->nr_ring_pool_objtotal = geo_scratch.p.ring_num;
	req->nr_ring_pool_objsize = geo_scratch.p.ring_size;
	req->nr_buf_pool_offset = geo_scratch.buf_ofs;
	req->nr_buf_pool_objtotal = geo_scratch.p.buf_num;
	req->nr_buf_pool_objsize = geo_scratch.p.buf_size;
	unm_unlock();
	return 0;
}

/* ---- VALE_NEWIF / VALE_DELIF ------------------------------------------------ */

/*
 * A persistent port (upstream creates a network interface NAME; we cannot):
 * a VALE port object named NAME, with no switch and no user, that stays
 * until VALE_DELIF. `netmap:NAME` opens it; VALE_ATTACH of valeS:NAME puts
 * it in switch S (lib/ports/vale.c). It keeps the kernel object and its
 * region alive while no process runs (unm_gc_locked()).
 */
static int vale_newif(const char *name, struct nmreq_vale_newif *req)
{
	struct nmreq_register reg;
	struct unm_portspec spec;
	int err, pidx, i;

	err = unm_vale_newif_name_check(name);
	if (err)
		return err;
	err = unm_lock();
	if (err)
		return err;
	unm_gc_locked();
	for (i = 0; i < UNM_MAX_PORTS; i++) {
		if (unm_k->ports[i].kind && !strcmp(unm_k->ports[i].name, name)) {
			unm_log(UNM_LOG_ERR, "%s: exists already", name);
			err = -EEXIST;
			goto out_unlock;
		}
	}
	memset(&spec, 0, sizeof(spec));
	spec.kind = UNM_PORT_VALE;
	memcpy(spec.base, name, strlen(name) + 1);	/* checked: shorter than IF_NAMESIZE */
	memset(&reg, 0, sizeof(reg));
	reg.nr_tx_slots = req->nr_tx_slots;
	reg.nr_rx_slots = req->nr_rx_slots;
	reg.nr_tx_rings = req->nr_tx_rings;
	reg.nr_rx_rings = req->nr_rx_rings;
	reg.nr_mem_id = req->nr_mem_id;
	err = port_create_locked(&spec, &reg, NULL, -1, &pidx);
	if (err)
		goto out_unlock;
	unm_k->ports[pidx].persist = 1;
	req->nr_tx_rings = unm_k->ports[pidx].nrings[0][UNM_TX];
	req->nr_rx_rings = unm_k->ports[pidx].nrings[0][UNM_RX];
	req->nr_tx_slots = unm_k->ports[pidx].nslots[0][UNM_TX];
	req->nr_rx_slots = unm_k->ports[pidx].nslots[0][UNM_RX];
	req->nr_mem_id = unm_k->mems[unm_k->ports[pidx].mem].id;
out_unlock:
	unm_unlock();
	return err;
}

static int vale_delif(const char *name)
{
	struct unm_mem_local *ml;
	struct unm_kport *port = NULL;
	int err, i;

	if (!*name) {
		unm_log(UNM_LOG_ERR, "VALE_DELIF: empty port name");
		return -EINVAL;
	}
	err = unm_lock();
	if (err)
		return err;
	unm_gc_locked();
	for (i = 0; i < UNM_MAX_PORTS; i++)
		if (unm_k->ports[i].kind == UNM_PORT_VALE && !strcmp(unm_k->ports[i].name, name)) {
			port = &unm_k->ports[i];
			break;
		}
	if (!port) {
		unm_log(UNM_LOG_ERR, "%s: no such persistent port", name);
		err = -ENXIO;
	} else if (!port->persist) {
		unm_log(UNM_LOG_ERR, "%s: not a persistent port (made by VALE_NEWIF): it goes with its last user",
			name);
		err = -EINVAL;
	} else if (port->users[0] || port->users[1]) {
		unm_log(UNM_LOG_ERR, "%s: in use (%u file descriptors)", name,
			port->users[0] + port->users[1]);
		err = -EBUSY;
	} else if (port->vale_sw) {
		unm_log(UNM_LOG_ERR, "%s: attached to switch %s (detach it first)", name,
			unm_k->vale[port->vale_sw - 1].name);
		err = -EBUSY;
	} else {
		ml = unm_mem_map(port->mem);
		port_destroy_locked(i, ml ? ml->base : NULL);
		unm_mem_unmap(ml);
	}
	unm_unlock();
	return err;
}

/* ---- NIOCCTRL ---------------------------------------------------------------- */

int unm_ctrl(struct unm_priv_local *pl, struct nmreq_header *uhdr)
{
	static __thread struct unm_req rq;
	struct nmreq_header hdr;
	union {
		struct nmreq_register reg;
		struct nmreq_port_info_get pig;
		struct nmreq_pools_info pools;
		struct nmreq_vale_attach attach;
		struct nmreq_vale_detach detach;
		struct nmreq_vale_list list;
		struct nmreq_vale_newif newif;
		char raw[NETMAP_REQ_MAXSIZE];
	} body;
	size_t bsz;
	struct unm_opt *op, *ext;
	struct unm_pools pools, *pp = NULL;
	int err;

	err = unm_copyin(&hdr, (uintptr_t)uhdr, sizeof(hdr));
	if (err)
		return err;
	err = unm_hdr_check(&hdr);
	if (err)
		return err;
	hdr.nr_name[sizeof(hdr.nr_name) - 1] = '\0';
	if (!reqtype_known(hdr.nr_reqtype)) {
		unm_log(UNM_LOG_ERR, "%s: unknown request type %u", hdr.nr_name, hdr.nr_reqtype);
		return -EINVAL;
	}
	bsz = body_size(hdr.nr_reqtype);
	if ((bsz && !hdr.nr_body) || (!bsz && hdr.nr_body)) {
		unm_log(UNM_LOG_ERR, "%s: request %u: nr_body %s", hdr.nr_name, hdr.nr_reqtype,
			bsz ? "missing" : "not expected");
		return -EINVAL;
	}
	memset(&body, 0, sizeof(body));
	if (bsz) {
		err = unm_copyin(&body, hdr.nr_body, bsz);
		if (err) {
			unm_log(UNM_LOG_ERR, "%s: nr_body unreadable", hdr.nr_name);
			return err;
		}
	}
	err = opt_walk(&hdr, &rq);
	if (err) {
		opt_copyout(&rq, err);
		return err;
	}
	switch (hdr.nr_reqtype) {
	case NETMAP_REQ_REGISTER:
		op = opt_find(&rq, NETMAP_REQ_OPT_UNM_POOLS);
		if (op) {
			pools.if_num = op->body.pools.nr_if_pool_objtotal;
			pools.if_size = op->body.pools.nr_if_pool_objsize;
			pools.ring_num = op->body.pools.nr_ring_pool_objtotal;
			pools.ring_size = op->body.pools.nr_ring_pool_objsize;
			pools.buf_num = op->body.pools.nr_buf_pool_objtotal;
			pools.buf_size = op->body.pools.nr_buf_pool_objsize;
			pp = &pools;
		}
		ext = opt_find(&rq, NETMAP_REQ_OPT_EXTMEM);
		if (ext && pp) {
			unm_log(UNM_LOG_ERR, "%s: extmem and pools options together: the extmem option carries the pools",
				hdr.nr_name);
			ext->o.nro_status = EINVAL;
			err = -EINVAL;
			break;
		}
		if (ext)
			err = register_ext(pl, &hdr, &body.reg, NULL, ext->body.ext.usrptr,
					   &ext->body.ext.info, &ext->o.nro_status);
		else
			err = unm_register(pl, &hdr, &body.reg, pp);
		op = opt_find(&rq, NETMAP_REQ_OPT_UNM_POOLS);
		if (op)
			op->o.nro_status = err ? -err : 0;
		if (!err) {
			err = opt_check_all_used(&rq, hdr.nr_name);
			if (err)
				unm_unregister(pl);
		}
		break;
	case NETMAP_REQ_PORT_INFO_GET:
		err = port_info_get(&hdr, &body.pig);
		break;
	case NETMAP_REQ_POOLS_INFO_GET:
		err = pools_info_get(&hdr, &body.pools);
		break;
	case NETMAP_REQ_VALE_LIST:
		err = unm_vale_list(hdr.nr_name, &body.list);
		/* the walk hands back the port's name */
		if (!err && unm_copyout((uintptr_t)uhdr->nr_name, hdr.nr_name, sizeof(hdr.nr_name)))
			err = -EFAULT;
		break;
	case NETMAP_REQ_VALE_ATTACH:
		err = unm_vale_attach(strip_prefix(hdr.nr_name), &body.attach);
		break;
	case NETMAP_REQ_VALE_DETACH:
		err = unm_vale_detach(strip_prefix(hdr.nr_name), &body.detach);
		break;
	case NETMAP_REQ_VALE_NEWIF:
		err = vale_newif(strip_prefix(hdr.nr_name), &body.newif);
		break;
	case NETMAP_REQ_VALE_DELIF:
		err = vale_delif(strip_prefix(hdr.nr_name));
		break;
	case NETMAP_REQ_VALE_POLLING_ENABLE:
	case NETMAP_REQ_VALE_POLLING_DISABLE:
		err = unm_vale_polling(strip_prefix(hdr.nr_name),
				       hdr.nr_reqtype == NETMAP_REQ_VALE_POLLING_ENABLE);
		break;
	default:
		unm_log(UNM_LOG_ERR, "%s: request type %u not supported yet", hdr.nr_name,
			hdr.nr_reqtype);
		err = -EOPNOTSUPP;
		break;
	}
	if (!err && bsz)
		err = unm_copyout(hdr.nr_body, &body, bsz);
	opt_copyout(&rq, err);
	return err;
}

/* ---- mmap -------------------------------------------------------------------- */

/*
 * mmap() of an extmem port. Upstream's kernel maps the pinned pages of the
 * program's memory again; we can do the same for shared memory (a file or
 * MAP_SHARED|MAP_ANONYMOUS) with mremap(old_size = 0). Private memory
 * (malloc) cannot be aliased: the program uses it where it is, at
 * nro_usrptr, as libnetmap's nmport_mmap() does.
 */
static void *ext_mmap(struct unm_priv_local *pl, void *addr, size_t len, int flags,
		      off_t off, int *err)
{
	int mflags = MREMAP_MAYMOVE;
	void *p;

	if (off % sysconf(_SC_PAGESIZE)) {
		unm_log(UNM_LOG_ERR, "%s: mmap offset %lld not page aligned", pl->name,
			(long long)off);
		*err = -EINVAL;
		return MAP_FAILED;
	}
	if (flags & MAP_FIXED)
		mflags |= MREMAP_FIXED;
	p = mremap(pl->mem->base + off, 0, len, mflags, addr);
	if (p == MAP_FAILED) {
		*err = -errno;
		unm_log(UNM_LOG_ERR, "%s: mmap of the extmem region (mem %u at %p): %s; private memory cannot be mapped twice, use it at nro_usrptr",
			pl->name, pl->mem->id, (void *)pl->mem->base, strerror(errno));
	}
	return p;
}

void *unm_mmap(struct unm_priv_local *pl, void *addr, size_t len, int prot,
	       int flags, off_t off, int *err)
{
	void *p;

	if (!pl->registered || !pl->mem) {
		unm_log(UNM_LOG_ERR, "mmap: netmap fd not registered");
		*err = -EINVAL;
		return MAP_FAILED;
	}
	if (off < 0 || !len || (uint64_t)off > pl->mem->size ||
	    len > pl->mem->size - (uint64_t)off) {
		unm_log(UNM_LOG_ERR, "%s: mmap of %zu bytes at offset %lld outside the region (%llu bytes)",
			pl->name, len, (long long)off, (unsigned long long)pl->mem->size);
		*err = -EINVAL;
		return MAP_FAILED;
	}
	if (pl->mem->fd < 0)
		return ext_mmap(pl, addr, len, flags, off, err);
	p = unm_libc.mmap(addr, len, prot, flags, pl->mem->fd, off);
	if (p == MAP_FAILED)
		*err = -errno;
	return p;
}

/* ---- adopting an fd from another process ---------------------------------- */

/*
 * Which priv an epoll fd's /proc fdinfo names: its wake-up target's data
 * (magic, gen, slot), or, once that target is gone with a dead sender, the
 * OFD lock that the description carries ("lock: ... OFDLCK ... start end").
 */
static int adopt_identify(char *info, uint32_t *slot, uint16_t *gen)
{
	unsigned long long data, start, end;
	char *p, *line;

	p = strstr(info, "data:");
	if (p && sscanf(p + 5, "%llx", &data) == 1 && (data >> 32) == UNM_EPOLL_MAGIC) {
		*slot = data & 0xffff;
		*gen = (data >> 16) & 0xffff;
		return *slot < UNM_MAX_PRIVS;
	}
	for (line = strtok_r(info, "\n", &p); line; line = strtok_r(NULL, "\n", &p)) {
		char *q;

		if (strncmp(line, "lock:", 5) || !strstr(line, "OFDLCK"))
			continue;
		/* the range is the last two fields */
		q = strrchr(line, ' ');
		if (!q)
			continue;
		*q = '\0';
		end = strtoull(q + 1, NULL, 10);
		q = strrchr(line, ' ');
		if (!q)
			continue;
		start = strtoull(q + 1, NULL, 10);
		if (start == end && unm_priv_lock_decode(start, slot, gen))
			return 1;
	}
	return 0;
}

/*
 * A netmap fd this process got through SCM_RIGHTS (or across exec): an epoll
 * fd whose only target carries our magic and the priv slot in its data.
 */
struct unm_priv_local *unm_fd_adopt(int fd)
{
	char path[64], link[64], buf[4096];
	struct unm_priv_local *pl;
	struct unm_kpriv *kp;
	uint32_t slot;
	uint16_t gen;
	ssize_t n;
	int ffd, pidfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return NULL;
	link[n] = '\0';
	if (strcmp(link, "anon_inode:[eventpoll]"))
		return NULL;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ffd = open(path, O_RDONLY | O_CLOEXEC);
	if (ffd < 0)
		return NULL;
	n = read(ffd, buf, sizeof(buf) - 1);
	close(ffd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	if (unm_kernel_attach() || unm_fd_table_init())
		return NULL;
	if (!adopt_identify(buf, &slot, &gen))
		return NULL;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return NULL;
	pl->refs = 1;
	pl->epfd = fd;
	pl->evfd = -1;
	pl->slot = slot;
	pl->gen = gen;
	if (unm_lock()) {
		free(pl);
		return NULL;
	}
	kp = &unm_k->privs[slot];
	if (kp->state == UNM_PRIV_FREE || kp->gen != gen) {
		unm_unlock();
		free(pl);
		return NULL;
	}
	hold_set_locked(slot, true);
	if (kp->state == UNM_PRIV_REG && !unm_mem_access_check(kp->mem, unm_k->ports[kp->port].name))
		priv_bind_local(pl, unm_k->ports[kp->port].name);
	/*
	 * Our own handle on the wake-up eventfd, to drain it, and to keep it
	 * (and so the epoll's only target) alive after its owner goes.
	 */
	if (kp->owner_pid) {
		pidfd = syscall(SYS_pidfd_open, kp->owner_pid, 0);
		if (pidfd >= 0) {
			pl->evfd = syscall(SYS_pidfd_getfd, pidfd, kp->evfd, O_CLOEXEC);
			close(pidfd);
		}
	}
	if (pl->evfd < 0) {
		/*
		 * The owner is gone (it sent the fd and exited): its eventfd
		 * left the epoll with it. A new one, and we are the owner.
		 */
		struct epoll_event ev = { .events = EPOLLIN };

		ev.data.u64 = unm_epoll_data(gen, slot);
		pl->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (pl->evfd >= 0 && epoll_ctl(fd, EPOLL_CTL_ADD, pl->evfd, &ev) < 0) {
			unm_log(UNM_LOG_WARN, "%s: adopted fd %d: epoll_ctl: %s", pl->name, fd,
				strerror(errno));
		}
		if (pl->evfd >= 0) {
			kp->evfd = pl->evfd;
			__atomic_store_n(&kp->owner_pid, unm_pid, __ATOMIC_RELAXED);
		}
	}
	if (pl->evfd >= 0)
		share_set_locked(kp, unm_pid, pl->evfd);
	unm_unlock();
	unm_fd_set(fd, pl);
	return pl;
}
