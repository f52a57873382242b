// SPDX-License-Identifier: BSD-2-Clause
/*
 * examples_send: a small frame sender for the bridge and examples tests. Sends
 * count rounds of the frames described on the command line, in order, on
 * one netmap port, then waits until the peer has taken them all.
 *
 *	examples_send -i 'netmap:x{0' -n 100 udp,10.0.0.1,1000,10.0.0.2,53 arp
 *
 * Frame specs (comma separated fields; len = frame length without CRC,
 * default 60, the payload after the headers is bytes 0, 1, 2, ... mod 256):
 *	udp,SRC,SPORT,DST,DPORT[,len]	IPv4 UDP (tcp: IPv4 TCP)
 *	udp6,SRC,SPORT,DST,DPORT[,len]	IPv6 UDP (tcp6: IPv6 TCP)
 *	icmp,SRC,DST[,len]		IPv4 ICMP echo
 *	arp[,len]			an ARP request (ethertype 0x0806)
 *	vlan:SPEC			SPEC behind an 802.1Q tag (VLAN 5)
 * -F size splits every frame into slots of at most size bytes chained with
 * NS_MOREFRAG. -W bounds the whole run in seconds (default 30). Exit 0 when every frame was handed over, 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <net/netmap_user.h>
#include <libnetmap.h>

#define EX_MAX_FRAMES	32
#define EX_MAX_LEN	9000

struct ex_frame {
	uint8_t data[EX_MAX_LEN];
	size_t len;
};

static void die(const char *fmt, const char *arg) __attribute__((noreturn));
static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "examples_send: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

static unsigned long num(const char *s, unsigned long max, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max)
		die("bad %s", what);
	return v;
}

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void ip4_csum(uint8_t *ip)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, ~sum & 0xffff);
}

static void build(const char *spec_in, struct ex_frame *f)
{
	char spec[256], *fld[8], *save = NULL, *t;
	uint8_t *p = f->data;
	size_t off = 14, l4, i;
	int n = 0, vlan = 0;
	unsigned long len = 60;
	const char *kind;

	if (!strncmp(spec_in, "vlan:", 5)) {
		vlan = 1;
		spec_in += 5;
	}
	if (strlen(spec_in) >= sizeof(spec))
		die("spec too long: %s", spec_in);
	strcpy(spec, spec_in);
	for (t = strtok_r(spec, ",", &save); t && n < 8; t = strtok_r(NULL, ",", &save))
		fld[n++] = t;
	if (n == 0)
		die("empty frame spec%s", "");
	kind = fld[0];
	memset(f->data, 0, sizeof(f->data));
	memset(p, 0xff, 6);				/* broadcast */
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x01", 6);
	if (vlan) {
		put16(p + 12, 0x8100);
		put16(p + 14, 5);
		off += 4;
	}
	if (!strcmp(kind, "arp")) {
		if (n > 2)
			die("arp[,len]: %s", spec_in);
		if (n == 2)
			len = num(fld[1], EX_MAX_LEN, "len");
		put16(p + off - 2, 0x0806);
		put16(p + off, 1);			/* Ethernet */
		put16(p + off + 2, 0x0800);
		p[off + 4] = 6;
		p[off + 5] = 4;
		put16(p + off + 6, 1);			/* request */
		l4 = off + 28;
	} else if (!strcmp(kind, "udp") || !strcmp(kind, "tcp") || !strcmp(kind, "icmp")) {
		int icmp = kind[0] == 'i', want = icmp ? 3 : 5;
		uint8_t *ip = p + off;

		if (n != want && n != want + 1)
			die("want udp|tcp,SRC,SPORT,DST,DPORT[,len] or icmp,SRC,DST[,len]: %s",
			    spec_in);
		if (n == want + 1)
			len = num(fld[want], EX_MAX_LEN, "len");
		put16(p + off - 2, 0x0800);
		ip[0] = 0x45;
		ip[8] = 64;
		ip[9] = icmp ? 1 : kind[0] == 'u' ? 17 : 6;
		if (inet_pton(AF_INET, fld[1], ip + 12) != 1 ||
		    inet_pton(AF_INET, fld[icmp ? 2 : 3], ip + 16) != 1)
			die("bad IPv4 address in %s", spec_in);
		l4 = off + 20;
		if (!icmp) {
			put16(p + l4, (unsigned int)num(fld[2], 65535, "sport"));
			put16(p + l4 + 2, (unsigned int)num(fld[4], 65535, "dport"));
		} else {
			p[l4] = 8;			/* echo request */
		}
		if (len < l4 + 8)
			die("frame too short for its headers: %s", spec_in);
		put16(ip + 2, (unsigned int)(len - off));
		ip4_csum(ip);
		if (ip[9] == 17)
			put16(p + l4 + 4, (unsigned int)(len - l4));
		l4 += ip[9] == 6 ? 20 : 8;
	} else if (!strcmp(kind, "udp6") || !strcmp(kind, "tcp6")) {
		uint8_t *ip = p + off;

		if (n != 5 && n != 6)
			die("want udp6|tcp6,SRC,SPORT,DST,DPORT[,len]: %s", spec_in);
		if (n == 6)
			len = num(fld[5], EX_MAX_LEN, "len");
		put16(p + off - 2, 0x86dd);
		ip[0] = 0x60;
		ip[6] = kind[0] == 'u' ? 17 : 6;
		ip[7] = 64;
		if (inet_pton(AF_INET6, fld[1], ip + 8) != 1 ||
		    inet_pton(AF_INET6, fld[3], ip + 24) != 1)
			die("bad IPv6 address in %s", spec_in);
		l4 = off + 40;
		put16(p + l4, (unsigned int)num(fld[2], 65535, "sport"));
		put16(p + l4 + 2, (unsigned int)num(fld[4], 65535, "dport"));
		if (len < l4 + 20)
			die("frame too short for its headers: %s", spec_in);
		put16(ip + 4, (unsigned int)(len - l4));
		l4 += ip[6] == 6 ? 20 : 8;
	} else {
		die("unknown frame kind in '%s'", spec_in);
	}
	if (len < l4)
		die("frame too short for its headers: %s", spec_in);
	for (i = l4; i < len; i++)
		p[i] = (uint8_t)(i - l4);
	f->len = len;
}

