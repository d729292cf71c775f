# The two commands: `make run` serves, `make test` runs every test tier. Both install what is missing.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= 2
WERROR := $(if $(filter true,$(CI)),ON,OFF)

.PHONY: all deps build run test test-unit test-integration test-asan test-tsan docker-build docker-run docker-test bench fuzz clean

all: build

deps:
	bash scripts/setup.sh

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DDOCKERFLOW_WARNINGS_AS_ERRORS=$(WERROR)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	bash scripts/run-dev.sh

# Every tree (build, build-asan, build-tsan, build-fuzz) is built by scripts/test.sh, beside the
# Docker tiers (see its header).
test: deps
	BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) WERROR=$(WERROR) bash scripts/test.sh

test-unit: deps
	BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) WERROR=$(WERROR) TEST_TIERS=unit bash scripts/test.sh

test-integration: deps
	BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) WERROR=$(WERROR) TEST_TIERS=integration bash scripts/test.sh

test-asan: deps
	JOBS=$(JOBS) WERROR=$(WERROR) TEST_TIERS=asan bash scripts/test.sh

test-tsan: deps
	JOBS=$(JOBS) WERROR=$(WERROR) TEST_TIERS=tsan bash scripts/test.sh

docker-build:
	bash scripts/docker/build.sh

docker-run:
	bash scripts/docker/up.sh $(UP_ARGS)

docker-test:
	bash scripts/docker/test.sh

# Only the service is built; DOCKERFLOW_APP=/path/to/dockerflow-app benchmarks another binary. Knobs
# (BENCH_DURATION, BENCH_ROUNDS, BENCH_CONNECTIONS, …): docs/benchmarks.md.
bench: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS) --target dockerflow-app
	DOCKERFLOW_APP="$${DOCKERFLOW_APP:-$(BUILD_DIR)/dockerflow-app}" bash bench/run.sh

# Long runs: `make fuzz FUZZ_RUNS=10000000` (or FUZZ_SECONDS=…); each target keeps a growing corpus in
# build-fuzz/corpus/<name>, seeded from tests/fuzz/corpus/<name>. The `fuzz` test tier runs a short smoke.
# tests/fuzz/<name>.flags adds a target's own libFuzzer flags (docs/fuzzing.md says why).
FUZZ_SECONDS ?= 30
FUZZ_RUNS ?= -1
fuzz:
	SETUP_EXTRA_PACKAGES="clang libclang-rt-14-dev" bash scripts/setup.sh
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DDOCKERFLOW_FUZZ=ON -DDOCKERFLOW_BUILD_TESTS=OFF
	cmake --build build-fuzz -j$(JOBS) --target config_fuzzer version_fuzzer mozlog_fuzzer request_fuzzer
	for f in config version mozlog request; do mkdir -p build-fuzz/corpus/$$f build-fuzz/artifacts; \
	  build-fuzz/tests/fuzz/$${f}_fuzzer -max_total_time=$(if $(filter -1,$(FUZZ_RUNS)),$(FUZZ_SECONDS),0) -runs=$(FUZZ_RUNS) \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/ $$(cat tests/fuzz/$$f.flags 2>/dev/null) \
	    build-fuzz/corpus/$$f tests/fuzz/corpus/$$f || exit 1; done

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan
