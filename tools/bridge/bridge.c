// SPDX-License-Identifier: BSD-2-Clause
/*
 * bridge: forward every frame between two netmap ports, both directions, as
 * upstream's bridge(8) does. With one port, the port's NIC rings are bridged
 * with its host rings ("port^" and "port").
 *
 * The second port is opened in the first one's memory region when it can
 * be (its nr_mem_id set to the first's, unless the name picks a region with
 * @N or @share=), so that forwarding is a swap of buffer indices (both slots
 * marked NS_BUF_CHANGED) rather than a copy. If the two ports end up in
 * different regions, or -c is given, the frame is copied.
 *
 * A frame split over several slots (NS_MOREFRAG on all but the last) moves
 * as a whole: it is forwarded only when its last slot has arrived and the
 * TX ring has room for all of it. The one exception is a chain that fills
 * the RX ring on its own, which could never complete: it is forwarded as it
 * is, so the ring does not stall.
 *
 * Only ring-level netmap API is used (NETMAP_RXRING/TXRING, NETMAP_BUF,
 * poll), so any port type works: NIC, pipe, VALE, monitor.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <net/netmap_user.h>
#include <libnetmap.h>

#define BRIDGE_BURST_MAX	8192
#define BRIDGE_WAIT_MAX		100
#define BRIDGE_POLL_MS		2500

/* One direction of traffic: src's RX rings into dst's TX rings. */
struct bridge_dir {
	struct nmport_d *src, *dst;
	const char *src_name, *dst_name;
	uint64_t pkts;		/* frames forwarded (a chain counts once) */
	uint64_t slots;		/* slots forwarded */
	uint64_t bytes;
	uint64_t drops;		/* frames dropped: bad length, too long to copy */
};

struct bridge_cfg {
	unsigned int burst;	/* slots per ring pair per round */
	int zerocopy;
	int verbose;
};

static volatile sig_atomic_t do_abort;

static void sigint_h(int sig)
{
	(void)sig;
	do_abort = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: bridge -i port1 [-i port2] [-b burst] [-w wait_link] [-c] [-L] [-v]\n"
"       bridge [options] port1 [port2 [burst]]\n"
"  -i port       a netmap port (nmport_open(3) syntax: netmap:eth0, X{N, X}N,\n"
"                valeS:P, ...); give it twice to bridge two ports. Given once,\n"
"                the port's NIC rings are bridged with its host rings (port^)\n"
"  -b burst      slots moved per ring pair per round, 1..%d (default 1024)\n"
"  -w wait_link  seconds to wait before forwarding, 0..%d (default 4)\n"
"  -c            copy frames even when the two ports share memory\n"
"  -L            one port: forward its RX rings back to its own TX rings\n"
"  -v            more messages (repeat for per-frame messages)\n"
"  -h            this help\n"
"Runs until SIGINT or SIGTERM, then prints the frames forwarded each way.\n"
"Example: bridge -w 0 -i netmap:eth1 -i netmap:eth2\n",
		BRIDGE_BURST_MAX, BRIDGE_WAIT_MAX);
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bridge: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(bridge -h for help)\n");
	exit(1);
}

static unsigned int opt_num(const char *what, const char *arg, unsigned int lo,
			    unsigned int hi)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end != '\0' || arg[0] == '-' || v < lo || v > hi)
		die_usage("bad %s '%s': must be %u..%u", what, arg, lo, hi);
	return (unsigned int)v;
}

/* Slots the program holds on the bound RX (tx == 0) or TX rings of d. */
static unsigned int slots_avail(struct nmport_d *d, int tx)
{
	unsigned int i, tot = 0;

	if (tx) {
		for (i = d->first_tx_ring; i <= d->last_tx_ring; i++)
			tot += nm_ring_space(NETMAP_TXRING(d->nifp, i));
	} else {
		for (i = d->first_rx_ring; i <= d->last_rx_ring; i++)
			tot += nm_ring_space(NETMAP_RXRING(d->nifp, i));
	}
	return tot;
}

/*
 * Slots in the frame starting at RX slot j, if it is complete within the
 * avail slots the program holds; 0 if its last slot has not arrived yet.
 */
static unsigned int chain_len(struct netmap_ring *rx, uint32_t j, unsigned int avail)
{
	unsigned int n = 1;

	while (rx->slot[j].flags & NS_MOREFRAG) {
		if (n == avail)
			return 0;
		j = nm_ring_next(rx, j);
		n++;
	}
	return n;
}

/*
 * Move whole frames from rx to tx, at most limit slots (but at least one
 * frame if there is room for it). Returns the slots consumed from rx.
 */
