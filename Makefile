# qwenkit - build, test, install.
#
#   make                 build bin/qwen-{inspect,convert,quant,verify}
#   make check           install missing packages, build, run every test
#   make test-fast       the fast suite: every unit test, every CLI suite but determinism
#   make mutants         plant each bug of tests/mutants/ in a scratch copy, run test-fast
#   make check SANITIZE=address,undefined   the same under sanitizers (build-san/)
#   make demo            install, build, run the pipeline on the bundled tiny model
#   make fuzz FUZZ_SECONDS=N   run each libFuzzer target N seconds (clang)
#   make soak            the fault suite with many random kill points (SOAK_ROUNDS=25)
#   make bench           run the benchmarks tests/bench/*.sh (speed, peak memory)
#                        and print the table of ours beside theirs
#   make install PREFIX=/usr/local   (make uninstall PREFIX=... removes it)
#
# Sources are found by directory, so a new module is a new file, not a
# Makefile edit: formats/*/ quant/ ref/ -> libqwenkit.a; cli/qwen-*.c -> one tool
# each, other cli/*.c shared by the tools; tests/unit/test_*.c -> one CMocka
# program each; testdata/corrupt/*.c -> the corrupt-corpus generator;
# tests/fuzz/fuzz_*.c -> one libFuzzer target each.

CC       ?= cc
PREFIX   ?= /usr/local
SANITIZE ?=
OPT      ?= -O2
FUZZ_SECONDS ?= 60
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)

ifeq ($(SANITIZE),)
BUILD  ?= build
BINDIR ?= bin
SANFLAGS :=
else
BUILD  ?= build-san
BINDIR ?= $(BUILD)/bin
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

PKGS     := libcjson yaml-0.1 libzip zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcjson -lyaml -lzip -lz)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

WARN := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wvla -Wwrite-strings \
	-Wformat=2 -Werror
# -ffp-contract=off everywhere: quant/ and ref/ need it (ref/README.md,
# quant/README.md) and the
# rest loses nothing by it. Never fast-math (it breaks the numerics contract).
CFLAGS_ALL := $(WARN) $(OPT) -g -ffp-contract=off -fno-math-errno -D_POSIX_C_SOURCE=200809L \
	$(PKG_CFLAGS) $(SANFLAGS) $(CFLAGS)
LDLIBS_ALL := $(PKG_LIBS) -lm -lpthread $(LDLIBS)
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)

