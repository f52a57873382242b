// SPDX-License-Identifier: BSD-2-Clause
/*
 * firewall: forward frames between two netmap ports, both ways, through a
 * small rule table given on the command line.
 *
 *	firewall -i netmap:eth0 -i netmap:eth1 \
 *		-r "drop udp dst 10.0.0.2 port 53" -r "drop arp" -r "pass ip"
 *
 * Each frame is checked against the rules in order; the first rule that
 * matches decides (pass or drop), and a frame no rule matches gets the
 * default (pass, or drop with -d). Each rule counts the frames and bytes
 * it decided; the counters are printed at exit.
 *
 * Rule syntax: ACTION [MATCH]..., every MATCH must hold:
 *	ACTION		pass | drop
 *	ether TYPE	ethertype (0x0806, 2054); also: arp, ip, ip6
 *	proto N		IP protocol; also: udp, tcp, icmp, icmp6
 *	src ADDR[/LEN] [port P]	 source IPv4/IPv6 address or prefix
 *	dst ADDR[/LEN] [port P]	 destination address or prefix
 *	src port P, dst port P	 UDP/TCP source / destination port
 *	port P		either UDP/TCP port; P is N or N-M
 *	any		matches everything
 * One 802.1Q/802.1ad tag (or two) is skipped. IPv6 extension headers are
 * not walked: the next header of the fixed header is the protocol. Port
 * matches need a UDP or TCP header (and, for IPv4, the first fragment).
 *
 * Forwarding swaps buffers when the two ports share a memory region (the
 * second is opened in the first one's region when it can be) and copies
 * otherwise. A frame over several slots (NS_MOREFRAG) is judged by its
 * first slot, which holds the headers, and its slots all follow that.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <net/netmap_user.h>
#include <libnetmap.h>

#define FW_MAX_RULES	64
#define FW_MAX_RINGS	64

enum fw_action { FW_PASS, FW_DROP };

struct fw_net {
	int family;		/* 0: any, 4, 6 */
	uint8_t addr[16];
	unsigned int plen;	/* prefix length in bits */
};

struct fw_ports {
	int set;
	uint16_t lo, hi;
};

struct fw_rule {
	const char *text;
	enum fw_action action;
	int has_ethertype;
	uint16_t ethertype;
	int has_proto;
	uint8_t proto;
	struct fw_net src, dst;
	struct fw_ports sport, dport, port;	/* port: either one */
	uint64_t pkts, bytes;
};

/* What a rule can look at in a frame. */
struct fw_pkt {
	uint16_t ethertype;
	int family;		/* 0: not IP, 4, 6 */
	uint8_t proto;
	uint8_t src[16], dst[16];
	int has_ports;
	uint16_t sport, dport;
};

/* One direction: src RX rings into dst TX rings. */
struct fw_dir {
	struct nmport_d *src, *dst;
	const char *src_name, *dst_name;
	/* per src RX ring: the verdict of a frame whose slots are still coming */
	int chain[FW_MAX_RINGS];	/* -1: next slot starts a frame */
	struct fw_rule *chain_rule[FW_MAX_RINGS];
	uint64_t passed, dropped, errors;
};

struct fw {
	struct fw_rule rules[FW_MAX_RULES + 1];	/* + the default, last */
	unsigned int nrules;
	int zerocopy;
	uint64_t frames;	/* judged, both ways */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: firewall -i port1 -i port2 [-r rule]... [-d] [-c] [-n count] [-t seconds]\n"
"  -i port     the two netmap ports (netmap:eth0, netmap:x}0, ...)\n"
"  -r rule     a rule, e.g. \"drop udp dst 10.0.0.2 port 53\" (up to %d; first match wins)\n"
"  -d          drop frames no rule matches (default: pass them)\n"
"  -c          copy frames even when the ports share memory\n"
"  -n count    exit after judging count frames (default 0: no limit)\n"
"  -t seconds  exit after this many seconds (default 0: no limit)\n"
"Rules: pass|drop, then any of: ether TYPE | arp | ip | ip6 | proto N | udp | tcp |\n"
"  icmp | icmp6 | src ADDR[/LEN] [port P] | dst ADDR[/LEN] [port P] | src port P |\n"
"  dst port P | port P (either) | any.  P is N or N-M.\n"
"Ends on SIGINT/SIGTERM too, printing each rule's counters.\n", FW_MAX_RULES);
}

