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
extern const struct unm_port_ops unm_afxdp_ops;

/* in parse order: pipes claim names with '{' or '}', NICs any other name */
static const struct unm_port_ops *const port_types[] = {
	&unm_pipe_ops,
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
