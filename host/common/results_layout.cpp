// Results folder layout and the CLI's default paths.
#include "common/results_layout.hpp"

#include <cstdlib>

namespace iclr {
namespace fs = std::filesystem;

namespace {
fs::path real_path(const std::string& p) {
    std::error_code ec;
    auto c = fs::canonical(p, ec);
    return ec ? fs::path(absolute_path(p)) : c;
}
} // namespace

ResultsLayout::ResultsLayout(const std::string& db_path) {
    fs::path real = real_path(db_path);
    root_ = real.parent_path();
    name_ = real.filename().string();
}

std::string default_db_path() {
    const char* e = std::getenv("ICLR_DB");
    return e && *e ? e : "results/iclr.db";
}

std::string default_data_dir() {
    const char* e = std::getenv("ICLR_DATA");
    return e && *e ? e : "data";
}

std::string absolute_path(const std::string& p) {
    std::error_code ec;
    auto a = fs::absolute(p, ec);
    return ec ? p : a.lexically_normal().string();
}

} // namespace iclr
