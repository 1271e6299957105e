// What every part of the sweep parser shares: the file being read and the diagnostics so far.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "common/errors.hpp"

namespace iclr {

class ParseContext {
  public:
    explicit ParseContext(std::string file) : file_(std::move(file)) {}
    const std::string& file() const { return file_; }
    // Where a node starts: its own file (an include's, for included tables), line and column.
    SourcePos pos(const toml::node& n) const {
        const auto& s = n.source();
        return {s.path ? *s.path : file_, int(s.begin.line), int(s.begin.column)};
    }
    void err(const toml::node& n, std::string msg) { diags_.push_back({pos(n), std::move(msg)}); }
    void err(SourcePos at, std::string msg) { diags_.push_back({std::move(at), std::move(msg)}); }
    bool ok() const { return diags_.empty(); }
    const std::vector<Diagnostic>& diagnostics() const { return diags_; }
    // Every problem so far, as one SweepError (for errors after which parsing cannot go on).
    [[noreturn]] void fail() const { throw SweepError(diags_); }
    void fail_if_any() const {
        if (!diags_.empty()) fail();
    }

  private:
    std::string file_;
    std::vector<Diagnostic> diags_;
};

} // namespace iclr
