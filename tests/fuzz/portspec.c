// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target for the portspec and option parsers (nmport_parse and
 * the nmreq_* decoders under it). Not built by the Makefile. The parser
 * sources are compiled in (instrumented for coverage), not the whole
 * library: nothing here needs the in-process kernel.
 *
 *   mkdir -p build-fuzz
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ilib \
 *	-D_GNU_SOURCE -pthread tests/fuzz/portspec.c lib/nmport/nmreq.c \
 *	lib/nmport/nmport.c lib/nmport/nmctx.c -o build-fuzz/portspec
 *   build-fuzz/portspec -max_total_time=60 tests/fuzz/corpus
 *
 * @share and @extmem are disabled: they would open /dev/netmap and
 * arbitrary files. Invariants checked on every accepted input: the name is
 * NUL-terminated and non-empty, the header points at its body, and undoing
 * the parse leaves no option behind (ASan reports leaks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libnetmap.h>

static struct nmctx quiet;

static void ignore(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nmreq_register reg;
	struct nmport_d *d;
	const char *s;
	char *spec;

	if (quiet.error == NULL) {
		quiet = *nmctx_get();
		quiet.error = ignore;
		quiet.mem_descs = NULL;
		nmctx_set_default(&quiet);
		nmport_disable_option("share");
		nmport_disable_option("extmem");
		nmport_enable_option("offset");
	}
	spec = malloc(size + 1);
	if (spec == NULL)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';

	d = nmport_prepare(spec);
	if (d != NULL) {
		size_t n = strnlen(d->hdr.nr_name, sizeof(d->hdr.nr_name));

		if (n == 0 || n == sizeof(d->hdr.nr_name))
			abort();
		if (d->hdr.nr_body != (uintptr_t)&d->reg)
			abort();
		nmport_undo_prepare(d);
	}

	/* the mode decoder alone, on arbitrary input */
	memset(&reg, 0, sizeof(reg));
	s = spec;
	if (nmreq_register_decode(&s, &reg, &quiet) == 0 &&
	    (s < spec || s > spec + size || (*s != '\0' && *s != '@')))
		abort();
	if (nmreq_register_decode(&s, &reg, &quiet) < 0 && s != spec &&
	    s != spec + strlen(spec) && *s != '@')
		abort();

	free(spec);
	return 0;
}