static unsigned long num_arg(int opt, const char *arg, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || v > max) {
		fprintf(stderr, "firewall: bad -%c '%s': must be a number 0..%lu\n",
			opt, arg, max);
		exit(1);
	}
	return v;
}

/* ---- rule parsing ---- */

static int rule_err(const char *rule, const char *fmt, const char *tok)
{
	fprintf(stderr, "firewall: rule \"%s\": ", rule);
	fprintf(stderr, fmt, tok ? tok : "(end of rule)");
	fprintf(stderr, "\n");
	return -1;
}

static int parse_u(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno || *end || *v > max ? -1 : 0;
}

static int parse_ports(const char *rule, const char *tok, struct fw_ports *p)
{
	char buf[32], *dash;
	unsigned long lo, hi;

	if (!tok || strlen(tok) >= sizeof(buf))
		return rule_err(rule, "bad port '%s': want N or N-M", tok);
	strcpy(buf, tok);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_u(buf, 65535, &lo) || (dash && parse_u(dash + 1, 65535, &hi)))
		return rule_err(rule, "bad port '%s': want N or N-M, 0..65535", tok);
	if (!dash)
		hi = lo;
	if (hi < lo)
		return rule_err(rule, "bad port range '%s': end before start", tok);
	p->set = 1;
	p->lo = (uint16_t)lo;
	p->hi = (uint16_t)hi;
	return 0;
}

static int parse_net(const char *rule, const char *tok, struct fw_net *n)
{
	char buf[64], *slash;
	unsigned long plen;

	if (strlen(tok) >= sizeof(buf))
		return rule_err(rule, "bad address '%s'", tok);
	strcpy(buf, tok);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, n->addr) == 1)
		n->family = 4;
	else if (inet_pton(AF_INET6, buf, n->addr) == 1)
		n->family = 6;
	else
		return rule_err(rule, "bad address '%s': want an IPv4 or IPv6 address[/len]", tok);
	n->plen = n->family == 4 ? 32 : 128;
	if (slash) {
		if (parse_u(slash + 1, n->plen, &plen))
			return rule_err(rule, "bad prefix length in '%s'", tok);
		n->plen = (unsigned int)plen;
	}
	return 0;
}

/* "src ..." or "dst ...": an address and/or a port; returns tokens used. */
static int parse_endpoint(const char *rule, char **tok, struct fw_net *net,
			  struct fw_ports *port)
{
	int used = 0;

	if (!tok[0])
		return rule_err(rule, "'%s' after src/dst: want an address or 'port'", NULL);
	if (strcmp(tok[0], "port")) {
		if (parse_net(rule, tok[0], net))
			return -1;
		used = 1;
	}
	if (tok[used] && !strcmp(tok[used], "port")) {
		if (parse_ports(rule, tok[used + 1], port))
			return -1;
		used += 2;
	}
	return used;
}

static const struct {
	const char *name;
	int is_proto;
	unsigned int value;
} fw_keywords[] = {
	{ "arp",   0, 0x0806 },
	{ "ip",    0, 0x0800 },
	{ "ip4",   0, 0x0800 },
	{ "ip6",   0, 0x86dd },
	{ "udp",   1, 17 },
	{ "tcp",   1, 6 },
	{ "icmp",  1, 1 },
	{ "icmp6", 1, 58 },
};

