// WorkerContext: metric rows and attributes become protocol records in a crash-safe buffer.
#include "exec/worker/worker_context.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace iclr::worker {
namespace {
char g_buf[1 << 20];
size_t g_len = 0;
int g_fd = protocol::kRecordFd;
std::string g_nonce;
} // namespace

bool open_record_channel() {
    const char* nonce = std::getenv(protocol::kNonceEnv);
    if (!nonce || !*nonce) return false;
    g_nonce = nonce;
    unsetenv(protocol::kNonceEnv); // plugins and their children do not inherit it
    // Out of the low fds plugins and libraries touch (close(3), dup2 onto 3, "write to fd 3").
    int moved = fcntl(protocol::kRecordFd, F_DUPFD_CLOEXEC, 200);
    if (moved < 0) return false;
    close(protocol::kRecordFd);
    g_fd = moved;
    return true;
}

std::atomic<bool> g_cancelled{false};

void flush_records() {
    size_t off = 0;
    while (off < g_len) {
        ssize_t n = write(g_fd, g_buf + off, g_len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        off += size_t(n);
    }
    g_len = 0;
}

void record(const protocol::Record& r) {
    std::string line = protocol::frame(g_nonce, protocol::encode(r));
    if (g_len + line.size() > sizeof g_buf) flush_records();
    if (line.size() > sizeof g_buf) return; // a single record this large is a plugin bug
    std::memcpy(g_buf + g_len, line.data(), line.size());
    g_len += line.size();
}

void WorkerContext::log(std::string_view key, double value, int64_t step, int64_t task) {
    protocol::Record r;
    r.kind = protocol::Record::Kind::Metric;
    r.run = s_.run;
    r.key = key;
    r.step = step;
    if (task >= 0) r.task = task;
    r.value = value;
    record(r);
    if (std::isfinite(value) || key.find("loss") == std::string_view::npos) return;
    diverged(std::string(key), std::isnan(value) ? "nan" : value > 0 ? "inf" : "-inf", step);
}

void WorkerContext::diverged(const std::string& key, const std::string& value, int64_t step) {
    if (!divergence_) divergence_ = Divergence{key, value, step};
    if (s_.stop_on_nonfinite) throw Diverged(key, value, step);
}

void WorkerContext::info(std::string_view message) {
    std::fprintf(stderr, "%.*s\n", int(message.size()), message.data());
}

void WorkerContext::set_attribute(std::string_view key, std::string_view value) {
    send(protocol::Record::Kind::Attribute, key, value);
}

std::filesystem::path WorkerContext::run_dir() const {
    std::filesystem::create_directories(s_.run_dir);
    return s_.run_dir;
}

void WorkerContext::add_artifact(std::string_view name, const std::filesystem::path& file) {
    send(protocol::Record::Kind::Artifact, name, file.string());
}

void WorkerContext::send(protocol::Record::Kind kind, std::string_view key, std::string_view text) {
    protocol::Record r;
    r.kind = kind;
    r.run = s_.run;
    r.key = key;
    r.text = text;
    record(r);
}

} // namespace iclr::worker
