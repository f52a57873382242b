// SPDX-License-Identifier: BSD-2-Clause
/*
 * nm_bad_input - the control path refuses bad requests with netmap's errno
 * and a message, and never crashes. Table driven; prints "N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <net/netmap.h>

static char base[48];
static int passed, failed;

static void expect(const char *what, int ret, int want_errno)
{
	int e = ret < 0 ? errno : 0;

	if ((want_errno == 0 && ret >= 0) || (want_errno && ret < 0 && e == want_errno)) {
		passed++;
		printf("ok   %s -> %s\n", what, want_errno ? strerror(e) : "success");
	} else {
		failed++;
		printf("FAIL %s -> ret %d errno %s, want %s\n", what, ret, strerror(e),
		       want_errno ? strerror(want_errno) : "success");
	}
}

static void hdr_init(struct nmreq_header *h, const char *name, uint16_t type, void *body)
{
	memset(h, 0, sizeof(*h));
	h->nr_version = NETMAP_API;
	h->nr_reqtype = type;
	snprintf(h->nr_name, sizeof(h->nr_name), "%s", name);
	h->nr_body = (uintptr_t)body;
}

static int reg(int fd, const char *name, uint32_t mode, uint16_t ringid, uint64_t flags,
	       struct nmreq_register *out)
{
	struct nmreq_header h;
	struct nmreq_register r;

	memset(&r, 0, sizeof(r));
	r.nr_mode = mode;
	r.nr_ringid = ringid;
	r.nr_flags = flags;
	hdr_init(&h, name, NETMAP_REQ_REGISTER, &r);
	int ret = ioctl(fd, NIOCCTRL, &h);
	if (out)
		*out = r;
	return ret;
}

static int nmopen(void)
{
	int fd = open("/dev/netmap", O_RDWR);

	if (fd < 0) {
		perror("open /dev/netmap");
		exit(1);
	}
	return fd;
}

int main(void)
{
	struct nmreq_header h;
	struct nmreq_register r;
	struct nmreq_option o1, o2;
	struct nmreq_opt_unm_pools pools;
	char name[64];
	int fd, fd2, ret;
	void *p;

	snprintf(base, sizeof(base), "bad%d", (int)getpid());

	/* header checks */
	fd = nmopen();
	snprintf(name, sizeof(name), "%s{1", base);
	memset(&r, 0, sizeof(r));
	hdr_init(&h, name, NETMAP_REQ_REGISTER, &r);
	h.nr_version = 13;
	expect("nr_version 13", ioctl(fd, NIOCCTRL, &h), EINVAL);
	h.nr_version = 16;
	expect("nr_version 16", ioctl(fd, NIOCCTRL, &h), EINVAL);
	hdr_init(&h, name, 99, &r);
	expect("unknown nr_reqtype 99", ioctl(fd, NIOCCTRL, &h), EINVAL);
	hdr_init(&h, name, NETMAP_REQ_REGISTER, NULL);
	expect("REGISTER with nr_body NULL", ioctl(fd, NIOCCTRL, &h), EINVAL);
	hdr_init(&h, name, NETMAP_REQ_VALE_LIST, &r);
	expect("VALE_LIST of a pipe name", ioctl(fd, NIOCCTRL, &h), EINVAL);
	hdr_init(&h, name, NETMAP_REQ_PORT_HDR_GET, &r);
	expect("PORT_HDR_GET (not supported yet)", ioctl(fd, NIOCCTRL, &h), EOPNOTSUPP);

	/* pipe ids are names (letters, digits, '_'), both ends one pipe */
	{
		int m = nmopen(), sl = nmopen(), bad = nmopen();
		char pm[64], ps[64], pb[64];

		snprintf(pm, sizeof(pm), "%s{pipe_id1", base);
		snprintf(ps, sizeof(ps), "%s}pipe_id1", base);
		snprintf(pb, sizeof(pb), "%s{pipe-id", base);
		expect("pipe master with a named id", reg(m, pm, NR_REG_ALL_NIC, 0, 0, NULL), 0);
		expect("pipe slave with a named id", reg(sl, ps, NR_REG_ALL_NIC, 0, 0, NULL), 0);
		expect("pipe id with '-'", reg(bad, pb, NR_REG_ALL_NIC, 0, 0, NULL), EINVAL);
		expect("pipe with NR_REG_NIC_SW", reg(bad, pm, NR_REG_NIC_SW, 0, 0, NULL), EOPNOTSUPP);
		close(m);
		close(sl);
		close(bad);
	}

	/* POOLS_INFO_GET names its allocator through a port */
	{
		struct nmreq_pools_info pi;

		memset(&pi, 0, sizeof(pi));
		hdr_init(&h, "", NETMAP_REQ_POOLS_INFO_GET, &pi);
		expect("POOLS_INFO_GET with an empty name", ioctl(fd, NIOCCTRL, &h), EINVAL);
	}

	/* the legacy ABI: older than 14 refused, newer accepted (forward compatible) */
	{
		struct nmreq nmr;
		int lfd = nmopen();

		memset(&nmr, 0, sizeof(nmr));
		snprintf(nmr.nr_name, sizeof(nmr.nr_name), "lg%d{7", (int)getpid() % 100000);
		nmr.nr_version = 13;
		nmr.nr_flags = NR_REG_ALL_NIC;
		expect("legacy NIOCREGIF nr_version 13", ioctl(lfd, NIOCREGIF, &nmr), EINVAL);
		nmr.nr_version = NETMAP_API + 2;
		expect("legacy NIOCREGIF nr_version API+2", ioctl(lfd, NIOCREGIF, &nmr), 0);
		close(lfd);
	}

	/* options */
	memset(&o1, 0, sizeof(o1));
	o1.nro_reqtype = 0x7777;
	hdr_init(&h, name, NETMAP_REQ_REGISTER, &r);
	r.nr_mode = NR_REG_ALL_NIC;
	h.nr_options = (uintptr_t)&o1;
	expect("unknown option type", ioctl(fd, NIOCCTRL, &h), EOPNOTSUPP);
	if (o1.nro_status == EOPNOTSUPP)
		passed++, printf("ok   unknown option gets nro_status EOPNOTSUPP\n");
	else
		failed++, printf("FAIL unknown option nro_status %u\n", o1.nro_status);
	memset(&o1, 0, sizeof(o1));
	memset(&o2, 0, sizeof(o2));
	o1.nro_reqtype = NETMAP_REQ_OPT_OFFSETS;
	o2.nro_reqtype = NETMAP_REQ_OPT_CSB;
	o1.nro_next = (uintptr_t)&o2;
	o2.nro_next = (uintptr_t)&o1;
	expect("option chain with a loop", ioctl(fd, NIOCCTRL, &h), EMSGSIZE);
	o2.nro_next = (uintptr_t)0x10;	/* truncated: points nowhere */
	expect("option chain into unmapped memory", ioctl(fd, NIOCCTRL, &h), EFAULT);
	memset(&o1, 0, sizeof(o1));
	o1.nro_reqtype = 0;
	expect("option type 0", ioctl(fd, NIOCCTRL, &h), EINVAL);
	h.nr_options = 0;
	h.nr_body = 0x10;
	expect("nr_body into unmapped memory", ioctl(fd, NIOCCTRL, &h), EFAULT);

	/* not registered yet */
	expect("NIOCTXSYNC on an unregistered fd", ioctl(fd, NIOCTXSYNC, NULL), ENXIO);
	expect("NIOCRXSYNC on an unregistered fd", ioctl(fd, NIOCRXSYNC, NULL), ENXIO);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	expect("mmap of an unregistered fd", p == MAP_FAILED ? -1 : 0, EINVAL);
	{
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		ret = poll(&pfd, 1, 0);
		if (ret == 1 && (pfd.revents & POLLERR))
			passed++, printf("ok   poll on an unregistered fd -> POLLERR\n");
		else
			failed++, printf("FAIL poll on an unregistered fd: %d 0x%x\n", ret, pfd.revents);
	}

	/* names and modes */
	expect("NIC name", reg(fd, "eth9", NR_REG_ALL_NIC, 0, 0, NULL), ENXIO);
	expect("VALE name without ':'", reg(fd, "vale0", NR_REG_ALL_NIC, 0, 0, NULL), EINVAL);
	expect("VALE port name with '!'", reg(fd, "vale0:p!", NR_REG_ALL_NIC, 0, 0, NULL), EINVAL);
	expect("VALE switch name with '-'", reg(fd, "vale-0:p", NR_REG_ALL_NIC, 0, 0, NULL), EINVAL);
	expect("host rings of a VALE port", reg(fd, "vale0:p", NR_REG_SW, 0, 0, NULL), EOPNOTSUPP);
	expect("host rings of a pipe", reg(fd, name, NR_REG_SW, 0, 0, NULL), EOPNOTSUPP);
	expect("monitor of a port nobody registered", reg(fd, name, NR_REG_ALL_NIC, 0, NR_MONITOR_TX, NULL), ENXIO);
	expect("zero-copy monitor of a port nobody registered", reg(fd, name, NR_REG_ALL_NIC, 0, NR_ZCOPY_MON, NULL), ENXIO);
	expect("pipe without an id", reg(fd, "x{", NR_REG_ALL_NIC, 0, 0, NULL), EINVAL);
	expect("ring 5 of a 1-ring pipe", reg(fd, name, NR_REG_ONE_NIC, 5, 0, NULL), EINVAL);

	/* a good register, then what must fail on it */
	expect("REGISTER pipe end exclusively", reg(fd, name, NR_REG_ALL_NIC, 0, NR_EXCLUSIVE, &r), 0);
	expect("second REGISTER on the same fd", reg(fd, name, NR_REG_ALL_NIC, 0, 0, NULL), EBUSY);
	fd2 = nmopen();
	expect("second open of an exclusive end", reg(fd2, name, NR_REG_ALL_NIC, 0, 0, NULL), EBUSY);
	expect("second exclusive open", reg(fd2, name, NR_REG_ALL_NIC, 0, NR_EXCLUSIVE, NULL), EBUSY);
	p = mmap(NULL, r.nr_memsize + 4096, PROT_READ, MAP_SHARED, fd, 0);
	expect("mmap larger than nr_memsize", p == MAP_FAILED ? -1 : 0, EINVAL);
	p = mmap(NULL, r.nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	expect("mmap of nr_memsize", p == MAP_FAILED ? -1 : 0, 0);
	expect("NIOCTXSYNC", ioctl(fd, NIOCTXSYNC, NULL), 0);
	close(fd2);

	/* a pools request for a region that exists with another layout */
	fd2 = nmopen();
	snprintf(name, sizeof(name), "%s{2", base);
	memset(&pools, 0, sizeof(pools));
	pools.nro_opt.nro_reqtype = NETMAP_REQ_OPT_UNM_POOLS;
	pools.nro_info.nr_buf_pool_objtotal = 8192;
	memset(&r, 0, sizeof(r));
	r.nr_mode = NR_REG_ALL_NIC;
	hdr_init(&h, name, NETMAP_REQ_REGISTER, &r);
	h.nr_options = (uintptr_t)&pools;
	expect("pools option vs existing mem 1 layout", ioctl(fd2, NIOCCTRL, &h), EBUSY);
	r.nr_mem_id = 7;
	expect("pools option creating mem 7", ioctl(fd2, NIOCCTRL, &h), 0);
	if (r.nr_mem_id == 7 && pools.nro_opt.nro_status == 0)
		passed++, printf("ok   mem 7 created, option status 0\n");
	else
		failed++, printf("FAIL mem id %u status %u\n", r.nr_mem_id, pools.nro_opt.nro_status);
	close(fd2);
	close(fd);

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
