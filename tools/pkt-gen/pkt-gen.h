/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pkt-gen: a packet source, sink and ping-pong tool for netmap ports.
 *
 * This header is what the pkt-gen files share: the global configuration
 * (filled once by main.c from the command line, read-only afterwards), the
 * per-thread state, the frame template, and the counters a worker publishes
 * for the reporting thread. The command line, the report lines and the
 * closing lines follow upstream netmap's pkt-gen so that scripts written
 * for it keep working; the code is ours.
 *
 * Files: main.c (options, setup, threads, reports), frame.c (the
 * Ethernet/IPv4/UDP template and its checksums), txrx.c (the tx and rx
 * loops), pingpong.c (ping and pong), report.c (number formatting, log
 * lines, closing lines).
 */
#ifndef PKTGEN_H
#define PKTGEN_H

#include <stdint.h>
#include <pthread.h>
#include <time.h>
#include <netinet/in.h>
#include <net/ethernet.h>

#define PG_MAX_PKT_SIZE	65536	/* -l upper bound, as upstream's MAX_PKTSIZE */
#define PG_MIN_PKT_SIZE	16
#define PG_HDR_LEN	42	/* Ethernet 14 + IPv4 20 + UDP 8 */
#define PG_PING_LEN	54	/* header + 4-byte sequence + 8-byte timestamp */

/* -o bits, upstream's values */
#define OPT_PREFETCH	1
#define OPT_ACCESS	2
#define OPT_COPY	4	/* rewrite every frame (address ranges) */
#define OPT_MEMCPY	8	/* copy the template into every slot */
#define OPT_TS		16
#define OPT_INDIRECT	32
#define OPT_DUMP	64	/* hexdump every frame sent or received */
#define OPT_RUBBISH	256	/* send whatever the buffers hold */
#define OPT_RANDOM_SRC	512
#define OPT_RANDOM_DST	1024
#define OPT_PPS_STATS	2048	/* mean/stddev of pps over a window */
#define OPT_UPDATE_CSUM	4096

enum pg_func { PG_RX, PG_TX, PG_PING, PG_PONG };

/* An IPv4 address and UDP port range, host byte order, inclusive. */
struct pg_range {
	const char *name;	/* as given on the command line */
	uint32_t ip0, ip1;
	uint16_t port0, port1;
};

struct pg_conf {
	const char *ifname;	/* -i, with "netmap:" prepended if needed */
	enum pg_func func;	/* -f */
	const char *func_name;
	uint64_t npackets;	/* -n, 0 = forever */
	int pkt_size;		/* -l */
	int pkt_min_size;	/* second -l: random sizes in [min, size) */
	int burst;		/* -b */
	int wait_link;		/* -w seconds */
	int forever;		/* rx: 0 with -W (exit after 1 s idle) */
	uint64_t tx_rate;	/* -R pps, 0 = as fast as possible */
	struct timespec tx_period; /* time between bursts when rate limited */
	int nthreads;		/* -p */
	int affinity;		/* -a first CPU, -1 = none */
	int cpus;		/* -c, 0 = all */
	int system_cpus;
	int report_ms;		/* -T */
	int normalize;		/* 0 with -N */
	int framing;		/* -B: bits of framing per packet for bw */
	int options;		/* OPT_* */
	int verbose;		/* -v */
	int busy_wait;		/* -Y: spin on sync ioctls instead of poll() */
	const char *ring_conf;	/* -C */
	struct pg_range src_ip, dst_ip;
	const char *src_mac_name, *dst_mac_name;
	struct ether_addr src_mac, dst_mac;
};

/*
 * Counters one worker publishes and the reporting thread samples. Written
 * by the worker only (relaxed atomic stores), read by the main thread
 * (relaxed loads): a sample may be one batch old, never torn.
 */
struct pg_ctrs {
	uint64_t pkts, bytes, events;
	uint64_t min_space;	/* min free slots seen since the last report */
};

struct nmport_d;

/* One worker thread, one netmap descriptor (its own ring range). */
struct pg_thread {
	struct pg_conf *g;
	int me;
	struct nmport_d *nmd;
	pthread_t thread;
	int started;
	int affinity;		/* CPU, -1 = unpinned */
	int completed;		/* 1 when the body ran to its end */
	int used;		/* 1 while running (atomic; cleared on exit) */
	struct pg_ctrs ctr;
	struct timespec tic, toc;	/* first and last packet of the run */
	unsigned short seed[3];	/* nrand48 state for -z/-Z/-l min */
	uint8_t frame[PG_MAX_PKT_SIZE]; /* the template, see frame.c */
};

/* main.c */
extern int pg_cancel;	/* set by SIGINT/SIGTERM, read by the workers */

static inline int pg_stop(void)
{
	return __atomic_load_n(&pg_cancel, __ATOMIC_RELAXED);
}

/* frame.c */
void pg_frame_init(struct pg_thread *t);
void pg_frame_step(struct pg_thread *t);
void pg_frame_set_size(struct pg_thread *t, int size);
uint16_t pg_cksum_fold(uint32_t sum);
uint32_t pg_cksum_add(const void *data, size_t len, uint32_t sum);
int pg_parse_range(struct pg_range *r, const char *opt);
void pg_dump(const char *tag, const uint8_t *p, unsigned len, unsigned slot);

/* txrx.c */
void *pg_tx_body(void *arg);
void *pg_rx_body(void *arg);

/* pingpong.c */
void *pg_ping_body(void *arg);
void *pg_pong_body(void *arg);

/* report.c */
const char *pg_norm(char *buf, size_t len, double val, int normalize);
void pg_log(const char *func, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* upstream's D() line shape, one fprintf per line (threads interleave whole lines) */
#undef D
#define D(...)	pg_log(__func__, __LINE__, __VA_ARGS__)
void pg_closing_lines(const struct pg_conf *g, const struct pg_ctrs *c,
		      double delta, const char *msg);

/* Counter helpers: one writer, one reader, no tearing. */
static inline void pg_ctr_set(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline uint64_t pg_ctr_get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline struct timespec pg_ts_add(struct timespec a, struct timespec b)
{
	a.tv_sec += b.tv_sec;
	a.tv_nsec += b.tv_nsec;
	if (a.tv_nsec >= 1000000000) {
		a.tv_sec++;
		a.tv_nsec -= 1000000000;
	}
	return a;
}

static inline int64_t pg_ts_diff_ns(struct timespec a, struct timespec b)
{
	return (int64_t)(a.tv_sec - b.tv_sec) * 1000000000 +
	       (a.tv_nsec - b.tv_nsec);
}

#endif /* PKTGEN_H */
