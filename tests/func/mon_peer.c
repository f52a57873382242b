// SPDX-License-Identifier: BSD-2-Clause
/*
 * mon_peer - one end of the monitor tests: a port that sends and/or
 * receives frames whose every byte follows from (sender id, sequence
 * number), or a monitor of such a port (nmport_open("X/t") etc.) that
 * checks every byte of every copy it gets. Linked with libnetmap.a, the
 * monitor also prints its counters (unm_monitor_stats).
 *
 *   mon_peer [opts] tx PORT     send -n frames as sender -i
 *   mon_peer [opts] rx PORT     receive -n frames
 *   mon_peer [opts] txrx PORT   both at once: send -n, receive -n
 *   mon_peer [opts] mon PORT    PORT is a monitor ("x{0/t"): receive -n
 *                               copies, or until -t seconds / SIGTERM
 *   mon_peer [opts] hold PORT   a monitor that never reads: print "ready",
 *                               sleep until -t seconds / SIGTERM
 *   mon_peer badtx PORT         a monitor sends a frame: the sync must say
 *                               POLLERR and put the TX ring back
 *
 *   -n N     frames (default 1000)     -t S     time bound (default 10 s)
 *   -i ID    sender id, 1..255 (default 1): the source MAC's last byte
 *   -W FILE  after "ready", wait (bounded by -t) for FILE before sending
 *   -R PPS   send at most PPS frames per second
 *   -O       rx: frames may arrive out of sequence (several NIC queues)
 *
 * A frame: broadcast destination, source 02:00:00:00:00:ID, ethertype
 * 0x88b5, the sequence number k (8 bytes), then bytes (k * 31 + i + ID);
 * its length is 60 + (k * 7) % 200. Every receiver and monitor checks
 * all of it and prints one line:
 *
 *   rx:  "received R bad B order O"      (O: frames out of sequence)
 *   mon: "frames F bad B id1 A id2 C seqs1 S seqs2 T mon_frames MF mon_drops MD"
 *        (A, C: good copies from sender 1 and 2; S, T: distinct sequence
 *        numbers among them; MF, MD: the monitor's counters)
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LIBNETMAP_NOTHREADSAFE
#include <libnetmap.h>
#include <net/netmap_user.h>

#include "core/unm.h"

static uint64_t opt_n = 1000;
static double opt_t = 10, opt_rate;
static unsigned opt_id = 1;
static const char *opt_wait;
static bool opt_any_order;
static volatile sig_atomic_t stop;
static struct nmport_d *d;

#define MAXSEQ	(1u << 20)
static uint8_t seen[3][MAXSEQ / 8];	/* sequence numbers seen, per sender 1, 2 */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned frame_len(uint64_t k)
{
	return 60 + (unsigned)((k * 7) % 200);
}

static void frame(char *buf, unsigned id, uint64_t k)
{
	unsigned i, len = frame_len(k);

	memset(buf, 0xff, 6);
	memcpy(buf + 6, "\x02\x00\x00\x00\x00", 5);
	buf[11] = (char)id;
	buf[12] = (char)0x88;
	buf[13] = (char)0xb5;
	memcpy(buf + 14, &k, 8);
	for (i = 22; i < len; i++)
		buf[i] = (char)(k * 31 + i + id);
}

