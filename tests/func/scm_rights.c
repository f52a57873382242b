// SPDX-License-Identifier: BSD-2-Clause
/*
 * Helper of scm_rights.sh: a registered netmap fd handed to another process
 * over a unix socket (SCM_RIGHTS).
 *
 *   scm_rights send SOCK NAME [close]   A: open NAME, send the fd and its
 *                                       nmreq_register, exit (closing the
 *                                       port first with "close")
 *   scm_rights recv SOCK GO COUNT [early]
 *                                       B: accept on SOCK; once the file GO
 *                                       exists (A is gone by then) receive
 *                                       the fd ("early": receive at once,
 *                                       use it after GO), mmap it and send
 *                                       COUNT packets, polling for room
 *   scm_rights rx NAME COUNT            C: open NAME, receive COUNT packets
 *                                       and check every byte
 *
 * Exit 0 on success, 1 with a message naming what went wrong.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libnetmap.h>

struct msg {
	struct nmreq_register reg;
	int32_t pid;
};

static unsigned int pkt_len(unsigned int seq)
{
	return 60 + (seq * 37) % 1455;
}

static unsigned char pkt_byte(unsigned int seq, unsigned int i)
{
	return (unsigned char)(seq * 151 + i * 3 + 7);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sock_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		fprintf(stderr, "socket path '%s' too long\n", path);
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

static int do_send(const char *path, const char *name, int do_close)
{
	struct sockaddr_un sa;
	struct nmport_d *d;
	struct msg m;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	int s;

	d = nmport_open(name);
	if (d == NULL) {
		printf("send: nmport_open(%s): %s\n", name, strerror(errno));
		return 1;
	}
	memset(&m, 0, sizeof(m));
	m.reg = d->reg;
	m.pid = getpid();
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || sock_addr(path, &sa) || connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		printf("send: connect to %s: %s\n", path, strerror(errno));
		return 1;
	}
	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &d->fd, sizeof(int));
	if (sendmsg(s, &mh, 0) != sizeof(m)) {
		printf("send: sendmsg: %s\n", strerror(errno));
		return 1;
	}
	printf("send: pid %d sent fd %d of %s (mem %u, %u tx rings of %u slots)\n", (int)getpid(),
	       d->fd, name, m.reg.nr_mem_id, m.reg.nr_tx_rings, m.reg.nr_tx_slots);
	fflush(stdout);
	if (do_close) {
		nmport_close(d);
		close(s);
		return 0;
	}
	_exit(0);		/* no cleanup at all: the reaper's job */
}

static int wait_file(const char *path, double secs)
{
	struct stat st;
	double end = now() + secs;

	while (stat(path, &st) < 0) {
		if (now() > end)
			return -1;
		usleep(10000);
	}
	return 0;
}

static int recv_fd(int c, struct msg *m)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	int fd = -1;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	if (recvmsg(c, &mh, MSG_WAITALL) != sizeof(*m)) {
		printf("recv: recvmsg: %s\n", strerror(errno));
		return -1;
	}
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		printf("recv: no fd in the message\n");
		return -1;
	}
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

