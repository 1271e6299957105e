// Where the build put what the tests run (the iclr binary, fixture plugins, the source and build
// folders): constants defined in a file tests/CMakeLists.txt generates, not -D flags, so that no
// test object holds a path and ccache shares the test programs' objects between checkouts.
#pragma once

namespace iclr::test_paths {
extern const char* const iclr_bin;
extern const char* const fixture_ok_dir;
extern const char* const fixture_broken_dir;
extern const char* const fixture_hang_dir;
extern const char* const fixture_missing_dep_dir;
extern const char* const failing_worker;
extern const char* const source_dir;
extern const char* const plugin_build_dir;
extern const char* const build_dir;
} // namespace iclr::test_paths

#define ICLR_BIN ::iclr::test_paths::iclr_bin
#define ICLR_FIXTURE_OK_DIR ::iclr::test_paths::fixture_ok_dir
#define ICLR_FIXTURE_BROKEN_DIR ::iclr::test_paths::fixture_broken_dir
#define ICLR_FIXTURE_HANG_DIR ::iclr::test_paths::fixture_hang_dir
#define ICLR_FIXTURE_MISSING_DEP_DIR ::iclr::test_paths::fixture_missing_dep_dir
#define ICLR_FAILING_WORKER ::iclr::test_paths::failing_worker
#define ICLR_TEST_SOURCE_DIR ::iclr::test_paths::source_dir
#define ICLR_PLUGIN_BUILD_DIR ::iclr::test_paths::plugin_build_dir
#define ICLR_BUILD_DIR ::iclr::test_paths::build_dir
