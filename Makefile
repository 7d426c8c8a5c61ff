# zoosh - a terminal workstation for labeling galaxy images with active learning.
# Plain Makefile.  Layers: tui/ -> core/ -> store/ (includes only go down).
#   make              build ./zoosh
#   make test         build and run every test; last line "N passed, N failed, N skipped"
#   make bench        the benchmark report (ratios against peers; installs them as root)
#   make demo         install packages (as root), build, open the labeler on sample data
#   make SANITIZE=address test    (or undefined, or thread)
#   make WERROR=1     warnings are errors (CI)
#   make install PREFIX=/usr/local [DESTDIR=...]   binary, encoder, man page, completion
#   make uninstall PREFIX=...                      removes what install put there

CC      ?= cc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-psabi
ifeq ($(WERROR),1)
WARN    += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif
# Include and library flags from pkg-config (Debian's multiarch paths are not
# spelled out here); libcsv ships no .pc file.
PKG_CONFIG ?= pkg-config
DEPS_CORE  = libpng16 libdeflate libjpeg cfitsio hdf5-serial libcjson openblas zlib
DEPS_TUI   = ncursesw libsixel
DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEPS_CORE) libsixel)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread -I. $(DEPS_CFLAGS) $(WARN) $(CFLAGS) -MMD -MP

LIBS_STORE := $(shell $(PKG_CONFIG) --libs lmdb)
LIBS_CORE  := $(shell $(PKG_CONFIG) --libs $(DEPS_CORE)) -lcsv -lm
LIBS_TUI   := $(shell $(PKG_CONFIG) --libs $(DEPS_TUI))
LIBS       = $(LIBS_TUI) $(LIBS_CORE) $(LIBS_STORE) -pthread

B = build
ZOOSH = zoosh
# hardening (issue 6): a sanitizer build lives apart (build-address/,
# build-undefined/, its zoosh inside) so it never mixes objects with the plain
# build; `make SANITIZE=... test` points the tests at it (ZT_ZOOSH, ZT_ZT).
ifneq ($(SANITIZE),)
B = build-$(SANITIZE)
ZOOSH = $(B)/zoosh
export ASAN_OPTIONS ?= detect_leaks=0:abort_on_error=0
export UBSAN_OPTIONS ?= print_stacktrace=1
export TSAN_OPTIONS ?= suppressions=$(abspath tests/tsan.supp):second_deadlock_stack=1
endif
STORE_SRC := $(wildcard store/*.c)
CORE_SRC  := $(wildcard core/*.c)
TUI_SRC   := $(filter-out tui/main.c,$(wildcard tui/*.c tui/*/*.c))
TEST_SRC  := $(wildcard tests/t_*.c)
STORE_OBJ := $(STORE_SRC:%.c=$(B)/%.o)
CORE_OBJ  := $(CORE_SRC:%.c=$(B)/%.o)
TUI_OBJ   := $(TUI_SRC:%.c=$(B)/%.o)
TEST_OBJ  := $(TEST_SRC:%.c=$(B)/%.o) $(B)/tests/zt.o

.PHONY: all test bench bench-deps bench-flags demo deps clean fixtures fuzz layers pretrain quality docs install uninstall
all: $(ZOOSH)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/libzstore.a: $(STORE_OBJ)
	ar rcs $@ $^
$(B)/libzcore.a: $(CORE_OBJ)
	ar rcs $@ $^
$(B)/libztui.a: $(TUI_OBJ)
	ar rcs $@ $^

$(ZOOSH): $(B)/tui/main.o $(B)/libztui.a $(B)/libzcore.a $(B)/libzstore.a
	$(CC) $(LDFLAGS) -o $@.tmp $^ $(LIBS) && mv -f $@.tmp $@

# Every tests/t_NAME.c defines the table zt_suite_NAME; the list is generated
# from the file names so adding a test file needs no edit here.
$(B)/tests/suites.h: $(TEST_SRC)
	@mkdir -p $(B)/tests
	@for f in $(TEST_SRC); do n=$$(basename $$f .c); echo "ZT_SUITE($${n#t_})"; done > $@.tmp && \
	  (cmp -s $@.tmp $@ || mv $@.tmp $@); rm -f $@.tmp
$(B)/tests/zt.o: tests/zt.c $(B)/tests/suites.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(B)/tests -c $< -o $@
$(B)/zt: $(TEST_OBJ) $(B)/libztui.a $(B)/libzcore.a $(B)/libzstore.a
	$(CC) $(LDFLAGS) -o $@.tmp $^ $(LIBS) && mv -f $@.tmp $@

# TESTS picks parts: "unit sh/label_tmux ..." (default: everything)
test: $(ZOOSH) $(B)/zt
	@ZT_ZOOSH=$(abspath $(ZOOSH)) ZT_ZT=$(abspath $(B)/zt) tests/run.sh $(TESTS)

layers:
	@tests/sh/layers.sh

# `make bench` first installs (as root) or names the peers it compares with
# (tools/deps.sh all); without them it goes on and the rows say what is missing.
bench: bench-deps $(ZOOSH) $(B)/libzcore.a $(B)/libzstore.a
	@tools/bench.sh

bench-deps:
	@tools/deps.sh all || echo "bench: going on without them; the rows whose peer is missing say so" >&2

# The flags tools/bench/*.sh compile their C drivers with, as shell
# assignments (eval "$$(make -s bench-flags)"): the include and library paths
# come from pkg-config here, in one place.
bench-flags:
	@echo "BENCH_CFLAGS='-std=c11 -D_GNU_SOURCE -pthread -I. $(strip $(DEPS_CFLAGS))'"
	@echo "BENCH_LIBS='$(B)/libzcore.a $(B)/libzstore.a $(strip $(LIBS_CORE) $(LIBS_STORE)) -pthread'"

