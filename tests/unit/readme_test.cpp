// The README's plugin walkthroughs quote real, built plugins (a method, a data set, a metric): keep
// each pair identical. And its verdict tables name the claims their sweeps state now.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "sweep/sweep.hpp"

#include "test_util.hpp"

namespace {

// The README holds `path` (from the source root) as a C++ block, exactly.
void expect_quoted(const std::string& path) {
    std::string readme = iclr::test::read_file(std::string(ICLR_TEST_SOURCE_DIR) + "/README.md");
    std::string source = iclr::test::read_file(std::string(ICLR_TEST_SOURCE_DIR) + "/" + path);
    ASSERT_FALSE(source.empty()) << path;
    EXPECT_NE(readme.find("```cpp\n" + source + "```"), std::string::npos)
        << "README.md no longer quotes " << path << " exactly";
}

} // namespace

TEST(Readme, QuotesTheReplayPluginVerbatim) { expect_quoted("plugins/methods/replay/replay.cpp"); }

TEST(Readme, QuotesTheOutOfTreeDataSetVerbatim) {
    expect_quoted("tests/fixtures/out_of_tree/noisy_digits/noisy_digits.cpp");
}

TEST(Readme, QuotesTheOutOfTreeMetricVerbatim) {
    expect_quoted("tests/fixtures/out_of_tree/learning_accuracy/learning_accuracy.cpp");
}

// Each verdict table in the README (the Markdown `iclr verify sweeps/X.toml` printed) names the
// claims X.toml states now, in its order, with their kinds and sources: a claim renamed, added,
// dropped or re-sourced after the table was made fails here until the table is made again. (The
// figures come from full runs and are not checked here.)
TEST(Readme, EveryVerdictTableListsItsSweepsClaimsAsTheyAreNow) {
    const std::string root = ICLR_TEST_SOURCE_DIR;
    std::istringstream readme(iclr::test::read_file(root + "/README.md"));
    const std::string command = "    iclr verify sweeps/";
    std::string line;
    int tables = 0;
    auto cells = [](const std::string& row) { // "| a | b \| c |" -> {"a", "b | c"}
        std::vector<std::string> out;
        std::string cell;
        for (size_t i = 1; i < row.size(); ++i) {
            if (row[i] == '\\' && i + 1 < row.size() && row[i + 1] == '|') {
                cell += '|';
                ++i;
            } else if (row[i] == '|') {
                out.push_back(cell.substr(1, cell.size() - 2)); // the spaces either side
                cell.clear();
            } else {
                cell += row[i];
            }
        }
        return out;
    };
    while (std::getline(readme, line)) {
        const std::string tail = " --format markdown"; // the command a table was made with, not the usage list
        if (line.rfind(command, 0) != 0 || line.size() < tail.size() ||
            line.compare(line.size() - tail.size(), tail.size(), tail) != 0)
            continue;
        std::string sweep = line.substr(command.size() - 7, line.find(".toml") + 5 - (command.size() - 7));
        std::vector<iclr::ClaimSpec> claims = iclr::parse_arms(root + "/" + sweep).front().claims;
        while (std::getline(readme, line) && line.rfind("| claim |", 0) != 0) // the first table after it
            ASSERT_NE(line.rfind(command, 0), 0u) << sweep << ": no verdict table before the next command";
        std::vector<std::string> header = cells(line);
        auto col = [&](const std::string& name) {
            return int(std::find(header.begin(), header.end(), name) - header.begin());
        };
        int kind = col("kind"), source = col("source"), verdict = col("verdict");
        ASSERT_LT(verdict, int(header.size())) << sweep << ": the table has no verdict column";
        std::getline(readme, line); // | --- |
        size_t k = 0;
        for (; std::getline(readme, line) && line.rfind("| ", 0) == 0; ++k) {
            auto row = cells(line);
            ASSERT_EQ(row.size(), header.size()) << sweep << ": " << line;
            ASSERT_LT(k, claims.size()) << sweep << ": the table has a claim the sweep does not: " << row[0];
            EXPECT_EQ(row[0], claims[k].name) << sweep << " claim " << k + 1;
            if (kind < int(row.size())) {
                EXPECT_EQ(row[size_t(kind)], claims[k].kind) << sweep << ": " << row[0];
            }
            if (source < int(row.size())) {
                EXPECT_EQ(row[size_t(source)], claims[k].source) << sweep << ": " << row[0];
            }
            const std::string& v = row[size_t(verdict)];
            EXPECT_TRUE(v == "held" || v == "not held" || v == "inconclusive" || v.rfind("no data", 0) == 0)
                << sweep << ": " << v;
        }
        EXPECT_EQ(k, claims.size()) << sweep << ": the table lists " << k << " of its " << claims.size() << " claims";
        ++tables;
    }
    EXPECT_EQ(tables, 25); // one per paper sweep with claims, and the forgetting sweep
}
