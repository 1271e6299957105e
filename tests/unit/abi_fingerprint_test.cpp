// The SDK's version covers its interface: a fingerprint of the contract headers is pinned next to
// the ABI version it belongs to (sdk/abi-fingerprints.txt), so an interface change cannot land
// without a version bump.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "iclr/abi.h"
#include "iclr/sha256.hpp"
#include "test_paths.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kSdk = fs::path(ICLR_TEST_SOURCE_DIR) / "sdk";

// The headers whose declarations are the contract: the C handshake and every type that crosses
// between the host and a plugin, or between two plugins (a Learner made by a method is read by
// a metric). Helpers compiled into each plugin (classifier, augment, replay, cache, ...) are not
// part of it. sdk/README.md lists the same set.
const char* const kContractHeaders[] = {"abi.h",     "c_boundary.hpp", "params.hpp", "context.hpp", "dataset.hpp",
                                        "model.hpp", "learner.hpp",    "method.hpp", "metric.hpp",  "plugin.hpp"};

bool ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Comments removed, whitespace kept only where it separates two words: editing a comment or
// reformatting (clang-format) is not an interface change; anything else in these headers is.
std::string normalise(const std::string& text) {
    std::string out;
    bool space = false;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text.compare(i, 2, "//") == 0) {
            i = text.find('\n', i);
            if (i == std::string::npos) break;
        } else if (text.compare(i, 2, "/*") == 0) {
            i = text.find("*/", i + 2);
            if (i == std::string::npos) break;
            ++i;
            space = true;
            continue;
        }
        char c = text[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = true;
            continue;
        }
        if (space && !out.empty() && ident(out.back()) && ident(c)) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

std::string read(const fs::path& p) {
    std::ifstream in(p);
    EXPECT_TRUE(in) << "cannot read " << p;
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::string fingerprint() {
    iclr::Sha256 h;
    for (const char* name : kContractHeaders) {
        h.update(std::string(name) + "\n");
        h.update(normalise(read(kSdk / "include" / "iclr" / name)) + "\n");
    }
    return h.hex().substr(0, 16);
}

struct Pinned {
    std::string version, fingerprint, note;
};

std::vector<Pinned> pinned() {
    std::vector<Pinned> out;
    std::istringstream in(read(kSdk / "abi-fingerprints.txt"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        Pinned p;
        fields >> p.version >> p.fingerprint;
        std::getline(fields, p.note);
        out.push_back(p);
    }
    return out;
}

} // namespace

TEST(AbiFingerprint, NormalisingIgnoresCommentsAndFormattingOnly) {
    EXPECT_EQ(normalise("int  f(); // why\n/* more */ int g();"), normalise("int f();\nint g();"));
    EXPECT_EQ(normalise("f(a,b);"), normalise("f(a,\n  b) ;")); // a reformatted call
    EXPECT_NE(normalise("unsigned int x;"), normalise("unsignedint x;"));
    EXPECT_NE(normalise("virtual void a() = 0;"), normalise("virtual void b() = 0;"));
}

TEST(AbiFingerprint, TheInterfaceMatchesTheVersionItIsPinnedTo) {
    std::string version = std::to_string(ICLR_ABI_MAJOR) + "." + std::to_string(ICLR_ABI_MINOR);
    auto lines = pinned();
    ASSERT_FALSE(lines.empty()) << "sdk/abi-fingerprints.txt has no entries";
    const Pinned& last = lines.back();
    std::string now = fingerprint();
    EXPECT_EQ(last.fingerprint, now)
        << "the SDK interface changed: bump ICLR_ABI_MINOR (appended) or MAJOR (changed) in sdk/include/iclr/abi.h "
           "and update the fingerprint: append the line `X.Y "
        << now << "` to sdk/abi-fingerprints.txt (rules: sdk/README.md)";
    EXPECT_EQ(last.version, version) << "abi.h says " << version << " but sdk/abi-fingerprints.txt's last line is "
                                     << last.version << ": pin the fingerprint to the version abi.h declares";
}

TEST(AbiFingerprint, EveryInterfaceChangeInTheHistoryBumpedTheVersion) {
    auto lines = pinned();
    for (size_t k = 1; k < lines.size(); ++k) {
        if (lines[k].version != lines[k - 1].version) continue;
        EXPECT_NE(lines[k].note.find("# no ABI change:"), std::string::npos)
            << "version " << lines[k].version << " is pinned to two fingerprints; a second one needs a note "
            << "`# no ABI change: <why>` (e.g. an inline helper's body changed, no layout or vtable did)";
    }
}
