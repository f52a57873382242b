// SPDX-License-Identifier: BSD-2-Clause
/*
 * kernel.c - the shared "kernel object" (/unetmap.kernel): creation with a
 * careful create/init race, attaching a process to it, the robust control
 * mutex, and the process table (pid + start time, so a recycled pid is not
 * mistaken for a live netmap user).
 *
 * Creation: O_CREAT|O_EXCL wins the right to initialise; it truncates, builds
 * the mutex and publishes `magic` with a release store. Others open the
 * existing object and wait (bounded) for the magic. An object being torn down
 * is marked `dead` under the lock before shm_unlink(); an attacher that finds
 * `dead` set drops its mapping and starts over.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/unm.h"

struct unm_kernel *unm_k;
pid_t unm_pid;
static pid_t attached_pid;		/* process that mapped unm_k */
static int self_slot = -1;
static pthread_mutex_t attach_mtx = PTHREAD_MUTEX_INITIALIZER;
static bool atfork_done;
static char shm_prefix[32], kernel_name[48];

/* read once, before any fork: the reaper uses the cached strings */
static void shm_names_init(void)
{
	const char *env = getenv("UNM_SHM_PREFIX");
	size_t i;

	if (shm_prefix[0])
		return;
	if (env && *env && strlen(env) < sizeof(shm_prefix) - 1 &&
	    strspn(env, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	    strlen(env)) {
		for (i = 0; env[i]; i++)
			shm_prefix[i] = env[i];
	} else {
		if (env && *env)
			unm_log(UNM_LOG_ERR, "UNM_SHM_PREFIX '%s': want up to 30 of [A-Za-z0-9._-]; using %s",
				env, UNM_SHM_PREFIX_DEFAULT);
		strcpy(shm_prefix, UNM_SHM_PREFIX_DEFAULT);
	}
	snprintf(kernel_name, sizeof(kernel_name), "/%s.kernel", shm_prefix);
}

const char *unm_shm_prefix(void)
{
	shm_names_init();
	return shm_prefix;
}

const char *unm_kernel_shm_name(void)
{
	shm_names_init();
	return kernel_name;
}

/*
 * Async-signal-safe reader of /proc/<pid>/stat: start time (field 22) and
 * whether the process is a zombie. Used by the reaper, so no stdio/malloc.
 * Returns 0, or -ESRCH if there is no such process.
 */
int unm_proc_start_time(pid_t pid, uint64_t *start, bool *zombie)
{
	char path[32] = "/proc/", buf[512], *p;
	char digits[12];
	int i = 0, n, fd, field;
	uint64_t v = 0;

	do {
		digits[i++] = '0' + pid % 10;
		pid /= 10;
	} while (pid && i < (int)sizeof(digits));
	n = 6;
	while (i)
		path[n++] = digits[--i];
	memcpy(path + n, "/stat", 6);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -ESRCH;
	p += 2;			/* field 3: state */
	*zombie = (*p == 'Z' || *p == 'X' || *p == 'x');
	for (field = 3; field < 22 && *p; p++)
		if (*p == ' ')
			field++;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (*p++ - '0');
	*start = v;
	return 0;
}

/* ---- liveness of a netmap fd: an OFD lock on its description ------------ */

/*
 * Every anonymous-inode file (epoll, eventfd, ...) shares one inode, so the
 * byte range must be ours alone: bit 62, 20 bits of the world's prefix, the
 * priv slot and its generation. Raw syscalls: the reaper calls these too.
 */
static uint64_t lock_world(void)
{
	const char *p = unm_shm_prefix();
	uint32_t h = 2166136261u;

	while (*p)
		h = (h ^ (uint8_t)*p++) * 16777619u;
	return h & 0xfffff;
}

static uint64_t lock_ofs(uint32_t slot, uint16_t gen)
{
	return (1ULL << 62) | (lock_world() << 32) | ((uint64_t)slot << 16) | gen;
}

int unm_priv_lock_take(int epfd, uint32_t slot, uint16_t gen)
{
	struct flock fl = {
		.l_type = F_RDLCK, .l_whence = SEEK_SET,
		.l_start = (off_t)lock_ofs(slot, gen), .l_len = 1,
	};

	if (syscall(SYS_fcntl, epfd, F_OFD_SETLK, &fl) < 0)
		return -errno;
	return 0;
}

bool unm_priv_file_alive(uint32_t slot, uint16_t gen)
{
	struct flock fl = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET,
		.l_start = (off_t)lock_ofs(slot, gen), .l_len = 1,
	};
	int probe = eventfd(0, EFD_CLOEXEC), ret;

	if (probe < 0)
		return false;
	ret = syscall(SYS_fcntl, probe, F_OFD_GETLK, &fl);
	syscall(SYS_close, probe);
	return ret == 0 && fl.l_type != F_UNLCK;
}

