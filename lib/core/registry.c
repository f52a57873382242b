// SPDX-License-Identifier: BSD-2-Clause
/*
 * registry.c - the adapter registry (which port types exist and how their
 * names look) and the per-process fd table (fd -> its netmap state).
 *
 * The port types are a static table rather than constructor-time
 * registration, so that linking libnetmap.a statically pulls them in.
 *
 * The fd table is one flat array indexed by fd, sized by the hard
 * RLIMIT_NOFILE (capped), allocated at the first netmap open: the cost of
 * interposing a libc call on a non-netmap fd is one load.
 */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "core/unm.h"

extern const struct unm_port_ops unm_pipe_ops;
extern const struct unm_port_ops unm_vale_ops;
/* monitors claim no name: REGISTER with NR_MONITOR_* makes them (ctl.c) */
extern const struct unm_port_ops unm_monitor_ops;
extern const struct unm_port_ops unm_afxdp_ops;
/* NIC ports in emulated mode: chosen by admode below, never by name */
extern const struct unm_port_ops unm_afpacket_ops;
/* a NIC port's host rings: ctl.c hands them the rings after the NIC's */
extern const struct unm_port_ops unm_host_ops;

/*
 * in parse order: pipes claim names with '{' or '}' (a pipe of a VALE
 * port, "vale0:p{1", is a pipe), VALE ports names that start with "vale",
 * NICs any other name
 */
static const struct unm_port_ops *const port_types[] = {
	&unm_pipe_ops,
	&unm_vale_ops,
	&unm_monitor_ops,
	&unm_afxdp_ops,
};

const struct unm_port_ops *unm_port_ops_find(enum unm_port_kind kind)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(port_types); i++)
		if (port_types[i]->kind == kind)
			return port_types[i];
	return NULL;
}

/* The port type that claims `name`; NULL with *err = -ENOENT if none. */
const struct unm_port_ops *unm_port_ops_parse(const char *name, uint32_t mode,
					      uint32_t ringid, struct unm_portspec *spec,
					      int *err)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(port_types); i++) {
		memset(spec, 0, sizeof(*spec));
		*err = port_types[i]->parse(name, mode, ringid, spec);
		if (*err != -ENOENT)
			return *err ? NULL : port_types[i];
	}
	*err = -ENOENT;
	return NULL;
}

/*
 * netmap's admode (upstream's sysctl dev.netmap.admode), per register:
 * NR_UNM_ADMODE_* in nr_flags, else the environment's UNM_ADMODE, else
 * best effort. Upstream's values: 0 best effort (native, else emulated),
 * 1 native only, 2 emulated (generic) only.
 */
enum unm_admode { UNM_ADMODE_BEST = 0, UNM_ADMODE_NATIVE = 1, UNM_ADMODE_GENERIC = 2 };

static const struct {
	const char *name;
	enum unm_admode mode;
} admode_names[] = {
	{ "auto", UNM_ADMODE_BEST }, { "best", UNM_ADMODE_BEST }, { "0", UNM_ADMODE_BEST },
	{ "native", UNM_ADMODE_NATIVE }, { "1", UNM_ADMODE_NATIVE },
	{ "generic", UNM_ADMODE_GENERIC }, { "emulated", UNM_ADMODE_GENERIC },
	{ "2", UNM_ADMODE_GENERIC },
};

static const char *const admode_desc[] = {
	[UNM_ADMODE_BEST] = "best effort", [UNM_ADMODE_NATIVE] = "native",
	[UNM_ADMODE_GENERIC] = "generic",
};

static int admode_get(uint64_t nr_flags, const char *name)
{
	uint64_t f = nr_flags & NR_UNM_ADMODE_MASK;
	const char *env;
	unsigned i;

	if (f == NR_UNM_ADMODE_MASK)
		return UNM_ADMODE_BEST;
	if (f)
		return f == NR_UNM_ADMODE_NATIVE ? UNM_ADMODE_NATIVE : UNM_ADMODE_GENERIC;
	env = getenv("UNM_ADMODE");
	if (!env || !*env)
		return UNM_ADMODE_BEST;
	for (i = 0; i < ARRAY_SIZE(admode_names); i++)
		if (!strcmp(env, admode_names[i].name))
			return admode_names[i].mode;
	unm_log(UNM_LOG_ERR, "%s: invalid UNM_ADMODE '%s' (auto|native|generic, or 0|1|2)",
		name, env);
	return -EINVAL;
}

