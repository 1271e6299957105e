// `iclr cache`: what the artifact cache beside the database holds, which runs used it, pruning it, its limit.
#include <ctime>
#include <filesystem>
#include <map>

#include <fmt/core.h>

#include "cache/artifact_cache.hpp"
#include "cli/commands.hpp"
#include "cli/table.hpp"
#include "common/duration.hpp"
#include "common/errors.hpp"
#include "store/query.hpp"
#include "store/store.hpp"

namespace iclr {
namespace {

// "Last used" is the later of a file's access and modification times. Workers set a data set's
// access time each time they map it (data_cache.cpp) and a backbone's each time they load it (the
// SDK's cache.hpp): the kernel's default `relatime` would move it at most once a day.
std::string when(double seconds) {
    char buf[32];
    std::tm tm{};
    const auto t = std::time_t(seconds);
    localtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

// Runs of this database that used each cache key, from the attributes workers record: cache_key
// (a pretrained backbone) and data_cache.<role> (a decoded data set).
std::map<std::string, std::pair<int64_t, int64_t>> runs_by_key(const std::string& db) {
    std::map<std::string, std::pair<int64_t, int64_t>> out; // key -> (runs, last run id)
    if (std::error_code ec; !std::filesystem::exists(db, ec)) return out;
    auto store = Store::open_read(db);
    ResultSet rs = run_query(*store,
                             "SELECT value, COUNT(DISTINCT run_id), MAX(run_id) FROM attributes WHERE key = "
                             "'cache_key' OR key LIKE 'data_cache.%' GROUP BY value",
                             true);
    for (const auto& r : rs.rows)
        out[r[0]] = {std::stoll(r[1]), std::stoll(r[2])};
    return out;
}

uintmax_t total_bytes(const std::vector<CacheEntry>& entries) {
    uintmax_t n = 0;
    for (const auto& e : entries)
        n += e.bytes;
    return n;
}

int summary(const std::filesystem::path& dir, const std::vector<CacheEntry>& entries) {
    std::map<std::string, std::tuple<int, uintmax_t, double>> kinds; // entries, bytes, last used
    for (const auto& e : entries) {
        auto& [n, bytes, last] = kinds[e.kind];
        ++n;
        bytes += e.bytes;
        last = std::max(last, e.last_used);
    }
    auto bytes = read_limit(dir);
    fmt::print("{}: {} entr{}, {}{}\n", dir.string(), entries.size(), entries.size() == 1 ? "y" : "ies",
               format_size(total_bytes(entries)), bytes ? " of its limit " + format_size(*bytes) : "");
    ResultSet rs;
    rs.columns = {"kind", "entries", "size", "last used"};
    for (const auto& [kind, v] : kinds)
        rs.rows.push_back({kind, std::to_string(std::get<0>(v)), format_size(std::get<1>(v)), when(std::get<2>(v))});
    if (!rs.rows.empty()) fmt::print("{}", render(rs, Format::Table));
    return 0;
}

// The table shows sizes as people read them; CSV and JSON give bytes and run ids as numbers.
int list(const std::vector<CacheEntry>& entries, const std::string& db, Format f) {
    const bool machine = f == Format::Csv || f == Format::Json;
    auto runs = runs_by_key(db);
    ResultSet rs;
    rs.columns = machine ? std::vector<std::string>{"kind", "key", "bytes", "last_used", "runs", "last_run"}
                         : std::vector<std::string>{"kind", "key", "size", "last used", "runs", "last run"};
    for (const auto& e : entries) {
        auto it = runs.find(e.key);
        const bool used = it != runs.end();
        rs.rows.push_back({e.kind, e.key, machine ? std::to_string(e.bytes) : format_size(e.bytes), when(e.last_used),
                           used ? std::to_string(it->second.first) : "0",
                           used ? std::to_string(it->second.second) : ""});
        rs.is_number.push_back({false, false, machine, false, true, used});
        rs.is_null.push_back({false, false, false, false, false, !used});
    }
    fmt::print("{}", render(rs, f));
    return 0;
}

int prune(const std::filesystem::path& dir, const CacheOptions& o) {
    PruneRule rule;
    rule.all = o.all;
    rule.dry_run = o.dry_run;
    if (!o.older_than.empty() && !(rule.older_than_s = parse_duration(o.older_than)))
        throw UserError("--older-than: '" + o.older_than + "' is not a duration (\"12h\", \"30d\")");
    if (!o.max_size.empty() && !(rule.max_bytes = parse_size(o.max_size)))
        throw UserError("--max-size: '" + o.max_size + "' is not a size (\"500M\", \"20G\")");
    if (!rule.all && !rule.older_than_s && !rule.max_bytes)
        throw UserError("iclr cache prune: say what to remove: --older-than, --max-size or --all");
    PruneResult r = prune_cache(dir, rule, std::time(nullptr));
    const char* verb = o.dry_run ? "would remove" : "removed";
    for (const auto& e : r.removed)
        fmt::print("{} {}/{} ({}, last used {})\n", verb, e.kind, e.file.filename().string(), format_size(e.bytes),
                   when(e.last_used));
    for (const auto& e : r.busy)
        fmt::print("kept {}/{}: a worker is using it now\n", e.kind, e.file.filename().string());
    fmt::print("{} {} entr{} ({}){}; {} left\n", verb, r.removed.size(), r.removed.size() == 1 ? "y" : "ies",
               format_size(r.bytes_removed),
               r.temporaries_removed ? fmt::format(" and {} leftover temporar{}", r.temporaries_removed,
                                                   r.temporaries_removed == 1 ? "y" : "ies")
                                     : "",
               format_size(total_bytes(list_cache(dir)) - (o.dry_run ? r.bytes_removed : 0)));
    return 0;
}

// Prunes least recently used entries until the rest fit in `bytes`, saying what went.
void prune_to_limit(const std::filesystem::path& dir, uintmax_t bytes) {
    PruneRule rule;
    rule.max_bytes = bytes;
    PruneResult r = prune_cache(dir, rule, std::time(nullptr));
    if (!r.removed.empty())
        fmt::print("cache: removed {} entr{} ({}), least recently used first, to keep {} under its limit of {}\n",
                   r.removed.size(), r.removed.size() == 1 ? "y" : "ies", format_size(r.bytes_removed), dir.string(),
                   format_size(bytes));
    if (!r.busy.empty())
        fmt::print("cache: kept {} entr{} over the limit that a worker is using now\n", r.busy.size(),
                   r.busy.size() == 1 ? "y" : "ies");
}

// `iclr cache limit [SIZE|none]`: says the limit, or sets or removes it; a new limit applies at once.
int limit(const std::filesystem::path& dir, const std::string& value) {
    if (value.empty()) {
        auto bytes = read_limit(dir);
        fmt::print("{}\n",
                   bytes ? "limit: " + format_size(*bytes) +
                               " (`iclr run` keeps the cache under it as it adds entries and when it ends)"
                         : std::string("no limit: the cache grows until pruned (`iclr cache limit 20G` sets one)"));
        return 0;
    }
    if (value == "none") {
        write_limit(dir, std::nullopt);
        fmt::print("no limit: the cache grows until pruned\n");
        return 0;
    }
    auto bytes = parse_size(value);
    if (!bytes) throw UserError("iclr cache limit: '" + value + "' is not a size (\"500M\", \"20G\") or none");
    write_limit(dir, value);
    fmt::print(
        "limit: {}; `iclr run` keeps the cache under it as it adds entries and when it ends, least recently used "
        "entries first\n",
        format_size(*bytes));
    prune_to_limit(dir, *bytes);
    return 0;
}

} // namespace

void keep_cache_limit(const std::filesystem::path& dir) {
    try {
        if (auto bytes = read_limit(dir)) prune_to_limit(dir, *bytes);
    } catch (const HostError& e) { // a finished run's outcome stands: a limit it could not keep is a warning
        fmt::print(stderr, "iclr: cache limit not kept: {}\n", e.what());
    }
}

int cmd_cache(const CacheOptions& o) {
    const std::string db = o.common.db_path();
    const std::filesystem::path dir = ResultsLayout(db).cache_dir();
    if (!o.value.empty() && o.action != "limit")
        throw UserError("iclr cache " + (o.action.empty() ? std::string() : o.action + " ") + "takes no '" + o.value +
                        "'; a size goes to `iclr cache limit SIZE` or `iclr cache prune --max-size SIZE`");
    if (o.action == "limit") return limit(dir, o.value);
    if (o.action == "prune") return prune(dir, o);
    auto entries = list_cache(dir);
    if (o.action == "list") return list(entries, db, parse_format(o.format));
    return summary(dir, entries);
}

} // namespace iclr
