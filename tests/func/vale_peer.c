// SPDX-License-Identifier: BSD-2-Clause
/*
 * vale_peer - one VALE port driven through the raw ABI (open("/dev/netmap"),
 * NIOCCTRL, mmap, poll, NIOCTXSYNC), for the vale_* tests. Linked with
 * libnetmap.a, it also reads the switch's per-port counters
 * (unm_vale_stats) and can reach into the shared state to play a process
 * that dies holding a destination ring's lock.
 *
 *   vale_peer [opts] tx PORT       send -n frames from -s MAC to -d MAC
 *   vale_peer [opts] rx PORT       print "ready", receive until -n frames,
 *                                  SIGTERM or -t seconds; print the counts
 *   vale_peer [opts] info PORT     register, print the geometry
 *   vale_peer [opts] hold PORT     register, print "ready", sleep -t seconds
 *   vale_peer garbage PORT         bad buf_idx / len in the TX ring: each sync
 *                                  must report POLLERR and repair the ring
 *   vale_peer lockdie PORT DST     open PORT, lock DST's RX ring 0 as a sender
 *                                  would, then SIGKILL itself
 *
 *   -n N      frames (default 1000)      -t S   time bound (default 10 s)
 *   -s MAC    source (default 02:00:00:00:00:01)
 *   -d MAC    destination (default ff:ff:ff:ff:ff:ff)
 *   -l LEN    frame length (default 60)  -S N   slots per ring at register
 *   -R N      rings per direction at register
 *   -M ID     nr_mem_id at register (the port's region)
 *   -f N      tx: each frame is a chain of N slots (NS_MOREFRAG)
 *   -L        rx: first send one broadcast frame from -s (the switch learns it)
 *   -G        rx: first write bad buf_idx into every RX slot, kernel's included
 *             (senders hand such slots over empty, len 0: counted as "empty")
 *
 * rx counts frames (the last slot of a chain), checks every slot's payload
 * (frames of our ethertype; others, pkt-gen's, are counted only) and
 * NS_RFRAGS on the last one, and prints "received R rx_frames F rx_drops D" (F and D: the switch's
 * counters of this port: frames copied into its RX rings, frames dropped
 * there); tx prints "sent N tx_frames T tx_drops X".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
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

#include "core/unm.h"

static struct netmap_if *nifp;
static int fd = -1;
static char *mem;
static struct nmreq_register reg;
static const char *pname;
static uint64_t opt_n = 1000;
static double opt_t = 10;
static unsigned opt_len = 60, opt_slots, opt_rings, opt_mem, opt_frags = 1;
static bool opt_learn, opt_rxgarbage;
static uint8_t smac[6] = { 2, 0, 0, 0, 0, 1 }, dmac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static volatile sig_atomic_t stop;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_mac(const char *s, uint8_t *m)
{
	unsigned v[6], i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		m[i] = v[i];
	return 0;
}

static int open_port(const char *name)
{
	struct nmreq_header hdr;

	memset(&hdr, 0, sizeof(hdr));
	memset(&reg, 0, sizeof(reg));
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
	reg.nr_tx_slots = reg.nr_rx_slots = opt_slots;
	reg.nr_tx_rings = reg.nr_rx_rings = opt_rings;
	reg.nr_mem_id = opt_mem;
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
	return 0;
}

static void frame(char *buf, uint64_t k, const uint8_t *src, const uint8_t *dst)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = (char)0x88;	/* local experimental ethertype */
	buf[13] = (char)0xb5;
	memcpy(buf + 14, &k, 8);
	memset(buf + 22, 0x5a, opt_len - 22);
}

/* queue what fits in the TX rings; returns frames queued */
static uint64_t queue_tx(uint64_t next, uint64_t count, const uint8_t *src, const uint8_t *dst)
{
	uint64_t sent = 0;
	unsigned r;

	for (r = 0; r < nifp->ni_tx_rings && next + sent < count; r++) {
		struct netmap_ring *ring = NETMAP_TXRING(nifp, r);
		unsigned cur = ring->cur;

		while (nm_ring_space(ring) >= opt_frags && next + sent < count) {
			unsigned f;

			/* a frame of opt_frags slots (NS_MOREFRAG), each a full copy */
			for (f = 0; f < opt_frags; f++) {
				struct netmap_slot *s = &ring->slot[cur];

				s->len = opt_len;
				s->flags = f + 1 < opt_frags ? NS_MOREFRAG : 0;
				frame(NETMAP_BUF(ring, s->buf_idx), next + sent, src, dst);
				cur = nm_ring_next(ring, cur);
			}
			ring->head = ring->cur = cur;
			sent++;
		}
	}
	return sent;
}

