// The run folder's files: plan.toml (TOML, written and read here), jobs.txt, journals/, logs/.
#include "slurm/run_folder.hpp"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include <toml++/toml.h>

#include "common/errors.hpp"
#include "common/values.hpp"

namespace iclr {
namespace fs = std::filesystem;
namespace {

constexpr int64_t kPlanFormat = 1;

std::string q(const std::string& s) { return json_escape(s); } // a TOML basic string

template <class T> T get(const toml::table& t, const char* key, const std::string& where) {
    auto v = t[key].value<T>();
    if (!v) throw UserError(where + ": missing or mistyped '" + key + "'");
    return *v;
}

FrozenTrial read_trial(const toml::table& t, const std::string& where) {
    return {get<int64_t>(t, "run_id", where), get<std::string>(t, "key", where), get<std::string>(t, "label", where),
            get<std::string>(t, "payload", where), float(t["cost"].value_or(0.0))};
}

// "12_3.0.jnl" -> (12, 3, 0) for ordering; unparsable names sort last, by name.
std::tuple<int64_t, int64_t, int64_t, std::string> journal_order(const fs::path& p) {
    static const std::regex re(R"((\d+)_(\d+)\.(\d+)\.jnl)");
    std::smatch m;
    std::string name = p.filename().string();
    if (std::regex_match(name, m, re)) return {std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3]), name};
    return {INT64_MAX, 0, 0, name};
}

} // namespace

std::pair<size_t, size_t> FrozenPlan::slice(int64_t task) const {
    size_t first = std::min(trials.size(), size_t(task) * size_t(trials_per_task));
    return {first, std::min(trials.size(), first + size_t(trials_per_task))};
}

fs::path RunFolder::journal_file(const std::string& job_task, int64_t restart) const {
    return journals_dir() / (job_task + "." + std::to_string(restart) + ".jnl");
}

void RunFolder::write_plan(const FrozenPlan& p) const {
    fs::create_directories(journals_dir());
    fs::create_directories(logs_dir());
    std::ostringstream o;
    o << "# The frozen plan of a sweep handed to Slurm (iclr writes this; array tasks read it).\n"
      << "format = " << kPlanFormat << "\nsweep = " << q(p.sweep_name) << "\nsweep_id = " << p.sweep_id
      << "\ndb = " << q(p.db_path) << "\ncreated_at = " << q(p.created_at) << "\niclr_build = " << q(p.iclr_build)
      << "\ntrials_per_task = " << p.trials_per_task << "\njobs_per_task = " << p.jobs_per_task
      << "\nthreads = " << p.threads << "\ntimeout_s = " << value_to_toml(Value::of_float(p.timeout_s))
      << "\nmemory_mb = " << p.memory_mb << "\n";
    for (const auto& pl : p.plugins)
        o << "\n[[plugin]]\nfile = " << q(pl.file) << "\nsha256 = " << q(pl.sha256) << "\n";
    for (const auto& t : p.trials)
        o << "\n[[trial]]\nrun_id = " << t.run_id << "\nkey = " << q(t.key) << "\nlabel = " << q(t.label)
          << "\ncost = " << value_to_toml(Value::of_float(t.cost)) << "\npayload = " << q(t.payload) << "\n";
    fs::path tmp = plan_file().string() + ".tmp";
    {
        std::ofstream out(tmp);
        out << o.str();
        out.close();
        if (!out) throw HostError("cannot write " + tmp.string());
    }
    fs::rename(tmp, plan_file());
}

FrozenPlan RunFolder::read_plan() const {
    std::string where = plan_file().string();
    toml::parse_result parsed = toml::parse_file(where);
    if (!parsed) throw UserError(where + ": not a plan iclr can read: " + std::string(parsed.error().description()));
    const toml::table& t = parsed.table();
    if (t["format"].value<int64_t>() != kPlanFormat)
        throw UserError(where + ": plan format " + std::to_string(t["format"].value_or(int64_t(0))) +
                        " is not the one this iclr writes (" + std::to_string(kPlanFormat) + ")");
    FrozenPlan p;
    p.sweep_name = get<std::string>(t, "sweep", where);
    p.sweep_id = get<int64_t>(t, "sweep_id", where);
    p.db_path = get<std::string>(t, "db", where);
    p.created_at = get<std::string>(t, "created_at", where);
    p.iclr_build = t["iclr_build"].value_or(std::string());
    p.trials_per_task = int(get<int64_t>(t, "trials_per_task", where));
    p.jobs_per_task = int(get<int64_t>(t, "jobs_per_task", where));
    p.threads = int(get<int64_t>(t, "threads", where));
    p.timeout_s = get<double>(t, "timeout_s", where);
    p.memory_mb = get<int64_t>(t, "memory_mb", where);
    if (p.trials_per_task < 1) throw UserError(where + ": trials_per_task must be at least 1");
    if (auto* arr = t["plugin"].as_array())
        for (const auto& e : *arr)
            if (auto* pt = e.as_table())
                p.plugins.push_back({get<std::string>(*pt, "file", where), get<std::string>(*pt, "sha256", where)});
    if (auto* arr = t["trial"].as_array())
        for (const auto& e : *arr)
            if (auto* tt = e.as_table()) p.trials.push_back(read_trial(*tt, where));
    return p;
}

void RunFolder::add_submission(const Submission& s) const {
    std::ofstream out(root_ / "jobs.txt", std::ios::app);
    out << s.job_id << " " << s.first_task << " " << s.count << "\n";
    out.close();
    if (!out) throw HostError("cannot write " + (root_ / "jobs.txt").string());
}

std::vector<Submission> RunFolder::submissions() const {
    std::vector<Submission> out;
    std::ifstream in(root_ / "jobs.txt");
    Submission s;
    while (in >> s.job_id >> s.first_task >> s.count)
        out.push_back(s);
    return out;
}

std::vector<fs::path> RunFolder::journals() const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(journals_dir(), ec))
        if (e.path().extension() == ".jnl") out.push_back(e.path());
    std::sort(out.begin(), out.end(),
              [](const fs::path& a, const fs::path& b) { return journal_order(a) < journal_order(b); });
    return out;
}

std::vector<RunFolder> run_folders_of(const fs::path& dir, const std::string& sweep_name) {
    std::vector<std::pair<int64_t, fs::path>> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        std::string name = e.path().filename().string();
        if (name.size() <= sweep_name.size() + 1 || name.compare(0, sweep_name.size() + 1, sweep_name + "-") != 0)
            continue;
        std::string id = name.substr(sweep_name.size() + 1);
        if (!id.empty() && std::all_of(id.begin(), id.end(), ::isdigit) && fs::exists(e.path() / "plan.toml"))
            found.emplace_back(std::stoll(id), e.path());
    }
    std::sort(found.begin(), found.end());
    std::vector<RunFolder> out;
    for (auto& [id, p] : found)
        out.emplace_back(p);
    return out;
}

} // namespace iclr
