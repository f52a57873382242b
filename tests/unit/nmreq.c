// SPDX-License-Identifier: BSD-2-Clause
/*
 * The nmreq_* building blocks on their own: header init, the name and mode
 * decoders (outputs and cursor untouched on error), the option-chain list
 * operations, the generic option parser with a caller-defined parser list,
 * and the nmctx plumbing (verbosity, message truncation, default context,
 * lock callback). No /dev/netmap needed. Prints "N passed, N failed".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnetmap.h>

static int passed, failed;
static char last_msg[4096];
static int msg_count;

static void capture_error(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	msg_count++;
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

static struct nmctx tctx;

static void test_header_init(void)
{
	struct nmreq_header h;
	struct nmreq_register r;
	size_t i;
	int zero = 1;

	memset(&h, 0xa5, sizeof(h));
	nmreq_header_init(&h, NETMAP_REQ_PORT_INFO_GET, &r);
	CHECK(h.nr_version == NETMAP_API, "nr_version %u", h.nr_version);
	CHECK(h.nr_reqtype == NETMAP_REQ_PORT_INFO_GET, "nr_reqtype %u", h.nr_reqtype);
	CHECK(h.nr_body == (uintptr_t)&r, "nr_body %#" PRIx64, h.nr_body);
	CHECK(h.nr_options == 0 && h.nr_reserved == 0, "options/reserved not zero");
	for (i = 0; i < sizeof(h.nr_name); i++)
		zero &= h.nr_name[i] == 0;
	CHECK(zero, "nr_name not cleared");
}

/* ------------------------------------------------------------------ */

struct hdr_case {
	const char *spec;
	const char *name;	/* NULL: must fail */
	const char *rest;	/* what the cursor points at afterwards */
};

static const struct hdr_case hdr_cases[] = {
	{ "netmap:eth0", "eth0", "" },
	{ "netmap:eth0-1/x", "eth0", "-1/x" },
	{ "netmap:eth0^", "eth0", "^" },
	{ "netmap:eth0*", "eth0", "*" },
	{ "netmap:eth0@conf:rings=1", "eth0", "@conf:rings=1" },
	{ "netmap:p{2/T", "p{2", "/T" },
	{ "vale1:v0@2", "vale1:v0", "@2" },
	{ "vale:v0", "vale:v0", "" },
	{ "valeXY_1:v}0", "valeXY_1:v}0", "" },
	{ "netmap:eth0@share=vale0:x", "eth0", "@share=vale0:x" },
	{ "", NULL, NULL },
	{ "Netmap:eth0", NULL, NULL },
	{ "netmap", NULL, NULL },
	{ "netmap0:eth0", NULL, NULL },
	{ "vale!:x", NULL, NULL },
	{ "netmap:", NULL, NULL },
	{ "netmap:-1", NULL, NULL },
	{ "netmap:a{", NULL, NULL },
	{ "netmap:a{b.c", NULL, NULL },
	{ "netmap:a:b", NULL, NULL },
};

static void test_header_decode(void)
{
	size_t i;

	for (i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
		const struct hdr_case *c = &hdr_cases[i];
		struct nmreq_header h, before;
		const char *s = c->spec;
		int ret;

		memset(&h, 0x5a, sizeof(h));
		before = h;
		errno = 0;
		ret = nmreq_header_decode(&s, &h, &tctx);
		if (c->name == NULL) {
			CHECK(ret == -1 && errno == EINVAL, "'%s': ret %d errno %d", c->spec,
			      ret, errno);
			CHECK(s == c->spec, "'%s': cursor moved on error", c->spec);
			CHECK(memcmp(&h, &before, sizeof(h)) == 0, "'%s': header changed on error",
			      c->spec);
			continue;
		}
		CHECK(ret == 0, "'%s': rejected: %s", c->spec, last_msg);
		if (ret != 0)
			continue;
		CHECK(strcmp(h.nr_name, c->name) == 0, "'%s': name '%s'", c->spec, h.nr_name);
		CHECK(strcmp(s, c->rest) == 0, "'%s': rest '%s', expected '%s'", c->spec, s,
		      c->rest);
		/* only the name is written */
		CHECK(h.nr_version == before.nr_version && h.nr_body == before.nr_body &&
		      h.nr_options == before.nr_options, "'%s': other fields changed", c->spec);
	}
}

/* ------------------------------------------------------------------ */

