// SPDX-License-Identifier: BSD-2-Clause
/*
 * vale-ctl: list, create, attach and detach VALE switch ports, as upstream's
 * vale-ctl(8): the same options and the same output lines, so that scripts
 * written for it keep working.
 *
 * It is a plain netmap client: each action is one NIOCCTRL request (the
 * nmreq_header API, NETMAP_REQ_VALE_*) on a /dev/netmap fd, which libnetmap
 * serves in this process. Nothing here knows how the requests are carried
 * out (man/vale-ctl.8 says what ours do: persistent ports, attach daemons).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <net/netmap.h>
#include <libnetmap.h>

static int verbose;

struct args {
	const char *name;	/* the option's argument */
	const char *config;	/* -C */
	const char *mem_id;	/* -m */
	char opt;		/* the action's option letter */
	uint16_t reqtype;
	uint32_t mode;		/* VALE_ATTACH: NR_REG_ALL_NIC (-a), NR_REG_NIC_SW (-h) */
};

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"Usage:\n"
		"vale-ctl [arguments]\n"
		"\t-g interface\tinterface name to get info\n"
		"\t-d interface\tinterface name to be detached\n"
		"\t-a interface\tinterface name to be attached\n"
		"\t-h interface\tinterface name to be attached with the host stack\n"
		"\t-n interface\tinterface name to be created\n"
		"\t-r interface\tinterface name to be deleted\n"
		"\t-l vale-port\tshow bridge and port indices\n"
		"\t-C string ring/slot setting of an interface creating by -n\n"
		"\t-p interface start polling. Additional -C x,y,z configures\n"
		"\t\t x: 0 (REG_ALL_NIC) or 1 (REG_ONE_NIC),\n"
		"\t\t y: CPU core id for ALL_NIC and core/ring for ONE_NIC\n"
		"\t\t z: (ONE_NIC only) num of total cores/rings\n"
		"\t-P interface stop polling\n"
		"\t-m memid to use when creating a new interface\n"
		"\t-v increase verbosity\n"
		"with no arguments: list all existing vale ports\n");
	exit(status);
}

/* A comma-separated list of at most max numbers; -1 (reported) if bad. */
static int parse_numbers(const char *opt, const char *s, unsigned long *v, int max)
{
	const char *p = s;
	char *end;
	int n = 0;

	if (!*s) {
		fprintf(stderr, "vale-ctl: %s '': empty\n", opt);
		return -1;
	}
	for (;;) {
		if (n == max) {
			fprintf(stderr, "vale-ctl: %s '%s': at most %d numbers\n", opt, s, max);
			return -1;
		}
		errno = 0;
		v[n] = strtoul(p, &end, 0);
		if (end == p || errno || v[n] > 65535 || (*end && *end != ',') || *p == '-') {
			fprintf(stderr, "vale-ctl: %s '%s': '%.*s' is not a number from 0 to 65535\n",
				opt, s, (int)strcspn(p, ","), p);
			return -1;
		}
		n++;
		if (!*end)
			return n;
		p = end + 1;
	}
}

/* -C tx_slots[,rx_slots[,tx_rings[,rx_rings]]], as upstream */
static int parse_ring_config(const char *conf, uint32_t *txs, uint32_t *rxs, uint16_t *txr,
			     uint16_t *rxr)
{
	unsigned long v[4];
	int n;

	*txs = *rxs = 0;
	*txr = *rxr = 0;
	if (!conf)
		return 0;
	n = parse_numbers("-C", conf, v, 4);
	if (n < 0)
		return -1;
	if (n > 0)
		*txs = *rxs = v[0];
	if (n > 1)
		*rxs = v[1];
	if (n > 2)
		*txr = *rxr = v[2];
	if (n > 3)
		*rxr = v[3];
	return 0;
}

/* -C x,y,z for -p: mode (0 one CPU, 1 several), first CPU, CPU count */
static int parse_poll_config(const char *conf, struct nmreq_vale_polling *p)
{
	unsigned long v[3];
	int n;

	p->nr_mode = NETMAP_POLLING_MODE_SINGLE_CPU;
	if (!conf)
		return 0;
	n = parse_numbers("-C", conf, v, 3);
	if (n < 0)
		return -1;
	if (n > 0 && v[0])
		p->nr_mode = NETMAP_POLLING_MODE_MULTI_CPU;
	if (n > 1)
		p->nr_first_cpu_id = v[1];
	if (n > 2) {
		if (p->nr_mode != NETMAP_POLLING_MODE_MULTI_CPU) {
			fprintf(stderr, "vale-ctl: -C '%s': a CPU count only with mode 1 (REG_ONE_NIC)\n",
				conf);
			return -1;
		}
		p->nr_num_polling_cpus = v[2];
	}
	return 0;
}

