// SPDX-License-Identifier: BSD-2-Clause
/*
 * nmreq: building and decoding netmap control requests on the user side.
 *
 * A port specification ("portspec") reads, left to right:
 *
 *	netmap:NAME[{ID|}ID][MODE][/FLAGS][@MEMID][@OPTION...]
 *	valeSW:NAME[{ID|}ID][MODE][/FLAGS][@MEMID][@OPTION...]
 *
 * nmreq_header_decode() takes the prefix and the port name (for VALE the
 * whole "valeSW:NAME" is the name the kernel sees; for netmap the prefix is
 * dropped), nmreq_register_decode() the ring mode, flags and numeric mem id,
 * nmreq_options_decode() the '@'-separated options, each handed to a parser
 * from a caller-supplied list (lib/nmport/nmport.c holds libnetmap's own).
 * The grammar and the wording of the error messages follow upstream
 * libnetmap, so that programs and scripts see the same behaviour.
 *
 * Every decoder is all-or-nothing: on error it reports through the nmctx,
 * sets errno (EINVAL unless said otherwise) and leaves its outputs and the
 * input cursor untouched.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "export.h"
#include <libnetmap.h>
#include "nmport/nmport_int.h"

UNM_API void nmreq_header_init(struct nmreq_header *h, uint16_t reqtype,
			       void *body)
{
	memset(h, 0, sizeof(*h));
	h->nr_version = NETMAP_API;
	h->nr_reqtype = reqtype;
	h->nr_body = (uintptr_t)body;
}

/* letters, digits and '_': what netmap accepts in switch and port names */
static int nmreq_is_ident(const char *s, const char *e)
{
	for (; s < e; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

/*
 * The subsystems a portspec may name. "netmap" takes no identifier before
 * the ':' and is not part of the name netmap sees; "vale" takes a possibly
 * empty switch identifier and is.
 */
static const struct nmreq_prefix {
	const char *prefix;
	int id_allowed;
	int keep_prefix;
} nmreq_prefixes[] = {
	{ "netmap", 0, 0 },
	{ NM_BDG_NAME, 1, 1 },
};

/* characters that end the port name and start the ring/flag/option part */
#define NMREQ_NAME_END "-*^/@"

UNM_API int nmreq_header_decode(const char **pspec, struct nmreq_header *h,
				struct nmctx *ctx)
{
	const char *spec = *pspec, *colon, *vp, *end, *pipe, *name;
	const struct nmreq_prefix *p = NULL;
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(nmreq_prefixes); i++) {
		size_t plen = strlen(nmreq_prefixes[i].prefix);

		if (strncmp(spec, nmreq_prefixes[i].prefix, plen) == 0) {
			p = &nmreq_prefixes[i];
			break;
		}
	}
	if (p == NULL) {
		nmctx_ferror(ctx, "%s: invalid request, prefix unknown or missing",
			     spec);
		goto fail;
	}
	vp = spec + strlen(p->prefix);
	colon = strchr(vp, ':');
	if (colon == NULL) {
		nmctx_ferror(ctx, "%s: missing ':'", spec);
		goto fail;
	}
	if (colon != vp && !p->id_allowed) {
		nmctx_ferror(ctx, "%s: no identifier allowed between '%s' and ':'",
			     spec, p->prefix);
		goto fail;
	}
	if (!nmreq_is_ident(vp, colon)) {
		nmctx_ferror(ctx, "%s: invalid identifier '%.*s'", spec,
			     (int)(colon - vp), vp);
		goto fail;
	}
	vp = colon + 1;
	name = p->keep_prefix ? spec : vp;

	end = vp + strcspn(vp, NMREQ_NAME_END);
	pipe = vp + strcspn(vp, "{}");
	if (pipe > end)
		pipe = end;
	if (pipe == vp) {
		nmctx_ferror(ctx, "%s: invalid empty port name", spec);
		goto fail;
	}
	if (!nmreq_is_ident(vp, pipe)) {
		nmctx_ferror(ctx, "%s: invalid port name '%.*s'", spec,
			     (int)(pipe - vp), vp);
		goto fail;
	}
	if (pipe != end) {
		if (pipe + 1 == end) {
			nmctx_ferror(ctx, "%s: invalid empty pipe name", spec);
			goto fail;
		}
		if (!nmreq_is_ident(pipe + 1, end)) {
			nmctx_ferror(ctx, "%s: invalid pipe name '%.*s'", spec,
				     (int)(end - pipe - 1), pipe + 1);
			goto fail;
		}
	}
	len = (size_t)(end - name);
	if (len >= sizeof(h->nr_name)) {
		nmctx_ferror(ctx, "name '%.*s' too long (%zu characters, at most %zu)",
			     (int)len, name, len, sizeof(h->nr_name) - 1);
		goto fail;
	}
	memcpy(h->nr_name, name, len);
	memset(h->nr_name + len, 0, sizeof(h->nr_name) - len);
	*pspec = end;
	return 0;
fail:
	errno = EINVAL;
	return -1;
}

/*
 * Reads a decimal number at *ps, in [min, max]. Returns 0 and moves *ps
 * past it; -1 on overflow or range error (the caller reports).
 */
static int nmreq_number(const char **ps, long min, long max, long *out)
{
	char *e;
	long v;

	errno = 0;
	v = strtol(*ps, &e, 10);
	if (e == *ps)
		return -1;
	*ps = e;
	*out = v;
	if (errno == ERANGE || v < min || v > max)
		return -1;
	return 0;
}

UNM_API int nmreq_register_decode(const char **pmode, struct nmreq_register *r,
				  struct nmctx *ctx)
{
	const char *s = *pmode;
	uint32_t mode = NR_REG_ALL_NIC;
	uint16_t ringid = 0;
	uint16_t mem_id = r->nr_mem_id;	/* preset (e.g. by @share): only confirm */
	uint64_t flags = 0;
	long num;

	/* the ring selection, at most one, first */
	switch (*s) {
	case '^':
		s++;
		mode = NR_REG_SW;
		if (!isdigit((unsigned char)*s))
			break;
		mode = NR_REG_ONE_SW;
		/* fallthrough */
	case '-':
		if (*s == '-') {
			s++;
			mode = NR_REG_ONE_NIC;
		}
		if (!isdigit((unsigned char)*s)) {
			nmctx_ferror(ctx, "got '%s' while expecting a number", s);
			goto fail;
		}
		if (nmreq_number(&s, 0, NETMAP_RING_MASK - 1, &num) < 0) {
			nmctx_ferror(ctx, "'%ld' out of range [0, %d)", num,
				     NETMAP_RING_MASK);
			goto fail;
		}
		ringid = (uint16_t)num;
		break;
	case '*':
		s++;
		mode = NR_REG_NIC_SW;
		break;
	case '\0':
	case '/':
	case '@':
		break;
	default:
		nmctx_ferror(ctx, "unknown modifier: '%c'", *s);
		goto fail;
	}

	/* then any sequence of "/FLAGS" and "@MEMID"; "@" + non-digit = options */
	while (*s != '\0') {
		if (*s == '/') {
			for (s++; *s != '\0' && *s != '@'; s++) {
				switch (*s) {
				case 'x': flags |= NR_EXCLUSIVE; break;
				case 'z': flags |= NR_ZCOPY_MON; break;
				case 't': flags |= NR_MONITOR_TX; break;
				case 'r': flags |= NR_MONITOR_RX; break;
				case 'R': flags |= NR_RX_RINGS_ONLY; break;
				case 'T': flags |= NR_TX_RINGS_ONLY; break;
				default:
					nmctx_ferror(ctx, "unrecognized flag: '%c'", *s);
					goto fail;
				}
			}
			if (*s == '\0' && s[-1] == '/') {
				nmctx_ferror(ctx, "unexpected end of request");
				goto fail;
			}
		} else if (*s == '@') {
			if (s[1] == '\0') {
				nmctx_ferror(ctx, "invalid empty mem_id");
				goto fail;
			}
			if (!isdigit((unsigned char)s[1]))
				break;	/* the options start here */
			s++;
			if (nmreq_number(&s, 1, UINT16_MAX, &num) < 0) {
				nmctx_ferror(ctx, "invalid mem_id: '%ld'", num);
				goto fail;
			}
			if (mem_id != 0 && mem_id != num) {
				nmctx_ferror(ctx, "invalid setting of mem_id to %ld (already set to %" PRIu16 ")",
					     num, mem_id);
				goto fail;
			}
			mem_id = (uint16_t)num;
		} else {
			nmctx_ferror(ctx, "unexpected character: '%c'", *s);
			goto fail;
		}
	}

	r->nr_mode = mode;
	r->nr_ringid = ringid;
	r->nr_flags = flags;
	r->nr_mem_id = mem_id;
	*pmode = s;
	return 0;
fail:
	errno = EINVAL;
	return -1;
}

UNM_API int32_t nmreq_get_mem_id(const char **pspec, struct nmctx *ctx)
{
	struct nmreq_port_info_get info;
	struct nmreq_header h;
	const char *s = *pspec;
	int fd, err;

	if (s == NULL) {
		errno = EINVAL;
		return -1;
	}
	nmreq_header_init(&h, NETMAP_REQ_PORT_INFO_GET, &info);
	if (nmreq_header_decode(&s, &h, ctx) < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	fd = open("/dev/netmap", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		nmctx_ferror(ctx, "cannot open /dev/netmap: %s", strerror(err));
		errno = err;
		return -1;
	}
	if (ioctl(fd, NIOCCTRL, &h) < 0) {
		err = errno;
		nmctx_ferror(ctx, "cannot get info for '%s': %s", *pspec,
			     strerror(err));
		close(fd);
		errno = err;
		return -1;
	}
	close(fd);
	*pspec = s;
	return info.nr_mem_id;
}

/* ------------------------------------------------------------------------
 * Options: "@prefix", "@prefix=value", "@prefix:key=value,key=value".
 */

/* key names match with '-' and '_' taken as the same character */
static int nmreq_key_eq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		char ca = *a == '-' ? '_' : *a, cb = *b == '-' ? '_' : *b;

		if (ca != cb)
			return 0;
	}
	return *a == *b;
}

