// SPDX-License-Identifier: BSD-2-Clause
/*
 * What pkt-gen prints. Scripts parse these lines, so their shape is
 * upstream pkt-gen's:
 *
 *   stderr, one per report interval (main.c):
 *     "SSS.UUUUUU main_thread [LINE] 1.234 Mpps (1.240 Mpkts 595.200 Mbps
 *      in 1000532 usec) 511.99 avg_batch 0 min_space"
 *   stdout, at the end of tx/rx (pg_closing_lines):
 *     "Sent N packets N bytes N events N bytes each in T seconds."
 *     "Speed: X Mpps Bandwidth: Y Gbps (raw Z Gbps). Average batch: B pkts"
 *
 * Numbers are scaled by 1000 per unit step (K, M, G, T) with three
 * decimals, or printed whole with no unit prefix under -N.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>

#include "pkt-gen.h"

const char *pg_norm(char *buf, size_t len, double val, int normalize)
{
	static const char *const units[] = { "", "K", "M", "G", "T" };
	unsigned i = 0;

	if (!normalize) {
		snprintf(buf, len, "%.0f %s", val, units[0]);
		return buf;
	}
	while (val >= 1000 && i < sizeof(units) / sizeof(units[0]) - 1) {
		val /= 1000;
		i++;
	}
	snprintf(buf, len, "%.3f %s", val, units[i]);
	return buf;
}

/* "SSS.UUUUUU function [line] message": upstream's D() line. */
void pg_log(const char *func, int line, const char *fmt, ...)
{
	struct timeval tv;
	char msg[1024];
	va_list ap;

	gettimeofday(&tv, NULL);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%03d.%06d %s [%d] %s\n", (int)(tv.tv_sec % 1000),
		(int)tv.tv_usec, func, line, msg);
}

void pg_closing_lines(const struct pg_conf *g, const struct pg_ctrs *c,
		      double delta, const char *msg)
{
	char b1[40], b2[40], b3[40];
	double pps, bw, raw_bw, batch;
	int size;

	if (c->pkts == 0) {
		printf("%s nothing.\n", msg);
		fflush(stdout);
		return;
	}
	size = (int)(c->bytes / c->pkts);
	printf("%s %llu packets %llu bytes %llu events %d bytes each in %.2f seconds.\n",
	       msg, (unsigned long long)c->pkts, (unsigned long long)c->bytes,
	       (unsigned long long)c->events, size, delta);
	if (delta <= 0)
		delta = 1e-6;
	pps = c->pkts / delta;
	bw = 8.0 * c->bytes / delta;
	raw_bw = (8.0 * c->bytes + (double)c->pkts * g->framing) / delta;
	batch = c->events ? (double)c->pkts / c->events : 0;
	printf("Speed: %spps Bandwidth: %sbps (raw %sbps). Average batch: %.2f pkts\n",
	       pg_norm(b1, sizeof(b1), pps, g->normalize),
	       pg_norm(b2, sizeof(b2), bw, g->normalize),
	       pg_norm(b3, sizeof(b3), raw_bw, g->normalize), batch);
	fflush(stdout);
}
