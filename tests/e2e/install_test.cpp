// Installed like a real tool: `cmake --install` lays out a prefix, an out-of-tree plugin project
// (a method, a data set built from MNIST with the SDK's idx.hpp and a metric) finds it with
// find_package(iclr), and the installed iclr lists and runs those plugins.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "e2e_util.hpp"

using namespace iclr::e2e;

namespace {

// Runs a shell command, output appended to log; true on exit 0.
bool sh(const std::string& cmd, const std::string& log) {
    return std::system((cmd + " >> " + log + " 2>&1").c_str()) == 0;
}

} // namespace

TEST(Install, AnOutOfTreePluginBuildsAgainstAnInstalledPrefixAndRuns) {
    // A fixed place under the build folder, so ccache recognises the plugin's compile next time.
    std::string root = std::string(ICLR_BUILD_DIR) + "/install-test";
    std::string prefix = root + "/prefix", proj = root + "/hello-build", log = root + "/log.txt";
    std::string src = root + "/hello-src"; // the plugin project in a git repository of its own
    for (const auto& d : {prefix, proj, src})
        std::filesystem::remove_all(d);
    std::filesystem::create_directories(root);
    std::filesystem::copy(std::string(ICLR_TEST_SOURCE_DIR) + "/tests/fixtures/out_of_tree", src,
                          std::filesystem::copy_options::recursive);
    const std::string git = "git -C " + src + " -c user.name=t -c user.email=t@example.org ";
    ASSERT_TRUE(sh(git + "init -q && " + git + "add -A && " + git + "commit -qm hello", log)) << slurp(log);
    ASSERT_TRUE(std::system(("git -C " + src + " rev-parse HEAD > " + root + "/commit.txt").c_str()) == 0);
    std::string commit = slurp(root + "/commit.txt").substr(0, 40);
    ASSERT_TRUE(sh("cmake --install " + std::string(ICLR_BUILD_DIR) + " --prefix " + prefix, log)) << slurp(log);
    for (const char* f : {"bin/iclr", "lib/iclr/libiclr_worker.so", "lib/iclr/plugins/methods/finetune.so",
                          "lib/iclr/plugins/methods/finetune.source", "lib/iclr/plugins/datasets/mnist.so",
                          "lib/iclr/libiclr_sdk_helpers.a", "include/iclr/sdk.hpp", "include/iclr/idx.hpp",
                          "lib/cmake/iclr/iclrConfig.cmake", "lib/cmake/iclr/iclrConfigVersion.cmake"})
        EXPECT_TRUE(std::filesystem::exists(prefix + "/" + f)) << f;
    std::string launcher =
        std::system("command -v ccache >/dev/null") == 0 ? " -DCMAKE_CXX_COMPILER_LAUNCHER=ccache" : "";
    ASSERT_TRUE(sh("cmake -S " + src + " -B " + proj +
                       " -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" + prefix + launcher,
                   log))
        << slurp(log);
    ASSERT_TRUE(sh("cmake --build " + proj, log)) << slurp(log);

    Scratch s;
    s.set_env("ICLR_PLUGIN_PATH", proj + "/plugins");
    std::string iclr = prefix + "/bin/iclr";
    auto listed = s.run_binary(iclr, {"plugins"});
    EXPECT_EQ(listed.code, 0) << listed.out;
    EXPECT_TRUE(has(listed.out, "method   hello")) << listed.out;
    EXPECT_TRUE(has(listed.out, "dataset  noisy_digits")) << listed.out;
    auto finetune = s.run_binary(iclr, {"plugins", "methods/finetune"});
    EXPECT_TRUE(has(finetune.out, "file:     " + prefix + "/lib/iclr/plugins/methods/finetune.so")) << finetune.out;
    // Its source folder came with it (NAME.source: the library holds no path)
    EXPECT_TRUE(has(finetune.out, "source:   " + std::string(ICLR_TEST_SOURCE_DIR) + "/plugins/methods/finetune\n"))
        << finetune.out;
    EXPECT_FALSE(has(listed.out, "duplicate")) << listed.out; // the build tree is not searched as well
    EXPECT_FALSE(has(listed.out, std::string(ICLR_BUILD_DIR) + "/plugins/")) << listed.out;
    auto r =
        s.run_binary(iclr, {"run", s.write("h.toml", "[method]\nplugin = \"hello\"\nscale = { grid = [1, 2] }\n")});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 2);
    EXPECT_EQ(s.sql("SELECT SUM(value) FROM metrics WHERE key = 'value'"), "9.0"); // (0 + 1 + 2) * (1 + 2)
    // The draw came through the installed SDK helpers' compiled code (make_generator).
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics WHERE key = 'draw' AND value >= 0 AND value < 1"), 2);
    // Built outside iclr's tree, the plugin's own sources' commit is recorded with each run (the
    // run's git_commit is iclr's tree's); a source file git does not track yet makes it dirty.
    EXPECT_EQ(s.sql("SELECT DISTINCT json_extract(plugins_json, '$.method.git') || ' ' || "
                    "json_extract(plugins_json, '$.method.git_dirty') FROM runs"),
              commit + " 0");
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE json_extract(plugins_json, '$.dataset.git') IS NOT NULL"), 0);
    auto shown = s.run_binary(iclr, {"show", "1"});
    EXPECT_TRUE(has(shown.out, "git (sources outside iclr)")) << shown.out;
    EXPECT_TRUE(has(shown.out, commit.substr(0, 12))) << shown.out;
    { std::ofstream(src + "/hello/helper.hpp") << "// not committed yet\n"; }
    auto again = s.run_binary(iclr, {"run", s.path("h.toml"), "--set", "method.scale=3"});
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_TRUE(has(again.out, "warning: method 'hello'")) << again.out; // stale: a build input is newer
    EXPECT_EQ(s.sql("SELECT json_extract(plugins_json, '$.method.git_dirty') FROM runs ORDER BY id DESC LIMIT 1"), "1");
    EXPECT_FALSE(has(again.out, "noisy_digits")) << again.out; // its folder holds no new file

    // The data set reads the real MNIST files through the installed SDK (iclr::idx::TaskStream):
    // 0s against 1s learnt from clean labels, and from labels all drawn at random.
    auto noisy = s.run_binary(iclr, {"run", s.write("n.toml", R"([dataset]
plugin = "noisy_digits"
tasks = [[0, 1]]
train_per_class = 200
test_per_class = 200
label_noise = { grid = [0.0, 1.0] }
[model]
plugin = "mlp"
width = 32
[method]
plugin = "finetune"
epochs = 3
[[metric]]
plugin = "avg_accuracy"
)")});
    ASSERT_EQ(noisy.code, 0) << noisy.out;
    auto accuracy = [&](const char* noise) {
        return std::stod(s.sql("SELECT m.value FROM metrics m JOIN params p ON p.run_id = m.run_id AND p.key = "
                               "'dataset.label_noise' WHERE m.key = 'avg_accuracy' AND p.value = " +
                               std::string(noise)));
    };
    EXPECT_GT(accuracy("0.0"), 0.95);
    EXPECT_LT(accuracy("1.0"), 0.8);
    auto shown_set = s.run_binary(iclr, {"plugins", "datasets/noisy_digits"});
    EXPECT_TRUE(has(shown_set.out, "train_per_class")) << shown_set.out; // the stream's parameters, declared once
    EXPECT_TRUE(has(shown_set.out, "label_noise")) << shown_set.out;

    // The metric: learning accuracy beside the tree's avg_accuracy and bwt, over three tasks, where
    // avg - LA = mean_i (a[2][i] - a[i][i]) = (2 / 3) BWT exactly (BWT averages over the first two).
    auto la = s.run_binary(iclr, {"run", s.write("la.toml", R"([sweep]
seeds = 2
[dataset]
plugin = "mnist"
tasks = [[0, 1], [2, 3], [4, 5]]
train_per_class = 200
test_per_class = 100
[model]
plugin = "mlp"
width = 32
[method]
plugin = "finetune"
lr = 0.05
[[metric]]
plugin = "learning_accuracy"
[[metric]]
plugin = "avg_accuracy"
[[metric]]
plugin = "bwt"
)")});
    ASSERT_EQ(la.code, 0) << la.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics WHERE key = 'learning_accuracy' AND value > 0.9"), 2);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics l JOIN final_metrics a ON a.run_id = l.run_id AND a.key = "
                      "'avg_accuracy' JOIN final_metrics b ON b.run_id = l.run_id AND b.key = 'bwt' WHERE l.key = "
                      "'learning_accuracy' AND abs(a.value - l.value - 2.0 / 3.0 * b.value) < 1e-9"),
              2);
}
