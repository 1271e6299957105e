// Results folder layout and the CLI's default paths.
#include "common/results_layout.hpp"

#include <cstdlib>

namespace iclr {
namespace fs = std::filesystem;

ResultsLayout::ResultsLayout(const std::string& db_path)
    : root_(fs::path(absolute_path(db_path)).parent_path()), stem_(fs::path(db_path).stem().string()) {}

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
