// SPDX-License-Identifier: BSD-2-Clause
/*
 * Port-name grammar and option parsing, through nmport_prepare() (which
 * does not touch /dev/netmap): what each portspec puts in nr_name, nr_mode,
 * nr_ringid, nr_flags, nr_mem_id and the option chain, and which ones fail
 * with which errno and message. Table driven; prints "N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libnetmap.h>

static int passed, failed;
static char last_msg[2048];

static void capture_error(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (cond) {                                                   \
			passed++;                                             \
		} else {                                                      \
			failed++;                                             \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);           \
			printf(__VA_ARGS__);                                  \
			printf("\n");                                         \
		}                                                             \
	} while (0)

/* ------------------------------------------------------------------ */
/* Grammar: name, mode, ring, flags, mem id                           */
/* ------------------------------------------------------------------ */

struct grammar_case {
	const char *spec;
	const char *name;	/* NULL: must fail */
	uint32_t mode;
	uint16_t ringid;
	uint64_t flags;
	uint16_t mem_id;
	int err;		/* errno when failing */
	const char *msg;	/* substring of the message when failing */
};

#define OK(s, n, m, r, f, id) { .spec = (s), .name = (n), .mode = (m),        \
				.ringid = (r), .flags = (f), .mem_id = (id) }
#define BAD(s, e, m) { .spec = (s), .name = NULL, .err = (e), .msg = (m) }

