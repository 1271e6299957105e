#!/bin/bash
# On a GPU machine (CUDA, nvcc, PyTorch with CUDA, CMake, ninja; run from the repository root with
# the .gpu/ folder docs/gpu_pack.sh made): builds iclr against python3's CUDA LibTorch, runs the
# cosFormer kernels' test, then each sweep's ci profile on the GPU and on the CPU and compares them
# (docs/device_compare.py). Logs go to $OUT (else /tmp/gpu-check), databases to /tmp/gpu-check.
#   bash docs/gpu_check.sh sweeps/forgetting_vs_scale.toml sweeps/vit_sam.toml ...
# A plugin that does not compile there is left out (its CMakeLists.txt removed in that copy of the
# tree) and named, so the rest still runs. Sweeps run six at once (GPU and CPU runs side by side),
# each capped at ICLR_GPU_SWEEP_S seconds. No `wait` without a pid: the log's tee is a child.
set -u
O=${OUT:-/tmp/gpu-check}
W=/tmp/gpu-check
mkdir -p "$O" "$W"
exec > >(tee "$O/log.txt") 2>&1
R=$PWD K=$PWD/.gpu/prefix B=${ICLR_GPU_BUILD:-/tmp/iclr-cuda} J=$(nproc) S=${ICLR_GPU_SWEEP_S:-120}
T=$(python3 -c "import torch, os; print(os.path.dirname(torch.__file__))")
mkdir -p "$W/data" && tar -xJf .gpu/data.tar.xz -C "$W/data" &
untar=$!
start=$(date +%s)
if [ ! -f "$B/build.ninja" ]; then
    cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DICLR_WITH_CUDA=ON -DICLR_BUILD_TESTS=OFF \
        -DCMAKE_CUDA_ARCHITECTURES=90 -DICLR_CUDA_ARCHITECTURES=90 -DTORCH_CUDA_ARCH_LIST=9.0 \
        -DCMAKE_PREFIX_PATH="$K;$T/share/cmake" -DSQLite3_INCLUDE_DIR="$K/include" \
        -DSQLite3_LIBRARY=/lib/x86_64-linux-gnu/libsqlite3.so.0 > "$O/configure.txt" 2>&1 ||
        { tail -30 "$O/configure.txt"; exit 1; }
fi
# The kernels first: they need no LibTorch, and their figures are the cheapest thing to lose.
ninja -C "$B" cosformer_cuda_test > "$O/build.txt" 2>&1 && "$B/bin/cosformer_cuda_test"
if ! timeout 420 ninja -C "$B" -k 0 -j"$J" iclr >> "$O/build.txt" 2>&1; then
    for d in $(grep -oE '^FAILED: (\[code=[0-9]+\] )?plugins/[a-z]+/[a-z_]+' "$O/build.txt" | grep -oE 'plugins/.*' | sort -u); do
        echo "left out (does not compile against this LibTorch): $d"
        rm -f "$R/$d/CMakeLists.txt"
    done
    timeout 180 ninja -C "$B" -k 0 -j"$J" iclr >> "$O/build.txt" 2>&1
fi
echo "build: $(( $(date +%s) - start )) s"
grep -E ' error:' "$O/build.txt" | head -20
wait "$untar"
export ICLR_DATA=$W/data PATH=$B/bin:$PATH
errors() { # the distinct errors of a database's runs that did not finish
    python3 -c 'import sqlite3, sys
try:
    rows = sqlite3.connect(sys.argv[1]).execute("SELECT status, error FROM runs WHERE status NOT IN (\x27done\x27, \x27diverged\x27) GROUP BY error").fetchall()
except sqlite3.Error:
    rows = [("-", "no runs recorded: the run stopped before its database had them")]
for st, err in rows:
    print("  ", st, (err or "")[:400])' "$1"
}
sweeps=("${@:-sweeps/forgetting_vs_scale.toml}")
one() { # sweep side: its ci profile on the GPU or (CUDA_VISIBLE_DEVICES empty) on the CPU
    local n
    n=$(basename "$1" .toml)
    rm -f "$W/$n.$2".db*
    local threads=2
    if [ "$2" = cpu ]; then export CUDA_VISIBLE_DEVICES= threads=1; fi
    # Threads set: libtorch's default (cores / jobs) in six runs at once oversubscribes the cores
    # (OpenMP's waiting threads spin; the first try here ran the CPU side 30x slower than alone).
    ICLR_CACHE_DIR=$W/cache-$2 timeout "$S" iclr run "$1" --profile ci --jobs 3 --threads $threads \
        --set sweep.trials_per_gpu=3 --db "$W/$n.$2.db" > "$W/$n.$2.txt" 2>&1
    echo "$?" > "$W/$n.$2.rc"
}
export -f one
export W S
# Six sweeps at once, three trials each: these ci profiles are small, and the lease is short.
for s in "${sweeps[@]}"; do printf '%s gpu\n%s cpu\n' "$s" "$s"; done | xargs -P 6 -L 1 bash -c 'one "$0" "$1"'
echo "sweeps: $(( $(date +%s) - start )) s"
for s in "${sweeps[@]}"; do
    n=$(basename "$s" .toml)
    for side in gpu cpu; do
        echo "== $n $side (rc $(cat "$W/$n.$side.rc")): $(grep -E 'done, .* failed' "$W/$n.$side.txt" | tail -1)"
        errors "$W/$n.$side.db"
    done
    python3 docs/device_compare.py "$W/$n.gpu.db" "$W/$n.cpu.db"
done
echo "total: $(( $(date +%s) - start )) s"

