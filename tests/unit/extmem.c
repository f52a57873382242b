// SPDX-License-Identifier: BSD-2-Clause
/*
 * NETMAP_REQ_OPT_EXTMEM: the program supplies the region. Both ends of a
 * pipe in one process run over it (malloc'd memory, a shared anonymous
 * mapping, and @extmem:file=... through nmport_open), carrying exact
 * payloads in buffers that lie inside that memory; the option comes back
 * with the pools info and a fresh mem id. The bad cases (NULL or misaligned
 * nro_usrptr, a size too small for the pools, read-only memory) fail with
 * the errno and a message naming the field, and another process cannot use
 * the region, neither as the other end of the pipe nor by its mem id.
 * Skips (77) when /dev/netmap cannot be opened at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libnetmap.h>
#include "core/unm.h"

static int passed, failed;
static char last_msg[2048], last_log[2048];

static void capture_error(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

static void capture_log(int level, const char *msg)
{
	(void)level;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (cond) {                                                   \
			passed++;                                             \
		} else {                                                      \
			failed++;                                             \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);           \
			printf(__VA_ARGS__);                                  \
			printf("\n");                                         \
		}                                                             \
	} while (0)

#define MEMSZ	(8u << 20)

static void fill(unsigned char *p, size_t len, unsigned int seq)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seq * 13 + i * 5 + 1);
}

/* one packet from d's RX rings into buf; its length, -1 if none */
static long receive(struct nmport_d *d, unsigned char *buf, size_t cap,
		    const char *lo, const char *hi, int *outside)
{
	unsigned int ri;

	for (ri = d->first_rx_ring; ri <= d->last_rx_ring; ri++) {
		struct netmap_ring *ring = NETMAP_RXRING(d->nifp, ri);
		struct netmap_slot *slot;
		const char *p;

		if (nm_ring_empty(ring))
			continue;
		slot = &ring->slot[ring->head];
		p = NETMAP_BUF(ring, slot->buf_idx);
		if (p < lo || p + slot->len > hi)
			(*outside)++;
		if (slot->len > cap)
			return -1;
		memcpy(buf, p, slot->len);
		ring->head = ring->cur = nm_ring_next(ring, ring->head);
		return slot->len;
	}
	return -1;
}

/* a pipe pair in one process over mem, both directions, exact payloads */
static void pipe_over(struct nmport_d *a, struct nmport_d *b, const char *mem, size_t size,
		      const char *what)
{
	unsigned char out[2048], in[2048];
	unsigned int seq, ok = 0, outside_ring = 0;
	int outside = 0, dir;
	size_t sizes[] = { 60, 1, 1514, 2048, 333 };

	for (dir = 0; dir < 2; dir++) {
		struct nmport_d *tx = dir ? b : a, *rx = dir ? a : b;

		ok = 0;
		for (seq = 0; seq < 100; seq++) {
			size_t len = sizes[seq % 5];
			long got;

			fill(out, len, seq + dir * 1000);
			if (nmport_inject(tx, out, len) != (int)len)
				break;
			ioctl(tx->fd, NIOCTXSYNC, NULL);
			ioctl(rx->fd, NIOCRXSYNC, NULL);
			got = receive(rx, in, sizeof(in), mem, mem + size, &outside);
			if (got == (long)len && !memcmp(in, out, len))
				ok++;
		}
		CHECK(ok == 100, "%s: %s: %u of 100 packets arrived intact", what,
		      dir ? "slave -> master" : "master -> slave", ok);
	}
	CHECK(outside == 0, "%s: %d buffers outside the program's memory", what, outside);
	if ((const char *)a->nifp < mem || (const char *)a->nifp >= mem + size ||
	    (const char *)NETMAP_TXRING(a->nifp, 0) < mem ||
	    (const char *)NETMAP_TXRING(a->nifp, 0) >= mem + size)
		outside_ring++;
	CHECK(outside_ring == 0, "%s: netmap_if or rings outside the program's memory", what);
}

static struct nmport_d *open_ext(const char *name, void *mem, size_t size)
{
	struct nmport_d *d = nmport_prepare(name);

	if (d == NULL)
		return NULL;
	d->reg.nr_tx_slots = d->reg.nr_rx_slots = 256;
	if (nmport_extmem(d, mem, size) < 0 || nmport_open_desc(d) < 0) {
		nmport_close(d);
		return NULL;
	}
	return d;
}

static uint16_t ext_id;	/* the region of test_malloc, for the child */

static struct nmport_d *keep;	/* test_malloc's master, for the child */

