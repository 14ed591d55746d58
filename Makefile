# ctdlab - build, test and run the Connected Threat Defense lab.
#
#   make            build every binary into bin/ (never runs the package manager)
#   make check      install missing packages (make deps), build and run the tests
#   make check T=imsva      only the test programs whose name contains "imsva"
#                           (T=browser: the browser tests, tests/browser)
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan (build-san/)
#   make check SANITIZE=thread   under ThreadSanitizer (build-tsan/)
#   make fuzz       build the libFuzzer harnesses of tests/fuzz/ with clang
#                   (build-fuzz/) and run each for FUZZ_SECONDS (30) on its
#                   seed corpus; T=smtp runs only those matching
#   make run        make deps, build, start the lab and run the four-step drill
#   make bench      benchmarks (SMTP intake vs smtp-sink and MailDev, processing,
#                   SOs at scale, HTTP read calls vs a bare libmicrohttpd handler,
#                   lab start and memory);
#                   writes bench.json; BASE=old.json compares with an earlier run
#   make deps       install the Debian packages of tools/debian-packages.txt
#   make install PREFIX=/usr/local DESTDIR=   install the binaries
#
# Layout: common/ is libctd; mocks/<x>/ is daemon <x>d (its <x>d.c holds main,
# the rest is lib<x>, which unit tests link); tools/<t>/ is bin/<t>;
# tests/unit and tests/integration hold one Check program per test_*.c.

SHELL := /bin/bash
NPROC := $(shell nproc 2>/dev/null || echo 2)
# One job per core, unless the caller chose (make -jN): a sub-make given -j
# again would leave the caller's jobserver.
MAKE_JOBS = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(NPROC))
CC ?= cc
SANITIZE ?= 0

BUILD := build
BIN := bin
# Sanitized daemons and tools too, so integration tests exercise them.
ifeq ($(SANITIZE),1)
BUILD := build-san
BIN := build-san/bin
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),fuzz)
# make fuzz: clang's libFuzzer; the harnesses link -fsanitize=fuzzer
BUILD := build-fuzz
BIN := build-fuzz/bin
CC := clang
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),thread)
BUILD := build-tsan
BIN := build-tsan/bin
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
endif

# Quiet by default (Redis style); V=1 shows every command.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n'
endif

# The Debian packages are listed once, in tools/debian-packages.txt (deps.sh).
PKGS := libevent libevent_pthreads libevent_openssl zlib libmicrohttpd jansson sqlite3 libcurl gmime-3.0 \
	libxml-2.0 libarchive libjwt libpcap libcap openssl inih

OPT ?= -O2 -g
# The OpenSMTPD/Postfix-grade warnings, errors like every other. Not in it:
# -Wcast-qual (libxml2's BAD_CAST idiom, execv's and MHD's non-const
# parameters, owned strings behind const members) and -Wwrite-strings
# (so_record, dtas_client... hold literals and owned copies alike): either
# would take casts, not fixes.
WARN := -Wall -Wextra -Wmissing-prototypes -Wmissing-declarations -Wstrict-prototypes \
	-Wold-style-definition -Wshadow -Wformat=2 -Wpointer-arith -Wundef -Wnested-externs \
	-Wvla -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(WARN) -Werror -Icommon -Imocks
pkgcflags := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
pkglibs := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmagic -lpthread -lm
CFLAGS := $(CFLAGS_BASE) $(OPT) $(SANFLAGS) $(pkgcflags)
LDLIBS := $(SANFLAGS) $(pkglibs)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

