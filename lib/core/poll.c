// SPDX-License-Identifier: BSD-2-Clause
/*
 * poll.c - poll()/ppoll() with netmap semantics for the netmap fds in a set
 * (others pass through untouched), and the wake-up machinery.
 *
 * A netmap fd is an epoll fd holding the priv's eventfd, so it can sleep in
 * the kernel's poll next to sockets. Sleeping is a handshake with the peer:
 *
 *   sleeper                               waker (peer's txsync/rxsync)
 *   mark kring (waiters[], nwaiters)      publish hwtail / hwcur (release)
 *   seq_cst fence                         seq_cst fence
 *   re-check the rings (sync pass)        nwaiters != 0 ? write sleeper's eventfd
 *   poll() the real fds
 *
 * so either the sleeper sees the new data or the waker sees the mark. A
 * sleeper in another process is reached through its eventfd, obtained once
 * with pidfd_open + pidfd_getfd and cached.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/unm.h"

struct wake_cache {
	int32_t pid;
	uint16_t gen;
	int fd;				/* our copy of the sleeper's eventfd, or -1 */
};

static struct wake_cache wcache[UNM_MAX_PRIVS];
static pthread_mutex_t wcache_mtx = PTHREAD_MUTEX_INITIALIZER;

int unm_wake_priv(uint32_t slot)
{
	struct unm_kpriv *kp = &unm_k->privs[slot];
	int32_t pid = __atomic_load_n(&kp->owner_pid, __ATOMIC_RELAXED);
	uint16_t gen = kp->gen;
	uint64_t one = 1;
	int fd, pidfd;

	if (!pid)
		return 0;
	if (pid == unm_pid) {
		fd = kp->evfd;
	} else {
		pthread_mutex_lock(&wcache_mtx);
		if (wcache[slot].pid != pid || wcache[slot].gen != gen || wcache[slot].fd <= 0) {
			if (wcache[slot].fd > 0)
				unm_libc.close(wcache[slot].fd);
			wcache[slot].fd = -1;
			pidfd = syscall(SYS_pidfd_open, pid, 0);
			if (pidfd >= 0) {
				wcache[slot].fd = syscall(SYS_pidfd_getfd, pidfd, kp->evfd, 0);
				unm_libc.close(pidfd);
			}
			if (wcache[slot].fd < 0)
				unm_log(UNM_LOG_WARN, "wake-up of pid %d: pidfd_getfd: %s", pid,
					strerror(errno));
			wcache[slot].pid = pid;
			wcache[slot].gen = gen;
		}
		fd = wcache[slot].fd;
		pthread_mutex_unlock(&wcache_mtx);
	}
	if (fd < 0)
		return -ESRCH;
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

void unm_priv_drain(struct unm_priv_local *pl)
{
	uint64_t v;

	if (pl->evfd >= 0)
		while (read(pl->evfd, &v, sizeof(v)) == sizeof(v))
			;
}

static void mark_all(struct unm_priv_local *pl, short events, bool on, bool *nap)
{
	int dir;
	unsigned i;

	for (dir = 0; dir < 2; dir++) {
		if (dir == UNM_TX && !(events & (POLLOUT | POLLWRNORM)))
			continue;
		if (dir == UNM_RX && !(events & (POLLIN | POLLRDNORM)))
			continue;
		/* NIC TX completions wake nobody: nap and sync again */
		if (on && dir == UNM_TX && pl->hw_nap)
			*nap = true;
		for (i = 0; i < pl->nring[dir]; i++) {
			struct unm_kring *kr = pl->rings[dir][i].kr;

			if (!on)
				unm_kring_wait_unmark(kr, pl->slot);
			else if (unm_kring_wait_mark(kr, pl->slot))
				*nap = true;
		}
	}
}

/* A sync pass over the netmap fds of the set; returns how many are ready. */
static int scan(struct pollfd *fds, unsigned long nfds, struct unm_priv_local **pls)
{
	unsigned long i;
	int ready = 0;

	for (i = 0; i < nfds; i++) {
		short r;

		if (!pls[i])
			continue;
		r = unm_poll_scan(pls[i], fds[i].events);
		fds[i].revents = r & (fds[i].events | POLLERR | POLLHUP);
		if (fds[i].revents)
			ready++;
	}
	return ready;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int unm_poll(struct pollfd *fds, unsigned long nfds, const struct timespec *ts,
	     const void *sigmask, bool has_timeout)
{
	struct unm_priv_local *pls_stack[32], **pls = pls_stack;
	struct pollfd copy_stack[32], *copy = copy_stack;
	int64_t deadline = 0;
	unsigned long i;
	int ret = -1, ready, r, saved;

	if (nfds > 32) {
		pls = calloc(nfds, sizeof(*pls));
		copy = calloc(nfds, sizeof(*copy));
		if (!pls || !copy) {
			free(pls);
			free(copy);
			errno = ENOMEM;
			return -1;
		}
	}
	if (has_timeout && ts)
		deadline = now_ns() + ts->tv_sec * 1000000000LL + ts->tv_nsec;
	for (i = 0; i < nfds; i++) {
		pls[i] = unm_fd_get(fds[i].fd);
		fds[i].revents = 0;
	}
	for (;;) {
		struct timespec rem, *remp = NULL;
		bool nap = false, timed_out = false;

		ready = scan(fds, nfds, pls);
		if (!ready) {
			for (i = 0; i < nfds; i++)
				if (pls[i] && pls[i]->registered)
					mark_all(pls[i], fds[i].events, true, &nap);
			ready = scan(fds, nfds, pls);
		}
		/* the other fds: a non-blocking look if ready, else the sleep */
		for (i = 0; i < nfds; i++) {
			copy[i] = fds[i];
			copy[i].revents = 0;
			if (pls[i]) {
				copy[i].events = POLLIN;
				if (ready)
					copy[i].fd = -1;
			}
		}
		if (ready) {
			rem.tv_sec = rem.tv_nsec = 0;
			remp = &rem;
		} else if (has_timeout && ts) {
			int64_t left = deadline - now_ns();

			if (left <= 0) {
				left = 0;
				timed_out = true;
			}
			rem.tv_sec = left / 1000000000LL;
			rem.tv_nsec = left % 1000000000LL;
			remp = &rem;
		}
		if (nap && !ready && (!remp || rem.tv_sec || rem.tv_nsec > 1000000)) {
			/* no room to leave a mark: sleep in short naps */
			rem.tv_sec = 0;
			rem.tv_nsec = 1000000;
			remp = &rem;
		}
		r = unm_libc.ppoll(copy, nfds, remp, sigmask);
		saved = errno;
		for (i = 0; i < nfds; i++)
			if (pls[i] && pls[i]->registered) {
				bool unused;

				mark_all(pls[i], fds[i].events, false, &unused);
				unm_priv_drain(pls[i]);
			}
		if (r < 0) {
			errno = saved;
			ret = -1;
			break;
		}
		for (i = 0; i < nfds; i++)
			if (!pls[i]) {
				fds[i].revents = copy[i].revents;
				if (fds[i].revents)
					ready++;
			}
		if (!ready && r > 0)
			ready = scan(fds, nfds, pls);
		if (ready || timed_out) {
			ret = ready;
			break;
		}
		if (has_timeout && ts && now_ns() >= deadline) {
			ret = scan(fds, nfds, pls);
			if (!ret)
				for (i = 0; i < nfds; i++)
					if (!pls[i])
						fds[i].revents = 0;
			break;
		}
	}
	if (pls != pls_stack) {
		free(pls);
		free(copy);
	}
	return ret;
}
