// Which build of iclr made a result: the commit its source tree was at when the binary was built
// (cmake/build_info.cmake), recorded with each sweep invocation and verdict and shown by `iclr
// show`, `iclr diff` and `iclr report` beside the tree's state at sweep start (runs.git_commit).
#include <gtest/gtest.h>

#include <regex>

#include "e2e_util.hpp"

using namespace iclr::e2e;

namespace {

const char* kTwoArms = R"(
[sweep]
name = "two_noops"
seeds = 3
[method]
plugin = "noop"
values = 3
[[arm]]
name = "three"
[[arm]]
name = "four"
method = { plugin = "noop", values = 4 }

[[claim]]
name = "three ends lower"
kind = "less"
a = "three"
b = "four"
sql = "SELECT r.id AS run_id, r.seed, r.arm, f.value FROM runs r JOIN final_metrics f ON f.run_id = r.id AND f.key = 'value'"
)";

std::string trimmed(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
    return s;
}

// The generator as the build runs it, on the tree `src`; the text of the file it writes.
std::string generate(const Scratch& s, const std::string& src) {
    auto r = s.run_binary("/usr/bin/env",
                          {"cmake", "-DSRC=" + s.path(src), "-DOUT=" + s.path("build_info.cpp"), "-DVERSION=1.2.3",
                           "-P", std::string(ICLR_TEST_SOURCE_DIR) + "/cmake/build_info.cmake"});
    EXPECT_EQ(r.code, 0) << r.out;
    return slurp(s.path("build_info.cpp"));
}

// As if build 0.0.9+0123456789ab had run the runs `where` selects: a sweep invocation of its own.
void ran_by_another_build(const Scratch& s, const std::string& where) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(s.db().c_str(), &db), SQLITE_OK);
    std::string sql = "INSERT INTO sweeps(name, file, source, source_sha256, created_at, iclr_version) "
                      "VALUES('x', 'x', '', '', '', '0.0.9+0123456789ab'); "
                      "UPDATE runs SET sweep_id = last_insert_rowid() WHERE " +
                      where;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
}

} // namespace

TEST(BuildInfo, SweepsVerdictsShowAndReportNameTheBuildOfIclr) {
    Scratch s;
    auto version = s.run({"--version"});
    ASSERT_EQ(version.code, 0) << version.out;
    std::string build = trimmed(version.out);
    EXPECT_TRUE(std::regex_match(build, std::regex(R"(\d+\.\d+\.\d+(\+[0-9a-f]{12}(\.dirty\.[0-9a-f]{8})?)?)")))
        << build;
    std::string file = s.write("two.toml", kTwoArms);
    ASSERT_EQ(s.run({"run", file}).code, 0);
    ASSERT_EQ(s.run({"verify", file}).code, 0);
    EXPECT_EQ(s.sql("SELECT group_concat(DISTINCT iclr_version) FROM sweeps"), build);
    EXPECT_EQ(s.sql("SELECT group_concat(DISTINCT iclr_version) FROM verdicts"), build);
    auto show = s.run({"show", "1"});
    EXPECT_TRUE(has(show.out, "  iclr " + build + "\n")) << show.out;
    EXPECT_EQ(s.sql("SELECT json_extract(?1, '$.iclr_build')", {s.run({"show", "1", "--format", "json"}).out}), build);
    auto report = s.run({"report", file, "--out", s.path("page.html")});
    ASSERT_EQ(report.code, 0) << report.out;
    std::string page = slurp(s.path("page.html"));
    EXPECT_TRUE(has(page, "iclr build") && has(page, build)) << page.substr(0, 2000);
    EXPECT_TRUE(has(page, "by <code>iclr report</code> of iclr " + build + " (verdicts computed now, by it)"));
    // Another build ran run 2 (its sweep invocation's row says so): diff names both.
    ran_by_another_build(s, "id = 2");
    auto diff = s.run({"diff", "1", "2"});
    EXPECT_TRUE(has(diff.out, "iclr build")) << diff.out;
    EXPECT_TRUE(has(diff.out, "0.0.9+0123456789ab")) << diff.out;
}

