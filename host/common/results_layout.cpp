// Results folder layout and the CLI's default paths.
#include "common/results_layout.hpp"

#include <cstdlib>

namespace iclr {
namespace fs = std::filesystem;

namespace {
// Symlinks resolved. A database not created yet may be a link to where it will be (opening it
// creates the target): the layout is the target's already, as it will be once the file exists,
// so that what a command writes before the database (the constructor check's data cache) goes
// where everything after it goes.
fs::path real_path(const std::string& p) {
    std::error_code ec;
    auto c = fs::canonical(p, ec);
    if (!ec) return c;
    fs::path at = absolute_path(p);
    for (int hops = 0; hops < 40 && fs::is_symlink(at, ec); ++hops) { // 40: the kernel's own limit
        fs::path target = fs::read_symlink(at, ec);
        if (ec) break;
        at = target.is_absolute() ? target : at.parent_path() / target;
    }
    fs::path resolved = fs::weakly_canonical(at, ec);
    return ec ? fs::path(absolute_path(p)) : resolved;
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
