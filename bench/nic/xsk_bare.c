// SPDX-License-Identifier: BSD-2-Clause
/*
 * xsk_bare: the bare AF_XDP peer. One AF_XDP socket per queue, built with
 * libxdp's xsk API (xsk_umem__create, xsk_socket__create), one thread per
 * queue, each with its own UMEM, and nothing else in the loop:
 *
 *   rx  count each received frame and hand its buffer straight back to the
 *       fill ring; spin on the RX ring (default), or poll() when it is empty
 *       (-p); a system call only when the kernel asks for a wake-up.
 *   tx  60-byte UDP frames written once into the UMEM, batches of -b
 *       descriptors, completions reaped into a free stack, sendto() only when
 *       the TX ring has need_wakeup set (in copy mode that is always).
 *
 * For RX we load our own one-line XDP program (redirect queue q to the
 * XSKMAP's entry q) and attach it by bpf_link, so it is gone when this
 * process is, SIGKILL included; libxdp's own loader is inhibited
 * (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD) because its dispatcher needs bpffs.
 *
 * Zero-copy bind is tried first and copy mode used when the driver refuses
 * (veth: EOPNOTSUPP), unless -z or -c forces one. Output, one line per queue
 * and a total, parseable:
 *
 *   xsk_bare rx: 3.71 Mpps (11130000 pkts in 3.000 s, copy, need_wakeup, busy)
 */
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "nicbench.h"
#include "xsk_redirect.skel.h"

#define MAX_QUEUES 16

/* copy-mode TX frames per sendto() (linux/if_xdp.h of kernel 6.17) */
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9
#endif

enum bind_mode { BIND_AUTO, BIND_COPY, BIND_ZEROCOPY };

static struct config {
	const char *ifname;
	unsigned int ifindex;
	int tx;			/* 0 rx, 1 tx */
	double dur;
	uint64_t max_pkts;	/* per queue */
	double idle;
	uint32_t batch;
	uint32_t nframes;
	uint32_t frame_size;
	uint32_t headroom;
	uint32_t ring_size;
	uint32_t tx_budget;	/* XDP_MAX_TX_SKB_BUDGET, 0 = the kernel's (32) */
	int use_poll;
	int need_wakeup;
	int touch;
	enum bind_mode bind;
	int skb_mode;		/* attach our XDP program in generic mode */
	int unaligned;		/* XDP_UMEM_UNALIGNED_CHUNK_FLAG */
	int64_t fill_adj;	/* added to each frame's base in the fill ring */
	int verbose;
	uint8_t src[6], dst[6];
} cfg = {
	.dur = 10,
	.batch = 64,
	.nframes = 4096,
	.frame_size = 2048,
	.ring_size = 2048,
	.need_wakeup = 1,
};

struct queue {
	uint32_t qid;
	int cpu;		/* -1: not pinned */
	pthread_t thread;
	void *area;
	size_t area_size;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	int zerocopy;
	uint32_t tx_budget;	/* tx: frames per sendto() in effect */
	/* results */
	struct nb_window win;
	uint64_t pkts, bytes, kicks, kick_errs, t0, t1;
	int err;
	char errmsg[160];
};

static struct queue queues[MAX_QUEUES];
static unsigned int nqueues;