struct reg_case {
	const char *mode;
	uint16_t preset_mem_id;
	int ok;
	uint32_t nr_mode;
	uint16_t ringid;
	uint64_t flags;
	uint16_t mem_id;
	const char *rest;
	const char *msg;	/* when failing */
};

static const struct reg_case reg_cases[] = {
	{ "", 0, 1, NR_REG_ALL_NIC, 0, 0, 0, "", NULL },
	{ "-2@conf:rings=1", 0, 1, NR_REG_ONE_NIC, 2, 0, 0, "@conf:rings=1", NULL },
	{ "@foo", 0, 1, NR_REG_ALL_NIC, 0, 0, 0, "@foo", NULL },
	{ "/x@3@opt", 0, 1, NR_REG_ALL_NIC, 0, NR_EXCLUSIVE, 3, "@opt", NULL },
	{ "^2/rt@9", 0, 1, NR_REG_ONE_SW, 2, NR_MONITOR_RX | NR_MONITOR_TX, 9, "", NULL },
	{ "*@1/z", 0, 1, NR_REG_NIC_SW, 0, NR_ZCOPY_MON, 1, "", NULL },
	{ "", 5, 1, NR_REG_ALL_NIC, 0, 0, 5, "", NULL },
	{ "@5", 5, 1, NR_REG_ALL_NIC, 0, 0, 5, "", NULL },
	{ "@6", 5, 0, 0, 0, 0, 0, NULL, "invalid setting of mem_id to 6 (already set to 5)" },
	{ "x", 0, 0, 0, 0, 0, 0, NULL, "unknown modifier: 'x'" },
	{ "{1", 0, 0, 0, 0, 0, 0, NULL, "unknown modifier: '{'" },
	{ "-", 0, 0, 0, 0, 0, 0, NULL, "while expecting a number" },
	{ "^1^", 0, 0, 0, 0, 0, 0, NULL, "unexpected character: '^'" },
	{ "/", 0, 0, 0, 0, 0, 0, NULL, "unexpected end of request" },
	{ "/Z", 0, 0, 0, 0, 0, 0, NULL, "unrecognized flag: 'Z'" },
	{ "@", 0, 0, 0, 0, 0, 0, NULL, "invalid empty mem_id" },
	{ "@00", 0, 0, 0, 0, 0, 0, NULL, "invalid mem_id: '0'" },
};

static void test_register_decode(void)
{
	size_t i;

	for (i = 0; i < sizeof(reg_cases) / sizeof(reg_cases[0]); i++) {
		const struct reg_case *c = &reg_cases[i];
		struct nmreq_register r, before;
		const char *s = c->mode;
		int ret;

		memset(&r, 0, sizeof(r));
		r.nr_mem_id = c->preset_mem_id;
		r.nr_tx_rings = 7;	/* not the decoder's business */
		r.nr_mode = 0xdead;
		r.nr_flags = 0xbeef;
		before = r;
		last_msg[0] = '\0';
		errno = 0;
		ret = nmreq_register_decode(&s, &r, &tctx);
		if (!c->ok) {
			CHECK(ret == -1 && errno == EINVAL, "'%s': ret %d errno %d", c->mode,
			      ret, errno);
			CHECK(s == c->mode, "'%s': cursor moved on error", c->mode);
			CHECK(memcmp(&r, &before, sizeof(r)) == 0, "'%s': request changed on error",
			      c->mode);
			CHECK(strstr(last_msg, c->msg) != NULL, "'%s': message '%s' lacks '%s'",
			      c->mode, last_msg, c->msg);
			continue;
		}
		CHECK(ret == 0, "'%s': rejected: %s", c->mode, last_msg);
		if (ret != 0)
			continue;
		CHECK(r.nr_mode == c->nr_mode && r.nr_ringid == c->ringid &&
		      r.nr_flags == c->flags && r.nr_mem_id == c->mem_id,
		      "'%s': mode %u ring %u flags %#" PRIx64 " mem %u", c->mode, r.nr_mode,
		      r.nr_ringid, r.nr_flags, r.nr_mem_id);
		CHECK(strcmp(s, c->rest) == 0, "'%s': rest '%s', expected '%s'", c->mode, s,
		      c->rest);
		CHECK(r.nr_tx_rings == 7, "'%s': nr_tx_rings touched", c->mode);
	}
}

/* ------------------------------------------------------------------ */

static int chain_is(struct nmreq_header *h, struct nmreq_option **want, int n)
{
	struct nmreq_option *o;
	int i = 0;

	nmreq_foreach_option(h, o) {
		if (i >= n || o != want[i])
			return 0;
		i++;
	}
	return i == n;
}

