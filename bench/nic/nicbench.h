/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers shared by the NIC benchmark peers in bench/nic: a monotonic clock,
 * the 60-byte UDP test frame, MAC parsing, a stop flag for SIGINT/SIGTERM,
 * and the "active window" rate a receiver reports (from its first packet to
 * its last), so that a receiver started before its sender is not charged for
 * the wait. Header-only: each peer is one small program.
 */
#ifndef NICBENCH_H
#define NICBENCH_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

#define NB_FRAME_LEN 60	/* Ethernet minimum without FCS */

static volatile sig_atomic_t nb_stop;

static void nb_on_signal(int sig)
{
	(void)sig;
	nb_stop = 1;
}

static inline void nb_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nb_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static inline uint64_t nb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int nb_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5]) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static inline double nb_parse_double(const char *opt, const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "option %s: '%s' is not a non-negative number\n",
			opt, s);
		exit(2);
	}
	return v;
}

static inline uint64_t nb_parse_u64(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno) {
		fprintf(stderr, "option %s: '%s' is not a non-negative integer\n",
			opt, s);
		exit(2);
	}
	return v;
}

static uint16_t nb_csum16(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/*
 * The test frame: Ethernet + IPv4 + UDP, 60 bytes, 10.11.0.1:9 -> 10.11.0.2:9.
 * No address is configured on the benchmark's veths, so when a frame reaches
 * the receiver's stack it is dropped at the routing step, without ICMP.
 */
static inline void nb_build_frame(uint8_t *buf, const uint8_t src[6],
				  const uint8_t dst[6])
{
	struct ethhdr *eth = (struct ethhdr *)buf;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	size_t l3len = NB_FRAME_LEN - sizeof(*eth);

	memset(buf, 0, NB_FRAME_LEN);
	memcpy(eth->h_dest, dst, 6);
	memcpy(eth->h_source, src, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons((uint16_t)l3len);
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = htonl(0x0a0b0001);
	ip->daddr = htonl(0x0a0b0002);
	ip->check = nb_csum16(ip, sizeof(*ip));
	udp->source = htons(9);
	udp->dest = htons(9);
	udp->len = htons((uint16_t)(l3len - sizeof(*ip)));
	/* UDP checksum 0: none, legal for IPv4 */
}

/*
 * Receiver rate over the window where traffic was seen. Receivers note their
 * running count about every NB_WIN_TICK_NS; the window opens at the first
 * tick that saw at least NB_WIN_MIN_PKTS new packets (so a stray frame, an
 * IPv6 router solicitation at link-up say, does not open it early) and
 * closes at the last tick that saw any.
 */
#define NB_WIN_TICK_NS	10000000ull	/* 10 ms */
#define NB_WIN_MIN_PKTS	100		/* 10 kpps over one tick */

struct nb_window {
	uint64_t t_prev, pkts_prev;	/* the previous tick */
	uint64_t t_first, t_last;	/* ns; 0 until the window opens */
	uint64_t pkts_first;		/* count at t_first */
	uint64_t pkts_last;		/* count at t_last */
};

static inline void nb_window_note(struct nb_window *w, uint64_t now,
				  uint64_t pkts)
{
	uint64_t delta = pkts - w->pkts_prev;

	if (!w->t_first && delta >= NB_WIN_MIN_PKTS) {
		/* the window starts at the previous tick: count this one */
		w->t_first = w->t_prev ? w->t_prev : now;
		w->pkts_first = w->t_prev ? w->pkts_prev : pkts;
	}
	if (w->t_first && delta) {
		w->t_last = now;
		w->pkts_last = pkts;
	}
	w->t_prev = now;
	w->pkts_prev = pkts;
}

/* is it time for the next tick? */
static inline int nb_window_due(const struct nb_window *w, uint64_t now)
{
	return now - w->t_prev >= NB_WIN_TICK_NS;
}

/* packets per second over the window, counting from the first sample */
static inline double nb_window_pps(const struct nb_window *w)
{
	double secs;

	if (!w->t_first || w->t_last <= w->t_first)
		return 0.0;
	secs = (double)(w->t_last - w->t_first) / 1e9;
	return (double)(w->pkts_last - w->pkts_first) / secs;
}

static inline double nb_window_secs(const struct nb_window *w)
{
	if (!w->t_first || w->t_last <= w->t_first)
		return 0.0;
	return (double)(w->t_last - w->t_first) / 1e9;
}

#endif /* NICBENCH_H */
