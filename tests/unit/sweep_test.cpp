// Sweep parsing: every directive, and errors reported with file:line:column.
#include <gtest/gtest.h>

#include <regex>

#include "common/process.hpp"
#include "sweep/sweep.hpp"
#include "test_util.hpp"

using namespace iclr;

namespace {

// The diagnostics of a sweep that must fail, as "line:col: message" strings.
std::vector<std::string> errors_of(const std::string& text) {
    try {
        test::sweep_from_text(text);
    } catch (const SweepError& e) {
        std::vector<std::string> out;
        for (const auto& d : e.diagnostics)
            out.push_back(std::to_string(d.pos.line) + ":" + std::to_string(d.pos.column) + ": " + d.message);
        return out;
    }
    ADD_FAILURE() << "sweep parsed but should not have:\n" << text;
    return {};
}

bool any_contains(const std::vector<std::string>& v, const std::string& needle) {
    for (const auto& s : v)
        if (s.find(needle) != std::string::npos) return true;
    return false;
}

const Axis& axis(const SweepSpec& s, const std::string& label) {
    for (const auto& a : s.axes)
        if (a.label == label) return a;
    throw std::runtime_error("no axis " + label);
}

} // namespace

TEST(Sweep, SectionsFixedValuesAndSweepSettings) {
    auto s = test::sweep_from_text(R"(
[sweep]
name = "demo"
seeds = [3, 5]
jobs = 2
timeout = "10m"
[dataset]
plugin = "mnist"
tasks = [[0, 1], [2, 3]]
[method]
plugin = "finetune"
lr = 0.1
[[metric]]
plugin = "accuracy"
[[metric]]
plugin = "accuracy"
eval = "class"
)");
    EXPECT_EQ(s.name, "demo");
    EXPECT_EQ(s.seeds, (std::vector<int64_t>{3, 5}));
    EXPECT_EQ(s.jobs, 2);
    EXPECT_DOUBLE_EQ(s.timeout_s, 600);
    ASSERT_EQ(s.sections.size(), 4u);
    EXPECT_EQ(s.sections[0].fixed.at("tasks").list.size(), 2u);
    EXPECT_DOUBLE_EQ(s.sections[1].fixed.at("lr").f, 0.1);
    EXPECT_EQ(s.sections[2].label, "metric.0"); // two accuracy metrics: labelled by position
    EXPECT_EQ(s.sections[3].label, "metric.1");
    EXPECT_TRUE(s.axes.empty());
}

TEST(Sweep, SeedCountExpandsToRange) {
    auto s = test::sweep_from_text("[sweep]\nseeds = 3\n[method]\nplugin = \"m\"\n");
    EXPECT_EQ(s.seeds, (std::vector<int64_t>{0, 1, 2}));
}

TEST(Sweep, GridKeepsListValuesUnambiguous) {
    auto s = test::sweep_from_text("[method]\nplugin = \"m\"\ntasks = { grid = [[[0,1],[2,3]], [[0,1,2,3]]] }\n");
    const Axis& a = axis(s, "method.tasks");
    ASSERT_EQ(a.values.size(), 2u);
    EXPECT_EQ(a.values[0].list.size(), 2u);
    EXPECT_EQ(a.values[1].list.size(), 1u);
}

TEST(Sweep, RangeLinspaceLogspace) {
    auto s = test::sweep_from_text(R"(
[method]
plugin = "m"
a = { range = [1, 10, 3] }
b = { range = [0.0, 1.0, 0.25] }
c = { linspace = [0, 1, 5] }
d = { logspace = [0.001, 0.1, 3] }
)");
    const Axis& a = axis(s, "method.a");
    ASSERT_EQ(a.size(), 3u); // 1 4 7 (stop excluded)
    EXPECT_EQ(a.value(2).type, Value::Type::Int);
    EXPECT_EQ(a.value(2).i, 7);
    EXPECT_EQ(axis(s, "method.b").size(), 4u);
    EXPECT_EQ(axis(s, "method.b").value(3).f, 0.75);
    const Axis& c = axis(s, "method.c");
    ASSERT_EQ(c.size(), 5u);
    EXPECT_DOUBLE_EQ(c.value(1).f, 0.25);
    const Axis& d = axis(s, "method.d");
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(d.value(0).f, 0.001); // endpoints exact
    EXPECT_NEAR(d.value(1).f, 0.01, 1e-15);
    EXPECT_EQ(d.value(2).f, 0.1);
}

