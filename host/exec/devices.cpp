// GPU selection: CUDA_VISIBLE_DEVICES or the driver's list, --gpus, least-used pinning.
#include "exec/devices.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "common/errors.hpp"

namespace iclr::devices {
namespace {

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string part; std::getline(in, part, ',');) {
        part.erase(0, part.find_first_not_of(" \t"));
        part.erase(part.find_last_not_of(" \t") + 1);
        if (!part.empty()) out.push_back(part);
    }
    return out;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v)
        s += (s.empty() ? "" : ",") + x;
    return s.empty() ? "none" : s;
}

} // namespace

std::vector<std::string> visible(const std::optional<std::string>& cuda_visible_devices, int driver_gpus) {
    if (cuda_visible_devices) {
        auto ids = split(*cuda_visible_devices);
        if (ids.size() == 1 && ids[0] == "-1") return {};
        return ids;
    }
    std::vector<std::string> out;
    for (int k = 0; k < driver_gpus; ++k)
        out.push_back(std::to_string(k));
    return out;
}

int driver_gpu_count() {
    std::error_code ec; // no driver: the iterator is the end at once
    std::filesystem::directory_iterator gpus("/proc/driver/nvidia/gpus", ec);
    return int(std::distance(gpus, std::filesystem::directory_iterator{}));
}

std::vector<std::string> select(const std::vector<std::string>& vis, const std::string& requested,
                                bool torch_has_cuda) {
    if (requested == "none") return {};
    if (requested == "all") return vis;
    if (requested.empty()) return torch_has_cuda ? vis : std::vector<std::string>{};
    std::vector<std::string> out;
    for (const auto& id : split(requested)) {
        if (std::find(vis.begin(), vis.end(), id) == vis.end())
            throw UserError("--gpus " + requested + ": GPU " + id + " is not visible here (visible: " + joined(vis) +
                            ")");
        if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    }
    return out;
}

int max_jobs(int jobs, size_t gpus, int trials_per_gpu) {
    if (gpus == 0) return jobs;
    return std::max(1, std::min(jobs, int(gpus) * std::max(1, trials_per_gpu)));
}

std::string pick(const std::vector<std::string>& gpus, const std::map<std::string, int>& in_use) {
    std::string best;
    int least = 0;
    for (const auto& g : gpus) {
        auto it = in_use.find(g);
        int n = it == in_use.end() ? 0 : it->second;
        if (best.empty() || n < least) best = g, least = n;
    }
    return best;
}

std::string recorded(const std::string& worker_device, const std::string& gpu) {
    return worker_device == "cuda" && !gpu.empty() ? "cuda:" + gpu : worker_device;
}

} // namespace iclr::devices
