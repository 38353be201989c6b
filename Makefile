# SPDX-License-Identifier: Apache-2.0
# One non-recursive make for the whole suite.
#   make          release build: musl-gcc -static, stripped, into build/bin/
#   make test     installs what is missing (scripts/setup.sh), then runs every test
#                 on the sanitizer build (host gcc, ASan + UBSan)
#   make fuzz     runs each libFuzzer target for FUZZ_SECONDS (default 60); stops at a crash
#   make fuzz-long  each target for FUZZ_SECONDS (default 600 here), one after another;
#                 goes on past a crash, lists every crash at the end, fails if any
#   make fuzz-replay  replays every corpus under ASan/UBSan without libFuzzer
#   make dist     the air-gapped bundle dist/opensandbox-c-<version>-linux-<arch>.tar.gz
#                 (reproducible: the same commit gives the same bytes)
#   make bench    runs the benchmarks
#   make soak     the chaos clients at 1,000 connections for 10 minutes (not in CI)
#   make run      starts sandbox-api with the Docker runtime
#   make run-k8s  starts the Kubernetes emulator and sandbox-api on it
#   make fmt      clang-format every project source
#   V=1           shows the commands

.DEFAULT_GOAL := all
.SECONDEXPANSION:
SHELL := /bin/sh

BUILD := build
DEPS := $(BUILD)/deps
FUZZ_SECONDS ?= 60
# fuzz-long's own default, unless FUZZ_SECONDS was given.
FUZZ_LONG_SECONDS := $(if $(filter file,$(origin FUZZ_SECONDS)),600,$(FUZZ_SECONDS))

ifeq ($(V),1)
Q :=
else
Q := @
endif

# What --version says (lib/version.h). The date is the commit's unless
# SOURCE_DATE_EPOCH is given, so rebuilding a commit gives the same bytes.
VERSION := $(shell cat VERSION)
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell \
	test -z "$$(git status --porcelain 2>/dev/null)" || echo -dirty)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH
BUILD_DATE := $(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ)
VERSION_H := $(BUILD)/gen/version_gen.h

WARN := -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wvla -Werror
INCLUDES := -Ilib -Inetfilter -I$(BUILD)/gen

# Release: static musl, small, hardened where musl supports it. musl has no
# _FORTIFY_SOURCE checked functions, so it is not set; musl-gcc's specs cannot
# produce static-pie, so binaries are static non-PIE with full RELRO.
MUSL_CC := musl-gcc
MUSL_CFLAGS := $(WARN) -Os -ffunction-sections -fdata-sections -fstack-protector-strong \
	-fno-plt -D_GNU_SOURCE $(INCLUDES) -I$(DEPS)/musl/include
MUSL_LDFLAGS := -static -Wl,--gc-sections -Wl,-z,relro,-z,now -s
MUSL_LIBS := $(DEPS)/musl/lib/libbearssl.a $(DEPS)/musl/lib/libcjson.a

# Test: the same sources, host gcc, sanitizers.
HOST_CC := gcc
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
HOST_CFLAGS = $(WARN) -O1 -g $(SAN) -D_GNU_SOURCE $(INCLUDES) -I$(DEPS)/host/include -Itests/unit \
	$(addprefix -I,$(PROGRAMS))
HOST_LDFLAGS := $(SAN)
HOST_LIBS := $(DEPS)/host/lib/libbearssl.a $(DEPS)/host/lib/libcjson.a -lm

FUZZ_CC := clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE $(INCLUDES)

