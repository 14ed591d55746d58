# ctdlab - build, test and run the Connected Threat Defense lab.
#
#   make            build every binary into bin/
#   make check      build and run the unit and integration tests
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan
#   make run        start the lab and run the four-step drill
#   make bench      benchmarks (SMTP intake vs Postfix smtp-sink, SO lookup)
#   make deps       install the Debian packages the build needs (as root)
#
# Layout: common/ is libctd; mocks/<x>/ is daemon <x>d (its <x>d.c holds main,
# the rest is lib<x>, which unit tests link); tools/<t>/ is bin/<t>;
# tests/unit and tests/integration hold one Check program per test_*.c.

SHELL := /bin/bash
NPROC := $(shell nproc 2>/dev/null || echo 2)
CC ?= cc
SANITIZE ?= 0

BUILD := build
BIN := bin
ifeq ($(SANITIZE),1)
# Sanitized daemons and tools too, so integration tests exercise them.
BUILD := build-san
BIN := build-san/bin
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

# Quiet by default (Redis style); V=1 shows every command.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n'
endif

DEB_PACKAGES := gcc make pkg-config libevent-dev libmicrohttpd-dev libjansson-dev \
	libsqlite3-dev check libcurl4-openssl-dev libgmime-3.0-dev libmagic-dev libmagic-mgc \
	libxml2-dev libarchive-dev libjwt-dev libpcap-dev libssl-dev libinih-dev zlib1g-dev \
	ca-certificates curl openssl zip unzip python3
PKGS := libevent libevent_pthreads libevent_openssl zlib libmicrohttpd jansson sqlite3 libcurl gmime-3.0 \
	libxml-2.0 libarchive libjwt libpcap openssl inih

OPT ?= -O2 -g
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -Icommon -Imocks
pkgcflags := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
pkglibs := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmagic -lpthread -lm
CFLAGS := $(CFLAGS_BASE) $(OPT) $(SANFLAGS) $(pkgcflags)
LDLIBS := $(SANFLAGS) $(pkglibs)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

APPLIANCES := imsva ddan tmcm sps ddi
DAEMONS := $(APPLIANCES:%=$(BIN)/%d)
TOOLS := $(patsubst tools/%/,$(BIN)/%,$(sort $(dir $(wildcard tools/*/*.c))))

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o) $(BUILD)/schema_gen.o
LIBCTD := $(BUILD)/libctd.a

# lib<x>.a: every source of mocks/<x>/ except its main file <x>d.c
mock_lib = $(BUILD)/lib$(1).a
mock_objs = $(patsubst %.c,$(BUILD)/%.o,$(filter-out mocks/$(1)/$(1)d.c,$(wildcard mocks/$(1)/*.c)))
MOCK_LIBS := $(foreach a,$(APPLIANCES),$(call mock_lib,$(a)))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
INTEG_SRC := $(wildcard tests/integration/test_*.c)
TESTLIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/lib/*.c))
TESTLIB := $(BUILD)/libtestlib.a
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
INTEG_BIN := $(INTEG_SRC:tests/integration/%.c=$(BUILD)/tests/%)

.PHONY: all check unit integration run bench deps clean docker-smoke
.DELETE_ON_ERROR:
.SECONDARY:

all: deps
	@$(MAKE) -j$(NPROC) --no-print-directory binaries

binaries: $(DAEMONS) $(TOOLS)

deps:
	@tools/deps.sh $(DEB_PACKAGES)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS) -Itests/lib -MMD -MP -c $< -o $@

$(BUILD)/schema_gen.c: $(sort $(wildcard schema/*.sql)) tools/embed_sql.sh
	@mkdir -p $(dir $@)
	$(say) GEN $@
	$(Q)tools/embed_sql.sh $(sort $(wildcard schema/*.sql)) > $@

$(BUILD)/schema_gen.o: $(BUILD)/schema_gen.c
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

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
$(BIN)/$(1)d: $(BUILD)/mocks/$(1)/$(1)d.o $(call mock_lib,$(1)) $(LIBCTD)
	@mkdir -p $(BIN)
	$(say) LINK $$@
	$(Q)$(CC) -o $$@ $$^ $(LDLIBS)
endef
$(foreach a,$(APPLIANCES),$(eval $(call MOCK_RULES,$(a))))

define TOOL_RULES
$(BIN)/$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/$(1)/*.c)) $(MOCK_LIBS) $(LIBCTD)
	@mkdir -p $(BIN)
	$(say) LINK $$@
	$(Q)$(CC) -o $$@ $$^ $(LDLIBS)
endef
$(foreach t,$(TOOLS:$(BIN)/%=%),$(eval $(call TOOL_RULES,$(t))))

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TESTLIB) $(MOCK_LIBS) $(LIBCTD)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/integration/%.o $(TESTLIB) $(MOCK_LIBS) $(LIBCTD)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

check: deps
	@$(MAKE) -j$(NPROC) --no-print-directory binaries $(UNIT_BIN) $(INTEG_BIN)
	@CTDLAB_BINDIR=$(BIN) tests/run.sh $(UNIT_BIN) $(INTEG_BIN)

unit: deps
	@$(MAKE) -j$(NPROC) --no-print-directory $(UNIT_BIN)
	@CTDLAB_BINDIR=$(BIN) tests/run.sh $(UNIT_BIN)

run: all
	@tools/run-lab.sh

bench: all
	@tests/bench/run.sh

docker-smoke:
	docker/smoke-test.sh

clean:
	rm -rf build build-san $(BIN)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