static unsigned int forward_rings(struct netmap_ring *rx, struct netmap_ring *tx,
				  unsigned int limit, const struct bridge_cfg *cfg,
				  struct bridge_dir *dir)
{
	unsigned int rx_av = nm_ring_space(rx), tx_av = nm_ring_space(tx);
	unsigned int done = 0;
	uint32_t j = rx->head, k = tx->head;

	if (cfg->verbose && (rx->flags || tx->flags))
		fprintf(stderr, "bridge: %s -> %s: ring flags rx 0x%x tx 0x%x\n",
			dir->src_name, dir->dst_name, rx->flags, tx->flags);

	while (rx_av > 0) {
		unsigned int n = chain_len(rx, j, rx_av), i, ok = 1;
		uint32_t jj;

		if (n == 0) {
			/* incomplete: wait for the rest, unless it can never fit */
			if (rx_av < rx->num_slots - 1)
				break;
			n = rx_av;
		}
		if (done > 0 && done + n > limit)
			break;
		/* validate every fragment before touching the TX ring */
		for (i = 0, jj = j; i < n; i++, jj = nm_ring_next(rx, jj)) {
			uint32_t len = rx->slot[jj].len;

			if (len > rx->nr_buf_size ||
			    (!cfg->zerocopy && len > tx->nr_buf_size))
				ok = 0;
		}
		if (!ok) {
			if (cfg->verbose)
				fprintf(stderr, "bridge: %s -> %s: dropping a frame of %u slot(s): "
					"a fragment is longer than a buffer\n",
					dir->src_name, dir->dst_name, n);
			for (i = 0; i < n; i++)
				j = nm_ring_next(rx, j);
			rx_av -= n;
			done += n;
			dir->drops++;
			continue;
		}
		if (n > tx_av)
			break;
		for (i = 0; i < n; i++) {
			struct netmap_slot *rs = &rx->slot[j], *ts = &tx->slot[k];

			if (cfg->zerocopy) {
				uint32_t idx = ts->buf_idx;

				ts->buf_idx = rs->buf_idx;
				rs->buf_idx = idx;
				rs->flags |= NS_BUF_CHANGED;
				ts->flags = NS_BUF_CHANGED | (rs->flags & NS_MOREFRAG);
			} else {
				memcpy(NETMAP_BUF(tx, ts->buf_idx),
				       NETMAP_BUF(rx, rs->buf_idx), rs->len);
				ts->flags = rs->flags & NS_MOREFRAG;
			}
			ts->len = rs->len;
			dir->bytes += rs->len;
			if (cfg->verbose > 1)
				fprintf(stderr, "bridge: %s -> %s: len %u rx[%u] -> tx[%u]\n",
					dir->src_name, dir->dst_name, rs->len, j, k);
			j = nm_ring_next(rx, j);
			k = nm_ring_next(tx, k);
		}
		rx_av -= n;
		tx_av -= n;
		done += n;
		dir->slots += n;
		dir->pkts++;
	}
	rx->head = rx->cur = j;
	tx->head = tx->cur = k;
	return done;
}

/* One round of dir: every bound RX ring into the bound TX rings in turn. */
static void forward(struct bridge_dir *dir, const struct bridge_cfg *cfg)
{
	struct nmport_d *s = dir->src, *d = dir->dst;
	unsigned int si = s->first_rx_ring, di = d->first_tx_ring;

	while (si <= s->last_rx_ring && di <= d->last_tx_ring) {
		struct netmap_ring *rx = NETMAP_RXRING(s->nifp, si);
		struct netmap_ring *tx = NETMAP_TXRING(d->nifp, di);

		if (nm_ring_empty(rx)) {
			si++;
			continue;
		}
		if (nm_ring_empty(tx)) {
			di++;
			continue;
		}
		if (forward_rings(rx, tx, cfg->burst, cfg, dir) == 0) {
			/*
			 * Nothing moved: the head frame is incomplete, or
			 * longer than the room left on this TX ring.
			 */
			if (chain_len(rx, rx->head, nm_ring_space(rx)) == 0)
				si++;
			else
				di++;
		}
	}
}

/*
 * Open the second port in the first one's region when the name does not
 * choose one itself. If the port already lives elsewhere (a pipe whose
 * other end is open in another region), the forced open fails quietly and
 * the port is opened where it is; the bridge then copies.
 */
static struct nmport_d *open_peer(const char *name, struct nmport_d *first)
{
	struct nmport_d *d = nmport_prepare(name);
	struct nmctx *ctx;
	int verbose;