static void test_malloc(const char *base, void **memp)
{
	char mname[64], sname[64];
	struct nmport_d *m, *s;
	struct nmreq_pools_info *pi;
	void *mem = NULL;

	snprintf(mname, sizeof(mname), "netmap:%sa{1", base);
	snprintf(sname, sizeof(sname), "netmap:%sa}1", base);
	CHECK(posix_memalign(&mem, 4096, MEMSZ) == 0, "posix_memalign");
	*memp = mem;
	memset(mem, 0xee, MEMSZ);
	m = open_ext(mname, mem, MEMSZ);
	CHECK(m != NULL, "%s over malloc'd memory: %s (errno %d)", mname, last_msg, errno);
	if (m == NULL)
		return;
	pi = nmport_extmem_getinfo(m);
	CHECK(pi != NULL && m->extmem->nro_opt.nro_status == 0, "extmem option status %u",
	      m->extmem ? m->extmem->nro_opt.nro_status : 999);
	CHECK(m->reg.nr_mem_id > 1 && pi && pi->nr_mem_id == m->reg.nr_mem_id,
	      "mem id %u (option says %u)", m->reg.nr_mem_id, pi ? pi->nr_mem_id : 0);
	CHECK(pi && pi->nr_memsize == MEMSZ && m->reg.nr_memsize == MEMSZ,
	      "memsize %" PRIu64 " / %" PRIu64, pi ? pi->nr_memsize : 0, m->reg.nr_memsize);
	CHECK(pi && pi->nr_if_pool_offset == 0 && pi->nr_if_pool_objtotal > 0 &&
	      pi->nr_ring_pool_offset >= (uint64_t)pi->nr_if_pool_objtotal * pi->nr_if_pool_objsize &&
	      pi->nr_buf_pool_offset >= pi->nr_ring_pool_offset +
		(uint64_t)pi->nr_ring_pool_objtotal * pi->nr_ring_pool_objsize &&
	      pi->nr_buf_pool_offset + (uint64_t)pi->nr_buf_pool_objtotal *
		pi->nr_buf_pool_objsize <= MEMSZ && pi->nr_buf_pool_objsize == 2048,
	      "pools: if @%" PRIu64 " %u x %u, ring @%" PRIu64 " %u x %u, buf @%" PRIu64 " %u x %u",
	      pi ? pi->nr_if_pool_offset : 0, pi ? pi->nr_if_pool_objtotal : 0,
	      pi ? pi->nr_if_pool_objsize : 0, pi ? pi->nr_ring_pool_offset : 0,
	      pi ? pi->nr_ring_pool_objtotal : 0, pi ? pi->nr_ring_pool_objsize : 0,
	      pi ? pi->nr_buf_pool_offset : 0, pi ? pi->nr_buf_pool_objtotal : 0,
	      pi ? pi->nr_buf_pool_objsize : 0);
	CHECK((char *)m->nifp == (char *)mem + m->reg.nr_offset, "nifp not at nro_usrptr + nr_offset");
	ext_id = m->reg.nr_mem_id;
	keep = m;	/* stays open: the child below tries to use its region */

	/* the other end names the same memory: same region */
	s = open_ext(sname, mem, MEMSZ);
	CHECK(s != NULL, "%s over the same memory: %s (errno %d)", sname, last_msg, errno);
	if (s != NULL) {
		CHECK(s->reg.nr_mem_id == m->reg.nr_mem_id, "ends in mem %u and %u",
		      m->reg.nr_mem_id, s->reg.nr_mem_id);
		pipe_over(m, s, mem, MEMSZ, "malloc");
		nmport_close(s);
	}
	/* and without the option: the pipe's region is found by the port */
	s = nmport_open(sname);
	CHECK(s != NULL && s->reg.nr_mem_id == m->reg.nr_mem_id,
	      "%s without extmem: %s (errno %d)", sname, last_msg, errno);
	if (s != NULL) {
		pipe_over(m, s, mem, MEMSZ, "malloc, slave without option");
		/* private memory cannot be mapped a second time */
		CHECK(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0) == MAP_FAILED,
		      "mmap of private extmem succeeded");
		nmport_close(s);
	}
}

