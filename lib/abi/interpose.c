// SPDX-License-Identifier: BSD-2-Clause
/*
 * interpose.c - the syscall-shaped boundary. We define the libc entry points
 * a netmap program uses (open of /dev/netmap, ioctl, mmap, poll, select,
 * close, dup*, fcntl), act on netmap fds only, and pass everything else to
 * the next definition (libc's, or ASan's) found once with dlsym(RTLD_NEXT),
 * at the cost of one fd-table load.
 *
 * Works linked statically from libnetmap.a (the program's references bind to
 * these), as libnetmap.so, and LD_PRELOADed into a binary that knows nothing
 * of us. Errors are a syscall's: -1 and errno.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <unistd.h>

#include "export.h"
#include "core/unm.h"

struct unm_libc unm_libc;

#define NEXT(name) do {							\
	void *p = dlsym(RTLD_NEXT, #name);				\
	__atomic_store_n((void **)&unm_libc.name, p, __ATOMIC_RELEASE);	\
} while (0)

void unm_libc_init(void)
{
	NEXT(open);
	NEXT(close);
	NEXT(ioctl);
	NEXT(mmap);
	NEXT(poll);
	NEXT(ppoll);
	NEXT(dup);
	NEXT(dup2);
	NEXT(dup3);
	NEXT(fcntl);
}

#define LIBC(fn) (likely(unm_libc.fn) ? unm_libc.fn : (unm_libc_init(), unm_libc.fn))

static int set_errno(int err)
{
	if (err < 0) {
		errno = -err;
		return -1;
	}
	return err;
}

static bool is_netmap_path(const char *path)
{
	return path && !strcmp(path, "/dev/netmap");
}

static int netmap_open(int flags)
{
	struct unm_priv_local *pl;
	int err;

	if (!unm_libc.open)
		unm_libc_init();
	err = unm_open(flags, &pl);
	if (err)
		return set_errno(err);
	unm_fd_set(pl->epfd, pl);
	return pl->epfd;
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

UNM_API int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	if (unlikely(is_netmap_path(path)))
		return netmap_open(flags);
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return LIBC(open)(path, flags, mode);
}

UNM_API int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	if (unlikely(is_netmap_path(path)))
		return netmap_open(flags);
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return LIBC(open)(path, flags | O_LARGEFILE, mode);
}

static int openat_common(int dirfd, const char *path, int flags, mode_t mode)
{
	static int (*next_openat)(int, const char *, int, ...);

	if (unlikely(is_netmap_path(path)))
		return netmap_open(flags);
	if (!next_openat)
		next_openat = dlsym(RTLD_NEXT, "openat");
	return next_openat(dirfd, path, flags, mode);
}

UNM_API int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return openat_common(dirfd, path, flags, mode);
}

UNM_API int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return openat_common(dirfd, path, flags | O_LARGEFILE, mode);
}

/* glibc's _FORTIFY_SOURCE variants (no mode: O_CREAT is not allowed) */
UNM_API int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

UNM_API int __open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

UNM_API int __openat_2(int dirfd, const char *path, int flags)
{
	return openat_common(dirfd, path, flags, 0);
}

UNM_API int __openat64_2(int dirfd, const char *path, int flags)
{
	return openat_common(dirfd, path, flags | O_LARGEFILE, 0);
}

static bool is_netmap_ioctl(unsigned long req)
{
	return req == NIOCCTRL || req == NIOCTXSYNC || req == NIOCRXSYNC ||
	       req == NIOCREGIF || req == NIOCGINFO;
}

/* A netmap fd we do not know yet (SCM_RIGHTS, exec): the slow path. */
static struct unm_priv_local *lookup_slow(int fd)
{
	return unm_fd_adopt(fd);
}

UNM_API int ioctl(int fd, unsigned long req, ...)
{
	struct unm_priv_local *pl = unm_fd_get(fd);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (likely(!pl)) {
		if (likely(!is_netmap_ioctl(req)))
			return LIBC(ioctl)(fd, req, arg);
		pl = lookup_slow(fd);
		if (!pl)
			return LIBC(ioctl)(fd, req, arg);
	}
	switch (req) {
	case NIOCTXSYNC:
		return set_errno(unm_sync(pl, UNM_TX));
	case NIOCRXSYNC:
		return set_errno(unm_sync(pl, UNM_RX));
	case NIOCCTRL:
		return set_errno(unm_ctrl(pl, arg));
	case NIOCREGIF:
	case NIOCGINFO:
		return set_errno(unm_legacy_ioctl(pl, req, arg));
	default:
		return LIBC(ioctl)(fd, req, arg);
	}
}

UNM_API void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct unm_priv_local *pl;
	void *p;
	int err = 0;

	if (likely(fd < 0 || (flags & MAP_ANONYMOUS)))
		return LIBC(mmap)(addr, len, prot, flags, fd, off);
	pl = unm_fd_get(fd);
	if (likely(!pl)) {
		p = LIBC(mmap)(addr, len, prot, flags, fd, off);
		if (p != MAP_FAILED || errno != ENODEV)
			return p;
		pl = lookup_slow(fd);
		if (!pl) {
			errno = ENODEV;
			return MAP_FAILED;
		}
	}
	p = unm_mmap(pl, addr, len, prot, flags, off, &err);
	if (p == MAP_FAILED)
		errno = -err;
	return p;
}

UNM_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

static bool any_netmap(const struct pollfd *fds, nfds_t nfds)
{
	nfds_t i;

	for (i = 0; i < nfds; i++)
		if (unlikely(unm_fd_get(fds[i].fd) != NULL))
			return true;
	return false;
}

