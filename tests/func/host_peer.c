// SPDX-License-Identifier: BSD-2-Clause
/*
 * host_peer - the program side of the host ring tests (tests/func/host_*.sh).
 *
 *   host_peer send PORT SPEC...     one frame per SPEC on the port's TX rings
 *                                   (host TX for IF^): SPEC is a length, or
 *                                   lengths joined by '+' (one frame in several
 *                                   slots chained with NS_MOREFRAG), optionally
 *                                   prefixed by "K*" (K such frames); frame i
 *                                   (from 0) carries sequence number i
 *   host_peer sniff IF SECONDS COUNT  a packet socket on IF (this namespace):
 *                                   prints "seq S len L [vlan T]" for each
 *                                   frame of ours (T: the tag the kernel took
 *                                   out, PACKET_AUXDATA), checked byte by byte
 *                                   ("bad ..." if not), until COUNT or SECONDS
 *   host_peer xmit IF COUNT LEN [TCI]  COUNT frames of LEN bytes sent by a
 *                                   packet socket on IF (the stack's
 *                                   dev_queue_xmit), with an 802.1Q tag TCI
 *                                   in the frame if given
 *   host_peer recv PORT SECONDS COUNT  prints "len L type 0xTTTT [tci T inner
 *                                   0xTTTT] ring R" for each frame on the
 *                                   port's RX rings (host RX for IF^), as in
 *                                   the buffer, after "ready: host rings T TX
 *                                   R RX, bound RX rings F..L"
 *
 * Frames: broadcast, source 02:00:00:00:00:02, ethertype 0x88b5 (local
 * experimental), the 32-bit sequence number, then bytes (seq * 7 + i) & 0xff.
 * Exit 0 on success, 1 on a check that failed, 2 on a usage/open error.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <libnetmap.h>

#define ETYPE		0x88b5
#define MAX_FRAG	16

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void frame_build(uint8_t *p, uint32_t len, uint32_t seq)
{
	uint32_t i;

	memset(p, 0xff, 6);
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x02", 6);
	p[12] = ETYPE >> 8;
	p[13] = ETYPE & 0xff;
	memcpy(p + 14, &seq, 4);
	for (i = 18; i < len; i++)
		p[i] = (uint8_t)(seq * 7 + i);
}

/* "K*L+L+L" -> count K (1 if absent), lengths */
static int spec_parse(const char *spec, uint32_t *rep, uint32_t *len, unsigned *nlen)
{
	char *end;
	const char *s = spec;

	*rep = 1;
	if (strchr(s, '*')) {
		*rep = strtoul(s, &end, 10);
		if (*end != '*' || !*rep)
			return -1;
		s = end + 1;
	}
	for (*nlen = 0; *nlen < MAX_FRAG;) {
		len[(*nlen)++] = strtoul(s, &end, 10);
		if (end == s)
			return -1;
		if (!*end)
			return 0;
		if (*end != '+')
			return -1;
		s = end + 1;
	}
	return -1;
}

static int do_send(const char *name, int nspec, char **specs)
{
	struct nmport_d *d = nmport_open(name);
	struct netmap_ring *ring;
	uint8_t frame[MAX_FRAG * 4096];
	uint32_t seq = 0, total = 0;
	double end = now() + 10;
	int i;

	if (!d) {
		fprintf(stderr, "host_peer: %s: %s\n", name, strerror(errno));
		return 2;
	}
	ring = NETMAP_TXRING(d->nifp, d->first_tx_ring);
	for (i = 0; i < nspec; i++) {
		uint32_t rep, len[MAX_FRAG], r;
		unsigned nlen, k;

		if (spec_parse(specs[i], &rep, len, &nlen)) {
			fprintf(stderr, "host_peer: bad frame spec '%s'\n", specs[i]);
			return 2;
		}
		for (r = 0; r < rep; r++, seq++) {
			uint32_t flen = 0, off = 0;

			for (k = 0; k < nlen; k++)
				flen += len[k];
			if (flen > sizeof(frame) || flen < 18) {
				fprintf(stderr, "host_peer: frame of %u bytes: 18..%zu\n", flen,
					sizeof(frame));
				return 2;
			}
			frame_build(frame, flen, seq);
			while (nm_ring_space(ring) < nlen + 1 && now() < end) {
				ioctl(d->fd, NIOCTXSYNC, NULL);
				usleep(1000);
			}
			if (nm_ring_space(ring) < nlen + 1) {
				fprintf(stderr, "host_peer: TX ring full for 10 s\n");
				return 1;
			}
			for (k = 0; k < nlen; k++) {
				struct netmap_slot *s = &ring->slot[ring->cur];

				if (len[k] > ring->nr_buf_size) {
					fprintf(stderr, "host_peer: slot of %u bytes over the buffer (%u)\n",
						len[k], ring->nr_buf_size);
					return 2;
				}
				memcpy(NETMAP_BUF(ring, s->buf_idx), frame + off, len[k]);
				off += len[k];
				s->len = len[k];
				s->flags = k + 1 < nlen ? NS_MOREFRAG : 0;
				ring->cur = nm_ring_next(ring, ring->cur);
			}
			ring->head = ring->cur;
			total++;
			/* pace: the stack's backlog is small */
			if (total % 32 == 0) {
				ioctl(d->fd, NIOCTXSYNC, NULL);
				usleep(2000);
			}
		}
	}
	while (nm_tx_pending(ring) && now() < end) {
		ioctl(d->fd, NIOCTXSYNC, NULL);
		usleep(1000);
	}
	printf("sent %u\n", total);
	nmport_close(d);
	return 0;
}