static int parse_rule(const char *text, struct fw_rule *r)
{
	char *copy, *tok[64], *save = NULL, *t;
	unsigned int n = 0, i;
	unsigned long v;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	r->text = text;
	copy = strdup(text);
	if (!copy)
		return rule_err(text, "out of memory%s", "");
	for (t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == sizeof(tok) / sizeof(tok[0]) - 1) {
			rule_err(text, "too many words (at '%s')", t);
			goto out;
		}
		tok[n++] = t;
	}
	tok[n] = NULL;
	if (n == 0 || (strcmp(tok[0], "pass") && strcmp(tok[0], "drop"))) {
		rule_err(text, "must start with 'pass' or 'drop', not '%s'", tok[0]);
		goto out;
	}
	r->action = strcmp(tok[0], "drop") ? FW_PASS : FW_DROP;
	for (i = 1; i < n;) {
		const char *w = tok[i];
		unsigned int k;
		int used;

		for (k = 0; k < sizeof(fw_keywords) / sizeof(fw_keywords[0]); k++)
			if (!strcmp(w, fw_keywords[k].name))
				break;
		if (k < sizeof(fw_keywords) / sizeof(fw_keywords[0])) {
			if (fw_keywords[k].is_proto) {
				r->has_proto = 1;
				r->proto = (uint8_t)fw_keywords[k].value;
			} else {
				r->has_ethertype = 1;
				r->ethertype = (uint16_t)fw_keywords[k].value;
			}
			i++;
		} else if (!strcmp(w, "ether") || !strcmp(w, "ethertype")) {
			if (parse_u(tok[i + 1], 0xffff, &v)) {
				rule_err(text, "bad ethertype '%s': want 0..0xffff", tok[i + 1]);
				goto out;
			}
			r->has_ethertype = 1;
			r->ethertype = (uint16_t)v;
			i += 2;
		} else if (!strcmp(w, "proto")) {
			if (parse_u(tok[i + 1], 255, &v)) {
				rule_err(text, "bad protocol '%s': want 0..255", tok[i + 1]);
				goto out;
			}
			r->has_proto = 1;
			r->proto = (uint8_t)v;
			i += 2;
		} else if (!strcmp(w, "src") || !strcmp(w, "dst")) {
			int is_src = w[0] == 's';

			used = parse_endpoint(text, &tok[i + 1], is_src ? &r->src : &r->dst,
					      is_src ? &r->sport : &r->dport);
			if (used < 0)
				goto out;
			i += 1 + used;
		} else if (!strcmp(w, "port") || !strcmp(w, "sport") || !strcmp(w, "dport")) {
			struct fw_ports *p = w[0] == 's' ? &r->sport :
					     w[0] == 'd' ? &r->dport : &r->port;

			if (parse_ports(text, tok[i + 1], p))
				goto out;
			i += 2;
		} else if (!strcmp(w, "any") || !strcmp(w, "all")) {
			i++;
		} else {
			rule_err(text, "unknown word '%s'", w);
			goto out;
		}
	}
	if (r->src.family && r->dst.family && r->src.family != r->dst.family) {
		rule_err(text, "src and dst addresses of different families%s", "");
		goto out;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

/* ---- matching ---- */

static void parse_frame(const uint8_t *p, size_t len, struct fw_pkt *k)
{
	size_t off = 14, l4;
	int tags = 0;

	memset(k, 0, sizeof(*k));
	if (len < 14)
		return;
	k->ethertype = (uint16_t)(p[12] << 8 | p[13]);
	while ((k->ethertype == 0x8100 || k->ethertype == 0x88a8) && tags++ < 2) {
		if (len < off + 4)
			return;
		k->ethertype = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += 4;
	}
	if (k->ethertype == 0x0800) {
		const uint8_t *ip = p + off;
		size_t ihl;

		if (len < off + 20 || (ip[0] >> 4) != 4)
			return;
		ihl = (size_t)(ip[0] & 0xf) * 4;
		if (ihl < 20 || len < off + ihl)
			return;
		k->family = 4;
		k->proto = ip[9];
		memcpy(k->src, ip + 12, 4);
		memcpy(k->dst, ip + 16, 4);
		if (((ip[6] << 8 | ip[7]) & 0x1fff) != 0)
			return;		/* not the first fragment: no ports */
		l4 = off + ihl;
	} else if (k->ethertype == 0x86dd) {
		const uint8_t *ip = p + off;

		if (len < off + 40 || (ip[0] >> 4) != 6)
			return;
		k->family = 6;
		k->proto = ip[6];
		memcpy(k->src, ip + 8, 16);
		memcpy(k->dst, ip + 24, 16);
		l4 = off + 40;
	} else {
		return;
	}
	if ((k->proto == 6 || k->proto == 17) && len >= l4 + 4) {
		k->has_ports = 1;
		k->sport = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
		k->dport = (uint16_t)(p[l4 + 2] << 8 | p[l4 + 3]);
	}
}

static int net_match(const struct fw_net *n, int family, const uint8_t *a)
{
	unsigned int full = n->plen / 8, rest = n->plen % 8;

	if (!n->family)
		return 1;
	if (n->family != family)
		return 0;
	if (memcmp(n->addr, a, full))
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((n->addr[full] & mask) != (a[full] & mask))
			return 0;
	}
	return 1;
}

