// The sweep ETA: the queue runs longest first, so the trials left are expected to take what
// finished trials of their cost took, scaled by exp(beta x cost difference) where none of a cost
// finished, beta fitted to the finished trials; a running trial's time so far is work done.
#include <gtest/gtest.h>

#include <cmath>

#include "cli/eta.hpp"

using namespace iclr;

TEST(Eta, WithOneCostItIsWallTimePerFinishedTrialTimesTheTrialsLeft) {
    CostEta eta({{1, 2.f}, {2, 2.f}, {3, 2.f}, {4, 2.f}});
    EXPECT_FALSE(eta.left(5).has_value());
    eta.finished(1, 10);
    EXPECT_DOUBLE_EQ(*eta.left(10), 30); // 10 s a trial, 3 left
    eta.finished(2, 30);
    EXPECT_DOUBLE_EQ(*eta.left(25), 25); // two on two workers in 25 s: 12.5 s of wall time each, 2 left
}

TEST(Eta, TrialsOfACostNoneFinishedAtAreScaledFromTheNearestCostSeen) {
    float big = 5.f, small = 5.f - float(std::log(10.0)); // one tenth of the size product
    std::unordered_map<int64_t, float> costs{{1, big}};
    for (int64_t run = 2; run <= 11; ++run)
        costs[run] = small;
    CostEta eta(costs);
    eta.finished(1, 20);                        // 20 s of wall time, one worker
    EXPECT_NEAR(*eta.left(20), 10 * 2.0, 1e-4); // ten trials of a tenth: 2 s each, not 20
    eta.finished(2, 5);                         // the small ones take 5 s, overheads included
    EXPECT_NEAR(*eta.left(25), 9 * 5.0, 1e-9);  // their own mean from now on
}

TEST(Eta, AnUnseenCostTakesTheNearestSeenCostOnEitherSide) {
    CostEta eta({{1, 1.f}, {2, 3.f}, {3, 2.9f}, {4, 1.2f}});
    eta.finished(1, 4);                          // cost 1: 4 s
    eta.finished(2, 8);                          // cost 3: 8 s
    double beta = std::log(8.0 / 4.0) / (3 - 1); // the slope of log seconds against cost
    double expect = 8 * std::exp(beta * (2.9 - 3.0)) + 4 * std::exp(beta * (1.2 - 1.0));
    EXPECT_NEAR(*eta.left(12), expect, 1e-5); // one worker: wall time = seconds finished
}

TEST(Eta, RunsItWasNotGivenAndTrialsWithoutDurationChangeNothing) {
    CostEta eta({{1, 1.f}, {2, 1.f}});
    eta.finished(7, 100); // not one of its runs
    EXPECT_FALSE(eta.left(1).has_value());
    eta.finished(1, 0); // a trial interrupted at once: no duration to scale by
    EXPECT_FALSE(eta.left(1).has_value());
    eta.finished(2, 3);
    EXPECT_DOUBLE_EQ(*eta.left(4), 0); // nothing left
    eta.finished(2, 3);                // finished twice: counted once
    EXPECT_DOUBLE_EQ(*eta.left(4), 0);
}

TEST(Eta, WhereTheCostsDoNotSetTheTimesItLearnsSoFromTheFinishedTrials) {
    // Three costs, the cheaper ones as slow as the dearest: the slope of log time against cost is
    // 0, so an unseen cheap cost is expected to take as long as its neighbour, not e^-2 of it.
    CostEta eta({{1, 5.f}, {2, 4.f}, {3, 1.f}});
    eta.finished(1, 10);
    EXPECT_NEAR(*eta.left(10), 10 * std::exp(-1.0) + 10 * std::exp(-4.0), 1e-5); // beta 1 until two costs
    eta.finished(2, 10);
    EXPECT_NEAR(*eta.left(20), 10, 1e-9); // beta 0: the last one takes its neighbour's 10 s
}

TEST(Eta, TheSlopeIsFittedAndClampedToOne) {
    // Time doubling per unit of cost: slope ln 2, below 1, is used as it is; tenfold: clamped to 1.
    CostEta doubling({{1, 3.f}, {2, 2.f}, {3, 0.f}});
    doubling.finished(1, 8);
    doubling.finished(2, 4);
    EXPECT_NEAR(*doubling.left(12), 1, 1e-5); // cost 0: 4 s x 2^-2
    CostEta tenfold({{1, 3.f}, {2, 2.f}, {3, 0.f}});
    tenfold.finished(1, 100);
    tenfold.finished(2, 10);
    EXPECT_NEAR(*tenfold.left(110), 10 * std::exp(-2.0), 1e-5);
}

TEST(Eta, TheRunningTrialsTimeSoFarIsWorkDoneNotWorkLeft) {
    // Two workers, four 10 s trials: when the first finishes, the second has run as long. Counting
    // only finished work would say 30 s left (one trial's work per 10 s of wall time); 10 s is right.
    CostEta eta({{1, 2.f}, {2, 2.f}, {3, 2.f}, {4, 2.f}});
    eta.started(1, 0);
    eta.started(2, 0);
    eta.finished(1, 10);
    EXPECT_DOUBLE_EQ(*eta.left(10), 10); // 20 s of work in 10 s; 40 - 10 - 10 left
    eta.started(3, 10);
    EXPECT_DOUBLE_EQ(*eta.left(14), 14.0 * (30 - 10 - 4) / (10 + 14 + 4)); // 2 ran 14 s (10 due), 3 ran 4
    // A running trial past its expected time is expected to end now, not to have time below zero.
    EXPECT_DOUBLE_EQ(*eta.left(30), 30.0 * 10 / (10 + 30 + 20)); // only 4 left: 10 s
    eta.finished(2, 11);
    eta.finished(3, 11);
    eta.started(4, 21);
    eta.finished(4, 9);
    EXPECT_DOUBLE_EQ(*eta.left(30), 0);
    eta.started(4, 30); // finished already: not running again
    EXPECT_DOUBLE_EQ(*eta.left(40), 0);
}

