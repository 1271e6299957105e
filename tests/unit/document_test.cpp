// Sweep documents: includes resolved through an injected reader (no disk), merging, cycles.
#include <gtest/gtest.h>

#include <map>

#include "sweep/sweep.hpp"

using namespace iclr;

namespace {

// A file system in memory: the reader parse_sweep_text uses for includes.
struct MemoryFiles {
    std::map<std::string, std::string> files;
    std::vector<std::string> reads;
    FileReader reader() {
        return [this](const std::string& path) -> std::optional<std::string> {
            reads.push_back(path);
            auto it = files.find(path);
            if (it == files.end()) return std::nullopt;
            return it->second;
        };
    }
};

std::string first_error(const std::string& text, MemoryFiles& fs) {
    try {
        parse_sweep_text(text, "dir/main.toml", {}, fs.reader());
    } catch (const SweepError& e) {
        return e.diagnostics.at(0).str();
    }
    return "(parsed)";
}

} // namespace

TEST(Document, IncludesMergeWithThisFileWinning) {
    MemoryFiles fs;
    fs.files["dir/base.toml"] = "[sweep]\nseeds = 5\njobs = 2\n[method]\nplugin = \"noop\"\nvalues = 3\n";
    SweepSpec s = parse_sweep_text("include = [\"base.toml\"]\n[sweep]\nseeds = 2\n", "dir/main.toml", {}, fs.reader());
    EXPECT_EQ(fs.reads, std::vector<std::string>{"dir/base.toml"});
    EXPECT_EQ(s.seeds.size(), 2u); // this file wins
    EXPECT_EQ(s.jobs, 2);          // the include's key stays
    ASSERT_NE(s.section("method"), nullptr);
    EXPECT_EQ(s.section("method")->fixed.at("values").i, 3);
    EXPECT_NE(s.source_text.find("# ---- include dir/base.toml ----"), std::string::npos);
}

TEST(Document, NestedIncludesAreRelativeToTheIncludingFile) {
    MemoryFiles fs;
    fs.files["dir/sub/a.toml"] = "include = [\"b.toml\"]\n";
    fs.files["dir/sub/b.toml"] = "[method]\nplugin = \"noop\"\n";
    SweepSpec s = parse_sweep_text("include = [\"sub/a.toml\"]\n", "dir/main.toml", {}, fs.reader());
    EXPECT_EQ(s.section("method")->plugin, "noop");
    EXPECT_EQ(fs.reads, (std::vector<std::string>{"dir/sub/a.toml", "dir/sub/b.toml"}));
}

TEST(Document, CyclesAndUnreadableIncludesNameTheLine) {
    MemoryFiles fs;
    fs.files["dir/a.toml"] = "include = [\"main.toml\"]\n";
    EXPECT_EQ(first_error("include = [\"a.toml\"]\n[method]\nplugin = \"noop\"\n", fs),
              "dir/a.toml:1:12: include cycle: dir/main.toml -> dir/a.toml -> dir/main.toml");
    EXPECT_EQ(first_error("\ninclude = [\"missing.toml\"]\n", fs),
              "dir/main.toml:2:12: cannot read include 'dir/missing.toml'");
    EXPECT_EQ(first_error("include = \"a.toml\"\n", fs),
              "dir/main.toml:1:11: include must be a list of file names, e.g. include = [\"base.toml\"]");
}

TEST(Document, ErrorsInsideAnIncludeNameTheIncludedFile) {
    MemoryFiles fs;
    fs.files["dir/base.toml"] = "[sweep]\njobs = \"two\"\n";
    EXPECT_EQ(first_error("include = [\"base.toml\"]\n[method]\nplugin = \"noop\"\n", fs),
              "dir/base.toml:2:8: sweep.jobs must be an integer or \"auto\"");
}

// `iclr rerun` reads a run's sweep back from what the store recorded (sweeps.source): nested
// includes, a profile, --set overrides (one of them removing a key) and a comment of the user's in
// the marker's shape, with none of the files on disk any more.
TEST(Document, ARecordedSweepReadsBackWithItsIncludesProfileAndOverrides) {
    MemoryFiles fs;
    fs.files["dir/sub/a.toml"] = "include = [\"b.toml\"]\n[sweep]\ntimeout = \"2m\"\n";
    fs.files["dir/sub/b.toml"] = "[sweep]\non_nonfinite = \"record\"\nmemory_mb = 900\n";
    std::string main = "include = [\"sub/a.toml\"]\n# ---- models ----\n[sweep]\nname = \"r\"\nseeds = 3\n"
                       "[method]\nplugin = \"noop\"\nvalues = 3\ntag = 4\n"
                       "[profile.ci.sweep]\nseeds = 1\n";
    SweepVariant v{"ci", {"method.values=7", "~method.tag", "sweep.memory_mb=1200"}};
    SweepSpec s = parse_sweep_text(main, "dir/main.toml", v, fs.reader());
    SweepSpec back = recorded_sweep("dir/main.toml", "ci", s.source_text);
    EXPECT_EQ(back.name, "r");
    EXPECT_EQ(back.seeds.size(), 1u); // the profile
    EXPECT_EQ(back.timeout_s, 120);   // an include's
    EXPECT_EQ(back.on_nonfinite, "record");
    EXPECT_EQ(back.memory_mb, 1200); // the override's, not the include's
    EXPECT_EQ(back.section("method")->fixed.at("values").i, 7);
    EXPECT_EQ(back.section("method")->fixed.count("tag"), 0u);
    EXPECT_EQ(back.source_text, s.source_text);
}
