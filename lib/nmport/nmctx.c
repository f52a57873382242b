// SPDX-License-Identifier: BSD-2-Clause
/*
 * nmctx: the environment the nmport_* and nmreq_* calls run in. A context
 * says where error messages go (and whether they go anywhere: verbose), how
 * memory is allocated, and how the list of mapped memory regions (struct
 * nmem_d, shared by every port of one mem id) is locked.
 *
 * The default context prints to stderr and is thread safe from the start:
 * our library always links libpthread, so there is no reason to make a
 * program opt in (upstream does it with a constructor in a separate object
 * pulled in by libnetmap_init()). nmctx_set_threadsafe() and the
 * nmctx_threadsafe symbol exist so that code written for upstream links.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "export.h"
#include <libnetmap.h>

/* Longest message we format; longer ones are cut, never dropped. */
#define NMCTX_MSG_MAX 1024

static void nmctx_stderr_error(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

static void *nmctx_libc_malloc(struct nmctx *ctx, size_t sz)
{
	(void)ctx;
	return malloc(sz);
}

static void nmctx_libc_free(struct nmctx *ctx, void *p)
{
	(void)ctx;
	free(p);
}

/* protects the mem_descs list of every context that uses nmctx_mutex_lock */
static pthread_mutex_t nmctx_mutex = PTHREAD_MUTEX_INITIALIZER;

static void nmctx_mutex_lock(struct nmctx *ctx, int lock)
{
	(void)ctx;
	if (lock)
		pthread_mutex_lock(&nmctx_mutex);
	else
		pthread_mutex_unlock(&nmctx_mutex);
}

static struct nmctx nmctx_global = {
	.verbose = 1,
	.error = nmctx_stderr_error,
	.malloc = nmctx_libc_malloc,
	.free = nmctx_libc_free,
	.lock = nmctx_mutex_lock,
	.mem_descs = NULL,
};

/* Read and written with atomics: a thread may swap the default while
 * another opens a port. */
static struct nmctx *nmctx_default = &nmctx_global;

/* Upstream's header assigns this to pull in its pthread object; here it
 * only has to exist. */
UNM_API int nmctx_threadsafe;

UNM_API struct nmctx *nmctx_get(void)
{
	return __atomic_load_n(&nmctx_default, __ATOMIC_ACQUIRE);
}

UNM_API struct nmctx *nmctx_set_default(struct nmctx *ctx)
{
	if (ctx == NULL)
		ctx = &nmctx_global;
	return __atomic_exchange_n(&nmctx_default, ctx, __ATOMIC_ACQ_REL);
}

UNM_API void nmctx_set_threadsafe(void)
{
	struct nmctx *ctx = nmctx_get();

	if (ctx->lock == NULL)
		ctx->lock = nmctx_mutex_lock;
}

UNM_API void nmctx_ferror(struct nmctx *ctx, const char *fmt, ...)
{
	char msg[NMCTX_MSG_MAX];
	va_list ap;
	int saved = errno;
	int n;

	if (ctx == NULL)
		ctx = nmctx_get();
	if (!ctx->verbose || ctx->error == NULL)
		return;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "cannot format error message '%s'", fmt);
	else if ((size_t)n >= sizeof(msg))
		snprintf(msg + sizeof(msg) - 5, 5, "...");
	ctx->error(ctx, msg);
	/* callers set errno before or after reporting: keep it either way */
	errno = saved;
}

UNM_API void *nmctx_malloc(struct nmctx *ctx, size_t sz)
{
	if (ctx == NULL)
		ctx = nmctx_get();
	return ctx->malloc ? ctx->malloc(ctx, sz) : malloc(sz);
}

UNM_API void nmctx_free(struct nmctx *ctx, void *p)
{
	if (ctx == NULL)
		ctx = nmctx_get();
	if (ctx->free)
		ctx->free(ctx, p);
	else
		free(p);
}

UNM_API void nmctx_lock(struct nmctx *ctx)
{
	if (ctx != NULL && ctx->lock != NULL)
		ctx->lock(ctx, 1);
}

UNM_API void nmctx_unlock(struct nmctx *ctx)
{
	if (ctx != NULL && ctx->lock != NULL)
		ctx->lock(ctx, 0);
}