TEST(Eta, ATrialStoppedToBeRequeuedIsNotRunningAndItsRerunCountsFromItsNewStart) {
    // Two 10 s trials at two workers; the second is interrupted at 5 s (its Slurm task requeued)
    // and starts over at 12 s. Its 5 s are not work done, and after the stop its whole 10 s is left.
    CostEta eta({{1, 2.f}, {2, 2.f}});
    eta.started(1, 0);
    eta.started(2, 0);
    eta.stopped(2);
    eta.finished(1, 10);
    EXPECT_DOUBLE_EQ(*eta.left(10), 10); // 10 s of work done in 10 s, 10 s left
    eta.started(2, 12);
    EXPECT_DOUBLE_EQ(*eta.left(16), 16.0 * (10 - 4) / (10 + 4)); // counted from 12 s, not from 0
    eta.stopped(7);                                              // not one of its runs: nothing
    EXPECT_DOUBLE_EQ(*eta.left(16), 16.0 * (10 - 4) / (10 + 4));
}

TEST(Eta, ACostNoneFinishedAtTakesAtLeastWhatItsLongestRunningTrialHasRun) {
    // task_induced's distractors: 24 against 0 reads as 25x the cost, but both take ~70 s. Two
    // workers; the two dear trials end at 70 s, then four cheap ones follow, none finished yet.
    float dear = float(std::log(25.0)), cheap = 0.f;
    CostEta eta({{1, dear}, {2, dear}, {3, cheap}, {4, cheap}, {5, cheap}, {6, cheap}});
    eta.started(1, 0);
    eta.started(2, 0);
    eta.finished(1, 70);
    eta.finished(2, 70);
    eta.started(3, 70);
    eta.started(4, 70);
    double scaled = 70 / 25.0; // the plan's model: 2.8 s a cheap trial
    EXPECT_NEAR(*eta.left(70), 70 * 4 * scaled / 140, 1e-5);
    // 60 s later the two running cheap trials have run 60 s: each of the four is expected to take
    // at least that, so 4 x 60 - 2 x 60 s of work is left at 260 s of work per 130 s of wall time
    // (the true answer is 80 s; the plan's model alone would still say 2 x 2.8 x 130 / 260 s).
    EXPECT_NEAR(*eta.left(130), 130.0 * (4 * 60 - 2 * 60) / (140 + 2 * 60), 1e-9);
    eta.finished(3, 70); // a cheap trial finished: its own mean from now on, 70 s
    EXPECT_NEAR(*eta.left(140), 140.0 * (3 * 70 - 70) / (210 + 70), 1e-9);
}

// Several sweeps in one queue: costs compare within a sweep only. Two sweeps whose costs are the
// same number but whose trials take 1 s and 10 s are each expected to take their own.
TEST(Eta, InOneQueueOfSeveralSweepsEachSweepsTrialsTakeWhatItsOwnTook) {
    GroupEta eta({{{1, 1.f}, {2, 1.f}}, {{3, 1.f}, {4, 1.f}, {5, 1.f}}});
    EXPECT_FALSE(eta.left(1).has_value());
    eta.finished(1, 1);
    eta.finished(3, 10);
    // left: run 2 (1 s) + runs 4 and 5 (10 s each) = 21 s of work, 11 done; one CostEta over the
    // same costs would expect 5.5 s for each of the three
    EXPECT_DOUBLE_EQ(*eta.left(11), 11.0 * 21 / 11);
    CostEta mixed({{1, 1.f}, {2, 1.f}, {3, 1.f}, {4, 1.f}, {5, 1.f}});
    mixed.finished(1, 1);
    mixed.finished(3, 10);
    EXPECT_DOUBLE_EQ(*mixed.left(11), 11.0 * 16.5 / 11);
}

// A sweep none of whose trials finished is expected to take, a trial, the mean of those finished;
// with one sweep the group is that sweep's CostEta.
TEST(Eta, InOneQueueASweepNotYetSeenTakesTheMeanOfTheFinishedTrials) {
    GroupEta eta({{{1, 2.f}, {2, 2.f}}, {{3, 5.f}, {4, 7.f}}});
    eta.finished(1, 4);
    EXPECT_DOUBLE_EQ(*eta.left(4), 4.0 * (4 + 2 * 4) / 4); // run 2: 4 s; runs 3 and 4: 4 s each
    eta.started(3, 4);
    EXPECT_DOUBLE_EQ(*eta.left(6), 6.0 * (4 + 2 * 4 - 2) / (4 + 2)); // run 3 has run 2 s of its 4

    CostEta one({{1, 1.f}, {2, 2.f}, {3, 3.f}});
    GroupEta group({{{1, 1.f}, {2, 2.f}, {3, 3.f}}});
    one.finished(1, 3);
    group.finished(1, 3);
    one.started(2, 3);
    group.started(2, 3);
    EXPECT_DOUBLE_EQ(*group.left(5), *one.left(5));
}
