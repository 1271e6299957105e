// A claim's verdict from the rows its query returned: estimate, 95% CI from a bootstrap over seeds
// (the wider of Student's t with its standard error and its percentiles; for a claim on 0/1 events
// at least the exact binomial interval), held or not.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace iclr::claims {

// One row of a claim's query, by column: value always; the others when the query has them.
struct Row {
    double value = 0;
    std::optional<double> x;          // increasing / decreasing
    std::optional<std::string> group; // `grp` or `arm`: less / greater / about (a vs b)
    std::optional<std::string> seed;  // the bootstrap's unit; each row its own unit when absent
};

struct Hypothesis {
    std::string kind; // less greater increasing decreasing about at_most at_least
    std::string a, b; // groups (less, greater, about between groups)
    std::optional<double> tolerance, threshold, target;
    // Each value is 0 or 1, an event (a run collapsed or not): the CI covers the exact binomial one.
    bool binary = false;
};

enum class Outcome { Held, NotHeld, Inconclusive, NoData };
const char* to_string(Outcome o); // "held", "not held", "inconclusive", "no data"

struct Verdict {
    Outcome outcome = Outcome::NoData;
    int64_t n = 0; // independent units (seeds, or rows when the query has no seed column)
    double estimate = 0, ci_low = 0, ci_high = 0;
    std::string reason; // why no data; what the estimate is otherwise
    // Inconclusive over seeds: how many seeds would decide it if the estimate and the seeds' spread
    // stayed as measured (seeds_to_decide); 0 when not projected, -1 beyond kMaxProjectedSeeds.
    int64_t seeds_to_decide = 0;
    // Inconclusive with every unit at exactly the value where the verdict turns (no seed collapsed,
    // against at_most 0): why more units alike would not decide it. Empty otherwise.
    std::string on_point;
    // A binary claim whose interval was widened to the exact binomial one: why, with the counts.
    std::string exact;
};

// The most seeds a projection names; beyond it, "more than".
constexpr int64_t kMaxProjectedSeeds = 10000;

// Deterministic: the bootstrap draws from a fixed seed, so the same rows give the same verdict.
constexpr int kBootstrapSamples = 2000;
Verdict evaluate(const Hypothesis& test, const std::vector<Row>& rows);

// Why an inconclusive verdict is so, in words ("" when there is nothing to add): every unit exactly
// on the point where it turns (on_point), or how many seeds would decide it, with what that
// projection assumes and what adding seeds after the fact costs.
std::string inconclusive_note(const Verdict& v);

} // namespace iclr::claims