static void test_other_process(const char *base)
{
	char sname[64], other[64];
	pid_t pid;
	int st = -1;

	snprintf(sname, sizeof(sname), "netmap:%sa}1", base);
	snprintf(other, sizeof(other), "netmap:%sq{1@%u", base, ext_id);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct nmport_d *d;
		int bad = 0;

		last_log[0] = '\0';
		d = nmport_open(sname);
		if (d != NULL || errno != EINVAL || !strstr(last_log, "extmem")) {
			printf("FAIL child: %s in another process: errno %d, log '%s'\n", sname,
			       errno, last_log);
			bad++;
		}
		last_log[0] = '\0';
		d = nmport_open(other);
		if (d != NULL || errno != EINVAL || !strstr(last_log, "extmem")) {
			printf("FAIL child: %s in another process: errno %d, log '%s'\n", other,
			       errno, last_log);
			bad++;
		}
		fflush(stdout);
		_exit(bad ? 1 : 0);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "another process used the extmem region (status %#x)", st);
}

static void test_shared(const char *base)
{
	char mname[64], sname[64];
	struct nmport_d *m, *s;
	char *mem, *alias;

	snprintf(mname, sizeof(mname), "netmap:%sb{3", base);
	snprintf(sname, sizeof(sname), "netmap:%sb}3", base);
	mem = mmap(NULL, MEMSZ, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED, "mmap");
	if (mem == MAP_FAILED)
		return;
	m = open_ext(mname, mem, MEMSZ);
	s = nmport_open(sname);
	CHECK(m != NULL && s != NULL, "pipe over shared memory: %s", last_msg);
	if (m && s) {
		pipe_over(m, s, mem, MEMSZ, "shared mapping");
		/* shared memory can be mapped again, as upstream's kernel does */
		alias = mmap(NULL, MEMSZ, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
		CHECK(alias != MAP_FAILED, "mmap of a shared extmem port: %s", strerror(errno));
		if (alias != MAP_FAILED) {
			mem[12345] = 0x5a;
			CHECK(alias[12345] == 0x5a, "the mapping is not the program's memory");
			munmap(alias, MEMSZ);
		}
	}
	nmport_close(s);
	nmport_close(m);
	/* the region went away with its last port: the memory is ours again */
	CHECK(munmap(mem, MEMSZ) == 0, "munmap");
}

static void test_file(const char *base)
{
	char path[] = "/tmp/unm-extmem-XXXXXX", mname[160], sname[160];
	struct nmport_d *m, *s;
	int fd;

	fd = mkstemp(path);
	CHECK(fd >= 0 && ftruncate(fd, MEMSZ) == 0, "temp file");
	if (fd < 0)
		return;
	close(fd);
	snprintf(mname, sizeof(mname), "netmap:%sc{2@conf:slots=256@extmem:file=%s,buf-num=2048",
		 base, path);
	snprintf(sname, sizeof(sname), "netmap:%sc}2@conf:slots=256@extmem:file=%s", base, path);
	m = nmport_open(mname);
	CHECK(m != NULL, "%s: %s", mname, last_msg);
	if (m) {
		struct nmreq_pools_info *pi = nmport_extmem_getinfo(m);

		CHECK(pi && pi->nr_buf_pool_objtotal == 2048 && pi->nr_mem_id == m->reg.nr_mem_id,
		      "@extmem buf-num=2048 gave %u buffers", pi ? pi->nr_buf_pool_objtotal : 0);
		/* a second open of the file is a second mapping: another region */
		s = nmport_open(sname);
		CHECK(s == NULL && errno == EINVAL && strstr(last_log, "not in the extmem region"),
		      "%s over another mapping of the file: errno %d, log '%s'", sname, errno,
		      last_log);
		nmport_close(s);
		snprintf(sname, sizeof(sname), "netmap:%sc}2", base);
		s = nmport_open(sname);
		CHECK(s != NULL, "%s: %s", sname, last_msg);
		if (s)
			pipe_over(m, s, (char *)m->mem->mem, m->mem->size, "@extmem file");
		nmport_close(s);
	}
	nmport_close(m);
	unlink(path);
}

/* Raw NIOCCTRL with an extmem option: errno, option status, log. */
static int raw_reg(const char *name, uint64_t ptr, uint64_t size, uint32_t bufs,
		   struct nmreq_opt_extmem *e)
{
	struct nmreq_header h;
	struct nmreq_register r;
	int fd, ret, err;

	memset(&h, 0, sizeof(h));
	memset(&r, 0, sizeof(r));
	memset(e, 0, sizeof(*e));
	h.nr_version = NETMAP_API;
	h.nr_reqtype = NETMAP_REQ_REGISTER;
	snprintf(h.nr_name, sizeof(h.nr_name), "%s", name);
	h.nr_body = (uintptr_t)&r;
	h.nr_options = (uintptr_t)e;
	r.nr_mode = NR_REG_ALL_NIC;
	r.nr_tx_slots = r.nr_rx_slots = 64;
	e->nro_opt.nro_reqtype = NETMAP_REQ_OPT_EXTMEM;
	e->nro_usrptr = ptr;
	e->nro_info.nr_memsize = size;
	e->nro_info.nr_buf_pool_objtotal = bufs;
	fd = open("/dev/netmap", O_RDWR);
	if (fd < 0)
		return -1;
	last_log[0] = '\0';
	ret = ioctl(fd, NIOCCTRL, &h);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

static void test_bad(const char *base)
{
	struct nmreq_opt_extmem e;
	char name[64];
	void *mem = NULL;
	char *ro;
	int ret;

	snprintf(name, sizeof(name), "%sd{1", base);
	CHECK(posix_memalign(&mem, 4096, MEMSZ) == 0, "posix_memalign");

	ret = raw_reg(name, 0, MEMSZ, 0, &e);
	CHECK(ret < 0 && errno == EINVAL && e.nro_opt.nro_status == EINVAL &&
	      strstr(last_log, "nro_usrptr"),
	      "NULL usrptr: ret %d errno %d status %u log '%s'", ret, errno,
	      e.nro_opt.nro_status, last_log);
	ret = raw_reg(name, (uintptr_t)mem + 8, MEMSZ - 8, 0, &e);
	CHECK(ret < 0 && errno == EINVAL && e.nro_opt.nro_status == EINVAL &&
	      strstr(last_log, "nro_usrptr") && strstr(last_log, "aligned"),
	      "misaligned usrptr: ret %d errno %d status %u log '%s'", ret, errno,
	      e.nro_opt.nro_status, last_log);
	ret = raw_reg(name, (uintptr_t)mem, 0, 0, &e);
	CHECK(ret < 0 && errno == EINVAL && strstr(last_log, "nr_memsize"),
	      "zero memsize: ret %d errno %d log '%s'", ret, errno, last_log);
	ret = raw_reg(name, (uintptr_t)mem, MEMSZ, 100000, &e);
	CHECK(ret < 0 && errno == EINVAL && e.nro_opt.nro_status == EINVAL &&
	      strstr(last_log, "nr_memsize") && strstr(last_log, "too small"),
	      "100000 buffers in 8 MB: ret %d errno %d status %u log '%s'", ret, errno,
	      e.nro_opt.nro_status, last_log);
	ret = raw_reg(name, (uintptr_t)mem, 64 * 1024, 0, &e);
	CHECK(ret < 0 && errno == EINVAL && strstr(last_log, "nr_memsize"),
	      "64 KB for default pools: ret %d errno %d log '%s'", ret, errno, last_log);
	/* enough region, too few buffers for the rings: ENOMEM from the pool */
	ret = raw_reg(name, (uintptr_t)mem, MEMSZ, 100, &e);
	CHECK(ret < 0 && errno == ENOMEM, "100 buffers for 4 rings of 64: ret %d errno %d",
	      ret, errno);
	ro = mmap(NULL, 1 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro != MAP_FAILED) {
		ret = raw_reg(name, (uintptr_t)ro, 1 << 20, 0, &e);
		CHECK(ret < 0 && errno == EFAULT && strstr(last_log, "not writable"),
		      "read-only memory: ret %d errno %d log '%s'", ret, errno, last_log);
		munmap(ro, 1 << 20);
	}
	/* and a good one still works after all that */
	ret = raw_reg(name, (uintptr_t)mem, MEMSZ, 0, &e);
	CHECK(ret == 0 && e.nro_opt.nro_status == 0 && e.nro_info.nr_mem_id > 1 &&
	      e.nro_info.nr_buf_pool_objtotal > 1000,
	      "good raw register: ret %d errno %d status %u mem %u bufs %u log '%s'", ret, errno,
	      e.nro_opt.nro_status, e.nro_info.nr_mem_id, e.nro_info.nr_buf_pool_objtotal,
	      last_log);
	free(mem);
}

int main(void)
{
	struct nmctx ctx = *nmctx_get();
	char base[32];
	void *mem = NULL;
	int fd;

	fd = open("/dev/netmap", O_RDWR);
	if (fd < 0) {
		/* the library serves /dev/netmap itself: this is a failure */
		printf("FAIL: cannot open /dev/netmap: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	unm_log_set(capture_log);
	ctx.error = capture_error;
	ctx.mem_descs = NULL;
	nmctx_set_default(&ctx);
	snprintf(base, sizeof(base), "ext%d", (int)getpid());

	test_malloc(base, &mem);
	test_other_process(base);
	test_shared(base);
	test_file(base);
	test_bad(base);
	nmport_close(keep);
	free(mem);

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
