// Host error types: a user error is bad input (exit 2), with an optional file:line:column.
#pragma once

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace iclr {

struct SourcePos {
    std::string file;
    int line = 0;
    int column = 0;
    std::string str() const {
        if (line <= 0) return file;
        return file + ":" + std::to_string(line) + ":" + std::to_string(column);
    }
    // File, then line, then column: the order a reader meets them in.
    bool operator<(const SourcePos& o) const {
        return std::tie(file, line, column) < std::tie(o.file, o.line, o.column);
    }
};

// Bad input from the user: a sweep, a flag, a query. The CLI prints what() on one line, exits 2.
class UserError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A runtime failure that is not the user's input (database, disk, workers). Exit 1.
class HostError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct Diagnostic {
    SourcePos pos;
    std::string message;
    std::string str() const { return pos.str() + ": " + message; }
};

// Every problem found in a sweep, reported together in file and line order; each line is one
// diagnostic.
class SweepError : public UserError {
  public:
    explicit SweepError(std::vector<Diagnostic> diags)
        : UserError(join(sorted(diags))), diagnostics(sorted(std::move(diags))) {}
    std::vector<Diagnostic> diagnostics;

  private:
    static std::vector<Diagnostic> sorted(std::vector<Diagnostic> d) {
        std::stable_sort(d.begin(), d.end(), [](const Diagnostic& a, const Diagnostic& b) { return a.pos < b.pos; });
        return d;
    }
    static std::string join(const std::vector<Diagnostic>& d) {
        std::string s;
        for (size_t i = 0; i < d.size(); ++i)
            s += (i ? "\n" : "") + d[i].str();
        return s;
    }
};

// How the CLI says an error: stdout flushed first (what the command printed comes before it), then
// "iclr: error: " and what(), or a line per diagnostic of a sweep's.
inline void print_error(const std::exception& e) {
    std::fflush(stdout);
    if (const auto* sweep = dynamic_cast<const SweepError*>(&e))
        for (const Diagnostic& d : sweep->diagnostics)
            std::fprintf(stderr, "iclr: error: %s\n", d.str().c_str());
    else
        std::fprintf(stderr, "iclr: error: %s\n", e.what());
}

} // namespace iclr