static const struct grammar_case grammar[] = {
	/* subsystems and names */
	OK("netmap:eth0", "eth0", NR_REG_ALL_NIC, 0, 0, 0),
	OK("netmap:a_b_9", "a_b_9", NR_REG_ALL_NIC, 0, 0, 0),
	OK("vale0:p1", "vale0:p1", NR_REG_ALL_NIC, 0, 0, 0),
	OK("vale:p1", "vale:p1", NR_REG_ALL_NIC, 0, 0, 0),
	OK("vale_sw1:port_2", "vale_sw1:port_2", NR_REG_ALL_NIC, 0, 0, 0),
	BAD("", EINVAL, "prefix unknown or missing"),
	BAD("eth0", EINVAL, "prefix unknown or missing"),
	BAD("netmap", EINVAL, "missing ':'"),
	BAD("vale0", EINVAL, "missing ':'"),
	BAD("netmapx:eth0", EINVAL, "no identifier allowed between 'netmap' and ':'"),
	BAD("vale.1:p", EINVAL, "invalid identifier '.1'"),
	BAD("netmap:", EINVAL, "invalid empty port name"),
	BAD("vale0:", EINVAL, "invalid empty port name"),
	BAD("netmap:^", EINVAL, "invalid empty port name"),
	BAD("netmap:eth.0", EINVAL, "invalid port name 'eth.0'"),
	BAD("netmap:e th", EINVAL, "invalid port name 'e th'"),
	/* pipes: the {/} part stays in the name */
	OK("netmap:foo{1", "foo{1", NR_REG_ALL_NIC, 0, 0, 0),
	OK("netmap:foo}1", "foo}1", NR_REG_ALL_NIC, 0, 0, 0),
	OK("netmap:foo{pipe_a", "foo{pipe_a", NR_REG_ALL_NIC, 0, 0, 0),
	OK("vale0:p{3", "vale0:p{3", NR_REG_ALL_NIC, 0, 0, 0),
	OK("netmap:foo{1/T", "foo{1", NR_REG_ALL_NIC, 0, NR_TX_RINGS_ONLY, 0),
	OK("netmap:foo}7@4", "foo}7", NR_REG_ALL_NIC, 0, 0, 4),
	BAD("netmap:foo{", EINVAL, "invalid empty pipe name"),
	BAD("netmap:foo}", EINVAL, "invalid empty pipe name"),
	BAD("netmap:foo{@1", EINVAL, "invalid empty pipe name"),
	BAD("netmap:foo{a.b", EINVAL, "invalid pipe name 'a.b'"),
	BAD("netmap:foo{1{2", EINVAL, "invalid pipe name '1{2'"),
	BAD("netmap:{1", EINVAL, "invalid empty port name"),
	/* ring modes */
	OK("netmap:eth0^", "eth0", NR_REG_SW, 0, 0, 0),
	OK("netmap:eth0^1", "eth0", NR_REG_ONE_SW, 1, 0, 0),
	OK("netmap:eth0^12/R", "eth0", NR_REG_ONE_SW, 12, NR_RX_RINGS_ONLY, 0),
	OK("netmap:eth0*", "eth0", NR_REG_NIC_SW, 0, 0, 0),
	OK("netmap:eth0-0", "eth0", NR_REG_ONE_NIC, 0, 0, 0),
	OK("netmap:eth0-3", "eth0", NR_REG_ONE_NIC, 3, 0, 0),
	OK("netmap:eth0-4094", "eth0", NR_REG_ONE_NIC, 4094, 0, 0),
	OK("vale0:p1-2", "vale0:p1", NR_REG_ONE_NIC, 2, 0, 0),
	BAD("netmap:eth0-", EINVAL, "got '' while expecting a number"),
	BAD("netmap:eth0-x", EINVAL, "got 'x' while expecting a number"),
	BAD("netmap:eth0--1", EINVAL, "got '-1' while expecting a number"),
	BAD("netmap:eth0-4095", EINVAL, "'4095' out of range [0, 4095)"),
	BAD("netmap:eth0-99999999999999999999999", EINVAL, "out of range"),
	BAD("netmap:eth0^x", EINVAL, "unexpected character: 'x'"),
	BAD("netmap:eth0^1x", EINVAL, "unexpected character: 'x'"),
	BAD("netmap:eth0*1", EINVAL, "unexpected character: '1'"),
	BAD("netmap:eth0-1-2", EINVAL, "unexpected character: '-'"),
	BAD("netmap:eth0^*", EINVAL, "unexpected character: '*'"),
	BAD("netmap:eth0^99999", EINVAL, "'99999' out of range"),
	/* flags */
	OK("netmap:eth0/x", "eth0", NR_REG_ALL_NIC, 0, NR_EXCLUSIVE, 0),
	OK("netmap:eth0/z", "eth0", NR_REG_ALL_NIC, 0, NR_ZCOPY_MON, 0),
	OK("netmap:eth0/t", "eth0", NR_REG_ALL_NIC, 0, NR_MONITOR_TX, 0),
	OK("netmap:eth0/r", "eth0", NR_REG_ALL_NIC, 0, NR_MONITOR_RX, 0),
	OK("netmap:eth0/rt", "eth0", NR_REG_ALL_NIC, 0, NR_MONITOR_RX | NR_MONITOR_TX, 0),
	OK("netmap:eth0/R", "eth0", NR_REG_ALL_NIC, 0, NR_RX_RINGS_ONLY, 0),
	OK("netmap:eth0/T", "eth0", NR_REG_ALL_NIC, 0, NR_TX_RINGS_ONLY, 0),
	OK("netmap:eth0-1/xT", "eth0", NR_REG_ONE_NIC, 1, NR_EXCLUSIVE | NR_TX_RINGS_ONLY, 0),
	OK("netmap:eth0*/xzr", "eth0", NR_REG_NIC_SW, 0,
	   NR_EXCLUSIVE | NR_ZCOPY_MON | NR_MONITOR_RX, 0),
	BAD("netmap:eth0/", EINVAL, "unexpected end of request"),
	BAD("netmap:eth0/q", EINVAL, "unrecognized flag: 'q'"),
	BAD("netmap:eth0/x/r", EINVAL, "unrecognized flag: '/'"),
	BAD("netmap:eth0/x-1", EINVAL, "unrecognized flag: '-'"),
	/* numeric mem id */
	OK("netmap:eth0@2", "eth0", NR_REG_ALL_NIC, 0, 0, 2),
	OK("netmap:eth0@65535", "eth0", NR_REG_ALL_NIC, 0, 0, 65535),
	OK("netmap:eth0-1/x@3", "eth0", NR_REG_ONE_NIC, 1, NR_EXCLUSIVE, 3),
	OK("netmap:eth0@3/x", "eth0", NR_REG_ALL_NIC, 0, NR_EXCLUSIVE, 3),
	OK("netmap:eth0@3@3", "eth0", NR_REG_ALL_NIC, 0, 0, 3),
	OK("netmap:eth0/@4", "eth0", NR_REG_ALL_NIC, 0, 0, 4),
	OK("netmap:eth0^@5", "eth0", NR_REG_SW, 0, 0, 5),
	BAD("netmap:eth0@", EINVAL, "invalid empty mem_id"),
	BAD("netmap:eth0/x@", EINVAL, "invalid empty mem_id"),
	BAD("netmap:eth0@0", EINVAL, "invalid mem_id: '0'"),
	BAD("netmap:eth0@65536", EINVAL, "invalid mem_id: '65536'"),
	BAD("netmap:eth0@1@2", EINVAL, "invalid setting of mem_id to 2 (already set to 1)"),
	BAD("netmap:eth0@3x", EINVAL, "unexpected character: 'x'"),
	/* options: syntax */
	BAD("netmap:eth0@foo", EINVAL, "unknown option: 'foo'"),
	BAD("netmap:eth0@foo=1", EINVAL, "unknown option: 'foo'"),
	BAD("netmap:eth0@conf", EINVAL, "syntax error: missing body after 'conf'"),
	BAD("netmap:eth0@conf:", EINVAL, "option 'conf': missing keys"),
	BAD("netmap:eth0@conf=", EINVAL, "missing value for option 'conf'"),
	BAD("netmap:eth0@conf:foo=1", EINVAL, "option 'conf': unknown key: 'foo'"),
	BAD("netmap:eth0@conf:rings", EINVAL, "option 'conf': missing '=value' for key 'rings'"),
	BAD("netmap:eth0@conf:rings=", EINVAL, "option 'conf': missing '=value' for key 'rings'"),
	BAD("netmap:eth0@conf:rings=x", EINVAL, "key 'rings': invalid number 'x'"),
	BAD("netmap:eth0@conf:rings=-1", EINVAL, "key 'rings': invalid number '-1'"),
	BAD("netmap:eth0@conf:rings=4k", EINVAL, "key 'rings': invalid number '4k'"),
	BAD("netmap:eth0@conf:rings=65536", EINVAL, "key 'rings': 65536 out of range [0, 65535]"),
	BAD("netmap:eth0@conf:slots=4294967296", EINVAL, "key 'slots': 4294967296 out of range"),
	BAD("netmap:eth0@conf:buf-num=99999999999999999999999", EINVAL, "key 'buf-num'"),
	BAD("netmap:eth0@conf:rings=1,rings=2", EINVAL,
	    "option 'conf': duplicate key 'rings', already set to '1'"),
	BAD("netmap:eth0@conf:tx_rings=1,tx-rings=2", EINVAL, "duplicate key 'tx-rings'"),
	BAD("netmap:eth0@conf:rings=1,,slots=2", EINVAL, "option 'conf': empty key"),
	BAD("netmap:eth0@conf:rings=2@", EINVAL, "invalid empty option"),
	BAD("netmap:eth0@@conf:rings=2", EINVAL, "invalid empty option"),
	BAD("netmap:eth0@share", EINVAL, "missing body after 'share'"),
	BAD("netmap:eth0@share:port", EINVAL, "missing '=value' for key 'port'"),
	BAD("netmap:eth0@share=eth1", EINVAL, "eth1: invalid request, prefix unknown or missing"),
	BAD("netmap:eth0@share=netmap:", EINVAL, "invalid empty port name"),
	BAD("netmap:eth0@extmem", EINVAL, "missing body after 'extmem'"),
	BAD("netmap:eth0@extmem:if-num=3", EINVAL, "option 'extmem': mandatory key 'file' not assigned"),
	BAD("netmap:eth0@extmem=/nonexistent/unetmap-x", ENOENT,
	    "cannot open '/nonexistent/unetmap-x'"),
	BAD("netmap:eth0@extmem:file=/nonexistent/x,buf-num=z", EINVAL,
	    "option 'extmem': key 'buf-num': invalid number 'z'"),
	BAD("netmap:eth0@offset=64", EOPNOTSUPP, "option 'offset' is not supported"),
	/* name length: NETMAP_REQ_IFNAMSIZ includes the NUL */
	OK("netmap:a23456789012345678901234567890123456789012345678901234567890123",
	   "a23456789012345678901234567890123456789012345678901234567890123",
	   NR_REG_ALL_NIC, 0, 0, 0),
	BAD("netmap:a234567890123456789012345678901234567890123456789012345678901234",
	    EINVAL, "too long"),
	BAD("vale0:a2345678901234567890123456789012345678901234567890123456789",
	    EINVAL, "too long"),
};

