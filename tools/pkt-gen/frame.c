// SPDX-License-Identifier: BSD-2-Clause
/*
 * The frame pkt-gen sends: Ethernet + IPv4 + UDP + a text payload, built
 * once per thread into t->frame and copied into ring buffers by txrx.c.
 *
 *   0            14                34        42                 pkt_size
 *   | ether (14) | IPv4 (20, DF)   | UDP (8) | payload pattern ... |
 *
 * Both checksums are correct: the IPv4 header checksum, and the UDP
 * checksum over the pseudo header, the UDP header and the payload. When
 * addresses or ports change from one frame to the next (-s/-d ranges,
 * -z/-Z) the checksums are patched incrementally (RFC 1624), so a step
 * costs a few additions, not a pass over the payload. Frames shorter than
 * 42 bytes (-l 16..41) are the first bytes of a 42-byte frame.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt-gen.h"

#define OFS_ETH_TYPE	12
#define OFS_IP		14
#define OFS_IP_LEN	(OFS_IP + 2)
#define OFS_IP_SUM	(OFS_IP + 10)
#define OFS_IP_SRC	(OFS_IP + 12)
#define OFS_IP_DST	(OFS_IP + 16)
#define OFS_UDP		34
#define OFS_UDP_SPORT	(OFS_UDP + 0)
#define OFS_UDP_DPORT	(OFS_UDP + 2)
#define OFS_UDP_LEN	(OFS_UDP + 4)
#define OFS_UDP_SUM	(OFS_UDP + 6)

static const char pg_payload[] = "unetmap pkt-gen payload, netmap API 14 ";

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Ones' complement sum of big-endian 16-bit words, not yet folded. */
uint32_t pg_cksum_add(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		sum += get16(p + i);
		if (sum > 0xffff)
			sum -= 0xffff;
	}
	if (i < len) {		/* odd byte: the high half of a last word */
		sum += (uint32_t)p[i] << 8;
		if (sum > 0xffff)
			sum -= 0xffff;
	}
	return sum;
}

/* Fold and complement: the value to store in a checksum field. */
uint16_t pg_cksum_fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 16-bit word of the
 * covered data changing from old to new.
 */
static uint16_t cksum_patch(uint16_t hc, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~hc;

	sum += (uint16_t)~old;
	sum += new;
	return pg_cksum_fold(sum);
}

static void ip_checksum(uint8_t *f)
{
	put16(f + OFS_IP_SUM, 0);
	put16(f + OFS_IP_SUM, pg_cksum_fold(pg_cksum_add(f + OFS_IP, 20, 0)));
}

static void udp_checksum(uint8_t *f, int size)
{
	unsigned udp_len = get16(f + OFS_UDP_LEN);
	uint32_t sum;
	uint16_t c;

	if ((int)(OFS_UDP + udp_len) > size)	/* truncated frame */
		udp_len = size > OFS_UDP ? size - OFS_UDP : 0;
	put16(f + OFS_UDP_SUM, 0);
	/* pseudo header: src, dst, zero + protocol, UDP length */
	sum = pg_cksum_add(f + OFS_IP_SRC, 8, IPPROTO_UDP + get16(f + OFS_UDP_LEN));
	sum = pg_cksum_add(f + OFS_UDP, udp_len, sum);
	c = pg_cksum_fold(sum);
	put16(f + OFS_UDP_SUM, c ? c : 0xffff);	/* 0 means "no checksum" */
}

/* Set the lengths for a frame of size bytes and redo both checksums. */
void pg_frame_set_size(struct pg_thread *t, int size)
{
	uint8_t *f = t->frame;
	int l = size < PG_HDR_LEN ? PG_HDR_LEN : size;

	put16(f + OFS_IP_LEN, l - OFS_IP);
	put16(f + OFS_UDP_LEN, l - OFS_UDP);
	ip_checksum(f);
	udp_checksum(f, l);
}

void pg_frame_init(struct pg_thread *t)
{
	const struct pg_conf *g = t->g;
	uint8_t *f = t->frame;
	int size = g->pkt_size < PG_HDR_LEN ? PG_HDR_LEN : g->pkt_size;
	size_t plen = sizeof(pg_payload) - 1;
	int i;

	memset(f, 0, PG_HDR_LEN);
	memcpy(f, &g->dst_mac, 6);
	memcpy(f + 6, &g->src_mac, 6);
	put16(f + OFS_ETH_TYPE, 0x0800);	/* ETHERTYPE_IP */

	f[OFS_IP] = 0x45;		/* version 4, 5 words */
	f[OFS_IP + 1] = 0x10;		/* TOS: low delay */
	put16(f + OFS_IP + 4, 0);	/* id */
	put16(f + OFS_IP + 6, 0x4000);	/* DF */
	f[OFS_IP + 8] = 64;		/* TTL */
	f[OFS_IP + 9] = IPPROTO_UDP;
	put32(f + OFS_IP_SRC, g->src_ip.ip0);
	put32(f + OFS_IP_DST, g->dst_ip.ip0);
	put16(f + OFS_UDP_SPORT, g->src_ip.port0);
	put16(f + OFS_UDP_DPORT, g->dst_ip.port0);

	for (i = PG_HDR_LEN; i < size; i++)
		f[i] = pg_payload[(i - PG_HDR_LEN) % plen];
	pg_frame_set_size(t, size);
}