static void print_stats(const char *what, uint64_t n)
{
	struct unm_vale_stats st;
	int err = unm_vale_stats(pname, &st);

	if (err)
		printf("%s %" PRIu64 " (no counters: %s)\n", what, n, strerror(-err));
	else
		printf("%s %" PRIu64 " rx_frames %" PRIu64 " rx_drops %" PRIu64 " tx_frames %" PRIu64
		       " tx_drops %" PRIu64 "\n", what, n, st.rx_frames, st.rx_drops, st.tx_frames,
		       st.tx_drops);
	fflush(stdout);
}

static int do_tx(void)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	uint64_t sent = 0;
	double t0 = now_s();

	while (sent < opt_n && !stop) {
		if (now_s() - t0 > opt_t) {
			fprintf(stderr, "tx: timeout after %" PRIu64 " of %" PRIu64 "\n", sent, opt_n);
			print_stats("sent", sent);
			return 1;
		}
		if (poll(&pfd, 1, 1000) < 0 && errno != EINTR) {
			perror("poll");
			return 1;
		}
		if (pfd.revents & POLLERR) {
			fprintf(stderr, "tx: POLLERR\n");
			return 1;
		}
		sent += queue_tx(sent, opt_n, smac, dmac);
	}
	/* the switch forwards inside the sync: after this one, every frame is delivered or dropped */
	if (ioctl(fd, NIOCTXSYNC, NULL) < 0) {
		perror("NIOCTXSYNC");
		return 1;
	}
	print_stats("sent", sent);
	return 0;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

struct rx_count {
	uint64_t rcvd, empty, corrupt, frags, pollerr;
};

/* read what the RX rings hold: count frames, check every slot */
static void rx_pass(struct rx_count *c)
{
	unsigned r, i;

	for (r = 0; r < nifp->ni_rx_rings; r++) {
		struct netmap_ring *ring = NETMAP_RXRING(nifp, r);

		while (!nm_ring_empty(ring)) {
			struct netmap_slot *s = &ring->slot[ring->cur];
			const unsigned char *buf = (unsigned char *)NETMAP_BUF(ring, s->buf_idx);

			if (s->len == 0) {
				c->empty++;
			} else {
				/* the payload as the sender wrote it, and the chain */
				for (i = 22; i < s->len && buf[i] == 0x5a; i++)
					;
				if (s->len < 14 ||
				    (buf[12] == 0x88 && buf[13] == 0xb5 && (s->len < 22 || i < s->len))) {
					c->corrupt++;
				} else if (s->flags & NS_MOREFRAG) {
					c->frags++;
				} else {
					if (NS_RFRAGS(s) != c->frags + 1)
						c->corrupt++;
					c->frags = 0;
					c->rcvd++;
				}
			}
			ring->head = ring->cur = nm_ring_next(ring, ring->cur);
		}
	}
}

static int do_rx(void)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct rx_count c = { 0 };
	double t0 = now_s();

	if (opt_learn) {
		uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

		if (queue_tx(0, 1, smac, bc) != 1 || ioctl(fd, NIOCTXSYNC, NULL) < 0) {
			fprintf(stderr, "rx: cannot send the learning frame\n");
			return 1;
		}
	}
	if (opt_rxgarbage) {
		/* scribble on the slots the kernel owns: senders must not write there */
		unsigned r, i;

		for (r = 0; r < nifp->ni_rx_rings; r++) {
			struct netmap_ring *ring = NETMAP_RXRING(nifp, r);

			for (i = 0; i < ring->num_slots; i++)
				ring->slot[i].buf_idx = 0x7fffffffu - i;
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (c.rcvd < opt_n && !stop && now_s() - t0 < opt_t) {
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR) {
			perror("poll");
			return 1;
		}
		if (pfd.revents & POLLERR) {
			/* -G: our own scribbles, repaired when released */
			if (!opt_rxgarbage) {
				fprintf(stderr, "rx: POLLERR\n");
				return 1;
			}
			c.pollerr++;
		}
		rx_pass(&c);
	}
	/* stopped: what is still in the rings counts too */
	if (c.rcvd < opt_n && ioctl(fd, NIOCRXSYNC, NULL) == 0)
		rx_pass(&c);
	ioctl(fd, NIOCRXSYNC, NULL);
	if (c.empty)
		printf("empty %" PRIu64 "\n", c.empty);
	if (c.pollerr)
		printf("pollerr %" PRIu64 "\n", c.pollerr);
	if (c.corrupt)
		printf("corrupt %" PRIu64 "\n", c.corrupt);
	print_stats("received", c.rcvd);
	return c.corrupt ? 1 : 0;
}

