// SPDX-License-Identifier: BSD-2-Clause
/*
 * pkt-gen's main: the command line, opening the port (one descriptor per
 * thread), starting the workers, the once-per-interval report line, and
 * the closing lines after the workers end (their count is reached, -W
 * idle time, or SIGINT/SIGTERM).
 *
 * Threads: the workers block SIGINT and SIGTERM; the main thread takes
 * them, sets pg_cancel, and the workers notice it within one poll timeout.
 * Each worker posts done_sem as it ends, so the main thread does not
 * wait for the next report tick to print the closing lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <netinet/ether.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <net/netmap_user.h>
#include <libnetmap.h>

#include "pkt-gen.h"

#define PG_STATS_WIN	15	/* -A: samples in the sliding window */

int pg_cancel;
static sem_t done_sem;

struct pg_func_desc {
	const char *key;
	enum pg_func func;
	void *(*body)(void *);
	int default_burst;
};

static const struct pg_func_desc pg_funcs[] = {
	{ "rx",   PG_RX,   pg_rx_body,   512 },
	{ "tx",   PG_TX,   pg_tx_body,   512 },
	{ "ping", PG_PING, pg_ping_body, 1 },
	{ "pong", PG_PONG, pg_pong_body, 1 },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: pkt-gen -i port [-f tx|rx|ping|pong] [options]\n"
"  -i port          netmap port: netmap:IF, IF-N, IF^, IF*, X{N, X}N, valeS:P,\n"
"                   any name nmport_open(3) accepts (\"netmap:\" is implied)\n"
"  -f function      tx, rx (default), ping or pong\n"
"  -n count         packets (tx/rx) or round trips (ping/pong); 0 = forever\n"
"  -l size          frame size in bytes without CRC, 16..65536 (default 60);\n"
"                   given twice: random sizes in [second, first)\n"
"  -b burst         slots per ring per round (default 512; ping/pong 1)\n"
"  -R rate          transmit rate in packets per second (default: line rate)\n"
"  -p threads       threads, one ring each when more than one (default 1)\n"
"  -a cpu           pin thread i to CPU cpu+i\n"
"  -c cpus          CPUs to use for -a (0 = all)\n"
"  -w seconds       wait before starting (default 2, 0 for pipes and VALE)\n"
"  -W               rx: exit after 1 s without traffic\n"
"  -Y               tx/rx: busy-wait on NIOCTXSYNC/NIOCRXSYNC, never sleep in poll\n"
"  -s ip[:port][-ip[:port]]  source address/port or range (10.0.0.1:1234)\n"
"  -d ip[:port][-ip[:port]]  destination (10.1.0.1:1234)\n"
"  -S mac           source MAC (default: the interface's, else 0)\n"
"  -D mac           destination MAC (default ff:ff:ff:ff:ff:ff)\n"
"  -z / -Z          random source / destination address and port\n"
"  -T ms            report interval (default 1000)\n"
"  -N               do not normalize units (pps, bps instead of Kpps, Mbps)\n"
"  -A               add mean/stddev of pps over the last 15 reports\n"
"  -B               count 24 bytes of framing and CRC per packet in raw bps\n"
"  -C tx_slots[,rx_slots[,tx_rings[,rx_rings]]]  ring geometry on open\n"
"  -o options       upstream's OPT_* bits: 1 prefetch, 4 copy, 8 memcpy,\n"
"                   64 dump, 256 rubbish, 2048 pps stats\n"
"  -X               hexdump every frame\n"
"  -r               tx: send the buffers as they are (rubbish)\n"
"  -v               more messages\n"
"  -h               this help\n");
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pkt-gen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(pkt-gen -h for help)\n");
	exit(1);
}

/* A decimal option value in [lo, hi], or exit naming the option. */
static long long opt_num(int opt, const char *arg, long long lo, long long hi)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(arg, &end, 0);
	if (errno || end == arg || *end != '\0' || v < lo || v > hi)
		die_usage("bad -%c %s: must be %lld..%lld", opt, arg, lo, hi);
	return v;
}