static void usage(void)
{
	fprintf(stderr,
		"usage: xsk_bare -i IFNAME -m rx|tx [-q Q[,Q...]] [-C CPU[,CPU...]]\n"
		"                [-d SECS] [-n PKTS] [-I IDLE_SECS] [-b BATCH] [-p]\n"
		"                [-N] [-c|-z] [-S] [-f FRAMES] [-F FRAME_SIZE]\n"
		"                [-H HEADROOM] [-r RING_SIZE] [-D DST_MAC] [-t] [-B BUDGET]\n"
		"  -q   queues, one socket and thread each (default 0)\n"
		"  -C   pin queue k's thread to the k-th CPU of the list\n"
		"  -d   run at most SECS seconds (default 10)\n"
		"  -n   stop a queue after PKTS packets (default: no limit)\n"
		"  -I   rx: stop after IDLE_SECS without packets, once some came\n"
		"  -b   batch (default 64)\n"
		"  -p   rx: poll() when the RX ring is empty (default: spin)\n"
		"  -N   bind without XDP_USE_NEED_WAKEUP\n"
		"  -c / -z  force copy / zero-copy bind (default: zero-copy, else copy)\n"
		"  -S   rx: attach the XDP program in generic (skb) mode\n"
		"  -f   UMEM frames per queue (default 4096)\n"
		"  -F   UMEM frame size, 2048 or 4096 (default 2048)\n"
		"  -H   UMEM frame headroom (default 0)\n"
		"  -r   RX/TX ring size; fill and completion rings are twice it (default 2048)\n"
		"  -D   tx: destination MAC (default ff:ff:ff:ff:ff:ff)\n"
		"  -B   tx, copy mode: frames one sendto() may send (XDP_MAX_TX_SKB_BUDGET,\n"
		"       kernel >= 6.17; 32..RING_SIZE; default RING_SIZE where the kernel\n"
		"       has the option, else its fixed 32)\n"
		"  -t   rx: read each frame's first and last byte\n"
		"  -U   UMEM in unaligned chunk mode\n"
		"  -A   rx, with -U: fill frame i at i*FRAME_SIZE+ADJ (ADJ may be < 0)\n"
		"  -v   rx: print the first descriptors' addresses\n");
	exit(2);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int parse_list(const char *opt, const char *s, int *out, int max)
{
	char *dup = strdup(s), *tok, *save = NULL;
	int n = 0;

	if (!dup)
		return -ENOMEM;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max) {
			fprintf(stderr, "option %s: more than %d entries\n", opt, max);
			exit(2);
		}
		out[n++] = (int)nb_parse_u64(opt, tok);
	}
	free(dup);
	return n;
}

static int get_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* fill ring address of frame i: its base, moved by -A (unaligned mode) */
static uint64_t frame_addr(uint32_t i)
{
	return (uint64_t)((int64_t)i * cfg.frame_size + cfg.fill_adj);
}

static int xsk_bind(struct queue *q, uint16_t mode_flag)
{
	struct xsk_socket_config xcfg = {
		.rx_size = cfg.ring_size,
		.tx_size = cfg.ring_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = mode_flag |
			(cfg.need_wakeup ? XDP_USE_NEED_WAKEUP : 0),
	};

	return xsk_socket__create(&q->xsk, cfg.ifname, q->qid, q->umem,
				  cfg.tx ? NULL : &q->rx, cfg.tx ? &q->tx : NULL,
				  &xcfg);
}

