# emsync — plain Makefile. Targets:
#   make            build ./emsync (optimised)            make test    all tests, plain and ASan+UBSan
#   make debug      build build-debug/emsync (ASan+UBSan)  make bench   speed and memory figures
#   make fuzz       libFuzzer harnesses, short runs        make clean
#   make train POP909=DIR   retrain the bundled model (models/emsync-pop909.pt)
#   make install [PREFIX=/usr/local] [DESTDIR=]   make uninstall (the same PREFIX and DESTDIR)
# Every src/<stage>/*.c goes into libemsync.a and libemsync.so; every tests/test_*.c is one test
# program.

# The one version: the binary (emsync --version), emsync_version(), emsync.pc and the man page.
VERSION := 0.9.0
SOMAJOR := 0

CC      ?= cc
BUILD   ?= build
PKGS    := libavformat libavcodec libavutil libswscale libswresample fluidsynth libebur128
# only the binary's `serve` needs an HTTP server; the library does not link it
CLI_PKGS := libmicrohttpd
SYSLIBS := -lm -lpthread
DEBUG_OPT := -O1 -fno-omit-frame-pointer
DEBUG_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
# build-debug is the sanitizer build whichever target builds into it (make install BUILD=build-debug)
ifeq ($(BUILD),build-debug)
OPT     ?= $(DEBUG_OPT)
SAN     ?= $(DEBUG_SAN)
endif
OPT     ?= -O2 -march=native
SAN     ?=
CFLAGS  += -std=c11 -g $(OPT) $(SAN) -Wall -Wextra -Wshadow -Wno-unused-parameter \
           -D_GNU_SOURCE -Iinclude -Isrc $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) $(SYSLIBS)
LDFLAGS += $(SAN)

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
DATAROOTDIR ?= $(PREFIX)/share
MANDIR      ?= $(DATAROOTDIR)/man
PKGDATADIR  ?= $(DATAROOTDIR)/emsync
DOCDIR      ?= $(DATAROOTDIR)/doc/emsync
COMPLETIONDIR ?= $(DATAROOTDIR)/bash-completion/completions
PKGCONFIGDIR  ?= $(LIBDIR)/pkgconfig
# the face-api weights are not in the repository: copied from FACE_MODELS=DIR, else from where
# scripts/install-face-models.sh put them (never downloaded by make install)
FACE_MODELS ?=
SONAME  := libemsync.so.$(SOMAJOR)
SHLIB   := libemsync.so.$(VERSION)