static void run_grammar(void)
{
	size_t i;

	for (i = 0; i < sizeof(grammar) / sizeof(grammar[0]); i++) {
		const struct grammar_case *c = &grammar[i];
		struct nmport_d *d;

		last_msg[0] = '\0';
		errno = 0;
		d = nmport_prepare(c->spec);
		if (c->name == NULL) {
			CHECK(d == NULL, "'%s': accepted, expected failure", c->spec);
			if (d != NULL) {
				nmport_undo_prepare(d);
				continue;
			}
			CHECK(errno == c->err, "'%s': errno %d (%s), expected %d",
			      c->spec, errno, strerror(errno), c->err);
			CHECK(strstr(last_msg, c->msg) != NULL,
			      "'%s': message '%s' lacks '%s'", c->spec, last_msg, c->msg);
			continue;
		}
		CHECK(d != NULL, "'%s': rejected: %s", c->spec, last_msg);
		if (d == NULL)
			continue;
		CHECK(strcmp(d->hdr.nr_name, c->name) == 0, "'%s': name '%s', expected '%s'",
		      c->spec, d->hdr.nr_name, c->name);
		CHECK(d->hdr.nr_version == NETMAP_API && d->hdr.nr_reqtype == NETMAP_REQ_REGISTER &&
		      d->hdr.nr_body == (uintptr_t)&d->reg,
		      "'%s': header version %u type %u body %#" PRIx64, c->spec,
		      d->hdr.nr_version, d->hdr.nr_reqtype, d->hdr.nr_body);
		CHECK(d->reg.nr_mode == c->mode, "'%s': mode %u, expected %u", c->spec,
		      d->reg.nr_mode, c->mode);
		CHECK(d->reg.nr_ringid == c->ringid, "'%s': ringid %u, expected %u",
		      c->spec, d->reg.nr_ringid, c->ringid);
		CHECK(d->reg.nr_flags == c->flags, "'%s': flags %#" PRIx64 ", expected %#" PRIx64,
		      c->spec, d->reg.nr_flags, c->flags);
		CHECK(d->reg.nr_mem_id == c->mem_id, "'%s': mem_id %u, expected %u",
		      c->spec, d->reg.nr_mem_id, c->mem_id);
		CHECK(d->hdr.nr_options == 0, "'%s': unexpected options", c->spec);
		CHECK(d->fd == -1 && !d->register_done && !d->mmap_done,
		      "'%s': prepare touched the fd/state", c->spec);
		nmport_undo_prepare(d);
	}
}