	if (!d)
		return NULL;
	if (d->reg.nr_mem_id == 0 && first->reg.nr_mem_id != 0) {
		struct nmreq_register saved = d->reg;

		d->reg.nr_mem_id = first->reg.nr_mem_id;
		ctx = d->ctx;
		verbose = ctx->verbose;
		ctx->verbose = 0;
		if (nmport_open_desc(d) == 0) {
			ctx->verbose = verbose;
			return d;
		}
		ctx->verbose = verbose;
		d->reg = saved;
	}
	if (nmport_open_desc(d) < 0) {
		int err = errno;

		nmport_undo_prepare(d);
		errno = err;
		return NULL;
	}
	return d;
}

/*
 * "netmap:eth0" -> "netmap:eth0^": the mode goes right after the port's
 * name, before any @ or / suffix. A name that already has a ring mode
 * cannot also be bridged with its host rings.
 */
static char *host_name(const char *name)
{
	struct nmreq_header hdr;
	const char *rest = name;
	size_t at;
	char *s;

	memset(&hdr, 0, sizeof(hdr));
	if (nmreq_header_decode(&rest, &hdr, nmctx_get()) < 0)
		die_usage("bad port name '%s'", name);
	if (*rest == '^' || *rest == '*' || *rest == '-')
		die_usage("one port '%s': give it without a ring mode (%c...), "
			  "bridge adds '^' for the host rings", name, *rest);
	at = (size_t)(rest - name);
	s = malloc(strlen(name) + 2);
	if (!s) {
		perror("bridge: malloc");
		exit(1);
	}
	memcpy(s, name, at);
	s[at] = '^';
	strcpy(s + at + 1, rest);
	return s;
}

static void print_stats(const struct bridge_dir *dir)
{
	printf("%s -> %s: %" PRIu64 " packets %" PRIu64 " bytes %" PRIu64
	       " slots %" PRIu64 " dropped\n", dir->src_name, dir->dst_name,
	       dir->pkts, dir->bytes, dir->slots, dir->drops);
}

/*
 * Hand the last forwarded slots to the port and wait, a bounded while, until
 * it has sent them: a NIC port sends in the background and closing it drops
 * what it has not sent yet. A pipe whose peer has left never drains: the
 * bound is what ends the wait then.
 */
static void tx_drain(struct nmport_d *d)
{
	unsigned int i, tries;

	for (tries = 0; tries < 500; tries++) {
		int pending = 0;

		if (ioctl(d->fd, NIOCTXSYNC, NULL) < 0)
			return;
		for (i = d->first_tx_ring; i <= d->last_tx_ring; i++)
			pending |= nm_tx_pending(NETMAP_TXRING(d->nifp, i));
		if (!pending)
			return;
		usleep(1000);
	}
}

