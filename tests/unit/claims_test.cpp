// Claim verdicts on synthetic data whose answer is known: each kind, each outcome, no-data
// reasons, and byte-for-byte determinism of the bootstrap.
#include <gtest/gtest.h>

#include <cmath>

#include "claims/evaluate.hpp"

using namespace iclr::claims;

namespace {

// Group a = base + delta, group b = base, per seed, with seed-level noise shared by both (so a
// paired comparison sees delta exactly and an unpaired one would not).
std::vector<Row> two_groups(double delta, int seeds, double noise = 0.3) {
    std::vector<Row> rows;
    for (int s = 0; s < seeds; ++s) {
        double base = 1.0 + noise * std::sin(3.7 * s);
        double wobble = 0.01 * std::cos(5.3 * s); // a little pair-level noise
        rows.push_back({base + delta + wobble, std::nullopt, "a", std::to_string(s)});
        rows.push_back({base, std::nullopt, "b", std::to_string(s)});
    }
    return rows;
}

Hypothesis less() { return {"less", "a", "b", std::nullopt, std::nullopt, std::nullopt}; }

} // namespace

TEST(Claims, LessHoldsNotHoldsOrIsInconclusiveByWhereTheCiLies) {
    Verdict lower = evaluate(less(), two_groups(-0.1, 10));
    EXPECT_EQ(lower.outcome, Outcome::Held) << lower.reason;
    EXPECT_NEAR(lower.estimate, -0.1, 0.01);
    EXPECT_LT(lower.ci_high, 0);
    EXPECT_EQ(lower.n, 10);
    EXPECT_EQ(evaluate(less(), two_groups(+0.1, 10)).outcome, Outcome::NotHeld);
    Verdict same = evaluate(less(), two_groups(0.0, 10));
    EXPECT_EQ(same.outcome, Outcome::Inconclusive);
    EXPECT_LE(same.ci_low, 0);
    EXPECT_GE(same.ci_high, 0);
    Hypothesis greater = less();
    greater.kind = "greater";
    EXPECT_EQ(evaluate(greater, two_groups(+0.1, 10)).outcome, Outcome::Held);
}

TEST(Claims, PairingBySeedRemovesTheSharedNoise) {
    // Seed noise 30x larger than the effect: paired by seed, the difference is still clear.
    Verdict v = evaluate(less(), two_groups(-0.05, 8, 1.5));
    EXPECT_EQ(v.outcome, Outcome::Held) << v.estimate << " [" << v.ci_low << ", " << v.ci_high << "]";
}

TEST(Claims, TrendsUseSpearmanOverSeeds) {
    std::vector<Row> rows;
    for (int s = 0; s < 5; ++s)
        for (double x : {16.0, 64.0, 256.0, 1024.0})
            rows.push_back(
                {0.3 / std::log2(x) + 0.001 * s, x, std::nullopt, std::to_string(s)}); // seeds apart less than widths
    Hypothesis dec{"decreasing", "", "", std::nullopt, std::nullopt, std::nullopt};
    Verdict v = evaluate(dec, rows);
    EXPECT_EQ(v.outcome, Outcome::Held);
    EXPECT_LT(v.estimate, -0.9); // ties in x keep it off -1
    Hypothesis inc = dec;
    inc.kind = "increasing";
    EXPECT_EQ(evaluate(inc, rows).outcome, Outcome::NotHeld);
    rows[0].x.reset();
    EXPECT_EQ(evaluate(dec, rows).outcome, Outcome::NoData);
}

TEST(Claims, ThresholdsAndEquivalence) {
    std::vector<Row> rows;
    for (int s = 0; s < 10; ++s)
        rows.push_back({0.5 + 0.01 * std::sin(s), std::nullopt, std::nullopt, std::to_string(s)});
    EXPECT_EQ(evaluate({"at_most", "", "", std::nullopt, 0.6, std::nullopt}, rows).outcome, Outcome::Held);
    EXPECT_EQ(evaluate({"at_most", "", "", std::nullopt, 0.4, std::nullopt}, rows).outcome, Outcome::NotHeld);
    EXPECT_EQ(evaluate({"at_least", "", "", std::nullopt, 0.4, std::nullopt}, rows).outcome, Outcome::Held);
    EXPECT_EQ(evaluate({"at_least", "", "", std::nullopt, 0.5, std::nullopt}, rows).outcome, Outcome::Inconclusive);
    EXPECT_EQ(evaluate({"about", "", "", 0.05, std::nullopt, 0.5}, rows).outcome, Outcome::Held);
    EXPECT_EQ(evaluate({"about", "", "", 0.05, std::nullopt, 0.7}, rows).outcome, Outcome::NotHeld);
    EXPECT_EQ(evaluate({"about", "a", "b", 0.02, std::nullopt, std::nullopt}, two_groups(0.001, 10)).outcome,
              Outcome::Held);
    EXPECT_EQ(evaluate({"about", "a", "b", 0.02, std::nullopt, std::nullopt}, two_groups(0.2, 10)).outcome,
              Outcome::NotHeld);
}

TEST(Claims, NoDataSaysWhy) {
    EXPECT_EQ(evaluate(less(), {}).reason, "the query returned no rows");
    Verdict one = evaluate(less(), two_groups(-0.1, 1));
    EXPECT_EQ(one.outcome, Outcome::NoData);
    EXPECT_EQ(one.reason, "too few seeds (1; a CI needs 2)");
    Hypothesis other = less();
    other.b = "c";
    EXPECT_EQ(evaluate(other, two_groups(-0.1, 5)).reason, "no rows for group 'c' (the query's grp or arm column)");
}

TEST(Claims, TheSameRowsGiveTheSameVerdictBitForBit) {
    auto rows = two_groups(-0.02, 7, 0.5);
    Verdict a = evaluate(less(), rows), b = evaluate(less(), rows);
    EXPECT_EQ(a.estimate, b.estimate);
    EXPECT_EQ(a.ci_low, b.ci_low);
    EXPECT_EQ(a.ci_high, b.ci_high);
    EXPECT_EQ(to_string(a.outcome), std::string(to_string(b.outcome)));
}

TEST(Claims, ThePercentileIntervalCoversAKnownMean) {
    // Ten seeds 1..10: the bootstrap distribution of the mean is centred on 5.5 with sd about
    // sqrt(8.25 / 10) = 0.908, so its 95% interval is close to 5.5 +- 1.96 * 0.908.
    std::vector<Row> rows;
    for (int s = 1; s <= 10; ++s)
        rows.push_back({double(s), std::nullopt, std::nullopt, std::to_string(s)});
    Verdict v = evaluate({"at_least", "", "", std::nullopt, 0.0, std::nullopt}, rows);
    EXPECT_DOUBLE_EQ(v.estimate, 5.5);
    EXPECT_NEAR(v.ci_low, 5.5 - 1.96 * 0.908, 0.25);
    EXPECT_NEAR(v.ci_high, 5.5 + 1.96 * 0.908, 0.25);
}