/* -m N, or -m a port name whose region to use ("netmap:eth0", "vale0:a@2") */
static int parse_mem_id(const char *s)
{
	unsigned long v;
	const char *p = s;
	char *end;
	int32_t id;

	if (!s)
		return 0;
	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (*end || errno || !v || v > 65535) {
			fprintf(stderr, "vale-ctl: -m '%s': not a memory id from 1 to 65535\n", s);
			return -1;
		}
		return (int)v;
	}
	id = nmreq_get_mem_id(&p, nmctx_get());
	if (id <= 0) {
		fprintf(stderr, "vale-ctl: -m '%s': no such port, or bad format (missing 'netmap:'?)\n",
			s);
		return -1;
	}
	return id;
}

static int list_all(int fd, struct nmreq_header *hdr, struct nmreq_vale_list *req)
{
	for (;;) {
		hdr->nr_name[0] = '\0';
		if (ioctl(fd, NIOCCTRL, hdr) < 0) {
			if (errno == ENOENT)
				return 0;
			fprintf(stderr, "failed to list all: %s\n", strerror(errno));
			return 1;
		}
		printf("%s bridge_idx %" PRIu16 " port_idx %" PRIu32 "\n", hdr->nr_name,
		       req->nr_bridge_idx, req->nr_port_idx);
		req->nr_port_idx++;
	}
}

static const char *action_of(uint16_t reqtype)
{
	switch (reqtype) {
	case NETMAP_REQ_VALE_DELIF:
		return "remove";
	case NETMAP_REQ_VALE_NEWIF:
		return "create";
	case NETMAP_REQ_VALE_ATTACH:
		return "attach";
	case NETMAP_REQ_VALE_DETACH:
		return "detach";
	case NETMAP_REQ_VALE_LIST:
		return "list";
	case NETMAP_REQ_VALE_POLLING_ENABLE:
		return "enable polling on";
	case NETMAP_REQ_VALE_POLLING_DISABLE:
		return "disable polling on";
	default:
		return "obtain info for";
	}
}

static int vale_ctl(const struct args *a)
{
	struct nmreq_header hdr;
	union {
		struct nmreq_vale_attach attach;
		struct nmreq_vale_detach detach;
		struct nmreq_vale_newif newif;
		struct nmreq_vale_list list;
		struct nmreq_vale_polling polling;
		struct nmreq_port_info_get info;
	} b;
	int fd, mem_id, ret = 0;

	memset(&hdr, 0, sizeof(hdr));
	memset(&b, 0, sizeof(b));
	hdr.nr_version = NETMAP_API;
	hdr.nr_reqtype = a->reqtype;
	if (a->name) {
		if (strlen(a->name) >= sizeof(hdr.nr_name)) {
			fprintf(stderr, "vale-ctl: -%c '%s': name too long (at most %zu characters)\n",
				a->opt, a->name, sizeof(hdr.nr_name) - 1);
			return 1;
		}
		strcpy(hdr.nr_name, a->name);
	}
	if (a->reqtype != NETMAP_REQ_VALE_DELIF)
		hdr.nr_body = (uintptr_t)&b;
	switch (a->reqtype) {
	case NETMAP_REQ_VALE_NEWIF:
		if (parse_ring_config(a->config, &b.newif.nr_tx_slots, &b.newif.nr_rx_slots,
				      &b.newif.nr_tx_rings, &b.newif.nr_rx_rings) < 0)
			return 1;
		mem_id = parse_mem_id(a->mem_id);
		if (mem_id < 0)
			return 1;
		b.newif.nr_mem_id = mem_id;
		break;
	case NETMAP_REQ_VALE_ATTACH:
		b.attach.reg.nr_mode = a->mode;
		if (parse_ring_config(a->config, &b.attach.reg.nr_tx_slots,
				      &b.attach.reg.nr_rx_slots, &b.attach.reg.nr_tx_rings,
				      &b.attach.reg.nr_rx_rings) < 0)
			return 1;
		mem_id = parse_mem_id(a->mem_id);
		if (mem_id < 0)
			return 1;
		b.attach.reg.nr_mem_id = mem_id;
		break;
	case NETMAP_REQ_VALE_POLLING_ENABLE:
	case NETMAP_REQ_VALE_POLLING_DISABLE:
		if (parse_poll_config(a->config, &b.polling) < 0)
			return 1;
		break;
	default:
		break;
	}
	fd = open("/dev/netmap", O_RDWR);
	if (fd < 0) {
		perror("/dev/netmap");
		return 1;
	}
	if (a->reqtype == NETMAP_REQ_VALE_LIST && !a->name) {
		ret = list_all(fd, &hdr, &b.list);
		close(fd);
		return ret;
	}
	if (ioctl(fd, NIOCCTRL, &hdr) < 0) {
		fprintf(stderr, "failed to %s %s: %s\n", action_of(a->reqtype), a->name,
			strerror(errno));
		close(fd);
		return 1;
	}
	switch (a->reqtype) {
	case NETMAP_REQ_VALE_NEWIF:
		if (verbose) {
			printf("tx_slots:   %" PRIu32 "\n", b.newif.nr_tx_slots);
			printf("rx_slots:   %" PRIu32 "\n", b.newif.nr_rx_slots);
			printf("tx_rings:   %" PRIu16 "\n", b.newif.nr_tx_rings);
			printf("rx_ring:    %" PRIu16 "\n", b.newif.nr_rx_rings);
			printf("mem_id:     %" PRIu16 "\n", b.newif.nr_mem_id);
		}
		break;
	case NETMAP_REQ_VALE_ATTACH:
		if (verbose)
			printf("port_index: %" PRIu32 "\n", b.attach.port_index);
		break;
	case NETMAP_REQ_VALE_DETACH:
		if (verbose)
			printf("port_index: %" PRIu32 "\n", b.detach.port_index);
		break;
	case NETMAP_REQ_VALE_LIST:
		printf("bridge_idx: %" PRIu16 "\n", b.list.nr_bridge_idx);
		printf("port_idx:   %" PRIu32 "\n", b.list.nr_port_idx);
		break;
	case NETMAP_REQ_PORT_INFO_GET:
		printf("memsize:    %" PRIu64 "\n", b.info.nr_memsize);
		printf("tx_slots:   %" PRIu32 "\n", b.info.nr_tx_slots);
		printf("rx_slots:   %" PRIu32 "\n", b.info.nr_rx_slots);
		printf("tx_rings:   %" PRIu16 "\n", b.info.nr_tx_rings);
		printf("rx_rings    %" PRIu16 "\n", b.info.nr_rx_rings);
		printf("mem_id:     %" PRIu16 "\n", b.info.nr_mem_id);
		break;
	default:
		break;
	}
	close(fd);
	return 0;
}