LIB_SRCS := $(wildcard lib/*.c)
NF_SRCS := $(wildcard netfilter/*.c)
UNIT_SRCS := $(wildcard tests/unit/*.c)
BENCH_SRCS := $(wildcard tests/bench/bench_*.c tests/bench/tool_*.c)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

# Which sources each fuzz target needs (pure parsers only): FUZZ_SRCS_<target>.
FUZZ_SRCS_http := lib/http_parse.c lib/http_body.c lib/http_url.c lib/ascii.c
FUZZ_SRCS_netlink := $(wildcard netfilter/*.c) lib/buf.c lib/err.c
FUZZ_SRCS_ws := lib/ws.c lib/buf.c lib/base64.c lib/ws_accept.c lib/http_parse.c lib/ascii.c \
	-I$(DEPS)/host/include $(DEPS)/host/lib/libbearssl.a
FUZZ_SRCS_multipart := -Iexecd execd/multipart.c lib/ascii.c
FUZZ_SRCS_api := -Iapi api/apival.c api/apival_list.c api/image_ref.c lib/ascii.c lib/http_parse.c lib/http_url.c lib/http_body.c lib/json.c lib/err.c lib/buf.c \
	-I$(DEPS)/host/include $(DEPS)/host/lib/libcjson.a -lm
FUZZ_SRCS_dns := -Iegressd egressd/dns.c
FUZZ_SRCS_route := -Iapi api/gateway_route.c api/image_ref.c -I$(DEPS)/host/include \
	$(DEPS)/host/lib/libbearssl.a
FUZZ_SRCS_yaml := lib/yaml.c lib/yaml_flow.c lib/yaml_scalar.c lib/cfg.c lib/buf.c lib/err.c \
	-I$(DEPS)/host/include $(DEPS)/host/lib/libcjson.a -lm
FUZZ_SRCS_toml := lib/toml.c lib/toml_value.c lib/cfg.c lib/buf.c lib/err.c \
	-I$(DEPS)/host/include $(DEPS)/host/lib/libcjson.a -lm
FUZZ_SRCS_policy := -Iegressd egressd/policy.c egressd/policy_index.c egressd/policy_set.c lib/json.c lib/buf.c lib/err.c \
	-I$(DEPS)/host/include $(DEPS)/host/lib/libcjson.a

musl_obj = $(patsubst %.c,$(BUILD)/obj/musl/%.o,$(1))
host_obj = $(patsubst %.c,$(BUILD)/obj/host/%.o,$(1))

DEPS_STAMP := $(DEPS)/.built
MUSL_LIB := $(BUILD)/obj/musl/libcore.a
MUSL_NF_LIB := $(BUILD)/obj/musl/libnetfilter.a
HOST_LIB := $(BUILD)/obj/host/libcore.a
UNIT_BIN := $(BUILD)/test/unit

# The programs: each is built from <name>/*.c.
# Their modules other than main.c are also linked into the unit test binary,
# so every public symbol carries its file's prefix.
PROGRAMS := $(filter $(patsubst %/main.c,%,$(wildcard */main.c)),execd egressd api)
BINS := $(patsubst $(BUILD)/bin/api,$(BUILD)/bin/sandbox-api,$(addprefix $(BUILD)/bin/,$(PROGRAMS)))
PROG_MODULE_SRCS := $(filter-out %/main.c,$(foreach p,$(PROGRAMS),$(wildcard $(p)/*.c)))
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: all dist deps setup test unit fuzz-replay fuzz fuzz-long bench run run-k8s fmt clean sizes soak

all: $(DEPS_STAMP) $(MUSL_LIB) $(MUSL_NF_LIB) $(BINS) sizes

sizes: $(MUSL_LIB) $(MUSL_NF_LIB) $(BINS)
	@echo "built:"
	@for f in $(BINS) $(MUSL_LIB) $(MUSL_NF_LIB) $(DEPS)/musl/lib/libbearssl.a $(DEPS)/musl/lib/libcjson.a; do \
		[ -f "$$f" ] && printf '  %-40s %8d bytes\n' "$$f" "$$(stat -c %s "$$f")"; \
	done; true

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh scripts/deps.lock
	$(Q)sh scripts/deps.sh $(DEPS)

setup:
	$(Q)sh scripts/setup.sh

$(BUILD)/obj/musl/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/host/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC-SAN  $<")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

# Rewritten only when a value changed, so an unchanged build stays up to date.
$(VERSION_H): FORCE
	@mkdir -p $(dir $@)
	@printf '#define BUILD_VERSION "%s"\n#define BUILD_COMMIT "%s"\n#define BUILD_DATE "%s"\n' \
		"$(VERSION)" "$(GIT_COMMIT)" "$(BUILD_DATE)" >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
.PHONY: FORCE
$(call musl_obj,lib/version.c) $(call host_obj,lib/version.c): $(VERSION_H)

$(MUSL_LIB): $(call musl_obj,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(MUSL_NF_LIB): $(call musl_obj,$(NF_SRCS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(HOST_LIB): $(call host_obj,$(LIB_SRCS) $(NF_SRCS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# $(1) = program folder, $(2) = binary name; its sources are $(1)/*.c.
define PROGRAM_RULE
$(BUILD)/bin/$(2): $(call musl_obj,$(wildcard $(1)/*.c)) $(MUSL_NF_LIB) $(MUSL_LIB)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(MUSL_CC) $$(MUSL_LDFLAGS) -o $$@ $$^ $$(MUSL_LIBS)
	$$(Q)file $$@ | grep -q 'statically linked' || { echo "$$@ is not statically linked" >&2; exit 1; }
endef
$(foreach p,$(PROGRAMS),$(eval $(call PROGRAM_RULE,$(p),$(if $(filter api,$(p)),sandbox-api,$(p)))))

# The same programs in the sanitizer flavour, for the integration suites.
SAN_BINS := $(patsubst %,$(BUILD)/test/%-san,$(PROGRAMS))
$(BUILD)/test/%-san: $(HOST_LIB) $$(call host_obj,$$(wildcard $$*/*.c))
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD-SAN  $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $(call host_obj,$(wildcard $*/*.c)) $(HOST_LIB) $(HOST_LIBS)

# Benchmarks measure the release flavour: musl, static, -O2. bench_* run on
# their own; tool_* are driven by a tests/bench/*.sh script.
$(BUILD)/bench/%: tests/bench/%.c $(call musl_obj,$(PROG_MODULE_SRCS)) $(MUSL_NF_LIB) $(MUSL_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -O2 -static -o $@ $^ $(MUSL_LIBS)

$(UNIT_BIN): $(call host_obj,$(UNIT_SRCS) $(PROG_MODULE_SRCS)) $(HOST_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD-SAN  $@")
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

# The chaos client (tests/chaos): a test tool, built plain so its own exit is quick.
CHAOS_BIN := $(BUILD)/test/chaos
$(CHAOS_BIN): tests/chaos/chaos.c
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(WARN) -O2 -D_GNU_SOURCE -o $@ $<

# Each fuzz harness also builds as a plain program that replays its corpus,
# so `make test` runs the corpus under the sanitizers without libFuzzer.
$(BUILD)/test/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $(call host_obj,$(PROG_MODULE_SRCS)) $(HOST_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -o $@ $^ $(HOST_LIBS)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(filter %.c,$$(FUZZ_SRCS_$$*)) $(wildcard lib/*.h */*.h)
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRCS_$*)

export ASAN_OPTIONS := detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1

# The README's test command: everything the tests need is installed first.
test: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit-run

.PHONY: unit-run
unit-run: $(UNIT_BIN) $(addprefix $(BUILD)/test/replay_,$(FUZZ_TARGETS)) $(BINS) $(SAN_BINS) $(CHAOS_BIN)
	$(Q)BUILD=$(BUILD) FUZZ_TARGETS="$(FUZZ_TARGETS)" sh scripts/test.sh

FUZZ_BINS := $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_TARGETS))

