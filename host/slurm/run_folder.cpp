// The run folder's files: plan.toml, trials.txt and trials.idx (written and read here), jobs.txt,
// journals/, logs/.
#include "slurm/run_folder.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <regex>
#include <sstream>

#include <toml++/toml.h>

#include "common/errors.hpp"
#include "common/values.hpp"

namespace iclr {
namespace fs = std::filesystem;
namespace {

// 2: settings and plugins in plan.toml, the trials in trials.txt + trials.idx. 1: everything in
// plan.toml (folders submitted before 2026-12-05; still read).
constexpr int64_t kPlanFormat = 2;

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

// trials.txt: a line a trial, "run_id TAB key TAB cost TAB label TAB payload"; a backslash, tab,
// newline or carriage return in the label or payload is written as \\, \t, \n, \r.
std::string escaped(const std::string& s) {
    std::string out;
    out.reserve(s.size() + s.size() / 16);
    for (char c : s) {
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            out += '\\';
            out += c == '\\' ? '\\' : c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
        } else {
            out += c;
        }
    }
    return out;
}

std::string unescaped(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t k = 0; k < s.size(); ++k) {
        if (s[k] != '\\' || k + 1 == s.size()) {
            out += s[k];
            continue;
        }
        char c = s[++k];
        out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
    }
    return out;
}

std::string trial_line(const FrozenTrial& t) {
    char cost[32];
    auto [end, ec] = std::to_chars(cost, cost + sizeof cost, t.cost); // shortest text that reads back the same
    return std::to_string(t.run_id) + "\t" + t.key + "\t" + std::string(cost, end) + "\t" + escaped(t.label) + "\t" +
           escaped(t.payload) + "\n";
}

// One line of trials.txt (without its newline); the payload only when asked for.
FrozenTrial parse_line(std::string_view line, bool payload, const std::string& where) {
    std::string_view field[5];
    for (int k = 0; k < 4; ++k) {
        size_t tab = line.find('\t');
        if (tab == std::string_view::npos) throw UserError(where + ": a trial line has fewer than 5 fields");
        field[k] = line.substr(0, tab);
        line.remove_prefix(tab + 1);
    }
    field[4] = line;
    FrozenTrial t;
    auto r = std::from_chars(field[0].data(), field[0].data() + field[0].size(), t.run_id);
    auto c = std::from_chars(field[2].data(), field[2].data() + field[2].size(), t.cost);
    if (r.ec != std::errc() || c.ec != std::errc()) throw UserError(where + ": a trial line's run id or cost is bad");
    t.key = std::string(field[1]);
    t.label = unescaped(field[3]);
    if (payload) t.payload = unescaped(field[4]);
    return t;
}

// Each trial line of `text`, parsed (`where` names the file in errors).
std::vector<FrozenTrial> parse_lines(std::string_view text, bool payload, const std::string& where) {
    std::vector<FrozenTrial> out;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        if (nl == std::string_view::npos) throw UserError(where + ": the last trial line is cut short");
        out.push_back(parse_line(text.substr(0, nl), payload, where));
        text.remove_prefix(nl + 1);
    }
    return out;
}

// trials.idx: the byte offset of each trial's line in trials.txt, then the file's size, as 8-byte
// little-endian integers (the same on every node, whatever its byte order).
std::string index_bytes(const std::vector<uint64_t>& offsets) {
    std::string out;
    for (uint64_t o : offsets)
        for (int b = 0; b < 8; ++b)
            out += char((o >> (8 * b)) & 0xff);
    return out;
}

// `n` bytes of `file` from `at`; throws UserError (the plan is cut short) when there are fewer.
std::string read_at(const fs::path& file, uint64_t at, uint64_t n) {
    std::ifstream in(file, std::ios::binary);
    std::string out(n, '\0');
    if (!in.seekg(std::streamoff(at)) || !in.read(out.data(), std::streamsize(n)))
        throw UserError(file.string() + ": shorter than the plan says (a copy cut short?)");
    return out;
}

uint64_t offset_at(const fs::path& idx, uint64_t k) {
    std::string b = read_at(idx, k * 8, 8);
    uint64_t o = 0;
    for (int i = 7; i >= 0; --i)
        o = (o << 8) | uint8_t(b[size_t(i)]);
    return o;
}

void write_file(const fs::path& path, const std::string& text) {
    fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary);
        out << text;
        out.close();
        if (!out) throw HostError("cannot write " + tmp.string());
    }
    fs::rename(tmp, path);
}

// [first, end) of the trials task `task` runs, in a plan of `count` trials.
std::pair<size_t, size_t> slice_of(size_t count, int trials_per_task, int64_t task) {
    size_t first = std::min(count, size_t(task) * size_t(trials_per_task));
    return {first, std::min(count, first + size_t(trials_per_task))};
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
    return slice_of(trials.size(), trials_per_task, task);
}

fs::path RunFolder::journal_file(const std::string& job_task, int64_t restart) const {
    return journals_dir() / (job_task + "." + std::to_string(restart) + ".jnl");
}

