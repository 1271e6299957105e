// The build's objects hold no path of the checkout, so that ccache shares them between checkouts
// (CMakeLists.txt): a -D flag or a __FILE__ that brought the path back would make every fresh clone
// at a new path (a CI run) compile all of them again.
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

// A plugin's generated source-folder file, which holds its folder's path on purpose.
bool is_plugin_source_dir(const std::string& object) { return object.ends_with("_source_dir.cpp.o"); }

// The other generated files that hold a path on purpose: build_info.cpp (the build's identity and
// source tree) and the tests' paths.
bool is_generated(const std::string& object) { return object.find("/generated/") != std::string::npos; }

} // namespace

TEST(BuildCache, NoCompiledObjectHoldsTheCheckoutsPathButTheGeneratedOnes) {
    const std::string tree = std::string(ICLR_TEST_SOURCE_DIR) + "/";
    size_t compiled = 0, generated = 0;
    std::vector<std::string> holding, generated_without;
    for (const std::string& object : compiled_objects()) {
        std::ifstream in(fs::path(ICLR_BUILD_DIR) / object, std::ios::binary);
        if (!in) continue; // a target this build did not make
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const bool holds = bytes.find(tree) != std::string::npos;
        if (is_plugin_source_dir(object)) {
            ++generated;
            if (!holds) generated_without.push_back(object); // the search would miss the path
        } else if (!is_generated(object)) {
            ++compiled;
            if (holds) holding.push_back(object);
        }
    }
    EXPECT_GT(compiled, 100u) << "compile_commands.json lists fewer objects than the build makes";
    EXPECT_GT(generated, 50u) << "fewer plugins' source-folder files than the tree has plugins";
    EXPECT_TRUE(generated_without.empty()) << generated_without.front() << " does not hold " << tree;
    EXPECT_TRUE(holding.empty()) << holding.size() << " object(s) hold " << tree << ", e.g. " << holding.front();
}
