// SPDX-License-Identifier: BSD-2-Clause
/*
 * nm_pipe_peer - one end of a netmap pipe, driven through the raw ABI only
 * (open("/dev/netmap"), ioctl, mmap, poll), so the same source serves the
 * in-tree tests (linked with libnetmap.a) and the LD_PRELOAD test (built
 * without the library).
 *
 *   nm_pipe_peer tx     PORT COUNT [TIMEOUT_S]   send COUNT numbered packets
 *   nm_pipe_peer rx     PORT COUNT [TIMEOUT_S]   receive and check COUNT
 *   nm_pipe_peer duplex PORT COUNT [TIMEOUT_S]   both at once, one poll loop
 *   nm_pipe_peer wait   PORT MAXMS               block in poll, print wake ms
 *   nm_pipe_peer fuzz   PORT SECONDS SEED        scribble on own ring + slots
 *   nm_pipe_peer hold   PORT                     register, print "ready", sleep
 *   nm_pipe_peer sink   PORT SECONDS             receive anything, check that
 *                                                every slot is inside the region
 *
 * Packet k: length 60 + k % 200; bytes 0..7 = k (little endian), byte i>=8
 * = (k + i) & 0xff. The receiver checks order, length and every byte.
 * PORT is "name{N" or "name}N" (pipe end), or any port name ("vale0:p");
 * "@ID" sets nr_mem_id, a "-x" suffix asks NR_EXCLUSIVE.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <net/netmap.h>
#include <net/netmap_user.h>

static struct netmap_if *nifp;
static int fd;
static char *mem;
static uint64_t memsize;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_port(const char *port)
{
	struct nmreq_header hdr;
	struct nmreq_register reg;
	char name[64];
	size_t l;

	snprintf(name, sizeof(name), "%s", port);
	memset(&hdr, 0, sizeof(hdr));
	memset(&reg, 0, sizeof(reg));
	l = strlen(name);
	if (l > 2 && !strcmp(name + l - 2, "-x")) {
		name[l - 2] = '\0';
		reg.nr_flags |= NR_EXCLUSIVE;
	}
	if (strchr(name, '@')) {
		reg.nr_mem_id = atoi(strchr(name, '@') + 1);
		*strchr(name, '@') = '\0';
	}
	fd = open("/dev/netmap", O_RDWR);
	if (fd < 0) {
		perror("open /dev/netmap");
		return -1;
	}
	hdr.nr_version = NETMAP_API;
	hdr.nr_reqtype = NETMAP_REQ_REGISTER;
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	hdr.nr_body = (uintptr_t)&reg;
	reg.nr_mode = NR_REG_ALL_NIC;
	if (ioctl(fd, NIOCCTRL, &hdr) < 0) {
		fprintf(stderr, "%s: NIOCCTRL REGISTER: %s\n", name, strerror(errno));
		return -1;
	}
	mem = mmap(NULL, reg.nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return -1;
	}
	nifp = NETMAP_IF(mem, reg.nr_offset);
	memsize = reg.nr_memsize;
	return 0;
}

static void fill(char *buf, uint64_t k, unsigned len)
{
	unsigned i;

	memcpy(buf, &k, 8);
	for (i = 8; i < len; i++)
		buf[i] = (char)((k + i) & 0xff);
}

static int check(const char *buf, unsigned len, uint64_t k)
{
	uint64_t got;
	unsigned i;

	if (len != 60 + k % 200) {
		fprintf(stderr, "packet %" PRIu64 ": len %u, want %" PRIu64 "\n", k, len,
			60 + k % 200);
		return -1;
	}
	memcpy(&got, buf, 8);
	if (got != k) {
		fprintf(stderr, "packet %" PRIu64 ": got sequence %" PRIu64 "\n", k, got);
		return -1;
	}
	for (i = 8; i < len; i++)
		if ((unsigned char)buf[i] != ((k + i) & 0xff)) {
			fprintf(stderr, "packet %" PRIu64 ": byte %u is %u\n", k, i,
				(unsigned char)buf[i]);
			return -1;
		}
	return 0;
}

/* send what fits; returns packets sent */
static uint64_t do_tx(uint64_t next, uint64_t count)
{
	uint64_t sent = 0;
	unsigned r;

	for (r = 0; r < nifp->ni_tx_rings && next + sent < count; r++) {
		struct netmap_ring *ring = NETMAP_TXRING(nifp, r);
		unsigned cur = ring->cur;

		while (!nm_ring_empty(ring) && next + sent < count) {
			struct netmap_slot *s = &ring->slot[cur];
			uint64_t k = next + sent;

			s->len = 60 + k % 200;
			fill(NETMAP_BUF(ring, s->buf_idx), k, s->len);
			cur = nm_ring_next(ring, cur);
			ring->head = ring->cur = cur;
			sent++;
		}
	}
	return sent;
}

/* receive what is there, checking; returns packets or -1 on a bad one */
static int64_t do_rx(uint64_t next)
{
	int64_t got = 0;
	unsigned r;

	for (r = 0; r < nifp->ni_rx_rings; r++) {
		struct netmap_ring *ring = NETMAP_RXRING(nifp, r);
		unsigned cur = ring->cur;

		while (!nm_ring_empty(ring)) {
			struct netmap_slot *s = &ring->slot[cur];

			if (s->buf_idx < 2 || check(NETMAP_BUF(ring, s->buf_idx), s->len, next + got))
				return -1;
			got++;
			cur = nm_ring_next(ring, cur);
			ring->head = ring->cur = cur;
		}
	}
	return got;
}