TEST(Sweep, RandomDirectivesNeedSamples) {
    auto errs = errors_of("[method]\nplugin = \"m\"\nlr = { loguniform = [1e-4, 1e-1] }\n");
    ASSERT_EQ(errs.size(), 1u);
    EXPECT_TRUE(any_contains(errs, "3:6: method.lr: a random directive needs [sweep] samples")) << errs[0];
    auto s = test::sweep_from_text(
        "[sweep]\nsamples = 4\nsweep_seed = 7\n[method]\nplugin = \"m\"\nlr = { loguniform = [1e-4, 1e-1] }\n"
        "k = { randint = [1, 3] }\nopt = { choice = [\"sgd\", \"adam\"] }\nw = { uniform = [0, 1] }\n");
    EXPECT_EQ(s.samples, 4);
    EXPECT_EQ(axis(s, "method.k").kind, Axis::Kind::RandInt);
    EXPECT_EQ(axis(s, "method.opt").kind, Axis::Kind::Choice);
}

TEST(Sweep, ZipGroupsMustHaveEqualLengths) {
    auto errs =
        errors_of("[model]\nplugin = \"p\"\nwidth = { grid = [1, 2, 3], zip = \"g\" }\n[method]\nplugin = \"m\"\n"
                  "lr = { grid = [0.1, 0.2], zip = \"g\" }\n");
    ASSERT_EQ(errs.size(), 1u);
    EXPECT_TRUE(any_contains(errs, "6:6: zip group 'g': method.lr has 2 values but model.width")) << errs[0];
}

TEST(Sweep, ExcludeRulesParseOperators) {
    auto s = test::sweep_from_text(
        "[sweep]\nexclude = [{ \"method.lr\" = { gt = 0.15 }, \"method.k\" = 2 }]\n[method]\nplugin = \"m\"\n"
        "lr = { grid = [0.1, 0.2] }\nk = { grid = [1, 2] }\n");
    ASSERT_EQ(s.excludes.size(), 1u);
    ASSERT_EQ(s.excludes[0].conds.size(), 2u);
    auto errs = errors_of("[sweep]\nexclude = [{ \"method.nope\" = 1 }]\n[method]\nplugin = \"m\"\n");
    EXPECT_TRUE(any_contains(errs, "'method.nope' is not a swept parameter"));
}

// A sweep with a profile, for profiles and --set alike.
constexpr const char* kProfiled = R"(
[sweep]
seeds = 1
[method]
plugin = "m"
lr = { grid = [0.1] }
epochs = 3
[profile.full.sweep]
seeds = 5
[profile.full.method]
lr = { grid = [0.1, 0.2, 0.3] }
)";

TEST(Sweep, ProfilesOverlayTheBase) {
    const char* text = kProfiled;
    EXPECT_EQ(test::sweep_from_text(text).seeds.size(), 1u);
    auto full = test::sweep_from_text(text, "full");
    EXPECT_EQ(full.seeds.size(), 5u);
    EXPECT_EQ(axis(full, "method.lr").size(), 3u);
    try {
        test::sweep_from_text(text, "huge");
        FAIL();
    } catch (const SweepError& e) {
        EXPECT_NE(std::string(e.what()).find("unknown profile 'huge' (this sweep defines: full)"), std::string::npos);
    }
}

TEST(Sweep, SyntaxErrorHasLineAndColumn) {
    auto errs = errors_of("[method]\nplugin = \"m\"\nlr = 0.1.2\nk = 1\n");
    ASSERT_EQ(errs.size(), 1u);
    EXPECT_EQ(errs[0].substr(0, 2), "3:") << errs[0];
    EXPECT_TRUE(any_contains(errs, "TOML syntax error"));
}

