// SPDX-License-Identifier: BSD-2-Clause
/*
 * spsc: the memory ceiling for a netmap pipe on this machine.
 *
 * Two threads, pinned to two CPUs, pass 32-bit buffer indices through a
 * single-producer/single-consumer ring of 1024 entries, in batches, the
 * way a pipe moves slots between the two ends: the producer fills what is
 * free (up to a batch) and publishes its tail with a release store; the
 * consumer reads up to the tail (acquire), consumes up to a batch and
 * publishes its head (release). Each side caches the other's index and
 * re-reads it only when the cache runs out. With -l N the producer also
 * writes N bytes into the buffer an index names, like pkt-gen -f tx
 * copying its template into every slot, and the same way (a whole 64-byte
 * line when N <= 64, the buffer 8 indices ahead prefetched); with -r the
 * consumer reads them too (pkt-gen -f rx does not: it counts slots and
 * lengths).
 *
 * No netmap code runs here: bench/pipe puts pkt-gen's pipe rate next to
 * this number. Output, one line: "spsc: X.XX Mpps" (then details).
 *
 *   spsc [-t secs] [-b batch] [-l bytes [-r]] [-a cpu_producer] [-A cpu_consumer]
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RING_SIZE	1024	/* a power of two */
#define RING_MASK	(RING_SIZE - 1)
#define BUF_SIZE	2048
#define PREFETCH	8	/* buffers ahead, as pkt-gen tx */
#define CACHELINE	64

struct spsc {
	/* (p) written by the producer only */
	uint32_t tail __attribute__((aligned(CACHELINE)));
	/* (c) written by the consumer only */
	uint32_t head __attribute__((aligned(CACHELINE)));
	/* both read; set once by main */
	int stop __attribute__((aligned(CACHELINE)));
	uint32_t slot[RING_SIZE] __attribute__((aligned(CACHELINE)));
};

struct side {
	struct spsc *q;
	uint8_t *bufs;		/* RING_SIZE buffers of BUF_SIZE, with -l */
	unsigned batch, len;
	int read;		/* consumer: read the len bytes too */
	int cpu;
	uint64_t count;		/* indices moved */
	uint64_t check;		/* consumer: a sum, so the reads are not dead */
};

static int pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "spsc: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
		return -1;
	}
	return 0;
}

static void *producer(void *arg)
{
	struct side *s = arg;
	struct spsc *q = s->q;
	uint32_t tail = 0, head_cache = 0, i, n;
	uint64_t count = 0;

	if (pin(s->cpu))
		return NULL;
	while (!__atomic_load_n(&q->stop, __ATOMIC_RELAXED)) {
		n = RING_SIZE - (tail - head_cache);
		if (n < s->batch) {
			/* Synchronizes with the release store of head in consumer() */
			head_cache = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
			n = RING_SIZE - (tail - head_cache);
			if (n == 0)
				continue;
		}
		if (n > s->batch)
			n = s->batch;
		for (i = 0; i < n; i++) {
			uint32_t idx = (tail + i) & RING_MASK;

			if (s->len) {
				uint8_t *b = s->bufs + (size_t)idx * BUF_SIZE;

				/* what pkt-gen tx does: prefetch ahead, one line for <= 64 */
				__builtin_prefetch(s->bufs + (size_t)((idx + PREFETCH) & RING_MASK) *
						   BUF_SIZE, 1);
				if (s->len <= 64)
					memset(b, (int)(tail + i), 64);
				else
					memset(b, (int)(tail + i), s->len);
			}
			q->slot[idx] = idx;
		}
		tail += n;
		count += n;
		/* Synchronizes with the acquire load of tail in consumer() */
		__atomic_store_n(&q->tail, tail, __ATOMIC_RELEASE);
	}
	s->count = count;
	return NULL;
}

