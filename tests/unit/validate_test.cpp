// Schema validation: unknown plugins and keys (with suggestions), types, ranges, choices, broken plugins.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "common/trial_config.hpp"
#include "common/values.hpp"
#include "sweep/trial.hpp"
#include "sweep/validate.hpp"

using namespace iclr;

namespace {

ParamSchema param(const std::string& name, iclr_param_type t, const std::string& def, double lo = 1, double hi = 0,
                  std::vector<std::string> choices = {}) {
    ParamSchema p;
    p.name = name;
    p.type = t;
    p.default_toml = def;
    p.min = lo;
    p.max = hi;
    p.choices = std::move(choices);
    if (t == ICLR_PARAM_INT) p.default_value = Value::of_int(std::stoll(def));
    if (t == ICLR_PARAM_FLOAT) p.default_value = Value::of_float(std::stod(def));
    if (t == ICLR_PARAM_STRING) p.default_value = Value::of_string(def.substr(1, def.size() - 2));
    return p;
}

PluginRegistry registry() {
    PluginRecord m;
    m.ok = true;
    m.kind = ICLR_KIND_METHOD;
    m.name = "finetune";
    m.version = "1.0";
    m.params = {param("lr", ICLR_PARAM_FLOAT, "0.01", 0, 10), param("epochs", ICLR_PARAM_INT, "1", 1, 100),
                param("optimizer", ICLR_PARAM_STRING, "\"sgd\"", 1, 0, {"sgd", "adam"})};
    PluginRecord broken;
    broken.ok = false;
    broken.kind = ICLR_KIND_MODEL;
    broken.name = "vit";
    broken.file = "/x/vit.so";
    broken.error = "ABI mismatch: host provides 1.0, plugin was built for 2.0";
    PluginRecord metric;
    metric.ok = true;
    metric.kind = ICLR_KIND_METRIC;
    metric.name = "acc";
    metric.version = "1.0";
    metric.params = {param("every", ICLR_PARAM_INT, "1", 1, 100)};
    return PluginRegistry::with_records({m, broken, metric});
}

std::string validate_error(const std::string& text) {
    auto spec = parse_sweep_text(text, "v.toml");
    auto reg = registry();
    try {
        validate_sweep(spec, reg);
    } catch (const SweepError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST(Validate, AcceptsGoodValuesAndPromotesIntsToFloats) {
    auto spec = parse_sweep_text("[method]\nplugin = \"finetune\"\nlr = 1\nepochs = { grid = [1, 2] }\n", "v.toml");
    auto reg = registry();
    auto plugins = validate_sweep(spec, reg);
    ASSERT_EQ(plugins.size(), 1u);
    EXPECT_EQ(spec.sections[0].fixed.at("lr").type, Value::Type::Float);
    Expansion ex(spec);
    auto t = resolve_trial(spec, plugins, ex.at(1));
    EXPECT_EQ(t.parts[0].params.get_int("epochs"), 2);
    EXPECT_EQ(t.parts[0].params.get_string("optimizer"), "sgd"); // default filled in
    EXPECT_NE(t.config_toml.find("params = { epochs = 2, lr = 1.0, optimizer = \"sgd\" }"), std::string::npos)
        << t.config_toml;
    EXPECT_EQ(t.key.size(), 32u);
    EXPECT_NE(resolve_trial(spec, plugins, ex.at(0)).key, t.key);
}

// What a run with other plugin versions has in common with a trial: every line but the versions.
TEST(Validate, AConfigWithoutVersionsDropsTheVersionLinesAlone) {
    const std::string text = "seed = 3\n\n[method]\nplugin = \"noop\"\nversion = \"1.1.0\"\nparams = { values = 3, "
                             "version = 2 }\n\n[[metric]]\nplugin = \"acc\"\nversion = \"0.2.0\"\nparams = {}\n";
    EXPECT_EQ(config_without_versions(text), "seed = 3\n\n[method]\nplugin = \"noop\"\nparams = { values = 3, "
                                             "version = 2 }\n\n[[metric]]\nplugin = \"acc\"\nparams = {}\n");
    std::string older = text;
    older.replace(older.find("1.1.0"), 5, "1.0.0");
    EXPECT_EQ(config_without_versions(older), config_without_versions(text));
    EXPECT_NE(trial_key(older), trial_key(text));
}

// The canonical text part by part, each parameter's value as written: strings and lists with commas,
// brackets and escaped quotes in them stay one value.
TEST(Validate, AConfigSplitsIntoItsPartsAndParameterValues) {
    const std::string text = "seed = 3\n\n[method]\nplugin = \"noop\"\nversion = \"1.1.0\"\nparams = { a = \"x, "
                             "\\\"]y\", b = [1, [2, 3]], c = 0.5, version = 2 }\n\n[[metric]]\nplugin = "
                             "\"acc\"\nversion = \"0.2.0\"\nparams = {}\n";
    auto c = split_config(text);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->seed, 3);
    ASSERT_EQ(c->parts.size(), 2u);
    EXPECT_EQ(c->parts[0].role, "method");
    EXPECT_EQ(c->parts[0].plugin, "noop");
    EXPECT_EQ(c->parts[0].version, "1.1.0");
    EXPECT_EQ(c->parts[0].params, (std::map<std::string, std::string>{
                                      {"a", "\"x, \\\"]y\""}, {"b", "[1, [2, 3]]"}, {"c", "0.5"}, {"version", "2"}}));
    EXPECT_EQ(c->parts[1].role, "metric");
    EXPECT_EQ(c->parts[1].plugin, "acc");
    EXPECT_TRUE(c->parts[1].params.empty());
    // What canonical_config writes for a resolved trial splits back into its values.
    auto spec = parse_sweep_text("[method]\nplugin = \"finetune\"\nlr = 1\n", "v.toml");
    auto reg = registry();
    auto plugins = validate_sweep(spec, reg);
    auto t = resolve_trial(spec, plugins, Expansion(spec).at(0));
    auto back = split_config(t.config_toml);
    ASSERT_TRUE(back) << t.config_toml;
    for (const auto& [k, v] : t.parts[0].params.values)
        EXPECT_EQ(back->parts[0].params.at(k), value_to_toml(v)) << k;
    for (const char* bad : {"", "[method]\nplugin = \"noop\"\n", "seed = 1\nplugin = \"noop\"\n",
                            "seed = 1\n[method]\nparams = { a }\n", "seed = 1\n[method]\nwhat = 1\n"})
        EXPECT_FALSE(split_config(bad)) << bad;
}

TEST(Validate, UnknownKeySuggestsTheNearestParameter) {
    auto e = validate_error("[method]\nplugin = \"finetune\"\nlrr = 0.1\n");
    EXPECT_NE(e.find("v.toml:3:7: method 'finetune' has no parameter 'lrr' (did you mean 'lr'?)"), std::string::npos)
        << e;
}

TEST(Validate, ASweepKeyUnderAPluginsSectionIsSentToSweep) {
    for (const char* seeds : {"seeds = [0, 1]", "seeds = { grid = [0, 1] }"}) {
        auto e = validate_error(std::string("[method]\nplugin = \"finetune\"\n") + seeds + "\n");
        EXPECT_NE(e.find("v.toml:3:9: method 'finetune' has no parameter 'seeds' (`seeds` is a [sweep] key: move it "
                         "there)"),
                  std::string::npos)
            << e;
    }
}

TEST(Validate, TypeRangeAndChoiceErrorsAllAtOnceWithPositions) {
    auto e = validate_error(
        "[method]\nplugin = \"finetune\"\nlr = \"fast\"\nepochs = { grid = [1, 500] }\noptimizer = \"rmsprop\"\n");
    EXPECT_NE(e.find("v.toml:3:6: method.lr: expected a float, got string \"fast\""), std::string::npos) << e;
    EXPECT_NE(e.find("v.toml:4:23: method.epochs: 500 is out of range [1, 100]"), std::string::npos) << e;
    EXPECT_NE(e.find("v.toml:5:13: method.optimizer: \"rmsprop\" is not one of: sgd, adam"), std::string::npos) << e;
}

TEST(Validate, FloatForIntIsRefused) {
    auto e = validate_error("[method]\nplugin = \"finetune\"\nepochs = 2.5\n");
    EXPECT_NE(e.find("expected an int, got float 2.5"), std::string::npos) << e;
}

TEST(Validate, RandomBoundsAndKindsAreChecked) {
    auto e = validate_error("[sweep]\nsamples = 3\n[method]\nplugin = \"finetune\"\nlr = { loguniform = [1e-3, 100] }\n"
                            "epochs = { uniform = [1, 3] }\n");
    EXPECT_NE(e.find("method.lr: bound 100.0 is out of range"), std::string::npos) << e;
    EXPECT_NE(e.find("method.epochs: uniform draws floats but the parameter is int"), std::string::npos) << e;
}

TEST(Validate, UnknownAndBrokenPluginsNameTheProblem) {
    auto e = validate_error("[model]\nplugin = \"vit\"\n[method]\nplugin = \"finetun\"\n");
    // A registry made of records searched no folder; without ICLR_PLUGIN_PATH the line says how a
    // plugin built elsewhere is found (tests/e2e/plugin_author_test.cpp: the folders searched).
    const char* env = std::getenv("ICLR_PLUGIN_PATH");
    std::string hint =
        env && *env ? ")" : "; a plugin built elsewhere: put the plugins/ folder of its build in ICLR_PLUGIN_PATH)";
    EXPECT_NE(
        e.find("v.toml:4:10: unknown method plugin 'finetun' (did you mean 'finetune'?) (available: finetune" + hint),
        std::string::npos)
        << e;
    EXPECT_NE(e.find("v.toml:2:10: model plugin 'vit' is broken: ABI mismatch"), std::string::npos) << e;
}

// The parser refuses a section without a plugin name; validation must not pass one on as a null
// plugin either (plan dereferenced it: `plugin = ""` crashed `iclr plan` before 2026-12-04).
TEST(Validate, ASectionNamingNoPluginIsAnErrorNeverANullPlugin) {
    auto spec = parse_sweep_text("[method]\nplugin = \"finetune\"\n", "v.toml");
    spec.sections[0].plugin.clear(); // as a future parser bug could leave it
    auto reg = registry();
    try {
        validate_sweep(spec, reg);
        FAIL() << "accepted a section without a plugin";
    } catch (const SweepError& e) {
        EXPECT_EQ(std::string(e.what()), "v.toml:2:10: method names no plugin");
    }
}

// An unknown key under a metric names the role, as under any section, whether fixed or swept.
TEST(Validate, AnUnknownMetricKeyNamesTheRoleFixedOrSwept) {
    std::string base = "[method]\nplugin = \"finetune\"\n[[metric]]\nplugin = \"acc\"\n";
    EXPECT_NE(validate_error(base + "bogus = 3\n").find("v.toml:5:9: metric 'acc' has no parameter 'bogus'"),
              std::string::npos);
    EXPECT_NE(validate_error(base + "bogus = { grid = [1, 2] }\n").find("metric 'acc' has no parameter 'bogus'"),
              std::string::npos)
        << validate_error(base + "bogus = { grid = [1, 2] }\n");
}
