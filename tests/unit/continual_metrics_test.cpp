// Continual-learning formulas on accuracy matrices computed by hand.
#include <gtest/gtest.h>

#include "iclr/continual_metrics.hpp"

using namespace iclr::continual;

TEST(ContinualMetrics, TwoTasksIsTheRamaseshForgetting) {
    // a[0][0] = 0.98 after A; after B: A fell to 0.60, B is 0.95.
    Matrix a{{0.98, 0.10}, {0.60, 0.95}};
    EXPECT_DOUBLE_EQ(forgetting(a), 0.98 - 0.60);
    EXPECT_DOUBLE_EQ(backward_transfer(a), 0.60 - 0.98);
    EXPECT_DOUBLE_EQ(average_accuracy(a), (0.60 + 0.95) / 2);
}

TEST(ContinualMetrics, ThreeTasksUseTheBestEarlierAccuracy) {
    // Task 0 peaks after task 1 (0.9), so its forgetting is 0.9 - 0.5, not 0.8 - 0.5.
    Matrix a{{0.8, 0.0, 0.0}, {0.9, 0.7, 0.0}, {0.5, 0.6, 0.9}};
    EXPECT_DOUBLE_EQ(forgetting(a), ((0.9 - 0.5) + (0.7 - 0.6)) / 2);
    EXPECT_DOUBLE_EQ(backward_transfer(a), ((0.5 - 0.8) + (0.6 - 0.7)) / 2);
    EXPECT_DOUBLE_EQ(average_accuracy(a), (0.5 + 0.6 + 0.9) / 3);
}

TEST(ContinualMetrics, RowsBeforeATaskWasLearnedDoNotCount) {
    // A kNN score of task 1 before training on it (0.95, from task 0's features) is not a peak the
    // learner later forgot: task 1 scored 0.9 when learned and 0.9 at the end.
    Matrix a{{0.99, 0.95, 0.5}, {0.97, 0.90, 0.5}, {0.96, 0.90, 0.9}};
    EXPECT_DOUBLE_EQ(forgetting(a), ((0.99 - 0.96) + (0.90 - 0.90)) / 2);
}

TEST(ContinualMetrics, PositiveTransferGivesNegativeForgettingOnlyThroughBwt) {
    Matrix a{{0.5, 0.0}, {0.7, 0.9}}; // learning B improved A
    EXPECT_DOUBLE_EQ(forgetting(a), 0.5 - 0.7);
    EXPECT_DOUBLE_EQ(backward_transfer(a), 0.2);
}

TEST(ContinualMetrics, SingleTaskAndBadShapes) {
    Matrix one{{0.9}};
    EXPECT_DOUBLE_EQ(forgetting(one), 0.0);
    EXPECT_DOUBLE_EQ(backward_transfer(one), 0.0);
    EXPECT_DOUBLE_EQ(average_accuracy(one), 0.9);
    EXPECT_THROW(forgetting(Matrix{}), std::invalid_argument);
    EXPECT_THROW(forgetting(Matrix{{0.1, 0.2}}), std::invalid_argument);
}