static int do_recv(const char *path, const char *go, unsigned int count, int early)
{
	struct sockaddr_un sa;
	struct netmap_if *nifp;
	struct netmap_ring *ring;
	struct msg m;
	unsigned int seq = 0, i;
	double end;
	char *base;
	int l, c, fd = -1;

	l = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(path);
	if (l < 0 || sock_addr(path, &sa) || bind(l, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(l, 1)) {
		printf("recv: listen on %s: %s\n", path, strerror(errno));
		return 1;
	}
	c = accept(l, NULL, NULL);
	if (c < 0) {
		printf("recv: accept: %s\n", strerror(errno));
		return 1;
	}
	if (early && (fd = recv_fd(c, &m)) < 0)
		return 1;
	if (wait_file(go, 20)) {
		printf("recv: %s never appeared\n", go);
		return 1;
	}
	if (!early && (fd = recv_fd(c, &m)) < 0)
		return 1;
	if (kill(m.pid, 0) == 0 || errno != ESRCH) {
		printf("recv: sender pid %d still exists: the test proves nothing\n", m.pid);
		return 1;
	}
	printf("recv: got fd %d (%s) from pid %d, which is gone\n", fd,
	       early ? "received before it exited" : "in flight while it exited", m.pid);
	base = mmap(NULL, m.reg.nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		printf("recv: mmap of the received fd (%llu bytes): %s\n",
		       (unsigned long long)m.reg.nr_memsize, strerror(errno));
		return 1;
	}
	nifp = NETMAP_IF(base, m.reg.nr_offset);
	ring = NETMAP_TXRING(nifp, 0);
	end = now() + 20;
	while (seq < count) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };

		while (seq < count && !nm_ring_empty(ring)) {
			struct netmap_slot *slot = &ring->slot[ring->cur];
			unsigned char *p = (unsigned char *)NETMAP_BUF(ring, slot->buf_idx);
			unsigned int len = pkt_len(seq);

			for (i = 0; i < len; i++)
				p[i] = pkt_byte(seq, i);
			slot->len = len;
			slot->flags = 0;
			ring->head = ring->cur = nm_ring_next(ring, ring->cur);
			seq++;
		}
		if (ioctl(fd, NIOCTXSYNC, NULL) < 0) {
			printf("recv: NIOCTXSYNC: %s\n", strerror(errno));
			return 1;
		}
		if (seq == count)
			break;
		if (poll(&pfd, 1, 1000) < 0) {
			printf("recv: poll: %s\n", strerror(errno));
			return 1;
		}
		if (now() > end) {
			printf("recv: timeout with %u of %u packets sent\n", seq, count);
			return 1;
		}
	}
	printf("recv: sent %u packets through the received fd\n", seq);
	return 0;
}

static int do_rx(const char *name, unsigned int count)
{
	struct nmport_d *d;
	unsigned int seq = 0, i, bad = 0;
	double end;

	d = nmport_open(name);
	if (d == NULL) {
		printf("rx: nmport_open(%s): %s\n", name, strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	end = now() + 30;
	while (seq < count) {
		struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
		struct netmap_ring *ring = NETMAP_RXRING(d->nifp, 0);

		if (poll(&pfd, 1, 1000) < 0) {
			printf("rx: poll: %s\n", strerror(errno));
			return 1;
		}
		while (seq < count && !nm_ring_empty(ring)) {
			struct netmap_slot *slot = &ring->slot[ring->head];
			unsigned char *p = (unsigned char *)NETMAP_BUF(ring, slot->buf_idx);

			if (slot->len != pkt_len(seq)) {
				if (bad++ < 5)
					printf("rx: packet %u: length %u, want %u\n", seq, slot->len,
					       pkt_len(seq));
			} else {
				for (i = 0; i < slot->len; i++)
					if (p[i] != pkt_byte(seq, i))
						break;
				if (i < slot->len && bad++ < 5)
					printf("rx: packet %u: byte %u is %#x, want %#x\n", seq, i,
					       p[i], pkt_byte(seq, i));
			}
			ring->head = ring->cur = nm_ring_next(ring, ring->head);
			seq++;
		}
		if (now() > end) {
			printf("rx: timeout with %u of %u packets\n", seq, count);
			return 1;
		}
	}
	printf("rx: %u packets, %u bad\n", seq, bad);
	nmport_close(d);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "send"))
		return do_send(argv[2], argv[3], argc > 4 && !strcmp(argv[4], "close"));
	if (argc >= 5 && !strcmp(argv[1], "recv"))
		return do_recv(argv[2], argv[3], (unsigned int)atoi(argv[4]),
			       argc > 5 && !strcmp(argv[5], "early"));
	if (argc >= 4 && !strcmp(argv[1], "rx"))
		return do_rx(argv[2], (unsigned int)atoi(argv[3]));
	fprintf(stderr, "usage: %s send SOCK NAME [close] | recv SOCK GO COUNT [early] | rx NAME COUNT\n",
		argv[0]);
	return 2;
}
