# vmlab — plain Makefile with pkg-config (docs/design.md, "Build").
#   make            build ./vmlab
#   make deps       install every Debian package the project needs (root)
#   make check      unit + CLI + download + end-to-end tests (SAN=1: ASan+UBSan)
#   make check-unit / check-cli / check-image / e2e    one layer of the tests
#   make check-layering   fail if a file includes a library outside its adapter
#   make check-valgrind   unit + CLI + engine tests under valgrind (no leak, no invalid access)
#   make fuzz       build the libFuzzer targets (clang); make fuzz-run runs them
#   make install    PREFIX=/usr/local DESTDIR=
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
DATADIR   ?= $(PREFIX)/share/vmlab
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
VERSION   := 0.1.0

# evaluated when used, so "make deps check" on a fresh machine sees the new .pc files
PKGS      := libvirt libssh libcurl ncursesw libxml-2.0 libcrypto cmocka liblzma libisofs-1 libarchive
CC        ?= cc
WARN      := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wwrite-strings -Wvla -Wimplicit-fallthrough -fno-common -Werror
HARDEN    := -fstack-protector-strong -D_FORTIFY_SOURCE=2
OPT       ?= -O2 -g
ifeq ($(SAN),1)
  OPT     := -O1 -g -fno-omit-frame-pointer
  HARDEN  := -fstack-protector-strong
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
  BUILD   := build/san
else
  BUILD   := build/rel
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# Libraries only the unit tests link (a real JSON parser to read --json back).
TEST_PKGS  := jansson
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS  = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)
CPPFLAGS  += -Isrc -I. -I/usr/include/iniparser -DVL_VERSION='"$(VERSION)"' \
             -DVL_DATADIR='"$(DATADIR)"' -DVL_SYSCONFDIR='"$(SYSCONFDIR)"' -D_GNU_SOURCE
CFLAGS    += -std=gnu11 $(OPT) $(WARN) $(HARDEN) $(SANFLAGS) $(PKG_CFLAGS) -pthread -MMD -MP
LDLIBS    += $(PKG_LIBS) -liniparser -pthread
LDFLAGS   += $(SANFLAGS)

