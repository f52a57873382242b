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
 *
 * Before it sleeps, a poll whose set holds only netmap fds spins for a
 * bounded time re-running the sync pass (no system call): a pipe peer on
 * another CPU is usually in the middle of a batch, and the sleep/wake-up
 * pair (ppoll, eventfd write and read, an IPI) costs more than that batch.
 * The spin yields the CPU now and then, so a peer that shares our CPU gets to
 * run and fill the ring while we wait; and it adapts per thread: a spin that
 * ends empty-handed halves the next one, and a sleep that a wake-up ends
 * within UNM_SPIN_ACTIVE_NS (the peer is active, only slower than our spin
 * this time) restores the full budget. An idle poll thus burns at most
 * UNM_SPIN_MAX_NS of CPU before it sleeps, and about UNM_SPIN_MIN_NS once
 * the peer has been quiet for a few calls.
 *
 * A kernel-fed fd that watches one socket (one NIC queue, or host rings
 * alone) sleeps in ppoll() on that socket and its eventfd directly, not on
 * its epoll fd: the same wake-ups without the epoll layer in between
 * (`bench/nic/run -q 2 -r 5 -k _rx`: pkt-gen RX 0.85 -> 0.87 of a bare
 * AF_XDP poll(), medians of 5 rounds, about the spread between rounds).
 *
 * Only for rings whose peer is a program (pipes): NIC and host rings are fed
 * by the kernel, often softirq work on this very CPU (veth delivers on the
 * sender's CPU), and a spinning receiver starves it -- bench/nic measured a
 * two-queue RX at 0.44 Mpps with the spin and 2.58 without. Such fds
 * (no_spin, set by the port's bind) sleep at once.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
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

/*
 * One read empties a (non-semaphore) eventfd. A wake-up that lands after it
 * leaves the epoll fd readable: the next sleep returns at once, re-scans
 * and drains again, which is all a wake-up has to achieve.
 */
void unm_priv_drain(struct unm_priv_local *pl)
{
	uint64_t v;

	if (pl->evfd >= 0 && read(pl->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		unm_log(UNM_LOG_WARN, "%s: eventfd read: %s", pl->name, strerror(errno));
}

static void mark_all(struct unm_priv_local *pl, short events, bool on, bool *nap)
{
	int dir;
	unsigned i;

	/*
	 * NIC TX completions wake nobody: nap and sync again while TX space is
	 * wanted or frames are in flight (a kick may be needed to finish them).
	 */
	if (on && pl->hw_nap &&
	    ((events & (POLLOUT | POLLWRNORM)) || unm_hw_tx_inflight(pl)))
		*nap = true;
	for (dir = 0; dir < 2; dir++) {
		if (dir == UNM_TX && !(events & (POLLOUT | POLLWRNORM)))
			continue;
		if (dir == UNM_RX && !(events & (POLLIN | POLLRDNORM)))
			continue;
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

#define UNM_SPIN_MAX_NS		50000	/* longest spin before sleeping */
#define UNM_SPIN_MIN_NS		1000	/* the budget never decays below this */
#define UNM_SPIN_YIELD_NS	10000	/* sched_yield() this often while spinning */
#define UNM_SPIN_ACTIVE_NS	200000	/* woken sooner: the peer is active */

/* (thread) current spin budget; 0 = not set yet (UNM_SPIN_MAX_NS) */
static __thread int32_t spin_budget;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * Re-run the sync pass until a netmap fd is ready or the budget is spent.
 * Returns how many fds are ready (0: spent, go to sleep).
 */
static int spin(struct pollfd *fds, unsigned long nfds, struct unm_priv_local **pls,
		int64_t start, int64_t deadline)
{
	int64_t budget = spin_budget ? spin_budget : UNM_SPIN_MAX_NS;
	int64_t t = start, yielded = start;
	bool clipped = false;
	int ready;

	if (deadline && deadline - start < budget) {
		budget = deadline - start;
		clipped = true;
	}
	for (;;) {
		cpu_relax();
		ready = scan(fds, nfds, pls);
		if (ready)
			return ready;
		t = now_ns();
		if (t - start >= budget)
			break;
		if (t - yielded >= UNM_SPIN_YIELD_NS) {
			/* a peer sharing our CPU runs now, or nobody: no cost */
			sched_yield();
			yielded = t;
		}
	}
	/* only a full spin says the peer is idle (or slower than the budget) */
	if (!clipped)
		spin_budget = budget / 2 > UNM_SPIN_MIN_NS ? budget / 2 : UNM_SPIN_MIN_NS;
	return 0;
}

/*
 * A wake-up ended our sleep. Soon after we went to sleep means the peer is
 * busy: spin in full next time. (A wake-up takes tens of microseconds to
 * arrive on some VMs, so "sooner than our spin" would never be seen.)
 */
static void spin_grow(int64_t slept_from)
{
	if (now_ns() - slept_from < UNM_SPIN_ACTIVE_NS)
		spin_budget = UNM_SPIN_MAX_NS;
}

int unm_poll(struct pollfd *fds, unsigned long nfds, const struct timespec *ts,
	     const void *sigmask, bool has_timeout)
{
	struct unm_priv_local *pls_stack[32], **pls = pls_stack;
	struct pollfd copy_stack[64], *copy = copy_stack;	/* fds, then eventfds */
	unsigned long owner_stack[32], *owner = owner_stack;	/* of each eventfd */
	int64_t deadline = 0;
	unsigned long i, n;
	int ret = -1, ready, r, saved;
	bool can_spin, only_netmap = true, kernel_fed = false;

	if (nfds > 32) {
		pls = calloc(nfds, sizeof(*pls));
		copy = calloc(2 * nfds, sizeof(*copy));
		owner = calloc(nfds, sizeof(*owner));
		if (!pls || !copy || !owner) {
			free(pls);
			free(copy);
			free(owner);
			errno = ENOMEM;
			return -1;
		}
	}
	if (has_timeout && ts)
		deadline = now_ns() + ts->tv_sec * 1000000000LL + ts->tv_nsec;
	for (i = 0; i < nfds; i++) {
		pls[i] = unm_fd_get(fds[i].fd);
		fds[i].revents = 0;
		if (!pls[i] || !pls[i]->registered)
			only_netmap = false;
		else if (pls[i]->no_spin)
			kernel_fed = true;
	}
	/* other fds are checked only by ppoll(): do not delay them */
	can_spin = only_netmap && !kernel_fed && !(has_timeout && ts && !ts->tv_sec && !ts->tv_nsec);
	for (;;) {
		struct timespec rem, *remp = NULL;
		bool nap = false, timed_out = false, marked = false;
		int64_t sleep_start;

		ready = scan(fds, nfds, pls);
		if (!ready && can_spin)
			ready = spin(fds, nfds, pls, now_ns(), deadline);
		if (!ready) {
			for (i = 0; i < nfds; i++)
				if (pls[i] && pls[i]->registered)
					mark_all(pls[i], fds[i].events, true, &nap);
			marked = true;
			ready = scan(fds, nfds, pls);
		}
		/* the other fds: a non-blocking look if ready, else the sleep */
		n = nfds;
		for (i = 0; i < nfds; i++) {
			copy[i] = fds[i];
			copy[i].revents = 0;
			if (pls[i]) {
				copy[i].events = POLLIN;
				if (ready) {
					copy[i].fd = -1;
				} else if (pls[i]->registered && pls[i]->no_spin &&
					   pls[i]->nwatch == 1) {
					/* its socket and its eventfd, without epoll */
					copy[i].fd = pls[i]->watch_fd;
					copy[n].fd = pls[i]->evfd;
					copy[n].events = POLLIN;
					copy[n].revents = 0;
					owner[n - nfds] = i;
					n++;
				}
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
		sleep_start = !ready && can_spin ? now_ns() : 0;
		if (ready && only_netmap && !sigmask)
			r = 0;	/* nothing else to look at: spare the syscall */
		else
			r = unm_libc.ppoll(copy, n, remp, sigmask);
		saved = errno;
		/* an eventfd woke us: as if through its epoll fd */
		for (i = nfds; r > 0 && i < n; i++)
			if (copy[i].revents & POLLIN)
				copy[owner[i - nfds]].revents |= POLLIN;
		for (i = 0; i < nfds; i++)
			if (pls[i] && pls[i]->registered) {
				bool unused;

				if (marked)
					mark_all(pls[i], fds[i].events, false, &unused);
				if (r > 0 && (copy[i].revents & POLLIN)) {
					/* kernel-fed: most likely a socket; see below */
					if (pls[i]->no_spin)
						continue;
					unm_priv_drain(pls[i]);
					if (sleep_start)
						spin_grow(sleep_start);
				}
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
		/*
		 * A kernel-fed fd (NIC, host rings) is woken by its sockets, not
		 * by our eventfd, which nobody writes in the usual case: reading
		 * it after every wake-up was one system call per batch for
		 * nothing. Drain it only after a wake-up that brought nothing:
		 * a stray wake-up leaves the eventfd readable, so the next sleep
		 * returns at once, finds nothing, and drains it here.
		 */
		if (r > 0)
			for (i = 0; i < nfds; i++)
				if (pls[i] && pls[i]->registered && pls[i]->no_spin &&
				    (copy[i].revents & POLLIN) && !fds[i].revents)
					unm_priv_drain(pls[i]);
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
		free(owner);
	}
	return ret;
}