/* Bad TX slots: the sync must refuse them (POLLERR) and repair the ring. */
static int do_garbage(void)
{
	struct netmap_ring *ring = NETMAP_TXRING(nifp, 0);
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	static const struct { uint32_t idx; uint16_t len; const char *what; } bad[] = {
		{ 0xffffffffu, 60, "buf_idx 0xffffffff" },
		{ 1, 60, "buf_idx 1 (reserved)" },
		{ 0, 60, "buf_idx 0" },
		{ 2, 65535, "len 65535" },
	};
	unsigned i, fails = 0, head;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct netmap_slot *s;

		head = ring->head;
		s = &ring->slot[head];
		s->buf_idx = bad[i].idx == 2 ? s->buf_idx : bad[i].idx;
		s->len = bad[i].len;
		ring->head = ring->cur = nm_ring_next(ring, head);
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLERR)) {
			printf("FAIL %s: poll revents 0x%x, want POLLERR\n", bad[i].what, pfd.revents);
			fails++;
		}
		/* the ring is back to the kernel's view, the slot repaired */
		if (ring->head != head || ring->cur != head) {
			printf("FAIL %s: head %u cur %u, want %u\n", bad[i].what, ring->head,
			       ring->cur, head);
			fails++;
		}
		if (s->buf_idx < 2 || s->len > 2048) {
			printf("FAIL %s: slot not repaired (buf_idx %u len %u)\n", bad[i].what,
			       s->buf_idx, s->len);
			fails++;
		}
		if (!fails)
			printf("ok %s: POLLERR, ring reset to head %u, slot repaired\n", bad[i].what,
			       head);
	}
	/* and the port still works: good frames after the bad ones */
	if (do_tx())
		fails++;
	return fails ? 1 : 0;
}

/* Die holding DST's RX ring 0 lock, as a sender killed mid-copy would. */
static int do_lockdie(const char *dst)
{
	int i;

	if (unm_lock())
		return 1;
	for (i = 0; i < UNM_MAX_PORTS; i++) {
		struct unm_kport *p = &unm_k->ports[i];

		if (p->kind == UNM_PORT_VALE && !strcmp(p->name, dst) && p->vale_sw)
			break;
	}
	if (i == UNM_MAX_PORTS) {
		unm_unlock();
		fprintf(stderr, "lockdie: %s: no such VALE port\n", dst);
		return 1;
	}
	{
		struct unm_kport *p = &unm_k->ports[i];
		struct unm_vale_rxq *q = &unm_k->vale[p->vale_sw - 1].ports[p->vale_slot].rxq[0];

		int e;

		unm_unlock();
		e = pthread_mutex_lock(&q->lock);
		if (e && e != EOWNERDEAD) {
			fprintf(stderr, "lockdie: lock failed\n");
			return 1;
		}
	}
	printf("locked\n");
	fflush(stdout);
	kill(getpid(), SIGKILL);
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode;
	struct sigaction sa;
	int c;

	while ((c = getopt(argc, argv, "n:t:s:d:l:S:R:M:f:LG")) != -1) {
		switch (c) {
		case 'n':
			opt_n = strtoull(optarg, NULL, 0);
			break;
		case 't':
			opt_t = atof(optarg);
			break;
		case 's':
			if (parse_mac(optarg, smac))
				goto usage;
			break;
		case 'd':
			if (parse_mac(optarg, dmac))
				goto usage;
			break;
		case 'l':
			opt_len = atoi(optarg);
			if (opt_len < 22 || opt_len > 2048)
				goto usage;
			break;
		case 'S':
			opt_slots = atoi(optarg);
			break;
		case 'R':
			opt_rings = atoi(optarg);
			break;
		case 'f':
			opt_frags = atoi(optarg);
			if (opt_frags < 1 || opt_frags > 200)
				goto usage;
			break;
		case 'M':
			opt_mem = atoi(optarg);
			break;
		case 'L':
			opt_learn = true;
			break;
		case 'G':
			opt_rxgarbage = true;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind < 2)
		goto usage;
	mode = argv[optind];
	pname = argv[optind + 1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (open_port(pname))
		return 2;
	if (!strcmp(mode, "tx"))
		return do_tx();
	if (!strcmp(mode, "rx"))
		return do_rx();
	if (!strcmp(mode, "garbage"))
		return do_garbage();
	if (!strcmp(mode, "lockdie") && argc - optind >= 3)
		return do_lockdie(argv[optind + 2]);
	if (!strcmp(mode, "info")) {
		printf("tx_rings %u rx_rings %u tx_slots %u rx_slots %u mem_id %u\n",
		       reg.nr_tx_rings, reg.nr_rx_rings, reg.nr_tx_slots, reg.nr_rx_slots,
		       reg.nr_mem_id);
		return 0;
	}
	if (!strcmp(mode, "hold")) {
		double t0 = now_s();

		printf("ready\n");
		fflush(stdout);
		while (!stop && now_s() - t0 < opt_t)
			usleep(20000);
		return 0;
	}
usage:
	fprintf(stderr, "usage: vale_peer [-n N] [-t S] [-s MAC] [-d MAC] [-l LEN] [-S slots] [-R rings] [-M mem_id] [-f frags] [-L] [-G] tx|rx|info|hold|garbage PORT | lockdie PORT DST\n");
	return 2;
}
