// The host's layers, as the includes show them: each folder includes only the layers below it.
// (The build enforces the same lines at link time: host/CMakeLists.txt's *_layer_check targets.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "test_paths.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kHost = fs::path(ICLR_TEST_SOURCE_DIR) / "host";

// The layer a host file belongs to: its folder under host/ ("exec/worker" is the worker).
std::string layer_of(const fs::path& file) {
    fs::path rel = fs::relative(file, kHost);
    auto it = rel.begin();
    std::string first = it->string();
    if (++it == rel.end()) return "main"; // host/main.cpp, host/worker_entry.*
    if (first == "exec" && it->string() == "worker") return "worker";
    return first;
}

// What each layer may include (besides the SDK's iclr/ headers and its own folder).
const std::map<std::string, std::set<std::string>> kAllowed{
    {"common", {"common"}},
    {"plugin", {"plugin", "common"}},
    {"sweep", {"sweep", "plugin", "common"}},
    {"store", {"store", "common"}},
    {"claims", {"claims", "store", "common"}},
    {"exec", {"exec", "common"}},
    {"cache", {"cache", "common"}},
    {"journal", {"journal", "common"}},
    {"slurm", {"slurm", "journal", "store", "common"}},
    {"worker", {"exec/worker", "exec/protocol.hpp", "plugin", "common"}},
    {"report", {"report", "store", "sweep", "plugin", "common"}},
    {"cli", {"cli", "claims", "report", "slurm", "journal", "cache", "exec", "store", "sweep", "plugin", "common"}},
    {"main", {"cli", "plugin", "common", "worker_entry.hpp"}},
};

bool allowed(const std::string& layer, const std::string& include) {
    if (include.rfind("iclr/", 0) == 0) return true; // the SDK sits below every layer
    for (const auto& ok : kAllowed.at(layer))
        if (include == ok || include.rfind(ok + "/", 0) == 0) return true;
    return false;
}

std::vector<fs::path> host_files() {
    std::vector<fs::path> out;
    for (const auto& e : fs::recursive_directory_iterator(kHost))
        if (e.path().extension() == ".cpp" || e.path().extension() == ".hpp") out.push_back(e.path());
    return out;
}

} // namespace

TEST(Layers, EveryIncludeGoesDownTheLayers) {
    static const std::regex inc_re(R"re(^\s*#include\s+"([^"]+)")re");
    std::vector<std::string> crossings;
    size_t files = 0;
    for (const auto& file : host_files()) {
        ++files;
        std::string layer = layer_of(file);
        ASSERT_TRUE(kAllowed.count(layer)) << file << " is in no known layer: add its folder to kAllowed";
        std::ifstream in(file);
        std::string line;
        for (int n = 1; std::getline(in, line); ++n) {
            std::smatch m;
            if (std::regex_search(line, m, inc_re) && !allowed(layer, m[1]))
                crossings.push_back(fs::relative(file, kHost).string() + ":" + std::to_string(n) + ": " + layer +
                                    " includes " + m[1].str());
        }
    }
    EXPECT_GT(files, 40u);
    for (const auto& c : crossings)
        ADD_FAILURE() << "layer crossing: " << c;
}

TEST(Layers, OnlyTheWorkerIncludesTorch) {
    for (const auto& file : host_files()) {
        if (layer_of(file) == "worker") continue;
        std::ifstream in(file);
        std::string text((std::istreambuf_iterator<char>(in)), {});
        EXPECT_EQ(text.find("#include <torch/"), std::string::npos)
            << file << ": torch in a host TU costs ~25 s to compile and loads libtorch into every command";
        EXPECT_EQ(text.find("#include \"iclr/sdk.hpp\""), std::string::npos) << file << " (sdk.hpp pulls in torch)";
    }
}

TEST(Layers, NoHostFileOver400Lines) {
    for (const auto& file : host_files()) {
        std::ifstream in(file);
        size_t lines = 0;
        std::string line;
        while (std::getline(in, line))
            ++lines;
        EXPECT_LE(lines, 400u) << file << ": split it (one job per file)";
    }
}

TEST(Layers, EveryHostFileSaysWhatItIsForOnItsFirstLine) {
    for (const auto& file : host_files()) {
        std::ifstream in(file);
        std::string first;
        std::getline(in, first);
        EXPECT_EQ(first.rfind("// ", 0), 0u) << file << ": start with a one-line purpose comment";
    }
}