fuzz: $(FUZZ_BINS)
	$(Q)BUILD=$(BUILD) sh scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-long: $(FUZZ_BINS)
	$(Q)BUILD=$(BUILD) sh scripts/fuzz.sh -k $(FUZZ_LONG_SECONDS) $(FUZZ_TARGETS)

fuzz-replay: $(addprefix $(BUILD)/test/replay_,$(FUZZ_TARGETS))
	$(Q)for t in $(FUZZ_TARGETS); do $(BUILD)/test/replay_$$t tests/fuzz/corpus/$$t || exit 1; done

# The chaos suite at soak strength, printing fd count and RSS of each server as it goes.
soak: setup
	$(Q)$(MAKE) --no-print-directory all $(SAN_BINS) $(CHAOS_BIN)
	$(Q)BUILD=$(BUILD) CHAOS_CONNS=$${CHAOS_CONNS:-1000} CHAOS_SECONDS=$${CHAOS_SECONDS:-600} \
		CHAOS_WATCH=10 sh tests/integration/chaos.sh

dist: all
	$(Q)BUILD=$(BUILD) sh scripts/dist.sh

bench: all $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) sh scripts/bench.sh

# The README's main command: dockerd (setup.sh), every binary, the images, then
# sandbox-api on :8080 with the Docker runtime and the ingress gateway on :8081. The API key comes from
# OPENSANDBOX_SERVER_API_KEY or is generated and printed; RUN_ARGS adds flags.
run:
	$(Q)sh scripts/setup.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh scripts/images.sh
	$(Q)key=$${OPENSANDBOX_SERVER_API_KEY:-$$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}; \
	echo "sandbox-api: http://localhost:8080  API key: $$key"; \
	echo "  SDK: new ConnectionConfig({ domain: 'localhost:8080', apiKey: '$$key' }), image 'sandbox/base:latest'"; \
	echo "gateway: http://localhost:8081, any port of any sandbox (<id> from POST /v1/sandboxes):"; \
	echo "  curl -H 'OpenSandbox-Ingress-To: <id>-8080' http://localhost:8081/"; \
	echo "  curl -H 'Host: <id>-8080.gw.localhost' http://localhost:8081/"; \
	echo "  curl http://localhost:8081/<id>/8080/"; \
	echo "  curl http://localhost:8081/sandboxes/<id>/port/8080/"; \
	OPENSANDBOX_SERVER_API_KEY=$$key exec $(BUILD)/bin/sandbox-api --port 8080 \
		--gateway-listen 0.0.0.0:8081 $(RUN_ARGS)

# The same on the Kubernetes emulator (tests/k8s), kubeconfig in build/k8s/kubeconfig.
run-k8s:
	$(Q)sh scripts/setup.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh scripts/images.sh
	$(Q)sh scripts/run_k8s.sh $(RUN_ARGS)

fmt:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)/obj $(BUILD)/bin $(BUILD)/test $(BUILD)/fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
