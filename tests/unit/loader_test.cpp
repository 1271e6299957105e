// Plugin loading: a working fixture loads; each broken fixture fails with its own precise reason.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>

#include "common/file_hash.hpp"
#include "plugin/plugin_loader.hpp"
#include "plugin/plugin_registry.hpp"
#include "test_util.hpp"

using namespace iclr;

namespace {
std::string broken(const std::string& name) { return std::string(ICLR_FIXTURE_BROKEN_DIR) + "/" + name; }
const std::string kAbi = std::to_string(ICLR_ABI_MAJOR) + "." + std::to_string(ICLR_ABI_MINOR);
const std::string kNewerMinor = std::to_string(ICLR_ABI_MAJOR) + "." + std::to_string(ICLR_ABI_MINOR + 1);
} // namespace

TEST(Loader, WorkingPluginReportsMetadataAndSchema) {
    auto p = load_plugin(std::string(ICLR_FIXTURE_OK_DIR) + "/methods/noop.so");
    ASSERT_TRUE(p.record.ok) << p.record.error;
    EXPECT_EQ(p.record.name, "noop");
    EXPECT_EQ(p.record.kind, ICLR_KIND_METHOD);
    EXPECT_EQ(p.record.torch_version, ICLR_TORCH_VERSION);
    ASSERT_NE(p.record.param("values"), nullptr);
    EXPECT_EQ(p.record.param("values")->default_value.i, 10);
    EXPECT_NE(p.info, nullptr);
}

TEST(Loader, EachFailureModeHasItsOwnMessage) {
    EXPECT_EQ(load_plugin(broken("not_a_library.so")).record.error, "not a shared library (no ELF header)");
    EXPECT_EQ(load_plugin(broken("no_entry.so")).record.error, "no entry point: symbol 'iclr_plugin_entry' not found");
    EXPECT_EQ(load_plugin(broken("wrong_abi.so")).record.error,
              "ABI mismatch: host provides " + kAbi + ", plugin was built for 99.0");
    EXPECT_EQ(load_plugin(broken("newer_minor.so")).record.error,
              "ABI mismatch: host provides " + kAbi + ", plugin was built for " + kNewerMinor);
    EXPECT_EQ(load_plugin(broken("init_throws.so")).record.error, "init failed: cannot find CUDA device 7");
    EXPECT_EQ(load_plugin(broken("bad_metadata.so")).record.error,
              "bad metadata: plugin name 'Bad Name!' is not a lower_snake_case identifier");
    auto missing = load_plugin(broken("does_not_exist.so")).record.error;
    EXPECT_EQ(missing.rfind("cannot open: ", 0), 0u) << missing;
}

TEST(Loader, RegistryProbesOutOfProcessSoACrashingPluginIsJustBroken) {
    test::TempDir cache;
    setenv("ICLR_CACHE_DIR", cache.path().c_str(), 1);
    PluginRegistry reg({ICLR_FIXTURE_OK_DIR, ICLR_FIXTURE_BROKEN_DIR}, ICLR_BIN);
    reg.discover();
    const PluginRecord* crash = nullptr;
    int ok = 0, bad = 0;
    for (const auto& r : reg.records()) {
        r.ok ? ++ok : ++bad;
        if (r.file.find("crash_on_load") != std::string::npos) crash = &r;
    }
    EXPECT_EQ(ok, 4);  // noop, fault, global_draw, bad_data (a data set that loads; its benchmark is wrong)
    EXPECT_EQ(bad, 8); // every broken fixture, the crashing one included
    ASSERT_NE(crash, nullptr);
    EXPECT_EQ(crash->error, "crashed while loading (signal 11 (SIGSEGV))");
    // A library without the entry point is never opened: its initialiser would crash too.
    for (const auto& r : reg.records())
        if (r.file.find("system_library") != std::string::npos) {
            EXPECT_EQ(r.error, "no entry point: symbol 'iclr_plugin_entry' not found");
        }
    ASSERT_NE(reg.find(ICLR_KIND_METHOD, "noop"), nullptr);
    EXPECT_TRUE(reg.find(ICLR_KIND_METHOD, "noop")->ok);
    // The second discovery reads the manifest: identical results without probing again (a record
    // edited in the manifest comes back as edited).
    std::string manifest = cache.file("plugins.toml"), text = test::read_file(manifest);
    auto at = text.find("'crashed while loading (signal 11 (SIGSEGV))'");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 1, "'(from the manifest) ");
    test::write_file(manifest, text);
    PluginRegistry again({ICLR_FIXTURE_OK_DIR, ICLR_FIXTURE_BROKEN_DIR}, ICLR_BIN);
    again.discover();
    ASSERT_EQ(again.records().size(), reg.records().size());
    for (size_t i = 0; i < reg.records().size(); ++i)
        if (reg.records()[i].file != crash->file) {
            EXPECT_EQ(again.records()[i].error, reg.records()[i].error);
        }
    ASSERT_NE(again.find(ICLR_KIND_METHOD, "noop"), nullptr);
    int edited = 0;
    for (const auto& r : again.records())
        edited += r.error == "(from the manifest) crashed while loading (signal 11 (SIGSEGV))";
    EXPECT_EQ(edited, 1);
    // A manifest another build of iclr wrote is not reused: what a record says (an ABI mismatch
    // above all) depends on the build that probed it. Every file is probed again.
    test::write_file(manifest, "# probed by: an older build of iclr\n" + text.substr(text.find('\n') + 1));
    PluginRegistry rebuilt({ICLR_FIXTURE_OK_DIR, ICLR_FIXTURE_BROKEN_DIR}, ICLR_BIN);
    rebuilt.discover();
    ASSERT_EQ(rebuilt.records().size(), reg.records().size());
    for (size_t i = 0; i < reg.records().size(); ++i)
        EXPECT_EQ(rebuilt.records()[i].error, reg.records()[i].error);
    EXPECT_EQ(test::read_file(manifest).rfind(std::string("# probed by: ") + ICLR_BIN + " ", 0),
              0u); // rewritten by this build
    unsetenv("ICLR_CACHE_DIR");
}