TEST(Sweep, AllStructuralErrorsReportedAtOnce) {
    auto errs = errors_of(R"([sweep]
seeds = 0
jobs = "two"
colour = 1
[model]
width = { grid = [] }
depth = { gird = [1] }
[datasets]
plugin = "x"
)");
    EXPECT_TRUE(any_contains(errs, "2:9: seeds must be between 1 and 100000"));
    EXPECT_TRUE(any_contains(errs, "3:8: sweep.jobs must be an integer or \"auto\""));
    EXPECT_TRUE(any_contains(errs, "4:10: unknown key sweep.colour"));
    EXPECT_TRUE(any_contains(errs, "[model] needs plugin"));
    EXPECT_TRUE(any_contains(errs, "6:"));
    EXPECT_TRUE(any_contains(errs, "empty grid"));
    EXPECT_TRUE(any_contains(errs, "unknown directive 'gird'"));
    EXPECT_TRUE(any_contains(errs, "unknown section 'datasets'"));
    EXPECT_TRUE(any_contains(errs, "missing [method] section"));
}

TEST(Sweep, BadRangesAndDirectives) {
    EXPECT_TRUE(
        any_contains(errors_of("[method]\nplugin=\"m\"\na = { range = [5, 1] }\n"), "range step goes away from stop"));
    EXPECT_TRUE(any_contains(errors_of("[method]\nplugin=\"m\"\na = { logspace = [0, 1, 3] }\n"),
                             "logspace bounds must be > 0"));
    EXPECT_TRUE(any_contains(errors_of("[method]\nplugin=\"m\"\na = { grid = [1], range = [1, 2] }\n"),
                             "more than one directive"));
    EXPECT_TRUE(any_contains(errors_of("[method]\nplugin=\"m\"\na = { zip = \"g\" }\n"), "must hold a directive"));
    EXPECT_TRUE(any_contains(errors_of("[method]\nplugin=\"m\"\na = { range = [0, 100000000000] }\n"),
                             "more than 10000000 values"));
    EXPECT_TRUE(any_contains(errors_of("[sweep]\nsamples=2\n[method]\nplugin=\"m\"\na = { uniform = [2, 1] }\n"),
                             "low > high"));
    EXPECT_TRUE(any_contains(errors_of("[method]\nplugin=\"m\"\nwhen = 1979-05-27\n"),
                             "dates and times are not parameter values"));
    // [sweep]'s exclude written under a plugin's section: said so, not called a date.
    EXPECT_TRUE(any_contains(errors_of("[method]\nplugin=\"m\"\nexclude = [{ \"method.a\" = 1 }]\n"),
                             "3:11: method.exclude: a list of tables or dates is not a parameter value (`exclude` is "
                             "a [sweep] key: move it there)"));
}

TEST(Sweep, JobsAutoIsZeroAndOtherWordsAreRefused) {
    EXPECT_EQ(test::sweep_from_text("[sweep]\njobs = \"auto\"\n[method]\nplugin = \"noop\"\n").jobs, 0);
    EXPECT_EQ(test::sweep_from_text("[sweep]\njobs = 3\n[method]\nplugin = \"noop\"\n").jobs, 3);
    EXPECT_TRUE(any_contains(errors_of("[sweep]\njobs = 0\n[method]\nplugin = \"noop\"\n"),
                             "2:8: jobs must be between 1 and 256, or \"auto\""));
}

TEST(Sweep, MissingFileIsAUserError) { EXPECT_THROW(parse_sweep("/nonexistent/sweep.toml"), UserError); }

TEST(Sweep, ErrorsInsideAProfileKeepTheirPosition) {
    try {
        test::sweep_from_text("[method]\nplugin = \"noop\"\n[profile.big.sweep]\njobs = \"many\"\n", "big");
        FAIL();
    } catch (const SweepError& e) {
        EXPECT_EQ(e.diagnostics.at(0).str(), "s.toml:4:8: sweep.jobs must be an integer or \"auto\"");
    }
}