static int port_in(const struct fw_ports *p, uint16_t v)
{
	return v >= p->lo && v <= p->hi;
}

static int rule_match(const struct fw_rule *r, const struct fw_pkt *k)
{
	int need_ip = r->has_proto || r->src.family || r->dst.family ||
		      r->sport.set || r->dport.set || r->port.set;

	if (r->has_ethertype && r->ethertype != k->ethertype)
		return 0;
	if (!need_ip)
		return 1;
	if (!k->family)
		return 0;
	if (r->has_proto && r->proto != k->proto)
		return 0;
	if (!net_match(&r->src, k->family, k->src) || !net_match(&r->dst, k->family, k->dst))
		return 0;
	if (r->sport.set || r->dport.set || r->port.set) {
		if (!k->has_ports)
			return 0;
		if (r->sport.set && !port_in(&r->sport, k->sport))
			return 0;
		if (r->dport.set && !port_in(&r->dport, k->dport))
			return 0;
		if (r->port.set && !port_in(&r->port, k->sport) && !port_in(&r->port, k->dport))
			return 0;
	}
	return 1;
}

static struct fw_rule *judge(struct fw *fw, const uint8_t *p, size_t len)
{
	struct fw_pkt k;
	unsigned int i;

	parse_frame(p, len, &k);
	for (i = 0; i < fw->nrules; i++)
		if (rule_match(&fw->rules[i], &k))
			return &fw->rules[i];
	return &fw->rules[fw->nrules];
}

/* ---- forwarding ---- */

/* Judge and move what src's RX rings hold, up to limit frames (0: all). */
static void filter(struct fw *fw, struct fw_dir *dir, uint64_t limit)
{
	struct nmport_d *s = dir->src, *d = dir->dst;
	unsigned int si, di = d->first_tx_ring;

	for (si = s->first_rx_ring; si <= s->last_rx_ring; si++) {
		struct netmap_ring *rx = NETMAP_RXRING(s->nifp, si);
		unsigned int ci = si - s->first_rx_ring;
		uint32_t j = rx->head;

		while (j != rx->tail) {
			struct netmap_slot *rs = &rx->slot[j];
			struct netmap_ring *tx = NULL;
			struct fw_rule *rule;

			if (dir->chain[ci] < 0) {
				if (limit && fw->frames >= limit)
					break;
				rule = judge(fw, (const uint8_t *)NETMAP_BUF(rx, rs->buf_idx),
					     rs->len <= rx->nr_buf_size ? rs->len : 0);
				rule->pkts++;
				fw->frames++;
				if (rule->action == FW_DROP)
					dir->dropped++;
				else
					dir->passed++;
				dir->chain[ci] = (int)rule->action;
				dir->chain_rule[ci] = rule;
			}
			if (dir->chain[ci] == FW_PASS) {
				while (di <= d->last_tx_ring &&
				       nm_ring_empty(NETMAP_TXRING(d->nifp, di)))
					di++;
				if (di > d->last_tx_ring)
					break;	/* no room: go on after the next sync */
				tx = NETMAP_TXRING(d->nifp, di);
			}
			if (tx && !fw->zerocopy && rs->len > tx->nr_buf_size) {
				dir->errors++;	/* cannot copy it whole: drop the slot */
			} else if (tx) {
				struct netmap_slot *ts = &tx->slot[tx->head];

				if (fw->zerocopy) {
					uint32_t idx = ts->buf_idx;

					ts->buf_idx = rs->buf_idx;
					rs->buf_idx = idx;
					ts->flags = NS_BUF_CHANGED;
					rs->flags |= NS_BUF_CHANGED;
				} else {
					memcpy(NETMAP_BUF(tx, ts->buf_idx),
					       NETMAP_BUF(rx, rs->buf_idx), rs->len);
					ts->flags = 0;
				}
				ts->len = rs->len;
				ts->flags |= rs->flags & NS_MOREFRAG;
				tx->head = tx->cur = nm_ring_next(tx, tx->head);
			}
			dir->chain_rule[ci]->bytes += rs->len;
			if (!(rs->flags & NS_MOREFRAG))
				dir->chain[ci] = -1;
			j = nm_ring_next(rx, j);
		}
		rx->head = rx->cur = j;
	}
}

