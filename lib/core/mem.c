// SPDX-License-Identifier: BSD-2-Clause
/*
 * mem.c - memory regions ("allocators", nr_mem_id), laid out as netmap lays
 * them out, each backed by one shm object /unetmap.mem.<id> (mode 0600):
 *
 *   0            if_ofs: netmap_if pool    (if_num  x if_size)
 *   ring_ofs     ring pool                  (ring_num x ring_size)
 *   buf_ofs      buffer pool                (buf_num x buf_size)
 *   memsize
 *
 * Buffers 0 and 1 are reserved, as in netmap. The bookkeeping (free bitmaps)
 * is in the kernel object, not in the region, so a program scribbling on its
 * mapping cannot corrupt the allocator. tmpfs is sparse: the default region is
 * ~340 MB of address space but only the pages touched cost memory.
 *
 * An extmem region (NETMAP_REQ_OPT_EXTMEM) has the same layout, packed into
 * memory the program supplied: no shm object, so it lives in the registering
 * process's address space only. Its bookkeeping is shared like any other
 * region's (other processes may release what a dead owner left), but only
 * the owner maps it: unm_mem_map() refuses everyone else, and callers that
 * merely release state cope with a NULL mapping.
 *
 * All functions named _locked run under the control mutex.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/unm.h"

/* the ring header's (c) fields are const for the program, not for us */
#define RW(type, field)	(*(type *)(uintptr_t)&(field))

static struct unm_mem_local mem_locals[2 * UNM_MAX_MEMS];

void unm_mem_name(char *buf, size_t len, uint16_t id)
{
	snprintf(buf, len, "/%s.mem.%u", unm_shm_prefix(), id);
}

void unm_pools_default(struct unm_pools *p)
{
	p->if_num = 100;
	p->if_size = 1024;
	p->ring_num = 200;
	p->ring_size = 36864;
	p->buf_num = 163840;
	p->buf_size = 2048;
}

