// Verdict rows: the keys of the runs a verdict used are hashed, so a later reader can tell
// whether the same runs would give it again.
#include "store/verdicts.hpp"

#include <algorithm>

#include "common/build_info.hpp"
#include "common/file_hash.hpp"

namespace iclr {

RunsHash runs_hash(Store& store, const std::vector<int64_t>& ids, bool before_rekey) {
    std::vector<std::string> keys;
    Statement k(store.db(), before_rekey ? "SELECT COALESCE(k.old_key, r.key) FROM runs r LEFT JOIN rekeyed_runs k "
                                           "ON k.run_id = r.id WHERE r.id = ?"
                                         : "SELECT key FROM runs WHERE id = ?");
    for (int64_t id : ids) {
        k.bind(1, id);
        if (k.step()) keys.push_back(k.col_text(0));
        k.reset();
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    Sha256 h;
    for (const auto& key : keys)
        h.update(key + "\n");
    return {int64_t(keys.size()), h.hex()};
}

std::string record_verdict(Store& store, const VerdictRow& v) {
    std::optional<int64_t> runs_count;
    std::string runs_sha;
    if (v.has_run_ids) {
        RunsHash h = runs_hash(store, v.run_ids);
        runs_count = h.count;
        runs_sha = h.sha256;
    }
    store.begin();
    Statement st(store.db(), "INSERT INTO verdicts(sweep_file, sweep_sha256, claim, source, kind, sql, n, estimate, "
                             "ci_low, ci_high, verdict, reason, runs_count, runs_sha256, iclr_version, git_commit, "
                             "created_at, variant) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, v.sweep_file).bind(2, v.sweep_sha256).bind(3, v.claim).bind_or_null(4, v.source).bind(5, v.kind);
    st.bind(6, v.sql).bind(7, v.n);
    for (int i = 0; i < 3; ++i) {
        const std::optional<double>& x = i == 0 ? v.estimate : i == 1 ? v.ci_low : v.ci_high;
        if (x)
            st.bind(8 + i, *x);
        else
            st.bind_null(8 + i);
    }
    st.bind(11, v.verdict).bind_or_null(12, v.reason).bind_or_null(13, runs_count).bind_or_null(14, runs_sha);
    st.bind(15, std::string(iclr_build())).bind_or_null(16, v.git_commit).bind(17, now_iso()).bind(18, v.variant);
    st.run();
    store.commit();
    return runs_sha;
}

std::optional<PastVerdict> last_verdict(Store& store, const std::string& sweep_file, const std::string& variant,
                                        const std::string& claim) {
    Statement st(store.db(),
                 "SELECT verdict, created_at, COALESCE(runs_sha256, ''), iclr_version, sql, n FROM verdicts "
                 "WHERE sweep_file = ? AND variant = ? AND claim = ? ORDER BY id DESC LIMIT 1");
    st.bind(1, sweep_file).bind(2, variant).bind(3, claim);
    if (!st.step()) return std::nullopt;
    return PastVerdict{st.col_text(0), st.col_text(1), st.col_text(2), st.col_text(3), st.col_text(4), st.col_int(5)};
}

} // namespace iclr
