// Plugin loading: a working fixture loads; each broken fixture fails with its own precise reason.
#include <gtest/gtest.h>

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
    EXPECT_EQ(ok, 2);  // noop, fault
    EXPECT_EQ(bad, 7); // every broken fixture, the crashing one included
    ASSERT_NE(crash, nullptr);
    EXPECT_EQ(crash->error, "crashed while loading (signal 11 (SIGSEGV))");
    ASSERT_NE(reg.find(ICLR_KIND_METHOD, "noop"), nullptr);
    EXPECT_TRUE(reg.find(ICLR_KIND_METHOD, "noop")->ok);
    // The second discovery reads the manifest: identical results without probing again.
    PluginRegistry again({ICLR_FIXTURE_OK_DIR, ICLR_FIXTURE_BROKEN_DIR}, "/nonexistent/iclr");
    again.discover();
    ASSERT_EQ(again.records().size(), reg.records().size());
    for (size_t i = 0; i < reg.records().size(); ++i)
        EXPECT_EQ(again.records()[i].error, reg.records()[i].error);
    unsetenv("ICLR_CACHE_DIR");
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