UNM_API int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct timespec ts;

	if (likely(!any_netmap(fds, nfds)))
		return LIBC(poll)(fds, nfds, timeout);
	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (timeout % 1000) * 1000000L;
	return unm_poll(fds, nfds, timeout < 0 ? NULL : &ts, NULL, timeout >= 0);
}

UNM_API int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo,
		  const sigset_t *sigmask)
{
	if (likely(!any_netmap(fds, nfds)))
		return LIBC(ppoll)(fds, nfds, tmo, sigmask);
	return unm_poll(fds, nfds, tmo, sigmask, tmo != NULL);
}

UNM_API int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < nfds)
		abort();
	return poll(fds, nfds, timeout);
}

UNM_API int __ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo,
			const sigset_t *sigmask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < nfds)
		abort();
	return ppoll(fds, nfds, tmo, sigmask);
}

/* select/pselect through unm_poll when a netmap fd is in a set */
static int select_common(int nfds, fd_set *r, fd_set *w, fd_set *e,
			 const struct timespec *tmo, const sigset_t *sigmask, bool *handled)
{
	struct pollfd *pfd;
	int i, n = 0, ret, cnt = 0;
	bool nm = false;

	*handled = false;
	if (nfds < 0 || nfds > FD_SETSIZE)
		return 0;
	for (i = 0; i < nfds; i++) {
		bool in = (r && FD_ISSET(i, r)) || (w && FD_ISSET(i, w)) || (e && FD_ISSET(i, e));

		if (!in)
			continue;
		n++;
		if (unm_fd_get(i))
			nm = true;
	}
	if (!nm)
		return 0;
	*handled = true;
	pfd = calloc(n, sizeof(*pfd));
	if (!pfd) {
		errno = ENOMEM;
		return -1;
	}
	n = 0;
	for (i = 0; i < nfds; i++) {
		short ev = 0;

		if (r && FD_ISSET(i, r))
			ev |= POLLIN;
		if (w && FD_ISSET(i, w))
			ev |= POLLOUT;
		if (e && FD_ISSET(i, e))
			ev |= POLLPRI;
		if (!ev)
			continue;
		pfd[n].fd = i;
		pfd[n++].events = ev;
	}
	ret = unm_poll(pfd, n, tmo, sigmask, tmo != NULL);
	if (ret < 0) {
		free(pfd);
		return -1;
	}
	if (r)
		FD_ZERO(r);
	if (w)
		FD_ZERO(w);
	if (e)
		FD_ZERO(e);
	for (i = 0; i < n; i++) {
		short re = pfd[i].revents;

		if (pfd[i].events & POLLNVAL || re & POLLNVAL) {
			free(pfd);
			errno = EBADF;
			return -1;
		}
		if (r && (pfd[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(pfd[i].fd, r);
			cnt++;
		}
		if (w && (pfd[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
			FD_SET(pfd[i].fd, w);
			cnt++;
		}
		if (e && (pfd[i].events & POLLPRI) && (re & POLLPRI)) {
			FD_SET(pfd[i].fd, e);
			cnt++;
		}
	}
	free(pfd);
	return cnt;
}

UNM_API int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	static int (*next_select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	struct timespec ts;
	bool handled;
	int ret;

	if (tv) {
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000;
	}
	ret = select_common(nfds, r, w, e, tv ? &ts : NULL, NULL, &handled);
	if (handled)
		return ret;
	if (!next_select)
		next_select = dlsym(RTLD_NEXT, "select");
	return next_select(nfds, r, w, e, tv);
}

UNM_API int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *tmo,
		    const sigset_t *sigmask)
{
	static int (*next_pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
				   const sigset_t *);
	bool handled;
	int ret;

	ret = select_common(nfds, r, w, e, tmo, sigmask, &handled);
	if (handled)
		return ret;
	if (!next_pselect)
		next_pselect = dlsym(RTLD_NEXT, "pselect");
	return next_pselect(nfds, r, w, e, tmo, sigmask);
}

UNM_API int close(int fd)
{
	struct unm_priv_local *pl = unm_fd_clear(fd);
	int ret;

	ret = LIBC(close)(fd);
	if (unlikely(pl != NULL)) {
		int saved = errno;

		unm_close(pl);
		errno = saved;
	}
	return ret;
}

/* newfd now refers to what oldfd does (and whatever newfd was is closed) */
static void dup_track(int oldfd, int newfd)
{
	struct unm_priv_local *was = unm_fd_clear(newfd), *pl;

	if (was)
		unm_close(was);
	pl = unm_fd_get(oldfd);
	if (pl) {
		__atomic_add_fetch(&pl->refs, 1, __ATOMIC_RELAXED);
		unm_fd_set(newfd, pl);
	}
}

UNM_API int dup(int fd)
{
	int r = LIBC(dup)(fd);

	if (r >= 0 && unlikely(unm_fd_get(fd) != NULL))
		dup_track(fd, r);
	return r;
}

UNM_API int dup2(int oldfd, int newfd)
{
	int r = LIBC(dup2)(oldfd, newfd);

	if (r >= 0 && oldfd != newfd &&
	    unlikely(unm_fd_get(oldfd) != NULL || unm_fd_get(newfd) != NULL))
		dup_track(oldfd, newfd);
	return r;
}

UNM_API int dup3(int oldfd, int newfd, int flags)
{
	int r = LIBC(dup3)(oldfd, newfd, flags);

	if (r >= 0 && unlikely(unm_fd_get(oldfd) != NULL || unm_fd_get(newfd) != NULL))
		dup_track(oldfd, newfd);
	return r;
}

UNM_API int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;
	int r;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	r = LIBC(fcntl)(fd, cmd, arg);
	if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) &&
	    unlikely(unm_fd_get(fd) != NULL))
		dup_track(fd, r);
	return r;
}

UNM_API int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl(fd, cmd, arg);
}
