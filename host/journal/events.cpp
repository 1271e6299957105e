// Journal event encoding: a kind letter and netstring-like fields; doubles by their bit pattern.
#include "journal/events.hpp"

#include <charconv>
#include <cstring>
#include <vector>

#include "common/number_text.hpp"

namespace iclr::journal {
namespace {

class Fields {
  public:
    explicit Fields(char kind) { out_.push_back(kind); }
    Fields& str(std::string_view s) {
        out_ += std::to_string(s.size()) + ":";
        out_ += s;
        return *this;
    }
    Fields& num(int64_t v) { return str(std::to_string(v)); }
    Fields& opt(const std::optional<int64_t>& v) { return str(v ? std::to_string(*v) : std::string()); }
    Fields& real(double v) {
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        return num(int64_t(bits));
    }
    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

// The fields after the kind letter; nullopt when the payload is not well formed.
std::optional<std::vector<std::string_view>> split(std::string_view p) {
    std::vector<std::string_view> f;
    size_t at = 1;
    while (at < p.size()) {
        size_t colon = p.find(':', at);
        if (colon == std::string_view::npos) return std::nullopt;
        size_t len = 0;
        auto [end, ec] = std::from_chars(p.data() + at, p.data() + colon, len);
        if (ec != std::errc() || end != p.data() + colon || len > p.size() - colon - 1) return std::nullopt;
        f.push_back(p.substr(colon + 1, len));
        at = colon + 1 + len;
    }
    return f;
}

bool to_int(std::string_view s, int64_t& v) {
    auto x = number_of<int64_t>(s);
    if (x) v = *x;
    return x.has_value();
}

bool to_opt(std::string_view s, std::optional<int64_t>& v) {
    if (s.empty()) return v = std::nullopt, true;
    int64_t x = 0;
    if (!to_int(s, x)) return false;
    v = x;
    return true;
}

bool to_int(std::string_view s, int& v) {
    int64_t x = 0;
    if (!to_int(s, x)) return false;
    v = int(x);
    return true;
}

std::optional<std::optional<int>> opt_int(std::string_view s) {
    std::optional<int64_t> v;
    if (!to_opt(s, v)) return std::nullopt;
    return v ? std::optional<int>(int(*v)) : std::nullopt;
}

struct Encoder {
    std::string operator()(const TaskOpened& t) const {
        return Fields('T').str(t.job).num(t.restart).num(t.pid).str(t.host).str(t.at).take();
    }
    std::string operator()(const Started& s) const {
        const RunStart& r = s.start;
        return Fields('S')
            .num(r.run)
            .str(s.key)
            .num(r.worker_pid)
            .num(r.threads)
            .str(r.device)
            .str(r.host)
            .str(r.torch_version)
            .str(r.at)
            .str(r.kernels)
            .take();
    }
    std::string operator()(const Metric& m) const {
        return Fields('M').num(m.run).str(m.key).num(m.step).opt(m.task).real(m.value).take();
    }
    std::string operator()(const Attribute& a) const { return Fields('A').num(a.run).str(a.key).str(a.value).take(); }
    std::string operator()(const Artifact& a) const {
        return Fields('F').num(a.run).str(a.name).str(a.path).num(a.bytes).take();
    }
    std::string operator()(const Ended& e) const {
        Fields f('E');
        f.num(e.run).str(to_string(e.status)).str(e.error).str(e.log_tail);
        f.opt(e.exit_code ? std::optional<int64_t>(*e.exit_code) : std::nullopt);
        f.opt(e.signal ? std::optional<int64_t>(*e.signal) : std::nullopt);
        return f.real(e.duration_s).opt(e.diverged_step).str(e.at).take();
    }
};

std::optional<Event> decode_start(const std::vector<std::string_view>& f) {
    Started s;
    RunStart& r = s.start;
    // 8 fields: a journal an iclr before runs.kernels wrote (an array task of an older build).
    if ((f.size() != 8 && f.size() != 9) || !to_int(f[0], r.run) || !to_int(f[2], r.worker_pid) ||
        !to_int(f[3], r.threads))
        return std::nullopt;
    s.key = f[1];
    r.device = f[4];
    r.host = f[5];
    r.torch_version = f[6];
    r.at = f[7];
    if (f.size() == 9) r.kernels = f[8];
    return s;
}

std::optional<Event> decode_end(const std::vector<std::string_view>& f) {
    Ended e;
    int64_t bits = 0;
    auto status = f.size() == 9 ? parse_run_status(f[1]) : std::nullopt;
    auto exit_code = f.size() == 9 ? opt_int(f[4]) : std::nullopt;
    auto signal = f.size() == 9 ? opt_int(f[5]) : std::nullopt;
    if (!status || !exit_code || !signal || !to_int(f[0], e.run) || !to_int(f[6], bits) ||
        !to_opt(f[7], e.diverged_step))
        return std::nullopt;
    e.status = *status;
    e.error = f[2];
    e.log_tail = f[3];
    e.exit_code = *exit_code;
    e.signal = *signal;
    std::memcpy(&e.duration_s, &bits, sizeof bits);
    e.at = f[8];
    return e;
}

} // namespace

std::string encode(const Event& e) { return std::visit(Encoder{}, e); }

std::optional<Event> decode(std::string_view p) {
    if (p.empty()) return std::nullopt;
    auto fo = split(p);
    if (!fo) return std::nullopt;
    const auto& f = *fo;
    switch (p[0]) {
    case 'T': {
        TaskOpened t;
        if (f.size() != 5 || !to_int(f[1], t.restart) || !to_int(f[2], t.pid)) return std::nullopt;
        t.job = f[0];
        t.host = f[3];
        t.at = f[4];
        return t;
    }
    case 'S':
        return decode_start(f);
    case 'M': {
        Metric m;
        int64_t bits = 0;
        if (f.size() != 5 || !to_int(f[0], m.run) || !to_int(f[2], m.step) || !to_opt(f[3], m.task) ||
            !to_int(f[4], bits))
            return std::nullopt;
        m.key = f[1];
        std::memcpy(&m.value, &bits, sizeof bits);
        return m;
    }
    case 'A': {
        Attribute a;
        if (f.size() != 3 || !to_int(f[0], a.run)) return std::nullopt;
        a.key = f[1];
        a.value = f[2];
        return a;
    }
    case 'F': {
        Artifact a;
        if (f.size() != 4 || !to_int(f[0], a.run) || !to_int(f[3], a.bytes)) return std::nullopt;
        a.name = f[1];
        a.path = f[2];
        return a;
    }
    case 'E':
        return decode_end(f);
    default:
        return std::nullopt;
    }
}

int64_t run_of(const Event& e) {
    return std::visit(
        [](const auto& x) -> int64_t {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, TaskOpened>)
                return -1;
            else if constexpr (std::is_same_v<T, Started>)
                return x.start.run;
            else
                return x.run;
        },
        e);
}

} // namespace iclr::journal
