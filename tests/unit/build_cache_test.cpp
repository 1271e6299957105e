// The build's objects hold no path of the checkout, so that ccache shares them between checkouts
// (CMakeLists.txt): a -D flag or a __FILE__ that brought the path back would make every fresh clone
// at a new path (a CI run) compile all of them again. Nor do the plugin libraries, so that one
// source builds to one SHA-256 in any checkout: their source folder is in NAME.source beside them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

#include "test_paths.hpp"

namespace fs = std::filesystem;

namespace {

// Every object this build compiles, from its compile commands ("-o OBJECT").
std::vector<std::string> compiled_objects() {
    std::ifstream in(fs::path(ICLR_BUILD_DIR) / "compile_commands.json");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    static const std::regex output(R"(-o (\S+\.o) )");
    std::vector<std::string> out;
    for (std::sregex_iterator it(text.begin(), text.end(), output), end; it != end; ++it)
        out.push_back((*it)[1]);
    return out;
}

// The other generated files that hold a path on purpose: build_info.cpp (the build's identity and
// source tree) and the tests' paths.
bool is_generated(const std::string& object) { return object.find("/generated/") != std::string::npos; }

} // namespace

TEST(BuildCache, NoCompiledObjectHoldsTheCheckoutsPathButTheGeneratedOnes) {
    const std::string tree = std::string(ICLR_TEST_SOURCE_DIR) + "/";
    size_t compiled = 0;
    std::vector<std::string> holding;
    for (const std::string& object : compiled_objects()) {
        std::ifstream in(fs::path(ICLR_BUILD_DIR) / object, std::ios::binary);
        if (!in || is_generated(object)) continue; // a target this build did not make
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        ++compiled;
        if (bytes.find(tree) != std::string::npos) holding.push_back(object);
    }
    EXPECT_GT(compiled, 100u) << "compile_commands.json lists fewer objects than the build makes";
    EXPECT_TRUE(holding.empty()) << holding.size() << " object(s) hold " << tree << ", e.g. " << holding.front();
}

TEST(BuildCache, NoPluginLibraryHoldsAPathItsSourceFolderIsBesideIt) {
    const std::string tree = std::string(ICLR_TEST_SOURCE_DIR) + "/";
    size_t plugins = 0;
    std::vector<std::string> holding, without;
    for (const auto& e : fs::recursive_directory_iterator(fs::path(ICLR_BUILD_DIR) / "plugins")) {
        if (e.path().extension() != ".so") continue;
        ++plugins;
        std::ifstream in(e.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (bytes.find(tree) != std::string::npos) holding.push_back(e.path().string());
        std::ifstream beside(fs::path(e.path()).replace_extension(".source"));
        std::string dir;
        std::getline(beside, dir);
        if (!dir.starts_with(tree + "plugins/") || !fs::is_directory(dir)) without.push_back(e.path().string());
    }
    EXPECT_GT(plugins, 50u);
    EXPECT_TRUE(holding.empty()) << holding.size() << " plugin(s) hold " << tree << ", e.g. " << holding.front();
    EXPECT_TRUE(without.empty()) << without.front() << " has no NAME.source naming its folder in the tree";
}
