// SPDX-License-Identifier: BSD-2-Clause
/*
 * reaper.c - cleaning up after processes that cannot clean up themselves.
 *
 * There is no kernel to close a killed process's files, so at its first
 * attach every process starts a reaper: a grandchild (double fork, so it
 * never shows up in the program's wait()) that holds the read end of a pipe
 * whose write end only the program (and its forked children) hold. When all
 * of them are gone, read() returns 0 and the reaper runs the garbage
 * collector: the state of dead processes is released, regions nobody uses are
 * unlinked, and the kernel object too when no process remains.
 *
 * The reaper is a fork of a possibly multi-threaded program: from the fork on
 * it uses async-signal-safe calls only (no malloc, no stdio).
 *
 * The same collector runs on every control-path entry (open, register,
 * close), so that state of a killed process is reclaimed even if its reaper
 * was killed too.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/unm.h"

static int reaper_wfd = -1;
bool unm_reaper_forking;
static pid_t reaper_owner;

static bool proc_dead(const struct unm_proc *p)
{
	uint64_t start;
	bool zombie;

	if (unm_proc_start_time(p->pid, &start, &zombie) < 0)
		return true;
	return zombie || (p->start && start != p->start);
}

static bool priv_held_by_other(uint32_t slot, int except)
{
	int i;

	for (i = 0; i < UNM_MAX_PROCS; i++) {
		if (i == except || !unm_k->procs[i].pid)
			continue;
		if (unm_k->procs[i].holds[slot / 64] & (1ULL << (slot % 64)))
			return true;
	}
	return false;
}

/*
 * A priv goes when no process holds it and its netmap fd exists nowhere: not
 * in a process that has not adopted it yet, not in flight in an SCM_RIGHTS
 * message (the kernel keeps the description, and its OFD lock, alive).
 */
bool unm_priv_orphan_locked(uint32_t slot, int except)
{
	if (priv_held_by_other(slot, except))
		return false;
	return !unm_priv_file_alive(slot, unm_k->privs[slot].gen);
}

void unm_priv_owner_move_locked(uint32_t slot, int32_t leaving)
{
	struct unm_kpriv *kp = &unm_k->privs[slot];
	int32_t evfd = kp->evfd;
	unsigned i, s;

	for (s = 0; s < UNM_PRIV_SHARE; s++)
		if (kp->share[s].pid == leaving)
			kp->share[s].pid = 0;
	if (kp->owner_pid != leaving)
		return;
	for (i = 0; i < UNM_MAX_PROCS; i++) {
		struct unm_proc *p = &unm_k->procs[i];

		if (!p->pid || p->pid == leaving ||
		    !(p->holds[slot / 64] & (1ULL << (slot % 64))))
			continue;
		/* a forked child has the owner's numbers; an adopter its own */
		for (s = 0; s < UNM_PRIV_SHARE; s++)
			if (kp->share[s].pid == p->pid)
				evfd = kp->share[s].evfd;
		kp->evfd = evfd;
		__atomic_store_n(&kp->owner_pid, p->pid, __ATOMIC_RELAXED);
		return;
	}
	/* nobody to wake until a process adopts the fd */
	__atomic_store_n(&kp->owner_pid, 0, __ATOMIC_RELAXED);
}

static void proc_drop_locked(int i)
{
	struct unm_proc *p = &unm_k->procs[i];
	uint32_t w, b;

	for (w = 0; w < ARRAY_SIZE(p->holds); w++) {
		while (p->holds[w]) {
			b = __builtin_ctzll(p->holds[w]);
			p->holds[w] &= ~(1ULL << b);
			if (unm_priv_orphan_locked(w * 64 + b, i))
				unm_priv_release_locked(w * 64 + b);
			else
				unm_priv_owner_move_locked(w * 64 + b, p->pid);
		}
	}
	memset(p, 0, sizeof(*p));
}