static struct nmport_d *open_peer(const char *name, struct nmport_d *first)
{
	struct nmport_d *d = nmport_prepare(name);
	int err;

	if (!d)
		return NULL;
	if (d->reg.nr_mem_id == 0) {
		struct nmreq_register saved = d->reg;
		int verbose = d->ctx->verbose;

		/* try the first port's region, quietly; else where it lives */
		d->reg.nr_mem_id = first->reg.nr_mem_id;
		d->ctx->verbose = 0;
		err = nmport_open_desc(d);
		d->ctx->verbose = verbose;
		if (err == 0)
			return d;
		d->reg = saved;
	}
	if (nmport_open_desc(d) < 0) {
		err = errno;
		nmport_undo_prepare(d);
		errno = err;
		return NULL;
	}
	return d;
}

static void print_counters(const struct fw *fw, const struct fw_dir *dirs)
{
	const struct fw_rule *def = &fw->rules[fw->nrules];
	unsigned int i;

	for (i = 0; i < fw->nrules; i++)
		printf("rule %u: %s: %" PRIu64 " packets %" PRIu64 " bytes\n", i + 1,
		       fw->rules[i].text, fw->rules[i].pkts, fw->rules[i].bytes);
	printf("default %s: %" PRIu64 " packets %" PRIu64 " bytes\n",
	       def->action == FW_DROP ? "drop" : "pass", def->pkts, def->bytes);
	for (i = 0; i < 2; i++)
		printf("%s -> %s: %" PRIu64 " passed %" PRIu64 " dropped %" PRIu64 " errors\n",
		       dirs[i].src_name, dirs[i].dst_name, dirs[i].passed, dirs[i].dropped,
		       dirs[i].errors);
}

/*
 * Hand the last forwarded slots to the port and wait, a bounded while, until
 * it has sent them: a NIC port sends in the background and closing it drops
 * what it has not sent yet. A pipe whose peer has left never drains: the
 * bound is what ends the wait then.
 */
static void tx_drain(int fd, struct netmap_if *nifp, unsigned int first, unsigned int last)
{
	unsigned int i, tries;

	for (tries = 0; tries < 500; tries++) {
		int pending = 0;

		if (ioctl(fd, NIOCTXSYNC, NULL) < 0)
			return;
		for (i = first; i <= last; i++)
			pending |= nm_tx_pending(NETMAP_TXRING(nifp, i));
		if (!pending)
			return;
		usleep(1000);
	}
}

