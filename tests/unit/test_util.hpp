// Shared helpers for unit tests: a temporary folder that cleans itself up, file writing, a sweep
// parsed from text.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "sweep/sweep.hpp"
#include "test_paths.hpp"

namespace iclr::test {

class TempDir {
  public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "iclr-test-XXXXXX").string();
        path_ = mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A sweep parsed from TEXT as if read from "s.toml", under PROFILE ("" for none).
inline SweepSpec sweep_from_text(const std::string& text, const std::string& profile = "") {
    return parse_sweep_text(text, "s.toml", SweepVariant{profile, {}});
}

} // namespace iclr::test