APPLIANCES := imsva ddan tmcm sps ddi
DAEMONS := $(APPLIANCES:%=$(BIN)/%d)
TOOLS := $(patsubst tools/%/,$(BIN)/%,$(sort $(dir $(wildcard tools/*/*.c))))

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o) $(BUILD)/schema_gen.o $(BUILD)/console_shell_gen.o
LIBCTD := $(BUILD)/libctd.a

# lib<x>.a: every source of mocks/<x>/ except its main file <x>d.c
mock_lib = $(BUILD)/lib$(1).a
mock_objs = $(patsubst %.c,$(BUILD)/%.o,$(filter-out mocks/$(1)/$(1)d.c,$(wildcard mocks/$(1)/*.c))) \
	$(BUILD)/mocks/$(1)/console_gen.o
MOCK_LIBS := $(foreach a,$(APPLIANCES),$(call mock_lib,$(a)))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
INTEG_SRC := $(wildcard tests/integration/test_*.c)
TESTLIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/lib/*.c))
TESTLIB := $(BUILD)/libtestlib.a
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
INTEG_BIN := $(INTEG_SRC:tests/integration/%.c=$(BUILD)/tests/%)
# T="imsva ddan": only the test programs whose name contains one of the words.
T ?=
matches_t = $(strip $(foreach p,$(T),$(findstring $(p),$(notdir $(1)))))
# The browser tests (tests/browser, Playwright + chromium against a real lab)
# are one more program; its summary line counts each test.
BROWSER_TEST := tests/browser/test_browser.mjs
ALL_TESTS := $(UNIT_BIN) $(INTEG_BIN) $(BROWSER_TEST)
TESTS := $(if $(T),$(foreach t,$(ALL_TESTS),$(if $(call matches_t,$(t)),$(t))),$(ALL_TESTS))
# Test programs run in parallel on the cores (tests/run.sh -j).
JOBS ?= $(NPROC)

# Programs the benchmarks run (tests/bench/*.c), built by make bench.
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(wildcard tests/bench/*.c))

# libFuzzer harnesses (make fuzz): tests/fuzz/fuzz_<name>.c, corpus in
# tests/fuzz/corpus/<name>/.
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(filter-out %/fuzz_util.c,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BIN := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)
FUZZ_RUN := $(FUZZ_NAMES:%=build-fuzz/fuzz/%)
FUZZ_SECONDS ?= 30

PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all binaries check unit run bench deps depcheck install clean docker-smoke fuzz fuzz-build FORCE
.DELETE_ON_ERROR:
.SECONDARY:

all: depcheck
	@$(MAKE) $(MAKE_JOBS) --no-print-directory binaries

binaries: $(DAEMONS) $(TOOLS)

deps:
	@tools/deps.sh

depcheck:
	@tools/deps.sh --check

# Everything compiled or linked depends on this stamp, rewritten only when the
# compiler or the flags change (SANITIZE, OPT...), so a flag change
# rebuilds and an unchanged build stays a no-op.
FLAGS_STAMP := $(BUILD)/.flags
$(FLAGS_STAMP): FORCE
	@mkdir -p $(BUILD)
	@printf '%s\n' '$(CC) $(CFLAGS) $(LDLIBS)' | cmp -s - $@ || printf '%s\n' '$(CC) $(CFLAGS) $(LDLIBS)' >$@

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS) -Itests/lib -MMD -MP -c $< -o $@

$(BUILD)/schema_gen.c: $(sort $(wildcard schema/*.sql)) tools/embed_sql.sh
	@mkdir -p $(dir $@)
	$(say) GEN $@
	$(Q)tools/embed_sql.sh $(sort $(wildcard schema/*.sql)) > $@

$(BUILD)/schema_gen.o: $(BUILD)/schema_gen.c $(FLAGS_STAMP)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# Web consoles (common/console.h): the files of common/console/ into libctd
# and of mocks/<x>/console/ into lib<x>, as C arrays. The .list stamp
# changes when a file is added or removed, so that regenerates too.
# $(1) symbol, $(2) folder, $(3) generated C file
console_files_of = $(sort $(shell find $(1) -type f 2>/dev/null))
define CONSOLE_RULES
$(3:.c=.list): FORCE
	@mkdir -p $$(dir $$@)
	@echo '$(call console_files_of,$(2))' | cmp -s - $$@ || echo '$(call console_files_of,$(2))' >$$@
$(3): $(call console_files_of,$(2)) $(3:.c=.list) tools/embed_console.sh
	$(say) GEN $$@
	$(Q)tools/embed_console.sh $(1) $(2) $(call console_files_of,$(2)) >$$@
$(3:.c=.o): $(3) $(FLAGS_STAMP)
	$(say) CC $$<
	$(Q)$(CC) $(CFLAGS) -c $$< -o $$@
endef
$(eval $(call CONSOLE_RULES,console_shell_files,common/console,$(BUILD)/console_shell_gen.c))
$(foreach a,$(APPLIANCES),$(eval $(call CONSOLE_RULES,$(a)_console_files,mocks/$(a)/console,$(BUILD)/mocks/$(a)/console_gen.c)))

$(LIBCTD): $(COMMON_OBJ)
	@rm -f $@
	$(say) AR $@
	$(Q)ar rcs $@ $^

$(TESTLIB): $(TESTLIB_OBJ)
	@rm -f $@
	$(say) AR $@
	$(Q)ar rcs $@ $^

define MOCK_RULES
$(call mock_lib,$(1)): $(call mock_objs,$(1))
	@rm -f $$@
	@mkdir -p $$(dir $$@)
	$(say) AR $$@
	$(Q)$(if $(call mock_objs,$(1)),ar rcs $$@ $$^,printf '!<arch>\n' > $$@)
$(BIN)/$(1)d: $(BUILD)/mocks/$(1)/$(1)d.o $(call mock_lib,$(1)) $(LIBCTD) $(FLAGS_STAMP)
	@mkdir -p $(BIN)
	$(say) LINK $$@
	$(Q)$(CC) -o $$@ $$(filter-out $(FLAGS_STAMP),$$^) $(LDLIBS)
endef
$(foreach a,$(APPLIANCES),$(eval $(call MOCK_RULES,$(a))))

define TOOL_RULES
$(BIN)/$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/$(1)/*.c)) $(MOCK_LIBS) $(LIBCTD) $(FLAGS_STAMP)
	@mkdir -p $(BIN)
	$(say) LINK $$@
	$(Q)$(CC) -o $$@ $$(filter-out $(FLAGS_STAMP),$$^) $(LDLIBS)
endef
$(foreach t,$(TOOLS:$(BIN)/%=%),$(eval $(call TOOL_RULES,$(t))))

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TESTLIB) $(MOCK_LIBS) $(LIBCTD) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) -o $@ $(filter-out $(FLAGS_STAMP),$^) $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/integration/%.o $(TESTLIB) $(MOCK_LIBS) $(LIBCTD) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) -o $@ $(filter-out $(FLAGS_STAMP),$^) $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/tests/bench/%.o $(MOCK_LIBS) $(LIBCTD) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) -o $@ $(filter-out $(FLAGS_STAMP),$^) $(LDLIBS)

$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/fuzz_util.o $(MOCK_LIBS) $(LIBCTD) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) -fsanitize=fuzzer -o $@ $(filter-out $(FLAGS_STAMP),$^) $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: deps
	@$(MAKE) $(MAKE_JOBS) --no-print-directory SANITIZE=fuzz fuzz-build
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(if $(T),$(foreach t,$(FUZZ_RUN),$(if $(call matches_t,$(t)),$(t))),$(FUZZ_RUN))

# SPEC: make check and make run work as the first command on a fresh Debian,
# so they install what is missing (make deps); make alone only checks.
check: deps
	@$(MAKE) $(MAKE_JOBS) --no-print-directory binaries $(filter-out $(BROWSER_TEST),$(TESTS))
	@CTDLAB_BINDIR=$(BIN) tests/run.sh -j $(JOBS) $(TESTS)

unit: deps
	@$(MAKE) $(MAKE_JOBS) --no-print-directory $(UNIT_BIN)
	@CTDLAB_BINDIR=$(BIN) tests/run.sh -j $(JOBS) $(UNIT_BIN)

run: deps
	@$(MAKE) $(MAKE_JOBS) --no-print-directory binaries
	@tools/run-lab.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/ctdlab
	install -m 755 $(DAEMONS) $(TOOLS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/ctdlab

bench: all
	@$(MAKE) $(MAKE_JOBS) --no-print-directory $(BENCH_BIN)
	@BENCH_BINDIR=$(BUILD)/bench BASE=$(BASE) tests/bench/run.sh

docker-smoke:
	docker/smoke-test.sh

clean:
	rm -rf build build-san build-tsan build-fuzz bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
