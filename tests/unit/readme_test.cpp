// The README's plugin walkthroughs quote real, built plugins (a method, a data set, a metric): keep
// each pair identical. Its verdict tables name the claims their sweeps state now, and its in-page
// links and contents name its headings.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <vector>

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
    // One per paper sweep with claims, the two forgetting sweeps (MLP, CNN), and the MLP one's claims
    // with each arm at its tuned learning rate (sweeps/tuned/).
    EXPECT_EQ(tables, 27);
}

namespace {

// A heading's anchor as GitHub makes it: lower case, punctuation dropped (the em dash among it;
// letters such as ć kept), each space a hyphen.
std::string anchor_of(const std::string& heading) {
    std::string text = heading, out;
    for (size_t p; (p = text.find("\u2014")) != std::string::npos;)
        text.erase(p, std::string("\u2014").size());
    for (unsigned char ch : text)
        if (std::isalnum(ch) || ch == '-' || ch == '_' || ch >= 0x80)
            out += char(std::tolower(ch));
        else if (ch == ' ')
            out += '-';
    return out;
}

} // namespace

// Every in-page link of the README names a heading (a renamed section breaks none silently), and
// its contents list every top-level section, each paper's included.
TEST(Readme, EveryLinkNamesAHeadingAndTheContentsListEverySection) {
    std::string readme = iclr::test::read_file(std::string(ICLR_TEST_SOURCE_DIR) + "/README.md");
    std::set<std::string> anchors;
    std::vector<std::string> sections;
    std::istringstream in(readme);
    bool fenced = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("```", 0) == 0) fenced = !fenced;
        if (fenced || line.empty() || line[0] != '#') continue;
        size_t level = line.find_first_not_of('#');
        if (level == std::string::npos || line[level] != ' ') continue;
        anchors.insert(anchor_of(line.substr(level + 1)));
        if (level == 2) sections.push_back(anchor_of(line.substr(level + 1)));
    }
    ASSERT_GT(sections.size(), 30u);
    size_t links = 0;
    for (size_t p = 0; (p = readme.find("](#", p)) != std::string::npos; ++p) {
        size_t end = readme.find(')', p);
        ASSERT_NE(end, std::string::npos);
        std::string target = readme.substr(p + 3, end - p - 3);
        ++links;
        EXPECT_TRUE(anchors.count(target)) << "README.md links to #" << target << ", which no heading makes";
    }
    EXPECT_GT(links, sections.size());
    const size_t contents = readme.find("**Contents.**"), first = readme.find("\n## ");
    ASSERT_LT(contents, first) << "the contents come before the first section";
    const std::string top = readme.substr(contents, first - contents);
    for (const auto& s : sections)
        EXPECT_NE(top.find("](#" + s + ")"), std::string::npos) << "the contents do not list #" << s;
}