int main(int argc, char **argv)
{
	static struct fw fw;
	struct fw_dir dirs[2];
	unsigned long count = 0, seconds = 0;
	const char *ifa = NULL, *ifb = NULL;
	struct nmport_d *pa, *pb;
	int ch, copy = 0, def_drop = 0, ret = 0, i;
	struct sigaction sa;
	time_t deadline = 0;

	while ((ch = getopt(argc, argv, "hi:r:dcn:t:")) != -1) {
		switch (ch) {
		case 'i':
			if (!ifa) {
				ifa = optarg;
			} else if (!ifb) {
				ifb = optarg;
			} else {
				fprintf(stderr, "firewall: -i %s: already have two ports\n", optarg);
				return 1;
			}
			break;
		case 'r':
			if (fw.nrules == FW_MAX_RULES) {
				fprintf(stderr, "firewall: -r \"%s\": at most %d rules\n",
					optarg, FW_MAX_RULES);
				return 1;
			}
			if (parse_rule(optarg, &fw.rules[fw.nrules]))
				return 1;
			fw.nrules++;
			break;
		case 'd':
			def_drop = 1;
			break;
		case 'c':
			copy = 1;
			break;
		case 'n':
			count = num_arg('n', optarg, ~0UL);
			break;
		case 't':
			seconds = num_arg('t', optarg, 86400UL * 365);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc || !ifa || !ifb) {
		if (optind < argc)
			fprintf(stderr, "firewall: unexpected argument '%s'\n", argv[optind]);
		else
			fprintf(stderr, "firewall: need two ports, given with -i\n");
		usage(stderr);
		return 1;
	}
	fw.rules[fw.nrules].text = "default";
	fw.rules[fw.nrules].action = def_drop ? FW_DROP : FW_PASS;

	pa = nmport_open(ifa);
	if (!pa) {
		fprintf(stderr, "firewall: cannot open %s: %s\n", ifa, strerror(errno));
		return 1;
	}
	pb = open_peer(ifb, pa);
	if (!pb) {
		fprintf(stderr, "firewall: cannot open %s: %s\n", ifb, strerror(errno));
		nmport_close(pa);
		return 1;
	}
	if (pa->last_rx_ring - pa->first_rx_ring >= FW_MAX_RINGS ||
	    pb->last_rx_ring - pb->first_rx_ring >= FW_MAX_RINGS) {
		fprintf(stderr, "firewall: more than %d RX rings bound on %s or %s\n",
			FW_MAX_RINGS, ifa, ifb);
		ret = 1;
		goto out;
	}
	fw.zerocopy = !copy && pa->mem == pb->mem;
	memset(dirs, 0, sizeof(dirs));
	dirs[0] = (struct fw_dir){ .src = pa, .dst = pb, .src_name = ifa, .dst_name = ifb };
	dirs[1] = (struct fw_dir){ .src = pb, .dst = pa, .src_name = ifb, .dst_name = ifa };
	for (i = 0; i < FW_MAX_RINGS; i++)
		dirs[0].chain[i] = dirs[1].chain[i] = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (seconds)
		deadline = time(NULL) + (time_t)seconds;
	fprintf(stderr, "firewall: %s <-> %s, %u rule(s), default %s, %s\n", ifa, ifb,
		fw.nrules, def_drop ? "drop" : "pass", fw.zerocopy ? "zero-copy" : "copying");

	while (!stop && (!count || fw.frames < count)) {
		struct pollfd pfd[2] = { { .fd = pa->fd }, { .fd = pb->fd } };

		if (deadline && time(NULL) >= deadline)
			break;
		for (i = 0; i < 2; i++) {
			struct nmport_d *d = dirs[i].src;
			unsigned int r, held = 0;

			for (r = d->first_rx_ring; r <= d->last_rx_ring; r++)
				held += nm_ring_space(NETMAP_RXRING(d->nifp, r));
			/* frames held: wait for TX room on the other port */
			if (held)
				pfd[!i].events |= POLLOUT;
			else
				pfd[i].events |= POLLIN;
		}
		if (poll(pfd, 2, 200) < 0 && errno != EINTR) {
			fprintf(stderr, "firewall: poll: %s\n", strerror(errno));
			ret = 1;
			break;
		}
		filter(&fw, &dirs[0], count);
		filter(&fw, &dirs[1], count);
	}
	/* flush the TX rings, give the RX slots back */
	tx_drain(pa->fd, pa->nifp, pa->first_tx_ring, pa->last_tx_ring);
	tx_drain(pb->fd, pb->nifp, pb->first_tx_ring, pb->last_tx_ring);
	ioctl(pa->fd, NIOCRXSYNC, NULL);
	ioctl(pb->fd, NIOCRXSYNC, NULL);
	print_counters(&fw, dirs);
out:
	nmport_close(pb);
	nmport_close(pa);
	return ret;
}
