// SPDX-License-Identifier: BSD-2-Clause
/*
 * multiqueue: one receiving thread per RX ring of a port, each with its
 * own file descriptor bound to its ring ("port-N"), counting frames and
 * bytes; a per-ring summary at exit.
 *
 *	multiqueue -i netmap:eth0 -t 10
 *	multiqueue -i 'netmap:x}0' -n 1000	(a pipe made with @conf:rings=2)
 *
 * This is how netmap spreads a NIC's load over cores: a descriptor per
 * ring pair, each polled by its own thread, no lock between them. The
 * port is opened once first to learn how many RX rings it has; the
 * "-N" ring suffix goes right after the port's name, before any @ option.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <net/netmap_user.h>
#include <libnetmap.h>

#define MQ_MAX_RINGS	256

struct mq_ring {
	pthread_t tid;
	unsigned int ring;
	char name[256];
	struct nmport_d *d;
	uint64_t pkts, bytes;	/* written by this ring's thread only */
} __attribute__((aligned(64)));

static int stop;		/* set by main on signal, deadline or count */
static uint64_t total;		/* frames, all rings (atomic) */
static uint64_t count;		/* stop after this many (0: no limit) */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: multiqueue -i port [-n count] [-t seconds]\n"
"  -i port     netmap port, all its rings (netmap:eth0, netmap:x}0, ...); one\n"
"              thread per RX ring, each opening port-N\n"
"  -n count    exit after count frames on all rings (default 0: no limit)\n"
"  -t seconds  exit after this many seconds (default 0: no limit)\n"
"Ends on SIGINT/SIGTERM too, printing frames and bytes per ring.\n");
}

static unsigned long num_arg(int opt, const char *arg, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || v > max) {
		fprintf(stderr, "multiqueue: bad -%c '%s': must be a number 0..%lu\n",
			opt, arg, max);
		exit(1);
	}
	return v;
}

static void *mq_body(void *arg)
{
	struct mq_ring *mr = arg;
	struct nmport_d *d = mr->d;
	struct netmap_ring *ring = NETMAP_RXRING(d->nifp, d->first_rx_ring);

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
		uint64_t got = 0;
		uint32_t j;

		if (poll(&pfd, 1, 100) < 0 && errno != EINTR) {
			fprintf(stderr, "multiqueue: poll on %s: %s\n", mr->name, strerror(errno));
			break;
		}
		for (j = ring->head; j != ring->tail; j = nm_ring_next(ring, j)) {
			mr->bytes += ring->slot[j].len;
			if (!(ring->slot[j].flags & NS_MOREFRAG))
				got++;
		}
		ring->head = ring->cur = j;
		mr->pkts += got;
		if (got && count &&
		    __atomic_add_fetch(&total, got, __ATOMIC_RELAXED) >= count)
			break;
	}
	/* give the last slots back */
	ioctl(d->fd, NIOCRXSYNC, NULL);
	return NULL;
}

/* port + "-N", the ring suffix placed after the port's name */
static int ring_name(char *buf, size_t size, const char *port, unsigned int ring)
{
	struct nmreq_header hdr;
	const char *rest = port;
	int n;

	memset(&hdr, 0, sizeof(hdr));
	if (nmreq_header_decode(&rest, &hdr, nmctx_get()) < 0) {
		fprintf(stderr, "multiqueue: bad port name '%s'\n", port);
		return -1;
	}
	if (*rest == '^' || *rest == '*' || *rest == '-') {
		fprintf(stderr, "multiqueue: %s: give the port without a ring mode ('%c'): "
			"multiqueue opens each ring itself\n", port, *rest);
		return -1;
	}
	n = snprintf(buf, size, "%.*s-%u%s", (int)(rest - port), port, ring, rest);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "multiqueue: %s: name too long\n", port);
		return -1;
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
}

int main(int argc, char **argv)
{
	unsigned long seconds = 0;
	const char *port = NULL;
	struct mq_ring *rings = NULL;
	char probe[sizeof(rings->name)];
	struct nmport_d *all;
	unsigned int nrings, i, started = 0;
	uint64_t pkts = 0, bytes = 0;
	struct sigaction sa;
	time_t deadline = 0;
	sigset_t ss, old;
	int ch, ret = 0, err;

	while ((ch = getopt(argc, argv, "hi:n:t:")) != -1) {
		switch (ch) {
		case 'i':
			port = optarg;
			break;
		case 'n':
			count = num_arg('n', optarg, ~0UL);
			break;
		case 't':
			seconds = num_arg('t', optarg, 86400UL * 365);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc || !port) {
		if (optind < argc)
			fprintf(stderr, "multiqueue: unexpected argument '%s'\n", argv[optind]);
		else
			fprintf(stderr, "multiqueue: missing -i port\n");
		usage(stderr);
		return 1;
	}

	/* the name must take a ring suffix */
	if (ring_name(probe, sizeof(probe), port, 0))
		return 1;
	/* the whole port, to learn the ring count (and to create it) */
	all = nmport_open(port);
	if (!all) {
		fprintf(stderr, "multiqueue: cannot open %s: %s\n", port, strerror(errno));
		return 1;
	}
	nrings = all->nifp->ni_rx_rings;
	if (nrings == 0 || nrings > MQ_MAX_RINGS) {
		fprintf(stderr, "multiqueue: %s has %u RX rings, want 1..%d\n", port,
			nrings, MQ_MAX_RINGS);
		nmport_close(all);
		return 1;
	}
	rings = calloc(nrings, sizeof(*rings));
	if (!rings) {
		fprintf(stderr, "multiqueue: out of memory for %u rings\n", nrings);
		nmport_close(all);
		return 1;
	}
	for (i = 0; i < nrings; i++) {
		rings[i].ring = i;
		if (ring_name(rings[i].name, sizeof(rings[i].name), port, i)) {
			ret = 1;
			goto out;
		}
		rings[i].d = nmport_open(rings[i].name);
		if (!rings[i].d) {
			fprintf(stderr, "multiqueue: cannot open ring %u as %s: %s\n", i,
				rings[i].name, strerror(errno));
			ret = 1;
			goto out;
		}
	}
	/* the per-ring descriptors hold the port now */
	nmport_close(all);
	all = NULL;

	/* threads leave SIGINT/SIGTERM to the main thread */
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &ss, &old);
	for (i = 0; i < nrings; i++) {
		err = pthread_create(&rings[i].tid, NULL, mq_body, &rings[i]);
		if (err) {
			fprintf(stderr, "multiqueue: thread for %s: %s\n", rings[i].name,
				strerror(err));
			ret = 1;
			__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
			break;
		}
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (seconds)
		deadline = time(NULL) + (time_t)seconds;
	fprintf(stderr, "multiqueue: %s: %u RX ring(s), one thread each\n", port, nrings);

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		if (deadline && time(NULL) >= deadline)
			break;
		if (count && __atomic_load_n(&total, __ATOMIC_RELAXED) >= count)
			break;
		usleep(20000);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < started; i++)
		pthread_join(rings[i].tid, NULL);

	for (i = 0; i < nrings; i++) {
		printf("ring %u: %" PRIu64 " packets %" PRIu64 " bytes\n", i,
		       rings[i].pkts, rings[i].bytes);
		pkts += rings[i].pkts;
		bytes += rings[i].bytes;
	}
	printf("total: %" PRIu64 " packets %" PRIu64 " bytes\n", pkts, bytes);
out:
	for (i = 0; i < nrings; i++)
		if (rings[i].d)
			nmport_close(rings[i].d);
	if (all)
		nmport_close(all);
	free(rings);
	return ret;
}