static void test_option_list(void)
{
	struct nmreq_option a, b, c, x;
	struct nmreq_header h;
	struct nmreq_option *o;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	memset(&x, 0, sizeof(x));
	a.nro_reqtype = NETMAP_REQ_OPT_EXTMEM;
	b.nro_reqtype = NETMAP_REQ_OPT_OFFSETS;
	c.nro_reqtype = NETMAP_REQ_OPT_EXTMEM;
	x.nro_reqtype = NETMAP_REQ_OPT_CSB;
	nmreq_header_init(&h, NETMAP_REQ_REGISTER, NULL);

	CHECK(nmreq_find_option(&h, NETMAP_REQ_OPT_EXTMEM) == NULL, "find in empty chain");
	nmreq_push_option(&h, &a);
	nmreq_push_option(&h, &b);
	nmreq_push_option(&h, &c);
	CHECK(chain_is(&h, (struct nmreq_option *[]){ &c, &b, &a }, 3), "push order (LIFO)");
	/* the most recently pushed of a type is found first */
	CHECK(nmreq_find_option(&h, NETMAP_REQ_OPT_EXTMEM) == &c, "find returns newest");
	CHECK(nmreq_find_option(&h, NETMAP_REQ_OPT_OFFSETS) == &b, "find middle");
	CHECK(nmreq_find_option(&h, NETMAP_REQ_OPT_CSB) == NULL, "find absent");

	nmreq_remove_option(&h, &x);	/* not in the chain: no-op */
	CHECK(chain_is(&h, (struct nmreq_option *[]){ &c, &b, &a }, 3), "remove absent");
	nmreq_remove_option(&h, &b);	/* middle */
	CHECK(chain_is(&h, (struct nmreq_option *[]){ &c, &a }, 2) && b.nro_next == 0,
	      "remove middle");
	nmreq_remove_option(&h, &c);	/* head */
	CHECK(chain_is(&h, (struct nmreq_option *[]){ &a }, 1), "remove head");
	nmreq_push_option(&h, &b);
	nmreq_remove_option(&h, &a);	/* tail */
	CHECK(chain_is(&h, (struct nmreq_option *[]){ &b }, 1) && b.nro_next == 0,
	      "remove tail");
	nmreq_remove_option(&h, &b);
	CHECK(h.nr_options == 0, "remove last");

	/* free_options frees malloc()ed options (ASan checks the rest) */
	o = calloc(1, sizeof(*o));
	nmreq_push_option(&h, o);
	o = calloc(1, sizeof(struct nmreq_opt_extmem));
	nmreq_push_option(&h, o);
	nmreq_free_options(&h);
	CHECK(h.nr_options == 0, "free_options left the chain");
}

