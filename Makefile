# cnova — the only entry points: run, stop, test, bench, fuzz, format, lint.
# `make` builds into build/; `make SAN=1` builds with ASan+UBSan into build-asan/;
# `make fuzz` (scripts/fuzz.sh) builds with clang, libFuzzer, ASan+UBSan
# (FUZZ=1) into build-fuzz/ and runs every target in fuzz/ (FUZZ_SECONDS
# in all, default 600, shared between the targets).

SAN ?= 0
FUZZ ?= 0
ifeq ($(FUZZ),1)
B ?= build-fuzz
CC = clang
SANFLAGS = -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
OPT = -O1 -g
else ifeq ($(SAN),1)
B ?= build-asan
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT = -O1 -g
else
B ?= build
SANFLAGS =
OPT = -O2 -g
endif

CC ?= cc
PKGS = jansson libpq librabbitmq libvirt libcurl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter $(OPT) $(SANFLAGS) \
	-Ilib -Ifcgi-api -Iworkers $(PKG_CFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS)
LDLIBS = $(PKG_LIBS) -lfcgi -lcrypto -lm

LIB_SRC = $(wildcard lib/*.c)
API_SRC = $(filter-out fcgi-api/main.c,$(wildcard fcgi-api/*.c fcgi-api/resources/*.c))
COND_SRC = $(wildcard workers/conductor/*.c)
SCHED_SRC = $(wildcard workers/scheduler/*.c)
COMP_SRC = $(wildcard workers/compute/*.c)
# the compute's modules but its main, for the unit tests of its pure parts
COMP_LIB_SRC = $(filter-out workers/compute/main.c,$(COMP_SRC))
MANAGE_SRC = $(wildcard workers/manage/*.c)
MDPROXY_SRC = $(wildcard workers/metadata-proxy/*.c)
UNIT_SRC = $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIB_A = $(B)/libcnova.a
API_A = $(B)/libcnova-api.a
COMP_A = $(B)/libcnova-compute.a
BINS = $(B)/cnova-api $(B)/cnova-conductor $(B)/cnova-scheduler $(B)/cnova-compute \
	$(B)/cnova-manage $(B)/cnova-metadata-proxy $(B)/hello-fcgi
UNITS = $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
FUZZERS = $(patsubst fuzz/%.c,$(B)/fuzz/%,$(wildcard fuzz/fuzz_*.c))

.PHONY: all deps run stop test units bench bench-faults bench-keystone fuzz fuzzers soak format lint clean routes openapi
all: $(BINS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB_A): $(call obj,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
$(API_A): $(call obj,$(API_SRC))
	@rm -f $@; ar rcs $@ $^
$(COMP_A): $(call obj,$(COMP_LIB_SRC))
	@rm -f $@; ar rcs $@ $^

$(B)/cnova-api: $(call obj,fcgi-api/main.c) $(API_A) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/cnova-conductor: $(call obj,$(COND_SRC)) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/cnova-scheduler: $(call obj,$(SCHED_SRC)) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/cnova-compute: $(call obj,$(COMP_SRC)) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/cnova-manage: $(call obj,$(MANAGE_SRC)) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/cnova-metadata-proxy: $(call obj,$(MDPROXY_SRC)) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/hello-fcgi: $(call obj,bench/hello-fcgi.c)
	$(CC) $(LDFLAGS) -o $@ $^ -lfcgi
$(B)/tests/%: $(call obj,tests/unit/%.c) $(COMP_A) $(API_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka
# tests/guest's driver of the host networking module (not a unit test)
$(B)/tests/hostnet-cli: $(call obj,tests/guest/hostnet-cli.c workers/compute/hostnet.c) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_A) $(LDLIBS)

# libFuzzer targets (fuzz/), only with FUZZ=1: scripts/fuzz.sh builds them.
$(B)/fuzz/%: $(call obj,fuzz/%.c) $(API_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
fuzzers:
	@test "$(FUZZ)" = 1 || { echo "fuzzers: build them with FUZZ=1 (make fuzz)" >&2; exit 2; }
	@$(MAKE) --no-print-directory $(FUZZERS)

deps:
	@scripts/deps.sh

# The whole stack on 127.0.0.1:8774, under ./run (idempotent).
run: deps
	@$(MAKE) --no-print-directory all
	@scripts/stack.sh start

stop:
	@scripts/stack.sh stop

# Everything, under ASan+UBSan: unit tests, then API and client tests against
# a private stack on other ports that the test runner starts and stops.
test: deps
	@$(MAKE) --no-print-directory SAN=1 all units
	@scripts/test.sh build-asan

units: $(UNITS) $(B)/tests/hostnet-cli

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/run.sh

# Every libFuzzer target for FUZZ_SECONDS (default 600) in all; non-zero on
# any crash, with the reproducer's path (see README, Fuzzing).
fuzz: deps
	@scripts/fuzz.sh

# Mixed load for SOAK_SECONDS (1200) on a private stack: RSS, fds, errors,
# database against hypervisors (bench/soak.sh). Not part of `make test`.
soak: deps
	@$(MAKE) --no-print-directory all
	@bench/soak.sh

# The fault matrix at bench size (README's table): bench/faults.sh.
bench-faults: deps
	@$(MAKE) --no-print-directory all
	@bench/faults.sh

# What Keystone mode costs: noauth2 vs Keystone tokens, cache warm and
# 1000 tokens in rotation (bench/keystone.sh).
bench-keystone: deps
	@$(MAKE) --no-print-directory all
	@bench/keystone.sh

# Regenerates fcgi-api/routes.h from api/routes.tsv (keeps built handlers).
routes:
	@scripts/gen-routes.py

# Regenerates api/openapi.json (served at /v2.1/openapi.json) from api/.
openapi:
	@scripts/gen-openapi.py

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint:
	cppcheck --quiet --enable=warning,performance --suppress=unknownMacro --error-exitcode=1 \
		-Ilib -Ifcgi-api lib fcgi-api workers

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
