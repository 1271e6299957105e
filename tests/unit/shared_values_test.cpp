// The worker's per-event sharing behind RunContext::shared_value: one computation per key while an
// event is open, none kept across events (the model has changed), plain computing outside one.
#include <gtest/gtest.h>

#include "exec/worker/shared_values.hpp"

using iclr::worker::SharedValues;

TEST(SharedValues, InsideAnEventEachKeyIsComputedOnce) {
    SharedValues s;
    int calls = 0;
    auto count = [&] { return double(++calls); };
    s.open();
    EXPECT_EQ(s.get("accuracy/task/0", count), 1.0);
    EXPECT_EQ(s.get("accuracy/task/0", count), 1.0); // a second metric asks: the stored value
    EXPECT_EQ(s.get("accuracy/task/1", count), 2.0); // another key: computed
    EXPECT_EQ(calls, 2);
    s.close();
}

TEST(SharedValues, TheNextEventAndCallsOutsideAnyEventComputeAgain) {
    SharedValues s;
    int calls = 0;
    auto count = [&] { return double(++calls); };
    s.open();
    s.get("k", count);
    s.close();
    EXPECT_EQ(s.get("k", count), 2.0); // outside an event: nothing kept
    EXPECT_EQ(s.get("k", count), 3.0);
    s.open();
    EXPECT_EQ(s.get("k", count), 4.0); // a new event starts empty
    EXPECT_EQ(s.get("k", count), 4.0);
}