const struct unm_port_ops *unm_port_host_ops(void)
{
	return &unm_host_ops;
}

const struct unm_port_ops *unm_port_ops_of(const struct unm_kport *port)
{
	if (port->kind == UNM_PORT_HW && (port->hwflags & UNM_HW_EMULATED))
		return &unm_afpacket_ops;
	return unm_port_ops_find(port->kind);
}

int unm_port_attach(const struct unm_port_ops **opsp, uint16_t pidx, uint64_t nr_flags)
{
	const struct unm_port_ops *ops = *opsp;
	struct unm_kport *port = &unm_k->ports[pidx];
	int mode, err;
	bool emulated;

	if (ops->kind != UNM_PORT_HW)
		return ops->attach ? ops->attach(pidx) : 0;
	mode = admode_get(nr_flags, port->name);
	if (mode < 0)
		return mode;
	if (port->owner_pid &&
	    (port->owner_pid == unm_pid || !(port->hwflags & UNM_HW_EMULATED))) {
		/*
		 * the mode is set, by this process, or natively by any (AF_XDP
		 * ports are shared by processes, one per queue): it stays
		 */
		emulated = port->hwflags & UNM_HW_EMULATED;
		if ((mode == UNM_ADMODE_NATIVE && emulated) ||
		    (mode == UNM_ADMODE_GENERIC && !emulated)) {
			unm_log(UNM_LOG_ERR, "%s: admode %s asked, but the port is open in %s mode",
				port->name, admode_desc[mode], emulated ? "emulated" : "native");
			return -EBUSY;
		}
		*opsp = unm_port_ops_of(port);
		return (*opsp)->attach(pidx);
	}
	if (mode != UNM_ADMODE_GENERIC) {
		err = ops->attach(pidx);
		/* a missing or down interface, or a busy one, is not a reason to emulate */
		if (!err || mode == UNM_ADMODE_NATIVE || err == -ENXIO || err == -ENETDOWN ||
		    err == -EBUSY)
			return err;
		unm_log(UNM_LOG_ERR, "%s: native mode (AF_XDP) failed: %s; falling back to emulated (generic) mode over AF_PACKET",
			port->name, strerror(-err));
	}
	err = unm_afpacket_ops.attach(pidx);
	if (!err)
		*opsp = &unm_afpacket_ops;
	return err;
}

#define UNM_FD_MAX	(1 << 20)

static struct unm_priv_local **fd_tab;
static size_t fd_tab_size;

int unm_fd_table_init(void)
{
	struct rlimit rl;
	size_t n = 65536;
	void *p;

	if (__atomic_load_n(&fd_tab, __ATOMIC_ACQUIRE))
		return 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max > n)
		n = rl.rlim_max;
	if (n > UNM_FD_MAX)
		n = UNM_FD_MAX;
	/* calloc, not mmap: leak checkers must see the pointers it holds */
	p = calloc(n, sizeof(*fd_tab));
	if (!p)
		return -ENOMEM;
	fd_tab_size = n;
	__atomic_store_n(&fd_tab, (struct unm_priv_local **)p, __ATOMIC_RELEASE);
	return 0;
}

struct unm_priv_local *unm_fd_get(int fd)
{
	struct unm_priv_local **t = __atomic_load_n(&fd_tab, __ATOMIC_ACQUIRE);

	if (likely(!t) || fd < 0 || (size_t)fd >= fd_tab_size)
		return NULL;
	return __atomic_load_n(&t[fd], __ATOMIC_ACQUIRE);
}

void unm_fd_set(int fd, struct unm_priv_local *pl)
{
	if (unm_fd_table_init() || fd < 0 || (size_t)fd >= fd_tab_size)
		return;
	__atomic_store_n(&fd_tab[fd], pl, __ATOMIC_RELEASE);
}

struct unm_priv_local *unm_fd_clear(int fd)
{
	struct unm_priv_local **t = __atomic_load_n(&fd_tab, __ATOMIC_ACQUIRE);

	if (!t || fd < 0 || (size_t)fd >= fd_tab_size)
		return NULL;
	return __atomic_exchange_n(&t[fd], NULL, __ATOMIC_ACQ_REL);
}