int main(int argc, char **argv)
{
	struct bridge_cfg cfg = { .burst = 1024, .zerocopy = 1 };
	struct bridge_dir ab = { 0 }, ba = { 0 };
	struct nmport_d *pa = NULL, *pb = NULL;
	const char *ifa = NULL, *ifb = NULL;
	char *hostbuf = NULL;
	unsigned int wait_link = 4;
	int ch, loopback = 0, ret = 0;
	struct pollfd pfd[2];
	struct sigaction sa;

	while ((ch = getopt(argc, argv, "hb:ci:vw:L")) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return 0;
		case 'b':
			cfg.burst = opt_num("burst -b", optarg, 1, BRIDGE_BURST_MAX);
			break;
		case 'i':
			if (!ifa)
				ifa = optarg;
			else if (!ifb)
				ifb = optarg;
			else
				die_usage("-i %s: already have two ports (%s, %s)",
					  optarg, ifa, ifb);
			break;
		case 'c':
			cfg.zerocopy = 0;
			break;
		case 'v':
			cfg.verbose++;
			break;
		case 'w':
			wait_link = opt_num("wait_link -w", optarg, 0, BRIDGE_WAIT_MAX);
			break;
		case 'L':
			loopback = 1;
			break;
		default:
			die_usage("unknown option or missing value");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0 && ifb)
		die_usage("unexpected argument '%s': two ports given with -i already", argv[0]);
	if (argc > 0) {
		if (!ifa)
			ifa = *argv++;
		else
			ifb = *argv++;
		argc--;
	}
	if (argc > 0 && !ifb) {
		ifb = *argv++;
		argc--;
	}
	if (argc > 0) {
		cfg.burst = opt_num("burst", *argv++, 1, BRIDGE_BURST_MAX);
		argc--;
	}
	if (argc > 0)
		die_usage("unexpected argument '%s'", *argv);
	if (!ifa)
		die_usage("missing port: give one or two with -i");
	if (loopback && ifb && strcmp(ifa, ifb))
		die_usage("-L takes one port, not two (%s, %s)", ifa, ifb);

	if (ifb && !strcmp(ifa, ifb) && !loopback)
		die_usage("the same port '%s' twice: give it once to bridge it with "
			  "its host rings, or use -L for loopback", ifa);
	if (!ifb && !loopback) {
		/* one port: its host rings on one side, its NIC rings on the other */
		ifb = ifa;
		hostbuf = host_name(ifa);
		ifa = hostbuf;
		fprintf(stderr, "bridge: one port: bridging %s with its host rings %s\n",
			ifb, ifa);
	}

	pa = nmport_open(ifa);
	if (!pa) {
		int err = errno;

		fprintf(stderr, "bridge: cannot open %s: %s\n", ifa, strerror(err));
		if (hostbuf && (err == EOPNOTSUPP || err == EINVAL))
			fprintf(stderr, "bridge: %s: host rings are not available on this port "
				"(or in this build); give two ports with -i\n", ifa);
		ret = 1;
		goto out;
	}
	if (loopback) {
		pb = pa;
		ifb = ifa;
	} else {
		pb = open_peer(ifb, pa);
		if (!pb) {
			fprintf(stderr, "bridge: cannot open %s: %s\n", ifb, strerror(errno));
			ret = 1;
			goto out_pa;
		}
	}
	cfg.zerocopy = cfg.zerocopy && pa->mem == pb->mem;
	fprintf(stderr, "bridge: ------- zerocopy %ssupported (%s mem %u, %s mem %u%s)\n",
		cfg.zerocopy ? "" : "NOT ", ifa, pa->reg.nr_mem_id, ifb,
		pb->reg.nr_mem_id, pa->mem == pb->mem && !cfg.zerocopy ? ", -c" : "");

	ab = (struct bridge_dir){ .src = pa, .dst = pb, .src_name = ifa, .dst_name = ifb };
	ba = (struct bridge_dir){ .src = pb, .dst = pa, .src_name = ifb, .dst_name = ifa };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sigint_h;	/* no SA_RESTART: poll() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (wait_link) {
		fprintf(stderr, "bridge: wait %u secs for link to come up...\n", wait_link);
		for (unsigned int s = 0; s < wait_link && !do_abort; s++)
			sleep(1);
	}
	fprintf(stderr, "bridge: ready to go, %s %u/%u <-> %s %u/%u\n",
		ifa, pa->first_rx_ring, pa->reg.nr_rx_rings,
		ifb, pb->first_rx_ring, pb->reg.nr_rx_rings);
	fflush(stderr);

	memset(pfd, 0, sizeof(pfd));
	pfd[0].fd = pa->fd;
	pfd[1].fd = pb->fd;
	while (!do_abort) {
		unsigned int n0 = slots_avail(pa, 0), n1 = slots_avail(pb, 0);
		int nfds = loopback ? 1 : 2, r;

		/*
		 * Frames waiting on one side: wait for room on the other.
		 * None: wait for frames. poll() also syncs the TX rings.
		 */
		pfd[0].events = pfd[1].events = 0;
		pfd[0].revents = pfd[1].revents = 0;
		if (n0)
			pfd[1 % nfds].events |= POLLOUT;
		else
			pfd[0].events |= POLLIN;
		if (n1)
			pfd[0].events |= POLLOUT;
		else
			pfd[1 % nfds].events |= POLLIN;
		r = poll(pfd, nfds, BRIDGE_POLL_MS);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "bridge: poll: %s\n", strerror(errno));
			ret = 1;
			break;
		}
		if (cfg.verbose && r == 0)
			fprintf(stderr, "bridge: poll timeout: %s rx %u tx %u, %s rx %u tx %u\n",
				ifa, slots_avail(pa, 0), slots_avail(pa, 1),
				ifb, slots_avail(pb, 0), slots_avail(pb, 1));
		if ((pfd[0].revents | pfd[1].revents) & POLLERR)
			fprintf(stderr, "bridge: error reported by poll on %s\n",
				pfd[0].revents & POLLERR ? ifa : ifb);
		if (loopback) {
			if (pfd[0].revents & POLLOUT)
				forward(&ab, &cfg);
			continue;
		}
		if (pfd[0].revents & POLLOUT)
			forward(&ba, &cfg);
		if (pfd[1].revents & POLLOUT)
			forward(&ab, &cfg);
	}

	/* hand the last forwarded slots to the peers, give the RX slots back */
	tx_drain(pa);
	ioctl(pa->fd, NIOCRXSYNC, NULL);
	if (pb != pa) {
		tx_drain(pb);
		ioctl(pb->fd, NIOCRXSYNC, NULL);
	}
	print_stats(&ab);
	if (!loopback)
		print_stats(&ba);
	fflush(stdout);

	if (pb != pa)
		nmport_close(pb);
out_pa:
	nmport_close(pa);
out:
	free(hostbuf);
	return ret;
}