static void parse_mac(int opt, const char *arg, struct ether_addr *mac)
{
	if (!ether_aton_r(arg, mac))
		die_usage("bad -%c %s: not a MAC address (aa:bb:cc:dd:ee:ff)", opt, arg);
}

/* The MAC of the interface under the port name, if there is one. */
static int source_mac(const char *port, struct ether_addr *mac)
{
	struct ifaddrs *ifa, *i;
	char name[IFNAMSIZ];
	size_t len;
	int found = 0;

	if (!strncmp(port, "netmap:", 7))
		port += 7;
	len = strcspn(port, "-^*{}@/");
	if (len == 0 || len >= sizeof(name))
		return 0;
	memcpy(name, port, len);
	name[len] = '\0';
	if (getifaddrs(&ifa))
		return 0;
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_ll *sll = (const void *)i->ifa_addr;

		if (!sll || sll->sll_family != AF_PACKET || strcmp(i->ifa_name, name))
			continue;
		if (sll->sll_halen == 6) {
			memcpy(mac, sll->sll_addr, 6);
			found = 1;
		}
		break;
	}
	freeifaddrs(ifa);
	return found;
}

static void parse_ring_conf(const char *conf, struct nmreq_register *reg)
{
	char buf[64], *tok, *save = NULL;
	long long v[4] = { 0, 0, 0, 0 };
	int n = 0;

	if (strlen(conf) >= sizeof(buf))
		die_usage("bad -C %s: too long", conf);
	strcpy(buf, conf);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == 4)
			die_usage("bad -C %s: at most 4 numbers", conf);
		v[n++] = opt_num('C', tok, 0, 1 << 20);
	}
	if (n == 0)
		return;
	reg->nr_tx_slots = v[0];
	reg->nr_rx_slots = n > 1 ? v[1] : v[0];
	reg->nr_tx_rings = v[2];
	reg->nr_rx_rings = n > 3 ? v[3] : v[2];
}

static const struct pg_func_desc *parse_func(const char *arg)
{
	size_t i;

	for (i = 0; i < sizeof(pg_funcs) / sizeof(pg_funcs[0]); i++)
		if (!strcmp(pg_funcs[i].key, arg))
			return &pg_funcs[i];
	if (!strcmp(arg, "txseq") || !strcmp(arg, "rxseq"))
		die_usage("bad -f %s: not supported by this pkt-gen", arg);
	die_usage("bad -f %s: must be tx, rx, ping or pong", arg);
}

static void sig_h(int sig)
{
	(void)sig;
	__atomic_store_n(&pg_cancel, 1, __ATOMIC_RELAXED);
}

/* sqrt without libm, for -A: Newton's method on a non-negative value. */
static double pg_sqrt(double x)
{
	double r = x > 1 ? x : 1;
	int i;

	if (x <= 0)
		return 0;
	for (i = 0; i < 64; i++)
		r = 0.5 * (r + x / r);
	return r;
}

struct pg_run {
	struct pg_conf g;
	const struct pg_func_desc *fn;
	struct nmport_d *nmd;	/* thread 0's descriptor */
	struct pg_thread *threads;
	int win_idx;
	double win[PG_STATS_WIN];
};

static void *thread_main(void *arg)
{
	struct pg_thread *t = arg;
	const struct pg_func_desc *fn = NULL;
	size_t i;

	for (i = 0; i < sizeof(pg_funcs) / sizeof(pg_funcs[0]); i++)
		if (pg_funcs[i].func == t->g->func)
			fn = &pg_funcs[i];
	if (t->affinity >= 0) {
		cpu_set_t set;
		int err;

		CPU_ZERO(&set);
		CPU_SET(t->affinity, &set);
		err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		if (err) {
			D("Unable to set affinity to CPU %d: %s", t->affinity,
			  strerror(err));
			goto out;
		}
	}
	fn->body(t);
out:
	__atomic_store_n(&t->used, 0, __ATOMIC_RELEASE);
	sem_post(&done_sem);
	return NULL;
}