LIB_SRC  := $(sort $(filter-out src/cli/%,$(wildcard src/*/*.c)))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
PIC_OBJ  := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o) $(BUILD)/web_assets.o
WEB_FILES := web/index.html web/app.css web/app.js
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all debug test test-plain test-debug bench fuzz train clean install uninstall
.DEFAULT_GOAL := all

all: emsync $(BUILD)/$(SHLIB) $(BUILD)/emsync.1

emsync: $(BUILD)/emsync
	cp $< $@

$(BUILD)/emsync: $(CLI_OBJ) $(BUILD)/libemsync.a
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(CLI_PKGS)) $(LDLIBS)

$(CLI_OBJ): CFLAGS += $(shell pkg-config --cflags $(CLI_PKGS))

# the page that `emsync serve` serves, compiled into the binary
$(BUILD)/web_assets.c: $(WEB_FILES) scripts/embed-web.sh
	@mkdir -p $(dir $@)
	scripts/embed-web.sh $@ $(WEB_FILES)

$(BUILD)/web_assets.o: $(BUILD)/web_assets.c src/cli/web_assets.h
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libemsync.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# The shared library gets its own position-independent objects, so the static library and the
# binary stay exactly as they were. Only the emsync_* API is exported.
$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(BUILD)/$(SHLIB): $(PIC_OBJ) packaging/libemsync.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=packaging/libemsync.map -Wl,--no-undefined \
	    $(LDFLAGS) -o $@ $(PIC_OBJ) $(LDLIBS)

$(BUILD)/src/pipeline/api.o $(BUILD)/pic/src/pipeline/api.o: CFLAGS += -DES_VERSION='"$(VERSION)"'
$(BUILD)/src/pipeline/api.o $(BUILD)/pic/src/pipeline/api.o: Makefile

# The man page is the --help texts, turned into roff.
$(BUILD)/emsync.1: $(BUILD)/emsync scripts/make-man.sh
	scripts/make-man.sh $(BUILD)/emsync >$@.tmp
	mv $@.tmp $@

$(BUILD)/tests/%: tests/%.c $(BUILD)/libemsync.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(BUILD)/libemsync.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libemsync.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libemsync.a $(LDFLAGS) $(LDLIBS)

debug:
	$(MAKE) BUILD=build-debug OPT="$(DEBUG_OPT)" SAN="$(DEBUG_SAN)" build-debug/emsync

# The test command: the whole suite on the optimised build, then again under ASan + UBSan.
test: test-plain test-debug

test-plain: $(BUILD)/emsync $(BUILD)/$(SHLIB) $(BUILD)/emsync.1 $(TEST_BIN)
	tests/run.sh $(BUILD)

test-debug:
	$(MAKE) BUILD=build-debug OPT="$(DEBUG_OPT)" SAN="$(DEBUG_SAN)" test-plain

bench: $(BUILD)/emsync $(BENCH_BIN)
	bench/run.sh $(BUILD)

fuzz:
	tests/fuzz/run.sh

# Retrains the bundled model: make train POP909=DIR [TRAIN_ARGS="--device cuda"]
train: emsync
	@test -n "$(POP909)" || { echo "usage: make train POP909=DIR (the POP909 folder with 001/ ... 909/)"; exit 2; }
	scripts/train-bundled.sh "$(POP909)" build/train -- $(TRAIN_ARGS)

# Every file install writes but the face models (scripts/install-face-models.sh --list names those).
INSTALLED := $(BINDIR)/emsync $(LIBDIR)/libemsync.a $(LIBDIR)/$(SHLIB) $(LIBDIR)/$(SONAME) \
             $(LIBDIR)/libemsync.so $(INCLUDEDIR)/emsync.h $(PKGCONFIGDIR)/emsync.pc \
             $(MANDIR)/man1/emsync.1 $(COMPLETIONDIR)/emsync $(PKGDATADIR)/models/emsync-pop909.pt \
             $(DOCDIR)/LICENSE $(DOCDIR)/NOTICE

# a directory as emsync.pc writes it: ${prefix}/... when under PREFIX, so the file relocates
under_prefix = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

install: $(BUILD)/emsync $(BUILD)/libemsync.a $(BUILD)/$(SHLIB) $(BUILD)/emsync.1
	install -d $(addprefix $(DESTDIR),$(BINDIR) $(LIBDIR) $(INCLUDEDIR) $(PKGCONFIGDIR) $(MANDIR)/man1 \
	    $(COMPLETIONDIR) $(PKGDATADIR)/models $(DOCDIR))
	install -m 0755 $(BUILD)/emsync $(DESTDIR)$(BINDIR)/emsync
	install -m 0644 $(BUILD)/libemsync.a $(DESTDIR)$(LIBDIR)/libemsync.a
	install -m 0644 $(BUILD)/$(SHLIB) $(DESTDIR)$(LIBDIR)/$(SHLIB)
	ln -sf $(SHLIB) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libemsync.so
	install -m 0644 include/emsync.h $(DESTDIR)$(INCLUDEDIR)/emsync.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call under_prefix,$(LIBDIR))|' \
	    -e 's|@INCLUDEDIR@|$(call under_prefix,$(INCLUDEDIR))|' -e 's|@PKGDATADIR@|$(call under_prefix,$(PKGDATADIR))|' \
	    -e 's|@VERSION@|$(VERSION)|' -e 's|@PKGS@|$(PKGS)|' -e 's|@SYSLIBS@|$(SYSLIBS)|' \
	    packaging/emsync.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/emsync.pc
	install -m 0644 $(BUILD)/emsync.1 $(DESTDIR)$(MANDIR)/man1/emsync.1
	install -m 0644 packaging/emsync.bash-completion $(DESTDIR)$(COMPLETIONDIR)/emsync
	install -m 0644 models/emsync-pop909.pt $(DESTDIR)$(PKGDATADIR)/models/emsync-pop909.pt
	scripts/install-face-models.sh --copy-to $(DESTDIR)$(PKGDATADIR)/models $(FACE_MODELS)
	install -m 0644 LICENSE NOTICE $(DESTDIR)$(DOCDIR)

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED)) \
	    $(addprefix $(DESTDIR)$(PKGDATADIR)/models/,$(shell scripts/install-face-models.sh --list))
	rmdir $(addprefix $(DESTDIR),$(PKGDATADIR)/models $(PKGDATADIR) $(DOCDIR)) 2>/dev/null || true

clean:
	rm -rf build build-debug build-fuzz emsync

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(PIC_OBJ:.o=.d)
