// The README's plugin walkthrough quotes a real, built plugin: keep the two identical.
#include <gtest/gtest.h>

#include "test_util.hpp"

TEST(Readme, QuotesTheReplayPluginVerbatim) {
    std::string readme = iclr::test::read_file(std::string(ICLR_TEST_SOURCE_DIR) + "/README.md");
    std::string source =
        iclr::test::read_file(std::string(ICLR_TEST_SOURCE_DIR) + "/plugins/methods/replay/replay.cpp");
    ASSERT_FALSE(source.empty());
    EXPECT_NE(readme.find("```cpp\n" + source + "```"), std::string::npos)
        << "README.md no longer quotes plugins/methods/replay/replay.cpp exactly";
}
