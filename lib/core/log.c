// SPDX-License-Identifier: BSD-2-Clause
/*
 * log.c - the library's one log sink. Messages go through a callback
 * (default: stderr with a "netmap: " prefix). Errors found on the data path
 * (bad head/cur, bad buffer index...) are counted per kind and printed at most
 * a few times per second per kind, so a program that scribbles on its ring in
 * a loop cannot flood its own stderr. Verbosity comes from UNM_VERBOSE.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/unm.h"

int unm_verbose = -1;		/* -1: not read from the environment yet */

static uint64_t err_counts[UNM_ERR_MAX];
static int64_t err_window[UNM_ERR_MAX];	/* second of the last burst */
static uint32_t err_burst[UNM_ERR_MAX];

#define UNM_LOG_BURST	5	/* messages per kind per second */

static void log_stderr(int level, const char *msg)
{
	char line[600];
	int n;

	(void)level;
	n = snprintf(line, sizeof(line), "netmap: %s\n", msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* one write: lines of two processes do not interleave */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

static unm_log_fn log_fn = log_stderr;

unm_log_fn unm_log_set(unm_log_fn fn)
{
	unm_log_fn old = log_fn;

	log_fn = fn ? fn : log_stderr;
	return old;
}

static int verbosity(void)
{
	if (unm_verbose < 0) {
		const char *v = getenv("UNM_VERBOSE");

		unm_verbose = v ? atoi(v) : 0;
	}
	return unm_verbose;
}

static void vlog(int level, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_fn(level, msg);
}

void unm_log(int level, const char *fmt, ...)
{
	va_list ap;

	/* errors always; warnings and up only when asked */
	if (level > UNM_LOG_ERR && level > verbosity())
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void unm_log_err(enum unm_err_kind kind, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	__atomic_fetch_add(&err_counts[kind], 1, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if (err_window[kind] != ts.tv_sec) {
		err_window[kind] = ts.tv_sec;
		err_burst[kind] = 0;
	}
	if (err_burst[kind]++ >= UNM_LOG_BURST && verbosity() < UNM_LOG_DEBUG)
		return;
	va_start(ap, fmt);
	vlog(UNM_LOG_ERR, fmt, ap);
	va_end(ap);
}

uint64_t unm_err_count(enum unm_err_kind kind)
{
	return kind < UNM_ERR_MAX ? __atomic_load_n(&err_counts[kind], __ATOMIC_RELAXED) : 0;
}