TEST(Sweep, StructuralErrorsComeAllAtOnceInLineOrder) {
    auto errs = errors_of("[method]\nplugin = \"noop\"\nx = { grid = [] }\n[sweep]\nseeds = 0\njobs = 0\n[dataset]\n");
    ASSERT_EQ(errs.size(), 4u);
    EXPECT_EQ(errs[0].substr(0, 5), "3:14:"); // method.x: empty grid
    EXPECT_EQ(errs[1].substr(0, 4), "5:9:");  // seeds
    EXPECT_EQ(errs[2].substr(0, 4), "6:8:");  // jobs
    EXPECT_EQ(errs[3].substr(0, 4), "7:1:");  // [dataset] without plugin
}

namespace {
const char* kArmed = R"(
[sweep]
seeds = 2
[method]
plugin = "noop"
values = 3
[[arm]]
name = "base"
[[arm]]
name = "wide"
method = { values = { grid = [5, 7] }, tag = 9 }
[[arm]]
name = "other"
method = { plugin = "fault" }
)";
} // namespace

TEST(Arms, EachArmIsTheBaseWithItsSectionsMergedIn) {
    auto arms = parse_arms_text(kArmed, "s.toml");
    ASSERT_EQ(arms.size(), 3u);
    EXPECT_EQ(arms[0].arm, "base");
    EXPECT_EQ(arms[0].section("method")->fixed.at("values").i, 3);
    EXPECT_TRUE(arms[0].axes.empty());
    EXPECT_EQ(arms[1].arm, "wide");
    ASSERT_EQ(arms[1].axes.size(), 1u); // its own grid expands inside it
    EXPECT_EQ(arms[1].axes[0].label, "method.values");
    EXPECT_EQ(arms[1].axes[0].size(), 2u);
    EXPECT_EQ(arms[1].section("method")->fixed.at("tag").i, 9);
    EXPECT_EQ(arms[2].section("method")->plugin, "fault");
    EXPECT_EQ(arms[2].section("method")->fixed.at("values").i, 3); // carried from the base: validation decides
    EXPECT_EQ(arms[2].seeds.size(), 2u);                           // [sweep] is shared
    EXPECT_EQ(parse_arms_text("[method]\nplugin = \"noop\"\n", "s.toml").at(0).arm, "");
}

TEST(Arms, ErrorsOfOneArmNameItAndSharedOnesComeOnce) {
    std::string text = std::string(kArmed) + "[[arm]]\nname = \"bad\"\nmethod = { values = { grid = [] } }\n" +
                       "[[arm]]\nname = \"bad\"\nmetric = { plugin = \"x\" }\n";
    try {
        parse_arms_text(text, "s.toml");
        FAIL();
    } catch (const SweepError& e) {
        std::string all = e.what();
        EXPECT_NE(all.find("s.toml:18:1: arm 'bad' is defined twice"), std::string::npos) << all;
        EXPECT_NE(
            all.find("s.toml:20:10: an arm overrides dataset, pretrain, model or method; 'metric' is none of them"),
            std::string::npos)
            << all;
    }
    try {
        parse_arms_text(std::string(kArmed) + "[[arm]]\nname = \"empty\"\nmethod = { values = { grid = [] } }\n" +
                            "[dataset]\nplugin = 3\n",
                        "s.toml");
        FAIL();
    } catch (const SweepError& e) {
        std::string all = e.what();
        EXPECT_NE(all.find("arm 'empty': method.values: empty grid"), std::string::npos) << all;
        // the base's error is every arm's: reported once, without an arm name
        EXPECT_EQ(std::count(all.begin(), all.end(), '\n') + 1, 2) << all;
        EXPECT_NE(all.find("s.toml:19:10: dataset.plugin must be a string"), std::string::npos) << all;
    }
}