static int nmreq_nkeys(const struct nmreq_opt_parser *p)
{
	int n = 0;

	while (n < NMREQ_OPT_MAXKEYS && p->keys[n].key != NULL)
		n++;
	return n;
}

static const struct nmreq_opt_key *
nmreq_find_key(const struct nmreq_opt_parser *p, const char *key)
{
	int i, n = nmreq_nkeys(p);

	for (i = 0; i < n; i++)
		if (nmreq_key_eq(p->keys[i].key, key))
			return &p->keys[i];
	return NULL;
}

/* fills pctx->keys from "key=value,key=value" (body is modified in place) */
static int nmreq_parse_keys(struct nmreq_opt_parser *p, char *body,
			    struct nmreq_parse_ctx *pctx)
{
	struct nmctx *ctx = pctx->ctx;
	const struct nmreq_opt_key *k;
	char *item, *next, *val;
	int i, n;

	if (*body == '\0') {
		nmctx_ferror(ctx, "option '%s': missing keys after ':'", p->prefix);
		return -1;
	}
	for (item = body; item != NULL; item = next) {
		next = strchr(item, ',');
		if (next != NULL)
			*next++ = '\0';
		val = strchr(item, '=');
		if (val != NULL)
			*val++ = '\0';
		if (*item == '\0') {
			nmctx_ferror(ctx, "option '%s': empty key", p->prefix);
			return -1;
		}
		k = nmreq_find_key(p, item);
		if (k == NULL || k->id < 0 || k->id >= NMREQ_OPT_MAXKEYS) {
			nmctx_ferror(ctx, "option '%s': unknown key: '%s'",
				     p->prefix, item);
			return -1;
		}
		if (pctx->keys[k->id] != NULL) {
			nmctx_ferror(ctx, "option '%s': duplicate key '%s', already set to '%s'",
				     p->prefix, item, pctx->keys[k->id]);
			return -1;
		}
		if (val == NULL || *val == '\0') {
			if (!(k->flags & NMREQ_OPTK_ALLOWEMPTY)) {
				nmctx_ferror(ctx, "option '%s': missing '=value' for key '%s'",
					     p->prefix, item);
				return -1;
			}
			val = "";
		}
		pctx->keys[k->id] = val;
	}
	n = nmreq_nkeys(p);
	for (i = 0; i < n; i++) {
		k = &p->keys[i];
		if ((k->flags & NMREQ_OPTK_MUSTSET) && k->id >= 0 &&
		    k->id < NMREQ_OPT_MAXKEYS && pctx->keys[k->id] == NULL) {
			nmctx_ferror(ctx, "option '%s': mandatory key '%s' not assigned",
				     p->prefix, k->key);
			return -1;
		}
	}
	return 0;
}