/* ------------------------------------------------------------------ */
/* @conf: ring/slot counts and (ours) pool sizes                      */
/* ------------------------------------------------------------------ */

struct conf_case {
	const char *spec;
	uint16_t tx_rings, rx_rings, host_tx, host_rx;
	uint32_t tx_slots, rx_slots, extra_bufs;
	int pools;		/* expect a NETMAP_REQ_OPT_UNM_POOLS option */
	uint32_t if_num, if_size, ring_num, ring_size, buf_num, buf_size;
};

static const struct conf_case confs[] = {
	{ "netmap:p{1@conf:rings=4", 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "netmap:p{1@conf=3", 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "netmap:p{1@conf:rings=4,tx-rings=2", 2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "netmap:p{1@conf:tx-rings=2,rings=4", 2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "netmap:p{1@conf:rx-rings=5", 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "netmap:p{1@conf:slots=1024,rx-slots=512", 0, 0, 0, 0, 1024, 512, 0,
	  0, 0, 0, 0, 0, 0, 0 },
	{ "netmap:p{1@conf:tx-slots=64", 0, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "netmap:eth0@conf:host-rings=2,host-rx-rings=1", 0, 0, 2, 1, 0, 0, 0,
	  0, 0, 0, 0, 0, 0, 0 },
	{ "netmap:eth0@conf:host_tx_rings=3", 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "netmap:eth0@conf:extra-bufs=128", 0, 0, 0, 0, 0, 0, 128, 0, 0, 0, 0, 0, 0, 0 },
	{ "netmap:eth0@conf:rings=2@conf:slots=256", 2, 2, 0, 0, 256, 256, 0,
	  0, 0, 0, 0, 0, 0, 0 },
	{ "netmap:p}2@conf:buf-num=4096,buf-size=4096,if-num=10,if-size=2048,ring-num=20,ring-size=65536",
	  0, 0, 0, 0, 0, 0, 0, 1, 10, 2048, 20, 65536, 4096, 4096 },
	{ "netmap:p}2@conf:rings=2@conf:buf-size=4096", 2, 2, 0, 0, 0, 0, 0,
	  1, 0, 0, 0, 0, 0, 4096 },
	{ "netmap:p}2@conf:buf-num=10@conf:buf-size=4096", 0, 0, 0, 0, 0, 0, 0,
	  1, 0, 0, 0, 0, 10, 4096 },
	{ "netmap:p}2-0/x@7@conf:rings=1,slots=8,ring-num=3", 1, 1, 0, 0, 8, 8, 0,
	  1, 0, 0, 3, 0, 0, 0 },
};

