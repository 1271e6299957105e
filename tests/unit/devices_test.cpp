// GPU selection with made-up device lists (no GPU here): what is visible, what --gpus picks, how
// many workers fit, which GPU each new worker gets, what the run records.
#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "exec/devices.hpp"

using namespace iclr;
using V = std::vector<std::string>;

TEST(Devices, VisibleComesFromCudaVisibleDevicesElseTheDriver) {
    EXPECT_EQ(devices::visible(std::nullopt, 0), V{});
    EXPECT_EQ(devices::visible(std::nullopt, 3), (V{"0", "1", "2"}));
    EXPECT_EQ(devices::visible(std::string("2,5"), 8), (V{"2", "5"})); // Slurm's --gres allocation
    EXPECT_EQ(devices::visible(std::string(" 3 , 1 "), 8), (V{"3", "1"}));
    EXPECT_EQ(devices::visible(std::string(""), 8), V{});   // set but empty: none
    EXPECT_EQ(devices::visible(std::string("-1"), 8), V{}); // CUDA's "no device"
}

TEST(Devices, SelectHonoursGpusAndTheTorchBuild) {
    V vis{"0", "1", "2", "3"};
    EXPECT_EQ(devices::select(vis, "", true), vis);     // default with CUDA: all of them
    EXPECT_EQ(devices::select(vis, "", false), V{});    // default, CPU-only libtorch (this machine): none
    EXPECT_EQ(devices::select(vis, "all", false), vis); // asked for: pinned even so
    EXPECT_EQ(devices::select(vis, "none", true), V{});
    EXPECT_EQ(devices::select(vis, "2,0,2", true), (V{"2", "0"}));
    try {
        devices::select(vis, "0,7", true);
        FAIL() << "GPU 7 is not visible";
    } catch (const UserError& e) {
        EXPECT_STREQ(e.what(), "--gpus 0,7: GPU 7 is not visible here (visible: 0,1,2,3)");
    }
    EXPECT_THROW(devices::select(V{}, "0", true), UserError);
}

TEST(Devices, JobsFitTheGpusAndEachNewWorkerTakesTheLeastUsedOne) {
    EXPECT_EQ(devices::max_jobs(8, 0, 1), 8); // no GPUs: cores decide
    EXPECT_EQ(devices::max_jobs(8, 2, 1), 2);
    EXPECT_EQ(devices::max_jobs(8, 2, 3), 6); // several small trials share a GPU
    EXPECT_EQ(devices::max_jobs(4, 2, 3), 4);
    V gpus{"1", "3"};
    EXPECT_EQ(devices::pick(gpus, {}), "1");
    EXPECT_EQ(devices::pick(gpus, {{"1", 1}}), "3");
    EXPECT_EQ(devices::pick(gpus, {{"1", 1}, {"3", 1}}), "1");
    EXPECT_EQ(devices::pick(gpus, {{"1", 2}, {"3", 1}}), "3"); // a replaced worker takes the freed place
    EXPECT_EQ(devices::pick(V{}, {}), "");
}

TEST(Devices, TheRunRecordsThePhysicalGpuOrWhatTheWorkerFound) {
    EXPECT_EQ(devices::recorded("cuda", "3"), "cuda:3");
    EXPECT_EQ(devices::recorded("cpu", "3"), "cpu"); // a CPU-only libtorch pinned to a GPU still runs on cpu
    EXPECT_EQ(devices::recorded("cpu", ""), "cpu");
    EXPECT_EQ(devices::recorded("cuda", ""), "cuda");
}