/* one option, NUL-terminated and writable */
static int nmreq_option_decode1(char *opt, struct nmreq_opt_parser *parsers,
				void *token, struct nmctx *ctx)
{
	struct nmreq_parse_ctx pctx;
	struct nmreq_opt_parser *p;
	char *body, delim;
	int i;

	body = opt + strcspn(opt, ":=");
	delim = *body;
	if (delim != '\0')
		*body++ = '\0';

	for (p = parsers; p != NULL; p = p->next)
		if (strcmp(p->prefix, opt) == 0)
			break;
	if (p == NULL) {
		nmctx_ferror(ctx, "unknown option: '%s'", opt);
		errno = EINVAL;
		return -1;
	}
	if (p->flags & NMREQ_OPTF_DISABLED) {
		nmctx_ferror(ctx, "option '%s' is not supported", opt);
		errno = EOPNOTSUPP;
		return -1;
	}

	pctx.ctx = ctx;
	pctx.token = token;
	for (i = 0; i < NMREQ_OPT_MAXKEYS; i++)
		pctx.keys[i] = NULL;

	switch (delim) {
	case '\0':
		if (!(p->flags & NMREQ_OPTF_ALLOWEMPTY)) {
			nmctx_ferror(ctx, "syntax error: missing body after '%s'", opt);
			errno = EINVAL;
			return -1;
		}
		break;
	case '=':
		if (p->default_key < 0 || p->default_key >= NMREQ_OPT_MAXKEYS) {
			nmctx_ferror(ctx, "syntax error: '=' not valid after '%s'", opt);
			errno = EINVAL;
			return -1;
		}
		if (*body == '\0') {
			nmctx_ferror(ctx, "missing value for option '%s'", opt);
			errno = EINVAL;
			return -1;
		}
		pctx.keys[p->default_key] = body;
		break;
	case ':':
		if (nmreq_parse_keys(p, body, &pctx) < 0) {
			errno = EINVAL;
			return -1;
		}
		break;
	}
	errno = 0;
	if (p->parse(&pctx) < 0) {
		if (errno == 0)
			errno = EINVAL;
		return -1;
	}
	return 0;
}