static void kring_unbusy_dead(void)
{
	struct unm_kring *kr;
	uint64_t start;
	bool zombie;
	int32_t pid;
	int i;

	for (i = 0; i < UNM_MAX_KRINGS; i++) {
		kr = &unm_k->krings[i];
		if (!kr->used)
			continue;
		pid = __atomic_load_n(&kr->busy_pid, __ATOMIC_RELAXED);
		if (!pid || pid == getpid())
			continue;
		if (unm_proc_start_time(pid, &start, &zombie) < 0 || zombie)
			__atomic_compare_exchange_n(&kr->busy_pid, &pid, 0, false,
						    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
}

void unm_gc_locked(void)
{
	bool any = false;
	unsigned i;

	for (i = 0; i < UNM_MAX_PROCS; i++) {
		struct unm_proc *p = &unm_k->procs[i];

		if (!p->pid)
			continue;
		if (p->pid != getpid() && proc_dead(p))
			proc_drop_locked(i);
		else
			any = true;
	}
	kring_unbusy_dead();
	/* privs that no process holds and whose fd is gone */
	for (i = 0; i < UNM_MAX_PRIVS; i++) {
		if (unm_k->privs[i].state == UNM_PRIV_FREE)
			continue;
		if (unm_priv_orphan_locked(i, -1))
			unm_priv_release_locked(i);
		else
			any = true;	/* an fd in flight keeps the world */
	}
	/* and so do persistent VALE ports (VALE_NEWIF), until VALE_DELIF */
	for (i = 0; i < UNM_MAX_PORTS && !any; i++)
		if (unm_k->ports[i].kind && unm_k->ports[i].persist)
			any = true;
	if (any)
		return;
	/* nobody left: tear everything down */
	for (i = 0; i < UNM_MAX_MEMS; i++) {
		char name[48];

		if (!unm_k->mems[i].id)
			continue;
		unm_mem_name(name, sizeof(name), unm_k->mems[i].id);
		shm_unlink(name);
		unm_k->mems[i].id = 0;
	}
	unm_k->dead = 1;
	shm_unlink(UNM_KERNEL_SHM);
}

/*
 * The write end closes in the middle of the owner's exit, before it is a
 * zombie: wait (bounded) until /proc says it is gone, or the collector would
 * still count it as alive.
 */
static void wait_dead(pid_t pid)
{
	struct timespec ms = { 0, 1000000 };
	uint64_t start;
	bool zombie;
	int i;

	for (i = 0; i < 10000; i++) {
		if (unm_proc_start_time(pid, &start, &zombie) < 0 || zombie)
			return;
		nanosleep(&ms, NULL);
	}
}

static void reaper_main(int rfd, pid_t owner)
{
	struct sigaction sa;
	char c;
	int fd, n;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	setsid();
	if (chdir("/") < 0)
		_exit(1);
	/* keep only the pipe: no terminal, no sockets, no program files */
	if (rfd != 3) {
		if (dup2(rfd, 3) < 0)
			_exit(1);
		rfd = 3;
	}
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (syscall(SYS_close_range, 4U, ~0U, 0) < 0) {
		for (fd = 4; fd < 65536; fd++)
			close(fd);
	}
	do {
		n = read(rfd, &c, 1);
	} while (n > 0 || (n < 0 && errno == EINTR));
	/* every holder of the write end is gone */
	wait_dead(owner);
	if (unm_k && !unm_k->dead && unm_lock() == 0) {
		if (!unm_k->dead)
			unm_gc_locked();
		unm_unlock();
	}
	_exit(0);
}

int unm_reaper_start(void)
{
	int p[2], err, status;
	pid_t child, owner = getpid();

	if (reaper_wfd >= 0 && reaper_owner == getpid())
		return 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	unm_reaper_forking = true;
	child = fork();
	if (child != 0)
		unm_reaper_forking = false;
	if (child < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (child == 0) {
		close(p[1]);
		if (fork() == 0)
			reaper_main(p[0], owner);
		_exit(0);
	}
	close(p[0]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	reaper_wfd = p[1];
	reaper_owner = getpid();
	return 0;
}