/* Open descriptor i: the whole port, or ring i of it with -p > 1. */
static struct nmport_d *open_port(struct pg_run *r, int i, int *nic_rings)
{
	struct pg_conf *g = &r->g;
	struct nmport_d *d;
	uint32_t mode;

	d = nmport_prepare(g->ifname);
	if (!d)
		return NULL;
	if (g->ring_conf)
		parse_ring_conf(g->ring_conf, &d->reg);
	mode = d->reg.nr_mode;
	if (g->nthreads > 1) {
		switch (mode) {
		case NR_REG_ALL_NIC:
			d->reg.nr_mode = NR_REG_ONE_NIC;
			d->reg.nr_ringid = i;
			break;
		case NR_REG_SW:
			d->reg.nr_mode = NR_REG_ONE_SW;
			d->reg.nr_ringid = i;
			break;
		case NR_REG_NIC_SW:
			/* hardware rings first, then the host rings */
			if (*nic_rings > 0 && i >= *nic_rings) {
				d->reg.nr_mode = NR_REG_ONE_SW;
				d->reg.nr_ringid = i - *nic_rings;
			} else {
				d->reg.nr_mode = NR_REG_ONE_NIC;
				d->reg.nr_ringid = i;
			}
			break;
		default:
			nmport_undo_prepare(d);
			fprintf(stderr, "pkt-gen: bad -p %d: port %s has a single ring pair "
				"(use netmap:IF, IF^ or IF* for one ring per thread)\n",
				g->nthreads, g->ifname);
			exit(1);
		}
		if (i > 0 && g->func == PG_RX)
			d->reg.nr_flags |= NR_NO_TX_POLL;
	}
	if (nmport_open_desc(d) < 0) {
		int err = errno;

		nmport_undo_prepare(d);
		errno = err;
		return NULL;
	}
	if (i == 0 && mode == NR_REG_NIC_SW)
		*nic_rings = g->func == PG_RX ? d->reg.nr_rx_rings : d->reg.nr_tx_rings;
	return d;
}

static void report_ring_layout(const struct nmport_d *d)
{
	const struct nmreq_register *req = &d->reg;
	unsigned i;

	D("nifp at offset %llu ntxqs %d nrxqs %d memid %d",
	  (unsigned long long)req->nr_offset, req->nr_tx_rings, req->nr_rx_rings,
	  req->nr_mem_id);
	for (i = 0; i < (unsigned)req->nr_tx_rings + req->nr_host_tx_rings; i++) {
		struct netmap_ring *ring = NETMAP_TXRING(d->nifp, i);

		D("   TX%u at offset %p slots %u", i,
		  (void *)((char *)ring - (char *)d->nifp), ring->num_slots);
	}
	for (i = 0; i < (unsigned)req->nr_rx_rings + req->nr_host_rx_rings; i++) {
		struct netmap_ring *ring = NETMAP_RXRING(d->nifp, i);

		D("   RX%u at offset %p slots %u", i,
		  (void *)((char *)ring - (char *)d->nifp), ring->num_slots);
	}
}