static int count_options(struct nmreq_header *h)
{
	struct nmreq_option *o;
	int n = 0;

	nmreq_foreach_option(h, o)
		n++;
	return n;
}

static void run_conf(void)
{
	size_t i;

	for (i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		const struct conf_case *c = &confs[i];
		struct nmreq_opt_unm_pools *po;
		struct nmport_d *d;

		last_msg[0] = '\0';
		d = nmport_prepare(c->spec);
		CHECK(d != NULL, "'%s': rejected: %s", c->spec, last_msg);
		if (d == NULL)
			continue;
		CHECK(d->reg.nr_tx_rings == c->tx_rings && d->reg.nr_rx_rings == c->rx_rings,
		      "'%s': rings tx %u rx %u, expected %u %u", c->spec, d->reg.nr_tx_rings,
		      d->reg.nr_rx_rings, c->tx_rings, c->rx_rings);
		CHECK(d->reg.nr_host_tx_rings == c->host_tx && d->reg.nr_host_rx_rings == c->host_rx,
		      "'%s': host rings tx %u rx %u, expected %u %u", c->spec,
		      d->reg.nr_host_tx_rings, d->reg.nr_host_rx_rings, c->host_tx, c->host_rx);
		CHECK(d->reg.nr_tx_slots == c->tx_slots && d->reg.nr_rx_slots == c->rx_slots,
		      "'%s': slots tx %u rx %u, expected %u %u", c->spec, d->reg.nr_tx_slots,
		      d->reg.nr_rx_slots, c->tx_slots, c->rx_slots);
		CHECK(d->reg.nr_extra_bufs == c->extra_bufs, "'%s': extra bufs %u, expected %u",
		      c->spec, d->reg.nr_extra_bufs, c->extra_bufs);
		po = (struct nmreq_opt_unm_pools *)nmreq_find_option(&d->hdr,
							NETMAP_REQ_OPT_UNM_POOLS);
		CHECK(!po == !c->pools, "'%s': pools option %s", c->spec,
		      po ? "present, not expected" : "missing");
		CHECK(count_options(&d->hdr) == (c->pools ? 1 : 0), "'%s': %d options",
		      c->spec, count_options(&d->hdr));
		if (po != NULL) {
			struct nmreq_pools_info *pi = &po->nro_info;

			CHECK(po->nro_opt.nro_size == sizeof(*po), "'%s': nro_size %" PRIu64,
			      c->spec, po->nro_opt.nro_size);
			CHECK(pi->nr_if_pool_objtotal == c->if_num &&
			      pi->nr_if_pool_objsize == c->if_size &&
			      pi->nr_ring_pool_objtotal == c->ring_num &&
			      pi->nr_ring_pool_objsize == c->ring_size &&
			      pi->nr_buf_pool_objtotal == c->buf_num &&
			      pi->nr_buf_pool_objsize == c->buf_size,
			      "'%s': pools if %u/%u ring %u/%u buf %u/%u", c->spec,
			      pi->nr_if_pool_objtotal, pi->nr_if_pool_objsize,
			      pi->nr_ring_pool_objtotal, pi->nr_ring_pool_objsize,
			      pi->nr_buf_pool_objtotal, pi->nr_buf_pool_objsize);
		}
		nmport_undo_prepare(d);
	}
}