// A plugin that hangs inside dlopen is listed as broken after the probe timeout, and its probe
// process is gone (the suite's orphan check would fail otherwise).
TEST(Loader, APluginThatHangsWhileLoadingIsBrokenAfterTheProbeTimeout) {
    test::TempDir cache;
    setenv("ICLR_CACHE_DIR", cache.path().c_str(), 1);
    setenv("ICLR_PROBE_TIMEOUT", "5", 1); // loading libtorch for noop may take seconds on a busy machine
    PluginRegistry reg({ICLR_FIXTURE_HANG_DIR, ICLR_FIXTURE_OK_DIR}, ICLR_BIN);
    auto t0 = std::chrono::steady_clock::now();
    reg.discover();
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    unsetenv("ICLR_PROBE_TIMEOUT");
    unsetenv("ICLR_CACHE_DIR");
    ASSERT_EQ(reg.records().size(), 5u); // hang_on_load, noop, fault, global_draw, bad_data
    EXPECT_EQ(reg.records()[0].error, "hung while loading (no answer in 5.0s; ICLR_PROBE_TIMEOUT sets the limit)");
    ASSERT_NE(reg.find(ICLR_KIND_METHOD, "noop"), nullptr);
    EXPECT_TRUE(reg.find(ICLR_KIND_METHOD, "noop")->ok) << reg.find(ICLR_KIND_METHOD, "noop")->error; // probed after it
    EXPECT_LT(took, 60.0);                                                                            // not forever
}

// The manifest cache must not hand out an old SHA-256 for a patched library whose size and
// mtime were restored (the provenance of every run depends on it).
TEST(Loader, APatchedLibraryWithItsMtimeRestoredIsHashedAgain) {
    test::TempDir cache, dir;
    setenv("ICLR_CACHE_DIR", cache.path().c_str(), 1);
    std::string lib = dir.file("noop.so");
    std::filesystem::copy_file(std::string(ICLR_FIXTURE_OK_DIR) + "/methods/noop.so", lib);
    PluginRegistry first({dir.path()}, ICLR_BIN);
    first.discover();
    ASSERT_EQ(first.records().size(), 1u);
    std::string before = first.records()[0].sha256;
    struct stat st;
    ASSERT_EQ(stat(lib.c_str(), &st), 0);
    { // flip one byte in place (same size), then put the mtime back
        std::fstream f(lib, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(st.st_size - 1);
        char c = 0;
        f.seekg(st.st_size - 1);
        f.read(&c, 1);
        c = char(c ^ 0x5a);
        f.seekp(st.st_size - 1);
        f.write(&c, 1);
    }
    timespec times[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(utimensat(AT_FDCWD, lib.c_str(), times, 0), 0);
    PluginRegistry second({dir.path()}, ICLR_BIN);
    second.discover();
    unsetenv("ICLR_CACHE_DIR");
    ASSERT_EQ(second.records().size(), 1u);
    EXPECT_NE(second.records()[0].sha256, before);
    EXPECT_EQ(second.records()[0].sha256, sha256_file(lib));
}

TEST(Loader, DuplicateNamesKeepTheFirstInSearchOrder) {
    test::TempDir cache, copy;
    setenv("ICLR_CACHE_DIR", cache.path().c_str(), 1);
    std::filesystem::copy_file(std::string(ICLR_FIXTURE_OK_DIR) + "/methods/noop.so", copy.file("noop_copy.so"));
    PluginRegistry reg({ICLR_FIXTURE_OK_DIR, copy.path()}, ICLR_BIN);
    reg.discover();
    const PluginRecord* dup = nullptr;
    for (const auto& r : reg.records())
        if (r.file.find("noop_copy") != std::string::npos) dup = &r;
    ASSERT_NE(dup, nullptr);
    EXPECT_FALSE(dup->ok);
    EXPECT_NE(dup->error.find("duplicate: method 'noop' is already provided by"), std::string::npos) << dup->error;
    unsetenv("ICLR_CACHE_DIR");
}