static int run(const char *mode, uint64_t count, double timeout)
{
	bool tx = strcmp(mode, "rx"), rx = strcmp(mode, "tx");
	uint64_t sent = 0, rcvd = 0;
	double t0 = now_s();
	struct pollfd pfd = { .fd = fd };

	while ((tx && sent < count) || (rx && rcvd < count)) {
		int64_t g;

		if (now_s() - t0 > timeout) {
			fprintf(stderr, "%s: timeout: sent %" PRIu64 " received %" PRIu64 " of %" PRIu64 "\n",
				mode, sent, rcvd, count);
			return 1;
		}
		pfd.events = (tx && sent < count ? POLLOUT : 0) | (rx && rcvd < count ? POLLIN : 0);
		if (poll(&pfd, 1, 1000) < 0) {
			perror("poll");
			return 1;
		}
		if (pfd.revents & POLLERR) {
			fprintf(stderr, "%s: POLLERR\n", mode);
			return 1;
		}
		if (tx && sent < count)
			sent += do_tx(sent, count);
		if (rx && rcvd < count) {
			g = do_rx(rcvd);
			if (g < 0)
				return 1;
			rcvd += g;
		}
	}
	/* flush what is still in the TX ring */
	if (tx && ioctl(fd, NIOCTXSYNC, NULL) < 0) {
		perror("NIOCTXSYNC");
		return 1;
	}
	if (tx)
		printf("%s: sent %" PRIu64 " packets\n", mode, sent);
	if (rx)
		printf("%s: received %" PRIu64 " packets, all bytes checked\n", mode, rcvd);
	return 0;
}

/* what a peer gets must point inside the region, whatever the other end did */
static int run_sink(double secs)
{
	double t0 = now_s();
	uint64_t pkts = 0, sum = 0;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	printf("sink: ready\n");
	while (now_s() - t0 < secs) {
		struct netmap_ring *ring = NETMAP_RXRING(nifp, 0);

		poll(&pfd, 1, 100);
		while (!nm_ring_empty(ring)) {
			struct netmap_slot *s = &ring->slot[ring->cur];
			char *b = NETMAP_BUF(ring, s->buf_idx);
			unsigned i;

			if (s->buf_idx < 2 || b < mem || b + ring->nr_buf_size > mem + memsize ||
			    s->len > ring->nr_buf_size) {
				fprintf(stderr, "sink: invalid slot %u: buf_idx %u len %u\n",
					ring->cur, s->buf_idx, s->len);
				return 1;
			}
			for (i = 0; i < s->len; i++)
				sum += (unsigned char)b[i];
			pkts++;
			ring->head = ring->cur = nm_ring_next(ring, ring->cur);
		}
	}
	printf("sink: %" PRIu64 " packets, all slots valid (sum %" PRIu64 ")\n", pkts, sum);
	return 0;
}

static int run_wait(int maxms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	double t0 = now_s();
	int r;

	printf("waiting\n");
	fflush(stdout);
	r = poll(&pfd, 1, maxms);
	printf("poll returned %d revents 0x%x after %.0f ms\n", r, pfd.revents,
	       (now_s() - t0) * 1e3);
	return r == 1 && (pfd.revents & POLLIN) ? 0 : 1;
}

static int run_fuzz(double secs, unsigned seed)
{
	double t0 = now_s();
	uint64_t iters = 0, errs = 0;

	printf("fuzz: seed %u\n", seed);
	fflush(stdout);
	srand(seed);
	while (now_s() - t0 < secs) {
		unsigned r = rand() % 2;
		struct netmap_ring *ring = r ? NETMAP_RXRING(nifp, 0) : NETMAP_TXRING(nifp, 0);
		unsigned n = ring->num_slots, k;
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };

		for (k = 0; k < 1 + (unsigned)rand() % 4; k++) {
			switch (rand() % 6) {
			case 0: ring->head = rand() % (2 * n); break;
			case 1: ring->cur = rand() % (2 * n); break;
			case 2: ring->tail = rand(); break;
			case 3: ring->slot[rand() % n].buf_idx = rand(); break;
			case 4: ring->slot[rand() % n].len = rand(); break;
			default:
				/* a plausible advance with garbage in the slots */
				ring->head = ring->cur = nm_ring_next(ring, ring->head % n);
				break;
			}
		}
		if (rand() % 2) {
			if (ioctl(fd, rand() % 2 ? NIOCTXSYNC : NIOCRXSYNC, NULL) < 0)
				errs++;
		} else if (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLERR)) {
			errs++;
		}
		iters++;
	}
	printf("fuzz: %" PRIu64 " iterations, %" PRIu64 " errors reported, still alive\n",
	       iters, errs);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode;

	if (argc < 3) {
		fprintf(stderr, "usage: %s tx|rx|duplex|wait|fuzz|hold PORT [ARGS]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	mode = argv[1];
	if (open_port(argv[2]))
		return 1;
	if (!strcmp(mode, "hold")) {
		printf("ready\n");
		for (;;)
			pause();
	}
	if (!strcmp(mode, "sink"))
		return run_sink(argc > 3 ? atof(argv[3]) : 2);
	if (!strcmp(mode, "wait"))
		return run_wait(argc > 3 ? atoi(argv[3]) : 10000);
	if (!strcmp(mode, "fuzz"))
		return run_fuzz(argc > 3 ? atof(argv[3]) : 2,
				argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 1);
	return run(mode, argc > 3 ? strtoull(argv[3], NULL, 0) : 1000,
		   argc > 4 ? atof(argv[4]) : 20);
}