int unm_priv_lock_decode(uint64_t start, uint32_t *slot, uint16_t *gen)
{
	if (!(start & (1ULL << 62)) || (start >> 63) ||
	    ((start >> 32) & 0x3fffffff) != lock_world())
		return 0;
	*slot = (start >> 16) & 0xffff;
	*gen = start & 0xffff;
	return *slot < UNM_MAX_PRIVS;
}

static void atfork_child(void)
{
	unm_kernel_after_fork_child();
}

static int kernel_init_new(int fd)
{
	pthread_mutexattr_t ma;
	struct unm_kernel *k;

	if (ftruncate(fd, sizeof(*k)) < 0)
		return -errno;
	k = mmap(NULL, sizeof(*k), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (k == MAP_FAILED)
		return -errno;
	k->size = sizeof(*k);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&k->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	k->next_gen = 1;
	/* Synchronizes with the acquire load in kernel_open_existing(). */
	__atomic_store_n(&k->magic, UNM_KERNEL_MAGIC, __ATOMIC_RELEASE);
	unm_k = k;
	return 0;
}

static int kernel_open_existing(void)
{
	struct unm_kernel *k;
	struct stat st;
	int fd, i, err;

	fd = shm_open(UNM_KERNEL_SHM, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* the creator may still be between shm_open and ftruncate */
	for (i = 0; i < 2000; i++) {
		if (fstat(fd, &st) < 0) {
			err = -errno;
			close(fd);
			return err;
		}
		if ((size_t)st.st_size >= sizeof(*k))
			break;
		usleep(1000);
	}
	if ((size_t)st.st_size != sizeof(*k)) {
		close(fd);
		if (st.st_size == 0) {
			/* creator died before initialising: take over */
			shm_unlink(UNM_KERNEL_SHM);
			return -EAGAIN;
		}
		unm_log(UNM_LOG_ERR, "%s: size %lld, this library expects %zu (another unetmap version?)",
			UNM_KERNEL_SHM, (long long)st.st_size, sizeof(*k));
		return -EPROTO;
	}
	k = mmap(NULL, sizeof(*k), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = -errno;
	close(fd);
	if (k == MAP_FAILED)
		return err;
	for (i = 0; i < 2000; i++) {
		if (__atomic_load_n(&k->magic, __ATOMIC_ACQUIRE) == UNM_KERNEL_MAGIC)
			break;
		usleep(1000);
	}
	if (k->magic != UNM_KERNEL_MAGIC) {
		munmap(k, sizeof(*k));
		shm_unlink(UNM_KERNEL_SHM);
		return -EAGAIN;
	}
	unm_k = k;
	return 0;
}

int unm_lock(void)
{
	int err = pthread_mutex_lock(&unm_k->lock);

	if (err == EOWNERDEAD) {
		/*
		 * A process died inside the control path. Tables are only
		 * modified with single stores in an order that leaves them
		 * usable; the GC below drops what the dead process held.
		 */
		pthread_mutex_consistent(&unm_k->lock);
		unm_log(UNM_LOG_WARN, "%s: lock holder died, recovering", UNM_KERNEL_SHM);
		unm_gc_locked();
		err = 0;
	}
	return -err;
}

void unm_unlock(void)
{
	pthread_mutex_unlock(&unm_k->lock);
}

/* Our slot in the process table, created if needed. Locked. */
static int proc_register_locked(pid_t pid)
{
	int i, free_slot = -1;
	uint64_t start = 0;
	bool z;

	for (i = 0; i < UNM_MAX_PROCS; i++) {
		if (unm_k->procs[i].pid == pid)
			return i;
		if (!unm_k->procs[i].pid && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) {
		unm_log(UNM_LOG_ERR, "%s: process table full (%d processes)",
			UNM_KERNEL_SHM, UNM_MAX_PROCS);
		return -ENOMEM;
	}
	unm_proc_start_time(pid, &start, &z);
	memset(&unm_k->procs[free_slot], 0, sizeof(unm_k->procs[free_slot]));
	unm_k->procs[free_slot].start = start;
	unm_k->procs[free_slot].pid = pid;
	return free_slot;
}

int unm_proc_self(void)
{
	return self_slot;
}

int unm_kernel_attach(void)
{
	pid_t pid = getpid();
	int fd, err = 0, tries, slot;

	if (likely(unm_k && attached_pid == pid && !unm_k->dead))
		return 0;
	pthread_mutex_lock(&attach_mtx);
	if (unm_k && attached_pid == pid && !unm_k->dead)
		goto out;
	shm_names_init();
	if (!atfork_done) {
		pthread_atfork(NULL, NULL, atfork_child);
		atfork_done = true;
	}
	if (unm_k) {		/* a torn-down object from before */
		munmap(unm_k, sizeof(*unm_k));
		unm_k = NULL;
	}
	for (tries = 0; tries < 50; tries++) {
		fd = shm_open(UNM_KERNEL_SHM, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			err = kernel_init_new(fd);
			close(fd);
			if (err) {
				shm_unlink(UNM_KERNEL_SHM);
				break;
			}
		} else if (errno == EEXIST) {
			err = kernel_open_existing();
			if (err == -ENOENT || err == -EAGAIN)
				continue;
			if (err)
				break;
		} else {
			err = -errno;
			unm_log(UNM_LOG_ERR, "%s: shm_open: %s", UNM_KERNEL_SHM, strerror(errno));
			break;
		}
		err = unm_lock();
		if (err)
			break;
		if (unm_k->dead) {
			unm_unlock();
			munmap(unm_k, sizeof(*unm_k));
			unm_k = NULL;
			usleep(1000);
			continue;
		}
		slot = proc_register_locked(pid);
		unm_unlock();
		if (slot < 0) {
			err = slot;
			break;
		}
		self_slot = slot;
		attached_pid = pid;
		unm_pid = pid;
		err = unm_reaper_start();
		if (err)
			unm_log(UNM_LOG_WARN, "reaper: %s (state of a killed process will linger)",
				strerror(-err));
		err = 0;
		goto out;
	}
	if (!err)
		err = -EAGAIN;
	if (unm_k) {
		munmap(unm_k, sizeof(*unm_k));
		unm_k = NULL;
	}
out:
	pthread_mutex_unlock(&attach_mtx);
	return err;
}

/*
 * fork(): the child inherits our mappings and our netmap fds. It joins the
 * process table holding what the parent held, so that the parent's close()
 * does not free state the child still uses. The parent's reaper pipe is
 * inherited as well, so that reaper waits for the child too.
 */
void unm_kernel_after_fork_child(void)
{
	int parent = self_slot, slot;
	pid_t pid = getpid();

	if (!unm_reaper_forking)
		unm_pid = pid;
	if (unm_reaper_forking || !unm_k || unm_k->dead || parent < 0)
		return;
	if (unm_lock())
		return;
	slot = proc_register_locked(pid);
	if (slot >= 0) {
		memcpy(unm_k->procs[slot].holds, unm_k->procs[parent].holds,
		       sizeof(unm_k->procs[slot].holds));
		self_slot = slot;
		attached_pid = pid;
		unm_pid = pid;
	}
	unm_unlock();
	/* our own reaper: the parent's waits for the parent's death only */
	if (slot >= 0 && unm_reaper_start())
		unm_log(UNM_LOG_WARN, "reaper: cannot start one for pid %d", pid);
}