int main(int argc, char **argv)
{
	static struct ex_frame frames[EX_MAX_FRAMES];
	unsigned long count = 1, frag = 0, wait_s = 30, r;
	unsigned int nframes = 0, fi, ring_i;
	const char *port = NULL;
	struct nmport_d *d;
	struct timespec t0, now;
	int ch;

	while ((ch = getopt(argc, argv, "i:n:F:W:")) != -1) {
		switch (ch) {
		case 'i':
			port = optarg;
			break;
		case 'n':
			count = num(optarg, ~0UL, "-n");
			break;
		case 'W':
			wait_s = num(optarg, 3600, "-W");
			break;
		case 'F':
			frag = num(optarg, EX_MAX_LEN, "-F");
			break;
		default:
			die("usage: examples_send -i port [-n rounds] [-F fragsize] [-W secs] spec...%s", "");
		}
	}
	if (!port || optind == argc)
		die("usage: examples_send -i port [-n rounds] [-F fragsize] [-W secs] spec...%s", "");
	for (; optind < argc; optind++) {
		if (nframes == EX_MAX_FRAMES)
			die("too many frame specs (at %s)", argv[optind]);
		build(argv[optind], &frames[nframes++]);
	}
	d = nmport_open(port);
	if (!d) {
		fprintf(stderr, "examples_send: cannot open %s: %s\n", port, strerror(errno));
		return 1;
	}
	ring_i = d->first_tx_ring;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (r = 0; r < count; r++) {
		for (fi = 0; fi < nframes; fi++) {
			struct ex_frame *f = &frames[fi];
			size_t done = 0;

			while (done < f->len) {
				struct netmap_ring *ring = NETMAP_TXRING(d->nifp, ring_i);
				size_t chunk = f->len - done;
				struct netmap_slot *s;

				if (frag && chunk > frag)
					chunk = frag;
				if (chunk > ring->nr_buf_size)
					die("fragment larger than a buffer; use -F%s", "");
				if (nm_ring_empty(ring)) {
					struct pollfd pfd = { .fd = d->fd, .events = POLLOUT };

					clock_gettime(CLOCK_MONOTONIC, &now);
					if (now.tv_sec - t0.tv_sec > (time_t)wait_s) {
						fprintf(stderr, "examples_send: %s: TX ring still full after %lu s\n", port, wait_s);
						return 1;
					}
					poll(&pfd, 1, 100);
					continue;
				}
				s = &ring->slot[ring->head];
				memcpy(NETMAP_BUF(ring, s->buf_idx), f->data + done, chunk);
				s->len = (uint16_t)chunk;
				done += chunk;
				s->flags = done < f->len ? NS_MOREFRAG : 0;
				ring->head = ring->cur = nm_ring_next(ring, ring->head);
			}
		}
	}
	/* hand everything over, then wait until the peer has taken it */
	for (;;) {
		struct netmap_ring *ring = NETMAP_TXRING(d->nifp, ring_i);

		ioctl(d->fd, NIOCTXSYNC, NULL);
		if (!nm_tx_pending(ring))
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > (time_t)wait_s) {
			fprintf(stderr, "examples_send: %s: peer did not take the last frames\n", port);
			return 1;
		}
		usleep(1000);
	}
	fprintf(stderr, "examples_send: %s: sent %lu frames\n", port, count * nframes);
	nmport_close(d);
	return 0;
}