LIB_SRC  := $(sort $(wildcard formats/*/*.c quant/*.c ref/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libqwenkit.a

# cli/qwen-X.c is tool X's main; cli/X_*.c are its own parts; every other
# cli/*.c is shared by all tools.
TOOL_NAMES := inspect convert quant verify
TOOLS    := $(TOOL_NAMES:%=qwen-%)
CLI_PART_SRC := $(foreach t,$(TOOL_NAMES),$(wildcard cli/$(t)_*.c))
CLI_COMMON_SRC := $(filter-out $(TOOLS:%=cli/%.c) $(CLI_PART_SRC),$(sort $(wildcard cli/*.c)))
CLI_COMMON_OBJ := $(CLI_COMMON_SRC:%.c=$(BUILD)/%.o)
BINS     := $(TOOLS:%=$(BINDIR)/%)

TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_HELPER_SRC := $(filter-out $(TEST_SRC),$(sort $(wildcard tests/unit/*.c)))
# the corrupt-case writers: unit tests compile case tables in (test_gguf.c ...)
TEST_HELPER_OBJ := $(TEST_HELPER_SRC:%.c=$(BUILD)/%.o) $(BUILD)/testdata/corrupt/cc_util.o
TEST_BINS := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

CORRUPT_SRC := $(sort $(wildcard testdata/corrupt/*.c))
CORRUPT_OBJ := $(CORRUPT_SRC:%.c=$(BUILD)/%.o)
CORRUPT_GEN := $(BUILD)/corrupt-gen

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BUILD := build-fuzz
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

.PHONY: all deps check test test-fast build-tests mutants demo fuzz install uninstall clean bench crosscheck soak
# keep objects make would treat as intermediate (test programs, tools)
.SECONDARY:
all: $(BINS)

# ---- set-up: Debian packages (as root) ----
DEB_PKGS := libcmocka-dev libzip-dev libcjson-dev libyaml-dev zlib1g-dev pkg-config clang unzip
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "deps: need root to install:$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi

# ---- compile ----
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# --version names the commit a binary was built from: build/gen/version.h is
# rewritten only when the commit (or the dirty state of the tree) changes
QK_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo +dirty)
.PHONY: FORCE
$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@v='#define QK_COMMIT "$(or $(QK_COMMIT),unknown)"'; \
	  [ -f $@ ] && [ "$$(cat $@)" = "$$v" ] || echo "$$v" >$@
$(BUILD)/cli/common.o: $(BUILD)/gen/version.h
$(BUILD)/cli/common.o: CFLAGS_ALL += -I$(BUILD)/gen

define TOOL_RULE
$(BINDIR)/qwen-$(1): $(BUILD)/cli/qwen-$(1).o $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard cli/$(1)_*.c))) $(CLI_COMMON_OBJ) $(LIB)
	@mkdir -p $$(dir $$@)
	@echo "  LINK    $$@"
	$$(Q)$$(CC) $$(LDFLAGS_ALL) -o $$@ $$(filter %.o,$$^) $$(LIB) $$(LDLIBS_ALL)
endef
$(foreach t,$(TOOL_NAMES),$(eval $(call TOOL_RULE,$(t))))

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TEST_HELPER_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $< $(TEST_HELPER_OBJ) $(LIB) $(CMOCKA_LIBS) $(LDLIBS_ALL)

# test-only helper programs (tests/tools/X.c -> $(BUILD)/tools/X), built on
# demand by the CLI suites that use them
$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL)

$(CORRUPT_GEN): $(CORRUPT_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(CORRUPT_OBJ) $(LIB) $(LDLIBS_ALL)

# ---- tests ----
# the build inside check uses both cores whatever make was called with
check: deps
	@$(MAKE) --no-print-directory -j2 test

test: $(BINS) $(TEST_BINS) $(CORRUPT_GEN) $(BUILD)/faultinj.so
	@BUILD=$(BUILD) BINDIR=$(BINDIR) sh tests/run.sh $(TEST_BINS)

# the LD_PRELOAD fault injector of tests/cli/faults.sh (write/fsync/rename/
# link failures on demand); plain C, never linked into a tool
$(BUILD)/faultinj.so: tests/fault/faultinj.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -O1 -fPIC -shared -o $@ $< -ldl

# the fault suite with many random kill points per command and signal
# (tests/cli/faults.sh; make check runs one round)
SOAK_ROUNDS ?= 25
soak: $(BINS) $(BUILD)/faultinj.so
	@QK_SOAK_ROUNDS=$(SOAK_ROUNDS) BUILD=$(BUILD) BINDIR=$(BINDIR) sh tests/cli/faults.sh | \
	  tee $(BUILD)/soak.log | grep -v '^ok' ; \
	  echo "soak: $$(grep -c '^ok' $(BUILD)/soak.log) passed, $$(grep -c '^not ok' $(BUILD)/soak.log) failed"; \
	  ! grep -q '^not ok' $(BUILD)/soak.log

# The fast suite (make mutants runs it per mutant): every unit test program
# and every CLI suite except determinism.sh, which rebuilds the library at
# -O0 (tests/README.md). QK_FAIL_FAST=1 stops at the first failure.
FAST_CLI := $(filter-out determinism,$(basename $(notdir $(wildcard tests/cli/*.sh))))
build-tests: $(BINS) $(TEST_BINS) $(CORRUPT_GEN) $(BUILD)/faultinj.so
test-fast: build-tests
	@BUILD=$(BUILD) BINDIR=$(BINDIR) QK_CLI="$(FAST_CLI)" sh tests/run.sh $(TEST_BINS)

# every tests/mutants/*.patch (tests/README.md); MUTANT_JOBS=2 at a time
mutants:
	@sh tests/mutants/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@BINDIR=$(BINDIR) sh tests/demo.sh

# ---- fuzzing (clang + libFuzzer) ----
FUZZ_CFLAGS := $(WARN) -O1 -g -ffp-contract=off -D_POSIX_C_SOURCE=200809L $(PKG_CFLAGS) \
	-fsanitize=fuzzer-no-link,address,undefined
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
$(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o $(LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS_ALL)
fuzz: $(FUZZ_BINS)
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_BINS)

# ---- benchmarks (speed and memory are measured, never asserted) ----
# tests/bench/X.c -> $(BUILD)/bench/X (generators); every tests/bench/*.sh runs
$(BUILD)/bench/%: $(BUILD)/tests/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL)
BENCH_GEN := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(wildcard tests/bench/*.c))
# then the table of every figure beside its peer (tests/bench/table.awk)
bench: $(BINS) $(BENCH_GEN)
	@rm -rf $(BUILD)/bench/rows
	@for s in tests/bench/*.sh; do BUILD=$(BUILD) BINDIR=$(BINDIR) sh "$$s" || exit 1; done
	@echo; echo "make bench: each figure beside its peer, from this run"
	@cat $(BUILD)/bench/rows/*.tsv 2>/dev/null | awk -f tests/bench/table.awk

# ---- cross-checks against reference implementations (llama.cpp, gguf-py) ----
# Every testdata/gen/*_crosscheck.py runs under the llama.cpp venv
# (GGML_PY, testdata/quant/README.md) with --bin $(BINDIR); each script's
# docstring says what it checks. Skipped, not failed, without the venv.
GGML_PY ?= .venv-ggml/bin/python
crosscheck: $(BINS)
	@if [ ! -x "$(GGML_PY)" ]; then echo "crosscheck: no $(GGML_PY), skipped"; exit 0; fi; \
	fail=0; for s in testdata/gen/*_crosscheck.py; do [ -f "$$s" ] || continue; \
	  echo "== $$s"; "$(GGML_PY)" "$$s" --bin $(BINDIR) || fail=1; done; exit $$fail

# ---- install ----
install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(PREFIX)/share/doc/qwenkit/examples
	install -m 644 man/examples/*.yaml $(DESTDIR)$(PREFIX)/share/doc/qwenkit/examples/

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(PREFIX)/bin/%) $(TOOLS:%=$(DESTDIR)$(PREFIX)/share/man/man1/%.1)
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/qwenkit

clean:
	rm -rf build build-san $(FUZZ_BUILD) bin

-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
