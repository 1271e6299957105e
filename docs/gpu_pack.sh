#!/bin/bash
# Packs, on this Debian machine (after `make deps data`), what docs/gpu_check.sh needs on a GPU
# machine that has CUDA, PyTorch, CMake and ninja but not this project's other libraries: their
# headers (toml++, CLI11, fmt used header-only, sqlite3.h) with minimal CMake package files, and the
# data sets. Writes .gpu/ (ignored by git, ~40 MB): carry it to the GPU machine with the tree.
set -eu
cd "$(dirname "$0")/.."
rm -rf .gpu && mkdir -p .gpu/prefix/include .gpu/prefix/lib/cmake/{tomlplusplus,fmt,CLI11}
cp -r /usr/include/toml++ /usr/include/fmt /usr/include/CLI /usr/include/sqlite3.h /usr/include/sqlite3ext.h \
    .gpu/prefix/include/
config() { # package, target, extra properties
    printf '# %s headers from Debian 12, packed by docs/gpu_pack.sh.\nadd_library(%s INTERFACE IMPORTED)\n' "$1" "$2"
    printf 'set_target_properties(%s PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${CMAKE_CURRENT_LIST_DIR}/../../../include" %s)\n' \
        "$2" "$3"
}
# toml++: host/common/toml_impl.cpp compiles its implementation, so the headers are enough.
config toml++ tomlplusplus::tomlplusplus "" > .gpu/prefix/lib/cmake/tomlplusplus/tomlplusplusConfig.cmake
config fmt fmt::fmt "INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1" > .gpu/prefix/lib/cmake/fmt/fmtConfig.cmake
config CLI11 CLI11::CLI11 "" > .gpu/prefix/lib/cmake/CLI11/CLI11Config.cmake
(cd "${ICLR_DATA:-data}" && tar -cf - mnist fashion-mnist) | xz -T0 -6 > .gpu/data.tar.xz
du -sh .gpu