TEST(Arms, APluginAxisIsOneArmPerPluginWithItsOwnParameters) {
    auto arms = parse_arms_text(R"(
[method]
plugin = { grid = ["noop", "fault"] }
delay_ms = 5
[method.fault]
mode = "ok"
[method.noop]
values = { grid = [1, 2] }
)",
                                "s.toml");
    ASSERT_EQ(arms.size(), 2u);
    EXPECT_EQ(arms[0].arm, "noop");
    EXPECT_EQ(arms[0].section("method")->plugin, "noop");
    EXPECT_EQ(arms[0].axes.size(), 1u); // noop's own grid
    EXPECT_FALSE(arms[0].section("method")->fixed.count("mode"));
    EXPECT_EQ(arms[1].arm, "fault");
    EXPECT_EQ(arms[1].section("method")->fixed.at("mode").s, "ok");
    EXPECT_EQ(arms[1].section("method")->fixed.at("delay_ms").i, 5); // shared keys go to every arm
    EXPECT_TRUE(arms[1].axes.empty());
}

// With arms too, [method.PLUGIN] holds what only the arms running PLUGIN take: merged over the base
// for those arms (an arm's own keys win), dropped for the others, where before it read as a
// parameter named after the plugin ("unknown directive"). Without arms it is the section's own.
TEST(Arms, ATableNamedAfterAPluginGoesToTheArmsThatRunIt) {
    auto arms = parse_arms_text(R"(
[method]
plugin = "fault"
delay_ms = 5
[method.fault]
mode = "ok"
delay_ms = 6
[method.noop]
values = { grid = [1, 2] }
[[arm]]
name = "base"
[[arm]]
name = "mine"
method = { mode = "throw" }
[[arm]]
name = "other"
method = { plugin = "noop" }
)",
                                "s.toml");
    ASSERT_EQ(arms.size(), 3u);
    EXPECT_EQ(arms[0].section("method")->fixed.at("mode").s, "ok");
    EXPECT_EQ(arms[0].section("method")->fixed.at("delay_ms").i, 6); // the plugin's table over the base
    EXPECT_TRUE(arms[0].axes.empty());
    EXPECT_EQ(arms[1].section("method")->fixed.at("mode").s, "throw"); // the arm's own over both
    EXPECT_EQ(arms[2].section("method")->plugin, "noop");
    EXPECT_FALSE(arms[2].section("method")->fixed.count("mode"));
    EXPECT_EQ(arms[2].section("method")->fixed.at("delay_ms").i, 5);
    ASSERT_EQ(arms[2].axes.size(), 1u);
    EXPECT_EQ(arms[2].axes[0].label, "method.values");
    auto alone = parse_arms_text("[method]\nplugin = \"noop\"\n[method.noop]\nvalues = 4\n", "s.toml");
    EXPECT_EQ(alone.at(0).section("method")->fixed.at("values").i, 4);
}

TEST(Arms, APluginAxisIsOnePerSweep) {
    try {
        parse_arms_text("[model]\nplugin = { grid = [\"a\", \"b\"] }\n[method]\nplugin = { grid = [\"c\", \"d\"] }\n",
                        "s.toml");
        FAIL();
    } catch (const SweepError& e) {
        EXPECT_NE(std::string(e.what()).find("s.toml:2:10: only one section may have a plugin axis (method has one)"),
                  std::string::npos)
            << e.what();
    }
}

TEST(Arms, WithAPluginAxisEveryArmRunsOnEveryPlugin) {
    auto arms = parse_arms_text("[dataset]\nplugin = { grid = [\"mnist\", \"fashion_mnist\"] }\n"
                                "[dataset.mnist]\nrotation = 5.0\n"
                                "[method]\nplugin = \"finetune\"\nlr = 0.1\n"
                                "[[arm]]\nname = \"x\"\n"
                                "[[arm]]\nname = \"y\"\nmethod = { plugin = \"si\", c = 1.0 }\n",
                                "s.toml");
    ASSERT_EQ(arms.size(), 4u); // the plugin varies slowest
    EXPECT_EQ(arms[0].arm_label(), "x on dataset=mnist");
    EXPECT_EQ(arms[1].arm_label(), "y on dataset=mnist");
    EXPECT_EQ(arms[3].arm_label(), "y on dataset=fashion_mnist");
    EXPECT_EQ(arms[3].arm, "y"); // runs.arm stays the arm's name; the plugin has its own column
    EXPECT_EQ(arms[0].section("dataset")->plugin, "mnist");
    EXPECT_EQ(arms[0].section("dataset")->fixed.at("rotation").f, 5.0); // the plugin's own subtable
    EXPECT_EQ(arms[2].section("dataset")->plugin, "fashion_mnist");
    EXPECT_EQ(arms[2].section("dataset")->fixed.count("rotation"), 0u);
    EXPECT_EQ(arms[3].section("method")->plugin, "si");
    EXPECT_EQ(arms[3].section("method")->fixed.at("lr").f, 0.1);
    try {
        parse_arms_text("[method]\nplugin = { grid = [\"c\", \"d\"] }\n[[arm]]\nname = \"x\"\n"
                        "method = { plugin = \"e\" }\n",
                        "s.toml");
        FAIL();
    } catch (const SweepError& e) {
        EXPECT_NE(std::string(e.what()).find("s.toml:5:21: arm 'x' sets method.plugin, which the sweep's plugin axis "
                                             "varies"),
                  std::string::npos)
            << e.what();
    }
}