static int queue_setup(struct queue *q)
{
	struct xsk_umem_config ucfg = {
		/*
		 * Twice the frames we hand out: the kernel publishes its fill
		 * ring consumer index only once it has used every entry it
		 * cached, so a fill ring no bigger than the frames in it looks
		 * full until it is empty, and RX drops in between.
		 */
		.fill_size = 2 * cfg.ring_size,
		.comp_size = 2 * cfg.ring_size,
		.frame_size = cfg.frame_size,
		.frame_headroom = cfg.headroom,
		.flags = cfg.unaligned ? XDP_UMEM_UNALIGNED_CHUNK_FLAG : 0,
	};
	struct xdp_options opts;
	socklen_t optlen = sizeof(opts);
	uint32_t i, idx, n, skip;
	int err;

	q->area_size = (size_t)cfg.nframes * cfg.frame_size;
	q->area = mmap(NULL, q->area_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (q->area == MAP_FAILED) {
		err = -errno;
		q->area = NULL;
		snprintf(q->errmsg, sizeof(q->errmsg), "mmap of a %zu-byte UMEM: %s",
			 q->area_size, strerror(-err));
		return err;
	}
	err = xsk_umem__create(&q->umem, q->area, q->area_size, &q->fq, &q->cq,
			       &ucfg);
	if (err) {
		snprintf(q->errmsg, sizeof(q->errmsg),
			 "xsk_umem__create(%u frames of %u, headroom %u): %s",
			 cfg.nframes, cfg.frame_size, cfg.headroom, strerror(-err));
		return err;
	}
	if (cfg.bind == BIND_COPY) {
		err = xsk_bind(q, XDP_COPY);
	} else {
		err = xsk_bind(q, XDP_ZEROCOPY);
		if (err && cfg.bind == BIND_AUTO) {
			fprintf(stderr, "xsk_bare: %s queue %u: zero-copy bind: %s; using copy mode\n",
				cfg.ifname, q->qid, strerror(-err));
			err = xsk_bind(q, XDP_COPY);
		}
	}
	if (err) {
		snprintf(q->errmsg, sizeof(q->errmsg), "xsk_socket__create(%s, queue %u): %s",
			 cfg.ifname, q->qid, strerror(-err));
		return err;
	}
	if (getsockopt(xsk_socket__fd(q->xsk), SOL_XDP, XDP_OPTIONS, &opts,
		       &optlen) == 0)
		q->zerocopy = !!(opts.flags & XDP_OPTIONS_ZEROCOPY);

	if (cfg.tx) {
		/*
		 * Copy mode sends at most 32 frames per sendto() unless the
		 * socket allows more (kernel >= 6.17): by default allow the
		 * whole TX ring, so a kick sends all that is queued.
		 */
		uint32_t budget = cfg.tx_budget ? cfg.tx_budget : cfg.ring_size;

		if (setsockopt(xsk_socket__fd(q->xsk), SOL_XDP, XDP_MAX_TX_SKB_BUDGET,
			       &budget, sizeof(budget)) == 0) {
			q->tx_budget = budget;
		} else if (cfg.tx_budget) {
			err = -errno;
			snprintf(q->errmsg, sizeof(q->errmsg),
				 "queue %u: XDP_MAX_TX_SKB_BUDGET %u: %s (kernel >= 6.17, 32..%u)",
				 q->qid, budget, strerror(-err), cfg.ring_size);
			return err;
		} else {
			fprintf(stderr, "xsk_bare: queue %u: XDP_MAX_TX_SKB_BUDGET: %s; "
				"the kernel's 32 frames per sendto\n", q->qid, strerror(errno));
			q->tx_budget = 32;
		}
	}
	if (cfg.tx) {
		/* every frame holds the same 60-byte frame, written once */
		for (i = 0; i < cfg.nframes; i++)
			nb_build_frame((uint8_t *)q->area + (size_t)i * cfg.frame_size +
				       cfg.headroom, cfg.src, cfg.dst);
		return 0;
	}
	/* RX: give the kernel as many buffers as the fill ring holds */
	/* a negative -A would put frame 0 before the UMEM: start at frame 1 */
	skip = cfg.fill_adj < 0 ? 1 : 0;
	n = cfg.nframes - skip < cfg.ring_size ? cfg.nframes - skip : cfg.ring_size;
	if (xsk_ring_prod__reserve(&q->fq, n, &idx) != n) {
		snprintf(q->errmsg, sizeof(q->errmsg), "fill ring: cannot reserve %u", n);
		return -ENOSPC;
	}
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&q->fq, idx + i) = frame_addr(i + skip);
	xsk_ring_prod__submit(&q->fq, n);
	return 0;
}

static void queue_teardown(struct queue *q)
{
	if (q->xsk)
		xsk_socket__delete(q->xsk);
	if (q->umem)
		xsk_umem__delete(q->umem);
	if (q->area)
		munmap(q->area, q->area_size);
}

