// End-to-end test helpers: run the real iclr binary in a scratch folder and read its database.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/text_file.hpp"
#include "test_paths.hpp"

namespace iclr::e2e {

struct Result {
    int code = -1;   // exit code, or 128 + signal
    std::string out; // stdout and stderr together
};

// A scratch project: its own database, plugin manifest cache and the fixture plugins on the path.
class Scratch {
  public:
    Scratch() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "iclr-e2e-XXXXXX").string();
        dir_ = mkdtemp(tmpl.data());
    }
    ~Scratch() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }
    std::string db() const { return path("results/iclr.db"); }

    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path(name)) << text;
        return path(name);
    }

    // Starts `iclr args...` with the scratch environment; output goes to a file.
    pid_t start(const std::vector<std::string>& args, const std::string& out_file) const {
        return start_binary(ICLR_BIN, args, out_file);
    }
    pid_t start_binary(const std::string& bin, const std::vector<std::string>& args,
                       const std::string& out_file) const {
        pid_t pid = fork();
        if (pid == 0) {
            int fd = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 1);
            dup2(fd, 2);
            if (chdir(dir_.c_str()) != 0) _exit(126);
            setenv("ICLR_PLUGIN_PATH", ICLR_FIXTURE_OK_DIR, 1);
            setenv("ICLR_CACHE_DIR", path("cache").c_str(), 1);
            setenv("ICLR_DATA", data_dir().c_str(), 1);
            setenv("ICLR_DB", db().c_str(), 1);
            for (const auto& [k, v] : env_)
                setenv(k.c_str(), v.c_str(), 1);
            std::vector<char*> argv{const_cast<char*>(bin.c_str())};
            for (const auto& a : args)
                argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            execv(bin.c_str(), argv.data());
            _exit(127);
        }
        return pid;
    }

    static int wait_code(pid_t pid) {
        int status = 0;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    Result run(const std::vector<std::string>& args) const { return run_binary(ICLR_BIN, args); }
    // The same for another iclr binary (an installed one).
    Result run_binary(const std::string& bin, const std::vector<std::string>& args) const {
        std::string out = path("out-" + std::to_string(counter_++) + ".txt");
        Result r;
        r.code = wait_code(start_binary(bin, args, out));
        std::ifstream in(out);
        r.out.assign(std::istreambuf_iterator<char>(in), {});
        return r;
    }

    void set_env(const std::string& k, const std::string& v) { env_.emplace_back(k, v); }

    // Real data: the folder `make data` fills.
    static std::string data_dir() {
        if (const char* d = std::getenv("ICLR_DATA"); d && *d) return std::filesystem::absolute(d).string();
        return std::string(ICLR_TEST_SOURCE_DIR) + "/data";
    }

    // One value from the database (read-only connection, as a user's sqlite3 would do).
    std::string sql(const std::string& query) const { return sql_in(db(), query); }
    // With text bound to ?1, ?2, ... (a command's JSON output read with json_extract, say).
    std::string sql(const std::string& query, const std::vector<std::string>& binds) const {
        return sql_in(db(), query, binds);
    }
    // The same for a database somewhere else (a --db path).
    static std::string sql_in(const std::string& path, const std::string& query,
                              const std::vector<std::string>& binds = {}) {
        sqlite3* db = nullptr;
        if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
            sqlite3_close(db);
            return "<no database>";
        }
        sqlite3_busy_timeout(db, 5000);
        sqlite3_stmt* st = nullptr;
        std::string out = "<error>";
        if (sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr) == SQLITE_OK) {
            for (size_t i = 0; i < binds.size(); ++i)
                sqlite3_bind_text(st, int(i + 1), binds[i].c_str(), int(binds[i].size()), SQLITE_TRANSIENT);
            out = "<no row>";
            if (sqlite3_step(st) == SQLITE_ROW) {
                const unsigned char* t = sqlite3_column_text(st, 0);
                out = t ? reinterpret_cast<const char*>(t) : "NULL";
            }
        } else {
            out = std::string("<error: ") + sqlite3_errmsg(db) + ">";
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out;
    }
    int64_t count(const std::string& query) const { return std::atoll(sql(query).c_str()); }

  private:
    std::filesystem::path dir_;
    std::vector<std::pair<std::string, std::string>> env_;
    mutable int counter_ = 0;
};

// Polls until cond() holds or the deadline passes.
template <class F> bool eventually(F cond, double seconds) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return cond();
}

// Running, not just present: the test process adopts orphans, so a dead one may linger as its
// zombie until reaped.
inline bool process_alive(pid_t pid) {
    if (pid <= 0 || kill(pid, 0) != 0) return false;
    auto text = read_text_file("/proc/" + std::to_string(pid) + "/stat", 4096);
    if (!text) return false; // it exited while being read (ESRCH)
    const std::string& stat = *text;
    auto close = stat.rfind(')');
    return close == std::string::npos || stat.size() < close + 3 || stat[close + 2] != 'Z';
}

inline bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

inline size_t occurrences(const std::string& s, const std::string& needle) {
    size_t n = 0;
    for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1))
        ++n;
    return n;
}

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A sweep shipped in sweeps/, by name.
inline std::string shipped_sweep(const std::string& name) {
    return std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/" + name + ".toml";
}

// `iclr run SWEEP --profile ci` succeeds with every one of its `trials` done.
inline void expect_ci_run(Scratch& s, const std::string& sweep, int trials) {
    auto r = s.run({"run", sweep, "--profile", "ci"});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, std::to_string(trials) + " done, 0 failed")) << r.out;
}

// Each key has a final value in exactly `runs` runs.
inline void expect_final_metrics(Scratch& s, const std::vector<std::string>& keys, int runs) {
    for (const auto& key : keys)
        EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics WHERE key = '" + key + "'"), runs) << key;
}

// The arms whose runs have a final value of `key`, sorted and comma-separated ("" when none).
inline std::string arms_with_metric(Scratch& s, const std::string& key) {
    return s.sql("SELECT COALESCE(GROUP_CONCAT(arm), '') FROM (SELECT r.arm FROM runs r JOIN final_metrics f ON "
                 "f.run_id = r.id AND f.key = '" +
                 key + "' ORDER BY r.arm)");
}

// `iclr verify SWEEP --profile ci` succeeds and records a verdict for each of its `claims`.
inline void expect_ci_verdicts(Scratch& s, const std::string& sweep, int claims) {
    auto v = s.run({"verify", sweep, "--profile", "ci"});
    ASSERT_EQ(v.code, 0) << v.out;
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT claim) FROM verdicts"), claims) << v.out;
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT claim) FROM verdicts WHERE variant = '--profile ci'"), claims) << v.out;
}

} // namespace iclr::e2e
