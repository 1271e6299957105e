// Lazy expansion: counts, order, zips, exclusions, deterministic random draws, huge grids.
#include <gtest/gtest.h>

#include <set>

#include "sweep/expansion.hpp"
#include "test_util.hpp"

using namespace iclr;

namespace {
int64_t as_int(const Value& v) { return v.i; }
} // namespace

TEST(Expansion, GridTimesSeedsWithSeedsInnermost) {
    auto s = test::sweep_from_text(
        "[sweep]\nseeds = 2\n[method]\nplugin = \"m\"\na = { grid = [1, 2, 3] }\nb = { grid = [10, 20] }\n");
    Expansion ex(s);
    ASSERT_EQ(ex.raw_count(), 12u);
    auto p0 = ex.at(0), p1 = ex.at(1), p2 = ex.at(2), last = ex.at(11);
    EXPECT_EQ(p0.seed, 0);
    EXPECT_EQ(p1.seed, 1);
    EXPECT_EQ(as_int(p0.axis_values[0]), 1);
    EXPECT_EQ(as_int(p0.axis_values[1]), 10);
    EXPECT_EQ(as_int(p2.axis_values[1]), 20); // last axis fastest after seeds
    EXPECT_EQ(as_int(last.axis_values[0]), 3);
    EXPECT_EQ(as_int(last.axis_values[1]), 20);
    std::set<std::pair<int64_t, int64_t>> combos;
    ex.for_each([&](const TrialPoint& p) {
        combos.insert({p.axis_values[0].i * 100 + p.axis_values[1].i, p.seed});
        return true;
    });
    EXPECT_EQ(combos.size(), 12u); // every combination exactly once
}

TEST(Expansion, ZippedAxesAdvanceTogether) {
    auto s = test::sweep_from_text(
        "[method]\nplugin = \"m\"\na = { grid = [1, 2, 3], zip = \"z\" }\nb = { grid = [10, 20, 30], zip = \"z\" }\n"
        "c = { grid = [0, 1] }\n");
    Expansion ex(s);
    ASSERT_EQ(ex.raw_count(), 6u);
    ex.for_each([&](const TrialPoint& p) {
        EXPECT_EQ(p.axis_values[1].i, p.axis_values[0].i * 10);
        return true;
    });
}

TEST(Expansion, ExclusionsSkipMatchingPoints) {
    auto s = test::sweep_from_text(
        "[sweep]\nexclude = [{ \"method.a\" = { ge = 2 }, \"method.b\" = 20 }, { \"method.a\" = { in = [1] "
        "}, \"method.b\" = 10 }]\n"
        "[method]\nplugin = \"m\"\na = { grid = [1, 2, 3] }\nb = { grid = [10, 20] }\n");
    Expansion ex(s);
    std::vector<std::pair<int64_t, int64_t>> kept;
    ex.for_each([&](const TrialPoint& p) {
        kept.push_back({p.axis_values[0].i, p.axis_values[1].i});
        return true;
    });
    std::vector<std::pair<int64_t, int64_t>> want{{1, 20}, {2, 10}, {3, 10}};
    EXPECT_EQ(kept, want);
}

TEST(Expansion, RandomDrawsAreDeterministicAndInRange) {
    const char* text =
        "[sweep]\nsamples = 50\nsweep_seed = 11\n[method]\nplugin = \"m\"\nlr = { loguniform = [1e-4, 1e-1] }\n"
        "k = { randint = [2, 4] }\nopt = { choice = [\"a\", \"b\"] }\n";
    auto s1 = test::sweep_from_text(text), s2 = test::sweep_from_text(text);
    Expansion e1(s1), e2(s2);
    ASSERT_EQ(e1.raw_count(), 50u);
    std::set<int64_t> ks;
    std::set<std::string> opts;
    // Axes come in key order (TOML tables are sorted): k, lr, opt.
    ASSERT_EQ(s1.axes[1].label, "method.lr");
    for (uint64_t i = 0; i < 50; ++i) {
        auto a = e1.at(i), b = e2.at(i);
        EXPECT_EQ(a.axis_values[1].f, b.axis_values[1].f);
        EXPECT_GE(a.axis_values[1].f, 1e-4);
        EXPECT_LE(a.axis_values[1].f, 1e-1);
        ks.insert(a.axis_values[0].i);
        opts.insert(a.axis_values[2].s);
    }
    EXPECT_EQ(ks, (std::set<int64_t>{2, 3, 4}));
    EXPECT_EQ(opts.size(), 2u);
    auto other = test::sweep_from_text(std::string(text).replace(std::string(text).find("11"), 2, "12"));
    EXPECT_NE(Expansion(other).at(0).axis_values[1].f, e1.at(0).axis_values[1].f); // sweep_seed matters
}

TEST(Expansion, MillionPointGridIsLazy) {
    auto s = test::sweep_from_text(
        "[method]\nplugin = \"m\"\na = { range = [0, 100] }\nb = { range = [0, 100] }\nc = { range = [0, 100] }\n");
    Expansion ex(s);
    EXPECT_EQ(ex.raw_count(), 1000000u);
    auto last = ex.at(999999);
    EXPECT_EQ(last.axis_values[0].i, 99);
    EXPECT_EQ(last.axis_values[2].i, 99);
}

TEST(Expansion, OverflowIsAnError) {
    auto s =
        test::sweep_from_text("[method]\nplugin = \"m\"\na = { range = [0, 9000000] }\nb = { range = [0, 9000000] }\n"
                              "c = { range = [0, 9000000] }\nd = { range = [0, 9000000] }\n");
    EXPECT_THROW(Expansion ex(s), SweepError);
}
