// Wire protocol encoding and parsing; unit-tested on every record kind and on garbage input.
#include "exec/protocol.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "common/number_text.hpp"

namespace iclr::protocol {
namespace {

std::string clean(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return out;
}

std::vector<std::string_view> split_tabs(std::string_view line) {
    std::vector<std::string_view> f;
    size_t start = 0;
    while (true) {
        size_t tab = line.find('\t', start);
        f.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
        if (tab == std::string_view::npos) return f;
        start = tab + 1;
    }
}

std::optional<int64_t> to_int(std::string_view s) { return number_of<int64_t>(s); }

// strtod, not from_chars: it reads "nan", "inf" and "-inf" the way %.17g writes them.
std::optional<double> to_double(std::string_view s) {
    std::string z(s);
    char* end = nullptr;
    double v = std::strtod(z.c_str(), &end);
    if (z.empty() || end != z.c_str() + z.size()) return std::nullopt;
    return v;
}

std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

std::string join(std::initializer_list<std::string> fields) {
    std::string s;
    for (const auto& f : fields)
        s += (s.empty() ? "" : "\t") + f;
    return s + "\n";
}

} // namespace

std::string encode(const Record& r) {
    std::string run = std::to_string(r.run);
    switch (r.kind) {
    case Record::Kind::Ready:
        return join({"R", std::to_string(r.pid), clean(r.device), clean(r.torch_version), clean(r.kernels)});
    case Record::Kind::Metric:
        return join(
            {"M", run, clean(r.key), std::to_string(r.step), r.task ? std::to_string(*r.task) : "-", number(r.value)});
    case Record::Kind::Attribute:
        return join({"A", run, clean(r.key), clean(r.text)});
    case Record::Kind::Artifact:
        return join({"F", run, clean(r.key), clean(r.text)});
    case Record::Kind::Done:
        return join({"D", run});
    case Record::Kind::Error:
        return join({"E", run, to_string(r.status), r.status == RunStatus::Diverged ? std::to_string(r.step) : "-",
                     clean(r.text)});
    }
    return "";
}

std::optional<Record> parse_record(std::string_view line) {
    auto f = split_tabs(line);
    Record r;
    if (f[0] == "R" && f.size() == 5) {
        auto pid = to_int(f[1]);
        if (!pid) return std::nullopt;
        r.kind = Record::Kind::Ready;
        r.pid = *pid;
        r.device = f[2];
        r.torch_version = f[3];
        r.kernels = f[4];
        return r;
    }
    if (f.size() < 2) return std::nullopt;
    auto run = to_int(f[1]);
    if (!run) return std::nullopt;
    r.run = *run;
    if (f[0] == "M" && f.size() == 6) {
        auto step = to_int(f[3]);
        auto value = to_double(f[5]);
        std::optional<int64_t> task;
        if (f[4] != "-" && !(task = to_int(f[4]))) return std::nullopt;
        if (!step || !value) return std::nullopt;
        r.kind = Record::Kind::Metric;
        r.key = f[2];
        r.step = *step;
        r.task = task;
        r.value = *value;
    } else if ((f[0] == "A" || f[0] == "F") && f.size() == 4) {
        r.kind = f[0] == "A" ? Record::Kind::Attribute : Record::Kind::Artifact;
        r.key = f[2];
        r.text = f[3];
    } else if (f[0] == "D" && f.size() == 2) {
        r.kind = Record::Kind::Done;
    } else if (f[0] == "E" && f.size() == 5) {
        auto status = parse_run_status(f[2]);
        if (!status ||
            (*status != RunStatus::Failed && *status != RunStatus::Interrupted && *status != RunStatus::Diverged))
            return std::nullopt;
        std::optional<int64_t> step;
        if (*status == RunStatus::Diverged && !(step = to_int(f[3]))) return std::nullopt;
        r.kind = Record::Kind::Error;
        r.status = *status;
        r.step = step.value_or(0);
        r.text = f[4];
    } else {
        return std::nullopt;
    }
    return r;
}

std::string frame(std::string_view nonce, std::string_view encoded) {
    std::string line;
    line.reserve(nonce.size() + 1 + encoded.size());
    return line.append(nonce).append("\t").append(encoded);
}

std::optional<Record> parse_framed(std::string_view nonce, std::string_view line) {
    if (nonce.empty() || line.size() <= nonce.size() || line.substr(0, nonce.size()) != nonce ||
        line[nonce.size()] != '\t')
        return std::nullopt;
    return parse_record(line.substr(nonce.size() + 1));
}

std::string make_nonce() {
    std::random_device rd; // getrandom(2) on Linux
    char buf[17];
    std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
    return buf;
}

std::string encode_trial(std::string_view payload) {
    return "TRIAL " + std::to_string(payload.size()) + "\n" + std::string(payload);
}

std::string encode_check(std::string_view payload) {
    return "CHECK " + std::to_string(payload.size()) + "\n" + std::string(payload);
}

std::string encode_quit() { return "QUIT\n"; }

Command read_command(std::istream& in) {
    std::string header;
    while (std::getline(in, header)) {
        if (header == "QUIT") return {Command::Kind::Quit, {}};
        Command::Kind kind;
        if (header.rfind("TRIAL ", 0) == 0)
            kind = Command::Kind::Trial;
        else if (header.rfind("CHECK ", 0) == 0)
            kind = Command::Kind::Check;
        else
            continue;
        auto n = to_int(std::string_view(header).substr(6));
        if (!n || *n < 0) continue;
        Command c{kind, std::string(size_t(*n), '\0')};
        in.read(c.payload.data(), std::streamsize(*n));
        if (in.gcount() != std::streamsize(*n)) return {};
        return c;
    }
    return {};
}

} // namespace iclr::protocol