/* ------------------------------------------------------------------ */
/* @offset (enabled on request), @extmem from a file                  */
/* ------------------------------------------------------------------ */

struct offset_case {
	const char *spec;
	int ok;
	uint64_t initial, maxoff, bits, mingap;
	const char *msg;
};

static const struct offset_case offsets[] = {
	{ "netmap:p{1@offset=64", 1, 64, 64, 0, 0, NULL },
	{ "netmap:p{1@offset:initial=16,maxoff=128,bits=12,mingap=8", 1, 16, 128, 12, 8, NULL },
	{ "netmap:p{1@offset:bits=8,initial=0", 1, 0, 0, 8, 0, NULL },
	{ "netmap:p{1@offset:initial=16,maxoff=8", 0, 0, 0, 0, 0, "maxoff 8 below initial offset 16" },
	{ "netmap:p{1@offset:initial=1,bits=65", 0, 0, 0, 0, 0, "key 'bits': 65 out of range [0, 64]" },
	{ "netmap:p{1@offset:bits=3", 0, 0, 0, 0, 0, "mandatory key 'initial' not assigned" },
	{ "netmap:p{1@offset:initial=1,foo=2", 0, 0, 0, 0, 0, "unknown key: 'foo'" },
};

static void run_offset(void)
{
	size_t i;

	CHECK(nmport_enable_option("offset") == 0, "enable_option(offset) failed");
	errno = 0;
	CHECK(nmport_enable_option("nosuchopt") == -1 && errno == EOPNOTSUPP,
	      "enable_option(nosuchopt): errno %d", errno);
	nmport_disable_option("nosuchopt");	/* a no-op */

	for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		const struct offset_case *c = &offsets[i];
		struct nmreq_opt_offsets *o;
		struct nmport_d *d;

		last_msg[0] = '\0';
		d = nmport_prepare(c->spec);
		if (!c->ok) {
			CHECK(d == NULL && errno == EINVAL, "'%s': accepted or errno %d",
			      c->spec, errno);
			CHECK(strstr(last_msg, c->msg) != NULL, "'%s': message '%s' lacks '%s'",
			      c->spec, last_msg, c->msg);
			if (d != NULL)
				nmport_undo_prepare(d);
			continue;
		}
		CHECK(d != NULL, "'%s': rejected: %s", c->spec, last_msg);
		if (d == NULL)
			continue;
		o = (struct nmreq_opt_offsets *)nmreq_find_option(&d->hdr, NETMAP_REQ_OPT_OFFSETS);
		CHECK(o != NULL, "'%s': no offsets option", c->spec);
		if (o != NULL)
			CHECK(o->nro_initial_offset == c->initial && o->nro_max_offset == c->maxoff &&
			      o->nro_offset_bits == c->bits && o->nro_min_gap == c->mingap,
			      "'%s': offsets %" PRIu64 " %" PRIu64 " %u %" PRIu64, c->spec,
			      o->nro_initial_offset, o->nro_max_offset, o->nro_offset_bits,
			      o->nro_min_gap);
		nmport_undo_prepare(d);
	}
	nmport_disable_option("offset");
	CHECK(nmport_prepare("netmap:p{1@offset=1") == NULL && errno == EOPNOTSUPP,
	      "offset still enabled after disable");
}

