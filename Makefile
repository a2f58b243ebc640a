# emsync — plain Makefile. Targets:
#   make            build ./emsync (optimised)            make test    all tests, plain and ASan+UBSan
#   make debug      build build-debug/emsync (ASan+UBSan)  make bench   speed and memory figures
#   make fuzz       libFuzzer harnesses, short runs        make clean
#   make train POP909=DIR   retrain the bundled model (models/emsync-pop909.pt)
# Every src/<stage>/*.c goes into libemsync.a; every tests/test_*.c is one test program.

CC      ?= cc
BUILD   ?= build
PKGS    := libavformat libavcodec libavutil libswscale libswresample fluidsynth libebur128
OPT     ?= -O2 -march=native
SAN     ?=
CFLAGS  += -std=c11 -g $(OPT) $(SAN) -Wall -Wextra -Wshadow -Wno-unused-parameter \
           -D_GNU_SOURCE -Iinclude -Isrc $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lm -lpthread
LDFLAGS += $(SAN)

LIB_SRC  := $(sort $(filter-out src/cli/%,$(wildcard src/*/*.c)))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all debug test test-plain test-debug bench fuzz train clean
.DEFAULT_GOAL := all

all: emsync

emsync: $(BUILD)/emsync
	cp $< $@

$(BUILD)/emsync: $(CLI_OBJ) $(BUILD)/libemsync.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libemsync.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/libemsync.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(BUILD)/libemsync.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libemsync.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libemsync.a $(LDFLAGS) $(LDLIBS)

debug:
	$(MAKE) BUILD=build-debug OPT="-O1 -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" build-debug/emsync

# The test command: the whole suite on the optimised build, then again under ASan + UBSan.
test: test-plain test-debug

test-plain: $(BUILD)/emsync $(TEST_BIN)
	tests/run.sh $(BUILD)

test-debug:
	$(MAKE) BUILD=build-debug OPT="-O1 -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" test-plain

bench: $(BUILD)/emsync $(BENCH_BIN)
	bench/run.sh $(BUILD)

fuzz:
	tests/fuzz/run.sh

# Retrains the bundled model: make train POP909=DIR [TRAIN_ARGS="--device cuda"]
train: emsync
	@test -n "$(POP909)" || { echo "usage: make train POP909=DIR (the POP909 folder with 001/ ... 909/)"; exit 2; }
	scripts/train-bundled.sh "$(POP909)" build/train -- $(TRAIN_ARGS)

clean:
	rm -rf build build-debug build-fuzz emsync

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
