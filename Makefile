# SPDX-License-Identifier: BSD-2-Clause
# unetmap: netmap's API and ABI in userspace. Plain GNU make; quiet unless V=1.
#
#   make                 library (shared + static), tools, tests, examples, bench
#   make check           build and run every test (unit + functional)
#   make ci              what CI runs: gcc -Werror, clang -Werror, ASan+UBSan; all tests
#   make install         DESTDIR=... PREFIX=/usr/local

include mk/common.mk

# lib/bpf/*.bpf.c are BPF programs: built by clang for the BPF target and
# embedded in the library as bpftool skeletons ($(BUILD)/gen/NAME.skel.h).
BPF_SRCS   := $(sort $(wildcard lib/bpf/*.bpf.c))
BPF_SKELS  := $(BPF_SRCS:lib/bpf/%.bpf.c=$(BUILD)/gen/%.skel.h)
LIB_SRCS   := $(filter-out %.bpf.c,$(sort $(wildcard lib/*/*.c)))
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB_MAP    := lib/libnetmap.map
SONAME     := libnetmap.so.1

TOOLS      := $(notdir $(wildcard tools/*))
TOOL_BINS  := $(TOOLS:%=$(BUILD)/tools/%)
UNIT_SRCS  := $(sort $(wildcard tests/unit/*.c))
UNIT_BINS  := $(UNIT_SRCS:%.c=$(BUILD)/%)
FUNC_SRCS  := $(sort $(wildcard tests/func/*.c))
FUNC_BINS  := $(FUNC_SRCS:%.c=$(BUILD)/%)
EX_SRCS    := $(sort $(wildcard examples/*.c))
EX_BINS    := $(EX_SRCS:%.c=$(BUILD)/%)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:%.c=$(BUILD)/%)

all: lib tools tests examples bench

lib: $(BUILD)/libnetmap.so $(BUILD)/libnetmap.a
tools: $(TOOL_BINS)
tests: $(UNIT_BINS) $(FUNC_BINS)
examples: $(EX_BINS)
bench: $(BENCH_BINS)

$(BUILD)/%.o: %.c
	$(Q_CC)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) $(LIB_CFLAGS) -MMD -MP -c $< -o $@

# The skeletons exist before any library object is compiled (the first build
# has no .d files to say which object includes which skeleton).
$(LIB_OBJS): | $(BPF_SKELS)

$(BUILD)/gen/%.bpf.o: lib/bpf/%.bpf.c
	$(Q_BPF)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gen/%.skel.h: $(BUILD)/gen/%.bpf.o
	$(Q_GEN)$(BPFTOOL) gen skeleton $< name unm_$* > $@.tmp && mv $@.tmp $@

$(BUILD)/libnetmap.so: $(LIB_OBJS) $(LIB_MAP)
	$(Q_LD)$(CC) $(CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(LIB_MAP) \
		$(SO_DEFS) -o $@ $(LIB_OBJS) $(LDFLAGS) $(LIBS)

$(BUILD)/libnetmap.a: $(LIB_OBJS)
	$(Q_AR)rm -f $@ && $(AR) rcs $@ $^

# Executables link the static library, so they run from the build tree; the
# shared one is for LD_PRELOAD and for installed programs.
define exe_rule
$(BUILD)/$(1): $(2) $(BUILD)/libnetmap.a
	$$(Q_LD)mkdir -p $$(@D) && $$(CC) $$(CPPFLAGS) $$(CFLAGS) -MMD -MP -o $$@ $(2) \
		$$(BUILD)/libnetmap.a $$(LDFLAGS) $$(LIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call exe_rule,tools/$(t),$(sort $(wildcard tools/$(t)/*.c)))))
$(foreach s,$(UNIT_SRCS) $(FUNC_SRCS) $(EX_SRCS) $(BENCH_SRCS),$(eval $(call exe_rule,$(s:%.c=%),$(s))))

check: all
	@BUILD=$(BUILD) tests/run.sh

ci:
	@tests/ci.sh

install: lib tools
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR)/net $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man4 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 include/net/*.h $(DESTDIR)$(INCDIR)/net/
	install -m 0644 include/libnetmap.h $(DESTDIR)$(INCDIR)/
	install -m 0755 $(BUILD)/libnetmap.so $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libnetmap.so
	install -m 0644 $(BUILD)/libnetmap.a $(DESTDIR)$(LIBDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' netmap.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/netmap.pc
	install -m 0755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/
	for m in $(wildcard man/*.[348]); do \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/; done

clean:
	rm -rf build build-*

.PHONY: all lib tools tests examples bench check ci install clean
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