static void main_thread(struct pg_run *r)
{
	struct pg_conf *g = &r->g;
	struct pg_ctrs prev = { 0, 0, 0, 0 }, cur;
	struct timeval tprev, tcur;
	struct timespec deadline;
	int i, told = 0;

	gettimeofday(&tprev, NULL);
	clock_gettime(CLOCK_REALTIME, &deadline);
	for (;;) {
		char b1[40], b2[40], b3[40], b4[100];
		uint64_t usec, pps, dp, db, de, ms;
		int done = 0, rv;
		double batch;

		deadline.tv_sec += g->report_ms / 1000;
		deadline.tv_nsec += (long)(g->report_ms % 1000) * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		/* sleep until the tick; wake early when a worker ends */
		do {
			rv = sem_timedwait(&done_sem, &deadline);
			if (pg_stop() && !told) {
				D("received control-C, stopping");
				told = 1;
			}
			if (rv == 0) {
				for (i = 0, done = 0; i < g->nthreads; i++)
					done += !__atomic_load_n(&r->threads[i].used,
								 __ATOMIC_ACQUIRE);
				if (done == g->nthreads)
					break;
			}
		} while (rv == 0 || errno == EINTR);

		gettimeofday(&tcur, NULL);
		usec = (tcur.tv_sec - tprev.tv_sec) * 1000000ULL + tcur.tv_usec - tprev.tv_usec;
		memset(&cur, 0, sizeof(cur));
		for (i = 0, done = 0; i < g->nthreads; i++) {
			struct pg_thread *t = &r->threads[i];

			done += !__atomic_load_n(&t->used, __ATOMIC_ACQUIRE);
			cur.pkts += pg_ctr_get(&t->ctr.pkts);
			cur.bytes += pg_ctr_get(&t->ctr.bytes);
			cur.events += pg_ctr_get(&t->ctr.events);
			ms = __atomic_exchange_n(&t->ctr.min_space, UINT64_MAX,
						 __ATOMIC_RELAXED);
			cur.min_space += ms == UINT64_MAX ? 0 : ms;
		}
		if (usec < 10000) {	/* too short to mean anything */
			if (done == g->nthreads)
				break;
			continue;
		}
		dp = cur.pkts - prev.pkts;
		db = cur.bytes - prev.bytes;
		de = cur.events - prev.events;
		pps = (dp * 1000000 + usec / 2) / usec;
		batch = de ? (double)dp / de : 0;
		b4[0] = '\0';
		if (g->options & OPT_PPS_STATS) {
			double avg = 0, dev = 0;
			int k, ns = 0;

			r->win[r->win_idx] = pps;
			r->win_idx = (r->win_idx + 1) % PG_STATS_WIN;
			for (k = 0; k < PG_STATS_WIN; k++)
				if (r->win[k] > 0) {
					avg += r->win[k];
					ns++;
				}
			avg = ns ? avg / ns : 0;
			for (k = 0; k < PG_STATS_WIN; k++)
				if (r->win[k] > 0)
					dev += (r->win[k] - avg) * (r->win[k] - avg);
			dev = ns ? pg_sqrt(dev / ns) : 0;
			snprintf(b4, sizeof(b4), "[avg/std %s/%s pps]",
				 pg_norm(b1, sizeof(b1), avg, g->normalize),
				 pg_norm(b2, sizeof(b2), dev, g->normalize));
		}
		D("%spps %s(%spkts %sbps in %llu usec) %.2f avg_batch %d min_space",
		  pg_norm(b1, sizeof(b1), pps, g->normalize), b4,
		  pg_norm(b2, sizeof(b2), dp, g->normalize),
		  pg_norm(b3, sizeof(b3), 1e6 * (8.0 * db + (double)dp * g->framing) / usec,
			  g->normalize),
		  (unsigned long long)usec, batch, (int)cur.min_space);
		prev = cur;
		tprev = tcur;
		if (done == g->nthreads)
			break;
	}
}

/* Join the workers, close the ports, print the closing lines. */
static int finish(struct pg_run *r)
{
	struct pg_conf *g = &r->g;
	struct timespec tic = { 0, 0 }, toc = { 0, 0 };
	struct pg_ctrs tot = { 0, 0, 0, 0 };
	int i, failed = 0;

	for (i = 0; i < g->nthreads; i++) {
		struct pg_thread *t = &r->threads[i];

		if (t->started)
			pthread_join(t->thread, NULL);
		if (t->nmd)
			nmport_close(t->nmd);
		t->nmd = NULL;
		if (!t->completed) {
			D("ouch, thread %d exited with error", i);
			failed = 1;
			continue;
		}
		tot.pkts += t->ctr.pkts;
		tot.bytes += t->ctr.bytes;
		tot.events += t->ctr.events;
		if (t->ctr.pkts == 0)
			continue;
		/* the run spans the earliest start to the latest end */
		if ((!tic.tv_sec && !tic.tv_nsec) || pg_ts_diff_ns(t->tic, tic) < 0)
			tic = t->tic;
		if (pg_ts_diff_ns(t->toc, toc) > 0)
			toc = t->toc;
	}
	if (g->func == PG_TX)
		pg_closing_lines(g, &tot, tot.pkts ? pg_ts_diff_ns(toc, tic) / 1e9 : 0, "Sent");
	else if (g->func == PG_RX)
		pg_closing_lines(g, &tot, tot.pkts ? pg_ts_diff_ns(toc, tic) / 1e9 : 0,
				 "Received");
	return failed;
}