/* What each action option asks (a table, as upstream's getopt switch). */
static const struct {
	char opt;
	uint16_t reqtype;
	uint32_t mode;
} actions[] = {
	{ 'd', NETMAP_REQ_VALE_DETACH, 0 },
	{ 'a', NETMAP_REQ_VALE_ATTACH, NR_REG_ALL_NIC },
	{ 'h', NETMAP_REQ_VALE_ATTACH, NR_REG_NIC_SW },
	{ 'n', NETMAP_REQ_VALE_NEWIF, 0 },
	{ 'r', NETMAP_REQ_VALE_DELIF, 0 },
	{ 'g', NETMAP_REQ_PORT_INFO_GET, 0 },
	{ 'l', NETMAP_REQ_VALE_LIST, 0 },
	{ 'p', NETMAP_REQ_VALE_POLLING_ENABLE, 0 },
	{ 'P', NETMAP_REQ_VALE_POLLING_DISABLE, 0 },
};

int main(int argc, char *argv[])
{
	struct args a = { .mode = NR_REG_ALL_NIC };
	unsigned i;
	int ch;

	while ((ch = getopt(argc, argv, "d:a:h:g:l:n:r:C:p:P:m:v")) != -1) {
		switch (ch) {
		case 'C':
			a.config = optarg;
			continue;
		case 'm':
			a.mem_id = optarg;
			continue;
		case 'v':
			verbose++;
			continue;
		case '?':
			usage(1);
			break;
		default:
			break;
		}
		for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
			if (actions[i].opt == ch)
				break;
		if (i == sizeof(actions) / sizeof(actions[0]))
			usage(1);
		a.opt = ch;
		a.reqtype = actions[i].reqtype;
		a.mode = actions[i].mode;
		a.name = optarg;
		if (ch == 'l' && strncmp(a.name, NM_BDG_NAME, strlen(NM_BDG_NAME))) {
			fprintf(stderr, "invalid vale port name: '%s'\n", a.name);
			usage(1);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vale-ctl: unexpected argument '%s'\n", argv[optind]);
		usage(1);
	}
	if (argc == 1) {
		a.reqtype = NETMAP_REQ_VALE_LIST;
		a.name = NULL;
	}
	if (!a.reqtype) {
		fprintf(stderr, "vale-ctl: no action (-a, -d, -g, -h, -l, -n, -p, -P or -r)\n");
		usage(1);
	}
	return vale_ctl(&a);
}