/* Fill zero fields with defaults and check bounds. */
int unm_pools_check(struct unm_pools *p)
{
	struct unm_pools d;

	unm_pools_default(&d);
	if (!p->if_num)
		p->if_num = d.if_num;
	if (!p->if_size)
		p->if_size = d.if_size;
	if (!p->ring_num)
		p->ring_num = d.ring_num;
	if (!p->ring_size)
		p->ring_size = d.ring_size;
	if (!p->buf_num)
		p->buf_num = d.buf_num;
	if (!p->buf_size)
		p->buf_size = d.buf_size;
	if (p->if_num > UNM_MAX_IFOBJS || p->if_size < 256 || p->if_size > 65536 ||
	    p->if_size % 64) {
		unm_log(UNM_LOG_ERR, "pools: if pool %u x %u: need <= %u objects of 256..65536 bytes, multiple of 64",
			p->if_num, p->if_size, UNM_MAX_IFOBJS);
		return -EINVAL;
	}
	if (p->ring_num > UNM_MAX_RINGOBJS || p->ring_size < 4096 ||
	    p->ring_size > (1u << 20) || p->ring_size % 64) {
		unm_log(UNM_LOG_ERR, "pools: ring pool %u x %u: need <= %u objects of 4096..1M bytes, multiple of 64",
			p->ring_num, p->ring_size, UNM_MAX_RINGOBJS);
		return -EINVAL;
	}
	if (p->buf_num < 4 || p->buf_num > UNM_MAX_BUFS || p->buf_size < 64 ||
	    p->buf_size > 65536 || p->buf_size % 64) {
		unm_log(UNM_LOG_ERR, "pools: buffer pool %u x %u: need 4..%u buffers of 64..65536 bytes, multiple of 64",
			p->buf_num, p->buf_size, UNM_MAX_BUFS);
		return -EINVAL;
	}
	return 0;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

void unm_mem_layout(struct unm_memreg *m)
{
	m->if_ofs = 0;
	m->ring_ofs = align_up((uint64_t)m->p.if_num * m->p.if_size, 4096);
	m->buf_ofs = align_up(m->ring_ofs + (uint64_t)m->p.ring_num * m->p.ring_size, 4096);
	m->memsize = m->buf_ofs + (uint64_t)m->p.buf_num * m->p.buf_size;
}

static bool bit_test(const uint64_t *map, uint32_t i)
{
	return map[i / 64] & (1ULL << (i % 64));
}

static void bit_set(uint64_t *map, uint32_t i)
{
	map[i / 64] |= 1ULL << (i % 64);
}

static void bit_clear(uint64_t *map, uint32_t i)
{
	map[i / 64] &= ~(1ULL << (i % 64));
}

/* n contiguous free objects out of total, first fit from *hint. */
int unm_mem_obj_alloc(uint64_t *map, uint32_t total, uint32_t n, uint32_t *hint,
		      uint32_t *first)
{
	uint32_t start, i, run = 0, pass;

	if (!n || n > total)
		return -ENOMEM;
	start = *hint < total ? *hint : 0;
	for (pass = 0; pass < 2; pass++) {
		uint32_t from = pass ? 0 : start, to = pass ? start + n : total;

		if (to > total)
			to = total;
		run = 0;
		for (i = from; i < to; i++) {
			if (!(i % 64) && map[i / 64] == ~0ULL && i + 64 <= to) {
				run = 0;
				i += 63;
				continue;
			}
			if (bit_test(map, i)) {
				run = 0;
				continue;
			}
			if (++run == n) {
				uint32_t f = i + 1 - n, j;

				for (j = f; j <= i; j++)
					bit_set(map, j);
				*first = f;
				*hint = i + 1;
				return 0;
			}
		}
	}
	return -ENOMEM;
}

void unm_mem_obj_free(uint64_t *map, uint32_t first, uint32_t n)
{
	uint32_t i;

	for (i = first; i < first + n; i++)
		bit_clear(map, i);
}

int unm_mem_buf_alloc_locked(struct unm_memreg *m, uint32_t *idx)
{
	int err;

	err = unm_mem_obj_alloc(m->buf_map, m->p.buf_num, 1, &m->buf_hint, idx);
	if (err)
		return err;
	m->buf_free--;
	return 0;
}

void unm_mem_buf_free_locked(struct unm_memreg *m, uint32_t idx)
{
	/* never trust an index that went through user memory */
	if (idx < 2 || idx >= m->p.buf_num || !bit_test(m->buf_map, idx))
		return;
	bit_clear(m->buf_map, idx);
	m->buf_free++;
}

static int mem_create_locked(int slot, uint16_t id, const struct unm_pools *p)
{
	struct unm_memreg *m = &unm_k->mems[slot];
	char name[48];
	int fd, err, tries;
	uint16_t gen = m->gen;

	memset(m, 0, sizeof(*m));
	m->gen = gen + 1;
	m->p = *p;
	unm_mem_layout(m);
	unm_mem_name(name, sizeof(name), id);
	for (tries = 0; tries < 2; tries++) {
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
		/* left over by a world that died without its reaper */
		shm_unlink(name);
	}
	if (fd < 0) {
		err = -errno;
		unm_log(UNM_LOG_ERR, "%s: shm_open: %s", name, strerror(errno));
		return err;
	}
	if (ftruncate(fd, m->memsize) < 0) {
		err = -errno;
		unm_log(UNM_LOG_ERR, "%s: ftruncate to %llu bytes: %s", name,
			(unsigned long long)m->memsize, strerror(errno));
		close(fd);
		shm_unlink(name);
		return err;
	}
	close(fd);
	bit_set(m->buf_map, 0);
	bit_set(m->buf_map, 1);
	m->buf_free = p->buf_num - 2;
	m->buf_hint = 2;
	m->id = id;
	return 0;
}

/*
 * The region for mem id `id` (0 = the default, 1), created if absent. A
 * pools request (want != NULL) must match an existing region's layout.
 * Locked. The caller takes a user reference (m->users++).
 */
int unm_mem_find_or_create(uint16_t id, const struct unm_pools *want, int *slotp)
{
	struct unm_pools p;
	int i, free_slot = -1, err;

	if (!id)
		id = 1;
	if (want) {
		p = *want;
		err = unm_pools_check(&p);
		if (err)
			return err;
	} else {
		unm_pools_default(&p);
	}
	for (i = 0; i < UNM_MAX_MEMS; i++) {
		if (unm_k->mems[i].id == id) {
			if (want && memcmp(&unm_k->mems[i].p, &p, sizeof(p))) {
				unm_log(UNM_LOG_ERR, "mem %u: in use with another layout (bufs %u x %u, rings %u x %u)",
					id, unm_k->mems[i].p.buf_num, unm_k->mems[i].p.buf_size,
					unm_k->mems[i].p.ring_num, unm_k->mems[i].p.ring_size);
				return -EBUSY;
			}
			err = unm_mem_access_check(i, "register");
			if (err)
				return err;
			*slotp = i;
			return 0;
		}
		if (!unm_k->mems[i].id && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) {
		unm_log(UNM_LOG_ERR, "mem %u: too many memory regions (max %d)", id, UNM_MAX_MEMS);
		return -ENOMEM;
	}
	err = mem_create_locked(free_slot, id, &p);
	if (err)
		return err;
	*slotp = free_slot;
	return 0;
}

void unm_mem_put_locked(int slot)
{
	struct unm_memreg *m = &unm_k->mems[slot];
	char name[48];

	if (!m->id || !m->users || --m->users)
		return;
	if (!m->ext_addr) {
		unm_mem_name(name, sizeof(name), m->id);
		shm_unlink(name);
	}
	m->id = 0;
}

void unm_mem_drop_unused_locked(int slot)
{
	struct unm_memreg *m = &unm_k->mems[slot];
	char name[48];

	if (!m->id || m->users)
		return;
	if (!m->ext_addr) {
		unm_mem_name(name, sizeof(name), m->id);
		shm_unlink(name);
	}
	m->id = 0;
}

static bool ext_is_mine(const struct unm_memreg *m)
{
	return m->ext_pid == unm_pid;
}

int unm_mem_access_check(int mslot, const char *who)
{
	struct unm_memreg *m = &unm_k->mems[mslot];

	if (!m->ext_addr || ext_is_mine(m))
		return 0;
	unm_log(UNM_LOG_ERR, "%s: mem %u is an extmem region in the memory of pid %d; it cannot be shared with pid %d",
		who, m->id, m->ext_pid, unm_pid);
	return -EINVAL;
}

/*
 * Geometry of an extmem region: zero fields take small defaults, the buffer
 * count (when zero) whatever the memory has left. Logs and returns -EINVAL
 * naming the field at fault.
 */
static int ext_pools(uint64_t memsize, const struct nmreq_pools_info *pi,
		     struct unm_memreg *m)
{
	struct unm_pools *p = &m->p;
	uint64_t left;

	p->if_num = pi->nr_if_pool_objtotal ?: 16;
	p->if_size = pi->nr_if_pool_objsize ?: 1024;
	p->ring_num = pi->nr_ring_pool_objtotal ?: 32;
	p->ring_size = pi->nr_ring_pool_objsize ?: 36864;
	p->buf_size = pi->nr_buf_pool_objsize ?: 2048;
	p->buf_num = pi->nr_buf_pool_objtotal;
	if (!p->buf_num) {
		p->buf_num = 4;		/* layout of everything but the buffers */
		unm_mem_layout(m);
		left = memsize > m->buf_ofs ? memsize - m->buf_ofs : 0;
		left /= p->buf_size ? p->buf_size : 1;
		if (left < 4) {
			unm_log(UNM_LOG_ERR, "extmem: nr_memsize %llu too small: the if and ring pools take %llu bytes, no room for buffers of %u",
				(unsigned long long)memsize, (unsigned long long)m->buf_ofs,
				p->buf_size);
			return -EINVAL;
		}
		p->buf_num = left > UNM_MAX_BUFS ? UNM_MAX_BUFS : (uint32_t)left;
	}
	if (unm_pools_check(p))
		return -EINVAL;
	unm_mem_layout(m);
	if (m->memsize > memsize) {
		unm_log(UNM_LOG_ERR, "extmem: nr_memsize %llu too small for the pools: if %u x %u, ring %u x %u, buf %u x %u need %llu bytes",
			(unsigned long long)memsize, p->if_num, p->if_size, p->ring_num,
			p->ring_size, p->buf_num, p->buf_size, (unsigned long long)m->memsize);
		return -EINVAL;
	}
	m->memsize = memsize;
	return 0;
}

/* The program's memory must be there, and writable, end to end. */
static int ext_probe(uint64_t addr, uint64_t size)
{
	uint64_t at[2] = { addr, addr + size - 1 };
	unsigned i;
	char c;

	for (i = 0; i < 2; i++) {
		if (unm_copyin(&c, at[i], 1) || unm_copyout(at[i], &c, 1)) {
			unm_log(UNM_LOG_ERR, "extmem: nro_usrptr %#llx + nr_memsize %llu: byte at %#llx is not writable memory",
				(unsigned long long)addr, (unsigned long long)size,
				(unsigned long long)at[i]);
			return -EFAULT;
		}
	}
	return 0;
}

static void ext_info_out(const struct unm_memreg *m, struct nmreq_pools_info *pi)
{
	pi->nr_memsize = m->memsize;
	pi->nr_mem_id = m->id;
	pi->nr_if_pool_offset = m->if_ofs;
	pi->nr_if_pool_objtotal = m->p.if_num;
	pi->nr_if_pool_objsize = m->p.if_size;
	pi->nr_ring_pool_offset = m->ring_ofs;
	pi->nr_ring_pool_objtotal = m->p.ring_num;
	pi->nr_ring_pool_objsize = m->p.ring_size;
	pi->nr_buf_pool_offset = m->buf_ofs;
	pi->nr_buf_pool_objtotal = m->p.buf_num;
	pi->nr_buf_pool_objsize = m->p.buf_size;
}

int unm_mem_ext_get_locked(uint64_t addr, struct nmreq_pools_info *pi, int *slotp,
			   bool *created)
{
	uint64_t size = pi->nr_memsize, pg = (uint64_t)sysconf(_SC_PAGESIZE);
	struct unm_memreg *m;
	uint16_t gen, id;
	int i, free_slot = -1, err;
	bool z;

	*created = false;
	if (!addr) {
		unm_log(UNM_LOG_ERR, "extmem: nro_usrptr is NULL");
		return -EINVAL;
	}
	if (addr % pg) {
		unm_log(UNM_LOG_ERR, "extmem: nro_usrptr %#llx is not page aligned (%llu)",
			(unsigned long long)addr, (unsigned long long)pg);
		return -EINVAL;
	}
	if (!size || size > UINT64_MAX - addr) {
		unm_log(UNM_LOG_ERR, "extmem: nr_memsize %llu is not a valid size at %#llx",
			(unsigned long long)size, (unsigned long long)addr);
		return -EINVAL;
	}
	for (i = 0; i < UNM_MAX_MEMS; i++) {
		m = &unm_k->mems[i];
		if (!m->id) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (!m->ext_addr || !ext_is_mine(m))
			continue;
		if (m->ext_addr == addr && m->memsize == size) {
			/* the same memory again (the other end of a pipe) */
			ext_info_out(m, pi);
			*slotp = i;
			return 0;
		}
		if (addr < m->ext_addr + m->memsize && m->ext_addr < addr + size) {
			unm_log(UNM_LOG_ERR, "extmem: [%#llx, +%llu) overlaps mem %u at [%#llx, +%llu)",
				(unsigned long long)addr, (unsigned long long)size, m->id,
				(unsigned long long)m->ext_addr, (unsigned long long)m->memsize);
			return -EINVAL;
		}
	}
	if (free_slot < 0) {
		unm_log(UNM_LOG_ERR, "extmem: too many memory regions (max %d)", UNM_MAX_MEMS);
		return -ENOMEM;
	}
	err = ext_probe(addr, size);
	if (err)
		return err;
	/* a fresh id, as upstream gives each new allocator */
	for (id = 2; id; id++) {
		for (i = 0; i < UNM_MAX_MEMS; i++)
			if (unm_k->mems[i].id == id)
				break;
		if (i == UNM_MAX_MEMS)
			break;
	}
	m = &unm_k->mems[free_slot];
	gen = m->gen;
	memset(m, 0, sizeof(*m));
	m->gen = gen + 1;
	err = ext_pools(size, pi, m);
	if (err) {
		m->memsize = 0;
		return err;
	}
	m->ext_pid = unm_pid;
	unm_proc_start_time(unm_pid, &m->ext_start, &z);
	m->ext_addr = addr;
	bit_set(m->buf_map, 0);
	bit_set(m->buf_map, 1);
	m->buf_free = m->p.buf_num - 2;
	m->buf_hint = 2;
	/* last: the slot is in use from here */
	m->id = id;
	ext_info_out(m, pi);
	*slotp = free_slot;
	*created = true;
	return 0;
}

/* Our mapping of a region (reference counted per process). */
struct unm_mem_local *unm_mem_map(int mslot)
{
	struct unm_memreg *m = &unm_k->mems[mslot];
	struct unm_mem_local *ml, *free_ml = NULL;
	char name[48];
	void *base;
	int fd;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(mem_locals); i++) {
		ml = &mem_locals[i];
		if (ml->base && ml->id == m->id && ml->gen == m->gen) {
			ml->refs++;
			return ml;
		}
		if (!ml->base && !free_ml)
			free_ml = ml;
	}
	if (!free_ml)
		return NULL;
	if (m->ext_addr) {
		if (!ext_is_mine(m))
			return NULL;
		free_ml->id = m->id;
		free_ml->gen = m->gen;
		free_ml->fd = -1;
		free_ml->base = (char *)(uintptr_t)m->ext_addr;
		free_ml->size = m->memsize;
		free_ml->refs = 1;
		return free_ml;
	}
	unm_mem_name(name, sizeof(name), m->id);
	fd = shm_open(name, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	base = mmap(NULL, m->memsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	free_ml->id = m->id;
	free_ml->gen = m->gen;
	free_ml->fd = fd;
	free_ml->base = base;
	free_ml->size = m->memsize;
	free_ml->refs = 1;
	return free_ml;
}

void unm_mem_unmap(struct unm_mem_local *ml)
{
	if (!ml || --ml->refs > 0)
		return;
	if (ml->fd >= 0) {	/* extmem is the program's: leave it alone */
		munmap(ml->base, ml->size);
		close(ml->fd);
	}
	memset(ml, 0, sizeof(*ml));
}

/*
 * Create the netmap_ring of kring `kr` (num_slots set) in region `mslot`:
 * ring objects, header, and one fresh buffer per slot.
 */
int unm_mem_ring_create_locked(int mslot, char *base, struct unm_kring *kr,
			       uint16_t ring_id, uint8_t dir)
{
	struct unm_memreg *m = &unm_k->mems[mslot];
	struct netmap_ring *ring;
	uint64_t bytes = sizeof(struct netmap_ring) +
			 (uint64_t)kr->num_slots * sizeof(struct netmap_slot);
	uint32_t nobj = (bytes + m->p.ring_size - 1) / m->p.ring_size, i, idx;
	int err;

	if (m->buf_free < kr->num_slots) {
		unm_log(UNM_LOG_ERR, "mem %u: %u free buffers, %u needed for a ring",
			m->id, m->buf_free, kr->num_slots);
		return -ENOMEM;
	}
	err = unm_mem_obj_alloc(m->ring_map, m->p.ring_num, nobj, &m->ring_hint, &kr->ring_obj);
	if (err) {
		unm_log(UNM_LOG_ERR, "mem %u: ring pool exhausted (%u objects of %u bytes)",
			m->id, m->p.ring_num, m->p.ring_size);
		return err;
	}
	kr->ring_ofs = m->ring_ofs + (uint64_t)kr->ring_obj * m->p.ring_size;
	ring = (struct netmap_ring *)(base + kr->ring_ofs);
	memset(ring, 0, sizeof(*ring));
	RW(int64_t, ring->buf_ofs) = (int64_t)m->buf_ofs - (int64_t)kr->ring_ofs;
	RW(uint32_t, ring->num_slots) = kr->num_slots;
	RW(uint32_t, ring->nr_buf_size) = m->p.buf_size;
	RW(uint16_t, ring->ringid) = ring_id;
	RW(uint16_t, ring->dir) = dir;
	for (i = 0; i < kr->num_slots; i++) {
		unm_mem_buf_alloc_locked(m, &idx);
		ring->slot[i].buf_idx = idx;
		ring->slot[i].len = 0;
		ring->slot[i].flags = 0;
		ring->slot[i].ptr = 0;
	}
	kr->hwcur = 0;
	kr->hwtail = dir == UNM_TX ? kr->num_slots - 1 : 0;
	kr->rhead = kr->rcur = 0;
	kr->rtail = kr->hwtail;
	ring->head = ring->cur = 0;
	ring->tail = kr->hwtail;
	return 0;
}

void unm_mem_ring_delete_locked(int mslot, char *base, struct unm_kring *kr)
{
	struct unm_memreg *m = &unm_k->mems[mslot];
	struct netmap_ring *ring;
	uint64_t bytes = sizeof(struct netmap_ring) +
			 (uint64_t)kr->num_slots * sizeof(struct netmap_slot);
	uint32_t nobj = (bytes + m->p.ring_size - 1) / m->p.ring_size, i;

	/* no mapping (extmem of another process): the region dies with it */
	if (base) {
		ring = (struct netmap_ring *)(base + kr->ring_ofs);
		for (i = 0; i < kr->num_slots; i++)
			unm_mem_buf_free_locked(m, ring->slot[i].buf_idx);
	}
	unm_mem_obj_free(m->ring_map, kr->ring_obj, nobj);
}

/* n extra buffers chained from *head (first 4 bytes = next, 0 ends). */
uint32_t unm_mem_extra_alloc_locked(int mslot, char *base, uint32_t *head, uint32_t n)
{
	struct unm_memreg *m = &unm_k->mems[mslot];
	uint32_t got, idx;

	*head = 0;
	for (got = 0; got < n; got++) {
		if (unm_mem_buf_alloc_locked(m, &idx))
			break;
		memcpy(base + m->buf_ofs + (uint64_t)idx * m->p.buf_size, head, sizeof(*head));
		*head = idx;
	}
	return got;
}

/* Walk the chain the program left: validated, bounded, no double free. */
void unm_mem_extra_free_locked(int mslot, char *base, uint32_t head)
{
	struct unm_memreg *m = &unm_k->mems[mslot];
	uint32_t steps, next;

	for (steps = 0; head && steps < m->p.buf_num; steps++) {
		if (head < 2 || head >= m->p.buf_num || !bit_test(m->buf_map, head))
			break;
		memcpy(&next, base + m->buf_ofs + (uint64_t)head * m->p.buf_size, sizeof(next));
		unm_mem_buf_free_locked(m, head);
		head = next;
	}
}