deps:
	@tools/deps.sh

demo: deps zoosh
	./zoosh demo

fixtures:
	/usr/bin/python3 tools/make_fixtures.py

# zoosh's own encoder (issues 5, 18): a small ConvNeXt trained by `zoosh
# pretrain` (docs/encoder.md, "zoosh's own encoder"), fixed seed, never on
# the three validation sets, each listed in its own --exclude file that the
# encoder's metadata names: the GZ2 ring-vote set (tools/gz2_ringval.sh), the
# GZ2 vote-RMSE split (tools/gz2_split.sh: ids with id % 10 == 3 not in the
# ring-vote set, the split tools/quality.sh reports on) and the DECaLS tag
# validation quarter (tools/tags_val.sh) when the tags are trained on.
PRETRAIN_EPOCHS ?= 30
PRETRAIN_DIMS ?= 40,80,160,320
PRETRAIN_ARGS ?= --jitter 1 --zoom 0.75,1.33
PRETRAIN_DATA = $${ZT_SHARED:-../shared/data}
PRETRAIN_CATALOGS ?= $(PRETRAIN_DATA)/kaggle_gz2_votes/catalog.csv
pretrain: zoosh
	@mkdir -p sample_data $(B)
	tools/gz2_ringval.sh > $(B)/gz2_ringval.ids
	tools/gz2_split.sh > $(B)/gz2_rmse.ids
	tools/tags_val.sh > $(B)/tags_val.ids
	nice ./zoosh pretrain --epochs $(PRETRAIN_EPOCHS) --dims $(PRETRAIN_DIMS) --seed 1 $(PRETRAIN_ARGS) \
	  --exclude $(B)/gz2_ringval.ids --exclude $(B)/gz2_rmse.ids \
	  $(if $(findstring decals_dr5_tagged,$(PRETRAIN_CATALOGS)),--exclude $(B)/tags_val.ids) \
	  --out sample_data/encoder.safetensors $(PRETRAIN_CATALOGS)

# issue 18's figures, each with its noise and time (tools/quality.sh,
# docs/encoder.md "Measuring quality"): the plain user commands on
# ../shared/data.  About 2 minutes on 2 cores; not part of `make test`.
quality: zoosh
	tools/quality.sh $(QUALITY_ARGS)

# ---- install (issue 20): PREFIX/bin/zoosh finds its encoder in
# PREFIX/share/zoosh/ (cmd_sample_dir).  The man page and the completions are
# made from the binary itself (--help, --list-options: tools/mkman.sh,
# tools/mkcompletion.sh), so they never disagree with it.
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
DATADIR  = $(PREFIX)/share
MAN1DIR  = $(DATADIR)/man/man1
BASHCOMPDIR = $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  = $(DATADIR)/zsh/site-functions
DOCS = $(B)/doc/zoosh.1 $(B)/doc/zoosh.bash $(B)/doc/_zoosh
docs: $(DOCS)
$(B)/doc/zoosh.1: $(ZOOSH) tools/mkman.sh
	@mkdir -p $(dir $@)
	tools/mkman.sh $(abspath $(ZOOSH)) > $@.tmp && mv -f $@.tmp $@
$(B)/doc/zoosh.bash: $(ZOOSH) tools/mkcompletion.sh
	@mkdir -p $(dir $@)
	tools/mkcompletion.sh $(abspath $(ZOOSH)) bash > $@.tmp && mv -f $@.tmp $@
$(B)/doc/_zoosh: $(ZOOSH) tools/mkcompletion.sh
	@mkdir -p $(dir $@)
	tools/mkcompletion.sh $(abspath $(ZOOSH)) zsh > $@.tmp && mv -f $@.tmp $@

install: $(ZOOSH) $(DOCS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/zoosh $(DESTDIR)$(MAN1DIR) \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(ZOOSH) $(DESTDIR)$(BINDIR)/zoosh
	install -m 644 sample_data/encoder.safetensors $(DESTDIR)$(DATADIR)/zoosh/encoder.safetensors
	install -m 644 $(B)/doc/zoosh.1 $(DESTDIR)$(MAN1DIR)/zoosh.1
	install -m 644 $(B)/doc/zoosh.bash $(DESTDIR)$(BASHCOMPDIR)/zoosh
	install -m 644 $(B)/doc/_zoosh $(DESTDIR)$(ZSHCOMPDIR)/_zoosh

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/zoosh $(DESTDIR)$(DATADIR)/zoosh/encoder.safetensors \
	  $(DESTDIR)$(MAN1DIR)/zoosh.1 $(DESTDIR)$(BASHCOMPDIR)/zoosh $(DESTDIR)$(ZSHCOMPDIR)/_zoosh
	-rmdir $(DESTDIR)$(DATADIR)/zoosh 2>/dev/null || true

# ---- hardening (issue 6): `make fuzz` builds tests/fuzz/fuzz_*.c with clang
# (libFuzzer + ASan/UBSan) into build-fuzz/ and runs each target FUZZ_SECONDS
# (default 30); crash/hang inputs land in tests/fuzz/regress/ and `make test`
# replays them (tests/t_fuzzreplay.c).
fuzz:
	@tools/fuzz.sh


clean:
	rm -rf $(B) zoosh

-include $(shell find $(B) -name '*.d' 2>/dev/null)