/* Store a new 16-bit word at p, patching the checksums that cover it. */
static void set_word(uint8_t *f, uint8_t *p, uint16_t v, int in_ip_hdr)
{
	uint16_t old = get16(p);

	if (old == v)
		return;
	put16(p, v);
	if (in_ip_hdr)
		put16(f + OFS_IP_SUM, cksum_patch(get16(f + OFS_IP_SUM), old, v));
	/* the UDP checksum covers the addresses (pseudo header) and ports */
	if (get16(f + OFS_UDP_SUM) != 0) {
		uint16_t c = cksum_patch(get16(f + OFS_UDP_SUM), old, v);

		put16(f + OFS_UDP_SUM, c ? c : 0xffff);
	}
}

static void set_addr(uint8_t *f, int ofs, uint32_t a)
{
	set_word(f, f + ofs, a >> 16, 1);
	set_word(f, f + ofs + 2, a & 0xffff, 1);
}

static void set_port(uint8_t *f, int ofs, uint16_t port)
{
	set_word(f, f + ofs, port, 0);
}

/*
 * Advance one endpoint through its range: the port first, then the
 * address. Returns 1 when the endpoint wrapped around to its start.
 */
static int step_endpoint(uint8_t *f, const struct pg_range *r, int ofs_ip,
			 int ofs_port)
{
	uint16_t port = get16(f + ofs_port);
	uint32_t ip = get32(f + ofs_ip);

	if (port < r->port1) {
		set_port(f, ofs_port, port + 1);
		return 0;
	}
	set_port(f, ofs_port, r->port0);
	if (ip < r->ip1) {
		set_addr(f, ofs_ip, ip + 1);
		return 0;
	}
	set_addr(f, ofs_ip, r->ip0);
	return 1;
}

/* Move the template on to the next source/destination combination. */
void pg_frame_step(struct pg_thread *t)
{
	const struct pg_conf *g = t->g;
	uint8_t *f = t->frame;
	int wrapped;

	if (g->options & OPT_RANDOM_SRC) {
		set_addr(f, OFS_IP_SRC, (uint32_t)nrand48(t->seed));
		set_port(f, OFS_UDP_SPORT, (uint16_t)nrand48(t->seed));
		wrapped = 1;
	} else {
		wrapped = step_endpoint(f, &g->src_ip, OFS_IP_SRC, OFS_UDP_SPORT);
	}
	if (g->options & OPT_RANDOM_DST) {
		set_addr(f, OFS_IP_DST, (uint32_t)nrand48(t->seed));
		set_port(f, OFS_UDP_DPORT, (uint16_t)nrand48(t->seed));
	} else if (wrapped) {
		step_endpoint(f, &g->dst_ip, OFS_IP_DST, OFS_UDP_DPORT);
	}
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end != '\0' || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "a.b.c.d[:port]" into host-order address and port (port kept if absent). */
static int parse_endpoint(char *s, uint32_t *ip, uint16_t *port)
{
	struct in_addr a;
	char *colon = strchr(s, ':');

	if (colon) {
		*colon = '\0';
		if (parse_port(colon + 1, port))
			return -1;
	}
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

/*
 * -s/-d argument: ip[:port][-ip[:port]] as upstream, and also
 * ip:port-port (a port range on one address). Default port 1234.
 * Returns 0, or -1 if the text does not parse.
 */
int pg_parse_range(struct pg_range *r, const char *opt)
{
	char buf[128], *hi;
	uint32_t t32;
	uint16_t t16;

	if (strlen(opt) >= sizeof(buf))
		return -1;
	strcpy(buf, opt);
	r->name = opt;
	r->port0 = 1234;
	hi = strchr(buf, '-');
	if (hi)
		*hi++ = '\0';
	if (parse_endpoint(buf, &r->ip0, &r->port0))
		return -1;
	r->ip1 = r->ip0;
	r->port1 = r->port0;
	if (hi) {
		if (!strchr(hi, '.')) {		/* ip:port-port */
			if (parse_port(hi, &r->port1))
				return -1;
		} else if (parse_endpoint(hi, &r->ip1, &r->port1)) {
			return -1;
		}
	}
	if (r->ip0 > r->ip1) {
		t32 = r->ip0;
		r->ip0 = r->ip1;
		r->ip1 = t32;
	}
	if (r->port0 > r->port1) {
		t16 = r->port0;
		r->port0 = r->port1;
		r->port1 = t16;
	}
	return 0;
}

/* -X: offset, 16 bytes in hex, the same bytes as text. */
void pg_dump(const char *tag, const uint8_t *p, unsigned len, unsigned slot)
{
	unsigned i, j;
	char line[80];

	printf("%s slot %5u len %5u\n", tag, slot, len);
	for (i = 0; i < len; i += 16) {
		int n = snprintf(line, sizeof(line), "%5u: ", i);

		for (j = 0; j < 16; j++) {
			if (i + j < len)
				n += snprintf(line + n, sizeof(line) - n, "%02x ", p[i + j]);
			else
				n += snprintf(line + n, sizeof(line) - n, "   ");
		}
		for (j = 0; j < 16 && i + j < len; j++)
			line[n++] = isprint(p[i + j]) ? (char)p[i + j] : '.';
		line[n] = '\0';
		printf("%s\n", line);
	}
}