/* 1 if buf/len is exactly what sender id wrote as frame k; *idp, *kp */
static bool frame_ok(const unsigned char *buf, unsigned len, unsigned *idp, uint64_t *kp)
{
	uint64_t k;
	unsigned i, id;

	if (len < 22 || buf[12] != 0x88 || buf[13] != 0xb5)
		return false;
	id = buf[11];
	memcpy(&k, buf + 14, 8);
	*idp = id;
	*kp = k;
	if (len != frame_len(k))
		return false;
	for (i = 0; i < 6; i++)
		if (buf[i] != 0xff)
			return false;
	if (memcmp(buf + 6, "\x02\x00\x00\x00\x00", 5))
		return false;
	for (i = 22; i < len; i++)
		if (buf[i] != (unsigned char)(k * 31 + i + id))
			return false;
	return true;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* queue up to max frames in the TX rings; returns frames queued */
static uint64_t queue_tx(uint64_t next, uint64_t max)
{
	uint64_t sent = 0;
	unsigned r;

	for (r = d->first_tx_ring; r <= d->last_tx_ring && sent < max; r++) {
		struct netmap_ring *ring = NETMAP_TXRING(d->nifp, r);

		while (!nm_ring_empty(ring) && sent < max) {
			struct netmap_slot *s = &ring->slot[ring->cur];

			frame(NETMAP_BUF(ring, s->buf_idx), opt_id, next + sent);
			s->len = frame_len(next + sent);
			s->flags = 0;
			ring->head = ring->cur = nm_ring_next(ring, ring->cur);
			sent++;
		}
	}
	return sent;
}

struct rx_state {
	uint64_t rcvd, bad, order, next;
	uint64_t per[3], distinct[3];
};

static void rx_pass(struct rx_state *st, bool mon)
{
	unsigned r;

	for (r = d->first_rx_ring; r <= d->last_rx_ring; r++) {
		struct netmap_ring *ring = NETMAP_RXRING(d->nifp, r);

		while (!nm_ring_empty(ring)) {
			struct netmap_slot *s = &ring->slot[ring->cur];
			const unsigned char *buf = (unsigned char *)NETMAP_BUF(ring, s->buf_idx);
			unsigned id;
			uint64_t k;

			st->rcvd++;
			if (!frame_ok(buf, s->len, &id, &k)) {
				st->bad++;
			} else if (!mon) {
				if (k != st->next && !opt_any_order)
					st->order++;
				st->next = k + 1;
			} else if (id >= 1 && id <= 2 && k < MAXSEQ) {
				st->per[id]++;
				if (!(seen[id][k / 8] & (1u << (k % 8)))) {
					seen[id][k / 8] |= 1u << (k % 8);
					st->distinct[id]++;
				}
			} else {
				st->bad++;
			}
			ring->head = ring->cur = nm_ring_next(ring, ring->cur);
		}
	}
}

static void mon_print(const struct rx_state *st)
{
	struct unm_priv_local *pl = unm_fd_get(d->fd);
	uint64_t mf = 0, md = 0;

	if (!pl || unm_monitor_stats(unm_k->privs[pl->slot].port, &mf, &md))
		printf("(no monitor counters) ");
	printf("frames %" PRIu64 " bad %" PRIu64 " id1 %" PRIu64 " id2 %" PRIu64
	       " seqs1 %" PRIu64 " seqs2 %" PRIu64 " mon_frames %" PRIu64 " mon_drops %" PRIu64 "\n",
	       st->rcvd, st->bad, st->per[1], st->per[2], st->distinct[1], st->distinct[2], mf, md);
	fflush(stdout);
}

static int wait_file(double t0)
{
	struct stat sb;

	if (!opt_wait)
		return 0;
	while (stat(opt_wait, &sb) < 0) {
		if (stop || now_s() - t0 > opt_t) {
			fprintf(stderr, "%s: never appeared\n", opt_wait);
			return -1;
		}
		usleep(2000);
	}
	return 0;
}

static int run(bool tx, bool rx, bool mon)
{
	struct pollfd pfd = { .fd = d->fd };
	struct rx_state st = { 0 };
	uint64_t sent = 0;
	double t0 = now_s(), ts;

	printf("ready\n");
	fflush(stdout);
	if (tx && wait_file(t0))
		return 1;
	ts = now_s();
	while (!stop && ((tx && sent < opt_n) || (rx && st.rcvd < opt_n))) {
		uint64_t allow = opt_n - sent;

		if (now_s() - t0 > opt_t) {
			fprintf(stderr, "timeout: sent %" PRIu64 " received %" PRIu64 " of %" PRIu64 "\n",
				sent, st.rcvd, opt_n);
			break;
		}
		if (tx && opt_rate > 0) {
			double due = (now_s() - ts) * opt_rate + 1;

			allow = due > sent ? (uint64_t)due - sent : 0;
			if (allow > opt_n - sent)
				allow = opt_n - sent;
		}
		pfd.events = (rx ? POLLIN : 0) | (tx && sent < opt_n && allow ? POLLOUT : 0);
		if (poll(&pfd, 1, pfd.events & POLLOUT ? 100 : opt_rate > 0 ? 1 : 100) < 0 &&
		    errno != EINTR) {
			perror("poll");
			return 1;
		}
		if (pfd.revents & POLLERR) {
			fprintf(stderr, "POLLERR\n");
			break;
		}
		if (tx && allow)
			sent += queue_tx(sent, allow);
		if (rx)
			rx_pass(&st, mon);
	}
	if (tx)
		ioctl(d->fd, NIOCTXSYNC, NULL);
	if (rx) {
		ioctl(d->fd, NIOCRXSYNC, NULL);
		rx_pass(&st, mon);
		/* hand back what was read (a zero-copy monitor sees it then) */
		ioctl(d->fd, NIOCRXSYNC, NULL);
	}
	if (tx)
		printf("sent %" PRIu64 "\n", sent);
	if (mon)
		mon_print(&st);
	else if (rx)
		printf("received %" PRIu64 " bad %" PRIu64 " order %" PRIu64 "\n", st.rcvd,
		       st.bad, st.order);
	fflush(stdout);
	return (tx && sent < opt_n) || (rx && (st.rcvd < opt_n || st.bad || st.order));
}

static int hold(void)
{
	struct rx_state st = { 0 };
	double t0 = now_s();

	printf("ready\n");
	fflush(stdout);
	while (!stop && now_s() - t0 < opt_t)
		usleep(10000);
	mon_print(&st);
	return 0;
}

/* A monitor's TX rings send nothing: POLLERR, the ring back to the kernel's view. */
static int badtx(void)
{
	struct netmap_ring *ring = NETMAP_TXRING(d->nifp, d->first_tx_ring);
	struct pollfd pfd = { .fd = d->fd, .events = POLLOUT };
	unsigned head = ring->head;

	if (queue_tx(0, 1) != 1) {
		printf("FAIL: no room in the monitor's TX ring\n");
		return 1;
	}
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLERR)) {
		printf("FAIL: poll revents 0x%x, want POLLERR\n", pfd.revents);
		return 1;
	}
	if (ring->head != head || ring->cur != head) {
		printf("FAIL: TX ring head %u cur %u, want %u\n", ring->head, ring->cur, head);
		return 1;
	}
	printf("ok: a monitor's TX ring refuses frames (POLLERR, ring reset)\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	const char *mode;
	int c, rc;

	while ((c = getopt(argc, argv, "n:t:i:W:R:O")) != -1) {
		switch (c) {
		case 'n':
			opt_n = strtoull(optarg, NULL, 0);
			break;
		case 't':
			opt_t = atof(optarg);
			break;
		case 'i':
			opt_id = (unsigned)atoi(optarg);
			break;
		case 'W':
			opt_wait = optarg;
			break;
		case 'R':
			opt_rate = atof(optarg);
			break;
		case 'O':
			opt_any_order = true;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || !opt_id || opt_id > 255)
		goto usage;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	mode = argv[optind];
	d = nmport_open(argv[optind + 1]);
	if (!d) {
		fprintf(stderr, "%s: cannot open: %s\n", argv[optind + 1], strerror(errno));
		return 2;
	}
	if (!strcmp(mode, "tx"))
		rc = run(true, false, false);
	else if (!strcmp(mode, "rx"))
		rc = run(false, true, false);
	else if (!strcmp(mode, "txrx"))
		rc = run(true, true, false);
	else if (!strcmp(mode, "mon"))
		rc = run(false, true, true);
	else if (!strcmp(mode, "hold"))
		rc = hold();
	else if (!strcmp(mode, "badtx"))
		rc = badtx();
	else
		goto usage;
	nmport_close(d);
	return rc;
usage:
	fprintf(stderr, "usage: mon_peer [-n N] [-t S] [-i ID] [-W FILE] [-R PPS] [-O] tx|rx|txrx|mon|hold|badtx PORT\n");
	return 2;
}