static void kick(struct queue *q, int rx)
{
	ssize_t r;

	q->kicks++;
	if (rx)
		r = recvfrom(xsk_socket__fd(q->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
	else
		r = sendto(xsk_socket__fd(q->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
	if (r < 0 && errno != EAGAIN && errno != EBUSY && errno != ENOBUFS &&
	    errno != EINTR) {
		q->kick_errs++;
		if (errno == ENETDOWN || errno == ENXIO) {
			q->err = -errno;
			snprintf(q->errmsg, sizeof(q->errmsg), "%s on %s: %s",
				 rx ? "recvfrom" : "sendto", cfg.ifname, strerror(errno));
		}
	}
}

static void rx_loop(struct queue *q)
{
	uint64_t deadline = q->t0 + (uint64_t)(cfg.dur * 1e9), now = q->t0;
	uint64_t last_change = q->t0, idle_ns = (uint64_t)(cfg.idle * 1e9);
	struct pollfd pfd = { .fd = xsk_socket__fd(q->xsk), .events = POLLIN };
	volatile uint8_t sink = 0;

	while (!nb_stop && !q->err) {
		uint32_t idx_rx, idx_fq = 0, n, i;

		n = xsk_ring_cons__peek(&q->rx, cfg.batch, &idx_rx);
		if (n) {
			/*
			 * Does not fail: at most ring_size frames ever go
			 * through a fill ring of twice that size.
			 */
			while (xsk_ring_prod__reserve(&q->fq, n, &idx_fq) != n) {
				if (nb_stop)
					goto out;
				if (xsk_ring_prod__needs_wakeup(&q->fq))
					kick(q, 1);
			}
			for (i = 0; i < n; i++) {
				const struct xdp_desc *d =
					xsk_ring_cons__rx_desc(&q->rx, idx_rx + i);

				q->bytes += d->len;
				if (cfg.touch) {
					const uint8_t *p = xsk_umem__get_data(q->area,
						xsk_umem__add_offset_to_addr(d->addr));

					sink ^= p[0] ^ p[d->len - 1];
				}
				if (cfg.verbose && q->pkts + i < 4)
					fprintf(stderr, "xsk_bare: queue %u: rx desc addr %#llx "
						"(data at %llu = frame %llu + %llu) len %u\n", q->qid,
						(unsigned long long)d->addr,
						(unsigned long long)xsk_umem__add_offset_to_addr(d->addr),
						(unsigned long long)(xsk_umem__add_offset_to_addr(d->addr) / cfg.frame_size),
						(unsigned long long)(xsk_umem__add_offset_to_addr(d->addr) % cfg.frame_size),
						d->len);
				/*
				 * Aligned mode: the kernel masks the address to its
				 * chunk, so hand back the frame's base. Unaligned:
				 * the low 48 bits are the address we filled, the
				 * data's offset from it is in the high 16.
				 */
				*xsk_ring_prod__fill_addr(&q->fq, idx_fq + i) = cfg.unaligned ?
					xsk_umem__extract_addr(d->addr) :
					d->addr - d->addr % cfg.frame_size;
			}
			xsk_ring_prod__submit(&q->fq, n);
			xsk_ring_cons__release(&q->rx, n);
			q->pkts += n;
		} else if (cfg.use_poll) {
			q->kicks++;
			poll(&pfd, 1, 10);
		} else if (xsk_ring_prod__needs_wakeup(&q->fq)) {
			kick(q, 1);
		}
		now = nb_now_ns();
		if (nb_window_due(&q->win, now)) {
			if (q->pkts != q->win.pkts_prev)
				last_change = now;
			nb_window_note(&q->win, now, q->pkts);
			if (now >= deadline)
				break;
			if (idle_ns && q->pkts && now - last_change >= idle_ns)
				break;
		}
		if (cfg.max_pkts && q->pkts >= cfg.max_pkts)
			break;
	}
out:
	nb_window_note(&q->win, now, q->pkts);
	q->t1 = now;
	(void)sink;
}

static uint32_t reap(struct queue *q, uint64_t *stack, uint32_t *nfree)
{
	uint32_t idx, n, i;

	n = xsk_ring_cons__peek(&q->cq, 2 * cfg.ring_size, &idx);
	/* a completion gives back the descriptor's address, headroom included */
	for (i = 0; i < n; i++)
		stack[(*nfree)++] = *xsk_ring_cons__comp_addr(&q->cq, idx + i) -
			cfg.headroom;
	if (n)
		xsk_ring_cons__release(&q->cq, n);
	return n;
}

static void tx_loop(struct queue *q)
{
	uint64_t deadline = q->t0 + (uint64_t)(cfg.dur * 1e9), now = q->t0;
	uint64_t submitted = 0, *stack;
	uint32_t nfree = 0, i;

	stack = calloc(cfg.nframes, sizeof(*stack));
	if (!stack) {
		q->err = -ENOMEM;
		snprintf(q->errmsg, sizeof(q->errmsg), "free-frame stack: out of memory");
		return;
	}
	for (i = 0; i < cfg.nframes; i++)
		stack[nfree++] = (uint64_t)(cfg.nframes - 1 - i) * cfg.frame_size;

	while (!nb_stop && !q->err && now < deadline &&
	       (!cfg.max_pkts || submitted < cfg.max_pkts)) {
		uint32_t want = cfg.batch, got, idx;

		q->pkts += reap(q, stack, &nfree);
		if (want > nfree)
			want = nfree;
		if (cfg.max_pkts && cfg.max_pkts - submitted < want)
			want = (uint32_t)(cfg.max_pkts - submitted);
		got = want ? xsk_ring_prod__reserve(&q->tx, want, &idx) : 0;
		for (i = 0; i < got; i++) {
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&q->tx, idx + i);

			d->addr = stack[--nfree] + cfg.headroom;
			d->len = NB_FRAME_LEN;
		}
		if (got) {
			xsk_ring_prod__submit(&q->tx, got);
			submitted += got;
		}
		if (xsk_ring_prod__needs_wakeup(&q->tx))
			kick(q, 0);
		now = nb_now_ns();
	}
	/* drain: what was submitted is sent (or not) within a few ms */
	deadline = nb_now_ns() + 200000000ull;
	while (q->pkts < submitted && !q->err && nb_now_ns() < deadline) {
		if (xsk_ring_prod__needs_wakeup(&q->tx))
			kick(q, 0);
		q->pkts += reap(q, stack, &nfree);
	}
	q->t1 = nb_now_ns();
	free(stack);
}

static void *queue_thread(void *arg)
{
	struct queue *q = arg;

	if (q->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(q->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	q->t0 = nb_now_ns();
	q->win.t_prev = q->t0;
	if (cfg.tx)
		tx_loop(q);
	else
		rx_loop(q);
	return NULL;
}

static void report(const char *label, uint64_t pkts, double secs,
		   const struct queue *q)
{
	printf("xsk_bare %s%s: %.2f Mpps (%llu pkts in %.3f s, %s, %s, %s",
	       cfg.tx ? "tx" : "rx", label, secs > 0 ? (double)pkts / secs / 1e6 : 0.0,
	       (unsigned long long)pkts, secs, q->zerocopy ? "zero-copy" : "copy",
	       cfg.need_wakeup ? "need_wakeup" : "no need_wakeup",
	       cfg.tx ? (cfg.need_wakeup ? "sendto on need_wakeup" : "sendto when flagged") :
	       cfg.use_poll ? "poll" : "busy");
	if (cfg.tx && !q->zerocopy)
		printf(", %u frames per sendto at most", q->tx_budget);
	printf(", %llu syscalls)\n", (unsigned long long)q->kicks);
}

static void report_stats(struct queue *q)
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	if (getsockopt(xsk_socket__fd(q->xsk), SOL_XDP, XDP_STATISTICS, &st, &len))
		return;
	fprintf(stderr,
		"xsk_bare: queue %u: rx_dropped %llu rx_invalid %llu tx_invalid %llu "
		"rx_ring_full %llu fill_ring_empty %llu tx_ring_empty %llu kick_errors %llu\n",
		q->qid, (unsigned long long)st.rx_dropped,
		(unsigned long long)st.rx_invalid_descs,
		(unsigned long long)st.tx_invalid_descs,
		(unsigned long long)st.rx_ring_full,
		(unsigned long long)st.rx_fill_ring_empty_descs,
		(unsigned long long)st.tx_ring_empty_descs,
		(unsigned long long)q->kick_errs);
}

int main(int argc, char **argv)
{
	int qids[MAX_QUEUES] = { 0 }, cpus[MAX_QUEUES];
	int nq = 1, ncpus = 0, opt, err = 0, map_fd = -1;
	struct xsk_redirect_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	int link_fd = -1;
	const char *mode = NULL;
	unsigned int i;

	memset(cfg.dst, 0xff, sizeof(cfg.dst));
	while ((opt = getopt(argc, argv, "i:m:q:C:d:n:I:b:pNczSf:F:H:r:D:tUA:B:vh")) != -1) {
		switch (opt) {
		case 'i': cfg.ifname = optarg; break;
		case 'm': mode = optarg; break;
		case 'q': nq = parse_list("-q", optarg, qids, MAX_QUEUES); break;
		case 'C': ncpus = parse_list("-C", optarg, cpus, MAX_QUEUES); break;
		case 'd': cfg.dur = nb_parse_double("-d", optarg); break;
		case 'n': cfg.max_pkts = nb_parse_u64("-n", optarg); break;
		case 'I': cfg.idle = nb_parse_double("-I", optarg); break;
		case 'b': cfg.batch = (uint32_t)nb_parse_u64("-b", optarg); break;
		case 'p': cfg.use_poll = 1; break;
		case 'N': cfg.need_wakeup = 0; break;
		case 'c': cfg.bind = BIND_COPY; break;
		case 'z': cfg.bind = BIND_ZEROCOPY; break;
		case 'S': cfg.skb_mode = 1; break;
		case 'f': cfg.nframes = (uint32_t)nb_parse_u64("-f", optarg); break;
		case 'F': cfg.frame_size = (uint32_t)nb_parse_u64("-F", optarg); break;
		case 'H': cfg.headroom = (uint32_t)nb_parse_u64("-H", optarg); break;
		case 'r': cfg.ring_size = (uint32_t)nb_parse_u64("-r", optarg); break;
		case 'D':
			if (nb_parse_mac(optarg, cfg.dst)) {
				fprintf(stderr, "xsk_bare: -D '%s' is not a MAC address\n", optarg);
				return 2;
			}
			break;
		case 't': cfg.touch = 1; break;
		case 'U': cfg.unaligned = 1; break;
		case 'A': cfg.fill_adj = strtoll(optarg, NULL, 0); break;
		case 'v': cfg.verbose = 1; break;
		case 'B': cfg.tx_budget = (uint32_t)nb_parse_u64("-B", optarg); break;
		default: usage();
		}
	}
	if (!cfg.ifname || !mode || optind != argc || nq < 1)
		usage();
	if (strcmp(mode, "rx") && strcmp(mode, "tx")) {
		fprintf(stderr, "xsk_bare: mode '%s' unknown (rx, tx)\n", mode);
		return 2;
	}
	cfg.tx = !strcmp(mode, "tx");
	if (!cfg.batch || cfg.batch > cfg.ring_size) {
		fprintf(stderr, "xsk_bare: batch %u out of range 1..%u (ring size)\n",
			cfg.batch, cfg.ring_size);
		return 2;
	}
	if (cfg.ring_size & (cfg.ring_size - 1)) {
		fprintf(stderr, "xsk_bare: ring size %u is not a power of two\n", cfg.ring_size);
		return 2;
	}
	if (cfg.nframes < cfg.batch) {
		fprintf(stderr, "xsk_bare: %u UMEM frames, fewer than a batch (%u)\n",
			cfg.nframes, cfg.batch);
		return 2;
	}
	if (cfg.fill_adj && !cfg.unaligned) {
		fprintf(stderr, "xsk_bare: -A needs -U (aligned mode masks fill addresses)\n");
		return 2;
	}
	if (cfg.dur <= 0 && !cfg.max_pkts) {
		fprintf(stderr, "xsk_bare: need a bound: -d SECS > 0 or -n PKTS\n");
		return 2;
	}
	if (cfg.dur <= 0)
		cfg.dur = 1e9;	/* bounded by -n */
	cfg.ifindex = if_nametoindex(cfg.ifname);
	if (!cfg.ifindex) {
		fprintf(stderr, "xsk_bare: interface '%s': %s\n", cfg.ifname, strerror(errno));
		return 1;
	}
	if (cfg.tx) {
		err = get_mac(cfg.ifname, cfg.src);
		if (err) {
			fprintf(stderr, "xsk_bare: MAC address of '%s': %s\n",
				cfg.ifname, strerror(-err));
			return 1;
		}
	}
	libbpf_set_print(libbpf_quiet);
	nb_signals();

	nqueues = (unsigned int)nq;
	for (i = 0; i < nqueues; i++) {
		queues[i].qid = (uint32_t)qids[i];
		queues[i].cpu = (int)i < ncpus ? cpus[i] : -1;
	}

	if (!cfg.tx) {
		skel = xsk_redirect_bpf__open_and_load();
		if (!skel) {
			err = -errno;
			fprintf(stderr, "xsk_bare: loading the XSKMAP redirect program: %s\n",
				strerror(-err));
			return 1;
		}
		map_fd = bpf_map__fd(skel->maps.xsks);
	}
	for (i = 0; i < nqueues; i++) {
		err = queue_setup(&queues[i]);
		if (err) {
			fprintf(stderr, "xsk_bare: %s queue %u: %s\n", cfg.ifname,
				queues[i].qid, queues[i].errmsg);
			goto out;
		}
		if (!cfg.tx) {
			int fd = xsk_socket__fd(queues[i].xsk);

			if (bpf_map_update_elem(map_fd, &queues[i].qid, &fd, 0)) {
				err = -errno;
				fprintf(stderr, "xsk_bare: XSKMAP entry %u: %s\n",
					queues[i].qid, strerror(-err));
				goto out;
			}
		}
	}
	if (!cfg.tx) {
		/* attach last: every queue's socket is in the map by now */
		if (cfg.skb_mode) {
			LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_SKB_MODE);

			link_fd = bpf_link_create(bpf_program__fd(skel->progs.xsk_redirect),
						  (int)cfg.ifindex, BPF_XDP, &lo);
			if (link_fd < 0)
				err = -errno;
		} else {
			link = bpf_program__attach_xdp(skel->progs.xsk_redirect,
						       (int)cfg.ifindex);
			if (!link)
				err = -errno;
		}
		if (err) {
			fprintf(stderr, "xsk_bare: attaching XDP to '%s' by bpf_link: %s\n",
				cfg.ifname, strerror(-err));
			goto out;
		}
	}
	fprintf(stderr, "xsk_bare: ready on %s (%s, %u queue%s, %s)\n", cfg.ifname,
		mode, nqueues, nqueues > 1 ? "s" : "",
		queues[0].zerocopy ? "zero-copy" : "copy");

	for (i = 0; i < nqueues; i++) {
		err = pthread_create(&queues[i].thread, NULL, queue_thread, &queues[i]);
		if (err) {
			fprintf(stderr, "xsk_bare: thread for queue %u: %s\n",
				queues[i].qid, strerror(err));
			nb_stop = 1;
			nqueues = i;
			err = -err;
			break;
		}
	}
	{
		uint64_t tot = 0;
		double maxsecs = 0, sum_pps = 0;
		char label[32];

		for (i = 0; i < nqueues; i++) {
			struct queue *q = &queues[i];
			uint64_t pkts;
			double secs;

			pthread_join(q->thread, NULL);
			if (q->err) {
				fprintf(stderr, "xsk_bare: queue %u: %s\n", q->qid, q->errmsg);
				err = q->err;
			}
			if (cfg.tx) {
				pkts = q->pkts;
				secs = (double)(q->t1 - q->t0) / 1e9;
			} else {
				pkts = q->win.pkts_last - q->win.pkts_first;
				secs = nb_window_secs(&q->win);
			}
			snprintf(label, sizeof(label), " q%u", q->qid);
			if (nqueues > 1)
				report(label, pkts, secs, q);
			report_stats(q);
			tot += pkts;
			if (secs > maxsecs)
				maxsecs = secs;
			if (secs > 0)
				sum_pps += (double)pkts / secs;
		}
		if (nqueues) {
			/* the total is the sum of the per-queue rates */
			report("", tot, maxsecs > 0 ? (double)tot / sum_pps : 0, &queues[0]);
		}
	}
	fflush(stdout);
out:
	for (i = 0; i < MAX_QUEUES; i++)
		queue_teardown(&queues[i]);
	bpf_link__destroy(link);
	if (link_fd >= 0)
		close(link_fd);
	xsk_redirect_bpf__destroy(skel);
	return err ? 1 : 0;
}
