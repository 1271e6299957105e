// Which GPU each worker gets: plain functions of the visible devices and the sweep's settings, so
// they are unit-tested with made-up device lists (no GPU here, and libtorch here is CPU-only).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace iclr::devices {

// The GPUs this process may use: CUDA_VISIBLE_DEVICES when it is set ("" or "-1": none; Slurm
// sets it to a task's --gres GPUs), else 0 .. driver_gpus - 1.
std::vector<std::string> visible(const std::optional<std::string>& cuda_visible_devices, int driver_gpus);
// GPUs the NVIDIA driver lists (/proc/driver/nvidia/gpus/*); 0 without one.
int driver_gpu_count();

// The GPUs a sweep runs on. requested: --gpus / [sweep] gpus ("0,1"; "all" = every visible one;
// "none" = no pinning; "" = the default: every visible GPU when libtorch has CUDA, else none). Throws UserError naming
// a requested GPU that is not visible.
std::vector<std::string> select(const std::vector<std::string>& visible, const std::string& requested,
                                bool torch_has_cuda);

// Workers at once: jobs, but at most trials_per_gpu on each GPU when there are GPUs.
int max_jobs(int jobs, size_t gpus, int trials_per_gpu);

// The GPU a new worker is pinned to: the one the fewest live workers use (the lowest in `gpus`
// order on a tie), so a replaced worker takes its predecessor's place. "" when gpus is empty.
std::string pick(const std::vector<std::string>& gpus, const std::map<std::string, int>& in_use);

// What a run records as its device: "cuda:<id>" when pinned and the worker found CUDA, else what
// the worker said ("cpu").
std::string recorded(const std::string& worker_device, const std::string& gpu);

} // namespace iclr::devices
