// A trial's key lists its metrics by plugin name: the file's order of [[metric]] blocks moves no key,
// and a database of schema 8 (which kept that order) is given the keys its trials have today.
#include <gtest/gtest.h>

#include "common/file_hash.hpp"
#include "common/trial_key.hpp"
#include "store/schema.hpp"
#include "store/store.hpp"
#include "store/verdicts.hpp"
#include "sweep/sweep.hpp"
#include "sweep/trial.hpp"
#include "test_util.hpp"

using namespace iclr;

namespace {

PluginRecord plugin_named(const std::string& name) {
    PluginRecord p;
    p.ok = true;
    p.name = name;
    p.version = "0.1.0";
    ParamSchema eval;
    eval.name = "eval";
    eval.type = ICLR_PARAM_STRING;
    eval.default_value = Value::of_string("task");
    p.params.push_back(eval);
    return p;
}

// The one trial of a sweep of the noop method and these metric plugins, in this order.
ResolvedTrial trial_with_metrics(const std::vector<std::string>& metrics, SweepSpec& spec,
                                 std::vector<PluginRecord>& records) {
    std::string text = "[sweep]\nseeds = 1\n[method]\nplugin = \"noop\"\n";
    for (const auto& m : metrics)
        text += "[[metric]]\nplugin = \"" + m + "\"\n";
    spec = test::sweep_from_text(text);
    records.clear();
    records.reserve(spec.sections.size());
    std::vector<const PluginRecord*> plugins;
    for (const auto& s : spec.sections)
        plugins.push_back(&records.emplace_back(plugin_named(s.plugin)));
    return resolve_trial(spec, plugins, TrialPoint{0, 0, {}});
}

std::string metric_block(const std::string& name, const std::string& eval = "task") {
    return "\n[[metric]]\nplugin = \"" + name + "\"\nversion = \"0.1.0\"\nparams = { eval = \"" + eval + "\" }\n";
}

const std::string kHead =
    "seed = 0\n\n[method]\nplugin = \"noop\"\nversion = \"0.1.0\"\nparams = { eval = \"task\" }\n";

} // namespace

TEST(TrialKey, MovingMetricBlocksInTheFileMovesNoKey) {
    SweepSpec a_spec, b_spec;
    std::vector<PluginRecord> a_plugins, b_plugins;
    ResolvedTrial a = trial_with_metrics({"forgetting", "avg_accuracy", "bwt"}, a_spec, a_plugins);
    ResolvedTrial b = trial_with_metrics({"bwt", "forgetting", "avg_accuracy"}, b_spec, b_plugins);
    EXPECT_EQ(a.key, b.key);
    EXPECT_EQ(a.config_toml, b.config_toml);
    EXPECT_EQ(a.config_toml, kHead + metric_block("avg_accuracy") + metric_block("bwt") + metric_block("forgetting"));
    EXPECT_EQ(a.key, trial_key(a.config_toml));
    // The parts keep the file's order (a section's index), the worker gets them in the key's.
    EXPECT_EQ(a.parts[1].plugin->name, "forgetting");
    std::vector<std::string> run_order;
    for (const ResolvedPart* p : parts_in_key_order(a.parts))
        run_order.push_back(p->plugin->name);
    EXPECT_EQ(run_order, (std::vector<std::string>{"noop", "avg_accuracy", "bwt", "forgetting"}));
}

TEST(TrialKey, APluginNamedTwiceKeepsTheFileOrder) {
    // metric.1 and metric.2 are labelled by their place in the file: swapped, they are another trial.
    EXPECT_EQ(metric_key_order({"ood", "acc", "ood"}), (std::vector<size_t>{0, 1, 2}));
    EXPECT_EQ(metric_key_order({"ood", "acc"}), (std::vector<size_t>{1, 0}));
    EXPECT_EQ(metric_key_order({}), std::vector<size_t>{});
    const std::string twice = kHead + metric_block("ood", "b") + metric_block("acc") + metric_block("ood", "a");
    EXPECT_EQ(config_in_key_order(twice), twice);
}

