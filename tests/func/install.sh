#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Test objective: `make install DESTDIR=... PREFIX=...` puts headers, libnetmap.so/.a,
# netmap.pc, tools and man pages where they belong, and a netmap program builds
# against the installed tree with pkg-config (both the shared and static library)
# and runs: it opens a pipe pair and moves one packet.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

make -s BUILD="$BUILD" install DESTDIR="$stage" PREFIX=/opt/unm >"$stage/log" 2>&1 ||
	{ cat "$stage/log"; fail "make install"; }
root=$stage/opt/unm
for f in include/net/netmap.h include/net/netmap_user.h include/net/netmap_legacy.h \
	 include/libnetmap.h lib/libnetmap.so lib/libnetmap.so.1 lib/libnetmap.a \
	 lib/pkgconfig/netmap.pc bin/pkt-gen share/man/man8/pkt-gen.8; do
	[ -e "$root/$f" ] || fail "missing $f after install"
done
grep -q '^prefix=/opt/unm$' "$root/lib/pkgconfig/netmap.pc" || fail "netmap.pc prefix"

cat >"$stage/app.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <libnetmap.h>
#define NETMAP_WITH_LIBS
#include <net/netmap_user.h>

int main(int argc, char **argv)
{
	char m[64], s[64];
	if (argc < 2)
		return 1;
	snprintf(m, sizeof(m), "netmap:%s{0", argv[1]);
	snprintf(s, sizeof(s), "netmap:%s}0", argv[1]);
	struct nmport_d *a = nmport_open(m), *b = nmport_open(s);
	if (!a || !b)
		return 2;
	const char msg[] = "hello through an installed libnetmap";
	if (nmport_inject(a, msg, sizeof(msg)) != (int)sizeof(msg))
		return 3;
	ioctl(a->fd, NIOCTXSYNC, NULL);
	struct pollfd p = { .fd = b->fd, .events = POLLIN };
	if (poll(&p, 1, 2000) != 1)
		return 4;
	struct netmap_ring *r = NETMAP_RXRING(b->nifp, 0);
	if (nm_ring_empty(r))
		return 5;
	struct netmap_slot *sl = &r->slot[r->cur];
	if (sl->len != sizeof(msg) || memcmp(NETMAP_BUF(r, sl->buf_idx), msg, sizeof(msg)))
		return 6;
	nmport_close(a);
	nmport_close(b);
	puts("ok");
	return 0;
}
C
# A sanitizer build installs instrumented objects: the app must link the runtime too.
san=()
if nm "$BUILD/libnetmap.a" 2>/dev/null | grep -q __asan_; then
	san=(-fsanitize=address,undefined)
	CC=${CC:-clang}
	export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
fi
export PKG_CONFIG_PATH=$root/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage
cflags=$(pkg-config --cflags netmap) || fail "pkg-config --cflags"
libs=$(pkg-config --libs netmap) || fail "pkg-config --libs"
# the static library's own dependencies (libxdp, libbpf...) come from Libs.private
static_libs=$(pkg-config --static --libs netmap | sed 's/-lnetmap\b//') || fail "pkg-config --static"
${CC:-cc} "${san[@]}" -Wall -Wextra -Werror $cflags -o "$stage/app-shared" "$stage/app.c" $libs \
	-Wl,-rpath,"$root/lib" || fail "build against the installed shared library"
${CC:-cc} "${san[@]}" -Wall -Wextra -Werror $cflags -o "$stage/app-static" "$stage/app.c" \
	"$root/lib/libnetmap.a" $static_libs || fail "build against the installed static library"
# a world of its own: other unetmap builds may run on this machine
export UNM_SHM_PREFIX=unm-install-$$
out=$("$stage/app-shared" inst$$) || fail "shared app exited $?"
[ "$out" = ok ] || fail "shared app printed '$out'"
out=$("$stage/app-static" inst$$s) || fail "static app exited $?"
[ "$out" = ok ] || fail "static app printed '$out'"
echo "install: headers, libs, pc, tools, man pages in place; apps built and ran"
