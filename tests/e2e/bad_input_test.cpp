// Bad input never crashes and never writes: a corpus of malformed sweeps, generated monsters,
// mutants of the example sweeps through the real binary, and sweeps naming broken plugins.
#include <gtest/gtest.h>

#include <random>
#include <regex>

#include "e2e_util.hpp"

using namespace iclr::e2e;

namespace {

const std::string kCorpus = std::string(ICLR_TEST_SOURCE_DIR) + "/tests/fixtures/bad_sweeps";

// Runs `iclr run FILE` and checks the contract: exit 2, the expected text, nothing written.
void expect_refused(Scratch& s, const std::string& file, const std::string& expect, bool with_position) {
    auto r = s.run({"run", file});
    EXPECT_EQ(r.code, 2) << file << "\n" << r.out;
    EXPECT_TRUE(has(r.out, expect)) << file << ": expected '" << expect << "' in:\n" << r.out;
    EXPECT_TRUE(has(r.out, "iclr: error: ")) << r.out;
    if (with_position) {
        // Every error line names the file (or the included file) with line and column.
        std::regex pos("iclr: error: [^:\\n]+\\.toml:[0-9]+:[0-9]+: ");
        EXPECT_TRUE(std::regex_search(r.out, pos)) << file << ": no file:line:column in\n" << r.out;
    }
    EXPECT_FALSE(has(r.out, "Segmentation")) << r.out;
    EXPECT_FALSE(std::filesystem::exists(s.db())) << file << " wrote a database";
}

// Values a mutant puts after an '=' (mutate, case 6).
const char* const kEdge[] = {"\"\"",
                             "''",
                             "[]",
                             "{}",
                             "0",
                             "-1",
                             "1e309",
                             "nan",
                             "-inf",
                             "true",
                             "1979-05-27",
                             "{ grid = [] }",
                             "{ range = [0, 0] }",
                             "{ grid = [\"\"] }"};

// Up to four random edits of `m`: runs deleted, characters inserted or replaced, chunks
// duplicated, numbers inserted, the rest cut off, or the value after an '=' replaced by an edge
// case (an empty plugin name, `plugin = ""`, crashed `iclr plan` until it was one of them).
std::string mutate(std::string m, std::mt19937& rng) {
    const std::string alphabet = "[]{}=\",.#\n 0123456789-+eabcdefgrstuvwxyz_'\\\x01\xff";
    auto pick = [&](size_t n) { return n ? size_t(rng() % n) : 0; };
    for (int edits = 1 + int(pick(4)); edits > 0; --edits) {
        size_t at = pick(m.size());
        switch (pick(7)) {
        case 0:
            m.erase(at, 1 + pick(40));
            break; // delete a run
        case 1:
            m.insert(at, 1, alphabet[pick(alphabet.size())]);
            break; // insert a char
        case 2:
            if (!m.empty()) m[at] = alphabet[pick(alphabet.size())];
            break; // replace a char
        case 3:
            m.insert(at, m.substr(pick(m.size()), pick(80)));
            break; // duplicate a chunk
        case 4:
            m.insert(at, std::to_string(int64_t(rng()) * (pick(2) ? 1 : -1000003)));
            break; // numbers
        case 5:
            m = m.substr(0, at);
            break; // truncate
        case 6: {  // an edge value after the next '='
            size_t eq = m.find('=', at), end = eq == std::string::npos ? eq : m.find('\n', eq);
            if (eq != std::string::npos)
                m.replace(eq + 1, end == std::string::npos ? end : end - eq - 1,
                          std::string(" ") + kEdge[pick(std::size(kEdge))]);
            break;
        }
        }
    }
    return m;
}

} // namespace

