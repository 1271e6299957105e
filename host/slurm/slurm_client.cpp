// sbatch / squeue / scontrol through run_capture; output parsed here and nowhere else.
#include "slurm/slurm_client.hpp"

#include <sys/wait.h>

#include <sstream>

#include "common/errors.hpp"
#include "common/process.hpp"

namespace iclr::slurm {
namespace {

std::string which(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin:/bin");
    for (std::string d; std::getline(dirs, d, ':');) {
        std::string f = (d.empty() ? "." : d) + "/" + name;
        if (access(f.c_str(), X_OK) == 0) return f;
    }
    return "";
}

Captured run(const std::string& tool, std::vector<std::string> args, bool quiet = true) {
    std::string exe = which(tool);
    if (exe.empty()) throw UserError(tool + " not found on PATH: is this a Slurm login node?");
    args.insert(args.begin(), exe);
    return run_capture(args, quiet, 120);
}

bool ok(const Captured& c) { return WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0; }

std::string first_line(const std::string& s) {
    auto nl = s.find('\n');
    return s.substr(0, nl);
}

} // namespace

bool available() { return !which("sbatch").empty(); }

int64_t max_array_size() {
    Captured c = run("scontrol", {"show", "config"});
    std::istringstream in(c.out);
    for (std::string line; std::getline(in, line);)
        if (line.rfind("MaxArraySize", 0) == 0) {
            auto eq = line.find('=');
            try {
                return std::stoll(line.substr(eq + 1));
            } catch (...) {
            }
        }
    return 1001;
}

std::string submit_array(const std::string& script, int64_t count, int64_t first_task, const SlurmSettings& s,
                         const std::string& output) {
    std::string array = "--array=0-" + std::to_string(count - 1);
    if (s.max_parallel > 0) array += "%" + std::to_string(s.max_parallel);
    std::vector<std::string> args{"--parsable", array, "--output=" + output};
    args.insert(args.end(), s.sbatch_args.begin(), s.sbatch_args.end());
    args.push_back(script);
    args.push_back(std::to_string(first_task));
    Captured c = run("sbatch", args, false);
    std::string id = first_line(c.out);
    id = id.substr(0, id.find(';')); // "12;cluster" on federated clusters
    if (!ok(c) || id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
        throw UserError("sbatch refused the array job (" + describe_status(c.status) + "): " + first_line(c.out));
    return id;
}

std::optional<std::map<std::string, std::string>> queued_tasks(const std::vector<std::string>& job_ids) {
    if (!available()) return std::nullopt;
    // Every job of this user, filtered here: `squeue -j` fails outright once one id has left the queue.
    Captured c = run("squeue", {"--me", "-h", "-r", "-o", "%i %T"});
    if (!ok(c)) return std::nullopt;
    std::map<std::string, std::string> out;
    std::istringstream in(c.out);
    for (std::string id, state; in >> id >> state;)
        for (const auto& j : job_ids)
            if (id.rfind(j + "_", 0) == 0) out[id] = state;
    return out;
}

void requeue(const std::string& job_task) {
    Captured c = run("scontrol", {"requeue", job_task});
    if (!ok(c)) throw UserError("scontrol requeue " + job_task + " failed: " + first_line(c.out));
}

void cancel_pending(const std::string& job_id) {
    Captured c = run("scancel", {"--state=PENDING", job_id});
    if (!ok(c)) throw UserError("scancel --state=PENDING " + job_id + " failed: " + first_line(c.out));
}

} // namespace iclr::slurm
