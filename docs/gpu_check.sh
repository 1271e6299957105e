#!/bin/bash
# On a GPU machine (CUDA, nvcc, PyTorch with CUDA, CMake, ninja; run from the repository root with
# the .gpu/ folder docs/gpu_pack.sh made): builds iclr against python3's CUDA LibTorch, runs the
# cosFormer kernels' test, then each sweep's ci profile on the GPU and on the CPU and compares them
# (docs/device_compare.py). Logs go to $OUT (else /tmp/gpu-check), databases to /tmp/gpu-check.
#   bash docs/gpu_check.sh sweeps/forgetting_vs_scale.toml sweeps/vit_sam.toml ...
# A plugin that does not compile there is left out (its CMakeLists.txt removed in that copy of the
# tree) and named, so the rest still runs. No `wait` without a pid below: the log's tee is a child.
set -u
O=${OUT:-/tmp/gpu-check}
W=/tmp/gpu-check
mkdir -p "$O" "$W"
exec > >(tee "$O/log.txt") 2>&1
R=$PWD K=$PWD/.gpu/prefix B=${ICLR_GPU_BUILD:-/tmp/iclr-cuda} J=$(nproc)
T=$(python3 -c "import torch, os; print(os.path.dirname(torch.__file__))")
mkdir -p "$W/data" && tar -xJf .gpu/data.tar.xz -C "$W/data" &
untar=$!
if [ ! -f "$B/build.ninja" ]; then
    cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DICLR_WITH_CUDA=ON -DICLR_BUILD_TESTS=OFF \
        -DCMAKE_CUDA_ARCHITECTURES=90 -DICLR_CUDA_ARCHITECTURES=90 -DTORCH_CUDA_ARCH_LIST=9.0 \
        -DCMAKE_PREFIX_PATH="$K;$T/share/cmake" -DSQLite3_INCLUDE_DIR="$K/include" \
        -DSQLite3_LIBRARY=/lib/x86_64-linux-gnu/libsqlite3.so.0 > "$O/configure.txt" 2>&1 ||
        { tail -30 "$O/configure.txt"; exit 1; }
fi
start=$(date +%s)
if ! timeout 420 ninja -C "$B" -k 0 -j"$J" iclr cosformer_cuda_test > "$O/build.txt" 2>&1; then
    for d in $(grep -oE '^FAILED: (\[code=[0-9]+\] )?plugins/[a-z]+/[a-z_]+' "$O/build.txt" | grep -oE 'plugins/.*' | sort -u); do
        echo "left out (does not compile against this LibTorch): $d"
        rm -f "$R/$d/CMakeLists.txt"
    done
    timeout 180 ninja -C "$B" -k 0 -j"$J" iclr cosformer_cuda_test >> "$O/build.txt" 2>&1
fi
echo "build: $(( $(date +%s) - start )) s"
grep -E ' error:' "$O/build.txt" | head -20
wait "$untar"
"$B/bin/cosformer_cuda_test"
export ICLR_DATA=$W/data PATH=$B/bin:$PATH
for s in "${@:-sweeps/forgetting_vs_scale.toml}"; do
    n=$(basename "$s" .toml)
    rm -f "$W/$n".*.db
    ICLR_CACHE_DIR=$W/cache-gpu timeout 300 iclr run "$s" --profile ci --db "$W/$n.gpu.db" | tail -2
    CUDA_VISIBLE_DEVICES= ICLR_CACHE_DIR=$W/cache-cpu timeout 300 iclr run "$s" --profile ci --db "$W/$n.cpu.db" | tail -2
    python3 docs/device_compare.py "$W/$n.gpu.db" "$W/$n.cpu.db"
done