// `--set SECTION.KEY=VALUE`: TOML values merged over the file after the profile, in order; each
// one is in the recorded source text; an arm's own keys still win (they are what makes the arm).
TEST(Sweep, SetOverridesKeysAfterTheProfileAndIsRecorded) {
    const char* text = kProfiled;
    SweepSpec s = parse_sweep_text(text, "s.toml", SweepVariant{"full", {"method.lr=0.5", "sweep.seeds=2"}});
    EXPECT_EQ(s.section("method")->fixed.at("lr").f, 0.5);
    EXPECT_EQ(s.section("method")->fixed.at("epochs").i, 3);
    EXPECT_TRUE(s.axes.empty());
    EXPECT_EQ(s.seeds.size(), 2u);
    EXPECT_NE(s.source_text.find("\n# ---- --set method.lr=0.5 ----\nmethod.lr=0.5\n"), std::string::npos);
    s = parse_sweep_text(text, "s.toml", SweepVariant{"", {"method.epochs = { grid = [1, 2] }", "method.epochs=4"}});
    EXPECT_EQ(s.section("method")->fixed.at("epochs").i, 4) << "the last --set of a key wins";
    s = parse_sweep_text(text, "s.toml", SweepVariant{"", {"model.plugin='mlp'", "model.width={ grid = [8, 16] }"}});
    EXPECT_EQ(s.section("model")->plugin, "mlp"); // a section the file does not have
    EXPECT_EQ(axis(s, "model.width").size(), 2u);

    auto arms = parse_arms_text(kArmed, "s.toml", SweepVariant{"", {"method.values=11", "method.tag=1"}});
    ASSERT_EQ(arms.size(), 3u);
    EXPECT_EQ(arms[0].section("method")->fixed.at("values").i, 11);
    EXPECT_EQ(arms[1].axes.at(0).label, "method.values"); // the arm's own grid
    EXPECT_EQ(arms[1].section("method")->fixed.at("tag").i, 9);
    EXPECT_EQ(arms[2].section("method")->fixed.at("tag").i, 1);
    EXPECT_NE(arms[1].source_text.find("# ---- --set method.tag=1 ----"), std::string::npos);
}

