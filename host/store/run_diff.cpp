// Reads two runs and lines up their parameters, provenance and final metrics for `iclr diff`.
#include "store/run_diff.hpp"

#include <map>
#include <tuple>

#include "common/values.hpp"
#include "store/query.hpp"

namespace iclr {
namespace {

// Run b of another database is "run N (against)": the same id may name another trial there.
std::string run_label(const RunDetails& d, bool against = false) {
    return "run " + std::to_string(d.id) + (against ? " (against)" : "");
}

void add_row(ResultSet& rs, std::vector<std::string> cells, std::vector<bool> nulls, std::vector<bool> numbers) {
    rs.rows.push_back(std::move(cells));
    rs.is_null.push_back(std::move(nulls));
    rs.is_number.push_back(std::move(numbers));
}

// A run's parameters by key: the text shown (lists as JSON text) and an identity that is equal only
// for equal values of one type (a REAL to 17 digits, as it round-trips).
std::map<std::string, std::pair<std::string, std::string>> params_of(Store& store, int64_t run) {
    Statement st(store.db(), "SELECT p.key, " + param_text_sql("p") +
                                 ", typeof(p.value) || ':' || COALESCE(p.type, '') || ':' || CASE typeof(p.value) "
                                 "WHEN 'real' THEN printf('%!.17g', p.value) ELSE CAST(p.value AS TEXT) END "
                                 "FROM params p WHERE p.run_id = ?1");
    st.bind(1, run);
    std::map<std::string, std::pair<std::string, std::string>> out;
    while (st.step())
        out[st.col_text(0)] = {st.col_null(1) ? "" : st.col_text(1), st.col_text(2)};
    return out;
}

// Parameters of both runs by key, plus the seed; rows only where they differ.
void diff_config(Store& store_a, Store& store_b, RunDiff& d, bool against) {
    d.config.columns = {"key", run_label(d.a), run_label(d.b, against)};
    auto pa = params_of(store_a, d.a.id), pb = params_of(store_b, d.b.id);
    std::map<std::string,
             std::pair<const std::pair<std::string, std::string>*, const std::pair<std::string, std::string>*>>
        keys;
    for (const auto& [k, v] : pa)
        keys[k].first = &v;
    for (const auto& [k, v] : pb)
        keys[k].second = &v;
    for (const auto& [key, ab] : keys) {
        const auto *a = ab.first, *b = ab.second;
        if (a && b && a->second == b->second) {
            ++d.config_same;
            continue;
        }
        add_row(d.config, {key, a ? a->first : "", b ? b->first : ""}, {false, !a, !b}, {false, false, false});
    }
    if (d.a.seed == d.b.seed)
        ++d.config_same;
    else
        add_row(d.config, {"seed", d.a.seed, d.b.seed}, {false, false, false}, {false, true, true});
}

// Each plugin role as "name version sha256[:12]", and "git COMMIT[:12]" for one built outside iclr's tree.
std::map<std::string, std::string> plugins_of(const RunDetails& d) {
    std::map<std::string, std::string> out;
    for (const auto& p : d.plugins)
        out["plugin " + p.role] =
            p.name + " " + p.version + " " + p.sha256.substr(0, 12) + (p.git.empty() ? "" : " git " + p.git_short());
    return out;
}

void diff_provenance(RunDiff& d, bool against) {
    d.provenance.columns = {"field", run_label(d.a), run_label(d.b, against)};
    auto dirty = [](int f) { return f < 0 ? std::string() : f ? "dirty" : "clean"; };
    std::vector<std::tuple<std::string, std::string, std::string>> fields{
        {"sweep", d.a.sweep + " #" + d.a.sweep_id, d.b.sweep + " #" + d.b.sweep_id},
        {"arm", d.a.arm, d.b.arm},
        {"status", d.a.status, d.b.status},
        {"git commit", d.a.git_commit, d.b.git_commit},
        {"git tree", dirty(d.a.git_dirty), dirty(d.b.git_dirty)},
        {"iclr build", d.a.iclr_build, d.b.iclr_build},
        {"host", d.a.host, d.b.host},
        {"threads", d.a.threads, d.b.threads},
        {"device", d.a.device, d.b.device},
        {"libtorch", d.a.torch_version, d.b.torch_version},
        {"kernels", d.a.kernels, d.b.kernels},
        {"error", d.a.error, d.b.error}};
    auto pa = plugins_of(d.a), pb = plugins_of(d.b);
    std::map<std::string, std::pair<std::string, std::string>> roles;
    for (const auto& [role, what] : pa)
        roles[role].first = what;
    for (const auto& [role, what] : pb)
        roles[role].second = what;
    for (const auto& [role, ab] : roles)
        fields.emplace_back(role, ab.first, ab.second);
    for (const auto& [field, a, b] : fields) {
        if (a == b) {
            ++d.provenance_same;
            continue;
        }
        add_row(d.provenance, {field, a, b}, {false, a.empty(), b.empty()}, {false, false, false});
    }
}

std::string metric_text(const RunDetails::FinalMetric& m) {
    return m.nonfinite.empty() ? six_digits(m.value) : m.nonfinite;
}

void pair_metrics(RunDiff& d, bool against) {
    d.metrics.columns = {"key", "task", run_label(d.a), run_label(d.b, against), "b - a"};
    using Key = std::pair<std::string, int64_t>; // task -1 = none
    std::map<Key, std::pair<const RunDetails::FinalMetric*, const RunDetails::FinalMetric*>> both;
    for (const auto& m : d.a.final_metrics)
        both[{m.key, m.task.value_or(-1)}].first = &m;
    for (const auto& m : d.b.final_metrics)
        both[{m.key, m.task.value_or(-1)}].second = &m;
    for (const auto& [k, ab] : both) {
        const auto *a = ab.first, *b = ab.second;
        bool delta = a && b && a->nonfinite.empty() && b->nonfinite.empty();
        add_row(d.metrics,
                {k.first, k.second < 0 ? "" : std::to_string(k.second), a ? metric_text(*a) : "",
                 b ? metric_text(*b) : "", delta ? six_digits(b->value - a->value) : ""},
                {false, k.second < 0, !a, !b, !delta},
                {false, true, a && a->nonfinite.empty(), b && b->nonfinite.empty(), delta});
    }
}

} // namespace

RunDiffResult load_run_diff(Store& store_a, const std::string& a, Store& store_b, const std::string& b) {
    auto ra = load_run_details(store_a, a);
    if (!ra) return {std::nullopt, a};
    auto rb = load_run_details(store_b, b);
    if (!rb) return {std::nullopt, b};
    const bool against = &store_a != &store_b;
    RunDiff d{*ra, *rb, {}, {}, 0, 0, {}};
    diff_config(store_a, store_b, d, against);
    diff_provenance(d, against);
    pair_metrics(d, against);
    return {std::move(d), ""};
}

} // namespace iclr