static int do_sniff(const char *ifname, double secs, uint32_t count)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), one = 1;
	double end = now() + secs;
	uint8_t buf[65536];
	uint32_t got = 0;
	int bad = 0;

	sll.sll_ifindex = if_nametoindex(ifname);
	if (fd < 0 || !sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0) {
		fprintf(stderr, "host_peer: packet socket on %s: %s\n", ifname, strerror(errno));
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	while (got < count && now() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		union {
			char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
			struct cmsghdr align;
		} cm;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cm.b, .msg_controllen = sizeof(cm.b) };
		struct cmsghdr *c;
		char vlan[32] = "";
		uint32_t seq, i;
		ssize_t len;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		len = recvmsg(fd, &mh, MSG_DONTWAIT);
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			const struct tpacket_auxdata *aux = (const void *)CMSG_DATA(c);

			if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
			    aux->tp_status & TP_STATUS_VLAN_VALID)
				snprintf(vlan, sizeof(vlan), " vlan %u", aux->tp_vlan_tci & 0xfff);
		}
		if (len < 18 || buf[12] != ETYPE >> 8 || buf[13] != (ETYPE & 0xff))
			continue;
		memcpy(&seq, buf + 14, 4);
		for (i = 18; i < len; i++)
			if (buf[i] != (uint8_t)(seq * 7 + i))
				break;
		if (i < len) {
			printf("bad seq %u len %zd: byte %u is %#x, want %#x\n", seq, len, i,
			       buf[i], (uint8_t)(seq * 7 + i));
			bad = 1;
		} else {
			printf("seq %u len %zd%s\n", seq, len, vlan);
		}
		fflush(stdout);
		got++;
	}
	close(fd);
	return bad;
}

static int do_xmit(const char *ifname, uint32_t count, uint32_t len, int tci)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	uint8_t buf[2048], *p = buf;
	uint32_t seq;

	sll.sll_ifindex = if_nametoindex(ifname);
	if (fd < 0 || !sll.sll_ifindex || len < 18 || len > 1514) {
		fprintf(stderr, "host_peer: packet socket on %s (len 18..1514): %s\n", ifname,
			strerror(errno));
		return 2;
	}
	for (seq = 0; seq < count; seq++) {
		frame_build(buf + 4, len, seq);
		if (tci >= 0) {
			/* addresses, the tag, then the rest */
			memmove(buf, buf + 4, 12);
			buf[12] = 0x81;
			buf[13] = 0x00;
			buf[14] = (uint8_t)(tci >> 8);
			buf[15] = (uint8_t)tci;
			p = buf;
		} else {
			p = buf + 4;
		}
		if (sendto(fd, p, len + (tci >= 0 ? 4 : 0), 0, (struct sockaddr *)&sll,
			   sizeof(sll)) < 0) {
			fprintf(stderr, "host_peer: send on %s: %s\n", ifname, strerror(errno));
			return 1;
		}
		usleep(1000);
	}
	printf("sent %u\n", count);
	close(fd);
	return 0;
}

static int do_recv(const char *name, double secs, uint32_t count)
{
	struct nmport_d *d = nmport_open(name);
	double end = now() + secs;
	uint32_t got = 0, r;

	if (!d) {
		fprintf(stderr, "host_peer: %s: %s\n", name, strerror(errno));
		return 2;
	}
	printf("ready: host rings %u TX %u RX, bound RX rings %u..%u\n", d->nifp->ni_host_tx_rings,
	       d->nifp->ni_host_rx_rings, d->first_rx_ring, d->last_rx_ring);
	fflush(stdout);
	while (got < count && now() < end) {
		struct pollfd pfd = { .fd = d->fd, .events = POLLIN };

		poll(&pfd, 1, 100);
		for (r = d->first_rx_ring; r <= d->last_rx_ring; r++) {
			struct netmap_ring *ring = NETMAP_RXRING(d->nifp, r);

			while (!nm_ring_empty(ring) && got < count) {
				struct netmap_slot *s = &ring->slot[ring->cur];
				const uint8_t *p = (const uint8_t *)NETMAP_BUF(ring, s->buf_idx);

				if (s->len >= 18 && p[12] == 0x81 && p[13] == 0x00)
					printf("len %u type 0x8100 tci %u inner 0x%02x%02x ring %u\n",
					       s->len, (p[14] << 8 | p[15]) & 0xfff, p[16], p[17], r);
				else if (s->len >= 14)
					printf("len %u type 0x%02x%02x ring %u\n", s->len, p[12], p[13], r);
				fflush(stdout);
				got++;
				ring->head = ring->cur = nm_ring_next(ring, ring->cur);
			}
		}
	}
	nmport_close(d);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "send"))
		return do_send(argv[2], argc - 3, argv + 3);
	if (argc == 5 && !strcmp(argv[1], "sniff"))
		return do_sniff(argv[2], atof(argv[3]), strtoul(argv[4], NULL, 0));
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "xmit"))
		return do_xmit(argv[2], strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0),
			       argc == 6 ? atoi(argv[5]) : -1);
	if (argc == 5 && !strcmp(argv[1], "recv"))
		return do_recv(argv[2], atof(argv[3]), strtoul(argv[4], NULL, 0));
	fprintf(stderr, "usage: host_peer send PORT SPEC... | sniff IF SECONDS COUNT | xmit IF COUNT LEN [TCI] | recv PORT SECONDS COUNT\n");
	return 2;
}