UNM_API int nmreq_options_decode(const char *opt,
				 struct nmreq_opt_parser *parsers, void *token,
				 struct nmctx *ctx)
{
	const char *s = opt, *e;
	size_t len;
	char *w;
	int ret;

	if (*s == '\0')
		return 0;
	if (*s != '@') {
		nmctx_ferror(ctx, "option list does not start with '@'");
		errno = EINVAL;
		return -1;
	}
	while (*s == '@') {
		s++;
		e = s + strcspn(s, "@");
		len = (size_t)(e - s);
		if (len == 0) {
			nmctx_ferror(ctx, "invalid empty option");
			errno = EINVAL;
			return -1;
		}
		w = nmctx_malloc(ctx, len + 1);
		if (w == NULL) {
			nmctx_ferror(ctx, "out of memory");
			errno = ENOMEM;
			return -1;
		}
		memcpy(w, s, len);
		w[len] = '\0';
		ret = nmreq_option_decode1(w, parsers, token, ctx);
		nmctx_free(ctx, w);
		if (ret < 0)
			return -1;
		s = e;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The option chain hanging off a request header (nr_options, nro_next:
 * user pointers stored as 64-bit integers).
 */

UNM_API void nmreq_push_option(struct nmreq_header *h, struct nmreq_option *o)
{
	o->nro_next = h->nr_options;
	h->nr_options = (uintptr_t)o;
}

UNM_API void nmreq_remove_option(struct nmreq_header *h, struct nmreq_option *o)
{
	uint64_t *link = &h->nr_options;

	while (*link != 0) {
		struct nmreq_option *cur = (struct nmreq_option *)(uintptr_t)*link;

		if (cur == o) {
			*link = o->nro_next;
			o->nro_next = 0;
			return;
		}
		link = &cur->nro_next;
	}
}

UNM_API struct nmreq_option *nmreq_find_option(struct nmreq_header *h,
					       uint32_t type)
{
	struct nmreq_option *o;

	nmreq_foreach_option(h, o)
		if (o->nro_reqtype == type)
			return o;
	return NULL;
}

/* Frees options allocated with malloc(); the header is left empty. */
UNM_API void nmreq_free_options(struct nmreq_header *h)
{
	struct nmreq_option *o = (struct nmreq_option *)(uintptr_t)h->nr_options;

	while (o != NULL) {
		struct nmreq_option *next =
			(struct nmreq_option *)(uintptr_t)o->nro_next;

		free(o);
		o = next;
	}
	h->nr_options = 0;
}

UNM_API const char *nmreq_option_name(uint32_t type)
{
	switch (type) {
	case NETMAP_REQ_OPT_EXTMEM:
		return "extmem";
	case NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS:
		return "sync-kloop-eventfds";
	case NETMAP_REQ_OPT_CSB:
		return "csb";
	case NETMAP_REQ_OPT_SYNC_KLOOP_MODE:
		return "sync-kloop-mode";
	case NETMAP_REQ_OPT_OFFSETS:
		return "offsets";
	case NETMAP_REQ_OPT_UNM_POOLS:
		return "unm-pools";
	default:
		return "unknown";
	}
}