static void run_extmem(void)
{
	char path[] = "/tmp/unetmap-portspec-XXXXXX";
	char spec[256];
	struct nmreq_pools_info *pi;
	struct nmport_d *d;
	int fd;

	fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
	if (fd < 0)
		return;
	CHECK(ftruncate(fd, 1 << 20) == 0, "ftruncate: %s", strerror(errno));
	close(fd);

	snprintf(spec, sizeof(spec), "netmap:p{1@extmem:file=%s,if-num=4,buf-num=1000,buf-size=2048",
		 path);
	last_msg[0] = '\0';
	d = nmport_prepare(spec);
	CHECK(d != NULL, "'%s': rejected: %s", spec, last_msg);
	if (d != NULL) {
		pi = nmport_extmem_getinfo(d);
		CHECK(pi != NULL && d->extmem != NULL, "extmem not attached");
		if (pi != NULL) {
			CHECK(pi->nr_memsize == 1 << 20, "extmem size %" PRIu64, pi->nr_memsize);
			CHECK(pi->nr_if_pool_objtotal == 4 && pi->nr_buf_pool_objtotal == 1000 &&
			      pi->nr_buf_pool_objsize == 2048 && pi->nr_ring_pool_objtotal == 0,
			      "extmem pools %u %u %u", pi->nr_if_pool_objtotal,
			      pi->nr_buf_pool_objtotal, pi->nr_buf_pool_objsize);
			CHECK(d->extmem->nro_usrptr != 0, "extmem has no address");
			/* the mapping is writable and shared */
			((volatile char *)(uintptr_t)d->extmem->nro_usrptr)[4095] = 7;
		}
		CHECK(nmreq_find_option(&d->hdr, NETMAP_REQ_OPT_EXTMEM) == &d->extmem->nro_opt,
		      "extmem option not in the chain");
		/* a second extmem is refused */
		CHECK(nmport_extmem(d, d, 4096) == -1 && errno == EINVAL &&
		      strstr(last_msg, "extmem already in use"), "second extmem: %s", last_msg);
		/* a clone before register is refused with extmem */
		CHECK(nmport_clone(d) == NULL && errno == EINVAL, "clone with extmem accepted");
		nmport_undo_prepare(d);
	}
	/* the same in the default-key form */
	snprintf(spec, sizeof(spec), "vale0:x@extmem=%s", path);
	d = nmport_prepare(spec);
	CHECK(d != NULL && d->extmem != NULL, "'%s': rejected: %s", spec, last_msg);
	if (d != NULL)
		nmport_undo_prepare(d);
	/* an empty file cannot be a region */
	CHECK(truncate(path, 0) == 0, "truncate: %s", strerror(errno));
	snprintf(spec, sizeof(spec), "netmap:p{1@extmem=%s", path);
	d = nmport_prepare(spec);
	CHECK(d == NULL && strstr(last_msg, "empty file"), "empty extmem: %s", last_msg);
	unlink(path);
}

/* ------------------------------------------------------------------ */
/* A failed parse leaves the descriptor as it was; clone; undo         */
/* ------------------------------------------------------------------ */