static void *consumer(void *arg)
{
	struct side *s = arg;
	struct spsc *q = s->q;
	uint32_t head = 0, tail_cache = 0, i, n;
	uint64_t count = 0, check = 0;

	if (pin(s->cpu))
		return NULL;
	while (!__atomic_load_n(&q->stop, __ATOMIC_RELAXED)) {
		n = tail_cache - head;
		if (n == 0) {
			/* Synchronizes with the release store of tail in producer() */
			tail_cache = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
			n = tail_cache - head;
			if (n == 0)
				continue;
		}
		if (n > s->batch)
			n = s->batch;
		for (i = 0; i < n; i++) {
			uint32_t idx = q->slot[(head + i) & RING_MASK];

			check += idx;
			if (s->read) {
				const uint8_t *b = s->bufs + (size_t)idx * BUF_SIZE;
				unsigned k;

				for (k = 0; k < s->len; k += 8)
					check += b[k];
			}
		}
		head += n;
		count += n;
		/* Synchronizes with the acquire load of head in producer() */
		__atomic_store_n(&q->head, head, __ATOMIC_RELEASE);
	}
	s->count = count;
	s->check = check;
	return NULL;
}

static long num(int opt, const char *arg, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 0);
	if (errno || end == arg || *end || v < lo || v > hi) {
		fprintf(stderr, "spsc: bad -%c %s: must be %ld..%ld\n", opt, arg, lo, hi);
		exit(1);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct side prod = { .batch = 512, .cpu = 0 }, cons = { .batch = 512, .cpu = 1 };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct timespec t0, t1;
	pthread_t tp, tc;
	struct spsc *q;
	double secs = 2, el;
	int ch;

	while ((ch = getopt(argc, argv, "t:b:l:ra:A:h")) != -1) {
		switch (ch) {
		case 't':
			secs = num('t', optarg, 1, 3600);
			break;
		case 'b':
			prod.batch = cons.batch = num('b', optarg, 1, RING_SIZE);
			break;
		case 'l':
			prod.len = cons.len = num('l', optarg, 0, BUF_SIZE);
			break;
		case 'r':
			cons.read = 1;
			break;
		case 'a':
			prod.cpu = num('a', optarg, -1, CPU_SETSIZE - 1);
			break;
		case 'A':
			cons.cpu = num('A', optarg, -1, CPU_SETSIZE - 1);
			break;
		case 'h':
			printf("usage: spsc [-t secs (2)] [-b batch 1..1024 (512)] "
			       "[-l bytes written per buffer (0)] [-r: consumer reads them] "
			       "[-a producer cpu (0)] "
			       "[-A consumer cpu (1)]  (cpu -1: not pinned)\n");
			return 0;
		default:
			return 1;
		}
	}
	if (ncpu < 2 && cons.cpu == 1) {
		fprintf(stderr, "spsc: only %ld CPU online, both threads on CPU 0\n", ncpu);
		cons.cpu = 0;
	}
	if (posix_memalign((void **)&q, CACHELINE, sizeof(*q))) {
		fprintf(stderr, "spsc: out of memory for the ring\n");
		return 1;
	}
	memset(q, 0, sizeof(*q));
	prod.q = cons.q = q;
	if (prod.len) {
		prod.bufs = calloc(RING_SIZE, BUF_SIZE);
		if (!prod.bufs) {
			fprintf(stderr, "spsc: out of memory for %d buffers\n", RING_SIZE);
			return 1;
		}
		cons.bufs = prod.bufs;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pthread_create(&tc, NULL, consumer, &cons) ||
	    pthread_create(&tp, NULL, producer, &prod)) {
		fprintf(stderr, "spsc: cannot create threads\n");
		return 1;
	}
	usleep((useconds_t)(secs * 1e6));
	__atomic_store_n(&q->stop, 1, __ATOMIC_RELAXED);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (cons.count == 0) {
		fprintf(stderr, "spsc: nothing moved (pinning failed?)\n");
		return 1;
	}
	printf("spsc: %.2f Mpps (%llu indices in %.3f s, batch %u, %u bytes/buffer %s, "
	       "cpus %d->%d, check %llx)\n", cons.count / el / 1e6,
	       (unsigned long long)cons.count, el, cons.batch, cons.len,
	       cons.read ? "written+read" : "written", prod.cpu,
	       cons.cpu, (unsigned long long)(cons.check & 0xffff));
	free(prod.bufs);
	free(q);
	return 0;
}