TEST(TrialKey, ARecordedConfigIsPutInKeyOrderAndAnOrderedOneIsLeftAsItIs) {
    const std::string ordered =
        kHead + metric_block("avg_accuracy") + metric_block("bwt", "class") + metric_block("forgetting");
    const std::string filed =
        kHead + metric_block("forgetting") + metric_block("avg_accuracy") + metric_block("bwt", "class");
    EXPECT_EQ(config_in_key_order(filed), ordered);
    EXPECT_EQ(config_in_key_order(ordered), ordered);
    EXPECT_EQ(config_in_key_order(kHead), kHead);                         // no metric
    EXPECT_EQ(config_in_key_order("not = [a config"), "not = [a config"); // not canonical: as it is
    // A string parameter holding what looks like a block boundary is one line of the text (\n escaped).
    const std::string odd = kHead + metric_block("zz", "x\\n[[metric]]\\nplugin = \\\"aa") + metric_block("mm");
    EXPECT_EQ(config_in_key_order(odd),
              kHead + metric_block("mm") + metric_block("zz", "x\\n[[metric]]\\nplugin = \\\"aa"));
}

namespace {

// A database as schema 8 left it, with runs of these configs: (config, status, finished_at).
struct OldRun {
    std::string config, status, finished_at;
};
void write_version8_database(const std::string& path, const std::vector<OldRun>& runs) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    for (int k = 0; k < 8; ++k)
        exec_sql(db, migrations()[size_t(k)]);
    exec_sql(db, "PRAGMA user_version = 8");
    exec_sql(db,
             "INSERT INTO sweeps(name, file, source, source_sha256, created_at) VALUES ('s', 's.toml', '', '', 'now')");
    for (const auto& r : runs) {
        Statement st(db, "INSERT INTO runs(key, sweep_id, trial_index, seed, status, config_toml, config_json, "
                         "plugins_json, created_at, finished_at) VALUES (?, 1, 0, 0, ?, ?, ?, '{}', 'then', ?)");
        st.bind(1, trial_key(r.config)).bind(2, r.status).bind(3, r.config).bind(4, config_json(r.config));
        st.bind(5, r.finished_at);
        st.run();
    }
    sqlite3_close(db);
}

std::vector<std::pair<std::string, std::string>> keys_and_configs(Store& s) {
    std::vector<std::pair<std::string, std::string>> out;
    Statement st(s.db(), "SELECT key, config_toml, config_json FROM runs ORDER BY id");
    while (st.step()) {
        EXPECT_EQ(st.col_text(2), config_json(st.col_text(1))); // the JSON follows the text
        out.emplace_back(st.col_text(0), st.col_text(1));
    }
    return out;
}

int64_t count_rows(Store& s, const std::string& table) {
    Statement st(s.db(), "SELECT COUNT(*) FROM " + table);
    st.step();
    return st.col_int(0);
}

} // namespace