int main(int argc, char **argv)
{
	static struct pg_run run;
	struct pg_run *r = &run;
	struct pg_conf *g = &r->g;
	int ch, i, wait_link_set = 0, size_done = 0, nic_rings = 0, devqueues;
	const char *src = "10.0.0.1", *dst = "10.1.0.1";
	char ifname[NETMAP_REQ_IFNAMSIZ + 16];
	struct sigaction sa;
	sigset_t ss;

	r->fn = &pg_funcs[0];
	g->func = PG_RX;
	g->func_name = "rx";
	g->pkt_size = 60;
	g->nthreads = 1;
	g->affinity = -1;
	g->cpus = 0;
	g->report_ms = 1000;
	g->normalize = 1;
	g->forever = 1;
	g->wait_link = 2;
	g->dst_mac_name = "ff:ff:ff:ff:ff:ff";

	while ((ch = getopt(argc, argv,
			    "46a:f:F:Nn:i:Il:d:s:D:S:b:c:o:p:T:w:WvR:XC:H:rP:zZAhBM:Y")) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return 0;
		case '4':
			break;
		case '6':
			die_usage("bad -6: IPv6 frames are not supported by this pkt-gen");
		case 'N':
			g->normalize = 0;
			break;
		case 'n':
			g->npackets = opt_num('n', optarg, 0, LLONG_MAX);
			break;
		case 'F':
			if (opt_num('F', optarg, 1, 63) != 1)
				die_usage("bad -F %s: multi-slot packets are not supported "
					  "by this pkt-gen", optarg);
			break;
		case 'M':
			opt_num('M', optarg, 1, PG_MAX_PKT_SIZE);
			break;
		case 'f':
			r->fn = parse_func(optarg);
			g->func = r->fn->func;
			g->func_name = r->fn->key;
			break;
		case 'o':
			g->options |= opt_num('o', optarg, 0, 8191);
			if (g->options & (OPT_INDIRECT | OPT_TS))
				die_usage("bad -o %s: OPT_INDIRECT (32) and OPT_TS (16) are "
					  "not supported by this pkt-gen", optarg);
			break;
		case 'a':
			g->affinity = opt_num('a', optarg, 0, CPU_SETSIZE - 1);
			break;
		case 'i':
			if (strlen(optarg) > NETMAP_REQ_IFNAMSIZ + 8)
				die_usage("bad -i %s: name too long", optarg);
			if (!strncmp(optarg, "tap:", 4) || !strncmp(optarg, "pcap:", 5))
				die_usage("bad -i %s: only netmap ports are supported", optarg);
			if (!strncmp(optarg, "netmap:", 7) || !strncmp(optarg, "vale", 4))
				snprintf(ifname, sizeof(ifname), "%s", optarg);
			else
				snprintf(ifname, sizeof(ifname), "netmap:%s", optarg);
			g->ifname = ifname;
			break;
		case 'I':
			die_usage("bad -I: indirect buffers are not supported by this pkt-gen");
		case 'l':
			if (size_done) {
				g->pkt_min_size = opt_num('l', optarg, PG_MIN_PKT_SIZE,
							  PG_MAX_PKT_SIZE);
			} else {
				g->pkt_size = opt_num('l', optarg, PG_MIN_PKT_SIZE,
						      PG_MAX_PKT_SIZE);
				size_done = 1;
			}
			break;
		case 'd':
			dst = optarg;
			break;
		case 's':
			src = optarg;
			break;
		case 'T':
			g->report_ms = opt_num('T', optarg, 10, 3600 * 1000);
			break;
		case 'w':
			g->wait_link = opt_num('w', optarg, 0, 3600);
			wait_link_set = 1;
			break;
		case 'W':
			g->forever = 0;
			break;
		case 'b':
			g->burst = opt_num('b', optarg, 1, 1 << 20);
			break;
		case 'c':
			g->cpus = opt_num('c', optarg, 0, CPU_SETSIZE);
			break;
		case 'p':
			g->nthreads = opt_num('p', optarg, 1, 128);
			break;
		case 'D':
			g->dst_mac_name = optarg;
			break;
		case 'S':
			g->src_mac_name = optarg;
			break;
		case 'Y':
			g->busy_wait = 1;
			break;
		case 'v':
			g->verbose++;
			break;
		case 'R':
			g->tx_rate = opt_num('R', optarg, 0, LLONG_MAX / 1000000000);
			break;
		case 'X':
			g->options |= OPT_DUMP;
			break;
		case 'C':
			g->ring_conf = optarg;
			break;
		case 'H':
			if (opt_num('H', optarg, 0, 12) != 0)
				die_usage("bad -H %s: virtio-net headers are not supported "
					  "by this pkt-gen", optarg);
			break;
		case 'P':
			die_usage("bad -P %s: pcap input is not supported by this pkt-gen",
				  optarg);
		case 'r':
			g->options |= OPT_RUBBISH;
			break;
		case 'z':
			g->options |= OPT_RANDOM_SRC;
			break;
		case 'Z':
			g->options |= OPT_RANDOM_DST;
			break;
		case 'A':
			g->options |= OPT_PPS_STATS;
			break;
		case 'B':
			g->framing = 24 * 8;	/* 4 bytes CRC + 20 bytes preamble/IFG */
			break;
		default:
			fprintf(stderr, "(pkt-gen -h for help)\n");
			return 1;
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!g->ifname)
		die_usage("missing -i port");
	if (g->burst == 0)
		g->burst = r->fn->default_burst;
	if (g->pkt_min_size && g->pkt_min_size >= g->pkt_size)
		die_usage("bad -l %d: the second -l must be below the first (%d)",
			  g->pkt_min_size, g->pkt_size);
	if ((g->func == PG_PING || g->func == PG_PONG) && g->pkt_size < PG_PING_LEN)
		die_usage("bad -l %d: ping/pong frames need at least %d bytes",
			  g->pkt_size, PG_PING_LEN);
	g->system_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (g->cpus > g->system_cpus)
		die_usage("bad -c %d: only %d CPUs online", g->cpus, g->system_cpus);
	if (g->cpus == 0)
		g->cpus = g->system_cpus;
	if (!wait_link_set && (!strncmp(g->ifname, "vale", 4) ||
			       strpbrk(g->ifname, "{}")))
		g->wait_link = 0;	/* software ports: no link to come up */

	if (g->src_mac_name)
		parse_mac('S', g->src_mac_name, &g->src_mac);
	else if (!source_mac(g->ifname, &g->src_mac))
		memset(&g->src_mac, 0, sizeof(g->src_mac));
	parse_mac('D', g->dst_mac_name, &g->dst_mac);
	if (pg_parse_range(&g->src_ip, src))
		die_usage("bad -s %s: want ip[:port][-ip[:port]]", src);
	if (pg_parse_range(&g->dst_ip, dst))
		die_usage("bad -d %s: want ip[:port][-ip[:port]]", dst);
	if (g->src_ip.ip0 != g->src_ip.ip1 || g->src_ip.port0 != g->src_ip.port1 ||
	    g->dst_ip.ip0 != g->dst_ip.ip1 || g->dst_ip.port0 != g->dst_ip.port1 ||
	    (g->options & (OPT_RANDOM_SRC | OPT_RANDOM_DST)))
		g->options |= OPT_COPY;	/* the template changes per frame */

	r->threads = calloc(g->nthreads, sizeof(*r->threads));
	if (!r->threads) {
		fprintf(stderr, "pkt-gen: out of memory for %d threads\n", g->nthreads);
		return 1;
	}
	r->nmd = open_port(r, 0, &nic_rings);
	if (!r->nmd) {
		fprintf(stderr, "pkt-gen: cannot open %s: %s\n", g->ifname, strerror(errno));
		return 1;
	}
	r->threads[0].nmd = r->nmd;
	if (g->func == PG_TX || g->func == PG_PING)
		devqueues = r->nmd->reg.nr_tx_rings + r->nmd->reg.nr_host_tx_rings;
	else
		devqueues = r->nmd->reg.nr_rx_rings + r->nmd->reg.nr_host_rx_rings;
	if (g->nthreads > 1 && g->nthreads > devqueues) {
		fprintf(stderr, "pkt-gen: bad -p %d: %s has %d %s rings\n", g->nthreads,
			g->ifname, devqueues, g->func == PG_RX ? "RX" : "TX");
		nmport_close(r->nmd);
		return 1;
	}
	if (g->func != PG_RX) {
		struct netmap_ring *ring = NETMAP_TXRING(r->nmd->nifp, r->nmd->first_tx_ring);

		if ((unsigned)g->pkt_size > ring->nr_buf_size) {
			fprintf(stderr, "pkt-gen: bad -l %d: must be 16..%u, the buffer size of %s\n",
				g->pkt_size, ring->nr_buf_size, g->ifname);
			nmport_close(r->nmd);
			return 1;
		}
	}
	if (g->verbose)
		report_ring_layout(r->nmd);
	for (i = 1; i < g->nthreads; i++) {
		r->threads[i].nmd = open_port(r, i, &nic_rings);
		if (!r->threads[i].nmd) {
			fprintf(stderr, "pkt-gen: cannot open ring %d of %s: %s\n", i,
				g->ifname, strerror(errno));
			while (--i >= 0)
				nmport_close(r->threads[i].nmd);
			return 1;
		}
	}

	printf("%s %s: %d queues, %d threads and %d cpus.\n",
	       g->func == PG_TX ? "Sending on" :
	       g->func == PG_RX ? "Receiving from" : "Working on",
	       g->ifname, devqueues, g->nthreads, g->cpus);
	if (g->func == PG_TX)
		printf("%s -> %s (%s -> %s)\n", src, dst,
		       g->src_mac_name ? g->src_mac_name : ether_ntoa(&g->src_mac),
		       g->dst_mac_name);
	fflush(stdout);

	if (g->tx_rate > 0) {
		/* at least ~300 bursts a second, so the rate looks smooth */
		uint64_t lim = g->tx_rate / 300, ns;

		if ((uint64_t)g->burst > lim)
			g->burst = lim ? lim : 1;
		ns = 1000000000ULL * g->burst / g->tx_rate;
		g->tx_period.tv_sec = ns / 1000000000;
		g->tx_period.tv_nsec = ns % 1000000000;
	}
	if (g->func == PG_TX)
		D("Sending %d packets every  %lld.%09ld s", g->burst,
		  (long long)g->tx_period.tv_sec, g->tx_period.tv_nsec);

	for (i = 0; i < g->nthreads; i++) {
		struct pg_thread *t = &r->threads[i];
		uint64_t seed = (uint64_t)time(NULL) * 2654435761u + i;

		t->g = g;
		t->me = i;
		t->used = 1;
		t->affinity = g->affinity >= 0 ? (g->affinity + i) % g->cpus : -1;
		t->ctr.min_space = UINT64_MAX;
		memcpy(t->seed, &seed, sizeof(t->seed));
		pg_frame_init(t);
	}
	if (g->wait_link) {
		D("Wait %d secs for phy reset", g->wait_link);
		sleep(g->wait_link);
		D("Ready...");
	}

	sem_init(&done_sem, 0, 0);
	/* workers inherit a mask with SIGINT/SIGTERM blocked */
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);
	for (i = 0; i < g->nthreads; i++) {
		struct pg_thread *t = &r->threads[i];
		int err = pthread_create(&t->thread, NULL, thread_main, t);

		if (err) {
			D("Unable to create thread %d: %s", i, strerror(err));
			t->used = 0;
			sem_post(&done_sem);
		} else {
			t->started = 1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_h;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	pthread_sigmask(SIG_UNBLOCK, &ss, NULL);

	main_thread(r);
	i = finish(r);
	free(r->threads);
	sem_destroy(&done_sem);
	return i;
}