CORE_SRC  := $(filter-out src/main.c,$(wildcard src/*.c src/util/*.c src/cmd/*.c)) $(wildcard ui/*.c)
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_HELP := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))

.PHONY: demo all deps check check-unit check-cli check-image e2e check-layering fuzz fuzz-run \
        check-valgrind \
        install clean bench bench-tools ssh-shell-driver
all: vmlab

vmlab: $(BUILD)/vmlab
	ln -sf $(BUILD)/vmlab vmlab

$(BUILD)/vmlab: $(BUILD)/src/main.o $(BUILD)/libvmlab.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libvmlab.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(TEST_HELP) $(BUILD)/libvmlab.a
	@mkdir -p $(dir $@)
	@echo "  LINK $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) $(TEST_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(TEST_HELP) \
		$(BUILD)/libvmlab.a $(LDLIBS) $(TEST_LIBS)

# Hand-driven tool for the interactive shell (tmux), not run by check-unit.
ssh-shell-driver: $(BUILD)/tests/ssh_shell_driver
$(BUILD)/tests/ssh_shell_driver: tests/tools/ssh_shell_driver.c $(BUILD)/libvmlab.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libvmlab.a $(LDLIBS)

# Tools the benchmarks run (bench/engine.sh defines many labs with the engine's renderer,
# bench/cp.sh copies with the adapter, bench/tui.sh draws frames).
bench-tools: $(BUILD)/bench/define_labs $(BUILD)/bench/cp_tool $(BUILD)/bench/tui_frames
$(BUILD)/bench/%: bench/%.c $(BUILD)/libvmlab.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libvmlab.a $(LDLIBS)

# Debian packages: build deps, the libvirt/QEMU stack, and what the tests use.
DEB_BUILD := build-essential pkg-config libvirt-dev libssh-dev libcurl4-openssl-dev \
             libncurses-dev libxml2-dev libssl-dev libiniparser-dev libcmocka-dev liblzma-dev \
             libisofs-dev libjansson-dev libarchive-dev
DEB_RUN   := libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 \
             qemu-utils dnsmasq-base iproute2 openssh-client ca-certificates
DEB_TEST  := clang libclang-rt-14-dev lighttpd openssh-server dropbear-bin busybox-static \
             extlinux syslinux-common mmdebstrap e2fsprogs xorriso tmux jq python3 xz-utils \
             curl bc hyperfine valgrind $(shell cat tests/e2e/lib/packages.txt 2>/dev/null)
deps:
	@if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root (apt-get)"; exit 1; fi
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		$(sort $(DEB_BUILD) $(DEB_RUN) $(DEB_TEST))

check: check-layering check-unit check-cli check-image e2e fuzz-run check-valgrind
	$(MAKE) --no-print-directory SAN=1 check-unit check-cli
	@echo "make check: all test layers passed"

demo: vmlab
	@tests/e2e/demo.sh $(BUILD)/vmlab

# A skipped sshd test fails the run (tests/run-unit.sh); VL_TEST_NO_SKIP=0 where
# `make deps` has not installed the test packages.
VL_TEST_NO_SKIP ?= 1
check-unit: $(UNIT_BIN)
	@VL_TEST_NO_SKIP=$(VL_TEST_NO_SKIP) tests/run-unit.sh $(UNIT_BIN)

check-cli: vmlab
	@tests/cli/run.sh $(BUILD)/vmlab

check-image: vmlab
	@tests/image/run.sh $(BUILD)/vmlab

e2e: vmlab
	@tests/e2e/run.sh $(BUILD)/vmlab

check-layering:
	@tests/check-layering.sh

# The same unit and CLI tests under valgrind's memcheck, on the release build (tests/valgrind);
# valgrind cannot run an ASan binary, so SAN=1 hands over to the release build.
ifeq ($(SAN),1)
check-valgrind:
	@$(MAKE) --no-print-directory SAN=0 check-valgrind
else
check-valgrind: vmlab $(UNIT_BIN)
	@tests/valgrind/run.sh $(BUILD)/vmlab $(UNIT_BIN)
endif

# libFuzzer targets (tests/fuzz/fuzz_*.c): the core built once with clang's
# fuzzer instrumentation, each target linked against it. fuzz-run runs each for
# FUZZ_SECONDS, seeded from tests/corpus (6 targets: under 2 minutes).
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,build/fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_OBJ     := $(CORE_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_CFLAGS   = $(CPPFLAGS) -std=gnu11 -g -O1 $(PKG_CFLAGS) -pthread
FUZZ_SECONDS ?= 15
fuzz: $(FUZZ_TARGETS)
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC (fuzz) $<"
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c -o $@ $<
build/fuzz/libvmlab.a: $(FUZZ_OBJ)
	@rm -f $@ && ar rcs $@ $^
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_input.h build/fuzz/libvmlab.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build/fuzz/libvmlab.a \
		$(PKG_LIBS) -liniparser
fuzz-run:
	@if command -v clang >/dev/null; then $(MAKE) --no-print-directory fuzz && \
		tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS); else echo "fuzz: clang not found, skipped"; fi

# Benchmarks print figures (no pass/fail); they need a few more packages (vagrant for
# the status comparison), installed here rather than by `make deps`.
bench: vmlab bench-tools
	@if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $$(cat bench/packages.txt) >/dev/null; fi
	@for b in bench/pull.sh bench/status.sh bench/up.sh bench/snapshot.sh bench/engine.sh bench/tui.sh bench/class.sh bench/inside.sh bench/peers.sh; do \
		echo "== $$b"; bash $$b $(BUILD)/vmlab || exit 1; done

install: $(BUILD)/vmlab
	install -Dm755 $(BUILD)/vmlab $(DESTDIR)$(BINDIR)/vmlab
	install -d $(DESTDIR)$(DATADIR)/profiles $(DESTDIR)$(DATADIR)/images
	install -m644 profiles/*.ini $(DESTDIR)$(DATADIR)/profiles/
	install -m644 images/*.ini $(DESTDIR)$(DATADIR)/images/
	install -Dm644 vmlab.conf.example $(DESTDIR)$(DATADIR)/vmlab.conf.example
	for m in man/*.[1-8]; do s=$${m##*.}; install -Dm644 $$m $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done

clean:
	rm -rf build vmlab

-include $(shell find build -name '*.d' 2>/dev/null)