TEST(TrialKey, ASchema8DatabaseGivesEachRunTheKeyItsTrialHasToday) {
    const std::string a = metric_block("avg_accuracy"), b = metric_block("bwt"), f = metric_block("forgetting");
    const std::string x = kHead + a + b + f, y = "seed = 1" + (kHead + a + f).substr(8);
    const std::string twice = kHead + metric_block("ood", "b") + metric_block("ood", "a");
    std::vector<OldRun> runs = {
        {kHead + f + b + a, "done", "2026-01-02"},   // 1: trial x, one order
        {kHead + b + f + a, "done", "2026-01-03"},   // 2: trial x, another order, finished last: it stands
        {kHead + f + a + b, "failed", "2026-01-04"}, // 3: trial x, failed: a finished run stands before it
        {"seed = 1" + (kHead + f + a).substr(8), "done", "2026-01-01"}, // 4: trial y, alone: rekeyed
        {twice, "done", "2026-01-01"},                                  // 5: a plugin named twice: as recorded
    };
    test::TempDir dir;
    const std::string path = dir.file("r.db");
    write_version8_database(path, runs);
    {
        auto s = Store::open_read(path); // a reader sees the migrated copy; the file is left as it is
        auto seen = keys_and_configs(*s);
        EXPECT_EQ(seen[1], std::make_pair(trial_key(x), x));
    }
    {
        sqlite3* db = nullptr;
        sqlite3_open(path.c_str(), &db);
        Statement v(db, "PRAGMA user_version");
        v.step();
        EXPECT_EQ(v.col_int(0), 8);
        sqlite3_close(db);
    }
    auto s = Store::open_write(path);
    EXPECT_EQ(s->version(), schema_version());
    auto seen = keys_and_configs(*s);
    ASSERT_EQ(seen.size(), 5u); // nothing deleted
    EXPECT_EQ(seen[0], std::make_pair(trial_key(runs[0].config), runs[0].config));
    EXPECT_EQ(seen[1], std::make_pair(trial_key(x), x));
    EXPECT_EQ(seen[2], std::make_pair(trial_key(runs[2].config), runs[2].config));
    EXPECT_EQ(seen[3], std::make_pair(trial_key(y), y));
    EXPECT_EQ(seen[4], std::make_pair(trial_key(twice), twice));
    EXPECT_EQ(s->find_run(trial_key(x))->id, 2);
    // The keys it rewrote, for journals written before (Slurm): run 2's and run 4's, no other.
    EXPECT_EQ(s->key_rewritten_from(trial_key(runs[1].config)), trial_key(x));
    EXPECT_EQ(s->key_rewritten_from(trial_key(runs[3].config)), trial_key(y));
    EXPECT_FALSE(s->key_rewritten_from(trial_key(runs[0].config)).has_value());
    EXPECT_FALSE(s->key_rewritten_from(trial_key(x)).has_value());
    EXPECT_EQ(count_rows(*s, "rekeyed_runs"), 2);
}

TEST(TrialKey, ARunAlreadyInKeyOrderKeepsItsKey) {
    const std::string a = metric_block("avg_accuracy"), f = metric_block("forgetting");
    test::TempDir dir;
    const std::string path = dir.file("r.db");
    // The sweep run in the file's order (f, a), then with its blocks moved (a, f) by an iclr that
    // kept the file's order: the second run's config is today's already and keeps the key.
    write_version8_database(path, {{kHead + f + a, "done", "2026-01-05"}, {kHead + a + f, "failed", "2026-01-01"}});
    auto s = Store::open_write(path);
    auto seen = keys_and_configs(*s);
    EXPECT_EQ(seen[0], std::make_pair(trial_key(kHead + f + a), kHead + f + a));
    EXPECT_EQ(seen[1], std::make_pair(trial_key(kHead + a + f), kHead + a + f));
}

// A verdict recorded before the migration hashed the runs' keys of then: the same runs hashed by the
// keys they had before it give that hash again, so verify can tell "the same runs" from "other runs".
TEST(TrialKey, TheRunsOfAVerdictRecordedBeforeTheMigrationHashAsTheyDidThen) {
    const std::string a = metric_block("avg_accuracy"), f = metric_block("forgetting");
    const std::string one = kHead + f + a, two = "seed = 1" + one.substr(8),
                      three = "seed = 2" + (kHead + a + f).substr(8);
    test::TempDir dir;
    const std::string path = dir.file("r.db");
    write_version8_database(path, {{one, "done", "1"}, {two, "done", "2"}, {three, "done", "3"}});
    RunsHash then;
    {
        sqlite3* db = nullptr;
        sqlite3_open(path.c_str(), &db);
        Statement st(db, "SELECT group_concat(key, char(10)) || char(10) FROM (SELECT key FROM runs ORDER BY key)");
        st.step();
        Sha256 h;
        h.update(st.col_text(0));
        then.sha256 = h.hex();
        sqlite3_close(db);
    }
    auto s = Store::open_write(path); // runs 1 and 2 rekeyed, run 3 in key order already
    const RunsHash now = runs_hash(*s, {1, 2, 3, 2}), before = runs_hash(*s, {3, 1, 2}, true);
    EXPECT_EQ(now.count, 3);
    EXPECT_NE(now.sha256, then.sha256);
    EXPECT_EQ(before.sha256, then.sha256);
    EXPECT_EQ(before.count, 3);
    EXPECT_EQ(runs_hash(*s, {3}, true).sha256, runs_hash(*s, {3}).sha256); // not rekeyed: its one key
}
