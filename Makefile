# kmodsim: the two commands of the README's quick start, and a few more.
#   make run    install missing packages, build, run the flagship experiment, write plots
#   make test   install missing packages, build, run every test through ctest
PYTHON  ?= /usr/bin/python3
BUILD   ?= build
JOBS    ?= $(shell nproc)
RESULTS ?= results

.PHONY: all deps build run test test-online test-slurm asan bench proptest validation capacity clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: build
	scripts/flagship.sh $(BUILD)/kmodsim $(RESULTS)/flagship

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE online

# Opt-in: downloads a Debian 12 kernel package and checks the importer against it (docs/import.md).
test-online: build
	cmake -S . -B $(BUILD) -DKMODSIM_ONLINE_TESTS=ON
	cd $(BUILD) && ctest --output-on-failure -L online

# Opt-in, as root: a real single-node Slurm (Debian's slurmctld, slurmd, munge; generated
# slurm.conf in a temp dir) runs a sweep with --executor slurm (scripts/test-slurm.sh).
test-slurm: build
	scripts/test-slurm.sh $(BUILD)/kmodsim

asan: deps
	cmake --preset asan
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

# More random scenarios than make test runs: make proptest N=5000 [SEED=1]; the sanitized
# generator too when the build has it (proptest_asan).
N    ?= 2000
SEED ?= 1
proptest: build
	$(BUILD)/tests/proptest --cases $(N) --seed $(SEED) configs/scenarios/desktop-2009.yaml tests/e2e/configs/rusty-base.yaml
	cmake --build $(BUILD) -j $(JOBS) --target proptest_asan
	$(BUILD)/tests/proptest_asan --cases $(N) --seed $(SEED) configs/scenarios/desktop-2009.yaml tests/e2e/configs/rusty-base.yaml

bench: build
	scripts/bench.sh $(BUILD)/kmodsim $(if $(MODULES_DIR),--modules-dir $(MODULES_DIR))
	/usr/bin/python3 scripts/bench_sweep.py $(BUILD)/kmodsim
	/usr/bin/python3 scripts/bench_scale.py $(BUILD)/kmodsim --tsv
	/usr/bin/python3 scripts/bench_scale.py $(BUILD)/kmodsim --no-queue

# The capacity what-ifs (README "What-if findings"): 1,008 runs, 2-3 min on 2 cores; a second
# call reuses the finished runs (delete results/capacity to run them again), or starts over when the
# configuration files changed since (--force).
capacity: build
	$(BUILD)/kmodsim sweep experiments/capacity.yaml --out $(RESULTS)/capacity --resume --force --quiet-progress
	$(PYTHON) analysis/plot_capacity.py $(RESULTS)/capacity/runs.csv --at 2,64,1024,2048

# Simulated against real threads on real cores (README "How far to trust it"); not a test.
validation: build
	/usr/bin/python3 experiments/validation.py --kmodsim $(BUILD)/kmodsim --out results/validation

clean:
	rm -rf $(BUILD) build-asan build-debug