// A bare word is the string it spells (method.optimizer=adam), as Hydra reads it; TOML's own words
// and every value that parses keep their meaning; the marker keeps the flag as typed.
TEST(Sweep, SetReadsABareWordAsItsString) {
    SweepSpec s = parse_sweep_text(kProfiled, "s.toml",
                                   SweepVariant{"",
                                                {"method.optimizer=adam", "model.plugin = my-net_2.b",
                                                 "method.flag=true", "method.lr=1e-3", "method.x=inf"}});
    EXPECT_EQ(s.section("method")->fixed.at("optimizer").s, "adam");
    EXPECT_EQ(s.section("model")->plugin, "my-net_2.b");
    EXPECT_TRUE(s.section("method")->fixed.at("flag").b);
    EXPECT_EQ(s.section("method")->fixed.at("lr").f, 1e-3);
    EXPECT_TRUE(std::isinf(s.section("method")->fixed.at("x").f));
    EXPECT_NE(s.source_text.find("\n# ---- --set method.optimizer=adam ----\nmethod.optimizer=\"adam\"\n"),
              std::string::npos)
        << s.source_text;
    EXPECT_EQ(recorded_variant("", s.source_text).flags(),
              " --set 'method.optimizer=adam' --set 'model.plugin = my-net_2.b' --set 'method.flag=true' --set "
              "'method.lr=1e-3' --set 'method.x=inf'");
    auto arms = parse_arms_text(kArmed, "s.toml", SweepVariant{"", {"arm.wide.method.mode=fast"}});
    EXPECT_EQ(arms[1].section("method")->fixed.at("mode").s, "fast");
    // Not a word: still TOML's error, quoted as typed.
    try {
        parse_sweep_text(kProfiled, "s.toml", SweepVariant{"", {"method.lr=0.1x"}});
        ADD_FAILURE() << "parsed";
    } catch (const SweepError& e) {
        EXPECT_EQ(e.diagnostics.at(0).str().rfind("--set method.lr=0.1x:1:", 0), 0u) << e.diagnostics.at(0).str();
    }
}

// `--set '~SECTION.KEY'` removes a key the sweep sets (the plugin's default applies); a grid too;
// recorded like any override; a key the sweep does not set, a plugin or a non-section is an error.
TEST(Sweep, SetTildeRemovesAKey) {
    SweepSpec s = parse_sweep_text(kProfiled, "s.toml", SweepVariant{"full", {"~method.epochs", "~method.lr"}});
    EXPECT_FALSE(s.section("method")->fixed.count("epochs"));
    EXPECT_TRUE(s.axes.empty()); // the profile's lr grid is gone too
    EXPECT_EQ(s.seeds.size(), 5u);
    EXPECT_NE(s.source_text.find("\n# ---- --set ~method.epochs ----\n# method.epochs removed\n"), std::string::npos)
        << s.source_text;
    EXPECT_EQ(recorded_variant("full", s.source_text).flags(),
              " --profile full --set '~method.epochs' --set '~method.lr'");
    auto first_error = [](const std::string& set) {
        try {
            parse_sweep_text(kProfiled, "s.toml", SweepVariant{"", {set}});
        } catch (const SweepError& e) {
            return e.diagnostics.at(0).str();
        }
        return std::string("parsed");
    };
    EXPECT_EQ(first_error("~method.momentum"),
              "--set ~method.momentum:1:2: the sweep sets no method.momentum, so there is nothing to remove");
    EXPECT_EQ(first_error("~method.epoch"), "--set ~method.epoch:1:2: the sweep sets no method.epoch, so there is "
                                            "nothing to remove (did you mean 'method.epochs'?)");
    EXPECT_EQ(first_error("~method.plugin"),
              "--set ~method.plugin:1:2: a section's plugin cannot be removed; set another: method.plugin=NAME");
    for (const char* bad : {"~lr", "~metric.x", "~method", "~method.a.b"})
        EXPECT_NE(first_error(bad).find("~SECTION.KEY removes one key of [sweep]"), std::string::npos)
            << bad << ": " << first_error(bad);
}

// What the store records (the profile, the source text with the overrides appended) gives back the
// variant it was read with, so `iclr show` can name the flags of any run's sweep.
TEST(Sweep, TheRecordedSourceGivesBackItsVariant) {
    SweepVariant v{"full", {"method.lr=0.5", "method.epochs={ grid = [1, 2] }", "method.optimizer='a ----'"}};
    SweepSpec s = parse_sweep_text(kProfiled, "s.toml", v);
    SweepVariant back = recorded_variant("full", s.source_text);
    EXPECT_EQ(back.flags(), v.flags());
    EXPECT_EQ(recorded_variant("", parse_sweep_text(kProfiled, "s.toml", {}).source_text).flags(), "");
}