static void test_option_names(void)
{
	static const struct {
		uint32_t type;
		const char *name;
	} names[] = {
		{ NETMAP_REQ_OPT_EXTMEM, "extmem" },
		{ NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS, "sync-kloop-eventfds" },
		{ NETMAP_REQ_OPT_CSB, "csb" },
		{ NETMAP_REQ_OPT_SYNC_KLOOP_MODE, "sync-kloop-mode" },
		{ NETMAP_REQ_OPT_OFFSETS, "offsets" },
		{ NETMAP_REQ_OPT_UNM_POOLS, "unm-pools" },
		{ 0, "unknown" },
		{ 999, "unknown" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK(strcmp(nmreq_option_name(names[i].type), names[i].name) == 0,
		      "option %u named '%s', expected '%s'", names[i].type,
		      nmreq_option_name(names[i].type), names[i].name);
}

/* ------------------------------------------------------------------ */
/* The generic option parser with our own parser list                 */

struct seen {
	int calls;
	char last_prefix[16];
	char keys[3][32];
	int set[3];
};

static int record(struct nmreq_parse_ctx *p, const char *prefix)
{
	struct seen *s = p->token;
	int i;

	s->calls++;
	snprintf(s->last_prefix, sizeof(s->last_prefix), "%s", prefix);
	for (i = 0; i < 3; i++) {
		s->set[i] = p->keys[i] != NULL;
		snprintf(s->keys[i], sizeof(s->keys[i]), "%s", p->keys[i] ? p->keys[i] : "");
	}
	if (p->keys[0] != NULL && strcmp(p->keys[0], "fail") == 0) {
		nmctx_ferror(p->ctx, "t2: refusing 'fail'");
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

static int parse_t1(struct nmreq_parse_ctx *p) { return record(p, "t1"); }
static int parse_t2(struct nmreq_parse_ctx *p) { return record(p, "t2"); }
static int parse_t3(struct nmreq_parse_ctx *p) { return record(p, "t3"); }

static struct nmreq_opt_parser test_parsers[] = {
	{
		.prefix = "t1",
		.parse = parse_t1,
		.default_key = -1,
		.flags = NMREQ_OPTF_ALLOWEMPTY,
		.next = &test_parsers[1],
	}, {
		.prefix = "t2",
		.parse = parse_t2,
		.default_key = 0,
		.nr_keys = 3,
		.next = &test_parsers[2],
		.keys = {
			{ .key = "alpha_key", .id = 0, .flags = NMREQ_OPTK_DEFAULT },
			{ .key = "beta", .id = 1, .flags = NMREQ_OPTK_ALLOWEMPTY },
			{ .key = "gamma", .id = 2, .flags = NMREQ_OPTK_MUSTSET },
		},
	}, {
		.prefix = "t3",
		.parse = parse_t3,
		.default_key = -1,
		.flags = NMREQ_OPTF_DISABLED | NMREQ_OPTF_ALLOWEMPTY,
		.next = NULL,
	},
};

struct optdec_case {
	const char *opts;
	int ok;
	int err;		/* errno when failing */
	int calls;		/* parser invocations */
	const char *a, *b, *g;	/* key values seen by the last call, NULL = unset */
	const char *msg;
};

static const struct optdec_case optdec[] = {
	{ "", 1, 0, 0, NULL, NULL, NULL, NULL },
	{ "@t1", 1, 0, 1, NULL, NULL, NULL, NULL },
	{ "@t2:alpha_key=1,gamma=2", 1, 0, 1, "1", NULL, "2", NULL },
	{ "@t2:alpha-key=1,gamma=2", 1, 0, 1, "1", NULL, "2", NULL },
	{ "@t2:gamma=x,beta", 1, 0, 1, NULL, "", "x", NULL },
	{ "@t2:gamma=x,beta=", 1, 0, 1, NULL, "", "x", NULL },
	{ "@t2:gamma=a=b:c", 1, 0, 1, NULL, NULL, "a=b:c", NULL },
	{ "@t2=val", 1, 0, 1, "val", NULL, NULL, NULL },
	{ "@t2=v:w=x", 1, 0, 1, "v:w=x", NULL, NULL, NULL },
	{ "@t1@t2:gamma=1", 1, 0, 2, NULL, NULL, "1", NULL },
	{ "t1", 0, EINVAL, 0, NULL, NULL, NULL, "option list does not start with '@'" },
	{ "@t1=3", 0, EINVAL, 0, NULL, NULL, NULL, "'=' not valid after 't1'" },
	{ "@t2", 0, EINVAL, 0, NULL, NULL, NULL, "missing body after 't2'" },
	{ "@t2:alpha-key=1", 0, EINVAL, 0, NULL, NULL, NULL, "mandatory key 'gamma' not assigned" },
	{ "@t2:gamma", 0, EINVAL, 0, NULL, NULL, NULL, "missing '=value' for key 'gamma'" },
	{ "@t2:delta=1", 0, EINVAL, 0, NULL, NULL, NULL, "option 't2': unknown key: 'delta'" },
	{ "@t2:gamma=1,alpha-key=fail", 0, ENOSPC, 1, NULL, NULL, NULL, "t2: refusing 'fail'" },
	{ "@t3", 0, EOPNOTSUPP, 0, NULL, NULL, NULL, "option 't3' is not supported" },
	{ "@t9", 0, EINVAL, 0, NULL, NULL, NULL, "unknown option: 't9'" },
	{ "@t1@", 0, EINVAL, 1, NULL, NULL, NULL, "invalid empty option" },
};

static int key_is(const struct seen *s, int i, const char *want)
{
	if (want == NULL)
		return !s->set[i];
	return s->set[i] && strcmp(s->keys[i], want) == 0;
}

static void test_options_decode(void)
{
	size_t i;

	for (i = 0; i < sizeof(optdec) / sizeof(optdec[0]); i++) {
		const struct optdec_case *c = &optdec[i];
		struct seen s;
		int ret;

		memset(&s, 0, sizeof(s));
		last_msg[0] = '\0';
		errno = 0;
		ret = nmreq_options_decode(c->opts, test_parsers, &s, &tctx);
		CHECK(s.calls == c->calls, "'%s': %d parser calls, expected %d", c->opts,
		      s.calls, c->calls);
		if (!c->ok) {
			CHECK(ret == -1 && errno == c->err, "'%s': ret %d errno %d, expected %d",
			      c->opts, ret, errno, c->err);
			CHECK(strstr(last_msg, c->msg) != NULL, "'%s': message '%s' lacks '%s'",
			      c->opts, last_msg, c->msg);
			continue;
		}
		CHECK(ret == 0, "'%s': rejected: %s", c->opts, last_msg);
		if (c->calls == 0)
			continue;
		CHECK(key_is(&s, 0, c->a) && key_is(&s, 1, c->b) && key_is(&s, 2, c->g),
		      "'%s': keys seen a=%s%s b=%s%s g=%s%s", c->opts,
		      s.set[0] ? "" : "(unset)", s.keys[0], s.set[1] ? "" : "(unset)",
		      s.keys[1], s.set[2] ? "" : "(unset)", s.keys[2]);
	}
}

/* ------------------------------------------------------------------ */

static int lock_depth, lock_calls;

static void count_lock(struct nmctx *ctx, int lock)
{
	(void)ctx;
	lock_calls++;
	lock_depth += lock ? 1 : -1;
}

static void test_nmctx(void)
{
	struct nmctx quiet, *old, *cur;
	char big[3000];
	const char *s = "netmap:";
	struct nmreq_header h;

	/* messages go to the callback, errno survives reporting */
	msg_count = 0;
	errno = ERANGE;
	nmctx_ferror(&tctx, "port %s: %d", "p0", 42);
	CHECK(msg_count == 1 && strcmp(last_msg, "port p0: 42") == 0 && errno == ERANGE,
	      "ferror: '%s' (%d calls) errno %d", last_msg, msg_count, errno);

	/* long messages are cut, not dropped */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	nmctx_ferror(&tctx, "%s", big);
	CHECK(msg_count == 2 && strlen(last_msg) < sizeof(big) && strlen(last_msg) > 500 &&
	      strcmp(last_msg + strlen(last_msg) - 3, "...") == 0,
	      "long message: %zu chars", strlen(last_msg));

	/* verbose == 0: silence, same error */
	quiet = tctx;
	quiet.verbose = 0;
	msg_count = 0;
	CHECK(nmreq_header_decode(&s, &h, &quiet) == -1 && errno == EINVAL && msg_count == 0,
	      "quiet context reported");

	/* default context swap */
	old = nmctx_set_default(&tctx);
	CHECK(nmctx_get() == &tctx, "set_default not in effect");
	cur = nmctx_set_default(old);
	CHECK(cur == &tctx && nmctx_get() == old, "set_default did not return previous");

	/* NULL context: the default one is used (no crash) */
	{
		void *m = nmctx_malloc(NULL, 16);

		CHECK(m != NULL, "malloc with NULL ctx");
		nmctx_free(NULL, m);
	}

	/* the default context locks; a custom lock callback is called in pairs */
	CHECK(nmctx_get()->lock != NULL, "default context has no lock");
	quiet.lock = count_lock;
	nmctx_lock(&quiet);
	CHECK(lock_depth == 1, "lock depth %d", lock_depth);
	nmctx_unlock(&quiet);
	CHECK(lock_depth == 0 && lock_calls == 2, "unlock depth %d calls %d", lock_depth,
	      lock_calls);
	quiet.lock = NULL;
	nmctx_lock(&quiet);	/* no lock: a no-op */
	nmctx_unlock(&quiet);
	nmctx_set_threadsafe();
	CHECK(nmctx_get()->lock != NULL, "set_threadsafe removed the lock");
}

static void test_get_mem_id_bad_name(void)
{
	const char *s = "eth0";

	last_msg[0] = '\0';
	CHECK(nmreq_get_mem_id(&s, &tctx) == -1 && errno == EINVAL &&
	      strstr(last_msg, "prefix unknown") && strcmp(s, "eth0") == 0,
	      "get_mem_id(eth0): '%s'", last_msg);
}

int main(void)
{
	tctx = *nmctx_get();
	tctx.error = capture_error;
	tctx.verbose = 1;
	tctx.mem_descs = NULL;

	test_header_init();
	test_header_decode();
	test_register_decode();
	test_option_list();
	test_option_names();
	test_options_decode();
	test_nmctx();
	test_get_mem_id_bad_name();

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
