# SPDX-License-Identifier: MIT
# Thin wrapper over Meson: the targets are what people type.

BUILD ?= build
TEST_BUILD ?= build-test
FUZZ_BUILD ?= build-fuzz
VALGRIND_BUILD ?= build-valgrind
MESON ?= meson

.PHONY: all deps run test unit bench fuzz crash valgrind format clean

all: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@scripts/deps.sh build

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized

# Builds, creates ./var with account demo/demo when missing, and starts
# the server on loopback in the foreground.
run: all
	scripts/run-demo.sh $(BUILD)/commune

# Sanitizer build (ASan + UBSan) and every test; last line "N passed, M failed".
test:
	@scripts/deps.sh build test
	@[ -f $(TEST_BUILD)/build.ninja ] || $(MESON) setup $(TEST_BUILD) \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dwerror=true --buildtype=debug
	ninja -C $(TEST_BUILD)
	tests/run-all.sh $(TEST_BUILD)

bench: all
	@scripts/deps.sh build bench
	bench/run.sh $(BUILD)

fuzz:
	@scripts/deps.sh build fuzz
	@[ -f $(FUZZ_BUILD)/build.ninja ] || CC=clang-14 $(MESON) setup \
		$(FUZZ_BUILD) -Dfuzz=true -Dtests=false --buildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false
	ninja -C $(FUZZ_BUILD)
	fuzz/run.sh $(FUZZ_BUILD) $${FUZZ_SECONDS:-60}

crash: all
	/usr/bin/python3 tests/crash/crash_harness.py --build $(BUILD) \
		--rounds $${CRASH_ROUNDS:-200}

# The store's unit tests under valgrind (a build without sanitizers).
valgrind:
	@[ -f $(VALGRIND_BUILD)/build.ninja ] || $(MESON) setup \
		$(VALGRIND_BUILD) --buildtype=debug -Db_sanitize=none
	ninja -C $(VALGRIND_BUILD)
	/usr/bin/python3 tests/valgrind/valgrind_store.py $(VALGRIND_BUILD)

format:
	clang-format -i src/*/*.c src/*/*.h

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD)
