# SPDX-License-Identifier: BSD-2-Clause
# Shared build variables. CC=clang, SAN=1 (ASan+UBSan), WERROR=1, BUILD=dir, V=1.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man

CC        ?= gcc
BUILD     ?= build
CPPFLAGS  += -Iinclude -Ilib -I$(BUILD)/gen -D_GNU_SOURCE
CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -pthread -fno-strict-aliasing
LIB_CFLAGS = -fPIC -fvisibility=hidden
# NIC ports: AF_XDP sockets through libxdp, the XDP program through libbpf.
LIBS      += -lxdp -lbpf -lelf -lz -lpthread -lrt -ldl

# BPF programs (lib/bpf/*.bpf.c): clang for the BPF target, embedded with bpftool.
CLANG     ?= clang
BPFTOOL   ?= bpftool
BPF_CFLAGS = -target bpf -O2 -g -Wall -Werror -I/usr/include/$(shell uname -m)-linux-gnu

ifeq ($(WERROR),1)
CFLAGS    += -Werror
endif
# -z defs catches a missing symbol at link time; a sanitizer build leaves the
# runtime's symbols to the executable that loads the library.
SO_DEFS   := -Wl,-z,defs
ifeq ($(SAN),1)
CFLAGS    += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SO_DEFS   :=
endif

ifneq ($(V),1)
Q_CC = @echo "  CC      $@";
Q_LD = @echo "  LD      $@";
Q_AR = @echo "  AR      $@";
Q_BPF = @echo "  BPF     $@";
Q_GEN = @echo "  GEN     $@";
endif