static void run_state(void)
{
	struct nmport_d *d, *c;
	struct nmreq_header hdr;
	struct nmreq_register reg;

	d = nmport_new();
	CHECK(d != NULL, "nmport_new failed");
	if (d == NULL)
		return;
	CHECK(d->fd == -1 && d->hdr.nr_body == (uintptr_t)&d->reg &&
	      d->hdr.nr_reqtype == NETMAP_REQ_REGISTER, "fresh descriptor not initialised");
	CHECK(nmport_parse(d, "netmap:first{3-0@conf:rings=2") == 0, "parse: %s", last_msg);
	hdr = d->hdr;
	reg = d->reg;
	/* fails in its second option, after the first pushed a pools option */
	CHECK(nmport_parse(d, "netmap:other}9@conf:buf-num=10@conf:bogus=1") == -1 &&
	      errno == EINVAL, "bad parse accepted");
	CHECK(memcmp(&hdr, &d->hdr, sizeof(hdr)) == 0, "failed parse changed the header");
	CHECK(memcmp(&reg, &d->reg, sizeof(reg)) == 0, "failed parse changed the request");
	CHECK(d->hdr.nr_options == 0 && d->clist == NULL, "failed parse left options behind");

	CHECK(nmport_parse(d, "netmap:x@conf:buf-num=10") == 0, "reparse: %s", last_msg);
	CHECK(count_options(&d->hdr) == 1, "pools option missing");
	c = nmport_clone(d);
	CHECK(c != NULL, "clone failed: %s", last_msg);
	if (c != NULL) {
		CHECK(strcmp(c->hdr.nr_name, "x") == 0 && c->hdr.nr_body == (uintptr_t)&c->reg &&
		      c->hdr.nr_options == 0 && c->fd == -1 && c->ctx == d->ctx &&
		      memcmp(&c->reg, &d->reg, sizeof(c->reg)) == 0,
		      "clone differs from its source");
		nmport_undo_prepare(c);
	}
	nmport_undo_parse(d);
	CHECK(d->hdr.nr_options == 0 && d->hdr.nr_name[0] == '\0' &&
	      d->hdr.nr_body == (uintptr_t)&d->reg && d->reg.nr_tx_rings == 0,
	      "undo_parse left state");
	CHECK(nmport_parse(d, "netmap:again^") == 0 && d->reg.nr_mode == NR_REG_SW,
	      "parse after undo_parse: %s", last_msg);
	/* mmap before register, register twice: refused with a message */
	CHECK(nmport_mmap(d) == -1 && errno == EINVAL && strstr(last_msg, "unregistered"),
	      "mmap of unregistered port: %s", last_msg);
	nmport_undo_prepare(d);
	nmport_close(NULL);
	nmport_undo_prepare(NULL);

	errno = 0;
	CHECK(nmport_prepare(NULL) == NULL && errno == EINVAL, "NULL portspec accepted");
}

/* malloc/free through the context, counted: every path must balance */
static long live_allocs;

static void *count_malloc(struct nmctx *ctx, size_t sz)
{
	(void)ctx;
	live_allocs++;
	return malloc(sz);
}

static void count_free(struct nmctx *ctx, void *p)
{
	(void)ctx;
	if (p != NULL)
		live_allocs--;
	free(p);
}

static void run_alloc_balance(struct nmctx *ctx)
{
	static const char *specs[] = {
		"netmap:p{1@conf:rings=2,buf-num=3@conf:slots=4",
		"netmap:p{1@conf:buf-num=3@conf:bad=1",
		"netmap:p{1@conf:rings=1@foo",
		"netmap:p{1@extmem:file=/nonexistent/x",
		"vale0:a^3/x@2@conf:if-num=1",
	};
	size_t i;

	ctx->malloc = count_malloc;
	ctx->free = count_free;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct nmport_d *d;

		live_allocs = 0;
		d = nmport_prepare(specs[i]);
		if (d != NULL)
			nmport_undo_prepare(d);
		CHECK(live_allocs == 0, "'%s': %ld allocations leaked", specs[i], live_allocs);
	}
	ctx->malloc = NULL;
	ctx->free = NULL;
}

int main(void)
{
	struct nmctx ctx = *nmctx_get();
	struct nmctx *old;

	ctx.error = capture_error;
	ctx.verbose = 1;
	ctx.mem_descs = NULL;
	old = nmctx_set_default(&ctx);

	run_grammar();
	run_conf();
	run_offset();
	run_extmem();
	run_state();
	run_alloc_balance(&ctx);

	/* verbose == 0: no message, same errno */
	ctx.verbose = 0;
	last_msg[0] = '\0';
	CHECK(nmport_prepare("netmap:") == NULL && errno == EINVAL && last_msg[0] == '\0',
	      "quiet context still reported '%s'", last_msg);

	nmctx_set_default(old);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