void RunFolder::write_plan(const FrozenPlan& p) const {
    fs::create_directories(journals_dir());
    fs::create_directories(logs_dir());
    std::string lines;
    std::vector<uint64_t> offsets;
    for (const auto& t : p.trials) {
        offsets.push_back(lines.size());
        lines += trial_line(t);
    }
    offsets.push_back(lines.size());
    write_file(trials_file(), lines);
    write_file(index_file(), index_bytes(offsets));
    std::ostringstream o;
    o << "# The frozen plan of a sweep handed to Slurm (iclr writes this; array tasks read it). Its trials\n"
      << "# are trials.txt, a line each, and trials.idx says where each line starts.\n"
      << "format = " << kPlanFormat << "\nsweep = " << q(p.sweep_name) << "\nsweep_id = " << p.sweep_id
      << "\ndb = " << q(p.db_path) << "\ncreated_at = " << q(p.created_at) << "\niclr_build = " << q(p.iclr_build)
      << "\ntrials_per_task = " << p.trials_per_task << "\njobs_per_task = " << p.jobs_per_task
      << "\nthreads = " << p.threads << "\ntimeout_s = " << value_to_toml(Value::of_float(p.timeout_s))
      << "\nmemory_mb = " << p.memory_mb << "\ntrials = " << p.trials.size() << "\n";
    for (const auto& pl : p.plugins)
        o << "\n[[plugin]]\nfile = " << q(pl.file) << "\nsha256 = " << q(pl.sha256) << "\n";
    write_file(plan_file(), o.str()); // last: a folder with a plan has its trials
}

namespace {

// plan.toml's settings and plugins (the trials are the caller's).
FrozenPlan read_settings(const toml::table& t, const std::string& where) {
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
    return p;
}

// plan.toml parsed, its format checked (1 or 2).
toml::table parse_plan_file(const fs::path& file, int64_t& format) {
    std::string where = file.string();
    toml::parse_result parsed = toml::parse_file(where);
    if (!parsed) throw UserError(where + ": not a plan iclr can read: " + std::string(parsed.error().description()));
    format = parsed.table()["format"].value_or(int64_t(0));
    if (format != 1 && format != kPlanFormat)
        throw UserError(where + ": plan format " + std::to_string(format) + " is not one this iclr reads (1, " +
                        std::to_string(kPlanFormat) + ")");
    return std::move(parsed).table();
}

// A format-1 plan's trials, payloads included: the [[trial]] tables of plan.toml itself.
std::vector<FrozenTrial> format1_trials(const toml::table& t, const std::string& where) {
    std::vector<FrozenTrial> out;
    if (auto* arr = t["trial"].as_array())
        for (const auto& e : *arr)
            if (auto* tt = e.as_table()) out.push_back(read_trial(*tt, where));
    return out;
}

} // namespace

FrozenPlan RunFolder::read_plan() const {
    int64_t format = 0;
    toml::table t = parse_plan_file(plan_file(), format);
    FrozenPlan p = read_settings(t, plan_file().string());
    if (format == 1) {
        p.trials = format1_trials(t, plan_file().string());
        return p;
    }
    auto count = get<int64_t>(t, "trials", plan_file().string());
    std::ifstream in(trials_file(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    p.trials = parse_lines(text, false, trials_file().string());
    if (int64_t(p.trials.size()) != count)
        throw UserError(trials_file().string() + ": holds " + std::to_string(p.trials.size()) +
                        " trial(s), not the plan's " + std::to_string(count));
    return p;
}

FrozenTask RunFolder::read_task(int64_t task) const {
    int64_t format = 0;
    toml::table t = parse_plan_file(plan_file(), format);
    FrozenTask out{read_settings(t, plan_file().string())};
    if (format == 1) { // every trial is in the plan.toml just parsed: this task's are kept
        std::vector<FrozenTrial> all = format1_trials(t, plan_file().string());
        std::tie(out.first, out.end) = slice_of(all.size(), out.plan.trials_per_task, task);
        out.plan.trials.assign(all.begin() + long(out.first), all.begin() + long(out.end));
        return out;
    }
    auto count = size_t(get<int64_t>(t, "trials", plan_file().string()));
    std::tie(out.first, out.end) = slice_of(count, out.plan.trials_per_task, task);
    if (out.first == out.end) return out;
    uint64_t from = offset_at(index_file(), out.first), to = offset_at(index_file(), out.end);
    if (to < from) throw UserError(index_file().string() + ": offsets out of order");
    out.plan.trials = parse_lines(read_at(trials_file(), from, to - from), true, trials_file().string());
    if (out.plan.trials.size() != out.end - out.first)
        throw UserError(index_file().string() + ": does not match " + trials_file().string());
    return out;
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

std::vector<fs::path> RunFolder::journals(const std::string& job_task) const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(journals_dir(), ec))
        if (e.path().extension() == ".jnl" &&
            (job_task.empty() || e.path().filename().string().starts_with(job_task + ".")))
            out.push_back(e.path());
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