// The generator: the commit, ".dirty.<hash>" for a changed tracked file or new code under host/,
// sdk/ or plugins/ (not for a new note elsewhere), a hash that differs with the changes (a new file's
// content included), the version alone outside git, and no rewrite (so no recompilation) when nothing
// changed.
TEST(BuildInfo, TheBuildIdNamesTheCommitAndADirtyTree) {
    Scratch s;
    s.set_env("GIT_CEILING_DIRECTORIES", s.path("")); // the scratch folder is in no repository of its own
    std::filesystem::create_directories(s.path("tree/host"));
    std::filesystem::create_directories(s.path("plain"));
    s.write("tree/a.txt", "a\n");
    auto git = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv{"git", "-C", s.path("tree"), "-c", "user.name=t", "-c", "user.email=t@t"};
        argv.insert(argv.end(), args.begin(), args.end());
        auto r = s.run_binary("/usr/bin/env", argv);
        EXPECT_EQ(r.code, 0) << r.out;
        return trimmed(r.out);
    };
    git({"init", "-q"});
    git({"add", "a.txt"});
    git({"commit", "-q", "-m", "one"});
    std::string head = git({"rev-parse", "--short=12", "HEAD"});
    ASSERT_EQ(head.size(), 12u) << head;
    auto id = [](const std::string& text) {
        std::smatch m;
        return std::regex_search(text, m, std::regex(R"re(return "([^"]*)")re")) ? m[1].str()
                                                                                 : "(none in " + text + ")";
    };
    EXPECT_EQ(id(generate(s, "tree")), "1.2.3+" + head);
    auto before = std::filesystem::file_time_type::clock::now() - std::chrono::hours(1);
    std::filesystem::last_write_time(s.path("build_info.cpp"), before);
    EXPECT_EQ(id(generate(s, "tree")), "1.2.3+" + head);
    EXPECT_EQ(std::filesystem::last_write_time(s.path("build_info.cpp")), before); // unchanged: not rewritten
    s.write("tree/notes.txt", "n\n");
    EXPECT_EQ(id(generate(s, "tree")), "1.2.3+" + head);
    std::regex dirty("1\\.2\\.3\\+" + head + "\\.dirty\\.[0-9a-f]{8}");
    s.write("tree/host/new.cpp", "int x;\n");
    std::string new_file = id(generate(s, "tree"));
    EXPECT_TRUE(std::regex_match(new_file, dirty)) << new_file;
    s.write("tree/host/new.cpp", "int y;\n"); // the new file edited: another build
    EXPECT_NE(id(generate(s, "tree")), new_file);
    s.write("tree/host/new.cpp", "int x;\n");
    EXPECT_EQ(id(generate(s, "tree")), new_file);
    std::filesystem::remove(s.path("tree/host/new.cpp"));
    s.write("tree/a.txt", "b\n");
    std::string b = id(generate(s, "tree"));
    EXPECT_TRUE(std::regex_match(b, dirty)) << b;
    EXPECT_NE(b, new_file);
    s.write("tree/a.txt", "c\n"); // another change to the same file: another build
    std::string c = id(generate(s, "tree"));
    EXPECT_NE(c, b);
    s.write("tree/a.txt", "b\n"); // the same change again: the same id
    EXPECT_EQ(id(generate(s, "tree")), b);
    EXPECT_EQ(id(generate(s, "plain")), "1.2.3");
}

// A Slurm array task records its runs under the sweep row of the invocation that submitted it, which
// names that invocation's build: a task started by another build (iclr rebuilt while the array
// waited in the queue) refuses, naming both, as it does for a rebuilt plugin. A plan from before
// builds were recorded has no iclr_build and runs.
TEST(BuildInfo, ASlurmTaskOfAnotherBuildRefusesToRun) {
    Scratch s;
    std::string build = trimmed(s.run({"--version"}).out);
    std::filesystem::create_directories(s.path("folder"));
    auto plan = [&](const std::string& line) {
        s.write("folder/plan.toml", "format = 1\nsweep = \"x\"\nsweep_id = 1\ndb = \"" + s.db() +
                                        "\"\ncreated_at = \"2026-12-03T00:00:00Z\"\n" + line +
                                        "trials_per_task = 1\njobs_per_task = 1\nthreads = 1\ntimeout_s = 0.0\n"
                                        "memory_mb = 0\n");
    };
    s.set_env("SLURM_ARRAY_JOB_ID", "7");
    s.set_env("SLURM_ARRAY_TASK_ID", "0");
    plan("iclr_build = \"0.0.9+0123456789ab\"\n");
    auto other = s.run({"__slurm-task", s.path("folder"), "0"});
    EXPECT_NE(other.code, 0) << other.out;
    EXPECT_TRUE(
        has(other.out, "iclr was rebuilt since the sweep was submitted (by 0.0.9+0123456789ab; this is " + build + ")"))
        << other.out;
    plan("iclr_build = \"" + build + "\"\n");
    auto same = s.run({"__slurm-task", s.path("folder"), "0"});
    EXPECT_FALSE(has(same.out, "rebuilt")) << same.out;
    plan("");
    auto older = s.run({"__slurm-task", s.path("folder"), "0"});
    EXPECT_FALSE(has(older.out, "rebuilt")) << older.out;
}

// Resuming a sweep with a rebuilt iclr says, before anything runs, that its runs will mix builds;
// a resume with nothing left to run, or by the same build, says nothing.
TEST(BuildInfo, ResumingWithAnotherBuildOfIclrSaysSoBeforeRunning) {
    Scratch s;
    std::string build = trimmed(s.run({"--version"}).out);
    std::string file = s.write("two.toml", kTwoArms);
    ASSERT_EQ(s.run({"run", file}).code, 0);
    ran_by_another_build(s, "seed < 2");
    auto same = s.run({"run", file});
    ASSERT_EQ(same.code, 0) << same.out;
    EXPECT_FALSE(has(same.out, "another build")) << same.out; // nothing to run: nothing mixes
    auto more = s.run({"run", file, "--set", "sweep.seeds=4"});
    ASSERT_EQ(more.code, 0) << more.out;
    EXPECT_TRUE(has(more.out, "note: 4 of the 6 trial(s) already done were run by another build of iclr (4 by "
                              "0.0.9+0123456789ab; this is " +
                                  build + ")"))
        << more.out;
    auto again = s.run({"run", file, "--set", "sweep.seeds=5"}); // the new runs are this build's
    EXPECT_TRUE(has(again.out, "note: 4 of the 8 trial(s)")) << again.out;
}