TEST(BadInput, EveryMalformedSweepInTheCorpusIsRefusedWithItsPosition) {
    Scratch s;
    std::ifstream list(kCorpus + "/expected.tsv");
    std::string line;
    int n = 0;
    while (std::getline(list, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto tab = line.find('\t');
        expect_refused(s, kCorpus + "/" + line.substr(0, tab), line.substr(tab + 1), true);
        ++n;
    }
    EXPECT_GE(n, 50);
    RecordProperty("corpus_files", n);
}

TEST(BadInput, GeneratedMonstersAreRefusedWithoutCrashing) {
    Scratch s;
    auto gen = [&](const std::string& name, const std::string& text) { return s.write(name, text); };
    std::string deep_array =
        "[method]\nplugin = \"finetune\"\nlr = " + std::string(5'000'000, '[') + std::string(5'000'000, ']') + "\n";
    expect_refused(s, gen("nesting_10mb.toml", deep_array), "exceeded maximum nested value depth", true);
    std::string deep_inline = "[method]\nplugin = \"finetune\"\nx = ";
    for (int k = 0; k < 1'000'000; ++k)
        deep_inline += "{a=";
    deep_inline += "1" + std::string(1'000'000, '}') + "\n";
    expect_refused(s, gen("inline_tables_deep.toml", deep_inline), "exceeded maximum nested value depth", true);
    std::string dotted = "[";
    for (int k = 0; k < 2'000'000; ++k)
        dotted += "a.";
    expect_refused(s, gen("dotted_keys_deep.toml", dotted + "a]\nx = 1\n"), "key nested deeper than 64 levels", true);
    std::mt19937 rng(7);
    std::string garbage(200000, '\0');
    for (auto& c : garbage)
        c = char(rng() & 0xff);
    expect_refused(s, gen("garbage.toml", garbage), "TOML syntax error", true);
    expect_refused(s, gen("latin1.toml", "[method]\nplugin = \"caf\xe9\"\n"), "invalid utf-8", true);
    expect_refused(s, gen("nul_bytes.toml", std::string("[method]\nplugin = \"fine\0tune\"\n", 31)),
                   "TOML syntax error", true);
    // File-level problems have no line to point at, but still name the file.
    std::string big = "# padding\n";
    while (big.size() < (17u << 20))
        big += big;
    expect_refused(s, gen("too_big.toml", big), "larger than 16 MiB", false);
    expect_refused(s, s.path("does_not_exist.toml"), "no such sweep file", false);
    std::filesystem::create_directories(s.path("a_directory.toml"));
    expect_refused(s, s.path("a_directory.toml"), "is a directory", false);
    expect_refused(s,
                   gen("too_many_trials.toml",
                       "[method]\nplugin = \"noop\"\nvalues = { range = [0, 10000] }\ntag = { range = [0, 10000] }\n"),
                   "100000000 trials is more than one `iclr run` takes", false);
}

TEST(BadInput, SixHundredMutantsOfTheExampleSweepsNeverCrashTheBinary) {
    Scratch s;
    std::vector<std::string> seeds;
    for (const auto& e : std::filesystem::directory_iterator(std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps"))
        if (e.path().extension() == ".toml") seeds.push_back(slurp(e.path()));
    ASSERT_FALSE(seeds.empty());
    std::mt19937 rng(2022);
    auto pick = [&](size_t n) { return n ? size_t(rng() % n) : 0; };
    // A fixed count, not a time budget: the same 600 mutants on every machine (a 40-s budget ran
    // 972 on an idle machine and 341 beside a build, which failed its floor of 500).
    int mutants = 0, refused = 0, planned = 0;
    while (mutants < 600) {
        std::string m = mutate(seeds[pick(seeds.size())], rng);
        // One in 20 also builds its plugins in a worker (about a second each): the rest test the
        // parser and validation, which is where mutants land.
        std::vector<std::string> args{"plan", s.write("mutant.toml", m)};
        if (mutants % 20) args.push_back("--no-construct");
        auto r = s.run(args);
        ++mutants;
        ASSERT_TRUE(r.code == 0 || r.code == 2) << "mutant " << mutants << " exited " << r.code << ":\n"
                                                << r.out << "\n--- input:\n"
                                                << m;
        (r.code == 0 ? planned : refused)++;
    }
    RecordProperty("mutants", mutants);
    RecordProperty("refused", refused);
    std::printf("mutants: %d (refused %d, valid %d)\n", mutants, refused, planned);
}

// `--set` overrides, mutated, on a real sweep: every one plans or is one error line, exit 2.
TEST(BadInput, MutantsOfSetOverridesNeverCrashTheBinary) {
    Scratch s;
    const std::string sweep = std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/forgetting_vs_scale.toml";
    const std::vector<std::string> seeds{"method.lr=0.1",           "model.width={ grid = [32, 64] }",
                                         "sweep.seeds=2",           "dataset.tasks=[[0, 1], [2, 3]]",
                                         "method.optimizer='adam'", "sweep.slurm.partition=\"debug\""};
    std::mt19937 rng(2022);
    int mutants = 0, refused = 0;
    while (mutants < 200) { // a fixed count, as above
        std::string m = mutate(seeds[rng() % seeds.size()], rng);
        std::vector<std::string> args{"plan", sweep, "--set", m};
        if (mutants % 20) args.push_back("--no-construct"); // as above
        auto r = s.run(args);
        ++mutants;
        ASSERT_TRUE(r.code == 0 || r.code == 2) << "--set '" << m << "' exited " << r.code << ":\n" << r.out;
        if (r.code == 2) {
            ++refused;
            EXPECT_EQ(r.out.rfind("iclr: error: ", 0), 0u) << "--set '" << m << "':\n" << r.out;
        }
    }
    EXPECT_GT(refused, 0);
    std::printf("--set mutants: %d (refused %d)\n", mutants, refused);
}

TEST(BadInput, ASweepNamingABrokenPluginFailsBeforeAnyTrialStarts) {
    Scratch s;
    s.set_env("ICLR_PLUGIN_PATH", std::string(ICLR_FIXTURE_OK_DIR) + ":" + ICLR_FIXTURE_BROKEN_DIR);
    auto r = s.run({"run", s.write("b.toml", "[method]\nplugin = \"init_throws\"\n")});
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_TRUE(
        has(r.out, "b.toml:2:10: method plugin 'init_throws' is broken: init failed: cannot find CUDA device 7"))
        << r.out;
    EXPECT_FALSE(std::filesystem::exists(s.db()));
    // The working plugins on the same path still run.
    auto ok = s.run({"run", s.write("ok.toml", "[method]\nplugin = \"noop\"\n")});
    EXPECT_EQ(ok.code, 0) << ok.out;
}

TEST(BadInput, PluginWithAMissingLibraryIsListedAsBroken) {
    Scratch s;
    s.set_env("ICLR_PLUGIN_PATH", ICLR_FIXTURE_MISSING_DEP_DIR);
    auto r = s.run({"plugins"});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "broken: cannot open: libiclr_gone.so: cannot open shared object file")) << r.out;
    EXPECT_TRUE(has(r.out, "method   finetune")) << r.out; // the others are unaffected
}