TEST(Sweep, ABadSetIsAnErrorThatQuotesIt) {
    auto first_error = [](const std::string& set) {
        try {
            parse_sweep_text("[method]\nplugin = \"m\"\n", "s.toml", SweepVariant{"", {set}});
        } catch (const SweepError& e) {
            return e.diagnostics.at(0).str();
        }
        return std::string("parsed");
    };
    EXPECT_EQ(first_error("method.lr=").rfind("--set method.lr=:1:11: expected SECTION.KEY=VALUE with a TOML value", 0),
              0u)
        << first_error("method.lr=");
    EXPECT_EQ(first_error("method.optimizer=adam x").rfind("--set method.optimizer=adam x:1:", 0), 0u)
        << first_error("method.optimizer=adam x"); // two words are not one (SetReadsABareWordAsItsString)
    for (const char* nothing : {"", "  # a comment"})
        EXPECT_NE(first_error(nothing).find("this sets nothing"), std::string::npos) << first_error(nothing);
    const std::string only = "changes one key of [sweep], [dataset], [pretrain], [model] or [method]";
    for (const char* bad : {"lr=0.1", "metric.plugin='x'", "method={ lr = 0.1 }", "include=['x.toml']"})
        EXPECT_NE(first_error(bad).find(only), std::string::npos) << bad << ": " << first_error(bad);
    EXPECT_EQ(first_error("method.lr={ grid = [] }").rfind("--set method.lr={ grid = [] }:1:", 0), 0u)
        << first_error("method.lr={ grid = [] }"); // the parser's own checks point into the --set
}

TEST(Sweep, AVariantAsFlagsQuotesEachSetForAShell) {
    EXPECT_EQ(SweepVariant{}.flags(), "");
    EXPECT_EQ((SweepVariant{"ci", {}}).flags(), " --profile ci");
    EXPECT_EQ((SweepVariant{"ci", {"method.lr=0.1"}}).arguments(), "--profile ci --set 'method.lr=0.1'");
    EXPECT_EQ((SweepVariant{"", {"method.lr=0.1"}}).arguments(), "--set 'method.lr=0.1'");
    EXPECT_EQ(SweepVariant{}.arguments(), "");
    EXPECT_EQ((SweepVariant{"", {"method.lr=0.1", "method.optimizer='adam'"}}).flags(),
              " --set 'method.lr=0.1' --set 'method.optimizer='\\''adam'\\'''");
    EXPECT_EQ((SweepVariant{"my profile", {}}).flags(), " --profile 'my profile'"); // a quoted TOML key
    // A path in a printed command: as it is when plain, else quoted.
    EXPECT_EQ(shell_word("results/iclr-2.db"), "results/iclr-2.db");
    EXPECT_EQ(shell_word("my db/r.db"), "'my db/r.db'");
    EXPECT_EQ(shell_word("~/r.db"), "'~/r.db'");
    EXPECT_EQ(shell_word("it's"), R"('it'\''s')");
    EXPECT_EQ(shell_word(""), "''");
}

// A variant's tag names its files (the report page) apart from the plain sweep's and each other's.
TEST(Sweep, EachVariantHasItsOwnTagForFileNames) {
    EXPECT_EQ(SweepVariant{}.tag(), "");
    EXPECT_EQ((SweepVariant{"ci", {}}).tag(), ".ci");
    EXPECT_EQ((SweepVariant{"a b/c", {}}).tag(), ".a_b_c");
    std::string one = SweepVariant{"ci", {"method.lr=0.1"}}.tag();
    EXPECT_TRUE(std::regex_match(one, std::regex("\\.ci\\.set-[0-9a-f]{8}"))) << one;
    EXPECT_EQ(one, (SweepVariant{"ci", {"method.lr=0.1"}}).tag()); // stable
    EXPECT_NE(one, (SweepVariant{"ci", {"method.lr=0.01"}}).tag());
    EXPECT_NE(one, (SweepVariant{"", {"method.lr=0.1"}}).tag());
    // Two sets are not their concatenation, and their order counts (a later set wins a shared key).
    EXPECT_NE((SweepVariant{"", {"a.b=1", "c.d=2"}}).tag(), (SweepVariant{"", {"c.d=2", "a.b=1"}}).tag());
    EXPECT_NE((SweepVariant{"", {"a.b=1", "c.d=2"}}).tag(), (SweepVariant{"", {"a.b=1c.d=2"}}).tag());
}
